#!/usr/bin/perl
# 086_fleet_job.pl - deploy/kubernetes/fleet-job.yaml, the Indexed Job
# that shards a fleet: it parses as YAML and holds what the issue asks
# (completionMode Indexed, completions N, parallelism P,
# backoffLimitPerIndex, the podFailurePolicy exit-code mapping with
# FailIndex, targets from a Secret, the bundle from a ConfigMap, --shard
# with the completion index over N = completions), and its security
# settings are job.yaml's.  Then each index is run as the kubelet would
# run it ($(JOB_COMPLETION_INDEX) expanded, the volumes laid out, the env
# set) against real databases: the shards cover every target exactly
# once; a shard with a failing target fails only its own index under the
# policy, one with an unreachable target is retried, and the retry after
# a fix converges.
use strict;
use warnings;

use JSON::PP ();
use Test::More;
use PgbTest;
use Pgb;

BEGIN {
	eval { require YAML::XS; 1 } or plan skip_all =>
	    'YAML::XS missing: run scripts/deps.sh (libyaml-libyaml-perl)';
}
$YAML::XS::Boolean = '';

my $root = PgbTest::root();
my $k8s = "$root/deploy/kubernetes";
my $pgapply = PgbTest::bin('pgapply');

my ($job) = YAML::XS::LoadFile("$k8s/fleet-job.yaml");
my ($single) = YAML::XS::LoadFile("$k8s/job.yaml");
my ($secret) = YAML::XS::LoadFile("$k8s/fleet-targets.example.yaml");

# --- the manifest -------------------------------------------------------------
is($job->{apiVersion}, 'batch/v1', 'apiVersion batch/v1');
is($job->{kind}, 'Job', 'kind Job');
my $spec = $job->{spec};
is($spec->{completionMode}, 'Indexed', 'completionMode Indexed');
my $n = $spec->{completions} // 0;
like($n, qr/^[1-9]\d*$/, "completions N = $n");
my $par = $spec->{parallelism} // 0;
ok($par >= 1 && $par <= $n, "parallelism P = $par, at most N");
like($spec->{backoffLimitPerIndex} // '', qr/^[1-9]\d*$/,
    'backoffLimitPerIndex: each shard retried on its own');
ok(!exists $spec->{backoffLimit}, 'no Job-wide backoffLimit beside it');
ok(!exists $spec->{maxFailedIndexes}, 'maxFailedIndexes unset: every shard '
    . 'runs');
