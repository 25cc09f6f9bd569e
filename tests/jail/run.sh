#!/bin/bash
# Tests of the jail (`boundary [flags] -- COMMAND`, DESIGN.md section 3):
# functional runs of curl, python, node and git through both jail types, as
# root and as an unprivileged user; exit statuses and signals; and an
# escape suite whose every attempt must fail.  See README.md here.
#
# The whole suite runs inside a network namespace of its own (the "outer"
# namespace), where the foreign addresses 203.0.113.7 and 2001:db8::7 are
# bound to lo and watched by catchers and nftables counters, so nothing
# can leave the machine even if the jail is broken, and a leak shows as a
# catcher hit or a counter above zero.  TAP on stdout, ending with
# "# N passed, N failed, N skipped"; exit status 1 on any failure.
#
# usage: tests/jail/run.sh
# environment:
#   BOUNDARY            the binary (default: $BUILD/bin/boundary if BUILD
#                       is set, else bin/boundary)
#   BOUNDARY_MUST_WORK  1: a SKIP (no namespaces, no root, jail not built,
#                       missing tool) is a failure instead
#   BT_ONLY             a regex: run only the jail tests whose name matches
#                       (controls and host checks always run)
#   BT_KEEP             1: keep the work directory and print its path
#   BT_VERBOSE          1: print the diagnostics of passing tests too
#   BT_TIMING           1: append each test's duration to its line
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
IT=$root/tests/integration
# The system python: the unprivileged test user cannot read a per-user
# installation (pyenv under /root), and the jail must run it too.
if [ -x /usr/bin/python3 ]; then
	PY=/usr/bin/python3
else
	PY=$(command -v python3 || echo python3)
fi
TOOLS=$IT/tools		# for make_git_repo (pattern.py)
# shellcheck source=../integration/lib.sh
. "$IT/lib.sh"
# shellcheck source=lib.sh
. "$here/lib.sh"

if [ -n "${BOUNDARY:-}" ]; then
	:
elif [ -n "${BUILD:-}" ]; then
	BOUNDARY=$root/$BUILD/bin/boundary
else
	BOUNDARY=$root/bin/boundary
