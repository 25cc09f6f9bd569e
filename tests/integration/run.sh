#!/bin/bash
# End-to-end tests of `boundary --proxy-only` (issue 3): local origins on
# 127.0.0.1 (plain, TLS with a test CA made now, TLS with an untrusted CA,
# git smart HTTP), one proxy per case, real clients.  See README.md here for
# the .case format.  TAP on stdout, ending with "# N passed, N failed".
#
# usage: tests/integration/run.sh [--self-test] [CASE...]
#   CASE          a case name (file stem) or shell glob; default: all
#   --self-test   run the cases' clients through servers/passproxy.py (a
#                 blind forwarder) instead of boundary, to check clients,
#                 servers and certificates; cases marked "selftest: no" and
#                 every proxy-specific check (audit, exit status) are skipped
# environment:
#   BOUNDARY            the binary (default: $BUILD/bin/boundary if BUILD
#                       is set, else bin/boundary)
#   BOUNDARY_MUST_WORK  1: a missing tool or binary is a failure, not a SKIP
#   IT_KEEP             1: keep the work directory and print its path
#   IT_VERBOSE          1: print the diagnostics of passing cases too
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null || true)
NODE=$(command -v node || echo node)
TOOLS=$here/tools
CLIENTS=$here/clients
SERVERS=$here/servers
# shellcheck source=lib.sh
. "$here/lib.sh"

selftest=0
filters=()
for a in "$@"; do
	case $a in
	--self-test) selftest=1 ;;
	-h|--help) sed -n '2,19p' "$0"; exit 0 ;;
	-*) echo "run.sh: unknown option $a" >&2; exit 2 ;;
	*) filters+=("$a") ;;
	esac
done

if [ -n "${BOUNDARY:-}" ]; then
	:
elif [ -n "${BUILD:-}" ]; then
	BOUNDARY=$root/$BUILD/bin/boundary
else
	BOUNDARY=$root/bin/boundary
