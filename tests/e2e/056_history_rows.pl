#!/usr/bin/perl
# 056_history_rows.pl - a history row is read back checked.  A row holding
# what pgapply never writes (statements_done below 0 or above the total,
# a total that is not the migration's, a checksum or chain that is not
# lowercase hex, a name with blanks or control characters, a negative
# version, "applied" half way, "failed" for a transactional migration, a
# mode that is not the migration's) is refused with exit 4, naming the
# version and the field, before anything runs: --retry-failed never skips
# or repeats statements on a tampered count.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;

# 002 fails at its second statement (there is no table "flag" yet), so
# its history row says: failed, 1 of 3 statements done.
my $m = Pgb::migrations(
    '001_a.sql' => "CREATE TABLE a (id int);\n",
    '002_idx.sql' => "-- pgbundle:no-transaction\n"
	. "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_i ON a (id);\n"
	. "INSERT INTO flag VALUES (1);\n"
	. "CREATE INDEX CONCURRENTLY IF NOT EXISTS a_j ON a (id);\n");
my $bundle = Pgb::bundle($m);

sub failed_db {
	my $db = $pg->createdb;
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
	is($code, 6, "$db: 002 fails half way (exit 6)") or diag($err);
	# Were pgapply to run anything now, "flag" would get a row.
	$pg->psql($db, 'CREATE TABLE flag (id int)');
	return $db;
}

sub row {
	my ($db) = @_;
	return $pg->psql($db, "SELECT string_agg(concat_ws(' ', version, name, checksum, "
	    . "chain, mode, status, statements_done, statements_total), '|' ORDER BY version) "
	    . 'FROM pgbundle.history');
}

my $corrupt = qr/corrupt history row/;
my @cases = (
    ['statements_done below 0', 'UPDATE pgbundle.history SET statements_done = -7 WHERE version = 2',
	q{corrupt history row for version 2: statements_done -7 is not from 0 to statements_total 3}],
    ['statements_done above the total', 'UPDATE pgbundle.history SET statements_done = 4 WHERE version = 2',
	q{corrupt history row for version 2: statements_done 4 is not from 0 to statements_total 3}],
    ['statements_total below 0', 'UPDATE pgbundle.history SET statements_total = -1, statements_done = 0 WHERE version = 2',
	q{corrupt history row for version 2: statements_total -1 is not from 0 to 100000}],
    ['statements_total not the migration\'s', 'UPDATE pgbundle.history SET statements_total = 2 WHERE version = 2',
	q{corrupt history row for version 2: statements_total is 2, but the migration of that checksum has 3 statements}],
    ['checksum in capitals', 'UPDATE pgbundle.history SET checksum = upper(checksum) WHERE version = 2',
	q{corrupt history row for version 2: checksum is not 'sha256:' and 64 lowercase hex digits}],
    ['checksum without its algorithm', "UPDATE pgbundle.history SET checksum = substr(checksum, 8) WHERE version = 2",
	q{corrupt history row for version 2: checksum is not 'sha256:' and 64 lowercase hex digits}],
    ['chain not hex', "UPDATE pgbundle.history SET chain = 'zz' WHERE version = 1",
	q{corrupt history row for version 1: chain is not 64 lowercase hex digits}],
    ['name with an escape sequence', "UPDATE pgbundle.history SET name = E'a\\x1b[31mb' WHERE version = 1",
	q{corrupt history row for version 1: name is not at most 200 printable ASCII characters without blanks}],
    ['name with a blank', "UPDATE pgbundle.history SET name = 'a b' WHERE version = 2",
	q{corrupt history row for version 2: name is not at most 200 printable ASCII characters without blanks}],
    ['negative version', 'UPDATE pgbundle.history SET version = -5 WHERE version = 1',
	q{corrupt history row: version -5 is not a number from 0 to 9223372036854775807}],
    ['applied half way', "UPDATE pgbundle.history SET status = 'applied' WHERE version = 2",
	q{corrupt history row for version 2: status is 'applied' after statements_done 1 of 3}],
    ['mode not the migration\'s', "UPDATE pgbundle.history SET mode = 'no-transaction' WHERE version = 1",
	q{corrupt history row for version 1: mode is 'no-transaction', but the migration of that checksum is transactional}],
    # A transactional migration commits with its row or leaves none, so
    # "failed" cannot be true of it: before, this row was described as a
    # "no-transaction migration" that "failed after 1 of 1 statements"
    # and to be resumed with --retry-failed (exit 6).
    ['a failed transactional migration', "UPDATE pgbundle.history SET status = 'failed' WHERE version = 1",
	q{corrupt history row for version 1: status is 'failed' but mode is 'transaction': a transactional migration commits together with its history row or not at all}],
);

for my $c (@cases) {
	my ($what, $sql, $msg) = @$c;
	my $db = failed_db();
	$pg->psql($db, $sql);
	my $before = row($db);
	my $schema = $pg->dump_schema($db);
	for my $cmd (['apply', '--retry-failed'], ['apply'], ['status']) {
		my ($code, undef, $err) = Pgb::pgapply($pg, $db, $cmd->[0], $bundle, @$cmd[1 .. $#$cmd]);
		my $how = join(' ', @$cmd);
		is($code, 4, "$what: $how exits 4");
		is($err, "pgapply: $msg\n  pgapply never writes such a row, so it cannot trust "
		    . "it to say what ran: restore the row from a backup or correct it by hand; "
		    . "nothing was run\n", "$what: $how names the version and the field");
	}
	unlike(row($db), qr/^$/, "$what: the history is still there");
	is(row($db), $before, "$what: the history row is unchanged");
	is($pg->psql($db, 'SELECT count(*) FROM flag'), '0', "$what: no statement ran");
	is($pg->dump_schema($db), $schema, "$what: the schema is unchanged");
}

# The genuine row resumes as before.
{
	my $db = failed_db();
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle, '--retry-failed');
	is($code, 0, 'an untouched failed row resumes with --retry-failed') or diag($err);
	is($pg->psql($db, 'SELECT count(*) FROM flag'), '1', 'from statement 2');
	like(row($db), qr/^1 a \S+ \S+ transaction applied 1 1\|2 idx \S+ \S+ no-transaction applied 3 3$/,
	    'and records it applied');
}

done_testing;
