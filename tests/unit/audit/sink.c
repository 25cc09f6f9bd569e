/*
 * Tests of audit/sink.c against a test Unix-socket server (bound in a
 * mkdtemp directory) that plays the Coder agent: frame headers (tag 2,
 * 24-bit length), decoded BoundaryMessage contents, batches sent at 10
 * records or after the batch delay, batches split under AUDIT_FRAME_MAX
 * with 40 KiB URLs, a server that appears late, a server that drops the
 * connection (the frame is resent), BoundaryStatus after drops, and the
 * last partial batch sent at flush.  Delays are shortened through
 * audit_opts so the whole file runs in about a second.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "audit/sink.c"

#include "tests/tap.h"

void test_audit__sink_c(void);

/* ---- a minimal protobuf reader for what proto.c writes ----------------- */

struct dlog {
	int allowed;
	int64_t sec, nanos, seq;
	struct view method, url, rule;
};

struct dmsg {
	int is_status;
	int64_t ch_full, batch_full;
	struct view sid;
	size_t nlogs;
	struct dlog logs[AUDIT_BATCH_MAX + 1];
};

static int
rd_varint(const unsigned char *p, size_t n, size_t *i, uint64_t *v)
{
	int shift = 0;

	*v = 0;
	while (*i < n && shift < 64) {
		*v |= (uint64_t)(p[*i] & 0x7f) << shift;
		if (!(p[(*i)++] & 0x80))
			return 0;
		shift += 7;
	}
	return -1;
}

/* Next field of a message: number, wire type, varint value or bytes. */
static int
rd_field(const unsigned char *p, size_t n, size_t *i, unsigned *field,
    uint64_t *v, struct view *b)
{
	uint64_t key;

	if (rd_varint(p, n, i, &key) == -1)
		return -1;
	*field = (unsigned)(key >> 3);
	if ((key & 7) == 0)
		return rd_varint(p, n, i, v);
	if ((key & 7) != 2 || rd_varint(p, n, i, v) == -1 || *v > n - *i)
		return -1;
	b->p = (const char *)p + *i;
	b->n = (size_t)*v;
	*i += (size_t)*v;
	return 0;
}

static int
decode_ts(struct view m, struct dlog *l)
{
	const unsigned char *p = (const unsigned char *)m.p;
	size_t i = 0;
	unsigned f;
	uint64_t v;
	struct view b;

	while (i < m.n) {
		if (rd_field(p, m.n, &i, &f, &v, &b) == -1)
			return -1;
		if (f == 1)
			l->sec = (int64_t)v;
		else if (f == 2)
			l->nanos = (int64_t)v;
	}
	return 0;
}

static int
decode_http(struct view m, struct dlog *l)
{
	const unsigned char *p = (const unsigned char *)m.p;
	size_t i = 0;
	unsigned f;
	uint64_t v;
	struct view b;

	while (i < m.n) {
		if (rd_field(p, m.n, &i, &f, &v, &b) == -1)
			return -1;
		if (f == 1)
			l->method = b;
		else if (f == 2)
			l->url = b;
		else if (f == 3)
			l->rule = b;
	}
	return 0;
}

static int
decode_log(struct view m, struct dlog *l)
{
	const unsigned char *p = (const unsigned char *)m.p;
	size_t i = 0;
	unsigned f;
	uint64_t v;
	struct view b;

	while (i < m.n) {
		if (rd_field(p, m.n, &i, &f, &v, &b) == -1)
			return -1;
		if (f == 1)
			l->allowed = (int)v;
		else if (f == 2 && decode_ts(b, l) == -1)
			return -1;
		else if (f == 3 && decode_http(b, l) == -1)
			return -1;
		else if (f == 4)
			l->seq = (int64_t)(int32_t)(uint32_t)v;
	}
	return 0;
}

