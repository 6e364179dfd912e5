#!/usr/bin/perl
# 023_timeouts.pl - --lock-timeout with retries against a session that
# holds a lock on the table a migration alters (success once it commits,
# retryable exit when it never does), --statement-timeout, and durations
# the server would refuse, refused before connecting.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;

my $b = Pgb::bundle(Pgb::migrations(
    '001_t.sql' => "CREATE TABLE t (id int);\n",
    '002_alter.sql' => "ALTER TABLE t ADD COLUMN note text;\n"));

# Hold ACCESS EXCLUSIVE on t for 'secs' seconds from another session.
sub blocker {
	my ($db, $secs) = @_;
	my $p = PgbTest::spawn({ stdin => "BEGIN;\nLOCK TABLE t IN ACCESS EXCLUSIVE MODE;\n"
	    . "SELECT pg_sleep($secs);\nCOMMIT;\n" }, PgbTest::pg_bin('psql'), '-X', '-q',
	    '-v', 'ON_ERROR_STOP=1', $pg->connstr($db));
	for (1 .. 100) {
		last if $pg->psql($db, "SELECT count(*) FROM pg_locks WHERE mode = "
		    . "'AccessExclusiveLock' AND relation = 't'::regclass AND granted") eq '1';
		select(undef, undef, undef, 0.05);
	}
	return $p;
}

{
	my $db = $pg->createdb;
	Pgb::pgapply($pg, $db, 'apply', $b, '--to', '1');
	my $blk = blocker($db, 30);
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b,
	    '--lock-timeout', '200ms', '--lock-retries', '2');
	is($code, 75, 'a lock that is never released: exit 75 (retryable)');
	is(scalar(() = $err =~ /hit lock_timeout; retry/g), 2, 'after the retries asked for');
	like($err, qr/SQLSTATE 55P03/, 'with the lock_not_available SQLSTATE');
	is($pg->psql($db, "SELECT count(*) FROM pgbundle.history"), '1',
	    'and nothing applied');
	$blk->signal('TERM');
	$blk->wait;
}

{
	my $db = $pg->createdb;
	Pgb::pgapply($pg, $db, 'apply', $b, '--to', '1');
	my $blk = blocker($db, 1.5);
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b,
	    '--lock-timeout', '300ms', '--lock-retries', '10');
	is($code, 0, 'once the blocker commits, a retry succeeds') or diag($err);
	like($err, qr/002_alter hit lock_timeout; retry 1/, 'after at least one retry');
	is($pg->psql($db, "SELECT count(*) FROM information_schema.columns WHERE "
	    . "table_name = 't' AND column_name = 'note'"), '1', 'the column exists');
	$blk->wait;
}

{
	my $db = $pg->createdb;
	my $slow = Pgb::bundle(Pgb::migrations('001_slow.sql' => "CREATE TABLE s ();\nSELECT pg_sleep(5);\n"));
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $slow,
	    '--statement-timeout', '300ms');
	is($code, 5, '--statement-timeout cancels a slow statement: exit 5');
	like($err, qr/SQLSTATE 57014: canceling statement due to statement timeout/,
	    'with the server\'s reason');
	is($pg->psql($db, "SELECT to_regclass('s') IS NULL"), 't', 'and rolls back');
	# The timeout was SET LOCAL: it does not outlive the migration.
	my $ok = Pgb::bundle(Pgb::migrations('001_slow.sql' => "CREATE TABLE s ();\nSELECT pg_sleep(0.6);\n"));
	($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $ok);
	is($code, 0, 'without the option the server default applies') or diag($err);
}

# Durations are read as the server reads them, and refused before connecting.
{
	my $db = $pg->createdb;
	for my $bad ('5x', '5mins', '5 sec', '-1', '2147483648', '') {
		for my $opt ('--statement-timeout', '--lock-timeout') {
			my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b, $opt, $bad);
			is($code, 2, "$opt '$bad': usage error, exit 2");
			like($err, qr/^pgapply: \Q$opt\E '\Q$bad\E' is not a duration: give milliseconds, or a number with a unit \(ms, s, min, h, d\)/,
			    "$opt '$bad': says why") or diag($err);
		}
	}
	is($pg->psql($db, "SELECT to_regclass('pgbundle.history') IS NULL"), 't',
	    'nothing was changed');
	my ($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b,
	    '--statement-timeout', '1.5min', '--lock-timeout', '0x10');
	is($code, 0, 'what the server accepts pgapply accepts (1.5min, 0x10)') or diag($err);
}

done_testing();
