/*
 * One allowlist rule: parsing (over the re2c lexers of grammar/rule.re),
 * canonical text and coverage.  The grammar is in grammar/README.md
 * ("Rule strings"); the meaning in ../shared/DESIGN.md section 1.
 *
 * The parser reports every error it can find, each at the column of the
 * byte at fault, and keeps going after one where the rest of the rule can
 * still be read sensibly: the next key always starts after the next blank.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../runtime/limits.h"
#include "../runtime/runtime.h"
#include "../runtime/view.h"
#include "arena.h"
#include "diag.h"
#include "rule.h"
#include "rule_lex.h"
#include "suggest.h"

/* Longest piece of the user's text quoted in one message. */
#define SHOW_MAX 40

struct parser {
	struct arena *a;
	struct diag *d;
	struct rule *r;		/* for positions */
	unsigned nerr;
};

/* What one method= value said. */
struct methods {
	int any;
	uint32_t n;
	struct view *v;
};

/* What one path= value said. */
struct paths {
	uint32_t n;
	struct pattern *p;
};

/* One label of a domain, in written order, before reversal. */
struct label {
	int star;
	const char *p;
	size_t n;
};

static const char *const key_names[] = { "method", "domain", "path" };

static void perr(struct parser *, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void pwarn(struct parser *, enum diag_warning, const char *at,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void pnote(struct parser *, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct srcpos
rule_pos(const struct rule *r, size_t off)
{
	struct srcpos pos;
	size_t i;

	pos.src = r->loc.src;
	pos.line = r->loc.line;
	pos.col = r->loc.col;
	if (!r->loc.exact || pos.line == 0)
		return pos;
	if (off > r->text.n)
		off = r->text.n;
	/* a rule given on the command line may span lines (blank = '\n') */
	for (i = 0; i < off; i++) {
		if (r->text.p[i] == '\n') {
			pos.line++;
			pos.col = 1;
		} else
			pos.col++;
	}
	return pos;
}

static void
perr(struct parser *ps, const char *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_error(ps->d, rule_pos(ps->r, (size_t)(at - ps->r->text.p)), "%s",
	    msg);
	ps->nerr++;
}

static void
pwarn(struct parser *ps, enum diag_warning w, const char *at,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_warn(ps->d, w, rule_pos(ps->r, (size_t)(at - ps->r->text.p)),
	    "%s", msg);
}

static void
pnote(struct parser *ps, const char *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_note(ps->d, rule_pos(ps->r, (size_t)(at - ps->r->text.p)), "%s",
	    msg);
}

/*
 * Renders <n> bytes at <p> for a message into <buf>: printable ASCII as
 * is, anything else as \xNN, at most SHOW_MAX bytes then "...".  Returns
 * <buf>.
 */
static const char *
show(char *buf, size_t cap, const char *p, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && i < SHOW_MAX && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f)
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02X", c);
	}
	if (i < n && o + 4 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/*
 * Names a bad character for a message: "character '_'", "character 'é'"
 * (a whole UTF-8 character, as lexed) or "byte 0x01".
 */
static const char *
bad_char(char *buf, size_t cap, const char *p, size_t n)
{
	unsigned char c = (unsigned char)p[0];

	if (n == 1 && c >= 0x20 && c < 0x7f)
		snprintf(buf, cap, "character '%c'", c);
	else if (n > 1)
		snprintf(buf, cap, "character '%.*s'", (int)n, p);
	else
		snprintf(buf, cap, "byte 0x%02X", c);
	return buf;
}

static int
is_upper(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] < 'A' || p[i] > 'Z')
			return 0;
	return n > 0;
}

/* ---- method= ----------------------------------------------------------- */

static void
add_method(struct parser *ps, struct methods *m, size_t *cap, struct view v)
{
	uint32_t i;

	for (i = 0; i < m->n; i++) {
		if (view_eq(m->v[i], v)) {
			pwarn(ps, W_CONFIG, v.p, "method '%.*s' is listed twice",
			    (int)v.n, v.p);
			pnote(ps, m->v[i].p, "first listed here");
			return;
		}
	}
	if (m->n == *cap)
		m->v = arena_grow(ps->a, m->v, m->n, cap, sizeof(*m->v));
	m->v[m->n++] = v;
}

/*
 * method=LIST: comma-separated RFC 7230 tokens, '*' for any method.
 * Methods are kept as written (views into the rule text).
 */
static void
parse_methods(struct parser *ps, const char *p, const char *lim,
    struct methods *out)
{
	const char *e, *last_comma = NULL;
	struct view cur = { NULL, 0 };
	enum rule_tok t;
	int state = 0;		/* 0: nothing yet, 1: a token, 2: bad */
	int any = 0;
	size_t cap = 0;
	char buf[SHOW_MAX * 4 + 8];

	out->any = 1;
	out->n = 0;
	out->v = NULL;
	if (p == lim) {
		perr(ps, p, "empty method list; write 'method=*' for any "
		    "method");
		return;
	}
	for (;; p = e) {
		t = rule_lex_method(p, lim, &e);
		switch (t) {
		case RT_TOKEN:
			if (state == 0) {
				cur = view_make(p, (size_t)(e - p));
				state = 1;
			}
			break;
		case RT_COMMA:
		case RT_END:
			if (state == 0) {
				if (t == RT_END)
					perr(ps, last_comma != NULL ? last_comma : p,
					    "trailing ',' in method list");
				else
					perr(ps, p, "empty method in list");
			} else if (state == 1) {
				if (cur.n > MAX_METHOD_LEN)
					perr(ps, cur.p, "method '%s' is longer "
					    "than %d bytes", show(buf, sizeof(buf),
					    cur.p, cur.n), MAX_METHOD_LEN);
				else if (view_eq_cstr(cur, "*"))
					any = 1;
				else
					add_method(ps, out, &cap, cur);
			}
			if (t == RT_END)
				goto done;
			last_comma = p;
			state = 0;
			break;
		default:	/* RT_BAD */
			perr(ps, p, "%s is not allowed in a method (an HTTP "
			    "token)", bad_char(buf, sizeof(buf), p,
			    (size_t)(e - p)));
			state = 2;
			break;
		}
	}
 done:
	if (any || out->n == 0) {
		out->any = 1;
		out->n = 0;
		out->v = NULL;
	} else
		out->any = 0;
}

/* ---- domain= ----------------------------------------------------------- */

/* Checks one label's length and dashes; 0 or -1 (reported). */
static int
check_label(struct parser *ps, const char *p, size_t n)
{
	char buf[SHOW_MAX * 4 + 8];
	int rc = 0;

	if (n > MAX_LABEL_LEN) {
		perr(ps, p, "label '%s' is longer than %d bytes",
		    show(buf, sizeof(buf), p, n), MAX_LABEL_LEN);
		return -1;
	}
	if (p[0] == '-') {
		perr(ps, p, "label '%s' may not start with '-'",
		    show(buf, sizeof(buf), p, n));
		rc = -1;
	}
	if (p[n - 1] == '-') {
		perr(ps, p + n - 1, "label '%s' may not end with '-'",
		    show(buf, sizeof(buf), p, n));
		rc = -1;
	}
	return rc;
}

/*
 * domain=HOST: labels of [A-Za-z0-9-] or '*', stored lowercased and
 * reversed.  On success *out is the pattern; on error it is left alone.
 */
static void
parse_host(struct parser *ps, const char *p, const char *lim,
    struct pattern *out)
{
	struct label lab[MAX_PATTERN_ELEMS];
	const char *e, *start = p, *last_dot = NULL;
	unsigned err0 = ps->nerr;
	enum rule_tok t;
	uint32_t n = 0, i;
	int state = 0;		/* 0: want a label, 1: after one, 2: bad one */
	int overflow = 0;
	char buf[SHOW_MAX * 4 + 8];

	if (p == lim) {
		perr(ps, p, "empty domain; write 'domain=*' for every host");
		return;
	}
	if (*p == '[') {
		perr(ps, p, "character '[' is not allowed in a domain: IPv6 "
		    "literals cannot be written in a rule; only 'domain=*' "
		    "matches them");
		return;
	}
	for (;; p = e) {
		t = rule_lex_host(p, lim, &e);
		switch (t) {
		case RT_LABEL:
		case RT_STAR:
			if (state == 1) {
				/* "git*" or "*github": lexed as two tokens */
				perr(ps, t == RT_STAR ? p : p - 1, "'*' must be "
				    "a whole label, as in '*.example.com'");
				state = 2;
				break;
			}
			if (state == 2)
				break;
			state = 1;
			if (t == RT_LABEL &&
			    check_label(ps, p, (size_t)(e - p)) == -1)
				state = 2;
			if (n == MAX_PATTERN_ELEMS) {
				if (!overflow)
					perr(ps, p, "domain has more than %d "
					    "labels", MAX_PATTERN_ELEMS);
				overflow = 1;
				break;
			}
			lab[n].star = t == RT_STAR;
			lab[n].p = p;
			lab[n].n = (size_t)(e - p);
			n++;
			break;
		case RT_DOT:
			if (state == 0)
				perr(ps, p, last_dot == NULL ?
				    "domain may not start with '.'" :
				    "empty label ('..') in domain");
			state = 0;
			last_dot = p;
			break;
		case RT_END:
			if (state == 0 && n > 0 && last_dot == p - 1)
				perr(ps, last_dot, "trailing '.' in domain; "
				    "write '%s'", show(buf, sizeof(buf), start,
				    (size_t)(last_dot - start)));
			goto done;
		case RT_COLON:
			perr(ps, p, "ports are not part of domain rules; a "
			    "rule allows every port");
			goto done;
		case RT_SLASH:
			perr(ps, p, "'/' in domain; write the path as its own "
			    "key, as in 'domain=example.com path=/api/*'");
			goto done;
		case RT_COMMA:
			perr(ps, p, "domain takes one host; write one rule per "
			    "host");
			goto done;
		default:	/* RT_BAD */
			perr(ps, p, "%s is not allowed in a domain%s",
			    bad_char(buf, sizeof(buf), p, (size_t)(e - p)),
			    (unsigned char)*p >= 0x80 ? " (write "
			    "internationalised names in punycode, 'xn--...')" :
			    "");
			state = 2;
			break;
		}
	}
 done:
	if (ps->nerr != err0)
		return;
	if ((size_t)(lim - start) > MAX_HOST_LEN) {
		perr(ps, start, "domain is longer than %d bytes", MAX_HOST_LEN);
		return;
	}
	if (n > 1 && lab[n - 1].star) {
		perr(ps, lab[n - 1].p, "host pattern may not end with '*'; a "
		    "leading '*' matches subdomains, as in '*.example.com'");
		return;
	}
	out->n = n;
	out->e = arena_alloc(ps->a, n * sizeof(*out->e));
	for (i = 0; i < n; i++) {
		const struct label *l = &lab[n - 1 - i];
		struct pat_elem *pe = &out->e[i];
		size_t k;

		if (l->star) {
			pe->kind = n - 1 - i == 0 ? PAT_MANY : PAT_ONE;
			pe->s = view_make(NULL, 0);
			continue;
		}
		pe->kind = PAT_LIT;
		pe->s = view_make(l->p, l->n);
		for (k = 0; k < l->n; k++)
			if (l->p[k] >= 'A' && l->p[k] <= 'Z')
				break;
		if (k < l->n) {
			char *s = arena_alloc(ps->a, l->n);
			for (k = 0; k < l->n; k++)
				s[k] = l->p[k] >= 'A' && l->p[k] <= 'Z' ?
				    (char)(l->p[k] + ('a' - 'A')) : l->p[k];
			pe->s = view_make(s, l->n);
		}
	}
}

/* ---- path= ------------------------------------------------------------- */

static int
pattern_eq(const struct pattern *a, const struct pattern *b)
{
	uint32_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++) {
		if (a->e[i].kind != b->e[i].kind)
			return 0;
		if (a->e[i].kind == PAT_LIT && !view_eq(a->e[i].s, b->e[i].s))
			return 0;
	}
	return 1;
}

