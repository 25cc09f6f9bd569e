/*
 * Tests of compiler/rule.c: every rule form, every error message with its
 * exact column, canonical text, coverage.  Diagnostics are captured with
 * open_memstream and compared whole.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/rule.c"
#include "tests/tap.h"

void test_compiler__rule_c(void);

/* A parsed rule with the diagnostics it produced. */
struct parsed {
	struct src src;
	struct rule r;
	struct diag d;
	char *out;		/* diagnostics text (malloc) */
	size_t outlen;
	int rc;
};

static struct arena arena;

/* Parses <text> (the first <len> bytes, against a guard page) as --allow[1]. */
static void
parse_n(struct parsed *p, const char *text, size_t len)
{
	FILE *f;
	char *copy;

	/*
	 * Once against a guard page, so that an over-read faults even
	 * without ASan, then again from a copy that outlives the guard
	 * buffer, since the rule keeps views of its text.
	 */
	memset(p, 0, sizeof(*p));
	p->d.out = fopen("/dev/null", "w");
	p->src.name = "--allow[1]";
	p->src.text = guard_copy(text, len);
	p->src.len = len;
	p->r.text = view_make(p->src.text, len);
	p->r.loc.src = &p->src;
	p->r.loc.exact = 1;
	(void)!rule_parse(&arena, &p->d, &p->r);
	fclose(p->d.out);

	copy = arena_alloc(&arena, len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	memset(p, 0, sizeof(*p));
	f = open_memstream(&p->out, &p->outlen);
	p->d.out = f;
	p->src.name = "--allow[1]";
	p->src.text = copy;
	p->src.len = len;
	p->r.text = view_make(copy, len);
	p->r.loc.src = &p->src;
	p->r.loc.line = 1;
	p->r.loc.col = 1;
	p->r.loc.exact = 1;
	p->rc = rule_parse(&arena, &p->d, &p->r);
	fclose(f);
}

static void
parse(struct parsed *p, const char *text)
{
	parse_n(p, text, strlen(text));
}

static void
done(struct parsed *p)
{
	free(p->out);
	p->out = NULL;
}

/* The first line of the diagnostics, without the "--allow[1]:" prefix. */
static const char *
first_line(const struct parsed *p, char *buf, size_t cap)
{
	const char *s = p->out, *nl;
	size_t n;

	if (strncmp(s, "--allow[1]:", 11) == 0)
		s += 11;
	nl = strchr(s, '\n');
	n = nl ? (size_t)(nl - s) : strlen(s);
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return buf;
}

/* <text> fit for a TAP test name: one line, at most SHOW_MAX bytes. */
static const char *
name(const char *text)
{
	static char buf[SHOW_MAX * 4 + 8];

	return show(buf, sizeof(buf), text, strlen(text));
}

/* Checks that <text> fails with exactly one error, <want> ("1:COL: ..."). */
static void
check_error(const char *text, const char *want)
{
	struct parsed p;
	char buf[1024];

	parse(&p, text);
	is_int(p.rc, -1, "rejects '%s'", name(text));
	is_int(p.d.nerrors, 1, "one error for '%s'", name(text));
	is_str(first_line(&p, buf, sizeof(buf)), want, "message for '%s'",
	    name(text));
	done(&p);
}

/* Checks that <text> parses cleanly and has canonical text <canon>. */
static void
check_ok(const char *text, const char *canon)
{
	struct parsed p;
	struct view c;
	char buf[1024];

	parse(&p, text);
	is_int(p.rc, 0, "accepts '%s'", name(text));
	is_str(p.out, "", "no diagnostics for '%s'", name(text));
	if (p.rc == 0) {
		c = rule_canon(&arena, &p.r);
		snprintf(buf, sizeof(buf), "%.*s", (int)c.n, c.p);
		is_str(buf, canon, "canon of '%s'", name(text));
	}
	done(&p);
}

/* Renders a pattern as "LIT(com) LIT(github) MANY" for comparisons. */
static const char *
pat_str(const struct pattern *pat, char *buf, size_t cap)
{
	size_t o = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < pat->n && o < cap; i++) {
		const struct pat_elem *e = &pat->e[i];
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? " " : "",
		    e->kind == PAT_ONE ? "ONE" : e->kind == PAT_MANY ? "MANY" :
		    "LIT(");
		if (e->kind == PAT_LIT && o < cap)
			o += (size_t)snprintf(buf + o, cap - o, "%.*s)",
			    (int)e->s.n, e->s.p);
	}
	return buf;
}

