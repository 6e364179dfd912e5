#!/usr/bin/perl
# 015_more_layouts.pl - the layouts without numbered up/down
# pairs.  Sqitch (the real one, from Debian): sqitch.plan's order,
# deploy/revert/verify, a verify script that fails the migration by
# raising an error; the same project deployed and reverted by Sqitch and
# by pgapply leaves the same schema; adopted by change name.  Prisma's
# VERSION_name/migration.sql folders and Atlas's files beside atlas.sum
# (atlas:txmode none); Liquibase formatted SQL, each changeset a
# migration with its --rollback lines as its down script, adopted from
# databasechangelog; and what each refuses.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $root = PgbTest::root();
my $pgbundle = PgbTest::bin('pgbundle');

sub history {
	my ($db, $col) = @_;
	$col = 'version::text' unless defined $col;
	return $pg->psql($db, "SELECT coalesce(string_agg($col, ',' ORDER BY version), '') "
	    . 'FROM pgbundle.history');
}

# --- Sqitch ------------------------------------------------------------------------
SKIP: {
	my $sqitch = '/usr/bin/sqitch';
	skip 'sqitch is not installed (scripts/deps.sh installs it)', 22 unless -x $sqitch;
	my $d = PgbTest::tempdir();
	my %env = (HOME => $d, SQITCH_FULLNAME => 'Test', SQITCH_EMAIL => 'test@example.invalid');
	my $run = sub { PgbTest::run({ cwd => $d, env => \%env }, $sqitch, @_) };
	my ($code, $out, $err) = $run->('init', 'shop', '--engine', 'pg');
	is($code, 0, 'sqitch init') or diag("$out$err");
	$run->('add', 'users', '-n', 'users');
	$run->('add', 'touch', '-r', 'users', '-n', 'a trigger function');
	$run->('add', 'orders', '-r', 'users', '-n', 'orders');
	PgbTest::write_file("$d/deploy/users.sql", "-- Deploy shop:users to pg\n\nBEGIN;\n\n"
	    . "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL, updated_at timestamptz);\n\nCOMMIT;\n");
	PgbTest::write_file("$d/verify/users.sql", "-- Verify shop:users on pg\n\nBEGIN;\n\n"
	    . "SELECT id, name FROM users WHERE false;\n\nROLLBACK;\n");
	PgbTest::write_file("$d/revert/users.sql", "BEGIN;\nDROP TABLE users;\nCOMMIT;\n");
	PgbTest::write_file("$d/deploy/touch.sql", "BEGIN;\n"
	    . "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS \$\$\n"
	    . "BEGIN NEW.updated_at := now(); RETURN NEW; END;\n\$\$;\n"
	    . "CREATE TRIGGER users_touch BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION touch();\nCOMMIT;\n");
	PgbTest::write_file("$d/verify/touch.sql", "SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'users_touch';\n");
	PgbTest::write_file("$d/revert/touch.sql", "BEGIN;\nDROP TRIGGER users_touch ON users;\n"
	    . "DROP FUNCTION touch();\nCOMMIT;\n");
	PgbTest::write_file("$d/deploy/orders.sql", "BEGIN;\nCREATE TABLE orders (id int, user_id int REFERENCES users);\n"
	    . "INSERT INTO users VALUES (1, 'first');\nCOMMIT;\n");
	PgbTest::write_file("$d/verify/orders.sql", "BEGIN;\nSELECT id, user_id FROM orders WHERE false;\nROLLBACK;\n");
	PgbTest::write_file("$d/revert/orders.sql", "BEGIN;\nDROP TABLE orders;\nDELETE FROM users;\nCOMMIT;\n");

	my $theirs = $pg->createdb;
	my $target = 'db:pg://postgres@127.0.0.1:' . $pg->port . "/$theirs";
	($code, $out, $err) = $run->('deploy', '--verify', $target);
	is($code, 0, 'Sqitch deployed and verified three changes') or diag("$out$err");

	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $d);
	is($code, 0, 'the Sqitch project checks') or diag($err);
	like($err, qr/read in the sqitch layout/, 'detected from sqitch.plan');
	like($err, qr{/verify/users\.sql:3: note: BEGIN \.\.\. ROLLBACK wrapper dropped}, "the verify script's wrapper goes");
	my $bundle = Pgb::bundle($d);
	my (undef, $list) = PgbTest::run('tar', '-tzf', $bundle);
	is($list, "MANIFEST\nmigrations/orders.down.sql\nmigrations/orders.sql\nmigrations/touch.down.sql\n"
	    . "migrations/touch.sql\nmigrations/users.down.sql\nmigrations/users.sql\n",
	    'each change ships as NAME.sql and NAME.down.sql');
	my $ours = $pg->createdb;
	($code, undef, $err) = Pgb::pgapply($pg, $ours, 'apply', $bundle);
	is($code, 0, 'pgapply applies the project') or diag($err);
	is(history($ours, "version || '_' || name"), '1_users,2_touch,3_orders', 'in the order of the plan');
	is($pg->dump_schema($ours, data => 1, exclude_schema => ['pgbundle']),
	    $pg->dump_schema($theirs, data => 1, exclude_schema => ['sqitch']),
	    'the same schema and rows as sqitch deploy');
	($code, $out, $err) = $run->('revert', '-y', $target);
	is($code, 0, 'sqitch revert') or diag("$out$err");
	($code, undef, $err) = Pgb::pgapply($pg, $ours, 'rollback', $bundle, '--to', '0');
	is($code, 0, 'pgapply rollback --to 0') or diag($err);
	is($pg->dump_schema($ours, exclude_schema => ['pgbundle']),
	    $pg->dump_schema($theirs, exclude_schema => ['sqitch']), 'the same schema as sqitch revert');

	# Adopted by change name, one run.
	my $adopt = $pg->createdb;
	($code, $out, $err) = $run->('deploy', '--to', 'touch', 'db:pg://postgres@127.0.0.1:' . $pg->port . "/$adopt");
	is($code, 0, 'Sqitch deploys two of the three') or diag("$out$err");
	($code, undef, $err) = Pgb::pgapply($pg, $adopt, 'apply', $bundle);
	is($code, 4, 'apply refuses a database Sqitch deployed');
	like($err, qr/sqitch's history table 'sqitch\.changes' says it was migrated/, 'naming its registry');
	($code, undef, $err) = Pgb::pgapply($pg, $adopt, 'apply', $bundle, '--adopt-from', 'sqitch');
	is($code, 0, 'apply --adopt-from sqitch') or diag($err);
	is(history($adopt, "version || ':' || origin"), '1:adopt:sqitch,2:adopt:sqitch,3:apply',
	    'adopts by change name, applies the rest');

	# A verify script that raises fails the migration, which rolls back.
	$run->('add', 'broken', '-n', 'verify fails');
	PgbTest::write_file("$d/deploy/broken.sql", "CREATE TABLE broken (id int);\n");
	PgbTest::write_file("$d/verify/broken.sql", "-- verify\nSELECT id FROM broken WHERE false;\nSELECT 1/0;\n");
	my $b2 = Pgb::bundle($d);
	($code, undef, $err) = Pgb::pgapply($pg, $adopt, 'apply', $b2);
	is($code, 5, 'a verify script that raises: exit 5');
	like($err, qr{^pgapply: migration 'broken' failed at statement 3 of 3 \(\S+/verify/broken\.sql:3\)}m,
	    'names the verify script and its line') or diag($err);
	is($pg->psql($adopt, "SELECT to_regclass('broken') IS NULL"), 't', 'the deploy rolled back with it');

	# The plan: reworked changes and missing scripts are refused at their line.
	PgbTest::write_file("$d/sqitch.plan", PgbTest::read_file("$d/sqitch.plan") . "\@v1 2024-01-01T00:00:00Z T <t\@e> # tag\n"
	    . "users [users\@v1] 2024-01-02T00:00:00Z T <t\@e> # reworked\n");
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $d);
	is($code, 1, 'a reworked change: exit 1');
	like($err, qr{/sqitch\.plan:9: error: change 'users' is planned twice \(reworked\): pgbundle cannot carry both versions of it},
	    'named at its line of the plan') or diag($err);
}
{
	my $m = Pgb::migrations('sqitch.plan' => "%project=x\n\nghost 2024-01-01T00:00:00Z T <t\@e> # none\n");
	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m);
	is($code, 1, 'a change without its deploy script: exit 1');
	like($err, qr{/sqitch\.plan:3: error: change 'ghost' has no deploy script '\S+/deploy/ghost\.sql'}, 'says so');
}

