#!/usr/bin/perl
# 057_verify_query.pl - a verify query cannot end the migration's
# transaction.  The compiler refuses a "-- verify:" line that holds
# several statements or transaction control, naming file and line; and
# pgapply, given signed bundles that carry such verify queries anyway
# (tests/gen-hostile.pl's "apply" set, built past the compiler), runs each
# verify query as one statement of the extended protocol and only once
# the server says it returns a column: the migration fails (exit 5) and
# nothing of it remains, neither its tables nor a history row.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $root = PgbTest::root();
my $pg = PgbTest::Server->new;

# --- the compiler refuses, at file:line ------------------------------------------
{
	my %bad = (
	    'COMMIT; SELECT false' => 'verify query must be one statement, not 2',
	    'SELECT true; SELECT true' => 'verify query must be one statement, not 2',
	    map({ $_ => "transaction control not allowed in a verify query: it runs "
		. "inside the migration's transaction" } 'COMMIT', 'commit work',
		'END', 'ROLLBACK', 'ABORT', 'BEGIN', 'START TRANSACTION',
		'SAVEPOINT s', 'RELEASE SAVEPOINT s', 'ROLLBACK TO SAVEPOINT s',
		"PREPARE TRANSACTION 'x'", "COMMIT PREPARED 'x'",
		'COMMIT AND CHAIN', 'SET TRANSACTION READ ONLY'),
	);
	for my $q (sort keys %bad) {
		my $m = Pgb::migrations('001_a.sql' => "CREATE TABLE a (id int);\n"
		    . "-- verify: $q\n");
		my ($code, undef, $err) = Pgb::build($m);
		is($code, 1, "build refuses '-- verify: $q'");
		like($err, qr{\Q$m\E/001_a\.sql:2: error: \Q$bad{$q}\E$}m,
		    "and says why at file:line ($q)") or diag($err);
	}
	# What stays allowed: one query, a final semicolon, a comment.
	my $m = Pgb::migrations('001_a.sql' => "CREATE TABLE a (id int);\n"
	    . "INSERT INTO a VALUES (1), (2);\n"
	    . "-- verify: SELECT count(*) = 2 FROM a\n"
	    . "-- verify: SELECT true; -- trailing comment\n"
	    . "-- verify: SELECT 'a;b' <> 'c'\n");
	my ($code, $bundle, $err) = Pgb::build($m);
	is($code, 0, 'one statement per verify query still builds') or diag($err);
	my $db = $pg->createdb;
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 0, 'and applies, each verify query true') or diag($err);
	is($pg->psql($db, 'SELECT count(*) FROM a'), '2', 'the migration committed');
}

# --- a false verify query still fails the migration, sent the new way ------------
{
	my $m = Pgb::migrations('001_a.sql' => "CREATE TABLE a (id int);\n"
	    . "-- verify: SELECT count(*) = 1 FROM a\n");
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', Pgb::bundle($m));
	is($code, 5, 'a false verify query: exit 5');
	like($err, qr/^pgapply: verify query 1 of '001_a' \(migrations\/001_a\.sql:2\) did not return true: it returned false$/m, 'named');
	is($pg->psql($db, "SELECT to_regclass('public.a') IS NULL"), 't', 'rolled back');
}

# --- signed bundles past the compiler: refused at run time -----------------------
my $fx = PgbTest::tempdir();
my ($gcode, $list, $gerr) = PgbTest::run('perl', "$root/tests/gen-hostile.pl", $fx, 'apply');
is($gcode, 0, 'the apply set is generated') or diag($gerr);
my @cases = grep { $_->[1] ne '' } map { [split /\t/, $_, 2] } split /\n/, $list;
cmp_ok(scalar @cases, '>=', 6, 'at least 6 hostile verify queries');
for my $c (@cases) {
	my ($name, $want) = @$c;
	my $db = $pg->createdb;
	my ($vcode) = PgbTest::run(PgbTest::bin('pgapply'), 'verify', "$fx/$name.pgb",
	    '--pubkey', Pgb::pub());
	is($vcode, 0, "$name: the bundle itself verifies");
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', "$fx/$name.pgb");
	is($code, 5, "$name: the migration fails with exit 5");
	# Written by hand without verify-line, as before it existed: the
	# verify query is named by its file alone.
	like($err, qr/^pgapply: verify query 1 of '001_create_users' \(migrations\/001_create_users\.sql\) (?:failed\n  .*|did not return true: )\Q$want\E/m,
	    "$name: names the verify query and why") or diag($err);
	is($pg->psql($db, "SELECT to_regclass('public.users') IS NULL"), 't',
	    "$name: nothing of the migration remains");
	is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history'), '0',
	    "$name: and no history row");
	is($pg->psql($db, 'SELECT count(*) FROM pg_prepared_xacts'), '0',
	    "$name: and no prepared transaction");
	# A second run fails the same way: no rows were left to double.
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', "$fx/$name.pgb");
	is($code, 5, "$name: a second run fails again, the same way");
	is($pg->psql($db, "SELECT to_regclass('public.users') IS NULL"), 't',
	    "$name: still nothing left behind");
}

done_testing;
