/*
 * Tests of jail/landjail.c on the running kernel.  Each attempt runs in a
 * forked child that applies landjail_child() and reports the errno of
 * the attempt (0: it worked) as its exit status, while this process runs
 * landjail_parent() and, on loopback, a "proxy" listener on
 * 127.0.0.1:PORT next to traps that no jailed connect may reach:
 * 127.0.0.2:PORT, [::1]:PORT and 127.0.0.1:OTHER.  A drain thread accepts
 * on all of them, counts, and echoes on the proxy.  Control connections
 * from this process show that every trap is reachable without the jail.
 *
 * Some attempts also run with one layer alone: seccomp (MODE_SUPERVISOR),
 * where the supervisor must enforce the proxy address by itself, and
 * Landlock (MODE_LANDLOCK), which must refuse the target every TCP
 * connect of its own.  An fd-swap race shows why: it gets past the
 * supervisor alone and past a Landlock rule for the proxy port
 * (MODE_PORT_RULE, reported as diagnostics: a race), never past the jail.
 *
 * The children use plain libc calls; under ASan they stay clear of
 * anything the filter refuses and leave with _exit (no leak check).
 */
#include "jail/landjail.c"

#include <grp.h>
#include <netdb.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "tests/tap.h"

void test_jail__landjail_c(void);

enum mode {
	MODE_FULL,       /* landjail_child: the real thing */
	MODE_SUPERVISOR, /* no_new_privs + seccomp only: no Landlock */
	MODE_LANDLOCK,   /* no_new_privs + Landlock only: no seccomp */
	MODE_PORT_RULE,  /* seccomp + Landlock allowing the proxy port */
};

#define CHILD_TIMEOUT_MS 30000
#define RACE_ROUNDS 400
#define EXIT_SETUP 250 /* the child could not set up its attempt */
#define EXIT_JAIL 251  /* landjail_child failed */

enum trap {
	T_PROXY, /* 127.0.0.1:port */
	T_TRAP4, /* 127.0.0.2:port */
	T_TRAP6, /* [::1]:port, IPv6 only; -1 when there is no IPv6 */
	T_OTHER, /* 127.0.0.1:other */
	T_COUNT
};

static int lfd[T_COUNT] = {-1, -1, -1, -1};
static atomic_int accepted[T_COUNT];
static atomic_int drain_busy;
static int drain_stop = -1;
static uint16_t port, other_port;
static int abi;
static int unix_path_fd = -1, unix_abs_fd = -1;
static char unix_path[64];
static char abs_name[48]; /* "\0boundary-landjail-PID" */
static size_t abs_len;

/* Results of the attempts that count: in memory shared with the child. */
struct shared {
	int ok, denied, other;
};
static struct shared *sh;

/* ---- listeners and the drain thread -------------------------------------- */

static int
listen_on(int family, const char *addr, uint16_t p, uint16_t *bound)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(p);
		inet_pton(AF_INET, addr, &in->sin_addr);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(p);
		inet_pton(AF_INET6, addr, &in6->sin6_addr);
		len = sizeof(*in6);
	}
	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 512) == -1) {
		close(fd);
		return -1;
	}
	if (bound != NULL) {
		len = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &len);
		*bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	}
	return fd;
}

/* Serves one accepted connection: echo on the proxy, close on a trap. */
static void
serve(int t, int c)
{
	struct pollfd p = {c, POLLIN, 0};
	char buf[64];
	ssize_t n;

	if (t == T_PROXY && poll(&p, 1, 2000) == 1 &&
	    (n = read(c, buf, sizeof(buf))) > 0)
		(void)!write(c, buf, (size_t)n);
	close(c);
}

static void *
drain(void *arg)
{
	struct pollfd p[T_COUNT + 1];
	int i, c;

	(void)arg;
	for (;;) {
		for (i = 0; i < T_COUNT; i++) {
			p[i].fd = lfd[i];
			p[i].events = POLLIN;
		}
		p[T_COUNT].fd = drain_stop;
		p[T_COUNT].events = POLLIN;
		if (poll(p, T_COUNT + 1, -1) == -1)
			continue;
		if (p[T_COUNT].revents)
			break;
		atomic_store(&drain_busy, 1);
		for (i = 0; i < T_COUNT; i++) {
			if (!(p[i].revents & POLLIN))
				continue;
			if ((c = accept4(lfd[i], NULL, NULL, SOCK_CLOEXEC)) ==
			    -1)
				continue;
			atomic_fetch_add(&accepted[i], 1);
			serve(i, c);
		}
		atomic_store(&drain_busy, 0);
	}
	return NULL;
}

