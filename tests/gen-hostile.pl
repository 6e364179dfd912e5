#!/usr/bin/perl
# gen-hostile.pl OUTDIR [SET] - write a valid bundle and every hostile
# variant of it that pgapply must refuse, each named after what is wrong
# with it.  SET "core" (the default) is the list 030_verify.pl and
# test_bundle.c read; "more" is the larger list 053_hostile_more.pl reads
# (bit flips and truncations at sampled positions, data appended after
# the archive, hostile tar headers, names that differ only by case or
# Unicode normalisation); "apply" is the list 057_verify_query.pl reads:
# signed bundles that pass every check of the bundle itself, holding what
# the compiler refuses, which pgapply must refuse when it applies them;
# "io" holds bundles that pass every check but carry text meant to break
# pgapply's output (058_hostile_output.pl); "copy" is the list
# 054_copy_loops.pl reads: bundles that verify, whose SQL the compiler
# would refuse (a COPY the manifest does not announce,
# standard_conforming_strings turned off), so that pgapply must fail them
# while applying; its lines are NAME <TAB> EXIT <TAB> substring, and the
# fixture "base" (exit 0) is the migration 1 every other one starts with.
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
# accepted.  In the "more" set, an expectation that starts with "~" is a
# Perl regular expression instead (a flipped bit can surface as one of a
# few messages, depending on what the bit hit).  Tar headers are packed by hand (Archive::Tar will not write
# hostile ones) and gzip is written with a zero timestamp, so the output
# is the same on every run.  Uses core Perl modules and the openssl CLI.
use strict;
use warnings;
use Compress::Raw::Zlib;
use Digest::SHA qw(sha256 sha256_hex);
use File::Basename qw(dirname);
use File::Spec;
use MIME::Base64 qw(decode_base64);

my $out = shift or die "usage: gen-hostile.pl OUTDIR [core|more|apply|io|copy]\n";
my $set = shift // 'core';
die "usage: gen-hostile.pl OUTDIR [core|more|apply|io|copy]\n"
    unless $set =~ /^(?:core|more|apply|io|copy)$/;
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

