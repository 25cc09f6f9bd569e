/*
 * Tests of compiler/yaml.c: config.yaml keys, values, diagnostics (text and
 * position) and the positions of rule strings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compiler/yaml.c"
#include "tests/tap.h"

void test_compiler__yaml_c(void);

struct run {
	struct arena a;
	struct diag d;
	struct config cfg;
	char *out;		/* everything diag printed */
	size_t outlen;
	int ret;
};

static void
run_mem(struct run *r, const char *text, size_t len)
{
	FILE *f;

	memset(r, 0, sizeof(*r));
	f = open_memstream(&r->out, &r->outlen);
	r->d.out = f;
	r->ret = config_load_mem(&r->a, &r->d, "t.yaml", text, len, &r->cfg);
	fclose(f);
}

static void
run_str(struct run *r, const char *text)
{
	run_mem(r, text, strlen(text));
}

static void
run_done(struct run *r)
{
	arena_free(&r->a);
	free(r->out);
	r->out = NULL;
}

/*
 * The diagnostic lines of the output ("t.yaml:L:C: kind: msg" and the
 * position-less "boundary-compile: ..."), without source and caret lines,
 * each ended by '\n'.
 */
static const char *
heads(const struct run *r)
{
	static char buf[8192];
	const char *p = r->out, *end = r->out + r->outlen, *eol;
	size_t k = 0, n;

	while (p < end) {
		eol = memchr(p, '\n', (size_t)(end - p));
		n = eol ? (size_t)(eol - p) + 1 : (size_t)(end - p);
		if ((strncmp(p, "t.yaml:", 7) == 0 ||
		    strncmp(p, "boundary-compile:", 17) == 0) &&
		    k + n < sizeof(buf)) {
			memcpy(buf + k, p, n);
			k += n;
		}
		p += n;
	}
	buf[k] = '\0';
	return buf;
}

/* Loads <text>, expects return <ret> and exactly the diagnostics <want>. */
static void
check(const char *text, int ret, const char *want, const char *what)
{
	struct run r;

	run_str(&r, text);
	is_int(r.ret, ret, "%s: return", what);
	is_str(heads(&r), want, "%s: diagnostics", what);
	run_done(&r);
}

static void
check_unset(const struct config *c, const char *what)
{
	ok(c->nallowlist == 0 && c->ninject_targets == 0 &&
	    c->log_level == NULL && c->log_dir == NULL &&
	    c->jail_type == NULL && c->proxy_port == -1 &&
	    c->pprof_port == -1 && c->pprof_enabled == CFG_UNSET &&
	    c->use_real_dns == CFG_UNSET &&
	    c->no_user_namespace == CFG_UNSET &&
	    c->disable_audit_logs == CFG_UNSET &&
	    c->session_correlation_enabled == CFG_UNSET,
	    "%s: nothing set", what);
}

static void
test_empty(void)
{
	static const char *const empty[] = {
		"", "\n", "# only a comment\n", "---\n", "--- ~\n", "~\n",
		"null\n", "{}\n", "---\n...\n", "\xef\xbb\xbf",
	};
	struct run r;
	size_t i;

	for (i = 0; i < NELEM(empty); i++) {
		run_str(&r, empty[i]);
		is_int(r.ret, 0, "empty #%zu: accepted", i);
		is_int(r.outlen, 0, "empty #%zu: no diagnostic", i);
		check_unset(&r.cfg, "empty");
		is_str(r.cfg.src.name, "t.yaml", "empty #%zu: src name", i);
		run_done(&r);
	}
}

