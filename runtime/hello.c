/*
 * ClientHello parser (see hello.h).  The handshake message is first
 * reassembled from its records into a bounded stack buffer, then read with
 * a cursor whose every read checks the bytes left, so no length field can
 * move it outside the message.
 */
#include <stdint.h>
#include <string.h>

#include "runtime/hello.h"

#define REC_HANDSHAKE 22
#define REC_HEADER 5
#define REC_MAX_PAYLOAD 16384	/* RFC 8446 5.1: 2^14 */
#define HS_CLIENT_HELLO 1
#define HS_HEADER 4
#define EXT_SERVER_NAME 0
#define EXT_ALPN 16
#define SNI_HOST_NAME 0

struct cur {
	const unsigned char *p;
	size_t n;
};

static int
take(struct cur *c, size_t n, struct cur *sub)
{
	if (c->n < n)
		return -1;
	sub->p = c->p;
	sub->n = n;
	c->p += n;
	c->n -= n;
	return 0;
}

static int
u8(struct cur *c, unsigned *v)
{
	if (c->n < 1)
		return -1;
	*v = c->p[0];
	c->p++;
	c->n--;
	return 0;
}

static int
u16(struct cur *c, unsigned *v)
{
	if (c->n < 2)
		return -1;
	*v = (unsigned)c->p[0] << 8 | c->p[1];
	c->p += 2;
	c->n -= 2;
	return 0;
}

/* A length-prefixed vector: <width> is 1 or 2 bytes of length. */
static int
vec(struct cur *c, int width, struct cur *sub)
{
	unsigned n;

	if ((width == 1 ? u8(c, &n) : u16(c, &n)) == -1)
		return -1;
	return take(c, n, sub);
}

/*
 * Validates a host_name and stores it lowercase in out->host: labels of
 * letters, digits, '-' and '_', 1..MAX_LABEL_LEN bytes each, at most
 * MAX_HOST_LEN in all after dropping one trailing dot.
 */
static int
set_host(struct hello *out, struct cur name)
{
	size_t i, lab = 0;

	if (name.n > 0 && name.p[name.n - 1] == '.')
		name.n--;
	if (name.n == 0 || name.n > MAX_HOST_LEN)
		return -1;
	for (i = 0; i < name.n; i++) {
		unsigned char ch = name.p[i];
		if (ch == '.') {
			if (lab == 0)
				return -1;
			lab = 0;
			out->host[i] = '.';
			continue;
		}
		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_'))
			return -1;
		if (++lab > MAX_LABEL_LEN)
			return -1;
		out->host[i] = (char)ch;
	}
	if (lab == 0)
		return -1;
	out->host[name.n] = '\0';
	out->sni = view_make(out->host, name.n);
	return 0;
}

/* RFC 6066 section 3: ServerNameList; at most one host_name. */
static int
parse_sni(struct cur ext, struct hello *out)
{
	struct cur list, name;
	unsigned type;

	if (vec(&ext, 2, &list) == -1 || ext.n != 0 || list.n == 0)
		return -1;
	while (list.n > 0) {
		if (u8(&list, &type) == -1 || vec(&list, 2, &name) == -1 ||
		    name.n == 0)
			return -1;
		if (type != SNI_HOST_NAME)
			continue;
		if (out->sni.n != 0)
			return -1;
		if (set_host(out, name) == -1)
			return -1;
	}
	return 0;
}

/* RFC 7301 section 3.1: ProtocolNameList of non-empty names. */
static int
parse_alpn(struct cur ext, struct hello *out)
{
	struct cur list, name;

	if (vec(&ext, 2, &list) == -1 || ext.n != 0 || list.n < 2)
		return -1;
	out->alpn = 1;
	while (list.n > 0) {
		if (vec(&list, 1, &name) == -1 || name.n == 0)
			return -1;
		if (name.n == 8 && memcmp(name.p, "http/1.1", 8) == 0)
			out->alpn_http11 = 1;
		else if (name.n == 2 && memcmp(name.p, "h2", 2) == 0)
			out->alpn_h2 = 1;
	}
	return 0;
}

