#!/usr/bin/perl
# 081_status_check.pl - status FILE --check gates CI: exit 0 only when all
# is applied, 9 when migrations are pending, 4 when one drifted, 6 when a
# no-transaction migration failed, each with its one error line and the
# database unchanged; status without FILE on a database without history
# says so.
use strict;
use warnings;

use Test::More;
use JSON::PP;
use PgbTest;
use Pgb;

my $pg = PgbTest::Server->new;
my $json = JSON::PP->new->utf8;

my $one = Pgb::bundle(Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n"));
my $two = Pgb::bundle(Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n",
    '002_b.sql' => "CREATE TABLE b ();\n"));
my $changed = Pgb::bundle(Pgb::migrations('001_a.sql' => "CREATE TABLE a (id int);\n",
    '002_b.sql' => "CREATE TABLE b ();\n"));

my $db = $pg->createdb;
sub history { return $pg->psql($db, "SELECT coalesce(string_agg(version || ':' || status, ',' ORDER BY version), '') FROM pgbundle.history") }

# --- no history at all ---------------------------------------------------------
{
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'status', undef);
	is($code, 0, 'no FILE, no history: exit 0');
	is($out, '', 'no FILE, no history: no table');
	is($err, "pgapply: no migration recorded: the history table does not "
	    . "exist yet or is empty\n", 'no FILE, no history: says so');
	($code, $out, $err) = Pgb::pgapply($pg, $db, 'status', undef, '--json');
	my $o = eval { $json->decode($out) };
	is_deeply($o, { event => 'summary', command => 'status', count => 0,
	    history => 'empty' }, '--json: the summary says the history is empty')
	    or diag($out);
	($code, $out, $err) = Pgb::pgapply($pg, $db, 'status', $one, '--check');
	is($code, 9, 'nothing applied: --check exits 9');
	like($err, qr/^pgapply: status --check: 1 migration pending$/m,
	    'nothing applied: the message');
	like($out, qr/^pending\s+1_a\s/m, 'nothing applied: the table still shows');
}

# --- all applied, then pending ----------------------------------------------------
{
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'apply', $one);
	is($code, 0, 'apply the first bundle') or diag($err);
	($code, $out, $err) = Pgb::pgapply($pg, $db, 'status', $one, '--check');
	is($code, 0, 'all applied: --check exits 0') or diag($err);
	is($err, '', 'all applied: nothing on stderr');
	($code, $out, $err) = Pgb::pgapply($pg, $db, 'status', $two, '--check');
	is($code, 9, 'one pending: --check exits 9');
	is($err, "pgapply: status --check: 1 migration pending\n", 'one pending: the message');
	($code, $out, $err) = Pgb::pgapply($pg, $db, 'status', $two, '--check', '--json');
	is($code, 9, 'one pending, --json: exits 9');
	my @o = map { $json->decode($_) } split /\n/, $out;
	is($o[-1]{event}, 'error', '--json: the error object comes last');
	is($o[-1]{exit}, 9, '--json: it names exit 9');
	is(history(), '1:applied', 'pending: the database is unchanged');
	($code, $out, $err) = Pgb::pgapply($pg, $db, 'status', undef, '--check');
	is($code, 0, 'no FILE: only failures count: exit 0');
}

# --- drift --------------------------------------------------------------------------
{
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'status', $changed, '--check');
	is($code, 4, 'drifted and pending: --check exits 4 (drift first)');
	is($err, "pgapply: status --check: 1 migration drifted or missing from the bundle\n",
	    'drifted: the message');
	like($out, qr/^drifted\s+1_a\s/m, 'drifted: the table shows it');
	is(history(), '1:applied', 'drift: the database is unchanged');
}

# --- a failed no-transaction migration ------------------------------------------------
{
	my $fdb = $pg->createdb;
	my $b = Pgb::bundle(Pgb::migrations(
	    '001_t.sql' => "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1), (1);\n",
	    '002_idx.sql' => "-- pgbundle:no-transaction\n"
		. "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS t_a_key ON t (a);\n"));
	my ($code) = Pgb::pgapply($pg, $fdb, 'apply', $b);
	is($code, 6, 'the no-transaction migration failed');
	($code, my $out, my $err) = Pgb::pgapply($pg, $fdb, 'status', $b, '--check');
	is($code, 6, 'failed: --check exits 6');
	is($err, "pgapply: status --check: 1 migration failed\n", 'failed: the message');
	($code, $out, $err) = Pgb::pgapply($pg, $fdb, 'status', undef, '--check');
	is($code, 6, 'failed, no FILE: --check exits 6');
}

# --- --check belongs to status ------------------------------------------------------
{
	my ($code, $out, $err) = Pgb::pgapply($pg, $db, 'plan', $two, '--check');
	is($code, 2, 'plan --check: usage error');
	like($err, qr/^pgapply: plan does not take --check \(only status does\)$/m, 'plan --check: the message');
}

done_testing();
