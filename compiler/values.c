/*
 * compiler_config_values(): the non-rule keys of a config.yaml, read with
 * the compiler's own loader (compiler/yaml.c) so that boundary and
 * boundary-compile accept exactly the same files.  Used by
 * runtime/options.c for the YAML layer of flag > env > YAML > default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler.h"
#include "config.h"

static void
values_init(struct config_values *v)
{
	memset(v, 0, sizeof(*v));
	v->proxy_port = -1;
	v->pprof_port = -1;
	v->pprof_enabled = -1;
	v->use_real_dns = -1;
	v->no_user_namespace = -1;
	v->disable_audit_logs = -1;
	v->session_correlation_enabled = -1;
}

/* A malloc'd copy of <n> bytes at <p>, or NULL when <p> is NULL. */
static int
copy_str(char **dst, const char *p, size_t n)
{
	*dst = NULL;
	if (p == NULL)
		return 0;
	if ((*dst = malloc(n + 1)) == NULL)
		return -1;
	memcpy(*dst, p, n);
	(*dst)[n] = '\0';
	return 0;
}

static int
copy_cstr(char **dst, const char *s)
{
	return copy_str(dst, s, s ? strlen(s) : 0);
}

void
compiler_config_values_free(struct config_values *v)
{
	size_t i;

	free(v->log_level);
	free(v->log_dir);
	free(v->jail_type);
	for (i = 0; i < v->ninject_targets; i++)
		free(v->inject_targets[i]);
	free(v->inject_targets);
	free(v->text);
	values_init(v);
}

int
compiler_config_values(const char *path, struct config_values *out,
    FILE *diag)
{
	struct arena a = { 0 };
	struct diag d;
	struct config cfg;
	struct srcpos none;
	uint32_t i;

	values_init(out);
	memset(&d, 0, sizeof(d));
	d.out = diag ? diag : stderr;
	/* warnings are compiler_compile's to report, once */
	d.disabled = (1u << W_COUNT) - 1;
	if (config_load(&a, &d, path, &cfg) == -1)
		goto fail;

	if (copy_cstr(&out->log_level, cfg.log_level) == -1 ||
	    copy_cstr(&out->log_dir, cfg.log_dir) == -1 ||
	    copy_cstr(&out->jail_type, cfg.jail_type) == -1 ||
	    copy_str(&out->text, cfg.src.text ? cfg.src.text : "",
	    cfg.src.len) == -1)
		goto nomem;
	out->text_len = cfg.src.len;
	out->proxy_port = (int)cfg.proxy_port;
	out->pprof_port = (int)cfg.pprof_port;
	out->pprof_enabled = cfg.pprof_enabled;
	out->use_real_dns = cfg.use_real_dns;
	out->no_user_namespace = cfg.no_user_namespace;
	out->disable_audit_logs = cfg.disable_audit_logs;
	out->session_correlation_enabled = cfg.session_correlation_enabled;
	if (cfg.ninject_targets > 0) {
		out->inject_targets = calloc(cfg.ninject_targets,
		    sizeof(*out->inject_targets));
		if (out->inject_targets == NULL)
			goto nomem;
		for (i = 0; i < cfg.ninject_targets; i++) {
			struct view t = cfg.inject_targets[i].text;

			if (copy_str(&out->inject_targets[i],
			    t.p ? t.p : "", t.n) == -1)
				goto nomem;
			out->ninject_targets++;
		}
	}
	arena_free(&a);
	return 0;

 nomem:
	none.src = &cfg.src;
	none.line = none.col = 0;
	diag_error(&d, none, "out of memory");
 fail:
	compiler_config_values_free(out);
	arena_free(&a);
	return -1;
}
