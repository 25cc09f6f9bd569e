/*
 * Tests of runtime/options.c: every option from flag, environment and
 * config.yaml, their precedence and defaults, the errors, "--" and the
 * command, repeatable options, and the default config path.  Hermetic:
 * a fake environment and a temporary HOME.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/options.c"
#include "tests/tap.h"

void test_runtime__options_c(void);

#define MAXARGS 64

static char tmpdir[] = "/tmp/boundary-options-XXXXXX";

struct run {
	struct options o;
	int ret;
	char err[512];
	char *diag;		/* what went to the diagnostics stream */
	size_t diaglen;
};

/*
 * Parses "boundary" + <args> with environment <env> (both NULL-terminated
 * lists of strings).
 */
static void
run(struct run *r, const char *const *args, const char *const *env)
{
	static char *argv[MAXARGS], *envp[MAXARGS];
	FILE *f;
	int argc = 0, n = 0;

	memset(r, 0, sizeof(*r));
	argv[argc++] = (char *)(uintptr_t)"boundary";
	while (args != NULL && *args != NULL && argc < MAXARGS - 1)
		argv[argc++] = (char *)(uintptr_t)*args++;
	argv[argc] = NULL;
	while (env != NULL && *env != NULL && n < MAXARGS - 1)
		envp[n++] = (char *)(uintptr_t)*env++;
	envp[n] = NULL;
	f = open_memstream(&r->diag, &r->diaglen);
	r->ret = options_parse_env(&r->o, argc, argv, envp, f, r->err,
	    sizeof(r->err));
	fclose(f);
}

static void
done(struct run *r)
{
	options_free(&r->o);
	free(r->diag);
	r->diag = NULL;
}

#define A(...) ((const char *const[]){ __VA_ARGS__, NULL })
#define NOENV ((const char *const[]){ NULL })

/* Runs and expects an error containing <want>. */
static void
want_err(const char *const *args, const char *const *env, const char *want,
    const char *what)
{
	struct run r;

	run(&r, args, env);
	is_int(r.ret, -1, "%s: fails", what);
	ok(strstr(r.err, want) != NULL, "%s: error '%s' mentions '%s'", what,
	    r.err, want);
	done(&r);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		abort();
	}
	fputs(text, f);
	fclose(f);
}

static void
test_defaults(void)
{
	struct run r;

	run(&r, A("--", "true"), NOENV);
	is_int(r.ret, 0, "defaults: parses (%s)", r.err);
	ok(r.o.config == NULL, "defaults: no config without HOME");
	is_int(r.o.config_src, OPT_CONFIG_NONE, "defaults: config source none");
	ok(r.o.config_text == NULL, "defaults: no config text");
	ok(r.o.env_allow == NULL, "defaults: BOUNDARY_ALLOW unset");
	is_int(r.o.nallow, 0, "defaults: no --allow");
	ok(r.o.policy == NULL, "defaults: no policy");
	is_int(r.o.log_level, OPT_LOG_WARN, "defaults: log level warn");
	ok(r.o.log_dir == NULL, "defaults: log to stderr");
	is_int(r.o.proxy_port, 8080, "defaults: proxy port 8080");
	is_int(r.o.pprof_port, 6060, "defaults: pprof port 6060");
	is_int(r.o.pprof, 0, "defaults: pprof off");
	is_str(r.o.listen, "127.0.0.1", "defaults: listen 127.0.0.1");
	is_int(r.o.jail_type, OPT_JAIL_NSJAIL, "defaults: nsjail");
	is_str(r.o.log_proxy_socket_path, "/tmp/boundary-audit.sock",
	    "defaults: socket in /tmp");
	ok(!r.o.use_real_dns && !r.o.no_user_namespace &&
	    !r.o.disable_audit_logs && !r.o.session_correlation &&
	    !r.o.proxy_only && !r.o.ephemeral_ca && !r.o.check_only &&
	    !r.o.version && !r.o.help, "defaults: every boolean false");
	ok(r.o.upstream_ca == NULL && r.o.audit_file == NULL,
	    "defaults: no upstream CA, no audit file");
	is_int(r.o.nconnect_to, 0, "defaults: no --connect-to");
	is_int(r.o.ninject_targets, 0, "defaults: no inject targets");
	is_int(r.o.argc, 1, "defaults: command has one word");
	is_str(r.o.argv[0], "true", "defaults: command");
	ok(r.o.argv[1] == NULL, "defaults: argv NULL-terminated");
	done(&r);
}

