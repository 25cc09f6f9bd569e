/*
 * Tests runtime/aresev.c: a c-ares channel on a libev loop, pointed at a
 * DNS responder of our own (fake_dns.h: a UDP socket on 127.0.0.1,
 * served from the same loop).  The responder answers A queries with
 * 192.0.2.7, never answers "silent" names and drops the first query for
 * "flaky" ones.  Nothing leaves loopback.
 *
 * Checked: a query completes through the io watchers; its socket is
 * watched and close-on-exec while in flight; the timer follows
 * ares_timeout() (armed while a query is pending, stopped when idle) and
 * drives retransmissions and timeouts; aresev_close() ends pending
 * queries with ARES_EDESTRUCTION and releases every watcher slot; the
 * ARESEV_MAX_SOCKS limit refuses one socket too many and a released slot
 * is reused.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "runtime/aresev.c"
#include "tests/tap.h"
#include "tests/unit/runtime/fake_dns.h"

void test_runtime__aresev_c(void);

#define SUFFIX ".boundary-test.invalid"

/* ---- fixture and helpers --------------------------------------------------
 */

struct fx {
	struct ev_loop *loop;
	struct fake_dns ns;
	struct aresev ae;
	int lib_init;
	unsigned flaky; /* queries for "flaky" seen */
};

static struct fx F;

/* The responder: A queries get 192.0.2.7, AAAA ones an empty NOERROR. */
static int
answer(
    struct fake_dns *s, const char *name, int qtype, struct fake_dns_ans *ans)
{
	struct fx *fx = container_of(s, struct fx, ns);

	if (strcmp(name, "silent" SUFFIX) == 0)
		return FAKE_DNS_DROP;
	if (strcmp(name, "flaky" SUFFIX) == 0 && fx->flaky++ == 0)
		return FAKE_DNS_DROP;
	if (qtype == FAKE_DNS_A)
		fake_dns_add(ans, FAKE_DNS_A, "192.0.2.7");
	return 0;
}

/* A lookup's outcome. */
struct res {
	int done;   /* callbacks seen */
	int status; /* the c-ares status */
	char addr[INET_ADDRSTRLEN];
};

static int
fx_setup(int try_ms, int tries)
{
	struct ares_options opts;
	char err[256] = "";
	static char lookups_dns[] = "b";
	int rc;

	memset(&F, 0, sizeof(F));
	F.ns.fd = -1;
	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		ok(0, "fixture: ares_library_init: %s", ares_strerror(rc));
		return -1;
	}
	F.lib_init = 1;
	F.loop = ev_loop_new(EVFLAG_AUTO);
	if (F.loop == NULL || fake_dns_open(&F.ns, F.loop, answer) == -1) {
		ok(0, "fixture: loop and responder");
		goto fail;
	}
	memset(&opts, 0, sizeof(opts));
	opts.flags = ARES_FLAG_NOALIASES | ARES_FLAG_NOSEARCH;
	opts.timeout = try_ms;
	opts.tries = tries;
	opts.lookups = lookups_dns;
	if (aresev_init(&F.ae, F.loop, &opts,
	        ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	            ARES_OPT_LOOKUPS,
	        err, sizeof(err)) == -1) {
		ok(0, "fixture: aresev_init: %s", err);
		goto fail;
	}
	if ((rc = ares_set_servers_ports_csv(F.ae.ch, F.ns.server)) !=
	    ARES_SUCCESS) {
		ok(0, "fixture: server list: %s", ares_strerror(rc));
		goto fail;
	}
	return 0;

fail:
	aresev_close(&F.ae);
	if (F.loop != NULL) {
		fake_dns_close(&F.ns, F.loop);
		ev_loop_destroy(F.loop);
		F.loop = NULL;
	}
	ares_library_cleanup();
	F.lib_init = 0;
	return -1;
}

static void
fx_teardown(void)
{
	aresev_close(&F.ae);
	fake_dns_close(&F.ns, F.loop);
	ev_loop_destroy(F.loop);
	F.loop = NULL;
	if (F.lib_init)
		ares_library_cleanup();
	F.lib_init = 0;
}

static size_t
nclaimed(const struct aresev *ae)
{
	size_t i, n = 0;

	for (i = 0; i < ARESEV_MAX_SOCKS; i++)
		n += ae->socks[i].claimed != 0;
	return n;
}

static size_t
nwatching(const struct aresev *ae)
{
	size_t i, n = 0;

	for (i = 0; i < ARESEV_MAX_SOCKS; i++)
		n += ev_is_active(&ae->socks[i].io) != 0;
	return n;
}

/* Every slot free: unclaimed, stopped, no fd. */
static int
all_free(const struct aresev *ae)
{
	size_t i;

	for (i = 0; i < ARESEV_MAX_SOCKS; i++)
		if (ae->socks[i].claimed || ev_is_active(&ae->socks[i].io) ||
		    ae->socks[i].io.fd != -1)
			return 0;
	return 1;
}

