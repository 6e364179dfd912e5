#!/usr/bin/perl
# 085_fleet.pl - one bundle, many databases (pgapply --targets).  Twenty
# databases, one drifted, one unreachable, one whose migration fails: the
# other seventeen apply, the summary names the three with their classes,
# the exit status is the worst, a rerun changes nothing and, once the three
# are fixed, converges.  Two fleet runs at once apply nothing twice.
# SIGTERM stops starting targets and the running ones roll back.
# --canary, --fail-fast, --shard, --targets-query, the status matrix as a
# table and as JSON, rollback, the bundle read once, no password shown,
# and every refusal of the list or the options with its message.
use strict;
use warnings;

use JSON::PP ();
use Test::More;
use PgbTest;
use Pgb;

my $pgapply = PgbTest::bin('pgapply');
my $pg = PgbTest::Server->new;
my $down = PgbTest::Server->new(start => 0);	# the unreachable target
my $tmp = PgbTest::tempdir();

# 002 sleeps for the database's fleet.sleep setting (0 unless set), so a
# test can hold a target inside a migration.  Every migration logs itself
# in 'runs': a migration applied twice would show there.
my $m = Pgb::migrations(
    '001_accounts.sql' => "CREATE TABLE accounts (id int PRIMARY KEY);\n"
	. "CREATE TABLE runs (version int);\nINSERT INTO runs VALUES (1);\n",
    '001_accounts.down.sql' => "DROP TABLE runs;\nDROP TABLE accounts;\n",
    '002_users.sql' => "CREATE TABLE users (id int);\n"
	. "INSERT INTO runs VALUES (2);\n"
	. "SELECT pg_sleep(coalesce(nullif(current_setting('fleet.sleep', "
	. "true), ''), '0')::float8);\n",
    '002_users.down.sql' => "DROP TABLE users;\nDELETE FROM runs WHERE "
	. "version = 2;\n",
    '003_orders.sql' => "CREATE TABLE orders (id int);\n"
	. "INSERT INTO runs VALUES (3);\n",
    '003_orders.down.sql' => "DROP TABLE orders;\nDELETE FROM runs WHERE "
	. "version = 3;\n");
my $b = Pgb::bundle($m);

sub fleet {
	my (@args) = @_;
	my $opt = ref $args[0] eq 'HASH' ? shift @args : {};
	my $cmd = shift @args;
	return PgbTest::run($opt, $pgapply, $cmd, $b, '--pubkey', Pgb::pub(),
	    @args);
}

sub spawn_fleet {
	my ($cmd, @args) = @_;
	return PgbTest::spawn($pgapply, $cmd, $b, '--pubkey', Pgb::pub(),
	    @args);
}

sub list {
	my ($name, @lines) = @_;
	return PgbTest::write_file("$tmp/$name", join('', map { "$_\n" } @lines));
}

sub history {
	my ($db, $server) = @_;
	return ($server // $pg)->psql($db, "SELECT coalesce(string_agg("
	    . "version::text, ',' ORDER BY version), '') FROM pgbundle.history");
}

sub has_history {
	my ($db) = @_;
	return $pg->psql($db, "SELECT to_regclass('pgbundle.history') IS NOT "
	    . 'NULL') eq 't';
}

sub runs {
	my ($db, $server) = @_;
	return ($server // $pg)->psql($db, "SELECT coalesce(string_agg("
	    . "version::text, ',' ORDER BY version), '') FROM runs");
}

sub json_lines {
	my ($out) = @_;
	my @ev;
	for my $line (split /\n/, $out) {
		my $e = eval { JSON::PP::decode_json($line) };
		ok($e, "stdout line is JSON: $line") or return ();
		push @ev, $e;
	}
	return @ev;
}

# --- twenty databases ---------------------------------------------------------
my @names = map { sprintf('f%02d', $_) } 1 .. 19;
$pg->createdb($_) for @names;
$down->start;
$down->createdb('f20');
my $down_conn = $down->connstr('f20');
$down->stop;
# f04 drifted: 001 applied, then its history row changed.
{
	my ($code, undef, $err) = Pgb::pgapply($pg, 'f04', 'apply', $b,
	    '--to', '1');
	is($code, 0, 'f04: 001 applied on its own') or diag($err);
	$pg->psql('f04', "UPDATE pgbundle.history SET checksum = 'sha256:' "
	    . "|| repeat('0', 64) WHERE version = 1");
}
# f07: 003 will fail, an 'orders' table is already there.
$pg->psql('f07', "CREATE TABLE orders (marker text);\n"
    . "INSERT INTO orders VALUES ('keep');");

my @lines = ('# the fleet: NAME CONNINFO, or a conninfo alone', '');
push @lines, "$_ " . $pg->connstr($_) for @names[0 .. 16];
# f18 by a conninfo alone, f19 by a URL with a password (trust ignores it).
push @lines, '   ' . $pg->connstr('f18') . "\t";
(my $url = $pg->url('f19')) =~ s{postgres\@}{postgres:s3cretpw\@};
push @lines, '# by URL', $url;
push @lines, "f20 $down_conn connect_timeout=3";
my $targets = list('targets', @lines);
my $f18 = $pg->host . '/f18';
my $f19 = '127.0.0.1/f19';
my @all = (@names[0 .. 16], $f18, $f19, 'f20');

