#!/usr/bin/perl
# 002_layout.pl - the folders are the architecture, and the build enforces
# them (docs/ARCHITECTURE.md).  include/ holds only headers both programs
# use; a runtime file cannot include a compiler header, the compiler
# cannot include the runtime's private ones, and the compiler's pipeline
# cannot include a header of compiler/server/ (the tools that need a
# server).  Each header is compiled alone, as a file of each part would
# be, with the flags the Makefile gives that part ("make print-flags").
use strict;
use warnings;

use Test::More;
use PgbTest;

my $root = PgbTest::root();

# The folders of headers, and which of them each part of the tree reaches
# (the Makefile's RT_INC, CC_INC and SV_INC).
my @dirs = qw(include runtime compiler compiler/server);
my %reach = (
	RT => [qw(include runtime)],
	CC => [qw(include compiler)],
	SV => [qw(include compiler compiler/server)],
);
my %part_name = (RT => 'the runtime', CC => "the compiler's pipeline",
    SV => "the compiler's front end and server tools");

sub names_in {
	my ($dir, $ext) = @_;
	opendir(my $dh, "$root/$dir") or die "$dir: $!";
	my @n = sort grep { /\.\Q$ext\E$/ && -f "$root/$dir/$_" } readdir($dh);
	closedir($dh);
	return @n;
}

my %home;	# header name -> its folder
my %seen;
for my $dir (@dirs) {
	for my $h (names_in($dir, 'h')) {
		push @{ $seen{$h} }, $dir;
		$home{$h} = $dir;
	}
}
ok(scalar(keys %home) > 20, 'headers found in ' . join(', ', @dirs));

# One name, one header: else a part could reach another's header through
# a namesake in its own folder.
is(join(' ', map { "$_ (@{ $seen{$_} })" } grep { @{ $seen{$_} } > 1 }
    sort keys %seen), '', 'no two headers share a name');

# --- include/ holds only what both programs use ---------------------------
# A side uses a header when one of its files (sources and headers, any
# depth) includes it, or a shared header it uses does.
sub includes_of {
	my ($path) = @_;
	my %inc = map { $_ => 1 }
	    PgbTest::read_file($path) =~ /^\s*#\s*include\s+"([^"\/]+)"/mg;
	return keys %inc;
}

sub files_under {
	my ($dir) = @_;
	my @f;
	for my $e (@dirs) {
		next unless $e eq $dir || index($e, "$dir/") == 0;
		push @f, map { "$root/$e/$_" } names_in($e, 'c'), names_in($e, 'h');
	}
	return @f;
}

my %shared_inc = map { $_ => [includes_of("$root/include/$_")] }
    names_in('include', 'h');
for my $side (qw(compiler runtime)) {
	my %used = map { $_ => 1 } map { includes_of($_) } files_under($side);
	my $grew = 1;
	while ($grew) {
		$grew = 0;
		for my $h (grep { $used{$_} } keys %shared_inc) {
			for my $i (@{ $shared_inc{$h} }) {
				$grew = $used{$i} = 1 unless $used{$i};
			}
		}
	}
	my @unused = grep { !$used{$_} } sort keys %shared_inc;
	is("@unused", '', "every header in include/ is used by the $side"
	    . (@unused ? " (move these out of include/)" : ''));
}

# --- each part reaches its own headers and no others ----------------------
# A header builds in a part when it and every header it includes, at any
# depth, live in the part's folders: a header of the compiler's front end
# that includes a server tool's header is out of the pipeline's reach too.
my %deps = map { $_ => [grep { $home{$_} } includes_of("$root/$home{$_}/$_")] }
    keys %home;

sub closure {
	my ($h) = @_;
	my %seen = ($h => 1);
	my @todo = ($h);
	while (@todo) {
		for my $i (@{ $deps{ shift @todo } }) {
			push @todo, $i unless $seen{$i}++;
		}
	}
	return sort keys %seen;
}

my $tmp = PgbTest::tempdir();
for my $part (qw(RT CC SV)) {
	my ($code, $out, $err) = PgbTest::run({ cwd => $root,
	    env => { MAKEFLAGS => undef, MFLAGS => undef, MAKELEVEL => undef } },
	    'make', '-s', '--no-print-directory', 'print-flags', "PART=$part");
	chomp $out;
	is($code, 0, "make print-flags PART=$part") or diag($err);
	like($out, qr/ -Iinclude$/, "PART=$part: the flags name include/ last");
	my %ok = map { $_ => 1 } @{ $reach{$part} };
	for my $h (sort keys %home) {
		my @out = grep { !$ok{ $home{$_} } } closure($h);
		my $probe = PgbTest::write_file("$tmp/probe_$part.c",
		    "#include \"$h\"\n");
		my ($c, $o, $e) = PgbTest::run({ cwd => $root }, '/bin/sh', '-c',
		    "$out -fsyntax-only $probe");
		my $what = "$part_name{$part}: #include \"$h\" ($home{$h}/)";
		if (!@out) {
			ok($c == 0 && $e eq '', "$what builds")
			    or diag("exit $c: $e");
		} else {
			my $miss = join('|', map { quotemeta } @out);
			ok($c != 0 && $e =~ /fatal error: (?:$miss): No such file/,
			    "$what does not build (@out out of reach)")
			    or diag("exit $c: $e");
		}
	}
}

done_testing();
