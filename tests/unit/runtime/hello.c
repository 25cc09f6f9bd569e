/*
 * Tests runtime/hello.c on real ClientHellos captured from wolfSSL clients
 * (through memory I/O callbacks, no socket), on the same bytes re-split
 * into many records and truncated at every length, and on hand-made
 * malformed ones.  Inputs sit against a guard page (guard_copy).
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include <stdio.h>
#include <string.h>

#include "runtime/hello.c"
#include "tests/tap.h"

void test_runtime__hello_c(void);

struct capture {
	unsigned char buf[HELLO_MAX_LEN];
	size_t n;
};

static int
cap_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct capture *c = ctx;

	(void)ssl;
	if ((size_t)sz > sizeof(c->buf) - c->n)
		return WOLFSSL_CBIO_ERR_GENERAL;
	memcpy(c->buf + c->n, buf, (size_t)sz);
	c->n += (size_t)sz;
	return sz;
}

static int
cap_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	(void)ssl;
	(void)buf;
	(void)sz;
	(void)ctx;
	return WOLFSSL_CBIO_ERR_WANT_READ;
}

/*
 * The first flight of a wolfSSL client with <sni> (or none) and the ALPN
 * list <alpn> (or none); <tls12> restricts it to TLS 1.2.
 */
static size_t
capture_hello(struct capture *c, const char *sni, const char *alpn,
    int tls12)
{
	WOLFSSL_CTX *ctx;
	WOLFSSL *ssl;
	char list[64];

	c->n = 0;
	ctx = wolfSSL_CTX_new(tls12 ? wolfTLSv1_2_client_method() :
	    wolfSSLv23_client_method());
	if (ctx == NULL)
		return 0;
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
	wolfSSL_CTX_SetIORecv(ctx, cap_recv);
	wolfSSL_CTX_SetIOSend(ctx, cap_send);
	ssl = wolfSSL_new(ctx);
	if (ssl != NULL) {
		wolfSSL_SetIOReadCtx(ssl, c);
		wolfSSL_SetIOWriteCtx(ssl, c);
		if (sni != NULL)
			wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, sni,
			    (unsigned short)strlen(sni));
		if (alpn != NULL) {
			snprintf(list, sizeof(list), "%s", alpn);
			wolfSSL_UseALPN(ssl, list, (unsigned)strlen(list),
			    WOLFSSL_ALPN_CONTINUE_ON_MISMATCH);
		}
		(void)wolfSSL_connect(ssl);
		wolfSSL_free(ssl);
	}
	wolfSSL_CTX_free(ctx);
	return c->n;
}

static int
parse(const unsigned char *p, size_t n, struct hello *h)
{
	return hello_parse((const unsigned char *)guard_copy(p, n), n, h);
}

/* Re-frames the handshake message of one-record <in> into records of at
 * most <chunk> payload bytes. */
static size_t
refragment(const unsigned char *in, size_t n, size_t chunk,
    unsigned char *out, size_t cap)
{
	size_t off = REC_HEADER, o = 0, k;

	while (off < n) {
		k = n - off < chunk ? n - off : chunk;
		if (o + REC_HEADER + k > cap)
			return 0;
		out[o] = 22;
		out[o + 1] = in[1];
		out[o + 2] = in[2];
		out[o + 3] = (unsigned char)(k >> 8);
		out[o + 4] = (unsigned char)k;
		memcpy(out + o + REC_HEADER, in + off, k);
		o += REC_HEADER + k;
		off += k;
	}
	return o;
}

/*
 * A minimal hand-made ClientHello: extensions <ext> (<elen> bytes) go in
 * as they are.  Returns the record length.
 */
static size_t
make_hello(unsigned char *out, const unsigned char *ext, size_t elen)
{
	unsigned char body[2048];
	size_t b = 0, hs;

	body[b++] = 3;
	body[b++] = 3;
	memset(body + b, 0xab, 32);
	b += 32;
	body[b++] = 0;			/* session id */
	body[b++] = 0;
	body[b++] = 2;
	body[b++] = 0x13;
	body[b++] = 0x01;		/* TLS_AES_128_GCM_SHA256 */
	body[b++] = 1;
	body[b++] = 0;			/* null compression */
	if (ext != NULL) {
		body[b++] = (unsigned char)(elen >> 8);
		body[b++] = (unsigned char)elen;
		memcpy(body + b, ext, elen);
		b += elen;
	}
	hs = b + 4;
	out[0] = 22;
	out[1] = 3;
	out[2] = 1;
	out[3] = (unsigned char)(hs >> 8);
	out[4] = (unsigned char)hs;
	out[5] = 1;
	out[6] = 0;
	out[7] = (unsigned char)(b >> 8);
	out[8] = (unsigned char)b;
	memcpy(out + 9, body, b);
	return 9 + b;
}

