/*
 * autocheck: the judgement of ovhsnapfs-auto --check, a monitoring plugin.
 *
 * Owns the ages it reads (90m, 26h, 2d, 1w, or seconds), the states and
 * their order, and which state one share is in given the age of its newest
 * snapshot and its free slots. Pure functions: no I/O, no clock,
 * thread-safe.
 */
#ifndef OVHSNAPFS_AUTOCHECK_H
#define OVHSNAPFS_AUTOCHECK_H

#include <stdbool.h>
#include <stddef.h>

/* The monitoring-plugin states; the value is the exit status. */
enum autocheck_state {
	AUTOCHECK_OK = 0,
	AUTOCHECK_WARNING = 1,
	AUTOCHECK_CRITICAL = 2,
	AUTOCHECK_UNKNOWN = 3,
};

struct autocheck_limits {
	long long warn, crit; /* seconds: older than this is WARNING, CRITICAL */
	long min_free;	      /* fewer free slots than this is WARNING; 0: not checked */
};

/* One share as seen: whether it has a snapshot that counts, its age, its slots. */
struct autocheck_share {
	bool unreadable; /* its snapshots could not be listed */
	bool found;	 /* it has a snapshot that counts */
	long long age;	 /* seconds since the newest was created (0 if in the future) */
	long free;	 /* snapshot slots left of the API's limit */
};

/* "90m", "26h", "2d", "1w", "45s" or "3600" into seconds (> 0); 0 or -EINVAL. */
int autocheck_parse_age(const char *text, long long *seconds);
/* "2d3h", "1h0m", "5m", "42s": the largest two units. */
void autocheck_format_age(long long seconds, char *buf, size_t len);
enum autocheck_state autocheck_judge(const struct autocheck_share *share,
				     const struct autocheck_limits *limits);
/* Whether state a is worse than b: OK < WARNING < UNKNOWN < CRITICAL. */
bool autocheck_worse(enum autocheck_state a, enum autocheck_state b);
/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *autocheck_state_name(enum autocheck_state state);

#endif
