/*
 * Tests of audit/proto.c: varints, the exact bytes of a logs frame and a
 * status frame (computed by hand with an independent encoder, see the
 * comments), proto3 defaults left out, invalid UTF-8 replaced, sizes that
 * agree with the bytes written, bounds.  When python3 has google.protobuf,
 * a frame is also decoded by the real library; otherwise that part is
 * skipped visibly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/proto.c"

#include "tests/tap.h"

void test_audit__proto_c(void);

static void
rec(struct audit_rec *r, int allow, const char *m, const char *u,
    const char *rule, time_t sec, long ns, uint64_t seq)
{
	audit_rec_fill(r, allow ? REASON_ALLOWED : REASON_NO_RULE,
	    view_cstr(m), view_cstr(u), view_cstr(rule), view_cstr("h"));
	r->event_time.tv_sec = sec;
	r->event_time.tv_nsec = ns;
	r->sequence = seq;
}

static void
test_varint(void)
{
	static const struct {
		uint64_t v;
		const char *bytes;
		size_t n;
	} t[] = {
		{ 0, "\x00", 1 },
		{ 1, "\x01", 1 },
		{ 127, "\x7f", 1 },
		{ 128, "\x80\x01", 2 },
		{ 300, "\xac\x02", 2 },
		{ 16383, "\xff\x7f", 2 },
		{ 16384, "\x80\x80\x01", 3 },
		{ UINT64_MAX, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10 },
	};
	unsigned char buf[16];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct enc e = { buf, sizeof(buf), 0, 0 };
		put_varint(&e, t[i].v);
		is_mem(buf, e.n, t[i].bytes, t[i].n, "varint %llu",
		    (unsigned long long)t[i].v);
		is_int(varint_len(t[i].v), t[i].n, "varint_len %llu",
		    (unsigned long long)t[i].v);
	}
	{
		struct enc e = { buf, 1, 0, 0 };
		put_varint(&e, 300);
		ok(e.over && e.n == 1, "varint past the end sets overflow");
	}
}

/*
 * Record A: allow GET https://github.com/x by "domain=github.com" at
 * 1795445927.123456789, sequence 7.  Record B: deny POST http://a/\xff at
 * 1.0, sequence 0 (so nanos and sequence_number are left out, and \xff is
 * sent as U+FFFD).
 */
static const unsigned char frame_ab[] = {
	0x02, 0x00, 0x00, 0x88,		/* tag 2, payload 136 */
	0x0a, 0x85, 0x01,		/* BoundaryMessage.logs, 133 bytes */
	0x0a, 0x41,			/* logs[0], 65 bytes */
	0x08, 0x01,			/* allowed = true */
	0x12, 0x0b, 0x08, 0xa7, 0xa9, 0x91, 0xd8, 0x06, /* time.seconds */
	0x10, 0x95, 0x9a, 0xef, 0x3a,	/* time.nanos = 123456789 */
	0x1a, 0x2e,			/* http_request, 46 bytes */
	0x0a, 0x03, 'G', 'E', 'T',
	0x12, 0x14, 'h', 't', 't', 'p', 's', ':', '/', '/', 'g', 'i', 't',
	'h', 'u', 'b', '.', 'c', 'o', 'm', '/', 'x',
	0x1a, 0x11, 'd', 'o', 'm', 'a', 'i', 'n', '=', 'g', 'i', 't', 'h',
	'u', 'b', '.', 'c', 'o', 'm',
	0x20, 0x07,			/* sequence_number = 7 */
	0x0a, 0x1a,			/* logs[1], 26 bytes */
	0x12, 0x02, 0x08, 0x01,		/* time.seconds = 1 */
	0x1a, 0x14, 0x0a, 0x04, 'P', 'O', 'S', 'T',
	0x12, 0x0c, 'h', 't', 't', 'p', ':', '/', '/', 'a', '/', 0xef, 0xbf,
	0xbd,
	0x12, 0x24,			/* session_id, 36 bytes */
	'0', 'f', '1', 'e', '2', 'd', '3', 'c', '-', '4', 'b', '5', 'a', '-',
	'4', '9', '7', '8', '-', '8', '7', '9', '6', '-', 'a', '5', 'b', '4',
	'c', '3', 'd', '2', 'e', '1', 'f', '0',
};