/* Waits until the drain thread has taken every pending connection. */
static void
settle(void)
{
	struct pollfd p[T_COUNT];
	int i, tries;

	for (tries = 0; tries < 500; tries++) {
		for (i = 0; i < T_COUNT; i++) {
			p[i].fd = lfd[i];
			p[i].events = POLLIN;
		}
		if (poll(p, T_COUNT, 0) == 0 && !atomic_load(&drain_busy))
			return;
		usleep(10 * 1000);
	}
}

/* ---- attempts, run in the jailed child ----------------------------------- */

static void
sa4(struct sockaddr_in *in, const char *addr, uint16_t p)
{
	memset(in, 0, sizeof(*in));
	in->sin_family = AF_INET;
	in->sin_port = htons(p);
	inet_pton(AF_INET, addr, &in->sin_addr);
}

static void
sa6(struct sockaddr_in6 *in6, const char *addr, uint16_t p)
{
	memset(in6, 0, sizeof(*in6));
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(p);
	inet_pton(AF_INET6, addr, &in6->sin6_addr);
}

/* connect() of a new TCP socket: 0 or errno. */
static int
tcp_connect(int family, const char *addr, uint16_t p)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, r;

	if (family == AF_INET) {
		sa4((struct sockaddr_in *)&ss, addr, p);
		len = sizeof(struct sockaddr_in);
	} else {
		sa6((struct sockaddr_in6 *)&ss, addr, p);
		len = sizeof(struct sockaddr_in6);
	}
	if ((fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return errno;
	r = connect(fd, (struct sockaddr *)&ss, len) == -1 ? errno : 0;
	close(fd);
	return r;
}

static int
a_proxy_echo(void)
{
	struct sockaddr_in in;
	struct pollfd p;
	char c = 0;
	int fd;

	sa4(&in, "127.0.0.1", port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return errno;
	if (connect(fd, (struct sockaddr *)&in, sizeof(in)) == -1)
		return errno;
	if (write(fd, "x", 1) != 1)
		return EIO;
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, 5000) != 1 || read(fd, &c, 1) != 1 || c != 'x')
		return ETIMEDOUT;
	close(fd);
	return 0;
}

static int
a_proxy_nonblocking(void)
{
	struct sockaddr_in in;
	struct pollfd p;
	socklen_t len = sizeof(int);
	int fd, e = 0;

	sa4(&in, "127.0.0.1", port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1)
		return errno;
	if (connect(fd, (struct sockaddr *)&in, sizeof(in)) == -1) {
		if (errno != EINPROGRESS)
			return errno;
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, 5000) != 1)
			return ETIMEDOUT;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) == -1)
			return errno;
	}
	close(fd);
	return e;
}

static int
a_proxy_mapped(void)
{
	return tcp_connect(AF_INET6, "::ffff:127.0.0.1", port);
}

/* A target that forbids ptrace access to itself: we cannot check it. */
static int
a_undumpable(void)
{
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		return EXIT_SETUP;
	return tcp_connect(AF_INET, "127.0.0.1", port);
}

static int
a_trap4(void)
{
	return tcp_connect(AF_INET, "127.0.0.2", port);
}

static int
a_trap6(void)
{
	return tcp_connect(AF_INET6, "::1", port);
}

static int
a_trap_mapped(void)
{
	return tcp_connect(AF_INET6, "::ffff:127.0.0.2", port);
}

static int
a_other_port(void)
{
	return tcp_connect(AF_INET, "127.0.0.1", other_port);
}

static int
a_any_addr(void)
{
	return tcp_connect(AF_INET, "0.0.0.0", port);
}

static int
a_bind_listen(void)
{
	struct sockaddr_in in;
	int fd;

	sa4(&in, "127.0.0.1", 0);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return errno;
	if (bind(fd, (struct sockaddr *)&in, sizeof(in)) == -1)
		return errno;
	return listen(fd, 1) == -1 ? errno : 0;
}

static int
a_listen_nobind(void)
{
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return errno;
	return listen(fd, 1) == -1 ? errno : 0;
}

