/*
 * Per-rule matching in words, for `boundary-compile --explain`.  This is
 * deliberately the plain reading of DESIGN.md section 1, one rule at a
 * time; the decision itself always comes from runtime/bt.c.
 */
#include <stdio.h>
#include <string.h>

#include "../runtime/limits.h"
#include "explain.h"

int
explain_split_host(struct view host, struct view *out, int max)
{
	const char *end = host.p + host.n;
	int n = 0;

	if (host.n == 0)
		return 0;
	if (host.p[0] == '[') {
		out[0] = host;
		return 1;
	}
	for (;;) {
		const char *dot = memrchr(host.p, '.', (size_t)(end - host.p));
		const char *lab = dot ? dot + 1 : host.p;
		if (n == max)
			return -1;
		out[n++] = view_make(lab, (size_t)(end - lab));
		if (dot == NULL)
			return n;
		end = dot;
	}
}

int
explain_split_path(struct view path, struct view *out, int max)
{
	const char *p = path.p + 1, *end = path.p + path.n;
	int n = 0;

	if (path.n == 0 || path.p[0] != '/')
		return -1;
	for (;;) {
		const char *q = memchr(p, '/', (size_t)(end - p));
		if (q == NULL)
			q = end;
		if (n == max)
			return -1;
		out[n++] = view_make(p, (size_t)(q - p));
		if (q == end)
			return n;
		p = q + 1;
	}
}

int
explain_match(const struct pattern *p, const struct view *v, int n)
{
	uint32_t i;

	for (i = 0; i < p->n; i++) {
		const struct pat_elem *e = &p->e[i];
		if (e->kind == PAT_MANY)
			return n > (int)i;
		if ((int)i >= n)
			return 0;
		if (e->kind == PAT_LIT && !view_eq(e->s, v[i]))
			return 0;
	}
	return n == (int)p->n;
}

int
explain_rule(const struct rule *r, struct view method, struct view host,
    struct view path, char *why, size_t whylen)
{
	struct view lab[MAX_HOST_LABELS + 1], seg[MAX_PATH_SEGMENTS + 1];
	int nl, ns;
	uint32_t i;

	if (!r->any_method) {
		for (i = 0; i < r->nmethods; i++)
			if (view_eq(r->methods[i], method))
				break;
		if (i == r->nmethods) {
			snprintf(why, whylen, "method %.*s is not in its method "
			    "list", (int)method.n, method.p);
			return 0;
		}
	}
	nl = explain_split_host(host, lab, MAX_HOST_LABELS + 1);
	if (nl < 0 || !explain_match(&r->host, lab, nl)) {
		snprintf(why, whylen, "host %.*s does not match its domain "
		    "pattern", (int)host.n, host.p);
		return 0;
	}
	ns = explain_split_path(path, seg, MAX_PATH_SEGMENTS + 1);
	for (i = 0; ns >= 0 && i < r->npaths; i++)
		if (explain_match(&r->paths[i], seg, ns))
			break;
	if (ns < 0 || i == r->npaths) {
		snprintf(why, whylen, "path %.*s matches none of its path "
		    "patterns", (int)path.n, path.p);
		return 0;
	}
	snprintf(why, whylen, "matches");
	return 1;
}
