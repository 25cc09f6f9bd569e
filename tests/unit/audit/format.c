/*
 * Tests of audit/format.c: the exact JSON and slog text lines for the
 * sample records of reference/boundary-facts.md 7.2, field order, RFC 3339
 * with nanoseconds, Go's local-zone millisecond time, JSON escaping edge
 * cases (quotes, backslash, controls, DEL, invalid and 4-byte UTF-8),
 * slog's quoting rules value by value, and bounds on every buffer size;
 * the eight-bytes-at-a-time scan of json_str against the byte-wise rule,
 * and the zero-padded numbers of the time stamps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/format.c"

#include "tests/tap.h"

void test_audit__format_c(void);

static const char sid[] = "0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0";
static char line[AUDIT_LINE_MAX];
static struct audit_rec r;

static void
set_tz(const char *tz)
{
	if (tz == NULL)
		unsetenv("TZ");
	else
		setenv("TZ", tz, 1);
	tzset();
}

static void
mkrec(enum reason reason, const char *m, const char *u, const char *rule,
    const char *h, time_t sec, long ns, uint64_t seq)
{
	audit_rec_fill(&r, reason, view_cstr(m), view_cstr(u), view_cstr(rule),
	    view_cstr(h));
	r.event_time.tv_sec = sec;
	r.event_time.tv_nsec = ns;
	r.sequence = seq;
}

static const char *
json_of(const char *s, size_t n)
{
	struct out o = { line, sizeof(line) - 1, 0, 0 };

	json_str(&o, s, n);
	line[o.over ? 0 : o.n] = '\0';
	return line;
}

static const char *
text_of(const char *s, size_t n)
{
	struct out o = { line, sizeof(line) - 1, 0, 0 };

	text_value(&o, s, n);
	line[o.over ? 0 : o.n] = '\0';
	return line;
}

#define JSON(in, want) is_str(json_of(in, sizeof(in) - 1), want, "json %s", want)
#define TEXT(in, want) is_str(text_of(in, sizeof(in) - 1), want, "text %s", want)

static void
test_json_lines(void)
{
	int n;

	mkrec(REASON_ALLOWED, "GET", "https://github.com/x",
	    "domain=github.com", "github.com", 1795445927, 123456789, 7);
	n = format_json(line, sizeof(line), &r, sid);
	is_mem(line, n > 0 ? (size_t)n : 0,
	    "{\"event_time\":\"2026-11-23T14:58:47.123456789Z\","
	    "\"session_id\":\"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0\","
	    "\"sequence\":7,\"decision\":\"allow\",\"http_method\":\"GET\","
	    "\"http_url\":\"https://github.com/x\","
	    "\"matched_rule\":\"domain=github.com\",\"host\":\"github.com\"}\n",
	    strlen("{\"event_time\":\"2026-11-23T14:58:47.123456789Z\","
	    "\"session_id\":\"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0\","
	    "\"sequence\":7,\"decision\":\"allow\",\"http_method\":\"GET\","
	    "\"http_url\":\"https://github.com/x\","
	    "\"matched_rule\":\"domain=github.com\",\"host\":\"github.com\"}\n"),
	    "allow record as one JSON line");
	mkrec(REASON_HOST_MISMATCH, "HEAD", "https://a.b:8443/p?q=1", "x",
	    "a.b:8443", 0, 5, 18446744073709551615u);
	n = format_json(line, sizeof(line), &r, sid);
	is_mem(line, n > 0 ? (size_t)n : 0,
	    "{\"event_time\":\"1970-01-01T00:00:00.000000005Z\","
	    "\"session_id\":\"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0\","
	    "\"sequence\":18446744073709551615,\"decision\":\"deny\","
	    "\"http_method\":\"HEAD\",\"http_url\":\"https://a.b:8443/p?q=1\","
	    "\"reason\":\"host_mismatch\",\"host\":\"a.b:8443\"}\n",
	    strlen("{\"event_time\":\"1970-01-01T00:00:00.000000005Z\","
	    "\"session_id\":\"0f1e2d3c-4b5a-4978-8796-a5b4c3d2e1f0\","
	    "\"sequence\":18446744073709551615,\"decision\":\"deny\","
	    "\"http_method\":\"HEAD\",\"http_url\":\"https://a.b:8443/p?q=1\","
	    "\"reason\":\"host_mismatch\",\"host\":\"a.b:8443\"}\n"),
	    "deny record: reason instead of matched_rule, ns padded");
	{
		static char big[AUDIT_URL_MAX + 2];
		memset(big, 'u', sizeof(big) - 1);
		mkrec(REASON_NO_RULE, "GET", big, "", "h", 0, 0, 0);
		n = format_json(line, sizeof(line), &r, sid);
		ok(n > 0 && strstr(line, "\"http_url_truncated\":true") != NULL,
		    "truncated url is flagged");
	}
}

static void
test_json_escaping(void)
{
	JSON("plain/path?x=1", "\"plain/path?x=1\"");
	JSON("a\"b\\c", "\"a\\\"b\\\\c\"");
	JSON("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	JSON("\x01\x1f", "\"\\u0001\\u001f\"");
	JSON("\0", "\"\\u0000\"");
	JSON("a\x7f", "\"a\\u007f\"");
	JSON("\xff", "\"\\ufffd\"");
	JSON("x\xe2\x82", "\"x\\ufffd\\ufffd\"");
	JSON("\xc0\x80", "\"\\ufffd\\ufffd\"");
	JSON("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	JSON("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	JSON("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	JSON("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	JSON("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");
	JSON("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	JSON("\xe2\x82\xac", "\"\xe2\x82\xac\"");
	JSON("\xc2\x85\xc2\x9f\xc2\xa0", "\"\\u0085\\u009f\xc2\xa0\"");
	JSON("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\"");
	JSON("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");
	JSON("", "\"\"");
}

/* Every escaped line must also be accepted by a real JSON parser. */
static void
test_json_parses(void)
{
	FILE *p;
	int n;

	mkrec(REASON_ALLOWED, "G\"E\\T", "https://x/\x01\x7f\xff\xe2\x82"
	    "\xf0\x9f\x98\x80\xc2\x85\xe2\x80\xa8\n", "domain=\"x\"",
	    "h\tst", 1, 999999999, 3);
	n = format_json(line, sizeof(line), &r, sid);
	if (system("python3 -c 'import json' 2>/dev/null") != 0) {
		tap_skip("python3 not available: JSON not re-parsed");
		return;
	}
	p = popen("python3 -c 'import json,sys; d=json.loads(sys.stdin.buffer."
	    "read()); sys.exit(0 if d[\"http_url\"] == \"https://x/\\x01\\x7f"
	    "\\ufffd\\ufffd\\ufffd\\U0001f600\\x85\\u2028\\n\" and d[\"http_method\"]"
	    " == \"G\\\"E\\\\T\" and d[\"sequence\"] == 3 else 1)'", "w");
	fwrite(line, 1, n > 0 ? (size_t)n : 0, p);
	is_int(pclose(p), 0, "python json.loads reads the escaped values back");
}

