#!/usr/bin/perl
# 010_build.pl - pgbundle build/check: every rejection with its exact
# file:line message and exit status, all errors of a run reported, lint
# warnings and --strict, directives, \i/\ir, keygen, determinism, and
# interoperability with tar, openssl and sha256sum.
use strict;
use warnings;

use File::Basename qw(dirname);
use Test::More;
use PgbTest;
use Pgb;

my $pgbundle = PgbTest::bin('pgbundle');

# check DIR from the folder that holds it (the include root); returns
# ($code, $stderr)
sub check {
	my ($dir, @opts) = @_;
	my ($code, undef, $err) = PgbTest::run({ cwd => dirname($dir) },
	    $pgbundle, 'check', $dir, @opts);
	return ($code, $err);
}

sub rejects {
	my ($files, $re, $name) = @_;
	my $dir = Pgb::migrations(%$files);
	my ($code, $err) = check($dir);
	is($code, 1, "$name: exit 1");
	like($err, $re, "$name: message") or diag($err);
}

my $ok = "CREATE TABLE t (id int);\n";

# --- names and versions --------------------------------------------------------
rejects({ '001_initial_schema.sql' => $ok,
	  '001_standardize_feature_flag_names.sql' => $ok },
    qr{/001_standardize_feature_flag_names\.sql:1: error: duplicate version 1: also used by '\S+/001_initial_schema\.sql'},
    'duplicate version names both files');
rejects({ '1_a.sql' => $ok, '001_b.sql' => $ok },
    qr{duplicate version 1}, '001 and 1 are the same version');
rejects({ '001_a.sql' => $ok, '002_b.down.sql' => $ok },
    qr{/002_b\.down\.sql:1: error: down script without an up migration for version 2},
    'down script without its up');
rejects({ '001_a.sql' => $ok, 'add_users.sql' => $ok },
    qr{/add_users\.sql:1: error: cannot parse migration file name}, 'unparsable name');
rejects({ '001_a b.sql' => $ok },
    qr{cannot parse migration file name}, 'a space in a name');
{
	# An empty migration is valid (tests/e2e/014_empty_scripts.pl): a warning.
	my ($code, $err) = check(Pgb::migrations('001_a.sql' => "-- nothing here\n\n"));
	is($code, 0, 'empty migration: accepted');
	like($err, qr{/001_a\.sql:1: warning: migration has no statements: applying it changes nothing \[empty-up\]},
	    'empty migration: linted');
}
rejects({ '001_a.sql' => "SELECT 1;\nSELECT '\xff';\n" },
    qr{/001_a\.sql:2: error: invalid UTF-8}, 'invalid UTF-8 with its line');
rejects({ '001_a.sql' => "SELECT 1;\n\nSELECT '\x00';\n" },
    qr{/001_a\.sql:3: error: NUL byte}, 'NUL byte with its line');

# --- unterminated constructs, reported at the line where they opened -------------
rejects({ '001_a.sql' => "SELECT 1;\nSELECT 'abc;\nSELECT 2;\n" },
    qr{/001_a\.sql:2: error: unterminated quoted string}, 'unterminated string');
rejects({ '001_a.sql' => "SELECT 1;\n\nSELECT \"abc;\n" },
    qr{/001_a\.sql:3: error: unterminated quoted identifier}, 'unterminated identifier');
rejects({ '001_a.sql' => "CREATE FUNCTION f() RETURNS int AS \$body\$\nSELECT 1;\n\$bod\$ LANGUAGE sql;\n" },
    qr{/001_a\.sql:1: error: unterminated dollar-quoted string}, 'unterminated dollar quote');
rejects({ '001_a.sql' => "SELECT 1;\n/* outer /* inner */\nSELECT 2;\n" },
    qr{/001_a\.sql:2: error: unterminated block comment}, 'unterminated nested comment');
rejects({ '001_a.sql' => "CREATE TABLE t (a int);\nCOPY t (a) FROM stdin;\n1\n2\n" },
    qr{/001_a\.sql:2: error: unterminated COPY data}, 'COPY data without \\.');

# --- psql meta-commands --------------------------------------------------------------
rejects({ '001_a.sql' => "SELECT 1;\n\\connect other\n" },
    qr{/001_a\.sql:2: error: psql meta-command '\\connect' is not supported}, 'backslash command');
