/*
 * Tests runtime/url.c and the scanners of grammar/host.re and
 * grammar/path.re.  Every input is placed against a guard page
 * (guard_copy), so a read past the end of the view faults.
 */
#include <stdio.h>
#include <string.h>

#include "runtime/url.c"
#include "tests/tap.h"

void test_runtime__url_c(void);

/* Output buffers one larger than asked, to catch writes past <cap>. */
#define CANARY 0x5a

static int
host(const char *s, char *out, size_t cap, uint16_t *port,
    enum host_kind *kind)
{
	size_t n = strlen(s);
	int r;

	memset(out, CANARY, cap + 1);
	r = url_host_canon(view_make(guard_copy(s, n), n), out, cap, port,
	    kind);
	if ((unsigned char)out[cap] != CANARY)
		return -2;
	return r;
}

/* Valid host: canonical form <want>, port <wport>, kind <wkind>. */
static void
host_ok(const char *in, const char *want, unsigned wport,
    enum host_kind wkind)
{
	char out[MAX_HOST_LEN + 4];
	uint16_t port = 7;
	enum host_kind kind = HOST_IPV6 + 1;
	int r;

	r = host(in, out, sizeof(out) - 1, &port, &kind);
	if (r < 0) {
		ok(0, "host \"%s\" accepted (got %d)", in, r);
		return;
	}
	is_mem(out, (size_t)r, want, strlen(want), "host \"%s\" -> \"%s\"",
	    in, want);
	ok(port == wport && kind == wkind, "host \"%s\" port %u kind %d", in,
	    wport, (int)wkind);
}

static void
host_bad(const char *in)
{
	char out[MAX_HOST_LEN + 4];
	uint16_t port;
	enum host_kind kind;

	is_int(host(in, out, sizeof(out) - 1, &port, &kind), -1,
	    "host \"%s\" rejected", in);
}

static int
path(const char *s, size_t n, char *out, size_t cap)
{
	int r;

	memset(out, CANARY, cap + 1);
	r = url_path_canon(view_make(guard_copy(s, n), n), out, cap);
	if ((unsigned char)out[cap] != CANARY)
		return -2;
	return r;
}

static char pbuf[MAX_PATH_LEN + 2], pbuf2[MAX_PATH_LEN + 2];

/* Valid path: canonical form <want>, and canonicalising that is a no-op. */
static void
path_ok(const char *in, const char *want)
{
	int r, r2;

	r = path(in, strlen(in), pbuf, MAX_PATH_LEN);
	if (r < 0) {
		ok(0, "path \"%s\" accepted (got %d)", in, r);
		return;
	}
	is_mem(pbuf, (size_t)r, want, strlen(want), "path \"%s\" -> \"%s\"",
	    in, want);
	r2 = path(pbuf, (size_t)r, pbuf2, MAX_PATH_LEN);
	ok(r2 == r && memcmp(pbuf, pbuf2, (size_t)r) == 0,
	    "path \"%s\": canonical form is a fixed point", in);
}

static void
path_bad(const char *in, size_t n, const char *what)
{
	is_int(path(in, n, pbuf, MAX_PATH_LEN), -1, "path %s rejected", what);
}

static int
seg(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);
	int r;

	memset(out, CANARY, cap + 1);
	r = url_segment_canon(view_make(guard_copy(s, n), n), out, cap);
	if ((unsigned char)out[cap] != CANARY)
		return -2;
	return r;
}

static void
seg_ok(const char *in, const char *want)
{
	char out[64];
	int r;

	r = seg(in, out, sizeof(out) - 1);
	if (r < 0) {
		ok(0, "segment \"%s\" accepted (got %d)", in, r);
		return;
	}
	is_mem(out, (size_t)r, want, strlen(want), "segment \"%s\" -> \"%s\"",
	    in, want);
}

static void
seg_bad(const char *in)
{
	char out[64];

	is_int(seg(in, out, sizeof(out) - 1), -1, "segment \"%s\" rejected",
	    in);
}

