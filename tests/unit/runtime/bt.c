/*
 * Tests of runtime/bt.c: the loader refuses every truncation, every bit
 * flip and hand-made hostile tables with a message; decisions follow
 * DESIGN.md section 1; compiling is deterministic.
 */
#include <stddef.h>
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

/* Offset of the first occupied slot in a tag section, or (size_t)-1. */
static size_t
first_tagged(const unsigned char *buf, const struct bt_section *tags)
{
	size_t k;

	for (k = 0; k < tags->size; k++)
		if (buf[tags->off + k] != BT_TAG_EMPTY)
			return k;
	return (size_t)-1;
}

/*
 * The hash tables' tags (bt_format.h): a wrong tag, a slot that breaks the
 * Robin Hood order, a tag on an empty slot, an edge table of a path
 * automaton that overlaps the next one: each refused.
 */
static void
test_hostile_tags(void)
{
	static const int secs[3] = { BT_SEC_XTAGS, BT_SEC_HTAGS, BT_SEC_PTAGS };
	static const char *const names[3] = { "exact host", "host edge",
	    "path edge" };
	struct bt_header h;
	unsigned char *buf, t;
	size_t len, k;
	char err[256];
	int i;

	buf = compile_rules(policy, 6, &len);
	if (!ok(buf != NULL, "policy compiles"))
		return;
	memcpy(&h, buf, sizeof(h));
	for (i = 0; i < 3; i++) {
		const struct bt_section *s = &h.sec[secs[i]];

		k = first_tagged(buf, s);
		if (!ok(k != (size_t)-1, "%s tags: one is in use", names[i]))
			continue;
		t = buf[s->off + k] ^ 1;	/* other hash bits */
		is_int(load_modified(buf, len, s->off + k, &t, 1, err,
		    sizeof(err)), -1, "%s: wrong tag refused", names[i]);
		ok(strstr(err, "tag") != NULL, "message: %s", err);
		/* claims one more distance than it has */
		t = BT_TAG(BT_TAG_DIST(buf[s->off + k]) + 1, buf[s->off + k]);
		is_int(load_modified(buf, len, s->off + k, &t, 1, err,
		    sizeof(err)), -1, "%s: wrong distance refused", names[i]);
		t = BT_TAG_EMPTY;
		is_int(load_modified(buf, len, s->off + k, &t, 1, err,
		    sizeof(err)), -1, "%s: entry under an empty tag refused",
		    names[i]);
	}
	{
		/* a tag on an empty host edge slot */
		const struct bt_section *s = &h.sec[BT_SEC_HTAGS];
		for (k = 0; k < s->size; k++)
			if (buf[s->off + k] == BT_TAG_EMPTY)
				break;
		if (ok(k < s->size, "host edges: an empty slot")) {
			t = BT_TAG(0, 0);
			is_int(load_modified(buf, len, s->off + k, &t, 1, err,
			    sizeof(err)), -1, "tag on an empty slot refused");
			ok(strstr(err, "not zero") != NULL, "message: %s", err);
		}
	}
	if (ok(h.sec[BT_SEC_PDFAS].size >= 2 * sizeof(struct bt_pdfa),
	    "two path automata")) {
		struct bt_pdfa d;
		size_t off = h.sec[BT_SEC_PDFAS].off;
		uint32_t v;

		memcpy(&d, buf + off, sizeof(d));
		v = d.en + 1;
		is_int(load_modified(buf, len, off + offsetof(struct bt_pdfa,
		    en), &v, 4, err, sizeof(err)), -1,
		    "overlapping path edge tables refused");
		v = d.max_probe + 1;
		is_int(load_modified(buf, len, off + offsetof(struct bt_pdfa,
		    max_probe), &v, 4, err, sizeof(err)), -1,
		    "wrong probe bound of a path automaton refused");
	}
	free(buf);
}

