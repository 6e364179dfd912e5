#!/usr/bin/perl
# 073_squash_data.pl - squash keeps its promise about rows: when the
# replaced migrations leave rows in tables (INSERT, COPY, UPDATE of seed
# tables), it refuses, naming every such table, unless each is given with
# --data (keep the rows) or --schema-only (leave them out); refusals
# change nothing.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $url = $pg->url;
my $pgbundle = PgbTest::bin('pgbundle');

sub listing {
	my ($dir) = @_;
	return '' unless -d $dir;
	opendir(my $dh, $dir) or die "$dir: $!";
	my @v = sort grep { !/^\./ } readdir($dh);
	closedir($dh);
	return join ' ', @v;
}

my $dir = Pgb::migrations(
    '001_plans.sql' => "-- pgbundle:allow no-down\nCREATE TABLE plans (code text PRIMARY KEY, price int);\n"
        . "COPY plans (code, price) FROM stdin;\nfree\t0\n\\.\n",
    '002_flags.sql' => "-- pgbundle:allow no-down\nCREATE TABLE flags (key text);\n"
        . "INSERT INTO flags VALUES ('a'), ('b');\n",
    '003_settings.sql' => "-- pgbundle:allow no-down\nCREATE TABLE settings (k text, v text);\n"
        . "INSERT INTO settings VALUES ('x', '1');\nUPDATE settings SET v = '2';\n",
    '004_users.sql' => "-- pgbundle:allow no-down\nCREATE TABLE users (id int);\n",
    '005_later.sql' => "-- pgbundle:allow no-down\nCREATE TABLE later (id int);\n");
my $archive = "$dir/../archive";
my $before = listing($dir);

sub squash {
	return PgbTest::run($pgbundle, 'squash', $dir, '--through', '4', '--archive', $archive,
	    '--db', $url, @_);
}

sub unchanged {
	my ($name) = @_;
	is(listing($dir), $before, "$name: the folder is unchanged");
	is(listing($archive), '', "$name: nothing archived");
	is($pg->psql('postgres', "SELECT count(*) FROM pg_database WHERE datname LIKE 'pgbundle_scratch%'"),
	    '0', "$name: no scratch database left");
}

my ($code, $out, $err) = squash();
is($code, 2, 'rows and no --data: exit 2');
is($err, "pgbundle: migrations 1..4 leave rows in 3 tables that the baseline would not keep\n"
    . "  detail: public.flags (2 rows), public.plans (1 row), public.settings (1 row): name each with "
    . "--data TABLE to keep its rows in the baseline, or --schema-only TABLE to leave them out; "
    . "nothing was changed\n", 'names every table with its rows');
is($out, '', 'prints no baseline');
unchanged('no --data');

($code, undef, $err) = squash('--data', 'plans');
is($code, 2, 'one table named: still exit 2');
like($err, qr/^pgbundle: migrations 1\.\.4 leave rows in 2 tables that the baseline would not keep\n  detail: public\.flags \(2 rows\), public\.settings \(1 row\): /,
    'names the other two');
unchanged('--data plans');

($code, undef, $err) = squash('--data', 'flags', '--schema-only', 'public.flags');
is($code, 2, 'a table given both ways: exit 2');
is($err, "pgbundle: 'public.flags' is given with both --data and --schema-only\n", 'says so');
($code, undef, $err) = squash('--schema-only', 'nosuch');
is($code, 2, 'an unknown --schema-only table: exit 2');
is($err, "pgbundle: --schema-only 'nosuch': no such table after migration 4\n", 'names it');
unchanged('bad tables');

($code, $out, $err) = squash('--data', 'plans', '--schema-only', 'flags', '--data', 'settings');
is($code, 0, 'every table named: squash goes on') or diag($err);
is($out, "$dir/004_baseline.sql\n", 'writes the baseline');
my $text = PgbTest::read_file("$dir/004_baseline.sql");
like($text, qr/^COPY public\.plans \(code, price\) FROM stdin;\nfree\t0\n\\\.$/m, 'with the rows of plans');
like($text, qr/^COPY public\.settings \(k, v\) FROM stdin;\nx\t2\n\\\.$/m, 'and of settings, as updated');
unlike($text, qr/^COPY public\.flags/m, 'not those of flags');
like($text, qr/^CREATE TABLE public\.flags /m, 'whose table is kept');

done_testing;
