/*
 * A DNS responder for the unit tests of runtime/aresev.c and
 * runtime/resolve.c: a UDP socket on 127.0.0.1 (ephemeral port) served
 * from the test's own libev loop, so nothing leaves loopback.  It parses
 * each question and asks the test's answer() callback what to reply; the
 * records and the rcode are the test's, the wire format is ours.
 *
 * Header-only, all static: a unit test is one translation unit that
 * #includes the .c it tests, and each of the two tests includes this too.
 */
#ifndef FAKE_DNS_H
#define FAKE_DNS_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ev.h>

#include "tests/tap.h"

#define FAKE_DNS_A 1
#define FAKE_DNS_AAAA 28
#define FAKE_DNS_DROP (-1) /* answer(): send nothing back */
#define FAKE_DNS_MAX_RR 16 /* records in one answer */
#define FAKE_DNS_MAX_Q 512 /* a query datagram, header and question */
/* The reply: the query echoed, then at most FAKE_DNS_MAX_RR AAAA records. */
#define FAKE_DNS_MAX_A (FAKE_DNS_MAX_Q + FAKE_DNS_MAX_RR * 28)
/*
 * Queries answered per wakeup.  Answering hundreds at once could overflow
 * c-ares' socket buffer (a small datagram costs about 800 bytes of it) and
 * turn into retransmissions a second later.
 */
#define FAKE_DNS_BATCH 32
/* Linux's default net.core.rmem_max: room for hundreds of queries at once */
#define FAKE_DNS_RCVBUF 212992

/* One answer record: FAKE_DNS_A or FAKE_DNS_AAAA and its address text. */
struct fake_dns_rr {
	int type;
	const char *addr; /* borrowed until answer() returns to the server */
};

/* What answer() fills in, zeroed before each call. */
struct fake_dns_ans {
	size_t nrr;
	struct fake_dns_rr rr[FAKE_DNS_MAX_RR];
	/*
	 * Set to send this answer only after the next one (lets a test
	 * reorder A and AAAA).  While one is held, the next goes out at once,
	 * then the held one.
	 */
	int hold;
};

struct fake_dns;

/*
 * Decides the reply to a query for <name> (no trailing dot) of <qtype>:
 * returns the rcode (0 for NOERROR) with the records in <ans>, or
 * FAKE_DNS_DROP to leave the query unanswered.
 */
typedef int fake_dns_answer_fn(
    struct fake_dns *, const char *name, int qtype, struct fake_dns_ans *ans);

struct fake_dns {
	ev_io io; /* first: the callback finds the server from it */
	int fd;
	char server[sizeof("127.0.0.1:65535")]; /* for c-ares' server list */
	fake_dns_answer_fn *answer;
	unsigned queries; /* datagrams received */
	unsigned char held[FAKE_DNS_MAX_A];
	size_t held_len; /* > 0 while an answer is held back */
	struct sockaddr_storage held_to;
	socklen_t held_tolen;
};

/* Adds a record of <type> for <addr> (borrowed) to <ans>. */
static void
fake_dns_add(struct fake_dns_ans *ans, int type, const char *addr)
{
	if (ans->nrr == FAKE_DNS_MAX_RR) {
		tap_diag("fake DNS: more than %d records", FAKE_DNS_MAX_RR);
		return;
	}
	ans->rr[ans->nrr].type = type;
	ans->rr[ans->nrr].addr = addr;
	ans->nrr++;
}

/* Writes <rr> at <p>; returns its length. */
static size_t
fake_dns_put_rr(unsigned char *p, const struct fake_dns_rr *rr)
{
	static const unsigned char head[] = {
	    0xc0, 12,    /* name: a pointer to the question */
	    0, 0, 0, 1,  /* type (filled in), IN */
	    0, 0, 0, 60, /* TTL */
	    0, 0         /* RDLENGTH (filled in) */
	};
	int len = rr->type == FAKE_DNS_A ? 4 : 16;

	memcpy(p, head, sizeof(head));
	p[3] = (unsigned char)rr->type;
	p[11] = (unsigned char)len;
	if (inet_pton(rr->type == FAKE_DNS_A ? AF_INET : AF_INET6, rr->addr,
	        p + sizeof(head)) != 1)
		tap_diag("fake DNS: bad test address %s", rr->addr);
	return sizeof(head) + (size_t)len;
}