static void
test_flags(void)
{
	struct run r;

	run(&r, A("--allow", "domain=a.com", "--allow=domain=b.com",
	    "--log-level", "debug", "--log-dir=/var/log/b",
	    "--proxy-port", "9001", "--pprof", "--pprof-port=7070",
	    "--jail-type", "landjail", "--use-real-dns",
	    "--no-user-namespace", "--disable-audit-logs",
	    "--log-proxy-socket-path", "/run/s.sock",
	    "--enable-session-correlation",
	    "--session-id-inject-target", "domain=c.com",
	    "--listen", "::1", "--connect-to", "a.com:443:127.0.0.1:8443",
	    "--connect-to=b.com:80:[::1]:8080", "--upstream-ca", "/ca.pem",
	    "--ephemeral-ca", "--audit-file", "/a.jsonl", "-n",
	    "--", "cmd", "arg"), NOENV);
	is_int(r.ret, 0, "flags: parse (%s)", r.err);
	is_int(r.o.nallow, 2, "flags: two --allow");
	is_str(r.o.allow[0], "domain=a.com", "flags: --allow RULE");
	is_str(r.o.allow[1], "domain=b.com", "flags: --allow=RULE");
	is_int(r.o.log_level, OPT_LOG_DEBUG, "flags: --log-level");
	is_str(r.o.log_dir, "/var/log/b", "flags: --log-dir");
	is_int(r.o.proxy_port, 9001, "flags: --proxy-port");
	is_int(r.o.pprof, 1, "flags: --pprof");
	is_int(r.o.pprof_port, 7070, "flags: --pprof-port");
	is_int(r.o.jail_type, OPT_JAIL_LANDJAIL, "flags: --jail-type");
	is_int(r.o.use_real_dns, 1, "flags: --use-real-dns");
	is_int(r.o.no_user_namespace, 1, "flags: --no-user-namespace");
	is_int(r.o.disable_audit_logs, 1, "flags: --disable-audit-logs");
	is_str(r.o.log_proxy_socket_path, "/run/s.sock",
	    "flags: --log-proxy-socket-path");
	is_int(r.o.session_correlation, 1,
	    "flags: --enable-session-correlation");
	is_int(r.o.ninject_targets, 1, "flags: one inject target");
	is_str(r.o.inject_targets[0], "domain=c.com",
	    "flags: --session-id-inject-target");
	is_str(r.o.listen, "::1", "flags: --listen");
	is_int(r.o.nconnect_to, 2, "flags: two --connect-to");
	is_str(r.o.connect_to[0], "a.com:443:127.0.0.1:8443",
	    "flags: --connect-to kept verbatim");
	is_str(r.o.connect_to[1], "b.com:80:[::1]:8080",
	    "flags: --connect-to= kept verbatim");
	is_str(r.o.upstream_ca, "/ca.pem", "flags: --upstream-ca");
	is_int(r.o.ephemeral_ca, 1, "flags: --ephemeral-ca");
	is_str(r.o.audit_file, "/a.jsonl", "flags: --audit-file");
	is_int(r.o.check_only, 1, "flags: -n");
	is_int(r.o.argc, 2, "flags: command after --");
	is_str(r.o.argv[0], "cmd", "flags: argv[0]");
	is_str(r.o.argv[1], "arg", "flags: argv[1]");
	ok(r.o.argv[2] == NULL, "flags: argv NULL-terminated");
	done(&r);

	run(&r, A("--proxy-only", "--policy", "p.bpol", "--listen=[::1]",
	    "--proxy-port=+8081"), NOENV);
	is_int(r.ret, 0, "flags: --proxy-only with --policy (%s)", r.err);
	is_int(r.o.proxy_only, 1, "flags: --proxy-only");
	is_str(r.o.policy, "p.bpol", "flags: --policy");
	is_str(r.o.listen, "::1", "flags: --listen [::1] loses brackets");
	is_int(r.o.proxy_port, 8081, "flags: '+8081' as strconv.ParseInt");
	is_int(r.o.argc, 0, "flags: no command");
	ok(r.o.argv != NULL && r.o.argv[0] == NULL,
	    "flags: empty argv still NULL-terminated");
	done(&r);

	/* the last occurrence of a scalar flag wins */
	run(&r, A("--proxy-port", "1", "--proxy-port", "2", "--log-level",
	    "error", "--log-level", "info", "--", "x"), NOENV);
	is_int(r.o.proxy_port, 2, "flags: last --proxy-port wins");
	is_int(r.o.log_level, OPT_LOG_INFO, "flags: last --log-level wins");
	done(&r);

	/* case-insensitive levels, all four */
	run(&r, A("--log-level=DeBuG", "--", "x"), NOENV);
	is_int(r.o.log_level, OPT_LOG_DEBUG, "flags: level case-insensitive");
	done(&r);
	run(&r, A("--log-level=ERROR", "--", "x"), NOENV);
	is_int(r.o.log_level, OPT_LOG_ERROR, "flags: ERROR");
	done(&r);
	run(&r, A("--log-level=Warn", "--", "x"), NOENV);
	is_int(r.o.log_level, OPT_LOG_WARN, "flags: Warn");
	done(&r);

	/* --log-dir "" is standard error */
	run(&r, A("--log-dir=", "--", "x"), NOENV);
	is_int(r.ret, 0, "flags: --log-dir= accepted");
	ok(r.o.log_dir == NULL, "flags: --log-dir= means stderr");
	done(&r);

	/* a flag's value may start with '-' (pflag consumes the next word) */
	run(&r, A("--allow", "--weird", "--", "x"), NOENV);
	is_int(r.ret, 0, "flags: value starting with '-'");
	is_str(r.o.nallow == 1 ? r.o.allow[0] : "", "--weird",
	    "flags: value taken verbatim");
	done(&r);
}

