#!/usr/bin/perl
# 058_hostile_output.pl - what pgapply and pgbundle print stays valid and
# harmless, and a failure to print it stops the run cleanly.
#
# Text from a signed bundle (an include's src= holding ESC sequences and
# a forged line, a failing statement with a multi-byte character where
# the excerpt and the server's message are cut), from a history row (a
# name holding ESC and BEL) and from an unverified manifest (bytes that
# are not UTF-8): every --json line parses as JSON and is valid UTF-8,
# and no human line holds a raw control character.  Then the output
# itself fails: `--json | head -1`, `> /dev/full`, `2> /dev/full` and a
# pipe nobody reads stop the run at the next safe point (the migration
# in flight rolls back or finishes, nothing new starts) with exit 1
# (pgapply) or 4 (pgbundle), never SIGPIPE's 141 or 0.  Last, a usage
# error under --json prints one JSON error object on stdout.
use strict;
use warnings;

use Encode ();
use JSON::PP ();
use POSIX ();
use Test::More;
use PgbTest;
use Pgb;

my $root = PgbTest::root();
my $pgapply = PgbTest::bin('pgapply');
my $pgbundle = PgbTest::bin('pgbundle');
my $json = JSON::PP->new->utf8;
my $fx = PgbTest::tempdir();
my ($gc, $list, $gerr) = PgbTest::run('perl', "$root/tests/gen-hostile.pl", $fx, 'io');
is($gc, 0, 'the "io" fixtures are generated') or diag($gerr);

my $pg = PgbTest::Server->new;

sub tables {
	my ($db) = @_;
	return $pg->psql($db, "SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '') "
	    . "FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'");
}

sub history {
	my ($db) = @_;
	return $pg->psql($db, "SELECT coalesce(string_agg(version || ':' || status, ',' "
	    . "ORDER BY version), '') FROM pgbundle.history");
}

sub valid_utf8 {
	my ($s) = @_;
	return defined eval { Encode::decode('UTF-8', "$s", Encode::FB_CROAK) };
}

# Every line of $out is one JSON object in valid UTF-8; returns them.
sub json_lines {
	my ($name, $out) = @_;
	my @o;
	ok(length $out, "$name: prints JSON");
	for my $line (split /\n/, $out) {
		ok(valid_utf8($line), "$name: a --json line is valid UTF-8") or diag($line);
		my $v = eval { $json->decode($line) };
		ok(ref $v eq 'HASH', "$name: a --json line parses") or diag("$@: $line");
		push @o, $v if ref $v eq 'HASH';
	}
	return @o;
}

# Human output: valid UTF-8, and no control character but newline and tab.
sub harmless {
	my ($name, $text) = @_;
	ok(valid_utf8($text), "$name: valid UTF-8");
	my @bad = $text =~ /([\x00-\x08\x0b-\x1f\x7f])/g;
	ok(!@bad, "$name: no raw control character")
	    or diag(sprintf('found %s in: %s', join(' ', map { sprintf '0x%02x', ord } @bad), $text));
}

