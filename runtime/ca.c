/*
 * Local CA and leaf certificate minting (see ca.h).
 *
 * The CA is either loaded from the Go tool's files or created as ECDSA
 * P-256.  Leaves share one P-256 key generated at ca_open() and are signed
 * on demand from a template prepared at ca_open(), so minting a leaf costs
 * one signature.  The cache is a fixed array of entries with a hash chain
 * per bucket and a doubly linked LRU list, all indexes, all allocated at
 * ca_open().
 */
#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "runtime/ca.h"
#include "runtime/limits.h"

#define NIL UINT32_MAX
#define KEY_DER_MAX 4096	/* DER private key we read (RSA-4096 fits) */
#define LEAF_KEY_DER_MAX 256	/* DER of the P-256 leaf key */
#define CA_DIR_NAME "coder_boundary"
#define CA_CERT_NAME "ca-cert.pem"
#define CA_KEY_NAME "ca-key.pem"

struct entry {
	struct leaf leaf;
	uint32_t hash;
	uint32_t hnext;		/* next in bucket chain, or in the free list */
	uint32_t prev, next;	/* LRU list: prev towards MRU */
	char host[MAX_HOST_LEN + 1];
	unsigned char der[LEAF_DER_MAX];
};

struct ca_state {
	WC_RNG rng;
	int rng_ok;
	int key_type;		/* ECC_TYPE or RSA_TYPE: the CA key */
	ecc_key ca_ecc;
	int ca_ecc_ok;
	RsaKey ca_rsa;
	int ca_rsa_ok;
	ecc_key leaf_key;
	int leaf_key_ok;
	int leaf_ready;		/* leaf_setup done (ca_prepare_leaf) */
	unsigned char leaf_key_der[LEAF_KEY_DER_MAX];
	size_t leaf_key_len;
	unsigned char *cert_der;
	size_t cert_len;
	char *cert_pem;
	size_t pem_len;
	char cert_file[PATH_MAX];
	Cert tmpl;		/* leaf template: issuer, AKID, usages */
	Cert scratch;		/* the leaf being minted */
	uint32_t cap, mru, lru, free_head;
	uint32_t nbuckets;	/* power of two */
	uint32_t *buckets;
	struct entry *entries;
};

/* Signatures made by this process (CA and leaves); tests read it. */
static unsigned long sign_count;

static void errf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* wolfSSL's own text for a wolfCrypt error code. */
static const char *
wc_str(int code)
{
	return wc_GetErrorString(code);
}

int
ca_default_dir(char *buf, size_t n)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	struct passwd *pw;
	int r;

	if (xdg != NULL && xdg[0] == '/')
		r = snprintf(buf, n, "%s/%s", xdg, CA_DIR_NAME);
	else {
		if (home == NULL || home[0] == '\0') {
			pw = getpwuid(getuid());
			if (pw == NULL || pw->pw_dir == NULL || pw->pw_dir[0] == '\0')
				return -1;
			home = pw->pw_dir;
		}
		r = snprintf(buf, n, "%s/.config/%s", home, CA_DIR_NAME);
	}
	if (r < 0 || (size_t)r >= n)
		return -1;
	return 0;
}

/* ---- small encoders ------------------------------------------------------ */

/*
 * Encodes <t> as an X.509 Time TLV (UTCTime before 2050, else
 * GeneralizedTime) into <out>, which has CTC_DATE_SIZE bytes.  Returns the
 * size, or 0.
 */
static int
enc_time(time_t t, unsigned char *out)
{
	struct tm tm;
	char s[32];
	int n, year;

	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	year = tm.tm_year + 1900;
	if (year >= 1950 && year < 2050) {
		n = snprintf(s, sizeof(s), "%02d%02d%02d%02d%02d%02dZ",
		    year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec);
		out[0] = 0x17;
	} else {
		n = snprintf(s, sizeof(s), "%04d%02d%02d%02d%02d%02dZ",
		    year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		    tm.tm_sec);
		out[0] = 0x18;
	}
	if (n <= 0 || n + 2 > CTC_DATE_SIZE)
		return 0;
	out[1] = (unsigned char)n;
	memcpy(out + 2, s, (size_t)n);
	return n + 2;
}

static int
set_dates(Cert *c, time_t before, time_t after)
{
	c->beforeDateSz = enc_time(before, c->beforeDate);
	c->afterDateSz = enc_time(after, c->afterDate);
	return c->beforeDateSz > 0 && c->afterDateSz > 0 ? 0 : -1;
}

/* 16 random bytes, positive and without a leading zero byte. */
static int
set_serial(Cert *c, WC_RNG *rng)
{
	if (wc_RNG_GenerateBlock(rng, c->serial, 16) != 0)
		return -1;
	c->serial[0] = (unsigned char)((c->serial[0] & 0x7f) | 0x40);
	c->serialSz = 16;
	return 0;
}

