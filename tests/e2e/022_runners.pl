#!/usr/bin/perl
# 022_runners.pl - one runner at a time: two runners at once apply each
# migration exactly once; a runner that cannot get the lock in time exits
# retryable and names the holder; SIGTERM cancels, rolls back and releases
# the lock; an unreachable server is retryable; passwords never show.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;

# Each migration logs its own execution, so a double run would show.
my %files = ('000_log.sql' => "CREATE TABLE runs (version int);\n");
for my $v (1 .. 6) {
	$files{sprintf('%03d_step.sql', $v)} =
	    "CREATE TABLE step$v (id int);\nINSERT INTO runs VALUES ($v);\n"
	    . "SELECT pg_sleep(0.2);\n";
}
my $b = Pgb::bundle(Pgb::migrations(%files));

# --- two runners at once ---------------------------------------------------
{
	my $db = $pg->createdb;
	my @p = map { PgbTest::spawn({}, PgbTest::bin('pgapply'), 'apply', $b,
	    '--pubkey', Pgb::pub(), '--db', $pg->connstr($db)) } 1 .. 3;
	my @res = map { [$_->wait] } @p;
	is_deeply([map { $_->[0] } @res], [0, 0, 0], 'three runners at once all exit 0')
	    or diag(join "\n", map { $_->[2] } @res);
	is($pg->psql($db, 'SELECT count(*) FROM runs'), '6',
	    'each migration ran exactly once');
	is($pg->psql($db, 'SELECT count(*) FROM (SELECT version FROM runs GROUP BY version HAVING count(*) > 1) d'),
	    '0', 'no migration ran twice');
	is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history'), '7',
	    'history holds each migration once');
	is(scalar(grep { $_->[2] =~ /nothing to do|applied 7 migrations/ } @res), 3,
	    'each runner either applied everything or found nothing to do');
}

# --- lock wait runs out and names the holder ----------------------------------
{
	my $db = $pg->createdb;
	my $slow = Pgb::bundle(Pgb::migrations('001_slow.sql' => "SELECT pg_sleep(4);\n"));
	my $first = PgbTest::spawn({}, PgbTest::bin('pgapply'), 'apply', $slow,
	    '--pubkey', Pgb::pub(), '--db', $pg->connstr($db));
	sleep 1;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $slow, '--lock-wait', '1');
	is($code, 75, 'a runner that cannot get the lock exits 75 (retryable)');
	like($err, qr/another pgapply holds the lock on "pgbundle"\."history"; gave up after 1 s/,
	    'says another runner holds the lock');
	like($err, qr/held by pid \d+ \(application_name 'pgapply', state '\w+/,
	    'names the holder');
	my ($c1) = $first->wait;
	is($c1, 0, 'the first runner finished');
}

# --- SIGTERM cancels the running migration and releases the lock --------------------
{
	my $db = $pg->createdb;
	my $m = Pgb::migrations('001_quick.sql' => "CREATE TABLE quick ();\n",
	    '002_long.sql' => "CREATE TABLE long_one ();\nSELECT pg_sleep(60);\n");
	my $lb = Pgb::bundle($m);
	my $p = PgbTest::spawn({}, PgbTest::bin('pgapply'), 'apply', $lb,
	    '--pubkey', Pgb::pub(), '--db', $pg->connstr($db));
	my $t0 = time;
	for (1 .. 100) {
		last if $pg->psql($db, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'") eq '1';
		select(undef, undef, undef, 0.1);
	}
	$p->signal('TERM');
	my ($code, undef, $err) = $p->wait(30);
	is($code, 7, 'SIGTERM exits 7');
	ok(time - $t0 < 20, 'and promptly');
	like($err, qr/migration '002_long' failed at statement 2/, 'names what was cancelled');
	is($pg->psql($db, "SELECT to_regclass('long_one') IS NULL"), 't',
	    'the cancelled migration rolled back');
	is($pg->psql($db, 'SELECT string_agg(version::text, \',\') FROM pgbundle.history'), '1',
	    'the migration before it stays applied');
	my $free = Pgb::bundle(Pgb::migrations('001_quick.sql' => "CREATE TABLE quick ();\n"));
	my ($c2, undef, $e2) = Pgb::pgapply($pg, $db, 'apply', $free, '--lock-wait', '2');
	is($c2, 0, 'the lock was released') or diag($e2);
}

# --- unreachable server, passwords ---------------------------------------------------
{
	my $port = PgbTest::free_port();
	my $t0 = time;
	my ($code, $out, $err) = PgbTest::run(PgbTest::bin('pgapply'), 'apply', $b,
	    '--pubkey', Pgb::pub(), '--db',
	    "postgresql://postgres:s3cretpw\@127.0.0.1:$port/x", '--wait', '2');
	is($code, 75, 'an unreachable server exits 75 (retryable)');
	ok(time - $t0 >= 2, '--wait keeps trying for the time given');
	like($err, qr/cannot connect to the database/, 'says it cannot connect');
	unlike($err . $out, qr/s3cretpw/, 'the password never appears');
}

done_testing();
