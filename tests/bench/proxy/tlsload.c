/*
 * tlsload: the HTTPS (and idle-connection) load generator of
 * tests/bench/proxy/run.sh.  Built by run.sh with
 *
 *	cc -std=c11 -D_GNU_SOURCE -O2 -o tlsload tlsload.c -lwolfssl
 *
 * Usage:
 *	tlsload ka    -p PORT -h HOST [-c CONNS] [-t PROCS] [-d SECS] [-a CA]
 *	              [-o CPORT] [-g x25519|p256] [-D]
 *	tlsload new   (the same options as ka)
 *	tlsload first -p PORT -h WARMHOST -s SUFFIX -n N [-a CA] [-o CPORT]
 *	tlsload idle  -p PORT -P PID -n N [-h HOST]
 *	tlsload freeport N
 *
 * ka:    CONNS connections, each "CONNECT HOST:CPORT" (CPORT is 443 unless
 *        -o; with -D no CONNECT, TLS straight to PORT), a TLS handshake with
 *        SNI HOST, then GET requests back to back on the kept-alive tunnel
 *        for SECS seconds.  Requests/s and latency percentiles (request
 *        written -> response complete).  -t splits CONNS over PROCS
 *        processes, each with its own epoll loop.
 * new:   CONNS concurrent slots; each slot opens a connection, does CONNECT,
 *        a full TLS handshake (no session resumption), one GET, closes, and
 *        starts again.  Connections/s and their latency.
 * first: N times, one at a time: a fresh connection to WARMHOST (whose leaf
 *        the proxy has already minted) then a fresh connection to
 *        h<i>-<pid>.SUFFIX (never seen before); median times of CONNECT,
 *        handshake, first response for both, and the difference.
 * idle:  plain HTTP; N blocking connections to PORT, VmRSS of PID before,
 *        after connecting, and after one absolute-form GET on each; KiB per
 *        connection that the proxy kept open.
 * freeport: prints N distinct free TCP ports on 127.0.0.1.
 *
 * -g picks the key share offered first, X25519 unless told (what curl with
 * OpenSSL, Go and browsers send); the other of the two follows it.
 * -a CA verifies the server certificate against CA and HOST; without it
 * nothing is verified.  Every line of results starts with "RESULT " and is
 * made of key=value words.  Everything goes to 127.0.0.1 only.
 */
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#define HIST_N 1000000		/* latency histogram: 1 us buckets up to 1 s */
#define RBUF 16384		/* response bytes buffered per connection */
#define MAX_PROCS 16
#define MAX_FIRST 10000

enum mode {
	MODE_KA,		/* keep-alive requests inside tunnels */
	MODE_NEW,		/* one request per new tunnel */
	MODE_FIRST,		/* first request, known vs new host */
	MODE_IDLE,		/* idle plain connections, proxy RSS */
	MODE_FREEPORT		/* print free ports */
};

enum lst {
	LST_TCP,		/* non-blocking connect() in progress */
	LST_CONNRESP,		/* CONNECT sent, reading the proxy's answer */
	LST_HS,			/* TLS handshake */
	LST_REQ,		/* writing a request */
	LST_RESP		/* reading a response */
};

struct lconn {
	int fd;
	enum lst st;
	WOLFSSL *ssl;
	char buf[RBUF];
	size_t len;
	double t_open, t_conn, t_hs, t_req, t_resp;
	unsigned int events;	/* epoll interest currently armed */
};

struct result {
	uint64_t reqs;		/* complete responses */
	uint64_t conns;		/* connections that completed a handshake */
	uint64_t errors;	/* connections that failed */
	uint64_t non200;	/* responses whose status was not 200 */
	double secs;		/* measured time */
	uint32_t hist[HIST_N + 1];
};

struct opts {
	enum mode mode;
	int port;
	const char *host;
	const char *suffix;
	const char *path;
	const char *ca;
	int conns;
	int procs;
	double secs;
	int direct;
	int cport;		/* port in the CONNECT authority */
	int group;		/* the key share offered first */
	int n;
	long pid;
};

static struct opts o = { .path = "/x", .conns = 32, .procs = 1,
	.secs = 8.0, .host = "bench.test", .cport = 443,
	.group = WOLFSSL_ECC_X25519 };
