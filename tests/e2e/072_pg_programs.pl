#!/usr/bin/perl
# 072_pg_programs.pl - the PostgreSQL programs pgbundle check --scratch
# and squash run, against a server of a newer major (PostgreSQL 17, from
# tests/tools/pg: scripts/deps.sh): squash refuses before anything runs
# when pg_dump (Debian's 15) is older than the server it must dump, on a
# --db server and on the scratch server of a newer initdb, naming the
# program, both versions and PGBUNDLE_PG_BINDIR; with PGBUNDLE_PG_BINDIR
# check --scratch proves the migrations on that major; a
# PGBUNDLE_PG_BINDIR without the program is named.  Each refusal leaves
# the folder, the server and the temporary directory as they were.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $newer = 17;
my $bindir = PgbTest::cached_bindir($newer);
plan skip_all => "PostgreSQL $newer is not in tests/tools/pg (sh "
    . 'scripts/deps.sh installs it; make test-versions fails without it)'
    unless defined $bindir;
my ($dump_major) = PgbTest::pg_dump_major();
plan skip_all => "pg_dump is $dump_major, not older than $newer"
    if $dump_major >= $newer;

my $pg = PgbTest::Server->new(bindir => $bindir);
my $url = $pg->url;
my $pgbundle = PgbTest::bin('pgbundle');
my $version = $pg->psql('postgres', 'SHOW server_version');
like($version, qr/^$newer\.\d+/, "the server is PostgreSQL $newer ($version)");
my $pg_dump = PgbTest::pg_bin('pg_dump');
my (undef, $dump_version) = PgbTest::run($pg_dump, '--version');
($dump_version) = $dump_version =~ /\(PostgreSQL\) (\d+\.\d+)/;

sub listing {
	my ($dir) = @_;
	opendir(my $dh, $dir) or die "$dir: $!";
	my @v = sort grep { !/^\./ } readdir($dh);
	closedir($dh);
	return @v;
}

sub scratch_dbs {
	return $pg->psql('postgres', "SELECT count(*) FROM pg_database WHERE "
	    . "datname LIKE 'pgbundle_scratch%'");
}

# A folder to squash; TMPDIR private, so that leftovers show.
my $dir = Pgb::migrations(
    '001_a.sql' => "-- pgbundle:allow no-down\nCREATE TABLE a (id int);\n",
    '002_b.sql' => "-- pgbundle:allow no-down\nCREATE TABLE b (id int);\n"
	. "-- verify: SELECT current_setting('server_version_num')::int "
	. ">= ${newer}0000\n",
    '003_c.sql' => "-- pgbundle:allow no-down\nCREATE TABLE c (id int);\n");
my @before = listing($dir);
my $archive = PgbTest::tempdir() . '/archive';
my $tmp = PgbTest::tempdir();
my %env = (TMPDIR => $tmp, PGBUNDLE_PG_BINDIR => undef);

my $too_old = qr{^pgbundle: pg_dump \Q$dump_version\E is older than the server it must work with \(PostgreSQL \Q$version\E\)\n  detail: '\Q$pg_dump\E' cannot work with a server of a newer major; install PostgreSQL $newer or later and point PGBUNDLE_PG_BINDIR at its bin directory \(e\.g\. /usr/lib/postgresql/$newer/bin\)$}m;

# --- squash --db: the server is newer than pg_dump -------------------------
my ($code, $out, $err) = PgbTest::run({ env => \%env }, $pgbundle, 'squash',
    $dir, '--through', '2', '--archive', $archive, '--db', $url);
is($code, 4, 'squash --db, pg_dump older than the server: exit 4');
like($err, $too_old, 'names pg_dump, both versions and PGBUNDLE_PG_BINDIR')
    or diag($err);
is($out, '', 'nothing on stdout');
is_deeply([listing($dir)], \@before, 'the folder is unchanged');
is_deeply([-d $archive ? listing($archive) : ()], [], 'nothing moved to the archive');
is(scratch_dbs(), '0', 'no scratch database made on the server');
is_deeply([listing($tmp)], [], 'nothing left in TMPDIR');

# --- squash on a scratch server: a newer initdb beside an older pg_dump -----
# One directory holding two installations, as PATH or a hand-made bin
# directory can: initdb, pg_ctl and postgres of 17, pg_dump of 15.
my $mixed = PgbTest::tempdir();
symlink("$bindir/$_", "$mixed/$_") or die "symlink $_: $!"
    for qw(initdb pg_ctl postgres);
symlink($pg_dump, "$mixed/pg_dump") or die "symlink pg_dump: $!";
($code, $out, $err) = PgbTest::run({ env => { %env,
    PGBUNDLE_PG_BINDIR => $mixed } }, $pgbundle, 'squash', $dir,
    '--through', '2', '--archive', $archive);
is($code, 4, 'squash on a scratch server of a newer initdb: exit 4');
like($err, qr{^pgbundle: pg_dump \Q$dump_version\E is older than the server it must work with \(PostgreSQL $newer\.\d+\)\n  detail: '\Q$mixed\E/pg_dump' cannot work with a server of a newer major}m,
    'names the pg_dump it found and the scratch server\'s version')
    or diag($err);
is_deeply([listing($dir)], \@before, 'the folder is unchanged');
is_deeply([-d $archive ? listing($archive) : ()], [], 'nothing moved to the archive');
is_deeply([listing($tmp)], [], 'the scratch server is stopped and removed');

# --- PGBUNDLE_PG_BINDIR chooses the scratch server's major -----------------
($code, $out, $err) = PgbTest::run({ env => { %env,
    PGBUNDLE_PG_BINDIR => $bindir } }, $pgbundle, 'check', $dir, '--scratch');
is($code, 0, "check --scratch with PGBUNDLE_PG_BINDIR: PostgreSQL $newer")
    or diag($err);
like($err, qr/3 migrations proven on a scratch database/,
    'its verify query saw the newer server');
is_deeply([listing($tmp)], [], 'the scratch server is stopped and removed');

# Set, it is the only place looked in: squash finds no pg_dump there.
($code, $out, $err) = PgbTest::run({ env => { %env,
    PGBUNDLE_PG_BINDIR => $bindir } }, $pgbundle, 'squash', $dir,
    '--through', '2', '--archive', $archive);
is($code, 4, 'squash, PGBUNDLE_PG_BINDIR without pg_dump: exit 4');
like($err, qr{^pgbundle: cannot find PostgreSQL's 'pg_dump' in PGBUNDLE_PG_BINDIR '\Q$bindir\E'\n  detail: point PGBUNDLE_PG_BINDIR at the bin directory of a PostgreSQL installation that has it, or unset it$}m,
    'names the variable and the directory') or diag($err);
is_deeply([listing($dir)], \@before, 'the folder is unchanged');
is_deeply([listing($tmp)], [], 'nothing left in TMPDIR');

($code, $out, $err) = PgbTest::run({ env => { %env,
    PGBUNDLE_PG_BINDIR => '/nonexistent/bin' } }, $pgbundle, 'check', $dir,
    '--scratch');
is($code, 4, 'check --scratch, PGBUNDLE_PG_BINDIR without initdb: exit 4');
like($err, qr{^pgbundle: cannot find PostgreSQL's 'initdb' in PGBUNDLE_PG_BINDIR '/nonexistent/bin'$}m,
    'names the variable and the directory') or diag($err);

done_testing;
