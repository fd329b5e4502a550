/* log: stderr or syslog, filtered by level. */

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "utf8.h"

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

bool log_fd_is_journal(int fd)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	if (!env || sscanf(env, "%llu:%llu", &dev, &ino) != 2 || fstat(fd, &st) != 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_use_syslog(void)
{
	openlog("ovhsnapfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = 1;
}

size_t log_escape(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)in;
	size_t w = 0, left = strlen(in);

	if (outlen == 0)
		return 0;
	while (left > 0) {
		uint32_t cp;
		size_t n = utf8_sequence(p, left, &cp);
		/* Raw C0, DEL, C1 (U+0080-U+009F) and invalid bytes are shown as \xNN. */
		bool plain = n > 0 && !utf8_is_control(cp);
		size_t take = n ? n : 1;
		size_t need = plain ? take : 4 * take;
		if (w + need >= outlen)
			break;
		for (size_t i = 0; i < take; i++, p++, left--) {
			if (plain) {
				out[w++] = (char)*p;
			} else {
				out[w++] = '\\';
				out[w++] = 'x';
				out[w++] = hex[*p >> 4];
				out[w++] = hex[*p & 15];
			}
		}
	}
	out[w] = '\0';
	return w;
}

static int syslog_priority(enum log_level level)
{
	static const int map[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	return map[level];
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char raw[2048], line[4096];
	va_list ap;

	if ((int)level > current_level)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/* Names and messages from the API reach here: no byte may drive a terminal. */
	log_escape(raw, line, sizeof(line));
	if (use_syslog) {
		syslog(syslog_priority(level), "%s", line);
		return;
	}
	/* One buffered write keeps concurrent lines whole. */
	char out[4200];
	int n = snprintf(out, sizeof(out), "ovhsnapfs: %s: %s\n", level_names[level], line);
	if (n > (int)sizeof(out))
		n = sizeof(out);
	if (write(STDERR_FILENO, out, (size_t)n) < 0)
		return;
}