static void
check_host(const char *text, const char *want)
{
	struct parsed p;
	char buf[1024];

	parse(&p, text);
	is_int(p.rc, 0, "accepts '%s'", name(text));
	is_str(pat_str(&p.r.host, buf, sizeof(buf)), want, "host of '%s'",
	    name(text));
	done(&p);
}

static void
check_path(const char *text, uint32_t idx, const char *want)
{
	struct parsed p;
	char buf[1024];

	parse(&p, text);
	is_int(p.rc, 0, "accepts '%s'", name(text));
	ok(idx < p.r.npaths, "pattern %u of '%s' exists", idx, name(text));
	if (idx < p.r.npaths)
		is_str(pat_str(&p.r.paths[idx], buf, sizeof(buf)), want,
		    "path %u of '%s'", idx, name(text));
	done(&p);
}

static void
test_forms(void)
{
	struct parsed p;
	char buf[256];

	/* T1: all three keys */
	parse(&p, "method=GET,HEAD domain=github.com path=/wibble/wobble");
	is_int(p.rc, 0, "T1 parses");
	is_int(p.r.keys, RK_METHOD | RK_DOMAIN | RK_PATH, "T1 keys");
	is_int(p.r.any_method, 0, "T1 methods listed");
	is_int(p.r.nmethods, 2, "T1 two methods");
	ok(view_eq_cstr(p.r.methods[0], "GET") &&
	    view_eq_cstr(p.r.methods[1], "HEAD"), "T1 methods in order");
	is_str(pat_str(&p.r.host, buf, sizeof(buf)), "LIT(com) LIT(github)",
	    "T1 host reversed");
	is_int(p.r.npaths, 1, "T1 one path");
	is_str(pat_str(&p.r.paths[0], buf, sizeof(buf)),
	    "LIT(wibble) LIT(wobble)", "T1 path");
	done(&p);

	/* defaults: what a missing key means */
	parse(&p, "domain=x.com");
	is_int(p.r.keys, RK_DOMAIN, "only domain given");
	is_int(p.r.any_method, 1, "no method= is any method");
	is_int(p.r.nmethods, 0, "no methods stored");
	is_int(p.r.npaths, 1, "no path= is one pattern");
	is_str(pat_str(&p.r.paths[0], buf, sizeof(buf)), "MANY",
	    "no path= is [MANY]");
	ok(rule_any_path(&p.r), "no path= is any path");
	ok(!rule_any_host(&p.r), "a domain is not any host");
	done(&p);
	parse(&p, "method=GET");
	is_str(pat_str(&p.r.host, buf, sizeof(buf)), "MANY",
	    "no domain= is [MANY]");
	ok(rule_any_host(&p.r), "no domain= is any host");
	done(&p);

	/* methods */
	parse(&p, "method=*");
	ok(p.rc == 0 && p.r.any_method && p.r.nmethods == 0, "method=* is "
	    "any");
	done(&p);
	parse(&p, "method=GET,*");
	ok(p.rc == 0 && p.r.any_method && p.r.nmethods == 0,
	    "'*' among names is any");
	done(&p);
	parse(&p, "method=get");
	ok(p.rc == 0 && p.d.nwarnings == 0 && view_eq_cstr(p.r.methods[0],
	    "get"), "lowercase method parses as written (lint warns)");
	done(&p);
	parse(&p, "method=M-SEARCH,PROPFIND,X_Y!#$%&'*+.^`|~9");
	ok(p.rc == 0 && p.r.nmethods == 3, "every tchar is accepted");
	done(&p);
	parse(&p, "method=GET,GET,POST");
	is_int(p.rc, 0, "a repeated method is accepted");
	is_int(p.r.nmethods, 2, "and stored once");
	is_int(p.d.nwarnings, 1, "with a warning");
	is_str(p.out,
	    "--allow[1]:1:12: warning: method 'GET' is listed twice "
	    "[-Wconfig]\n"
	    "method=GET,GET,POST\n"
	    "           ^\n"
	    "--allow[1]:1:8: note: first listed here\n"
	    "method=GET,GET,POST\n"
	    "       ^\n", "repeated method diagnostics");
	done(&p);

	/* hosts */
	check_host("domain=*.github.com", "LIT(com) LIT(github) MANY");
	check_host("domain=api.*.com", "LIT(com) ONE LIT(api)");
	check_host("domain=github.*.com", "LIT(com) ONE LIT(github)");
	check_host("domain=*", "MANY");
	check_host("domain=*.*.com", "LIT(com) ONE MANY");
	check_host("domain=*.com", "LIT(com) MANY");
	check_host("domain=GitHub.COM", "LIT(com) LIT(github)");
	check_host("domain=localhost", "LIT(localhost)");
	check_host("domain=10.0.0.1", "LIT(1) LIT(0) LIT(0) LIT(10)");
	check_host("domain=*.0.0.1", "LIT(1) LIT(0) LIT(0) MANY");
	check_host("domain=xn--bcher-kva.example",
	    "LIT(example) LIT(xn--bcher-kva)");
	check_host("domain=a-b.c-d.e", "LIT(e) LIT(c-d) LIT(a-b)");
	check_host("domain=123.com", "LIT(com) LIT(123)");

	/* paths */
	check_path("path=*", 0, "MANY");
	check_path("path=/*", 0, "MANY");
	check_path("path=/api/*", 0, "LIT(api) MANY");
	check_path("path=/api/*/users", 0, "LIT(api) ONE LIT(users)");
	check_path("path=/*/users", 0, "ONE LIT(users)");
	check_path("path=/*/*", 0, "ONE MANY");
	check_path("path=/api/*/", 0, "LIT(api) ONE LIT()");
	check_path("path=/", 0, "LIT()");
	check_path("path=/api/", 0, "LIT(api) LIT()");
	check_path("path=api/x", 0, "LIT(api) LIT(x)");
	check_path("path=api", 0, "LIT(api)");
	check_path("path=/%7euser/%2f/%41%42", 0, "LIT(~user) LIT(%2F) "
	    "LIT(AB)");
	check_path("path=/a%20b", 0, "LIT(a%20b)");
	check_path("path=/a:b@c;d=e!$&'()+~._-", 0,
	    "LIT(a:b@c;d=e!$&'()+~._-)");
	/* raw bytes that requests keep raw (url_path_canon) */
	check_path("path=/a{b}|\"<>[]^`", 0, "LIT(a{b}|\"<>[]^`)");
	check_path("path=/a,/b/c", 0, "LIT(a)");
	check_path("path=/a,/b/c", 1, "LIT(b) LIT(c)");
	check_path("path=/.a/..b/...", 0, "LIT(.a) LIT(..b) LIT(...)");
	parse(&p, "path=/a,/a");
	ok(p.rc == 0 && p.r.npaths == 1 && p.d.nwarnings == 1,
	    "a repeated path pattern is stored once, with a warning");
	is_str(first_line(&p, buf, sizeof(buf)), "1:9: warning: path "
	    "pattern '/a' is listed twice [-Wconfig]", "its message");
	done(&p);
	parse(&p, "path=/xdomain=y");
	ok(p.rc == 0 && p.d.nwarnings == 1, "key= in a path: accepted, "
	    "warned");
	is_str(first_line(&p, buf, sizeof(buf)), "1:8: warning: 'domain=' "
	    "inside a path; put a blank before it if it starts a new key "
	    "[-Wconfig]", "its message");
	done(&p);

	/* blanks: tab and newline separate, leading/trailing are ignored */
	check_ok("domain=github.com\tpath=/x\nmethod=GET",
	    "method=GET domain=github.com path=/x");
	check_ok("  domain=github.com  ", "domain=github.com");
	check_ok("\n\tdomain=a.b\t\n", "domain=a.b");
	/* key order is irrelevant */
	check_ok("path=/a domain=x.com method=GET",
	    "method=GET domain=x.com path=/a");
	check_ok("domain=x.com path=/a method=GET",
	    "method=GET domain=x.com path=/a");
	/* T9 */
	check_ok("method=* domain=* path=*", "domain=*");
}

