#!/usr/bin/perl
# 061_kubernetes.pl - deploy/kubernetes/ and the Dockerfile: every manifest
# parses as YAML and holds what a safe migration Job needs; the Job's
# podFailurePolicy agrees with the exit statuses pgapply --help documents;
# and the ConfigMap that "pgbundle configmap" writes, once decoded, holds a
# bundle and signature that pgapply verify accepts; laid out as the kubelet
# mounts it, with the Job's env and args, it applies to a real server.
# Oversized bundles, bad names, missing signatures and other keys are
# refused.
use strict;
use warnings;

use MIME::Base64 qw(decode_base64);
use Test::More;
use PgbTest;
use Pgb;

BEGIN {
	eval { require YAML::XS; 1 } or plan skip_all =>
	    'YAML::XS missing: run scripts/deps.sh (libyaml-libyaml-perl)';
}
# Booleans as Perl truth values, not JSON::PP objects.
$YAML::XS::Boolean = '';

my $root = PgbTest::root();
my $k8s = "$root/deploy/kubernetes";
my $pgbundle = PgbTest::bin('pgbundle');
my $pgapply = PgbTest::bin('pgapply');

sub load {
	my ($path) = @_;
	my @docs = eval { YAML::XS::LoadFile($path) };
	ok(!$@, "$path parses as YAML") or diag($@);
	return @docs;
}

