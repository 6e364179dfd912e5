#!/usr/bin/perl
# 029_round_trips.pl - how many times pgapply waits for the server.  A
# TCP proxy between pgapply and the server counts round trips: a flight
# of client messages answered by the server.  After the connection's
# start-up (one round trip with trust authentication): a no-op run needs
# three (the lock with the session's reset, the history table's checks,
# the history read; the unlock goes with the end of the session, not
# waited for); each transactional migration one more, its verify queries
# and history row included; and nothing is left to the session's end
# but the unlock.
use strict;
use warnings;

use IO::Select;
use IO::Socket::INET;
use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $log = PgbTest::tempdir() . '/trips';

# A proxy on a port of its own: one line per client connection in $log,
# "trips terminated" (round trips, and 1 when the client said goodbye).
sub proxy {
	my $l = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
	    LocalPort => 0, ReuseAddr => 1, Proto => 'tcp')
	    or die "listen: $!";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		while (my $c = $l->accept) {
			my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
			    PeerPort => $pg->port, Proto => 'tcp') or POSIX::_exit(1);
			relay($c, $s);
		}
		POSIX::_exit(0);
	}
	return ($l->sockport, $pid);
}

# Relay one connection, counting flights answered.  Client messages after
# the start-up are a type byte and a length: a flight holding a Terminate
# ('X') was not waited for.
sub relay {
	my ($c, $s) = @_;
	my $sel = IO::Select->new($c, $s);
	my ($trips, $last, $started, $buf, $bye, $flight_bye) = (0, '', 0, '', 0, 0);
	while (1) {
		my @r = $sel->can_read(30) or last;
		for my $h (@r) {
			my $n = sysread($h, my $data, 65536);
			if (!$n) {
				open(my $fh, '>>', $log) or die;
				print {$fh} "$trips $bye\n";
				close $fh;
				close $c;
				close $s;
				return;
			}
			if ($h == $c) {
				$flight_bye = 0 if $last ne 'c';
				$last = 'c';
				if ($started) {
					$buf .= $data;
					while (length($buf) >= 5) {
						my ($t, $len) = unpack('a N', $buf);
						last if length($buf) < 1 + $len;
						$flight_bye = $bye = 1 if $t eq 'X';
						substr($buf, 0, 1 + $len, '');
					}
				}
				syswrite($s, $data);
			} else {
				$trips++ if $last eq 'c' && !$flight_bye;
				$started = 1;
				$last = 's';
				syswrite($c, $data);
			}
		}
	}
}

my ($port, $ppid) = proxy();
END { kill 'TERM', $ppid if $ppid; }

# pgapply through the proxy: the round trips after the start-up's one.
sub trips {
	my ($db, @args) = @_;
	unlink $log;
	my ($code, undef, $err) = PgbTest::run(PgbTest::bin('pgapply'), @args,
	    '--pubkey', Pgb::pub(), '--db', "host=127.0.0.1 port=$port "
	    . "user=postgres dbname=$db sslmode=disable gssencmode=disable");
	is($code, 0, "pgapply @args[0..0] through the proxy") or diag($err);
	PgbTest::wait_until(5, sub { -s $log });
	my @lines = split /\n/, PgbTest::read_file($log);
	is(scalar @lines, 1, 'one connection');
	my ($n, $bye) = split / /, $lines[0] // '0 0';
	is($bye, 1, 'it said goodbye');
	return $n - 1;
}

my %m = map { (sprintf('%03d_t%d.sql', $_, $_) => "CREATE TABLE t$_ (id int);\n"
    . "INSERT INTO t$_ VALUES ($_);\n") } 1 .. 20;
my $b20 = Pgb::bundle(Pgb::migrations(%m));
my $db = $pg->createdb;
my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b20);
is($code, 0, 'twenty migrations applied') or diag($err);

is(trips($db, 'apply', $b20), 3, 'a no-op apply: three round trips '
    . '(lock, history checks, history read)');

# Five more, one with two verify queries: one round trip each.
$m{'021_v.sql'} = "CREATE TABLE v (id int);\nINSERT INTO v VALUES (1);\n"
    . "-- verify: SELECT count(*) = 1 FROM v\n-- verify: SELECT true;\n";
$m{sprintf('%03d_t%d.sql', $_, $_)} = "CREATE TABLE t$_ (id int);\n" for 22 .. 25;
my $b25 = Pgb::bundle(Pgb::migrations(%m));
is(trips($db, 'apply', $b25), 3 + 5, 'five pending: one round trip each, '
    . 'verify queries and history rows included');
is($pg->psql($db, 'SELECT count(*) FROM pgbundle.history'), '25', 'all 25 recorded');
is($pg->psql($db, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"), '0',
    'the lock went with the session');

# A false verify query still fails the migration, rolled back and named
# (its pipeline fails, then it runs alone to say how).
$m{'026_f.sql'} = "CREATE TABLE f (id int);\n-- verify: SELECT count(*) = 1 FROM f\n";
my $b26 = Pgb::bundle(Pgb::migrations(%m));
($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b26);
is($code, 5, 'a false verify query: exit 5');
like($err, qr/^pgapply: verify query 1 of '026_f' \(migrations\/026_f\.sql:2\) did not return true: it returned false$/m, 'named');
is($pg->psql($db, "SELECT to_regclass('public.f') IS NULL"), 't', 'rolled back');

done_testing;