static void
test_reference_example(void)
{
	/* ../shared/reference/agent-firewall.md, the Claude Code config */
	static const char text[] =
	    "allowlist:\n"
	    "- \"domain=dev.coder.com\" # Required - use your Coder deployment domain\n"
	    "- \"domain=api.anthropic.com\" # Required - API endpoint for Claude\n"
	    "- \"domain=statsig.anthropic.com\" # Required - Feature flags and analytics\n"
	    "- \"domain=claude.ai\" # Recommended - WebFetch/WebSearch features\n"
	    "- \"domain=*.sentry.io\" # Recommended - Error tracking (helps Anthropic fix bugs)\n"
	    "jail_type: nsjail\n"
	    "log_dir: /tmp/boundary_logs\n"
	    "proxy_port: 8087\n"
	    "log_level: warn\n";
	static const char *const rules[] = {
		"domain=dev.coder.com", "domain=api.anthropic.com",
		"domain=statsig.anthropic.com", "domain=claude.ai",
		"domain=*.sentry.io",
	};
	struct run r;
	uint32_t i;

	run_str(&r, text);
	is_int(r.ret, 0, "reference example loads");
	is_int(r.outlen, 0, "reference example: no diagnostic");
	is_int(r.cfg.nallowlist, 5, "reference example: 5 rules");
	for (i = 0; i < r.cfg.nallowlist && i < 5; i++) {
		const struct cfg_string *s = &r.cfg.allowlist[i];

		is_mem(s->text.p, s->text.n, rules[i], strlen(rules[i]),
		    "rule %u text", i);
		is_int(s->loc.line, i + 2, "rule %u line", i);
		is_int(s->loc.col, 4, "rule %u col (after the quote)", i);
		is_int(s->loc.exact, 1, "rule %u exact", i);
		ok(s->loc.src == &r.cfg.src, "rule %u src", i);
		/* the text is a copy in the arena, NUL-terminated */
		ok(s->text.p < r.cfg.src.text ||
		    s->text.p >= r.cfg.src.text + r.cfg.src.len,
		    "rule %u copied", i);
		is_int(s->text.p[s->text.n], '\0', "rule %u terminated", i);
	}
	is_str(r.cfg.jail_type, "nsjail", "jail_type");
	is_str(r.cfg.log_dir, "/tmp/boundary_logs", "log_dir");
	is_int(r.cfg.proxy_port, 8087, "proxy_port");
	is_str(r.cfg.log_level, "warn", "log_level");
	is_int(r.cfg.pprof_port, -1, "pprof_port unset");
	is_int(r.cfg.use_real_dns, CFG_UNSET, "use_real_dns unset");
	is_int(r.cfg.src.len, sizeof(text) - 1, "src holds the whole text");
	is_mem(r.cfg.src.text, r.cfg.src.len, text, sizeof(text) - 1,
	    "src text");
	run_done(&r);
}

static void
test_all_keys(void)
{
	struct run r;

	run_str(&r,
	    "allowlist:\n"
	    "  - domain=a.com\n"
	    "session_id_inject_targets: [\"domain=coder.example\", domain=b]\n"
	    "log_level: DeBuG\n"
	    "log_dir: \"/var/log/b\"\n"
	    "jail_type: landjail\n"
	    "proxy_port: 65535\n"
	    "pprof_port: '06060'\n"
	    "pprof_enabled: true\n"
	    "use_real_dns: FALSE\n"
	    "no_user_namespace: T\n"
	    "disable_audit_logs: 0\n"
	    "session_correlation_enabled: tRuE\n");
	is_int(r.ret, 0, "all keys: accepted");
	is_str(heads(&r), "", "all keys: no diagnostic");
	is_int(r.cfg.nallowlist, 1, "all keys: allowlist");
	is_int(r.cfg.ninject_targets, 2, "all keys: inject targets");
	if (r.cfg.ninject_targets == 2) {
		is_mem(r.cfg.inject_targets[0].text.p,
		    r.cfg.inject_targets[0].text.n, "domain=coder.example", 20,
		    "inject target 0");
		is_int(r.cfg.inject_targets[0].loc.line, 3, "target 0 line");
		is_int(r.cfg.inject_targets[0].loc.col, 30, "target 0 col");
		is_mem(r.cfg.inject_targets[1].text.p,
		    r.cfg.inject_targets[1].text.n, "domain=b", 8,
		    "inject target 1");
		is_int(r.cfg.inject_targets[1].loc.col, 53, "target 1 col");
	}
	is_str(r.cfg.log_level, "debug", "log_level lowercased");
	is_str(r.cfg.log_dir, "/var/log/b", "log_dir");
	is_str(r.cfg.jail_type, "landjail", "jail_type");
	is_int(r.cfg.proxy_port, 65535, "proxy_port");
	is_int(r.cfg.pprof_port, 6060, "pprof_port (quoted, leading zero)");
	is_int(r.cfg.pprof_enabled, CFG_TRUE, "pprof_enabled");
	is_int(r.cfg.use_real_dns, CFG_FALSE, "use_real_dns");
	is_int(r.cfg.no_user_namespace, CFG_TRUE, "no_user_namespace");
	is_int(r.cfg.disable_audit_logs, CFG_FALSE, "disable_audit_logs");
	is_int(r.cfg.session_correlation_enabled, CFG_TRUE,
	    "session_correlation_enabled");
	run_done(&r);
}

