/*
 * Tests runtime/tls.c: full TLS handshakes between tls_server_init() and
 * tls_client_init() over a non-blocking socketpair, driven by a poll()
 * loop as the event loop would: SNI-driven leaf choice, the no-SNI
 * fallback with IP verification, ALPN, data both ways (with backpressure),
 * the peek-then-prepend flow with hello_parse(), hostname and issuer
 * verification failures and their words, close_notify and EOF.
 */
#include "runtime/tls.c"

#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/ca.h"
#include "runtime/hello.h"
#include "tests/tap.h"

void test_runtime__tls_c(void);

static struct ca ca;
static WOLFSSL_CTX *sctx, *cctx;
static char tdir[] = "/tmp/boundary-tls-test-XXXXXX";
static char cafile[PATH_MAX];
static struct tls_conn srv, cli;
static int fds[2];

static int
pair(void)
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, fds);
}

static void
unpair(void)
{
	tls_release(&srv);
	tls_release(&cli);
	close(fds[0]);
	close(fds[1]);
}

static short
events_for(int rc)
{
	return rc == TLS_WANT_WRITE ? POLLOUT : POLLIN;
}

/*
 * Drives both handshakes until both finish (returns 0) or one fails or
 * stalls (returns -1); <rs>/<rc> get the last results.
 */
static int
handshake(struct tls_conn *s, struct tls_conn *c, int *rs, int *rc)
{
	struct pollfd p[2];
	int i, n, ds = 0, dc = 0;

	*rs = *rc = TLS_WANT_READ;
	for (i = 0; i < 1000; i++) {
		if (!dc) {
			*rc = tls_handshake(c);
			if (*rc == 0)
				dc = 1;
			else if (*rc == TLS_ERROR || *rc == TLS_CLOSED)
				return -1;
		}
		if (!ds) {
			*rs = tls_handshake(s);
			if (*rs == 0)
				ds = 1;
			else if (*rs == TLS_ERROR || *rs == TLS_CLOSED)
				return -1;
		}
		if (ds && dc)
			return 0;
		n = 0;
		if (!ds) {
			p[n].fd = s->fd;
			p[n++].events = events_for(*rs);
		}
		if (!dc) {
			p[n].fd = c->fd;
			p[n++].events = events_for(*rc);
		}
		if (poll(p, (nfds_t)n, 2000) <= 0)
			return -1;
	}
	return -1;
}

/* Runs the side that has not failed yet a few more times (to read the
 * alert the other one sent). */
static int
finish_other(struct tls_conn *t)
{
	struct pollfd p;
	int i, r = TLS_WANT_READ;

	for (i = 0; i < 20; i++) {
		r = tls_handshake(t);
		if (r != TLS_WANT_READ && r != TLS_WANT_WRITE)
			return r;
		p.fd = t->fd;
		p.events = events_for(r);
		if (poll(&p, 1, 1000) <= 0)
			return r;
	}
	return r;
}

/* Sends <n> bytes from <w> to <r>; returns 0 when they arrive intact. */
static int
transfer(struct tls_conn *w, struct tls_conn *r, const unsigned char *data,
    size_t n, unsigned char *out)
{
	struct pollfd p[2];
	size_t sent = 0, got = 0, k;
	ssize_t x;
	int wr = 0, rr = 0, np, spins = 0;

	while (got < n && spins < 100000) {
		spins++;
		if (sent < n) {
			k = n - sent < 16384 ? n - sent : 16384;
			x = tls_write(w, data + sent, k);
			if (x > 0) {
				sent += (size_t)x;
				wr = 0;
			} else if (x == TLS_WANT_WRITE || x == TLS_WANT_READ)
				wr = (int)x;
			else
				return -1;
		}
		x = tls_read(r, out + got, n - got);
		if (x > 0) {
			got += (size_t)x;
			continue;
		}
		if (x != TLS_WANT_READ && x != TLS_WANT_WRITE)
			return -1;
		rr = (int)x;
		np = 0;
		if (sent < n && wr != 0) {
			p[np].fd = w->fd;
			p[np++].events = events_for(wr);
		}
		p[np].fd = r->fd;
		p[np++].events = events_for(rr);
		if (sent >= n || wr != 0)
			if (poll(p, (nfds_t)np, 2000) <= 0)
				return -1;
	}
	return got == n && memcmp(data, out, n) == 0 ? 0 : -1;
}