static void
test_booleans(void)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true",
	    "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false",
	    "False", "" };
	char flag[64], env[64];
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(flag, sizeof(flag), "--use-real-dns=%s", yes[i]);
		run(&r, A(flag, "--", "x"), NOENV);
		is_int(r.o.use_real_dns, 1, "bool: %s", flag);
		done(&r);
		snprintf(env, sizeof(env), "DISABLE_AUDIT_LOGS=%s", yes[i]);
		run(&r, A("--", "x"), A(env));
		is_int(r.o.disable_audit_logs, 1, "bool: env %s", env);
		done(&r);
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		snprintf(flag, sizeof(flag), "--use-real-dns=%s", no[i]);
		run(&r, A("--use-real-dns", flag, "--", "x"), NOENV);
		is_int(r.ret, 0, "bool: %s parses", flag);
		is_int(r.o.use_real_dns, 0, "bool: %s after --use-real-dns",
		    flag);
		done(&r);
		snprintf(env, sizeof(env), "BOUNDARY_PPROF=%s", no[i]);
		run(&r, A("--", "x"), A(env));
		is_int(r.ret, 0, "bool: env %s parses", env);
		is_int(r.o.pprof, 0, "bool: env %s", env);
		done(&r);
	}
	want_err(A("--pprof=yes", "--", "x"), NOENV, "--pprof",
	    "bool: --pprof=yes");
	want_err(A("--", "x"), A("BOUNDARY_USE_REAL_DNS=on"),
	    "BOUNDARY_USE_REAL_DNS", "bool: env on");
	want_err(A("--proxy-only=2"), NOENV, "'2'", "bool: --proxy-only=2");

	/* a boolean flag takes no separate value: "false" starts the command */
	run(&r, A("--pprof", "false"), NOENV);
	is_int(r.ret, 0, "bool: --pprof false parses");
	is_int(r.o.pprof, 1, "bool: bare --pprof is true");
	is_int(r.o.argc, 1, "bool: 'false' is the command");
	is_str(r.o.argv[0], "false", "bool: command 'false'");
	done(&r);
}

static void
test_env(void)
{
	struct run r;

	run(&r, A("--", "x"), A("BOUNDARY_ALLOW=domain=e.com",
	    "BOUNDARY_LOG_LEVEL=INFO", "BOUNDARY_LOG_DIR=/logs",
	    "PROXY_PORT=3128", "BOUNDARY_PPROF=1", "BOUNDARY_PPROF_PORT=6061",
	    "BOUNDARY_JAIL_TYPE=landjail", "BOUNDARY_USE_REAL_DNS=true",
	    "BOUNDARY_NO_USER_NAMESPACE=t", "DISABLE_AUDIT_LOGS=1",
	    "CODER_AGENT_BOUNDARY_LOG_PROXY_SOCKET_PATH=/run/e.sock",
	    "BOUNDARY_SESSION_CORRELATION_ENABLED=true",
	    "BOUNDARY_SESSION_ID_INJECT_TARGET=domain=agent.example"));
	is_int(r.ret, 0, "env: parses (%s)", r.err);
	is_str(r.o.env_allow, "domain=e.com", "env: BOUNDARY_ALLOW");
	is_int(r.o.nallow, 0, "env: BOUNDARY_ALLOW kept apart from --allow");
	is_int(r.o.log_level, OPT_LOG_INFO, "env: BOUNDARY_LOG_LEVEL");
	is_str(r.o.log_dir, "/logs", "env: BOUNDARY_LOG_DIR");
	is_int(r.o.proxy_port, 3128, "env: PROXY_PORT");
	is_int(r.o.pprof, 1, "env: BOUNDARY_PPROF");
	is_int(r.o.pprof_port, 6061, "env: BOUNDARY_PPROF_PORT");
	is_int(r.o.jail_type, OPT_JAIL_LANDJAIL, "env: BOUNDARY_JAIL_TYPE");
	is_int(r.o.use_real_dns, 1, "env: BOUNDARY_USE_REAL_DNS");
	is_int(r.o.no_user_namespace, 1, "env: BOUNDARY_NO_USER_NAMESPACE");
	is_int(r.o.disable_audit_logs, 1, "env: DISABLE_AUDIT_LOGS");
	is_str(r.o.log_proxy_socket_path, "/run/e.sock",
	    "env: CODER_AGENT_BOUNDARY_LOG_PROXY_SOCKET_PATH");
	is_int(r.o.session_correlation, 1,
	    "env: BOUNDARY_SESSION_CORRELATION_ENABLED");
	is_int(r.o.ninject_targets, 1, "env: one inject target");
	is_str(r.o.ninject_targets ? r.o.inject_targets[0] : "",
	    "domain=agent.example", "env: BOUNDARY_SESSION_ID_INJECT_TARGET");
	done(&r);

	/* the first NAME= of the environment wins, as getenv */
	run(&r, A("--", "x"), A("PROXY_PORT=1000", "PROXY_PORT=2000"));
	is_int(r.o.proxy_port, 1000, "env: first occurrence wins");
	done(&r);

	/* names are exact: prefixed or lower-case names are not read */
	run(&r, A("--", "x"), A("BOUNDARY_PROXY_PORT=1", "proxy_port=2",
	    "PROXY_PORTX=3"));
	is_int(r.o.proxy_port, 8080, "env: only PROXY_PORT is read");
	done(&r);

	/* socket path default follows TMPDIR, like os.TempDir */
	run(&r, A("--", "x"), A("TMPDIR=/var/tmp/"));
	is_str(r.o.log_proxy_socket_path, "/var/tmp/boundary-audit.sock",
	    "env: TMPDIR with trailing slash");
	done(&r);
	run(&r, A("--", "x"), A("TMPDIR="));
	is_str(r.o.log_proxy_socket_path, "/tmp/boundary-audit.sock",
	    "env: empty TMPDIR is /tmp");
	done(&r);
	run(&r, A("--", "x"), A("TMPDIR=/"));
	is_str(r.o.log_proxy_socket_path, "/boundary-audit.sock",
	    "env: TMPDIR=/");
	done(&r);
}

