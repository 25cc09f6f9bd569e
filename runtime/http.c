/*
 * Incremental, zero-allocation parsers of HTTP/1.1 request and response
 * heads over the scanners of grammar/http_head.re (STYLE rules 10, 17, 26).
 *
 * A call first looks for the end of the head (CRLF CRLF), starting three
 * bytes before <prev_len> so that bytes seen by an earlier call are not
 * scanned again; on the way it rejects bare LF at once, and it checks the
 * first line as soon as it is complete, so garbage is refused before the
 * head is.  Only a complete head is split into lines and fields, in one
 * pass.  The verdict for a given input does not depend on how it was split
 * between calls (fuzz/fuzz_http.c checks that).
 */
#include <string.h>

#include "http.h"

/* Derived facts about the fields of one head. */
struct facts {
	struct view host;
	int host_count;
	int64_t cl;		/* -1: none */
	int te_count;
	int te_chunked;		/* the (first) Transfer-Encoding is "chunked" */
	int conn_close, conn_keep_alive, conn_upgrade;
	int upgrade_count, upgrade_ws;
	int expect_continue, expect_other;
};

static int
name_is(struct view name, const char *lit)
{
	return view_case_eq(name, view_cstr(lit));
}

/*
 * Calls <fn> for every element of the comma-separated list <v> (RFC 9110
 * section 5.6.1); empty elements are passed as empty views.  Returns -1 at
 * the first bad byte or when <fn> returns -1, else 0.
 */
static int
list_each(struct view v, int (*fn)(struct view, void *), void *arg)
{
	const char *cur = v.p, *lim = v.p + v.n, *s;
	struct view el = view_make(v.p, 0);

	for (;;) {
		s = cur;
		switch (http_head_list(&cur, lim)) {
		case HTTP_LIST_TOKEN:
			el = view_make(s, (size_t)(cur - s));
			break;
		case HTTP_LIST_COMMA:
			if (fn(el, arg) == -1)
				return -1;
			el = view_make(cur, 0);
			break;
		case HTTP_LIST_END:
			return fn(el, arg);
		default:
			return -1;
		}
	}
}