static void
test_segment(void)
{
	char out[8];

	seg_ok("", "");
	seg_ok("users", "users");
	seg_ok("%7E%7e", "~~");
	seg_ok("%41%62c", "Abc");
	seg_ok("%2e", ".");
	seg_ok("..", "..");
	seg_ok("%2f", "%2F");
	seg_ok("a%2Fb", "a%2Fb");
	seg_ok("%5c", "%5C");
	seg_ok("%20x%3a", "%20x%3A");
	seg_ok("a:b@c!$&'()*+,;=", "a:b@c!$&'()*+,;=");
	seg_bad("a/b");
	seg_bad("/");
	seg_bad("a\\b");
	seg_bad("a b");
	seg_bad("a?b");
	seg_bad("a#b");
	seg_bad("%");
	seg_bad("%2");
	seg_bad("%G1");
	seg_bad("%1g");
	seg_bad("caf\xc3\xa9");
	seg_bad("a\x7f");
	seg_bad("a\tb");
	is_int(seg("abcdefgh", out, 7), -1, "segment longer than cap");
	is_int(seg("abcdefg", out, 7), 7, "segment exactly cap");
	is_int(seg("abcdef%20", out, 7), -1, "escape that does not fit cap");
	is_int(url_segment_canon(view_make(guard_copy("a\0b", 3), 3), out, 7),
	    -1, "segment with NUL rejected");
	is_int(url_segment_canon(view_make(NULL, 0), out, 0), 0,
	    "empty segment with a NULL pointer");
}

static void
test_path(void)
{
	static char big[MAX_PATH_LEN + 8];
	char small[8];
	int r;

	path_ok("", "/");
	path_ok("/", "/");
	path_ok("/a/b/..", "/a/");
	path_ok("/a/.", "/a/");
	path_ok("/..", "/");
	path_ok("/../..", "/");
	path_ok("/a/%2e%2E/b", "/b");
	path_ok("/a//b", "/a/b");
	path_ok("/a/", "/a/");
	path_ok("//", "/");
	path_ok("///a///b///", "/a/b/");
	path_ok("/a/./b/./", "/a/b/");
	path_ok("/a/b/c/../../d", "/a/d");
	path_ok("/a/%2E%2e", "/");
	path_ok("/a/b/.%2e", "/a/");
	path_ok("/a/b/%2E.", "/a/");
	path_ok("/a/%2e/b", "/a/b");
	path_ok("/a/...", "/a/...");
	path_ok("/a/.b/..c", "/a/.b/..c");
	path_ok("/a%2fb/c", "/a%2Fb/c");
	path_ok("/a%2Fb/..", "/");
	path_ok("/%7E/%7euser", "/~/~user");
	path_ok("/%41%5a%61%7a%30%39%2D%5F", "/AZaz09-_");
	path_ok("/%3a%3B%ff", "/%3A%3B%FF");
	path_ok("/%5c", "/%5C");
	path_ok("/a/b/../../../c", "/c");
	path_ok("/a:b/@/!$&'()*+,;=", "/a:b/@/!$&'()*+,;=");
	path_ok("/%252e", "/%252e");

	path_bad("a/b", 3, "without leading slash");
	path_bad(".", 1, "\".\"");
	path_bad("/a\\b", 4, "with backslash");
	path_bad("/a b", 4, "with space");
	path_bad("/a\tb", 4, "with tab");
	path_bad("/a\x7f", 3, "with DEL");
	path_bad("/caf\xc3\xa9", 6, "with non-ASCII");
	path_bad("/a?b", 4, "with '?'");
	path_bad("/a#b", 4, "with '#'");
	path_bad("/a\0b", 4, "with NUL");
	path_bad("/%2", 3, "with truncated escape %2");
	path_bad("/%G1", 4, "with bad escape %G1");
	path_bad("/a%", 3, "with trailing %");
	path_bad("/%%41", 5, "with %%41");
	path_bad("/../a%zz", 8, "with a bad escape after ..");

	/* MAX_PATH_LEN: raw and canonical. */
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	r = path(big, MAX_PATH_LEN, pbuf, MAX_PATH_LEN);
	is_int(r, MAX_PATH_LEN, "path of MAX_PATH_LEN accepted");
	path_bad(big, MAX_PATH_LEN + 1, "longer than MAX_PATH_LEN");
	big[MAX_PATH_LEN - 1] = '/';
	is_int(path(big, MAX_PATH_LEN, pbuf, MAX_PATH_LEN), MAX_PATH_LEN,
	    "path of MAX_PATH_LEN ending in '/' accepted");
	memset(big, '/', MAX_PATH_LEN + 1);
	path_bad(big, MAX_PATH_LEN + 1, "of slashes longer than MAX_PATH_LEN");

	/* <cap> is respected. */
	is_int(path("/abcdefgh", 9, small, 7), -1, "path longer than cap");
	is_int(path("/abcdef", 7, small, 7), 7, "path exactly cap");
	is_int(path("/abcdef/", 8, small, 7), -1, "trailing slash over cap");
	is_int(path("", 0, small, 1), 1, "empty path into cap 1");
	is_int(path("", 0, small, 0), -1, "empty path into cap 0");
	is_int(url_path_canon(view_make(NULL, 0), small, 1), 1,
	    "empty path with a NULL pointer");
}

