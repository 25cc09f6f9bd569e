/*
 * Tests of compiler/suggest.c: did-you-mean by edit distance.
 */
#include <string.h>

#include "compiler/suggest.c"
#include "tests/tap.h"

void test_compiler__suggest_c(void);

static const char *const keys[] = {
	"allowlist", "session_id_inject_targets", "log_level", "log_dir",
	"jail_type", "proxy_port", "pprof_port", "pprof_enabled",
	"use_real_dns", "no_user_namespace", "disable_audit_logs",
	"session_correlation_enabled",
};
static const char *const rule_keys[] = { "method", "domain", "path" };

#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *
sug(const char *w, const char *const *c, size_t n)
{
	return suggest_word(w, strlen(w), c, n);
}

static void
is_sug(const char *w, const char *const *c, size_t n, const char *want)
{
	const char *got = sug(w, c, n);

	is_str(got ? got : "(none)", want ? want : "(none)", "'%s' -> %s", w,
	    want ? want : "nothing");
}

void
test_compiler__suggest_c(void)
{
	char longw[1000];

	is_int(distance("kitten", 6, "sitting", 7), 3, "kitten/sitting");
	is_int(distance("", 0, "abc", 3), 3, "empty/abc");
	is_int(distance("abc", 3, "", 0), 3, "abc/empty");
	is_int(distance("ab", 2, "ba", 2), 1, "transposition costs 1");
	is_int(distance("ca", 2, "abc", 3), 3, "OSA: ca/abc is 3");
	is_int(distance("ABC", 3, "abc", 3), 0, "case is ignored");

	is_sug("allow_list", keys, NKEYS, "allowlist");
	is_sug("proxyport", keys, NKEYS, "proxy_port");
	is_sug("proxy-port", keys, NKEYS, "proxy_port");
	is_sug("log_levle", keys, NKEYS, "log_level");
	is_sug("LOG_LEVEL", keys, NKEYS, "log_level");
	is_sug("jailtype", keys, NKEYS, "jail_type");
	is_sug("use_realdns", keys, NKEYS, "use_real_dns");
	is_sug("session_id_inject_target", keys, NKEYS,
	    "session_id_inject_targets");
	is_sug("pprof_enable", keys, NKEYS, "pprof_enabled");
	is_sug("pprof_prot", keys, NKEYS, "pprof_port");
	is_sug("log_file", keys, NKEYS, NULL);
	is_sug("allow", keys, NKEYS, NULL);
	is_sug("colour", keys, NKEYS, NULL);
	is_sug("", keys, NKEYS, NULL);

	is_sug("metod", rule_keys, 3, "method");
	is_sug("mehtod", rule_keys, 3, "method");
	is_sug("Domain", rule_keys, 3, "domain");
	is_sug("domian", rule_keys, 3, "domain");
	is_sug("pth", rule_keys, 3, "path");
	is_sug("paths", rule_keys, 3, "path");
	is_sug("host", rule_keys, 3, NULL);
	is_sug("url", rule_keys, 3, NULL);
	is_sug("p", rule_keys, 3, NULL);

	/* ties go to the first candidate */
	{
		static const char *const ab[] = { "cat", "bat" };
		static const char *const ba[] = { "bat", "cat" };

		is_sug("at", ab, 2, "cat");
		is_sug("at", ba, 2, "bat");
	}
	/* no candidates; a one-byte word never gets a one-byte candidate */
	ok(suggest_word("abc", 3, keys, 0) == NULL, "no candidates");
	{
		static const char *const one[] = { "x" };

		is_sug("y", one, 1, NULL);
		is_sug("X", one, 1, "x");
	}
	/* long words, and words with any bytes, are safe */
	memset(longw, 'a', sizeof(longw));
	ok(suggest_word(longw, sizeof(longw), keys, NKEYS) == NULL,
	    "1000-byte word: nothing");
	ok(suggest_word("al\0owlist", 9, keys, NKEYS) == keys[0],
	    "NUL inside the word counts as one substitution");
	{
		char cand[200];
		const char *c[1];

		memset(cand, 'b', sizeof(cand) - 1);
		cand[sizeof(cand) - 1] = '\0';
		c[0] = cand;
		ok(suggest_word(cand, sizeof(cand) - 1, c, 1) == NULL,
		    "candidates longer than SUGGEST_MAX_CAND are skipped");
	}
}
