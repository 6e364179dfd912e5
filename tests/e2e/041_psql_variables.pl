#!/usr/bin/perl
# 041_psql_variables.pl - psql variables against the real psql 15: every
# variable psql defines by itself is refused as ":NAME", psql does replace
# them (and answers ":{?name}"), it leaves an undefined ":name" or
# ":'name'" as written, and psql and pgbundle split a file holding
# variable look-alikes into the same statements (compared with the
# queries psql logs with -L).
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pgbundle = PgbTest::bin('pgbundle');
my $pg = PgbTest::Server->new;
my $db = $pg->createdb;

# --- psql's own variables are all refused -----------------------------------------------
{
	# After a query, so that ERROR, SQLSTATE and ROW_COUNT are set too.
	my ($code, $out, $err) = $pg->psql_run($db, "SELECT 1;\n\\set\n");
	is($code, 0, 'psql lists its variables') or diag($err);
	my @names = $out =~ /^([A-Za-z_0-9]+) = /mg;
	cmp_ok(scalar @names, '>=', 30, 'psql defines many by itself') or diag($out);
	ok((grep { $_ eq 'DBNAME' } @names) && (grep { $_ eq 'ROW_COUNT' } @names),
	    'DBNAME and ROW_COUNT among them');

	my $dir = Pgb::migrations('001_a.sql' => join('', map { "SELECT :$_;\n" } @names));
	(my $c, undef, $err) = PgbTest::run($pgbundle, 'check', $dir);
	is($c, 1, 'a migration using them does not build');
	my %refused = map { $_ => 1 } $err =~
	    m{/001_a\.sql:\d+: error: psql would replace :(\w+) with the value of its built-in variable}g;
	my @missed = grep { !$refused{$_} } @names;
	is("@missed", '', 'every variable psql defines is refused') or diag($err);
	my @lines = $err =~ m{/001_a\.sql:(\d+): error: }g;
	is("@lines", join(' ', 1 .. @names), 'each at its line');
}

# --- what psql does with them -------------------------------------------------------------
is($pg->psql($db, "SELECT :'DBNAME' = current_database(), :PORT = current_setting('port')::int,"
    . " s.:\"DBNAME\", :{?DBNAME}, :{?nope} FROM (SELECT 'ident' AS \"$db\") s;"), 't|t|ident|t|f',
    'psql replaces :PORT, :\'DBNAME\', :"USER" and answers :{?name}');
is($pg->psql($db, "SELECT (ARRAY[10,20,30])[2:n], (ARRAY[10,20,30])[1:dbname], ':PORT'"
    . " FROM (SELECT 3 AS n, 1 AS dbname) s;"), '{20,30}|{10}|:PORT',
    'psql leaves :n and :dbname (not DBNAME) as written');
$pg->psql_fails($db, "SELECT :'nope';", "psql sends an undefined :'nope' as written",
    qr/syntax error at or near ":"/);

# --- the same statements as psql ----------------------------------------------------------
{
	# Every line but the first would split otherwise: psql's variable
	# token ends at '$' (":n" then "$a$" opens a dollar quote), takes the
	# 'e' of "e'" (no E'' string: "\'" ends it), and ":end" is no END.
	my $sql = "CREATE TABLE t (a int[]);\n"
	    . "SELECT 1 :n\$a\$; SELECT 2; \$a\$;\n"
	    . "SELECT :e'\\' AS x, '; SELECT 3;';\n"
	    . "CREATE FUNCTION f(a int[]) RETURNS int[] BEGIN ATOMIC SELECT a[1:end]; END;\n"
	    . "SELECT a[1:n], ':x;', \$\$ :y; \$\$ FROM t, (SELECT 1 AS n) s; -- :z;\n"
	    . "SELECT x:::int, 5 AS \":a;\" FROM (SELECT 1 AS x) s;\n"
	    . "COPY t FROM STDOUT;\n{1}\n\\.\nSELECT 6;\n";
	my $dir = Pgb::migrations('001_split.sql' => $sql);
	my ($code, $bundle, $err) = Pgb::build($dir);
	is($code, 0, 'the look-alikes build') or diag($err);
	my (undef, $man) = PgbTest::run('tar', '-xzOf', $bundle, 'MANIFEST');
	my (undef, $text) = PgbTest::run('tar', '-xzOf', $bundle, 'migrations/001_split.sql');
	my @ours = map { substr($text, $_->[0], $_->[1]) } map { [split / /] }
	    $man =~ /^stmt (\d+ \d+) \d+/mg;

	my $log = PgbTest::tempdir() . '/psql.log';
	my $by_psql = $pg->createdb;
	my ($pc, undef, $perr) = PgbTest::run(PgbTest::pg_bin('psql'), '-X', '-q',
	    '-L', $log, '-f', "$dir/001_split.sql", $pg->connstr($by_psql));
	is($pc, 0, 'psql runs the file (its errors aside)') or diag($perr);
	my @psql = PgbTest::read_file($log) =~
	    /^\*{9} QUERY \*{10}\n(.*?)\n\*{26}\n/msg;
	cmp_ok(scalar @psql, '==', 8, 'psql sends 8 queries') or diag(explain \@psql);
	is_deeply(\@ours, \@psql, 'pgbundle splits them as psql does') or diag(explain \@ours);
}

done_testing();
