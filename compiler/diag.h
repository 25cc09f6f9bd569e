/*
 * Diagnostics of boundary-compile (STYLE rule 9a):
 *
 *   config.yaml:12:19: error: unknown key 'metod' in rule
 *     - "metod=GET domain=x.com"
 *        ^
 *
 * Errors are collected, not fatal: the compiler reports every one and exits
 * 2 at the end.  Warnings exit 0 unless --Werror, which turns them into
 * errors.
 */
#ifndef DIAG_H
#define DIAG_H

#include <stdio.h>

/* A source: a config file, or one --allow argument. */
struct src {
	const char *name;	/* "config.yaml", "--allow[2]" */
	const char *text;	/* the whole source text, for caret lines */
	size_t len;
};

/* line 0: no position (a diagnostic about the whole source or run). */
struct srcpos {
	const struct src *src;
	unsigned line, col;	/* 1-based; col counts bytes */
};

/* Kinds of warning, each can be disabled with --Wno-<name>. */
enum diag_warning {
	W_LOWERCASE_METHOD,	/* "lowercase-method": method=get */
	W_DUPLICATE,		/* "duplicate": same rule twice */
	W_SHADOWED,		/* "shadowed": an earlier rule covers this one */
	W_SUBDOMAINS,		/* "subdomains": domain=x.com without *.x.com */
	W_CONFIG,		/* "config": odd but accepted configuration */
	W_COUNT
};

struct diag {
	FILE *out;
	const char *progname;	/* NULL: "boundary-compile" */
	int werror;		/* warnings count as errors */
	unsigned disabled;	/* bit (1 << enum diag_warning): suppressed */
	unsigned nerrors, nwarnings;
};

const char *diag_warning_name(enum diag_warning);
/* Parses a --Wno-NAME name; returns the warning or -1. */
int diag_warning_lookup(const char *name);

void diag_error(struct diag *, struct srcpos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_warn(struct diag *, enum diag_warning, struct srcpos,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A note attached to the previous diagnostic ("first written here"). */
void diag_note(struct diag *, struct srcpos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
