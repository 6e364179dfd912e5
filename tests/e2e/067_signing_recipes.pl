#!/usr/bin/perl
# 067_signing_recipes.pl - the signing recipes of docs/DEPLOY.md run as
# written: each block marked "<!-- recipe: NAME -->" is read from the page
# and run with bash -e in a throwaway folder holding migrations/ and the
# keys, and must end with a bundle that pgapply verifies.  openssl,
# minisign, SoftHSM2 and pkcs11-tool are the real ones; Vault and Google
# Cloud are not installable here, so stand-in `vault` and `gcloud` sign
# with openssl and print what the real ones print.  Then the CI template
# examples/ci/github-sign-elsewhere.yml: its build job's steps and its
# attach job's step run in a git repository with a stand-in `gh` that
# keeps the release's files in a folder; a wrong signature fails the job
# and changes nothing.
use strict;
use warnings;

use MIME::Base64 qw(encode_base64);
use Test::More;
use PgbTest;
use Pgb;

BEGIN {
	eval { require YAML::XS; 1 } or plan skip_all =>
	    'YAML::XS missing: run scripts/deps.sh (libyaml-libyaml-perl)';
}
$YAML::XS::Boolean = '';

my $root = PgbTest::root();
my $pgbundle = PgbTest::bin('pgbundle');
my $pgapply = PgbTest::bin('pgapply');
sub have { my ($c) = PgbTest::run('sh', '-c', "command -v $_[0]"); $c == 0 }

my %recipe = PgbTest::read_file("$root/docs/DEPLOY.md")
    =~ /^<!-- recipe: ([\w-]+) -->\n```sh\n(.*?)^```$/msg;
is_deeply([sort keys %recipe], [sort qw(build openssl vault gcloud
    pkcs11-setup pkcs11 two-person minisign)], 'docs/DEPLOY.md marks the '
    . 'recipes');

# Stand-ins for the tools that cannot be installed here.
my $stand = PgbTest::tempdir();
PgbTest::write_file("$stand/vault", <<'EOF');
#!/bin/sh
# stand-in for "vault write -field=signature transit/sign/NAME input=@FILE":
# a transit ed25519 key signs the input itself; this one is $STANDIN_KEY.
set -e
case "$1 $2 $3" in
"write -field=signature transit/sign/"*) ;;
*) echo "stand-in vault: unexpected: $*" >&2; exit 2 ;;
esac
for a; do case "$a" in input=@*) f=${a#input=@} ;; esac; done
t=$(mktemp -d)
base64 -d "$f" >"$t/in"
openssl pkeyutl -sign -inkey "$STANDIN_KEY" -rawin -in "$t/in" -out "$t/sig"
printf 'vault:v1:%s' "$(base64 -w0 "$t/sig")"
rm -rf "$t"
EOF
PgbTest::write_file("$stand/gcloud", <<'EOF');
#!/bin/sh
# stand-in for "gcloud kms asymmetric-sign ... --input-file F
# --signature-file S": writes the raw signature, by $STANDIN_KEY.
set -e
[ "$1 $2" = "kms asymmetric-sign" ] ||
    { echo "stand-in gcloud: unexpected: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
	case "$1" in
	--input-file) in=$2; shift ;;
	--signature-file) out=$2; shift ;;
	esac
	shift
done
openssl pkeyutl -sign -inkey "$STANDIN_KEY" -rawin -in "$in" -out "$out"
EOF
chmod 0755, "$stand/vault", "$stand/gcloud";

# A folder as the recipes expect it: migrations/, keys/NAME.pub and the
# private keys NAME.key beside them (for the recipes that sign here).
sub workdir {
	my (@names) = @_;
	my $d = PgbTest::tempdir();
	PgbTest::write_file("$d/migrations/001_accounts.sql",
	    "CREATE TABLE accounts (id bigint PRIMARY KEY);\n");
	PgbTest::write_file("$d/migrations/001_accounts.down.sql",
	    "DROP TABLE accounts;\n");
	mkdir "$d/keys";
	for my $n (@names) {
		my ($c, undef, $e) = PgbTest::run({ cwd => $d }, $pgbundle,
		    'keygen', '-o', $n);
		die "keygen: $e" if $c != 0;
		rename("$d/$n.pub", "$d/keys/$n.pub") or die "rename: $!";
	}
	return $d;
}

