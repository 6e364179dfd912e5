#!/usr/bin/perl
# 015_released.pl - migrations recorded in pgbundle.sum are released:
# build and check lint only the others and say how many they left out,
# --lint-all lints everything, a folder without a sum file is linted
# whole; check passes new migrations and lists them, fails only edits,
# renames and removals; build refuses an edit, changing nothing.  And
# every problem of a run is reported: the sum file's under --strict, the
# problems of a file whose version another holds, and the rest of a
# file after its first problem.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pgbundle = PgbTest::bin('pgbundle');

sub run_pgb { return PgbTest::run($pgbundle, @_) }

sub listing {
	my ($dir) = @_;
	opendir(my $dh, $dir) or die "$dir: $!";
	my @v = sort grep { !/^\./ } readdir($dh);
	closedir($dh);
	return join ' ', @v;
}

# Three released migrations that the linter dislikes.
my $m = Pgb::migrations(
    '001_users.sql' => "CREATE TABLE users (id int, old text);\n",
    '002_drop.sql' => "ALTER TABLE users DROP COLUMN old;\n",
    '003_orders.sql' => "CREATE TABLE orders (id int);\nDROP TABLE IF EXISTS legacy;\n");

# --- no sum file: everything is linted ---------------------------------------------------
my ($code, undef, $err) = run_pgb('check', $m);
is($code, 0, 'no sum file: check passes');
is(scalar(() = $err =~ /: warning: /g), 5, 'and lints every migration (3 no-down, drop-column, drop-table)');
unlike($err, qr/not linted/, 'leaving none out');
($code, undef, $err) = run_pgb('sum', $m, '--fix');
is($code, 0, 'sum --fix records them') or diag($err);

# --- released migrations are not linted -------------------------------------------------
($code, undef, $err) = run_pgb('check', $m);
is($code, 0, 'check passes');
unlike($err, qr/: warning: /, 'without warnings about released migrations');
like($err, qr{^pgbundle: \Q$m\E: 3 migrations, 4 statements, 0 warnings$}m, 'the summary');
like($err, qr{^pgbundle: \Q$m\E: 3 released migrations \(in the sum file\) not linted; --lint-all lints them too$}m,
    'says how many it did not lint');
($code, undef, $err) = run_pgb('check', $m, '--strict');
is($code, 0, '--strict passes: history is not held against the folder') or diag($err);

# A new migration is linted, and listed as new.
PgbTest::write_file("$m/004_email.sql", "ALTER TABLE users ADD COLUMN email text NOT NULL;\n");
($code, undef, $err) = run_pgb('check', $m);
is($code, 0, 'a new migration not in the sum file: check passes') or diag($err);
like($err, qr{^\Q$m\E/004_email\.sql:1: note: new migration 4, not yet in pgbundle\.sum \('pgbundle build' records it; commit pgbundle\.sum with it\)$}m,
    'lists it as new');
like($err, qr{^\Q$m\E/004_email\.sql:1: warning: ADD COLUMN \.\.\. NOT NULL without DEFAULT fails on a table that has rows \[not-null-no-default\]$}m,
    'lints it');
like($err, qr{^\Q$m\E/004_email\.sql:1: warning: migration has no down script \[no-down\]$}m, 'all of it');
is(scalar(() = $err =~ /: warning: /g), 2, 'and only it');
like($err, qr{^pgbundle: \Q$m\E: 4 migrations \(1 new\), 5 statements, 2 warnings$}m, 'the summary counts it');
($code, undef, $err) = run_pgb('check', $m, '--strict');
is($code, 1, '--strict holds the new migration\'s warnings against it');
like($err, qr{^pgbundle: \Q$m\E: 0 errors, 2 warnings \(--strict\)$}m, 'only those');

($code, undef, $err) = run_pgb('sum', $m);
is($code, 0, 'sum agrees with a folder that only adds');
like($err, qr{^pgbundle: \Q$m\E/pgbundle\.sum agrees with the folder and lacks 1 new migration \(4 migrations\): 'pgbundle build' or 'pgbundle sum --fix' records them$}m,
    'and says what it lacks');

# --lint-all lints the released ones too.
($code, undef, $err) = run_pgb('check', $m, '--lint-all');
is($code, 0, 'check --lint-all');
is(scalar(() = $err =~ /: warning: /g), 7, 'lints every migration');
like($err, qr{/002_drop\.sql:1: warning: DROP COLUMN loses data \[drop-column\]}, 'released ones included');
unlike($err, qr/not linted/, 'and leaves none out');
($code, undef, $err) = run_pgb('check', $m, '--lint-all', '--strict');
is($code, 1, '--lint-all --strict fails on history');

# build: the same, and it records the new one.
my ($c, $bundle, $e) = Pgb::build($m);
is($c, 0, 'build') or diag($e);
like($e, qr{^pgbundle: \Q$m\E: 3 released migrations \(in the sum file\) not linted; --lint-all lints them too$}m,
    'build says so too');
is(scalar(() = $e =~ /: warning: /g), 2, 'and lints the new one only');
like(PgbTest::read_file("$m/pgbundle.sum"), qr/^4 email [0-9a-f]{64}$/m, 'build records the new migration');
($c, undef, $e) = Pgb::build($m, '--lint-all');
is(scalar(() = $e =~ /: warning: /g), 7, 'build --lint-all lints everything');

