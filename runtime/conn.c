/*
 * One client connection: an explicit state machine driven by conn_pump(),
 * which every watcher calls.  Each state makes as much progress as it can
 * without blocking, records what its endpoints wait for (ep->want), and the
 * pump then re-arms exactly those watchers and the state's deadline.
 *
 *   SNIFF --0x16--> TLS_HS --> HEAD          (direct TLS, or TLS in CONNECT)
 *   SNIFF --other--> HEAD
 *   HEAD --deny--> REPLY (403) --> HEAD | DISCARD --> HEAD | close
 *   HEAD --CONNECT allowed--> REPLY (200) --> SNIFF (in tunnel)
 *   HEAD --allow--> RESOLVE --> DIAL [--> UP_TLS] --> FORWARD --> HEAD
 *   FORWARD --101--> TUNNEL
 *
 * Every request is decided on its own (STYLE rule 27) before any of its
 * bytes go upstream; what goes upstream is rebuilt from the parsed head
 * (canonical path, decided host, hop-by-hop fields removed), never relayed
 * verbatim.  Bodies stream through fixed buffers with backpressure.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

/* <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h> */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

#include "../runtime/bt_format.h"
#include "hello.h"
#include "log.h"
#include "proxy.h"

static void conn_pump(struct conn *c);

/*
 * Marks whether c->up is an idle upstream kept by this client between
 * requests, counting them: past MAX_HELD_UPSTREAMS an idle client gives
 * its upstream to the bounded shared pool instead of keeping it (so
 * 10,000 idle clients do not hold 10,000 upstream sockets).
 */
static void
set_up_idle(struct conn *c, int idle)
{
	if (idle && !c->up_idle)
		c->px->nheld++;
	else if (!idle && c->up_idle)
		c->px->nheld--;
	c->up_idle = idle;
}
static void conn_timeout(struct conn *c);
static void ep_close(struct conn *c, struct ep *e);

static const char *const state_names[CONN_ST_COUNT] = {
	[CONN_ST_SNIFF] = "SNIFF",
	[CONN_ST_TLS_HS] = "TLS_HS",
	[CONN_ST_HEAD] = "HEAD",
	[CONN_ST_REPLY] = "REPLY",
	[CONN_ST_DISCARD] = "DISCARD",
	[CONN_ST_RESOLVE] = "RESOLVE",
	[CONN_ST_DIAL] = "DIAL",
	[CONN_ST_UP_TLS] = "UP_TLS",
	[CONN_ST_FORWARD] = "FORWARD",
	[CONN_ST_TUNNEL] = "TUNNEL",
	[CONN_ST_CLOSED] = "CLOSED",
};

const char *
conn_state_str(enum conn_state s)
{
	if ((unsigned)s >= CONN_ST_COUNT)
		return "?";
	return state_names[s];
}

#define BIT(s) (1u << (s))

/* Legal transitions (STYLE rule 22); CLOSED is reachable from anywhere. */
static const uint32_t allowed[CONN_ST_COUNT] = {
	[CONN_ST_SNIFF] = BIT(CONN_ST_TLS_HS) | BIT(CONN_ST_HEAD),
	[CONN_ST_TLS_HS] = BIT(CONN_ST_HEAD),
	[CONN_ST_HEAD] = BIT(CONN_ST_REPLY) | BIT(CONN_ST_RESOLVE) |
	    BIT(CONN_ST_FORWARD),
	[CONN_ST_REPLY] = BIT(CONN_ST_HEAD) | BIT(CONN_ST_SNIFF) |
	    BIT(CONN_ST_DISCARD),
	[CONN_ST_DISCARD] = BIT(CONN_ST_HEAD),
	[CONN_ST_RESOLVE] = BIT(CONN_ST_DIAL) | BIT(CONN_ST_REPLY),
	[CONN_ST_DIAL] = BIT(CONN_ST_UP_TLS) | BIT(CONN_ST_FORWARD) |
	    BIT(CONN_ST_REPLY) | BIT(CONN_ST_DIAL),
	[CONN_ST_UP_TLS] = BIT(CONN_ST_FORWARD) | BIT(CONN_ST_REPLY),
	[CONN_ST_FORWARD] = BIT(CONN_ST_HEAD) | BIT(CONN_ST_TUNNEL) |
	    BIT(CONN_ST_REPLY),
	[CONN_ST_TUNNEL] = 0,
	[CONN_ST_CLOSED] = 0,
};

static void
conn_set_state(struct conn *c, enum conn_state to)
{
	assert(to == CONN_ST_CLOSED || (allowed[c->st] & BIT(to)));
	log_debug("conn %llu: %s -> %s", (unsigned long long)c->id,
	    conn_state_str(c->st), conn_state_str(to));
	c->st = to;
	c->head_timing = 0;
}

/* ---- buffers -------------------------------------------------------- */

static void
buf_attach(struct buf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->off = b->len = 0;
}

/*
 * Gives <c> a work area (buffers, header arrays, path) from the free list.
 * Returns 0, or -1 when memory is exhausted.
 */
static int
work_attach(struct conn *c)
{
	struct proxy *px = c->px;
	struct conn_work *w = c->w;

	if (w != NULL)
		return 0;
	if ((w = px->free_work) != NULL)
		px->free_work = w->next;
	else if (px->nwork >= MAX_WORK_AREAS ||
	    (w = malloc(sizeof(*w))) == NULL)
		return -1;	/* bounded: many busy clients cannot exhaust memory */
	else
		px->nwork++;
	w->next = NULL;
	c->w = w;
	c->hdrs = w->hdrs;
	c->rhdrs = w->rhdrs;
	c->path = w->path;
	buf_attach(&c->cin, w->cin, sizeof(w->cin));
	buf_attach(&c->uout, w->uout, sizeof(w->uout));
	buf_attach(&c->uin, w->uin, sizeof(w->uin));
	buf_attach(&c->cout, w->cout, sizeof(w->cout));
	return 0;
}

/* Returns the work area when nothing in it is still needed. */
static void
work_detach(struct conn *c)
{
	struct conn_work *w = c->w;

	if (w == NULL)
		return;
	w->next = c->px->free_work;
	c->px->free_work = w;
	c->w = NULL;
	c->hdrs = c->rhdrs = NULL;
	c->path = NULL;
	memset(&c->cin, 0, sizeof(c->cin));
	memset(&c->uout, 0, sizeof(c->uout));
	memset(&c->uin, 0, sizeof(c->uin));
	memset(&c->cout, 0, sizeof(c->cout));
}

/* Idle between requests: no byte buffered anywhere, no request open. */
static int
work_idle(const struct conn *c)
{
	return (c->st == CONN_ST_HEAD || c->st == CONN_ST_SNIFF) &&
	    c->cin.len == 0 && c->cout.len == 0 && c->uin.len == 0 &&
	    c->uout.len == 0 && c->head_len == 0;
}

void
conn_free_work(struct proxy *px)
{
	struct conn_work *w;

	while ((w = px->free_work) != NULL) {
		px->free_work = w->next;
		free(w);
		px->nwork--;
	}
}

static char *
buf_data(const struct buf *b)
{
	return b->p + b->off;
}

static size_t
buf_room(struct buf *b)
{
	if (b->len == 0)
		b->off = 0;
	else if (b->off > 0 && b->cap - b->off - b->len < b->cap / 2) {
		/* little room at the tail: move the data to the front */
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
	}
	return b->cap - b->off - b->len;
}

static char *
buf_tail(struct buf *b)
{
	return b->p + b->off + b->len;
}

static void
buf_consume(struct buf *b, size_t n)
{
	assert(n <= b->len);
	b->off += n;
	b->len -= n;
	if (b->len == 0)
		b->off = 0;
}

/* Makes the data start at p[0] (heads are parsed in place). */
static void
buf_compact(struct buf *b)
{
	if (b->off > 0) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
	}
}

static int
buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = buf_room(b);
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf_tail(b), room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		return -1;
	b->len += (size_t)n;
	return 0;
}

static int
buf_put(struct buf *b, const void *p, size_t n)
{
	if (buf_room(b) < n)
		return -1;
	memcpy(buf_tail(b), p, n);
	b->len += n;
	return 0;
}

/* Appends a string literal. */
#define buf_lit(b, s) buf_put((b), (s), sizeof(s) - 1)

static int
buf_view(struct buf *b, struct view v)
{
	return buf_put(b, v.p, v.n);
}

/*
 * Writes the decimal digits of <v> backwards, ending at <end>; returns
 * where they start.  <end> needs 20 bytes of room before it.
 */
static char *
fmt_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