sub run_recipes {
	my ($dir, $env, @names) = @_;
	my $script = join("\n", map { $recipe{$_} // die "no recipe $_" }
	    @names);
	return PgbTest::run({ cwd => $dir, env => { %$env,
	    PATH => "$stand:$root/bin:$ENV{PATH}" } }, 'bash', '-e', '-c',
	    $script);
}

sub verified {
	my ($dir, $name, @trust) = @_;
	@trust = ('--pubkey', "$dir/keys/release.pub") unless @trust;
	my ($c, undef, $e) = PgbTest::run($pgapply, 'verify',
	    "$dir/dist/shop-13.pgb", @trust);
	is($c, 0, "$name: pgapply verifies the bundle") or diag($e);
	($c) = PgbTest::run('openssl', 'pkeyutl', '-verify', '-pubin', '-inkey',
	    "$dir/keys/release.pub", '-rawin', '-in', "$dir/dist/shop-13.pgb",
	    '-sigfile', "$dir/dist/shop-13.pgb.sig");
	is($c, 0, "$name: and openssl verifies FILE.sig");
}

for my $r (qw(openssl vault gcloud)) {
	my $d = workdir('release');
	my ($c, $o, $e) = run_recipes($d, { STANDIN_KEY => "$d/release.key" },
	    'build', $r);
	is($c, 0, "recipe $r runs") or diag("$o$e");
	verified($d, $r);
}

{
	my $d = workdir('release', 'dba');
	my ($c, $o, $e) = run_recipes($d, {}, 'build', 'two-person');
	is($c, 0, 'recipe two-person runs') or diag("$o$e");
	like($e, qr/signed by keys [0-9a-f]{16}, [0-9a-f]{16} \(2 required\)/,
	    'two-person: pgapply names both signers');
	my $cm = PgbTest::read_file("$d/dist/shop-13.configmap.yaml");
	is(scalar(() = $cm =~ /^  bundle\.pgb[.\w]*\.sig: /mg), 2,
	    'two-person: the ConfigMap carries both signatures');
	verified($d, 'two-person', '--trust', "$d/keys/trust.pem");
	unlink glob("$d/dist/shop-13.pgb.*.sig");
	($c, undef, $e) = PgbTest::run($pgapply, 'verify',
	    "$d/dist/shop-13.pgb", '--trust', "$d/keys/trust.pem");
	is($c, 3, 'two-person: without the second signature, refused');
	like($e, qr/^pgapply: signed by 1 trusted key, 2 required\n  signed: [0-9a-f]{16} \(trust\.pem:2\)\n  missing: [0-9a-f]{16} \(trust\.pem:5\)\n\z/,
	    'two-person: naming who signed and who is missing');
}

SKIP: {
	skip 'minisign is not installed (scripts/deps.sh)', 3 unless
	    have('minisign');
	my $d = workdir('release');
	my ($c, $o, $e) = run_recipes($d, {}, 'build', 'minisign');
	is($c, 0, 'recipe minisign runs') or diag("$o$e");
	like($o, qr/^Signature and comment signature verified$/m,
	    'minisign: minisign verifies the bundle');
	verified($d, 'minisign');
}

SKIP: {
	my $module = '/usr/lib/softhsm/libsofthsm2.so';
	skip 'SoftHSM2 and pkcs11-tool are not installed (scripts/deps.sh)', 3
	    unless -f $module && have('softhsm2-util') && have('pkcs11-tool');
	my $d = workdir();
	my $hsm = PgbTest::tempdir();
	mkdir "$hsm/tokens";
	PgbTest::write_file("$hsm/softhsm2.conf", "directories.tokendir = "
	    . "$hsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n");
	my %env = (SOFTHSM2_CONF => "$hsm/softhsm2.conf",
	    PKCS11_MODULE => $module, PIN => '5678');
	my ($c, $o, $e) = PgbTest::run({ env => \%env }, 'softhsm2-util',
	    '--init-token', '--free', '--label', 'release', '--so-pin', '1234',
	    '--pin', '5678');
	is($c, 0, 'a SoftHSM2 token') or diag("$o$e");
	($c, $o, $e) = run_recipes($d, \%env, 'pkcs11-setup', 'build',
	    'pkcs11');
	is($c, 0, 'recipes pkcs11-setup and pkcs11 run') or diag("$o$e");
	verified($d, 'pkcs11');
}

# --- examples/ci/github-sign-elsewhere.yml --------------------------------------
my $wf = YAML::XS::LoadFile("$root/examples/ci/github-sign-elsewhere.yml");
my $on = $wf->{on} // $wf->{1} // {};
is_deeply($on->{push}{tags}, ['v*'], 'ci: builds on tags v*');
ok(exists $on->{workflow_dispatch}{inputs}{signature}, 'ci: takes the '
    . 'signature as a workflow input');
is($wf->{permissions}{contents}, 'read', 'ci: read-only by default');
my ($build, $attach) = @{ $wf->{jobs} }{qw(build attach)};
like($build->{if}, qr/push/, 'ci: build runs on the tag');
like($attach->{if}, qr/workflow_dispatch/, 'ci: attach runs by hand');
ok(!grep({ ($_->{run} // '') =~ /--key\b|SIGNING_KEY/ }
    map { @{ $_->{steps} } } $build, $attach), 'ci: no step sees a '
    . 'private key');
my ($bstep) = grep { ($_->{run} // '') =~ /pgbundle build/ }
    @{ $build->{steps} };
my ($ustep) = grep { ($_->{run} // '') =~ /gh release upload/ }
    @{ $build->{steps} };
my ($astep) = grep { ($_->{run} // '') =~ /--signature-from/ }
    @{ $attach->{steps} };
ok($bstep && $ustep && $astep, 'ci: the steps are there');
is($astep->{env}{SIGNATURE}, '${{ inputs.signature }}', 'ci: the signature '
    . 'reaches the script through the environment, not its text');

# A stand-in gh: the release's files in $rel/assets.
my $rel = PgbTest::tempdir();
my $ghbin = PgbTest::tempdir();
PgbTest::write_file("$ghbin/gh", <<"EOF");
#!/bin/sh
# stand-in for gh release view|create|upload|download|edit
set -e
rel=$rel
[ "\$1" = release ] || { echo "stand-in gh: \$*" >&2; exit 2; }
cmd=\$2; shift 3
case "\$cmd" in
view) test -e "\$rel/created" ;;
create) echo "\$*" >"\$rel/created"; mkdir -p "\$rel/assets" ;;
upload) for f; do case "\$f" in --*) ;; *) cp "\$f" "\$rel/assets/" ;; esac; done ;;
download) cp "\$rel"/assets/* "\$2/" ;;
edit) echo "\$*" >>"\$rel/edits" ;;
*) echo "stand-in gh: \$cmd" >&2; exit 2 ;;
esac
EOF
chmod 0755, "$ghbin/gh";

my $repo = workdir('release', 'dba', 'eve');
{
	my %genv = (GIT_AUTHOR_NAME => 't', GIT_AUTHOR_EMAIL => 't@t',
	    GIT_COMMITTER_NAME => 't', GIT_COMMITTER_EMAIL => 't@t',
	    GIT_AUTHOR_DATE => '2024-01-02T03:04:05Z',
	    GIT_COMMITTER_DATE => '2024-01-02T03:04:05Z');
	for my $cmd (['init', '-q'], ['add', 'migrations', 'keys'],
	    ['commit', '-q', '-m', 'm']) {
		my ($c, undef, $e) = PgbTest::run({ cwd => $repo, env => \%genv },
		    'git', @$cmd);
		die "git @$cmd: $e" if $c != 0;
	}
}
sub step {
	my ($s, %env) = @_;
	return PgbTest::run({ cwd => $repo, env => { %{ $wf->{env} },
	    %{ $s->{env} // {} }, %env, GH_TOKEN => 'token',
	    PATH => "$ghbin:$root/bin:$ENV{PATH}" } }, 'bash', '-e', '-c',
	    $s->{run});
}
my $p = $wf->{env}{PROJECT};
my ($c, $o, $e) = step($bstep, GITHUB_REF_NAME => 'v1.2.0');
is($c, 0, 'ci: the build step runs') or diag("$o$e");
like($o, qr/^key id     [0-9a-f]{16} \(signature not checked/m,
    'ci: and shows the key that is to sign');
($c, $o, $e) = step($ustep, GITHUB_REF_NAME => 'v1.2.0');
is($c, 0, 'ci: the bundle goes to a draft release') or diag("$o$e");
like(PgbTest::read_file("$rel/created"), qr/--draft/, 'ci: a draft');
is_deeply([map { s{.*/}{}r } glob("$rel/assets/*")], ["$p-1.2.0.pgb"],
    'ci: only the unsigned bundle is attached');

