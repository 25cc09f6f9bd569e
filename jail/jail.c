/*
 * The jail's driver: the target's environment, the socketpair to the
 * child, the order of each jail type's steps, and the exit status.
 *
 * nsjail:   nsjail_start (clone + the child's steps, see nsjail.c), then
 *           jail_release once the proxy serves the handed-over sockets.
 * landjail: fork; the child sets PDEATHSIG, applies landjail_child
 *           (Landlock + seccomp) and waits for the release; boundary runs
 *           landjail_parent (the connect() supervisor).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jail_int.h"

extern char **environ;

const char *const jail_system_bundles[JAIL_NSYSTEM_BUNDLES] = {
	"/etc/ssl/certs/ca-certificates.crt",	/* Debian, Ubuntu, Alpine */
	"/etc/pki/tls/certs/ca-bundle.crt",	/* Fedora, RHEL */
	"/etc/ssl/ca-bundle.pem",		/* openSUSE */
	"/etc/ssl/cert.pem",			/* Arch, BSD-style */
};

const char *
jail_type_str(enum jail_type t)
{
	static const char *const names[JAIL_TYPE_COUNT] = {
		[JAIL_NSJAIL] = "nsjail",
		[JAIL_LANDJAIL] = "landjail",
	};

	return (unsigned)t < JAIL_TYPE_COUNT ? names[t] : "?";
}

void
jail_err(struct jail *j, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(j->err, sizeof(j->err), "jail: ");
	va_start(ap, fmt);
	vsnprintf(j->err + n, sizeof(j->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

void
jail_die(struct jail *j, const char *fmt, ...)
{
	struct jail_msg m;
	va_list ap;

	memset(&m, 0, sizeof(m));
	m.type = JAIL_MSG_ERROR;
	va_start(ap, fmt);
	vsnprintf(m.text, sizeof(m.text), fmt, ap);
	va_end(ap);
	/* before the release boundary waits for this; after it, stderr */
	if (j->released || j->sync[1] == -1 ||
	    jail_send(j->sync[1], &m, NULL, 0) == -1)
		fprintf(stderr, "boundary: %s\n", m.text);
	_exit(125);
}

int
jail_send(int fd, const struct jail_msg *m, const int *fds, size_t nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 2 * JAIL_MAX_FDS)];
	} u;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)m,
	    .iov_len = sizeof(*m) };
	struct msghdr mh;
	struct cmsghdr *c;
	ssize_t n;

	if (nfds > 2 * JAIL_MAX_FDS) {
		errno = EINVAL;
		return -1;
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (nfds > 0) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n == -1 && errno == EINTR);
	if (n != (ssize_t)sizeof(*m))
		return -1;
	return 0;
}

int
jail_recv(int fd, struct jail_msg *m, int *fds, size_t maxfds, size_t *nfds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 2 * JAIL_MAX_FDS)];
	} u;
	struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) };
	struct msghdr mh;
	struct cmsghdr *c;
	size_t i, got = 0, k;
	ssize_t n;
	int tmp[2 * JAIL_MAX_FDS];

	*nfds = 0;
	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.b;
	mh.msg_controllen = sizeof(u.b);
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	for (c = CMSG_FIRSTHDR(&mh); c != NULL; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < k && got < 2 * JAIL_MAX_FDS; i++)
			memcpy(&tmp[got++], CMSG_DATA(c) + i * sizeof(int),
			    sizeof(int));
	}
	/* a wrong size, a cut message or too many fds: refuse it all */
	if (n != (ssize_t)sizeof(*m) || (mh.msg_flags & (MSG_TRUNC |
	    MSG_CTRUNC)) || got > maxfds ||
	    memchr(m->text, '\0', sizeof(m->text)) == NULL ||
	    m->type == 0 || m->type >= JAIL_MSG_COUNT) {
		for (i = 0; i < got; i++)
			close(tmp[i]);
		if (n >= 0)
			errno = n == 0 ? EPIPE : EPROTO;
		return -1;
	}
	for (i = 0; i < got; i++)
		fds[i] = tmp[i];
	*nfds = got;
	return 0;
}