fi
case $BOUNDARY in /*) ;; *) BOUNDARY=$root/$BOUNDARY ;; esac
must=${BOUNDARY_MUST_WORK:-0}
export LC_ALL=C

F4=203.0.113.7
F6=2001:db8::7

# =========================================================================
# Outer half: in the namespace the script was started in.  Snapshots the
# host's network state, runs the inner half in a new network namespace,
# and checks that the host's state did not change.
# =========================================================================
outer_main() {
	local how="" st
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/boundary-jail.XXXXXX")
	chmod 755 "$tmp"
	trap 'outer_cleanup' EXIT
	trap 'exit 130' INT TERM HUP

	if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
		how="unshare --net"
	elif unshare --user --map-root-user --net true 2>/dev/null; then
		how="unshare --user --map-root-user --net"
	fi
	if [ -z "$how" ]; then
		skip_test "outer network namespace" "cannot create a network namespace (not root, no user namespaces)"
		outer_summary
	fi
	if [ ! -x "$BOUNDARY" ]; then
		skip_test "jail suite" "bin/boundary not built"
		outer_summary
	fi
	echo "# outer namespace: $how; boundary: $BOUNDARY; work: $tmp"

	netstate >"$tmp/host.before"
	RUNID=$((RANDOM * 32768 + RANDOM))
	# shellcheck disable=SC2086
	$how -- env BT_INNER=1 BT_TMP="$tmp" BT_RUNID="$RUNID" \
	    BOUNDARY="$BOUNDARY" bash "$0"
	st=$?
	if [ -s "$tmp/state" ]; then
		read -r n pass fail skip <"$tmp/state"
	else
		why+=("the inner half ended without saving its state (exit $st)")
		report "inner half of the suite ran to its end"
	fi
	[ "$st" -eq 0 ] || [ "$fail" -gt 0 ] ||
	    { why+=("the inner half exited $st"); report "inner half exit status"; }

	netstate >"$tmp/host.after"
	if ! diff -u "$tmp/host.before" "$tmp/host.after" >"$tmp/host.diff"; then
		why+=("the network state of the namespace the suite started in changed")
	fi
	report "host unchanged: ip addr, ip route, ip -6 route, nft ruleset, iptables if installed" \
	    "diff" "$tmp/host.diff"
	command -v iptables-save >/dev/null ||
	    echo "# iptables-save not installed (Debian package iptables): host check covers ip and nftables only"

	# Every process the suite started is gone (jails included): none
	# with this run's work directory or marker in its command line, none
	# left in the outer namespace.
	sleep 0.2
	{
		pgrep -f -- "$tmp/|^sleep 98${RUNID}0"
		if [ -s "$tmp/netns" ]; then
			for p in /proc/[0-9]*; do
				[ "$(readlink "$p/ns/net" 2>/dev/null)" = "$(cat "$tmp/netns")" ] &&
				    echo "${p#/proc/}"
			done
		fi
	} | sort -u >"$tmp/left"
	if [ -s "$tmp/left" ]; then
		while read -r p; do
			why+=("left running: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-150)")
			kill -KILL "$p" 2>/dev/null
		done <"$tmp/left"
	fi
	report "no process of the suite left running"
	outer_summary
}

outer_cleanup() {
	if is_yes "${BT_KEEP:-0}"; then
		echo "# work directory kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}

outer_summary() {
	echo "1..$n"
	echo "# $pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit
}

# =========================================================================
# Inner half: in the outer network namespace.
# =========================================================================

# ---- set-up ---------------------------------------------------------------

setup_netns() {
	ip link set lo up &&
	ip addr add "$F4/32" dev lo &&
	ip -6 addr add "$F6/128" dev lo nodad &&
	setup_nft
}

setup_nft() {
	"$PY" "$here/tools/nftctl.py" add table inet bt_detect &&
	"$PY" "$here/tools/nftctl.py" add counter inet bt_detect leak4 &&
	"$PY" "$here/tools/nftctl.py" add counter inet bt_detect leak6 &&
	"$PY" "$here/tools/nftctl.py" "add chain inet bt_detect input { type filter hook input priority -400; policy accept; }" &&
	"$PY" "$here/tools/nftctl.py" add rule inet bt_detect input ip daddr "$F4" counter name leak4 &&
	"$PY" "$here/tools/nftctl.py" add rule inet bt_detect input ip6 daddr "$F6" counter name leak6
}

counters() {	# prints the packets counted to the foreign addresses
	"$PY" "$here/tools/nftctl.py" --packets list counters table inet bt_detect 2>/dev/null || echo "unreadable"
}

reset_counters() {
	"$PY" "$here/tools/nftctl.py" reset counters table inet bt_detect >/dev/null 2>&1
}

catch_size() {
	wc -c <"$tmp/catch.log"
}

# det_mark / det_check: what the detectors saw between the two calls is a
# leak.  det_check also compares the outer namespace's network state with
# the one right after set-up and repairs it if a jailed program changed it.
det_mark() {
	D_CATCH=$(catch_size)
	D_ORIGIN=$(wc -c <"$tmp/origin.log")
}

det_check() {
	local c rs
	sleep 0.05
	if [ "$(catch_size)" -gt "$D_CATCH" ]; then
		why+=("a catcher was reached: $(tail -c +"$((D_CATCH + 1))" "$tmp/catch.log" | head -n 3 | cut -c1-200)")
		D_CATCH=$(catch_size)
	fi
	# One listing gives both the counters and the state to compare.
	rs=$("$PY" "$here/tools/nftctl.py" list ruleset 2>&1)
	if printf '%s\n' "$rs" | grep -q 'table inet bt_detect'; then
		c=$(printf '%s\n' "$rs" | grep -oE 'packets [0-9]+' | awk '{ s += $2 } END { print s + 0 }')
	else
		c=unreadable
	fi
	if [ "$c" = unreadable ]; then
		why+=("the detector's nftables table in the outer namespace is gone (flushed from inside the jail?)")
		LEAKS=$((LEAKS + 1))
	elif [ "$c" != 0 ]; then
		why+=("the outer namespace counted $c packet(s) to $F4/$F6")
		LEAKS=$((LEAKS + 1))
		reset_counters
	fi
	netstate "$rs" >"$tmp/outer.now"
	if ! diff -u "$tmp/outer.setup" "$tmp/outer.now" >"$tmp/outer.diff"; then
		why+=("the outer namespace's network state changed: $(grep -E '^[-+][^-+]' "$tmp/outer.diff" | head -n 4 | tr '\n' ' ')")
		"$PY" "$here/tools/nftctl.py" flush ruleset 2>/dev/null
		ip route del 198.51.100.77/32 2>/dev/null
		ip link set lo up 2>/dev/null
		ip addr add "$F4/32" dev lo 2>/dev/null
		ip -6 addr add "$F6/128" dev lo nodad 2>/dev/null
		setup_nft >/dev/null 2>&1
		netstate >"$tmp/outer.now"
		diff -q "$tmp/outer.setup" "$tmp/outer.now" >/dev/null ||
		    why+=("... and could not be repaired: later tests may be wrong")
	fi
}

origin_since() {	# the origin's log lines since det_mark
	tail -c +"$((D_ORIGIN + 1))" "$tmp/origin.log"
}

# ---- boundary runs ---------------------------------------------------------

# Hosts the origin answers for, each mapped by --connect-to; denied.test is
# mapped too, so a wrongly allowed request would reach the origin and show
# in its log instead of failing on DNS.
HOSTS="api.test git.test other.test denied.test"

# jstart DIR TYPE WHO [boundary flags...] -- COMMAND...: starts boundary in
# the background (J_PID) as WHO (root or user), with HOME and
# XDG_CONFIG_HOME in DIR, the run's audit file DIR/audit.jsonl, stdout
# DIR/out, stderr DIR/err, the command's working directory DIR/work.
# J_CA=disk for a CA on disk (default --ephemeral-ca).  BT_PROXY_PID in
# the command's environment is boundary's own pid.
jstart() {
	local rd=$1 type=${2%%-*} who=$3 pre=() ca=(--ephemeral-ca) ct=() h
	local variant=()
	[ "$2" = nsjail-nouserns ] && variant=(--no-user-namespace)
	shift 3
	rm -rf "$rd"
	mkdir -p "$rd/home" "$rd/xdg" "$rd/work"
	if [ "${J_CA:-}" = disk ]; then
		# An existing CA of the user's, as a --proxy-only run leaves it.
		mkdir -p "$rd/xdg/coder_boundary"
		chmod 700 "$rd/xdg/coder_boundary"
		cp -p "$tmp/seed-ca/coder_boundary/ca-cert.pem" \
		    "$tmp/seed-ca/coder_boundary/ca-key.pem" "$rd/xdg/coder_boundary/"
	fi
	[ "$who" = user ] && chown -R "$TU_UID:$TU_GID" "$rd"
	[ "$who" = user ] && pre=(setpriv "--reuid=$TU_UID" "--regid=$TU_GID" --init-groups)
	# J_CA=none: no CA on disk and no --ephemeral-ca (boundary's default)
	case ${J_CA:-} in disk|none) ca=() ;; esac
	for h in $HOSTS; do
		ct+=(--connect-to "$h:80:127.0.0.1:$http_port"
		    --connect-to "$h:443:127.0.0.1:$https_port")
	done
	"${pre[@]}" env -i --default-signal \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    HOME="$rd/home" XDG_CONFIG_HOME="$rd/xdg" LC_ALL=C TERM=dumb \
	    GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 PYTHONDONTWRITEBYTECODE=1 \
	    BT_FOREIGN4="$F4" BT_FOREIGN6="$F6" BT_PROXY_PORT="$PP" \
	    BT_ABSTRACT="$ABSTRACT" BT_ORIGIN_HTTP_PORT="$http_port" \
	    BT_JAIL_TYPE="$type" BT_CA_KEY="$rd/xdg/coder_boundary/ca-key.pem" \
	    sh -c 'BT_PROXY_PID=$$; export BT_PROXY_PID; cd "$1" && shift && exec "$@"' \
	    sh "$rd/work" "$BOUNDARY" --jail-type "$type" "${variant[@]}" --proxy-port "$PP" \
	    "${ca[@]}" --upstream-ca "$tmp/pki/ca.pem" \
	    --audit-file "$rd/audit.jsonl" --log-level info "${ct[@]}" "$@" \
	    </dev/null >"$rd/out" 2>"$rd/err" &
	J_PID=$!
	PIDS+=("$J_PID")
}

jwait() {	# jwait [SECONDS]: waits for J_PID; J_STATUS (or "timeout")
	# (stderr closed: bash would report a job killed by a signal there)
	jwait_ "$@" 2>/dev/null
}

jwait_() {
	local i=0 lim=$((${1:-25} * 20))
	while alive "$J_PID" && [ $i -lt $lim ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if alive "$J_PID"; then
		kill -KILL "$J_PID" 2>/dev/null
		wait "$J_PID" 2>/dev/null
		J_STATUS=timeout
	else
		wait "$J_PID" 2>/dev/null
		J_STATUS=$?
	fi
	forget_pid "$J_PID"
}

jrun() {	# jrun DIR TYPE WHO [flags...] -- COMMAND...: jstart + jwait
	jstart "$@"
	jwait 25
	[ "$J_STATUS" = timeout ] && why+=("boundary did not exit within 25 s (killed)")
}

audit_check() {	# audit_check DIR [auditcheck.py options...]
	local rd=$1
	shift
	if ! "$PY" "$IT/tools/auditcheck.py" "$rd/audit.jsonl" "$@" >"$rd/audit.err" 2>&1; then
		why+=("audit: $(head -c 400 "$rd/audit.err")")
	fi
}

want_run() {	# want_run NAME: the BT_ONLY filter
	[ -z "${BT_ONLY:-}" ] || [[ $1 =~ $BT_ONLY ]]
}

# ---- controls: the detectors and attempts work -------------------------

# control NAME EVIDENCE COMMAND...: runs an escape attempt outside any jail
# (as root, in the outer namespace) and requires it to report an escape,
# plus EVIDENCE: "catch REGEX" (a new catcher log line matches),
# "counter" (the nftables counters went up), "origin REGEX", or "none".
control() {
	local name=$1 ev=$2 out=$tmp/control.out
	shift 2
	det_mark
	local c0
	c0=$(counters)
	"$@" >"$out" 2>&1 </dev/null
	local st=$?
	sleep 0.1
	[ "$st" = 1 ] && grep -q '^RESULT escaped' "$out" ||
	    why+=("the attempt did not report an escape (exit $st)")
	case $ev in
	catch\ *)
		tail -c +"$((D_CATCH + 1))" "$tmp/catch.log" | grep -Eq -- "${ev#catch }" ||
		    why+=("no catcher log line matching /${ev#catch }/") ;;
	counter)
		[ "$(counters)" -gt "$c0" ] 2>/dev/null ||
		    why+=("the counters did not move ($c0 -> $(counters))") ;;
	origin\ *)
		origin_since | grep -Eq -- "${ev#origin }" ||
		    why+=("the origin logged nothing matching /${ev#origin }/") ;;
	esac
	report "control (no jail): $name" "attempt output" "$out" \
	    "catcher log" "$tmp/catch.log"
}

run_controls() {
	local e=$here/escape stand pp_pid
	control "TCP to $F4:80, :443, :8080 reaches the catchers" \
	    "catch tcp $F4:8080 .*secret-data" "$PY" "$e/tcp_foreign.py" "$F4" 80 443 8080
	control "TCP to [$F6]:80 reaches the catcher" \
	    "catch tcp \[$F6\]:80 " "$PY" "$e/tcp_foreign.py" "$F6" 80
	control "TCP to $F4 on the proxy port reaches the catcher" \
	    "catch tcp $F4:$PP " "$PY" "$e/tcp_foreign.py" "$F4" "$PP"
	control "UDP to $F4:53, :443 and [$F6]:443 reaches the catchers" \
	    "catch udp \[$F6\]:443 " "$PY" "$e/udp_foreign.py" "$F4:53" "$F4:443" "[$F6]:443"
	control "DNS TXT query with data reaches the catcher" \
	    "catch udp $F4:53 .*secret-data.*exfil" "$PY" "$e/dns_exfil.py" "$F4"
	control "ICMP echo is counted by nftables" counter \
	    "$PY" "$e/icmp_echo.py" "$F4" "$F6"
	control "raw socket (root) sends a datagram, counted" counter \
	    "$PY" "$e/raw_socket.py" "$F4"
	control "packet socket (root) is created" none "$PY" "$e/packet_socket.py"
	control "TCP Fast Open to $F4:80 reaches the catcher" \
	    "catch tcp $F4:80 .*secret-data" "$PY" "$e/tcp_fastopen.py" "$F4" 80
	control "MPTCP connect to $F4:80 reaches the catcher" \
	    "catch tcp $F4:80 .*secret-data" "$PY" "$e/mptcp.py" "$F4" 80
	control "io_uring connect to $F4:80 reaches the catcher" \
	    "catch tcp $F4:80 .*secret-data" "$tmp/bin/side_doors" io_uring "$F4" 80
	control "i386 socketcall/connect to $F4:80 reaches the catcher" \
	    "catch tcp $F4:80 .*secret-data" "$tmp/bin/side_doors" int80 "$F4" 80
	control "connect() racing a flipped address reaches the catcher" \
	    "catch tcp $F4:$PP .*secret-data" "$tmp/bin/side_doors" race "$F4" "$PP"
	control "abstract Unix socket reaches the outside listener" \
	    "catch unix @$ABSTRACT " env BT_ABSTRACT="$ABSTRACT" "$PY" "$e/abstract_unix.py"
	control "loopback to the origin's port reaches the origin" \
	    "origin host=denied\.test" env BT_ORIGIN_HTTP_PORT="$http_port" "$PY" "$e/loopback_origin.py"
	"$PY" "$IT/servers/passproxy.py" --port "$PP" \
	    --connect-to "$F4:80:$F4:80" >"$tmp/passproxy.out" 2>&1 &
	pp_pid=$!
	PIDS+=("$pp_pid")
	if wait_port "$PP" 5 "$pp_pid"; then
		control "CONNECT to $F4:80 through a blind proxy reaches the catcher" \
		    "catch tcp $F4:80 " env BT_PROXY_PORT="$PP" "$PY" "$e/proxy_connect.py" "$F4"
	else
		why+=("passproxy.py did not start")
		report "control (no jail): CONNECT through a blind proxy" "passproxy" "$tmp/passproxy.out"
	fi
	stop_pid "$pp_pid" 5
	forget_pid "$pp_pid"
	control "nft flush ruleset works (scratch namespace)" none \
	    unshare --net "$PY" "$e/nft_flush.py" "$F4"
	control "ip route changes work (scratch namespace)" none \
	    unshare --net sh -c 'ip link set lo up && exec "$0" "$@"' "$PY" "$e/route_del.py" "$F4"
	control "unshare(CLONE_NEWNET) works (root)" none "$PY" "$e/unshare_net.py"
	cp "$tmp/pki/ca.key" "$tmp/control-ca-key.pem"
	control "a readable CA key is read" none \
	    env BT_CA_KEY="$tmp/control-ca-key.pem" "$PY" "$e/ca_key.py"
	sleep 300 &
	stand=$!
	PIDS+=("$stand")
	control "ptrace/pidfd_getfd of a stand-in proxy works (root)" none \
	    env BT_PROXY_PID="$stand" BT_JAIL_TYPE=control "$PY" "$e/ptrace_proxy.py"
	{
		control "kill -9 of a stand-in proxy works" none \
		    env BT_PROXY_PID="$stand" "$PY" "$e/kill_proxy.py"
		sleep 0.1
		alive "$stand" && why+=("the stand-in proxy survived the kill")
		report "control (no jail): the stand-in proxy is dead after the kill"
		wait "$stand"
	} 2>/dev/null	# (bash would report the killed job on stderr)
	forget_pid "$stand"
	control "an inherited socket descriptor is found" none \
	    "$PY" -c 'import os, socket, sys
s = socket.socket()
os.set_inheritable(s.fileno(), True)
os.execv(sys.executable, [sys.executable, sys.argv[1]])' "$e/fd_leak.py"
}

# ---- functional runs -------------------------------------------------------

ALLOW=(--allow "domain=api.test path=/ok/*" --allow "domain=git.test path=/git/*")

# curl_script FILE [CURL OPTIONS...]: four requests, one line "NAME CODE
# CONNECT_CODE EXIT" each, bodies in NAME.body.
curl_script() {
	local f=$1 opts=""
	shift
	[ $# -gt 0 ] && opts=$(printf ' %q' "$@")
	cat >"$f" <<-EOF
	c() {
		name=\$1; shift
		codes=\$(curl -sS -m 5$opts -o "\$name.body" -w '%{http_code} %{http_connect}' "\$@" 2>"\$name.err")
		echo "\$name \$codes \$?"
	}
	c https-allowed https://api.test/ok/curl-https
	c https-denied https://denied.test/ok/x
	c http-allowed http://api.test/ok/curl-http
	c http-denied http://denied.test/ok/x
	EOF
}

check_curl_run() {	# check_curl_run DIR
	local rd=$1 w=$1/work
	need_status "$J_STATUS" 0 "boundary"
	need_grep '^https-allowed 200 ' "$rd/out" "https allowed"
	need_grep '"path": "/ok/curl-https"' "$w/https-allowed.body" "https allowed body"
	need_grep '"tls": true' "$w/https-allowed.body" "https allowed reached the TLS origin"
	need_grep '^https-denied (403 |[0-9]+ 403 )' "$rd/out" "https denied"
	need_grep '^http-allowed 200 ' "$rd/out" "http allowed"
	need_grep '"path": "/ok/curl-http"' "$w/http-allowed.body" "http allowed body"
	need_grep '^http-denied 403 ' "$rd/out" "http denied"
	need_grep 'denied\.test' "$w/http-denied.body" "the 403 body names the host"
	origin_since >"$rd/origin.log"
	need_grep 'GET /ok/curl-https ' "$rd/origin.log" "origin log"
	need_grep 'GET /ok/curl-http ' "$rd/origin.log" "origin log"
	need_no_grep 'denied\.test' "$rd/origin.log" "origin log"
	audit_check "$rd" --count 4 "${RULES[@]}" \
	    --match '"decision": ?"allow".*"http_url": ?"https://api\.test/ok/curl-https"' \
	    --match '"decision": ?"deny".*denied\.test' \
	    --match '"decision": ?"allow".*"http_method": ?"GET".*"http_url": ?"http://api\.test/ok/curl-http"' \
	    --match '"decision": ?"deny".*"http_url": ?"http://denied\.test/ok/x".*"reason"'
}

RULES=(--rule "domain=api.test path=/ok/*" --rule "domain=git.test path=/git/*"
    --rule "domain=api.test" --rule "domain=other.test")

functional() {	# functional TYPE WHO
	local t=$1 who=$2 tag="$1/$2" rd k
	local base=$tmp/runs/$t-$who

	if want_run "$tag: curl"; then
		rd=$base/curl
		det_mark
		# landjail: the proxy comes from the environment boundary sets;
		# nsjail sets none (everything is redirected), so name it.
		if [ "${t%%-*}" = nsjail ]; then
			curl_script "$tmp/curl-proxy.sh" --proxy "http://127.0.0.1:$PP"
		else
			curl_script "$tmp/curl-proxy.sh"
		fi
		jrun "$rd" "$t" "$who" "${ALLOW[@]}" -- sh "$tmp/curl-proxy.sh"
		check_curl_run "$rd"
		report "$tag: curl https/http through the proxy (CONNECT, absolute-form): allowed reach the origin, denied get 403; audit matches" \
		    "stdout" "$rd/out" "stderr" "$rd/err" "audit" "$rd/audit.jsonl"
		det_check
		report "$tag: the outer namespace is unchanged by a jail run, no leak"
	fi

	if [ "${t%%-*}" = nsjail ] && want_run "$tag: curl transparent"; then
		rd=$base/curl-transparent
		det_mark
		curl_script "$tmp/curl-direct.sh" --noproxy '*'
		jrun "$rd" "$t" "$who" "${ALLOW[@]}" -- sh "$tmp/curl-direct.sh"
		check_curl_run "$rd"
		report "$tag: curl --noproxy '*' (transparent redirect): allowed reach the origin, denied 403" \
		    "stdout" "$rd/out" "stderr" "$rd/err" "audit" "$rd/audit.jsonl"
	fi

	if want_run "$tag: environment"; then
		rd=$base/env
		jrun "$rd" "$t" "$who" "${ALLOW[@]}" -- sh -c '
		for v in SSL_CERT_FILE CURL_CA_BUNDLE GIT_SSL_CAINFO REQUESTS_CA_BUNDLE NODE_EXTRA_CA_CERTS; do
			eval "f=\${$v:-}"
			if [ -n "$f" ] && [ -r "$f" ]; then echo "$v readable"; else echo "$v missing ($f)"; fi
		done
		[ -d "${SSL_CERT_DIR:-/nonexistent}" ] && echo "SSL_CERT_DIR directory"
		env | grep -Ei "^(https?|no|all)_proxy=" | sort'
		need_status "$J_STATUS" 0 "boundary"
		for k in SSL_CERT_FILE CURL_CA_BUNDLE GIT_SSL_CAINFO REQUESTS_CA_BUNDLE NODE_EXTRA_CA_CERTS; do
			need_grep "^$k readable\$" "$rd/out" "CA trust variable"
		done
		need_grep '^SSL_CERT_DIR directory$' "$rd/out" "SSL_CERT_DIR"
		if [ "$t" = landjail ]; then
			for k in HTTP_PROXY HTTPS_PROXY http_proxy https_proxy; do
				need_grep "^$k=http://127\.0\.0\.1:$PP\$" "$rd/out" "proxy variable"
			done
			need_grep '^NO_PROXY=$' "$rd/out" "NO_PROXY emptied"
			need_grep '^no_proxy=$' "$rd/out" "no_proxy emptied"
		fi
		report "$tag: environment: CA trust variables$([ "$t" = landjail ] && echo ', proxy variables (both cases) and empty NO_PROXY')" \
		    "stdout" "$rd/out" "stderr" "$rd/err"
	fi

	if [ "${t%%-*}" = nsjail ] && want_run "$tag: system bundle"; then
		rd=$base/system-bundle
		jrun "$rd" "$t" "$who" "${ALLOW[@]}" -- sh -c \
		    'env -u SSL_CERT_FILE -u SSL_CERT_DIR -u CURL_CA_BUNDLE curl -sS -m 5 --noproxy "*" -o body -w "%{http_code}\n" https://api.test/ok/system-bundle'
		need_status "$J_STATUS" 0 "boundary"
		need_grep '^200$' "$rd/out" "curl without the CA variables"
		need_grep '"path": "/ok/system-bundle"' "$rd/work/body" "body"
		report "$tag: a client that ignores the CA variables trusts boundary's CA (system bundle path)" \
		    "stdout" "$rd/out" "stderr" "$rd/err"
	fi

	if want_run "$tag: SIGHUP"; then
		# SIGHUP to boundary reloads the policy while the command runs
		rd=$base/sighup
		mkdir -p "$rd"
		printf 'allowlist:\n  - "domain=api.test path=/ok/*"\n' >"$rd.yaml"
		[ "$who" = user ] && chown "$TU_UID:$TU_GID" "$rd.yaml"
		jstart "$rd" "$t" "$who" --config "$rd.yaml" -- sh -c '
		c() { curl -sS -m 5 -o /dev/null -w "%{http_code}\n" "$1"; }
		echo "before $(c https://api.test/new/a)"
		: >asked
		i=0; while [ ! -e go ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		echo "after $(c https://api.test/new/b)"'
		i=0
		while [ ! -e "$rd/work/asked" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		printf 'allowlist:\n  - "domain=api.test path=/ok/*"\n  - "domain=api.test path=/new/*"\n' >"$rd.yaml.new"
		mv "$rd.yaml.new" "$rd.yaml"
		kill -HUP "$J_PID" 2>/dev/null
		sleep 0.3
		: >"$rd/work/go"
		jwait 25
		need_status "$J_STATUS" 0 "boundary"
		need_grep '^before 403$' "$rd/out" "denied before the reload"
		need_grep '^after 200$' "$rd/out" "allowed after the reload"
		need_grep 'policy reloaded' "$rd/err" "boundary's log"
		report "$tag: SIGHUP reloads the policy while the command runs" \
		    "stdout" "$rd/out" "stderr" "$rd/err"
	fi

	if [ "$t" = nsjail ] && [ "$who" = root ] && want_run "$tag: DNS"; then
		# The dummy DNS answers 6.6.6.6 and asks nobody; --use-real-dns
		# relays to the host's resolver: here a fake one on the outer
		# namespace's 127.0.0.1:53, named by a resolv.conf bound over
		# /etc/resolv.conf in a mount namespace of boundary's own.
		rd=$base/dns
		rm -rf "$rd"
		mkdir -p "$rd"
		echo "nameserver 127.0.0.1" >"$rd/resolv.conf"
		"$PY" "$here/tools/fake_dns.py" 127.0.0.1 53 "$rd/queries" >"$rd/fake.out" 2>&1 &
		local fdns=$!
		PIDS+=("$fdns")
		i=0
		while ! grep -q ready "$rd/fake.out" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		local mode
		for mode in dummy real; do
			local flag=()
			[ $mode = real ] && flag=(--use-real-dns)
			mkdir -p "$rd/$mode/home"
			unshare --mount --propagation private sh -c '
			    mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh "$rd/resolv.conf" \
			    env HOME="$rd/$mode/home" timeout 30 "$BOUNDARY" "${flag[@]}" --ephemeral-ca \
			    --log-level error --proxy-port "$PP" -- "$PY" -c \
			    'import socket; print("addr", socket.gethostbyname("'$mode'-dns.test"))' \
			    >"$rd/$mode/out" 2>"$rd/$mode/err"
			need_status "$?" 0 "boundary ($mode)"
		done
		kill "$fdns" 2>/dev/null
		need_grep '^addr 6\.6\.6\.6$' "$rd/dummy/out" "dummy answer"
		need_grep '^addr 192\.0\.2\.55$' "$rd/real/out" "relayed answer"
		need_no_grep 'dummy-dns\.test' "$rd/queries" "the resolver's log (dummy mode must ask nobody)"
		need_grep '^real-dns\.test$' "$rd/queries" "the resolver's log (real mode)"
		report "$tag: DNS: the dummy answers 6.6.6.6 and asks nobody; --use-real-dns relays to the host's resolver" \
		    "dummy" "$rd/dummy/out" "real" "$rd/real/out" "stderr" "$rd/real/err"
	fi

	if want_run "$tag: terminal"; then
		# bash -i on a pseudo-terminal: size, Ctrl-C, Ctrl-Z, jobs, resize
		rd=$base/tty
		rm -rf "$rd"
		mkdir -p "$rd/home"
		[ "$who" = user ] && chown -R "$TU_UID:$TU_GID" "$rd"
		local pre=() variant=()
		[ "$who" = user ] && pre=(setpriv "--reuid=$TU_UID" "--regid=$TU_GID" --init-groups)
		[ "$t" = nsjail-nouserns ] && variant=(--no-user-namespace)
		"${pre[@]}" env HOME="$rd/home" XDG_CONFIG_HOME="$rd/home/.config" \
		    timeout 60 "$PY" "$here/tools/tty_session.py" "$BOUNDARY" \
		    --jail-type "${t%%-*}" "${variant[@]}" --ephemeral-ca --log-level error \
		    --proxy-port "$PP" -- >"$rd/out" 2>"$rd/err"
		need_status "$?" 0 "tty_session.py"
		need_no_grep '^FAIL' "$rd/out" "terminal steps"
		report "$tag: interactive bash on a terminal: window size, Ctrl-C, Ctrl-Z, bg, jobs, resize, exit status" \
		    "steps" "$rd/out" "stderr" "$rd/err"
	fi

	if want_run "$tag: python"; then
		rd=$base/python
		det_mark
		jrun "$rd" "$t" "$who" "${ALLOW[@]}" -- sh -c \
		    "$PY $here/clients/urllib_get.py https://api.test/ok/urllib >allowed.out 2>&1; $PY $here/clients/urllib_get.py https://denied.test/ok/x >denied.out 2>&1; exit 0"
		need_status "$J_STATUS" 0 "boundary"
		need_grep '^status=200' "$rd/work/allowed.out" "allowed"
		need_grep '"path": "/ok/urllib"' "$rd/work/allowed.out" "allowed body"
		need_grep '(^status=403|^error=.*403)' "$rd/work/denied.out" "denied"
		origin_since >"$rd/origin.log"
		need_no_grep 'denied\.test' "$rd/origin.log" "origin log"
		audit_check "$rd" --count 2 "${RULES[@]}" \
		    --match '"decision": ?"allow".*"http_url": ?"https://api\.test/ok/urllib"' \
		    --match '"decision": ?"deny".*denied\.test'
		report "$tag: python urllib https: allowed reaches the origin, denied 403; audit matches" \
		    "allowed" "$rd/work/allowed.out" "denied" "$rd/work/denied.out" "stderr" "$rd/err" "audit" "$rd/audit.jsonl"
	fi

	if want_run "$tag: node"; then
		local modes=proxy
		[ "${t%%-*}" = nsjail ] && modes="proxy direct"
		for k in $modes; do
			rd=$base/node-$k
			det_mark
			jrun "$rd" "$t" "$who" "${ALLOW[@]}" -- sh -c \
			    "export HTTPS_PROXY=\${HTTPS_PROXY:-http://127.0.0.1:$PP}; node $here/clients/node_https.js https://api.test/ok/node-$k $k >allowed.out 2>&1; node $here/clients/node_https.js https://denied.test/ok/x $k >denied.out 2>&1; exit 0"
			need_status "$J_STATUS" 0 "boundary"
			need_grep '^status=200' "$rd/work/allowed.out" "allowed"
			need_grep "\"path\": \"/ok/node-$k\"" "$rd/work/allowed.out" "allowed body"
			need_grep '^status=403' "$rd/work/denied.out" "denied"
			origin_since >"$rd/origin.log"
			need_no_grep 'denied\.test' "$rd/origin.log" "origin log"
			audit_check "$rd" --count 2 "${RULES[@]}" \
			    --match "\"decision\": ?\"allow\".*\"http_url\": ?\"https://api\\.test/ok/node-$k\"" \
			    --match '"decision": ?"deny".*denied\.test'
			report "$tag: node https ($k): allowed reaches the origin, denied 403; audit matches" \
			    "allowed" "$rd/work/allowed.out" "denied" "$rd/work/denied.out" "stderr" "$rd/err" "audit" "$rd/audit.jsonl"
		done
	fi

	if want_run "$tag: git"; then
		rd=$base/git
		det_mark
		if [ "$git_head" = none ]; then
			skip_test "$tag: git clone" "the test git repository could not be made"
		else
			jrun "$rd" "$t" "$who" "${ALLOW[@]}" -- sh -c \
			    'git clone -q https://git.test/git/repo.git clone >clone.out 2>&1; echo "clone=$? head=$(git -C clone rev-parse HEAD 2>/dev/null)"; git clone -q https://denied.test/git/repo.git clone2 >denied.out 2>&1; echo "denied=$?"'
			need_status "$J_STATUS" 0 "boundary"
			need_grep "^clone=0 head=$git_head\$" "$rd/out" "allowed clone"
			need_grep '^denied=[1-9]' "$rd/out" "denied clone fails"
			need_grep '403' "$rd/work/denied.out" "denied clone says 403"
			origin_since >"$rd/origin.log"
			need_grep 'POST /git/repo\.git/git-upload-pack' "$rd/origin.log" "origin log"
			need_no_grep 'denied\.test' "$rd/origin.log" "origin log"
			audit_check "$rd" "${RULES[@]}" \
			    --match '"decision": ?"allow".*"http_url": ?"https://git\.test/git/repo\.git/info/refs\?service=git-upload-pack"' \
			    --match '"decision": ?"allow".*"http_method": ?"POST".*"http_url": ?"https://git\.test/git/repo\.git/git-upload-pack"' \
			    --match '"decision": ?"deny".*denied\.test'
			report "$tag: git clone over https: allowed clones, denied gets 403; audit matches" \
			    "stdout" "$rd/out" "clone" "$rd/work/clone.out" "denied" "$rd/work/denied.out" "stderr" "$rd/err" "audit" "$rd/audit.jsonl"
		fi
	fi
}

# ---- exit statuses and signals ---------------------------------------------

MARK=0
exits() {	# exits TYPE WHO
	local t=$1 who=$2 tag="$1/$2" rd m
	local base=$tmp/runs/$t-$who
	want_run "$tag: exit" || return 0

	rd=$base/exit7
	jrun "$rd" "$t" "$who" -- sh -c 'exit 7'
	need_status "$J_STATUS" 7 "boundary -- sh -c 'exit 7'"
	report "$tag: exit: the command's status (7)" "stderr" "$rd/err"

	rd=$base/exit-term
	jrun "$rd" "$t" "$who" -- sh -c 'kill -TERM $$'
	need_status "$J_STATUS" 143 "boundary -- sh -c 'kill -TERM \$\$'"
	report "$tag: exit: 128+15 when the command dies of SIGTERM" "stderr" "$rd/err"

	rd=$base/exit-notfound
	jrun "$rd" "$t" "$who" -- /nonexistent/command
	need_status "$J_STATUS" 127 "boundary -- /nonexistent/command"
	report "$tag: exit: 127 for a command not found" "stderr" "$rd/err"

	rd=$base/exit-noexec
	jrun "$rd" "$t" "$who" -- /etc/passwd
	need_status "$J_STATUS" 126 "boundary -- /etc/passwd"
	report "$tag: exit: 126 for a command that is not executable" "stderr" "$rd/err"

	rd=$base/exit-badflag
	jrun "$rd" "$t" "$who" --no-such-flag -- true
	need_status "$J_STATUS" 125 "boundary --no-such-flag -- true"
	report "$tag: exit: 125 for a bad flag" "stderr" "$rd/err"

	if [ "$t" = landjail ] && [ "$who" = root ]; then
		# a kernel without Landlock (its system calls give ENOSYS)
		rd=$base/no-landlock
		mkdir -p "$rd/home"
		HOME="$rd/home" "$tmp/bin/no_landlock" "$BOUNDARY" --jail-type landjail \
		    --ephemeral-ca --proxy-port "$PP" -- true >"$rd/out" 2>"$rd/err"
		need_status "$?" 125 "boundary on a kernel without Landlock"
		need_grep 'no Landlock.*use --jail-type nsjail' "$rd/err" "the error"
		report "$tag: exit: 125 and what to do on a kernel without Landlock" "stderr" "$rd/err"
	fi

	# SIGTERM to boundary ends the jail and everything in it.
	MARK=$((MARK + 1))
	m="^sleep 98${RUNID}0$MARK\$"
	rd=$base/sigterm
	jstart "$rd" "$t" "$who" -- sh -c "sleep 98${RUNID}0$MARK; exit 0"
	if wait_seen "$m" 5; then
		kill -TERM "$J_PID"
		jwait 5
		[ "$J_STATUS" = timeout ] && why+=("boundary did not exit within 5 s of SIGTERM")
		[ "$J_STATUS" = 143 ] || [ "$J_STATUS" = 0 ] ||
		    why+=("exit status $J_STATUS after SIGTERM, want 143 (or 0)")
		wait_gone "$m" 3 || { why+=("the jailed sleep is still running 3 s after boundary exited"); kill_marked "$m"; }
	else
		why+=("the jailed 'sleep 98${RUNID}0$MARK' never started")
		kill -KILL "$J_PID" 2>/dev/null
		jwait 5
	fi
	report "$tag: signal: SIGTERM to boundary ends it and every jailed process" "stderr" "$rd/err"

	# kill -9 of boundary: PR_SET_PDEATHSIG takes the jail down.
	MARK=$((MARK + 1))
	m="^sleep 98${RUNID}0$MARK\$"
	rd=$base/sigkill
	jstart "$rd" "$t" "$who" -- sh -c "sleep 98${RUNID}0$MARK; exit 0"
	if wait_seen "$m" 5; then
		kill -KILL "$J_PID"
		jwait 5
		wait_gone "$m" 3 || { why+=("the jailed sleep is still running 3 s after boundary was killed"); kill_marked "$m"; }
	else
		why+=("the jailed 'sleep 98${RUNID}0$MARK' never started")
		kill -KILL "$J_PID" 2>/dev/null
		jwait 5
	fi
	report "$tag: signal: kill -9 of boundary leaves no jailed process" "stderr" "$rd/err"

	# SIGINT to boundary reaches the command, whose trap decides the status.
	rd=$base/sigint
	jstart "$rd" "$t" "$who" -- sh -c 'trap "exit 3" INT; echo ready; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; exit 9'
	if wait_file "$rd/out" 5 "$J_PID"; then
		kill -INT "$J_PID"
		jwait 10
		need_status "$J_STATUS" 3 "boundary -- sh -c 'trap \"exit 3\" INT; ...' after SIGINT"
	else
		why+=("the command never printed 'ready'")
		kill -KILL "$J_PID" 2>/dev/null
		jwait 5
	fi
	report "$tag: signal: SIGINT is forwarded; the command's trap exits 3" "stdout" "$rd/out" "stderr" "$rd/err"
}

# ---- the escape suite --------------------------------------------------------

# attempt TYPE WHO NAME EXPECT [boundary flags...] -- COMMAND...: runs an
# escape attempt in the jail; it must print "RESULT blocked", exit 0 (so
# does boundary), and no detector may fire.  EXPECT, unless empty, is an
# extended regex the attempt's output must also match (e.g. that nsjail
# answered with the proxy's 403).
attempt() {
	local t=$1 who=$2 name=$3 expect=$4 rd
	shift 4
	want_run "$t/$who: escape: $name" || return 0
	rd=$tmp/runs/$t-$who/esc-$name
	det_mark
	jrun "$rd" "$t" "$who" --allow "domain=api.test path=/ok/*" "$@"
	need_status "$J_STATUS" 0 "boundary (the attempt's own status: 0 blocked, 1 escaped)"
	need_grep '^RESULT blocked' "$rd/out" "attempt"
	[ -n "$expect" ] && need_grep "$expect" "$rd/out" "attempt"
	det_check
	report "$t/$who: escape: $name" "attempt output" "$rd/out" "stderr" "$rd/err"
}

# landjail has no mount namespace to hide a key file in: its CA lives in
# boundary's memory only.  Checked: a run leaves no key on disk; the bundle
# the command trusts holds this run's CA, not a CA key the user has on
# disk; and boundary warns that such a key stays readable.
landjail_ca() {	# landjail_ca TYPE WHO
	local t=$1 who=$2 rd
	want_run "$t/$who: landjail CA" || return 0
	rd=$tmp/runs/$t-$who/landjail-ca
	J_CA=none jrun "$rd" "$t" "$who" --allow "domain=api.test" -- \
	    sh -c 'cat "$SSL_CERT_FILE"'
	need_status "$J_STATUS" 0 "boundary"
	[ -e "$rd/xdg/coder_boundary/ca-key.pem" ] &&
	    why+=("a landjail run wrote a CA key to disk")
	report "$t/$who: landjail: this run's CA key never reaches the disk" "stderr" "$rd/err"

	rd=$tmp/runs/$t-$who/landjail-ca-disk
	J_CA=disk jrun "$rd" "$t" "$who" --allow "domain=api.test" -- \
	    sh -c 'cat "$SSL_CERT_FILE"'
	need_status "$J_STATUS" 0 "boundary"
	need_grep 'landjail cannot hide' "$rd/err" "boundary's warning"
	if "$PY" -c 'import sys; sys.exit(0 if open(sys.argv[1]).read().strip() in open(sys.argv[2]).read() else 1)' \
	    "$tmp/seed-ca/coder_boundary/ca-cert.pem" "$rd/out"; then
		why+=("the command's bundle trusts the CA whose key is on disk")
	fi
	need_grep 'BEGIN CERTIFICATE' "$rd/out" "the bundle"
	report "$t/$who: landjail: the CA on disk is not trusted by the run, and boundary warns that its key stays readable" \
	    "stdout" "$rd/out" "stderr" "$rd/err"
}

escapes() {	# escapes TYPE WHO
	local t=$1 who=$2 e=$here/escape n4="" n6="" rd
	if [ "${t%%-*}" = nsjail ]; then
		n4="probe $F4:80: blocked: proxy-403"
		n6="probe \[$F6\]:80: blocked: proxy-403"
	fi
	attempt "$t" "$who" "tcp-$F4-80-443-8080" "$n4" -- "$PY" "$e/tcp_foreign.py" "$F4" 80 443 8080
	attempt "$t" "$who" "tcp-[$F6]-80-443-8080" "$n6" -- "$PY" "$e/tcp_foreign.py" "$F6" 80 443 8080
	attempt "$t" "$who" "tcp-foreign-proxy-port" "" -- sh -c "$PY $e/tcp_foreign.py $F4 $PP && $PY $e/tcp_foreign.py $F6 $PP"
	rd=$tmp/runs/$t-$who/esc-tcp-foreign-proxy-port
	if [ "${t%%-*}" = landjail ] && want_run "$t/$who: escape: tcp-foreign-proxy-port"; then
		need_grep "landjail: refused a connect\\(\\) of process [0-9]+ to $F4 port $PP" "$rd/err" "boundary's log"
		report "$t/$who: landjail: boundary logs each refused connect() with its destination" "stderr" "$rd/err"
	fi
	attempt "$t" "$who" "udp-foreign-53-443" "" -- "$PY" "$e/udp_foreign.py" "$F4:53" "$F4:443" "[$F6]:443" "[$F6]:53"
	attempt "$t" "$who" "dns-txt-exfil" "$([ "${t%%-*}" = nsjail ] && echo 'dns/udp [0-9.]+: blocked: dns answer')" \
	    -- "$PY" "$e/dns_exfil.py" "$F4"
	attempt "$t" "$who" "icmp-echo" "" -- "$PY" "$e/icmp_echo.py" "$F4" "$F6"
	attempt "$t" "$who" "raw-socket" "" -- "$PY" "$e/raw_socket.py" "$F4"
	attempt "$t" "$who" "packet-socket" "" -- "$PY" "$e/packet_socket.py"
	attempt "$t" "$who" "nft-flush-ruleset" "$([ "${t%%-*}" = nsjail ] && echo "after $F4:80: blocked: proxy-403")" \
	    -- "$PY" "$e/nft_flush.py" "$F4"
	attempt "$t" "$who" "ip-route-change" "$([ "${t%%-*}" = nsjail ] && echo "after $F4:80: blocked: proxy-403")" \
	    -- "$PY" "$e/route_del.py" "$F4"
	attempt "$t" "$who" "unshare-net" "" -- "$PY" "$e/unshare_net.py"
	if [ "${t%%-*}" = landjail ]; then
		landjail_ca "$t" "$who"
	else
		J_CA=disk attempt "$t" "$who" "read-ca-key" "" -- "$PY" "$e/ca_key.py"
	fi
	rd=$tmp/runs/$t-$who/esc-read-ca-key
	if [ "${t%%-*}" != landjail ] && want_run "$t/$who: escape: read-ca-key"; then
		cmp -s "$tmp/seed-ca/coder_boundary/ca-key.pem" "$rd/xdg/coder_boundary/ca-key.pem" ||
		    why+=("the user's CA key \$XDG_CONFIG_HOME/coder_boundary/ca-key.pem is gone or changed after the run")
		report "$t/$who: escape: read-ca-key: the user's CA key on disk is left as it was"
	fi
	attempt "$t" "$who" "kill-proxy" "" -- "$PY" "$e/kill_proxy.py"
	attempt "$t" "$who" "ptrace-pidfd-proxy" "" -- "$PY" "$e/ptrace_proxy.py"
	attempt "$t" "$who" "abstract-unix-socket" "" -- "$PY" "$e/abstract_unix.py"
	attempt "$t" "$who" "loopback-origin-bypass" "" -- "$PY" "$e/loopback_origin.py"
	if want_run "$t/$who: escape: loopback-origin-bypass"; then
		origin_since | grep -q 'host=denied\.test' &&
		    why+=("the origin logged a request for denied.test: $(origin_since | grep -m1 'host=denied')")
		report "$t/$who: escape: loopback-origin-bypass: the origin saw nothing"
	fi
	attempt "$t" "$who" "proxy-connect-ip-literal" "GET http://$F4: blocked: proxy-403" \
	    -- "$PY" "$e/proxy_connect.py" "$F4" "$F6"
	attempt "$t" "$who" "tcp-fastopen" "" -- "$PY" "$e/tcp_fastopen.py" "$F4" 80 "$PP"
	attempt "$t" "$who" "mptcp" "" -- "$PY" "$e/mptcp.py" "$F4" 80 "$PP"
	attempt "$t" "$who" "io_uring-connect" "" -- "$tmp/bin/side_doors" io_uring "$F4" 80 "$PP"
	attempt "$t" "$who" "i386-syscalls" "" -- "$tmp/bin/side_doors" int80 "$F4" 80 "$PP"
	attempt "$t" "$who" "connect-toctou-race" "" -- "$tmp/bin/side_doors" race "$F4" "$PP"
	attempt "$t" "$who" "inherited-fds" "" -- "$PY" "$e/fd_leak.py"
	policy_escapes "$t" "$who"
}

# Proxy-level escapes from inside the jail: a Host that differs from the
# SNI, and dot segments climbing out of an allowed path prefix.
policy_escapes() {
	local t=$1 who=$2 tag="$1/$2" rd mode opts
	for mode in proxy transparent; do
		[ "$mode" = transparent ] && [ "${t%%-*}" != nsjail ] && continue
		want_run "$tag: escape: host-sni-mismatch ($mode)" || continue
		opts=""
		[ "$mode" = transparent ] && opts="--noproxy *"
		rd=$tmp/runs/$t-$who/esc-host-mismatch-$mode
		det_mark
		jrun "$rd" "$t" "$who" --allow "domain=api.test" --allow "domain=other.test" -- sh -c \
		    "curl -sS -m 5 $opts -D hdr -o body -H 'Host: other.test' https://api.test/ok/mismatch 2>err; cat hdr"
		need_status "$J_STATUS" 0 "boundary"
		need_grep '^HTTP/1\.1 403' "$rd/out" "response"
		need_grep '^[xX]-[bB]oundary-[rR]eason: host_mismatch' "$rd/out" "response"
		origin_since >"$rd/origin.log"
		need_no_grep 'host=other\.test|/ok/mismatch' "$rd/origin.log" "origin log"
		audit_check "$rd" --count 1 "${RULES[@]}" \
		    --match '"decision": ?"deny".*"reason": ?"host_mismatch"'
		det_check
		report "$tag: escape: host-sni-mismatch ($mode): SNI api.test + Host other.test -> 403 host_mismatch" \
		    "stdout" "$rd/out" "curl" "$rd/work/err" "stderr" "$rd/err" "audit" "$rd/audit.jsonl"
	done

	want_run "$tag: escape: path-traversal" || return 0
	rd=$tmp/runs/$t-$who/esc-path-traversal
	det_mark
	jrun "$rd" "$t" "$who" --allow "domain=api.test path=/ok/*" -- sh -c '
	for u in http://api.test/ok/../secret http://api.test/ok/%2e%2e/secret \
	    https://api.test/ok/../secret https://api.test/ok/%2E%2e/secret; do
		echo "$u $(curl -sS -m 5 --path-as-is -o /dev/null -w "%{http_code}" "$u" 2>>err)"
	done'
	need_status "$J_STATUS" 0 "boundary"
	[ "$(grep -c ' 403$' "$rd/out")" = 4 ] || why+=("want four 403 answers")
	origin_since >"$rd/origin.log"
	need_no_grep 'secret' "$rd/origin.log" "origin log (the upstream must never see /secret)"
	audit_check "$rd" --count 4 "${RULES[@]}" \
	    --match '"decision": ?"deny".*"http_url": ?"http://api\.test/secret"' \
	    --match '"decision": ?"deny"' --match '"decision": ?"deny"' \
	    --match '"decision": ?"deny".*"http_url": ?"https://api\.test/secret"'
	det_check
	report "$tag: escape: path-traversal: /ok/../secret and /ok/%2e%2e/secret -> 403, origin never sees /secret" \
	    "stdout" "$rd/out" "curl" "$rd/work/err" "stderr" "$rd/err" "audit" "$rd/audit.jsonl"
}

# ---- the inner main ----------------------------------------------------------

inner_cleanup() {
	stop_all
	save_state
}

inner_main() {
	local t who probe_rd line
	tmp=$BT_TMP
	RUNID=$BT_RUNID
	readlink /proc/self/ns/net >"$tmp/netns"
	trap inner_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
	    no_proxy NO_PROXY BOUNDARY_ALLOW SSL_CERT_FILE SSL_CERT_DIR \
	    NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO CURL_CA_BUNDLE REQUESTS_CA_BUNDLE
	export GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 PYTHONDONTWRITEBYTECODE=1

	if ! setup_netns >"$tmp/setup.err" 2>&1; then
		why+=("could not set up the outer namespace: $(head -c 300 "$tmp/setup.err")")
		report "outer namespace: lo up, $F4 and $F6 on lo, nftables counters"
		exit 1
	fi
	local tool
	for tool in curl node git cc openssl setpriv pgrep; do
		command -v "$tool" >/dev/null || {
			skip_test "jail suite" "$tool missing"
			exit 0
		}
	done

	# Certificates, git repository, origin.
	if ! sh "$IT/certs.sh" "$tmp/pki" >"$tmp/certs.err" 2>&1; then
		why+=("certs.sh failed: $(head -c 300 "$tmp/certs.err")")
		report "test PKI"
		exit 1
	fi
	git_head=none
	if ! git_head=$(make_git_repo "$tmp/git" 2>"$tmp/git.err"); then
		git_head=none
	fi
	: >"$tmp/origin.log"
	"$PY" "$IT/servers/origin.py" --cert "$tmp/pki/origin.pem" \
	    --key "$tmp/pki/origin.key" --git-root "$tmp/git" \
	    --log "$tmp/origin.log" >"$tmp/origin.ports" 2>"$tmp/origin.err" &
	PIDS+=("$!")
	if ! wait_file "$tmp/origin.ports" 10 "$!"; then
		why+=("the origin did not start")
		report "origin servers" "origin stderr" "$tmp/origin.err"
		exit 1
	fi
	read -r line <"$tmp/origin.ports"
	for kv in $line; do
		case $kv in
		http=*) http_port=${kv#http=} ;;
		https=*) https_port=${kv#https=} ;;
		esac
	done

	# A CA on disk as a --proxy-only run leaves it: seeds the CA
	# directory of the runs that test the key's protection.
	mkdir -p "$tmp/seed-ca"
	local sp sp_pid
	sp=$(freeport)
	env -i PATH="$PATH" HOME="$tmp/seed-ca" XDG_CONFIG_HOME="$tmp/seed-ca" \
	    "$BOUNDARY" --proxy-only --proxy-port "$sp" --allow domain=api.test \
	    >"$tmp/seed-ca.log" 2>&1 &
	sp_pid=$!
	PIDS+=("$sp_pid")
	wait_port "$sp" 5 "$sp_pid"
	stop_pid "$sp_pid" 5
	forget_pid "$sp_pid"
	grep -q 'PRIVATE KEY' "$tmp/seed-ca/coder_boundary/ca-key.pem" 2>/dev/null ||
	    why+=("boundary --proxy-only left no CA key in \$XDG_CONFIG_HOME/coder_boundary")
	report "a CA on disk made by boundary --proxy-only (for the CA key tests)" \
	    "boundary" "$tmp/seed-ca.log"

	# Catchers: every port a jailed program might try, on both foreign
	# addresses, plus the proxy's port there; an abstract socket.
	PP=$(freeport)
	while [ "$PP" = "$http_port" ] || [ "$PP" = "$https_port" ]; do
		PP=$(freeport)
	done
	ABSTRACT=boundary-jail-test-$$
	: >"$tmp/catch.log"
	"$PY" "$here/tools/catcher.py" --log "$tmp/catch.log" --addr "$F4" \
	    --addr "$F6" --tcp 80 --tcp 443 --tcp 8080 --tcp 53 --tcp "$PP" \
	    --udp 53 --udp 443 --abstract "$ABSTRACT" >"$tmp/catcher.out" \
	    2>"$tmp/catcher.err" &
	PIDS+=("$!")
	if ! wait_file "$tmp/catcher.out" 5 "$!"; then
		why+=("the catchers did not start: $(head -c 300 "$tmp/catcher.err")")
	fi
	report "outer namespace: $F4 and [$F6] on lo with catchers (tcp 80 443 8080 53 $PP, udp 53 443), nftables counters, origin http=$http_port https=$https_port" \
	    "catcher stderr" "$tmp/catcher.err"

	mkdir -p "$tmp/bin"
	if ! cc -std=c11 -O1 -Wall -Wextra -Werror -pthread -o "$tmp/bin/side_doors" \
	    "$here/escape/side_doors.c" 2>"$tmp/cc.err" ||
	    ! cc -std=c11 -O1 -Wall -Wextra -Werror -o "$tmp/bin/no_landlock" \
	    "$here/tools/no_landlock.c" 2>>"$tmp/cc.err"; then
		why+=("escape/side_doors.c or tools/no_landlock.c does not compile")
		report "escape programs build" "cc" "$tmp/cc.err"
	fi
	chmod -R a+rX "$tmp/bin" "$tmp/pki/ca.pem"

	# Controls, then the detectors start from zero.
	run_controls
	reset_counters
	netstate >"$tmp/outer.setup"
	jail_catch0=$(catch_size)
	LEAKS=0

	# The unprivileged user.
	TU=boundary-test
	users=root
	if [ "$(id -u)" = 0 ] && [ "$(awk '/^Uid:/ {print $2}' /proc/self/status)" = 0 ] &&
	    grep -q '^ *0 *0 ' /proc/self/uid_map; then
		if ! id "$TU" >/dev/null 2>&1; then
			useradd --system --user-group --home-dir /tmp/boundary-test-home \
			    --no-create-home --shell /usr/sbin/nologin "$TU" >"$tmp/useradd.err" 2>&1
		fi
		if id "$TU" >/dev/null 2>&1; then
			TU_UID=$(id -u "$TU")
			TU_GID=$(id -g "$TU")
			users="root user"
		else
			skip_test "unprivileged user" "useradd $TU failed: $(head -c 200 "$tmp/useradd.err")"
		fi
	else
		skip_test "unprivileged user" "not root in the initial user namespace: runs as root (in a user namespace) only"
	fi

	for t in nsjail landjail nsjail-nouserns; do
		for who in $users; do
			# --no-user-namespace needs root's privileges.
			[ "$t" = nsjail-nouserns ] && [ "$who" != root ] && continue
			probe_rd=$tmp/runs/probe-$t-$who
			jrun "$probe_rd" "$t" "$who" -- true
			if [ "$J_STATUS" = 125 ] && grep -q 'not built yet' "$probe_rd/err"; then
				why=()
				skip_test "$t/$who: jail suite" "the jail is not built yet ($(head -n 1 "$probe_rd/err" | cut -c1-100))"
				continue
			fi
			need_status "$J_STATUS" 0 "boundary --jail-type $t -- true"
			report "$t/$who: boundary -- true runs" "stderr" "$probe_rd/err"
			functional "$t" "$who"
			exits "$t" "$who"
			escapes "$t" "$who"
		done
	done

	# Nothing reached the catchers or the counters in the whole jailed
	# part; and the detectors still work at the end.
	sleep 0.3
	[ "$(catch_size)" -eq "$jail_catch0" ] ||
	    why+=("catcher hits during the jailed part: $(tail -c +"$((jail_catch0 + 1))" "$tmp/catch.log" | head -n 5 | cut -c1-200)")
	[ "$LEAKS" = 0 ] && [ "$(counters)" = 0 ] ||
	    why+=("nftables counted packets to the foreign addresses during the jailed part (runs in which a detector fired or its table was removed: $LEAKS; now: $(counters))")
	report "no catcher hit and zero counters over the whole jailed part"
	control "detectors still armed at the end: UDP to $F4:53 is caught" \
	    "catch udp $F4:53 " "$PY" "$here/escape/udp_foreign.py" "$F4:53"
	exit 0
}

if [ "${BT_INNER:-}" = 1 ]; then
	inner_main
else
	outer_main "$@"
fi
