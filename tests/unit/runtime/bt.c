/*
 * Tests of runtime/bt.c: the loader refuses every truncation, every bit
 * flip and hand-made hostile tables with a message; decisions follow
 * DESIGN.md section 1; compiling is deterministic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/bt.c"

#include "compiler/compiler.h"
#include "tests/tap.h"

void test_runtime__bt_c(void);

static unsigned char *
compile_rules(const char *const *rules, size_t n, size_t *len)
{
	struct compile_opts o;
	struct compile_out out;
	FILE *quiet = fopen("/dev/null", "w");

	memset(&o, 0, sizeof(o));
	o.allow = rules;
	o.nallow = n;
	o.diag = quiet;
	if (compiler_compile(&o, &out) == -1) {
		fclose(quiet);
		return NULL;
	}
	fclose(quiet);
	*len = out.len;
	return out.buf;
}

/* Decides "METHOD host path" (already canonical); returns rule or -1. */
static long
decide(const struct bt *bt, const char *m, const char *h, const char *p)
{
	struct bt_req rq = { view_cstr(m), view_cstr(h), view_cstr(p) };
	struct verdict v;

	bt_decide(bt, &rq, &v);
	if (v.reason == REASON_ALLOWED)
		return (long)v.rule;
	return v.rule == BT_NONE ? -1 : -2;
}

static const char *const policy[] = {
	"domain=github.com",
	"domain=*.github.com path=/api/*",
	"method=GET,HEAD domain=api.*.example.com",
	"domain=* path=/healthz",
	"method=POST domain=10.0.0.1",
	"domain=*.github.com",
};

static void
test_decisions(void)
{
	struct bt bt;
	unsigned char *buf;
	size_t len;
	char err[256];

	buf = compile_rules(policy, 6, &len);
	if (!ok(buf != NULL, "policy compiles"))
		return;
	if (!ok(bt_load_mem(&bt, buf, len, err, sizeof(err)) == 0,
	    "fresh policy loads"))
		goto done;
	is_int(bt.nrules, 6, "six rules");
	is_int(decide(&bt, "GET", "github.com", "/"), 0, "exact domain");
	is_int(decide(&bt, "GET", "github.com", "/healthz"), 0,
	    "first matching rule wins over the universal one");
	is_int(decide(&bt, "GET", "x.github.com", "/api/v1"), 1,
	    "leading * with path");
	is_int(decide(&bt, "GET", "x.github.com", "/other"), 5,
	    "later rule when the path of the earlier fails");
	is_int(decide(&bt, "GET", "a.b.github.com", "/api/"), 1,
	    "leading * spans two labels; trailing * matches an empty segment");
	is_int(decide(&bt, "GET", "x.github.com", "/api"), 5,
	    "/api/* does not match /api");
	is_int(decide(&bt, "HEAD", "api.eu.example.com", "/"), 2,
	    "middle * one label, method in list");
	is_int(decide(&bt, "POST", "api.eu.example.com", "/"), -1,
	    "method not in list");
	is_int(decide(&bt, "GET", "api.a.b.example.com", "/"), -1,
	    "middle * is exactly one label");
	is_int(decide(&bt, "GET", "nowhere.test", "/healthz"), 3,
	    "universal rule for an unknown host");
	is_int(decide(&bt, "GET", "nowhere.test", "/healthz/x"), -1,
	    "universal rule path is exact");
	is_int(decide(&bt, "POST", "10.0.0.1", "/x"), 4, "IPv4 literal");
	is_int(decide(&bt, "GET", "10.0.0.1", "/x"), -1,
	    "IPv4 literal with the wrong method");
	is_int(decide(&bt, "GET", "[::1]", "/healthz"), 3,
	    "IPv6 literal reaches the universal rule");
	is_int(decide(&bt, "GET", "[::1]", "/"), -1, "IPv6 literal otherwise denied");
	is_int(decide(&bt, "GET", "com", "/"), -1, "bare TLD denied");
	is_int(decide(&bt, "get", "github.com", "/"), 0,
	    "any-method rule admits an unknown method");
	bt_close(&bt);
 done:
	free(buf);
}

static void
test_determinism(void)
{
	unsigned char *a, *b;
	size_t la, lb;

	a = compile_rules(policy, 6, &la);
	b = compile_rules(policy, 6, &lb);
	ok(a != NULL && b != NULL && la == lb && memcmp(a, b, la) == 0,
	    "identical input gives identical bytes");
	free(a);
	free(b);
}

/* Every truncation and every single-bit flip is refused, with a reason. */
static void
test_refusals(void)
{
	struct bt bt;
	unsigned char *buf, *copy;
	size_t len, i;
	int bit, bad = 0, silent = 0;
	char err[256];

	buf = compile_rules(policy, 6, &len);
	if (!ok(buf != NULL, "policy compiles"))
		return;
	copy = malloc(len);
	for (i = 0; i < len; i++) {
		memcpy(copy, buf, i);
		err[0] = '\0';
		if (bt_load_mem(&bt, copy, i, err, sizeof(err)) != -1)
			bad++;
		if (err[0] == '\0')
			silent++;
	}
	is_int(bad, 0, "all %zu truncations refused", len);
	is_int(silent, 0, "every refusal says why");
	bad = 0;
	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, buf, len);
			copy[i] ^= (unsigned char)(1u << bit);
			if (bt_load_mem(&bt, copy, len, err, sizeof(err)) != -1)
				bad++;
		}
	is_int(bad, 0, "all %zu single-bit flips refused", len * 8);
	free(copy);
	free(buf);
}