static void
test_allow_env(void)
{
	struct run r;

	run(&r, A("--allow", "domain=f.com", "--", "x"), NOENV);
	ok(r.o.env_allow == NULL, "BOUNDARY_ALLOW absent: NULL");
	done(&r);

	run(&r, A("--allow", "domain=f.com", "--", "x"),
	    A("BOUNDARY_ALLOW="));
	is_int(r.ret, 0, "BOUNDARY_ALLOW empty: parses");
	ok(r.o.env_allow != NULL && r.o.env_allow[0] == '\0',
	    "BOUNDARY_ALLOW empty: kept as \"\", not dropped");
	is_int(r.o.nallow, 1, "BOUNDARY_ALLOW empty: --allow unchanged");
	is_str(r.o.allow[0], "domain=f.com",
	    "BOUNDARY_ALLOW empty: no extra rule in allow[]");
	done(&r);

	/* one rule per value: commas are not split */
	run(&r, A("--allow", "method=GET,HEAD domain=g.com", "--allow", "",
	    "--", "x"), A("BOUNDARY_ALLOW=domain=a.com,b.com"));
	is_str(r.o.env_allow, "domain=a.com,b.com", "BOUNDARY_ALLOW: whole");
	is_int(r.o.nallow, 2, "--allow: two rules, no splitting");
	is_str(r.o.allow[0], "method=GET,HEAD domain=g.com", "--allow: whole");
	is_str(r.o.allow[1], "", "--allow \"\": kept for the compiler");
	done(&r);
}

static void
test_precedence(void)
{
	char cfg[256], arg[300];
	struct run r;

	snprintf(cfg, sizeof(cfg), "%s/prec.yaml", tmpdir);
	write_file(cfg, "log_level: error\nproxy_port: 1111\n"
	    "jail_type: landjail\nuse_real_dns: true\nlog_dir: /yaml\n"
	    "pprof_enabled: true\npprof_port: 1112\n");
	snprintf(arg, sizeof(arg), "--config=%s", cfg);

	/* YAML beats defaults */
	run(&r, A(arg, "--", "x"), NOENV);
	is_int(r.ret, 0, "prec: yaml alone (%s)", r.err);
	is_int(r.o.log_level, OPT_LOG_ERROR, "prec: yaml > default (level)");
	is_int(r.o.proxy_port, 1111, "prec: yaml > default (port)");
	is_int(r.o.jail_type, OPT_JAIL_LANDJAIL, "prec: yaml > default (jail)");
	is_int(r.o.use_real_dns, 1, "prec: yaml > default (bool)");
	is_str(r.o.log_dir, "/yaml", "prec: yaml > default (dir)");
	done(&r);

	/* env beats YAML */
	run(&r, A(arg, "--", "x"), A("BOUNDARY_LOG_LEVEL=info",
	    "PROXY_PORT=2222", "BOUNDARY_JAIL_TYPE=nsjail",
	    "BOUNDARY_USE_REAL_DNS=false", "BOUNDARY_LOG_DIR=/env",
	    "BOUNDARY_PPROF=0"));
	is_int(r.ret, 0, "prec: env over yaml (%s)", r.err);
	is_int(r.o.log_level, OPT_LOG_INFO, "prec: env > yaml (level)");
	is_int(r.o.proxy_port, 2222, "prec: env > yaml (port)");
	is_int(r.o.jail_type, OPT_JAIL_NSJAIL, "prec: env > yaml (jail)");
	is_int(r.o.use_real_dns, 0, "prec: env false > yaml true");
	is_str(r.o.log_dir, "/env", "prec: env > yaml (dir)");
	is_int(r.o.pprof, 0, "prec: env 0 > yaml true (pprof)");
	is_int(r.o.pprof_port, 1112, "prec: yaml where env is silent");
	done(&r);

	/* flag beats env and YAML */
	run(&r, A(arg, "--log-level=debug", "--proxy-port", "3333",
	    "--jail-type=landjail", "--use-real-dns", "--log-dir", "/flag",
	    "--", "x"), A("BOUNDARY_LOG_LEVEL=info", "PROXY_PORT=2222",
	    "BOUNDARY_JAIL_TYPE=nsjail", "BOUNDARY_USE_REAL_DNS=false",
	    "BOUNDARY_LOG_DIR=/env"));
	is_int(r.ret, 0, "prec: flags over all (%s)", r.err);
	is_int(r.o.log_level, OPT_LOG_DEBUG, "prec: flag > env (level)");
	is_int(r.o.proxy_port, 3333, "prec: flag > env (port)");
	is_int(r.o.jail_type, OPT_JAIL_LANDJAIL, "prec: flag > env (jail)");
	is_int(r.o.use_real_dns, 1, "prec: flag > env false (bool)");
	is_str(r.o.log_dir, "/flag", "prec: flag > env (dir)");
	done(&r);

	/* a flag given: its environment variable is not even read */
	run(&r, A("--proxy-port", "9000", "--jail-type=nsjail", "--", "x"),
	    A("PROXY_PORT=not-a-number", "BOUNDARY_JAIL_TYPE="));
	is_int(r.ret, 0, "prec: bad env ignored under a flag (%s)", r.err);
	is_int(r.o.proxy_port, 9000, "prec: flag port");
	done(&r);

	/* flag false beats YAML true */
	run(&r, A(arg, "--use-real-dns=false", "--", "x"), NOENV);
	is_int(r.o.use_real_dns, 0, "prec: --flag=false > yaml true");
	done(&r);
}