rejects({ '001_a.sql' => "\\set foo bar\nSELECT 1;\n" },
    qr{/001_a\.sql:1: error: psql variable commands are not supported}, '\\set of a variable');
{
	my $dir = Pgb::migrations('001_a.sql' => "\\set ON_ERROR_STOP on\n$ok");
	my ($code, $err) = check($dir);
	is($code, 0, '\\set ON_ERROR_STOP is accepted') or diag($err);
}

# --- what psql does on the client: COPY ... TO STDOUT, variables -----------------------
my $copy_out = 'COPY ... TO STDOUT writes to the client, which a migration cannot use';
rejects({ '001_a.sql' => "CREATE TABLE t (a int);\nCOPY t TO STDOUT;\n" },
    qr{/001_a\.sql:2: error: \Q$copy_out\E\n}, 'COPY ... TO STDOUT');
rejects({ '001_a.sql' => "CREATE TABLE t (a int);\n\ncopy (SELECT a\n  FROM t) /* out */ to\n"
	. "-- where\n  StdOut WITH (FORMAT csv);\nSELECT 1;\n" },
    qr{/001_a\.sql:3: error: \Q$copy_out\E\n}, 'COPY (query) TO STDOUT over lines, named at its first');
rejects({ '001_a.sql' => "CREATE TABLE t (a int);\nCOPY t TO STDIN;\n" },
    qr{/001_a\.sql:2: error: \QCOPY ... TO STDIN writes to the client\E}, 'COPY ... TO STDIN is the same');
rejects({ '001_a.sql' => "CREATE TABLE t (a int);\n",
	  '001_a.down.sql' => "SELECT 1;\nCOPY t TO STDOUT;\nDROP TABLE t;\n" },
    qr{/001_a\.down\.sql:2: error: \Q$copy_out\E\n}, 'COPY ... TO STDOUT in a down script');
rejects({ '001_a.sql' => "CREATE TABLE t (a int);\n\\ir lib/dump.sql\n",
	  'lib/dump.sql' => "-- dump\nSELECT 1;\n\nCOPY t TO STDOUT;\n" },
    qr{/lib/dump\.sql:4: error: \Q$copy_out\E\n}, 'COPY ... TO STDOUT in an included file');

my $interp = 'is not supported: pgapply sends the text as written';
my $builtin = 'with the value of its built-in variable, but pgapply sends the text as written';
rejects({ '001_a.sql' => "SELECT 1;\nCREATE TABLE t (a text DEFAULT :'name');\n" },
    qr{/001_a\.sql:2: error: psql variable interpolation :'name' \Q$interp\E\n}, ":'name'");
rejects({ '001_a.sql' => "CREATE TABLE\n  :\"tbl\" (a int);\n" },
    qr{/001_a\.sql:2: error: psql variable interpolation :"tbl" \Q$interp\E\n}, ':"name"');
rejects({ '001_a.sql' => "SELECT :{?x};\n" },
    qr{/001_a\.sql:1: error: psql variable interpolation :\{\?x\} \Q$interp\E\n}, ':{?name}');
rejects({ '001_a.sql' => "CREATE TABLE t (a int[]);\n\nSELECT a[1:DBNAME] FROM t;\n" },
    qr{/001_a\.sql:3: error: psql would replace :DBNAME \Q$builtin\E\n}, ':DBNAME, a built-in variable');
rejects({ '001_a.sql' => "CREATE TABLE t (a int);\n",
	  '001_a.down.sql' => "DROP TABLE t;\nSELECT :'USER';\n" },
    qr{/001_a\.down\.sql:2: error: psql variable interpolation :'USER' \Q$interp\E\n},
    'a variable in a down script');
rejects({ '001_a.sql' => "SELECT 1;\n\\ir lib/v.sql\n",
	  'lib/v.sql' => "SELECT 2;\nSELECT\n  :SERVER_VERSION_NUM;\n" },
    qr{/lib/v\.sql:3: error: psql would replace :SERVER_VERSION_NUM \Q$builtin\E\n},
    'a variable in an included file');
