#!/usr/bin/perl
# 057_archive_differential.pl - every archive tests/gen-hostile.pl writes
# (both sets) is read by two independent tar readers, Python's tarfile
# and GNU tar (tests/tar-readers.py), and by `pgapply verify`.  Where the
# readers disagree about an entry's name, type, size or bytes (or one
# reads the archive and the other refuses it), pgapply must refuse it
# (exit 3).  Where pgapply accepts an archive, both readers must read it
# and see exactly what pgapply verified: MANIFEST first, then each script
# the manifest lists, regular files of its size and SHA-256, under the
# bundle id pgapply reports.  So a tar trick that shows one reader other
# files than another can never get past pgapply.  No database: nothing
# here gets past verify.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $root = PgbTest::root();
my $pgapply = PgbTest::bin('pgapply');
my ($pyrc, undef, $pyerr) = PgbTest::run('python3', '-c', 'import tarfile');
is($pyrc, 0, 'python3 is installed (scripts/deps.sh)') or diag($pyerr);
my ($tarrc, $tarv) = PgbTest::run('tar', '--version');
like($tarv, qr/GNU tar/, 'tar is GNU tar');

my %n = (compared => 0, disagree => 0, skipped => 0, accepted => 0);
for my $set ('core', 'more') {
	my $fx = PgbTest::tempdir();
	my ($gc, $list, $gerr) = PgbTest::run('perl', "$root/tests/gen-hostile.pl", $fx,
	    $set);
	is($gc, 0, "the $set fixtures are generated") or diag($gerr);
	PgbTest::write_file("$fx/list.txt", $list);
	my @names = map { (split /\t/)[0] } split /\n/, $list;
	my ($rc, $out, $err) = PgbTest::run('python3', "$root/tests/tar-readers.py", $fx,
	    "$fx/list.txt");
	is($rc, 0, "$set: tests/tar-readers.py ran") or diag($err);
	my %seen = map { my @f = split /\t/; ($f[0] => [@f[1 .. 3]]) } split /\n/, $out;
	is(scalar(keys %seen), scalar(@names), "$set: both readers compared all "
	    . scalar(@names) . ' archives');

	for my $name (@names) {
		my ($verdict, $bid, $why) = @{$seen{$name} // ['missing', '-', '']};
		my $pub = -f "$fx/$name.pub" ? "$fx/$name.pub" : Pgb::pub();
		my ($vrc, undef, $verr) = PgbTest::run($pgapply, 'verify', "$fx/$name.pgb",
		    '--pubkey', $pub);
		$n{compared}++ if $verdict =~ /^(?:agree|disagree)$/;
		$n{$verdict}++ if $verdict =~ /^(?:disagree|skipped)$/;
		$n{accepted}++ if $vrc == 0;
		if ($verdict eq 'disagree' || $verdict eq 'skipped') {
			is($vrc, 3, "$set/$name: readers $verdict ($why); pgapply refuses it")
			    or diag($verr);
		} elsif ($vrc == 0) {
			my ($id) = $verr =~ /bundle id ([0-9a-f]{16})/;
			ok($verdict eq 'agree' && defined $id && index($bid, $id) == 0,
			    "$set/$name: accepted; both readers see exactly its manifest's "
			    . 'entries') or diag("readers: $verdict $bid $why; pgapply: $verr");
		} else {
			is($vrc, 3, "$set/$name: readers agree ($why); pgapply refuses it "
			    . 'for its own reasons') or diag($verr);
		}
	}
}
# The comparison is not vacuous: the suite holds archives the readers see
# differently, and some that pgapply accepts.
cmp_ok($n{disagree}, '>=', 20, "readers disagreed on $n{disagree} of $n{compared} "
    . "archives compared ($n{skipped} bombs skipped)");
cmp_ok($n{accepted}, '>=', 5, "pgapply accepted $n{accepted}, each seen alike by both readers");
done_testing();
