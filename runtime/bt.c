/*
 * The policy table at run time: bt_load_* maps a compiled policy and
 * validates every offset, count and cross-reference once (STYLE rule 18);
 * bt_decide then walks it trusting what was validated, with no allocation,
 * no lock and no unbounded loop (STYLE rule 16).  Format: bt_format.h.
 */
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "bt_format.h"
#include "runtime.h"

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const char *const sec_names[BT_SEC_COUNT] = {
	"strings", "rules", "methods", "masks", "method lists", "exact hosts",
	"exact host tags", "host states", "host edges", "host edge tags",
	"path states", "path edges", "path edge tags", "path automata",
	"candidate sets", "lists",
};

static const size_t sec_elem[BT_SEC_COUNT] = {
	1, sizeof(struct bt_rule), sizeof(struct bt_method), sizeof(uint32_t),
	sizeof(uint32_t), sizeof(struct bt_xslot), 1, sizeof(struct bt_state),
	sizeof(struct bt_edge), 1, sizeof(struct bt_state),
	sizeof(struct bt_edge), 1, sizeof(struct bt_pdfa), sizeof(struct bt_cset),
	sizeof(uint32_t),
};

/* Checks the section table: aligned, inside the file, in order, whole
 * elements.  Sets the typed pointers and counts. */
static int
check_sections(struct bt *bt, char *err, size_t errlen)
{
	const struct bt_header *h = bt->hdr;
	uint64_t end = h->header_size;
	uint32_t count[BT_SEC_COUNT];
	const unsigned char *at[BT_SEC_COUNT];
	int i;

	for (i = 0; i < BT_SEC_COUNT; i++) {
		const struct bt_section *s = &h->sec[i];

		if (s->off % 8 != 0)
			return fail(err, errlen, "section '%s' is misaligned",
			    sec_names[i]);
		if (s->off < end)
			return fail(err, errlen,
			    "section '%s' overlaps the previous one",
			    sec_names[i]);
		if ((uint64_t)s->off + s->size > bt->size)
			return fail(err, errlen,
			    "section '%s' extends past the end of the file",
			    sec_names[i]);
		if (s->size % sec_elem[i] != 0)
			return fail(err, errlen,
			    "section '%s' has a partial element", sec_names[i]);
		end = (uint64_t)s->off + s->size;
		count[i] = (uint32_t)(s->size / sec_elem[i]);
		at[i] = bt->base + s->off;
	}
	bt->strings = (const char *)at[BT_SEC_STRINGS];
	bt->nstrings = count[BT_SEC_STRINGS];
	bt->rules = (const struct bt_rule *)(const void *)at[BT_SEC_RULES];
	bt->nrules = count[BT_SEC_RULES];
	bt->methods = (const struct bt_method *)(const void *)at[BT_SEC_METHODS];
	bt->nmethods = count[BT_SEC_METHODS];
	bt->masks = (const uint32_t *)(const void *)at[BT_SEC_MASKS];
	bt->nmasks = count[BT_SEC_MASKS];
	bt->mlists = (const uint32_t *)(const void *)at[BT_SEC_MLISTS];
	bt->nmlists = count[BT_SEC_MLISTS];
	bt->xhosts = (const struct bt_xslot *)(const void *)at[BT_SEC_XHOSTS];
	bt->nxhosts = count[BT_SEC_XHOSTS];
	bt->xtags = at[BT_SEC_XTAGS];
	bt->hstates = (const struct bt_state *)(const void *)at[BT_SEC_HSTATES];
	bt->nhstates = count[BT_SEC_HSTATES];
	bt->hedges = (const struct bt_edge *)(const void *)at[BT_SEC_HEDGES];
	bt->nhedges = count[BT_SEC_HEDGES];
	bt->htags = at[BT_SEC_HTAGS];
	bt->pstates = (const struct bt_state *)(const void *)at[BT_SEC_PSTATES];
	bt->npstates = count[BT_SEC_PSTATES];
	bt->pedges = (const struct bt_edge *)(const void *)at[BT_SEC_PEDGES];
	bt->npedges = count[BT_SEC_PEDGES];
	bt->ptags = at[BT_SEC_PTAGS];
	bt->pdfas = (const struct bt_pdfa *)(const void *)at[BT_SEC_PDFAS];
	bt->npdfas = count[BT_SEC_PDFAS];
	bt->csets = (const struct bt_cset *)(const void *)at[BT_SEC_CSETS];
	bt->ncsets = count[BT_SEC_CSETS];
	bt->u32 = (const uint32_t *)(const void *)at[BT_SEC_U32];
	bt->nu32 = count[BT_SEC_U32];
	return 0;
}

