/*
 * The proxy's self-confinement: see jail.h for the contract.  What
 * stays allowed, and why, is the table syscalls[] below (STYLE rule 30).
 *
 * How the allow-list was made (redo it after changing what the proxy
 * does while serving):
 *
 *   1. A wrapper runs the proxy as `strace -f -qq -tt -o TRACE
 *      bin/boundary "$@"` (forwarding SIGTERM to the traced boundary) and
 *      the integration suite uses it: BOUNDARY=wrapper
 *      tests/integration/run.sh.  That covers plain HTTP, CONNECT and
 *      TLS interception, direct TLS (SNI), websockets, upstream TLS
 *      failures, timeouts, overload, SIGTERM with requests in flight and
 *      the audit file.
 *   2. By hand, in `unshare -nm` with /etc/resolv.conf bound to a
 *      throw-away file naming a small DNS responder on 127.0.0.1: names
 *      resolved by c-ares over UDP and from /etc/hosts, SIGHUP reloads of
 *      a --config YAML file and of a --policy table, the audit Unix
 *      socket, --log-dir, and both jail types (`--jail-type landjail` and
 *      nsjail, running curl), including signal forwarding, reaping the
 *      jail and removing the run directory.
 *   3. Every trace is cut at the main thread's first epoll_wait (the start
 *      of serving; confine_self runs just before it) and the calls after
 *      it, in boundary's threads (not the jail's processes), are counted.
 *
 * What serving was seen to make: epoll_wait epoll_ctl accept4 recvfrom
 * sendto read write close setsockopt getsockopt(SO_ORIGINAL_DST)
 * getsockname socket connect fcntl brk mmap munmap mprotect madvise
 * openat(/etc/hosts, /dev/urandom, the policy or config file)
 * newfstatat rt_sigaction rt_sigreturn wait4 unlink rmdir recvmsg
 * exit_group.  The table adds what the same code paths make under other
 * conditions (readv/writev, sendmsg, poll, futex, getrandom, clock and
 * sleep calls without the vDSO, kill and tgkill, mremap, ...) and the
 * extras of the sanitizer runtime in SAN builds.  wolfSSL opens
 * /dev/urandom for every new RNG (each TLS handshake), so that file is
 * always readable; c-ares reads /etc/hosts on every lookup.
 *
 * Denied calls fail with EPERM rather than killing: a call the table
 * forgot must not end a user's session.  A foreign system call ABI (i386
 * int $0x80, x32) kills: the proxy never makes one.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "jail.h"
#include "jail_int.h"
#include "landlock_uapi.h"

/* ASan (and LSan at exit) make calls of their own; see the table. */
#if defined(__SANITIZE_ADDRESS__)
#define CONFINE_SAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CONFINE_SAN 1
#endif
#endif
#ifndef CONFINE_SAN
#define CONFINE_SAN 0
#endif

/* Landlock ABI with TCP rules (Linux 6.7). */
#define CONFINE_ABI_NET 4

/* Files readable whatever the caller says (see the top). */
static const char *const builtin_read[] = {
    "/dev/urandom", /* wolfSSL seeds every new RNG from it */
#if CONFINE_SAN
    "/proc/self", /* the sanitizer reads maps and task/ */
#endif
};

static char summary[256];

