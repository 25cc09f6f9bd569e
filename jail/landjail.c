/*
 * landjail: the jail for hosts without namespace rights (DESIGN.md
 * section 3, "--jail-type landjail").  Three layers, each closing what the
 * one before cannot see:
 *
 * 1. Landlock (ABI >= 4) handles TCP bind and TCP connect and grants
 *    neither: the target may not bind a TCP port nor connect a TCP socket
 *    *by itself*.  On ABI >= 6 abstract Unix sockets and signals are
 *    scoped to the jail as well.  The filesystem is not restricted.
 *
 * 2. A seccomp filter kills the target on a foreign syscall ABI (i386
 *    socketcall and friends), refuses x32 numbers, io_uring (whose
 *    IORING_OP_CONNECT bypasses seccomp), TCP fast open (sendto/sendmsg/
 *    sendmmsg with MSG_FASTOPEN connect without connect()), and every
 *    socket but AF_UNIX, AF_NETLINK (glibc's getaddrinfo needs it) and
 *    plain TCP over AF_INET/AF_INET6 (no UDP, raw, packet, SCTP, MPTCP or
 *    any other family: AF_SMC, AF_VSOCK, AF_RDS... reach the network
 *    without Landlock seeing a TCP connect).  Every connect() and
 *    listen() goes to the supervisor through seccomp user notification.
 *
 * 3. The supervisor, a thread of boundary, takes each of them: it
 *    duplicates the target's socket with pidfd_getfd() and, for a TCP
 *    socket, copies the sockaddr out of the target once and performs the
 *    connect() itself on the duplicate when the copy is exactly the
 *    proxy's address and port (else EACCES).  The kernel never reads the
 *    target's sockaddr again, so flipping it from another thread after
 *    the check changes nothing.  connect() of a non-IP socket (Unix,
 *    netlink) continues in the kernel (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
 *    listen() is refused on TCP sockets (Landlock does not see the
 *    automatic bind of an unbound socket's listen(), an inbound port) and
 *    performed by the supervisor on others.
 *
 * Why Landlock grants no TCP connect at all, not even to the proxy port:
 * the supervisor runs outside the Landlock domain, so the target needs no
 * connect right of its own, and a right it had would be exactly what an
 * attacker reaches around the supervisor: CONTINUE is decided on the
 * socket behind an fd number, and another thread may dup2() a TCP socket
 * onto that number before the kernel resumes the call; on kernels before
 * 6.9 (no PIDFD_THREAD) a thread with an unshared fd table even shows the
 * supervisor another socket under the same number.  With a proxy-port
 * rule either race is the documented bypass (connect to
 * evil.example:PROXY_PORT); with no rule the kernel refuses it (EACCES).
 * A second listener that could CONTINUE connect() before ours sees it is
 * impossible: the kernel allows one per filter chain (EBUSY).
 *
 * What stays open by design: the filesystem, including Unix sockets of
 * services outside the jail (e.g. a container engine's socket).  What
 * fails closed: a target that makes itself undumpable (PR_SET_DUMPABLE
 * 0, or an unreadable executable) when boundary lacks CAP_SYS_PTRACE:
 * pidfd_getfd() and process_vm_readv() need ptrace access, so its TCP
 * connect() and listen() get EACCES.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/seccomp.h>

#include "jail.h"
#include "jail_int.h"
#include "landlock_uapi.h"

/* Landlock ABI with TCP rules (Linux 6.7) and with scoping (Linux 6.12). */
#define LJ_ABI_NET 4
#define LJ_ABI_SCOPE 6

/* How long landjail_parent waits for the child's listener. */
#define LJ_SYNC_TIMEOUT_MS 10000

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd for one thread */
#endif

/* The supervisor of one jail (j->lj). */
struct landjail {
	int listener; /* seccomp notification fd */
	int stop_fd;  /* eventfd: landjail_stop wakes the thread */
	pthread_t thread;
	int running;           /* thread started, not yet joined */
	int family;            /* AF_INET or AF_INET6: the proxy's */
	struct in_addr addr4;  /* the proxy, AF_INET */
	struct in6_addr addr6; /* the proxy, AF_INET6 or v4-mapped */
	uint16_t port;         /* the proxy's port, host order */
	size_t notif_size;     /* the kernel's struct sizes */
	size_t resp_size;
	struct seccomp_notif *req; /* the thread's buffers, of those sizes */
	struct seccomp_notif_resp *resp;
	/* j->refused, j->refused_arg: told of each refused destination */
	void (*refused)(const struct sockaddr_storage *, pid_t, void *);
	void *refused_arg;
};