static void
test_bools(void)
{
	static const char *const yes[] = { "true", "True", "TRUE", "tRUE",
	    "t", "T", "1", "\"true\"" };
	static const char *const no[] = { "false", "False", "FALSE", "fAlSe",
	    "f", "F", "0", "'0'" };
	static const char *const bad[] = { "yes", "no", "on", "off", "2",
	    "tru", "\"\"", "y", "01" };
	char text[128], want[256];
	struct run r;
	size_t i;

	for (i = 0; i < NELEM(yes); i++) {
		snprintf(text, sizeof(text), "use_real_dns: %s\n", yes[i]);
		run_str(&r, text);
		ok(r.ret == 0 && r.cfg.use_real_dns == CFG_TRUE,
		    "bool %s is true", yes[i]);
		run_done(&r);
	}
	for (i = 0; i < NELEM(no); i++) {
		snprintf(text, sizeof(text), "no_user_namespace: %s\n", no[i]);
		run_str(&r, text);
		ok(r.ret == 0 && r.cfg.no_user_namespace == CFG_FALSE,
		    "bool %s is false", no[i]);
		run_done(&r);
	}
	for (i = 0; i < NELEM(bad); i++) {
		int q = bad[i][0] == '"';

		snprintf(text, sizeof(text), "pprof_enabled: %s\n", bad[i]);
		snprintf(want, sizeof(want), "t.yaml:1:%d: error: invalid "
		    "pprof_enabled '%.*s': expected true or false\n", 16 + q,
		    (int)strlen(bad[i]) - 2 * q, bad[i] + q);
		check(text, -1, want, bad[i]);
	}
}

static void
test_ports(void)
{
	struct run r;

	run_str(&r, "proxy_port: 1\npprof_port: 65535\n");
	ok(r.ret == 0 && r.cfg.proxy_port == 1 && r.cfg.pprof_port == 65535,
	    "ports 1 and 65535");
	run_done(&r);
	check("proxy_port: 0\n", -1, "t.yaml:1:13: error: invalid "
	    "proxy_port '0': expected a port number from 1 to 65535\n",
	    "port 0");
	check("proxy_port: 65536\n", -1, "t.yaml:1:13: error: invalid "
	    "proxy_port '65536': expected a port number from 1 to 65535\n",
	    "port 65536");
	check("pprof_port: -1\n", -1, "t.yaml:1:13: error: invalid "
	    "pprof_port '-1': expected a port number from 1 to 65535\n",
	    "port -1");
	check("pprof_port: 80x\n", -1, "t.yaml:1:13: error: invalid "
	    "pprof_port '80x': expected a port number from 1 to 65535\n",
	    "port 80x");
	check("proxy_port: 99999999999999999999999\n", -1, "t.yaml:1:13: "
	    "error: invalid proxy_port '99999999999999999999999': expected a "
	    "port number from 1 to 65535\n", "huge port");
	check("proxy_port: \"\"\n", -1, "t.yaml:1:14: error: invalid "
	    "proxy_port '': expected a port number from 1 to 65535\n",
	    "empty port");
	check("proxy_port: 8080.0\n", -1, "t.yaml:1:13: error: invalid "
	    "proxy_port '8080.0': expected a port number from 1 to 65535\n",
	    "float port");
}

static void
test_strings(void)
{
	struct run r;
	static const char *const levels[] = { "error", "Warn", "INFO",
	    "debug" };
	static const char *const want[] = { "error", "warn", "info",
	    "debug" };
	char text[64];
	size_t i;

	for (i = 0; i < NELEM(levels); i++) {
		snprintf(text, sizeof(text), "log_level: %s\n", levels[i]);
		run_str(&r, text);
		is_int(r.ret, 0, "log_level %s", levels[i]);
		is_str(r.cfg.log_level, want[i], "log_level %s stored",
		    levels[i]);
		run_done(&r);
	}
	check("log_level: verbose\n", -1, "t.yaml:1:12: error: invalid "
	    "log_level 'verbose': expected error, warn, info or debug\n",
	    "log_level verbose");
	check("log_level: warning\n", -1, "t.yaml:1:12: error: invalid "
	    "log_level 'warning': expected error, warn, info or debug; did "
	    "you mean 'warn'?\n", "log_level warning");
	check("log_level: debgu\n", -1, "t.yaml:1:12: error: invalid "
	    "log_level 'debgu': expected error, warn, info or debug; did "
	    "you mean 'debug'?\n", "log_level debgu");
	check("log_level: err\n", -1, "t.yaml:1:12: error: invalid "
	    "log_level 'err': expected error, warn, info or debug; did "
	    "you mean 'error'?\n", "log_level err");
	check("log_level: Information\n", -1, "t.yaml:1:12: error: invalid "
	    "log_level 'Information': expected error, warn, info or debug; "
	    "did you mean 'info'?\n", "log_level Information");
	check("log_level: \"\"\n", -1, "t.yaml:1:13: error: invalid "
	    "log_level '': expected error, warn, info or debug\n",
	    "log_level empty");

	check("jail_type: docker\n", -1, "t.yaml:1:12: error: invalid "
	    "jail_type 'docker': expected nsjail or landjail\n",
	    "jail_type docker");
	check("jail_type: NSJAIL\n", -1, "t.yaml:1:12: error: invalid "
	    "jail_type 'NSJAIL': expected nsjail or landjail; did you mean "
	    "'nsjail'?\n", "jail_type is case-sensitive");
	check("jail_type: landjial\n", -1, "t.yaml:1:12: error: invalid "
	    "jail_type 'landjial': expected nsjail or landjail; did you mean "
	    "'landjail'?\n", "jail_type landjial");

	check("log_dir: ''\n", -1,
	    "t.yaml:1:11: error: log_dir must not be empty\n", "empty log_dir");
	check("log_dir: \"a\\0b\"\n", -1, "t.yaml:1:11: error: invalid "
	    "log_dir 'a\\x00b': contains a NUL byte\n", "NUL in log_dir");
	/* a plain number is a string to a string key */
	run_str(&r, "log_dir: 123\n");
	ok(r.ret == 0 && strcmp(r.cfg.log_dir, "123") == 0,
	    "log_dir: a number is a string");
	run_done(&r);
	/* a long value is shortened in the message */
	check("log_level: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa\n", -1, "t.yaml:1:12: error: invalid "
	    "log_level 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaa...': expected error, warn, info or debug\n",
	    "long value shortened");
}

