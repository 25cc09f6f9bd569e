/*
 * Asynchronous upstream name resolution: c-ares on the libev loop.  See
 * resolve.h for the contract.
 *
 * How it fits together:
 *   - The channel runs on the loop through aresev.c: one ev_io per
 *     socket of c-ares (at most ARESEV_MAX_SOCKS) and one ev_timer
 *     following ares_timeout() for retransmissions.
 *   - Each query carries a ticket (not the caller's request) as its c-ares
 *     argument, so a request may be cancelled and freed while c-ares still
 *     holds the query; the ticket returns to the free list when c-ares
 *     finally calls back.
 *   - c-ares' callback never calls the user: it stores the result in the
 *     request and arms the request's own timer at 0.  Every user callback
 *     therefore runs from that timer (or from resolve_close()), outside
 *     c-ares and outside resolve_start(), so a callback may start, cancel
 *     or close anything.  The same timer is the lookup's deadline while
 *     the query is in flight.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "resolve.h"

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Where a struct resolve_req is (req->state). */
enum {
	REQ_IDLE = 0,		/* no lookup: zeroed, delivered or cancelled */
	REQ_QUERY,		/* c-ares at work; req->tmo is the deadline */
	REQ_READY		/* result stored; req->tmo fires at once */
};

/* c-ares' per-try timeout in ms; a variable so that tests can shorten it. */
static int try_ms = RESOLVE_TRY_MS;

static const char *const status_code[RESOLVE_STATUS_COUNT] = {
	[RESOLVE_OK] = "ok",
	[RESOLVE_NXDOMAIN] = "nxdomain",
	[RESOLVE_NODATA] = "nodata",
	[RESOLVE_SERVFAIL] = "servfail",
	[RESOLVE_REFUSED] = "refused",
	[RESOLVE_TIMEOUT] = "timeout",
	[RESOLVE_BADRESP] = "badresp",
	[RESOLVE_BADNAME] = "badname",
	[RESOLVE_BUSY] = "busy",
	[RESOLVE_CLOSED] = "closed",
	[RESOLVE_ERROR] = "error",
};

static const char *const status_why[RESOLVE_STATUS_COUNT] = {
	[RESOLVE_OK] = "resolved",
	[RESOLVE_NXDOMAIN] = "name not found (NXDOMAIN)",
	[RESOLVE_NODATA] = "no IPv4 or IPv6 address for this name",
	[RESOLVE_SERVFAIL] = "DNS server failure",
	[RESOLVE_REFUSED] = "DNS query refused",
	[RESOLVE_TIMEOUT] = "DNS lookup timed out",
	[RESOLVE_BADRESP] = "malformed DNS answer",
	[RESOLVE_BADNAME] = "invalid host name",
	[RESOLVE_BUSY] = "too many DNS lookups in progress",
	[RESOLVE_CLOSED] = "resolver shut down",
	[RESOLVE_ERROR] = "DNS lookup failed",
};

const char *
resolve_status_str(enum resolve_status s)
{
	if ((unsigned)s >= RESOLVE_STATUS_COUNT || status_code[s] == NULL)
		return "?";
	return status_code[s];
}

const char *
resolve_status_why(enum resolve_status s)
{
	if ((unsigned)s >= RESOLVE_STATUS_COUNT || status_why[s] == NULL)
		return "DNS lookup failed";
	return status_why[s];
}

/* Maps a c-ares status of ares_getaddrinfo() to ours. */
static enum resolve_status
from_ares(int status)
{
	switch (status) {
	case ARES_SUCCESS:
		return RESOLVE_OK;
	case ARES_ENOTFOUND:
		return RESOLVE_NXDOMAIN;
	case ARES_ENODATA:
		return RESOLVE_NODATA;
	case ARES_ESERVFAIL:
	case ARES_ECONNREFUSED:	/* 1.18: all servers failed or unreachable */
		return RESOLVE_SERVFAIL;
	case ARES_EREFUSED:
		return RESOLVE_REFUSED;
	case ARES_ETIMEOUT:
		return RESOLVE_TIMEOUT;
	case ARES_EBADRESP:
		return RESOLVE_BADRESP;
	case ARES_EBADNAME:
		return RESOLVE_BADNAME;
	case ARES_ECANCELLED:
	case ARES_EDESTRUCTION:
		return RESOLVE_CLOSED;
	default:
		return RESOLVE_ERROR;
	}
}