static void set_err(struct jail *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_err(struct jail *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->err, sizeof(j->err), fmt, ap);
	va_end(ap);
}

int
landjail_abi(void)
{
	long abi;

	abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return abi == -1 ? -1 : (int)abi;
}

/* ---- child side ---------------------------------------------------------- */

/* Landlock and user notification both need it; execve keeps it. */
static int
step_no_new_privs(struct jail *j)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1) {
		set_err(j, "prctl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* See the comment at the top for why no TCP port is allowed. */
static int
step_landlock(struct jail *j)
{
	struct ll_ruleset_attr attr;
	size_t size;
	int abi, fd, saved;

	abi = landjail_abi();
	if (abi == -1) {
		set_err(j,
		    "Landlock is unavailable (%s); landjail needs Linux 6.7+ "
		    "with Landlock enabled (the lsm= boot parameter must list "
		    "landlock); use --jail-type nsjail",
		    errno == EOPNOTSUPP ? "disabled at boot" : strerror(errno));
		return -1;
	}
	if (abi < LJ_ABI_NET) {
		set_err(j,
		    "the kernel's Landlock ABI is %d, landjail needs ABI %d "
		    "(Linux 6.7+ with Landlock enabled by the lsm= boot "
		    "parameter) for TCP rules; use --jail-type nsjail",
		    abi, LJ_ABI_NET);
		return -1;
	}
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = 0;
	attr.handled_access_net =
	    LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
	size = offsetof(struct ll_ruleset_attr, scoped);
	if (abi >= LJ_ABI_SCOPE) {
		attr.scoped =
		    LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (fd == -1) {
		set_err(j, "create ruleset (ABI %d): %s", abi, strerror(errno));
		return -1;
	}
	if (syscall(SYS_landlock_restrict_self, fd, 0) == -1) {
		saved = errno;
		close(fd);
		set_err(j, "restrict self: %s", strerror(saved));
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * A tiny BPF assembler over struct bpf_prog (jail_int.h): instructions
 * jump to labels, kept in their jt and jf until bpf_resolve turns them
 * into offsets (every jump is forward and under 256 instructions).
 */
enum bpf_label {
	BL_NEXT,   /* fall through: 0, the offset it becomes */
	BL_SOCKET, /* socket(), socketpair() */
	BL_INET,   /* ... of AF_INET or AF_INET6 */
	BL_FLAGS2, /* sendmsg: flags are args[2] */
	BL_FLAGS3, /* sendto, sendmmsg: flags are args[3] */
	BL_ALLOW,
	BL_KILL,
	BL_EPERM,
	BL_ENOSYS,
	BL_NOTIFY, /* to the supervisor */
	BL_COUNT
};

struct bpf_asm {
	struct bpf_prog p;
	int at[BL_COUNT];
};

static void
bpf_jmp(struct bpf_asm *b, uint16_t code, uint32_t k, enum bpf_label t,
    enum bpf_label f)
{
	bpf_put(&b->p, code, k, (uint8_t)t, (uint8_t)f);
}

static void
bpf_op(struct bpf_asm *b, uint16_t code, uint32_t k)
{
	bpf_jmp(b, code, k, BL_NEXT, BL_NEXT);
}

static void
bpf_label(struct bpf_asm *b, enum bpf_label l)
{
	b->at[l] = (int)b->p.n;
}

/* Turns the label in *<off> (of instruction <i>) into its offset. */
static int
bpf_offset(const struct bpf_asm *b, size_t i, uint8_t *off)
{
	unsigned l = *off; /* enum bpf_label */
	int d;

	if (l == BL_NEXT)
		return 0;
	if (l >= BL_COUNT || b->at[l] < 0)
		return -1;
	d = b->at[l] - (int)i - 1;
	if (d < 0 || d > 255)
		return -1;
	*off = (uint8_t)d;
	return 0;
}

static int
bpf_resolve(struct bpf_asm *b)
{
	size_t i;

	if (b->p.overflow)
		return -1;
	for (i = 0; i < b->p.n; i++)
		if (bpf_offset(b, i, &b->p.insn[i].jt) == -1 ||
		    bpf_offset(b, i, &b->p.insn[i].jf) == -1)
			return -1;
	return 0;
}

/*
 * Builds the filter described at the top into <b>.  Returns its length,
 * or -1 (a bug: too long or a bad jump).
 */
static int
build_filter(struct bpf_asm *b)
{
	int i;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < BL_COUNT; i++)
		b->at[i] = -1;
#if JAIL_AUDIT_ARCH != 0
	bpf_op(
	    b, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	bpf_jmp(
	    b, BPF_JMP | BPF_JEQ | BPF_K, JAIL_AUDIT_ARCH, BL_NEXT, BL_KILL);
	bpf_op(b, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#ifdef __X32_SYSCALL_BIT
	/* x32 numbers (and -1) never run: what a kernel without x32 says. */
	bpf_jmp(b, BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, BL_ENOSYS,
	    BL_NEXT);
#endif
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, __NR_connect, BL_NOTIFY, BL_NEXT);
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, __NR_listen, BL_NOTIFY, BL_NEXT);
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, BL_SOCKET, BL_NEXT);
	bpf_jmp(
	    b, BPF_JMP | BPF_JEQ | BPF_K, __NR_socketpair, BL_SOCKET, BL_NEXT);
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, __NR_sendto, BL_FLAGS3, BL_NEXT);
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, __NR_sendmsg, BL_FLAGS2, BL_NEXT);
	bpf_jmp(
	    b, BPF_JMP | BPF_JEQ | BPF_K, __NR_sendmmsg, BL_FLAGS3, BL_NEXT);
	/* ENOSYS: programs take it as "no io_uring here" and fall back. */
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, BL_ENOSYS,
	    BL_NEXT);
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, BL_ENOSYS,
	    BL_NEXT);
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_register, BL_ENOSYS,
	    BL_NEXT);
	bpf_op(b, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);

	bpf_label(b, BL_SOCKET);
	bpf_op(b, BPF_LD | BPF_W | BPF_ABS, ARG_LO(0));
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, BL_ALLOW, BL_NEXT);
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, BL_ALLOW, BL_NEXT);
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, AF_INET, BL_INET, BL_NEXT);
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, BL_INET, BL_EPERM);

	bpf_label(b, BL_INET);
	/* The kernel refuses type bits other than these two (EINVAL). */
	bpf_op(b, BPF_LD | BPF_W | BPF_ABS, ARG_LO(1));
	bpf_op(b, BPF_ALU | BPF_AND | BPF_K,
	    ~(uint32_t)(SOCK_NONBLOCK | SOCK_CLOEXEC));
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, SOCK_STREAM, BL_NEXT, BL_EPERM);
	/* 0 or TCP; not MPTCP (262), SCTP (132) or SMC (256). */
	bpf_op(b, BPF_LD | BPF_W | BPF_ABS, ARG_LO(2));
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, 0, BL_ALLOW, BL_NEXT);
	bpf_jmp(b, BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_TCP, BL_ALLOW, BL_EPERM);

	bpf_label(b, BL_FLAGS2);
	bpf_op(b, BPF_LD | BPF_W | BPF_ABS, ARG_LO(2));
	bpf_jmp(
	    b, BPF_JMP | BPF_JSET | BPF_K, MSG_FASTOPEN, BL_EPERM, BL_ALLOW);

	bpf_label(b, BL_FLAGS3);
	bpf_op(b, BPF_LD | BPF_W | BPF_ABS, ARG_LO(3));
	bpf_jmp(
	    b, BPF_JMP | BPF_JSET | BPF_K, MSG_FASTOPEN, BL_EPERM, BL_ALLOW);

	bpf_label(b, BL_ALLOW);
	bpf_op(b, BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	bpf_label(b, BL_KILL);
	bpf_op(b, BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	bpf_label(b, BL_EPERM);
	bpf_op(b, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	bpf_label(b, BL_ENOSYS);
	bpf_op(b, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
	bpf_label(b, BL_NOTIFY);
	bpf_op(b, BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
#endif
	if (b->p.n == 0 || bpf_resolve(b) == -1)
		return -1;
	return (int)b->p.n;
}

/*
 * Sends the seccomp listener <fd> to boundary on <sock>: a JAIL_MSG_LISTENER
 * (value: the Landlock ABI the child applied) with that one fd.  0 or -1
 * (errno).
 */
static int
send_listener(int sock, int fd, int abi)
{
	struct jail_msg m;

	memset(&m, 0, sizeof(m));
	m.type = JAIL_MSG_LISTENER;
	m.value = abi;
	return jail_send(sock, &m, &fd, 1);
}

/*
 * The filter, then its listener to boundary.  The child is single
 * threaded here, so no TSYNC; the listener is O_CLOEXEC and closed
 * anyway.  WAIT_KILLABLE_RECV: once the supervisor holds a connect(), a
 * signal to the target cannot interrupt and restart it (which would
 * connect twice); only SIGKILL ends the wait.
 */
static int
step_seccomp(struct jail *j)
{
	struct bpf_asm b;
	struct sock_fprog prog;
	int n, fd, saved;

	if ((n = build_filter(&b)) == -1) {
		set_err(j,
		    "no filter for this architecture; landjail "
		    "supports x86_64 and aarch64; use --jail-type nsjail");
		return -1;
	}
	prog.len = (unsigned short)n;
	prog.filter = b.p.insn;
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	    SECCOMP_FILTER_FLAG_NEW_LISTENER |
	        SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
	    &prog);
	if (fd == -1) {
		set_err(j, "install filter: %s", strerror(errno));
		return -1;
	}
	if (send_listener(j->sync[1], fd, landjail_abi()) == -1) {
		saved = errno;
		close(fd);
		set_err(j, "send listener to boundary: %s", strerror(saved));
		return -1;
	}
	close(fd);
	return 0;
}

/* In this order: Landlock and seccomp need no_new_privs first. */
static const struct {
	const char *name;
	int (*fn)(struct jail *);
} child_steps[] = {
    {"no_new_privs", step_no_new_privs},
    {"landlock", step_landlock},
    {"seccomp", step_seccomp},
};

int
landjail_child(struct jail *j)
{
	char why[sizeof(j->err)];
	size_t i;

	for (i = 0; i < sizeof(child_steps) / sizeof(child_steps[0]); i++) {
		j->err[0] = '\0';
		if (child_steps[i].fn(j) == -1) {
			memcpy(why, j->err, sizeof(why));
			set_err(j, "jail: %s: %s", child_steps[i].name, why);
			return -1;
		}
	}
	return 0;
}

/* ---- boundary side: the supervisor --------------------------------------- */

/* Whether notification <id> still waits (its task alive, in the call). */
static int
id_valid(const struct landjail *lj, uint64_t id)
{
	return ioctl(lj->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

/* The thread group of thread <tid>, from /proc.  -1 if unknown. */
static pid_t
tgid_of(pid_t tid)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	long v;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strstr(buf, "\nTgid:")) == NULL)
		return -1;
	v = strtol(p + 6, NULL, 10);
	return v > 0 ? (pid_t)v : -1;
}

/*
 * A pidfd whose fd table is the one of thread <tid>: PIDFD_THREAD (Linux
 * 6.9), else the thread group's (a thread with an unshared fd table then
 * shows us another socket, which Landlock covers; see the top).
 */
static int
open_pidfd(pid_t tid)
{
	pid_t tgid;
	int fd;

	fd = (int)syscall(SYS_pidfd_open, tid, PIDFD_THREAD);
	if (fd == -1 && errno == EINVAL && (tgid = tgid_of(tid)) != -1)
		fd = (int)syscall(SYS_pidfd_open, tgid, 0);
	return fd;
}

/* Copies <len> bytes at <addr> of task <pid>.  0 or -1. */
static int
read_target(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = {buf, len};
	struct iovec remote = {(void *)(uintptr_t)addr, len};

	if (len == 0)
		return 0;
	if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)len) {
		errno = EFAULT;
		return -1;
	}
	return 0;
}

