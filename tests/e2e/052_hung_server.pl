#!/usr/bin/perl
# 052_hung_server.pl - the backend serving pgapply stops answering
# (SIGSTOP): a hung server, a frozen VM, a storage stall.
#
# libpq waits for an answer for ever, and so does psql; what bounds a run
# is the signal the scheduler sends (a Kubernetes Job's deadline, or
# `timeout -s TERM`).  pgapply then sends a cancel request, and when the
# server has not answered it within 5 s it hangs up and exits 7: the
# process never outlives its SIGTERM by more than that.  While it waits
# for another runner's lock, --lock-wait bounds it too (5 s later, exit
# 75).  Once the backend runs again it ends the session, rolling the
# migration back, and the lock is free.  A stopped backend still has a live socket that the kernel
# acknowledges, so TCP keepalives and tcp_user_timeout (conninfo options
# libpq passes through) do not notice it; they are for a dead host or
# network, which this machine cannot simulate (docs/RELIABILITY.md).
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $pgapply = PgbTest::bin('pgapply');

my $bundle = Pgb::bundle(Pgb::migrations(
    '001_a.sql' => "CREATE TABLE a (id int);\n",
    '002_b.sql' => "CREATE TABLE b (id int);\n"
	. "SELECT pg_sleep(coalesce((SELECT secs FROM public.ctl WHERE k = 'b'), 0));\n",
    '003_c.sql' => "CREATE TABLE c (id int);\n"));

sub backend_pid {
	my ($db, $like) = @_;
	my $pid = '';
	PgbTest::wait_until(20, sub {
		$pid = $pg->psql('postgres', "SELECT coalesce(min(pid)::text, '') FROM "
		    . "pg_stat_activity WHERE application_name = 'pgapply' AND datname = '$db' "
		    . "AND query LIKE '$like'");
		$pid ne '' });
	return $pid;
}

sub history {
	my ($db) = @_;
	return $pg->psql($db, "SELECT coalesce(string_agg(version::text, ',' ORDER BY version), '') "
	    . 'FROM pgbundle.history');
}

my @figures;
my @stopped;	# backends to resume whatever happens
END { kill 'CONT', @stopped if @stopped }

for my $how ('SIGTERM', 'timeout -s TERM 2') {
	my $db = $pg->createdb;
	$pg->psql($db, "CREATE TABLE public.ctl (k text PRIMARY KEY, secs float8 NOT NULL);"
	    . "INSERT INTO public.ctl VALUES ('b', 30)");
	my @cmd = ($pgapply, 'apply', $bundle, '--pubkey', Pgb::pub(), '--db', $pg->connstr($db),
	    '--statement-timeout', '1s');
	unshift @cmd, 'timeout', '--preserve-status', '-s', 'TERM', '2' if $how ne 'SIGTERM';
	my $t0 = time;
	my $p = PgbTest::spawn(@cmd);
	my $pid = backend_pid($db, 'SELECT pg_sleep(%');
	ok($pid, "$how: pgapply is inside migration 2");
	kill 'STOP', $pid;
	push @stopped, $pid;
	# Not even its own statement_timeout can fire in a stopped backend.
	sleep 1.5;
	ok(!$p->done, "$how: pgapply waits on the stopped backend past --statement-timeout");
	my $t1 = time;
	$p->signal('TERM') if $how eq 'SIGTERM';
	my ($rc, undef, $err) = $p->wait(30);
	my $dt = time - $t1;
	is($rc, 7, "$how: pgapply exits 7 (interrupted)") or diag($err);
	like($err, qr/did not answer the cancel request within 5 s/, "$how: says the server hung")
	    or diag($err);
	cmp_ok($dt, '<', $how eq 'SIGTERM' ? 8 : 9, sprintf('%s: within %.1f s', $how, $dt));
	push @figures, sprintf('hung backend, %s: pgapply exited %d, %.1f s after %s', $how, $rc,
	    $how eq 'SIGTERM' ? $dt : time - $t0, $how eq 'SIGTERM' ? 'SIGTERM' : 'start');
	kill 'CONT', $pid;
	@stopped = ();
	my $t2 = time;
	ok(PgbTest::wait_until(10, sub { $pg->psql('postgres', "SELECT count(*) FROM pg_stat_activity "
	    . "WHERE pid = $pid") eq '0' }), "$how: once resumed, the backend ends its session");
	push @figures, sprintf('resumed backend gone after %.2f s', time - $t2);
	is(history($db), '1', "$how: migration 2 rolled back, migration 1 stays");
	is($pg->psql($db, "SELECT to_regclass('public.b') IS NULL"), 't', "$how: table b is absent");
	$pg->psql($db, 'UPDATE public.ctl SET secs = 0');
	my ($rc2, undef, $err2) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--lock-wait', '5');
	is($rc2, 0, "$how: the lock is free and a re-run converges") or diag($err2);
	is(history($db), '1,2,3', "$how: all applied");
}

# A stopped backend while pgapply waits for another runner's lock: the
# lock wait bounds it (exit 75, 5 s after --lock-wait runs out), and
# SIGTERM ends it sooner (exit 7).
for my $how ('--lock-wait 1', 'SIGTERM') {
	my $db = $pg->createdb;
	$pg->psql($db, "CREATE TABLE public.ctl (k text PRIMARY KEY, secs float8 NOT NULL);"
	    . "INSERT INTO public.ctl VALUES ('b', 60)");
	my $a = PgbTest::spawn($pgapply, 'apply', $bundle, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db));
	my $apid = backend_pid($db, 'SELECT pg_sleep(%');
	my $t0 = time;
	my $b = PgbTest::spawn($pgapply, 'apply', $bundle, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db), '--lock-wait', $how eq 'SIGTERM' ? '60' : '1');
	my $bpid = backend_pid($db, '%pg_try_advisory_lock%');
	ok($bpid, "$how: runner B polls for the lock");
	kill 'STOP', $bpid;
	push @stopped, $bpid;
	sleep 2;
	ok(!$b->done, "$how: runner B waits on its stopped backend");
	my $t1 = time;
	$b->signal('TERM') if $how eq 'SIGTERM';
	my ($rc, undef, $err) = $b->wait(30);
	if ($how eq 'SIGTERM') {
		is($rc, 7, 'SIGTERM ends it with exit 7') or diag($err);
		cmp_ok(time - $t1, '<', 8, sprintf('within %.1f s of SIGTERM', time - $t1));
	} else {
		is($rc, 75, 'the lock wait ends it with exit 75 (retryable)') or diag($err);
		like($err, qr/the server stopped answering while pgapply waited for the lock/,
		    'saying the server stopped answering') or diag($err);
		cmp_ok(time - $t0, '<', 10, sprintf('%.1f s after it started (1 s wait + 5 s)',
		    time - $t0));
		push @figures, sprintf('hung backend during the lock wait: exit %d after %.1f s',
		    $rc, time - $t0);
	}
	kill 'CONT', $bpid;
	@stopped = ();
	$pg->psql('postgres', "SELECT pg_cancel_backend($apid)");
	my ($ac) = $a->wait(30);
	is($ac, 5, "$how: runner A (cancelled by the test) rolled back");
	$pg->psql($db, 'UPDATE public.ctl SET secs = 0');
	my ($rc2, undef, $err2) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--lock-wait', '5');
	is($rc2, 0, "$how: a re-run converges") or diag($err2);
}

diag($_) for @figures;
done_testing();