rejects({ '20230101000000_a.sql' => "-- migrate:up\nCREATE TABLE t (a int);\n\n"
	. "-- migrate:down\nDROP TABLE t;\nSELECT :PORT;\n" },
    qr{/20230101000000_a\.sql:6: error: psql would replace :PORT \Q$builtin\E\n},
    'a variable in a dbmate down section, at its line in the file');
{
	# Every variable of a file, each at its line; :n is no built-in.
	my $dir = Pgb::migrations('001_a.sql' => "SELECT :'a', :\"b\";\nSELECT :VERSION, :n;\n");
	my ($code, $err) = check($dir);
	is($code, 1, 'several variables: exit 1');
	my @lines = $err =~ m{/001_a\.sql:(\d+): error: }g;
	is("@lines", '1 1 2', 'each variable is reported at its line') or diag($err);
}
{
	# What psql leaves alone builds.
	my $dir = Pgb::migrations(
	    '001_a.sql' => "CREATE TABLE t (a int[], b text);\n"
		. "INSERT INTO t SELECT (ARRAY[1,2,3])[1:2], x::text FROM (SELECT 1 AS x) s;\n"
		. "SELECT a[1:n], a[2:], a[:n] FROM t, (SELECT 2 AS n) s;\n"
		. "SELECT a[1:dbname] FROM t, (SELECT 1 AS dbname) s; -- :PORT :'x'\n"
		. "INSERT INTO t (b) VALUES (':name :''x'' :\"y\" :{?z} :DBNAME'), (E':PORT\\''), (\$\$:'x'\$\$);\n"
		. "/* :\"y\" :VERSION */ SELECT 'COPY t TO STDOUT', 1 AS \":PORT\";\n"
		. "CREATE FUNCTION f() RETURNS text LANGUAGE plpgsql AS \$\$\n"
		. "BEGIN RETURN :'x' || :HOST; END \$\$;\n"
		. "COPY t TO '/tmp/t.out';\nCOPY t TO PROGRAM 'cat >/dev/null';\n"
		. "COPY t (b) FROM STDOUT;\n:PORT\n\\.\n");
	my ($code, $bundle, $err) = Pgb::build($dir);
	is($code, 0, 'casts, slices, strings, bodies, comments, COPY to a file build') or diag($err);
	unlike($err, qr/error/, 'with no error');
}

# --- includes -------------------------------------------------------------------------
{
	my $dir = Pgb::migrations(
	    '001_a.sql' => "SELECT 1;\n\\ir lib/fn.sql\nSELECT 3;\n",
	    'lib/fn.sql' => "-- shared\nCREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1';\n");
	my ($code, $bundle, $err) = Pgb::build($dir, '--include-root', dirname($dir));
	is($code, 0, '\\ir is resolved relative to the including file') or diag($err);
	my (undef, $out) = PgbTest::run($pgbundle, 'inspect', $bundle, '--json');
	like($out, qr/"name":"a",.*"statements":3/, 'the included statement is part of the migration');
	my (undef, $tar) = PgbTest::run('tar', '-xzOf', $bundle, 'migrations/001_a.sql');
	like($tar, qr/SELECT 1;\n-- shared\nCREATE FUNCTION one\(\).*\nSELECT 3;\n/s,
	    'the included text is what ships');
	my (undef, $man) = PgbTest::run('tar', '-xzOf', $bundle, 'MANIFEST');
	like($man, qr{^stmt \d+ \d+ 2 src=\S*lib/fn\.sql$}m,
	    'the manifest records where included statements came from');

	PgbTest::write_file("$dir/lib/loop.sql", "\\ir loop.sql\n");
	PgbTest::write_file("$dir/002_b.sql", "\\ir lib/loop.sql\n");
	($code, $err) = check($dir);
	is($code, 1, 'an include cycle is an error');
	like($err, qr{lib/loop\.sql:1: error: include cycle}, 'named at the line that closes it');

	my $d2 = Pgb::migrations('001_a.sql' => "\\i missing.sql\n");
	($code, $err) = check($d2);
	like($err, qr{/001_a\.sql:1: error: cannot include 'missing\.sql'}, 'a missing include');
}

{
	# \i resolves from the directory of the build, or --include-root.
	my $lib = PgbTest::tempdir();
	PgbTest::write_file("$lib/shared/ext.sql", "CREATE TABLE from_root ();\n");
	my $dir = Pgb::migrations('001_a.sql' => "\\i shared/ext.sql\n\\unset ON_ERROR_STOP\n");
	my ($code, $err) = check($dir, '--include-root', $lib);
	is($code, 0, '\\i is resolved from --include-root') or diag($err);
	(my $c2, undef, $err) = PgbTest::run({ cwd => $lib }, $pgbundle, 'check', $dir);
	is($c2, 0, '\\i is resolved from the directory of the build') or diag($err);
}

