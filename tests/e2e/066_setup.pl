#!/usr/bin/perl
# 066_setup.pl - the README's first command, scripts/demo.sh: it applies
# migrations/ and shows the status, a second run finds nothing to do, and
# its server is stopped on every way out, a reader that goes away early
# ("make demo | head") among them.  Each run uses its own data folder and
# port (PGB_DEMO_DIR, PGB_DEMO_PORT), so a developer's own demo is never
# touched.
use strict;
use warnings;

use Test::More;
use PgbTest;

my $root = PgbTest::root();

# The demo's server, by pgserver.sh: 0 running, 3 not.
sub server_state {
	my ($dir) = @_;
	my ($code) = PgbTest::run('sh', "$root/scripts/pgserver.sh", 'status',
	    "$dir/pg");
	return $code;
}

sub demo {
	my ($dir, $pipe) = @_;
	my $cmd = 'sh scripts/demo.sh' . ($pipe // '');
	return PgbTest::run({ cwd => $root, timeout => 180, env => {
	    PGB_DEMO_DIR => $dir, PGB_DEMO_PORT => PgbTest::free_port() } },
	    'sh', '-c', $cmd);
}

my $dir = PgbTest::tempdir();
my ($code, $out, $err) = demo($dir);
is($code, 0, 'demo: exits 0') or diag($err);
like($err, qr/^pgapply: applied \d+ migrations$/m, 'demo: applies migrations/');
like($out, qr/^applied\s+1_/m, 'demo: shows the status on stdout');
is(server_state($dir), 3, 'demo: its server is stopped at the end');

($code, undef, $err) = demo($dir);
is($code, 0, 'demo again: exits 0') or diag($err);
like($err, qr/nothing to do/, 'demo again: the same data, nothing to do');
is(server_state($dir), 3, 'demo again: its server is stopped at the end');

# A reader that takes a few lines and goes: each cut lands at another
# step (the key, the bundle, the server's start, the apply, the status).
for my $lines (1 .. 6) {
	my $d = PgbTest::tempdir();
	($code) = demo($d, " 2>&1 | head -$lines >/dev/null");
	# From the third line on, the cut comes after the server started.
	ok(-e "$d/pg/postgresql.log", "demo | head -$lines: the server had started")
	    if $lines >= 3;
	is(server_state($d), 3, "demo | head -$lines: no server left running");
}

done_testing();
