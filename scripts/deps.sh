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
# "make check-valgrind".
#
# Installs only what dpkg says is missing (one "apt-get update", then one
# "apt-get install"), so a second run does nothing and needs no network.
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
-h|--help)	sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
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

if [ -z "$missing" ]; then
	echo "deps.sh: all build and test dependencies are installed"
	exit 0
fi
echo "deps.sh: installing:$missing"
if [ "$dry_run" -eq 1 ]; then
	exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps.sh: not root and no sudo: install as root:$missing" >&2
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
	printf '#!/bin/sh\n# temporary, from pgbundle scripts/deps.sh\nexit 101\n' |
	    $SUDO tee "$policy" >/dev/null
	$SUDO chmod 0755 "$policy"
	made_policy=1
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

export DEBIAN_FRONTEND=noninteractive
apt update -qq
# shellcheck disable=SC2086 # word splitting of $missing is wanted
apt install -y -qq --no-install-recommends $missing
echo "deps.sh: done"
