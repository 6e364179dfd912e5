#!/usr/bin/perl
# 028_accept.pl - a way out of drift: a released migration is fixed, build
# refuses until 'pgbundle sum --fix' accepts it in the folder, apply
# refuses the database that ran the old text and says how to move on,
# and 'pgapply accept' records the new checksum without running it (the
# old one and the reason kept, origin 'accepted', shown by status; the
# chains of later migrations follow).  Its refusals change nothing; an
# older history table gains its columns; a baseline that replaced the
# changed migration is not the one named.
use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $pgbundle = PgbTest::bin('pgbundle');

sub history {
	my ($db) = @_;
	return $pg->psql($db, "SELECT string_agg(version || ':' || checksum || "
	    . "':' || chain || ':' || origin, ' ' ORDER BY version) FROM "
	    . 'pgbundle.history');
}

sub chains {
	my ($bundle) = @_;
	my (undef, $man) = PgbTest::run('tar', '-xzOf', $bundle, 'MANIFEST');
	my %c;
	while ($man =~ /^migration (\d+)[^\n]*\n(?:[^\n]*\n){4}chain ([0-9a-f]{64})$/mg) {
		$c{$1} = $2;
	}
	return \%c;
}

my $dropidx = "-- pgbundle:allow no-down\nCREATE INDEX users_name_idx ON users (name);\n"
    . "DROP INDEX users_old_idx;\n";
my $m = Pgb::migrations(
    '001_users.sql' => "-- pgbundle:allow no-down\nCREATE TABLE users (id int, name text);\n"
        . "CREATE INDEX users_old_idx ON users (id);\n",
    '002_index.sql' => $dropidx,
    '003_orders.sql' => "-- pgbundle:allow no-down\nCREATE TABLE orders (id int);\n",
    '004_items.sql' => "-- pgbundle:allow no-down\nCREATE TABLE items (id int);\n");
my $v1 = Pgb::bundle($m);
my $sum = PgbTest::read_file("$m/pgbundle.sum");
my $db = $pg->createdb;
my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $v1, '--to', '3');
is($code, 0, 'the old text ran to 3') or diag($err);

# --- the fix: build guards it, sum --fix accepts it -----------------------------------
PgbTest::write_file("$m/002_index.sql", "-- pgbundle:allow no-down\n"
    . "CREATE INDEX users_name_idx ON users (name);\nDROP INDEX IF EXISTS users_old_idx;\n"
    . "COMMENT ON INDEX users_name_idx IS 'fixed';\n");
my $out2 = PgbTest::tempdir() . '/v2.pgb';
($code, $out, $err) = PgbTest::run($pgbundle, 'build', $m, '--key', Pgb::key(), '-o', $out2);
is($code, 1, 'build refuses an edited released migration: exit 1');
like($err, qr{^\Q$m\E/pgbundle\.sum:3: error: '\Q$m\E/002_index\.sql' \(migration 2 'index'\) changed after pgbundle\.sum recorded it: a released migration must not change; restore it, or accept the change with 'pgbundle sum --fix' \(and 'pgapply accept' on the databases that ran it\)$}m,
    'naming the file and the way to accept it');
like($err, qr{^pgbundle: \Q$m\E: 1 error, 0 warnings; nothing was written$}m, 'says it wrote nothing');
ok(!-e $out2, 'no bundle');
is(PgbTest::read_file("$m/pgbundle.sum"), $sum, 'the sum file is unchanged');
($code, undef, $err) = PgbTest::run($pgbundle, 'sum', $m, '--fix');
is($code, 0, 'sum --fix accepts it') or diag($err);
my $v2 = Pgb::bundle($m);
my $c2 = chains($v2);

# --- apply refuses and says how to move on -------------------------------------------
my $before = history($db);
($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $v2);
is($code, 4, 'apply refuses the drifted database: exit 4');
like($err, qr{^pgapply: checksum mismatch for applied migration '002_index'$}m, 'names the changed migration');
like($err, qr{the migration changed after it was applied; nothing was changed\. If the new text is a fix that this database does not need to run, record it: pgapply accept \Q$v2\E --version 2 --reason TEXT}, 'and mentions accept');
is(history($db), $before, 'the history is unchanged');
($code, $out) = Pgb::pgapply($pg, $db, 'status', $v2);
like($out, qr/^drifted\s+2_index\s/m, 'status shows the drift (an older table without accept columns)');

