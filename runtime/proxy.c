/*
 * The proxy's process-wide parts: the listener, the CA and TLS contexts,
 * the resolver, signals and an orderly shutdown (in-flight requests get
 * SHUTDOWN_GRACE seconds; the audit queue is flushed by the caller).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "proxy.h"

static int
listen_on(const char *addr, uint16_t port, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)&ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		len = sizeof(*in6);
	} else {
		snprintf(err, errlen, "--listen %s: not a numeric IPv4 or IPv6 "
		    "address", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		snprintf(err, errlen, "cannot listen on %s port %u: %s", addr,
		    port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void
accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct proxy *px = w->data;
	int fd, i;

	(void)loop;
	(void)revents;
	for (i = 0; i < 64; i++) {
		fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR && errno != ECONNABORTED)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		conn_accept(px, fd);
	}
}

static void
grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct proxy *px = w->data;

	(void)revents;
	while (px->live != NULL)
		conn_close(px->live, "grace period over");
	ev_break(loop, EVBREAK_ALL);
}

/* Stops accepting; idle clients go now, busy ones get the grace period. */
void
proxy_stop(struct proxy *px)
{
	struct ev_loop *loop = px->loop;
	struct conn *c, *next;
	size_t i;

	if (px->stopping) {
		grace_cb(loop, &px->grace, 0);
		return;
	}
	px->stopping = 1;
	for (i = 0; i < px->nlfd; i++)
		ev_io_stop(loop, &px->accept_io[i]);
	for (c = px->live; c != NULL; c = next) {
		next = c->next;
		conn_shutdown_idle(c);
	}
	if (px->live == NULL) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	ev_timer_set(&px->grace, SHUTDOWN_GRACE, 0);
	ev_timer_start(loop, &px->grace);
}

static void
stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct proxy *px = w->data;

	(void)loop;
	(void)revents;
	if (!px->stopping)
		log_info("signal %d: shutting down", w->signum);
	proxy_stop(px);
}

/* SIGHUP: re-reads the policy; on failure the current one stays. */
static void
hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct proxy *px = w->data;
	const struct bt *bt;

	(void)loop;
	(void)revents;
	if (px->cfg.reload == NULL)
		return;
	bt = px->cfg.reload(px->cfg.reload_arg);
	if (bt == NULL) {
		log_error("SIGHUP: the policy was not reloaded; the previous one "
		    "stays in force");
		return;
	}
	px->cfg.bt = bt;
	log_warn("SIGHUP: policy reloaded (%u rules)", bt->nrules);
}

/*
 * Before each loop iteration: frees closed connections, and ends the loop
 * once shutting down and the last connection is gone.
 */
static void
prepare_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct proxy *px = w->data;

	(void)revents;
	conn_reap(px);
	if (px->stopping && px->live == NULL)
		ev_break(loop, EVBREAK_ALL);
}

static ev_prepare prep;

static int proxy_warm_once(struct proxy *);
static void warm_cb(struct ev_loop *, ev_timer *, int);