# --- the Job --------------------------------------------------------------
my ($job) = load("$k8s/job.yaml");
is($job->{apiVersion}, 'batch/v1', 'job: apiVersion batch/v1');
is($job->{kind}, 'Job', 'job: kind Job');
ok(length($job->{metadata}{name} // ''), 'job: has a name');
my $spec = $job->{spec};
for my $f (qw(backoffLimit activeDeadlineSeconds ttlSecondsAfterFinished)) {
	like($spec->{$f} // '', qr/^[1-9]\d*$/, "job: $f is a positive number");
}
my $pod = $spec->{template}{spec};
is($pod->{restartPolicy}, 'Never', 'pod: restartPolicy Never '
    . '(podFailurePolicy needs it)');
ok(!$pod->{automountServiceAccountToken}, 'pod: no service account token');
ok($pod->{securityContext}{runAsNonRoot}, 'pod: runAsNonRoot');
like($pod->{securityContext}{runAsUser} // '', qr/^[1-9]\d*$/,
    'pod: a numeric user id that is not root');
is($pod->{securityContext}{seccompProfile}{type}, 'RuntimeDefault',
    'pod: seccomp RuntimeDefault');
is(scalar @{ $pod->{containers} }, 1, 'pod: one container');
my $c = $pod->{containers}[0];
ok(length($c->{image} // ''), 'container: has an image');
my $sc = $c->{securityContext};
ok($sc->{readOnlyRootFilesystem}, 'container: read-only root filesystem');
ok(exists $sc->{allowPrivilegeEscalation} && !$sc->{allowPrivilegeEscalation},
    'container: allowPrivilegeEscalation false');
ok(exists $sc->{privileged} && !$sc->{privileged}, 'container: not privileged');
is_deeply($sc->{capabilities}{drop}, ['ALL'], 'container: drops every '
    . 'capability');
ok(!exists $sc->{capabilities}{add}, 'container: adds none');
ok($c->{resources}{limits}{memory}, 'container: a memory limit');

my %env = map { $_->{name} => $_ } @{ $c->{env} };
my $ref = $env{DATABASE_URL}{valueFrom}{secretKeyRef};
ok($ref && $ref->{name} && $ref->{key} eq 'DATABASE_URL',
    'DATABASE_URL comes from a Secret');
my %mounts = map { $_->{name} => $_ } @{ $c->{volumeMounts} };
my %vols = map { $_->{name} => $_ } @{ $pod->{volumes} };
ok(!grep({ !$_->{readOnly} } values %mounts), 'every mount is read-only');
my ($bvol) = grep { $mounts{$_}{mountPath} eq '/bundle' } keys %mounts;
ok($bvol && $vols{$bvol}{configMap}{name}, 'the bundle is mounted from a '
    . 'ConfigMap at /bundle');
my $bundle_cm = $bvol ? $vols{$bvol}{configMap}{name} : '';
is($c->{args}[0], 'apply', 'the container runs pgapply apply');
is($c->{args}[1], '/bundle/bundle.pgb', 'on the key pgbundle configmap '
    . 'writes');
my $keypath = $env{PGAPPLY_PUBKEY}{value} // '';
my ($kvol) = grep { index($keypath, "$mounts{$_}{mountPath}/") == 0 }
    keys %mounts;
ok($kvol && $vols{$kvol}{configMap}{name}, "PGAPPLY_PUBKEY ($keypath) is "
    . 'a file of a mounted ConfigMap');

# Every option the Job passes is one pgapply knows.
my (undef, $help) = PgbTest::run($pgapply, '--help');
for my $a (grep { /^--/ } @{ $c->{args} }) {
	(my $opt = $a) =~ s/=.*//;
	like($help, qr/^\s+\Q$opt\E\b/m, "pgapply knows $opt");
}

# podFailurePolicy against the documented exit statuses.
my %codes;
($help =~ /^Exit status:\n(.*)/ms) and
    %codes = map { /^\s+(\d+)\s+(.*)/ ? ($1 => $2) : () } split /\n/, $1;
ok(exists $codes{75} && exists $codes{3}, 'pgapply --help lists exit '
    . 'statuses');
my (%fail, %count);
for my $r (@{ $spec->{podFailurePolicy}{rules} }) {
	next unless $r->{onExitCodes};
	is($r->{onExitCodes}{containerName}, $c->{name},
	    "rule $r->{action} names the container");
	is($r->{onExitCodes}{operator}, 'In', "rule $r->{action}: In");
	my $set = $r->{action} eq 'FailJob' ? \%fail : \%count;
	$set->{$_} = 1 for @{ $r->{onExitCodes}{values} };
}
ok($fail{$_}, "exit $_ fails the Job at once ($codes{$_})")
    for grep { exists $codes{$_} } 3, 4, 5, 6, 8;
ok(exists $codes{8}, "pgapply --help documents exit 8 (cannot connect, for good)");
ok($count{75} && !$fail{75}, 'exit 75 (retryable) is retried');
ok(!$fail{0} && !$count{0}, 'exit 0 is in no rule');
for my $code (sort { $a <=> $b } keys %codes) {
	next if $code == 0;
	ok($fail{$code} || $count{$code}, "exit $code has a rule");
}
my @ignore = grep { $_->{action} eq 'Ignore' }
    @{ $spec->{podFailurePolicy}{rules} };
ok(grep({ (($_->{onPodConditions} || [])->[0]{type} // '') eq
    'DisruptionTarget' } @ignore), 'an evicted pod is not counted');

# --- the Secret and the public key's ConfigMap ---------------------------------
my ($secret) = load("$k8s/secret.example.yaml");
is($secret->{kind}, 'Secret', 'secret: kind Secret');
is($secret->{metadata}{name}, $ref->{name}, 'secret: the name the Job reads');
like($secret->{stringData}{$ref->{key}} // '', qr{^postgres(?:ql)?://[^@/]+@},
    'secret: a postgres:// URL with a user');

my ($keycm) = load("$k8s/pubkey.example.yaml");
is($keycm->{kind}, 'ConfigMap', 'pubkey: kind ConfigMap');
is($keycm->{metadata}{name}, $kvol ? $vols{$kvol}{configMap}{name} : '',
    'pubkey: the name the Job mounts');
(my $keyfile = $keypath) =~ s{.*/}{};
like($keycm->{data}{$keyfile} // '', qr/^-----BEGIN PUBLIC KEY-----\n/,
    "pubkey: holds $keyfile as PEM");

# --- pgbundle configmap ----------------------------------------------------------
my $bundle = Pgb::bundle("$root/migrations", '--project', 'shop');
my ($code, $out, $err) = PgbTest::run($pgbundle, 'configmap', $bundle,
    '--name', $bundle_cm, '--pubkey', Pgb::pub());
is($code, 0, 'pgbundle configmap exits 0') or diag($err);
is($err, '', 'and writes nothing on stderr');
my $cm = eval { YAML::XS::Load($out) };
ok($cm, 'its output parses as YAML') or diag($@);
is($cm->{apiVersion}, 'v1', 'configmap: apiVersion v1');
is($cm->{kind}, 'ConfigMap', 'configmap: kind ConfigMap');
is($cm->{metadata}{name}, $bundle_cm, 'configmap: the name the Job mounts');
is_deeply([sort keys %{ $cm->{binaryData} }], ['bundle.pgb',
    'bundle.pgb.sig'], 'configmap: binaryData holds the bundle and its '
    . 'signature');
ok(!exists $cm->{data}, 'configmap: no text data');
my $dir = PgbTest::tempdir();
for my $k (keys %{ $cm->{binaryData} }) {
	my $v = $cm->{binaryData}{$k};
	like($v, qr{^[A-Za-z0-9+/]+=*$}, "$k is one line of base64");
	PgbTest::write_file("$dir/$k", decode_base64($v));
}
is(PgbTest::read_file("$dir/bundle.pgb"), PgbTest::read_file($bundle),
    'the decoded bundle is the bundle, byte for byte');
($code, undef, $err) = PgbTest::run($pgapply, 'verify', "$dir/bundle.pgb",
    '--pubkey', Pgb::pub());
is($code, 0, 'pgapply verify accepts the decoded bundle and signature')
    or diag($err);
my (undef, $ij) = PgbTest::run($pgbundle, 'inspect', $bundle, '--json');
my ($id) = $ij =~ /"bundle_id":"([0-9a-f]+)"/;
is($cm->{metadata}{annotations}{'pgbundle/bundle-id'}, $id,
    'an annotation names the bundle id');

# The Job as the kubelet would run it: each ConfigMap key a file under
# its mountPath, the env of the container, the container's args.
{
	my $pg = PgbTest::Server->new;
	my $db = $pg->createdb;
	my $fs = PgbTest::tempdir();
	my %files = (%{ $cm->{binaryData} });
	my $kdir = $mounts{$kvol}{mountPath};
	PgbTest::write_file("$fs$mounts{$bvol}{mountPath}/$_",
	    decode_base64($files{$_})) for keys %files;
	PgbTest::write_file("$fs$kdir/$keyfile", PgbTest::read_file(Pgb::pub()));
	my %penv = (DATABASE_URL => $pg->url($db),
	    PGAPPLY_PUBKEY => "$fs$keypath");
	my @args = map { m{^/} ? "$fs$_" : $_ } @{ $c->{args} };
	my ($rc, $ro, $re) = PgbTest::run({ env => \%penv }, $pgapply, @args);
	is($rc, 0, 'the Job\'s container command applies the bundle')
	    or diag($re);
	like($ro, qr/^\{"event":"summary".*"count":\d+/m, 'and logs JSON events');
	ok($pg->psql($db, 'SELECT count(*) FROM pgbundle.history') > 0,
	    'the history has the migrations');
}

# The same, without --pubkey: archive checks only.
($code, $out) = PgbTest::run($pgbundle, 'configmap', $bundle, '--name', 'x');
is($code, 0, 'without --pubkey too');

# A signature by another key, with --pubkey: refused.
my $other = PgbTest::tempdir() . '/other';
PgbTest::run($pgbundle, 'keygen', '-o', $other);
($code, $out, $err) = PgbTest::run($pgbundle, 'configmap', $bundle,
    '--name', 'x', '--pubkey', "$other.pub");
is($code, 1, 'another key: exit 1');
like($err, qr/signature does not match/, 'another key: says so');
is($out, '', 'another key: nothing on stdout');

# Bad names, missing pieces.
for my $bad ('Shop', '-shop', 'shop-', 'shop_13', '', 'a' x 254) {
	($code, $out, $err) = PgbTest::run($pgbundle, 'configmap', $bundle,
	    '--name', $bad);
	is($code, 2, "name '" . substr($bad, 0, 12) . "' is refused");
}
like($err, qr/^pgbundle: invalid ConfigMap name 'a{160}\.\.\.'\n.*at most 253/m,
    'and the message says why');
($code) = PgbTest::run($pgbundle, 'configmap', $bundle);
is($code, 2, 'no --name: usage');
my $nosig = "$dir/nosig.pgb";
PgbTest::write_file($nosig, PgbTest::read_file($bundle));
($code, $out, $err) = PgbTest::run($pgbundle, 'configmap', $nosig, '--name',
    'x');
is($code, 1, 'no signature: exit 1');
like($err, qr/cannot read signature '\Q$nosig\E\.sig'/, 'no signature: '
    . 'names the file');
PgbTest::write_file("$dir/junk.pgb", "not a bundle\n");
PgbTest::write_file("$dir/junk.pgb.sig", "\0" x 64);
($code, undef, $err) = PgbTest::run($pgbundle, 'configmap', "$dir/junk.pgb",
    '--name', 'x');
is($code, 1, 'a file that is not a bundle is refused');

# --- over the 1 MiB ConfigMap limit ------------------------------------------------
# Random hex compresses to about half: 2.5 MB of it makes a bundle past
# 1 MiB.
my $hex = '';
open(my $rnd, '<:raw', '/dev/urandom') or die "urandom: $!";
for (1 .. 20) {
	read($rnd, my $chunk, 65536) == 65536 or die 'urandom: short read';
	$hex .= join("\n", map { "-- $_" } unpack('(H64)*', $chunk)) . "\n";
}
close $rnd;
my $big = Pgb::bundle(Pgb::migrations('001_big.sql' =>
    "SELECT 1;\n$hex"));
my $size = -s $big;
cmp_ok($size, '>', 1024 * 1024, "a bundle of $size bytes");
($code, $out, $err) = PgbTest::run($pgbundle, 'configmap', $big, '--name',
    'big');
is($code, 1, 'over 1 MiB: exit 1');
my $total = $size + 64 + length('bundle.pgb') + length('bundle.pgb.sig');
like($err, qr/does not fit in a ConfigMap: $total bytes, over the limit of 1048576/,
    'over 1 MiB: the message gives the size found');
like($err, qr/the bundle \($size bytes\)/, 'and the bundle\'s own size');
is($out, '', 'over 1 MiB: nothing on stdout');

# --- the Dockerfile ---------------------------------------------------------
my $df = PgbTest::read_file("$root/Dockerfile");
my @from = $df =~ /^FROM\s+(\S+)/mg;
is($from[-1], 'scratch', 'Dockerfile: the final stage is FROM scratch');
like($df, qr/^RUN make (?:-o \S+ )?static\b/m, 'Dockerfile: the build stage runs make '
    . 'static');
my ($final) = $df =~ /^FROM scratch\n(.*)\z/ms;
my @copies = $final =~ /^COPY --from=\S+ (.*)$/mg;
is(scalar @copies, 3, 'Dockerfile: the final stage copies three things');
like("@copies", qr{ca-certificates\.crt /etc/ssl/certs/}, '... the CA bundle');
like("@copies", qr{pgapply-static /pgapply\b}, '... the static pgapply');
like($final, qr/^USER (\d+):(\d+)$/m, 'Dockerfile: a numeric user');
my ($uid) = $final =~ /^USER (\d+)/m;
ok($uid, 'Dockerfile: not root');
is($uid, $pod->{securityContext}{runAsUser}, 'the Job runs as the image\'s '
    . 'user');
unlike($final, qr/^RUN /m, 'Dockerfile: nothing runs in '
    . 'the final stage');

done_testing();