# The key holder signs the released bytes where the key is.
my $asset = "$rel/assets/$p-1.2.0.pgb";
my $sign = sub {
	my ($key) = @_;
	PgbTest::run('openssl', 'pkeyutl', '-sign', '-inkey', $key, '-rawin',
	    '-in', $asset, '-out', "$repo/x.sig");
	return PgbTest::read_file("$repo/x.sig");
};
my %in = (TAG => 'v1.2.0', SIGNER => 'release', COSIGN => 'false');
($c, $o, $e) = step($astep, %in, SIGNATURE => encode_base64($sign->(
    "$repo/eve.key"), ''));
isnt($c, 0, 'ci: a signature by another key fails the attach job');
like($e, qr/does not verify with key [0-9a-f]{16} over/, 'ci: and says why');
is_deeply([map { s{.*/}{}r } glob("$rel/assets/*")], ["$p-1.2.0.pgb"],
    'ci: and attaches nothing');
($c, $o, $e) = step($astep, %in, SIGNER => '../keys/release',
    SIGNATURE => 'x');
isnt($c, 0, 'ci: a signer that is not a key name fails');

($c, $o, $e) = step($astep, %in, SIGNATURE => encode_base64($sign->(
    "$repo/release.key"), ''));
is($c, 0, 'ci: the release key\'s signature is attached') or diag("$o$e");
ok(-f "$rel/assets/$p-1.2.0.pgb.sig", 'ci: FILE.sig is a release file');
ok(-f "$rel/assets/$p-1.2.0.configmap.yaml", 'ci: so is the ConfigMap');
like(PgbTest::read_file("$rel/edits"), qr/--draft=false/,
    'ci: the release is published');
