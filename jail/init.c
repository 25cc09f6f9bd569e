/*
 * The jail's first process (DESIGN.md section 3, step 6): PID 1 of the
 * nsjail PID namespace, or for landjail a child subreaper (there is no
 * PID namespace there, so orphans are reparented to it instead).  It
 * waits in sigwaitinfo() with every signal it handles blocked (a PID
 * namespace's init would otherwise silently drop them), and:
 *
 *   - reaps every child, orphans included;
 *   - forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and
 *     SIGWINCH to the target when a process sent them (boundary does
 *     that); signals the terminal generates (si_code SI_KERNEL) reached
 *     the target's process group already and are not sent twice;
 *   - when the target ends, kills whatever it left behind (nsjail: the
 *     kernel does that when PID 1 exits), reports the target's wait
 *     status to boundary and exits;
 *   - landjail: when boundary dies (JAIL_PDEATH_SIG, its parent-death
 *     signal), kills every descendant and exits, so nothing of the jail
 *     outlives the proxy.  (nsjail's init gets SIGKILL instead, and the
 *     kernel empties the PID namespace.)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jail_int.h"

static const int forwarded[] = {
	SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
};

/* What init_run waits for. */
static void
wait_set(sigset_t *set)
{
	size_t i;

	sigemptyset(set);
	sigaddset(set, SIGCHLD);
	sigaddset(set, JAIL_PDEATH_SIG);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(set, forwarded[i]);
}

void
init_block_signals(sigset_t *set)
{
	wait_set(set);
	sigprocmask(SIG_BLOCK, set, NULL);
}

/*
 * Appends the children of <pid> (all its threads) to <out>; returns the
 * new count.  /proc/PID/task/TID/children lists a thread's children.
 */
static size_t
children_of(pid_t pid, pid_t *out, size_t n, size_t cap)
{
	char path[64], buf[4096], *p, *end;
	struct dirent *e;
	ssize_t got;
	DIR *d;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (d == NULL)
		return n;
	while ((e = readdir(d)) != NULL && n < cap) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/children",
		    (int)pid, e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd == -1)
			continue;
		got = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (got <= 0)
			continue;
		buf[got] = '\0';
		for (p = buf; n < cap; p = end) {
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			if (v > 0)
				out[n++] = (pid_t)v;
		}
	}
	closedir(d);
	return n;
}

void
init_kill_descendants(void)
{
	pid_t procs[4096];
	size_t n, i, round;
	struct timespec ts = { 0, 2000000 };

	/*
	 * Breadth first over the tree, SIGKILL to each: a process being
	 * killed can still fork, so go again until nothing is left; orphans
	 * come to us (subreaper) and are reaped here.
	 */
	for (round = 0; round < 1000; round++) {
		n = children_of(getpid(), procs, 0, sizeof(procs) /
		    sizeof(procs[0]));
		for (i = 0; i < n; i++)
			n = children_of(procs[i], procs, n, sizeof(procs) /
			    sizeof(procs[0]));
		if (n == 0)
			break;
		for (i = 0; i < n; i++)
			kill(procs[i], SIGKILL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		nanosleep(&ts, NULL);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
}

void
init_run(struct jail *j, pid_t target)
{
	struct jail_msg m;
	siginfo_t si;
	sigset_t set;
	pid_t p;
	int st, sig;

	/* the caller blocked these (init_block_signals) before the fork */
	wait_set(&set);
	for (;;) {
		sig = sigwaitinfo(&set, &si);
		if (sig == -1) {
			if (errno == EINTR)
				continue;
			_exit(125);
		}
		if (sig == JAIL_PDEATH_SIG) {
			/*
			 * landjail: the kernel's parent-death signal (or the
			 * jail's own doing, where Landlock cannot scope
			 * signals: either way the jail ends)
			 */
			if (j->type == JAIL_LANDJAIL) {
				init_kill_descendants();
				_exit(125);
			}
			continue;
		}
		if (sig != SIGCHLD) {
			if (si.si_code == SI_USER || si.si_code == SI_QUEUE)
				kill(target, sig);
			continue;
		}
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			if (p != target)
				continue;
			if (j->type == JAIL_LANDJAIL)
				init_kill_descendants();
			memset(&m, 0, sizeof(m));
			m.type = JAIL_MSG_STATUS;
			m.value = st;
			if (jail_send(j->sync[1], &m, NULL, 0) == -1)
				_exit(125);
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) :
			    128 + WTERMSIG(st));
		}
	}
}
