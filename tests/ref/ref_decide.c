/*
 * Obviously-correct matcher: no automaton, no sharing, no cleverness.
 * Used only by tests and fuzzers to check bt_decide against.
 */
#include <string.h>

#include "ref_decide.h"

#define REF_MAX 2048

/* Does pattern <p> match the <n> items of <v>? */
static int
ref_match(const struct pattern *p, const struct view *v, int n)
{
	int i;

	for (i = 0; i < (int)p->n; i++) {
		if (p->e[i].kind == PAT_MANY)	/* last: one or more left */
			return n - i >= 1;
		if (i >= n)
			return 0;
		if (p->e[i].kind == PAT_LIT && !view_eq(p->e[i].s, v[i]))
			return 0;
	}
	return n == (int)p->n;
}

int64_t
ref_decide(const struct rule *rules, uint32_t n, struct view method,
    struct view host, struct view path)
{
	static struct view lab[REF_MAX], seg[REF_MAX];
	int nl = 0, ns = 0;
	size_t i, start;
	uint32_t r, k;

	/* host labels, TLD first; an IPv6 literal is a single label */
	if (host.n > 0 && host.p[0] == '[')
		lab[nl++] = host;
	else if (host.n > 0) {
		size_t end = host.n;
		for (i = host.n; i-- > 0;) {
			if (host.p[i] == '.') {
				lab[nl++] = view_make(host.p + i + 1, end - i - 1);
				end = i;
			}
			if (nl == REF_MAX - 1)
				return -1;
		}
		lab[nl++] = view_make(host.p, end);
	}
	/* path segments after the leading '/' */
	start = 1;
	for (i = 1; i <= path.n; i++) {
		if (i == path.n || path.p[i] == '/') {
			if (ns == REF_MAX)
				return -1;
			seg[ns++] = view_make(path.p + start, i - start);
			start = i + 1;
		}
	}
	for (r = 0; r < n; r++) {
		const struct rule *ru = &rules[r];
		int ok = ru->any_method;

		for (k = 0; !ok && k < ru->nmethods; k++)
			ok = view_eq(ru->methods[k], method);
		if (!ok || !ref_match(&ru->host, lab, nl))
			continue;
		for (k = 0; k < ru->npaths; k++)
			if (ref_match(&ru->paths[k], seg, ns))
				return r;
	}
	return -1;
}