($c, undef, $e) = PgbTest::run({ cwd => "$rel/assets" }, 'sha256sum', '-c',
    '--quiet', 'SHA256SUMS');
is($c, 0, 'ci: SHA256SUMS checks') or diag($e);
($c, undef, $e) = PgbTest::run($pgapply, 'verify', $asset, '--pubkey',
    "$rel/assets/release.pub");
is($c, 0, 'ci: pgapply verifies the released bundle') or diag($e);

# The second approver, through Vault: vault:v1:BASE64.
($c, $o, $e) = step($astep, %in, SIGNER => 'dba', COSIGN => 'true',
    SIGNATURE => 'vault:v1:' . encode_base64($sign->("$repo/dba.key"), ''));
is($c, 0, 'ci: the second approver\'s signature is added') or diag("$o$e");
my @co = glob("$rel/assets/$p-1.2.0.pgb.*.sig");
is(scalar @co, 1, 'ci: as FILE.KEYID.sig');
PgbTest::write_file("$repo/trust.pem", "min-signatures 2\n"
    . PgbTest::read_file("$repo/keys/release.pub")
    . PgbTest::read_file("$repo/keys/dba.pub"));
($c, undef, $e) = PgbTest::run($pgapply, 'verify', $asset, '--trust',
    "$repo/trust.pem");
is($c, 0, 'ci: two of two under the trust file') or diag($e);
my $cm = PgbTest::read_file("$rel/assets/$p-1.2.0.configmap.yaml");
like($cm, qr/^  bundle\.pgb\.[0-9a-f]{16}\.sig: /m, 'ci: the ConfigMap '
    . 'carries the second signature');

done_testing();
