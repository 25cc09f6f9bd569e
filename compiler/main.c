/*
 * boundary-compile: compiles allowlists to .bpol decision tables, and
 * decides, explains and dumps with the runtime's own loader and decision
 * code.  Thin by design (STYLE rule 3): options, then calls into modules.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../runtime/bt_format.h"
#include "../runtime/runtime.h"
#include "compiler.h"
#include "diag.h"
#include "dump.h"
#include "explain.h"

#ifndef BOUNDARY_VERSION
#define BOUNDARY_VERSION "0.1.0"
#endif

static const char *progname = "boundary-compile";

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status == 0 ? stdout : stderr;

	fprintf(f,
	    "usage: boundary-compile [--config FILE] [--allow RULE]... [--Werror]\n"
	    "                        [--Wno-WARNING]... -o OUT.bpol\n"
	    "       boundary-compile -n [--config FILE] [--allow RULE]...\n"
	    "       boundary-compile --decide POLICY  < lines of \"METHOD URL\"\n"
	    "       boundary-compile --explain METHOD URL (--policy POLICY | "
	    "--config FILE | --allow RULE...)\n"
	    "       boundary-compile --dump POLICY\n"
	    "       boundary-compile --version | --help\n"
	    "\n"
	    "POLICY is a compiled .bpol file or a config.yaml.  Rules are\n"
	    "\"key=value ...\" with keys method, domain and path; see\n"
	    "boundary-compile(1).  Exit status: 0 ok, 1 on failure to decide\n"
	    "or write, 2 on bad input.\n");
	exit(status);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* A policy loaded for --decide, --explain or --dump. */
struct loaded {
	struct bt bt;
	unsigned char *buf;	/* compiled in memory from a config, or NULL */
};

static int
is_bpol(const char *path)
{
	char magic[BT_MAGIC_LEN];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		die("cannot read '%s': %s", path, strerror(errno));
	n = read(fd, magic, sizeof(magic));
	close(fd);
	return n == BT_MAGIC_LEN && memcmp(magic, BT_MAGIC, BT_MAGIC_LEN) == 0;
}

static void
load_compiled(struct loaded *l, struct compile_opts *o)
{
	struct compile_out out;
	char err[256];

	if (compiler_compile(o, &out) == -1)
		exit(2);
	l->buf = out.buf;
	if (bt_load_mem(&l->bt, out.buf, out.len, err, sizeof(err)) == -1)
		die("internal error: fresh policy rejected: %s", err);
}

static void
load_policy(struct loaded *l, const char *path)
{
	char err[512];

	memset(l, 0, sizeof(*l));
	if (is_bpol(path)) {
		if (bt_load_file(&l->bt, path, err, sizeof(err)) == -1)
			die("%s", err);
	} else {
		struct compile_opts o;
		memset(&o, 0, sizeof(o));
		o.config_path = path;
		load_compiled(l, &o);
	}
}

static void
unload(struct loaded *l)
{
	bt_close(&l->bt);
	free(l->buf);
	l->buf = NULL;
}

/*
 * Canonicalises METHOD and URL into a decision request; <hostbuf> and
 * <pathbuf> receive the canonical forms.  Returns 0, or -1 with <why>.
 */
static int
make_request(struct view method, struct view url, char *hostbuf, size_t hcap,
    char *pathbuf, size_t pcap, struct bt_req *rq, const char **why)
{
	struct url_parts u;
	enum host_kind kind;
	uint16_t port;
	int hn, pn;

	if (method.n == 0 || method.n > MAX_METHOD_LEN) {
		*why = "bad method";
		return -1;
	}
	if (url.n > MAX_URL_LEN || url_split(url, &u) == -1) {
		*why = "not an http or https URL";
		return -1;
	}
	hn = url_host_canon(u.authority, hostbuf, hcap, &port, &kind);
	if (hn == -1) {
		*why = "invalid host";
		return -1;
	}
	pn = url_path_canon(u.path, pathbuf, pcap);
	if (pn == -1) {
		*why = "invalid path";
		return -1;
	}
	rq->method = method;
	rq->host = view_make(hostbuf, (size_t)hn);
	rq->path = view_make(pathbuf, (size_t)pn);
	return 0;
}