# One 512-byte ustar header.  %h: name, size, type, link, mode, prefix;
# size_field, magic, version and raw345 replace those bytes; raw
# ({ OFFSET => BYTES }) overwrites any bytes before the checksum is
# computed; chksum "signed" sums the bytes as signed chars (as some old
# tars did), a number adds that much to the right sum.
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
	    $h{size_field} // sprintf('%011o', $h{size}),
	    sprintf('%011o', 0),
	    '',				# checksum: spaces while summing
	    $h{type} // '0',
	    $h{link} // '',
	    $h{magic} // "ustar", $h{version} // "00", '', '',
	    sprintf('%07o', 0), sprintf('%07o', 0),
	    $prefix, '');
	substr($hdr, 345, length $h{raw345}) = $h{raw345} if defined $h{raw345};
	substr($hdr, $_, length $h{raw}{$_}) = $h{raw}{$_} for keys %{$h{raw} // {}};
	my $sum = unpack('%32C*', $hdr);
	$sum = unpack('%32c*', $hdr) if ($h{chksum} // '') eq 'signed';
	$sum += $h{chksum} if ($h{chksum} // '') =~ /^-?\d+$/;
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

# The manifest for %files, with bundle-id computed as FORMAT.md says;
# %o: verify => the verify line of migration 1.
sub manifest {
	my (%o) = @_;
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
	    'verify ' . ($o{verify} // 'SELECT count(*) = 2 FROM users'),
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

if ($set eq 'copy') {
	copy_set();
	print "$_\n" for @lines;
	exit 0;
}

my $valid = bundle_from(entries());
fixture('valid', '', $valid);

if ($set eq 'more' || $set eq 'apply') {
	$set eq 'more' ? more() : apply();
	print "$_\n" for @lines;
	exit 0;
}
if ($set eq 'io') {
	io();
	print "$_\n" for @lines;
	exit 0;
}

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

fixture('symlink', "entry 3 '$u1' is not a regular file: type '2' (symbolic link)",
    gzip(tar(tar_entry(@{$e[0]}), tar_entry(@{$e[1]}),
	special($u1, type => '2', link => '/etc/passwd', mode => 0777))));
fixture('hardlink', "entry 3 '$u1' is not a regular file: type '1' (hard link)",
    gzip(tar(tar_entry(@{$e[0]}), tar_entry(@{$e[1]}),
	special($u1, type => '1', link => 'MANIFEST'))));
fixture('device', "entry 3 '$u1' is not a regular file: type '3' (character device)",
    gzip(tar(tar_entry(@{$e[0]}), tar_entry(@{$e[1]}),
	special($u1, type => '3'))));
fixture('fifo', "entry 3 '$u1' is not a regular file: type '6' (FIFO)",
    gzip(tar(tar_entry(@{$e[0]}), tar_entry(@{$e[1]}),
	special($u1, type => '6'))));
fixture('directory', "entry 2 'migrations' is not a regular file: type '5' (directory)",
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
fixture('garbage', 'bundle is not gzip-compressed',
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
	fixture('gzip-bomb', "entry 1 'MANIFEST' is $size bytes, over the limit of $MANIFEST_MAX",
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

# ---- the ustar subset ------------------------------------------------------
#
# pgbundle writes plain ustar: regular files (type '0'), magic "ustar\0"
# "00", octal numeric fields, an unsigned header checksum, zero padding,
# two zero blocks at the end and at most zero padding to a 10240-byte
# record.  Anything else is refused, naming the entry (1-based, counting
# every header) and what is wrong with it.  libarchive accepted all but
# magic-*, checksum-off-by-one and eoa-lone-block before pgapply checked
# the headers itself.
{
	my $pre = sub { map { tar_entry(@$_) } @e[0 .. 1] };	# MANIFEST, 001 down
	my $post = sub { map { tar_entry(@$_) } @e[3 .. $#e] };	# 002
	my $type = sub {
		my ($t) = @_;
		return gzip(tar($pre->(), tar_entry($u1, $up1, type => $t), $post->()));
	};
	my $not_reg = "entry 3 '$u1' is not a regular file: type";
	my $gnu = sub {		# a GNU long name or link header, ustar magic
		my ($t, $s) = @_;
		return tar_entry('././@LongLink', "$s\0", type => $t);
	};
	fixture('gnu-longname-manifest', "entry 1 '././\@LongLink' is not a regular "
	    . "file: type 'L' (GNU long name)",
	    gzip(tar($gnu->('L', 'MANIFEST'), tar_entry('evil.txt', $manifest),
		map { tar_entry(@$_) } @e[1 .. $#e])));
	fixture('gnu-longname', "entry 3 '././\@LongLink' is not a regular file: "
	    . "type 'L' (GNU long name)",
	    gzip(tar($pre->(), $gnu->('L', $u1), tar_entry('x.sql', $up1), $post->())));
	fixture('gnu-longlink', "entry 3 '././\@LongLink' is not a regular file: "
	    . "type 'K' (GNU long link name)",
	    gzip(tar($pre->(), $gnu->('K', '/etc/passwd'), tar_entry($u1, $up1),
		$post->())));
	fixture('volume-header', "entry 1 'pgbundle-volume' is not a regular file: "
	    . "type 'V' (GNU volume label)",
	    gzip(tar(special('pgbundle-volume', type => 'V'),
		map { tar_entry(@$_) } @e)));
	fixture('type-Z', "$not_reg 'Z' (unknown type)", $type->('Z'));
	fixture('type-7', "$not_reg '7' (contiguous file)", $type->('7'));
	fixture('type-N', "$not_reg 'N' (GNU old long names)", $type->('N'));
	fixture('type-nul', "$not_reg '\\x00' (old-style regular file)", $type->("\0"));

	my $body = join('', map { tar_entry(@$_) } @e);
	fixture('eoa-none', 'tar archive ends without its two end-of-archive '
	    . "blocks, after entry 4 'migrations/002_users_email_idx.sql'", gzip($body));
	fixture('eoa-one-block', 'tar archive ends with a single zero block, not '
	    . "two, after entry 4 'migrations/002_users_email_idx.sql'",
	    gzip($body . ("\0" x 512)));
	fixture('eoa-lone-block', 'tar archive has a single zero block after '
	    . "entry 3 '$u1'", gzip(tar($pre->(), tar_entry($u1, $up1), "\0" x 512,
		$post->())));
	# Padding to the record is optional (libarchive leaves it out when it
	# compresses): the same archive to every reader.
	fixture('eoa-no-padding', '', gzip($body . ("\0" x 1024)));
	fixture('eoa-long-padding', 'data after the end of the archive',
	    gzip(tar(map { tar_entry(@$_) } @e) . ("\0" x 10240)));

	my $with = sub {	# u1 with these header fields
		my (%h) = @_;
		return gzip(tar($pre->(), tar_entry($u1, $up1, %h), $post->()));
	};
	my $sz = length $up1;
	fixture('magic-gnu', "entry 3 '$u1' is not a plain ustar header (GNU tar magic)",
	    $with->(magic => 'ustar ', version => " \0"));
	fixture('magic-v7', "entry 3 '$u1' is not a plain ustar header (no ustar magic)",
	    $with->(magic => '', version => ''));
	fixture('checksum-signed', "entry 3 '$u1' has a bad header checksum",
	    $with->(raw => { 265 => "r\xf6\xf6t" }, chksum => 'signed'));
	fixture('checksum-off-by-one', "entry 3 '$u1' has a bad header checksum",
	    $with->(chksum => 1));
	fixture('size-base256', "entry 3 '$u1' has a bad size field",
	    $with->(size_field => "\x80\0\0\0" . pack('Q>', $sz)));
	fixture('size-leading-space', "entry 3 '$u1' has a bad size field",
	    $with->(size_field => sprintf(' %010o', $sz) . "\0"));
	fixture('size-12-digits', "entry 3 '$u1' has a bad size field",
	    $with->(size_field => sprintf('%012o', $sz)));
	fixture('uid-not-octal', "entry 3 '$u1' has a bad uid field",
	    $with->(raw => { 108 => "root\0\0\0\0" }));
	fixture('mode-file-type', "entry 3 '$u1' has a bad mode field",
	    $with->(mode => 0100644));
	fixture('name-after-nul', "entry 3 '$u1' has stray bytes in its name field",
	    $with->(raw => { length($u1) + 1 => 'evil.sql' }));
	fixture('prefix-after-nul', "entry 3 '$u1' has stray bytes in its prefix field",
	    $with->(raw => { 345 + 20 => 'x' }));
	fixture('link-on-regular', "entry 3 '$u1' has a link name",
	    $with->(link => 'MANIFEST'));
	fixture('header-tail', "entry 3 '$u1' has stray bytes in its last 12 bytes",
	    $with->(raw => { 508 => "tar\0" }));
	fixture('data-past-size', "entry 3 '$u1' is longer than its header says",
	    gzip(tar($pre->(), tar_header(name => $u1, size => $sz) . $up1 . 'DROP'
		. ("\0" x (508 - $sz % 512)), $post->())));
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

# ---- the "more" set -------------------------------------------------------

sub flip {
	my ($data, $pos, $bit) = @_;
	substr($data, $pos, 1) = chr(ord(substr($data, $pos, 1)) ^ (1 << $bit));
	return $data;
}

sub pax_record {
	my ($k, $v) = @_;
	my $body = " $k=$v\n";
	my $n = length($body) + 1;
	$n++ while length($n . $body) > $n;
	return $n . $body;
}

sub pax_entry {
	my ($type, %kv) = @_;
	my $data = join '', map { pax_record($_, $kv{$_}) } sort keys %kv;
	return tar_entry('PaxHeaders/x', $data, type => $type);
}

sub more {
	my @e = entries();
	my $u1 = 'migrations/001_create_users.sql';
	my $len = length $valid;
	my $evil = ['migrations/003_evil.sql', "DROP TABLE users;\n"];

	# What pgapply may say about a bundle whose bytes were damaged after it
	# was built and then signed again: any refusal of the archive, the
	# manifest or an entry, never a crash and never acceptance.
	my $DAMAGED = '~bundle is not a valid tar\.gz archive|bundle is not '
	    . 'gzip-compressed|data after the end of the archive|manifest line \d+|'
	    . 'checksum mismatch|has size \d+ but|is longer than|present in '
	    . '(?:bundle|manifest)|unsafe path|is not a regular file|first entry '
	    . 'is|duplicate entry|bundle has no|expands more than';

	# One bit flipped, then signed again, so that the archive readers
	# see it.  In the gzip header: the magic, the method, four flag bits,
	# and the fields decompression ignores (mtime, extra flags, OS).
	fixture('flip-magic', $DAMAGED, flip($valid, 0, 0));
	fixture('flip-magic2', $DAMAGED, flip($valid, 1, 7));
	fixture('flip-method', $DAMAGED, flip($valid, 2, 0));
	fixture('flip-flag-ftext', '', flip($valid, 3, 0));
	fixture('flip-flag-fhcrc', $DAMAGED, flip($valid, 3, 1));
	fixture('flip-flag-fextra', $DAMAGED, flip($valid, 3, 2));
	fixture('flip-flag-fname', $DAMAGED, flip($valid, 3, 3));
	fixture('flip-mtime', '', flip($valid, 4, 0));
	fixture('flip-xfl', '', flip($valid, 8, 1));
	fixture('flip-os', '', flip($valid, 9, 0));
	# The deflate body, at 24 positions spread over it.
	for my $k (1 .. 24) {
		my $pos = 10 + int(($len - 18) * $k / 25);
		fixture("flip-body-$pos-$k", $DAMAGED, flip($valid, $pos, $k % 8));
	}
	# The trailer: CRC-32 and the length.
	fixture('flip-crc-0', $DAMAGED, flip($valid, $len - 8, 0));
	fixture('flip-crc-3', $DAMAGED, flip($valid, $len - 5, 5));
	fixture('flip-isize-0', $DAMAGED, flip($valid, $len - 4, 0));
	fixture('flip-isize-3', $DAMAGED, flip($valid, $len - 1, 7));

	# Truncated at many lengths, signed again.
	my %cut;
	$cut{$_} = 1 for (1, 2, 9, 10, 11, 12, 20, $len - 9, $len - 8, $len - 5,
	    $len - 4, $len - 1, map { int($len * $_ / 10) } 1 .. 9);
	for my $n (sort { $a <=> $b } keys %cut) {
		fixture("truncated-$n", $DAMAGED, substr($valid, 0, $n));
	}

	# Data after the archive: a byte, zeros, a second gzip member (empty,
	# or holding another tar), a second tar inside the same gzip stream.
	fixture('append-byte', 'data after the end of the archive', $valid . "\n");
	fixture('append-zeros', 'data after the end of the archive', $valid . ("\0" x 512));
	fixture('second-gzip-member', 'data after the end of the archive',
	    $valid . bundle_from($evil));
	fixture('second-gzip-member-empty', 'data after the end of the archive',
	    $valid . gzip(''));
	fixture('second-tar', 'data after the end of the archive',
	    gzip(tar(map { tar_entry(@$_) } @e) . tar(tar_entry(@$evil))));
	fixture('entry-after-end-marker', 'data after the end of the archive',
	    gzip(join('', map { tar_entry(@$_) } @e) . ("\0" x 1024)
		. tar(tar_entry(@$evil))));

	# Hostile tar headers.  Sizes: octal past every cap, base-256
	# (GNU) huge, negative and exact, and a size that is not a number.
	my $sz = length $up1;
	my @rest = grep { $_->[0] ne $u1 } @e[1 .. $#e];
	my $with_u1 = sub {
		my (%h) = @_;
		my $data = delete $h{data} // $up1;
		return gzip(tar(tar_entry(@{$e[0]}),
		    tar_header(name => $u1, size => 0, %h) . $data . pad512(length $data),
		    map { tar_entry(@$_) } @rest));
	};
	fixture('size-huge-octal', "entry 2 '$u1' is 8589934591 bytes, over the limit of "
	    . 64 * 1024 * 1024,
	    $with_u1->(size_field => "77777777777\0"));
	fixture('size-huge-manifest', "entry 1 'MANIFEST' is 8589934591 bytes, over the "
	    . "limit of $MANIFEST_MAX", gzip(tar(tar_header(name => 'MANIFEST', size => 0,
	    size_field => "77777777777\0") . $manifest . pad512(length $manifest))));
	# Base-256 sizes (a GNU extension): refused even when exact.
	fixture('size-b256-huge', "entry 2 '$u1' has a bad size field",
	    $with_u1->(size_field => "\x80\0\0\0" . pack('Q>', 2**62)));
	fixture('size-b256-negative', "entry 2 '$u1' has a bad size field",
	    $with_u1->(size_field => "\xff" x 12));
	fixture('size-b256-min', "entry 2 '$u1' has a bad size field",
	    $with_u1->(size_field => "\xff\x80" . ("\0" x 10)));
	fixture('size-b256-exact', "entry 2 '$u1' has a bad size field",
	    $with_u1->(size_field => "\x80\0\0\0" . pack('Q>', $sz)));
	fixture('size-not-octal', "entry 2 '$u1' has a bad size field",
	    $with_u1->(size_field => "1x3\0\0\0\0\0\0\0\0\0"));
	fixture('size-short', "entry 2 '$u1' is longer than its header says",
	    $with_u1->(size_field => sprintf('%011o', 10)));

	# GNU long names: cut short at the end of the archive, and naming an
	# escape.  Refused at the long name header, before its name is used.
	{
		my $ln = 'migrations/' . ('a' x 300) . '.sql';
		my $hdr = tar_header(name => '././@LongLink', size => length($ln) + 1,
		    type => 'L', magic => 'ustar ', version => " \0");
		my $L = "is not a regular file: type 'L' (GNU long name)";
		fixture('gnu-longname-truncated', "entry 2 '././\@LongLink' $L",
		    gzip(tar_entry(@{$e[0]}) . $hdr . substr($ln, 0, 100)));
		fixture('gnu-longname-no-entry', "entry 2 '././\@LongLink' $L",
		    gzip(tar(tar_entry(@{$e[0]}), $hdr . $ln . "\0" . pad512(length($ln) + 1))));
		my $esc = "migrations/../../etc/cron.d/evil\0";
		fixture('gnu-longname-dotdot', "entry 5 '././\@LongLink' $L",
		    gzip(tar(map({ tar_entry(@$_) } @e),
			tar_header(name => '././@LongLink', size => length $esc, type => 'L',
			    magic => 'ustar ', version => " \0") . $esc . pad512(length $esc),
			tar_entry('migrations/003_ok.sql', "SELECT 1;\n"))));
	}

	# pax headers that override the ustar header's name or size, or
	# (global) every name after them: refused at the pax header.
	my $x = "'PaxHeaders/x' is not a regular file: type 'x' (pax extended header)";
	fixture('pax-path-escape', "entry 5 $x",
	    gzip(tar(map({ tar_entry(@$_) } @e),
		pax_entry('x', path => 'migrations/../escape.sql'),
		tar_entry('migrations/003_ok.sql', "SELECT 1;\n"))));
	fixture('pax-path-rename', "entry 2 $x", gzip(tar(tar_entry(@{$e[0]}),
		pax_entry('x', path => 'migrations/003_extra.sql'),
		map { tar_entry(@$_) } @e[1 .. $#e])));
	fixture('pax-size-override', "entry 2 $x",
	    gzip(tar(tar_entry(@{$e[0]}), pax_entry('x', size => 99999),
		map { tar_entry(@$_) } @e[1 .. $#e])));
	# GNU tar applies a global path to every entry; libarchive ignores it.
	fixture('pax-global-path', "entry 1 'PaxHeaders/x' is not a regular file: type 'g' "
	    . '(pax global header)', gzip(tar(pax_entry('g',
	    path => 'migrations/../global.sql'), map { tar_entry(@$_) } @e)));

	# Sparse entries: old GNU (type S with a map) and pax GNU.sparse 0.1.
	# The map does not matter: the headers are not plain ustar.
	{
		my $map = pack('a12 a12', sprintf('%011o', 0), sprintf('%011o', $sz));
		my $raw = ("\0" x 24) . pack('a12', sprintf('%011o', 0)) . ("\0" x 5) . $map
		    . ("\0" x 72) . "\0" . pack('a12', sprintf('%011o', $sz));
		fixture('sparse-gnu-old', "entry 2 '$u1' is not a regular file: type 'S' "
		    . '(GNU sparse file)',
		    $with_u1->(type => 'S', magic => 'ustar ', version => " \0", raw345 => $raw));
		fixture('sparse-pax', "entry 2 $x",
		    gzip(tar(tar_entry(@{$e[0]}),
			pax_entry('x', 'GNU.sparse.size' => $sz, 'GNU.sparse.numblocks' => 1,
			    'GNU.sparse.offset' => 0, 'GNU.sparse.numbytes' => $sz),
			map { tar_entry(@$_) } @e[1 .. $#e])));
	}

	# Names that differ only by case or by Unicode normalisation: never
	# the same entry as the manifest's (byte comparison), and non-ASCII
	# names are refused outright.
	fixture('case-variant-extra', "'migrations/001_CREATE_USERS.sql' is present in bundle "
	    . 'but not in manifest', bundle_from(@e, ['migrations/001_CREATE_USERS.sql', $up1]));
	fixture('case-variant-replaces', "'migrations/001_Create_users.sql' is present in bundle "
	    . 'but not in manifest', bundle_from(map { $_->[0] eq $u1 ?
	    ['migrations/001_Create_users.sql', $up1] : $_ } @e));
	fixture('manifest-lowercase', "'manifest' is present in bundle but not in manifest",
	    bundle_from(@e, ['manifest', $manifest]));
	fixture('unicode-nfc', "unsafe path 'migrations/001_caf\\xc3\\xa9.sql'",
	    bundle_from(@e, ["migrations/001_caf\xc3\xa9.sql", "SELECT 1;\n"]));
	fixture('unicode-nfd', "unsafe path 'migrations/001_cafe\\xcc\\x81.sql'",
	    bundle_from(@e, ["migrations/001_cafe\xcc\x81.sql", "SELECT 1;\n"]));
	fixture('unicode-fullwidth-dots', "unsafe path 'migrations/\\xef\\xbc\\x8e",
	    bundle_from(@e, ["migrations/\xef\xbc\x8e\xef\xbc\x8e/x.sql", "SELECT 1;\n"]));
}

# ---- the "apply" set ------------------------------------------------------

# Verify queries the compiler refuses (several statements, transaction
# control), signed as if a compiler had let them through.  Each must fail
# migration 1 with nothing of it left behind; the expectation is the
# detail pgapply gives under "verify query 1 of '001_create_users' failed".
sub apply {
	my %verify = (
	    'verify-commit-select' => ['COMMIT; SELECT false',
		'cannot insert multiple commands into a prepared statement'],
	    'verify-commit' => ['COMMIT', 'it returns 0 columns, not 1, so it was not run'],
	    'verify-commit-chain' => ['COMMIT AND CHAIN',
		'it returns 0 columns, not 1, so it was not run'],
	    'verify-rollback' => ['ROLLBACK', 'it returns 0 columns, not 1, so it was not run'],
	    'verify-end-select' => ['END; SELECT true',
		'cannot insert multiple commands into a prepared statement'],
	    'verify-prepare' => ["PREPARE TRANSACTION 'x'",
		'it returns 0 columns, not 1, so it was not run'],
	);
	for my $name (sort keys %verify) {
		my ($q, $expect) = @{ $verify{$name} };
		my @e = entries();
		$e[0] = ['MANIFEST', manifest(verify => $q)];
		fixture($name, $expect, bundle_from(@e));
	}
}

# ---- the "io" set: valid bundles whose text attacks the output ------------

# A manifest for one transactional migration 1 NAME holding TEXT, with
# the given "stmt" lines.
sub one_manifest {
	my ($name, $text, @stmts) = @_;
	my @head = (
	    'pgbundle-manifest 1', 'project demo', 'target prod',
	    'created 1700000000', 'compiler pgbundle 0.1.0', 'hash sha256',
	    "key-id $key_id",
	);
	my @body = (
	    "migration 1 $name", "file migrations/001_$name.sql",
	    'sha256 ' . sha256_hex($text), 'size ' . length($text),
	    'mode transaction',
	    'chain ' . unpack('H*', chain("\0" x 32, 1, $text)),
	    (map { "stmt $_" } @stmts), 'end',
	);
	my $without = join('', map { "$_\n" } @head, @body);
	return join('', map { "$_\n" } @head,
	    'bundle-id ' . sha256_hex($without), @body);
}

sub io {
	# A failing statement whose excerpt (160 bytes) ends inside a
	# three-byte character, and whose value the server's message quotes
	# past the end of pgapply's detail, also inside one; its src= holds
	# ESC sequences that clear the screen, and a newline followed by a
	# forged line of pgapply's output.
	my $text = "SELECT  '" . ("\xe2\x82\xac" x 400) . "'::int;\n";
	my $src = 'lib/%1B%5B2J%1B%5B31mforged%0Apgapply:%20applied%20all.sql';
	fixture('io-cut-escape', 'failed at statement 1 of 1',
	    bundle_from(['MANIFEST', one_manifest('io_cut', $text,
		'0 ' . (length($text) - 1) . " 1 src=$src")],
		['migrations/001_io_cut.sql', $text]));
	# Bytes that are not UTF-8 in a manifest line: the parse error
	# quotes them (inspect reads a bundle without its signature).
	my $m = one_manifest('ok', "SELECT 1;\n", '0 9 1');
	$m =~ s/^target prod\n/target prod\n\xff\xfe\xc3(evil\xe2\x82 x\n/m;
	fixture('io-manifest-bytes', 'manifest line 4: unknown key',
	    bundle_from(['MANIFEST', $m], ['migrations/001_ok.sql', "SELECT 1;\n"]));
}

# ---- the "copy" set ---------------------------------------------------------

# Signed bundles of migration 1 ("base") and a migration 2 that pgapply
# must fail as it applies it: PgbForge writes what the compiler refuses.
sub copy_set {
	require lib;
	lib->import(File::Spec->catdir(dirname(File::Spec->rel2abs(__FILE__)),
	    'lib'));
	require PgbForge;
	my $base = { version => 1, name => 'base', up => ['CREATE TABLE t (a int);',
	    'INSERT INTO t VALUES (1), (2);'] };
	my $forge = sub {
		my ($name, $exit, $want, %m) = @_;
		PgbForge::bundle("$out/$name.pgb", $base,
		    { version => 2, name => 'hostile', %m });
		push @lines, "$name\t$exit\t$want";
	};
	PgbForge::bundle("$out/base.pgb", $base);
	push @lines, "base\t0\t";

	my $out_msg = 'it started COPY ... TO STDOUT, which the bundle does not announce';
	my $in_msg = 'it started COPY ... FROM STDIN without data, which the bundle '
	    . 'does not announce';
	my $std_msg = 'standard_conforming_strings is off, and the statement holds a '
	    . 'backslash';
	my @verify = (verify => ['SELECT true']);
	my @notx = (mode => 'no-transaction');
	my @x = ('CREATE TABLE x (a int);');

	# In a transaction (with a verify query too: the pipeline keeps out
	# any statement that mentions COPY either way) and alone in
	# no-transaction mode (exit 6: a human looks at the failed row).
	$forge->('copy-out', 5, $out_msg, up => [@x, 'COPY t TO STDOUT;']);
	$forge->('copy-out-verify', 5, $out_msg, up => [@x, 'COPY t TO STDOUT;'],
	    @verify);
	$forge->('copy-out-no-transaction', 6, $out_msg, @notx,
	    up => ['SELECT 1;', 'COPY t TO STDOUT;']);
	$forge->('copy-in', 5, $in_msg, up => [@x, 'COPY t FROM STDIN;']);
	$forge->('copy-in-verify', 5, $in_msg, up => [@x, 'COPY t FROM STDIN;'],
	    @verify);
	$forge->('copy-in-no-transaction', 6, $in_msg, @notx,
	    up => ['SELECT 1;', 'COPY t FROM STDIN;']);
	# COPY TO STDOUT spelt other ways, and rows the server would send
	# for hours, or slowly: the cancel ends it at the first.
	$forge->('copy-out-query', 5, $out_msg,
	    up => [@x, 'copy (SELECT a FROM t) TO STDOUT WITH (FORMAT csv);']);
	$forge->('copy-out-stdin', 5, $out_msg, up => [@x, 'COPY t TO STDIN;']);
	$forge->('copy-out-endless', 5, $out_msg, up => [@x,
	    'COPY (SELECT generate_series(1, 1000000000)) TO STDOUT;']);
	$forge->('copy-out-slow', 5, $out_msg, up => [@x, 'SELECT pg_sleep(1);',
	    "COPY (SELECT repeat('x', 20000), pg_sleep(0.1) FROM "
	    . 'generate_series(1, 600)) TO STDOUT;']);
	# Several commands in one statement: the pipeline refuses them, and
	# the one-by-one run finds the COPY behind the first command, or after
	# the announced COPY's data.
	$forge->('copy-out-second-command', 5, $out_msg,
	    up => [@x, 'SELECT 1; COPY t TO STDOUT; SELECT 2;']);
	$forge->('copy-out-after-data', 5, $out_msg, up => [@x,
	    { sql => 'COPY t FROM stdin; COPY t TO STDOUT;', data => "3\n" }],
	    @verify);
	$forge->('copy-in-after-data', 5, $in_msg, up => [@x,
	    { sql => 'COPY t FROM stdin; COPY t FROM stdin;', data => "3\n" }],
	    @verify);
	# standard_conforming_strings turned off: the next statement with a
	# backslash does not go out (the server would read it as a COPY TO
	# STDOUT where the compiler saw a COPY to a file).
	$forge->('std-strings-set-off', 5, $std_msg, up => [@x,
	    'SET standard_conforming_strings = off;',
	    q{COPY (SELECT 'a\'') TO STDOUT --') TO '/tmp/pgbundle-never';}]);
	$forge->('std-strings-set-config', 5, $std_msg, up => [@x,
	    q{SELECT set_config('standard_' || 'conforming_strings', 'off', false);},
	    q{SELECT 'a\'; DROP TABLE t; --';}]);
}