static int
str_ok(const struct bt *bt, uint32_t off, uint32_t len)
{
	return off <= bt->nstrings && len <= bt->nstrings - off;
}

/* A counted string at <off>: its length prefix and bytes are in bounds. */
static int
cstr_ok(const struct bt *bt, uint32_t off)
{
	uint32_t hdr, len;

	if (!str_ok(bt, off, 1) || ((unsigned char)bt->strings[off] >= 0x80 &&
	    !str_ok(bt, off, 2)))
		return 0;
	len = bt_cstr(bt->strings + off, &hdr);
	return str_ok(bt, off + hdr, len);
}

static struct view
cstr(const struct bt *bt, uint32_t off)
{
	uint32_t hdr, len = bt_cstr(bt->strings + off, &hdr);

	return view_make(bt->strings + off + hdr, len);
}

/* Host acceptance value: a rule, or a candidate set. */
static int
hacc_ok(const struct bt *bt, uint32_t acc)
{
	if (acc == BT_NONE)
		return 1;
	if (acc & BT_ACC_RULE)
		return BT_ACC_RULE_ID(acc) < bt->nrules &&
		    BT_ACC_MASK_IDX(acc) ==
		    BT_MASK_INDEX(bt->rules[BT_ACC_RULE_ID(acc)].mask);
	return acc < bt->ncsets;
}

/*
 * A list reference (BT_LIST_ONE or a counted list in U32): count >= 1,
 * items strictly ascending and below <limit>.  Sets *count.
 */
static int
list_ok(const struct bt *bt, uint32_t ref, uint32_t limit, uint32_t *count)
{
	uint32_t n, i;

	if (ref & BT_LIST_ONE) {
		*count = 1;
		return BT_LIST_ITEM(ref) < limit;
	}
	if (ref >= bt->nu32)
		return 0;
	n = bt->u32[ref];
	if (n == 0 || n > bt->nu32 - ref - 1)
		return 0;
	for (i = 0; i < n; i++) {
		uint32_t v = bt->u32[ref + 1 + i];
		if (v >= limit || (i > 0 && v <= bt->u32[ref + i]))
			return 0;
	}
	*count = n;
	return 1;
}

/* Distance of slot <i> from slot <home> in a table of <n>, wrapping. */
static uint32_t
xdist(uint32_t i, uint32_t home, uint32_t n)
{
	return i >= home ? i - home : i + n - home;
}

/*
 * Checks one edge hash table and its tags (bt_format.h): every occupied
 * slot names states in [lo, hi) and a valid label, has the tag of its hash
 * and true distance from home, at most <max_probe> (which must be exact),
 * in Robin Hood order; empty slots are zero but for from.
 */
static int
check_edges(const struct bt *bt, const struct bt_edge *ed, const uint8_t *tags,
    uint32_t n, uint32_t lo, uint32_t hi, uint32_t max_probe,
    const char *what, char *err, size_t errlen)
{
	uint32_t i, longest = 0;

	if (n == 0)
		return fail(err, errlen, "%s: empty table", what);
	if (max_probe >= n || max_probe > BT_MAX_PROBE)
		return fail(err, errlen, "%s: probe bound %u out of range", what,
		    max_probe);
	for (i = 0; i < n; i++) {
		const struct bt_edge *e = &ed[i];
		uint8_t tag = tags[i], prev = tags[i == 0 ? n - 1 : i - 1];
		uint32_t hash, dist;

		if (tag == BT_TAG_EMPTY || e->from == BT_NONE) {
			if (tag != BT_TAG_EMPTY || e->from != BT_NONE ||
			    e->to != 0 || e->str != 0)
				return fail(err, errlen,
				    "%s: empty slot %u is not zero", what, i);
			continue;
		}
		if (e->from < lo || e->from >= hi || e->to < lo || e->to >= hi)
			return fail(err, errlen, "%s: slot %u names a state out of range",
			    what, i);
		if (!str_ok(bt, BT_EDGE_OFF(e), BT_EDGE_LEN(e)))
			return fail(err, errlen, "%s: slot %u label out of range",
			    what, i);
		hash = bt_edge_hash(bt_hash_label(bt->strings + BT_EDGE_OFF(e),
		    BT_EDGE_LEN(e)), e->from);
		dist = xdist(i, bt_home(hash, n), n);
		if (dist > max_probe)
			return fail(err, errlen,
			    "%s: slot %u is beyond the probe bound", what, i);
		if (tag != BT_TAG(dist, hash))
			return fail(err, errlen, "%s: slot %u: wrong tag", what, i);
		if (dist > 0 && (prev == BT_TAG_EMPTY ||
		    BT_TAG_DIST(prev) + 1 < dist))
			return fail(err, errlen,
			    "%s: slot %u is out of Robin Hood order", what, i);
		if (dist > longest)
			longest = dist;
	}
	if (longest != max_probe)
		return fail(err, errlen, "%s: probe bound %u is not the longest "
		    "probe %u", what, max_probe, longest);
	return 0;
}

