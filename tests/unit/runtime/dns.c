/*
 * Tests runtime/dns.c: the query parser and the dummy answers byte by byte
 * (inputs against a guard page, STYLE rule 34), then the server end to end
 * over loopback sockets on a libev loop run here: dummy mode over UDP and
 * TCP (pipelined and split queries, garbage, timeouts, the connection
 * limit), and real mode against a DNS responder of our own on 127.0.0.1
 * (UDP and TCP on one port) that answers 192.0.2.55.  Nothing leaves
 * loopback.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "runtime/dns.c"
#include "tests/tap.h"

void test_runtime__dns_c(void);

static struct ev_loop *L;

static size_t free_fwd(const struct dns_server *);
static size_t free_tcp(const struct dns_server *);

/* ---- building queries ---------------------------------------------------- */

/* The wire form of the dotted <name> ("" is the root); returns its length. */
static size_t
wire_name(uint8_t *p, const char *name)
{
	size_t n = 0;
	const char *dot;

	while (*name != '\0') {
		dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);
		p[n++] = (uint8_t)l;
		memcpy(p + n, name, l);
		n += l;
		name += l;
		if (*name == '.')
			name++;
	}
	p[n++] = 0;
	return n;
}

/* A query: header (<id>, flag byte <f1>, one question), <name>, <qtype>, IN. */
static size_t
mkq(uint8_t *b, uint16_t id, uint8_t f1, const char *name, uint16_t qtype)
{
	size_t n;

	memset(b, 0, DNS_HDR_LEN);
	b[0] = (uint8_t)(id >> 8);
	b[1] = (uint8_t)id;
	b[2] = f1;
	b[5] = 1;
	n = DNS_HDR_LEN + wire_name(b + DNS_HDR_LEN, name);
	b[n++] = (uint8_t)(qtype >> 8);
	b[n++] = (uint8_t)qtype;
	b[n++] = 0;
	b[n++] = DNS_CLASS_IN;
	return n;
}

/* Appends an OPT record (UDP size <size>, <optlen> bytes of options). */
static size_t
add_opt(uint8_t *b, size_t n, uint16_t size, size_t optlen)
{
	b[11] = 1;
	b[n++] = 0;
	b[n++] = 0;
	b[n++] = DNS_TYPE_OPT;
	b[n++] = (uint8_t)(size >> 8);
	b[n++] = (uint8_t)size;
	memset(b + n, 0, 4);
	n += 4;
	b[n++] = (uint8_t)(optlen >> 8);
	b[n++] = (uint8_t)optlen;
	memset(b + n, 0x5a, optlen);
	return n + optlen;
}

static enum dns_parse
gparse(const uint8_t *b, size_t n, struct dns_query *q)
{
	return dns_parse_query((const uint8_t *)guard_copy(b, n), n, q);
}

static size_t
greply(const uint8_t *b, size_t n, uint8_t *out)
{
	return dns_dummy_reply(
	    (const uint8_t *)guard_copy(b, n), n, out, DNS_UDP_MAX);
}

/* ---- the parser and the dummy answers ------------------------------------ */

