#!/bin/sh
# The `make check` driver: runs every stage, prints its TAP, and sums the
# "# N passed, N failed" line of each stage into the final line.
# A stage that dies without its summary counts as one failure.
# Environment: BUILD (build or build/san), SAN.
BUILD=${BUILD:-build}
total_pass=0
total_fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

stage() {
	name=$1
	shift
	echo "# == $name"
	"$@" >"$tmp/out" 2>&1
	status=$?
	cat "$tmp/out"
	summary=$(grep -E '^# [0-9]+ passed, [0-9]+ failed' "$tmp/out" | tail -n 1)
	if [ -z "$summary" ]; then
		echo "not ok - stage $name ended without a summary (exit $status)"
		total_fail=$((total_fail + 1))
		return
	fi
	p=$(echo "$summary" | sed -E 's/^# ([0-9]+) passed, ([0-9]+) failed.*/\1/')
	f=$(echo "$summary" | sed -E 's/^# ([0-9]+) passed, ([0-9]+) failed.*/\2/')
	if [ "$status" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok - stage $name exited with status $status"
		f=1
	fi
	echo "# $name: $p passed, $f failed"
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
}

stage unit "$BUILD/tests/unit"
stage golden env BUILD="$BUILD" sh tests/golden/run.sh
stage cli env BUILD="$BUILD" sh tests/cli.sh
stage no-alloc sh tests/nmcheck.sh "$BUILD"
"$BUILD/bin/boundary-compile" --config tests/noalloc.yaml -o "$tmp/noalloc.bpol" 2>"$tmp/noalloc.err" ||
	cat "$tmp/noalloc.err"
stage counting-allocator "$BUILD/tests/noalloc" "$tmp/noalloc.bpol" tests/noalloc.requests
stage integration env BUILD="$BUILD" bash tests/integration/run.sh
stage jail env BUILD="$BUILD" bash tests/jail/run.sh
for r in "$BUILD"/replay/fuzz_*; do
	[ -x "$r" ] || continue
	t=${r##*/fuzz_}
	stage "replay-$t" "$r" "fuzz/corpus/$t"
done

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