/* ---- requests ----------------------------------------------------------- */

static void
req_link(struct resolver *r, struct resolve_req *req)
{
	req->r = r;
	req->prev = NULL;
	req->next = r->active;
	if (r->active != NULL)
		r->active->prev = req;
	r->active = req;
}

/* Makes <req> idle: stops its timer, unlinks it, lets go of its query. */
static void
req_detach(struct resolve_req *req)
{
	struct resolver *r = req->r;

	if (req->loop != NULL)
		ev_timer_stop(req->loop, &req->tmo);
	if (r != NULL) {
		if (req->prev != NULL)
			req->prev->next = req->next;
		else
			r->active = req->next;
		if (req->next != NULL)
			req->next->prev = req->prev;
		req->prev = req->next = NULL;
		req->r = NULL;
	}
	if (req->ticket != NULL) {
		req->ticket->req = NULL;	/* its answer is dropped */
		req->ticket = NULL;
	}
	if (req->ai != NULL) {
		ares_freeaddrinfo(req->ai);
		req->ai = NULL;
	}
	req->has_lit = 0;
	req->state = REQ_IDLE;
}

/* Stores <status> and schedules delivery on the next loop iteration. */
static void
req_ready(struct resolve_req *req, enum resolve_status status)
{
	req->status = status;
	req->state = REQ_READY;
	ev_timer_stop(req->loop, &req->tmo);
	ev_timer_set(&req->tmo, 0., 0.);
	ev_timer_start(req->loop, &req->tmo);
}

/* Appends <sa> (<len> bytes) to addrs[*n] with <port>, unless present. */
static void
add_addr(struct sockaddr_storage *addrs, size_t *n, const struct sockaddr *sa,
    size_t len, uint16_t port)
{
	struct sockaddr_storage ss;
	size_t i;

	if (*n >= RESOLVE_MAX_ADDRS || len > sizeof(ss))
		return;
	if (sa->sa_family == AF_INET && len < sizeof(struct sockaddr_in))
		return;
	if (sa->sa_family == AF_INET6 && len < sizeof(struct sockaddr_in6))
		return;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, sa, len);
	if (ss.ss_family == AF_INET)
		((struct sockaddr_in *)(void *)&ss)->sin_port = htons(port);
	else
		((struct sockaddr_in6 *)(void *)&ss)->sin6_port = htons(port);
	for (i = 0; i < *n; i++)
		if (memcmp(&addrs[i], &ss, sizeof(ss)) == 0)
			return;
	addrs[(*n)++] = ss;
}

/* Fills <addrs> from the stored result: IPv4 first, then IPv6. */
static size_t
req_collect(const struct resolve_req *req, struct sockaddr_storage *addrs)
{
	static const int families[] = { AF_INET, AF_INET6 };
	const struct ares_addrinfo_node *nd;
	size_t n = 0, f;

	if (req->has_lit) {
		add_addr(addrs, &n, (const struct sockaddr *)&req->lit,
		    req->lit.v4.sin_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6),
		    req->port);
		return n;
	}
	if (req->ai == NULL)
		return 0;
	for (f = 0; f < sizeof(families) / sizeof(families[0]); f++)
		for (nd = req->ai->nodes; nd != NULL; nd = nd->ai_next)
			if (nd->ai_family == families[f] &&
			    nd->ai_addr != NULL &&
			    nd->ai_addr->sa_family == families[f])
				add_addr(addrs, &n, nd->ai_addr,
				    (size_t)nd->ai_addrlen, req->port);
	return n;
}