/* Content-Length elements: 1*DIGIT, all equal, fitting in int64_t. */
static int
cl_element(struct view el, void *arg)
{
	int64_t *cl = arg, x = 0;
	size_t i;

	if (el.n == 0)
		return -1;
	for (i = 0; i < el.n; i++) {
		int d = el.p[i] - '0';

		if (d < 0 || d > 9)
			return -1;
		if (x > (INT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	if (*cl != -1 && *cl != x)
		return -1;
	*cl = x;
	return 0;
}

static int
conn_element(struct view el, void *arg)
{
	struct facts *f = arg;

	if (name_is(el, "close"))
		f->conn_close = 1;
	else if (name_is(el, "keep-alive"))
		f->conn_keep_alive = 1;
	else if (name_is(el, "upgrade"))
		f->conn_upgrade = 1;
	return 0;
}

static int
upgrade_element(struct view el, void *arg)
{
	struct facts *f = arg;

	if (name_is(el, "websocket"))
		f->upgrade_ws = 1;
	return 0;
}

/* Records what the field <h> means; returns 0 or -1 (a 400). */
static int
note_field(const struct http_hdr *h, struct facts *f)
{
	struct view n = h->name;

	switch (n.n) {
	case 4:
		if (name_is(n, "host")) {
			if (f->host_count++ == 0)
				f->host = h->value;
		}
		break;
	case 6:
		if (name_is(n, "expect")) {
			if (name_is(h->value, "100-continue"))
				f->expect_continue = 1;
			else
				f->expect_other = 1;
		}
		break;
	case 7:
		if (name_is(n, "upgrade")) {
			f->upgrade_count++;
			return list_each(h->value, upgrade_element, f);
		}
		break;
	case 10:
		if (name_is(n, "connection"))
			return list_each(h->value, conn_element, f);
		break;
	case 14:
		if (name_is(n, "content-length"))
			return list_each(h->value, cl_element, &f->cl);
		break;
	case 17:
		if (name_is(n, "transfer-encoding")) {
			if (f->te_count++ == 0)
				f->te_chunked = name_is(h->value, "chunked");
		}
		break;
	}
	return 0;
}

/*
 * Splits the field lines of a complete head, [p, lim), the blank line
 * included, into <hdrs> (capacity <cap>, at most MAX_HEADERS) and <f>.
 * Returns 0, or -1 with *error = 400 (syntax) or 431 (too many fields).
 */
static int
parse_fields(const char *p, const char *lim, struct http_hdr *hdrs,
    size_t cap, size_t *count, struct facts *f, int *error)
{
	struct http_hdr h;
	int r;

	if (cap > MAX_HEADERS)
		cap = MAX_HEADERS;
	for (;;) {
		r = http_head_field(p, lim, &h);
		if (r == -1) {
			*error = 400;
			return -1;
		}
		p += r;
		if (h.name.n == 0)
			break;
		if (*count == cap) {
			*error = 431;
			return -1;
		}
		hdrs[(*count)++] = h;
		if (note_field(&h, f) == -1) {
			*error = 400;
			return -1;
		}
	}
	if (p != lim) {
		/* NOTREACHED: the head ends at its first empty line */
		*error = 400;
		return -1;
	}
	return 0;
}

/*
 * Looks for the end of the head in [start, lim) of <buf>, the head proper
 * beginning at <skip>.  Returns 1 with *end just past the blank line, 0 if
 * there is none yet, -1 for a bare LF.
 */
static int
find_end(const char *buf, size_t lim, size_t start, size_t skip,
    size_t *end)
{
	const char *p = buf + start, *e = buf + lim, *lf;
	size_t i;

	while (p < e && (lf = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		i = (size_t)(lf - buf);
		if (i == 0 || buf[i - 1] != '\r')
			return -1;
		if (i >= skip + 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
			*end = i + 1;
			return 1;
		}
		p = lf + 1;
	}
	return 0;
}

/*
 * The end of the first line (just past its LF) when that line became
 * complete with this call, else NULL: an earlier call has checked it.
 */
static const char *
new_first_line(const char *buf, size_t lim, size_t prev_len, size_t skip)
{
	const char *lf;

	if (lim <= skip)
		return NULL;
	lf = memchr(buf + skip, '\n', lim - skip);
	if (lf == NULL || (size_t)(lf - buf) < prev_len)
		return NULL;
	return lf + 1;
}

static int
authority_ok(struct view t)
{
	size_t i, colon = 0, digits;
	unsigned long port = 0;

	for (i = 0; i < t.n; i++) {
		if (t.p[i] == '/' || t.p[i] == '?' || t.p[i] == '#' ||
		    t.p[i] == '@')
			return 0;
		if (t.p[i] == ':')
			colon = i;
	}
	if (colon == 0)
		return 0;
	if (t.p[0] == '[' && t.p[colon - 1] != ']')
		return 0;
	digits = t.n - colon - 1;
	if (digits < 1 || digits > 5)
		return 0;
	for (i = colon + 1; i < t.n; i++) {
		if (t.p[i] < '0' || t.p[i] > '9')
			return 0;
		port = port * 10 + (unsigned long)(t.p[i] - '0');
	}
	return port >= 1 && port <= 65535;
}

static int
ci_prefix(struct view v, const char *lit)
{
	size_t n = strlen(lit);

	return v.n >= n && view_case_eq(view_make(v.p, n), view_make(lit, n));
}

/* Classifies the target of <req>; returns 0 or -1 (a 400). */
static int
target_form(struct http_req *req)
{
	struct view t = req->target;
	int connect = view_eq_cstr(req->method, "CONNECT");
	size_t skip = 0;

	if (t.p[0] == '/')
		req->form = HTTP_FORM_ORIGIN;
	else if (t.n == 1 && t.p[0] == '*')
		req->form = HTTP_FORM_ASTERISK;
	else if (ci_prefix(t, "http://"))
		skip = 7;
	else if (ci_prefix(t, "https://"))
		skip = 8;
	else if (connect && authority_ok(t))
		req->form = HTTP_FORM_AUTHORITY;
	else
		return -1;
	if (skip > 0) {
		/* absolute-form: the authority may not be empty */
		if (t.n == skip || t.p[skip] == '/' || t.p[skip] == '?' ||
		    t.p[skip] == '#')
			return -1;
		req->form = HTTP_FORM_ABSOLUTE;
	}
	if (connect != (req->form == HTTP_FORM_AUTHORITY))
		return -1;
	if (req->form == HTTP_FORM_ASTERISK &&
	    !view_eq_cstr(req->method, "OPTIONS"))
		return -1;
	return 0;
}

/* Checks and records the request line [p, lim); returns its length or -1. */
static int
request_line(const char *p, const char *lim, struct http_req *req)
{
	struct http_rline rl;
	int r;

	r = http_head_request_line(p, lim, &rl);
	if (r == -1) {
		req->error = rl.error;
		return -1;
	}
	req->method = rl.method;
	req->target = rl.target;
	req->minor = rl.minor;
	if (target_form(req) == -1) {
		req->error = 400;
		return -1;
	}
	return r;
}

static void
facts_init(struct facts *f, const char *buf)
{
	memset(f, 0, sizeof(*f));
	f->host = view_make(buf, 0);
	f->cl = -1;
}

int
http_parse_request(const char *buf, size_t len, size_t prev_len,
    struct http_req *req, struct http_hdr *hdrs, size_t *nhdrs)
{
	size_t cap = *nhdrs, lim, skip = 0, start, end, n;
	const char *le;
	struct facts f;
	int r;

	memset(req, 0, sizeof(*req));
	req->method = req->target = req->host = view_make(buf, 0);
	req->content_length = -1;
	*nhdrs = 0;
	if (prev_len > len)
		prev_len = 0;
	lim = len < MAX_REQ_HEAD ? len : MAX_REQ_HEAD;
	if (lim >= 2 && buf[0] == '\r' && buf[1] == '\n')
		skip = 2;	/* RFC 9112 section 2.2: one empty line */
	start = prev_len > 3 ? prev_len - 3 : 0;

	le = new_first_line(buf, lim, prev_len, skip);
	if (le != NULL && request_line(buf + skip, le, req) == -1)
		return PARSE_BAD;
	switch (find_end(buf, lim, start, skip, &end)) {
	case -1:
		req->error = 400;
		return PARSE_BAD;
	case 0:
		if (len >= MAX_REQ_HEAD) {
			req->error = 431;
			return PARSE_BAD;
		}
		return PARSE_INCOMPLETE;
	}

	r = request_line(buf + skip, buf + end, req);
	if (r == -1)
		return PARSE_BAD;
	facts_init(&f, buf);
	n = 0;
	r = parse_fields(buf + skip + r, buf + end, hdrs, cap, &n, &f,
	    &req->error);
	*nhdrs = n;
	if (r == -1)
		return PARSE_BAD;

	req->host = f.host;
	req->host_count = f.host_count;
	req->content_length = f.cl;
	req->te_present = f.te_count > 0;
	req->chunked = f.te_count == 1 && f.te_chunked;
	req->conn_close = f.conn_close;
	req->conn_keep_alive = f.conn_keep_alive;
	req->conn_upgrade = f.conn_upgrade;
	req->upgrade = f.conn_upgrade && f.upgrade_count > 0;
	req->upgrade_websocket = f.conn_upgrade && f.upgrade_ws;
	req->expect_continue = f.expect_continue;
	req->expect_other = f.expect_other;

	req->error = 400;
	if (f.host_count > 1 || (f.host_count == 1 && f.host.n == 0))
		return PARSE_BAD;
	if (f.host_count == 0 && req->minor == 1)
		return PARSE_BAD;
	if (f.te_count > 0) {
		/* RFC 9112 section 6.1: smuggling, or faulty framing */
		if (f.cl != -1 || req->minor == 0)
			return PARSE_BAD;
		if (!req->chunked) {
			req->error = 501;
			return PARSE_BAD;
		}
	}
	req->error = 0;
	return (int)end;
}

int
http_parse_response(const char *buf, size_t len, size_t prev_len,
    struct http_resp *resp, struct http_hdr *hdrs, size_t *nhdrs)
{
	size_t cap = *nhdrs, lim, start, end, n;
	const char *le;
	struct facts f;
	int r, error = 0;

	memset(resp, 0, sizeof(*resp));
	resp->reason = view_make(buf, 0);
	resp->content_length = -1;
	resp->error = 502;
	*nhdrs = 0;
	if (prev_len > len)
		prev_len = 0;
	lim = len < MAX_RESP_HEAD ? len : MAX_RESP_HEAD;
	start = prev_len > 3 ? prev_len - 3 : 0;

	le = new_first_line(buf, lim, prev_len, 0);
	if (le != NULL && http_head_status_line(buf, le, &resp->minor,
	    &resp->status, &resp->reason) == -1)
		return PARSE_BAD;
	switch (find_end(buf, lim, start, 0, &end)) {
	case -1:
		return PARSE_BAD;
	case 0:
		return len >= MAX_RESP_HEAD ? PARSE_BAD : PARSE_INCOMPLETE;
	}

	r = http_head_status_line(buf, buf + end, &resp->minor, &resp->status,
	    &resp->reason);
	if (r == -1)
		return PARSE_BAD;
	facts_init(&f, buf);
	n = 0;
	r = parse_fields(buf + r, buf + end, hdrs, cap, &n, &f, &error);
	*nhdrs = n;
	if (r == -1)
		return PARSE_BAD;

	resp->content_length = f.cl;
	resp->te_present = f.te_count > 0;
	resp->chunked = f.te_count == 1 && f.te_chunked;
	resp->conn_close = f.conn_close;
	resp->conn_keep_alive = f.conn_keep_alive;
	resp->conn_upgrade = f.conn_upgrade;
	resp->upgrade = f.conn_upgrade && f.upgrade_count > 0;
	resp->upgrade_websocket = f.conn_upgrade && f.upgrade_ws;
	if (f.te_count > 0 &&
	    (f.cl != -1 || resp->minor == 0 || !resp->chunked))
		return PARSE_BAD;
	resp->error = 0;
	return (int)end;
}

int
http_response_has_body(int req_is_head, int status)
{
	if (req_is_head)
		return 0;
	if (status < 200 || status == 204 || status == 304)
		return 0;
	return 1;
}

enum http_body
http_request_body(const struct http_req *req)
{
	if (req->chunked)
		return HTTP_BODY_CHUNKED;
	if (req->content_length > 0)
		return HTTP_BODY_LENGTH;
	return HTTP_BODY_NONE;
}

enum http_body
http_response_body(const struct http_resp *resp, int req_is_head)
{
	if (!http_response_has_body(req_is_head, resp->status))
		return HTTP_BODY_NONE;
	if (resp->chunked)
		return HTTP_BODY_CHUNKED;
	if (resp->content_length > 0)
		return HTTP_BODY_LENGTH;
	if (resp->content_length == 0)
		return HTTP_BODY_NONE;
	return HTTP_BODY_CLOSE;
}

int
http_req_keep_alive(const struct http_req *req)
{
	if (req->conn_close)
		return 0;
	return req->minor == 1 || req->conn_keep_alive;
}

int
http_resp_keep_alive(const struct http_resp *resp)
{
	if (resp->conn_close)
		return 0;
	return resp->minor == 1 || resp->conn_keep_alive;
}

int
http_is_hop_by_hop(struct view name)
{
	/* by length first: called for every forwarded field */
	switch (name.n) {
	case 2:
		return view_case_eq(name, VIEW_LIT("te"));
	case 7:
		return view_case_eq(name, VIEW_LIT("trailer")) ||
		    view_case_eq(name, VIEW_LIT("upgrade"));
	case 10:
		return view_case_eq(name, VIEW_LIT("connection")) ||
		    view_case_eq(name, VIEW_LIT("keep-alive"));
	case 16:
		return view_case_eq(name, VIEW_LIT("proxy-connection"));
	case 17:
		return view_case_eq(name, VIEW_LIT("transfer-encoding"));
	case 18:
		return view_case_eq(name, VIEW_LIT("proxy-authenticate"));
	case 19:
		return view_case_eq(name, VIEW_LIT("proxy-authorization"));
	default:
		return 0;
	}
}

struct lookup {
	struct view name;
	int found;
};

static int
lookup_element(struct view el, void *arg)
{
	struct lookup *l = arg;

	if (el.n > 0 && view_case_eq(el, l->name))
		l->found = 1;
	return 0;
}

int
http_conn_lists(const struct http_hdr *hdrs, size_t n, struct view name)
{
	struct lookup l;
	size_t i;

	l.name = name;
	l.found = 0;
	if (name.n == 0)
		return 0;
	for (i = 0; i < n && !l.found; i++)
		if (view_case_eq(hdrs[i].name, VIEW_LIT("connection")))
			(void)list_each(hdrs[i].value, lookup_element, &l);
	return l.found;
}

int
http_hdr_is_hop(const struct http_hdr *hdrs, size_t n, struct view name)
{
	return http_is_hop_by_hop(name) || http_conn_lists(hdrs, n, name);
}

const struct http_hdr *
http_hdr_find(const struct http_hdr *hdrs, size_t n, struct view name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (view_case_eq(hdrs[i].name, name))
			return &hdrs[i];
	return NULL;
}

const char *
http_form_str(enum http_form form)
{
	switch (form) {
	case HTTP_FORM_ORIGIN:
		return "origin";
	case HTTP_FORM_ABSOLUTE:
		return "absolute";
	case HTTP_FORM_AUTHORITY:
		return "authority";
	case HTTP_FORM_ASTERISK:
		return "asterisk";
	}
	return "?";
}

const char *
http_body_str(enum http_body body)
{
	switch (body) {
	case HTTP_BODY_NONE:
		return "none";
	case HTTP_BODY_LENGTH:
		return "length";
	case HTTP_BODY_CHUNKED:
		return "chunked";
	case HTTP_BODY_CLOSE:
		return "close";
	}
	return "?";
}