# --- accept's refusals change nothing ---------------------------------------------------
($code, undef, $err) = Pgb::pgapply($pg, $db, 'accept', $v2, '--version', '2');
is($code, 2, 'accept without --reason: usage, exit 2');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'accept', $v2, '--version', '2', '--reason', ' ');
is($code, 2, 'an empty reason: exit 2');
like($err, qr/^pgapply: --reason must say why the changed migration is accepted$/m, 'says so');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'accept', $v2, '--version', '9', '--reason', 'x');
is($code, 2, 'a version the bundle does not hold: exit 2');
like($err, qr/^pgapply: the bundle has no migration 9 to accept$/m, 'says so');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'accept', $v2, '--version', '4', '--reason', 'x');
is($code, 4, 'a migration that is not applied: exit 4');
like($err, qr/^pgapply: migration '004_items' is not applied: there is nothing to accept$/m, 'says so');
like($err, qr/'pgapply apply' runs a pending one; nothing was changed/, 'and what to do instead');
is(history($db), $before, 'the history is unchanged');
is($pg->psql($db, "SELECT count(*) FROM pg_attribute WHERE attrelid = 'pgbundle.history'::regclass "
    . "AND attname IN ('previous_checksum', 'reason')"), '0', 'no columns were added');

# --- accept ------------------------------------------------------------------------------
my $old2 = $pg->psql($db, 'SELECT checksum FROM pgbundle.history WHERE version = 2');
($code, $out, $err) = Pgb::pgapply($pg, $db, 'accept', $v2, '--version', '2',
    '--reason', 'DROP INDEX fails on a fresh database');
is($code, 0, 'accept exits 0') or diag($err);
like($err, qr{^pgapply: accepted 002_index: the history now holds sha256:[0-9a-f]{12}\.\.\. \(was \Q@{[substr($old2, 0, 19)]}\E\.\.\.\), not run$}m,
    'says what it recorded');
like($err, qr/^pgapply: 1 later applied migration follows it$/m, 'and that 003 follows');
my $new2 = 'sha256:' . sha256_hex(PgbTest::read_file("$m/002_index.sql"));
is($pg->psql($db, "SELECT checksum || ' ' || previous_checksum || ' ' || reason || ' ' || origin "
    . 'FROM pgbundle.history WHERE version = 2'),
    "$new2 $old2 DROP INDEX fails on a fresh database accepted",
    'the row holds the new checksum, the old one, the reason and origin accepted');
is($pg->psql($db, "SELECT string_agg(version || '=' || chain, ' ' ORDER BY version) FROM pgbundle.history"),
    "1=$c2->{1} 2=$c2->{2} 3=$c2->{3}", 'the chains of 2 and 3 are the bundle\'s now');
is($pg->psql($db, "SELECT obj_description('users_name_idx'::regclass) IS NULL"), 't',
    'nothing ran');

($code, $out) = Pgb::pgapply($pg, $db, 'status', $v2);
like($out, qr{^applied\s+2_index\s+\S+  accepted \(was \Q@{[substr($old2, 0, 19)]}\E\.\.\.\): DROP INDEX fails on a fresh database$}m,
    'status shows the accepted migration');
like($out, qr/^applied\s+3_orders\s/m, 'and the one after it as applied');
($code, $out) = Pgb::pgapply($pg, $db, 'status', $v2, '--json');
like($out, qr{"version":2,"name":"index",.*"state":"applied",.*"origin":"accepted","previous_checksum":"\Q$old2\E","reason":"DROP INDEX fails on a fresh database"},
    'and so does its JSON');