static void
test_types(void)
{
	check("log_level: [warn]\n", -1, "t.yaml:1:12: error: log_level "
	    "must be a single value, not a list\n", "list for a string");
	check("proxy_port:\n  a: 1\n", -1, "t.yaml:2:3: error: proxy_port "
	    "must be a single value, not a mapping\n", "mapping for a port");
	check("log_level:\n", -1,
	    "t.yaml:1:1: error: missing value for 'log_level'\n",
	    "missing value");
	check("use_real_dns: ~\n", -1,
	    "t.yaml:1:1: error: missing value for 'use_real_dns'\n",
	    "null value");
	check("allowlist:\n  a: b\n", -1, "t.yaml:2:3: error: allowlist "
	    "must be a list of strings, not a mapping\n", "mapping allowlist");
	check("allowlist:\n  - [a, b]\n  - {a: b}\n  -\n  - ~\n  - ok\n", -1,
	    "t.yaml:2:5: error: elements of allowlist must be strings, not a "
	    "list\n"
	    "t.yaml:3:5: error: elements of allowlist must be strings, not a "
	    "mapping\n"
	    "t.yaml:4:4: error: null element in allowlist; write a string\n"
	    "t.yaml:5:5: error: null element in allowlist; write a string\n",
	    "bad elements");
	check("session_id_inject_targets: [[x]]\n", -1, "t.yaml:1:29: error: "
	    "elements of session_id_inject_targets must be strings, not a "
	    "list\n", "bad target element");
	check("? [a]\n: b\nlog_level: x\n", -1,
	    "t.yaml:1:3: error: keys must be strings, not a list\n"
	    "t.yaml:3:12: error: invalid log_level 'x': expected error, warn, "
	    "info or debug\n", "non-string key");
}

static void
test_allowlist_null_and_scalar(void)
{
	struct run r;

	run_str(&r, "allowlist:\n#  - domain=a.com\nlog_level: info\n");
	is_int(r.ret, 0, "allowlist with every entry commented out");
	is_int(r.outlen, 0, "  no diagnostic");
	is_int(r.cfg.nallowlist, 0, "  no rule");
	run_done(&r);

	run_str(&r, "allowlist: []\n");
	ok(r.ret == 0 && r.outlen == 0 && r.cfg.nallowlist == 0,
	    "empty flow list");
	run_done(&r);

	run_str(&r, "allowlist: domain=a.com, domain=b.com\n");
	is_int(r.ret, 0, "scalar allowlist is accepted");
	is_str(heads(&r), "t.yaml:1:12: warning: allowlist should be a list "
	    "[-Wconfig]\n", "  with a warning");
	is_int(r.d.nwarnings, 1, "  counted as a warning");
	is_int(r.cfg.nallowlist, 1, "  as ONE rule");
	if (r.cfg.nallowlist == 1) {
		is_mem(r.cfg.allowlist[0].text.p, r.cfg.allowlist[0].text.n,
		    "domain=a.com, domain=b.com", 26, "  whole string");
		is_int(r.cfg.allowlist[0].loc.col, 12, "  col");
		is_int(r.cfg.allowlist[0].loc.exact, 1, "  exact");
	}
	run_done(&r);

	run_str(&r, "session_id_inject_targets: \"domain=c.dev\"\n");
	is_int(r.ret, 0, "scalar inject targets accepted");
	is_str(heads(&r), "t.yaml:1:29: warning: session_id_inject_targets "
	    "should be a list [-Wconfig]\n", "  with a warning");
	is_int(r.cfg.ninject_targets, 1, "  one target");
	run_done(&r);

	/* with --Werror the warning counts as an error */
	{
		FILE *f;
		static const char t[] = "allowlist: domain=a.com\n";

		memset(&r, 0, sizeof(r));
		f = open_memstream(&r.out, &r.outlen);
		r.d.out = f;
		r.d.werror = 1;
		r.ret = config_load_mem(&r.a, &r.d, "t.yaml", t, sizeof(t) - 1,
		    &r.cfg);
		fclose(f);
		is_int(r.ret, -1, "scalar allowlist with -Werror fails");
		run_done(&r);
	}
}

