/*
 * The proxy: one libev loop, one listening socket (or sockets handed over
 * by the jail), one struct conn per client connection.  Private to
 * runtime/; runtime.h exposes proxy_main() to the binary.
 */
#ifndef PROXY_H
#define PROXY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>

#include "../audit/audit.h"
#include "ca.h"
#include "chunk.h"
#include "connect_to.h"
#include "http.h"
#include "limits.h"
#include "resolve.h"
#include "runtime.h"
#include "tls.h"
#include "upool.h"
#include "view.h"

struct proxy_cfg {
	const char *listen_addr;	/* numeric address, default 127.0.0.1 */
	uint16_t port;
	int listen_fd;			/* or an inherited listener; -1 */
	/*
	 * More inherited listeners (the jail hands over an IPv4 and an IPv6
	 * one).  proxy_init takes over listen_fd and these (proxy_close
	 * closes them); with none of them it listens on listen_addr:port.
	 */
	int listen_fds[MAX_LISTEN_FDS];
	size_t nlisten;
	int defer_listen;		/* none yet: proxy_listen() hands them over */
	/*
	 * Leave the leaf key generation and the loading of the upstream
	 * trust store (most of proxy_init's time) to proxy_warm(), so the
	 * jail's command can start meanwhile.
	 */
	int defer_warm;
	const struct bt *bt;		/* borrowed */
	const struct connect_to *connect_to;
	size_t nconnect_to;
	const char *upstream_ca;	/* extra trusted roots, or NULL */
	int ephemeral_ca;
	const char *ca_dir;		/* CA directory (persistent mode) */
	const char *ca_cert_out;	/* where to write the CA certificate */
	struct audit *audit;		/* borrowed, initialised */
	const char *dns_servers;	/* c-ares servers, NULL: resolv.conf */
	double connect_timeout, head_timeout, idle_timeout, io_timeout;
	/*
	 * Session correlation: allowed requests that this table admits (as
	 * method "") get X-Coder-Agent-Firewall-Session-Id and -Sequence-Number
	 * headers; NULL: off.  Client copies of those headers are always
	 * dropped.
	 */
	const struct bt *inject;
	const char *session_id;
	/*
	 * SIGHUP: loads the policy again and returns the new table (the old
	 * one stays in use, and valid, when it returns NULL).  Decisions are
	 * synchronous, so the table may change between any two of them.
	 */
	const struct bt *(*reload)(void *arg);
	void *reload_arg;
};

enum conn_state {
	CONN_ST_SNIFF,		/* waiting for the first byte: TLS or HTTP */
	CONN_ST_TLS_HS,		/* client-facing TLS handshake */
	CONN_ST_HEAD,		/* reading a request head */
	CONN_ST_REPLY,		/* writing a response of our own (403, 400, 502...) */
	CONN_ST_DISCARD,	/* dropping the body of a refused request */
	CONN_ST_RESOLVE,	/* waiting for the upstream address */
	CONN_ST_DIAL,		/* TCP connect to the upstream */
	CONN_ST_UP_TLS,		/* upstream TLS handshake */
	CONN_ST_FORWARD,	/* relaying a request and its response */
	CONN_ST_TUNNEL,		/* raw bytes both ways after 101 Switching */
	CONN_ST_CLOSED,		/* torn down; back in the pool */
	CONN_ST_COUNT
};

const char *conn_state_str(enum conn_state);

/* A byte buffer: data in [off, off + len) of p[cap]. */
struct buf {
	char *p;
	size_t cap, off, len;
};

/* One side of a connection: a socket, maybe TLS over it. */
struct ep {
	int fd;
	int tls_on;
	struct tls_conn *tls;	/* owned when tls_on */
	int want;		/* EV_READ | EV_WRITE the last I/O call needs */
	int armed;		/* events the ev_io is started with */
	int eof;		/* the peer closed its sending side */
	int drained;		/* a short read emptied the socket this round */
	ev_io io;
};

struct proxy;

/* A connection's working memory while it is busy (see struct conn). */
struct conn_work {
	struct conn_work *next;		/* free list */
	struct http_hdr hdrs[MAX_HEADERS], rhdrs[MAX_HEADERS];
	char path[MAX_PATH_LEN + 1];
	char cin[MAX_REQ_HEAD], uout[CONN_HEAD_OUT];
	char uin[MAX_RESP_HEAD], cout[CONN_HEAD_OUT];
};

struct conn {
	struct proxy *px;
	struct conn *next;		/* free list / live list */
	uint64_t id;
	enum conn_state st;
	struct ep cl, up;		/* client, upstream */
	ev_timer tmo;
	int head_timing;		/* HEAD: the head deadline is running */
	int cl_ready;			/* this round was woken by the client fd */

	/* tunnel context: set by CONNECT, or by direct TLS */
	char tunnel_host[MAX_HOST_LEN + 3];
	size_t tunnel_host_len;
	uint16_t tunnel_port;
	int in_tunnel;			/* after CONNECT */
	int https;			/* client side is TLS */
	char sni[MAX_HOST_LEN + 1];
	size_t sni_len;
	/*
	 * Transparent connection (the jail's nftables redirected it here):
	 * the port the client dialled, from SO_ORIGINAL_DST; 0 otherwise.
	 * It is the default port of direct TLS and of origin-form requests,
	 * and an explicit port must agree with it.
	 */
	uint16_t orig_port;