static void
addrinfo_cb(void *arg, int status, int timeouts, struct ares_addrinfo *ai)
{
	struct res *r = arg;
	const struct ares_addrinfo_node *nd;

	(void)timeouts;
	r->done++;
	r->status = status;
	if (ai == NULL)
		return;
	for (nd = ai->nodes; nd != NULL; nd = nd->ai_next)
		if (nd->ai_family == AF_INET && r->addr[0] == '\0')
			inet_ntop(AF_INET,
			    &((const struct sockaddr_in *)(const void *)
			            nd->ai_addr)
			         ->sin_addr,
			    r->addr, sizeof(r->addr));
	ares_freeaddrinfo(ai);
}

/* Hands c-ares an IPv4 lookup of <name>, as resolve.c does. */
static void
start(const char *name, struct res *r)
{
	struct ares_addrinfo_hints hints;

	memset(r, 0, sizeof(*r));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_INET;
	ares_getaddrinfo(F.ae.ch, name, NULL, &hints, addrinfo_cb, r);
	aresev_update_timer(&F.ae);
}

static void
brk_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop until <r> is done or <secs> passed; 0 when done. */
static int
wait_done(struct res *r, double secs)
{
	ev_timer t;

	ev_timer_init(&t, brk_cb, secs, 0.);
	ev_timer_start(F.loop, &t);
	while (!r->done && ev_is_active(&t))
		ev_run(F.loop, EVRUN_ONCE);
	ev_timer_stop(F.loop, &t);
	return r->done ? 0 : -1;
}

/* ---- tests ----------------------------------------------------------------
 */

static void
test_init(void)
{
	struct aresev z;

	if (fx_setup(1000, 1) == -1)
		return;
	ok(F.ae.ch != NULL, "channel set up");
	ok(F.ae.loop == F.loop, "on the given loop");
	ok(all_free(&F.ae), "no slot claimed yet");
	aresev_update_timer(&F.ae);
	ok(!ev_is_active(&F.ae.tmr), "nothing pending: timer stopped");
	aresev_close(&F.ae);
	ok(F.ae.ch == NULL, "closed: channel gone");
	aresev_close(&F.ae);
	ok(F.ae.ch == NULL && all_free(&F.ae), "second close: a no-op");
	aresev_update_timer(&F.ae);
	ok(!ev_is_active(&F.ae.tmr), "timer update after close: a no-op");
	fx_teardown();

	memset(&z, 0, sizeof(z));
	aresev_close(&z);
	ok(z.ch == NULL && z.loop == NULL, "close of a zeroed channel: no-op");
}

static void
test_query(void)
{
	struct aresev_sock *s = NULL;
	struct res r;
	size_t i;
	int fl;

	if (fx_setup(1000, 2) == -1)
		return;
	start("a" SUFFIX, &r);
	is_int(r.done, 0, "no answer from inside the call");
	is_int(nclaimed(&F.ae), 1, "one socket claimed while in flight");
	is_int(nwatching(&F.ae), 1, "and watched");
	for (i = 0; i < ARESEV_MAX_SOCKS; i++)
		if (F.ae.socks[i].claimed)
			s = &F.ae.socks[i];
	ok(s != NULL && s->io.fd != -1 && ev_is_active(&s->io) &&
	        (s->io.events & EV_READ),
	    "watched for reading");
	fl = s != NULL ? fcntl(s->io.fd, F_GETFD) : -1;
	ok(fl != -1 && (fl & FD_CLOEXEC), "c-ares' socket is close-on-exec");
	ok(ev_is_active(&F.ae.tmr), "timer armed while a query is pending");
	is_int(wait_done(&r, 3.), 0, "the query completes on the loop");
	is_int(r.status, ARES_SUCCESS, "status");
	is_str(r.addr, "192.0.2.7", "the address");
	is_int(F.ns.queries, 1, "one query sent");
	ok(!ev_is_active(&F.ae.tmr), "timer stopped when idle");

	/* A second query on the same channel. */
	start("b" SUFFIX, &r);
	is_int(wait_done(&r, 3.), 0, "a second query completes");
	is_str(r.addr, "192.0.2.7", "its address");
	ok(nclaimed(&F.ae) <= 1, "sockets are not leaked (%zu claimed)",
	    nclaimed(&F.ae));

	aresev_close(&F.ae);
	ok(all_free(&F.ae), "closed: every slot released and stopped");
	ok(!ev_is_active(&F.ae.tmr), "closed: timer stopped");
	fx_teardown();
}

