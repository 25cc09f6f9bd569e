/*
 * Tests of compiler/lint.c: each warning with its exact text and note,
 * the cases that must stay quiet, and the 10,000-rule time budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler/lint.c"
#include "tests/tap.h"

void test_compiler__lint_c(void);

/*
 * The budget for linting 10,000 rules.  Sanitizers slow everything down
 * several times over; the budget that matters is that of a plain build.
 */
#if defined(__SANITIZE_ADDRESS__)
#define LINT_BUDGET 1.0
#else
#define LINT_BUDGET 0.1
#endif

/* Parses <rules> (NULL-terminated) as --allow[1..] and lints them. */
static char *
lint(const char *const *rules, unsigned *nwarn)
{
	struct arena a = { 0 };
	struct diag d;
	struct rule *r;
	struct src *s;
	char *out = NULL;
	size_t outlen = 0, n = 0, i;
	int bad = 0;

	while (rules[n] != NULL)
		n++;
	r = arena_zalloc(&a, n * sizeof(*r));
	s = arena_zalloc(&a, n * sizeof(*s));
	memset(&d, 0, sizeof(d));
	d.out = open_memstream(&out, &outlen);
	for (i = 0; i < n; i++) {
		char *name = arena_alloc(&a, 32);
		snprintf(name, 32, "--allow[%zu]", i + 1);
		s[i].name = name;
		s[i].text = rules[i];
		s[i].len = strlen(rules[i]);
		r[i].text = view_cstr(rules[i]);
		r[i].loc.src = &s[i];
		r[i].loc.line = 1;
		r[i].loc.col = 1;
		r[i].loc.exact = 1;
		r[i].index = (uint32_t)i;
		if (rule_parse(&a, &d, &r[i]) != 0)
			bad = 1;
	}
	if (!bad)
		lint_rules(&a, &d, r, (uint32_t)n);
	fclose(d.out);
	if (nwarn != NULL)
		*nwarn = d.nwarnings;
	arena_free(&a);
	return out;
}

static void
check(const char *const *rules, const char *want, const char *what)
{
	char *out = lint(rules, NULL);

	is_str(out, want, "%s", what);
	free(out);
}

static void
test_lowercase(void)
{
	static const char *const r1[] = { "method=get,POST,Put domain=*.a.b",
		NULL };
	static const char *const r2[] = { "method=GET,M-SEARCH domain=*.a.b",
		NULL };

	check(r1, "--allow[1]:1:8: warning: method 'get' has lowercase "
	    "letters; methods are case-sensitive; did you mean 'GET'? "
	    "[-Wlowercase-method]\n"
	    "method=get,POST,Put domain=*.a.b\n"
	    "       ^\n"
	    "--allow[1]:1:17: warning: method 'Put' has lowercase letters; "
	    "methods are case-sensitive; did you mean 'PUT'? "
	    "[-Wlowercase-method]\n"
	    "method=get,POST,Put domain=*.a.b\n"
	    "                ^\n", "lowercase methods");
	check(r2, "", "uppercase methods are quiet");
}

static void
test_duplicate(void)
{
	static const char *const r1[] = { "domain=*.x.com path=/a",
		"method=GET", "path=a domain=*.X.com", NULL };

	check(r1, "--allow[3]:1:1: warning: duplicate rule: the rule at "
	    "--allow[1]:1:1 is the same [-Wduplicate]\n"
	    "path=a domain=*.X.com\n"
	    "^\n"
	    "--allow[1]:1:1: note: first written here\n"
	    "domain=*.x.com path=/a\n"
	    "^\n", "duplicate (canonically equal) rule");
}

static void
test_shadowed(void)
{
	static const char *const r1[] = { "domain=*.x.com",
		"method=GET domain=a.x.com path=/b", NULL };
	static const char *const r2[] = {
		"method=GET domain=a.x.com path=/b", "domain=*.x.com", NULL };
	static const char *const r3[] = { "method=GET,POST domain=*.*.com "
		"path=/a/*,/b", "method=POST domain=api.*.com path=/b,/a/x/y",
		NULL };
	static const char *const r4[] = { "method=GET domain=*.*.com",
		"method=POST domain=api.*.com", "domain=a.x.com path=/a",
		"domain=*.x.com path=/b", NULL };
	static const char *const r5[] = { "domain=*", "domain=a.b.c",
		"method=PUT path=/x", NULL };

	check(r1, "--allow[2]:1:1: warning: rule never matches first: rule "
	    "at --allow[1]:1:1 already allows every request it allows "
	    "[-Wshadowed]\n"
	    "method=GET domain=a.x.com path=/b\n"
	    "^\n"
	    "--allow[1]:1:1: note: the earlier rule is here\n"
	    "domain=*.x.com\n"
	    "^\n", "a broader earlier rule shadows");
	check(r2, "", "a broader later rule does not");
	check(r3, "--allow[2]:1:1: warning: rule never matches first: rule "
	    "at --allow[1]:1:1 already allows every request it allows "
	    "[-Wshadowed]\n"
	    "method=POST domain=api.*.com path=/b,/a/x/y\n"
	    "^\n"
	    "--allow[1]:1:1: note: the earlier rule is here\n"
	    "method=GET,POST domain=*.*.com path=/a/*,/b\n"
	    "^\n", "methods, hosts and every path covered");
	check(r4, "", "partly overlapping rules are quiet");
	check(r5, "--allow[2]:1:1: warning: rule never matches first: rule "
	    "at --allow[1]:1:1 already allows every request it allows "
	    "[-Wshadowed]\n"
	    "domain=a.b.c\n"
	    "^\n"
	    "--allow[1]:1:1: note: the earlier rule is here\n"
	    "domain=*\n"
	    "^\n"
	    "--allow[3]:1:1: warning: rule never matches first: rule "
	    "at --allow[1]:1:1 already allows every request it allows "
	    "[-Wshadowed]\n"
	    "method=PUT path=/x\n"
	    "^\n"
	    "--allow[1]:1:1: note: the earlier rule is here\n"
	    "domain=*\n"
	    "^\n", "domain=* shadows everything after it");
}

