#!/usr/bin/perl
# 056_hostile_input.pl - what a migration may not make the compiler read
# or write on the build machine: \i and \ir that leave the include root
# (an absolute path, a ../ escape, a symlink pointing out), a FIFO or a
# device (refused at once, never read), a PEM private key in any shipped
# text (migration, included file, down script); and a symlink planted at
# the name of the compiler's temporary output file, whose target must
# stay untouched.  Each refusal: exit 1, the exact file:line message, no
# bundle written.
use strict;
use warnings;

use File::Basename qw(dirname);
use POSIX ();
use Test::More;
use PgbTest;
use Pgb;

my $pgbundle = PgbTest::bin('pgbundle');
my $key = Pgb::key();

# A repository: the include root, with migrations/ and a private key
# inside it and another key outside, as on a CI runner.
my $top = PgbTest::tempdir();
my $repo = "$top/repo";
my $outside = "$top/outside";
mkdir $_ or die "mkdir $_: $!" for $repo, $outside, "$repo/keys";
my $pem = PgbTest::read_file($key);
like($pem, qr/^-----BEGIN PRIVATE KEY-----$/m, 'the test key is a PEM private key');
PgbTest::write_file("$outside/signing.key", $pem);
PgbTest::write_file("$repo/keys/app.key", $pem);
PgbTest::write_file("$repo/lib/ok.sql", "CREATE TABLE from_lib ();\n");
PgbTest::write_file("$outside/evil.sql", "CREATE TABLE evil ();\n");
symlink("$outside/signing.key", "$repo/lib/link.sql") or die "symlink: $!";
POSIX::mkfifo("$repo/lib/fifo.sql", 0644) or die "mkfifo: $!";

# Build (or check) one migrations folder of the repository, from the
# repository, with a deadline: a FIFO must not block the compiler.
# Returns ($code, $stderr, $bundle).
my $n = 0;
sub compile {
	my ($files, @opts) = @_;
	my $dir = "$repo/m" . ++$n;
	PgbTest::write_file("$dir/$_", $files->{$_}) for keys %$files;
	my $out = "$top/out$n/app.pgb";
	my ($code, undef, $err) = PgbTest::run({ cwd => $repo, timeout => 20 },
	    $pgbundle, 'build', "m$n", '-o', $out, '--key', $key, '--strict',
	    @opts);
	return ($code, $err, $out, "m$n");
}

sub refused {
	my ($name, $files, $want, @opts) = @_;
	my ($code, $err, $out, $dir) = compile($files, @opts);
	$want =~ s/\{DIR\}/$dir/g;
	is($code, 1, "$name: exit 1") or diag($err);
	like($err, qr/^\Q$want\E$/m, "$name: says where and why") or diag($err);
	ok(!-e $out, "$name: no bundle written");
	unlike($err, qr/MC4CAQAwBQYDK2Vw/, "$name: no key material in the message");
}

my $root = $repo;
my $down = "DROP TABLE a;\n";

# --- \i and \ir stay inside the include root ------------------------------------
refused('\\i of an absolute path outside the root',
    { '001_a.sql' => "CREATE TABLE a ();\n\\i $outside/signing.key\n", '001_a.down.sql' => $down },
    "{DIR}/001_a.sql:2: error: cannot include '$outside/signing.key': it resolves "
    . "to '$outside/signing.key', outside the include root '$root' (--include-root)");
refused('\\ir escaping with ../',
    { '001_a.sql' => "CREATE TABLE a ();\n\n\\ir ../../outside/evil.sql\n", '001_a.down.sql' => $down },
    "{DIR}/001_a.sql:3: error: cannot include '{DIR}/../../outside/evil.sql': it "
    . "resolves to '$outside/evil.sql', outside the include root '$root' (--include-root)");
refused('\\i of a symlink pointing outside',
    { '001_a.sql' => "CREATE TABLE a ();\n\\i lib/link.sql\n", '001_a.down.sql' => $down },
    "{DIR}/001_a.sql:2: error: cannot include 'lib/link.sql': it resolves to "
    . "'$outside/signing.key', outside the include root '$root' (--include-root)");
