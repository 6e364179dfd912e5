#!/usr/bin/perl
# 053_hostile_more.pl - the "more" set of tests/gen-hostile.pl (single bits
# flipped across the file, truncation at many lengths, data appended after
# the archive, hostile tar headers, names that differ by case or Unicode
# normalisation), then key files of every kind and a key rotated out
# ("revoked").  Each refusal: exit 3, a message naming the cause, no
# connection to the server (its log shows none) and the database as it
# was.  Fixtures that only change bytes decompression ignores (the gzip
# mtime, OS and FTEXT fields) must be accepted: they are the same archive.
# A base-256 size equal to the real one is not what pgbundle writes, and
# is refused.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $root = PgbTest::root();
my $fx = PgbTest::tempdir();
my ($code, $list, $gerr) = PgbTest::run('perl', "$root/tests/gen-hostile.pl", $fx, 'more');
is($code, 0, 'the "more" fixtures are generated') or diag($gerr);
my @cases = map { [split /\t/, $_, 2] } split /\n/, $list;
cmp_ok(scalar @cases, '>=', 80, 'at least 80 fixtures');

my $pg = PgbTest::Server->new(conf => { log_connections => 'on' });
my $db = $pg->createdb;
my $schema = $pg->dump_schema($db);
my $pgapply = PgbTest::bin('pgapply');

sub connections {
	return scalar(() = $pg->log_content =~ /connection authorized: .*application_name=pgapply/g);
}

# Refused: exit 3, the message, no connection.  $want is a substring, or
# a regular expression after "~".
sub refused {
	my ($name, $want, @cmd) = @_;
	my $before = connections();
	my ($rc, undef, $err) = PgbTest::run(@cmd);
	my $re = $want =~ /^~(.*)/s ? qr/$1/ : qr/\Q$want\E/;
	is($rc, 3, "$name: refused with exit 3") or diag($err);
	like($err, $re, "$name: says why") or diag($err);
	is(connections(), $before, "$name: never connected");
}

my %accepted;
for my $c (@cases) {
	my ($name, $want) = @$c;
	$want //= '';
	my @cmd = ($pgapply, $want eq '' ? 'verify' : 'apply', "$fx/$name.pgb",
	    '--pubkey', Pgb::pub(), '--db', $pg->connstr($db), '--lock-wait', '5');
	if ($want eq '') {
		@cmd = @cmd[0 .. 4];
		my ($rc, undef, $err) = PgbTest::run(@cmd);
		is($rc, 0, "$name: accepted (the same archive)") or diag($err);
		$accepted{$name} = 1;
		next;
	}
	refused($name, $want, @cmd);
}
ok($accepted{'flip-mtime'} && $accepted{'flip-os'}, 'the harmless variants were checked');
is($pg->dump_schema($db), $schema, 'no fixture changed the database');

