/*
 * ON-DISK CONTRACT of a compiled policy (.bpol).  Written by compiler/emit.c,
 * mapped read-only and validated by runtime/bt.c.  Any change to this file
 * that changes bytes on disk must bump BT_VERSION.
 *
 * Layout: one struct bt_header, then the sections it names, each 8-byte
 * aligned, all addressed by offsets from the start of the file.  Every
 * integer is little-endian.  Nothing in the file is a pointer.
 *
 * A decision first looks the whole request host up in a hash table of the
 * hosts that rules name exactly (XHOSTS).  A hit gives the complete answer
 * for that host: the compiler has already merged in the wildcard rules that
 * also match it.  On a miss it walks a deterministic automaton ("DFA") over
 * the host's labels, right to left (TLD first), built from the patterns
 * that contain '*'.  Path DFAs read the path's segments left to right.
 *
 * A DFA is an array of struct bt_state plus a hash table of struct bt_edge
 * keyed by (from state, label bytes); every path DFA has its own.  A label
 * without an edge follows the state's default edge ("*").  Host
 * acceptance (from XHOSTS or the host DFA) yields either one rule directly
 * (BT_ACC_RULE, for a rule that admits every path) or a candidate set
 * (struct bt_cset): the
 * sorted rule ids whose host pattern accepts, plus a path DFA built for
 * exactly those rules.  Path acceptance yields a list of indices into the
 * candidate set, ascending, so the first one whose method mask admits the
 * request method is the first matching rule.  Rules whose host pattern is
 * "*" (or absent) form the universal candidate set, evaluated for every
 * host; the verdict is the smaller rule id of the two.
 *
 * Rule texts are stored in parts (method list, domain, path list, each as
 * written) and rendered on demand, so a domain string serves both as the
 * rule's text and as its XHOSTS key; a rule whose text is not the plain
 * "method=M domain=D path=P" rendering of its parts is stored verbatim.
 */
#ifndef BT_FORMAT_H
#define BT_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BT_MAGIC "BPOL\r\n\032\n" /* 8 bytes; CR-LF and ^Z catch text mangling */
#define BT_MAGIC_LEN 8
#define BT_VERSION 2
#define BT_NONE 0xffffffffu

/* Sections, in file order. */
enum bt_sec {
	BT_SEC_STRINGS,	/* bytes: rule texts, labels, segments, method names */
	BT_SEC_RULES,	/* struct bt_rule[nrules], in policy order */
	BT_SEC_METHODS,	/* struct bt_method[nmethods]: bit i names method i */
	BT_SEC_MASKS,	/* uint32_t[]: distinct method masks, indexed by rules */
	BT_SEC_MLISTS,	/* uint32_t[]: counted method-list strings of rules */
	BT_SEC_XHOSTS,	/* struct bt_xslot[]: exact hosts, Robin Hood hashed */
	BT_SEC_XTAGS,	/* uint8_t[]: one tag byte per XHOSTS slot */
	BT_SEC_HSTATES,	/* struct bt_state[]: host DFA, state 0 = start */
	BT_SEC_HEDGES,	/* struct bt_edge[]: host DFA edge hash table */
	BT_SEC_HTAGS,	/* uint8_t[]: one tag byte per HEDGES slot */
	BT_SEC_PSTATES,	/* struct bt_state[]: all path DFAs */
	BT_SEC_PEDGES,	/* struct bt_edge[]: path DFA edge hash tables */
	BT_SEC_PTAGS,	/* uint8_t[]: one tag byte per PEDGES slot */
	BT_SEC_PDFAS,	/* struct bt_pdfa[]: the path DFAs, contiguous state ranges */
	BT_SEC_CSETS,	/* struct bt_cset[]: candidate sets */
	BT_SEC_U32,	/* uint32_t[]: counted lists (count, then items) */
	BT_SEC_COUNT
};

struct bt_section {
	uint32_t off;	/* from the start of the file; 8-byte aligned */
	uint32_t size;	/* in bytes */
};

