#!/usr/bin/perl
# fleet.pl - `make bench-fleet`: one bundle applied to many databases on
# one throwaway PostgreSQL with default durability, three ways in the
# same run:
#
#   loop    a shell loop calling pgapply apply once per database
#   -j 1    pgapply apply --targets LIST -j 1
#   -j 4    pgapply apply --targets LIST -j 4
#
# Each timed run gets fresh databases; runs are interleaved (run 1 of each
# way, then run 2, ...) so that a noisy neighbour hits them alike.  Also
# measured: how often the bundle file is opened (strace -f: it is read
# and verified once per open), the peak RSS of the largest process
# (/usr/bin/time %M: pgapply or any of its children) against a single
# apply's, the peak of the summed PSS of the whole process tree (sampled
# from /proc every 10 ms), and the load average around each run.
#
#   perl bench/fleet.pl
#
# Environment: BENCH_DIR (default /tmp/pgbundle-bench), BENCH_FLEET_PORT
# (55492), BENCH_FLEET_DBS (100), BENCH_FLEET_RUNS (3), BENCH_FLEET_BUNDLE
# (a migrations folder; default migrations/).  Results:
# BENCH_DIR/fleet-results.md, printed at the end.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);

my $ROOT = abs_path(dirname(abs_path($0)) . '/..');
my $W = ($ENV{BENCH_DIR} // '/tmp/pgbundle-bench');
my $PORT = $ENV{BENCH_FLEET_PORT} // 55492;
my $NDB = $ENV{BENCH_FLEET_DBS} // 100;
my $RUNS = $ENV{BENCH_FLEET_RUNS} // 3;
my $SRC = $ENV{BENCH_FLEET_BUNDLE} // "$ROOT/migrations";
my $PG = "$W/fleet-pg";
my $BIN = "$ROOT/bin";
my $KEY = "$W/fleet-key";
my $B = "$W/fleet.pgb";

$ENV{PGHOST} = '127.0.0.1';
$ENV{PGPORT} = $PORT;
$ENV{PGUSER} = 'postgres';
delete @ENV{qw(PGDATABASE PGPASSWORD PGSERVICE DATABASE_URL PGAPPLY_PUBKEY)};

sub say_ { print STDERR "bench-fleet: @_\n" }

sub sh {
	my (@cmd) = @_;
	system(@cmd) == 0 or die "bench-fleet: '@cmd' failed\n";
}

sub slurp {
	my ($p) = @_;
	open(my $fh, '<', $p) or return '';
	local $/;
	return scalar(<$fh>) // '';
}

sub spew {
	my ($p, $text) = @_;
	open(my $fh, '>', $p) or die "bench-fleet: $p: $!\n";
	print $fh $text;
	close($fh) or die "bench-fleet: $p: $!\n";
}

sub psql_admin {
	my ($sql) = @_;
	local $ENV{PGOPTIONS} = '-c client_min_messages=warning';
	system('psql', '-X', '-q', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1',
	    '-c', $sql) == 0 or die "bench-fleet: psql: $sql\n";
}

sub loadavg { return (split ' ', slurp('/proc/loadavg'))[0] }

# The summed PSS (kB) of 'pid' and its descendants, now.
sub tree_pss {
	my ($pid) = @_;
	my (%kids, $sum);
	for my $st (glob('/proc/[0-9]*/stat')) {
		my $t = slurp($st) or next;
		my ($p, $pp) = $t =~ /^(\d+) \(.*\) \S (\d+)/s or next;
		push @{ $kids{$pp} }, $p;
	}
	my @todo = ($pid);
	while (defined(my $p = shift @todo)) {
		my ($kb) = slurp("/proc/$p/smaps_rollup") =~ /^Pss:\s+(\d+)/m;
		$sum += $kb // 0;
		push @todo, @{ $kids{$p} // [] };
	}
	return $sum // 0;
}

# Run 'cmd' under /usr/bin/time: (ok, wall ms, peak RSS kB of the
# largest process, peak summed PSS kB, load before, load after, output).
sub timed {
	my ($cmd) = @_;
	my $log = "$W/fleet-last.log";
	my $rss = "$W/fleet-rss.txt";
	my $l0 = loadavg();
	my $t0 = time;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		open(STDOUT, '>', $log);
		open(STDERR, '>&', \*STDOUT);
		exec('/usr/bin/time', '-f', '%M', '-o', $rss, @$cmd) or exit 127;
	}
	my $pss = 0;
	while (waitpid($pid, WNOHANG) == 0) {
		my $s = tree_pss($pid);
		$pss = $s if $s > $pss;
		sleep(0.01);
	}
	my $ok = $? == 0;
	my $ms = (time - $t0) * 1000;
	my ($kb) = slurp($rss) =~ /(\d+)\s*$/;
	return ($ok, $ms, $kb // 0, $pss, $l0, loadavg(), slurp($log));
}

# How many times 'cmd' opens the bundle file (strace -f).
sub bundle_opens {
	my ($cmd) = @_;
	my $log = "$W/fleet-strace.log";
	return undef if system('strace -V >/dev/null 2>&1') != 0;
	system('strace', '-f', '-qq', '-e', 'trace=openat', '-o', $log,
	    @$cmd) == 0 or die "bench-fleet: strace @$cmd failed\n";
	my $n = () = slurp($log) =~ /openat\([^,]*, "\Q$B\E"/g;
	return $n;
}

sub stats {
	my @v = sort { $a <=> $b } @_;
	return undef unless @v;
	my $med = @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
	return { med => $med, min => $v[0], max => $v[-1] };
}

sub f0 {
	my ($s) = @_;
	return '–' unless $s;
	return sprintf('%.0f (%.0f–%.0f)', $s->{med}, $s->{min}, $s->{max});
}

# --- setup ------------------------------------------------------------------
make_path($W);
sh('make', '-s', '-C', $ROOT, 'all');
if (-d $PG) {
	system('sh', "$ROOT/scripts/pgserver.sh", 'stop', $PG);
	remove_tree($PG);
}
{
	local $ENV{PGSERVER_DURABLE} = 1;
	sh('sh', "$ROOT/scripts/pgserver.sh", 'start', $PG, $PORT);
}
END {
	system('sh', "$ROOT/scripts/pgserver.sh", 'stop', $PG) if $PG && -d $PG;
}
unlink("$KEY.key", "$KEY.pub");
sh("$BIN/pgbundle", 'keygen', '-o', $KEY);
sh("$BIN/pgbundle", 'build', $SRC, '-o', $B, '--key', "$KEY.key", '-q');
my @dbs = map { sprintf('fleet_%03d', $_) } 1 .. $NDB;
my $list = "$W/fleet-targets.txt";
spew($list, join('', map { "$_ dbname=$_\n" } @dbs));
spew("$W/fleet-dbs.txt", join("\n", @dbs) . "\n");
my $loop = 'for db in $(cat "$1"); do "$2" apply "$3" --pubkey "$4" -q '
    . '--db "dbname=$db" || exit 1; done';

my @WAYS = (
    { id => 'loop', name => "shell loop, one `pgapply apply` per database",
      cmd => ['sh', '-c', $loop, 'sh', "$W/fleet-dbs.txt", "$BIN/pgapply",
	  $B, "$KEY.pub"] },
    { id => 'j1', name => '`pgapply apply --targets LIST -j 1`',
      cmd => ["$BIN/pgapply", 'apply', $B, '--pubkey', "$KEY.pub", '-q',
	  '--targets', $list, '-j', '1'] },
    { id => 'j4', name => '`pgapply apply --targets LIST -j 4`',
      cmd => ["$BIN/pgapply", 'apply', $B, '--pubkey', "$KEY.pub", '-q',
	  '--targets', $list, '-j', '4'] },
);

sub fresh_dbs {
	psql_admin("DROP DATABASE IF EXISTS $_") for @dbs;
	psql_admin("CREATE DATABASE $_") for @dbs;
}

# Every database at the bundle's last version, each migration once.
sub check_applied {
	my ($id) = @_;
	my $want = `psql -X -At -d $dbs[0] -c "SELECT count(*) FROM pgbundle.history"`;
	chomp $want;
	for my $db (@dbs) {
		my $n = `psql -X -At -d $db -c "SELECT count(*) FROM pgbundle.history"`;
		chomp $n;
		die "bench-fleet: $id: $db has $n migrations, $dbs[0] $want\n"
		    if $n ne $want;
	}
	return $want;
}

# --- one apply alone, for its RSS ---------------------------------------------------
my (@single_rss, %res);
for my $r (1 .. $RUNS) {
	psql_admin('DROP DATABASE IF EXISTS fleet_single');
	psql_admin('CREATE DATABASE fleet_single');
	my ($ok, $ms, $kb) = timed(["$BIN/pgapply", 'apply', $B, '--pubkey',
	    "$KEY.pub", '-q', '--db', 'dbname=fleet_single']);
	die "bench-fleet: the single apply failed\n" unless $ok;
	push @single_rss, $kb;
}

# --- the runs, interleaved ---------------------------------------------------------
my $nmig;
for my $r (1 .. $RUNS) {
	for my $w (@WAYS) {
		fresh_dbs();
		my ($ok, $ms, $kb, $pss, $l0, $l1, $log) = timed($w->{cmd});
		die "bench-fleet: $w->{id} failed:\n" . substr($log, -2000)
		    unless $ok;
		$nmig = check_applied($w->{id});
		my $R = $res{$w->{id}} //= {};
		push @{ $R->{ms} }, $ms;
		push @{ $R->{rss} }, $kb;
		push @{ $R->{pss} }, $pss;
		push @{ $R->{load} }, $l0, $l1;
		say_(sprintf('run %d %-5s %8.0f ms  rss %6d kB  pss %6d kB  '
		    . 'load %s-%s', $r, $w->{id}, $ms, $kb, $pss, $l0, $l1));
	}
}
# The bundle opens, on databases already up to date (the count does not
# depend on what there is to do).
$res{$_->{id}}{opens} = bundle_opens($_->{cmd}) for @WAYS;

# --- report ---------------------------------------------------------------------------
my $single = stats(@single_rss);
my @md;
push @md, sprintf('%d databases on one local PostgreSQL %s (fsync, '
    . 'synchronous_commit and full_page_writes on), TCP 127.0.0.1; the '
    . 'bundle: %s (%d migrations); %d interleaved runs per way, fresh '
    . 'databases each run; %s, %s cores.', $NDB,
    `psql -XAt -d postgres -c 'show server_version'` =~ s/\s+$//r,
    $SRC eq "$ROOT/migrations" ? 'migrations/' : $SRC, $nmig, $RUNS,
    `uname -srm` =~ s/\s+$//r, `nproc` =~ s/\s+$//r);
push @md, '', '| way | wall ms, median (min–max) | × loop, run by run: '
    . 'median (min–max) | bundle opened (verified) | peak RSS, largest '
    . 'process, MB | peak PSS, whole tree, MB | load average during the '
    . 'runs |', '|---|---|---|---|---|---|---|';
for my $w (@WAYS) {
	my $R = $res{$w->{id}};
	my $s = stats(@{ $R->{ms} });
	my $l = stats(@{ $R->{load} });
	# Each run against the loop's run of the same round, which met
	# about the same neighbours.
	my $x = stats(map { $R->{ms}[$_] / $res{loop}{ms}[$_] }
	    0 .. $#{ $R->{ms} });
	push @md, sprintf('| %s | %s | %.2f (%.2f–%.2f) | %s | %.1f | %.1f | '
	    . '%.1f–%.1f |', $w->{name}, f0($s), $x->{med}, $x->{min}, $x->{max},
	    $R->{opens} // '?',
	    stats(@{ $R->{rss} })->{max} / 1024,
	    stats(@{ $R->{pss} })->{max} / 1024, $l->{min}, $l->{max});
}
push @md, '', sprintf('A single `pgapply apply` of the same bundle to one '
    . 'database: peak RSS %.1f MB (largest of %d runs). The fleet run\'s '
    . 'largest process (-j 4): %.1f MB, %+.1f MB over it.', $single->{max}
    / 1024, $RUNS, stats(@{ $res{j4}{rss} })->{max} / 1024,
    (stats(@{ $res{j4}{rss} })->{max} - $single->{max}) / 1024);
my $md = join("\n", @md) . "\n";
spew("$W/fleet-results.md", $md);
print $md;