/* def: BT_NONE, or [BT_DEF_NOEDGES |] (BT_DEAD or a state below nstates) */
static int
def_ok(uint32_t def, uint32_t lo, uint32_t hi)
{
	uint32_t t = def & BT_STATE_MASK;

	return t == BT_DEAD || (t >= lo && t < hi);
}

/*
 * The exact-host table: a tag per slot; every entry names a valid host
 * string, whose hash gives the tag, and a valid acceptance, and sits at
 * its tag's distance from home, within the probe bound (which must be
 * exact), in Robin Hood order; empty slots are zero but for str.
 */
static int
check_xhosts(const struct bt *bt, uint32_t max_probe, char *err,
    size_t errlen)
{
	uint32_t n = bt->nxhosts, i, longest = 0;

	if (n == 0)
		return fail(err, errlen, "exact hosts: empty table");
	if (bt->hdr->sec[BT_SEC_XTAGS].size != n)
		return fail(err, errlen, "exact hosts: %u tags for %u slots",
		    bt->hdr->sec[BT_SEC_XTAGS].size, n);
	if (max_probe >= n || max_probe > BT_MAX_PROBE)
		return fail(err, errlen, "exact hosts: probe bound out of range");
	for (i = 0; i < n; i++) {
		const struct bt_xslot *x = &bt->xhosts[i];
		uint8_t tag = bt->xtags[i];
		uint8_t prev = bt->xtags[i == 0 ? n - 1 : i - 1];
		struct view h;
		uint32_t d, hash;

		if (tag == BT_TAG_EMPTY) {
			if (x->str != BT_NONE || x->acc != 0)
				return fail(err, errlen,
				    "exact host %u: empty slot not zero", i);
			continue;
		}
		if (!cstr_ok(bt, x->str))
			return fail(err, errlen, "exact host %u out of range", i);
		h = cstr(bt, x->str);
		if (h.n == 0 || h.n > MAX_HOST_LEN)
			return fail(err, errlen, "exact host %u: bad key", i);
		if (x->acc == BT_NONE || !hacc_ok(bt, x->acc))
			return fail(err, errlen,
			    "exact host %u: acceptance out of range", i);
		hash = bt_hash32(h.p, h.n);
		d = xdist(i, bt_home(hash, n), n);
		if (d > max_probe)
			return fail(err, errlen,
			    "exact host %u is beyond the probe bound", i);
		if (tag != BT_TAG(d, hash))
			return fail(err, errlen, "exact host %u: wrong tag", i);
		if (d > 0 && (prev == BT_TAG_EMPTY ||
		    BT_TAG_DIST(prev) + 1 < d))
			return fail(err, errlen,
			    "exact host %u is out of Robin Hood order", i);
		if (d > longest)
			longest = d;
	}
	if (longest != max_probe)
		return fail(err, errlen, "exact hosts: probe bound %u is not the "
		    "longest probe %u", max_probe, longest);
	return 0;
}