static void
test_unknown_keys(void)
{
	check("allow_list: [a]\n", -1, "t.yaml:1:1: error: unknown key "
	    "'allow_list'; did you mean 'allowlist'?\n", "allow_list");
	check("proxyport: 8080\n", -1, "t.yaml:1:1: error: unknown key "
	    "'proxyport'; did you mean 'proxy_port'?\n", "proxyport");
	check("allow: domain=x\n", -1, "t.yaml:1:1: error: unknown key "
	    "'allow'; did you mean 'allowlist'?\n", "allow (the CLI name)");
	check("Log_Level: info\n", -1, "t.yaml:1:1: error: unknown key "
	    "'Log_Level'; did you mean 'log_level'?\n", "keys are exact");
	check("log_proxy_socket_path: /tmp/x\n", -1, "t.yaml:1:1: error: "
	    "unknown key 'log_proxy_socket_path'\n", "no suggestion");
	check("\"pprof-port\": 1\n", -1, "t.yaml:1:2: error: unknown key "
	    "'pprof-port'; did you mean 'pprof_port'?\n", "quoted key");
	check("enable_session_correlation: true\n", -1, "t.yaml:1:1: error: "
	    "unknown key 'enable_session_correlation'\n", "CLI flag as a key");
	check("\"a\\tb\": 1\n", -1,
	    "t.yaml:1:2: error: unknown key 'a\\x09b'\n", "control bytes shown");
	/* the value of an unknown key is skipped whatever it is */
	check("x:\n  - [1, {2: 3}]\n  - y\nlog_level: info\n", -1,
	    "t.yaml:1:1: error: unknown key 'x'\n", "unknown key's value");
}

static void
test_duplicates(void)
{
	struct run r;

	check("log_level: info\nlog_dir: /x\nlog_level: debug\n", -1,
	    "t.yaml:3:1: error: duplicate key 'log_level'\n"
	    "t.yaml:1:1: note: 'log_level' was first given here\n",
	    "duplicate key");
	check("allowlist: [a]\nallowlist: [b]\n", -1,
	    "t.yaml:2:1: error: duplicate key 'allowlist'\n"
	    "t.yaml:1:1: note: 'allowlist' was first given here\n",
	    "duplicate allowlist");

	/* the full text, with source lines and carets */
	run_str(&r, "log_level: info\n  # x\n\"log_level\": debug\n");
	is_str(r.out, "t.yaml:3:2: error: duplicate key 'log_level'\n"
	    "\"log_level\": debug\n"
	    " ^\n"
	    "t.yaml:1:1: note: 'log_level' was first given here\n"
	    "log_level: info\n"
	    "^\n", "duplicate: full output");
	run_done(&r);
}

static void
test_documents(void)
{
	check("- domain=a.com\n", -1, "t.yaml:1:1: error: the top level "
	    "must be a mapping (key: value), not a list\n", "top list");
	check("domain=a.com\n", -1, "t.yaml:1:1: error: the top level must "
	    "be a mapping (key: value), not a string\n", "top string");
	check("log_level: info\n---\nlog_level: debug\n", -1, "t.yaml:2:1: "
	    "error: more than one YAML document; a config file holds one\n",
	    "two documents");
	check("log_level: info\n...\n---\nlog_level: debug\n", -1,
	    "t.yaml:3:1: error: more than one YAML document; a config file "
	    "holds one\n", "two documents after ...");
	check("log_level: info\n...\nlog_level: debug\n", -1, "t.yaml:3:1: "
	    "error: invalid YAML: did not find expected <document start>\n",
	    "a bare document after ...");
	check("%YAML 1.1\n---\nlog_level: info\n", 0, "", "YAML directive");
	check("--- !!map\nlog_level: info\n", -1, "t.yaml:1:5: error: YAML "
	    "tags ('tag:yaml.org,2002:map') are not supported\n", "top tag");
}