/* NAME=value into <env> (replacing NAME), or -1 when out of memory. */
static int
env_set(char ***env, size_t *n, const char *name, const char *value)
{
	size_t i, len = strlen(name);
	char *s, **grown;

	if (asprintf(&s, "%s=%s", name, value) == -1)
		return -1;
	for (i = 0; i < *n; i++)
		if (strncmp((*env)[i], name, len) == 0 && (*env)[i][len] == '=') {
			free((*env)[i]);
			(*env)[i] = s;
			return 0;
		}
	grown = realloc(*env, (*n + 2) * sizeof(char *));
	if (grown == NULL) {
		free(s);
		return -1;
	}
	*env = grown;
	(*env)[(*n)++] = s;
	(*env)[*n] = NULL;
	return 0;
}

/*
 * The target's environment: boundary's own, plus the CA trust variables
 * (both jail types) and, for landjail (no redirect), the proxy variables
 * in both cases with NO_PROXY emptied so that nothing bypasses the proxy.
 */
static int
build_env(struct jail *j)
{
	static const char *const ca_vars[] = {
		"SSL_CERT_FILE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO",
		"REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS",
	};
	static const char *const proxy_vars[] = {
		"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
		"ALL_PROXY", "all_proxy",
	};
	char url[128], *dir, *slash;
	size_t i, n = 0;
	char **env;

	for (i = 0; environ[i] != NULL; i++)
		;
	env = calloc(i + 1, sizeof(char *));
	if (env == NULL)
		return -1;
	j->envp = env;
	for (i = 0; environ[i] != NULL; i++) {
		env[n] = strdup(environ[i]);
		if (env[n] == NULL)
			return -1;
		env[++n] = NULL;
	}
	if (j->ca_bundle != NULL) {
		for (i = 0; i < sizeof(ca_vars) / sizeof(ca_vars[0]); i++)
			if (env_set(&env, &n, ca_vars[i], j->ca_bundle) == -1)
				goto oom;
		dir = strdup(j->ca_bundle);
		if (dir == NULL)
			goto oom;
		slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir)
			*slash = '\0';
		i = env_set(&env, &n, "SSL_CERT_DIR", dir);
		free(dir);
		if (i == (size_t)-1)
			goto oom;
	}
	if (j->type == JAIL_LANDJAIL) {
		snprintf(url, sizeof(url), "http://%s%s%s:%u",
		    strchr(j->proxy_addr, ':') != NULL ? "[" : "",
		    j->proxy_addr,
		    strchr(j->proxy_addr, ':') != NULL ? "]" : "",
		    (unsigned)j->proxy_port);
		for (i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++)
			if (env_set(&env, &n, proxy_vars[i], url) == -1)
				goto oom;
		if (env_set(&env, &n, "NO_PROXY", "") == -1 ||
		    env_set(&env, &n, "no_proxy", "") == -1)
			goto oom;
	}
	j->envp = env;
	return 0;
 oom:
	j->envp = env;
	return -1;
}

void
jail_exec(struct jail *j)
{
	struct sigaction sa;
	sigset_t none;
	int e, sig;

	/* what boundary ignored or blocked is not the command's business */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/*
	 * Only stdin, stdout and stderr go to the command: nothing of
	 * boundary's (log and audit files, sockets, the jail's socketpair)
	 * may leak through a descriptor someone forgot to mark O_CLOEXEC.
	 */
	if (close_range(3, ~0u, CLOSE_RANGE_CLOEXEC) == -1) {
		for (e = 3; e < 65536; e++)
			fcntl(e, F_SETFD, FD_CLOEXEC);
	}
	execvpe(j->argv[0], j->argv, j->envp);
	e = errno;
	fprintf(stderr, "boundary: %s: %s\n", j->argv[0], strerror(e));
	_exit(e == ENOENT || e == ENOTDIR ? 127 : 126);
}

/* The command of a landjail: caps, Landlock + seccomp, release, exec. */
static void
landjail_target(struct jail *j)
{
	struct jail_msg m;
	size_t n;

	if (caps_drop(j) == -1 || landjail_child(j) == -1)
		jail_die(j, "%s", j->err);
	if (jail_recv(j->sync[1], &m, NULL, 0, &n) == -1 ||
	    m.type != JAIL_MSG_RELEASE)
		_exit(125);
	j->released = 1;
	jail_exec(j);
}