static void
test_errors(void)
{
	struct parsed p;
	char big[MAX_RULE_LEN + 16], want[512], buf[1024];
	size_t i, o;

	/* keys */
	check_error("metod=GET", "1:1: error: unknown key 'metod' in rule; "
	    "did you mean 'method'?");
	check_error("Method=GET", "1:1: error: unknown key 'Method' in rule; "
	    "did you mean 'method'?");
	check_error("domian=x.com", "1:1: error: unknown key 'domian' in "
	    "rule; did you mean 'domain'?");
	check_error("foo=1", "1:1: error: unknown key 'foo' in rule; keys "
	    "are method, domain and path");
	check_error("domain=x.com host=y", "1:14: error: unknown key 'host' "
	    "in rule; keys are method, domain and path");
	check_error("=x", "1:1: error: missing key before '='; keys are "
	    "method, domain and path");
	check_error("domain", "1:7: error: missing '=' after 'domain'");
	check_error("domain=x.com path", "1:18: error: missing '=' after "
	    "'path'");
	check_error("github.com", "1:1: error: expected key=value, found "
	    "'github.com'; did you mean 'domain=github.com'?");
	check_error("GET", "1:1: error: expected key=value, found 'GET'; did "
	    "you mean 'method=GET'?");
	check_error("/api", "1:1: error: expected key=value, found '/api'; "
	    "did you mean 'path=/api'?");
	check_error("domain=x.com junk", "1:14: error: expected key=value, "
	    "found 'junk'; keys are method, domain and path");
	check_error("", "1:1: error: empty rule; write 'domain=*' to allow "
	    "every request");
	check_error(" \t\n ", "1:1: error: empty rule; write 'domain=*' to "
	    "allow every request");
	check_error("domain=a.com domain=b.com", "1:14: error: repeated key "
	    "'domain'; give each key once (write one rule per host)");
	check_error("method=GET method=POST", "1:12: error: repeated key "
	    "'method'; give each key once (list values with ',')");
	check_error("path=/a path=/b", "1:9: error: repeated key 'path'; "
	    "give each key once (list values with ',')");
	check_error("method=GETdomain=x.com", "1:11: error: missing blank "
	    "before 'domain='");
	check_error("domain=x.compath=/a", "1:13: error: missing blank "
	    "before 'path='");

	/* the note of a repeated key, and the whole output format */
	parse(&p, "domain=a.com domain=b.com");
	is_str(p.out,
	    "--allow[1]:1:14: error: repeated key 'domain'; give each key "
	    "once (write one rule per host)\n"
	    "domain=a.com domain=b.com\n"
	    "             ^\n"
	    "--allow[1]:1:1: note: 'domain' first given here\n"
	    "domain=a.com domain=b.com\n"
	    "^\n", "repeated key: error and note");
	is_str(pat_str(&p.r.host, buf, sizeof(buf)), "LIT(com) LIT(a)",
	    "the first domain is kept (no concatenation)");
	done(&p);

	/* methods */
	check_error("method=", "1:8: error: empty method list; write "
	    "'method=*' for any method");
	check_error("method=GET,", "1:11: error: trailing ',' in method "
	    "list");
	check_error("method=,GET", "1:8: error: empty method in list");
	check_error("method=GET,,POST", "1:12: error: empty method in list");
	check_error("method=G(T", "1:9: error: character '(' is not allowed "
	    "in a method (an HTTP token)");
	check_error("method=GET;", "1:11: error: character ';' is not "
	    "allowed in a method (an HTTP token)");
	check_error("method=G\xc3\xa9T", "1:9: error: character '\xc3\xa9' "
	    "is not allowed in a method (an HTTP token)");
	check_error("method=G\x01T", "1:9: error: byte 0x01 is not allowed "
	    "in a method (an HTTP token)");
	o = (size_t)snprintf(big, sizeof(big), "method=");
	for (i = 0; i <= MAX_METHOD_LEN; i++)
		big[o++] = 'A';
	big[o] = '\0';
	snprintf(want, sizeof(want), "1:8: error: method '%.*s' is longer "
	    "than %d bytes", MAX_METHOD_LEN + 1, big + 7, MAX_METHOD_LEN);
	check_error(big, want);
	big[o - 1] = '\0';
	check_ok(big, big);

	/* hosts */
	check_error("domain=", "1:8: error: empty domain; write 'domain=*' "
	    "for every host");
	check_error("domain=github.*", "1:15: error: host pattern may not "
	    "end with '*'; a leading '*' matches subdomains, as in "
	    "'*.example.com'");
	check_error("domain=*.*", "1:10: error: host pattern may not end "
	    "with '*'; a leading '*' matches subdomains, as in "
	    "'*.example.com'");
	check_error("domain=git*.com", "1:11: error: '*' must be a whole "
	    "label, as in '*.example.com'");
	check_error("domain=*github.com", "1:8: error: '*' must be a whole "
	    "label, as in '*.example.com'");
	check_error("domain=**.com", "1:9: error: '*' must be a whole label, "
	    "as in '*.example.com'");
	check_error("domain=a..b", "1:10: error: empty label ('..') in "
	    "domain");
	check_error("domain=.a", "1:8: error: domain may not start with '.'");
	check_error("domain=github.com.", "1:18: error: trailing '.' in "
	    "domain; write 'github.com'");
	check_error("domain=github.com:8080", "1:18: error: ports are not "
	    "part of domain rules; a rule allows every port");
	check_error("domain=github.com/path", "1:18: error: '/' in domain; "
	    "write the path as its own key, as in 'domain=example.com "
	    "path=/api/*'");
	check_error("domain=github.com,api.github.com", "1:18: error: domain "
	    "takes one host; write one rule per host");
	check_error("domain=github_com.x", "1:14: error: character '_' is "
	    "not allowed in a domain");
	check_error("domain=[::1]", "1:8: error: character '[' is not "
	    "allowed in a domain: IPv6 literals cannot be written in a rule; "
	    "only 'domain=*' matches them");
	check_error("domain=a[b", "1:9: error: character '[' is not allowed "
	    "in a domain");
	check_error("domain=b\xc3\xbc" "cher.de", "1:9: error: character "
	    "'\xc3\xbc' is not allowed in a domain (write internationalised "
	    "names in punycode, 'xn--...')");
	check_error("domain=a\x01" "b", "1:9: error: byte 0x01 is not allowed "
	    "in a domain");
	check_error("domain=-x.com", "1:8: error: label '-x' may not start "
	    "with '-'");
	check_error("domain=x-.com", "1:9: error: label 'x-' may not end "
	    "with '-'");
	o = (size_t)snprintf(big, sizeof(big), "domain=");
	for (i = 0; i <= MAX_LABEL_LEN; i++)
		big[o++] = 'a';
	memcpy(big + o, ".com", 5);
	check_error(big, "1:8: error: label 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaa...' is longer than 63 bytes");
	big[7 + MAX_LABEL_LEN] = '\0';
	big[7 + MAX_LABEL_LEN - 1] = 'a';
	parse(&p, big);
	is_int(p.rc, 0, "a label of exactly MAX_LABEL_LEN bytes is fine");
	done(&p);
	/* 4 labels of 63 and 3 dots: 255 bytes */
	o = (size_t)snprintf(big, sizeof(big), "domain=");
	for (i = 0; i < 4 * (MAX_LABEL_LEN + 1) - 1; i++)
		big[o++] = (i % (MAX_LABEL_LEN + 1)) == MAX_LABEL_LEN ? '.' :
		    'a';
	big[o] = '\0';
	check_error(big, "1:8: error: domain is longer than 253 bytes");
	big[o - 2] = '\0';	/* 253 bytes */
	parse(&p, big);
	is_int(p.rc, 0, "a domain of exactly MAX_HOST_LEN bytes is fine");
	done(&p);

	/* paths */
	check_error("path=", "1:6: error: empty path list; write 'path=/*' "
	    "for every path or 'path=/' for the root");
	check_error("path=/a,", "1:8: error: trailing ',' in path list");
	check_error("path=,/a", "1:6: error: empty path pattern in list");
	check_error("path=/a,,/b", "1:9: error: empty path pattern in list");
	check_error("path=/api/user*", "1:15: error: '*' must be a whole path "
	    "segment, as in '/api/*'");
	check_error("path=/*abc", "1:7: error: '*' must be a whole path "
	    "segment, as in '/api/*'");
	check_error("path=/**", "1:7: error: '*' must be a whole path "
	    "segment, as in '/api/*'");
	check_error("path=/a//b", "1:9: error: empty path segment ('//'); "
	    "requests have repeated slashes merged, so it would never match");
	check_error("path=//", "1:7: error: empty path segment ('//'); "
	    "requests have repeated slashes merged, so it would never match");
	check_error("path=/a/./b", "1:9: error: '.' is a dot segment; "
	    "requests are normalised before matching, so it would never "
	    "match");
	check_error("path=/a/..", "1:9: error: '..' is a dot segment; "
	    "requests are normalised before matching, so it would never "
	    "match");
	check_error("path=/%2e%2E", "1:7: error: '%2e%2E' is a dot segment; "
	    "requests are normalised before matching, so it would never "
	    "match");
	check_error("path=/a?x=1", "1:8: error: the query string is never "
	    "matched; remove it");
	check_error("path=/a#top", "1:8: error: a fragment ('#') is never "
	    "sent to the server; remove it");
	check_error("path=/a%zz", "1:8: error: '%' must be followed by two "
	    "hex digits; write '%25' for a '%' itself");
	check_error("path=/a%2", "1:8: error: '%' must be followed by two "
	    "hex digits; write '%25' for a '%' itself");
	check_error("path=/a\\b", "1:8: error: character '\\' is not allowed "
	    "in a path; percent-encode it");
	check_error("path=/\xc3\xa9", "1:7: error: character '\xc3\xa9' is "
	    "not allowed in a path; percent-encode it");
	o = (size_t)snprintf(big, sizeof(big), "path=/");
	for (i = 0; i <= MAX_SEGMENT_LEN; i++)
		big[o++] = 'a';
	big[o] = '\0';
	snprintf(want, sizeof(want), "1:7: error: path segment is longer "
	    "than %d bytes", MAX_SEGMENT_LEN);
	check_error(big, want);
	o = (size_t)snprintf(big, sizeof(big), "path=");
	for (i = 0; i <= MAX_PATTERN_ELEMS; i++) {
		big[o++] = '/';
		big[o++] = 'a';
	}
	big[o] = '\0';
	snprintf(want, sizeof(want), "1:6: error: path pattern has more than "
	    "%d segments", MAX_PATTERN_ELEMS);
	check_error(big, want);
	o = (size_t)snprintf(big, sizeof(big), "path=");
	for (i = 0; i <= MAX_PATHS_PER_RULE; i++)
		o += (size_t)snprintf(big + o, sizeof(big) - o, "%s/%zu",
		    i ? "," : "", i);
	snprintf(want, sizeof(want), "1:%zu: error: more than %d path "
	    "patterns in one rule", o - 3, MAX_PATHS_PER_RULE);
	check_error(big, want);

	/* the whole rule */
	memset(big, ' ', MAX_RULE_LEN + 1);
	memcpy(big, "domain=*", 8);
	big[MAX_RULE_LEN + 1] = '\0';
	snprintf(want, sizeof(want), "1:1: error: rule is longer than %d "
	    "bytes", MAX_RULE_LEN);
	check_error(big, want);

	/* every error is reported, each where it is */
	parse(&p, "metod=GET domain=a..b path=/x?y method=G(T");
	is_int(p.rc, -1, "several errors: rejected");
	is_int(p.d.nerrors, 4, "several errors: all four reported");
	ok(strstr(p.out, "--allow[1]:1:1: error: unknown key 'metod'") &&
	    strstr(p.out, "--allow[1]:1:20: error: empty label") &&
	    strstr(p.out, "--allow[1]:1:30: error: the query string") &&
	    strstr(p.out, "--allow[1]:1:41: error: character '('"),
	    "several errors: each at its column");
	done(&p);
	parse(&p, "domain=a_b.c_d");
	is_int(p.d.nerrors, 2, "two bad labels: two errors");
	done(&p);

	/* positions after a newline, and where the text is not exact */
	parse(&p, "domain=a.com\npath=/a?b");
	is_str(p.out, "--allow[1]:2:8: error: the query string is never "
	    "matched; remove it\npath=/a?b\n       ^\n", "line and column "
	    "after a newline");
	done(&p);
	parse(&p, "domain=a.com\tpath=/a?b");
	is_str(p.out, "--allow[1]:1:21: error: the query string is never "
	    "matched; remove it\ndomain=a.com\tpath=/a?b\n            \t"
	    "       ^\n", "caret line keeps tabs");
	done(&p);
}

