/*
 * Tests runtime/resolve.c against a DNS responder of our own (fake_dns.h:
 * a UDP socket on 127.0.0.1, served from the same libev loop).
 * It answers A/AAAA for names under .boundary-test.invalid, NXDOMAIN for
 * unknown ones, SERVFAIL/REFUSED/empty answers for some, and never
 * answers "silent".  c-ares is pointed at it with a server list, which
 * also turns off the hosts file and the search list.  Nothing leaves
 * loopback.
 *
 * Checked: addresses, their order (IPv4 first even when AAAA arrives
 * first), port filling, the RESOLVE_MAX_ADDRS cap, duplicates, IP
 * literals (asynchronous, no DNS traffic), invalid names, every error
 * status and its text, the deadline, cancel (no callback, also for a
 * literal and after completion), reuse of a request from its own
 * callback, 200 concurrent lookups, RESOLVE_BUSY, resolve_close() with
 * lookups pending and from inside a callback, and that query tickets
 * return to the free list.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "runtime/resolve.c"
#include "tests/tap.h"
#include "tests/unit/runtime/fake_dns.h"

void test_runtime__resolve_c(void);

#define SUFFIX ".boundary-test.invalid"
#define NCONC 200		/* concurrent lookups */

/* ---- fixture and the DNS responder's answers ---------------------------- */

struct fx {
	struct ev_loop *loop;
	struct fake_dns srv;
	struct resolver r;
	int ok;
	unsigned silent;		/* queries for "silent" seen */
	unsigned flaky;			/* queries for "flaky" seen */
	int aaaa_first;			/* "order": AAAA answered before A */
};

static struct fx F;

/* Decides the answer to <name>/<qtype>: rcode, or FAKE_DNS_DROP. */
static int
answer(struct fake_dns *s, const char *name, int qtype,
    struct fake_dns_ans *ans)
{
	static char abuf[FAKE_DNS_MAX_RR][48];
	struct fx *fx = container_of(s, struct fx, srv);
	size_t i, n;
	unsigned k;

	if (strcmp(name, "two" SUFFIX) == 0) {
		if (qtype == FAKE_DNS_A) {
			fake_dns_add(ans, FAKE_DNS_A, "192.0.2.1");
			fake_dns_add(ans, FAKE_DNS_A, "192.0.2.2");
		} else
			fake_dns_add(ans, FAKE_DNS_AAAA, "2001:db8::1");
		return 0;
	}
	if (strcmp(name, "v4" SUFFIX) == 0) {
		if (qtype == FAKE_DNS_A)
			fake_dns_add(ans, FAKE_DNS_A, "192.0.2.4");
		return 0;
	}
	if (strcmp(name, "v6" SUFFIX) == 0) {
		if (qtype == FAKE_DNS_AAAA)
			fake_dns_add(ans, FAKE_DNS_AAAA, "2001:db8::6");
		return 0;
	}
	if (strcmp(name, "flaky" SUFFIX) == 0) {
		/* The first two queries (A and AAAA) get no answer. */
		if (fx->flaky++ < 2)
			return FAKE_DNS_DROP;
		if (qtype == FAKE_DNS_A)
			fake_dns_add(ans, FAKE_DNS_A, "192.0.2.40");
		return 0;
	}
	if (strcmp(name, "order" SUFFIX) == 0) {
		/* The A answer waits until the AAAA answer went out. */
		if (qtype == FAKE_DNS_A) {
			fake_dns_add(ans, FAKE_DNS_A, "192.0.2.10");
			ans->hold = 1;
		} else {
			fake_dns_add(ans, FAKE_DNS_AAAA, "2001:db8::10");
			fx->aaaa_first |= s->held_len > 0;
		}
		return 0;
	}
	if (strcmp(name, "dup" SUFFIX) == 0) {
		if (qtype == FAKE_DNS_A) {
			fake_dns_add(ans, FAKE_DNS_A, "192.0.2.30");
			fake_dns_add(ans, FAKE_DNS_A, "192.0.2.30");
		}
		return 0;
	}
	if (strcmp(name, "many" SUFFIX) == 0) {
		/* RESOLVE_MAX_ADDRS - 2 IPv4, then 4 IPv6: 2 of those fit. */
		n = qtype == FAKE_DNS_A ? RESOLVE_MAX_ADDRS - 2 : 4;
		for (i = 0; i < n; i++) {
			snprintf(abuf[i], sizeof(abuf[i]), qtype == FAKE_DNS_A ?
			    "192.0.2.%zu" : "2001:db8::%zx", 100 + i);
			fake_dns_add(ans, qtype, abuf[i]);
		}
		return 0;
	}
	if (strcmp(name, "nodata" SUFFIX) == 0)
		return 0;
	if (strcmp(name, "servfail" SUFFIX) == 0)
		return 2;
	if (strcmp(name, "refused" SUFFIX) == 0)
		return 5;
	if (strcmp(name, "silent" SUFFIX) == 0) {
		fx->silent++;
		return FAKE_DNS_DROP;
	}
	if (sscanf(name, "n%u" SUFFIX, &k) == 1 && k < NCONC) {
		if (qtype == FAKE_DNS_A) {
			snprintf(abuf[0], sizeof(abuf[0]), "10.0.%u.%u", k >> 8,
			    k & 255);
			fake_dns_add(ans, FAKE_DNS_A, abuf[0]);
		}
		return 0;
	}
	return 3;			/* NXDOMAIN */
}