static void set_err(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- the allow-list ------------------------------------------------------ */

/*
 * What a rule does with a call of its number:
 *   R_ALLOW       allow;
 *   R_DENY        fail with the rule's errno (documentation: a call not in
 *                 the table fails with EPERM anyway);
 *   R_MASK_CLEAR  allow when none of <val[0]> is set in the low 32 bits
 *                 of argument <arg>, else EPERM;
 *   R_ONE_OF      allow when the low 32 bits of argument <arg> are one of
 *                 val[0..nval-1], else EPERM;
 *   R_NULL        allow when argument <arg> is 0 (all 64 bits), else
 *                 EPERM.
 */
enum rule_kind { R_ALLOW, R_DENY, R_MASK_CLEAR, R_ONE_OF, R_NULL };

#define RULE_MAXVAL 8

struct rule {
	int nr;
	enum rule_kind kind;
	unsigned arg;
	uint32_t val[RULE_MAXVAL];
	unsigned nval;
	int err; /* R_DENY */
};

#define ALLOW(name)                                                            \
	{                                                                      \
		__NR_##name, R_ALLOW, 0, {0}, 0, 0                             \
	}
#define DENY(name, e)                                                          \
	{                                                                      \
		__NR_##name, R_DENY, 0, {0}, 0, (e)                            \
	}
#define MASK_CLEAR(name, a, mask)                                              \
	{                                                                      \
		__NR_##name, R_MASK_CLEAR, (a), {(mask)}, 1, 0                 \
	}
#define ONE_OF(name, a, n, ...)                                                \
	{                                                                      \
		__NR_##name, R_ONE_OF, (a), {__VA_ARGS__}, (n), 0              \
	}
#define ARG_NULL(name, a)                                                      \
	{                                                                      \
		__NR_##name, R_NULL, (a), {0}, 0, 0                            \
	}

#define CLONE_NS_FLAGS                                                         \
	((uint32_t)(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS |             \
	    CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET))

/*
 * The table, the hottest calls first (the filter tests them in order).
 * Every entry says why serving needs it.
 */
static const struct rule syscalls[] = {
/* The event loop (libev's epoll backend) and every connection. */
#ifdef __NR_epoll_wait
    ALLOW(epoll_wait),
#endif
    ALLOW(epoll_pwait), /* aarch64's epoll_wait */
#ifdef __NR_epoll_pwait2
    ALLOW(epoll_pwait2),
#endif
    ALLOW(epoll_ctl),
    ALLOW(recvfrom), /* recv(), MSG_PEEK of the first byte */
    ALLOW(sendto),   /* send() with MSG_NOSIGNAL; c-ares' UDP queries */
    ALLOW(read),     /* eventfd, signalfd, files, c-ares TCP */
    ALLOW(write),    /* logs, audit sinks, eventfd */
    ALLOW(readv),
    ALLOW(writev), /* c-ares TCP queries, stdio */
    ALLOW(recvmsg),
    ALLOW(sendmsg), /* the audit socket; jail messages (SCM_RIGHTS) */
    ALLOW(accept4), /* clients */
    ALLOW(accept),
    ALLOW(close),
    ALLOW(setsockopt),  /* TCP_NODELAY, SO_KEEPALIVE, ... */
    ALLOW(getsockopt),  /* SO_ERROR after connect, SO_ORIGINAL_DST */
    ALLOW(getsockname), /* the transparent destination */
    ALLOW(getpeername),
    ALLOW(shutdown),
    ALLOW(connect), /* upstreams, DNS servers, the audit socket */
    /* New sockets: upstream TCP, DNS UDP/TCP, the audit Unix socket. */
    ONE_OF(socket, 0, 3, AF_UNIX, AF_INET, AF_INET6),
    ALLOW(fcntl), /* O_NONBLOCK, FD_CLOEXEC, F_DUPFD_CLOEXEC */
    /* No terminal or device ioctls: FIONREAD & co. only. */
    ONE_OF(
        ioctl, 1, 6, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, TCGETS, TIOCGWINSZ),

    /* Time: the vDSO mostly, the real calls when it is missing. */
    ALLOW(clock_gettime),
    ALLOW(clock_getres),
    ALLOW(gettimeofday),
#ifdef __NR_time
    ALLOW(time),
#endif
    ALLOW(nanosleep),
    ALLOW(clock_nanosleep),

    /* Memory: malloc, wolfSSL, the policy table; never executable. */
    ALLOW(brk),
    MASK_CLEAR(mmap, 2, PROT_EXEC),
    ALLOW(munmap),
    ALLOW(mremap),
    MASK_CLEAR(mprotect, 2, PROT_EXEC),
    ALLOW(madvise),
    ALLOW(futex),     /* glibc locks (stdio, malloc), joining the supervisor */
    ALLOW(getrandom), /* wolfSSL, c-ares query ids, session ids */

    /* Files (Landlock decides which): SIGHUP reloads, /etc/hosts,
     * /dev/urandom; unlink and rmdir remove the jail's run directory. */
    ALLOW(openat),
#ifdef __NR_open
    ALLOW(open),
#endif
#ifdef __NR_newfstatat
    ALLOW(newfstatat),
#endif
#ifdef __NR_fstat
    ALLOW(fstat),
#endif
#ifdef __NR_stat
    ALLOW(stat),
#endif
#ifdef __NR_lstat
    ALLOW(lstat),
#endif
    ALLOW(statx),
    ALLOW(lseek),
    ALLOW(pread64),
    ALLOW(getdents64),
#ifdef __NR_readlink
    ALLOW(readlink),
#endif
    ALLOW(readlinkat),
#ifdef __NR_access
    ALLOW(access), /* the audit socket's path before a reconnect */
#endif
    ALLOW(faccessat),
#ifdef __NR_faccessat2
    ALLOW(faccessat2),
#endif
#ifdef __NR_unlink
    ALLOW(unlink),
#endif
    ALLOW(unlinkat),
#ifdef __NR_rmdir
    ALLOW(rmdir),
#endif
    ALLOW(fsync),
    ALLOW(fdatasync),
    ALLOW(dup),
#ifdef __NR_dup2
    ALLOW(dup2),
#endif
    ALLOW(dup3),

    /* libev's and the jail's descriptors (made at init, remade rarely). */
    ALLOW(eventfd2),
    ALLOW(pipe2),
    ALLOW(epoll_create1),
    ALLOW(signalfd4),
    ALLOW(timerfd_create),
    ALLOW(timerfd_settime),
    ALLOW(timerfd_gettime),
#ifdef __NR_poll
    ALLOW(poll),
#endif
    ALLOW(ppoll),

    /* Signals: libev's handlers, forwarding to the jail, abort(). */
    ALLOW(rt_sigaction),
    ALLOW(rt_sigprocmask),
    ALLOW(rt_sigreturn),
    ALLOW(rt_sigpending),
    ALLOW(sigaltstack),
    ALLOW(restart_syscall),
    ALLOW(kill),   /* SIGINT/SIGTERM/SIGQUIT passed to the jail */
    ALLOW(tgkill), /* raise(), abort() */
    ALLOW(tkill),

    /* The process: ids, the jail's exit (libev's ev_child), exit. */
    ALLOW(getpid),
    ALLOW(gettid),
    ALLOW(getppid),
    ALLOW(getuid),
    ALLOW(geteuid),
    ALLOW(getgid),
    ALLOW(getegid),
    ALLOW(wait4),
    ALLOW(waitid),
    ALLOW(exit),
    ALLOW(exit_group),
    ALLOW(uname),
    ALLOW(sysinfo),
    ALLOW(sched_yield),
    ALLOW(sched_getaffinity), /* sysconf(_SC_NPROCESSORS_ONLN) */
    ARG_NULL(prlimit64, 2),   /* getrlimit() only: no new limit */
#ifdef __NR_getrlimit
    ALLOW(getrlimit),
#endif
    ALLOW(getrusage),

#if CONFINE_SAN
    /*
     * The sanitizer runtime: LeakSanitizer's check at exit stops the
     * world from a tracer task (clone without namespaces, ptrace of
     * our own threads, prctl to allow it) and lists /proc/self/task.
     */
    MASK_CLEAR(clone, 0, CLONE_NS_FLAGS),
#if defined(__x86_64__)
    ONE_OF(ptrace, 0, 7, PTRACE_ATTACH, PTRACE_DETACH, PTRACE_GETREGS,
        PTRACE_GETFPREGS, PTRACE_GETREGSET, PTRACE_PEEKUSER, PTRACE_CONT),
#else
    ONE_OF(ptrace, 0, 5, PTRACE_ATTACH, PTRACE_DETACH, PTRACE_GETREGSET,
        PTRACE_PEEKUSER, PTRACE_CONT),
#endif
    ONE_OF(prctl, 0, 5, PR_SET_PTRACER, PR_GET_DUMPABLE, PR_SET_DUMPABLE,
        PR_SET_PDEATHSIG, PR_GET_NAME),
    ALLOW(set_robust_list),
    ALLOW(rseq),
#ifdef __NR_getdents
    ALLOW(getdents), /* x86_64's sanitizer lists task/ with it */
#endif
#endif

    /*
     * Refused on purpose (the default refuses them too; listed so that
     * the intent is written down): running programs, looking into or
     * changing other processes, namespaces and mounts, new listening
     * sockets (all are bound at init), kernel attack surface (io_uring,
     * eBPF, user faults), and changing our own confinement.
     */
    DENY(execve, EPERM),
    DENY(execveat, EPERM),
#if !CONFINE_SAN
    DENY(ptrace, EPERM),
    DENY(clone, EPERM), /* neither threads nor processes after init */
#endif
#ifdef __NR_fork
    DENY(fork, EPERM),
#endif
#ifdef __NR_vfork
    DENY(vfork, EPERM),
#endif
    DENY(clone3, ENOSYS), /* flags out of reach: glibc falls back to clone */
    DENY(process_vm_readv, EPERM),
    DENY(process_vm_writev, EPERM),
    DENY(pidfd_getfd, EPERM),
    DENY(unshare, EPERM),
    DENY(setns, EPERM),
    DENY(mount, EPERM),
    DENY(umount2, EPERM),
    DENY(pivot_root, EPERM),
    DENY(chroot, EPERM),
    DENY(bind, EPERM),
    DENY(listen, EPERM),
    DENY(io_uring_setup, ENOSYS), /* "no io_uring here": callers fall back */
    DENY(io_uring_enter, ENOSYS),
    DENY(io_uring_register, ENOSYS),
    DENY(bpf, EPERM),
    DENY(userfaultfd, EPERM),
    DENY(perf_event_open, EPERM),
    DENY(seccomp, EPERM),
    DENY(landlock_create_ruleset, EPERM),
    DENY(capset, EPERM),
    DENY(setuid, EPERM),
    DENY(setgid, EPERM),
};

/* ---- the filter (struct bpf_prog, bpf_put: jail_int.h) ------------------- */

#define RET_ALLOW SECCOMP_RET_ALLOW
#define RET_EPERM (SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA))

/* Instructions after a rule's JEQ: its block, each ending in a return. */
static unsigned
block_len(const struct rule *r)
{
	switch (r->kind) {
	case R_ALLOW:
	case R_DENY:
		return 1;
	case R_MASK_CLEAR:
		return 4;
	case R_ONE_OF:
		return 1 + r->nval + 2;
	case R_NULL:
		return 6;
	}
	return 0;
}

/*
 * One rule: "if nr == r->nr then <block>", the block ending in returns
 * so that every jump is short.  The accumulator holds nr on entry; a
 * block may clobber it because it never falls through.
 */
static void
emit_rule(struct bpf_prog *p, const struct rule *r)
{
	unsigned len = block_len(r), i;

	bpf_put(p, BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)r->nr, 0, (uint8_t)len);
	switch (r->kind) {
	case R_ALLOW:
		bpf_put(p, BPF_RET | BPF_K, RET_ALLOW, 0, 0);
		break;
	case R_DENY:
		bpf_put(p, BPF_RET | BPF_K,
		    SECCOMP_RET_ERRNO | ((uint32_t)r->err & SECCOMP_RET_DATA),
		    0, 0);
		break;
	case R_MASK_CLEAR:
		bpf_put(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(r->arg), 0, 0);
		bpf_put(p, BPF_JMP | BPF_JSET | BPF_K, r->val[0], 0, 1);
		bpf_put(p, BPF_RET | BPF_K, RET_EPERM, 0, 0);
		bpf_put(p, BPF_RET | BPF_K, RET_ALLOW, 0, 0);
		break;
	case R_ONE_OF:
		bpf_put(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(r->arg), 0, 0);
		for (i = 0; i < r->nval; i++)
			bpf_put(p, BPF_JMP | BPF_JEQ | BPF_K, r->val[i],
			    (uint8_t)(r->nval - i), 0);
		bpf_put(p, BPF_RET | BPF_K, RET_EPERM, 0, 0);
		bpf_put(p, BPF_RET | BPF_K, RET_ALLOW, 0, 0);
		break;
	case R_NULL:
		bpf_put(p, BPF_LD | BPF_W | BPF_ABS, ARG_LO(r->arg), 0, 0);
		bpf_put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 2);
		bpf_put(p, BPF_LD | BPF_W | BPF_ABS, ARG_HI(r->arg), 0, 0);
		bpf_put(p, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
		bpf_put(p, BPF_RET | BPF_K, RET_EPERM, 0, 0);
		bpf_put(p, BPF_RET | BPF_K, RET_ALLOW, 0, 0);
		break;
	}
}

