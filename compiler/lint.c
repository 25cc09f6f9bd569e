/*
 * Policy-level warnings (see lint.h).  Duplicates are found with a hash of
 * canonical rule texts; shadowing with a trie over the reversed host
 * patterns of earlier rules, walked along the branches that can cover a
 * rule's host (an equal label, a one-label '*', a trailing "any further
 * labels"), so only rules whose host already covers are compared in full.
 * The comparisons per rule are capped: beyond the cap a warning may be
 * missed, never given wrongly.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../runtime/view.h"
#include "arena.h"
#include "diag.h"
#include "lint.h"
#include "rule.h"

#define MAX_CANDIDATES 64	/* earlier rules compared with one rule */
#define MAX_VISITS 4096		/* trie nodes visited for one rule */

/* A trie node: the host patterns with this prefix (reversed labels). */
struct node {
	uint32_t one;		/* child for a one-label '*', 0 if none */
	uint32_t exact;		/* rules whose pattern ends here (list), 0 */
	uint32_t many;		/* rules whose pattern is this + MANY, 0 */
	int warned;		/* W_SUBDOMAINS given for this exact host */
};

/* An exact-label edge, in an open-addressed hash keyed by (parent, label). */
struct edge {
	uint32_t parent, child;	/* child 0: empty slot */
	struct view label;
};

/* Entry of a rule list; lists are kept in policy order. */
struct item {
	uint32_t rule, next;	/* next: item index + 1, 0 at the end */
};

struct lint {
	struct arena *a;
	struct node *nodes;
	size_t nnodes, capnodes;
	struct edge *edges;
	size_t edge_mask;
	struct item *items;
	uint32_t nitems;
	uint32_t *tails;	/* per node and list: last item + 1, 2 per node */
	/* one query */
	uint32_t cand[MAX_CANDIDATES];
	unsigned ncand, visits;
};

