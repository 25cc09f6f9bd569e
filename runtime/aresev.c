/*
 * c-ares on the libev loop: see aresev.h for the contract.
 *
 * A socket slot is claimed in two places: when c-ares creates the socket
 * (sock_create_cb, which refuses it when every slot is taken) and when
 * c-ares first asks for it to be watched (sock_state_cb, which then always
 * finds the slot claimed at creation).  It is released when c-ares says
 * the socket is closed (neither readable nor writable).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "aresev.h"

#define container_of(ptr, type, member)                                        \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

/* The slot watching <fd>, or NULL. */
static struct aresev_sock *
sock_find(struct aresev *ae, int fd)
{
	size_t i;

	for (i = 0; i < ARESEV_MAX_SOCKS; i++)
		if (ae->socks[i].claimed && ae->socks[i].io.fd == fd)
			return &ae->socks[i];
	return NULL;
}

/* The slot of <fd>, claiming a free one if needed; NULL when all are taken. */
static struct aresev_sock *
sock_claim(struct aresev *ae, int fd)
{
	struct aresev_sock *s;
	size_t i;

	if ((s = sock_find(ae, fd)) != NULL)
		return s;
	for (i = 0; i < ARESEV_MAX_SOCKS; i++) {
		s = &ae->socks[i];
		if (!s->claimed) {
			s->claimed = 1;
			ev_io_set(&s->io, fd, 0);
			return s;
		}
	}
	return NULL;
}

void
aresev_update_timer(struct aresev *ae)
{
	struct timeval tv, *tvp;

	if (ae->ch == NULL)
		return;
	ev_timer_stop(ae->loop, &ae->tmr);
	tvp = ares_timeout(ae->ch, NULL, &tv);
	if (tvp == NULL)
		return;
	ev_timer_set(
	    &ae->tmr, (double)tvp->tv_sec + (double)tvp->tv_usec / 1e6, 0.);
	ev_timer_start(ae->loop, &ae->tmr);
}

static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct aresev_sock *s = container_of(w, struct aresev_sock, io);
	struct aresev *ae = s->ae;
	ares_socket_t fd = w->fd;

	(void)loop;
	ares_process_fd(ae->ch, (revents & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (revents & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	aresev_update_timer(ae);
}

static void
tmr_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct aresev *ae = container_of(w, struct aresev, tmr);

	(void)loop;
	(void)revents;
	ares_process_fd(ae->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	aresev_update_timer(ae);
}

/* c-ares: watch <fd> for the given events; (0, 0) when it is closed. */
static void
sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct aresev *ae = data;
	struct aresev_sock *s;

	if (!readable && !writable) {
		if ((s = sock_find(ae, fd)) != NULL) {
			ev_io_stop(ae->loop, &s->io);
			ev_io_set(&s->io, -1, 0);
			s->claimed = 0;
		}
		return;
	}
	/* Cannot fail: sock_create_cb refused sockets without a slot. */
	if ((s = sock_claim(ae, fd)) == NULL)
		return;
	ev_io_stop(ae->loop, &s->io);
	ev_io_set(
	    &s->io, fd, (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
	ev_io_start(ae->loop, &s->io);
}

/* c-ares created <fd>: close-on-exec, and refuse it if it cannot be watched. */
static int
sock_create_cb(ares_socket_t fd, int type, void *data)
{
	struct aresev *ae = data;
	int fl;

	(void)type;
	if ((fl = fcntl(fd, F_GETFD)) == -1 ||
	    fcntl(fd, F_SETFD, fl | FD_CLOEXEC) == -1)
		return -1;
	return sock_claim(ae, fd) == NULL ? -1 : 0;
}

int
aresev_init(struct aresev *ae, struct ev_loop *loop, struct ares_options *opts,
    int optmask, char *err, size_t errlen)
{
	size_t i;
	int rc;

	memset(ae, 0, sizeof(*ae));
	ae->loop = loop;
	ev_init(&ae->tmr, tmr_cb);
	for (i = 0; i < ARESEV_MAX_SOCKS; i++) {
		ev_io_init(&ae->socks[i].io, io_cb, -1, 0);
		ae->socks[i].ae = ae;
	}
	opts->sock_state_cb = sock_state_cb;
	opts->sock_state_cb_data = ae;
	rc = ares_init_options(&ae->ch, opts, optmask | ARES_OPT_SOCK_STATE_CB);
	if (rc != ARES_SUCCESS) {
		ae->ch = NULL;
		snprintf(err, errlen, "c-ares: %s", ares_strerror(rc));
		return -1;
	}
	ares_set_socket_callback(ae->ch, sock_create_cb, ae);
	return 0;
}

void
aresev_close(struct aresev *ae)
{
	size_t i;

	if (ae->loop == NULL)
		return;
	if (ae->ch != NULL) {
		ares_destroy(ae->ch);
		ae->ch = NULL;
	}
	for (i = 0; i < ARESEV_MAX_SOCKS; i++) {
		ev_io_stop(ae->loop, &ae->socks[i].io);
		ev_io_set(&ae->socks[i].io, -1, 0);
		ae->socks[i].claimed = 0;
	}
	ev_timer_stop(ae->loop, &ae->tmr);
}