/* server_name extension with one name of <type>. */
static size_t
sni_ext(unsigned char *out, unsigned type, const char *name)
{
	size_t n = strlen(name);

	out[0] = 0;
	out[1] = 0;
	out[2] = (unsigned char)((n + 5) >> 8);
	out[3] = (unsigned char)(n + 5);
	out[4] = (unsigned char)((n + 3) >> 8);
	out[5] = (unsigned char)(n + 3);
	out[6] = (unsigned char)type;
	out[7] = (unsigned char)(n >> 8);
	out[8] = (unsigned char)n;
	memcpy(out + 9, name, n);
	return 9 + n;
}

static void
test_captured(void)
{
	static struct capture c;
	static unsigned char frag[HELLO_MAX_LEN];
	struct hello h;
	size_t n, fn, i;
	int r, bad = 0;

	n = capture_hello(&c, "Example.COM", "h2,http/1.1", 0);
	ok(n > 5 && c.buf[0] == 22, "captured a TLS 1.3 ClientHello (%zu bytes)",
	    n);
	r = parse(c.buf, n, &h);
	is_int(r, (long long)n, "whole hello consumed");
	is_mem(h.sni.p, h.sni.n, "example.com", 11, "SNI lowercased");
	ok(h.alpn && h.alpn_http11 && h.alpn_h2, "ALPN offers h2 and http/1.1");
	for (i = 0; i < n; i++) {
		r = parse(c.buf, i, &h);
		if (r != HELLO_INCOMPLETE)
			bad++;
	}
	is_int(bad, 0, "every proper prefix is INCOMPLETE");

	fn = refragment(c.buf, n, 7, frag, sizeof(frag));
	r = parse(frag, fn, &h);
	is_int(r, (long long)fn, "hello split over %zu records", (fn + 11) / 12);
	is_mem(h.sni.p, h.sni.n, "example.com", 11, "SNI across records");
	for (bad = 0, i = 0; i < fn; i++)
		if (parse(frag, i, &h) != HELLO_INCOMPLETE)
			bad++;
	is_int(bad, 0, "every prefix of the split hello is INCOMPLETE");

	n = capture_hello(&c, "api.example.org", "http/1.1", 1);
	r = parse(c.buf, n, &h);
	is_int(r, (long long)n, "TLS 1.2 client hello");
	is_mem(h.sni.p, h.sni.n, "api.example.org", 15, "TLS 1.2 SNI");
	ok(h.alpn_http11 && !h.alpn_h2, "http/1.1 only");
	is_int(h.version, 0x0303, "legacy_version 3.3");

	n = capture_hello(&c, NULL, NULL, 0);
	r = parse(c.buf, n, &h);
	is_int(r, (long long)n, "hello without SNI or ALPN");
	is_int(h.sni.n, 0, "no SNI");
	ok(!h.alpn && !h.alpn_http11, "no ALPN");

	n = capture_hello(&c, "h2only.test", "h2", 0);
	r = parse(c.buf, n, &h);
	ok(r > 0 && h.alpn && h.alpn_h2 && !h.alpn_http11, "h2-only client");

	/* bytes after the hello (a following record) are not consumed */
	n = capture_hello(&c, "x.test", NULL, 0);
	memcpy(c.buf + n, "\x14\x03\x03\x00\x01\x01", 6);
	r = parse(c.buf, n + 6, &h);
	is_int(r, (long long)n, "stops at the end of the hello's record");
}

