/*
 * Audit destinations.  Each sink takes records from the shared ring at its
 * own pace (its tail), turns them into bytes in its own buffer and writes
 * them without blocking:
 *
 *   text, json  lines formatted by format.c, appended while they fit in
 *               the sink's buffer; the fd is borrowed (opened by the
 *               privileged side, STYLE rule 29) and set O_NONBLOCK.
 *   socket      the Coder workspace agent's log proxy: one frame at a time
 *               in the buffer, either a BoundaryStatus after drops or a
 *               batch of up to AUDIT_BATCH_MAX records, cut earlier when
 *               the next record would push the payload past
 *               AUDIT_FRAME_MAX.  A batch is built when it is full, when
 *               its delay has run out (due) or at shutdown.  On a write
 *               error the connection is closed and the frame kept: after
 *               the next connect it is sent again from its first byte, so
 *               the agent, which drops a partial frame with the
 *               connection, sees every record once.
 *
 * The event loop side (watchers, timers, reconnect schedule) is writer.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "audit/audit.h"

_Static_assert(AUDIT_SINK_BUF >= AUDIT_LINE_MAX,
    "a sink buffer must hold the longest line");

static void
sink_reset(struct audit_sink *s, struct audit *a, enum audit_sink_kind kind)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->a = a;
	s->fd = -1;
	s->tail = a->head;
	s->level = AUDIT_LEVEL_DEBUG;
}

int
sink_open_fd(struct audit_sink *s, struct audit *a, enum audit_sink_kind kind,
    int fd, enum audit_level level)
{
	int fl;

	sink_reset(s, a, kind);
	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	if ((s->buf = malloc(AUDIT_SINK_BUF)) == NULL)
		return -1;
	s->cap = AUDIT_SINK_BUF;
	s->fd = fd;
	s->level = kind == AUDIT_SINK_TEXT ? level : AUDIT_LEVEL_DEBUG;
	s->on = 1;
	return 0;
}

int
sink_open_socket(struct audit_sink *s, struct audit *a, const char *path,
    double batch_delay, double retry_delay)
{
	size_t n = strlen(path);

	sink_reset(s, a, AUDIT_SINK_SOCKET);
	if (n == 0 || n >= sizeof(s->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(s->path, path, n + 1);
	if ((s->buf = malloc(PROTO_HDR_LEN + AUDIT_FRAME_MAX)) == NULL)
		return -1;
	s->cap = PROTO_HDR_LEN + AUDIT_FRAME_MAX;
	s->batch_delay = batch_delay;
	s->retry_delay = retry_delay;
	s->on = 1;
	return 0;
}

int
sink_wants(const struct audit_sink *s, const struct audit_rec *r)
{
	return s->kind != AUDIT_SINK_TEXT || format_level(r) >= s->level;
}

uint64_t
sink_pending(const struct audit_sink *s)
{
	return s->a->head - s->tail;
}

static const struct audit_rec *
ring_at(const struct audit_sink *s, uint64_t seq)
{
	return &s->a->ring[seq % AUDIT_QUEUE_LEN];
}

static int
fill_lines(struct audit_sink *s)
{
	struct audit *a = s->a;
	const struct audit_rec *r;
	int n;

	if (s->off == s->len)
		s->off = s->len = 0;
	while (s->tail != a->head) {
		r = ring_at(s, s->tail);
		if (!sink_wants(s, r)) {
			s->tail++;
			continue;
		}
		if (s->kind == AUDIT_SINK_JSON)
			n = format_json(s->buf + s->len, s->cap - s->len, r,
			    a->session_id);
		else
			n = format_text(s->buf + s->len, s->cap - s->len, r);
		if (n == -1)
			break;	/* full: write first */
		s->len += (size_t)n;
		s->tail++;
	}
	return s->len > s->off;
}