/*
 * Whether a connect() of a socket of <domain> to <sa> (<len> bytes, as
 * the target passed them) goes to the proxy.  0 if so, else the errno
 * for the target: EINVAL for a short address (as the kernel), EACCES for
 * any other destination.  AF_UNSPEC (dissolve the association) is let
 * through: it reaches nobody.
 */
static int
check_dest(const struct landjail *lj, int domain,
    const struct sockaddr_storage *sa, size_t len)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

	if (len < sizeof(sa_family_t))
		return EINVAL;
	if (sa->ss_family == AF_UNSPEC)
		return 0;
	if (domain == AF_INET && sa->ss_family == AF_INET) {
		if (len < sizeof(*in))
			return EINVAL;
		if (lj->family != AF_INET ||
		    in->sin_addr.s_addr != lj->addr4.s_addr ||
		    ntohs(in->sin_port) != lj->port)
			return EACCES;
		return 0;
	}
	if (domain == AF_INET6 && sa->ss_family == AF_INET6) {
		if (len < sizeof(*in6))
			return EINVAL;
		/* lj->addr6 is ::ffff:a.b.c.d for an IPv4 proxy. */
		if (memcmp(&in6->sin6_addr, &lj->addr6, sizeof(lj->addr6)) !=
		        0 ||
		    ntohs(in6->sin6_port) != lj->port)
			return EACCES;
		return 0;
	}
	return EACCES;
}

