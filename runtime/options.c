/*
 * boundary's options: command line, environment, config.yaml, defaults
 * (runtime/options.h).  The table below is the single list of options;
 * the parser, the usage text and the precedence rules all read it.
 *
 * Order of work (as the Go tool's serpent, but with the flags read first
 * so that --help works whatever the environment holds):
 *   1. the command line, up to "--" or the first non-option argument;
 *   2. the environment, for every option not given as a flag;
 *   3. flag and environment values are checked and applied;
 *   4. the configuration file (--config, BOUNDARY_CONFIG, or the default
 *      path when it exists) fills the options still unset;
 *   5. defaults, then checks across options.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../compiler/compiler.h"
#include "options.h"

enum opt_id {
	O_CONFIG,
	O_ALLOW,
	O_POLICY,
	O_LOG_LEVEL,
	O_LOG_DIR,
	O_PROXY_PORT,
	O_LISTEN,
	O_PROXY_ONLY,
	O_CONNECT_TO,
	O_UPSTREAM_CA,
	O_EPHEMERAL_CA,
	O_AUDIT_FILE,
	O_DISABLE_AUDIT_LOGS,
	O_LOG_PROXY_SOCKET_PATH,
	O_JAIL_TYPE,
	O_USE_REAL_DNS,
	O_NO_USER_NAMESPACE,
	O_PPROF,
	O_PPROF_PORT,
	O_SESSION_CORRELATION,
	O_INJECT_TARGET,
	O_CONNECT_TIMEOUT,
	O_HEAD_TIMEOUT,
	O_IDLE_TIMEOUT,
	O_IO_TIMEOUT,
	O_CHECK,
	O_VERSION,
	O_HELP,
	O_COUNT
};

enum opt_type {
	T_BOOL,		/* --flag, --flag=BOOL; env BOOL */
	T_PORT,		/* 1..65535 */
	T_STRING,	/* any string, "" included */
	T_FILE,		/* a non-empty file name */
	T_LEVEL,	/* error|warn|info|debug, any case */
	T_JAIL,		/* nsjail|landjail */
	T_ADDR,		/* numeric IPv4 or IPv6 address */
	T_SECONDS,	/* a duration in seconds, > 0, fractions allowed */
	T_LIST		/* repeatable; each occurrence appends one string */
};

struct optdef {
	const char *name;	/* long name, without "--" */
	char short_name;	/* or 0 */
	enum opt_type type;
	const char *env;	/* environment variable, or NULL */
	const char *yaml;	/* config.yaml key, or NULL */
	const char *arg;	/* metavariable for the usage text */
	const char *def;	/* default, for the usage text */
	const char *help;
};