/*
 * Hostile tables: a change in the body with the checksum recomputed, so
 * that only validation stands in the way.
 */
static int
load_modified(const unsigned char *buf, size_t len, size_t off,
    const void *val, size_t n, char *err, size_t errlen)
{
	unsigned char *c = malloc(len);
	struct bt_header h;
	struct bt bt;
	int r;

	memcpy(c, buf, len);
	memcpy(c + off, val, n);
	memcpy(&h, c, sizeof(h));
	h.checksum = bt_checksum(c, len);
	memcpy(c, &h, sizeof(h));
	r = bt_load_mem(&bt, c, len, err, errlen);
	if (r == 0)
		bt_close(&bt);
	free(c);
	return r;
}

static void
test_hostile(void)
{
	struct bt_header h;
	unsigned char *buf;
	size_t len;
	char err[256];
	uint32_t v;

	buf = compile_rules(policy, 6, &len);
	if (!ok(buf != NULL, "policy compiles"))
		return;
	memcpy(&h, buf, sizeof(h));
	is_int(load_modified(buf, len, 0, "x", 0, err, sizeof(err)), 0,
	    "unmodified table with recomputed checksum loads");

	v = 0xfffffff0u;
	is_int(load_modified(buf, len, h.sec[BT_SEC_RULES].off + 4, &v, 4,
	    err, sizeof(err)), -1, "rule text out of range refused");
	ok(strstr(err, "rule 0") != NULL, "message names the rule: %s", err);

	{
		size_t off = h.sec[BT_SEC_HEDGES].off, k, n;
		n = h.sec[BT_SEC_HEDGES].size / sizeof(struct bt_edge);
		for (k = 0; k < n; k++) {
			struct bt_edge e;
			memcpy(&e, buf + off + k * sizeof(e), sizeof(e));
			if (e.from != BT_NONE)
				break;
		}
		if (ok(k < n, "the host edge table has an edge")) {
			v = 0x7ffffff0u;
			is_int(load_modified(buf, len, off + k * sizeof(struct
			    bt_edge) + 4, &v, 4, err, sizeof(err)), -1,
			    "edge to a state out of range refused");
			ok(strstr(err, "host edges") != NULL, "message: %s", err);
			v = 0xfff00000u | 3;
			is_int(load_modified(buf, len, off + k * sizeof(struct
			    bt_edge) + 8, &v, 4, err, sizeof(err)), -1,
			    "edge label out of the string section refused");
		}
	}
	v = 0x12345;
	is_int(load_modified(buf, len, h.sec[BT_SEC_HSTATES].off, &v, 4, err,
	    sizeof(err)), -1, "default edge out of range refused");
	v = 0x7fff0000u;
	is_int(load_modified(buf, len, h.sec[BT_SEC_HSTATES].off + 4, &v, 4,
	    err, sizeof(err)), -1, "host acceptance out of range refused");
	v = 0;
	is_int(load_modified(buf, len, h.sec[BT_SEC_METHODS].off + 4, &v, 4,
	    err, sizeof(err)), -1, "empty method name refused");
	if (h.sec[BT_SEC_CSETS].size > 0) {
		v = 0xffffff;
		is_int(load_modified(buf, len, h.sec[BT_SEC_CSETS].off, &v, 4,
		    err, sizeof(err)), -1, "candidate list out of range refused");
		v = 0x7777;
		is_int(load_modified(buf, len, h.sec[BT_SEC_CSETS].off + 4, &v, 4,
		    err, sizeof(err)), -1, "path automaton out of range refused");
	}
	if (h.sec[BT_SEC_U32].size >= 8) {
		v = 0;
		is_int(load_modified(buf, len, h.sec[BT_SEC_U32].off, &v, 4, err,
		    sizeof(err)), -1, "empty counted list refused");
	}
	v = BT_VERSION + 1;
	is_int(load_modified(buf, len, 8, &v, 4, err, sizeof(err)), -1,
	    "other format version refused");
	ok(strstr(err, "recompile") != NULL, "message says what to do: %s", err);
	free(buf);
}

static void
test_file(void)
{
	struct bt bt;
	unsigned char *buf;
	size_t len;
	char err[512], path[] = "/tmp/bt-test-XXXXXX";
	int fd;

	is_int(bt_load_file(&bt, "/nonexistent/x.bpol", err, sizeof(err)), -1,
	    "missing file refused");
	ok(strstr(err, "No such file") != NULL, "message: %s", err);
	buf = compile_rules(policy, 6, &len);
	fd = mkstemp(path);
	if (!ok(buf != NULL && fd != -1, "temporary policy file"))
		return;
	ok(write(fd, buf, len) == (ssize_t)len, "written");
	close(fd);
	if (ok(bt_load_file(&bt, path, err, sizeof(err)) == 0, "file loads")) {
		is_int(decide(&bt, "GET", "github.com", "/"), 0,
		    "mapped table decides");
		bt_close(&bt);
	}
	ok(truncate(path, (off_t)len - 1) == 0, "file truncated by one byte");
	is_int(bt_load_file(&bt, path, err, sizeof(err)), -1,
	    "truncated file refused");
	ok(strstr(err, path) != NULL, "message names the file: %s", err);
	unlink(path);
	free(buf);
}

void
test_runtime__bt_c(void)
{
	subtest("decisions", test_decisions);
	subtest("determinism", test_determinism);
	subtest("refusals", test_refusals);
	subtest("hostile", test_hostile);
	subtest("file", test_file);
}
