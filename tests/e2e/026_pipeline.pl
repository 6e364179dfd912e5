#!/usr/bin/perl
# 026_pipeline.pl - a transactional migration goes out in one round trip
# (libpq pipeline mode): the failing statement is still named with its
# line, nothing of it stays, a migration larger than one pipeline chunk
# and one that returns rows both work, the history row gets a duration,
# and a "statement" psql would send as several commands falls back to
# the plain protocol.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;

# --- a failure in the middle is attributed and rolls everything back -------
{
	my $dir = Pgb::migrations(
	    '001_ok.sql' => "CREATE TABLE a (id int);\n",
	    '002_bad.sql' => "CREATE TABLE b (id int);\n\n"
		. "INSERT INTO b VALUES (1);\n"
		. "INSERT INTO b VALUES ('not a number');\n"
		. "CREATE TABLE c (id int);\n");
	my $bundle = Pgb::bundle($dir);
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 5, 'a failing statement exits 5');
	like($err, qr/migration '002_bad' failed at statement 3 of 4 \(migrations\/002_bad\.sql:4\)/,
	    'names the statement and its line');
	like($err, qr/SQLSTATE 22P02/, 'keeps the SQLSTATE');
	like($err, qr/SQL: INSERT INTO b VALUES \('not a number'\)/, 'quotes the statement');
	is($pg->psql($db, "SELECT to_regclass('b') IS NULL AND "
	    . "to_regclass('c') IS NULL"), 't', 'nothing of 002 stays');
	is($pg->psql($db, 'SELECT string_agg(version::text, \',\') FROM pgbundle.history'),
	    '1', 'only 001 is recorded');
	is($pg->psql($db, 'SELECT duration_ms >= 0 FROM pgbundle.history'), 't',
	    'the history row has a duration');
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 5, 'the same failure again on a second run') or diag($err);
}

# --- more than one pipeline chunk, rows coming back, a late failure --------
{
	my $n = 3000;
	my $big = "CREATE TABLE big (id int PRIMARY KEY, pad text);\n"
	    . join('', map { "INSERT INTO big VALUES ($_, '" . ('x' x 40) . "');\n" } 1 .. $n)
	    . "SELECT g FROM generate_series(1, 200000) g;\n";
	my $dir = Pgb::migrations('001_big.sql' => $big,
	    '002_late.sql' => "CREATE TABLE late (id int);\n"
		. join('', map { "INSERT INTO late VALUES ($_);\n" } 1 .. $n)
		. "INSERT INTO late VALUES (1/0);\n");
	my $bundle = Pgb::bundle($dir);
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 5, 'the late failure exits 5');
	is($pg->psql($db, 'SELECT count(*) FROM big'), $n,
	    'a migration larger than a pipeline chunk, with rows back, applies');
	my $last = $n + 2;
	like($err, qr/migration '002_late' failed at statement $last of $last \(migrations\/002_late\.sql:$last\)/,
	    'a failure after several chunks names the right statement');
	is($pg->psql($db, "SELECT to_regclass('late') IS NULL"), 't',
	    'and the earlier chunks of that migration rolled back');
}

# --- several commands in what psql's split calls one statement ------------
{
	# The server continues E'x' into the next line's string, where \' is
	# a quote; psql reads that string as '\' and ends the statement only
	# at the second semicolon.  The compiler keeps psql's split, so one
	# "statement" holds two commands (tests/data/lex/continuation.sql).
	my $dir = Pgb::migrations('001_two.sql' => "CREATE TABLE t (v text);\n"
	    . "INSERT INTO t VALUES (E'a'\n'\\'b'); -- '\n"
	    . "INSERT INTO t VALUES ('c');\n");
	my $bundle = Pgb::bundle($dir);
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 0, 'a migration applies') or diag($err);
	is($pg->psql($db, 'SELECT string_agg(v, \',\' ORDER BY v) FROM t'), "a'b,c",
	    'both commands ran, as psql -f runs them');
}

done_testing();