/*
 * Canonicalises the literal segment <p, n> (url_segment_canon, as requests
 * are) into *out.  0, or -1 (reported).
 */
static int
literal_segment(struct parser *ps, const char *p, size_t n,
    struct view *out)
{
	char buf[SHOW_MAX * 4 + 8];
	char *s;
	int k;

	s = arena_alloc(ps->a, n + 1);
	k = url_segment_canon(view_make(p, n), s, n + 1);
	if (k < 0) {
		perr(ps, p, "invalid path segment '%s'",
		    show(buf, sizeof(buf), p, n));
		return -1;
	}
	if ((k == 1 && s[0] == '.') || (k == 2 && s[0] == '.' &&
	    s[1] == '.')) {
		perr(ps, p, "'%s' is a dot segment; requests are normalised "
		    "before matching, so it would never match",
		    show(buf, sizeof(buf), p, n));
		return -1;
	}
	if ((size_t)k > MAX_SEGMENT_LEN) {
		perr(ps, p, "path segment is longer than %d bytes",
		    MAX_SEGMENT_LEN);
		return -1;
	}
	if ((size_t)k == n && memcmp(s, p, n) == 0)
		*out = view_make(p, n);	/* already canonical */
	else
		*out = view_make(s, (size_t)k);
	return 0;
}

