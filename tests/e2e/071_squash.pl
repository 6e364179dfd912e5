#!/usr/bin/perl
# 071_squash.pl - pgbundle squash --through N: the sample schema squashed
# at its middle version gives the same final schema on a fresh database,
# applies cleanly where the old migrations ran (all of them, or exactly
# the replaced ones), is refused where only part of them ran; check proves
# the baseline against the archive; squash refuses, changing nothing,
# what it cannot do.
use strict;
use warnings;

use File::Copy qw(copy);
use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $url = $pg->url;
my $root = PgbTest::root();
my $pgbundle = PgbTest::bin('pgbundle');

sub listing {
	my ($dir) = @_;
	opendir(my $dh, $dir) or die "$dir: $!";
	my @v = sort grep { !/^\./ } readdir($dh);
	closedir($dh);
	return @v;
}

# A copy of the sample folder to squash.
my $work = PgbTest::tempdir();
my $dir = "$work/migrations";
mkdir $dir or die "$dir: $!";
copy("$root/migrations/$_", "$dir/$_") or die "copy $_: $!"
    for grep { /\.sql$/ } listing("$root/migrations");
my @before = listing($dir);
my $archive = "$work/archive";

# --- refusals change nothing -----------------------------------------------------
my ($code, $out, $err) = PgbTest::run($pgbundle, 'squash', $dir,
    '--through', '99', '--archive', $archive, '--db', $url);
is($code, 2, 'an unknown version: exit 2');
like($err, qr{^pgbundle: no migration has version 99}m, 'says so');
($code, undef, $err) = PgbTest::run($pgbundle, 'squash', $dir,
    '--through', '7', '--archive', $archive, '--db', $url, '--data', 'nosuch');
is($code, 2, 'a --data table that does not exist: exit 2');
like($err, qr{^pgbundle: --data 'nosuch': no such table after migration 7$}m,
    'names it');
($code) = PgbTest::run($pgbundle, 'squash', $dir, '--archive', $archive);
is($code, 2, '--through is required');
is_deeply([listing($dir)], \@before, 'the folder is unchanged');

# --- squash the sample at its middle version ---------------------------------------
($code, $out, $err) = PgbTest::run($pgbundle, 'squash', $dir, '--through', '7',
    '--archive', $archive, '--data', 'plans', '--db', $url);
is($code, 0, 'squash --through 7 exits 0') or diag($err);
is($out, "$dir/007_baseline.sql\n", 'prints the baseline path');
like($err, qr{^pgbundle: wrote \Q$dir\E/007_baseline\.sql, the baseline of 1\.\.7 \(7 migrations\); moved 14 files to \Q$archive\E$}m,
    'says what it did');
is_deeply([listing($archive)], [grep { /^00[1-7]_/ } @before],
    'the replaced up and down scripts are in the archive');
is_deeply([listing($dir)], ['007_baseline.sql', grep { !/^00[1-7]_/ } @before],
    'the folder holds the baseline and the later migrations');
my $text = PgbTest::read_file("$dir/007_baseline.sql");
like($text, qr{\A-- pgbundle:baseline-of 1\.\.7\n-- pgbundle:replaces 1 [0-9a-f]{64} create_accounts\n}, 'the directives come first');
like($text, qr{^COPY public\.plans .* FROM stdin;\nfree\t}m, 'the --data rows');
unlike($text, qr{^\\(?:un)?restrict|^SET (?:lock|statement)_timeout|set_config\('search_path'}m,
    'psql-only lines and session timeouts are gone');
is($pg->psql('postgres', "SELECT count(*) FROM pg_database WHERE datname "
    . "LIKE 'pgbundle_scratch%'"), '0', 'its scratch databases are dropped');
($code, undef, $err) = PgbTest::run($pgbundle, 'squash', $dir, '--through',
    '9', '--archive', $archive, '--db', $url);
is($code, 2, 'squashing through a baseline is refused');

# --- check proves the baseline against the archive ---------------------------------
($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir, '--db', $url,
    '--archive', $archive);
is($code, 0, 'check --archive: the baseline equals 1..7') or diag($err);
like($err, qr{7 migrations proven .*, 1 baseline\): 0 errors}, 'one baseline compared');
($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir, '--db', $url);
like($err, qr{/007_baseline\.sql:1: note: baseline of 1\.\.7 not compared with the migrations it replaces: pass --archive DIR}m,
    'without --archive it says what it did not prove');

