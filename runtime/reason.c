/* Reason codes, rendered late (STYLE rule 11). */
#include "runtime.h"

static const char *const names[REASON_COUNT] = {
	[REASON_ALLOWED] = "allowed",
	[REASON_NO_RULE] = "no_rule",
	[REASON_BAD_REQUEST] = "bad_request",
	[REASON_HOST_MISMATCH] = "host_mismatch",
	[REASON_CONNECT_DENIED] = "connect_denied",
	[REASON_OVERLOAD] = "overload",
};

const char *
reason_str(enum reason r)
{
	if ((unsigned)r >= REASON_COUNT || names[r] == NULL)
		return "unknown";
	return names[r];
}
