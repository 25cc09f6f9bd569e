/*
 * Audit: one fixed-size record per decided request (DESIGN.md section 5),
 * written to up to three sinks from one bounded ring that never blocks the
 * event loop:
 *
 *   text    slog-style lines ("time=... level=WARN msg=DENY ...") on stderr
 *           or the --log-dir file, filtered by --log-level
 *   json    --audit-file, one JSON object per line, every record
 *   socket  the Coder workspace agent (--log-proxy-socket-path), protobuf
 *           BoundaryMessage frames (reference/boundary-facts.md 7.4)
 *
 * Life cycle: audit_init() (allocates everything, before loop_run),
 * audit_emit() per decision (no allocation, no blocking), audit_flush() at
 * shutdown (may block up to its timeout), audit_close().
 *
 * This is the only header of audit/.  The part below "internal" is used by
 * the files of audit/ and their unit tests only.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <ev.h>

#include "runtime/runtime.h"

/* ---- records (record.c) ------------------------------------------------ */

enum audit_decision {
	AUDIT_DENY,		/* the request was refused */
	AUDIT_ALLOW		/* a rule matched; the request was forwarded */
};

const char *audit_decision_str(enum audit_decision);

/* Which fields of a record were cut to fit (struct audit_rec.trunc). */
#define AUDIT_TRUNC_METHOD 0x01
#define AUDIT_TRUNC_URL 0x02
#define AUDIT_TRUNC_RULE 0x04
#define AUDIT_TRUNC_HOST 0x08

/*
 * One decision, self-contained: no pointer to the caller's memory, so it can
 * sit in the ring after the connection is gone.  Strings are byte arrays
 * with a length, not NUL-terminated, and may hold any bytes (the encoders
 * escape them).  Truncation cuts at a UTF-8 character boundary.
 */
struct audit_rec {
	struct timespec event_time;	/* CLOCK_REALTIME when decided */
	uint64_t sequence;		/* set by audit_emit: 0, 1, 2, ... */
	enum audit_decision decision;
	enum reason reason;		/* REASON_ALLOWED iff AUDIT_ALLOW */
	uint16_t method_len, url_len, rule_len, host_len;
	uint8_t trunc;			/* AUDIT_TRUNC_* bits */
	char method[AUDIT_METHOD_MAX];
	char url[AUDIT_URL_MAX];	/* scheme://host[:port]/path?query */
	char rule[AUDIT_RULE_MAX];	/* matched rule text; empty for denies */
	char host[AUDIT_HOST_MAX];	/* Host as the client sent it */
};

/*
 * Fills <r> from views of the caller's buffers (copied, truncated to the
 * AUDIT_*_MAX limits) and stamps event_time with the current time.  The
 * decision follows <reason>: REASON_ALLOWED is an allow, anything else a
 * deny; <rule> is kept for allows only.  sequence is left 0 for
 * audit_emit.  Never allocates.
 */
void audit_rec_fill(struct audit_rec *r, enum reason reason,
    struct view method, struct view url, struct view rule, struct view host);

/* ---- session, queue and sinks (writer.c, sink.c) ----------------------- */

enum audit_level {
	AUDIT_LEVEL_DEBUG,	/* everything */
	AUDIT_LEVEL_INFO,	/* allows (INFO) and denies (WARN) */
	AUDIT_LEVEL_WARN,	/* denies only: the Go tool's default */
	AUDIT_LEVEL_ERROR	/* no audit line reaches the text sink */
};

const char *audit_level_str(enum audit_level);

/* Parses "debug", "info", "warn" or "error" (any case).  Returns 0 or -1. */
int audit_level_parse(struct view, enum audit_level *)
    __attribute__((warn_unused_result));

enum audit_sink_kind {
	AUDIT_SINK_TEXT,	/* slog text lines on a borrowed fd */
	AUDIT_SINK_JSON,	/* JSON lines on a borrowed fd */
	AUDIT_SINK_SOCKET,	/* Coder agent Unix socket, owned and reconnected */
	AUDIT_SINK_COUNT
};

