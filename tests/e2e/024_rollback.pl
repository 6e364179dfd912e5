#!/usr/bin/perl
# 024_rollback.pl - going back and moving over: rollback (--to, --steps,
# plan), its refusals (missing down scripts named, drift, a no-transaction
# migration whose down script is not idempotent), baseline, and adopt from
# golang-migrate, dbmate, Flyway and hand-made history tables.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $root = PgbTest::root();

sub history {
	my ($db) = @_;
	return $pg->psql($db, "SELECT coalesce(string_agg(version::text, ',' ORDER BY version), '') "
	    . "FROM pgbundle.history");
}

# --- the sample schema: down to zero and up again ----------------------------------
{
	my $b = Pgb::bundle(Pgb::sample($pg));
	my $db = $pg->createdb;
	my $empty = $pg->dump_schema($db);
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'sample: applied');
	my $full = $pg->dump_schema($db, exclude_schema => ['pgbundle']);

	my $out;
	($code, $out, $err) = Pgb::pgapply($pg, $db, 'plan', $b, '--to', '10');
	is($code, 0, 'plan --to below the database exits 0');
	is(join(',', $out =~ /^down\s+(\d+)_/mg), '013,012,011', 'plan shows the downs, newest first');
	is(history($db), join(',', 1 .. 13), 'plan changed nothing');

	($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', $b, '--steps', '2');
	is($code, 0, 'rollback --steps 2') or diag($err);
	like($err, qr/reverted 013_orders_row_level_security \(\d+ ms\)\n.*reverted 012_/s,
	    'one line per reverted migration, newest first');
	is(history($db), join(',', 1 .. 11), 'two history rows gone');
	is($pg->psql($db, "SELECT to_regclass('orders_account_created_idx') IS NULL"), 't',
	    'the no-transaction migration was undone');

	($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', $b, '--to', '0');
	is($code, 0, 'rollback --to 0') or diag($err);
	is(history($db), '', 'no history left');
	is($pg->dump_schema($db, exclude_schema => ['pgbundle']), $empty,
	    'the schema is empty again');

	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'and up again') or diag($err);
	is($pg->dump_schema($db, exclude_schema => ['pgbundle']), $full,
	    'leaves the same schema as the first time');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', $b, '--to', '13');
	is($code, 0, 'rollback to the current version');
	like($err, qr/nothing to roll back/, 'has nothing to do');
}

# --- refusals -----------------------------------------------------------------
{
	my $m = Pgb::migrations(
	    '001_a.sql' => "CREATE TABLE a ();\n", '001_a.down.sql' => "DROP TABLE a;\n",
	    '002_b.sql' => "CREATE TABLE b ();\n",
	    '003_c.sql' => "CREATE TABLE c ();\n",
	    '004_d.sql' => "CREATE TABLE d ();\n", '004_d.down.sql' => "DROP TABLE d;\n");
	my $b = Pgb::bundle($m);
	my $db = $pg->createdb;
	Pgb::pgapply($pg, $db, 'apply', $b);
	my $before = $pg->dump_schema($db);
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', $b, '--to', '0');
	is($code, 4, 'missing down scripts: exit 4');
	like($err, qr/no down script for '003_c', '002_b'/, 'names every missing down script');
	is($pg->dump_schema($db), $before, 'and changes nothing (004 not reverted either)');

	($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', $b, '--steps', '1', '--json');
	is($code, 0, 'rollback --steps 1 needs only the last down script');

	PgbTest::write_file("$m/001_a.sql", "CREATE TABLE a (id int);\n");
	Pgb::sum_fix($m);
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', Pgb::bundle($m), '--to', '2');
	is($code, 4, 'drift: rollback refuses');
	like($err, qr/checksum mismatch for applied migration '001_a'/, 'names the drifted migration');

	my $n = Pgb::migrations(
	    '001_t.sql' => "CREATE TABLE t (a int);\n", '001_t.down.sql' => "DROP TABLE t;\n",
	    '002_idx.sql' => "-- pgbundle:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_a ON t (a);\n",
	    '002_idx.down.sql' => "-- pgbundle:no-transaction\nDROP INDEX CONCURRENTLY t_a;\n");
	my $db2 = $pg->createdb;
	my ($c2) = Pgb::pgapply($pg, $db2, 'apply', Pgb::bundle($n));
	($code, undef, $err) = Pgb::pgapply($pg, $db2, 'rollback', Pgb::bundle($n), '--to', '0');
	is($code, 4, 'a no-transaction migration whose down script is not idempotent: exit 4');
	like($err, qr/cannot roll back no-transaction migration '002_idx': its down script is not idempotent/,
	    'says why');
	is(history($db2), '1,2', 'and changes nothing');
	PgbTest::write_file("$n/002_idx.down.sql", "-- pgbundle:no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS t_a;\n");
	($code, undef, $err) = Pgb::pgapply($pg, $db2, 'rollback', Pgb::bundle($n), '--to', '0');
	is($code, 0, 'with IF EXISTS it rolls back') or diag($err);

	my $f = Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n",
	    '001_a.down.sql' => "DROP TABLE a;\nSELECT 1/0;\n");
	my $db3 = $pg->createdb;
	Pgb::pgapply($pg, $db3, 'apply', Pgb::bundle($f));
	($code, undef, $err) = Pgb::pgapply($pg, $db3, 'rollback', Pgb::bundle($f), '--to', '0');
	is($code, 5, 'a failing down script exits 5');
	like($err, qr/down script of '001_a' failed at statement 2 of 2 \(migrations\/001_a\.down\.sql:2\)/,
	    'names the down script, statement and line');
	is($pg->psql($db3, "SELECT to_regclass('a') IS NOT NULL"), 't', 'and rolls back its transaction');
	is(history($db3), '1', 'the history row stays');
}

