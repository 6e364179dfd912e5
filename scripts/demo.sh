#!/bin/sh
# demo.sh - the README's first command: build both programs, make a
# throwaway signing key, compile migrations/ into bundles/, start a
# throwaway PostgreSQL 15 (data under build/demo), apply the bundle and
# show the status.  Run it again: same server data, nothing to do.
set -eu
cd "$(dirname "$0")/.."

PORT=${PGB_DEMO_PORT:-54329}
DIR=${PGB_DEMO_DIR:-$(pwd)/build/demo}
mkdir -p "$DIR"
# The server runs as 'postgres' when we are root; it must reach DIR.
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$DIR" 2>/dev/null; then
	DIR=${TMPDIR:-/tmp}/pgbundle-demo
	mkdir -p "$DIR"
	echo "demo: $(pwd)/build is not reachable by the postgres user;" \
	    "keeping the server data in $DIR" >&2
fi

make -s all
[ -f "$DIR/demo.key" ] || bin/pgbundle keygen -o "$DIR/demo" >/dev/null
bundle=$(bin/pgbundle build migrations --key "$DIR/demo.key" --project shop -q)
echo "demo: compiled migrations/ into $bundle" >&2

# The server stops on every way out: an error, ^C, a closed terminal, and
# a reader that went away ("make demo | head": the next write fails, and
# set -e ends the script through the EXIT trap).
trap 'sh scripts/pgserver.sh stop "$DIR/pg" >/dev/null 2>&1 || true' EXIT
trap 'exit 130' INT TERM HUP
trap '' PIPE
sh scripts/pgserver.sh start "$DIR/pg" "$PORT" >&2
db="host=$DIR/pg port=$PORT user=postgres dbname=postgres"

bin/pgapply apply "$bundle" --pubkey "$DIR/demo.pub" --db "$db" --wait 30
bin/pgapply status "$bundle" --pubkey "$DIR/demo.pub" --db "$db"
echo "demo: server data kept in $DIR/pg; run 'make demo' again to see" \
    "that there is nothing left to do" >&2
