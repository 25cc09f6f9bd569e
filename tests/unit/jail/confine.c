/*
 * Tests jail/confine.c: every check runs in a forked child that
 * confines itself (a temp dir readable, another writable) and reports
 * through its exit status what one operation gave: 0 for success, else
 * the errno.  Files, the calls serving needs, the calls that must be
 * refused, Landlock alone (TCP bind), thread_only, and the filter's
 * shape.  Controls run the same operations unconfined.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "jail/confine.c"
#include "tests/tap.h"

void test_jail__confine_c(void);

/* The temp tree and the parent's loopback listener. */
static struct {
	char base[64];
	char ro[128], ro_file[160], ro_new[160];
	char rw[128], rw_new[160];
	char out_file[160];
	int lfd; /* listening on 127.0.0.1:lport */
	uint16_t lport;
} fx;

enum mode {
	M_NONE,     /* unconfined: the controls */
	M_FULL,     /* confine_self, whole process */
	M_LANDLOCK, /* no_new_privs + Landlock only */
};

static int
errno_or_0(int failed)
{
	return failed ? (errno > 0 && errno < 200 ? errno : 199) : 0;
}

static void
child_confine(enum mode m)
{
	const char *rd[] = {fx.ro, "/nonexistent/confine-test"};
	const char *wr[] = {fx.rw};
	struct confine_cfg cfg = {rd, 2, wr, 1, 0};
	char err[256], what[96];

	if (m == M_FULL && confine_self(&cfg, err, sizeof(err)) == -1)
		_exit(250);
	if (m == M_LANDLOCK &&
	    (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
	        step_landlock(&cfg, what, sizeof(what), err, sizeof(err)) ==
	            -1))
		_exit(250);
}

/* Runs <fn> in a child confined by <m>: its result, or 1000 + signal. */
static int
run(enum mode m, int (*fn)(void))
{
	pid_t pid;
	int st;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		child_confine(m);
		_exit(fn());
	}
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st))
		return 1000 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* ---- operations: 0 or errno ---------------------------------------------- */

static int
open_close(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0600);

	if (fd == -1)
		return errno_or_0(1);
	close(fd);
	return 0;
}

static int
op_read_ro(void)
{
	char buf[16];
	int fd = open(fx.ro_file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd == -1)
		return errno_or_0(1);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == 5 && memcmp(buf, "hello", 5) == 0 ? 0 : 198;
}

static int
op_list_ro(void)
{
	return open_close(fx.ro, O_RDONLY | O_DIRECTORY);
}

static int
op_write_ro(void)
{
	return open_close(fx.ro_file, O_WRONLY);
}

static int
op_create_ro(void)
{
	return open_close(fx.ro_new, O_WRONLY | O_CREAT | O_EXCL);
}

static int
op_read_out(void)
{
	return open_close(fx.out_file, O_RDONLY);
}

static int
op_create_rw(void)
{
	int r = open_close(fx.rw_new, O_WRONLY | O_CREAT | O_EXCL);

	if (r == 0 && unlink(fx.rw_new) == -1)
		return errno_or_0(1);
	return r;
}

static int
op_urandom(void)
{
	return open_close("/dev/urandom", O_RDONLY);
}

static int
op_execve(void)
{
	char *argv[] = {"true", NULL};
	char *envp[] = {NULL};

	execve("/bin/true", argv, envp);
	return errno_or_0(1);
}

static int
op_ptrace(void)
{
	return errno_or_0(ptrace(PTRACE_TRACEME, 0, NULL, NULL) == -1);
}

static int
op_unshare(void)
{
	return errno_or_0(unshare(CLONE_NEWUSER) == -1);
}

static int
op_mount(void)
{
	return errno_or_0(mount("none", fx.rw, "tmpfs", 0, NULL) == -1);
}

static int
op_clone_ns(void)
{
	long r = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, 0, 0, 0);

	if (r == 0)
		_exit(0);
	if (r > 0) {
		waitpid((pid_t)r, NULL, 0);
		return 0;
	}
	return errno_or_0(1);
}

static int
op_process_vm(void)
{
	char a[8] = "", b[8] = "x";
	struct iovec l = {a, sizeof(a)}, rem = {b, sizeof(b)};

	return errno_or_0(process_vm_readv(getpid(), &l, 1, &rem, 1, 0) == -1);
}

static int
op_io_uring(void)
{
	char params[120];

	memset(params, 0, sizeof(params));
	return errno_or_0(syscall(__NR_io_uring_setup, 1, params) == -1);
}

