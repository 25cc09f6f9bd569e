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

/* Landlock ABI of the running kernel, or -1 (errno says why). */
int landjail_abi(void);

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

#endif