static const char sid[] = "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0";

static void
make_ab(struct audit_rec *a, struct audit_rec *b)
{
	rec(a, 1, "GET", "https://github.com/x", "domain=github.com",
	    1795445927, 123456789, 7);
	rec(b, 0, "POST", "http://a/\xff", "ignored", 1, 0, 0);
}

static void
python_decode(const unsigned char *f, size_t n)
{
	static const char script[] =
	    "import sys\n"
	    "from google.protobuf import descriptor_pb2, descriptor_pool, message_factory\n"
	    "F = descriptor_pb2.FieldDescriptorProto\n"
	    "fd = descriptor_pb2.FileDescriptorProto(name='b.proto', package='t', syntax='proto3')\n"
	    "def msg(name, fields, oneof=None):\n"
	    "    m = fd.message_type.add(name=name)\n"
	    "    if oneof: m.oneof_decl.add(name=oneof)\n"
	    "    for (fname, num, typ, lab, tn) in fields:\n"
	    "        f = m.field.add(name=fname, number=num, type=typ, label=lab)\n"
	    "        if tn: f.type_name = tn\n"
	    "        if oneof: f.oneof_index = 0\n"
	    "O, R = F.LABEL_OPTIONAL, F.LABEL_REPEATED\n"
	    "msg('Timestamp', [('seconds', 1, F.TYPE_INT64, O, None), ('nanos', 2, F.TYPE_INT32, O, None)])\n"
	    "msg('HttpRequest', [('method', 1, F.TYPE_STRING, O, None), ('url', 2, F.TYPE_STRING, O, None), ('matched_rule', 3, F.TYPE_STRING, O, None)])\n"
	    "msg('BoundaryLog', [('allowed', 1, F.TYPE_BOOL, O, None), ('time', 2, F.TYPE_MESSAGE, O, '.t.Timestamp'), ('http_request', 3, F.TYPE_MESSAGE, O, '.t.HttpRequest'), ('sequence_number', 4, F.TYPE_INT32, O, None)])\n"
	    "msg('ReportBoundaryLogsRequest', [('logs', 1, F.TYPE_MESSAGE, R, '.t.BoundaryLog'), ('session_id', 2, F.TYPE_STRING, O, None), ('confined_process_name', 3, F.TYPE_STRING, O, None)])\n"
	    "msg('BoundaryStatus', [('dropped_channel_full', 1, F.TYPE_INT64, O, None), ('dropped_batch_full', 2, F.TYPE_INT64, O, None)])\n"
	    "msg('BoundaryMessage', [('logs', 1, F.TYPE_MESSAGE, O, '.t.ReportBoundaryLogsRequest'), ('status', 2, F.TYPE_MESSAGE, O, '.t.BoundaryStatus')], 'msg')\n"
	    "pool = descriptor_pool.DescriptorPool()\n"
	    "pool.Add(fd)\n"
	    "d = pool.FindMessageTypeByName('t.BoundaryMessage')\n"
	    "cls = message_factory.GetMessageClass(d) if hasattr(message_factory, 'GetMessageClass') else message_factory.MessageFactory(pool).GetPrototype(d)\n"
	    "data = open(sys.argv[1], 'rb').read()\n"
	    "h = int.from_bytes(data[:4], 'big')\n"
	    "assert h >> 24 == 2 and h & 0xffffff == len(data) - 4\n"
	    "m = cls()\n"
	    "m.ParseFromString(data[4:])\n"
	    "out = [m.logs.session_id]\n"
	    "for l in m.logs.logs:\n"
	    "    r = l.http_request\n"
	    "    out.append('%d %d %d %s %s %s %d' % (l.allowed, l.time.seconds, l.time.nanos, r.method, r.url, r.matched_rule, l.sequence_number))\n"
	    "sys.stdout.buffer.write(('|'.join(out)).encode())\n";
	char dir[] = "/tmp/audit-proto-XXXXXX", path[64], spath[64], cmd[256];
	char got[512];
	FILE *fp;
	size_t len;

	if (system("python3 -c 'import google.protobuf' 2>/dev/null") != 0) {
		tap_skip("python3 google.protobuf not installed: "
		    "frames not decoded by the reference library");
		return;
	}
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/frame", dir);
	snprintf(spath, sizeof(spath), "%s/dec.py", dir);
	fp = fopen(path, "wb");
	fwrite(f, 1, n, fp);
	fclose(fp);
	fp = fopen(spath, "w");
	fputs(script, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "python3 %s %s", spath, path);
	fp = popen(cmd, "r");
	len = fread(got, 1, sizeof(got) - 1, fp);
	got[len] = '\0';
	is_int(pclose(fp), 0, "google.protobuf parses the frame");
	is_str(got, "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0|"
	    "1 1795445927 123456789 GET https://github.com/x domain=github.com 7|"
	    "0 1 0 POST http://a/\xef\xbf\xbd  0",
	    "google.protobuf sees the same fields");
	unlink(path);
	unlink(spath);
	rmdir(dir);
}

