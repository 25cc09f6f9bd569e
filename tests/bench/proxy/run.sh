#!/bin/bash
# tests/bench/proxy/run.sh: the proxy benchmark of boundary --proxy-only
# against nginx direct, squid and tinyproxy.  See README.md next to this file.
#
#   tests/bench/proxy/run.sh            (after `make`; needs `make bench-deps`)
#
# Environment: BOUNDARY (default bin/boundary), BENCH_DURATION (seconds per
# measured run, default 8), BENCH_CONNS (client connections, default 32),
# BENCH_THREADS (wrk threads and tlsload processes, default 1),
# BENCH_IDLE_CONNS (default 10000), BENCH_FIRST_N (default 200),
# BENCH_ROUNDS (plain HTTP rounds, targets interleaved; default 3),
# BENCH_BASELINE (another boundary binary, e.g. an earlier build: it runs
# as one more target in the same plain HTTP rounds, row "baseline"),
# BENCH_SYSCALLS=0 skips the system call count (needs strace),
# BENCH_KEEP=1 keeps the temporary directory.
#
# Everything listens on 127.0.0.1 on ports that are free at run time.  The
# markdown table goes to stdout at the end; progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
BOUNDARY=${BOUNDARY:-$root/bin/boundary}
# shellcheck source=tests/bench/nginx.sh
. "$here/../nginx.sh"
DUR=${BENCH_DURATION:-8}
CONNS=${BENCH_CONNS:-32}
THREADS=${BENCH_THREADS:-1}
IDLE_N=${BENCH_IDLE_CONNS:-10000}
FIRST_N=${BENCH_FIRST_N:-200}
ROUNDS_N=${BENCH_ROUNDS:-3}
SQUID=${SQUID:-/usr/sbin/squid}
TINYPROXY=${TINYPROXY:-/usr/bin/tinyproxy}

say() { printf '%s\n' "bench-proxy: $*" >&2; }
die() { say "error: $*"; exit 1; }

# ---- prerequisites ----------------------------------------------------------

[ -x "$BOUNDARY" ] || die "$BOUNDARY not found: run 'make' first"
for t in wrk openssl cc; do
	command -v "$t" >/dev/null || die "'$t' not found: run 'make bench-deps'"
done
[ -x /usr/bin/time ] || die "/usr/bin/time not found: run 'make bench-deps'"
[ -x "$NGINX" ] || die "$NGINX not found: run 'make bench-deps' (nginx-light)"
have_squid=1; [ -x "$SQUID" ] || { have_squid=0; say "squid not installed: its row is skipped"; }
have_tp=1; [ -x "$TINYPROXY" ] || { have_tp=0; say "tinyproxy not installed: its row is skipped"; }

# The benchmark's own settings only: nothing from the user's boundary setup.
unset BOUNDARY_CONFIG BOUNDARY_ALLOW BOUNDARY_LOG_LEVEL BOUNDARY_LOG_DIR \
	PROXY_PORT http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy \
	ALL_PROXY no_proxy NO_PROXY || true

hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt $((IDLE_N + 256)) ]; then
	say "hard limit on open files is $hard: idle connections lowered to $((hard - 256))"
	IDLE_N=$((hard - 256))
fi
ulimit -n "$hard"

# ---- temporary directory and cleanup -----------------------------------------

tmp=$(mktemp -d /tmp/boundary-bench.XXXXXX)
chmod 755 "$tmp"	# squid and tinyproxy drop to their own users when root
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		say "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- helpers -------------------------------------------------------------------

# wait_port PORT PID NAME: until PORT accepts a connection (10 s).
wait_port() {
	local i
	for i in $(seq 100); do
		if ! kill -0 "$2" 2>/dev/null; then
			say "$3 exited before listening"
			return 1
		fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	say "$3 does not listen on $1 after 10 s"
	return 1
}

# kv KEY LINE: the value of KEY=VALUE in LINE.
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# cpu_ticks PID: user + system clock ticks of PID (all threads).
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)

# ---- build the HTTPS load generator ---------------------------------------------

say "building tlsload"
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -o "$tmp/tlsload" \
	"$here/tlsload.c" $(pkg-config --cflags --libs wolfssl 2>/dev/null || echo -lwolfssl)
