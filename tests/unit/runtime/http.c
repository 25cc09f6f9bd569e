/*
 * Tests runtime/http.c and the scanners of grammar/http_head.re: every
 * rejection with its status, every derived field, incremental feeding at
 * every split point, pipelining, limits, responses and the forwarding
 * helpers.  Inputs are placed against a guard page (guard_copy), so a read
 * past <len> faults.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/http.c"
#include "tests/tap.h"

void test_runtime__http_c(void);

static struct http_hdr hdrs[MAX_HEADERS + 8];
static size_t nhdrs;
static struct http_req rq;
static struct http_resp rs;

/* Parses <n> bytes of <s> as a request against a guard page. */
static int
preq_n(const char *s, size_t n, size_t cap)
{
	const char *b = guard_copy(s, n);

	nhdrs = cap;
	return http_parse_request(b, n, 0, &rq, hdrs, &nhdrs);
}

static int
preq(const char *s)
{
	return preq_n(s, strlen(s), MAX_HEADERS);
}

static int
presp(const char *s)
{
	size_t n = strlen(s);
	const char *b = guard_copy(s, n);

	nhdrs = MAX_HEADERS;
	return http_parse_response(b, n, 0, &rs, hdrs, &nhdrs);
}

static int
vis(struct view v, const char *s)
{
	return view_eq_cstr(v, s);
}

/* A request that must parse completely. */
static void
good(const char *s, const char *what)
{
	int r = preq(s);

	if (!is_int(r, (int)strlen(s), "accepts %s", what))
		tap_diag("error %d", rq.error);
}

/* A request that must be refused with <status>. */
static void
bad(const char *s, int status, const char *what)
{
	int r = preq(s);

	ok(r == PARSE_BAD && rq.error == status,
	    "%s -> %d (got %d, error %d)", what, status, r, rq.error);
}

static void
test_basic(void)
{
	const char *s = "GET /index.html?q=1 HTTP/1.1\r\n"
	    "Host:   example.com \t\r\n"
	    "User-Agent: curl/8.0\r\n"
	    "X-Spaces:  a  b  \r\n"
	    "X-Empty:\r\n"
	    "X-Obs: caf\xc3\xa9\r\n"
	    "\r\n";

	is_int(preq(s), (int)strlen(s), "basic GET: head length");
	ok(vis(rq.method, "GET"), "method");
	ok(vis(rq.target, "/index.html?q=1"), "target");
	is_int(rq.minor, 1, "minor");
	is_str(http_form_str(rq.form), "origin", "origin-form");
	ok(vis(rq.host, "example.com"), "host trimmed of OWS");
	is_int(rq.host_count, 1, "host_count");
	is_int(rq.content_length, -1, "no content-length");
	ok(!rq.chunked && !rq.te_present, "no TE");
	ok(!rq.conn_close && !rq.conn_keep_alive && !rq.upgrade, "no conn");
	is_int(rq.error, 0, "no error");
	is_int(nhdrs, 5, "five fields");
	ok(vis(hdrs[0].name, "Host") && vis(hdrs[0].value, "example.com"),
	    "field 0");
	ok(vis(hdrs[1].name, "User-Agent") && vis(hdrs[1].value, "curl/8.0"),
	    "field 1");
	ok(vis(hdrs[2].value, "a  b"), "inner spaces kept, outer trimmed");
	ok(hdrs[3].value.n == 0 && vis(hdrs[3].name, "X-Empty"),
	    "empty value");
	ok(vis(hdrs[4].value, "caf\xc3\xa9"), "obs-text in a value");
	is_int(http_request_body(&rq), HTTP_BODY_NONE, "no body");
	ok(http_req_keep_alive(&rq), "HTTP/1.1 keeps alive");
}

