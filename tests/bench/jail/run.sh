#!/bin/bash
# tests/bench/jail/run.sh: what the jail costs.
#
#   1. start-up: wall time of `true`, `unshare -Urnpf --mount-proc true`,
#      `boundary -- true` (nsjail) and `boundary --jail-type landjail --
#      true`, run in interleaved rounds (the machine is shared and noisy:
#      each round runs every command once, in turn), median of each;
#   2. throughput: wrk inside the jail against a local nginx reached by
#      name through --connect-to, vs the same wrk through
#      `boundary --proxy-only` (absolute-form, as a proxy client sends).
#
#   tests/bench/jail/run.sh      (after `make`; needs `make bench-deps`)
#
# Environment: BOUNDARY (default bin/boundary), BENCH_STARTS (rounds of
# part 1, default 40), BENCH_DURATION (seconds per wrk run, default 6),
# BENCH_CONNS (default 32), BENCH_ROUNDS (interleaved throughput rounds,
# the best of each kept; default 3).  Everything listens on 127.0.0.1 (and in the
# jails' own namespaces); the markdown table goes to stdout.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
BOUNDARY=${BOUNDARY:-$root/bin/boundary}
STARTS=${BENCH_STARTS:-40}
DUR=${BENCH_DURATION:-6}
CONNS=${BENCH_CONNS:-32}
ROUNDS=${BENCH_ROUNDS:-3}
# shellcheck source=tests/bench/nginx.sh
. "$here/../nginx.sh"

say() { printf '%s\n' "bench-jail: $*" >&2; }
die() { say "error: $*"; exit 1; }

[ -x "$BOUNDARY" ] || die "$BOUNDARY not found: run 'make' first"
command -v wrk >/dev/null || die "wrk not found: run 'make bench-deps'"
[ -x "$NGINX" ] || die "$NGINX not found: run 'make bench-deps'"
unset BOUNDARY_CONFIG BOUNDARY_ALLOW PROXY_PORT http_proxy https_proxy \
	HTTP_PROXY HTTPS_PROXY no_proxy NO_PROXY || true

