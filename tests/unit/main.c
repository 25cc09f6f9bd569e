/*
 * Runs every unit test function (one per tests/unit/<dir>/<file>.c, listed
 * in build/gen/unit_list.h by the Makefile) as a TAP subtest.  With
 * arguments, runs only the tests whose names contain one of them.
 */
#include <stdio.h>
#include <string.h>

#include "tests/tap.h"

#define UNIT(fn) void fn(void);
#include "unit_list.h"
#undef UNIT

static const struct {
	const char *name;
	void (*fn)(void);
} units[] = {
#define UNIT(fn) { #fn, fn },
#include "unit_list.h"
#undef UNIT
};

int
main(int argc, char **argv)
{
	size_t i;
	int j;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		int run = argc < 2;
		for (j = 1; j < argc; j++)
			if (strstr(units[i].name, argv[j]) != NULL)
				run = 1;
		if (run)
			subtest(units[i].name, units[i].fn);
	}
	return tap_done();
}
