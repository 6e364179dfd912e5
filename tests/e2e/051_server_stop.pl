#!/usr/bin/perl
# 051_server_stop.pl - the server goes away under pgapply: `pg_ctl stop
# -m immediate` (a crash: no goodbye to the client) and `-m fast` (the
# backend is told to terminate, SQLSTATE 57P01) during a transactional
# migration, during its COMMIT, and during a no-transaction statement
# (CREATE INDEX CONCURRENTLY).  pgapply must exit with the retryable code
# 75, never 0; after a restart the history matches the schema (an
# unknown COMMIT outcome is settled by the history, not by running
# again), and a re-run converges (with --retry-failed for the
# interrupted index build, after exit 6 naming the index).
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new(conf => { synchronous_commit => 'on' });
my $pgapply = PgbTest::bin('pgapply');

sub pause_sql {
	my ($k) = @_;
	return "SELECT pg_sleep(coalesce((SELECT secs FROM public.ctl WHERE k = '$k'), 0));\n";
}

my $bundle = Pgb::bundle(Pgb::migrations(
    '001_a.sql' => "CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n",
    '002_b.sql' => "CREATE TABLE b (id int);\n" . pause_sql('b') . "INSERT INTO b VALUES (2);\n",
    '003_c.sql' => <<'SQL',
CREATE TABLE c (id int);
CREATE FUNCTION c_wait() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_sleep(coalesce((SELECT secs FROM public.ctl WHERE k = 'commit'), 0));
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER c_wait AFTER INSERT ON c
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION c_wait();
INSERT INTO c VALUES (3);
SQL
    '004_a_idx.sql' => "-- pgbundle:no-transaction\n"
	. "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_id_idx ON a (id);\n",
    '005_d.sql' => "CREATE TABLE d (id int);\n"));

sub wait_query {
	my ($db, $like) = @_;
	return PgbTest::wait_until(20, sub { $pg->psql('postgres', "SELECT count(*) FROM "
	    . "pg_stat_activity WHERE application_name = 'pgapply' AND datname = '$db' "
	    . "AND state = 'active' AND query LIKE '$like'") eq '1' });
}

# History versions and the tables/index that exist, as one comparable line.
sub state_of {
	my ($db) = @_;
	my $h = $pg->psql($db, "SELECT coalesce(string_agg(version || ':' || status, ',' "
	    . "ORDER BY version), '') FROM pgbundle.history");
	my $t = $pg->psql($db, "SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '') "
	    . "FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' "
	    . "AND relname <> 'ctl'");
	my $i = $pg->psql($db, "SELECT coalesce((SELECT indisvalid::text FROM pg_index WHERE "
	    . "indexrelid = to_regclass('public.a_id_idx')), 'none')");
	return ($h, $t, $i);
}

# The tables the history says exist: a for 1, b for 2, c for 3, d for 5.
sub expected_tables {
	my ($h) = @_;
	my %t = (1 => 'a', 2 => 'b', 3 => 'c', 5 => 'd');
	return join ',', sort map { $t{$_} } grep { $t{$_} }
	    map { /^(\d+):applied$/ ? $1 : () } split /,/, $h;
}

my @figures;

for my $mode ('immediate', 'fast') {
	for my $where ('statement', 'commit', 'no-transaction') {
		my $label = "-m $mode during " . ($where eq 'statement' ? 'a transactional statement'
		    : $where eq 'commit' ? 'COMMIT' : 'CREATE INDEX CONCURRENTLY');
		my $db = $pg->createdb;
		$pg->psql($db, 'CREATE TABLE public.ctl (k text PRIMARY KEY, secs float8 NOT NULL)');
		my $blk;
		if ($where eq 'statement') {
			$pg->psql($db, "INSERT INTO ctl VALUES ('b', 60)");
		} elsif ($where eq 'commit') {
			$pg->psql($db, "INSERT INTO ctl VALUES ('commit', 60)");
		} else {
			my ($rc) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--to', '3');
			is($rc, 0, "$label: 1-3 applied first");
			# A writer's open transaction makes the build wait, after
			# the INVALID index entry is committed.
			$blk = PgbTest::spawn({ stdin => "BEGIN;\nINSERT INTO a VALUES (9);\n"
			    . "SELECT pg_sleep(60);\n" }, PgbTest::pg_bin('psql'), '-X', '-q',
			    $pg->connstr($db));
			ok(PgbTest::wait_until(10, sub { $pg->psql($db, "SELECT count(*) FROM pg_stat_activity "
			    . "WHERE query LIKE 'SELECT pg_sleep(60)%'") eq '1' }), "$label: a writer waits");
		}
		my $p = PgbTest::spawn($pgapply, 'apply', $bundle, '--pubkey', Pgb::pub(),
		    '--db', $pg->connstr($db));
		my $like = $where eq 'statement' ? 'SELECT pg_sleep(%' : $where eq 'commit'
		    ? 'COMMIT%' : 'CREATE INDEX CONCURRENTLY%';
		ok(wait_query($db, $like), "$label: pgapply got there");
		my $t0 = time;
		$pg->stop_mode($mode);
		my ($rc, undef, $err) = $p->wait(60);
		my $dt = time - $t0;
		is($rc, 75, "$label: pgapply exits 75 (retryable)") or diag($err);
		like($err, qr/connection|terminat/i, "$label: and says the connection went")
		    or diag($err);
		push @figures, sprintf('%s: exit %d %.2f s after the stop began', $label, $rc, $dt);
		$blk->wait(30) if $blk;
		$pg->start;
		my ($h, $t, $i) = state_of($db);
		is($t, expected_tables($h), "$label: after restart the history ($h) matches the tables");
		if ($where eq 'no-transaction') {
			like($h, qr/4:failed/, "$label: the index migration is recorded as unfinished");
			is($i, 'false', "$label: and its index is INVALID");
			my ($rc2, undef, $err2) = Pgb::pgapply($pg, $db, 'apply', $bundle);
			is($rc2, 6, "$label: a plain re-run needs an operator (exit 6)");
			like($err2, qr/a_id_idx/, "$label: naming the index") or diag($err2);
			($rc2, undef, $err2) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--retry-failed');
			is($rc2, 0, "$label: --retry-failed converges") or diag($err2);
		} else {
			my $v = $where eq 'statement' ? 2 : 3;
			unlike($h, qr/\b$v:/, "$label: the interrupted migration $v is not in the history");
			$pg->psql($db, 'UPDATE ctl SET secs = 0');
			my ($rc2, undef, $err2) = Pgb::pgapply($pg, $db, 'apply', $bundle);
			is($rc2, 0, "$label: a re-run converges") or diag($err2);
		}
		($h, $t, $i) = state_of($db);
		is($h, '1:applied,2:applied,3:applied,4:applied,5:applied', "$label: all applied");
		is($t, 'a,b,c,d', "$label: every table exists once");
		is($i, 'true', "$label: the index is valid");
		is($pg->psql($db, 'SELECT count(*) FROM b'), '1', "$label: migration 2 ran once");
	}
}

diag($_) for @figures;
done_testing();
