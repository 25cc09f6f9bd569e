/*
 * One allowlist rule, parsed (compiler/rule.c over build/gen/rule.c from
 * grammar/rule.re).  Semantics: ../shared/DESIGN.md section 1.
 */
#ifndef RULE_H
#define RULE_H

#include <stdint.h>

#include "../runtime/view.h"
#include "arena.h"
#include "diag.h"

/*
 * Pattern elements.  A host pattern is stored REVERSED (TLD first), a path
 * pattern in order; in both, PAT_MANY may only be the last element and
 * matches one or more labels/segments:
 *   domain=*.github.com  -> [LIT com, LIT github, MANY]
 *   domain=api.*.com     -> [LIT com, ONE, LIT api]
 *   domain=*             -> [MANY]          (every host)
 *   path=/api/STAR       -> [LIT api, MANY]     (STAR: the '*' character)
 *   path=/a/STAR/b       -> [LIT a, ONE, LIT b]
 *   path=/               -> [LIT ""]        (only the root)
 *   path=/api/           -> [LIT api, LIT ""]
 */
enum pat_kind {
	PAT_LIT,		/* exactly this label/segment (canonical bytes) */
	PAT_ONE,		/* any one label/segment */
	PAT_MANY		/* one or more labels/segments; last element only */
};

struct pat_elem {
	enum pat_kind kind;
	struct view s;		/* PAT_LIT: canonical bytes (lowercase label /
				 * canonical segment), arena- or source-owned */
};

struct pattern {
	uint32_t n;
	struct pat_elem *e;
};

/* Where a rule's text sits in its source, to place diagnostics. */
struct rule_loc {
	const struct src *src;
	unsigned line, col;	/* of the rule's first byte */
	int exact;		/* byte k of the text is at (line, col + k);
				 * otherwise every position is (line, col) */
};

enum rule_key {
	RK_METHOD = 1,
	RK_DOMAIN = 2,
	RK_PATH = 4
};

struct rule {
	/* filled in by the caller */
	struct view text;	/* as written; what --decide and audit print */
	struct rule_loc loc;
	uint32_t index;		/* position in policy order, from 0 */

	/* filled in by rule_parse */
	unsigned keys;		/* RK_* that were present */
	int any_method;		/* no method= or method=* */
	uint32_t nmethods;	/* the methods, as written, when !any_method */
	struct view *methods;
	struct pattern host;	/* [MANY] when no domain= or domain=* */
	uint32_t npaths;	/* >= 1; [MANY] alone when no path= */
	struct pattern *paths;
};

/*
 * Parses r->text.  Reports every error it finds through <d> at the exact
 * column, and returns 0 on success or -1 if any error was reported.
 */
int rule_parse(struct arena *, struct diag *, struct rule *r)
    __attribute__((warn_unused_result));

/* Position in the source of byte <off> of the rule's text. */
struct srcpos rule_pos(const struct rule *, size_t off);

/* 1 when the host pattern is [MANY] (every host). */
int rule_any_host(const struct rule *);
/* 1 when the rule admits every path (some pattern is [MANY]). */
int rule_any_path(const struct rule *);

/*
 * Canonical text of a rule: keys in the order method, domain, path, host
 * lowercased, segments canonical, "method=*"/"domain=*" omitted.  Two rules
 * with equal canonical text match exactly the same requests.
 */
struct view rule_canon(struct arena *, const struct rule *);

/*
 * 1 if every request matched by <b> is matched by <a>, judged per part
 * (methods, host pattern, each path pattern of b covered by one of a).
 * Sound but not complete: never claims coverage that does not hold.
 */
int rule_covers(const struct rule *a, const struct rule *b);
int pattern_covers(const struct pattern *a, const struct pattern *b);

#endif
