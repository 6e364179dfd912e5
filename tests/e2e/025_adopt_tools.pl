#!/usr/bin/perl
# 025_adopt_tools.pl - adopt databases that the real other tools migrated:
# dbmate (npm, installed by scripts/deps.sh into tests/tools),
# sql-migrate and Sqitch (Debian).  pgapply records what they ran, leaves their tables
# alone, and applies the rest.
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

SKIP: {
	my $dbmate = "$root/tests/tools/node_modules/.bin/dbmate";
	skip 'dbmate is not installed (scripts/deps.sh installs it from npm)', 6 unless -x $dbmate;
	my $d = PgbTest::tempdir();
	mkdir "$d/db";
	PgbTest::write_file("$d/db/20240101000001_create_t1.sql",
	    "-- migrate:up\nCREATE TABLE t1 (id int);\n\n-- migrate:down\nDROP TABLE t1;\n");
	PgbTest::write_file("$d/db/20240101000002_create_t2.sql",
	    "-- migrate:up\nCREATE TABLE t2 (id int);\n\n-- migrate:down\nDROP TABLE t2;\n");
	my $db = $pg->createdb;
	my $url = $pg->url($db) . '?sslmode=disable';
	my ($code, $out, $err) = PgbTest::run({ env => { DATABASE_URL => $url } }, $dbmate,
	    '--migrations-dir', "$d/db", '--no-dump-schema', 'up');
	is($code, 0, 'dbmate migrated the database') or diag($err);
	my $foreign = $pg->dump_schema($db, data => 1);

	my $m = Pgb::migrations(
	    '20240101000001_create_t1.sql' => "CREATE TABLE t1 (id int);\n",
	    '20240101000002_create_t2.sql' => "CREATE TABLE t2 (id int);\n",
	    '20240101000003_create_t3.sql' => "CREATE TABLE t3 (id int);\n");
	my $b = Pgb::bundle($m);
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'adopt', $b, '--from', 'dbmate');
	is($code, 0, 'adopt --from dbmate') or diag($err);
	is(history($db), '20240101000001:adopt:dbmate,20240101000002:adopt:dbmate',
	    'records the versions dbmate ran');
	is($pg->dump_schema($db, data => 1, exclude_schema => ['pgbundle']), $foreign,
	    "dbmate's schema_migrations is untouched");
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'apply runs what dbmate did not') or diag($err);
	like(history($db), qr/,20240101000003:apply$/, 'only the new migration ran');
}

SKIP: {
	my $sm = '/usr/bin/sql-migrate';
	skip 'sql-migrate is not installed (scripts/deps.sh installs it)', 6 unless -x $sm;
	my $d = PgbTest::tempdir();
	mkdir "$d/m";
	PgbTest::write_file("$d/m/1_one.sql", "-- +migrate Up\nCREATE TABLE one (id int);\n"
	    . "-- +migrate Down\nDROP TABLE one;\n");
	PgbTest::write_file("$d/m/2_two.sql", "-- +migrate Up\nCREATE TABLE two (id int);\n"
	    . "-- +migrate Down\nDROP TABLE two;\n");
	my $db = $pg->createdb;
	PgbTest::write_file("$d/dbconfig.yml", "test:\n  dialect: postgres\n"
	    . "  datasource: host=127.0.0.1 port=" . $pg->port . " user=postgres dbname=$db sslmode=disable\n"
	    . "  dir: $d/m\n");
	my ($code, $out, $err) = PgbTest::run($sm, 'up', "-config=$d/dbconfig.yml", '-env=test');
	is($code, 0, 'sql-migrate migrated the database') or diag("$out$err");
	my $foreign = $pg->dump_schema($db, data => 1);
	my $b = Pgb::bundle(Pgb::migrations('001_one.sql' => "CREATE TABLE one (id int);\n",
	    '002_two.sql' => "CREATE TABLE two (id int);\n",
	    '003_three.sql' => "CREATE TABLE three (id int);\n"));
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'adopt', $b, '--from', 'sql-migrate');
	is($code, 0, 'adopt --from sql-migrate') or diag($err);
	is(history($db), '1:adopt:sql-migrate,2:adopt:sql-migrate', 'records what sql-migrate ran');
	is($pg->psql($db, "SELECT string_agg(applied_at::text, ',' ORDER BY version) FROM pgbundle.history"),
	    $pg->psql($db, "SELECT string_agg(applied_at::text, ',' ORDER BY id) FROM gorp_migrations"),
	    'each at the time sql-migrate applied it');
	is($pg->dump_schema($db, data => 1, exclude_schema => ['pgbundle']), $foreign,
	    "sql-migrate's gorp_migrations is untouched");
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'apply runs the rest') or diag($err);
}

