#!/usr/bin/perl
# 070_check.pl - pgbundle check --db URL / --scratch: every migration
# proven on a scratch database with the runtime's own code.  A migration
# that only works on an old database, a false verify query, a down script
# that forgets a column (named), one that drops too much, a no-transaction
# migration that cannot run twice (warning, error with --strict), --json,
# --locks, --scratch, the sample folder in a few seconds, and no database
# of the server touched or left behind.
use strict;
use warnings;

use JSON::PP ();
use Test::More;
use Time::HiRes ();
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $url = $pg->url;
my $root = PgbTest::root();
my $pgbundle = PgbTest::bin('pgbundle');

# check DIR --db URL @opts: ($code, $stdout, $stderr)
sub check {
	my ($dir, @opts) = @_;
	return PgbTest::run($pgbundle, 'check', $dir, '--db', $url, @opts);
}

sub scratch_dbs {
	return $pg->psql('postgres', "SELECT count(*) FROM pg_database WHERE "
	    . "datname LIKE 'pgbundle_scratch%'");
}

# A database of the server that check must leave alone.
my $keep = $pg->createdb('keep');
$pg->psql($keep, 'CREATE TABLE precious (id int); INSERT INTO precious VALUES (1)');

# --- the sample folder proves clean, fast -------------------------------------
my $t0 = Time::HiRes::time();
my ($code, $out, $err) = check(Pgb::sample($pg));
my $took = Time::HiRes::time() - $t0;
is($code, 0, 'the sample migrations prove clean') or diag($err);
like($err, qr{^pgbundle: \S+/migrations: 13 migrations proven on a scratch database in [\d.]+ s \(13 down scripts, 1 re-run, 0 baselines\): 0 errors, 0 warnings$}m,
    'summary: applied, down scripts, re-runs');
cmp_ok($took, '<', 8, "checking the sample folder takes a few seconds ($took s)");
is($out, '', 'nothing on stdout without --json');
is(scratch_dbs(), '0', 'the scratch database is dropped');
is($pg->psql($keep, 'SELECT count(*) FROM precious'), '1',
    'other databases are untouched');

# --- a migration that only works on an old database ---------------------------
my $dir = Pgb::migrations(
    '001_users.sql' => "CREATE TABLE users (id int PRIMARY KEY, email text);\n",
    '001_users.down.sql' => "DROP TABLE users;\n",
    '002_drop_old_idx.sql' => "-- Old databases have this index.\n\n"
	. "DROP INDEX users_email_old_idx;\n",
    '002_drop_old_idx.down.sql' => "SELECT 1;\n",
    '003_more.sql' => "ALTER TABLE users ADD COLUMN x int;\n",
    '003_more.down.sql' => "ALTER TABLE users DROP COLUMN x;\n");
($code, $out, $err) = check($dir);
is($code, 1, 'a migration that fails on a fresh database: exit 1');
like($err, qr{^\Q$dir\E/002_drop_old_idx\.sql:3: error: index "users_email_old_idx" does not exist$}m,
    'file:line: error: and the server message') or diag($err);
like($err, qr{^\Q$dir\E/002_drop_old_idx\.sql:1: note: the 1 migration after it was not checked$}m,
    'the migrations after it are named as not checked');
like($err, qr{1 migration proven .*: 1 error, 0 warnings$}m, 'summary counts it');
is(scratch_dbs(), '0', 'dropped after a failure too');

# --- a verify query that is false ----------------------------------------------
$dir = Pgb::migrations(
    '001_a.sql' => "-- pgbundle:allow no-down\n-- verify: SELECT true\n"
	. "-- verify: SELECT count(*) = 1 FROM t\nCREATE TABLE t (id int);\n");
($code, undef, $err) = check($dir);
is($code, 1, 'a false verify query: exit 1');
like($err, qr{^\Q$dir\E/001_a\.sql:3: error: verify query did not return true: SELECT count\(\*\) = 1 FROM t$}m,
    'names the verify line and the query') or diag($err);

