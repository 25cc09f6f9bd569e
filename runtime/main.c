/*
 * boundary: loads the policy, then serves the proxy (--proxy-only) or
 * runs the command in the jail with the proxy as its only way out.  Thin
 * by design (STYLE rule 3): options, policy, audit, proxy, jail.
 *
 * Exit status: 0 after a clean shutdown of --proxy-only; with a command,
 * the command's (128+N when signal N killed it; 126/127 when it cannot be
 * executed / is not found); 125 when boundary fails before the command
 * starts (bad flags, bad policy, cannot listen, cannot build the jail).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../compiler/compiler.h"
#include "../runtime/bt_format.h"
#include "../jail/jail.h"
#include "confine.h"
#include "connect_to.h"
#include "dns.h"
#include "log.h"
#include "options.h"
#include "proxy.h"

#ifndef BOUNDARY_VERSION
#define BOUNDARY_VERSION "0.1.0"
#endif

#define EXIT_SETUP 125

/* A loaded policy: the table and, when compiled here, its buffer. */
struct policy {
	struct bt bt;
	unsigned char *buf;
};

/* The policy: a precompiled table, or config + rules compiled now. */
static int
load_policy(const struct options *o, struct bt *bt, unsigned char **buf)
{
	char err[512];

	*buf = NULL;
	if (o->policy != NULL) {
		if (bt_load_file(bt, o->policy, err, sizeof(err)) == -1) {
			log_error("%s", err);
			return -1;
		}
		return 0;
	}
	{
		struct compile_opts co;
		struct compile_out out;

		memset(&co, 0, sizeof(co));
		co.config_path = o->config;
		co.config_text = o->config_text;
		co.config_len = o->config_len;
		co.allow = (const char *const *)o->allow;
		co.nallow = o->nallow;
		co.env_allow = o->env_allow;
		co.wno = 0;
		co.progname = "boundary";
		if (compiler_compile(&co, &out) == -1)
			return -1;
		*buf = out.buf;
		if (bt_load_mem(bt, out.buf, out.len, err, sizeof(err)) == -1) {
			log_error("compiled policy refused: %s", err);
			return -1;
		}
		if (out.nrules == 0)
			log_warn("no allow rules: every request will be denied");
	}
	return 0;
}

/*
 * SIGHUP reloading: two policy slots, the one in use and the next.  The
 * config file is read again (its text is not cached), or the .bpol file.
 */
struct reloader {
	struct options *o;
	struct policy slot[2];
	int cur;
};

static const struct bt *
reload_policy(void *arg)
{
	struct reloader *r = arg;
	struct policy *next = &r->slot[!r->cur];
	struct options *o = r->o;

	if (o->config != NULL) {
		/* read the file again, not the text parsed at start-up */
		free(o->config_text);
		o->config_text = NULL;
		o->config_len = 0;
	}
	bt_close(&next->bt);
	free(next->buf);
	next->buf = NULL;
	if (load_policy(o, &next->bt, &next->buf) == -1)
		return NULL;
	/* the old table is no longer referenced: decisions are synchronous */
	bt_close(&r->slot[r->cur].bt);
	free(r->slot[r->cur].buf);
	r->slot[r->cur].buf = NULL;
	r->cur = !r->cur;
	return &next->bt;
}

/*
 * Session correlation: the inject targets (config, env, flags), or when
 * there are none the Coder agent's host: "domain=<CODER_AGENT_URL host>
 * path=/api/v2/aibridge/<star>".  Each target needs a domain.  Compiled into a
 * table of their own.  Returns 0 or -1 (reported).
 */
