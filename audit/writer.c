/*
 * The audit session: one ring of AUDIT_QUEUE_LEN fixed-size records shared
 * by all sinks, and the libev side that drains it.
 *
 * A record's sequence number is its position in the ring (seq % len).
 * Each sink has a tail, the sequence of the next record it has not taken
 * yet; a sink that falls AUDIT_QUEUE_LEN records behind (slow or down)
 * loses its oldest record to make room, and counts it.  The others are not
 * affected: a dead agent socket never costs the audit file a line.
 *
 * audit_emit() only copies the record and arms watchers; formatting and
 * write(2) happen in the sinks' ev_io callbacks, so a burst of decisions in
 * one loop iteration becomes one write per sink.  Nothing here allocates
 * after audit_init() (STYLE rule 15).
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "audit/audit.h"

#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

const char *
audit_level_str(enum audit_level l)
{
	switch (l) {
	case AUDIT_LEVEL_DEBUG:
		return "DEBUG";
	case AUDIT_LEVEL_INFO:
		return "INFO";
	case AUDIT_LEVEL_WARN:
		return "WARN";
	case AUDIT_LEVEL_ERROR:
		return "ERROR";
	}
	return "unknown";
}

int
audit_level_parse(struct view v, enum audit_level *l)
{
	static const char *const names[] = { "debug", "info", "warn", "error" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (view_case_eq(v, view_cstr(names[i]))) {
			*l = (enum audit_level)i;
			return 0;
		}
	return -1;
}

const char *
audit_sink_str(enum audit_sink_kind k)
{
	switch (k) {
	case AUDIT_SINK_TEXT:
		return "stderr";
	case AUDIT_SINK_JSON:
		return "audit file";
	case AUDIT_SINK_SOCKET:
		return "agent socket";
	case AUDIT_SINK_COUNT:
		break;
	}
	return "unknown";
}

/* ---- event loop side ---------------------------------------------------- */

static void pump(struct audit_sink *);

static void
io_start(struct audit_sink *s)
{
	struct ev_loop *loop = s->a->loop;

	if (s->io.fd != s->fd) {
		ev_io_stop(loop, &s->io);
		ev_io_set(&s->io, s->fd, EV_WRITE);
	}
	ev_io_start(loop, &s->io);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct audit_sink *s = container_of(w, struct audit_sink, io);

	(void)loop;
	(void)revents;
	pump(s);
}

static void
batch_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct audit_sink *s = container_of(w, struct audit_sink, batch_tmr);

	(void)loop;
	(void)revents;
	if (s->kind == AUDIT_SINK_SOCKET)
		s->due = 1;	/* text, json: the write of kick() is due */
	pump(s);
}

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct audit_sink *s = container_of(w, struct audit_sink, retry_tmr);

	(void)revents;
	if (sink_connect(s) == -1)
		return;		/* the repeating timer tries again */
	ev_timer_stop(loop, &s->retry_tmr);
	pump(s);
}

/* The agent socket is down: try again every retry_delay. */
static void
schedule_retry(struct audit_sink *s)
{
	struct ev_loop *loop = s->a->loop;

	ev_io_stop(loop, &s->io);
	if (!ev_is_active(&s->retry_tmr)) {
		ev_timer_set(&s->retry_tmr, s->retry_delay, s->retry_delay);
		ev_timer_start(loop, &s->retry_tmr);
	}
}

/*
 * Socket batching: a partial batch waits batch_delay from the moment it
 * stops being empty, as in the Go tool; a full one goes at once.
 */
static void
arm_batch(struct audit_sink *s)
{
	struct ev_loop *loop = s->a->loop;

	if (sink_pending(s) == 0) {
		ev_timer_stop(loop, &s->batch_tmr);
		s->due = 0;
	} else if (!s->due && !ev_is_active(&s->batch_tmr)) {
		ev_timer_set(&s->batch_tmr, s->batch_delay, 0.);
		ev_timer_start(loop, &s->batch_tmr);
	}
}

