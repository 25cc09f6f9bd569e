/*
 * Hand-written protobuf encoder for exactly the messages the Coder agent's
 * log proxy reads (reference/boundary-facts.md 7.4), framed by its codec:
 *
 *   frame   = u32 big-endian (tag << 24 | payload length), payload
 *   payload = BoundaryMessage { logs = 1 | status = 2 }
 *   ReportBoundaryLogsRequest { repeated BoundaryLog logs = 1;
 *                               string session_id = 2; }
 *   BoundaryLog { bool allowed = 1; Timestamp time = 2;
 *                 HttpRequest http_request = 3; int32 sequence_number = 4; }
 *   HttpRequest { string method = 1; string url = 2; string matched_rule = 3; }
 *   Timestamp   { int64 seconds = 1; int32 nanos = 2; }
 *   BoundaryStatus { int64 dropped_channel_full = 1;
 *                    int64 dropped_batch_full = 2; }
 *
 * Encoding is canonical proto3: scalar fields equal to their default (0,
 * false, "") are left out; the time and http_request messages are always
 * present.  proto3 string fields must be valid UTF-8 (the Go decoder
 * rejects the whole message otherwise), so every byte that is not part of
 * a valid character is written as U+FFFD.  Sizes are computed first, then
 * bytes written into the caller's buffer; nothing is allocated.
 */
#include <string.h>

#include "audit/audit.h"

enum wire {
	WT_VARINT = 0,
	WT_LEN = 2
};

struct enc {
	unsigned char *p;
	size_t cap, n;
	int over;
};

static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static void
put_byte(struct enc *e, unsigned char b)
{
	if (e->over || e->n >= e->cap) {
		e->over = 1;
		return;
	}
	e->p[e->n++] = b;
}

static void
put_varint(struct enc *e, uint64_t v)
{
	while (v >= 0x80) {
		put_byte(e, (unsigned char)(v | 0x80));
		v >>= 7;
	}
	put_byte(e, (unsigned char)v);
}

static void
put_key(struct enc *e, unsigned field, enum wire wt)
{
	put_varint(e, (uint64_t)(field << 3 | wt));
}

/* Length of <s> once invalid UTF-8 bytes become U+FFFD (3 bytes each). */
static size_t
utf8_fixed_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len, out = 0;
	uint32_t cp;

	while (i < n) {
		len = format_utf8(p + i, n - i, &cp);
		if (len == 0) {
			out += 3;
			i++;
		} else {
			out += len;
			i += len;
		}
	}
	return out;
}

static void
put_utf8_fixed(struct enc *e, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len, k;
	uint32_t cp;

	while (i < n) {
		len = format_utf8(p + i, n - i, &cp);
		if (len == 0) {
			put_byte(e, 0xef);
			put_byte(e, 0xbf);
			put_byte(e, 0xbd);
			i++;
			continue;
		}
		for (k = 0; k < len; k++)
			put_byte(e, p[i + k]);
		i += len;
	}
}

/* Size of a string field (key, length, bytes); 0 when empty (default). */
static size_t
str_field_size(const char *s, size_t n)
{
	size_t m;

	if (n == 0)
		return 0;
	m = utf8_fixed_len(s, n);
	return 1 + varint_len(m) + m;
}

static void
put_str_field(struct enc *e, unsigned field, const char *s, size_t n)
{
	if (n == 0)
		return;
	put_key(e, field, WT_LEN);
	put_varint(e, utf8_fixed_len(s, n));
	put_utf8_fixed(e, s, n);
}

static size_t
int_field_size(uint64_t v)
{
	return v == 0 ? 0 : 1 + varint_len(v);
}

static void
put_int_field(struct enc *e, unsigned field, uint64_t v)
{
	if (v == 0)
		return;
	put_key(e, field, WT_VARINT);
	put_varint(e, v);
}

/* int64 and int32 are sign-extended to 64 bits on the wire. */
static uint64_t
wire_seconds(const struct audit_rec *r)
{
	return (uint64_t)(int64_t)r->event_time.tv_sec;
}

static uint64_t
wire_sequence(const struct audit_rec *r)
{
	/* int32 on the wire, as the Go tool's counter: wraps past 2^31-1. */
	int32_t s = (int32_t)(uint32_t)r->sequence;

	return (uint64_t)(int64_t)s;
}

static size_t
timestamp_size(const struct audit_rec *r)
{
	return int_field_size(wire_seconds(r)) +
	    int_field_size((uint64_t)r->event_time.tv_nsec);
}