static void
test_yaml_all(void)
{
	char cfg[256], arg[300];
	struct run r;

	snprintf(cfg, sizeof(cfg), "%s/all.yaml", tmpdir);
	write_file(cfg, "allowlist:\n  - \"domain=y.com\"\n"
	    "log_level: DEBUG\nlog_dir: /ylogs\nproxy_port: 4444\n"
	    "pprof_enabled: true\npprof_port: 4445\njail_type: landjail\n"
	    "use_real_dns: true\nno_user_namespace: true\n"
	    "disable_audit_logs: true\nsession_correlation_enabled: true\n"
	    "session_id_inject_targets:\n  - \"domain=y1.com\"\n"
	    "  - \"domain=y2.com\"\n");
	snprintf(arg, sizeof(arg), "--config=%s", cfg);
	run(&r, A(arg, "--session-id-inject-target", "domain=f.com", "--",
	    "x"), A("BOUNDARY_SESSION_ID_INJECT_TARGET=domain=e.com"));
	is_int(r.ret, 0, "yaml: every key (%s)", r.err);
	is_str(r.o.config, cfg, "yaml: config path");
	is_int(r.o.config_src, OPT_CONFIG_FLAG, "yaml: from --config");
	is_int(r.o.log_level, OPT_LOG_DEBUG, "yaml: log_level");
	is_str(r.o.log_dir, "/ylogs", "yaml: log_dir");
	is_int(r.o.proxy_port, 4444, "yaml: proxy_port");
	is_int(r.o.pprof, 1, "yaml: pprof_enabled");
	is_int(r.o.pprof_port, 4445, "yaml: pprof_port");
	is_int(r.o.jail_type, OPT_JAIL_LANDJAIL, "yaml: jail_type");
	is_int(r.o.use_real_dns, 1, "yaml: use_real_dns");
	is_int(r.o.no_user_namespace, 1, "yaml: no_user_namespace");
	is_int(r.o.disable_audit_logs, 1, "yaml: disable_audit_logs");
	is_int(r.o.session_correlation, 1,
	    "yaml: session_correlation_enabled");
	is_int(r.o.ninject_targets, 4, "yaml: inject targets concatenated");
	if (r.o.ninject_targets == 4) {
		is_str(r.o.inject_targets[0], "domain=y1.com", "yaml: first");
		is_str(r.o.inject_targets[1], "domain=y2.com", "yaml: second");
		is_str(r.o.inject_targets[2], "domain=e.com", "then env");
		is_str(r.o.inject_targets[3], "domain=f.com", "then flags");
	}
	is_int(r.o.nallow, 0, "yaml: allowlist is not copied to allow[]");
	ok(r.o.config_text != NULL && r.o.config_len > 0 &&
	    strstr(r.o.config_text, "allowlist:") != NULL &&
	    strlen(r.o.config_text) == r.o.config_len,
	    "yaml: file contents handed over for compiler_compile");
	done(&r);

	/* the compiler's loader: errors reach the diagnostics stream */
	write_file(cfg, "proxy_port: 8080\nallow: [\"domain=x.com\"]\n");
	run(&r, A(arg, "--", "x"), NOENV);
	is_int(r.ret, -1, "yaml: unknown key is an error");
	ok(strstr(r.err, cfg) != NULL, "yaml: error names the file (%s)",
	    r.err);
	ok(r.diag != NULL && strstr(r.diag, "unknown key 'allow'") != NULL,
	    "yaml: the loader's diagnostic reaches <diag>");
	ok(r.o.config_text == NULL, "yaml: no text after a failure");
	done(&r);

	write_file(cfg, "proxy_port: 0\n");
	want_err(A(arg, "--", "x"), NOENV, "configuration file",
	    "yaml: proxy_port 0");
	write_file(cfg, "jail_type: docker\n");
	want_err(A(arg, "--", "x"), NOENV, "configuration file",
	    "yaml: bad jail_type");

	snprintf(arg, sizeof(arg), "--config=%s/missing.yaml", tmpdir);
	want_err(A(arg, "--", "x"), NOENV, "missing.yaml",
	    "yaml: explicit missing file");
}

static void
test_default_config(void)
{
	char home[256], env_home[300], dir[300], path[350], env_cfg[400];
	char other[300], arg[400];
	struct run r;

	snprintf(home, sizeof(home), "%s/home", tmpdir);
	snprintf(env_home, sizeof(env_home), "HOME=%s", home);
	snprintf(dir, sizeof(dir), "%s/.config", home);
	snprintf(path, sizeof(path), "%s/.config/coder_boundary/config.yaml",
	    home);
	mkdir(home, 0700);

	run(&r, A("--", "x"), A(env_home));
	is_int(r.ret, 0, "default config: absent file is fine (%s)", r.err);
	ok(r.o.config == NULL, "default config: not used when absent");
	is_int(r.o.config_src, OPT_CONFIG_NONE, "default config: source none");
	done(&r);

	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/.config/coder_boundary", home);
	mkdir(dir, 0700);
	write_file(path, "proxy_port: 5555\n");
	run(&r, A("--", "x"), A(env_home));
	is_int(r.ret, 0, "default config: present (%s)", r.err);
	is_str(r.o.config, path, "default config: used when it exists");
	is_int(r.o.config_src, OPT_CONFIG_DEFAULT, "default config: source");
	is_int(r.o.proxy_port, 5555, "default config: values applied");
	done(&r);

	run(&r, A("--", "x"), A("HOME="));
	ok(r.o.config == NULL, "default config: empty HOME, none");
	done(&r);

	/* BOUNDARY_CONFIG replaces it; empty disables it */
	snprintf(other, sizeof(other), "%s/other.yaml", tmpdir);
	write_file(other, "proxy_port: 6666\n");
	snprintf(env_cfg, sizeof(env_cfg), "BOUNDARY_CONFIG=%s", other);
	run(&r, A("--", "x"), A(env_home, env_cfg));
	is_str(r.o.config, other, "BOUNDARY_CONFIG: path");
	is_int(r.o.config_src, OPT_CONFIG_ENV, "BOUNDARY_CONFIG: source env");
	is_int(r.o.proxy_port, 6666, "BOUNDARY_CONFIG: values applied");
	done(&r);

	run(&r, A("--", "x"), A(env_home, "BOUNDARY_CONFIG="));
	is_int(r.ret, 0, "BOUNDARY_CONFIG=: parses");
	ok(r.o.config == NULL, "BOUNDARY_CONFIG=: no file at all");
	is_int(r.o.proxy_port, 8080, "BOUNDARY_CONFIG=: default port");
	done(&r);

	run(&r, A("--config=", "--", "x"), A(env_home));
	ok(r.o.config == NULL, "--config=: no file at all");
	done(&r);

	/* --config beats BOUNDARY_CONFIG */
	snprintf(arg, sizeof(arg), "--config=%s", path);
	run(&r, A(arg, "--", "x"), A(env_home, env_cfg));
	is_int(r.o.config_src, OPT_CONFIG_FLAG, "--config > BOUNDARY_CONFIG");
	is_int(r.o.proxy_port, 5555, "--config: its values");
	done(&r);

	/* --policy: the default file is not read at all */
	write_file(path, "this: is not valid\n");
	run(&r, A("--policy", "p.bpol", "--", "x"), A(env_home));
	is_int(r.ret, 0, "--policy: default config skipped (%s)", r.err);
	ok(r.o.config == NULL, "--policy: no config");
	done(&r);
	run(&r, A("--", "x"), A(env_home));
	is_int(r.ret, -1, "default config: invalid file is an error");
	done(&r);
	want_err(A("--policy", "p.bpol", arg, "--", "x"), NOENV, "--config",
	    "--policy with --config");
	want_err(A("--policy", "p.bpol", "--", "x"), A(env_cfg),
	    "BOUNDARY_CONFIG", "--policy with BOUNDARY_CONFIG");
	unlink(path);
	rmdir(dir);
	snprintf(dir, sizeof(dir), "%s/.config", home);
	rmdir(dir);
	rmdir(home);
	unlink(other);
}

