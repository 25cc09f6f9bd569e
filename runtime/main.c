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
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../compiler/compiler.h"
#include "../runtime/bt_format.h"
#include "connect_to.h"
#include "log.h"
#include "options.h"
#include "proxy.h"
#include "run.h"

#ifndef BOUNDARY_VERSION
#define BOUNDARY_VERSION "0.1.0"
#endif

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
	run_raise_fd_limit();
	if (proxy_init(&px, &cfg, err, sizeof(err)) == -1) {
		log_error("%s", err);
		goto audit_out;
	}
	log_info("boundary session started session_id=%s", audit.session_id);
	log_info("proxy listening on %s port %d (CA certificate: %s)", o.listen,
	    o.proxy_port, ca_cert);
	if (run_confine(&o, NULL, 0) == -1) {
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
