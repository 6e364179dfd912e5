#!/usr/bin/perl
# 016_directives.pl - directive comments that are almost right are errors
# at file:line showing the spelling pgbundle expects, in check and build
# (which then writes nothing); prose that merely mentions a word is not.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pgbundle = PgbTest::bin('pgbundle');
my $ok = "CREATE TABLE t (id int);\n";

# Each near miss alone: [comment, expected message].
my @cases = (
    ['-- Verify: SELECT count(*) = 0 FROM t',
     "misspelled directive '-- Verify: SELECT count(*) = 0 FROM t': write '-- verify: SELECT count(*) = 0 FROM t'"],
    ['-- verify : SELECT true',
     "misspelled directive '-- verify : SELECT true': write '-- verify: SELECT true'"],
    ['--verify: SELECT true',
     "misspelled directive '--verify: SELECT true': write '-- verify: SELECT true'"],
    ['--pgbundle:no-transaction',
     "misspelled directive '--pgbundle:no-transaction': write '-- pgbundle:no-transaction'"],
    ['-- pgbundle: notx',
     "misspelled directive '-- pgbundle: notx': write '-- pgbundle:no-transaction'"],
    ['-- PGBUNDLE:No-Transaction',
     "misspelled directive '-- PGBUNDLE:No-Transaction': write '-- pgbundle:no-transaction'"],
    ['-- pgbundle :allow drop-table',
     "misspelled directive '-- pgbundle :allow drop-table': write '-- pgbundle:allow drop-table'"],
    ['-- pgbundle:notx',
     "unknown directive '-- pgbundle:notx': write '-- pgbundle:no-transaction'"],
    ['-- pgbundle:no_transaction',
     "unknown directive '-- pgbundle:no_transaction': write '-- pgbundle:no-transaction'"],
    ['-- pgbundle:frobnicate',
     "unknown directive '-- pgbundle:frobnicate': pgbundle reads '-- pgbundle:no-transaction', "
     . "'-- pgbundle:allow RULE[,RULE]', '-- verify: QUERY' (and squash's '-- pgbundle:baseline-of' "
     . "and '-- pgbundle:replaces')"],
);

for my $c (@cases) {
	my ($comment, $msg) = @$c;
	my $dir = Pgb::migrations('001_a.sql' => "-- pgbundle:allow no-down\n$ok$comment\n");
	my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir);
	is($code, 1, "'$comment': exit 1");
	like($err, qr{^\Q$dir\E/001_a\.sql:3: error: \Q$msg\E$}m, "'$comment': at its line, with the spelling")
	    or diag($err);
}

# All at once, in check and build; prose and exact directives pass.
my $dir = Pgb::migrations(
    '001_a.sql' => "-- verify the rows by hand\n-- note: pgbundle:no-transaction is below\n"
        . "-- pgbundle:allow no-down\n-- verify: SELECT true\n$ok",
    '002_b.sql' => join('', map { "$_->[0]\n" } @cases) . $ok,
    '002_b.down.sql' => "-- Verify: SELECT 1\nDROP TABLE t;\n");
my ($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir);
is($code, 1, 'many near misses: exit 1');
my @lines = $err =~ m{^\Q$dir\E/002_b\.sql:(\d+): error: }mg;
is("@lines", join(' ', 1 .. scalar @cases), 'each is reported at its own line');
like($err, qr{^\Q$dir\E/002_b\.down\.sql:1: error: misspelled directive '-- Verify: SELECT 1': write '-- verify: SELECT 1'$}m,
    'in a down script too');
unlike($err, qr{/001_a\.sql}, 'prose and exact directives are fine');
like($err, qr{: 11 errors, 0 warnings$}m, 'counted');
my $out = PgbTest::tempdir() . '/x.pgb';
($code, undef, $err) = PgbTest::run($pgbundle, 'build', $dir, '--unsigned', '-o', $out);
is($code, 1, 'build refuses them');
ok(!-e $out && !-e "$dir/pgbundle.sum", 'and writes nothing');

done_testing;