/* A Unix server inside the jail: bind, listen (by the supervisor), accept. */
static int
a_unix_server(void)
{
	struct sockaddr_un un;
	int l, c, a;

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s.srv", unix_path);
	unlink(un.sun_path);
	if ((l = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    (c = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return errno;
	if (bind(l, (struct sockaddr *)&un, sizeof(un)) == -1 ||
	    listen(l, 4) == -1 ||
	    connect(c, (struct sockaddr *)&un, sizeof(un)) == -1 ||
	    (a = accept(l, NULL, NULL)) == -1) {
		a = errno;
		unlink(un.sun_path);
		return a;
	}
	unlink(un.sun_path);
	return 0;
}

static int
socket_errno(int family, int type, int proto)
{
	int fd = socket(family, type, proto);

	if (fd == -1)
		return errno;
	close(fd);
	return 0;
}

static int
a_udp(void)
{
	return socket_errno(AF_INET, SOCK_DGRAM, 0);
}

static int
a_udp6(void)
{
	return socket_errno(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0);
}

static int
a_raw(void)
{
	return socket_errno(AF_INET, SOCK_RAW, IPPROTO_ICMP);
}

static int
a_packet(void)
{
	return socket_errno(AF_PACKET, SOCK_RAW, 0);
}

static int
a_seqpacket(void)
{
	return socket_errno(AF_INET, SOCK_SEQPACKET, 0);
}

static int
a_mptcp(void)
{
	return socket_errno(AF_INET, SOCK_STREAM, 262 /* IPPROTO_MPTCP */);
}

static int
a_stream_flags(void)
{
	/* a type bit the kernel does not know: refused, never ignored */
	return socket_errno(AF_INET, SOCK_STREAM | 0x100, 0);
}

static int
a_vsock(void)
{
	return socket_errno(AF_VSOCK, SOCK_STREAM, 0);
}

static int
a_io_uring(void)
{
	char params[120]; /* struct io_uring_params */

	memset(params, 0, sizeof(params));
	if (syscall(__NR_io_uring_setup, 4, params) == -1)
		return errno;
	return 0;
}

static int
a_fastopen_sendto(void)
{
	struct sockaddr_in in;
	int fd, r;

	sa4(&in, "127.0.0.2", port);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return errno;
	r = sendto(fd, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&in,
	        sizeof(in)) == -1
	    ? errno
	    : 0;
	close(fd);
	return r;
}

static int
a_fastopen_sendmsg(void)
{
	struct sockaddr_in in;
	struct iovec iov = {(void *)"x", 1};
	struct msghdr mh;
	int fd;

	sa4(&in, "127.0.0.2", port);
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &in;
	mh.msg_namelen = sizeof(in);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return errno;
	if (sendmsg(fd, &mh, MSG_FASTOPEN | MSG_NOSIGNAL) == -1)
		return errno;
	return 0;
}

static int
a_int80(void)
{
	long r = 20; /* i386 getpid */

	__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
	return 0; /* not reached under the filter */
}

static int
a_x32(void)
{
	if (syscall(__X32_SYSCALL_BIT | __NR_getpid) == -1)
		return errno;
	return 0;
}

static int
a_abstract_unix(void)
{
	struct sockaddr_un un;
	int fd;

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, abs_name, abs_len);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return errno;
	if (connect(fd, (struct sockaddr *)&un,
	        (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	            abs_len)) == -1)
		return errno;
	return 0;
}

static int
a_kill_outside(void)
{
	return kill(getppid(), 0) == -1 ? errno : 0;
}

static int
a_path_unix(void)
{
	struct sockaddr_un un;
	int fd;

	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", unix_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return errno;
	if (connect(fd, (struct sockaddr *)&un, sizeof(un)) == -1)
		return errno;
	close(fd);
	return 0;
}

static int
a_socketpair(void)
{
	int sv[2];
	char c = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return errno;
	if (write(sv[0], "y", 1) != 1 || read(sv[1], &c, 1) != 1 || c != 'y')
		return EIO;
	return 0;
}

static int
a_netlink(void)
{
	return socket_errno(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
}

static int
a_getaddrinfo(void)
{
	struct addrinfo hints, *res;
	int r, lo = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if ((r = getaddrinfo("localhost", "80", &hints, &res)) != 0)
		return r == EAI_SYSTEM ? errno : EHOSTUNREACH;
	if (res->ai_family == AF_INET)
		lo = ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr ==
		    htonl(INADDR_LOOPBACK);
	else if (res->ai_family == AF_INET6)
		lo = IN6_IS_ADDR_LOOPBACK(
		    &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr);
	freeaddrinfo(res);
	return lo ? 0 : EADDRNOTAVAIL;
}

/* ---- races --------------------------------------------------------------- */

static struct sockaddr_in race_sa;
static atomic_int race_stop;

static void *
flip_addr(void *arg)
{
	volatile uint32_t *a = (volatile uint32_t *)&race_sa.sin_addr.s_addr;
	uint32_t good = htonl(0x7f000001), bad = htonl(0x7f000002);

	(void)arg;
	volatile int spin;

	while (!atomic_load_explicit(&race_stop, memory_order_relaxed)) {
		*a = bad;
		for (spin = 0; spin < 20; spin++)
			;
		*a = good;
		for (spin = 0; spin < 20; spin++)
			;
	}
	return NULL;
}

/*
 * Connects RACE_ROUNDS times while another thread flips the address
 * between the proxy and the trap; counts the outcomes in *sh.
 */
static int
a_flip_addr(void)
{
	pthread_t t;
	int i, fd;

	sa4(&race_sa, "127.0.0.1", port);
	if (pthread_create(&t, NULL, flip_addr, NULL) != 0)
		return EXIT_SETUP;
	for (i = 0; i < RACE_ROUNDS; i++) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return errno;
		if (connect(fd, (struct sockaddr *)&race_sa, sizeof(race_sa)) ==
		    0)
			sh->ok++;
		else if (errno == EACCES)
			sh->denied++;
		else
			sh->other++;
		close(fd);
	}
	atomic_store(&race_stop, 1);
	pthread_join(t, NULL);
	return 0;
}

static int swap_fd = 100, swap_unix = -1;
static atomic_int swap_inet = -1;

static void *
swap_sockets(void *arg)
{
	(void)arg;
	while (!atomic_load_explicit(&race_stop, memory_order_relaxed)) {
		dup2(swap_unix, swap_fd);
		dup2(atomic_load(&swap_inet), swap_fd);
	}
	return NULL;
}

/*
 * The fd-swap race: one thread keeps replacing fd swap_fd by a Unix
 * socket (whose connect() the supervisor lets continue) and a TCP socket
 * (a fresh one after each that got connected), while this one connects
 * swap_fd to the trap.
 */
static int
a_swap_fd(void)
{
	struct sockaddr_in in;
	pthread_t t;
	int i, old;

	if ((swap_unix = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    (old = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return errno;
	atomic_store(&swap_inet, old);
	dup2(swap_unix, swap_fd);
	sa4(&in, "127.0.0.2", port);
	if (pthread_create(&t, NULL, swap_sockets, NULL) != 0)
		return EXIT_SETUP;
	for (i = 0; i < RACE_ROUNDS * 5; i++) {
		if (connect(swap_fd, (struct sockaddr *)&in, sizeof(in)) == 0) {
			sh->ok++;
			old = atomic_exchange(
			    &swap_inet, socket(AF_INET, SOCK_STREAM, 0));
			(void)old; /* still dup'ed to swap_fd: leak it */
		} else if (errno == EACCES)
			sh->denied++;
		else
			sh->other++;
	}
	atomic_store(&race_stop, 1);
	pthread_join(t, NULL);
	return 0;
}

/*
 * A second seccomp listener of the target's own could CONTINUE connect()
 * before our supervisor sees it (for equal actions the newest filter
 * wins); the kernel allows one listener per filter chain.
 */
static int
a_second_listener(void)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {1, f};

	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
	        SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog) == -1)
		return errno;
	return 0;
}

/*
 * The variant landjail.c does not use: Landlock with a rule that lets
 * the target connect to the proxy port itself.
 */
static int
port_rule(void)
{
	struct ll_ruleset_attr attr = {0,
	    LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP, 0};
	struct ll_net_port_attr rule = {LANDLOCK_ACCESS_NET_CONNECT_TCP, port};
	int fd;

	fd = (int)syscall(SYS_landlock_create_ruleset, &attr,
	    offsetof(struct ll_ruleset_attr, scoped), 0);
	if (fd == -1 ||
	    syscall(SYS_landlock_add_rule, fd, LANDLOCK_RULE_NET_PORT, &rule,
	        0) == -1 ||
	    syscall(SYS_landlock_restrict_self, fd, 0) == -1)
		return -1;
	close(fd);
	return 0;
}

/* ---- running jailed children --------------------------------------------- */

/*
 * Runs <fn> in a child jailed per <mode> under a supervisor of ours;
 * returns the child's wait status, or -1 when landjail_parent failed.
 */
static int
run_jailed(int (*fn)(void), enum mode mode)
{
	struct jail j;
	struct pollfd p;
	int status = -1, pidfd, r;
	pid_t pid;

	memset(&j, 0, sizeof(j));
	j.type = JAIL_LANDJAIL;
	j.proxy_port = port;
	j.proxy_addr = "127.0.0.1";
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, j.sync) == -1)
		return -1;
	memset(sh, 0, sizeof(*sh));
	if ((pid = fork()) == 0) {
		close(j.sync[0]);
		if (mode == MODE_FULL)
			r = landjail_child(&j);
		else if (mode == MODE_SUPERVISOR)
			r = step_no_new_privs(&j) == -1 ? -1 : step_seccomp(&j);
		else if (mode == MODE_LANDLOCK)
			r = step_no_new_privs(&j) == -1 ? -1
			                                : step_landlock(&j);
		else if (step_no_new_privs(&j) == -1 || port_rule() == -1)
			r = -1;
		else
			r = step_seccomp(&j);
		if (r == -1) {
			fprintf(stderr, "# child: %s\n", j.err);
			_exit(EXIT_JAIL);
		}
		_exit(fn());
	}
	close(j.sync[1]);
	if (pid == -1) {
		close(j.sync[0]);
		return -1;
	}
	r = mode == MODE_LANDLOCK ? 0 : landjail_parent(&j);
	if (r == -1)
		tap_diag("landjail_parent: %s", j.err);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	p.fd = pidfd;
	p.events = POLLIN;
	if (pidfd != -1 && poll(&p, 1, CHILD_TIMEOUT_MS) != 1) {
		tap_diag("child %d hangs: killed", (int)pid);
		kill(pid, SIGKILL);
	}
	waitpid(pid, &status, 0);
	if (pidfd != -1)
		close(pidfd);
	landjail_stop(&j);
	landjail_stop(&j); /* idempotent */
	close(j.sync[0]);
	settle();
	return r == -1 ? -1 : status;
}