/* Warns about "method=" etc. inside a path segment: a missing blank? */
static void
key_in_segment(struct parser *ps, const char *p, const char *e)
{
	const char *k, *eq;
	int at_key;

	k = rule_lex_value(p, e, 1, &at_key);
	if (!at_key)
		return;
	eq = memchr(k, '=', (size_t)(e - k));
	pwarn(ps, W_CONFIG, k, "'%.*s' inside a path; put a blank before it "
	    "if it starts a new key", (int)(eq - k + 1), k);
}

/*
 * One pattern of a path= list, from <p> to the ',' or end that closes it
 * (returned in *term, with the token kind as the return value).  A valid
 * pattern is stored in *out; *out->e is NULL otherwise, as it is for an
 * empty pattern, reported by the caller (who knows its neighbours).
 */
static enum rule_tok
parse_pattern(struct parser *ps, const char *p, const char *lim,
    const char **term, const char **next, struct pattern *out)
{
	struct pat_elem el[MAX_PATTERN_ELEMS];
	const char *e, *pstart = p;
	enum rule_tok t;
	uint32_t n = 0;
	int bad = 0, overflow = 0, after_slash = 0;
	char buf[SHOW_MAX * 4 + 8];

	out->n = 0;
	out->e = NULL;
	if (rule_lex_path(p, lim, &e) == RT_SLASH) {
		after_slash = 1;	/* the leading '/' is optional */
		p = e;
	}
	for (;;) {
		const char *seg = p, *star = NULL;
		int nstar = 0, text = 0, segbad = 0;
		struct pat_elem pe;

		for (;; p = e) {
			t = rule_lex_path(p, lim, &e);
			if (t == RT_SEGTEXT) {
				text = 1;
				key_in_segment(ps, p, e);
			} else if (t == RT_STAR) {
				if (star == NULL)
					star = p;
				nstar++;
			} else if (t == RT_BAD) {
				perr(ps, p, "%s is not allowed in a path; "
				    "percent-encode it", bad_char(buf,
				    sizeof(buf), p, (size_t)(e - p)));
				segbad = 1;
			} else if (t == RT_BADPCT) {
				perr(ps, p, "'%%' must be followed by two hex "
				    "digits; write '%%25' for a '%%' itself");
				segbad = 1;
			} else
				break;
		}
		pe.kind = PAT_LIT;
		pe.s = view_make(NULL, 0);
		if (segbad)
			bad = 1;
		else if (star != NULL && (text || nstar > 1)) {
			perr(ps, star, "'*' must be a whole path segment, as "
			    "in '/api/*'");
			bad = 1;
		} else if (star != NULL)
			pe.kind = PAT_ONE;
		else if (seg == p) {
			if (t == RT_SLASH) {
				perr(ps, p, "empty path segment ('//'); "
				    "requests have repeated slashes merged, so "
				    "it would never match");
				bad = 1;
			} else if (!after_slash && (t == RT_COMMA ||
			    t == RT_END)) {
				/* an empty pattern: no element at all */
				*term = p;
				*next = e;
				return t;
			} else if (!after_slash)
				bad = 1;	/* "?x": reported below */
			else
				pe.s = view_make(seg, 0);	/* trailing '/' */
		} else if (literal_segment(ps, seg, (size_t)(p - seg),
		    &pe.s) == -1)
			bad = 1;

		if (n == MAX_PATTERN_ELEMS) {
			if (!overflow)
				perr(ps, pstart, "path pattern has more than %d "
				    "segments", MAX_PATTERN_ELEMS);
			overflow = bad = 1;
		} else
			el[n++] = pe;

		if (t != RT_SLASH)
			break;
		after_slash = 1;
		p = e;
	}
	if (t == RT_QUERY || t == RT_FRAGMENT) {
		perr(ps, p, t == RT_QUERY ? "the query string is never "
		    "matched; remove it" : "a fragment ('#') is never sent "
		    "to the server; remove it");
		bad = 1;
		while (t != RT_COMMA && t != RT_END) {
			p = e;
			t = rule_lex_path(p, lim, &e);
		}
	}
	*term = p;
	*next = e;
	if (bad) {
		/* not empty, but not valid either: mark it so */
		out->n = 1;
		return t;
	}
	if (el[n - 1].kind == PAT_ONE)
		el[n - 1].kind = PAT_MANY;
	out->n = n;
	out->e = arena_alloc(ps->a, n * sizeof(*out->e));
	memcpy(out->e, el, n * sizeof(*out->e));
	return t;
}