static int
fill_frame(struct audit_sink *s)
{
	struct audit *a = s->a;
	const struct audit_rec *recs[AUDIT_BATCH_MAX], *r;
	size_t k = 0, fields = 0, f, sid_len = strlen(a->session_id);
	uint64_t pend;
	int n;

	if (s->len > s->off)
		return 1;	/* a frame is on its way */
	s->off = s->len = 0;
	s->frame_recs = 0;
	if (s->unreported > 0) {
		n = proto_status_frame((unsigned char *)s->buf, s->cap,
		    (int64_t)s->unreported, 0);
		if (n == -1)
			return 0;	/* NOTREACHED: a status frame is tiny */
		s->unreported = 0;
		s->len = (size_t)n;
		return 1;
	}
	pend = sink_pending(s);
	if (pend == 0) {
		s->due = 0;
		return 0;
	}
	if (pend < AUDIT_BATCH_MAX && !s->due && !a->flushing)
		return 0;
	while (k < AUDIT_BATCH_MAX && s->tail + k != a->head) {
		r = ring_at(s, s->tail + k);
		f = proto_log_field_size(r);
		if (proto_logs_payload_size(fields + f, sid_len) >
		    AUDIT_FRAME_MAX)
			break;	/* the next frame takes it */
		fields += f;
		recs[k++] = r;
	}
	n = proto_logs_frame((unsigned char *)s->buf, s->cap, recs, k,
	    view_make(a->session_id, sid_len));
	if (n == -1)
		return 0;	/* NOTREACHED: sizes were checked above */
	s->tail += k;
	s->frame_recs = k;
	s->len = (size_t)n;
	if (s->tail == a->head)
		s->due = 0;
	else if (k < AUDIT_BATCH_MAX)
		s->due = 1;	/* cut by size: the rest of the batch follows */
	return 1;
}

int
sink_fill(struct audit_sink *s)
{
	if (!s->on || s->failed)
		return 0;
	if (s->kind == AUDIT_SINK_SOCKET)
		return fill_frame(s);
	return fill_lines(s);
}

int
sink_write(struct audit_sink *s)
{
	ssize_t n;

	if (s->fd == -1) {
		errno = ENOTCONN;
		return -1;
	}
	if (s->kind == AUDIT_SINK_SOCKET)
		n = send(s->fd, s->buf + s->off, s->len - s->off,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
	else
		n = write(s->fd, s->buf + s->off, s->len - s->off);
	if (n > 0) {
		s->off += (size_t)n;
		if (s->off == s->len) {
			s->off = s->len = 0;
			s->frame_recs = 0;
		}
		return 1;
	}
	if (n == -1 && errno == EINTR)
		return 1;
	if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	return -1;
}

int
sink_connect(struct audit_sink *s)
{
	struct sockaddr_un sun;
	int fd, e;

	if (s->fd != -1)
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, s->path, strlen(s->path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		e = errno;
		close(fd);
		errno = e;
		s->err = e;
		return -1;
	}
	s->fd = fd;
	s->off = 0;	/* a kept frame goes again from its start */
	return 0;
}

/* Records whose lines are (partly) in the buffer: one '\n' each. */
static uint64_t
buffered_lines(const struct audit_sink *s)
{
	uint64_t n = 0;
	size_t i;

	for (i = s->off; i < s->len; i++)
		if (s->buf[i] == '\n')
			n++;
	return n;
}

/* Counts the wanted records still in the ring for <s> and skips them. */
static void
drop_pending(struct audit_sink *s)
{
	uint64_t n = 0;

	for (; s->tail != s->a->head; s->tail++)
		if (sink_wants(s, ring_at(s, s->tail)))
			n++;
	s->dropped += n;
	s->unreported += n;
}

void
sink_fail(struct audit_sink *s, int err)
{
	s->err = err;
	if (s->kind == AUDIT_SINK_SOCKET) {
		if (s->fd != -1)
			close(s->fd);
		s->fd = -1;
		s->off = 0;
		return;
	}
	s->failed = 1;
	s->dropped += buffered_lines(s);
	s->off = s->len = 0;
	drop_pending(s);
}

void
sink_drop_all(struct audit_sink *s)
{
	if (!s->on)
		return;
	if (s->kind == AUDIT_SINK_SOCKET)
		s->dropped += s->len > 0 ? s->frame_recs : 0;
	else
		s->dropped += buffered_lines(s);
	s->off = s->len = 0;
	s->frame_recs = 0;
	drop_pending(s);
}

void
sink_close(struct audit_sink *s)
{
	if (s->kind == AUDIT_SINK_SOCKET && s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	free(s->buf);
	s->buf = NULL;
	s->on = 0;
}