static int
fx_setup(void)
{
	char err[256] = "";

	memset(&F, 0, sizeof(F));
	F.loop = ev_loop_new(EVFLAG_AUTO);
	if (F.loop == NULL || fake_dns_open(&F.srv, F.loop, answer) == -1) {
		ok(0, "fixture: loop and responder");
		return -1;
	}
	if (resolve_init(&F.r, F.loop, F.srv.server, err, sizeof(err)) == -1) {
		ok(0, "fixture: resolve_init: %s", err);
		fake_dns_close(&F.srv, F.loop);
		return -1;
	}
	F.ok = 1;
	return 0;
}

static size_t
free_tickets(const struct resolver *r)
{
	const struct resolve_ticket *t;
	size_t n = 0;

	for (t = r->free_tickets; t != NULL; t = t->next_free)
		n++;
	return n;
}

static void
fx_teardown(void)
{
	if (!F.ok)
		return;
	resolve_close(&F.r);
	fake_dns_close(&F.srv, F.loop);
	ev_loop_destroy(F.loop);
	F.ok = 0;
}

/* What one callback reported. */
struct res {
	int called;
	int status;
	size_t n;
	int addrs_null;
	char addr[RESOLVE_MAX_ADDRS][64];
	char why[64];
	double at;
};

static void
fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t cap)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, cap, "%s:%u", a, ntohs(s4->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, cap, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else
		snprintf(buf, cap, "family %d", ss->ss_family);
}

static void
record_cb(void *arg, int status, const struct sockaddr_storage *addrs,
    size_t naddrs, const char *why)
{
	struct res *res = arg;
	size_t i;

	res->called++;
	res->status = status;
	res->n = naddrs;
	res->addrs_null = addrs == NULL;
	for (i = 0; i < naddrs && i < RESOLVE_MAX_ADDRS; i++)
		fmt_addr(&addrs[i], res->addr[i], sizeof(res->addr[i]));
	snprintf(res->why, sizeof(res->why), "%s", why ? why : "(null)");
	res->at = ev_time();
}

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	*(int *)w->data = 1;
}

/* Runs the loop until *<done> != 0 or <secs> pass.  1 if done. */
static int
run_until(const int *done, double secs)
{
	ev_timer guard;
	int expired = 0;

	ev_timer_init(&guard, guard_cb, secs, 0.);
	guard.data = &expired;
	ev_timer_start(F.loop, &guard);
	while (!*done && !expired)
		ev_run(F.loop, EVRUN_ONCE);
	ev_timer_stop(F.loop, &guard);
	return *done != 0;
}

/* Runs the loop for <secs>. */
static void
run_for(double secs)
{
	int never = 0;

	run_until(&never, secs);
}

