/*
 * Request canonicalisation: hosts, paths, path segments and absolute URLs.
 * The byte-level scanning is done by the re2c scanners of grammar/host.re
 * and grammar/path.re (runtime/url_lex.h); this file checks the token
 * sequence, the limits of runtime/limits.h and the dot segments.  Nothing
 * here allocates, and no function reads outside its input view or writes
 * outside [out, out + cap).
 */
#include <stdint.h>
#include <string.h>

#include "runtime.h"
#include "url_lex.h"

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/*
 * Parses the port token ":" [0-9]* starting at <p> (length <n>, colon
 * included).  An empty port is no port.  Returns 0 and sets *port, or -1.
 */
static int
parse_port(const char *p, size_t n, uint16_t *port)
{
	uint32_t v = 0;
	size_t i;

	if (n == 1) {
		*port = 0;
		return 0;
	}
	if (n - 1 > 5)
		return -1;
	for (i = 1; i < n; i++)
		v = v * 10 + (uint32_t)(p[i] - '0');
	if (v == 0 || v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

/*
 * Grammar checked over the tokens of host_lex_token():
 *   authority = ( IPV6 | LABEL *( DOT LABEL ) [ DOT ] ) [ PORT ] END
 */
int
url_host_canon(struct view in, char *out, size_t cap, uint16_t *port,
    enum host_kind *kind)
{
	const char *cur, *lim, *tok;
	enum host_tok t;
	size_t n = 0, len, i;
	uint16_t pnum = 0;

	*port = 0;
	*kind = HOST_NAME;
	if (in.n == 0)
		return -1;
	cur = tok = in.p;
	lim = in.p + in.n;
	t = host_lex_token(&cur, lim);
	if (t == HOST_TOK_IPV6) {
		len = (size_t)(cur - tok);
		if (len > cap)
			return -1;
		for (i = 0; i < len; i++)
			out[i] = lower(tok[i]);
		n = len;
		*kind = HOST_IPV6;
		tok = cur;
		t = host_lex_token(&cur, lim);
	} else {
		for (;;) {
			if (t != HOST_TOK_LABEL)
				return -1;
			len = (size_t)(cur - tok);
			if (len > MAX_LABEL_LEN)
				return -1;
			/* The separating dot, then the label. */
			if (n + (n > 0) + len > MAX_HOST_LEN ||
			    n + (n > 0) + len > cap)
				return -1;
			if (n > 0)
				out[n++] = '.';
			for (i = 0; i < len; i++)
				out[n++] = lower(tok[i]);
			tok = cur;
			t = host_lex_token(&cur, lim);
			if (t != HOST_TOK_DOT)
				break;
			/* A dot: another label follows, or this was the last. */
			tok = cur;
			t = host_lex_token(&cur, lim);
			if (t != HOST_TOK_LABEL)
				break;
		}
	}
	if (t == HOST_TOK_PORT) {
		if (parse_port(tok, (size_t)(cur - tok), &pnum) == -1)
			return -1;
		tok = cur;
		t = host_lex_token(&cur, lim);
	}
	if (t != HOST_TOK_END)
		return -1;
	*port = pnum;
	return (int)n;
}

int
url_segment_canon(struct view in, char *out, size_t cap)
{
	const char *cur, *lim;
	int n;

	if (in.n == 0)
		return 0;	/* also when in.p is NULL */
	cur = in.p;
	lim = in.p + in.n;
	n = path_lex_segment(&cur, lim, out, cap);
	if (n == -1 || cur != lim)
		return -1;
	return n;
}

/*
 * RFC 3986 5.2.4 over decoded segments, with repeated slashes merged first.
 * out[0, n) is the output buffer of the RFC's algorithm and always ends
 * with '/' between segments, so "." leaves it alone and ".." cuts it back
 * to the previous '/'.  A raw path longer than MAX_PATH_LEN is refused
 * (runtime/limits.h); since canonicalisation never lengthens a non-empty
 * path, the result is then within MAX_PATH_LEN too.
 */
int
url_path_canon(struct view in, char *out, size_t cap)
{
	const char *cur, *lim;
	size_t n;
	int len;

	if (in.n > MAX_PATH_LEN || cap < 1)
		return -1;
	out[0] = '/';
	if (in.n == 0)
		return 1;	/* also when in.p is NULL */
	if (in.p[0] != '/')
		return -1;
	cur = in.p;
	lim = in.p + in.n;
	n = 1;
	while (cur < lim) {
		while (cur < lim && *cur == '/')
			cur++;
		len = path_lex_segment(&cur, lim, out + n, cap - n);
		if (len == -1)
			return -1;
		if (len == 1 && out[n] == '.') {
			/* "." : nothing; the output still ends with '/'. */
		} else if (len == 2 && out[n] == '.' && out[n + 1] == '.') {
			/* "..": drop the last segment, never the root. */
			if (n > 1) {
				n--;
				while (out[n - 1] != '/')
					n--;
			}
		} else if (len > 0) {
			n += (size_t)len;
			if (cur < lim) {
				/* cur is at a '/': the segment is not the last. */
				if (n >= cap)
					return -1;
				out[n++] = '/';
			}
		}
	}
	if (n > MAX_PATH_LEN)
		return -1;
	return (int)n;
}

static int
is_scheme(struct view s)
{
	return view_case_eq(s, VIEW_LIT("http")) ||
	    view_case_eq(s, VIEW_LIT("https"));
}

int
url_split(struct view in, struct url_parts *u)
{
	struct view rest;
	const char *slash;
	size_t i;

	memset(u, 0, sizeof(*u));
	/* "://" before the first '/' means a scheme; otherwise it is https. */
	slash = in.n > 0 ? memchr(in.p, '/', in.n) : NULL;
	if (slash != NULL && slash > in.p && slash[-1] == ':' &&
	    (size_t)(slash - in.p) + 1 < in.n && slash[1] == '/') {
		struct view s = view_make(in.p, (size_t)(slash - in.p) - 1);

		if (!is_scheme(s))
			return -1;
		u->scheme = s.n == 4 ? VIEW_LIT("http") : VIEW_LIT("https");
		rest = view_make(slash + 2, in.n - s.n - 3);
	} else {
		u->scheme = VIEW_LIT("https");
		rest = in;
	}
	for (i = 0; i < rest.n; i++)
		if (rest.p[i] == '/' || rest.p[i] == '?' || rest.p[i] == '#')
			break;
	if (i == 0)
		return -1;
	u->authority = view_make(rest.p, i);
	rest = view_make(rest.p + i, rest.n - i);
	for (i = 0; i < rest.n; i++)
		if (rest.p[i] == '?' || rest.p[i] == '#')
			break;
	u->path = view_make(rest.p, i);
	rest = view_make(rest.p + i, rest.n - i);
	if (rest.n > 0 && rest.p[0] == '?') {
		u->has_query = 1;
		for (i = 1; i < rest.n; i++)
			if (rest.p[i] == '#')
				break;
		u->query = view_make(rest.p + 1, i - 1);
	}
	return 0;
}
