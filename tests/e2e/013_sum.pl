#!/usr/bin/perl
# 013_sum.pl - DIR/pgbundle.sum: build writes and extends it, check and
# sum compare it (an edited released migration, a missing, renamed or
# removed one, each at the sum file's line), sum --fix rewrites it, and
# two git branches that each add a migration conflict on it when merged.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $pgbundle = PgbTest::bin('pgbundle');
my $root = PgbTest::root();

sub run_pgb { return PgbTest::run($pgbundle, @_) }

my $m = Pgb::migrations(
    '001_users.sql' => "CREATE TABLE users (id int);\n",
    '002_orders.sql' => "CREATE TABLE orders (id int);\n");

# --- build writes it; check agrees -------------------------------------------------
my ($code, undef, $err) = run_pgb('check', $m);
is($code, 0, 'no sum file yet: check passes');
like($err, qr{/pgbundle\.sum:1: note: no pgbundle\.sum yet}, 'with a note saying how to make one');
ok(!-e "$m/pgbundle.sum", 'check writes nothing');

my ($c, $bundle, $e) = Pgb::build($m);
is($c, 0, 'build') or diag($e);
like($e, qr{updated \S+/pgbundle\.sum}, 'build says it wrote the sum file');
my $sum = PgbTest::read_file("$m/pgbundle.sum");
my (undef, $man) = PgbTest::run('tar', '-xzOf', $bundle, 'MANIFEST');
my @chains = $man =~ /^chain ([0-9a-f]{64})$/mg;
like($sum, qr/\A# [^\n]*\n1 users $chains[0]\n2 orders $chains[1]\n\z/,
    'one line per migration: version, name and the chain the manifest records');
($code, undef, $err) = run_pgb('check', $m);
is($code, 0, 'check agrees with it') or diag($err);
unlike($err, qr/pgbundle\.sum/, 'and says nothing about it');
($code, undef, $err) = run_pgb('sum', $m);
is($code, 0, 'sum agrees too');
like($err, qr/pgbundle\.sum is up to date \(2 migrations\)/, 'and says so');

# --- an edited released migration ----------------------------------------------------
PgbTest::write_file("$m/001_users.sql", "CREATE TABLE users (id bigint);\n");
($code, undef, $err) = run_pgb('check', $m);
is($code, 1, 'an edited migration fails check');
like($err, qr{/pgbundle\.sum:2: error: '\S+/001_users\.sql' \(migration 1 'users'\) changed after pgbundle\.sum recorded it},
    'naming the migration at its line of the sum file');
is(scalar(() = $err =~ /error:/g), 1, 'only the first difference (later chains follow from it)');
($code, undef, $err) = run_pgb('sum', $m);
is($code, 1, 'sum fails the same way');
my $xpgb = PgbTest::tempdir() . '/x.pgb';
($code, undef, $err) = run_pgb('build', $m, '--unsigned', '-o', $xpgb);
is($code, 1, 'build refuses it');
like($err, qr{/pgbundle\.sum:2: error: '\S+/001_users\.sql' \(migration 1 'users'\) changed after pgbundle\.sum recorded it: a released migration must not change; restore it, or accept the change with 'pgbundle sum --fix'},
    'naming the file and the way to accept the change');
is(PgbTest::read_file("$m/pgbundle.sum"), $sum, 'and leaves the sum file alone');
ok(!-e $xpgb, 'and writes no bundle');
($code, undef, $err) = run_pgb('sum', $m, '--fix');
is($code, 0, 'sum --fix accepts the change') or diag($err);
($c, undef, $e) = Pgb::build($m);
is($c, 0, 'then build goes on') or diag($e);
($code) = run_pgb('check', $m);
is($code, 0, 'and check agrees');

# --- added, removed, renamed ---------------------------------------------------------
PgbTest::write_file("$m/003_items.sql", "CREATE TABLE items (id int);\n");
($code, undef, $err) = run_pgb('check', $m);
is($code, 0, 'a new migration, not yet in the sum file, passes check') or diag($err);
like($err, qr{^\S+/003_items\.sql:1: note: new migration 3, not yet in pgbundle\.sum \('pgbundle build' records it; commit pgbundle\.sum with it\)$}m,
    'listed as new');
like($err, qr{: 3 migrations \(1 new\), }, 'and counted');
($code, undef, $err) = run_pgb('sum', $m, '--fix');
is($code, 0, 'sum --fix') or diag($err);
like($err, qr{pgbundle\.sum written \(3 migrations\)}, 'rewrites it');
($code) = run_pgb('check', $m);
is($code, 0, 'check agrees');