# --- size cap -------------------------------------------------------------------------
{
	my $dir = Pgb::migrations('001_a.sql' => $ok);
	open(my $fh, '>', "$dir/002_big.sql") or die;
	print $fh "-- padding\n" x (64 * 1024 * 1024 / 11 + 10);
	close $fh;
	my ($code, $err) = check($dir);
	is($code, 1, 'a file over the size cap is an error');
	like($err, qr{/002_big\.sql:1: error: file is \d+ bytes, over the limit of 67108864},
	    'and says the size and the limit');
}

# --- check writes nothing -------------------------------------------------------------
{
	my $d = PgbTest::tempdir();
	my $dir = Pgb::migrations('001_a.sql' => $ok);
	my ($code, $out) = PgbTest::run({ cwd => $d }, $pgbundle, 'check', $dir);
	is($code, 0, 'check on a good folder exits 0');
	opendir(my $dh, $d) or die;
	is(scalar(grep { !/^\./ } readdir $dh), 0, 'check writes nothing');
}

# --- transaction control and mode ---------------------------------------------------
rejects({ '001_a.sql' => "CREATE TABLE t (id int);\nCREATE INDEX CONCURRENTLY t_i ON t (id);\n" },
    qr{/001_a\.sql:2: error: CREATE INDEX CONCURRENTLY cannot run inside a transaction block: mark the migration '-- pgbundle:no-transaction'},
    'CREATE INDEX CONCURRENTLY needs no-transaction');
rejects({ '001_a.sql' => "VACUUM;\n" },
    qr{/001_a\.sql:1: error: VACUUM cannot run inside a transaction block}, 'VACUUM');
rejects({ '001_a.sql' => "CREATE TABLE t (id int);\nCOMMIT;\nCREATE TABLE u (id int);\n" },
    qr{/001_a\.sql:2: error: transaction control statement not allowed}, 'a stray COMMIT');
rejects({ '001_a.sql' => "CREATE TABLE t (id int);\nSAVEPOINT s;\n" },
    qr{/001_a\.sql:2: error: transaction control}, 'SAVEPOINT');
{
	my $dir = Pgb::migrations('001_a.sql' => "BEGIN;\n$ok" . "COMMIT;\n");
	my ($code, $err) = check($dir);
	is($code, 0, 'a BEGIN ... COMMIT wrapper is accepted');
	like($err, qr{/001_a\.sql:1: note: BEGIN \.\.\. COMMIT wrapper dropped}, 'with a note');
	my ($c2, $bundle) = Pgb::build($dir);
	my (undef, $out) = PgbTest::run($pgbundle, 'inspect', $bundle, '--json');
	like($out, qr/"statements":1,/, 'and the wrapper is not shipped as statements');
}
rejects({ '001_a.sql' => "-- pgbundle:frobnicate\n$ok" },
    qr{/001_a\.sql:1: error: unknown directive '-- pgbundle:frobnicate': pgbundle reads '-- pgbundle:no-transaction', }, 'unknown directive');

# --- all errors of a run, not just the first ------------------------------------------
{
	my $dir = Pgb::migrations(
	    '001_a.sql' => "SELECT 'x;\n",
	    '002_b.sql' => "\\gexec\n",
	    '003_c.sql' => "VACUUM;\n",
	    '003_d.sql' => $ok);
	my ($code, $err) = check($dir);
	is($code, 1, 'several problems: exit 1');
	my @errors = $err =~ /^\S+:\d+: error: /mg;
	is(scalar @errors, 4, 'every problem is reported') or diag($err);
	like($err, qr/4 errors/, 'with a count');
}