/* The Robin Hood order: a slot after an empty one must be at home. */
static void
test_hostile_order(void)
{
	static const char *const many[] = {
		"domain=a.com", "domain=b.com", "domain=c.com", "domain=d.com",
		"domain=e.com", "domain=f.com", "domain=g.com", "domain=h.com",
		"domain=i.com", "domain=j.com", "domain=k.com", "domain=l.com",
	};
	struct bt_header h;
	unsigned char *buf;
	size_t len, k, n;
	char err[256];

	buf = compile_rules(many, 12, &len);
	if (!ok(buf != NULL, "twelve hosts compile"))
		return;
	memcpy(&h, buf, sizeof(h));
	n = h.sec[BT_SEC_XTAGS].size;
	/* an entry away from home whose slot before it is emptied */
	for (k = 0; k < n; k++)
		if (buf[h.sec[BT_SEC_XTAGS].off + k] != BT_TAG_EMPTY &&
		    BT_TAG_DIST(buf[h.sec[BT_SEC_XTAGS].off + k]) > 0)
			break;
	if (k < n) {
		size_t prev = k == 0 ? n - 1 : k - 1;
		unsigned char *c = malloc(len);
		struct bt_xslot empty = { BT_NONE, 0 };

		memcpy(c, buf, len);
		c[h.sec[BT_SEC_XTAGS].off + prev] = BT_TAG_EMPTY;
		memcpy(c + h.sec[BT_SEC_XHOSTS].off + prev * sizeof(empty),
		    &empty, sizeof(empty));
		is_int(load_modified(c, len, 0, "", 0, err, sizeof(err)), -1,
		    "exact host out of Robin Hood order refused");
		ok(strstr(err, "Robin Hood") != NULL || strstr(err, "probe") !=
		    NULL, "message: %s", err);
		free(c);
	} else
		ok(1, "every host at home: nothing to move (hash dependent)");
	free(buf);
}

/*
 * Many hosts and paths: every exact host, wildcard and path of a policy
 * of a few hundred rules is found through the tagged tables, and near
 * misses are not.
 */
static void
test_many(void)
{
	enum { N = 300 };
	static char text[N][96];
	const char *rules[N];
	unsigned char *buf;
	size_t len;
	char err[256], host[96], path[64];
	struct bt bt;
	int i, bad = 0;

	for (i = 0; i < N; i++) {
		if (i % 3 == 0)
			snprintf(text[i], sizeof(text[i]),
			    "domain=api.host%d.example%d.com", i, i % 7);
		else if (i % 3 == 1)
			snprintf(text[i], sizeof(text[i]),
			    "domain=*.wild%d.org path=/v%d/*", i, i);
		else
			snprintf(text[i], sizeof(text[i]),
			    "method=GET domain=a-rather-long-host-name%d.io", i);
		rules[i] = text[i];
	}
	buf = compile_rules(rules, N, &len);
	if (!ok(buf != NULL, "%d rules compile", N))
		return;
	if (!ok(bt_load_mem(&bt, buf, len, err, sizeof(err)) == 0,
	    "and load: %s", err))
		goto done;
	for (i = 0; i < N; i++) {
		long want = i, got, miss;
		if (i % 3 == 0) {
			snprintf(host, sizeof(host), "api.host%d.example%d.com",
			    i, i % 7);
			got = decide(&bt, "GET", host, "/x");
			snprintf(host, sizeof(host), "api.host%d.example%d.com",
			    i, (i + 1) % 7);
			miss = decide(&bt, "GET", host, "/x");
		} else if (i % 3 == 1) {
			snprintf(host, sizeof(host), "a.b.wild%d.org", i);
			snprintf(path, sizeof(path), "/v%d/y", i);
			got = decide(&bt, "GET", host, path);
			snprintf(path, sizeof(path), "/v%d/y", i + 1);
			miss = decide(&bt, "GET", host, path);
		} else {
			snprintf(host, sizeof(host),
			    "a-rather-long-host-name%d.io", i);
			got = decide(&bt, "GET", host, "/");
			miss = decide(&bt, "POST", host, "/");
		}
		if (got != want || miss != -1) {
			tap_diag("rule %d: got %ld, near miss %ld", i, got, miss);
			bad++;
		}
	}
	is_int(bad, 0, "every rule found, no near miss admitted");
	bt_close(&bt);
 done:
	free(buf);
}

/* The branch-free host hash and key equality agree with the plain ones. */
static void
test_words(void)
{
	char a[40], b[40];
	size_t n, i;
	int bad = 0;

	for (n = 1; n <= 40; n++) {
		for (i = 0; i < n; i++)
			a[i] = b[i] = (char)('a' + (i * 7 + n) % 26);
		if (!key_eq(a, b, n))
			bad++;
		for (i = 0; i < n; i++) {
			b[i] ^= 0x20;
			if (key_eq(a, b, n) || bt_hash32(a, n) == bt_hash32(b, n))
				bad++;
			b[i] ^= 0x20;
		}
	}
	is_int(bad, 0, "key_eq sees every byte; the host hash depends on each");
}

/*
 * The all-at-once tag comparison (SSE2 where there is, the portable word
 * version everywhere) gives exactly the slots a one-by-one probe would
 * compare, for every hash nibble, probe bound and mix of tags.
 */