/*
 * Duplicates the socket that notification <req> names (args[0]) into
 * *<sock>, with a pidfd of the calling thread in *<pidfd>, and tells its
 * family in *<domain>.  0, or the errno for the target: EBADF or
 * ENOTSOCK as the kernel would say, EACCES when we may not look (the
 * target made itself undumpable: fail closed).
 */
static int
take_socket(const struct seccomp_notif *req, int *pidfd, int *sock, int *domain)
{
	socklen_t len = sizeof(*domain);

	if ((*pidfd = open_pidfd((pid_t)req->pid)) == -1)
		return ESRCH; /* gone; nobody reads this */
	*sock =
	    (int)syscall(SYS_pidfd_getfd, *pidfd, (int)req->data.args[0], 0);
	if (*sock == -1)
		return errno == EBADF ? EBADF : EACCES;
	if (getsockopt(*sock, SOL_SOCKET, SO_DOMAIN, domain, &len) == -1)
		return errno == ENOTSOCK ? ENOTSOCK : EACCES;
	return 0;
}

/*
 * Decides one connect() notification <req>; returns the errno for the
 * target, 0, or -1 for "let the kernel run it" (CONTINUE).  A TCP socket
 * is connected here, on our duplicate, with our one copy of the address.
 * On a blocking socket this connect() waits for the handshake; to the
 * proxy on loopback that is immediate unless the proxy's accept queue is
 * full (the SYN is then retried), and the proxy keeps accepting on its
 * own thread meanwhile.  O_NONBLOCK is not forced: it belongs to the file
 * description the target shares.  A socket of another family cannot
 * reach an IP address, so it continues in the kernel (see the top).
 */
