#!/usr/bin/perl
# run.pl - run cmocka unit binaries and end-to-end TAP scripts under one
# harness; the last line is "N passed, N failed" counting test cases.
use strict;
use warnings;
use TAP::Harness;

$ENV{CMOCKA_MESSAGE_OUTPUT} = 'TAP';
my $harness = TAP::Harness->new({
	verbosity => $ENV{TEST_VERBOSE} ? 1 : 0,
	lib => ['tests/lib'],
	exec => sub {
		my ($h, $file) = @_;
		return $file =~ /\.pl$/ ? [$^X, '-Itests/lib', $file] : [$file];
	},
});
my $agg = $harness->runtests(@ARGV);
my ($pass, $fail) = (0, 0);
for my $p ($agg->parsers) {
	$pass += scalar $p->passed;
	$fail += scalar $p->failed;
	$fail += 1 if $p->has_problems && !$p->failed;
}
print "$pass passed, $fail failed\n";
exit($agg->all_passed ? 0 : 1);