static int
decode(struct view payload, struct dmsg *m)
{
	const unsigned char *p;
	size_t i = 0;
	unsigned f;
	uint64_t v;
	struct view b, inner = { NULL, 0 };

	memset(m, 0, sizeof(*m));
	p = (const unsigned char *)payload.p;
	while (i < payload.n) {
		if (rd_field(p, payload.n, &i, &f, &v, &b) == -1 ||
		    (f != 1 && f != 2))
			return -1;
		inner = b;
		m->is_status = f == 2;
	}
	p = (const unsigned char *)inner.p;
	i = 0;
	while (i < inner.n) {
		if (rd_field(p, inner.n, &i, &f, &v, &b) == -1)
			return -1;
		if (m->is_status) {
			if (f == 1)
				m->ch_full = (int64_t)v;
			else if (f == 2)
				m->batch_full = (int64_t)v;
		} else if (f == 2)
			m->sid = b;
		else if (f == 1) {
			if (m->nlogs == AUDIT_BATCH_MAX + 1 ||
			    decode_log(b, &m->logs[m->nlogs++]) == -1)
				return -1;
		}
	}
	return 0;
}

/* ---- the test agent ------------------------------------------------------ */

static struct audit a;
static struct audit_rec rec;
static char dir[64], sock_path[100];
static int srv = -1, conn = -1;
static unsigned char rx[1 << 20];
static size_t rx_len;
static size_t nframes, max_payload, nlogs_seen;
static int bad_frames;
static int64_t seqs[4096];
static size_t url_len_seen;
static struct dmsg last_status;
static int nstatus;