static void
test_anchors_tags(void)
{
	check("allowlist: [&a x, *a]\n", -1,
	    "t.yaml:1:13: error: YAML anchors ('&a') are not supported\n"
	    "t.yaml:1:19: error: YAML aliases ('*a') are not supported\n",
	    "anchor and alias");
	check("log_level: !!str info\n", -1, "t.yaml:1:12: error: YAML tags "
	    "('tag:yaml.org,2002:str') are not supported\n", "tag");
	check("x: &k 1\nlog_dir: *k\n", -1,
	    "t.yaml:1:1: error: unknown key 'x'\n"
	    "t.yaml:2:10: error: YAML aliases ('*k') are not supported\n",
	    "alias value");
	check("*k : 1\n", -1,
	    "t.yaml:1:1: error: YAML aliases ('*k') are not supported\n",
	    "alias key");
}

static void
test_syntax(void)
{
	struct run r;

	check("allowlist: [a, b\n", -1, "t.yaml:2:1: error: invalid YAML: did "
	    "not find expected ',' or ']' while parsing a flow sequence\n",
	    "unclosed flow sequence");
	check("log_level: a: b\n", -1, "t.yaml:1:12: error: invalid "
	    "log_level 'a': expected error, warn, info or debug\n"
	    "t.yaml:1:13: error: invalid YAML: "
	    "mapping values are not allowed in this context\n",
	    "mapping in a plain value");
	check("allowlist:\n  - a\n - b\n", -1, "t.yaml:3:2: error: invalid "
	    "YAML: did not find expected key while parsing a block mapping\n",
	    "bad indentation");
	check("\t- a\n", -1, "t.yaml:1:1: error: invalid YAML: found character "
	    "that cannot start any token while scanning for the next token\n",
	    "tab");
	check("log_dir: \"/a\xc3\xa9\xff\"\n", -1, "t.yaml:1:15: error: "
	    "invalid YAML: invalid leading UTF-8 octet\n", "bad UTF-8");
	/* errors before the syntax error are kept, nothing after it */
	check("proxy_port: x\nlog_level: \"a\n", -1,
	    "t.yaml:1:13: error: invalid proxy_port 'x': expected a port "
	    "number from 1 to 65535\n"
	    "t.yaml:3:1: error: invalid YAML: found unexpected end of stream "
	    "while scanning a quoted scalar\n", "error then syntax error");
	/* NUL bytes are not YAML */
	run_mem(&r, "log_level: i\0nfo\n", 17);
	is_int(r.ret, -1, "NUL byte rejected");
	ok(strstr(heads(&r), "t.yaml:1:13: error: invalid YAML: control "
	    "characters are not allowed") != NULL, "  at its position");
	run_done(&r);
	/* UTF-16 is not read as such */
	run_mem(&r, "\xff\xfel\0o\0g\0", 8);
	is_int(r.ret, -1, "UTF-16 rejected");
	run_done(&r);
}

static void
test_many_errors(void)
{
	check("log_level: loud\n"
	    "jail_type: docker\n"
	    "proxy_port: 0\n"
	    "pprof_port: http\n"
	    "pprof_enabled: maybe\n"
	    "colour: blue\n"
	    "allowlist:\n"
	    "  - ok\n"
	    "  - [nested]\n"
	    "log_dir: \"\"\n", -1,
	    "t.yaml:1:12: error: invalid log_level 'loud': expected error, "
	    "warn, info or debug\n"
	    "t.yaml:2:12: error: invalid jail_type 'docker': expected nsjail "
	    "or landjail\n"
	    "t.yaml:3:13: error: invalid proxy_port '0': expected a port "
	    "number from 1 to 65535\n"
	    "t.yaml:4:13: error: invalid pprof_port 'http': expected a port "
	    "number from 1 to 65535\n"
	    "t.yaml:5:16: error: invalid pprof_enabled 'maybe': expected true "
	    "or false\n"
	    "t.yaml:6:1: error: unknown key 'colour'\n"
	    "t.yaml:9:5: error: elements of allowlist must be strings, not a "
	    "list\n"
	    "t.yaml:10:11: error: log_dir must not be empty\n",
	    "every error is reported");
}

/* Byte offset of (line, col) in <src>. */
static size_t
offset_of(const struct src *src, unsigned line, unsigned col)
{
	size_t off = 0;

	while (line > 1 && off < src->len) {
		if (src->text[off++] == '\n')
			line--;
	}
	return off + col - 1;
}

