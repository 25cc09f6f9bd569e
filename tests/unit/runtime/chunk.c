/*
 * Tests runtime/chunk.c: valid bodies (extensions, trailers, several
 * chunks), every split point of sample bodies, byte-by-byte feeding, the
 * span limit per call, the end of the body before pipelined bytes, and
 * every framing error.  Inputs sit against a guard page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/chunk.c"
#include "tests/tap.h"

void test_runtime__chunk_c(void);

/* The result of decoding a whole input in pieces. */
struct result {
	int status;		/* PARSE_BAD, 1 (done) or 0 (not yet) */
	size_t consumed;	/* bytes consumed in total */
	char data[4096];
	size_t ndata;
	size_t framing;		/* consumed bytes that were not data */
};

/*
 * Feeds <n> bytes of <s> in pieces: piece i has size <cuts>[i % ncuts]
 * (0 = the rest), each piece placed against a guard page.  Stops at the
 * end of the body or at the first error.
 */
static void
decode(const char *s, size_t n, const size_t *cuts, size_t ncuts,
    struct result *res)
{
	struct chunk_dec dec;
	struct chunk_out out;
	size_t off = 0, piece, done, i, k = 0;
	const char *b;
	int r;

	memset(res, 0, sizeof(*res));
	chunk_init(&dec);
	while (off < n) {
		piece = ncuts ? cuts[k++ % ncuts] : 0;
		if (piece == 0 || piece > n - off)
			piece = n - off;
		b = guard_copy(s + off, piece);
		for (done = 0; done < piece;) {
			r = chunk_feed(&dec, b + done, piece - done, &out);
			if (r == PARSE_BAD) {
				res->status = PARSE_BAD;
				return;
			}
			for (i = 0; i < out.ndata; i++) {
				if (out.data[i].p < b + done ||
				    out.data[i].p + out.data[i].n > b + piece) {
					res->status = -99;	/* span outside in */
					return;
				}
				memcpy(res->data + res->ndata, out.data[i].p,
				    out.data[i].n);
				res->ndata += out.data[i].n;
				res->framing -= out.data[i].n;
			}
			res->framing += (size_t)r;
			done += (size_t)r;
			res->consumed += (size_t)r;
			if (out.done) {
				res->status = 1;
				return;
			}
			if (r == 0)
				break;
		}
		off += piece;
	}
	res->status = chunk_done(&dec);
}

static void
whole(const char *s, struct result *res)
{
	decode(s, strlen(s), NULL, 0, res);
}

static void
good(const char *s, const char *data, const char *what)
{
	struct result res;

	whole(s, &res);
	ok(res.status == 1 && res.consumed == strlen(s) &&
	    res.ndata == strlen(data) && memcmp(res.data, data, res.ndata) == 0,
	    "%s: decoded (status %d, consumed %zu)", what, res.status,
	    res.consumed);
}

static void
bad(const char *s, const char *what)
{
	struct result res;

	whole(s, &res);
	is_int(res.status, PARSE_BAD, "%s: refused", what);
}

static void
test_valid(void)
{
	struct result res;

	good("5\r\nhello\r\n0\r\n\r\n", "hello", "one chunk");
	good("0\r\n\r\n", "", "empty body");
	good("000\r\n\r\n", "", "last-chunk with several zeros");
	good("3\r\nabc\r\nA\r\n0123456789\r\n1\r\nZ\r\n0\r\n\r\n",
	    "abc0123456789Z", "three chunks, upper-case hex");
	good("a\r\n0123456789\r\n0\r\n\r\n", "0123456789", "lower-case hex");
	good("0005\r\nhello\r\n0\r\n\r\n", "hello", "leading zeros");
	good("5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello", "extensions");
	good("5;a;b=c;d=\"q \\\" ;x\"\r\nhello\r\n0\r\n\r\n", "hello",
	    "quoted extension value with an escape");
	good("5 ; a = b\t;c\r\nhello\r\n0\r\n\r\n", "hello", "BWS in extensions");
	good("5;a=\"\"\r\nhello\r\n0\r\n\r\n", "hello", "empty quoted value");
	good("5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum: abc \t\r\n\r\n",
	    "hello", "trailers");
	good("0\r\nX:\r\n\r\n", "", "empty trailer value");
	good("2\r\n\r\n\r\n0\r\n\r\n", "\r\n", "data that looks like framing");
	good("1\r\n\xff\r\n0\r\nX: \x80\xff\r\n\r\n", "\xff", "binary data");

	/* The body ends before pipelined bytes. */
	{
		const char *s = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
		struct chunk_dec dec;
		struct chunk_out out;
		const char *b = guard_copy(s, strlen(s));
		int r;

		chunk_init(&dec);
		r = chunk_feed(&dec, b, strlen(s), &out);
		is_int(r, 13, "consumes only through the final CRLF");
		ok(out.done && chunk_done(&dec), "done");
		ok(out.ndata == 1 && out.data[0].p == b + 3 &&
		    out.data[0].n == 3, "one data span, a view into the input");
		r = chunk_feed(&dec, b + 13, strlen(s) - 13, &out);
		ok(r == 0 && out.ndata == 0 && !out.done,
		    "nothing more after the end");
		is_str(chunk_state_str(&dec), "done", "state name");
	}
	/* Incomplete bodies are not done. */
	whole("5\r\nhel", &res);
	ok(res.status == 0 && res.consumed == 6 && res.ndata == 3,
	    "partial data is reported");
	whole("5\r\nhello\r\n0\r\n", &res);
	ok(res.status == 0 && res.consumed == 13, "waiting for the final CRLF");
	whole("5\r\nhello\r\n0\r\nX: y\r\n", &res);
	ok(res.status == 0, "waiting after a trailer");
}