static void
test_host(void)
{
	char name[MAX_HOST_LEN + 16], out[16];
	uint16_t port;
	enum host_kind kind;
	size_t i;

	host_ok("example.com", "example.com", 0, HOST_NAME);
	host_ok("Example.COM", "example.com", 0, HOST_NAME);
	host_ok("example.com.", "example.com", 0, HOST_NAME);
	host_ok("EXAMPLE.com.:8080", "example.com", 8080, HOST_NAME);
	host_ok("example.com:443", "example.com", 443, HOST_NAME);
	host_ok("example.com:", "example.com", 0, HOST_NAME);
	host_ok("example.com:1", "example.com", 1, HOST_NAME);
	host_ok("example.com:65535", "example.com", 65535, HOST_NAME);
	host_ok("example.com:00080", "example.com", 80, HOST_NAME);
	host_ok("localhost", "localhost", 0, HOST_NAME);
	host_ok("a", "a", 0, HOST_NAME);
	host_ok("_dmarc.my-host.example", "_dmarc.my-host.example", 0,
	    HOST_NAME);
	host_ok("10.0.0.1", "10.0.0.1", 0, HOST_NAME);
	host_ok("127.0.0.1:80", "127.0.0.1", 80, HOST_NAME);
	host_ok("[::1]", "[::1]", 0, HOST_IPV6);
	host_ok("[::1]:8443", "[::1]", 8443, HOST_IPV6);
	host_ok("[::1]:", "[::1]", 0, HOST_IPV6);
	host_ok("[2001:DB8::A]", "[2001:db8::a]", 0, HOST_IPV6);
	host_ok("[::ffff:192.0.2.1]", "[::ffff:192.0.2.1]", 0, HOST_IPV6);
	host_ok("[1:2:3:4:5:6:7:8]", "[1:2:3:4:5:6:7:8]", 0, HOST_IPV6);
	host_ok("[::]", "[::]", 0, HOST_IPV6);

	host_bad("");
	host_bad(".");
	host_bad(".a");
	host_bad("a..b");
	host_bad("a..");
	host_bad("..");
	host_bad("user@example.com");
	host_bad("user:pw@example.com");
	host_bad(" example.com");
	host_bad("example.com ");
	host_bad("exa mple.com");
	host_bad("exa%41mple.com");
	host_bad("example.com/");
	host_bad("ex\xc3\xa4mple.com");
	host_bad("example.com:0");
	host_bad("example.com:65536");
	host_bad("example.com:100000");
	host_bad("example.com:000080");
	host_bad("example.com:+80");
	host_bad("example.com:-1");
	host_bad("example.com:8a");
	host_bad("example.com:80:80");
	host_bad(":80");
	host_bad("[]");
	host_bad("[::1");
	host_bad("::1");
	host_bad("[::1]x");
	host_bad("[::1%eth0]");
	host_bad("[::1%25eth0]");
	host_bad("[1:2:3]");
	host_bad("[1:2:3:4:5:6:7:8:9]");
	host_bad("[12345::]");
	host_bad("[::g]");
	host_bad("[v1.x]");
	host_bad("[::1].");
	host_bad("a[::1]");
	host_bad("ex*ample.com");
	is_int(url_host_canon(view_make(guard_copy("a\0b", 3), 3), out,
	    sizeof(out), &port, &kind), -1, "host with NUL rejected");
	is_int(url_host_canon(view_make(NULL, 0), out, sizeof(out), &port,
	    &kind), -1, "empty host with a NULL pointer rejected");

	/* Label and host length limits. */
	memset(name, 'a', MAX_LABEL_LEN);
	name[MAX_LABEL_LEN] = '\0';
	is_int(host(name, pbuf, MAX_HOST_LEN + 3, &port, &kind),
	    MAX_LABEL_LEN, "label of MAX_LABEL_LEN accepted");
	memset(name, 'a', MAX_LABEL_LEN + 1);
	name[MAX_LABEL_LEN + 1] = '\0';
	host_bad(name);
	/* 63.63.63.61 = 253 bytes. */
	memset(name, 'b', MAX_HOST_LEN + 2);
	for (i = MAX_LABEL_LEN; i < MAX_HOST_LEN; i += MAX_LABEL_LEN + 1)
		name[i] = '.';
	name[MAX_HOST_LEN] = '\0';
	is_int(host(name, pbuf, MAX_HOST_LEN + 3, &port, &kind), MAX_HOST_LEN,
	    "host of MAX_HOST_LEN accepted");
	name[MAX_HOST_LEN] = '.';
	name[MAX_HOST_LEN + 1] = '\0';
	is_int(host(name, pbuf, MAX_HOST_LEN + 3, &port, &kind), MAX_HOST_LEN,
	    "host of MAX_HOST_LEN plus trailing dot accepted");
	name[MAX_HOST_LEN] = 'b';
	host_bad(name);

	/* <cap> is respected. */
	is_int(host("abcdefgh", out, 7, &port, &kind), -1,
	    "host longer than cap");
	is_int(host("abc.def", out, 7, &port, &kind), 7, "host exactly cap");
	is_int(host("[::1:2:3]", out, 7, &port, &kind), -1,
	    "IPv6 longer than cap");
	port = 9;
	(void)host("bad..host:80", out, 7, &port, &kind);
	is_int(port, 0, "port is 0 after a failure");
}