# --- key files ------------------------------------------------------------------
my $keys = "$root/tests/data/keys";
my $b = Pgb::bundle(Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n"));
my $kd = PgbTest::tempdir();
my $pub_pem = PgbTest::read_file(Pgb::pub());
(my $b64 = $pub_pem) =~ s/-----[^-]+-----|\s//g;
require MIME::Base64;
my $der = MIME::Base64::decode_base64($b64);
PgbTest::write_file("$kd/raw32", substr($der, -32));
PgbTest::write_file("$kd/spki.der", $der);
PgbTest::write_file("$kd/two.pub", $pub_pem . PgbTest::read_file("$keys/other.pub"));
PgbTest::write_file("$kd/empty.pub", '');
PgbTest::write_file("$kd/huge.pub", $pub_pem . ('#' x 20000));
PgbTest::write_file("$kd/garbage.pub", "-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n"
    . "-----END PUBLIC KEY-----\n");
PgbTest::write_file("$kd/cert.pem", "-----BEGIN CERTIFICATE-----\n$b64\n-----END CERTIFICATE-----\n");
mkdir "$kd/dir.pub";
my ($orc) = PgbTest::run('openssl', 'genpkey', '-algorithm', 'ed448', '-out', "$kd/ed448.key");
PgbTest::run('openssl', 'pkey', '-in', "$kd/ed448.key", '-pubout', '-out', "$kd/ed448.pub")
    if $orc == 0;

my ($rc, undef, $err) = PgbTest::run($pgapply, 'verify', $b, '--pubkey', Pgb::pub());
is($rc, 0, 'an Ed25519 SPKI PEM key is accepted') or diag($err);
for my $k (
    ['test.key (PKCS#8 private key)', "$keys/test.key", qr/is a private key, not a public key/],
    ['raw 32-byte key', "$kd/raw32", qr/cannot read public key/],
    ['DER SubjectPublicKeyInfo', "$kd/spki.der", qr/cannot read public key/],
    ['RSA key', "$keys/rsa.pub", qr/unsupported key type 'RSA'/],
    ['X25519 key', "$keys/x25519.pub", qr/unsupported key type 'X25519'/],
    ['truncated PEM', "$keys/truncated.pub", qr/cannot read public key/],
    ['two PEM blocks', "$kd/two.pub", qr/holds more than one PEM block/],
    ['empty file', "$kd/empty.pub", qr/cannot read public key/],
    ['key file over 16 KiB', "$kd/huge.pub", qr/over the limit of 16384/],
    ['PEM with garbage inside', "$kd/garbage.pub", qr/cannot read public key/],
    ['a certificate', "$kd/cert.pem", qr/expected a PEM "PUBLIC KEY" block, found "CERTIFICATE"/],
    ['a directory', "$kd/dir.pub", qr/not a regular file/],
    ['a missing file', "$kd/nope.pub", qr/No such file/],
    ($orc == 0 ? (['Ed448 key', "$kd/ed448.pub", qr/unsupported key type 'ED448'/]) : ()),
    ['RSA key as PEM text', PgbTest::read_file("$keys/rsa.pub"), qr/unsupported key type 'RSA'/],
    ) {
	my $before = connections();
	($rc, undef, $err) = PgbTest::run($pgapply, 'apply', $b, '--pubkey', $k->[1],
	    '--db', $pg->connstr($db));
	is($rc, 3, "key file, $k->[0]: exit 3");
	like($err, $k->[2], "key file, $k->[0]: says why") or diag($err);
	is(connections(), $before, "key file, $k->[0]: never connected");
}

# --- a key rotated out ("revoked") --------------------------------------------------
#
# pgapply has no revocation list: a key is revoked by no longer passing
# it.  During a rotation both keys are trusted; afterwards a bundle signed
# with the old key is refused like any other untrusted one.
{
	my $m = Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n");
	my $out = PgbTest::tempdir() . '/old.pgb';
	my ($bc, undef, $berr) = PgbTest::run(PgbTest::bin('pgbundle'), 'build', $m, '-o', $out,
	    '--key', "$keys/other.key");
	is($bc, 0, 'a bundle signed with the old key') or diag($berr);
	($rc, undef, $err) = PgbTest::run($pgapply, 'verify', $out, '--pubkey', "$keys/other.pub",
	    '--pubkey', Pgb::pub());
	is($rc, 0, 'during the rotation (both keys trusted) it is accepted') or diag($err);
	my $before = connections();
	($rc, undef, $err) = PgbTest::run($pgapply, 'apply', $out, '--pubkey', Pgb::pub(),
	    '--db', $pg->connstr($db));
	is($rc, 3, 'once the old key is no longer passed, it is refused');
	like($err, qr/signature does not match any trusted key/, 'as an untrusted signature');
	like($err, qr/[0-9a-f]{16}/, 'naming the key ids involved');
	is(connections(), $before, 'and never connected');
}

is($pg->dump_schema($db), $schema, 'nothing here changed the database');
done_testing();