static int
validate(struct bt *bt, char *err, size_t errlen)
{
	const struct bt_header *h = bt->hdr;
	uint32_t i, j, longest;

	if (bt->nrules != h->nrules)
		return fail(err, errlen, "rule count %u does not match the rules "
		    "section (%u)", h->nrules, bt->nrules);
	if (bt->nmethods != h->nmethods || bt->nmethods > BT_MAX_METHODS)
		return fail(err, errlen, "bad method count %u", h->nmethods);
	if (bt->nhstates == 0 || bt->nhstates >= BT_DEAD ||
	    bt->npstates >= BT_DEAD)
		return fail(err, errlen, "bad state count");
	if (bt->nstrings > BT_MAX_STRINGS)
		return fail(err, errlen, "string section too large");

	for (i = 0; i < bt->nmethods; i++) {
		const struct bt_method *m = &bt->methods[i];
		if (m->len == 0 || m->len > MAX_METHOD_LEN ||
		    !str_ok(bt, m->off, m->len))
			return fail(err, errlen, "method %u out of range", i);
	}
	for (i = 0; i < bt->nmlists; i++)
		if (!cstr_ok(bt, bt->mlists[i]))
			return fail(err, errlen, "method list %u out of range", i);
	for (i = 0; i < bt->nrules; i++) {
		const struct bt_rule *r = &bt->rules[i];
		size_t len = 0;
		if ((r->method != BT_NO_METHOD && r->method >= bt->nmlists) ||
		    (r->domain != BT_NONE && !cstr_ok(bt, r->domain)) ||
		    (r->path != BT_NONE && !cstr_ok(bt, r->path)) ||
		    ((r->mask & BT_RULE_VERBATIM) && (r->domain == BT_NONE ||
		    r->method != BT_NO_METHOD || r->path != BT_NONE)))
			return fail(err, errlen, "rule %u text out of range", i);
		if (r->method != BT_NO_METHOD)
			len += 8 + cstr(bt, bt->mlists[r->method]).n;
		if (r->domain != BT_NONE)
			len += 8 + cstr(bt, r->domain).n;
		if (r->path != BT_NONE)
			len += 6 + cstr(bt, r->path).n;
		if (len > BT_MAX_RULE_TEXT)
			return fail(err, errlen, "rule %u text too long", i);
		if (BT_MASK_INDEX(r->mask) >= bt->nmasks)
			return fail(err, errlen, "rule %u method mask out of range",
			    i);
	}

	/* path automata: contiguous ranges covering every path state */
	j = 0;
	for (i = 0; i < bt->npdfas; i++) {
		const struct bt_pdfa *d = &bt->pdfas[i];
		if (d->start != j || d->nstates == 0 ||
		    d->nstates > bt->npstates - j)
			return fail(err, errlen, "path automaton %u out of range", i);
		j += d->nstates;
	}
	if (j != bt->npstates)
		return fail(err, errlen, "path states not covered by automata");
	for (i = 0; i < bt->npdfas; i++) {
		const struct bt_pdfa *d = &bt->pdfas[i];
		for (j = d->start; j < d->start + d->nstates; j++) {
			const struct bt_state *s = &bt->pstates[j];
			if (!def_ok(s->def, d->start, d->start + d->nstates))
				return fail(err, errlen,
				    "path state %u: default edge out of range", j);
			uint32_t cnt;
			if (s->acc != BT_NONE &&
			    !list_ok(bt, s->acc, d->nlocal, &cnt))
				return fail(err, errlen,
				    "path state %u: bad accept list", j);
		}
	}
	for (i = 0; i < bt->ncsets; i++) {
		const struct bt_cset *c = &bt->csets[i];
		uint32_t cnt;
		if (!list_ok(bt, c->rules, bt->nrules, &cnt))
			return fail(err, errlen, "candidate set %u: bad rule list",
			    i);
		if (c->pdfa >= bt->npdfas || cnt < bt->pdfas[c->pdfa].nlocal)
			return fail(err, errlen,
			    "candidate set %u: bad path automaton", i);
	}
	for (i = 0; i < bt->nhstates; i++) {
		const struct bt_state *s = &bt->hstates[i];
		if (!def_ok(s->def, 0, bt->nhstates))
			return fail(err, errlen,
			    "host state %u: default edge out of range", i);
		if (!hacc_ok(bt, s->acc))
			return fail(err, errlen,
			    "host state %u: acceptance out of range", i);
	}
	if (check_xhosts(bt, h->xhost_max_probe, err, errlen) == -1)
		return -1;
	if (h->universal != BT_NONE && h->universal >= bt->ncsets)
		return fail(err, errlen, "universal set out of range");
	if (h->sec[BT_SEC_HTAGS].size != bt->nhedges ||
	    h->sec[BT_SEC_PTAGS].size != bt->npedges)
		return fail(err, errlen, "edge tags do not match the edges");
	if (check_edges(bt, bt->hedges, bt->htags, bt->nhedges, 0,
	    bt->nhstates, h->hedge_max_probe, "host edges", err, errlen) == -1)
		return -1;
	/* path edges: one table per path automaton, in order, covering all */
	j = 0;
	longest = 0;
	for (i = 0; i < bt->npdfas; i++) {
		const struct bt_pdfa *d = &bt->pdfas[i];
		char what[48];
		if (d->eoff != j || d->en == 0 || d->en > bt->npedges - j)
			return fail(err, errlen,
			    "path automaton %u: edge table out of range", i);
		snprintf(what, sizeof(what), "path edges of automaton %u", i);
		if (check_edges(bt, bt->pedges + d->eoff, bt->ptags + d->eoff,
		    d->en, d->start, d->start + d->nstates, d->max_probe, what,
		    err, errlen) == -1)
			return -1;
		if (d->max_probe > longest)
			longest = d->max_probe;
		j += d->en;
	}
	if (bt->npdfas == 0 ? bt->npedges != 1 ||
	    bt->pedges[0].from != BT_NONE || bt->pedges[0].to != 0 ||
	    bt->pedges[0].str != 0 || bt->ptags[0] != BT_TAG_EMPTY :
	    j != bt->npedges)
		return fail(err, errlen, "path edges: tables do not cover the "
		    "section");
	if (h->pedge_max_probe != longest)
		return fail(err, errlen, "path edges: probe bound %u is not the "
		    "longest probe %u", h->pedge_max_probe, longest);
	bt->xmax_probe = h->xhost_max_probe;
	bt->hmax_probe = h->hedge_max_probe;
	bt->pmax_probe = h->pedge_max_probe;
	bt->universal = h->universal;
	return 0;
}

