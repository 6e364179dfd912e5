#!/usr/bin/perl
# 027_foreign_history.pl - another tool's history is never ignored.
# pgapply apply on a database with no pgbundle history but another tool's
# history table refuses (exit 4, the database untouched), naming the
# table and the command that adopts it; apply --adopt-from TOOL adopts and
# applies in one run under one lock, and does nothing more where there is
# nothing to adopt.  adopt --from diesel, alembic (--map), goose, prisma,
# atlas, and the other tool's applied-at time kept.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $root = PgbTest::root();

sub history {
	my ($db) = @_;
	return $pg->psql($db, "SELECT coalesce(string_agg(version::text || ':' || origin, ',' "
	    . "ORDER BY version), '') FROM pgbundle.history");
}

my $bundle = Pgb::bundle(Pgb::migrations(
    '001_a.sql' => "CREATE TABLE a (id int);\n",
    '002_b.sql' => "CREATE TABLE b (id int);\n",
    '003_c.sql' => "CREATE TABLE c (id int);\n"));
my $ab = 'CREATE TABLE a (id int); CREATE TABLE b (id int);';

# table => [tool named, its DDL and rows, the command's extra words]
my @tables = (
    ['public.schema_migrations', 'golang-migrate',
	'CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);'
	. ' INSERT INTO schema_migrations VALUES (2, false);', ''],
    ['public.schema_migrations', 'dbmate',
	'CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);'
	. " INSERT INTO schema_migrations VALUES ('1'), ('2');", ''],
    ['public.gorp_migrations', 'sql-migrate',
	'CREATE TABLE gorp_migrations (id text PRIMARY KEY, applied_at timestamptz);'
	. " INSERT INTO gorp_migrations VALUES ('1_a.sql', now());", ''],
    ['sqitch.changes', 'sqitch',
	'CREATE SCHEMA sqitch; CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, change text NOT NULL,'
	. ' project text NOT NULL, committed_at timestamptz NOT NULL DEFAULT clock_timestamp());'
	. " INSERT INTO sqitch.changes VALUES ('x', 'a', 'app');", ''],
    ['public.flyway_schema_history', 'flyway',
	'CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50),'
	. ' description varchar(200), type varchar(20), script varchar(1000), checksum int,'
	. ' installed_by varchar(100), installed_on timestamp DEFAULT now(), execution_time int, success boolean);'
	. " INSERT INTO flyway_schema_history VALUES (1, '1', 'a', 'SQL', 'V1__a.sql', 0, 'x', now(), 1, true);", ''],
    ['public.__diesel_schema_migrations', 'diesel',
	'CREATE TABLE __diesel_schema_migrations (version varchar(50) PRIMARY KEY,'
	. ' run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP);'
	. " INSERT INTO __diesel_schema_migrations (version) VALUES ('1');", ''],
    ['public.alembic_version', 'alembic',
	'CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);'
	. " INSERT INTO alembic_version VALUES ('ae1027a6acf');", ' --map FILE'],
    ['public.goose_db_version', 'goose',
	'CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL,'
	. ' is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());'
	. ' INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true), (1, true);', ''],
    ['public.databasechangelog', 'liquibase',
	'CREATE TABLE databasechangelog (id varchar(255) NOT NULL, author varchar(255) NOT NULL,'
	. ' filename varchar(255) NOT NULL, dateexecuted timestamp NOT NULL, orderexecuted int NOT NULL,'
	. ' exectype varchar(10) NOT NULL, md5sum varchar(35));'
	. " INSERT INTO databasechangelog VALUES ('1', 'alice', 'a.sql', now(), 1, 'EXECUTED', NULL);", ''],
    ['public._prisma_migrations', 'prisma',
	'CREATE TABLE _prisma_migrations (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL,'
	. ' finished_at timestamptz, migration_name varchar(255) NOT NULL, logs text,'
	. ' rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(),'
	. ' applied_steps_count integer NOT NULL DEFAULT 0);'
	. " INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name)"
	. " VALUES ('x', 'y', now(), '1_a');", ''],
    ['atlas_schema_revisions.atlas_schema_revisions', 'atlas',
	'CREATE SCHEMA atlas_schema_revisions; CREATE TABLE atlas_schema_revisions.atlas_schema_revisions'
	. ' (version varchar PRIMARY KEY, description varchar NOT NULL, type bigint NOT NULL DEFAULT 2,'
	. ' applied bigint NOT NULL DEFAULT 0, total bigint NOT NULL DEFAULT 0, executed_at timestamptz NOT NULL,'
	. ' execution_time bigint NOT NULL, error text, error_stmt text, hash varchar NOT NULL,'
	. ' partial_hashes jsonb, operator_version varchar NOT NULL);'
	. " INSERT INTO atlas_schema_revisions.atlas_schema_revisions VALUES"
	. " ('1', 'a', 2, 1, 1, now(), 1, NULL, NULL, 'h', NULL, 'v');", ''],
    ['public.schema_version', 'custom',
	'CREATE TABLE schema_version (version bigint PRIMARY KEY, description text,'
	. ' applied_at timestamptz DEFAULT now()); INSERT INTO schema_version VALUES (1, \'a\');', ''],
    ['public.schema_version', 'flyway',
	'CREATE TABLE schema_version (installed_rank int PRIMARY KEY, version varchar(50),'
	. ' description varchar(200), type varchar(20), script varchar(1000), checksum int,'
	. ' installed_by varchar(100), installed_on timestamp DEFAULT now(), execution_time int, success boolean);'
	. " INSERT INTO schema_version VALUES (1, '1', 'a', 'SQL', 'V1__a.sql', 0, 'x', now(), 1, true);",
	' --table schema_version'],
);

