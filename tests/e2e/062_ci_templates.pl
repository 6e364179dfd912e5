#!/usr/bin/perl
# 062_ci_templates.pl - examples/ci/: both templates parse as YAML and have
# the jobs the docs promise, and their shell steps really run: in a
# throwaway git repository, the GitHub release step and the GitLab build
# job (with a stand-in curl that records the uploads) build a signed,
# reproducible bundle, its ConfigMap and SHA256SUMS that pgapply accepts;
# a signing key that does not match keys/app.pub stops the release.
use strict;
use warnings;

use Test::More;
use PgbTest;
use Pgb;

BEGIN {
	eval { require YAML::XS; 1 } or plan skip_all =>
	    'YAML::XS missing: run scripts/deps.sh (libyaml-libyaml-perl)';
}
$YAML::XS::Boolean = '';

my $root = PgbTest::root();
my $ci = "$root/examples/ci";
my ($gitc) = PgbTest::run('git', '--version');
plan skip_all => 'git is not installed' if $gitc != 0;

sub load {
	my ($path) = @_;
	my $doc = eval { YAML::XS::LoadFile($path) };
	ok($doc, "$path parses as YAML") or diag($@);
	return $doc || {};
}

# A git repository with migrations/, keys/app.pub and one commit.
sub user_repo {
	my $dir = PgbTest::tempdir() . '/repo';
	PgbTest::write_file("$dir/migrations/001_accounts.sql",
	    "CREATE TABLE accounts (id bigint PRIMARY KEY);\n");
	PgbTest::write_file("$dir/migrations/001_accounts.down.sql",
	    "DROP TABLE accounts;\n");
	PgbTest::write_file("$dir/keys/app.pub", PgbTest::read_file(Pgb::pub()));
	my %env = (GIT_AUTHOR_NAME => 't', GIT_AUTHOR_EMAIL => 't@t',
	    GIT_COMMITTER_NAME => 't', GIT_COMMITTER_EMAIL => 't@t',
	    GIT_AUTHOR_DATE => '2024-01-02T03:04:05Z',
	    GIT_COMMITTER_DATE => '2024-01-02T03:04:05Z');
	for my $cmd (['init', '-q'], ['add', '.'], ['commit', '-q', '-m', 'm']) {
		my ($code, undef, $err) = PgbTest::run({ cwd => $dir,
		    env => \%env }, 'git', @$cmd);
		die "git @$cmd: $err" if $code != 0;
	}
	return $dir;
}

# Run a step's shell text in $dir with bash -e and the programs of bin/.
sub run_step {
	my ($dir, $script, %env) = @_;
	return PgbTest::run({ cwd => $dir, env => { %env,
	    PATH => "$root/bin:$ENV{PATH}" } }, 'bash', '-e', '-c', $script);
}

my $pgapply = PgbTest::bin('pgapply');
my $key_pem = PgbTest::read_file(Pgb::key());