/* The errno the attempt reported, or a value no errno has. */
static int
jailed(int (*fn)(void), enum mode mode)
{
	int st = run_jailed(fn, mode);

	if (st == -1)
		return -1;
	if (WIFSIGNALED(st))
		return 1000 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* ---- tests --------------------------------------------------------------- */

static int
setup(void)
{
	int i, one = 1;
	struct sockaddr_un un;
	pthread_t t;

	for (i = 0; i < 20 && lfd[T_TRAP4] == -1; i++) {
		if (lfd[T_PROXY] != -1)
			close(lfd[T_PROXY]);
		lfd[T_PROXY] = listen_on(AF_INET, "127.0.0.1", 0, &port);
		if (lfd[T_PROXY] == -1)
			return -1;
		lfd[T_TRAP4] = listen_on(AF_INET, "127.0.0.2", port, NULL);
	}
	lfd[T_OTHER] = listen_on(AF_INET, "127.0.0.1", 0, &other_port);
	lfd[T_TRAP6] = listen_on(AF_INET6, "::1", port, NULL);
	if (lfd[T_TRAP4] == -1 || lfd[T_OTHER] == -1)
		return -1;

	snprintf(unix_path, sizeof(unix_path), "/tmp/landjail-test-%d.sock",
	    (int)getpid());
	abs_len = 1 +
	    (size_t)snprintf(abs_name + 1, sizeof(abs_name) - 1,
	        "boundary-landjail-%d", (int)getpid());
	unlink(unix_path);
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, unix_path, strlen(unix_path));
	unix_path_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(unix_path_fd, (struct sockaddr *)&un, sizeof(un)) == -1 ||
	    listen(unix_path_fd, 64) == -1)
		return -1;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, abs_name, abs_len);
	unix_abs_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(unix_abs_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(unix_abs_fd, (struct sockaddr *)&un,
	        (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	            abs_len)) == -1 ||
	    listen(unix_abs_fd, 64) == -1)
		return -1;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -1;
	if ((drain_stop = eventfd(0, EFD_CLOEXEC)) == -1)
		return -1;
	if (pthread_create(&t, NULL, drain, NULL) != 0)
		return -1;
	pthread_detach(t);
	return 0;
}