static size_t
http_request_size(const struct audit_rec *r)
{
	return str_field_size(r->method, r->method_len) +
	    str_field_size(r->url, r->url_len) +
	    str_field_size(r->rule, r->rule_len);
}

static size_t
log_size(const struct audit_rec *r)
{
	size_t ts = timestamp_size(r), hr = http_request_size(r);

	return (r->decision == AUDIT_ALLOW ? 2 : 0) +
	    1 + varint_len(ts) + ts +
	    1 + varint_len(hr) + hr +
	    int_field_size(wire_sequence(r));
}

size_t
proto_log_field_size(const struct audit_rec *r)
{
	size_t n = log_size(r);

	return 1 + varint_len(n) + n;
}

static size_t
logs_request_size(size_t fields, size_t sid_len)
{
	return fields + (sid_len ? 1 + varint_len(sid_len) + sid_len : 0);
}

size_t
proto_logs_payload_size(size_t fields, size_t sid_len)
{
	size_t req = logs_request_size(fields, sid_len);

	return 1 + varint_len(req) + req;
}

static void
put_log(struct enc *e, const struct audit_rec *r)
{
	put_key(e, 1, WT_LEN);
	put_varint(e, log_size(r));
	if (r->decision == AUDIT_ALLOW) {
		put_key(e, 1, WT_VARINT);
		put_byte(e, 1);
	}
	put_key(e, 2, WT_LEN);
	put_varint(e, timestamp_size(r));
	put_int_field(e, 1, wire_seconds(r));
	put_int_field(e, 2, (uint64_t)r->event_time.tv_nsec);
	put_key(e, 3, WT_LEN);
	put_varint(e, http_request_size(r));
	put_str_field(e, 1, r->method, r->method_len);
	put_str_field(e, 2, r->url, r->url_len);
	put_str_field(e, 3, r->rule, r->rule_len);
	put_int_field(e, 4, wire_sequence(r));
}

static void
put_header(struct enc *e, size_t payload)
{
	uint32_t h = (uint32_t)PROTO_FRAME_TAG << 24 | (uint32_t)payload;

	put_byte(e, (unsigned char)(h >> 24));
	put_byte(e, (unsigned char)(h >> 16));
	put_byte(e, (unsigned char)(h >> 8));
	put_byte(e, (unsigned char)h);
}

static int
done(struct enc *e)
{
	if (e->over)
		return -1;
	return (int)e->n;
}

int
proto_logs_frame(unsigned char *buf, size_t cap,
    const struct audit_rec *const *recs, size_t n, struct view sid)
{
	struct enc e = { buf, cap, 0, 0 };
	size_t fields = 0, i, req, payload;

	for (i = 0; i < n; i++)
		fields += proto_log_field_size(recs[i]);
	req = logs_request_size(fields, sid.n);
	payload = 1 + varint_len(req) + req;
	if (payload > AUDIT_FRAME_MAX || PROTO_HDR_LEN + payload > cap)
		return -1;
	put_header(&e, payload);
	put_key(&e, 1, WT_LEN);
	put_varint(&e, req);
	for (i = 0; i < n; i++)
		put_log(&e, recs[i]);
	put_str_field(&e, 2, sid.p, sid.n);
	return done(&e);
}

int
proto_status_frame(unsigned char *buf, size_t cap,
    int64_t dropped_channel_full, int64_t dropped_batch_full)
{
	struct enc e = { buf, cap, 0, 0 };
	size_t st, payload;

	st = int_field_size((uint64_t)dropped_channel_full) +
	    int_field_size((uint64_t)dropped_batch_full);
	payload = 1 + varint_len(st) + st;
	put_header(&e, payload);
	put_key(&e, 2, WT_LEN);
	put_varint(&e, st);
	put_int_field(&e, 1, (uint64_t)dropped_channel_full);
	put_int_field(&e, 2, (uint64_t)dropped_batch_full);
	return done(&e);
}

/*
 * One record always fits in a frame: the largest possible record (every
 * byte of every field invalid UTF-8, so tripled) plus the envelope and a
 * session id stays under AUDIT_FRAME_MAX.  This is what makes "truncate
 * the URL so one record fits" hold by construction.
 */
_Static_assert(3 * (AUDIT_METHOD_MAX + AUDIT_URL_MAX + AUDIT_RULE_MAX) +
    128 < AUDIT_FRAME_MAX, "one audit record must fit in an agent frame");
