#!/usr/bin/perl
# 082_waiting.pl - waits are visible: --wait reports the server's error
# when it starts waiting and every 5 s after, and a runner waiting for the
# lock names the holder's pid, address and start time, as lines on stderr
# or "waiting" objects under --json.
use strict;
use warnings;

use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep);
use PgbTest;
use Pgb;

my $json = JSON::PP->new->utf8;
my $pgapply = PgbTest::bin('pgapply');

sub objects {
	my ($name, $out) = @_;
	my @o;
	for my $line (split /\n/, $out) {
		my $v = eval { $json->decode($line) };
		ok(defined $v, "$name: stdout line parses as JSON") or diag("$@: $line");
		push @o, $v if defined $v;
	}
	return @o;
}

# --- --wait with nothing listening ------------------------------------------------
{
	my $port = PgbTest::free_port();
	my $url = "postgres://postgres:s3cret\@127.0.0.1:$port/x";
	my ($code, $out, $err) = PgbTest::run($pgapply, 'status', '--db', $url,
	    '--wait', '9');
	is($code, 75, 'nothing listening: exits 75 when the wait ends');
	my @lines = grep { /waiting/ } split /\n/, $err;
	my $refused = qq{connection to server at "127.0.0.1", port $port failed: Connection refused};
	is($lines[0], "pgapply: waiting for the database (0 s of 9): $refused",
	    'a line when the wait starts, with the server\'s error') or diag($err);
	# Attempts back off to 2 s: the next line comes at the first one 5 s on.
	like($lines[1] // '', qr/^pgapply: waiting for the database \([5-7] s of 9\): \Q$refused\E$/,
	    'another line 5 s later') or diag($err);
	unlike($err, qr/s3cret/, 'the password does not show');

	($code, $out, $err) = PgbTest::run($pgapply, 'status', '--json', '--db',
	    $url, '--wait', '1');
	is($code, 75, '--json: exits 75');
	my @o = objects('--wait --json', $out);
	is_deeply($o[0], { event => 'waiting', for => 'server', elapsed_s => 0,
	    limit_s => 1, message => $refused }, '--json: a "waiting" object first');
	is($o[-1]{event}, 'error', '--json: the error object last');
	is($err, "pgapply: cannot connect to the database\n  $refused\n",
	    '--json: stderr has the error alone');
}

# --- the lock wait names the holder -----------------------------------------------
{
	my $pg = PgbTest::Server->new;
	my $db = $pg->createdb;
	my $b = Pgb::bundle(Pgb::migrations('001_slow.sql' =>
	    "CREATE TABLE slow ();\nSELECT pg_sleep(10);\n"));
	my @common = ($b, '--pubkey', Pgb::pub(), '--db', $pg->connstr($db));
	my $first = PgbTest::spawn($pgapply, 'apply', @common);
	ok(PgbTest::wait_until(20, sub {
		$pg->psql($db, q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(10)%' AND pid <> pg_backend_pid()}) eq '1' }),
	    'the first runner holds the lock');
	my $holder = $pg->psql($db, q{SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(10)%' AND pid <> pg_backend_pid()});
	my $text = PgbTest::spawn($pgapply, 'apply', @common, '--lock-wait', '30');
	my $js = PgbTest::spawn($pgapply, 'apply', @common, '--lock-wait', '30', '--json');
	my ($c1, undef, $e1) = $first->wait(30);
	is($c1, 0, 'the first runner applies') or diag($e1);
	my ($code, $out, $err) = $text->wait(30);
	is($code, 0, 'the waiting runner then finds nothing to do') or diag($err);
	my @lines = grep { /waiting/ } split /\n/, $err;
	ok(@lines >= 2, 'a line when the wait starts and every 5 s after') or diag($err);
	like($lines[0] // '', qr/^pgapply: waiting for the lock on "pgbundle"\."history" \(0 s of 30\): held by pid $holder \(application_name 'pgapply', connected since \d{4}-\d\d-\d\d [0-9:.+]+\)$/,
	    'the line names the holder\'s pid, application and start time');
	like($lines[1] // '', qr/\(5 s of 30\)/, 'the next line 5 s later');

	($code, $out, $err) = $js->wait(30);
	is($code, 0, '--json: the waiting runner exits 0') or diag($err);
	my @w = grep { $_->{event} eq 'waiting' } objects('lock --json', $out);
	ok(@w >= 2, '--json: "waiting" objects when it starts and 5 s later');
	is($w[0]{for}, 'lock', '--json: it waits for the lock');
	is($w[0]{table}, '"pgbundle"."history"', '--json: the history table');
	is($w[0]{holder}{pid}, $holder, '--json: the holder\'s pid');
	is($w[0]{holder}{application_name}, 'pgapply', '--json: its application');
	ok(exists $w[0]{holder}{client_addr} && !defined $w[0]{holder}{client_addr},
	    '--json: client_addr null over a Unix socket');
	like($w[0]{holder}{backend_start} // '', qr/^\d{4}-/, '--json: its start time');
}

done_testing();