static void
test_pos(void)
{
	struct src s = { "config.yaml", "x", 1 };
	struct rule r;
	struct srcpos pos;

	memset(&r, 0, sizeof(r));
	r.text = view_cstr("domain=x\npath=/");
	r.loc.src = &s;
	r.loc.line = 4;
	r.loc.col = 9;
	r.loc.exact = 1;
	pos = rule_pos(&r, 0);
	ok(pos.src == &s && pos.line == 4 && pos.col == 9, "offset 0");
	pos = rule_pos(&r, 7);
	ok(pos.line == 4 && pos.col == 16, "offset 7");
	pos = rule_pos(&r, 10);
	ok(pos.line == 5 && pos.col == 2, "after a newline");
	pos = rule_pos(&r, 1000);
	ok(pos.line == 5 && pos.col == 7, "clamped to the end");
	r.loc.exact = 0;
	pos = rule_pos(&r, 7);
	ok(pos.line == 4 && pos.col == 9, "not exact: the rule's start");
}

static void
test_canon(void)
{
	check_ok("path=/b domain=X.com method=POST,GET",
	    "method=POST,GET domain=x.com path=/b");
	check_ok("method=*", "domain=*");
	check_ok("domain=*", "domain=*");
	check_ok("path=*", "domain=*");
	check_ok("path=/a,*", "domain=*");
	check_ok("method=GET", "method=GET");
	check_ok("domain=*.*.com path=api/,/", "domain=*.*.com path=/api/,/");
	check_ok("path=/%7e/%2f/a%20", "path=/~/%2F/a%20");
	check_ok("domain=API.*.Example.COM path=/A/*",
	    "domain=api.*.example.com path=/A/*");
	check_ok("path=/*/x/*", "path=/*/x/*");
}

