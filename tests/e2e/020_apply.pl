#!/usr/bin/perl
# 020_apply.pl - the main job: compile the sample migrations/, apply them
# to a real server, status, plan, a second run with nothing to do, --to,
# --json, COPY data, verify queries and clean sessions between migrations.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $root = PgbTest::root();

# --- the sample application ------------------------------------------------
my $bundle = Pgb::bundle(Pgb::sample($pg), '--project', 'shop');
my $db = $pg->createdb;

my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'plan', $bundle);
is($code, 0, 'plan exits 0');
my @pending = $out =~ /^pending\s+(\S+)/mg;
is(scalar @pending, 13, 'plan lists 13 pending migrations');
is($pending[0], '001_create_accounts', 'plan starts with 001');
like($out, qr/^pending\s+012_orders_account_created_idx\s+no-transaction/m,
    'plan shows the no-transaction mode');
is($pg->psql($db, "SELECT to_regclass('pgbundle.history') IS NULL"), 't',
    'plan changes nothing (no history table)');

($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--to', '3');
is($code, 0, 'apply --to 3 exits 0') or diag($err);
is($pg->psql($db, 'SELECT max(version) FROM pgbundle.history'), '3',
    'apply --to stops at version 3');

($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
is($code, 0, 'apply exits 0') or diag($err);
like($err, qr/applied 010_account_plan_and_billing_email \(\d+ ms\)/,
    'one progress line per migration with its duration');
like($err, qr/applied 10 migrations/, 'summary counts the rest');
is($out, '', 'apply prints nothing on stdout without --json');
is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history WHERE status = '
    . "'applied'"), '13', 'history holds 13 applied rows');
is($pg->psql($db, 'SELECT count(*) FROM plans'), '3',
    'COPY FROM stdin data arrived');
is($pg->psql($db, "SELECT indisvalid FROM pg_index WHERE indexrelid = "
    . "'orders_account_created_idx'::regclass"), 't',
    'the concurrent index exists and is valid');
is($pg->psql($db, "SELECT mode FROM pgbundle.history WHERE version = 12"),
    'no-transaction', 'history records the mode');
like($pg->psql($db, "SELECT checksum FROM pgbundle.history WHERE version = 1"),
    qr/^sha256:[0-9a-f]{64}$/, 'history records the checksum with its algorithm');
is($pg->psql($db, "SELECT runtime_version FROM pgbundle.history LIMIT 1"),
    'pgapply 0.1.0', 'history records the runtime version');

($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
is($code, 0, 'second apply exits 0');
like($err, qr/nothing to do/, 'second apply has nothing to do');

($code, $out) = Pgb::pgapply($pg, $db, 'status', $bundle);
is($code, 0, 'status exits 0');
is(scalar(() = $out =~ /^applied /mg), 13, 'status shows 13 applied');

# A rebuilt bundle (new creation time, new bundle id) is still up to date.
my $again = PgbTest::tempdir() . '/again.pgb';
($code, undef, $err) = PgbTest::run({ env => { SOURCE_DATE_EPOCH => 1800000000 } },
    PgbTest::bin('pgbundle'), 'build', Pgb::sample($pg), '-o', $again,
    '--key', Pgb::key());
is($code, 0, 'rebuild with another creation time') or diag($err);
($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $again);
is($code, 0, 'a rebuilt bundle (new bundle id) finds nothing to do');
like($err, qr/nothing to do/, 'and says so');

# --- JSON events ------------------------------------------------------------
my $m = Pgb::migrations(
    '001_one.sql' => "CREATE TABLE one (id int);\n",
    '002_two.sql' => "CREATE TABLE two (id int);\n");
my $b2 = Pgb::bundle($m);
my $db2 = $pg->createdb;
($code, $out) = Pgb::pgapply($pg, $db2, 'apply', $b2, '--json');
is($code, 0, 'apply --json exits 0');
my @ev = split /\n/, $out;
is(scalar(grep { /^\{"event":"applied","version":\d+,"name":"\w+",.*"duration_ms":\d+\}$/ } @ev),
    2, 'one JSON "applied" event per migration');
like($ev[-1], qr/^\{"event":"summary","command":"apply","count":2\}$/,
    'a JSON summary event ends the run');
($code, $out) = Pgb::pgapply($pg, $db2, 'status', $b2, '--json');
is(scalar(grep { /"state":"applied"/ } split /\n/, $out), 2,
    'status --json');

# status without a bundle reads the history alone.
($code, $out) = PgbTest::run(PgbTest::bin('pgapply'), 'status', '--db',
    $pg->connstr($db2));
is($code, 0, 'status without a bundle exits 0');
like($out, qr/^applied\s+1_one/m, 'status without a bundle lists history');

# --- each migration starts from a clean session ------------------------------
# 40 ms: far below 002's sleep, far above what pgapply's own statements after
# 001 take even on a loaded machine (1 ms made them time out there).
$m = Pgb::migrations(
    '001_elsewhere.sql' => "CREATE SCHEMA other;\nSET search_path = other;\n"
	. "CREATE TABLE a (id int);\nSET statement_timeout = '40ms';\n",
    '002_default.sql' => "CREATE TABLE b (id int);\nSELECT pg_sleep(0.3);\n");
my $db3 = $pg->createdb;
($code, undef, $err) = Pgb::pgapply($pg, $db3, 'apply', Pgb::bundle($m));
is($code, 0, 'a SET in one migration does not break the next') or diag($err);
is($pg->psql($db3, "SELECT to_regclass('public.b') IS NOT NULL"), 't',
    'search_path is reset between migrations');
is($pg->psql($db3, "SELECT to_regclass('other.a') IS NOT NULL"), 't',
    'the migration itself kept its own search_path');

# --- DATABASE_URL and --wait -------------------------------------------------
my $db4 = $pg->createdb;
($code, undef, $err) = PgbTest::run({ env => { DATABASE_URL => $pg->url($db4) } },
    PgbTest::bin('pgapply'), 'apply', $b2, '--pubkey', Pgb::pub());
is($code, 0, 'DATABASE_URL is used when --db is absent') or diag($err);
is($pg->psql($db4, 'SELECT count(*) FROM pgbundle.history'), '2',
    'applied through DATABASE_URL');

($code, undef, $err) = PgbTest::run({ env => { PGHOST => $pg->host,
    PGPORT => $pg->port, PGUSER => 'postgres', PGDATABASE => $db4 } },
    PgbTest::bin('pgapply'), 'status', '--pubkey', Pgb::pub());
is($code, 0, "libpq's PG* variables are used without --db or DATABASE_URL");

done_testing();