static void
test_sni_handshake(void)
{
	static unsigned char big[300000], back[300000];
	char buf[64];
	const struct leaf *fb;
	int r, rs, rc;
	size_t i;
	ssize_t x;
	struct view v;

	ok(pair() == 0, "socketpair");
	fb = ca_leaf(&ca, VIEW_LIT("fallback.test"));
	r = tls_server_init(&srv, sctx, fds[0], fb);
	is_int(r, 0, "tls_server_init");
	r = tls_client_init(&cli, cctx, fds[1], VIEW_LIT("www.example.com"));
	is_int(r, 0, "tls_client_init");
	r = handshake(&srv, &cli, &rs, &rc);
	is_int(r, 0, "handshake: SNI chose the www.example.com leaf over the "
	    "fallback (server %s, client %s)", tls_error_str(&srv),
	    tls_error_str(&cli));
	if (r != 0) {
		unpair();
		return;
	}
	v = tls_alpn(&srv);
	ok(view_eq_cstr(v, "http/1.1"), "server ALPN http/1.1");
	v = tls_alpn(&cli);
	ok(view_eq_cstr(v, "http/1.1"), "client ALPN http/1.1");
	v = tls_sni(&srv);
	ok(view_eq_cstr(v, "www.example.com"), "server sees the SNI");
	is_str(wolfSSL_get_version(cli.ssl), "TLSv1.3", "TLS 1.3 by default");

	memcpy(big, "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n", 41);
	ok(transfer(&cli, &srv, big, 41, back) == 0, "request client->server");
	for (i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + i / 251);
	ok(transfer(&srv, &cli, big, sizeof(big), back) == 0,
	    "300 KB server->client through a small socket buffer");
	ok(transfer(&cli, &srv, big, sizeof(big), back) == 0,
	    "300 KB client->server");

	/* buffered plaintext is visible through tls_pending() */
	x = tls_write(&srv, big, 1000);
	is_int(x, 1000, "one 1000-byte record");
	for (i = 0; i < 100; i++) {
		x = tls_read(&cli, buf, 10);
		if (x != TLS_WANT_READ)
			break;
		usleep(1000);
	}
	is_int(x, 10, "read 10 bytes of it");
	ok(tls_pending(&cli) >= 990, "tls_pending reports the other 990");
	x = tls_read(&cli, back, sizeof(back));
	is_int(x, 990, "and they are readable without waiting");

	/* close_notify */
	is_int(tls_shutdown(&cli), 0, "client sends close_notify");
	for (i = 0; i < 100; i++) {
		x = tls_read(&srv, buf, sizeof(buf));
		if (x != TLS_WANT_READ)
			break;
		usleep(1000);
	}
	is_int(x, TLS_CLOSED, "server read: TLS_CLOSED");
	unpair();
}

static void
test_no_sni_ip(void)
{
	const struct leaf *fb;
	int r, rs, rc;

	ok(pair() == 0, "socketpair");
	fb = ca_leaf(&ca, VIEW_LIT("127.0.0.1"));
	r = tls_server_init(&srv, sctx, fds[0], fb);
	r |= tls_client_init(&cli, cctx, fds[1], VIEW_LIT("127.0.0.1"));
	r |= handshake(&srv, &cli, &rs, &rc);
	is_int(r, 0, "IP literal: no SNI, fallback leaf, IP SAN verified "
	    "(%s)", tls_error_str(&cli));
	is_int(tls_sni(&srv).n, 0, "no SNI was sent for an IP");
	unpair();

	ok(pair() == 0, "socketpair");
	fb = ca_leaf(&ca, VIEW_LIT("fallback.test"));
	r = tls_server_init(&srv, sctx, fds[0], fb);
	r |= tls_client_init(&cli, cctx, fds[1], VIEW_LIT("127.0.0.2"));
	is_int(r, 0, "endpoints for an IP mismatch");
	r = handshake(&srv, &cli, &rs, &rc);
	ok(r == -1 && rc == TLS_ERROR, "client refuses a leaf without the IP");
	ok(strstr(tls_error_str(&cli), "certificate verify failed") != NULL &&
	    strstr(tls_error_str(&cli), "127.0.0.2") != NULL,
	    "error: %s", tls_error_str(&cli));
	unpair();
}

