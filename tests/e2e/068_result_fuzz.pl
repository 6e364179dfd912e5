#!/usr/bin/perl
# 068_result_fuzz.pl - pgapply's handling of what the server answers,
# fuzzed against a real server: seeded, deterministic sequences drawn from
# a small grammar of statements a signed bundle can hold and the compiler
# would refuse (COPY TO STDOUT, COPY FROM STDIN without data, BEGIN,
# COMMIT, END, ROLLBACK, SAVEPOINT, several commands in one statement,
# standard_conforming_strings turned off) mixed with ordinary ones
# (INSERT, CREATE TABLE, COPY with its data, SET, errors), in
# transactional and no-transaction migrations, pipelined or not, with
# and without --statement-timeout and --single-transaction.  Bundles are
# written by tests/lib/PgbForge.pm and signed with the test key.  For
# every case pgapply must end within a bound with exit 0, 5 or 6, leave
# no session nor lock behind, and leave a history that tells the truth
# about the database: an applied migration has all its effects; one that
# failed in a transaction has none, unless a statement of its own ended
# that transaction (exit 6), and then only those up to its last COMMIT
# or END; a failed
# no-transaction migration has the effects of the statements its row
# counts done and none after the one that failed.
#
# PGB_FUZZ_SEED and PGB_FUZZ_CASES change the seed (default 1) and the
# number of cases (default 48); a failure names both, to replay it.
use strict;
use warnings;

use Test::More;
use Time::HiRes qw(time);
use PgbTest;
use Pgb;
use PgbForge;

my $SEED = $ENV{PGB_FUZZ_SEED} // 1;
my $CASES = $ENV{PGB_FUZZ_CASES} // 48;
my $BOUND = 20;
srand($SEED);

# Each case has a schema of its own in one database (a database each
# costs a second): its table fx, its history table, and its search_path,
# given as the session's default, so that RESET ALL keeps it.
my $pg = PgbTest::Server->new;
my $db = $pg->createdb;
my $dir = PgbTest::tempdir();
$pg->psql($db, join('', map { "CREATE SCHEMA f$_; CREATE TABLE f$_.fx (tag text);\n" }
    1 .. $CASES));

sub pick { return $_[int(rand(@_))] }

# The grammar: [weight, kind, maker].  A maker takes the statement's tag
# and returns (statement, effects, ends its transaction).
my @grammar = (
	[20, 'insert', sub { ("INSERT INTO fx VALUES ('$_[0]');", [$_[0]], 0) }],
	[6, 'create', sub { ("CREATE TABLE $_[0] (a int);", [$_[0]], 0) }],
	[4, 'copy-data', sub { ({ sql => 'COPY fx FROM stdin;', data => "$_[0]\n" },
	    [$_[0]], 0) }],
	[6, 'select', sub { (pick('SELECT 1;', 'SELECT pg_sleep(0);',
	    "SELECT 'x' AS y;"), [], 0) }],
	[4, 'error', sub { (pick('SELECT 1/0;', 'SELECT * FROM nowhere;',
	    "INSERT INTO fx VALUES (1, 2);"), [], 0) }],
	[5, 'copy-out', sub { (pick('COPY fx TO STDOUT;',
	    'COPY (SELECT generate_series(1, 100000000)) TO STDOUT;',
	    "COPY (SELECT repeat('z', 100000)) TO STDOUT;"), [], 0) }],
	[5, 'copy-in', sub { ('COPY fx FROM STDIN;', [], 0) }],
	[3, 'multi', sub { ("SELECT 1; INSERT INTO fx VALUES ('$_[0]');", [$_[0]], 0) }],
	[2, 'multi-copy', sub { ("INSERT INTO fx VALUES ('$_[0]'); COPY fx TO STDOUT;",
	    [$_[0]], 0) }],
	[4, 'set', sub { (pick("SET work_mem = '8MB';", "SET lock_timeout = '20s';",
	    'RESET ALL;', 'SET standard_conforming_strings = on;'), [], 0) }],
	[2, 'std-off', sub { (pick('SET standard_conforming_strings = off;',
	    "SELECT set_config('standard_conforming_strings', 'off', false);"), [], 0) }],
	[3, 'backslash', sub { (pick(q{SELECT 'a\b';}, q{SELECT E'\\';}), [], 0) }],
	[3, 'begin', sub { (pick('BEGIN;', 'START TRANSACTION;'), [], 0) }],
	[3, 'commit', sub { (pick('COMMIT;', 'END;'), [], 1) }],
	[3, 'rollback', sub { (pick('ROLLBACK;', 'ABORT;'), [], 0) }],
	[2, 'savepoint', sub { ('SAVEPOINT s;', [], 0) }],
	[2, 'commit-multi', sub { ("INSERT INTO fx VALUES ('$_[0]'); COMMIT;", [$_[0]], 1) }],
	[1, 'rollback-begin', sub { ('ROLLBACK; BEGIN;', [], 0) }],
	[1, 'commit-begin', sub { ('COMMIT; BEGIN;', [], 1) }],
);
my $total = 0;
$total += $_->[0] for @grammar;

sub draw {
	my ($tag) = @_;
	my $r = rand($total);
	for my $g (@grammar) {
		return ($g->[1], $g->[2]->($tag)) if ($r -= $g->[0]) < 0;
	}
	return ($grammar[0][1], $grammar[0][2]->($tag));
}

