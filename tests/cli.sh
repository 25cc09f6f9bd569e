#!/bin/sh
# Command-line behaviour of boundary-compile: exit statuses, messages,
# determinism, atomic output, --decide/--explain/--dump on both kinds of
# policy.  TAP; ends with "# N passed, N failed".
BUILD=${BUILD:-build}
bc=$(pwd)/$BUILD/bin/boundary-compile
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fails=0

check() {	# check DESCRIPTION COMMAND...  (passes if COMMAND succeeds)
	desc=$1
	shift
	n=$((n + 1))
	if "$@"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		fails=$((fails + 1))
	fi
}

cat >"$tmp/p.yaml" <<'Y'
allowlist:
  - "domain=api.github.com"
  - "method=GET,HEAD domain=*.example.com path=/v1/*"
log_level: warn
Y

"$bc" --config "$tmp/p.yaml" -n >"$tmp/out" 2>&1
check "-n exits 0" test $? -eq 0
check "-n says configuration OK" grep -q '^configuration OK' "$tmp/out"

"$bc" >"$tmp/out" 2>&1
check "no arguments: exit 2" test $? -eq 2
check "no arguments: says what is missing" grep -q 'nothing to compile' "$tmp/out"

"$bc" --help >"$tmp/out" 2>&1
check "--help exits 0 with the synopsis" sh -c "test $? -eq 0 && grep -q '^usage: boundary-compile' '$tmp/out'"
"$bc" --version >"$tmp/out" 2>&1
check "--version names the policy format" grep -q 'policy format [0-9]' "$tmp/out"

"$bc" --config "$tmp/missing.yaml" -o "$tmp/x.bpol" >"$tmp/out" 2>&1
check "missing config: exit 2" test $? -eq 2
check "missing config: names the file and the cause" grep -q "missing.yaml.*No such file" "$tmp/out"

"$bc" --config "$tmp/p.yaml" -o "$tmp/a.bpol" && "$bc" --config "$tmp/p.yaml" -o "$tmp/b.bpol"
check "same input, byte-identical output" cmp -s "$tmp/a.bpol" "$tmp/b.bpol"
"$bc" --allow "domain=api.github.com" --allow "method=GET,HEAD domain=*.example.com path=/v1/*" -o "$tmp/c.bpol"
check "rules from --allow decide like the same rules from a file" sh -c \
    "printf 'GET https://api.github.com/\nGET https://a.example.com/v1/x\nPOST https://a.example.com/v1/x\n' |
     '$bc' --decide '$tmp/c.bpol' | cut -f1 | tr '\n' ' ' | grep -qx 'allow allow deny '"
check "no temporary files left beside the output" sh -c "test \$(ls '$tmp' | grep -c tmp) -eq 0"

"$bc" --allow "domain=x.com" -o "$tmp/nodir/x.bpol" >"$tmp/out" 2>&1
check "unwritable output: exit 1" test $? -eq 1
check "unwritable output: names the path" grep -q "cannot write '$tmp/nodir/x.bpol'" "$tmp/out"

printf 'GET https://api.github.com/x?q=1\nDELETE https://api.github.com/\nGET https://b.example.com/v1/\nGET https://b.example.com/v1\n\n# comment\nGET https://bad host/\n' |
    "$bc" --decide "$tmp/p.yaml" >"$tmp/out" 2>"$tmp/err"
check "--decide on a config.yaml" sh -c "printf 'allow\tdomain=api.github.com\nallow\tdomain=api.github.com\nallow\tmethod=GET,HEAD domain=*.example.com path=/v1/*\ndeny\ndeny\n' | cmp -s - '$tmp/out'"
check "--decide reports the invalid line on stderr" grep -q 'stdin:7: invalid host' "$tmp/err"

printf 'BPOL\r\n\032\nxxxxxxxxxxxxxxxx' >"$tmp/bad.bpol"
echo "GET https://x/" | "$bc" --decide "$tmp/bad.bpol" >"$tmp/out" 2>&1
check "--decide on a truncated table: exit 2" test $? -eq 2
check "--decide on a truncated table: says truncated" grep -q 'truncated' "$tmp/out"

