/* Operational log lines: "boundary: LEVEL: message" on one fd. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"

static enum log_level threshold = LOG_WARN;
static int log_fd = 2;

static const char *const names[] = { "error", "warn", "info", "debug" };

void
log_init(enum log_level level, int fd)
{
	threshold = level;
	log_fd = fd;
}

enum log_level
log_level(void)
{
	return threshold;
}

int
log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strcasecmp(s, names[i]) == 0)
			return i;
	return -1;
}

static void
vlog(enum log_level lvl, const char *fmt, va_list ap, int with_errno)
{
	char buf[2048];
	int n, saved = errno;

	if (lvl > threshold)
		return;
	n = snprintf(buf, sizeof(buf), "boundary: %s: ", names[lvl]);
	if (n < 0)
		return;
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	if (with_errno)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s",
		    strerror(saved));
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* one write per line; a full pipe loses the line rather than block */
	if (write(log_fd, buf, (size_t)n) == -1)
		errno = saved;
}

#define DEFINE_LOG(fn, lvl) \
	void fn(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		vlog(lvl, fmt, ap, 0); \
		va_end(ap); \
	}

DEFINE_LOG(log_error, LOG_ERROR)
DEFINE_LOG(log_warn, LOG_WARN)
DEFINE_LOG(log_info, LOG_INFO)
DEFINE_LOG(log_debug, LOG_DEBUG)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	threshold = threshold < LOG_ERROR ? LOG_ERROR : threshold;
	va_start(ap, fmt);
	vlog(LOG_ERROR, fmt, ap, 1);
	va_end(ap);
	exit(125);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, fmt, ap, 0);
	va_end(ap);
	exit(125);
}
