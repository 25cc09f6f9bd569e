/*
 * Audit records: filled from views of the connection's buffers into a fixed
 * size struct, so a record outlives the request it describes (STYLE rules
 * 11 and 15: the reason is stored as the enum and rendered by the sinks).
 */
#include <string.h>
#include <time.h>

#include "audit/audit.h"

const char *
audit_decision_str(enum audit_decision d)
{
	switch (d) {
	case AUDIT_DENY:
		return "deny";
	case AUDIT_ALLOW:
		return "allow";
	}
	return "unknown";
}

/*
 * Length of the longest prefix of <v> that fits in <max> bytes and does
 * not end inside a UTF-8 character (so a cut never makes a valid string
 * invalid).  Invalid bytes before the cut are left for the encoders.
 */
static size_t
cut_len(struct view v, size_t max)
{
	const unsigned char *p = (const unsigned char *)v.p;
	size_t n, k, need;

	if (v.n <= max)
		return v.n;
	n = max;
	/* Walk back over at most three continuation bytes to a lead byte. */
	for (k = n; k > 0 && n - k < 3 && (p[k - 1] & 0xc0) == 0x80; k--)
		;
	if (k == 0)
		return n;
	if (p[k - 1] >= 0xf5 || p[k - 1] == 0xc0 || p[k - 1] == 0xc1)
		return n;	/* not a lead byte: nothing valid to protect */
	if (p[k - 1] >= 0xf0)
		need = 4;
	else if (p[k - 1] >= 0xe0)
		need = 3;
	else if (p[k - 1] >= 0xc0)
		need = 2;
	else
		return n;
	/* The character at k-1 needs more bytes than there is room for. */
	if (n - (k - 1) < need)
		return k - 1;
	return n;
}

static uint16_t
copy_field(char *dst, size_t max, struct view v, uint8_t *trunc, uint8_t bit)
{
	size_t n = cut_len(v, max);

	if (n < v.n)
		*trunc |= bit;
	if (n > 0)
		memcpy(dst, v.p, n);
	return (uint16_t)n;
}

void
audit_rec_fill(struct audit_rec *r, enum reason reason, struct view method,
    struct view url, struct view rule, struct view host)
{
	r->sequence = 0;
	r->trunc = 0;
	r->reason = reason;
	r->decision = reason == REASON_ALLOWED ? AUDIT_ALLOW : AUDIT_DENY;
	if (clock_gettime(CLOCK_REALTIME, &r->event_time) == -1) {
		r->event_time.tv_sec = 0;
		r->event_time.tv_nsec = 0;
	}
	r->method_len = copy_field(r->method, sizeof(r->method), method,
	    &r->trunc, AUDIT_TRUNC_METHOD);
	r->url_len = copy_field(r->url, sizeof(r->url), url, &r->trunc,
	    AUDIT_TRUNC_URL);
	if (r->decision == AUDIT_ALLOW)
		r->rule_len = copy_field(r->rule, sizeof(r->rule), rule,
		    &r->trunc, AUDIT_TRUNC_RULE);
	else
		r->rule_len = 0;
	r->host_len = copy_field(r->host, sizeof(r->host), host, &r->trunc,
	    AUDIT_TRUNC_HOST);
}