/* The whole filter into <p>.  0, or -1: no filter for this arch. */
static int
build_filter(struct bpf_prog *p)
{
	size_t i;

	memset(p, 0, sizeof(*p));
#if JAIL_AUDIT_ARCH == 0
	return -1;
#else
	bpf_put(p, BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, arch), 0, 0);
	bpf_put(p, BPF_JMP | BPF_JEQ | BPF_K, JAIL_AUDIT_ARCH, 1, 0);
	bpf_put(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
	bpf_put(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr),
	    0, 0);
#ifdef __X32_SYSCALL_BIT
	/* x32 numbers share x86_64's arch value: foreign all the same. */
	bpf_put(p, BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1);
	bpf_put(p, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS, 0, 0);
#endif
	for (i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
		emit_rule(p, &syscalls[i]);
	bpf_put(p, BPF_RET | BPF_K, RET_EPERM, 0, 0);
	return p->overflow ? -1 : 0;
#endif
}

/* Calls the table allows (with or without argument checks). */
static size_t
count_allowed(void)
{
	size_t i, n = 0;

	for (i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++)
		if (syscalls[i].kind != R_DENY)
			n++;
	return n;
}

/*
 * Installs the filter: the calling thread only when <thread_only> (it
 * binds the threads created later; existing ones keep none), else every
 * thread (TSYNC; there is one anyway).
 */
