/*
 * Tests runtime/ca.c: CA files (modes, content, reuse), refusal of an
 * unsafe key file, regeneration of a mismatched or expired pair, an RSA CA
 * made at test time, the ephemeral mode, leaf contents (SAN, EKU, dates,
 * chain to the CA via wolfSSL's certificate manager), the cache (hits cost
 * no signature, LRU eviction, re-minting).  Everything lives in a mkdtemp
 * directory; HOME and XDG_CONFIG_HOME point there.
 */
#include "runtime/ca.c"

#include <wolfssl/wolfcrypt/asn.h>

#include <dirent.h>
#include <ftw.h>
#include <sys/wait.h>

#include "tests/tap.h"

void test_runtime__ca_c(void);

static char tmpdir[] = "/tmp/boundary-ca-test-XXXXXX";

static mode_t
mode_of(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static size_t
slurp(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return n;
}

static int
rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* A DecodedCert of <der>, parsed without verification; free with
 * wc_FreeDecodedCert. */
static int
decode(DecodedCert *dc, const unsigned char *der, size_t len)
{
	wc_InitDecodedCert(dc, der, (word32)len, NULL);
	return wc_ParseCert(dc, CERT_TYPE, NO_VERIFY, NULL);
}

/* Does <leaf_der> chain to the CA <ca_der>? */
static int
verifies(const unsigned char *ca_der, size_t ca_len,
    const unsigned char *leaf_der, size_t leaf_len)
{
	WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();
	int ok = 0;

	if (cm == NULL)
		return 0;
	if (wolfSSL_CertManagerLoadCABuffer(cm, ca_der, (long)ca_len,
	    WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS &&
	    wolfSSL_CertManagerVerifyBuffer(cm, leaf_der, (long)leaf_len,
	    WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS)
		ok = 1;
	wolfSSL_CertManagerFree(cm);
	return ok;
}

static void
pem_to_der(const char *path, unsigned char *der, size_t cap, size_t *len)
{
	static char pem[CA_FILE_MAX];
	size_t n = slurp(path, pem, sizeof(pem));
	int r = wc_CertPemToDer((const byte *)pem, (int)n, der, (int)cap,
	    CERT_TYPE);

	*len = r > 0 ? (size_t)r : 0;
}

static int
write_mode(const char *path, const void *p, size_t n, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "wb");
	if (f == NULL)
		return -1;
	fwrite(p, 1, n, f);
	fclose(f);
	return chmod(path, mode);
}

/*
 * A self-signed CA made here, independent of ca.c's creation code: an
 * ECC or RSA key and a certificate valid from <before> to <after>, written
 * as <dir>/ca-key.pem (0600) and <dir>/ca-cert.pem.
 */
static int
make_ca_files(const char *dir, int rsa, time_t before, time_t after,
    unsigned char *cert_der, size_t *cert_len)
{
	static Cert c;
	WC_RNG rng;
	ecc_key ecc;
	RsaKey rk;
	unsigned char kder[4096], der[4096];
	char pem[8192], path[PATH_MAX];
	void *key;
	int type = rsa ? RSA_TYPE : ECC_TYPE, n, kn, ret = -1;

	if (wc_InitRng(&rng) != 0)
		return -1;
	if (rsa) {
		wc_InitRsaKey(&rk, NULL);
		if (wc_MakeRsaKey(&rk, 2048, WC_RSA_EXPONENT, &rng) != 0)
			goto out;
		key = &rk;
		kn = wc_RsaKeyToDer(&rk, kder, sizeof(kder));
	} else {
		wc_ecc_init(&ecc);
		if (wc_ecc_make_key_ex(&rng, 32, &ecc, ECC_SECP256R1) != 0)
			goto out;
		key = &ecc;
		kn = wc_EccKeyToDer(&ecc, kder, sizeof(kder));
	}
	if (kn <= 0)
		goto out;
	wc_InitCert(&c);
	c.isCA = 1;
	c.sigType = rsa ? CTC_SHA256wRSA : CTC_SHA256wECDSA;
	snprintf(c.subject.commonName, sizeof(c.subject.commonName),
	    "coder CA");
	snprintf(c.subject.org, sizeof(c.subject.org), "coder");
	snprintf(c.subject.country, sizeof(c.subject.country), "US");
	if (set_serial(&c, &rng) == -1 || set_dates(&c, before, after) == -1)
		goto out;
	wc_SetKeyUsage(&c, "keyCertSign,digitalSignature,keyEncipherment");
	n = wc_MakeCert_ex(&c, der, sizeof(der), type, key, &rng);
	if (n < 0)
		goto out;
	n = wc_SignCert_ex(c.bodySz, c.sigType, der, sizeof(der), type, key,
	    &rng);
	if (n < 0)
		goto out;
	memcpy(cert_der, der, (size_t)n);
	*cert_len = (size_t)n;
	snprintf(path, sizeof(path), "%s/ca-cert.pem", dir);
	n = wc_DerToPem(der, (word32)n, (byte *)pem, sizeof(pem), CERT_TYPE);
	if (n <= 0 || write_mode(path, pem, (size_t)n, 0644) == -1)
		goto out;
	snprintf(path, sizeof(path), "%s/ca-key.pem", dir);
	n = wc_DerToPem(kder, (word32)kn, (byte *)pem, sizeof(pem),
	    rsa ? PRIVATEKEY_TYPE : ECC_PRIVATEKEY_TYPE);
	if (n <= 0 || write_mode(path, pem, (size_t)n, 0600) == -1)
		goto out;
	ret = 0;
 out:
	if (rsa)
		wc_FreeRsaKey(&rk);
	else
		wc_ecc_free(&ecc);
	wc_FreeRng(&rng);
	return ret;
}

static void
test_default_dir(void)
{
	char buf[PATH_MAX], want[PATH_MAX];

	snprintf(want, sizeof(want), "%s/xdg/coder_boundary", tmpdir);
	ok(ca_default_dir(buf, sizeof(buf)) == 0 && strcmp(buf, want) == 0,
	    "XDG_CONFIG_HOME/coder_boundary");
	unsetenv("XDG_CONFIG_HOME");
	snprintf(want, sizeof(want), "%s/.config/coder_boundary", tmpdir);
	ok(ca_default_dir(buf, sizeof(buf)) == 0 && strcmp(buf, want) == 0,
	    "HOME/.config/coder_boundary without XDG_CONFIG_HOME");
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);
	ok(ca_default_dir(buf, sizeof(buf)) == 0 && strcmp(buf, want) == 0,
	    "a relative XDG_CONFIG_HOME is ignored");
	is_int(ca_default_dir(buf, 10), -1, "too small a buffer");
	snprintf(buf, sizeof(buf), "%s/xdg", tmpdir);
	setenv("XDG_CONFIG_HOME", buf, 1);
}

static void
test_persistent(void)
{
	static unsigned char der[8192], der2[8192], other[8192];
	char dir[1024], kpath[PATH_MAX], cpath[PATH_MAX], err[512];
	char path[PATH_MAX];
	static char pem[CA_FILE_MAX];
	struct ca ca, ca2;
	struct view v;
	DecodedCert dc;
	size_t len, len2, olen;
	time_t b, a, now = time(NULL);
	unsigned long before;
	int r;

	r = ca_default_dir(dir, sizeof(dir));
	snprintf(kpath, sizeof(kpath), "%s/ca-key.pem", dir);
	snprintf(cpath, sizeof(cpath), "%s/ca-cert.pem", dir);
	ok(r == 0 && !exists(dir), "config dir does not exist yet");

	r = ca_open(&ca, dir, 0, err, sizeof(err));
	is_int(r, 0, "ca_open creates a CA (%s)", r ? err : "ok");
	if (r != 0)
		return;
	is_int(mode_of(dir), 0700, "directory mode 0700");
	is_int(mode_of(kpath), 0600, "ca-key.pem mode 0600");
	is_int(mode_of(cpath), 0644, "ca-cert.pem mode 0644");
	is_str(ca_cert_file(&ca), cpath, "ca_cert_file");
	slurp(kpath, pem, sizeof(pem));
	ok(strncmp(pem, "-----BEGIN EC PRIVATE KEY-----", 30) == 0,
	    "key file is a PEM EC private key");
	pem_to_der(cpath, der, sizeof(der), &len);
	ca_cert_der(&ca, &v);
	is_mem(der, len, v.p, v.n, "the file holds the CA certificate");
	ca_cert_pem(&ca, &v);
	slurp(cpath, pem, sizeof(pem));
	is_mem(pem, strlen(pem), v.p, v.n, "ca_cert_pem is the file's text");

	r = decode(&dc, der, len);
	is_int(r, 0, "certificate parses");
	ok(dc.isCA && dc.pathLengthSet && dc.pathLength == 0,
	    "CA:TRUE, pathlen 0");
	ok(dc.keyOID == ECDSAk, "ECDSA key");
	ok((dc.extKeyUsage & (KEYUSE_KEY_CERT_SIGN | KEYUSE_CRL_SIGN)) ==
	    (KEYUSE_KEY_CERT_SIGN | KEYUSE_CRL_SIGN), "keyCertSign, cRLSign");
	ok(dc.subjectCN != NULL && dc.subjectCNLen > 12 &&
	    memcmp(dc.subjectCN, "boundary CA ", 12) == 0,
	    "CN \"boundary CA ...\"");
	wc_FreeDecodedCert(&dc);
	r = cert_dates(der, len, &b, &a);
	ok(r == 0 && b <= now - CERT_BACKDATE_SECS + 5 &&
	    b >= now - CERT_BACKDATE_SECS - 5, "notBefore is back-dated");
	ok(r == 0 && a >= now + CA_VALID_SECS - 5 &&
	    a <= now + CA_VALID_SECS + 5, "notAfter = now + CA_VALID_SECS");
	ok(verifies(der, len, der, len), "self-signed CA verifies");
	ca_close(&ca);
	ca_close(&ca);
	ok(ca.st == NULL, "ca_close is idempotent");

	/* reuse */
	before = sign_count;
	r = ca_open(&ca2, dir, 0, err, sizeof(err));
	ca_cert_der(&ca2, &v);
	ok(r == 0 && view_eq(v, view_make((const char *)der, len)),
	    "second open reuses the same certificate");
	is_int(sign_count - before, 0, "and signs nothing");
	ca_close(&ca2);

	/* unsafe key files are refused, nothing is overwritten */
	chmod(kpath, 0640);
	r = ca_open(&ca2, dir, 0, err, sizeof(err));
	ok(r == -1 && strstr(err, "chmod 600") != NULL,
	    "group-readable key refused: %s", err);
	is_int(mode_of(kpath), 0640, "key left as it was");
	chmod(kpath, 0604);
	r = ca_open(&ca2, dir, 0, err, sizeof(err));
	is_int(r, -1, "world-readable key refused");
	chmod(kpath, 0600);
	snprintf(pem, sizeof(pem), "%s/real-key.pem", tmpdir);
	rename(kpath, pem);
	ok(symlink(pem, kpath) == 0, "key replaced by a symlink");
	r = ca_open(&ca2, dir, 0, err, sizeof(err));
	ok(r == -1 && strstr(err, "symbolic link") != NULL,
	    "symlinked key refused: %s", err);
	unlink(kpath);
	rename(pem, kpath);
	r = ca_open(&ca2, dir, 0, err, sizeof(err));
	ca_cert_der(&ca2, &v);
	ok(r == 0 && view_eq(v, view_make((const char *)der, len)),
	    "restored key accepted again");
	ca_close(&ca2);

	/* a key that does not match the certificate: regenerated */
	snprintf(pem, sizeof(pem), "%s/other", tmpdir);
	mkdir(pem, 0700);
	make_ca_files(pem, 0, now - 60, now + 86400 * 365, other, &olen);
	snprintf(path, sizeof(path), "%s/other/ca-key.pem", tmpdir);
	rename(path, kpath);
	r = ca_open(&ca2, dir, 0, err, sizeof(err));
	is_int(r, 0, "mismatched pair: open succeeds");
	pem_to_der(cpath, der2, sizeof(der2), &len2);
	ok(!view_eq(view_make((const char *)der2, len2),
	    view_make((const char *)der, len)),
	    "mismatched pair: a new CA was generated");
	ca_cert_der(&ca2, &v);
	ok(view_eq(v, view_make((const char *)der2, len2)),
	    "and written to ca-cert.pem");
	is_int(mode_of(kpath), 0600, "new key file 0600");
	ca_close(&ca2);
	r = ca_open(&ca2, dir, 0, err, sizeof(err));
	ca_cert_der(&ca2, &v);
	ok(r == 0 && view_eq(v, view_make((const char *)der2, len2)),
	    "the regenerated pair matches (reused on the next open)");
	ca_close(&ca2);

	/* an expired CA: regenerated */
	make_ca_files(dir, 0, now - 86400 * 30, now - 86400, other, &olen);
	r = ca_open(&ca2, dir, 0, err, sizeof(err));
	ca_cert_der(&ca2, &v);
	ok(r == 0 && !view_eq(v, view_make((const char *)other, olen)),
	    "expired CA replaced");
	r = cert_dates((const unsigned char *)v.p, v.n, &b, &a);
	ok(r == 0 && a > now + LEAF_VALID_SECS, "by a valid one");
	ca_close(&ca2);

	/* a CA certificate that is not a CA: regenerated */
	write_mode(cpath, "garbage\n", 8, 0644);
	r = ca_open(&ca2, dir, 0, err, sizeof(err));
	is_int(r, 0, "unparsable certificate replaced");
	ca_close(&ca2);
}

static void
test_rsa(void)
{
	static unsigned char der[8192];
	char dir[1024], err[512];
	struct ca ca;
	struct view v;
	const struct leaf *l;
	size_t len;
	time_t now = time(NULL);
	int r;

	snprintf(dir, sizeof(dir), "%s/rsa", tmpdir);
	mkdir(dir, 0700);
	r = make_ca_files(dir, 1, now - 60, now + 365 * 86400, der, &len);
	is_int(r, 0, "made an RSA-2048 CA (as the Go tool does)");
	r = ca_open(&ca, dir, 0, err, sizeof(err));
	is_int(r, 0, "existing RSA CA accepted (%s)", r ? err : "ok");
	if (r != 0)
		return;
	ca_cert_der(&ca, &v);
	ok(view_eq(v, view_make((const char *)der, len)), "and used as is");
	is_int(ca.st->key_type, RSA_TYPE, "RSA signing key");
	l = ca_leaf(&ca, VIEW_LIT("rsa.example"));
	ok(l != NULL && verifies(der, len, l->cert_der, l->cert_len),
	    "leaf signed by the RSA CA verifies");
	ca_close(&ca);
}

static int
san_is(const unsigned char *der, size_t len, int type, const void *want,
    size_t wlen)
{
	DecodedCert dc;
	DNS_entry *e;
	int n = 0, hit = 0;

	if (decode(&dc, der, len) != 0) {
		wc_FreeDecodedCert(&dc);
		return 0;
	}
	for (e = dc.altNames; e != NULL; e = e->next) {
		n++;
		if (e->type == type && (size_t)e->len == wlen &&
		    memcmp(e->name, want, wlen) == 0)
			hit = 1;
	}
	wc_FreeDecodedCert(&dc);
	return n == 1 && hit;
}

static void
test_ephemeral_and_leaves(void)
{
	char dir[1024], path[PATH_MAX], err[512];
	static char pem[CA_FILE_MAX];
	struct ca ca, other;
	struct view v, ov;
	const struct leaf *l, *l2;
	DecodedCert dc;
	time_t b, a, now = time(NULL);
	unsigned long before;
	int r;

	snprintf(dir, sizeof(dir), "%s/eph-config", tmpdir);
	r = ca_open(&ca, dir, 1, err, sizeof(err));
	is_int(r, 0, "ephemeral CA");
	if (r != 0)
		return;
	ok(!exists(dir), "ephemeral: nothing written to the config dir");
	ok(ca_cert_file(&ca) == NULL, "no certificate file yet");
	snprintf(path, sizeof(path), "%s/eph-ca.pem", tmpdir);
	is_int(ca_write_cert(&ca, path), 0, "ca_write_cert");
	is_int(mode_of(path), 0644, "written 0644");
	ca_cert_pem(&ca, &v);
	slurp(path, pem, sizeof(pem));
	is_mem(pem, strlen(pem), v.p, v.n, "the file is the certificate");
	ok(strstr(pem, "PRIVATE KEY") == NULL, "and holds no key");
	is_str(ca_cert_file(&ca), path, "ca_cert_file after writing");
	snprintf(path, sizeof(path), "%s/no/such/dir/ca.pem", tmpdir);
	is_int(ca_write_cert(&ca, path), -1, "write to a missing dir fails");

	ca_cert_der(&ca, &v);
	l = ca_leaf(&ca, VIEW_LIT("www.example.com"));
	ok(l != NULL, "leaf minted");
	if (l == NULL)
		goto out;
	ok(verifies((const unsigned char *)v.p, v.n, l->cert_der, l->cert_len),
	    "leaf verifies against the CA (certificate manager)");
	ok(san_is(l->cert_der, l->cert_len, ASN_DNS_TYPE, "www.example.com",
	    15), "SAN DNS:www.example.com only");
	r = decode(&dc, l->cert_der, l->cert_len);
	ok(r == 0 && !dc.isCA, "leaf is not a CA");
	ok(r == 0 && (dc.extExtKeyUsage & EXTKEYUSE_SERVER_AUTH),
	    "EKU serverAuth");
	ok(r == 0 && (dc.extKeyUsage & KEYUSE_DIGITAL_SIG), "digitalSignature");
	ok(r == 0 && dc.serialSz == 16, "16-byte serial");
	ok(r == 0 && dc.keyOID == ECDSAk, "ECDSA leaf key");
	wc_FreeDecodedCert(&dc);
	r = cert_dates(l->cert_der, l->cert_len, &b, &a);
	ok(r == 0 && b >= now - CERT_BACKDATE_SECS - 5 &&
	    b <= now - CERT_BACKDATE_SECS + 5, "leaf back-dated");
	ok(r == 0 && a >= now + LEAF_VALID_SECS - 5 &&
	    a <= now + LEAF_VALID_SECS + 5, "leaf valid LEAF_VALID_SECS");
	ok(key_matches(l->cert_der, l->cert_len, ECC_TYPE, &ca.st->leaf_key),
	    "leaf key matches the leaf certificate");
	ok(!key_matches(l->cert_der, l->cert_len, ECC_TYPE, &ca.st->ca_ecc),
	    "the CA key does not (the check can fail)");
	r = ca_open(&other, NULL, 1, err, sizeof(err));
	ca_cert_der(&other, &ov);
	ok(r == 0 && !verifies((const unsigned char *)ov.p, ov.n, l->cert_der,
	    l->cert_len), "but not against another CA");
	l2 = ca_leaf(&other, VIEW_LIT("x.test"));
	ok(l2 != NULL && l2->key_der != NULL &&
	    !view_eq(view_make((const char *)l2->key_der, l2->key_len),
	    view_make((const char *)ca.st->leaf_key_der, ca.st->leaf_key_len)),
	    "each process/CA has its own leaf key");
	ca_close(&other);

	/* cache hits cost no signature */
	before = sign_count;
	l2 = ca_leaf(&ca, VIEW_LIT("WWW.Example.COM."));
	ok(l2 == l, "same host (case, trailing dot folded): same entry");
	is_int(sign_count - before, 0, "cache hit: no signature");
	l2 = ca_leaf(&ca, VIEW_LIT("other.example.com"));
	ok(l2 != NULL && l2->key_der == l->key_der,
	    "another host shares the one leaf key");
	is_int(sign_count - before, 1, "a new host costs one signature");

	l = ca_leaf(&ca, VIEW_LIT("127.0.0.1"));
	ok(l != NULL && san_is(l->cert_der, l->cert_len, ASN_IP_TYPE,
	    "\x7f\x00\x00\x01", 4), "IPv4 leaf: SAN IP:127.0.0.1");
	ok(l != NULL && verifies((const unsigned char *)v.p, v.n, l->cert_der,
	    l->cert_len), "IPv4 leaf verifies");
	l = ca_leaf(&ca, VIEW_LIT("[::1]"));
	ok(l != NULL && san_is(l->cert_der, l->cert_len, ASN_IP_TYPE,
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16),
	    "IPv6 leaf: SAN IP:::1");
	ok(l != NULL && view_eq_cstr(l->host, "::1"), "canonical host ::1");
	before = sign_count;
	l2 = ca_leaf(&ca, VIEW_LIT("0:0::1"));
	ok(l2 == l && sign_count == before, "IPv6 spellings share an entry");

	before = sign_count;
	ok(ca_leaf(&ca, VIEW_LIT("")) == NULL, "empty host refused");
	ok(ca_leaf(&ca, VIEW_LIT("a..b")) == NULL, "empty label refused");
	ok(ca_leaf(&ca, VIEW_LIT("*.example.com")) == NULL, "wildcard refused");
	ok(ca_leaf(&ca, VIEW_LIT("a b")) == NULL, "space refused");
	ok(ca_leaf(&ca, VIEW_LIT("[example.com]")) == NULL,
	    "bracketed name refused");
	ok(ca_leaf(&ca, view_make("a\0b", 3)) == NULL, "NUL refused");
	is_int(sign_count - before, 0, "refusals sign nothing");
 out:
	ca_close(&ca);
}

static void
test_lru(void)
{
	struct ca ca;
	char err[256];
	const struct leaf *a, *l;
	unsigned long before;
	int r;

	r = ca_open_cap(&ca, NULL, 1, 3, 0, err, sizeof(err));
	is_int(r, 0, "CA with a 3-entry cache");
	if (r != 0)
		return;
	a = ca_leaf(&ca, VIEW_LIT("a.test"));
	ca_leaf(&ca, VIEW_LIT("b.test"));
	ca_leaf(&ca, VIEW_LIT("c.test"));
	before = sign_count;
	ok(ca_leaf(&ca, VIEW_LIT("a.test")) == a, "a is cached");
	l = ca_leaf(&ca, VIEW_LIT("d.test"));	/* evicts b, the LRU */
	ok(l != NULL && view_eq_cstr(l->host, "d.test"), "d minted");
	is_int(sign_count - before, 1, "one signature for d");
	before = sign_count;
	ca_leaf(&ca, VIEW_LIT("a.test"));
	ca_leaf(&ca, VIEW_LIT("c.test"));
	ca_leaf(&ca, VIEW_LIT("d.test"));
	is_int(sign_count - before, 0, "a, c, d still cached");
	l = ca_leaf(&ca, VIEW_LIT("b.test"));
	is_int(sign_count - before, 1, "b was evicted: re-minted");
	ok(l != NULL && verifies(ca.st->cert_der, ca.st->cert_len, l->cert_der,
	    l->cert_len), "the re-minted b verifies");

	/* an old entry is re-minted, not served */
	l = ca_leaf(&ca, VIEW_LIT("d.test"));
	{
		struct entry *e = &ca.st->entries[(const struct entry *)
		    (const void *)((const char *)l - offsetof(struct entry,
		    leaf)) - ca.st->entries];
		unsigned char old[LEAF_DER_MAX];
		size_t olen = l->cert_len;

		memcpy(old, l->cert_der, olen);
		e->leaf.minted -= LEAF_REMINT_SECS;
		before = sign_count;
		l = ca_leaf(&ca, VIEW_LIT("d.test"));
		is_int(sign_count - before, 1, "stale leaf re-minted");
		ok(l != NULL && !view_eq(view_make((char *)old, olen),
		    view_make((const char *)l->cert_der, l->cert_len)),
		    "with a new certificate");
	}
	ca_close(&ca);
}

/* ca_open_deferred: no leaf key until asked; the first ca_leaf makes it. */
static void
test_deferred_leaf_key(void)
{
	struct ca ca;
	struct view v;
	const struct leaf *l, *l2;
	char err[512];
	int r;

	r = ca_open_deferred(&ca, NULL, 1, err, sizeof(err));
	is_int(r, 0, "deferred ephemeral CA");
	if (r != 0)
		return;
	ok(!ca.st->leaf_ready, "no leaf key yet");
	l = ca_leaf(&ca, VIEW_LIT("lazy.example"));
	ok(l != NULL && ca.st->leaf_ready, "the first leaf makes the key");
	ca_cert_der(&ca, &v);
	ok(l != NULL && verifies((const unsigned char *)v.p, v.n, l->cert_der,
	    l->cert_len), "and verifies against the CA");
	ca_close(&ca);

	r = ca_open_deferred(&ca, NULL, 1, err, sizeof(err));
	is_int(r, 0, "deferred again");
	if (r != 0)
		return;
	is_int(ca_prepare_leaf(&ca, err, sizeof(err)), 0, "ca_prepare_leaf");
	ok(ca.st->leaf_ready, "key made");
	is_int(ca_prepare_leaf(&ca, err, sizeof(err)), 0, "idempotent");
	l = ca_leaf(&ca, VIEW_LIT("a.example"));
	l2 = l != NULL ? ca_leaf(&ca, VIEW_LIT("b.example")) : NULL;
	ok(l2 != NULL, "leaves minted after ca_prepare_leaf");
	ca_close(&ca);
}

void
test_runtime__ca_c(void)
{
	char buf[PATH_MAX];
	char *home = getenv("HOME"), *xdg = getenv("XDG_CONFIG_HOME");
	char saved_home[PATH_MAX] = "", saved_xdg[PATH_MAX] = "";
	int had_xdg = xdg != NULL;

	if (home != NULL)
		snprintf(saved_home, sizeof(saved_home), "%s", home);
	if (xdg != NULL)
		snprintf(saved_xdg, sizeof(saved_xdg), "%s", xdg);
	if (mkdtemp(tmpdir) == NULL) {
		ok(0, "mkdtemp");
		return;
	}
	setenv("HOME", tmpdir, 1);
	snprintf(buf, sizeof(buf), "%s/xdg", tmpdir);
	setenv("XDG_CONFIG_HOME", buf, 1);
	wolfSSL_Init();

	test_default_dir();
	test_persistent();
	test_rsa();
	test_ephemeral_and_leaves();
	test_deferred_leaf_key();
	test_lru();

	wolfSSL_Cleanup();
	nftw(tmpdir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	if (saved_home[0] != '\0')
		setenv("HOME", saved_home, 1);
	if (had_xdg)
		setenv("XDG_CONFIG_HOME", saved_xdg, 1);
	else
		unsetenv("XDG_CONFIG_HOME");
}
