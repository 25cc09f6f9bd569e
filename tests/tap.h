/*
 * Minimal TAP producer for the unit tests.  ok()/is_*() print one line each;
 * subtest() groups a test function under a comment line; tap_done() prints
 * the plan and the closing "# N passed, N failed" line that tests/run.sh
 * sums up, and returns the exit status.
 */
#ifndef TAP_H
#define TAP_H

#include <stddef.h>

int tap_ok_at(const char *file, int line, int cond, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int tap_is_int_at(const char *file, int line, long long got, long long want,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int tap_is_str_at(const char *file, int line, const char *got,
    const char *want, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
int tap_is_mem_at(const char *file, int line, const void *got, size_t got_len,
    const void *want, size_t want_len, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
void tap_skip(const char *why, ...) __attribute__((format(printf, 1, 2)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void subtest(const char *name, void (*fn)(void));
int tap_failed(void);
int tap_done(void);

#define ok(cond, ...) tap_ok_at(__FILE__, __LINE__, !!(cond), __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int_at(__FILE__, __LINE__, (long long)(got), (long long)(want), __VA_ARGS__)
#define is_str(got, want, ...) \
	tap_is_str_at(__FILE__, __LINE__, (got), (want), __VA_ARGS__)
#define is_mem(got, glen, want, wlen, ...) \
	tap_is_mem_at(__FILE__, __LINE__, (got), (glen), (want), (wlen), __VA_ARGS__)

/*
 * Guard-page buffers (STYLE rule 34): copies <n> bytes so that the last one
 * is immediately followed by an unmapped page; an over-read faults even
 * without ASan.  The buffer stays valid until the next guard_copy() call.
 */
const char *guard_copy(const void *p, size_t n);

#endif
