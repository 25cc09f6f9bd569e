/*
 * The jail's DNS server: see dns.h for the contract.
 *
 * How it fits together:
 *   - Each socket handed over gets one ev_io: a UDP socket serves up to
 *     DNS_UDP_BURST datagrams per wakeup from one fixed query buffer; a
 *     TCP listener accepts into a pool of MAX_DNS_TCP connections, each
 *     with a fixed input buffer (one length-prefixed message of at most
 *     DNS_MAX_QUERY bytes, plus the start of the next) and a fixed output
 *     buffer.  A TCP connection serves its queries one at a time, in order:
 *     while an answer is being written or awaited it does not read.
 *   - The parser (dns_parse_query) and the dummy answer builder
 *     (dns_dummy_reply) are pure functions of the message bytes, shared by
 *     both transports and by fuzz/fuzz_dns.c.
 *   - Real mode forwards with c-ares' ares_send() rather than with a
 *     socket of our own, because c-ares already is the proxy's resolver and
 *     brings what a hand-made forwarder would lack: every nameserver of
 *     /etc/resolv.conf with its options, retransmission, failover to the
 *     next server on timeout or SERVFAIL/REFUSED, TCP, and the matching of
 *     answers by source, ID and question (so an off-path packet cannot
 *     answer for the host resolver).  Two channels, each run on the loop
 *     by aresev.c: TCP clients go through one that always uses TCP
 *     (ARES_FLAG_USEVC); UDP clients through one that asks over UDP and,
 *     for an answer that is truncated or longer than 512 bytes, asks
 *     again over TCP by itself.  So every answer arrives whole, and one
 *     too long for a UDP client is cut here, properly (TC set, question
 *     only).  Not ARES_FLAG_IGNTC: c-ares 1.18 would then cut longer UDP
 *     answers to 512 bytes without setting TC.
 *     Not ARES_FLAG_EDNS: on a FORMERR it strips the last 11 bytes of the
 *     query, which are ours, not an OPT record of its own.
 *     c-ares 1.18's ares_send() keeps the ID of the buffer it is given, so
 *     each forwarded query gets a fresh random ID, unique among those in
 *     flight, and the client's ID is put back into the answer.
 *   - A forwarded query holds one of DNS_FWD_MAX_INFLIGHT slots (not the
 *     client's connection) as its c-ares argument, so a TCP client may go
 *     away while c-ares still holds its query: the slot is only marked
 *     abandoned and returns to the free list when c-ares calls back.  The
 *     callback never reads from the client or starts another query (no
 *     re-entry into c-ares): it sends a UDP answer at once, or stores a
 *     TCP answer and lets the connection's write watcher go on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/socket.h>

#include <ares.h>

#include "aresev.h"
#include "dns.h"
#include "log.h"

#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* Header flag bits, first and second flag byte (RFC 1035 4.1.1). */
#define F1_QR 0x80
#define F1_OPCODE 0x78
#define F1_AA 0x04
#define F1_TC 0x02
#define F1_RD 0x01

/* Largest header + question: the part of a query a forwarded slot keeps. */
#define DNS_QHEAD_MAX (DNS_HDR_LEN + DNS_MAX_NAME + 4)

_Static_assert(MAX_LABEL_LEN == 63, "a label length octet has 6 bits");
_Static_assert(DNS_QHEAD_MAX + 12 + 16 <= DNS_UDP_MAX,
    "a dummy answer always fits a UDP reply");
_Static_assert(DNS_MAX_QUERY >= DNS_HDR_LEN && DNS_MAX_QUERY <= DNS_UDP_MAX,
    "a query is forwarded over UDP as it is");

/* c-ares' per-try timeout and the TCP idle timeout: tests shorten them. */
static int fwd_try_ms = DNS_FWD_TRY_MS;
static double tcp_timeout = DNS_TCP_TIMEOUT;

/* ---- wire format: parser and answers ------------------------------------- */

static const char *const parse_names[DNS_PARSE_COUNT] = {
    [DNS_PARSE_OK] = "ok",
    [DNS_PARSE_DROP] = "drop",
    [DNS_PARSE_FORMERR] = "formerr",
    [DNS_PARSE_NOTIMP] = "notimp",
};

