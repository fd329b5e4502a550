/*
 * metrics: -o metrics_file=PATH, the status counters for node_exporter's
 * textfile collector.
 *
 * Owns one thread that rewrites PATH every METRICS_INTERVAL seconds in the
 * Prometheus text format (status.h), atomically: a temporary file in the
 * same directory, then rename(2), so a reader never sees half a file.
 * Written once when opened (a path that cannot be written fails the start),
 * then by the thread, and a last time when stopped. Thread-safe.
 */
#ifndef OVHSNAPFS_METRICS_H
#define OVHSNAPFS_METRICS_H

#include "status.h"

#define METRICS_INTERVAL 15.0

struct metrics;

/*
 * Make path absolute (the daemon changes directory to /) and write it once.
 * 0, or -errno with nothing kept.
 */
int metrics_open(struct status *status, const char *path, struct metrics **out);
/* The path written (absolute). */
const char *metrics_path(const struct metrics *metrics);
/* Start the thread; call after the daemon forks. 0 or -errno. */
int metrics_start(struct metrics *metrics);
/* Stop the thread, write a last time, free. NULL is fine. */
void metrics_free(struct metrics *metrics);

#endif
