/*
 * boundary's command line, environment and config.yaml
 * (DESIGN.md section 6; ../shared/reference/boundary-facts.md section 1):
 * every flag, environment variable and YAML key of the Go tool, plus ours.
 * man/boundary.1 documents each option; options_usage() prints the same
 * SYNOPSIS.
 *
 * Precedence for scalar options: flag > environment > config.yaml >
 * default.  When a flag is given, its environment variable is not read at
 * all (a stray PROXY_PORT=abc cannot break --proxy-port 9000).
 *
 * Parsing stops at "--" (the rest is the command) and at the first
 * argument that is not an option (the rest, that one included, is the
 * command, as with env(1)): the command's own flags are never taken for
 * boundary's.
 */
#ifndef OPTIONS_H
#define OPTIONS_H

#include "limits.h"

#include <stddef.h>
#include <stdio.h>

/* Where the configuration file came from. */
enum options_config_src {
	OPT_CONFIG_NONE,	/* none: no default file, BOUNDARY_CONFIG= or --policy */
	OPT_CONFIG_DEFAULT,	/* $HOME/.config/coder_boundary/config.yaml (exists) */
	OPT_CONFIG_ENV,		/* BOUNDARY_CONFIG */
	OPT_CONFIG_FLAG,	/* --config */
	OPT_CONFIG_COUNT
};

enum options_log_level {
	OPT_LOG_ERROR,		/* "error" */
	OPT_LOG_WARN,		/* "warn" (the default) */
	OPT_LOG_INFO,		/* "info" */
	OPT_LOG_DEBUG,		/* "debug" */
	OPT_LOG_COUNT
};

enum options_jail_type {
	OPT_JAIL_NSJAIL,	/* "nsjail": namespaces + nftables (the default) */
	OPT_JAIL_LANDJAIL,	/* "landjail": Landlock + seccomp */
	OPT_JAIL_COUNT
};

#define OPTIONS_DEFAULT_PROXY_PORT	8080
#define OPTIONS_DEFAULT_PPROF_PORT	6060
#define OPTIONS_DEFAULT_LISTEN		"127.0.0.1"
#define OPTIONS_DEFAULT_CONFIG		"/.config/coder_boundary/config.yaml"
#define OPTIONS_AUDIT_SOCKET_NAME	"boundary-audit.sock"
#define OPTIONS_DEFAULT_CONNECT_TIMEOUT	TIMEOUT_CONNECT
#define OPTIONS_DEFAULT_HEAD_TIMEOUT	TIMEOUT_HEAD
#define OPTIONS_DEFAULT_IDLE_TIMEOUT	TIMEOUT_IDLE
#define OPTIONS_DEFAULT_IO_TIMEOUT	TIMEOUT_IO

/*
 * All strings and arrays are owned by the struct (options_free), except
 * the strings of argv[], which borrow the caller's argv.
 */
struct options {
	/* configuration file */
	char *config;			/* path, or NULL */
	enum options_config_src config_src;
	char *config_text;		/* its contents as read (NUL-terminated), */
	size_t config_len;		/* for compile_opts.config_text; or NULL */

	/* rules: compiled by compiler_compile (config allowlist first) */
	char *env_allow;		/* BOUNDARY_ALLOW: NULL unset, "" set but empty */
	char **allow;			/* --allow, in order */
	size_t nallow;
	char *policy;			/* --policy FILE.bpol, or NULL */

	/* session correlation: YAML session_id_inject_targets, then env, then flags */
	int session_correlation;	/* --enable-session-correlation */
	char **inject_targets;
	size_t ninject_targets;

	/* logging */
	enum options_log_level log_level;
	char *log_dir;			/* NULL: stderr */

	/* proxy */
	int proxy_port;			/* 1..65535 */
	char *listen;			/* numeric IPv4 or IPv6 address (no brackets) */
	char **connect_to;		/* --connect-to HOST:PORT:ADDR:PORT2, unparsed */
	size_t nconnect_to;
	char *upstream_ca;		/* --upstream-ca FILE, or NULL */
	double connect_timeout;		/* seconds: see limits.h TIMEOUT_* */
	double head_timeout;
	double idle_timeout;
	double io_timeout;
	int ephemeral_ca;
	int proxy_only;
	int pprof;
	int pprof_port;			/* 1..65535 */

	/* audit */
	char *audit_file;		/* --audit-file FILE, or NULL */
	int disable_audit_logs;
	char *log_proxy_socket_path;	/* never NULL after a successful parse */
	int log_proxy_socket_default;	/* the path is the default, not given */

	/* jail */
	enum options_jail_type jail_type;
	int use_real_dns;
	int no_user_namespace;

	/* actions */
	int check_only;			/* -n */
	int version;			/* --version: print and exit 0 */
	int help;			/* --help, -h: options_usage(stdout), exit 0 */

	/* the command: NULL-terminated array; strings borrow <argv> */
	char **argv;
	int argc;
};

/*
 * Parses <argv> (argv[0] is the program name) with the environment
 * <envp> (NULL-terminated "NAME=value" strings; NULL = none) and, when a
 * configuration file is in effect, its non-rule keys through
 * compiler_config_values (diagnostics to <diag>, NULL = stderr).
 * Returns 0, or -1 with a one-line reason in <err>; <o> is always
 * initialised and must be released with options_free.  With --help or
 * --version it returns 0 at once with o->help / o->version set and the
 * rest of the command line, the environment and the file not examined.
 */
int options_parse_env(struct options *o, int argc, char **argv, char **envp,
    FILE *diag, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The same with the process environment (environ) and stderr. */
int options_parse(struct options *o, int argc, char **argv, char *err,
    size_t errlen) __attribute__((warn_unused_result));

void options_free(struct options *o);

/* The usage text (man/boundary.1 SYNOPSIS, then the flags). */
void options_usage(FILE *f);

const char *options_config_src_str(enum options_config_src);
const char *options_log_level_str(enum options_log_level);
const char *options_jail_type_str(enum options_jail_type);

#endif
