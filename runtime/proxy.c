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
		fd = accept4(px->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
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
static void
stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct proxy *px = w->data;
	struct conn *c, *next;

	(void)revents;
	if (px->stopping) {
		grace_cb(loop, &px->grace, 0);
		return;
	}
	log_info("signal %d: shutting down", w->signum);
	px->stopping = 1;
	ev_io_stop(loop, &px->accept_io);
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

int
proxy_init(struct proxy *px, const struct proxy_cfg *cfg, char *err,
    size_t errlen)
{
	char why[512];

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
	px->lfd = -1;
	px->loop = ev_default_loop(EVFLAG_AUTO);
	if (px->loop == NULL) {
		snprintf(err, errlen, "cannot create the event loop");
		return -1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (ca_open(&px->ca, cfg->ca_dir, cfg->ephemeral_ca, why,
	    sizeof(why)) == -1) {
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
	px->srv_ctx = tls_server_ctx_new(&px->ca);
	if (px->srv_ctx == NULL) {
		snprintf(err, errlen, "cannot set up client-facing TLS");
		goto fail;
	}
	px->cli_ctx = tls_client_ctx_new(cfg->upstream_ca, why, sizeof(why));
	if (px->cli_ctx == NULL) {
		snprintf(err, errlen, "upstream TLS: %s", why);
		goto fail;
	}
	if (resolve_init(&px->res, px->loop, cfg->dns_servers, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "resolver: %s", why);
		goto fail;
	}
	px->res_open = 1;
	upool_init(&px->upool, px->loop);
	if (cfg->listen_fd != -1)
		px->lfd = cfg->listen_fd;
	else {
		px->lfd = listen_on(cfg->listen_addr ? cfg->listen_addr :
		    "127.0.0.1", cfg->port, err, errlen);
		if (px->lfd == -1)
			goto fail;
	}
	ev_io_init(&px->accept_io, accept_cb, px->lfd, EV_READ);
	px->accept_io.data = px;
	ev_io_start(px->loop, &px->accept_io);
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
	ev_prepare_init(&prep, prepare_cb);
	prep.data = px;
	ev_prepare_start(px->loop, &prep);
	return 0;
 fail:
	proxy_close(px);
	return -1;
}

void
proxy_run(struct proxy *px)
{
	ev_run(px->loop, 0);
}

void
proxy_close(struct proxy *px)
{
	while (px->live != NULL)
		conn_close(px->live, "proxy closing");
	conn_reap(px);
	conn_free_work(px);
	if (px->upool.loop != NULL)
		upool_close(&px->upool);
	if (px->loop != NULL) {
		ev_io_stop(px->loop, &px->accept_io);
		ev_signal_stop(px->loop, &px->sigint);
		ev_signal_stop(px->loop, &px->sigterm);
		ev_signal_stop(px->loop, &px->sighup);
		ev_timer_stop(px->loop, &px->grace);
		ev_prepare_stop(px->loop, &prep);
	}
	if (px->lfd != -1) {
		close(px->lfd);
		px->lfd = -1;
	}
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