static int
load_inject(const struct options *o, struct policy *p)
{
	struct compile_opts co;
	struct compile_out out;
	const char *const *targets = (const char *const *)o->inject_targets;
	size_t n = o->ninject_targets, i;
	char derived[MAX_HOST_LEN + 64], err[256];
	const char *one[1];

	if (n == 0) {
		const char *agent = getenv("CODER_AGENT_URL");
		struct url_parts u;
		char host[MAX_HOST_LEN + 3];
		enum host_kind kind;
		uint16_t port;
		int hn;

		if (agent == NULL || url_split(view_cstr(agent), &u) == -1 ||
		    (hn = url_host_canon(u.authority, host, sizeof(host), &port,
		    &kind)) <= 0) {
			log_error("session correlation is enabled but no inject "
			    "targets are configured (--session-id-inject-target, "
			    "or CODER_AGENT_URL)");
			return -1;
		}
		snprintf(derived, sizeof(derived), "domain=%.*s "
		    "path=/api/v2/aibridge/*", hn, host);
		one[0] = derived;
		targets = one;
		n = 1;
	}
	memset(&co, 0, sizeof(co));
	co.allow = targets;
	co.nallow = n;
	co.wno = ~0u;
	co.progname = "boundary";
	for (i = 0; i < n; i++) {
		struct bt t;
		co.allow = &targets[i];
		co.nallow = 1;
		if (compiler_compile(&co, &out) == -1)
			return -1;
		if (bt_load_mem(&t, out.buf, out.len, err, sizeof(err)) == -1 ||
		    t.universal != BT_NONE) {
			log_error("inject target '%s': a target needs domain= "
			    "naming the host the headers go to", targets[i]);
			free(out.buf);
			return -1;
		}
		free(out.buf);
	}
	co.allow = targets;
	co.nallow = n;
	if (compiler_compile(&co, &out) == -1)
		return -1;
	p->buf = out.buf;
	if (bt_load_mem(&p->bt, out.buf, out.len, err, sizeof(err)) == -1) {
		log_error("inject targets: %s", err);
		return -1;
	}
	return 0;
}

/* The audit text sink shows allows at info and denies at warn. */
static enum audit_level
audit_level_of(enum options_log_level l)
{
	switch (l) {
	case OPT_LOG_ERROR:
		return AUDIT_LEVEL_ERROR;
	case OPT_LOG_INFO:
		return AUDIT_LEVEL_INFO;
	case OPT_LOG_DEBUG:
		return AUDIT_LEVEL_DEBUG;
	default:
		return AUDIT_LEVEL_WARN;
	}
}

/*
 * One fd per client connection (two with its upstream): raise the soft
 * limit to the hard one so that MAX_CONNS clients fit.
 */
static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("cannot raise the open file limit: %s",
			    strerror(errno));
	}
}

