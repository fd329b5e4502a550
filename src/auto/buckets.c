/* buckets: the --preserve rule, its calendar, and which snapshots it keeps. */
#include "buckets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char units[BUCKET_KINDS] = {'h', 'd', 'w', 'm', 'y'};

int buckets_parse(const char *spec, struct buckets *rule)
{
	unsigned count[BUCKET_KINDS] = {0};
	const char *p = spec;

	if (!spec || !*spec)
		return -EINVAL;
	for (;;) {
		unsigned long v = 0;
		const char *start = p;
		while (*p >= '0' && *p <= '9' && v <= BUCKET_MAX_COUNT)
			v = v * 10 + (unsigned long)(*p++ - '0');
		const char *unit = *p ? memchr(units, *p, sizeof(units)) : NULL;
		if (p == start || !unit || v < 1 || v > BUCKET_MAX_COUNT || count[unit - units])
			return -EINVAL;
		count[unit - units] = (unsigned)v;
		p++;
		if (!*p)
			break;
		if (*p++ != ',')
			return -EINVAL;
	}
	memcpy(rule->count, count, sizeof(count));
	return 0;
}

size_t buckets_max(const struct buckets *rule)
{
	size_t sum = rule->min;
	for (int k = 0; k < BUCKET_KINDS; k++)
		sum += rule->count[k];
	return sum;
}

/* a / b rounded down, for a negative a too. */
static long long floor_div(long long a, long long b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

long long buckets_period(enum bucket_kind kind, time_t t)
{
	struct tm tm;
	long long day = floor_div(t, 86400);

	switch (kind) {
	case BUCKET_HOUR:
		return floor_div(t, 3600);
	case BUCKET_DAY:
		return day;
	case BUCKET_WEEK:
		return floor_div(day + 3, 7); /* 1970-01-01 was a Thursday: weeks start on Monday */
	case BUCKET_MONTH:
	case BUCKET_YEAR:
		if (!gmtime_r(&t, &tm))
			return 0;
		return kind == BUCKET_YEAR ? tm.tm_year : tm.tm_year * 12LL + tm.tm_mon;
	default:
		return 0;
	}
}

int buckets_label(enum bucket_kind kind, time_t t, char *buf, size_t len)
{
	struct tm tm;
	size_t n = 0;

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	switch (kind) {
	case BUCKET_HOUR:
		n = strftime(buf, len, "%Y-%m-%dT%H", &tm);
		break;
	case BUCKET_DAY:
		n = strftime(buf, len, "%Y-%m-%d", &tm);
		break;
	case BUCKET_WEEK:
		n = strftime(buf, len, "%G-W%V", &tm);
		break;
	case BUCKET_MONTH:
		n = strftime(buf, len, "%Y-%m", &tm);
		break;
	case BUCKET_YEAR:
		n = strftime(buf, len, "%Y", &tm);
		break;
	default:
		break;
	}
	return n > 0 ? 0 : -EINVAL;
}

const char *buckets_kind_name(enum bucket_kind kind)
{
	static const char *const names[BUCKET_KINDS] = {"hour", "day", "week", "month", "year"};
	return kind >= 0 && kind < BUCKET_KINDS ? names[kind] : "?";
}

/* Whether a snapshot before i (a newer one) already keeps period of kind. */
static bool taken(const time_t *times, const unsigned *why, size_t i, enum bucket_kind kind,
		  long long period)
{
	for (size_t j = 0; j < i; j++)
		if ((why[j] & BUCKET_BIT(kind)) && buckets_period(kind, times[j]) == period)
			return true;
	return false;
}

void buckets_mark(const time_t *times, size_t n, const struct buckets *rule, unsigned *why)
{
	unsigned kept[BUCKET_KINDS] = {0};

	for (size_t i = 0; i < n; i++) {
		why[i] = i < rule->min ? BUCKET_MIN_BIT : 0;
		for (int k = 0; k < BUCKET_KINDS; k++) {
			long long period = buckets_period((enum bucket_kind)k, times[i]);
			if (kept[k] >= rule->count[k] ||
			    taken(times, why, i, (enum bucket_kind)k, period))
				continue;
			why[i] |= BUCKET_BIT(k);
			kept[k]++;
		}
	}
}