static void
teardown(void)
{
	uint64_t one = 1;
	int i;

	if (drain_stop != -1)
		(void)!write(drain_stop, &one, sizeof(one));
	usleep(50 * 1000);
	for (i = 0; i < T_COUNT; i++)
		if (lfd[i] != -1) {
			close(lfd[i]);
			lfd[i] = -1;
		}
	if (unix_path_fd != -1)
		close(unix_path_fd);
	if (unix_abs_fd != -1)
		close(unix_abs_fd);
	unlink(unix_path);
	if (drain_stop != -1)
		close(drain_stop);
	if (sh != NULL && sh != MAP_FAILED)
		munmap(sh, sizeof(*sh));
}

/* Each trap answers this process: the denials below mean something. */
static void
test_controls(void)
{
	int before = atomic_load(&accepted[T_TRAP4]);

	is_int(tcp_connect(AF_INET, "127.0.0.2", port), 0,
	    "control: 127.0.0.2:PORT is reachable without the jail");
	is_int(tcp_connect(AF_INET, "127.0.0.1", other_port), 0,
	    "control: 127.0.0.1:OTHER is reachable without the jail");
	is_int(tcp_connect(AF_INET6, "::ffff:127.0.0.2", port), 0,
	    "control: ::ffff:127.0.0.2 is reachable without the jail");
	if (lfd[T_TRAP6] != -1)
		is_int(tcp_connect(AF_INET6, "::1", port), 0,
		    "control: [::1]:PORT is reachable without the jail");
	is_int(a_fastopen_sendto(), 0,
	    "control: MSG_FASTOPEN connects without the jail");
	settle();
	is_int(atomic_load(&accepted[T_TRAP4]) - before, 3,
	    "control: the trap accepted those 3 connections");
}

