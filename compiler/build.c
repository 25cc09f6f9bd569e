/*
 * From parsed rules to the decision automata (format: runtime/bt_format.h).
 *
 * Patterns are sequences of LIT / ONE / MANY elements (compiler/rule.h);
 * host patterns are reversed so both automata read their input left to
 * right.  A set of patterns becomes a DFA by subset construction over NFA
 * positions (pattern k, elements consumed i):
 *
 *   (k,i) with element LIT s  --s-->   (k,i+1)
 *   (k,i) with element ONE    --any--> (k,i+1)
 *   (k,i) with element MANY   --any--> (k,n)      (MANY is the last element)
 *   (k,n) after MANY          --any--> (k,n)      (one or more)
 *   (k,n)                     accepts pattern k's payload
 *
 * A DFA state is a sorted set of positions.  Its default edge is the set
 * reached by wildcard moves alone; each literal label of its positions gets
 * an edge to the default set plus the literal moves.  So a walk never
 * branches and looks up one edge per label.
 *
 * Host acceptance yields the rules whose host pattern accepts; each
 * distinct set of them gets a path DFA over exactly their path patterns
 * (payload: index in the set), shared between sets of the same shape.
 * Rules for every host ("*") form the universal set, decided for every
 * request, so they are not copied into every host state.
 */
#include <stdlib.h>
#include <string.h>

#include "../runtime/limits.h"
#include "build.h"
#include "map.h"

/* A pattern element with its label interned. */
struct celem {
	uint32_t str;		/* BT_EDGE_STR(off, len) for PAT_LIT */
	enum pat_kind kind;
};

struct cpat {
	uint32_t n;
	const struct celem *el;
	uint32_t payload;
};

/*
 * Bytes [tpos, tpos + n) of a rule's text were stored at STRINGS offset
 * boff; labels and segments that lie there cost nothing more.
 */
struct region {
	uint32_t tpos, n, boff;
};

#define RULE_REGIONS 3

struct builder {
	struct arena *a;
	struct diag *d;
	struct tbl *t;
	const struct rule *rules;
	uint32_t nrules;
	struct region *regions;	/* per rule: where parts of its text went */
	struct map strmap;	/* label bytes -> BT_EDGE_STR */
	struct map cstrmap;	/* counted string bytes -> offset */
	struct map mlistmap;	/* method list string offset -> MLISTS index */
	struct map listmap;	/* counted list -> offset in U32 */
	struct map csetmap;	/* rule list -> cset */
	struct map pdfamap;	/* path DFA shape -> pdfa */
	struct map maskmap;	/* mask -> index */
	struct cpat *hpat;	/* per rule: reversed host pattern */
	struct cpat **ppat;	/* per rule: path patterns */
	int failed;
};

#define GROW(b, arr, n, cap) \
	do { \
		if ((n) == (cap)) \
			(arr) = arena_grow((b)->a, (arr), (n), &(cap), sizeof(*(arr))); \
	} while (0)

static void
too_large(struct builder *b, const char *what)
{
	if (!b->failed)
		diag_error(b->d, (struct srcpos){ 0 },
		    "policy too large: %s exceeds the table format's limit", what);
	b->failed = 1;
}

/* Appends bytes to STRINGS; returns their offset. */
static uint32_t
str_append(struct builder *b, const char *p, size_t n)
{
	struct tbl *t = b->t;
	size_t off = t->nstr;

	if (t->nstr + n > MAX_POLICY_STRINGS) {
		too_large(b, "the string section");
		return 0;
	}
	while (t->nstr + n > t->capstr) {
		size_t cap = t->capstr ? t->capstr * 2 : 4096;
		char *s = arena_alloc(b->a, cap);
		if (t->nstr)
			memcpy(s, t->str, t->nstr);
		t->str = s;
		t->capstr = cap;
	}
	if (n)
		memcpy(t->str + t->nstr, p, n);
	t->nstr += n;
	return (uint32_t)off;
}

/*
 * Interns label <s> of rule <r>: the first occurrence of these bytes is
 * reused; a label that is a substring of its rule's text points there, so
 * most labels cost nothing beyond the rule text.
 */
