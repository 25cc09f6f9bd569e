/*
 * Record encoders: JSON lines for --audit-file and Go slog TextHandler
 * lines for stderr / --log-dir.  Both write into a caller's buffer with
 * bounds, never allocate, and return the length or -1 when it does not fit.
 *
 * JSON: every string is valid UTF-8 JSON.  '"' and '\\' are backslashed;
 * \b \f \n \r \t use their short forms; other C0 controls, DEL and the C1
 * controls U+0080..U+009F become \u00XX, U+2028/U+2029 become \u2028 and
 * \u2029 (so a line survives terminals and JavaScript readers); each byte
 * that is not part of a valid UTF-8 character becomes \ufffd, as Go's
 * encoding/json does.  Valid characters of 2 to 4 bytes are kept as-is.
 *
 * Text: the layout and quoting of Go's log/slog TextHandler, which the Go
 * tool writes: a value is quoted with strconv.Quote rules when it is empty
 * or contains a space, '=', '"', a control byte, invalid UTF-8 or a
 * non-printable or space character; a lone backslash or DEL does not force
 * quoting.  Go decides "printable" with the full Unicode tables; we use a
 * short list of the non-printable ranges (C1 controls, format characters,
 * non-ASCII spaces, private use, noncharacters), so an unassigned code point
 * is shown raw where Go would escape it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"

struct out {
	char *p;
	size_t cap, n;
	int over;
};

static const char hex[] = "0123456789abcdef";

static void
put(struct out *o, const void *s, size_t n)
{
	if (o->over || o->cap - o->n < n) {
		o->over = 1;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void
put_c(struct out *o, char c)
{
	put(o, &c, 1);
}

static void
put_s(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* A string literal, its length known at compile time. */
#define PUT_LIT(o, lit) put((o), "" lit, sizeof(lit) - 1)

/* <v> in decimal, zero-padded to at least <width> digits (at most 20). */
static void
put_dec(struct out *o, long v, int width)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	if (width > 20)
		width = 20;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0 || sizeof(tmp) - i < (size_t)width);
	if (v < 0)
		tmp[--i] = '-';
	put(o, tmp + i, sizeof(tmp) - i);
}

/* "2006-01-02T15:04:05" of <tm>, as strftime's %Y-%m-%dT%H:%M:%S. */
static void
put_tm(struct out *o, const struct tm *tm)
{
	put_dec(o, (long)tm->tm_year + 1900, 4);
	put_c(o, '-');
	put_dec(o, tm->tm_mon + 1, 2);
	put_c(o, '-');
	put_dec(o, tm->tm_mday, 2);
	put_c(o, 'T');
	put_dec(o, tm->tm_hour, 2);
	put_c(o, ':');
	put_dec(o, tm->tm_min, 2);
	put_c(o, ':');
	put_dec(o, tm->tm_sec, 2);
}

static void
put_u(struct out *o, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(o, tmp + i, sizeof(tmp) - i);
}

/* \u followed by <digits> lowercase hex digits of <v>; with 'U', 8. */
static void
put_uesc(struct out *o, char u, uint32_t v, int digits)
{
	char tmp[10];
	int i;

	tmp[0] = '\\';
	tmp[1] = u;
	for (i = 0; i < digits; i++)
		tmp[2 + i] = hex[(v >> (4 * (digits - 1 - i))) & 0xf];
	put(o, tmp, (size_t)(2 + digits));
}

static void
put_xesc(struct out *o, unsigned char b)
{
	char tmp[4] = { '\\', 'x', hex[b >> 4], hex[b & 0xf] };

	put(o, tmp, sizeof(tmp));
}

size_t
format_utf8(const unsigned char *p, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t len, i;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* ---- JSON --------------------------------------------------------------- */

/*
 * The bytes JSON takes as they are: printable ASCII but '"' and '\\'
 * (0x20-0x7e without 0x22 and 0x5c), one bit each.
 */
static const uint64_t json_plain[2] = {
	0xfffffffb00000000u, /* 0x00-0x3f: 0x20-0x3f but '"' */
	0x7fffffffefffffffu, /* 0x40-0x7f: all but '\\' and DEL */
};
#define JSON_PLAIN(b) ((b) < 0x80 && (json_plain[(b) >> 6] >> ((b) & 63) & 1))

/*
 * Whether any of the 8 bytes in <w> is not JSON_PLAIN.  With no byte of
 * 0x80 or above (tested first), each term is exact: (x - 0x01..) & ~x
 * has a high bit set iff x has a zero byte, (w - 0x20..) & ~w iff w has
 * a byte below 0x20, and w + 0x01.. iff w has a 0x7f byte.
 */
static int
json_special8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, high = ones << 7;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	if ((w & high) != 0)
		return 1;
	return ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
	    ((b - ones) & ~b) | (w + ones)) & high) != 0;
}

