/*
 * HTTP/1.1 message heads (RFC 9112), private to runtime/: the request and
 * response head parsers of http.c and the re2c scanners of
 * grammar/http_head.re (build/gen/http_head.c) they run on.
 *
 * The parsers follow picohttpparser's contract (STYLE rules 10, 17, 26):
 * nothing is allocated, every result is a view into the caller's buffer,
 * the input is never written to, never NUL-terminated and never read at or
 * past <len>.  They return the head length (through the blank line),
 * PARSE_INCOMPLETE or PARSE_BAD; after PARSE_BAD, ->error holds the HTTP
 * status to answer with.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "view.h"

#ifndef PARSE_BAD
#define PARSE_BAD (-1)		/* malformed input: answer and close */
#define PARSE_INCOMPLETE (-2)	/* a prefix of valid input: read more */
#endif

/* The four forms of request-target (RFC 9112 section 3.2). */
enum http_form {
	HTTP_FORM_ORIGIN,	/* "/path?query" */
	HTTP_FORM_ABSOLUTE,	/* "http://host/path" or "https://...", any case */
	HTTP_FORM_AUTHORITY,	/* "host:port", only with CONNECT */
	HTTP_FORM_ASTERISK	/* "*", only with OPTIONS */
};

/* How a message body is delimited (RFC 9112 section 6.3). */
enum http_body {
	HTTP_BODY_NONE,		/* no body (or Content-Length: 0) */
	HTTP_BODY_LENGTH,	/* content_length bytes (> 0) */
	HTTP_BODY_CHUNKED,	/* chunked transfer-coding: see chunk.h */
	HTTP_BODY_CLOSE		/* responses only: until the server closes */
};

/* One header field: views of the name and of the value without OWS. */
struct http_hdr {
	struct view name;
	struct view value;
};

/*
 * A parsed request head.  Every view points into the buffer given to
 * http_parse_request() and is valid as long as that buffer is.
 */
struct http_req {
	struct view method;	/* token, case-sensitive */
	struct view target;	/* request-target as written */
	int minor;		/* 0 or 1: HTTP/1.<minor> */
	enum http_form form;
	struct view host;	/* Host value without OWS; empty if no Host */
	int host_count;		/* Host fields seen (0 or 1 on success) */
	int64_t content_length;	/* -1 when there is no Content-Length */
	int chunked;		/* Transfer-Encoding is exactly "chunked" */
	int te_present;		/* a Transfer-Encoding field was present */
	int conn_close;		/* Connection lists "close" */
	int conn_keep_alive;	/* Connection lists "keep-alive" */
	int conn_upgrade;	/* Connection lists "upgrade" */
	int upgrade;		/* an Upgrade field and Connection: upgrade */
	int upgrade_websocket;	/* Upgrade lists "websocket", Connection: upgrade */
	int expect_continue;	/* Expect: 100-continue */
	int expect_other;	/* an Expect field with any other value (417) */
	int error;		/* after PARSE_BAD: 400, 431, 501 or 505 */
};

/* A parsed response head; views into the buffer given to the parser. */
struct http_resp {
	int minor;		/* 0 or 1 */
	int status;		/* 100..999 */
	struct view reason;	/* reason-phrase, may be empty */
	int64_t content_length;	/* -1 when there is no Content-Length */
	int chunked;		/* Transfer-Encoding is exactly "chunked" */
	int te_present;
	int conn_close;
	int conn_keep_alive;
	int conn_upgrade;
	int upgrade;		/* an Upgrade field and Connection: upgrade */
	int upgrade_websocket;	/* Upgrade lists "websocket", Connection: upgrade */
	int error;		/* after PARSE_BAD: always 502 */
};

/*
 * Parses the request head at the start of <buf> (<len> bytes, of which the
 * first <prev_len> were already passed to an earlier call that returned
 * PARSE_INCOMPLETE; 0 on the first call).  <hdrs> has room for *<nhdrs>
 * fields; on return *<nhdrs> is the number stored.
 *
 * Returns the head length (> 0, the blank line included; bytes after it,
 * e.g. a body or a pipelined request, are not looked at), PARSE_INCOMPLETE,
 * or PARSE_BAD with req->error set to 400 (syntax, smuggling: CL and TE
 * together, differing lengths, obs-fold, bare LF, missing or repeated Host,
 * wrong target form), 431 (head longer than MAX_REQ_HEAD, or more fields
 * than MAX_HEADERS or *<nhdrs>), 501 (a Transfer-Encoding other than a
 * single "chunked") or 505 (not HTTP/1.0 or HTTP/1.1).  When <len> reaches
 * MAX_REQ_HEAD without a complete head, the answer is 431, never
 * PARSE_INCOMPLETE.  One CRLF before the request line is skipped (RFC 9112
 * section 2.2) and counted in the returned length.  Bare LF and bare CR
 * are errors, so a bad head is often rejected before it is complete.
 * Borrows <buf>; allocates nothing.
 */
