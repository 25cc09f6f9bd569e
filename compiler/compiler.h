/*
 * Public entry of the policy compiler, used by compiler/main.c, by
 * boundary (to compile config.yaml + --allow at start-up) and by tests,
 * benchmarks and fuzzers.
 */
#ifndef COMPILER_H
#define COMPILER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct compile_opts {
	const char *config_path;	/* config.yaml to read, or NULL */
	const char *config_text;	/* or: its contents already in memory */
	size_t config_len;		/* (config_path then only names it) */
	const char *const *allow;	/* --allow rules, in order */
	size_t nallow;
	const char *env_allow;		/* BOUNDARY_ALLOW, or NULL if unset */
	int werror;			/* --Werror */
	unsigned wno;			/* bit (1 << enum diag_warning): --Wno-X */
	FILE *diag;			/* diagnostics; NULL = stderr */
};

struct compile_out {
	unsigned char *buf;		/* the .bpol image (malloc; free()) */
	size_t len;
	uint32_t nrules;
	unsigned nerrors, nwarnings;
};

/*
 * Reads the configuration and rules, checks them (every error reported),
 * and builds the table.  Returns 0 with out->buf set, or -1 if any error
 * was reported (out->buf NULL).  Rule order: config allowlist, then
 * env_allow, then allow[].
 */
int compiler_compile(const struct compile_opts *, struct compile_out *)
    __attribute__((warn_unused_result));

/* Writes <buf> to <path> atomically (temporary file + rename). 0 / -1. */
int compiler_write_file(const char *path, const void *buf, size_t len)
    __attribute__((warn_unused_result));

#endif