static int
handle_connect(const struct landjail *lj, const struct seccomp_notif *req,
    int sock, int domain)
{
	struct sockaddr_storage ss;
	int addrlen = (int)req->data.args[2], e;

	if (domain != AF_INET && domain != AF_INET6)
		return -1;
	if (addrlen < 0 || (size_t)addrlen > sizeof(ss))
		return EINVAL;
	memset(&ss, 0, sizeof(ss));
	if (read_target(
	        (pid_t)req->pid, req->data.args[1], &ss, (size_t)addrlen) == -1)
		return EFAULT;
	/* After the read: the pid was not reused behind our back. */
	if (!id_valid(lj, req->id))
		return ESRCH;
	if ((e = check_dest(lj, domain, &ss, (size_t)addrlen)) != 0) {
		if (e == EACCES && lj->refused != NULL)
			lj->refused(&ss, (pid_t)req->pid, lj->refused_arg);
		return e;
	}
	if (connect(sock, (struct sockaddr *)&ss, (socklen_t)addrlen) == -1)
		return errno;
	return 0;
}

/*
 * Decides one listen() notification <req>: never on an IP socket (its
 * automatic bind escapes Landlock's bind rule), else performed here on
 * our duplicate, so that no fd swap can slip an IP socket in after the
 * check.  The one visible difference: a Unix listener's SO_PEERCRED, as
 * its clients see it, names boundary's pid instead of the target's.
 */