static uint64_t
hash_bytes(uint64_t h, const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t
edge_hash(uint32_t parent, struct view label)
{
	uint64_t h = 0xcbf29ce484222325ull ^ parent;

	h *= 0x100000001b3ull;
	return hash_bytes(h, label.p, label.n);
}

static uint32_t
edge_find(const struct lint *l, uint32_t parent, struct view label)
{
	size_t i = (size_t)edge_hash(parent, label) & l->edge_mask;

	for (;; i = (i + 1) & l->edge_mask) {
		const struct edge *e = &l->edges[i];
		if (e->child == 0)
			return 0;
		if (e->parent == parent && view_eq(e->label, label))
			return e->child;
	}
}

static uint32_t
new_node(struct lint *l)
{
	uint32_t *t;

	if (l->nnodes == l->capnodes) {
		l->nodes = arena_grow(l->a, l->nodes, l->nnodes, &l->capnodes,
		    sizeof(*l->nodes));
		t = arena_zalloc(l->a, 2 * l->capnodes * sizeof(*t));
		if (l->nnodes > 0)
			memcpy(t, l->tails, 2 * l->nnodes * sizeof(*t));
		l->tails = t;
	}
	memset(&l->nodes[l->nnodes], 0, sizeof(l->nodes[0]));
	return (uint32_t)l->nnodes++;
}

/* Appends rule <ri> to list <which> (0 exact, 1 many) of node <nd>. */
static void
list_add(struct lint *l, uint32_t nd, int which, uint32_t ri)
{
	uint32_t *head = which ? &l->nodes[nd].many : &l->nodes[nd].exact;
	uint32_t *tail = &l->tails[2 * nd + (uint32_t)which];

	l->items[l->nitems].rule = ri;
	l->items[l->nitems].next = 0;
	l->nitems++;
	if (*head == 0)
		*head = l->nitems;
	else
		l->items[*tail - 1].next = l->nitems;
	*tail = l->nitems;
}

/* Files rule <ri> under its host pattern. */
static void
trie_insert(struct lint *l, const struct rule *r, uint32_t ri)
{
	const struct pattern *h = &r->host;
	uint32_t nd = 0, i, c;

	for (i = 0; i < h->n; i++) {
		const struct pat_elem *pe = &h->e[i];
		if (pe->kind == PAT_MANY) {
			list_add(l, nd, 1, ri);
			return;
		}
		if (pe->kind == PAT_ONE) {
			if (l->nodes[nd].one == 0) {
				c = new_node(l);
				l->nodes[nd].one = c;
			}
			nd = l->nodes[nd].one;
			continue;
		}
		c = edge_find(l, nd, pe->s);
		if (c == 0) {
			size_t k = (size_t)edge_hash(nd, pe->s) & l->edge_mask;
			c = new_node(l);
			while (l->edges[k].child != 0)
				k = (k + 1) & l->edge_mask;
			l->edges[k].parent = nd;
			l->edges[k].child = c;
			l->edges[k].label = pe->s;
		}
		nd = c;
	}
	list_add(l, nd, 0, ri);
}

static void
collect(struct lint *l, uint32_t head)
{
	uint32_t it;

	for (it = head; it != 0 && l->ncand < MAX_CANDIDATES;
	    it = l->items[it - 1].next)
		l->cand[l->ncand++] = l->items[it - 1].rule;
}

/*
 * Collects the rules filed at or below node <nd> (depth <i>) whose host
 * pattern covers <b> (see pattern_covers in rule.c): a pattern ending in
 * MANY here covers b if b has at least one more element; one ending here
 * covers b if b ends here too.
 */
static void
walk(struct lint *l, uint32_t nd, uint32_t i, const struct pattern *b)
{
	const struct node *n = &l->nodes[nd];
	uint32_t c;

	if (++l->visits > MAX_VISITS || l->ncand >= MAX_CANDIDATES)
		return;
	if (i < b->n)
		collect(l, n->many);
	if (i == b->n) {
		collect(l, n->exact);
		return;
	}
	if (b->e[i].kind == PAT_MANY)
		return;		/* only a MANY covers a MANY */
	if (b->e[i].kind == PAT_LIT) {
		c = edge_find(l, nd, b->e[i].s);
		if (c != 0)
			walk(l, c, i + 1, b);
	}
	if (n->one != 0)
		walk(l, n->one, i + 1, b);
}

static void
query(struct lint *l, const struct pattern *b)
{
	l->ncand = 0;
	l->visits = 0;
	walk(l, 0, 0, b);
}

/* "config.yaml:3:5", or the source's name, for a message. */
static const char *
where(char *buf, size_t cap, struct srcpos pos)
{
	if (pos.src != NULL && pos.line != 0)
		snprintf(buf, cap, "%s:%u:%u", pos.src->name, pos.line,
		    pos.col);
	else if (pos.src != NULL)
		snprintf(buf, cap, "%s", pos.src->name);
	else
		snprintf(buf, cap, "an earlier rule");
	return buf;
}

static size_t
offset_in(const struct rule *r, const char *p)
{
	if (p != NULL && p >= r->text.p && p < r->text.p + r->text.n)
		return (size_t)(p - r->text.p);
	return 0;
}

static void
lowercase_methods(struct diag *d, const struct rule *r)
{
	char up[64];
	uint32_t i;
	size_t k;

	for (i = 0; i < r->nmethods; i++) {
		struct view m = r->methods[i];
		int lower = 0;

		for (k = 0; k < m.n && k + 1 < sizeof(up); k++) {
			up[k] = m.p[k];
			if (m.p[k] >= 'a' && m.p[k] <= 'z') {
				up[k] = (char)(m.p[k] - ('a' - 'A'));
				lower = 1;
			}
		}
		up[k] = '\0';
		if (lower)
			diag_warn(d, W_LOWERCASE_METHOD, rule_pos(r,
			    offset_in(r, m.p)), "method '%.*s' has lowercase "
			    "letters; methods are case-sensitive; did you mean "
			    "'%s'?", (int)m.n, m.p, up);
	}
}

/*
 * domain=x.y without a rule for *.x.y (or broader): the user probably
 * wanted the subdomains as well.  Warned once per host.
 */
static void
subdomains(struct lint *l, struct diag *d, const struct rule *r)
{
	const struct pattern *h = &r->host;
	struct pat_elem e[3];
	struct pattern b;
	uint32_t nd;
	char host[2 * 64 + 2];
	const char *at;

	if (h->n != 2 || h->e[0].kind != PAT_LIT || h->e[1].kind != PAT_LIT ||
	    h->e[0].s.n + h->e[1].s.n + 2 > sizeof(host))
		return;
	nd = edge_find(l, 0, h->e[0].s);
	if (nd != 0)
		nd = edge_find(l, nd, h->e[1].s);
	if (nd == 0 || l->nodes[nd].warned)
		return;
	e[0] = h->e[0];
	e[1] = h->e[1];
	e[2].kind = PAT_MANY;
	e[2].s = view_make(NULL, 0);
	b.n = 3;
	b.e = e;
	query(l, &b);
	if (l->ncand > 0 || l->visits > MAX_VISITS)
		return;
	l->nodes[nd].warned = 1;
	snprintf(host, sizeof(host), "%.*s.%.*s", (int)h->e[1].s.n,
	    h->e[1].s.p, (int)h->e[0].s.n, h->e[0].s.p);
	/* the caret goes under the host if it is a view of the text */
	at = h->e[1].s.p;
	if (offset_in(r, at) == 0) {
		at = memmem(r->text.p, r->text.n, "domain=", 7);
		if (at != NULL)
			at += 7;
	}
	diag_warn(d, W_SUBDOMAINS, rule_pos(r, offset_in(r, at)),
	    "'domain=%s' matches %s only, not its subdomains; add "
	    "'domain=*.%s' if you meant both", host, host, host);
}

void
lint_rules(struct arena *a, struct diag *d, struct rule *rules, uint32_t n)
{
	struct lint l;
	struct view *canon;
	uint32_t *dup;		/* canonical text hash: rule index + 1 */
	size_t dmask, nlabels = 0, cap, i, k;
	char buf[512];

	if (n == 0)
		return;
	memset(&l, 0, sizeof(l));
	l.a = a;
	for (i = 0; i < n; i++)
		nlabels += rules[i].host.n;
	for (cap = 16; cap < 2 * nlabels + 2; cap *= 2)
		;
	l.edges = arena_zalloc(a, cap * sizeof(*l.edges));
	l.edge_mask = cap - 1;
	l.items = arena_alloc(a, n * sizeof(*l.items));
	(void)new_node(&l);	/* the root */

	for (cap = 16; cap < 2 * (size_t)n; cap *= 2)
		;
	dup = arena_zalloc(a, cap * sizeof(*dup));
	dmask = cap - 1;
	canon = arena_alloc(a, n * sizeof(*canon));

	for (i = 0; i < n; i++) {
		struct rule *r = &rules[i];
		uint32_t best = UINT32_MAX;
		unsigned c;

		lowercase_methods(d, r);

		canon[i] = rule_canon(a, r);
		k = (size_t)hash_bytes(0xcbf29ce484222325ull, canon[i].p,
		    canon[i].n) & dmask;
		while (dup[k] != 0 && !view_eq(canon[dup[k] - 1], canon[i]))
			k = (k + 1) & dmask;
		if (dup[k] != 0) {
			struct rule *e = &rules[dup[k] - 1];
			diag_warn(d, W_DUPLICATE, rule_pos(r, 0), "duplicate "
			    "rule: the rule at %s is the same",
			    where(buf, sizeof(buf), rule_pos(e, 0)));
			diag_note(d, rule_pos(e, 0), "first written here");
			continue;
		}
		dup[k] = (uint32_t)i + 1;

		query(&l, &r->host);
		for (c = 0; c < l.ncand; c++)
			if (l.cand[c] < best &&
			    rule_covers(&rules[l.cand[c]], r))
				best = l.cand[c];
		if (best != UINT32_MAX) {
			struct rule *e = &rules[best];
			diag_warn(d, W_SHADOWED, rule_pos(r, 0), "rule never "
			    "matches first: rule at %s already allows every "
			    "request it allows", where(buf, sizeof(buf),
			    rule_pos(e, 0)));
			diag_note(d, rule_pos(e, 0), "the earlier rule is here");
		}
		trie_insert(&l, r, (uint32_t)i);
	}
	for (i = 0; i < n; i++)
		subdomains(&l, d, &rules[i]);
}