# A baseline that lost an index is caught.
my $bad = "$work/bad";
mkdir $bad or die;
copy("$dir/$_", "$bad/$_") or die for listing($dir);
(my $lost = $text) =~ s/^CREATE INDEX products_active_idx .*?;\n//ms
    or die 'no products_active_idx in the baseline';
PgbTest::write_file("$bad/007_baseline.sql", $lost);
($code, undef, $err) = PgbTest::run($pgbundle, 'check', $bad, '--db', $url,
    '--archive', $archive);
is($code, 1, 'a baseline that differs: exit 1');
like($err, qr{^\Q$bad\E/007_baseline\.sql:1: error: the schema after the baseline differs from the migrations it replaces: it lacks index 'products_active_idx'$}m,
    'names what it lacks') or diag($err);

# --- the compiler checks a baseline's directives ----------------------------------
my $sha = '0' x 64;
my %bad = (
    'must end at this migration' => [ qr{/004_baseline\.sql:1: error: baseline-of 1\.\.3 must end at this migration's own version \(4\)},
	{ '004_baseline.sql' => "-- pgbundle:baseline-of 1..3\n"
	    . "-- pgbundle:replaces 1 $sha a\n-- pgbundle:replaces 3 $sha c\n"
	    . "SELECT 1;\n" } ],
    'the replaced files are still there' => [ qr{/004_baseline\.sql:1: error: baseline of 1\.\.4, but '\S+/002_b\.sql' is still here: move the migrations it replaces out of the folder},
	{ '002_b.sql' => "SELECT 1;\n",
	  '004_baseline.sql' => "-- pgbundle:baseline-of 1..4\n"
	    . "-- pgbundle:replaces 1 $sha a\n-- pgbundle:replaces 4 $sha\n"
	    . "SELECT 1;\n" } ],
    'replaces without baseline-of' => [ qr{/004_x\.sql:2: error: 'pgbundle:replaces' without 'pgbundle:baseline-of'},
	{ '004_x.sql' => "SELECT 1;\n-- pgbundle:replaces 4 $sha\n" } ],
    'a list that does not end at LAST' => [ qr{baseline-of 1\.\.4 needs 'pgbundle:replaces' lines that start at FIRST and end at LAST},
	{ '004_baseline.sql' => "-- pgbundle:baseline-of 1..4\n"
	    . "-- pgbundle:replaces 1 $sha a\nSELECT 1;\n" } ],
    'a bad replaces line' => [ qr{/004_baseline\.sql:2: error: 'pgbundle:replaces' takes a version, the sha256 of its up script},
	{ '004_baseline.sql' => "-- pgbundle:baseline-of 1..4\n"
	    . "-- pgbundle:replaces 1 abc a\nSELECT 1;\n" } ],
);
for my $what (sort keys %bad) {
	my ($re, $files) = @{ $bad{$what} };
	my $d = Pgb::migrations(%$files);
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $d);
	is($code, 1, "$what: exit 1");
	like($err, $re, "$what: message") or diag($err);
}

# --- the runtime honours the baseline ---------------------------------------------
my $old = Pgb::bundle("$root/migrations");
my $new = Pgb::bundle($dir);

# A fresh database: the baseline runs and stands for 1..7.
my $fresh = $pg->createdb;
($code, undef, $err) = Pgb::pgapply($pg, $fresh, 'apply', $new);
is($code, 0, 'a fresh database: apply exits 0') or diag($err);
is($pg->psql($fresh, "SELECT string_agg(version || ':' || name || ':' || "
    . "origin || ':' || statements_total, ' ' ORDER BY version) FROM "
    . "pgbundle.history WHERE version <= 7"),
    '1:create_accounts:replaced:7:0 2:create_users:replaced:7:0 '
    . '3:create_plans:replaced:7:0 4:updated_at_trigger:replaced:7:0 '
    . '5:create_products:replaced:7:0 6:create_orders:replaced:7:0 '
    . '7:baseline:apply:' . $pg->psql($fresh, 'SELECT statements_total FROM '
    . 'pgbundle.history WHERE version = 7'),
    'versions 1..6 are recorded as replaced by 7, with their names');
is($pg->psql($fresh, "SELECT count(*) FROM pgbundle.history"), '13',
    'and 8..13 applied after it');
my $oldbundle_sums = $pg->psql($fresh, "SELECT checksum FROM pgbundle.history "
    . "WHERE version = 3");
like($oldbundle_sums, qr/^sha256:[0-9a-f]{64}$/, 'replaced rows carry a checksum');
is($pg->psql($fresh, 'SELECT count(*) FROM plans'), '3', 'the --data rows are there');