static void
test_answers(void)
{
	static const uint8_t want_a[] = {
	    0x12,
	    0x34,
	    0x85,
	    0x00,
	    0,
	    1,
	    0,
	    1,
	    0,
	    0,
	    0,
	    0,
	    7,
	    'e',
	    'x',
	    'a',
	    'm',
	    'p',
	    'l',
	    'e',
	    3,
	    'c',
	    'o',
	    'm',
	    0,
	    0,
	    1,
	    0,
	    1,
	    0xc0,
	    0x0c,
	    0,
	    1,
	    0,
	    1,
	    0,
	    0,
	    0,
	    1,
	    0,
	    4,
	    6,
	    6,
	    6,
	    6,
	};
	static const uint8_t want_aaaa[] = {
	    0xbe,
	    0xef,
	    0x84,
	    0x00,
	    0,
	    1,
	    0,
	    1,
	    0,
	    0,
	    0,
	    0,
	    3,
	    'F',
	    'o',
	    'O',
	    4,
	    't',
	    'E',
	    'S',
	    't',
	    0,
	    0,
	    28,
	    0,
	    1,
	    0xc0,
	    0x0c,
	    0,
	    28,
	    0,
	    1,
	    0,
	    0,
	    0,
	    1,
	    0,
	    16,
	    0x20,
	    0x01,
	    0x0d,
	    0xb8,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    1,
	};
	static const uint8_t want_mx[] = {
	    0,
	    7,
	    0x85,
	    0x00,
	    0,
	    1,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    1,
	    'a',
	    1,
	    'b',
	    0,
	    0,
	    15,
	    0,
	    1,
	};
	uint8_t q[600], out[DNS_UDP_MAX], out2[DNS_UDP_MAX];
	struct dns_query pq;
	size_t n, r, r2;

	/* A, RD set; RA, TC, Z, AD, CD clear; AA set. */
	n = mkq(q, 0x1234, F1_RD, "example.com", DNS_TYPE_A);
	is_int(gparse(q, n, &pq), DNS_PARSE_OK, "A query parses");
	is_int(pq.id, 0x1234, "id");
	is_int(pq.qtype, DNS_TYPE_A, "qtype");
	is_int(pq.qclass, DNS_CLASS_IN, "qclass");
	is_int(pq.qname_len, 13, "qname length with the root label");
	is_int(pq.q_end, n, "question ends the message");
	is_int(pq.edns, 0, "no EDNS");
	r = greply(q, n, out);
	is_mem(out, r, want_a, sizeof(want_a), "A answer, byte by byte");

	/* AAAA, RD clear, mixed case preserved. */
	n = mkq(q, 0xbeef, 0, "FoO.tESt", DNS_TYPE_AAAA);
	r = greply(q, n, out);
	is_mem(out, r, want_aaaa, sizeof(want_aaaa),
	    "AAAA answer, RD clear, case preserved");

	/* MX: NOERROR, no answer. */
	n = mkq(q, 7, F1_RD, "a.b", 15);
	r = greply(q, n, out);
	is_mem(out, r, want_mx, sizeof(want_mx), "MX: NODATA");
	n = mkq(q, 7, F1_RD, "a.b", 255);
	r = greply(q, n, out);
	ok(r == sizeof(want_mx) && out[7] == 0 && (out[3] & 0x0f) == 0,
	    "ANY: NODATA");
	n = mkq(q, 7, F1_RD, "a.b", 16);
	r = greply(q, n, out);
	ok(r == sizeof(want_mx) && out[7] == 0 && (out[3] & 0x0f) == 0,
	    "TXT: NODATA");

	/* A in class CH: NODATA, never the dummy address. */
	n = mkq(q, 9, 0, "version.bind", DNS_TYPE_A);
	q[n - 1] = 3;
	r = greply(q, n, out);
	ok(r == n && out[7] == 0 && (out[3] & 0x0f) == 0, "class CH: NODATA");

	/* The root name. */
	n = mkq(q, 10, F1_RD, "", DNS_TYPE_A);
	is_int(gparse(q, n, &pq), DNS_PARSE_OK, "root name parses");
	r = greply(q, n, out);
	ok(r == n + 16 && out[n] == 0xc0 && out[n + 1] == 12 &&
	        memcmp(out + r - 4, "\6\6\6\6", 4) == 0,
	    "root name: A answer");

	/* EDNS: accepted (with options), ignored in the answer. */
	n = mkq(q, 0x1234, F1_RD, "example.com", DNS_TYPE_A);
	n = add_opt(q, n, 1232, 0);
	is_int(gparse(q, n, &pq), DNS_PARSE_OK, "EDNS query parses");
	ok(pq.edns && pq.edns_size == 1232 && pq.opt_off == 29,
	    "EDNS size and offset");
	r = greply(q, n, out);
	is_mem(out, r, want_a, sizeof(want_a), "EDNS: the same answer");
	n = mkq(q, 0x1234, F1_RD, "example.com", DNS_TYPE_A);
	n = add_opt(q, n, 4096, 12); /* a cookie-sized option */
	r = greply(q, n, out);
	is_mem(out, r, want_a, sizeof(want_a), "EDNS with options: answered");

	/* The largest name: 255 bytes; the answer stays under 512. */
	memset(q, 0, sizeof(q));
	q[5] = 1;
	n = DNS_HDR_LEN;
	for (int i = 0; i < 3; i++) {
		q[n++] = 63;
		memset(q + n, 'x', 63);
		n += 63;
	}
	q[n++] = 61;
	memset(q + n, 'y', 61);
	n += 61;
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = DNS_TYPE_AAAA;
	q[n++] = 0;
	q[n++] = 1;
	is_int(gparse(q, n, &pq), DNS_PARSE_OK, "255-byte name parses");
	is_int(pq.qname_len, DNS_MAX_NAME, "its length");
	r = greply(q, n, out);
	ok(r == n + 28 && r <= DNS_UDP_MAX, "its answer fits (%zu bytes)", r);
	/* One byte more: 256. */
	q[DNS_HDR_LEN + 3 * 64] = 62;
	memmove(q + DNS_HDR_LEN + 3 * 64 + 1 + 62,
	    q + DNS_HDR_LEN + 3 * 64 + 1 + 61, 5);
	q[DNS_HDR_LEN + 3 * 64 + 1 + 61] = 'y';
	n++;
	is_int(gparse(q, n, &pq), DNS_PARSE_FORMERR, "256-byte name: FORMERR");

	/* Replies are pure functions of the query. */
	n = mkq(q, 0x4242, F1_RD, "example.org", DNS_TYPE_A);
	r = greply(q, n, out);
	r2 = dns_dummy_reply(q, n, out2, sizeof(out2));
	ok(r == r2 && memcmp(out, out2, r) == 0, "same query, same reply");
	is_int(dns_dummy_reply(q, n, out2, DNS_UDP_MAX - 1), 0,
	    "an output buffer under DNS_UDP_MAX is refused");
}

/* Expects FORMERR for <q>: a header-only reply with the query's ID. */
static void
expect_formerr(const uint8_t *q, size_t n, const char *what)
{
	struct dns_query pq;
	uint8_t out[DNS_UDP_MAX];
	size_t r;

	is_int(gparse(q, n, &pq), DNS_PARSE_FORMERR, "%s: FORMERR", what);
	r = greply(q, n, out);
	ok(r == DNS_HDR_LEN && out[0] == q[0] && out[1] == q[1] &&
	        out[2] == (F1_QR | (q[2] & F1_RD)) &&
	        out[3] == DNS_RCODE_FORMERR && out[5] == 0 && out[7] == 0 &&
	        out[9] == 0 && out[11] == 0,
	    "%s: FORMERR reply", what);
}