{
	my ($code, $out, $err) = fleet('apply', '--targets', $targets, '-j', '4');
	is($code, 5, 'the fleet exits 5: the worst over the targets (a failed '
	    . 'migration; above refused 4 and unreachable 75)') or diag($err);
	like($err, qr/^pgapply: apply on 20 targets, 4 at a time$/m,
	    'announces the run');
	like($err, qr/^\[f01\] pgapply: applied 001_accounts \(\d+ ms\)$/m,
	    "each target's lines are prefixed with its name");
	like($err, qr/^\[\Q$f18\E\] pgapply: applied 3 migrations$/m,
	    'a conninfo alone is named host/dbname');
	like($err, qr/^\[\Q$f19\E\] pgapply: applied 3 migrations$/m,
	    'a URL is named host/dbname');
	like($err, qr/^\[f07\] pgapply: migration '003_orders' failed at statement 1 of 2 \(migrations\/003_orders\.sql:1\); it was rolled back$/m,
	    "the failing target's own error, prefixed");
	like($err, qr/^  f04\s+refused: checksum mismatch for applied migration '001_accounts'$/m,
	    'the summary: f04 refused, and why');
	like($err, qr/^  f07\s+failed at 003_orders: migration '003_orders' failed at statement 1 of 2/m,
	    'the summary: f07 failed at 003_orders');
	like($err, qr/^  f20\s+unreachable: cannot connect to the database$/m,
	    'the summary: f20 unreachable');
	like($err, qr/^  f01\s+applied 3$/m, 'the summary: f01 applied 3');
	is(scalar(() = $err =~ /^  \S+\s+applied 3$/mg), 17,
	    'the summary: the other seventeen applied 3');
	like($err, qr/^pgapply: 17 applied, 1 failed, 1 refused, 1 unreachable; exit 5$/m,
	    'the counts and the exit status');
	unlike($out . $err, qr/s3cretpw/, 'the password in the URL never shows');
	is($out, '', 'nothing on stdout');
	for my $db (grep { $_ ne 'f04' && $_ ne 'f07' } @names) {
		is(runs($db) . ' ' . history($db), '1,2,3 1,2,3',
		    "$db: every migration applied once");
	}
	is(history('f04'), '1', 'f04 (refused): history unchanged');
	is(runs('f04'), '1', 'f04 (refused): nothing ran');
	is($pg->psql('f04', "SELECT to_regclass('users') IS NULL"), 't',
	    'f04 (refused): no users table');
	is(history('f07'), '1,2', 'f07: 001 and 002 applied, 003 not');
	is($pg->psql('f07', 'SELECT string_agg(marker, \',\') FROM orders'),
	    'keep', 'f07: 003 rolled back, its orders table untouched');
}