int
bt_load_mem(struct bt *bt, const void *buf, size_t len, char *err,
    size_t errlen)
{
	const struct bt_header *h = buf;

	memset(bt, 0, sizeof(*bt));
	if (len < sizeof(*h))
		return fail(err, errlen, "truncated: %zu bytes, a policy header "
		    "alone is %zu", len, sizeof(*h));
	if ((uintptr_t)buf % 8 != 0)
		return fail(err, errlen, "policy buffer is misaligned");
	if (memcmp(h->magic, BT_MAGIC, BT_MAGIC_LEN) != 0)
		return fail(err, errlen, "not a compiled boundary policy (bad "
		    "magic); compile it with boundary-compile");
	if (h->version != BT_VERSION)
		return fail(err, errlen, "policy format version %u, this build "
		    "reads version %u; recompile it with this boundary-compile",
		    h->version, BT_VERSION);
	if (h->header_size != sizeof(*h))
		return fail(err, errlen, "bad header size %u", h->header_size);
	if (h->file_size != len)
		return fail(err, errlen, "truncated or padded: header says %llu "
		    "bytes, file has %zu", (unsigned long long)h->file_size, len);
	if (bt_checksum(buf, len) != h->checksum)
		return fail(err, errlen, "checksum mismatch: the file is corrupt");
	bt->base = buf;
	bt->size = len;
	bt->hdr = h;
	if (check_sections(bt, err, errlen) == -1 ||
	    validate(bt, err, errlen) == -1) {
		memset(bt, 0, sizeof(*bt));
		return -1;
	}
	return 0;
}

/* Reads exactly <n> bytes; -1 with errno, or errno 0 on a short file. */
static int
read_all(int fd, unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int
bt_load_file(struct bt *bt, const char *path, char *err, size_t errlen)
{
	struct stat st;
	void *p;
	int fd;
	char why[256];

	memset(bt, 0, sizeof(*bt));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		fail(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size > (off_t)MAX_POLICY_FILE) {
		fail(err, errlen, "%s: larger than %u bytes", path,
		    MAX_POLICY_FILE);
		goto fail;
	}
	if (st.st_size < (off_t)sizeof(struct bt_header)) {
		fail(err, errlen, "%s: truncated: %lld bytes", path,
		    (long long)st.st_size);
		goto fail;
	}
	/*
	 * A private anonymous copy, then read-only: a policy file truncated or
	 * rewritten in place while we run (cp over it) cannot fault us, as a
	 * file mapping would with SIGBUS.
	 */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fail(err, errlen, "%s: mmap: %s", path, strerror(errno));
		goto fail;
	}
	if (read_all(fd, p, (size_t)st.st_size) == -1 ||
	    mprotect(p, (size_t)st.st_size, PROT_READ) == -1) {
		fail(err, errlen, "%s: %s", path, errno ? strerror(errno) :
		    "file changed while being read");
		munmap(p, (size_t)st.st_size);
		goto fail;
	}
	close(fd);
	fd = -1;
	if (bt_load_mem(bt, p, (size_t)st.st_size, why, sizeof(why)) == -1) {
		munmap(p, (size_t)st.st_size);
		return fail(err, errlen, "%s: %s", path, why);
	}
	bt->mapped = 1;
	return 0;
 fail:
	if (fd != -1)
		close(fd);
	return -1;
}

void
bt_close(struct bt *bt)
{
	if (bt->mapped && bt->base != NULL)
		munmap((void *)(uintptr_t)bt->base, bt->size);
	memset(bt, 0, sizeof(*bt));
}

/* Appends <s> to buf[*at, cap); counts beyond cap without writing. */
static void
put(char *buf, size_t cap, size_t *at, const char *s, size_t n)
{
	if (*at < cap)
		memcpy(buf + *at, s, n < cap - *at ? n : cap - *at);
	*at += n;
}

