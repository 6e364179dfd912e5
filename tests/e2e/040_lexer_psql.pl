#!/usr/bin/perl
# 040_lexer_psql.pl - the compiler splits statements the way psql does:
# for every file of the tricky corpus in tests/data/lex/, running the
# bundle's statements one by one (pgapply) leaves the same database,
# schema and data, as `psql -f` on the same file.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $root = PgbTest::root();
my @corpus = sort glob("$root/tests/data/lex/*.sql");
cmp_ok(scalar @corpus, '>=', 5, 'the corpus has files');

my $pg = PgbTest::Server->new;
for my $file (@corpus) {
	(my $name = $file) =~ s{.*/}{};
	my $sql = PgbTest::read_file($file);
	my $dir = Pgb::migrations('001_corpus.sql' => $sql);
	my ($code, $bundle, $err) = Pgb::build($dir);
	is($code, 0, "$name: compiles") or diag($err), next;

	my $by_psql = $pg->createdb;
	my ($pc, undef, $perr) = PgbTest::run(PgbTest::pg_bin('psql'), '-X', '-q',
	    '-v', 'ON_ERROR_STOP=1', '-f', $file, $pg->connstr($by_psql));
	is($pc, 0, "$name: psql -f runs it") or diag($perr);

	my $by_pgapply = $pg->createdb;
	my ($ac, undef, $aerr) = Pgb::pgapply($pg, $by_pgapply, 'apply', $bundle);
	is($ac, 0, "$name: pgapply applies it") or diag($aerr);

	my $a = $pg->dump_schema($by_psql, data => 1);
	my $b = $pg->dump_schema($by_pgapply, data => 1, exclude_schema => ['pgbundle']);
	is($b, $a, "$name: same schema and data as psql -f");
}

done_testing();