# --- apply refuses, naming the table and the command, and changes nothing -----
for my $t (@tables) {
	my ($table, $tool, $sql, $extra) = @$t;
	my $db = $pg->createdb;
	$pg->psql($db, "$ab $sql");
	my $before = $pg->dump_schema($db, data => 1);
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 4, "$tool ($table): apply refuses with exit 4");
	is($err, "pgapply: the database has no pgbundle history, but ${tool}'s history table '$table' "
	    . "says it was migrated\n  applying would run every migration again; adopt that history first: "
	    . "'pgapply adopt FILE --from $tool$extra', or 'pgapply apply FILE --adopt-from $tool$extra' "
	    . "in one run; nothing was changed\n", "$tool ($table): names the table and the command");
	is($pg->dump_schema($db, data => 1), $before, "$tool ($table): the database is untouched");
	is($pg->psql($db, "SELECT to_regclass('pgbundle.history') IS NULL"), 't',
	    "$tool ($table): not even a history table");
}

# --- what is not another tool's history --------------------------------------------
{
	my $db = $pg->createdb;
	$pg->psql($db, 'CREATE TABLE gorp_migrations (id text PRIMARY KEY, applied_at timestamptz);'
	    . ' CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL,'
	    . ' is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());'
	    . ' INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, true);');
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 0, "an empty history table, and goose's first row alone, migrated nothing") or diag($err);
	is(history($db), '1:apply,2:apply,3:apply', 'so apply runs everything');

	my $own = $pg->createdb;
	Pgb::pgapply($pg, $own, 'apply', $bundle, '--to', '1');
	$pg->psql($own, 'CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);'
	    . ' INSERT INTO schema_migrations VALUES (7, false);');
	($code, undef, $err) = Pgb::pgapply($pg, $own, 'apply', $bundle);
	is($code, 0, 'once pgbundle has history, an old table of another tool is left alone') or diag($err);
	is(history($own), '1:apply,2:apply,3:apply', 'and apply goes on from its own');
}

