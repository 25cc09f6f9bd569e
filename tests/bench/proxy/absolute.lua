-- wrk script of tests/bench/proxy/run.sh.
--
-- BENCH_URL (environment), when set, becomes the request target, so that
-- wrk sends absolute-form requests ("GET http://bench.test/x HTTP/1.1") as
-- a client configured with a proxy does; unset, wrk sends the path of its
-- URL argument (origin-form, for the direct runs).  The Host header comes
-- from wrk -H.  done() prints one machine-readable "RESULT" line.

local url = os.getenv("BENCH_URL")
if url ~= nil and url ~= "" then
	wrk.path = url
end

function done(summary, latency, requests)
	local e = summary.errors
	local secs = summary.duration / 1e6
	io.write(string.format(
		"RESULT reqs=%d secs=%.3f rps=%.0f p50_us=%d p90_us=%d " ..
		"p99_us=%d non2xx=%d err_connect=%d err_read=%d " ..
		"err_write=%d err_timeout=%d\n",
		summary.requests, secs, summary.requests / secs,
		latency:percentile(50), latency:percentile(90),
		latency:percentile(99), e.status, e.connect, e.read, e.write,
		e.timeout))
end
