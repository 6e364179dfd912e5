#!/usr/bin/perl
# 080_exit_classes.pl - a connection that retrying will not make (no such
# database, no such role, a malformed conninfo, an unknown URL scheme)
# exits 8, not 75; --wait keeps trying a missing database until an init
# step creates it, and exits 8 when the wait ends without it.
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time sleep);
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $pgapply = PgbTest::bin('pgapply');

sub refused {
	my ($name, $ci, $detail, @opt) = @_;
	my ($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db', $ci, @opt);
	is($code, 8, "$name: exits 8 (will not heal by retrying)");
	like($err, qr/\A(?:pgapply: waiting for the database \(\d+ s of \d+\): .*\n)*pgapply: cannot connect to the database\n  (?:connection to server .* failed: FATAL:  )?\Q$detail\E/,
	    "$name: the message") or diag($err);
}

refused('no such database', $pg->connstr('nosuchdb'),
    'database "nosuchdb" does not exist');
refused('no such database, URL', $pg->url('nosuchdb'),
    'database "nosuchdb" does not exist');
refused('no such role', 'host=' . $pg->host . ' port=' . $pg->port
    . ' user=nosuchrole dbname=postgres', 'role "nosuchrole" does not exist');
refused('an unknown URL scheme', 'postgress://postgres@127.0.0.1/x',
    'unknown URL scheme "postgress://"; a connection URL starts with '
    . 'postgresql:// or postgres://');
refused('a malformed URL', 'postgres://u@[::1/app',
    'end of string reached when looking for matching "]" in IPv6 host address');
{
	# A role is not created by waiting: no retries.
	my $t0 = time;
	refused('no such role, --wait', 'host=' . $pg->host . ' port=' . $pg->port
	    . ' user=nosuchrole dbname=postgres', 'role "nosuchrole" does not exist',
	    '--wait', '5');
	ok(time - $t0 < 4, 'no such role, --wait: gives up at once');
}
{
	my ($code, $out, $err) = PgbTest::run($pgapply, 'status', '--json', '--db',
	    $pg->connstr('nosuchdb'));
	is($code, 8, '--json: exits 8');
	like($out, qr/\A\{"event":"error","exit":8,"message":"cannot connect to the database"/,
	    '--json: the error object names exit 8') or diag($out);
}

# --- --wait: a missing database is waited for --------------------------------
{
	my $t0 = time;
	refused('no such database, --wait 2', $pg->connstr('latedb'),
	    'database "latedb" does not exist', '--wait', '2');
	ok(time - $t0 >= 2, '--wait 2: kept trying for the time given');

	my $p = PgbTest::spawn($pgapply, 'status', '--db', $pg->connstr('latedb'),
	    '--wait', '30');
	sleep 1.5;
	ok(!$p->done, 'still waiting for the database');
	$pg->createdb('latedb');
	my ($code, $out, $err) = $p->wait(30);
	is($code, 0, 'the database an init step created is used') or diag($err);
}

# Nothing listening stays retryable.
{
	my $port = PgbTest::free_port();
	my ($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db',
	    "postgres://postgres\@127.0.0.1:$port/x");
	is($code, 75, 'nothing listening: exits 75 (retryable)');
}

done_testing();