const char *audit_sink_str(enum audit_sink_kind);

struct audit_opts {
	struct ev_loop *loop;
	int text_fd;		/* stderr or the --log-dir file; -1: none */
	int json_fd;		/* --audit-file, opened by the privileged side; -1: none */
	const char *socket_path; /* --log-proxy-socket-path; NULL: none */
	enum audit_level level;	/* filter of the text sink only */
	double batch_delay;	/* socket batch wait; 0: AUDIT_BATCH_DELAY */
	double retry_delay;	/* socket reconnect period; 0: AUDIT_SOCK_RETRY */
};

/* State of one sink.  Fields are private to audit/. */
struct audit_sink {
	enum audit_sink_kind kind;
	int on;			/* configured */
	int failed;		/* text/json: hard write error, everything now dropped */
	int err;		/* errno of that error */
	int fd;			/* borrowed (text, json) or owned (socket); -1 */
	enum audit_level level;	/* records below it are not for this sink */
	uint64_t tail;		/* sequence of the next record to take from the ring */
	uint64_t dropped;	/* records this sink lost, in total */
	uint64_t unreported;	/* socket: drops not yet sent in a BoundaryStatus */
	char *buf;		/* formatted bytes: lines or one frame */
	size_t cap, len, off;	/* buf capacity, bytes in it, bytes written */
	size_t frame_recs;	/* socket: records in the frame in buf */
	int due;		/* socket: the batch delay has expired */
	double batch_delay, retry_delay;
	char path[108];		/* socket: sun_path */
	struct audit *a;
	ev_io io;		/* EV_WRITE on fd while buf has bytes */
	ev_timer batch_tmr;	/* socket: partial batch deadline */
	ev_timer retry_tmr;	/* socket: reconnect */
};

struct audit {
	struct ev_loop *loop;
	char session_id[37];	/* UUIDv4, lowercase, NUL-terminated */
	uint64_t head;		/* sequence of the next record = records emitted */
	int flushing;		/* audit_flush is running: send partial batches */
	struct audit_rec *ring;	/* AUDIT_QUEUE_LEN records, index = seq % len */
	struct audit_sink sink[AUDIT_SINK_COUNT];
	int report_fd;		/* where audit_flush reports drops */
};

/*
 * Sets up a session: a fresh UUIDv4 session_id (getrandom), the ring, one
 * buffer per configured sink.  Opens no file: <o>->text_fd and json_fd are
 * borrowed (the caller closes them after audit_close) and are switched to
 * O_NONBLOCK, which changes their open file description: pass a private
 * description of the terminal (e.g. open("/proc/self/fd/2")) when the jailed
 * child shares it.  The socket is connected at once if it exists and
 * retried every retry_delay otherwise.  The caller must ignore SIGPIPE.
 * Returns 0, or -1 with errno (allocation, getrandom, path too long).
 */
int audit_init(struct audit *, const struct audit_opts *)
    __attribute__((warn_unused_result));

/*
 * Queues a copy of <r> for every sink and returns the sequence number it
 * was given (dense from 0).  Never blocks, never allocates: bytes are
 * formatted and written by the sinks' ev_io watchers.  When a sink already
 * holds AUDIT_QUEUE_LEN unwritten records, its oldest one is dropped and
 * counted; other sinks are not affected.
 */
uint64_t audit_emit(struct audit *, const struct audit_rec *r);

/*
 * Shutdown: writes everything still queued, including the last partial
 * socket batch, blocking up to <timeout> seconds in total.  Records that
 * could not be written are counted as dropped, and for each sink that lost
 * any, "audit: N records dropped for <sink>" is written to the text fd (or
 * stderr).  Returns the number of records dropped over all sinks.
 */
uint64_t audit_flush(struct audit *, double timeout);

/* Stops the watchers, closes the socket, frees what audit_init allocated. */
void audit_close(struct audit *);

/* ---- internal to audit/ ------------------------------------------------ */

/* Longest line format_json or format_text can produce for one record. */
#define AUDIT_LINE_MAX \
	(6 * (AUDIT_METHOD_MAX + AUDIT_URL_MAX + AUDIT_RULE_MAX + \
	    AUDIT_HOST_MAX) + 512)

