#!/usr/bin/perl
# 000_harness.pl - the test harness itself: running commands, a throwaway
# PostgreSQL server (start, psql, stop, restart), and that the server is
# stopped and its directory removed when the object goes away, when a test
# dies and when a test is killed with SIGTERM.
use strict;
use warnings;

use Test::More;
use PgbTest;

my $perl = $^X;

# Is process $pid alive?  A dead postmaster may linger as a zombie until
# init reaps it (pg_ctl, its parent, has exited), so give it a moment.
sub alive {
	my ($pid) = @_;
	for (1 .. 50) {
		return 0 unless kill(0, $pid);
		if (open(my $fh, '<', "/proc/$pid/stat")) {
			my $st = <$fh>;
			close($fh);
			return 0 if defined $st && $st =~ /^\d+ \(.*\) Z/;
		}
		select(undef, undef, undef, 0.1);
	}
	return 1;
}

# --- PgbTest::run --------------------------------------------------------
{
	my ($code, $out, $err) = PgbTest::run($perl, '-e',
	    'print "out\n"; print STDERR "err\n"; exit 3');
	is($code, 3, 'run: exit code');
	is($out, "out\n", 'run: stdout');
	is($err, "err\n", 'run: stderr');

	($code, $out) = PgbTest::run({ stdin => "a b;c\n" }, $perl, '-ne',
	    'print uc');
	is($out, "A B;C\n", 'run: stdin, arguments not split by a shell');

	($code, $out) = PgbTest::run({ env => { PGB_X => 'y', HOME => undef } },
	    $perl, '-e', 'print "$ENV{PGB_X}:", exists $ENV{HOME} ? 1 : 0');
	is($out, 'y:0', 'run: env sets and removes variables');

	($code, undef, $err) = PgbTest::run('/nonexistent/program');
	is($code, 127, 'run: a missing program exits 127');
	like($err, qr/cannot run/, 'run: and says why');

	my $p = PgbTest::spawn({ timeout => 1 }, $perl, '-e', 'sleep 30');
	($code) = $p->wait;
	is($code, 128 + 15, 'run: a command past its timeout gets SIGTERM');
	ok($p->timed_out, 'run: timed_out');

	ok(!exists $ENV{PGHOST} && !exists $ENV{DATABASE_URL},
	    'libpq environment cleared');
}

# --- small helpers ---------------------------------------------------------
{
	like(PgbTest::bin('pgapply'), qr{/bin/pgapply$}, 'bin');
	my ($key, $pub) = PgbTest::test_key();
	like($key, qr{/tests/data/keys/test\.key$}, 'test_key: private');
	like($pub, qr{/tests/data/keys/test\.pub$}, 'test_key: public');

	my $d = PgbTest::tempdir();
	ok(-d $d, 'tempdir exists');
	is((stat $d)[2] & 07777, 0755, 'tempdir is 0755');
	my $f = PgbTest::write_file("$d/sub/x.sql", "SELECT 1;\n\x00\xff");
	is(PgbTest::read_file($f), "SELECT 1;\n\x00\xff",
	    'write_file/read_file keep bytes');
}

# --- a server ------------------------------------------------------------
my $pg = PgbTest::Server->new;
ok($pg->is_running, 'server is running');
my $pid = $pg->pid;
like($pid, qr/^\d+$/, 'postmaster pid');
isnt($pg->port, 5432, 'not the default port');
my $dir = $pg->dir;
like($pg->connstr('x'), qr/^host=\Q$dir\E port=\d+ user=postgres dbname=x$/,
    'connstr');