static void
test_text_lines(void)
{
	int n;

	set_tz("UTC");
	mkrec(REASON_ALLOWED, "GET", "https://github.com/x",
	    "domain=github.com", "github.com", 1764021453, 928999999, 0);
	n = format_text(line, sizeof(line), &r);
	is_mem(line, n > 0 ? (size_t)n : 0,
	    "time=2025-11-24T21:57:33.928Z level=INFO msg=ALLOW method=GET "
	    "url=https://github.com/x host=github.com "
	    "rule=\"domain=github.com\"\n",
	    strlen("time=2025-11-24T21:57:33.928Z level=INFO msg=ALLOW "
	    "method=GET url=https://github.com/x host=github.com "
	    "rule=\"domain=github.com\"\n"), "ALLOW line as slog writes it");
	mkrec(REASON_NO_RULE, "HEAD", "https://github.com/coder-contrib/x.git",
	    "", "github.com", 1764021453, 928000000, 1);
	n = format_text(line, sizeof(line), &r);
	is_mem(line, n > 0 ? (size_t)n : 0,
	    "time=2025-11-24T21:57:33.928Z level=WARN msg=DENY method=HEAD "
	    "url=https://github.com/coder-contrib/x.git host=github.com "
	    "reason=no_rule\n",
	    strlen("time=2025-11-24T21:57:33.928Z level=WARN msg=DENY "
	    "method=HEAD url=https://github.com/coder-contrib/x.git "
	    "host=github.com reason=no_rule\n"), "DENY line with its reason");
	mkrec(REASON_NO_RULE, "GET", "https://x/?a=b c", "", "", 1764021453,
	    0, 1);
	n = format_text(line, sizeof(line), &r);
	is_mem(line, n > 0 ? (size_t)n : 0,
	    "time=2025-11-24T21:57:33.000Z level=WARN msg=DENY method=GET "
	    "url=\"https://x/?a=b c\" host=\"\" reason=no_rule\n",
	    strlen("time=2025-11-24T21:57:33.000Z level=WARN msg=DENY "
	    "method=GET url=\"https://x/?a=b c\" host=\"\" reason=no_rule\n"),
	    "quoted url, empty host");

	set_tz("EST5");
	mkrec(REASON_ALLOWED, "GET", "u", "r", "h", 1764021453, 928000000, 0);
	n = format_text(line, sizeof(line), &r);
	ok(n > 0 && strncmp(line, "time=2025-11-24T16:57:33.928-05:00 ", 35)
	    == 0, "local zone west of UTC: -05:00");
	set_tz("IST-5:30");
	n = format_text(line, sizeof(line), &r);
	ok(n > 0 && strncmp(line, "time=2025-11-25T03:27:33.928+05:30 ", 35)
	    == 0, "local zone east of UTC: +05:30");
	set_tz("UTC");
	is_int(format_level(&r), AUDIT_LEVEL_INFO, "allows are INFO");
}

