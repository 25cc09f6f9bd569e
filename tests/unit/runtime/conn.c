/*
 * Tests of runtime/conn.c that need no proxy running: every state has a
 * name, the transition table admits the documented paths and refuses
 * others, buffers keep their invariants, the audited URL and the rebuilt
 * heads are formed right, the connection pool recycles its slots, and a
 * plain loopback connection has no original (redirected) destination.
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
	is_mem(url, n, "http://ap", 9, "truncated to the buffer");
	is_int(url[n], '\0', "truncated URL is terminated");
	c.port = 8080;
	n = request_url(&c, url, 24);
	is_mem(url, n, "http://api.example.com:", 23, "cut inside the port");
}

/* Parses <resp> into c's response and rebuilds the head for the client. */
static int
response_head(struct conn *c, const char *resp, char *out, size_t cap,
    size_t *outlen)
{
	static char raw[1024];
	size_t n = strlen(resp);

	memcpy(raw, resp, n);
	c->nrhdrs = MAX_HEADERS;
	if (http_parse_response(raw, n, 0, &c->resp, c->rhdrs, &c->nrhdrs) <= 0)
		return -1;
	c->resp_body = http_response_body(&c->resp, 0);
	buf_attach(&c->cout, out, cap);
	if (build_response_head(c) == -1)
		return -1;
	*outlen = c->cout.len;
	return 0;
}

static void
test_heads(void)
{
	static struct http_hdr hdrs[MAX_HEADERS], rhdrs[MAX_HEADERS];
	static struct conn c;
	static struct proxy px;	/* cfg.inject NULL: no session headers */
	char out[1024], path[16];
	size_t n = 0;
	int r;

	memset(&c, 0, sizeof(c));
	c.hdrs = hdrs;
	c.rhdrs = rhdrs;
	c.keep_alive = 1;
	r = response_head(&c, "HTTP/1.1 200 OK\r\nServer: t\r\n"
	    "Connection: keep-alive\r\nX-Drop: 1\r\nContent-Length: 12\r\n"
	    "Keep-Alive: timeout=5\r\n\r\n", out, sizeof(out), &n);
	is_int(r, 0, "response head rebuilt");
	is_mem(out, n, "HTTP/1.1 200 OK\r\nServer: t\r\nX-Drop: 1\r\n"
	    "Content-Length: 12\r\n\r\n",
	    strlen("HTTP/1.1 200 OK\r\nServer: t\r\nX-Drop: 1\r\n"
	    "Content-Length: 12\r\n\r\n"),
	    "Connection: keep-alive: hop-by-hop fields dropped, others kept");
	r = response_head(&c, "HTTP/1.1 404 Not Found\r\nX-Drop: 1\r\n"
	    "Connection: x-drop, keep-alive\r\nX-Keep: 2\r\n"
	    "Content-Length: 0\r\n\r\n", out, sizeof(out), &n);
	is_int(r, 0, "response head with a Connection list rebuilt");
	is_mem(out, n, "HTTP/1.1 404 Not Found\r\nX-Keep: 2\r\n"
	    "Content-Length: 0\r\n\r\n",
	    strlen("HTTP/1.1 404 Not Found\r\nX-Keep: 2\r\n"
	    "Content-Length: 0\r\n\r\n"),
	    "a field the Connection list names is dropped");
	c.keep_alive = 0;
	r = response_head(&c, "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123"
	    "\r\n\r\n", out, sizeof(out), &n);
	is_mem(out, n, "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123\r\n"
	    "Connection: close\r\n\r\n",
	    strlen("HTTP/1.1 200 OK\r\nContent-Length: 1234567890123\r\n"
	    "Connection: close\r\n\r\n"),
	    "large Content-Length restated, close announced");

	/* request head: method, canonical path, query, host:port */
	memset(&c, 0, sizeof(c));
	c.px = &px;
	c.hdrs = hdrs;
	c.rhdrs = rhdrs;
	c.path = path;
	c.req.method = VIEW_LIT("POST");
	memcpy(path, "/a/b", 4);
	c.path_len = 4;
	c.has_query = 1;
	c.query = VIEW_LIT("q=1");
	memcpy(c.host, "api.test", 8);
	c.host_len = 8;
	c.port = 8443;
	c.https = 1;
	c.req.content_length = 5;
	hdrs[0].name = VIEW_LIT("Host");
	hdrs[0].value = VIEW_LIT("api.test:8443");
	hdrs[1].name = VIEW_LIT("Accept");
	hdrs[1].value = VIEW_LIT("*/*");
	hdrs[2].name = VIEW_LIT("Connection");
	hdrs[2].value = VIEW_LIT("keep-alive");
	c.nhdrs = 3;
	buf_attach(&c.uout, out, sizeof(out));
	is_int(build_request_head(&c), 0, "request head rebuilt");
	is_mem(out, c.uout.len, "POST /a/b?q=1 HTTP/1.1\r\nHost: api.test:8443"
	    "\r\nAccept: */*\r\nContent-Length: 5\r\n\r\n",
	    strlen("POST /a/b?q=1 HTTP/1.1\r\nHost: api.test:8443"
	    "\r\nAccept: */*\r\nContent-Length: 5\r\n\r\n"),
	    "request line, Host with the port, framing restated");
	buf_attach(&c.uout, out, 20);
	is_int(build_request_head(&c), -1, "a head that does not fit: -1");
}

/* The pool hands out zeroed slots, reuses given-back ones first. */
static void
test_pool(void)
{
	static struct proxy px;
	struct conn *a, *b, *c;

	memset(&px, 0, sizeof(px));
	if (conn_pool_init(&px) == -1) {
		ok(0, "conn_pool_init");
		return;
	}
	a = conn_get(&px);
	b = conn_get(&px);
	ok(a != NULL && b != NULL && a != b, "two distinct slots");
	is_int(px.pool_used, 2, "two slots used");
	a->id = 42;
	conn_put(&px, a);
	c = conn_get(&px);
	ok(c == a, "a given-back slot is reused first");
	is_int(c->id, 0, "and is zeroed");
	is_int(px.pool_used, 2, "no new slot touched");
	conn_put(&px, b);
	conn_put(&px, c);
	conn_pool_free(&px);
	ok(px.pool == NULL, "pool unmapped");
}

/* A connection that no redirect made has no original port. */
static void
test_original_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int l, cfd, afd;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l == -1 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(l, 1) == -1 ||
	    getsockname(l, (struct sockaddr *)&sa, &len) == -1) {
		ok(0, "loopback listener");
		if (l != -1)
			close(l);
		return;
	}
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd == -1 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    (afd = accept(l, NULL, NULL)) == -1) {
		ok(0, "loopback connection");
		if (cfd != -1)
			close(cfd);
		close(l);
		return;
	}
	is_int(original_port(afd), 0, "a direct connection: no original port");
	is_int(original_port(cfd), 0, "the client side: none either");
	close(afd);
	close(cfd);
	close(l);
}

void
test_runtime__conn_c(void)
{
	subtest("state names", test_names);
	subtest("transitions", test_transitions);
	subtest("buffers", test_buffers);
	subtest("audited URL", test_url);
	subtest("rebuilt heads", test_heads);
	subtest("connection pool", test_pool);
	subtest("original destination", test_original_port);
}
