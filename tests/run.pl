#!/usr/bin/perl
# run.pl - run cmocka unit binaries and end-to-end TAP scripts under one
# harness; the last line is "N passed, N failed" counting test cases.
#
# JOBS=N runs N test files at once (default: the number of cores).  Each
# end-to-end file starts its own PostgreSQL cluster on a free port in a
# temporary directory of its own, so files never share a server.  The
# longest files start first, so that they do not end up running alone at
# the end.
use strict;
use warnings;
use TAP::Harness;

sub cores {
	my $n = 0;
	if (open(my $fh, '<', '/proc/cpuinfo')) {
		$n = grep { /^processor\s*:/ } <$fh>;
		close($fh);
	}
	return $n > 0 ? $n : 1;
}

# The files that take longest here (docs/RELIABILITY.md has the times):
# started first.  Any other order would give the same results.
my @slow = qw(052_hung_server 055_history_trust 050_faults 054_copy_loops
    064_image 068_result_fuzz 057_archive_differential 053_hostile_more
    030_verify 066_setup);
my %rank = map { $slow[$_] => $_ + 1 } 0 .. $#slow;
sub rank {
	my ($f) = $_[0] =~ m{([^/]+)\.pl$};
	return defined $f && $rank{$f} ? $rank{$f} : @slow + 1;
}

my $jobs = $ENV{JOBS} && $ENV{JOBS} =~ /^[1-9][0-9]*$/ ? $ENV{JOBS} : cores();
my @files = sort { rank($a) <=> rank($b) } @ARGV;

$ENV{CMOCKA_MESSAGE_OUTPUT} = 'TAP';
my $harness = TAP::Harness->new({
	verbosity => $ENV{TEST_VERBOSE} ? 1 : 0,
	lib => ['tests/lib'],
	jobs => $jobs,
	exec => sub {
		my ($h, $file) = @_;
		return $file =~ /\.pl$/ ? [$^X, '-Itests/lib', $file] : [$file];
	},
});
my $agg = $harness->runtests(@files);
my ($pass, $fail) = (0, 0);
for my $p ($agg->parsers) {
	$pass += scalar $p->passed;
	$fail += scalar $p->failed;
	$fail += 1 if $p->has_problems && !$p->failed;
}
print "$pass passed, $fail failed\n";
exit($agg->all_passed ? 0 : 1);