static int
run_decide(const char *policy)
{
	struct loaded l;
	char *line = NULL, host[MAX_HOST_LEN + 8], path[MAX_PATH_LEN + 1];
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0;

	load_policy(&l, policy);
	while ((n = getline(&line, &cap, stdin)) != -1) {
		struct bt_req rq;
		struct verdict v;
		const char *why, *sp;
		struct view method, url;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		sp = memchr(line, ' ', (size_t)n);
		if (sp == NULL) {
			fprintf(stderr, "%s: stdin:%lu: expected \"METHOD URL\"\n",
			    progname, lineno);
			printf("deny\n");
			continue;
		}
		method = view_make(line, (size_t)(sp - line));
		url = view_make(sp + 1, (size_t)(line + n - sp - 1));
		if (make_request(method, url, host, sizeof(host), path,
		    sizeof(path), &rq, &why) == -1) {
			fprintf(stderr, "%s: stdin:%lu: %s\n", progname, lineno,
			    why);
			printf("deny\n");
			continue;
		}
		bt_decide(&l.bt, &rq, &v);
		if (v.reason == REASON_ALLOWED) {
			char text[BT_MAX_RULE_TEXT];
			size_t tn = bt_rule_text(&l.bt, v.rule, text, sizeof(text));
			printf("allow\t%.*s\n", (int)tn, text);
		} else
			printf("deny\n");
	}
	free(line);
	unload(&l);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("writing the decisions failed");
	return 0;
}

/* Rule <i>'s text, rendered into the arena (rule_parse keeps views). */
static struct view
policy_rule_text(struct arena *a, const struct bt *bt, uint32_t i)
{
	char *buf = arena_alloc(a, BT_MAX_RULE_TEXT);
	size_t n = bt_rule_text(bt, i, buf, BT_MAX_RULE_TEXT);

	return view_make(buf, n);
}

static int
run_explain(struct loaded *l, const char *m, const char *u)
{
	char host[MAX_HOST_LEN + 8], path[MAX_PATH_LEN + 1], why[512];
	struct arena a = { 0 };
	struct diag d = { 0 };
	struct src src = { "policy", NULL, 0 };
	struct bt_req rq;
	struct verdict v;
	const char *bad;
	uint32_t i;

	d.out = stderr;
	if (make_request(view_cstr(m), view_cstr(u), host, sizeof(host), path,
	    sizeof(path), &rq, &bad) == -1) {
		printf("deny: bad request: %s\n", bad);
		return 0;
	}
	printf("request: %s host %.*s path %.*s\n", m, (int)rq.host.n,
	    rq.host.p, (int)rq.path.n, rq.path.p);
	bt_decide(&l->bt, &rq, &v);
	if (v.reason == REASON_ALLOWED) {
		char text[BT_MAX_RULE_TEXT];
		size_t tn = bt_rule_text(&l->bt, v.rule, text, sizeof(text));
		printf("allow: rule %u matches: %.*s\n", v.rule + 1, (int)tn,
		    text);
	} else
		printf("deny: no rule matches\n");
	for (i = 0; i < l->bt.nrules; i++) {
		struct rule r;
		int match;

		memset(&r, 0, sizeof(r));
		r.text = policy_rule_text(&a, &l->bt, i);
		r.index = i;
		src.text = r.text.p;
		src.len = r.text.n;
		r.loc = (struct rule_loc){ &src, 1, 1, 1 };
		if (rule_parse(&a, &d, &r) == -1)
			continue;
		match = explain_rule(&r, rq.method, rq.host, rq.path, why,
		    sizeof(why));
		printf("  rule %u: %.*s: %s\n", i + 1, (int)r.text.n, r.text.p,
		    match ? (v.rule == i ? "matches (first match)" :
		    "matches") : why);
	}
	arena_free(&a);
	return 0;
}

