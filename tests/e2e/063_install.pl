#!/usr/bin/perl
# 063_install.pl - "make install" honours PREFIX and DESTDIR: both programs
# (mode 0755) and both man pages (mode 0644) land under
# DESTDIR/PREFIX, nothing else does, the installed programs run, and
# "make uninstall" with the same variables removes them again.
use strict;
use warnings;

use File::Find qw(find);
use Test::More;
use PgbTest;
use Pgb;

my $root = PgbTest::root();
my ($mk) = PgbTest::run('make', '--version');
plan skip_all => 'make is not installed' if $mk != 0;

# A make of our own: not the jobserver or variables of a make running us.
my %env = (MAKEFLAGS => undef, MAKELEVEL => undef, MFLAGS => undef);

sub files_under {
	my ($dir) = @_;
	my @f;
	find({ no_chdir => 1, wanted => sub {
		push @f, substr($File::Find::name, length $dir) if -f || -l;
	} }, $dir);
	return sort @f;
}

for my $prefix ('/usr/local', '/opt/pgb') {
	my $dest = PgbTest::tempdir();
	my @vars = ("DESTDIR=$dest", ($prefix eq '/usr/local' ? () :
	    "PREFIX=$prefix"));
	my ($code, $out, $err) = PgbTest::run({ env => \%env }, 'make', '-s',
	    '-C', $root, 'install', @vars);
	is($code, 0, "make install @vars") or diag($err);
	my @want = sort map { "$prefix/$_" } qw(bin/pgbundle bin/pgapply
	    share/man/man1/pgbundle.1 share/man/man1/pgapply.1);
	is_deeply([files_under($dest)], \@want,
	    "exactly the programs and man pages under DESTDIR$prefix");
	for my $prog (qw(pgbundle pgapply)) {
		my $bin = "$dest$prefix/bin/$prog";
		is((stat $bin)[2] & 07777, 0755, "$prog is mode 0755");
		($code, $out) = PgbTest::run($bin, '--version');
		like($out, qr/^$prog \d+\.\d+\.\d+$/m, "the installed $prog runs");
		my $dir = $prog eq 'pgbundle' ? 'compiler' : 'runtime';
		my $man = "$dest$prefix/share/man/man1/$prog.1";
		is((stat $man)[2] & 07777, 0644, "$prog.1 is mode 0644");
		is(PgbTest::read_file($man),
		    PgbTest::read_file("$root/$dir/$prog.1"),
		    "$prog.1 is the page from $dir/");
	}
	my $bundle = Pgb::bundle(Pgb::migrations('001_a.sql' =>
	    "CREATE TABLE a (id int);\n"));
	($code, undef, $err) = PgbTest::run("$dest$prefix/bin/pgapply",
	    'verify', $bundle, '--pubkey', Pgb::pub());
	is($code, 0, 'the installed pgapply verifies a bundle') or diag($err);

	($code, undef, $err) = PgbTest::run({ env => \%env }, 'make', '-s',
	    '-C', $root, 'uninstall', @vars);
	is($code, 0, "make uninstall @vars") or diag($err);
	is_deeply([files_under($dest)], [], 'uninstall removes every file');
}

done_testing();
