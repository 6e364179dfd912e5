#!/usr/bin/perl
# 065_signing.pl - signing the way it is really done.  A bundle built
# --unsigned --signer PUB records the key that will sign it; `pgbundle
# sign` signs it here or takes a signature made elsewhere (openssl on
# another machine, as raw bytes, hex, base64, Vault's vault:v1:), checks
# it against the signer's key over the exact bytes, and refuses another
# signer; `--minisig` writes a file Debian's minisign verifies with the
# same key.  Two-person approval: `pgbundle cosign` adds FILE.<keyid>.sig,
# and pgapply --min-signatures N (or --trust FILE) applies only when N
# distinct trusted keys signed: one of two is refused naming who signed
# and who is missing, a copy by the same key counts once, an untrusted
# third signature is ignored, two of two apply.  Every refusal: its exact
# message and exit status, no connection, the database unchanged.  The
# ConfigMap carries every signature.
use strict;
use warnings;

use MIME::Base64 qw(encode_base64 decode_base64);
use Test::More;
use PgbTest;
use Pgb;

my $pgbundle = PgbTest::bin('pgbundle');
my $pgapply = PgbTest::bin('pgapply');
my $w = PgbTest::tempdir();

# Three approvers' key pairs, and their key ids.
my %id;
for my $who (qw(alice bob carol)) {
	my ($code, $out, $err) = PgbTest::run($pgbundle, 'keygen', '-o',
	    "$w/$who");
	die "keygen $who: $err" if $code != 0;
	chomp($id{$who} = $out);
}
my ($A, $B, $C) = @id{qw(alice bob carol)};

my $pg = PgbTest::Server->new(conf => { log_connections => 'on' });
my $db = $pg->createdb;
my $schema = $pg->dump_schema($db);
sub connections {
	return scalar(() = $pg->log_content
	    =~ /connection authorized: .*application_name=pgapply/g);
}

# pgapply apply FILE @opts must exit $exit with exactly $want on stderr,
# without connecting, leaving the database as it was.
sub apply_refused {
	my ($what, $file, $exit, $want, @opts) = @_;
	my $before = connections();
	my ($code, undef, $err) = PgbTest::run($pgapply, 'apply', $file,
	    '--db', $pg->connstr($db), @opts);
	is($code, $exit, "$what: exit $exit");
	is($err, $want, "$what: says so exactly");
	is(connections(), $before, "$what: never connected");
	is($pg->dump_schema($db), $schema, "$what: database unchanged");
}

# pgbundle @args must exit $exit with exactly $want on stderr.
sub pgbundle_refused {
	my ($what, $exit, $want, @args) = @_;
	my ($code, $out, $err) = PgbTest::run($pgbundle, @args);
	is($code, $exit, "$what: exit $exit");
	is($err, $want, "$what: says so exactly");
	is($out, '', "$what: nothing on stdout");
}

my $mig = Pgb::migrations('001_accounts.sql' =>
    "CREATE TABLE accounts (id bigint PRIMARY KEY);\n");
sub build {
	my ($name, @opts) = @_;
	my ($code, undef, $err) = PgbTest::run({ env => { SOURCE_DATE_EPOCH =>
	    1700000000 } }, $pgbundle, 'build', $mig, '-o', "$w/$name", '-q',
	    @opts);
	die "build $name: $err" if $code != 0;
	return "$w/$name";
}