# --- edits, renames and removals of recorded migrations fail ----------------------------------
my $sum = PgbTest::read_file("$m/pgbundle.sum");
my $files = listing($m);
PgbTest::write_file("$m/002_drop.sql", "ALTER TABLE users DROP COLUMN IF EXISTS old;\n");
($code, undef, $err) = run_pgb('check', $m);
is($code, 1, 'an edited released migration fails check');
like($err, qr{^\Q$m\E/pgbundle\.sum:3: error: '\Q$m\E/002_drop\.sql' \(migration 2 'drop'\) changed after pgbundle\.sum recorded it}m,
    'at its line of the sum file');
my $out = PgbTest::tempdir() . '/app.pgb';
($code, undef, $err) = run_pgb('build', $m, '--unsigned', '-o', $out);
is($code, 1, 'build refuses it: exit 1');
like($err, qr{^\Q$m\E/pgbundle\.sum:3: error: '\Q$m\E/002_drop\.sql' \(migration 2 'drop'\) changed after pgbundle\.sum recorded it: a released migration must not change; restore it, or accept the change with 'pgbundle sum --fix' \(and 'pgapply accept' on the databases that ran it\)$}m,
    'naming the file');
like($err, qr{^pgbundle: \Q$m\E: 1 error, 0 warnings; nothing was written$}m, 'and that nothing was written');
ok(!-e $out && !-e "$out.sig", 'no bundle');
is(PgbTest::read_file("$m/pgbundle.sum"), $sum, 'the sum file is unchanged');
is(listing($m), $files, 'the folder is unchanged');
($code, undef, $err) = run_pgb('sum', $m, '--fix');
is($code, 0, 'sum --fix is the explicit way to accept it');
($c, undef, $e) = Pgb::build($m);
is($c, 0, 'then build goes on') or diag($e);

rename "$m/003_orders.sql", "$m/003_purchases.sql";
($code, undef, $err) = run_pgb('build', $m, '--unsigned', '-o', $out);
is($code, 1, 'build refuses a renamed released migration');
like($err, qr{^\Q$m\E/pgbundle\.sum:4: error: migration 3 is recorded as 'orders', but its file is now '\Q$m\E/003_purchases\.sql'$}m,
    'naming it');
rename "$m/003_purchases.sql", "$m/003_orders.sql";
unlink "$m/004_email.sql";
($code, undef, $err) = run_pgb('check', $m);
is($code, 1, 'a removed released migration fails check');
like($err, qr{^\Q$m\E/pgbundle\.sum:5: error: migration 4 'email' is recorded here, but no file in the folder has that version any more$}m,
    'naming it');

# --- --strict shows the sum file's errors when a warning is promoted --------------------------
PgbTest::write_file("$m/004_email.sql", "ALTER TABLE users ADD COLUMN email text NOT NULL;\n");
PgbTest::write_file("$m/005_new.sql", "DROP TABLE IF EXISTS scratch;\n");
PgbTest::write_file("$m/001_users.sql", "CREATE TABLE users (id bigint, old text);\n");
($code, undef, $err) = run_pgb('check', $m, '--strict');
is($code, 1, '--strict: exit 1');
like($err, qr{^\Q$m\E/005_new\.sql:1: error: DROP TABLE loses data \[drop-table\]$}m, 'the promoted warning');
like($err, qr{^\Q$m\E/pgbundle\.sum:2: error: '\Q$m\E/001_users\.sql' \(migration 1 'users'\) changed after pgbundle\.sum recorded it}m,
    'and the sum file\'s error');
like($err, qr{^pgbundle: \Q$m\E: 1 error, 2 warnings \(--strict\)$}m, 'both counted');

# --- every problem of a run -------------------------------------------------------------------
{
	my $d = Pgb::migrations(
	    '001_a.sql' => "-- pgbundle:allow no-down\nCREATE TABLE a (id int);\n",
	    '002_b.sql' => "-- pgbundle:allow no-down\nCREATE TABLE b (id int);\n",
	    '002_c.sql' => "-- Verify: SELECT true\nCREATE TABLE c (id int);\nVACUUM;\n",
	    '002_c.down.sql' => "COMMIT;\n",
	    '003_d.sql' => "-- pgbundle:allow no-down\n\\i nosuch.sql\nSELECT :'x';\nSAVEPOINT s;\n");
	($code, undef, $err) = run_pgb('check', $d);
	is($code, 1, 'several problems: exit 1');
	like($err, qr{^\Q$d\E/002_c\.sql:1: error: duplicate version 2: also used by '\Q$d\E/002_b\.sql'$}m,
	    'a duplicate version is named');
	like($err, qr{^\Q$d\E/002_c\.sql:1: error: misspelled directive '-- Verify: SELECT true': write '-- verify: SELECT true'$}m,
	    'and the duplicate file is checked too: its directive');
	like($err, qr{^\Q$d\E/002_c\.sql:3: error: VACUUM cannot run inside a transaction block}m, 'its statements');
	like($err, qr{^\Q$d\E/002_c\.down\.sql:1: error: transaction control statement not allowed}m, 'its down script');
	like($err, qr{^\Q$d\E/003_d\.sql:2: error: cannot include 'nosuch\.sql'}m, 'a file with an include error');
	like($err, qr{^\Q$d\E/003_d\.sql:3: error: psql variable interpolation :'x' is not supported}m,
	    'is still checked after it: a variable');
	like($err, qr{^\Q$d\E/003_d\.sql:4: error: transaction control statement not allowed}m, 'and a statement');
	my @e = $err =~ /: error: /g;
	is(scalar @e, 7, 'seven problems in one run') or diag($err);
	like($err, qr{: 7 errors, 0 warnings$}m, 'counted');
	my $o = PgbTest::tempdir() . '/d.pgb';
	($code) = run_pgb('build', $d, '--unsigned', '-o', $o);
	is($code, 1, 'build refuses the same folder');
	ok(!-e $o, 'writing nothing');
}

done_testing;
