/*
 * wolfSSL contexts and the non-blocking TLS endpoint (see tls.h).
 *
 * wolfSSL never touches the socket itself: io_recv()/io_send() are its I/O
 * callbacks.  io_recv() serves the prepended bytes first, then does one
 * non-blocking recv(); both turn EAGAIN into WANT_READ / WANT_WRITE, which
 * wolfSSL hands back to us through wolfSSL_get_error() and we hand to the
 * caller as enum tls_rc.  Nothing here waits or loops on the socket.
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "runtime/ca.h"
#include "runtime/tls.h"

#define ALPN_HTTP11 "http/1.1"

const char *
tls_rc_str(int rc)
{
	switch (rc) {
	case TLS_ERROR:
		return "error";
	case TLS_WANT_READ:
		return "want-read";
	case TLS_WANT_WRITE:
		return "want-write";
	case TLS_CLOSED:
		return "closed";
	}
	return rc >= 0 ? "ok" : "unknown";
}

/* ---- I/O callbacks ------------------------------------------------------- */

static int
io_recv(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tls_conn *t = ctx;
	size_t n;
	ssize_t r;

	(void)ssl;
	if (sz <= 0)
		return 0;
	if (t->pre_off < t->pre_len) {
		n = t->pre_len - t->pre_off;
		if (n > (size_t)sz)
			n = (size_t)sz;
		memcpy(buf, t->pre + t->pre_off, n);
		t->pre_off += n;
		if (t->pre_off == t->pre_len)
			t->pre_off = t->pre_len = 0;
		return (int)n;
	}
	r = recv(t->fd, buf, (size_t)sz, MSG_DONTWAIT);
	if (r > 0)
		return (int)r;
	if (r == 0) {
		t->eof = 1;
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	}
	switch (errno) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return WOLFSSL_CBIO_ERR_WANT_READ;
	case EINTR:
		return WOLFSSL_CBIO_ERR_ISR;
	case ECONNRESET:
		t->sys_errno = errno;
		return WOLFSSL_CBIO_ERR_CONN_RST;
	default:
		t->sys_errno = errno;
		return WOLFSSL_CBIO_ERR_GENERAL;
	}
}