static void
test_name_mismatch(void)
{
	WOLFSSL_CTX *plain;
	const struct leaf *other;
	int r, rs, rc;

	/* a server context without the SNI callback serves its fallback */
	plain = tls_server_ctx_new(&ca);
	ok(plain != NULL, "second server context");
	if (plain == NULL)
		return;
	wolfSSL_CTX_set_servername_callback(plain, NULL);
	ok(pair() == 0, "socketpair");
	other = ca_leaf(&ca, VIEW_LIT("other.test"));
	r = tls_server_init(&srv, plain, fds[0], other);
	r |= tls_client_init(&cli, cctx, fds[1], VIEW_LIT("www.example.com"));
	is_int(r, 0, "endpoints");
	r = handshake(&srv, &cli, &rs, &rc);
	ok(r == -1 && rc == TLS_ERROR, "hostname verification fails");
	is_int(cli.werr, DOMAIN_NAME_MISMATCH, "DOMAIN_NAME_MISMATCH");
	ok(strstr(tls_error_str(&cli), "certificate verify failed") != NULL &&
	    strstr(tls_error_str(&cli), "www.example.com") != NULL &&
	    strstr(tls_error_str(&cli), "mismatch") != NULL,
	    "error: %s", tls_error_str(&cli));
	rs = finish_other(&srv);
	is_int(rs, TLS_ERROR, "server sees the failure: %s",
	    tls_error_str(&srv));
	unpair();
	tls_ctx_free(plain);
}

static void
test_untrusted(void)
{
	WOLFSSL_CTX *sys;
	char err[256];
	int r, rs, rc;

	sys = tls_client_ctx_new(NULL, err, sizeof(err));
	ok(sys != NULL, "client context with system roots only (%s)",
	    sys ? "ok" : err);
	if (sys == NULL)
		return;
	ok(pair() == 0, "socketpair");
	r = tls_server_init(&srv, sctx, fds[0],
	    ca_leaf(&ca, VIEW_LIT("www.example.com")));
	r |= tls_client_init(&cli, sys, fds[1], VIEW_LIT("www.example.com"));
	r |= handshake(&srv, &cli, &rs, &rc);
	ok(r == -1 && rc == TLS_ERROR, "our CA is not trusted upstream");
	ok(strstr(tls_error_str(&cli), "certificate verify failed: unknown "
	    "issuer") != NULL, "error: %s", tls_error_str(&cli));
	unpair();
	tls_ctx_free(sys);

	sys = tls_client_ctx_new("/nonexistent/ca.pem", err, sizeof(err));
	ok(sys == NULL && strstr(err, "/nonexistent/ca.pem") != NULL,
	    "missing --upstream-ca file: %s", err);
}