static const struct optdef defs[O_COUNT] = {
	[O_CONFIG] = { "config", 0, T_STRING, "BOUNDARY_CONFIG", NULL, "FILE",
	    "~/.config/coder_boundary/config.yaml if it exists",
	    "configuration file" },
	[O_ALLOW] = { "allow", 0, T_LIST, "BOUNDARY_ALLOW", "allowlist",
	    "RULE", NULL, "allow rule (repeatable; file, env, then flags)" },
	[O_POLICY] = { "policy", 0, T_FILE, NULL, NULL, "FILE.bpol", NULL,
	    "compiled policy (boundary-compile); no config file read" },
	[O_LOG_LEVEL] = { "log-level", 0, T_LEVEL, "BOUNDARY_LOG_LEVEL",
	    "log_level", "LEVEL", "warn", "error, warn, info or debug" },
	[O_LOG_DIR] = { "log-dir", 0, T_STRING, "BOUNDARY_LOG_DIR",
	    "log_dir", "DIR", "standard error", "directory for log files" },
	[O_PROXY_PORT] = { "proxy-port", 0, T_PORT, "PROXY_PORT",
	    "proxy_port", "PORT", "8080", "proxy listening port" },
	[O_LISTEN] = { "listen", 0, T_ADDR, NULL, NULL, "ADDR",
	    OPTIONS_DEFAULT_LISTEN, "proxy listening address" },
	[O_PROXY_ONLY] = { "proxy-only", 0, T_BOOL, NULL, NULL, NULL, NULL,
	    "run the proxy alone, no jail and no command" },
	[O_CONNECT_TO] = { "connect-to", 0, T_LIST, NULL, NULL,
	    "HOST:PORT:ADDR:PORT2", NULL,
	    "dial ADDR:PORT2 for HOST:PORT (repeatable)" },
	[O_UPSTREAM_CA] = { "upstream-ca", 0, T_FILE, NULL, NULL, "FILE",
	    NULL, "extra CA certificates for upstream servers" },
	[O_EPHEMERAL_CA] = { "ephemeral-ca", 0, T_BOOL, NULL, NULL, NULL,
	    NULL, "per-run CA kept in memory; only the certificate written" },
	[O_AUDIT_FILE] = { "audit-file", 0, T_FILE, NULL, NULL, "FILE", NULL,
	    "append audit records as JSON lines" },
	[O_DISABLE_AUDIT_LOGS] = { "disable-audit-logs", 0, T_BOOL,
	    "DISABLE_AUDIT_LOGS", "disable_audit_logs", NULL, "false",
	    "do not send audit records to the log proxy socket" },
	[O_LOG_PROXY_SOCKET_PATH] = { "log-proxy-socket-path", 0, T_STRING,
	    "CODER_AGENT_BOUNDARY_LOG_PROXY_SOCKET_PATH", NULL, "PATH",
	    "$TMPDIR/boundary-audit.sock", "audit log proxy socket" },
	[O_JAIL_TYPE] = { "jail-type", 0, T_JAIL, "BOUNDARY_JAIL_TYPE",
	    "jail_type", "TYPE", "nsjail", "nsjail or landjail" },
	[O_USE_REAL_DNS] = { "use-real-dns", 0, T_BOOL,
	    "BOUNDARY_USE_REAL_DNS", "use_real_dns", NULL, "false",
	    "nsjail: forward DNS to the host's resolver" },
	[O_NO_USER_NAMESPACE] = { "no-user-namespace", 0, T_BOOL,
	    "BOUNDARY_NO_USER_NAMESPACE", "no_user_namespace", NULL, "false",
	    "nsjail: no user namespace (needs privileges)" },
	[O_PPROF] = { "pprof", 0, T_BOOL, "BOUNDARY_PPROF", "pprof_enabled",
	    NULL, "false", "accepted for compatibility; no profiler" },
	[O_PPROF_PORT] = { "pprof-port", 0, T_PORT, "BOUNDARY_PPROF_PORT",
	    "pprof_port", "PORT", "6060", "accepted for compatibility" },
	[O_SESSION_CORRELATION] = { "enable-session-correlation", 0, T_BOOL,
	    "BOUNDARY_SESSION_CORRELATION_ENABLED",
	    "session_correlation_enabled", NULL, "false",
	    "add session id and sequence headers for inject targets" },
	[O_INJECT_TARGET] = { "session-id-inject-target", 0, T_LIST,
	    "BOUNDARY_SESSION_ID_INJECT_TARGET", "session_id_inject_targets",
	    "RULE", NULL, "where session headers go (repeatable)" },
	[O_CONNECT_TIMEOUT] = { "connect-timeout", 0, T_SECONDS,
	    "BOUNDARY_CONNECT_TIMEOUT", NULL, "SECS", "10",
	    "to resolve, connect and handshake upstream; then 504" },
	[O_HEAD_TIMEOUT] = { "head-timeout", 0, T_SECONDS,
	    "BOUNDARY_HEAD_TIMEOUT", NULL, "SECS", "30",
	    "for a request head or a client TLS handshake; then 408" },
	[O_IDLE_TIMEOUT] = { "idle-timeout", 0, T_SECONDS,
	    "BOUNDARY_IDLE_TIMEOUT", NULL, "SECS", "60",
	    "a kept-alive client may stay silent" },
	[O_IO_TIMEOUT] = { "io-timeout", 0, T_SECONDS,
	    "BOUNDARY_IO_TIMEOUT", NULL, "SECS", "300",
	    "without progress while relaying (504 before a response)" },
	[O_CHECK] = { NULL, 'n', T_BOOL, NULL, NULL, NULL, NULL,
	    "check the configuration, print \"configuration OK\", exit" },
	[O_VERSION] = { "version", 0, T_BOOL, NULL, NULL, NULL, NULL,
	    "print the version and exit" },
	[O_HELP] = { "help", 'h', T_BOOL, NULL, NULL, NULL, NULL,
	    "print this help and exit" },
};

