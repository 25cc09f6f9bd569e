/*
 * bt_decide benchmark (tests/bench/README.md): for policies of 10, 100,
 * 1,000 and 10,000 generated rules, the cost of one decision over a stream
 * of 1,000,000 pre-canonicalised requests, the same with canonicalisation,
 * a linear-scan matcher with the same semantics for comparison, compile
 * time, table size and heap allocations per decision.  Prints a markdown
 * table for README.md.
 *
 * Built by `make bench`:
 *   cc -O2 -I. -Ibuild/gen tests/bench/bench_decide.c build/libboundary.a -lyaml
 *
 * Exit status 1 if the compiled table and the linear scan ever disagree on
 * the first matching rule, if canonicalisation of the raw requests does not
 * give the expected canonical form, or if a decision allocates; the speed
 * targets are only reported.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compiler/compiler.h"
#include "compiler/diag.h"
#include "runtime/bt_format.h"
#include "runtime/runtime.h"
#include "tests/bench/gen_policy.h"

#define NREQ 1000000u		/* requests in the stream */
#define NCHECK 100000u		/* requests checked against the linear scan */
#define NPASS 7		/* timing passes per measurement; the best counts */
#define INTERLEAVED 7		/* rounds timing every size in turn, at the end */
#define LINEAR_BUDGET 50000000ull /* rule tests per linear-scan pass */
#define LINEAR_MIN 10000u	/* requests in a linear-scan pass, at least */
#define HOT_REQ 10000u		/* requests in the hot-cache loop */
#define HOT_ROUNDS 100u		/* times that prefix is decided */
#define SEED 0x626f756e64617279ull

/* ---- allocation counter (interposes the libc allocator) ------------------ */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static unsigned long long nalloc;

void *
malloc(size_t n)
{
	nalloc++;
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	nalloc++;
	return __libc_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	nalloc++;
	return __libc_realloc(p, n);
}

void
free(void *p)
{
	__libc_free(p);
}

/* ---- helpers --------------------------------------------------------------- */

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL) {
		fprintf(stderr, "bench_decide: out of memory\n");
		exit(1);
	}
	return p;
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		fprintf(stderr, "bench_decide: out of memory\n");
		exit(1);
	}
	return p;
}

/* ---- the request stream ---------------------------------------------------- */

/* Offsets into stream.mem while generating; turned into views at the end. */
struct sreq {
	const char *method;
	uint32_t host, host_len, path, path_len;	/* canonical */
	uint32_t rhost, rhost_len, rpath, rpath_len;	/* raw */
};

struct stream {
	uint32_t n;
	struct bt_req *req;	/* canonical: what bt_decide takes */
	struct bt_req *raw;	/* raw host[:port] and path, for canonicalising */
	char *mem;
	size_t used, cap;
	unsigned nhit, nmiss, nunknown;
};

static uint32_t
stream_put(struct stream *s, const char *p, size_t n)
{
	uint32_t off;

	if (s->used + n > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1u << 20;
		while (s->used + n > s->cap)
			s->cap *= 2;
		s->mem = xrealloc(s->mem, s->cap);
	}
	off = (uint32_t)s->used;
	memcpy(s->mem + s->used, p, n);
	s->used += n;
	return off;
}

/* Writes the raw spelling of a canonical host: case, trailing dot, port. */
static void
raw_host(struct gen_rng *r, const char *host, char *out)
{
	size_t i;

	strcpy(out, host);
	if (host[0] != '[') {
		if (gen_pct(r, 10))
			for (i = 0; out[i] != '\0' && out[i] != '.'; i++)
				if (out[i] >= 'a' && out[i] <= 'z')
					out[i] = (char)(out[i] - 'a' + 'A');
		if (gen_pct(r, 3))
			gen_cat(out, ".");
	}
	if (gen_pct(r, 10))
		gen_cat(out, ":443");
	else if (gen_pct(r, 5))
		gen_cat(out, ":8080");
}

