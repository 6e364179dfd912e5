#!/usr/bin/perl
# 012_layouts.pl - folders named the way other tools name them
# (tests/data/layouts/): each is detected, compiled, applied to a real
# server, rolled back to nothing and applied again; dbmate's, goose's and
# sql-migrate's one-file migrations ship as two scripts whose lines point
# into the one file, and never does a down section run as part of an up
# (another tool's marker in a file is an error at its line); the real
# sql-migrate and pgbundle leave the same schema, up and down;
# Flyway's dotted versions map as pgapply adopt maps them; and the
# errors: mixed layouts, one version twice, a repeatable migration, a
# layout that does not fit.
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

sub columns {
	my ($db, $table) = @_;
	return $pg->psql($db, 'SELECT string_agg(attname, \',\' ORDER BY attnum) FROM pg_attribute '
	    . "WHERE attrelid = '$table'::regclass AND attnum > 0 AND NOT attisdropped");
}

# layout => [label printed, versions, modes, what the schema must hold]
my %cases = (
	'pgbundle' => [undef, '1,2', 'transaction,transaction',
	    sub { is(columns($_[0], 'users'), 'id,name,email', 'pgbundle: users has its columns') }],
	'handmade' => [undef, '1,2', 'transaction,transaction',
	    sub { is(columns($_[0], 'users'), 'id,name,email', 'handmade: users has its columns') }],
	'golang-migrate' => ['golang-migrate', '1,2,3', 'transaction,transaction,no-transaction',
	    sub { is($pg->psql($_[0], "SELECT indisvalid FROM pg_index WHERE indexrelid = "
		    . "'users_email_idx'::regclass"), 't', 'golang-migrate: the concurrent index is valid') }],
	'diesel' => ['diesel', '0,20230705000058,20230706101500',
	    'transaction,transaction,no-transaction',
	    sub { is($pg->psql($_[0], "SELECT tgname FROM pg_trigger WHERE tgrelid = 'users'::regclass"),
		    'set_updated_at', 'diesel: the helper functions ran (updated_at trigger)') }],
	'flyway' => ['flyway', '1000000000000,1000001000000,1000002000000,2000000000000',
	    'transaction,transaction,transaction,transaction',
	    sub { is(columns($_[0], 'users'), 'id,name,email,nickname', 'flyway: dotted versions in order') }],
	'goose' => ['goose', '1,2,3,20230708000000', 'transaction,transaction,no-transaction,transaction',
	    sub { is($pg->psql($_[0], 'SELECT name FROM users'),
		    '-- +goose Down is not a marker in a string', 'goose: the up section ran whole');
		  is($pg->psql($_[0], "SELECT tgname FROM pg_trigger WHERE tgrelid = 'users'::regclass"),
		    'users_touch', 'goose: the StatementBegin block ran') }],
	'sql-migrate' => ['sql-migrate', '1,2,3,10', 'transaction,transaction,no-transaction,transaction',
	    sub { is($pg->psql($_[0], 'SELECT name FROM users'),
		    '-- +migrate Down is not a marker in a string', 'sql-migrate: the up section ran whole');
		  is($pg->psql($_[0], "SELECT obj_description('users'::regclass)"), 'people',
		    'sql-migrate: versions sort as numbers (10 after 3)') }],
	'dbmate' => ['dbmate', '20230705123456,20230706000000,20230707000000,20230708000000',
	    'transaction,transaction,no-transaction,transaction',
	    sub { is($pg->psql($_[0], 'SELECT name FROM users'),
		    '-- migrate:down is not a marker in a string', 'dbmate: the up section ran whole') }],
);

