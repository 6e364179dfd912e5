#!/usr/bin/perl
# 026_pooler.pl - a session advisory lock means nothing behind a
# transaction pooler, so pgapply refuses when its backend changes between
# transactions.  PgBouncer in transaction mode with round-robin server
# connections hands consecutive transactions to different backends.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

my $bouncer = '/usr/sbin/pgbouncer';
plan skip_all => 'pgbouncer is not installed (scripts/deps.sh installs it)' unless -x $bouncer;

my $pg = PgbTest::Server->new;
my $db = $pg->createdb;
my $dir = PgbTest::tempdir();
my $port = PgbTest::free_port();
my $sock = $pg->host;
PgbTest::write_file("$dir/users.txt", qq{"postgres" ""\n});
PgbTest::write_file("$dir/pgbouncer.ini", <<"EOF_INI");
[databases]
$db = host=$sock port=@{[ $pg->port ]} dbname=$db user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 2
min_pool_size = 2
server_round_robin = 1
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
EOF_INI
chmod 0644, "$dir/pgbouncer.ini", "$dir/users.txt";
system('chown', '-R', 'postgres', $dir) if $> == 0;
my @run = $> == 0 ? ('runuser', '-u', 'postgres', '--') : ();
my $p = PgbTest::spawn({}, @run, $bouncer, "$dir/pgbouncer.ini");
END { $p->signal('TERM') if $p; }

# Wait until it accepts connections and both server connections exist.
my $conn = "host=127.0.0.1 port=$port user=postgres dbname=$db";
my $up = 0;
for (1 .. 50) {
	my ($c) = PgbTest::run(PgbTest::pg_bin('psql'), '-X', '-Atc', 'SELECT 1', $conn);
	if ($c == 0) { $up = 1; last }
	select(undef, undef, undef, 0.1);
}
ok($up, 'pgbouncer accepts connections');
# Two transactions at once make the pool open its second server connection.
my @warm = map { PgbTest::spawn({}, PgbTest::pg_bin('psql'), '-X', '-Atc',
    'SELECT pg_sleep(1)', $conn) } 1 .. 2;
$_->wait for @warm;
my (undef, $pids) = PgbTest::run(PgbTest::pg_bin('psql'), '-X', '-At', '-c',
    'SELECT pg_backend_pid()', '-c', 'SELECT pg_backend_pid()', $conn);
my @pids = split /\n/, $pids;
isnt($pids[0], $pids[1], 'consecutive transactions reach different backends');

my $b = Pgb::bundle(Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n"));
my ($code, undef, $err) = PgbTest::run(PgbTest::bin('pgapply'), 'apply', $b,
    '--pubkey', Pgb::pub(), '--db', $conn);
is($code, 4, 'pgapply behind a transaction pooler: exit 4');
like($err, qr/the database session moved from backend \d+ to \d+: a transaction pooler is in the way/,
    'says why');
is($pg->psql($db, "SELECT to_regclass('a') IS NULL"), 't', 'and applied nothing');

($code, undef, $err) = Pgb::pgapply($pg, $db, 'apply', $b, '--lock-wait', '2');
is($code, 0, 'no lock was left behind the pooler: directly connected it applies') or diag($err);

done_testing();