/* Writes a raw spelling of a canonical path: "/./", "//", %XX letters. */
static void
raw_path(struct gen_rng *r, const char *path, char *out)
{
	size_t i;
	uint32_t k = gen_below(r, 100);

	out[0] = '\0';
	if (k < 10) {
		gen_cat(out, "/.");
		gen_cat(out, path);
	} else if (k < 15) {
		gen_cat(out, "/");
		gen_cat(out, path);
	} else if (k < 20) {
		for (i = 0; path[i] != '\0'; i++)
			if (path[i] >= 'a' && path[i] <= 'z')
				break;
		if (path[i] == '\0') {
			strcpy(out, path);
			return;
		}
		memcpy(out, path, i);
		snprintf(out + i, GEN_TEXT_MAX - i, "%%%02X%s",
		    (unsigned char)path[i], path + i + 1);
	} else
		strcpy(out, path);
}

static const char *
pick_method(struct gen_rng *r, const char *list)
{
	static const char *const known[] = { "GET", "HEAD", "POST", "PUT",
	    "DELETE" };
	const char *m;
	size_t i;

	if (list == NULL)
		return gen_methods[gen_below(r, GEN_NMETHODS)];
	/* the lists are made of the names in known[] */
	for (;;) {
		m = known[gen_below(r, 5)];
		for (i = 0; list[i] != '\0'; i++) {
			size_t n = strlen(m);
			if ((i == 0 || list[i - 1] == ',') &&
			    strncmp(list + i, m, n) == 0 &&
			    (list[i + n] == ',' || list[i + n] == '\0'))
				return m;
		}
	}
}

/* A host no rule was written for. */
static void
unknown_host(struct gen_rng *r, char *out)
{
	if (gen_pct(r, 2)) {
		snprintf(out, GEN_TEXT_MAX, "[2001:db8::%x]",
		    gen_below(r, 65536));
		return;
	}
	snprintf(out, GEN_TEXT_MAX, "%s.%sx%u.%s",
	    gen_prefixes[gen_below(r, GEN_NPREFIXES)],
	    gen_words[gen_below(r, GEN_NWORDS)], gen_below(r, 1000000),
	    gen_tlds[gen_below(r, GEN_NTLDS)]);
}

/*
 * One request: half of them aimed at a random rule, a fifth near misses
 * of a random rule (wrong subdomain, path or method), the rest unknown
 * hosts.
 */
static void
gen_request(struct gen_rng *r, const struct gen_rule *rules, uint32_t nrules,
    struct stream *s, const char **method, char *host, char *path)
{
	uint32_t k = gen_below(r, 100);
	const struct gen_rule *g = &rules[gen_below(r, nrules)];

	if (k < 50) {
		s->nhit++;
		if (g->kind == GEN_HOST_ANY)
			unknown_host(r, host);
		else
			gen_host_for(r, g->host, host);
		if (g->paths[0] != '\0')
			gen_path_for(r, g->paths, path);
		else
			gen_random_path(r, path);
		*method = pick_method(r, g->methods);
		return;
	}
	if (k < 70 && g->kind != GEN_HOST_ANY) {
		uint32_t what = gen_below(r, 3);

		s->nmiss++;
		gen_host_for(r, g->host, host);
		if (g->paths[0] != '\0')
			gen_path_for(r, g->paths, path);
		else
			gen_random_path(r, path);
		*method = pick_method(r, g->methods);
		if (what == 1 && g->paths[0] != '\0') {
			char tmp[GEN_TEXT_MAX];

			gen_random_path(r, tmp);
			strcpy(path, "/zz");
			gen_cat(path, tmp);
		} else if (what == 2 && g->methods != NULL)
			*method = "PATCH";
		else if (g->kind == GEN_HOST_EXACT) {
			char tmp[GEN_TEXT_MAX];

			strcpy(tmp, "v2.");
			gen_cat(tmp, host);
			strcpy(host, tmp);
		} else if (g->kind == GEN_HOST_LEADING)
			strcpy(host, g->host + 2);	/* the bare suffix */
		else {
			char tmp[GEN_TEXT_MAX];

			/* api.*.x.tld -> api.a.b.x.tld: two labels for '*' */
			strcpy(tmp, "api.eu.west.");
			gen_cat(tmp, g->host + 6);
			strcpy(host, tmp);
		}
		return;
	}
	s->nunknown++;
	unknown_host(r, host);
	if (gen_pct(r, 1))
		strcpy(path, "/healthz");
	else
		gen_random_path(r, path);
	*method = gen_methods[gen_below(r, GEN_NMETHODS)];
}