static void
test_subdomains(void)
{
	static const char *const r1[] = { "domain=GitHub.com path=/a", NULL };
	static const char *const r2[] = { "domain=github.com",
		"domain=*.github.com", NULL };
	static const char *const r3[] = { "domain=github.com", "domain=*.com",
		NULL };
	static const char *const r4[] = { "method=GET domain=github.com",
		"domain=api.github.com", "domain=github.com path=/x", NULL };
	static const char *const r5[] = { "domain=api.github.com",
		"domain=localhost", "domain=*.a.b", "domain=*.b", NULL };
	static const char *const r6[] = { "domain=a.b", "domain=*.*.b", NULL };

	check(r1, "--allow[1]:1:8: warning: 'domain=github.com' matches "
	    "github.com only, not its subdomains; add 'domain=*.github.com' "
	    "if you meant both [-Wsubdomains]\n"
	    "domain=GitHub.com path=/a\n"
	    "       ^\n", "domain=x.y alone");
	check(r2, "", "with *.x.y later in the policy");
	check(r3, "", "with a broader *.y");
	check(r4, "--allow[1]:1:19: warning: 'domain=github.com' matches "
	    "github.com only, not its subdomains; add 'domain=*.github.com' "
	    "if you meant both [-Wsubdomains]\n"
	    "method=GET domain=github.com\n"
	    "                  ^\n", "once per host; a sibling is no cover");
	check(r5, "", "three labels, one label, wildcards: quiet");
	check(r6, "", "*.*.b covers *.a.b");
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Lints <n> parsed rules made by <make> and returns the seconds taken. */
static double
time_lint(uint32_t n, void (*make)(char *, size_t, uint32_t),
    unsigned *nwarn)
{
	struct arena a = { 0 };
	struct diag d;
	struct src s = { "big.yaml", "", 0 };
	struct rule *r;
	uint32_t i;
	double t0, t;
	int bad = 0;

	memset(&d, 0, sizeof(d));
	d.out = fopen("/dev/null", "w");
	r = arena_zalloc(&a, n * sizeof(*r));
	for (i = 0; i < n; i++) {
		char *text = arena_alloc(&a, 128);
		make(text, 128, i);
		r[i].text = view_cstr(text);
		r[i].loc.src = &s;
		r[i].loc.line = i + 1;
		r[i].loc.col = 5;
		r[i].index = i;
		if (rule_parse(&a, &d, &r[i]) != 0)
			bad = 1;
	}
	ok(!bad, "%u generated rules parse", n);
	t0 = now();
	lint_rules(&a, &d, r, n);
	t = now() - t0;
	*nwarn = d.nwarnings;
	fclose(d.out);
	arena_free(&a);
	return t;
}

static void
make_distinct(char *buf, size_t cap, uint32_t i)
{
	if (i % 10 == 0)
		snprintf(buf, cap, "domain=*.h%u.example.com", i);
	else
		snprintf(buf, cap, "method=GET,POST domain=h%u.s%u.example.com "
		    "path=/api/v%u/*", i, i % 97, i % 5);
}

static void
make_same_host(char *buf, size_t cap, uint32_t i)
{
	snprintf(buf, cap, "method=GET domain=*.example.com path=/p%u/*,/q%u",
	    i, i);
}

static void
make_wild(char *buf, size_t cap, uint32_t i)
{
	snprintf(buf, cap, "domain=%s.*.%s.com path=/%u", i % 2 ? "*" : "a",
	    i % 3 ? "*" : "b", i);
}

static void
test_speed(void)
{
	unsigned nwarn;
	double t;

	t = time_lint(10000, make_distinct, &nwarn);
	ok(t < LINT_BUDGET, "10,000 distinct rules lint in %.1f ms", t * 1e3);
	t = time_lint(10000, make_same_host, &nwarn);
	ok(t < LINT_BUDGET, "10,000 rules on one host lint in %.1f ms", t * 1e3);
	is_int(nwarn, 0, "no warnings among them");
	t = time_lint(10000, make_wild, &nwarn);
	ok(t < LINT_BUDGET, "10,000 wildcard rules lint in %.1f ms", t * 1e3);
}

void
test_compiler__lint_c(void)
{
	subtest("lowercase-method", test_lowercase);
	subtest("duplicate", test_duplicate);
	subtest("shadowed", test_shadowed);
	subtest("subdomains", test_subdomains);
	subtest("speed", test_speed);
}