/* Resolves <host> and waits for the callback. */
static void
lookup(const char *host, uint16_t port, struct res *res)
{
	struct resolve_req req;

	memset(&req, 0, sizeof(req));
	memset(res, 0, sizeof(*res));
	if (resolve_start(&F.r, &req, host, port, record_cb, res) == -1) {
		ok(0, "resolve_start %s: %s", host, req.why);
		return;
	}
	ok(res->called == 0, "%s: no callback from inside resolve_start", host);
	ok(run_until(&res->called, 3.0), "%s: callback ran", host);
	resolve_cancel(&req);		/* completed: a no-op */
}

/* ---- tests --------------------------------------------------------------- */

static void
test_names(void)
{
	size_t i;

	for (i = 0; i < RESOLVE_STATUS_COUNT; i++) {
		ok(strcmp(resolve_status_str(i), "?") != 0 &&
		    status_why[i] != NULL,
		    "status %zu has a code (%s) and a text",
		    i, resolve_status_str(i));
	}
	is_str(resolve_status_str(RESOLVE_STATUS_COUNT), "?",
	    "out of range code");
	is_str(resolve_status_why(RESOLVE_NXDOMAIN),
	    "name not found (NXDOMAIN)", "NXDOMAIN text");
	is_str(resolve_status_why(RESOLVE_SERVFAIL), "DNS server failure",
	    "SERVFAIL text");
	is_str(resolve_status_why(RESOLVE_TIMEOUT), "DNS lookup timed out",
	    "timeout text");
	is_int(RESOLVE_OK, 0, "RESOLVE_OK is 0");
	is_int(from_ares(ARES_SUCCESS), RESOLVE_OK, "ares: success");
	is_int(from_ares(ARES_ENOTFOUND), RESOLVE_NXDOMAIN, "ares: ENOTFOUND");
	is_int(from_ares(ARES_ENODATA), RESOLVE_NODATA, "ares: ENODATA");
	is_int(from_ares(ARES_ESERVFAIL), RESOLVE_SERVFAIL, "ares: ESERVFAIL");
	is_int(from_ares(ARES_EREFUSED), RESOLVE_REFUSED, "ares: EREFUSED");
	is_int(from_ares(ARES_ETIMEOUT), RESOLVE_TIMEOUT, "ares: ETIMEOUT");
	is_int(from_ares(ARES_ECONNREFUSED), RESOLVE_SERVFAIL,
	    "ares: ECONNREFUSED (1.18: every server failed)");
	is_int(from_ares(ARES_EBADRESP), RESOLVE_BADRESP, "ares: EBADRESP");
	is_int(from_ares(ARES_EDESTRUCTION), RESOLVE_CLOSED,
	    "ares: EDESTRUCTION");
	is_int(from_ares(ARES_ENOMEM), RESOLVE_ERROR, "ares: ENOMEM");
}

static void
test_init(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	static struct resolver r;
	char err[256] = "";

	is_int(resolve_init(&r, loop, "not a server list", err, sizeof(err)),
	    -1, "bad server list refused");
	ok(strstr(err, "bad DNS server list") != NULL, "error says why: %s",
	    err);
	resolve_close(&r);		/* harmless after a failed init */
	is_int(resolve_init(&r, loop, NULL, err, sizeof(err)), 0,
	    "system configuration: %s", err);
	resolve_close(&r);
	resolve_close(&r);		/* idempotent */
	ev_loop_destroy(loop);
}