static void
stream_build(struct stream *s, struct gen_rng *r, const struct gen_rule *rules,
    uint32_t nrules, uint32_t n)
{
	struct sreq *q = xmalloc(n * sizeof(*q));
	char host[GEN_TEXT_MAX], path[GEN_TEXT_MAX];
	char rh[GEN_TEXT_MAX], rp[GEN_TEXT_MAX];
	uint32_t i;

	memset(s, 0, sizeof(*s));
	s->n = n;
	for (i = 0; i < n; i++) {
		gen_request(r, rules, nrules, s, &q[i].method, host, path);
		raw_host(r, host, rh);
		raw_path(r, path, rp);
		q[i].host_len = (uint32_t)strlen(host);
		q[i].host = stream_put(s, host, q[i].host_len);
		q[i].path_len = (uint32_t)strlen(path);
		q[i].path = stream_put(s, path, q[i].path_len);
		q[i].rhost_len = (uint32_t)strlen(rh);
		q[i].rhost = stream_put(s, rh, q[i].rhost_len);
		q[i].rpath_len = (uint32_t)strlen(rp);
		q[i].rpath = stream_put(s, rp, q[i].rpath_len);
	}
	s->req = xmalloc(n * sizeof(*s->req));
	s->raw = xmalloc(n * sizeof(*s->raw));
	for (i = 0; i < n; i++) {
		s->req[i].method = view_cstr(q[i].method);
		s->req[i].host = view_make(s->mem + q[i].host, q[i].host_len);
		s->req[i].path = view_make(s->mem + q[i].path, q[i].path_len);
		s->raw[i].method = s->req[i].method;
		s->raw[i].host = view_make(s->mem + q[i].rhost, q[i].rhost_len);
		s->raw[i].path = view_make(s->mem + q[i].rpath, q[i].rpath_len);
	}
	free(q);
}

static void
stream_free(struct stream *s)
{
	free(s->req);
	free(s->raw);
	free(s->mem);
	memset(s, 0, sizeof(*s));
}

/*
 * The raw spellings must canonicalise to exactly the canonical forms, or
 * the "with canonicalisation" column would decide other requests.
 */
static int
stream_check_canon(const struct stream *s)
{
	char hb[MAX_HOST_LEN + 8], pb[MAX_PATH_LEN + 1];
	uint16_t port;
	enum host_kind kind;
	uint32_t i;
	int hl, pl;

	for (i = 0; i < s->n; i++) {
		hl = url_host_canon(s->raw[i].host, hb, sizeof(hb), &port, &kind);
		pl = url_path_canon(s->raw[i].path, pb, sizeof(pb));
		if (hl < 0 || pl < 0 ||
		    !view_eq(view_make(hb, (size_t)hl), s->req[i].host) ||
		    !view_eq(view_make(pb, (size_t)pl), s->req[i].path)) {
			fprintf(stderr, "bench_decide: raw request %u '%.*s' "
			    "'%.*s' does not canonicalise to '%.*s' '%.*s'\n",
			    i, (int)s->raw[i].host.n, s->raw[i].host.p,
			    (int)s->raw[i].path.n, s->raw[i].path.p,
			    (int)s->req[i].host.n, s->req[i].host.p,
			    (int)s->req[i].path.n, s->req[i].path.p);
			return -1;
		}
	}
	return 0;
}

/* ---- the linear-scan matcher ----------------------------------------------- */

