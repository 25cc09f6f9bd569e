/*
 * `boundary-compile --dump`: a compiled policy as canonical text, one item
 * per line and in a fixed order, so that two policies can be compared with
 * diff(1) and golden tests can pin the compiler's output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../runtime/bt_format.h"
#include "../runtime/runtime.h"
#include "dump.h"
#include "rule.h"

struct lab {
	struct view s;
	uint32_t to;
};

static int
cmp_lab(const void *a, const void *b)
{
	const struct lab *x = a, *y = b;
	size_t n = x->s.n < y->s.n ? x->s.n : y->s.n;
	int c = n ? memcmp(x->s.p, y->s.p, n) : 0;

	if (c != 0)
		return c;
	return x->s.n < y->s.n ? -1 : x->s.n > y->s.n;
}

static void
print_hacc(FILE *f, uint32_t acc)
{
	if (acc & BT_ACC_RULE)
		fprintf(f, "rule %u", BT_ACC_RULE_ID(acc));
	else
		fprintf(f, "set %u", acc);
}

static void
print_target(FILE *f, char prefix, uint32_t t)
{
	if (t == BT_DEAD)
		fprintf(f, "dead");
	else
		fprintf(f, "%c%u", prefix, t);
}

static void
print_list(FILE *f, const struct bt *bt, uint32_t off)
{
	uint32_t n, i;

	if (off & BT_LIST_ONE) {
		fprintf(f, "[%u]", BT_LIST_ITEM(off));
		return;
	}
	n = bt->u32[off];
	fputc('[', f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? " " : "", bt->u32[off + 1 + i]);
	fputc(']', f);
}

/* Edges of every state, grouped by source state and sorted by label. */
static int
dump_states(FILE *f, const struct bt *bt, const struct bt_state *st,
    uint32_t lo, uint32_t hi, const struct bt_edge *ed, uint32_t nslots,
    char prefix, int host)
{
	struct lab *labs;
	uint32_t *count, *first, i, s;

	labs = calloc(nslots, sizeof(*labs));
	count = calloc((size_t)(hi - lo) + 1, sizeof(*count));
	first = calloc((size_t)(hi - lo) + 1, sizeof(*first));
	if (labs == NULL || count == NULL || first == NULL) {
		free(labs);
		free(count);
		free(first);
		return -1;
	}
	for (i = 0; i < nslots; i++)
		if (ed[i].from != BT_NONE && ed[i].from >= lo && ed[i].from < hi)
			count[ed[i].from - lo]++;
	for (s = lo, i = 0; s < hi; s++) {
		first[s - lo] = i;
		i += count[s - lo];
		count[s - lo] = 0;
	}
	for (i = 0; i < nslots; i++) {
		const struct bt_edge *e = &ed[i];
		uint32_t k;
		if (e->from == BT_NONE || e->from < lo || e->from >= hi)
			continue;
		k = first[e->from - lo] + count[e->from - lo]++;
		labs[k].s = view_make(bt->strings + BT_EDGE_OFF(e),
		    BT_EDGE_LEN(e));
		labs[k].to = e->to;
	}
	for (s = lo; s < hi; s++) {
		uint32_t n = count[s - lo], acc = st[s].acc;
		struct lab *l = labs + first[s - lo];

		qsort(l, n, sizeof(*l), cmp_lab);
		fprintf(f, "  %c%u:", prefix, s);
		for (i = 0; i < n; i++)
			fprintf(f, " \"%.*s\"->%c%u", (int)l[i].s.n, l[i].s.p,
			    prefix, l[i].to);
		fprintf(f, " *->");
		print_target(f, prefix, st[s].def & BT_STATE_MASK);
		if (acc != BT_NONE) {
			if (!host) {
				fprintf(f, " accept ");
				print_list(f, bt, acc);
			} else {
				fprintf(f, " accept ");
				print_hacc(f, acc);
			}
		}
		fputc('\n', f);
	}
	free(labs);
	free(count);
	free(first);
	return 0;
}