static WOLFSSL_CTX *ctx;
static int epfd = -1;
static struct result *res;
static double deadline;
static uint64_t errors_shown;
static char reqbuf[1024];
static size_t reqlen;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fputs("tlsload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void __attribute__((format(printf, 2, 3)))
conn_err(struct lconn *lc, const char *fmt, ...)
{
	va_list ap;

	(void)lc;
	res->errors++;
	if (errors_shown++ >= 5)
		return;
	fputs("tlsload: connection error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Length of the first line buffered in <lc>, for error messages. */
static int
line_len(const struct lconn *lc)
{
	size_t i;

	for (i = 0; i < lc->len && i < 120; i++)
		if (lc->buf[i] == '\r' || lc->buf[i] == '\n')
			break;
	return (int)i;
}

static void
hist_add(double secs)
{
	long us = (long)(secs * 1e6 + 0.5);

	if (us < 0)
		us = 0;
	if (us > HIST_N)
		us = HIST_N;
	res->hist[us]++;
}

/* The <pct> percentile of <h>, in microseconds. */
static long
hist_pct(const uint32_t *h, uint64_t total, double pct)
{
	uint64_t want, seen = 0;
	long i;

	if (total == 0)
		return -1;
	want = (uint64_t)((double)total * pct / 100.0);
	if (want >= total)
		want = total - 1;
	for (i = 0; i <= HIST_N; i++) {
		seen += h[i];
		if (seen > want)
			return i;
	}
	return HIST_N;
}

static int
tcp_socket(int nonblock)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)o.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
arm(struct lconn *lc, unsigned int ev)
{
	struct epoll_event e = { .events = ev, .data.ptr = lc };

	if (lc->events == ev)
		return;
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, lc->fd, &e) == -1)
		die("epoll_ctl: %s", strerror(errno));
	lc->events = ev;
}

static void
lconn_close(struct lconn *lc)
{
	if (lc->ssl != NULL) {
		wolfSSL_free(lc->ssl);
		lc->ssl = NULL;
	}
	if (lc->fd != -1) {
		close(lc->fd);
		lc->fd = -1;
	}
}

/* Opens <lc> towards <host>; 0 or -1. */
static int
lconn_open(struct lconn *lc)
{
	struct epoll_event e;

	lc->t_open = now();
	lc->t_conn = lc->t_hs = lc->t_req = lc->t_resp = 0;
	lc->len = 0;
	lc->fd = tcp_socket(1);
	if (lc->fd == -1) {
		conn_err(lc, "connect: %s", strerror(errno));
		return -1;
	}
	lc->st = LST_TCP;
	lc->events = EPOLLOUT;
	e.events = EPOLLOUT;
	e.data.ptr = lc;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lc->fd, &e) == -1)
		die("epoll_ctl: %s", strerror(errno));
	return 0;
}

static int
tls_start(struct lconn *lc)
{
	static char alpn[] = "http/1.1";

	lc->ssl = wolfSSL_new(ctx);
	if (lc->ssl == NULL)
		die("wolfSSL_new failed");
	if (wolfSSL_set_fd(lc->ssl, lc->fd) != WOLFSSL_SUCCESS)
		die("wolfSSL_set_fd failed");
	if (wolfSSL_UseSNI(lc->ssl, WOLFSSL_SNI_HOST_NAME, o.host,
	    (unsigned short)strlen(o.host)) != WOLFSSL_SUCCESS)
		die("wolfSSL_UseSNI failed");
	if (wolfSSL_UseALPN(lc->ssl, alpn, sizeof(alpn) - 1,
	    WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) != WOLFSSL_SUCCESS)
		die("wolfSSL_UseALPN failed");
	if (wolfSSL_UseKeyShare(lc->ssl, (unsigned short)o.group) !=
	    WOLFSSL_SUCCESS)
		die("wolfSSL_UseKeyShare failed");
	if (o.ca != NULL &&
	    wolfSSL_check_domain_name(lc->ssl, o.host) != WOLFSSL_SUCCESS)
		die("wolfSSL_check_domain_name failed");
	lc->st = LST_HS;
	return 0;
}

