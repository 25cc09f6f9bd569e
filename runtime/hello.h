/*
 * ClientHello sniffing: the server name (SNI) and the offered ALPN
 * protocols from the first TLS record(s) a client sends, before any TLS
 * library sees them.  Untrusted input: every length is checked and nothing
 * is read past <len>.  Fuzzed by fuzz/fuzz_hello.c.
 */
#ifndef HELLO_H
#define HELLO_H

#include <stddef.h>

#include "runtime/limits.h"
#include "runtime/view.h"

#define HELLO_BAD (-1)		/* not a (valid) TLS ClientHello */
#define HELLO_INCOMPLETE (-2)	/* a prefix of one: read more and retry */

struct hello {
	struct view sni;	/* host_name, into <host>; empty if none */
	unsigned version;	/* legacy_version of the ClientHello */
	int alpn;		/* the client sent an ALPN extension */
	int alpn_http11;	/* ... offering "http/1.1" */
	int alpn_h2;		/* ... offering "h2" */
	char host[MAX_HOST_LEN + 1]; /* the SNI, lowercase, NUL-terminated */
};

/*
 * Parses the TLS records at the start of <buf> (<len> bytes), which must be
 * handshake records (type 22, version 3.x) carrying one ClientHello, split
 * over any number of records as long as they total at most HELLO_MAX_LEN
 * bytes.  Returns the number of bytes of the records that hold the whole
 * ClientHello (> 0) and fills <out>; HELLO_INCOMPLETE when <buf> is a valid
 * prefix; HELLO_BAD otherwise (including an SNI that is not a valid host
 * name, repeated SNI or ALPN extensions, and any length that disagrees
 * with its container).  A trailing dot of the SNI is dropped.
 */
int hello_parse(const unsigned char *buf, size_t len, struct hello *out);

#endif
