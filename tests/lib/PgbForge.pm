package PgbForge;

# PgbForge - write a signed bundle straight from statements, without the
# compiler: what a signing key can ship past every build-time refusal
# (COPY ... TO STDOUT, COPY ... FROM STDIN with no data, transaction
# control, several commands in one statement), so that the tests can
# show what pgapply does with it.  The bundle follows docs/FORMAT.md
# (manifest, chain, bundle-id, sorted ustar entries, gzip with no name
# and a zero mtime) and is signed with tests/data/keys/test.key through
# `openssl pkeyutl -sign -rawin`.  Core Perl and the openssl CLI only.
#
#   PgbForge::bundle("$dir/app.pgb",
#       { version => 1, name => 'a', mode => 'transaction',
#         up => ['CREATE TABLE a (x int);', 'COPY a TO STDOUT;',
#                { sql => 'COPY a FROM stdin;', data => "1\n2\n" }],
#         verify => ['SELECT true'],
#         down => ['DROP TABLE a;'], down_mode => 'transaction' },
#       ...);
#
# Each statement is one line of the script (the text is the statements
# joined by newlines); one given as { sql, data } is announced as COPY
# FROM stdin with its data lines, which the script carries after it up
# to a "\." line.  A statement's text may hold several commands: the
# manifest says where each statement starts and ends, nothing more.

use strict;
use warnings;

use Carp qw(croak);
use Compress::Raw::Zlib;
use Digest::SHA qw(sha256 sha256_hex);
use MIME::Base64 qw(decode_base64);

use PgbTest;

# ---- the script and its statements ----------------------------------------

# (text, [stmt lines of the manifest]) for a list of statements.
sub script {
	my (@stmts) = @_;
	my ($text, @lines) = ('');
	for my $s (@stmts) {
		my ($sql, $data) = ref $s ? ($s->{sql}, $s->{data}) : ($s, undef);
		croak 'PgbForge: empty statement' unless length $sql;
		my $line = 1 + (() = $text =~ /\n/g);
		my $st = length($text) . ' ' . length($sql) . " $line";
		$text .= "$sql\n";
		if (defined $data) {
			$st .= ' copy=' . length($text) . ':' . length($data);
			$text .= $data . "\\.\n";
		}
		push @lines, $st;
	}
	return ($text, \@lines);
}

# ---- tar and gzip, as the compiler writes them ---------------------------

sub tar_header {
	my ($name, $size) = @_;
	my $hdr = pack('a100 a8 a8 a8 a12 a12 A8 a1 a100 a6 a2 a32 a32 a8 a8 a155 a12',
	    $name, sprintf('%07o', 0644), sprintf('%07o', 0), sprintf('%07o', 0),
	    sprintf('%011o', $size), sprintf('%011o', 0), '', '0', '', 'ustar',
	    '00', '', '', sprintf('%07o', 0), sprintf('%07o', 0), '', '');
	substr($hdr, 148, 8) = sprintf("%06o\0 ", unpack('%32C*', $hdr));
	return $hdr;
}

sub tar {
	my (@entries) = @_;
	my $t = '';
	for my $e (@entries) {
		my ($name, $data) = @$e;
		$t .= tar_header($name, length $data) . $data
		    . ("\0" x ((512 - length($data) % 512) % 512));
	}
	$t .= "\0" x 1024;
	return $t . ("\0" x ((10240 - length($t) % 10240) % 10240));
}

sub gzip {
	my ($data) = @_;
	my ($d, $st) = Compress::Raw::Zlib::Deflate->new(-Level => 9,
	    -WindowBits => -15, -AppendOutput => 1);
	croak "PgbForge: deflate: $st" unless $d;
	my $z = '';
	$d->deflate($data, $z) == Z_OK or croak 'PgbForge: deflate';
	$d->flush($z) == Z_OK or croak 'PgbForge: deflate';
	return "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" . $z
	    . pack('V V', crc32($data), length($data) % 2**32);
}

# ---- the manifest -----------------------------------------------------------

sub key_id {
	my (undef, $pub) = PgbTest::test_key();
	(my $pem = PgbTest::read_file($pub)) =~ s/-----[^-]+-----//g;
	return substr(sha256_hex(substr(decode_base64($pem), -32)), 0, 16);
}

# Write the bundle and its signature; returns $path.
sub bundle {
	my ($path, @migs) = @_;
	my ($key) = PgbTest::test_key();
	my ($chain, @body, @files) = ("\0" x 32);
	for my $m (@migs) {
		my $v = $m->{version};
		my $base = sprintf('migrations/%03d_%s', $v, $m->{name});
		my ($up, $st) = script(@{ $m->{up} });
		$chain = sha256($chain . $v . sha256($up));
		push @body, "migration $v $m->{name}", "file $base.sql",
		    'sha256 ' . sha256_hex($up), 'size ' . length($up),
		    'mode ' . ($m->{mode} // 'transaction'),
		    'chain ' . unpack('H*', $chain), map({ "stmt $_" } @$st),
		    map { "verify $_" } @{ $m->{verify} || [] };
		push @files, ["$base.sql", $up];
		if ($m->{down}) {
			my ($down, $dst) = script(@{ $m->{down} });
			push @body, "down $base.down.sql " . sha256_hex($down) . ' '
			    . length($down) . ' ' . ($m->{down_mode} // 'transaction')
			    . ($m->{down_idempotent} ? ' idempotent' : ''),
			    map { "down-stmt $_" } @$dst;
			push @files, ["$base.down.sql", $down];
		}
		push @body, 'end';
	}
	my @head = ('pgbundle-manifest 1', 'project forge', 'created 1700000000',
	    'compiler pgbundle 0.1.0', 'hash sha256', 'key-id ' . key_id());
	my $without = join('', map { "$_\n" } @head, @body);
	my $manifest = join('', map { "$_\n" } @head,
	    'bundle-id ' . sha256_hex($without), @body);
	PgbTest::write_file($path, gzip(tar(['MANIFEST', $manifest],
	    sort { $a->[0] cmp $b->[0] } @files)));
	unlink "$path.sig";
	my ($code, undef, $err) = PgbTest::run('openssl', 'pkeyutl', '-sign',
	    '-rawin', '-inkey', $key, '-in', $path, '-out', "$path.sig");
	croak "PgbForge: openssl pkeyutl failed: $err" if $code != 0;
	return $path;
}

1;