PgbTest::write_file("$m/000_first.sql", "CREATE TABLE first (id int);\n");
($code, undef, $err) = run_pgb('check', $m);
like($err, qr{/pgbundle\.sum:2: error: '\S+/000_first\.sql' \(migration 0\) is missing here, before migrations already recorded},
    'a migration added before recorded ones');
unlink "$m/000_first.sql";

rename "$m/002_orders.sql", "$m/002_purchases.sql";
($code, undef, $err) = run_pgb('check', $m);
like($err, qr{/pgbundle\.sum:3: error: migration 2 is recorded as 'orders', but its file is now '\S+/002_purchases\.sql'},
    'a renamed migration');
rename "$m/002_purchases.sql", "$m/002_orders.sql";

unlink "$m/003_items.sql";
($code, undef, $err) = run_pgb('check', $m);
is($code, 1, 'a removed migration fails check');
like($err, qr{/pgbundle\.sum:4: error: migration 3 'items' is recorded here, but no file in the folder has that version},
    'naming the recorded migration');

PgbTest::write_file("$m/pgbundle.sum", "# x\n1 users nothex\n");
($code, undef, $err) = run_pgb('check', $m);
like($err, qr{/pgbundle\.sum:2: error: expected 'VERSION NAME CHAIN'}, 'a line that does not parse');

# --- the sample migrations carry theirs -----------------------------------------------
($code, undef, $err) = run_pgb('sum', "$root/migrations");
is($code, 0, 'migrations/pgbundle.sum is committed and agrees') or diag($err);

# --- two branches, one merge ------------------------------------------------------------
SKIP: {
	my ($gc) = PgbTest::run('git', '--version');
	skip 'git is not installed', 9 if $gc != 0;
	my $repo = PgbTest::tempdir();
	my %env = (HOME => $repo, GIT_CONFIG_NOSYSTEM => 1, GIT_AUTHOR_NAME => 't',
	    GIT_AUTHOR_EMAIL => 't@example.org', GIT_COMMITTER_NAME => 't',
	    GIT_COMMITTER_EMAIL => 't@example.org');
	my $git = sub {
		my ($c2, $o, $e2) = PgbTest::run({ cwd => $repo, env => \%env }, 'git', @_);
		return wantarray ? ($c2, $o . $e2) : $c2;
	};
	my $pgb = sub { return PgbTest::run({ cwd => $repo }, $pgbundle, @_) };
	my $dir = "$repo/migrations";

	$git->('init', '-q', '-b', 'main');
	PgbTest::write_file("$dir/001_users.sql", "CREATE TABLE users (id int);\n");
	$pgb->('sum', 'migrations', '--fix');
	$git->('add', '-A');
	is($git->('commit', '-q', '-m', 'base'), 0, 'git: a base commit with its sum file');

	$git->('checkout', '-q', '-b', 'a');
	PgbTest::write_file("$dir/002_orders.sql", "CREATE TABLE orders (id int);\n");
	($code) = $pgb->('build', 'migrations', '--unsigned', '-o', "$repo/a.pgb");
	is($code, 0, 'branch a: build adds its migration to the sum file');
	$git->('add', 'migrations');
	$git->('commit', '-q', '-m', 'a');

	$git->('checkout', '-q', 'main');
	$git->('checkout', '-q', '-b', 'b');
	PgbTest::write_file("$dir/003_items.sql", "CREATE TABLE items (id int);\n");
	$pgb->('sum', 'migrations', '--fix');
	$git->('add', 'migrations');
	$git->('commit', '-q', '-m', 'b');

	$git->('checkout', '-q', 'main');
	$git->('merge', '-q', 'a');
	my ($mc, $mout) = $git->('merge', 'b');
	isnt($mc, 0, 'merging the second branch fails');
	like($mout, qr{CONFLICT \(content\): Merge conflict in migrations/pgbundle\.sum}, 'with a conflict in pgbundle.sum');
	my (undef, $unmerged) = $git->('diff', '--name-only', '--diff-filter=U');
	is($unmerged, "migrations/pgbundle.sum\n", 'the only conflicted file');

	($code, undef, $err) = $pgb->('check', 'migrations');
	is($code, 1, 'check refuses the conflicted sum file');
	like($err, qr{^migrations/pgbundle\.sum:3: error: unresolved merge conflict: two branches added migrations}m,
	    'at the conflict marker');
	($code) = $pgb->('sum', 'migrations', '--fix');
	($code, undef, $err) = $pgb->('check', 'migrations');
	is($code, 0, 'after sum --fix, check agrees') or diag($err);
	like(PgbTest::read_file("$dir/pgbundle.sum"), qr/\n1 users \S+\n2 orders \S+\n3 items \S+\n\z/,
	    'with both branches\' migrations, in order');
}

done_testing();