/* Loads <text> and checks the one allowlist rule's text and position. */
static void
check_rule(const char *text, const char *value, size_t vlen, unsigned line,
    unsigned col, int exact, const char *what)
{
	struct run r;

	run_str(&r, text);
	is_int(r.ret, 0, "%s: loads", what);
	is_int(r.cfg.nallowlist, 1, "%s: one rule", what);
	if (r.cfg.nallowlist == 1) {
		const struct cfg_string *s = &r.cfg.allowlist[0];

		is_mem(s->text.p, s->text.n, value, vlen, "%s: text", what);
		is_int(s->loc.line, line, "%s: line", what);
		is_int(s->loc.col, col, "%s: col", what);
		is_int(s->loc.exact, exact, "%s: exact", what);
		if (exact) {
			size_t off = offset_of(&r.cfg.src, s->loc.line,
			    s->loc.col);

			ok(off + s->text.n <= r.cfg.src.len &&
			    memcmp(r.cfg.src.text + off, s->text.p,
			    s->text.n) == 0, "%s: bytes are where loc says",
			    what);
		}
	}
	run_done(&r);
}

static void
test_positions(void)
{
	check_rule("allowlist:\n  - domain=a.com\n", "domain=a.com", 12,
	    2, 5, 1, "plain");
	check_rule("allowlist:\n  - domain=a.com   # comment\n", "domain=a.com",
	    12, 2, 5, 1, "plain with comment");
	check_rule("allowlist:\n- 'domain=a.com'\n", "domain=a.com", 12,
	    2, 4, 1, "single-quoted");
	check_rule("allowlist:\n- \"domain=a.com\"\n", "domain=a.com", 12,
	    2, 4, 1, "double-quoted");
	check_rule("allowlist:\n- 'it''s'\n", "it's", 4, 2, 4, 0,
	    "single-quoted with ''");
	check_rule("allowlist:\n- \"a\\x41b\"\n", "aAb", 3, 2, 4, 0,
	    "double-quoted with escape");
	check_rule("allowlist:\n- \"a\\\\b\"\n", "a\\b", 3, 2, 4, 0,
	    "double-quoted with \\\\");
	check_rule("allowlist:\n- \"\\\\\\\\\"\n", "\\\\", 2, 2, 4, 0,
	    "double-quoted backslashes only");
	check_rule("allowlist:\n- domain=a.com\n  path=/x\n",
	    "domain=a.com path=/x", 20, 2, 3, 0, "plain over two lines");
	check_rule("allowlist:\n- \"domain=a.com\n  path=/x\"\n",
	    "domain=a.com path=/x", 20, 2, 4, 0, "quoted over two lines");
	check_rule("allowlist:\n- |\n  domain=a.com\n", "domain=a.com\n", 13,
	    2, 3, 0, "literal block");
	check_rule("allowlist:\n- >-\n  domain=a.com\n", "domain=a.com", 12,
	    2, 3, 0, "folded block");
	check_rule("allowlist: [\"domain=a.com\"]\n", "domain=a.com", 12,
	    1, 14, 1, "flow sequence, double");
	check_rule("allowlist: ['domain=a.com']\n", "domain=a.com", 12,
	    1, 14, 1, "flow sequence, single");
	check_rule("allowlist: [domain=a.com]\n", "domain=a.com", 12,
	    1, 13, 1, "flow sequence, plain");
	check_rule("allowlist:\n- \"\"\n", "", 0, 2, 4, 1, "empty string");
}

static void
test_positions_bytes(void)
{
	struct run r;

	/* columns count bytes: a 2-byte character before the value */
	run_str(&r, "allowlist: [\xc3\xa9, \"x\"]\r\nlog_level: info\r\n"
	    "session_id_inject_targets:\r\n  - \"domain=\xc3\xa9\"\r\n");
	is_int(r.ret, 0, "UTF-8 and CRLF: loads");
	is_int(r.cfg.nallowlist, 2, "UTF-8 and CRLF: two rules");
	if (r.cfg.nallowlist == 2) {
		is_int(r.cfg.allowlist[1].loc.line, 1, "after UTF-8: line");
		is_int(r.cfg.allowlist[1].loc.col, 18, "after UTF-8: byte col");
		is_int(r.cfg.allowlist[1].loc.exact, 1, "after UTF-8: exact");
	}
	is_int(r.cfg.ninject_targets, 1, "CRLF: target");
	if (r.cfg.ninject_targets == 1) {
		is_int(r.cfg.inject_targets[0].loc.line, 4, "CRLF: line");
		is_int(r.cfg.inject_targets[0].loc.col, 6, "CRLF: col");
		is_int(r.cfg.inject_targets[0].loc.exact, 1, "CRLF: exact");
	}
	run_done(&r);

	/* a lone CR is a line break to libyaml, not to the diagnostics */
	run_str(&r, "log_dir: /x\rlog_level: bad\n");
	is_str(heads(&r), "t.yaml:1:24: error: invalid log_level 'bad': "
	    "expected error, warn, info or debug\n", "lone CR: byte column");
	run_done(&r);

	/* a BOM is skipped but counts as bytes */
	run_str(&r, "\xef\xbb\xbf" "allowlist: [x]\n");
	ok(r.ret == 0 && r.cfg.nallowlist == 1 &&
	    r.cfg.allowlist[0].loc.col == 16, "BOM: col counts its bytes");
	run_done(&r);
}