/* Output of canonical text: measures when p is NULL. */
struct obuf {
	char *p;
	size_t n, cap;
};

static void
put(struct obuf *b, const char *s, size_t n)
{
	if (b->p != NULL && b->n + n <= b->cap)
		memcpy(b->p + b->n, s, n);
	b->n += n;
}

/* The canonical text of a path pattern: "/a/b", "/", "/api/" + "*". */
static void
put_path(struct obuf *b, const struct pattern *pat)
{
	uint32_t i;

	for (i = 0; i < pat->n; i++) {
		put(b, "/", 1);
		if (pat->e[i].kind == PAT_LIT)
			put(b, pat->e[i].s.p, pat->e[i].s.n);
		else
			put(b, "*", 1);
	}
}

/* path=LIST: comma-separated patterns. */
static void
parse_paths(struct parser *ps, const char *p, const char *lim,
    struct paths *out)
{
	const char *term, *next, *pstart;
	struct pattern pat;
	enum rule_tok t;
	size_t cap = 0;
	uint32_t i;
	int too_many = 0;
	char buf[SHOW_MAX * 4 + 8];

	out->n = 0;
	out->p = NULL;
	if (p == lim) {
		perr(ps, p, "empty path list; write 'path=/*' for every path "
		    "or 'path=/' for the root");
		return;
	}
	for (;; p = next) {
		pstart = p;
		t = parse_pattern(ps, p, lim, &term, &next, &pat);
		if (pat.n == 0) {
			if (t == RT_END)
				perr(ps, p - 1, "trailing ',' in path list");
			else
				perr(ps, term, "empty path pattern in list");
		} else if (pat.e != NULL) {
			for (i = 0; i < out->n; i++)
				if (pattern_eq(&out->p[i], &pat))
					break;
			if (i < out->n) {
				struct obuf b = { buf, 0, sizeof(buf) - 1 };
				put_path(&b, &pat);
				buf[b.n < b.cap ? b.n : b.cap] = '\0';
				pwarn(ps, W_CONFIG, pstart, "path pattern '%s' is "
				    "listed twice", buf);
			} else if (out->n == MAX_PATHS_PER_RULE) {
				if (!too_many)
					perr(ps, pstart, "more than %d path "
					    "patterns in one rule",
					    MAX_PATHS_PER_RULE);
				too_many = 1;
			} else {
				if (out->n == cap)
					out->p = arena_grow(ps->a, out->p,
					    out->n, &cap, sizeof(*out->p));
				out->p[out->n++] = pat;
			}
		}
		if (t == RT_END)
			break;
	}
}

