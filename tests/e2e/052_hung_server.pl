#!/usr/bin/perl
# 052_hung_server.pl - the server serving pgapply stops answering
# (SIGSTOP of its backend, or of the postmaster too): a hung server, a
# frozen VM, a storage stall.
#
# libpq waits for an answer for ever, and so does psql.  pgapply does not:
# - on SIGTERM (a Kubernetes Job's deadline, `timeout -s TERM`) it sends
#   a cancel request, and when the server has not answered it within 5 s
#   it hangs up and exits 7;
# - with --statement-timeout T, an answer that has not come T + 5 s after
#   its statement went out gets a cancel request, and 5 s later pgapply
#   hangs up and exits 75 (retryable), naming the migration and the
#   statement; in both the pipelined and the one-statement-a-trip path,
#   and while it streams COPY data into a socket the server stopped
#   reading;
# - while it waits for another runner's lock, --lock-wait bounds it (5 s
#   after the wait runs out, exit 75);
# - the cancel request goes out from a child process, so a frozen
#   postmaster, which never answers it, does not hold pgapply; nor does
#   one that never answers pgapply's connection (SIGTERM, exit 7).
# Once the server runs again it ends the session, rolling the migration
# back, and the lock is free; a re-run converges.  A stopped process still
# has a live socket that the kernel acknowledges, so TCP keepalives and
# tcp_user_timeout (conninfo options libpq passes through) do not notice
# it; they are for a dead host or network, which this machine cannot
# simulate (docs/RELIABILITY.md).
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $pgapply = PgbTest::bin('pgapply');

my $pause_b = "SELECT pg_sleep(coalesce((SELECT secs FROM public.ctl WHERE k = 'b'), 0));\n";
my $bundle = Pgb::bundle(Pgb::migrations(
    '001_a.sql' => "CREATE TABLE a (id int);\n",
    '002_b.sql' => "CREATE TABLE b (id int);\n" . $pause_b,
    '003_c.sql' => "CREATE TABLE c (id int);\n"));
# A verify query keeps a migration out of the pipeline: one statement a trip.
my $bundle_trip = Pgb::bundle(Pgb::migrations(
    '001_a.sql' => "CREATE TABLE a (id int);\n",
    '002_b.sql' => "CREATE TABLE b (id int);\n" . $pause_b . "-- verify: SELECT true\n",
    '003_c.sql' => "CREATE TABLE c (id int);\n"));
# A COPY of 4 MB whose first row's trigger sleeps: the backend stops
# reading, so the socket's buffers fill and pgapply's sends would block.
my $rows = join('', map { "$_\t" . ('x' x 100) . "\n" } 1 .. 40000);
my $bundle_copy = Pgb::bundle(Pgb::migrations(
    '001_a.sql' => "CREATE TABLE a (id int);\n",
    '002_big.sql' => <<"SQL" . $rows . "\\.\n"));
CREATE TABLE big (n int, t text);
CREATE FUNCTION big_wait() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
	IF NEW.n = 1 THEN
		PERFORM pg_sleep(coalesce((SELECT secs FROM public.ctl WHERE k = 'copy'), 0));
	END IF;
	RETURN NEW;
END \$\$;
CREATE TRIGGER big_wait BEFORE INSERT ON big FOR EACH ROW EXECUTE FUNCTION big_wait();
COPY big (n, t) FROM stdin;
SQL

# The pid of pgapply's backend in $db once its query is LIKE $like (and
# matches $and, SQL, when given).
sub backend_pid {
	my ($db, $like, $and) = @_;
	my $pid = '';
	$and = defined $and ? "AND $and" : '';
	PgbTest::wait_until(20, sub {
		$pid = $pg->psql('postgres', "SELECT coalesce(min(pid)::text, '') FROM "
		    . "pg_stat_activity WHERE application_name = 'pgapply' AND datname = '$db' "
		    . "AND query LIKE '$like' $and");
		$pid ne '' });
	return $pid;
}

sub history {
	my ($db) = @_;
	return $pg->psql($db, "SELECT coalesce(string_agg(version::text, ',' ORDER BY version), '') "
	    . 'FROM pgbundle.history');
}

sub new_db {
	my (%secs) = @_;
	my $db = $pg->createdb;
	$pg->psql($db, 'CREATE TABLE public.ctl (k text PRIMARY KEY, secs float8 NOT NULL);'
	    . join('', map { "INSERT INTO public.ctl VALUES ('$_', $secs{$_});" } sort keys %secs));
	return $db;
}