static int
handle_listen(const struct landjail *lj, const struct seccomp_notif *req,
    int sock, int domain)
{
	if (domain == AF_INET || domain == AF_INET6)
		return EACCES;
	if (!id_valid(lj, req->id))
		return ESRCH;
	if (listen(sock, (int)req->data.args[1]) == -1)
		return errno;
	return 0;
}

/* Decides notification <req> into <resp>. */
static void
handle(const struct landjail *lj, const struct seccomp_notif *req,
    struct seccomp_notif_resp *resp)
{
	int pidfd = -1, sock = -1, domain = 0, e;

	resp->id = req->id;
	if (req->data.arch != JAIL_AUDIT_ARCH)
		e = EPERM; /* the filter sends no other */
	else if ((e = take_socket(req, &pidfd, &sock, &domain)) != 0)
		;
	else if (req->data.nr == __NR_connect)
		e = handle_connect(lj, req, sock, domain);
	else if (req->data.nr == __NR_listen)
		e = handle_listen(lj, req, sock, domain);
	else
		e = EPERM;
	/* CONTINUE only for the task we looked at. */
	if (e == -1 && !id_valid(lj, req->id))
		e = ESRCH;
	if (e == -1)
		resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
	else
		resp->error = -e;
	if (sock != -1)
		close(sock);
	if (pidfd != -1)
		close(pidfd);
}

/*
 * The supervisor thread: waits for notifications or the stop eventfd.
 * All signals are blocked in it (see landjail_parent).  When the last
 * jailed task is gone the listener hangs up and the thread ends early.
 */