size_t
bt_rule_text(const struct bt *bt, uint32_t i, char *buf, size_t cap)
{
	const struct bt_rule *r;
	static const char *const keys[3] = { "method=", "domain=", "path=" };
	uint32_t part[3];
	size_t at = 0;
	int k;

	assert(i < bt->nrules);
	r = &bt->rules[i];
	if (r->mask & BT_RULE_VERBATIM) {
		struct view t = cstr(bt, r->domain);
		put(buf, cap, &at, t.p, t.n);
		return at;
	}
	part[0] = r->method == BT_NO_METHOD ? BT_NONE : bt->mlists[r->method];
	part[1] = r->domain;
	part[2] = r->path;
	for (k = 0; k < 3; k++) {
		struct view v;
		if (part[k] == BT_NONE)
			continue;
		v = cstr(bt, part[k]);
		if (at > 0)
			put(buf, cap, &at, " ", 1);
		put(buf, cap, &at, keys[k], strlen(keys[k]));
		put(buf, cap, &at, v.p, v.n);
	}
	return at;
}

/*
 * Word-at-a-time search for a byte: the bytes of <w> equal to <c> get
 * their high bit set, exactly (no false positives).
 */
static inline uint64_t
bytes_eq_mask(uint64_t w, unsigned char c)
{
	uint64_t x = w ^ (0x0101010101010101ull * c);
	uint64_t lo = 0x7f7f7f7f7f7f7f7full;

	return ~(((x & lo) + lo) | x | lo);
}

/* Start of the last label of [h, end): just after its last '.', or h. */
static inline const char *
label_start(const char *h, const char *end)
{
	uint64_t w, m;

	while (end - h >= 8) {
		memcpy(&w, end - 8, 8);
		m = bytes_eq_mask(w, '.');
		if (m != 0)
			return end - 8 + (63 - __builtin_clzll(m)) / 8 + 1;
		end -= 8;
	}
	while (end > h && end[-1] != '.')
		end--;
	return end;
}

/* End of the segment that starts at <p>: the next '/' or <end>. */
static inline const char *
segment_end(const char *p, const char *end)
{
	uint64_t w, m;

	while (end - p >= 8) {
		memcpy(&w, p, 8);
		m = bytes_eq_mask(w, '/');
		if (m != 0)
			return p + __builtin_ctzll(m) / 8;
		p += 8;
	}
	while (p < end && *p != '/')
		p++;
	return p;
}

/* Equality of two keys of length <n>; no branch on n for 8..32 bytes. */
static inline int
key_eq(const char *a, const char *b, size_t n)
{
	uint64_t x[4], y[4];

	if (n < 8 || n > 32)
		return bt_bytes_eq(a, b, n);
	bt_words4((const unsigned char *)a, n, x);
	bt_words4((const unsigned char *)b, n, y);
	return ((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) |
	    (x[3] ^ y[3])) == 0;
}

/*
 * Fixed-cost probing.  When the BT_TAG_SCAN tags from a key's home slot
 * all lie inside the table (no wrap), a lookup compares them all at once
 * with the tags the key would have at each distance (BT_TAG(d, hash)) and
 * gets a bit per candidate slot: an entry for the key can only sit at such
 * a slot, within the probe bound, so the Robin Hood early exit is not
 * needed.  The number of tags read then does not depend on what they hold,
 * and a lookup has no branch per probe: in a large policy the probe count
 * varies from one request to the next and such branches mispredict.  Near
 * the end of a table, and in tables shorter than BT_TAG_SCAN slots, the
 * lookup probes one tag at a time.
 */
#define BT_TAG_SCAN 16u

/* Bit d set when tags[d] == BT_TAG(d, hash), for d < 16: portable. */
static inline __attribute__((unused)) uint32_t
tag_hits_swar(const uint8_t *tags, uint32_t hash)
{
	uint64_t lo = 0x7f7f7f7f7f7f7f7full, h, x0, x1;

	h = 0x0101010101010101ull * (hash & 0xfu);
	memcpy(&x0, tags, 8);
	memcpy(&x1, tags + 8, 8);
	x0 = le64toh(x0) ^ (0x7060504030201000ull | h);
	x1 = le64toh(x1) ^ (0xf0e0d0c0b0a09080ull | h);
	x0 = ~(((x0 & lo) + lo) | x0 | lo) >> 7;	/* 1 in each zero byte */
	x1 = ~(((x1 & lo) + lo) | x1 | lo) >> 7;
	/* byte k's low bit to bit 56 + k; the partial products never carry */
	return (uint32_t)((x0 * 0x0102040810204080ull) >> 56) |
	    (uint32_t)((x1 * 0x0102040810204080ull) >> 56) << 8;
}

/*
 * The candidate slots among tags[0, max_probe]: bit d for tags[d] ==
 * BT_TAG(d, hash).  <tags> has BT_TAG_SCAN readable bytes; max_probe <=
 * BT_MAX_PROBE.
 */