# --- apply --adopt-from: one run, one lock; a no-op where nothing is to adopt -------
{
	my $db = $pg->createdb;
	$pg->psql($db, "$ab CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);"
	    . ' INSERT INTO schema_migrations VALUES (2, false);');
	my $foreign = $pg->psql($db, 'SELECT version || dirty::text FROM schema_migrations');
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--adopt-from', 'golang-migrate');
	is($code, 0, 'apply --adopt-from golang-migrate') or diag($err);
	like($err, qr/recorded 2 migrations \(adopt:golang-migrate\)\n.*applied 003_c/s,
	    'adopts, then applies what is left');
	is(history($db), '1:adopt:golang-migrate,2:adopt:golang-migrate,3:apply', 'in one run');
	is($pg->psql($db, 'SELECT version || dirty::text FROM schema_migrations'), $foreign,
	    "golang-migrate's table is only read");
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--adopt-from', 'golang-migrate');
	is($code, 0, 'run again, as a Job would') or diag($err);
	like($err, qr/nothing to do/, 'nothing to adopt, nothing to do');

	my $fresh = $pg->createdb;
	($code, undef, $err) = Pgb::pgapply($pg, $fresh, 'apply', $bundle, '--adopt-from', 'dbmate');
	is($code, 0, '--adopt-from on a fresh database') or diag($err);
	is(history($fresh), '1:apply,2:apply,3:apply', 'adopts nothing and applies everything');

	my $other = $pg->createdb;
	$pg->psql($other, "$ab CREATE TABLE gorp_migrations (id text PRIMARY KEY, applied_at timestamptz);"
	    . " INSERT INTO gorp_migrations VALUES ('1_a.sql', now());");
	my $before = $pg->dump_schema($other, data => 1);
	($code, undef, $err) = Pgb::pgapply($pg, $other, 'apply', $bundle, '--adopt-from', 'dbmate');
	is($code, 4, '--adopt-from the wrong tool still refuses another tool\'s history');
	like($err, qr/sql-migrate's history table 'public\.gorp_migrations' says it was migrated/, 'naming it');
	is($pg->dump_schema($other, data => 1), $before, 'unchanged');
	($code, undef, $err) = Pgb::pgapply($pg, $other, 'apply', $bundle, '--adopt-from', 'nosuchtool');
	is($code, 2, 'an unknown --adopt-from tool is a usage error');
	like($err, qr/^pgapply: unknown tool 'nosuchtool' \(known: golang-migrate, dbmate, sql-migrate, sqitch, flyway, diesel, alembic, goose, prisma, atlas, liquibase, custom\)$/m,
	    'listing the known ones');
}

# --- adopt --from diesel: the folder's digits; the applied-at time kept -------------
{
	my $db = $pg->createdb;
	my $b = Pgb::bundle("$root/tests/data/layouts/diesel");
	my $tmp = $pg->createdb;
	Pgb::pgapply($pg, $tmp, 'apply', $b, '--to', '20230705000058');
	my $schema = $pg->dump_schema($tmp, exclude_schema => ['pgbundle']);
	$pg->psql($db, $schema);
	$pg->psql($db, 'CREATE TABLE __diesel_schema_migrations (version varchar(50) PRIMARY KEY,'
	    . ' run_on timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP);'
	    . " INSERT INTO __diesel_schema_migrations VALUES ('00000000000000', '2023-07-05 10:00:00'),"
	    . " ('20230705000058', '2023-07-05 11:30:00');");
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'adopt', $b, '--from', 'diesel');
	is($code, 0, 'adopt --from diesel') or diag($err);
	is(history($db), '0:adopt:diesel,20230705000058:adopt:diesel', "Diesel's versions are the layout's");
	is($pg->psql($db, "SELECT string_agg(to_char(applied_at, 'YYYY-MM-DD HH24:MI'), ',' ORDER BY version)"
	    . ' FROM pgbundle.history'), '2023-07-05 10:00,2023-07-05 11:30', "Diesel's run_on is kept");
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'apply runs the rest') or diag($err);
	like(history($db), qr/,20230706101500:apply$/, 'only the new one');
}

