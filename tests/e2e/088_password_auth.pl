#!/usr/bin/perl
# 088_password_auth.pl - a wrong password (SQLSTATE 28P01 under
# scram-sha-256 in pg_hba.conf) will not heal by retrying: exit 8 at once,
# even under --wait, the server's reason in the message, the password in no
# output, and nothing changed in the database.
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time);
use JSON::PP ();
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new(hba => [
    'local all app scram-sha-256',
    'host all app 127.0.0.1/32 scram-sha-256',
]);
my $pgapply = PgbTest::bin('pgapply');
my $right = 'Right-horse-7';
my $wrong = 'Wr0ng-battery-staple-9';
my $db = $pg->createdb;
$pg->psql('postgres', "SET password_encryption = 'scram-sha-256'; "
    . "CREATE ROLE app LOGIN PASSWORD '$right'");
is($pg->psql('postgres', "SELECT substr(rolpassword, 1, 14) FROM pg_authid WHERE rolname = 'app'"),
    'SCRAM-SHA-256$', 'the role has a SCRAM secret');
my $b = Pgb::bundle(Pgb::migrations('001_a.sql' => "-- pgbundle:allow no-down\n"
    . "CREATE TABLE a ();\n"));
my $host = $pg->host;
my $port = $pg->port;
my $why = qq{password authentication failed for user "app"};

sub untouched {
	my ($name) = @_;
	is($pg->psql($db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgbundle'")
	    . $pg->psql($db, "SELECT count(*) FROM pg_tables WHERE tablename = 'a'"),
	    '00', "$name: the database is unchanged");
}

# The right password gets in, through each way the test uses: the role
# and pg_hba.conf are real.
{
	my ($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db',
	    "postgres://app:$right\@127.0.0.1:$port/$db");
	is($code, 0, 'the right password connects') or diag($err);
}

my @ways = (
    ['a URL over TCP', ['--db', "postgres://app:$wrong\@127.0.0.1:$port/$db"], {}],
    ['a conninfo over the socket', ['--db', "host=$host port=$port user=app "
	. "password=$wrong dbname=$db"], {}],
    ['PGPASSWORD', ['--db', "host=127.0.0.1 port=$port user=app dbname=$db"],
	{ PGPASSWORD => $wrong }],
);
for my $w (@ways) {
	my ($name, $args, $env) = @$w;
	for my $json (0, 1) {
		my $n = $name . ($json ? ', --json' : '');
		my $t0 = time;
		my ($code, $out, $err) = PgbTest::run({ env => $env }, $pgapply, 'apply', $b,
		    '--pubkey', Pgb::pub(), @$args, '--wait', '10', $json ? ('--json') : ());
		is($code, 8, "$n: exit 8 (will not heal by retrying)");
		ok(time - $t0 < 8, "$n: no retries under --wait");
		if ($json) {
			my ($e) = map { JSON::PP->new->decode($_) } grep { /"event":"error"/ }
			    split /\n/, $out;
			is($e && $e->{exit}, 8, "$n: one error object, exit 8") or diag($out);
			like($e && $e->{detail}, qr/\Q$why\E/, "$n: the error object says why");
		} else {
			like($err, qr/\Apgapply: cannot connect to the database\n  .*\Q$why\E/,
			    "$n: the message says why") or diag($err);
		}
		unlike($out . $err, qr/\Q$wrong\E/, "$n: the password is printed nowhere");
		untouched($n);
	}
}

done_testing();