/* Parses a rule for coverage tests; the rule lives in the arena. */
static struct rule *
rule_of(const char *text)
{
	struct parsed *p = arena_alloc(&arena, sizeof(*p));

	parse(p, text);
	if (p->rc != 0)
		tap_diag("rule_of('%s') failed: %s", text, p->out);
	done(p);
	return &p->r;
}

static void
check_pc(const char *a, const char *b, int want)
{
	struct rule *ra = rule_of(a), *rb = rule_of(b);
	const struct pattern *pa, *pb;

	if (strncmp(a, "domain=", 7) == 0) {
		pa = &ra->host;
		pb = &rb->host;
	} else {
		pa = &ra->paths[0];
		pb = &rb->paths[0];
	}
	is_int(pattern_covers(pa, pb), want, "'%s' %s '%s'", a,
	    want ? "covers" : "does not cover", b);
}

static void
check_rc(const char *a, const char *b, int want)
{
	is_int(rule_covers(rule_of(a), rule_of(b)), want, "rule '%s' %s "
	    "'%s'", a, want ? "covers" : "does not cover", b);
}

static void
test_covers(void)
{
	check_pc("domain=*.github.com", "domain=api.github.com", 1);
	check_pc("domain=*.github.com", "domain=v1.api.github.com", 1);
	check_pc("domain=*.github.com", "domain=*.api.github.com", 1);
	check_pc("domain=*.github.com", "domain=*.github.com", 1);
	check_pc("domain=*.github.com", "domain=github.com", 0);
	check_pc("domain=*.github.com", "domain=*.com", 0);
	check_pc("domain=*.com", "domain=*.github.com", 1);
	check_pc("domain=*", "domain=github.com", 1);
	check_pc("domain=*", "domain=*.*.com", 1);
	check_pc("domain=github.com", "domain=*", 0);
	check_pc("domain=github.com", "domain=github.com", 1);
	check_pc("domain=github.com", "domain=GITHUB.com", 1);
	check_pc("domain=github.com", "domain=gitlab.com", 0);
	check_pc("domain=github.com", "domain=*.github.com", 0);
	check_pc("domain=api.*.com", "domain=api.x.com", 1);
	check_pc("domain=api.*.com", "domain=api.*.com", 1);
	check_pc("domain=api.*.com", "domain=api.x.y.com", 0);
	check_pc("domain=api.*.com", "domain=*.x.com", 0);
	check_pc("domain=api.x.com", "domain=api.*.com", 0);
	check_pc("domain=*.*.com", "domain=api.*.com", 1);
	check_pc("domain=*.*.com", "domain=x.com", 0);
	check_pc("domain=*.*.com", "domain=*.x.com", 1);
	check_pc("domain=*.x.com", "domain=*.*.com", 0);

	check_pc("path=/api/*", "path=/api/x", 1);
	check_pc("path=/api/*", "path=/api/x/y", 1);
	check_pc("path=/api/*", "path=/api/*/z", 1);
	check_pc("path=/api/*", "path=/api/", 1);
	check_pc("path=/api/*", "path=/api", 0);
	check_pc("path=/api/*", "path=/*", 0);
	check_pc("path=/*", "path=/", 1);
	check_pc("path=/*", "path=/a/b/c", 1);
	check_pc("path=/a/*/c", "path=/a/b/c", 1);
	check_pc("path=/a/*/c", "path=/a/b/d", 0);
	check_pc("path=/a/*/c", "path=/a/*", 0);
	check_pc("path=/a/b", "path=/a/*", 0);
	check_pc("path=/a/b", "path=/a/b/", 0);
	check_pc("path=/", "path=/a", 0);

	check_rc("domain=x.com", "method=GET domain=x.com path=/a", 1);
	check_rc("method=GET domain=x.com path=/a", "domain=x.com", 0);
	check_rc("method=GET,POST", "method=GET", 1);
	check_rc("method=GET", "method=GET,POST", 0);
	check_rc("method=GET", "domain=x.com", 0);
	check_rc("method=*", "method=GET", 1);
	check_rc("method=get", "method=GET", 0);
	check_rc("path=/a/*,/b", "path=/b,/a/x", 1);
	check_rc("path=/a/*,/b", "path=/b,/c", 0);
	check_rc("domain=*.x.com path=/a", "domain=a.x.com path=/a", 1);
	check_rc("domain=*.x.com path=/a", "domain=a.x.com path=/b", 0);
	check_rc("domain=*", "method=PUT domain=a.b path=/c/*", 1);
}

void
test_compiler__rule_c(void)
{
	subtest("forms", test_forms);
	subtest("errors", test_errors);
	subtest("positions", test_pos);
	subtest("canon", test_canon);
	subtest("covers", test_covers);
	arena_free(&arena);
}