static inline uint32_t
tag_hits(const uint8_t *tags, uint32_t hash, uint32_t max_probe)
{
	uint32_t m;
#ifdef __SSE2__
	__m128i t = _mm_loadu_si128((const __m128i *)(const void *)tags);
	__m128i w = _mm_or_si128(_mm_setr_epi8(0x00, 0x10, 0x20, 0x30, 0x40,
	    0x50, 0x60, 0x70, (char)0x80, (char)0x90, (char)0xa0, (char)0xb0,
	    (char)0xc0, (char)0xd0, (char)0xe0, (char)0xf0),
	    _mm_set1_epi8((char)(hash & 0xfu)));

	m = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(t, w));
#else
	m = tag_hits_swar(tags, hash);
#endif
	return m & ((2u << max_probe) - 1);
}

/*
 * The exact-host table lookup: the acceptance for <host>, whose bt_hash32
 * is <hash>, or BT_NONE.  Only tags are read until one matches.
 */
static inline __attribute__((always_inline)) uint32_t
xhost_find(const struct bt *bt, const char *host, size_t n, uint32_t hash)
{
	uint32_t ns = bt->nxhosts, i = bt_home(hash, ns), d, m;
	unsigned want = BT_TAG(0, hash);

	if (i + BT_TAG_SCAN <= ns) {
		for (m = tag_hits(bt->xtags + i, hash, bt->xmax_probe); m != 0;
		    m &= m - 1) {
			const struct bt_xslot *x = &bt->xhosts[i +
			    (uint32_t)__builtin_ctz(m)];
			struct view k = cstr(bt, x->str);
			if (k.n == n && key_eq(k.p, host, n))
				return x->acc;
		}
		return BT_NONE;
	}
	for (d = 0; d <= bt->xmax_probe; d++, want += 1u << 4) {
		unsigned tag = bt->xtags[i];
		if (tag == want) {
			const struct bt_xslot *x = &bt->xhosts[i];
			struct view k = cstr(bt, x->str);
			if (k.n == n && key_eq(k.p, host, n))
				return x->acc;
		}
		/* empty, or an entry nearer to its home: not in the table */
		if (tag == BT_TAG_EMPTY || BT_TAG_DIST(tag) < d)
			break;
		i = i + 1 == ns ? 0 : i + 1;
	}
	return BT_NONE;
}

/*
 * One step of a walk: the state reached from <s> on label <p,n>.  Returns
 * BT_DEAD when there is none.  Always inlined: as a call (GCC's choice
 * since the tag scan made it longer) it cost about 3 ns per decision.
 */
static inline __attribute__((always_inline)) uint32_t
step(const struct bt *bt, const struct bt_state *st, const struct bt_edge *ed,
    const uint8_t *tags, uint32_t nslots, uint32_t max_probe, uint32_t s,
    const char *p, size_t n)
{
	uint32_t def = st[s].def, hash, i, k;
	unsigned want;

	if (!(def & BT_DEF_NOEDGES) && n <= BT_MAX_EDGE_LABEL) {
		hash = bt_edge_hash(bt_hash_label(p, n), s);
		i = bt_home(hash, nslots);
		want = BT_TAG(0, hash);
		if (i + BT_TAG_SCAN <= nslots) {
			uint32_t m;
			for (m = tag_hits(tags + i, hash, max_probe); m != 0;
			    m &= m - 1) {
				const struct bt_edge *e =
				    &ed[i + (uint32_t)__builtin_ctz(m)];
				if (e->from == s && BT_EDGE_LEN(e) == n &&
				    bt_bytes_eq(bt->strings + BT_EDGE_OFF(e),
				    p, n))
					return e->to;
			}
			return def & BT_STATE_MASK;
		}
		for (k = 0; k <= max_probe; k++, want += 1u << 4) {
			unsigned tag = tags[i];
			if (tag == want) {
				const struct bt_edge *e = &ed[i];
				if (e->from == s && BT_EDGE_LEN(e) == n &&
				    bt_bytes_eq(bt->strings + BT_EDGE_OFF(e),
				    p, n))
					return e->to;
			}
			if (tag == BT_TAG_EMPTY || BT_TAG_DIST(tag) < k)
				break;	/* not in the table */
			i = i + 1 == nslots ? 0 : i + 1;
		}
	}
	return def & BT_STATE_MASK;
}

static uint32_t method_bit(const struct bt *, struct view);

/*
 * Whether method mask <mask> admits the request method.  The method's bit
 * is looked up once per decision, and only when a rule restricts methods.
 */
static inline int
method_ok(const struct bt *bt, uint32_t mask, struct view m, uint32_t *mbit)
{
	if (mask == BT_MASK_ANY)
		return 1;
	if (*mbit == 0)
		*mbit = method_bit(bt, m);
	return (mask & *mbit) != 0;
}