/* Moves bytes until the sink has nothing to send or its fd would block. */
static void
pump(struct audit_sink *s)
{
	struct ev_loop *loop = s->a->loop;
	int r, reconnected = 0;

	if (!s->on || s->failed) {
		ev_io_stop(loop, &s->io);
		return;
	}
	for (;;) {
		if (s->kind == AUDIT_SINK_SOCKET && s->fd == -1) {
			schedule_retry(s);
			return;
		}
		if (!sink_fill(s))
			break;
		r = sink_write(s);
		if (r == 1)
			continue;
		if (r == 0) {
			io_start(s);
			goto out;
		}
		ev_io_stop(loop, &s->io);
		sink_fail(s, errno);
		if (s->kind != AUDIT_SINK_SOCKET)
			return;
		/*
		 * Reconnect at once, once; the kept frame is resent first.  A
		 * peer that keeps failing is left to the retry timer.
		 */
		if (reconnected++ || sink_connect(s) == -1) {
			schedule_retry(s);
			return;
		}
	}
	ev_io_stop(loop, &s->io);
 out:
	if (s->kind == AUDIT_SINK_SOCKET)
		arm_batch(s);
}

/*
 * After a new record: wake the sinks that can take it now.
 *
 * Text and JSON sinks write on the next loop iteration, from a zero-delay
 * timer, so the records of one iteration go out in one write(2) and
 * nothing touches epoll: a regular file (the usual --audit-file) cannot be
 * polled at all (libev would retry epoll_ctl, which fails with EPERM, at
 * every burst), and a pipe or terminal is usually writable.  Only a write
 * that would block arms the ev_io watcher, until the fd drains.
 */
static void
kick(struct audit_sink *s)
{
	struct audit *a = s->a;

	if (!s->on || s->failed)
		return;
	if (s->kind != AUDIT_SINK_SOCKET) {
		if (ev_is_active(&s->io) || ev_is_active(&s->batch_tmr))
			return;		/* already due, or waiting for the fd */
		if (!sink_wants(s, &a->ring[(a->head - 1) % AUDIT_QUEUE_LEN]))
			return;		/* below the text sink's level */
		ev_timer_set(&s->batch_tmr, 0., 0.);
		ev_timer_start(a->loop, &s->batch_tmr);
		return;
	}
	if (s->fd == -1)
		return;		/* the retry timer is running */
	if (s->len > s->off) {
		io_start(s);	/* a frame is on its way; pump sends more */
		return;
	}
	if (sink_pending(s) >= AUDIT_BATCH_MAX || s->due || s->unreported)
		io_start(s);
	else
		arm_batch(s);
}

/* ---- session ------------------------------------------------------------ */

