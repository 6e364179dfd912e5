#!/usr/bin/perl
# 054_copy_loops.pl - a COPY the manifest does not announce, and
# standard_conforming_strings turned off, from signed bundles (the "apply"
# set of tests/gen-hostile.pl, which the compiler would refuse) and from
# the compiler.  Each hostile bundle is applied plainly, with
# --statement-timeout, with --single-transaction and with a SIGTERM
# mid-run: pgapply must end within a bound (the pipeline's drain once
# spun for ever, deaf to signals and timeouts), with the exit code and
# the message naming the migration, statement and file:line, the lock
# released and the database as it was.  Then a down script, a database
# whose default is standard_conforming_strings = off, `build --strict`,
# `check --db` and `check --scratch` on such SQL, and a `check` killed
# mid-run, which must leave no scratch database and no server behind.
use strict;
use warnings;

use Test::More;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use PgbTest;
use Pgb;
use PgbForge;

my $root = PgbTest::root();
my $BOUND = 20;		# seconds any run may take
my $pgapply = PgbTest::bin('pgapply');
my $pgbundle = PgbTest::bin('pgbundle');
my $fx = PgbTest::tempdir();
my ($gc, $list, $gerr) = PgbTest::run('perl', "$root/tests/gen-hostile.pl", $fx, 'copy');
is($gc, 0, 'the "copy" fixtures are generated') or diag($gerr);
my @cases = map { [split /\t/, $_, 3] } split /\n/, $list;
cmp_ok(scalar @cases, '>=', 15, 'at least 15 fixtures');

my $pg = PgbTest::Server->new;

# A database holding migration 1 ("base"), and a copy of it for each
# fixture (made at once: each psql costs a start).  Every run must leave
# its copy as it was, so the next run starts from it too.
my $tmpl = $pg->createdb('tmpl');
{
	my ($code, undef, $err) = Pgb::pgapply($pg, $tmpl, 'apply', "$fx/base.pgb");
	is($code, 0, 'the base bundle applies') or diag($err);
}
$pg->psql('postgres', join('', map { qq{CREATE DATABASE "$_->[0]" TEMPLATE tmpl;\n} }
    grep { $_->[0] ne 'base' } @cases));

# After a run: no pgapply session nor advisory lock left (a session ends
# a moment after its client), the database as migration 1 left it (only
# table t, holding 1 and 2), and the history as expected: migration 1,
# and for a failed no-transaction migration its row (statement 1 done).
sub after {
	my ($db, $name, $exit) = @_;
	my $state;
	PgbTest::wait_until(5, sub {
		$state = $pg->psql($db, "SELECT (SELECT count(*) FROM pg_locks WHERE "
		    . "locktype = 'advisory') + (SELECT count(*) FROM pg_stat_activity "
		    . "WHERE application_name = 'pgapply'), (SELECT string_agg(relname, "
		    . "',' ORDER BY relname) FROM pg_class WHERE relnamespace = "
		    . "'public'::regnamespace), (SELECT string_agg(a::text, ',' ORDER BY "
		    . "a) FROM t), (SELECT string_agg(version || ':' || status || ':' "
		    . "|| statements_done, ',' ORDER BY version) FROM pgbundle.history)");
		return $state =~ /^0\|/;
	});
	my @f = split /\|/, $state, -1;
	is($f[0], '0', "$name: lock released, session gone");
	is("$f[1] $f[2]", 't 1,2', "$name: database unchanged");
	is($f[3], $exit == 6 ? '1:applied:2,2:failed:1' : '1:applied:2',
	    "$name: history as expected");
}

# Run pgapply with a watchdog; ($code, $err, $seconds, $timed_out).
# 'term' sends SIGTERM that many seconds after the start.
sub run_bounded {
	my ($term, @args) = @_;
	my $t0 = time;
	my $p = PgbTest::spawn({ timeout => $BOUND }, @args);
	if (defined $term) {
		sleep($term);
		$p->signal('TERM');
	}
	my ($code, undef, $err) = $p->wait;
	return ($code, $err, time - $t0, $p->timed_out);
}

