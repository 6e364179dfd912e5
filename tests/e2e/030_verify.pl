#!/usr/bin/perl
# 030_verify.pl - a bundle is an attack until verified.  Every hostile
# fixture from tests/gen-hostile.pl is refused by `pgapply apply` with exit
# 3 and a message naming the cause, before any connection (the server's
# connection log shows none) and with the database unchanged.  Also: key
# handling (PGAPPLY_PUBKEY as a path and as PEM text, rotation, bad key
# files), --insecure-allow-unsigned, --signature, --expect-target, and a
# gzip bomb stopped at the cap with bounded memory.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $root = PgbTest::root();
my $fx = PgbTest::tempdir();
my ($code, $list, $gerr) = PgbTest::run('perl', "$root/tests/gen-hostile.pl", $fx);
is($code, 0, 'the hostile fixtures are generated') or diag($gerr);
my @cases = map { [split /\t/, $_, 2] } split /\n/, $list;
cmp_ok(scalar @cases, '>=', 30, 'at least 30 fixtures');

my $pg = PgbTest::Server->new(conf => { log_connections => 'on' });
my $db = $pg->createdb;
my $schema = $pg->dump_schema($db);

sub connections {
	return scalar(() = $pg->log_content =~ /connection authorized: .*application_name=pgapply/g);
}

my $pgapply = PgbTest::bin('pgapply');
for my $c (@cases) {
	my ($name, $want) = @$c;
	$want //= '';
	my $pub = -f "$fx/$name.pub" ? "$fx/$name.pub" : Pgb::pub();
	my $before = connections();
	my ($rc, $out, $err) = PgbTest::run($pgapply, 'apply', "$fx/$name.pgb",
	    '--pubkey', $pub, '--db', $pg->connstr($db), '--lock-wait', '5');
	if ($want eq '') {
		is($rc, 0, "$name: accepted and applied") or diag($err);
		next;
	}
	is($rc, 3, "$name: refused with exit 3");
	like($err, qr/\Q$want\E/, "$name: says why") or diag($err);
	is(connections(), $before, "$name: never connected");
}
# The valid fixture was applied; drop what it made and check nothing else
# ever touched the database.
my ($vrc) = PgbTest::run($pgapply, 'verify', "$fx/valid.pgb", '--pubkey', Pgb::pub());
is($vrc, 0, 'verify accepts the valid bundle');