# --- adopt --from alembic --map FILE -----------------------------------------------
{
	my $map = PgbTest::tempdir() . '/alembic.map';
	PgbTest::write_file($map, "# REVISION VERSION\n1975ea83b712 1\n\nae1027a6acf 2\n27c6a30d7c24 3\n");
	my $db = $pg->createdb;
	$pg->psql($db, "$ab CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);"
	    . " INSERT INTO alembic_version VALUES ('ae1027a6acf');");
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'adopt', $bundle, '--from', 'alembic');
	is($code, 2, 'alembic without --map: exit 2');
	like($err, qr/^pgapply: adopting Alembic needs --map FILE: Alembic revisions are ids, one 'REVISION VERSION' line per migration says which version each one is$/m,
	    'says why');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'adopt', $bundle, '--from', 'alembic', '--map', $map);
	is($code, 0, 'adopt --from alembic --map FILE') or diag($err);
	is(history($db), '1:adopt:alembic,2:adopt:alembic', 'the head revision and everything before it');

	my $db2 = $pg->createdb;
	$pg->psql($db2, "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);"
	    . " INSERT INTO alembic_version VALUES ('deadbeef0000');");
	($code, undef, $err) = Pgb::pgapply($pg, $db2, 'apply', $bundle, '--adopt-from', 'alembic', '--map', $map);
	is($code, 4, 'a revision the map lacks: exit 4');
	like($err, qr/^pgapply: Alembic revision 'deadbeef0000' is not in the map file '\Q$map\E'$/m, 'names it');
	is($pg->psql($db2, "SELECT to_regclass('a') IS NULL AND to_regclass('pgbundle.history') IS NULL"),
	    't', 'nothing applied, nothing recorded');
	$pg->psql($db2, "INSERT INTO alembic_version VALUES ('1975ea83b712')");
	($code, undef, $err) = Pgb::pgapply($pg, $db2, 'adopt', $bundle, '--from', 'alembic', '--map', $map);
	is($code, 4, 'two heads: exit 4');
	like($err, qr/alembic_version holds 2 heads \(branches\): merge them into one \(alembic merge\) before adopting/,
	    'says so');
}

# --- goose: the latest row of each version counts ---------------------------------
{
	my $db = $pg->createdb;
	$pg->psql($db, "$ab CREATE TABLE goose_db_version (id serial PRIMARY KEY, version_id bigint NOT NULL,"
	    . ' is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());'
	    . " INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (0, true, now()),"
	    . " (1, true, '2024-01-01 08:00'), (2, true, '2024-01-02 08:00'), (3, true, '2024-01-03 08:00'),"
	    . " (3, false, '2024-01-04 08:00');");
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--adopt-from', 'goose');
	is($code, 0, 'apply --adopt-from goose') or diag($err);
	is(history($db), '1:adopt:goose,2:adopt:goose,3:apply', 'version 3 was rolled back: it runs');
	is($pg->psql($db, "SELECT to_char(applied_at, 'YYYY-MM-DD') FROM pgbundle.history WHERE version = 2"),
	    '2024-01-02', "goose's tstamp is kept");
}

