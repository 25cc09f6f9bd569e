/*
 * Tests runtime/connect_to.c: the curl-style HOST:PORT:ADDR:PORT2 syntax
 * (empty fields, bracketed IPv6, case and trailing dots), every rejection,
 * and first-match-wins lookups with wildcards.
 */
#include <string.h>

#include "runtime/connect_to.c"
#include "tests/tap.h"

void test_runtime__connect_to_c(void);

static void
good(const char *spec, const char *host, unsigned port, const char *addr,
    unsigned port2)
{
	struct connect_to ct;
	char err[256] = "";
	int r;

	r = connect_to_parse(spec, &ct, err, sizeof(err));
	if (!is_int(r, 0, "parse '%s'", spec)) {
		tap_diag("error: %s", err);
		return;
	}
	is_str(ct.host, host, "'%s': host", spec);
	is_int(ct.host_len, strlen(host), "'%s': host_len", spec);
	is_int(ct.port, port, "'%s': port", spec);
	is_str(ct.addr, addr, "'%s': addr", spec);
	is_int(ct.addr_len, strlen(addr), "'%s': addr_len", spec);
	is_int(ct.port2, port2, "'%s': port2", spec);
}

static void
bad(const char *spec, const char *want_in_err)
{
	struct connect_to ct;
	char err[512] = "";

	is_int(connect_to_parse(spec, &ct, err, sizeof(err)), -1,
	    "rejects '%s'", spec);
	ok(strstr(err, want_in_err) != NULL, "'%s': error '%s' mentions '%s'",
	    spec, err, want_in_err);
	ok(ct.host[0] == '\0' && ct.addr[0] == '\0' && ct.port == 0,
	    "'%s': output cleared", spec);
}

static void
test_parse(void)
{
	char longname[MAX_HOST_LEN + 64];
	char spec[sizeof(longname) + 32];
	size_t i;

	good("example.com:443:127.0.0.1:8443", "example.com", 443,
	    "127.0.0.1", 8443);
	good("::127.0.0.1:", "", 0, "127.0.0.1", 0);
	good("Example.COM.:80:Backend.Internal.:", "example.com", 80,
	    "backend.internal", 0);
	good("api.example.com::[::1]:9000", "api.example.com", 0, "::1", 9000);
	good("[2001:DB8::1]:443:[::FFFF:192.0.2.1]:", "2001:db8::1", 443,
	    "::ffff:192.0.2.1", 0);
	good("a_b.example:1:c-d.example:65535", "a_b.example", 1, "c-d.example",
	    65535);

	bad("", "expected HOST:PORT:ADDR:PORT2");
	bad("example.com:443:127.0.0.1", "expected HOST:PORT:ADDR:PORT2");
	bad("example.com", "expected HOST:PORT:ADDR:PORT2");
	bad("a:1:b:2:3", "bad PORT2");
	bad("example.com:443::8443", "ADDR is empty");
	bad("example.com:0:x:1", "bad PORT");
	bad("example.com:65536:x:1", "bad PORT");
	bad("example.com:+80:x:1", "bad PORT");
	bad("example.com:080000:x:1", "bad PORT");
	bad("example.com:80:x:0", "bad PORT2");
	bad("example.com:80:x:12a", "bad PORT2");
	bad("ex ample.com:80:x:1", "bad HOST");
	bad("a..b:80:x:1", "bad HOST");
	bad(".a:80:x:1", "bad HOST");
	bad("[::1:80:x:1", "expected HOST");
	bad("[::1]x:80:x:1", "expected HOST");
	bad("[]:80:x:1", "bad HOST");
	bad("[not-v6]:80:x:1", "bad HOST");
	bad("[fe80::1%eth0]:80:x:1", "bad HOST");
	bad("h:80:[::1:1", "expected HOST");
	bad("h:80:[zz]:1", "bad ADDR");
	bad("h:80:a/b:1", "bad ADDR");
	bad("h:80:.:1", "bad ADDR");
	bad("h:[80]:x:1", "expected HOST");
	bad("h:80:x:[1]", "expected HOST");

	/* Length limits: MAX_HOST_LEN is fine, one more is not. */
	memset(longname, 0, sizeof(longname));
	for (i = 0; i < MAX_HOST_LEN; i++)
		longname[i] = (i % 50 == 49) ? '.' : 'a';
	snprintf(spec, sizeof(spec), "%s:1:x:1", longname);
	{
		struct connect_to ct;
		char err[512];

		is_int(connect_to_parse(spec, &ct, err, sizeof(err)), 0,
		    "host of MAX_HOST_LEN bytes accepted");
		is_int(ct.host_len, MAX_HOST_LEN, "  and kept whole");
		longname[MAX_HOST_LEN] = 'a';
		snprintf(spec, sizeof(spec), "%s:1:x:1", longname);
		is_int(connect_to_parse(spec, &ct, err, sizeof(err)), -1,
		    "host of MAX_HOST_LEN + 1 bytes rejected");
		memset(longname, 'a', 64);
		longname[64] = '\0';
		snprintf(spec, sizeof(spec), "h:1:%s:1", longname);
		is_int(connect_to_parse(spec, &ct, err, sizeof(err)), -1,
		    "label longer than MAX_LABEL_LEN rejected");
	}
}

