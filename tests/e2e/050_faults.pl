#!/usr/bin/perl
# 050_faults.pl - kill -9 of pgapply at many points, and 8 runners at once.
#
# After every kill: each migration is either fully applied with its
# history row, or absent without one (never half); the killed runner's
# backend and advisory lock go within about a second (PostgreSQL 14+:
# client_connection_check_interval); a re-run converges, or, for an
# interrupted CREATE INDEX CONCURRENTLY, exits 6 naming the index and
# converges with --retry-failed.
#
# The kill points: waiting for the lock, inside a transactional migration,
# during COMMIT (a deferred trigger that sleeps), between migrations (idle
# with the lock held), during CREATE INDEX CONCURRENTLY, and a sampled
# sweep that stops pgapply at spread-out moments, classifies where it was
# from pg_stat_activity and pg_locks, then kills it.  PGB_SOAK=N runs N
# sweep iterations instead of the default.
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new(conf => { synchronous_commit => 'on' });
my $pgapply = PgbTest::bin('pgapply');
my $NSTEPS = 20;

# --- a bundle whose every migration logs its run and can be paused ------------
#
# public.ctl (made by the test, not by a migration) holds how long the
# migration named by 'k' sleeps: the test pauses any migration it likes.
sub pause_sql {
	my ($k) = @_;
	return "SELECT pg_sleep(coalesce((SELECT secs FROM public.ctl WHERE k = '$k'), 0));\n";
}

my %steps = ('001_base.sql' => "CREATE TABLE runs (version int NOT NULL);\n");
for my $v (2 .. $NSTEPS) {
	$steps{sprintf('%03d_step.sql', $v)} = sprintf("CREATE TABLE step%03d (id int);\n"
	    . "INSERT INTO runs VALUES (%d);\n", $v, $v) . pause_sql("s$v");
}
# A migration whose COMMIT is slow: a deferred constraint trigger sleeps.
$steps{sprintf('%03d_slow_commit.sql', $NSTEPS + 1)} = <<'SQL';
CREATE TABLE slowc (id int);
CREATE FUNCTION slowc_wait() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_sleep(coalesce((SELECT secs FROM public.ctl WHERE k = 'commit'), 0));
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER slowc_wait AFTER INSERT ON slowc
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slowc_wait();
INSERT INTO slowc VALUES (1);
INSERT INTO runs VALUES (21);
SQL
$steps{sprintf('%03d_step_idx.sql', $NSTEPS + 2)} = "-- pgbundle:no-transaction\n"
    . "CREATE INDEX CONCURRENTLY IF NOT EXISTS step002_id_idx ON step002 (id);\n";
my $LAST = $NSTEPS + 2;
my $bundle = Pgb::bundle(Pgb::migrations(%steps));

sub newdb {
	my $db = $pg->createdb;
	$pg->psql($db, 'CREATE TABLE public.ctl (k text PRIMARY KEY, secs float8 NOT NULL)');
	return $db;
}

sub set_pause {
	my ($db, $k, $secs) = @_;
	$pg->psql($db, "INSERT INTO public.ctl VALUES ('$k', $secs) "
	    . 'ON CONFLICT (k) DO UPDATE SET secs = EXCLUDED.secs');
}

sub spawn_apply {
	my ($db, @opts) = @_;
	return PgbTest::spawn($pgapply, 'apply', $bundle, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db), @opts);
}

# Poll $cond (a sub) every 20 ms for up to $secs; true if it held.
# The pgapply backends of $db: "pid|state|query|holds_lock" lines.
sub backends {
	my ($db) = @_;
	return $pg->psql('postgres', "SELECT a.pid, a.state, left(a.query, 60), "
	    . "EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND "
	    . "l.locktype = 'advisory' AND l.granted) FROM pg_stat_activity a "
	    . "WHERE a.application_name = 'pgapply' AND a.datname = '$db'");
}

sub advisory_holders {
	my ($db) = @_;
	return $pg->psql('postgres', "SELECT count(*) FROM pg_locks l JOIN "
	    . "pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' "
	    . "AND l.granted AND d.datname = '$db'");
}