/* ---- the rule ---------------------------------------------------------- */

static struct pattern
many_pattern(struct arena *a)
{
	struct pattern p;

	p.n = 1;
	p.e = arena_alloc(a, sizeof(*p.e));
	p.e[0].kind = PAT_MANY;
	p.e[0].s = view_make(NULL, 0);
	return p;
}

/* A word where a key should be: say what it looks like it wanted. */
static void
stray_word(struct parser *ps, const char *p, const char *e)
{
	size_t n = (size_t)(e - p), i;
	char buf[SHOW_MAX * 4 + 8];
	const char *hint = NULL;
	int dot = 0, hostish = 1;

	for (i = 0; i < sizeof(key_names) / sizeof(key_names[0]); i++) {
		if (n == strlen(key_names[i]) &&
		    memcmp(p, key_names[i], n) == 0) {
			perr(ps, e, "missing '=' after '%s'", key_names[i]);
			return;
		}
	}
	for (i = 0; i < n; i++) {
		char c = p[i];
		if (c == '.')
			dot = 1;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '*'))
			hostish = 0;
	}
	if (p[0] == '/')
		hint = "path";
	else if (dot && hostish)
		hint = "domain";
	else if (is_upper(p, n))
		hint = "method";
	show(buf, sizeof(buf), p, n);
	if (hint != NULL)
		perr(ps, p, "expected key=value, found '%s'; did you mean "
		    "'%s=%s'?", buf, hint, buf);
	else
		perr(ps, p, "expected key=value, found '%s'; keys are method, "
		    "domain and path", buf);
}

