#!/usr/bin/perl
# gen-hostile.pl OUTDIR - write a valid bundle and every hostile variant
# of it that pgapply must refuse, each named after what is wrong with it.
#
# For each fixture NAME it writes OUTDIR/NAME.pgb and, when the fixture is
# signed, OUTDIR/NAME.pgb.sig (made with `openssl pkeyutl -sign -rawin`
# and tests/data/keys/test.key, so that most fixtures get past the
# signature and reach the archive checks).  The trusted key to open NAME
# with is OUTDIR/NAME.pub when that file exists, else
# tests/data/keys/test.pub.  On stdout, one line per fixture:
#
#	NAME <TAB> a substring of the error pgapply must give
#
# An empty substring (the fixture "valid") means the bundle must be
# accepted.  Tar headers are packed by hand (Archive::Tar will not write
# hostile ones) and gzip is written with a zero timestamp, so the output
# is the same on every run.  Uses core Perl modules and the openssl CLI.
use strict;
use warnings;
use Compress::Raw::Zlib;
use Digest::SHA qw(sha256 sha256_hex);
use File::Basename qw(dirname);
use File::Spec;
use MIME::Base64 qw(decode_base64);

my $out = shift or die "usage: gen-hostile.pl OUTDIR\n";
-d $out or mkdir $out or die "gen-hostile.pl: cannot create $out: $!\n";
my $keys = File::Spec->catdir(dirname(File::Spec->rel2abs(__FILE__)),
    'data', 'keys');

# Caps from include/bounds.h that the fixtures aim at.
my $BUNDLE_MAX = 64 * 1024 * 1024;
my $MANIFEST_MAX = 32 * 1024 * 1024;

my @lines;		# "name\texpected" in the order written

sub slurp {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "gen-hostile.pl: $path: $!\n";
	local $/;
	my $s = <$fh>;
	close $fh;
	return $s;
}

sub spew {
	my ($path, $data) = @_;
	open(my $fh, '>:raw', $path) or die "gen-hostile.pl: $path: $!\n";
	print $fh $data or die "gen-hostile.pl: $path: $!\n";
	close $fh or die "gen-hostile.pl: $path: $!\n";
}

# ---- tar, by hand ---------------------------------------------------------