static int
make_session_id(char out[37])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u[16];
	size_t got = 0, i, j = 0;
	ssize_t n;

	while (got < sizeof(u)) {
		n = getrandom(u + got, sizeof(u) - got, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40);	/* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	for (i = 0; i < sizeof(u); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[j++] = '-';
		out[j++] = hex[u[i] >> 4];
		out[j++] = hex[u[i] & 0xf];
	}
	out[j] = '\0';
	return 0;
}

int
audit_init(struct audit *a, const struct audit_opts *o)
{
	struct audit_sink *s;
	int i;

	memset(a, 0, sizeof(*a));
	for (i = 0; i < AUDIT_SINK_COUNT; i++) {
		a->sink[i].fd = -1;
		a->sink[i].a = a;
	}
	a->loop = o->loop;
	a->report_fd = o->text_fd >= 0 ? o->text_fd : STDERR_FILENO;
	if (make_session_id(a->session_id) == -1)
		goto fail;
	tzset();	/* localtime_r in format_text must not read files later */
	if ((a->ring = calloc(AUDIT_QUEUE_LEN, sizeof(*a->ring))) == NULL)
		goto fail;
	if (o->text_fd >= 0 && sink_open_fd(&a->sink[AUDIT_SINK_TEXT], a,
	    AUDIT_SINK_TEXT, o->text_fd, o->level) == -1)
		goto fail;
	if (o->json_fd >= 0 && sink_open_fd(&a->sink[AUDIT_SINK_JSON], a,
	    AUDIT_SINK_JSON, o->json_fd, AUDIT_LEVEL_DEBUG) == -1)
		goto fail;
	if (o->socket_path != NULL && sink_open_socket(
	    &a->sink[AUDIT_SINK_SOCKET], a, o->socket_path,
	    o->batch_delay > 0 ? o->batch_delay : AUDIT_BATCH_DELAY,
	    o->retry_delay > 0 ? o->retry_delay : AUDIT_SOCK_RETRY) == -1)
		goto fail;
	for (i = 0; i < AUDIT_SINK_COUNT; i++) {
		s = &a->sink[i];
		ev_io_init(&s->io, io_cb, s->fd, EV_WRITE);
		ev_timer_init(&s->batch_tmr, batch_cb, 0., 0.);
		ev_timer_init(&s->retry_tmr, retry_cb, 0., 0.);
	}
	s = &a->sink[AUDIT_SINK_SOCKET];
	if (s->on && sink_connect(s) == -1)
		schedule_retry(s);
	return 0;
 fail:
	i = errno;
	audit_close(a);
	errno = i;
	return -1;
}

/*
 * Copies the part of <r> that is in use: the fixed fields and, of each
 * byte array, its length's worth (a record is ~5.5 KiB, a typical one
 * uses a few hundred bytes of it; this runs once per request).
 */
_Static_assert(offsetof(struct audit_rec, trunc) <
    offsetof(struct audit_rec, method) &&
    offsetof(struct audit_rec, host_len) < offsetof(struct audit_rec, method) &&
    offsetof(struct audit_rec, event_time) <
    offsetof(struct audit_rec, method) &&
    offsetof(struct audit_rec, method) < offsetof(struct audit_rec, url) &&
    offsetof(struct audit_rec, url) < offsetof(struct audit_rec, rule) &&
    offsetof(struct audit_rec, rule) < offsetof(struct audit_rec, host),
    "rec_copy: the fixed fields come before the byte arrays");

static void
rec_copy(struct audit_rec *d, const struct audit_rec *r)
{
	memcpy(d, r, offsetof(struct audit_rec, method));
	if (d->method_len > sizeof(d->method))
		d->method_len = sizeof(d->method);
	if (d->url_len > sizeof(d->url))
		d->url_len = sizeof(d->url);
	if (d->rule_len > sizeof(d->rule))
		d->rule_len = sizeof(d->rule);
	if (d->host_len > sizeof(d->host))
		d->host_len = sizeof(d->host);
	memcpy(d->method, r->method, d->method_len);
	memcpy(d->url, r->url, d->url_len);
	memcpy(d->rule, r->rule, d->rule_len);
	memcpy(d->host, r->host, d->host_len);
}

uint64_t
audit_emit(struct audit *a, const struct audit_rec *r)
{
	uint64_t seq = a->head;
	struct audit_rec *slot = &a->ring[seq % AUDIT_QUEUE_LEN];
	struct audit_sink *s;
	int i;

	for (i = 0; i < AUDIT_SINK_COUNT; i++) {
		s = &a->sink[i];
		if (!s->on)
			continue;
		if (s->failed) {
			if (sink_wants(s, r))
				s->dropped++;
			s->tail = seq + 1;
			continue;
		}
		/* Full for this sink: its oldest record makes room. */
		if (seq - s->tail >= AUDIT_QUEUE_LEN) {
			if (sink_wants(s, &a->ring[s->tail % AUDIT_QUEUE_LEN])) {
				s->dropped++;
				s->unreported++;
			}
			s->tail++;
		}
	}
	rec_copy(slot, r);
	slot->sequence = seq;
	a->head = seq + 1;
	for (i = 0; i < AUDIT_SINK_COUNT; i++)
		kick(&a->sink[i]);
	return seq;
}