const char *
dns_parse_str(enum dns_parse p)
{
	if ((unsigned)p >= DNS_PARSE_COUNT || parse_names[p] == NULL)
		return "?";
	return parse_names[p];
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

enum dns_parse
dns_parse_query(const uint8_t *msg, size_t len, struct dns_query *q)
{
	struct dns_query r;
	size_t off, name = 0, rdlen;
	unsigned l;

	if (len < DNS_HDR_LEN)
		return DNS_PARSE_DROP;
	/* Answering a response could make two servers talk forever. */
	if (msg[2] & F1_QR)
		return DNS_PARSE_DROP;
	if ((msg[2] & F1_OPCODE) != 0)
		return DNS_PARSE_NOTIMP;
	if (get16(msg + 4) != 1 || get16(msg + 6) != 0 || get16(msg + 8) != 0 ||
	    get16(msg + 10) > 1)
		return DNS_PARSE_FORMERR;

	memset(&r, 0, sizeof(r));
	r.id = get16(msg);
	r.rd = (msg[2] & F1_RD) != 0;
	off = DNS_HDR_LEN;
	for (;;) {
		if (off >= len)
			return DNS_PARSE_FORMERR;
		l = msg[off++];
		name++;
		if (l == 0)
			break;
		/*
		 * 11: a compression pointer (nothing to point back to in a
		 * question); 01 and 10: extended or reserved label types.
		 * What remains is 0..MAX_LABEL_LEN.
		 */
		if (l & 0xc0)
			return DNS_PARSE_FORMERR;
		if (len - off < l)
			return DNS_PARSE_FORMERR;
		name += l;
		if (name + 1 > DNS_MAX_NAME) /* + the root label */
			return DNS_PARSE_FORMERR;
		off += l;
	}
	r.qname_len = name;
	if (len - off < 4)
		return DNS_PARSE_FORMERR;
	r.qtype = get16(msg + off);
	r.qclass = get16(msg + off + 2);
	off += 4;
	r.q_end = off;

	if (get16(msg + 10) == 1) {
		/* OPT: root name, TYPE 41, CLASS = size, TTL, RDLENGTH. */
		if (len - off < 11 || msg[off] != 0 ||
		    get16(msg + off + 1) != DNS_TYPE_OPT)
			return DNS_PARSE_FORMERR;
		r.edns = 1;
		r.opt_off = off;
		r.edns_size = get16(msg + off + 3);
		rdlen = get16(msg + off + 9);
		off += 11;
		if (len - off < rdlen)
			return DNS_PARSE_FORMERR;
		off += rdlen;
	}
	if (off != len)
		return DNS_PARSE_FORMERR;
	*q = r;
	return DNS_PARSE_OK;
}

/*
 * A reply with the RCODE <rcode> made of the first <qend> bytes of <msg>:
 * DNS_HDR_LEN for the header alone, or the end of a parsed question to
 * echo it.  Keeps ID, OPCODE and RD; QR set; AA, TC, RA, Z, AD, CD clear.
 * <out> must hold <qend> bytes.
 */
static size_t
error_reply(const uint8_t *msg, size_t qend, unsigned rcode, uint8_t *out)
{
	memcpy(out, msg, qend);
	out[2] = (uint8_t)(F1_QR | (msg[2] & (F1_OPCODE | F1_RD)));
	out[3] = (uint8_t)(rcode & 0x0f);
	put16(out + 4, qend > DNS_HDR_LEN ? 1 : 0);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	return qend;
}

/*
 * The dummy answer to the parsed query <q> of <msg>: the question echoed
 * byte for byte (case included), one A or AAAA record whose name points
 * back at it (0xC00C), or no record (NODATA).  At most DNS_QHEAD_MAX + 28
 * bytes, written to <out>.
 */
static size_t
dummy_answer(const uint8_t *msg, const struct dns_query *q, uint8_t *out)
{
	static const uint8_t a[] = DNS_DUMMY_A, aaaa[] = DNS_DUMMY_AAAA;
	const uint8_t *rdata = NULL;
	size_t n, rdlen = 0;

	if (q->qclass == DNS_CLASS_IN && q->qtype == DNS_TYPE_A) {
		rdata = a;
		rdlen = sizeof(a);
	} else if (q->qclass == DNS_CLASS_IN && q->qtype == DNS_TYPE_AAAA) {
		rdata = aaaa;
		rdlen = sizeof(aaaa);
	}
	n = error_reply(msg, q->q_end, DNS_RCODE_NOERROR, out);
	out[2] = (uint8_t)(F1_QR | F1_AA | (msg[2] & F1_RD));
	if (rdata == NULL)
		return n;
	put16(out + 6, 1);
	out[n++] = 0xc0; /* pointer to the question name */
	out[n++] = DNS_HDR_LEN;
	put16(out + n, q->qtype);
	put16(out + n + 2, DNS_CLASS_IN);
	put16(out + n + 4, 0);
	put16(out + n + 6, DNS_DUMMY_TTL);
	put16(out + n + 8, (unsigned)rdlen);
	n += 10;
	memcpy(out + n, rdata, rdlen);
	return n + rdlen;
}

/*
 * The reply we make ourselves for a message that <st> classified: the
 * dummy answer, FORMERR or NOTIMP (header only), or 0 for no reply.  <out>
 * holds DNS_UDP_MAX bytes.
 */
static size_t
local_reply(const uint8_t *msg, enum dns_parse st, const struct dns_query *q,
    uint8_t *out)
{
	switch (st) {
	case DNS_PARSE_OK:
		return dummy_answer(msg, q, out);
	case DNS_PARSE_FORMERR:
		return error_reply(msg, DNS_HDR_LEN, DNS_RCODE_FORMERR, out);
	case DNS_PARSE_NOTIMP:
		return error_reply(msg, DNS_HDR_LEN, DNS_RCODE_NOTIMP, out);
	default:
		return 0;
	}
}

size_t
dns_dummy_reply(const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
{
	struct dns_query q;
	enum dns_parse st;

	if (cap < DNS_UDP_MAX)
		return 0;
	st = dns_parse_query(msg, len, &q);
	return local_reply(msg, st, &q, out);
}

/* ---- the server ---------------------------------------------------------- */

struct dns_server;

/* A socket handed to dns_server_new(). */
struct dns_sock {
	ev_io io; /* io.fd is the socket, -1 when unused */
	struct dns_server *srv;
	int udp; /* 1: UDP socket, 0: TCP listener */
};

/* One TCP client (a slot of the pool). */
struct dns_tcp {
	struct dns_server *srv;
	int fd;      /* -1 when the slot is free */
	unsigned id; /* for log lines */
	ev_io rd, wr;
	ev_timer tmo; /* idle or stalled for tcp_timeout */
	uint8_t in[2 + DNS_MAX_QUERY];
	size_t in_len;
	uint8_t *out;        /* 2 + srv->tcp_out_cap bytes of srv->tcp_out */
	size_t out_len;      /* a reply to write, length prefix included */
	size_t out_off;      /* bytes of it written */
	struct dns_fwd *fwd; /* the forwarded query awaited, or NULL */
	int close_after;     /* close once <out> is written */
	int eof;             /* the client shut its side */
	struct dns_tcp *next_free;
};

/* One forwarded query (real mode). */
struct dns_fwd {
	struct dns_server *srv;
	int busy;                     /* c-ares holds it */
	int tcp;                      /* from a TCP client */
	struct dns_tcp *conn;         /* that client; NULL once it went away */
	int fd;                       /* UDP: the socket the query came on */
	struct sockaddr_storage peer; /* UDP: the client */
	socklen_t peer_len;
	uint16_t fwd_id;          /* the ID sent upstream */
	size_t limit;             /* UDP: the largest reply the client takes */
	uint8_t q[DNS_QHEAD_MAX]; /* header and question as received */
	size_t q_len;
	struct dns_fwd *next_free;
};

/* Counters, for log lines and tests. */
struct dns_stats {
	unsigned long udp_queries, tcp_queries;
	unsigned long answered; /* dummy answers */
	unsigned long formerr, notimp, dropped;
	unsigned long forwarded, relayed, fwd_failed, fwd_busy;
	unsigned long tcp_accepted, tcp_refused;
};

struct dns_server {
	struct ev_loop *loop;
	int forward;
	int lib_init; /* ares_library_init done */
	int closing;
	struct dns_sock socks[DNS_MAX_SOCKS];
	size_t nsocks;
	struct dns_tcp *tcp; /* MAX_DNS_TCP slots */
	struct dns_tcp *free_tcp;
	uint8_t *tcp_out;   /* MAX_DNS_TCP output buffers */
	size_t tcp_out_cap; /* a reply, without the length prefix */
	unsigned next_tcp_id;
	struct aresev udp_ch, tcp_ch; /* forwarding channels (see the top) */
	struct dns_fwd fwd[DNS_FWD_MAX_INFLIGHT];
	struct dns_fwd *free_fwd;
	uint16_t rnd[64]; /* random query IDs not used yet */
	size_t nrnd;
	uint32_t rnd_state; /* fallback when getrandom() fails */
	struct dns_stats st;
	uint8_t qbuf[DNS_MAX_QUERY]; /* the UDP datagram being served */
	uint8_t abuf[DNS_EDNS_MAX];  /* its reply */
	uint8_t fbuf[DNS_MAX_QUERY]; /* a query being forwarded */
};

static void tcp_process(struct dns_tcp *);

/* Sends one UDP reply; a full socket buffer drops it (the client retries). */
static void
udp_send(int fd, const uint8_t *buf, size_t n,
    const struct sockaddr_storage *peer, socklen_t peer_len)
{
	if (sendto(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL,
	        (const struct sockaddr *)peer, peer_len) == -1)
		log_debug("dns: udp reply: %s", strerror(errno));
}

/* ---- forwarding (real mode) ---------------------------------------------- */

/* A query ID for upstream: random, unique among the queries in flight. */
static uint16_t
fwd_new_id(struct dns_server *srv)
{
	uint16_t id;
	size_t i;

	for (;;) {
		if (srv->nrnd == 0) {
			if (getrandom(srv->rnd, sizeof(srv->rnd),
			        GRND_NONBLOCK) != (ssize_t)sizeof(srv->rnd)) {
				/* Only before the kernel's pool is ready. */
				for (i = 0;
				     i < sizeof(srv->rnd) / sizeof(srv->rnd[0]);
				     i++) {
					srv->rnd_state =
					    srv->rnd_state * 1103515245u +
					    12345u;
					srv->rnd[i] =
					    (uint16_t)(srv->rnd_state >> 16);
				}
			}
			srv->nrnd = sizeof(srv->rnd) / sizeof(srv->rnd[0]);
		}
		id = srv->rnd[--srv->nrnd];
		for (i = 0; i < DNS_FWD_MAX_INFLIGHT; i++)
			if (srv->fwd[i].busy && srv->fwd[i].fwd_id == id)
				break;
		if (i == DNS_FWD_MAX_INFLIGHT)
			return id;
	}
}

static struct dns_fwd *
fwd_get(struct dns_server *srv)
{
	struct dns_fwd *f = srv->free_fwd;

	if (f == NULL)
		return NULL;
	srv->free_fwd = f->next_free;
	f->next_free = NULL;
	f->busy = 1;
	f->conn = NULL;
	f->tcp = 0;
	f->fd = -1;
	return f;
}

static void
fwd_put(struct dns_server *srv, struct dns_fwd *f)
{
	f->busy = 0;
	f->conn = NULL;
	f->next_free = srv->free_fwd;
	srv->free_fwd = f;
}

/*
 * The reply for a UDP client whose limit <f->limit> the answer <abuf>
 * exceeds: its header with TC set, the question, no records.  The
 * client is to retry over TCP.
 */
static size_t
fwd_truncated(const struct dns_fwd *f, const uint8_t *abuf, uint8_t *out)
{
	memcpy(out, f->q, f->q_len);
	out[2] = (uint8_t)(abuf[2] | F1_TC);
	out[3] = abuf[3];
	put16(out + 4, 1);
	put16(out + 6, 0);
	put16(out + 8, 0);
	put16(out + 10, 0);
	return f->q_len;
}

/* c-ares: the answer to a forwarded query, or why there is none. */
static void
fwd_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_fwd *f = arg;
	struct dns_server *srv = f->srv;
	struct dns_tcp *c = f->conn;
	uint8_t *out;
	size_t cap, n;

	(void)timeouts;
	if (status == ARES_EDESTRUCTION || srv->closing)
		goto done;
	if (f->tcp) {
		if (c == NULL) /* the client went away */
			goto done;
		out = c->out + 2;
		cap = srv->tcp_out_cap;
	} else {
		out = srv->abuf;
		cap = f->limit;
	}
	if (status == ARES_SUCCESS && abuf != NULL && alen >= DNS_HDR_LEN) {
		if ((size_t)alen <= cap) {
			memcpy(out, abuf, (size_t)alen);
			n = (size_t)alen;
		} else
			n = fwd_truncated(f, abuf, out);
		put16(out, get16(f->q)); /* the client's ID */
		srv->st.relayed++;
	} else {
		log_debug(
		    "dns: forwarded query failed: %s", ares_strerror(status));
		n = error_reply(f->q, f->q_len, DNS_RCODE_SERVFAIL, out);
		srv->st.fwd_failed++;
	}
	if (f->tcp) {
		put16(c->out, (unsigned)n);
		c->out_len = n + 2;
		c->out_off = 0;
		c->fwd = NULL;
		/* Written from the loop, outside c-ares (see the top). */
		ev_io_start(srv->loop, &c->wr);
	} else
		udp_send(f->fd, out, n, &f->peer, f->peer_len);
 done:
	if (c != NULL && c->fwd == f)
		c->fwd = NULL;
	fwd_put(srv, f);
}

/*
 * Hands the parsed query <q> of <msg> (<len> bytes) to c-ares on <ch>
 * for the slot <f> (filled by the caller with where the answer goes).
 * fwd_cb() may run from inside this call.
 */
static void
fwd_send(struct dns_server *srv, struct aresev *ch, struct dns_fwd *f,
    const uint8_t *msg, size_t len, const struct dns_query *q)
{
	memcpy(f->q, msg, q->q_end);
	f->q_len = q->q_end;
	f->fwd_id = fwd_new_id(srv);
	memcpy(srv->fbuf, msg, len);
	put16(srv->fbuf, f->fwd_id);
	/*
	 * c-ares reads UDP answers into 4097 bytes without telling a cut
	 * datagram: ask for no larger ones (a larger answer comes over TCP).
	 */
	if (q->edns && q->edns_size > DNS_EDNS_MAX)
		put16(srv->fbuf + q->opt_off + 3, DNS_EDNS_MAX);
	srv->st.forwarded++;
	ares_send(ch->ch, srv->fbuf, (int)len, fwd_cb, f);
	aresev_update_timer(ch);
}

/*
 * Sets up <ch>: for TCP clients (<tcp>) always over TCP, for UDP clients
 * over UDP then TCP when the answer needs it (see the top).  <upstream>
 * NULL: the system's resolv.conf.  Returns 0, or -1 with <err> filled.
 */
static int
chan_init(struct dns_server *srv, struct aresev *ch, int tcp,
    const char *upstream, char *err, size_t errlen)
{
	struct ares_options opts;
	char why[256];
	int rc;

	memset(&opts, 0, sizeof(opts));
	opts.flags = ARES_FLAG_NOALIASES | ARES_FLAG_NOSEARCH |
	    (tcp ? ARES_FLAG_USEVC : 0);
	opts.timeout = fwd_try_ms;
	opts.tries = DNS_FWD_TRIES;
	if (aresev_init(ch, srv->loop, &opts,
	        ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES, why,
	        sizeof(why)) == -1) {
		snprintf(err, errlen, "dns: %s", why);
		return -1;
	}
	if (upstream != NULL &&
	    (rc = ares_set_servers_ports_csv(ch->ch, upstream)) !=
	        ARES_SUCCESS) {
		snprintf(err, errlen, "dns: bad upstream server list '%s': %s",
		    upstream, ares_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- UDP ----------------------------------------------------------------- */

/* Serves the datagram of <n> bytes (its real size) in srv->qbuf. */
static void
udp_query(struct dns_server *srv, int fd, size_t n,
    const struct sockaddr_storage *peer, socklen_t peer_len)
{
	struct dns_query q;
	struct dns_fwd *f;
	enum dns_parse st;
	size_t rlen;

	srv->st.udp_queries++;
	if (n > sizeof(srv->qbuf)) /* cut short by recvfrom */
		st = DNS_PARSE_FORMERR;
	else
		st = dns_parse_query(srv->qbuf, n, &q);
	if (st == DNS_PARSE_OK && srv->forward) {
		if ((f = fwd_get(srv)) == NULL) {
			/* Dropped: the client retries, as after a loss. */
			srv->st.fwd_busy++;
			log_debug("dns: %d queries in flight, one dropped",
			    DNS_FWD_MAX_INFLIGHT);
			return;
		}
		f->fd = fd;
		memcpy(&f->peer, peer, sizeof(f->peer));
		f->peer_len = peer_len;
		f->limit = DNS_UDP_MAX;
		if (q.edns && q.edns_size > DNS_UDP_MAX)
			f->limit = q.edns_size < DNS_EDNS_MAX ? q.edns_size
			                                      : DNS_EDNS_MAX;
		fwd_send(srv, &srv->udp_ch, f, srv->qbuf, n, &q);
		return;
	}
	switch (st) {
	case DNS_PARSE_OK:
		srv->st.answered++;
		break;
	case DNS_PARSE_FORMERR:
		srv->st.formerr++;
		break;
	case DNS_PARSE_NOTIMP:
		srv->st.notimp++;
		break;
	default:
		srv->st.dropped++;
		return;
	}
	rlen = local_reply(srv->qbuf, st, &q, srv->abuf);
	udp_send(fd, srv->abuf, rlen, peer, peer_len);
}

static void
udp_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dns_sock *s = container_of(w, struct dns_sock, io);
	struct dns_server *srv = s->srv;
	struct sockaddr_storage peer;
	socklen_t peer_len;
	ssize_t n;
	int i;

	(void)loop;
	(void)revents;
	for (i = 0; i < DNS_UDP_BURST; i++) {
		peer_len = sizeof(peer);
		/* MSG_TRUNC: the real size, to tell an oversized query. */
		n = recvfrom(w->fd, srv->qbuf, sizeof(srv->qbuf), MSG_TRUNC,
		    (struct sockaddr *)&peer, &peer_len);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* ICMP errors of earlier replies, EINTR: go on. */
			log_debug("dns: udp recvfrom: %s", strerror(errno));
			continue;
		}
		udp_query(srv, w->fd, (size_t)n, &peer, peer_len);
	}
}

/* ---- TCP ----------------------------------------------------------------- */

/* Closes the client <c> and returns it to the pool; idempotent. */
static void
tcp_close(struct dns_tcp *c, const char *why)
{
	struct dns_server *srv = c->srv;

	if (c->fd == -1)
		return;
	ev_io_stop(srv->loop, &c->rd);
	ev_io_stop(srv->loop, &c->wr);
	ev_timer_stop(srv->loop, &c->tmo);
	if (c->fwd != NULL) {
		c->fwd->conn = NULL; /* c-ares still has it: abandon */
		c->fwd = NULL;
	}
	log_debug("dns: tcp %u: closed: %s", c->id, why);
	close(c->fd);
	c->fd = -1;
	c->in_len = c->out_len = c->out_off = 0;
	c->next_free = srv->free_tcp;
	srv->free_tcp = c;
}

/*
 * Serves the message <msg> (<len> bytes, its length prefix stripped):
 * a reply in c->out, a forwarded query in c->fwd, or c->close_after.
 */
static void
tcp_query(struct dns_tcp *c, const uint8_t *msg, size_t len)
{
	struct dns_server *srv = c->srv;
	struct dns_query q;
	struct dns_fwd *f;
	enum dns_parse st;
	size_t n;

	srv->st.tcp_queries++;
	st = dns_parse_query(msg, len, &q);
	switch (st) {
	case DNS_PARSE_OK:
		if (!srv->forward) {
			srv->st.answered++;
			break;
		}
		if ((f = fwd_get(srv)) == NULL) {
			srv->st.fwd_busy++;
			n = error_reply(
			    msg, q.q_end, DNS_RCODE_SERVFAIL, c->out + 2);
			goto reply;
		}
		f->tcp = 1;
		f->conn = c;
		c->fwd = f;
		fwd_send(srv, &srv->tcp_ch, f, msg, len, &q);
		return;
	case DNS_PARSE_NOTIMP:
		srv->st.notimp++;
		break;
	case DNS_PARSE_FORMERR:
		srv->st.formerr++;
		c->close_after = 1; /* answer, then close on garbage */
		break;
	default:
		srv->st.dropped++;
		c->close_after = 1;
		return;
	}
	n = local_reply(msg, st, &q, c->out + 2);
 reply:
	put16(c->out, (unsigned)n);
	c->out_len = n + 2;
	c->out_off = 0;
}

/* Writes c->out: 1 when all is written, 0 when waiting, -1 closed. */
static int
tcp_flush(struct dns_tcp *c)
{
	struct dns_server *srv = c->srv;
	ssize_t n;

	while (c->out_off < c->out_len) {
		n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
		    MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				ev_io_start(srv->loop, &c->wr);
				return 0;
			}
			tcp_close(c, strerror(errno));
			return -1;
		}
		c->out_off += (size_t)n;
		ev_timer_again(srv->loop, &c->tmo);
	}
	ev_io_stop(srv->loop, &c->wr);
	c->out_len = c->out_off = 0;
	return 1;
}