/*
 * The obvious implementation, for comparison: every rule is parsed into
 * element lists (host labels reversed, a leading '*' as MANY at the end),
 * and a request is split once and tested against each rule in order until
 * one matches.  Same semantics as DESIGN.md section 1 for the syntax the
 * generator writes (no escapes, no trailing dots).
 */
enum lkind { L_LIT, L_ONE, L_MANY };

struct lelem {
	const char *p;
	uint32_t n;
	uint32_t kind;
};

struct lrule {
	uint32_t any_method, any_host, any_path;
	uint32_t m_off, m_n;		/* methods in pool (as L_LIT) */
	uint32_t h_off, h_n;		/* host pattern, reversed */
	uint32_t p_off, p_n;		/* paths: p_n pattern headers */
};

struct lpath {
	uint32_t off, n;
};

struct linear {
	struct lrule *rules;
	uint32_t nrules;
	struct lelem *pool;
	uint32_t npool, cappool;
	struct lpath *paths;
	uint32_t npaths, cappaths;
};

#define LMAX_ITEMS 128

static uint32_t
lpool_add(struct linear *l, const char *p, size_t n, enum lkind kind)
{
	if (l->npool == l->cappool) {
		l->cappool = l->cappool ? 2 * l->cappool : 1024;
		l->pool = xrealloc(l->pool, l->cappool * sizeof(*l->pool));
	}
	l->pool[l->npool].p = p;
	l->pool[l->npool].n = (uint32_t)n;
	l->pool[l->npool].kind = kind;
	return l->npool++;
}

/* Splits [p, end) at <sep> into pool elements, '*' being ONE (or MANY). */
static uint32_t
lsplit(struct linear *l, const char *p, const char *end, char sep,
    uint32_t *count)
{
	uint32_t first = l->npool;

	*count = 0;
	for (;;) {
		const char *c = memchr(p, sep, (size_t)(end - p));
		const char *e = c ? c : end;
		size_t n = (size_t)(e - p);

		lpool_add(l, p, n, n == 1 && *p == '*' ? L_ONE : L_LIT);
		(*count)++;
		if (c == NULL)
			break;
		p = c + 1;
	}
	return first;
}

static int
linear_add(struct linear *l, struct lrule *lr, const char *text)
{
	const char *p = text;

	memset(lr, 0, sizeof(*lr));
	lr->any_method = lr->any_host = lr->any_path = 1;
	while (*p != '\0') {
		const char *end = strchr(p, ' '), *v;

		if (end == NULL)
			end = p + strlen(p);
		if (strncmp(p, "method=", 7) == 0) {
			v = p + 7;
			if (!(end - v == 1 && *v == '*')) {
				lr->any_method = 0;
				lr->m_off = lsplit(l, v, end, ',', &lr->m_n);
			}
		} else if (strncmp(p, "domain=", 7) == 0) {
			v = p + 7;
			if (!(end - v == 1 && *v == '*')) {
				uint32_t i, n;
				struct lelem tmp;

				lr->any_host = 0;
				lr->h_off = lsplit(l, v, end, '.', &n);
				lr->h_n = n;
				/* reverse: TLD first */
				for (i = 0; i < n / 2; i++) {
					tmp = l->pool[lr->h_off + i];
					l->pool[lr->h_off + i] =
					    l->pool[lr->h_off + n - 1 - i];
					l->pool[lr->h_off + n - 1 - i] = tmp;
				}
				if (l->pool[lr->h_off + n - 1].kind == L_ONE)
					l->pool[lr->h_off + n - 1].kind = L_MANY;
			}
		} else if (strncmp(p, "path=", 5) == 0) {
			v = p + 5;
			lr->any_path = 0;
			lr->p_off = l->npaths;
			while (v < end) {
				const char *c = memchr(v, ',', (size_t)(end - v));
				const char *e = c ? c : end;
				struct lpath *lp;

				if (l->npaths == l->cappaths) {
					l->cappaths = l->cappaths ?
					    2 * l->cappaths : 256;
					l->paths = xrealloc(l->paths,
					    l->cappaths * sizeof(*l->paths));
				}
				lp = &l->paths[l->npaths++];
				lr->p_n++;
				if (e - v == 1 && *v == '*') {
					lp->off = lpool_add(l, v, 1, L_MANY);
					lp->n = 1;
				} else {
					if (*v != '/')
						return -1;
					lp->off = lsplit(l, v + 1, e, '/', &lp->n);
					if (l->pool[lp->off + lp->n - 1].kind ==
					    L_ONE)
						l->pool[lp->off + lp->n - 1].kind =
						    L_MANY;
				}
				v = c ? c + 1 : end;
			}
		} else
			return -1;
		p = *end == ' ' ? end + 1 : end;
	}
	return 0;
}