static void
test_find(void)
{
	static const char *const specs[] = {
		"api.example.com:443:10.0.0.1:8443",	/* 0 */
		"API.example.com::10.0.0.2:",		/* 1: any port */
		"[::1]:80:127.0.0.1:8080",		/* 2 */
		":8080:10.0.0.3:",			/* 3: any host, 8080 */
		"::10.0.0.4:9",				/* 4: everything else */
	};
	struct connect_to list[5];
	char err[256];
	const struct connect_to *m;
	size_t i;

	for (i = 0; i < 5; i++)
		if (connect_to_parse(specs[i], &list[i], err,
		    sizeof(err)) == -1)
			tap_diag("unexpected: %s", err);

	ok(connect_to_find(list, 0, VIEW_LIT("api.example.com"), 443) == NULL,
	    "empty table: no match");
	ok(connect_to_find(list, 1, VIEW_LIT("other.example"), 443) == NULL,
	    "no entry matches: NULL");
	m = connect_to_find(list, 5, VIEW_LIT("api.example.com"), 443);
	ok(m == &list[0], "exact host and port: first entry");
	m = connect_to_find(list, 5, VIEW_LIT("Api.Example.Com"), 443);
	ok(m == &list[0], "host compared case-insensitively");
	m = connect_to_find(list, 5, VIEW_LIT("api.example.com."), 443);
	ok(m == &list[0], "trailing dot of the request host ignored");
	m = connect_to_find(list, 5, VIEW_LIT("api.example.com"), 80);
	ok(m == &list[1], "other port: the any-port entry");
	m = connect_to_find(list, 5, VIEW_LIT("[::1]"), 80);
	ok(m == &list[2], "bracketed IPv6 request host matches");
	m = connect_to_find(list, 5, VIEW_LIT("::1"), 80);
	ok(m == &list[2], "unbracketed IPv6 request host matches");
	m = connect_to_find(list, 5, VIEW_LIT("[::1]"), 8080);
	ok(m == &list[3], "any host on 8080");
	m = connect_to_find(list, 5, VIEW_LIT("api.example.co"), 443);
	ok(m == &list[4], "a prefix of a name is another name: catch-all");
	m = connect_to_find(list, 5, VIEW_LIT("xapi.example.com"), 443);
	ok(m == &list[4], "a suffix match is no match: catch-all");
	m = connect_to_find(list + 1, 4, VIEW_LIT("api.example.com"), 443);
	ok(m == &list[1], "first match wins in table order");
	m = connect_to_find(list, 5, VIEW_LIT(""), 1);
	ok(m == &list[4], "empty host only matches wildcards");
	is_str(m->addr, "10.0.0.4", "catch-all addr");
	is_int(m->port2, 9, "catch-all port2");
}

void
test_runtime__connect_to_c(void)
{
	subtest("connect_to_parse", test_parse);
	subtest("connect_to_find", test_find);
}