static void
test_text_quoting(void)
{
	TEXT("abc", "abc");
	TEXT("", "\"\"");
	TEXT("a b", "\"a b\"");
	TEXT("a=b", "\"a=b\"");
	TEXT("a\"b", "\"a\\\"b\"");
	TEXT("a\\b", "a\\b");
	TEXT("a\\ b", "\"a\\\\ b\"");
	TEXT("\x01", "\"\\x01\"");
	TEXT("a\nb", "\"a\\nb\"");
	TEXT("\a\b\f\v\r\t", "\"\\a\\b\\f\\v\\r\\t\"");
	TEXT("\x7f", "\x7f");
	TEXT("\x7f ", "\"\\x7f \"");
	TEXT("\xff", "\"\\xff\"");
	TEXT("x\xe2\x82", "\"x\\xe2\\x82\"");
	TEXT("caf\xc3\xa9", "caf\xc3\xa9");
	TEXT("caf\xc3\xa9 x", "\"caf\xc3\xa9 x\"");
	TEXT("\xc2\xa0", "\"\\u00a0\"");
	TEXT("\xc2\x85", "\"\\u0085\"");
	TEXT("\xef\xbb\xbf", "\"\\ufeff\"");
	TEXT("\xe2\x80\x8b", "\"\\u200b\"");
	TEXT("\xf3\xa0\x80\x81", "\"\\U000e0001\"");
	TEXT("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");
	TEXT("\xef\xbf\xbd", "\"\xef\xbf\xbd\"");
	TEXT("https://x/?a=b", "\"https://x/?a=b\"");
	TEXT("domain=github.com", "\"domain=github.com\"");
	TEXT("no_rule", "no_rule");
}

static void
test_bounds(void)
{
	char buf[512];
	int full, n, cap, bad = 0;

	mkrec(REASON_ALLOWED, "GET", "https://x/\xff \"q\"", "domain=x", "x",
	    1, 2, 3);
	full = format_json(buf, sizeof(buf), &r, sid);
	for (cap = 0; cap < full; cap++) {
		memset(buf, '#', sizeof(buf));
		n = format_json(buf, (size_t)cap, &r, sid);
		if (n != -1 || buf[cap] != '#')
			bad++;
	}
	ok(full > 0 && bad == 0, "json: every short buffer refused, no overrun");
	is_int(format_json(buf, (size_t)full, &r, sid), full,
	    "json: the exact size is enough");
	full = format_text(buf, sizeof(buf), &r);
	bad = 0;
	for (cap = 0; cap < full; cap++) {
		memset(buf, '#', sizeof(buf));
		n = format_text(buf, (size_t)cap, &r);
		if (n != -1 || buf[cap] != '#')
			bad++;
	}
	ok(full > 0 && bad == 0, "text: every short buffer refused, no overrun");
	is_int(format_text(buf, (size_t)full, &r), full,
	    "text: the exact size is enough");
}

/* The worst record (every byte escaped) fits AUDIT_LINE_MAX. */
static void
test_worst_case(void)
{
	static char junk[AUDIT_URL_MAX];
	int n;

	memset(junk, '\x01', sizeof(junk));
	audit_rec_fill(&r, REASON_ALLOWED, view_make(junk, sizeof(junk)),
	    view_make(junk, sizeof(junk)), view_make(junk, sizeof(junk)),
	    view_make(junk, sizeof(junk)));
	n = format_json(line, sizeof(line), &r, sid);
	ok(n > 0, "worst JSON line fits AUDIT_LINE_MAX (%d)", n);
	n = format_text(line, sizeof(line), &r);
	ok(n > 0, "worst text line fits AUDIT_LINE_MAX (%d)", n);
}