/* Appends <v> in decimal (heads are built without printf: hot path). */
static int
buf_u64(struct buf *b, uint64_t v)
{
	char tmp[20], *s = fmt_u64(tmp + sizeof(tmp), v);

	return buf_put(b, s, (size_t)(tmp + sizeof(tmp) - s));
}

/* Appends "name: value\r\n" (cheaper than a printf per header). */
static int
buf_header(struct buf *b, const struct http_hdr *h)
{
	size_t n = h->name.n + 2 + h->value.n + 2;
	char *t;

	if (buf_room(b) < n)
		return -1;
	t = buf_tail(b);
	memcpy(t, h->name.p, h->name.n);
	t += h->name.n;
	*t++ = ':';
	*t++ = ' ';
	memcpy(t, h->value.p, h->value.n);
	t += h->value.n;
	*t++ = '\r';
	*t = '\n';
	b->len += n;
	return 0;
}

/* ---- endpoints ------------------------------------------------------- */

/*
 * Maps a tls_read/tls_write result onto the endpoint contract below,
 * recording what the TLS layer waits for in e->want.
 */
static ssize_t
tls_result(struct ep *e, ssize_t r)
{
	if (r > 0)
		return r;
	if (r == TLS_WANT_READ || r == TLS_WANT_WRITE) {
		e->want |= r == TLS_WANT_READ ? EV_READ : EV_WRITE;
		return -1;
	}
	return r == TLS_CLOSED ? 0 : -2;
}

/* >0 bytes, 0 end of stream, -1 would block (e->want set), -2 error. */
static ssize_t
ep_read(struct ep *e, void *p, size_t n)
{
	ssize_t r;

	if (e->tls_on)
		return tls_result(e, tls_read(e->tls, p, n));
	r = recv(e->fd, p, n, 0);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		e->want |= EV_READ;
		return -1;
	}
	return -2;
}

static ssize_t
ep_write(struct ep *e, const void *p, size_t n)
{
	ssize_t r;

	if (e->tls_on) {
		/* a peer that closed while we write is an error, not an end */
		r = tls_result(e, tls_write(e->tls, p, n));
		return r == 0 ? -2 : r;
	}
	r = send(e->fd, p, n, MSG_NOSIGNAL);
	if (r >= 0)
		return r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
		e->want |= EV_WRITE;
		return -1;
	}
	return -2;
}

/* Bytes buffered inside TLS that the socket will not signal. */
static int
ep_pending(struct ep *e)
{
	return e->tls_on && tls_pending(e->tls) > 0;
}

/*
 * Reads from <e> into <b>.  1 progress, 0 blocked or no room, -1 end of
 * stream (e->eof set), -2 error.
 */
static int
fill(struct ep *e, struct buf *b)
{
	size_t room = buf_room(b);
	ssize_t r;

	if (room == 0 || e->fd == -1)
		return 0;
	if (e->drained) {
		/* a short read just emptied the socket: wait for readiness */
		e->want |= EV_READ;
		return 0;
	}
	r = ep_read(e, buf_tail(b), room);
	if (r > 0) {
		b->len += (size_t)r;
		/* plain sockets: fewer bytes than asked means nothing is left */
		if ((size_t)r < room && !e->tls_on)
			e->drained = 1;
		return 1;
	}
	if (r == 0) {
		e->eof = 1;
		return -1;
	}
	return r == -1 ? 0 : -2;
}

/* Writes <b> to <e>.  1 progress, 0 blocked or empty, -2 error. */
static int
flush(struct ep *e, struct buf *b)
{
	ssize_t r;

	if (b->len == 0 || e->fd == -1)
		return 0;
	r = ep_write(e, buf_data(b), b->len);
	if (r > 0) {
		buf_consume(b, (size_t)r);
		return 1;
	}
	return r == -1 ? 0 : -2;
}

/*
 * An upstream kept for the next request is watched while idle: readable
 * then means it closed (or spoke out of turn), and it is dropped.
 * Returns 1 if the event was handled here.
 */