static int
op_bpf(void)
{
	char attr[64];

	memset(attr, 0, sizeof(attr));
	return errno_or_0(syscall(__NR_bpf, 0, attr, sizeof(attr)) == -1);
}

static int
op_bind(void)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd == -1)
		return 197;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	r = errno_or_0(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1);
	close(fd);
	return r;
}

static int
op_listen(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (fd == -1)
		return 197;
	r = errno_or_0(listen(fd, 1) == -1);
	close(fd);
	return r;
}

/* Connects to the parent's listener, accepts it there, talks. */
static int
op_connect_accept(void)
{
	struct sockaddr_in sin;
	char c = 0;
	int fd, afd, r = 0;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return errno_or_0(1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(fx.lport);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		r = errno_or_0(1);
		close(fd);
		return r;
	}
	afd = accept4(fx.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (afd == -1)
		r = errno_or_0(1);
	else if (send(fd, "x", 1, MSG_NOSIGNAL) != 1 ||
	    recv(afd, &c, 1, 0) != 1 || c != 'x')
		r = 196;
	if (afd != -1)
		close(afd);
	close(fd);
	return r;
}

static int
op_serving_calls(void)
{
	struct epoll_event ev = {EPOLLIN, {0}};
	struct timespec ts;
	uint64_t v = 1;
	unsigned char rnd[16];
	struct rlimit rl;
	int ep, efd, n;
	void *p;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return 101;
	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == -1)
		return 102;
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 103;
	if ((efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		return 104;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == -1)
		return 105;
	if (write(efd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 106;
	if ((n = epoll_wait(ep, &ev, 1, 1000)) != 1)
		return 107;
	if (ioctl(efd, FIONREAD, &n) == -1 && errno == EPERM)
		return 108;
	if (read(efd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 109;
	close(efd);
	close(ep);
	if ((n = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		return 110;
	close(n);
	if ((n = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return 111;
	close(n);
	p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 112;
	if ((p = mremap(p, 1 << 20, 2 << 20, MREMAP_MAYMOVE)) == MAP_FAILED)
		return 113;
	if (mprotect(p, 4096, PROT_READ) == -1)
		return 114;
	if (munmap(p, 2 << 20) == -1)
		return 115;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 116;
	if (kill(getpid(), 0) == -1)
		return 117;
	ts.tv_sec = 0;
	ts.tv_nsec = 1000;
	if (nanosleep(&ts, NULL) == -1)
		return 118;
	if (syscall(SYS_sched_yield) == -1)
		return 119;
	return 0;
}

static int
op_setrlimit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return 198;
	return errno_or_0(setrlimit(RLIMIT_NOFILE, &rl) == -1);
}

static int
op_mmap_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED) {
		munmap(p, 4096);
		return 0;
	}
	return errno_or_0(1);
}

static int
op_mprotect_exec(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int r;

	if (p == MAP_FAILED)
		return 198;
	r = errno_or_0(mprotect(p, 4096, PROT_READ | PROT_EXEC) == -1);
	munmap(p, 4096);
	return r;
}

static int
op_netlink(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);

	if (fd != -1)
		close(fd);
	return errno_or_0(fd == -1);
}

static int
op_tiocsti(void)
{
	char c = 'x';

	return errno_or_0(ioctl(0, TIOCSTI, &c) == -1);
}

static int
op_summary(void)
{
	const char *s = confine_summary();
	int abi = landjail_abi();

	if (strstr(s, "seccomp") == NULL || strstr(s, "no_new_privs") == NULL)
		return 1;
	if (abi > 0 && strstr(s, "landlock abi") == NULL)
		return 2;
	return 0;
}

#if defined(__x86_64__)
/* getpid through the i386 entry: a foreign ABI, killed. */
static int
op_int80(void)
{
	long r = 20; /* i386 __NR_getpid */

	__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
	return r > 0 ? 0 : 195;
}
#endif

/* ---- thread_only ----------------------------------------------------------
 */

static int go[2], done[2];

/* Waits for the word, then opens the file outside the read paths. */
static void *
thread_main(void *arg)
{
	char c;
	int r;

	(void)arg;
	if (read(go[0], &c, 1) != 1)
		return NULL;
	r = op_read_out();
	c = (char)r;
	if (write(done[1], &c, 1) != 1)
		return NULL;
	return NULL;
}

/*
 * In a child: a thread first, then confine_self(thread_only = 1).
 * Exit status: bit 0 the calling thread was refused, bit 1 the older
 * thread was not, bit 2 the calling thread cannot execve; 0x80 setup.
 */
static int
thread_only_child(void)
{
	const char *rd[] = {fx.ro};
	struct confine_cfg cfg = {rd, 1, NULL, 0, 1};
	pthread_t t;
	char err[256], c = 0;
	int r = 0;

	if (pipe(go) == -1 || pipe(done) == -1 ||
	    pthread_create(&t, NULL, thread_main, NULL) != 0)
		return 0x80;
	if (confine_self(&cfg, err, sizeof(err)) == -1)
		return 0x81;
	if (op_read_out() == EACCES)
		r |= 1;
	if (write(go[1], "g", 1) != 1 || read(done[0], &c, 1) != 1)
		return 0x82;
	if (c == 0)
		r |= 2;
	if (op_execve() == EPERM)
		r |= 4;
	pthread_join(t, NULL);
	return r;
}

/* thread_only = 0 with a second thread: refused, nothing applied. */
static int
threads_refused_child(void)
{
	const char *rd[] = {fx.ro};
	struct confine_cfg cfg = {rd, 1, NULL, 0, 0};
	pthread_t t;
	char err[256];
	int r;

	if (pipe(go) == -1 || pipe(done) == -1 ||
	    pthread_create(&t, NULL, thread_main, NULL) != 0)
		return 0x80;
	r = confine_self(&cfg, err, sizeof(err));
	if (write(go[1], "g", 1) != 1)
		return 0x82;
	pthread_join(t, NULL);
	if (r != -1 || strstr(err, "threads") == NULL)
		return 1;
	/* still unconfined: a file outside opens */
	return op_read_out() == 0 ? 0 : 2;
}

/* ---- the tests ------------------------------------------------------------
 */

static int
make_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ssize_t n;

	if (fd == -1)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int
setup(void)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	snprintf(fx.base, sizeof(fx.base), "/tmp/confine-test-XXXXXX");
	if (mkdtemp(fx.base) == NULL)
		return -1;
	snprintf(fx.ro, sizeof(fx.ro), "%s/ro", fx.base);
	snprintf(fx.ro_file, sizeof(fx.ro_file), "%s/ro/f", fx.base);
	snprintf(fx.ro_new, sizeof(fx.ro_new), "%s/ro/new", fx.base);
	snprintf(fx.rw, sizeof(fx.rw), "%s/rw", fx.base);
	snprintf(fx.rw_new, sizeof(fx.rw_new), "%s/rw/new", fx.base);
	snprintf(fx.out_file, sizeof(fx.out_file), "%s/secret", fx.base);
	if (mkdir(fx.ro, 0755) == -1 || mkdir(fx.rw, 0755) == -1 ||
	    make_file(fx.ro_file, "hello") == -1 ||
	    make_file(fx.out_file, "secret") == -1)
		return -1;
	fx.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fx.lfd == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fx.lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fx.lfd, 8) == -1 ||
	    getsockname(fx.lfd, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	fx.lport = ntohs(sin.sin_port);
	return 0;
}

static void
teardown(void)
{
	if (fx.lfd != -1)
		close(fx.lfd);
	unlink(fx.ro_file);
	unlink(fx.ro_new);
	unlink(fx.rw_new);
	unlink(fx.out_file);
	rmdir(fx.ro);
	rmdir(fx.rw);
	rmdir(fx.base);
}

static void
test_controls(void)
{
	/* Unconfined, the refused operations work: the checks can fail. */
	is_int(run(M_NONE, op_read_out), 0, "control: a file outside reads");
	is_int(run(M_NONE, op_write_ro), 0, "control: the ro file writes");
	is_int(run(M_NONE, op_bind), 0, "control: bind works");
	is_int(run(M_NONE, op_mmap_exec), 0, "control: PROT_EXEC maps");
	is_int(run(M_NONE, op_netlink), 0, "control: netlink socket");
}

static void
test_files(void)
{
	if (landjail_abi() < 1) {
		tap_skip("Landlock unavailable: no file checks");
		return;
	}
	is_int(run(M_FULL, op_read_ro), 0, "reads a file in the read dir");
	is_int(run(M_FULL, op_list_ro), 0, "opens the read dir itself");
	is_int(run(M_FULL, op_write_ro), EACCES,
	    "cannot open a file in the read dir for writing");
	is_int(run(M_FULL, op_create_ro), EACCES,
	    "cannot create a file in the read dir");
	is_int(run(M_FULL, op_read_out), EACCES,
	    "cannot read a file outside the read paths");
	is_int(run(M_FULL, op_create_rw), 0,
	    "creates and removes a file in the write dir");
	is_int(run(M_FULL, op_urandom), 0, "/dev/urandom stays readable");
}

static void
test_refused(void)
{
	is_int(run(M_FULL, op_execve), EPERM, "execve refused");
	is_int(run(M_FULL, op_ptrace), EPERM, "ptrace(PTRACE_TRACEME) refused");
	is_int(
	    run(M_FULL, op_unshare), EPERM, "unshare(CLONE_NEWUSER) refused");
	is_int(run(M_FULL, op_mount), EPERM, "mount refused");
	is_int(run(M_FULL, op_clone_ns), EPERM, "clone(CLONE_NEWNET) refused");
	is_int(run(M_FULL, op_process_vm), EPERM, "process_vm_readv refused");
	is_int(run(M_FULL, op_io_uring), ENOSYS, "io_uring_setup: ENOSYS");
	is_int(run(M_FULL, op_bpf), EPERM, "bpf refused");
	is_int(run(M_FULL, op_bind), EPERM, "bind of a TCP socket refused");
	is_int(run(M_FULL, op_listen), EPERM, "listen refused");
	is_int(run(M_FULL, op_mmap_exec), EPERM, "mmap PROT_EXEC refused");
	is_int(
	    run(M_FULL, op_mprotect_exec), EPERM, "mprotect PROT_EXEC refused");
	is_int(run(M_FULL, op_netlink), EPERM, "AF_NETLINK socket refused");
	is_int(run(M_FULL, op_tiocsti), EPERM, "ioctl(TIOCSTI) refused");
	is_int(run(M_FULL, op_setrlimit), EPERM, "setrlimit refused");
#if defined(__x86_64__)
	is_int(run(M_FULL, op_int80), 1000 + SIGSYS,
	    "a call through int $0x80 kills (SIGSYS)");
#endif
}

static void
test_allowed(void)
{
	is_int(run(M_FULL, op_connect_accept), 0,
	    "connect to a loopback listener, accept, send, recv");
	is_int(run(M_FULL, op_serving_calls), 0,
	    "getrandom, clock_gettime, epoll, eventfd, sockets, mmap, "
	    "mremap, getrlimit, kill 0, nanosleep");
	is_int(run(M_FULL, op_summary), 0, "summary names what was applied");
	ok(confine_summary()[0] == '\0', "summary empty before confine_self");
}

static void
test_landlock_alone(void)
{
	int abi = landjail_abi();

	if (abi < CONFINE_ABI_NET) {
		tap_skip("Landlock ABI %d: no TCP rules", abi);
		return;
	}
	is_int(run(M_LANDLOCK, op_bind), EACCES, "Landlock: TCP bind refused");
	is_int(run(M_LANDLOCK, op_connect_accept), 0,
	    "Landlock: TCP connect not restricted");
	is_int(run(M_LANDLOCK, op_read_out), EACCES,
	    "Landlock: a file outside refused");
}

static void
test_threads(void)
{
	if (landjail_abi() < 1) {
		tap_skip("Landlock unavailable: no thread checks");
		return;
	}
	is_int(run(M_NONE, thread_only_child), 7,
	    "thread_only: the caller is confined (refused, no execve), an "
	    "older thread is not");
	is_int(run(M_NONE, threads_refused_child), 0,
	    "whole process with two threads: refused, nothing applied");
}

/* The filter's shape: short jumps, every block ends in a return. */
static void
test_filter(void)
{
	static struct bpf_prog p;
	size_t i;
	int bad = 0;

	is_int(build_filter(&p), 0, "the filter builds");
	ok(p.n > 100 && p.n < BPF_MAX, "%zu instructions", p.n);
	is_int(p.insn[p.n - 1].code, BPF_RET | BPF_K, "ends in a return");
	is_int(p.insn[p.n - 1].k, RET_EPERM, "default: EPERM");
	for (i = 0; i < p.n; i++)
		if (BPF_CLASS(p.insn[i].code) == BPF_JMP &&
		    (i + 1 + p.insn[i].jt >= p.n ||
		        i + 1 + p.insn[i].jf >= p.n))
			bad++;
	is_int(bad, 0, "no jump past the end");
	ok(count_allowed() > 60, "%zu calls allowed", count_allowed());
}

void
test_jail__confine_c(void)
{
	fx.lfd = -1;
	if (!ok(setup() == 0, "setup: temp dirs and a listener")) {
		teardown();
		return;
	}
	subtest("controls", test_controls);
	subtest("files", test_files);
	subtest("refused", test_refused);
	subtest("allowed", test_allowed);
	subtest("landlock alone", test_landlock_alone);
	subtest("threads", test_threads);
	subtest("filter", test_filter);
	teardown();
}
