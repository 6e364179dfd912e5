#!/usr/bin/perl
# 084_messages.pl - messages that point at the cause: a failed migration
# says it was rolled back (and leaves the database as it was); rollback's
# --json reports the down script's mode and statement count; a private key
# readable by group or others gets a warning naming its mode.
use strict;
use warnings;

use Test::More;
use JSON::PP;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $json = JSON::PP->new->utf8;

# --- a failed migration was rolled back ------------------------------------------------
{
	my $db = $pg->createdb;
	my $b = Pgb::bundle(Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n",
	    '002_bad.sql' => "CREATE TABLE b ();\nSELECT nosuchcolumn FROM b;\n"));
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 5, 'a failed migration exits 5');
	like($err, qr/^pgapply: migration '002_bad' failed at statement 2 of 2 \(migrations\/002_bad\.sql:2\); it was rolled back\n  SQLSTATE 42703: column "nosuchcolumn" does not exist/m,
	    'the message says it was rolled back') or diag($err);
	is($pg->psql($db, q{SELECT count(*) FROM pg_tables WHERE tablename = 'b'}), '0',
	    'the database holds nothing of it');

	my $db2 = $pg->createdb;
	($code, $out, $err) = Pgb::pgapply($pg, $db2, 'apply', $b, '--single-transaction');
	is($code, 5, '--single-transaction: exits 5');
	like($err, qr/^pgapply: migration '002_bad' failed at statement 2 of 2 \(migrations\/002_bad\.sql:2\); the whole run was rolled back \(--single-transaction\)$/m,
	    '--single-transaction: the whole run was rolled back') or diag($err);
	is($pg->psql($db2, q{SELECT count(*) FROM pg_tables WHERE tablename = 'a'}), '0',
	    '--single-transaction: the first migration is gone too');
}

# --- rollback --json counts the down script's statements -------------------------------
{
	my $db = $pg->createdb;
	my $b = Pgb::bundle(Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n",
	    '001_a.down.sql' => "DROP TABLE a;\nSELECT 1;\nSELECT 2;\n"));
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $b);
	is($code, 0, 'applied') or diag($err);
	($code, $out, $err) = Pgb::pgapply($pg, $db, 'rollback', $b, '--steps', '1', '--json');
	is($code, 0, 'rolled back') or diag($err);
	my ($r) = grep { $_->{event} eq 'reverted' } map { $json->decode($_) } split /\n/, $out;
	is($r->{statements}, 3, 'rollback --json: the down script\'s 3 statements') or diag($out);
	is($r->{mode}, 'transaction', 'rollback --json: the down script\'s mode');
}

# --- a private key others can read ------------------------------------------------------
{
	my $dir = PgbTest::tempdir();
	my $key = "$dir/loose.key";
	PgbTest::write_file($key, PgbTest::read_file(Pgb::key()));
	my $m = Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n");
	chmod 0644, $key;
	my ($code, $out, $err) = PgbTest::run(PgbTest::bin('pgbundle'), 'build', $m,
	    '-o', "$dir/a.pgb", '--key', $key);
	is($code, 0, 'a loose key still signs') or diag($err);
	like($err, qr/^pgbundle: warning: private key '\Q$key\E' is readable or writable by group or others \(mode 0644\); run chmod 600 on it$/m,
	    'the warning names the key and its mode') or diag($err);
	chmod 0600, $key;
	($code, $out, $err) = PgbTest::run(PgbTest::bin('pgbundle'), 'build', $m,
	    '-o', "$dir/b.pgb", '--key', $key);
	is($code, 0, 'mode 0600: builds');
	unlike($err, qr/warning: private key/, 'mode 0600: no warning');
}

done_testing();