static int
io_send(WOLFSSL *ssl, char *buf, int sz, void *ctx)
{
	struct tls_conn *t = ctx;
	ssize_t r;

	(void)ssl;
	if (sz <= 0)
		return 0;
	r = send(t->fd, buf, (size_t)sz, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (r >= 0)
		return (int)r;
	switch (errno) {
	case EAGAIN:
#if EWOULDBLOCK != EAGAIN
	case EWOULDBLOCK:
#endif
		return WOLFSSL_CBIO_ERR_WANT_WRITE;
	case EINTR:
		return WOLFSSL_CBIO_ERR_ISR;
	case EPIPE:
		t->sys_errno = errno;
		return WOLFSSL_CBIO_ERR_CONN_CLOSE;
	case ECONNRESET:
		t->sys_errno = errno;
		return WOLFSSL_CBIO_ERR_CONN_RST;
	default:
		t->sys_errno = errno;
		return WOLFSSL_CBIO_ERR_GENERAL;
	}
}

/* ---- contexts ------------------------------------------------------------ */

/*
 * Servername callback: the ClientHello named a host; serve its leaf unless
 * the leaf already loaded is for that name.
 */
static int
sni_cb(WOLFSSL *ssl, int *alert, void *arg)
{
	struct ca *ca = arg;
	struct tls_conn *t = wolfSSL_GetIOReadCtx(ssl);
	const struct leaf *leaf;
	const char *name;

	name = wolfSSL_get_servername(ssl, WOLFSSL_SNI_HOST_NAME);
	if (name == NULL || name[0] == '\0' || t == NULL)
		return 0;	/* SSL_TLSEXT_ERR_OK: keep the fallback */
	if (strcasecmp(name, t->host) == 0)
		return 0;
	leaf = ca_leaf(ca, view_cstr(name));
	if (leaf == NULL) {
		snprintf(t->err, sizeof(t->err), "client sent an invalid "
		    "server name (SNI)");
		*alert = unrecognized_name;
		return fatal_return;
	}
	if (wolfSSL_use_certificate_buffer(ssl, leaf->cert_der,
	    (long)leaf->cert_len, WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS) {
		snprintf(t->err, sizeof(t->err), "cannot load the certificate "
		    "for %s", name);
		*alert = internal_error;
		return fatal_return;
	}
	snprintf(t->host, sizeof(t->host), "%.*s", (int)leaf->host.n,
	    leaf->host.p);
	return 0;
}

WOLFSSL_CTX *
tls_server_ctx_new(struct ca *ca)
{
	WOLFSSL_CTX *ctx;
	const struct leaf *leaf;

	if (wolfSSL_Init() != WOLFSSL_SUCCESS)
		return NULL;
	ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
	if (ctx == NULL)
		goto fail;
	if (wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2) != WOLFSSL_SUCCESS)
		goto fail;
	/*
	 * A default certificate on the context, so that the context knows its
	 * key type (ECDSA) when choosing cipher suites; every connection
	 * replaces it with its own leaf.
	 */
	leaf = ca_leaf(ca, VIEW_LIT("localhost"));
	if (leaf == NULL)
		goto fail;
	if (wolfSSL_CTX_use_certificate_buffer(ctx, leaf->cert_der,
	    (long)leaf->cert_len, WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_PrivateKey_buffer(ctx, leaf->key_der,
	    (long)leaf->key_len, WOLFSSL_FILETYPE_ASN1) != WOLFSSL_SUCCESS)
		goto fail;
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
	wolfSSL_CTX_SetIORecv(ctx, io_recv);
	wolfSSL_CTX_SetIOSend(ctx, io_send);
	wolfSSL_CTX_set_servername_callback(ctx, sni_cb);
	if (wolfSSL_CTX_set_servername_arg(ctx, ca) != WOLFSSL_SUCCESS)
		goto fail;
	return ctx;
 fail:
	if (ctx != NULL)
		wolfSSL_CTX_free(ctx);
	wolfSSL_Cleanup();
	return NULL;
}

WOLFSSL_CTX *
tls_client_ctx_new(const char *extra_ca_file, char *err, size_t errlen)
{
	WOLFSSL_CTX *ctx;
	int sys;

	if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "wolfSSL initialisation failed");
		return NULL;
	}
	ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	if (ctx == NULL) {
		snprintf(err, errlen, "cannot create a TLS client context");
		goto fail;
	}
	if (wolfSSL_CTX_SetMinVersion(ctx, WOLFSSL_TLSV1_2) !=
	    WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "cannot require TLS 1.2");
		goto fail;
	}
	/* some bundles hold certificates wolfSSL cannot parse: skip those */
	sys = wolfSSL_CTX_load_verify_locations_ex(ctx, TLS_SYSTEM_CA_FILE,
	    NULL, WOLFSSL_LOAD_FLAG_IGNORE_ERR) == WOLFSSL_SUCCESS;
	if (!sys)
		sys = wolfSSL_CTX_load_system_CA_certs(ctx) == WOLFSSL_SUCCESS;
	if (extra_ca_file != NULL && wolfSSL_CTX_load_verify_locations(ctx,
	    extra_ca_file, NULL) != WOLFSSL_SUCCESS) {
		snprintf(err, errlen, "%s: cannot load CA certificates (PEM "
		    "expected)", extra_ca_file);
		goto fail;
	}
	if (!sys && extra_ca_file == NULL) {
		snprintf(err, errlen, "no trusted CA certificates: cannot read "
		    "%s and no system store; pass --upstream-ca",
		    TLS_SYSTEM_CA_FILE);
		goto fail;
	}
	wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, NULL);
	wolfSSL_CTX_SetIORecv(ctx, io_recv);
	wolfSSL_CTX_SetIOSend(ctx, io_send);
	return ctx;
 fail:
	if (ctx != NULL)
		wolfSSL_CTX_free(ctx);
	wolfSSL_Cleanup();
	return NULL;
}

void
tls_ctx_free(WOLFSSL_CTX *ctx)
{
	if (ctx == NULL)
		return;
	wolfSSL_CTX_free(ctx);
	wolfSSL_Cleanup();
}