/*
 * Moves the client <c> on as far as it can: writes a pending reply, then
 * serves the next complete message, and reads only when it has nothing
 * else to do.  Called after every event of <c>.
 */
static void
tcp_process(struct dns_tcp *c)
{
	struct dns_server *srv = c->srv;
	size_t mlen;

	for (;;) {
		if (c->fwd != NULL) { /* awaiting an answer */
			ev_io_stop(srv->loop, &c->rd);
			return;
		}
		if (c->out_len > 0) {
			ev_io_stop(srv->loop, &c->rd);
			if (tcp_flush(c) <= 0)
				return;
			continue;
		}
		if (c->close_after) {
			tcp_close(c, "malformed query");
			return;
		}
		if (c->in_len >= 2) {
			mlen = get16(c->in);
			if (mlen < DNS_HDR_LEN || mlen > DNS_MAX_QUERY) {
				tcp_close(c, "bad message length");
				return;
			}
			if (c->in_len >= 2 + mlen) {
				tcp_query(c, c->in + 2, mlen);
				if (c->fd == -1)
					return;
				c->in_len -= 2 + mlen;
				memmove(c->in, c->in + 2 + mlen, c->in_len);
				continue;
			}
		}
		if (c->eof) {
			tcp_close(c,
			    c->in_len > 0 ? "truncated message"
			                  : "end of stream");
			return;
		}
		ev_io_start(srv->loop, &c->rd);
		return;
	}
}