/* Arms <lc> after a wolfSSL call returned <r> <= 0; -1 on a real error. */
static int
tls_wait(struct lconn *lc, int r, const char *what)
{
	char msg[WOLFSSL_MAX_ERROR_SZ];
	int err = wolfSSL_get_error(lc->ssl, r);

	if (err == WOLFSSL_ERROR_WANT_READ) {
		arm(lc, EPOLLIN);
		return 0;
	}
	if (err == WOLFSSL_ERROR_WANT_WRITE) {
		arm(lc, EPOLLOUT);
		return 0;
	}
	if (err == WOLFSSL_ERROR_ZERO_RETURN || (err == SOCKET_PEER_CLOSED_E)) {
		conn_err(lc, "%s: peer closed", what);
		return -1;
	}
	conn_err(lc, "%s: %s (%d)", what, wolfSSL_ERR_error_string(
	    (unsigned long)err, msg), err);
	return -1;
}

/*
 * Parses the response in <lc>->buf: 1 complete (status in <*status>), 0
 * incomplete, -1 malformed or unsupported framing.
 */
static int
resp_complete(struct lconn *lc, int *status, int *close_after)
{
	const char *p = lc->buf, *end, *line, *eol;
	size_t head, clen = 0;
	int have_clen = 0;

	end = memmem(p, lc->len, "\r\n\r\n", 4);
	if (end == NULL)
		return lc->len >= sizeof(lc->buf) ? -1 : 0;
	head = (size_t)(end - p) + 4;
	if (lc->len < 12 || memcmp(p, "HTTP/1.", 7) != 0)
		return -1;
	*status = atoi(p + 9);
	*close_after = p[7] == '0';
	line = memchr(p, '\n', head);
	if (line == NULL)
		return -1;
	for (line++; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end + 2 - line));
		if (eol == NULL)
			break;
		if ((size_t)(eol - line) > 15 &&
		    strncasecmp(line, "content-length:", 15) == 0) {
			clen = strtoul(line + 15, NULL, 10);
			have_clen = 1;
		} else if ((size_t)(eol - line) > 18 &&
		    strncasecmp(line, "transfer-encoding:", 18) == 0) {
			return -1;
		} else if ((size_t)(eol - line) > 11 &&
		    strncasecmp(line, "connection:", 11) == 0 &&
		    memmem(line, (size_t)(eol - line), "close", 5) != NULL) {
			*close_after = 1;
		}
	}
	if (!have_clen)
		return -1;
	if (lc->len < head + clen)
		return 0;
	if (lc->len > head + clen)
		return -1;	/* no pipelining: nothing may follow */
	return 1;
}

/* Advances <lc> as far as it goes; 1 when this connection is finished. */
static int
lconn_step(struct lconn *lc)
{
	int r, err, status, close_after;
	socklen_t sl = sizeof(err);
	ssize_t n;
	char line[600];

	for (;;) {
		switch (lc->st) {
		case LST_TCP:
			if (getsockopt(lc->fd, SOL_SOCKET, SO_ERROR, &err,
			    &sl) == -1 || err != 0) {
				conn_err(lc, "connect: %s", strerror(err));
				return -1;
			}
			if (o.direct) {
				lc->t_conn = now();
				tls_start(lc);
				break;
			}
			r = snprintf(line, sizeof(line), "CONNECT %s:%d "
			    "HTTP/1.1\r\nHost: %s:%d\r\n\r\n", o.host, o.cport,
			    o.host, o.cport);
			if (write(lc->fd, line, (size_t)r) != r) {
				conn_err(lc, "CONNECT write: %s",
				    strerror(errno));
				return -1;
			}
			lc->st = LST_CONNRESP;
			arm(lc, EPOLLIN);
			return 0;
		case LST_CONNRESP:
			n = read(lc->fd, lc->buf + lc->len,
			    sizeof(lc->buf) - lc->len);
			if (n == -1 && errno == EAGAIN)
				return 0;
			if (n <= 0) {
				conn_err(lc, "CONNECT answer: %s", n == 0 ?
				    "closed" : strerror(errno));
				return -1;
			}
			lc->len += (size_t)n;
			if (memmem(lc->buf, lc->len, "\r\n\r\n", 4) == NULL) {
				if (lc->len == sizeof(lc->buf)) {
					conn_err(lc, "CONNECT answer too long");
					return -1;
				}
				break;
			}
			if (lc->len < 12 || memcmp(lc->buf + 8, " 200", 4) != 0
			    || memcmp(lc->buf + lc->len - 4, "\r\n\r\n", 4) != 0) {
				conn_err(lc, "CONNECT answer: %.*s", line_len(lc),
				    lc->buf);
				return -1;
			}
			lc->len = 0;
			lc->t_conn = now();
			tls_start(lc);
			break;
		case LST_HS:
			r = wolfSSL_connect(lc->ssl);
			if (r != WOLFSSL_SUCCESS)
				return tls_wait(lc, r, "handshake");
			lc->t_hs = now();
			if (res->conns++ == 0 && getenv("TLSLOAD_VERBOSE") != NULL)
				fprintf(stderr, "tlsload: %s, group %s\n",
				    wolfSSL_get_version(lc->ssl),
				    wolfSSL_get_curve_name(lc->ssl));
			lc->st = LST_REQ;
			break;
		case LST_REQ:
			if (lc->t_req == 0 || lc->t_resp != 0)
				lc->t_req = now();
			lc->t_resp = 0;
			r = wolfSSL_write(lc->ssl, reqbuf, (int)reqlen);
			if (r <= 0)
				return tls_wait(lc, r, "write");
			lc->len = 0;
			lc->st = LST_RESP;
			break;
		case LST_RESP:
			r = wolfSSL_read(lc->ssl, lc->buf + lc->len,
			    (int)(sizeof(lc->buf) - lc->len));
			if (r <= 0)
				return tls_wait(lc, r, "read");
			lc->len += (size_t)r;
			r = resp_complete(lc, &status, &close_after);
			if (r == 0)
				break;
			if (r == -1) {
				conn_err(lc, "bad or unsupported response: "
				    "%.*s", line_len(lc), lc->buf);
				return -1;
			}
			lc->t_resp = now();
			res->reqs++;
			if (status != 200)
				res->non200++;
			hist_add(o.mode == MODE_KA ? lc->t_resp - lc->t_req :
			    lc->t_resp - lc->t_open);
			if (o.mode != MODE_KA || close_after ||
			    lc->t_resp >= deadline)
				return 1;
			lc->st = LST_REQ;
			break;
		}
	}
}