/* ---- endpoints ----------------------------------------------------------- */

static int
conn_setup(struct tls_conn *t, WOLFSSL_CTX *ctx, int fd, int server)
{
	memset(t, 0, offsetof(struct tls_conn, pre));
	t->fd = fd;
	t->server = server;
	t->ssl = wolfSSL_new(ctx);
	if (t->ssl == NULL) {
		snprintf(t->err, sizeof(t->err), "cannot create a TLS session");
		return -1;
	}
	wolfSSL_SetIOReadCtx(t->ssl, t);
	wolfSSL_SetIOWriteCtx(t->ssl, t);
	return 0;
}

int
tls_server_init(struct tls_conn *t, WOLFSSL_CTX *ctx, int fd,
    const struct leaf *leaf)
{
	char alpn[] = ALPN_HTTP11;

	if (conn_setup(t, ctx, fd, 1) == -1)
		return -1;
	if (leaf == NULL || wolfSSL_use_certificate_buffer(t->ssl,
	    leaf->cert_der, (long)leaf->cert_len, WOLFSSL_FILETYPE_ASN1) !=
	    WOLFSSL_SUCCESS) {
		snprintf(t->err, sizeof(t->err), "cannot load the leaf "
		    "certificate");
		goto fail;
	}
	snprintf(t->host, sizeof(t->host), "%.*s", (int)leaf->host.n,
	    leaf->host.p);
	if (wolfSSL_UseALPN(t->ssl, alpn, sizeof(alpn) - 1,
	    WOLFSSL_ALPN_FAILED_ON_MISMATCH) != WOLFSSL_SUCCESS) {
		snprintf(t->err, sizeof(t->err), "cannot set ALPN");
		goto fail;
	}
	return 0;
 fail:
	wolfSSL_free(t->ssl);
	t->ssl = NULL;
	return -1;
}

int
tls_client_init(struct tls_conn *t, WOLFSSL_CTX *ctx, int fd,
    struct view host)
{
	char alpn[] = ALPN_HTTP11;
	unsigned char addr[16];
	int ip;

	if (conn_setup(t, ctx, fd, 0) == -1)
		return -1;
	if (host.n >= 2 && host.p[0] == '[' && host.p[host.n - 1] == ']') {
		host.p++;
		host.n -= 2;
	}
	if (host.n == 0 || host.n > MAX_HOST_LEN ||
	    memchr(host.p, '\0', host.n) != NULL) {
		snprintf(t->err, sizeof(t->err), "invalid upstream host name");
		goto fail;
	}
	memcpy(t->host, host.p, host.n);
	t->host[host.n] = '\0';
	ip = inet_pton(AF_INET, t->host, addr) == 1 ||
	    inet_pton(AF_INET6, t->host, addr) == 1;
	if (ip) {
		if (wolfSSL_X509_VERIFY_PARAM_set1_ip_asc(
		    wolfSSL_get0_param(t->ssl), t->host) != WOLFSSL_SUCCESS) {
			snprintf(t->err, sizeof(t->err), "cannot set the "
			    "address to verify");
			goto fail;
		}
	} else {
		if (wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, t->host,
		    (unsigned short)host.n) != WOLFSSL_SUCCESS ||
		    wolfSSL_check_domain_name(t->ssl, t->host) !=
		    WOLFSSL_SUCCESS) {
			snprintf(t->err, sizeof(t->err), "cannot set the "
			    "server name");
			goto fail;
		}
	}
	if (wolfSSL_UseALPN(t->ssl, alpn, sizeof(alpn) - 1,
	    WOLFSSL_ALPN_CONTINUE_ON_MISMATCH) != WOLFSSL_SUCCESS) {
		snprintf(t->err, sizeof(t->err), "cannot set ALPN");
		goto fail;
	}
	return 0;
 fail:
	wolfSSL_free(t->ssl);
	t->ssl = NULL;
	return -1;
}

void
tls_release(struct tls_conn *t)
{
	if (t->ssl != NULL) {
		wolfSSL_free(t->ssl);
		t->ssl = NULL;
	}
	if (t->pre_len > 0)
		explicit_bzero(t->pre, t->pre_len);
	t->pre_off = t->pre_len = 0;
	t->fd = -1;
}