struct bt_header {
	char magic[BT_MAGIC_LEN];
	uint32_t version;	/* BT_VERSION */
	uint32_t header_size;	/* sizeof(struct bt_header) */
	uint64_t file_size;	/* whole file, header included */
	uint64_t checksum;	/* bt_hash64() of the whole file with this
				 * field read as zero */
	uint32_t nrules;
	uint32_t nmethods;	/* <= BT_MAX_METHODS */
	uint32_t hedge_max_probe; /* longest probe distance in HEDGES (exact) */
	uint32_t pedge_max_probe; /* longest of the path DFAs' (exact) */
	uint32_t xhost_max_probe; /* longest probe distance in XHOSTS (exact) */
	uint32_t universal;	/* cset index of the universal rules, or BT_NONE */
	struct bt_section sec[BT_SEC_COUNT];
};

/*
 * A rule: the methods it admits and its text as written, in parts: the
 * domain and path values as offsets in STRINGS of counted strings (see
 * bt_cstr), the method list as an index into MLISTS (itself counted
 * strings, shared by the rules that write the same list).  BT_NONE /
 * BT_NO_METHOD: the key is absent.  With BT_RULE_VERBATIM in <mask>,
 * <domain> holds the whole text instead, and the other parts are absent.
 */
struct bt_rule {
	uint32_t domain;	/* "*.github.com" */
	uint32_t path;		/* "/v1/users,/healthz" */
	uint16_t method;	/* index in MLISTS: "GET,HEAD" */
	uint16_t mask;		/* index into MASKS | BT_RULE_VERBATIM */
};

#define BT_NO_METHOD 0xffffu
#define BT_MAX_MLISTS 0xffffu
#define BT_RULE_VERBATIM 0x8000u
#define BT_MASK_INDEX(m) ((m) & 0x7fffu)
#define BT_MAX_MASKS 0x8000u
#define BT_MAX_RULE_TEXT 4096	/* rendered length; MAX_RULE_LEN */

/*
 * A counted string: its length as one byte (0..127) or two (0x80 | low 7
 * bits, then the high 8 bits: up to 32767), then the bytes.  Returns the
 * length and sets *hdr to the size of the length prefix.  The caller has
 * checked that two bytes are readable at <p>, or one if p[0] < 0x80.
 */
static inline uint32_t
bt_cstr(const char *p, uint32_t *hdr)
{
	uint32_t b0 = (unsigned char)p[0];

	if (b0 < 0x80) {
		*hdr = 1;
		return b0;
	}
	*hdr = 2;
	return (b0 & 0x7f) | (uint32_t)(unsigned char)p[1] << 7;
}

#define BT_MAX_CSTR 32767u

/*
 * The hash tables (exact hosts, edges) share one scheme.  Each slot has a
 * tag byte in a separate array.  The home slot of a key is
 * bt_home(hash, nslots), its 32-bit hash; entries are placed by Robin Hood
 * hashing with linear probing (wrapping): every entry sits at most the
 * table's probe bound (<= BT_MAX_PROBE) after its home, and the slot
 * before an entry at distance d > 0 holds one at distance >= d - 1.  Its
 * tag is BT_TAG(d, hash): the distance and 4 bits of the hash;
 * BT_TAG_EMPTY marks an empty slot.  A lookup reads the tags only (one
 * byte per slot, which stays in cache) until a tag equals
 * BT_TAG(probe, hash), and compares that slot's key; it stops at an empty
 * tag or one whose distance is below the probe.  Most misses thus read no
 * slot at all, and most hits one.  (Where the probe bound's tags after the
 * home slot do not wrap, runtime/bt.c compares them all at once instead,
 * which finds the same slots.)
 */
#define BT_TAG(dist, hash) ((uint8_t)((dist) << 4 | ((hash) & 0xfu)))
#define BT_TAG_DIST(t) ((uint32_t)(t) >> 4)
#define BT_TAG_EMPTY 0xffu
#define BT_MAX_PROBE 14u	/* distances fit in 4 bits; 15 is "empty" */

/*
 * A slot of the exact-host table XHOSTS, tags in XTAGS; the hash of a host
 * is bt_hash32().
 */
struct bt_xslot {
	uint32_t str;		/* offset of the counted string: the canonical
				 * host; BT_NONE when empty */
	uint32_t acc;		/* as bt_state.acc of the host DFA; 0 when
				 * empty */
};

/* An exact host as the compiler collects it, before placement. */
struct bt_xhost {
	uint32_t hash;		/* bt_hash32() of the host */
	uint32_t str;		/* offset of its counted string */
	uint32_t acc;
};

struct bt_method {
	uint32_t off;		/* into STRINGS */
	uint32_t len;
};

