#!/bin/sh
# STYLE rule 16: the decision path allocates nothing.  Fails if an object of
# the decision path references an allocator.  Usage: nmcheck.sh BUILD
BUILD=${1:-build}
n=0
fail=0
for o in "$BUILD/obj/runtime/bt.o" "$BUILD/obj/runtime/url.o" \
    "$BUILD/obj/runtime/http.o" "$BUILD/obj/runtime/chunk.o" \
    "$BUILD"/obj/gen/host.o "$BUILD"/obj/gen/path.o "$BUILD"/obj/gen/http_head.o; do
	[ -f "$o" ] || continue
	n=$((n + 1))
	bad=$(nm -u "$o" | awk '{print $NF}' | grep -E '^(malloc|calloc|realloc|free|strdup|strndup|reallocarray|posix_memalign|aligned_alloc)$' | tr '\n' ' ')
	if [ -n "$bad" ]; then
		echo "not ok $n - $o references: $bad"
		fail=$((fail + 1))
	else
		echo "ok $n - $o references no allocator"
	fi
done
if [ "$n" -eq 0 ]; then
	echo "not ok 1 - no decision-path object found under $BUILD/obj"
	fail=1
	n=1
fi
echo "# $((n - fail)) passed, $fail failed"
[ "$fail" -eq 0 ]