static int
idle_upstream_event(struct conn *c)
{
	char b;
	ssize_t r;

	if (!c->up_idle || c->st == CONN_ST_FORWARD)
		return 0;
	r = recv(c->up.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (r == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 1;	/* spurious */
	ep_close(c, &c->up);
	set_up_idle(c, 0);
	c->up_host_len = 0;
	return 1;
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	if (w == &c->up.io && idle_upstream_event(c))
		return;
	c->cl.drained = c->up.drained = 0;
	c->cl_ready = w == &c->cl.io;
	conn_pump(c);
	c->cl_ready = 0;
}

static void
ep_arm(struct conn *c, struct ep *e)
{
	int want = e->fd == -1 ? 0 : e->want;

	if (want == e->armed)
		return;
	if (e->armed)
		ev_io_stop(c->px->loop, &e->io);
	e->armed = want;
	if (want) {
		ev_io_set(&e->io, e->fd, want);
		ev_io_start(c->px->loop, &e->io);
	}
}

static void
ep_close(struct conn *c, struct ep *e)
{
	if (e->armed) {
		ev_io_stop(c->px->loop, &e->io);
		e->armed = 0;
	}
	if (e->tls != NULL) {
		if (e->tls_on)
			tls_shutdown(e->tls);
		tls_free(e->tls);
		e->tls = NULL;
	}
	e->tls_on = 0;
	if (e->fd != -1) {
		close(e->fd);
		e->fd = -1;
	}
	e->want = 0;
	e->eof = 0;
}

/*
 * Lets go of the upstream connection: into the idle pool when it finished
 * a response cleanly, closed otherwise.
 */
static void
up_release(struct conn *c)
{
	struct ep *e = &c->up;

	if (e->fd != -1 && c->up_idle && !e->eof) {
		if (e->armed) {
			ev_io_stop(c->px->loop, &e->io);
			e->armed = 0;
		}
		upool_put(&c->px->upool, view_make(c->up_host, c->up_host_len),
		    c->up_port, e->tls_on, e->fd, e->tls_on ? e->tls : NULL);
		if (!e->tls_on && e->tls != NULL)
			tls_free(e->tls);
		e->fd = -1;
		e->tls = NULL;
		e->tls_on = 0;
		e->want = 0;
	}
	set_up_idle(c, 0);
	ep_close(c, e);
}

/* ---- the connection pool (STYLE rule 15) ------------------------------- */

/*
 * MAX_CONNS connection objects in one anonymous mapping made at start-up.
 * Slots are handed out from a free list (most recently freed first) or,
 * when it is empty, from the never-used part, so only the pages of as many
 * connections as were ever open at once are touched: resident memory
 * follows the peak, not MAX_CONNS.
 */
int
conn_pool_init(struct proxy *px)
{
	void *p = mmap(NULL, MAX_CONNS * sizeof(struct conn),
	    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
	    -1, 0);

	if (p == MAP_FAILED)
		return -1;
	px->pool = p;
	px->pool_used = 0;
	px->pool_free = NULL;
#ifdef __SANITIZE_ADDRESS__
	ASAN_POISON_MEMORY_REGION(p, MAX_CONNS * sizeof(struct conn));
#endif
	return 0;
}

void
conn_pool_free(struct proxy *px)
{
	if (px->pool == NULL)
		return;
#ifdef __SANITIZE_ADDRESS__
	ASAN_UNPOISON_MEMORY_REGION(px->pool, MAX_CONNS * sizeof(struct conn));
#endif
	munmap(px->pool, MAX_CONNS * sizeof(struct conn));
	px->pool = NULL;
	px->pool_free = NULL;
	px->pool_used = 0;
}

/* A zeroed connection object, or NULL when all MAX_CONNS are in use. */
static struct conn *
conn_get(struct proxy *px)
{
	struct conn *c;

	if ((c = px->pool_free) != NULL) {
#ifdef __SANITIZE_ADDRESS__
		ASAN_UNPOISON_MEMORY_REGION(c, sizeof(*c));
#endif
		px->pool_free = c->next;
	} else if (px->pool != NULL && px->pool_used < MAX_CONNS) {
		c = &px->pool[px->pool_used++];
#ifdef __SANITIZE_ADDRESS__
		ASAN_UNPOISON_MEMORY_REGION(c, sizeof(*c));
#endif
	} else
		return NULL;
	memset(c, 0, sizeof(*c));
	return c;
}

/* Gives <c> back; a use after this is caught by ASan in SAN=1 builds. */
static void
conn_put(struct proxy *px, struct conn *c)
{
	c->next = px->pool_free;
	px->pool_free = c;
#ifdef __SANITIZE_ADDRESS__
	/* the link stays readable: it is the free list */
	ASAN_POISON_MEMORY_REGION((char *)c + sizeof(c->px) + sizeof(c->next),
	    sizeof(*c) - sizeof(c->px) - sizeof(c->next));
#endif
}

/* ---- teardown -------------------------------------------------------- */

void
conn_close(struct conn *c, const char *why)
{
	struct proxy *px = c->px;
	struct conn **pp;

	if (c->st == CONN_ST_CLOSED)
		return;
	log_debug("conn %llu: close in %s: %s", (unsigned long long)c->id,
	    conn_state_str(c->st), why);
	conn_set_state(c, CONN_ST_CLOSED);
	if (c->resolving) {
		resolve_cancel(&c->rr);
		c->resolving = 0;
	}
	ev_timer_stop(px->loop, &c->tmo);
	ep_close(c, &c->cl);
	up_release(c);
	for (pp = &px->live; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	px->nconns--;
	/*
	 * Freed by conn_reap() from the loop, never here: the caller (a step
	 * of conn_pump) still looks at c->st after this returns.
	 */
	c->next = px->dead;
	px->dead = c;
}

void
conn_reap(struct proxy *px)
{
	struct conn *c;

	while ((c = px->dead) != NULL) {
		px->dead = c->next;
		work_detach(c);
		conn_put(px, c);
	}
}

/* ---- deadlines -------------------------------------------------------- */

static void
tmo_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	conn_timeout(c);
}

static ev_tstamp
state_timeout(const struct conn *c)
{
	const struct proxy_cfg *cfg = &c->px->cfg;

	switch (c->st) {
	case CONN_ST_SNIFF:
	case CONN_ST_TLS_HS:
		return cfg->head_timeout;
	case CONN_ST_HEAD:
		return c->cin.len == 0 ? cfg->idle_timeout : cfg->head_timeout;
	case CONN_ST_RESOLVE:
	case CONN_ST_DIAL:
	case CONN_ST_UP_TLS:
		return cfg->connect_timeout;
	default:
		return cfg->io_timeout;
	}
}

/* Restarts the deadline: every state waits at most its own timeout. */
static void
rearm_deadline(struct conn *c)
{
	c->tmo.repeat = state_timeout(c);
	ev_timer_again(c->px->loop, &c->tmo);
}

/* ---- audit and replies ----------------------------------------------- */

static const char *
scheme(const struct conn *c)
{
	return c->https ? "https" : "http";
}

/* Appends <n> bytes of <p> to out[*at..cap), cut at the end of the room. */
static void
url_put(char *out, size_t cap, size_t *at, const char *p, size_t n)
{
	if (n > cap - *at)
		n = cap - *at;
	memcpy(out + *at, p, n);
	*at += n;
}

/*
 * The URL of the request as audited: scheme://host[:port]/path?query, cut
 * to <cap> - 1 bytes and NUL-terminated.  Returns its length.
 */
static size_t
request_url(const struct conn *c, char *out, size_t cap)
{
	int dflt = c->port == 0 || c->port == (c->https ? 443 : 80);
	char num[20], *s;
	size_t at = 0;

	if (cap == 0)
		return 0;
	cap--;

	if (c->https)
		url_put(out, cap, &at, "https://", 8);
	else
		url_put(out, cap, &at, "http://", 7);
	url_put(out, cap, &at, c->host, c->host_len);
	if (!dflt) {
		s = fmt_u64(num + sizeof(num), c->port);
		url_put(out, cap, &at, ":", 1);
		url_put(out, cap, &at, s, (size_t)(num + sizeof(num) - s));
	}
	if (c->path_len > 0)
		url_put(out, cap, &at, c->path, c->path_len);
	else
		url_put(out, cap, &at, "/", 1);
	if (c->has_query) {
		url_put(out, cap, &at, "?", 1);
		url_put(out, cap, &at, c->query.p, c->query.n);
	}
	out[at] = '\0';
	return at;
}

/* One audit record for the request being decided (STYLE rule 27). */
static void
audit_request(struct conn *c, enum reason reason)
{
	static char url[AUDIT_URL_MAX + 64];
	char rule[BT_MAX_RULE_TEXT];
	struct audit_rec rec;
	size_t ulen = request_url(c, url, sizeof(url)), rlen = 0;

	if (reason == REASON_ALLOWED)
		rlen = bt_rule_text(c->px->cfg.bt, c->verdict.rule, rule,
		    sizeof(rule));
	audit_rec_fill(&rec, reason, c->req.method, view_make(url, ulen),
	    view_make(rule, rlen < sizeof(rule) ? rlen : sizeof(rule)),
	    c->req.host.n ? c->req.host : view_make(c->host, c->host_len));
	c->seq = audit_emit(c->px->cfg.audit, &rec);
	if (reason == REASON_ALLOWED)
		log_info("allow %.*s %.*s rule: %.*s", (int)c->req.method.n,
		    c->req.method.p, (int)ulen, url, (int)rlen, rule);
	else
		log_warn("deny %.*s %.*s: %s", (int)c->req.method.n,
		    c->req.method.p, (int)ulen, url, reason_str(reason));
}

static const char *
status_text(int status)
{
	switch (status) {
	case 200: return "Connection established";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 408: return "Request Timeout";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/*
 * Queues a response of our own and enters REPLY.  <close>: the client
 * connection ends after it; otherwise the state after REPLY depends on the
 * request (tunnel, body to discard, next head).
 */
static void
reply(struct conn *c, int status, const char *code, const char *body,
    int close)
{
	size_t blen = body ? strlen(body) : 0;

	c->cout.off = c->cout.len = 0;
	if (status == 200) {
		buf_printf(&c->cout, "HTTP/1.1 200 Connection established\r\n\r\n");
	} else {
		buf_printf(&c->cout, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
		    "Content-Length: %zu\r\n", status, status_text(status), blen);
		if (code != NULL)
			buf_printf(&c->cout, "X-Boundary-Reason: %s\r\n", code);
		if (close)
			buf_printf(&c->cout, "Connection: close\r\n");
		buf_printf(&c->cout, "\r\n");
		buf_put(&c->cout, body, blen);
	}
	c->close_after = close;
	conn_set_state(c, CONN_ST_REPLY);
}

/* An error reply that closes the connection (400, 431, 502, ...). */
static void
reply_error(struct conn *c, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
reply_error(struct conn *c, int status, const char *code, const char *fmt, ...)
{
	char body[1024];
	va_list ap;
	int n;

	n = snprintf(body, sizeof(body), "boundary: %d %s: ", status,
	    status_text(status));
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(body))
		vsnprintf(body + n, sizeof(body) - (size_t)n, fmt, ap);
	va_end(ap);
	strncat(body, "\n", sizeof(body) - strlen(body) - 1);
	reply(c, status, code, body, 1);
}

static void
reply_denied(struct conn *c, enum reason reason)
{
	char body[4096];
	int m = (int)c->req.method.n, h = (int)c->host_len, p = (int)c->path_len;

	snprintf(body, sizeof(body),
	    "Request blocked by boundary (%s)\n\n"
	    "Request: %.*s %s://%.*s%.*s\n"
	    "Host: %.*s\n\n"
	    "To allow it, add one of these rules to the allowlist:\n"
	    "  --allow \"domain=%.*s\"\n"
	    "  --allow \"method=%.*s domain=%.*s\"\n"
	    "  --allow \"method=%.*s domain=%.*s path=%.*s\"\n",
	    reason_str(reason), m, c->req.method.p, scheme(c), h, c->host, p,
	    c->path, h, c->host, h, c->host, m, c->req.method.p, h, c->host,
	    m, c->req.method.p, h, c->host, p, c->path);
	/*
	 * The connection stays usable: a body is read and dropped first.  A
	 * client waiting for 100 Continue may never send it, so then close.
	 */
	reply(c, 403, reason_str(reason), body,
	    c->req.expect_continue && !c->req_done);
}

/* ---- deciding a request ------------------------------------------------ */

static int
method_is(const struct conn *c, const char *m)
{
	return view_eq_cstr(c->req.method, m);
}

/*
 * Canonicalises an authority into c->host/port/host_kind.  Returns 0 or -1.
 */
static int
set_host(struct conn *c, struct view authority)
{
	int n = url_host_canon(authority, c->host, sizeof(c->host), &c->port,
	    &c->host_kind);

	if (n <= 0)
		return -1;
	c->host_len = (size_t)n;
	return 0;
}

static int
same_host(struct view a, const char *b, size_t blen)
{
	char tmp[MAX_HOST_LEN + 3];
	enum host_kind k;
	uint16_t port;
	int n = url_host_canon(a, tmp, sizeof(tmp), &port, &k);

	return n > 0 && (size_t)n == blen && memcmp(tmp, b, blen) == 0;
}

static void start_upstream(struct conn *c);

/* After REPLY: where a refused or answered request leaves the connection. */
static void
after_reply(struct conn *c)
{
	if (c->close_after) {
		conn_close(c, "reply sent");
		return;
	}
	if (c->is_connect) {
		/* 200 to CONNECT: the tunnel starts, TLS or plain HTTP */
		c->is_connect = 0;
		conn_set_state(c, CONN_ST_SNIFF);
		return;
	}
	if (!c->req_done) {
		conn_set_state(c, CONN_ST_DISCARD);
		return;
	}
	conn_set_state(c, CONN_ST_HEAD);
}

/* Sets up request body framing from the parsed head. */
static void
body_init(struct conn *c)
{
	c->req_body = http_request_body(&c->req);
	c->req_done = c->req_body == HTTP_BODY_NONE;
	c->req_left = c->req_body == HTTP_BODY_LENGTH ?
	    (uint64_t)c->req.content_length : 0;
	if (c->req_body == HTTP_BODY_CHUNKED)
		chunk_init(&c->req_chunk);
}

/*
 * The head in cin is complete (c->head_len bytes): decide it.  Exactly one
 * audit record per decided request; nothing goes upstream before it.
 */
static void
handle_request(struct conn *c)
{
	struct http_req *q = &c->req;
	struct view authority, rawpath;
	struct bt_req rq;
	int n;

	c->is_connect = method_is(c, "CONNECT");
	c->is_head = method_is(c, "HEAD");
	c->has_query = 0;
	c->path_len = 0;
	c->host_len = 0;
	c->port = 0;
	c->keep_alive = http_req_keep_alive(q);
	body_init(c);

	if (c->is_connect) {
		if (q->form != HTTP_FORM_AUTHORITY || c->in_tunnel || c->https) {
			reply_error(c, 400, "bad_request", "CONNECT is only "
			    "accepted as the first request, with host:port");
			return;
		}
		if (set_host(c, q->target) == -1 || c->port == 0) {
			reply_error(c, 400, "bad_request", "invalid CONNECT target");
			return;
		}
		memcpy(c->path, "/", 1);
		c->path_len = 1;
		if (!bt_host_possible(c->px->cfg.bt, view_make(c->host,
		    c->host_len))) {
			/* no rule could allow any request to this host */
			c->https = c->port != 80;
			audit_request(c, REASON_CONNECT_DENIED);
			c->https = 0;
			c->is_connect = 0;
			reply_denied(c, REASON_CONNECT_DENIED);
			return;
		}
		memcpy(c->tunnel_host, c->host, c->host_len);
		c->tunnel_host_len = c->host_len;
		c->tunnel_port = c->port;
		c->in_tunnel = 1;
		reply(c, 200, NULL, NULL, 0);
		return;
	}

	if (q->form == HTTP_FORM_ABSOLUTE) {
		struct url_parts u;
		if (url_split(q->target, &u) == -1) {
			reply_error(c, 400, "bad_request", "invalid URL");
			return;
		}
		if (view_eq_cstr(u.scheme, "https") && !c->https) {
			/* https URL over plain HTTP: clients use CONNECT */
			reply_error(c, 400, "bad_request", "https URLs need CONNECT");
			return;
		}
		authority = u.authority;
		rawpath = u.path;
		c->has_query = u.has_query;
		c->query = u.query;
	} else if (q->form == HTTP_FORM_ORIGIN) {
		const char *qm = memchr(q->target.p, '?', q->target.n);
		authority = q->host;
		rawpath = view_make(q->target.p, qm ? (size_t)(qm - q->target.p) :
		    q->target.n);
		if (qm != NULL) {
			c->has_query = 1;
			c->query = view_make(qm + 1, q->target.n -
			    (size_t)(qm + 1 - q->target.p));
		}
		if (authority.n == 0) {
			reply_error(c, 400, "bad_request", "no Host header");
			return;
		}
	} else {
		reply_error(c, 400, "bad_request", "unsupported request target");
		return;
	}
	if (set_host(c, authority) == -1) {
		reply_error(c, 400, "bad_request", "invalid host");
		return;
	}
	n = url_path_canon(rawpath, c->path, MAX_PATH_LEN + 1);
	if (n <= 0) {
		reply_error(c, 400, "bad_request", "invalid path");
		return;
	}
	c->path_len = (size_t)n;
	if (c->port == 0)
		c->port = c->in_tunnel ? c->tunnel_port : c->orig_port ?
		    c->orig_port : c->https ? 443 : 80;

	/* the host decided is the host dialled: all names must agree */
	if ((q->form == HTTP_FORM_ABSOLUTE && q->host.n > 0 &&
	    !same_host(q->host, c->host, c->host_len)) ||
	    (q->form == HTTP_FORM_ORIGIN && !c->in_tunnel && c->orig_port &&
	    c->port != c->orig_port) ||
	    (c->in_tunnel && (c->host_len != c->tunnel_host_len ||
	    memcmp(c->host, c->tunnel_host, c->host_len) != 0 ||
	    c->port != c->tunnel_port)) ||
	    (c->sni_len > 0 && (c->host_len != c->sni_len ||
	    memcmp(c->host, c->sni, c->sni_len) != 0))) {
		c->verdict.rule = BT_NONE;
		audit_request(c, REASON_HOST_MISMATCH);
		reply_denied(c, REASON_HOST_MISMATCH);
		return;
	}

	rq.method = q->method;
	rq.host = view_make(c->host, c->host_len);
	rq.path = view_make(c->path, c->path_len);
	bt_decide(c->px->cfg.bt, &rq, &c->verdict);
	audit_request(c, c->verdict.reason);
	if (c->verdict.reason != REASON_ALLOWED) {
		reply_denied(c, c->verdict.reason);
		return;
	}
	if (q->expect_other) {
		reply_error(c, 417, "bad_request", "unsupported Expect");
		return;
	}
	start_upstream(c);
}

/* ---- upstream ------------------------------------------------------------ */

/* Reuses the upstream connection when it goes to the same place. */
static int idle_upstream_event(struct conn *c);

static int
upstream_reusable(struct conn *c)
{
	if (c->up.fd == -1 || c->up_tls != c->https || c->up_port != c->port ||
	    c->up_host_len != c->host_len || c->up.eof ||
	    memcmp(c->up_host, c->host, c->host_len) != 0)
		return 0;
	/*
	 * The idle upstream is watched: if it closed, its event is already
	 * pending in this loop iteration.  Look at it first; then it is
	 * either dropped or still fine, without a system call per request.
	 */
	if (ev_is_pending(&c->up.io)) {
		ev_clear_pending(c->px->loop, &c->up.io);
		idle_upstream_event(c);
	}
	return c->up.fd != -1;
}

static void begin_forward(struct conn *c);
static void dial_next(struct conn *c);

static void
resolved(void *arg, int status, const struct sockaddr_storage *addrs,
    size_t naddrs, const char *why)
{
	struct conn *c = arg;

	c->resolving = 0;
	if (status != 0 || naddrs == 0) {
		snprintf(c->up_err, sizeof(c->up_err), "cannot resolve %.*s: %s",
		    (int)c->host_len, c->host, why ? why : "no address");
		reply_error(c, 502, "upstream_dns", "%s", c->up_err);
		conn_pump(c);
		return;
	}
	c->naddrs = naddrs < MAX_UP_ADDRS ? naddrs : MAX_UP_ADDRS;
	memcpy(c->addrs, addrs, c->naddrs * sizeof(*addrs));
	c->addr_i = 0;
	conn_set_state(c, CONN_ST_DIAL);
	dial_next(c);
	conn_pump(c);
}

static void
start_upstream(struct conn *c)
{
	const struct connect_to *ct;
	char host[MAX_HOST_LEN + 3];
	uint16_t port = c->port;

	if (upstream_reusable(c)) {
		begin_forward(c);
		return;
	}
	up_release(c);
	c->uin.off = c->uin.len = 0;
	c->uout.off = c->uout.len = 0;
	memcpy(c->up_host, c->host, c->host_len);
	c->up_host_len = c->host_len;
	c->up_port = c->port;
	c->up_tls = c->https;
	{
		int fd;
		struct tls_conn *t;
		if (upool_get(&c->px->upool, view_make(c->host, c->host_len),
		    c->port, c->https, &fd, &t) == 0) {
			c->up.fd = fd;
			c->up.tls = t;
			c->up.tls_on = t != NULL;
			begin_forward(c);
			return;
		}
	}
	memcpy(host, c->host, c->host_len);
	host[c->host_len] = '\0';
	ct = connect_to_find(c->px->cfg.connect_to, c->px->cfg.nconnect_to,
	    view_make(c->host, c->host_len), c->port);
	if (ct != NULL) {
		snprintf(host, sizeof(host), "%s", ct->addr);
		if (ct->port2 != 0)
			port = ct->port2;
	}
	/* names go to c-ares; IP literals come back on the next iteration */
	conn_set_state(c, CONN_ST_RESOLVE);
	c->resolving = 1;
	if (resolve_start(&c->px->res, &c->rr, host, port, resolved, c) == -1) {
		c->resolving = 0;
		reply_error(c, 502, "upstream_dns", "cannot resolve %s", host);
	}
}

/* Starts a non-blocking connect to the next address. */
static void
dial_next(struct conn *c)
{
	const struct sockaddr_storage *sa;
	socklen_t len;
	int fd, one = 1;

	ep_close(c, &c->up);
	while (c->addr_i < c->naddrs) {
		sa = &c->addrs[c->addr_i++];
		len = sa->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
		    sizeof(struct sockaddr_in);
		fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		if (fd == -1) {
			snprintf(c->up_err, sizeof(c->up_err), "socket: %s",
			    strerror(errno));
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (connect(fd, (const struct sockaddr *)sa, len) == -1 &&
		    errno != EINPROGRESS) {
			snprintf(c->up_err, sizeof(c->up_err), "connect to %.*s: %s",
			    (int)c->host_len, c->host, strerror(errno));
			close(fd);
			continue;
		}
		c->up.fd = fd;
		c->up.want = EV_WRITE;
		return;
	}
	if (c->up_err[0] == '\0')
		snprintf(c->up_err, sizeof(c->up_err), "no address to connect to");
	reply_error(c, 502, "upstream_connect", "%s", c->up_err);
}

/* DIAL: the connect finished (or failed: try the next address). */
static int
step_dial(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	c->up.want = 0;
	if (getsockopt(c->up.fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY) {
		c->up.want = EV_WRITE;
		return 0;
	}
	if (err != 0) {
		snprintf(c->up_err, sizeof(c->up_err), "connect to %.*s: %s",
		    (int)c->host_len, c->host, strerror(err));
		dial_next(c);
		return 1;
	}
	if (c->https) {
		if (proxy_warm(c->px, c->up_err, sizeof(c->up_err)) == -1) {
			reply_error(c, 502, "upstream_tls", "%s", c->up_err);
			return 1;
		}
		c->up.tls = tls_client_new(c->px->cli_ctx, c->up.fd,
		    view_make(c->host, c->host_len));
		if (c->up.tls == NULL) {
			reply_error(c, 502, "upstream_tls", "TLS set-up failed");
			return 1;
		}
		c->up.tls_on = 1;
		conn_set_state(c, CONN_ST_UP_TLS);
		return 1;
	}
	begin_forward(c);
	return 1;
}

static int
step_up_tls(struct conn *c)
{
	int r;

	c->up.want = 0;
	r = tls_handshake(c->up.tls);
	if (r == 0) {
		begin_forward(c);
		return 1;
	}
	if (r == TLS_WANT_READ) {
		c->up.want = EV_READ;
		return 0;
	}
	if (r == TLS_WANT_WRITE) {
		c->up.want = EV_WRITE;
		return 0;
	}
	reply_error(c, 502, "upstream_tls", "TLS to %.*s failed: %s",
	    (int)c->host_len, c->host, tls_error_str(c->up.tls));
	ep_close(c, &c->up);
	return 1;
}

/*
 * Whether the Connection fields of a head may name fields beyond the fixed
 * hop-by-hop set.  "Connection: keep-alive", what most peers send, names
 * only one of them: then no field needs the scan of the whole head that
 * http_conn_lists() does (once per forwarded field).
 */
static int
conn_names_fields(const struct http_hdr *hdrs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (view_case_eq(hdrs[i].name, VIEW_LIT("Connection")) &&
		    !view_case_eq(hdrs[i].value, VIEW_LIT("keep-alive")))
			return 1;
	return 0;
}

/* <conn_named>: conn_names_fields() of the head <h> is in. */
static int
hop_field(const struct http_hdr *hdrs, size_t n, const struct http_hdr *h,
    int conn_named)
{
	return http_is_hop_by_hop(h->name) ||
	    (conn_named && http_conn_lists(hdrs, n, h->name));
}

static int
header_dropped(const struct conn *c, const struct http_hdr *h, int conn_named)
{
	if (view_case_eq(h->name, VIEW_LIT("Host")) ||
	    view_case_eq(h->name, VIEW_LIT("Content-Length")) ||
	    hop_field(c->hdrs, c->nhdrs, h, conn_named))
		return 1;
	/* session-correlation headers are ours to set, never the client's */
	return h->name.n >= 26 && strncasecmp(h->name.p,
	    "X-Coder-Agent-Firewall-", 23) == 0;
}

/* Does this request get the session-correlation headers? */
static int
inject_session(const struct conn *c)
{
	struct bt_req rq;
	struct verdict v;

	if (c->px->cfg.inject == NULL)
		return 0;
	/* targets are matched without a method, as the Go tool does */
	rq.method = VIEW_LIT("");
	rq.host = view_make(c->host, c->host_len);
	rq.path = view_make(c->path, c->path_len);
	bt_decide(c->px->cfg.inject, &rq, &v);
	return v.reason == REASON_ALLOWED;
}

/*
 * Writes the request head for the upstream into uout, rebuilt from the
 * parsed form: canonical path, decided host, framing restated.
 */
static int
build_request_head(struct conn *c)
{
	struct buf *b = &c->uout;
	int dflt = c->port == (c->https ? 443 : 80);
	size_t i;
	int conn_named;

	if (buf_view(b, c->req.method) == -1 || buf_lit(b, " ") == -1 ||
	    buf_put(b, c->path, c->path_len) == -1 ||
	    (c->has_query && (buf_lit(b, "?") == -1 ||
	    buf_view(b, c->query) == -1)) ||
	    buf_lit(b, " HTTP/1.1\r\nHost: ") == -1 ||
	    buf_put(b, c->host, c->host_len) == -1)
		return -1;
	if (!dflt && (buf_lit(b, ":") == -1 || buf_u64(b, c->port) == -1))
		return -1;
	if (buf_lit(b, "\r\n") == -1)
		return -1;
	conn_named = conn_names_fields(c->hdrs, c->nhdrs);
	for (i = 0; i < c->nhdrs; i++) {
		const struct http_hdr *h = &c->hdrs[i];
		if (header_dropped(c, h, conn_named))
			continue;
		if (buf_header(b, h) == -1)
			return -1;
	}
	if (c->req.content_length >= 0 &&
	    (buf_lit(b, "Content-Length: ") == -1 ||
	    buf_u64(b, (uint64_t)c->req.content_length) == -1 ||
	    buf_lit(b, "\r\n") == -1))
		return -1;
	if (c->req_body == HTTP_BODY_CHUNKED &&
	    buf_lit(b, "Transfer-Encoding: chunked\r\n") == -1)
		return -1;
	if (inject_session(c) &&
	    (buf_lit(b, "X-Coder-Agent-Firewall-Session-Id: ") == -1 ||
	    buf_put(b, c->px->cfg.session_id,
	    strlen(c->px->cfg.session_id)) == -1 ||
	    buf_lit(b, "\r\nX-Coder-Agent-Firewall-Sequence-Number: ") == -1 ||
	    buf_u64(b, c->seq) == -1 || buf_lit(b, "\r\n") == -1))
		return -1;
	if (c->req.upgrade) {
		const struct http_hdr *u = http_hdr_find(c->hdrs, c->nhdrs,
		    VIEW_LIT("Upgrade"));
		if (u != NULL && buf_printf(b, "Connection: Upgrade\r\n"
		    "Upgrade: %.*s\r\n", (int)u->value.n, u->value.p) == -1)
			return -1;
	}
	return buf_put(b, "\r\n", 2);
}

static void
begin_forward(struct conn *c)
{
	set_up_idle(c, 0);
	c->resp_head_done = c->resp_done = c->resp_started = 0;
	c->rprev_len = 0;
	c->up_err[0] = '\0';
	if (build_request_head(c) == -1) {
		reply_error(c, 431, "bad_request", "request head too large");
		return;
	}
	/* the head is consumed: the body (if any) follows in cin */
	buf_consume(&c->cin, c->head_len);
	c->head_len = 0;
	/* no answer can be there before the request is sent */
	if (!c->up.tls_on)
		c->up.drained = 1;
	conn_set_state(c, CONN_ST_FORWARD);
}

/* ---- forwarding ------------------------------------------------------------ */

/* Moves request body bytes from cin to uout per the request's framing. */
static int
relay_request_body(struct conn *c)
{
	size_t room = buf_room(&c->uout), n;

	if (c->req_done || c->cin.len == 0 || room == 0)
		return 0;
	if (c->req_body == HTTP_BODY_LENGTH) {
		n = c->cin.len < room ? c->cin.len : room;
		if (n > c->req_left)
			n = (size_t)c->req_left;
		buf_put(&c->uout, buf_data(&c->cin), n);
		buf_consume(&c->cin, n);
		c->req_left -= n;
		c->req_done = c->req_left == 0;
		return n > 0;
	}
	/* chunked: validated by the decoder, forwarded as received */
	{
		struct chunk_out out;
		int r;

		n = c->cin.len < room ? c->cin.len : room;
		r = chunk_feed(&c->req_chunk, buf_data(&c->cin), n, &out);
		if (r < 0) {
			conn_close(c, "bad chunked request body");
			return -1;
		}
		buf_put(&c->uout, buf_data(&c->cin), (size_t)r);
		buf_consume(&c->cin, (size_t)r);
		if (out.done)
			c->req_done = 1;
		return r > 0;
	}
}

/* Writes the response head for the client into cout. */
static int
build_response_head(struct conn *c)
{
	struct buf *b = &c->cout;
	size_t i;
	int conn_named;

	if (buf_lit(b, "HTTP/1.1 ") == -1 ||
	    buf_u64(b, (uint64_t)c->resp.status) == -1 ||
	    buf_lit(b, " ") == -1 || buf_view(b, c->resp.reason) == -1 ||
	    buf_lit(b, "\r\n") == -1)
		return -1;
	conn_named = conn_names_fields(c->rhdrs, c->nrhdrs);
	for (i = 0; i < c->nrhdrs; i++) {
		const struct http_hdr *h = &c->rhdrs[i];
		if (view_case_eq(h->name, VIEW_LIT("Content-Length")) ||
		    hop_field(c->rhdrs, c->nrhdrs, h, conn_named))
			continue;
		if (buf_header(b, h) == -1)
			return -1;
	}
	if (c->resp.status == 101) {
		const struct http_hdr *u = http_hdr_find(c->rhdrs, c->nrhdrs,
		    VIEW_LIT("Upgrade"));
		if (buf_printf(b, "Connection: Upgrade\r\nUpgrade: %.*s\r\n",
		    u ? (int)u->value.n : 0, u ? u->value.p : "") == -1)
			return -1;
		return buf_put(b, "\r\n", 2);
	}
	if (c->resp.status >= 100 && c->resp.status < 200)
		return buf_put(b, "\r\n", 2);
	if (c->resp.content_length >= 0) {
		if (buf_lit(b, "Content-Length: ") == -1 ||
		    buf_u64(b, (uint64_t)c->resp.content_length) == -1 ||
		    buf_lit(b, "\r\n") == -1)
			return -1;
	} else if (c->resp_body == HTTP_BODY_CHUNKED && !c->dechunk &&
	    buf_lit(b, "Transfer-Encoding: chunked\r\n") == -1)
		return -1;
	if ((!c->keep_alive || c->resp_body == HTTP_BODY_CLOSE) &&
	    buf_lit(b, "Connection: close\r\n") == -1)
		return -1;
	return buf_lit(b, "\r\n");
}

/* Parses the response head in uin; 1 progress, 0 need more, -1 failed. */
static int
parse_response_head(struct conn *c)
{
	int r;

	buf_compact(&c->uin);
	c->nrhdrs = MAX_HEADERS;
	r = http_parse_response(buf_data(&c->uin), c->uin.len, c->rprev_len,
	    &c->resp, c->rhdrs, &c->nrhdrs);
	if (r == PARSE_INCOMPLETE) {
		c->rprev_len = c->uin.len;
		if (c->uin.len >= MAX_RESP_HEAD)
			r = PARSE_BAD;
		else
			return 0;
	}
	if (r == PARSE_BAD) {
		if (!c->resp_started)
			reply_error(c, 502, "upstream_protocol",
			    "invalid response from %.*s", (int)c->host_len,
			    c->host);
		else
			conn_close(c, "invalid upstream response");
		return -1;
	}
	c->rprev_len = 0;
	c->resp_body = http_response_body(&c->resp, c->is_head);
	if (c->resp.status >= 100 && c->resp.status < 200 &&
	    c->resp.status != 101)
		c->resp_body = HTTP_BODY_NONE;
	if (!http_resp_keep_alive(&c->resp) || c->resp_body == HTTP_BODY_CLOSE)
		c->keep_alive = 0;
	c->resp_left = c->resp_body == HTTP_BODY_LENGTH ?
	    (uint64_t)c->resp.content_length : 0;
	if (c->resp_body == HTTP_BODY_CHUNKED)
		chunk_init(&c->resp_chunk);
	/* an HTTP/1.0 client cannot read chunks: decode, end with close */
	c->dechunk = c->resp_body == HTTP_BODY_CHUNKED && c->req.minor == 0;
	if (c->dechunk)
		c->keep_alive = 0;
	c->cout.off = c->cout.len = 0;
	if (build_response_head(c) == -1) {
		conn_close(c, "response head too large");
		return -1;
	}
	buf_consume(&c->uin, (size_t)r);
	c->resp_started = 1;
	if (c->resp.status == 101 && c->req.upgrade) {
		c->resp_head_done = 1;
		c->resp_done = 1;
		return 1;
	}
	if (c->resp.status >= 100 && c->resp.status < 200) {
		/* interim (100 Continue): pass on, wait for the final one */
		return 1;
	}
	c->resp_head_done = 1;
	c->resp_done = c->resp_body == HTTP_BODY_NONE;
	return 1;
}

/* Moves response body bytes from uin to cout per the response framing. */
static int
relay_response_body(struct conn *c)
{
	size_t room = buf_room(&c->cout), n;

	if (!c->resp_head_done || c->resp_done || c->uin.len == 0 || room == 0)
		return 0;
	n = c->uin.len < room ? c->uin.len : room;
	if (c->resp_body == HTTP_BODY_LENGTH) {
		if (n > c->resp_left)
			n = (size_t)c->resp_left;
		buf_put(&c->cout, buf_data(&c->uin), n);
		buf_consume(&c->uin, n);
		c->resp_left -= n;
		c->resp_done = c->resp_left == 0;
		return n > 0;
	}
	if (c->resp_body == HTTP_BODY_CHUNKED) {
		struct chunk_out out;
		int r = chunk_feed(&c->resp_chunk, buf_data(&c->uin), n, &out);
		size_t i;

		if (r < 0) {
			conn_close(c, "bad chunked response body");
			return -1;
		}
		if (c->dechunk)
			for (i = 0; i < out.ndata; i++)
				buf_put(&c->cout, out.data[i].p, out.data[i].n);
		else
			buf_put(&c->cout, buf_data(&c->uin), (size_t)r);
		buf_consume(&c->uin, (size_t)r);
		c->resp_done = out.done;
		return r > 0;
	}
	/* until close */
	buf_put(&c->cout, buf_data(&c->uin), n);
	buf_consume(&c->uin, n);
	return 1;
}

/* The request and its response are complete and written: what next. */
static void
finish_request(struct conn *c)
{
	if (c->resp.status == 101 && c->req.upgrade) {
		conn_set_state(c, CONN_ST_TUNNEL);
		return;
	}
	if (!http_resp_keep_alive(&c->resp) || c->up.eof ||
	    c->resp_body == HTTP_BODY_CLOSE || c->uin.len > 0) {
		ep_close(c, &c->up);
		c->up_host_len = 0;
	} else {
		set_up_idle(c, 1);	/* reusable, here or from the pool */
		if (c->px->nheld > MAX_HELD_UPSTREAMS)
			up_release(c);	/* to the shared pool, bounded */
	}
	if (!c->keep_alive) {
		conn_close(c, "request done, no keep-alive");
		return;
	}
	/*
	 * The client is reading our response, not yet writing its next
	 * request: wait for readiness instead of a read that would fail.
	 * (Plain sockets only: TLS may hold bytes the socket won't signal.)
	 */
	if (!c->cl.tls_on)
		c->cl.drained = 1;
	conn_set_state(c, CONN_ST_HEAD);
}

static int
step_forward(struct conn *c)
{
	int progress = 0, r;

	c->cl.want = c->up.want = 0;
	if ((r = flush(&c->up, &c->uout)) == -2) {
		conn_close(c, "upstream write failed");
		return -1;
	}
	progress |= r;
	if ((r = relay_request_body(c)) < 0)
		return -1;
	progress |= r;
	if (!c->req_done && buf_room(&c->cin) > 0) {
		r = fill(&c->cl, &c->cin);
		if (r == -2 || (r == -1 && !c->req_done)) {
			conn_close(c, "client went away mid-request");
			return -1;
		}
		progress |= r > 0;
	} else if (c->req_done && !c->cl.eof && buf_room(&c->cin) > 0) {
		/*
		 * Keep watching the client (re-arming costs two epoll_ctl per
		 * request); read only when it is readable: a pipelined request
		 * or its end.
		 */
		if (c->cl_ready && !c->cl.tls_on) {
			r = fill(&c->cl, &c->cin);
			if (r == -2) {
				conn_close(c, "client read failed");
				return -1;
			}
			c->cl_ready = 0;
			progress |= r > 0;
		} else
			c->cl.want |= EV_READ;
	}
	if (!c->resp_done && buf_room(&c->uin) > 0) {
		r = fill(&c->up, &c->uin);
		if (r == -2) {
			if (!c->resp_started)
				reply_error(c, 502, "upstream_io", "reading from "
				    "%.*s failed", (int)c->host_len, c->host);
			else
				conn_close(c, "upstream read failed");
			return -1;
		}
		if (r == -1) {
			if (c->resp_head_done && c->resp_body == HTTP_BODY_CLOSE)
				c->resp_done = 1;
			else if (!c->resp_started) {
				reply_error(c, 502, "upstream_closed", "%.*s closed "
				    "the connection without a response",
				    (int)c->host_len, c->host);
				return -1;
			} else if (c->uin.len == 0) {
				conn_close(c, "upstream closed mid-response");
				return -1;
			}
		}
		progress |= r > 0;
	}
	if (!c->resp_head_done && c->uin.len > 0) {
		r = parse_response_head(c);
		if (r < 0)
			return -1;
		progress |= r;
	}
	if ((r = relay_response_body(c)) < 0)
		return -1;
	progress |= r;
	if ((r = flush(&c->cl, &c->cout)) == -2) {
		conn_close(c, "client write failed");
		return -1;
	}
	progress |= r;
	if (c->resp_done && c->cout.len == 0 && (c->req_done ||
	    c->resp.status == 101)) {
		finish_request(c);
		return 1;
	}
	/* body bytes may wait inside TLS without the socket signalling */
	if (ep_pending(&c->up) || ep_pending(&c->cl))
		progress |= c->uin.len < c->uin.cap || c->cin.len < c->cin.cap;
	return progress;
}

/* TUNNEL: bytes both ways until either side ends. */
static int
step_tunnel(struct conn *c)
{
	int progress = 0, a, b;

	c->cl.want = c->up.want = 0;
	if (c->cin.len > 0)
		progress |= flush(&c->up, &c->cin) > 0;
	if (c->uin.len > 0)
		progress |= flush(&c->cl, &c->uin) > 0;
	a = c->cl.eof ? -1 : fill(&c->cl, &c->cin);
	b = c->up.eof ? -1 : fill(&c->up, &c->uin);
	if (a == -2 || b == -2) {
		conn_close(c, "tunnel I/O error");
		return -1;
	}
	progress |= a > 0 || b > 0;
	if (c->cin.len > 0)
		progress |= flush(&c->up, &c->cin) > 0;
	if (c->uin.len > 0)
		progress |= flush(&c->cl, &c->uin) > 0;
	if ((c->cl.eof && c->cin.len == 0) || (c->up.eof && c->uin.len == 0)) {
		conn_close(c, "tunnel closed");
		return -1;
	}
	return progress;
}

/* ---- client side ---------------------------------------------------------- */

static int
step_sniff(struct conn *c)
{
	unsigned char b;
	ssize_t r;

	c->cl.want = 0;
	if (c->cin.len == 0) {
		r = recv(c->cl.fd, &b, 1, MSG_PEEK);
		if (r == 0) {
			conn_close(c, "client closed");
			return -1;
		}
		if (r == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR) {
				c->cl.want = EV_READ;
				return 0;
			}
			conn_close(c, "client read failed");
			return -1;
		}
	} else
		b = (unsigned char)buf_data(&c->cin)[0];
	if (b != 0x16) {
		conn_set_state(c, CONN_ST_HEAD);
		return 1;
	}
	/* TLS: intercept with a leaf for the SNI, or for the CONNECT host */
	{
		const struct leaf *fallback = NULL;
		struct tls_conn *t;

		if (c->in_tunnel)
			fallback = ca_leaf(&c->px->ca, view_make(c->tunnel_host,
			    c->tunnel_host_len));
		else {
			/*
			 * Direct TLS: the leaf comes from the ClientHello's SNI,
			 * read ahead without consuming it.
			 */
			static unsigned char peek[HELLO_MAX_LEN];
			struct hello h;
			ssize_t n = recv(c->cl.fd, peek, sizeof(peek), MSG_PEEK);
			int hr = n > 0 ? hello_parse(peek, (size_t)n, &h) :
			    HELLO_BAD;

			if (hr == HELLO_INCOMPLETE && (size_t)n < sizeof(peek)) {
				c->cl.want = EV_READ;
				return 0;
			}
			if (hr < 0 || h.sni.n == 0) {
				log_warn("conn %llu: direct TLS without a usable "
				    "SNI", (unsigned long long)c->id);
				conn_close(c, "direct TLS without SNI");
				return -1;
			}
			fallback = ca_leaf(&c->px->ca, h.sni);
		}
		if (fallback == NULL) {
			conn_close(c, "no certificate for this host");
			return -1;
		}
		if (proxy_warm(c->px, c->up_err, sizeof(c->up_err)) == -1) {
			log_error("%s", c->up_err);
			conn_close(c, "TLS set-up failed");
			return -1;
		}
		t = tls_server_new(c->px->srv_ctx, c->cl.fd, fallback);
		if (t == NULL) {
			conn_close(c, "TLS set-up failed");
			return -1;
		}
		c->cl.tls = t;
		c->cl.tls_on = 1;
		if (c->cin.len > 0) {
			/* bytes that followed the CONNECT head */
			if (tls_conn_prepend(t, buf_data(&c->cin), c->cin.len) ==
			    -1) {
				conn_close(c, "too many bytes before TLS");
				return -1;
			}
			c->cin.off = c->cin.len = 0;
		}
	}
	conn_set_state(c, CONN_ST_TLS_HS);
	return 1;
}

static int
step_tls_hs(struct conn *c)
{
	int r;
	struct view sni;

	c->cl.want = 0;
	r = tls_handshake(c->cl.tls);
	if (r == TLS_WANT_READ) {
		c->cl.want = EV_READ;
		return 0;
	}
	if (r == TLS_WANT_WRITE) {
		c->cl.want = EV_WRITE;
		return 0;
	}
	if (r != 0) {
		log_warn("conn %llu: TLS handshake with the client failed: %s",
		    (unsigned long long)c->id, tls_error_str(c->cl.tls));
		conn_close(c, "client TLS handshake failed");
		return -1;
	}
	c->https = 1;
	sni = tls_sni(c->cl.tls);
	c->sni_len = 0;
	if (sni.n > 0 && sni.n <= MAX_HOST_LEN) {
		enum host_kind k;
		uint16_t port;
		int n = url_host_canon(sni, c->sni, sizeof(c->sni), &port, &k);
		if (n > 0)
			c->sni_len = (size_t)n;
	}
	if (!c->in_tunnel && c->sni_len == 0) {
		conn_close(c, "direct TLS without SNI");
		return -1;
	}
	conn_set_state(c, CONN_ST_HEAD);
	return 1;
}

static int
step_head(struct conn *c)
{
	int r;

	c->cl.want = 0;
	for (;;) {
		if (c->cin.len > 0) {
			buf_compact(&c->cin);
			c->nhdrs = MAX_HEADERS;
			r = http_parse_request(buf_data(&c->cin), c->cin.len,
			    c->prev_len, &c->req, c->hdrs, &c->nhdrs);
			if (r > 0) {
				c->head_len = (size_t)r;
				c->prev_len = 0;
				handle_request(c);
				return 1;
			}
			if (r == PARSE_BAD) {
				c->prev_len = 0;
				reply_error(c, c->req.error ? c->req.error : 400,
				    "bad_request", "malformed request");
				return 1;
			}
			c->prev_len = c->cin.len;
		}
		r = fill(&c->cl, &c->cin);
		if (r == 0)
			return 0;
		if (r == -1) {
			if (c->cin.len > 0)
				log_warn("conn %llu: client closed mid-head",
				    (unsigned long long)c->id);
			conn_close(c, "client closed");
			return -1;
		}
		if (r == -2) {
			conn_close(c, "client read failed");
			return -1;
		}
	}
}

static int
step_reply(struct conn *c)
{
	int r;

	c->cl.want = 0;
	r = flush(&c->cl, &c->cout);
	if (r == -2) {
		conn_close(c, "client write failed");
		return -1;
	}
	if (c->cout.len > 0)
		return r;
	/* a refused request's head is consumed now */
	if (c->head_len > 0) {
		buf_consume(&c->cin, c->head_len);
		c->head_len = 0;
	}
	after_reply(c);
	return 1;
}

/* DISCARD: drops the body of a refused request so the connection lives. */
static int
step_discard(struct conn *c)
{
	int r;

	c->cl.want = 0;
	while (!c->req_done) {
		if (c->cin.len == 0) {
			r = fill(&c->cl, &c->cin);
			if (r == 0)
				return 0;
			if (r < 0) {
				conn_close(c, "client closed");
				return -1;
			}
		}
		if (c->req_body == HTTP_BODY_LENGTH) {
			size_t n = c->cin.len;
			if (n > c->req_left)
				n = (size_t)c->req_left;
			buf_consume(&c->cin, n);
			c->req_left -= n;
			c->req_done = c->req_left == 0;
		} else {
			struct chunk_out out;
			int k = chunk_feed(&c->req_chunk, buf_data(&c->cin),
			    c->cin.len, &out);
			if (k < 0) {
				conn_close(c, "bad chunked body");
				return -1;
			}
			buf_consume(&c->cin, (size_t)k);
			c->req_done = out.done;
		}
	}
	conn_set_state(c, CONN_ST_HEAD);
	return 1;
}

/* ---- the pump ---------------------------------------------------------------- */

static void
conn_pump(struct conn *c)
{
	int r, rounds = 0;

	for (;;) {
		enum conn_state before = c->st;

		/* every state past SNIFF works in buffers */
		if (c->st != CONN_ST_SNIFF && c->st != CONN_ST_CLOSED &&
		    work_attach(c) == -1) {
			log_warn("conn %llu: %d connections are busy: refused",
			    (unsigned long long)c->id, MAX_WORK_AREAS);
			conn_close(c, "overload");
			return;
		}

		switch (c->st) {
		case CONN_ST_SNIFF:
			r = step_sniff(c);
			break;
		case CONN_ST_TLS_HS:
			r = step_tls_hs(c);
			break;
		case CONN_ST_HEAD:
			r = step_head(c);
			break;
		case CONN_ST_REPLY:
			r = step_reply(c);
			break;
		case CONN_ST_DISCARD:
			r = step_discard(c);
			break;
		case CONN_ST_RESOLVE:
			/* the resolver calls back */
			c->cl.want = c->up.want = 0;
			r = 0;
			break;
		case CONN_ST_DIAL:
			r = step_dial(c);
			break;
		case CONN_ST_UP_TLS:
			r = step_up_tls(c);
			break;
		case CONN_ST_FORWARD:
			r = step_forward(c);
			break;
		case CONN_ST_TUNNEL:
			r = step_tunnel(c);
			break;
		default:
			return;
		}
		if (r < 0 || c->st == CONN_ST_CLOSED) {
			if (c->st != CONN_ST_CLOSED)
				conn_close(c, "error");
			return;
		}
		/*
		 * Deadlines: a new state starts its own; while relaying, any
		 * progress restarts it.  Waiting for a head (or a handshake)
		 * has a fixed deadline that trickling bytes do not extend.
		 */
		if (c->st != before)
			rearm_deadline(c);
		else if (r > 0 && c->st != CONN_ST_HEAD &&
		    c->st != CONN_ST_SNIFF && c->st != CONN_ST_TLS_HS)
			rearm_deadline(c);
		if (r == 0 && c->st == before)
			break;
		if (++rounds > 10000) {
			/* give other connections a turn */
			ev_feed_event(c->px->loop, &c->cl.io, EV_CUSTOM);
			break;
		}
	}
	if (c->px->stopping && c->st == CONN_ST_HEAD && c->cin.len == 0) {
		conn_close(c, "shutting down");
		return;
	}
	/* an upstream kept for reuse stays watched, for its closing */
	if (c->up_idle && c->up.fd != -1 && c->st != CONN_ST_FORWARD)
		c->up.want = EV_READ;
	/* the first bytes of a head start its deadline (idle until then) */
	if (c->st == CONN_ST_HEAD && c->cin.len > 0 && !c->head_timing) {
		c->head_timing = 1;
		rearm_deadline(c);
	}
	if (work_idle(c))
		work_detach(c);
	ep_arm(c, &c->cl);
	ep_arm(c, &c->up);
}

static void
conn_timeout(struct conn *c)
{
	if (work_attach(c) == -1) {
		conn_close(c, "out of memory");
		return;
	}
	switch (c->st) {
	case CONN_ST_HEAD:
		if (c->cin.len > 0) {
			reply_error(c, 408, "timeout", "request head timed out");
			conn_pump(c);
			return;
		}
		conn_close(c, "idle");
		return;
	case CONN_ST_RESOLVE:
	case CONN_ST_DIAL:
	case CONN_ST_UP_TLS:
		if (c->resolving) {
			resolve_cancel(&c->rr);
			c->resolving = 0;
		}
		ep_close(c, &c->up);
		reply_error(c, 504, "timeout", "connecting to %.*s timed out",
		    (int)c->host_len, c->host);
		conn_pump(c);
		return;
	case CONN_ST_FORWARD:
		if (!c->resp_started) {
			ep_close(c, &c->up);
			reply_error(c, 504, "timeout", "%.*s did not answer in "
			    "time", (int)c->host_len, c->host);
			conn_pump(c);
			return;
		}
		/* FALLTHROUGH */
	default:
		conn_close(c, "timeout");
	}
}

void
conn_shutdown_idle(struct conn *c)
{
	if ((c->st == CONN_ST_HEAD || c->st == CONN_ST_SNIFF) && c->cin.len == 0)
		conn_close(c, "shutting down");
}

/*
 * The port a redirected client dialled: the original destination that
 * conntrack kept for an nftables redirect, when it differs from the
 * address the connection reached.  0 for an ordinary connection (no
 * conntrack entry, or one without address translation).
 */
static uint16_t
original_port(int fd)
{
	struct sockaddr_storage od, me;
	socklen_t olen = sizeof(od), mlen = sizeof(me);
	const struct sockaddr_in *o4 = (const struct sockaddr_in *)(void *)&od,
	    *m4 = (const struct sockaddr_in *)(void *)&me;
	const struct sockaddr_in6 *o6 = (const struct sockaddr_in6 *)(void *)&od,
	    *m6 = (const struct sockaddr_in6 *)(void *)&me;

	memset(&od, 0, sizeof(od));
	if (getsockname(fd, (struct sockaddr *)&me, &mlen) == -1)
		return 0;
	if (me.ss_family == AF_INET) {
		olen = sizeof(*o4);
		if (getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, &od, &olen) == -1 ||
		    od.ss_family != AF_INET)
			return 0;
		if (o4->sin_port == m4->sin_port &&
		    o4->sin_addr.s_addr == m4->sin_addr.s_addr)
			return 0;
		return ntohs(o4->sin_port);
	}
	if (me.ss_family == AF_INET6) {
		olen = sizeof(*o6);
		if (getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &od,
		    &olen) == -1 || od.ss_family != AF_INET6)
			return 0;
		if (o6->sin6_port == m6->sin6_port &&
		    memcmp(&o6->sin6_addr, &m6->sin6_addr,
		    sizeof(o6->sin6_addr)) == 0)
			return 0;
		return ntohs(o6->sin6_port);
	}
	return 0;
}

void
conn_accept(struct proxy *px, int fd)
{
	struct conn *c;
	int one = 1;

	if (px->nconns >= MAX_CONNS) {
		log_warn("connection limit (%d) reached: refusing a client",
		    MAX_CONNS);
		close(fd);
		return;
	}
	c = conn_get(px);
	if (c == NULL) {
		/* closed connections not yet reaped hold their slots */
		log_warn("connection limit (%d) reached: refusing a client",
		    MAX_CONNS);
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->px = px;
	c->id = px->next_id++;
	c->st = CONN_ST_SNIFF;
	c->cl.fd = fd;
	c->up.fd = -1;
	c->orig_port = original_port(fd);
	ev_init(&c->cl.io, io_cb);
	c->cl.io.data = c;
	ev_init(&c->up.io, io_cb);
	c->up.io.data = c;
	ev_init(&c->tmo, tmo_cb);
	c->tmo.data = c;
	c->next = px->live;
	px->live = c;
	px->nconns++;
	rearm_deadline(c);
	conn_pump(c);
}