# --- baseline ---------------------------------------------------------------------
{
	my $m = Pgb::migrations(map { (sprintf('%03d_t%d.sql', $_, $_) => "CREATE TABLE t$_ ();\n") } 1 .. 4);
	my $b = Pgb::bundle($m);
	my $db = $pg->createdb;
	$pg->psql($db, 'CREATE TABLE t1 (); CREATE TABLE t2 ();');
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'baseline', $b, '--version', '2');
	is($code, 0, 'baseline --version 2') or diag($err);
	like($err, qr/recorded 002_t2 as applied \(baseline\)/, 'says what it recorded');
	is(history($db), '1,2', 'versions 1 and 2 are recorded');
	is($pg->psql($db, "SELECT string_agg(DISTINCT origin, ',') FROM pgbundle.history"), 'baseline',
	    'marked as baseline in the history');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'apply continues after the baseline') or diag($err);
	is(history($db), '1,2,3,4', 'and runs only 3 and 4');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'baseline', $b, '--version', '2');
	is($code, 4, 'baseline on a database with history past N: exit 4');
	like($err, qr/database already has history past 2: migration 4 't4'/, 'says so');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'baseline', $b, '--version', '7');
	is($code, 2, 'baseline at a version the bundle lacks is a usage error');
}

# --- adopt ------------------------------------------------------------------------
my $m = Pgb::migrations(map { (sprintf('%03d_t%d.sql', $_, $_) => "CREATE TABLE t$_ ();\n") } 1 .. 4);
my $b = Pgb::bundle($m);

sub adopt_case {
	my ($name, $setup, $tool, $want, @opts) = @_;
	my $db = $pg->createdb;
	$pg->psql($db, $setup);
	my $foreign = $pg->dump_schema($db, data => 1);
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'adopt', $b, '--from', $tool, @opts);
	if ($want =~ /^\d/) {
		is($code, 0, "adopt $name") or diag($err);
		is(history($db), $want, "adopt $name: records $want");
		is($pg->dump_schema($db, data => 1, exclude_schema => ['pgbundle']), $foreign,
		    "adopt $name: the other tool's table is untouched");
		($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
		is($code, 0, "adopt $name: apply continues") or diag($err);
	} else {
		is($code, 4, "adopt $name: refused with exit 4");
		like($err, qr/$want/, "adopt $name: says why");
		is($pg->psql($db, "SELECT to_regclass('pgbundle.history') IS NULL"), 't',
		    "adopt $name: nothing recorded");
	}
}

my $t12 = 'CREATE TABLE t1 (); CREATE TABLE t2 ();';
adopt_case('golang-migrate', "$t12 CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);"
    . " INSERT INTO schema_migrations VALUES (2, false);", 'golang-migrate', '1,2');
adopt_case('golang-migrate dirty', "$t12 CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL);"
    . " INSERT INTO schema_migrations VALUES (2, true);", 'golang-migrate', 'marks the database dirty at version 2');
adopt_case('dbmate', "$t12 CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);"
    . " INSERT INTO schema_migrations VALUES ('1'), ('2');", 'dbmate', '1,2');
adopt_case('dbmate with a version the bundle lacks', "$t12 CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);"
    . " INSERT INTO schema_migrations VALUES ('1'), ('2'), ('9');", 'dbmate', 'ran version 9, which the bundle does not hold');
adopt_case('custom schema_version', "$t12 CREATE TABLE schema_version (version integer, description text, applied_at timestamptz);"
    . " INSERT INTO schema_version VALUES (1, 'one', now()), (2, 'two', now());", 'custom', '1,2');
adopt_case('custom schema_migrations', "CREATE TABLE t1 (); CREATE TABLE schema_migrations (version integer, description text, applied_at timestamptz);"
    . " INSERT INTO schema_migrations VALUES (1, 'one', now());", 'custom', '1', '--table', 'schema_migrations');

# A Flyway history with a failed row is refused before anything is read
# further (Flyway's version labels map as include/version.h says).
adopt_case('flyway failed', "$t12 CREATE TABLE flyway_schema_history (installed_rank int, version varchar(50),"
    . " description varchar(200), type varchar(20), script varchar(1000), checksum int, installed_by varchar(100),"
    . " installed_on timestamp DEFAULT now(), execution_time int, success boolean);"
    . " INSERT INTO flyway_schema_history VALUES (1, '1', 'one', 'SQL', 'V1__one.sql', 0, 'x', now(), 1, false);",
    'flyway', "Flyway marks version '1' failed");

done_testing();