SKIP: {
	my $sqitch = '/usr/bin/sqitch';
	skip 'sqitch is not installed (scripts/deps.sh installs it)', 7 unless -x $sqitch;
	my $d = PgbTest::tempdir();
	my %env = (HOME => $d, SQITCH_FULLNAME => 'Test', SQITCH_EMAIL => 'test@example.invalid');
	my $db = $pg->createdb;
	my ($code, $out, $err) = PgbTest::run({ cwd => $d, env => \%env }, $sqitch, 'init', 'shop',
	    '--engine', 'pg');
	is($code, 0, 'sqitch init') or diag("$out$err");
	for my $c (qw(create_users create_orders)) {
		PgbTest::run({ cwd => $d, env => \%env }, $sqitch, 'add', $c, '-n', "add $c");
		PgbTest::write_file("$d/deploy/$c.sql", "BEGIN;\nCREATE TABLE $c (id int);\nCOMMIT;\n");
		PgbTest::write_file("$d/revert/$c.sql", "BEGIN;\nDROP TABLE $c;\nCOMMIT;\n");
		PgbTest::write_file("$d/verify/$c.sql", "SELECT id FROM $c WHERE false;\n");
	}
	($code, $out, $err) = PgbTest::run({ cwd => $d, env => \%env }, $sqitch, 'deploy',
	    '--verify', 'db:pg://postgres@127.0.0.1:' . $pg->port . "/$db");
	is($code, 0, 'Sqitch deployed two changes') or diag("$out$err");
	my $foreign = $pg->dump_schema($db, data => 1);
	my $b = Pgb::bundle(Pgb::migrations('001_create_users.sql' => "CREATE TABLE create_users (id int);\n",
	    '002_create_orders.sql' => "CREATE TABLE create_orders (id int);\n",
	    '003_create_items.sql' => "CREATE TABLE create_items (id int);\n"));
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'adopt', $b, '--from', 'sqitch');
	is($code, 0, 'adopt --from sqitch matches changes to migrations by name') or diag($err);
	is(history($db), '1:adopt:sqitch,2:adopt:sqitch', 'records what Sqitch deployed');
	is($pg->psql($db, "SELECT string_agg(applied_at::text, ',' ORDER BY version) FROM pgbundle.history"),
	    $pg->psql($db, "SELECT string_agg(committed_at::text, ',' ORDER BY committed_at) FROM sqitch.changes"),
	    'each at the time Sqitch deployed it');
	is($pg->dump_schema($db, data => 1, exclude_schema => ['pgbundle']), $foreign,
	    "Sqitch's registry is untouched");
	my $other = Pgb::bundle(Pgb::migrations('001_create_users.sql' => "CREATE TABLE create_users (id int);\n"));
	my $db2 = $pg->createdb;
	PgbTest::run({ cwd => $d, env => \%env }, $sqitch, 'deploy', 'db:pg://postgres@127.0.0.1:'
	    . $pg->port . "/$db2");
	($code, undef, $err) = Pgb::pgapply($pg, $db2, 'adopt', $other, '--from', 'sqitch');
	like($err, qr/Sqitch deployed change 'create_orders', which the bundle holds no migration of that name for/,
	    'a Sqitch change the bundle lacks is refused, by name');
}

done_testing();