static void
test_sizes(void)
{
	struct chunk_dec dec;
	struct chunk_out out;
	const char *s;
	int r;

	/* MAX_CHUNK_SIZE itself is fine (only the size line is fed). */
	s = "4000000000000000\r\nab";
	chunk_init(&dec);
	r = chunk_feed(&dec, guard_copy(s, strlen(s)), strlen(s), &out);
	ok(r == (int)strlen(s) && dec.size == MAX_CHUNK_SIZE - 2 &&
	    out.ndata == 1 && out.data[0].n == 2, "2^62 accepted");
	is_str(chunk_state_str(&dec), "data", "state data");
	bad("4000000000000001\r\n", "2^62 + 1");
	bad("10000000000000000\r\n", "2^64");
	bad("ffffffffffffffffffffffff\r\n", "far beyond 2^64");
	good("00000000000000000000000000000001\r\nx\r\n0\r\n\r\n", "x",
	    "many leading zeros");
}

static void
test_errors(void)
{
	struct chunk_dec dec;
	struct chunk_out out;
	char line[MAX_CHUNK_LINE + 16];
	size_t n;
	int r;

	bad("g\r\n", "not hex");
	bad("\r\n", "empty size");
	bad("-1\r\n", "sign");
	bad("0x5\r\nhello\r\n0\r\n\r\n", "0x prefix");
	bad(" 5\r\nhello\r\n0\r\n\r\n", "leading space");
	bad("5 \r\nhello\r\n0\r\n\r\n", "BWS without extension");
	bad("5;\r\nhello\r\n0\r\n\r\n", "empty extension name");
	bad("5;a=\r\nhello\r\n0\r\n\r\n", "empty extension value");
	bad("5;a=b c\r\nhello\r\n0\r\n\r\n", "space inside a value");
	bad("5;a=\"x\r\nhello\r\n0\r\n\r\n", "unterminated quoted value");
	bad("5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", "junk after quoted value");
	bad("5;a@b\r\nhello\r\n0\r\n\r\n", "extension name not a token");
	bad("5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", "CTL in quoted value");
	bad("5\r\nhelloX\r\n0\r\n\r\n", "data longer than its size");
	bad("5\r\nhello0\r\n\r\n", "missing CRLF after data");
	bad("5\r\nhello\r0\r\n\r\n", "CR without LF after data");
	bad("5\nhello\r\n0\r\n\r\n", "bare LF after size");
	bad("5\r\nhello\n0\r\n\r\n", "bare LF after data");
	bad("5\rhello\r\n0\r\n\r\n", "bare CR after size");
	bad("0\r\n\n", "bare LF at the end");
	bad("0\r\n\rx", "CR then junk at the end");
	bad("0\r\nbad line\r\n\r\n", "trailer without colon");
	bad("0\r\nX : y\r\n\r\n", "space before colon in a trailer");
	bad("0\r\n folded\r\n\r\n", "obs-fold trailer");
	bad("0\r\nX: y\nZ: w\r\n\r\n", "bare LF in a trailer");
	bad("0\r\nX: a\x01\r\n\r\n", "CTL in a trailer value");
	bad("0\r\nX: a\x7f\r\n\r\n", "DEL in a trailer value");

	/* A chunk-size line of MAX_CHUNK_LINE bytes, then one more. */
	n = 0;
	line[n++] = '1';
	line[n++] = ';';
	line[n++] = 'a';
	line[n++] = '=';
	while (n < MAX_CHUNK_LINE)
		line[n++] = 'b';
	memcpy(line + n, "\r\nx\r\n0\r\n\r\n", 10);
	chunk_init(&dec);
	r = chunk_feed(&dec, guard_copy(line, n + 10), n + 10, &out);
	ok(r == (int)n + 10 && out.done, "chunk-size line of MAX_CHUNK_LINE");
	memmove(line + n + 1, line + n, 10);
	line[n] = 'b';
	chunk_init(&dec);
	r = chunk_feed(&dec, guard_copy(line, n + 11), n + 11, &out);
	is_int(r, PARSE_BAD, "chunk-size line of MAX_CHUNK_LINE + 1");
	is_str(chunk_state_str(&dec), "bad", "state bad");
	r = chunk_feed(&dec, "0\r\n\r\n", 5, &out);
	is_int(r, PARSE_BAD, "the decoder stays failed");

	/* The trailer section is bounded. */
	{
		static char t[MAX_CHUNK_TRAILER + 64];

		memcpy(t, "0\r\nX: ", 6);
		memset(t + 6, 'v', MAX_CHUNK_TRAILER);
		memcpy(t + 6 + MAX_CHUNK_TRAILER, "\r\n\r\n", 4);
		chunk_init(&dec);
		r = chunk_feed(&dec, t, MAX_CHUNK_TRAILER + 10, &out);
		is_int(r, PARSE_BAD, "trailer section over MAX_CHUNK_TRAILER");
	}
}