# Processes whose command line holds $needle (a bundle path only the
# pgapply under test and its children have).
sub procs_with {
	my ($needle) = @_;
	my @found;
	for my $f (glob '/proc/[0-9]*/cmdline') {
		open(my $fh, '<', $f) or next;
		local $/;
		my $cmd = <$fh>;
		close($fh);
		push @found, $f =~ m{^/proc/(\d+)/} if defined $cmd && index($cmd, $needle) >= 0;
	}
	return @found;
}

my @figures;
my @stopped;	# processes to resume whatever happens
END { kill 'CONT', @stopped if @stopped }

sub stop {
	push @stopped, @_;
	kill 'STOP', @_;
}

sub resume {
	kill 'CONT', @stopped;
	@stopped = ();
}

# After resuming: the backend ends its session, the migration that hung
# is absent, the lock is free and a re-run converges.
sub converges {
	my ($how, $db, $pid, $b, $before, $after, $absent) = @_;
	my $t = time;
	ok(PgbTest::wait_until(15, sub { $pg->psql('postgres', "SELECT count(*) FROM pg_stat_activity "
	    . "WHERE pid = $pid") eq '0' }), "$how: once resumed, the backend ends its session");
	push @figures, sprintf('  %s: resumed backend gone after %.2f s', $how, time - $t);
	is(history($db), $before, "$how: the migration rolled back, the history is as before");
	is($pg->psql($db, "SELECT to_regclass('public.$absent') IS NULL"), 't',
	    "$how: table $absent is absent");
	$pg->psql($db, 'UPDATE public.ctl SET secs = 0');
	my ($rc, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b, '--lock-wait', '5');
	is($rc, 0, "$how: the lock is free and a re-run converges") or diag($err);
	is(history($db), $after, "$how: all applied");
}

# --- SIGTERM on a stopped backend inside a migration: exit 7 ----------------
for my $how ('SIGTERM', 'timeout -s TERM 2') {
	my $db = new_db(b => 30);
	my @cmd = ($pgapply, 'apply', $bundle, '--pubkey', Pgb::pub(), '--db', $pg->connstr($db),
	    '--statement-timeout', '1s');
	unshift @cmd, 'timeout', '--preserve-status', '-s', 'TERM', '2' if $how ne 'SIGTERM';
	my $t0 = time;
	my $p = PgbTest::spawn(@cmd);
	my $pid = backend_pid($db, 'SELECT pg_sleep(%');
	ok($pid, "$how: pgapply is inside migration 2");
	stop($pid);
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
	resume();
	converges($how, $db, $pid, $bundle, '1', '1,2,3', 'b');
}

# --- no signal: --statement-timeout bounds a stopped backend: exit 75 -------
for my $path ('pipelined', 'one statement a trip') {
	my $how = "--statement-timeout 2s, $path";
	my $b = $path eq 'pipelined' ? $bundle : $bundle_trip;
	my $db = new_db(b => 60);
	my $p = PgbTest::spawn($pgapply, 'apply', $b, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db), '--statement-timeout', '2s');
	my $pid = backend_pid($db, 'SELECT pg_sleep(%');
	my $t0 = time;
	ok($pid, "$how: pgapply is inside migration 2");
	stop($pid);
	my ($rc, undef, $err) = $p->wait(60);
	my $dt = time - $t0;
	is($rc, 75, "$how: pgapply gives up by itself, exit 75 (retryable)") or diag($err);
	like($err, qr/migration '002_b' failed at statement 2 of 2 \(migrations\/002_b\.sql:2\): the server did not answer within the statement timeout 2s plus 5 s; pgapply closed the connection/,
	    "$how: naming the migration, the statement and the bound") or diag($err);
	# 2 s, then 5 s before the cancel request, then 5 s for its answer.
	cmp_ok($dt, '>', 2, "$how: not before the statement timeout");
	cmp_ok($dt, '<', 25, sprintf('%s: %.1f s after the statement began (2 + 5 + 5)', $how, $dt));
	push @figures, sprintf('hung backend, %s: exit %d %.1f s after the statement began', $how,
	    $rc, $dt);
	resume();
	converges($how, $db, $pid, $b, '1', '1,2,3', 'b');
}