refused('\\ir of a symlink pointing outside',
    { '001_a.sql' => "CREATE TABLE a ();\n\\ir ../lib/link.sql\n", '001_a.down.sql' => $down },
    "{DIR}/001_a.sql:2: error: cannot include '{DIR}/../lib/link.sql': it resolves "
    . "to '$outside/signing.key', outside the include root '$root' (--include-root)");
refused('\\i of a FIFO is refused without blocking',
    { '001_a.sql' => "CREATE TABLE a ();\n\\i lib/fifo.sql\n", '001_a.down.sql' => $down },
    "{DIR}/001_a.sql:2: error: cannot include 'lib/fifo.sql': '$root/lib/fifo.sql' "
    . "is not a regular file");
refused('\\i of a device (the root at /)',
    { '001_a.sql' => "CREATE TABLE a ();\n\\i /dev/zero\n", '001_a.down.sql' => $down },
    "{DIR}/001_a.sql:2: error: cannot include '/dev/zero': '/dev/zero' is not a "
    . "regular file", '--include-root', '/');
refused('\\i of the root itself, a directory',
    { '001_a.sql' => "CREATE TABLE a ();\n\\i .\n", '001_a.down.sql' => $down },
    "{DIR}/001_a.sql:2: error: cannot include '.': '$root' is not a regular file");
refused('a down script\'s \\i is held to the root as well',
    { '001_a.sql' => "CREATE TABLE a ();\n", '001_a.down.sql' => "\\i $outside/evil.sql\n" },
    "{DIR}/001_a.down.sql:1: error: cannot include '$outside/evil.sql': it resolves "
    . "to '$outside/evil.sql', outside the include root '$root' (--include-root)");
{
	# --include-root moves the root: outside is now inside, the repo not.
	my ($code, $err) = compile({ '001_a.sql' => "\\i evil.sql\n",
	    '001_a.down.sql' => $down }, '--include-root', $outside);
	is($code, 0, '--include-root widens what \\i reaches') or diag($err);
	($code, $err) = compile({ '001_a.sql' => "CREATE TABLE a ();\n\\ir ../lib/ok.sql\n",
	    '001_a.down.sql' => $down }, '--include-root', $outside);
	is($code, 1, '--include-root also confines \\ir');
	like($err, qr/\Q: it resolves to '$root\/lib\/ok.sql', outside the include root '$outside'\E/,
	    'naming the resolved path and the root') or diag($err);
	($code, $err) = compile({ '001_a.sql' => "CREATE TABLE a ();\n\\i lib/ok.sql\n\\ir ../lib/ok.sql\n",
	    '001_a.down.sql' => $down });
	is($code, 0, '\\i and \\ir inside the root build') or diag($err);
}

{
	# Files the compiler reads beside the migrations never block either.
	my $dir = Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n",
	    '001_a.down.sql' => $down);
	POSIX::mkfifo("$dir/pgbundle.sum", 0644) or die "mkfifo: $!";
	my ($code, undef, $err) = PgbTest::run({ timeout => 20 }, $pgbundle,
	    'check', $dir);
	is($code, 4, 'a FIFO as pgbundle.sum: refused at once, exit 4') or diag($err);
	is($err, "pgbundle: cannot read '$dir/pgbundle.sum': not a regular file\n",
	    'a FIFO as pgbundle.sum: says so');
	unlink "$dir/pgbundle.sum";
	my $out = PgbTest::tempdir();
	POSIX::mkfifo("$out/SHA256SUMS", 0644) or die "mkfifo: $!";
	($code, undef, $err) = PgbTest::run({ timeout => 20 }, $pgbundle, 'build',
	    $dir, '-o', "$out/app.pgb", '--key', $key, '--sums');
	is($code, 0, 'a FIFO as SHA256SUMS is not read, and replaced') or diag($err);
	ok(-f "$out/SHA256SUMS", 'by a file of its own');
}

# --- a PEM private key never ships ------------------------------------------
my $ship = 'a private key must never ship in a bundle';
refused('\\i of a key inside the root',
    { '001_a.sql' => "CREATE TABLE a ();\n\\i keys/app.key\n", '001_a.down.sql' => $down },
    "keys/app.key:1: error: holds a PEM private key ('-----BEGIN PRIVATE KEY-----'): $ship");
