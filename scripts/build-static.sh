#!/bin/sh
# build-static.sh - build, once, the libraries a static pgapply links with,
# into build/static/ ("make static" calls it; docs/DEPLOY.md explains).
#
# Debian's own libpq.a is built with GSSAPI and LDAP, which have no static
# libraries, so libpq is compiled here from Debian's postgresql-15 source
# package with only what pgapply uses: OpenSSL, no GSSAPI, LDAP, readline,
# ICU, zlib or NLS.  OpenSSL (libssl.a, libcrypto.a) and zlib (libz.a)
# come from Debian's -dev packages; pgapply reads tar itself.
#
# The source is fetched with "apt-get source", which needs deb-src entries:
# when there are none, a file under /etc/apt/sources.list.d is written with
# the same addresses and suites as the system's Debian "deb" entries, and
# the package lists are updated.  Needs root, or sudo, for that only.
#
# Writes DIR/include (libpq's headers), DIR/lib (libpq.a and the
# libpgcommon_shlib.a and libpgport_shlib.a it needs), DIR/VERSIONS (each
# component and its version) and DIR/.done; a second run finds .done and
# does nothing.  Remove DIR (or "make distclean") to build again.
#
# usage: sh scripts/build-static.sh [DIR]       (default: build/static)
set -eu

case "${1:-}" in
-h|--help)	sed -n '2,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
-*)		echo "usage: sh scripts/build-static.sh [DIR]" >&2; exit 2 ;;
esac
dir=${1:-build/static}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -f "$dir/.done" ]; then
	exit 0
fi