static int
linear_init(struct linear *l, const struct gen_rule *rules, uint32_t n)
{
	uint32_t i;

	memset(l, 0, sizeof(*l));
	l->rules = xmalloc(n * sizeof(*l->rules));
	l->nrules = n;
	for (i = 0; i < n; i++)
		if (linear_add(l, &l->rules[i], rules[i].text) == -1) {
			fprintf(stderr, "bench_decide: linear: cannot parse "
			    "'%s'\n", rules[i].text);
			return -1;
		}
	return 0;
}

static void
linear_free(struct linear *l)
{
	free(l->rules);
	free(l->pool);
	free(l->paths);
	memset(l, 0, sizeof(*l));
}

static int
lmatch(const struct lelem *e, uint32_t ne, const struct view *it, uint32_t ni)
{
	uint32_t i, lim = ne;

	if (e[ne - 1].kind == L_MANY) {
		if (ni < ne)
			return 0;
		lim = ne - 1;
	} else if (ni != ne)
		return 0;
	for (i = 0; i < lim; i++)
		if (e[i].kind == L_LIT && (e[i].n != it[i].n ||
		    memcmp(e[i].p, it[i].p, e[i].n) != 0))
			return 0;
	return 1;
}

/* The first matching rule for a canonical request, or BT_NONE. */
static uint32_t
linear_decide(const struct linear *l, const struct bt_req *rq)
{
	struct view labels[LMAX_ITEMS], segs[LMAX_ITEMS];
	uint32_t nl = 0, ns = 0, i, j;
	int v6 = rq->host.n > 0 && rq->host.p[0] == '[';
	const char *p, *end;

	/* host labels, right to left */
	if (!v6) {
		end = rq->host.p + rq->host.n;
		p = end;
		while (p > rq->host.p && nl < LMAX_ITEMS) {
			const char *q = p;
			while (q > rq->host.p && q[-1] != '.')
				q--;
			labels[nl++] = view_make(q, (size_t)(p - q));
			p = q > rq->host.p ? q - 1 : q;
		}
	}
	/* path segments, left to right, after the leading '/' */
	p = rq->path.p + 1;
	end = rq->path.p + rq->path.n;
	for (;;) {
		const char *c = memchr(p, '/', (size_t)(end - p));
		const char *e = c ? c : end;

		if (ns == LMAX_ITEMS)
			break;
		segs[ns++] = view_make(p, (size_t)(e - p));
		if (c == NULL)
			break;
		p = c + 1;
	}

	for (i = 0; i < l->nrules; i++) {
		const struct lrule *r = &l->rules[i];

		if (!r->any_host && (v6 || !lmatch(l->pool + r->h_off, r->h_n,
		    labels, nl)))
			continue;
		if (!r->any_method) {
			for (j = 0; j < r->m_n; j++)
				if (view_eq(view_make(l->pool[r->m_off + j].p,
				    l->pool[r->m_off + j].n), rq->method))
					break;
			if (j == r->m_n)
				continue;
		}
		if (!r->any_path) {
			for (j = 0; j < r->p_n; j++) {
				const struct lpath *lp = &l->paths[r->p_off + j];
				if (lmatch(l->pool + lp->off, lp->n, segs, ns))
					break;
			}
			if (j == r->p_n)
				continue;
		}
		return i;
	}
	return BT_NONE;
}