/* req->tmo: the deadline passed, or a stored result is to be delivered. */
static void
req_tmo_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct resolve_req *req = container_of(w, struct resolve_req, tmo);
	struct sockaddr_storage addrs[RESOLVE_MAX_ADDRS];
	resolve_cb *cb = req->cb;
	void *arg = req->arg;
	enum resolve_status st;
	size_t n = 0;

	(void)loop;
	(void)revents;
	if (req->state == REQ_QUERY)
		st = RESOLVE_TIMEOUT;
	else {
		st = (enum resolve_status)req->status;
		if (st == RESOLVE_OK && (n = req_collect(req, addrs)) == 0)
			st = RESOLVE_NODATA;
	}
	req_detach(req);
	cb(arg, st, n > 0 ? addrs : NULL, n, resolve_status_why(st));
}

/* c-ares' callback: records the result; never calls the user. */
static void
addrinfo_cb(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct resolve_ticket *t = arg;
	struct resolver *r = t->r;
	struct resolve_req *req = t->req;

	(void)timeouts;
	t->req = NULL;
	t->next_free = r->free_tickets;
	r->free_tickets = t;
	if (req == NULL) {			/* cancelled or timed out */
		if (res != NULL)
			ares_freeaddrinfo(res);
		return;
	}
	req->ticket = NULL;
	if (status == ARES_SUCCESS)
		req->ai = res;
	else if (res != NULL)
		ares_freeaddrinfo(res);
	req_ready(req, from_ares(status));
}

/*
 * Parses an IP literal: 1 and <lit> filled, 0 when <host> is no literal,
 * -1 when it looks like an IPv6 literal (brackets or a colon) but is not
 * a valid one (zone identifiers included).
 */
static int
parse_literal(const char *host, size_t n, uint16_t port,
    struct resolve_req *req)
{
	char buf[INET6_ADDRSTRLEN];

	memset(&req->lit, 0, sizeof(req->lit));
	if (n > 0 && (host[0] == '[' || memchr(host, ':', n) != NULL)) {
		if (host[0] == '[') {
			if (n < 3 || host[n - 1] != ']')
				return -1;
			host++;
			n -= 2;
		}
		if (n >= sizeof(buf))
			return -1;
		memcpy(buf, host, n);
		buf[n] = '\0';
		if (inet_pton(AF_INET6, buf, &req->lit.v6.sin6_addr) != 1)
			return -1;
		req->lit.v6.sin6_family = AF_INET6;
		req->lit.v6.sin6_port = htons(port);
		return 1;
	}
	if (inet_pton(AF_INET, host, &req->lit.v4.sin_addr) == 1) {
		req->lit.v4.sin_family = AF_INET;
		req->lit.v4.sin_port = htons(port);
		return 1;
	}
	return 0;
}

/* A name we look up: LDH labels (and '_'), none empty or too long. */
static int
valid_name(const char *host, size_t n)
{
	size_t i, label = 0;
	unsigned char c;

	if (n == 0 || n > MAX_HOST_LEN)
		return 0;
	for (i = 0; i < n; i++) {
		c = (unsigned char)host[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
		if (++label > MAX_LABEL_LEN)
			return 0;
	}
	return label > 0;
}

/* ---- public ------------------------------------------------------------- */

int
resolve_init(struct resolver *r, struct ev_loop *loop, const char *servers_csv,
    char *err, size_t errlen)
{
	static char lookups_dns[] = "b";
	struct ares_options opts;
	int mask, rc;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->loop = loop;
	r->timeout = TIMEOUT_RESOLVE;
	for (i = RESOLVE_MAX_PENDING; i-- > 0;) {
		r->tickets[i].r = r;
		r->tickets[i].next_free = r->free_tickets;
		r->free_tickets = &r->tickets[i];
	}
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		goto fail;
	}
	r->lib_init = 1;

	memset(&opts, 0, sizeof(opts));
	mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS |
	    ARES_OPT_SOCK_RCVBUF;
	opts.timeout = try_ms;
	opts.tries = RESOLVE_TRIES;
	/* Room for a burst of answers between two loop iterations. */
	opts.socket_receive_buffer_size = RESOLVE_SOCK_RCVBUF;
	/* HOSTALIASES would be a file read on the loop and a second policy. */
	opts.flags = ARES_FLAG_NOALIASES;
	if (servers_csv != NULL) {
		/* Explicit servers: DNS only, the name as given. */
		opts.flags |= ARES_FLAG_NOSEARCH;
		opts.lookups = lookups_dns;
		opts.domains = NULL;
		opts.ndomains = 0;
		mask |= ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS;
	}
	if (aresev_init(&r->ae, loop, &opts, mask, err, errlen) == -1)
		goto fail;
	if (servers_csv != NULL &&
	    (rc = ares_set_servers_ports_csv(r->ae.ch, servers_csv)) !=
	    ARES_SUCCESS) {
		snprintf(err, errlen, "bad DNS server list '%s': %s",
		    servers_csv, ares_strerror(rc));
		goto fail;
	}
	r->open = 1;
	return 0;

 fail:
	aresev_close(&r->ae);
	if (r->lib_init) {
		ares_library_cleanup();
		r->lib_init = 0;
	}
	return -1;
}