# --- Prisma and Atlas ----------------------------------------------------------------
{
	my $b = Pgb::bundle(Pgb::migrations(
	    '20230101000000_a.sql' => "CREATE TABLE a (id int);\n",
	    '20230102000000_b.sql' => "CREATE TABLE b (id int);\n",
	    '20230103000000_c.sql' => "CREATE TABLE c (id int);\n"));
	my $db = $pg->createdb;
	$pg->psql($db, "$ab " . $tables[9][2]);
	$pg->psql($db, "DELETE FROM _prisma_migrations; INSERT INTO _prisma_migrations"
	    . " (id, checksum, finished_at, migration_name, rolled_back_at) VALUES"
	    . " ('1', 'c', '2024-02-01 09:00+00', '20230101000000_a', NULL),"
	    . " ('2', 'c', '2024-02-02 09:00+00', '20230102000000_b', NULL),"
	    . " ('3', 'c', NULL, '20230103000000_c', '2024-02-03 09:00+00');");
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'adopt', $b, '--from', 'prisma');
	is($code, 0, 'adopt --from prisma') or diag($err);
	is(history($db), '20230101000000:adopt:prisma,20230102000000:adopt:prisma',
	    'finished migrations, not the rolled-back one');
	$pg->psql($db, "INSERT INTO _prisma_migrations (id, checksum, migration_name)"
	    . " VALUES ('4', 'c', '20230103000000_c')");
	my $db2 = $pg->createdb;
	$pg->psql($db2, $tables[9][2]);
	$pg->psql($db2, "INSERT INTO _prisma_migrations (id, checksum, migration_name)"
	    . " VALUES ('4', 'c', '20230103000000_c')");
	($code, undef, $err) = Pgb::pgapply($pg, $db2, 'adopt', $b, '--from', 'prisma');
	is($code, 4, 'an unfinished Prisma migration: exit 4');
	like($err, qr/Prisma marks migration '20230103000000_c' failed or unfinished: resolve it \(prisma migrate resolve\) before adopting/,
	    'says so');

	my $db3 = $pg->createdb;
	$pg->psql($db3, "$ab " . $tables[10][2]);
	$pg->psql($db3, "DELETE FROM atlas_schema_revisions.atlas_schema_revisions;"
	    . " INSERT INTO atlas_schema_revisions.atlas_schema_revisions VALUES"
	    . " ('.atlas_cloud_identifier', '', 0, 0, 0, now(), 0, NULL, NULL, '', NULL, 'v'),"
	    . " ('20230101000000', 'a', 2, 1, 1, '2024-03-01 10:00+00', 1, NULL, NULL, 'h', NULL, 'v'),"
	    . " ('20230102000000', 'b', 2, 1, 1, '2024-03-02 10:00+00', 1, NULL, NULL, 'h', NULL, 'v');");
	($code, undef, $err) = Pgb::pgapply($pg, $db3, 'apply', $b, '--adopt-from', 'atlas');
	is($code, 0, 'apply --adopt-from atlas') or diag($err);
	is(history($db3), '20230101000000:adopt:atlas,20230102000000:adopt:atlas,20230103000000:apply',
	    'adopts what Atlas applied, applies the rest');
	is($pg->psql($db3, "SELECT to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM pgbundle.history"
	    . ' WHERE version = 20230101000000'), '2024-03-01 10:00', "Atlas's executed_at is kept");
}

# --- the applied-at time: Flyway's installed_on, a custom applied_at ---------------------
{
	my $db = $pg->createdb;
	$pg->psql($db, "$ab $tables[4][2]");
	$pg->psql($db, "UPDATE flyway_schema_history SET version = '2', installed_on = '2022-05-06 07:08:09'");
	my $b = Pgb::bundle(Pgb::migrations('V1__a.sql' => "CREATE TABLE a (id int);\n",
	    'V2__b.sql' => "CREATE TABLE b (id int);\n"));
	$pg->psql($db, "INSERT INTO flyway_schema_history VALUES (2, '1', 'a', 'SQL', 'V1__a.sql', 0, 'x',"
	    . " '2022-05-05 07:08:09', 1, true)");
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'adopt', $b, '--from', 'flyway');
	is($code, 0, 'adopt --from flyway') or diag($err);
	is($pg->psql($db, "SELECT string_agg(to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS'), ',' ORDER BY version)"
	    . ' FROM pgbundle.history'), '2022-05-05 07:08:09,2022-05-06 07:08:09', "Flyway's installed_on is kept");

	my $c = $pg->createdb;
	$pg->psql($c, "$ab $tables[11][2]");
	$pg->psql($c, "UPDATE schema_version SET applied_at = '2021-01-01 00:00+00'");
	($code, undef, $err) = Pgb::pgapply($pg, $c, 'adopt', $bundle, '--from', 'custom');
	is($code, 0, 'adopt --from custom') or diag($err);
	is($pg->psql($c, "SELECT to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM pgbundle.history"),
	    '2021-01-01', 'a custom table\'s applied_at is kept');
}

done_testing();
