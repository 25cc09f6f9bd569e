/*
 * Fuzz target for the HTTP head parsers (runtime/http.c over the scanners
 * of grammar/http_head.re).  The input is parsed as a request head and as
 * a response head: once whole, then split at points derived from the
 * input (a prefix call and a call with prev_len, and a three-step feed).
 * Besides memory errors it aborts when
 *   - a split feed gives a different verdict, error, head length or
 *     different fields than the whole input,
 *   - a view points outside the head, or a result breaks the contract
 *     (length beyond <len> or the limit, CL together with chunked, an
 *     HTTP/1.1 request without exactly one non-empty Host, an error status
 *     outside 400/431/501/505, PARSE_INCOMPLETE at the size limit).
 * Every buffer is malloc'ed with its exact size, so ASan sees an over-read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define CAP (MAX_HEADERS + 4)

static void
inside(struct view v, const char *base, size_t len)
{
	if (v.n == 0)
		return;
	if (v.p < base || v.p + v.n > base + len)
		abort();
}

static int
ows(char c)
{
	return c == ' ' || c == '\t';
}

static size_t
off(struct view v, const char *base)
{
	return v.n == 0 ? 0 : (size_t)(v.p - base);
}

static int
same_view(struct view a, const char *ba, struct view b, const char *bb)
{
	return a.n == b.n && off(a, ba) == off(b, bb);
}

static char *
copy(const uint8_t *data, size_t n)
{
	char *p = malloc(n ? n : 1);

	if (p == NULL)
		abort();
	memcpy(p, data, n);
	return p;
}

/* ---- requests ----------------------------------------------------------- */

struct req_run {
	int r;
	struct http_req q;
	struct http_hdr h[CAP];
	size_t n;
	const char *base;
};

static void
req_check(const struct req_run *x, size_t len)
{
	size_t i;

	if (x->r == PARSE_INCOMPLETE) {
		if (len >= MAX_REQ_HEAD)
			abort();
		return;
	}
	if (x->r == PARSE_BAD) {
		if (x->q.error != 400 && x->q.error != 431 &&
		    x->q.error != 501 && x->q.error != 505)
			abort();
		return;
	}
	if (x->r <= 0 || (size_t)x->r > len || x->r > MAX_REQ_HEAD ||
	    x->q.error != 0 || x->n > MAX_HEADERS)
		abort();
	if (memcmp(x->base + x->r - 4, "\r\n\r\n", 4) != 0)
		abort();
	inside(x->q.method, x->base, (size_t)x->r);
	inside(x->q.target, x->base, (size_t)x->r);
	inside(x->q.host, x->base, (size_t)x->r);
	if (x->q.method.n == 0 || x->q.target.n == 0)
		abort();
	if (x->q.chunked && x->q.content_length != -1)
		abort();
	if (x->q.te_present && !x->q.chunked)
		abort();
	if (x->q.host_count > 1 || (x->q.minor == 1 && x->q.host_count != 1))
		abort();
	if (x->q.host_count == 1 && x->q.host.n == 0)
		abort();
	if ((x->q.form == HTTP_FORM_AUTHORITY) !=
	    (x->q.method.n == 7 && memcmp(x->q.method.p, "CONNECT", 7) == 0))
		abort();
	for (i = 0; i < x->n; i++) {
		inside(x->h[i].name, x->base, (size_t)x->r);
		inside(x->h[i].value, x->base, (size_t)x->r);
		if (x->h[i].name.n == 0)
			abort();
		if (x->h[i].value.n > 0 && (ows(x->h[i].value.p[0]) ||
		    ows(x->h[i].value.p[x->h[i].value.n - 1])))
			abort();
	}
}

static void
req_same(const struct req_run *a, const struct req_run *b)
{
	size_t i;

	if (a->r != b->r)
		abort();
	if (a->r == PARSE_BAD && a->q.error != b->q.error)
		abort();
	if (a->r <= 0)
		return;
	if (!same_view(a->q.method, a->base, b->q.method, b->base) ||
	    !same_view(a->q.target, a->base, b->q.target, b->base) ||
	    !same_view(a->q.host, a->base, b->q.host, b->base) ||
	    a->q.minor != b->q.minor || a->q.form != b->q.form ||
	    a->q.content_length != b->q.content_length ||
	    a->q.chunked != b->q.chunked ||
	    a->q.conn_close != b->q.conn_close ||
	    a->q.conn_keep_alive != b->q.conn_keep_alive ||
	    a->q.upgrade_websocket != b->q.upgrade_websocket ||
	    a->q.expect_continue != b->q.expect_continue || a->n != b->n)
		abort();
	for (i = 0; i < a->n; i++)
		if (!same_view(a->h[i].name, a->base, b->h[i].name, b->base) ||
		    !same_view(a->h[i].value, a->base, b->h[i].value, b->base))
			abort();
}

