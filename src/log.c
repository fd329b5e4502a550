/* log: stderr or syslog, filtered by level. */

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

/* Process-wide by nature, like the stderr it writes to. */
static _Atomic int current_level = LOG_LVL_WARN;
static _Atomic int use_syslog;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int log_level_parse(const char *text, enum log_level *out)
{
	for (int i = 0; i <= LOG_LVL_DEBUG; i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(text, "warning") == 0) {
		*out = LOG_LVL_WARN;
		return 0;
	}
	return -EINVAL;
}

void log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level log_get_level(void)
{
	return (enum log_level)current_level;
}

void log_use_syslog(void)
{
	openlog("ovhsnapfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = 1;
}

static int syslog_priority(enum log_level level)
{
	static const int map[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	return map[level];
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if ((int)level > current_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (use_syslog) {
		syslog(syslog_priority(level), "%s", line);
		return;
	}
	/* One buffered write keeps concurrent lines whole. */
	char out[2100];
	int n = snprintf(out, sizeof(out), "ovhsnapfs: %s: %s\n", level_names[level], line);
	if (n > (int)sizeof(out))
		n = sizeof(out);
	if (write(STDERR_FILENO, out, (size_t)n) < 0)
		return;
}