TL=$tmp/tlsload

read -r P_NGX P_NGXTLS P_NGXTLS1 P_BND P_SQUID P_TP P_BND2 P_BASE P_SC \
	<<<"$("$TL" freeport 9 | tr '\n' ' ')"
BASELINE=${BENCH_BASELINE:-}
[ -z "$BASELINE" ] || [ -x "$BASELINE" ] || die "BENCH_BASELINE=$BASELINE is not executable"

# ---- test CA and the origin's certificate ----------------------------------------

say "creating the test CA"
cat >"$tmp/openssl.cnf" <<EOF
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:bench.test,DNS:*.bench.test
authorityKeyIdentifier = keyid
EOF
{
	openssl req -x509 -config "$tmp/openssl.cnf" -extensions ca \
		-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$tmp/ca-key.pem" -out "$tmp/ca.pem" -days 2 \
		-subj /CN=boundary-bench-origin-ca
	openssl req -new -config "$tmp/openssl.cnf" \
		-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$tmp/srv-key.pem" -out "$tmp/srv.csr" -subj /CN=bench.test
	openssl x509 -req -in "$tmp/srv.csr" -CA "$tmp/ca.pem" \
		-CAkey "$tmp/ca-key.pem" -CAcreateserial -days 2 \
		-extfile "$tmp/openssl.cnf" -extensions leaf -out "$tmp/srv.pem"
} >"$tmp/openssl.log" 2>&1 || { cat "$tmp/openssl.log" >&2; die "openssl failed"; }

# ---- nginx: the origin ---------------------------------------------------------

nginx_start "$tmp/nginx" "
	server {
		listen 127.0.0.1:$P_NGX;
		listen 127.0.0.1:$P_NGXTLS ssl;
		server_name bench.test *.bench.test;
		ssl_certificate $tmp/srv.pem;
		ssl_certificate_key $tmp/srv-key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		location / {
			default_type text/plain;
			return 200 \"$BENCH_BODY\";
		}
	}
	# No keep-alive and no TLS resumption: every upstream request through
	# boundary costs a new TCP + full TLS connection, whatever the host.
	server {
		listen 127.0.0.1:$P_NGXTLS1 ssl;
		server_name bench.test *.bench.test;
		keepalive_timeout 0;
		ssl_session_tickets off;
		ssl_session_cache off;
		ssl_certificate $tmp/srv.pem;
		ssl_certificate_key $tmp/srv-key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		location / {
			default_type text/plain;
			return 200 \"$BENCH_BODY\";
		}
	}"
wait_port "$P_NGX" "$ngx_pid" nginx || { cat "$tmp/nginx/error.log" >&2; die "nginx failed"; }
wait_port "$P_NGXTLS" "$ngx_pid" nginx || die "nginx (TLS) failed"
wait_port "$P_NGXTLS1" "$ngx_pid" nginx || die "nginx (TLS) failed"

# ---- boundary ---------------------------------------------------------------------

