#!/usr/bin/perl
# run.pl - `make bench`: pgapply against psql and the peers, side by side,
# on one throwaway PostgreSQL with default durability, then on a primary
# with a local synchronous standby.
#
#   perl bench/run.pl            full run (long: N = 100, 1000, 5000, 100 MB)
#   BENCH_QUICK=1 perl bench/run.pl     N = 100 and 1000, 20 MB, 3 runs
#
# Environment: BENCH_DIR (work folder, default /tmp/pgbundle-bench),
# BENCH_PORT (default 55491; the standby takes the next one), BENCH_RUNS,
# BENCH_TOOLS (comma list to run a subset), BENCH_SETS (e.g. 100,nodata,
# nosync; 10000 too if wanted), BENCH_SYNC_N (the N run against the
# synchronous standby, default 1000), BENCH_PEERS_MAX_N (largest N the
# peers get, default 1000).
#
# Every timed run gets a fresh database; runs are interleaved across tools
# (run 1 of every tool, then run 2, ...) so that a noisy neighbour hits
# them all alike, and each tool's run is also divided by psql (b)'s run of
# the same round: the median of those paired ratios is the figure least
# moved by the machine's load, which is recorded at every run (the no-op
# likewise, against psql's no-op of the same round).  Figures are medians
# with min and max.  A last table sets each target of issue 18 against
# its figure: the static pgapply (what the image ships) paired with psql
# (b) and (a), with and without --sync-each, on the plain server and with
# the synchronous standby; the no-op; verify CPU of the 1000-migration
# bundle; server CPU per migration.  After its first run each tool's schema
# (pg_dump --schema-only, less the tool's own history table) is compared
# with psql's.  Results: BENCH_DIR/results.md; the markdown is printed at
# the end.
use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use POSIX qw(floor);
use Time::HiRes qw(time);

