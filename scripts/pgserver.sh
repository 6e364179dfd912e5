#!/bin/sh
# pgserver.sh - a throwaway PostgreSQL 15 cluster for demos and manual tests.
#
#   sh scripts/pgserver.sh start  DIR PORT   initdb if needed, then start
#   sh scripts/pgserver.sh stop   DIR        stop (fast), keep the files
#   sh scripts/pgserver.sh status DIR        exit 0 if running, 3 if not
#   sh scripts/pgserver.sh env    DIR [PORT] print PGHOST/PGPORT/PGUSER lines
#
#   eval "$(sh scripts/pgserver.sh env /tmp/pgb 54329)"; psql -c 'select 1'
#
# The data directory is DIR/data, the log DIR/postgresql.log, and the unix
# socket lives in DIR itself.  The server listens on 127.0.0.1 and that
# socket only, trusts every local connection (initdb -A trust) and runs with
# fsync off: it is for throwaway data.  PGSERVER_DURABLE=1 at initdb keeps
# PostgreSQL's default durability instead (fsync and synchronous_commit on),
# as bench/ needs.  "start" is idempotent: a running
# server is left alone and an existing data directory is reused.  The
# superuser is "postgres".  Run as root, the cluster is created and run as
# the postgres system user, so DIR must be reachable by it.  Remove DIR by
# hand after "stop" to throw the cluster away.
set -eu

prog=pgserver.sh
usage() {
	echo "usage: sh scripts/pgserver.sh start|stop|status|env DIR [PORT]" >&2
	exit 2
}
die() {
	echo "$prog: $*" >&2
	exit 1
}

{ [ $# -ge 2 ] && [ $# -le 3 ]; } || usage
cmd=$1
dir=$2
port=${3:-}
case "$cmd" in
start|stop|status|env)	;;
*)			usage ;;
esac
case "$port" in
"")		[ "$cmd" != start ] || usage ;;
*[!0-9]*)	die "port '$port' is not a number" ;;
*)		{ [ "$port" -ge 1 ] && [ "$port" -le 65535 ]; } ||
		    die "port '$port' is out of range" ;;
esac

bindir=$(pg_config --bindir 2>/dev/null || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/pg_ctl" ]; then
	bindir=/usr/lib/postgresql/15/bin
fi
{ [ -x "$bindir/pg_ctl" ] && [ -x "$bindir/initdb" ]; } ||
    die "no initdb/pg_ctl in '$bindir': run scripts/deps.sh"

# Absolute paths: the server and pg_ctl run from inside DIR.
case "$dir" in
/*)	;;
*)	dir=$(pwd)/$dir ;;
esac
dir=${dir%/}
case "$dir" in
*[!A-Za-z0-9_./@+,:=-]*)
	die "'$dir': use a DIR without spaces, quotes or other shell characters" ;;
esac
data=$dir/data
log=$dir/postgresql.log

# Run a command as the cluster's owner: postgres when we are root.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

is_running() {
	[ -f "$data/PG_VERSION" ] &&
	    as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# The port a running server listens on (line 4 of postmaster.pid).
running_port() {
	sed -n 4p "$data/postmaster.pid" 2>/dev/null || true
}

do_start() {
	# A unix socket path is at most 107 bytes.
	sock="$dir/.s.PGSQL.$port"
	[ "${#sock}" -le 107 ] ||
	    die "'$dir' is too long for a unix socket path; use a shorter DIR"

	if is_running; then
		rp=$(running_port)
		[ "$rp" = "$port" ] ||
		    die "a server is already running in '$data' on port $rp"
		echo "$prog: already running in '$dir' on port $port"
		return 0
	fi

	mkdir -p "$dir"
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 ||
		    die "running as root but there is no 'postgres' user"
		chown postgres: "$dir"
		runuser -u postgres -- test -w "$dir" -a -x "$dir" ||
		    die "'$dir' is not reachable by user postgres: a parent" \
			"directory is not searchable (chmod o+x it, or use a" \
			"DIR under /tmp)"
	fi

	if [ ! -f "$data/PG_VERSION" ]; then
		if [ -e "$data" ] && [ -n "$(ls -A "$data" 2>/dev/null)" ]; then
			die "'$data' exists but is not a PostgreSQL data directory"
		fi
		(cd "$dir" && as_owner "$bindir/initdb" -D "$data" -A trust \
		    -U postgres -E UTF8 --locale=C --no-sync) >"$dir/initdb.log" 2>&1 ||
		    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
		if [ "${PGSERVER_DURABLE:-0}" = 1 ]; then
			sync=on
		else
			sync=off
		fi
		cat >>"$data/postgresql.conf" <<EOF

# pgserver.sh: a throwaway cluster for pgbundle
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = $sync
synchronous_commit = $sync
full_page_writes = $sync
lc_messages = 'C'
EOF
	fi

	# The port on the command line wins over postgresql.conf, so a
	# reused cluster can move to another port.
	if ! (cd "$dir" && as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w \
	    -t 60 -o "-p $port -k '$dir'" start) >/dev/null 2>&1; then
		tail -n 20 "$log" >&2 2>/dev/null || true
		die "could not start the server in '$dir' on port $port" \
		    "(log: $log)"
	fi
	echo "$prog: started in '$dir' on port $port"
}

do_stop() {
	if ! is_running; then
		echo "$prog: not running in '$dir'"
		return 0
	fi
	(cd "$dir" && as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop) \
	    >/dev/null || die "could not stop the server in '$dir'"
	echo "$prog: stopped in '$dir'"
}

do_status() {
	if is_running; then
		echo "$prog: running in '$dir' on port $(running_port)"
		return 0
	fi
	echo "$prog: not running in '$dir'"
	exit 3
}

do_env() {
	if [ -z "$port" ]; then
		port=$(running_port)
		[ -n "$port" ] ||
		    die "no server running in '$dir': give the PORT"
	fi
	echo "PGHOST=$dir; export PGHOST"
	echo "PGPORT=$port; export PGPORT"
	echo "PGUSER=postgres; export PGUSER"
}

case "$cmd" in
start)	do_start ;;
stop)	do_stop ;;
status)	do_status ;;
env)	do_env ;;
esac
