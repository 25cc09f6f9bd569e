/*
 * Seeded differential test (STYLE rule 35): random policies over a small
 * vocabulary, so that patterns overlap a lot, compiled by build.c/emit.c
 * and decided by runtime/bt.c, against tests/ref/ref_decide.c on random
 * requests.  Fixed seeds: a failure is reproducible.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/arena.h"
#include "compiler/build.h"
#include "compiler/rule.h"
#include "runtime/bt_format.h"
#include "runtime/runtime.h"
#include "tests/ref/ref_decide.h"
#include "tests/tap.h"

void test_compiler__diff_c(void);

static uint64_t rng;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *const labels[] = { "com", "org", "a", "b", "api", "x",
	"github", "example", "10", "0" };
static const char *const segs[] = { "api", "v1", "x", "a%2Fb", "~u", "b" };
static const char *const methods[] = { "GET", "POST", "HEAD", "get" };

#define NLAB (sizeof(labels) / sizeof(labels[0]))
#define NSEG (sizeof(segs) / sizeof(segs[0]))
#define NMETH (sizeof(methods) / sizeof(methods[0]))

static size_t
gen_rule(char *buf, size_t cap)
{
	size_t n = 0;
	uint32_t i, k;

	buf[0] = '\0';
	if (rnd(3) == 0) {
		uint32_t nm = 1 + rnd(2);
		n += (size_t)snprintf(buf + n, cap - n, "method=");
		for (i = 0; i < nm; i++)
			n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? "," : "",
			    rnd(8) == 0 ? "*" : methods[rnd(NMETH)]);
		n += (size_t)snprintf(buf + n, cap - n, " ");
	}
	if (rnd(20) != 0) {
		uint32_t nl = 1 + rnd(4);
		n += (size_t)snprintf(buf + n, cap - n, "domain=");
		if (rnd(30) == 0)
			n += (size_t)snprintf(buf + n, cap - n, "*");
		else
			for (i = 0; i < nl; i++) {
				const char *l = labels[rnd(NLAB)];
				if (i < nl - 1 && rnd(4) == 0)
					l = "*";
				n += (size_t)snprintf(buf + n, cap - n, "%s%s",
				    i ? "." : "", l);
			}
		n += (size_t)snprintf(buf + n, cap - n, " ");
	}
	if (rnd(2) == 0) {
		uint32_t np = 1 + rnd(2);
		n += (size_t)snprintf(buf + n, cap - n, "path=");
		for (k = 0; k < np; k++) {
			uint32_t ns = rnd(4);
			n += (size_t)snprintf(buf + n, cap - n, "%s", k ? "," : "");
			if (ns == 0)
				n += (size_t)snprintf(buf + n, cap - n, "/");
			for (i = 0; i < ns; i++)
				n += (size_t)snprintf(buf + n, cap - n, "/%s",
				    rnd(4) == 0 ? "*" : segs[rnd(NSEG)]);
			if (ns > 0 && rnd(6) == 0)
				n += (size_t)snprintf(buf + n, cap - n, "/");
		}
	}
	if (n == 0)
		n = (size_t)snprintf(buf, cap, "domain=*");
	return n;
}

static void
gen_request(char *host, size_t hcap, char *path, size_t pcap,
    const char **method)
{
	uint32_t nl = 1 + rnd(5), ns = rnd(4), i;
	size_t n = 0;

	for (i = 0; i < nl; i++)
		n += (size_t)snprintf(host + n, hcap - n, "%s%s", i ? "." : "",
		    labels[rnd(NLAB)]);
	n = 0;
	path[0] = '\0';
	for (i = 0; i < ns; i++)
		n += (size_t)snprintf(path + n, pcap - n, "/%s",
		    rnd(5) == 0 ? "" : segs[rnd(NSEG)]);
	if (ns == 0 || rnd(5) == 0)
		snprintf(path + n, pcap - n, "/");
	*method = rnd(6) == 0 ? "PUT" : methods[rnd(NMETH)];
}

static void
test_random_policies(void)
{
	static char texts[64][256];
	FILE *quiet = fopen("/dev/null", "w");
	unsigned long decisions = 0, allowed = 0, mismatches = 0;
	int seed, fails = 0;

	for (seed = 1; seed <= 400; seed++) {
		struct arena a = { 0 };
		struct diag d = { 0 };
		struct src src = { "diff", NULL, 0 };
		struct rule rules[64];
		struct tbl t;
		struct bt bt;
		unsigned char *buf = NULL;
		size_t len;
		uint32_t n = 0, nr = 1 + (uint32_t)(seed % 40), i;
		char err[256];
		int q;

		rng = 0x9e3779b97f4a7c15ull * (uint64_t)seed;
		d.out = quiet;
		for (i = 0; i < nr; i++) {
			size_t tl = gen_rule(texts[n], sizeof(texts[n]));
			memset(&rules[n], 0, sizeof(rules[n]));
			rules[n].text = view_make(texts[n], tl);
			src.text = texts[n];
			src.len = tl;
			rules[n].loc = (struct rule_loc){ &src, 1, 1, 1 };
			rules[n].index = n;
			if (rule_parse(&a, &d, &rules[n]) == 0)
				n++;
		}
		if (build_table(&a, &d, rules, n, &t) == -1 ||
		    emit_table(&t, &buf, &len) == -1 ||
		    bt_load_mem(&bt, buf, len, err, sizeof(err)) == -1) {
			fails++;
			tap_diag("seed %d: policy did not build", seed);
			free(buf);
			arena_free(&a);
			continue;
		}
		for (q = 0; q < 300; q++) {
			char host[256], path[256];
			const char *m;
			struct bt_req rq;
			struct verdict v;
			int64_t want;

			gen_request(host, sizeof(host), path, sizeof(path), &m);
			rq.method = view_cstr(m);
			rq.host = view_cstr(host);
			rq.path = view_cstr(path);
			bt_decide(&bt, &rq, &v);
			want = ref_decide(rules, n, rq.method, rq.host, rq.path);
			decisions++;
			allowed += want >= 0;
			if ((want < 0) != (v.rule == BT_NONE) ||
			    (want >= 0 && (uint32_t)want != v.rule)) {
				if (mismatches++ < 5) {
					tap_diag("seed %d: %s %s %s: table %ld, "
					    "reference %ld", seed, m, host, path,
					    v.rule == BT_NONE ? -1L : (long)v.rule,
					    (long)want);
					for (i = 0; i < n; i++)
						tap_diag("  rule %u: %.*s", i,
						    (int)rules[i].text.n,
						    rules[i].text.p);
				}
			}
		}
		bt_close(&bt);
		free(buf);
		arena_free(&a);
	}
	fclose(quiet);
	is_int(fails, 0, "every random policy builds and loads");
	is_int(mismatches, 0, "%lu decisions agree with the reference "
	    "(%lu allowed)", decisions, allowed);
	ok(allowed > decisions / 20 && allowed < decisions - decisions / 20,
	    "the mix has both verdicts (%lu of %lu allowed)", allowed, decisions);
}

void
test_compiler__diff_c(void)
{
	subtest("random policies against the reference", test_random_policies);
}