my $ROOT = abs_path(dirname(abs_path($0)) . '/..');
my $QUICK = $ENV{BENCH_QUICK} ? 1 : 0;
my $W = $ENV{BENCH_DIR} // '/tmp/pgbundle-bench';
my $PORT = $ENV{BENCH_PORT} // 55491;
my $RUNS = $ENV{BENCH_RUNS} // ($QUICK ? 3 : 5);
my $PEERS_MAX_N = $ENV{BENCH_PEERS_MAX_N} // 1000;
my @SETS = $QUICK ? (100, 1000) : (100, 1000, 5000);
@SETS = split /,/, $ENV{BENCH_SETS} if $ENV{BENCH_SETS};
my $DATA = !grep { $_ eq 'nodata' } @SETS;
my $SYNC = !grep { $_ eq 'nosync' } @SETS;
my $SYNC_N = $ENV{BENCH_SYNC_N} // 1000;
@SETS = grep { /^\d+$/ } @SETS;
my $DATA_MB = $QUICK ? 20 : 100;
my $NPM = "$W/npm";
my $NM = "$NPM/node_modules";
my $PG = "$W/pg";
my $BIN = "$ROOT/bin";
my %only = map { $_ => 1 } split /,/, ($ENV{BENCH_TOOLS} // '');

$ENV{PGHOST} = '127.0.0.1';
$ENV{PGPORT} = $PORT;
$ENV{PGUSER} = 'postgres';
delete @ENV{qw(PGDATABASE PGPASSWORD PGSERVICE DATABASE_URL PGAPPLY_PUBKEY)};
$ENV{LIQUIBASE_ANALYTICS_ENABLED} = 'false';
$ENV{LIQUIBASE_SHOW_BANNER} = 'false';
$ENV{SQITCH_FULLNAME} = 'Bench';
$ENV{SQITCH_EMAIL} = 'bench@example.com';
$ENV{NODE_PATH} = $NM;

sub say_ { print STDERR "bench: @_\n" }

# The 1-minute load average now.
sub load { return (split ' ', slurp('/proc/loadavg'))[0] // 0 }

sub sh {
	my (@cmd) = @_;
	system(@cmd) == 0 or die "bench: '@cmd' failed\n";
}

sub slurp {
	my ($p) = @_;
	open(my $fh, '<', $p) or return '';
	local $/;
	return scalar <$fh>;
}

sub psql_admin {
	my ($sql) = @_;
	system('psql', '-X', '-q', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1',
	    '-c', $sql) == 0 or die "bench: psql: $sql\n";
}

sub url { return "postgres://postgres\@127.0.0.1:$PORT/$_[0]" }

# CPU ms of one run of 'cmd' from perf stat's task-clock when perf works
# (time(1) counts in 10 ms steps), else from time(1); undef if it failed.
my $PERF = system('perf stat -x, -e task-clock -o /dev/null true >/dev/null 2>&1') == 0;
sub cpu_ms {
	my ($cmd) = @_;
	my ($ok, $ms, $kb, $log, $cpu);
	return ((timed($cmd))[0, 4]) unless $PERF;
	($ok) = timed(['perf', 'stat', '-x,', '-e', 'task-clock,page-faults', '-o',
	    "$W/perf.txt", '--', @$cmd]);
	($cpu) = slurp("$W/perf.txt") =~ /^([\d.]+),msec,task-clock/m;
	my ($pf) = slurp("$W/perf.txt") =~ /^(\d+),,page-faults/m;
	return ($ok, $cpu, $pf);
}

# CPU ms the server has used so far: the postmaster with its reaped
# children (backends that exited) and the children alive now.  The
# difference over a run is the server's work for it, which a loaded
# machine stretches less than wall time.
sub server_cpu {
	my ($pm) = split /\n/, slurp("$PG/data/postmaster.pid");
	my $ticks = 0;
	return 0 unless $pm;
	for my $st (glob('/proc/[0-9]*/stat')) {
		my $t = slurp($st) or next;
		$t =~ s/^.*\) //s;
		my @f = split / /, $t;	# fields from 3 (state) on
		my ($pid) = $st =~ m{/proc/(\d+)/};
		if ($pid == $pm) {
			$ticks += $f[11] + $f[12] + $f[13] + $f[14];
		} elsif ($f[1] == $pm) {
			$ticks += $f[11] + $f[12];
		}
	}
	return $ticks * 10;	# USER_HZ is 100 on Linux
}

# Wait (up to 5 s) until the backends of 'db' have exited and been
# reaped, so that server_cpu() counts them.
sub backends_gone {
	my ($db) = @_;
	for (1 .. 100) {
		last if `psql -X -At -d postgres -c "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE datname = '$db'"` =~ /^0$/m;
		select(undef, undef, undef, 0.05);
	}
	select(undef, undef, undef, 0.02);
}

# Run 'cmd' (array ref) in 'cwd' with extra 'env'; wall ms, peak RSS kB.
sub timed {
	my ($cmd, %o) = @_;
	my $log = "$W/last.log";
	my $rss = "$W/rss.txt";
	my $t0 = time;
	my $pid = fork() // die "fork: $!";
	if ($pid == 0) {
		chdir $o{cwd} if $o{cwd};
		$ENV{$_} = $o{env}{$_} for keys %{$o{env} // {}};
		open(STDOUT, '>', $log);
		open(STDERR, '>&', \*STDOUT);
		exec('/usr/bin/time', '-f', '%M %U %S', '-o', $rss, @$cmd) or exit 127;
	}
	waitpid($pid, 0);
	my $ms = (time - $t0) * 1000;
	my $ok = $? == 0;
	my ($kb, $u, $s) = slurp($rss) =~ /(\d+) ([\d.]+) ([\d.]+)\s*$/;
	return ($ok, $ms, $kb // 0, slurp($log), (($u // 0) + ($s // 0)) * 1000);
}

sub stats {
	my @v = sort { $a <=> $b } @_;
	return undef unless @v;
	my $med = @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
	return { med => $med, min => $v[0], max => $v[-1], n => scalar @v };
}

sub ver {
	my ($cmd) = @_;
	my $v = `$cmd 2>&1`;
	$v =~ s/\s+$//;
	($v) = split /\n/, $v;
	return $v // '?';
}

# --- the tools --------------------------------------------------------
# layout: gen.pl layout; apply(DIR, DB): command; noop: run apply again;
# version: the cold-start command; exclude: pg_dump options that drop the
# tool's own bookkeeping; maxn: largest N it gets.
my $KEY = "$W/bench";
my %bundle;	# N => bundle path
my @TOOLS = (
    { name => 'psql -1 (a)', id => 'psql-a', layout => 'psql-a', maxn => 1e9,
      sync => 1,
      apply => sub { ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-1',
	  '-d', $_[1], '-f', "$_[0]/all.sql"] },
      version => ['psql', '--version'] },
    { name => 'psql per-migration tx (b)', id => 'psql-b', layout => 'psql-b',
      maxn => 1e9, exclude => ['-T', 'public.bench_history'], sync => 1,
      apply => sub { ['psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
	  '-d', $_[1], '-f', "$_[0]/all.sql"] },
      # psql's no-op: what (b) needs to find nothing to do, verifying
      # nothing: connect, read the history, exit.
      noop_cmd => sub { ['psql', '-X', '-q', '-A', '-t', '-o', '/dev/null',
	  '-d', $_[1], '-c', 'SELECT version FROM public.bench_history '
	  . 'ORDER BY version'] } },
    { name => 'pgapply', id => 'pgapply', layout => 'pgbundle', maxn => 1e9,
      noop => 1, exclude => ['-N', 'pgbundle'],
      apply => sub { ["$BIN/pgapply", 'apply', $bundle{$_[2]}, '--pubkey',
	  "$KEY.pub", '-q', '--db', "dbname=$_[1]"] },
      version => ["$BIN/pgapply", '--version'] },
    { name => 'pgapply (static)', id => 'pgapply-static', layout => 'pgbundle',
      maxn => 1e9, noop => 1, exclude => ['-N', 'pgbundle'], sync => 1,
      apply => sub { ["$W/pgapply-static", 'apply', $bundle{$_[2]}, '--pubkey',
	  "$KEY.pub", '-q', '--db', "dbname=$_[1]"] },
      version => ["$W/pgapply-static", '--version'] },
    { name => 'pgapply --sync-each (static)', id => 'pgapply-sync',
      layout => 'pgbundle', maxn => 1e9, exclude => ['-N', 'pgbundle'],
      sync => 1,
      apply => sub { ["$W/pgapply-static", 'apply', $bundle{$_[2]}, '--pubkey',
	  "$KEY.pub", '-q', '--db', "dbname=$_[1]", '--sync-each'] } },
    { name => 'dbmate', id => 'dbmate', layout => 'dbmate', noop => 1,
      exclude => ['-T', 'public.schema_migrations'],
      apply => sub { ["$NM/.bin/dbmate", '--url', url($_[1]) . '?sslmode=disable',
	  '--migrations-dir', "$_[0]/db/migrations", '--no-dump-schema',
	  'migrate'] },
      version => ["$NM/.bin/dbmate", '--version'] },
    { name => 'sql-migrate', id => 'sql-migrate', layout => 'sql-migrate',
      noop => 1, exclude => ['-T', 'public.gorp_migrations'],
      apply => sub { ['sql-migrate', 'up', '-env=bench',
	  "-config=$_[0]/dbconfig.yml"] },
      env => sub { { BENCH_DSN => "host=127.0.0.1 port=$PORT user=postgres "
	  . "dbname=$_[1] sslmode=disable" } }, cwd => 1,
      version => ['sql-migrate', '--version'] },
    { name => 'Sqitch', id => 'sqitch', layout => 'sqitch', noop => 1, slow => 1,
      exclude => ['-N', 'sqitch'], cwd => 1,
      apply => sub { ['sqitch', 'deploy', "db:pg://postgres\@127.0.0.1:$PORT/$_[1]"] },
      version => ['sqitch', '--version'] },
    { name => 'Liquibase', id => 'liquibase', layout => 'liquibase', slow => 1,
      noop => 1, cwd => 1, exclude => ['-T', 'public.databasechangelog*'],
      apply => sub { ["$NM/liquibase/dist/liquibase/liquibase",
	  '--changelog-file=changelog.sql', '--url=jdbc:postgresql://127.0.0.1:'
	  . "$PORT/$_[1]", '--username=postgres', 'update'] },
      version => ["$NM/liquibase/dist/liquibase/liquibase", '--version'],
      version_runs => 3 },
    { name => 'node-pg-migrate', id => 'node-pg-migrate',
      layout => 'node-pg-migrate', noop => 1,
      exclude => ['-T', 'public.pgmigrations*'],
      apply => sub { ["$NM/.bin/node-pg-migrate", 'up', '-m',
	  "$_[0]/migrations", '--no-single-transaction', '--no-check-order'] },
      env => sub { { DATABASE_URL => url($_[1]) } },
      version => ["$NM/.bin/node-pg-migrate", '--version'] },
    { name => 'postgres-migrations', id => 'postgres-migrations',
      layout => 'postgres-migrations', noop => 1,
      exclude => ['-T', 'public.migrations'],
      apply => sub { ['node', "$ROOT/bench/pgmig.js", "$_[0]/migrations"] },
      env => sub { { PGDATABASE => $_[1] } },
      version => ['node', '-e', 'require("postgres-migrations")'] },
    { name => 'graphile-migrate', id => 'graphile-migrate',
      layout => 'graphile-migrate', noop => 1, cwd => 1,
      exclude => ['-N', 'graphile_migrate'],
      apply => sub { ["$NM/.bin/graphile-migrate", 'migrate'] },
      env => sub { { DATABASE_URL => url($_[1]) } },
      version => ["$NM/.bin/graphile-migrate", '--version'] },
    { name => 'Alembic', id => 'alembic', layout => 'alembic', noop => 1,
      exclude => ['-T', 'public.alembic_version'], cwd => 1,
      apply => sub { ['alembic', '-c', "$_[0]/alembic.ini", 'upgrade', 'head'] },
      env => sub { { BENCH_SQLALCHEMY_URL =>
	  "postgresql+psycopg2://postgres\@127.0.0.1:$PORT/$_[1]" } },
      version => ['alembic', '--version'] },
    { name => 'yoyo', id => 'yoyo', layout => 'yoyo', noop => 1,
      exclude => ['-T', 'public._yoyo*', '-T', 'public.yoyo_lock'],
      apply => sub { ['/usr/bin/python3', '-m', 'yoyo', 'apply', '--batch',
	  '--no-config-file', '--database', url($_[1]), $_[0]] },
      version => ['/usr/bin/python3', '-m', 'yoyo', '--help'] },
);
@TOOLS = grep { !%only || $only{$_->{id}} } @TOOLS;
$_->{maxn} //= $PEERS_MAX_N for @TOOLS;

# --- setup ------------------------------------------------------------
make_path($W);
# The peers are installed only when some of them are to run.
sh('sh', "$ROOT/bench/peers.sh", $NPM)
    if grep { $_->{id} !~ /^(psql-[ab]|pgapply.*)$/ } @TOOLS;
sh('make', '-s', '-C', $ROOT, 'all');
if (-d $PG) {
	system('sh', "$ROOT/scripts/pgserver.sh", 'stop', $PG);
	remove_tree($PG);
}
{
	local $ENV{PGSERVER_DURABLE} = 1;
	sh('sh', "$ROOT/scripts/pgserver.sh", 'start', $PG, $PORT);
	# psql -1 of 10,000 migrations holds a lock per object it created.
	psql_admin('ALTER SYSTEM SET max_locks_per_transaction = 4096');
	sh('sh', "$ROOT/scripts/pgserver.sh", 'stop', $PG);
	sh('sh', "$ROOT/scripts/pgserver.sh", 'start', $PG, $PORT);
}
END {
	system('sh', "$ROOT/scripts/pgserver.sh", 'stop', $PG) if $PG && -d $PG;
}
# Interrupted: the END blocks still stop the servers.
$SIG{INT} = $SIG{TERM} = sub { exit 1 };
unlink("$KEY.key", "$KEY.pub", "$W/pgapply-static");
# `make static` builds bin/pgapply-static; measured too when it is there
# (or BENCH_STATIC names one).  A copy, so a rebuild cannot change it mid-run.
{
	my $st = $ENV{BENCH_STATIC} // "$BIN/pgapply-static";
	sh('cp', $st, "$W/pgapply-static") if -x $st;
}
sh("$BIN/pgbundle", 'keygen', '-o', $KEY);

my (%res, %versions, %schema_ref, @notes);
my %unavailable;
for my $t (@TOOLS) {
	my $exe = $t->{apply}->('/x', 'x', 0)->[0];
	if ($exe =~ m{/} ? !-x $exe : system("command -v $exe >/dev/null") != 0) {
		$unavailable{$t->{id}} = "'$exe' is not installed";
		next;
	}
	my $vc = $t->{version} // ['psql', '--version'];
	$versions{$t->{id}} = $t->{id} eq 'postgres-migrations' ?
	    'postgres-migrations ' . ver("node -p \"require('$NM/postgres-migrations/package.json').version\"") :
	    $t->{id} eq 'yoyo' ? 'yoyo ' . ver("/usr/bin/python3 -c 'import yoyo; print(yoyo.__version__)'") :
	    $t->{id} eq 'liquibase' ? ver("cd $W && '$NM/liquibase/dist/liquibase/liquibase' --version 2>&1 | grep -i 'Liquibase Version'") :
	    $t->{id} eq 'sql-migrate' ? 'sql-migrate ' . ver("dpkg-query -W -f='\${Version}' sql-migrate") :
	    ver(join(' ', map { "'$_'" } @$vc));
}

sub gen {
	my ($set, $layout) = @_;
	my $dir = "$W/sets/$set/$layout";
	return $dir if -e "$dir/.done";
	remove_tree($dir);
	sh('perl', "$ROOT/bench/gen.pl", '--set', $set, '--data-mb', $DATA_MB,
	    '--layout', $layout, '--out', $dir);
	if ($layout eq 'graphile-migrate') {
		open(my $fh, '>', "$dir/.gmrc") or die;
		print $fh "{ \"migrationsFolder\": \"./migrations\" }\n";
		close $fh;
	}
	open(my $fh, '>', "$dir/.done") or die;
	close $fh;
	return $dir;
}

sub dump_schema {
	my ($db, $t) = @_;
	my $out = `pg_dump --schema-only --no-owner --no-privileges -d $db @{[map { "'$_'" } @{$t->{exclude} // []}]} 2>&1`;
	$out =~ s/^\\(un)?restrict .*\n//mg;
	$out =~ s/^--.*\n//mg;
	$out =~ s/\n{2,}/\n/g;
	return $out;
}

my $dbseq = 0;
sub fresh_db {
	my $db = 'bench_' . ++$dbseq;
	psql_admin("DROP DATABASE IF EXISTS $db");
	psql_admin("CREATE DATABASE $db");
	return $db;
}

sub drop_db { psql_admin("DROP DATABASE IF EXISTS $_[0] WITH (FORCE)") }

# One set: every tool, $runs interleaved runs; results under $res{$key}.
sub bench_set {
	my ($set, $runs, $key, @tools) = @_;
	my %dir;
	for my $t (@tools) {
		$dir{$t->{id}} = gen($set, $t->{layout});
	}
	for my $r (1 .. $runs) {
		for my $t (@tools) {
			my $id = $t->{id};
			# Sqitch (a psql per migration) and Liquibase (a JVM) take
			# minutes from N = 1000 on: one run there.
			next if $t->{slow} && $r > 1 && $set ne 'data' && $set >= 1000;
			my $R = $res{$key}{$id} //= { apply => [], noop => [], rss => [],
			    cpu => [], scpu => [], load => [], round => [],
			    nround => [] };
			next if $R->{failed};
			my $db = fresh_db();
			my $d = $dir{$id};
			my %o = (cwd => $t->{cwd} ? $d : undef,
			    env => $t->{env} ? $t->{env}->($d, $db) : {});
			my $cmd = $t->{apply}->($d, $db, $set);
			push @{$R->{load}}, load();
			my $s0 = server_cpu();
			my ($ok, $ms, $kb, $log, $cpu) = timed($cmd, %o);
			backends_gone($db);
			my $scpu = server_cpu() - $s0;
			if (!$ok) {
				$R->{failed} = (split /\n/, $log)[-1] // 'failed';
				$log =~ s/^/    /mg;
				say_("$id failed on set $set:\n" . substr($log, -2000));
				drop_db($db);
				next;
			}
			push @{$R->{apply}}, $ms;
			push @{$R->{round}}, $r;
			push @{$R->{rss}}, $kb;
			push @{$R->{cpu}}, $cpu;
			push @{$R->{scpu}}, $scpu;
			if ($t->{noop} || $t->{noop_cmd}) {
				my ($ok2, $ms2) = timed($t->{noop_cmd} ?
				    $t->{noop_cmd}->($d, $db) : $cmd, %o);
				push @{$R->{noop}}, $ms2 if $ok2;
				push @{$R->{nround}}, $r if $ok2;
			}
			if ($r == 1) {
				my $s = dump_schema($db, $t);
				if ($id =~ /^psql-[ab]$/ && !defined $schema_ref{$set}) {
					# psql -1 (a), or (b) when (a) failed.
					$schema_ref{$set} = $s;
					open(my $fh, '>', "$W/schema-$set-ref.sql");
					print $fh $s;
					close $fh;
				}
				$R->{schema} = !defined $schema_ref{$set} ? '?' :
				    $s eq $schema_ref{$set} ? 'same' : 'DIFFERS';
				if ($R->{schema} eq 'DIFFERS') {
					open(my $fh, '>', "$W/schema-$set-$id.sql");
					print $fh $s;
					close $fh;
				}
			}
			drop_db($db);
			say_(sprintf('%s run %d %-20s %8.0f ms (load %s)', $key, $r,
			    $id, $ms, $R->{load}[-1]));
		}
	}
}

# --- apply and no-op ----------------------------------------------------
for my $set (@SETS) {
	my @t = grep { !$unavailable{$_->{id}} && $set <= $_->{maxn} } @TOOLS;
	my $runs = $set >= 10000 ? ($ENV{BENCH_RUNS_10K} // ($QUICK ? 1 : 3)) : $RUNS;
	# pgbundle's compiler: build the bundle (timed) before applying it.
	if (grep { $_->{id} =~ /^pgapply/ } @t) {
		my $src = gen($set, 'pgbundle');
		my $b = "$W/bundle-$set.pgb";
		my (@ms, @cpu);
		for (1 .. 5) {
			my @c = ("$BIN/pgbundle", 'build', $src, '-o', $b, '--key',
			    "$KEY.key", '-q');
			my ($ok, $ms) = timed(\@c);
			die "bench: pgbundle build $src failed\n" unless $ok;
			push @ms, $ms;
			push @cpu, (cpu_ms(\@c))[1];
		}
		$bundle{$set} = $b;
		$res{compile}{$set} = { ms => stats(@ms), cpu => stats(@cpu),
		    size => -s $b, src => dir_size($src) };
	}
	bench_set($set, $runs, $set, @t);
	report();
}

sub dir_size {
	my ($d) = @_;
	my $n = 0;
	opendir(my $dh, $d) or return 0;
	$n += -s "$d/$_" for grep { /\.sql$/ } readdir $dh;
	return $n;
}

# --- the data-heavy set: COPY throughput -------------------------------
if ($DATA) {
	my @t = grep { $_->{id} =~ /^(psql-a|psql-b|pgapply|pgapply-static)$/ &&
	    !$unavailable{$_->{id}} } @TOOLS;
	my $src = gen('data', 'pgbundle');
	my $b = "$W/bundle-data.pgb";
	my @c = ("$BIN/pgbundle", 'build', $src, '-o', $b, '--key', "$KEY.key", '-q');
	my ($ok, $ms) = timed(\@c);
	die "bench: pgbundle build data failed\n" unless $ok;
	my $cpu = (cpu_ms(\@c))[1];
	$bundle{data} = $b;
	$res{compile}{data} = { ms => stats($ms), cpu => stats($cpu),
	    size => -s $b, src => dir_size($src) };
	bench_set('data', $QUICK ? 3 : 3, 'data', @t) if @t;
}

# --- a primary with a local synchronous standby ----------------------------
# What an HA production cluster does at every commit that waits: wait for
# the standby to have flushed it.  The standby is a pg_basebackup -R of
# the bench's server on the next port, started here and stopped at the end.
my $STANDBY = "$W/standby";
sub as_pg {
	my (@cmd) = @_;
	unshift @cmd, 'runuser', '-u', 'postgres', '--' if $> == 0;
	return system(@cmd) == 0;
}
sub standby_stop {
	return unless -d "$STANDBY/data";
	# First the primary stops waiting, then the standby goes.
	system('psql', '-X', '-q', '-d', 'postgres', '-c',
	    'ALTER SYSTEM RESET synchronous_standby_names', '-c',
	    'SELECT pg_reload_conf()');
	system('sh', "$ROOT/scripts/pgserver.sh", 'stop', $STANDBY);
	remove_tree($STANDBY);
}
END { standby_stop() }
if ($SYNC && grep { $_ == $SYNC_N } @SETS) {
	my $bin = (split /\n/, `pg_config --bindir 2>/dev/null`)[0] //
	    '/usr/lib/postgresql/15/bin';
	$bin = '/usr/lib/postgresql/15/bin' unless -x "$bin/pg_basebackup";
	standby_stop();
	make_path($STANDBY);
	system('chown', 'postgres:', $STANDBY) if $> == 0;
	as_pg("$bin/pg_basebackup", '-D', "$STANDBY/data", '-R', '-X', 'stream',
	    '-h', '127.0.0.1', '-p', $PORT, '-U', 'postgres', '-c', 'fast')
	    or die "bench: pg_basebackup failed\n";
	sh('sh', "$ROOT/scripts/pgserver.sh", 'start', $STANDBY, $PORT + 1);
	psql_admin("ALTER SYSTEM SET synchronous_standby_names = '*'");
	psql_admin('SELECT pg_reload_conf()');
	my $ok;
	for (1 .. 600) {
		$ok = `psql -X -At -d postgres -c "SELECT count(*) FROM pg_catalog.pg_stat_replication WHERE sync_state = 'sync' AND state = 'streaming'"` =~ /^1$/m and last;
		select(undef, undef, undef, 0.1);
	}
	die "bench: the standby did not become synchronous\n" unless $ok;
	$res{sync_setup} = 'pg_basebackup -R of the primary on port '
	    . ($PORT + 1) . ", synchronous_standby_names = '*', sync_state "
	    . 'sync, both on this machine';
	my @t = grep { $_->{sync} && !$unavailable{$_->{id}} } @TOOLS;
	bench_set($SYNC_N, $RUNS, "$SYNC_N-sync", @t);
	standby_stop();
	report();
}

# --- verify and check throughput, cold start -----------------------------
# The floor for verify: gzip(1) decompressing the same file, no more.
for my $set (grep { defined $bundle{$_} } (@SETS, 'data')) {
	my (@v, @vs, @g, @c, @pf, $ok, $ms, $cpu);
	my $n = $set ne 'data' && $set <= 1000 ? 20 : 5;
	for (1 .. $n) {
		($ok, $cpu) = cpu_ms(["$BIN/pgapply", 'verify', $bundle{$set},
		    '--pubkey', "$KEY.pub", '-q']);
		push @v, $cpu if $ok;
		if (-x "$W/pgapply-static") {
			($ok, $cpu, my $pf) = cpu_ms(["$W/pgapply-static",
			    'verify', $bundle{$set}, '--pubkey', "$KEY.pub",
			    '-q']);
			push @vs, $cpu if $ok;
			push @pf, $pf if $ok && defined $pf;
		}
		($ok, $cpu) = cpu_ms(['sh', '-c', 'exec gzip -dc < "$1" > /dev/null',
		    'sh', $bundle{$set}]);
		push @g, $cpu if $ok;
		($ok, $cpu) = cpu_ms(["$BIN/pgbundle", 'check',
		    "$W/sets/$set/pgbundle", '-q']);
		push @c, $cpu if $ok;
	}
	$res{verify}{$set} = stats(@v);
	$res{verify_static}{$set} = stats(@vs);
	$res{verify_faults}{$set} = stats(@pf);
	$res{verify_load}{$set} = load();
	# Instructions do not depend on the load: callgrind counts them.
	if (-x "$W/pgapply-static" && $set ne 'data' && $set <= 1000 &&
	    system('valgrind --version >/dev/null 2>&1') == 0) {
		my $o = `valgrind --tool=callgrind --callgrind-out-file=/dev/null '$W/pgapply-static' verify '$bundle{$set}' --pubkey '$KEY.pub' -q 2>&1`;
		($res{verify_instr}{$set}) = $o =~ /refs:\s+([\d,]+)/;
	}
	$res{gunzip}{$set} = stats(@g);
	$res{check}{$set} = stats(@c);
}
for my $t (grep { !$unavailable{$_->{id}} && $_->{version} } @TOOLS) {
	my @ms;
	my $n = $t->{version_runs} // ($QUICK ? 10 : 30);
	for (1 .. $n) {
		my ($ok, $ms) = timed($t->{version}, cwd => $W);
		push @ms, $ms if $ok;
	}
	$res{cold}{$t->{id}} = stats(@ms);
}
# /usr/bin/time costs a fork and exec of its own: time pgapply --version
# bare too, with perl's own fork and exec.
for my $exe ("$BIN/pgapply", "$W/pgapply-static") {
	next unless -x $exe;
	my @ms;
	for (1 .. 100) {
		my $t0 = time;
		my $pid = fork() // die "fork: $!";
		if ($pid == 0) {
			open(STDOUT, '>', '/dev/null');
			exec($exe, '--version') or exit 127;
		}
		waitpid($pid, 0);
		push @ms, (time - $t0) * 1000;
	}
	$res{cold_bare}{$exe} = stats(@ms);
}

# --- report -------------------------------------------------------------
# The median of tool 'id's runs of 'what' (apply, noop) each divided by
# tool 'by's run of the same round in set 'set'; undef when either is
# missing.
sub paired {
	my ($set, $id, $by, $what) = @_;
	my ($R, $B) = ($res{$set}{$id}, $res{$set}{$by});
	return undef unless $R && $B;
	my $rk = $what eq 'noop' ? 'nround' : 'round';
	my %b = map { ($B->{$rk}[$_] => $B->{$what}[$_]) } 0 .. $#{$B->{$what}};
	return stats(map { $b{$R->{$rk}[$_]} ? $R->{$what}[$_] / $b{$R->{$rk}[$_]} : () }
	    0 .. $#{$R->{$what}});
}

# Server CPU per migration, median, µs.
sub scpu_per {
	my ($set, $id) = @_;
	my $R = $res{$set}{$id} or return undef;
	my $n = $set =~ /^(\d+)/ ? $1 : 0;
	my $s = stats(@{$R->{scpu}});
	return $s && $n ? $s->{med} * 1000 / $n : undef;
}

sub fr { my ($s) = @_; return '–' unless $s; return sprintf('%.2f (%.2f–%.2f)', $s->{med}, $s->{min}, $s->{max}) }

# The targets of issue 18, each against its measured figure: the static
# pgapply (what the image ships), paired with psql's runs of the same round.
sub targets {
	my @md = ('### Targets', '',
	    '| target | measured (paired median, min–max) | met? |', '|---|---|---|');
	my $row = sub {
		my ($what, $s, $limit) = @_;
		push @md, sprintf('| %s | %s | %s |', $what, fr($s),
		    !$s ? '–' : $s->{med} <= $limit ? 'yes' : 'no');
	};
	for my $set (@SETS) {
		next unless $res{$set};
		$row->("N = $set: apply ≤ 0.95× (b), default", paired($set, 'pgapply-static', 'psql-b', 'apply'), 0.95);
		$row->("N = $set: apply ≤ 1.00× (b), `--sync-each`", paired($set, 'pgapply-sync', 'psql-b', 'apply'), 1.00);
		$row->("N = $set: moonshot, apply ≤ 1.05× (a) (psql -1)", paired($set, 'pgapply-static', 'psql-a', 'apply'), 1.05);
		my ($p, $b) = (scpu_per($set, 'pgapply-static'), scpu_per($set, 'psql-b'));
		push @md, sprintf('| N = %s: server CPU per migration ≤ (b)\'s | %s µs against %s µs | %s |', $set,
		    defined $p ? sprintf('%.0f', $p) : '–', defined $b ? sprintf('%.0f', $b) : '–',
		    defined $p && defined $b ? ($p <= $b ? 'yes' : 'no') : '–');
	}
	for my $set (grep { $res{"$_-sync"} } @SETS) {
		$row->("N = $set, synchronous standby: apply ≤ 0.70× (b)", paired("$set-sync", 'pgapply-static', 'psql-b', 'apply'), 0.70);
		$row->("N = $set, synchronous standby: `--sync-each` (no target)", paired("$set-sync", 'pgapply-sync', 'psql-b', 'apply'), 1e9);
	}
	$row->('no-op with 1000 applied ≤ 1.00× psql\'s no-op', paired(1000, 'pgapply-static', 'psql-b', 'noop'), 1.00)
	    if $res{1000};
	my $v = $res{verify_static}{1000};
	push @md, sprintf('| verify of the 1000-migration bundle ≤ 5 ms CPU (static, `perf stat` task-clock of the whole process) | %s ms, load %s | %s |',
	    $v ? sprintf('%.1f (%.1f–%.1f)', $v->{med}, $v->{min}, $v->{max}) : '–',
	    $res{verify_load}{1000} // '–', !$v ? '–' : $v->{med} <= 5 ? 'yes' : 'no') if $res{compile}{1000};
	return @md;
}

# Write what has been measured so far to results.md.
sub report {
	my @md;
	push @md, "Machine: " . ver("uname -srm") . ', ' . ver("nproc") . ' cores ('
	    . ver("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2") . '), '
	    . sprintf('%.0f', (ver("grep MemTotal /proc/meminfo") =~ /(\d+)/)[0] / 1048576) . ' GiB'
	    . ', PostgreSQL ' . ver("psql -XAtc 'show server_version' -d postgres")
	    . ', fsync ' . ver("psql -XAtc 'show fsync' -d postgres")
	    . ', synchronous_commit ' . ver("psql -XAtc 'show synchronous_commit' -d postgres")
	    . ", TCP 127.0.0.1, $RUNS runs" . ($QUICK ? ' (BENCH_QUICK=1)' : '');
	push @md, '';
	for my $set ((map { ($_, "$_-sync") } @SETS), 'data') {
		next unless $res{$set};
		my $B = $res{$set}{'psql-b'};
		my $b = $B && stats(@{$B->{apply}});
		push @md, $set eq 'data' ? "### Data-heavy set ($DATA_MB MB of COPY data)" :
		    $set =~ /^(\d+)-sync$/ ? "### N = $1, primary with a synchronous standby" :
		    "### N = $set";
		push @md, '', "$res{sync_setup}." if $set =~ /-sync$/ && $res{sync_setup};
		my $np = paired($set, 'pgapply-static', 'psql-b', 'noop');
		push @md, '', 'No-op (a second run finding nothing to do), static pgapply paired '
		    . "with psql's no-op of the same round: " . fr($np) . '.' if $np;
		push @md, '', 'Load average (1 min) during the runs: ' . f1(stats(map {
		    @{$_->{load}} } values %{$res{$set}})) . '.';
		push @md, '', '| tool | apply ms, median (min–max) | × (b) | paired × (b), median (min–max) | no-op ms | '
		    . 'client CPU ms | server CPU ms | server CPU µs per migration | CPU × (b) | peak RSS MB | schema |',
		    '|---|---|---|---|---|---|---|---|---|---|---|';
		my $bc = $B && stats(map { $B->{cpu}[$_] + $B->{scpu}[$_] } 0 .. $#{$B->{cpu}});
		my %bround = $B ? map { ($B->{round}[$_] => $B->{apply}[$_]) } 0 .. $#{$B->{apply}} : ();
		for my $t (@TOOLS) {
			my $R = $res{$set}{$t->{id}} or next;
			my $a = stats(@{$R->{apply}});
			my $rss = stats(@{$R->{rss}});
			my $tc = stats(map { $R->{cpu}[$_] + $R->{scpu}[$_] } 0 .. $#{$R->{cpu}});
			# Each run against (b)'s run of the same round.
			my $paired = stats(map { $bround{$R->{round}[$_]} ?
			    $R->{apply}[$_] / $bround{$R->{round}[$_]} : () } 0 .. $#{$R->{apply}});
			my $sc = stats(@{$R->{scpu}});
			my $n = $set =~ /^(\d+)/ ? $1 : 0;
			push @md, sprintf('| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |', $t->{name},
			    $R->{failed} && !$a ? "failed: $R->{failed}" : f($a),
			    $a && $b ? sprintf('%.2f', $a->{med} / $b->{med}) : '–',
			    $paired && $t->{id} ne 'psql-b' ? sprintf('%.2f (%.2f–%.2f)',
			    $paired->{med}, $paired->{min}, $paired->{max}) : '–',
			    f(stats(@{$R->{noop}})), f(stats(@{$R->{cpu}})),
			    f($sc), $sc && $n ? sprintf('%.0f', $sc->{med} * 1000 / $n) : '–',
			    $tc && $bc && $bc->{med} ? sprintf('%.2f', $tc->{med} / $bc->{med}) : '–',
			    $rss ? sprintf('%.1f', $rss->{max} / 1024) : '–',
			    $R->{schema} // '–');
		}
		if ($set eq 'data') {
			my $bytes = $res{compile}{data}{src};
			push @md, '', 'COPY throughput (source MB / apply s): ' . join(', ', map {
			    my $a = stats(@{$res{data}{$_}{apply} // []});
			    $a ? sprintf('%s %.1f MB/s', $_, rate($bytes, $a)) : ()
			} qw(psql-a psql-b pgapply pgapply-static));
		}
		push @md, '';
	}
	push @md, '### pgbundle: compile, verify, check (CPU time, user + sys, one core)', '',
	    '| set | sources MB | compile ms (wall) | compile CPU ms | bundle KB | verify CPU ms | verify MB/s (bundle) | verify MB/s (sources) | verify CPU ms (static) | static: page faults, M instructions (callgrind), load | `gzip -dc` CPU ms | verify ÷ `gzip -dc` | check CPU ms | check MB/s |',
	    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';
	for my $set (grep { $res{compile}{$_} } (@SETS, 'data')) {
		my $c = $res{compile}{$set};
		my $v = $res{verify}{$set};
		my $g = $res{gunzip}{$set};
		my $k = $res{check}{$set};
		my $ins = $res{verify_instr}{$set};
		$ins =~ tr/,//d if defined $ins;
		push @md, sprintf('| %s | %.1f | %s | %s | %.0f | %s | %.0f | %.0f | %s | %s, %s, %s | %s | %s | %s | %.0f |', $set,
		    $c->{src} / 1048576, f1($c->{ms}), f1($c->{cpu}), $c->{size} / 1024, f1($v),
		    rate($c->{size}, $v), rate($c->{src}, $v), f1($res{verify_static}{$set}),
		    $res{verify_faults}{$set} ? sprintf('%.0f', $res{verify_faults}{$set}{med}) : '–',
		    defined $ins ? sprintf('%.1f', $ins / 1e6) : '–',
		    $res{verify_load}{$set} // '–', f1($g), $v && $g && $g->{med} ? sprintf('%.2f', $v->{med} / $g->{med}) : '–',
		    f1($k), rate($c->{src}, $k));
	}
	push @md, '', '### Cold start (`--version`, through /usr/bin/time)', '',
	    '| tool | ms, median (min–max) | version |', '|---|---|---|';
	for my $t (@TOOLS) {
		# A second mode of a program already listed has no row.
		next if $unavailable{$t->{id}} || !$t->{version} && $t->{id} !~ /^psql-/;
		push @md, sprintf('| %s | %s | %s |', $t->{name}, f1($res{cold}{$t->{id}}),
		    $versions{$t->{id}} // '');
	}
	push @md, '', map { sprintf('%s --version, bare fork and exec, 100 runs: %s ms',
	    $_ =~ s{.*/}{}r, f1($res{cold_bare}{$_})) } sort keys %{$res{cold_bare} // {}};
	push @md, '', map { "Not run: $_: $unavailable{$_}" } sort keys %unavailable;
	push @md, '', targets();
	my $md = join("\n", @md) . "\n";
	open(my $fh, '>', "$W/results.md") or die;
	print $fh $md;
	close $fh;
}

# MB per second of 'bytes' in the median of 's' (ms); 0 when unknown.
sub rate {
	my ($bytes, $s) = @_;
	return $s && $s->{med} > 0 ? $bytes / 1048576 / ($s->{med} / 1000) : 0;
}

sub f { my ($s) = @_; return '–' unless $s; return sprintf('%.0f (%.0f–%.0f)', $s->{med}, $s->{min}, $s->{max}) }
sub f1 { my ($s) = @_; return '–' unless $s; return sprintf('%.1f (%.1f–%.1f)', $s->{med}, $s->{min}, $s->{max}) }

report();
print slurp("$W/results.md");