static void
srv_start(void)
{
	struct sockaddr_un sun;

	srv = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	if (bind(srv, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(srv, 8) == -1)
		abort();
}

static void
srv_stop(void)
{
	if (conn != -1)
		close(conn);
	conn = -1;
	if (srv != -1)
		close(srv);
	srv = -1;
	unlink(sock_path);
}

static void
reset_counts(void)
{
	rx_len = nframes = max_payload = nlogs_seen = url_len_seen = 0;
	bad_frames = nstatus = 0;
}

/* Parses complete frames out of rx. */
static void
parse_frames(void)
{
	size_t off = 0, plen, k;
	struct dmsg m;

	while (rx_len - off >= 4) {
		plen = (size_t)rx[off + 1] << 16 | (size_t)rx[off + 2] << 8 |
		    rx[off + 3];
		if (rx[off] != PROTO_FRAME_TAG || plen > AUDIT_FRAME_MAX)
			bad_frames++;
		if (rx_len - off - 4 < plen)
			break;
		if (plen > max_payload)
			max_payload = plen;
		if (decode(view_make((const char *)rx + off + 4, plen), &m)
		    == -1)
			bad_frames++;
		else if (m.is_status) {
			last_status = m;
			nstatus++;
		} else {
			if (!view_eq_cstr(m.sid, a.session_id))
				bad_frames++;
			for (k = 0; k < m.nlogs; k++) {
				if (nlogs_seen < sizeof(seqs) / sizeof(seqs[0]))
					seqs[nlogs_seen] = m.logs[k].seq;
				nlogs_seen++;
				if (m.logs[k].url.n > url_len_seen)
					url_len_seen = m.logs[k].url.n;
				if (!view_eq_cstr(m.logs[k].method, "GET") ||
				    m.logs[k].allowed != (m.logs[k].seq % 2 == 0) ||
				    m.logs[k].sec != rec.event_time.tv_sec)
					bad_frames++;
			}
		}
		nframes++;
		off += 4 + plen;
	}
	memmove(rx, rx + off, rx_len - off);
	rx_len -= off;
}

/* One step of the agent: accept, read what is there. */
static void
srv_poll(void)
{
	ssize_t n;
	int c;

	if (srv != -1 && (c = accept4(srv, NULL, NULL,
	    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
		if (conn != -1)
			close(conn);
		conn = c;
		rx_len = 0;	/* a partial frame died with the old one */
	}
	if (conn == -1)
		return;
	while ((n = read(conn, rx + rx_len, sizeof(rx) - rx_len)) > 0) {
		rx_len += (size_t)n;
		parse_frames();
	}
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs loop and agent until <want> logs arrived or <secs> passed. */
static void
run_until(struct ev_loop *loop, size_t want, double secs)
{
	double end = now() + secs;

	while (nlogs_seen < want && now() < end) {
		ev_run(loop, EVRUN_NOWAIT);
		srv_poll();
		usleep(1000);
	}
}

static int
seqs_dense(uint64_t first, size_t n)
{
	size_t i;

	if (nlogs_seen != n)
		return 0;
	for (i = 0; i < n; i++)
		if (seqs[i] != (int64_t)(first + i))
			return 0;
	return 1;
}

static void
emit_n(int n, size_t url_len)
{
	static char url[40 * 1024];
	int i;

	memset(url, 'u', sizeof(url));
	memcpy(url, "https://x/", 10);
	for (i = 0; i < n; i++) {
		audit_rec_fill(&rec, a.head % 2 ? REASON_NO_RULE :
		    REASON_ALLOWED, view_cstr("GET"), view_make(url, url_len),
		    view_cstr("domain=x"), view_cstr("x"));
		rec.event_time.tv_sec = 1764021453;
		audit_emit(&a, &rec);
	}
}

static struct ev_loop *
start(double batch_delay)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct audit_opts o;

	memset(&o, 0, sizeof(o));
	o.loop = loop;
	o.text_fd = -1;
	o.json_fd = -1;
	o.socket_path = sock_path;
	o.batch_delay = batch_delay;
	o.retry_delay = 0.02;
	if (audit_init(&a, &o) == -1)
		abort();
	reset_counts();
	return loop;
}

static void
stop(struct ev_loop *loop)
{
	audit_close(&a);
	ev_loop_destroy(loop);
	srv_stop();
}

static void
test_batches(void)
{
	struct ev_loop *loop;

	srv_start();
	loop = start(10.0);
	emit_n(10, 20);
	run_until(loop, 10, 2.0);
	ok(nframes == 1 && seqs_dense(0, 10) && bad_frames == 0,
	    "a full batch of 10 goes at once, one frame, tag 2, fields ok");
	emit_n(3, 20);
	run_until(loop, 13, 0.1);
	is_int(nlogs_seen, 10, "a partial batch waits for its delay");
	is_int(audit_flush(&a, 1.0), 0, "flush: nothing dropped");
	srv_poll();
	ok(nframes == 2 && seqs_dense(0, 13),
	    "flush sends the last partial batch");
	stop(loop);

	srv_start();
	loop = start(0.05);
	emit_n(3, 20);
	run_until(loop, 3, 2.0);
	ok(nframes == 1 && seqs_dense(0, 3), "the batch delay sends 3");
	stop(loop);
}

static void
test_split(void)
{
	struct ev_loop *loop;

	srv_start();
	loop = start(10.0);
	emit_n(10, 40 * 1024);
	run_until(loop, 10, 2.0);
	ok(seqs_dense(0, 10) && bad_frames == 0, "ten 40 KiB URLs all arrive");
	ok(nframes >= 2 && max_payload <= AUDIT_FRAME_MAX,
	    "split into %zu frames, largest payload %zu <= %d", nframes,
	    max_payload, AUDIT_FRAME_MAX);
	is_int(url_len_seen, AUDIT_URL_MAX, "URL truncated to AUDIT_URL_MAX");
	stop(loop);
}

static void
test_late_server(void)
{
	struct ev_loop *loop;
	double end;

	loop = start(0.01);
	ok(a.sink[AUDIT_SINK_SOCKET].fd == -1 &&
	    ev_is_active(&a.sink[AUDIT_SINK_SOCKET].retry_tmr),
	    "missing socket: retry timer armed");
	emit_n(5, 20);
	end = now() + 0.1;
	while (now() < end) {
		ev_run(loop, EVRUN_NOWAIT);
		usleep(1000);
	}
	srv_start();
	run_until(loop, 5, 2.0);
	ok(seqs_dense(0, 5) && bad_frames == 0,
	    "records queued before the agent appeared arrive");
	stop(loop);
}

static void
test_reconnect(void)
{
	struct ev_loop *loop;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);

	srv_start();
	loop = start(10.0);
	emit_n(10, 20);
	run_until(loop, 10, 2.0);
	ok(seqs_dense(0, 10), "first batch on the first connection");
	/* The agent restarts: the connection drops, the listener stays. */
	close(conn);
	conn = -1;
	emit_n(10, 20);
	run_until(loop, 20, 2.0);
	ok(seqs_dense(0, 20) && bad_frames == 0,
	    "after EPIPE: reconnected, batch resent whole");
	is_int(audit_flush(&a, 1.0), 0, "nothing dropped");
	stop(loop);
	signal(SIGPIPE, old);
}

static void
test_drops_and_status(void)
{
	struct ev_loop *loop;
	char rp[2][64];
	char report[256];
	int tp[2];
	size_t n;
	struct audit_opts o;

	loop = start(0.01);
	emit_n(AUDIT_QUEUE_LEN + 5, 20);
	is_int(a.sink[AUDIT_SINK_SOCKET].dropped, 5,
	    "down agent: 5 oldest records dropped");
	srv_start();
	run_until(loop, AUDIT_QUEUE_LEN, 3.0);
	ok(nstatus == 1 && last_status.ch_full == 5 &&
	    last_status.batch_full == 0,
	    "BoundaryStatus{dropped_channel_full: 5} sent");
	ok(seqs_dense(5, AUDIT_QUEUE_LEN) && bad_frames == 0,
	    "the %d newest records arrive", AUDIT_QUEUE_LEN);
	stop(loop);

	/* Flush with no agent at all: counted and reported. */
	if (pipe2(tp, O_CLOEXEC) == -1)
		abort();
	loop = ev_loop_new(EVFLAG_AUTO);
	memset(&o, 0, sizeof(o));
	o.loop = loop;
	o.text_fd = tp[1];
	o.json_fd = -1;
	o.level = AUDIT_LEVEL_ERROR;
	o.socket_path = sock_path;
	if (audit_init(&a, &o) == -1)
		abort();
	emit_n(3, 20);
	is_int(audit_flush(&a, 0.5), 3, "flush without agent: 3 dropped");
	fcntl(tp[0], F_SETFL, O_NONBLOCK);
	n = (size_t)read(tp[0], report, sizeof(report) - 1);
	report[n < sizeof(report) ? n : 0] = '\0';
	snprintf(rp[0], sizeof(rp[0]), "audit: agent socket: %s\n",
	    strerror(ENOENT));
	snprintf(rp[1], sizeof(rp[1]), "audit: 3 records dropped for "
	    "agent socket\n");
	ok(strstr(report, rp[0]) != NULL && strstr(report, rp[1]) != NULL,
	    "no agent at flush: error and count reported");
	audit_close(&a);
	ev_loop_destroy(loop);
	close(tp[0]);
	close(tp[1]);
}

static void
test_bad_path(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct audit_opts o;
	char longp[200];

	memset(longp, 'p', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	memset(&o, 0, sizeof(o));
	o.loop = loop;
	o.text_fd = o.json_fd = -1;
	o.socket_path = longp;
	ok(audit_init(&a, &o) == -1 && errno == ENAMETOOLONG,
	    "socket path longer than sun_path is refused");
	ev_loop_destroy(loop);
}

void
test_audit__sink_c(void)
{
	snprintf(dir, sizeof(dir), "/tmp/audit-sink-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", dir);
	test_batches();
	test_split();
	test_late_server();
	test_reconnect();
	test_drops_and_status();
	test_bad_path();
	rmdir(dir);
}