static void
tcp_rd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dns_tcp *c = container_of(w, struct dns_tcp, rd);
	ssize_t n;

	(void)revents;
	/* Never full here: a full buffer holds a whole message (see top). */
	n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		tcp_close(c, strerror(errno));
		return;
	}
	if (n == 0) {
		c->eof = 1;
		ev_io_stop(loop, &c->rd);
	}
	c->in_len += (size_t)n;
	ev_timer_again(loop, &c->tmo);
	tcp_process(c);
}

static void
tcp_wr_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dns_tcp *c = container_of(w, struct dns_tcp, wr);

	(void)loop;
	(void)revents;
	tcp_process(c);
}

static void
tcp_tmo_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct dns_tcp *c = container_of(w, struct dns_tcp, tmo);

	(void)loop;
	(void)revents;
	tcp_close(c, "timeout");
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dns_sock *s = container_of(w, struct dns_sock, io);
	struct dns_server *srv = s->srv;
	struct dns_tcp *c;
	int fd, i;

	(void)revents;
	for (i = 0; i < DNS_UDP_BURST; i++) { /* the same burst bound */
		fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn(
				    "dns: tcp accept: %s", strerror(errno));
			return;
		}
		if ((c = srv->free_tcp) == NULL) {
			/* Logged at 1, 2, 4, 8... refusals: no log flood. */
			srv->st.tcp_refused++;
			if ((srv->st.tcp_refused & (srv->st.tcp_refused - 1)) ==
			    0)
				log_warn("dns: %d TCP DNS clients: refused %lu "
				         "so far",
				    MAX_DNS_TCP, srv->st.tcp_refused);
			close(fd);
			continue;
		}
		srv->free_tcp = c->next_free;
		c->next_free = NULL;
		c->fd = fd;
		c->id = ++srv->next_tcp_id;
		c->in_len = c->out_len = c->out_off = 0;
		c->fwd = NULL;
		c->close_after = c->eof = 0;
		ev_io_set(&c->rd, fd, EV_READ);
		ev_io_set(&c->wr, fd, EV_WRITE);
		c->tmo.repeat = tcp_timeout;
		ev_timer_again(loop, &c->tmo);
		ev_io_start(loop, &c->rd);
		srv->st.tcp_accepted++;
		log_debug("dns: tcp %u: accepted", c->id);
	}
}