/*
 * landjail has no PID namespace, so its first process is our init all the
 * same: a child subreaper that forwards signals, reports the command's
 * status, and on the command's end or boundary's death kills every process
 * the command left behind (init.c).
 */
static int
landjail_start(struct jail *j)
{
	pid_t pid, parent = getpid();

	errno = 0;
	if (landjail_abi() == -1) {
		jail_err(j, "landjail: this kernel has no Landlock (%s): it "
		    "needs Linux 6.7 or later with Landlock enabled (the lsm= "
		    "boot parameter); use --jail-type nsjail",
		    errno != 0 ? strerror(errno) : "disabled");
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == -1) {
		jail_err(j, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t set;
		pid_t target;

		close(j->sync[0]);
		j->sync[0] = -1;
		if (prctl(PR_SET_PDEATHSIG, JAIL_PDEATH_SIG, 0, 0, 0) == -1 ||
		    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1 ||
		    getppid() != parent)
			_exit(125);
		init_block_signals(&set);
		target = fork();
		if (target == -1)
			jail_die(j, "jail: fork: %s", strerror(errno));
		if (target == 0) {
			if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
				_exit(125);
			landjail_target(j);
		}
		init_run(j, target);
	}
	j->pid = pid;
	j->started = 1;
	close(j->sync[1]);
	j->sync[1] = -1;
	return 0;
}

int
jail_start(struct jail *j)
{
	j->pid = -1;
	j->started = 0;
	j->nlisten = j->ndns = 0;
	j->lj = NULL;
	j->envp = NULL;
	j->released = 0;
	j->err[0] = '\0';
	j->uid = geteuid();
	j->gid = getegid();
	j->sync[0] = j->sync[1] = -1;
	if (j->argv == NULL || j->argv[0] == NULL) {
		jail_err(j, "no command to run");
		return -1;
	}
	if (build_env(j) == -1) {
		jail_err(j, "environment: out of memory");
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, j->sync) ==
	    -1) {
		jail_err(j, "socketpair: %s", strerror(errno));
		return -1;
	}
	if (j->type == JAIL_LANDJAIL)
		return landjail_start(j);
	return nsjail_start(j);
}

int
jail_ready(struct jail *j)
{
	int r;

	r = j->type == JAIL_LANDJAIL ? landjail_parent(j) : nsjail_ready(j);
	if (r == -1 && j->pid > 0) {
		kill(j->pid, SIGKILL);
		while (waitpid(j->pid, NULL, 0) == -1 && errno == EINTR)
			;
		j->pid = -1;
	}
	return r;
}

int
jail_release(struct jail *j)
{
	struct jail_msg m;

	memset(&m, 0, sizeof(m));
	m.type = JAIL_MSG_RELEASE;
	if (jail_send(j->sync[0], &m, NULL, 0) == -1) {
		jail_err(j, "release: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
jail_exit_status(const struct jail *j, int wstatus)
{
	struct jail_msg m;
	size_t n;

	/* init reported the target's own status before exiting */
	if (j->sync[0] != -1) {
		if (recv(j->sync[0], &m, 0, MSG_PEEK | MSG_DONTWAIT) >= 0 &&
		    jail_recv(j->sync[0], &m, NULL, 0, &n) == 0 &&
		    m.type == JAIL_MSG_STATUS)
			wstatus = m.value;
	}
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 125;
}

void
jail_free(struct jail *j)
{
	size_t i;

	if (j->type == JAIL_LANDJAIL && j->started) {
		landjail_stop(j);
		/*
		 * Normally init has done this; if the command killed it (no
		 * signal scoping before Landlock ABI 6), its orphans came to
		 * boundary, a subreaper too.
		 */
		init_kill_descendants();
	}
	for (i = 0; i < 2; i++)
		if (j->sync[i] != -1) {
			close(j->sync[i]);
			j->sync[i] = -1;
		}
	if (j->envp != NULL) {
		for (i = 0; j->envp[i] != NULL; i++)
			free(j->envp[i]);
		free(j->envp);
		j->envp = NULL;
	}
}