/* The ClientHello body (after the 4-byte handshake header). */
static int
parse_body(struct cur c, struct hello *out)
{
	struct cur skip, exts, ext;
	unsigned v, type;
	int seen_sni = 0, seen_alpn = 0;

	if (u16(&c, &v) == -1 || (v >> 8) != 3)
		return -1;
	out->version = v;
	if (take(&c, 32, &skip) == -1)			/* random */
		return -1;
	if (vec(&c, 1, &skip) == -1 || skip.n > 32)	/* session id */
		return -1;
	if (vec(&c, 2, &skip) == -1 || skip.n < 2 || skip.n % 2 != 0)
		return -1;				/* cipher suites */
	if (vec(&c, 1, &skip) == -1 || skip.n < 1)	/* compression */
		return -1;
	if (c.n == 0)
		return 0;				/* no extensions */
	if (vec(&c, 2, &exts) == -1 || c.n != 0)
		return -1;
	while (exts.n > 0) {
		if (u16(&exts, &type) == -1 || vec(&exts, 2, &ext) == -1)
			return -1;
		if (type == EXT_SERVER_NAME) {
			if (seen_sni++ || parse_sni(ext, out) == -1)
				return -1;
		} else if (type == EXT_ALPN) {
			if (seen_alpn++ || parse_alpn(ext, out) == -1)
				return -1;
		}
	}
	return 0;
}

/* Checks the handshake header once 4 bytes of it are known. */
static int
check_hs_header(const unsigned char *msg, size_t mlen, size_t *need)
{
	size_t n;

	if (mlen < HS_HEADER)
		return 0;
	if (msg[0] != HS_CLIENT_HELLO)
		return -1;
	n = (size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3];
	if (n + HS_HEADER > HELLO_MAX_LEN)
		return -1;
	*need = n + HS_HEADER;
	return 0;
}

int
hello_parse(const unsigned char *buf, size_t len, struct hello *out)
{
	unsigned char msg[HELLO_MAX_LEN];
	size_t off = 0, mlen = 0, need = 0, rlen, avail;
	struct cur body;

	memset(out, 0, sizeof(*out));
	out->sni = view_make(out->host, 0);
	for (;;) {
		/* record header, checked as far as it is there */
		avail = len - off;
		if (avail >= 1 && buf[off] != REC_HANDSHAKE)
			return HELLO_BAD;
		if (avail >= 2 && buf[off + 1] != 3)
			return HELLO_BAD;
		if (avail >= 3 && buf[off + 2] > 4)
			return HELLO_BAD;
		if (avail < REC_HEADER)
			return HELLO_INCOMPLETE;
		rlen = (size_t)buf[off + 3] << 8 | buf[off + 4];
		if (rlen == 0 || rlen > REC_MAX_PAYLOAD ||
		    off + REC_HEADER + rlen > HELLO_MAX_LEN)
			return HELLO_BAD;
		avail -= REC_HEADER;
		if (avail < rlen) {
			/* partial record: check what there is, then wait */
			memcpy(msg + mlen, buf + off + REC_HEADER, avail);
			if (check_hs_header(msg, mlen + avail, &need) == -1)
				return HELLO_BAD;
			return HELLO_INCOMPLETE;
		}
		memcpy(msg + mlen, buf + off + REC_HEADER, rlen);
		mlen += rlen;
		off += REC_HEADER + rlen;
		if (check_hs_header(msg, mlen, &need) == -1)
			return HELLO_BAD;
		if (need != 0 && mlen >= need)
			break;
	}
	/* nothing may follow the ClientHello in its last record */
	if (mlen != need)
		return HELLO_BAD;
	body.p = msg + HS_HEADER;
	body.n = need - HS_HEADER;
	if (parse_body(body, out) == -1) {
		memset(out, 0, sizeof(*out));
		out->sni = view_make(out->host, 0);
		return HELLO_BAD;
	}
	return (int)off;
}