static void
test_answers(void)
{
	struct res res;
	unsigned q0;
	size_t i;
	char want[64];

	if (fx_setup() == -1)
		return;
	lookup("two" SUFFIX, 443, &res);
	is_int(res.status, RESOLVE_OK, "two: ok");
	is_str(res.why, "resolved", "two: why");
	is_int(res.n, 3, "two: three addresses");
	is_str(res.addr[0], "192.0.2.1:443", "two: first A, port filled");
	is_str(res.addr[1], "192.0.2.2:443", "two: second A");
	is_str(res.addr[2], "[2001:db8::1]:443", "two: then AAAA, port filled");

	lookup("v4" SUFFIX, 80, &res);
	is_int(res.status, RESOLVE_OK, "v4 only: ok");
	is_int(res.n, 1, "v4 only: one address");
	is_str(res.addr[0], "192.0.2.4:80", "v4 only: the A record");

	lookup("v6" SUFFIX, 8443, &res);
	is_int(res.status, RESOLVE_OK, "v6 only: ok");
	is_int(res.n, 1, "v6 only: one address");
	is_str(res.addr[0], "[2001:db8::6]:8443", "v6 only: the AAAA record");

	lookup("order" SUFFIX, 1, &res);
	ok(F.aaaa_first, "order: the responder sent AAAA before A");
	is_int(res.n, 2, "order: two addresses");
	is_str(res.addr[0], "192.0.2.10:1", "order: IPv4 first anyway");
	is_str(res.addr[1], "[2001:db8::10]:1", "order: IPv6 second");

	lookup("dup" SUFFIX, 2, &res);
	is_int(res.n, 1, "dup: duplicate A collapsed");
	is_str(res.addr[0], "192.0.2.30:2", "dup: the address");

	lookup("many" SUFFIX, 65535, &res);
	is_int(res.status, RESOLVE_OK, "many: ok");
	is_int(res.n, RESOLVE_MAX_ADDRS, "many: capped at RESOLVE_MAX_ADDRS");
	for (i = 0; i < RESOLVE_MAX_ADDRS; i++) {
		if (i < RESOLVE_MAX_ADDRS - 2)
			snprintf(want, sizeof(want), "192.0.2.%zu:65535",
			    100 + i);
		else
			snprintf(want, sizeof(want), "[2001:db8::%zx]:65535",
			    100 + i - (RESOLVE_MAX_ADDRS - 2));
		is_str(res.addr[i], want, "many: address %zu", i);
	}

	lookup("unknown" SUFFIX, 443, &res);
	is_int(res.status, RESOLVE_NXDOMAIN, "unknown: NXDOMAIN");
	is_str(res.why, "name not found (NXDOMAIN)", "unknown: why");
	ok(res.n == 0 && res.addrs_null, "unknown: no addresses");

	lookup("nodata" SUFFIX, 443, &res);
	is_int(res.status, RESOLVE_NODATA, "nodata: %s", res.why);
	ok(res.n == 0 && res.addrs_null, "nodata: no addresses");

	lookup("servfail" SUFFIX, 443, &res);
	is_int(res.status, RESOLVE_SERVFAIL, "servfail: %s", res.why);
	is_str(res.why, "DNS server failure", "servfail: why");

	lookup("refused" SUFFIX, 443, &res);
	ok(res.status == RESOLVE_SERVFAIL || res.status == RESOLVE_REFUSED,
	    "refused: %s", res.why);
	ok(res.n == 0 && res.addrs_null, "refused: no addresses");

	/* Literals: no DNS traffic, still through the loop. */
	q0 = F.srv.queries;
	lookup("192.0.2.7", 8080, &res);
	is_int(res.status, RESOLVE_OK, "IPv4 literal: ok");
	is_int(res.n, 1, "IPv4 literal: one address");
	is_str(res.addr[0], "192.0.2.7:8080", "IPv4 literal: address and port");
	lookup("[2001:db8::7]", 443, &res);
	is_str(res.addr[0], "[2001:db8::7]:443", "bracketed IPv6 literal");
	lookup("2001:db8::7", 444, &res);
	is_str(res.addr[0], "[2001:db8::7]:444", "bare IPv6 literal");
	lookup("::ffff:192.0.2.8", 1, &res);
	is_str(res.addr[0], "[::ffff:192.0.2.8]:1",
	    "v4-mapped literal stays IPv6");
	is_int(F.srv.queries, q0, "literals sent no DNS query");
	is_int(free_tickets(&F.r), RESOLVE_MAX_PENDING, "every ticket is back");
	fx_teardown();
}

