/*
 * Tests of runtime/conn.c that need no sockets: every state has a name,
 * the transition table admits the documented paths and refuses others,
 * buffers keep their invariants, and the audited URL is formed right.
 * The connection behaviour itself is tested end to end in
 * tests/integration/.
 */
#include "runtime/conn.c"

#include "tests/tap.h"

void test_runtime__conn_c(void);

static void
test_names(void)
{
	int s, missing = 0;

	for (s = 0; s < CONN_ST_COUNT; s++)
		if (state_names[s] == NULL || conn_state_str(s)[0] == '?')
			missing++;
	is_int(missing, 0, "every conn_state has a name");
	is_str(conn_state_str(CONN_ST_FORWARD), "FORWARD", "FORWARD's name");
	is_str(conn_state_str(CONN_ST_COUNT), "?", "out of range");
}

static void
test_transitions(void)
{
	ok(allowed[CONN_ST_SNIFF] & BIT(CONN_ST_TLS_HS), "SNIFF -> TLS_HS");
	ok(allowed[CONN_ST_HEAD] & BIT(CONN_ST_RESOLVE), "HEAD -> RESOLVE");
	ok(allowed[CONN_ST_HEAD] & BIT(CONN_ST_FORWARD),
	    "HEAD -> FORWARD (kept upstream)");
	ok(allowed[CONN_ST_FORWARD] & BIT(CONN_ST_HEAD), "FORWARD -> HEAD");
	ok(allowed[CONN_ST_REPLY] & BIT(CONN_ST_SNIFF), "REPLY -> SNIFF (CONNECT)");
	ok(!(allowed[CONN_ST_HEAD] & BIT(CONN_ST_TUNNEL)),
	    "HEAD -/-> TUNNEL: only a 101 response opens a tunnel");
	ok(!(allowed[CONN_ST_SNIFF] & BIT(CONN_ST_FORWARD)),
	    "SNIFF -/-> FORWARD: nothing is forwarded undecided");
	ok(!(allowed[CONN_ST_TLS_HS] & BIT(CONN_ST_RESOLVE)),
	    "TLS_HS -/-> RESOLVE");
	is_int(allowed[CONN_ST_TUNNEL], 0, "TUNNEL only ends");
	is_int(allowed[CONN_ST_CLOSED], 0, "CLOSED is final");
}

static void
test_buffers(void)
{
	struct buf b;
	char store[8];

	buf_attach(&b, store, sizeof(store));
	ok(buf_put(&b, "abcdef", 6) == 0, "put 6 of 8");
	ok(buf_put(&b, "xyz", 3) == -1, "no room for 3 more");
	buf_consume(&b, 4);
	is_mem(buf_data(&b), b.len, "ef", 2, "consume leaves the rest");
	is_int(buf_room(&b), 6, "room after compaction");
	is_mem(buf_data(&b), b.len, "ef", 2, "data kept by compaction");
	ok(buf_printf(&b, "%d", 1234) == 0, "printf fits");
	is_mem(buf_data(&b), b.len, "ef1234", 6, "printf appended");
	ok(buf_printf(&b, "%s", "toolong") == -1, "printf refuses overflow");
	is_int(b.len, 6, "a refused printf appends nothing");
	buf_consume(&b, 6);
	is_int(b.off, 0, "empty buffer restarts at 0");
}

static void
test_url(void)
{
	struct conn c;
	char url[256], path[16];
	size_t n;

	memset(&c, 0, sizeof(c));
	c.path = path;
	memcpy(c.host, "api.example.com", 15);
	c.host_len = 15;
	memcpy(c.path, "/v1/x", 5);
	c.path_len = 5;
	c.port = 443;
	c.https = 1;
	n = request_url(&c, url, sizeof(url));
	is_mem(url, n, "https://api.example.com/v1/x", 28, "default port omitted");
	c.port = 8443;
	c.has_query = 1;
	c.query = VIEW_LIT("a=1&b=2");
	n = request_url(&c, url, sizeof(url));
	is_mem(url, n, "https://api.example.com:8443/v1/x?a=1&b=2", 41,
	    "port and query");
	c.https = 0;
	c.port = 80;
	c.has_query = 0;
	n = request_url(&c, url, sizeof(url));
	is_mem(url, n, "http://api.example.com/v1/x", 27, "http default port");
	n = request_url(&c, url, 10);
	ok(n < 10, "truncated to the buffer");
}

void
test_runtime__conn_c(void)
{
	subtest("state names", test_names);
	subtest("transitions", test_transitions);
	subtest("buffers", test_buffers);
	subtest("audited URL", test_url);
}