# Seconds until $db has no pgapply backend and no advisory lock (max 10).
sub time_to_release {
	my ($db, $t0) = @_;
	PgbTest::wait_until(10, sub { backends($db) eq '' && advisory_holders($db) eq '0' });
	return time - $t0;
}

# Every migration applied with its history row, or absent without one.
# Returns a list of problems (empty: consistent).  Two queries, so that
# the sweep stays quick.
sub inconsistencies {
	my ($db) = @_;
	my @bad;
	my ($hasH, $runs, $idx, $tables) = split /\|/, $pg->psql($db,
	    "SELECT to_regclass('pgbundle.history') IS NOT NULL, "
	    . "to_regclass('public.runs') IS NOT NULL, "
	    . "coalesce((SELECT indisvalid::text FROM pg_index WHERE indexrelid = "
	    . "to_regclass('public.step002_id_idx')), 'none'), "
	    . "coalesce((SELECT string_agg(relname, ',') FROM pg_class WHERE "
	    . "relnamespace = 'public'::regnamespace AND relkind = 'r'), '')"), -1;
	my %table = map { $_ => 1 } split /,/, $tables;
	my $q = '';
	$q .= "SELECT coalesce(string_agg(version || '=' || status, ','), '') FROM pgbundle.history;\n"
	    if $hasH eq 't';
	$q .= "SELECT coalesce(string_agg(version || '=' || n, ','), '') FROM "
	    . "(SELECT version, count(*) AS n FROM runs GROUP BY version) r;\n" if $runs eq 't';
	my @out = $q eq '' ? () : split /\n/, $pg->psql($db, $q), -1;
	my %hist = $hasH eq 't' ? map { split /=/ } split /,/, shift(@out) // '' : ();
	my %count = $runs eq 't' ? map { split /=/ } split /,/, shift(@out) // '' : ();
	push @bad, 'runs table and history row 1 disagree'
	    if ($runs eq 't') != (($hist{1} // '') eq 'applied');
	for my $v (2 .. $NSTEPS + 1) {
		my $exists = $table{$v <= $NSTEPS ? sprintf('step%03d', $v) : 'slowc'} ? 1 : 0;
		my $h = $hist{$v} // 'absent';
		push @bad, "migration $v: table " . ($exists ? 'exists' : 'absent')
		    . ", history $h" if ($h eq 'applied') != $exists || $h eq 'failed';
		my $n = $count{$v} // 0;
		push @bad, "migration $v ran $n times" if $n != $exists;
	}
	my $h = $hist{$LAST} // 'absent';
	push @bad, "index migration: history $h, index $idx"
	    if ($h eq 'applied' && $idx ne 'true') || ($h eq 'absent' && $idx ne 'none');
	return @bad;
}

# Re-run until done: exit 0, or 6 for an interrupted no-transaction
# migration, then --retry-failed.  Returns (ok, description).
sub converge {
	my ($db) = @_;
	$pg->psql($db, 'UPDATE public.ctl SET secs = 0');
	my ($rc, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--lock-wait', '10');
	my $how = "re-run exit $rc";
	if ($rc == 6) {
		return (0, "exit 6 without naming the index: $err")
		    unless $err =~ /step002_id_idx/;
		($rc, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--retry-failed');
		$how .= ", --retry-failed exit $rc";
	}
	return (0, "$how: $err") if $rc != 0;
	my @bad = inconsistencies($db);
	return (0, "$how, then: @bad") if @bad;
	my $all = $pg->psql($db, "SELECT count(*) FROM pgbundle.history WHERE status = 'applied'");
	return (0, "$how, then $all applied") if $all != $LAST;
	my $valid = $pg->psql($db, "SELECT indisvalid FROM pg_index WHERE indexrelid = "
	    . "'public.step002_id_idx'::regclass");
	return (0, "$how, the index is not valid") if $valid ne 't';
	return (1, $how);
}

# Wait until pgapply's backend runs a statement matching $re.
sub wait_query {
	my ($db, $re, $secs) = @_;
	return PgbTest::wait_until($secs // 20, sub {
		grep { (split /\|/)[1] eq 'active' && (split /\|/)[2] =~ $re }
		    split /\n/, backends($db) });
}

my @figures;

# --- 1. killed while waiting for another runner's lock ---------------------------
{
	my $db = newdb();
	set_pause($db, 's3', 3);
	my $a = spawn_apply($db);
	ok(wait_query($db, qr/pg_sleep/), 'runner A holds the lock and sleeps in migration 3');
	my $b = spawn_apply($db, '--lock-wait', '30');
	ok(PgbTest::wait_until(10, sub { scalar(() = backends($db) =~ /\n/) >= 1 }),
	    'runner B connected and polls for the lock');
	sleep 0.3;
	$b->signal('KILL');
	my ($bc) = $b->wait;
	is($bc, 137, 'runner B killed with SIGKILL');
	my ($ac, undef, $aerr) = $a->wait(60);
	is($ac, 0, 'runner A finishes undisturbed') or diag($aerr);
	is_deeply([inconsistencies($db)], [], 'every migration applied once, with its history row');
	my ($ok, $how) = converge($db);
	ok($ok, "a re-run converges ($how)");
}

# --- 2. killed inside a transactional migration: the lock moves on in ~1 s --------
{
	my $db = newdb();
	set_pause($db, 's5', 120);
	my $a = spawn_apply($db);
	ok(wait_query($db, qr/pg_sleep/), 'runner A sleeps inside migration 5');
	my ($apid) = map { (split /\|/)[0] } split /\n/, backends($db);
	set_pause($db, 's5', 0);
	my $b = spawn_apply($db, '--lock-wait', '30');
	sleep 0.5;
	my $t0 = time;
	$a->signal('KILL');
	$a->wait;
	# B may take the lock, finish and leave between two looks at pg_locks:
	# its exit counts as having taken the lock.
	my $moved = PgbTest::wait_until(10, sub {
		my $h = $pg->psql('postgres', "SELECT coalesce(string_agg(pid::text, ','), '') "
		    . "FROM pg_locks WHERE locktype = 'advisory' AND granted");
		($h ne '' && $h ne $apid) || $b->done });
	my $dt = time - $t0;
	ok($moved, 'the waiting runner B took the lock');
	cmp_ok($dt, '<', 3, sprintf('within 3 s of the kill (%.2f s)', $dt));
	push @figures, sprintf('lock moved to the next runner %.2f s after kill -9', $dt);
	my ($bc, undef, $berr) = $b->wait(60);
	is($bc, 0, 'runner B applied the rest') or diag($berr);
	is_deeply([inconsistencies($db)], [], 'every migration applied exactly once');
	is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history'), $LAST, 'all in the history');
}

# --- 3. killed during COMMIT ------------------------------------------------------
{
	my $db = newdb();
	set_pause($db, 'commit', 120);
	my $a = spawn_apply($db);
	ok(wait_query($db, qr/^COMMIT/), 'runner A is inside the COMMIT of migration 21');
	my $t0 = time;
	$a->signal('KILL');
	$a->wait;
	my $dt = time_to_release($db, $t0);
	cmp_ok($dt, '<', 3, sprintf('backend and lock gone %.2f s after the kill', $dt));
	push @figures, sprintf('killed during COMMIT: session gone after %.2f s', $dt);
	is_deeply([inconsistencies($db)], [], 'migration 21 absent with no history row, the rest applied');
	is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history WHERE version = 21'), '0',
	    'the interrupted COMMIT did not commit');
	my ($ok, $how) = converge($db);
	ok($ok, "a re-run converges ($how)");
}

# --- 4. killed during CREATE INDEX CONCURRENTLY -------------------------------------
{
	my $db = newdb();
	Pgb::pgapply($pg, $db, 'apply', $bundle, '--to', $LAST - 1);
	# A transaction that wrote to the table makes the build wait for it,
	# after the index entry (INVALID) is committed.
	my $blk = PgbTest::spawn({ stdin => "BEGIN;\nINSERT INTO step002 VALUES (1);\n"
	    . "SELECT pg_sleep(120);\n" }, PgbTest::pg_bin('psql'), '-X', '-q',
	    $pg->connstr($db));
	ok(PgbTest::wait_until(10, sub { $pg->psql($db, "SELECT count(*) FROM pg_stat_activity "
	    . "WHERE query LIKE 'SELECT pg_sleep(120)%'") eq '1' }), 'a writer holds the table');
	my $a = spawn_apply($db);
	ok(wait_query($db, qr/CREATE INDEX CONCURRENTLY/), 'runner A is building the index');
	ok(PgbTest::wait_until(10, sub { $pg->psql($db, "SELECT count(*) FROM pg_index WHERE "
	    . "indexrelid = to_regclass('public.step002_id_idx')") eq '1' }),
	    'the index entry exists');
	my $t0 = time;
	$a->signal('KILL');
	$a->wait;
	my $dt = time_to_release($db, $t0);
	cmp_ok($dt, '<', 3, sprintf('backend and lock gone %.2f s after the kill', $dt));
	push @figures, sprintf('killed during CREATE INDEX CONCURRENTLY: session gone after %.2f s', $dt);
	$pg->psql($db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
	    . "WHERE query LIKE 'SELECT pg_sleep(120)%'");
	$blk->wait;
	is($pg->psql($db, "SELECT indisvalid FROM pg_index WHERE indexrelid = "
	    . "'public.step002_id_idx'::regclass"), 'f', 'the interrupted build left an INVALID index');
	is($pg->psql($db, "SELECT status || ':' || statements_done FROM pgbundle.history "
	    . "WHERE version = $LAST"), 'failed:0', 'history says the migration did not finish');
	my ($rc, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($rc, 6, 'a re-run says an operator is needed (exit 6)');
	like($err, qr/022_step_idx/, 'naming the migration');
	like($err, qr/step002_id_idx/, 'and the INVALID index') or diag($err);
	($rc, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--retry-failed');
	is($rc, 0, '--retry-failed converges') or diag($err);
	is($pg->psql($db, "SELECT indisvalid FROM pg_index WHERE indexrelid = "
	    . "'public.step002_id_idx'::regclass"), 't', 'with a valid index');
	is_deeply([inconsistencies($db)], [], 'and a consistent history');
}

# --- 4b. killed after the last no-transaction statement, before its record -------
#
# The state the sweep once hit: every statement ran, the history row still
# says 'failed' (statements_done = statements_total).  Nothing is left to
# run, so a plain re-run finishes it (verify queries, record) by itself.
{
	my $db = newdb();
	my ($rc) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($rc, 0, 'all applied');
	$pg->psql($db, "UPDATE pgbundle.history SET status = 'failed' WHERE version = $LAST");
	my $err;
	($rc, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($rc, 0, 'a no-transaction migration whose statements all ran completes on a re-run')
	    or diag($err);
	like($err, qr/applied 022_step_idx/, 'recording it applied');
	is($pg->psql($db, "SELECT status || ':' || statements_done FROM pgbundle.history "
	    . "WHERE version = $LAST"), 'applied:1', 'without running its statement again');
}

# --- 5. sampled sweep: stop at spread-out moments, classify, kill -9 ------------------
#
# Where pgapply was when stopped, from its backend: none (not connected or
# not locked yet), 'idle in transaction'/'active' holding the lock (inside
# a migration), 'idle' holding the lock (between migrations), or gone.
{
	my $iters = $ENV{PGB_SOAK} || 16;
	my %seen;
	my ($bad, $slow, $maxrel) = (0, 0, 0);
	# How long a whole run takes, to spread the stops over it.
	# Every third step takes 150 ms, and one in the middle a second: a
	# stop that lands in that second is seen "inside" even when the psql
	# that looks (started after the stop) is slow to come on a loaded
	# machine, by which time a 150 ms step has ended.
	my $slow_steps = sub {
		my ($db) = @_;
		$pg->psql($db, "INSERT INTO public.ctl SELECT 's' || v, "
		    . "CASE WHEN v = 11 THEN 1.0 ELSE 0.15 END FROM "
		    . "generate_series(2, $NSTEPS, 3) AS v");
	};
	my $db0 = newdb();
	$slow_steps->($db0);
	my $t = time;
	my $p0 = spawn_apply($db0);
	sleep 0.002 until $p0->done;
	my $full = time - $t;
	my ($rc0) = $p0->wait;
	is($rc0, 0, sprintf('a full run takes %.3f s', $full));
	# Go on (up to three times as long) until each place was hit once.
	my @places = ('before the lock', 'inside a migration', 'between migrations');
	my $i;
	for ($i = 0; $i < 3 * $iters; $i++) {
		last if $i >= $iters && !grep { !$seen{$_} } @places;
		my $db = newdb();
		# A migration goes out in one round trip (pipeline mode), so the
		# server runs it to the end without pgapply: a stop lands "inside"
		# only while the server is still at it, seen by a psql started
		# after the stop.
		$slow_steps->($db);
		my $p = spawn_apply($db);
		my $at = $full * (($i * 0.618034) - int($i * 0.618034));
		sleep $at;
		$p->signal('STOP');
		my @b = grep { length } split /\n/, backends($db);
		my $where;
		if ($p->done) {
			$where = 'finished';
		} elsif (!@b || (split /\|/, $b[0])[3] ne 't') {
			$where = 'before the lock';
		} elsif ((split /\|/, $b[0])[1] eq 'idle') {
			$where = 'between migrations';
		} else {
			$where = 'inside a migration';
		}
		$seen{$where}++;
		my $t0 = time;
		$p->signal('KILL');
		$p->wait;
		my $rel = time_to_release($db, $t0);
		$maxrel = $rel if $rel > $maxrel;
		$slow++ if $rel >= 3;
		my @inc = inconsistencies($db);
		my ($ok, $how) = converge($db);
		if (@inc || !$ok) {
			$bad++;
			diag("stop $i at ${at}s ($where): @inc; $how");
		}
		$pg->dropdb($db);
	}
	is($bad, 0, "$i kills: no half-applied migration, every re-run converged");
	is($slow, 0, sprintf('every killed session was gone within 3 s (max %.2f s)', $maxrel));
	for my $w (@places) {
		ok($seen{$w}, "the sweep stopped pgapply $w (" . ($seen{$w} // 0) . ' times)');
	}
	push @figures, "sweep: $i kills, " . join(', ', map { "$_: $seen{$_}" } sort keys %seen)
	    . sprintf('; slowest release %.2f s', $maxrel);
}

# --- 6. eight runners at once --------------------------------------------------------
for my $case ('an empty database', '20 pending migrations over 5 applied') {
	my $db = newdb();
	my %files = ('000_runs.sql' => "CREATE TABLE runs (version int NOT NULL);\n");
	$files{sprintf('%03d_m.sql', $_)} = sprintf("CREATE TABLE m%03d (id int);\n"
	    . "INSERT INTO runs VALUES (%d);\n", $_, $_) for 1 .. 25;
	my $b = Pgb::bundle(Pgb::migrations(%files));
	my $pending = 26;
	if ($case =~ /pending/) {
		my ($rc) = Pgb::pgapply($pg, $db, 'apply', $b, '--to', 5);
		is($rc, 0, 'five applied first');
		$pending = 20;
	}
	my $t0 = time;
	my @p = map { PgbTest::spawn($pgapply, 'apply', $b, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db), '--lock-wait', '60') } 1 .. 8;
	my @res = map { [$_->wait(120)] } @p;
	my $dt = time - $t0;
	is_deeply([map { $_->[0] } @res], [(0) x 8], "$case: 8 runners all exit 0")
	    or diag(join "\n", map { $_->[2] } @res);
	is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history'), '26',
	    "$case: history holds each migration once");
	is($pg->psql($db, 'SELECT count(*) FROM runs'), '25', "$case: each migration ran once");
	is($pg->psql($db, 'SELECT count(*) FROM (SELECT version FROM runs GROUP BY version '
	    . 'HAVING count(*) > 1) d'), '0', "$case: none ran twice");
	is($pg->psql($db, "SELECT count(*) FROM pg_class WHERE relname = 'history' AND "
	    . "relnamespace = 'pgbundle'::regnamespace"), '1', "$case: one history table");
	my $applied = grep { $_->[2] =~ /applied $pending migrations/ } @res;
	my $nothing = grep { $_->[2] =~ /nothing to do/ } @res;
	is($applied + $nothing, 8, "$case: each runner applied or found nothing to do");
	cmp_ok($applied, '>=', 1, "$case: at least one applied the $pending");
	push @figures, sprintf('8 runners on %s: %.2f s in all', $case, $dt);
}

diag($_) for @figures;
done_testing();
