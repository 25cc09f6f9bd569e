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
	const char *progname;		/* prefix of positionless ones; NULL =
					   "boundary-compile" */
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

/*
 * The non-rule keys of a config.yaml, for boundary's option layer
 * (runtime/options.c).  Strings are malloc'd copies, NULL when the key is
 * absent; ints are -1 when absent; booleans are -1 (absent), 0 or 1.
 * <text> is the file as read, so that the caller can compile exactly the
 * bytes it took its options from (compile_opts.config_text).
 */
struct config_values {
	char *log_level;		/* "error" "warn" "info" "debug" */
	char *log_dir;
	char *jail_type;		/* "nsjail" or "landjail" */
	int proxy_port;			/* 1..65535 */
	int pprof_port;			/* 1..65535 */
	int pprof_enabled;
	int use_real_dns;
	int no_user_namespace;
	int disable_audit_logs;
	int session_correlation_enabled;
	char **inject_targets;		/* session_id_inject_targets, in order */
	size_t ninject_targets;
	char *text;			/* the file's contents, NUL-terminated */
	size_t text_len;
};

/*
 * Loads and checks the config.yaml at <path> (compiler/yaml.c: unknown
 * keys, types and values are errors; the rules themselves are left to
 * compiler_compile) and fills <out>.  Errors are printed to <diag>
 * (NULL = stderr); warnings are not, compiler_compile reports them.
 * Returns 0, or -1 with <out> empty.  Free with compiler_config_values_free.
 */
int compiler_config_values(const char *path, struct config_values *out,
    FILE *diag) __attribute__((warn_unused_result));

/* Releases what compiler_config_values allocated; <v> is left empty. */
void compiler_config_values_free(struct config_values *v);

#endif