/*
 * Reads the one question of the query <q> of <n> bytes: its name into
 * <name> (<cap> bytes) and its type into <qtype>.  Returns the length of
 * header and question, or 0 for anything malformed.
 */
static size_t
fake_dns_question(
    const unsigned char *q, size_t n, char *name, size_t cap, int *qtype)
{
	size_t off = 12, nlen = 0, l;

	if (n < 12 || q[4] != 0 || q[5] != 1)
		return 0;
	while (off < n && q[off] != 0) {
		l = q[off++];
		if (l > 63 || off + l > n || nlen + l + 1 >= cap)
			return 0;
		if (nlen > 0)
			name[nlen++] = '.';
		memcpy(name + nlen, q + off, l);
		nlen += l;
		off += l;
	}
	name[nlen] = '\0';
	if (off + 5 > n)
		return 0;
	*qtype = q[off + 1] << 8 | q[off + 2];
	return off + 5;
}

static void
fake_dns_send(struct fake_dns *s, const unsigned char *a, size_t len,
    const struct sockaddr_storage *to, socklen_t tolen)
{
	if (sendto(s->fd, a, len, 0, (const struct sockaddr *)to, tolen) == -1)
		tap_diag("fake DNS: sendto: %s", strerror(errno));
}

static void
fake_dns_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fake_dns *s = (struct fake_dns *)(void *)w;
	unsigned char q[FAKE_DNS_MAX_Q], a[FAKE_DNS_MAX_A];
	struct sockaddr_storage from;
	socklen_t fromlen;
	struct fake_dns_ans ans;
	char name[256];
	size_t off, an, i;
	ssize_t n;
	int qtype, rcode, batch;

	(void)loop;
	(void)revents;
	for (batch = 0; batch < FAKE_DNS_BATCH; batch++) {
		fromlen = sizeof(from);
		n = recvfrom(
		    s->fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
		if (n == -1)
			return;
		s->queries++;
		off =
		    fake_dns_question(q, (size_t)n, name, sizeof(name), &qtype);
		if (off == 0)
			continue;
		memset(&ans, 0, sizeof(ans));
		if (s->answer == NULL ||
		    (rcode = s->answer(s, name, qtype, &ans)) == FAKE_DNS_DROP)
			continue;
		memcpy(a, q, off); /* header and question */
		/* QR, opcode and RD copied, AA */
		a[2] = (unsigned char)(0x80 | (q[2] & 0x79) | 0x04);
		a[3] = (unsigned char)(0x80 | rcode); /* RA */
		a[6] = 0;
		a[7] = (unsigned char)ans.nrr;
		a[8] = a[9] = a[10] = a[11] = 0;
		an = off;
		for (i = 0; i < ans.nrr; i++)
			an += fake_dns_put_rr(a + an, &ans.rr[i]);
		if (ans.hold && s->held_len == 0) {
			memcpy(s->held, a, an);
			s->held_len = an;
			s->held_to = from;
			s->held_tolen = fromlen;
			continue;
		}
		fake_dns_send(s, a, an, &from, fromlen);
		if (s->held_len > 0) {
			fake_dns_send(s, s->held, s->held_len, &s->held_to,
			    s->held_tolen);
			s->held_len = 0;
		}
	}
}

/*
 * Opens <s> on an ephemeral loopback port and serves it from <loop>,
 * replying as <answer> says (NULL: never).  Returns 0, or -1 with
 * <s>->fd == -1.
 */
static int
fake_dns_open(
    struct fake_dns *s, struct ev_loop *loop, fake_dns_answer_fn *answer)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int sz = FAKE_DNS_RCVBUF;

	memset(s, 0, sizeof(*s));
	s->answer = answer;
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd == -1)
		return -1;
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)) == -1)
		tap_diag("fake DNS: SO_RCVBUF: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s->fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(s->fd, (struct sockaddr *)&sin, &len) == -1) {
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	snprintf(
	    s->server, sizeof(s->server), "127.0.0.1:%u", ntohs(sin.sin_port));
	ev_io_init(&s->io, fake_dns_cb, s->fd, EV_READ);
	ev_io_start(loop, &s->io);
	return 0;
}

/* Stops and closes <s>; harmless after a failed fake_dns_open(). */
static void
fake_dns_close(struct fake_dns *s, struct ev_loop *loop)
{
	ev_io_stop(loop, &s->io);
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
}

#endif