static void
test_logs_frame(void)
{
	struct audit_rec a, b;
	const struct audit_rec *recs[2] = { &a, &b };
	unsigned char buf[PROTO_HDR_LEN + AUDIT_FRAME_MAX];
	size_t fields;
	int n, cap;

	make_ab(&a, &b);
	n = proto_logs_frame(buf, sizeof(buf), recs, 2, view_cstr(sid));
	is_mem(buf, n > 0 ? (size_t)n : 0, frame_ab, sizeof(frame_ab),
	    "logs frame bytes match the hand-computed encoding");
	fields = proto_log_field_size(&a) + proto_log_field_size(&b);
	is_int(PROTO_HDR_LEN + proto_logs_payload_size(fields, strlen(sid)),
	    sizeof(frame_ab), "computed sizes match the bytes");
	is_int(proto_log_field_size(&a), 2 + 0x41, "size of logs[0]");

	/* Every smaller buffer is refused without writing past it. */
	for (cap = 0; cap < (int)sizeof(frame_ab); cap++) {
		memset(buf, 0xaa, sizeof(buf));
		if (proto_logs_frame(buf, (size_t)cap, recs, 2,
		    view_cstr(sid)) != -1 || buf[cap] != 0xaa)
			break;
	}
	is_int(cap, sizeof(frame_ab), "short buffers give -1, no overrun");

	/* An empty batch is still a valid logs message. */
	n = proto_logs_frame(buf, sizeof(buf), recs, 0, view_make("", 0));
	is_mem(buf, n > 0 ? (size_t)n : 0, "\x02\x00\x00\x02\x0a\x00", 6,
	    "empty logs frame");
	python_decode(frame_ab, sizeof(frame_ab));
}

