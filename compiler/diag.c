/*
 * Diagnostics of boundary-compile: "NAME:LINE:COL: error: MESSAGE", the
 * source line verbatim, and a caret under column COL.  See diag.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "diag.h"

/*
 * Set in d->disabled (above every enum diag_warning bit) while the last
 * diagnostic was a suppressed warning, so that its notes are suppressed
 * too.  Cleared by the next error or shown warning.
 */
#define DIAG_MUTED (1u << 31)

static const char *const warning_names[W_COUNT] = {
	[W_LOWERCASE_METHOD] = "lowercase-method",
	[W_DUPLICATE] = "duplicate",
	[W_SHADOWED] = "shadowed",
	[W_SUBDOMAINS] = "subdomains",
	[W_CONFIG] = "config",
};

const char *
diag_warning_name(enum diag_warning w)
{
	if ((unsigned)w >= W_COUNT)
		return "unknown";
	return warning_names[w];
}

int
diag_warning_lookup(const char *name)
{
	int i;

	if (name == NULL)
		return -1;
	for (i = 0; i < W_COUNT; i++)
		if (strcmp(name, warning_names[i]) == 0)
			return i;
	return -1;
}

/*
 * Prints line <line> (1-based) of <src> and a caret under byte <col>.
 * Tabs before the caret are copied so that it lines up in a terminal.
 * Prints nothing when the line does not exist.
 */
static void
print_caret(FILE *out, const struct src *src, unsigned line, unsigned col)
{
	const char *p, *end, *eol;
	unsigned l;
	size_t n, k;

	if (src->text == NULL)
		return;
	p = src->text;
	end = src->text + src->len;
	for (l = 1; l < line; l++) {
		p = memchr(p, '\n', (size_t)(end - p));
		if (p == NULL)
			return;
		p++;
	}
	eol = memchr(p, '\n', (size_t)(end - p));
	if (eol == NULL)
		eol = end;
	n = (size_t)(eol - p);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	fwrite(p, 1, n, out);
	fputc('\n', out);
	for (k = 0; k + 1 < col; k++)
		fputc(k < n && p[k] == '\t' ? '\t' : ' ', out);
	fputs("^\n", out);
}

/* One diagnostic: header, message, optional suffix, caret lines. */
static void emit(struct diag *, struct srcpos, const char *, const char *,
    const char *, va_list) __attribute__((format(printf, 5, 0)));

static void
emit(struct diag *d, struct srcpos pos, const char *kind, const char *suffix,
    const char *fmt, va_list ap)
{
	FILE *out = d->out != NULL ? d->out : stderr;

	if (pos.src == NULL || pos.line == 0)
		fprintf(out, "%s: %s: ", d->progname != NULL ? d->progname :
		    "boundary-compile", kind);
	else
		fprintf(out, "%s:%u:%u: %s: ", pos.src->name, pos.line,
		    pos.col, kind);
	vfprintf(out, fmt, ap);
	if (suffix != NULL)
		fputs(suffix, out);
	fputc('\n', out);
	if (pos.src != NULL && pos.line != 0)
		print_caret(out, pos.src, pos.line, pos.col);
}

void
diag_error(struct diag *d, struct srcpos pos, const char *fmt, ...)
{
	va_list ap;

	d->disabled &= ~DIAG_MUTED;
	va_start(ap, fmt);
	emit(d, pos, "error", NULL, fmt, ap);
	va_end(ap);
	d->nerrors++;
}

void
diag_warn(struct diag *d, enum diag_warning w, struct srcpos pos,
    const char *fmt, ...)
{
	char suffix[64];
	va_list ap;

	if ((unsigned)w < W_COUNT && (d->disabled & (1u << w))) {
		d->disabled |= DIAG_MUTED;
		return;
	}
	d->disabled &= ~DIAG_MUTED;
	snprintf(suffix, sizeof(suffix), " [-W%s%s]",
	    d->werror ? "error=" : "", diag_warning_name(w));
	va_start(ap, fmt);
	emit(d, pos, d->werror ? "error" : "warning", suffix, fmt, ap);
	va_end(ap);
	if (d->werror)
		d->nerrors++;
	else
		d->nwarnings++;
}

void
diag_note(struct diag *d, struct srcpos pos, const char *fmt, ...)
{
	va_list ap;

	if (d->disabled & DIAG_MUTED)
		return;
	va_start(ap, fmt);
	emit(d, pos, "note", NULL, fmt, ap);
	va_end(ap);
}