# One case: its migrations (for PgbForge) and what each statement does.
sub make_case {
	my ($c) = @_;
	my (@migs, @model);
	for my $v (1 .. 1 + int(rand(3))) {
		my (@up, @st);
		for my $s (1 .. 1 + int(rand(5))) {
			my ($kind, $sql, $fx, $ends) = draw("c${c}m${v}s$s");
			push @up, $sql;
			push @st, { kind => $kind, fx => $fx, ends => $ends };
		}
		my $notx = rand() < 0.2;
		push @migs, { version => $v, name => "m$v", up => \@up,
		    mode => $notx ? 'no-transaction' : 'transaction',
		    (rand() < 0.3 ? (verify => ['SELECT true']) : ()) };
		push @model, { notx => $notx, st => \@st };
	}
	my @opts;
	push @opts, '--statement-timeout', '10s' if rand() < 0.3;
	push @opts, '--lock-timeout', '10s' if rand() < 0.2;
	push @opts, '--single-transaction'
	    if rand() < 0.25 && !grep { $_->{notx} } @model;
	return (\@migs, \@model, \@opts);
}

# The invariants; returns a list of what is wrong.
sub judge {
	my ($model, $code, $hist, $present) = @_;
	my @bad;
	push @bad, "exit $code" unless $code == 0 || $code == 5 || $code == 6;
	my $stopped = 0;
	for my $i (0 .. $#$model) {
		my $m = $model->[$i];
		my $v = $i + 1;
		my @fx = map { @{ $_->{fx} } } @{ $m->{st} };
		my @have = grep { $present->{$_} } @fx;
		my $row = $hist->{$v};
		if ($stopped) {
			push @bad, "m$v: has a row though an earlier one failed" if $row;
			push @bad, "m$v: effects (@have) though never reached" if @have;
			next;
		}
		if ($row && $row->[0] eq 'applied') {
			my @miss = grep { !$present->{$_} } @fx;
			push @bad, "m$v: applied but lacks @miss" if @miss;
			next;
		}
		$stopped = 1;
		push @bad, "m$v: exit 0 but not applied" if $code == 0;
		if ($m->{notx}) {
			my $done = $row ? $row->[1] : 0;
			push @bad, "m$v: no row, but effects (@have)" if !$row && @have;
			my @st = @{ $m->{st} };
			for my $k (0 .. $#st) {
				for my $t (@{ $st[$k]{fx} }) {
					push @bad, "m$v: statement " . ($k + 1) . " counted "
					    . "done but $t missing" if $k < $done && !$present->{$t};
					push @bad, "m$v: statement " . ($k + 1) . " after the "
					    . "failed one but $t present" if $k > $done && $present->{$t};
				}
			}
			next;
		}
		push @bad, "m$v: a row '$row->[0]' for a failed transaction" if $row;
		# What ran up to its last COMMIT may stay (exit 6 says so).
		my (%allowed, @upto);
		for my $s (@{ $m->{st} }) {
			push @upto, @{ $s->{fx} };
			next unless $s->{ends} && $code == 6;
			$allowed{$_} = 1 for @upto;
		}
		my @extra = grep { !$allowed{$_} } @have;
		push @bad, "m$v: failed, yet effects (@extra) stay" if @extra;
	}
	return @bad;
}

my $t0 = time;
my %kinds;
for my $c (1 .. $CASES) {
	my ($migs, $model, $opts) = make_case($c);
	my $b = PgbForge::bundle("$dir/c$c.pgb", @$migs);
	my $start = time;
	my $p = PgbTest::spawn({ timeout => $BOUND }, PgbTest::bin('pgapply'), 'apply',
	    $b, '--pubkey', Pgb::pub(), '--db', $pg->connstr($db)
	    . " options='-c search_path=f$c'", '--history-table', "f$c.history", @$opts);
	my ($code, undef, $err) = $p->wait;
	my $secs = time - $start;
	my $state;
	PgbTest::wait_until(5, sub {
		$state = $pg->psql($db, "SELECT (SELECT count(*) FROM pg_locks WHERE "
		    . "locktype = 'advisory') + (SELECT count(*) FROM pg_stat_activity "
		    . "WHERE application_name = 'pgapply'), coalesce((SELECT string_agg("
		    . "version || ':' || status || ':' || statements_done, ',') FROM "
		    . "f$c.history), ''), coalesce((SELECT string_agg(t, ',') FROM "
		    . "(SELECT tag AS t FROM f$c.fx UNION ALL SELECT relname::text FROM "
		    . "pg_class WHERE relnamespace = 'f$c'::regnamespace AND relkind = 'r' "
		    . "AND relname NOT IN ('fx', 'history')) s), '')");
		return $state =~ /^0\|/;
	});
	my ($held, $h, $p2) = split /\|/, $state, -1;
	my %hist = map { my ($v, $s, $d) = split /:/; ($v => [$s, $d]) } grep { length }
	    split /,/, $h;
	my %present = map { $_ => 1 } grep { length } split /,/, $p2;
	my @bad = judge($model, $code, \%hist, \%present);
	push @bad, "ran $secs s" if $p->timed_out || $secs >= $BOUND;
	push @bad, "left $held session(s) or lock(s)" if $held ne '0';
	$kinds{$_->{kind}}++ for map { @{ $_->{st} } } @$model;
	ok(!@bad, "case $c: exit $code in " . sprintf('%.1f', $secs) . ' s, history '
	    . "'$h'") or diag(join("\n", "seed $SEED case $c: " . join('; ', @bad),
	    'options: ' . join(' ', @$opts), map({ "m$_->{version} $_->{mode}"
	    . ($_->{verify} ? ' +verify' : '') . ': ' . join(' | ', map { ref $_ ?
	    "$_->{sql} <data>" : $_ } @{ $_->{up} }) } @$migs), $err));
}
my @unused = grep { !$kinds{$_->[1]} } @grammar;
ok(!@unused, 'every kind of statement was drawn') or diag(join ' ', map { $_->[1] } @unused);
note(sprintf('%d cases in %.1f s', $CASES, time - $t0));

done_testing();
