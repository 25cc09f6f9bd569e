# shellcheck shell=bash
# Helpers for tests/jail/run.sh (bash).  Sourced, not run.  Builds on
# tests/integration/lib.sh (PIDS, alive, wait_port, wait_file, freeport,
# stop_all, forget_pid, make_git_repo, is_yes), which the runner sources
# first.

n=0
pass=0
fail=0
skip=0
why=()

# ---- TAP ------------------------------------------------------------------

diag() {	# diag TITLE FILE [LINES]: a file's tail as TAP comments
	[ -s "$2" ] || return 0
	echo "#   --- $1"
	tail -n "${3:-12}" "$2" | cut -c1-300 | sed 's/^/#     /'
}

# report NAME [TITLE FILE]...: ok if the array why is empty, else not ok
# with every reason and the tails of the files given.  Empties why.
report() {
	local name=$1 r now
	shift
	n=$((n + 1))
	if is_yes "${BT_TIMING:-0}"; then
		now=$(date +%s.%N)
		name="$name [$(awk -v a="$now" -v b="${T_LAST:-$now}" 'BEGIN { printf "%.2f", a - b }') s]"
		T_LAST=$now
	fi
	if [ ${#why[@]} -eq 0 ]; then
		pass=$((pass + 1))
		echo "ok $n - $name"
		if ! is_yes "${BT_VERBOSE:-0}"; then
			why=()
			return 0
		fi
	else
		fail=$((fail + 1))
		echo "not ok $n - $name"
		for r in "${why[@]}"; do
			printf '%s\n' "$r" | sed 's/^/#   /'
		done
	fi
	while [ $# -ge 2 ]; do
		diag "$1" "$2"
		shift 2
	done
	why=()
}

skip_test() {	# skip_test NAME WHY
	n=$((n + 1))
	if is_yes "$must"; then
		fail=$((fail + 1))
		echo "not ok $n - $1 # BOUNDARY_MUST_WORK=1 but: $2"
	else
		skip=$((skip + 1))
		echo "ok $n # SKIP $2 ($1)"
	fi
}

save_state() {	# for the outer half of run.sh
	echo "$n $pass $fail $skip" >"$tmp/state"
}

# ---- checks that add to why ---------------------------------------------

need_status() {	# need_status GOT WANT WHAT
	[ "$1" = "$2" ] || why+=("$3: exit status $1, want $2")
}

need_grep() {	# need_grep REGEX FILE WHAT
	grep -Eq -- "$1" "$2" 2>/dev/null || why+=("$3: no line matching /$1/ in ${2##*/}")
}

need_no_grep() {	# need_no_grep REGEX FILE WHAT
	if grep -Eq -- "$1" "$2" 2>/dev/null; then
		why+=("$3: a line matches /$1/ in ${2##*/}: $(grep -E -m1 -- "$1" "$2" | cut -c1-200)")
	fi
}

# ---- snapshots of network state ------------------------------------------

# netstate [RULESET]: the network configuration of the current namespace,
# without what changes by itself (address lifetimes, route expiry, counter
# values).  RULESET: the output of "nftctl.py list ruleset" if the caller
# has it already.
netstate() {
	local rs
	if [ $# -gt 0 ]; then
		rs=$1
	else
		rs=$("$PY" "$here/tools/nftctl.py" list ruleset 2>&1)
	fi
	echo "== ip addr"
	ip addr 2>&1 | grep -Ev 'valid_lft|preferred_lft'
	echo "== ip route"
	ip route 2>&1 | sed -E 's/ expires [0-9]+sec//'
	echo "== ip -6 route"
	ip -6 route 2>&1 | sed -E 's/ expires [0-9]+sec//'
	echo "== nft list ruleset"
	printf '%s\n' "$rs" | sed -E 's/ counter packets [0-9]+ bytes [0-9]+/ counter/; /^[[:space:]]*packets [0-9]+ bytes [0-9]+$/d'
	if command -v iptables-save >/dev/null; then
		echo "== iptables-save"
		iptables-save 2>&1 | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g'
		echo "== ip6tables-save"
		ip6tables-save 2>&1 | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g'
	fi
}

# ---- pids ------------------------------------------------------------------

# wait_gone REGEX SECONDS: polls until no process's full command line
# matches REGEX (pgrep -f).  Fails at the deadline.
wait_gone() {
	local i=0 n=$(($2 * 20))
	while pgrep -f -- "$1" >/dev/null; do
		[ $i -ge $n ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 0
}

# wait_seen REGEX SECONDS: polls until some process matches REGEX.
wait_seen() {
	local i=0 n=$(($2 * 20))
	until pgrep -f -- "$1" >/dev/null; do
		[ $i -ge $n ] && return 1
		sleep 0.05
		i=$((i + 1))
	done
	return 0
}

# kill_marked REGEX: SIGKILLs, one pid at a time, the processes this suite
# started with a unique marker command line (a leak a test just reported).
kill_marked() {
	local p
	for p in $(pgrep -f -- "$1"); do
		kill -KILL "$p" 2>/dev/null
	done
}