# --- the recorded signer --------------------------------------------------
my $app = build('app.pgb', '--unsigned', '--signer', "$w/alice.pub");
ok(!-e "$app.sig", '--unsigned --signer writes no signature');
my ($code, $out, $err) = PgbTest::run($pgbundle, 'inspect', $app);
like($out, qr/^key id     $A \(signature not checked/m,
    'inspect names the recorded signer');
like($out, qr/^signatures none$/m, 'and lists no signature file');
($code, undef, $err) = PgbTest::run({ env => { SOURCE_DATE_EPOCH =>
    1700000000 } }, $pgbundle, 'build', $mig, '-o', "$w/x.pgb",
    '--unsigned', '--signer', "$w/alice.pub");
like($err, qr/^pgbundle: wrote \Q$w\E\/x\.pgb \(1 migrations, 1 statements, \d+ bytes, unsigned, to be signed by key $A\)$/m,
    'build says which key will sign');
pgbundle_refused('--signer with --key', 2, "pgbundle: --signer goes with "
    . "--unsigned (with --key, the key is the signer)\n", 'build', $mig,
    '-o', "$w/y.pgb", '--key', "$w/alice.key", '--signer', "$w/alice.pub");
my $plain = build('plain.pgb', '--unsigned');
(undef, $out) = PgbTest::run($pgbundle, 'inspect', $plain);
like($out, qr/^key id     unsigned /m, 'without --signer: unsigned, as '
    . 'before');

apply_refused('not signed yet', $app, 3, "pgapply: bundle '$app' is not "
    . "signed (no '$app.sig'); pass --insecure-allow-unsigned to accept "
    . "it\n", '--pubkey', "$w/alice.pub");

# --- pgbundle sign refuses another signer ------------------------------------
pgbundle_refused('sign with a key the bundle does not name', 3,
    "pgbundle: bundle '$app' names key $A as its signer, not key $B "
    . "('$w/bob.key')\n  detail: sign it with the key it was built for, or "
    . "add this key's signature with 'pgbundle cosign'\n", 'sign', $app,
    '--key', "$w/bob.key");
ok(!-e "$app.sig", 'and writes no signature');

# --- signatures made elsewhere: openssl on another machine ---------------------
($code, undef, $err) = PgbTest::run('openssl', 'pkeyutl', '-sign', '-inkey',
    "$w/alice.key", '-rawin', '-in', $app, '-out', "$w/raw.sig");
is($code, 0, 'openssl signs the bundle bytes') or diag($err);
my $raw = PgbTest::read_file("$w/raw.sig");
is(length $raw, 64, 'a raw 64-byte Ed25519 signature');
PgbTest::write_file("$w/sig.b64", encode_base64($raw));	# wrapped at 76
PgbTest::write_file("$w/sig.hex", unpack('H*', $raw) . "\n");
PgbTest::write_file("$w/sig.HEX", uc(unpack('H*', $raw)));
PgbTest::write_file("$w/sig.vault", 'vault:v1:' . encode_base64($raw, '')
    . "\n");
PgbTest::write_file("$w/sig.kms", encode_base64($raw, ''));	# one line
for my $f (['raw.sig', 'raw'], ['sig.b64', 'base64'], ['sig.hex', 'hex'],
    ['sig.HEX', 'hex'], ['sig.vault', 'vault'], ['sig.kms', 'base64']) {
	unlink "$app.sig";
	($code, $out, $err) = PgbTest::run($pgbundle, 'sign', $app,
	    '--signature-from', "$w/$f->[0]", '--signer', "$w/alice.pub");
	is($code, 0, "sign --signature-from $f->[0]: exit 0") or diag($err);
	is($out, "$app.sig\n", "$f->[0]: prints the signature's path");
	is($err, "pgbundle: wrote $app.sig: key $A\'s signature of $app (read "
	    . "as $f->[1], verified)\n", "$f->[0]: read as $f->[1]");
	is(PgbTest::read_file("$app.sig"), $raw, "$f->[0]: FILE.sig holds the "
	    . '64 raw bytes');
}
unlink "$app.sig";
($code, $out, $err) = PgbTest::run({ stdin => "vault:v1:"
    . encode_base64($raw, '') }, $pgbundle, 'sign', $app, '--signature-from',
    '-', '--signer', "$w/alice.pub");
is($code, 0, 'the signature on standard input') or diag($err);
like($err, qr/\(read as vault, verified\)/, 'read as vault');
($code, undef, $err) = PgbTest::run('openssl', 'pkeyutl', '-verify',
    '-pubin', '-inkey', "$w/alice.pub", '-rawin', '-in', $app, '-sigfile',
    "$app.sig");
is($code, 0, 'openssl verifies FILE.sig') or diag($err);
($code, undef, $err) = PgbTest::run($pgapply, 'verify', $app, '--pubkey',
    "$w/alice.pub");
is($code, 0, 'pgapply verifies it') or diag($err);
like($err, qr/signed by key $A$/m, 'naming the key');

# Signatures that are not the signer's, not over these bytes, not readable.
# Another bundle (another target: other bytes), to be signed by alice too.
my $other = build('other.pgb', '--unsigned', '--signer', "$w/alice.pub",
    '--target', 'staging');
PgbTest::run('openssl', 'pkeyutl', '-sign', '-inkey', "$w/bob.key",
    '-rawin', '-in', $other, '-out', "$w/bob.sig");
pgbundle_refused('a signature by another key', 3, "pgbundle: the signature "
    . "in '$w/bob.sig' does not verify with key $A over '$other'\n"
    . "  detail: it was read as raw; it must be the Ed25519 signature of the "
    . "exact bytes of the bundle (not of a hash) by the private half of "
    . "'$w/alice.pub'\n", 'sign', $other, '--signature-from', "$w/bob.sig",
    '--signer', "$w/alice.pub");
pgbundle_refused('a signature over other bytes', 3, "pgbundle: the signature "
    . "in '$w/sig.b64' does not verify with key $A over '$other'\n"
    . "  detail: it was read as base64; it must be the Ed25519 signature of "
    . "the exact bytes of the bundle (not of a hash) by the private half "
    . "of '$w/alice.pub'\n", 'sign', $other, '--signature-from',
    "$w/sig.b64", '--signer', "$w/alice.pub");
PgbTest::write_file("$w/junk.sig", "not a signature\n");
pgbundle_refused('text that is no signature', 3, "pgbundle: cannot read a "
    . "signature in '$w/junk.sig'\n  detail: expected an Ed25519 signature "
    . "as 64 raw bytes, 128 hex digits, base64 or vault:v1:BASE64; found 16 "
    . "bytes\n", 'sign', $other, '--signature-from', "$w/junk.sig",
    '--signer', "$w/alice.pub");
ok(!-e "$other.sig", 'no refusal wrote a signature');
pgbundle_refused('--signature-from without --signer', 2, "pgbundle: give "
    . "--key KEY, or --signature-from FILE with --signer PUB\n", 'sign',
    $other, '--signature-from', "$w/raw.sig");

# sign never replaces a signature; the same one again is fine.
PgbTest::write_file("$w/taken.pgb", PgbTest::read_file($app));
PgbTest::write_file("$w/taken.pgb.sig", PgbTest::read_file("$w/bob.sig"));
pgbundle_refused('FILE.sig holds another signature', 3, "pgbundle: "
    . "'$w/taken.pgb.sig' holds another signature\n  detail: pgbundle sign "
    . "never replaces a signature: add this key's with 'pgbundle cosign', or "
    . "remove the file first\n", 'sign', "$w/taken.pgb", '--key',
    "$w/alice.key");
is(PgbTest::read_file("$w/taken.pgb.sig"), PgbTest::read_file("$w/bob.sig"),
    'and leaves it');
($code, undef, $err) = PgbTest::run($pgbundle, 'sign', $app, '--key',
    "$w/alice.key");
is($code, 0, 'signing again with the same key is fine (Ed25519 is '
    . 'deterministic)') or diag($err);
is(PgbTest::read_file("$app.sig"), $raw, 'the same bytes as openssl\'s');

# A bundle built before --signer existed ("key-id unsigned") takes any key.
($code, undef, $err) = PgbTest::run($pgbundle, 'sign', $plain, '--key',
    "$w/bob.key");
is($code, 0, 'an unsigned bundle without a recorded signer: any key') or
    diag($err);

# --- minisign ------------------------------------------------------------------
SKIP: {
	my ($mc) = PgbTest::run('sh', '-c', 'command -v minisign');
	skip 'minisign is not installed (scripts/deps.sh installs it)', 9
	    if $mc != 0;
	unlink "$app.sig";
	($code, $out, $err) = PgbTest::run($pgbundle, 'sign', $app, '--key',
	    "$w/alice.key", '--minisig');
	is($code, 0, 'sign --minisig') or diag($err);
	ok(-f "$app.minisig", 'writes FILE.minisig');
	($code, $out) = PgbTest::run($pgbundle, 'pubkey', "$w/alice.key",
	    '--minisign');
	like($out, qr/^untrusted comment: minisign public key \U$A\E\nRW[A-Za-z0-9+\/]{54}\n\z/,
	    'pubkey --minisign: minisign\'s format, with the same key id');
	PgbTest::write_file("$w/alice.minisign.pub", $out);
	($code, $out, $err) = PgbTest::run('minisign', '-Vm', $app, '-p',
	    "$w/alice.minisign.pub");
	is($code, 0, 'minisign -Vm verifies the bundle') or diag("$out$err");
	like($out, qr/^Trusted comment: file:app\.pgb\tbundle-id:[0-9a-f]{64}$/m,
	    'and shows the trusted comment');
	PgbTest::write_file("$w/evil.pgb", PgbTest::read_file($app) . "x");
	PgbTest::write_file("$w/evil.pgb.minisig",
	    PgbTest::read_file("$app.minisig"));
	($code) = PgbTest::run('minisign', '-Vm', "$w/evil.pgb", '-p',
	    "$w/alice.minisign.pub");
	isnt($code, 0, 'minisign refuses changed bytes');
	($code, $out) = PgbTest::run($pgbundle, 'pubkey', "$w/bob.pub",
	    '--minisign');
	PgbTest::write_file("$w/bob.minisign.pub", $out);
	($code, undef, $err) = PgbTest::run($pgbundle, 'cosign', $app, '--key',
	    "$w/bob.key", '--minisig');
	is($code, 0, 'cosign --minisig') or diag($err);
	($code, $out, $err) = PgbTest::run('minisign', '-Vm', $app, '-x',
	    "$app.$B.minisig", '-p', "$w/bob.minisign.pub");
	is($code, 0, 'minisign verifies the cosignature with the approver\'s '
	    . 'key') or diag("$out$err");
	($code) = PgbTest::run('minisign', '-Vm', $app, '-x', "$app.$B.minisig",
	    '-p', "$w/alice.minisign.pub");
	isnt($code, 0, 'and not with another key');
	unlink "$app.$B.sig", "$app.$B.minisig";
}
pgbundle_refused('--minisig with --signature-from', 2, "pgbundle: --minisig "
    . "needs --key: a minisign file also signs its trusted comment\n",
    'sign', $app, '--signature-from', "$w/raw.sig", '--signer',
    "$w/alice.pub", '--minisig');
($code, $out) = PgbTest::run($pgbundle, 'pubkey', "$w/alice.key");
is($out, PgbTest::read_file("$w/alice.pub"), 'pubkey prints the PEM public '
    . 'key of a private key');

# --- two-person approval ----------------------------------------------------------
# $app is signed by alice (FILE.sig).  bob and carol are other approvers.
my @ab = ('--pubkey', "$w/alice.pub", '--pubkey', "$w/bob.pub");
apply_refused('one signature of two required', $app, 3, "pgapply: signed "
    . "by 1 trusted key, 2 required\n  signed: $A ($w/alice.pub)\n"
    . "  missing: $B ($w/bob.pub)\n", @ab, '--min-signatures', '2');

PgbTest::write_file("$app.$A.sig", PgbTest::read_file("$app.sig"));
apply_refused('the same key twice counts once', $app, 3, "pgapply: signed "
    . "by 1 trusted key, 2 required\n  signed: $A ($w/alice.pub)\n"
    . "  missing: $B ($w/bob.pub)\n", @ab, '--min-signatures', '2');
unlink "$app.$A.sig";
pgbundle_refused('cosign with the key of FILE.sig', 3, "pgbundle: key $A has "
    . "signed '$app' already, in '$app.sig'\n  detail: a second signature by "
    . "one key counts once; cosign with another approver's key\n", 'cosign',
    $app, '--key', "$w/alice.key");

($code, $out, $err) = PgbTest::run($pgbundle, 'cosign', $app, '--key',
    "$w/carol.key");
is($code, 0, 'carol cosigns') or diag($err);
is($out, "$app.$C.sig\n", 'as FILE.<keyid>.sig');
apply_refused('an untrusted third signature is ignored', $app, 3, "pgapply: "
    . "signed by 1 trusted key, 2 required\n  signed: $A ($w/alice.pub)\n"
    . "  missing: $B ($w/bob.pub)\n", @ab, '--min-signatures', '2');

# bob signs elsewhere; his signature comes back as base64.
PgbTest::run('openssl', 'pkeyutl', '-sign', '-inkey', "$w/bob.key", '-rawin',
    '-in', $app, '-out', "$w/bob-app.sig");
PgbTest::write_file("$w/bob-app.b64", encode_base64(PgbTest::read_file(
    "$w/bob-app.sig")));
($code, $out, $err) = PgbTest::run($pgbundle, 'cosign', $app,
    '--signature-from', "$w/bob-app.b64", '--signer', "$w/bob.pub");
is($code, 0, 'bob\'s signature made elsewhere is added') or diag($err);
is($out, "$app.$B.sig\n", 'as FILE.<keyid>.sig');
for my $f ("$app.sig", "$app.$B.sig", "$app.$C.sig") {
	($code) = PgbTest::run('openssl', 'pkeyutl', '-verify', '-pubin',
	    '-inkey', "$w/" . ($f =~ /$B/ ? 'bob' : $f =~ /$C/ ? 'carol' :
	    'alice') . '.pub', '-rawin', '-in', $app, '-sigfile', $f);
	is($code, 0, "openssl verifies $f on its own");
}
($code, undef, $err) = PgbTest::run($pgapply, 'verify', $app, @ab,
    '--min-signatures', '2');
is($code, 0, 'two of two') or diag($err);
like($err, qr/signed by keys $A, $B \(2 required\)$/m, 'names both signers, '
    . 'not the untrusted third');
($code, $out, $err) = PgbTest::run($pgapply, 'apply', $app, @ab,
    '--pubkey', "$w/carol.pub", '--min-signatures', '3', '--db',
    $pg->connstr($db), '--json');
is($code, 0, 'three of three, once carol is trusted') or diag($err);
is($pg->psql($db, "SELECT count(*) FROM pgbundle.history"), 1,
    'and it applied');
$pg->psql($db, 'DROP TABLE accounts; DROP SCHEMA pgbundle CASCADE');
($code, $out) = PgbTest::run($pgapply, 'verify', $app, @ab,
    '--min-signatures', '2', '--json');
like($out, qr/"signers":\["$A","$B"\],"required":2,"recorded_signer":"$A"/,
    'verify --json lists the signers and the recorded signer');

# A bundle whose recorded signer did not sign it: accepted on the keys
# that did, with a note naming the recorded one.
($code, $out, $err) = PgbTest::run($pgbundle, 'cosign', $other, '--key',
    "$w/bob.key");
is($code, 0, 'bob cosigns the bundle that names alice') or diag($err);
($code, undef, $err) = PgbTest::run($pgapply, 'verify', $other, '--pubkey',
    "$w/bob.pub");
is($code, 0, 'pgapply accepts it on bob\'s signature') or diag($err);
like($err, qr/^pgapply: note: the bundle names key $A as its signer, which did not sign it$/m,
    'and notes the recorded signer');
($code, $out) = PgbTest::run($pgbundle, 'inspect', $other, '--pubkey',
    "$w/bob.pub");
like($out, qr/^key id     $A \(signature verified, by key $B\)$/m,
    'inspect --pubkey: which key verified it');
like($out, qr/^signatures \Q$other.$B.sig\E$/m, 'and the signature file');

apply_refused('--min-signatures above the keys', $app, 2, "pgapply: "
    . "--min-signatures 3, but 2 distinct trusted keys are given\n", @ab,
    '--min-signatures', '3');
apply_refused('one key given twice is one key', $app, 2, "pgapply: "
    . "--min-signatures 2, but 1 distinct trusted key is given\n",
    '--pubkey', "$w/alice.pub", '--pubkey', "$w/alice.pub",
    '--min-signatures', '2');
my ($uc, $uo, $ue) = PgbTest::run($pgapply, 'verify', $app,
    '--min-signatures', '0', '--pubkey', "$w/alice.pub");
is($uc, 2, '--min-signatures 0: usage');
like($ue, qr/^pgapply: --min-signatures '0' is not a number from 1 to 16$/m,
    'and says so');

# --- --trust FILE ---------------------------------------------------------------
my $trust = "$w/trust.pem";
PgbTest::write_file($trust, "# approvers of shop's migrations\n"
    . "min-signatures 2\n\n" . PgbTest::read_file("$w/alice.pub")
    . PgbTest::read_file("$w/bob.pub"));
unlink "$app.$B.sig";
apply_refused('--trust: one of two', $app, 3, "pgapply: signed by 1 trusted "
    . "key, 2 required\n  signed: $A (trust.pem:4)\n  missing: $B "
    . "(trust.pem:7)\n", '--trust', $trust);
PgbTest::write_file("$app.$B.sig", PgbTest::read_file("$w/bob-app.sig"));
($code, undef, $err) = PgbTest::run($pgapply, 'apply', $app, '--trust',
    $trust, '--db', $pg->connstr($db));
is($code, 0, '--trust: two of two apply') or diag($err);
is($pg->psql($db, "SELECT count(*) FROM accounts"), 0, 'the table is there');
$pg->psql($db, 'DROP TABLE accounts; DROP SCHEMA pgbundle CASCADE');
my (undef, undef, $usage) = PgbTest::run($pgapply, 'apply');
$usage =~ s/\Apgapply: [^\n]*\n//;	# the synopsis, without the reason
apply_refused('--trust with --pubkey', $app, 2, "pgapply: --trust excludes "
    . "--pubkey and --min-signatures: the trust file holds both\n$usage",
    '--trust', $trust, '--pubkey', "$w/alice.pub");
PgbTest::write_file("$w/bad-trust.pem", "min-signatures 3\n"
    . PgbTest::read_file("$w/alice.pub"));
apply_refused('a trust file asking for more keys than it lists', $app, 3,
    "pgapply: trust file '$w/bad-trust.pem' asks for 3 signatures but lists "
    . "1 key\n", '--trust', "$w/bad-trust.pem");
PgbTest::write_file("$w/bad-trust.pem", PgbTest::read_file("$w/alice.pub")
    . "alice\n");
apply_refused('a trust file with a stray line', $app, 3, "pgapply: trust "
    . "file '$w/bad-trust.pem' line 4: expected a PEM public key, "
    . "'min-signatures N' or a comment, got 'alice'\n", '--trust',
    "$w/bad-trust.pem");

# --- the ConfigMap carries every signature ------------------------------------------
($code, $out, $err) = PgbTest::run($pgbundle, 'configmap', $app, '--name',
    'shop-bundle-1', '--pubkey', "$w/bob.pub");
is($code, 0, 'configmap of a bundle with three signatures') or diag($err);
my %bin = $out =~ /^  (bundle\.pgb[.\w]*): (\S+)$/mg;
is_deeply([sort keys %bin], [sort('bundle.pgb', 'bundle.pgb.sig',
    "bundle.pgb.$B.sig", "bundle.pgb.$C.sig")], 'binaryData holds the bundle '
    . 'and every signature');
like($out, qr/^    pgbundle\/signatures: "3"$/m, 'an annotation counts them');
my $mnt = PgbTest::tempdir();
PgbTest::write_file("$mnt/$_", decode_base64($bin{$_})) for keys %bin;
($code, undef, $err) = PgbTest::run($pgapply, 'apply', "$mnt/bundle.pgb",
    '--trust', $trust, '--db', $pg->connstr($db));
is($code, 0, 'the mounted ConfigMap applies under the trust file') or
    diag($err);
$pg->psql($db, 'DROP TABLE accounts; DROP SCHEMA pgbundle CASCADE');
my $dk = build('dk.pgb', '--key', "$w/alice.key");
pgbundle_refused('configmap --pubkey of a key that did not sign', 1,
    "pgbundle: signature does not match any trusted key\n  detail: the "
    . "bundle or its signature changed after signing, or it was signed by a "
    . "key not trusted here\n  trusted key: $C ("
    . (length("$w/carol.pub") > 40 ? '...' . substr("$w/carol.pub", -37) :
    "$w/carol.pub") . ")\n", 'configmap', $dk, '--name',
    'x', '--pubkey', "$w/carol.pub");

done_testing();
