/*
 * The decision structure of a policy, built in memory (build.c) and then
 * serialised (emit.c) in the layout of runtime/bt_format.h.
 */
#ifndef BUILD_H
#define BUILD_H

#include <stdint.h>

#include "../runtime/bt_format.h"
#include "arena.h"
#include "diag.h"
#include "rule.h"

/* An edge before it is placed in the hash table. */
struct tbl_edge {
	uint32_t from, to, str;	/* str: BT_EDGE_STR(off, len) */
};

struct tbl {
	char *str;			/* STRINGS */
	size_t nstr, capstr;
	struct bt_rule *rules;
	uint32_t nrules;
	struct bt_method methods[BT_MAX_METHODS];
	uint32_t nmethods;
	uint32_t *masks;
	size_t nmasks, capmasks;
	uint32_t *mlists;		/* counted strings of method lists */
	size_t nmlists, capmlists;
	struct bt_xhost *xh;		/* exact hosts, before placement */
	size_t nxh;
	struct bt_state *hst, *pst;	/* host / path states */
	size_t nhst, caphst, npst, cappst;
	struct tbl_edge *hed, *ped;	/* host / path edges */
	size_t nhed, caphed, nped, capped;
	struct bt_pdfa *pdfas;
	size_t npdfas, cappdfas;
	struct bt_cset *csets;
	size_t ncsets, capcsets;
	uint32_t *u32;			/* counted lists */
	size_t nu32, capu32;
	uint32_t universal;		/* cset, or BT_NONE */
};

/*
 * Builds the table for <rules> (parsed, in policy order).  Reports policy
 * limits (too many methods, too complex, too large) through <d>; returns 0
 * or -1.
 */
int build_table(struct arena *, struct diag *, const struct rule *rules,
    uint32_t n, struct tbl *) __attribute__((warn_unused_result));

/*
 * Serialises <t> into a new malloc'd buffer; byte-identical for identical
 * tables.  Returns 0 or -1 (out of memory).
 */
int emit_table(const struct tbl *, unsigned char **buf, size_t *len)
    __attribute__((warn_unused_result));

#endif