static void
test_badnames(void)
{
	static const char *const bad[] = {
		"", "bad name" SUFFIX, "a..b" SUFFIX, ".a" SUFFIX, "a/b",
		"[::1", "[::1]x", "[]", "[fe80::1%eth0]", "fe80::1%eth0",
		"1:2:3", "[192.0.2.1]", "tab\tname", "x\xc3\xa9" SUFFIX,
	};
	struct resolve_req req;
	struct res res;
	char longname[MAX_HOST_LEN + 2];
	size_t i;

	if (fx_setup() == -1)
		return;
	memset(&res, 0, sizeof(res));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&req, 0, sizeof(req));
		is_int(resolve_start(&F.r, &req, bad[i], 80, record_cb, &res),
		    -1, "refused: '%s'", bad[i]);
		is_str(req.why, "invalid host name", "  why");
	}
	/* MAX_HOST_LEN is fine (labels of MAX_LABEL_LEN), one byte more not. */
	memset(longname, 0, sizeof(longname));
	for (i = 0; i < MAX_HOST_LEN; i++)
		longname[i] = i % (MAX_LABEL_LEN + 1) == MAX_LABEL_LEN ?
		    '.' : 'a';
	memset(&req, 0, sizeof(req));
	is_int(resolve_start(&F.r, &req, longname, 80, record_cb, &res), 0,
	    "a name of MAX_HOST_LEN bytes is looked up");
	resolve_cancel(&req);
	longname[MAX_HOST_LEN] = 'a';
	is_int(resolve_start(&F.r, &req, longname, 80, record_cb, &res), -1,
	    "a name of MAX_HOST_LEN + 1 bytes is refused");
	memset(longname, 'a', MAX_LABEL_LEN + 1);
	longname[MAX_LABEL_LEN + 1] = '\0';
	is_int(resolve_start(&F.r, &req, longname, 80, record_cb, &res), -1,
	    "a label longer than MAX_LABEL_LEN is refused");
	run_for(0.05);
	is_int(res.called, 0, "no callback for refused lookups");
	fx_teardown();
}

static void
test_timeout(void)
{
	struct resolve_req req;
	struct res res;
	double t0;

	if (fx_setup() == -1)
		return;
	resolve_set_timeout(&F.r, 0.2);
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	ev_now_update(F.loop);
	t0 = ev_time();
	is_int(resolve_start(&F.r, &req, "silent" SUFFIX, 443, record_cb, &res),
	    0, "silent: started");
	ok(run_until(&res.called, 3.0), "silent: callback ran");
	is_int(res.status, RESOLVE_TIMEOUT, "silent: timeout");
	is_str(res.why, "DNS lookup timed out", "silent: why");
	ok(res.n == 0 && res.addrs_null, "silent: no addresses");
	ok(res.at - t0 >= 0.15 && res.at - t0 < 1.5,
	    "silent: after the deadline (%.3f s)", res.at - t0);
	ok(F.silent >= 1, "silent: the query did reach the responder");
	run_for(0.1);
	is_int(res.called, 1, "silent: exactly one callback");
	/* The abandoned query still holds its ticket until c-ares gives up. */
	is_int(free_tickets(&F.r), RESOLVE_MAX_PENDING - 1,
	    "abandoned query keeps one ticket");
	fx_teardown();
}