my @variants = (
	[plain => []],
	[timeout => ['--statement-timeout', '2s']],
	[single => ['--single-transaction']],
);
for my $c (@cases) {
	my ($db, $exit, $want) = @$c;
	next if $db eq 'base';
	my @run = ($pgapply, 'apply', "$fx/$db.pgb", '--pubkey', Pgb::pub(), '--db',
	    $pg->connstr($db));
	for my $v (@variants) {
		my $name = "$db ($v->[0])";
		next if $v->[0] eq 'single' && $exit == 6;
		my ($code, $err, $secs, $late) = run_bounded(undef, @run, @{ $v->[1] });
		ok(!$late && $secs < $BOUND, "$name: ends (in " . sprintf('%.1f', $secs)
		    . ' s)');
		is($code, $exit, "$name: exit $exit") or diag($err);
		like($err, qr/migration '002_hostile' failed at statement \d+ of \d+ \(migrations\/002_hostile\.sql:\d+\): \Q$want\E/,
		    "$name: names the migration, statement and line, and why")
		    or diag($err);
		after($db, $name, $exit);
		# A human looked at the failed row: let the next run start over.
		$pg->psql($db, 'DELETE FROM pgbundle.history WHERE version = 2')
		    if $exit == 6;
	}
	# SIGTERM half a second in: done already (its exit) or interrupted
	# (7), within the bound either way.
	my ($code, $err, $secs, $late) = run_bounded(0.5, @run);
	ok(!$late && $secs < $BOUND, "$db (SIGTERM): ends");
	ok($code == $exit || $code == 7, "$db (SIGTERM): exit $exit or 7")
	    or diag("exit $code: $err");
	after($db, "$db (SIGTERM)", $code == 7 ? 5 : $exit)
	    unless $code == 7 && $exit == 6;
}

# --- a down script with a COPY it does not announce ---------------------------
for my $copy ('COPY t TO STDOUT;', 'COPY t FROM STDIN;') {
	my $b = PgbForge::bundle(PgbTest::tempdir() . '/down.pgb',
	    { version => 1, name => 'base', up => ['CREATE TABLE t (a int);',
		'INSERT INTO t VALUES (1), (2);'] },
	    { version => 2, name => 'x', up => ['CREATE TABLE x (a int);'],
		down => ['DROP TABLE x;', $copy] });
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, "down '$copy': the up script applies") or diag($err);
	my $t0 = time;
	($code, undef, $err) = PgbTest::run({ timeout => $BOUND }, $pgapply,
	    'rollback', $b, '--to', '1', '--pubkey', Pgb::pub(), '--db',
	    $pg->connstr($db));
	ok(time - $t0 < $BOUND, "down '$copy': rollback ends");
	is($code, 5, "down '$copy': exit 5") or diag($err);
	like($err, qr/002_x.*failed at statement 2 of 2 \(migrations\/002_x\.down\.sql:2\): it started COPY/,
	    "down '$copy': names the down script's statement") or diag($err);
	is($pg->psql($db, "SELECT to_regclass('x') IS NOT NULL AND (SELECT count(*) "
	    . "FROM pgbundle.history) = 2 AND NOT EXISTS (SELECT FROM pg_locks WHERE "
	    . "locktype = 'advisory')"), 't',
	    "down '$copy': rolled back, history kept, lock released");
}

# --- a database whose default is standard_conforming_strings = off ------------
{
	my $db = $pg->createdb;
	$pg->psql('postgres', qq{ALTER DATABASE "$db" SET standard_conforming_strings = off});
	my $dir = Pgb::migrations('001_s.sql' => "CREATE TABLE s (v text);\n"
	    . "INSERT INTO s VALUES ('a\\b');\n",
	    '002_reset.sql' => "RESET standard_conforming_strings;\n"
	    . "INSERT INTO s VALUES ('c\\d');\n");
	my $b = Pgb::bundle($dir);
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b, '--to', '1');
	is($code, 0, 'default off: a backslash in a string applies') or diag($err);
	is($pg->psql($db, "SELECT v = E'a\\\\b' FROM s"), 't',
	    'default off: and means what the compiler read (standard strings)');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 5, 'default off: RESET to it stops the next backslash: exit 5');
	like($err, qr/migration '002_reset' failed at statement 2 of 2 \(.*002_reset\.sql:2\): standard_conforming_strings is off, and the statement holds a backslash/,
	    'default off: says why, at file:line') or diag($err);
	is($pg->psql($db, "SELECT count(*) FROM s"), '1', 'default off: nothing of 002 stays');
}

# --- the compiler -------------------------------------------------------------
my $trick = "CREATE TABLE t (a text);\nSET standard_conforming_strings = off;\n"
    . "COPY (SELECT 'a\\'') TO STDOUT --') TO '/tmp/pgbundle-never';\n";