/*
 * Bit BT_METHOD_OTHER of a mask stands for every method the policy never
 * names; only "any method" masks have it.
 */
#define BT_MAX_METHODS 31
#define BT_METHOD_OTHER 31
#define BT_MASK_ANY 0xffffffffu

/*
 * def:  the state reached on a label without an edge, or BT_DEAD.
 *       Bit BT_DEF_NOEDGES is set when the state has no literal edges, so
 *       the walk can skip the hash lookup (BT_NONE = dead, no edges).
 * acc:  what acceptance yields if the input ends here, or BT_NONE.
 *       In the host DFA: a cset index, or BT_ACC_RULE (see above) for a
 *       single rule that admits every path.  In a path DFA: a list
 *       reference (BT_LIST_ONE) of candidate-set indices.
 */
struct bt_state {
	uint32_t def;
	uint32_t acc;
};

#define BT_DEF_NOEDGES 0x80000000u
#define BT_DEAD 0x7fffffffu
#define BT_STATE_MASK 0x7fffffffu

/*
 * A single-rule acceptance carries the rule's method mask index too, so
 * that the common decision reads no rule record:
 * BT_ACC_RULE | mask index << BT_ACC_MASK_SHIFT | rule id.
 */
#define BT_ACC_RULE 0x80000000u
#define BT_ACC_MASK_SHIFT 20
#define BT_ACC_MAX_RULE ((1u << BT_ACC_MASK_SHIFT) - 1)
#define BT_ACC_MAX_MASK 0x7ffu
#define BT_ACC_RULE_ID(a) ((a) & BT_ACC_MAX_RULE)
#define BT_ACC_MASK_IDX(a) (((a) >> BT_ACC_MASK_SHIFT) & BT_ACC_MAX_MASK)

/*
 * One slot of an edge hash table (tags in HTAGS or PTAGS; see above).
 * from == BT_NONE marks an empty slot.  The label is str_off/str_len in
 * STRINGS.  The hash of an edge is bt_edge_hash(bt_hash_label(label),
 * from).  Tables are kept at most half full.
 */
struct bt_edge {
	uint32_t from;
	uint32_t to;
	uint32_t str;		/* offset << 8 | length */
};

#define BT_EDGE_OFF(e) ((e)->str >> 8)
#define BT_EDGE_LEN(e) ((e)->str & 0xffu)
#define BT_EDGE_STR(off, len) ((uint32_t)(off) << 8 | (uint32_t)(len))
#define BT_MAX_EDGE_LABEL 255u
#define BT_MAX_STRINGS (1u << 24)	/* edge label offsets have 24 bits */

/*
 * A path DFA: states [start, start + nstates) of PSTATES, whose edges and
 * default edges stay inside that range.  Its edges have a hash table of
 * their own, slots [eoff, eoff + en) of PEDGES (homes and probes wrap
 * inside it), so that a small automaton, such as the universal rules'
 * that every decision walks, stays in a cache line or two whatever the
 * size of the policy.  The tables follow each other in PDFAS order and
 * cover PEDGES.  Its accept lists hold indices below nlocal into the rule
 * list of any candidate set that uses it.
 */
struct bt_pdfa {
	uint32_t start;
	uint32_t nstates;
	uint32_t nlocal;
	uint32_t eoff;		/* first slot of its edge table in PEDGES */
	uint32_t en;		/* slots in it, >= 1 */
	uint32_t max_probe;	/* longest probe distance in it (exact) */
};

/*
 * A list reference (candidate-set rules, path accept lists): either
 * BT_LIST_ONE | the only item, or the offset in U32 of a counted list
 * (count, then the items, ascending).  One-item lists, the common case,
 * thus cost no memory access.
 */
#define BT_LIST_ONE 0x80000000u
#define BT_LIST_ITEM(v) ((v) & 0x7fffffffu)

/* A candidate set: rules (a list reference, ascending) + path DFA. */
struct bt_cset {
	uint32_t rules;		/* list reference */
	uint32_t pdfa;		/* index in PDFAS; start state = its start */
};

/*
 * Hashing is part of the format: the compiler places edges with these
 * functions and the runtime looks them up with the same ones.
 */
static inline uint64_t
bt_mix64(uint64_t x)
{
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	x *= 0xd6e8feb86659fd93ull;
	x ^= x >> 32;
	return x;
}