static void
test_fields(void)
{
	struct audit_rec r;
	const struct audit_rec *recs[1] = { &r };
	unsigned char buf[PROTO_HDR_LEN + AUDIT_FRAME_MAX];
	static const unsigned char neg[] = {
		0x20, 0x80, 0x80, 0x80, 0x80, 0xf8, 0xff, 0xff, 0xff, 0xff, 0x01
	};
	int n;

	/* int32 sequence past 2^31-1 wraps like the Go counter and is sent
	 * sign-extended: ten bytes. */
	rec(&r, 0, "", "", "", 0, 0, 0x80000000u);
	n = proto_logs_frame(buf, sizeof(buf), recs, 1, view_make("", 0));
	ok(n > 0 && (size_t)n >= sizeof(neg) &&
	    memcmp(buf + n - sizeof(neg), neg, sizeof(neg)) == 0,
	    "sequence 2^31 is int32 -2^31 on the wire");
	/* Empty method and url: http_request present but empty; time empty. */
	rec(&r, 0, "", "", "", 0, 0, 1);
	n = proto_logs_frame(buf, sizeof(buf), recs, 1, view_make("", 0));
	is_mem(buf, n > 0 ? (size_t)n : 0,
	    "\x02\x00\x00\x0a\x0a\x08\x0a\x06\x12\x00\x1a\x00\x20\x01", 14,
	    "defaults are left out, messages kept");
	/* Negative seconds (before 1970) are int64, sign-extended. */
	rec(&r, 0, "", "", "", -1, 0, 0);
	n = proto_logs_frame(buf, sizeof(buf), recs, 1, view_make("", 0));
	ok(n == 4 + 2 + 2 + 2 + 11 + 2,
	    "seconds -1 takes a ten-byte varint (%d)", n);
	/* Invalid UTF-8 in every string is replaced, valid 4-byte kept. */
	rec(&r, 1, "G\xc0", "\xf0\x9f\x98\x80\xed\xa0\x80", "r\xff", 0, 0, 0);
	n = proto_logs_frame(buf, sizeof(buf), recs, 1, view_make("", 0));
	is_mem(buf + 14, n > 14 ? (size_t)n - 14 : 0,
	    "\x0a\x04G\xef\xbf\xbd"
	    "\x12\x0d\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	    "\x1a\x04r\xef\xbf\xbd", 27, "strings are valid UTF-8");
}

static void
test_limits(void)
{
	static struct audit_rec big[AUDIT_BATCH_MAX];
	const struct audit_rec *recs[AUDIT_BATCH_MAX];
	static char url[AUDIT_URL_MAX + 1];
	unsigned char buf[PROTO_HDR_LEN + AUDIT_FRAME_MAX];
	size_t i, fields = 0, k = 0;
	int n;

	memset(url, '\xff', sizeof(url) - 1);	/* worst case: tripled */
	for (i = 0; i < AUDIT_BATCH_MAX; i++) {
		rec(&big[i], 1, "GET", url, "domain=x", 1, 1, i);
		recs[i] = &big[i];
	}
	ok(big[0].url_len == AUDIT_URL_MAX, "url truncated in the record");
	n = proto_logs_frame(buf, sizeof(buf), recs, 1, view_cstr(sid));
	ok(n > 0 && n <= PROTO_HDR_LEN + AUDIT_FRAME_MAX,
	    "one worst-case record fits a frame (%d)", n);
	n = proto_logs_frame(buf, sizeof(buf), recs, AUDIT_BATCH_MAX,
	    view_cstr(sid));
	is_int(n, -1, "ten worst-case records exceed AUDIT_FRAME_MAX");
	while (k < AUDIT_BATCH_MAX && proto_logs_payload_size(fields +
	    proto_log_field_size(recs[k]), strlen(sid)) <= AUDIT_FRAME_MAX)
		fields += proto_log_field_size(recs[k++]);
	n = proto_logs_frame(buf, sizeof(buf), recs, k, view_cstr(sid));
	ok(k >= 1 && n > 0 && (size_t)n == PROTO_HDR_LEN +
	    proto_logs_payload_size(fields, strlen(sid)),
	    "the largest batch under the limit encodes (%zu records)", k);
	is_int((buf[1] << 16 | buf[2] << 8 | buf[3]), n - PROTO_HDR_LEN,
	    "24-bit length in the header");
}

static void
test_status(void)
{
	unsigned char buf[64];
	int n;

	n = proto_status_frame(buf, sizeof(buf), 3, 0);
	is_mem(buf, n > 0 ? (size_t)n : 0, "\x02\x00\x00\x04\x12\x02\x08\x03",
	    8, "status{dropped_channel_full: 3}");
	n = proto_status_frame(buf, sizeof(buf), 0, 300);
	is_mem(buf, n > 0 ? (size_t)n : 0,
	    "\x02\x00\x00\x05\x12\x03\x10\xac\x02", 9,
	    "status{dropped_batch_full: 300}");
	is_int(proto_status_frame(buf, 5, 3, 0), -1, "status: short buffer");
}

void
test_audit__proto_c(void)
{
	test_varint();
	test_logs_frame();
	test_fields();
	test_limits();
	test_status();
}
