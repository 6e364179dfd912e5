#!/usr/bin/perl
# 060_static_chroot.pl - the static pgapply (make static) runs with nothing
# around it: an empty directory holding only the binary, a bundle, its
# signature, a public key and the CA bundle, entered with chroot as an
# unprivileged user id, as in the FROM-scratch image.  It applies the
# bundle over 127.0.0.1 in plain TCP (also three runners at once, as the
# pods of a Job may be), then with TLS (sslmode=require, and
# verify-ca against the server's own certificate) to a server that accepts
# only TLS.  Needs root (chroot) and bin/pgapply-static; skips otherwise.
use strict;
use warnings;

use File::Copy qw(copy);
use File::Path qw(make_path);
use Test::More;
use PgbTest;
use Pgb;

my $root = PgbTest::root();
my $static = "$root/bin/pgapply-static";

plan skip_all => 'chroot needs root' if $> != 0;
plan skip_all => "no $static: run 'make static' first" unless -x $static;
my ($chroot) = grep { -x } qw(/usr/sbin/chroot /sbin/chroot /usr/bin/chroot);
plan skip_all => 'no chroot program' unless defined $chroot;

# The user id the image runs as (Dockerfile, deploy/kubernetes/job.yaml).
my $uid = 65532;

# --- the binary itself ------------------------------------------------------
my ($code, $out, $err) = PgbTest::run('ldd', $static);
like("$out$err", qr/not a dynamic executable/,
    'ldd: not a dynamic executable');
my $size = -s $static;
cmp_ok($size, '<=', 6 * 1024 * 1024, "at most 6 MiB ($size bytes)");
($code, $out) = PgbTest::run('file', '-b', $static);
SKIP: {
	skip 'no file(1)', 2 if $code == 127;
	like($out, qr/statically linked/, 'file(1): statically linked');
	like($out, qr/, stripped/, 'file(1): stripped');
}

# --- an empty root with only what the image holds ---------------------------
my $ca = '/etc/ssl/certs/ca-certificates.crt';

# make_root(%extra): a new directory holding /pgapply, /app.pgb(.sig),
# /app.pub and the CA bundle, plus { '/path' => bytes } from %extra.
sub make_root {
	my ($bundle, %extra) = @_;
	my $dir = PgbTest::tempdir();
	copy($static, "$dir/pgapply") or die "copy: $!";
	chmod 0755, "$dir/pgapply";
	copy($bundle, "$dir/app.pgb") or die "copy: $!";
	copy("$bundle.sig", "$dir/app.pgb.sig") or die "copy: $!";
	copy(Pgb::pub(), "$dir/app.pub") or die "copy: $!";
	make_path("$dir/etc/ssl/certs");
	if (-f $ca) {
		copy($ca, "$dir$ca") or die "copy: $!";
	} else {
		PgbTest::write_file("$dir$ca", '');
	}
	PgbTest::write_file("$dir$_", $extra{$_}) for keys %extra;
	chmod 0644, grep { -f } map { "$dir/$_" } qw(app.pgb app.pgb.sig app.pub);
	return $dir;
}

# Run the static pgapply inside $dir as $uid with an empty environment.
sub in_root {
	my ($dir, @args) = @_;
	my %env = map { ($_ => undef) } keys %ENV;
	return PgbTest::run({ env => { %env, PATH => '/' } }, $chroot,
	    "--userspec=$uid:$uid", $dir, '/pgapply', @args);
}

sub list_files {
	my ($dir) = @_;
	my @all;
	my @todo = ($dir);
	while (my $d = shift @todo) {
		opendir(my $dh, $d) or die "opendir $d: $!";
		for my $e (grep { !/^\.\.?$/ } readdir $dh) {
			my $p = "$d/$e";
			if (-d $p) { push @todo, $p } else { push @all, substr($p, length $dir) }
		}
		closedir $dh;
	}
	return sort @all;
}

# --- plain TCP ----------------------------------------------------------------
my $pg = PgbTest::Server->new;
my $bundle = Pgb::bundle("$root/migrations", '--project', 'shop');
my $dir = make_root($bundle);
is_deeply([list_files($dir)], [sort('/pgapply', '/app.pgb', '/app.pgb.sig',
    '/app.pub', $ca)], 'the root holds only the binary, the bundle, its '
    . 'signature, the key and the CA bundle');

($code, $out, $err) = in_root($dir, '--version');
is($code, 0, 'pgapply --version runs in the empty root');
like($out, qr/^pgapply \d+\.\d+\.\d+/, 'and prints the version');

($code, undef, $err) = in_root($dir, 'verify', '/app.pgb', '--pubkey',
    '/app.pub');
is($code, 0, 'verify in the empty root') or diag($err);

my $db = $pg->createdb;
my $url = 'postgres://postgres@127.0.0.1:' . $pg->port . "/$db";
($code, $out, $err) = in_root($dir, 'apply', '/app.pgb', '--pubkey',
    '/app.pub', '--db', $url);
is($code, 0, 'apply over 127.0.0.1 from the empty root') or diag($err);
my $applied = $pg->psql($db, 'SELECT count(*) FROM pgbundle.history');
my (undef, $plan) = Pgb::pgapply($pg, $pg->createdb, 'plan', $bundle);
my $want = () = $plan =~ /^pending /mg;
ok($want > 0, "the sample bundle has $want migrations");
is($applied, $want, 'every migration is in the history');

($code, $out, $err) = PgbTest::run({ env => { DATABASE_URL => $url } },
    $chroot, "--userspec=$uid:$uid", $dir, '/pgapply', 'status',
    '/app.pgb', '--pubkey', '/app.pub');
