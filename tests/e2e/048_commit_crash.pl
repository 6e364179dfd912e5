#!/usr/bin/perl
# 048_commit_crash.pl - pgapply's commits: intermediate migrations commit
# without waiting for their WAL flush, and the commit that ends the run,
# the one before a no-transaction migration, and the one before any exit
# (an error, a signal) wait for it, so everything pgapply reported
# applied is durable when it exits; --sync-each waits at every commit.
#
# The server crashes with `pg_ctl stop -m immediate`, which loses the WAL
# still in its buffers: wal_writer_delay is at its 10 s maximum, so that
# a commit that did not wait is still there to lose.  (fsync stays off:
# the crash is the server's, not the machine's; a commit that waits has
# written its WAL out of the server by the time it returns.)
#
#   * after a run that exited 0, an error exit and a SIGTERM, a crash at
#     once loses nothing pgapply reported applied;
#   * the server's statement log shows which commits did not wait;
#   * at random points during runs, many times (PGB_SOAK=N runs N, default
#     6; PGB_SEED=S repeats one): after the restart the history matches
#     the schema, the applied versions are a prefix of the bundle (a
#     crash loses whole migrations, the last ones), and a re-run
#     converges.
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new(conf => { synchronous_commit => 'on',
    wal_writer_delay => '10s', log_statement => 'all',
    log_line_prefix => '%a[%p]: ' });
my $pgapply = PgbTest::bin('pgapply');
my $N = 24;		# migrations
my $NOTX = 12;		# the no-transaction one

sub pause_sql {
	my ($k) = @_;
	return "SELECT pg_sleep(coalesce((SELECT secs FROM public.ctl WHERE k = '$k'), 0));\n";
}

# Migration v creates t_v and records v in runs; each sleeps a little, so
# that a crash at a random moment lands inside the run.
sub bundle_of {
	my (%o) = @_;
	my %m = ('001_base.sql' => "CREATE TABLE runs (version int NOT NULL);\n");
	for my $v (2 .. $N) {
		my $f = sprintf('%03d_m.sql', $v);
		if ($v == $NOTX) {
			$m{$f} = "-- pgbundle:no-transaction\n"
			    . "CREATE INDEX CONCURRENTLY IF NOT EXISTS t002_id_idx ON t002 (id);\n";
			next;
		}
		# The pause and the failure first: before them the migration
		# wrote no WAL that would push out the one before it.
		$m{$f} = pause_sql("s$v") . ($o{fail} && $v == $o{fail} ?
		    "SELECT 1 / 0;\n" : '') . sprintf("CREATE TABLE t%03d (id int);\n"
		    . "INSERT INTO runs VALUES (%d);\nSELECT pg_sleep(0.03);\n", $v, $v);
	}
	return Pgb::bundle(Pgb::migrations(%m));
}

my $bundle = bundle_of();

sub fresh_db {
	my $db = $pg->createdb;
	$pg->psql($db, 'CREATE TABLE public.ctl (k text PRIMARY KEY, secs float8 NOT NULL)');
	return $db;
}

# After a restart: the applied versions, and whether the schema is what
# they say: t_v for each, runs holding each once, the index when 16 is.
sub check_state {
	my ($db, $label) = @_;
	my @applied = split /,/, $pg->psql($db, "SELECT coalesce(string_agg(version::text, ',' "
	    . "ORDER BY version), '') FROM pgbundle.history WHERE status = 'applied'");
	my $tables = $pg->psql($db, "SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '') "
	    . "FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' "
	    . "AND relname ~ '^t[0-9]{3}\$'");
	my $runs = $pg->psql($db, "SELECT coalesce(string_agg(version::text, ',' ORDER BY version), '') "
	    . "FROM runs") if grep { $_ == 1 } @applied;
	my @tx = grep { $_ >= 2 && $_ != $NOTX } @applied;
	is($tables, join(',', map { sprintf('t%03d', $_) } @tx),
	    "$label: a table for each applied migration, no other");
	is($runs // '', join(',', @tx), "$label: each applied migration ran once")
	    if @applied;
	is(join(',', @applied), join(',', 1 .. scalar @applied),
	    "$label: the applied versions are a prefix (1..@{[scalar @applied]})");
	return scalar @applied;
}

sub crash {
	$pg->stop_mode('immediate');
	$pg->start;
}

# The "applied" events pgapply printed: how many migrations it reported.
sub reported {
	my ($out) = @_;
	return scalar(() = $out =~ /"event":"applied"/g);
}

# --- commits that do not wait, in the server's statement log -------------------
for my $mode ('default', '--sync-each') {
	my $db = fresh_db();
	my $before = () = $pg->log_content =~ /\$1 = 'off'/g;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle,
	    $mode eq 'default' ? () : ($mode));
	is($code, 0, "$mode: applied") or diag($err);
	my $off = (() = $pg->log_content =~ /\$1 = 'off'/g) - $before;
	# Not waiting: every transactional migration but the last and the one
	# before the no-transaction migration.
	is($off, $mode eq 'default' ? $N - 1 - 2 : 0, "$mode: "
	    . ($mode eq 'default' ? $N - 3 : 0) . ' commits did not wait');
	crash();
	is(check_state($db, "$mode, crash right after exit 0"), $N,
	    "$mode: a crash right after exit 0 loses nothing");
}

