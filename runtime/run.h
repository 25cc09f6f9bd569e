/*
 * runtime/run.c: running boundary after start-up (private to runtime/).
 */
#ifndef RUN_H
#define RUN_H

#include "options.h"
#include "proxy.h"

#define EXIT_SETUP 125	/* boundary failed before the command ran */

/*
 * Runs o->argv in the jail (o->jail_type) behind a proxy made from <cfg>
 * (filled by main, adjusted here: listeners, CA output, deferrals), with
 * the CA in <ca_dir>.  Returns boundary's exit status: the command's,
 * 128+N, or EXIT_SETUP.
 */
int run_jail(struct options *o, struct proxy_cfg *cfg, const char *ca_dir);

/* Raises the soft open file limit to the hard one (one fd per client). */
void run_raise_fd_limit(void);

/*
 * The end of init (STYLE rule 30): confines the calling thread (with
 * <thread_only>) or the process to what serving needs; <run_dir>, if not
 * NULL, stays writable.  Returns 0 or -1 (logged).
 */
int run_confine(const struct options *o, const char *run_dir,
    int thread_only) __attribute__((warn_unused_result));

#endif
