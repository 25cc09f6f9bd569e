/*
 * A c-ares channel driven by a libev loop, private to runtime/.  Shared by
 * the proxy's resolver (resolve.c) and the jail's DNS forwarder (dns.c).
 *
 * c-ares names the sockets it wants watched through its sock_state_cb;
 * each gets one of ARESEV_MAX_SOCKS ev_io slots, and a socket that would
 * not get a slot is refused when c-ares creates it, so every socket the
 * channel uses is watched.  One ev_timer follows ares_timeout() for
 * retransmissions and per-try timeouts.  Sockets c-ares creates are made
 * close-on-exec.
 *
 * Memory: struct aresev is owned by the caller (embed it); the module
 * allocates nothing of its own (c-ares allocates internally).  The caller
 * does ares_library_init()/ares_library_cleanup() around it.
 */
#ifndef ARESEV_H
#define ARESEV_H

#include <stddef.h>

#include <ares.h>
#include <ev.h>

#include "limits.h"

struct aresev;

/* A socket of c-ares and its watcher. */
struct aresev_sock {
	ev_io io;    /* io.fd is -1 when the slot is free */
	int claimed; /* fd known, watcher maybe stopped */
	struct aresev *ae;
};

/* A channel on a loop; the fields are private to aresev.c, except <ch>. */
struct aresev {
	ares_channel ch;      /* NULL when not set up or closed */
	struct ev_loop *loop; /* NULL when never set up */
	ev_timer tmr;         /* retransmissions and timeouts */
	struct aresev_sock socks[ARESEV_MAX_SOCKS];
};

/*
 * Sets up <ae> (zeroed, or closed) on <loop>: ares_init_options() with
 * <opts> and <optmask>, to which ARES_OPT_SOCK_STATE_CB is added (its
 * fields in <opts> are overwritten), and the socket creation callback.
 * Returns 0, or -1 with "c-ares: <why>" in <err> (<errlen> bytes); after
 * -1, ae->ch is NULL and aresev_close() is a harmless no-op.  Borrows
 * <loop> until aresev_close(); <opts> is read during the call only.
 */
int aresev_init(struct aresev *ae, struct ev_loop *loop,
    struct ares_options *opts, int optmask, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Re-arms the timer from ares_timeout(): stopped when nothing is pending.
 * Call after handing c-ares new work (ares_send, ares_getaddrinfo...).  A
 * no-op on a closed <ae>.
 */
void aresev_update_timer(struct aresev *ae);

/*
 * Destroys the channel (its pending queries' callbacks run from here with
 * ARES_EDESTRUCTION), stops every watcher and the timer and frees every
 * socket slot.  Idempotent; a no-op on a zeroed <ae>.
 */
void aresev_close(struct aresev *ae);

#endif