/*
 * Decodes one strict UTF-8 character (no overlong forms, surrogates or
 * code points above U+10FFFF) at <p> (<n> bytes available).  Returns its
 * length 1..4 and stores the code point, or 0 if the bytes are invalid.
 */
size_t format_utf8(const unsigned char *p, size_t n, uint32_t *cp);

/*
 * One record as a JSON object plus '\n' into <buf> (capacity <cap>).
 * Returns the length, or -1 if it does not fit.  Never allocates.
 */
int format_json(char *buf, size_t cap, const struct audit_rec *,
    const char *session_id) __attribute__((warn_unused_result));

/* One record as a Go slog TextHandler line plus '\n'; as format_json. */
int format_text(char *buf, size_t cap, const struct audit_rec *)
    __attribute__((warn_unused_result));

/* The slog level of a record: INFO for allows, WARN for denies. */
enum audit_level format_level(const struct audit_rec *);

/* Protobuf frames for the agent socket (proto.c). */
#define PROTO_FRAME_TAG 2	/* codec V2: BoundaryMessage envelope */
#define PROTO_HDR_LEN 4		/* big-endian tag:8 | length:24 */

/* Bytes one record adds to a ReportBoundaryLogsRequest (field 1 entry). */
size_t proto_log_field_size(const struct audit_rec *);

/* Payload size of a logs frame whose log entries sum to <fields>. */
size_t proto_logs_payload_size(size_t fields, size_t session_id_len);

/*
 * Encodes header + BoundaryMessage{logs: {logs: recs[0..n), session_id}}
 * into <buf>.  Returns the frame length, or -1 if it exceeds <cap> or the
 * payload exceeds AUDIT_FRAME_MAX.
 */
int proto_logs_frame(unsigned char *buf, size_t cap,
    const struct audit_rec *const *recs, size_t n, struct view session_id)
    __attribute__((warn_unused_result));

/* Encodes header + BoundaryMessage{status: {dropped_*}}; as above. */
int proto_status_frame(unsigned char *buf, size_t cap,
    int64_t dropped_channel_full, int64_t dropped_batch_full)
    __attribute__((warn_unused_result));

/* Sinks (sink.c).  Return conventions per function. */

/* Prepares a text or json sink on borrowed <fd>.  0 or -1 (ENOMEM). */
int sink_open_fd(struct audit_sink *, struct audit *, enum audit_sink_kind,
    int fd, enum audit_level) __attribute__((warn_unused_result));

/* Prepares the socket sink for <path> (not yet connected).  0 or -1. */
int sink_open_socket(struct audit_sink *, struct audit *, const char *path,
    double batch_delay, double retry_delay)
    __attribute__((warn_unused_result));

/* Whether <r> is for sink <s> (the text sink's level filter). */
int sink_wants(const struct audit_sink *, const struct audit_rec *);

/* Records in the ring not yet taken by <s>. */
uint64_t sink_pending(const struct audit_sink *);

/*
 * Moves records from the ring into the sink's buffer: lines while they
 * fit, or (socket, buffer empty) one status or logs frame when a batch is
 * due.  Returns 1 if the buffer holds bytes to write, else 0.
 */
int sink_fill(struct audit_sink *);

/*
 * One non-blocking write of the buffered bytes.  Returns 1 if progress
 * was made, 0 if the fd would block, -1 on error (errno).
 */
int sink_write(struct audit_sink *);

/* Non-blocking connect of the socket sink.  0 or -1 (errno). */
int sink_connect(struct audit_sink *);

/*
 * After a write error: a text/json sink fails for good (its buffered
 * records are dropped); the socket is closed and its frame kept, to be
 * sent again from the start after the next connect.
 */
void sink_fail(struct audit_sink *, int err);

/* Counts everything the sink still holds as dropped and empties it. */
void sink_drop_all(struct audit_sink *);

/* Closes what the sink owns and frees its buffer. */
void sink_close(struct audit_sink *);

#endif
