#!/usr/bin/perl
# 059_secrets.pl - a password never reaches the output.  libpq's message
# about a conninfo or URL it cannot parse quotes pieces of it (a bad
# percent escape, the whole URL for an unclosed '['); pgapply, pgbundle
# check --db and pgbundle squash --db mask the password in it, on stderr
# and in --json, whether the conninfo came from --db, DATABASE_URL or
# --db-file.  --db-file reads the conninfo from a file (no password on
# the command line for ps to show), and its errors never quote the file.
use strict;
use warnings;

use JSON::PP ();
use Test::More;
use PgbTest;
use Pgb;

my $pgapply = PgbTest::bin('pgapply');
my $pgbundle = PgbTest::bin('pgbundle');
my $tmp = PgbTest::tempdir();
my $json = JSON::PP->new->utf8;

my $pw = 'Sup3rSecret';
# [name, conninfo, pgapply's exit (8: retrying will not make it), the
# detail pgapply gives, what must not show]
my @cases = (
    ['bad percent escape in the password', "postgres://u:$pw%ZZ\@db.example/app", 8,
	'invalid percent-encoded token: "***"', "$pw%ZZ", $pw],
    ['unclosed [ of an IPv6 host', "postgres://u:$pw\@[::1/app", 8,
	'end of string reached when looking for matching "]" in IPv6 host '
	. 'address in URI: "postgres://u:***@[::1/app"', $pw],
    ['unclosed [, the password percent-encoded', "postgresql://u:p%40ss$pw\@[::1", 8,
	'end of string reached when looking for matching "]" in IPv6 host '
	. 'address in URI: "postgresql://u:***@[::1"', "p%40ss$pw", "p\@ss$pw", $pw],
    ['unknown URI parameter', "postgres://u:$pw\@db.example/app?bogus=1", 8,
	'invalid URI query parameter: "bogus"', $pw],
    ['bad port', "postgres://u:$pw\@127.0.0.1:99x/app", 75,
	'invalid integer value "99x" for connection option "port"', $pw],
    ['password in the query, bad escape', "postgres://u\@db.example/app?password=$pw%G1", 8,
	'invalid percent-encoded token: "***"', "$pw%G1", $pw],
    ['key=value, unknown keyword', "host=db.example password=$pw bogus=1", 8,
	'invalid connection option "bogus"', $pw],
    ['key=value, quote left open', "host=db.example password='$pw", 8,
	'unterminated quoted string in connection info string', $pw],
);

sub no_secret {
	my ($name, $text, @secrets) = @_;
	my @found = grep { index($text, $_) >= 0 } @secrets;
	ok(!@found, "$name: the password does not show") or diag($text);
}

# Every line of $out parses as JSON; returns the objects.
sub objects {
	my ($name, $out) = @_;
	my @o;
	for my $line (split /\n/, $out) {
		my $v = eval { $json->decode($line) };
		ok(defined $v, "$name: stdout line parses as JSON") or diag("$@: $line");
		push @o, $v if defined $v;
	}
	return @o;
}