is($code, 0, 'status with DATABASE_URL from the environment') or diag($err);
is(scalar(() = $out =~ /^applied /mg), $want, 'status: all applied');

($code, undef, $err) = in_root($dir, 'apply', '/app.pgb', '--pubkey',
    '/app.pub', '--db', $url);
is($code, 0, 'a second run exits 0');
like($err, qr/nothing to do/, 'and has nothing to do');

# Three pods of a Job at once: the advisory lock lets one apply; the
# others wait for it, then find nothing to do.
my $db3 = $pg->createdb;
my $url3 = 'postgres://postgres@127.0.0.1:' . $pg->port . "/$db3";
my @procs = map {
	PgbTest::spawn({ env => { map { ($_ => undef) } keys %ENV } }, $chroot,
	    "--userspec=$uid:$uid", $dir, '/pgapply', 'apply', '/app.pgb',
	    '--pubkey', '/app.pub', '--db', $url3, '--lock-wait', '120')
} 1 .. 3;
my ($ok, $applied_total, $nothing) = (0, 0, 0);
for my $p (@procs) {
	my ($c, undef, $e) = $p->wait;
	$ok++ if $c == 0;
	$applied_total += $1 if $e =~ /applied (\d+) migrations?\n/;
	$nothing++ if $e =~ /nothing to do/;
	diag($e) if $c != 0;
}
is($ok, 3, 'three runners at once all exit 0');
is($applied_total, $want, 'together they applied each migration once');
is($nothing, 2, 'two found nothing to do');
is($pg->psql($db3, 'SELECT count(*) FROM pgbundle.history'), $want,
    'one history row per migration');

# A name resolved through /etc/hosts (kubelet mounts one in every pod).
my $dir2 = make_root($bundle, '/etc/hosts' => "127.0.0.1 db.example\n");
my $db2 = $pg->createdb;
($code, undef, $err) = in_root($dir2, 'apply', '/app.pgb', '--pubkey',
    '/app.pub', '--db', 'postgres://postgres@db.example:' . $pg->port
    . "/$db2");
is($code, 0, 'a host name from /etc/hosts resolves in the static binary')
    or diag($err);

# No server there: the retryable exit status the Job's podFailurePolicy
# expects.
my $closed = PgbTest::free_port();
($code, undef, $err) = in_root($dir, 'apply', '/app.pgb', '--pubkey',
    '/app.pub', '--db', "postgres://postgres\@127.0.0.1:$closed/x");
is($code, 75, 'an unreachable server exits 75 (retryable)');

# --- TLS ------------------------------------------------------------------
SKIP: {
	my ($oc) = PgbTest::run('openssl', 'version');
	skip 'no openssl command', 9 if $oc != 0;

	my $tls = PgbTest::Server->new(start => 0, conf => {
		ssl => 'on',
		ssl_cert_file => 'server.crt',
		ssl_key_file => 'server.key',
	});
	my $data = $tls->datadir;
	($code, undef, $err) = PgbTest::run('openssl', 'req', '-x509',
	    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
	    '-nodes', '-days', '2', '-subj', '/CN=localhost',
	    '-keyout', "$data/server.key", '-out', "$data/server.crt");
	is($code, 0, 'a self-signed certificate') or diag($err);
	my (undef, undef, $pu, $pgid) = getpwnam('postgres');
	chown $pu, $pgid, "$data/server.key", "$data/server.crt";
	chmod 0600, "$data/server.key";
	chmod 0644, "$data/server.crt";
	# TLS only over TCP: a connection without it is refused.
	PgbTest::write_file("$data/pg_hba.conf",
	    "local all all trust\nhostssl all all 127.0.0.1/32 trust\n");
	$tls->start;

	my $crt = PgbTest::read_file("$data/server.crt");
	my $tdir = make_root($bundle, '/server-ca.crt' => $crt);
	my $tdb = $tls->createdb;
	my $base = 'postgres://postgres@127.0.0.1:' . $tls->port . "/$tdb";

	($code, undef, $err) = in_root($tdir, 'apply', '/app.pgb',
	    '--pubkey', '/app.pub', '--db', "$base?sslmode=disable");
	isnt($code, 0, 'the TLS server refuses a connection without TLS');
	like($err, qr/no encryption|SSL off/i, 'and says so');

	($code, undef, $err) = in_root($tdir, 'apply', '/app.pgb',
	    '--pubkey', '/app.pub', '--db', "$base?sslmode=require");
	is($code, 0, 'apply with sslmode=require from the empty root')
	    or diag($err);
	is($tls->psql($tdb, 'SELECT count(*) FROM pgbundle.history'), $want,
	    'every migration is in the history');

	# verify-ca reads the CA file it is given: the CA bundle does not
	# hold the self-signed certificate, the server's own file does.
	SKIP: {
		skip "no CA bundle at $ca (package ca-certificates)", 2
		    unless -s $ca;
		($code, undef, $err) = in_root($tdir, 'status', '/app.pgb',
		    '--pubkey', '/app.pub', '--db',
		    "$base?sslmode=verify-ca&sslrootcert=$ca");
		isnt($code, 0, 'verify-ca with the CA bundle refuses a '
		    . 'self-signed server');
		like($err, qr/certificate verify failed/, 'and says why');
	}
	($code, $out, $err) = in_root($tdir, 'status', '/app.pgb',
	    '--pubkey', '/app.pub', '--db',
	    "$base?sslmode=verify-ca&sslrootcert=/server-ca.crt");
	is($code, 0, 'verify-ca with the server certificate') or diag($err);
	is(scalar(() = $out =~ /^applied /mg), $want, 'status: all applied');
}

done_testing();
