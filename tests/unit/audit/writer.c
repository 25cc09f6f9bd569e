/*
 * Tests of audit/writer.c with a private libev loop: sequence numbers dense
 * from 0; records reach a pipe and a regular file complete and in order;
 * the text sink's level filter; a pipe nobody reads never blocks
 * audit_emit, and what could not be kept is counted and reported at
 * flush; flush writes the backlog once the reader comes back; a broken
 * pipe fails the sink and is reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit/writer.c"

#include "tests/tap.h"

void test_audit__writer_c(void);

static struct audit a;
static struct audit_rec rec;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
opts_init(struct audit_opts *o, struct ev_loop *loop)
{
	memset(o, 0, sizeof(*o));
	o->loop = loop;
	o->text_fd = -1;
	o->json_fd = -1;
	o->level = AUDIT_LEVEL_INFO;
}

static void
mkpipe(int p[2])
{
	if (pipe2(p, O_CLOEXEC) == -1)
		abort();
	fcntl(p[0], F_SETFL, O_NONBLOCK);
}

/* Reads what is available now (the fd is non-blocking) into <buf>. */
static size_t
drain(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)r;
	return n;
}

static void
spin(struct ev_loop *loop, int times)
{
	while (times-- > 0)
		ev_run(loop, EVRUN_NOWAIT);
}

static void
emit_one(int i)
{
	char url[64];

	snprintf(url, sizeof(url), "https://example.com/%d", i);
	audit_rec_fill(&rec, i % 2 ? REASON_NO_RULE : REASON_ALLOWED,
	    view_cstr("GET"), view_cstr(url), view_cstr("domain=example.com"),
	    view_cstr("example.com"));
}

/*
 * Checks that <buf> holds complete JSON lines whose sequence numbers are
 * increasing; returns the number of lines, or -1.  *dense says whether
 * they were exactly first, first+1, ...
 */
static long
check_lines(const char *buf, size_t n, long first, int *dense)
{
	const char *p = buf, *end = buf + n, *nl, *s;
	long count = 0, prev = first - 1, seq;

	*dense = 1;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (*p != '{' || nl[-1] != '}')
			return -1;
		s = strstr(p, "\"sequence\":");
		if (s == NULL || s > nl)
			return -1;
		seq = strtol(s + 11, NULL, 10);
		if (seq <= prev)
			return -1;
		if (seq != prev + 1)
			*dense = 0;
		prev = seq;
		count++;
		p = nl + 1;
	}
	return count;
}