int
rule_parse(struct arena *a, struct diag *d, struct rule *r)
{
	struct parser ps;
	const char *p, *lim, *e, *ve;
	const char *first[3] = { NULL, NULL, NULL };
	char buf[SHOW_MAX * 4 + 8];
	enum rule_tok t;
	int at_key, k;

	ps.a = a;
	ps.d = d;
	ps.r = r;
	ps.nerr = 0;
	r->keys = 0;
	r->any_method = 1;
	r->nmethods = 0;
	r->methods = NULL;
	r->host = many_pattern(a);
	r->npaths = 1;
	r->paths = arena_alloc(a, sizeof(*r->paths));
	r->paths[0] = many_pattern(a);

	p = r->text.p;
	lim = p + r->text.n;
	if (r->text.n > MAX_RULE_LEN) {
		perr(&ps, p, "rule is longer than %d bytes", MAX_RULE_LEN);
		return -1;
	}
	for (;;) {
		t = rule_lex_top(p, lim, &e);
		switch (t) {
		case RT_END:
			goto done;
		case RT_BLANKS:
			p = e;
			continue;
		case RT_KEY_METHOD:
		case RT_KEY_DOMAIN:
		case RT_KEY_PATH:
			break;
		case RT_BADKEY:
			if (e - p == 1)
				perr(&ps, p, "missing key before '='; keys are "
				    "method, domain and path");
			else {
				const char *near = suggest_word(p,
				    (size_t)(e - p - 1), key_names, 3);
				show(buf, sizeof(buf), p, (size_t)(e - p - 1));
				if (near != NULL)
					perr(&ps, p, "unknown key '%s' in rule; "
					    "did you mean '%s'?", buf, near);
				else
					perr(&ps, p, "unknown key '%s' in rule; "
					    "keys are method, domain and path",
					    buf);
			}
			p = rule_lex_value(e, lim, 1, &at_key);
			continue;
		case RT_WORD:
			stray_word(&ps, p, e);
			p = e;
			continue;
		default:	/* not produced by rule_lex_top */
			perr(&ps, p, "unexpected %s", bad_char(buf,
			    sizeof(buf), p, (size_t)(e - p)));
			p = e;
			continue;
		}

		k = t == RT_KEY_METHOD ? 0 : t == RT_KEY_DOMAIN ? 1 : 2;
		/*
		 * '=' may occur in a path segment, so only method and
		 * domain values stop at a following key with no blank.
		 */
		ve = rule_lex_value(e, lim, k != 2, &at_key);
		if (first[k] != NULL) {
			perr(&ps, p, "repeated key '%s'; give each key once "
			    "(%s)", key_names[k], k == 1 ? "write one rule "
			    "per host" : "list values with ','");
			pnote(&ps, first[k], "'%s' first given here",
			    key_names[k]);
		}
		if (k == 0) {
			struct methods m;
			parse_methods(&ps, e, ve, &m);
			if (first[k] == NULL) {
				r->any_method = m.any;
				r->nmethods = m.n;
				r->methods = m.v;
			}
		} else if (k == 1) {
			struct pattern h = r->host;
			parse_host(&ps, e, ve, &h);
			if (first[k] == NULL)
				r->host = h;
		} else {
			struct paths pp;
			parse_paths(&ps, e, ve, &pp);
			if (first[k] == NULL && pp.n > 0) {
				r->npaths = pp.n;
				r->paths = pp.p;
			}
		}
		if (first[k] == NULL) {
			first[k] = p;
			r->keys |= k == 0 ? RK_METHOD : k == 1 ? RK_DOMAIN :
			    RK_PATH;
		}
		if (at_key && ve > e) {
			const char *eq = memchr(ve, '=', (size_t)(lim - ve));
			perr(&ps, ve, "missing blank before '%.*s'",
			    (int)(eq - ve + 1), ve);
		}
		p = ve;
	}
 done:
	if (ps.nerr == 0 && r->keys == 0)
		perr(&ps, r->text.p, "empty rule; write 'domain=*' to allow "
		    "every request");
	return ps.nerr > 0 ? -1 : 0;
}