int
main(int argc, char **argv)
{
	enum { OPT_DECIDE = 256, OPT_EXPLAIN, OPT_DUMP, OPT_WERROR, OPT_POLICY,
		OPT_VERSION };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "allow", required_argument, NULL, 'a' },
		{ "output", required_argument, NULL, 'o' },
		{ "check", no_argument, NULL, 'n' },
		{ "decide", required_argument, NULL, OPT_DECIDE },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "dump", required_argument, NULL, OPT_DUMP },
		{ "policy", required_argument, NULL, OPT_POLICY },
		{ "Werror", no_argument, NULL, OPT_WERROR },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct compile_opts o;
	struct compile_out out;
	const char **allow;
	const char *output = NULL, *decide = NULL, *dump = NULL;
	const char *policy = NULL;
	int check = 0, explain = 0, ch, i, ret = 0;
	size_t nallow = 0;

	memset(&o, 0, sizeof(o));
	allow = calloc((size_t)argc + 1, sizeof(*allow));
	if (allow == NULL)
		die("out of memory");
	/*
	 * --Wno-NAME is a family getopt_long cannot express: take those out
	 * of argv before option parsing (up to a "--").
	 */
	{
		int j = 1, rest = 0;
		for (i = 1; i < argc; i++) {
			if (!rest && strcmp(argv[i], "--") == 0)
				rest = 1;
			if (!rest && strncmp(argv[i], "--Wno-", 6) == 0) {
				int w = diag_warning_lookup(argv[i] + 6);
				if (w == -1)
					die("unknown warning '%s' (known: "
					    "lowercase-method, duplicate, "
					    "shadowed, subdomains, config)",
					    argv[i] + 6);
				o.wno |= 1u << w;
				continue;
			}
			argv[j++] = argv[i];
		}
		argc = j;
		argv[argc] = NULL;
	}
	while ((ch = getopt_long(argc, argv, "c:a:o:nh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o.config_path = optarg;
			break;
		case 'a':
			allow[nallow++] = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case OPT_DECIDE:
			decide = optarg;
			break;
		case OPT_EXPLAIN:
			explain = 1;
			break;
		case OPT_DUMP:
			dump = optarg;
			break;
		case OPT_POLICY:
			policy = optarg;
			break;
		case OPT_WERROR:
			o.werror = 1;
			break;
		case OPT_VERSION:
			printf("boundary-compile %s (policy format %u)\n",
			    BOUNDARY_VERSION, BT_VERSION);
			goto out;
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	argc -= optind;
	argv += optind;
	o.allow = allow;
	o.nallow = nallow;

	if (decide != NULL) {
		if (argc != 0 || output || dump || explain || check)
			usage(2);
		ret = run_decide(decide);
		goto out;
	}
	if (dump != NULL) {
		struct loaded l;
		if (argc != 0 || output || explain || check)
			usage(2);
		load_policy(&l, dump);
		if (dump_policy(stdout, &l.bt) == -1 || fflush(stdout) != 0)
			die("writing the dump failed");
		unload(&l);
		ret = 0;
		goto out;
	}
	if (explain) {
		struct loaded l;
		if (argc != 2 || output || check)
			usage(2);
		if (policy != NULL) {
			if (o.config_path || nallow)
				die("--explain: give either --policy or "
				    "--config/--allow, not both");
			load_policy(&l, policy);
		} else if (o.config_path || nallow) {
			memset(&l, 0, sizeof(l));
			load_compiled(&l, &o);
		} else
			die("--explain needs a policy: --policy FILE, --config "
			    "FILE or --allow RULE");
		ret = run_explain(&l, argv[0], argv[1]);
		unload(&l);
		goto out;
	}
	if (argc != 0) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", progname,
		    argv[0]);
		usage(2);
	}
	if (o.config_path == NULL && nallow == 0) {
		fprintf(stderr, "%s: nothing to compile: give --config FILE "
		    "and/or --allow RULE\n", progname);
		usage(2);
	}
	if (output == NULL && !check) {
		fprintf(stderr, "%s: no output file: give -o OUT.bpol (or -n "
		    "to check only)\n", progname);
		usage(2);
	}
	if (compiler_compile(&o, &out) == -1) {
		ret = 2;
		goto out;
	}
	if (check)
		printf("configuration OK (%u rules)\n", out.nrules);
	else if (compiler_write_file(output, out.buf, out.len) == -1) {
		fprintf(stderr, "%s: cannot write '%s': %s\n", progname, output,
		    strerror(errno));
		ret = 1;
	}
	free(out.buf);
 out:
	free(allow);
	return ret;
}