static uint32_t
intern_label(struct builder *b, const struct rule *r, struct view s)
{
	uint32_t *v, off = BT_NONE;
	int found, k;

	if (s.n > BT_MAX_EDGE_LABEL) {
		too_large(b, "a label or segment");
		return 0;
	}
	v = map_put(&b->strmap, s.p, s.n, &found);
	if (found)
		return *v;
	if (r != NULL && s.n > 0 && s.p >= r->text.p &&
	    s.p + s.n <= r->text.p + r->text.n) {
		uint32_t pos = (uint32_t)(s.p - r->text.p);
		for (k = 0; k < RULE_REGIONS; k++) {
			const struct region *g = &b->regions[r->index *
			    RULE_REGIONS + k];
			if (g->n > 0 && pos >= g->tpos &&
			    pos + s.n <= g->tpos + g->n) {
				off = g->boff + (pos - g->tpos);
				break;
			}
		}
	}
	if (off == BT_NONE) {
		uint32_t *keep = v;
		off = str_append(b, s.p, s.n);
		v = keep;	/* str_append does not touch the map */
	}
	if (off >= BT_MAX_STRINGS) {
		too_large(b, "the string section");
		return 0;
	}
	*v = BT_EDGE_STR(off, s.n);
	return *v;
}

/*
 * Interns a counted string (length prefix, then the bytes; bt_cstr) and
 * returns its offset; equal strings are stored once.
 */
static uint32_t
intern_cstr(struct builder *b, struct view s)
{
	uint32_t *v, off;
	unsigned char len[2];
	int found;

	if (s.n > BT_MAX_CSTR) {
		too_large(b, "a string");
		return 0;
	}
	v = map_put(&b->cstrmap, s.p, s.n, &found);
	if (found)
		return *v;
	if (s.n < 0x80) {
		len[0] = (unsigned char)s.n;
		off = str_append(b, (const char *)len, 1);
	} else {
		len[0] = (unsigned char)(0x80 | (s.n & 0x7f));
		len[1] = (unsigned char)(s.n >> 7);
		off = str_append(b, (const char *)len, 2);
	}
	str_append(b, s.p, s.n);
	*v = off;
	return off;
}

/*
 * A list reference for <n> items: the item itself for one, else the offset
 * of a counted list in U32, interned.
 */
