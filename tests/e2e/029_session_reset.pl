#!/usr/bin/perl
# 029_session_reset.pl - pgapply resets the session only after a
# migration that may have changed it.  The compiler marks a script that
# shows nothing outliving its transaction "keeps-session" in the signed
# manifest; after such a migration the next one runs in the same
# session unreset, and after any other (SET, a temporary table, a
# function that changed a setting the server reports) the next one
# still starts as psql would start it.  The history rows go through one
# prepared statement per session.  The server's statement log counts
# the resets.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new(conf => { log_statement => 'all',
    log_line_prefix => '%a[%p]: ' });

my $dir = Pgb::migrations(
    '001_a.sql' => "CREATE TABLE a (id int);\n",
    '002_b.sql' => "CREATE TABLE b (id int);\nSET LOCAL search_path = nowhere;\n",
    '003_path.sql' => "CREATE SCHEMA other;\nSET search_path = other, public;\n",
    '004_c.sql' => "CREATE TABLE c (id int);\n",
    '005_tmp.sql' => "CREATE TEMP TABLE scratch (id int);\n",
    '006_d.sql' => "CREATE TABLE d AS SELECT count(*) AS n FROM pg_class "
	. "WHERE relname = 'scratch' AND relpersistence = 't';\n",
    '007_fn.sql' => "CREATE FUNCTION set_tz() RETURNS void LANGUAGE plpgsql AS \$\$\n"
	. "BEGIN PERFORM set_config('TimeZone', 'Asia/Tokyo', false); END \$\$;\n"
	. "SELECT set_tz();\n",
    '008_e.sql' => "CREATE TABLE e AS SELECT current_setting('TimeZone') AS tz;\n",
    '009_f.sql' => "CREATE TABLE f (id int);\n");
my $bundle = Pgb::bundle($dir);

# --- the manifest says which scripts keep the session ---------------------
my ($code, $manifest) = PgbTest::run('tar', '-xzOf', $bundle, 'MANIFEST');
is($code, 0, 'tar reads the manifest');
my %keeps;
while ($manifest =~ /^file migrations\/(\d+)_\S+\n.*?^mode (\S+)( keeps-session)?$/mgs) {
	$keeps{$1 + 0} = $3 ? 1 : 0;
}
is_deeply(\%keeps, { 1 => 1, 2 => 1, 3 => 0, 4 => 1, 5 => 0, 6 => 1, 7 => 1,
    8 => 1, 9 => 1 }, 'SET and CREATE TEMP are not keeps-session; SET LOCAL '
    . 'and a function body are');

# --- apply: resets where needed, and only there ----------------------------
my $db = $pg->createdb;
my $before = () = $pg->log_content =~ /^pgapply\[\d+\]: .*(?:statement|execute <unnamed>): SET SESSION AUTHORIZATION DEFAULT/mg;
my $err;
($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $bundle);
is($code, 0, 'apply succeeds') or diag($err);
my $log = $pg->log_content;
my $resets = (() = $log =~ /^pgapply\[\d+\]: .*(?:statement|execute <unnamed>): SET SESSION AUTHORIZATION DEFAULT/mg) - $before;
# One when connecting, then after 003 (SET), 005 (a temporary table) and
# 007 (keeps-session by its text, but its function changed TimeZone,
# which the server reported).
is($resets, 4, 'the session was reset four times: at the start, after 003, 005 and 007');
is($pg->psql($db, "SELECT to_regclass('public.c') IS NOT NULL AND "
    . "to_regclass('other.c') IS NULL"), 't',
    '004 ran with the search_path psql would give it');
is($pg->psql($db, 'SELECT n FROM d'), '0', '006 did not see 005\'s temporary table');
is($pg->psql($db, 'SELECT tz FROM e'), $pg->psql($db, 'SHOW TimeZone'),
    '008 ran in the server\'s time zone, not the one 007\'s function set');
is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history'), '9', 'nine history rows');

# The history row's INSERT was parsed once per session: prepared after
# each reset, executed for every migration.
my @parse = $log =~ /^pgapply\[\d+\]: .*execute (pgbundle_record)/mg;
is(scalar @parse, 9, 'the history row went through the prepared statement nine times');
unlike($log, qr/^pgapply\[\d+\]: .*execute <unnamed>: INSERT INTO pgbundle/m,
    'never as an unnamed statement');

# --- a rollback resets after a down script that changed the session -------
my $dir2 = Pgb::migrations(
    '001_a.sql' => "CREATE TABLE a (id int);\n",
    '001_a.down.sql' => "DROP TABLE a;\n",
    '002_b.sql' => "CREATE TABLE b (id int);\n",
    '002_b.down.sql' => "SET search_path = nowhere;\nDROP TABLE public.b;\n");
my $b2 = Pgb::bundle($dir2);
my $db2 = $pg->createdb;
($code, undef, $err) = Pgb::pgapply($pg, $db2, 'apply', $b2);
is($code, 0, 'apply of the second bundle') or diag($err);
($code, undef, $err) = Pgb::pgapply($pg, $db2, 'rollback', $b2, '--to', '0');
is($code, 0, 'rollback of both: 001\'s unqualified down script ran after 002\'s set search_path') or diag($err);
is($pg->psql($db2, "SELECT count(*) FROM pgbundle.history"), '0', 'both rolled back');

done_testing;