# --- Prisma -------------------------------------------------------------------------
{
	my $dir = "$root/tests/data/layouts/prisma";
	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir);
	is($code, 0, 'prisma: checks') or diag($err);
	like($err, qr/read in the prisma layout/, 'prisma: detected from migration.sql folders');
	unlike($err, qr/pgbundle\.sum/, 'prisma: its committed pgbundle.sum agrees');
	my $b = Pgb::bundle($dir);
	my (undef, $list) = PgbTest::run('tar', '-tzf', $b);
	is($list, "MANIFEST\nmigrations/20230705123456_init.sql\nmigrations/20230706000000_add_email.sql\n",
	    'prisma: each folder ships as DIR.sql');
	my $db = $pg->createdb;
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'prisma: applied') or diag($err);
	is(history($db), '20230705123456,20230706000000', 'prisma: the folder timestamps are the versions');
	is($pg->psql($db, 'SELECT string_agg(attname, \',\' ORDER BY attnum) FROM pg_attribute '
	    . "WHERE attrelid = '\"User\"'::regclass AND attnum > 0"), 'id,name,email', 'prisma: the schema');
	($code, undef, $err) = PgbTest::run($pgbundle, 'squash', $dir, '--through', '20230705123456',
	    '--archive', PgbTest::tempdir() . '/archive');
	is($code, 2, 'prisma: squash refuses the layout');
	like($err, qr/^pgbundle: squash does not write prisma's folder layout$/m, 'prisma: and says so');
	is(PgbTest::read_file("$dir/20230705123456_init/migration.sql") ne '', 1, 'prisma: the folder is as it was');
	my $bad = Pgb::migrations('20230101000000_a/migration.sql' => "SELECT 1;\n", 'stray.sql' => "SELECT 1;\n");
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $bad, '--layout', 'prisma');
	is($code, 1, 'prisma: a stray file: exit 1');
	like($err, qr{/stray\.sql:1: error: cannot parse migration file name: expected a folder VERSION_name/ holding migration\.sql \(prisma layout\)},
	    'prisma: says what was expected');
}

