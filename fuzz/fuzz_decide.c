/*
 * Differential fuzzing (STYLE rule 35): the input is a small policy and a
 * few requests; the compiled table (build.c + emit.c + bt.c) must decide
 * every request exactly as the reference matcher tests/ref/ref_decide.c.
 *
 * Input: rule lines, an empty line, then request lines "METHOD HOST PATH".
 * Requests are also synthesised from each rule's own patterns, so that
 * matches are common and not only denials.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/arena.h"
#include "compiler/build.h"
#include "compiler/diag.h"
#include "compiler/rule.h"
#include "runtime/bt_format.h"
#include "runtime/runtime.h"
#include "tests/ref/ref_decide.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FUZZ_RULES 24
#define MAX_FUZZ_REQS 24

static FILE *devnull;

static void
check(const struct bt *bt, const struct rule *rules, uint32_t n,
    struct view m, struct view rawhost, struct view rawpath)
{
	char host[MAX_HOST_LEN + 8], path[MAX_PATH_LEN + 1];
	enum host_kind kind;
	uint16_t port;
	int hn, pn;
	struct bt_req rq;
	struct verdict v;
	int64_t want;

	hn = url_host_canon(rawhost, host, sizeof(host), &port, &kind);
	pn = url_path_canon(rawpath, path, sizeof(path));
	if (hn <= 0 || pn <= 0 || m.n == 0)
		return;
	rq.method = m;
	rq.host = view_make(host, (size_t)hn);
	rq.path = view_make(path, (size_t)pn);
	bt_decide(bt, &rq, &v);
	want = ref_decide(rules, n, rq.method, rq.host, rq.path);
	if ((want < 0 && v.rule != BT_NONE) ||
	    (want >= 0 && v.rule != (uint32_t)want)) {
		fprintf(stderr, "MISMATCH %.*s %.*s %.*s: table %d ref %d\n",
		    (int)m.n, m.p, hn, host, pn, path,
		    v.rule == BT_NONE ? -1 : (int)v.rule, (int)want);
		abort();
	}
}

/* A concrete host and path that a rule's patterns match (wildcards: "x"). */
static void
synth(const struct rule *r, char *host, size_t hcap, char *path, size_t pcap)
{
	size_t hn = 0, pn = 0;
	uint32_t i;

	host[0] = path[0] = '\0';
	for (i = r->host.n; i-- > 0;) {
		const struct pat_elem *e = &r->host.e[i];
		hn += (size_t)snprintf(host + hn, hcap - hn, "%s%.*s",
		    hn ? "." : "", e->kind == PAT_LIT ? (int)e->s.n : 1,
		    e->kind == PAT_LIT ? e->s.p : "x");
		if (hn >= hcap)
			return;
	}
	for (i = 0; r->npaths > 0 && i < r->paths[0].n; i++) {
		const struct pat_elem *e = &r->paths[0].e[i];
		pn += (size_t)snprintf(path + pn, pcap - pn, "/%.*s",
		    e->kind == PAT_LIT ? (int)e->s.n : 1,
		    e->kind == PAT_LIT ? e->s.p : "x");
		if (pn >= pcap)
			return;
	}
	if (pn == 0)
		snprintf(path, pcap, "/");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = { 0 };
	struct diag d;
	struct src src = { "fuzz", NULL, 0 };
	struct rule rules[MAX_FUZZ_RULES];
	struct tbl t;
	struct bt bt;
	unsigned char *buf = NULL;
	size_t len, i, start = 0;
	uint32_t n = 0, k;
	const char *p = (const char *)data;
	int in_reqs = 0, nreq = 0;
	char err[256];

	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	memset(&d, 0, sizeof(d));
	d.out = devnull;
	src.text = p;
	src.len = size;

	/* pass 1: rules */
	for (i = 0; i <= size && !in_reqs; i++) {
		if (i < size && p[i] != '\n')
			continue;
		if (i == start) {
			in_reqs = 1;
			start = i + 1;
			break;
		}
		if (n < MAX_FUZZ_RULES) {
			memset(&rules[n], 0, sizeof(rules[n]));
			rules[n].text = view_make(p + start, i - start);
			rules[n].loc = (struct rule_loc){ &src, 1, 1, 0 };
			rules[n].index = n;
			if (rule_parse(&a, &d, &rules[n]) == 0)
				n++;
		}
		start = i + 1;
	}
	if (build_table(&a, &d, rules, n, &t) == -1 ||
	    emit_table(&t, &buf, &len) == -1)
		goto done;
	if (bt_load_mem(&bt, buf, len, err, sizeof(err)) == -1) {
		fprintf(stderr, "fresh table refused: %s\n", err);
		abort();
	}
	/* pass 2: the given requests */
	for (i = start; in_reqs && i <= size && nreq < MAX_FUZZ_REQS; i++) {
		const char *line = p + start, *s1, *s2;
		size_t ln;
		if (i < size && p[i] != '\n')
			continue;
		ln = i - start;
		s1 = memchr(line, ' ', ln);
		s2 = s1 ? memchr(s1 + 1, ' ', ln - (size_t)(s1 + 1 - line)) : NULL;
		if (s2 != NULL)
			check(&bt, rules, n, view_make(line, (size_t)(s1 - line)),
			    view_make(s1 + 1, (size_t)(s2 - s1 - 1)),
			    view_make(s2 + 1, ln - (size_t)(s2 + 1 - line)));
		nreq++;
		start = i + 1;
	}
	/* and one request synthesised from each rule */
	for (k = 0; k < n; k++) {
		char host[512], path[1024];
		synth(&rules[k], host, sizeof(host), path, sizeof(path));
		check(&bt, rules, n, rules[k].any_method ? view_cstr("GET") :
		    rules[k].methods[0], view_cstr(host), view_cstr(path));
		check(&bt, rules, n, view_cstr("OPTIONS"), view_cstr(host),
		    view_cstr(path));
	}
	bt_close(&bt);
 done:
	free(buf);
	arena_free(&a);
	return 0;
}
