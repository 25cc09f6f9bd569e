# Helpers for tests/integration/run.sh (bash).  Sourced, not run.
#
# Every process started here is recorded in PIDS so the runner's EXIT trap
# can stop it; nothing listens anywhere but 127.0.0.1.

PIDS=()

# The names the origin answers for; each is mapped by --connect-to (port 80
# to the plain listener, 443 to the TLS one).  The TLS certificate covers
# api.test git.test ws.test other.test *.example.test.
IT_HOSTS="api.test git.test ws.test other.test www.example.test a.example.test"

# Writes a free loopback TCP port on stdout (bound and released by the
# kernel's ephemeral allocator; the window for a collision is tiny).
freeport() {
	"$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_port PORT SECONDS [PID]: polls until 127.0.0.1:PORT accepts a
# connection.  Fails at the deadline, or at once if PID has exited.
wait_port() {
	local port=$1 secs=$2 pid=${3:-} i=0 n
	n=$((secs * 20))
	while [ $i -lt $n ]; do
		if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		if [ -n "$pid" ] && ! alive "$pid"; then
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# wait_file FILE SECONDS [PID]: polls until FILE exists and is not empty.
wait_file() {
	local f=$1 secs=$2 pid=${3:-} i=0 n
	n=$((secs * 20))
	while [ $i -lt $n ]; do
		[ -s "$f" ] && return 0
		if [ -n "$pid" ] && ! alive "$pid"; then
			[ -s "$f" ] && return 0
			return 1
		fi
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# wait_grep REGEX FILE OFFSET SECONDS: polls until the part of FILE after
# byte OFFSET has a line matching the extended REGEX.
wait_grep() {
	local rx=$1 f=$2 off=$3 secs=$4 i=0 n
	n=$((secs * 20))
	while [ $i -lt $n ]; do
		if tail -c +"$((off + 1))" "$f" 2>/dev/null | grep -Eq -- "$rx"; then
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

# alive PID: the process exists and is not a zombie waiting to be reaped.
alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null)
	[ "$st" != Z ]
}

# stop_pid PID SECONDS [sent]: SIGTERM (unless "sent": one was sent already,
# and a second one may legitimately mean "exit now"), then waits up to
# SECONDS for the exit.  Sets STOP_STATUS to the exit status (or "timeout",
# after a SIGKILL).
stop_pid() {
	local pid=$1 secs=$2 i=0 n
	n=$((secs * 20))
	[ "${3:-}" = sent ] || kill -TERM "$pid" 2>/dev/null
	while alive "$pid" && [ $i -lt $n ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		STOP_STATUS=timeout
		return
	fi
	wait "$pid" 2>/dev/null
	STOP_STATUS=$?
}

# Stops everything still recorded in PIDS (the EXIT trap).
stop_all() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		local i=0
		while alive "$p" && [ $i -lt 40 ]; do
			sleep 0.05
			i=$((i + 1))
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=()
}

# forget_pid PID: removes PID from PIDS once it has been reaped.
forget_pid() {
	local p keep=()
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
}

# make_git_repo DIR: a bare repository DIR/repo.git with two commits whose
# ids are fixed (fixed author, committer and dates).  Prints the HEAD id.
make_git_repo() {
	local d=$1
	(
		set -e
		export GIT_CONFIG_NOSYSTEM=1 HOME="$d" GIT_AUTHOR_NAME=Test \
		    GIT_AUTHOR_EMAIL=test@example.test GIT_COMMITTER_NAME=Test \
		    GIT_COMMITTER_EMAIL=test@example.test \
		    GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' \
		    GIT_COMMITTER_DATE='2024-01-01T00:00:00Z'
		git init -q -b main "$d/src"
		cd "$d/src"
		echo "hello through the boundary" >README
		"$PY" "$TOOLS/pattern.py" gen 300000 >blob.bin
		git add README blob.bin
		git commit -q -m "first"
		echo "second line" >>README
		git commit -q -am "second"
		git clone -q --bare "$d/src" "$d/repo.git"
		git -C "$d/repo.git" config http.receivepack true
		git -C "$d/repo.git" rev-parse HEAD
	)
}

# is_yes VALUE: true for "yes", "1", "true".
is_yes() {
	case $1 in yes|1|true) return 0 ;; *) return 1 ;; esac
}