say() { echo "build-static: $*"; }
die() { echo "build-static: $*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	SUDO="false"
fi
as_root() {
	if [ "$SUDO" = false ]; then
		die "not root and no sudo: cannot run $*"
	fi
	$SUDO "$@"
}
apt() {
	as_root env DEBIAN_FRONTEND=noninteractive apt-get "$@"
}

start=$(date +%s)
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
libdir=/usr/lib/$multiarch

# --- the Debian packages that ship the other static libraries --------------
need=""
for p in dpkg-dev libssl-dev zlib1g-dev; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q ' ok installed$'; then
		need="$need $p"
	fi
done
if [ -n "$need" ]; then
	say "installing:$need"
	# shellcheck disable=SC2086 # one word per package
	apt install -y -qq --no-install-recommends $need >/dev/null
fi
for a in libssl.a libcrypto.a libz.a; do
	[ -f "$libdir/$a" ] || die "$libdir/$a is missing"
done

# --- deb-src entries -------------------------------------------------------
# True when apt knows a source package called postgresql-15.
have_source() {
	apt-cache showsrc postgresql-15 2>/dev/null | grep -q '^Package: '
}
if ! have_source; then
	# shellcheck disable=SC1091 # the running system's file
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
	list=/etc/apt/sources.list.d/pgbundle-deb-src.sources
	tmp=$(mktemp)
	# Each deb822 stanza of type "deb" for this release, as "deb-src".
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		[ "$f" = "$list" ] && continue
		awk -v rel="$codename" 'BEGIN { RS = ""; ORS = "\n\n" }
		    {
			deb = 0; ours = 0
			n = split($0, line, "\n")
			for (i = 1; i <= n; i++) {
				if (line[i] ~ /^Types:/ && line[i] ~ /[ \t]deb([ \t]|$)/)
					deb = 1
				if (line[i] ~ /^Suites:/ &&
				    line[i] ~ ("[ \t]" rel "(-[a-z]+)?([ \t]|$)"))
					ours = 1
				if (line[i] ~ /^Enabled:[ \t]*no/)
					deb = 0
			}
			if (!deb || !ours)
				next
			out = ""
			for (i = 1; i <= n; i++) {
				if (line[i] ~ /^Types:/)
					line[i] = "Types: deb-src"
				if (line[i] !~ /^#/)
					out = out line[i] "\n"
			}
			printf "%s\n", out
		    }' "$f" >>"$tmp"
	done
	if grep -q '^Types: deb-src' "$tmp" 2>/dev/null; then
		say "adding deb-src entries in $list"
		as_root install -m 0644 "$tmp" "$list"
	else
		# Only one-line entries: add their deb-src twins.
		list=/etc/apt/sources.list.d/pgbundle-deb-src.list
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		    2>/dev/null | grep -E "^deb[[:space:]].*[[:space:]]$codename(-[a-z]+)?[[:space:]]" |
		    sed 's/^deb/deb-src/' >"$tmp" || true
		[ -s "$tmp" ] || die "no Debian '$codename' entry in apt's sources to copy as deb-src"
		say "adding deb-src entries in $list"
		as_root install -m 0644 "$tmp" "$list"
	fi
	rm -f "$tmp"
	say "apt-get update"
	apt update -qq
	have_source || die "apt still knows no source package postgresql-15"
fi

# --- libpq from Debian's postgresql-15 source package ----------------------
src="$dir/src"
rm -rf "$src" "${dir:?}/include" "${dir:?}/lib"
mkdir -p "$src"
# Newest version first; a mirror may list a version whose files it lacks.
got=""
for v in $(apt-cache showsrc postgresql-15 | sed -n 's/^Version: //p' |
    sort -r -V); do
	say "apt-get source postgresql-15=$v"
	if (cd "$src" && apt-get source -qq "postgresql-15=$v") \
	    >"$dir/apt-source.log" 2>&1; then
		got=$v
		break
	fi
	sed 's/^/  /' "$dir/apt-source.log" | grep -v unsandboxed >&2 || true
	rm -rf "${src:?}"/*
done
[ -n "$got" ] || die "apt-get source postgresql-15 failed for every version"
pg=$(find "$src" -mindepth 1 -maxdepth 1 -type d -name 'postgresql-15*' | head -n 1)
[ -n "$pg" ] || die "no postgresql-15 folder after apt-get source"
pgver=$got

say "configure PostgreSQL $pgver (libpq only)"
jobs=$(nproc 2>/dev/null || echo 2)
(
	cd "$pg"
	./configure -q --without-readline --without-icu --without-gssapi \
	    --without-ldap --without-zlib --without-lz4 --without-zstd \
	    --without-libxml --without-perl --without-python --without-tcl \
	    --disable-nls --with-ssl=openssl CFLAGS="-O2" >configure.log 2>&1 ||
	    { tail -n 30 configure.log >&2; exit 1; }
	say "make libpq.a, libpgcommon_shlib.a, libpgport_shlib.a"
	make -s -j"$jobs" -C src/backend generated-headers >make.log 2>&1 &&
	make -s -j"$jobs" -C src/port libpgport_shlib.a >>make.log 2>&1 &&
	make -s -j"$jobs" -C src/common libpgcommon_shlib.a >>make.log 2>&1 &&
	make -s -j"$jobs" -C src/interfaces/libpq libpq.a >>make.log 2>&1 ||
	    { tail -n 30 make.log >&2; exit 1; }
) || die "building libpq failed (see $pg/configure.log, make.log)"

mkdir -p "$dir/include" "$dir/lib"
cp "$pg/src/interfaces/libpq/libpq.a" "$pg/src/common/libpgcommon_shlib.a" \
    "$pg/src/port/libpgport_shlib.a" "$dir/lib/"
cp "$pg/src/interfaces/libpq/libpq-fe.h" \
    "$pg/src/interfaces/libpq/libpq-events.h" \
    "$pg/src/include/postgres_ext.h" "$pg/src/include/pg_config_ext.h" \
    "$dir/include/"

# --- what went in -----------------------------------------------------------
dv() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo unknown; }
{
	echo "libpq      PostgreSQL $pgver (Debian source package postgresql-15, built here)"
	echo "OpenSSL    $(dv libssl-dev) (Debian libssl-dev: libssl.a, libcrypto.a)"
	echo "zlib       $(dv zlib1g-dev) (Debian zlib1g-dev: libz.a)"
	echo "glibc      $(dv libc6-dev) (Debian libc6-dev: libc.a)"
} >"$dir/VERSIONS"
rm -rf "$src" "$dir/apt-source.log"	# not needed again
touch "$dir/.done"
say "done in $(($(date +%s) - start)) s:"
sed 's/^/  /' "$dir/VERSIONS"