static const char *const level_names[OPT_LOG_COUNT] = {
	[OPT_LOG_ERROR] = "error",
	[OPT_LOG_WARN] = "warn",
	[OPT_LOG_INFO] = "info",
	[OPT_LOG_DEBUG] = "debug",
};

static const char *const jail_names[OPT_JAIL_COUNT] = {
	[OPT_JAIL_NSJAIL] = "nsjail",
	[OPT_JAIL_LANDJAIL] = "landjail",
};

static const char *const config_src_names[OPT_CONFIG_COUNT] = {
	[OPT_CONFIG_NONE] = "none",
	[OPT_CONFIG_DEFAULT] = "default",
	[OPT_CONFIG_ENV] = "env",
	[OPT_CONFIG_FLAG] = "flag",
};

/* The usage text's first lines: the SYNOPSIS of man/boundary.1. */
static const char *const synopsis[] = {
	"boundary [flags] -- COMMAND [ARGS...]",
	"boundary --proxy-only [flags]",
	"boundary -n [flags] [-- COMMAND [ARGS...]]",
	"boundary --version | --help",
};

/* Values found on the command line and in the environment, unparsed. */
struct raw {
	const char *flag[O_COUNT];	/* last occurrence; NULL if absent */
	const char *env[O_COUNT];	/* NULL if absent or flag given */
	int set[O_COUNT];		/* applied from a flag or env */
	char **flag_inject;		/* --session-id-inject-target, in order */
	size_t nflag_inject;
};

const char *
options_config_src_str(enum options_config_src s)
{
	return (unsigned)s < OPT_CONFIG_COUNT ? config_src_names[s] : "?";
}

const char *
options_log_level_str(enum options_log_level l)
{
	return (unsigned)l < OPT_LOG_COUNT ? level_names[l] : "?";
}

const char *
options_jail_type_str(enum options_jail_type j)
{
	return (unsigned)j < OPT_JAIL_COUNT ? jail_names[j] : "?";
}

static int
fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
set_str(char **dst, const char *s)
{
	char *c = NULL;

	if (s != NULL && (c = strdup(s)) == NULL)
		return -1;
	free(*dst);
	*dst = c;
	return 0;
}

static int
list_add(char ***v, size_t *n, const char *s)
{
	char **nv;
	char *c;

	if ((c = strdup(s)) == NULL)
		return -1;
	if ((nv = realloc(*v, (*n + 1) * sizeof(*nv))) == NULL) {
		free(c);
		return -1;
	}
	nv[(*n)++] = c;
	*v = nv;
	return 0;
}

static void
list_free(char ***v, size_t *n)
{
	size_t i;

	for (i = 0; i < *n; i++)
		free((*v)[i]);
	free(*v);
	*v = NULL;
	*n = 0;
}

/* The first "NAME=value" of <envp> for <name>: a pointer to value. */
static const char *
env_get(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* strconv.ParseBool's forms; "" is false, as serpent reads it. */
static int
parse_bool(const char *s, int *out)
{
	static const char *const t[] = { "1", "t", "T", "TRUE", "true",
	    "True" };
	static const char *const f[] = { "", "0", "f", "F", "FALSE", "false",
	    "False" };
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i]) == 0) {
			*out = 1;
			return 0;
		}
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (strcmp(s, f[i]) == 0) {
			*out = 0;
			return 0;
		}
	return -1;
}

/* Decimal (an optional '+', as strconv.ParseInt), 1..65535. */
static int
parse_port(const char *s, int *out)
{
	long v = 0;

	if (*s == '+')
		s++;
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > 65535)
			return -1;
	}
	if (v < 1)
		return -1;
	*out = (int)v;
	return 0;
}

static int
ascii_caseeq(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++) {
		char x = *a, y = *b;

		if (x >= 'A' && x <= 'Z')
			x = (char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (char)(y - 'A' + 'a');
		if (x != y)
			return 0;
	}
	return *a == *b;
}