static void
test_errors(void)
{
	/* ports */
	want_err(A("--proxy-port", "0", "--", "x"), NOENV, "--proxy-port",
	    "port 0");
	want_err(A("--proxy-port", "65536", "--", "x"), NOENV, "1..65535",
	    "port 65536");
	want_err(A("--proxy-port=-1", "--", "x"), NOENV, "'-1'", "port -1");
	want_err(A("--proxy-port=80a", "--", "x"), NOENV, "'80a'", "port 80a");
	want_err(A("--proxy-port=", "--", "x"), NOENV, "--proxy-port",
	    "port empty");
	want_err(A("--proxy-port= 80", "--", "x"), NOENV, "--proxy-port",
	    "port with a blank");
	want_err(A("--proxy-port=99999999999999999999", "--", "x"), NOENV,
	    "--proxy-port", "port overflow");
	want_err(A("--pprof-port", "70000", "--", "x"), NOENV, "--pprof-port",
	    "pprof port 70000");
	want_err(A("--", "x"), A("PROXY_PORT=abc"), "PROXY_PORT",
	    "env PROXY_PORT=abc");
	want_err(A("--", "x"), A("PROXY_PORT="), "PROXY_PORT",
	    "env PROXY_PORT=");
	want_err(A("--", "x"), A("BOUNDARY_PPROF_PORT=0"),
	    "BOUNDARY_PPROF_PORT", "env pprof port 0");

	/* levels and jail types */
	want_err(A("--log-level", "verbose", "--", "x"), NOENV,
	    "expected error, warn, info or debug", "bad level");
	want_err(A("--", "x"), A("BOUNDARY_LOG_LEVEL=trace"),
	    "BOUNDARY_LOG_LEVEL", "env bad level");
	want_err(A("--", "x"), A("BOUNDARY_LOG_LEVEL="),
	    "BOUNDARY_LOG_LEVEL", "env empty level");
	want_err(A("--jail-type", "docker", "--", "x"), NOENV,
	    "nsjail or landjail", "bad jail type");
	want_err(A("--jail-type", "NSJAIL", "--", "x"), NOENV,
	    "--jail-type", "jail type is case-sensitive");
	want_err(A("--", "x"), A("BOUNDARY_JAIL_TYPE="),
	    "BOUNDARY_JAIL_TYPE", "env empty jail type");

	/* flags */
	want_err(A("--bogus", "--", "x"), NOENV, "unknown flag: --bogus",
	    "unknown flag");
	want_err(A("--bogus=1", "--", "x"), NOENV, "unknown flag: --bogus",
	    "unknown flag with value");
	want_err(A("--proxy", "--", "x"), NOENV, "unknown flag: --proxy",
	    "no abbreviations");
	want_err(A("-x", "--", "x"), NOENV, "unknown shorthand flag: 'x'",
	    "unknown short flag");
	want_err(A("-nh", "--", "x"), NOENV, "in -nh",
	    "short flags are not bundled");
	want_err(A("--allow"), NOENV, "flag needs an argument: --allow",
	    "missing argument");
	want_err(A("--proxy-only", "--proxy-port"), NOENV,
	    "flag needs an argument: --proxy-port", "missing port");
	want_err(A("--config"), NOENV, "flag needs an argument: --config",
	    "missing config argument");
	want_err(A("--policy=", "--", "x"), NOENV, "--policy: empty file",
	    "empty --policy");
	want_err(A("--audit-file", "", "--", "x"), NOENV,
	    "--audit-file: empty file", "empty --audit-file");
	want_err(A("--upstream-ca=", "--", "x"), NOENV,
	    "--upstream-ca: empty file", "empty --upstream-ca");
	want_err(A("--listen", "localhost", "--", "x"), NOENV,
	    "numeric IPv4 or IPv6", "--listen name");
	want_err(A("--listen", "1.2.3", "--", "x"), NOENV, "--listen",
	    "--listen short IPv4");
	want_err(A("--listen", "[1.2.3.4]", "--", "x"), NOENV, "--listen",
	    "--listen bracketed IPv4");

	/* combinations */
	want_err(A("--policy", "p.bpol", "--allow", "domain=a.com", "--",
	    "x"), NOENV, "--allow", "--policy with --allow");
	want_err(A("--policy", "p.bpol", "--", "x"), A("BOUNDARY_ALLOW="),
	    "BOUNDARY_ALLOW", "--policy with BOUNDARY_ALLOW");
	want_err(A("--", "x"), A("CODER_AGENT_BOUNDARY_LOG_PROXY_SOCKET_PATH="),
	    "log proxy socket path is undefined", "empty socket path env");
	want_err(A("--log-proxy-socket-path=", "--", "x"), NOENV,
	    "--log-proxy-socket-path", "empty socket path flag");
	want_err(A("--session-id-inject-target=", "--", "x"), NOENV,
	    "inject target", "empty inject target");
	want_err(A("--", "x"), A("BOUNDARY_SESSION_ID_INJECT_TARGET="),
	    "inject target", "empty inject target env");
}