# --- a signed bundle whose text attacks the output -------------------------------
{
	my $db = $pg->createdb;
	my @cmd = ($pgapply, 'apply', "$fx/io-cut-escape.pgb", '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db));
	my ($code, $out, $err) = PgbTest::run(@cmd);
	is($code, 5, 'io-cut-escape: the failing statement exits 5');
	my ($first) = split /\n/, $err;
	is($first, "pgapply: migration '001_io_cut' failed at statement 1 of 1 "
	    . "(lib/\\x1b[2J\\x1b[31mforged\\x0apgapply: applied all.sql:1); it was rolled back",
	    'io-cut-escape: src= is shown with its ESC and newline escaped');
	harmless('io-cut-escape, stderr', $err);
	my $euro = "\xe2\x82\xac";
	like($err, qr/^  SQL: SELECT  '(?:$euro){50} \.\.\.$/m,
	    'io-cut-escape: the excerpt is cut before the character it would split');
	like($err, qr/^  SQLSTATE 22P02: invalid input syntax for type integer: "(?:$euro)+$/m,
	    'io-cut-escape: the server\'s message is cut on a character boundary');
	is(tables($db), '', 'io-cut-escape: nothing applied');
	is(history($db), '', 'io-cut-escape: no history row');

	($code, $out, $err) = PgbTest::run(@cmd, '--json');
	is($code, 5, 'io-cut-escape, --json: exits 5');
	my @o = json_lines('io-cut-escape', $out);
	my ($e) = grep { $_->{event} eq 'error' } @o;
	is($e->{message}, "migration '001_io_cut' failed at statement 1 of 1 "
	    . "(lib/\e[2J\e[31mforged\npgapply: applied all.sql:1); it was rolled back",
	    'io-cut-escape, --json: the message, its control characters escaped in JSON');
	like($out, qr/\\u001b\[2J/, 'io-cut-escape, --json: ESC written as \u001b');
	like($e->{detail}, qr/\nSQL: SELECT  '\x{20ac}{50} \.\.\.\z/,
	    'io-cut-escape, --json: the excerpt cut on a character boundary');
	is(history($db), '', 'io-cut-escape, --json: no history row');
}

# --- a history row whose name holds ESC sequences ------------------------------
{
	my $db = $pg->createdb;
	my $mig = Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n");
	my $bundle = Pgb::bundle($mig);
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 0, 'history name: a first migration applies') or diag($err);
	$pg->psql($db, "INSERT INTO pgbundle.history (version, name, checksum, bundle_id, chain, "
	    . "mode, status, statements_total, runtime_version) VALUES (99, "
	    . "E'x\\033]0;pwned\\007\\033[2J\\033[1A\\rpgapply: nothing to do\\n', 'sha256:00', 'b', "
	    . "'c', 'transaction', 'applied', 1, 'evil')");
	# pgapply never writes such a name, so the row is refused as corrupt
	# (056_history_rows.pl): the name is never printed, raw or escaped.
	my $corrupt = qr/^pgapply: corrupt history row for version 99: name is not at most 200 printable ASCII characters without blanks$/m;
	for my $cmd (qw(status apply)) {
		($code, $out, $err) = Pgb::pgapply($pg, $db, $cmd,
		    $cmd eq 'apply' ? $bundle : undef);
		is($code, 4, "history name: $cmd refuses the row");
		like($err, $corrupt, "history name: $cmd names the row, not the name")
		    or diag($err);
		harmless("history name, $cmd", $out . $err);
		($code, $out) = Pgb::pgapply($pg, $db, $cmd,
		    $cmd eq 'apply' ? $bundle : undef, '--json');
		is($code, 4, "history name: $cmd --json exits 4");
		my @o = json_lines("history name, $cmd", $out);
		my ($e) = grep { $_->{event} eq 'error' } @o;
		like($e->{message} // '', qr/corrupt history row for version 99/,
		    "history name: $cmd --json, the error event");
	}
	is(history($db), '1:applied,99:applied', 'history name: history unchanged');
	is(tables($db), 'a', 'history name: schema unchanged');
}

# --- an unverified manifest with bytes that are not UTF-8 ---------------------
{
	my ($code, $out, $err) = PgbTest::run($pgbundle, 'inspect', "$fx/io-manifest-bytes.pgb");
	is($code, 1, 'manifest bytes: inspect refuses it');
	is($err, "pgbundle: manifest line 4: unknown key '\\xff\\xfe\\xc3(evil\\xe2\\x82'\n",
	    'manifest bytes: each byte escaped on stderr');
	($code, $out, $err) = PgbTest::run($pgbundle, 'inspect', "$fx/io-manifest-bytes.pgb", '--json');
	is($code, 1, 'manifest bytes, --json: exit 1');
	my @o = json_lines('manifest bytes, inspect', $out);
	is(scalar @o, 1, 'manifest bytes, --json: one error object');
	is($o[0]{message}, "manifest line 4: unknown key '\x{fffd}\x{fffd}\x{fffd}(evil\x{fffd}\x{fffd}'",
	    'manifest bytes, --json: each invalid byte becomes U+FFFD');
}

# --- pgapply's own output fails ---------------------------------------------
# 001 sleeps, so that head has read the first line and gone, or the
# cancel request reaches it, before it ends; 002 must then never start.
my $slow = Pgb::bundle(Pgb::migrations(
    '001_slow.sql' => "CREATE TABLE slow ();\nSELECT pg_sleep(1.5);\n",
    '002_next.sql' => "CREATE TABLE next ();\n"));
my $io_msg = "pgapply: internal error: I/O on pgapply's own output: cannot write to";

{
	my $db = $pg->createdb;
	my ($code, $out, $err) = PgbTest::run('bash', '-c', 'set -o pipefail; "$@" | head -1',
	    'pipe', $pgapply, 'apply', $slow, '--pubkey', Pgb::pub(), '--db', $pg->connstr($db),
	    '--json');
	is($code, 1, '--json | head -1: exit 1, not SIGPIPE\'s 141') or diag($err);
	like($out, qr/^\{"event":"begin","version":1,/, '--json | head -1: head got the first event');
	is($err, "$io_msg stdout: Broken pipe\n  pgapply stopped as on SIGTERM: interrupted\n",
	    '--json | head -1: the message');
	is(history($db), '1:applied', '--json | head -1: the migration in flight finished');
	is(tables($db), 'slow', '--json | head -1: nothing new started');
}
{
	my $db = $pg->createdb;
	my ($code, $out, $err) = PgbTest::run('bash', '-c', '"$@" > /dev/full', 'full',
	    $pgapply, 'apply', $slow, '--pubkey', Pgb::pub(), '--db', $pg->connstr($db), '--json');
	is($code, 1, '--json > /dev/full: exit 1, not 0') or diag($err);
	like($err, qr/^\Q$io_msg\E stdout: No space left on device\n  pgapply stopped as on SIGTERM: migration '001_slow' failed at statement [12] of 2 /,
	    '--json > /dev/full: the message, then what was stopped') or diag($err);
	is(history($db), '', '--json > /dev/full: the migration in flight rolled back');
	is(tables($db), '', '--json > /dev/full: nothing applied');
}
{
	my $db = $pg->createdb;
	my ($code, $out, $err) = PgbTest::run('bash', '-c', '"$@" 2> /dev/full', 'full',
	    $pgapply, 'apply', $slow, '--pubkey', Pgb::pub(), '--db', $pg->connstr($db));
	is($code, 1, '2> /dev/full: a failed progress line stops the run, exit 1');
	is(history($db), '1:applied', '2> /dev/full: the migration that printed it stays');
	is(tables($db), 'slow', '2> /dev/full: nothing new started');
	($code, $out, $err) = PgbTest::run('bash', '-c', '"$@" > /dev/full', 'full',
	    $pgapply, 'status', '--db', $pg->connstr($db));
	is($code, 1, 'status > /dev/full: exit 1');
	is($err, "$io_msg stdout: No space left on device\n", 'status > /dev/full: the message');
}

# A pipe whose reading end is closed before the program starts.
sub run_into_closed_pipe {
	my (@cmd) = @_;
	my $errf = PgbTest::tempdir() . '/stderr';
	pipe(my $r, my $w) or die "pipe: $!";
	close($r);
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>&', $w) or POSIX::_exit(120);
		open(STDERR, '>', $errf) or POSIX::_exit(120);
		exec(@cmd) or POSIX::_exit(127);
	}
	close($w);
	waitpid($pid, 0);
	my $code = $? & 127 ? 128 + ($? & 127) : $? >> 8;
	return ($code, PgbTest::read_file($errf));
}

{
	my ($code, $err) = run_into_closed_pipe($pgbundle, 'inspect', $slow, '--json');
	is($code, 4, 'pgbundle inspect into a closed pipe: exit 4, not 141');
	is($err, "pgbundle: internal error: I/O on pgbundle's own output: cannot write to "
	    . "stdout: Broken pipe\n", 'pgbundle: the message');
	($code, undef, $err) = PgbTest::run('bash', '-c', '"$@" > /dev/full', 'full',
	    $pgbundle, 'inspect', $slow);
	is($code, 4, 'pgbundle inspect > /dev/full: exit 4');
	($code, $err) = run_into_closed_pipe($pgapply, 'verify', $slow, '--pubkey', Pgb::pub(),
	    '--json');
	is($code, 1, 'pgapply verify into a closed pipe: exit 1');
	($code, undef, $err) = PgbTest::run('bash', '-c', '"$@" > /dev/full', 'full',
	    $pgapply, '--help');
	is($code, 1, 'pgapply --help > /dev/full: exit 1');
}

# --- usage errors under --json --------------------------------------------
my @usage = (
    [$pgapply, ['apply', '--json'], 'apply needs a bundle FILE'],
    [$pgapply, ['apply', 'x.pgb', '--json', '--no-such-option'], "unknown option '--no-such-option'"],
    [$pgapply, ['apply', 'x.pgb', '--json', '--db'], "option '--db' needs a value"],
    [$pgapply, ['rollback', 'x.pgb', '--json'], 'rollback needs one of --to VERSION and --steps N'],
    [$pgapply, ['baseline', 'x.pgb', '--json'], 'baseline needs --version N'],
    [$pgapply, ['adopt', 'x.pgb', '--json'], 'adopt needs --from TOOL'],
    [$pgapply, ['apply', 'x.pgb', '--json', '--wait', 'soon'], "'soon' is not a number from 0 to 86400"],
    [$pgapply, ['apply', 'x.pgb', '--json', '--to', '-1'], "'-1' is not a version or count"],
    [$pgapply, ['apply', 'x.pgb', '--json', '--lock-timeout', '5 parsecs'],
	"--lock-timeout '5 parsecs' is not a duration: give milliseconds, or a number with a "
	. "unit (ms, s, min, h, d), from 0 to 2147483647 ms"],
    [$pgapply, ['apply', 'x.pgb', 'y.pgb', '--json'], "unexpected argument 'y.pgb'"],
    [$pgapply, ['status', '--json', '--db', 'a', '--db-file', 'b'], '--db and --db-file exclude each other'],
    [$pgapply, ['frobnicate', '--json'], "unknown command 'frobnicate'"],
    [$pgapply, ['apply', 'x.pgb', '--json', "--\e[31m"], "unknown option '--\e[31m'"],
    [$pgbundle, ['inspect', '--json'], 'inspect needs a bundle FILE'],
    [$pgbundle, ['check', '--json', '--no-such-option'], "unknown option '--no-such-option'"],
    [$pgbundle, ['check', '--json', '--db', 'a', '--scratch'], '--db and --scratch exclude each other'],
    [$pgbundle, ['check', '--json', '--db', 'a', '--db-file', 'b'], '--db and --db-file exclude each other'],
    [$pgbundle, ['check', '--json', '--through', 'x'], 'check does not take --through (only squash does)'],
    [$pgbundle, ['squash', '--through', 'x', '--json'], "--through 'x' is not a version"],
    [$pgbundle, ['squash', '--json'], 'squash does not take --json (check and inspect do)'],
    [$pgbundle, ['inspect', 'a', 'b', '--json'], "unexpected argument 'b'"],
    [$pgbundle, ['check', '--json', '--layout', 'rails'],
	"unknown layout 'rails' (pgbundle, golang-migrate, diesel, flyway, dbmate, goose, sql-migrate, prisma, atlas, sqitch, liquibase or auto)"],
    [$pgbundle, ['frobnicate', '--json'], "unknown command 'frobnicate'"],
);
for my $u (@usage) {
	my ($bin, $args, $msg) = @$u;
	my $name = ($bin =~ m{([^/]+)$})[0] . " @$args";
	$name =~ s/\e/ESC/g;
	my ($code, $out, $err) = PgbTest::run($bin, @$args);
	is($code, 2, "$name: exit 2");
	my @o = json_lines($name, $out);
	is(scalar @o, 1, "$name: one JSON object on stdout");
	is_deeply($o[0], { event => 'error', exit => 2, message => $msg,
	    detail => 'see ' . ($bin =~ m{([^/]+)$})[0] . ' --help' },
	    "$name: the usage error, as an error event") if @o;
	like($err, qr/^usage: /m, "$name: the usage on stderr");
	harmless("$name, stderr", $err);
}

done_testing();