# --- COPY data into a backend that stopped reading --------------------------
for my $how ('--statement-timeout 3s', 'SIGTERM') {
	my $db = new_db(copy => 60);
	my $p = PgbTest::spawn($pgapply, 'apply', $bundle_copy, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db), $how eq 'SIGTERM' ? () : ('--statement-timeout', '3s'));
	my $pid = backend_pid($db, 'COPY big%', "wait_event = 'PgSleep'");
	my $t0 = time;
	ok($pid, "COPY, $how: the backend sleeps on the first row");
	stop($pid);
	sleep 1;
	ok(!$p->done, "COPY, $how: pgapply waits");
	if ($how eq 'SIGTERM') {
		$t0 = time;
		$p->signal('TERM');
	}
	my ($rc, undef, $err) = $p->wait(60);
	my $dt = time - $t0;
	if ($how eq 'SIGTERM') {
		is($rc, 7, 'COPY, SIGTERM: exit 7') or diag($err);
		like($err, qr/migration '002_big' failed at statement 4 of 4 \(migrations\/002_big\.sql:10\): interrupted, and the server did not answer the cancel request within 5 s/,
		    'COPY, SIGTERM: says the server hung') or diag($err);
		cmp_ok($dt, '<', 10, sprintf('COPY, SIGTERM: %.1f s after SIGTERM', $dt));
	} else {
		is($rc, 75, "COPY, $how: exit 75") or diag($err);
		like($err, qr/migration '002_big' failed at statement 4 of 4 \(migrations\/002_big\.sql:10\): the server did not answer within the statement timeout 3s plus 5 s; pgapply closed the connection/,
		    "COPY, $how: naming the migration, the statement and the bound") or diag($err);
		cmp_ok($dt, '<', 25, sprintf('COPY, %s: %.1f s after the backend stopped', $how, $dt));
	}
	push @figures, sprintf('COPY into a stopped backend, %s: exit %d %.1f s after %s', $how, $rc,
	    $dt, $how eq 'SIGTERM' ? 'SIGTERM' : 'the backend stopped');
	resume();
	converges("COPY, $how", $db, $pid, $bundle_copy, '1', '1,2', 'big');
	is($pg->psql($db, 'SELECT count(*) FROM big'), '40000', "COPY, $how: every row, once");
}

# --- the postmaster frozen too: the cancel request cannot get through -------
for my $how ('SIGTERM', '--statement-timeout 2s') {
	my $db = new_db(b => 60);
	my $p = PgbTest::spawn($pgapply, 'apply', $bundle, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db), $how eq 'SIGTERM' ? () : ('--statement-timeout', '2s'));
	my $pid = backend_pid($db, 'SELECT pg_sleep(%');
	my $t0 = time;
	ok($pid, "frozen server, $how: pgapply is inside migration 2");
	stop($pid, $pg->pid);
	sleep 1;
	ok(!$p->done, "frozen server, $how: pgapply waits");
	if ($how eq 'SIGTERM') {
		$t0 = time;
		$p->signal('TERM');
	}
	my ($rc, undef, $err) = $p->wait(60);
	my $dt = time - $t0;
	my @left = procs_with($bundle);
	if ($how eq 'SIGTERM') {
		is($rc, 7, 'frozen server, SIGTERM: exit 7') or diag($err);
		like($err, qr/did not answer the cancel request within 5 s/,
		    'frozen server, SIGTERM: says the server hung') or diag($err);
		cmp_ok($dt, '<', 10, sprintf('frozen server, SIGTERM: %.1f s after SIGTERM', $dt));
	} else {
		is($rc, 75, "frozen server, $how: exit 75") or diag($err);
		like($err, qr/migration '002_b' failed at statement 2 of 2 .*: the server did not answer within the statement timeout 2s plus 5 s; pgapply closed the connection/,
		    "frozen server, $how: names the statement") or diag($err);
		cmp_ok($dt, '<', 25, sprintf('frozen server, %s: %.1f s after it froze', $how, $dt));
	}
	is("@left", '', "frozen server, $how: no child of pgapply is left (the canceller is killed)");
	push @figures, sprintf('frozen postmaster and backend, %s: exit %d %.1f s after %s', $how,
	    $rc, $dt, $how eq 'SIGTERM' ? 'SIGTERM' : 'it froze');
	resume();
	converges("frozen server, $how", $db, $pid, $bundle, '1', '1,2,3', 'b');
}