tmp=$(mktemp -d /tmp/boundary-bench-jail.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A private HOME: the persistent CA is made once, before the rounds.
export HOME=$tmp/home XDG_CONFIG_HOME=$tmp/home/.config
mkdir -p "$HOME"

freeport() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---- 1. start-up ----------------------------------------------------------------

# usec COMMAND...: wall time of one run in microseconds (bash's clock).
usec() {
	local t0 t1
	t0=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || return 1
	t1=$EPOCHREALTIME
	echo $(( (${t1/./} - ${t0/./}) ))
}

names=(true unshare nsjail landjail)
cmd_true=(true)
cmd_unshare=(unshare -Urnpf --mount-proc true)
cmd_nsjail=("$BOUNDARY" --log-level error -- true)
cmd_landjail=("$BOUNDARY" --log-level error --jail-type landjail -- true)
# /bin/true through env, so that every row pays one fork+exec of a binary
"${cmd_nsjail[@]}" 2>/dev/null || die "boundary -- true failed: $("${cmd_nsjail[@]}" 2>&1 | tail -1)"
have_land=1
"${cmd_landjail[@]}" 2>/dev/null || { have_land=0; say "landjail unavailable: its row is skipped"; }
declare -A times
for n in "${names[@]}"; do times[$n]=""; done
say "start-up: $STARTS interleaved rounds"
for ((i = 0; i < STARTS; i++)); do
	times[true]+=" $(usec env "${cmd_true[@]}")"
	times[unshare]+=" $(usec "${cmd_unshare[@]}")"
	times[nsjail]+=" $(usec "${cmd_nsjail[@]}")"
	[ $have_land = 1 ] && times[landjail]+=" $(usec "${cmd_landjail[@]}")"
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A med
for n in "${names[@]}"; do
	[ -n "${times[$n]// /}" ] && med[$n]=$(median <<<"${times[$n]}")
done

# ---- 2. throughput --------------------------------------------------------------

P_NGX=$(freeport)
P_BND=$(freeport)
P_JAIL=$(freeport)
nginx_start "$tmp/nginx" "
	server {
		listen 127.0.0.1:$P_NGX;
		location / { default_type text/plain; return 200 \"$BENCH_BODY\"; }
	}"
sleep 0.5

rps() { sed -n 's/.*rps=\([0-9]*\).*/\1/p'; }
common=(--log-level error --allow 'domain=bench.test' --audit-file "$tmp/audit.jsonl"
	--connect-to "bench.test:80:127.0.0.1:$P_NGX")

"$BOUNDARY" --proxy-only --proxy-port "$P_BND" "${common[@]}" 2>/dev/null &
pids+=($!)
sleep 0.5

best() { local a=$1 b=$2; if [ -z "$a" ] || { [ -n "$b" ] && [ "$b" -gt "$a" ]; }; then echo "$b"; else echo "$a"; fi; }
r_proxy= r_ns= r_land=
for ((round = 1; round <= ROUNDS; round++)); do
	say "throughput round $round/$ROUNDS: through --proxy-only"
	wrk -t1 -c"$CONNS" -d1s http://127.0.0.1:$P_BND/ >/dev/null 2>&1 || true
	r=$(BENCH_URL=http://bench.test/x wrk -t1 -c"$CONNS" -d"${DUR}s" \
		-s "$root/tests/bench/proxy/absolute.lua" -H 'Host: bench.test' \
		"http://127.0.0.1:$P_BND/" | rps)
	r_proxy=$(best "$r_proxy" "$r")

	say "throughput round $round/$ROUNDS: inside nsjail (transparent redirect)"
	r=$("$BOUNDARY" "${common[@]}" --proxy-port "$P_JAIL" -- sh -c "
		wrk -t1 -c$CONNS -d1s http://bench.test/ >/dev/null 2>&1
		BENCH_URL= wrk -t1 -c$CONNS -d${DUR}s -s '$root/tests/bench/proxy/absolute.lua' http://bench.test/" | rps)
	r_ns=$(best "$r_ns" "$r")

	if [ $have_land = 1 ]; then
		say "throughput round $round/$ROUNDS: inside landjail (HTTP_PROXY, absolute-form)"
		r=$("$BOUNDARY" "${common[@]}" --proxy-port "$P_JAIL" --jail-type landjail -- sh -c "
			wrk -t1 -c$CONNS -d1s http://127.0.0.1:$P_JAIL/ >/dev/null 2>&1
			BENCH_URL=http://bench.test/x wrk -t1 -c$CONNS -d${DUR}s -s '$root/tests/bench/proxy/absolute.lua' -H 'Host: bench.test' http://127.0.0.1:$P_JAIL/" | rps)
		r_land=$(best "$r_land" "$r")
	fi
done

ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }
echo
echo "| start-up (median of $STARTS interleaved rounds) | wall time | added over unshare |"
echo "| --- | --- | --- |"
echo "| \`true\` (through env) | $(ms "${med[true]}") ms | |"
echo "| \`unshare -Urnpf --mount-proc true\` | $(ms "${med[unshare]}") ms | |"
echo "| \`boundary -- true\` (nsjail) | $(ms "${med[nsjail]}") ms | $(ms $((med[nsjail] - med[unshare]))) ms |"
if [ $have_land = 1 ]; then
	echo "| \`boundary --jail-type landjail -- true\` | $(ms "${med[landjail]}") ms | $(ms $((med[landjail] - med[unshare]))) ms |"
fi
echo
echo "| wrk -c$CONNS, ${DUR} s, 100-byte bodies (best of $ROUNDS interleaved rounds) | requests/s | vs --proxy-only |"
echo "| --- | --- | --- |"
echo "| through \`boundary --proxy-only\` | ${r_proxy:-?} | 1.00 |"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "?"; else printf "%.2f", a / b }'; }
echo "| inside nsjail (redirected) | ${r_ns:-?} | $(ratio "$r_ns" "$r_proxy") |"
[ $have_land = 1 ] && echo "| inside landjail (HTTP_PROXY) | ${r_land:-?} | $(ratio "$r_land" "$r_proxy") |"
exit 0