/* 64x64 -> 128-bit multiply, folded: one multiplication mixes 64 bits. */
static inline uint64_t
bt_mum(uint64_t a, uint64_t b)
{
	__extension__ unsigned __int128 r = (unsigned __int128)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * The last 1..8 bytes of a key as one word, reading only inside [s, s+n):
 * overlapping loads for 4..8 bytes, three single bytes for 1..3.  For keys
 * of equal length the word determines the bytes.
 */
static inline uint64_t
bt_tail(const unsigned char *s, size_t n)
{
	uint32_t a, b;

	if (n >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		return (uint64_t)a << 32 | b;
	}
	return (uint64_t)s[0] << 16 | (uint64_t)s[n >> 1] << 8 | s[n - 1];
}

static inline uint64_t
bt_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = seed ^ n, w;

	while (n > 8) {
		memcpy(&w, s, 8);
		h = bt_mum(h ^ w, 0xa0761d6478bd642full);
		s += 8;
		n -= 8;
	}
	w = n == 0 ? 0 : bt_tail(s, n);
	return bt_mum(h ^ w ^ 0xe7037ed1a0b428dbull, 0x8ebc6af09c88c6e3ull);
}

/*
 * Equality of two byte strings of the same length <n>, without a library
 * call: word compares, overlapping at the end.
 */
static inline int
bt_bytes_eq(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	uint64_t u, v;

	while (n > 8) {
		memcpy(&u, x, 8);
		memcpy(&v, y, 8);
		if (u != v)
			return 0;
		x += 8;
		y += 8;
		n -= 8;
	}
	if (n == 0)
		return 1;
	if (n == 8) {
		memcpy(&u, x, 8);
		memcpy(&v, y, 8);
		return u == v;
	}
	return bt_tail(x, n) == bt_tail(y, n);
}

static inline uint64_t
bt_hash_label(const void *p, size_t n)
{
	return bt_hash_bytes(p, n, 0x62706f6c6c61626cull);
}

/*
 * The 8-byte words at offsets 0, 8, 16 and 24 of a key of 8..32 bytes,
 * each offset capped at n - 8 so as to read only inside the key: together
 * they hold every byte, and no branch depends on the length.
 */
static inline void
bt_words4(const unsigned char *s, size_t n, uint64_t w[4])
{
	size_t last = n - 8;

	memcpy(&w[0], s, 8);
	memcpy(&w[1], s + (last < 8 ? last : 8), 8);
	memcpy(&w[2], s + (last < 16 ? last : 16), 8);
	memcpy(&w[3], s + (last < 24 ? last : 24), 8);
}

/*
 * Hash of a whole host for XHOSTS (home slot: bt_home).  Hosts of 8 to 32
 * bytes, nearly all of them, take four loads and three multiplications.
 */
static inline uint32_t
bt_hash32(const void *p, size_t n)
{
	uint64_t w[4];

	if (n < 8 || n > 32)
		return (uint32_t)(bt_hash_bytes(p, n,
		    0x686f737468617368ull) >> 32);
	bt_words4(p, n, w);
	return (uint32_t)(bt_mum(bt_mum(w[0] ^ 0xa0761d6478bd642full,
	    w[1] ^ 0xe7037ed1a0b428dbull) ^ bt_mum(w[2] ^ 0x8ebc6af09c88c6e3ull,
	    w[3] ^ 0x589965cc75374cc3ull), 0x1d8e4e27c47d124full ^ n) >> 32);
}

static inline uint32_t
bt_home(uint32_t hash, uint32_t nslots)
{
	return (uint32_t)(((uint64_t)hash * nslots) >> 32);
}

static inline uint32_t
bt_edge_hash(uint64_t label_hash, uint32_t from)
{
	return (uint32_t)((label_hash ^
	    ((uint64_t)from * 0xff51afd7ed558ccdull)) >> 32);
}

static inline uint64_t
bt_hash64(const void *p, size_t n)
{
	return bt_hash_bytes(p, n, 0x636865636b73756dull);
}

/* The checksum of a whole .bpol image (header checksum field as zero). */
static inline uint64_t
bt_checksum(const unsigned char *p, size_t n)
{
	size_t at = offsetof(struct bt_header, checksum);
	uint64_t h = bt_hash64(p, at);

	h ^= bt_mix64(0);
	if (n > at + 8)
		h ^= bt_mix64(bt_hash64(p + at + 8, n - at - 8) + 1);
	return bt_mix64(h);
}

#endif
