/*
 * Explanations for --explain: matches one parsed rule against one
 * canonical request, naively, and says in words which part failed.
 */
#ifndef EXPLAIN_H
#define EXPLAIN_H

#include <stddef.h>

#include "rule.h"

/*
 * Returns 1 if <r> matches (method, canonical host, canonical path), else 0
 * with the first failing part described in <why>.
 */
int explain_rule(const struct rule *r, struct view method, struct view host,
    struct view path, char *why, size_t whylen);

/* Splits a canonical host (right to left) or path into at most <max>
 * views; returns the count, or -1 if there are more. */
int explain_split_host(struct view host, struct view *out, int max);
int explain_split_path(struct view path, struct view *out, int max);

/* 1 if pattern <p> matches the <n> labels/segments of <v>. */
int explain_match(const struct pattern *p, const struct view *v, int n);

#endif