static void
test_allowed(enum mode m, const char *name)
{
	int before = atomic_load(&accepted[T_PROXY]);

	is_int(jailed(a_proxy_echo, m), 0,
	    "%s: blocking connect to the proxy, echo through it", name);
	is_int(jailed(a_proxy_nonblocking, m), 0,
	    "%s: non-blocking connect to the proxy", name);
	is_int(jailed(a_proxy_mapped, m), 0,
	    "%s: AF_INET6 connect to ::ffff:127.0.0.1 (the proxy)", name);
	is_int(atomic_load(&accepted[T_PROXY]) - before, 3,
	    "%s: the proxy accepted all 3", name);
}

static void
test_denied_dest(enum mode m, const char *name)
{
	int before = atomic_load(&accepted[T_TRAP4]) +
	    atomic_load(&accepted[T_TRAP6]) + atomic_load(&accepted[T_OTHER]);

	is_int(jailed(a_trap4, m), EACCES, "%s: 127.0.0.2:PORT refused", name);
	is_int(jailed(a_other_port, m), EACCES, "%s: 127.0.0.1:OTHER refused",
	    name);
	is_int(jailed(a_trap_mapped, m), EACCES,
	    "%s: ::ffff:127.0.0.2:PORT refused", name);
	is_int(jailed(a_any_addr, m), EACCES, "%s: 0.0.0.0:PORT refused", name);
	if (lfd[T_TRAP6] != -1)
		is_int(
		    jailed(a_trap6, m), EACCES, "%s: [::1]:PORT refused", name);
	else
		tap_skip("no IPv6 loopback for the [::1] trap");
	is_int(atomic_load(&accepted[T_TRAP4]) +
	        atomic_load(&accepted[T_TRAP6]) +
	        atomic_load(&accepted[T_OTHER]) - before,
	    0, "%s: no trap accepted anything", name);
}

static void
test_flip_addr(enum mode m, const char *name)
{
	int trap = atomic_load(&accepted[T_TRAP4]);
	int proxy = atomic_load(&accepted[T_PROXY]);

	is_int(jailed(a_flip_addr, m), 0, "%s: address-flip race ran", name);
	is_int(atomic_load(&accepted[T_TRAP4]) - trap, 0,
	    "%s: flipped address: the trap accepted nothing", name);
	is_int(atomic_load(&accepted[T_PROXY]) - proxy, sh->ok,
	    "%s: every connect that worked went to the proxy", name);
	is_int(sh->ok + sh->denied, RACE_ROUNDS,
	    "%s: each connect went to the proxy or got EACCES (other: %d)",
	    name, sh->other);
	tap_diag("%s: %d to the proxy, %d refused", name, sh->ok, sh->denied);
}

