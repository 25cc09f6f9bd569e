/*
 * struct view: a borrowed (pointer, length) slice of someone else's bytes.
 * Views never own memory and are never NUL-terminated by us (STYLE rule 7).
 */
#ifndef VIEW_H
#define VIEW_H

#include <stddef.h>
#include <string.h>

struct view {
	const char *p;
	size_t n;
};

#define VIEW_LIT(s) ((struct view){ (s), sizeof(s) - 1 })

static inline struct view
view_make(const char *p, size_t n)
{
	struct view v = { p, n };
	return v;
}

static inline struct view
view_cstr(const char *s)
{
	return view_make(s, strlen(s));
}

static inline int
view_eq(struct view a, struct view b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline int
view_eq_cstr(struct view a, const char *s)
{
	return view_eq(a, view_cstr(s));
}

static inline int
view_has_prefix(struct view a, const char *s)
{
	size_t n = strlen(s);
	return a.n >= n && memcmp(a.p, s, n) == 0;
}

static inline int
view_case_eq(struct view a, struct view b)
{
	size_t i;

	if (a.n != b.n)
		return 0;
	for (i = 0; i < a.n; i++) {
		unsigned char x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return 1;
}

#endif