static uint32_t
intern_list(struct builder *b, const uint32_t *items, uint32_t n)
{
	struct tbl *t = b->t;
	uint32_t *key, *v;
	uint32_t i;
	int found;

	if (n == 1 && items[0] < BT_LIST_ONE)
		return BT_LIST_ONE | items[0];
	key = arena_alloc(b->a, (n + 1) * sizeof(*key));
	key[0] = n;
	memcpy(key + 1, items, n * sizeof(*items));
	v = map_put(&b->listmap, key, (n + 1) * sizeof(*key), &found);
	if (found)
		return *v;
	if (t->nu32 + n + 1 >= BT_DEAD) {
		too_large(b, "the list section");
		return 0;
	}
	*v = (uint32_t)t->nu32;
	for (i = 0; i <= n; i++) {
		GROW(b, t->u32, t->nu32, t->capu32);
		t->u32[t->nu32++] = key[i];
	}
	return *v;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Removes consecutive duplicates of a sorted array; returns the new count. */
static size_t
uniq(uint32_t *v, size_t n)
{
	size_t i, j = 0;

	for (i = 0; i < n; i++)
		if (j == 0 || v[j - 1] != v[i])
			v[j++] = v[i];
	return j;
}

/* The DFA under construction: local state ids are indices in sets[]. */
struct dfa {
	struct builder *b;
	const struct cpat *pats;
	uint32_t npat;
	uint32_t *base;		/* first position of each pattern */
	uint32_t *pat_of;	/* pattern of each position */
	struct map setmap;	/* position set -> local state */
	uint32_t **sets;
	uint32_t *setn;
	size_t nsets, capsets, capsetn;
	uint32_t **acc;		/* per state: accepted payloads (NULL: none) */
	uint32_t *accn;
	size_t capacc, capaccn;
};

/* Local id of the state for position set <v> (sorted, unique). */
static uint32_t
dfa_state(struct dfa *f, const uint32_t *v, size_t n)
{
	uint32_t *slot;
	int found;

	if (n == 0)
		return BT_DEAD;
	slot = map_put_copy(&f->setmap, v, n * sizeof(*v), &found);
	if (found)
		return *slot;
	if (f->nsets >= MAX_DFA_STATES) {
		if (!f->b->failed)
			diag_error(f->b->d, (struct srcpos){ 0 },
			    "policy too complex: an automaton exceeds %u states; "
			    "use fewer '*' labels or segments in the middle of "
			    "patterns", MAX_DFA_STATES);
		f->b->failed = 1;
		return BT_DEAD;
	}
	*slot = (uint32_t)f->nsets;
	if (f->nsets == f->capsets) {
		size_t c1 = f->capsets, c2 = f->capsets;
		f->sets = arena_grow(f->b->a, f->sets, f->nsets, &c1,
		    sizeof(*f->sets));
		f->setn = arena_grow(f->b->a, f->setn, f->nsets, &c2,
		    sizeof(*f->setn));
		f->capsets = c1;
	}
	f->sets[f->nsets] = (uint32_t *)(uintptr_t)map_key(slot);
	f->setn[f->nsets] = (uint32_t)n;
	return (uint32_t)f->nsets++;
}

/*
 * Merges sorted <a> with the positions in the low halves of sorted <b>
 * into <out>, without duplicates.
 */
static size_t
merge(const uint32_t *a, size_t na, const uint64_t *b, size_t nb,
    uint32_t *out)
{
	size_t i = 0, j = 0, k = 0;

	while (i < na || j < nb) {
		uint32_t x;
		if (j >= nb || (i < na && a[i] <= (uint32_t)b[j]))
			x = a[i++];
		else
			x = (uint32_t)b[j++];
		if (k == 0 || out[k - 1] != x)
			out[k++] = x;
	}
	return k;
}

/*
 * Subset construction for <npat> patterns.  Appends the states to
 * *st, nst (ids offset by <first>) and the edges to *ed, ned.  acc[] of
 * each local state receives the sorted payloads it accepts.  Returns the
 * number of states, 0 on failure.
 */
static uint32_t
dfa_build(struct builder *b, const struct cpat *pats, uint32_t npat,
    uint32_t first, struct bt_state **st, size_t *nst, size_t *capst,
    struct tbl_edge **ed, size_t *ned, size_t *caped,
    uint32_t ***acc_out, uint32_t **accn_out)
{
	struct dfa f;
	uint32_t npos = 0, k, sid;
	uint32_t *start, *dset, *tset, *accl;
	uint64_t *lits;
	uint32_t **acc;
	uint32_t *accn;

	memset(&f, 0, sizeof(f));
	f.b = b;
	f.pats = pats;
	f.npat = npat;
	map_init(&f.setmap, b->a);
	f.base = arena_alloc(b->a, (npat + 1) * sizeof(*f.base));
	for (k = 0; k < npat; k++) {
		f.base[k] = npos;
		npos += pats[k].n + 1;
	}
	f.base[npat] = npos;
	f.pat_of = arena_alloc(b->a, (npos + 1) * sizeof(*f.pat_of));
	for (k = 0; k < npat; k++) {
		uint32_t i;
		for (i = 0; i <= pats[k].n; i++)
			f.pat_of[f.base[k] + i] = k;
	}
	/* scratch, sized for the largest possible set */
	start = arena_alloc(b->a, (npat + 1) * sizeof(*start));
	dset = arena_alloc(b->a, (npos + 1) * sizeof(*dset));
	tset = arena_alloc(b->a, (npos + 1) * sizeof(*tset));
	accl = arena_alloc(b->a, (npat + 1) * sizeof(*accl));
	lits = arena_alloc(b->a, (npos + 1) * sizeof(*lits));

	for (k = 0; k < npat; k++)
		start[k] = f.base[k];
	if (npat == 0) {
		/* no pattern: a lone dead start state */
		f.sets = arena_alloc(b->a, sizeof(*f.sets));
		f.setn = arena_alloc(b->a, sizeof(*f.setn));
		f.sets[0] = start;
		f.setn[0] = 0;
		f.nsets = 1;
	} else
		dfa_state(&f, start, npat);

	acc = NULL;
	accn = NULL;
	{
		size_t ca = 0, cn = 0, na = 0, nn = 0;
		for (sid = 0; sid < f.nsets && !b->failed; sid++) {
			const uint32_t *S = f.sets[sid];
			size_t n = f.setn[sid], nd = 0, nl = 0, na2 = 0, i, j;
			uint32_t def, me = first + sid;
			int has_edges = 0;

			for (i = 0; i < n; i++) {
				uint32_t pos = S[i], pk = f.pat_of[pos];
				uint32_t pi = pos - f.base[pk], pn = pats[pk].n;

				if (pi < pn) {
					const struct celem *e = &pats[pk].el[pi];
					if (e->kind == PAT_LIT)
						lits[nl++] = (uint64_t)e->str << 32 |
						    (pos + 1);
					else if (e->kind == PAT_ONE)
						dset[nd++] = pos + 1;
					else
						dset[nd++] = f.base[pk] + pn;
				} else {
					if (pn > 0 && pats[pk].el[pn - 1].kind ==
					    PAT_MANY)
						dset[nd++] = pos;
					accl[na2++] = pats[pk].payload;
				}
			}
			nd = uniq(dset, nd);
			def = dfa_state(&f, dset, nd);
			qsort(lits, nl, sizeof(*lits), cmp_u64);
			for (i = 0; i < nl; i = j) {
				uint32_t str = (uint32_t)(lits[i] >> 32), t;
				size_t nt = 0;
				for (j = i; j < nl && (uint32_t)(lits[j] >> 32) == str; j++)
					;
				/* the default set plus this label's literal moves */
				nt = merge(dset, nd, lits + i, j - i, tset);
				t = dfa_state(&f, tset, nt);
				GROW(b, *ed, *ned, *caped);
				(*ed)[(*ned)++] = (struct tbl_edge){ me,
					t == BT_DEAD ? BT_DEAD : first + t, str };
				has_edges = 1;
			}
			/* accepted payloads, sorted and unique */
			{
				uint64_t *tmp = lits;	/* lits is free again */
				for (i = 0; i < na2; i++)
					tmp[i] = accl[i];
				qsort(tmp, na2, sizeof(*tmp), cmp_u64);
				for (i = 0; i < na2; i++)
					accl[i] = (uint32_t)tmp[i];
				na2 = uniq(accl, na2);
			}
			GROW(b, *st, *nst, *capst);
			(*st)[(*nst)++] = (struct bt_state){
				(def == BT_DEAD ? BT_DEAD : first + def) |
				    (has_edges ? 0 : BT_DEF_NOEDGES),
				BT_NONE };
			if (na == ca)
				acc = arena_grow(b->a, acc, na, &ca, sizeof(*acc));
			if (nn == cn)
				accn = arena_grow(b->a, accn, nn, &cn, sizeof(*accn));
			if (na2 > 0) {
				acc[na] = arena_alloc(b->a, na2 * sizeof(**acc));
				memcpy(acc[na], accl, na2 * sizeof(**acc));
			} else
				acc[na] = NULL;
			na++;
			accn[nn++] = (uint32_t)na2;
		}
	}
	*acc_out = acc;
	*accn_out = accn;
	return b->failed ? 0 : (uint32_t)f.nsets;
}

/* Interns the elements of <p> (of rule <r>) as a cpat with <payload>. */
static struct cpat
compile_pattern(struct builder *b, const struct rule *r,
    const struct pattern *p, uint32_t payload)
{
	struct celem *el = arena_alloc(b->a, (p->n + 1) * sizeof(*el));
	uint32_t i;

	for (i = 0; i < p->n; i++) {
		el[i].kind = p->e[i].kind;
		el[i].str = p->e[i].kind == PAT_LIT ?
		    intern_label(b, r, p->e[i].s) : 0;
	}
	return (struct cpat){ p->n, el, payload };
}

/*
 * The path DFA for rule list <rl> (n rules, ascending), shared with any
 * earlier list of the same shape.  Returns its index in PDFAS.
 */
static uint32_t
path_dfa(struct builder *b, const uint32_t *rl, uint32_t n)
{
	struct tbl *t = b->t;
	struct cpat *pats;
	uint32_t npat = 0, i, j, k, nst, *slot, **acc, *accn;
	size_t keylen = 0, at = 0;
	uint32_t *key;
	int found;

	for (i = 0; i < n; i++)
		npat += rule_any_path(&b->rules[rl[i]]) ? 1 :
		    b->rules[rl[i]].npaths;
	pats = arena_alloc(b->a, npat * sizeof(*pats));
	k = 0;
	for (i = 0; i < n; i++) {
		const struct rule *r = &b->rules[rl[i]];
		if (rule_any_path(r)) {
			static const struct celem many = { 0, PAT_MANY };
			pats[k++] = (struct cpat){ 1, &many, i };
			continue;
		}
		for (j = 0; j < r->npaths; j++) {
			pats[k] = b->ppat[r->index][j];
			pats[k++].payload = i;
		}
	}
	/* shape key: per pattern payload, n, then (kind, str) pairs */
	for (k = 0; k < npat; k++)
		keylen += 2 + 2 * pats[k].n;
	key = arena_alloc(b->a, keylen * sizeof(*key));
	for (k = 0; k < npat; k++) {
		key[at++] = pats[k].payload;
		key[at++] = pats[k].n;
		for (j = 0; j < pats[k].n; j++) {
			key[at++] = pats[k].el[j].kind;
			key[at++] = pats[k].el[j].str;
		}
	}
	slot = map_put(&b->pdfamap, key, keylen * sizeof(*key), &found);
	if (found)
		return *slot;
	*slot = (uint32_t)t->npdfas;

	{
		uint32_t firstst = (uint32_t)t->npst;
		nst = dfa_build(b, pats, npat, firstst, &t->pst, &t->npst,
		    &t->cappst, &t->ped, &t->nped, &t->capped, &acc, &accn);
		if (b->failed)
			return 0;
		for (i = 0; i < nst; i++)
			if (accn[i] > 0)
				t->pst[firstst + i].acc =
				    intern_list(b, acc[i], accn[i]);
		GROW(b, t->pdfas, t->npdfas, t->cappdfas);
		t->pdfas[t->npdfas++] = (struct bt_pdfa){ .start = firstst,
		    .nstates = nst, .nlocal = n };
	}
	if (t->npst >= BT_DEAD)
		too_large(b, "the path automata");
	return (uint32_t)t->npdfas - 1;
}

/* The candidate set for rule list <rl> (ascending). */
static uint32_t
cset_for(struct builder *b, const uint32_t *rl, uint32_t n)
{
	struct tbl *t = b->t;
	uint32_t *slot, list, pdfa;
	int found;

	slot = map_put(&b->csetmap, rl, n * sizeof(*rl), &found);
	if (found)
		return *slot;
	*slot = (uint32_t)t->ncsets;
	/* *slot may move while the path DFA is built: keep the value */
	list = intern_list(b, rl, n);
	pdfa = path_dfa(b, rl, n);
	GROW(b, t->csets, t->ncsets, t->capcsets);
	t->csets[t->ncsets++] = (struct bt_cset){ list, pdfa };
	return (uint32_t)t->ncsets - 1;
}

/* Method bit table and the mask of every rule. */
static void
build_methods(struct builder *b)
{
	struct tbl *t = b->t;
	uint32_t i, j, k;

	for (i = 0; i < b->nrules; i++) {
		const struct rule *r = &b->rules[i];
		uint32_t mask = 0, *slot;
		int found;

		if (r->any_method)
			mask = BT_MASK_ANY;
		for (j = 0; !r->any_method && j < r->nmethods; j++) {
			struct view m = r->methods[j];
			for (k = 0; k < t->nmethods; k++)
				if (t->methods[k].len == m.n &&
				    memcmp(t->str + t->methods[k].off, m.p,
				    m.n) == 0)
					break;
			if (k == t->nmethods) {
				if (t->nmethods == BT_MAX_METHODS) {
					diag_error(b->d, rule_pos(r, (size_t)(m.p -
					    r->text.p)), "too many distinct "
					    "methods in one policy (at most %d)",
					    BT_MAX_METHODS);
					b->failed = 1;
					return;
				}
				t->methods[k].off = intern_label(b, r, m) >> 8;
				t->methods[k].len = (uint32_t)m.n;
				t->nmethods++;
			}
			mask |= 1u << k;
		}
		slot = map_put_copy(&b->maskmap, &mask, sizeof(mask), &found);
		if (!found) {
			if (t->nmasks >= BT_MAX_MASKS) {
				too_large(b, "the number of method sets");
				return;
			}
			*slot = (uint32_t)t->nmasks;
			if (t->nmasks == t->capmasks)
				t->masks = arena_grow(b->a, t->masks, t->nmasks,
				    &t->capmasks, sizeof(*t->masks));
			t->masks[t->nmasks++] = mask;
		}
		t->rules[i].mask |= (uint16_t)*slot;
	}
}

/*
 * Stores the text of rule <r> as parts (see bt_format.h) and records where
 * each part went, so that labels inside it are free.
 */
/* Offset of <s> as a counted string, and where its bytes start. */
static uint32_t
intern_part(struct builder *b, struct view s, uint32_t *bytes)
{
	uint32_t off = intern_cstr(b, s);

	*bytes = off + (s.n < 0x80 ? 1 : 2);
	return off;
}

/* Index of method list <s> in MLISTS (shared between rules). */
static uint16_t
intern_mlist(struct builder *b, struct view s, uint32_t *bytes)
{
	struct tbl *t = b->t;
	uint32_t off = intern_part(b, s, bytes), *slot;
	int found;

	slot = map_put_copy(&b->mlistmap, &off, sizeof(off), &found);
	if (!found) {
		if (t->nmlists >= BT_MAX_MLISTS) {
			too_large(b, "the number of distinct method lists");
			return 0;
		}
		*slot = (uint32_t)t->nmlists;
		GROW(b, t->mlists, t->nmlists, t->capmlists);
		t->mlists[t->nmlists++] = off;
	}
	return (uint16_t)*slot;
}

/*
 * Stores the text of rule <r> as parts (see bt_format.h) and records where
 * each part went, so that labels inside it are free.
 */
static void
store_text(struct builder *b, const struct rule *r, struct bt_rule *out)
{
	struct region *g = &b->regions[r->index * RULE_REGIONS];
	struct arena scratch = { 0 };
	struct view canon = rule_canon(&scratch, r);
	const char *p = r->text.p, *end = r->text.p + r->text.n;
	uint32_t bytes;
	int k = 0;

	out->domain = out->path = BT_NONE;
	out->method = BT_NO_METHOD;
	out->mask = 0;
	if (!view_eq(canon, r->text)) {
		out->mask = BT_RULE_VERBATIM;
		out->domain = intern_part(b, r->text, &bytes);
		g[0] = (struct region){ 0, (uint32_t)r->text.n, bytes };
		arena_free(&scratch);
		return;
	}
	arena_free(&scratch);
	/* canonical: "method=M domain=D path=P", each part optional */
	while (p < end && k < RULE_REGIONS) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		const char *eq = memchr(p, '=', (size_t)(end - p));
		const char *stop = sp ? sp : end;
		struct view v = view_make(eq + 1, (size_t)(stop - eq - 1));

		if (p[0] == 'm')
			out->method = intern_mlist(b, v, &bytes);
		else if (p[0] == 'd')
			out->domain = intern_part(b, v, &bytes);
		else
			out->path = intern_part(b, v, &bytes);
		g[k++] = (struct region){ (uint32_t)(v.p - r->text.p),
			(uint32_t)v.n, bytes };
		p = stop + 1;
	}
}