/* DER length octets of <n> (< 65536) into <p>; returns their count. */
static size_t
der_len(unsigned char *p, size_t n)
{
	if (n < 0x80) {
		p[0] = (unsigned char)n;
		return 1;
	}
	if (n < 0x100) {
		p[0] = 0x81;
		p[1] = (unsigned char)n;
		return 2;
	}
	p[0] = 0x82;
	p[1] = (unsigned char)(n >> 8);
	p[2] = (unsigned char)n;
	return 3;
}

/*
 * SubjectAltName value (GeneralNames with one entry): [7] iPAddress for an
 * IP literal of <iplen> bytes, else [2] dNSName <host>.
 */
static int
set_san(Cert *c, const char *host, size_t hlen, const unsigned char *ip,
    size_t iplen)
{
	unsigned char inner[8 + MAX_HOST_LEN];
	size_t in = 0, n = 0;

	if (iplen > 0) {
		inner[in++] = 0x87;
		in += der_len(inner + in, iplen);
		memcpy(inner + in, ip, iplen);
		in += iplen;
	} else {
		inner[in++] = 0x82;
		in += der_len(inner + in, hlen);
		memcpy(inner + in, host, hlen);
		in += hlen;
	}
	if (in + 4 > sizeof(c->altNames))
		return -1;
	c->altNames[n++] = 0x30;
	n += der_len(c->altNames + n, in);
	memcpy(c->altNames + n, inner, in);
	c->altNamesSz = (int)(n + in);
	c->altNamesCrit = 0;
	return 0;
}

/* ---- files -------------------------------------------------------------- */

/* mkdir -p <path> with mode 0700 for every directory it creates. */
static int
mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t i, n = strlen(path);

	if (n == 0 || n >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			return -1;
		buf[i] = path[i];
	}
	return 0;
}

/*
 * Writes <data> to <path> atomically with exactly <mode>: a new file created
 * O_EXCL next to it, fsync'ed, then renamed over <path>.  Returns 0 or -1
 * with errno set.
 */
