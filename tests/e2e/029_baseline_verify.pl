#!/usr/bin/perl
# 029_baseline_verify.pl - baseline --version N runs the verify queries of
# the migrations it records first: one that fails (false, or an error)
# refuses with exit 4 and leaves the database untouched (not even a
# history table); --no-verify records without them; queries that pass
# let it record, and ran in a transaction that was rolled back.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;

my $m = Pgb::migrations(
    '001_users.sql' => "-- pgbundle:allow no-down\n-- verify: SELECT to_regclass('users') IS NOT NULL\n"
        . "CREATE TABLE users (id int);\n",
    '002_email.sql' => "-- pgbundle:allow no-down\n"
        . "-- verify: SELECT count(*) = 1 FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'\n"
        . "ALTER TABLE users ADD COLUMN email text;\n",
    '003_orders.sql' => "-- pgbundle:allow no-down\nCREATE TABLE orders (id int);\n");
my $b = Pgb::bundle($m);

sub untouched {
	my ($db, $name) = @_;
	is($pg->psql($db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgbundle'"), '0',
	    "$name: no history schema or table");
}

# --- a verify query that returns false --------------------------------------------
my $db = $pg->createdb;
$pg->psql($db, 'CREATE TABLE users (id int)');	# 001 ran, 002 did not
my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'baseline', $b, '--version', '2');
is($code, 4, 'a verify query that is false: exit 4');
like($err, qr/^pgapply: verify query 1 of '002_email' \(migrations\/002_email\.sql:2\) did not return true: it returned false$/m, 'names the query and migration');
like($err, qr/^  SQL: SELECT count\(\*\) = 1 FROM pg_attribute WHERE attrelid = 'users'::regclass AND attname = 'email'$/m,
    'shows it');
like($err, qr/^  the database does not hold what the migration builds, so baseline records nothing; fix the database, or pass --no-verify to record the migrations without checking$/m,
    'says what to do');
untouched($db, 'false');

# --- a verify query that fails ------------------------------------------------------
my $db2 = $pg->createdb;
my $bx = Pgb::bundle(Pgb::migrations('001_x.sql' => "-- pgbundle:allow no-down\n"
    . "-- verify: SELECT count(*) = 0 FROM nosuch\nCREATE TABLE nosuch (id int);\n"));
($code, undef, $err) = Pgb::pgapply($pg, $db2, 'baseline', $bx, '--version', '1');
is($code, 4, 'a verify query that errors: exit 4');
like($err, qr/^pgapply: verify query 1 of '001_x' \(migrations\/001_x\.sql:2\) failed$/m, 'names it');
like($err, qr/^  SQLSTATE 42P01: relation "nosuch" does not exist$/m, 'with the server\'s words');
like($err, qr/baseline records nothing/, 'records nothing');
untouched($db2, 'error');
($code, $out, $err) = Pgb::pgapply($pg, $db2, 'baseline', $bx, '--version', '1', '--json');
like($out, qr/^\{"event":"error","exit":4,"message":"verify query 1 of '001_x' \(migrations\/001_x\.sql:2\) failed",.*"sqlstate":"42P01"/m,
    'and in JSON');

# --- --no-verify skips them ---------------------------------------------------------
($code, undef, $err) = Pgb::pgapply($pg, $db, 'baseline', $b, '--version', '2', '--no-verify');
is($code, 0, '--no-verify records anyway') or diag($err);
is($pg->psql($db, "SELECT string_agg(version || ':' || origin, ' ' ORDER BY version) FROM pgbundle.history"),
    '1:baseline 2:baseline', 'both versions');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b, '--no-verify');
is($code, 2, '--no-verify is for baseline only');

# --- queries that pass ------------------------------------------------------------------
my $db3 = $pg->createdb;
$pg->psql($db3, 'CREATE TABLE users (id int, email text); CREATE TABLE probe (n int)');
my $b2 = Pgb::bundle(Pgb::migrations(
    '001_users.sql' => "-- pgbundle:allow no-down\n-- verify: SELECT to_regclass('users') IS NOT NULL\n"
        . "-- verify: WITH x AS (INSERT INTO probe VALUES (1) RETURNING n) SELECT count(*) = 1 FROM x\n"
        . "CREATE TABLE users (id int);\n"));
($code, undef, $err) = Pgb::pgapply($pg, $db3, 'baseline', $b2, '--version', '1');
is($code, 0, 'verify queries that pass: baseline records') or diag($err);
like($err, qr/recorded 001_users as applied \(baseline\)/, 'says so');
is($pg->psql($db3, 'SELECT count(*) FROM probe'), '0', 'what the queries did was rolled back');

done_testing;