# --- Atlas ---------------------------------------------------------------------------
{
	my $dir = "$root/tests/data/layouts/atlas";
	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir);
	is($code, 0, 'atlas: checks') or diag($err);
	like($err, qr/read in the atlas layout/, 'atlas: detected from atlas.sum');
	my $b = Pgb::bundle($dir);
	my $db = $pg->createdb;
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'atlas: applied') or diag($err);
	is(history($db, "version || ':' || name || ':' || mode"), '20230705123456:init:transaction,'
	    . '20230706000000:20230706000000:transaction,20230707000000:users_email_idx:no-transaction',
	    'atlas: versions, a file of the version alone, atlas:txmode none');
	my $bad = Pgb::migrations('atlas.sum' => "h1:x\n", '1_a.sql' => "-- atlas:delimiter \\n\\n\nSELECT 1;\n");
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $bad);
	is($code, 1, 'atlas: a delimiter directive: exit 1');
	like($err, qr{/1_a\.sql:1: error: Atlas directive 'atlas:delimiter \\n\\n' is not supported \(known: atlas:txmode none\|file\|all, atlas:nolint, atlas:sum\): pgbundle splits statements as psql does},
	    'atlas: named at its line') or diag($err);
	$bad = Pgb::migrations('atlas.sum' => "h1:x\n", '1_a.sql' => "SELECT 1;\n", '1_a.down.sql' => "SELECT 1;\n");
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $bad);
	like($err, qr{/1_a\.down\.sql:1: error: cannot parse migration file name: Atlas has no down files},
	    'atlas: a down file is refused');
}