# start_boundary PORT NAME [BINARY [WRAPPER...]]: starts BINARY (default
# $BOUNDARY) --proxy-only, under WRAPPER (e.g. strace) if given; sets
# bnd_pid (the wrapper's, if any).
start_boundary() {
	local port=$1 name=$2 bin=${3:-$BOUNDARY}
	shift $(($# < 3 ? $# : 3))
	mkdir -p "$tmp/$name/xdg"
	XDG_CONFIG_HOME=$tmp/$name/xdg "$@" "$bin" --proxy-only \
		--proxy-port "$port" \
		--allow 'domain=bench.test' --allow 'domain=*.bench.test' \
		--connect-to "bench.test:80:127.0.0.1:$P_NGX" \
		--connect-to ":443:127.0.0.1:$P_NGXTLS" \
		--connect-to ":8443:127.0.0.1:$P_NGXTLS1" \
		--upstream-ca "$tmp/ca.pem" --ephemeral-ca \
		--audit-file "$tmp/$name/audit.jsonl" \
		>"$tmp/$name/stdout.log" 2>"$tmp/$name/stderr.log" &
	bnd_pid=$!
	pids+=("$bnd_pid")
	wait_port "$port" "$bnd_pid" "$name" || { tail -5 "$tmp/$name/stderr.log" >&2; die "boundary failed to start"; }
}
start_boundary "$P_BND" boundary
b_pid=$bnd_pid
BCA=$tmp/boundary/xdg/coder_boundary/ca-cert.pem
[ -s "$BCA" ] || die "boundary wrote no CA certificate at $BCA"
base_pid=
if [ -n "$BASELINE" ]; then
	start_boundary "$P_BASE" baseline "$BASELINE"
	base_pid=$bnd_pid
fi

# ---- squid ------------------------------------------------------------------------

sq_pid=
if [ "$have_squid" = 1 ]; then
	mkdir -p "$tmp/squid"
	[ "$(id -u)" = 0 ] && chown proxy:proxy "$tmp/squid" 2>/dev/null || true
	cat >"$tmp/squid/squid.conf" <<EOF
http_port 127.0.0.1:$P_SQUID
workers 1
acl bench dstdomain .bench.test
http_access allow bench
http_access deny all
cache_peer 127.0.0.1 parent $P_NGX 0 no-query no-digest originserver name=origin
cache_peer_access origin allow bench
never_direct allow all
cache deny all
cache_mem 8 MB
access_log stdio:$tmp/squid/access.log
cache_log $tmp/squid/cache.log
debug_options ALL,1
pid_filename $tmp/squid/squid.pid
coredump_dir $tmp/squid
netdb_filename none
icp_port 0
htcp_port 0
pinger_enable off
visible_hostname boundary-bench
shutdown_lifetime 1 seconds
client_persistent_connections on
server_persistent_connections on
max_filedescriptors 65536
EOF
	"$SQUID" -N -f "$tmp/squid/squid.conf" >"$tmp/squid/stdout.log" 2>&1 &
	sq_pid=$!
	pids+=("$sq_pid")
	if ! wait_port "$P_SQUID" "$sq_pid" squid; then
		tail -5 "$tmp/squid/cache.log" "$tmp/squid/stdout.log" >&2 || true
		have_squid=0
	fi
fi

# ---- tinyproxy ----------------------------------------------------------------------

tp_pid=
if [ "$have_tp" = 1 ]; then
	mkdir -p "$tmp/tinyproxy"
	tpuser=
	if [ "$(id -u)" = 0 ]; then
		chown nobody:nogroup "$tmp/tinyproxy" 2>/dev/null || true
		tpuser=$'User nobody\nGroup nogroup'
	fi
	printf '%s\n' '(^|\.)bench\.test$' >"$tmp/tinyproxy/filter"
	cat >"$tmp/tinyproxy/tinyproxy.conf" <<EOF
$tpuser
Port $P_TP
Listen 127.0.0.1
Timeout 600
LogFile "$tmp/tinyproxy/tinyproxy.log"
LogLevel Connect
PidFile "$tmp/tinyproxy/tinyproxy.pid"
MaxClients 1024
Filter "$tmp/tinyproxy/filter"
FilterType ere
FilterDefaultDeny Yes
Upstream http 127.0.0.1:$P_NGX
EOF
	"$TINYPROXY" -d -c "$tmp/tinyproxy/tinyproxy.conf" >"$tmp/tinyproxy/stdout.log" 2>&1 &
	tp_pid=$!
	pids+=("$tp_pid")
	if ! wait_port "$P_TP" "$tp_pid" tinyproxy; then
		tail -5 "$tmp/tinyproxy/tinyproxy.log" "$tmp/tinyproxy/stdout.log" >&2 || true
		have_tp=0
	fi
fi

# ---- the allowlists are active: bench.test allowed, other.test denied ----------------

# status PORT URL HOST: the status code of one request (absolute-form if URL is).
status() {
	local line=
	if exec 3<>"/dev/tcp/127.0.0.1/$1"; then
		printf 'GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$2" "$3" >&3
		read -r -t 5 line <&3 || true
		exec 3>&- 3<&-
	fi
	line=${line#HTTP/1.? }
	echo "${line%% *}"
}
declare -A CHECK
CHECK[direct]="$(status "$P_NGX" /x bench.test)/-"
CHECK[boundary]="$(status "$P_BND" http://bench.test/x bench.test)/$(status "$P_BND" http://other.test/x other.test)"
[ "$have_squid" = 1 ] && CHECK[squid]="$(status "$P_SQUID" http://bench.test/x bench.test)/$(status "$P_SQUID" http://other.test/x other.test)"
[ "$have_tp" = 1 ] && CHECK[tinyproxy]="$(status "$P_TP" http://bench.test/x bench.test)/$(status "$P_TP" http://other.test/x other.test)"

# ---- plain HTTP keep-alive ---------------------------------------------------------------

declare -A R CPU ALIVE ROUNDS AUDIT RPS ALLCPU
ngx_worker=$(nginx_worker)
[ -n "$ngx_worker" ] || die "nginx has no worker process"
# run_wrk NAME PORT URL PID: a warm-up second, then one measured run.  Per
# round: RPS[NAME,round] and ALLCPU[NAME,round], the CPU time per request
# of wrk + nginx + the proxy (PID; none for direct).  The round with the
# most requests/s is kept in R, CPU and AUDIT.
run_wrk() {
	local name=$1 port=$2 url=$3 pid=$4 c0 c1 n0 n1 a0=0 a1=0 line out wcpu
	out=$tmp/wrk-$name-$round.txt
	say "plain keep-alive, round $round: $name (${DUR}s, -t$THREADS -c$CONNS)"
	BENCH_URL=$url wrk -t"$THREADS" -c"$CONNS" -d1s -s "$here/absolute.lua" \
		-H 'Host: bench.test' "http://127.0.0.1:$port/x" >/dev/null 2>&1 || true
	sleep 0.5
	if [ "$name" = boundary ]; then a0=$(wc -l <"$tmp/boundary/audit.jsonl"); fi
	if [ "$name" = baseline ]; then a0=$(wc -l <"$tmp/baseline/audit.jsonl"); fi
	c0=$(cpu_ticks "$pid"); n0=$(cpu_ticks "$ngx_worker")
	BENCH_URL=$url /usr/bin/time -f 'WRKCPU %U %S' -o "$out.time" \
		wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency \
		-s "$here/absolute.lua" -H 'Host: bench.test' \
		"http://127.0.0.1:$port/x" >"$out" 2>&1 || true
	c1=$(cpu_ticks "$pid"); n1=$(cpu_ticks "$ngx_worker")
	if [ "$name" = boundary ] || [ "$name" = baseline ]; then
		sleep 0.5
		a1=$(wc -l <"$tmp/$name/audit.jsonl")
	fi
	[ "$name" = direct ] && c1=$c0
	line=$(grep '^RESULT' "$out" || echo "RESULT reqs=0 rps=0 error=wrk_failed")
	wcpu=$(awk '/^WRKCPU/ { print $2 + $3 }' "$out.time" 2>/dev/null || echo 0)
	RPS[$name,$round]=$(kv rps "$line")
	ALLCPU[$name,$round]=$(awk -v w="${wcpu:-0}" -v t=$((c1 - c0 + n1 - n0)) \
		-v hz="$hz" -v n="$(kv reqs "$line")" \
		'BEGIN { if (n > 0) printf "%.1f", (w + t / hz) * 1e6 / n; else print "" }')
	ROUNDS[$name]="${ROUNDS[$name]:+${ROUNDS[$name]}, }$(kv rps "$line")"
	if [ -z "${R[$name]:-}" ] || [ "$(kv rps "$line")" -gt "$(kv rps "${R[$name]}")" ]; then
		R[$name]=$line
		CPU[$name]=$((c1 - c0))
		AUDIT[$name]=$((a1 - a0))
	fi
	if kill -0 "$pid" 2>/dev/null; then ALIVE[$name]=yes; else ALIVE[$name]=DIED; fi
	[ "${ALIVE[$name]}" = yes ] || say "$name died during its run"
}

for round in $(seq "$ROUNDS_N"); do
	run_wrk direct "$P_NGX" "" "$ngx_pid"
	run_wrk boundary "$P_BND" "http://bench.test/x" "$b_pid"
	[ -n "$base_pid" ] && run_wrk baseline "$P_BASE" "http://bench.test/x" "$base_pid"
	[ "$have_squid" = 1 ] && run_wrk squid "$P_SQUID" "http://bench.test/x" "$sq_pid"
	[ "$have_tp" = 1 ] && run_wrk tinyproxy "$P_TP" "http://bench.test/x" "$tp_pid"
done

# per_round NAME [BASE]: "r1 r2 ..." of NAME's requests/s over BASE's
# (default direct) in the same round; median_of WORDS: their median.
per_round() {
	local i out=
	for i in $(seq "$ROUNDS_N"); do
		out+=" $(awk -v a="${RPS[$1,$i]:-0}" -v b="${RPS[${2:-direct},$i]:-0}" \
			'BEGIN { if (b > 0) printf "%.2f", a / b; else print "0" }')"
	done
	echo "$out"
}
median_of() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# cpu_median NAME: median over the rounds of ALLCPU[NAME,round].
cpu_median() {
	local i out=
	for i in $(seq "$ROUNDS_N"); do out+=" ${ALLCPU[$1,$i]:-}"; done
	median_of <<<"$out"
}

# ---- HTTPS through boundary -----------------------------------------------------------------

say "HTTPS keep-alive direct to nginx (${DUR}s)"
H_direct=$("$TL" ka -D -p "$P_NGXTLS" -h bench.test -a "$tmp/ca.pem" \
	-c "$CONNS" -t "$THREADS" -d "$DUR" 2>"$tmp/tls-direct.err" | grep '^RESULT' || echo "RESULT rps=0")
say "HTTPS keep-alive through boundary, CONNECT + interception (${DUR}s)"
c0=$(cpu_ticks "$b_pid")
H_ka=$("$TL" ka -p "$P_BND" -h bench.test -a "$BCA" \
	-c "$CONNS" -t "$THREADS" -d "$DUR" 2>"$tmp/tls-ka.err" | grep '^RESULT' || echo "RESULT rps=0")
H_ka_cpu=$(($(cpu_ticks "$b_pid") - c0))
say "new TLS interceptions: CONNECT + handshake + 1 request per connection (${DUR}s)"
c0=$(cpu_ticks "$b_pid")
H_new=$("$TL" new -p "$P_BND" -h bench.test \
	-c "$CONNS" -t "$THREADS" -d "$DUR" 2>"$tmp/tls-new.err" | grep '^RESULT' || echo "RESULT cps=0")
H_new_cpu=$(($(cpu_ticks "$b_pid") - c0))
say "first request to a new host vs a known host ($FIRST_N pairs, upstream kept alive)"
H_first=$("$TL" first -p "$P_BND" -h bench.test -s bench.test -n "$FIRST_N" \
	-a "$BCA" 2>"$tmp/tls-first.err" | grep '^RESULT' || echo "RESULT error=first_failed")
say "first request to a new host vs a known host ($FIRST_N pairs, upstream not kept alive)"
H_first1=$("$TL" first -p "$P_BND" -o 8443 -h bench.test -s bench.test -n "$FIRST_N" \
	-a "$BCA" 2>"$tmp/tls-first1.err" | grep '^RESULT' || echo "RESULT error=first_failed")
b_alive=yes; kill -0 "$b_pid" 2>/dev/null || b_alive=DIED

# ---- memory per idle connection -------------------------------------------------------------

say "idle connections: $IDLE_N to a fresh boundary"
start_boundary "$P_BND2" boundary-idle
M=$("$TL" idle -p "$P_BND2" -P "$bnd_pid" -n "$IDLE_N" -h bench.test \
	2>"$tmp/idle.err" | grep '^RESULT' || echo "RESULT error=idle_failed")
m_alive=yes; kill -0 "$bnd_pid" 2>/dev/null || m_alive=DIED
m_limit=$(grep -c 'connection limit' "$tmp/boundary-idle/stderr.log" || true)

# ---- system calls per request --------------------------------------------------------

# A fresh boundary under strace -c -f for its whole life: one wrk run, then
# SIGTERM; requests = its audit records.  Unlike requests/s this does not
# depend on what else the machine runs (strace slows boundary down, so
# batching per loop iteration is that of a loaded proxy).
SC=
if [ "${BENCH_SYSCALLS:-1}" = 1 ] && command -v strace >/dev/null; then
	say "system calls per request (strace -c, 3 s of wrk)"
	start_boundary "$P_SC" boundary-strace "$BOUNDARY" strace -c -f -o "$tmp/strace.txt"
	sc_pid=$bnd_pid
	wrk -t"$THREADS" -c"$CONNS" -d3s -s "$here/absolute.lua" -H 'Host: bench.test' \
		"http://127.0.0.1:$P_SC/x" >/dev/null 2>&1 || true
	kill -TERM "$(pgrep -P "$sc_pid" | head -1)" 2>/dev/null || true
	wait "$sc_pid" 2>/dev/null || true
	n=$(wc -l <"$tmp/boundary-strace/audit.jsonl")
	SC=$(awk -v n="$n" '
		/^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ { c[$NF] = $4 }
		END {
			if (n == 0) { print "error=no_requests"; exit }
			printf "requests=%d", n
			split("sendto recvfrom write epoll_wait epoll_ctl", k, " ")
			for (i = 1; i <= 5; i++)
				printf " %s=%.3f", k[i], c[k[i]] / n
			printf " total=%.3f\n", c["total"] / n
		}' "$tmp/strace.txt" 2>/dev/null || echo error=strace)
fi

# ---- report ---------------------------------------------------------------------------

fmt_ms() { awk -v u="$1" 'BEGIN { if (u == "") print "-"; else printf "%.3f", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else printf "%.2f", a / b }'; }
yesno() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
	if (v == "-" || v == "") { print "n/a"; exit }
	ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0)
	print ok ? "yes" : "**no**" }'; }


echo
echo "## Proxy benchmark ($(date -u +%Y-%m-%d), $(nproc) CPUs: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1))"
echo
echo "Same load generator settings everywhere: ${DUR} s measured after a 1 s warm-up, $CONNS keep-alive connections, $THREADS client thread(s); nginx (1 worker) serves a 100-byte body; boundary audits every request to a file. Plain HTTP runs $ROUNDS_N rounds, each running every target in turn: requests/s and latencies are those of each target's best round, \"vs direct\" is the median over the rounds of the target's requests/s divided by direct's in the same round."
echo
echo "### Plain HTTP keep-alive (wrk, absolute-form through the proxies)"
echo
echo "| target | requests/s | vs direct | p50 ms | p99 ms | non-2xx | socket errors | proxy CPU µs/request | all CPU µs/request | allowed/denied check | alive after |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
for name in direct boundary baseline squid tinyproxy; do
	line=${R[$name]:-}
	[ "$name" = baseline ] && [ -z "$BASELINE" ] && continue
	if [ -z "$line" ]; then
		echo "| $name | not run | | | | | | | | | |"
		continue
	fi
	rps=$(kv rps "$line"); reqs=$(kv reqs "$line")
	errs=$(( $(kv err_connect "$line" || echo 0) + $(kv err_read "$line" || echo 0) + $(kv err_write "$line" || echo 0) + $(kv err_timeout "$line" || echo 0) ))
	if [ "$name" = direct ]; then
		cpu=-
	else
		cpu=$(awk -v t="${CPU[$name]}" -v hz="$hz" -v n="$reqs" 'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "-" }')
	fi
	label=$name; [ "$name" = boundary ] && label="boundary (audit on)"
	[ "$name" = baseline ] && label="baseline: $BASELINE (audit on)"
	echo "| $label | $rps | $(per_round "$name" | median_of) | $(fmt_ms "$(kv p50_us "$line")") | $(fmt_ms "$(kv p99_us "$line")") | $(kv non2xx "$line") | $errs | $cpu | $(cpu_median "$name") | ${CHECK[$name]:-} | ${ALIVE[$name]} |"
done
echo
echo "allowed/denied check: status of one request to http://bench.test/x and one to http://other.test/x before the runs (expected 200/403). all CPU: user + system time of wrk, the nginx worker and the proxy per request (median over the rounds); with the cores saturated, direct's all-CPU over a target's is the throughput ratio the machine allows."
[ "$have_tp" = 1 ] && echo "tinyproxy closes the client connection after every response without announcing it (no keep-alive to clients), which wrk counts as a read error; those requests did complete."
echo
echo "requests/s of every round: $(for n in direct boundary baseline squid tinyproxy; do [ -n "${ROUNDS[$n]:-}" ] && printf '%s %s; ' "$n" "${ROUNDS[$n]}"; done)"
echo
echo "vs direct, round by round: boundary$(per_round boundary)$( [ -n "$BASELINE" ] && echo "; baseline$(per_round baseline)")$( [ "$have_squid" = 1 ] && echo "; squid$(per_round squid)")."
echo
echo "boundary audit records written during its reported run (warm-up excluded): ${AUDIT[boundary]} for $(kv reqs "${R[boundary]}") completed requests (requests still in flight when wrk stops are audited but not counted by wrk)."
echo
echo "### HTTPS through boundary (tlsload: CONNECT, interception, TLS 1.3, X25519 key share offered first as curl and browsers do)"
echo
echo "| measurement | rate | p50 ms | p99 ms | errors | non-200 | boundary CPU |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
echo "| direct TLS to nginx, keep-alive | $(kv rps "$H_direct") req/s | $(fmt_ms "$(kv p50_us "$H_direct")") | $(fmt_ms "$(kv p99_us "$H_direct")") | $(kv errors "$H_direct") | $(kv non200 "$H_direct") | - |"
echo "| boundary, keep-alive inside the tunnel | $(kv rps "$H_ka") req/s | $(fmt_ms "$(kv p50_us "$H_ka")") | $(fmt_ms "$(kv p99_us "$H_ka")") | $(kv errors "$H_ka") | $(kv non200 "$H_ka") | $(awk -v t="$H_ka_cpu" -v hz="$hz" -v n="$(kv reqs "$H_ka")" 'BEGIN { if (n > 0) printf "%.1f µs/request", t / hz * 1e6 / n; else print "-" }') |"
echo "| boundary, new interceptions (CONNECT + full handshake + 1 request; client does not verify) | $(kv cps "$H_new") conn/s | $(fmt_ms "$(kv p50_us "$H_new")") | $(fmt_ms "$(kv p99_us "$H_new")") | $(kv errors "$H_new") | $(kv non200 "$H_new") | $(awk -v t="$H_new_cpu" -v hz="$hz" -v n="$(kv handshakes "$H_new")" 'BEGIN { if (n > 0 && t > 0) printf "%.1f µs/interception (%.0f per CPU-second)", t / hz * 1e6 / n, n / (t / hz); else print "-" }') |"
echo
echo "The keep-alive and first-request clients verify boundary's certificate against its CA and the host name; the interception-rate client does not (it would spend more CPU than boundary on the shared cores). Connections per CPU-second of boundary is the capacity of one core; the rate itself is bounded by the client sharing the machine."
echo
echo "First request on a fresh connection, medians of $FIRST_N pairs, one connection at a time: a known host (leaf already minted) then a new host (h<i>-<pid>.bench.test, never seen). Columns: CONNECT answered, TLS handshake with boundary (where a leaf is minted), first request and response (where boundary dials upstream), total."
echo
echo "| upstream | host | CONNECT ms | TLS handshake ms | first request ms | total ms |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
first_rows() {
	echo "| $1 | known | $(fmt_ms "$(kv warm_connect_us "$2")") | $(fmt_ms "$(kv warm_hs_us "$2")") | $(fmt_ms "$(kv warm_req_us "$2")") | $(fmt_ms "$(kv warm_total_us "$2")") |"
	echo "| $1 | new | $(fmt_ms "$(kv new_connect_us "$2")") | $(fmt_ms "$(kv new_hs_us "$2")") | $(fmt_ms "$(kv new_req_us "$2")") | $(fmt_ms "$(kv new_total_us "$2")") |"
	echo "| $1 | **extra for a new host** | | $(fmt_ms "$(kv extra_hs_us "$2")") | $(fmt_ms "$(kv extra_req_us "$2")") | **$(fmt_ms "$(kv extra_total_us "$2")")** |"
}
first_rows "kept alive (pooled per host)" "$H_first"
first_rows "closed after each response" "$H_first1"
echo
echo "With a kept-alive upstream the known host reuses its pooled upstream connection while the new host needs a new TCP + TLS connection to nginx, so that extra is mostly the upstream handshake any client would pay for a new host. With an upstream that closes after each response both pay the upstream handshake, and the extra is what boundary itself adds for a host it has not seen (the leaf certificate, the cache miss)."
echo
echo "### Memory per idle plain connection (fresh boundary, VmRSS from /proc)"
echo
echo "| connections asked | opened | held by boundary (connected) | one request each OK | held after request | RSS before KiB | RSS connected KiB | RSS after requests KiB | KiB/conn connected | KiB/conn after a request |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
echo "| $(kv asked "$M") | $(kv opened "$M") | $(kv held_connected "$M") | $(kv requests_ok "$M") | $(kv held_after_request "$M") | $(kv rss0_kib "$M") | $(kv rss_connected_kib "$M") | $(kv rss_after_request_kib "$M") | $(kv kib_per_connected "$M") | $(kv kib_per_idle_after_request "$M") |"
echo
[ "$m_limit" -gt 0 ] 2>/dev/null && echo "boundary logged \"connection limit reached\" $m_limit times (it refuses clients beyond its connection limit)." && echo

r_direct=$(per_round boundary | median_of)
r_squid=$( [ "$have_squid" = 1 ] && per_round boundary squid | median_of || echo -)
r_cpu=$(ratio "$(cpu_median direct)" "$(cpu_median boundary)")
extra_ms=$(fmt_ms "$(kv extra_total_us "$H_first1")")
extra_ms_pool=$(fmt_ms "$(kv extra_total_us "$H_first")")
kib=$(kv kib_per_idle_after_request "$M"); [ -n "$kib" ] || kib=-
held=$(kv held_after_request "$M")
if [ -n "$SC" ]; then
	echo "### System calls per plain keep-alive request (strace -c -f, fresh boundary, $CONNS connections)"
	echo
	echo "| requests | sendto | recvfrom | write (audit) | epoll_wait | epoll_ctl | all calls, start-up included |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	echo "| $(kv requests "$SC") | $(kv sendto "$SC") | $(kv recvfrom "$SC") | $(kv write "$SC") | $(kv epoll_wait "$SC") | $(kv epoll_ctl "$SC") | $(kv total "$SC") |"
	echo
fi
echo "### Targets"
echo
echo "| target | goal | measured | met |"
echo "| --- | --- | --- | --- |"
echo "| plain keep-alive, boundary / direct (median of the rounds) | ≥ 0.50 | $r_direct | $(yesno "$r_direct" ">=" 0.5) |"
echo "| plain keep-alive, boundary / squid (median of the rounds) | ≥ 4.0 | $r_squid | $(yesno "$r_squid" ">=" 4) |"
echo "| first request to a new HTTPS host, extra added by boundary (upstream not kept alive) | ≤ 1 ms | $extra_ms ms | $(yesno "$extra_ms" "<=" 1) |"
echo "| first request to a new HTTPS host, extra incl. the new upstream connection (upstream kept alive) | ≤ 1 ms | $extra_ms_pool ms | $(yesno "$extra_ms_pool" "<=" 1) |"
idle_met=$(yesno "$kib" "<=" 16)
if [ -n "$held" ] && [ "$held" -lt "$IDLE_N" ] 2>/dev/null; then
	idle_met="$idle_met per connection, but only $held of $IDLE_N held: **no**"
fi
echo "| memory per idle plain connection at $IDLE_N | ≤ 16 KiB | $kib KiB | $idle_met |"
echo
echo "Not a target, for reading the first row: all CPU per request, direct / boundary = $r_cpu (the share of direct's throughput that the machine's CPU allows a proxy of boundary's cost)."
echo
echo "boundary processes alive at the end: benchmark instance $b_alive, idle-test instance $m_alive."
for f in tls-direct tls-ka tls-new tls-first tls-first1 idle; do
	if [ -s "$tmp/$f.err" ]; then
		echo
		echo "$f client messages (first lines):"
		echo '```'
		head -5 "$tmp/$f.err"
		echo '```'
	fi
done
nw=$(grep -v 'level=INFO' "$tmp/boundary/stderr.log" | grep -c 'warn\|error' || true)
if [ "${nw:-0}" -gt 0 ]; then
	echo
	echo "boundary (benchmark instance) logged $nw warnings or errors; the first ones:"
	echo '```'
	grep -v 'level=INFO' "$tmp/boundary/stderr.log" | grep 'warn\|error' | head -5
	echo '```'
fi