static void
test_cancel(void)
{
	struct resolve_req req, req2;
	struct res res, res2;
	unsigned q0;

	if (fx_setup() == -1)
		return;
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	resolve_cancel(&req);
	ok(1, "cancel of a zeroed request is harmless");

	q0 = F.srv.queries;
	is_int(resolve_start(&F.r, &req, "two" SUFFIX, 443, record_cb, &res), 0,
	    "started");
	resolve_cancel(&req);
	resolve_cancel(&req);		/* twice: harmless */
	/* Reuse at once for another name; it must get only its own answer. */
	memset(&res2, 0, sizeof(res2));
	is_int(resolve_start(&F.r, &req, "v4" SUFFIX, 80, record_cb, &res2), 0,
	    "reused after cancel");
	ok(run_until(&res2.called, 3.0), "reused request completes");
	ok(F.srv.queries >= q0 + 2, "the cancelled queries did go out");
	run_for(0.1);
	is_int(res.called, 0, "cancelled: callback never ran");
	is_int(res2.called, 1, "reused: one callback");
	is_str(res2.addr[0], "192.0.2.4:80", "reused: its own answer");
	is_int(free_tickets(&F.r), RESOLVE_MAX_PENDING,
	    "tickets of cancelled queries came back");

	/* Starting again on a busy request cancels the first lookup. */
	memset(&res, 0, sizeof(res));
	memset(&res2, 0, sizeof(res2));
	is_int(resolve_start(&F.r, &req, "two" SUFFIX, 5, record_cb, &res), 0,
	    "first lookup started");
	is_int(resolve_start(&F.r, &req, "v6" SUFFIX, 6, record_cb, &res2), 0,
	    "second lookup on the same request");
	ok(run_until(&res2.called, 3.0), "second lookup delivered");
	run_for(0.05);
	is_int(res.called, 0, "the first lookup's callback never ran");
	is_str(res2.addr[0], "[2001:db8::6]:6", "second lookup: its answer");

	/* Cancel a literal before its delivery. */
	memset(&res, 0, sizeof(res));
	is_int(resolve_start(&F.r, &req, "192.0.2.9", 1, record_cb, &res), 0,
	    "literal started");
	resolve_cancel(&req);
	run_for(0.05);
	is_int(res.called, 0, "cancelled literal: no callback");

	/* Cancel after the answer arrived but before delivery. */
	memset(&res, 0, sizeof(res));
	memset(&req2, 0, sizeof(req2));
	is_int(resolve_start(&F.r, &req2, "two" SUFFIX, 1, record_cb, &res), 0,
	    "started again");
	while (req2.state == REQ_QUERY)
		ev_run(F.loop, EVRUN_ONCE);
	ok(req2.state == REQ_READY && res.called == 0,
	    "answer stored, not yet delivered");
	resolve_cancel(&req2);
	run_for(0.05);
	is_int(res.called, 0, "cancelled when ready: no callback");
	ok(req2.ai == NULL, "stored answer freed");
	fx_teardown();
}

/* c-ares retransmits on its timer (shortened to 50 ms here). */
static void
test_retransmit(void)
{
	struct res res;
	int saved = try_ms;
	double t0;

	try_ms = 50;
	if (fx_setup() == -1) {
		try_ms = saved;
		return;
	}
	try_ms = saved;
	t0 = ev_time();
	lookup("flaky" SUFFIX, 80, &res);
	is_int(res.status, RESOLVE_OK, "flaky: answered on a retry");
	is_str(res.addr[0], "192.0.2.40:80", "flaky: the address");
	ok(F.flaky >= 3, "flaky: queries were sent again (%u)", F.flaky);
	ok(res.at - t0 < 1.0, "flaky: well before the deadline (%.3f s)",
	    res.at - t0);
	ok(!ev_is_active(&F.r.ae.tmr), "retransmission timer stopped when idle");
	fx_teardown();
}

/* A callback that starts the next lookup on the same request. */
struct chain {
	struct resolve_req req;
	int step;
	struct res last;
};

static void
chain_cb(void *arg, int status, const struct sockaddr_storage *addrs,
    size_t naddrs, const char *why)
{
	struct chain *c = arg;

	c->step++;
	if (c->step == 1) {
		if (resolve_start(&F.r, &c->req, "v6" SUFFIX, 7, chain_cb,
		    c) == -1)
			tap_diag("chain restart failed: %s", c->req.why);
		return;
	}
	record_cb(&c->last, status, addrs, naddrs, why);
}

static void
test_chain(void)
{
	static struct chain c;

	if (fx_setup() == -1)
		return;
	memset(&c, 0, sizeof(c));
	is_int(resolve_start(&F.r, &c.req, "v4" SUFFIX, 7, chain_cb, &c), 0,
	    "chain: started");
	ok(run_until(&c.last.called, 3.0), "chain: second lookup delivered");
	is_int(c.step, 2, "chain: two callbacks");
	is_str(c.last.addr[0], "[2001:db8::6]:7",
	    "chain: restarted from its own callback");
	fx_teardown();
}

static struct resolve_req creq[NCONC];
static struct res cres[NCONC];

/* Completed concurrent lookups; conc_all is set by the last one. */
static size_t conc_done;
static int conc_all;

static void
conc_cb(void *arg, int status, const struct sockaddr_storage *addrs,
    size_t naddrs, const char *why)
{
	record_cb(arg, status, addrs, naddrs, why);
	if (++conc_done == NCONC)
		conc_all = 1;
}