static void
test_malformed(void)
{
	uint8_t q[600], out[DNS_UDP_MAX];
	struct dns_query pq;
	size_t n, r;

	/* Compression pointer in the question. */
	n = mkq(q, 1, F1_RD, "a.example", DNS_TYPE_A);
	q[DNS_HDR_LEN + 2] = 0xc0; /* "a" then a pointer */
	q[DNS_HDR_LEN + 3] = 0x0c;
	memmove(q + DNS_HDR_LEN + 4, q + n - 4, 4);
	n = DNS_HDR_LEN + 8;
	expect_formerr(q, n, "compression pointer");
	q[DNS_HDR_LEN + 2] = 0x40; /* extended label type */
	expect_formerr(q, n, "label type 01");
	q[DNS_HDR_LEN + 2] = 0x80;
	expect_formerr(q, n, "label type 10");

	/* Labels: 63 is fine, 64 is not; truncated ones. */
	memset(q, 0, sizeof(q));
	q[5] = 1;
	q[DNS_HDR_LEN] = 63;
	memset(q + DNS_HDR_LEN + 1, 'a', 63);
	n = DNS_HDR_LEN + 64;
	q[n++] = 0;
	q[n++] = 0;
	q[n++] = 1;
	q[n++] = 0;
	q[n++] = 1;
	is_int(gparse(q, n, &pq), DNS_PARSE_OK, "63-byte label");
	q[DNS_HDR_LEN] = 64;
	expect_formerr(q, n, "64-byte label");

	n = mkq(q, 2, 0, "example.com", DNS_TYPE_A);
	expect_formerr(q, DNS_HDR_LEN + 5, "label cut short");
	expect_formerr(q, DNS_HDR_LEN, "no question");
	expect_formerr(q, DNS_HDR_LEN + 13, "no QTYPE");
	expect_formerr(q, n - 1, "QCLASS cut short");
	q[n] = 0;
	expect_formerr(q, n + 1, "trailing byte");

	/* Section counts. */
	n = mkq(q, 3, F1_RD, "example.com", DNS_TYPE_A);
	q[5] = 0;
	expect_formerr(q, n, "qdcount 0");
	q[5] = 2;
	expect_formerr(q, n, "qdcount 2");
	q[4] = 1;
	q[5] = 1;
	expect_formerr(q, n, "qdcount 257");
	q[4] = 0;
	q[7] = 1;
	expect_formerr(q, n, "ancount 1");
	q[7] = 0;
	q[9] = 1;
	expect_formerr(q, n, "nscount 1");
	q[9] = 0;
	n = add_opt(q, n, 512, 0);
	q[11] = 2;
	expect_formerr(q, n, "arcount 2");
	q[11] = 1;
	is_int(gparse(q, n, &pq), DNS_PARSE_OK, "arcount 1 with OPT");
	expect_formerr(q, n - 1, "OPT cut short");
	q[n - 11 + 2] = 1; /* an A record in the additional section */
	expect_formerr(q, n, "additional record not OPT");
	q[n - 11 + 2] = DNS_TYPE_OPT;
	q[n - 11] = 1; /* OPT with a non-root name */
	expect_formerr(q, n, "OPT with a name");
	q[n - 11] = 0;
	q[n - 1] = 5; /* RDLENGTH beyond the end */
	expect_formerr(q, n, "OPT RDLENGTH beyond the end");

	/* Responses and short messages get nothing. */
	n = mkq(q, 4, F1_QR | F1_RD, "example.com", DNS_TYPE_A);
	is_int(gparse(q, n, &pq), DNS_PARSE_DROP, "QR=1: dropped");
	is_int(greply(q, n, out), 0, "QR=1: no reply");
	q[2] = F1_QR | 0x08; /* a response with an odd opcode */
	is_int(greply(q, n, out), 0, "QR=1 with an opcode: no reply");
	is_int(gparse(q, DNS_HDR_LEN - 1, &pq), DNS_PARSE_DROP,
	    "11 bytes: dropped");
	is_int(greply(q, 0, out), 0, "empty: no reply");

	/* Opcodes other than QUERY. */
	n = mkq(
	    q, 0xabcd, (uint8_t)(2 << 3) | F1_RD, "example.com", DNS_TYPE_A);
	is_int(gparse(q, n, &pq), DNS_PARSE_NOTIMP, "STATUS: NOTIMP");
	r = greply(q, n, out);
	ok(r == DNS_HDR_LEN && out[0] == 0xab && out[1] == 0xcd &&
	        out[2] == (F1_QR | (2 << 3) | F1_RD) &&
	        out[3] == DNS_RCODE_NOTIMP && out[5] == 0,
	    "NOTIMP reply");
	q[2] = (uint8_t)(5 << 3); /* UPDATE */
	q[5] = 7;                 /* counts are not looked at */
	is_int(gparse(q, n, &pq), DNS_PARSE_NOTIMP, "UPDATE: NOTIMP");

	for (int i = 0; i < DNS_PARSE_COUNT; i++)
		ok(strcmp(dns_parse_str((enum dns_parse)i), "?") != 0,
		    "dns_parse_str(%d) = %s", i,
		    dns_parse_str((enum dns_parse)i));
	is_str(dns_parse_str(DNS_PARSE_COUNT), "?", "out of range");
}

/* ---- loop and socket helpers --------------------------------------------- */

static void
brk_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

static void
brk_tmr_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ONE);
}

/* Runs the loop until <fd> is readable (1) or <secs> passed (0). */
static int
wait_readable(int fd, double secs)
{
	ev_io io;
	ev_timer t;
	int got;

	ev_io_init(&io, brk_io_cb, fd, EV_READ);
	ev_timer_init(&t, brk_tmr_cb, secs, 0.);
	ev_io_start(L, &io);
	ev_timer_start(L, &t);
	ev_run(L, 0);
	got = ev_is_active(&t);
	ev_io_stop(L, &io);
	ev_timer_stop(L, &t);
	return got;
}

/* Runs the loop for <secs>. */
static void
spin(double secs)
{
	ev_timer t;

	ev_timer_init(&t, brk_tmr_cb, secs, 0.);
	ev_timer_start(L, &t);
	ev_run(L, 0);
	ev_timer_stop(L, &t);
}

/* Runs the loop until <fn>(<srv>) is <want> or <secs> pass; its last value. */
static size_t
spin_until(size_t (*fn)(const struct dns_server *),
    const struct dns_server *srv, size_t want, double secs)
{
	double end = ev_time() + secs;
	size_t v;

	while ((v = fn(srv)) != want && ev_time() < end)
		spin(0.01);
	return v;
}

