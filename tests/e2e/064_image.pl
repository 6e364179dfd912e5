#!/usr/bin/perl
# 064_image.pl - the container image, built and run.  "make image" builds
# the repository's Dockerfile with podman or docker into pgapply:VERSION
# and pgapply:latest; the image holds the static pgapply, the CA bundle and
# the passwd/group lines of user 65532, nothing else, runs as that user and
# is under 7 MB.  Run as a Kubernetes Job runs it (the host's network, a
# read-only root, no capabilities, the bundle and the key mounted read-only
# the way a ConfigMap volume lays them out, DATABASE_URL and PGAPPLY_PUBKEY
# in its environment), it applies the sample migrations with JSON events
# on the container's stdout, finds nothing to do the second time, and
# refuses a tampered bundle (exit 3) with the database unchanged.  Skips,
# saying why, where no container engine can run.
use strict;
use warnings;

use Archive::Tar;
use JSON::PP ();
use Test::More;
use PgbTest;
use Pgb;

my $root = PgbTest::root();
my $image_sh = "$root/scripts/image.sh";
my ($code, $out, $err) = PgbTest::run('sh', $image_sh, 'which');
if ($code != 0) {
	$err =~ s/\n.*//s;
	plan skip_all => "no container engine: $err";
}
chomp(my $engine = $out);
my ($version) = PgbTest::read_file("$root/Makefile") =~ /^VERSION\s*=\s*(\S+)/m;
my $image = "pgapply:$version";

# The engine as "make image" runs it (podman with the project's own
# configuration and storage).
sub engine {
	my ($opt, @args) = ref $_[0] eq 'HASH' ? @_ : ({}, @_);
	return PgbTest::run({ timeout => 600, %$opt }, 'sh', $image_sh,
	    'engine', @args);
}

# --- make image --------------------------------------------------------------
# A make of our own: not the jobserver or variables of a make running us.
# A cold build (base, apt-get, libpq from source) takes minutes.
my %menv = (MAKEFLAGS => undef, MAKELEVEL => undef, MFLAGS => undef);
($code, $out, $err) = PgbTest::run({ env => \%menv, timeout => 3600 },
    'make', '-s', '-C', $root, 'image');
