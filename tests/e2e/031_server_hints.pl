#!/usr/bin/perl
# 031_server_hints.pl - failures say what to do: a statement that cannot
# run inside a transaction block (SQLSTATE 25001) or that ends pgapply's
# transaction (2D000, a procedure that commits) gets a hint to mark the
# migration '-- pgbundle:no-transaction'; the server's DETAIL and HINT are
# shown by apply and check --db, on the terminal and in --json.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $url = $pg->url;
my $pgbundle = PgbTest::bin('pgbundle');
my $notx_hint = "the statement cannot run inside a transaction block: add '-- pgbundle:no-transaction' "
    . "to 'migrations/001_a.sql' (its statements then run one by one in autocommit, so each must be "
    . "safe to repeat)";

# [what, the migration, SQLSTATE, message, DETAIL, HINT]
my @cases = (
    ['a duplicate key', "CREATE TABLE t (id int PRIMARY KEY);\nINSERT INTO t VALUES (1), (1);\n",
     '23505', 'duplicate key value violates unique constraint "t_pkey"', 'Key (id)=(1) already exists.', undef],
    ['a missing function', "CREATE TABLE t (id int);\nSELECT lower(1);\n",
     '42883', 'function lower(integer) does not exist', undef,
     'No function matches the given name and argument types. You might need to add explicit type casts.'],
    ['a procedure that commits', "CREATE TABLE t (id int);\nDO \$\$ BEGIN COMMIT; END \$\$;\n",
     '2D000', 'invalid transaction termination', undef, $notx_hint],
    ['an isolation level set after a query',
     "CREATE TABLE t (id int);\nSELECT set_config('transaction_isolation', 'serializable', true);\n",
     '25001', 'SET TRANSACTION ISOLATION LEVEL must be called before any query', undef, $notx_hint],
);

sub json_str {
	my ($s) = @_;
	return 'null' unless defined $s;
	(my $j = $s) =~ s/(["\\])/\\$1/g;
	return "\"$j\"";
}

for my $c (@cases) {
	my ($what, $sql, $state, $msg, $detail, $hint) = @$c;
	my $m = Pgb::migrations('001_a.sql' => "-- pgbundle:allow no-down\n$sql");
	my $b = Pgb::bundle($m);
	my $db = $pg->createdb;

	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 5, "$what: apply exits 5");
	like($err, qr/^pgapply: migration '001_a' failed at statement 2 of 2 \(migrations\/001_a\.sql:3\); it was rolled back\n  SQLSTATE $state: \Q$msg\E\n/m,
	    "$what: the statement and the server's message");
	if (defined $detail) {
		like($err, qr/^  DETAIL: \Q$detail\E$/m, "$what: apply shows the DETAIL");
	}
	if (defined $hint) {
		like($err, qr/^  HINT: \Q$hint\E$/m, "$what: apply shows the HINT");
	} else {
		unlike($err, qr/HINT/, "$what: and no hint");
	}
	is($pg->psql($db, "SELECT to_regclass('t') IS NULL"), 't', "$what: rolled back");

	($code, $out) = Pgb::pgapply($pg, $db, 'apply', $b, '--json');
	like($out, qr/^\{"event":"error","exit":5,.*"sqlstate":"$state","server_detail":\Q@{[json_str($detail)]}\E,"hint":\Q@{[json_str($hint)]}\E\}$/m,
	    "$what: the JSON error has the SQLSTATE, DETAIL and HINT");

	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $m, '--db', $url);
	is($code, 1, "$what: check --db exits 1");
	my $want = "$m/001_a.sql:3: error: $msg\n" . (defined $detail ? "  detail: $detail\n" : '')
	    . (defined $hint ? "  hint: $hint\n" : '');
	like($err, qr/^\Q$want\E/m, "$what: check shows them under the finding");
	($code, $out) = PgbTest::run($pgbundle, 'check', $m, '--db', $url, '--json');
	like($out, qr/"line":3,"severity":"error","rule":null,"message":\Q@{[json_str($msg)]}\E,"detail":\Q@{[json_str($detail)]}\E,"hint":\Q@{[json_str($hint)]}\E\}/,
	    "$what: and so does check --json");
}

# The hint is for transactional migrations: a no-transaction one that
# fails the same way gets none of pgapply's.
{
	my $m = Pgb::migrations('001_a.sql' => "-- pgbundle:allow no-down,not-idempotent\n"
	    . "-- pgbundle:no-transaction\nSELECT 1;\nSELECT lower(1);\n");
	my ($code, undef, $err) = Pgb::pgapply($pg, $pg->createdb, 'apply', Pgb::bundle($m));
	is($code, 6, 'no-transaction: exit 6');
	unlike($err, qr/no-transaction' to/, 'no advice to mark it');
}

done_testing;