static int
write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const unsigned char *p = data;
	int fd = -1, tries, saved;
	ssize_t w;

	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >=
	    (int)sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (tries = 0; tries < 2; tries++) {
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW, mode);
		if (fd != -1 || errno != EEXIST)
			break;
		/* a stale temporary of an earlier run with our pid */
		if (unlink(tmp) == -1)
			return -1;
	}
	if (fd == -1)
		return -1;
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (len > 0) {
		w = write(fd, p, len);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

enum rd {
	RD_OK,		/* read into the buffer */
	RD_MISSING,	/* does not exist */
	RD_REFUSED,	/* exists but must not be used (reason in err) */
	RD_ERROR	/* I/O error (reason in err) */
};

/*
 * Reads <path> into <buf> (<cap> bytes, NUL-terminated).  With <secret>,
 * the file must be a regular file (not a symlink) owned by the effective
 * user with no group/other permission bits.
 */
static enum rd
read_file(const char *path, int secret, char *buf, size_t cap, size_t *len,
    char *err, size_t errlen)
{
	struct stat st;
	size_t n = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    (secret ? O_NOFOLLOW : 0));
	if (fd == -1) {
		if (errno == ENOENT)
			return RD_MISSING;
		if (secret && errno == ELOOP) {
			errf(err, errlen, "%s: refusing a CA key that is a "
			    "symbolic link", path);
			return RD_REFUSED;
		}
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return RD_ERROR;
	}
	if (fstat(fd, &st) == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		goto error;
	}
	if (!S_ISREG(st.st_mode)) {
		errf(err, errlen, "%s: not a regular file", path);
		goto refused;
	}
	if (secret && st.st_uid != geteuid()) {
		errf(err, errlen, "%s: refusing a CA key owned by uid %ld, "
		    "not by uid %ld", path, (long)st.st_uid, (long)geteuid());
		goto refused;
	}
	if (secret && (st.st_mode & 077) != 0) {
		errf(err, errlen, "%s: refusing a CA key with mode %04o that "
		    "others may access; run: chmod 600 %s", path,
		    (unsigned)(st.st_mode & 07777), path);
		goto refused;
	}
	for (;;) {
		if (n + 1 >= cap) {
			errf(err, errlen, "%s: larger than %zu bytes", path,
			    cap - 1);
			goto refused;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			errf(err, errlen, "%s: %s", path, strerror(errno));
			goto error;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	close(fd);
	return RD_OK;
 refused:
	close(fd);
	return RD_REFUSED;
 error:
	close(fd);
	return RD_ERROR;
}

/* ---- CA load / create ---------------------------------------------------- */

static int
keep_cert(struct ca_state *st, const unsigned char *der, size_t len)
{
	size_t cap = len * 2 + 128;
	int n;

	st->cert_der = malloc(len);
	st->cert_pem = malloc(cap);
	if (st->cert_der == NULL || st->cert_pem == NULL)
		return -1;
	memcpy(st->cert_der, der, len);
	st->cert_len = len;
	n = wc_DerToPem(der, (word32)len, (byte *)st->cert_pem, (word32)cap,
	    CERT_TYPE);
	if (n <= 0)
		return -1;
	st->pem_len = (size_t)n;
	return 0;
}

/* notBefore / notAfter of a DER certificate, as time_t. */
static int
cert_dates(const unsigned char *der, size_t len, time_t *before,
    time_t *after)
{
	Cert *c;
	struct tm b, a;
	int ret = -1;

	c = malloc(sizeof(*c));
	if (c == NULL)
		return -1;
	if (wc_InitCert(c) != 0)
		goto out;
	if (wc_SetDatesBuffer(c, der, (int)len) != 0)
		goto out;
	memset(&b, 0, sizeof(b));
	memset(&a, 0, sizeof(a));
	if (wc_GetCertDates(c, &b, &a) != 0)
		goto out;
	*before = timegm(&b);
	*after = timegm(&a);
	ret = 0;
 out:
	free(c);
	return ret;
}

/*
 * The SubjectPublicKeyInfo DER of the public key computed from the private
 * scalar of <key> alone (into a scratch key: <key> is not modified).
 */
static int
ecc_pub_from_priv(ecc_key *key, unsigned char *out, word32 cap)
{
	ecc_key tmp;
	unsigned char d[MAX_ECC_BYTES];
	word32 dlen = sizeof(d);
	int n = -1;

	if (wc_ecc_init(&tmp) != 0)
		return -1;
	if (wc_ecc_export_private_only(key, d, &dlen) == 0 &&
	    wc_ecc_import_private_key_ex(d, dlen, NULL, 0, &tmp,
	    wc_ecc_get_curve_id(key->idx)) == 0 &&
	    wc_ecc_make_pub(&tmp, NULL) == 0)
		n = wc_EccPublicKeyToDer(&tmp, out, cap, 1);
	explicit_bzero(d, sizeof(d));
	wc_ecc_free(&tmp);
	return n;
}

/*
 * Does the private key <key> (<type> ECC_TYPE: ecc_key, RSA_TYPE: RsaKey)
 * belong to the certificate <cert>?  The public key is recomputed from
 * the private one (an EC key file may carry any public point) and compared
 * with the certificate's.  wolfSSL_CTX_check_private_key() is not used: in
 * this wolfSSL it accepts a mismatched ECC pair.
 */
static int
key_matches(const unsigned char *cert, size_t clen, int type, void *key)
{
	DecodedCert dc;
	unsigned char pub[1024];
	int n = -1, ok = 0;

	wc_InitDecodedCert(&dc, cert, (word32)clen, NULL);
	if (wc_ParseCert(&dc, CERT_TYPE, NO_VERIFY, NULL) != 0)
		goto out;
	if (type == ECC_TYPE) {
		if (dc.keyOID != ECDSAk)
			goto out;
		n = ecc_pub_from_priv(key, pub, sizeof(pub));
	} else if (type == RSA_TYPE) {
		if (dc.keyOID != RSAk)
			goto out;
		n = wc_RsaKeyToPublicDer_ex(key, pub, sizeof(pub), 0);
	}
	ok = n > 0 && dc.publicKey != NULL && (word32)n == dc.pubKeySize &&
	    memcmp(pub, dc.publicKey, (size_t)n) == 0;
 out:
	wc_FreeDecodedCert(&dc);
	return ok;
}

static int
is_ca_cert(const unsigned char *der, size_t len)
{
	WOLFSSL_X509 *x;
	int ca;

	x = wolfSSL_X509_d2i(NULL, der, (int)len);
	if (x == NULL)
		return 0;
	ca = wolfSSL_X509_get_isCA(x);
	wolfSSL_X509_free(x);
	return ca;
}

/*
 * Decodes the CA private key DER (SEC1 EC, PKCS#1 RSA, or either in
 * PKCS#8) into st->ca_ecc or st->ca_rsa.
 */
static int
decode_ca_key(struct ca_state *st, unsigned char *der, size_t len)
{
	word32 off = 0, idx;
	int r;

	r = wc_GetPkcs8TraditionalOffset(der, &off, (word32)len);
	if (r < 0)
		off = 0;
	if (wc_ecc_init(&st->ca_ecc) == 0) {
		st->ca_ecc_ok = 1;
		idx = off;
		if (wc_EccPrivateKeyDecode(der, &idx, &st->ca_ecc,
		    (word32)len) == 0) {
			st->key_type = ECC_TYPE;
			return 0;
		}
		wc_ecc_free(&st->ca_ecc);
		st->ca_ecc_ok = 0;
	}
	if (wc_InitRsaKey(&st->ca_rsa, NULL) == 0) {
		st->ca_rsa_ok = 1;
		idx = off;
		if (wc_RsaPrivateKeyDecode(der, &idx, &st->ca_rsa,
		    (word32)len) == 0) {
			st->key_type = RSA_TYPE;
			return 0;
		}
		wc_FreeRsaKey(&st->ca_rsa);
		st->ca_rsa_ok = 0;
	}
	return -1;
}

/*
 * Tries the existing files.  Returns 1 when the CA was loaded, 0 when it
 * must be (re)created (<why> says why), -1 when refused or on error.
 */
static int
ca_load(struct ca_state *st, const char *dir, char *why, size_t whylen,
    char *err, size_t errlen)
{
	char kpath[PATH_MAX], cpath[PATH_MAX];
	char *kpem = NULL, *cpem = NULL;
	unsigned char *kder = NULL, *cder = NULL;
	size_t klen = 0, clen = 0;
	time_t before, after, now = time(NULL);
	int n, ret = -1;
	enum rd rk, rc;

	if (snprintf(kpath, sizeof(kpath), "%s/%s", dir, CA_KEY_NAME) >=
	    (int)sizeof(kpath) ||
	    snprintf(cpath, sizeof(cpath), "%s/%s", dir, CA_CERT_NAME) >=
	    (int)sizeof(cpath)) {
		errf(err, errlen, "%s: path too long", dir);
		return -1;
	}
	kpem = malloc(CA_FILE_MAX);
	cpem = malloc(CA_FILE_MAX);
	kder = malloc(KEY_DER_MAX);
	cder = malloc(CA_FILE_MAX);
	if (kpem == NULL || cpem == NULL || kder == NULL || cder == NULL) {
		errf(err, errlen, "out of memory");
		goto out;
	}
	rk = read_file(kpath, 1, kpem, CA_FILE_MAX, &klen, err, errlen);
	if (rk == RD_REFUSED || rk == RD_ERROR)
		goto out;
	rc = read_file(cpath, 0, cpem, CA_FILE_MAX, &clen, err, errlen);
	if (rc == RD_ERROR)
		goto out;
	ret = 0;
	if (rk == RD_MISSING || rc != RD_OK) {
		errf(why, whylen, "%s missing", rk == RD_MISSING ? kpath :
		    cpath);
		goto out;
	}
	n = wc_CertPemToDer((const byte *)cpem, (int)clen, cder, CA_FILE_MAX,
	    CERT_TYPE);
	if (n <= 0) {
		errf(why, whylen, "%s: not a PEM certificate", cpath);
		goto out;
	}
	clen = (size_t)n;
	n = wc_KeyPemToDer((const byte *)kpem, (int)klen, kder, KEY_DER_MAX,
	    NULL);
	if (n <= 0) {
		errf(why, whylen, "%s: not a PEM private key", kpath);
		goto out;
	}
	klen = (size_t)n;
	if (cert_dates(cder, clen, &before, &after) == -1) {
		errf(why, whylen, "%s: unreadable validity", cpath);
		goto out;
	}
	if (after <= now + LEAF_VALID_SECS) {
		errf(why, whylen, "%s: expired or about to expire", cpath);
		goto out;
	}
	if (!is_ca_cert(cder, clen)) {
		errf(why, whylen, "%s: not a CA certificate", cpath);
		goto out;
	}
	if (decode_ca_key(st, kder, klen) == -1) {
		errf(why, whylen, "%s: unsupported key type", kpath);
		goto out;
	}
	if (!key_matches(cder, clen, st->key_type, st->key_type == ECC_TYPE ?
	    (void *)&st->ca_ecc : (void *)&st->ca_rsa)) {
		errf(why, whylen, "%s does not match %s", kpath, cpath);
		goto drop_key;
	}
	if (keep_cert(st, cder, clen) == -1) {
		errf(err, errlen, "out of memory");
		ret = -1;
		goto out;
	}
	ret = 1;
	goto out;
 drop_key:
	/* ca_create() starts from a clean key slot */
	if (st->ca_ecc_ok)
		wc_ecc_free(&st->ca_ecc);
	if (st->ca_rsa_ok)
		wc_FreeRsaKey(&st->ca_rsa);
	st->ca_ecc_ok = st->ca_rsa_ok = 0;
 out:
	if (kpem != NULL) {
		explicit_bzero(kpem, CA_FILE_MAX);
		free(kpem);
	}
	if (kder != NULL) {
		explicit_bzero(kder, KEY_DER_MAX);
		free(kder);
	}
	free(cpem);
	free(cder);
	return ret;
}

/* CN of a new CA: "boundary CA <hostname or user>", at most 63 bytes. */
static void
ca_common_name(char *cn, size_t n)
{
	char host[256];
	const char *who = NULL;

	if (gethostname(host, sizeof(host)) == 0 && host[0] != '\0') {
		host[sizeof(host) - 1] = '\0';
		who = host;
	}
	if (who == NULL)
		who = getenv("USER");
	if (who == NULL || who[0] == '\0')
		who = "local";
	snprintf(cn, n, "boundary CA %.48s", who);
}

/*
 * Creates a new ECDSA P-256 CA in memory; with <dir>, writes ca-key.pem
 * (0600) then ca-cert.pem (0644) there.
 */
static int
ca_create(struct ca_state *st, const char *dir, char *err, size_t errlen)
{
	unsigned char kder[LEAF_KEY_DER_MAX], cder[LEAF_DER_MAX];
	char kpem[1024], path[PATH_MAX];
	Cert *c = &st->scratch;
	time_t now = time(NULL);
	int n, kn, pn, ret = -1;

	if (wc_ecc_init(&st->ca_ecc) != 0) {
		errf(err, errlen, "cannot initialise an ECC key");
		return -1;
	}
	st->ca_ecc_ok = 1;
	st->key_type = ECC_TYPE;
	n = wc_ecc_make_key_ex(&st->rng, 32, &st->ca_ecc, ECC_SECP256R1);
	if (n != 0) {
		errf(err, errlen, "CA key generation: %s", wc_str(n));
		goto out;
	}
	if (wc_InitCert(c) != 0)
		goto fail_cert;
	c->selfSigned = 1;
	c->isCA = 1;
	c->basicConstSet = 1;
	c->pathLen = 0;
	c->pathLenSet = 1;
	c->sigType = CTC_SHA256wECDSA;
	ca_common_name(c->subject.commonName, sizeof(c->subject.commonName));
	snprintf(c->subject.org, sizeof(c->subject.org), "boundary");
	if (set_serial(c, &st->rng) == -1 ||
	    set_dates(c, now - CERT_BACKDATE_SECS, now + CA_VALID_SECS) == -1 ||
	    wc_SetKeyUsage(c, "keyCertSign,cRLSign") != 0 ||
	    wc_SetSubjectKeyIdFromPublicKey_ex(c, ECC_TYPE, &st->ca_ecc) != 0 ||
	    wc_SetAuthKeyIdFromPublicKey_ex(c, ECC_TYPE, &st->ca_ecc) != 0)
		goto fail_cert;
	n = wc_MakeCert_ex(c, cder, sizeof(cder), ECC_TYPE, &st->ca_ecc,
	    &st->rng);
	if (n < 0)
		goto fail_cert;
	n = wc_SignCert_ex(c->bodySz, c->sigType, cder, sizeof(cder), ECC_TYPE,
	    &st->ca_ecc, &st->rng);
	if (n < 0)
		goto fail_cert;
	sign_count++;
	if (keep_cert(st, cder, (size_t)n) == -1) {
		errf(err, errlen, "out of memory");
		goto out;
	}
	if (dir == NULL) {
		ret = 0;
		goto out;
	}
	kn = wc_EccKeyToDer(&st->ca_ecc, kder, sizeof(kder));
	if (kn <= 0) {
		errf(err, errlen, "CA key encoding: %s", wc_str(kn));
		goto out;
	}
	pn = wc_DerToPem(kder, (word32)kn, (byte *)kpem, sizeof(kpem),
	    ECC_PRIVATEKEY_TYPE);
	if (pn <= 0) {
		errf(err, errlen, "CA key encoding: %s", wc_str(pn));
		goto out;
	}
	if (mkdir_p(dir) == -1) {
		errf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, CA_KEY_NAME);
	if (write_atomic(path, kpem, (size_t)pn, 0600) == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, CA_CERT_NAME);
	if (write_atomic(path, st->cert_pem, st->pem_len, 0644) == -1) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	ret = 0;
	goto out;
 fail_cert:
	errf(err, errlen, "cannot build the CA certificate");
 out:
	explicit_bzero(kder, sizeof(kder));
	explicit_bzero(kpem, sizeof(kpem));
	return ret;
}

/* The leaf key and the leaf template (issuer, AKID, usages, signature). */
static int
leaf_setup(struct ca_state *st, char *err, size_t errlen)
{
	Cert *t = &st->tmpl;
	int n;

	if (wc_ecc_init(&st->leaf_key) != 0) {
		errf(err, errlen, "cannot initialise an ECC key");
		return -1;
	}
	st->leaf_key_ok = 1;
	n = wc_ecc_make_key_ex(&st->rng, 32, &st->leaf_key, ECC_SECP256R1);
	if (n != 0) {
		errf(err, errlen, "leaf key generation: %s", wc_str(n));
		return -1;
	}
	n = wc_EccKeyToDer(&st->leaf_key, st->leaf_key_der,
	    sizeof(st->leaf_key_der));
	if (n <= 0) {
		errf(err, errlen, "leaf key encoding: %s", wc_str(n));
		return -1;
	}
	st->leaf_key_len = (size_t)n;
	if (wc_InitCert(t) != 0)
		goto fail;
	t->selfSigned = 0;
	t->isCA = 0;
	t->sigType = st->key_type == ECC_TYPE ? CTC_SHA256wECDSA :
	    CTC_SHA256wRSA;
	snprintf(t->subject.org, sizeof(t->subject.org), "boundary");
	if (wc_SetIssuerRaw(t, st->cert_der, (int)st->cert_len) != 0)
		goto fail;
	/* AKID = the CA's SKID; a CA without SKID gets leaves without AKID */
	if (wc_SetAuthKeyIdFromCert(t, st->cert_der, (int)st->cert_len) != 0)
		t->akidSz = 0;
	if (wc_SetKeyUsage(t, "digitalSignature") != 0 ||
	    wc_SetExtKeyUsage(t, "serverAuth") != 0)
		goto fail;
	return 0;
 fail:
	errf(err, errlen, "cannot prepare the leaf certificate template");
	return -1;
}

static int
cache_setup(struct ca_state *st, uint32_t cap)
{
	uint32_t i;

	st->cap = cap;
	st->nbuckets = 1;
	while (st->nbuckets < cap * 2)
		st->nbuckets <<= 1;
	st->buckets = malloc(st->nbuckets * sizeof(*st->buckets));
	st->entries = calloc(cap, sizeof(*st->entries));
	if (st->buckets == NULL || st->entries == NULL)
		return -1;
	for (i = 0; i < st->nbuckets; i++)
		st->buckets[i] = NIL;
	for (i = 0; i < cap; i++) {
		st->entries[i].hnext = i + 1 < cap ? i + 1 : NIL;
		st->entries[i].prev = st->entries[i].next = NIL;
	}
	st->free_head = 0;
	st->mru = st->lru = NIL;
	return 0;
}

int
ca_prepare_leaf(struct ca *ca, char *err, size_t errlen)
{
	struct ca_state *st = ca->st;

	if (st->leaf_ready)
		return 0;
	if (st->leaf_key_ok) {
		/* a failed attempt before: start over */
		wc_ecc_free(&st->leaf_key);
		st->leaf_key_ok = 0;
	}
	if (leaf_setup(st, err, errlen) == -1)
		return -1;
	st->leaf_ready = 1;
	return 0;
}

static int
ca_open_cap(struct ca *ca, const char *dir, int ephemeral, uint32_t cap,
    int defer_leaf, char *err, size_t errlen)
{
	struct ca_state *st;
	char why[PATH_MAX + 64];
	int r;

	ca->st = NULL;
	if (cap == 0) {
		errf(err, errlen, "leaf cache capacity is zero");
		return -1;
	}
	if (!ephemeral && (dir == NULL || dir[0] == '\0')) {
		errf(err, errlen, "no CA directory");
		return -1;
	}
	if (wolfSSL_Init() != WOLFSSL_SUCCESS) {
		errf(err, errlen, "wolfSSL initialisation failed");
		return -1;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		errf(err, errlen, "out of memory");
		wolfSSL_Cleanup();
		return -1;
	}
	ca->st = st;
	if (wc_InitRng(&st->rng) != 0) {
		errf(err, errlen, "cannot initialise the random generator");
		goto fail;
	}
	st->rng_ok = 1;
	if (ephemeral) {
		if (ca_create(st, NULL, err, errlen) == -1)
			goto fail;
	} else {
		why[0] = '\0';
		r = ca_load(st, dir, why, sizeof(why), err, errlen);
		if (r == -1)
			goto fail;
		if (r == 0) {
			if (ca_create(st, dir, err, errlen) == -1)
				goto fail;
		}
		snprintf(st->cert_file, sizeof(st->cert_file), "%s/%s", dir,
		    CA_CERT_NAME);
	}
	if (!defer_leaf && ca_prepare_leaf(ca, err, errlen) == -1)
		goto fail;
	if (cache_setup(st, cap) == -1) {
		errf(err, errlen, "out of memory");
		goto fail;
	}
	return 0;
 fail:
	ca_close(ca);
	return -1;
}

int
ca_open(struct ca *ca, const char *dir, int ephemeral, char *err,
    size_t errlen)
{
	return ca_open_cap(ca, dir, ephemeral, LEAF_CACHE_SIZE, 0, err, errlen);
}

int
ca_open_deferred(struct ca *ca, const char *dir, int ephemeral, char *err,
    size_t errlen)
{
	return ca_open_cap(ca, dir, ephemeral, LEAF_CACHE_SIZE, 1, err, errlen);
}

int
ca_write_cert(const struct ca *ca, const char *path)
{
	if (write_atomic(path, ca->st->cert_pem, ca->st->pem_len, 0644) == -1)
		return -1;
	if (ca->st->cert_file != path)
		snprintf(ca->st->cert_file, sizeof(ca->st->cert_file), "%s",
		    path);
	return 0;
}

void
ca_cert_pem(const struct ca *ca, struct view *out)
{
	*out = view_make(ca->st->cert_pem, ca->st->pem_len);
}

void
ca_cert_der(const struct ca *ca, struct view *out)
{
	*out = view_make((const char *)ca->st->cert_der, ca->st->cert_len);
}

const char *
ca_cert_file(const struct ca *ca)
{
	return ca->st->cert_file[0] != '\0' ? ca->st->cert_file : NULL;
}

/* ---- leaves -------------------------------------------------------------- */

/*
 * Canonicalises <h> into <out> (NUL-terminated): brackets and one trailing
 * dot removed, lowercase, IPv6 re-printed in its canonical text.  Sets
 * <iplen> to 4 or 16 with the address in <ip> for IP literals, else 0.
 */
static int
host_canon(struct view h, char *out, size_t *outlen, unsigned char *ip,
    size_t *iplen)
{
	char tmp[MAX_HOST_LEN + 1];
	size_t i, lab = 0;
	int bracket = 0;

	*iplen = 0;
	if (h.n >= 2 && h.p[0] == '[' && h.p[h.n - 1] == ']') {
		h.p++;
		h.n -= 2;
		bracket = 1;
	}
	if (!bracket && h.n > 0 && h.p[h.n - 1] == '.')
		h.n--;
	if (h.n == 0 || h.n > MAX_HOST_LEN)
		return -1;
	for (i = 0; i < h.n; i++) {
		unsigned char ch = (unsigned char)h.p[i];
		if (ch >= 'A' && ch <= 'Z')
			ch += 'a' - 'A';
		tmp[i] = (char)ch;
	}
	tmp[h.n] = '\0';
	if (memchr(tmp, ':', h.n) != NULL) {
		if (inet_pton(AF_INET6, tmp, ip) != 1)
			return -1;
		if (inet_ntop(AF_INET6, ip, out, MAX_HOST_LEN + 1) == NULL)
			return -1;
		*iplen = 16;
		*outlen = strlen(out);
		return 0;
	}
	if (bracket)
		return -1;
	if (inet_pton(AF_INET, tmp, ip) == 1)
		*iplen = 4;
	for (i = 0; i < h.n; i++) {
		char ch = tmp[i];
		if (ch == '.') {
			if (lab == 0)
				return -1;
			lab = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_'))
			return -1;
		if (++lab > MAX_LABEL_LEN)
			return -1;
	}
	if (lab == 0)
		return -1;
	memcpy(out, tmp, h.n + 1);
	*outlen = h.n;
	return 0;
}

static uint32_t
host_hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 16777619u;
	}
	return h;
}

static void
lru_unlink(struct ca_state *st, uint32_t i)
{
	struct entry *e = &st->entries[i];

	if (e->prev != NIL)
		st->entries[e->prev].next = e->next;
	else
		st->mru = e->next;
	if (e->next != NIL)
		st->entries[e->next].prev = e->prev;
	else
		st->lru = e->prev;
	e->prev = e->next = NIL;
}

static void
lru_push_front(struct ca_state *st, uint32_t i)
{
	struct entry *e = &st->entries[i];

	e->prev = NIL;
	e->next = st->mru;
	if (st->mru != NIL)
		st->entries[st->mru].prev = i;
	st->mru = i;
	if (st->lru == NIL)
		st->lru = i;
}

static void
bucket_remove(struct ca_state *st, uint32_t i)
{
	uint32_t *pp = &st->buckets[st->entries[i].hash & (st->nbuckets - 1)];

	while (*pp != NIL) {
		if (*pp == i) {
			*pp = st->entries[i].hnext;
			break;
		}
		pp = &st->entries[*pp].hnext;
	}
	st->entries[i].hnext = NIL;
}

static void
entry_wipe(struct entry *e)
{
	explicit_bzero(e->der, sizeof(e->der));
	memset(&e->leaf, 0, sizeof(e->leaf));
	e->host[0] = '\0';
}

/* Takes a free entry, evicting the least recently used one if needed. */
static uint32_t
entry_take(struct ca_state *st)
{
	uint32_t i;

	if (st->free_head == NIL) {
		i = st->lru;
		lru_unlink(st, i);
		bucket_remove(st, i);
		entry_wipe(&st->entries[i]);
		st->entries[i].hnext = NIL;
		return i;
	}
	i = st->free_head;
	st->free_head = st->entries[i].hnext;
	st->entries[i].hnext = NIL;
	return i;
}

static void
entry_give_back(struct ca_state *st, uint32_t i)
{
	entry_wipe(&st->entries[i]);
	st->entries[i].hnext = st->free_head;
	st->free_head = i;
}

/* Signs a leaf for <e->host> into <e->der>: one signature. */
static int
leaf_mint(struct ca_state *st, struct entry *e, const unsigned char *ip,
    size_t iplen, time_t now)
{
	Cert *c = &st->scratch;
	void *cakey;
	size_t hlen = strlen(e->host);
	int n;

	memcpy(c, &st->tmpl, sizeof(*c));
	if (hlen < sizeof(c->subject.commonName))
		memcpy(c->subject.commonName, e->host, hlen + 1);
	if (set_san(c, e->host, hlen, ip, iplen) == -1 ||
	    set_serial(c, &st->rng) == -1 ||
	    set_dates(c, now - CERT_BACKDATE_SECS, now + LEAF_VALID_SECS) == -1)
		return -1;
	n = wc_MakeCert_ex(c, e->der, sizeof(e->der), ECC_TYPE, &st->leaf_key,
	    &st->rng);
	if (n < 0)
		return -1;
	cakey = st->key_type == ECC_TYPE ? (void *)&st->ca_ecc :
	    (void *)&st->ca_rsa;
	n = wc_SignCert_ex(c->bodySz, c->sigType, e->der, sizeof(e->der),
	    st->key_type, cakey, &st->rng);
	if (n < 0)
		return -1;
	sign_count++;
	e->leaf.cert_der = e->der;
	e->leaf.cert_len = (size_t)n;
	e->leaf.key_der = st->leaf_key_der;
	e->leaf.key_len = st->leaf_key_len;
	e->leaf.host = view_make(e->host, hlen);
	e->leaf.minted = now;
	return 0;
}

const struct leaf *
ca_leaf(struct ca *ca, struct view host)
{
	struct ca_state *st = ca->st;
	char canon[MAX_HOST_LEN + 1];
	unsigned char ip[16];
	size_t clen, iplen;
	uint32_t h, i;
	time_t now = time(NULL);
	struct entry *e;

	if (st == NULL || host_canon(host, canon, &clen, ip, &iplen) == -1)
		return NULL;
	if (!st->leaf_ready) {
		char why[256];
		if (ca_prepare_leaf(ca, why, sizeof(why)) == -1)
			return NULL;
	}
	h = host_hash(canon, clen);
	for (i = st->buckets[h & (st->nbuckets - 1)]; i != NIL;
	    i = st->entries[i].hnext) {
		e = &st->entries[i];
		if (e->hash == h && e->leaf.host.n == clen &&
		    memcmp(e->host, canon, clen) == 0)
			break;
	}
	if (i != NIL) {
		e = &st->entries[i];
		if (now - e->leaf.minted >= LEAF_REMINT_SECS ||
		    now < e->leaf.minted) {
			if (leaf_mint(st, e, ip, iplen, now) == -1) {
				lru_unlink(st, i);
				bucket_remove(st, i);
				entry_give_back(st, i);
				return NULL;
			}
		}
		lru_unlink(st, i);
		lru_push_front(st, i);
		return &e->leaf;
	}
	i = entry_take(st);
	e = &st->entries[i];
	memcpy(e->host, canon, clen + 1);
	e->hash = h;
	if (leaf_mint(st, e, ip, iplen, now) == -1) {
		entry_give_back(st, i);
		return NULL;
	}
	e->hnext = st->buckets[h & (st->nbuckets - 1)];
	st->buckets[h & (st->nbuckets - 1)] = i;
	lru_push_front(st, i);
	return &e->leaf;
}

void
ca_close(struct ca *ca)
{
	struct ca_state *st = ca->st;

	if (st == NULL)
		return;
	if (st->entries != NULL) {
		explicit_bzero(st->entries, st->cap * sizeof(*st->entries));
		free(st->entries);
	}
	free(st->buckets);
	if (st->ca_ecc_ok)
		wc_ecc_free(&st->ca_ecc);
	if (st->ca_rsa_ok)
		wc_FreeRsaKey(&st->ca_rsa);
	if (st->leaf_key_ok)
		wc_ecc_free(&st->leaf_key);
	if (st->rng_ok)
		wc_FreeRng(&st->rng);
	free(st->cert_der);
	free(st->cert_pem);
	explicit_bzero(st, sizeof(*st));
	free(st);
	ca->st = NULL;
	wolfSSL_Cleanup();
}
