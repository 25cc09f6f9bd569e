/* Idle upstream connection pool; see upool.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "upool.h"

static void
unlink_ent(struct upool *p, struct upool_ent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		p->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		p->tail = e->prev;
	e->prev = e->next = NULL;
	p->n--;
	ev_io_stop(p->loop, &e->io);
	ev_timer_stop(p->loop, &e->tmo);
}

static void
drop(struct upool *p, struct upool_ent *e)
{
	unlink_ent(p, e);
	if (e->tls != NULL) {
		tls_free(e->tls);
		e->tls = NULL;
	}
	close(e->fd);
	e->fd = -1;
	free(e);
}

/* An idle upstream that becomes readable has closed or misbehaved. */
static void
io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct upool_ent *e = w->data;

	(void)loop;
	(void)revents;
	drop(e->pool, e);
}

static void
tmo_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct upool_ent *e = w->data;

	(void)loop;
	(void)revents;
	drop(e->pool, e);
}

void
upool_init(struct upool *p, struct ev_loop *loop)
{
	memset(p, 0, sizeof(*p));
	p->loop = loop;
}

void
upool_close(struct upool *p)
{
	while (p->head != NULL)
		drop(p, p->head);
}

int
upool_put(struct upool *p, struct view host, uint16_t port, int tls_on,
    int fd, struct tls_conn *tls)
{
	struct upool_ent *e;

	if (host.n > MAX_HOST_LEN || (tls_on && tls != NULL &&
	    tls_pending(tls) > 0) || (e = calloc(1, sizeof(*e))) == NULL) {
		if (tls != NULL)
			tls_free(tls);
		close(fd);
		return -1;
	}
	if (p->n >= UPOOL_MAX)
		drop(p, p->tail);
	e->pool = p;
	memcpy(e->host, host.p, host.n);
	e->host_len = host.n;
	e->port = port;
	e->tls_on = tls_on;
	e->fd = fd;
	e->tls = tls;
	ev_io_init(&e->io, io_cb, fd, EV_READ);
	e->io.data = e;
	ev_io_start(p->loop, &e->io);
	ev_timer_init(&e->tmo, tmo_cb, UPOOL_IDLE_TIMEOUT, 0);
	e->tmo.data = e;
	ev_timer_start(p->loop, &e->tmo);
	e->next = p->head;
	if (p->head)
		p->head->prev = e;
	p->head = e;
	if (p->tail == NULL)
		p->tail = e;
	p->n++;
	return 0;
}

int
upool_get(struct upool *p, struct view host, uint16_t port, int tls_on,
    int *fd, struct tls_conn **tls)
{
	struct upool_ent *e;

	e = p->head;
	while (e != NULL) {
		struct upool_ent *next = e->next;
		char b;
		ssize_t r;

		if (e->port != port || e->tls_on != tls_on ||
		    e->host_len != host.n || memcmp(e->host, host.p, host.n) != 0) {
			e = next;
			continue;
		}
		/* closed (or talking) in the meantime, unseen by the loop yet? */
		r = recv(e->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
			drop(p, e);
			e = next;
			continue;
		}
		unlink_ent(p, e);
		*fd = e->fd;
		*tls = e->tls;
		free(e);
		return 0;
	}
	return -1;
}