# --- Liquibase formatted SQL ----------------------------------------------------------
{
	my $dir = "$root/tests/data/layouts/liquibase";
	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir);
	is($code, 0, 'liquibase: checks') or diag($err);
	like($err, qr/read in the liquibase layout/, 'liquibase: detected from the header');
	unlike($err, qr/pgbundle\.sum/, 'liquibase: its committed pgbundle.sum agrees');
	like($err, qr{/002-orders\.sql:6: warning: down script has no statements: rolling back this migration changes nothing \[empty-down\]},
	    "liquibase: '--rollback not required' is a no-op down");
	my $b = Pgb::bundle($dir);
	my (undef, $list) = PgbTest::run('tar', '-tzf', $b);
	is($list, "MANIFEST\nmigrations/001-init.1.down.sql\nmigrations/001-init.1.sql\n"
	    . "migrations/001-init.2.down.sql\nmigrations/001-init.2.sql\nmigrations/002-orders.1.down.sql\n"
	    . "migrations/002-orders.1.sql\nmigrations/002-orders.2.down.sql\nmigrations/002-orders.2.sql\n",
	    'liquibase: each changeset ships as FILE.N.sql and FILE.N.down.sql');
	my (undef, $man) = PgbTest::run('tar', '-xzOf', $b, 'MANIFEST');
	like($man, qr{^down-stmt \d+ \d+ 6 src=\S+/001-init\.sql$}m, 'liquibase: a rollback line keeps its line of the file');
	my $db = $pg->createdb;
	my $empty = $pg->dump_schema($db);
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'liquibase: applied') or diag($err);
	is(history($db, "version || ':' || name || ':' || mode"), '1:create-users:transaction,'
	    . '2:users-name-idx:no-transaction,3:create-orders:transaction,4:note:transaction',
	    'liquibase: versions in folder order, named by id, runInTransaction:false');
	is($pg->psql($db, "SELECT to_regclass('dual_thing') IS NULL AND to_regclass('never') IS NULL"), 't',
	    'liquibase: a dbms:oracle changeset and an ignore:true one are left out, as Liquibase leaves them');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', $b, '--to', '0');
	is($code, 0, 'liquibase: rolled back through the --rollback lines') or diag($err);
	is($pg->dump_schema($db, exclude_schema => ['pgbundle']), $empty, 'liquibase: the schema is empty again');

	# Adopted from databasechangelog by changeset id, the time kept.
	my $ad = $pg->createdb;
	$pg->psql($ad, "CREATE TABLE users (id int PRIMARY KEY, name text NOT NULL);"
	    . ' CREATE INDEX users_name_idx ON users (name);'
	    . ' CREATE TABLE databasechangelog (id varchar(255) NOT NULL, author varchar(255) NOT NULL,'
	    . ' filename varchar(255) NOT NULL, dateexecuted timestamp NOT NULL, orderexecuted int NOT NULL,'
	    . ' exectype varchar(10) NOT NULL, md5sum varchar(35));'
	    . " INSERT INTO databasechangelog VALUES ('create-users', 'alice', '001-init.sql', '2020-02-02 02:02', 1, 'EXECUTED', NULL),"
	    . " ('users-name-idx', 'alice', '001-init.sql', '2020-02-02 02:03', 2, 'MARK_RAN', NULL);");
	($code, undef, $err) = Pgb::pgapply($pg, $ad, 'apply', $b, '--adopt-from', 'liquibase');
	is($code, 0, 'liquibase: apply --adopt-from liquibase') or diag($err);
	is(history($ad, "version || ':' || origin"), '1:adopt:liquibase,2:adopt:liquibase,3:apply,4:apply',
	    'liquibase: adopts by changeset id, applies the rest');
	is($pg->psql($ad, "SELECT to_char(applied_at, 'YYYY-MM-DD HH24:MI') FROM pgbundle.history WHERE version = 1"),
	    '2020-02-02 02:02', "liquibase: dateexecuted is kept");

	my $head = "--liquibase formatted sql\n";
	my @bad = (
	    [{ 'a.sql' => "$head--changeset a:1 context:test\nSELECT 1;\n" }, 2,
		"changeset attribute 'context:test': Liquibase picks such changesets when it runs, a bundle cannot; drop it or move the changeset out of the folder", 'context'],
	    [{ 'a.sql' => "$head--changeset a:1 runAlways:true\nSELECT 1;\n" }, 2,
		"changeset attribute 'runAlways:true' is not supported: pgbundle applies each changeset once, splitting statements as psql does, and stops at the first error", 'runAlways'],
	    [{ 'a.sql' => "$head--changeset a:1 endDelimiter:/\nSELECT 1/\n" }, 2,
		"changeset attribute 'endDelimiter:/' is not supported", 'endDelimiter'],
	    [{ 'a.sql' => "$head--changeset a:1\n--precondition-sql-check expectedResult:0 SELECT 1\nSELECT 1;\n" }, 3,
		'Liquibase preconditions are decided when it runs, which a bundle cannot: drop them', 'a precondition'],
	    [{ 'a.sql' => "${head}SELECT 1;\n--changeset a:1\nSELECT 2;\n" }, 2,
		'statement before the first changeset: Liquibase runs only changesets', 'a statement before the first changeset'],
	    [{ 'a.sql' => "$head--changeset a:1\nSELECT 1;\n/* liquibase rollback\nSELECT 2;\n*/\n" }, 4,
		"multi-line rollback blocks are not supported: write each statement on a '--rollback' line", 'a rollback block'],
	    [{ 'a.sql' => "$head--changeset a:1\nSELECT 1;\n", 'b.sql' => "--changeset b:2\nSELECT 1;\n" }, 1,
		"a Liquibase formatted SQL file starts with '--liquibase formatted sql'", 'a file without the header'],
	);
	for my $t (@bad) {
		my ($files, $line, $msg, $name) = @$t;
		my $m = Pgb::migrations(%$files);
		($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m, '--layout', 'liquibase');
		is($code, 1, "liquibase: $name: exit 1");
		like($err, qr{/\w\.sql:$line: error: \Q$msg\E}, "liquibase: $name: message") or diag($err);
	}
	my $m = Pgb::migrations('a.sql' => "$head--changeset a:1\nSELECT 1;\n", 'b.sql' => "$head\n--changeset b:1\nSELECT 1;\n");
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m);
	like($err, qr{/b\.sql:3: error: changeset id '1' is also in '\S+/a\.sql' \(changeset 1\): pgbundle names each migration by its id},
	    'liquibase: one id twice names both files');
	$m = Pgb::migrations('a.sql' => "$head--changeset a:1\nSELECT 1;\n", 'db.changelog-master.xml' => "<databaseChangeLog/>\n");
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m);
	like($err, qr{/db\.changelog-master\.xml:1: error: Liquibase changelog 'db\.changelog-master\.xml' is not read: pgbundle reads the folder's formatted SQL files in name order, as includeAll does},
	    'liquibase: a master changelog is refused, not guessed at');
}

done_testing();