# --- lint and --strict ---------------------------------------------------------------------
{
	my $dir = Pgb::migrations(
	    '001_t.sql' => "CREATE TABLE t (id int, old text);\n",
	    '001_t.down.sql' => "DROP TABLE t;\n",
	    '002_lint.sql' => "ALTER TABLE t DROP COLUMN old;\nCREATE INDEX t_id ON t (id);\n"
		. "ALTER TABLE t ADD COLUMN n int NOT NULL;\nALTER TABLE t ALTER COLUMN id TYPE bigint;\n"
		. "DROP TABLE IF EXISTS gone;\n",
	    '003_allowed.sql' => "-- pgbundle:allow drop-table, no-down\nDROP TABLE IF EXISTS x;\n",
	    '004_idx.sql' => "-- pgbundle:no-transaction\n-- pgbundle:allow no-down\n"
		. "CREATE INDEX CONCURRENTLY t_c ON t (id);\n");
	my ($code, $err) = check($dir);
	is($code, 0, 'lint warnings alone do not fail') or diag($err);
	like($err, qr{/002_lint\.sql:1: warning: DROP COLUMN loses data \[drop-column\]}, 'drop-column');
	like($err, qr{/002_lint\.sql:2: warning: CREATE INDEX without CONCURRENTLY blocks writes to 't', which an earlier migration created \[index-locks\]},
	    'index-locks on a table an earlier migration created');
	like($err, qr{/002_lint\.sql:3: warning: .*NOT NULL without DEFAULT.* \[not-null-no-default\]}, 'not-null-no-default');
	like($err, qr{/002_lint\.sql:4: warning: .*TYPE.* \[alter-type\]}, 'alter-type');
	like($err, qr{/002_lint\.sql:5: warning: DROP TABLE loses data \[drop-table\]}, 'drop-table');
	like($err, qr{/002_lint\.sql:1: warning: migration has no down script \[no-down\]}, 'no-down');
	unlike($err, qr{003_allowed}, 'pgbundle:allow silences rules in its file');
	like($err, qr{/004_idx\.sql:3: warning: statement in a no-transaction migration is not idempotent},
	    'not-idempotent in a no-transaction migration');
	($code, $err) = check($dir, '--strict');
	is($code, 1, '--strict makes warnings errors');
	like($err, qr{/002_lint\.sql:1: error: DROP COLUMN loses data}, 'printed as errors');
}

# --- keygen ------------------------------------------------------------------------------
{
	my $d = PgbTest::tempdir();
	my ($code, $out, $err) = PgbTest::run($pgbundle, 'keygen', '-o', "$d/k");
	is($code, 0, 'keygen exits 0');
	like($out, qr/^[0-9a-f]{16}$/, 'keygen prints the key id');
	is((stat "$d/k.key")[2] & 07777, 0600, 'private key is mode 0600');
	like(PgbTest::read_file("$d/k.key"), qr/^-----BEGIN PRIVATE KEY-----/, 'PKCS#8 PEM');
	like(PgbTest::read_file("$d/k.pub"), qr/^-----BEGIN PUBLIC KEY-----/, 'SPKI PEM');
	($code, undef, $err) = PgbTest::run($pgbundle, 'keygen', '-o', "$d/k");
	is($code, 3, 'keygen refuses to overwrite');
	like($err, qr/already exists/, 'and says so');
	($code) = PgbTest::run('openssl', 'pkey', '-in', "$d/k.key", '-noout');
	is($code, 0, 'openssl reads the private key');

	# A key made by openssl signs bundles, and pgbundle's verifies with openssl.
	PgbTest::run('openssl', 'genpkey', '-algorithm', 'ed25519', '-out', "$d/o.key");
	PgbTest::run('openssl', 'pkey', '-in', "$d/o.key", '-pubout', '-out', "$d/o.pub");
	my $dir = Pgb::migrations('001_a.sql' => $ok);
	($code, undef, $err) = PgbTest::run($pgbundle, 'build', $dir, '-o', "$d/x.pgb", '--key', "$d/o.key", '--sums');
	is($code, 0, 'an openssl key signs a bundle') or diag($err);
	($code, undef, $err) = PgbTest::run('openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', "$d/o.pub",
	    '-rawin', '-in', "$d/x.pgb", '-sigfile', "$d/x.pgb.sig");
	is($code, 0, 'openssl pkeyutl -verify accepts the signature') or diag($err);
	($code, undef, $err) = PgbTest::run($pgbundle, 'build', $dir, '-o', "$d/y.pgb", '--key', "$d/k.key", '--sums');
	($code) = PgbTest::run('openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', "$d/k.pub",
	    '-rawin', '-in', "$d/y.pgb", '-sigfile', "$d/y.pgb.sig");
	is($code, 0, 'openssl verifies with a key pgbundle made');
	($code) = PgbTest::run('openssl', 'pkeyutl', '-verify', '-pubin', '-inkey', "$d/o.pub",
	    '-rawin', '-in', "$d/y.pgb", '-sigfile', "$d/y.pgb.sig");
	isnt($code, 0, 'openssl rejects it with another key');
	($code, my $sums) = PgbTest::run({ cwd => $d }, 'sha256sum', '-c', 'SHA256SUMS');
	is($code, 0, 'sha256sum -c accepts SHA256SUMS');
	like($sums, qr/^x\.pgb: OK\ny\.pgb: OK$/m, 'one line per bundle');

	# Without --sums, SHA256SUMS only in a folder named bundles: a shared
	# folder's file is never appended to.
	my $shared = PgbTest::tempdir();
	PgbTest::write_file("$shared/SHA256SUMS", "someone else's\n");
	($code, undef, $err) = PgbTest::run($pgbundle, 'build', $dir, '-o', "$shared/z.pgb",
	    '--key', "$d/k.key");
	is($code, 0, 'a bundle in a shared folder') or diag($err);
	ok(-f "$shared/z.pgb" && -f "$shared/z.pgb.sig", 'written, with its signature');
	is(PgbTest::read_file("$shared/SHA256SUMS"), "someone else's\n",
	    'the folder\'s SHA256SUMS is left as it was');
	my $fresh = PgbTest::tempdir();
	($code, undef, $err) = PgbTest::run({ cwd => $fresh }, $pgbundle, 'build', $dir,
	    '-o', 'z.pgb', '--key', "$d/k.key");
	is($code, 0, '-o FILE in the current folder') or diag($err);
	ok(!-e "$fresh/SHA256SUMS", 'no SHA256SUMS is made there');
	mkdir "$fresh/bundles" or die "mkdir: $!";
	($code, undef, $err) = PgbTest::run({ cwd => "$fresh/bundles" }, $pgbundle, 'build',
	    $dir, '-o', './z.pgb', '--key', "$d/k.key");
	is($code, 0, 'into ./z.pgb in a folder named bundles') or diag($err);
	($code, undef, $err) = PgbTest::run($pgbundle, 'build', $dir, '-o',
	    "$fresh/bundles/../bundles/w.pgb", '--key', "$d/k.key");
	is($code, 0, 'and into bundles/../bundles/w.pgb') or diag($err);
	($code, $sums) = PgbTest::run({ cwd => "$fresh/bundles" }, 'sha256sum', '-c', 'SHA256SUMS');
	is($sums, "z.pgb: OK\nw.pgb: OK\n", 'a folder named bundles: both lines');
	($code, my $list) = PgbTest::run('tar', '-tzf', "$d/y.pgb");
	is($list, "MANIFEST\nmigrations/001_a.sql\n", 'tar -tzf lists the bundle');
}

