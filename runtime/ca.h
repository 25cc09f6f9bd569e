/*
 * The local certificate authority of the intercepting proxy: loads or
 * creates the CA in the Go tool's place ($XDG_CONFIG_HOME/coder_boundary or
 * ~/.config/coder_boundary, ca-cert.pem 0644 and ca-key.pem 0600), or keeps
 * an ephemeral one in memory only, and mints leaf certificates per host.
 *
 * One ECDSA P-256 leaf key is generated per process at ca_open(); a leaf
 * certificate per host is minted on demand (one signature) and kept in a
 * pre-allocated LRU cache of LEAF_CACHE_SIZE entries.  A cached leaf is
 * re-minted once older than LEAF_REMINT_SECS, well inside its validity of
 * LEAF_VALID_SECS.  Everything is allocated at ca_open(); ca_leaf() itself
 * allocates nothing beyond wolfSSL's own signing scratch.
 */
#ifndef CA_H
#define CA_H

#include <stddef.h>
#include <time.h>

#include "runtime/view.h"

struct ca_state;

/* An open CA.  Only ca.c looks inside <st>. */
struct ca {
	struct ca_state *st;
};

/*
 * A minted leaf certificate.  <cert_der> is the DER certificate for <host>;
 * <key_der> is the process-wide leaf private key (DER, SEC1 "EC PRIVATE
 * KEY"), the same for every leaf.
 */
struct leaf {
	const unsigned char *cert_der;
	size_t cert_len;
	const unsigned char *key_der;
	size_t key_len;
	struct view host;	/* canonical: lowercase, no brackets/trailing dot */
	time_t minted;		/* when the certificate was signed */
};

/*
 * Writes the configuration directory of boundary into <buf>:
 * $XDG_CONFIG_HOME/coder_boundary when XDG_CONFIG_HOME is set and absolute,
 * else $HOME/.config/coder_boundary (HOME from the environment, else from
 * the password database).  Returns 0, or -1 when no home is known or the
 * path does not fit in <n> bytes.
 */
int ca_default_dir(char *buf, size_t n) __attribute__((warn_unused_result));

/*
 * Opens the CA.  Persistent (<ephemeral> == 0): uses <dir>/ca-cert.pem and
 * <dir>/ca-key.pem when both exist, parse, match each other, are a CA and
 * are not expired (an RSA CA is accepted as well as an ECDSA one).  When
 * they are missing, unparsable, expired or do not match each other, a new
 * ECDSA P-256 CA replaces them (written atomically; <dir> is created 0700).
 * A key file that is a symlink, not owned by the effective user, or
 * readable/writable by group or others is refused (nothing is overwritten).
 * Ephemeral: a new CA in memory only; <dir> is ignored and nothing is
 * written (see ca_write_cert()).  Returns 0, or -1 with a one-line reason
 * in <err>.
 */
int ca_open(struct ca *ca, const char *dir, int ephemeral, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/*
 * The same without the process's leaf key (a key generation, the bulk of
 * ca_open's time): ca_prepare_leaf makes it, or the first ca_leaf().
 */
int ca_open_deferred(struct ca *ca, const char *dir, int ephemeral,
    char *err, size_t errlen) __attribute__((warn_unused_result));
int ca_prepare_leaf(struct ca *ca, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/*
 * Writes the CA certificate (PEM, mode 0644) to <path>, atomically (a
 * temporary file in the same directory, then rename).  Returns 0 or -1 with
 * errno set.  The private key is never written by this function.
 */
int ca_write_cert(const struct ca *ca, const char *path)
    __attribute__((warn_unused_result));

/* Sets <out> to the CA certificate in PEM; valid until ca_close(). */
void ca_cert_pem(const struct ca *ca, struct view *out);

/* Sets <out> to the CA certificate in DER; valid until ca_close(). */
void ca_cert_der(const struct ca *ca, struct view *out);

/*
 * Path of the certificate file on disk: <dir>/ca-cert.pem in persistent
 * mode, the last ca_write_cert() path in ephemeral mode, or NULL.
 */
const char *ca_cert_file(const struct ca *ca);

/*
 * Returns the leaf certificate for <host> (a DNS name, an IPv4 literal, or
 * an IPv6 literal with or without brackets; one trailing dot allowed; case
 * is folded), minting it when it is not cached or is due for re-minting.
 * An IP literal gets an iPAddress SAN, a name a dNSName SAN.  Returns NULL
 * for an invalid host or when signing fails.  The result is valid until the
 * next ca_leaf() or ca_close() (load it into the TLS object at once).
 */
const struct leaf *ca_leaf(struct ca *ca, struct view host);

/* Releases everything; key material is wiped.  Idempotent. */
void ca_close(struct ca *ca);

#endif
