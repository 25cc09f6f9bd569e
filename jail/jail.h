/*
 * The jail (DESIGN.md section 3): runs one command so that its only way
 * out is boundary's proxy.
 *
 *   nsjail    new user, net, pid, mount, UTS and IPC namespaces; lo with
 *             default routes; an nftables table in the jail's netns that
 *             redirects all TCP to the proxy and DNS to the dummy DNS;
 *             listening sockets made in the jail netns and handed to the
 *             proxy (which stays in the host netns) over SCM_RIGHTS.
 *   landjail  Landlock (TCP connect only to the proxy port, no TCP bind,
 *             scoping where the kernel has it) plus a seccomp filter
 *             (no UDP/raw/packet sockets, no io_uring, no TCP fast open,
 *             no foreign syscall ABI) whose connect() calls are checked
 *             and performed by a supervisor thread in boundary.
 *
 * confine.c confines boundary itself (no_new_privs, capabilities, Landlock,
 * a seccomp allow-list) at the end of its init; it shares landjail.c's
 * Landlock probe and BPF assembly.
 *
 * Modules that run on both sides of the fork expose <stem>_child(struct
 * jail *) (in the child, before execve) and <stem>_parent(struct jail *)
 * (in boundary); jail.c calls them in a fixed, commented order.
 */
#ifndef JAIL_H
#define JAIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum jail_type {
	JAIL_NSJAIL,		/* namespaces + nftables */
	JAIL_LANDJAIL,		/* Landlock + seccomp */
	JAIL_TYPE_COUNT
};

const char *jail_type_str(enum jail_type);

#define JAIL_MAX_FDS	4	/* listening sockets handed to the proxy */

/*
 * Where distributions keep the system CA bundle that tools read by
 * default: the jail's bundle starts with the first that exists, and
 * nsjail binds it over each one that exists.
 */
#define JAIL_NSYSTEM_BUNDLES	4
extern const char *const jail_system_bundles[JAIL_NSYSTEM_BUNDLES];

/* Fixed answers of the dummy DNS (the Go tool's values). */
#define JAIL_DUMMY_A	"6.6.6.6"
#define JAIL_DUMMY_AAAA	"2001:db8::1"

struct landjail;

struct jail {
	/* ---- set by the caller before jail_start ---- */
	enum jail_type type;
	char **argv;			/* the command; borrows */
	uint16_t proxy_port;		/* port the target is told about / redirected to */
	int no_user_namespace;		/* nsjail without CLONE_NEWUSER (needs caps) */
	int use_real_dns;		/* nsjail: DNS goes to the host resolver */
	const char *ca_bundle;		/* system roots + our CA (PEM file), or NULL */
	const char *ca_cert;		/* our CA certificate alone, or NULL */
	const char *ca_dir;		/* directory holding the CA key: hidden in nsjail */
	const char *proxy_addr;		/* landjail: numeric loopback address of the proxy */
	/*
	 * landjail: called (from the supervisor thread) with each
	 * destination a connect() of process <pid> was refused; or NULL.
	 */
	void (*refused)(const struct sockaddr_storage *sa, pid_t pid,
	    void *arg);
	void *refused_arg;

	/* ---- filled in by jail_start ---- */
	pid_t pid;			/* the jail's first process (nsjail: its init) */
	int listen_fds[JAIL_MAX_FDS];	/* nsjail: TCP listeners made in the jail netns */
	size_t nlisten;
	int dns_fds[JAIL_MAX_FDS];	/* nsjail: UDP and TCP DNS sockets, same netns */
	size_t ndns;
	struct landjail *lj;		/* landjail: the connect() supervisor */

	/* ---- private ---- */
	int sync[2];			/* socketpair between boundary and the child */
	uid_t uid;			/* boundary's ids, mapped into the jail */
	gid_t gid;
	char **envp;			/* the target's environment (built by jail.c) */
	int released;			/* child side: past the release message */
	int started;			/* boundary side: a jail process was forked */
	char err[512];			/* the reason of the last failure */
};

/*
 * Starts building the jail: forks the child that sets it up and will run
 * <j>->argv, stopped until jail_release.  The set-up runs while the caller
 * gets the proxy ready; jail_ready then waits for its end.  Both return 0,
 * or -1 with the reason in j->err ("jail: STEP: WHY; what to do"); after a
 * failed jail_ready the child is gone.  After jail_ready the caller owns
 * j->listen_fds and j->dns_fds (nsjail) and the supervisor runs
 * (landjail).
 */
int jail_start(struct jail *j) __attribute__((warn_unused_result));
int jail_ready(struct jail *j) __attribute__((warn_unused_result));

/* Lets the target run (after the proxy is serving its sockets). */
int jail_release(struct jail *j) __attribute__((warn_unused_result));

/*
 * Turns the wait status of j->pid into boundary's exit status: the
 * command's, 128+N for signal N, 125/126/127 as env(1).
 */
int jail_exit_status(const struct jail *j, int wstatus);

/*
 * Releases what jail_start made (not the fds handed to the caller); for
 * landjail also kills any process of the jail still left.
 */
void jail_free(struct jail *j);

/* Fills <err> (with a child's reason) and terminates a jail child: 125. */
void jail_die(struct jail *j, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

/* ---- landjail.c ---------------------------------------------------------- */

/*
 * In the child, just before execve: Landlock (connect TCP only to
 * j->proxy_port, no TCP bind, scoping on ABI >= 6), then the seccomp
 * filter; sends the seccomp listener to boundary over j->sync[1].
 * Returns 0, or -1 with j->err set.
 */
int landjail_child(struct jail *j) __attribute__((warn_unused_result));

/*
 * In boundary: receives the listener from j->sync[0] and starts the
 * supervisor thread that checks and performs the target's connect()
 * calls (only to j->proxy_addr:j->proxy_port).  Sets j->lj.
 */
int landjail_parent(struct jail *j) __attribute__((warn_unused_result));

/* Stops the supervisor thread and frees j->lj (idempotent). */
void landjail_stop(struct jail *j);

/* ---- confine.c ----------------------------------------------------------- */

/*
 * The proxy's self-confinement (DESIGN.md section 4, last bullet; STYLE
 * rule 30), called by runtime/run.c once, at the end of init: the
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
 * What was applied, for a log line: e.g. "landlock abi 7 (fs, no tcp
 * bind), seccomp (97 calls allowed), no_new_privs, no capabilities".  ""
 * before confine_self.
 */
const char *confine_summary(void);

#endif
