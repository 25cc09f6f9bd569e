/*
 * Fuzz target for request canonicalisation (runtime/url.c over the
 * scanners of grammar/host.re and grammar/path.re).  The input is fed as a
 * host, a path, a segment and a URL.  Besides memory errors it aborts when
 *   - url_path_canon or url_host_canon is not idempotent,
 *   - a result is longer than its capacity or a limit of limits.h,
 *   - url_path_canon disagrees with a slow reference written here
 *     (independent segment decoding and RFC 3986 5.2.4 over a segment list),
 *   - url_split returns views outside its input.
 * Output buffers are malloc'ed with exactly <cap> bytes so that ASan sees
 * any write past <cap>.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
ref_unreserved(unsigned c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static int
ref_hex(unsigned c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* One segment, byte by byte; returns the length or -1. */
static int
ref_segment(const unsigned char *p, size_t n, char *out)
{
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		unsigned c = p[i];

		if (c == '%') {
			if (i + 2 >= n)
				return -1;
			hi = ref_hex(p[i + 1]);
			lo = ref_hex(p[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (unsigned)(hi * 16 + lo);
			i += 2;
			if (ref_unreserved(c))
				out[o++] = (char)c;
			else {
				out[o++] = '%';
				out[o++] = "0123456789ABCDEF"[c >> 4];
				out[o++] = "0123456789ABCDEF"[c & 15];
			}
		} else if (c < 0x21 || c > 0x7e || c == '\\' || c == '#' ||
		    c == '?' || c == '/')
			return -1;
		else
			out[o++] = (char)c;
	}
	return (int)o;
}

/*
 * Reference path canonicalisation: split on '/', drop empty segments,
 * decode each, then a stack for "." and "..".  Returns the length or -1.
 */
static int
ref_path(const unsigned char *p, size_t n, char *out)
{
	char *seg = NULL;
	size_t *start = NULL, *len = NULL, nseg = 0, i, j, o;
	int r = -1, l, trailing = 0;

	if (n > MAX_PATH_LEN)
		return -1;
	if (n == 0) {
		out[0] = '/';
		return 1;
	}
	if (p[0] != '/')
		return -1;
	seg = malloc(n + 1);
	start = malloc((n + 1) * sizeof(*start));
	len = malloc((n + 1) * sizeof(*len));
	if (seg == NULL || start == NULL || len == NULL)
		abort();
	o = 0;
	for (i = 1; i <= n; i = j + 1) {
		for (j = i; j < n && p[j] != '/'; j++)
			;
		l = ref_segment(p + i, j - i, seg + o);
		if (l == -1)
			goto out;
		trailing = 0;
		if (l == 0 || (l == 1 && seg[o] == '.'))
			trailing = 1;
		else if (l == 2 && seg[o] == '.' && seg[o + 1] == '.') {
			if (nseg > 0)
				nseg--;
			trailing = 1;
		} else {
			start[nseg] = o;
			len[nseg++] = (size_t)l;
			o += (size_t)l;
		}
	}
	o = 0;
	out[o++] = '/';
	for (i = 0; i < nseg; i++) {
		memcpy(out + o, seg + start[i], len[i]);
		o += len[i];
		if (i + 1 < nseg || trailing)
			out[o++] = '/';
	}
	r = (int)o;
 out:
	free(seg);
	free(start);
	free(len);
	return r;
}

static void
check_path(const uint8_t *data, size_t size)
{
	size_t cap = MAX_PATH_LEN;
	char *out = malloc(cap), *out2 = malloc(cap), *ref = malloc(size + 2);
	int r, r2, rr;

	if (out == NULL || out2 == NULL || ref == NULL)
		abort();
	r = url_path_canon(view_make((const char *)data, size), out, cap);
	rr = ref_path(data, size, ref);
	if (r != rr || (r > 0 && memcmp(out, ref, (size_t)r) != 0))
		abort();
	if (r != -1) {
		if (r < 1 || (size_t)r > cap || r > MAX_PATH_LEN ||
		    out[0] != '/')
			abort();
		r2 = url_path_canon(view_make(out, (size_t)r), out2, cap);
		if (r2 != r || memcmp(out, out2, (size_t)r) != 0)
			abort();
	}
	/* A small capacity fails cleanly or gives the same answer. */
	if (size > 0) {
		size_t small = size / 2 + 1;
		char *s = malloc(small);

		if (s == NULL)
			abort();
		r2 = url_path_canon(view_make((const char *)data, size), s,
		    small);
		if (r2 != -1 && (r2 != r || memcmp(s, out, (size_t)r) != 0))
			abort();
		free(s);
	}
	free(ref);
	free(out2);
	free(out);
}

static void
check_host(const char *p, size_t n)
{
	size_t cap = MAX_HOST_LEN + 3;
	char *out = malloc(cap), *out2 = malloc(cap);
	uint16_t port = 1, port2 = 1;
	enum host_kind kind, kind2;
	int r, r2;

	if (out == NULL || out2 == NULL)
		abort();
	r = url_host_canon(view_make(p, n), out, cap, &port, &kind);
	if (r != -1) {
		if (r < 1 || r > MAX_HOST_LEN)
			abort();
		r2 = url_host_canon(view_make(out, (size_t)r), out2, cap,
		    &port2, &kind2);
		if (r2 != r || memcmp(out, out2, (size_t)r) != 0 ||
		    port2 != 0 || kind2 != kind)
			abort();
	}
	free(out2);
	free(out);
}

static void
check_segment(const uint8_t *data, size_t size)
{
	size_t cap = size + 1;
	char *out = malloc(cap), *ref = malloc(3 * size + 1);
	int r, rr;

	if (out == NULL || ref == NULL)
		abort();
	r = url_segment_canon(view_make((const char *)data, size), out, cap);
	rr = ref_segment(data, size, ref);
	if (r != rr || (r > 0 && memcmp(out, ref, (size_t)r) != 0))
		abort();
	free(ref);
	free(out);
}

static int
inside(struct view v, const uint8_t *data, size_t size)
{
	return v.n == 0 || ((const uint8_t *)v.p >= data &&
	    (const uint8_t *)v.p + v.n <= data + size);
}

static void
check_split(const uint8_t *data, size_t size)
{
	struct url_parts u;
	char *out;

	if (url_split(view_make((const char *)data, size), &u) == -1)
		return;
	if (u.authority.n == 0 || !inside(u.authority, data, size) ||
	    !inside(u.path, data, size) || !inside(u.query, data, size) ||
	    !(view_eq_cstr(u.scheme, "http") ||
	    view_eq_cstr(u.scheme, "https")))
		abort();
	if (u.path.n > 0 && u.path.p[0] != '/')
		abort();
	check_host(u.authority.p, u.authority.n);
	out = malloc(MAX_PATH_LEN);
	if (out == NULL)
		abort();
	if (url_path_canon(u.path, out, MAX_PATH_LEN) > MAX_PATH_LEN)
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_path(data, size);
	check_segment(data, size);
	check_host((const char *)data, size);
	check_split(data, size);
	return 0;
}