# --- a down script that forgets a column --------------------------------------
$dir = Pgb::migrations(
    '001_users.sql' => "CREATE TABLE users (id int PRIMARY KEY);\n",
    '001_users.down.sql' => "DROP TABLE users;\n",
    '002_profile.sql' => "ALTER TABLE users ADD COLUMN nickname text;\n"
	. "ALTER TABLE users ADD COLUMN age int;\n"
	. "CREATE INDEX users_age_idx ON users (age);\n",
    '002_profile.down.sql' => "ALTER TABLE users DROP COLUMN age;\n",
    '003_later.sql' => "CREATE TABLE later (id int);\n",
    '003_later.down.sql' => "DROP TABLE later;\n");
($code, undef, $err) = check($dir);
is($code, 1, 'a down script that forgets a column: exit 1');
like($err, qr{^\Q$dir\E/002_profile\.down\.sql:1: error: down script leaves column 'users\.nickname'$}m,
    'the finding names the column') or diag($err);
unlike($err, qr{users_age_idx}, 'the index went with its column');
like($err, qr{^\Q$dir\E/002_profile\.sql:1: error: does not apply again after its down script: column "nickname" of relation "users" already exists$}m,
    'the re-apply fails, and says why');
like($err, qr{3 migrations proven .*\(3 down scripts, 0 re-runs}m,
    'checking goes on after it (on a rebuilt database)');

# --- a down script that drops too much, or changes a type -----------------------
$dir = Pgb::migrations(
    '001_t.sql' => "CREATE TABLE t (id int, note varchar(10));\n",
    '001_t.down.sql' => "DROP TABLE t;\n",
    '002_u.sql' => "CREATE TABLE u (id int);\n"
	. "ALTER TABLE t ALTER COLUMN note TYPE text;\n",
    '002_u.down.sql' => "DROP TABLE u;\nDROP TABLE t;\n");
($code, undef, $err) = check($dir);
is($code, 1, 'a down script that drops too much: exit 1');
like($err, qr{/002_u\.down\.sql:1: error: down script drops table 't'$}m,
    'names what it dropped') or diag($err);
unlike($err, qr{drops column}, 'not each of its columns');

$dir = Pgb::migrations(
    '001_t.sql' => "CREATE TABLE t (id int, note varchar(10));\n",
    '001_t.down.sql' => "DROP TABLE t;\n",
    '002_u.sql' => "-- pgbundle:allow alter-type\n"
	. "ALTER TABLE t ALTER COLUMN note TYPE text;\n",
    '002_u.down.sql' => "SELECT 1;\n");
($code, undef, $err) = check($dir);
like($err, qr{/002_u\.down\.sql:1: error: down script does not restore column 't\.note' \(was 'character varying\(10\)', now 'text'\)$}m,
    'a changed type, before and after') or diag($err);

# --- a no-transaction migration that cannot run twice --------------------------
$dir = Pgb::migrations(
    '001_t.sql' => "-- pgbundle:allow no-down\nCREATE TABLE t (a int, b int);\n",
    '002_idx.sql' => "-- pgbundle:no-transaction\n"
	. "-- pgbundle:allow not-idempotent,no-down\n"
	. "CREATE INDEX CONCURRENTLY t_a_idx ON t (a);\n",
    '003_ok.sql' => "-- pgbundle:no-transaction\n-- pgbundle:allow no-down\n"
	. "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_b_idx ON t (b);\n");
($code, undef, $err) = check($dir);
is($code, 0, 'not idempotent is a warning: exit 0') or diag($err);
like($err, qr{^\Q$dir\E/002_idx\.sql:3: warning: no-transaction migration is not idempotent: a second run fails: relation "t_a_idx" already exists$}m,
    'reported at its statement with the server message');
unlike($err, qr{003_ok}, 'an idempotent one is not reported');
like($err, qr{\(0 down scripts, 2 re-runs, 0 baselines\): 0 errors, 1 warning$}m,
    'both no-transaction migrations ran twice');
($code, undef, $err) = check($dir, '--strict');
is($code, 1, '--strict: exit 1');
like($err, qr{/002_idx\.sql:3: error: no-transaction migration is not idempotent}m,
    '--strict makes it an error');

# --- --json ---------------------------------------------------------------------------
$dir = Pgb::migrations(
    '001_users.sql' => "CREATE TABLE users (id int);\n",
    '001_users.down.sql' => "SELECT 1;\n");
($code, $out, $err) = check($dir, '--json');
is($code, 1, '--json: exit 1 on a finding');
my $j = eval { JSON::PP::decode_json($out) };
ok($j, 'stdout is one JSON object') or diag($out);
is($j->{ok}, JSON::PP::false(), 'ok is false');
is($j->{errors}, 2, 'two errors: the down script, then the re-apply');
is($j->{applied}, 1, 'one migration applied');
my ($f) = grep { $_->{file} =~ /\.down\.sql$/ } @{ $j->{findings} };
is($f->{file}, "$dir/001_users.down.sql", 'finding file');
is($f->{line}, 1, 'finding line');
is($f->{message}, "down script leaves table 'users'", 'finding message');
is($err, '', 'nothing on stderr with --json');

# --- --locks: write-blocking locks on tables earlier migrations filled ------------
$dir = Pgb::migrations(
    '001_plans.sql' => "-- pgbundle:allow no-down\n"
	. "CREATE TABLE plans (code text PRIMARY KEY);\n"
	. "CREATE TABLE accounts (id int);\n"
	. "COPY plans (code) FROM stdin;\nfree\npro\n\\.\n",
    '002_fk.sql' => "-- pgbundle:allow no-down\n"
	. "ALTER TABLE accounts ADD COLUMN plan text REFERENCES plans;\n"
	. "ALTER TABLE plans ADD COLUMN note text;\n");
($code, undef, $err) = check($dir, '--locks');
is($code, 0, '--locks: warnings only') or diag($err);
like($err, qr{^\Q$dir\E/002_fk\.sql:2: warning: takes a SHARE ROW EXCLUSIVE lock \(writes wait\) on 'plans', which an earlier migration filled$}m,
    'a foreign key to a filled table is reported at its statement');
like($err, qr{^\Q$dir\E/002_fk\.sql:3: warning: takes an ACCESS EXCLUSIVE lock \(reads and writes wait\) on 'plans'}m,
    'a stronger lock later in the migration is reported too');
unlike($err, qr{on 'accounts'}, 'empty tables are not reported');

# --- usage -------------------------------------------------------------------------------
($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir, '--db', $url,
    '--scratch');
is($code, 2, '--db and --scratch exclude each other');
($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir, '--db',
    'postgres://nobody@127.0.0.1:1/none');
is($code, 4, 'an unreachable server: exit 4');
like($err, qr{^pgbundle: cannot connect to the database$}m, 'and says so');

# --- --scratch: a throwaway server, removed afterwards ----------------------------
my $tmp = PgbTest::tempdir();
$dir = Pgb::migrations(
    '001_users.sql' => "CREATE TABLE users (id int);\n",
    '001_users.down.sql' => "DROP TABLE users;\n");
($code, undef, $err) = PgbTest::run({ env => { TMPDIR => $tmp } }, $pgbundle,
    'check', $dir, '--scratch');
is($code, 0, '--scratch proves on a server of its own') or diag($err);
like($err, qr{1 migration proven on a scratch database}, 'and reports it');
opendir(my $dh, $tmp) or die "$tmp: $!";
my @left = grep { !/^\.\.?$/ } readdir($dh);
closedir($dh);
is_deeply(\@left, [], 'its directory is removed');
is(scratch_dbs(), '0', 'no scratch database left on the real server');

done_testing;
