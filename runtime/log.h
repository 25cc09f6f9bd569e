/*
 * The operational log of boundary (STYLE rule 9b): log_warn/log_info/
 * log_debug lines to one fd; fatal()/fatalx() only before the loop runs.
 * Audit records are not log lines: they go through audit/.
 */
#ifndef LOG_H
#define LOG_H

enum log_level {
	LOG_ERROR,		/* failures */
	LOG_WARN,		/* denied requests, dropped clients (default) */
	LOG_INFO,		/* allowed requests, start-up */
	LOG_DEBUG		/* state transitions */
};

/* Sets the threshold and the fd (stderr or a --log-dir file). */
void log_init(enum log_level level, int fd);
enum log_level log_level(void);
/* Parses error|warn|info|debug (any case); -1 if none. */
int log_level_parse(const char *s);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print and exit(125): set-up errors before the loop runs. fatal appends
 * strerror(errno). */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#endif