int
proxy_init(struct proxy *px, const struct proxy_cfg *cfg, char *err,
    size_t errlen)
{
	char why[512];
	size_t i;

	memset(px, 0, sizeof(*px));
	px->cfg = *cfg;
	/* unset timeouts take the defaults of limits.h */
	if (px->cfg.connect_timeout <= 0)
		px->cfg.connect_timeout = TIMEOUT_CONNECT;
	if (px->cfg.head_timeout <= 0)
		px->cfg.head_timeout = TIMEOUT_HEAD;
	if (px->cfg.idle_timeout <= 0)
		px->cfg.idle_timeout = TIMEOUT_IDLE;
	if (px->cfg.io_timeout <= 0)
		px->cfg.io_timeout = TIMEOUT_IO;
	/* the inherited listeners are ours from here on, even on failure */
	if (cfg->listen_fd != -1)
		px->lfd[px->nlfd++] = cfg->listen_fd;
	for (i = 0; i < cfg->nlisten; i++) {
		if (cfg->listen_fds[i] == -1)
			continue;
		if (px->nlfd == MAX_LISTEN_FDS) {
			snprintf(err, errlen, "more than %d listening sockets",
			    MAX_LISTEN_FDS);
			goto fail;
		}
		px->lfd[px->nlfd++] = cfg->listen_fds[i];
	}
	if (conn_pool_init(px) == -1) {
		snprintf(err, errlen, "cannot map the connection pool: %s",
		    strerror(errno));
		goto fail;
	}
	px->loop = ev_default_loop(EVFLAG_AUTO);
	if (px->loop == NULL) {
		snprintf(err, errlen, "cannot create the event loop");
		goto fail;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((cfg->defer_warm ? ca_open_deferred : ca_open)(&px->ca, cfg->ca_dir,
	    cfg->ephemeral_ca, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "CA: %s", why);
		goto fail;
	}
	px->ca_open = 1;
	if (cfg->ca_cert_out != NULL && ca_write_cert(&px->ca,
	    cfg->ca_cert_out) == -1) {
		snprintf(err, errlen, "cannot write the CA certificate to %s: %s",
		    cfg->ca_cert_out, strerror(errno));
		goto fail;
	}
	if (!cfg->defer_warm && proxy_warm(px, err, errlen) == -1)
		goto fail;
	if (resolve_init(&px->res, px->loop, cfg->dns_servers, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "resolver: %s", why);
		goto fail;
	}
	px->res_open = 1;
	upool_init(&px->upool, px->loop);
	if (px->nlfd == 0 && !cfg->defer_listen) {
		px->lfd[0] = listen_on(cfg->listen_addr ? cfg->listen_addr :
		    "127.0.0.1", cfg->port, err, errlen);
		if (px->lfd[0] == -1)
			goto fail;
		px->nlfd = 1;
	}
	for (i = 0; i < px->nlfd; i++) {
		ev_io_init(&px->accept_io[i], accept_cb, px->lfd[i], EV_READ);
		px->accept_io[i].data = px;
		ev_io_start(px->loop, &px->accept_io[i]);
	}
	ev_signal_init(&px->sigint, stop_cb, SIGINT);
	px->sigint.data = px;
	ev_signal_start(px->loop, &px->sigint);
	ev_signal_init(&px->sigterm, stop_cb, SIGTERM);
	px->sigterm.data = px;
	ev_signal_start(px->loop, &px->sigterm);
	ev_signal_init(&px->sighup, hup_cb, SIGHUP);
	px->sighup.data = px;
	ev_signal_start(px->loop, &px->sighup);
	ev_init(&px->grace, grace_cb);
	px->grace.data = px;
	ev_timer_init(&px->warm, warm_cb, WARM_DELAY, 0);
	px->warm.data = px;
	if (cfg->defer_warm)
		ev_timer_start(px->loop, &px->warm);
	ev_prepare_init(&prep, prepare_cb);
	prep.data = px;
	ev_prepare_start(px->loop, &prep);
	return 0;
 fail:
	proxy_close(px);
	return -1;
}


int
proxy_warm(struct proxy *px, char *err, size_t errlen)
{
	if (px->srv_ctx != NULL && px->cli_ctx != NULL)
		return 0;
	if (px->warm_failed) {
		snprintf(err, errlen, "TLS is not available: %.400s", px->warm_err);
		return -1;
	}
	if (proxy_warm_once(px) == 0)
		return 0;
	snprintf(err, errlen, "%.400s", px->warm_err);
	return -1;
}

/* proxy_warm's work, once; a failure is remembered in px->warm_err. */
static int
proxy_warm_once(struct proxy *px)
{
	char why[400];
	char *err = px->warm_err;
	size_t errlen = sizeof(px->warm_err);

	ev_timer_stop(px->loop, &px->warm);
	px->warm_failed = 1;
	if (ca_prepare_leaf(&px->ca, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "CA: %s", why);
		return -1;
	}
	px->srv_ctx = tls_server_ctx_new(&px->ca);
	if (px->srv_ctx == NULL) {
		snprintf(err, errlen, "cannot set up client-facing TLS");
		return -1;
	}
	px->cli_ctx = tls_client_ctx_new(px->cfg.upstream_ca, why, sizeof(why));
	if (px->cli_ctx == NULL) {
		snprintf(err, errlen, "upstream TLS: %s", why);
		return -1;
	}
	px->warm_failed = 0;
	return 0;
}

/* cfg.defer_warm: warm up once the command has run WARM_DELAY seconds. */
static void
warm_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct proxy *px = w->data;
	char err[600];

	(void)loop;
	(void)revents;
	if (proxy_warm(px, err, sizeof(err)) == -1)
		log_error("%s", err);
}

int
proxy_listen(struct proxy *px, const int *fds, size_t n, char *err,
    size_t errlen)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		if (px->nlfd == MAX_LISTEN_FDS) {
			snprintf(err, errlen, "more than %d listening sockets",
			    MAX_LISTEN_FDS);
			close(fds[i]);
			ret = -1;
			continue;
		}
		px->lfd[px->nlfd] = fds[i];
		ev_io_init(&px->accept_io[px->nlfd], accept_cb, fds[i], EV_READ);
		px->accept_io[px->nlfd].data = px;
		ev_io_start(px->loop, &px->accept_io[px->nlfd]);
		px->nlfd++;
	}
	return ret;
}

void
proxy_run(struct proxy *px)
{
	ev_run(px->loop, 0);
}

void
proxy_close(struct proxy *px)
{
	size_t i;

	while (px->live != NULL)
		conn_close(px->live, "proxy closing");
	conn_reap(px);
	conn_free_work(px);
	conn_pool_free(px);
	if (px->upool.loop != NULL)
		upool_close(&px->upool);
	if (px->loop != NULL) {
		for (i = 0; i < px->nlfd; i++)
			ev_io_stop(px->loop, &px->accept_io[i]);
		ev_signal_stop(px->loop, &px->sigint);
		ev_signal_stop(px->loop, &px->sigterm);
		ev_signal_stop(px->loop, &px->sighup);
		ev_timer_stop(px->loop, &px->grace);
		ev_timer_stop(px->loop, &px->warm);
		ev_prepare_stop(px->loop, &prep);
	}
	for (i = 0; i < px->nlfd; i++)
		if (px->lfd[i] != -1)
			close(px->lfd[i]);
	px->nlfd = 0;
	if (px->res_open) {
		resolve_close(&px->res);
		px->res_open = 0;
	}
	if (px->srv_ctx != NULL) {
		tls_ctx_free(px->srv_ctx);
		px->srv_ctx = NULL;
	}
	if (px->cli_ctx != NULL) {
		tls_ctx_free(px->cli_ctx);
		px->cli_ctx = NULL;
	}
	if (px->ca_open) {
		ca_close(&px->ca);
		px->ca_open = 0;
	}
}
