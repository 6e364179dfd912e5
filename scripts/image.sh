#!/bin/sh
# image.sh - build the repository's Dockerfile into pgapply:VERSION and
# pgapply:latest with podman or docker ("make image"; docs/DEPLOY.md).
#
# The engine is IMAGE_ENGINE when set, else podman when it can start here,
# else docker when its daemon answers.  Podman runs with a configuration
# and storage of its own under build/image/, through CONTAINERS_CONF and
# CONTAINERS_STORAGE_CONF, so nothing in /etc or the user's own podman
# storage changes: runc with cgroupfs (no systemd needed), no default
# ulimits (podman would raise the open-files limit above what some hosts
# let a process set), and the overlay storage driver when the kernel
# mounts it, else vfs (IMAGE_STORAGE_DRIVER chooses; the choice is kept in
# build/image/storage.conf).
#
# The build stage's Debian 12 base is IMAGE_BASE when set, else
# debian:bookworm-slim when the engine has it, else the base made here
# before, else debian:bookworm-slim when it can be pulled, else one made
# now with mmdebstrap (minbase, Debian's mirrors, the host's apt settings
# for Check-Valid-Until, Check-Date and proxies), kept in
# build/image/base-bookworm.tar and imported as
# localhost/pgbundle-base:bookworm.  The build runs with the host's network.
#
# build/image/ is a cache that "make clean" keeps; "make distclean" runs
# "image.sh clean", which removes podman's containers and images there,
# then the folder.
#
# usage: sh scripts/image.sh build          build, then print the size
#        sh scripts/image.sh engine ARGS... run the engine as "build" does
#        sh scripts/image.sh which          name the engine, or say why none
#        sh scripts/image.sh clean          remove build/image/
set -eu

prog=image.sh
usage() {
	echo "usage: sh scripts/image.sh build|engine ARGS...|which|clean" >&2
	exit 2
}
say() { echo "$prog: $*"; }
die() {
	echo "$prog: $*" >&2
	exit 1
}

root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/build/image
name=pgapply
version=$(sed -n 's/^VERSION[[:space:]]*=[[:space:]]*//p' "$root/Makefile")
suite=bookworm
official=docker.io/library/debian:$suite-slim
ownbase=localhost/pgbundle-base:$suite
basetar=$dir/base-$suite.tar

# --- podman's configuration ------------------------------------------------
podman_conf() {
	mkdir -p "$dir"
	cat >"$dir/containers.conf" <<-EOF
	# Written by scripts/image.sh: podman as "make image" runs it.
	[containers]
	default_ulimits = []
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	runtime = "runc"
	tmp_dir = "$dir/tmp"
	[network]
	network_config_dir = "$dir/cni"
	EOF
	CONTAINERS_CONF=$dir/containers.conf
	CONTAINERS_STORAGE_CONF=$dir/storage.conf
	export CONTAINERS_CONF CONTAINERS_STORAGE_CONF
}

podman_storage() {
	cat >"$dir/storage.conf" <<-EOF
	# Written by scripts/image.sh: storage of the images "make image" builds.
	[storage]
	driver = "$1"
	graphroot = "$dir/storage"
	runroot = "$dir/run"
	EOF
}

# The last line of what $@ printed on stderr when it failed, in 'err'.
quiet() {
	err=$("$@" 2>&1 >/dev/null) && return 0
	err=$(printf '%s\n' "$err" | tail -n 1)
	return 1
}

# True when podman starts with this configuration; the first time, finds
# the storage driver that works (podman info mounts a test overlay).
podman_ok() {
	command -v podman >/dev/null 2>&1 || {
		why="${why}podman is not installed; "
		return 1
	}
	podman_conf
	if [ -f "$dir/storage.conf" ]; then
		quiet podman info && return 0
		why="${why}podman cannot start: $err; "
		return 1
	fi
	for drv in ${IMAGE_STORAGE_DRIVER:-overlay vfs}; do
		podman_storage "$drv"
		quiet podman info && return 0
		why="${why}podman with storage driver $drv cannot start: $err; "
		rm -rf "$dir/storage.conf" "$dir/storage" "$dir/run" "$dir/tmp"
	done
	return 1
}

docker_ok() {
	command -v docker >/dev/null 2>&1 || {
		why="${why}docker is not installed; "
		return 1
	}
	quiet docker info && return 0
	why="${why}docker cannot reach its daemon: $err; "
	return 1
}

# Sets engine to podman or docker, or says why neither can run.
pick_engine() {
	why=""
	case "${IMAGE_ENGINE:-}" in
	podman)	podman_ok && engine=podman ;;
	docker)	docker_ok && engine=docker ;;
	"")	if podman_ok; then
			engine=podman
		elif docker_ok; then
			engine=docker
		fi ;;
	*)	die "IMAGE_ENGINE must be podman or docker, not '$IMAGE_ENGINE'" ;;
	esac
	[ -n "${engine:-}" ] ||
	    die "no container engine can run here: ${why%; } (sh scripts/deps.sh installs podman)"
}

