/* The reference matcher of tests and fuzz_decide (STYLE rule 35). */
#ifndef REF_DECIDE_H
#define REF_DECIDE_H

#include <stdint.h>

#include "compiler/rule.h"

/*
 * Index of the first rule of <rules> that matches the canonical request,
 * or -1.  A direct reading of DESIGN.md section 1, one rule at a time.
 */
int64_t ref_decide(const struct rule *rules, uint32_t n, struct view method,
    struct view host, struct view path);

#endif