static void
test_prepend(void)
{
	static unsigned char hb[TLS_PREPEND_MAX];
	struct hello h;
	const struct leaf *l;
	ssize_t n = 0, k;
	int r, rs, rc, i;
	struct view v;

	ok(pair() == 0, "socketpair");
	r = tls_client_init(&cli, cctx, fds[1], VIEW_LIT("peek.example"));
	is_int(tls_handshake(&cli), TLS_WANT_READ, "client sent its hello");
	/* the sniffer reads the first bytes itself */
	for (i = 0; i < 100; i++) {
		k = recv(fds[0], hb + n, sizeof(hb) - (size_t)n, 0);
		if (k > 0)
			n += k;
		r = hello_parse(hb, (size_t)n, &h);
		if (r != HELLO_INCOMPLETE)
			break;
	}
	ok(r > 0, "hello_parse on the bytes read from the socket");
	ok(view_eq_cstr(h.sni, "peek.example") && h.alpn_http11,
	    "SNI and ALPN from the peeked hello");
	l = ca_leaf(&ca, h.sni);
	r = tls_server_init(&srv, sctx, fds[0], l);
	is_int(r, 0, "server with the leaf chosen from the peek");
	r = tls_conn_prepend(&srv, hb, 5);
	r |= tls_conn_prepend(&srv, hb + 5, (size_t)n - 5);
	is_int(r, 0, "already-read bytes handed in (two pieces)");
	is_int(tls_pending(&srv), n, "tls_pending counts them");
	r = handshake(&srv, &cli, &rs, &rc);
	is_int(r, 0, "handshake completes from the prepended hello (%s)",
	    tls_error_str(&srv));
	v = tls_alpn(&srv);
	ok(view_eq_cstr(v, "http/1.1"), "ALPN http/1.1");

	/* EOF without close_notify */
	close(fds[1]);
	fds[1] = -1;
	for (i = 0; i < 100; i++) {
		k = tls_read(&srv, hb, sizeof(hb));
		if (k != TLS_WANT_READ)
			break;
		usleep(1000);
	}
	is_int(k, TLS_CLOSED, "peer EOF: TLS_CLOSED");
	unpair();

	memset(&srv, 0, sizeof(srv));
	is_int(tls_conn_prepend(&srv, hb, TLS_PREPEND_MAX), 0,
	    "prepend up to TLS_PREPEND_MAX");
	is_int(tls_conn_prepend(&srv, hb, 1), -1, "one byte more refused");
	srv.pre_off = srv.pre_len = 0;
}

/* A client with ALPN list <alpn> (or none) built on the endpoint setup. */
static int
raw_client(struct tls_conn *t, const char *alpn)
{
	char list[32];

	if (conn_setup(t, cctx, fds[1], 0) == -1)
		return -1;
	snprintf(t->host, sizeof(t->host), "alpn.test");
	wolfSSL_UseSNI(t->ssl, WOLFSSL_SNI_HOST_NAME, "alpn.test", 9);
	if (alpn != NULL) {
		snprintf(list, sizeof(list), "%s", alpn);
		wolfSSL_UseALPN(t->ssl, list, (unsigned)strlen(list),
		    WOLFSSL_ALPN_FAILED_ON_MISMATCH);
	}
	return 0;
}

static void
test_alpn(void)
{
	const struct leaf *l = ca_leaf(&ca, VIEW_LIT("alpn.test"));
	int r, rs, rc;

	ok(pair() == 0, "socketpair");
	r = tls_server_init(&srv, sctx, fds[0], l) | raw_client(&cli,
	    "h2,http/1.1");
	r |= handshake(&srv, &cli, &rs, &rc);
	ok(r == 0 && view_eq_cstr(tls_alpn(&cli), "http/1.1"),
	    "client offering h2,http/1.1 gets http/1.1");
	unpair();

	ok(pair() == 0, "socketpair");
	r = tls_server_init(&srv, sctx, fds[0], l) | raw_client(&cli, NULL);
	r |= handshake(&srv, &cli, &rs, &rc);
	ok(r == 0 && tls_alpn(&srv).n == 0, "client without ALPN is fine");
	unpair();

	ok(pair() == 0, "socketpair");
	r = tls_server_init(&srv, sctx, fds[0], l) | raw_client(&cli, "h2");
	is_int(r, 0, "h2-only client");
	r = handshake(&srv, &cli, &rs, &rc);
	ok(r == -1, "h2-only client refused");
	if (rs != TLS_ERROR)
		rs = finish_other(&srv);
	ok(rs == TLS_ERROR && strstr(tls_error_str(&srv), "ALPN") != NULL,
	    "server error: %s", tls_error_str(&srv));
	if (rc != TLS_ERROR)
		rc = finish_other(&cli);
	is_int(rc, TLS_ERROR, "client gets an alert: %s", tls_error_str(&cli));
	unpair();
}

