/*
 * Serialises a built table into the .bpol layout of runtime/bt_format.h:
 * header, then the sections in enum order, each 8-byte aligned, padding
 * zeroed, edges placed in Robin Hood hash tables in creation order.  The
 * same table always gives the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "build.h"

/* Slots for <n> edges: the load stays below one half. */
static uint32_t
table_slots(size_t n)
{
	return (uint32_t)(2 * n + 1);
}

/*
 * Robin Hood placement (bt_format.h) of <n> keys with hashes <hash> into
 * <nslots> slots, in creation order: a key farther from its home takes the
 * slot of one nearer to its own, which moves on.  Sets who[slot] to the
 * key's index (BT_NONE: empty) and tag[slot].  Returns the longest
 * distance, or BT_NONE when it exceeds BT_MAX_PROBE.
 */
static uint32_t
rh_place(const uint32_t *hash, size_t n, uint32_t nslots, uint32_t *who,
    uint32_t *dist, uint8_t *tag)
{
	uint32_t maxp = 0, i, d, k, tmp;
	size_t j;

	for (i = 0; i < nslots; i++)
		who[i] = BT_NONE;
	for (j = 0; j < n; j++) {
		k = (uint32_t)j;
		i = bt_home(hash[k], nslots);
		d = 0;
		for (;;) {
			if (who[i] == BT_NONE) {
				who[i] = k;
				dist[i] = d;
				if (d > maxp)
					maxp = d;
				break;
			}
			if (dist[i] < d) {
				tmp = who[i];
				who[i] = k;
				k = tmp;
				tmp = dist[i];
				dist[i] = d;
				if (d > maxp)
					maxp = d;
				d = tmp;
			}
			i = i + 1 == nslots ? 0 : i + 1;
			d++;
		}
	}
	if (maxp > BT_MAX_PROBE)
		return BT_NONE;
	for (i = 0; i < nslots; i++)
		tag[i] = who[i] == BT_NONE ? BT_TAG_EMPTY :
		    BT_TAG(dist[i], hash[who[i]]);
	return maxp;
}

/*
 * Places <n> keys with hashes <hash> in a new table of at least <nslots>
 * slots, grown until every distance fits in a tag.  Returns who[] (see
 * rh_place) and sets *tagsp, *nslotsp and *maxp; NULL when out of memory.
 */
static uint32_t *
rh_table(const uint32_t *hash, size_t n, uint32_t nslots, uint8_t **tagsp,
    uint32_t *nslotsp, uint32_t *maxp)
{
	uint32_t *who, *dist;
	uint8_t *tag;

	for (;;) {
		who = malloc(nslots * sizeof(*who));
		dist = malloc(nslots * sizeof(*dist));
		tag = malloc(nslots);
		if (who == NULL || dist == NULL || tag == NULL) {
			free(who);
			free(dist);
			free(tag);
			return NULL;
		}
		*maxp = rh_place(hash, n, nslots, who, dist, tag);
		free(dist);
		if (*maxp != BT_NONE)
			break;
		free(who);
		free(tag);
		nslots += nslots / 8 + 1;
	}
	*tagsp = tag;
	*nslotsp = nslots;
	return who;
}

/*
 * Places the edges of one automaton in a new table (slots and tags).
 * Returns 0 or -1.
 */
static int
edge_table(const struct tbl *t, const struct tbl_edge *ed, size_t n,
    struct bt_edge **slotsp, uint8_t **tagsp, uint32_t *nslotsp,
    uint32_t *maxp)
{
	uint32_t *hash, *who, i;
	struct bt_edge *slots;
	size_t k;

	hash = malloc((n > 0 ? n : 1) * sizeof(*hash));
	if (hash == NULL)
		return -1;
	for (k = 0; k < n; k++)
		hash[k] = bt_edge_hash(bt_hash_label(t->str + (ed[k].str >> 8),
		    ed[k].str & 0xff), ed[k].from);
	who = rh_table(hash, n, table_slots(n), tagsp, nslotsp, maxp);
	free(hash);
	if (who == NULL)
		return -1;
	slots = malloc(*nslotsp * sizeof(*slots));
	if (slots == NULL) {
		free(who);
		free(*tagsp);
		*tagsp = NULL;
		return -1;
	}
	for (i = 0; i < *nslotsp; i++)
		slots[i] = who[i] == BT_NONE ? (struct bt_edge){ BT_NONE, 0, 0 } :
		    (struct bt_edge){ ed[who[i]].from, ed[who[i]].to,
		    ed[who[i]].str };
	free(who);
	*slotsp = slots;
	return 0;
}