static void
req_parse(struct req_run *x, const char *buf, size_t len, size_t prev)
{
	x->base = buf;
	x->n = CAP;
	x->r = http_parse_request(buf, len, prev, &x->q, x->h, &x->n);
	req_check(x, len);
}

static void
fuzz_request(const uint8_t *data, size_t size, size_t k1, size_t k2)
{
	static struct req_run w, s;
	char *whole = copy(data, size), *part;

	req_parse(&w, whole, size, 0);

	/* A prefix of k1 bytes, then the whole with prev_len = k1. */
	part = copy(data, k1);
	req_parse(&s, part, k1, 0);
	if (s.r == PARSE_INCOMPLETE)
		req_parse(&s, whole, size, k1);
	req_same(&w, &s);
	free(part);

	/* Three steps: k1, k2, whole, each on its own prefix buffer. */
	part = copy(data, k1);
	req_parse(&s, part, k1, 0);
	free(part);
	if (s.r == PARSE_INCOMPLETE) {
		part = copy(data, k2);
		req_parse(&s, part, k2, k1);
		if (s.r != PARSE_INCOMPLETE) {
			/* a final answer on a prefix is the whole's answer */
			req_same(&w, &s);
			free(part);
			free(whole);
			return;
		}
		free(part);
		req_parse(&s, whole, size, k2);
		req_same(&w, &s);
	}
	free(whole);
}

/* ---- responses ---------------------------------------------------------- */

struct resp_run {
	int r;
	struct http_resp p;
	struct http_hdr h[CAP];
	size_t n;
	const char *base;
};

static void
resp_parse(struct resp_run *x, const char *buf, size_t len, size_t prev)
{
	size_t i;

	x->base = buf;
	x->n = CAP;
	x->r = http_parse_response(buf, len, prev, &x->p, x->h, &x->n);
	if (x->r == PARSE_INCOMPLETE) {
		if (len >= MAX_RESP_HEAD)
			abort();
		return;
	}
	if (x->r == PARSE_BAD) {
		if (x->p.error != 502)
			abort();
		return;
	}
	if (x->r <= 0 || (size_t)x->r > len || x->r > MAX_RESP_HEAD ||
	    x->p.status < 100 || x->p.status > 999 || x->n > MAX_HEADERS ||
	    (x->p.chunked && x->p.content_length != -1))
		abort();
	inside(x->p.reason, buf, (size_t)x->r);
	for (i = 0; i < x->n; i++) {
		inside(x->h[i].name, buf, (size_t)x->r);
		inside(x->h[i].value, buf, (size_t)x->r);
	}
	if (http_response_body(&x->p, 1) != HTTP_BODY_NONE)
		abort();
}

static void
resp_same(const struct resp_run *a, const struct resp_run *b)
{
	size_t i;

	if (a->r != b->r)
		abort();
	if (a->r <= 0)
		return;
	if (a->p.status != b->p.status || a->p.minor != b->p.minor ||
	    a->p.content_length != b->p.content_length ||
	    a->p.chunked != b->p.chunked || a->p.upgrade != b->p.upgrade ||
	    !same_view(a->p.reason, a->base, b->p.reason, b->base) ||
	    a->n != b->n)
		abort();
	for (i = 0; i < a->n; i++)
		if (!same_view(a->h[i].value, a->base, b->h[i].value, b->base))
			abort();
}

static void
fuzz_response(const uint8_t *data, size_t size, size_t k1)
{
	static struct resp_run w, s;
	char *whole = copy(data, size), *part = copy(data, k1);

	resp_parse(&w, whole, size, 0);
	resp_parse(&s, part, k1, 0);
	if (s.r == PARSE_INCOMPLETE)
		resp_parse(&s, whole, size, k1);
	resp_same(&w, &s);
	free(part);
	free(whole);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t h = 2166136261u;
	size_t i, k1, k2;

	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	k1 = size ? h % (size + 1) : 0;
	k2 = k1 + (size > k1 ? (h >> 16) % (size - k1 + 1) : 0);
	fuzz_request(data, size, k1, k2);
	fuzz_response(data, size, k1);
	return 0;
}