struct tls_conn *
tls_server_new(WOLFSSL_CTX *ctx, int fd, const struct leaf *leaf)
{
	struct tls_conn *t = malloc(sizeof(*t));

	if (t == NULL)
		return NULL;
	if (tls_server_init(t, ctx, fd, leaf) == -1) {
		free(t);
		return NULL;
	}
	return t;
}

struct tls_conn *
tls_client_new(WOLFSSL_CTX *ctx, int fd, struct view host)
{
	struct tls_conn *t = malloc(sizeof(*t));

	if (t == NULL)
		return NULL;
	if (tls_client_init(t, ctx, fd, host) == -1) {
		free(t);
		return NULL;
	}
	return t;
}

void
tls_free(struct tls_conn *t)
{
	if (t == NULL)
		return;
	tls_release(t);
	free(t);
}

int
tls_conn_prepend(struct tls_conn *t, const void *buf, size_t n)
{
	if (n > sizeof(t->pre) - (t->pre_len - t->pre_off))
		return -1;
	if (t->pre_off > 0) {
		memmove(t->pre, t->pre + t->pre_off, t->pre_len - t->pre_off);
		t->pre_len -= t->pre_off;
		t->pre_off = 0;
	}
	memcpy(t->pre + t->pre_len, buf, n);
	t->pre_len += n;
	return 0;
}

/* ---- errors -------------------------------------------------------------- */

static int
is_verify_error(int e)
{
	return (e <= ASN_PARSE_E && e >= ASN_PATHLEN_INV_E) ||
	    e == ASN_SELF_SIGNED_E || e == DOMAIN_NAME_MISMATCH ||
	    e == IPADDR_MISMATCH || e == VERIFY_CERT_ERROR;
}

/* Writes the words for wolfSSL error <e> into t->err. */
static void
describe(struct tls_conn *t, int e)
{
	char wbuf[WOLFSSL_MAX_ERROR_SZ];
	const char *what = t->server ? "client" : "server";
	WOLFSSL_ALERT_HISTORY h;

	wolfSSL_ERR_error_string_n((unsigned long)-e, wbuf, sizeof(wbuf));
	if (e == ASN_NO_SIGNER_E)
		snprintf(t->err, sizeof(t->err), "certificate verify failed: "
		    "unknown issuer (not signed by a trusted CA)");
	else if (e == ASN_AFTER_DATE_E)
		snprintf(t->err, sizeof(t->err), "certificate verify failed: "
		    "certificate has expired");
	else if (e == ASN_BEFORE_DATE_E)
		snprintf(t->err, sizeof(t->err), "certificate verify failed: "
		    "certificate is not yet valid");
	else if (e == ASN_SELF_SIGNED_E)
		snprintf(t->err, sizeof(t->err), "certificate verify failed: "
		    "self-signed certificate");
	else if (e == DOMAIN_NAME_MISMATCH || e == IPADDR_MISMATCH)
		snprintf(t->err, sizeof(t->err), "certificate verify failed: "
		    "certificate is not valid for host name %s (name mismatch)",
		    t->host);
	else if (is_verify_error(e))
		snprintf(t->err, sizeof(t->err), "certificate verify failed: "
		    "%s (error %d)", wbuf, e);
	else if (e == UNKNOWN_ALPN_PROTOCOL_NAME_E)
		snprintf(t->err, sizeof(t->err), "TLS handshake failed: no "
		    "common application protocol (ALPN; only %s is spoken)",
		    ALPN_HTTP11);
	else if (e == FATAL_ERROR && wolfSSL_get_alert_history(t->ssl, &h) ==
	    WOLFSSL_SUCCESS && h.last_rx.code > 0)
		snprintf(t->err, sizeof(t->err), "TLS handshake failed: %s "
		    "sent alert: %s", what,
		    wolfSSL_alert_desc_string_long(h.last_rx.code));
	else if (t->eof)
		snprintf(t->err, sizeof(t->err), "connection closed by the %s "
		    "during the TLS handshake", what);
	else if (t->sys_errno != 0)
		snprintf(t->err, sizeof(t->err), "TLS connection failed: %s",
		    strerror(t->sys_errno));
	else
		snprintf(t->err, sizeof(t->err), "TLS %s failed: %s (error "
		    "%d)", wolfSSL_is_init_finished(t->ssl) ? "connection" :
		    "handshake", wbuf, e);
}