static void
sin_lo(struct sockaddr_in *sin, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

/* A socket of <type> bound to 127.0.0.1:<port> (0: any), listening if TCP. */
static int
bound(int type, uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd, one = 1;

	if ((fd = socket(AF_INET, type | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (type == SOCK_STREAM)
		(void)setsockopt(
		    fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin_lo(&sin, *port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    (type == SOCK_STREAM && listen(fd, 128) == -1) ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A client of <type> connected to 127.0.0.1:<port>. */
static int
client(int type, uint16_t port)
{
	struct sockaddr_in sin;
	int fd;

	if ((fd = socket(AF_INET, type | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	sin_lo(&sin, port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits for one datagram on <fd>: its length, or -1 after <secs>. */
static ssize_t
udp_wait(int fd, uint8_t *buf, size_t cap, double secs)
{
	if (!wait_readable(fd, secs))
		return -1;
	return recv(fd, buf, cap, MSG_DONTWAIT);
}

/* A TCP client and what it has received but not yet taken. */
struct tcli {
	int fd;
	int eof;
	size_t n;
	uint8_t b[2 + 70000];
};

static struct tcli T1, T2;

static int
tcli_open(struct tcli *t, uint16_t port)
{
	t->n = 0;
	t->eof = 0;
	t->fd = client(SOCK_STREAM, port);
	return t->fd;
}

static void
tcli_close(struct tcli *t)
{
	if (t->fd != -1)
		close(t->fd);
	t->fd = -1;
}

/* Sends <n> bytes of <p> framed with a length prefix. */
static int
tcli_send(struct tcli *t, const uint8_t *p, size_t n)
{
	uint8_t b[2 + 1024];

	b[0] = (uint8_t)(n >> 8);
	b[1] = (uint8_t)n;
	memcpy(b + 2, p, n);
	return send(t->fd, b, n + 2, MSG_NOSIGNAL) == (ssize_t)(n + 2) ? 0 : -1;
}

/*
 * One framed reply into <out>: its length; 0 when the server closed
 * (nothing pending); -1 after <secs> without a whole message.
 */
static ssize_t
tcli_msg(struct tcli *t, uint8_t *out, size_t cap, double secs)
{
	size_t len;
	ssize_t r;

	for (;;) {
		if (t->n >= 2) {
			len = (size_t)t->b[0] << 8 | t->b[1];
			if (t->n >= 2 + len && len <= cap) {
				memcpy(out, t->b + 2, len);
				t->n -= 2 + len;
				memmove(t->b, t->b + 2 + len, t->n);
				return (ssize_t)len;
			}
		}
		if (t->eof)
			return 0;
		if (!wait_readable(t->fd, secs))
			return -1;
		r = recv(t->fd, t->b + t->n, sizeof(t->b) - t->n, MSG_DONTWAIT);
		if (r == 0 || (r == -1 && errno == ECONNRESET))
			t->eof = 1;
		else if (r > 0)
			t->n += (size_t)r;
	}
}

/* Whether <fd> is open (it was given to dns_server_new, which closes). */
static int
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* ---- the fake upstream (real mode) --------------------------------------- */

struct up {
	int ufd, lfd, cfd;
	uint16_t port;
	ev_io uio, lio, cio;
	uint8_t cb[4096];
	size_t cn;
	unsigned udp_q, tcp_q;
	uint16_t last_id;
	uint8_t last_q[512];
	size_t last_qn;
};

static struct up U;

/*
 * The answer to <q> (<n> bytes) in <out>, or 0 for none: "silent.test"
 * gets nothing, "big.test" 40 A records, anything else A 192.0.2.55.
 */
static size_t
up_answer(const uint8_t *q, size_t n, uint8_t *out)
{
	uint8_t silent[32], big[32];
	size_t off = DNS_HDR_LEN, qend, o, k, i;
	size_t ls = wire_name(silent, "silent.test");
	size_t lb = wire_name(big, "big.test");

	while (off < n && q[off] != 0)
		off += 1 + q[off];
	qend = off + 5;
	if (qend > n)
		return 0;
	U.last_id = (uint16_t)(q[0] << 8 | q[1]);
	memcpy(U.last_q, q, n);
	U.last_qn = n;
	if (qend - 4 - DNS_HDR_LEN == ls &&
	    memcmp(q + DNS_HDR_LEN, silent, ls) == 0)
		return 0;
	k = qend - 4 - DNS_HDR_LEN == lb &&
	        memcmp(q + DNS_HDR_LEN, big, lb) == 0
	    ? 40
	    : 1;
	memcpy(out, q, qend);
	out[2] = (uint8_t)(F1_QR | (q[2] & F1_RD));
	out[3] = 0x80; /* RA */
	put16(out + 4, 1);
	put16(out + 6, (unsigned)k);
	put16(out + 8, 0);
	put16(out + 10, 0);
	o = qend;
	for (i = 0; i < k; i++) {
		static const uint8_t rr[] = {
		    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 55};
		memcpy(out + o, rr, sizeof(rr));
		out[o + 15] = (uint8_t)(55 + i);
		o += sizeof(rr);
	}
	return o;
}

static void
up_udp_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	uint8_t q[1024], a[2048];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n;
	size_t r;

	(void)loop;
	(void)revents;
	n = recvfrom(
	    w->fd, q, sizeof(q), MSG_DONTWAIT, (struct sockaddr *)&ss, &sl);
	if (n <= 0)
		return;
	U.udp_q++;
	if ((r = up_answer(q, (size_t)n, a)) > 0)
		(void)sendto(w->fd, a, r, 0, (struct sockaddr *)&ss, sl);
}

static void
up_conn_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	uint8_t a[2 + 2048];
	size_t len, r;
	ssize_t n;

	(void)revents;
	n = recv(w->fd, U.cb + U.cn, sizeof(U.cb) - U.cn, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == -1 && errno == EAGAIN)
			return;
		ev_io_stop(loop, w);
		close(U.cfd);
		U.cfd = -1;
		U.cn = 0;
		return;
	}
	U.cn += (size_t)n;
	while (
	    U.cn >= 2 && U.cn >= 2 + (len = (size_t)U.cb[0] << 8 | U.cb[1])) {
		U.tcp_q++;
		if ((r = up_answer(U.cb + 2, len, a + 2)) > 0) {
			put16(a, (unsigned)r);
			(void)send(U.cfd, a, r + 2, MSG_NOSIGNAL);
		}
		U.cn -= 2 + len;
		memmove(U.cb, U.cb + 2 + len, U.cn);
	}
}

static void
up_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	int fd;

	(void)revents;
	if ((fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC)) == -1)
		return;
	if (U.cfd != -1) {
		ev_io_stop(loop, &U.cio);
		close(U.cfd);
	}
	U.cfd = fd;
	U.cn = 0;
	ev_io_init(&U.cio, up_conn_cb, fd, EV_READ);
	ev_io_start(loop, &U.cio);
}

/* Starts the responder: UDP and TCP on the same 127.0.0.1 port. */
static int
up_open(void)
{
	int i;

	memset(&U, 0, sizeof(U));
	U.cfd = U.lfd = -1;
	for (i = 0; i < 50; i++) {
		U.port = 0;
		if ((U.ufd = bound(SOCK_DGRAM, &U.port)) == -1)
			return -1;
		if ((U.lfd = bound(SOCK_STREAM, &U.port)) != -1)
			break;
		close(U.ufd);
	}
	if (U.lfd == -1)
		return -1;
	ev_io_init(&U.uio, up_udp_cb, U.ufd, EV_READ);
	ev_io_init(&U.lio, up_accept_cb, U.lfd, EV_READ);
	ev_io_start(L, &U.uio);
	ev_io_start(L, &U.lio);
	return 0;
}

static void
up_close(void)
{
	ev_io_stop(L, &U.uio);
	ev_io_stop(L, &U.lio);
	close(U.ufd);
	close(U.lfd);
	if (U.cfd != -1) {
		ev_io_stop(L, &U.cio);
		close(U.cfd);
	}
	U.ufd = U.lfd = U.cfd = -1;
}

/* ---- the server, end to end ---------------------------------------------- */

/* A server on fresh UDP and TCP sockets; ports in <uport>, <tport>. */
static struct dns_server *
start(const struct dns_cfg *cfg, uint16_t *uport, uint16_t *tport)
{
	char err[256] = "";
	struct dns_server *srv;
	int fds[2];

	*uport = *tport = 0;
	fds[0] = bound(SOCK_DGRAM, uport);
	fds[1] = bound(SOCK_STREAM, tport);
	if (fds[0] == -1 || fds[1] == -1) {
		ok(0, "sockets: %s", strerror(errno));
		return NULL;
	}
	srv = dns_server_new(L, fds, 2, cfg, err, sizeof(err));
	ok(srv != NULL, "dns_server_new%s%s", err[0] ? ": " : "", err);
	return srv;
}

static size_t
free_fwd(const struct dns_server *srv)
{
	const struct dns_fwd *f;
	size_t n = 0;

	for (f = srv->free_fwd; f != NULL; f = f->next_free)
		n++;
	return n;
}

static size_t
free_tcp(const struct dns_server *srv)
{
	const struct dns_tcp *c;
	size_t n = 0;

	for (c = srv->free_tcp; c != NULL; c = c->next_free)
		n++;
	return n;
}

static void
test_new_errors(void)
{
	struct dns_cfg cfg = {0};
	struct dns_server *srv;
	char err[256];
	uint16_t port = 0;
	int fds[DNS_MAX_SOCKS + 1] = {0}, sv[2], i;

	srv = dns_server_new(L, fds, 0, &cfg, err, sizeof(err));
	ok(srv == NULL && strstr(err, "sockets given") != NULL, "no socket: %s",
	    err);

	/* A TCP socket that does not listen: refused, and closed. */
	fds[0] = bound(SOCK_DGRAM, &port);
	fds[1] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	srv = dns_server_new(L, fds, 2, &cfg, err, sizeof(err));
	ok(srv == NULL && strstr(err, "not listening") != NULL,
	    "unconnected TCP socket: %s", err);
	ok(!fd_open(fds[0]) && !fd_open(fds[1]), "both fds closed");

	/* A Unix socket. */
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) == 0) {
		srv = dns_server_new(L, sv, 1, &cfg, err, sizeof(err));
		ok(srv == NULL && strstr(err, "not an IP socket") != NULL,
		    "Unix socket: %s", err);
		ok(!fd_open(sv[0]), "it is closed");
		close(sv[1]);
	}

	/* Too many. */
	for (i = 0; i < DNS_MAX_SOCKS + 1; i++) {
		port = 0;
		fds[i] = bound(SOCK_DGRAM, &port);
	}
	srv = dns_server_new(L, fds, DNS_MAX_SOCKS + 1, &cfg, err, sizeof(err));
	ok(srv == NULL, "%d sockets: %s", DNS_MAX_SOCKS + 1, err);
	for (i = 0; i < DNS_MAX_SOCKS + 1; i++)
		if (fd_open(fds[i]))
			break;
	is_int(i, DNS_MAX_SOCKS + 1, "all closed");

	/* A bad upstream list in real mode. */
	port = 0;
	fds[0] = bound(SOCK_DGRAM, &port);
	cfg.forward = 1;
	cfg.upstream = "not an address";
	srv = dns_server_new(L, fds, 1, &cfg, err, sizeof(err));
	ok(srv == NULL && strstr(err, "upstream") != NULL, "bad upstream: %s",
	    err);
	ok(!fd_open(fds[0]), "closed");
	dns_server_free(NULL);
}

static void
test_dummy_udp(void)
{
	struct dns_cfg cfg = {0};
	struct dns_server *srv;
	uint8_t q[1024], a[DNS_EDNS_MAX], want[DNS_UDP_MAX];
	char ups[64];
	uint16_t uport, tport;
	size_t n, w;
	ssize_t r;
	int fd;

	/* Dummy mode with an upstream configured: still nothing forwarded. */
	if (up_open() == -1) {
		ok(0, "upstream responder");
		return;
	}
	snprintf(ups, sizeof(ups), "127.0.0.1:%u", U.port);
	cfg.upstream = ups;
	if ((srv = start(&cfg, &uport, &tport)) == NULL)
		goto out;
	if ((fd = client(SOCK_DGRAM, uport)) == -1) {
		ok(0, "udp client");
		goto out;
	}
	ok(fd_open(srv->socks[0].io.fd) &&
	        (fcntl(srv->socks[0].io.fd, F_GETFL) & O_NONBLOCK) &&
	        (fcntl(srv->socks[0].io.fd, F_GETFD) & FD_CLOEXEC),
	    "sockets made non-blocking and close-on-exec");

	n = mkq(q, 0x5151, F1_RD, "www.Example.com", DNS_TYPE_A);
	w = dns_dummy_reply(q, n, want, sizeof(want));
	(void)send(fd, q, n, 0);
	r = udp_wait(fd, a, sizeof(a), 2.);
	is_mem(a, r > 0 ? (size_t)r : 0, want, w, "UDP: A answer");
	ok(r > 4 && memcmp(a + r - 4, "\6\6\6\6", 4) == 0, "6.6.6.6");

	n = mkq(q, 0x5152, 0, "www.example.com", DNS_TYPE_AAAA);
	n = add_opt(q, n, 1232, 0);
	(void)send(fd, q, n, 0);
	r = udp_wait(fd, a, sizeof(a), 2.);
	ok(r == (ssize_t)(n - 11 + 28) && a[0] == 0x51 && a[1] == 0x52 &&
	        a[2] == (F1_QR | F1_AA) && a[7] == 1 && a[r - 1] == 1,
	    "UDP: AAAA answer to an EDNS query");

	/* Malformed: FORMERR; a response: nothing; then still serving. */
	n = mkq(q, 0x5153, F1_RD, "x.y", DNS_TYPE_A);
	(void)send(fd, q, n - 1, 0);
	r = udp_wait(fd, a, sizeof(a), 2.);
	ok(r == DNS_HDR_LEN && a[3] == DNS_RCODE_FORMERR && a[1] == 0x53,
	    "UDP: FORMERR");
	q[2] |= F1_QR;
	(void)send(fd, q, n, 0);
	r = udp_wait(fd, a, sizeof(a), 0.3);
	is_int(r, -1, "UDP: a response gets no reply");
	is_int(srv->st.dropped, 1, "counted as dropped");
	memset(q + n, 0, DNS_MAX_QUERY + 1 - n);
	q[2] = 0;
	(void)send(fd, q, DNS_MAX_QUERY + 1, 0);
	r = udp_wait(fd, a, sizeof(a), 2.);
	ok(r == DNS_HDR_LEN && a[3] == DNS_RCODE_FORMERR,
	    "UDP: oversized datagram: FORMERR");
	q[2] = (uint8_t)(4 << 3); /* NOTIFY */
	(void)send(fd, q, n, 0);
	r = udp_wait(fd, a, sizeof(a), 2.);
	ok(r == DNS_HDR_LEN && a[3] == DNS_RCODE_NOTIMP, "UDP: NOTIMP");

	/* A burst larger than DNS_UDP_BURST: every query answered. */
	for (int i = 0; i < DNS_UDP_BURST + 10; i++) {
		n = mkq(q, (uint16_t)i, F1_RD, "burst.test", DNS_TYPE_A);
		(void)send(fd, q, n, 0);
	}
	int got = 0;
	while (udp_wait(fd, a, sizeof(a), 1.) > 0 && a[1] == got)
		got++;
	is_int(got, DNS_UDP_BURST + 10, "burst: every query answered");
	close(fd);
	is_int(U.udp_q + U.tcp_q, 0, "dummy mode sent nothing upstream");
	dns_server_free(srv);
 out:
	up_close();
}

static void
test_dummy_tcp(void)
{
	struct dns_cfg cfg = {0};
	struct dns_server *srv;
	uint8_t q[1024], q2[1024], b[2 + 2048], a[4096], want[DNS_UDP_MAX];
	uint16_t uport, tport;
	size_t n, n2, w;
	ssize_t r;
	static const char garbage[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	double saved = tcp_timeout, t0;

	if ((srv = start(&cfg, &uport, &tport)) == NULL)
		return;

	/* Two pipelined queries in one write: two answers, in order. */
	if (tcli_open(&T1, tport) == -1) {
		ok(0, "tcp client");
		goto out;
	}
	n = mkq(q, 0x0101, F1_RD, "one.test", DNS_TYPE_A);
	n2 = mkq(q2, 0x0202, F1_RD, "two.test", DNS_TYPE_AAAA);
	put16(b, (unsigned)n);
	memcpy(b + 2, q, n);
	put16(b + 2 + n, (unsigned)n2);
	memcpy(b + 4 + n, q2, n2);
	(void)send(T1.fd, b, n + n2 + 4, MSG_NOSIGNAL);
	w = dns_dummy_reply(q, n, want, sizeof(want));
	r = tcli_msg(&T1, a, sizeof(a), 2.);
	is_mem(a, r > 0 ? (size_t)r : 0, want, w, "TCP: first answer");
	w = dns_dummy_reply(q2, n2, want, sizeof(want));
	r = tcli_msg(&T1, a, sizeof(a), 2.);
	is_mem(a, r > 0 ? (size_t)r : 0, want, w, "TCP: second answer");

	/* A third, split byte by byte across writes, on the same connection. */
	n = mkq(q, 0x0303, 0, "three.test", DNS_TYPE_A);
	put16(b, (unsigned)n);
	memcpy(b + 2, q, n);
	for (size_t i = 0; i < n + 2; i++) {
		(void)send(T1.fd, b + i, 1, MSG_NOSIGNAL);
		spin(0.001);
	}
	w = dns_dummy_reply(q, n, want, sizeof(want));
	r = tcli_msg(&T1, a, sizeof(a), 2.);
	is_mem(
	    a, r > 0 ? (size_t)r : 0, want, w, "TCP: a query in single bytes");

	/* Half-close after a query: answered, then closed. */
	n = mkq(q, 0x0404, 0, "four.test", DNS_TYPE_A);
	(void)tcli_send(&T1, q, n);
	shutdown(T1.fd, SHUT_WR);
	r = tcli_msg(&T1, a, sizeof(a), 2.);
	ok(r > 0 && a[0] == 4 && a[1] == 4, "TCP: answer after a half-close");
	is_int(tcli_msg(&T1, a, sizeof(a), 2.), 0, "then closed");
	tcli_close(&T1);

	/* Garbage: closed without a reply. */
	if (tcli_open(&T1, tport) == -1)
		goto out;
	(void)send(T1.fd, garbage, sizeof(garbage) - 1, MSG_NOSIGNAL);
	is_int(tcli_msg(&T1, a, sizeof(a), 2.), 0, "TCP: garbage: closed");
	is_int(T1.n, 0, "no bytes sent back");
	tcli_close(&T1);

	/* A well-framed malformed query: FORMERR, then closed. */
	if (tcli_open(&T1, tport) == -1)
		goto out;
	n = mkq(q, 0x0505, F1_RD, "five.test", DNS_TYPE_A);
	q[DNS_HDR_LEN] = 0xc0;
	(void)tcli_send(&T1, q, n);
	r = tcli_msg(&T1, a, sizeof(a), 2.);
	ok(r == DNS_HDR_LEN && a[3] == DNS_RCODE_FORMERR && a[1] == 5,
	    "TCP: FORMERR");
	is_int(tcli_msg(&T1, a, sizeof(a), 2.), 0, "then closed");
	tcli_close(&T1);

	/* A response over TCP: closed without a reply. */
	if (tcli_open(&T1, tport) == -1)
		goto out;
	n = mkq(q, 0x0606, F1_QR, "six.test", DNS_TYPE_A);
	(void)tcli_send(&T1, q, n);
	is_int(tcli_msg(&T1, a, sizeof(a), 2.), 0, "TCP: response: closed");
	is_int(T1.n, 0, "no bytes sent back");
	tcli_close(&T1);

	/* An oversized length prefix. */
	if (tcli_open(&T1, tport) == -1)
		goto out;
	put16(b, DNS_MAX_QUERY + 1);
	(void)send(T1.fd, b, 2, MSG_NOSIGNAL);
	is_int(tcli_msg(&T1, a, sizeof(a), 2.), 0,
	    "TCP: length over DNS_MAX_QUERY: closed");
	tcli_close(&T1);

	/* Silence: closed after the timeout. */
	tcp_timeout = 0.2;
	t0 = ev_time();
	if (tcli_open(&T1, tport) == -1)
		goto out;
	is_int(spin_until(free_tcp, srv, MAX_DNS_TCP - 1, 2.), MAX_DNS_TCP - 1,
	    "a connection is in use");
	is_int(tcli_msg(&T1, a, sizeof(a), 2.), 0, "TCP: idle: closed");
	ok(ev_time() - t0 >= 0.15, "after the timeout");
	tcli_close(&T1);
	tcp_timeout = saved;

	/* MAX_DNS_TCP connections at most; the next one is closed at once. */
	{
		enum log_level lv = log_level();
		int cfd[MAX_DNS_TCP];
		int i, nopen = 0;

		log_init(LOG_ERROR, 2); /* the expected warning */
		for (i = 0; i < MAX_DNS_TCP; i++)
			if ((cfd[i] = client(SOCK_STREAM, tport)) != -1)
				nopen++;
		is_int(nopen, MAX_DNS_TCP, "%d clients connected", MAX_DNS_TCP);
		is_int(
		    spin_until(free_tcp, srv, 0, 2.), 0, "the pool is used up");
		if (tcli_open(&T2, tport) != -1) {
			is_int(tcli_msg(&T2, a, sizeof(a), 2.), 0,
			    "one more: closed");
			is_int(srv->st.tcp_refused, 1, "counted as refused");
			tcli_close(&T2);
		}
		/* The pooled ones still work. */
		n = mkq(q, 0x0707, 0, "seven.test", DNS_TYPE_A);
		T2.fd = cfd[MAX_DNS_TCP - 1];
		T2.n = 0;
		T2.eof = 0;
		(void)tcli_send(&T2, q, n);
		r = tcli_msg(&T2, a, sizeof(a), 2.);
		ok(r > 0 && a[1] == 7, "a pooled client is served");
		for (i = 0; i < MAX_DNS_TCP; i++)
			if (cfd[i] != -1)
				close(cfd[i]);
		T2.fd = -1;
		is_int(spin_until(free_tcp, srv, MAX_DNS_TCP, 2.), MAX_DNS_TCP,
		    "all back in the pool");
		log_init(lv, 2);
	}
 out:
	tcp_timeout = saved;
	tcli_close(&T1);
	dns_server_free(srv);
}

static void
test_forward(void)
{
	struct dns_cfg cfg = {1, NULL};
	struct dns_server *srv;
	uint8_t q[1024], a[DNS_EDNS_MAX + 100];
	char ups[64];
	uint16_t uport, tport;
	size_t n;
	ssize_t r;
	int fd = -1, saved = fwd_try_ms;
	static const uint8_t tail[] = {
	    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 55};

	if (up_open() == -1) {
		ok(0, "upstream responder");
		return;
	}
	snprintf(ups, sizeof(ups), "127.0.0.1:%u", U.port);
	cfg.upstream = ups;
	fwd_try_ms = 100;
	srv = start(&cfg, &uport, &tport);
	fwd_try_ms = saved;
	if (srv == NULL)
		goto out;
	if ((fd = client(SOCK_DGRAM, uport)) == -1)
		goto out;

	/* UDP: relayed, the client's ID restored. */
	n = mkq(q, 0x7777, F1_RD, "Real.Test", DNS_TYPE_A);
	(void)send(fd, q, n, 0);
	r = udp_wait(fd, a, sizeof(a), 3.);
	ok(r == (ssize_t)(n + sizeof(tail)) && a[0] == 0x77 && a[1] == 0x77 &&
	        memcmp(a + r - sizeof(tail), tail, sizeof(tail)) == 0 &&
	        memcmp(a + 2, "\x81\x80", 2) == 0 &&
	        memcmp(a + DNS_HDR_LEN, q + DNS_HDR_LEN, n - DNS_HDR_LEN) == 0,
	    "UDP: the upstream answer (192.0.2.55) relayed");
	is_int(U.udp_q, 1, "one UDP query upstream");
	ok(U.last_qn == n && memcmp(U.last_q + 2, q + 2, n - 2) == 0,
	    "forwarded as it is, but for the ID");
	is_int(srv->st.relayed, 1, "counted");

	/* TCP: relayed over TCP. */
	if (tcli_open(&T1, tport) == -1)
		goto out;
	n = mkq(q, 0x8888, F1_RD, "tcp.test", DNS_TYPE_A);
	(void)tcli_send(&T1, q, n);
	n = mkq(q, 0x8889, F1_RD, "tcp2.test", DNS_TYPE_A);
	(void)tcli_send(&T1, q, n);
	r = tcli_msg(&T1, a, sizeof(a), 3.);
	ok(r > 0 && a[0] == 0x88 && a[1] == 0x88 &&
	        memcmp(a + r - sizeof(tail), tail, sizeof(tail)) == 0,
	    "TCP: relayed");
	r = tcli_msg(&T1, a, sizeof(a), 3.);
	ok(r == (ssize_t)(n + sizeof(tail)) && a[0] == 0x88 && a[1] == 0x89,
	    "TCP: second query on the connection relayed");
	is_int(U.tcp_q, 2, "two TCP queries upstream");
	is_int(U.udp_q, 1, "and no UDP one");

	/* Large answers: truncated for a plain UDP client... */
	n = mkq(q, 0x9999, F1_RD, "big.test", DNS_TYPE_A);
	(void)send(fd, q, n, 0);
	r = udp_wait(fd, a, sizeof(a), 3.);
	ok(r == (ssize_t)n && a[0] == 0x99 && (a[2] & F1_TC) &&
	        (a[2] & F1_QR) && a[5] == 1 && a[7] == 0 &&
	        memcmp(a + DNS_HDR_LEN, q + DNS_HDR_LEN, n - DNS_HDR_LEN) == 0,
	    "UDP: a large answer is truncated (TC, question only)");
	ok(U.udp_q == 2 && U.tcp_q == 3,
	    "c-ares asked again over TCP for the whole answer");
	/* ...whole for an EDNS one... */
	n = add_opt(q, n, 4096, 0);
	(void)send(fd, q, n, 0);
	r = udp_wait(fd, a, sizeof(a), 3.);
	ok(r == (ssize_t)(n - 11 + 40 * 16) && a[7] == 40 && !(a[2] & F1_TC),
	    "UDP with EDNS 4096: whole (%zd bytes)", r);
	/* ...and over TCP. */
	n = mkq(q, 0x9998, F1_RD, "big.test", DNS_TYPE_A);
	(void)tcli_send(&T1, q, n);
	r = tcli_msg(&T1, a, sizeof(a), 3.);
	ok(r == (ssize_t)(n + 40 * 16) && a[0] == 0x99 && a[1] == 0x98 &&
	        a[7] == 40,
	    "TCP: a large answer whole");

	/* No answer upstream: SERVFAIL with the question. */
	n = mkq(q, 0xaaaa, F1_RD, "silent.test", DNS_TYPE_A);
	(void)send(fd, q, n, 0);
	r = udp_wait(fd, a, sizeof(a), 5.);
	ok(r == (ssize_t)n && a[0] == 0xaa && a[1] == 0xaa &&
	        a[3] == DNS_RCODE_SERVFAIL && a[5] == 1 &&
	        memcmp(a + DNS_HDR_LEN, q + DNS_HDR_LEN, n - DNS_HDR_LEN) == 0,
	    "UDP: upstream silent: SERVFAIL");

	/* Local replies still local in real mode. */
	n = mkq(q, 0xbbbb, (uint8_t)(2 << 3), "x.test", DNS_TYPE_A);
	(void)send(fd, q, n, 0);
	r = udp_wait(fd, a, sizeof(a), 2.);
	ok(r == DNS_HDR_LEN && a[3] == DNS_RCODE_NOTIMP, "UDP: NOTIMP");
	n = mkq(q, 0xbbbc, 0, "x.test", DNS_TYPE_A);
	(void)send(fd, q, n - 2, 0);
	r = udp_wait(fd, a, sizeof(a), 2.);
	ok(r == DNS_HDR_LEN && a[3] == DNS_RCODE_FORMERR, "UDP: FORMERR");

	/*
	 * A TCP client closed (as on its timeout) while its query is in
	 * flight: the slot is abandoned, the connection slot reused at once,
	 * and the late c-ares callback writes to nobody.
	 */
	is_int(free_fwd(srv), DNS_FWD_MAX_INFLIGHT, "all slots free");
	n = mkq(q, 0xcccc, F1_RD, "silent.test", DNS_TYPE_A);
	(void)tcli_send(&T1, q, n);
	is_int(spin_until(free_fwd, srv, DNS_FWD_MAX_INFLIGHT - 1, 2.),
	    DNS_FWD_MAX_INFLIGHT - 1, "one slot in flight");
	{
		struct dns_tcp *c = NULL;
		struct dns_fwd *f = NULL;

		for (size_t i = 0; i < MAX_DNS_TCP; i++)
			if (srv->tcp[i].fwd != NULL)
				c = &srv->tcp[i];
		ok(c != NULL && c->fwd->conn == c && c->fwd->tcp,
		    "the connection waits for its slot");
		if (c == NULL)
			goto out;
		f = c->fwd;
		tcp_close(c, "test");
		ok(f->busy && f->conn == NULL, "the slot is abandoned");
		is_int(free_tcp(srv), MAX_DNS_TCP, "the connection is back");
		is_int(
		    tcli_msg(&T1, a, sizeof(a), 2.), 0, "the client: closed");
		tcli_close(&T1);
		if (tcli_open(&T1, tport) == -1)
			goto out;
		n = mkq(q, 0xcccd, F1_RD, "after.test", DNS_TYPE_A);
		(void)tcli_send(&T1, q, n);
		r = tcli_msg(&T1, a, sizeof(a), 3.);
		ok(r == (ssize_t)(n + sizeof(tail)) && a[0] == 0xcc &&
		        a[1] == 0xcd && c->fd != -1,
		    "the reused connection slot serves a new client");
		is_int(spin_until(free_fwd, srv, DNS_FWD_MAX_INFLIGHT, 3.),
		    DNS_FWD_MAX_INFLIGHT, "all slots free again");
		ok(!f->busy, "the abandoned slot came back after the timeout");
		is_int(tcli_msg(&T1, a, sizeof(a), 0.1), -1,
		    "nothing late reached the new client");
	}

	/* Freed with queries in flight: no callback into freed memory. */
	n = mkq(q, 0xdddd, F1_RD, "silent.test", DNS_TYPE_A);
	(void)send(fd, q, n, 0);
	if (tcli_open(&T1, tport) != -1)
		(void)tcli_send(&T1, q, n);
	is_int(spin_until(free_fwd, srv, DNS_FWD_MAX_INFLIGHT - 2, 2.),
	    DNS_FWD_MAX_INFLIGHT - 2, "two in flight");
	dns_server_free(srv);
	srv = NULL;
	is_int(tcli_msg(&T1, a, sizeof(a), 2.), 0,
	    "freed with queries in flight: the TCP client is closed");
	is_int(udp_wait(fd, a, sizeof(a), 0.5), -1,
	    "and nothing comes late (c-ares' queries are gone)");
 out:
	tcli_close(&T1);
	if (fd != -1)
		close(fd);
	dns_server_free(srv);
	up_close();
}

/* The system configuration: set up and torn down, nothing sent. */
static void
test_forward_system(void)
{
	struct dns_cfg cfg = {1, NULL};
	struct dns_server *srv;
	uint16_t uport, tport;

	if ((srv = start(&cfg, &uport, &tport)) == NULL)
		return;
	ok(srv->udp_ch.ch != NULL && srv->tcp_ch.ch != NULL,
	    "channels from /etc/resolv.conf");
	dns_server_free(srv);
}

void
test_runtime__dns_c(void)
{
	test_answers();
	test_malformed();
	if ((L = ev_loop_new(EVFLAG_AUTO)) == NULL) {
		ok(0, "ev_loop_new");
		return;
	}
	T1.fd = T2.fd = -1;
	test_new_errors();
	test_dummy_udp();
	test_dummy_tcp();
	test_forward();
	test_forward_system();
	ev_loop_destroy(L);
	L = NULL;
}