if (!is($code, 0, "make image with $engine")) {
	diag("$out$err");
	done_testing();
	exit;
}
my ($size) = $out =~ /^image\.sh: \Q$image\E and pgapply:latest: (\d+) bytes/m;
ok($size, "it prints the image's size") or diag($out);
cmp_ok($size // 1e9, '<', 7_000_000,
    'the image is under 7 MB (' . ($size // '?') . ' bytes)');

($code, $out, $err) = engine('image', 'inspect', '--format',
    '{{.Id}} {{.Config.User}} {{json .Config.Entrypoint}} {{json .Config.Cmd}}',
    $image);
is($code, 0, "$image exists") or diag($err);
my ($id, $user, $entry, $cmd) = split ' ', $out;
is($user, '65532:65532', 'it runs as 65532:65532');
is($entry, '["/pgapply"]', 'its entry point is /pgapply');
is($cmd, '["--help"]', 'with --help by default');
($code, $out) = engine('image', 'inspect', '--format', '{{.Id}}',
    'pgapply:latest');
is((split ' ', $out)[0] // '', $id, 'pgapply:latest is the same image');

# Everything in the image: the filesystem of a container made from it.
my $tmp = PgbTest::tempdir();
my $cname = "pgbtest-image-$$";
($code, undef, $err) = engine('create', '--name', $cname, $image);
is($code, 0, 'a container from the image') or diag($err);
($code, undef, $err) = engine('export', '-o', "$tmp/fs.tar", $cname);
is($code, 0, 'its filesystem exported') or diag($err);
engine('rm', '--force', $cname);
my $tar = Archive::Tar->new("$tmp/fs.tar");
my %files;
for my $f ($tar ? $tar->get_files : ()) {
	next if $f->is_dir;
	(my $n = $f->name) =~ s{^(?:\./|/)}{};
	$files{$n} = $f;
}
is_deeply([sort keys %files], [qw(etc/group etc/passwd
    etc/ssl/certs/ca-certificates.crt pgapply)],
    'the image holds the binary, the CA bundle, passwd and group, nothing '
    . 'else');
my $bin = $files{pgapply};
ok($bin && $bin->mode & 0111 && !($bin->mode & 022) && $bin->uid == 0,
    '/pgapply: executable, owned by root, not writable by its user');
like($bin ? substr($bin->get_content, 0, 4) : '', qr/^\x7fELF/, '/pgapply is '
    . 'an ELF program');
is($files{'etc/passwd'} && $files{'etc/passwd'}->get_content,
    "pgapply:x:65532:65532:pgapply:/nonexistent:/sbin/nologin\n",
    '/etc/passwd: user 65532, no home, no shell');
is($files{'etc/group'} && $files{'etc/group'}->get_content,
    "pgapply:x:65532:\n", '/etc/group: group 65532');
like($files{'etc/ssl/certs/ca-certificates.crt'} &&
    $files{'etc/ssl/certs/ca-certificates.crt'}->get_content,
    qr/\A-----BEGIN CERTIFICATE-----\n/, 'the CA bundle holds certificates');
if ($bin) {
	PgbTest::write_file("$tmp/pgapply", $bin->get_content);
	my ($fc, $fo) = PgbTest::run('file', "$tmp/pgapply");
	like($fo, qr/statically linked|static-pie/, '/pgapply is static')
	    if $fc == 0;
}

# --- a ConfigMap volume ----------------------------------------------------------
# As the kubelet lays out a ConfigMap volume: the files in a timestamped
# folder, "..data" a symlink to it, each key a symlink through "..data".
sub configmap {
	my (%data) = @_;
	my $d = PgbTest::tempdir();
	my $ts = '..2026_12_03_10_15_42.1234567890';
	for my $k (sort keys %data) {
		PgbTest::write_file("$d/$ts/$k", $data{$k});
		chmod 0644, "$d/$ts/$k" or die "chmod: $!";
		symlink("..data/$k", "$d/$k") or die "symlink: $!";
	}
	chmod 0755, "$d/$ts" or die "chmod: $!";
	symlink($ts, "$d/..data") or die "symlink: $!";
	return $d;
}

sub bundle_map {
	my ($bundle) = @_;
	return configmap('bundle.pgb' => PgbTest::read_file($bundle),
	    'bundle.pgb.sig' => PgbTest::read_file("$bundle.sig"));
}

my $pg = PgbTest::Server->new;
my $db = $pg->createdb;
my $keys = configmap('app.pub' => PgbTest::read_file(Pgb::pub()));
my $bundle = Pgb::bundle("$root/migrations", '--project', 'shop');
my $good = bundle_map($bundle);
ok(-l "$good/bundle.pgb" && readlink("$good/bundle.pgb") eq '..data/bundle.pgb',
    'the bundle is a symlink into ..data/, as in a ConfigMap volume');

# The Job's container: DATABASE_URL and PGAPPLY_PUBKEY from the
# environment (passed through, so the URL is on no command line), mounts
# read-only, the root read-only, no capability, no privilege gain.
sub job {
	my ($dir, @args) = @_;
	return engine({ env => { DATABASE_URL => $pg->url($db),
	    PGAPPLY_PUBKEY => '/keys/app.pub' } }, 'run', '--rm',
	    '--network', 'host', '--read-only', '--cap-drop', 'ALL',
	    '--security-opt', 'no-new-privileges',
	    '-v', "$dir:/bundle:ro", '-v', "$keys:/keys:ro",
	    '-e', 'DATABASE_URL', '-e', 'PGAPPLY_PUBKEY', $image, @args);
}

# Every line of stdout a JSON object; returns them, or () if one is not.
sub events {
	my ($text) = @_;
	my @ev;
	for my $line (split /\n/, $text) {
		my $e = eval { JSON::PP::decode_json($line) };
		return () unless ref $e eq 'HASH';
		push @ev, $e;
	}
	return @ev;
}

($code, $out) = job($good, '--version');
is($code, 0, '--version in the image');
is($out, "pgapply $version\n", "it is pgapply $version");

my $want = grep { !/\.down\.sql$/ } glob("$root/migrations/[0-9]*.sql");
($code, $out, $err) = job($good, 'apply', '/bundle/bundle.pgb', '--json');
is($code, 0, 'apply from the image exits 0') or diag($err);
my @ev = events($out);
ok(@ev, 'every line on the container\'s stdout is a JSON event')
    or diag($out);
is(scalar(grep { $_->{event} eq 'applied' } @ev), $want,
    "an \"applied\" event for each of the $want migrations");
is_deeply($ev[-1], { event => 'summary', command => 'apply', count => $want },
    'a summary event ends the run');
unlike($err, qr/\{"event"/, 'no JSON on stderr');

# The schema is what the host's pgapply makes of the same bundle.
my $ref = $pg->createdb;
($code, undef, $err) = Pgb::pgapply($pg, $ref, 'apply', $bundle);
is($code, 0, 'the same bundle applied by the host\'s pgapply') or diag($err);
is($pg->dump_schema($db, exclude_schema => ['pgbundle']),
    $pg->dump_schema($ref, exclude_schema => ['pgbundle']),
    'the image made the same schema');
is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history'), $want,
    'the history has every migration');

my $before = $pg->dump_schema($db, data => 1);
($code, $out, $err) = job($good, 'apply', '/bundle/bundle.pgb', '--json');
is($code, 0, 'a second run exits 0') or diag($err);
is_deeply([events($out)], [{ event => 'summary', command => 'apply',
    count => 0 }], 'and has nothing to do');
is($pg->dump_schema($db, data => 1), $before, 'the database is unchanged');

# --- a tampered bundle ---------------------------------------------------------------
# One more migration, then one flipped byte: the signature no longer
# matches and nothing is applied.
my $mig = PgbTest::tempdir() . '/migrations';
mkdir $mig or die "mkdir: $!";
for my $f (glob("$root/migrations/*")) {
	(my $n = $f) =~ s{.*/}{};
	PgbTest::write_file("$mig/$n", PgbTest::read_file($f));
}
PgbTest::write_file("$mig/014_tampered.sql", "CREATE TABLE tampered (id int);\n");
my $next = Pgb::bundle($mig, '--project', 'shop');
my $bytes = PgbTest::read_file($next);
substr($bytes, -20, 1) = chr(ord(substr($bytes, -20, 1)) ^ 1);
PgbTest::write_file($next, $bytes);
($code, $out, $err) = job(bundle_map($next), 'apply', '/bundle/bundle.pgb',
    '--json');
is($code, 3, 'a tampered bundle: exit 3');
like($err, qr/^pgapply: signature does not match any trusted key$/m,
    'and says why');
is_deeply([map { [$_->{event}, $_->{exit}] } events($out)], [['error', 3]],
    'one JSON error event on stdout');
is($pg->dump_schema($db, data => 1), $before, 'the database is unchanged');

done_testing();