# One 512-byte ustar header.  %h: name, size, type, link, mode, prefix.
sub tar_header {
	my (%h) = @_;
	my $name = $h{name};
	my $prefix = $h{prefix} // '';
	if (!exists $h{prefix} && length($name) > 100) {
		my $cut = rindex($name, '/', 155);
		die "gen-hostile.pl: cannot split '$name'\n" if $cut < 0;
		$prefix = substr($name, 0, $cut);
		$name = substr($name, $cut + 1);
	}
	my $hdr = pack('a100 a8 a8 a8 a12 a12 A8 a1 a100 a6 a2 a32 a32 a8 a8 a155 a12',
	    $name,
	    sprintf('%07o', $h{mode} // 0644),
	    sprintf('%07o', 0), sprintf('%07o', 0),
	    sprintf('%011o', $h{size}),
	    sprintf('%011o', 0),
	    '',				# checksum: spaces while summing
	    $h{type} // '0',
	    $h{link} // '',
	    "ustar", "00", '', '',
	    sprintf('%07o', 0), sprintf('%07o', 0),
	    $prefix, '');
	my $sum = unpack('%32C*', $hdr);
	substr($hdr, 148, 8) = sprintf("%06o\0 ", $sum);
	return $hdr;
}

sub pad512 {
	my ($n) = @_;
	return "\0" x ((512 - $n % 512) % 512);
}

# One entry: header and data.  Extra %h goes to tar_header.
sub tar_entry {
	my ($name, $data, %h) = @_;
	my $size = $h{size} // length($data);
	return tar_header(name => $name, size => $size, %h) . $data .
	    pad512(length($data));
}

# End of archive, padded to a 10240-byte record as tar does.
sub tar_end {
	my ($len) = @_;
	my $end = "\0" x 1024;
	$len += 1024;
	return $end . ("\0" x ((10240 - $len % 10240) % 10240));
}

sub tar {
	my $t = join('', @_);
	return $t . tar_end(length $t);
}

# ---- gzip, by hand: no name, zero mtime, fixed OS byte ---------------------

my $GZ_HEADER = "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff";

sub gzip {
	my ($data) = @_;
	my ($d, $st) = Compress::Raw::Zlib::Deflate->new(-Level => 9,
	    -WindowBits => -15, -AppendOutput => 1);
	die "gen-hostile.pl: deflate: $st\n" unless $d;
	my $z = '';
	$d->deflate($data, $z) == Z_OK or die "gen-hostile.pl: deflate\n";
	$d->flush($z) == Z_OK or die "gen-hostile.pl: deflate\n";
	return $GZ_HEADER . $z . pack('V V', crc32($data),
	    length($data) % 2**32);
}

# ---- signing --------------------------------------------------------------

sub sign {
	my ($file, $key) = @_;
	$key //= "$keys/test.key";
	system('openssl', 'pkeyutl', '-sign', '-rawin', '-inkey', $key,
	    '-in', $file, '-out', "$file.sig") == 0
	    or die "gen-hostile.pl: openssl pkeyutl failed for $file\n";
}

# Write NAME.pgb (signed with test.key unless told otherwise).
sub fixture {
	my ($name, $expect, $data, %o) = @_;
	my $file = "$out/$name.pgb";
	unlink $file, "$file.sig", "$out/$name.pub";
	spew($file, $data);
	if (defined $o{sig}) {
		spew("$file.sig", $o{sig});
	} elsif (!$o{unsigned}) {
		sign($file, $o{key});
	}
	spew("$out/$name.pub", $o{pub}) if defined $o{pub};
	push @lines, "$name\t$expect";
}

# ---- the valid bundle -----------------------------------------------------

sub raw_pubkey {
	my ($pem) = @_;
	$pem =~ s/-----[^-]+-----//g;
	my $der = decode_base64($pem);
	return substr($der, -32);
}

my $key_id = substr(sha256_hex(raw_pubkey(slurp("$keys/test.pub"))), 0, 16);

sub stmt_at {
	my ($text, $stmt, %opt) = @_;
	my $off = index($text, $stmt);
	die "gen-hostile.pl: statement not found\n" if $off < 0;
	my $line = 1 + (() = substr($text, 0, $off) =~ /\n/g);
	my $s = "$off " . length($stmt) . " $line";
	if (defined $opt{copy}) {
		my $c = index($text, $opt{copy});
		$s .= " copy=$c:" . length($opt{copy});
	}
	$s .= " index=$opt{index}" if defined $opt{index};
	return $s;
}

my $up1 = "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);\n" .
    "COPY users (id, email) FROM stdin;\n" .
    "1\talice\@example.com\n2\tbob\@example.com\n\\.\n";
my $down1 = "DROP TABLE users;\n";
my $up2 = "-- pgbundle:no-transaction\n" .
    "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);\n";

my %files = (
	'migrations/001_create_users.sql' => $up1,
	'migrations/001_create_users.down.sql' => $down1,
	'migrations/002_users_email_idx.sql' => $up2,
);

sub chain {
	my ($prev, $version, $text) = @_;
	return sha256($prev . $version . sha256($text));
}

# The manifest for %files, with bundle-id computed as FORMAT.md says.
sub manifest {
	my $c1 = chain("\0" x 32, 1, $up1);
	my $c2 = chain($c1, 2, $up2);
	my @head = (
	    'pgbundle-manifest 1',
	    'project demo',
	    'target prod',
	    'created 1700000000',
	    'compiler pgbundle 0.1.0',
	    'hash sha256',
	    "key-id $key_id",
	);
	my @body = (
	    'migration 1 create_users',
	    'file migrations/001_create_users.sql',
	    'sha256 ' . sha256_hex($up1),
	    'size ' . length($up1),
	    'mode transaction',
	    'chain ' . unpack('H*', $c1),
	    'stmt ' . stmt_at($up1, "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);"),
	    'stmt ' . stmt_at($up1, "COPY users (id, email) FROM stdin;",
		copy => "1\talice\@example.com\n2\tbob\@example.com\n"),
	    'verify SELECT count(*) = 2 FROM users',
	    'down migrations/001_create_users.down.sql ' . sha256_hex($down1) .
		' ' . length($down1) . ' transaction',
	    'down-stmt ' . stmt_at($down1, "DROP TABLE users;"),
	    'end',
	    'migration 2 users_email_idx',
	    'file migrations/002_users_email_idx.sql',
	    'sha256 ' . sha256_hex($up2),
	    'size ' . length($up2),
	    'mode no-transaction',
	    'chain ' . unpack('H*', $c2),
	    'stmt ' . stmt_at($up2, "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email_idx ON users (email);",
		index => 'users_email_idx'),
	    'end',
	);
	my $without = join('', map { "$_\n" } @head, @body);
	return join('', map { "$_\n" } @head, 'bundle-id ' . sha256_hex($without),
	    @body);
}

my $manifest = manifest();

# The entries of the valid bundle, in order, as [name, data].
sub entries {
	return (['MANIFEST', $manifest], map { [$_, $files{$_}] } sort keys %files);
}

sub bundle_from {
	return gzip(tar(map { tar_entry(@$_) } @_));
}

my $valid = bundle_from(entries());
fixture('valid', '', $valid);

# ---- archive-level fixtures (signed, so they reach libarchive) ------------

my @e = entries();
my $u1 = 'migrations/001_create_users.sql';

fixture('dotdot-entry', "unsafe path 'migrations/../escape.sql'",
    bundle_from(@e, ['migrations/../escape.sql', "SELECT 1;\n"]));
fixture('abs-path', "unsafe path '/etc/cron.d/evil'",
    bundle_from(@e, ['/etc/cron.d/evil', "* * * * * root id\n"]));
fixture('dot-slash', "unsafe path './MANIFEST'",
    bundle_from(['./MANIFEST', $manifest], @e[1 .. $#e]));
fixture('double-slash', "unsafe path 'migrations//001_create_users.sql'",
    bundle_from($e[0], ['migrations//001_create_users.sql', $up1],
	@e[1 .. $#e]));
fixture('control-char-name', "unsafe path 'migrations/001\\x1b[31m.sql'",
    bundle_from(@e, ["migrations/001\x1b[31m.sql", "SELECT 1;\n"]));
fixture('backslash-name', "unsafe path 'migrations\\\\evil.sql'",
    bundle_from(@e, ["migrations\\evil.sql", "SELECT 1;\n"]));
fixture('long-name', "unsafe path 'migrations/" . ('a' x 20),
    bundle_from(@e, ['migrations/' . ('a' x 140) . '/' . ('b' x 90) . '.sql',
	"SELECT 1;\n"]));

sub special {
	my ($name, %h) = @_;
	return tar_header(name => $name, size => 0, %h);
}

fixture('symlink', "entry 'migrations/001_create_users.sql' is not a regular file",
    gzip(tar(tar_entry(@{$e[0]}), tar_entry(@{$e[1]}),
	special($u1, type => '2', link => '/etc/passwd', mode => 0777))));
fixture('hardlink', "entry 'migrations/001_create_users.sql' is not a regular file",
    gzip(tar(tar_entry(@{$e[0]}), tar_entry(@{$e[1]}),
	special($u1, type => '1', link => 'MANIFEST'))));
fixture('device', "entry 'migrations/001_create_users.sql' is not a regular file",
    gzip(tar(tar_entry(@{$e[0]}), tar_entry(@{$e[1]}),
	special($u1, type => '3'))));
fixture('fifo', "entry 'migrations/001_create_users.sql' is not a regular file",
    gzip(tar(tar_entry(@{$e[0]}), tar_entry(@{$e[1]}),
	special($u1, type => '6'))));
fixture('directory', "entry 'migrations' is not a regular file",
    gzip(tar(tar_entry(@{$e[0]}), special('migrations', type => '5',
	mode => 0755), map { tar_entry(@$_) } @e[1 .. $#e])));
fixture('dup-name', "duplicate entry '$u1'",
    bundle_from(@e, [$u1, $up1]));
fixture('dup-manifest', "duplicate entry 'MANIFEST'",
    bundle_from(@e, ['MANIFEST', $manifest]));
fixture('extra-entry',
    "'migrations/003_extra.sql' is present in bundle but not in manifest",
    bundle_from(@e, ['migrations/003_extra.sql', "DROP TABLE users;\n"]));
fixture('missing-entry',
    "'migrations/002_users_email_idx.sql' is present in manifest but not in bundle",
    bundle_from(grep { $_->[0] ne 'migrations/002_users_email_idx.sql' } @e));
fixture('manifest-not-first',
    "first entry is 'migrations/001_create_users.down.sql', expected 'MANIFEST'",
    bundle_from(@e[1 .. $#e], $e[0]));
fixture('no-manifest', "bundle has no 'MANIFEST' entry", gzip(tar()));

my $longer = $up1 . "-- trailing comment\n";
fixture('size-mismatch', "'$u1' has size " . length($longer) .
    " but manifest says " . length($up1),
    bundle_from(map { $_->[0] eq $u1 ? [$u1, $longer] : $_ } @e));
(my $changed = $up1) =~ s/alice/mallo/;
fixture('content-changed', "checksum mismatch for '$u1'",
    bundle_from(map { $_->[0] eq $u1 ? [$u1, $changed] : $_ } @e));
(my $bad_manifest = $manifest) =~ s/^migration 1 create_users$/migration 1 create_usert/m;
fixture('manifest-altered', 'manifest line 8: bundle-id does not match',
    bundle_from(['MANIFEST', $bad_manifest], @e[1 .. $#e]));
fixture('not-gzip', 'bundle is not gzip-compressed',
    tar(map { tar_entry(@$_) } @e));
fixture('truncated-gzip', 'bundle is not a valid tar.gz archive',
    substr($valid, 0, int(length($valid) / 2)));
fixture('garbage', 'bundle is not a valid tar.gz archive',
    join('', map { chr(($_ * 37 + 11) % 256) } 0 .. 4095));

# A MANIFEST entry of 30 MiB of zeros: under its own cap, but about 1000
# times its compressed size, so the ratio check must stop the reading.
{
	my $n = 30 * 1024 * 1024;
	fixture('ratio-bomb', 'bundle expands more than 200 times',
	    gzip(tar(tar_header(name => 'MANIFEST', size => $n) . ("\0" x $n))));
}

# The gzip bomb: one entry of 2049 MiB of zeros, about 2 MB compressed.
# Deflate output for 1 MiB of zeros after a full flush is always the same
# bytes, so the stream is built from one compressed chunk repeated: quick,
# and the same on every run.
{
	my $chunk = 1024 * 1024;
	my $count = 2049;
	my $size = $chunk * $count;
	my $hdr = tar_header(name => 'MANIFEST', size => $size);
	my $zeros = "\0" x $chunk;
	my ($d) = Compress::Raw::Zlib::Deflate->new(-Level => 9,
	    -WindowBits => -15, -AppendOutput => 1);
	my ($head, $rep, $tail) = ('', '', '');
	$d->deflate($hdr, $head);
	$d->flush($head, Z_FULL_FLUSH);
	$d->deflate($zeros, $rep);
	$d->flush($rep, Z_FULL_FLUSH);
	my $end = tar_end(length($hdr) + $size);
	$d->deflate($end, $tail);
	$d->flush($tail);
	my $zcrc = crc32($zeros);
	my $crc = crc32($hdr);
	$crc = Compress::Raw::Zlib::crc32_combine($crc, $zcrc, $chunk)
	    for 1 .. $count;
	$crc = Compress::Raw::Zlib::crc32_combine($crc, crc32($end),
	    length $end);
	my $total = length($hdr) + $size + length($end);
	fixture('gzip-bomb', "entry 'MANIFEST' is $size bytes, over the limit of $MANIFEST_MAX",
	    $GZ_HEADER . $head . ($rep x $count) . $tail .
	    pack('V V', $crc, $total % 2**32));
}

# Over PGB_BUNDLE_MAX: refused from its size alone, never read.
{
	my $file = "$out/oversize-bundle.pgb";
	unlink $file, "$file.sig";
	open(my $fh, '>:raw', $file) or die "gen-hostile.pl: $file: $!\n";
	truncate($fh, $BUNDLE_MAX + 1) or die "gen-hostile.pl: $file: $!\n";
	close $fh;
	push @lines, "oversize-bundle\tis " . ($BUNDLE_MAX + 1) .
	    " bytes, over the limit of $BUNDLE_MAX";
}

# ---- signature abuse ------------------------------------------------------

my $valid_sig = slurp("$out/valid.pgb.sig");
{
	my $altered = $valid;
	substr($altered, 100, 1) = chr(ord(substr($altered, 100, 1)) ^ 1);
	fixture('altered-after-signing', 'signature does not match any trusted key',
	    $altered, sig => $valid_sig);
	my $sig = $valid_sig;
	substr($sig, 10, 1) = chr(ord(substr($sig, 10, 1)) ^ 0x40);
	fixture('altered-sig', 'signature does not match any trusted key',
	    $valid, sig => $sig);
}
fixture('other-key', 'signature does not match any trusted key', $valid,
    key => "$keys/other.key");
fixture('unsigned', 'is not signed', $valid, unsigned => 1);
fixture('sig-empty', 'is 0 bytes, expected 64', $valid, sig => '');
fixture('sig-63', 'is 63 bytes, expected 64', $valid,
    sig => substr($valid_sig, 0, 63));
fixture('sig-65', 'is 65 bytes, expected 64', $valid,
    sig => $valid_sig . "\n");
fixture('sig-hex', 'is 129 bytes, expected 64', $valid,
    sig => unpack('H*', $valid_sig) . "\n");

# The identity point as a public key: R = identity, S = 0 verifies on any
# message with it, so the key itself must be refused.
{
	my $der = pack('H*', '302a300506032b6570032100') . "\x01" . ("\0" x 31);
	my $b64 = MIME::Base64::encode_base64($der, '');
	my $pem = "-----BEGIN PUBLIC KEY-----\n$b64\n-----END PUBLIC KEY-----\n";
	fixture('identity-key', 'has small order', $valid,
	    sig => "\x01" . ("\0" x 63), pub => $pem);
}

print "$_\n" for @lines;