# --- a frozen postmaster never answers the connection: SIGTERM ends it ------
{
	my $db = new_db();
	stop($pg->pid);
	my $p = PgbTest::spawn($pgapply, 'apply', $bundle, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db), '--json');
	sleep 1.5;
	ok(!$p->done, 'frozen postmaster: pgapply waits to connect');
	my $t1 = time;
	$p->signal('TERM');
	my ($rc, $out, $err) = $p->wait(30);
	my $dt = time - $t1;
	is($rc, 7, 'frozen postmaster: SIGTERM ends it with exit 7') or diag($err);
	like($err, qr/interrupted while connecting to the database/, 'saying so') or diag($err);
	is($out, '{"event":"error","exit":7,"message":"interrupted while connecting to the '
	    . "database\",\"detail\":\"\"}\n", 'and, with --json, as an error event');
	cmp_ok($dt, '<', 5, sprintf('frozen postmaster: %.1f s after SIGTERM', $dt));
	push @figures, sprintf('frozen postmaster while connecting, SIGTERM: exit %d %.2f s after it',
	    $rc, $dt);
	resume();
	my ($rc2, undef, $err2) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($rc2, 0, 'frozen postmaster: once resumed, a run applies') or diag($err2);
}

# --- ... and without a signal, the default connect timeout ends it ----------
# Each attempt to connect (and the ping that tells a server that is down
# from bad parameters) gets 10 s unless the conninfo or PGCONNECT_TIMEOUT
# says otherwise; then pgapply exits 75, retryable.
for my $case (['default', ''], ['connect_timeout=2 in the conninfo', ' connect_timeout=2']) {
	my ($how, $extra) = @$case;
	my $db = new_db();
	stop($pg->pid);
	my $t0 = time;
	my ($rc, undef, $err) = PgbTest::run($pgapply, 'apply', $bundle, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db) . $extra);
	my $dt = time - $t0;
	resume();
	is($rc, 75, "frozen postmaster, $how: pgapply gives up with exit 75") or diag($err);
	like($err, qr/cannot connect to the database.*timeout expired/s, 'naming the timeout')
	    or diag($err);
	if ($extra) {
		cmp_ok($dt, '<', 9, sprintf('%s: after %.1f s, the conninfo\'s timeout and not '
		    . 'the default', $how, $dt));
	} else {
		cmp_ok($dt, '>=', 9.5, sprintf('%s: not before the 10 s timeout (%.1f s)', $how, $dt));
		cmp_ok($dt, '<', 40, sprintf('%s: within two 10 s attempts and a margin (%.1f s)',
		    $how, $dt));
	}
	push @figures, sprintf('frozen postmaster while connecting, %s, no signal: exit %d %.1f s '
	    . 'after start', $how, $rc, $dt);
	my ($rc2, undef, $err2) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($rc2, 0, "frozen postmaster, $how: once resumed, a run applies") or diag($err2);
}

# A stopped backend while pgapply waits for another runner's lock: the
# lock wait bounds it (exit 75, 5 s after --lock-wait runs out), and
# SIGTERM ends it sooner (exit 7).
for my $how ('--lock-wait 1', 'SIGTERM') {
	my $db = new_db(b => 60);
	my $a = PgbTest::spawn($pgapply, 'apply', $bundle, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db));
	my $apid = backend_pid($db, 'SELECT pg_sleep(%');
	my $t0 = time;
	my $b = PgbTest::spawn($pgapply, 'apply', $bundle, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db), '--lock-wait', $how eq 'SIGTERM' ? '60' : '1');
	my $bpid = backend_pid($db, '%pg_try_advisory_lock%');
	ok($bpid, "$how: runner B polls for the lock");
	stop($bpid);
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
		like($err, qr/the server did not answer within the lock wait; pgapply closed the connection/,
		    'saying the server stopped answering') or diag($err);
		cmp_ok(time - $t0, '<', 10, sprintf('%.1f s after it started (1 s wait + 5 s)',
		    time - $t0));
		push @figures, sprintf('hung backend during the lock wait: exit %d after %.1f s',
		    $rc, time - $t0);
	}
	resume();
	$pg->psql('postgres', "SELECT pg_cancel_backend($apid)");
	my ($ac) = $a->wait(30);
	is($ac, 5, "$how: runner A (cancelled by the test) rolled back");
	$pg->psql($db, 'UPDATE public.ctl SET secs = 0');
	my ($rc2, undef, $err2) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--lock-wait', '5');
	is($rc2, 0, "$how: a re-run converges") or diag($err2);
}

diag($_) for @figures;
done_testing();
