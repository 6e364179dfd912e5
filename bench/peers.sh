#!/bin/sh
# peers.sh - install the tools bench/run.pl compares pgbundle with, from
# Debian's packages and npm only, at pinned versions.
#
#   sh bench/peers.sh NPMDIR      npm packages go to NPMDIR/node_modules
#
# Debian: psql (postgresql-client), GNU time, sql-migrate, Sqitch with
# DBD::Pg, Alembic with psycopg2, yoyo.  npm: dbmate, node-pg-migrate,
# postgres-migrations (with pg), graphile-migrate, and Liquibase 4.28.1,
# whose npm package carries the Liquibase distribution and its PostgreSQL
# JDBC driver (it runs on the machine's Java; later npm versions ship no
# jars).  A tool that fails to install is reported and skipped by run.pl.
set -u
npmdir=${1:?usage: sh bench/peers.sh NPMDIR}

sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
pkgs="postgresql-client time sql-migrate sqitch libdbd-pg-perl alembic \
python3-psycopg2 python3-yoyo"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
# Node.js, npm and Java may come from elsewhere (Node's own packages ship
# npm and conflict with Debian's): install them only when missing.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
command -v java >/dev/null 2>&1 || missing="$missing default-jre-headless"
if [ -n "$missing" ]; then
	echo "peers.sh: apt-get install$missing" >&2
	$sudo apt-get update -q >/dev/null 2>&1
	# One at a time, so that one package that cannot install spares the rest.
	for p in $missing; do
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
		    --no-install-recommends "$p" >/dev/null 2>&1 ||
		    echo "peers.sh: could not install Debian package $p" >&2
	done
fi

want="dbmate@2.36.0 node-pg-migrate@9.0.0 pg@8.23.1 postgres-migrations@5.3.0 \
graphile-migrate@1.4.1 liquibase@4.28.1"
mkdir -p "$npmdir"
[ -f "$npmdir/package.json" ] ||
    echo '{"name":"pgbundle-bench-peers","private":true}' >"$npmdir/package.json"
need=
for w in $want; do
	name=${w%@*}
	ver=${w##*@}
	have=$(cd "$npmdir" && node -p "require('./node_modules/$name/package.json').version" 2>/dev/null)
	[ "$have" = "$ver" ] || need="$need $w"
done
if [ -n "$need" ]; then
	echo "peers.sh: npm install$need" >&2
	(cd "$npmdir" && npm install --no-audit --no-fund --loglevel=error $need) \
	    >/dev/null || echo "peers.sh: npm install failed" >&2
fi
exit 0