static void
test_pipe_in_order(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct audit_opts o;
	static char buf[1 << 17];
	int jp[2], tp[2], i, dense, seq_ok = 1;
	size_t n;
	long lines;

	mkpipe(jp);
	mkpipe(tp);
	opts_init(&o, loop);
	o.json_fd = jp[1];
	o.text_fd = tp[1];
	if (audit_init(&a, &o) == -1) {
		ok(0, "audit_init");
		return;
	}
	ok(strlen(a.session_id) == 36 && a.session_id[14] == '4' &&
	    strchr("89ab", a.session_id[19]) != NULL,
	    "session id is a UUIDv4 (%s)", a.session_id);
	for (i = 0; i < 100; i++) {
		emit_one(i);
		if (audit_emit(&a, &rec) != (uint64_t)i)
			seq_ok = 0;
	}
	ok(seq_ok, "audit_emit returns 0, 1, 2, ...");
	n = drain(jp[0], buf, sizeof(buf));
	is_int(n, 0, "nothing is written inside audit_emit");
	spin(loop, 5);
	n = drain(jp[0], buf, sizeof(buf));
	lines = check_lines(buf, n, 0, &dense);
	ok(lines == 100 && dense && buf[n - 1] == '\n',
	    "100 complete JSON lines, sequence 0..99 in order (%ld)", lines);
	ok(strstr(buf, a.session_id) != NULL, "lines carry the session id");
	n = drain(tp[0], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	ok(strstr(buf, "level=INFO msg=ALLOW method=GET "
	    "url=https://example.com/98 host=example.com "
	    "rule=\"domain=example.com\"\n") != NULL &&
	    strstr(buf, "level=WARN msg=DENY method=GET "
	    "url=https://example.com/99 host=example.com reason=no_rule\n")
	    != NULL, "text lines at info level: allows and denies");
	is_int(audit_flush(&a, 1.0), 0, "flush: nothing dropped");
	n = drain(tp[0], buf, sizeof(buf));
	is_int(n, 0, "no drop report");
	audit_close(&a);
	close(jp[0]);
	close(jp[1]);
	close(tp[0]);
	close(tp[1]);
	ev_loop_destroy(loop);
}

static void
test_level_filter(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct audit_opts o;
	char buf[8192];
	int tp[2], i;
	size_t n;
	enum audit_level l;

	ok(audit_level_parse(view_cstr("WARN"), &l) == 0 &&
	    l == AUDIT_LEVEL_WARN, "parse WARN");
	ok(audit_level_parse(view_cstr("debug"), &l) == 0 &&
	    l == AUDIT_LEVEL_DEBUG, "parse debug");
	ok(audit_level_parse(view_cstr("verbose"), &l) == -1, "bad level");
	for (l = AUDIT_LEVEL_DEBUG; l <= AUDIT_LEVEL_ERROR; l++) {
		mkpipe(tp);
		opts_init(&o, loop);
		o.text_fd = tp[1];
		o.level = l;
		if (audit_init(&a, &o) == -1)
			abort();
		for (i = 0; i < 4; i++) {
			emit_one(i);
			audit_emit(&a, &rec);
		}
		spin(loop, 3);
		n = drain(tp[0], buf, sizeof(buf) - 1);
		buf[n] = '\0';
		{
			int allows = 0, denies = 0;
			char *p;
			for (p = buf; (p = strstr(p, "msg=ALLOW")); p++)
				allows++;
			for (p = buf; (p = strstr(p, "msg=DENY")); p++)
				denies++;
			if (l <= AUDIT_LEVEL_INFO)
				ok(allows == 2 && denies == 2,
				    "level %s: allows and denies",
				    audit_level_str(l));
			else if (l == AUDIT_LEVEL_WARN)
				ok(allows == 0 && denies == 2,
				    "level WARN: denies only");
			else
				ok(allows == 0 && denies == 0,
				    "level ERROR: no audit lines");
		}
		is_int(audit_flush(&a, 1.0), 0, "filtered records are not drops");
		audit_close(&a);
		close(tp[0]);
		close(tp[1]);
	}
	ev_loop_destroy(loop);
}

static void
test_regular_file(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct audit_opts o;
	char path[] = "/tmp/audit-writer-XXXXXX";
	static char buf[1 << 16];
	int fd, rfd, i, dense;
	ssize_t n;
	long lines;

	fd = mkstemp(path);
	rfd = open(path, O_RDONLY);
	fcntl(fd, F_SETFL, O_APPEND);
	opts_init(&o, loop);
	o.json_fd = fd;
	if (audit_init(&a, &o) == -1)
		abort();
	for (i = 0; i < 50; i++) {
		emit_one(i);
		audit_emit(&a, &rec);
	}
	spin(loop, 3);
	n = read(rfd, buf, sizeof(buf));
	lines = check_lines(buf, n > 0 ? (size_t)n : 0, 0, &dense);
	ok(lines == 50 && dense, "regular file written from the loop (%ld)",
	    lines);
	emit_one(50);
	audit_emit(&a, &rec);
	is_int(audit_flush(&a, 1.0), 0, "flush");
	n = read(rfd, buf, sizeof(buf));
	lines = check_lines(buf, n > 0 ? (size_t)n : 0, 50, &dense);
	ok(lines == 1, "flush wrote the last record");
	audit_close(&a);
	close(fd);
	close(rfd);
	unlink(path);
	ev_loop_destroy(loop);
}

static void
test_full_pipe(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct audit_opts o;
	static char buf[1 << 20];
	char report[512], want[128];
	int jp[2], tp[2], i, dense;
	const int total = 3 * AUDIT_QUEUE_LEN;
	double t0, t_emit, t_flush;
	uint64_t dropped;
	size_t n;
	long lines;

	mkpipe(jp);
	mkpipe(tp);
	fcntl(jp[1], F_SETPIPE_SZ, 4096);
	opts_init(&o, loop);
	o.json_fd = jp[1];
	o.text_fd = tp[1];
	o.level = AUDIT_LEVEL_ERROR;	/* text fd only gets the report */
	if (audit_init(&a, &o) == -1)
		abort();
	t0 = now();
	for (i = 0; i < total; i++) {
		emit_one(i);
		audit_emit(&a, &rec);
		if (i % 16 == 0)
			ev_run(loop, EVRUN_NOWAIT);
	}
	t_emit = now() - t0;
	ok(t_emit < 1.0, "emitting into a full pipe does not block (%.3fs)",
	    t_emit);
	ok(a.sink[AUDIT_SINK_JSON].dropped > 0,
	    "oldest records dropped and counted (%llu)",
	    (unsigned long long)a.sink[AUDIT_SINK_JSON].dropped);
	ok(sink_pending(&a.sink[AUDIT_SINK_JSON]) <= AUDIT_QUEUE_LEN,
	    "backlog bounded by AUDIT_QUEUE_LEN");
	t0 = now();
	dropped = audit_flush(&a, 0.2);
	t_flush = now() - t0;
	ok(t_flush < 1.0, "flush gives up at its timeout (%.3fs)", t_flush);
	n = drain(jp[0], buf, sizeof(buf));
	lines = check_lines(buf, n, 0, &dense);
	ok(lines > 0 && (uint64_t)lines + dropped == (uint64_t)total,
	    "received %ld + dropped %llu = emitted %d", lines,
	    (unsigned long long)dropped, total);
	n = drain(tp[0], report, sizeof(report) - 1);
	report[n] = '\0';
	snprintf(want, sizeof(want), "audit: %llu records dropped for "
	    "audit file\n", (unsigned long long)dropped);
	is_str(report, want, "drops reported at flush");
	audit_close(&a);
	close(jp[0]);
	close(jp[1]);
	close(tp[0]);
	close(tp[1]);
	ev_loop_destroy(loop);
}

static void
test_flush_when_reader_resumes(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct audit_opts o;
	char path[] = "/tmp/audit-reader-XXXXXX";
	static char buf[1 << 20];
	int jp[2], out, i, dense, status;
	const int total = AUDIT_QUEUE_LEN - 10;
	pid_t pid;
	ssize_t n;
	long lines;

	mkpipe(jp);
	fcntl(jp[1], F_SETPIPE_SZ, 4096);
	opts_init(&o, loop);
	o.json_fd = jp[1];
	if (audit_init(&a, &o) == -1)
		abort();
	for (i = 0; i < total; i++) {
		emit_one(i);
		audit_emit(&a, &rec);
		ev_run(loop, EVRUN_NOWAIT);
	}
	ok(sink_pending(&a.sink[AUDIT_SINK_JSON]) > 0 &&
	    a.sink[AUDIT_SINK_JSON].dropped == 0,
	    "backlog queued, nothing dropped");
	out = mkstemp(path);
	pid = fork();
	if (pid == 0) {
		/* The reader comes back after a pause and reads to EOF. */
		close(jp[1]);
		fcntl(jp[0], F_SETFL, 0);
		usleep(100 * 1000);
		while ((n = read(jp[0], buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				_exit(1);
		_exit(0);
	}
	is_int(audit_flush(&a, 5.0), 0, "flush waits for the reader, no drop");
	close(jp[1]);
	waitpid(pid, &status, 0);
	n = pread(out, buf, sizeof(buf), 0);
	lines = check_lines(buf, n > 0 ? (size_t)n : 0, 0, &dense);
	ok(lines == total && dense, "all %d records, in order (%ld)", total,
	    lines);
	audit_close(&a);
	close(jp[0]);
	close(out);
	unlink(path);
	ev_loop_destroy(loop);
}

static void
test_broken_pipe(void)
{
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct audit_opts o;
	char report[512];
	int jp[2], tp[2], i;
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	size_t n;

	mkpipe(jp);
	mkpipe(tp);
	close(jp[0]);
	opts_init(&o, loop);
	o.json_fd = jp[1];
	o.text_fd = tp[1];
	o.level = AUDIT_LEVEL_ERROR;
	if (audit_init(&a, &o) == -1)
		abort();
	for (i = 0; i < 3; i++) {
		emit_one(i);
		audit_emit(&a, &rec);
	}
	spin(loop, 3);
	ok(a.sink[AUDIT_SINK_JSON].failed, "EPIPE fails the sink");
	for (i = 3; i < 5; i++) {
		emit_one(i);
		audit_emit(&a, &rec);
	}
	is_int(audit_flush(&a, 0.5), 5, "all 5 counted as dropped");
	n = drain(tp[0], report, sizeof(report) - 1);
	report[n] = '\0';
	is_str(report, "audit: audit file: Broken pipe\n"
	    "audit: 5 records dropped for audit file\n", "reported");
	audit_close(&a);
	close(jp[1]);
	close(tp[0]);
	close(tp[1]);
	signal(SIGPIPE, old);
	ev_loop_destroy(loop);
}

void
test_audit__writer_c(void)
{
	test_pipe_in_order();
	test_level_filter();
	test_regular_file();
	test_full_pipe();
	test_flush_when_reader_resumes();
	test_broken_pipe();
}
