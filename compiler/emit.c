/*
 * Serialises a built table into the .bpol layout of runtime/bt_format.h:
 * header, then the sections in enum order, each 8-byte aligned, padding
 * zeroed, edges placed in power-of-two hash tables in creation order.  The
 * same table always gives the same bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "build.h"

/* Slots for <n> edges: a power of two keeping the load at most 2/3. */
static uint32_t
table_slots(size_t n)
{
	uint32_t s = 1;

	while (s < n + n / 2 + 1)
		s <<= 1;
	return s;
}

/* Places <n> edges into <slots> (all empty on entry); returns max probe. */
static uint32_t
place_edges(const struct tbl *t, const struct tbl_edge *ed, size_t n,
    struct bt_edge *slots, uint32_t nslots)
{
	uint32_t maxp = 0, i, j, dist;
	size_t k;

	for (i = 0; i < nslots; i++)
		slots[i].from = BT_NONE;
	for (k = 0; k < n; k++) {
		const struct tbl_edge *e = &ed[k];
		uint32_t off = e->str >> 8, len = e->str & 0xff;

		j = bt_slot(bt_hash_label(t->str + off, len), e->from) &
		    (nslots - 1);
		dist = 0;
		while (slots[j].from != BT_NONE) {
			j = (j + 1) & (nslots - 1);
			dist++;
		}
		slots[j].from = e->from;
		slots[j].to = e->to;
		slots[j].str = e->str;
		if (dist > maxp)
			maxp = dist;
	}
	return maxp;
}

/* Slots of the exact-host table: load at most 0.85 (Robin Hood). */
static uint32_t
xhost_slots(size_t n)
{
	return (uint32_t)(n + n * 3 / 17 + 1);
}

/*
 * Places the exact hosts by Robin Hood hashing in creation order: an entry
 * farther from its home takes the slot of one nearer to its own.  Returns
 * the longest probe distance.
 */
