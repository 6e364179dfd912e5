#!/usr/bin/perl
# 021_refusals.pl - what apply refuses or rolls back, and that each refusal
# names the migration and leaves the database exactly as it was: a failing
# statement, a false verify query, drift, an older bundle, out-of-order
# versions, --single-transaction, and a failed no-transaction migration
# resumed with --retry-failed (dropping the INVALID index it left).
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;

sub tables {
	my ($db) = @_;
	return $pg->psql($db, "SELECT coalesce(string_agg(relname, ',' ORDER BY relname), '') "
	    . "FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'");
}

sub history {
	my ($db) = @_;
	return $pg->psql($db, "SELECT coalesce(string_agg(version || ':' || status, ',' "
	    . "ORDER BY version), '') FROM pgbundle.history");
}

my $ok1 = "CREATE TABLE t1 (id int PRIMARY KEY);\n";

# --- a statement failing mid-migration leaves nothing of it --------------------
{
	my $m = Pgb::migrations(
	    '001_ok.sql' => $ok1,
	    '002_bad.sql' => "CREATE TABLE t2 (id int);\nINSERT INTO t2 VALUES (1);\n"
		. "\n-- this one fails\nSELECT 1 / 0;\nCREATE TABLE t3 (id int);\n");
	my $db = $pg->createdb;
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($m));
	is($code, 5, 'a failing statement exits 5');
	like($err, qr/migration '002_bad' failed at statement 3 of 4 \(migrations\/002_bad\.sql:5\)/,
	    'names the migration, statement, file and line');
	like($err, qr/SQLSTATE 22012: division by zero/, 'gives the SQLSTATE and message');
	like($err, qr/SQL: SELECT 1 \/ 0;/, 'shows an excerpt of the SQL');
	is(tables($db), 't1', 'the failed migration left nothing; the one before stays');
	is(history($db), '1:applied', 'history has only the committed migration');
}

# --- a deferred constraint fails at COMMIT: still named, still rolled back ----
{
	my $m = Pgb::migrations('001_deferred.sql' => "CREATE TABLE p (id int PRIMARY KEY);\n"
	    . "CREATE TABLE c (pid int REFERENCES p DEFERRABLE INITIALLY DEFERRED);\n"
	    . "INSERT INTO c VALUES (1);\n");
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($m));
	is($code, 5, 'a deferred constraint failing at COMMIT exits 5');
	like($err, qr{migration '001_deferred' \(migrations/001_deferred\.sql\) failed: .*violates foreign key},
	    'names the migration');
	is(tables($db), '', 'and nothing of it remains');
}

# --- a migration's own SET statement_timeout does not cut the bookkeeping -------
# 40 ms, not 1 ms: pgapply's first own statement, which lifts it, runs under
# it, and a loaded machine can take a millisecond to schedule any statement.
{
	my $m = Pgb::migrations('001_short.sql' => "CREATE TABLE s ();\nSET statement_timeout = '40ms';\n",
	    '002_next.sql' => "CREATE TABLE n ();\nSELECT pg_sleep(0.3);\n");
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($m));
	is($code, 0, "a migration's SET statement_timeout affects neither its history row nor the next migration")
	    or diag($err);
	# As under psql, the timeout applies to each statement alone, not to
	# the rest of the migration together.
	my $each = Pgb::migrations('001_each.sql' => "SET statement_timeout = '300ms';\n"
	    . join('', map { "SELECT pg_sleep(0.15);\n" } 1 .. 4) . "CREATE TABLE timed ();\n");
	my $db2 = $pg->createdb;
	($code, undef, $err) = Pgb::pgapply($pg, $db2, 'apply', Pgb::bundle($each));
	is($code, 0, 'statement_timeout set by a migration times each statement alone') or diag($err);
}

# --- a verify query that is not true rolls the migration back ---------------
{
	my $m = Pgb::migrations(
	    '001_seed.sql' => "-- verify: SELECT count(*) = 2 FROM seed\n"
		. "CREATE TABLE seed (id int);\nINSERT INTO seed VALUES (1);\n");
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($m));
	is($code, 5, 'a false verify query exits 5');
	like($err, qr/^pgapply: verify query 1 of '001_seed' \(migrations\/001_seed\.sql:1\) did not return true: it returned false$/m,
	    'names the verify query and migration');
	is(tables($db), '', 'and the migration rolled back');
}

# --- drift -------------------------------------------------------------------------
{
	my $m = Pgb::migrations('001_ok.sql' => $ok1);
	my $db = $pg->createdb;
	my ($code) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($m));
	is($code, 0, 'drift: first apply');
	PgbTest::write_file("$m/001_ok.sql", "CREATE TABLE t1 (id bigint PRIMARY KEY);\n");
	PgbTest::write_file("$m/002_more.sql", "CREATE TABLE t2 (id int);\n");
	Pgb::sum_fix($m);
	my $before = $pg->dump_schema($db);
	my ($c2, undef, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($m));
	is($c2, 4, 'an edited applied migration exits 4');
	like($err, qr/checksum mismatch for applied migration '001_ok'/, 'says drift');
	like($err, qr/database has sha256:[0-9a-f]{64}, bundle has sha256:[0-9a-f]{64}/,
	    'gives both checksums');
	is($pg->dump_schema($db), $before, 'changes nothing (002 not applied)');
	my ($c3, $out) = Pgb::pgapply($pg, $db, 'status', Pgb::bundle($m));
	like($out, qr/^drifted\s+1_ok\s/m, 'status shows the drift');
	($c3, $out, $err) = Pgb::pgapply($pg, $db, 'plan', Pgb::bundle($m));
	is($c3, 4, 'plan reports the same conflict');
}

