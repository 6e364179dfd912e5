#!/usr/bin/perl
# 087_pointed_messages.pl - messages that point at the cause: a signature
# that does not verify (the bundle changed after signing, or another key
# signed it) names both causes and the trusted keys; a failed verify query
# names its file:line and what it returned, on the pipelined path and the
# plain one; status names migrations the same way with or without FILE;
# rollback --json counts the down script's statements from its first
# event.
use strict;
use warnings;

use Test::More;
use Digest::SHA qw(sha256_hex);
use MIME::Base64 qw(decode_base64);
use JSON::PP;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $json = JSON::PP->new->utf8;
my $root = PgbTest::root();

# A key's id: the first 16 hex digits of SHA-256 over its raw 32 bytes.
sub key_id {
	my ($pub) = @_;
	my ($b64) = PgbTest::read_file($pub) =~ /-----\n(.*?)-----END/s;
	return substr(sha256_hex(substr(decode_base64($b64), -32)), 0, 16);
}

# A key file's label in a list of keys: a path over 40 bytes ends it.
sub label {
	my ($path) = @_;
	return length($path) > 40 ? '...' . substr($path, -37) : $path;
}

sub untouched {
	my ($db, $name) = @_;
	is($pg->psql($db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgbundle'"),
	    '0', "$name: the database is unchanged");
}

my $cause = 'the bundle or its signature changed after signing, or it was '
    . 'signed by a key not trusted here';

# --- a signature that does not verify ---------------------------------------------------
{
	my $m = Pgb::migrations('001_a.sql' => "-- pgbundle:allow no-down\nCREATE TABLE a ();\n");
	my $test_id = key_id(Pgb::pub());
	my $other_pub = "$root/tests/data/keys/other.pub";
	my $other_id = key_id($other_pub);
	my $want1 = "pgapply: signature does not match any trusted key\n  $cause\n"
	    . "  trusted key: $test_id (" . label(Pgb::pub()) . ")\n";

	# The bundle changed after signing.
	my $b = Pgb::bundle($m);
	my $bytes = PgbTest::read_file($b);
	substr($bytes, length($bytes) - 9, 1) ^= "\x01";
	PgbTest::write_file($b, $bytes);
	my $db = $pg->createdb;
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 3, 'changed after signing: exit 3');
	is($err, $want1, 'changed after signing: the exact message');
	untouched($db, 'changed after signing');

	# Signed by a key that is not trusted here.
	my $o = Pgb::bundle($m, '--key', "$root/tests/data/keys/other.key");
	($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $o);
	is($code, 3, 'another key signed it: exit 3');
	is($err, $want1, 'another key signed it: the same exact message');
	untouched($db, 'another key signed it');

	# Every trusted key is listed.
	($code, $out, $err) = PgbTest::run(PgbTest::bin('pgapply'), 'verify', $b,
	    '--pubkey', Pgb::pub(), '--pubkey', $other_pub);
	is($code, 3, 'two trusted keys: exit 3');
	is($err, "pgapply: signature does not match any trusted key\n  $cause\n"
	    . "  trusted keys: $test_id (" . label(Pgb::pub()) . "), $other_id ("
	    . label($other_pub) . ")\n", 'two trusted keys: both listed');

	# Under --json, the same as one error object.
	($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $o, '--json');
	is($code, 3, '--json: exit 3');
	my ($e) = map { $json->decode($_) } grep { /"event":"error"/ } split /\n/, $out;
	is($e->{detail}, "$cause\ntrusted key: $test_id (" . label(Pgb::pub()) . ")",
	    '--json: the cause and the keys in the detail');
}