static void
test_request_line(void)
{
	bad("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "two spaces");
	bad("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400, "two spaces after target");
	bad(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "leading space");
	bad("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "tab separator");
	bad("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400, "trailing space");
	bad("GET / http/1.1\r\nHost: a\r\n\r\n", 400, "lowercase version");
	bad("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400, "version 1.10");
	bad("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "method not a token");
	bad("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "CTL in target");
	bad("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "non-ASCII target");
	bad("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400, "DEL in target");
	bad("GET HTTP/1.1\r\nHost: a\r\n\r\n", 400, "no target");
	bad("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "two empty lines first");
	bad("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0");
	bad("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505, "HTTP/1.2");
	bad("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505, "HTTP/0.9");
	bad("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bare LF after the line");
	bad("GET / HTTP/1.1\rHost: a\r\n\r\n", 400, "bare CR after the line");

	good("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", "one leading CRLF");
	ok(vis(rq.method, "GET") && vis(rq.host, "a"), "after leading CRLF");
	good("GET / HTTP/1.0\r\n\r\n", "HTTP/1.0 without Host");
	is_int(rq.minor, 0, "minor 0");
	ok(!http_req_keep_alive(&rq), "HTTP/1.0 closes by default");
	good("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
	    "HTTP/1.0 keep-alive");
	ok(rq.conn_keep_alive && http_req_keep_alive(&rq), "1.0 keep-alive");
	good("M-SEARCH /x HTTP/1.1\r\nHost: a\r\n\r\n", "custom method");
	ok(vis(rq.method, "M-SEARCH"), "custom method kept");
}

static void
test_forms(void)
{
	good("GET http://example.com:8080/a/b?x=1&y=2 HTTP/1.1\r\n"
	    "Host: example.com:8080\r\n\r\n", "absolute-form with port/query");
	is_str(http_form_str(rq.form), "absolute", "absolute form");
	ok(vis(rq.target, "http://example.com:8080/a/b?x=1&y=2"),
	    "absolute target as written");
	good("GET HTTPS://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n",
	    "absolute-form, upper-case scheme, no path");
	is_int(rq.form, HTTP_FORM_ABSOLUTE, "https absolute");
	good("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
	    "CONNECT");
	is_str(http_form_str(rq.form), "authority", "authority form");
	ok(vis(rq.target, "example.com:443"), "CONNECT target");
	good("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n",
	    "CONNECT IPv6");
	good("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", "OPTIONS *");
	is_str(http_form_str(rq.form), "asterisk", "asterisk form");

	bad("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "CONNECT origin-form");
	bad("CONNECT http://a:443/ HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "CONNECT absolute-form");
	bad("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "CONNECT without port");
	bad("CONNECT example.com:99999 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "CONNECT port too large");
	bad("CONNECT :443 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "CONNECT empty host");
	bad("CONNECT u@a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "CONNECT userinfo");
	bad("GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "GET authority-form");
	bad("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400, "GET asterisk");
	bad("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "asterisk plus");
	bad("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "absolute, empty authority");
	bad("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "ftp scheme");
	bad("GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "relative target");
	bad("connect a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400,
	    "methods are case-sensitive");
}

static void
test_fields(void)
{
	bad("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400, "obs-fold SP");
	bad("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\tfolded\r\n\r\n", 400,
	    "obs-fold HTAB");
	bad("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "space before colon");
	bad("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400, "tab before colon");
	bad("GET / HTTP/1.1\r\nX@Y: 1\r\nHost: a\r\n\r\n", 400,
	    "name not a token");
	bad("GET / HTTP/1.1\r\n: 1\r\nHost: a\r\n\r\n", 400, "empty name");
	bad("GET / HTTP/1.1\r\nNoColon\r\nHost: a\r\n\r\n", 400, "no colon");
	bad("GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n", 400, "bare LF in head");
	bad("GET / HTTP/1.1\r\nHost: a\r\n\n", 400, "bare LF at the end");
	bad("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400, "bare CR in value");
	bad("GET / HTTP/1.1\r\nHost: a\x01\r\n\r\n", 400, "CTL in value");
	bad("GET / HTTP/1.1\r\nHost: a\x7f\r\n\r\n", 400, "DEL in value");
	{
		static const char nul[] = "GET / HTTP/1.1\r\nX: a\0b\r\n"
		    "Host: a\r\n\r\n";
		int r = preq_n(nul, sizeof(nul) - 1, MAX_HEADERS);

		ok(r == PARSE_BAD && rq.error == 400, "NUL in value -> 400");
	}
	good("GET / HTTP/1.1\r\nHost: a\r\nX:\tv\t\r\n\r\n", "HTAB as OWS");
	ok(vis(hdrs[1].value, "v"), "HTAB trimmed");
}

static void
test_host(void)
{
	bad("GET / HTTP/1.1\r\nX: 1\r\n\r\n", 400, "HTTP/1.1 without Host");
	bad("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "two Hosts");
	bad("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400,
	    "two Hosts, any case");
	bad("GET / HTTP/1.1\r\nHost:\r\n\r\n", 400, "empty Host");
	bad("GET / HTTP/1.1\r\nHost:   \r\n\r\n", 400, "blank Host");
	bad("GET http://a/ HTTP/1.1\r\n\r\n", 400,
	    "absolute-form still needs Host in 1.1");
	good("GET / HTTP/1.1\r\nhOsT: Example.COM:80\r\n\r\n", "Host any case");
	ok(vis(rq.host, "Example.COM:80"), "Host value as written");
}

static void
test_length(void)
{
	good("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n", "CL");
	is_int(rq.content_length, 42, "CL value");
	is_int(http_request_body(&rq), HTTP_BODY_LENGTH, "body by length");
	good("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", "CL 0");
	is_int(rq.content_length, 0, "CL 0 value");
	is_int(http_request_body(&rq), HTTP_BODY_NONE, "CL 0: no body");
	good("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "content-length: 5\r\n\r\n", "identical CLs");
	is_int(rq.content_length, 5, "identical CLs value");
	good("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 , 5,5\r\n\r\n",
	    "identical CL list");
	is_int(rq.content_length, 5, "CL list value");
	good("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n",
	    "leading zeros");
	is_int(rq.content_length, 7, "leading zeros value");
	good("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 9223372036854775807\r\n\r\n", "CL INT64_MAX");
	ok(rq.content_length == INT64_MAX, "CL INT64_MAX value");

	bad("POST / HTTP/1.1\r\nHost: a\r\n"
	    "Content-Length: 9223372036854775808\r\n\r\n", 400, "CL overflow");
	bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", 400,
	    "CL sign");
	bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400,
	    "CL negative");
	bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", 400,
	    "CL inner space");
	bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n", 400,
	    "CL hex");
	bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5a\r\n\r\n", 400,
	    "CL trailing junk");
	bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400,
	    "CL empty");
	bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\n", 400,
	    "CL empty element");
	bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Content-Length: 6\r\n\r\n", 400, "differing CLs");
	bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", 400,
	    "differing CL list");
	bad("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400, "CL and TE");
	bad("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Content-Length: 5\r\n\r\n", 400, "TE and CL");
	bad("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
	    "TE in HTTP/1.0");

	good("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
	    "chunked");
	ok(rq.chunked && rq.te_present, "chunked flags");
	is_int(http_request_body(&rq), HTTP_BODY_CHUNKED, "body chunked");
	good("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  ChUnKeD \r\n\r\n",
	    "chunked any case");
	ok(rq.chunked, "chunked any case flag");
	bad("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n"
	    "\r\n", 501, "gzip, chunked");
	bad("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked"
	    "\r\n\r\n", 501, "chunked, chunked");
	bad("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 501, "two TE fields");
	bad("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n",
	    501, "identity");
	bad("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n"
	    "\r\n", 501, "chunked with a parameter");
	bad("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 501,
	    "empty TE");
}

static void
test_derived(void)
{
	good("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n"
	    "connection: foo,  CLOSE ,\r\n\r\n", "Connection lists");
	ok(rq.conn_close && rq.conn_keep_alive, "close and keep-alive seen");
	ok(!http_req_keep_alive(&rq), "close wins");
	good("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\n"
	    "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    "websocket upgrade");
	ok(rq.upgrade_websocket && rq.upgrade && rq.conn_upgrade,
	    "upgrade_websocket");
	good("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n",
	    "Upgrade without Connection");
	ok(!rq.upgrade_websocket && !rq.upgrade, "no upgrade without token");
	good("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c, HTTP/2.0\r\n"
	    "Connection: upgrade, HTTP2-Settings\r\n\r\n", "h2c upgrade");
	ok(rq.upgrade && !rq.upgrade_websocket, "other upgrade");
	good("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n"
	    "Content-Length: 3\r\n\r\n", "Expect");
	ok(rq.expect_continue && !rq.expect_other, "expect_continue");
	good("PUT / HTTP/1.1\r\nHost: a\r\nExpect: something\r\n\r\n",
	    "other Expect");
	ok(!rq.expect_continue && rq.expect_other, "expect_other");
	bad("GET / HTTP/1.1\r\nHost: a\r\nConnection: close;x\r\n\r\n", 400,
	    "bad Connection syntax");
	bad("GET / HTTP/1.1\r\nHost: a\r\nConnection: a b\r\n\r\n", 400,
	    "Connection tokens without comma");
}

static void
test_limits(void)
{
	static char big[MAX_REQ_HEAD + 64];
	const char *pre = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
	const char *two = "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\r\n";
	size_t plen = strlen(pre), n, i;
	int r;

	/* A head of exactly MAX_REQ_HEAD bytes. */
	n = MAX_REQ_HEAD;
	memcpy(big, pre, plen);
	memset(big + plen, 'v', n - plen - 4);
	memcpy(big + n - 4, "\r\n\r\n", 4);
	r = preq_n(big, n, MAX_HEADERS);
	is_int(r, MAX_REQ_HEAD, "head of exactly MAX_REQ_HEAD bytes");
	is_int(hdrs[1].value.n, n - plen - 4, "long value intact");
	/* One byte more. */
	n = MAX_REQ_HEAD + 1;
	memset(big + plen, 'v', n - plen - 4);
	memcpy(big + n - 4, "\r\n\r\n", 4);
	r = preq_n(big, n, MAX_HEADERS);
	ok(r == PARSE_BAD && rq.error == 431, "MAX_REQ_HEAD + 1 -> 431");
	/* Incomplete at the limit: never wait forever. */
	r = preq_n(big, MAX_REQ_HEAD, MAX_HEADERS);
	ok(r == PARSE_BAD && rq.error == 431, "incomplete at the limit -> 431");
	r = preq_n(big, MAX_REQ_HEAD - 1, MAX_HEADERS);
	is_int(r, PARSE_INCOMPLETE, "incomplete below the limit");

	/* MAX_HEADERS fields, then one more. */
	n = 0;
	n += (size_t)sprintf(big + n, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 1; i < MAX_HEADERS; i++)
		n += (size_t)sprintf(big + n, "X-%zu: %zu\r\n", i, i);
	memcpy(big + n, "\r\n", 2);
	r = preq_n(big, n + 2, MAX_HEADERS + 8);
	is_int(r, (int)(n + 2), "MAX_HEADERS fields accepted");
	is_int(nhdrs, MAX_HEADERS, "MAX_HEADERS fields stored");
	n += (size_t)sprintf(big + n, "X-last: 1\r\n\r\n");
	r = preq_n(big, n, MAX_HEADERS + 8);
	ok(r == PARSE_BAD && rq.error == 431, "MAX_HEADERS + 1 fields -> 431");
	n = strlen(two);
	r = preq_n(two, n, 1);
	ok(r == PARSE_BAD && rq.error == 431, "more fields than capacity");
	r = preq_n(two, n, 2);
	is_int(r, (int)n, "fields fill the capacity exactly");
}

static int
same_req(const struct http_req *a, const char *ba, const struct http_req *b,
    const char *bb)
{
#define OFF(v, base) ((v).p - (base))
	return a->error == b->error && a->minor == b->minor &&
	    a->form == b->form && a->host_count == b->host_count &&
	    a->content_length == b->content_length &&
	    a->chunked == b->chunked && a->te_present == b->te_present &&
	    a->conn_close == b->conn_close &&
	    a->conn_keep_alive == b->conn_keep_alive &&
	    a->upgrade_websocket == b->upgrade_websocket &&
	    a->expect_continue == b->expect_continue &&
	    a->method.n == b->method.n && a->target.n == b->target.n &&
	    a->host.n == b->host.n &&
	    OFF(a->method, ba) == OFF(b->method, bb) &&
	    OFF(a->target, ba) == OFF(b->target, bb) &&
	    OFF(a->host, ba) == OFF(b->host, bb);
#undef OFF
}

/*
 * Feeds <s> split at every point k (a call on k bytes, then one on all
 * bytes with prev_len = k), and byte by byte, and compares with one call on
 * the whole.
 */
static void
splits(const char *s, const char *what)
{
	size_t len = strlen(s), k, n1, n2;
	char *whole = malloc(len), *part;
	const char *base;
	struct http_req r1, r2;
	struct http_hdr h1[MAX_HEADERS], h2[MAX_HEADERS];
	int w, a, b, same = 1;

	memcpy(whole, s, len);
	n1 = MAX_HEADERS;
	w = http_parse_request(whole, len, 0, &r1, h1, &n1);
	for (k = 0; k < len && same; k++) {
		part = malloc(k ? k : 1);
		memcpy(part, s, k);
		n2 = MAX_HEADERS;
		a = http_parse_request(part, k, 0, &r2, h2, &n2);
		base = part;
		if (a == PARSE_INCOMPLETE) {
			n2 = MAX_HEADERS;
			b = http_parse_request(whole, len, k, &r2, h2, &n2);
			base = whole;
		} else
			b = a;
		if (b != w || (w != PARSE_INCOMPLETE && r2.error != r1.error))
			same = 0;
		else if (w > 0 && (!same_req(&r1, whole, &r2, base) ||
		    n1 != n2))
			same = 0;
		free(part);
		if (!same)
			tap_diag("split at %zu: %d/%d vs %d/%d", k, b,
			    r2.error, w, r1.error);
	}
	ok(same, "%s: every split gives the whole's answer (%d)", what, w);

	/* Byte by byte, prev_len growing by one. */
	for (k = 1, b = PARSE_INCOMPLETE; k <= len; k++) {
		n2 = MAX_HEADERS;
		b = http_parse_request(whole, k, k - 1, &r2, h2, &n2);
		if (b != PARSE_INCOMPLETE)
			break;
	}
	ok(b == w && (w == PARSE_INCOMPLETE || r2.error == r1.error),
	    "%s: byte by byte gives the whole's answer", what);
	free(whole);
}

static void
test_incremental(void)
{
	splits("GET /a HTTP/1.1\r\nHost: a.example\r\nX: y\r\n\r\n", "GET");
	splits("\r\nPOST http://h:1/p?q HTTP/1.1\r\nHost: h:1\r\n"
	    "Content-Length: 3\r\nConnection: close\r\n\r\nabc", "POST + body");
	splits("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", "CONNECT");
	splits("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n bad\r\n\r\n", "obs-fold");
	splits("GET / HTTP/2.0\r\nHost: a\r\n\r\n", "505");
	splits("GET / HTTP/1.1\r\nHost: a\nB: 1\r\n\r\n", "bare LF");
	splits("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
	    "501");
	splits("GET / HTTP/1.1\r\nHost: a\r\n", "incomplete");

	is_int(preq("GET / HTTP/1.1\r\nHost: a\r\n"), PARSE_INCOMPLETE,
	    "no blank line yet");
	is_int(preq("GET / HTT"), PARSE_INCOMPLETE, "partial request line");
	is_int(preq(""), PARSE_INCOMPLETE, "empty input");
	is_int(preq("\r"), PARSE_INCOMPLETE, "lone CR");
	is_int(preq("\r\n"), PARSE_INCOMPLETE, "lone CRLF");
	/* Early verdicts: no need to wait for the end of the head. */
	bad("GET / HTTP/2.0\r\nHost: a", 505, "early 505");
	bad("\x16\x03\x01\x02\x05\x01\r\n", 400, "early 400 for a binary line");
	bad("GET / HTTP/1.1\r\nHost: a\nX", 400, "early bare LF");
}

static void
test_pipelined(void)
{
	const char *s = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
	    "GET /2 HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
	size_t len = strlen(s), first = strlen("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
	const char *b = guard_copy(s, len);
	int r;

	nhdrs = MAX_HEADERS;
	r = http_parse_request(b, len, 0, &rq, hdrs, &nhdrs);
	is_int(r, (int)first, "first of two pipelined heads");
	ok(vis(rq.target, "/1") && vis(rq.host, "a") && !rq.conn_close,
	    "first head's fields only");
	nhdrs = MAX_HEADERS;
	r = http_parse_request(b + first, len - first, 0, &rq, hdrs, &nhdrs);
	is_int(r, (int)(len - first), "second pipelined head");
	ok(vis(rq.target, "/2") && vis(rq.host, "b") && rq.conn_close,
	    "second head's fields");
}

static void
test_response(void)
{
	int r;

	r = presp("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n"
	    "Content-Type: text/plain\r\n\r\n");
	ok(r > 0 && rs.status == 200 && rs.minor == 1, "200 OK");
	ok(vis(rs.reason, "OK"), "reason");
	is_int(rs.content_length, 12, "response CL");
	is_int(nhdrs, 2, "response fields");
	is_int(http_response_body(&rs, 0), HTTP_BODY_LENGTH, "by length");
	is_int(http_response_body(&rs, 1), HTTP_BODY_NONE, "HEAD: no body");
	ok(http_resp_keep_alive(&rs), "1.1 response keeps alive");

	r = presp("HTTP/1.1 204 No Content\r\n\r\n");
	ok(r > 0 && rs.status == 204, "204");
	is_int(http_response_body(&rs, 0), HTTP_BODY_NONE, "204: no body");
	r = presp("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n");
	ok(r > 0 && rs.status == 304, "304 with CL");
	is_int(http_response_body(&rs, 0), HTTP_BODY_NONE, "304: no body");
	r = presp("HTTP/1.1 100 Continue\r\n\r\n");
	ok(r > 0 && rs.status == 100, "100 Continue");
	is_int(http_response_body(&rs, 0), HTTP_BODY_NONE, "1xx: no body");
	r = presp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	ok(r > 0 && rs.chunked, "chunked response");
	is_int(http_response_body(&rs, 0), HTTP_BODY_CHUNKED, "by chunks");
	r = presp("HTTP/1.0 200 OK\r\nServer: x\r\n\r\n");
	ok(r > 0 && rs.minor == 0, "HTTP/1.0 response");
	is_int(http_response_body(&rs, 0), HTTP_BODY_CLOSE, "until close");
	ok(!http_resp_keep_alive(&rs), "1.0 response closes");
	r = presp("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
	is_int(http_response_body(&rs, 0), HTTP_BODY_NONE, "CL 0: none");
	r = presp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
	    "Connection: Upgrade\r\n\r\n");
	ok(r > 0 && rs.status == 101 && rs.upgrade && rs.upgrade_websocket,
	    "101 websocket");
	r = presp("HTTP/1.1 200 \r\n\r\n");
	ok(r > 0 && rs.reason.n == 0, "empty reason after SP");
	r = presp("HTTP/1.1 404\r\n\r\n");
	ok(r > 0 && rs.status == 404 && rs.reason.n == 0, "no SP, no reason");
	r = presp("HTTP/1.1 500 Internal \xe9rror\t!\r\nConnection: close\r\n\r\n");
	ok(r > 0 && rs.status == 500 && rs.conn_close &&
	    vis(rs.reason, "Internal \xe9rror\t!"), "odd reason, close");
	ok(!http_resp_keep_alive(&rs), "close response");

	ok(presp("HTTP/2 200 OK\r\n\r\n") == PARSE_BAD && rs.error == 502,
	    "HTTP/2 status line -> 502");
	ok(presp("HTTP/1.1 20 OK\r\n\r\n") == PARSE_BAD, "two-digit status");
	ok(presp("HTTP/1.1 099 X\r\n\r\n") == PARSE_BAD, "status below 100");
	ok(presp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n") == PARSE_BAD, "resp CL+TE");
	ok(presp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	    "Content-Length: 2\r\n\r\n") == PARSE_BAD, "resp differing CL");
	ok(presp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")
	    == PARSE_BAD, "resp TE gzip, chunked");
	ok(presp("HTTP/1.1 200 OK\r\nX: 1\r\n folded\r\n\r\n") == PARSE_BAD,
	    "resp obs-fold");
	ok(presp("HTTP/1.1 200 OK\nX: 1\r\n\r\n") == PARSE_BAD, "resp bare LF");
	ok(presp("HTTP/1.1 200 OK\r\n") == PARSE_INCOMPLETE, "resp incomplete");
	ok(presp("HTTP/1.3 200 OK\r\n") == PARSE_BAD, "resp early bad version");

	ok(!http_response_has_body(1, 200), "HEAD: never a body");
	ok(!http_response_has_body(0, 199) && !http_response_has_body(0, 204)
	    && !http_response_has_body(0, 304), "1xx/204/304: no body");
	ok(http_response_has_body(0, 200) && http_response_has_body(0, 404) &&
	    http_response_has_body(0, 205), "others have a body");
}

static void
test_response_splits(void)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
	    "Connection: keep-alive\r\n\r\nabc";
	size_t len = strlen(s), k, n1, n2;
	struct http_resp r1, r2;
	struct http_hdr h1[8], h2[8];
	int w, b, same = 1;

	n1 = 8;
	w = http_parse_response(s, len, 0, &r1, h1, &n1);
	is_int(w, (int)len - 3, "response head length");
	for (k = 0; k < len; k++) {
		n2 = 8;
		b = http_parse_response(s, k, 0, &r2, h2, &n2);
		if (b == PARSE_INCOMPLETE) {
			n2 = 8;
			b = http_parse_response(s, len, k, &r2, h2, &n2);
		}
		if (b != w || r2.status != r1.status || n2 != n1 ||
		    r2.content_length != r1.content_length)
			same = 0;
	}
	ok(same, "response: every split gives the same answer");
}

static void
test_helpers(void)
{
	static const char *const hop[] = {
		"Connection", "keep-alive", "PROXY-CONNECTION",
		"Proxy-Authorization", "Proxy-Authenticate", "te", "Trailer",
		"Transfer-Encoding", "Upgrade"
	};
	static const char *const e2e[] = {
		"Host", "Content-Length", "TEE", "Trailers", "Upgrade-Insecure-Requests",
		"X-Connection", ""
	};
	const struct http_hdr *h;
	size_t i;
	int all = 1;

	for (i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		all &= http_is_hop_by_hop(view_cstr(hop[i]));
	ok(all, "hop-by-hop fields");
	for (i = 0, all = 1; i < sizeof(e2e) / sizeof(e2e[0]); i++)
		all &= !http_is_hop_by_hop(view_cstr(e2e[i]));
	ok(all, "end-to-end fields");

	good("GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Foo, close\r\n"
	    "X-Foo: 1\r\nX-Bar: 2\r\nConnection: x-baz\r\nX-Baz: 3\r\n\r\n",
	    "Connection naming fields");
	ok(http_conn_lists(hdrs, nhdrs, VIEW_LIT("x-foo")),
	    "Connection lists X-Foo");
	ok(http_conn_lists(hdrs, nhdrs, VIEW_LIT("X-BAZ")),
	    "second Connection field lists X-Baz");
	ok(!http_conn_lists(hdrs, nhdrs, VIEW_LIT("X-Bar")),
	    "X-Bar is not listed");
	ok(!http_conn_lists(hdrs, nhdrs, VIEW_LIT("X-Fo")), "no prefix match");
	ok(http_hdr_is_hop(hdrs, nhdrs, VIEW_LIT("X-Foo")) &&
	    http_hdr_is_hop(hdrs, nhdrs, VIEW_LIT("TE")) &&
	    !http_hdr_is_hop(hdrs, nhdrs, VIEW_LIT("Host")), "http_hdr_is_hop");

	h = http_hdr_find(hdrs, nhdrs, VIEW_LIT("connection"));
	ok(h == &hdrs[1], "find first Connection");
	h = http_hdr_find(h + 1, nhdrs - (size_t)(h + 1 - hdrs),
	    VIEW_LIT("CONNECTION"));
	ok(h == &hdrs[4] && vis(h->value, "x-baz"), "find next Connection");
	ok(http_hdr_find(h + 1, nhdrs - (size_t)(h + 1 - hdrs),
	    VIEW_LIT("Connection")) == NULL, "no third Connection");
	ok(http_hdr_find(hdrs, nhdrs, VIEW_LIT("Missing")) == NULL,
	    "missing field");

	for (i = 0, all = 1; i <= HTTP_FORM_ASTERISK; i++)
		all &= strcmp(http_form_str((enum http_form)i), "?") != 0;
	ok(all, "every form has a name");
	for (i = 0, all = 1; i <= HTTP_BODY_CLOSE; i++)
		all &= strcmp(http_body_str((enum http_body)i), "?") != 0;
	ok(all, "every body kind has a name");
}

static void
test_lexers(void)
{
	const char *s = "a , b/1,,c";
	const char *cur = s, *lim = s + strlen(s);
	enum http_list_tok t[8];
	int i = 0;

	while (i < 8 && (t[i] = http_head_list(&cur, lim)) != HTTP_LIST_END &&
	    t[i] != HTTP_LIST_BAD)
		i++;
	ok(i == 6 && t[0] == HTTP_LIST_TOKEN && t[1] == HTTP_LIST_COMMA &&
	    t[2] == HTTP_LIST_TOKEN && t[3] == HTTP_LIST_COMMA &&
	    t[4] == HTTP_LIST_COMMA && t[5] == HTTP_LIST_TOKEN &&
	    t[6] == HTTP_LIST_END, "list tokens");
	/* A request line cut before its CRLF never matches. */
	{
		struct http_rline rl;
		const char *line = "GET / HTTP/1.1\r\n";
		const char *b = guard_copy(line, 15);

		ok(http_head_request_line(b, b + 15, &rl) == -1,
		    "request line without its LF");
	}
}

void
test_runtime__http_c(void)
{
	test_basic();
	test_request_line();
	test_forms();
	test_fields();
	test_host();
	test_length();
	test_derived();
	test_limits();
	test_incremental();
	test_pipelined();
	test_response();
	test_response_splits();
	test_helpers();
	test_lexers();
}