has_image() {
	"$engine" image inspect --format '{{.Id}}' "$1" >/dev/null 2>&1
}

# --- the build stage's base ------------------------------------------------
make_base() {
	command -v mmdebstrap >/dev/null 2>&1 ||
	    die "cannot pull $official and mmdebstrap is not installed (sh scripts/deps.sh installs it), or set IMAGE_BASE"
	[ "$(id -u)" -eq 0 ] ||
	    die "cannot pull $official, and mmdebstrap needs root here: run as root once, or set IMAGE_BASE"
	# The host's apt settings that its mirror may need (a snapshot
	# mirror's old Release files, a proxy), kept in the base for the
	# build stage's own apt-get.
	apt-config dump |
	    grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy) ' \
	    >"$dir/base-apt.conf" || true
	say "making the base with mmdebstrap: $basetar (about a minute)"
	mmdebstrap --variant=minbase --format=tar \
	    --aptopt="$dir/base-apt.conf" "$suite" "$basetar.part" \
	    >"$dir/mmdebstrap.log" 2>&1 || {
		tail -n 20 "$dir/mmdebstrap.log" >&2
		die "mmdebstrap failed (log: $dir/mmdebstrap.log)"
	}
	mv "$basetar.part" "$basetar"
}

pick_base() {
	if [ -n "${IMAGE_BASE:-}" ]; then
		base=$IMAGE_BASE
		return
	fi
	for b in "$official" "$ownbase"; do
		if has_image "$b"; then
			base=$b
			return
		fi
	done
	if [ ! -s "$basetar" ]; then
		say "pulling $official"
		if timeout 300 "$engine" pull "$official" >"$dir/pull.log" 2>&1
		then
			base=$official
			return
		fi
		say "cannot pull it: $(tail -n 1 "$dir/pull.log")"
		make_base
	fi
	say "importing $basetar as $ownbase"
	"$engine" import "$basetar" "$ownbase" >"$dir/import.log" 2>&1 || {
		cat "$dir/import.log" >&2
		die "$engine import failed"
	}
	base=$ownbase
}

# --- commands --------------------------------------------------------------
build() {
	start=$(date +%s)
	pick_engine
	mkdir -p "$dir"
	pick_base
	say "building $name:$version with $engine from $base (log: $dir/build.log)"
	# The engine's steps on the terminal, everything in the log.
	{ "$engine" build --network host --build-arg "BASE=$base" \
	    -t "$name:$version" -t "$name:latest" -f "$root/Dockerfile" \
	    "$root" 2>&1 && echo 0 >"$dir/build.rc" ||
	    echo $? >"$dir/build.rc"; } | tee "$dir/build.log" |
	    grep -E '^(\[[0-9]+/[0-9]+\] )?STEP [0-9]|^#[0-9]+ \[' || true
	rc=$(cat "$dir/build.rc")
	if [ "$rc" -ne 0 ]; then
		tail -n 30 "$dir/build.log" >&2
		die "$engine build failed with exit $rc (log: $dir/build.log)"
	fi
	size=$("$engine" image inspect --format '{{.Size}}' "$name:$version")
	say "$name:$version and $name:latest: $size bytes" \
	    "($(awk -v s="$size" 'BEGIN { printf "%.1f MiB", s / 1048576 }'))," \
	    "$engine, $(($(date +%s) - start)) s"
}

clean() {
	if [ -f "$dir/storage.conf" ] && command -v podman >/dev/null 2>&1
	then
		podman_conf
		podman rm --all --force >/dev/null 2>&1 || true
		podman rmi --all --force >/dev/null 2>&1 || true
		if [ "$(id -u)" -ne 0 ]; then
			# Rootless layers hold files of other user ids.
			podman unshare rm -rf "$dir/storage" 2>/dev/null || true
		fi
	fi
	rm -rf "$dir"
}

case "${1:-}" in
build)	[ $# -eq 1 ] || usage; build ;;
engine)	shift
	# Podman as "build" left it, without asking it again.
	if [ "${IMAGE_ENGINE:-podman}" = podman ] && [ -f "$dir/storage.conf" ] &&
	    command -v podman >/dev/null 2>&1; then
		podman_conf
		engine=podman
	else
		pick_engine
	fi
	exec "$engine" "$@" ;;
which)	[ $# -eq 1 ] || usage; pick_engine; echo "$engine" ;;
clean)	[ $# -eq 1 ] || usage; clean ;;
-h|--help) sed -n '2,30s/^# \{0,1\}//p' "$0"; exit 0 ;;
*)	usage ;;
esac