/* ---- life cycle ---------------------------------------------------------- */

/* Checks and prepares the handed-over socket <s>. */
static int
sock_setup(struct dns_sock *s, char *err, size_t errlen)
{
	int fd = s->io.fd, type, dom, listening, fl;
	socklen_t sl;

	sl = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &sl) == -1)
		goto fail_errno;
	sl = sizeof(dom);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &sl) == -1)
		goto fail_errno;
	if (dom != AF_INET && dom != AF_INET6) {
		snprintf(err, errlen, "dns: socket %d is not an IP socket", fd);
		return -1;
	}
	if (type == SOCK_DGRAM)
		s->udp = 1;
	else if (type == SOCK_STREAM) {
		sl = sizeof(listening);
		if (getsockopt(
		        fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &sl) == -1)
			goto fail_errno;
		if (!listening) {
			snprintf(err, errlen,
			    "dns: TCP socket %d is not listening", fd);
			return -1;
		}
		s->udp = 0;
	} else {
		snprintf(
		    err, errlen, "dns: socket %d is neither UDP nor TCP", fd);
		return -1;
	}
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1 ||
	    (fl = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1)
		goto fail_errno;
	return 0;

 fail_errno:
	snprintf(err, errlen, "dns: socket %d: %s", fd, strerror(errno));
	return -1;
}