static void
test_files(void)
{
	struct run r;
	char path[] = "/tmp/boundary-yaml-test-XXXXXX";
	static const char text[] = "allowlist:\n  - domain=a.com\n";
	FILE *f;
	char *big;
	int fd;

	memset(&r, 0, sizeof(r));
	f = open_memstream(&r.out, &r.outlen);
	r.d.out = f;
	r.ret = config_load(&r.a, &r.d, "/nonexistent/config.yaml", &r.cfg);
	fclose(f);
	is_int(r.ret, -1, "missing file");
	is_int(r.d.nerrors, 1, "missing file: one error");
	ok(strstr(r.out, "error: cannot read '/nonexistent/config.yaml': No "
	    "such file or directory\n") != NULL, "missing file: message");
	is_str(r.cfg.src.name, "/nonexistent/config.yaml",
	    "missing file: src name");
	run_done(&r);

	memset(&r, 0, sizeof(r));
	f = open_memstream(&r.out, &r.outlen);
	r.d.out = f;
	r.ret = config_load(&r.a, &r.d, "/", &r.cfg);
	fclose(f);
	is_int(r.ret, -1, "directory");
	ok(strstr(r.out, "cannot read '/': Is a directory\n") != NULL,
	    "directory: message");
	run_done(&r);

	fd = mkstemp(path);
	ok(fd != -1, "temporary file");
	if (fd == -1)
		return;
	ok(write(fd, text, sizeof(text) - 1) == (ssize_t)sizeof(text) - 1,
	    "temporary file written");
	close(fd);
	memset(&r, 0, sizeof(r));
	f = open_memstream(&r.out, &r.outlen);
	r.d.out = f;
	r.ret = config_load(&r.a, &r.d, path, &r.cfg);
	fclose(f);
	is_int(r.ret, 0, "file loads");
	is_str(r.cfg.src.name, path, "file: src name as given");
	is_mem(r.cfg.src.text, r.cfg.src.len, text, sizeof(text) - 1,
	    "file: src text");
	ok(r.cfg.nallowlist == 1 && r.cfg.allowlist[0].loc.line == 2 &&
	    r.cfg.allowlist[0].loc.col == 5, "file: rule position");
	run_done(&r);

	/* one byte over the limit, from a file and from memory */
	big = malloc((size_t)MAX_CONFIG_FILE + 1);
	ok(big != NULL, "big buffer");
	if (big == NULL)
		goto out;
	memset(big, '#', (size_t)MAX_CONFIG_FILE + 1);
	fd = open(path, O_WRONLY | O_TRUNC);
	ok(fd != -1 && write(fd, big, (size_t)MAX_CONFIG_FILE + 1) ==
	    (ssize_t)MAX_CONFIG_FILE + 1, "big file written");
	if (fd != -1)
		close(fd);
	memset(&r, 0, sizeof(r));
	f = open_memstream(&r.out, &r.outlen);
	r.d.out = f;
	r.ret = config_load(&r.a, &r.d, path, &r.cfg);
	fclose(f);
	is_int(r.ret, -1, "file over MAX_CONFIG_FILE");
	ok(strstr(r.out, "larger than") != NULL, "  says so");
	run_done(&r);

	run_mem(&r, big, (size_t)MAX_CONFIG_FILE + 1);
	is_int(r.ret, -1, "buffer over MAX_CONFIG_FILE");
	is_int(r.d.nerrors, 1, "  one error");
	run_done(&r);

	/* exactly at the limit: a comment, accepted */
	run_mem(&r, big, (size_t)MAX_CONFIG_FILE);
	is_int(r.ret, 0, "buffer of MAX_CONFIG_FILE bytes");
	run_done(&r);
	free(big);
 out:
	unlink(path);
}

void
test_compiler__yaml_c(void)
{
	test_empty();
	test_reference_example();
	test_all_keys();
	test_bools();
	test_ports();
	test_strings();
	test_types();
	test_allowlist_null_and_scalar();
	test_unknown_keys();
	test_duplicates();
	test_documents();
	test_anchors_tags();
	test_syntax();
	test_many_errors();
	test_positions();
	test_positions_bytes();
	test_files();
}