/* 1 if a host pattern is all literal labels (an exact host). */
static int
exact_host(const struct rule *r)
{
	uint32_t i;

	for (i = 0; i < r->host.n; i++)
		if (r->host.e[i].kind != PAT_LIT)
			return 0;
	return r->host.n > 0;
}

/* The canonical host of an exact pattern: labels in order, joined by '.'. */
static struct view
join_host(struct arena *a, const struct rule *r)
{
	size_t n = 0, i;
	char *s;

	for (i = 0; i < r->host.n; i++)
		n += r->host.e[i].s.n + 1;
	s = arena_alloc(a, n + 1);
	n = 0;
	for (i = r->host.n; i-- > 0;) {
		memcpy(s + n, r->host.e[i].s.p, r->host.e[i].s.n);
		n += r->host.e[i].s.n;
		if (i > 0)
			s[n++] = '.';
	}
	return view_make(s, n);
}

/* Acceptance value for a sorted rule list: one any-path rule, or a cset. */
static uint32_t
acc_for(struct builder *b, const uint32_t *rl, uint32_t n)
{
	uint32_t m = BT_MASK_INDEX(b->t->rules[rl[0]].mask);

	if (n == 1 && rule_any_path(&b->rules[rl[0]]) &&
	    rl[0] <= BT_ACC_MAX_RULE && m <= BT_ACC_MAX_MASK)
		return BT_ACC_RULE | m << BT_ACC_MASK_SHIFT | rl[0];
	return cset_for(b, rl, n);
}