static void
build_request(void)
{
	int r;

	r = snprintf(reqbuf, sizeof(reqbuf), "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\nUser-Agent: tlsload\r\nAccept: */*\r\n\r\n",
	    o.path, o.host);
	if (r < 0 || (size_t)r >= sizeof(reqbuf))
		die("request too long");
	reqlen = (size_t)r;
}

static void
tls_init(void)
{
	int groups[2];

	wolfSSL_Init();
	ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	if (ctx == NULL)
		die("wolfSSL_CTX_new failed");
	if (o.ca != NULL) {
		if (wolfSSL_CTX_load_verify_locations(ctx, o.ca, NULL) !=
		    WOLFSSL_SUCCESS)
			die("cannot load CA %s", o.ca);
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
	} else {
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
	}
	/* the groups a current curl or browser offers, in its order */
	groups[0] = o.group;
	groups[1] = o.group == WOLFSSL_ECC_X25519 ? WOLFSSL_ECC_SECP256R1 :
	    WOLFSSL_ECC_X25519;
	if (wolfSSL_CTX_set_groups(ctx, groups, 2) != WOLFSSL_SUCCESS)
		die("wolfSSL_CTX_set_groups failed");
	/* no session cache: every connection is a full handshake */
	wolfSSL_CTX_set_session_cache_mode(ctx, WOLFSSL_SESS_CACHE_OFF);
}

/*
 * One event loop with <nconns> connections until the deadline (or, with
 * <total> > 0, until <total> connections have finished).
 */
static void
run_loop(struct lconn *lcs, int nconns, uint64_t total)
{
	struct epoll_event evs[256];
	uint64_t started = 0, finished = 0;
	int i, n, live = 0;
	double t0 = now();

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd == -1)
		die("epoll_create1: %s", strerror(errno));
	for (i = 0; i < nconns; i++) {
		lcs[i].fd = -1;
		lcs[i].ssl = NULL;
		if (lconn_open(&lcs[i]) == 0)
			live++;
		started++;
	}
	while (live > 0) {
		double t = now();

		if (total == 0 && t >= deadline)
			break;
		n = epoll_wait(epfd, evs, 256, 50);
		if (n == -1 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		for (i = 0; i < n; i++) {
			struct lconn *lc = evs[i].data.ptr;
			int r = lconn_step(lc);

			if (r == 0)
				continue;
			if (r == 1 && lc->ssl != NULL)
				wolfSSL_shutdown(lc->ssl);
			lconn_close(lc);
			live--;
			finished++;
			if (total != 0 ? started < total : now() < deadline) {
				if (lconn_open(lc) == 0)
					live++;
				started++;
			}
		}
	}
	res->secs = now() - t0;
	for (i = 0; i < nconns; i++)
		lconn_close(&lcs[i]);
	close(epfd);
	epfd = -1;
	(void)finished;
}

