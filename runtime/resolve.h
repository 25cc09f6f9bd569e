/*
 * Asynchronous resolution of upstream host names on the proxy's libev
 * loop, private to runtime/.  c-ares does the DNS work on the loop (its
 * sockets and retransmissions driven by aresev.c); this module bounds
 * every lookup by a deadline, and reports the result
 * through a callback that always runs from the loop, never from inside
 * resolve_start().
 *
 * Memory: everything of the resolver (the c-ares channel, ARESEV_MAX_SOCKS
 * socket watchers, the retransmission timer and RESOLVE_MAX_PENDING query
 * tickets) is set up by resolve_init().  A lookup needs no allocation of
 * ours: struct resolve_req is owned by the caller and meant to be embedded
 * in its connection object; only c-ares allocates internally (its query
 * and answer structures).
 *
 * Life of a lookup: resolve_start() returns 0, then the callback runs
 * exactly once, later, from the loop (or from resolve_close()), unless
 * resolve_cancel() is called first.  After the callback has started, or
 * after resolve_cancel(), <req> is idle again: it may be reused at once
 * (also from inside its own callback) or freed.
 */
#ifndef RESOLVE_H
#define RESOLVE_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <ares.h>
#include <ev.h>

#include "aresev.h"
#include "limits.h"

/* How a lookup ended; resolve_status_str() names each value. */
enum resolve_status {
	RESOLVE_OK,		/* at least one address */
	RESOLVE_NXDOMAIN,	/* the name does not exist */
	RESOLVE_NODATA,		/* the name exists, without A or AAAA record */
	RESOLVE_SERVFAIL,	/* every server failed: SERVFAIL, REFUSED or
				 * unreachable (c-ares 1.18 does not tell
				 * these apart: ARES_ECONNREFUSED) */
	RESOLVE_REFUSED,	/* the server refused (newer c-ares only) */
	RESOLVE_TIMEOUT,	/* no answer within the deadline */
	RESOLVE_BADRESP,	/* the answer was malformed */
	RESOLVE_BADNAME,	/* host is no valid name and no IP literal */
	RESOLVE_BUSY,		/* RESOLVE_MAX_PENDING lookups are in flight */
	RESOLVE_CLOSED,		/* the resolver was closed */
	RESOLVE_ERROR,		/* anything else (out of memory, ...) */
	RESOLVE_STATUS_COUNT
};

/* A stable lowercase code for logs: "ok", "nxdomain", "timeout"... */
const char *resolve_status_str(enum resolve_status);

/*
 * The human text for a 502 body: "name not found (NXDOMAIN)", "DNS server
 * failure", "DNS lookup timed out"...  A static string.
 */
const char *resolve_status_why(enum resolve_status);

/*
 * The result of a lookup.  <status> is an enum resolve_status (0 is
 * RESOLVE_OK).  On RESOLVE_OK, <addrs> holds <naddrs> addresses
 * (1..RESOLVE_MAX_ADDRS, IPv4 first then IPv6, each in the order of the
 * answers, duplicates removed), each with the port given to
 * resolve_start(); otherwise <naddrs> is 0.  <why> is
 * resolve_status_why(<status>).  Borrows <addrs> and <why> for the
 * duration of the call only: copy what you keep.
 */
typedef void resolve_cb(void *arg, int status,
    const struct sockaddr_storage *addrs, size_t naddrs, const char *why);

struct resolver;

/* One c-ares query in flight: outlives a cancelled struct resolve_req. */
struct resolve_ticket {
	struct resolver *r;
	struct resolve_req *req;	/* NULL once cancelled or timed out */
	struct resolve_ticket *next_free;
};

/*
 * The resolver.  Owned by the caller (typically embedded in struct proxy);
 * the fields are private to resolve.c.
 */
struct resolver {
	struct ev_loop *loop;
	struct aresev ae;		/* the c-ares channel on the loop */
	int open;			/* resolve_init done, not closed */
	int lib_init;			/* ares_library_init succeeded */
	double timeout;			/* per-lookup deadline, seconds */
	struct resolve_ticket tickets[RESOLVE_MAX_PENDING];
	struct resolve_ticket *free_tickets;
	struct resolve_req *active;	/* started, callback not yet run */
};