/* Index of the path DFA whose states include <st> (starts ascend). */
static size_t
pdfa_index(const struct tbl *t, uint32_t st)
{
	size_t lo = 0, hi = t->npdfas;

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->pdfas[mid].start <= st)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/*
 * The path edges: one table per path DFA, in PDFAS order, each placed as
 * edge_table() does.  Fills in the copies <pd> of the DFAs with eoff, en
 * and max_probe; returns all the slots (*nslotsp) and the longest probe.
 */
static int
path_tables(const struct tbl *t, struct bt_pdfa *pd, struct bt_edge **allp,
    uint8_t **tagsp, uint32_t *nslotsp, uint32_t *maxp)
{
	struct tbl_edge *sorted = NULL;
	struct bt_edge *all = NULL, *one, *grown;
	uint8_t *tags = NULL, *onet, *growt;
	size_t *first, i, k, total = 0;
	uint32_t n, probe;

	*maxp = 0;
	first = calloc(t->npdfas + 1, sizeof(*first));
	if (first == NULL)
		return -1;
	if (t->nped > 0 && t->npdfas == 0)
		goto fail;
	/* the edges of each DFA, in creation order */
	for (k = 0; k < t->nped; k++)
		first[pdfa_index(t, t->ped[k].from) + 1]++;
	for (i = 0; i < t->npdfas; i++)
		first[i + 1] += first[i];
	sorted = malloc((t->nped > 0 ? t->nped : 1) * sizeof(*sorted));
	if (sorted == NULL)
		goto fail;
	for (k = 0; k < t->nped; k++)
		sorted[first[pdfa_index(t, t->ped[k].from)]++] = t->ped[k];
	for (i = t->npdfas; i > 0; i--)
		first[i] = first[i - 1];
	first[0] = 0;
	for (i = 0; i < t->npdfas; i++) {
		if (edge_table(t, sorted + first[i], first[i + 1] - first[i],
		    &one, &onet, &n, &probe) == -1)
			goto fail;
		grown = total + n > UINT32_MAX ? NULL :
		    realloc(all, (total + n) * sizeof(*all));
		if (grown != NULL)
			all = grown;
		growt = grown == NULL ? NULL : realloc(tags, total + n);
		if (growt == NULL) {
			free(one);
			free(onet);
			goto fail;
		}
		tags = growt;
		memcpy(all + total, one, n * sizeof(*one));
		memcpy(tags + total, onet, n);
		free(one);
		free(onet);
		pd[i].eoff = (uint32_t)total;
		pd[i].en = n;
		pd[i].max_probe = probe;
		if (probe > *maxp)
			*maxp = probe;
		total += n;
	}
	if (all == NULL) {
		/* no path DFA: one empty slot keeps the section well formed */
		all = malloc(sizeof(*all));
		tags = malloc(1);
		if (all == NULL || tags == NULL)
			goto fail;
		all[0] = (struct bt_edge){ BT_NONE, 0, 0 };
		tags[0] = BT_TAG_EMPTY;
		total = 1;
	}
	free(first);
	free(sorted);
	*allp = all;
	*tagsp = tags;
	*nslotsp = (uint32_t)total;
	return 0;
 fail:
	free(first);
	free(sorted);
	free(all);
	free(tags);
	return -1;
}

/* Slots of the exact-host table: load at most 0.85. */
static uint32_t
xhost_slots(size_t n)
{
	return (uint32_t)(n + n * 3 / 17 + 1);
}

/* The exact-host table: slots and tags.  Returns 0 or -1. */
static int
xhost_table(const struct tbl *t, struct bt_xslot **slotsp, uint8_t **tagsp,
    uint32_t *nslotsp, uint32_t *maxp)
{
	uint32_t *hash, *who, i;
	struct bt_xslot *slots;
	size_t k;

	hash = malloc((t->nxh > 0 ? t->nxh : 1) * sizeof(*hash));
	if (hash == NULL)
		return -1;
	for (k = 0; k < t->nxh; k++)
		hash[k] = t->xh[k].hash;
	who = rh_table(hash, t->nxh, xhost_slots(t->nxh), tagsp, nslotsp,
	    maxp);
	free(hash);
	if (who == NULL)
		return -1;
	slots = malloc(*nslotsp * sizeof(*slots));
	if (slots == NULL) {
		free(who);
		free(*tagsp);
		*tagsp = NULL;
		return -1;
	}
	for (i = 0; i < *nslotsp; i++)
		slots[i] = who[i] == BT_NONE ? (struct bt_xslot){ BT_NONE, 0 } :
		    (struct bt_xslot){ t->xh[who[i]].str, t->xh[who[i]].acc };
	free(who);
	*slotsp = slots;
	return 0;
}