static void *
supervise(void *arg)
{
	struct landjail *lj = arg;
	struct seccomp_notif *req = lj->req;
	struct seccomp_notif_resp *resp = lj->resp;
	struct pollfd pfd[2];

	for (;;) {
		pfd[0].fd = lj->listener;
		pfd[0].events = POLLIN;
		pfd[1].fd = lj->stop_fd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[1].revents != 0)
			break;
		if (!(pfd[0].revents & POLLIN)) {
			if (pfd[0].revents & (POLLHUP | POLLERR | POLLNVAL))
				break;
			continue;
		}
		memset(req, 0, lj->notif_size);
		if (ioctl(lj->listener, SECCOMP_IOCTL_NOTIF_RECV, req) == -1) {
			if (errno == EINTR || errno == ENOENT)
				continue; /* the task died first */
			break;
		}
		memset(resp, 0, lj->resp_size);
		handle(lj, req, resp);
		/* ENOENT: the task died or was killed meanwhile. */
		(void)ioctl(lj->listener, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
	return NULL;
}

/* Parses the proxy's numeric address into <lj>.  0 or -1. */
static int
set_proxy(struct landjail *lj, const char *addr, uint16_t port)
{
	if (addr == NULL)
		addr = "127.0.0.1";
	lj->port = port;
	if (inet_pton(AF_INET, addr, &lj->addr4) == 1) {
		lj->family = AF_INET;
		memset(&lj->addr6, 0, sizeof(lj->addr6));
		lj->addr6.s6_addr[10] = 0xff;
		lj->addr6.s6_addr[11] = 0xff;
		memcpy(&lj->addr6.s6_addr[12], &lj->addr4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &lj->addr6) == 1) {
		lj->family = AF_INET6;
		return 0;
	}
	return -1;
}

/*
 * Receives the child's JAIL_MSG_LISTENER with exactly one fd from <sock>,
 * waiting at most LJ_SYNC_TIMEOUT_MS.  Returns the fd (O_CLOEXEC) or -1
 * with j->err set.  A child that failed first (jail_die) sent a
 * JAIL_MSG_ERROR instead: its text becomes j->err.
 */
static int
recv_listener(struct jail *j, int sock)
{
	struct pollfd pfd = {sock, POLLIN, 0};
	struct jail_msg m;
	size_t nfd;
	int fd = -1, r;

	do
		r = poll(&pfd, 1, LJ_SYNC_TIMEOUT_MS);
	while (r == -1 && errno == EINTR);
	if (r == -1) {
		set_err(j, "jail: landjail: poll: %s", strerror(errno));
		return -1;
	}
	if (r == 0) {
		set_err(j,
		    "jail: landjail: no seccomp listener from the "
		    "child after %d ms",
		    LJ_SYNC_TIMEOUT_MS);
		return -1;
	}
	if (jail_recv(sock, &m, &fd, 1, &nfd) == -1) {
		if (errno == EPIPE)
			set_err(j,
			    "jail: landjail: the child ended before sending "
			    "its seccomp listener");
		else
			set_err(j, "jail: landjail: bad message from the child: "
			    "%s", strerror(errno));
		return -1;
	}
	if (m.type == JAIL_MSG_LISTENER && nfd == 1)
		return fd;
	if (nfd == 1)
		close(fd);
	if (m.type == JAIL_MSG_ERROR && nfd == 0)
		set_err(j, "%s", m.text);
	else
		set_err(j,
		    "jail: landjail: bad message from the child "
		    "(type %u, %zu fds)",
		    (unsigned)m.type, nfd);
	return -1;
}

static void
free_lj(struct landjail *lj)
{
	if (lj == NULL)
		return;
	if (lj->listener != -1)
		close(lj->listener);
	lj->listener = -1;
	if (lj->stop_fd != -1)
		close(lj->stop_fd);
	lj->stop_fd = -1;
	free(lj->req);
	free(lj->resp);
	free(lj);
}

int
landjail_parent(struct jail *j)
{
	struct landjail *lj;
	struct seccomp_notif_sizes sizes;
	sigset_t all, old;
	int r;

	if (j->lj != NULL) {
		set_err(j, "jail: landjail: supervisor already running");
		return -1;
	}
	if ((lj = calloc(1, sizeof(*lj))) == NULL) {
		set_err(j, "jail: landjail: %s", strerror(errno));
		return -1;
	}
	lj->listener = -1;
	lj->stop_fd = -1;
	lj->refused = j->refused;
	lj->refused_arg = j->refused_arg;
	if (set_proxy(lj, j->proxy_addr, j->proxy_port) == -1) {
		set_err(j,
		    "jail: landjail: proxy address '%s' is not a "
		    "numeric IPv4 or IPv6 address",
		    j->proxy_addr);
		goto fail;
	}
	if ((lj->listener = recv_listener(j, j->sync[0])) == -1)
		goto fail;
	lj->notif_size = sizeof(struct seccomp_notif);
	lj->resp_size = sizeof(struct seccomp_notif_resp);
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0) {
		if (sizes.seccomp_notif > lj->notif_size)
			lj->notif_size = sizes.seccomp_notif;
		if (sizes.seccomp_notif_resp > lj->resp_size)
			lj->resp_size = sizes.seccomp_notif_resp;
	}
	lj->req = calloc(1, lj->notif_size);
	lj->resp = calloc(1, lj->resp_size);
	if (lj->req == NULL || lj->resp == NULL) {
		set_err(j, "jail: landjail: %s", strerror(errno));
		goto fail;
	}
	if ((lj->stop_fd = eventfd(0, EFD_CLOEXEC)) == -1) {
		set_err(j, "jail: landjail: eventfd: %s", strerror(errno));
		goto fail;
	}
	/* The thread blocks every signal: they stay the event loop's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&lj->thread, NULL, supervise, lj);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		set_err(j, "jail: landjail: pthread_create: %s", strerror(r));
		goto fail;
	}
	lj->running = 1;
	j->lj = lj;
	return 0;
 fail:
	free_lj(lj);
	return -1;
}

void
landjail_stop(struct jail *j)
{
	struct landjail *lj = j->lj;
	uint64_t one = 1;

	if (lj == NULL)
		return;
	j->lj = NULL;
	if (lj->running) {
		/* An eventfd write of 1 fails only on EINTR. */
		while (write(lj->stop_fd, &one, sizeof(one)) == -1 &&
		    errno == EINTR)
			;
		pthread_join(lj->thread, NULL);
		lj->running = 0;
	}
	/* Closing the listener fails the jail's later connect()s (ENOSYS). */
	free_lj(lj);
}