# --- an error exit: what came before is durable -----------------------------------
{
	my $db = fresh_db();
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', bundle_of(fail => 20));
	is($code, 5, 'migration 20 fails: exit 5') or diag($err);
	crash();
	is(check_state($db, 'crash right after the error exit'), 19,
	    'a crash right after the error exit keeps 1-19');
}

# --- SIGTERM: what was reported applied is durable --------------------------------
{
	my $db = fresh_db();
	$pg->psql($db, "INSERT INTO ctl VALUES ('s18', 60)");
	my $p = PgbTest::spawn($pgapply, 'apply', $bundle, '--json', '--pubkey',
	    Pgb::pub(), '--db', $pg->connstr($db));
	ok(PgbTest::wait_until(60, sub { $pg->psql($db, "SELECT count(*) FROM pg_stat_activity "
	    . "WHERE application_name = 'pgapply' AND state = 'active' "
	    . "AND query LIKE 'SELECT pg_sleep(coalesce%'") eq '1' }), 'pgapply reached migration 18');
	$p->signal('TERM');
	my ($code, $out, $err) = $p->wait(60);
	is($code, 7, 'SIGTERM: exit 7') or diag($err);
	is(reported($out), 17, '17 migrations reported applied');
	crash();
	is(check_state($db, 'crash right after SIGTERM'), 17,
	    'a crash right after the SIGTERM exit keeps all 17');
}

# --- crashes at random moments ----------------------------------------------------
my $seed = $ENV{PGB_SEED} // int(time * 1000) % 100000;
srand($seed);
diag("PGB_SEED=$seed");
my $iters = $ENV{PGB_SOAK} || 6;
my $t0 = time;
my ($code0) = Pgb::pgapply($pg, fresh_db(), 'apply', $bundle);
my $span = time - $t0;
is($code0, 0, sprintf('a full run takes %.1f s here', $span));
my (%where, @lost);
for my $i (1 .. $iters) {
	my $db = fresh_db();
	# Migration k (at random) pauses a moment; once pgapply is there,
	# the crash comes a random moment later: in the pause, or in one of
	# the migrations after it, in a statement or a commit.
	my $k = 2 + int(rand($N - 1));
	$k++ if $k == $NOTX;
	$pg->psql($db, sprintf("INSERT INTO ctl VALUES ('s%d', %.3f)", $k, 0.1 + rand(0.4)))
	    if $k <= $N;
	my $p = PgbTest::spawn($pgapply, 'apply', $bundle, '--json', '--pubkey',
	    Pgb::pub(), '--db', $pg->connstr($db));
	PgbTest::wait_until($span + 30, sub { $p->done || $pg->psql($db, "SELECT count(*) "
	    . "FROM pg_stat_activity WHERE application_name = 'pgapply' AND "
	    . "query LIKE '%''s$k''%'") ne '0' });
	sleep(rand(0.2));
	crash();
	my ($code, $out, $err) = $p->wait(60);
	ok($code == 0 || $code == 75, "crash $i: pgapply exits 0 or 75 (got $code)") or diag($err);
	my $n = check_state($db, "crash $i");
	$where{$code == 0 ? 'after the run' : $n == 0 ? 'before the first commit'
	    : 'during the run'}++;
	is($n, $N, "crash $i: after exit 0 nothing is lost") if $code == 0;
	push @lost, reported($out) - $n if $code == 75 && reported($out) > $n;
	my ($rc, undef, $err2) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	# Inside CREATE INDEX CONCURRENTLY: an operator's --retry-failed.
	if ($rc == 6) {
		like($err2, qr/t002_id_idx/, "crash $i: the interrupted index is named");
		($rc, undef, $err2) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--retry-failed');
	}
	is($rc, 0, "crash $i: a re-run converges") or diag($err2);
	is(check_state($db, "crash $i, re-run"), $N, "crash $i: all $N applied once");
	$pg->dropdb($db);
}
diag(sprintf('%d crashes: %s; migrations reported applied but lost in a crash: %s',
    $iters, join(', ', map { "$where{$_} $_" } sort keys %where),
    @lost ? join(' ', @lost) : 'none'));

done_testing;
