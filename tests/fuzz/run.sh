#!/bin/sh
# run.sh DIR SECONDS - run every libFuzzer target built into DIR (by
# "make fuzz") for SECONDS each.
#
# Seeds: the hostile bundles of tests/gen-hostile.pl ("more" set, all
# small) for fuzz_bundle, the manifest inside each bundle libarchive can
# read for fuzz_manifest, and the sample and lexer-corpus SQL files for
# fuzz_lex.  First every input in tests/fuzz/regress/TARGET/ (inputs that
# once crashed, kept as fixtures) is replayed once; then the target runs
# from its corpus in DIR/corpus/TARGET.  A crash, leak, sanitizer report
# or timeout leaves the input in DIR/crash-* and exits non-zero.  The last
# line of each run is libFuzzer's own statistics.
set -eu

dir=${1:?usage: run.sh DIR SECONDS}
secs=${2:?usage: run.sh DIR SECONDS}
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

corpus=$dir/corpus
fx=$dir/fixtures
mkdir -p "$corpus/bundle" "$corpus/manifest" "$corpus/lex" "$fx"
perl tests/gen-hostile.pl "$fx" more >/dev/null
for f in "$fx"/*.pgb; do
	n=$(basename "$f" .pgb)
	cp "$f" "$corpus/bundle/$n"
	tar -xzOf "$f" MANIFEST >"$corpus/manifest/$n" 2>/dev/null ||
	    rm -f "$corpus/manifest/$n"
done
for f in migrations/*.sql tests/data/lex/*.sql; do
	[ -f "$f" ] && cp "$f" "$corpus/lex/$(echo "$f" | tr / _)"
done

status=0
for t in bundle manifest lex; do
	fz=$dir/fuzz_$t
	reg=tests/fuzz/regress/$t
	if ls "$reg"/* >/dev/null 2>&1; then
		echo "fuzz_$t: replaying $(ls "$reg" | wc -l) regression inputs"
		"$fz" -runs=0 "$reg"/* >"$dir/replay-$t.log" 2>&1 || {
			cat "$dir/replay-$t.log"
			echo "fuzz_$t: a regression input fails again" >&2
			status=1
			continue
		}
	fi
	echo "fuzz_$t: fuzzing for $secs s"
	if ! "$fz" -max_total_time="$secs" -max_len=65536 -timeout=20 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$dir/crash-$t-" "$corpus/$t" \
	    >"$dir/fuzz-$t.log" 2>&1; then
		tail -60 "$dir/fuzz-$t.log"
		echo "fuzz_$t: FAILED (input in $dir/crash-$t-*)" >&2
		status=1
		continue
	fi
	grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' \
	    "$dir/fuzz-$t.log" | tr '\n' ' '
	echo
done
exit $status
