/*
 * Tests of compiler/diag.c: the exact text of errors, warnings and notes,
 * caret lines (tabs kept), --Werror, disabled warnings and their notes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compiler/diag.c"
#include "tests/tap.h"

void test_compiler__diag_c(void);

static char *buf;
static size_t len;

static void
open_cap(struct diag *d)
{
	memset(d, 0, sizeof(*d));
	d->out = open_memstream(&buf, &len);
}

/* Closes the capture and returns its text (valid until the next one). */
static const char *
close_cap(struct diag *d)
{
	static char *last;

	fclose(d->out);
	d->out = NULL;
	free(last);
	last = buf;
	return buf;
}

static void
test_errors(void)
{
	struct src s = { "config.yaml", "allowlist:\n  - \"metod=GET\"\n", 0 };
	struct src t = { "t.yaml", "\tx:\t- a=b\r\nlast", 0 };
	struct diag d;

	s.len = strlen(s.text);
	t.len = strlen(t.text);

	open_cap(&d);
	diag_error(&d, (struct srcpos){ &s, 2, 6 }, "unknown key '%s' in rule",
	    "metod");
	is_str(close_cap(&d), "config.yaml:2:6: error: unknown key 'metod' "
	    "in rule\n  - \"metod=GET\"\n     ^\n", "error with caret");
	is_int(d.nerrors, 1, "counted as an error");
	is_int(d.nwarnings, 0, "not as a warning");

	open_cap(&d);
	diag_error(&d, (struct srcpos){ &t, 1, 6 }, "x");
	is_str(close_cap(&d), "t.yaml:1:6: error: x\n\tx:\t- a=b\n\t  \t ^\n",
	    "tabs are kept in the caret line; CR is not printed");

	open_cap(&d);
	diag_error(&d, (struct srcpos){ &t, 2, 1 }, "x");
	is_str(close_cap(&d), "t.yaml:2:1: error: x\nlast\n^\n",
	    "last line without a newline");

	open_cap(&d);
	diag_error(&d, (struct srcpos){ &t, 2, 7 }, "x");
	is_str(close_cap(&d), "t.yaml:2:7: error: x\nlast\n      ^\n",
	    "a column past the end of the line");

	open_cap(&d);
	diag_error(&d, (struct srcpos){ &t, 9, 1 }, "x");
	is_str(close_cap(&d), "t.yaml:9:1: error: x\n",
	    "a line past the end: no source line");

	open_cap(&d);
	diag_error(&d, (struct srcpos){ &s, 0, 0 }, "cannot read %s", "it");
	is_str(close_cap(&d), "boundary-compile: error: cannot read it\n",
	    "line 0: no position");
	open_cap(&d);
	diag_error(&d, (struct srcpos){ NULL, 3, 3 }, "no source");
	is_str(close_cap(&d), "boundary-compile: error: no source\n",
	    "no source: no position");
	is_int(d.nerrors, 1, "counted");
}

static void
test_allow(void)
{
	struct src s = { "--allow[2]", "method=GET domain=x..y", 0 };
	struct diag d;

	s.len = strlen(s.text);
	open_cap(&d);
	diag_error(&d, (struct srcpos){ &s, 1, 20 }, "empty label");
	is_str(close_cap(&d), "--allow[2]:1:20: error: empty label\n"
	    "method=GET domain=x..y\n                   ^\n",
	    "an --allow source shows the rule itself");
}

static void
test_warnings(void)
{
	struct src s = { "c.yaml", "a\nb\n", 4 };
	struct diag d;

	open_cap(&d);
	diag_warn(&d, W_SHADOWED, (struct srcpos){ &s, 2, 1 }, "never %s",
	    "first");
	diag_note(&d, (struct srcpos){ &s, 1, 1 }, "earlier");
	is_str(close_cap(&d), "c.yaml:2:1: warning: never first [-Wshadowed]\n"
	    "b\n^\nc.yaml:1:1: note: earlier\na\n^\n", "warning and note");
	is_int(d.nwarnings, 1, "one warning");
	is_int(d.nerrors, 0, "no error");

	open_cap(&d);
	d.werror = 1;
	diag_warn(&d, W_DUPLICATE, (struct srcpos){ &s, 1, 1 }, "dup");
	is_str(close_cap(&d), "c.yaml:1:1: error: dup [-Werror=duplicate]\n"
	    "a\n^\n", "--Werror");
	is_int(d.nerrors, 1, "--Werror counts an error");
	is_int(d.nwarnings, 0, "and no warning");

	open_cap(&d);
	d.disabled = 1u << W_SUBDOMAINS;
	diag_warn(&d, W_SUBDOMAINS, (struct srcpos){ &s, 1, 1 }, "sub");
	diag_note(&d, (struct srcpos){ &s, 1, 1 }, "its note");
	diag_warn(&d, W_CONFIG, (struct srcpos){ 0 }, "odd");
	diag_note(&d, (struct srcpos){ 0 }, "shown");
	is_str(close_cap(&d), "boundary-compile: warning: odd [-Wconfig]\n"
	    "boundary-compile: note: shown\n",
	    "a disabled warning and its note print nothing");
	is_int(d.nwarnings, 1, "only the shown warning counts");
	is_int(d.disabled, 1u << W_SUBDOMAINS, "disabled bits are kept");

	open_cap(&d);
	d.disabled = 1u << W_SHADOWED;
	diag_warn(&d, W_SHADOWED, (struct srcpos){ 0 }, "x");
	diag_error(&d, (struct srcpos){ 0 }, "e");
	diag_note(&d, (struct srcpos){ 0 }, "n");
	is_str(close_cap(&d), "boundary-compile: error: e\n"
	    "boundary-compile: note: n\n", "an error unmutes notes");
}

static void
test_names(void)
{
	static const char *const want[W_COUNT] = { "lowercase-method",
	    "duplicate", "shadowed", "subdomains", "config" };
	int i;

	for (i = 0; i < W_COUNT; i++) {
		is_str(diag_warning_name(i), want[i], "name of warning %d", i);
		is_int(diag_warning_lookup(want[i]), i, "lookup of %s",
		    want[i]);
	}
	is_int(diag_warning_lookup("nope"), -1, "unknown name");
	is_int(diag_warning_lookup("Shadowed"), -1, "names are exact");
	is_int(diag_warning_lookup(NULL), -1, "NULL");
}

void
test_compiler__diag_c(void)
{
	subtest("errors", test_errors);
	subtest("--allow sources", test_allow);
	subtest("warnings", test_warnings);
	subtest("names", test_names);
}