static void
test_side_doors(void)
{
	is_int(jailed(a_bind_listen, MODE_FULL), EACCES, "TCP bind refused");
	is_int(jailed(a_udp, MODE_FULL), EPERM, "UDP socket refused");
	is_int(jailed(a_udp6, MODE_FULL), EPERM, "UDP6 socket refused");
	is_int(jailed(a_raw, MODE_FULL), EPERM, "raw socket refused");
	is_int(jailed(a_packet, MODE_FULL), EPERM, "packet socket refused");
	is_int(jailed(a_seqpacket, MODE_FULL), EPERM,
	    "AF_INET SOCK_SEQPACKET (SCTP) refused");
	is_int(jailed(a_mptcp, MODE_FULL), EPERM, "IPPROTO_MPTCP refused");
	is_int(jailed(a_stream_flags, MODE_FULL), EPERM,
	    "SOCK_STREAM with an unknown type bit refused");
	is_int(jailed(a_vsock, MODE_FULL), EPERM, "AF_VSOCK refused");
	is_int(jailed(a_io_uring, MODE_FULL), ENOSYS, "io_uring_setup: ENOSYS");
	is_int(jailed(a_fastopen_sendto, MODE_FULL), EPERM,
	    "sendto MSG_FASTOPEN refused");
	is_int(jailed(a_fastopen_sendmsg, MODE_FULL), EPERM,
	    "sendmsg MSG_FASTOPEN refused");
	is_int(jailed(a_int80, MODE_FULL), 1000 + SIGSYS,
	    "i386 syscall (int $0x80): killed by SIGSYS");
	is_int(jailed(a_x32, MODE_FULL), ENOSYS, "x32 syscall: ENOSYS");
	if (abi >= LJ_ABI_SCOPE) {
		is_int(jailed(a_abstract_unix, MODE_FULL), EPERM,
		    "abstract Unix socket outside the jail refused");
		is_int(jailed(a_kill_outside, MODE_FULL), EPERM,
		    "signal to a process outside the jail refused");
	} else {
		tap_skip("Landlock ABI %d < %d: no scoping", abi, LJ_ABI_SCOPE);
		tap_skip("Landlock ABI %d < %d: no scoping", abi, LJ_ABI_SCOPE);
	}
}

static void
test_still_works(void)
{
	is_int(jailed(a_socketpair, MODE_FULL), 0, "AF_UNIX socketpair works");
	is_int(jailed(a_path_unix, MODE_FULL), 0,
	    "connect to a pathname Unix socket works");
	is_int(jailed(a_unix_server, MODE_FULL), 0,
	    "a Unix server in the jail works (bind, listen, accept)");
	is_int(jailed(a_netlink, MODE_FULL), 0, "netlink socket works");
	is_int(jailed(a_getaddrinfo, MODE_FULL), 0,
	    "getaddrinfo(\"localhost\") works");
}

/*
 * Landlock alone refuses every TCP connect of the target, the proxy's
 * too: what keeps the fd-swap race harmless.  The race itself runs with
 * and without Landlock; without, some swaps may get through (not
 * asserted: it is a race), with it none may.
 */
static void
test_landlock_backstop(void)
{
	int trap;

	is_int(jailed(a_proxy_echo, MODE_LANDLOCK), EACCES,
	    "Landlock alone: even the proxy is refused to the target itself");
	is_int(jailed(a_listen_nobind, MODE_LANDLOCK), 0,
	    "Landlock alone: listen() without bind() is not seen");
	is_int(jailed(a_listen_nobind, MODE_FULL), EACCES,
	    "jail: listen() on a TCP socket refused by the supervisor");
	is_int(jailed(a_second_listener, MODE_FULL), EBUSY,
	    "jail: no second seccomp listener (EBUSY)");

	trap = atomic_load(&accepted[T_TRAP4]);
	is_int(jailed(a_swap_fd, MODE_SUPERVISOR), 0,
	    "supervisor alone: fd-swap race ran");
	tap_diag("fd swap without Landlock: %d reached the trap, %d refused, "
	         "%d other",
	    atomic_load(&accepted[T_TRAP4]) - trap, sh->denied, sh->other);

	trap = atomic_load(&accepted[T_TRAP4]);
	is_int(jailed(a_swap_fd, MODE_PORT_RULE), 0,
	    "proxy-port rule: fd-swap race ran");
	tap_diag("fd swap with a proxy-port rule: %d reached the trap",
	    atomic_load(&accepted[T_TRAP4]) - trap);

	trap = atomic_load(&accepted[T_TRAP4]);
	is_int(jailed(a_swap_fd, MODE_FULL), 0, "jail: fd-swap race ran");
	tap_diag("fd swap: %d connected, %d refused, %d other", sh->ok,
	    sh->denied, sh->other);
	is_int(sh->ok, 0, "jail: fd swap: no connect succeeded");
	is_int(atomic_load(&accepted[T_TRAP4]) - trap, 0,
	    "jail: fd swap: the trap accepted nothing");
}

/*
 * boundary as an unprivileged user: the supervisor may still duplicate
 * its child's sockets and read its memory (same uid, a descendant).
 */
