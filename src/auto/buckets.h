/*
 * buckets: which snapshots a --preserve rule (24h,7d,4w,12m,1y) keeps.
 *
 * Owns the rule's syntax and its calendar: UTC hours and days, ISO weeks
 * (Monday to Sunday), UTC months and years. A rule keeps, for each kind, the
 * newest snapshot of each of the N most recent periods that hold one; a
 * snapshot counts for every period it falls in. Pure functions: no I/O, no
 * clock, thread-safe.
 */
#ifndef OVHSNAPFS_BUCKETS_H
#define OVHSNAPFS_BUCKETS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum bucket_kind { BUCKET_HOUR, BUCKET_DAY, BUCKET_WEEK, BUCKET_MONTH, BUCKET_YEAR, BUCKET_KINDS };

#define BUCKET_BIT(kind) (1u << (kind))
#define BUCKET_MIN_BIT	 (1u << BUCKET_KINDS) /* one of the newest rule->min */
#define BUCKET_MAX_COUNT 100000u

struct buckets {
	unsigned count[BUCKET_KINDS]; /* periods of each kind kept; 0: that kind keeps none */
	size_t min;		      /* the newest ones kept whatever their periods */
};

/*
 * "24h,7d,4w,12m,1y" (any of them, each at most once, N from 1 to
 * BUCKET_MAX_COUNT) into rule->count; 0 or -EINVAL. rule->min is left as is.
 */
int buckets_parse(const char *spec, struct buckets *rule);
/* The most a rule ever keeps: the sum of its counts and its min. */
size_t buckets_max(const struct buckets *rule);
/* The period of kind that holds t, as a number that grows with time. */
long long buckets_period(enum bucket_kind kind, time_t t);
/* Its name: "2026-12-05T08", "2026-12-05", "2026-W49", "2026-12", "2026"; 0 or -EINVAL. */
int buckets_label(enum bucket_kind kind, time_t t, char *buf, size_t len);
/* "hour", "day", "week", "month", "year". */
const char *buckets_kind_name(enum bucket_kind kind);
/*
 * times[0..n) newest first. why[i] gets the BUCKET_BIT()s of the periods
 * whose newest kept snapshot i is, and BUCKET_MIN_BIT when it is one of the
 * newest rule->min; 0 when the rule does not keep it.
 */
void buckets_mark(const time_t *times, size_t n, const struct buckets *rule, unsigned *why);

#endif