	/*
	 * Buffers and per-request arrays live in a work area that a
	 * connection holds only while it has something to do: an idle
	 * kept-alive client costs little more than this struct.
	 */
	struct conn_work *w;
	struct http_hdr *hdrs, *rhdrs;	/* w->..., MAX_HEADERS each */
	char *path;			/* w->path: canonical path */

	/* the request being handled */
	struct http_req req;
	size_t nhdrs;
	size_t head_len, prev_len;
	char host[MAX_HOST_LEN + 3];	/* canonical decided host */
	size_t host_len;
	enum host_kind host_kind;
	uint16_t port;			/* dialled port */
	size_t path_len;
	struct view query;		/* into cin; valid until the head is consumed */
	int has_query;
	struct verdict verdict;
	uint64_t seq;			/* audit sequence number of the request */
	int is_connect, is_head;
	int keep_alive;			/* the client connection survives */
	enum http_body req_body;
	uint64_t req_left;		/* request body bytes still to relay */
	struct chunk_dec req_chunk;
	int req_done;

	/* upstream: the connection in c->up goes to up_host:up_port */
	char up_host[MAX_HOST_LEN + 3];
	size_t up_host_len;
	uint16_t up_port;
	int up_tls;
	int up_idle;			/* c->up finished a response cleanly */
	struct resolve_req rr;
	int resolving;
	struct sockaddr_storage addrs[MAX_UP_ADDRS];
	size_t naddrs, addr_i;
	char up_err[256];

	/* the response */
	struct http_resp resp;
	size_t nrhdrs;
	size_t rprev_len;
	int resp_head_done;
	enum http_body resp_body;
	uint64_t resp_left;
	struct chunk_dec resp_chunk;
	int resp_done;
	int dechunk;			/* pass chunked data without framing */
	int resp_started;		/* bytes of the response went to the client */
	int close_after;		/* close once the reply is written */

	struct buf cin;			/* from the client */
	struct buf uout;		/* to the upstream */
	struct buf uin;			/* from the upstream */
	struct buf cout;		/* to the client */
};

struct proxy {
	struct ev_loop *loop;
	struct proxy_cfg cfg;
	int lfd[MAX_LISTEN_FDS];	/* listening sockets, nlfd of them */
	size_t nlfd;
	ev_io accept_io[MAX_LISTEN_FDS];
	ev_signal sigint, sigterm, sighup;
	ev_timer grace;
	ev_timer warm;			/* cfg.defer_warm: proxy_warm() soon */
	int warm_failed;
	char warm_err[600];
	int stopping;
	struct ca ca;
	int ca_open;
	WOLFSSL_CTX *srv_ctx, *cli_ctx;
	struct resolver res;
	int res_open;
	struct upool upool;		/* idle upstream connections */
	struct conn *pool;		/* MAX_CONNS slots (conn_pool_init) */
	size_t pool_used;		/* slots ever handed out */
	struct conn *pool_free;		/* slots given back */
	struct conn *live;		/* every connection being served */
	struct conn *dead;		/* closed, freed by conn_reap() */
	struct conn_work *free_work;	/* work areas not in use */
	size_t nwork;			/* work areas allocated */
	size_t nconns;
	size_t nheld;			/* clients holding an idle upstream */
	uint64_t next_id;
};

int proxy_init(struct proxy *, const struct proxy_cfg *, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Runs the loop until SIGINT/SIGTERM and the grace period are over. */
void proxy_run(struct proxy *);
void proxy_close(struct proxy *);
/*
 * The rest of proxy_init under cfg.defer_warm: the process's leaf key and
 * the TLS contexts (upstream trust store).  Idempotent; runs by itself
 * WARM_DELAY after proxy_init or at the first TLS connection, whichever
 * comes first (a command that ends at once never pays for it).
 */
int proxy_warm(struct proxy *, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/*
 * With cfg.defer_listen: serves <fds> (<n> listening sockets; takes
 * ownership of them, also on failure).
 */
int proxy_listen(struct proxy *, const int *fds, size_t n, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/*
 * Begins the shutdown proxy_run ends with (what SIGTERM does): called a
 * second time, it ends the grace period at once.
 */
void proxy_stop(struct proxy *);

/* conn.c */
void conn_accept(struct proxy *, int fd);
/* Closes <c> idempotently: watchers, TLS, fds; emits nothing. */
void conn_close(struct conn *c, const char *why);
/* Frees the connections closed since the last call. */
void conn_reap(struct proxy *);
/*
 * The pool of MAX_CONNS connection objects: one mapping, made by
 * proxy_init (returns 0, or -1 with errno), unmapped by proxy_close.
 */
int conn_pool_init(struct proxy *) __attribute__((warn_unused_result));
void conn_pool_free(struct proxy *);
/* Frees the unused work areas (at exit). */
void conn_free_work(struct proxy *);
/* At shutdown: closes <c> now if it is between requests. */
void conn_shutdown_idle(struct conn *c);

#endif
