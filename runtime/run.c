/*
 * Running boundary once the policy and the audit log are ready: the
 * command in the jail (run_jail), and what the proxy needs before serving
 * in either mode (the open file limit, confinement).  Split out of main.c
 * so that it stays thin (STYLE rule 3).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../jail/jail.h"
#include "dns.h"
#include "log.h"
#include "run.h"

/*
 * One fd per client connection (two with its upstream): raise the soft
 * limit to the hard one so that MAX_CONNS clients fit.
 */
void
run_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("cannot raise the open file limit: %s",
			    strerror(errno));
	}
}

/*
 * The end of init (STYLE rule 30): confine_self with what serving still
 * reads (the directory of the policy or config file, which SIGHUP reads
 * again and which editors and boundary-compile replace by rename; the
 * resolver's files) and writes (the jail's run directory, removed at the
 * end).  thread_only for landjail: its supervisor thread keeps its rights.
 */
int
run_confine(const struct options *o, const char *run_dir, int thread_only)
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

/* ---- the command in the jail ---------------------------------------------- */

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
	for (i = 0; i < JAIL_NSYSTEM_BUNDLES; i++)
		if (append_file(f, jail_system_bundles[i]) == 0)
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

/*
 * landjail: a connect() the supervisor refused (a thread of its own calls
 * this: log_* write each line with one write()).
 */
static void
jail_refused(const struct sockaddr_storage *sa, pid_t pid, void *arg)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	(void)arg;
	if (sa->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
		port = ntohs(in->sin_port);
	} else if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
		port = ntohs(in6->sin6_port);
	}
	log_warn("landjail: refused a connect() of process %ld to %s port %u: "
	    "only the proxy may be reached (clients find it in HTTP_PROXY)",
	    (long)pid, addr, port);
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

int
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
	r.j.refused = jail_refused;
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
	run_raise_fd_limit();	/* after the fork: the command keeps its limit */
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
	if (run_confine(o, r.parent, r.j.type == JAIL_LANDJAIL) == -1)
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