for my $layout (sort keys %cases) {
	my ($label, $versions, $modes, $schema) = @{ $cases{$layout} };
	my $dir = "$root/tests/data/layouts/$layout";
	my $sum = PgbTest::read_file("$dir/pgbundle.sum");

	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir);
	is($code, 0, "$layout: check passes") or diag($err);
	if (defined $label) {
		like($err, qr/read in the \Q$label\E layout/, "$layout: the layout is detected");
	} else {
		unlike($err, qr/read in the/, "$layout: read as pgbundle's own layout");
	}
	unlike($err, qr/pgbundle\.sum/, "$layout: its committed pgbundle.sum agrees");
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir, '--layout', $label || 'pgbundle');
	is($code, 0, "$layout: --layout " . ($label || 'pgbundle') . ' reads it too') or diag($err);

	my $bundle = Pgb::bundle($dir);
	is(PgbTest::read_file("$dir/pgbundle.sum"), $sum, "$layout: build leaves the sum file as it was");
	my $db = $pg->createdb;
	my $empty = $pg->dump_schema($db);
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 0, "$layout: applied") or diag($err);
	is(history($db), $versions, "$layout: history holds the mapped versions");
	is(history($db, 'mode'), $modes, "$layout: and the modes");
	$schema->($db);
	my $full = $pg->dump_schema($db, exclude_schema => ['pgbundle']);

	my $n = scalar(my @v = split /,/, $versions);
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', $bundle, '--steps', $n);
	is($code, 0, "$layout: rolled back through its down scripts") or diag($err);
	is(history($db), '', "$layout: no history left");
	is($pg->dump_schema($db, exclude_schema => ['pgbundle']), $empty,
	    "$layout: the schema is empty again");
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 0, "$layout: and up again") or diag($err);
	is($pg->dump_schema($db, exclude_schema => ['pgbundle']), $full, "$layout: the same schema");
}

# --- dbmate: one file, two scripts ---------------------------------------------------
{
	my $dir = "$root/tests/data/layouts/dbmate";
	my $bundle = Pgb::bundle($dir);
	my (undef, $list) = PgbTest::run('tar', '-tzf', $bundle);
	like($list, qr{^migrations/20230705123456_create_users\.down\.sql$}m,
	    'the down section ships as its own script');
	my (undef, $up) = PgbTest::run('tar', '-xzOf', $bundle, 'migrations/20230705123456_create_users.sql');
	like($up, qr/\A-- migrate:up\n/, 'the up script is the up section');
	unlike($up, qr/DROP TABLE/, 'without the down section');
	my (undef, $down) = PgbTest::run('tar', '-xzOf', $bundle,
	    'migrations/20230705123456_create_users.down.sql');
	is($down, "-- migrate:down\nDROP TABLE users;\n", 'the down script is the down section');
	my (undef, $man) = PgbTest::run('tar', '-xzOf', $bundle, 'MANIFEST');
	like($man, qr/^stmt \d+ \d+ 2\nstmt \d+ \d+ 7\n/m, 'up statements keep the lines of the file');
	like($man, qr{^down-stmt \d+ \d+ 10 src=\S+/20230705123456_create_users\.sql$}m,
	    'down statements name the file and the line they came from');
	like($man, qr/^migration 20230707000000 users_email_idx\n(?:.*\n)*?mode no-transaction\n(?:.*\n)*?down \S+ \S+ \d+ no-transaction idempotent$/m,
	    'transaction:false on each marker');

	# Errors point into the one file; the down section has its own checksum.
	my $m = Pgb::migrations('20230101000000_a.sql' => "-- migrate:up\nCREATE TABLE a (id int);\n\n"
	    . "-- migrate:down\nDROP TABLE a;\n");
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($m));
	is($code, 0, 'a dbmate file applied');
	PgbTest::write_file("$m/20230101000000_a.sql", "-- migrate:up\nCREATE TABLE a (id int);\n\n"
	    . "-- migrate:down\nSELECT 1;\nSELECT 1/0;\n");
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($m));
	is($code, 0, 'editing the down section is no drift') or diag($err);
	like($err, qr/nothing to do/, 'nothing to do');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'rollback', Pgb::bundle($m), '--steps', '1');
	is($code, 5, 'a failing down section');
	like($err, qr{statement 2 of 2 \(\S*/20230101000000_a\.sql:6\)}, 'is reported at its line of the file');
	PgbTest::write_file("$m/20230101000000_a.sql", "-- migrate:up\nCREATE TABLE a (id bigint);\n\n"
	    . "-- migrate:down\nDROP TABLE a;\n");
	Pgb::sum_fix($m);
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($m));
	is($code, 4, 'editing the up section is drift');

	my $b = Pgb::migrations('20230101000000_a.sql' => "-- a file comment\n-- migrate:up\nSELECT 1;\n"
	    . "SELECT 1/0;\n-- migrate:down\n");
	my $e = Pgb::bundle($b, '--layout', 'dbmate');
	(undef, $list) = PgbTest::run('tar', '-tzf', $e);
	is($list, "MANIFEST\nmigrations/20230101000000_a.down.sql\nmigrations/20230101000000_a.sql\n",
	    'an empty down section ships as a no-op down');
	($code, undef, $err) = Pgb::pgapply($pg, $pg->createdb, 'apply', $e);
	is($code, 5, 'a failing up section');
	like($err, qr{statement 2 of 2 \(migrations/20230101000000_a\.sql:4\)}, 'is reported at its line of the file');
}