static void
test_tls12(void)
{
	WOLFSSL_CTX *c12;
	struct view der;
	int r, rs, rc;

	c12 = wolfSSL_CTX_new(wolfTLSv1_2_client_method());
	ca_cert_der(&ca, &der);
	ok(c12 != NULL && wolfSSL_CTX_load_verify_buffer(c12,
	    (const unsigned char *)der.p, (long)der.n, WOLFSSL_FILETYPE_ASN1) ==
	    WOLFSSL_SUCCESS, "TLS 1.2-only client context");
	if (c12 == NULL)
		return;
	wolfSSL_CTX_set_verify(c12, WOLFSSL_VERIFY_PEER, NULL);
	wolfSSL_CTX_SetIORecv(c12, io_recv);
	wolfSSL_CTX_SetIOSend(c12, io_send);
	ok(pair() == 0, "socketpair");
	r = tls_server_init(&srv, sctx, fds[0],
	    ca_leaf(&ca, VIEW_LIT("fallback.test")));
	r |= tls_client_init(&cli, c12, fds[1], VIEW_LIT("v12.example"));
	r |= handshake(&srv, &cli, &rs, &rc);
	is_int(r, 0, "TLS 1.2 handshake (%s)", tls_error_str(&cli));
	if (r == 0)
		is_str(wolfSSL_get_version(srv.ssl), "TLSv1.2", "TLS 1.2");
	unpair();
	wolfSSL_CTX_free(c12);
}

/*
 * An RSA-2048 CA as the Go tool makes it, written into <dir>: the proxy
 * signs ECDSA leaves with it.  Returns 0 or -1.
 */