my $ref = $pg->createdb;
($code, undef, $err) = Pgb::pgapply($pg, $ref, 'apply', $old);
is($code, 0, 'the old migrations on another fresh database') or diag($err);
is($pg->dump_schema($fresh, exclude_schema => ['pgbundle']),
    $pg->dump_schema($ref, exclude_schema => ['pgbundle']),
    'the same final schema as 1..13');
is($pg->psql($ref, "SELECT checksum FROM pgbundle.history WHERE version = 3"),
    $oldbundle_sums, 'the replaced rows have the old checksums');

# Where 1..13 all ran: nothing to do.
($code, undef, $err) = Pgb::pgapply($pg, $ref, 'apply', $new);
is($code, 0, 'a database that had the old migrations: exit 0') or diag($err);
like($err, qr/nothing to do/, 'the baseline counts as applied');
($code, $out) = Pgb::pgapply($pg, $ref, 'status', $new);
is(scalar(() = $out =~ /^applied /mg), 13, 'status: all 13 applied');

# Where exactly 1..7 ran: 8..13 follow.
my $mid = $pg->createdb;
Pgb::pgapply($pg, $mid, 'apply', $old, '--to', '7');
($code, undef, $err) = Pgb::pgapply($pg, $mid, 'apply', $new);
is($code, 0, 'a database at version 7: exit 0') or diag($err);
like($err, qr/applied 6 migrations/, 'applies 8..13 only');
is($pg->dump_schema($mid, exclude_schema => ['pgbundle']),
    $pg->dump_schema($ref, exclude_schema => ['pgbundle']), 'same schema');

# Where only part of 1..7 ran: refused, nothing changed.
my $part = $pg->createdb;
Pgb::pgapply($pg, $part, 'apply', $old, '--to', '4');
($code, undef, $err) = Pgb::pgapply($pg, $part, 'apply', $new);
is($code, 4, 'only part of 1..7 applied: exit 4 (conflict)');
like($err, qr{^pgapply: baseline '007_baseline' replaces migrations 1 to 7, and the database ran only part of them \(up to 4 'updated_at_trigger'\)$}m,
    'says why') or diag($err);
like($err, qr{apply a bundle built before the squash \(one that holds the migrations up to 7\) first}, 'and which bundle to apply first');
is($pg->psql($part, 'SELECT max(version) FROM pgbundle.history'), '4',
    'nothing was changed');

# A replaced migration that drifted is caught like any other.
$pg->psql($mid, "UPDATE pgbundle.history SET checksum = 'sha256:' || "
    . "repeat('0', 64) WHERE version = 2");
($code, undef, $err) = Pgb::pgapply($pg, $mid, 'apply', $new);
is($code, 4, 'a drifted replaced migration: exit 4');
like($err, qr/checksum mismatch for applied migration 2 'create_users'/,
    'names it');

# A schema-only baseline (no COPY: pgapply's pipelined path) records its
# replaced rows too.
my $small = Pgb::migrations(
    '001_a.sql' => "-- pgbundle:allow no-down\nCREATE TABLE a (id int);\n",
    '002_b.sql' => "-- pgbundle:allow no-down\nCREATE TABLE b (id int);\n",
    '003_c.sql' => "-- pgbundle:allow no-down\nCREATE TABLE c (id int);\n");
($code, undef, $err) = PgbTest::run($pgbundle, 'squash', $small, '--through',
    '2', '--archive', "$small/../archive", '--db', $url);
is($code, 0, 'a schema-only squash') or diag($err);
my $sdb = $pg->createdb;
($code, undef, $err) = Pgb::pgapply($pg, $sdb, 'apply', Pgb::bundle($small));
is($code, 0, 'applies') or diag($err);
is($pg->psql($sdb, "SELECT string_agg(version || ':' || origin, ' ' ORDER BY "
    . "version) FROM pgbundle.history"), '1:replaced:2 2:apply 3:apply',
    'with the replaced row');

# Rolling back stops at the baseline, which has no down script.
($code, undef, $err) = Pgb::pgapply($pg, $fresh, 'rollback', $new, '--to', '7');
is($code, 0, 'rollback to the baseline works') or diag($err);
($code, undef, $err) = Pgb::pgapply($pg, $fresh, 'rollback', $new, '--to', '3');
is($code, 4, 'rollback into it is refused');
like($err, qr/no down script for '007_baseline'/, 'says why');

done_testing;
