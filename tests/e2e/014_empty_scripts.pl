#!/usr/bin/perl
# 014_empty_scripts.pl - scripts that hold only comments are valid, as
# psql, Diesel, golang-migrate and dbmate run them: an empty up is a
# migration of zero statements (applied, recorded and checksummed like any
# other, on every path of the runtime), an empty down a no-op down; both
# are linted (empty-up, empty-down), and check --db still names a down
# script that leaves objects behind.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $pgbundle = PgbTest::bin('pgbundle');
my $root = PgbTest::root();
my $diesel_down = "-- This file should undo anything in `up.sql`\n";

sub history {
	my ($db, $col) = @_;
	return $pg->psql($db, "SELECT coalesce(string_agg($col, ',' ORDER BY version), '') "
	    . 'FROM pgbundle.history');
}

my $dir = Pgb::migrations(
    '001_users.sql' => "CREATE TABLE users (id int);\n",
    '001_users.down.sql' => "DROP TABLE users;\n",
    '002_placeholder.sql' => "-- kept for the numbering\n\n/* nothing */\n",
    '002_placeholder.down.sql' => $diesel_down,
    '003_orders.sql' => "CREATE TABLE orders (id int);\n",
    '003_orders.down.sql' => '',
    '004_checked.sql' => "-- verify: SELECT count(*) = 0 FROM users\n",
    '004_checked.down.sql' => "-- nothing to undo\n",
    '005_wrapped.sql' => "-- pgbundle:no-transaction\n-- nothing to do\n",
    '005_wrapped.down.sql' => "BEGIN;\n-- nothing\nCOMMIT;\n");

# --- the compiler: accepted, linted ---------------------------------------------
my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir);
is($code, 0, 'a folder with empty scripts checks') or diag($err);
like($err, qr{^\Q$dir\E/002_placeholder\.sql:1: warning: migration has no statements: applying it changes nothing \[empty-up\]$}m,
    'an empty up is linted: empty-up');
like($err, qr{^\Q$dir\E/002_placeholder\.down\.sql:1: warning: down script has no statements: rolling back this migration changes nothing \[empty-down\]$}m,
    "Diesel's default down.sql is linted: empty-down");
like($err, qr{^\Q$dir\E/003_orders\.down\.sql:1: warning: down script has no statements: rolling back this migration changes nothing \[empty-down\]$}m,
    'so is a zero-byte down script');
like($err, qr{^\Q$dir\E/005_wrapped\.down\.sql:1: warning: down script has no statements}m,
    'and a BEGIN ... COMMIT wrapper around nothing');
($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir, '--strict');
is($code, 1, '--strict makes them errors');
like($err, qr{/002_placeholder\.sql:1: error: migration has no statements: applying it changes nothing \[empty-up\]}, 'with the same words');
{
	my $quiet = Pgb::migrations('001_a.sql' => "-- pgbundle:allow empty-up\n",
	    '001_a.down.sql' => "-- pgbundle:allow empty-down\n");
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $quiet, '--strict');
	is($code, 0, 'pgbundle:allow empty-up, empty-down silence them') or diag($err);
}

my $bundle = Pgb::bundle($dir);
($code, undef, $err) = PgbTest::run(PgbTest::bin('pgapply'), 'verify', $bundle, '--pubkey', Pgb::pub());
is($code, 0, 'pgapply verify accepts the bundle (a zero-byte entry among them)') or diag($err);
my (undef, $man) = PgbTest::run('tar', '-xzOf', $bundle, 'MANIFEST');
like($man, qr/^migration 2 placeholder\nfile migrations\/002_placeholder\.sql\nsha256 [0-9a-f]{64}\nsize \d+\nmode transaction\nchain [0-9a-f]{64}\ndown /m,
    'the empty up ships with its checksum and no statement');
like($man, qr{^down migrations/003_orders\.down\.sql e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 0 transaction idempotent$}m,
    'the zero-byte down ships, checksummed');

# --- the runtime: plan, apply (pipelined, one-by-one, no-transaction), status -----
my $db = $pg->createdb;
my $out;
($code, $out, $err) = Pgb::pgapply($pg, $db, 'plan', $bundle);
is($code, 0, 'plan') or diag($err);
like($out, qr/^pending  002_placeholder\s+transaction\s+0 statements$/m, 'plan shows 0 statements');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
is($code, 0, 'apply runs the empty migrations') or diag($err);
like($err, qr/applied 5 migrations/, 'all five');
is(history($db, 'version::text'), '1,2,3,4,5', 'every one is recorded');
is(history($db, 'statements_total::text'), '1,0,1,0,0', 'with zero statements');
is(history($db, 'mode'), 'transaction,transaction,transaction,transaction,no-transaction',
    'in its mode');
