/*
 * log: the one place ovhsnapfs writes diagnostics.
 *
 * Owns the log level and the sink (stderr in the foreground, syslog once
 * daemonized). Callers pass already-masked text: secrets never reach here.
 * Every line is escaped at the sink (log_escape): text from the API may hold
 * any byte.
 * Thread-safe: one write(2) or syslog(3) per line.
 */
#ifndef OVHSNAPFS_LOG_H
#define OVHSNAPFS_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Parse "error", "warn", "info" or "debug"; -EINVAL otherwise. */
int log_level_parse(const char *text, enum log_level *out);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Route further lines to syslog (after daemonizing). */
void log_use_syslog(void);

/*
 * Copy in to out (outlen bytes, NUL-terminated, cut at a whole character),
 * showing every control byte (C0, DEL, C1 U+0080-U+009F), every byte that
 * is not valid UTF-8 as \xNN. log_msg applies it to
 * every line; check.c to what it prints. Returns the length written.
 */
size_t log_escape(const char *in, char *out, size_t outlen);

/*
 * Whether fd is systemd's journal stream (JOURNAL_STREAM, "DEVICE:INODE", names its file):
 * a line written there may then begin with "<N>", its syslog priority (sd-daemon(3)).
 */
bool log_fd_is_journal(int fd);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