/* mkdir -p with mode 0700. */
static int
mkdir_p(const char *dir)
{
	char tmp[4096];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = tmp + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (mkdir(tmp, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* The --log-dir file: boundary-<local time>-<pid>.log, as the Go tool. */
static int
open_log_dir(const char *dir)
{
	char path[4096], ts[64];
	time_t now = time(NULL);
	struct tm tm;
	int fd;

	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -1;
	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d_%H-%M-%S", &tm);
	snprintf(path, sizeof(path), "%s/boundary-%s-%ld.log", dir, ts,
	    (long)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	return fd;
}

/*
 * The end of init (STYLE rule 30): confine_self with what serving still
 * reads (the directory of the policy or config file, which SIGHUP reads
 * again and which editors and boundary-compile replace by rename; the
 * resolver's files) and writes (the jail's run directory, removed at the
 * end).  thread_only for landjail: its supervisor thread keeps its rights.
 */
static int
confine_proxy(const struct options *o, const char *run_dir, int thread_only)
{
	static char dirs[2][4096];
	const char *rd[12], *wr[1], *files[2] = {o->policy, o->config};
	struct confine_cfg cc;
	size_t nr = 0, nw = 0, i;
	char err[512], *s;

	for (i = 0; i < 2; i++) {
		if (files[i] == NULL)
			continue;
		snprintf(dirs[i], sizeof(dirs[i]), "%s", files[i]);
		if ((s = strrchr(dirs[i], '/')) == NULL)
			snprintf(dirs[i], sizeof(dirs[i]), ".");
		else
			s[s == dirs[i] ? 1 : 0] = '\0';
		rd[nr++] = dirs[i];
	}
	rd[nr++] = "/etc/resolv.conf";
	rd[nr++] = "/etc/hosts";
	rd[nr++] = "/etc/nsswitch.conf";
	rd[nr++] = "/etc/host.conf";
	rd[nr++] = "/etc/localtime";
	rd[nr++] = "/etc/ssl";
	rd[nr++] = "/usr/share/ca-certificates";
	/* the TLS set-up may come after confinement (cfg.defer_warm) */
	if (o->upstream_ca != NULL)
		rd[nr++] = o->upstream_ca;
	if (run_dir != NULL && run_dir[0] != '\0')
		wr[nw++] = run_dir;
	memset(&cc, 0, sizeof(cc));
	cc.read_paths = rd;
	cc.nread = nr;
	cc.write_paths = wr;
	cc.nwrite = nw;
	cc.thread_only = thread_only;
	if (confine_self(&cc, err, sizeof(err)) == -1) {
		log_error("cannot confine the proxy: %s", err);
		return -1;
	}
	log_info("confined: %s", confine_summary());
	return 0;
}

/* ---- running the command in the jail ------------------------------------ */

/* Where distributions keep the system CA bundle. */
static const char *const system_bundles[] = {
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/ca-bundle.pem",
	"/etc/ssl/cert.pem",
};

struct jailrun {
	struct jail j;
	struct proxy *px;
	struct dns_server *dns;
	ev_child child;
	ev_io sig;
	int sfd;
	int status;		/* boundary's exit status once the jail ended */
	int ended;
	char parent[4096];	/* the user's directory of run directories */
	char dir[4200];		/* this run's: the CA bundle */
	char bundle[4300];
	char cert[4300];	/* landjail: this run's CA certificate */
};

/* Appends the file <path> to <out>; -1 when it cannot be read. */
static int
append_file(FILE *out, const char *path)
{
	char buf[8192];
	size_t n;
	FILE *in;

	in = fopen(path, "re");
	if (in == NULL)
		return -1;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			break;
	fclose(in);
	return 0;
}

/*
 * Fills the bundle in place (nsjail has it bound over the system bundle
 * already, by inode): the system roots, then our CA.
 */
static int
fill_bundle(struct jailrun *r, const char *ca_cert)
{
	size_t i;
	FILE *f;
	int ret = 0;

	f = fopen(r->bundle, "we");
	if (f == NULL)
		return -1;
	for (i = 0; i < sizeof(system_bundles) / sizeof(system_bundles[0]); i++)
		if (append_file(f, system_bundles[i]) == 0)
			break;
	if (append_file(f, ca_cert) == -1)
		ret = -1;
	if (fclose(f) == EOF)
		ret = -1;
	return ret;
}

/*
 * The run directory: <base>/boundary-<uid>/run-XXXXXX, where <base> is
 * $XDG_RUNTIME_DIR or /tmp.  The per-user parent persists (0700, ours,
 * checked: /tmp is shared) so that the confined proxy, which may write
 * only beneath it, can still remove its run directory at exit.
 */
static int
make_run_dir(struct jailrun *r)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int fd;

	if (base == NULL || base[0] != '/' || access(base, W_OK) == -1)
		base = "/tmp";
	snprintf(r->parent, sizeof(r->parent), "%s/boundary-%u", base,
	    (unsigned)geteuid());
	if (mkdir(r->parent, 0700) == -1 && errno != EEXIST) {
		log_error("cannot create %s: %s", r->parent, strerror(errno));
		return -1;
	}
	if (lstat(r->parent, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		log_error("%s is not a private directory of this user (mode "
		    "0700, owned by uid %u): remove it", r->parent,
		    (unsigned)geteuid());
		return -1;
	}
	snprintf(r->dir, sizeof(r->dir), "%s/run-XXXXXX", r->parent);
	if (mkdtemp(r->dir) == NULL) {
		log_error("cannot create a run directory in %s: %s", r->parent,
		    strerror(errno));
		r->dir[0] = '\0';
		return -1;
	}
	snprintf(r->bundle, sizeof(r->bundle), "%s/ca-bundle.pem", r->dir);
	snprintf(r->cert, sizeof(r->cert), "%s/ca-cert.pem", r->dir);
	fd = open(r->bundle, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_error("cannot create %s: %s", r->bundle, strerror(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static void
remove_run_dir(struct jailrun *r)
{
	if (r->dir[0] == '\0')
		return;
	unlink(r->bundle);
	unlink(r->cert);
	rmdir(r->dir);
	r->dir[0] = '\0';
}

/* The jail's first process ended: its status is ours; stop serving. */
static void
jail_child_cb(struct ev_loop *loop, ev_child *w, int revents)
{
	struct jailrun *r = w->data;

	(void)revents;
	ev_child_stop(loop, w);
	r->status = jail_exit_status(&r->j, w->rstatus);
	r->ended = 1;
	r->j.pid = -1;
	proxy_stop(r->px);
}

/*
 * SIGINT, SIGTERM, SIGQUIT: a process (kill) meant the command: pass it
 * on.  The terminal's own (Ctrl-C, Ctrl-\) went to the whole foreground
 * process group, the command included, and is not sent twice.  boundary
 * itself ends when the command does.
 */
static void
jail_sig_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct jailrun *r = w->data;
	struct signalfd_siginfo si;

	(void)loop;
	(void)revents;
	while (read(r->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_code == SI_KERNEL || r->ended || r->j.pid <= 0)
			continue;
		log_info("signal %u: passed to the command", si.ssi_signo);
		kill(r->j.pid, (int)si.ssi_signo);
	}
}

static int
run_jail(struct options *o, struct proxy_cfg *cfg, const char *ca_dir)
{
	static struct jailrun r;
	struct proxy px;
	struct dns_cfg dc;
	sigset_t set;
	char err[1024];
	int px_open = 0, ret = EXIT_SETUP;
	size_t i;

	memset(&r, 0, sizeof(r));
	r.sfd = -1;
	r.j.pid = -1;
	r.j.sync[0] = r.j.sync[1] = -1;
	r.j.type = o->jail_type == OPT_JAIL_LANDJAIL ? JAIL_LANDJAIL :
	    JAIL_NSJAIL;
	r.j.argv = o->argv;
	r.j.proxy_port = (uint16_t)o->proxy_port;
	r.j.no_user_namespace = o->no_user_namespace;
	r.j.use_real_dns = o->use_real_dns;
	r.j.proxy_addr = o->listen;
	r.j.ca_dir = ca_dir;
	r.px = &px;
	/*
	 * SIGINT, SIGTERM and SIGQUIT are read from a signalfd: blocked in
	 * every thread from now on (the landjail supervisor thread too), and
	 * unblocked in the command by jail_exec.
	 */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (make_run_dir(&r) == -1)
		goto out;
	r.j.ca_bundle = r.bundle;

	if (r.j.type == JAIL_LANDJAIL) {
		/*
		 * No mount namespace to hide a key file in: this run's CA
		 * lives in boundary's memory only, its certificate in the run
		 * directory.  The proxy listens in the host netns, on
		 * loopback, where the supervisor lets connect() reach it.
		 */
		if (strncmp(o->listen, "127.", 4) != 0 &&
		    strcmp(o->listen, "::1") != 0) {
			log_error("--jail-type landjail needs a loopback --listen "
			    "address (not %s)", o->listen);
			goto out;
		}
		cfg->ephemeral_ca = 1;
		cfg->ca_cert_out = r.cert;
		snprintf(r.cert, sizeof(r.cert), "%s/ca-key.pem", ca_dir);
		if (access(r.cert, F_OK) == 0)
			log_warn("landjail cannot hide %s from the command (there "
			    "is no mount namespace): this run does not use that CA "
			    "(its own lives in memory only), but the command can "
			    "read the key; use --jail-type nsjail, or remove the "
			    "key if nothing trusts its CA", r.cert);
		snprintf(r.cert, sizeof(r.cert), "%s/ca-cert.pem", r.dir);
	} else if (cfg->ephemeral_ca) {
		cfg->ca_cert_out = r.cert;
	}
	/*
	 * The child builds the jail (nsjail: namespaces, lo, routes,
	 * nftables, sockets; landjail: Landlock, seccomp) while the proxy
	 * gets ready here (CA, TLS contexts, roots, resolver).
	 */
	if (jail_start(&r.j) == -1) {
		log_error("%s", r.j.err);
		goto out;
	}
	cfg->defer_listen = r.j.type == JAIL_NSJAIL;
	cfg->defer_warm = 1;
	if (proxy_init(&px, cfg, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto out;
	}
	px_open = 1;
	if (jail_ready(&r.j) == -1) {
		log_error("%s", r.j.err);
		goto out;
	}
	if (r.j.type == JAIL_NSJAIL) {
		/* every listener (IPv4, IPv6) goes to the proxy, which owns it */
		i = r.j.nlisten;
		r.j.nlisten = 0;
		if (proxy_listen(&px, r.j.listen_fds, i, err, sizeof(err)) ==
		    -1) {
			log_error("%s", err);
			goto out;
		}
		memset(&dc, 0, sizeof(dc));
		dc.forward = o->use_real_dns;
		r.dns = dns_server_new(px.loop, r.j.dns_fds, r.j.ndns, &dc, err,
		    sizeof(err));
		r.j.ndns = 0;
		if (r.dns == NULL) {
			log_error("jail DNS: %s", err);
			goto out;
		}
	}
	raise_fd_limit();	/* after the fork: the command keeps its limit */
	/*
	 * Not dumpable: no process of the user's without CAP_SYS_PTRACE (the
	 * command included) can read boundary's memory, environment or
	 * descriptors through /proc or ptrace.  Set after the fork: the
	 * jail's processes must stay reachable for the landjail supervisor.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("cannot make boundary undumpable: %s", strerror(errno));
	if (r.j.type == JAIL_LANDJAIL &&
	    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == -1)
		log_warn("cannot become a subreaper: %s", strerror(errno));
	if (fill_bundle(&r, ca_cert_file(&px.ca)) == -1) {
		log_error("cannot write the CA bundle %s: %s", r.bundle,
		    strerror(errno));
		goto out;
	}

	/* signals: ours to pass on, not the proxy's to stop on */
	ev_signal_stop(px.loop, &px.sigint);
	ev_signal_stop(px.loop, &px.sigterm);
	r.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r.sfd == -1) {
		log_error("signalfd: %s", strerror(errno));
		goto out;
	}
	ev_io_init(&r.sig, jail_sig_cb, r.sfd, EV_READ);
	r.sig.data = &r;
	ev_io_start(px.loop, &r.sig);
	ev_child_init(&r.child, jail_child_cb, r.j.pid, 0);
	r.child.data = &r;
	ev_child_start(px.loop, &r.child);

	if (jail_release(&r.j) == -1) {
		log_error("%s", r.j.err);
		goto out;
	}
	log_info("%s: running %s", jail_type_str(r.j.type), o->argv[0]);
	if (confine_proxy(o, r.parent, r.j.type == JAIL_LANDJAIL) == -1)
		goto out;
	proxy_run(&px);
	ret = r.ended ? r.status : EXIT_SETUP;
 out:
	if (r.j.pid > 0) {
		/* boundary is failing: the jail must not outlive it */
		kill(r.j.pid, SIGKILL);
		while (waitpid(r.j.pid, NULL, 0) == -1 && errno == EINTR)
			;
		r.j.pid = -1;
	}
	if (r.sfd != -1) {
		ev_io_stop(px.loop, &r.sig);
		close(r.sfd);
	}
	dns_server_free(r.dns);
	if (px_open)
		proxy_close(&px);
	for (i = 0; i < r.j.nlisten; i++)
		if (r.j.listen_fds[i] != -1)
			close(r.j.listen_fds[i]);
	for (i = 0; i < r.j.ndns; i++)
		close(r.j.dns_fds[i]);
	jail_free(&r.j);
	remove_run_dir(&r);
	return ret;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct connect_to *ct = NULL;
	struct proxy_cfg cfg;
	struct proxy px;
	struct audit audit;
	struct audit_opts ao;
	static struct reloader rl;
	static struct policy inject;
	struct bt *bt = &rl.slot[0].bt;
	char err[1024], ca_dir[4096], ca_cert[4200];
	int log_fd = 2, text_fd = -1, json_fd = -1, ret = EXIT_SETUP;
	size_t i;

	memset(&o, 0, sizeof(o));
	rl.o = &o;
	if (options_parse(&o, argc, argv, err, sizeof(err)) == -1) {
		fprintf(stderr, "boundary: %s\n", err);
		fprintf(stderr, "Run 'boundary --help' for usage.\n");
		options_free(&o);
		return EXIT_SETUP;
	}
	if (o.help) {
		options_usage(stdout);
		ret = 0;
		goto out;
	}
	if (o.version) {
		printf("boundary %s\n", BOUNDARY_VERSION);
		ret = 0;
		goto out;
	}
	if (o.log_dir != NULL) {
		log_fd = open_log_dir(o.log_dir);
		if (log_fd == -1) {
			fprintf(stderr, "boundary: cannot set up log dir %s: %s\n",
			    o.log_dir, strerror(errno));
			goto out;
		}
	}
	log_init((enum log_level)o.log_level, log_fd);
	if (load_policy(&o, bt, &rl.slot[0].buf) == -1)
		goto out;
	if (o.session_correlation && load_inject(&o, &inject) == -1)
		goto out;
	if (o.check_only) {
		printf("configuration OK (%u rules)\n", bt->nrules);
		ret = 0;
		goto out;
	}

	ct = calloc(o.nconnect_to + 1, sizeof(*ct));
	if (ct == NULL)
		goto out;
	for (i = 0; i < o.nconnect_to; i++)
		if (connect_to_parse(o.connect_to[i], &ct[i], err,
		    sizeof(err)) == -1) {
			log_error("--connect-to %s: %s", o.connect_to[i], err);
			goto out;
		}

	/* audit sinks: a private description of stderr (it becomes O_NONBLOCK) */
	text_fd = o.log_dir != NULL ? fcntl(log_fd, F_DUPFD_CLOEXEC, 3) :
	    open("/proc/self/fd/2", O_WRONLY | O_APPEND | O_CLOEXEC);
	if (text_fd == -1)
		text_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (o.audit_file != NULL) {
		json_fd = open(o.audit_file, O_WRONLY | O_CREAT | O_APPEND |
		    O_CLOEXEC, 0600);
		if (json_fd == -1) {
			log_error("cannot open --audit-file %s: %s", o.audit_file,
			    strerror(errno));
			goto out;
		}
	}
	memset(&cfg, 0, sizeof(cfg));
	memset(&ao, 0, sizeof(ao));
	ao.loop = ev_default_loop(EVFLAG_AUTO);
	ao.text_fd = text_fd;
	ao.json_fd = json_fd;
	ao.socket_path = o.disable_audit_logs ? NULL : o.log_proxy_socket_path;
	if (ao.socket_path != NULL && o.log_proxy_socket_default &&
	    access(ao.socket_path, F_OK) == -1) {
		/*
		 * No Coder agent here: without an explicit path, do not wait
		 * for one (as the Go tool).  A given path is retried.
		 */
		log_info("no workspace agent socket at %s: audit records go to "
		    "the log and --audit-file only", ao.socket_path);
		ao.socket_path = NULL;
	}
	ao.level = audit_level_of(o.log_level);
	if (audit_init(&audit, &ao) == -1) {
		log_error("cannot set up the audit log: %s", strerror(errno));
		goto out;
	}

	if (ca_default_dir(ca_dir, sizeof(ca_dir)) == -1) {
		log_error("cannot find the configuration directory (set HOME or "
		    "XDG_CONFIG_HOME)");
		goto audit_out;
	}
	snprintf(ca_cert, sizeof(ca_cert), "%s/ca-cert.pem", ca_dir);
	/*
	 * The CA directory exists before anything else: --ephemeral-ca
	 * writes its certificate there, and nsjail hides the directory from
	 * the command by mounting over it.
	 */
	if ((o.ephemeral_ca || !o.proxy_only) && mkdir_p(ca_dir) == -1) {
		log_error("cannot create %s: %s", ca_dir, strerror(errno));
		goto audit_out;
	}
	cfg.listen_addr = o.listen;
	cfg.port = (uint16_t)o.proxy_port;
	cfg.listen_fd = -1;
	cfg.bt = bt;
	cfg.reload = reload_policy;
	cfg.inject = o.session_correlation ? &inject.bt : NULL;
	cfg.session_id = audit.session_id;
	cfg.reload_arg = &rl;
	cfg.connect_to = ct;
	cfg.nconnect_to = o.nconnect_to;
	cfg.upstream_ca = o.upstream_ca;
	cfg.ephemeral_ca = o.ephemeral_ca;
	cfg.ca_dir = ca_dir;
	cfg.ca_cert_out = o.ephemeral_ca ? ca_cert : NULL;
	cfg.audit = &audit;
	cfg.dns_servers = NULL;		/* the system resolver */
	cfg.connect_timeout = o.connect_timeout;
	cfg.head_timeout = o.head_timeout;
	cfg.idle_timeout = o.idle_timeout;
	cfg.io_timeout = o.io_timeout;
	if (!o.proxy_only) {
		ret = run_jail(&o, &cfg, ca_dir);
		goto audit_out;
	}
	raise_fd_limit();
	if (proxy_init(&px, &cfg, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto audit_out;
	}
	log_info("boundary session started session_id=%s", audit.session_id);
	log_info("proxy listening on %s port %d (CA certificate: %s)", o.listen,
	    o.proxy_port, ca_cert);
	if (confine_proxy(&o, NULL, 0) == -1) {
		proxy_close(&px);
		goto audit_out;
	}
	proxy_run(&px);
	proxy_close(&px);
	ret = 0;
 audit_out:
	audit_flush(&audit, AUDIT_FLUSH_TIMEOUT);
	audit_close(&audit);
 out:
	if (json_fd != -1)
		close(json_fd);
	if (text_fd != -1)
		close(text_fd);
	for (i = 0; i < 2; i++) {
		bt_close(&rl.slot[i].bt);
		free(rl.slot[i].buf);
	}
	bt_close(&inject.bt);
	free(inject.buf);
	free(ct);
	options_free(&o);
	return ret;
}