/* Maps the result <ret> of a wolfSSL call to a tls_rc. */
static int
result(struct tls_conn *t, int ret)
{
	int e = wolfSSL_get_error(t->ssl, ret);

	switch (e) {
	case WOLFSSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case WOLFSSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case WOLFSSL_ERROR_ZERO_RETURN:
	case ZERO_RETURN:
		snprintf(t->err, sizeof(t->err), "TLS connection closed by "
		    "the peer");
		return TLS_CLOSED;
	}
	if (wolfSSL_is_init_finished(t->ssl) && (t->eof ||
	    e == SOCKET_PEER_CLOSED_E)) {
		/* EOF without close_notify: HTTP framing detects truncation */
		snprintf(t->err, sizeof(t->err), "connection closed by the "
		    "peer");
		return TLS_CLOSED;
	}
	t->werr = e;
	/* the servername callback may have written the better reason */
	if (t->err[0] == '\0' || !t->server)
		describe(t, e);
	return TLS_ERROR;
}

int
tls_handshake(struct tls_conn *t)
{
	int ret;

	if (t->ssl == NULL)
		return TLS_ERROR;
	ret = t->server ? wolfSSL_accept(t->ssl) : wolfSSL_connect(t->ssl);
	if (ret == WOLFSSL_SUCCESS)
		return 0;
	return result(t, ret);
}

ssize_t
tls_read(struct tls_conn *t, void *buf, size_t n)
{
	int ret;

	if (t->ssl == NULL)
		return TLS_ERROR;
	if (n == 0)
		return 0;
	if (n > INT_MAX)
		n = INT_MAX;
	ret = wolfSSL_read(t->ssl, buf, (int)n);
	if (ret > 0)
		return ret;
	return result(t, ret);
}

ssize_t
tls_write(struct tls_conn *t, const void *buf, size_t n)
{
	int ret;

	if (t->ssl == NULL)
		return TLS_ERROR;
	if (n == 0)
		return 0;
	if (n > INT_MAX)
		n = INT_MAX;
	ret = wolfSSL_write(t->ssl, buf, (int)n);
	if (ret > 0)
		return ret;
	return result(t, ret);
}

size_t
tls_pending(struct tls_conn *t)
{
	size_t n = t->pre_len - t->pre_off;
	int p;

	if (t->ssl == NULL)
		return 0;
	p = wolfSSL_pending(t->ssl);
	if (p > 0)
		n += (size_t)p;
	else if (wolfSSL_has_pending(t->ssl))
		n += 1;
	return n;
}

int
tls_shutdown(struct tls_conn *t)
{
	int ret;

	if (t->ssl == NULL)
		return TLS_ERROR;
	ret = wolfSSL_shutdown(t->ssl);
	if (ret == WOLFSSL_SUCCESS || ret == WOLFSSL_SHUTDOWN_NOT_DONE)
		return 0;
	ret = result(t, ret);
	if (ret == TLS_WANT_READ || ret == TLS_CLOSED)
		return 0;	/* close_notify sent; not waiting for theirs */
	return ret;
}

struct view
tls_alpn(struct tls_conn *t)
{
	char *name = NULL;
	unsigned short n = 0;

	if (t->ssl == NULL || wolfSSL_ALPN_GetProtocol(t->ssl, &name, &n) !=
	    WOLFSSL_SUCCESS || name == NULL)
		return view_make("", 0);
	return view_make(name, n);
}

struct view
tls_sni(struct tls_conn *t)
{
	const char *name;

	if (t->ssl == NULL || !t->server)
		return view_make("", 0);
	name = wolfSSL_get_servername(t->ssl, WOLFSSL_SNI_HOST_NAME);
	if (name == NULL)
		return view_make("", 0);
	return view_cstr(name);
}

const char *
tls_error_str(struct tls_conn *t)
{
	if (t->err[0] == '\0')
		return "no error";
	return t->err;
}