my $sha = $pg->psql($db, "SELECT checksum FROM pgbundle.history WHERE version = 2");
like($man, qr/^sha256 \Q@{[substr($sha, 7)]}\E$/m, 'and its checksum');
($code, $out, $err) = Pgb::pgapply($pg, $db, 'status', $bundle);
is($code, 0, 'status') or diag($err);
like($out, qr/^applied  2_placeholder /m, 'shows it applied');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
like($err, qr/nothing to do/, 'a second apply has nothing to do');
{
	my $one = $pg->createdb;
	($code, undef, $err) = Pgb::pgapply($pg, $one, 'apply', $bundle, '--single-transaction',
	    '--to', '4');
	is($code, 0, '--single-transaction with empty migrations') or diag($err);
	is(history($one, 'version::text'), '1,2,3,4', 'recorded');
}

# --- rollback: an empty down is a no-op down --------------------------------------
($code, $out, $err) = Pgb::pgapply($pg, $db, 'plan', $bundle, '--to', '2');
like($out, qr/^down     003_orders\s+transaction\s+0 statements$/m, 'plan shows the no-op down');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', $bundle, '--to', '2');
is($code, 0, 'rollback through empty down scripts') or diag($err);
like($err, qr/\Qreverted 003_orders\E/, 'the empty down counts as reverted');
is(history($db, 'version::text'), '1,2', 'their rows are gone');
is($pg->psql($db, "SELECT to_regclass('orders') IS NOT NULL"), 't',
    'and what the up created is still there: the down changed nothing');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', $bundle, '--to', '0');
is($code, 0, 'rolling back the empty up and the real one') or diag($err);
is(history($db, 'version::text'), '', 'no history left');

# --- check --db still names a down script that leaves objects behind -------------
($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir, '--db', $pg->url);
is($code, 1, 'check --db: the empty down of a migration that creates a table');
like($err, qr{^\Q$dir\E/003_orders\.down\.sql:1: error: down script leaves table 'orders'$}m,
    'is an error naming what it leaves') or diag($err);
unlike($err, qr{002_placeholder\.down\.sql:\d+: error}, 'the empty down of an empty up is not');

# --- dbmate: an empty down section is a no-op down ---------------------------------
{
	my $m = Pgb::migrations('20230101000000_a.sql' => "-- migrate:up\nCREATE TABLE a (id int);\n"
	    . "-- migrate:down\n");
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m);
	like($err, qr{/20230101000000_a\.sql:3: warning: down script has no statements: rolling back this migration changes nothing \[empty-down\]},
	    'dbmate: an empty down section is linted at its marker');
	my $b = Pgb::bundle($m);
	my (undef, $list) = PgbTest::run('tar', '-tzf', $b);
	like($list, qr{^migrations/20230101000000_a\.down\.sql$}m, 'and ships as a down script');
	my $d2 = $pg->createdb;
	Pgb::pgapply($pg, $d2, 'apply', $b);
	($code, undef, $err) = Pgb::pgapply($pg, $d2, 'rollback', $b, '--steps', '1');
	is($code, 0, 'which rolls back as dbmate would: changing nothing') or diag($err);
	is($pg->psql($d2, "SELECT to_regclass('a') IS NOT NULL"), 't', 'the table stays');
}

# --- Diesel: a folder whose down.sql files are Diesel's untouched default -----------
{
	my $setup = PgbTest::read_file("$root/tests/data/layouts/diesel/00000000000000_diesel_initial_setup/up.sql");
	my $m = Pgb::migrations(
	    '00000000000000_diesel_initial_setup/up.sql' => $setup,
	    '00000000000000_diesel_initial_setup/down.sql' => $diesel_down,
	    '2024-01-01-000000_create_posts/up.sql' => "CREATE TABLE posts (id SERIAL PRIMARY KEY, title VARCHAR NOT NULL);\n",
	    '2024-01-01-000000_create_posts/down.sql' => $diesel_down);
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m);
	is($code, 0, 'a Diesel folder with default down.sql files checks') or diag($err);
	like($err, qr{/2024-01-01-000000_create_posts/down\.sql:1: warning: down script has no statements: rolling back this migration changes nothing \[empty-down\]},
	    'each default down.sql is linted, at the real file');
	my $b = Pgb::bundle($m);
	my $d = $pg->createdb;
	($code, undef, $err) = Pgb::pgapply($pg, $d, 'apply', $b);
	is($code, 0, 'applied') or diag($err);
	($code, undef, $err) = Pgb::pgapply($pg, $d, 'rollback', $b, '--steps', '2');
	is($code, 0, 'rolled back, as diesel migration revert runs a comment') or diag($err);
	is(history($d, 'version::text'), '', 'the history is gone');
	is($pg->psql($d, "SELECT to_regclass('posts') IS NOT NULL"), 't', 'the table stays, as with Diesel');
}

done_testing();