static void
test_command(void)
{
	struct run r;

	want_err(NULL, NOENV, "no command specified", "no arguments");
	want_err(A("--allow", "domain=a.com"), NOENV, "no command specified",
	    "flags but no command");
	want_err(A("--"), NOENV, "no command specified", "-- and nothing");
	want_err(A("--proxy-only", "--", "x"), NOENV, "'x'",
	    "--proxy-only with a command");
	want_err(A("--proxy-only", "curl"), NOENV, "--proxy-only",
	    "--proxy-only with a bare command");

	/* after "--" everything is the command, flags included */
	run(&r, A("--allow", "domain=a.com", "--", "curl", "-s", "--allow",
	    "x", "--"), NOENV);
	is_int(r.ret, 0, "--: parses (%s)", r.err);
	is_int(r.o.nallow, 1, "--: boundary's --allow only");
	is_int(r.o.argc, 5, "--: five words");
	is_str(r.o.argv[0], "curl", "--: argv[0]");
	is_str(r.o.argv[2], "--allow", "--: --allow is the command's");
	is_str(r.o.argv[4], "--", "--: a second -- is the command's");
	ok(r.o.argv[5] == NULL, "--: NULL-terminated");
	done(&r);

	/* the first non-option argument starts the command (like env(1)) */
	run(&r, A("--allow", "domain=a.com", "curl", "-s", "--allow", "x"),
	    NOENV);
	is_int(r.ret, 0, "bare command: parses (%s)", r.err);
	is_int(r.o.nallow, 1, "bare command: later --allow not parsed");
	is_int(r.o.argc, 4, "bare command: four words");
	is_str(r.o.argv[0], "curl", "bare command: argv[0]");
	is_str(r.o.argv[2], "--allow", "bare command: flag kept");
	done(&r);

	/* "-" alone is an argument, not a flag */
	run(&r, A("-"), NOENV);
	is_int(r.ret, 0, "'-' is a command");
	is_str(r.o.argc ? r.o.argv[0] : "", "-", "'-' kept");
	done(&r);

	/* -n needs no command, but keeps one */
	run(&r, A("-n"), NOENV);
	is_int(r.ret, 0, "-n alone (%s)", r.err);
	is_int(r.o.check_only, 1, "-n set");
	done(&r);
	run(&r, A("-n", "--", "true"), NOENV);
	is_int(r.o.argc, 1, "-n with a command");
	done(&r);

	/* --proxy-only needs none */
	run(&r, A("--proxy-only"), NOENV);
	is_int(r.ret, 0, "--proxy-only alone (%s)", r.err);
	done(&r);
}

static void
test_help_version(void)
{
	struct run r;

	run(&r, A("--help", "--bogus"), A("PROXY_PORT=bad"));
	is_int(r.ret, 0, "--help: stops parsing (%s)", r.err);
	is_int(r.o.help, 1, "--help set");
	done(&r);
	run(&r, A("--allow", "x", "-h"), NOENV);
	is_int(r.ret, 0, "-h after flags");
	is_int(r.o.help, 1, "-h set");
	done(&r);
	run(&r, A("--version"), A("BOUNDARY_JAIL_TYPE=bad"));
	is_int(r.ret, 0, "--version: no command needed, env not read");
	is_int(r.o.version, 1, "--version set");
	done(&r);
	run(&r, A("--help=false", "--", "x"), NOENV);
	is_int(r.ret, 0, "--help=false parses");
	is_int(r.o.help, 0, "--help=false: no help");
	done(&r);
	/* an error before --help is still an error */
	want_err(A("--bogus", "--help"), NOENV, "--bogus",
	    "unknown flag before --help");
	/* --help after the command belongs to the command */
	run(&r, A("--", "x", "--help"), NOENV);
	is_int(r.o.help, 0, "--help after -- is the command's");
	done(&r);
}

/* Strips roff font escapes and "\-" from a SYNOPSIS line. */
static void
unroff(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	while (*in != '\0' && *in != '\n' && n + 1 < cap) {
		if (in[0] == '\\' && in[1] == 'f' && in[2] != '\0') {
			in += 3;
		} else if (in[0] == '\\' && (in[1] == '-' || in[1] == '&' ||
		    in[1] == '|')) {
			if (in[1] == '-')
				out[n++] = '-';
			in += 2;
		} else {
			out[n++] = *in++;
		}
	}
	out[n] = '\0';
}

