/*
 * The proxy's self-confinement (DESIGN.md section 4, last bullet; STYLE
 * rule 30), private to runtime/.  Called once, at the end of init: the
 * listeners bound, the CA loaded, the audit sinks and log file open, the
 * TLS contexts and system roots loaded, and in jail mode after the
 * jail's first process was forked.  Irreversible.
 *
 * Applies, in this order:
 *   1. PR_SET_NO_NEW_PRIVS;
 *   2. the capabilities of the calling thread are emptied (capset);
 *   3. Landlock, when the kernel has it (else skipped and said so in the
 *      summary): the filesystem read-only beneath cfg->read_paths,
 *      writable beneath cfg->write_paths, nothing elsewhere; no TCP bind
 *      (ABI >= 4); TCP connect, signals and abstract sockets unrestricted;
 *   4. a seccomp allow-list of the system calls serving makes (the table
 *      in confine.c); anything else fails with EPERM, a foreign syscall
 *      ABI kills the process.
 *
 * Landlock, no_new_privs and capabilities are per thread, and without
 * LANDLOCK_RESTRICT_SELF_TSYNC (not used) Landlock binds the calling
 * thread and the threads it creates later only.  Hence:
 *   thread_only = 0: the whole process.  It must be single threaded:
 *      confine_self checks /proc/self and fails otherwise.
 *   thread_only = 1: the calling thread and its future threads only; a
 *      thread that exists already (the landjail connect() supervisor)
 *      keeps all of its rights.
 *
 * A read or write path that does not exist is skipped.  Landlock rules
 * stick to inodes: a file replaced by rename (an editor's save,
 * boundary-compile -o) is a new inode that a rule on the old file does
 * not cover, so pass the directory of a file that SIGHUP re-reads.
 */
#ifndef CONFINE_H
#define CONFINE_H

#include <stddef.h>

struct confine_cfg {
	const char *const *read_paths; /* files or dirs that stay readable */
	size_t nread;
	const char *const *write_paths; /* dirs where files may be written */
	size_t nwrite;
	int thread_only; /* 1: the calling thread (and later ones) only */
};

/*
 * Confines the process (or thread) as described above.  0, or -1 with
 * the reason in <err>; after a failure the process may be partly
 * confined (no_new_privs, say) and should exit.
 */
int confine_self(const struct confine_cfg *cfg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * What was applied, for a log line: e.g. "landlock abi 7 (fs, tcp bind),
 * seccomp (94 calls), no_new_privs, no capabilities".  "" before
 * confine_self.
 */
const char *confine_summary(void);

#endif