my $trick_dir = Pgb::migrations('001_trick.sql' => $trick);
my $std_err = qr{001_trick\.sql:2: error: turning standard_conforming_strings off is not supported};
{
	my ($code, undef, $err) = Pgb::build($trick_dir, '--strict');
	is($code, 1, 'build --strict refuses turning standard_conforming_strings off');
	like($err, $std_err, 'at file:line') or diag($err);
	for my $where (['--db', $pg->connstr('postgres')], ['--scratch']) {
		my $t0 = time;
		($code, undef, $err) = PgbTest::run({ timeout => $BOUND }, $pgbundle,
		    'check', $trick_dir, @$where);
		ok(time - $t0 < $BOUND, "check $where->[0]: ends");
		is($code, 1, "check $where->[0]: exit 1");
		like($err, $std_err, "check $where->[0]: at file:line") or diag($err);
	}
}
# set_config() with a name the lexer cannot read: the compiler passes it,
# pgapply (which check runs) refuses the statement after it.
my $hidden = Pgb::migrations('001_hidden.sql' => "CREATE TABLE t (a text);\n"
    . "SELECT set_config('standard_' || 'conforming_strings', 'off', false);\n"
    . "COPY (SELECT 'a\\'') TO STDOUT --') TO '/tmp/pgbundle-never';\n");
for my $where (['--db', $pg->connstr('postgres')], ['--scratch']) {
	my $t0 = time;
	my ($code, undef, $err) = PgbTest::run({ timeout => $BOUND }, $pgbundle,
	    'check', $hidden, @$where);
	ok(time - $t0 < $BOUND, "check $where->[0] of a hidden set_config: ends");
	is($code, 1, "check $where->[0] of a hidden set_config: exit 1") or diag($err);
	like($err, qr{001_hidden\.sql:3: error: standard_conforming_strings is off},
	    "check $where->[0] of a hidden set_config: at file:line") or diag($err);
}
is($pg->psql('postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE "
    . "'pgbundle_scratch%'"), '0', 'check --db left no scratch database');

# --- check killed mid-run -----------------------------------------------------
# A process that runs (an exited one nobody reaps is a zombie: not alive).
sub alive {
	my ($pid) = @_;
	return 0 unless kill(0, $pid);
	open(my $fh, '<', "/proc/$pid/stat") or return 1;
	my $st = <$fh>;
	close($fh);
	return !(defined $st && $st =~ /^\d+ \(.*\) Z/);
}
my $slow = Pgb::migrations('001_slow.sql' => "CREATE TABLE s ();\nSELECT pg_sleep(60);\n");
{
	my $t0 = time;
	my $p = PgbTest::spawn({ timeout => 60 }, $pgbundle, 'check', $slow, '--db',
	    $pg->connstr('postgres'));
	ok(PgbTest::wait_until(30, sub { $pg->psql('postgres', "SELECT count(*) FROM "
	    . "pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'") eq '1' }),
	    'check --db: the slow statement runs');
	$p->signal('TERM');
	my ($code, undef, $err) = $p->wait($BOUND);
	ok(!$p->timed_out, 'check --db: SIGTERM ends it');
	isnt($code, 0, 'check --db: with a failure') or diag($err);
	is($pg->psql('postgres', "SELECT count(*) FROM pg_database WHERE datname "
	    . "LIKE 'pgbundle_scratch%'"), '0', 'check --db: its scratch database is gone');
}
{
	my $tmp = PgbTest::tempdir();
	my $p = PgbTest::spawn({ timeout => 60, env => { TMPDIR => $tmp } }, $pgbundle,
	    'check', $slow, '--scratch');
	my $pidfile;
	ok(PgbTest::wait_until(40, sub {
		($pidfile) = glob("$tmp/pgbundle-*/data/postmaster.pid");
		return 0 unless defined $pidfile && -s $pidfile;
		my ($log) = glob("$tmp/pgbundle-*/server.log");
		# the scratch database exists and the sleep runs
		return 0 unless (glob("$tmp/pgbundle-*/.s.PGSQL.5432"));
		my ($dir) = $pidfile =~ m{^(.*)/data/postmaster\.pid$};
		my ($c, $o) = PgbTest::run(PgbTest::pg_bin('psql'), '-X', '-At', '-h', $dir,
		    '-p', '5432', '-U', 'postgres', '-d', 'postgres', '-c',
		    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'");
		return $c == 0 && $o =~ /^1/;
	}), 'check --scratch: the slow statement runs');
	my $pm = defined $pidfile ? (split /\n/, PgbTest::read_file($pidfile))[0] : undef;
	$p->signal('TERM');
	my ($code, undef, $err) = $p->wait($BOUND);
	ok(!$p->timed_out, 'check --scratch: SIGTERM ends it');
	isnt($code, 0, 'check --scratch: with a failure') or diag($err);
	ok(defined $pm && !alive($pm), 'check --scratch: its server is stopped');
	is(scalar(() = glob("$tmp/pgbundle-*")), 0, 'check --scratch: its directory is gone');
}

done_testing();
