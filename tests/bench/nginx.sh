# tests/bench/nginx.sh: the local origin server of the benchmarks, sourced
# by tests/bench/proxy/run.sh and tests/bench/jail/run.sh.
#
#   nginx_start DIR SERVERS   writes DIR/nginx.conf (one worker, no access
#                             log, keep-alive without limits, temporary
#                             files under DIR, then the server blocks given
#                             as text) and starts nginx in the background;
#                             sets ngx_pid (the master) and appends it to
#                             the caller's pids array.
#   nginx_worker              the pid of the one worker process.
#   BENCH_BODY                the 100-byte response body every benchmark
#                             serves ("000...0\n"), for `return 200`.
#
# NGINX (default /usr/sbin/nginx) names the binary.

NGINX=${NGINX:-/usr/sbin/nginx}
BENCH_BODY="$(printf '%099d' 0)\\n"

nginx_start() {
	local dir=$1 servers=$2
	mkdir -p "$dir"
	cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 65536;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 20000; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	keepalive_requests 10000000;
	keepalive_timeout 300s;
$servers
}
EOF
	"$NGINX" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
		>"$dir/stdout.log" 2>&1 &
	ngx_pid=$!
	pids+=("$ngx_pid")
}

nginx_worker() {
	pgrep -P "$ngx_pid" | head -1
}