/* ---- queries ----------------------------------------------------------- */

int
rule_any_host(const struct rule *r)
{
	return r->host.n == 1 && r->host.e[0].kind == PAT_MANY;
}

int
rule_any_path(const struct rule *r)
{
	uint32_t i;

	for (i = 0; i < r->npaths; i++)
		if (r->paths[i].n == 1 && r->paths[i].e[0].kind == PAT_MANY)
			return 1;
	return 0;
}

static void
put_canon(struct obuf *b, const struct rule *r)
{
	uint32_t i;

	if (!r->any_method) {
		put(b, "method=", 7);
		for (i = 0; i < r->nmethods; i++) {
			if (i > 0)
				put(b, ",", 1);
			put(b, r->methods[i].p, r->methods[i].n);
		}
	}
	if (!rule_any_host(r)) {
		if (b->n > 0)
			put(b, " ", 1);
		put(b, "domain=", 7);
		for (i = r->host.n; i-- > 0;) {
			const struct pat_elem *pe = &r->host.e[i];
			if (pe->kind == PAT_LIT)
				put(b, pe->s.p, pe->s.n);
			else
				put(b, "*", 1);
			if (i > 0)
				put(b, ".", 1);
		}
	}
	if (!rule_any_path(r)) {
		if (b->n > 0)
			put(b, " ", 1);
		put(b, "path=", 5);
		for (i = 0; i < r->npaths; i++) {
			if (i > 0)
				put(b, ",", 1);
			put_path(b, &r->paths[i]);
		}
	}
	if (b->n == 0)
		put(b, "domain=*", 8);
}

struct view
rule_canon(struct arena *a, const struct rule *r)
{
	struct obuf b = { NULL, 0, 0 };

	put_canon(&b, r);	/* measure */
	b.cap = b.n;
	b.p = arena_alloc(a, b.cap + 1);
	b.n = 0;
	put_canon(&b, r);
	b.p[b.n] = '\0';
	return view_make(b.p, b.n);
}

/* 1 if element <x> matches every label/segment <y> matches (no MANY). */
static int
elem_covers(const struct pat_elem *x, const struct pat_elem *y)
{
	if (x->kind == PAT_ONE)
		return y->kind != PAT_MANY;
	if (x->kind == PAT_LIT)
		return y->kind == PAT_LIT && view_eq(x->s, y->s);
	return 0;
}

int
pattern_covers(const struct pattern *a, const struct pattern *b)
{
	uint32_t i, k;

	if (a->n == 0 || b->n == 0)
		return a->n == b->n;
	if (a->e[a->n - 1].kind == PAT_MANY) {
		/* a = a[0..k) then one or more of anything */
		k = a->n - 1;
		if (b->n < k + 1)
			return 0;	/* b matches something shorter */
		for (i = 0; i < k; i++)
			if (!elem_covers(&a->e[i], &b->e[i]))
				return 0;
		return 1;
	}
	if (b->e[b->n - 1].kind == PAT_MANY || a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (!elem_covers(&a->e[i], &b->e[i]))
			return 0;
	return 1;
}

int
rule_covers(const struct rule *a, const struct rule *b)
{
	uint32_t i, j;

	if (!a->any_method) {
		if (b->any_method)
			return 0;
		for (i = 0; i < b->nmethods; i++) {
			for (j = 0; j < a->nmethods; j++)
				if (view_eq(a->methods[j], b->methods[i]))
					break;
			if (j == a->nmethods)
				return 0;
		}
	}
	if (!pattern_covers(&a->host, &b->host))
		return 0;
	for (i = 0; i < b->npaths; i++) {
		for (j = 0; j < a->npaths; j++)
			if (pattern_covers(&a->paths[j], &b->paths[i]))
				break;
		if (j == a->npaths)
			return 0;
	}
	return 1;
}