static int
step_seccomp(int thread_only, char *err, size_t errlen)
{
	static struct bpf_prog p;
	struct sock_fprog prog;

	if (build_filter(&p) == -1) {
		set_err(err, errlen,
		    "seccomp: no filter for this architecture (x86_64 and "
		    "aarch64 only) or the table is too long");
		return -1;
	}
	prog.len = (unsigned short)p.n;
	prog.filter = p.insn;
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	        thread_only ? 0 : SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
		set_err(err, errlen, "seccomp: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- Landlock ------------------------------------------------------------ */

/* Every filesystem right that ABI <abi> knows. */
static uint64_t
fs_rights(int abi)
{
	uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */

	if (abi >= 2)
		r |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		r |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return r;
}

/* The rights that make sense on a file (not a directory). */
#define FILE_RIGHTS                                                            \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |          \
	    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |       \
	    LANDLOCK_ACCESS_FS_IOCTL_DEV)

#define READ_RIGHTS (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)

/* Writing: files and directories made, written, truncated and removed. */
#define WRITE_RIGHTS                                                           \
	(READ_RIGHTS | LANDLOCK_ACCESS_FS_WRITE_FILE |                         \
	    LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_MAKE_REG |        \
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |     \
	    LANDLOCK_ACCESS_FS_REMOVE_DIR)

/*
 * Adds "<rights> beneath <path>" to ruleset <rs>.  1 when added, 0 when
 * the path does not exist (skipped), -1 on error.
 */
static int
add_path(int rs, const char *path, uint64_t rights, uint64_t handled, char *err,
    size_t errlen)
{
	struct ll_path_beneath_attr pb;
	struct stat st;
	int fd, saved;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd == -1) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EACCES)
			return 0;
		set_err(err, errlen, "landlock: %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		set_err(err, errlen, "landlock: %s: %s", path, strerror(saved));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		rights &= FILE_RIGHTS;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = rights & handled;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, rs, LANDLOCK_RULE_PATH_BENEATH, &pb,
	        0) == -1) {
		saved = errno;
		close(fd);
		set_err(err, errlen, "landlock: rule for %s: %s", path,
		    strerror(saved));
		return -1;
	}
	close(fd);
	return 1;
}