like($pg->url('x'), qr{^postgres://postgres\@127\.0\.0\.1:\d+/x$}, 'url');

my $db = $pg->createdb;
is($pg->psql($db, 'SELECT current_database()'), $db, 'createdb + psql');
is($pg->psql($db, "CREATE TABLE t (a int, b text);\n"
    . "INSERT INTO t VALUES (1, 'x'), (2, 'y');\n"
    . 'SELECT a, b FROM t ORDER BY a'), "1|x\n2|y",
    'psql: script, rows and columns');
is($pg->psql($db, 'SHOW fsync'), 'off', 'fsync is off');
ok(!eval { $pg->psql($db, 'SELECT 1/0'); 1 }, 'psql dies on error');
like($@, qr/division by zero/, 'psql: error text in the exception');
$pg->psql_ok($db, 'SELECT 1', 'psql_ok');
$pg->psql_fails($db, 'SELECT nope', 'psql_fails', qr/column "nope"/);

my ($code, $out) = PgbTest::run(PgbTest::pg_bin('psql'), '-XAt', '-d',
    $pg->url($db), '-c', 'SELECT inet_server_addr()');
is($out, "127.0.0.1\n", 'url connects over TCP to 127.0.0.1');
($code, $out) = PgbTest::run({ env => { $pg->env($db) } },
    PgbTest::pg_bin('psql'), '-XAt', '-c', 'SELECT current_database()');
is($out, "$db\n", 'env: libpq variables');

my $schema = $pg->dump_schema($db);
SKIP: {
	skip 'pg_dump is older than the server: dump_schema is catalog_schema', 2
	    if $pg->server_major > PgbTest::pg_dump_major();
	like($schema, qr/^CREATE TABLE public\.t \(/m, 'dump_schema: table');
	unlike($schema, qr/^(?:--|SET |SELECT pg_catalog\.set_config|\\)/m,
	    'dump_schema: no comments, SET lines or \\restrict');
}
my $db2 = $pg->createdb;
$pg->psql($db2, 'CREATE TABLE t (a int, b text)');
is($pg->dump_schema($db2), $schema, 'dump_schema: same schema, same text');
$pg->psql($db2, 'CREATE TABLE u (a int)');
is($pg->dump_schema($db2, exclude_table => ['u']), $schema,
    'dump_schema: exclude_table');

# catalog_schema: what dump_schema gives for a server newer than pg_dump.
my $cat = $pg->catalog_schema($db);
like($cat, qr/^relation r\tpublic\tt\t/m, 'catalog_schema: table');
like($cat, qr/^column\tpublic\tt\t0002 b text f $/m,
    'catalog_schema: columns in order, with type and NOT NULL');
is($pg->catalog_schema($db2, exclude_table => ['u']), $cat,
    'catalog_schema: same schema, same text; exclude_table');
$pg->psql($db2, 'CREATE SCHEMA s; CREATE TABLE s.v (a int)');
is($pg->catalog_schema($db2, exclude_table => ['u'], exclude_schema => ['s']),
    $cat, 'catalog_schema: exclude_schema');
$pg->psql($db2, 'ALTER TABLE t ADD CHECK (a > 0)');
isnt($pg->catalog_schema($db2, exclude_table => ['u'], exclude_schema => ['s']),
    $cat, 'catalog_schema: a new constraint shows');
like($pg->catalog_schema($db, data => 1), qr/^rows "public"\."t": \(1,x\) \(2,y\)$/m,
    'catalog_schema: data => 1 adds the rows');
is($pg->server_major, (PgbTest::pg_version())[0],
    'server_major: the server programs\' major');

$pg->stop_mode('fast');
ok(!$pg->is_running, 'stop_mode fast');
$pg->start;
ok($pg->is_running, 'start again');
is($pg->psql($db, 'SELECT count(*) FROM t'), '2', 'data survives a restart');
$pg->stop_mode('immediate');
$pg->start;
is($pg->psql($db, 'SELECT count(*) FROM t'), '2',
    'and an immediate stop (crash recovery)');
$pid = $pg->pid;
my $data = $pg->datadir;

undef $pg;
ok(!alive($pid), 'undef: postmaster is gone');
my @pg_ctl = (PgbTest::pg_bin('pg_ctl'), 'status', '-D', $data);
unshift @pg_ctl, 'runuser', '-u', 'postgres', '--' if $> == 0;
($code) = PgbTest::run(@pg_ctl);
isnt($code, 0, 'undef: pg_ctl status says not running');
ok(!-e $dir, 'undef: directory removed');

# --- cleanup when a test dies or is killed -------------------------------
my $tmp = PgbTest::tempdir();
my $child = <<'EOF';
use PgbTest;
my $pg = PgbTest::Server->new;
open(my $fh, '>', $ARGV[0]) or die;
print {$fh} $pg->pid, ' ', $pg->dir, "\n";
close($fh);
if ($ARGV[1] eq 'die') { die "boom\n" }
sleep 60;
EOF
for my $how (qw(die term)) {
	my $info = "$tmp/$how";
	my $p = PgbTest::spawn($perl, '-I' . PgbTest::root() . '/tests/lib',
	    '-e', $child, $info, $how);
	for (1 .. 600) {
		last if -s $info || $p->done;
		select(undef, undef, undef, 0.1);
	}
	$p->signal('TERM') if $how eq 'term';
	my ($rc, undef, $err) = $p->wait(60);
	my ($cpid, $cdir) = split ' ', PgbTest::read_file($info);
	isnt($rc, 0, "$how: test process failed");
	ok($cpid && !alive($cpid), "$how: its postmaster is gone")
	    or diag($err);
	ok($cdir && !-e $cdir, "$how: its directory is removed");
}

done_testing;