/*
 * The rules of the host DFA (built from wildcard patterns) that accept
 * <host>, found by walking the DFA at compile time.  Returns the count and
 * sets *out to the DFA's accept list (or NULL).
 */
static uint32_t
wild_accepts(struct builder *b, struct map *edges, struct view host,
    uint32_t **acc, uint32_t *accn, uint32_t nst, uint32_t **out)
{
	const char *end = host.p + host.n;
	uint32_t st = 0;
	char key[4 + BT_MAX_EDGE_LABEL];

	*out = NULL;
	if (nst == 0)
		return 0;
	for (;;) {
		const char *dot = memrchr(host.p, '.', (size_t)(end - host.p));
		const char *lab = dot ? dot + 1 : host.p;
		size_t n = (size_t)(end - lab);
		uint32_t *to;
		int found;

		memcpy(key, &st, 4);
		memcpy(key + 4, lab, n);
		to = map_put_copy(edges, key, 4 + n, &found);
		if (!found)
			*to = BT_DEAD;	/* remembered as "no edge" */
		if (*to != BT_DEAD)
			st = *to;
		else
			st = b->t->hst[st].def & BT_STATE_MASK;
		if (st == BT_DEAD)
			return 0;
		if (dot == NULL)
			break;
		end = dot;
	}
	*out = acc[st];
	return accn[st];
}