/*
 * The ruleset: every filesystem right handled, read and write paths
 * allowed; TCP bind handled with no port allowed (every listener exists
 * already), TCP connect not handled (upstreams are on any port).  No
 * scoping: the proxy signals the jail, which is outside its domain.
 * Writes "landlock ..." into <what>.  0 (applied or unavailable), -1.
 */
static int
step_landlock(const struct confine_cfg *cfg, char *what, size_t whatlen,
    char *err, size_t errlen)
{
	struct ll_ruleset_attr attr;
	size_t size, i;
	int abi, rs, r;

	abi = landjail_abi();
	if (abi == -1) {
		snprintf(what, whatlen, "landlock unavailable (%s)",
		    errno == EOPNOTSUPP   ? "disabled at boot"
		        : errno == ENOSYS ? "not in this kernel"
		                          : strerror(errno));
		return 0;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = fs_rights(abi);
	size = offsetof(struct ll_ruleset_attr, handled_access_net);
	if (abi >= CONFINE_ABI_NET) {
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (rs == -1) {
		set_err(err, errlen, "landlock: create ruleset (ABI %d): %s",
		    abi, strerror(errno));
		return -1;
	}
	for (i = 0; i < sizeof(builtin_read) / sizeof(builtin_read[0]); i++)
		if (add_path(rs, builtin_read[i], READ_RIGHTS,
		        attr.handled_access_fs, err, errlen) == -1)
			goto fail;
	for (i = 0; i < cfg->nread; i++)
		if (add_path(rs, cfg->read_paths[i], READ_RIGHTS,
		        attr.handled_access_fs, err, errlen) == -1)
			goto fail;
	for (i = 0; i < cfg->nwrite; i++)
		if (add_path(rs, cfg->write_paths[i], WRITE_RIGHTS,
		        attr.handled_access_fs, err, errlen) == -1)
			goto fail;
	r = (int)syscall(SYS_landlock_restrict_self, rs, 0);
	if (r == -1) {
		set_err(err, errlen, "landlock: restrict self: %s",
		    strerror(errno));
		goto fail;
	}
	close(rs);
	snprintf(what, whatlen, "landlock abi %d (fs%s)", abi,
	    abi >= CONFINE_ABI_NET ? ", no tcp bind" : "");
	return 0;
fail:
	close(rs);
	return -1;
}

/* ---- the rest ------------------------------------------------------------ */

/* Threads of this process per /proc/self/status, or -1 if unknown. */
static long
thread_count(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd;

	if ((fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nThreads:")) == NULL)
		return -1;
	return strtol(p + 9, NULL, 10);
}

/* Empties the calling thread's capability sets (a no-op without any). */
static int
step_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];

	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	hdr.pid = 0;
	if (syscall(SYS_capset, &hdr, data) == -1) {
		set_err(err, errlen, "capset: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
confine_self(const struct confine_cfg *cfg, char *err, size_t errlen)
{
	char ll[96];
	long nthreads;

	if (errlen > 0)
		err[0] = '\0';
	summary[0] = '\0';
	if (!cfg->thread_only && (nthreads = thread_count()) > 1) {
		set_err(err, errlen,
		    "%ld threads: confining the whole process needs a single "
		    "thread (Landlock binds the calling thread only)",
		    nthreads);
		return -1;
	}
	/* Landlock and seccomp need it (or CAP_SYS_ADMIN, which goes). */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		set_err(err, errlen, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (step_caps(err, errlen) == -1)
		return -1;
	if (step_landlock(cfg, ll, sizeof(ll), err, errlen) == -1)
		return -1;
	if (step_seccomp(cfg->thread_only, err, errlen) == -1)
		return -1;
	snprintf(summary, sizeof(summary),
	    "%s, seccomp (%zu calls allowed), no_new_privs, no capabilities%s",
	    ll, count_allowed(), cfg->thread_only ? " (this thread)" : "");
	return 0;
}

const char *
confine_summary(void)
{
	return summary;
}