static int
parse_level(const char *s, enum options_log_level *out)
{
	int i;

	for (i = 0; i < OPT_LOG_COUNT; i++)
		if (ascii_caseeq(s, level_names[i])) {
			*out = (enum options_log_level)i;
			return 0;
		}
	return -1;
}

/* Exactly "nsjail" or "landjail", as the Go tool. */
static int
parse_jail(const char *s, enum options_jail_type *out)
{
	int i;

	for (i = 0; i < OPT_JAIL_COUNT; i++)
		if (strcmp(s, jail_names[i]) == 0) {
			*out = (enum options_jail_type)i;
			return 0;
		}
	return -1;
}

/* A numeric address; IPv6 with or without brackets, stored without. */
static int
parse_addr(const char *s, char **out)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char tmp[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);

	if (inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1)
		return set_str(out, s) == -1 ? -2 : 0;
	if (n >= 2 && n - 2 < sizeof(tmp) && s[0] == '[' && s[n - 1] == ']') {
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
		if (inet_pton(AF_INET6, tmp, buf) == 1)
			return set_str(out, tmp) == -1 ? -2 : 0;
	}
	return -1;
}

static int *
bool_field(struct options *o, enum opt_id id)
{
	switch (id) {
	case O_PROXY_ONLY:		return &o->proxy_only;
	case O_EPHEMERAL_CA:		return &o->ephemeral_ca;
	case O_DISABLE_AUDIT_LOGS:	return &o->disable_audit_logs;
	case O_USE_REAL_DNS:		return &o->use_real_dns;
	case O_NO_USER_NAMESPACE:	return &o->no_user_namespace;
	case O_PPROF:			return &o->pprof;
	case O_SESSION_CORRELATION:	return &o->session_correlation;
	case O_CHECK:			return &o->check_only;
	case O_VERSION:			return &o->version;
	case O_HELP:			return &o->help;
	default:			return NULL;
	}
}

static char **
str_field(struct options *o, enum opt_id id)
{
	switch (id) {
	case O_CONFIG:			return &o->config;
	case O_POLICY:			return &o->policy;
	case O_LOG_DIR:			return &o->log_dir;
	case O_LISTEN:			return &o->listen;
	case O_UPSTREAM_CA:		return &o->upstream_ca;
	case O_AUDIT_FILE:		return &o->audit_file;
	case O_LOG_PROXY_SOCKET_PATH:	return &o->log_proxy_socket_path;
	default:			return NULL;
	}
}

static double *
secs_field(struct options *o, enum opt_id id)
{
	switch (id) {
	case O_CONNECT_TIMEOUT:		return &o->connect_timeout;
	case O_HEAD_TIMEOUT:		return &o->head_timeout;
	case O_IDLE_TIMEOUT:		return &o->idle_timeout;
	default:			return &o->io_timeout;
	}
}

/* "--proxy-port" or "-n", for messages. */
static const char *
flag_name(enum opt_id id, char *buf, size_t cap)
{
	if (defs[id].name != NULL)
		snprintf(buf, cap, "--%s", defs[id].name);
	else
		snprintf(buf, cap, "-%c", defs[id].short_name);
	return buf;
}

/*
 * Checks and stores the value <v> of scalar option <id>; <from> names
 * where it came from ("--proxy-port" or "PROXY_PORT") for the message.
 */
