/*
 * Idle upstream connections, pooled per (host, port, tls) so that a new
 * client connection to a host it used before skips the connect and the
 * TLS handshake.  An idle entry is dropped when the upstream closes or
 * sends anything (a readable socket), after UPOOL_IDLE_TIMEOUT, or when
 * the pool is full (the oldest goes).
 */
#ifndef UPOOL_H
#define UPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>

#include "limits.h"
#include "tls.h"
#include "view.h"

struct upool;

struct upool_ent {
	struct upool *pool;
	struct upool_ent *prev, *next;	/* in use order, newest first */
	char host[MAX_HOST_LEN + 3];
	size_t host_len;
	uint16_t port;
	int tls_on;
	int fd;				/* owned */
	struct tls_conn *tls;		/* owned when tls_on */
	ev_io io;
	ev_timer tmo;
};

struct upool {
	struct ev_loop *loop;
	struct upool_ent *head, *tail;
	size_t n;
};

void upool_init(struct upool *, struct ev_loop *);
/* Closes every idle connection. */
void upool_close(struct upool *);

/*
 * Takes ownership of <fd> and <tls> (may be NULL) as an idle connection to
 * <host>:<port>.  Returns 0, or -1 when it was closed instead.
 */
int upool_put(struct upool *, struct view host, uint16_t port, int tls_on,
    int fd, struct tls_conn *tls);

/*
 * Hands back an idle connection to <host>:<port> with the same TLS-ness
 * (ownership of *fd and *tls passes to the caller), or returns -1.
 */
int upool_get(struct upool *, struct view host, uint16_t port, int tls_on,
    int *fd, struct tls_conn **tls);

#endif