static void
print_rate(const char *mode)
{
	struct result *sum;
	double secs = 0;
	uint64_t total;
	long i;
	int p;

	sum = calloc(1, sizeof(*sum));
	if (sum == NULL)
		die("out of memory");
	for (p = 0; p < o.procs; p++) {
		struct result *r = &res[p];

		sum->reqs += r->reqs;
		sum->conns += r->conns;
		sum->errors += r->errors;
		sum->non200 += r->non200;
		secs += r->secs;
		for (i = 0; i <= HIST_N; i++)
			sum->hist[i] += r->hist[i];
	}
	secs /= o.procs;
	total = sum->reqs;
	printf("RESULT mode=%s procs=%d conns=%d secs=%.3f reqs=%llu "
	    "handshakes=%llu errors=%llu non200=%llu rps=%.0f cps=%.0f "
	    "p50_us=%ld p90_us=%ld p99_us=%ld\n", mode, o.procs, o.conns, secs,
	    (unsigned long long)sum->reqs, (unsigned long long)sum->conns,
	    (unsigned long long)sum->errors, (unsigned long long)sum->non200,
	    secs > 0 ? (double)sum->reqs / secs : 0,
	    secs > 0 ? (double)sum->conns / secs : 0,
	    hist_pct(sum->hist, total, 50), hist_pct(sum->hist, total, 90),
	    hist_pct(sum->hist, total, 99));
	free(sum);
}