refused('a key pasted into a migration (in a comment)',
    { '001_a.sql' => "CREATE TABLE a ();\n-- old key:\n-- $pem", '001_a.down.sql' => $down },
    "{DIR}/001_a.sql:3: error: holds a PEM private key ('-----BEGIN PRIVATE KEY-----'): $ship");
refused('an OpenSSH key in a string',
    { '001_a.sql' => "CREATE TABLE a (k text);\nINSERT INTO a VALUES ('\n"
	. "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n"
	. "-----END OPENSSH PRIVATE KEY-----');\n", '001_a.down.sql' => $down },
    "{DIR}/001_a.sql:3: error: holds a PEM private key ('-----BEGIN OPENSSH PRIVATE KEY-----'): $ship");
refused('an encrypted key in a down script',
    { '001_a.sql' => "CREATE TABLE a ();\n", '001_a.down.sql' => "DROP TABLE a;\n"
	. "/*\n-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJBgkqhkiG9w0BBQ0w\n"
	. "-----END ENCRYPTED PRIVATE KEY-----\n*/\n" },
    "{DIR}/001_a.down.sql:3: error: holds a PEM private key ('-----BEGIN ENCRYPTED PRIVATE KEY-----'): $ship");
refused('an RSA key in an included file',
    { '001_a.sql' => "CREATE TABLE a ();\n\\ir lib.sql\n", '001_a.down.sql' => $down,
      'lib.sql' => "SELECT 1;\n\n-- -----BEGIN RSA PRIVATE KEY-----\n" },
    "{DIR}/lib.sql:3: error: holds a PEM private key ('-----BEGIN RSA PRIVATE KEY-----'): $ship");
{
	# A public key or a certificate is no secret.
	my $pub = PgbTest::read_file(Pgb::pub());
	my ($code, $err) = compile({ '001_a.sql' => "CREATE TABLE a (k text);\n"
	    . "INSERT INTO a VALUES ('$pub');\n", '001_a.down.sql' => $down });
	is($code, 0, 'a public key in a migration builds') or diag($err);
}

# --- a symlink planted at the temporary output name ------------------------
{
	# The compiler writes FILE.tmpPID and renames it: a symlink planted at
	# that name must not be written through.  The child plants it at its
	# own pid, then becomes pgbundle (exec keeps the pid).
	my $dir = Pgb::migrations('001_a.sql' => "CREATE TABLE a ();\n",
	    '001_a.down.sql' => $down);
	my $out = PgbTest::tempdir();
	my $victim = "$top/victim.txt";
	PgbTest::write_file($victim, "precious\n");
	my $err = "$out/stderr";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		for my $f ("$out/app.pgb", "$out/app.pgb.sig", "$out/SHA256SUMS",
		    "$dir/pgbundle.sum") {
			symlink($victim, "$f.tmp$$") or POSIX::_exit(120);
		}
		open(STDERR, '>', $err) or POSIX::_exit(121);
		open(STDOUT, '>', '/dev/null') or POSIX::_exit(121);
		exec($pgbundle, 'build', $dir, '-o', "$out/app.pgb", '--key', $key,
		    '--sums')
		    or POSIX::_exit(127);
	}
	waitpid($pid, 0);
	my $code = $? >> 8;
	is($code, 0, 'build succeeds beside planted symlinks')
	    or diag(PgbTest::read_file($err));
	is(PgbTest::read_file($victim), "precious\n",
	    'the symlinks\' target is untouched');
	ok(-f "$out/app.pgb" && !-l "$out/app.pgb", 'the bundle is a file of its own');
	ok(-f "$dir/pgbundle.sum" && !-l "$dir/pgbundle.sum", 'so is pgbundle.sum');
	my ($vc, undef, $verr) = PgbTest::run(PgbTest::bin('pgapply'), 'verify',
	    "$out/app.pgb", '--pubkey', Pgb::pub());
	is($vc, 0, 'and the bundle verifies') or diag($verr);
	ok(-l "$out/app.pgb.tmp$pid", 'the planted name was left alone');
}

done_testing();