# --- a verify query that is not true: its file:line and what it returned ----------------
{
	my @cases = (
	    ['SELECT count(*) = 2 FROM v', 'did not return true: it returned false'],
	    ['SELECT NULL::boolean', 'did not return true: it returned NULL'],
	    ['SELECT true WHERE false', 'did not return true: it returned no rows'],
	    ['SELECT true FROM generate_series(1, 3)', 'did not return true: it returned 3 rows'],
	    ['SELECT true, false', 'did not return true: it returns 2 columns, not 1, so it was not run'],
	    ['SELECT 1', "did not return true: it returned '1', not a boolean"],
	);
	for my $c (@cases) {
		my ($q, $what) = @$c;
		my $b = Pgb::bundle(Pgb::migrations('001_v.sql' => "-- pgbundle:allow no-down\n"
		    . "CREATE TABLE v (id int);\n-- verify: $q\n"));
		# Piped (the migration in one round trip, then again alone to
		# say how), and plain (--single-transaction runs no pipeline).
		for my $how ([], ['--single-transaction']) {
			my $name = "'$q'" . (@$how ? ' (plain)' : ' (piped)');
			my $db = $pg->createdb;
			my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $b, @$how);
			is($code, 5, "$name: exit 5");
			is($err, "pgapply: verify query 1 of '001_v' (migrations/001_v.sql:3) "
			    . "$what\n  SQL: $q\n", "$name: the exact message");
			is($pg->psql($db, "SELECT to_regclass('public.v') IS NULL"), 't',
			    "$name: the migration was rolled back");
			is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history'), '0',
			    "$name: no history row");
		}
	}

	# A verify query the server refuses: its words, and exit 5.
	my $q = 'SELECT count(*) = 0 FROM nosuch';
	my $b = Pgb::bundle(Pgb::migrations('001_v.sql' => "-- pgbundle:allow no-down\n"
	    . "-- verify: $q\nCREATE TABLE v (id int);\n"));
	for my $how ([], ['--single-transaction']) {
		my $name = 'an error' . (@$how ? ' (plain)' : ' (piped)');
		my $db = $pg->createdb;
		my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $b, @$how);
		is($code, 5, "$name: exit 5");
		is($err, "pgapply: verify query 1 of '001_v' (migrations/001_v.sql:2) failed\n"
		    . "  SQLSTATE 42P01: relation \"nosuch\" does not exist\n  SQL: $q\n",
		    "$name: the exact message");
		is($pg->psql($db, "SELECT to_regclass('public.v') IS NULL"), 't',
		    "$name: the migration was rolled back");
	}

	# The manifest carries the line.
	my ($code, $out) = PgbTest::run('tar', '-xzOf', $b, 'MANIFEST');
	like($out, qr/^verify \Q$q\E\nverify-line 2\n/m, 'the manifest says verify-line 2')
	    or diag($out);
}

# --- status names migrations the same way with or without FILE ---------------------------
{
	my $db = $pg->createdb;
	my $b = Pgb::bundle(Pgb::migrations(
	    '001_a.sql' => "-- pgbundle:allow no-down\nCREATE TABLE a ();\n",
	    '002_b.sql' => "-- pgbundle:allow no-down\nCREATE TABLE b ();\n",
	    '003_c.sql' => "-- pgbundle:allow no-down\nCREATE TABLE c ();\n"));
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'applied') or diag($err);
	my ($c1, $with) = Pgb::pgapply($pg, $db, 'status', $b);
	my ($c2, $without) = Pgb::pgapply($pg, $db, 'status', undef);
	is($c1 + $c2, 0, 'status with and without FILE: exit 0');
	my @names = map { [map { (split ' ')[1] } split /\n/, $_] } $with, $without;
	is_deeply($names[0], [qw(1_a 2_b 3_c)], 'with FILE: by version and name');
	is_deeply($names[1], $names[0], 'without FILE: the same names');
	$pg->psql($db, "DELETE FROM pgbundle.history WHERE version = 3");
	($code, $with) = Pgb::pgapply($pg, $db, 'status', $b);
	like($with, qr/^pending  3_c\s*$/m, 'a pending migration: named the same way');
}

# --- rollback --json: the down script's statement count, from its first event -----------
{
	my $db = $pg->createdb;
	my $b = Pgb::bundle(Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\nSELECT 1;\n",
	    '001_a.down.sql' => "DROP TABLE a;\nSELECT 1;\nSELECT 2;\n"));
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'applied') or diag($err);
	($code, $out, $err) = Pgb::pgapply($pg, $db, 'rollback', $b, '--steps', '1', '--json');
	is($code, 0, 'rolled back') or diag($err);
	my @ev = map { $json->decode($_) } split /\n/, $out;
	my ($begin) = grep { $_->{event} eq 'begin' } @ev;
	my ($done) = grep { $_->{event} eq 'reverted' } @ev;
	is($begin->{statements}, 3, 'begin: the down script\'s 3 statements, not the up script\'s 2');
	is($done->{statements}, 3, 'reverted: 3 statements');
	is($pg->psql($db, "SELECT to_regclass('public.a') IS NULL"), 't', 'the table is gone');
}

done_testing();