void
resolve_set_timeout(struct resolver *r, double secs)
{
	if (secs > 0)
		r->timeout = secs;
}

void
resolve_close(struct resolver *r)
{
	struct resolve_req *req;
	resolve_cb *cb;
	void *arg;

	if (!r->open)
		return;
	r->open = 0;
	/* Callbacks may cancel other requests: always take the head. */
	while ((req = r->active) != NULL) {
		cb = req->cb;
		arg = req->arg;
		req_detach(req);
		cb(arg, RESOLVE_CLOSED, NULL, 0,
		    resolve_status_why(RESOLVE_CLOSED));
	}
	/* Queries left are abandoned: their callbacks only free tickets. */
	aresev_close(&r->ae);
	if (r->lib_init) {
		ares_library_cleanup();
		r->lib_init = 0;
	}
}

int
resolve_start(struct resolver *r, struct resolve_req *req, const char *host,
    uint16_t port, resolve_cb *cb, void *arg)
{
	struct ares_addrinfo_hints hints;
	struct resolve_ticket *t;
	enum resolve_status st;
	size_t n = strlen(host);
	int lit;

	if (req->state != REQ_IDLE)
		resolve_cancel(req);	/* one lookup per request at a time */
	req->why = NULL;
	if (!r->open) {
		st = RESOLVE_CLOSED;
		goto fail;
	}
	lit = parse_literal(host, n, port, req);
	if (lit == -1 || (lit == 0 && !valid_name(host, n))) {
		st = RESOLVE_BADNAME;
		goto fail;
	}
	if (lit == 0 && r->free_tickets == NULL) {
		st = RESOLVE_BUSY;
		goto fail;
	}
	req->loop = r->loop;
	req->cb = cb;
	req->arg = arg;
	req->port = port;
	req->ticket = NULL;
	req->ai = NULL;
	req->status = RESOLVE_OK;
	ev_init(&req->tmo, req_tmo_cb);
	req_link(r, req);
	if (lit == 1) {
		req->has_lit = 1;
		req_ready(req, RESOLVE_OK);
		return 0;
	}
	t = r->free_tickets;
	r->free_tickets = t->next_free;
	t->next_free = NULL;
	t->req = req;
	req->ticket = t;
	req->state = REQ_QUERY;
	ev_timer_set(&req->tmo, r->timeout, 0.);
	ev_timer_start(r->loop, &req->tmo);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = ARES_AI_NOSORT;	/* we order: IPv4, then IPv6 */
	/* May call addrinfo_cb at once; that only schedules the delivery. */
	ares_getaddrinfo(r->ae.ch, host, NULL, &hints, addrinfo_cb, t);
	aresev_update_timer(&r->ae);
	return 0;

 fail:
	req->why = resolve_status_why(st);
	return -1;
}

void
resolve_cancel(struct resolve_req *req)
{
	if (req->state == REQ_IDLE)
		return;
	req_detach(req);
}