/* json_special8 against JSON_PLAIN byte by byte. */
static int
special8_ref(uint64_t w)
{
	int i;

	for (i = 0; i < 8; i++)
		if (!JSON_PLAIN((unsigned)(w >> (8 * i)) & 0xff))
			return 1;
	return 0;
}

static void
test_json_word_scan(void)
{
	static const unsigned char edge[] = { 0x00, 0x01, 0x1f, 0x20, 0x21,
		0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7e, 0x7f, 0x80, 0xc3, 0xfe, 0xff };
	const uint64_t plain = 0x6161616161616161u; /* "aaaaaaaa" */
	uint64_t w, x = 0x9e3779b97f4a7c15u;
	unsigned pos, v, bad = 0, n, i;
	char in[48], want[64];
	const char *got;

	for (pos = 0; pos < 8; pos++)
		for (v = 0; v < 256; v++) {
			w = (plain & ~(0xffu * (1ULL << (8 * pos)))) |
			    ((uint64_t)v << (8 * pos));
			bad += json_special8(w) != special8_ref(w);
		}
	ok(bad == 0, "json_special8: every byte value at every position "
	    "(%u wrong)", bad);
	bad = 0;
	for (n = 0; n < 200000; n++) {
		w = 0;
		for (i = 0; i < 8; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			v = (x & 3) == 0 ? (unsigned)(x >> 8) & 0xff
			                 : edge[(x >> 8) % sizeof(edge)];
			if ((x >> 20) & 1)
				v = 0x20 + (unsigned)(x >> 24) % 0x5f;
			w |= (uint64_t)v << (8 * i);
		}
		bad += json_special8(w) != special8_ref(w);
	}
	ok(bad == 0, "json_special8: 200,000 mixed words (%u wrong)", bad);

	/* one '"' at each offset of a 40-byte string: the word scan stops */
	bad = 0;
	for (pos = 0; pos < 40; pos++) {
		memset(in, 'x', 40);
		in[pos] = '"';
		snprintf(want, sizeof(want), "\"%.*s\\\"%.*s\"", (int)pos, in,
		    (int)(39 - pos), in + pos + 1);
		got = json_of(in, 40);
		bad += strcmp(got, want) != 0;
	}
	ok(bad == 0, "a quote at any of 40 offsets is escaped (%u wrong)",
	    bad);
	bad = 0;
	for (pos = 0; pos < 39; pos++) {
		memset(in, 'x', 40);
		in[pos] = '\xc3';
		in[pos + 1] = '\xa9';
		snprintf(want, sizeof(want), "\"%.40s\"", in);
		got = json_of(in, 40);
		bad += strcmp(got, want) != 0;
	}
	ok(bad == 0, "U+00E9 at any of 39 offsets stays as it is (%u wrong)",
	    bad);
}

static void
test_put_dec(void)
{
	struct out o = { line, sizeof(line) - 1, 0, 0 };

	put_dec(&o, 5, 9);
	put_c(&o, ' ');
	put_dec(&o, 123456789, 9);
	put_c(&o, ' ');
	put_dec(&o, 12345, 4);
	put_c(&o, ' ');
	put_dec(&o, 0, 2);
	put_c(&o, ' ');
	put_dec(&o, -7, 2);
	line[o.n] = '\0';
	is_str(line, "000000005 123456789 12345 00 -07", "put_dec pads and widens");
}

/* The cached date and time of day follow the second that is asked for. */
static void
test_time_cache(void)
{
	static const struct {
		time_t sec;
		long ns;
		const char *want;
	} t[] = {
		{ 1795446000, 5, "2026-11-23T15:00:00.000000005Z" },
		{ 1795446000, 999999999, "2026-11-23T15:00:00.999999999Z" },
		{ 1795446001, 0, "2026-11-23T15:00:01.000000000Z" },
		{ 1795446000, 1, "2026-11-23T15:00:00.000000001Z" },
		{ 0, 0, "1970-01-01T00:00:00.000000000Z" },
		{ 253402300799, 123, "9999-12-31T23:59:59.000000123Z" },
	};
	struct timespec ts;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct out o = { line, sizeof(line) - 1, 0, 0 };

		ts.tv_sec = t[i].sec;
		ts.tv_nsec = t[i].ns;
		put_time_utc_ns(&o, &ts);
		line[o.over ? 0 : o.n] = '\0';
		is_str(line, t[i].want, "UTC time %zu", i);
	}
}

void
test_audit__format_c(void)
{
	char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	test_json_lines();
	test_json_escaping();
	test_json_word_scan();
	test_put_dec();
	test_time_cache();
	test_json_parses();
	test_text_lines();
	test_text_quoting();
	test_bounds();
	test_worst_case();
	set_tz(saved);
	free(saved);
}