/* The exact hosts, sorted by name (the table order depends on hashing). */
static int
dump_xhosts(FILE *f, const struct bt *bt)
{
	struct lab *l = calloc(bt->nxhosts + 1, sizeof(*l));
	uint32_t i, n = 0;

	if (l == NULL)
		return -1;
	for (i = 0; i < bt->nxhosts; i++) {
		const struct bt_xslot *x = &bt->xhosts[i];
		uint32_t off = x->str, hdr, len;

		if (bt->xtags[i] == BT_TAG_EMPTY)
			continue;
		len = bt_cstr(bt->strings + off, &hdr);

		l[n].s = view_make(bt->strings + off + hdr, len);
		l[n++].to = x->acc;
	}
	qsort(l, n, sizeof(*l), cmp_lab);
	fprintf(f, "exact hosts: %u\n", n);
	for (i = 0; i < n; i++) {
		fprintf(f, "  %.*s: ", (int)l[i].s.n, l[i].s.p);
		print_hacc(f, l[i].to);
		fputc('\n', f);
	}
	free(l);
	return 0;
}

int
dump_policy(FILE *f, const struct bt *bt)
{
	struct arena a = { 0 };
	struct diag d = { 0 };
	struct src src = { "policy", NULL, 0 };
	uint32_t i;

	d.out = stderr;
	fprintf(f, "boundary policy format %u\n", BT_VERSION);
	fprintf(f, "rules %u\n", bt->nrules);
	for (i = 0; i < bt->nrules; i++) {
		struct rule r;
		struct view canon;

		char *text = arena_alloc(&a, BT_MAX_RULE_TEXT);

		memset(&r, 0, sizeof(r));
		r.text = view_make(text, bt_rule_text(bt, i, text,
		    BT_MAX_RULE_TEXT));
		r.index = i;
		src.text = r.text.p;
		src.len = r.text.n;
		r.loc = (struct rule_loc){ &src, 1, 1, 1 };
		if (rule_parse(&a, &d, &r) == -1) {
			fprintf(f, "rule %u: (unparsable) %.*s\n", i,
			    (int)r.text.n, r.text.p);
			continue;
		}
		canon = rule_canon(&a, &r);
		fprintf(f, "rule %u: %.*s\n", i, (int)canon.n, canon.p);
		if (!view_eq(canon, r.text))
			fprintf(f, "  written: %.*s\n", (int)r.text.n, r.text.p);
	}
	fprintf(f, "methods");
	for (i = 0; i < bt->nmethods; i++)
		fprintf(f, " %.*s", (int)bt->methods[i].len,
		    bt->strings + bt->methods[i].off);
	fprintf(f, "\n");
	if (dump_xhosts(f, bt) == -1)
		goto fail;
	fprintf(f, "host automaton: %u states\n", bt->nhstates);
	if (dump_states(f, bt, bt->hstates, 0, bt->nhstates, bt->hedges,
	    bt->nhedges, 'h', 1) == -1)
		goto fail;
	if (bt->universal != BT_NONE)
		fprintf(f, "every host: set %u\n", bt->universal);
	fprintf(f, "candidate sets: %u\n", bt->ncsets);
	for (i = 0; i < bt->ncsets; i++) {
		fprintf(f, "  set %u: rules ", i);
		print_list(f, bt, bt->csets[i].rules);
		fprintf(f, " paths %u\n", bt->csets[i].pdfa);
	}
	fprintf(f, "path automata: %u\n", bt->npdfas);
	for (i = 0; i < bt->npdfas; i++) {
		const struct bt_pdfa *p = &bt->pdfas[i];
		fprintf(f, " paths %u: start p%u\n", i, p->start);
		if (dump_states(f, bt, bt->pstates, p->start,
		    p->start + p->nstates, bt->pedges, bt->npedges, 'p', 0) == -1)
			goto fail;
	}
	arena_free(&a);
	return ferror(f) ? -1 : 0;
 fail:
	arena_free(&a);
	return -1;
}
