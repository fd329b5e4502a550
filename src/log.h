/*
 * log: the one place ovhsnapfs writes diagnostics.
 *
 * Owns the log level and the sink (stderr in the foreground, syslog once
 * daemonized). Callers pass already-masked text: secrets never reach here.
 * Thread-safe: one write(2) or syslog(3) per line.
 */
#ifndef OVHSNAPFS_LOG_H
#define OVHSNAPFS_LOG_H

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Parse "error", "warn", "info" or "debug"; -EINVAL otherwise. */
int log_level_parse(const char *text, enum log_level *out);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Route further lines to syslog (after daemonizing). */
void log_use_syslog(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