int http_parse_request(const char *buf, size_t len, size_t prev_len,
    struct http_req *req, struct http_hdr *hdrs, size_t *nhdrs)
    __attribute__((warn_unused_result));

/*
 * The same for an upstream response head (status line, then fields as for
 * requests), limited to MAX_RESP_HEAD bytes and to MAX_HEADERS (and
 * *<nhdrs>) fields.  On PARSE_BAD resp->error is 502.  The same framing
 * rules hold: CL with TE, differing lengths, a Transfer-Encoding other than
 * "chunked", bare LF and obs-fold are errors.
 */
int http_parse_response(const char *buf, size_t len, size_t prev_len,
    struct http_resp *resp, struct http_hdr *hdrs, size_t *nhdrs)
    __attribute__((warn_unused_result));

/*
 * Whether a response with <status> to a request that was (<req_is_head> !=
 * 0) or was not a HEAD carries a body: never after HEAD, never for 1xx,
 * 204 and 304 (RFC 9112 section 6.3, rules 1 and 2).
 */
int http_response_has_body(int req_is_head, int status);

/* How the body of <req> is delimited: NONE, LENGTH or CHUNKED. */
enum http_body http_request_body(const struct http_req *req);

/*
 * How the body of <resp> is delimited: NONE (see http_response_has_body,
 * or Content-Length: 0), CHUNKED, LENGTH, or CLOSE when neither
 * Content-Length nor Transfer-Encoding was sent.
 */
enum http_body http_response_body(const struct http_resp *resp,
    int req_is_head);

/*
 * Whether the connection may be reused after this message: HTTP/1.1 unless
 * "Connection: close", HTTP/1.0 only with "Connection: keep-alive".
 */
int http_req_keep_alive(const struct http_req *req);
int http_resp_keep_alive(const struct http_resp *resp);

/*
 * Whether a field named <name> (any case) is hop-by-hop by definition:
 * Connection, Keep-Alive, Proxy-Connection, Proxy-Authorization,
 * Proxy-Authenticate, TE, Trailer, Transfer-Encoding, Upgrade.  Fields
 * named in a Connection field are hop-by-hop too: see http_conn_lists().
 */
int http_is_hop_by_hop(struct view name);

/*
 * Whether any Connection field among <hdrs> (<n> fields) lists <name>
 * (any case), which makes <name> a hop-by-hop field of this message.
 */
int http_conn_lists(const struct http_hdr *hdrs, size_t n, struct view name);

/*
 * http_is_hop_by_hop(name) || http_conn_lists(hdrs, n, name): whether the
 * field must not be forwarded.
 */
int http_hdr_is_hop(const struct http_hdr *hdrs, size_t n, struct view name);

/*
 * The first field named <name> (any case) among <hdrs> (<n> fields), or
 * NULL.  To find the next one, call again with <hdrs> just past the
 * result and <n> reduced accordingly.
 */
const struct http_hdr *http_hdr_find(const struct http_hdr *hdrs, size_t n,
    struct view name);

const char *http_form_str(enum http_form);
const char *http_body_str(enum http_body);

/* ---- scanners generated from grammar/http_head.re (private to http.c) -- */

/* A request line, as split by http_head_request_line(). */
struct http_rline {
	struct view method;
	struct view target;
	int minor;		/* 0 or 1 */
	int error;		/* on -1: 400 (syntax) or 505 (other version) */
};

/*
 * Matches "method SP request-target SP HTTP/1.x CRLF" at <p>, exactly
 * single spaces, a tchar method and visible-ASCII target.  Returns the
 * line length with the CRLF, or -1 and rl->error.  Reads only [p, lim).
 */
int http_head_request_line(const char *p, const char *lim,
    struct http_rline *rl);

/*
 * Matches "HTTP/1.x SP 3DIGIT [SP reason-phrase] CRLF" at <p> (the space
 * before an empty reason may be missing).  Returns the line length with
 * the CRLF (and *minor, *status, *reason), or -1.
 */
int http_head_status_line(const char *p, const char *lim, int *minor,
    int *status, struct view *reason);

/*
 * Matches one field line "name:" OWS value OWS CRLF at <p>, or the empty
 * line CRLF (then f->name.n is 0).  The name is a token with nothing
 * between it and the colon; the value holds only HTAB, SP, VCHAR and
 * obs-text and comes back without its surrounding OWS.  Returns the line
 * length with the CRLF, or -1 (obs-fold, bad bytes, missing CRLF).
 */
int http_head_field(const char *p, const char *lim, struct http_hdr *f);

/* Tokens of a comma-separated field value (RFC 9110 section 5.6.1). */
enum http_list_tok {
	HTTP_LIST_END,		/* end of the value */
	HTTP_LIST_TOKEN,	/* token, or token "/" token (Upgrade) */
	HTTP_LIST_COMMA,	/* OWS "," OWS */
	HTTP_LIST_BAD		/* anything else */
};

/* Scans one list token at *cur and moves *cur past it. */
enum http_list_tok http_head_list(const char **cur, const char *lim);

#endif