like($spec->{$_} // '', qr/^[1-9]\d*$/, "$_ is set")
    for qw(activeDeadlineSeconds ttlSecondsAfterFinished);
my $pod = $spec->{template}{spec};
is($pod->{restartPolicy}, 'Never', 'restartPolicy Never');
my $c = $pod->{containers}[0];
is(scalar @{ $pod->{containers} }, 1, 'one container');

# The same hardening as the single-database Job.
my $spod = $single->{spec}{template}{spec};
my $sc = $spod->{containers}[0];
for my $k (qw(automountServiceAccountToken enableServiceLinks
    terminationGracePeriodSeconds)) {
	is_deeply($pod->{$k}, $spod->{$k}, "pod: $k as in job.yaml");
}
my %psc = %{ $pod->{securityContext} };
is(delete $psc{fsGroup}, $psc{runAsGroup}, 'pod: fsGroup, so the Secret is '
    . 'readable');
is_deeply(\%psc, $spod->{securityContext}, 'pod: securityContext as in '
    . 'job.yaml');
is_deeply($c->{securityContext}, $sc->{securityContext}, 'container: '
    . 'securityContext as in job.yaml');
is($c->{image}, $sc->{image}, 'container: the same image');
ok($c->{resources}{limits}{memory}, 'container: a memory limit');

# The exit-code mapping: job.yaml's, with FailIndex for FailJob.
my (%act, %sact);
for my $r (@{ $spec->{podFailurePolicy}{rules} }) {
	next unless $r->{onExitCodes};
	is($r->{onExitCodes}{containerName}, $c->{name},
	    "rule $r->{action} names the container");
	is($r->{onExitCodes}{operator}, 'In', "rule $r->{action}: In");
	$act{$_} = $r->{action} for @{ $r->{onExitCodes}{values} };
}
for my $r (@{ $single->{spec}{podFailurePolicy}{rules} }) {
	$sact{$_} = $r->{action} for @{ ($r->{onExitCodes} // {})->{values}
	    // [] };
}
is_deeply([sort { $a <=> $b } keys %act], [sort { $a <=> $b } keys %sact],
    'the same exit codes as job.yaml have a rule');
for my $code (sort { $a <=> $b } keys %sact) {
	is($act{$code}, $sact{$code} eq 'FailJob' ? 'FailIndex' : $sact{$code},
	    "exit $code: $sact{$code} in job.yaml, "
	    . ($sact{$code} eq 'FailJob' ? 'FailIndex' : $sact{$code}) . ' here');
}
is_deeply([sort { $a <=> $b } grep { $act{$_} eq 'FailIndex' } keys %act],
    [1 .. 6, 8, 9], 'FailIndex on 1 to 6, 8 and 9: what retrying cannot fix');
is_deeply([sort { $a <=> $b } grep { $act{$_} eq 'Count' } keys %act],
    [7, 75], 'Count on 7 and 75: retried per index');
my (undef, $help) = PgbTest::run($pgapply, '--help');
my %codes;
($help =~ /^Exit status:\n(.*)/ms) and
    %codes = map { /^\s+(\d+)\s+(.*)/ ? ($1 => $2) : () } split /\n/, $1;
ok(exists $act{$_}, "exit $_ ($codes{$_}) has a rule")
    for grep { $_ != 0 } sort { $a <=> $b } keys %codes;
ok(grep({ $_->{action} eq 'Ignore' && (($_->{onPodConditions} || [])->[0]{type}
    // '') eq 'DisruptionTarget' } @{ $spec->{podFailurePolicy}{rules} }),
    'an evicted pod is not counted');

# What the Job controller does with a pod's exit status: the first rule
# that matches, else Count.
sub outcome {
	my ($exit) = @_;
	return 'Succeeded' if $exit == 0;
	for my $r (@{ $spec->{podFailurePolicy}{rules} }) {
		next unless $r->{onExitCodes};
		return $r->{action} if grep { $_ == $exit }
		    @{ $r->{onExitCodes}{values} };
	}
	return 'Count';
}

# Args, env and volumes.
my @args = @{ $c->{args} };
is($args[0], 'apply', 'the container runs pgapply apply');
is($args[1], '/bundle/bundle.pgb', 'on the bundle pgbundle configmap writes');
my ($shard) = grep { /^--shard=/ } @args;
is($shard, "--shard=\$(JOB_COMPLETION_INDEX)/$n", '--shard is the '
    . 'completion index over N = completions');
my %env = map { $_->{name} => $_ } @{ $c->{env} };
is($env{JOB_COMPLETION_INDEX}{valueFrom}{fieldRef}{fieldPath},
    "metadata.annotations['batch.kubernetes.io/job-completion-index']",
    'JOB_COMPLETION_INDEX is in the env, so $(...) expands in args');
ok(!exists $env{DATABASE_URL}, 'no DATABASE_URL: each target names its own');
for my $a (grep { /^--/ } @args) {
	(my $opt = $a) =~ s/=.*//;
	like($help, qr/^\s+(?:-\w, )?\Q$opt\E\b/m, "pgapply knows $opt");
}
my %mounts = map { $_->{mountPath} => $_ } @{ $c->{volumeMounts} };
my %vols = map { $_->{name} => $_ } @{ $pod->{volumes} };
ok(!grep({ !$_->{readOnly} } values %mounts), 'every mount is read-only');
is($vols{ $mounts{'/bundle'}{name} }{configMap}{name},
    $spod->{volumes}[0]{configMap}{name}, 'the bundle from the ConfigMap '
    . 'job.yaml mounts');
my ($tpath) = map { /^--targets=(.*)/ ? $1 : () } @args;
my ($tdir, $tkey) = $tpath =~ m{^(/.*)/([^/]+)$};
my $tvol = $vols{ ($mounts{$tdir} // {})->{name} // '' } // {};
ok($tvol->{secret}, "the target list ($tpath) is a file of a Secret volume");
is($tvol->{secret}{secretName}, $secret->{metadata}{name}, 'the Secret of '
    . 'fleet-targets.example.yaml');
ok(($tvol->{secret}{defaultMode} // 0) & 040 && !(($tvol->{secret}{defaultMode}
    // 0) & 07), 'the Secret is group-readable, not world-readable');
is($secret->{kind}, 'Secret', 'fleet-targets.example.yaml: a Secret');
my $example = $secret->{stringData}{$tkey} // '';
my @elines = grep { !/^\s*(?:#|$)/ } split /\n/, $example;
ok(@elines >= 2, "the example holds targets under '$tkey'");
ok(!grep({ !/^(?:\S+\s+)?(?:postgres(?:ql)?:\/\/\S+|\S+=.*)$/ } @elines),
    'each a NAME CONNINFO line or a conninfo alone');

# --- each index as the kubelet would run it -----------------------------------------
my $pg = PgbTest::Server->new;
my @dbs = map { "k$_" } 0 .. 9;
$pg->createdb($_) for @dbs;
my $fs = PgbTest::tempdir();
my $m = Pgb::migrations('001_a.sql' => "CREATE TABLE a (id int);\n",
    '002_b.sql' => "CREATE TABLE b (id int);\n");
my $b = Pgb::bundle($m);
PgbTest::write_file("$fs/bundle/bundle.pgb", PgbTest::read_file($b));
PgbTest::write_file("$fs/bundle/bundle.pgb.sig", PgbTest::read_file("$b.sig"));
PgbTest::write_file("$fs$env{PGAPPLY_PUBKEY}{value}",
    PgbTest::read_file(Pgb::pub()));
my $dead = PgbTest::free_port();
sub write_targets {
	my (%extra) = @_;
	PgbTest::write_file("$fs$tpath", join('', "# tenants\n",
	    map { "$_ " . ($extra{$_} // $pg->connstr($_)) . "\n" } @dbs));
}
write_targets();

# Run every index, P at a time: { index => [exit, stdout, stderr] }.
sub run_job {
	my (@idx) = @_;
	my %res;
	while (@idx) {
		my @batch = splice(@idx, 0, $par);
		my %p;
		for my $i (@batch) {
			my %penv = (JOB_COMPLETION_INDEX => $i,
			    PGAPPLY_PUBKEY => "$fs$env{PGAPPLY_PUBKEY}{value}");
			my @a = map {
				(my $x = $_) =~ s/\$\((\w+)\)/$penv{$1}/g;
				$x =~ s{^(--\w[\w-]*=)?/}{($1 // '') . "$fs/"}e;
				$x
			} @args;
			$p{$i} = PgbTest::spawn({ env => \%penv }, $pgapply, @a);
		}
		$res{$_} = [$p{$_}->wait] for @batch;
	}
	return %res;
}

sub targets_of {
	my ($out, $result) = @_;
	return sort map { $_->{target} } grep { $_->{event} eq 'target' &&
	    (!defined $result || $_->{result} eq $result) }
	    map { JSON::PP::decode_json($_) } split /\n/, $out;
}

{
	my %res = run_job(0 .. $n - 1);
	my %seen;
	for my $i (0 .. $n - 1) {
		my ($code, $out, $err) = @{ $res{$i} };
		is($code, 0, "index $i exits 0") or diag($err);
		is(outcome($code), 'Succeeded', "index $i succeeds");
		my @t = targets_of($out, 'applied');
		is_deeply(\@t, [sort map { $dbs[$_] } grep { $_ % $n == $i }
		    0 .. $#dbs], "index $i applied the targets k with k mod $n "
		    . "= $i");
		$seen{$_}++ for @t;
		my @ev = map { JSON::PP::decode_json($_) } split /\n/, $out;
		ok(!grep({ !defined $_->{target} && $_->{event} ne 'fleet' } @ev),
		    "index $i: every event in its log names its target");
	}
	is_deeply([sort keys %seen], [sort @dbs], 'the shards cover every '
	    . 'target');
	ok(!grep({ $_ != 1 } values %seen), 'each target in one shard only');
	is(join(' ', map { $pg->psql($_, 'SELECT count(*) FROM '
	    . 'pgbundle.history') } @dbs), join(' ', ('2') x 10),
	    'every database has both migrations');
}

# A new version: one shard has a target whose migration fails, another an
# unreachable target.
{
	my $m2 = Pgb::migrations('001_a.sql' => "CREATE TABLE a (id int);\n",
	    '002_b.sql' => "CREATE TABLE b (id int);\n",
	    '003_c.sql' => "CREATE TABLE c (id int);\n");
	my $b2 = Pgb::bundle($m2);
	PgbTest::write_file("$fs/bundle/bundle.pgb", PgbTest::read_file($b2));
	PgbTest::write_file("$fs/bundle/bundle.pgb.sig",
	    PgbTest::read_file("$b2.sig"));
	my $bad = $dbs[1];		# shard 1 % N
	my $gone = $dbs[$n > 2 ? 2 : 0];	# another shard
	$pg->psql($bad, 'CREATE TABLE c (x int)');
	write_targets($gone => "host=127.0.0.1 port=$dead dbname=$gone "
	    . 'user=postgres connect_timeout=2');
	my %res = run_job(0 .. $n - 1);
	my $bi = 1 % $n;
	my $gi = ($n > 2 ? 2 : 0) % $n;
	is($res{$bi}[0], 5, "index $bi (a failing target) exits 5")
	    or diag($res{$bi}[2]);
	is(outcome($res{$bi}[0]), 'FailIndex', "index $bi: the policy fails "
	    . 'only that index');
	is($res{$gi}[0], 75, "index $gi (an unreachable target) exits 75");
	is(outcome($res{$gi}[0]), 'Count', "index $gi: the policy retries it");
	for my $i (grep { $_ != $bi && $_ != $gi } 0 .. $n - 1) {
		is($res{$i}[0], 0, "index $i still exits 0");
	}
	my @others = grep { $_ ne $bad && $_ ne $gone } @dbs;
	is(join(' ', map { $pg->psql($_, 'SELECT max(version) FROM '
	    . 'pgbundle.history') } @others), join(' ', ('3') x @others),
	    'every other target applied 003, in the failing shards too');
	is($pg->psql($bad, 'SELECT max(version) FROM pgbundle.history'), '2',
	    "$bad stays at 2");

	# The fix, then the retries of the two indexes: they converge.
	$pg->psql($bad, 'DROP TABLE c');
	write_targets();
	%res = run_job($bi == $gi ? ($bi) : ($bi, $gi));
	for my $i (keys %res) {
		is($res{$i}[0], 0, "the retry of index $i exits 0")
		    or diag($res{$i}[2]);
	}
	is_deeply([targets_of($res{$bi}[1], 'applied')], [$bad],
	    "the retry of index $bi applied only what was left ($bad)");
	is(join(' ', map { $pg->psql($_, 'SELECT max(version) FROM '
	    . 'pgbundle.history') } @dbs), join(' ', ('3') x 10),
	    'every database at 3');
}

done_testing();
