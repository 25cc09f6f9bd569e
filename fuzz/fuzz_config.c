/*
 * config_load_mem (compiler/yaml.c) on arbitrary bytes: must diagnose,
 * never crash or leak, and every rule string it hands over must be where
 * its position says when that position claims to be exact.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Byte offset of (line, col) in <src>, or (size_t)-1 past its end. */
static size_t
offset_of(const struct src *src, unsigned line, unsigned col)
{
	size_t off = 0;

	while (line > 1 && off < src->len)
		if (src->text[off++] == '\n')
			line--;
	if (line > 1 || col == 0)
		return (size_t)-1;
	return off + col - 1;
}

static void
check_list(const struct config *cfg, const struct cfg_string *v, uint32_t n)
{
	uint32_t i;
	size_t off;

	for (i = 0; i < n; i++) {
		if (v[i].loc.src != &cfg->src || v[i].loc.line == 0 ||
		    v[i].loc.col == 0 || v[i].text.p[v[i].text.n] != '\0')
			abort();
		if (!v[i].loc.exact)
			continue;
		off = offset_of(&cfg->src, v[i].loc.line, v[i].loc.col);
		if (off == (size_t)-1 || off > cfg->src.len ||
		    cfg->src.len - off < v[i].text.n ||
		    memcmp(cfg->src.text + off, v[i].text.p, v[i].text.n) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct arena a = { 0 };
	struct diag d;
	struct config cfg;
	int ret;

	if (devnull == NULL)
		devnull = fopen("/dev/null", "w");
	memset(&d, 0, sizeof(d));
	d.out = devnull;
	ret = config_load_mem(&a, &d, "fuzz.yaml", (const char *)data, size,
	    &cfg);
	if ((ret == 0) != (d.nerrors == 0))
		abort();
	check_list(&cfg, cfg.allowlist, cfg.nallowlist);
	check_list(&cfg, cfg.inject_targets, cfg.ninject_targets);
	if (ret == 0 && ((cfg.proxy_port != -1 && (cfg.proxy_port < 1 ||
	    cfg.proxy_port > 65535)) || (cfg.pprof_port != -1 &&
	    (cfg.pprof_port < 1 || cfg.pprof_port > 65535))))
		abort();
	arena_free(&a);
	return 0;
}
