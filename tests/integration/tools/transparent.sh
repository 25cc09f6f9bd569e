#!/bin/bash
# Transparent (redirected) connections, as the nsjail mode produces them,
# inside a user + network namespace made here with `unshare -rn`:
#
#   lo up, a default route on lo (source 127.0.0.1), servers/origin.py on 127.0.0.1, boundary
#   --proxy-only on 127.0.0.1:3128, and an nftables nat rule that
#   redirects TCP to 203.0.113.9 ports 8443 and 8080 to 3128.  The
#   commands read from stdin then run there (sh -e), with CA (boundary's
#   CA certificate), PROXY_PORT and VIP (203.0.113.9) in the environment.
#   203.0.113.9 (TEST-NET-3) is only ever routed to lo in that namespace:
#   nothing leaves it.
#
# usage: transparent.sh --probe
#            exit status 0 if the namespace and the redirect can be made
#        transparent.sh BOUNDARY PKI_DIR AUDIT_FILE RULE... <commands
#            PKI_DIR: the runner's test PKI (ca.pem, origin.pem/.key);
#            --connect-to maps api.test:8443 to the origin's TLS port and
#            api.test:8080 to its plain port; RULE: --allow rules.
#            Exit status: the commands', or 1 if the proxy misbehaved
#            (did not start, exited non-zero after SIGTERM, sanitizer).
set -u

VIP=203.0.113.9
PROXY_PORT=3128
here=$(cd "$(dirname "$0")" && pwd)

nft_rules() {
	cat <<EOF
table ip boundary_it {
	chain out {
		type nat hook output priority -100;
		ip daddr $VIP tcp dport { 8443, 8080 } redirect to :$PROXY_PORT
	}
}
EOF
}

net_up() {
	ip link set lo up && ip route add default dev lo src 127.0.0.1 && nft_rules | nft -f -
}

if [ "${1:-}" = --probe ]; then
	[ -z "${BOUNDARY_IT_NETNS:-}" ] ||
	    { net_up >/dev/null 2>&1; exit; }
	BOUNDARY_IT_NETNS=1 exec unshare -rn "$0" --probe
fi
if [ $# -lt 3 ]; then
	sed -n '2,20p' "$0" >&2
	exit 2
fi
if [ -z "${BOUNDARY_IT_NETNS:-}" ]; then
	BOUNDARY_IT_NETNS=1 exec unshare -rn "$0" "$@"
fi

BOUNDARY=$1 PKI=$2 AUDIT=$3
shift 3
W=$(pwd)/netns
mkdir -p "$W/xdg" "$W/home"
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	wait
}
trap cleanup EXIT

say() { printf 'transparent.sh: %s\n' "$*" >&2; }

if ! net_up; then
	say "cannot set up the namespace's network"
	exit 1
fi

# the origin: plain and TLS listeners on 127.0.0.1, ports on its stdout
python3 "$here/../servers/origin.py" --cert "$PKI/origin.pem" \
    --key "$PKI/origin.key" --log "$W/origin.log" >"$W/origin.ports" \
    2>"$W/origin.err" &
pids+=($!)
for _ in $(seq 200); do
	[ -s "$W/origin.ports" ] && break
	sleep 0.05
done
http_port= https_port=
read -r ports <"$W/origin.ports"
for kv in $ports; do
	case $kv in
	http=*) http_port=${kv#http=} ;;
	https=*) https_port=${kv#https=} ;;
	esac
done
if [ -z "$http_port" ] || [ -z "$https_port" ]; then
	say "the origin did not start"
	cat "$W/origin.err" >&2
	exit 1
fi

args=()
for r in "$@"; do
	args+=(--allow "$r")
done
env XDG_CONFIG_HOME="$W/xdg" HOME="$W/home" "$BOUNDARY" --proxy-only \
    --proxy-port "$PROXY_PORT" --listen 127.0.0.1 --ephemeral-ca \
    --upstream-ca "$PKI/ca.pem" --audit-file "$AUDIT" --log-level info \
    --connect-to "api.test:8443:127.0.0.1:$https_port" \
    --connect-to "api.test:8080:127.0.0.1:$http_port" \
    "${args[@]}" >"$W/proxy.out" 2>"$W/proxy.err" &
proxy_pid=$!
CA=$W/xdg/coder_boundary/ca-cert.pem
up=0
for _ in $(seq 200); do
	if [ -s "$CA" ] && (: <"/dev/tcp/127.0.0.1/$PROXY_PORT") 2>/dev/null; then
		up=1
		break
	fi
	kill -0 "$proxy_pid" 2>/dev/null || break
	sleep 0.05
done
if [ $up = 0 ]; then
	say "boundary did not start"
	cat "$W/proxy.err" >&2
	exit 1
fi

export CA PROXY_PORT VIP
sh -e
rc=$?

kill -TERM "$proxy_pid"
prc=timeout
for _ in $(seq 100); do
	if ! kill -0 "$proxy_pid" 2>/dev/null; then
		wait "$proxy_pid"
		prc=$?
		break
	fi
	sleep 0.05
done
if [ "$prc" != 0 ]; then
	say "boundary: exit status $prc after SIGTERM"
	kill -KILL "$proxy_pid" 2>/dev/null
	rc=1
fi
if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$W/proxy.err"; then
	say "sanitizer report in boundary's stderr:"
	grep -E -A20 'AddressSanitizer|LeakSanitizer|runtime error:' \
	    "$W/proxy.err" | head -40 >&2
	rc=1
fi
if [ $rc != 0 ]; then
	say "boundary's stderr (last lines):"
	tail -15 "$W/proxy.err" >&2
fi
exit $rc