static int
apply(struct options *o, enum opt_id id, const char *v, const char *from,
    char *err, size_t errlen)
{
	const struct optdef *d = &defs[id];
	char **sp;
	int *bp, r;

	switch (d->type) {
	case T_BOOL:
		bp = bool_field(o, id);
		if (parse_bool(v, bp) == -1)
			return fail(err, errlen, "invalid %s value '%s': "
			    "expected true or false (also 1/0, t/f)", from, v);
		return 0;
	case T_PORT:
		if (parse_port(v, id == O_PROXY_PORT ? &o->proxy_port :
		    &o->pprof_port) == -1)
			return fail(err, errlen, "invalid %s value '%s': "
			    "expected a port number 1..65535", from, v);
		return 0;
	case T_LEVEL:
		if (parse_level(v, &o->log_level) == -1)
			return fail(err, errlen, "invalid %s value '%s': "
			    "expected error, warn, info or debug", from, v);
		return 0;
	case T_JAIL:
		if (parse_jail(v, &o->jail_type) == -1)
			return fail(err, errlen, "invalid %s value '%s': "
			    "expected nsjail or landjail", from, v);
		return 0;
	case T_ADDR:
		r = parse_addr(v, &o->listen);
		if (r == -1)
			return fail(err, errlen, "invalid %s value '%s': "
			    "expected a numeric IPv4 or IPv6 address", from, v);
		if (r == -2)
			return fail(err, errlen, "out of memory");
		return 0;
	case T_FILE:
		if (*v == '\0')
			return fail(err, errlen, "%s: empty file name", from);
		/* FALLTHROUGH */
	case T_STRING:
		sp = str_field(o, id);
		/* --log-dir "" is the default: standard error */
		if (set_str(sp, id == O_LOG_DIR && *v == '\0' ? NULL : v) == -1)
			return fail(err, errlen, "out of memory");
		return 0;
	case T_SECONDS: {
		char *end;
		double secs;

		errno = 0;
		secs = strtod(v, &end);
		if (*v == '\0' || *end != '\0' || errno != 0 || !(secs > 0) ||
		    secs > 86400)
			return fail(err, errlen, "invalid %s value '%s': "
			    "expected seconds, more than 0 and at most 86400",
			    from, v);
		*secs_field(o, id) = secs;
		return 0;
	}
	case T_LIST:
		break;
	}
	return fail(err, errlen, "internal error: %s is not a scalar", from);
}

static int
lookup_long(const char *name, size_t n)
{
	int i;

	for (i = 0; i < O_COUNT; i++)
		if (defs[i].name != NULL && strlen(defs[i].name) == n &&
		    strncmp(defs[i].name, name, n) == 0)
			return i;
	return -1;
}

static int
lookup_short(char c)
{
	int i;

	for (i = 0; i < O_COUNT; i++)
		if (defs[i].short_name != 0 && defs[i].short_name == c)
			return i;
	return -1;
}

/*
 * Step 1: the command line.  Returns the index of the command's first
 * argument (argc if none), or -1.  Stops early, returning argc, at
 * --help or --version.
 */
static int
scan_argv(struct options *o, struct raw *raw, int argc, char **argv,
    char *err, size_t errlen)
{
	char fname[64];
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL, *eq;
		int id;

		if (strcmp(a, "--") == 0)
			return i + 1;
		if (a[0] != '-' || a[1] == '\0')
			return i;	/* the command starts here */
		if (a[1] == '-') {
			eq = strchr(a + 2, '=');
			id = lookup_long(a + 2,
			    eq ? (size_t)(eq - a - 2) : strlen(a + 2));
			if (id == -1)
				return fail(err, errlen, "unknown flag: %.*s",
				    (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
			if (eq != NULL)
				v = eq + 1;
		} else {
			if (a[2] != '\0' || (id = lookup_short(a[1])) == -1)
				return fail(err, errlen, "unknown shorthand "
				    "flag: '%c' in %s", a[1], a);
		}
		flag_name((enum opt_id)id, fname, sizeof(fname));
		if (defs[id].type == T_BOOL) {
			if (v == NULL)
				v = "true";
		} else if (v == NULL) {
			if (i + 1 >= argc)
				return fail(err, errlen, "flag needs an "
				    "argument: %s", fname);
			v = argv[++i];
		}
		switch (id) {
		case O_ALLOW:
			if (list_add(&o->allow, &o->nallow, v) == -1)
				return fail(err, errlen, "out of memory");
			break;
		case O_CONNECT_TO:
			if (list_add(&o->connect_to, &o->nconnect_to, v) == -1)
				return fail(err, errlen, "out of memory");
			break;
		case O_INJECT_TARGET:
			if (list_add(&raw->flag_inject, &raw->nflag_inject,
			    v) == -1)
				return fail(err, errlen, "out of memory");
			break;
		case O_HELP:
		case O_VERSION:
			if (apply(o, (enum opt_id)id, v, fname, err,
			    errlen) == -1)
				return -1;
			if (*bool_field(o, (enum opt_id)id))
				return argc;
			break;
		default:
			raw->flag[id] = v;
			break;
		}
	}
	return argc;
}

/* The default socket path: filepath.Join(os.TempDir(), name). */
static int
default_socket_path(struct options *o, char **envp)
{
	const char *dir = env_get(envp, "TMPDIR");
	size_t n;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n == 1 && dir[0] == '/')
		n = 0;
	free(o->log_proxy_socket_path);
	if (asprintf(&o->log_proxy_socket_path, "%.*s/%s", (int)n, dir,
	    OPTIONS_AUDIT_SOCKET_NAME) == -1) {
		o->log_proxy_socket_path = NULL;
		return -1;
	}
	return 0;
}