static void
json_str(struct out *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t cp;

	put_c(o, '"');
	while (i < n) {
		unsigned char b = p[i];

		if (JSON_PLAIN(b)) {
			size_t j = i + 1;
			uint64_t w;

			/* eight bytes at a time while none needs escaping */
			while (n - j >= 8) {
				memcpy(&w, p + j, 8);
				if (json_special8(w))
					break;
				j += 8;
			}
			while (j < n && JSON_PLAIN(p[j]))
				j++;
			put(o, p + i, j - i);
			i = j;
			continue;
		}
		if (b < 0x80) {
			switch (b) {
			case '"':
				put_s(o, "\\\"");
				break;
			case '\\':
				put_s(o, "\\\\");
				break;
			case '\b':
				put_s(o, "\\b");
				break;
			case '\f':
				put_s(o, "\\f");
				break;
			case '\n':
				put_s(o, "\\n");
				break;
			case '\r':
				put_s(o, "\\r");
				break;
			case '\t':
				put_s(o, "\\t");
				break;
			default: /* other C0 controls and DEL */
				put_uesc(o, 'u', b, 4);
			}
			i++;
			continue;
		}
		len = format_utf8(p + i, n - i, &cp);
		if (len == 0) {
			put_s(o, "\\ufffd");
			i++;
		} else if (cp <= 0x9f || cp == 0x2028 || cp == 0x2029) {
			put_uesc(o, 'u', cp, 4);
			i += len;
		} else {
			put(o, p + i, len);
			i += len;
		}
	}
	put_c(o, '"');
}

/*
 * RFC 3339 in UTC with nanoseconds: 2026-11-23T14:58:47.123456789Z.  The
 * part up to the seconds changes once a second: each thread keeps the
 * last one it wrote.
 */
static void
put_time_utc_ns(struct out *o, const struct timespec *ts)
{
	static _Thread_local struct {
		time_t sec;
		int valid;
		size_t n;
		char s[32];
	} last;
	struct tm tm;
	char ns[9];
	long v = ts->tv_nsec;
	int i;

	if (!last.valid || last.sec != ts->tv_sec) {
		struct out t = { last.s, sizeof(last.s), 0, 0 };

		if (gmtime_r(&ts->tv_sec, &tm) == NULL)
			memset(&tm, 0, sizeof(tm));
		put_tm(&t, &tm);
		last.valid = !t.over;
		last.sec = ts->tv_sec;
		last.n = t.n;
	}
	put(o, last.s, last.n);
	put_c(o, '.');
	if (v < 0 || v > 999999999)	/* not from clock_gettime */
		v = 0;
	for (i = 8; i >= 0; i--) {
		ns[i] = (char)('0' + v % 10);
		v /= 10;
	}
	put(o, ns, sizeof(ns));
	put_c(o, 'Z');
}

static int
finish(struct out *o)
{
	put_c(o, '\n');
	if (o->over)
		return -1;
	return (int)o->n;
}

int
format_json(char *buf, size_t cap, const struct audit_rec *r,
    const char *session_id)
{
	struct out o = { buf, cap, 0, 0 };

	PUT_LIT(&o, "{\"event_time\":\"");
	put_time_utc_ns(&o, &r->event_time);
	PUT_LIT(&o, "\",\"session_id\":");
	json_str(&o, session_id, strlen(session_id));
	PUT_LIT(&o, ",\"sequence\":");
	put_u(&o, r->sequence);
	PUT_LIT(&o, ",\"decision\":\"");
	put_s(&o, audit_decision_str(r->decision));
	PUT_LIT(&o, "\",\"http_method\":");
	json_str(&o, r->method, r->method_len);
	PUT_LIT(&o, ",\"http_url\":");
	json_str(&o, r->url, r->url_len);
	if (r->trunc & AUDIT_TRUNC_URL)
		PUT_LIT(&o, ",\"http_url_truncated\":true");
	if (r->decision == AUDIT_ALLOW) {
		PUT_LIT(&o, ",\"matched_rule\":");
		json_str(&o, r->rule, r->rule_len);
	} else {
		PUT_LIT(&o, ",\"reason\":");
		PUT_LIT(&o, "\"");
		put_s(&o, reason_str(r->reason));
		PUT_LIT(&o, "\"");
	}
	PUT_LIT(&o, ",\"host\":");
	json_str(&o, r->host, r->host_len);
	put_c(&o, '}');
	return finish(&o);
}

/* ---- slog text ---------------------------------------------------------- */

/*
 * strconv.IsPrint for a valid non-ASCII code point, approximated by the
 * ranges that are not letters, marks, numbers, punctuation or symbols.
 */