static void
test_usage(void)
{
	char *text = NULL, line[512], want[512];
	size_t len = 0, i, nsyn = sizeof(synopsis) / sizeof(synopsis[0]);
	FILE *f, *man;
	int in_syn = 0, nf = 0;
	size_t k = 0;

	f = open_memstream(&text, &len);
	options_usage(f);
	fclose(f);
	ok(strncmp(text, "usage: boundary [flags] -- COMMAND [ARGS...]\n",
	    45) == 0, "usage: first line");
	for (i = 0; i < O_COUNT; i++) {
		char name[64];

		if (defs[i].name != NULL)
			snprintf(name, sizeof(name), "--%s", defs[i].name);
		else
			snprintf(name, sizeof(name), "-%c", defs[i].short_name);
		ok(strstr(text, name) != NULL, "usage: lists %s", name);
		if (defs[i].env != NULL)
			ok(strstr(text, defs[i].env) != NULL,
			    "usage: names %s", defs[i].env);
	}

	/* the SYNOPSIS of man/boundary.1, line for line */
	if ((man = fopen("man/boundary.1", "r")) == NULL) {
		tap_skip("man/boundary.1 not found from %s",
		    getcwd(line, sizeof(line)) ? line : "?");
		free(text);
		return;
	}
	while (fgets(line, sizeof(line), man) != NULL) {
		if (strncmp(line, ".SH", 3) == 0) {
			in_syn = strncmp(line, ".SH SYNOPSIS", 12) == 0;
			continue;
		}
		if (!in_syn)
			continue;
		if (strncmp(line, ".nf", 3) == 0) {
			nf = 1;
			continue;
		}
		if (strncmp(line, ".fi", 3) == 0)
			break;
		if (!nf || line[0] == '.')
			continue;
		unroff(line, want, sizeof(want));
		if (k < nsyn)
			is_str(want, synopsis[k], "man SYNOPSIS line %zu", k + 1);
		k++;
	}
	fclose(man);
	is_int(k, nsyn, "man SYNOPSIS has as many lines as the usage");
	for (i = 0; i < nsyn; i++) {
		snprintf(want, sizeof(want), "%s%s\n", i == 0 ? "usage: " :
		    "       ", synopsis[i]);
		ok(strstr(text, want) != NULL, "usage has synopsis line %zu",
		    i + 1);
	}
	free(text);
}

static void
test_names(void)
{
	int i;

	for (i = 0; i < OPT_CONFIG_COUNT; i++)
		ok(strcmp(options_config_src_str((enum options_config_src)i),
		    "?") != 0, "config source %d has a name", i);
	for (i = 0; i < OPT_LOG_COUNT; i++)
		ok(strcmp(options_log_level_str((enum options_log_level)i),
		    "?") != 0, "log level %d has a name", i);
	for (i = 0; i < OPT_JAIL_COUNT; i++)
		ok(strcmp(options_jail_type_str((enum options_jail_type)i),
		    "?") != 0, "jail type %d has a name", i);
	is_str(options_log_level_str(OPT_LOG_DEBUG), "debug", "debug name");
	is_str(options_jail_type_str(OPT_JAIL_LANDJAIL), "landjail",
	    "landjail name");
	is_str(options_jail_type_str(OPT_JAIL_COUNT), "?", "out of range");
	for (i = 0; i < O_COUNT; i++)
		ok(defs[i].help != NULL && (defs[i].name || defs[i].short_name),
		    "option %d is described", i);
}

static void
test_config_values(void)
{
	struct config_values v;
	char path[256];
	FILE *f;
	char *out = NULL;
	size_t outlen = 0;

	snprintf(path, sizeof(path), "%s/cv.yaml", tmpdir);
	write_file(path, "log_level: Info\nproxy_port: 8087\n"
	    "disable_audit_logs: false\n");
	is_int(compiler_config_values(path, &v, NULL), 0, "values: loads");
	is_str(v.log_level, "info", "values: log_level canonical");
	ok(v.log_dir == NULL && v.jail_type == NULL, "values: unset NULL");
	is_int(v.proxy_port, 8087, "values: proxy_port");
	is_int(v.pprof_port, -1, "values: pprof_port unset");
	is_int(v.disable_audit_logs, 0, "values: false is 0");
	is_int(v.use_real_dns, -1, "values: unset bool -1");
	is_int(v.ninject_targets, 0, "values: no inject targets");
	is_int(v.text_len, strlen("log_level: Info\nproxy_port: 8087\n"
	    "disable_audit_logs: false\n"), "values: text length");
	compiler_config_values_free(&v);
	ok(v.log_level == NULL && v.text == NULL && v.proxy_port == -1,
	    "values: free leaves it empty");

	write_file(path, "proxy_port: [1]\n");
	f = open_memstream(&out, &outlen);
	is_int(compiler_config_values(path, &v, f), -1, "values: bad type");
	fclose(f);
	ok(outlen > 0 && strstr(out, "cv.yaml") != NULL,
	    "values: diagnostic names the file");
	ok(v.text == NULL && v.proxy_port == -1, "values: empty on failure");
	free(out);
	unlink(path);
}

void
test_runtime__options_c(void)
{
	char path[300];

	if (mkdtemp(tmpdir) == NULL) {
		ok(0, "mkdtemp: %s", tmpdir);
		return;
	}
	test_defaults();
	test_flags();
	test_booleans();
	test_env();
	test_allow_env();
	test_precedence();
	test_yaml_all();
	test_default_config();
	test_errors();
	test_command();
	test_help_version();
	test_usage();
	test_names();
	test_config_values();
	snprintf(path, sizeof(path), "%s/prec.yaml", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/all.yaml", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}
