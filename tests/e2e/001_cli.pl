#!/usr/bin/perl
# 001_cli.pl - both programs: --help on stdout with exit 0, --version, and
# a bad option or command as a usage line on stderr with exit 2.
use strict;
use warnings;

use Test::More;
use PgbTest;

for my $prog (qw(pgbundle pgapply)) {
	my $bin = PgbTest::bin($prog);
	my ($code, $out, $err) = PgbTest::run($bin, '--help');
	is($code, 0, "$prog --help exits 0");
	like($out, qr/^usage: $prog /m, "$prog --help prints usage on stdout");
	is($err, '', "$prog --help writes nothing to stderr");
	ok(!grep({ length > 79 } split /\n/, $out),
	    "$prog --help lines stay under 80 columns");

	($code, $out) = PgbTest::run($bin, '--version');
	is($code, 0, "$prog --version exits 0");
	like($out, qr/^$prog \d+\.\d+\.\d+$/m, "$prog --version prints it");

	($code, $out, $err) = PgbTest::run($bin, 'apply', '--no-such-option');
	is($code, 2, "$prog: bad option exits 2");
	like($err, qr/^usage: $prog /m, "$prog: bad option prints usage");
	is($out, '', "$prog: bad option prints nothing on stdout");

	($code, undef, $err) = PgbTest::run($bin, 'frobnicate');
	is($code, 2, "$prog: unknown command exits 2");
	like($err, qr/unknown command 'frobnicate'/, "$prog: names the command");

	($code, undef, $err) = PgbTest::run($bin);
	is($code, 2, "$prog: no arguments exits 2");
}

# The man pages' synopses match the usage text.
for my $prog (qw(pgbundle pgapply)) {
	my $dir = $prog eq 'pgbundle' ? 'compiler' : 'runtime';
	my $man = PgbTest::read_file(PgbTest::root() . "/$dir/$prog.1");
	like($man, qr/^\.Dt \U$prog\E 1$/m, "$prog.1 is an mdoc page");
	my (undef, $out) = PgbTest::run(PgbTest::bin($prog), '--help');
	my @cmds = $out =~ /^(?:usage:|      ) $prog (\w+)/mg;
	for my $c (@cmds) {
		like($man, qr/^\.Cm $c$/m, "$prog.1 SYNOPSIS lists '$c'");
	}
}

done_testing();
