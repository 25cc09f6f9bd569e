/*
 * wolfSSL contexts and a non-blocking TLS endpoint for the event loop.
 *
 * A struct tls_conn wraps one WOLFSSL object on a non-blocking socket.
 * wolfSSL reads and writes the socket through our I/O callbacks, which
 * first serve bytes handed in with tls_conn_prepend() (a ClientHello read
 * while sniffing, bytes that followed a CONNECT head) and never block or
 * loop: they return WANT_READ / WANT_WRITE, and every entry point below
 * returns one of the negative enum tls_rc codes so that the caller re-arms
 * the right ev_io and calls again.
 *
 * Client-facing (server) side: ALPN offers only "http/1.1" (a client that
 * offers only other protocols gets a no_application_protocol alert, one
 * that offers none is fine); the certificate is the leaf given to
 * tls_server_init(), replaced by the leaf for the client's SNI when the
 * ClientHello carries one (servername callback, leaves from the struct ca
 * given to tls_server_ctx_new()).
 *
 * Upstream (client) side: system roots plus an optional extra CA file,
 * peer verification, hostname (or IP address) verification, SNI for
 * names, ALPN "http/1.1", TLS 1.2 and 1.3.
 */
#ifndef TLS_H
#define TLS_H

#include <sys/types.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "runtime/limits.h"
#include "runtime/view.h"

struct ca;
struct leaf;

/* Negative results of tls_handshake(), tls_read(), tls_write(). */
enum tls_rc {
	TLS_ERROR = -1,		/* failed: see tls_error_str(); close */
	TLS_WANT_READ = -2,	/* call again when the socket is readable */
	TLS_WANT_WRITE = -3,	/* call again when the socket is writable */
	TLS_CLOSED = -4		/* the peer closed (close_notify or EOF) */
};

#define TLS_SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"

struct tls_conn {
	WOLFSSL *ssl;
	int fd;			/* borrowed: never closed here */
	int server;		/* 1: client-facing side */
	int werr;		/* wolfSSL error code of the failure, or 0 */
	int sys_errno;		/* errno of a failed socket call, or 0 */
	int eof;		/* the socket reported end of stream */
	size_t pre_off, pre_len; /* unread prepended bytes: pre[off..len) */
	char host[MAX_HOST_LEN + 1]; /* client: verified name; server: leaf */
	char err[TLS_ERR_LEN];
	unsigned char pre[TLS_PREPEND_MAX];
};

/* Returns the name of an enum tls_rc value ("want-read", ...). */
const char *tls_rc_str(int rc);

/*
 * Context for client-facing TLS: TLS 1.2 and 1.3, the process-wide leaf
 * key of <ca>, SNI-driven leaf choice.  Borrows <ca> for the context's
 * life.  Returns NULL on failure.
 */
WOLFSSL_CTX *tls_server_ctx_new(struct ca *ca);

/*
 * Context for upstream TLS: TLS 1.2+, peer verification against the
 * system bundle (TLS_SYSTEM_CA_FILE, or wolfSSL's system store) plus
 * <extra_ca_file> (PEM, may be NULL).  Returns NULL with a reason in <err>.
 */
WOLFSSL_CTX *tls_client_ctx_new(const char *extra_ca_file, char *err,
    size_t errlen);

void tls_ctx_free(WOLFSSL_CTX *ctx);

/*
 * Prepares <t> (caller's storage, e.g. inside a pooled struct conn) as the
 * server end on <fd> (borrowed, non-blocking).  <leaf> is the certificate
 * used when the client sends no SNI (the caller's fallback: CONNECT host
 * or original destination); a ClientHello SNI for another name switches to
 * that name's leaf.  Returns 0 or -1 (reason in tls_error_str()).
 */
int tls_server_init(struct tls_conn *t, WOLFSSL_CTX *ctx, int fd,
    const struct leaf *leaf) __attribute__((warn_unused_result));

/*
 * Prepares <t> as the client end on <fd> towards <host> (name or IP
 * literal, IPv6 with or without brackets): SNI for names, certificate
 * verification for that name or address.  Returns 0 or -1.
 */
int tls_client_init(struct tls_conn *t, WOLFSSL_CTX *ctx, int fd,
    struct view host) __attribute__((warn_unused_result));

/* Frees the WOLFSSL object and wipes <t>; the fd stays open.  Idempotent. */
void tls_release(struct tls_conn *t);

/* Heap-allocated variants of the two above; free with tls_free(). */
struct tls_conn *tls_server_new(WOLFSSL_CTX *ctx, int fd,
    const struct leaf *leaf);
struct tls_conn *tls_client_new(WOLFSSL_CTX *ctx, int fd, struct view host);
void tls_free(struct tls_conn *t);

/*
 * Hands in <n> bytes already read from the socket; wolfSSL reads them
 * before anything else from the socket.  Copies <buf>.  Returns 0, or -1
 * when the total unread prepended bytes would exceed TLS_PREPEND_MAX.
 */
int tls_conn_prepend(struct tls_conn *t, const void *buf, size_t n)
    __attribute__((warn_unused_result));

/* Returns 0 when the handshake is complete, else an enum tls_rc. */
int tls_handshake(struct tls_conn *t);

/*
 * Reads decrypted bytes: returns >0, or an enum tls_rc (never 0 for
 * <n> > 0).  TLS_WANT_WRITE may happen (renegotiation, key update).
 */
ssize_t tls_read(struct tls_conn *t, void *buf, size_t n);

/* Writes: returns bytes taken (>0) or an enum tls_rc. */
ssize_t tls_write(struct tls_conn *t, const void *buf, size_t n);

/*
 * Bytes the caller can read without waiting for the socket (decrypted
 * data buffered by wolfSSL, or prepended bytes not yet consumed): when
 * non-zero, call tls_read() again before waiting for readability.
 */
size_t tls_pending(struct tls_conn *t);

/*
 * Sends close_notify once, without waiting for the peer's.  Returns 0, or
 * TLS_WANT_WRITE (call again when writable), or TLS_ERROR.
 */
int tls_shutdown(struct tls_conn *t);

/* Negotiated ALPN protocol, or an empty view; valid until tls_release(). */
struct view tls_alpn(struct tls_conn *t);

/* Server side: the SNI the client sent, or an empty view. */
struct view tls_sni(struct tls_conn *t);

/*
 * Why the last call returned TLS_ERROR (or TLS_CLOSED), in words for a
 * 502 body or a log line: "certificate verify failed: ...", "TLS handshake
 * failed: ...".  Valid until the next call on <t>.
 */
const char *tls_error_str(struct tls_conn *t);

#endif