static void
test_concurrent(void)
{
	char name[64], want[64];
	size_t i, good = 0;

	if (fx_setup() == -1)
		return;
	memset(creq, 0, sizeof(creq));
	memset(cres, 0, sizeof(cres));
	conc_done = 0;
	conc_all = 0;
	for (i = 0; i < NCONC; i++) {
		snprintf(name, sizeof(name), "n%zu" SUFFIX, i);
		if (resolve_start(&F.r, &creq[i], name, (uint16_t)(1000 + i),
		    conc_cb, &cres[i]) == -1)
			tap_diag("start %s: %s", name, creq[i].why);
	}
	is_int(free_tickets(&F.r), RESOLVE_MAX_PENDING - NCONC,
	    "one ticket per lookup in flight");
	ok(run_until(&conc_all, 3.0), "all %d callbacks ran", NCONC);
	is_int(F.srv.queries, 2 * NCONC,
	    "one A and one AAAA query each, no retry");
	for (i = 0; i < NCONC; i++) {
		snprintf(want, sizeof(want), "10.0.%zu.%zu:%zu", i >> 8,
		    i & 255, 1000 + i);
		if (cres[i].called == 1 && cres[i].status == RESOLVE_OK &&
		    cres[i].n == 1 && strcmp(cres[i].addr[0], want) == 0)
			good++;
		else if (i - good < 3)		/* the first few failures */
			tap_diag("n%zu: called %d status %d n %zu addr %s", i,
			    cres[i].called, cres[i].status, cres[i].n,
			    cres[i].addr[0]);
	}
	is_int(good, NCONC, "%d concurrent lookups all answered correctly",
	    NCONC);
	is_int(free_tickets(&F.r), RESOLVE_MAX_PENDING, "all tickets back");

	/* RESOLVE_BUSY when no ticket is left; literals need none. */
	{
		struct resolve_ticket *saved = F.r.free_tickets;
		struct resolve_req req;
		struct res res;

		F.r.free_tickets = NULL;
		memset(&req, 0, sizeof(req));
		memset(&res, 0, sizeof(res));
		is_int(resolve_start(&F.r, &req, "two" SUFFIX, 1, record_cb,
		    &res), -1, "no ticket left: refused");
		is_str(req.why, "too many DNS lookups in progress", "  why");
		is_int(resolve_start(&F.r, &req, "192.0.2.1", 1, record_cb,
		    &res), 0, "a literal still works");
		ok(run_until(&res.called, 1.0) && res.status == RESOLVE_OK,
		    "  and is delivered");
		F.r.free_tickets = saved;
	}
	fx_teardown();
}

static void
test_close(void)
{
	struct resolve_req req[5], late;
	struct res res[5], lres;
	size_t i;
	int sum;

	if (fx_setup() == -1)
		return;
	memset(req, 0, sizeof(req));
	memset(res, 0, sizeof(res));
	for (i = 0; i < 3; i++)
		if (resolve_start(&F.r, &req[i], "silent" SUFFIX, 1, record_cb,
		    &res[i]) == -1)
			tap_diag("start failed");
	if (resolve_start(&F.r, &req[3], "192.0.2.1", 1, record_cb,
	    &res[3]) == -1 ||
	    resolve_start(&F.r, &req[4], "two" SUFFIX, 1, record_cb,
	    &res[4]) == -1)
		tap_diag("start failed");
	resolve_close(&F.r);
	for (i = 0, sum = 0; i < 5; i++) {
		sum += res[i].called;
		if (res[i].called != 1 || res[i].status != RESOLVE_CLOSED)
			tap_diag("lookup %zu: called %d status %d", i,
			    res[i].called, res[i].status);
	}
	is_int(sum, 5, "close: every pending callback ran, from resolve_close");
	is_str(res[0].why, "resolver shut down", "close: why");
	ok(res[0].addrs_null && res[0].n == 0, "close: no addresses");
	run_for(0.1);
	for (i = 0, sum = 0; i < 5; i++)
		sum += res[i].called;
	is_int(sum, 5, "close: no callback afterwards");
	memset(&late, 0, sizeof(late));
	memset(&lres, 0, sizeof(lres));
	is_int(resolve_start(&F.r, &late, "two" SUFFIX, 1, record_cb, &lres),
	    -1, "start after close refused");
	is_str(late.why, "resolver shut down", "  why");
	for (i = 0; i < 5; i++)
		resolve_cancel(&req[i]);	/* all idle: no-ops */
	ok(1, "cancel after close is harmless");
	fake_dns_close(&F.srv, F.loop);
	ev_loop_destroy(F.loop);
	F.ok = 0;
}