int
build_table(struct arena *a, struct diag *d, const struct rule *rules,
    uint32_t n, struct tbl *t)
{
	struct builder b;
	struct cpat *hpats;
	struct map xmap, edges;
	uint32_t nh = 0, nu = 0, i, j, nst, **acc, *accn, *ulist;
	uint32_t *xrules, *xnext, *xhead, nx = 0;
	struct view *xkey;

	memset(t, 0, sizeof(*t));
	memset(&b, 0, sizeof(b));
	b.a = a;
	b.d = d;
	b.t = t;
	b.rules = rules;
	b.nrules = n;
	map_init(&b.strmap, a);
	map_init(&b.cstrmap, a);
	map_init(&b.mlistmap, a);
	map_init(&b.listmap, a);
	map_init(&b.csetmap, a);
	map_init(&b.pdfamap, a);
	map_init(&b.maskmap, a);
	t->universal = BT_NONE;
	t->nrules = n;
	t->rules = arena_zalloc(a, (n + 1) * sizeof(*t->rules));
	b.regions = arena_zalloc(a, ((size_t)n + 1) * RULE_REGIONS *
	    sizeof(*b.regions));

	/* rule texts first, in parts: labels inside them are then free */
	for (i = 0; i < n; i++)
		store_text(&b, &rules[i], &t->rules[i]);
	build_methods(&b);
	if (b.failed)
		return -1;

	/*
	 * Host patterns: "*" (universal), all-literal (exact: XHOSTS) or with
	 * wildcards (the host DFA).  Path patterns with labels interned.
	 */
	hpats = arena_alloc(a, (n + 1) * sizeof(*hpats));
	ulist = arena_alloc(a, (n + 1) * sizeof(*ulist));
	xrules = arena_alloc(a, (n + 1) * sizeof(*xrules));
	xnext = arena_alloc(a, (n + 1) * sizeof(*xnext));
	xhead = arena_alloc(a, (n + 1) * sizeof(*xhead));
	xkey = arena_alloc(a, (n + 1) * sizeof(*xkey));
	map_init(&xmap, a);
	b.ppat = arena_alloc(a, (n + 1) * sizeof(*b.ppat));
	for (i = 0; i < n; i++) {
		const struct rule *r = &rules[i];
		b.ppat[i] = arena_alloc(a, (r->npaths + 1) * sizeof(**b.ppat));
		for (j = 0; j < r->npaths; j++)
			b.ppat[i][j] = compile_pattern(&b, r, &r->paths[j], 0);
		if (rule_any_host(r))
			ulist[nu++] = i;
		else if (exact_host(r)) {
			/* group rules by host, in rule order */
			struct view h = join_host(a, r);
			int found;
			uint32_t *slot = map_put(&xmap, h.p, h.n, &found);
			if (!found) {
				*slot = nx;
				xkey[nx] = h;
				xhead[nx] = xrules[nx] = BT_NONE;
				nx++;
			}
			xnext[i] = BT_NONE;
			if (xhead[*slot] == BT_NONE)
				xhead[*slot] = i;
			else
				xnext[xrules[*slot]] = i;
			xrules[*slot] = i;	/* last rule of the host */
		} else
			hpats[nh++] = compile_pattern(&b, r, &r->host, i);
	}
	if (b.failed)
		return -1;

	nst = dfa_build(&b, hpats, nh, 0, &t->hst, &t->nhst, &t->caphst,
	    &t->hed, &t->nhed, &t->caphed, &acc, &accn);
	if (b.failed)
		return -1;
	if (t->nhst >= BT_DEAD) {
		too_large(&b, "the host automaton");
		return -1;
	}
	for (i = 0; i < nst; i++)
		if (accn[i] > 0)
			t->hst[i].acc = acc_for(&b, acc[i], accn[i]);

	/* exact hosts: their own rules merged with the wildcard rules */
	map_init(&edges, a);
	for (i = 0; i < t->nhed; i++) {
		char key[4 + BT_MAX_EDGE_LABEL];
		uint32_t len = t->hed[i].str & 0xff, *slot;
		int found;
		memcpy(key, &t->hed[i].from, 4);
		memcpy(key + 4, t->str + (t->hed[i].str >> 8), len);
		slot = map_put_copy(&edges, key, 4 + len, &found);
		*slot = t->hed[i].to;
	}
	t->xh = arena_alloc(a, (nx + 1) * sizeof(*t->xh));
	for (i = 0; i < nx && !b.failed; i++) {
		uint32_t *wl, nw, *all, na = 0, ne = 0, k, r;
		nw = wild_accepts(&b, &edges, xkey[i], acc, accn, nst, &wl);
		for (r = xhead[i]; r != BT_NONE; r = xnext[r])
			ne++;
		all = arena_alloc(a, (nw + ne + 1) * sizeof(*all));
		/* merge two ascending lists */
		k = 0;
		for (r = xhead[i]; r != BT_NONE || k < nw;) {
			if (r != BT_NONE && (k >= nw || r < wl[k])) {
				all[na++] = r;
				r = xnext[r];
			} else {
				if (r != BT_NONE && r == wl[k])
					r = xnext[r];
				all[na++] = wl[k++];
			}
		}
		t->xh[t->nxh].hash = bt_hash32(xkey[i].p, xkey[i].n);
		t->xh[t->nxh].str = intern_cstr(&b, xkey[i]);
		t->xh[t->nxh].acc = acc_for(&b, all, na);
		t->nxh++;
	}
	if (nu > 0)
		t->universal = cset_for(&b, ulist, nu);
	return b.failed ? -1 : 0;
}