/* The timer drives retransmission (first query dropped) and timeouts. */
static void
test_timer(void)
{
	struct res r;
	double t0;

	if (fx_setup(50, 3) == -1)
		return;
	t0 = ev_time();
	start("flaky" SUFFIX, &r);
	is_int(wait_done(&r, 3.), 0, "flaky: completes");
	is_int(r.status, ARES_SUCCESS, "flaky: answered on a retry");
	is_str(r.addr, "192.0.2.7", "flaky: the address");
	ok(F.flaky >= 2, "flaky: the query was sent again (%u)", F.flaky);
	ok(ev_time() - t0 < 1.0, "flaky: retried after the try timeout");

	start("silent" SUFFIX, &r);
	is_int(wait_done(&r, 5.), 0, "silent: ends by itself");
	is_int(r.status, ARES_ETIMEOUT, "silent: ARES_ETIMEOUT");
	ok(F.ns.queries >= 2 + 3, "silent: every try was sent (%u queries)",
	    F.ns.queries);
	ok(!ev_is_active(&F.ae.tmr), "timer stopped when idle");
	fx_teardown();
}

static void
test_close_pending(void)
{
	struct res r;

	if (fx_setup(1000, 2) == -1)
		return;
	start("silent" SUFFIX, &r);
	ok(nclaimed(&F.ae) == 1 && ev_is_active(&F.ae.tmr),
	    "a query in flight: socket and timer in use");
	aresev_close(&F.ae);
	is_int(r.done, 1, "its callback ran from aresev_close");
	is_int(r.status, ARES_EDESTRUCTION, "with ARES_EDESTRUCTION");
	ok(all_free(&F.ae), "every slot released and stopped");
	ok(!ev_is_active(&F.ae.tmr), "timer stopped");
	ok(F.ae.ch == NULL, "channel gone");
	fx_teardown();
}

/* The slot limit, through the callbacks c-ares would call. */
static void
test_slots(void)
{
	int fds[ARESEV_MAX_SOCKS + 1];
	struct aresev_sock *s;
	size_t i, n;
	int fl, refused, cloexec = 1;

	for (i = 0; i <= ARESEV_MAX_SOCKS; i++)
		fds[i] = -1;
	if (fx_setup(1000, 1) == -1)
		return;
	for (i = 0; i <= ARESEV_MAX_SOCKS; i++)
		if ((fds[i] = socket(AF_INET, SOCK_DGRAM, 0)) == -1) {
			ok(0, "socket: %s", strerror(errno));
			goto out;
		}
	for (i = 0, n = 0; i < ARESEV_MAX_SOCKS; i++) {
		n += sock_create_cb(fds[i], SOCK_DGRAM, &F.ae) == 0;
		fl = fcntl(fds[i], F_GETFD);
		cloexec &= fl != -1 && (fl & FD_CLOEXEC);
	}
	is_int(n, ARESEV_MAX_SOCKS, "ARESEV_MAX_SOCKS sockets accepted");
	ok(cloexec, "each made close-on-exec");
	is_int(nclaimed(&F.ae), ARESEV_MAX_SOCKS, "each holds a slot");
	is_int(nwatching(&F.ae), 0, "none watched before c-ares asks");
	refused = sock_create_cb(fds[ARESEV_MAX_SOCKS], SOCK_DGRAM, &F.ae);
	is_int(refused, -1, "one more is refused");

	sock_state_cb(&F.ae, fds[0], 1, 0);
	s = sock_find(&F.ae, fds[0]);
	ok(s != NULL && ev_is_active(&s->io) &&
	        (s->io.events & (EV_READ | EV_WRITE)) == EV_READ,
	    "state (1, 0): watched for reading");
	sock_state_cb(&F.ae, fds[0], 1, 1);
	ok(s != NULL && ev_is_active(&s->io) &&
	        (s->io.events & (EV_READ | EV_WRITE)) == (EV_READ | EV_WRITE),
	    "state (1, 1): reading and writing");
	is_int(nclaimed(&F.ae), ARESEV_MAX_SOCKS, "still one slot per socket");
	sock_state_cb(&F.ae, fds[0], 0, 0);
	ok(sock_find(&F.ae, fds[0]) == NULL, "state (0, 0): slot released");
	is_int(nwatching(&F.ae), 0, "and its watcher stopped");
	is_int(sock_create_cb(fds[ARESEV_MAX_SOCKS], SOCK_DGRAM, &F.ae), 0,
	    "the freed slot is taken by the next socket");
	sock_state_cb(&F.ae, fds[ARESEV_MAX_SOCKS], 0, 1);
	s = sock_find(&F.ae, fds[ARESEV_MAX_SOCKS]);
	ok(s != NULL && ev_is_active(&s->io) &&
	        (s->io.events & (EV_READ | EV_WRITE)) == EV_WRITE,
	    "state (0, 1): watched for writing");
	aresev_close(&F.ae);
	ok(all_free(&F.ae), "close releases every slot");
out:
	fx_teardown();
	for (i = 0; i <= ARESEV_MAX_SOCKS; i++)
		if (fds[i] != -1)
			close(fds[i]);
}

void
test_runtime__aresev_c(void)
{
	subtest("aresev_init and aresev_close", test_init);
	subtest("aresev query", test_query);
	subtest("aresev timer", test_timer);
	subtest("aresev_close with a query pending", test_close_pending);
	subtest("aresev socket slots", test_slots);
}