# --- goose and sql-migrate: one file, two scripts ----------------------------------
for my $case (['goose', '00001_create_users', '00002_touch_users', 'users_touch ON users'],
    ['sql-migrate', '1_create_users', '2_touch_users', 'users_touch ON users']) {
	my ($layout, $first, $second) = @$case;
	my $bundle = Pgb::bundle("$root/tests/data/layouts/$layout");
	my (undef, $up) = PgbTest::run('tar', '-xzOf', $bundle, "migrations/$first.sql");
	unlike($up, qr/DROP TABLE/, "$layout: the up script holds no down section");
	my (undef, $down) = PgbTest::run('tar', '-xzOf', $bundle, "migrations/$first.down.sql");
	like($down, qr/\A-- \+\w+ Down\nDROP TABLE users;\n\z/, "$layout: the down script is the down section");
	my (undef, $man) = PgbTest::run('tar', '-xzOf', $bundle, 'MANIFEST');
	like($man, qr{^down-stmt \d+ \d+ 12 src=\S+/$first\.sql$}m,
	    "$layout: down statements keep their line of the file");
	like($man, qr/^migration 3 users_name_idx\n(?:.*\n)*?mode no-transaction\n(?:.*\n)*?down \S+ \S+ \d+ no-transaction idempotent$/m,
	    "$layout: no transaction, up and down");
	my ($n) = $man =~ /^migration 2 touch_users\n(.*?)^down /ms;
	is(scalar(() = ($n // '') =~ /^stmt /mg), 2, "$layout: the StatementBegin block is one statement, the trigger another");
}

SKIP: {
	# The real sql-migrate and pgbundle, from one folder: the same schema.
	my $sm = '/usr/bin/sql-migrate';
	skip 'sql-migrate is not installed (scripts/deps.sh installs it)', 6 unless -x $sm;
	my $dir = "$root/tests/data/layouts/sql-migrate";
	my $theirs = $pg->createdb;
	my $conf = PgbTest::tempdir() . '/dbconfig.yml';
	PgbTest::write_file($conf, "test:\n  dialect: postgres\n"
	    . "  datasource: host=127.0.0.1 port=" . $pg->port . " user=postgres dbname=$theirs sslmode=disable\n"
	    . "  dir: $dir\n");
	my ($code, $out, $err) = PgbTest::run($sm, 'up', "-config=$conf", '-env=test');
	is($code, 0, 'sql-migrate up') or diag("$out$err");
	my $ours = $pg->createdb;
	my $bundle = Pgb::bundle($dir);
	($code, undef, $err) = Pgb::pgapply($pg, $ours, 'apply', $bundle);
	is($code, 0, 'pgapply apply of the same folder') or diag($err);
	is($pg->dump_schema($ours, data => 1, exclude_schema => ['pgbundle']),
	    $pg->dump_schema($theirs, data => 1, exclude_table => ['gorp_migrations']),
	    'the same schema and rows as sql-migrate up');
	($code, $out, $err) = PgbTest::run($sm, 'down', "-config=$conf", '-env=test', '-limit=0');
	is($code, 0, 'sql-migrate down, all of them') or diag("$out$err");
	($code, undef, $err) = Pgb::pgapply($pg, $ours, 'rollback', $bundle, '--to', '0');
	is($code, 0, 'pgapply rollback --to 0') or diag($err);
	is($pg->dump_schema($ours, exclude_schema => ['pgbundle']),
	    $pg->dump_schema($theirs, exclude_table => ['gorp_migrations']),
	    'the same schema as sql-migrate down');
}

# --- another tool's marker: a down section never runs as part of an up -------------
{
	my $goose = "-- +goose Up\nCREATE TABLE a (id int);\n-- +goose Down\nDROP TABLE a;\n";
	my $m = Pgb::migrations('001_a.sql' => $goose);
	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m, '--layout', 'pgbundle');
	is($code, 1, 'a goose file read as pgbundle: exit 1');
	like($err, qr{^\Q$m\E/001_a\.sql:1: error: goose marker '-- \+goose Up' in a file read in the pgbundle layout: a down section must never run as part of an up \(pass --layout goose if the folder is goose's\)$}m,
	    'names the first marker and its line') or diag($err);
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m);
	is($code, 0, 'detected, it reads as goose') or diag($err);
	like($err, qr/read in the goose layout/, 'and says so');
}

# --- Flyway: pgapply adopt maps Flyway's history to the same versions ----------------
{
	my $bundle = Pgb::bundle("$root/tests/data/layouts/flyway");
	my $db = $pg->createdb;
	$pg->psql($db, "CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL,"
	    . " email text, nickname text);"
	    . " CREATE TABLE flyway_schema_history (installed_rank int, version varchar(50),"
	    . " description varchar(200), type varchar(20), script varchar(1000), checksum int,"
	    . " installed_by varchar(100), installed_on timestamp DEFAULT now(), execution_time int, success boolean);"
	    . " INSERT INTO flyway_schema_history VALUES"
	    . " (1, '1', 'create users', 'SQL', 'V1__create_users.sql', 0, 'x', now(), 1, true),"
	    . " (2, '1.1', 'add email', 'SQL', 'V1.1__add_email.sql', 0, 'x', now(), 1, true),"
	    . " (3, '1_2', 'add nickname', 'SQL', 'V1_2__add_nickname.sql', 0, 'x', now(), 1, true);");
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'adopt', $bundle, '--from', 'flyway');
	is($code, 0, 'flyway: adopt reads the history Flyway wrote') or diag($err);
	is(history($db), '1000000000000,1000001000000,1000002000000', 'to the versions the compiler gave');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 0, 'and apply runs only V2') or diag($err);
	is(history($db), '1000000000000,1000001000000,1000002000000,2000000000000', 'all four');
}

# --- errors --------------------------------------------------------------------------
sub rejects {
	my ($files, $opts, $re, $name) = @_;
	my $dir = Pgb::migrations(%$files);
	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir, @$opts);
	is($code, 1, "$name: exit 1");
	like($err, $re, "$name: message") or diag($err);
}

