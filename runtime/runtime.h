/*
 * Public interface of the runtime: the policy table (bt.c), request
 * canonicalisation (url.c) and, later, the proxy.  The compiler includes
 * this header to reuse the loader and decision code for --decide, and the
 * canonicalisers so that rules and requests are normalised identically.
 */
#ifndef RUNTIME_H
#define RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "view.h"
#include "limits.h"

/* ---- reasons (reason.c) ------------------------------------------------ */

enum reason {
	REASON_ALLOWED,		/* a rule matched */
	REASON_NO_RULE,		/* no rule matched */
	REASON_BAD_REQUEST,	/* the request could not be parsed or canonicalised */
	REASON_HOST_MISMATCH,	/* Host, SNI, CONNECT and URL authority disagree */
	REASON_CONNECT_DENIED,	/* CONNECT to a host no rule could allow */
	REASON_OVERLOAD,	/* refused: a fixed pool (connections, buffers) is full */
	REASON_COUNT
};

const char *reason_str(enum reason);

/* ---- policy table (bt.c) ----------------------------------------------- */

struct bt_header;
struct bt_rule;
struct bt_method;
struct bt_state;
struct bt_edge;
struct bt_cset;
struct bt_pdfa;
struct bt_xslot;

/*
 * A loaded, validated policy.  All pointers point into one read-only
 * mapping (or a caller's buffer for bt_load_mem); see runtime/bt_format.h.
 */
struct bt {
	const unsigned char *base;
	size_t size;
	int mapped;		/* base came from mmap and is unmapped by bt_close */
	const struct bt_header *hdr;
	const char *strings;
	const struct bt_rule *rules;
	const struct bt_method *methods;
	const uint32_t *masks;
	const uint32_t *mlists;
	const struct bt_xslot *xhosts;
	const uint8_t *xtags;		/* one per XHOSTS slot */
	const struct bt_state *hstates, *pstates;
	const struct bt_edge *hedges, *pedges;
	const uint8_t *htags, *ptags;	/* one per HEDGES / PEDGES slot */
	const struct bt_pdfa *pdfas;
	const struct bt_cset *csets;
	const uint32_t *u32;
	uint32_t nstrings, nrules, nmethods, nmasks, nmlists, nxhosts;
	uint32_t nhstates, npstates;
	uint32_t nhedges, npedges, npdfas, ncsets, nu32;
	uint32_t xmax_probe, hmax_probe, pmax_probe, universal;
};

/*
 * The request as decided: all three are views into the caller's buffers.
 * host must be canonical (url_host_canon: lowercase, no port, no trailing
 * dot) and path canonical (url_path_canon: starts with '/', no query).
 */
struct bt_req {
	struct view method;
	struct view host;
	struct view path;
};

struct verdict {
	enum reason reason;	/* REASON_ALLOWED or REASON_NO_RULE */
	uint32_t rule;		/* index of the first matching rule, or BT_NONE */
};

/*
 * Maps <path> read-only and validates it completely.  On failure returns -1
 * and writes a one-line reason into <err>.
 */
int bt_load_file(struct bt *, const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The same over a caller's buffer, which must outlive the struct bt. */
int bt_load_mem(struct bt *, const void *buf, size_t len, char *err,
    size_t errlen) __attribute__((warn_unused_result));

void bt_close(struct bt *);

/*
 * 1 if some request to <host> (canonical) could be allowed: a rule's host
 * pattern matches it, or a rule admits every host.  For CONNECT.
 */
int bt_host_possible(const struct bt *, struct view host);

/* Decides one request.  No allocation, no lock, no side effect. */
void bt_decide(const struct bt *, const struct bt_req *, struct verdict *);

/*
 * The text of rule <i> as written in the policy source, rendered into <buf>
 * (at most <cap> bytes, no NUL added).  Returns the full length, at most
 * BT_MAX_RULE_TEXT (MAX_RULE_LEN); a smaller <cap> truncates.
 */
size_t bt_rule_text(const struct bt *, uint32_t i, char *buf, size_t cap);

/* ---- request canonicalisation (url.c, grammar/host.re, grammar/path.re) -- */

enum host_kind {
	HOST_NAME,		/* reg-name or IPv4 dotted quad: labels */
	HOST_IPV6		/* bracketed IPv6 literal, kept with brackets */
};

/*
 * Canonicalises an authority host[:port] (a Host header, a CONNECT target or
 * a URL authority) into <out> (capacity <cap>, at least MAX_HOST_LEN + 3):
 * ASCII lowercase, one trailing dot removed, port split off.  *port is 0
 * when absent.  Returns the canonical host length, or -1 when the input is
 * not a valid host (bad bytes, empty label, label or host too long,
 * userinfo, bad port).
 */
int url_host_canon(struct view in, char *out, size_t cap, uint16_t *port,
    enum host_kind *kind) __attribute__((warn_unused_result));

/*
 * Canonicalises a request path (origin-form, without query or fragment)
 * into <out> (capacity <cap>): percent-decodes unreserved characters,
 * upper-cases remaining percent escapes, removes "." and ".." segments
 * (also when encoded as %2e), merges repeated slashes; %2F stays encoded.
 * An empty input becomes "/".  Returns the canonical length, or -1 for an
 * invalid path (no leading '/', bad escape, control or non-ASCII byte,
 * backslash, too long).
 */
int url_path_canon(struct view in, char *out, size_t cap)
    __attribute__((warn_unused_result));

/*
 * Canonicalises one path segment (no '/') the same way, for rule patterns:
 * unreserved escapes decoded, other escapes upper-cased.  Returns the
 * length written, or -1 if the segment is invalid (bad escape, byte not
 * allowed in a path, '/', backslash).
 */
int url_segment_canon(struct view in, char *out, size_t cap)
    __attribute__((warn_unused_result));

struct url_parts {
	struct view scheme;	/* "http" or "https" (lowercase input accepted in any case) */
	struct view authority;	/* host[:port] as written */
	struct view path;	/* raw path, may be empty */
	struct view query;	/* after '?', without it; may be empty */
	int has_query;
};

/*
 * Splits an absolute URL "scheme://authority/path?query#fragment" into
 * views of <in>.  A URL without "://" is taken as "https://" + in, as the
 * Go tool does.  Only http and https are accepted.  Returns 0 or -1.
 */
int url_split(struct view in, struct url_parts *) __attribute__((warn_unused_result));

#endif