/*
 * One lookup, owned by the caller (embed it in the connection).  It must
 * be zeroed before its first use; after that it is idle whenever no
 * lookup is in flight.  The fields are private to resolve.c, except <why>.
 */
struct resolve_req {
	ev_timer tmo;			/* deadline, or 0 to deliver a result */
	struct ev_loop *loop;
	struct resolver *r;		/* NULL unless linked in r->active */
	struct resolve_req *prev, *next; /* r->active */
	struct resolve_ticket *ticket;	/* the c-ares query, or NULL */
	struct ares_addrinfo *ai;	/* c-ares answer awaiting delivery */
	union {
		struct sockaddr_in v4;
		struct sockaddr_in6 v6;
	} lit;				/* the address of an IP literal */
	int has_lit;
	int state;			/* idle, in flight, result ready */
	int status;			/* enum resolve_status once ready */
	resolve_cb *cb;
	void *arg;
	uint16_t port;
	const char *why;		/* why resolve_start() returned -1 */
};

/*
 * Sets up <r> (zeroed, or closed) on <loop>.  <servers_csv> NULL: the
 * system configuration (/etc/resolv.conf, /etc/hosts first as the
 * system says; the search list applies).  Otherwise a c-ares server
 * list such as "127.0.0.1:5353,[::1]:53", and then only DNS is used: no
 * hosts file, no search list (deterministic, for tests and
 * split-horizon setups).  HOSTALIASES is never read.  The
 * deadline of each lookup is TIMEOUT_RESOLVE (see resolve_set_timeout).
 * Returns 0, or -1 with a one-line reason in <err> (<errlen> bytes);
 * after -1 nothing needs to be released.  Borrows <loop> until
 * resolve_close(); <servers_csv> is copied.
 */
int resolve_init(struct resolver *r, struct ev_loop *loop,
    const char *servers_csv, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Changes the deadline of lookups started from now on (<secs> > 0). */
void resolve_set_timeout(struct resolver *r, double secs);

/*
 * Cancels every lookup: each pending callback runs once, from inside this
 * call, with RESOLVE_CLOSED (a result not yet delivered is dropped).
 * Then stops all watchers and destroys the c-ares channel.  Idempotent;
 * safe after a failed resolve_init() on a zeroed <r>.  Callbacks run from
 * here must not free <r>; a resolve_start() from them returns -1.
 */
void resolve_close(struct resolver *r);

/*
 * Starts looking up <host> (a NUL-terminated canonical host: lowercase
 * name without trailing dot, an IPv4 dotted quad, or an IPv6 literal with
 * or without brackets) for <port>.  An IP literal needs no DNS: its one
 * address is delivered through the callback on the next loop iteration
 * (never synchronously, so the caller's stack unwinds first).  A name
 * goes to c-ares (A and AAAA); the callback gets RESOLVE_TIMEOUT when no
 * result came within the deadline.  If <req> still has a lookup in
 * flight, that one is cancelled first (its callback will not run).
 *
 * Returns 0: <cb>(<arg>, ...) will run exactly once unless
 * resolve_cancel(<req>) comes first.  Returns -1 without ever calling
 * <cb> when the lookup cannot start: <host> is not a valid name or
 * literal (RESOLVE_BADNAME), RESOLVE_MAX_PENDING lookups are in flight
 * (RESOLVE_BUSY) or <r> is closed (RESOLVE_CLOSED); then req->why holds
 * resolve_status_why() of that status.  Borrows <host> for this call
 * only; borrows <req> and <arg> until the callback runs or the lookup is
 * cancelled.
 */
int resolve_start(struct resolver *r, struct resolve_req *req,
    const char *host, uint16_t port, resolve_cb *cb, void *arg)
    __attribute__((warn_unused_result));

/*
 * Abandons the lookup of <req>: its callback will not run.  A no-op on an
 * idle <req> (zeroed, completed or already cancelled).  <req> is idle
 * afterwards.
 */
void resolve_cancel(struct resolve_req *req);

#endif
