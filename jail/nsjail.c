/*
 * nsjail (DESIGN.md section 3): the child is cloned into new user, net,
 * pid, mount, UTS and IPC namespaces and becomes the jail's PID 1.  Its
 * steps, in order (each one fails with "jail: STEP: WHY"):
 *
 *   pdeathsig   die with boundary (and notice if it is already gone)
 *   userns      map boundary's uid and gid to root of the jail's userns
 *   mounts      private propagation; fresh /proc; an empty read-only
 *               tmpfs over the CA directory (the key is not readable);
 *               our CA bundle bound over the system bundle
 *   netns       lo, default routes, nftables (netns.c)
 *   sockets     proxy listeners and DNS sockets, sent to boundary
 *   release     wait until boundary's proxy serves them
 *   target      fork; the target enters a nested user namespace that
 *               maps the user's own ids, drops every capability
 *               (caps.c) and execs the command
 *   init        PID 1 loop (init.c)
 *
 * Boundary (the parent) only receives the sockets; it changes nothing on
 * the host.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "jail_int.h"

static int
write_file(const char *path, const char *text)
{
	size_t n = strlen(text);
	int fd, saved;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (write(fd, text, n) != (ssize_t)n) {
		saved = errno;
		close(fd);
		errno = saved == 0 ? EIO : saved;
		return -1;
	}
	return close(fd);
}

/* Maps <inside> to <outside> (one id each) in our own new user namespace. */
static int
map_self(struct jail *j, unsigned inside_uid, unsigned outside_uid,
    unsigned inside_gid, unsigned outside_gid)
{
	char line[64];

	if (write_file("/proc/self/setgroups", "deny") == -1 &&
	    errno != ENOENT) {
		jail_err(j, "userns: setgroups: %s", strerror(errno));
		return -1;
	}
	snprintf(line, sizeof(line), "%u %u 1\n", inside_uid, outside_uid);
	if (write_file("/proc/self/uid_map", line) == -1) {
		jail_err(j, "userns: uid_map: %s", strerror(errno));
		return -1;
	}
	snprintf(line, sizeof(line), "%u %u 1\n", inside_gid, outside_gid);
	if (write_file("/proc/self/gid_map", line) == -1) {
		jail_err(j, "userns: gid_map: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int
step_pdeathsig(struct jail *j)
{
	struct pollfd pfd = { .fd = j->sync[1], .events = POLLIN };

	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1) {
		jail_err(j, "pdeathsig: %s", strerror(errno));
		return -1;
	}
	/* boundary died before the prctl: its end of the socketpair is shut */
	if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLHUP | POLLERR))) {
		jail_err(j, "pdeathsig: boundary is gone");
		return -1;
	}
	return 0;
}

static int
step_userns(struct jail *j)
{
	if (j->no_user_namespace)
		return 0;
	return map_self(j, 0, (unsigned)j->uid, 0, (unsigned)j->gid);
}

