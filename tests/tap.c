/* TAP output and the pass/fail counters for the unit test binary. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"

static int npassed, nfailed, nskipped, ntests;

static int
report(const char *file, int line, int cond, const char *fmt, va_list ap)
{
	ntests++;
	printf("%s %d - ", cond ? "ok" : "not ok", ntests);
	vprintf(fmt, ap);
	printf("\n");
	if (cond)
		npassed++;
	else {
		nfailed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

int
tap_ok_at(const char *file, int line, int cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(file, line, cond, fmt, ap);
	va_end(ap);
	return cond;
}

int
tap_is_int_at(const char *file, int line, long long got, long long want,
    const char *fmt, ...)
{
	va_list ap;
	int cond = got == want;

	va_start(ap, fmt);
	report(file, line, cond, fmt, ap);
	va_end(ap);
	if (!cond)
		printf("#          got: %lld\n#     expected: %lld\n", got, want);
	return cond;
}

static void
print_quoted(const char *label, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	printf("#   %8s: ", label);
	if (p == NULL) {
		printf("(null)\n");
		return;
	}
	putchar('"');
	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			printf("\\n\"\n#             \"");
		else if (s[i] < 0x20 || s[i] >= 0x7f || s[i] == '"' ||
		    s[i] == '\\')
			printf("\\x%02x", s[i]);
		else
			putchar(s[i]);
	}
	printf("\"\n");
}

int
tap_is_mem_at(const char *file, int line, const void *got, size_t got_len,
    const void *want, size_t want_len, const char *fmt, ...)
{
	va_list ap;
	int cond;

	if (got == NULL || want == NULL)
		cond = got == want;
	else
		cond = got_len == want_len && memcmp(got, want, got_len) == 0;
	va_start(ap, fmt);
	report(file, line, cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		print_quoted("got", got, got_len);
		print_quoted("expected", want, want_len);
	}
	return cond;
}

int
tap_is_str_at(const char *file, int line, const char *got, const char *want,
    const char *fmt, ...)
{
	va_list ap;
	int cond;

	if (got == NULL || want == NULL)
		cond = got == want;
	else
		cond = strcmp(got, want) == 0;
	va_start(ap, fmt);
	report(file, line, cond, fmt, ap);
	va_end(ap);
	if (!cond) {
		print_quoted("got", got, got ? strlen(got) : 0);
		print_quoted("expected", want, want ? strlen(want) : 0);
	}
	return cond;
}

void
tap_skip(const char *why, ...)
{
	va_list ap;

	ntests++;
	nskipped++;
	printf("ok %d # SKIP ", ntests);
	va_start(ap, why);
	vprintf(why, ap);
	va_end(ap);
	printf("\n");
}

void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void
subtest(const char *name, void (*fn)(void))
{
	int before = nfailed;

	printf("# subtest: %s\n", name);
	fn();
	printf("# end %s: %s\n", name, nfailed == before ? "ok" : "FAILED");
}

int
tap_failed(void)
{
	return nfailed;
}

int
tap_done(void)
{
	printf("1..%d\n", ntests);
	printf("# %d passed, %d failed", npassed, nfailed);
	if (nskipped)
		printf(", %d skipped", nskipped);
	printf("\n");
	return nfailed ? 1 : 0;
}

const char *
guard_copy(const void *p, size_t n)
{
	static unsigned char *region;
	static size_t region_len;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (n + page - 1) / page * page;

	if (data == 0)
		data = page;
	if (region != NULL)
		munmap(region, region_len);
	region_len = data + page;
	region = mmap(NULL, region_len, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		perror("guard_copy: mmap");
		exit(1);
	}
	if (mprotect(region + data, page, PROT_NONE) == -1) {
		perror("guard_copy: mprotect");
		exit(1);
	}
	memcpy(region + data - n, p, n);
	return (const char *)region + data - n;
}