/*
 * Step 4: which configuration file, if any.  A set but empty --config or
 * BOUNDARY_CONFIG means none (it also disables the default path).
 */
static int
pick_config(struct options *o, struct raw *raw, char **envp, char *err,
    size_t errlen)
{
	const char *home, *path = NULL;
	enum options_config_src src = OPT_CONFIG_NONE;
	char *def = NULL;
	struct stat st;

	if (raw->flag[O_CONFIG] != NULL) {
		path = raw->flag[O_CONFIG];
		src = OPT_CONFIG_FLAG;
	} else if (raw->env[O_CONFIG] != NULL) {
		path = raw->env[O_CONFIG];
		src = OPT_CONFIG_ENV;
	}
	if (o->policy != NULL) {
		/* a compiled policy is the whole policy: no YAML at all */
		if (path != NULL && *path != '\0')
			return fail(err, errlen, "--policy and %s cannot be "
			    "used together: compile the file into the policy "
			    "with boundary-compile", src == OPT_CONFIG_FLAG ?
			    "--config" : "BOUNDARY_CONFIG");
		return 0;
	}
	if (src == OPT_CONFIG_NONE) {
		home = env_get(envp, "HOME");
		if (home == NULL || *home == '\0')
			return 0;
		if (asprintf(&def, "%s%s", home, OPTIONS_DEFAULT_CONFIG) == -1)
			return fail(err, errlen, "out of memory");
		if (stat(def, &st) == -1) {
			free(def);
			return 0;
		}
		path = def;
		src = OPT_CONFIG_DEFAULT;
	}
	if (*path == '\0')
		return 0;
	if (set_str(&o->config, path) == -1) {
		free(def);
		return fail(err, errlen, "out of memory");
	}
	free(def);
	o->config_src = src;
	return 0;
}

/* Step 4, continued: the file's keys fill the options still unset. */
static int
apply_config(struct options *o, struct raw *raw, FILE *diag, char *err,
    size_t errlen)
{
	struct config_values cv;
	size_t i;
	int ret = -1;

	if (compiler_config_values(o->config, &cv, diag) == -1)
		return fail(err, errlen, "invalid configuration file '%s'",
		    o->config);
	o->config_text = cv.text;
	o->config_len = cv.text_len;
	cv.text = NULL;

	if (!raw->set[O_LOG_LEVEL] && cv.log_level != NULL &&
	    parse_level(cv.log_level, &o->log_level) == -1)
		goto bad;
	if (!raw->set[O_JAIL_TYPE] && cv.jail_type != NULL &&
	    parse_jail(cv.jail_type, &o->jail_type) == -1)
		goto bad;
	if (!raw->set[O_LOG_DIR] && cv.log_dir != NULL &&
	    set_str(&o->log_dir, *cv.log_dir ? cv.log_dir : NULL) == -1)
		goto nomem;
	if (!raw->set[O_PROXY_PORT] && cv.proxy_port != -1)
		o->proxy_port = cv.proxy_port;
	if (!raw->set[O_PPROF_PORT] && cv.pprof_port != -1)
		o->pprof_port = cv.pprof_port;
	if (!raw->set[O_PPROF] && cv.pprof_enabled != -1)
		o->pprof = cv.pprof_enabled;
	if (!raw->set[O_USE_REAL_DNS] && cv.use_real_dns != -1)
		o->use_real_dns = cv.use_real_dns;
	if (!raw->set[O_NO_USER_NAMESPACE] && cv.no_user_namespace != -1)
		o->no_user_namespace = cv.no_user_namespace;
	if (!raw->set[O_DISABLE_AUDIT_LOGS] && cv.disable_audit_logs != -1)
		o->disable_audit_logs = cv.disable_audit_logs;
	if (!raw->set[O_SESSION_CORRELATION] &&
	    cv.session_correlation_enabled != -1)
		o->session_correlation = cv.session_correlation_enabled;
	/* lists are concatenated, the file's first */
	for (i = 0; i < cv.ninject_targets; i++)
		if (list_add(&o->inject_targets, &o->ninject_targets,
		    cv.inject_targets[i]) == -1)
			goto nomem;
	ret = 0;
	goto out;

 bad:
	fail(err, errlen, "invalid value in configuration file '%s'",
	    o->config);
	goto out;
 nomem:
	fail(err, errlen, "out of memory");
 out:
	compiler_config_values_free(&cv);
	return ret;
}