my $ok = "CREATE TABLE t (id int);\n";
rejects({ '001_a.sql' => $ok, 'V2__b.sql' => $ok }, [],
    qr{/V2__b\.sql:1: error: migrations mix layouts: '\S+/V2__b\.sql' is flyway, '\S+/001_a\.sql' is pgbundle \(pass --layout NAME},
    'pgbundle and flyway names in one folder');
rejects({ '001_a.up.sql' => $ok, '20230101000000_b.sql' => "-- migrate:up\n$ok" }, [],
    qr{migrations mix layouts: '\S+/20230101000000_b\.sql' is dbmate, '\S+/001_a\.up\.sql' is golang-migrate},
    'golang-migrate and dbmate names in one folder');
rejects({ '001_a.sql' => $ok, '002_b.sql' => "-- migrate:up\n$ok" }, [],
    qr{'\S+/002_b\.sql' is dbmate, '\S+/001_a\.sql' is pgbundle},
    'a dbmate file among pgbundle files');
rejects({ 'V1__a.sql' => $ok, 'V1.0__b.sql' => $ok }, [],
    qr{/V1__a\.sql:1: error: duplicate version 1000000000000: also used by '\S+/V1\.0__b\.sql'},
    'two Flyway files with one version name both');
rejects({ 'V1__a.sql' => $ok, 'R__views.sql' => $ok }, [],
    qr{/R__views\.sql:1: error: cannot parse migration file name: Flyway repeatable migrations \(R__\) are not supported},
    'a Flyway repeatable migration');
rejects({ 'V1.2.3.4__a.sql' => $ok }, [],
    qr{cannot parse migration file name: a Flyway version has at most 3 parts}, 'a Flyway version that does not fit');
rejects({ '001_a.up.sql' => $ok, '001_a.down.sql' => $ok }, ['--layout', 'flyway'],
    qr{/001_a\.up\.sql:1: error: cannot parse migration file name: expected V<version>__name\.sql},
    '--layout that does not fit the folder');
rejects({ '1_a.up.sql' => $ok, '01_b.up.sql' => $ok }, [],
    qr{duplicate version 1}, 'golang-migrate: one version twice');
rejects({ '20230101000000_a.sql' => "-- migrate:up\n$ok-- migrate:up\n$ok" }, [],
    qr{/20230101000000_a\.sql:3: error: second '-- migrate:up' \(the first is on line 1\)},
    'dbmate: a second up marker');
rejects({ '20230101000000_a.sql' => "$ok-- migrate:up\n$ok" }, ['--layout', 'dbmate'],
    qr{/20230101000000_a\.sql:1: error: statement before '-- migrate:up'}, 'dbmate: a statement outside the sections');
rejects({ '20230101000000_a.sql' => "-- migrate:up transaction:maybe\n$ok" }, [],
    qr{:1: error: unknown dbmate option 'transaction:maybe'}, 'dbmate: an unknown option');
rejects({ '20230101000000_a.sql' => "-- migrate:up\nVACUUM;\n" }, [],
    qr{/20230101000000_a\.sql:2: error: VACUUM cannot run inside a transaction block},
    'dbmate: statements are checked at their line of the file');
rejects({ '2023-01-01-000000_a/down.sql' => $ok, '2023-01-02-000000_b/up.sql' => $ok }, [],
    qr{/2023-01-01-000000_a/down\.sql:1: error: down script without an up migration}, 'diesel: a down.sql alone');
rejects({ '001_a.sql' => $ok, 'rollback_001_b.sql' => $ok }, [],
    qr{/rollback_001_b\.sql:1: error: down script name does not match its up script}, 'handmade: a rollback of another name');

# goose: annotations as goose reads them, or refused at their line
my $gup = "-- +goose Up\n$ok";
rejects({ '001_a.sql' => "$gup  -- +goose Down\nDROP TABLE t;\n" }, ['--layout', 'goose'],
    qr{/001_a\.sql:3: error: goose reads an annotation only as '-- \+goose WORD' at the start of its line}, 'goose: a marker after a blank');
rejects({ '001_a.sql' => "$gup--+goose Down\nDROP TABLE t;\n" }, ['--layout', 'goose'],
    qr{/001_a\.sql:3: error: goose reads an annotation only as}, 'goose: no blank after --');
rejects({ '001_a.sql' => "$gup-- +goose Sideways\n" }, [],
    qr{/001_a\.sql:3: error: unknown goose annotation '\+goose Sideways' \(known: Up, Down, StatementBegin, StatementEnd, NO TRANSACTION\)},
    'goose: an unknown annotation');
rejects({ '001_a.sql' => "-- +goose ENVSUB ON\n$gup" }, [],
    qr{/001_a\.sql:1: error: goose's ENVSUB replaces \$\{VAR\} with the environment's values when it runs; pgbundle ships the text as written},
    'goose: ENVSUB');
rejects({ '001_a.sql' => "$gup-- +goose StatementBegin\nSELECT 1;\n-- +goose Down\nSELECT 2;\n" }, [],
    qr{/001_a\.sql:5: error: '-- \+goose Down' inside a StatementBegin block \(opened on line 3\)},
    'goose: a marker inside a StatementBegin block');
rejects({ '001_a.sql' => "$gup-- +goose StatementBegin\nSELECT 1;\n" }, [],
    qr{/001_a\.sql:3: error: goose StatementBegin without its StatementEnd}, 'goose: StatementBegin left open');
rejects({ '001_a.sql' => "$gup-- +goose StatementEnd\n" }, [],
    qr{/001_a\.sql:3: error: goose StatementEnd without a StatementBegin}, 'goose: StatementEnd alone');
rejects({ '001_a.sql' => "-- +goose Down\nDROP TABLE t;\n$gup" }, ['--layout', 'goose'],
    qr{/001_a\.sql:3: error: '-- \+goose Up' after '-- \+goose Down'}, 'goose: down before up');
rejects({ '001_a.sql' => "$ok$gup" }, ['--layout', 'goose'],
    qr{/001_a\.sql:1: error: statement before '-- \+goose Up': goose runs only the sections}, 'goose: a statement before up');
rejects({ '001_a.sql' => $gup, '002_b.go' => "package migrations\n" }, [],
    qr{/002_b\.go:1: error: cannot parse migration file name: goose Go migrations cannot go in a bundle: pgbundle ships SQL; rewrite it as VERSION_name\.sql},
    'goose: a Go migration');
rejects({ '001_a.sql' => $gup, '001_a.down.sql' => $ok }, ['--layout', 'goose'],
    qr{/001_a\.down\.sql:1: error: cannot parse migration file name: a goose migration keeps its down part in the '-- \+goose Down' section of its own file},
    'goose: a separate down file');

# sql-migrate: markers spelt exactly as sql-migrate reads them
my $sup = "-- +migrate Up\n$ok";
rejects({ '1_a.sql' => "$sup-- +migrate down\nDROP TABLE t;\n" }, [],
    qr{/1_a\.sql:3: error: unknown sql-migrate marker '\+migrate down' \(known: Up, Down, StatementBegin, StatementEnd; the case counts\)},
    'sql-migrate: a marker in the wrong case');
rejects({ '1_a.sql' => "$sup --  +migrate Down\nDROP TABLE t;\n" }, ['--layout', 'sql-migrate'],
    qr{/1_a\.sql:3: error: sql-migrate reads a marker only as '-- \+migrate Word' at the start of its line},
    'sql-migrate: a marker spelt otherwise');
rejects({ '1_a.sql' => "-- +migrate Up notx\n$ok" }, [],
    qr{/1_a\.sql:1: error: unknown sql-migrate option 'notx' \(known: notransaction\)}, 'sql-migrate: an unknown option');
rejects({ '1_a.sql' => $sup, 'init.sql' => $sup }, ['--layout', 'sql-migrate'],
    qr{/init\.sql:1: error: cannot parse migration file name: expected VERSION_name\.sql holding '-- \+migrate Up' and '-- \+migrate Down' sections \(sql-migrate layout; pgbundle needs the number sql-migrate sorts by},
    'sql-migrate: a name without a number');

# another tool's marker, whatever the layout read
rejects({ '001_a.up.sql' => "$ok-- migrate:down\nDROP TABLE t;\n", '001_a.down.sql' => "DROP TABLE t;\n" }, [],
    qr{/001_a\.up\.sql:2: error: dbmate marker '-- migrate:down' in a file read in the golang-migrate layout: a down section must never run as part of an up},
    'golang-migrate: a dbmate down marker');
rejects({ '20230101000000_a.sql' => "-- migrate:up\n$ok\n-- +goose Down\nDROP TABLE t;\n" }, [],
    qr{/20230101000000_a\.sql:4: error: goose marker '-- \+goose Down' in a file read in the dbmate layout}, 'dbmate: a goose marker');
rejects({ 'V1__a.sql' => "--changeset alice:1\n$ok" }, [],
    qr{/V1__a\.sql:1: error: liquibase marker '--changeset alice:1' in a file read in the flyway layout}, 'flyway: a Liquibase changeset');
rejects({ '001_a.sql' => "--liquibase formatted sql\n$ok" }, ['--layout', 'pgbundle'],
    qr{/001_a\.sql:1: error: liquibase marker '--liquibase formatted sql' in a file read in the pgbundle layout}, 'pgbundle: a Liquibase header');
rejects({ '001_a.sql' => "$ok  -- +migrate Down\nDROP TABLE t;\n" }, [],
    qr{/001_a\.sql:2: error: sql-migrate marker '-- \+migrate Down' in a file read in the pgbundle layout}, 'pgbundle: a lone sql-migrate down marker');
rejects({ '2023-01-01-000000_a/up.sql' => "$ok-- +goose Down\nDROP TABLE t;\n" }, [],
    qr{/2023-01-01-000000_a/up\.sql:2: error: goose marker '-- \+goose Down' in a file read in the diesel layout}, 'diesel: a goose marker');
rejects({ '001_a.sql' => "\\ir part.sql\n", 'part.sql.inc' => '' }, [],
    qr{cannot include}, 'an include that is missing');
{
	# The master file that \i's every numbered file: each would run twice.
	my $m = Pgb::migrations('00_master_schema.sql' => "\\ir 01_users.sql\n\\ir 02_orders.sql\n",
	    '01_users.sql' => "CREATE TABLE users (id int);\n",
	    '02_orders.sql' => "CREATE TABLE orders (id int);\n");
	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m, '--include-root', $m);
	is($code, 1, 'a master file that includes the migrations: exit 1');
	like($err, qr{^\Q$m\E/00_master_schema\.sql:1: error: includes '\Q$m\E/01_users\.sql', another migration of the folder: it would run twice, here and as itself$}m,
	    'names both files') or diag($err);
	like($err, qr{^\Q$m\E/00_master_schema\.sql:2: error: includes '\Q$m\E/02_orders\.sql', another migration}m,
	    'every one of them');
	my $b = Pgb::migrations('001_a.sql' => "\\i 002_b.down.sql\n", '002_b.sql' => $ok,
	    '002_b.down.sql' => "DROP TABLE t;\n");
	($code, undef, $err) = PgbTest::run({ cwd => $b }, $pgbundle, 'check', '.');
	like($err, qr{^\./001_a\.sql:1: error: includes '\./002_b\.down\.sql', another migration of the folder}m,
	    'a down script, through \\i and the include root, too') or diag($err);
}
{
	my $m = Pgb::migrations('001_a.sql' => "\\ir lib/part.sql\n");
	PgbTest::write_file("$m/lib/part.sql", "$ok-- migrate:down\nDROP TABLE t;\n");
	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m, '--include-root', $m);
	is($code, 1, 'an included file with a marker: exit 1');
	like($err, qr{/lib/part\.sql:2: error: dbmate marker '-- migrate:down' in an included file: only a migration's own file may hold sections},
	    'an included file with a marker: message') or diag($err);
}
{
	my $m = Pgb::migrations('001_a.sql' => "$ok-- changeset: not a Liquibase marker\n"
	    . "-- +goose StatementBegin is harmless here\nSELECT '-- +goose Down';\n");
	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m);
	is($code, 0, 'comments that only look like markers are comments') or diag($err);
}
{
	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', "$root/migrations", '--layout', 'hibernate');
	is($code, 2, 'an unknown --layout is a usage error');
	like($err, qr/unknown layout 'hibernate'/, 'and says so');
}

done_testing();