static void
test_unprivileged(void)
{
	int st, a, b, c;
	pid_t pid;

	if (geteuid() != 0) {
		tap_skip("not root: the whole test already runs unprivileged");
		return;
	}
	if ((pid = fork()) == 0) {
		/* setuid() made us undumpable; a user's shell is not */
		if (setgroups(0, NULL) == -1 || setgid(65534) == -1 ||
		    setuid(65534) == -1 ||
		    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) == -1)
			_exit(EXIT_SETUP);
		a = jailed(a_proxy_echo, MODE_FULL);
		b = jailed(a_trap4, MODE_FULL);
		c = jailed(a_undumpable, MODE_FULL);
		if (a != 0 || b != EACCES || c != EACCES)
			tap_diag(
			    "as uid 65534: proxy %d, trap %d, undumpable %d", a,
			    b, c);
		_exit(a == 0 && b == EACCES && c == EACCES ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "as uid 65534: the proxy is reached, the trap refused, and an "
	    "undumpable target (closed to the supervisor) is refused too "
	    "(status %d)",
	    st);
}

/* Our message, but with two fds (stdin twice). */
static int
send_two(int sock)
{
	struct jail_msg m;
	int fds[2] = {0, 0};

	memset(&m, 0, sizeof(m));
	m.type = JAIL_MSG_LISTENER;
	m.value = 4;
	return jail_send(sock, &m, fds, 2);
}

static void
test_parent_errors(void)
{
	struct jail j;
	struct jail_msg jm;
	int sv[2];

	memset(&j, 0, sizeof(j));
	j.proxy_port = port;
	j.proxy_addr = "localhost";
	j.sync[0] = -1;
	ok(landjail_parent(&j) == -1 && strstr(j.err, "numeric") != NULL,
	    "a proxy name instead of an address is refused: %s", j.err);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return;
	j.proxy_addr = "127.0.0.1";
	j.sync[0] = sv[0];
	close(sv[1]);
	ok(landjail_parent(&j) == -1 && strstr(j.err, "ended") != NULL &&
	        j.lj == NULL,
	    "a child that dies first is reported: %s", j.err);
	close(sv[0]);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return;
	j.sync[0] = sv[0];
	memset(&jm, 0, sizeof(jm));
	jm.type = JAIL_MSG_ERROR;
	snprintf(jm.text, sizeof(jm.text), "jail: landlock: nope");
	(void)!write(sv[1], &jm, sizeof(jm));
	ok(landjail_parent(&j) == -1 &&
	        strcmp(j.err, "jail: landlock: nope") == 0,
	    "a jail_die() reason instead of the listener is kept: %s", j.err);
	close(sv[0]);
	close(sv[1]);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return;
	j.sync[0] = sv[0];
	ok(send_two(sv[1]) == 0 && landjail_parent(&j) == -1 &&
	        strstr(j.err, "bad message") != NULL && j.lj == NULL,
	    "a message with two fds is refused: %s", j.err);
	close(sv[0]);
	close(sv[1]);
	landjail_stop(&j);
	ok(j.lj == NULL, "landjail_stop without a supervisor is a no-op");
}

static void
test_filter(void)
{
	struct bpf_asm b;
	int n = build_filter(&b);

	ok(n > 0 && (size_t)n == b.p.n && b.p.n <= BPF_MAX,
	    "the filter assembles (%d instructions)", n);
}

static int
count_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

void
test_jail__landjail_c(void)
{
	int nfds;

	const char *must = getenv("BOUNDARY_MUST_WORK");

	test_filter();
	abi = landjail_abi();
	if (abi < LJ_ABI_NET) {
		if (must != NULL && strcmp(must, "1") == 0)
			ok(0, "Landlock ABI %d, landjail needs %d", abi,
			    LJ_ABI_NET);
		else
			tap_skip("Landlock ABI %d < %d: landjail unavailable",
			    abi, LJ_ABI_NET);
		return;
	}
	nfds = count_fds();
	if (setup() == -1) {
		ok(0, "test setup: %s", strerror(errno));
		teardown();
		return;
	}
	tap_diag("Landlock ABI %d, proxy port %u", abi, port);
	test_parent_errors();
	test_controls();
	test_allowed(MODE_FULL, "jail");
	test_denied_dest(MODE_FULL, "jail");
	test_side_doors();
	test_still_works();
	test_allowed(MODE_SUPERVISOR, "supervisor alone");
	test_denied_dest(MODE_SUPERVISOR, "supervisor alone");
	test_flip_addr(MODE_SUPERVISOR, "supervisor alone");
	test_flip_addr(MODE_FULL, "jail");
	test_landlock_backstop();
	test_unprivileged();
	teardown();
	is_int(count_fds(), nfds, "no fd left open by the supervisors");
}
