/*
 * libFuzzer target: one rule string, as given with --allow.  Whatever the
 * bytes, rule_parse must not crash; when it accepts them, the canonical
 * text must parse again to a rule with the same canonical text, and both
 * rules must cover each other (they match the same requests).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/arena.h"
#include "compiler/diag.h"
#include "compiler/rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *
sink(void)
{
	static FILE *null;

	if (null == NULL)
		null = fopen("/dev/null", "w");
	return null;
}

static void
init_rule(struct rule *r, struct src *s, const char *name, const char *text,
    size_t len)
{
	s->name = name;
	s->text = text;
	s->len = len;
	memset(r, 0, sizeof(*r));
	r->text.p = text;
	r->text.n = len;
	r->loc.src = s;
	r->loc.line = 1;
	r->loc.col = 1;
	r->loc.exact = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = { 0 };
	struct diag d;
	struct src s1, s2;
	struct rule r1, r2;
	struct view c1, c2;
	char *text;

	memset(&d, 0, sizeof(d));
	d.out = sink();
	/* a buffer of exactly <size> bytes, so ASan sees any over-read */
	text = malloc(size ? size : 1);
	if (text == NULL)
		return 0;
	if (size > 0)
		memcpy(text, data, size);
	init_rule(&r1, &s1, "--allow[1]", text, size);
	if (rule_parse(&a, &d, &r1) == 0) {
		if (d.nerrors != 0)
			abort();
		c1 = rule_canon(&a, &r1);
		init_rule(&r2, &s2, "--allow[2]", c1.p, c1.n);
		if (rule_parse(&a, &d, &r2) != 0)
			abort();
		c2 = rule_canon(&a, &r2);
		if (!view_eq(c1, c2))
			abort();
		if (!rule_covers(&r1, &r1) || !rule_covers(&r1, &r2) ||
		    !rule_covers(&r2, &r1))
			abort();
		if (rule_any_host(&r1) != rule_any_host(&r2) ||
		    rule_any_path(&r1) != rule_any_path(&r2) ||
		    r1.any_method != r2.any_method)
			abort();
	} else if (d.nerrors == 0)
		abort();	/* failure must be explained */
	arena_free(&a);
	free(text);
	return 0;
}