/* Releases everything of <srv>, which may be half set up. */
static void
srv_destroy(struct dns_server *srv)
{
	size_t i;

	srv->closing = 1;
	/*
	 * First: c-ares calls back for every query (fwd_cb sees
	 * ARES_EDESTRUCTION) while conns exist.
	 */
	aresev_close(&srv->udp_ch);
	aresev_close(&srv->tcp_ch);
	if (srv->lib_init) {
		ares_library_cleanup();
		srv->lib_init = 0;
	}
	if (srv->tcp != NULL && srv->tcp_out != NULL) /* pool set up */
		for (i = 0; i < MAX_DNS_TCP; i++)
			tcp_close(&srv->tcp[i], "server shut down");
	for (i = 0; i < srv->nsocks; i++) {
		ev_io_stop(srv->loop, &srv->socks[i].io);
		if (srv->socks[i].io.fd != -1) {
			close(srv->socks[i].io.fd);
			srv->socks[i].io.fd = -1;
		}
	}
	free(srv->tcp);
	srv->tcp = NULL;
	free(srv->tcp_out);
	srv->tcp_out = NULL;
	free(srv);
}

struct dns_server *
dns_server_new(struct ev_loop *loop, const int *fds, size_t nfds,
    const struct dns_cfg *cfg, char *err, size_t errlen)
{
	struct dns_server *srv;
	struct dns_tcp *c;
	const char *mode = "dummy answers";
	size_t i, nudp = 0;
	int rc;

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		snprintf(err, errlen, "dns: out of memory");
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		return NULL;
	}
	srv->loop = loop;
	srv->forward = cfg->forward != 0;
	/* Own every fd first, so that every failure below closes them. */
	for (i = 0; i < nfds; i++) {
		if (i >= DNS_MAX_SOCKS) {
			close(fds[i]);
			continue;
		}
		srv->socks[i].srv = srv;
		ev_io_init(&srv->socks[i].io, udp_cb, fds[i], EV_READ);
		srv->nsocks++;
	}
	if (nfds == 0 || nfds > DNS_MAX_SOCKS) {
		snprintf(err, errlen, "dns: %zu sockets given (1 to %d)", nfds,
		    DNS_MAX_SOCKS);
		goto fail;
	}
	for (i = 0; i < srv->nsocks; i++) {
		if (sock_setup(&srv->socks[i], err, errlen) == -1)
			goto fail;
		if (!srv->socks[i].udp)
			ev_set_cb(&srv->socks[i].io, accept_cb);
		else
			nudp++;
	}

	srv->tcp_out_cap = srv->forward ? DNS_TCP_MAX_MSG : DNS_UDP_MAX;
	srv->tcp = calloc(MAX_DNS_TCP, sizeof(*srv->tcp));
	srv->tcp_out = calloc(MAX_DNS_TCP, 2 + srv->tcp_out_cap);
	if (srv->tcp == NULL || srv->tcp_out == NULL) {
		snprintf(err, errlen, "dns: out of memory");
		goto fail;
	}
	for (i = MAX_DNS_TCP; i-- > 0;) {
		c = &srv->tcp[i];
		c->srv = srv;
		c->fd = -1;
		c->out = srv->tcp_out + i * (2 + srv->tcp_out_cap);
		ev_init(&c->rd, tcp_rd_cb);
		ev_init(&c->wr, tcp_wr_cb);
		ev_init(&c->tmo, tcp_tmo_cb);
		c->next_free = srv->free_tcp;
		srv->free_tcp = c;
	}
	for (i = DNS_FWD_MAX_INFLIGHT; i-- > 0;) {
		srv->fwd[i].srv = srv;
		srv->fwd[i].next_free = srv->free_fwd;
		srv->free_fwd = &srv->fwd[i];
	}
	srv->rnd_state = (uint32_t)getpid() ^ (uint32_t)(ev_time() * 1e6);

	if (srv->forward) {
		if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) !=
		    ARES_SUCCESS) {
			snprintf(
			    err, errlen, "dns: c-ares: %s", ares_strerror(rc));
			goto fail;
		}
		srv->lib_init = 1;
		if (chan_init(srv, &srv->udp_ch, 0, cfg->upstream, err,
		        errlen) == -1)
			goto fail;
		if (chan_init(srv, &srv->tcp_ch, 1, cfg->upstream, err,
		        errlen) == -1)
			goto fail;
		mode = cfg->upstream != NULL ? cfg->upstream
		                             : "the system resolvers";
	}

	for (i = 0; i < srv->nsocks; i++)
		ev_io_start(loop, &srv->socks[i].io);
	log_info("dns: %zu UDP and %zu TCP sockets, %s%s", nudp,
	    srv->nsocks - nudp, srv->forward ? "forwarding to " : "", mode);
	return srv;

 fail:
	srv_destroy(srv);
	return NULL;
}

void
dns_server_free(struct dns_server *srv)
{
	if (srv == NULL)
		return;
	srv_destroy(srv);
}