/* ---- one policy size ------------------------------------------------------- */

struct result {
	uint32_t nrules;
	double ns, ns_hot, ns_canon, ns_linear, compile_ms, bytes_per_rule;
	double allocs_per_decision, allowed;
	uint32_t nlinear;
	/* kept after run_size for the interleaved re-timing in main() */
	struct bt bt;
	unsigned char *buf;
	struct stream s;
	int kept;
};

static volatile uint64_t sink;

static int
run_size(uint32_t nrules, struct result *res)
{
	struct gen_rng rng = { SEED ^ nrules };
	struct gen_rule *rules = xmalloc(nrules * sizeof(*rules));
	const char **texts = xmalloc(nrules * sizeof(*texts));
	struct compile_opts opts;
	struct compile_out out;
	struct stream s;
	struct linear lin;
	struct bt bt;
	struct verdict v;
	char err[256], hb[MAX_HOST_LEN + 8], pb[MAX_PATH_LEN + 1];
	double t0, t1, best;
	unsigned long long a0, a1;
	uint64_t sum;
	uint32_t i, pass, nallowed = 0, nlin, npass;
	int ret = -1, rep;

	memset(res, 0, sizeof(*res));
	res->nrules = nrules;
	gen_policy(&rng, nrules, rules);
	for (i = 0; i < nrules; i++)
		texts[i] = rules[i].text;

	/* compile: best of three, or one run if it is slow */
	memset(&opts, 0, sizeof(opts));
	opts.allow = texts;
	opts.nallow = nrules;
	opts.wno = (1u << W_COUNT) - 1;	/* 10,000 "subdomains" hints */
	best = 1e300;
	for (rep = 0; rep < 3; rep++) {
		t0 = now_ns();
		if (compiler_compile(&opts, &out) == -1) {
			fprintf(stderr, "bench_decide: %u rules do not compile\n",
			    nrules);
			goto done;
		}
		t1 = now_ns();
		if (t1 - t0 < best)
			best = t1 - t0;
		if (rep < 2) {
			free(out.buf);
			if (t1 - t0 > 3e8)
				rep = 2;	/* slow: measure once more only */
		}
	}
	res->compile_ms = best / 1e6;
	res->bytes_per_rule = (double)out.len / nrules;
	if (bt_load_mem(&bt, out.buf, out.len, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_decide: bt_load_mem: %s\n", err);
		free(out.buf);
		goto done;
	}

	stream_build(&s, &rng, rules, nrules, NREQ);
	if (stream_check_canon(&s) == -1)
		goto unload;
	if (linear_init(&lin, rules, nrules) == -1)
		goto lfree;

	/* the compiled table and the linear scan must agree */
	for (i = 0; i < NCHECK && i < s.n; i++) {
		uint32_t want = linear_decide(&lin, &s.req[i]);

		bt_decide(&bt, &s.req[i], &v);
		if (v.rule != want) {
			static char wb[BT_MAX_RULE_TEXT], gb[BT_MAX_RULE_TEXT];
			struct view w = want == BT_NONE ? VIEW_LIT("deny") :
			    view_make(wb, bt_rule_text(&bt, want, wb, sizeof(wb)));
			struct view g = v.rule == BT_NONE ? VIEW_LIT("deny") :
			    view_make(gb, bt_rule_text(&bt, v.rule, gb,
			    sizeof(gb)));

			fprintf(stderr, "bench_decide: %u rules: request %u "
			    "%.*s %.*s %.*s:\n  bt_decide: %.*s\n  linear:    "
			    "%.*s\n", nrules, i, (int)s.req[i].method.n,
			    s.req[i].method.p, (int)s.req[i].host.n,
			    s.req[i].host.p, (int)s.req[i].path.n,
			    s.req[i].path.p, (int)g.n, g.p, (int)w.n, w.p);
			goto lfree;
		}
	}

	/* bt_decide on canonical requests */
	best = 1e300;
	sum = 0;
	a0 = nalloc;
	for (pass = 0; pass < NPASS; pass++) {
		t0 = now_ns();
		for (i = 0; i < s.n; i++) {
			bt_decide(&bt, &s.req[i], &v);
			sum += v.rule;
		}
		t1 = now_ns();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	a1 = nalloc;
	res->ns = best / s.n;
	res->allocs_per_decision = (double)(a1 - a0) / ((double)s.n * NPASS);
	for (i = 0; i < s.n; i++) {
		bt_decide(&bt, &s.req[i], &v);
		nallowed += v.rule != BT_NONE;
	}
	res->allowed = (double)nallowed / s.n;

	/*
	 * For reference: a 10,000-request prefix decided 100 times over, so
	 * the requests stay in cache and only the table's footprint remains.
	 */
	best = 1e300;
	for (pass = 0; pass < NPASS; pass++) {
		uint32_t k, nhot = s.n < HOT_REQ ? s.n : HOT_REQ;

		t0 = now_ns();
		for (k = 0; k < HOT_ROUNDS; k++)
			for (i = 0; i < nhot; i++) {
				bt_decide(&bt, &s.req[i], &v);
				sum += v.rule;
			}
		t1 = now_ns();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	res->ns_hot = best / ((double)HOT_ROUNDS *
	    (s.n < HOT_REQ ? s.n : HOT_REQ));

	/* the same from raw host[:port] and path */
	best = 1e300;
	for (pass = 0; pass < NPASS; pass++) {
		t0 = now_ns();
		for (i = 0; i < s.n; i++) {
			struct bt_req rq;
			uint16_t port;
			enum host_kind kind;
			int hl, pl;

			hl = url_host_canon(s.raw[i].host, hb, sizeof(hb),
			    &port, &kind);
			pl = url_path_canon(s.raw[i].path, pb, sizeof(pb));
			if (hl < 0 || pl < 0)
				continue;
			rq.method = s.raw[i].method;
			rq.host = view_make(hb, (size_t)hl);
			rq.path = view_make(pb, (size_t)pl);
			bt_decide(&bt, &rq, &v);
			sum += v.rule;
		}
		t1 = now_ns();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	res->ns_canon = best / s.n;
	if (nalloc != a1) {
		fprintf(stderr, "bench_decide: %u rules: %llu allocations "
		    "while canonicalising and deciding\n", nrules, nalloc - a1);
		res->allocs_per_decision += (double)(nalloc - a1) /
		    ((double)s.n * NPASS);
	}

	/* the linear scan, on a prefix sized to a fixed amount of work */
	nlin = (uint32_t)(LINEAR_BUDGET / nrules);
	if (nlin < LINEAR_MIN)
		nlin = LINEAR_MIN;
	if (nlin > s.n)
		nlin = s.n;
	npass = (uint64_t)nlin * nrules > LINEAR_BUDGET ? 1 : NPASS;
	best = 1e300;
	for (pass = 0; pass < npass; pass++) {
		t0 = now_ns();
		for (i = 0; i < nlin; i++)
			sum += linear_decide(&lin, &s.req[i]);
		t1 = now_ns();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	res->ns_linear = best / nlin;
	res->nlinear = nlin;
	sink = sum;

	if (res->allocs_per_decision != 0) {
		fprintf(stderr, "bench_decide: %u rules: bt_decide allocated "
		    "(%llu allocations in %u decisions)\n", nrules, a1 - a0,
		    s.n * NPASS);
		goto lfree;
	}
	ret = 0;
 lfree:
	linear_free(&lin);
	if (ret == 0) {
		/* main() times this size again, interleaved with the others */
		res->bt = bt;
		res->buf = out.buf;
		res->s = s;
		res->kept = 1;
		goto done;
	}
 unload:
	stream_free(&s);
	bt_close(&bt);
	free(out.buf);
 done:
	free(texts);
	free(rules);
	return ret;
}

static const char *
met(int ok)
{
	return ok ? "met" : "NOT MET";
}

int
main(void)
{
	static const uint32_t sizes[] = { 10, 100, 1000, 10000 };
	struct result res[4];
	double t0 = now_ns();
	size_t i;
	int failed = 0;

	for (i = 0; i < 4; i++) {
		if (run_size(sizes[i], &res[i]) == -1) {
			failed = 1;
			break;
		}
		fprintf(stderr, "bench_decide: %5u rules: %.1f ns/decision "
		    "(%.1f hot), %.1f%% allowed, linear scan over %u "
		    "requests\n", res[i].nrules, res[i].ns, res[i].ns_hot,
		    100 * res[i].allowed, res[i].nlinear);
	}
	if (failed) {
		fprintf(stderr, "bench_decide: FAILED\n");
		return 1;
	}

	/*
	 * This machine is shared and its speed drifts over seconds, which
	 * would bias ratios between sizes measured one after the other.  So
	 * every size is timed again in INTERLEAVED rounds (10, 100, 1000,
	 * 10000, 10, ...), and each keeps its best pass overall.
	 */
	for (int round = 0; round < INTERLEAVED; round++)
		for (i = 0; i < 4; i++) {
			struct result *r = &res[i];
			struct verdict v;
			uint64_t sum = 0;
			double a, b, ns;
			uint32_t k;

			a = now_ns();
			for (k = 0; k < r->s.n; k++) {
				bt_decide(&r->bt, &r->s.req[k], &v);
				sum += v.rule;
			}
			b = now_ns();
			sink += sum;
			ns = (b - a) / r->s.n;
			if (ns < r->ns)
				r->ns = ns;
		}
	for (i = 0; i < 4; i++) {
		stream_free(&res[i].s);
		bt_close(&res[i].bt);
		free(res[i].buf);
	}

	printf("\nbt_decide, %u requests per pass, best of %d passes plus %d "
	    "interleaved rounds (%.0f s in all)\n\n", NREQ, NPASS, INTERLEAVED,
	    (now_ns() - t0) / 1e9);
	printf("| rules | ns/decision | vs 10-rule | ns with canonicalisation "
	    "| linear ns | speed-up | compile ms | bytes/rule "
	    "| allocs/decision |\n");
	printf("|------:|------------:|-----------:|-------------------------:"
	    "|----------:|---------:|-----------:|-----------:"
	    "|----------------:|\n");
	for (i = 0; i < 4; i++)
		printf("| %u | %.1f | %.2fx | %.1f | %.0f | %.1fx | %.2f | "
		    "%.1f | %.0f |\n", res[i].nrules, res[i].ns,
		    res[i].ns / res[0].ns, res[i].ns_canon, res[i].ns_linear,
		    res[i].ns_linear / res[i].ns, res[i].compile_ms,
		    res[i].bytes_per_rule, res[i].allocs_per_decision);
	printf("\ntargets:\n");
	printf("  <= 100 ns/decision at 10,000 rules:      %.1f ns  %s\n",
	    res[3].ns, met(res[3].ns <= 100));
	printf("  <= 1.5x the 10-rule cost at 10,000:       %.2fx    %s\n",
	    res[3].ns / res[0].ns, met(res[3].ns <= 1.5 * res[0].ns));
	printf("  >= 20x faster than linear at 1,000 rules: %.1fx    %s\n",
	    res[2].ns_linear / res[2].ns,
	    met(res[2].ns_linear >= 20 * res[2].ns));
	printf("  compile of 10,000 rules <= 1 s:           %.0f ms  %s\n",
	    res[3].compile_ms, met(res[3].compile_ms <= 1000));
	printf("  <= 64 bytes per rule at 10,000 rules:     %.1f B   %s\n",
	    res[3].bytes_per_rule, met(res[3].bytes_per_rule <= 64));
	printf("  zero allocations per decision:            %s\n",
	    met(res[0].allocs_per_decision == 0 &&
	    res[3].allocs_per_decision == 0));
	fflush(stdout);
	return 0;
}
