/*
 * Policy-level warnings over parsed rules (compiler/lint.c): lowercase
 * methods, duplicate rules, rules shadowed by an earlier one, and
 * domain=x.y without *.x.y.  See DESIGN.md section 1.
 */
#ifndef LINT_H
#define LINT_H

#include <stdint.h>

#include "arena.h"
#include "diag.h"
#include "rule.h"

/*
 * Warns about <rules> (n of them, successfully parsed, in policy order)
 * through <d>; every warning sits at the later rule, with a note at the
 * earlier one where there is one.  Never compares all pairs: earlier rules
 * are indexed (a hash of canonical texts, a trie of host patterns), so
 * the cost stays near linear in the number of rules.  Temporary memory
 * comes from <a>.
 */
void lint_rules(struct arena *, struct diag *, struct rule *rules, uint32_t n);

#endif