static void
test_handmade(void)
{
	unsigned char ext[1024], rec[4096];
	struct hello h;
	size_t e, n;
	char big[300];

	e = sni_ext(ext, 0, "Foo.Example.");
	n = make_hello(rec, ext, e);
	is_int(parse(rec, n, &h), (long long)n, "hand-made hello");
	is_str(h.host, "foo.example", "trailing dot dropped, lowercased");

	n = make_hello(rec, NULL, 0);
	is_int(parse(rec, n, &h), (long long)n, "no extensions at all");
	is_int(h.sni.n, 0, "and no SNI");

	e = sni_ext(ext, 0, "exa mple.com");
	n = make_hello(rec, ext, e);
	is_int(parse(rec, n, &h), HELLO_BAD, "space in SNI");
	e = sni_ext(ext, 0, "a..b");
	n = make_hello(rec, ext, e);
	is_int(parse(rec, n, &h), HELLO_BAD, "empty label in SNI");
	e = sni_ext(ext, 0, "a\xc3\xa9.com");
	n = make_hello(rec, ext, e);
	is_int(parse(rec, n, &h), HELLO_BAD, "non-ASCII SNI");
	memset(big, 'a', 64);
	memcpy(big + 64, ".com", 5);
	e = sni_ext(ext, 0, big);
	n = make_hello(rec, ext, e);
	is_int(parse(rec, n, &h), HELLO_BAD, "64-byte label");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (e = 50; e < sizeof(big) - 1; e += 51)
		big[e] = '.';
	e = sni_ext(ext, 0, big);
	n = make_hello(rec, ext, e);
	is_int(parse(rec, n, &h), HELLO_BAD, "host longer than MAX_HOST_LEN");
	e = sni_ext(ext, 1, "ignored");
	n = make_hello(rec, ext, e);
	ok(parse(rec, n, &h) > 0 && h.sni.n == 0, "unknown name type skipped");

	e = sni_ext(ext, 0, "a.test");
	e += sni_ext(ext + e, 0, "b.test");
	n = make_hello(rec, ext, e);
	is_int(parse(rec, n, &h), HELLO_BAD, "two server_name extensions");

	e = sni_ext(ext, 0, "a.test");
	ext[5]++;			/* list longer than its extension */
	n = make_hello(rec, ext, e);
	is_int(parse(rec, n, &h), HELLO_BAD, "server_name list overruns");
	e = sni_ext(ext, 0, "a.test");
	ext[3]--;			/* extension shorter than its list */
	n = make_hello(rec, ext, e);
	is_int(parse(rec, n, &h), HELLO_BAD, "server_name extension short");

	/* ALPN */
	memcpy(ext, "\x00\x10\x00\x0e\x00\x0c\x02h2\x08http/1.1", 18);
	n = make_hello(rec, ext, 18);
	ok(parse(rec, n, &h) > 0 && h.alpn_h2 && h.alpn_http11, "ALPN list");
	memcpy(ext, "\x00\x10\x00\x04\x00\x02\x00\x00", 8);
	n = make_hello(rec, ext, 8);
	is_int(parse(rec, n, &h), HELLO_BAD, "empty ALPN protocol name");
	memcpy(ext, "\x00\x10\x00\x05\x00\x03\x05h2x", 9);
	n = make_hello(rec, ext, 9);
	is_int(parse(rec, n, &h), HELLO_BAD, "ALPN name overruns list");

	/* record and handshake framing */
	e = sni_ext(ext, 0, "a.test");
	n = make_hello(rec, ext, e);
	rec[0] = 23;
	is_int(parse(rec, n, &h), HELLO_BAD, "application data record");
	is_int(parse(rec, 1, &h), HELLO_BAD, "wrong type known from 1 byte");
	rec[0] = 22;
	rec[1] = 2;
	is_int(parse(rec, 2, &h), HELLO_BAD, "SSL 2 version");
	rec[1] = 3;
	rec[5] = 2;
	is_int(parse(rec, n, &h), HELLO_BAD, "ServerHello is not a ClientHello");
	is_int(parse(rec, 9, &h), HELLO_BAD, "handshake type known early");
	rec[5] = 1;
	rec[8]++;			/* message longer than the record */
	is_int(parse(rec, n, &h), HELLO_INCOMPLETE,
	    "message continues in a next record");
	rec[8] -= 2;			/* message shorter than the record */
	is_int(parse(rec, n, &h), HELLO_BAD, "trailing bytes in the record");
	rec[8]++;
	rec[3] = 0;
	rec[4] = 0;
	is_int(parse(rec, n, &h), HELLO_BAD, "empty record");
	rec[3] = 0x40;
	rec[4] = 1;
	is_int(parse(rec, n, &h), HELLO_BAD, "record over 2^14");
	is_int(parse((const unsigned char *)"GET / HTTP/1.1\r\n", 16, &h),
	    HELLO_BAD, "plain HTTP");
	is_int(parse(rec, 0, &h), HELLO_INCOMPLETE, "nothing yet");

	/* session id over 32 bytes */
	n = make_hello(rec, NULL, 0);
	rec[9 + 34] = 33;
	is_int(parse(rec, n, &h), HELLO_BAD, "session id of 33 bytes");
	/* odd cipher suite length */
	n = make_hello(rec, NULL, 0);
	rec[9 + 36] = 3;
	is_int(parse(rec, n, &h), HELLO_BAD, "odd cipher_suites length");
}

void
test_runtime__hello_c(void)
{
	if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
		ok(0, "wolfSSL_Init");
		return;
	}
	test_captured();
	test_handmade();
	wolfSSL_Cleanup();
}