static void
do_rate(void)
{
	pid_t pids[MAX_PROCS];
	int p, status, failed = 0;

	res = mmap(NULL, sizeof(*res) * (size_t)o.procs, PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	fflush(NULL);
	for (p = 0; p < o.procs; p++) {
		pids[p] = fork();
		if (pids[p] == -1)
			die("fork: %s", strerror(errno));
		if (pids[p] == 0) {
			int mine = o.conns / o.procs +
			    (p < o.conns % o.procs ? 1 : 0);
			struct lconn *lcs = calloc((size_t)mine, sizeof(*lcs));

			if (lcs == NULL)
				die("out of memory");
			res = &res[p];
			tls_init();
			deadline = now() + o.secs;
			run_loop(lcs, mine, 0);
			_exit(0);
		}
	}
	for (p = 0; p < o.procs; p++) {
		if (waitpid(pids[p], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed = 1;
	}
	if (failed)
		die("a worker process failed");
	print_rate(o.mode == MODE_KA ? "ka" : "new");
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* One fresh connection to <host>: its CONNECT, handshake, response times. */
static int
first_one(const char *host, double *t_conn, double *t_hs, double *t_resp)
{
	struct lconn *lc = calloc(1, sizeof(*lc));
	uint64_t before = res->reqs;

	if (lc == NULL)
		die("out of memory");
	o.host = host;
	build_request();
	run_loop(lc, 1, 1);
	if (res->reqs != before + 1) {
		free(lc);
		return -1;
	}
	*t_conn = lc->t_conn - lc->t_open;
	*t_hs = lc->t_hs - lc->t_conn;
	*t_resp = lc->t_resp - lc->t_hs;
	free(lc);
	return 0;
}

static void
do_first(void)
{
	static double w[3][MAX_FIRST], c[3][MAX_FIRST], wt[MAX_FIRST],
	    ct[MAX_FIRST];
	const char *warm = o.host;
	char host[300];
	double m[3][2], mt[2];
	int i, k, nw = 0, nc = 0;

	if (o.n < 1 || o.n > MAX_FIRST || o.suffix == NULL)
		die("first: needs -n 1..%d and -s SUFFIX", MAX_FIRST);
	res = calloc(1, sizeof(*res));
	if (res == NULL)
		die("out of memory");
	tls_init();
	deadline = now() + 1e9;
	/* the warm host's leaf gets minted here, and an upstream opened */
	for (i = 0; i < 3; i++)
		if (first_one(warm, &w[0][0], &w[1][0], &w[2][0]) == -1)
			die("first: the warm host %s fails", warm);
	for (i = 0; i < o.n; i++) {
		if (first_one(warm, &w[0][nw], &w[1][nw], &w[2][nw]) == 0) {
			wt[nw] = w[0][nw] + w[1][nw] + w[2][nw];
			nw++;
		}
		snprintf(host, sizeof(host), "h%d-%ld.%s", i, (long)getpid(),
		    o.suffix);
		if (first_one(host, &c[0][nc], &c[1][nc], &c[2][nc]) == 0) {
			ct[nc] = c[0][nc] + c[1][nc] + c[2][nc];
			nc++;
		}
	}
	if (nw == 0 || nc == 0)
		die("first: no successful connection (warm %d, new %d)", nw,
		    nc);
	for (k = 0; k < 3; k++) {
		m[k][0] = median(w[k], nw);
		m[k][1] = median(c[k], nc);
	}
	mt[0] = median(wt, nw);
	mt[1] = median(ct, nc);
	printf("RESULT mode=first n=%d ok_warm=%d ok_new=%d errors=%llu "
	    "non200=%llu "
	    "warm_connect_us=%.0f warm_hs_us=%.0f warm_req_us=%.0f "
	    "warm_total_us=%.0f "
	    "new_connect_us=%.0f new_hs_us=%.0f new_req_us=%.0f "
	    "new_total_us=%.0f extra_hs_us=%.0f extra_req_us=%.0f "
	    "extra_total_us=%.0f\n", o.n, nw, nc,
	    (unsigned long long)res->errors, (unsigned long long)res->non200,
	    m[0][0] * 1e6, m[1][0] * 1e6, m[2][0] * 1e6, mt[0] * 1e6,
	    m[0][1] * 1e6, m[1][1] * 1e6, m[2][1] * 1e6, mt[1] * 1e6,
	    (m[1][1] - m[1][0]) * 1e6, (m[2][1] - m[2][0]) * 1e6,
	    (mt[1] - mt[0]) * 1e6);
}

static long
vmrss_kib(long pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "re");
	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

/* How many of <fds> the peer has not closed. */
static int
count_open(int *fds, int n)
{
	struct pollfd pf;
	int i, open = 0;

	for (i = 0; i < n; i++) {
		if (fds[i] == -1)
			continue;
		pf.fd = fds[i];
		pf.events = POLLIN | POLLRDHUP;
		pf.revents = 0;
		if (poll(&pf, 1, 0) == 0) {
			open++;
		} else {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	return open;
}

/* One absolute-form GET on the blocking <fd>; 0 when a 200 came back. */
static int
plain_request(int fd)
{
	struct lconn lc;
	int status, close_after, r;
	ssize_t n;

	if (write(fd, reqbuf, reqlen) != (ssize_t)reqlen)
		return -1;
	lc.len = 0;
	for (;;) {
		n = read(fd, lc.buf + lc.len, sizeof(lc.buf) - lc.len);
		if (n <= 0)
			return -1;
		lc.len += (size_t)n;
		r = resp_complete(&lc, &status, &close_after);
		if (r == -1)
			return -1;
		if (r == 1)
			return status == 200 && !close_after ? 0 : -1;
	}
}

static void
do_idle(void)
{
	struct timeval tv = { .tv_sec = 10 };
	struct rlimit rl;
	long rss0, rss1, rss2;
	int *fds, i, opened = 0, held1, ok = 0, held2, fail_req = 0;
	char url[400];
	int warm;

	if (o.pid <= 0 || o.n < 1)
		die("idle: needs -P PID and -n N");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	fds = calloc((size_t)o.n, sizeof(*fds));
	if (fds == NULL)
		die("out of memory");
	snprintf(url, sizeof(url), "http://%s%s", o.host, o.path);
	o.path = url;
	build_request();
	/* one request first, so that the upstream side is warm */
	warm = tcp_socket(0);
	if (warm == -1 || plain_request(warm) == -1)
		die("idle: the warm-up request failed");
	close(warm);
	usleep(500000);
	rss0 = vmrss_kib(o.pid);
	for (i = 0; i < o.n; i++) {
		fds[i] = tcp_socket(0);
		if (fds[i] == -1) {
			fprintf(stderr, "tlsload: connection %d: %s\n", i,
			    strerror(errno));
			break;
		}
		setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		opened++;
	}
	sleep(1);
	rss1 = vmrss_kib(o.pid);
	held1 = count_open(fds, opened);
	for (i = 0; i < opened; i++) {
		if (fds[i] == -1)
			continue;
		if (plain_request(fds[i]) == 0) {
			ok++;
		} else {
			fail_req++;
			close(fds[i]);
			fds[i] = -1;
		}
	}
	sleep(1);
	rss2 = vmrss_kib(o.pid);
	held2 = count_open(fds, opened);
	printf("RESULT mode=idle asked=%d opened=%d held_connected=%d "
	    "requests_ok=%d requests_failed=%d held_after_request=%d "
	    "rss0_kib=%ld rss_connected_kib=%ld rss_after_request_kib=%ld "
	    "kib_per_connected=%.2f kib_per_idle_after_request=%.2f\n",
	    o.n, opened, held1, ok, fail_req, held2, rss0, rss1, rss2,
	    held1 > 0 ? (double)(rss1 - rss0) / held1 : 0.0,
	    held2 > 0 ? (double)(rss2 - rss0) / held2 : 0.0);
	for (i = 0; i < opened; i++)
		if (fds[i] != -1)
			close(fds[i]);
	free(fds);
}

static void
do_freeport(void)
{
	struct sockaddr_in sa;
	socklen_t sl;
	int *fds, i;

	if (o.n < 1 || o.n > 64)
		die("freeport: 1..64");
	fds = calloc((size_t)o.n, sizeof(*fds));
	if (fds == NULL)
		die("out of memory");
	for (i = 0; i < o.n; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof(sa);
		if (fds[i] == -1 ||
		    bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &sl) == -1)
			die("freeport: %s", strerror(errno));
		printf("%d\n", ntohs(sa.sin_port));
	}
	for (i = 0; i < o.n; i++)
		close(fds[i]);
	free(fds);
}

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: tlsload ka|new -p PORT -h HOST [-c CONNS] [-t PROCS] "
	    "[-d SECS] [-a CA] [-o CPORT] [-g x25519|p256] [-D]\n"
	    "       tlsload first -p PORT -h WARMHOST -s SUFFIX -n N [-a CA] "
	    "[-o CPORT]\n"
	    "       tlsload idle -p PORT -P PID -n N [-h HOST]\n"
	    "       tlsload freeport N\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *m;
	int ch;

	if (argc < 2)
		usage();
	m = argv[1];
	if (strcmp(m, "ka") == 0)
		o.mode = MODE_KA;
	else if (strcmp(m, "new") == 0)
		o.mode = MODE_NEW;
	else if (strcmp(m, "first") == 0)
		o.mode = MODE_FIRST;
	else if (strcmp(m, "idle") == 0)
		o.mode = MODE_IDLE;
	else if (strcmp(m, "freeport") == 0)
		o.mode = MODE_FREEPORT;
	else
		usage();
	if (o.mode == MODE_FREEPORT) {
		if (argc != 3)
			usage();
		o.n = atoi(argv[2]);
		do_freeport();
		return 0;
	}
	optind = 2;
	while ((ch = getopt(argc, argv, "a:c:d:Dg:h:n:o:p:P:s:t:u:")) != -1) {
		switch (ch) {
		case 'a': o.ca = optarg; break;
		case 'c': o.conns = atoi(optarg); break;
		case 'd': o.secs = atof(optarg); break;
		case 'D': o.direct = 1; break;
		case 'g':
			if (strcmp(optarg, "x25519") == 0)
				o.group = WOLFSSL_ECC_X25519;
			else if (strcmp(optarg, "p256") == 0)
				o.group = WOLFSSL_ECC_SECP256R1;
			else
				usage();
			break;
		case 'h': o.host = optarg; break;
		case 'n': o.n = atoi(optarg); break;
		case 'o': o.cport = atoi(optarg); break;
		case 'p': o.port = atoi(optarg); break;
		case 'P': o.pid = atol(optarg); break;
		case 's': o.suffix = optarg; break;
		case 't': o.procs = atoi(optarg); break;
		case 'u': o.path = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || o.port < 1 || o.port > 65535 || o.conns < 1 ||
	    o.procs < 1 || o.procs > MAX_PROCS || o.procs > o.conns ||
	    o.secs <= 0 || o.cport < 1 || o.cport > 65535 ||
	    strlen(o.host) > 253)
		usage();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	switch (o.mode) {
	case MODE_KA:
	case MODE_NEW:
		build_request();
		do_rate();
		break;
	case MODE_FIRST:
		do_first();
		break;
	case MODE_IDLE:
		do_idle();
		break;
	case MODE_FREEPORT:
		break;
	}
	return 0;
}