static void
test_spans(void)
{
	char body[1024];
	struct chunk_dec dec;
	struct chunk_out out;
	size_t n = 0, i, got = 0, off = 0;
	int r, calls = 0, first_ndata = -1;

	for (i = 0; i < 3 * MAX_CHUNK_SPANS; i++)
		n += (size_t)sprintf(body + n, "1\r\n%c\r\n", 'a' + (int)(i % 26));
	n += (size_t)sprintf(body + n, "0\r\n\r\n");
	chunk_init(&dec);
	while (off < n) {
		r = chunk_feed(&dec, body + off, n - off, &out);
		if (r <= 0)
			break;
		if (first_ndata == -1)
			first_ndata = (int)out.ndata;
		got += out.ndata;
		off += (size_t)r;
		calls++;
		if (out.done)
			break;
	}
	is_int(first_ndata, MAX_CHUNK_SPANS, "a call reports at most "
	    "MAX_CHUNK_SPANS spans");
	ok(off == n && got == 3 * MAX_CHUNK_SPANS && chunk_done(&dec),
	    "the caller resumes with the rest");
	ok(calls >= 3, "several calls were needed (%d)", calls);
}

/*
 * Every split into two pieces, and byte by byte, of <s>.  After an error
 * only the verdict is compared: data of earlier calls was already handed
 * out, and the caller closes the connection.
 */
static void
splits(const char *s, const char *what)
{
	struct result ref, res;
	size_t n = strlen(s), k, cuts[2], one = 1;
	int same = 1;

	whole(s, &ref);
	for (k = 1; k < n && same; k++) {
		cuts[0] = k;
		cuts[1] = 0;
		decode(s, n, cuts, 2, &res);
		if (res.status != ref.status || (ref.status != PARSE_BAD &&
		    (res.consumed != ref.consumed || res.ndata != ref.ndata ||
		    res.framing != ref.framing ||
		    memcmp(res.data, ref.data, ref.ndata) != 0))) {
			same = 0;
			tap_diag("split at %zu differs", k);
		}
	}
	ok(same, "%s: every split point gives the same data (status %d)",
	    what, ref.status);
	decode(s, n, &one, 1, &res);
	ok(res.status == ref.status && (ref.status == PARSE_BAD ||
	    (res.ndata == ref.ndata && res.consumed == ref.consumed &&
	    memcmp(res.data, ref.data, ref.ndata) == 0)),
	    "%s: byte by byte", what);
}

static void
test_splits(void)
{
	struct result a, b;
	const char *s = "4;ext=\"v;al\"\r\nWiki\r\n5\r\npedia\r\n"
	    "E ; x = y\r\n in\r\n\r\nchunks.\r\n0;z\r\nDate: today\r\n"
	    "X-T: 1\r\n\r\n";
	size_t i, j, n = strlen(s), cuts[3];
	int same = 1;

	splits(s, "sample body");
	whole(s, &a);
	ok(a.status == 1 && a.ndata == 23 &&
	    memcmp(a.data, "Wikipedia in\r\n\r\nchunks.", 23) == 0,
	    "sample body decoded");
	ok(a.framing == n - 23, "framing is everything but the data");
	splits("5\r\nhello\r\n0\r\n\r\nEXTRA", "body then pipelined bytes");
	splits("5\r\nhello\r\nX\r\n", "bad size after a chunk");
	splits("3\r\nabcd\r\n", "missing CRLF");
	splits("0\r\nA: b\r\n c\r\n\r\n", "folded trailer");

	/* Every pair of split points of a shorter body. */
	s = "3;a=b\r\nabc\r\n2\r\nde\r\n0\r\nT: v\r\n\r\n";
	n = strlen(s);
	whole(s, &a);
	for (i = 1; i < n; i++)
		for (j = 1; j < n - i; j++) {
			cuts[0] = i;
			cuts[1] = j;
			cuts[2] = 0;
			decode(s, n, cuts, 3, &b);
			if (b.status != a.status || b.ndata != a.ndata ||
			    memcmp(b.data, a.data, a.ndata) != 0)
				same = 0;
		}
	ok(same, "every pair of split points");
}

static void
test_state_names(void)
{
	struct chunk_dec dec;
	int st, all = 1;

	for (st = 0; st < ST_COUNT; st++) {
		dec.state = st;
		if (strcmp(chunk_state_str(&dec), "?") == 0)
			all = 0;
	}
	ok(all, "every state has a name");
	dec.state = ST_COUNT;
	is_str(chunk_state_str(&dec), "?", "unknown state");
}

void
test_runtime__chunk_c(void)
{
	test_valid();
	test_sizes();
	test_errors();
	test_spans();
	test_splits();
	test_state_names();
}