fi
case $BOUNDARY in /*) ;; *) BOUNDARY=$root/$BOUNDARY ;; esac
must=${BOUNDARY_MUST_WORK:-0}

# ---- the cases to run --------------------------------------------------
cases=()
for f in "$here"/cases/*.case; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .case)
	if [ ${#filters[@]} -gt 0 ]; then
		hit=0
		for p in "${filters[@]}"; do
			# shellcheck disable=SC2053
			[[ $name == $p ]] && hit=1
		done
		[ $hit = 1 ] || continue
	fi
	cases+=("$f")
done

n=0
pass=0
fail=0
skip=0
echo "1..${#cases[@]}"

result_skip() {	# result_skip NAME WHY
	n=$((n + 1))
	if is_yes "$must"; then
		echo "not ok $n - $1 # BOUNDARY_MUST_WORK=1 but: $2"
		fail=$((fail + 1))
	else
		echo "ok $n # SKIP $2 ($1)"
		skip=$((skip + 1))
	fi
}

summary() {
	echo "# $pass passed, $fail failed, $skip skipped"
}

skip_all() {	# skip_all WHY
	local f
	for f in "${cases[@]}"; do
		result_skip "$(basename "$f" .case)" "$1"
	done
	summary
	[ $fail -eq 0 ]
	exit
}

if [ $selftest = 0 ] && [ ! -x "$BOUNDARY" ]; then
	skip_all "bin/boundary not built"
fi
[ -n "$PY" ] || skip_all "python3 missing"
command -v openssl >/dev/null || skip_all "openssl missing (make deps)"

# ---- shared set-up: PKI, git repository, origin ------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/boundary-it.XXXXXX")
cleanup() {
	stop_all
	if is_yes "${IT_KEEP:-0}"; then
		echo "# work directory kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
    no_proxy NO_PROXY BOUNDARY_ALLOW SSL_CERT_FILE SSL_CERT_DIR \
    NODE_EXTRA_CA_CERTS GIT_SSL_CAINFO CURL_CA_BUNDLE REQUESTS_CA_BUNDLE
export GIT_CONFIG_NOSYSTEM=1 GIT_TERMINAL_PROMPT=0 LC_ALL=C

if ! sh "$here/certs.sh" "$tmp/pki" >"$tmp/certs.err" 2>&1; then
	sed 's/^/# /' "$tmp/certs.err"
	skip_all "test certificates could not be made"
fi

git_head=none
if command -v git >/dev/null; then
	if ! git_head=$(make_git_repo "$tmp/git" 2>"$tmp/git.err"); then
		sed 's/^/# /' "$tmp/git.err"
		git_head=none
	fi
fi

: >"$tmp/origin.log"
"$PY" "$SERVERS/origin.py" --cert "$tmp/pki/origin.pem" \
    --key "$tmp/pki/origin.key" --rogue-cert "$tmp/pki/rogue.pem" \
    --rogue-key "$tmp/pki/rogue.key" --git-root "$tmp/git" \
    --log "$tmp/origin.log" >"$tmp/origin.ports" 2>"$tmp/origin.err" &
origin_pid=$!
PIDS+=("$origin_pid")
if ! wait_file "$tmp/origin.ports" 10 "$origin_pid"; then
	sed 's/^/# /' "$tmp/origin.err"
	echo "not ok - the origin server did not start"
	fail=$((fail + 1))
	summary
	exit 1
fi
read -r ports <"$tmp/origin.ports"
for kv in $ports; do
	case $kv in
	http=*) http_port=${kv#http=} ;;
	https=*) https_port=${kv#https=} ;;
	rogue=*) rogue_port=${kv#rogue=} ;;
	esac
done
dead_port=$(freeport)	# nothing listens there: "connection refused"

connect_to=()
for h in $IT_HOSTS; do
	connect_to+=("$h:80:127.0.0.1:$http_port" "$h:443:127.0.0.1:$https_port")
done
connect_to+=("badtls.test:443:127.0.0.1:$rogue_port"
    "wrongname.test:443:127.0.0.1:$https_port"
    "down.test:80:127.0.0.1:$dead_port")

echo "# origin: http=$http_port https=$https_port rogue=$rogue_port; git HEAD $git_head"
if [ $selftest = 1 ]; then
	echo "# self-test: clients go through servers/passproxy.py, not boundary"
else
	echo "# proxy: $BOUNDARY"
fi

# ---- one case -------------------------------------------------------------

# parse_case FILE: fills the C_* variables; returns 1 with C_error set on a
# malformed file.
parse_case() {
	local line key val
	C_desc=""
	C_needs=""
	C_requires=()
	C_allow=()
	C_args=()
	C_run=""
	C_exit=0
	C_stdout=()
	C_stdout_not=()
	C_audit=()
	C_audit_count=""
	C_origin=()
	C_origin_not=()
	C_timeout=20
	C_selftest=yes
	C_sigterm=""
	C_proxy_exit=0
	C_error=""
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		'#'*)
			if [ -z "$C_desc" ]; then
				C_desc=${line#\#}
				C_desc=${C_desc# }
			fi
			continue ;;
		esac
		[ -z "${line//[ 	]/}" ] && continue
		key=${line%%:*}
		val=${line#*:}
		val=${val#"${val%%[! 	]*}"}
		case $key in
		needs) C_needs="$C_needs $val" ;;
		requires) C_requires+=("$val") ;;
		allow) C_allow+=("$val") ;;
		proxy-arg) C_args+=("$val") ;;
		run) C_run="$C_run$val"$'\n' ;;
		exit) C_exit=$val ;;
		stdout) C_stdout+=("$val") ;;
		stdout-not) C_stdout_not+=("$val") ;;
		audit) C_audit+=("$val") ;;
		audit-count) C_audit_count=$val ;;
		origin-log) C_origin+=("$val") ;;
		origin-log-not) C_origin_not+=("$val") ;;
		timeout) C_timeout=$val ;;
		selftest) C_selftest=$val ;;
		sigterm-on-origin) C_sigterm=$val ;;
		proxy-exit) C_proxy_exit=$val ;;
		*) C_error="unknown key '$key'"; return 1 ;;
		esac
	done <"$1"
	[ -n "$C_run" ] || { C_error="no run: line"; return 1; }
	return 0
}

# subst TEXT: replaces the @NAME@ placeholders (see README.md).
subst() {
	local s=$1
	s=${s//@PROXY@/127.0.0.1:$proxy_port}
	s=${s//@PROXY_PORT@/$proxy_port}
	s=${s//@PROXY_URL@/http:\/\/127.0.0.1:$proxy_port}
	s=${s//@CA@/$client_ca}
	s=${s//@TEST_CA@/$tmp/pki/ca.pem}
	s=${s//@TEST_PKI@/$tmp/pki}
	s=${s//@BOUNDARY@/$BOUNDARY}
	s=${s//@SERVERS@/$SERVERS}
	s=${s//@AUDIT@/$cdir/audit.jsonl}
	s=${s//@CLIENTS@/$CLIENTS}
	s=${s//@TOOLS@/$TOOLS}
	s=${s//@PY@/$PY}
	s=${s//@NODE@/$NODE}
	s=${s//@WORK@/$cdir/work}
	s=${s//@GIT_HEAD@/$git_head}
	s=${s//@ORIGIN_HTTP@/http:\/\/api.test}
	s=${s//@ORIGIN_HTTPS@/https:\/\/api.test}
	s=${s//@ORIGIN_HTTP_PORT@/$http_port}
	s=${s//@ORIGIN_HTTPS_PORT@/$https_port}
	printf '%s' "$s"
}

diag() {	# diag TITLE FILE [LINES]: a file's tail as TAP comments
	[ -s "$2" ] || return 0
	echo "#   --- $1"
	tail -n "${3:-15}" "$2" | cut -c1-400 | sed 's/^/#     /'
}

run_case() {
	local f=$1 name why=() t tool rc proxy_pid="" args=() r off client_pid
	local termed=""
	name=$(basename "$f" .case)
	if ! parse_case "$f"; then
		n=$((n + 1))
		fail=$((fail + 1))
		echo "not ok $n - $name # bad case file: $C_error"
		return
	fi
	for tool in $C_needs; do
		if ! command -v "$tool" >/dev/null; then
			result_skip "$name" "$tool missing"
			return
		fi
	done
	for t in "${C_requires[@]}"; do
		if ! sh -c "$(subst "$t")" >/dev/null 2>&1; then
			result_skip "$name" "requires: '$t' failed"
			return
		fi
	done
	if [[ $C_needs == *git* || $C_run == *@GIT_HEAD@* ]] &&
	    [ "$git_head" = none ]; then
		result_skip "$name" "the test git repository could not be made"
		return
	fi
	if [ $selftest = 1 ] && ! is_yes "$C_selftest"; then
		n=$((n + 1))
		skip=$((skip + 1))
		local sk=${C_selftest#no}
		sk=${sk#"${sk%%[! (]*}"}
		sk=${sk%)}
		echo "ok $n # SKIP self-test: ${sk:-proxy behaviour} ($name)"
		return
	fi

	cdir=$tmp/cases/$name
	mkdir -p "$cdir/xdg" "$cdir/home" "$cdir/work"
	proxy_port=$(freeport)
	for t in "${connect_to[@]}"; do
		args+=(--connect-to "$t")
	done
	if [ $selftest = 1 ]; then
		client_ca=$tmp/pki/ca.pem
		"$PY" "$SERVERS/passproxy.py" --port "$proxy_port" "${args[@]}" \
		    >"$cdir/proxy.out" 2>"$cdir/proxy.err" &
	else
		client_ca=$cdir/xdg/coder_boundary/ca-cert.pem
		for r in "${C_allow[@]}"; do
			args+=(--allow "$r")
		done
		env XDG_CONFIG_HOME="$cdir/xdg" HOME="$cdir/home" \
		    "$BOUNDARY" --proxy-only --proxy-port "$proxy_port" \
		    --listen 127.0.0.1 --ephemeral-ca \
		    --upstream-ca "$tmp/pki/ca.pem" \
		    --audit-file "$cdir/audit.jsonl" --log-level info \
		    "${args[@]}" "${C_args[@]}" \
		    >"$cdir/proxy.out" 2>"$cdir/proxy.err" &
	fi
	proxy_pid=$!
	PIDS+=("$proxy_pid")

	if ! wait_port "$proxy_port" 5 "$proxy_pid"; then
		why+=("the proxy did not accept connections on 127.0.0.1:$proxy_port within 5 s")
	elif [ $selftest = 0 ] && ! wait_file "$client_ca" 5 "$proxy_pid"; then
		why+=("no CA certificate at \$XDG_CONFIG_HOME/coder_boundary/ca-cert.pem within 5 s")
	fi

	off=$(wc -c <"$tmp/origin.log")
	rc=skipped
	if [ ${#why[@]} -eq 0 ]; then
		subst "$C_run" >"$cdir/client.sh"
		(
			cd "$cdir/work" &&
			exec env HOME="$cdir/home" timeout -k 2 "$C_timeout" \
			    sh -e "$cdir/client.sh"
		) >"$cdir/stdout" 2>"$cdir/stderr" &
		client_pid=$!
		PIDS+=("$client_pid")
		if [ -n "$C_sigterm" ]; then
			if wait_grep "$C_sigterm" "$tmp/origin.log" "$off" "$C_timeout"; then
				kill -TERM "$proxy_pid" 2>/dev/null
				termed=sent
			else
				why+=("the origin never logged /$C_sigterm/: SIGTERM not sent")
			fi
		fi
		wait "$client_pid"
		rc=$?
		forget_pid "$client_pid"
		[ "$rc" = 124 ] && why+=("the client timed out after $C_timeout s")
	fi

	stop_pid "$proxy_pid" 5 "$termed"
	forget_pid "$proxy_pid"

	if [ "$rc" != skipped ]; then
		[ "$rc" = "$C_exit" ] || why+=("client exit status $rc, want $C_exit")
		for r in "${C_stdout[@]}"; do
			grep -Eq -- "$(subst "$r")" "$cdir/stdout" ||
			    why+=("stdout has no line matching /$r/")
		done
		for r in "${C_stdout_not[@]}"; do
			grep -Eq -- "$(subst "$r")" "$cdir/stdout" &&
			    why+=("stdout has a line matching /$r/")
		done
		tail -c +"$((off + 1))" "$tmp/origin.log" >"$cdir/origin.log"
		for r in "${C_origin[@]}"; do
			grep -Eq -- "$(subst "$r")" "$cdir/origin.log" ||
			    why+=("the origin logged no request matching /$r/")
		done
		for r in "${C_origin_not[@]}"; do
			grep -Eq -- "$(subst "$r")" "$cdir/origin.log" &&
			    why+=("the origin logged a request matching /$r/")
		done
	fi
	if [ $selftest = 0 ]; then
		if [ "$STOP_STATUS" = timeout ]; then
			why+=("the proxy did not exit within 5 s of SIGTERM")
		elif [ "$STOP_STATUS" != "$C_proxy_exit" ]; then
			why+=("the proxy exited with status $STOP_STATUS after SIGTERM, want $C_proxy_exit")
		fi
		if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$cdir/proxy.err"; then
			why+=("sanitizer report in the proxy's stderr")
		fi
		if [ "$rc" != skipped ]; then
			local ac=("$TOOLS/auditcheck.py" "$cdir/audit.jsonl")
			[ -n "$C_audit_count" ] && ac+=(--count "$C_audit_count")
			for r in "${C_audit[@]}"; do
				ac+=(--match "$r")
			done
			for r in "${C_allow[@]}"; do
				ac+=(--rule "$r")
			done
			if ! "$PY" "${ac[@]}" >"$cdir/audit.err" 2>&1; then
				why+=("$(cat "$cdir/audit.err")")
			fi
		fi
	fi

	n=$((n + 1))
	if [ ${#why[@]} -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok $n - $name"
		is_yes "${IT_VERBOSE:-0}" || return 0
	else
		fail=$((fail + 1))
		echo "not ok $n - $name"
	fi
	echo "#   $C_desc"
	for r in "${why[@]}"; do
		printf '%s\n' "$r" | sed 's/^/#   /'
	done
	diag "client script" "$cdir/client.sh" 8
	diag "client stdout" "$cdir/stdout"
	diag "client stderr" "$cdir/stderr"
	diag "proxy stderr" "$cdir/proxy.err"
	diag "audit file" "$cdir/audit.jsonl" 10
	diag "origin log" "$cdir/origin.log" 10
}

# set per case by run_case (subst, used by requires: before, needs them)
cdir=$tmp/cases proxy_port=0 client_ca=
for f in "${cases[@]}"; do
	run_case "$f"
done
summary
[ $fail -eq 0 ]