# --- GitHub ------------------------------------------------------------------
my $gh = load("$ci/github-workflow.yml");
# YAML 1.1 parsers may read the key "on" as true.
my $on = $gh->{on} // $gh->{1} // {};
ok(exists $on->{pull_request}, 'github: runs on pull requests');
is_deeply($on->{push}{tags}, ['v*'], 'github: and on tags v*');
is($gh->{permissions}{contents}, 'read', 'github: read-only by default');
my $check = $gh->{jobs}{check};
like($check->{if}, qr/pull_request/, 'github: check runs for pull requests');
my ($chk) = grep { ($_->{run} // '') =~ /pgbundle check/ } @{ $check->{steps} };
ok($chk, 'github: a step runs pgbundle check');
my $rel = $gh->{jobs}{release};
like($rel->{if}, qr{refs/tags/v}, 'github: release runs for tags');
is($rel->{permissions}{contents}, 'write', 'github: release may write '
    . 'the release');
my ($build) = grep { ($_->{run} // '') =~ /pgbundle build/ } @{ $rel->{steps} };
ok($build, 'github: a step builds the bundle');
like($build->{env}{PGBUNDLE_SIGNING_KEY} // '',
    qr/\$\{\{\s*secrets\.PGBUNDLE_SIGNING_KEY\s*\}\}/,
    'github: the key comes from the secrets');
my ($upload) = grep { ($_->{run} // '') =~ /gh release upload/ }
    @{ $rel->{steps} };
ok($upload, 'github: a step attaches the files to the release');

my $repo = user_repo();
my ($code, $out, $err) = run_step($repo, $chk->{run});
is($code, 0, 'github: the check step passes on clean migrations')
    or diag($err);

my $tmp = PgbTest::tempdir();
my %ghenv = (%{ $gh->{env} }, GITHUB_REF_NAME => 'v1.2.0',
    RUNNER_TEMP => $tmp, PGBUNDLE_SIGNING_KEY => $key_pem);
($code, $out, $err) = run_step($repo, $build->{run}, %ghenv);
is($code, 0, 'github: the build step runs') or diag($err);
my $dist = "$repo/dist";
my $p = $gh->{env}{PROJECT};
is_deeply([sort map { s{.*/}{}r } glob("$dist/*")], [sort("$p-1.2.0.pgb",
    "$p-1.2.0.pgb.sig", "$p.pub", "$p-1.2.0.configmap.yaml", 'SHA256SUMS')],
    'github: dist/ holds bundle, signature, key, ConfigMap, SHA256SUMS');
ok(!-e "$tmp/signing.key", 'github: the signing key file is removed');
($code, undef, $err) = PgbTest::run({ cwd => $dist }, 'sha256sum', '-c',
    '--quiet', 'SHA256SUMS');
is($code, 0, 'github: SHA256SUMS checks') or diag($err);
my $sums = PgbTest::read_file("$dist/SHA256SUMS");
is(scalar(() = $sums =~ /^[0-9a-f]{64}  \S/mg), 4, 'github: SHA256SUMS '
    . 'covers the four other files');
($code, undef, $err) = PgbTest::run($pgapply, 'verify', "$dist/$p-1.2.0.pgb",
    '--pubkey', "$dist/$p.pub");
is($code, 0, 'github: pgapply verifies the released bundle') or diag($err);
my $cm = eval { YAML::XS::LoadFile("$dist/$p-1.2.0.configmap.yaml") };
is($cm && $cm->{metadata}{name}, "$p-bundle-1.2.0", 'github: the ConfigMap '
    . 'is named after the version');
my $first = PgbTest::read_file("$dist/$p-1.2.0.pgb");
PgbTest::run({ cwd => $repo }, 'rm', '-rf', 'dist');
($code) = run_step($repo, $build->{run}, %ghenv);
is(PgbTest::read_file("$dist/$p-1.2.0.pgb"), $first,
    'github: a second run gives the same bytes (SOURCE_DATE_EPOCH)');

# A signing key that is not the committed public key's.
my $otherdir = PgbTest::tempdir();
PgbTest::run(PgbTest::bin('pgbundle'), 'keygen', '-o', "$otherdir/other");
PgbTest::run({ cwd => $repo }, 'rm', '-rf', 'dist');
($code, undef, $err) = run_step($repo, $build->{run}, %ghenv,
    PGBUNDLE_SIGNING_KEY => PgbTest::read_file("$otherdir/other.key"));
isnt($code, 0, 'github: a key that does not match keys/app.pub stops it');
like($err, qr/signature does not match/, 'github: and says why');

# --- GitLab ------------------------------------------------------------------
my $gl = load("$ci/gitlab-ci.yml");
is_deeply($gl->{stages}, [qw(check build release)], 'gitlab: stages');
like($gl->{check}{rules}[0]{if}, qr/merge_request_event/,
    'gitlab: check runs for merge requests');
ok(grep({ !ref && /pgbundle check/ } @{ $gl->{check}{script} }),
    'gitlab: check runs pgbundle check');
like($gl->{build}{rules}[0]{if}, qr/CI_COMMIT_TAG/, 'gitlab: build runs '
    . 'for tags');
is($gl->{build}{artifacts}{reports}{dotenv}, 'release.env',
    'gitlab: build hands VERSION and PKG_URL to the release');
is($gl->{release}{release}{tag_name}, '$CI_COMMIT_TAG', 'gitlab: release '
    . 'of the tag');

# The build job's own script (the last item; the first installs pgbundle).
my ($glscript) = grep { !ref } reverse @{ $gl->{build}{script} };
my $bin = PgbTest::tempdir();
my $uploads = PgbTest::tempdir();
PgbTest::write_file("$bin/curl", <<"EOF");
#!/bin/sh
# stand-in for curl: record the upload under its URL's last part
file=""; url=""
while [ \$# -gt 0 ]; do
	case "\$1" in
	--upload-file) file=\$2; shift ;;
	--header) shift ;;
	-*) ;;
	*) url=\$1 ;;
	esac
	shift
done
echo "\$url" >>"$uploads/urls"
cp "\$file" "$uploads/\${url##*/}"
EOF
chmod 0755, "$bin/curl";
my $repo2 = user_repo();
my %glenv = (%{ $gl->{variables} }, CI_COMMIT_TAG => 'v1.2.0',
    CI_API_V4_URL => 'https://gitlab.invalid/api/v4', CI_PROJECT_ID => '7',
    CI_JOB_TOKEN => 'token', PGBUNDLE_SIGNING_KEY => Pgb::key(),
    PATH => "$bin:$root/bin:$ENV{PATH}");
($code, $out, $err) = PgbTest::run({ cwd => $repo2, env => \%glenv },
    'bash', '-e', '-c', $glscript);
is($code, 0, 'gitlab: the build script runs') or diag($err);
my %renv = PgbTest::read_file("$repo2/release.env") =~ /^(\w+)=(.*)$/mg;
is($renv{VERSION}, '1.2.0', 'gitlab: release.env has the version');
my $pkg = 'https://gitlab.invalid/api/v4/projects/7/packages/generic/'
    . "$gl->{variables}{PROJECT}/1.2.0";
is($renv{PKG_URL}, $pkg, 'gitlab: release.env has the package URL');
my @links = @{ $gl->{release}{release}{assets}{links} };
ok(@links >= 3, 'gitlab: the release links the files');
my %vars = (%glenv, %renv);
for my $l (@links) {
	(my $url = $l->{url}) =~ s/\$\{?(\w+)\}?/$vars{$1} \/\/ ''/ge;
	(my $name = $url) =~ s{.*/}{};
	ok(-f "$uploads/$name", "gitlab: $name was uploaded and is linked");
}
($code, undef, $err) = PgbTest::run($pgapply, 'verify',
    "$uploads/$gl->{variables}{PROJECT}-1.2.0.pgb", '--pubkey',
    "$uploads/$gl->{variables}{PROJECT}.pub");
is($code, 0, 'gitlab: pgapply verifies the uploaded bundle') or diag($err);

done_testing();