static void
options_init(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->config_src = OPT_CONFIG_NONE;
	o->log_level = OPT_LOG_WARN;
	o->proxy_port = OPTIONS_DEFAULT_PROXY_PORT;
	o->pprof_port = OPTIONS_DEFAULT_PPROF_PORT;
	o->jail_type = OPT_JAIL_NSJAIL;
	o->connect_timeout = OPTIONS_DEFAULT_CONNECT_TIMEOUT;
	o->head_timeout = OPTIONS_DEFAULT_HEAD_TIMEOUT;
	o->idle_timeout = OPTIONS_DEFAULT_IDLE_TIMEOUT;
	o->io_timeout = OPTIONS_DEFAULT_IO_TIMEOUT;
}

void
options_free(struct options *o)
{
	free(o->config);
	free(o->config_text);
	free(o->env_allow);
	list_free(&o->allow, &o->nallow);
	free(o->policy);
	list_free(&o->inject_targets, &o->ninject_targets);
	free(o->log_dir);
	free(o->listen);
	list_free(&o->connect_to, &o->nconnect_to);
	free(o->upstream_ca);
	free(o->audit_file);
	free(o->log_proxy_socket_path);
	free(o->argv);
	options_init(o);
}

int
options_parse_env(struct options *o, int argc, char **argv, char **envp,
    FILE *diag, char *err, size_t errlen)
{
	struct raw raw;
	const char *v;
	char fname[64];
	size_t i;
	int cmd, id, ret = -1;

	options_init(o);
	memset(&raw, 0, sizeof(raw));
	if (errlen > 0)
		err[0] = '\0';

	/* 1. the command line */
	if ((cmd = scan_argv(o, &raw, argc, argv, err, errlen)) == -1)
		goto out;
	if (o->help || o->version) {
		ret = 0;
		goto out;
	}
	if ((o->argv = calloc((size_t)(argc - cmd) + 1,
	    sizeof(*o->argv))) == NULL) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	for (id = cmd; id < argc; id++)
		o->argv[o->argc++] = argv[id];

	/* 2. the environment, for what the command line did not give */
	for (id = 0; id < O_COUNT; id++)
		if (defs[id].env != NULL && raw.flag[id] == NULL)
			raw.env[id] = env_get(envp, defs[id].env);
	/* BOUNDARY_ALLOW= stays "": the compiler refuses the empty rule */
	if (raw.env[O_ALLOW] != NULL &&
	    set_str(&o->env_allow, raw.env[O_ALLOW]) == -1) {
		fail(err, errlen, "out of memory");
		goto out;
	}

	/* 3. flag and environment values */
	for (id = 0; id < O_COUNT; id++) {
		if (defs[id].type == T_LIST || id == O_CONFIG)
			continue;
		if ((v = raw.flag[id]) != NULL) {
			if (apply(o, (enum opt_id)id, v, flag_name((enum opt_id)id,
			    fname, sizeof(fname)), err, errlen) == -1)
				goto out;
			raw.set[id] = 1;
		} else if ((v = raw.env[id]) != NULL) {
			if (apply(o, (enum opt_id)id, v, defs[id].env, err,
			    errlen) == -1)
				goto out;
			raw.set[id] = 1;
		}
	}

	/* 4. the configuration file */
	if (pick_config(o, &raw, envp, err, errlen) == -1)
		goto out;
	if (o->config != NULL && apply_config(o, &raw, diag, err,
	    errlen) == -1)
		goto out;
	if (raw.env[O_INJECT_TARGET] != NULL &&
	    list_add(&o->inject_targets, &o->ninject_targets,
	    raw.env[O_INJECT_TARGET]) == -1) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < raw.nflag_inject; i++)
		if (list_add(&o->inject_targets, &o->ninject_targets,
		    raw.flag_inject[i]) == -1) {
			fail(err, errlen, "out of memory");
			goto out;
		}

	/* 5. defaults, then checks across options */
	if (o->listen == NULL && set_str(&o->listen,
	    OPTIONS_DEFAULT_LISTEN) == -1) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	o->log_proxy_socket_default = !raw.set[O_LOG_PROXY_SOCKET_PATH];
	if (!raw.set[O_LOG_PROXY_SOCKET_PATH] &&
	    default_socket_path(o, envp) == -1) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	if (*o->log_proxy_socket_path == '\0' && !o->disable_audit_logs) {
		fail(err, errlen, "log proxy socket path is undefined (%s is "
		    "empty; use --disable-audit-logs to do without)",
		    raw.set[O_LOG_PROXY_SOCKET_PATH] &&
		    raw.flag[O_LOG_PROXY_SOCKET_PATH] == NULL ?
		    defs[O_LOG_PROXY_SOCKET_PATH].env :
		    "--log-proxy-socket-path");
		goto out;
	}
	for (i = 0; i < o->ninject_targets; i++)
		if (o->inject_targets[i][0] == '\0') {
			fail(err, errlen, "empty session ID inject target: "
			    "a target needs domain=");
			goto out;
		}
	if (o->policy != NULL && (o->nallow > 0 || o->env_allow != NULL)) {
		fail(err, errlen, "--policy cannot be combined with %s: "
		    "compile the rules into the policy with boundary-compile",
		    o->nallow > 0 ? "--allow" : "BOUNDARY_ALLOW");
		goto out;
	}
	if (o->proxy_only && o->argc > 0) {
		fail(err, errlen, "--proxy-only runs no command (got '%s')",
		    o->argv[0]);
		goto out;
	}
	if (!o->proxy_only && !o->check_only && o->argc == 0) {
		fail(err, errlen, "no command specified");
		goto out;
	}
	ret = 0;
 out:
	list_free(&raw.flag_inject, &raw.nflag_inject);
	return ret;
}