static void
test_tag_hits(void)
{
	uint8_t tags[BT_TAG_SCAN];
	uint64_t r = 0x9e3779b97f4a7c15ull;
	uint32_t round, hash, mp, d, want;
	int bad = 0, nonzero = 0;

	for (round = 0; round < 20000; round++) {
		hash = (uint32_t)(r >> 20);
		for (d = 0; d < BT_TAG_SCAN; d++) {
			r = r * 6364136223846793005ull + 1442695040888963407ull;
			switch ((r >> 33) % 4) {
			case 0:	/* a candidate at its distance */
				tags[d] = BT_TAG(d, hash);
				break;
			case 1:
				tags[d] = BT_TAG_EMPTY;
				break;
			case 2:	/* right nibble, wrong distance */
				tags[d] = BT_TAG((d + 1 + (r >> 40) % 14) % 15,
				    hash);
				break;
			default:
				tags[d] = (uint8_t)(r >> 48);
			}
		}
		for (mp = 0; mp <= BT_MAX_PROBE; mp++) {
			want = 0;
			for (d = 0; d <= mp; d++)
				if (tags[d] == BT_TAG(d, hash))
					want |= 1u << d;
			nonzero += want != 0;
			if (tag_hits(tags, hash, mp) != want ||
			    (tag_hits_swar(tags, hash) & ((2u << mp) - 1)) !=
			    want)
				bad++;
		}
	}
	ok(nonzero > 1000, "the cases include candidates (%d)", nonzero);
	is_int(bad, 0, "tag_hits and tag_hits_swar agree with a probe loop");
}

/*
 * A policy large enough that exact-host and edge lookups take the
 * all-at-once path, with entries far from home, and also the probe loop
 * near the end of a table: every host is found, near misses are not.
 */
static void
test_scan(void)
{
	enum { N = 3000 };
	static char text[N][64];
	const char *rules[N];
	unsigned char *buf;
	size_t len;
	char err[256] = "", host[64];
	struct bt bt;
	uint32_t i, far = 0, tail = 0;
	int bad = 0;

	for (i = 0; i < N; i++) {
		if (i % 4 == 3)
			snprintf(text[i], sizeof(text[i]),
			    "domain=*.w%u.example.net", i);
		else
			snprintf(text[i], sizeof(text[i]),
			    "domain=h%u.example.org", i);
		rules[i] = text[i];
	}
	buf = compile_rules(rules, N, &len);
	if (!ok(buf != NULL, "%d rules compile", N))
		return;
	if (!ok(bt_load_mem(&bt, buf, len, err, sizeof(err)) == 0,
	    "and load: %s", err))
		goto done;
	for (i = 0; i < bt.nxhosts; i++) {
		uint32_t d = BT_TAG_DIST(bt.xtags[i]), home;
		if (bt.xtags[i] == BT_TAG_EMPTY)
			continue;
		home = i >= d ? i - d : i + bt.nxhosts - d;
		far += d > 1 && home + BT_TAG_SCAN <= bt.nxhosts;
		tail += home + BT_TAG_SCAN > bt.nxhosts;
	}
	ok(far > 0 && tail > 0, "exact hosts far from home (%u) and near the "
	    "end (%u)", far, tail);
	ok(bt.nhedges >= BT_TAG_SCAN, "host edge table of %u slots",
	    bt.nhedges);
	for (i = 0; i < N; i++) {
		long got, miss;
		if (i % 4 == 3) {
			snprintf(host, sizeof(host), "a.w%u.example.net", i);
			got = decide(&bt, "GET", host, "/");
			snprintf(host, sizeof(host), "a.w%u.example.net", i + 1);
			miss = decide(&bt, "GET", host, "/");
		} else {
			snprintf(host, sizeof(host), "h%u.example.org", i);
			got = decide(&bt, "GET", host, "/");
			snprintf(host, sizeof(host), "h%u.example.orh", i);
			miss = decide(&bt, "GET", host, "/");
		}
		if (got != (long)i || miss != -1) {
			tap_diag("rule %u: got %ld, near miss %ld", i, got, miss);
			bad++;
		}
	}
	is_int(bad, 0, "every host found, no near miss admitted");
	bt_close(&bt);
 done:
	free(buf);
}

void
test_runtime__bt_c(void)
{
	subtest("decisions", test_decisions);
	subtest("determinism", test_determinism);
	subtest("refusals", test_refusals);
	subtest("hostile", test_hostile);
	subtest("hostile tags", test_hostile_tags);
	subtest("hostile order", test_hostile_order);
	subtest("many", test_many);
	subtest("words", test_words);
	subtest("tag hits", test_tag_hits);
	subtest("scan", test_scan);
	subtest("file", test_file);
}
