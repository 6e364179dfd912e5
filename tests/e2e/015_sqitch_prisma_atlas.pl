#!/usr/bin/perl
# 015_sqitch_prisma_atlas.pl - the layouts without numbered up/down
# pairs.  Sqitch (the real one, from Debian): sqitch.plan's order,
# deploy/revert/verify, a verify script that fails the migration by
# raising an error; the same project deployed and reverted by Sqitch and
# by pgapply leaves the same schema; adopted by change name.  Prisma's
# VERSION_name/migration.sql folders and Atlas's files beside atlas.sum
# (atlas:txmode none), and what each refuses.
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

done_testing();
