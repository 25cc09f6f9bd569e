/*
 * The jail's DNS server, private to runtime/.  It runs on the proxy's
 * libev loop (host network namespace) on UDP and TCP sockets that the jail
 * created inside its own network namespace and handed over; the jail's
 * nftables rules redirect every UDP and TCP port-53 packet to them.
 *
 * Dummy mode (the default, like the Go tool's dnsdummy): every well-formed
 * query gets an authoritative NOERROR answer, A -> DNS_DUMMY_A and AAAA ->
 * DNS_DUMMY_AAAA with TTL 1, any other type an empty answer (NODATA).
 * Never NXDOMAIN, and nothing is ever sent anywhere else: a query cannot
 * carry data out of the jail.  The proxy resolves upstream hosts itself
 * (resolve.c) and never uses these answers.
 *
 * Real mode (--use-real-dns): each well-formed query is forwarded to the
 * host's resolvers with c-ares (ares_send, asynchronous) and the answer is
 * relayed back over the transport the query came on.
 *
 * Memory: dns_server_new() allocates everything (the server, a pool of
 * MAX_DNS_TCP TCP connections with fixed buffers, DNS_FWD_MAX_INFLIGHT
 * forwarding slots); serving a query allocates nothing of ours (c-ares
 * allocates internally in real mode).
 */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "limits.h"

/*
 * The dummy answers, as the wire bytes of the RDATA.  The same addresses
 * as JAIL_DUMMY_A ("6.6.6.6") and JAIL_DUMMY_AAAA ("2001:db8::1") in
 * jail/jail.h, which runtime/ does not include.
 */
#define DNS_DUMMY_A                                                            \
	{                                                                      \
		6, 6, 6, 6                                                     \
	}
#define DNS_DUMMY_AAAA                                                         \
	{                                                                      \
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1     \
	}
#define DNS_DUMMY_TTL 1 /* seconds, as the Go tool */

/* Wire constants (RFC 1035, RFC 3596, RFC 6891). */
#define DNS_HDR_LEN 12
#define DNS_MAX_NAME 255 /* a name in wire form, length octets included */
#define DNS_TYPE_A 1
#define DNS_TYPE_AAAA 28
#define DNS_TYPE_OPT 41
#define DNS_CLASS_IN 1
#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NOTIMP 4

/* What dns_parse_query() made of a message; dns_parse_str() names each. */
enum dns_parse {
	DNS_PARSE_OK,      /* one well-formed standard query */
	DNS_PARSE_DROP,    /* no header, or a response (QR=1): no reply */
	DNS_PARSE_FORMERR, /* header readable, the rest malformed */
	DNS_PARSE_NOTIMP,  /* an OPCODE other than QUERY */
	DNS_PARSE_COUNT
};

const char *dns_parse_str(enum dns_parse);

/*
 * A parsed query: offsets into the caller's message (STYLE rule 7: no copy
 * of the name).  The question is msg[DNS_HDR_LEN, q_end); the name is its
 * first <qname_len> bytes.
 */
struct dns_query {
	uint16_t id;
	uint16_t qtype;
	uint16_t qclass;
	int rd;             /* recursion desired */
	size_t qname_len;   /* wire length, terminating zero included */
	size_t q_end;       /* offset just past QTYPE and QCLASS */
	int edns;           /* an OPT record is present */
	uint16_t edns_size; /* its requestor's UDP payload size */
	size_t opt_off;     /* offset of the OPT record, if <edns> */
};

/*
 * Parses <msg> (<len> bytes) strictly as a query: header; QR 0; OPCODE
 * QUERY; exactly one question whose name has labels of at most 63 bytes,
 * at most DNS_MAX_NAME bytes in all and no compression pointer; no answer
 * or authority records; at most one additional record, which must be an
 * EDNS OPT record (accepted, otherwise ignored); nothing after it.  Fills
 * <q> on DNS_PARSE_OK only.  Borrows <msg> for the call; never reads
 * outside [msg, msg + len).
 */
enum dns_parse dns_parse_query(const uint8_t *msg, size_t len,
    struct dns_query *q) __attribute__((warn_unused_result));

/*
 * The dummy-mode reply to the message <msg> (<len> bytes), written to
 * <out> (<cap> bytes, at least DNS_UDP_MAX).  Returns its length (at most
 * DNS_UDP_MAX), or 0 when the message gets no reply (DNS_PARSE_DROP, or
 * <cap> too small).  FORMERR and NOTIMP replies carry the header only.
 */
size_t dns_dummy_reply(const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
    __attribute__((warn_unused_result));

/* Server configuration, borrowed by dns_server_new() for the call only. */
struct dns_cfg {
	int forward; /* 1: --use-real-dns, relay to real resolvers */
	/*
	 * Real mode only: NULL for the system resolvers (/etc/resolv.conf,
	 * read by c-ares), or a c-ares server list such as "127.0.0.1:5353"
	 * (tests, split-horizon setups).
	 */
	const char *upstream;
};

struct dns_server;

/*
 * Starts a DNS server on <loop> serving <fds> (<nfds>, at most
 * DNS_MAX_SOCKS): bound UDP sockets and listening TCP sockets, told apart
 * with SO_TYPE.  Takes ownership of every fd in <fds>, also on failure
 * (they are closed then), and makes them non-blocking and close-on-exec.
 * Returns the server, or NULL with a one-line reason in <err> (<errlen>
 * bytes).  Borrows <loop> until dns_server_free(); <cfg> is copied.
 */
struct dns_server *dns_server_new(struct ev_loop *loop, const int *fds,
    size_t nfds, const struct dns_cfg *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Stops every watcher, drops forwarded queries still in flight, closes
 * every TCP client and every socket given to dns_server_new(), and frees
 * <srv>.  NULL is a no-op.  Not to be called from inside a DNS callback.
 */
void dns_server_free(struct dns_server *srv);

#endif