/* Bit of the request method in the policy's method masks. */
static uint32_t
method_bit(const struct bt *bt, struct view m)
{
	uint32_t i;

	for (i = 0; i < bt->nmethods; i++) {
		const struct bt_method *bm = &bt->methods[i];
		if (bm->len == m.n && bt_bytes_eq(bt->strings + bm->off, m.p, m.n))
			return 1u << i;
	}
	return 1u << BT_METHOD_OTHER;
}

/*
 * The first rule of candidate set <ci> below <best> that admits the request
 * path and method; <best> if none.
 */
static uint32_t
eval_cset(const struct bt *bt, uint32_t ci, const struct bt_req *rq,
    uint32_t *mbit, uint32_t best)
{
	const struct bt_cset *c = &bt->csets[ci];
	const struct bt_pdfa *d;
	const struct bt_edge *ed;
	const char *p = rq->path.p + 1, *end = rq->path.p + rq->path.n;
	uint32_t s, acc, n, i, one_rule, one_local;
	const uint32_t *rules, *locals;

	if (c->rules & BT_LIST_ONE) {
		one_rule = BT_LIST_ITEM(c->rules);
		rules = &one_rule;
	} else
		rules = &bt->u32[c->rules + 1];
	if (rules[0] >= best)
		return best;	/* no candidate can come first */
	d = &bt->pdfas[c->pdfa];
	ed = bt->pedges + d->eoff;
	s = d->start;
	/* segments of a canonical path: "/" -> [""], "/a/" -> [a, ""] */
	for (;;) {
		const char *q = segment_end(p, end);
		s = step(bt, bt->pstates, ed, bt->ptags + d->eoff, d->en,
		    d->max_probe, s, p, (size_t)(q - p));
		if (s == BT_DEAD)
			return best;
		if (q == end)
			break;
		p = q + 1;
	}
	acc = bt->pstates[s].acc;
	if (acc == BT_NONE)
		return best;
	if (acc & BT_LIST_ONE) {
		n = 1;
		one_local = BT_LIST_ITEM(acc);
		locals = &one_local;
	} else {
		n = bt->u32[acc];
		locals = &bt->u32[acc + 1];
	}
	for (i = 0; i < n; i++) {
		uint32_t r = rules[locals[i]];
		if (r >= best)
			break;
		if (method_ok(bt, bt->masks[BT_MASK_INDEX(bt->rules[r].mask)],
		    rq->method, mbit))
			return r;
	}
	return best;
}

/*
 * The host-side acceptance for <host> (exact table, then the automaton
 * over labels right to left; an IPv6 literal is one opaque label).
 */
static inline uint32_t
host_accept(const struct bt *bt, struct view host)
{
	const char *h = host.p, *end = host.p + host.n;
	uint32_t acc, s = 0;

	if (host.n == 0)
		return BT_NONE;
	acc = xhost_find(bt, h, host.n, bt_hash32(h, host.n));
	if (acc != BT_NONE)
		return acc;
	if (h[0] == '[')
		s = step(bt, bt->hstates, bt->hedges, bt->htags, bt->nhedges,
		    bt->hmax_probe, s, h, host.n);
	else
		for (;;) {
			const char *lab = label_start(h, end);
			s = step(bt, bt->hstates, bt->hedges, bt->htags,
			    bt->nhedges, bt->hmax_probe, s, lab,
			    (size_t)(end - lab));
			if (s == BT_DEAD || lab == h)
				break;
			end = lab - 1;
		}
	return s == BT_DEAD ? BT_NONE : bt->hstates[s].acc;
}

int
bt_host_possible(const struct bt *bt, struct view host)
{
	return bt->universal != BT_NONE || host_accept(bt, host) != BT_NONE;
}

void
bt_decide(const struct bt *bt, const struct bt_req *rq, struct verdict *v)
{
	uint32_t best = BT_NONE, acc, mbit = 0;

	assert(rq->path.n > 0 && rq->path.p[0] == '/');
	/* an exact host has the complete answer; else walk the wildcards */
	acc = host_accept(bt, rq->host);
	if (acc != BT_NONE) {
		if (acc & BT_ACC_RULE) {
			if (method_ok(bt, bt->masks[BT_ACC_MASK_IDX(acc)],
			    rq->method, &mbit))
				best = BT_ACC_RULE_ID(acc);
		} else
			best = eval_cset(bt, acc, rq, &mbit, best);
	}
	if (bt->universal != BT_NONE)
		best = eval_cset(bt, bt->universal, rq, &mbit, best);
	v->rule = best;
	v->reason = best == BT_NONE ? REASON_NO_RULE : REASON_ALLOWED;
}
