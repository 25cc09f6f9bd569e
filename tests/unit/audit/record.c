/*
 * Tests of audit/record.c: fields copied from views (inputs against a guard
 * page), decision derived from the reason, rule kept for allows only,
 * truncation at the AUDIT_*_MAX limits with flags and at UTF-8 character
 * boundaries, event_time from the real-time clock.
 */
#include <string.h>
#include <time.h>

#include "audit/record.c"

#include "tests/tap.h"

void test_audit__record_c(void);

static struct audit_rec r;

static void
test_fill(void)
{
	struct timespec before, after;
	const char *u = "https://github.com/x?a=b";
	struct view url;

	clock_gettime(CLOCK_REALTIME, &before);
	url = view_make(guard_copy(u, strlen(u)), strlen(u));
	memset(&r, 0x5a, sizeof(r));
	audit_rec_fill(&r, REASON_ALLOWED, view_cstr("GET"), url,
	    view_cstr("domain=github.com"), view_cstr("github.com"));
	clock_gettime(CLOCK_REALTIME, &after);
	is_int(r.decision, AUDIT_ALLOW, "allowed reason is an allow");
	is_int(r.reason, REASON_ALLOWED, "reason kept");
	is_int(r.sequence, 0, "sequence left for audit_emit");
	is_int(r.trunc, 0, "nothing truncated");
	is_mem(r.method, r.method_len, "GET", 3, "method");
	is_mem(r.url, r.url_len, u, strlen(u), "url");
	is_mem(r.rule, r.rule_len, "domain=github.com", 17, "rule");
	is_mem(r.host, r.host_len, "github.com", 10, "host");
	ok((r.event_time.tv_sec > before.tv_sec ||
	    (r.event_time.tv_sec == before.tv_sec &&
	    r.event_time.tv_nsec >= before.tv_nsec)) &&
	    (r.event_time.tv_sec < after.tv_sec ||
	    (r.event_time.tv_sec == after.tv_sec &&
	    r.event_time.tv_nsec <= after.tv_nsec)),
	    "event_time is the real-time clock at fill");

	audit_rec_fill(&r, REASON_HOST_MISMATCH, view_cstr("POST"),
	    view_cstr("https://a/"), view_cstr("domain=a"), view_cstr("b"));
	is_int(r.decision, AUDIT_DENY, "other reasons are denies");
	is_int(r.reason, REASON_HOST_MISMATCH, "deny reason kept");
	is_int(r.rule_len, 0, "no matched_rule on a deny");
	is_str(audit_decision_str(AUDIT_ALLOW), "allow", "allow name");
	is_str(audit_decision_str(AUDIT_DENY), "deny", "deny name");

	audit_rec_fill(&r, REASON_BAD_REQUEST, view_make(NULL, 0),
	    view_make(NULL, 0), view_make(NULL, 0), view_make(NULL, 0));
	ok(r.method_len == 0 && r.url_len == 0 && r.host_len == 0 &&
	    r.trunc == 0, "empty views give empty fields");
}

static void
test_truncation(void)
{
	static char big[AUDIT_URL_MAX + 64];
	size_t n;

	memset(big, 'a', sizeof(big));
	audit_rec_fill(&r, REASON_ALLOWED,
	    view_make(big, AUDIT_METHOD_MAX + 1), view_make(big, sizeof(big)),
	    view_make(big, AUDIT_RULE_MAX + 1),
	    view_make(big, AUDIT_HOST_MAX + 1));
	is_int(r.trunc, AUDIT_TRUNC_METHOD | AUDIT_TRUNC_URL |
	    AUDIT_TRUNC_RULE | AUDIT_TRUNC_HOST, "all four flags");
	ok(r.method_len == AUDIT_METHOD_MAX && r.url_len == AUDIT_URL_MAX &&
	    r.rule_len == AUDIT_RULE_MAX && r.host_len == AUDIT_HOST_MAX,
	    "fields cut at their limits");

	audit_rec_fill(&r, REASON_NO_RULE, view_cstr("GET"),
	    view_make(big, AUDIT_URL_MAX), view_cstr("x"), view_cstr("h"));
	ok(r.url_len == AUDIT_URL_MAX && r.trunc == 0,
	    "exactly AUDIT_URL_MAX bytes is not truncated");

	/* A 3-byte character straddling the limit is left out whole. */
	n = AUDIT_URL_MAX - 1;
	memcpy(big + n, "\xe2\x82\xac", 3);
	audit_rec_fill(&r, REASON_NO_RULE, view_cstr("GET"),
	    view_make(big, n + 3), view_cstr(""), view_cstr(""));
	ok(r.url_len == n && (r.trunc & AUDIT_TRUNC_URL),
	    "cut before a split 3-byte character (%u)", r.url_len);
	/* One ending exactly at the limit is kept. */
	n = AUDIT_URL_MAX - 3;
	memset(big, 'a', sizeof(big));
	memcpy(big + n, "\xe2\x82\xac", 3);
	audit_rec_fill(&r, REASON_NO_RULE, view_cstr("GET"),
	    view_make(big, n + 4), view_cstr(""), view_cstr(""));
	ok(r.url_len == AUDIT_URL_MAX &&
	    memcmp(r.url + n, "\xe2\x82\xac", 3) == 0,
	    "a character ending at the limit is kept");
	/* A 4-byte character split after its second byte. */
	n = AUDIT_URL_MAX - 2;
	memset(big, 'a', sizeof(big));
	memcpy(big + n, "\xf0\x9f\x98\x80", 4);
	audit_rec_fill(&r, REASON_NO_RULE, view_cstr("GET"),
	    view_make(big, n + 4), view_cstr(""), view_cstr(""));
	is_int(r.url_len, n, "cut before a split 4-byte character");
	/* Invalid bytes are not protected: cut at the limit. */
	memset(big, '\x80', sizeof(big));
	audit_rec_fill(&r, REASON_NO_RULE, view_cstr("GET"),
	    view_make(big, sizeof(big)), view_cstr(""), view_cstr(""));
	is_int(r.url_len, AUDIT_URL_MAX, "continuation bytes: cut at limit");
	memset(big, '\xff', sizeof(big));
	audit_rec_fill(&r, REASON_NO_RULE, view_cstr("GET"),
	    view_make(big, sizeof(big)), view_cstr(""), view_cstr(""));
	is_int(r.url_len, AUDIT_URL_MAX, "0xff bytes: cut at limit");
	/* Rule truncation keeps a whole 2-byte character. */
	memset(big, 'r', sizeof(big));
	memcpy(big + AUDIT_RULE_MAX - 1, "\xc3\xa9", 2);
	audit_rec_fill(&r, REASON_ALLOWED, view_cstr("GET"), view_cstr("u"),
	    view_make(big, AUDIT_RULE_MAX + 1), view_cstr(""));
	ok(r.rule_len == AUDIT_RULE_MAX - 1 && (r.trunc & AUDIT_TRUNC_RULE),
	    "rule cut before a split 2-byte character");
}

void
test_audit__record_c(void)
{
	test_fill();
	test_truncation();
}