# --- determinism and the sample migrations ----------------------------------------------
{
	my $root = PgbTest::root();
	my ($c1, $b1) = Pgb::build("$root/migrations");
	my ($c2, $b2) = Pgb::build("$root/migrations");
	is($c1 + $c2, 0, 'the sample migrations build');
	ok(PgbTest::read_file($b1) eq PgbTest::read_file($b2),
	    'same sources and key: byte-identical bundle');
	ok(PgbTest::read_file("$b1.sig") eq PgbTest::read_file("$b2.sig"),
	    'and byte-identical signature');
	my $head = substr(PgbTest::read_file($b1), 0, 10);
	is(unpack('H*', substr($head, 4, 4)), '00000000', 'gzip header time is zero');
	is(ord(substr($head, 3, 1)) & 0x08, 0, 'gzip header has no file name');
	my (undef, $list) = PgbTest::run('tar', '-tvzf', $b1);
	unlike($list, qr/^(?!-rw-r--r-- 0\/0 ).+$/m, 'every entry is a 0644 file owned by 0/0');
	my ($code, $out) = PgbTest::run($pgbundle, 'inspect', $b1, '--pubkey', Pgb::pub());
	is($code, 0, 'inspect --pubkey verifies');
	like($out, qr/signature verified/, 'and says so');
	like($out, qr/^12\s+orders_account_created_idx\s+no-transaction/m, 'inspect lists modes');

	my $d = PgbTest::tempdir();
	($code, $out) = PgbTest::run({ cwd => $d }, $pgbundle, 'build', "$root/migrations",
	    '--key', Pgb::key(), '--project', 'shop', '--target', 'prod', '-q');
	is($code, 0, 'build with the default output path');
	is($out, "bundles/shop-prod-13.pgb\n", 'named after project, target and last version');
	ok(-f "$d/bundles/shop-prod-13.pgb.sig", 'signature beside it');

	($code, undef, my $err) = PgbTest::run($pgbundle, 'build', "$root/migrations", '-o', "$d/u.pgb");
	is($code, 2, 'build without --key or --unsigned is a usage error');
	like($err, qr/no signing key/, 'and says so');
}

done_testing();