# --- an older bundle ------------------------------------------------------------------
{
	my $new = Pgb::migrations('001_ok.sql' => $ok1, '002_t2.sql' => "CREATE TABLE t2 ();\n");
	my $old = Pgb::migrations('001_ok.sql' => $ok1);
	my $db = $pg->createdb;
	my ($code) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($new));
	is($code, 0, 'older bundle: newer one applied');
	my ($c2, undef, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($old));
	is($c2, 4, 'an older bundle exits 4');
	like($err, qr/database has migration 2 't2' that the bundle does not hold/,
	    'names the version the bundle lacks');
}

# --- out of order ---------------------------------------------------------------
{
	my $first = Pgb::migrations('001_a.sql' => $ok1, '003_c.sql' => "CREATE TABLE t3 ();\n");
	my $db = $pg->createdb;
	my ($code) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($first));
	is($code, 0, 'out of order: 1 and 3 applied');
	PgbTest::write_file("$first/002_b.sql", "CREATE TABLE t2 ();\n");
	Pgb::sum_fix($first);
	my $b = Pgb::bundle($first);
	my ($c2, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($c2, 4, 'a pending version below an applied one exits 4');
	like($err, qr/pending migration '002_b' is older than applied migration 3/,
	    'names both');
	is(tables($db), 't1,t3', 'and changes nothing');
	($c2, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b, '--allow-out-of-order');
	is($c2, 0, '--allow-out-of-order applies it') or diag($err);
	is(tables($db), 't1,t2,t3', 'now all three');
}

# --- --single-transaction ------------------------------------------------------------
{
	my $m = Pgb::migrations('001_a.sql' => $ok1,
	    '002_b.sql' => "CREATE TABLE t2 ();\nSELECT 1/0;\n");
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($m),
	    '--single-transaction');
	is($code, 5, '--single-transaction: a failure exits 5');
	is(tables($db), '', '--single-transaction: nothing at all is applied');
	my $n = Pgb::migrations('001_a.sql' => $ok1,
	    '002_idx.sql' => "-- pgbundle:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t1 (id);\n");
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($n),
	    '--single-transaction');
	is($code, 2, '--single-transaction refuses a no-transaction migration');
	like($err, qr/cannot include no-transaction migration '002_idx'/, 'and names it');
}

# --- a no-transaction migration fails, then resumes with --retry-failed ---------------
{
	my $m = Pgb::migrations(
	    '001_t.sql' => "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1), (1), (2);\n",
	    '002_idx.sql' => "-- pgbundle:no-transaction\n"
		. "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a_plain ON t (a);\n"
		. "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_a_key ON t (a);\n"
		. "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_a_third ON t (a);\n",
	    '003_after.sql' => "CREATE TABLE after_idx ();\n");
	my $b = Pgb::bundle($m);
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 6, 'a failed no-transaction migration exits 6 (needs an operator)');
	like($err, qr/no-transaction migration '002_idx' failed at statement 2 of 3 \(migrations\/002_idx\.sql:3\)/,
	    'names the statement');
	like($err, qr/SQLSTATE 23505/, 'with the SQLSTATE');
	is(history($db), '1:applied,2:failed', 'history records the failure');
	is($pg->psql($db, 'SELECT statements_done FROM pgbundle.history WHERE version = 2'), '1',
	    'and how far it got');
	is($pg->psql($db, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a_key'::regclass"),
	    'f', 'the failed CREATE INDEX CONCURRENTLY left an INVALID index');

	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 6, 'a re-run without --retry-failed refuses');
	like($err, qr/no-transaction migration '002_idx' failed after 1 of 3 statements/,
	    'and says where it stopped');
	like($err, qr/--retry-failed/, 'and how to go on');
	my ($c, $out) = Pgb::pgapply($pg, $db, 'status', $b);
	like($out, qr/^failed\s+2_idx\s/m, 'status shows it failed');

	$pg->psql($db, "DELETE FROM t WHERE ctid = (SELECT max(ctid) FROM t WHERE a = 1)");
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b, '--retry-failed');
	is($code, 0, '--retry-failed resumes after the operator fixed the data') or diag($err);
	is($pg->psql($db, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a_key'::regclass"),
	    't', 'the INVALID index was dropped and built again');
	is(history($db), '1:applied,2:applied,3:applied', 'everything applied');
	is($pg->psql($db, "SELECT count(*) FROM pg_indexes WHERE tablename = 't'"), '3',
	    'each index exists once');
}

done_testing();