int
options_parse(struct options *o, int argc, char **argv, char *err,
    size_t errlen)
{
	return options_parse_env(o, argc, argv, environ, stderr, err, errlen);
}

void
options_usage(FILE *f)
{
	const char *sep;
	char left[64];
	size_t i;
	int id;

	for (i = 0; i < sizeof(synopsis) / sizeof(synopsis[0]); i++)
		fprintf(f, "%s%s\n", i == 0 ? "usage: " : "       ",
		    synopsis[i]);
	fprintf(f, "\nflags:\n");
	for (id = 0; id < O_COUNT; id++) {
		const struct optdef *d = &defs[id];

		if (d->name != NULL && d->short_name != 0)
			snprintf(left, sizeof(left), "-%c, --%s",
			    d->short_name, d->name);
		else if (d->name != NULL)
			snprintf(left, sizeof(left), "--%s%s%s", d->name,
			    d->arg ? " " : "", d->arg ? d->arg : "");
		else
			snprintf(left, sizeof(left), "-%c", d->short_name);
		fprintf(f, "  %-34s %s\n", left, d->help);
		if (d->env == NULL && d->yaml == NULL && d->def == NULL)
			continue;
		sep = "";
		fprintf(f, "  %-34s ", "");
		if (d->env != NULL) {
			fprintf(f, "env %s", d->env);
			sep = "; ";
		}
		if (d->yaml != NULL) {
			fprintf(f, "%sconfig %s", sep, d->yaml);
			sep = "; ";
		}
		if (d->def != NULL)
			fprintf(f, "%sdefault %s", sep, d->def);
		fprintf(f, "\n");
	}
	fprintf(f, "\nSee boundary(1).\n");
}