static void
split_ok(const char *in, const char *scheme, const char *auth,
    const char *p, int has_query, const char *query)
{
	struct url_parts u;
	size_t n = strlen(in);

	if (url_split(view_make(guard_copy(in, n), n), &u) != 0) {
		ok(0, "url \"%s\" split", in);
		return;
	}
	ok(view_eq_cstr(u.scheme, scheme) && view_eq_cstr(u.authority, auth) &&
	    view_eq_cstr(u.path, p) && u.has_query == has_query &&
	    view_eq_cstr(u.query, query),
	    "url \"%s\" -> %s | %s | %s | %d %s", in, scheme, auth, p,
	    has_query, query);
}

static void
split_bad(const char *in)
{
	struct url_parts u;
	size_t n = strlen(in);

	is_int(url_split(view_make(guard_copy(in, n), n), &u), -1,
	    "url \"%s\" rejected", in);
}

static void
test_split(void)
{
	split_ok("http://example.com", "http", "example.com", "", 0, "");
	split_ok("https://example.com/", "https", "example.com", "/", 0, "");
	split_ok("HTTPS://Example.com:8443/a/b?x=1&y#frag", "https",
	    "Example.com:8443", "/a/b", 1, "x=1&y");
	split_ok("HtTp://h/p", "http", "h", "/p", 0, "");
	split_ok("http://h?q", "http", "h", "", 1, "q");
	split_ok("http://h/p?", "http", "h", "/p", 1, "");
	split_ok("http://h/p#f?g", "http", "h", "/p", 0, "");
	split_ok("http://h#f", "http", "h", "", 0, "");
	split_ok("http://[::1]:80/x", "http", "[::1]:80", "/x", 0, "");
	split_ok("http://h/a://b", "http", "h", "/a://b", 0, "");
	split_ok("example.com", "https", "example.com", "", 0, "");
	split_ok("example.com/x?y", "https", "example.com", "/x", 1, "y");
	split_ok("localhost:8080/x", "https", "localhost:8080", "/x", 0, "");
	split_ok("h/a://b", "https", "h", "/a://b", 0, "");
	split_bad("ftp://example.com/");
	split_bad("httpx://example.com/");
	split_bad("://example.com/");
	split_bad("http://");
	split_bad("http:///path");
	split_bad("https://?q");
	split_bad("");
	split_bad("/path");
	split_bad("?q");
	{
		struct url_parts u;

		is_int(url_split(view_make(NULL, 0), &u), -1,
		    "empty url with a NULL pointer rejected");
	}
}

void
test_runtime__url_c(void)
{
	subtest("url_segment_canon", test_segment);
	subtest("url_path_canon", test_path);
	subtest("url_host_canon", test_host);
	subtest("url_split", test_split);
}