"$bc" --explain POST https://a.example.com/v1/x --policy "$tmp/a.bpol" >"$tmp/out" 2>&1
check "--explain: verdict" grep -q '^deny: no rule matches' "$tmp/out"
check "--explain: the failing part of each rule" sh -c \
    "grep -q 'rule 1: .*host a.example.com does not match' '$tmp/out' &&
     grep -q 'rule 2: .*method POST is not in its method list' '$tmp/out'"
"$bc" --explain GET https://A.Example.COM./v1/../v1/x --allow 'domain=*.example.com path=/v1/*' >"$tmp/out" 2>&1
check "--explain shows the canonical request" grep -q 'host a.example.com path /v1/x' "$tmp/out"
check "--explain with --allow: allowed by rule 1" grep -q '^allow: rule 1 matches' "$tmp/out"

"$bc" --allow "method=get domain=*" -o "$tmp/w.bpol" 2>"$tmp/err"
check "a warning alone exits 0" test $? -eq 0
check "the warning names its kind" grep -q 'warning: .*\[-Wlowercase-method\]' "$tmp/err"
"$bc" --Werror --allow "method=get domain=*" -o "$tmp/w.bpol" 2>"$tmp/err"
check "--Werror: exit 2" test $? -eq 2
"$bc" --Werror --Wno-lowercase-method --allow "method=get domain=*" -o "$tmp/w.bpol" 2>"$tmp/err"
check "--Wno-lowercase-method silences it" sh -c "test $? -eq 0 && ! test -s '$tmp/err'"
"$bc" --Wno-nonsense --allow "domain=*" -o "$tmp/w.bpol" 2>"$tmp/err"
check "unknown --Wno-: exit 2" test $? -eq 2

"$bc" --allow "" --allow "domain=a.com:80" --allow "metod=GET" -o "$tmp/e.bpol" 2>"$tmp/err"
check "bad rules: exit 2" test $? -eq 2
check "every bad rule is reported" sh -c "grep -c ': error:' '$tmp/err' | grep -qx 3"
check "errors carry --allow[N]:LINE:COL" sh -c \
    "grep -q '^--allow\[1\]:1:1: error:' '$tmp/err' && grep -q '^--allow\[2\]:1:' '$tmp/err' && grep -q '^--allow\[3\]:1:1: error:' '$tmp/err'"
check "nothing written on error" test ! -e "$tmp/e.bpol"

"$bc" --dump "$tmp/a.bpol" >"$tmp/d1" && "$bc" --dump "$tmp/p.yaml" >"$tmp/d2"
check "--dump of a .bpol and of its .yaml agree" cmp -s "$tmp/d1" "$tmp/d2"

"$bc" --allow "domain=*.github.com" -o - >"$tmp/stdout.bpol"
check "-o - writes the table to stdout" sh -c "head -c 8 '$tmp/stdout.bpol' | grep -q BPOL"