static int
step_mounts(struct jail *j)
{
	struct stat st;
	size_t i;

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1) {
		jail_err(j, "mounts: make / private: %s", strerror(errno));
		return -1;
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL) == -1) {
		jail_err(j, "mounts: a fresh /proc: %s (in a container, the "
		    "outer /proc must not be partly masked: run it with "
		    "--security-opt systempaths=unconfined or "
		    "procMount: Unmasked)", strerror(errno));
		return -1;
	}
	if (j->ca_dir != NULL && (stat(j->ca_dir, &st) == -1 ||
	    !S_ISDIR(st.st_mode) ||
	    mount("tmpfs", j->ca_dir, "tmpfs", MS_RDONLY | MS_NOSUID |
	    MS_NODEV | MS_NOEXEC, "size=4k,mode=0500") == -1)) {
		jail_err(j, "mounts: hide the CA directory %s: %s", j->ca_dir,
		    strerror(errno == 0 ? ENOTDIR : errno));
		return -1;
	}
	if (j->ca_bundle == NULL)
		return 0;
	for (i = 0; i < JAIL_NSYSTEM_BUNDLES; i++) {
		const char *path = jail_system_bundles[i];

		if (stat(path, &st) == -1 || !S_ISREG(st.st_mode))
			continue;
		if (mount(j->ca_bundle, path, NULL, MS_BIND, NULL) == -1 ||
		    mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY |
		    MS_NOSUID | MS_NODEV, NULL) == -1) {
			jail_err(j, "mounts: CA bundle over %s: %s", path,
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int
step_sockets(struct jail *j)
{
	struct jail_msg m;
	int fds[2 * JAIL_MAX_FDS];
	size_t i, n = 0;
	int ret;

	if (netns_sockets(j) == -1)
		return -1;
	for (i = 0; i < j->nlisten; i++)
		fds[n++] = j->listen_fds[i];
	for (i = 0; i < j->ndns; i++)
		fds[n++] = j->dns_fds[i];
	memset(&m, 0, sizeof(m));
	m.type = JAIL_MSG_FDS;
	m.nlisten = (uint32_t)j->nlisten;
	m.ndns = (uint32_t)j->ndns;
	ret = jail_send(j->sync[1], &m, fds, n);
	for (i = 0; i < n; i++)
		close(fds[i]);
	j->nlisten = j->ndns = 0;
	if (ret == -1)
		jail_err(j, "sockets: cannot hand them to boundary: %s",
		    strerror(errno));
	return ret;
}

static int
step_release(struct jail *j)
{
	struct jail_msg m;
	size_t n;

	if (jail_recv(j->sync[1], &m, NULL, 0, &n) == -1 ||
	    m.type != JAIL_MSG_RELEASE) {
		jail_err(j, "release: boundary did not start the command");
		return -1;
	}
	j->released = 1;
	return 0;
}

/* In the target, after fork: never returns. */
static void
target(struct jail *j)
{
	if (!j->no_user_namespace) {
		/*
		 * A nested user namespace: the jail's root (owner of the
		 * netns and its nftables) is its parent, so nothing in here
		 * holds CAP_NET_ADMIN over the jail's network.
		 */
		if (unshare(CLONE_NEWUSER) == -1)
			jail_die(j, "jail: target: nested user namespace: %s",
			    strerror(errno));
		if (map_self(j, (unsigned)j->uid, 0, (unsigned)j->gid, 0) == -1)
			jail_die(j, "%s", j->err);
	}
	if (caps_drop(j) == -1)
		jail_die(j, "%s", j->err);
	jail_exec(j);
}

static void
child(struct jail *j)
{
	static int (*const steps[])(struct jail *) = {
		step_pdeathsig, step_userns, step_mounts, netns_child,
		step_sockets, step_release,
	};
	sigset_t set;
	size_t i;
	pid_t pid;

	close(j->sync[0]);
	j->sync[0] = -1;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		if (steps[i](j) == -1)
			jail_die(j, "%s", j->err);
	/* block what init waits for before the target can send anything */
	init_block_signals(&set);
	pid = fork();
	if (pid == -1)
		jail_die(j, "jail: target: fork: %s", strerror(errno));
	if (pid == 0)
		target(j);
	init_run(j, pid);
}

int
nsjail_start(struct jail *j)
{
	long flags = CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS |
	    CLONE_NEWIPC;
	pid_t pid;

	if (!j->no_user_namespace)
		flags |= CLONE_NEWUSER;
	fflush(NULL);
	pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL,
	    NULL);
	if (pid == -1) {
		int e = errno;
		if (j->no_user_namespace)
			jail_err(j, "namespaces: %s: --no-user-namespace needs "
			    "CAP_SYS_ADMIN and CAP_NET_ADMIN (run as root, or "
			    "give boundary those capabilities with setcap)",
			    strerror(e));
		else
			jail_err(j, "namespaces: %s: this host does not let "
			    "unprivileged users create user namespaces (see "
			    "sysctl user.max_user_namespaces, "
			    "kernel.unprivileged_userns_clone, or AppArmor's "
			    "kernel.apparmor_restrict_unprivileged_userns); use "
			    "--jail-type landjail, or --no-user-namespace as "
			    "root", strerror(e));
		return -1;
	}
	if (pid == 0)
		child(j);	/* never returns */
	j->pid = pid;
	j->started = 1;
	close(j->sync[1]);
	j->sync[1] = -1;
	return 0;
}

int
nsjail_ready(struct jail *j)
{
	struct jail_msg m;
	int fds[2 * JAIL_MAX_FDS];
	size_t i, n;

	if (jail_recv(j->sync[0], &m, fds, 2 * JAIL_MAX_FDS, &n) == -1) {
		jail_err(j, "the jail ended during its set-up");
		goto fail;
	}
	if (m.type == JAIL_MSG_ERROR) {
		snprintf(j->err, sizeof(j->err), "%s", m.text);
		for (i = 0; i < n; i++)
			close(fds[i]);
		goto fail;
	}
	if (m.type != JAIL_MSG_FDS || m.nlisten == 0 ||
	    m.nlisten > JAIL_MAX_FDS || m.ndns > JAIL_MAX_FDS ||
	    m.nlisten + m.ndns != n) {
		jail_err(j, "unexpected message from the jail");
		for (i = 0; i < n; i++)
			close(fds[i]);
		goto fail;
	}
	for (i = 0; i < m.nlisten; i++)
		j->listen_fds[j->nlisten++] = fds[i];
	for (; i < n; i++)
		j->dns_fds[j->ndns++] = fds[i];
	return 0;
 fail:
	return -1;	/* jail_ready ends the child */
}