($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $v2);
is($code, 0, 'apply goes on') or diag($err);
like($err, qr/applied 004_items .*\n.*applied 1 migration/s, 'with 004 only');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'accept', $v2, '--version', '2', '--reason', 'again');
is($code, 0, 'accepting it again');
like($err, qr/^pgapply: nothing to accept: migration 2 already has the bundle's checksum$/m, 'finds nothing to do');

# JSON of an accept.
my $jdb = $pg->createdb;
Pgb::pgapply($pg, $jdb, 'apply', $v1);
($code, $out) = Pgb::pgapply($pg, $jdb, 'accept', $v2, '--version', '2', '--reason', 'fix', '--json');
is($code, 0, 'accept --json');
like($out, qr/^\{"event":"accepted","version":2,"name":"index","mode":"transaction","statements":3,"checksum":"\Q$new2\E","origin":"accepted","previous_checksum":"sha256:[0-9a-f]{64}","reason":"fix","followed":2\}$/m,
    'one accepted event, two later migrations followed');

# --- two changed migrations: the first is accepted first ---------------------------------
PgbTest::write_file("$m/001_users.sql", "-- pgbundle:allow no-down\n"
    . "CREATE TABLE users (id int, name text, email text);\nCREATE INDEX users_old_idx ON users (id);\n");
PgbTest::write_file("$m/003_orders.sql", "-- pgbundle:allow no-down\nCREATE TABLE orders (id bigint);\n");
PgbTest::run($pgbundle, 'sum', $m, '--fix');
my $v3 = Pgb::bundle($m);
$before = history($db);
($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $v3);
like($err, qr/checksum mismatch for applied migration '001_users'/, 'apply names the first that changed');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'accept', $v3, '--version', '3', '--reason', 'x');
is($code, 4, 'accepting 3 while 1 changed too: exit 4');
like($err, qr/^pgapply: migration 1 'users', before 3, changed too$/m, 'names 1');
like($err, qr/accept it first: pgapply accept \Q$v3\E --version 1 --reason TEXT; nothing was changed/, 'says what to do');
is(history($db), $before, 'the history is unchanged');
($code) = Pgb::pgapply($pg, $db, 'accept', $v3, '--version', '1', '--reason', 'email');
is($code, 0, 'accept 1');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $v3);
is($code, 4, '3 still needs its own accept');
like($err, qr/checksum mismatch for applied migration '003_orders'/, 'and is named');
($code) = Pgb::pgapply($pg, $db, 'accept', $v3, '--version', '3', '--reason', 'bigint');
is($code, 0, 'accept 3');
($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $v3);
is($code, 0, 'then the database is in step') or diag($err);
like($err, qr/nothing to do/, 'with nothing to do');

# --- a baseline that replaced the changed migration -----------------------------------------
{
	my %f = (
	    '001_a.sql' => "-- pgbundle:allow no-down\nCREATE TABLE a (id int);\n",
	    '002_b.sql' => "-- pgbundle:allow no-down\nCREATE TABLE b (id int);\n");
	my $old = Pgb::migrations(%f);
	my $bdb = $pg->createdb;
	($code) = Pgb::pgapply($pg, $bdb, 'apply', Pgb::bundle($old));
	is($code, 0, 'baseline case: the old migrations ran');
	# Migration 2 fixed, then squashed with 1 into a baseline of 1..2.
	my $fixed = "-- pgbundle:allow no-down\nCREATE TABLE b (id bigint);\n";
	my $base = "-- pgbundle:baseline-of 1..2\n"
	    . '-- pgbundle:replaces 1 ' . sha256_hex($f{'001_a.sql'}) . " a\n"
	    . '-- pgbundle:replaces 2 ' . sha256_hex($fixed) . " b\n"
	    . "-- pgbundle:allow no-down\nCREATE TABLE a (id int);\nCREATE TABLE b (id bigint);\n";
	my $new = Pgb::bundle(Pgb::migrations('002_baseline.sql' => $base,
	    '003_c.sql' => "-- pgbundle:allow no-down\nCREATE TABLE c (id int);\n"));
	($code, undef, $err) = Pgb::pgapply($pg, $bdb, 'apply', $new);
	is($code, 4, 'the baseline bundle is refused');
	like($err, qr/^pgapply: checksum mismatch for applied migration 2 'b'$/m,
	    'naming the migration whose text changed, not the baseline');
	like($err, qr/baseline '002_baseline' replaced sha256:[0-9a-f]{64}: migration 2 changed after it was applied; nothing was changed\. .*pgapply accept \Q$new\E --version 2/,
	    'with the baseline in the detail and accept as the way on');
	($code, undef, $err) = Pgb::pgapply($pg, $bdb, 'accept', $new, '--version', '2', '--reason', 'bigint');
	is($code, 0, 'accept the replaced migration') or diag($err);
	is($pg->psql($bdb, 'SELECT checksum FROM pgbundle.history WHERE version = 2'),
	    'sha256:' . sha256_hex($fixed), 'its row holds the text the baseline replaced');
	($code, undef, $err) = Pgb::pgapply($pg, $bdb, 'apply', $new);
	is($code, 0, 'then the baseline counts as applied and 3 runs') or diag($err);
	like($err, qr/applied 003_c/, 'only 3 ran');
}

done_testing;
