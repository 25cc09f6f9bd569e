/*
 * The --connect-to override table.  See connect_to.h.
 */
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "connect_to.h"

/*
 * Takes the next field of <*pp>: up to the next ':' (or the end of the
 * string when <last>), or a "[...]" literal that must be followed by ':'
 * (or the end).  *pp moves past the field and its ':'.  0 or -1.
 */
static int
take_field(const char **pp, int last, struct view *out, int *bracketed)
{
	const char *p = *pp, *e;

	*bracketed = 0;
	if (*p == '[') {
		if ((e = strchr(p, ']')) == NULL)
			return -1;
		*out = view_make(p + 1, (size_t)(e - p - 1));
		*bracketed = 1;
		p = e + 1;
		if (last ? *p != '\0' : *p != ':')
			return -1;
	} else {
		e = last ? p + strlen(p) : strchr(p, ':');
		if (e == NULL)
			return -1;
		*out = view_make(p, (size_t)(e - p));
		p = e;
	}
	if (!last)
		p++;
	*pp = p;
	return 0;
}

/* A port field: empty is 0, else 1..65535 in decimal digits.  0 or -1. */
static int
parse_port(struct view v, uint16_t *port)
{
	unsigned long x = 0;
	size_t i;

	*port = 0;
	if (v.n == 0)
		return 0;
	if (v.n > 5)
		return -1;
	for (i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		x = x * 10 + (unsigned long)(v.p[i] - '0');
	}
	if (x == 0 || x > 65535)
		return -1;
	*port = (uint16_t)x;
	return 0;
}

/*
 * Copies a host field into <out> (MAX_HOST_LEN + 1 bytes), lowercased:
 * a bracketed field must be an IPv6 literal (stored without brackets),
 * another one a name or IPv4 literal of LDH labels (and '_'), one
 * trailing dot dropped.  An empty field gives "".  0 or -1.
 */
static int
parse_host(struct view v, int bracketed, char *out, size_t *len)
{
	struct in6_addr a6;
	size_t i, label = 0;
	unsigned char c;

	*len = 0;
	out[0] = '\0';
	if (bracketed) {
		if (v.n == 0 || v.n >= INET6_ADDRSTRLEN)
			return -1;
		memcpy(out, v.p, v.n);
		out[v.n] = '\0';
		if (inet_pton(AF_INET6, out, &a6) != 1) {
			out[0] = '\0';
			return -1;
		}
	} else {
		if (v.n > 0 && v.p[v.n - 1] == '.')
			v.n--;
		if (v.n > MAX_HOST_LEN)
			return -1;
		for (i = 0; i < v.n; i++) {
			c = (unsigned char)v.p[i];
			if (c == '.') {
				if (label == 0)
					return -1;
				label = 0;
			} else if ((c >= 'a' && c <= 'z') ||
			    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_') {
				if (++label > MAX_LABEL_LEN)
					return -1;
			} else
				return -1;
		}
		memcpy(out, v.p, v.n);
		out[v.n] = '\0';
	}
	for (i = 0; i < v.n; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] = (char)(out[i] - 'A' + 'a');
	*len = v.n;
	return 0;
}

int
connect_to_parse(const char *spec, struct connect_to *out, char *err,
    size_t errlen)
{
	struct view f[4];
	int br[4];
	const char *p = spec;
	const char *why;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < 4; i++) {
		if (take_field(&p, i == 3, &f[i], &br[i]) == -1) {
			why = "expected HOST:PORT:ADDR:PORT2";
			goto fail;
		}
	}
	if (br[1] || br[3]) {
		why = "expected HOST:PORT:ADDR:PORT2";
		goto fail;
	}
	if (parse_host(f[0], br[0], out->host, &out->host_len) == -1) {
		why = "bad HOST";
		goto fail;
	}
	if (parse_port(f[1], &out->port) == -1) {
		why = "bad PORT (1-65535 or empty)";
		goto fail;
	}
	if (f[2].n == 0) {
		why = "ADDR is empty";
		goto fail;
	}
	if (parse_host(f[2], br[2], out->addr, &out->addr_len) == -1 ||
	    out->addr_len == 0) {
		why = "bad ADDR";
		goto fail;
	}
	if (parse_port(f[3], &out->port2) == -1) {
		why = "bad PORT2 (1-65535 or empty)";
		goto fail;
	}
	return 0;

 fail:
	snprintf(err, errlen, "connect-to '%.*s': %s", MAX_HOST_LEN + 32, spec,
	    why);
	memset(out, 0, sizeof(*out));
	return -1;
}

const struct connect_to *
connect_to_find(const struct connect_to *list, size_t n, struct view host,
    uint16_t port)
{
	size_t i;

	if (host.n >= 2 && host.p[0] == '[' && host.p[host.n - 1] == ']') {
		host.p++;
		host.n -= 2;
	} else if (host.n > 0 && host.p[host.n - 1] == '.')
		host.n--;
	for (i = 0; i < n; i++) {
		if (list[i].port != 0 && list[i].port != port)
			continue;
		if (list[i].host_len != 0 && !view_case_eq(host,
		    view_make(list[i].host, list[i].host_len)))
			continue;
		return &list[i];
	}
	return NULL;
}
