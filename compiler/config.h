/*
 * config.yaml as read by compiler/yaml.c with libyaml.  The keys are those
 * of the Go tool (../shared/reference/boundary-facts.md section 1.2); an
 * unknown key is an error with a did-you-mean.  yaml.c knows nothing of
 * rule syntax: it hands rule strings over with their positions.
 */
#ifndef CONFIG_H
#define CONFIG_H

#include <stdint.h>

#include "../runtime/view.h"
#include "arena.h"
#include "diag.h"
#include "rule.h"

struct cfg_string {
	struct view text;	/* the scalar's value (arena-owned) */
	struct rule_loc loc;	/* where its first byte is in the file */
};

enum cfg_bool { CFG_UNSET = -1, CFG_FALSE = 0, CFG_TRUE = 1 };

struct config {
	struct src src;		/* name = path as given, text = file contents */

	struct cfg_string *allowlist;	/* allowlist: [rules...] */
	uint32_t nallowlist;
	struct cfg_string *inject_targets; /* session_id_inject_targets */
	uint32_t ninject_targets;

	const char *log_level;	/* NULL if unset; one of error warn info debug */
	const char *log_dir;	/* NULL if unset */
	const char *jail_type;	/* NULL if unset; nsjail or landjail */
	int64_t proxy_port;	/* -1 if unset; else 1..65535 */
	int64_t pprof_port;	/* -1 if unset; else 1..65535 */
	enum cfg_bool pprof_enabled;
	enum cfg_bool use_real_dns;
	enum cfg_bool no_user_namespace;
	enum cfg_bool disable_audit_logs;
	enum cfg_bool session_correlation_enabled;
};

/*
 * Reads and checks <path>.  Every problem (missing file, YAML syntax,
 * unknown key, wrong type, bad value) is reported through <d> with its
 * position; returns 0, or -1 if anything was reported as an error.
 */
int config_load(struct arena *, struct diag *, const char *path,
    struct config *) __attribute__((warn_unused_result));

/* Same, over a buffer already in memory (tests and fuzzing). */
int config_load_mem(struct arena *, struct diag *, const char *name,
    const char *text, size_t len, struct config *)
    __attribute__((warn_unused_result));

#endif