static int
make_rsa_ca(const char *dir)
{
	static Cert c;
	static unsigned char der[4096], kder[4096];
	static char pem[8192];
	char path[PATH_MAX];
	WC_RNG rng;
	RsaKey rk;
	FILE *f;
	int n, kn, ret = -1;

	if (wc_InitRng(&rng) != 0)
		return -1;
	wc_InitRsaKey(&rk, NULL);
	if (wc_MakeRsaKey(&rk, 2048, WC_RSA_EXPONENT, &rng) != 0)
		goto out;
	kn = wc_RsaKeyToDer(&rk, kder, sizeof(kder));
	wc_InitCert(&c);
	c.isCA = 1;
	c.sigType = CTC_SHA256wRSA;
	c.daysValid = 365;
	snprintf(c.subject.commonName, sizeof(c.subject.commonName),
	    "coder CA");
	snprintf(c.subject.org, sizeof(c.subject.org), "coder");
	wc_SetKeyUsage(&c, "keyCertSign,digitalSignature,keyEncipherment");
	wc_SetSubjectKeyIdFromPublicKey_ex(&c, RSA_TYPE, &rk);
	n = wc_MakeCert_ex(&c, der, sizeof(der), RSA_TYPE, &rk, &rng);
	if (kn <= 0 || n < 0)
		goto out;
	n = wc_SignCert_ex(c.bodySz, c.sigType, der, sizeof(der), RSA_TYPE,
	    &rk, &rng);
	if (n < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/ca-cert.pem", dir);
	n = wc_DerToPem(der, (word32)n, (byte *)pem, sizeof(pem), CERT_TYPE);
	if (n <= 0 || (f = fopen(path, "w")) == NULL)
		goto out;
	fwrite(pem, 1, (size_t)n, f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/ca-key.pem", dir);
	n = wc_DerToPem(kder, (word32)kn, (byte *)pem, sizeof(pem),
	    PRIVATEKEY_TYPE);
	if (n <= 0 || (f = fopen(path, "w")) == NULL)
		goto out;
	fchmod(fileno(f), 0600);
	fwrite(pem, 1, (size_t)n, f);
	fclose(f);
	ret = 0;
 out:
	wc_FreeRsaKey(&rk);
	wc_FreeRng(&rng);
	return ret;
}

static void
test_rsa_ca(void)
{
	struct ca rca;
	WOLFSSL_CTX *rs_ctx, *c13, *c12;
	struct view der;
	char dir[1024], err[512];
	int r, rs, rc;

	snprintf(dir, sizeof(dir), "%s/rsa", tdir);
	mkdir(dir, 0700);
	ok(make_rsa_ca(dir) == 0, "RSA CA files made");
	r = ca_open(&rca, dir, 0, err, sizeof(err));
	is_int(r, 0, "RSA CA opened (%s)", r ? err : "ok");
	if (r != 0)
		return;
	rs_ctx = tls_server_ctx_new(&rca);
	ca_cert_der(&rca, &der);
	c13 = wolfSSL_CTX_new(wolfSSLv23_client_method());
	c12 = wolfSSL_CTX_new(wolfTLSv1_2_client_method());
	ok(rs_ctx != NULL && c13 != NULL && c12 != NULL, "contexts");
	if (rs_ctx != NULL && c13 != NULL && c12 != NULL) {
		WOLFSSL_CTX *cs[2] = { c13, c12 };
		int i;

		for (i = 0; i < 2; i++) {
			wolfSSL_CTX_load_verify_buffer(cs[i],
			    (const unsigned char *)der.p, (long)der.n,
			    WOLFSSL_FILETYPE_ASN1);
			wolfSSL_CTX_set_verify(cs[i], WOLFSSL_VERIFY_PEER, NULL);
			wolfSSL_CTX_SetIORecv(cs[i], io_recv);
			wolfSSL_CTX_SetIOSend(cs[i], io_send);
			ok(pair() == 0, "socketpair");
			r = tls_server_init(&srv, rs_ctx, fds[0],
			    ca_leaf(&rca, VIEW_LIT("rsa.example")));
			r |= tls_client_init(&cli, cs[i], fds[1],
			    VIEW_LIT("rsa.example"));
			r |= handshake(&srv, &cli, &rs, &rc);
			is_int(r, 0, "%s handshake with an RSA-signed ECDSA leaf "
			    "(%s / %s)", i ? "TLS 1.2" : "TLS 1.3",
			    tls_error_str(&srv), tls_error_str(&cli));
			unpair();
		}
	}
	if (c13 != NULL)
		wolfSSL_CTX_free(c13);
	if (c12 != NULL)
		wolfSSL_CTX_free(c12);
	tls_ctx_free(rs_ctx);
	ca_close(&rca);
}

static int
rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void
test_runtime__tls_c(void)
{
	char err[512];

	is_str(tls_rc_str(TLS_WANT_WRITE), "want-write", "tls_rc_str");
	is_str(tls_rc_str(TLS_CLOSED), "closed", "tls_rc_str closed");
	if (mkdtemp(tdir) == NULL || ca_open(&ca, NULL, 1, err,
	    sizeof(err)) == -1) {
		ok(0, "test CA");
		return;
	}
	snprintf(cafile, sizeof(cafile), "%s/ca.pem", tdir);
	ok(ca_write_cert(&ca, cafile) == 0, "test CA written for the client");
	sctx = tls_server_ctx_new(&ca);
	ok(sctx != NULL, "server context");
	cctx = tls_client_ctx_new(cafile, err, sizeof(err));
	ok(cctx != NULL, "client context trusting the test CA (%s)",
	    cctx ? "ok" : err);
	if (sctx != NULL && cctx != NULL) {
		test_sni_handshake();
		test_no_sni_ip();
		test_name_mismatch();
		test_untrusted();
		test_prepend();
		test_alpn();
		test_tls12();
		test_rsa_ca();
	}
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
	cctx = sctx = NULL;
	ca_close(&ca);
	nftw(tdir, rm_cb, 8, FTW_DEPTH | FTW_PHYS);
}
