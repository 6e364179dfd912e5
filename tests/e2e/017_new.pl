#!/usr/bin/perl
# 017_new.pl - pgbundle new NAME [DIR] writes the next migration and an
# empty down script, numbered as the folder numbers (its width, or a
# timestamp where it uses them), in the folder's layout; refuses a bad
# name and a folder with problems, writing nothing.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pgbundle = PgbTest::bin('pgbundle');
my %env = (SOURCE_DATE_EPOCH => 1700000000);	# 2023-11-14 22:13:20 UTC

sub new_in {
	my ($dir, $name, @opts) = @_;
	return PgbTest::run({ env => \%env }, $pgbundle, 'new', $name, $dir, @opts);
}

sub listing {
	my ($dir) = @_;
	opendir(my $dh, $dir) or die "$dir: $!";
	my @v = sort grep { !/^\./ } readdir($dh);
	closedir($dh);
	return join ' ', @v;
}

my $ok = "-- pgbundle:allow no-down\nCREATE TABLE t (id int);\n";

# --- an empty folder, then the next one -------------------------------------------------
{
	my $dir = PgbTest::tempdir() . '/migrations';
	mkdir $dir or die;
	my ($code, $out, $err) = new_in($dir, 'create_users');
	is($code, 0, 'new in an empty folder: exit 0') or diag($err);
	is($out, "$dir/001_create_users.sql\n$dir/001_create_users.down.sql\n", 'prints both paths');
	is($err, "pgbundle: wrote $dir/001_create_users.sql and $dir/001_create_users.down.sql, "
	    . "an empty down script (pgbundle layout)\n", 'says what it wrote');
	ok(-e "$dir/001_create_users.sql" && -z "$dir/001_create_users.sql", 'the up script is empty');
	ok(-e "$dir/001_create_users.down.sql" && -z "$dir/001_create_users.down.sql", 'so is the down script');
	PgbTest::write_file("$dir/001_create_users.sql", "CREATE TABLE users (id int);\n");
	PgbTest::write_file("$dir/001_create_users.down.sql", "DROP TABLE users;\n");
	($code, undef, $err) = PgbTest::run($pgbundle, 'sum', $dir, '--fix');
	is($code, 0, 'filled in, it compiles') or diag($err);
	($code, $out) = new_in($dir, 'add-email');
	is($out, "$dir/002_add-email.sql\n$dir/002_add-email.down.sql\n", 'the next number, the same width');
	PgbTest::write_file("$dir/002_add-email.sql", "ALTER TABLE users ADD COLUMN email text;\n");
	PgbTest::write_file("$dir/002_add-email.down.sql", "ALTER TABLE users DROP COLUMN email;\n");
	($code, undef, $err) = PgbTest::run($pgbundle, 'check', $dir);
	is($code, 0, 'check passes with it') or diag($err);
	like($err, qr{/002_add-email\.sql:1: note: new migration 2, not yet in pgbundle\.sum}, 'as a new migration');

	# The default folder is migrations/ under the current directory.
	($code, $out) = PgbTest::run({ env => \%env, cwd => "$dir/.." }, $pgbundle, 'new', 'third');
	is($code, 0, 'DIR defaults to migrations/');
	is($out, "migrations/003_third.sql\nmigrations/003_third.down.sql\n", 'there');
}

# --- the folder's own numbering ------------------------------------------------------------
my @numbering = (
    ['four digits', { '0007_a.sql' => $ok }, "0008_next.sql 0008_next.down.sql"],
    ['no padding', { '9_a.sql' => $ok }, "10_next.sql 10_next.down.sql"],
    ['the sample width', { '012_a.sql' => $ok, '013_b.sql' => $ok }, "014_next.sql 014_next.down.sql"],
    ['timestamps', { '20230705123456_a.sql' => $ok },
     "20231114221320_next.sql 20231114221320_next.down.sql"],
    ['a timestamp later than now', { '20991231000000_a.sql' => $ok },
     "20991231000001_next.sql 20991231000001_next.down.sql"],
    ['golang-migrate', { '000001_a.up.sql' => $ok, '000001_a.down.sql' => "DROP TABLE t;\n" },
     "000002_next.up.sql 000002_next.down.sql"],
    ['flyway', { 'V1__a.sql' => $ok, 'V2__b.sql' => $ok }, "V3__next.sql U3__next.sql"],
);
for my $n (@numbering) {
	my ($what, $files, $want) = @$n;
	my $dir = Pgb::migrations(%$files);
	my ($code, $out, $err) = new_in($dir, 'next');
	is($code, 0, "$what: exit 0") or diag($err);
	my @w = map { "$dir/$_" } split / /, $want;
	is($out, join('', map { "$_\n" } @w), "$what: $want");
	ok(-e $w[0] && -e $w[1], "$what: both written");
}

# dbmate: one file with both markers.
{
	my $dir = Pgb::migrations('20230101000000_a.sql' => "-- migrate:up\n$ok\n-- migrate:down\n");
	my ($code, $out, $err) = new_in($dir, 'next');
	is($code, 0, 'dbmate: exit 0');
	is($out, "$dir/20231114221320_next.sql\n", 'dbmate: one file, a timestamp');
	is($err, "pgbundle: wrote $dir/20231114221320_next.sql, with an empty down section (dbmate layout)\n",
	    'dbmate: says so');
	is(PgbTest::read_file("$dir/20231114221320_next.sql"), "-- migrate:up\n\n-- migrate:down\n",
	    'dbmate: with its markers');
}

# diesel: a folder with up.sql and down.sql.
{
	my $dir = PgbTest::tempdir() . '/migrations';
	PgbTest::write_file("$dir/2023-07-05-000058_a/up.sql", $ok);
	my ($code, $out) = new_in($dir, 'next');
	is($code, 0, 'diesel: exit 0');
	is($out, "$dir/2023-11-14-221320_next/up.sql\n$dir/2023-11-14-221320_next/down.sql\n",
	    'diesel: a timestamped folder');
}

# --- refusals write nothing -----------------------------------------------------------------
{
	my $dir = Pgb::migrations('001_a.sql' => $ok);
	my $before = listing($dir);
	my ($code, $out, $err) = new_in($dir, 'bad name');
	is($code, 2, 'a bad name: exit 2');
	is($err, "pgbundle: migration name 'bad name': use 1 to 64 letters, digits, '_' and '-'\n", 'says so');
	is(listing($dir), $before, 'nothing written');
	($code) = PgbTest::run($pgbundle, 'new');
	is($code, 2, 'no name: usage');

	PgbTest::write_file("$dir/001_b.sql", $ok);
	$before = listing($dir);
	($code, $out, $err) = new_in($dir, 'next');
	is($code, 1, 'a folder with problems: exit 1');
	like($err, qr{^pgbundle: '\Q$dir\E' has problems, so its next number would be a guess: fix them first \('pgbundle check \Q$dir\E'\)\n  detail: \Q$dir\E/001_b\.sql:1: duplicate version 1: also used by '\Q$dir\E/001_a\.sql'\n\z},
	    'names the first problem');
	is(listing($dir), $before, 'nothing written');

	($code, undef, $err) = new_in("$dir/nosuch", 'next');
	is($code, 2, 'a missing folder: exit 2');
	like($err, qr{^pgbundle: cannot open migrations directory '\Q$dir\E/nosuch'}, 'says so');
}

done_testing;