static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int
emit_table(const struct tbl *t, unsigned char **bufp, size_t *lenp)
{
	struct bt_header h;
	size_t size[BT_SEC_COUNT], off, total;
	uint32_t nxslots, nhslots, npslots, xprobe, hprobe, pprobe;
	struct bt_xslot *xs = NULL;
	struct bt_edge *hs = NULL, *ps = NULL;
	uint8_t *xtags = NULL, *htags = NULL, *ptags = NULL;
	struct bt_pdfa *pd;
	unsigned char *buf = NULL;
	int i, ret = -1;

	pd = malloc((t->npdfas > 0 ? t->npdfas : 1) * sizeof(*pd));
	if (pd == NULL)
		return -1;
	if (t->npdfas)
		memcpy(pd, t->pdfas, t->npdfas * sizeof(*pd));
	if (xhost_table(t, &xs, &xtags, &nxslots, &xprobe) == -1)
		goto done;
	if (edge_table(t, t->hed, t->nhed, &hs, &htags, &nhslots,
	    &hprobe) == -1 ||
	    path_tables(t, pd, &ps, &ptags, &npslots, &pprobe) == -1)
		goto done;
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, BT_MAGIC, BT_MAGIC_LEN);
	h.version = BT_VERSION;
	h.header_size = sizeof(h);
	h.nrules = t->nrules;
	h.nmethods = t->nmethods;
	h.universal = t->universal;
	h.xhost_max_probe = xprobe;
	h.hedge_max_probe = hprobe;
	h.pedge_max_probe = pprobe;

	size[BT_SEC_STRINGS] = t->nstr;
	size[BT_SEC_RULES] = t->nrules * sizeof(struct bt_rule);
	size[BT_SEC_METHODS] = t->nmethods * sizeof(struct bt_method);
	size[BT_SEC_MASKS] = t->nmasks * sizeof(uint32_t);
	size[BT_SEC_MLISTS] = t->nmlists * sizeof(uint32_t);
	size[BT_SEC_XHOSTS] = nxslots * sizeof(struct bt_xslot);
	size[BT_SEC_XTAGS] = nxslots;
	size[BT_SEC_HSTATES] = t->nhst * sizeof(struct bt_state);
	size[BT_SEC_HEDGES] = nhslots * sizeof(struct bt_edge);
	size[BT_SEC_HTAGS] = nhslots;
	size[BT_SEC_PSTATES] = t->npst * sizeof(struct bt_state);
	size[BT_SEC_PEDGES] = npslots * sizeof(struct bt_edge);
	size[BT_SEC_PTAGS] = npslots;
	size[BT_SEC_PDFAS] = t->npdfas * sizeof(struct bt_pdfa);
	size[BT_SEC_CSETS] = t->ncsets * sizeof(struct bt_cset);
	size[BT_SEC_U32] = t->nu32 * sizeof(uint32_t);

	off = align8(sizeof(h));
	for (i = 0; i < BT_SEC_COUNT; i++) {
		if (size[i] > UINT32_MAX || off > UINT32_MAX)
			goto done;
		h.sec[i].off = (uint32_t)off;
		h.sec[i].size = (uint32_t)size[i];
		off = align8(off + size[i]);
	}
	total = off;
	buf = calloc(1, total);
	if (buf == NULL)
		goto done;

#define SEC(i) (buf + h.sec[i].off)
#define PUT(i, p) do {							\
	if (size[i] > 0)						\
		memcpy(SEC(i), (p), size[i]);				\
} while (0)
	PUT(BT_SEC_STRINGS, t->str);
	PUT(BT_SEC_RULES, t->rules);
	PUT(BT_SEC_METHODS, t->methods);
	PUT(BT_SEC_MASKS, t->masks);
	PUT(BT_SEC_MLISTS, t->mlists);
	PUT(BT_SEC_XHOSTS, xs);
	PUT(BT_SEC_XTAGS, xtags);
	PUT(BT_SEC_HSTATES, t->hst);
	PUT(BT_SEC_HEDGES, hs);
	PUT(BT_SEC_HTAGS, htags);
	PUT(BT_SEC_PSTATES, t->pst);
	PUT(BT_SEC_PEDGES, ps);
	PUT(BT_SEC_PTAGS, ptags);
	PUT(BT_SEC_PDFAS, pd);
	PUT(BT_SEC_CSETS, t->csets);
	PUT(BT_SEC_U32, t->u32);
#undef PUT
#undef SEC
	/* the structs copied above have no padding: the bytes are exact */
	h.file_size = total;
	memcpy(buf, &h, sizeof(h));
	h.checksum = bt_checksum(buf, total);
	memcpy(buf, &h, sizeof(h));
	*bufp = buf;
	*lenp = total;
	ret = 0;
 done:
	free(xs);
	free(xtags);
	free(hs);
	free(htags);
	free(ps);
	free(ptags);
	free(pd);
	return ret;
}