static uint32_t
place_xhosts(const struct bt_xhost *xh, size_t n, struct bt_xhost *slots,
    uint32_t nslots)
{
	uint32_t maxp = 0, i, d;
	size_t k;

	for (i = 0; i < nslots; i++) {
		slots[i].str = BT_NONE;
		slots[i].hash = 0;
		slots[i].acc = 0;
	}
	for (k = 0; k < n; k++) {
		struct bt_xhost e = xh[k];

		i = bt_home(e.hash, nslots);
		d = 0;
		for (;;) {
			uint32_t ds;
			if (slots[i].str == BT_NONE) {
				slots[i] = e;
				slots[i].str = BT_XSTR(BT_XSTR_OFF(e.str), d);
				if (d > maxp)
					maxp = d;
				break;
			}
			ds = BT_XSTR_DIST(slots[i].str);
			if (ds < d) {
				struct bt_xhost tmp = slots[i];
				slots[i] = e;
				slots[i].str = BT_XSTR(BT_XSTR_OFF(e.str), d);
				if (d > maxp)
					maxp = d;
				e = tmp;
				d = ds;
			}
			i = i + 1 == nslots ? 0 : i + 1;
			d++;
		}
	}
	return maxp;
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
	uint32_t nhslots = table_slots(t->nhed), npslots = table_slots(t->nped);
	uint32_t nxslots = xhost_slots(t->nxh), xprobe;
	struct bt_xhost *xs;
	unsigned char *buf;
	int i;

	/* exact hosts first: the table grows until every distance fits */
	for (;;) {
		xs = calloc(nxslots, sizeof(*xs));
		if (xs == NULL)
			return -1;
		xprobe = place_xhosts(t->xh, t->nxh, xs, nxslots);
		if (xprobe <= BT_XMAX_PROBE)
			break;
		free(xs);
		nxslots += nxslots / 8 + 1;
	}
	memset(&h, 0, sizeof(h));
	memcpy(h.magic, BT_MAGIC, BT_MAGIC_LEN);
	h.version = BT_VERSION;
	h.header_size = sizeof(h);
	h.nrules = t->nrules;
	h.nmethods = t->nmethods;
	h.universal = t->universal;

	size[BT_SEC_STRINGS] = t->nstr;
	size[BT_SEC_RULES] = t->nrules * sizeof(struct bt_rule);
	size[BT_SEC_METHODS] = t->nmethods * sizeof(struct bt_method);
	size[BT_SEC_MASKS] = t->nmasks * sizeof(uint32_t);
	size[BT_SEC_MLISTS] = t->nmlists * sizeof(uint32_t);
	size[BT_SEC_XHOSTS] = nxslots * sizeof(struct bt_xhost);
	size[BT_SEC_HSTATES] = t->nhst * sizeof(struct bt_state);
	size[BT_SEC_HEDGES] = nhslots * sizeof(struct bt_edge);
	size[BT_SEC_PSTATES] = t->npst * sizeof(struct bt_state);
	size[BT_SEC_PEDGES] = npslots * sizeof(struct bt_edge);
	size[BT_SEC_PDFAS] = t->npdfas * sizeof(struct bt_pdfa);
	size[BT_SEC_CSETS] = t->ncsets * sizeof(struct bt_cset);
	size[BT_SEC_U32] = t->nu32 * sizeof(uint32_t);

	off = align8(sizeof(h));
	for (i = 0; i < BT_SEC_COUNT; i++) {
		if (size[i] > UINT32_MAX || off > UINT32_MAX)
			return -1;
		h.sec[i].off = (uint32_t)off;
		h.sec[i].size = (uint32_t)size[i];
		off = align8(off + size[i]);
	}
	total = off;
	buf = calloc(1, total);
	if (buf == NULL) {
		free(xs);
		return -1;
	}

#define SEC(i) (buf + h.sec[i].off)
	if (t->nstr)
		memcpy(SEC(BT_SEC_STRINGS), t->str, t->nstr);
	if (t->nrules)
		memcpy(SEC(BT_SEC_RULES), t->rules, size[BT_SEC_RULES]);
	if (t->nmethods)
		memcpy(SEC(BT_SEC_METHODS), t->methods, size[BT_SEC_METHODS]);
	if (t->nmasks)
		memcpy(SEC(BT_SEC_MASKS), t->masks, size[BT_SEC_MASKS]);
	if (t->nmlists)
		memcpy(SEC(BT_SEC_MLISTS), t->mlists, size[BT_SEC_MLISTS]);
	memcpy(SEC(BT_SEC_HSTATES), t->hst, size[BT_SEC_HSTATES]);
	if (t->npst)
		memcpy(SEC(BT_SEC_PSTATES), t->pst, size[BT_SEC_PSTATES]);
	if (t->npdfas)
		memcpy(SEC(BT_SEC_PDFAS), t->pdfas, size[BT_SEC_PDFAS]);
	if (t->ncsets)
		memcpy(SEC(BT_SEC_CSETS), t->csets, size[BT_SEC_CSETS]);
	if (t->nu32)
		memcpy(SEC(BT_SEC_U32), t->u32, size[BT_SEC_U32]);
	h.xhost_max_probe = xprobe;
	memcpy(SEC(BT_SEC_XHOSTS), xs, size[BT_SEC_XHOSTS]);
	free(xs);
	h.hedge_max_probe = place_edges(t, t->hed, t->nhed,
	    (struct bt_edge *)(void *)SEC(BT_SEC_HEDGES), nhslots);
	h.pedge_max_probe = place_edges(t, t->ped, t->nped,
	    (struct bt_edge *)(void *)SEC(BT_SEC_PEDGES), npslots);
#undef SEC
	/* the structs copied above have no padding: the bytes are exact */
	h.file_size = total;
	memcpy(buf, &h, sizeof(h));
	h.checksum = bt_checksum(buf, total);
	memcpy(buf, &h, sizeof(h));
	*bufp = buf;
	*lenp = total;
	return 0;
}