for my $c (@cases) {
	my ($name, $ci, $exit, $detail, @secrets) = @$c;
	my ($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db', $ci);
	is($code, $exit, "$name: pgapply exits $exit");
	is($err, "pgapply: cannot connect to the database\n  $detail\n",
	    "$name: the message, masked");
	no_secret($name, $out . $err, @secrets);

	($code, $out, $err) = PgbTest::run($pgapply, 'status', '--json', '--db', $ci);
	is($code, $exit, "$name, --json: exits $exit");
	no_secret("$name, --json", $out . $err, @secrets);
	my @o = objects("$name, --json", $out);
	is(scalar @o, 1, "$name, --json: one error object");
	is($o[0]{detail}, $detail, "$name, --json: the detail, masked") if @o;

	($code, $out, $err) = PgbTest::run({ env => { DATABASE_URL => $ci } },
	    $pgapply, 'status', '--json');
	is($code, $exit, "$name, DATABASE_URL: exits $exit");
	no_secret("$name, DATABASE_URL", $out . $err, @secrets);

	my $file = PgbTest::write_file("$tmp/db$code" . length($name), "$ci\n");
	($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db-file', $file);
	is($code, $exit, "$name, --db-file: exits $exit");
	no_secret("$name, --db-file", $out . $err, @secrets);
}

# pgbundle's commands that take --db say the same, masked.
my $mig = Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n",
    '001_a.down.sql' => "DROP TABLE a;\n");
for my $c (@cases[0, 1]) {
	my ($name, $ci, $exit, $detail, @secrets) = @$c;
	my ($code, $out, $err) = PgbTest::run($pgbundle, 'check', $mig, '--db', $ci);
	is($code, 2, "check --db, $name: exit 2 (unusable conninfo)");
	like($err, qr/^pgbundle: cannot connect to the database\n  detail: \Q$detail\E$/m,
	    "check --db, $name: the message, masked") or diag($err);
	no_secret("check --db, $name", $out . $err, @secrets);
	($code, $out, $err) = PgbTest::run($pgbundle, 'check', $mig, '--json', '--db', $ci);
	is($code, 2, "check --db --json, $name: exit 2");
	no_secret("check --db --json, $name", $out . $err, @secrets);
	my @o = objects("check --db --json, $name", $out);
	# check's one object says why it stopped in its "error" member.
	is($o[0]{error}{detail}, $detail, "check --db --json, $name: the detail, masked") if @o;
	my $arch = PgbTest::tempdir();
	($code, $out, $err) = PgbTest::run($pgbundle, 'squash', $mig, '--through', '1',
	    '--archive', $arch, '--db', $ci);
	is($code, 2, "squash --db, $name: exit 2");
	no_secret("squash --db, $name", $out . $err, @secrets);
}

# --- --db-file -------------------------------------------------------------------
my $pg = PgbTest::Server->new;
my $db = $pg->createdb;
my $bundle = Pgb::bundle($mig);
{
	my $file = PgbTest::write_file("$tmp/conninfo", $pg->connstr($db) . "\r\nignored\n");
	my ($code, $out, $err) = PgbTest::run($pgapply, 'apply', $bundle,
	    '--pubkey', Pgb::pub(), '--db-file', $file);
	is($code, 0, 'pgapply apply --db-file applies') or diag($err);
	is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history'), '1',
	    'to the database the file names');
	($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db-file', $file);
	is($code, 0, 'pgapply status --db-file') or diag($err);
	like($out, qr/^applied\s+1_a\s/m, 'shows the history');

	my $url = PgbTest::write_file("$tmp/url", $pg->url($db) . "\n");
	($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db-file', $url);
	is($code, 0, 'a URL in the file works too') or diag($err);

	($code, $out, $err) = PgbTest::run($pgbundle, 'check', $mig, '--db-file', $file);
	is($code, 0, 'pgbundle check --db-file proves on that server') or diag($err);
	like($err, qr/1 migration proven on a scratch database/, 'and says so');
	is($pg->psql('postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgbundle_scratch%'"),
	    '0', 'leaving no scratch database');

	($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db-file', "$tmp/missing");
	is($code, 2, 'a missing --db-file is a usage error');
	is($err, "pgapply: cannot read connection file '$tmp/missing': No such file or directory\n",
	    'naming the file');
	my $empty = PgbTest::write_file("$tmp/empty", "\n$pw\n");
	($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db-file', $empty);
	is($code, 2, 'an empty first line is a usage error');
	is($err, "pgapply: connection file '$empty' does not hold a conninfo or URL on its first line\n",
	    'without quoting the file');
	my $big = PgbTest::write_file("$tmp/big", "password=$pw " . ('x' x 9000) . "\n");
	($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db-file', $big);
	is($code, 2, 'a --db-file over 8192 bytes is refused');
	like($err, qr/^pgapply: connection file '\Q$big\E' is \d+ bytes, over the limit of 8192$/m,
	    'with its size');
	no_secret('an oversize --db-file', $err, $pw);
	($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db-file', $tmp);
	is($code, 2, 'a directory as --db-file is refused');
	like($err, qr/is not a regular file/, 'as not a regular file');
	($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db', 'x', '--db-file', $file);
	is($code, 2, '--db and --db-file together: usage error');
	like($err, qr/^pgapply: --db and --db-file exclude each other$/m, 'saying so');
	is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history'), '1',
	    'the refusals changed nothing');
}

done_testing();