static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
report(int fd, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* Best effort at shutdown: the fd may be non-blocking or gone. */
	if (write(fd, line, (size_t)n) == -1)
		return;
}

/*
 * Drives one sink without the event loop.  Returns 1 if it waits for its
 * fd to become writable, 2 if it waits to connect again, 0 when done.
 */
static int
flush_step(struct audit_sink *s, int *gave_up)
{
	int r, reconnected = 0;

	for (;;) {
		if (s->kind == AUDIT_SINK_SOCKET && s->fd == -1) {
			if (sink_pending(s) == 0 && s->len == 0 &&
			    s->unreported == 0)
				return 0;
			if (sink_connect(s) == -1) {
				if (errno == EAGAIN || errno == EINTR)
					return 2;	/* backlog full */
				*gave_up = 1;
				return 0;
			}
		}
		if (!sink_fill(s))
			return 0;
		r = sink_write(s);
		if (r == 1)
			continue;
		if (r == 0)
			return 1;
		sink_fail(s, errno);
		if (s->kind != AUDIT_SINK_SOCKET)
			return 0;
		if (reconnected++)
			return 2;	/* again after a pause, until the deadline */
		if (sink_connect(s) == -1) {
			*gave_up = 1;	/* one reconnect per failure at exit */
			return 0;
		}
	}
}

uint64_t
audit_flush(struct audit *a, double timeout)
{
	struct pollfd pfd[AUDIT_SINK_COUNT];
	int gave_up[AUDIT_SINK_COUNT] = { 0 };
	struct audit_sink *s;
	double deadline = mono_now() + timeout, left;
	uint64_t total = 0;
	int i, n, st, again;

	a->flushing = 1;
	for (i = 0; i < AUDIT_SINK_COUNT; i++) {
		s = &a->sink[i];
		if (!s->on || a->loop == NULL)
			continue;
		ev_io_stop(a->loop, &s->io);
		ev_timer_stop(a->loop, &s->batch_tmr);
		ev_timer_stop(a->loop, &s->retry_tmr);
	}
	for (;;) {
		n = 0;
		again = 0;
		for (i = 0; i < AUDIT_SINK_COUNT; i++) {
			s = &a->sink[i];
			if (!s->on || s->failed || gave_up[i])
				continue;
			st = flush_step(s, &gave_up[i]);
			if (st == 1) {
				pfd[n].fd = s->fd;
				pfd[n].events = POLLOUT;
				pfd[n].revents = 0;
				n++;
			} else if (st == 2)
				again = 1;
		}
		if (n == 0 && !again)
			break;
		left = deadline - mono_now();
		if (left <= 0)
			break;
		if (again && left > 0.01)
			left = 0.01;
		if (poll(pfd, (nfds_t)n, (int)(left * 1000) + 1) == -1 &&
		    errno != EINTR)
			break;
	}
	for (i = 0; i < AUDIT_SINK_COUNT; i++) {
		s = &a->sink[i];
		if (!s->on)
			continue;
		sink_drop_all(s);
		if (s->dropped == 0)
			continue;
		if (s->err != 0)
			report(a->report_fd, "audit: %s: %s\n",
			    audit_sink_str(s->kind), strerror(s->err));
		report(a->report_fd, "audit: %llu records dropped for %s\n",
		    (unsigned long long)s->dropped, audit_sink_str(s->kind));
		total += s->dropped;
	}
	return total;
}

void
audit_close(struct audit *a)
{
	struct audit_sink *s;
	int i;

	for (i = 0; i < AUDIT_SINK_COUNT; i++) {
		s = &a->sink[i];
		if (s->on && a->loop != NULL && s->buf != NULL) {
			ev_io_stop(a->loop, &s->io);
			ev_timer_stop(a->loop, &s->batch_tmr);
			ev_timer_stop(a->loop, &s->retry_tmr);
		}
		sink_close(s);
	}
	free(a->ring);
	a->ring = NULL;
}