static int
go_print(uint32_t c)
{
	static const struct {
		uint32_t lo, hi;
	} np[] = {
		{ 0x0080, 0x00a0 },	/* C1 controls, NO-BREAK SPACE */
		{ 0x00ad, 0x00ad },	/* SOFT HYPHEN */
		{ 0x0600, 0x0605 },	/* Arabic number signs (Cf) */
		{ 0x061c, 0x061c },	/* ARABIC LETTER MARK */
		{ 0x06dd, 0x06dd },
		{ 0x070f, 0x070f },
		{ 0x1680, 0x1680 },	/* OGHAM SPACE MARK */
		{ 0x180e, 0x180e },	/* MONGOLIAN VOWEL SEPARATOR */
		{ 0x2000, 0x200f },	/* spaces, ZWSP, ZWJ, direction marks */
		{ 0x2028, 0x202f },	/* line/paragraph sep., embeddings */
		{ 0x205f, 0x206f },	/* spaces, invisible operators */
		{ 0x3000, 0x3000 },	/* IDEOGRAPHIC SPACE */
		{ 0xe000, 0xf8ff },	/* private use */
		{ 0xfeff, 0xfeff },	/* BOM */
		{ 0xfff0, 0xfffb },	/* interlinear annotation, unassigned */
		{ 0xfffe, 0xffff },	/* noncharacters */
		{ 0xe0000, 0xe00ff },	/* tags (Cf) and unassigned */
		{ 0xf0000, 0x10ffff },	/* private use planes */
	};
	size_t i;

	for (i = 0; i < sizeof(np) / sizeof(np[0]); i++)
		if (c >= np[i].lo && c <= np[i].hi)
			return 0;
	return 1;
}

/* slog's needsQuoting. */
static int
needs_quoting(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t cp;

	if (n == 0)
		return 1;
	while (i < n) {
		if (p[i] < 0x80) {
			if (p[i] != '\\' && (p[i] == ' ' || p[i] == '=' ||
			    p[i] == '"' || p[i] < 0x20))
				return 1;
			i++;
			continue;
		}
		len = format_utf8(p + i, n - i, &cp);
		if (len == 0 || cp == 0xfffd || !go_print(cp))
			return 1;
		i += len;
	}
	return 0;
}

/* strconv.AppendQuote. */
static void
go_quote(struct out *o, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, len;
	uint32_t cp;

	put_c(o, '"');
	while (i < n) {
		unsigned char b = p[i];

		if (b < 0x80) {
			i++;
			if (b == '"' || b == '\\') {
				put_c(o, '\\');
				put_c(o, (char)b);
				continue;
			}
			if (b >= 0x20 && b < 0x7f) {
				put_c(o, (char)b);
				continue;
			}
			switch (b) {
			case '\a':
				put_s(o, "\\a");
				break;
			case '\b':
				put_s(o, "\\b");
				break;
			case '\f':
				put_s(o, "\\f");
				break;
			case '\n':
				put_s(o, "\\n");
				break;
			case '\r':
				put_s(o, "\\r");
				break;
			case '\t':
				put_s(o, "\\t");
				break;
			case '\v':
				put_s(o, "\\v");
				break;
			default:
				put_xesc(o, b);
			}
			continue;
		}
		len = format_utf8(p + i, n - i, &cp);
		if (len == 0) {
			put_xesc(o, b);
			i++;
			continue;
		}
		if (go_print(cp))
			put(o, p + i, len);
		else if (cp < 0x10000)
			put_uesc(o, 'u', cp, 4);
		else
			put_uesc(o, 'U', cp, 8);
		i += len;
	}
	put_c(o, '"');
}

static void
text_value(struct out *o, const char *s, size_t n)
{
	if (needs_quoting(s, n))
		go_quote(o, s, n);
	else
		put(o, s, n);
}

/* Go's "2006-01-02T15:04:05.000Z07:00" in the local zone (slog's time). */
static void
put_time_local_ms(struct out *o, const struct timespec *ts)
{
	struct tm tm;
	long off;

	if (localtime_r(&ts->tv_sec, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	put_tm(o, &tm);
	put_c(o, '.');
	put_dec(o, ts->tv_nsec / 1000000, 3);
	off = tm.tm_gmtoff;
	if (off == 0) {
		put_c(o, 'Z');
		return;
	}
	put_c(o, off < 0 ? '-' : '+');
	if (off < 0)
		off = -off;
	off /= 60;
	put_dec(o, off / 60, 2);
	put_c(o, ':');
	put_dec(o, off % 60, 2);
}

enum audit_level
format_level(const struct audit_rec *r)
{
	return r->decision == AUDIT_ALLOW ? AUDIT_LEVEL_INFO : AUDIT_LEVEL_WARN;
}

int
format_text(char *buf, size_t cap, const struct audit_rec *r)
{
	struct out o = { buf, cap, 0, 0 };

	put_s(&o, "time=");
	put_time_local_ms(&o, &r->event_time);
	put_s(&o, " level=");
	put_s(&o, audit_level_str(format_level(r)));
	put_s(&o, r->decision == AUDIT_ALLOW ? " msg=ALLOW" : " msg=DENY");
	put_s(&o, " method=");
	text_value(&o, r->method, r->method_len);
	put_s(&o, " url=");
	text_value(&o, r->url, r->url_len);
	put_s(&o, " host=");
	text_value(&o, r->host, r->host_len);
	if (r->decision == AUDIT_ALLOW) {
		put_s(&o, " rule=");
		text_value(&o, r->rule, r->rule_len);
	} else {
		const char *rs = reason_str(r->reason);
		put_s(&o, " reason=");
		text_value(&o, rs, strlen(rs));
	}
	return finish(&o);
}