/* Closes the resolver from inside a callback. */
static void
closer_cb(void *arg, int status, const struct sockaddr_storage *addrs,
    size_t naddrs, const char *why)
{
	record_cb(arg, status, addrs, naddrs, why);
	resolve_close(&F.r);
}

static void
test_close_in_cb(void)
{
	struct resolve_req a, b;
	struct res ra, rb;

	if (fx_setup() == -1)
		return;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&ra, 0, sizeof(ra));
	memset(&rb, 0, sizeof(rb));
	if (resolve_start(&F.r, &a, "v4" SUFFIX, 1, closer_cb, &ra) == -1 ||
	    resolve_start(&F.r, &b, "silent" SUFFIX, 1, record_cb, &rb) == -1)
		tap_diag("start failed");
	ok(run_until(&ra.called, 3.0), "first lookup delivered");
	is_int(ra.status, RESOLVE_OK, "  with its answer");
	is_int(rb.called, 1, "the other one was closed from the callback");
	is_int(rb.status, RESOLVE_CLOSED, "  with RESOLVE_CLOSED");
	ok(!F.r.open, "resolver closed");
	fake_dns_close(&F.srv, F.loop);
	ev_loop_destroy(F.loop);
	F.ok = 0;
}

static void
test_unreachable(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	static struct resolver r;
	static struct fake_dns gone;
	struct resolve_req req;
	struct res res;
	char err[256];
	int expired = 0;
	ev_timer guard;

	/* A port nobody listens on: open a responder, note it, close it. */
	if (fake_dns_open(&gone, loop, NULL) == -1) {
		ok(0, "unreachable: socket");
		return;
	}
	fake_dns_close(&gone, loop);
	if (resolve_init(&r, loop, gone.server, err, sizeof(err)) == -1) {
		ok(0, "unreachable: init: %s", err);
		return;
	}
	/*
	 * c-ares 1.18 sees ECONNREFUSED, reopens its socket, and then waits
	 * for its doubled per-try timeout: the deadline ends it first.
	 */
	resolve_set_timeout(&r, 0.3);
	memset(&req, 0, sizeof(req));
	memset(&res, 0, sizeof(res));
	if (resolve_start(&r, &req, "two" SUFFIX, 1, record_cb, &res) == -1)
		tap_diag("start failed");
	ev_timer_init(&guard, guard_cb, 3.0, 0.);
	guard.data = &expired;
	ev_timer_start(loop, &guard);
	while (!res.called && !expired)
		ev_run(loop, EVRUN_ONCE);
	ev_timer_stop(loop, &guard);
	is_int(res.called, 1, "unreachable server: callback ran once");
	ok(res.status == RESOLVE_SERVFAIL || res.status == RESOLVE_TIMEOUT,
	    "unreachable server: %s (%s)", resolve_status_str(res.status),
	    res.why);
	resolve_close(&r);
	ev_loop_destroy(loop);
}

void
test_runtime__resolve_c(void)
{
	subtest("resolve status names", test_names);
	subtest("resolve_init", test_init);
	subtest("resolve answers", test_answers);
	subtest("resolve invalid names", test_badnames);
	subtest("resolve deadline", test_timeout);
	subtest("resolve_cancel", test_cancel);
	subtest("resolve retransmission", test_retransmit);
	subtest("resolve from a callback", test_chain);
	subtest("resolve concurrent", test_concurrent);
	subtest("resolve_close", test_close);
	subtest("resolve_close from a callback", test_close_in_cb);
	subtest("resolve unreachable server", test_unreachable);
}