my $db2 = $pg->createdb;
my $schema2 = $pg->dump_schema($db2);
for my $c (grep { ($_->[1] // '') ne '' } @cases) {
	my $name = $c->[0];
	my $pub = -f "$fx/$name.pub" ? "$fx/$name.pub" : Pgb::pub();
	PgbTest::run($pgapply, 'apply', "$fx/$name.pgb", '--pubkey', $pub,
	    '--db', $pg->connstr($db2));
}
is($pg->dump_schema($db2), $schema2, 'no refused bundle changed the database');

# --- keys ---------------------------------------------------------------
my $b = Pgb::bundle(Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n"), '--target', 'prod');
my $keys = "$root/tests/data/keys";

($code, undef, my $err) = PgbTest::run({ env => { PGAPPLY_PUBKEY => Pgb::pub() } },
    $pgapply, 'verify', $b);
is($code, 0, 'PGAPPLY_PUBKEY as a path') or diag($err);
($code, undef, $err) = PgbTest::run({ env => { PGAPPLY_PUBKEY => PgbTest::read_file(Pgb::pub()) } },
    $pgapply, 'verify', $b);
is($code, 0, 'PGAPPLY_PUBKEY as PEM text (a Secret or ConfigMap)') or diag($err);
($code, undef, $err) = PgbTest::run($pgapply, 'verify', $b, '--pubkey', "$keys/other.pub",
    '--pubkey', Pgb::pub());
is($code, 0, 'key rotation: any of several trusted keys') or diag($err);
like($err, qr/signed by key [0-9a-f]{16}/, 'names the key that verified it');
($code, undef, $err) = PgbTest::run($pgapply, 'verify', $b, '--pubkey', "$keys/other.pub");
is($code, 3, 'the wrong key: exit 3');
like($err, qr/signature does not match any trusted key/, 'the wrong key: says so');
like($err, qr/[0-9a-f]{16}/, 'the wrong key: names the key ids involved');
($code, undef, $err) = PgbTest::run($pgapply, 'verify', $b);
is($code, 3, 'no trusted key at all: exit 3');
like($err, qr/--pubkey/, 'and says how to give one');

for my $k (['rsa.pub', qr/unsupported key type/], ['x25519.pub', qr/unsupported key type/],
    ['truncated.pub', qr/cannot read public key/], ['test.key', qr/private key/]) {
	($code, undef, $err) = PgbTest::run($pgapply, 'verify', $b, '--pubkey', "$keys/$k->[0]");
	is($code, 3, "key file $k->[0]: exit 3");
	like($err, $k->[1], "key file $k->[0]: says why") or diag($err);
}

# --- signatures elsewhere, unsigned, targets ----------------------------------
my $d = PgbTest::tempdir();
PgbTest::write_file("$d/elsewhere.sig", PgbTest::read_file("$b.sig"));
PgbTest::write_file("$d/copy.pgb", PgbTest::read_file($b));
($code, undef, $err) = PgbTest::run($pgapply, 'verify', "$d/copy.pgb", '--pubkey', Pgb::pub());
is($code, 3, 'a bundle without FILE.sig is refused');
like($err, qr/is not signed.*--insecure-allow-unsigned/, 'and the way out is named');
($code, undef, $err) = PgbTest::run($pgapply, 'verify', "$d/copy.pgb", '--pubkey', Pgb::pub(),
    '--signature', "$d/elsewhere.sig");
is($code, 0, '--signature names the signature file') or diag($err);
my ($uc, $ub) = Pgb::build(Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n"), '--unsigned');
is($uc, 0, 'an unsigned bundle builds with --unsigned');
ok(!-e "$ub.sig", 'and has no signature');
($code, undef, $err) = PgbTest::run($pgapply, 'verify', $ub, '--pubkey', Pgb::pub());
is($code, 3, 'an unsigned bundle is refused');
($code, undef, $err) = PgbTest::run($pgapply, 'verify', $ub, '--insecure-allow-unsigned');
is($code, 0, '--insecure-allow-unsigned accepts it') or diag($err);
($code, undef, $err) = PgbTest::run($pgapply, 'verify', $b, '--pubkey', Pgb::pub(),
    '--expect-target', 'staging');
is($code, 3, 'a bundle for another target is refused');
like($err, qr/bundle is for target 'prod', expected 'staging'/, 'naming both targets');
($code) = PgbTest::run($pgapply, 'verify', $b, '--pubkey', Pgb::pub(), '--expect-target', 'prod');
is($code, 0, 'the expected target is accepted');

# --- the gzip bomb is stopped at the cap, without holding it ------------------------
SKIP: {
	my (undef, $ldd) = PgbTest::run('ldd', $pgapply);
	skip 'address space limits do not apply under a sanitizer', 2 if $ldd =~ /libasan/;
	# 200 MiB of address space: the bomb expands to 2 GiB.
	($code, undef, $err) = PgbTest::run('sh', '-c', 'ulimit -v 204800; exec "$@"', 'sh',
	    $pgapply, 'verify', "$fx/gzip-bomb.pgb", '--pubkey', Pgb::pub());
	is($code, 3, 'a gzip bomb is refused under a 200 MiB address space limit');
	like($err, qr/over the limit/, 'at the cap, not by running out of memory');
}

# --- the compressed file is given back as it is inflated ---------------------------
# 24 MiB of hex digits in a COPY block compress to about half.  Were the
# bundle file held until the end of unpacking, the peak would be the
# inflated scripts plus the whole file; pgapply gives the file's pages back
# as zlib consumes them, so the peak stays near the scripts alone.
SKIP: {
	my (undef, $ldd) = PgbTest::run('ldd', $pgapply);
	skip 'resident memory is not comparable under a sanitizer', 2 if $ldd =~ /libasan/;
	srand(42);
	my $rows = join('', map { unpack('H*', pack('N*', map { int(rand(2**32)) } 1 .. 8)) . "\n" }
	    1 .. 24 * 1024 * 1024 / 65);
	my ($bc, $big) = Pgb::build(Pgb::migrations('001_blob.sql' =>
	    "CREATE TABLE blob (x text);\nCOPY blob FROM STDIN;\n$rows\\.\n"));
	is($bc, 0, 'a bundle with 24 MiB of COPY data builds');
	my $comp = -s $big;
	my $peak = sub {
		my (undef, undef, $e) = PgbTest::run('/usr/bin/time', '-f', 'peak %M', @_);
		return $e =~ /peak (\d+)/ ? $1 * 1024 : die "no peak in: $e";
	};
	my $base = $peak->($pgapply, '--version');
	my $used = $peak->($pgapply, 'verify', $big, '--pubkey', Pgb::pub()) - $base;
	cmp_ok($used, '<', length($rows) + $comp / 2,
	    sprintf('verify peaks at %.1f MiB over the bare process: the %.1f MiB '
		. 'of scripts, not also the %.1f MiB file', $used / 2**20,
		length($rows) / 2**20, $comp / 2**20));
}

done_testing();