# boundary itself: policy loading before anything is served
b=$(pwd)/$BUILD/bin/boundary
if [ -x "$b" ]; then
	HOME=$tmp "$b" --policy "$tmp/a.bpol" -n >"$tmp/out" 2>&1
	check "boundary --policy F.bpol -n: exit 0" test $? -eq 0
	check "boundary -n reports the rule count" grep -q 'configuration OK (2 rules)' "$tmp/out"
	HOME=$tmp "$b" --policy "$tmp/bad.bpol" -n >"$tmp/out" 2>&1
	check "boundary with a corrupt policy: exit 125" test $? -eq 125
	check "boundary names the corrupt policy" grep -q "bad.bpol: truncated" "$tmp/out"
	HOME=$tmp "$b" --allow "domain=x.com:80" -n >"$tmp/out" 2>&1
	check "boundary with a bad rule: exit 125 and the diagnostic" sh -c \
	    "test $? -eq 125 && grep -q '^--allow\[1\]:1:' '$tmp/out'"
	HOME=$tmp timeout 10 "$b" --allow "domain=x.com" --proxy-only --proxy-port 8080 --listen 192.0.2.1 >"$tmp/out" 2>&1
	check "boundary that cannot listen: exit 125 with the reason" sh -c \
	    "test $? -eq 125 && grep -q 'cannot listen on 192.0.2.1 port 8080' '$tmp/out'"
	HOME=$tmp "$b" --version >"$tmp/out" 2>&1
	check "boundary --version" grep -q '^boundary ' "$tmp/out"

	env -u CODER_AGENT_URL HOME=$tmp "$b" --enable-session-correlation --allow "domain=x.com" -n >"$tmp/out" 2>&1
	check "session correlation without targets: exit 125 and why" sh -c \
	    "test $? -eq 125 && grep -q 'no inject targets' '$tmp/out'"
	CODER_AGENT_URL=https://dev.coder.example:8443/ HOME=$tmp "$b" --enable-session-correlation --allow "domain=x.com" -n >"$tmp/out" 2>&1
	check "session correlation derives its target from CODER_AGENT_URL" test $? -eq 0
	HOME=$tmp "$b" --enable-session-correlation --session-id-inject-target "path=/x" --allow "domain=x.com" -n >"$tmp/out" 2>&1
	check "an inject target without domain= is refused" sh -c \
	    "test $? -eq 125 && grep -q 'needs domain=' '$tmp/out'"

	# the jail: set-up failures say what is missing and what to do
	if unshare -Ur sh -c 'echo 0 >/proc/sys/user/max_user_namespaces' 2>/dev/null; then
		unshare -Ur sh -c "echo 0 >/proc/sys/user/max_user_namespaces; HOME=$tmp '$b' -- true" >"$tmp/out" 2>&1
		check "no user namespaces: exit 125, suggests landjail" sh -c \
		    "test $? -eq 125 && grep -q 'use --jail-type landjail' '$tmp/out'"
	else
		n=$((n + 1))
		echo "ok $n # SKIP cannot make a user namespace to test in"
	fi
	if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
		chmod 711 "$tmp" && mkdir -p "$tmp/nobody" && chown nobody "$tmp/nobody"
		setpriv --reuid nobody --regid nogroup --clear-groups env HOME="$tmp/nobody" \
		    "$b" --no-user-namespace -- true >"$tmp/out" 2>&1
		check "--no-user-namespace without capabilities: exit 125, names them" sh -c \
		    "test $? -eq 125 && grep -q 'needs CAP_SYS_ADMIN and CAP_NET_ADMIN' '$tmp/out'"
	fi
	HOME=$tmp "$b" --listen 0.0.0.0 --jail-type landjail -- true >"$tmp/out" 2>&1
	check "landjail refuses a non-loopback --listen" sh -c \
	    "test $? -eq 125 && grep -q 'needs a loopback --listen' '$tmp/out'"

	# SIGHUP reloads the policy file; a broken one leaves the old in force
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	"$bc" --allow "domain=a.test" -o "$tmp/hup.bpol"
	XDG_CONFIG_HOME=$tmp/xdg HOME=$tmp "$b" --proxy-only --proxy-port "$port" \
	    --policy "$tmp/hup.bpol" --ephemeral-ca \
	    --connect-to b.test:80:127.0.0.1:1 2>"$tmp/hup.err" &
	bpid=$!
	i=0
	while ! curl -s -o /dev/null "http://127.0.0.1:$port/" && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	st() { curl -s -o /dev/null -w '%{http_code}' -x "127.0.0.1:$port" http://b.test/; }
	check "before SIGHUP: b.test denied" test "$(st)" = 403
	"$bc" --allow "domain=b.test" -o "$tmp/hup.bpol"
	kill -HUP "$bpid"
	sleep 0.3
	check "after SIGHUP: b.test allowed (dialled: 502 from the closed port)" test "$(st)" = 502
	printf 'garbage' >"$tmp/hup.bpol"
	kill -HUP "$bpid"
	sleep 0.3
	check "a corrupt policy on SIGHUP keeps the previous one" test "$(st)" = 502
	check "the failed reload is reported" grep -q 'not reloaded' "$tmp/hup.err"
	kill -TERM "$bpid"
	wait "$bpid"
	check "boundary exits 0 on SIGTERM" test $? -eq 0
fi

echo "# $((n - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
