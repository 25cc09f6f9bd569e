/*
 * The compiler driver: configuration and rules in, .bpol image out.
 * Collects every diagnostic before giving up (STYLE rule 9a).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../runtime/limits.h"
#include "build.h"
#include "compiler.h"
#include "config.h"
#include "lint.h"

/* A rule string with its source, before parsing. */
struct rule_in {
	struct view text;
	struct rule_loc loc;
};

static struct src *
arg_src(struct arena *a, const char *name, const char *text)
{
	struct src *s = arena_zalloc(a, sizeof(*s));

	s->name = arena_strndup(a, name, strlen(name));
	s->text = text;
	s->len = strlen(text);
	return s;
}

/*
 * Parses the session-correlation inject targets: rule syntax, domain=
 * required.  They are checked here so that CI catches mistakes; the table
 * does not carry them yet.
 */
static void
check_inject_targets(struct arena *a, struct diag *d, const struct config *cfg)
{
	uint32_t i;

	for (i = 0; i < cfg->ninject_targets; i++) {
		struct rule r;

		memset(&r, 0, sizeof(r));
		r.text = cfg->inject_targets[i].text;
		r.loc = cfg->inject_targets[i].loc;
		r.index = i;
		if (rule_parse(a, d, &r) == -1)
			continue;
		if (!(r.keys & RK_DOMAIN))
			diag_error(d, rule_pos(&r, 0), "an inject target needs "
			    "domain=: the session headers go to that host");
	}
}

int
compiler_compile(const struct compile_opts *o, struct compile_out *out)
{
	struct arena a = { 0 };
	struct diag d;
	struct config cfg;
	struct rule_in *in;
	struct rule *rules;
	struct tbl t;
	size_t nin = 0, cap, i;
	int have_cfg = 0, ret = -1;
	char name[32];

	memset(out, 0, sizeof(*out));
	memset(&d, 0, sizeof(d));
	memset(&cfg, 0, sizeof(cfg));
	d.out = o->diag ? o->diag : stderr;
	d.progname = o->progname;
	d.werror = o->werror;
	d.disabled = o->wno;

	if (o->config_text != NULL) {
		if (config_load_mem(&a, &d, o->config_path ? o->config_path :
		    "config.yaml", o->config_text, o->config_len, &cfg) == 0)
			have_cfg = 1;
	} else if (o->config_path != NULL) {
		if (config_load(&a, &d, o->config_path, &cfg) == 0)
			have_cfg = 1;
	}

	cap = (have_cfg ? cfg.nallowlist : 0) + 1 + o->nallow;
	in = arena_zalloc(&a, cap * sizeof(*in));
	for (i = 0; have_cfg && i < cfg.nallowlist; i++) {
		in[nin].text = cfg.allowlist[i].text;
		in[nin++].loc = cfg.allowlist[i].loc;
	}
	if (o->env_allow != NULL) {
		struct src *s = arg_src(&a, "BOUNDARY_ALLOW", o->env_allow);
		in[nin].text = view_make(s->text, s->len);
		in[nin++].loc = (struct rule_loc){ s, 1, 1, 1 };
	}
	for (i = 0; i < o->nallow; i++) {
		struct src *s;
		snprintf(name, sizeof(name), "--allow[%zu]", i + 1);
		s = arg_src(&a, name, o->allow[i]);
		in[nin].text = view_make(s->text, s->len);
		in[nin++].loc = (struct rule_loc){ s, 1, 1, 1 };
	}
	if (nin > MAX_RULES) {
		diag_error(&d, (struct srcpos){ 0 }, "too many rules (%zu, at "
		    "most %u)", nin, MAX_RULES);
		goto done;
	}

	rules = arena_zalloc(&a, (nin + 1) * sizeof(*rules));
	for (i = 0; i < nin; i++) {
		rules[i].text = in[i].text;
		rules[i].loc = in[i].loc;
		rules[i].index = (uint32_t)i;
		if (in[i].text.n > MAX_RULE_LEN) {
			diag_error(&d, rule_pos(&rules[i], 0), "rule longer than "
			    "%u bytes", MAX_RULE_LEN);
			continue;
		}
		if (rule_parse(&a, &d, &rules[i]) == -1)
			continue;	/* reported; keep checking the others */
	}
	if (have_cfg)
		check_inject_targets(&a, &d, &cfg);
	if (d.nerrors > 0)
		goto done;
	if (nin == 0)
		diag_warn(&d, W_CONFIG, (struct srcpos){ 0 }, "no allow rules: "
		    "every request will be denied");
	lint_rules(&a, &d, rules, (uint32_t)nin);
	if (d.nerrors > 0)
		goto done;
	if (build_table(&a, &d, rules, (uint32_t)nin, &t) == -1)
		goto done;
	if (emit_table(&t, &out->buf, &out->len) == -1) {
		diag_error(&d, (struct srcpos){ 0 }, "out of memory");
		goto done;
	}
	out->nrules = (uint32_t)nin;
	ret = 0;
 done:
	out->nerrors = d.nerrors;
	out->nwarnings = d.nwarnings;
	arena_free(&a);
	return ret;
}

int
compiler_write_file(const char *path, const void *buf, size_t len)
{
	char *tmp = NULL, *dir = NULL;
	const char *p = buf;
	int fd = -1, saved;

	if (strcmp(path, "-") == 0) {
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
			return -1;
		return 0;
	}
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) == -1) {
		tmp = NULL;
		goto fail;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1)
		goto fail;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fchmod(fd, 0644) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	free(tmp);
	return 0;
 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	free(dir);
	errno = saved;
	return -1;
}