# --- the rerun: only what is left, same outcome, JSON --------------------------------
{
	my ($code, $out, $err) = fleet('apply', '--targets', $targets, '-j', '3',
	    '--json');
	is($code, 5, 'the rerun exits 5 again') or diag($err);
	my @ev = json_lines($out);
	my %t = map { $_->{target} => $_ } grep { $_->{event} eq 'target' } @ev;
	is_deeply([sort keys %t], [sort @all], 'one "target" event per target');
	is($t{f01}{result}, 'nothing-to-do', 'f01: nothing to do');
	is($t{f01}{exit}, 0, 'f01: exit 0');
	is(scalar(grep { $_->{result} eq 'nothing-to-do' } values %t), 17,
	    'seventeen with nothing to do');
	is($t{f04}{result}, 'refused', 'f04: refused');
	is($t{f04}{exit}, 4, 'f04: exit 4');
	is($t{f07}{result}, 'failed', 'f07: failed');
	is($t{f07}{exit}, 5, 'f07: exit 5');
	is($t{f07}{at_version}, 3, 'f07: at version 3');
	is($t{f07}{at_migration}, '003_orders', 'f07: at 003_orders');
	is($t{f20}{result}, 'unreachable', 'f20: unreachable');
	is($t{f20}{exit}, 75, 'f20: exit 75');
	like($t{f20}{message}, qr/^cannot connect to the database$/,
	    'f20: the message');
	my @rel = grep { $_->{event} ne 'target' && $_->{event} ne 'fleet' } @ev;
	ok(@rel > 0 && !grep({ !defined $_->{target} } @rel),
	    "every target's own event carries its target");
	ok(grep({ $_->{event} eq 'error' && $_->{target} eq 'f07' &&
	    ($_->{sqlstate} // '') eq '42P07' } @rel), "f07's error event, with target "
	    . 'and SQLSTATE');
	my ($fl) = grep { $_->{event} eq 'fleet' } @ev;
	is($fl->{exit}, 5, 'the "fleet" event: exit 5');
	is_deeply($fl->{results}, { 'nothing-to-do' => 17, failed => 1,
	    refused => 1, unreachable => 1 }, 'the "fleet" event: the counts');
	is($ev[-1]{event}, 'fleet', 'the "fleet" event comes last');
	unlike($out . $err, qr/s3cretpw/, 'no password in the JSON either');
	for my $db (grep { $_ ne 'f04' && $_ ne 'f07' } @names) {
		is(runs($db), '1,2,3', "$db: nothing ran again");
	}
}

# --- the status matrix, before the fix ----------------------------------------------
{
	my ($code, $out, $err) = fleet('status', '--targets', $targets, '-j', '4');
	is($code, 75, 'status: exit 75, one target is unreachable') or diag($err);
	my @rows = split /\n/, $out;
	like($rows[0], qr/^TARGET\s+VERSION\s+PENDING\s+DRIFTED\s+FAILED\s+AHEAD\s+STATE$/,
	    'status: the matrix header');
	is(scalar(@rows), 21, 'status: a row per target');
	my %r = map { my @f = split ' '; ($f[0] => "@f[1 .. 6]") } @rows[1 .. 20];
	is($r{f01}, '3 0 0 0 0 current', 'status: f01 at 3, current');
	is($r{f04}, '1 2 1 0 0 drifted', 'status: f04 at 1, 2 pending, drifted');
	is($r{f07}, '2 1 0 0 0 behind', 'status: f07 at 2, 1 pending');
	is($r{f20}, '- - - - - unreachable', 'status: f20 unreachable');
	is($r{$f19}, '3 0 0 0 0 current', "status: $f19 by name");
	like($err, qr/^pgapply: 17 current, 1 behind, 1 drifted, 1 unreachable; exit 75$/m,
	    'status: the counts');

	($code, $out, $err) = fleet('status', '--targets', $targets, '--json');
	is($code, 75, 'status --json: exit 75');
	my %t = map { $_->{target} => $_ } grep { $_->{event} eq 'target' }
	    json_lines($out);
	is(scalar(keys %t), 20, 'status --json: a "target" event per target');
	is_deeply([@{ $t{f04} }{qw(result version pending drifted failed ahead)}],
	    ['drifted', 1, 2, 1, 0, 0], 'status --json: f04');
	is_deeply([@{ $t{f07} }{qw(result version pending)}], ['behind', 2, 1],
	    'status --json: f07');
	is($t{f20}{result}, 'unreachable', 'status --json: f20');
	ok(exists $t{f20}{version} && !defined $t{f20}{version},
	    'status --json: f20 has no version');
	ok(!grep({ $_->{event} eq 'status' } json_lines($out)),
	    'status --json: the matrix replaces the per-migration rows');
}

# --- fix the three: the rerun converges ---------------------------------------------
{
	my $sum = $pg->psql('f01', 'SELECT checksum FROM pgbundle.history '
	    . 'WHERE version = 1');
	$pg->psql('f04', "UPDATE pgbundle.history SET checksum = '$sum' "
	    . 'WHERE version = 1');
	$pg->psql('f07', 'DROP TABLE orders');
	$down->start;
	my ($code, $out, $err) = fleet('apply', '--targets', $targets, '-j', '4');
	is($code, 0, 'once fixed, the fleet converges: exit 0') or diag($err);
	like($err, qr/^  f04\s+applied 2$/m, 'f04 applied the two left');
	like($err, qr/^  f07\s+applied 1$/m, 'f07 applied the one left');
	like($err, qr/^  f20\s+applied 3$/m, 'f20 applied all three');
	like($err, qr/^pgapply: 3 applied, 17 nothing to do; exit 0$/m,
	    'the others had nothing to do');
	is(runs('f04') . ' ' . runs('f07') . ' ' . runs('f20', $down),
	    '1,2,3 1,2,3 1,2,3', 'each migration ran once on the three');
	($code, $out, $err) = fleet('status', '--targets', $targets, '-j', '2');
	is($code, 0, 'status: exit 0');
	is(scalar(() = $out =~ /^\S+\s+3\s+0\s+0\s+0\s+0\s+current$/mg), 20,
	    'status: all twenty at 3, current');
}

# --- exit classes 9 (status --check) and 8 (cannot connect, for good) -------------
# Each target's class as a single run gives it; the fleet exits the worst in
# the order 0, 9, 75, 7, 8, 4, ...: a database that does not exist (8) is
# named apart from a server that does not answer (75).
my @k = map { "k$_" } 1 .. 3;
{
	$pg->createdb($_) for @k;
	for my $db (@k) {
		my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b,
		    $db eq 'k2' ? ('--to', '1') : ());
		is($code, 0, "$db: set up") or diag($err);
	}
	my $gone = 'host=127.0.0.1 port=' . PgbTest::free_port()
	    . ' user=postgres dbname=k9 connect_timeout=3';
	my %line = (map({ $_ => "$_ " . $pg->connstr($_) } @k),
	    nodb => 'nodb ' . $pg->connstr('nosuchdb'),
	    norole => 'norole host=' . $pg->host . ' port=' . $pg->port
		. ' user=nosuchrole dbname=k1',
	    gone => "gone $gone");
	my $current = list('k-current', @line{qw(k1 k3)});
	my $pending = list('k-pending', @line{qw(k1 k2 k3)});
	my $down9 = list('k-down', @line{qw(k1 k2 k3 gone)});
	my $all = list('k-all', @line{qw(k1 k2 k3 nodb gone norole)});

	my ($code, $out, $err) = fleet('status', '--targets', $current,
	    '--check');
	is($code, 0, 'status --check on a fleet: all current, exit 0')
	    or diag($err);
	like($err, qr/^pgapply: 2 current; exit 0$/m, 'status --check: the counts');

	($code, $out, $err) = fleet('status', '--targets', $pending, '--check',
	    '-j', '3');
	is($code, 9, 'status --check: one target with pending migrations, exit 9')
	    or diag($err);
	like($err, qr/^\[k2\] pgapply: status --check: 2 migrations pending$/m,
	    "status --check: k2's own line");
	my %r = map { my @f = split ' '; ($f[0] => "@f[1 .. 6]") }
	    (split /\n/, $out)[1 .. 3];
	is_deeply(\%r, { k1 => '3 0 0 0 0 current', k2 => '1 2 0 0 0 behind',
	    k3 => '3 0 0 0 0 current' }, 'status --check: the matrix still '
	    . 'has every row, k2 behind');
	like($err, qr/^pgapply: 2 current, 1 behind; exit 9$/m,
	    'status --check: the counts, exit 9');
	is(history('k2'), '1', 'status --check changed nothing');

	($code, $out, $err) = fleet('status', '--targets', $pending, '--check',
	    '--json');
	is($code, 9, 'status --check --json: exit 9');
	my %t = map { $_->{target} => $_ } grep { $_->{event} eq 'target' }
	    json_lines($out);
	is_deeply([@{ $t{k2} }{qw(result exit version pending)}],
	    ['behind', 9, 1, 2], 'status --check --json: k2 behind, exit 9, '
	    . 'its counts');
	is_deeply([@{ $t{k1} }{qw(result exit)}], ['current', 0],
	    'status --check --json: k1 current, exit 0');

	($code, $out, $err) = fleet('status', '--targets', $down9, '--check');
	is($code, 75, 'status --check: pending (9) and unreachable (75): exit 75')
	    or diag($err);
	like($err, qr/^pgapply: 2 current, 1 behind, 1 unreachable; exit 75$/m,
	    'status --check: the counts, exit 75');

	($code, $out, $err) = fleet('status', '--targets', $all, '--check', '-j',
	    '3');
	is($code, 8, 'status --check: no such database or role (8) outranks '
	    . 'unreachable (75) and pending (9): exit 8') or diag($err);
	%r = map { my @f = split ' '; ($f[0] => "@f[1 .. 6]") }
	    (split /\n/, $out)[1 .. 6];
	is($r{nodb}, '- - - - - cannot-connect', 'status: nodb cannot connect');
	is($r{norole}, '- - - - - cannot-connect', 'status: norole cannot connect');
	is($r{gone}, '- - - - - unreachable', 'status: gone is unreachable');
	like($err, qr/^\[nodb\] pgapply: cannot connect to the database$/m,
	    "status: nodb's own error, prefixed");
	like($err, qr/^\[nodb\]   .*FATAL:  database "nosuchdb" does not exist$/m,
	    "status: and its detail");
	like($err, qr/^pgapply: 2 current, 1 behind, 2 cannot connect, 1 unreachable; exit 8$/m,
	    'status: the counts, exit 8');

	($code, $out, $err) = fleet('apply', '--targets', $all, '-j', '3');
	is($code, 8, 'apply: exit 8, the worst') or diag($err);
	like($err, qr/^  nodb\s+cannot connect: database "nosuchdb" does not exist$/m,
	    'the summary: nodb cannot connect, and why');
	like($err, qr/^  norole\s+cannot connect: role "nosuchrole" does not exist$/m,
	    'the summary: norole cannot connect, and why');
	like($err, qr/^  gone\s+unreachable: cannot connect to the database$/m,
	    'the summary: gone is unreachable, apart from them');
	like($err, qr/^  k2\s+applied 2$/m, 'the summary: k2 applied the two left');
	like($err, qr/^pgapply: 1 applied, 2 nothing to do, 2 cannot connect, 1 unreachable; exit 8$/m,
	    'apply: the counts, exit 8');
	is(runs('k2') . ' ' . history('k2'), '1,2,3 1,2,3',
	    'k2: each migration ran once');
	is($pg->psql('postgres', "SELECT count(*) FROM pg_database WHERE "
	    . "datname = 'nosuchdb'"), '0', 'no database was created');

	($code, $out, $err) = fleet('apply', '--targets', $all, '--json');
	is($code, 8, 'apply --json: exit 8');
	%t = map { $_->{target} => $_ } grep { $_->{event} eq 'target' }
	    json_lines($out);
	is_deeply([@{ $t{nodb} }{qw(result exit message)}], ['cannot-connect',
	    8, 'database "nosuchdb" does not exist'], 'apply --json: nodb');
	is_deeply([@{ $t{gone} }{qw(result exit message)}], ['unreachable', 75,
	    'cannot connect to the database'], 'apply --json: gone');
	my ($fl) = grep { $_->{event} eq 'fleet' } json_lines($out);
	is_deeply($fl->{results}, { 'nothing-to-do' => 3, 'cannot-connect' => 2,
	    unreachable => 1 }, 'apply --json: the counts');
}

# --- the bundle is read and verified once, whatever the number of targets --------
SKIP: {
	skip 'strace is not installed', 2
	    unless system('strace -V >/dev/null 2>&1') == 0;
	my $log = "$tmp/strace.log";
	# LeakSanitizer cannot run under ptrace: no leak check in this run.
	my ($code, undef, $err) = PgbTest::run({ env => { ASAN_OPTIONS =>
	    'detect_leaks=0' } }, 'strace', '-f', '-qq', '-e',
	    'trace=openat', '-o', $log, $pgapply, 'plan', $b, '--pubkey',
	    Pgb::pub(), '--targets', $targets, '-j', '4', '-q');
	is($code, 0, 'plan on the fleet under strace') or diag($err);
	my $opens = () = PgbTest::read_file($log) =~ /openat\([^,]*, "\Q$b\E"/g;
	is($opens, 1, 'the bundle file is opened once for twenty targets');
}

# --- two fleet runs at once never apply a migration twice -------------------------
my @g = map { "g$_" } 1 .. 8;
my $glist = list('g', map { "$_ " . $pg->connstr($_) } @g);
{
	for (@g) {
		$pg->createdb($_);
		$pg->psql('postgres', "ALTER DATABASE $_ SET fleet.sleep = '0.3'");
	}
	my @p = (spawn_fleet('apply', '--targets', $glist, '-j', '3'),
	    spawn_fleet('apply', '--targets', $glist, '-j', '2'));
	my @r = map { [$_->wait] } @p;
	is_deeply([map { $_->[0] } @r], [0, 0], 'two fleet runs at once: both '
	    . 'exit 0') or diag($r[0][2] . $r[1][2]);
	for my $db (@g) {
		is(runs($db) . ' ' . history($db), '1,2,3 1,2,3',
		    "$db: each migration ran exactly once");
		my @who = grep { $_->[2] =~ /^  $db\s+applied 3$/m } @r;
		is(scalar(@who), 1, "$db: one run applied it");
		ok(grep({ $_->[2] =~ /^  $db\s+nothing to do$/m } @r),
		    "$db: the other found nothing to do");
	}
}

# --- rollback on a fleet ------------------------------------------------------------
{
	$pg->psql('postgres', "ALTER DATABASE $_ RESET fleet.sleep") for @g;
	my ($code, $out, $err) = fleet('rollback', '--targets', $glist, '--to',
	    '2', '-j', '4');
	is($code, 0, 'rollback --to 2 on the fleet') or diag($err);
	is(scalar(() = $err =~ /^  g\d\s+rolled back 1$/mg), 8,
	    'each target rolled back 1');
	is(join(' ', map { history($_) } @g), join(' ', ('1,2') x 8),
	    'every history ends at 2');
	($code, $out, $err) = fleet('plan', '--targets', $glist);
	is($code, 0, 'plan on the fleet');
	is(scalar(() = $out =~ /^\[g\d\] pending  003_orders\s/mg), 8,
	    "plan: each target's pending line, prefixed");
	like($err, qr/^  g1\s+1 pending$/m, 'plan: the summary counts it');
}

# --- SIGTERM mid-fleet ----------------------------------------------------------------
{
	my @h = map { "h$_" } 1 .. 6;
	for (@h) {
		$pg->createdb($_);
		$pg->psql('postgres', "ALTER DATABASE $_ SET fleet.sleep = '60'");
	}
	my $hl = list('h', map { "$_ " . $pg->connstr($_) } @h);
	my $p = spawn_fleet('apply', '--targets', $hl, '-j', '2');
	ok(PgbTest::wait_until(60, sub { $pg->psql('postgres', 'SELECT '
	    . "count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT "
	    . "pg_sleep(%'") eq '2' }), 'two targets are inside 002');
	my $t0 = time;
	$p->signal('TERM');
	my ($code, $out, $err) = $p->wait(60);
	is($code, 7, 'SIGTERM: the fleet exits 7') or diag($err);
	ok(time - $t0 < 30, 'SIGTERM: promptly');
	like($err, qr/^  h1\s+interrupted at 002_users/m,
	    'SIGTERM: h1 interrupted at 002_users');
	like($err, qr/^  h2\s+interrupted at 002_users/m,
	    'SIGTERM: h2 interrupted at 002_users');
	is(scalar(() = $err =~ /^  h[3-6]\s+not started$/mg), 4,
	    'SIGTERM: the other four not started');
	like($err, qr/^pgapply: 2 interrupted, 4 not started; exit 7$/m,
	    'SIGTERM: the counts');
	is(history('h1') . ' ' . history('h2'), '1 1',
	    'SIGTERM: the running migration rolled back, 001 stays');
	is($pg->psql('h1', "SELECT to_regclass('users') IS NULL"), 't',
	    "SIGTERM: h1 has no users table");
	ok(!grep({ has_history($_) } @h[2 .. 5]), 'SIGTERM: h3 to h6 untouched');
	ok(PgbTest::wait_until(10, sub { $pg->psql('postgres', 'SELECT count(*) '
	    . "FROM pg_stat_activity WHERE application_name = 'pgapply'") eq
	    '0' }), 'SIGTERM: no connection is left behind');
	$pg->psql('postgres', "ALTER DATABASE $_ RESET fleet.sleep") for @h;
	($code, undef, $err) = fleet('apply', '--targets', $hl, '-j', '3');
	is($code, 0, 'SIGTERM: the rerun converges') or diag($err);
	is(join(' ', map { runs($_) } @h), join(' ', ('1,2,3') x 6),
	    'SIGTERM: each migration ran once in the end');
}

# --- kill -9 of pgapply itself: its children still roll back and end -----------
{
	my @x = map { "x$_" } 1 .. 4;
	for (@x) {
		$pg->createdb($_);
		$pg->psql('postgres', "ALTER DATABASE $_ SET fleet.sleep = '60'");
	}
	my $xl = list('x', map { "$_ " . $pg->connstr($_) } @x);
	my $p = spawn_fleet('apply', '--targets', $xl, '-j', '2');
	ok(PgbTest::wait_until(60, sub { $pg->psql('postgres', 'SELECT '
	    . "count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT "
	    . "pg_sleep(%'") eq '2' }), 'kill -9: two targets are inside 002');
	$p->signal('KILL');
	my ($code) = $p->wait(30);
	is($code, 137, 'kill -9: pgapply is gone');
	ok(PgbTest::wait_until(20, sub { $pg->psql('postgres', 'SELECT count(*) '
	    . "FROM pg_stat_activity WHERE application_name = 'pgapply'") eq
	    '0' }), 'kill -9: its children cancelled, rolled back and ended');
	is(history('x1') . ' ' . history('x2'), '1 1',
	    'kill -9: the running migrations rolled back, 001 stays');
	$pg->psql('postgres', "ALTER DATABASE $_ RESET fleet.sleep") for @x;
	my $err;
	($code, undef, $err) = fleet('apply', '--targets', $xl, '-j', '4');
	is($code, 0, 'kill -9: the rerun converges') or diag($err);
	is(join(' ', map { runs($_) } @x), join(' ', ('1,2,3') x 4),
	    'kill -9: each migration ran once in the end');
}

# --- --canary and --fail-fast -------------------------------------------------------------
{
	my @c = map { "c$_" } 1 .. 5;
	$pg->createdb($_) for @c;
	$pg->psql('c2', 'CREATE TABLE orders (x int)');
	my $cl = list('c', map { "$_ " . $pg->connstr($_) } @c);
	my ($code, $out, $err) = fleet('apply', '--targets', $cl, '-j', '4',
	    '--canary', '2');
	is($code, 5, '--canary 2: a canary failed, exit 5') or diag($err);
	like($err, qr/^  c1\s+applied 3$/m, '--canary: c1 applied');
	like($err, qr/^  c2\s+failed at 003_orders/m, '--canary: c2 failed');
	is(scalar(() = $err =~ /^  c[3-5]\s+not started$/mg), 3,
	    '--canary: the rest not started');
	ok(!grep({ has_history($_) } @c[2 .. 4]), '--canary: c3 to c5 untouched');
	$pg->psql('c2', 'DROP TABLE orders');
	($code, $out, $err) = fleet('apply', '--targets', $cl, '-j', '4',
	    '--canary', '2');
	is($code, 0, '--canary 2: the canaries pass, the rest follow')
	    or diag($err);
	like($err, qr/^pgapply: 4 applied, 1 nothing to do; exit 0$/m,
	    '--canary: c2 to c5 applied');

	my @d = map { "d$_" } 1 .. 5;
	$pg->createdb($_) for @d;
	$pg->psql('d2', 'CREATE TABLE orders (x int)');
	my $dl = list('d', map { "$_ " . $pg->connstr($_) } @d);
	($code, $out, $err) = fleet('apply', '--targets', $dl, '--fail-fast');
	is($code, 5, '--fail-fast: exit 5') or diag($err);
	like($err, qr/^  d1\s+applied 3$/m, '--fail-fast: d1 applied');
	like($err, qr/^  d2\s+failed at 003_orders/m, '--fail-fast: d2 failed');
	is(scalar(() = $err =~ /^  d[3-5]\s+not started$/mg), 3,
	    '--fail-fast: no target started after the failure');
	ok(!grep({ has_history($_) } @d[2 .. 4]), '--fail-fast: d3 to d5 '
	    . 'untouched');
}

# --- --shard I/N ------------------------------------------------------------------------
{
	my %seen;
	for my $i (0 .. 2) {
		my ($code, $out, $err) = fleet('plan', '--targets', $targets,
		    '--shard', "$i/3", '-j', '2');
		is($code, 0, "--shard $i/3: exit 0") or diag($err);
		my $n = $i == 0 ? 7 : $i == 1 ? 7 : 6;
		like($err, qr/^pgapply: plan on $n of 20 targets \(shard $i\/3\), 2 at a time$/m,
		    "--shard $i/3: $n of the 20");
		my @got = $err =~ /^  (\S+)\s+nothing to do$/mg;
		my @want = @all[grep { $_ % 3 == $i } 0 .. 19];
		is_deeply(\@got, \@want, "--shard $i/3: targets k with k mod 3 = $i");
		$seen{$_}++ for @got;
	}
	is_deeply([sort keys %seen], [sort @all], '--shard: the shards cover '
	    . 'every target');
	ok(!grep({ $_ != 1 } values %seen), '--shard: each in one shard');
	my ($code, $out, $err) = fleet('plan', '--targets', $targets, '--shard',
	    '19/20');
	like($err, qr/^  f20\s+nothing to do$/m, '--shard 19/20: the last one');
	my $two = list('two', 'a ' . $pg->connstr('f01'), 'b ' . $pg->connstr('f02'));
	($code, $out, $err) = fleet('plan', '--targets', $two, '--shard', '5/8');
	is($code, 0, 'an empty shard exits 0');
	is($err, "pgapply: shard 5/8 holds none of the 2 targets\n",
	    'an empty shard says so');
	($code, $out, $err) = fleet('plan', '--targets', $two, '--shard', '8/8');
	is($code, 2, '--shard 8/8: usage error');
	like($err, qr/^pgapply: --shard '8\/8' is not I\/N with 0 <= I < N <= 100000$/m,
	    '--shard 8/8: the message');
}

# --- --targets-query ---------------------------------------------------------------------
{
	my $reg = $pg->createdb('registry');
	$pg->psql($reg, "CREATE TABLE tenants (name text, conninfo text, active bool);\n"
	    . "INSERT INTO tenants VALUES ('acme', '" . $pg->connstr('g1')
	    . "', true), ('globex', '" . $pg->connstr('g2') . "', true), "
	    . "('gone', 'host=nowhere', false), (NULL, '" . $pg->connstr('g3')
	    . "', true);");
	my $q = 'SELECT name, conninfo FROM tenants WHERE active ORDER BY name';
	my ($code, $out, $err) = fleet('status', '--targets-query', $q, '--db',
	    $pg->connstr($reg));
	is($code, 0, '--targets-query: exit 0') or diag($err);
	my @rows = map { (split ' ')[0] } (split /\n/, $out)[1 .. 3];
	is_deeply(\@rows, ['acme', 'globex', $pg->host . '/g3'],
	    '--targets-query: the rows, in query order, a NULL name defaulted');
	like($out, qr/^acme\s+2\s+1\s+0\s+0\s+0\s+behind$/m,
	    '--targets-query: acme\'s row');
	($code, $out, $err) = fleet('status', '--targets-query',
	    'SELECT name FROM tenants', '--db', $pg->connstr($reg));
	is($code, 2, '--targets-query without conninfo: exit 2');
	is($err, "pgapply: --targets-query returned no column 'conninfo' (and "
	    . "may return 'name')\n", '--targets-query without conninfo: the '
	    . 'message');
	($code, $out, $err) = fleet('status', '--targets-query',
	    "DELETE FROM tenants RETURNING name, conninfo", '--db',
	    $pg->connstr($reg));
	is($code, 2, '--targets-query runs read-only: exit 2');
	like($err, qr/^pgapply: --targets-query failed: .*cannot execute DELETE in a read-only transaction/m,
	    '--targets-query runs read-only: the server says so');
	is($pg->psql($reg, 'SELECT count(*) FROM tenants'), '4',
	    '--targets-query: the registry is unchanged');
	($code, $out, $err) = fleet('status', '--targets-query', $q);
	is($code, 2, '--targets-query without --db: exit 2');
	is($err, "pgapply: --targets-query needs the control database: --db "
	    . "CONTROL or DATABASE_URL\n", '--targets-query without --db: the '
	    . 'message');
}

# --- accept on a fleet --------------------------------------------------------------
# 002 gains a comment after some tenants ran it: accept records the new
# checksum where the old text ran, leaves alone a target that already has
# it, and refuses one that has not run 002 (exit 4), as a single run does.
{
	my $m2 = Pgb::migrations(
	    map({ my $f = $_; ($f => PgbTest::read_file("$m/$f")) }
		grep { !/^002_users\.sql$/ } map { s{.*/}{}r }
		glob("$m/*.sql")),
	    '002_users.sql' => PgbTest::read_file("$m/002_users.sql")
		. "COMMENT ON TABLE users IS 'fixed';\n");
	my $b2 = Pgb::bundle($m2);
	my @a = map { "a$_" } 1 .. 4;
	$pg->createdb($_) for @a;
	for my $db (@a) {
		my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply',
		    $db eq 'a4' ? $b2 : $b, $db eq 'a3' ? ('--to', '1') : ());
		is($code, 0, "$db: set up") or diag($err);
	}
	my $al = list('a', map { "$_ " . $pg->connstr($_) } @a);
	my @with = ($pgapply, 'accept', $b2, '--pubkey', Pgb::pub(), '--version',
	    '2', '--targets', $al);
	my ($code, $out, $err) = PgbTest::run($pgapply, 'status', $b2,
	    '--pubkey', Pgb::pub(), '--targets', $al, '--check');
	is($code, 4, 'status --check: drifted (4) outranks pending (9)')
	    or diag($err);
	like($err, qr/^pgapply: 1 current, 1 behind, 2 drifted; exit 4$/m,
	    'status --check: a1 and a2 drifted, a3 behind');
	my $before = join(' ', map { history($_) } @a);

	($code, $out, $err) = PgbTest::run(@with, '-j', '2');
	is($code, 2, 'accept on a fleet without --reason: exit 2');
	like($err, qr/^pgapply: accept needs --reason TEXT\nusage: /,
	    'accept on a fleet without --reason: the message');

	($code, $out, $err) = PgbTest::run(@with, '--reason', 'a comment', '-j',
	    '2');
	is($code, 4, 'accept on a fleet: exit 4, a3 has not run 002')
	    or diag($err);
	like($err, qr/^pgapply: accept on 4 targets, 2 at a time$/m,
	    'accept: announces the run');
	like($err, qr/^\[a1\] pgapply: accepted 002_users: the history now holds sha256:/m,
	    "accept: a1's own line, prefixed");
	like($err, qr/^  a1\s+accepted$/m, 'the summary: a1 accepted');
	like($err, qr/^  a2\s+accepted$/m, 'the summary: a2 accepted');
	like($err, qr/^  a3\s+refused: migration '002_users' is not applied: there is nothing to accept$/m,
	    'the summary: a3 refused, and why');
	like($err, qr/^  a4\s+nothing to do$/m, 'the summary: a4 had it');
	like($err, qr/^pgapply: 2 accepted, 1 nothing to do, 1 refused; exit 4$/m,
	    'accept: the counts');
	for my $db (qw(a1 a2)) {
		is($pg->psql($db, 'SELECT origin || \':\' || reason FROM '
		    . 'pgbundle.history WHERE version = 2'), 'accepted:a comment',
		    "$db: 002 accepted, with the reason");
		is(runs($db), '1,2,3', "$db: nothing ran");
	}
	is(history('a3') . ' ' . runs('a3'), '1 1', 'a3: unchanged');
	is(join(' ', map { history($_) } @a), $before,
	    'accept ran no migration anywhere');

	($code, $out, $err) = PgbTest::run(@with, '--reason', 'a comment',
	    '--json');
	is($code, 4, 'accept again, --json: exit 4 (a3)');
	my %t = map { $_->{target} => $_ } grep { $_->{event} eq 'target' }
	    json_lines($out);
	is_deeply({ map { $_ => "$t{$_}{result} $t{$_}{exit}" } @a },
	    { a1 => 'nothing-to-do 0', a2 => 'nothing-to-do 0',
	    a3 => 'refused 4', a4 => 'nothing-to-do 0' },
	    'accept again: done where it was, still refused on a3');

	($code, $out, $err) = PgbTest::run($pgapply, 'apply', $b2, '--pubkey',
	    Pgb::pub(), '--targets', $al, '-j', '4');
	is($code, 0, 'then apply on the fleet converges') or diag($err);
	like($err, qr/^pgapply: 1 applied, 3 nothing to do; exit 0$/m,
	    'apply: a3 applied, the others had nothing to do');
	($code, $out, $err) = PgbTest::run($pgapply, 'status', $b2, '--pubkey',
	    Pgb::pub(), '--targets', $al, '--check');
	is($code, 0, 'status --check: all four current') or diag($err);
}

# --- the list and the options, refused -------------------------------------------------
{
	my $bad = list('bad', '# tenants', 'ok ' . $pg->connstr('f01'),
	    'lonely');
	$pg->createdb('fresh');
	my $fl = list('fresh', 'fresh ' . $pg->connstr('fresh'), 'lonely');
	my ($code, $out, $err) = fleet('apply', '--targets', $fl);
	is($code, 2, 'a target without a conninfo: exit 2');
	is($err, "pgapply: $fl:2: target 'lonely' has no conninfo\n",
	    'a target without a conninfo: the message names the line');
	ok(!has_history('fresh'), 'a bad list changes no database');
	$fl = list('dup', 'x ' . $pg->connstr('fresh'), 'x host=/nowhere');
	($code, $out, $err) = fleet('apply', '--targets', $fl);
	is($code, 2, 'a name twice: exit 2');
	is($err, "pgapply: $fl:2: target 'x' is listed twice (line 1 too): "
	    . "name one of them\n", 'a name twice: the message');
	ok(!has_history('fresh'), 'and no database changed');
	$fl = list('pw', 'fresh ' . $pg->connstr('fresh'),
	    "y host=h password=s3cretpw port='5432");
	($code, $out, $err) = fleet('apply', '--targets', $fl);
	is($code, 2, 'a conninfo libpq cannot parse: exit 2');
	like($err, qr/^pgapply: \Q$fl\E:2: the conninfo of target 'y' is not one libpq can parse$/m,
	    'a conninfo libpq cannot parse: the message');
	unlike($err, qr/s3cretpw/, 'and not the password');
	($code, $out, $err) = fleet('apply', '--targets', "$tmp/nope");
	is($code, 2, 'a missing list: exit 2');
	is($err, "pgapply: cannot read target list '$tmp/nope': No such file "
	    . "or directory\n", 'a missing list: the message');
	$fl = list('empty', '# nothing yet', '');
	($code, $out, $err) = fleet('apply', '--targets', $fl);
	is($code, 2, 'an empty list: exit 2');
	is($err, "pgapply: $fl: no targets\n", 'an empty list: the message');
	($code, $out, $err) = fleet({ stdin => 'fresh ' . $pg->connstr('fresh')
	    . "\n" }, 'plan', '--targets', '-');
	is($code, 0, '--targets - reads stdin') or diag($err);
	like($err, qr/^  fresh\s+3 pending$/m, '--targets -: the target ran');

	my @usage = (
	    [['baseline', '--version', '1', '--targets', $targets],
		"pgapply: 'baseline' does not run on a fleet: --targets works "
		. 'with plan, apply, status, rollback and accept'],
	    [['apply', '--targets', $targets, '--db', $pg->connstr('f01')],
		'pgapply: --db names the control database of --targets-query; '
		. 'with --targets each line names its database'],
	    [['apply', '-j', '4', '--db', $pg->connstr('f01')],
		'pgapply: -j, --canary, --fail-fast, --keep-going and --shard '
		. 'need --targets or --targets-query'],
	    [['apply', '--targets', $targets, '--targets-query', 'SELECT 1'],
		'pgapply: --targets and --targets-query exclude each other'],
	    [['apply', '--targets', $targets, '-j', '0'],
		"pgapply: -j '0' is not a number from 1 to 128"],
	    [['apply', '--targets', $targets, '--canary', '-1'],
		"pgapply: --canary '-1' is not a number from 1 to 100000"],
	);
	for my $u (@usage) {
		my ($args, $msg) = @$u;
		($code, $out, $err) = fleet(@$args);
		is($code, 2, "usage: @$args[0, 1 .. 2]: exit 2");
		like($err, qr/^\Q$msg\E\nusage: pgapply /, "usage: $msg");
	}
	ok(!has_history('fresh'), 'no usage error touched a database');
}

# --- --help documents the fleet ------------------------------------------------------------
{
	my ($code, $out) = PgbTest::run($pgapply, '--help');
	for my $o (qw(--targets --targets-query --jobs --keep-going --fail-fast
	    --canary --shard)) {
		like($out, qr/^  (?:-j, )?\Q$o\E\b/m, "--help documents $o");
	}
	my $man = PgbTest::read_file(PgbTest::root() . '/runtime/pgapply.1');
	for my $o (qw(targets targets-query jobs keep-going fail-fast canary
	    shard)) {
		like($man, qr/\bFl -\Q$o\E\b/, "pgapply.1 documents --$o");
	}
}

done_testing();
