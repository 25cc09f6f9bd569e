/*
 * The --connect-to override table, private to runtime/: curl-style
 * "HOST:PORT:ADDR:PORT2" entries that change where a request for
 * HOST:PORT is dialled, without changing the host that was decided (the
 * Host header, SNI and certificate checks still use HOST).  For tests and
 * split-horizon networks.  Entries are parsed once at startup into
 * caller-owned structs; lookups allocate nothing.
 */
#ifndef CONNECT_TO_H
#define CONNECT_TO_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "view.h"

/* One parsed entry.  Strings are NUL-terminated and lowercase. */
struct connect_to {
	/* The request host; "" matches any.  IPv6 without brackets. */
	char host[MAX_HOST_LEN + 1];
	size_t host_len;
	uint16_t port;			/* request port; 0 matches any port */
	/* Where to connect instead: a name or an IP literal (IPv6
	 * without brackets); never empty. */
	char addr[MAX_HOST_LEN + 1];
	size_t addr_len;
	uint16_t port2;			/* 0: the request's port */
};

/*
 * Parses <spec> "HOST:PORT:ADDR:PORT2" into <out>.  HOST may be empty (any
 * host) or an IPv6 literal in brackets; PORT may be empty (any port);
 * ADDR is a host name, an IPv4 literal or an IPv6 literal in brackets;
 * PORT2 may be empty (the request's port).  Names are lowercased and lose
 * one trailing dot; ports are 1..65535.  Returns 0, or -1 with a one-line
 * reason in <err> (<errlen> bytes).  Borrows <spec> for this call only.
 */
int connect_to_parse(const char *spec, struct connect_to *out, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/*
 * The first of the <n> entries of <list> that matches <host> (canonical;
 * compared case-insensitively, brackets of an IPv6 literal and one
 * trailing dot ignored) and <port>, or NULL.  Returns a pointer into
 * <list>; borrows <host> for this call only.
 */
const struct connect_to *connect_to_find(const struct connect_to *list,
    size_t n, struct view host, uint16_t port);

#endif
