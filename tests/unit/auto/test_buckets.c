/*
 * Unit tests for buckets and autoplan_preserve(): the --preserve rule, its
 * calendar, and years of simulated hourly runs with missed runs and clock
 * jumps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "autoplan.h"
#include "buckets.h"

#define T_2026_12_01_0700 1796108400 /* 2026-12-01T07:00:00Z, a Tuesday */
#define HOUR		  3600
#define DAY		  86400

/* ---- the rule's syntax ---- */

static void test_rule_takes_hours_days_weeks_months_years_once_each(void **state)
{
	struct buckets b = {.min = 5};
	(void)state;
	assert_int_equal(buckets_parse("24h,7d,4w,12m", &b), 0);
	assert_int_equal(b.count[BUCKET_HOUR], 24);
	assert_int_equal(b.count[BUCKET_DAY], 7);
	assert_int_equal(b.count[BUCKET_WEEK], 4);
	assert_int_equal(b.count[BUCKET_MONTH], 12);
	assert_int_equal(b.count[BUCKET_YEAR], 0);
	assert_int_equal(b.min, 5); /* left as it was */
	assert_int_equal(buckets_max(&b), 24 + 7 + 4 + 12 + 5);
	assert_int_equal(buckets_parse("3y", &b), 0);
	assert_int_equal(b.count[BUCKET_YEAR], 3);
	assert_int_equal(b.count[BUCKET_HOUR], 0);
	assert_int_equal(buckets_parse("1m,100000h", &b), 0);
}

static void test_rule_with_bad_syntax_is_einval(void **state)
{
	static const char *const bad[] = {
		"",	"24",	   "h",	      "0h",	 "24x",
		"24h,", ",24h",	   "24h,,7d", "24h,24h", "-1h",
		"24H",	"100001h", "24h 7d",  "1d,2d",	 "99999999999999999999h"};
	struct buckets b = {0};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(buckets_parse(bad[i], &b), -EINVAL);
	assert_int_equal(buckets_parse(NULL, &b), -EINVAL);
}

/* ---- the calendar ---- */

static void test_periods_are_utc_hours_days_iso_weeks_months_years(void **state)
{
	char buf[32];
	time_t t = T_2026_12_01_0700;
	(void)state;
	assert_int_equal(buckets_label(BUCKET_HOUR, t, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-12-01T07");
	assert_int_equal(buckets_label(BUCKET_WEEK, t, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-W49");
	/* Monday 2026-11-30 00:00 starts the week; Sunday 23:59:59 before it ends the last. */
	time_t monday = t - DAY - 7 * HOUR;
	assert_true(buckets_period(BUCKET_WEEK, monday) == buckets_period(BUCKET_WEEK, t));
	assert_true(buckets_period(BUCKET_WEEK, monday - 1) == buckets_period(BUCKET_WEEK, t) - 1);
	/* 2027-01-01 (a Friday) is in ISO week 2026-W53. */
	time_t ny = 1798761600; /* 2027-01-01T00:00:00Z */
	assert_int_equal(buckets_label(BUCKET_WEEK, ny, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-W53");
	assert_true(buckets_period(BUCKET_MONTH, ny) == buckets_period(BUCKET_MONTH, ny - 1) + 1);
	assert_true(buckets_period(BUCKET_YEAR, ny) == buckets_period(BUCKET_YEAR, ny - 1) + 1);
	assert_true(buckets_period(BUCKET_DAY, ny) == buckets_period(BUCKET_DAY, ny - 1) + 1);
	assert_true(buckets_period(BUCKET_HOUR, -1) == -1);	  /* before 1970 too */
	assert_true(buckets_period(BUCKET_WEEK, -DAY * 4) == -1); /* Sunday 1969-12-28 */
	assert_true(buckets_period(BUCKET_WEEK, -DAY * 3) == 0);  /* Monday 1969-12-29 */
}

/* ---- which snapshots it keeps ---- */

static void test_each_kind_keeps_the_newest_of_its_newest_periods(void **state)
{
	/* Hourly for 3 days, newest first: 2h,2d keeps the 2 newest hours, and the
	 * newest of yesterday (the newest of today is the newest hour). */
	time_t t0 = T_2026_12_01_0700, times[72];
	unsigned why[72];
	struct buckets b = {.count = {[BUCKET_HOUR] = 2, [BUCKET_DAY] = 2}, .min = 0};
	(void)state;
	for (size_t i = 0; i < 72; i++)
		times[i] = t0 - (time_t)i * HOUR;
	buckets_mark(times, 72, &b, why);
	assert_int_equal(why[0], BUCKET_BIT(BUCKET_HOUR) | BUCKET_BIT(BUCKET_DAY));
	assert_int_equal(why[1], BUCKET_BIT(BUCKET_HOUR));
	assert_int_equal(why[8], BUCKET_BIT(BUCKET_DAY)); /* 2026-11-30T23 */
	for (size_t i = 0; i < 72; i++)
		if (i != 0 && i != 1 && i != 8)
			assert_int_equal(why[i], 0);
	b.min = 3;
	buckets_mark(times, 72, &b, why);
	assert_int_equal(why[2], BUCKET_MIN_BIT);
	assert_int_equal(why[0] & BUCKET_MIN_BIT, BUCKET_MIN_BIT);
	assert_int_equal(why[3], 0);
}

static void test_missed_periods_are_filled_by_older_ones(void **state)
{
	/* Three snapshots a week apart: 7d keeps all three, not only the last 7 days'. */
	time_t t0 = T_2026_12_01_0700, times[3] = {t0, t0 - 7 * DAY, t0 - 14 * DAY};
	unsigned why[3];
	struct buckets b = {.count = {[BUCKET_DAY] = 7}, .min = 0};
	(void)state;
	buckets_mark(times, 3, &b, why);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(why[i], BUCKET_BIT(BUCKET_DAY));
}

/* ---- years of hourly runs ---- */

struct sim_snap {
	char name[64];
	time_t created; /* the API's clock */
};

static unsigned long long lcg = 17;
static unsigned rnd(unsigned n)
{
	lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned)((lcg >> 33) % n);
}

/* The independent check: for each kind, the first N distinct periods in the
 * plan's order (the new one first, then by createdAt, newest first) each have
 * their first snapshot kept for that kind, and nothing else is kept for it. */
static void check_plan(const struct autoplan_snap *s, size_t n, const struct buckets *b)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++)
		kept += s[i].verdict == AUTOPLAN_KEEP;
	assert_true(kept <= buckets_max(b));
	for (int k = 0; k < BUCKET_KINDS; k++) {
		long long seen[64];
		size_t n_seen = 0, with_bit = 0;
		for (size_t i = n; i-- > 0;) {
			time_t t = s[i].created;
			long long p = buckets_period((enum bucket_kind)k, t);
			bool first = true;
			for (size_t j = 0; j < n_seen; j++)
				first = first && seen[j] != p;
			bool should = first && n_seen < b->count[k];
			if (first && n_seen < 64)
				seen[n_seen++] = p;
			assert_int_equal(!!(s[i].why & BUCKET_BIT(k)), should);
			with_bit += should;
		}
		assert_true(with_bit <= b->count[k]);
	}
	for (size_t i = 0; i < n; i++)
		assert_int_equal(s[i].verdict == AUTOPLAN_KEEP, s[i].why != 0);
}

/* One run at real time t with the local clock at local: create, plan, prune. */
static size_t sim_run(struct sim_snap *have, size_t n, time_t t, time_t local,
		      const struct buckets *b)
{
	struct autoplan_snap s[128];
	char new_name[64];
	bool make = true;
	assert_int_equal(autoplan_name(new_name, sizeof(new_name), "auto", "gfs", local), 0);
	for (size_t i = 0; i < n; i++) {
		s[i] = (struct autoplan_snap){
			.entry = have[i].name, .name = have[i].name, .created = have[i].created};
		make = make && strcmp(have[i].name, new_name) != 0;
	}
	size_t m = n;
	if (make)
		s[m++] =
			(struct autoplan_snap){.entry = new_name, .name = new_name, .is_new = true};
	assert_true(autoplan_preserve(s, m, "auto", "gfs", b) >= 1);
	check_plan(s, m, b);
	struct sim_snap next[128];
	size_t left = 0;
	for (size_t i = 0; i < m; i++) {
		if (s[i].verdict != AUTOPLAN_KEEP)
			continue;
		snprintf(next[left].name, sizeof(next[left].name), "%s", s[i].name);
		next[left++].created = s[i].is_new ? t : s[i].created;
	}
	memcpy(have, next, left * sizeof(*next));
	return left;
}

static void test_years_of_hourly_runs_with_missed_runs_and_clock_jumps(void **state)
{
	struct buckets b = {0};
	struct sim_snap have[128];
	size_t n = 0, runs = 0;
	time_t t = 1735689600, skew = 0; /* 2025-01-01T00:00:00Z */
	(void)state;
	assert_int_equal(buckets_parse("24h,7d,4w,12m,2y", &b), 0);
	b.min = 2;
	for (; t < 1735689600 + 3 * 365 * DAY; t += HOUR) {
		unsigned dice = rnd(1000);
		if (dice < 50)
			continue; /* a missed run */
		if (dice < 52)
			t += (time_t)rnd(10 * 24) * HOUR; /* the machine was off */
		if (dice == 52 || dice == 53)
			skew = -(time_t)rnd(5) * HOUR; /* the clock set back... */
		if (dice == 54)
			skew = (time_t)rnd(72) * HOUR; /* ...or ahead */
		if (dice == 55)
			skew = 0;
		n = sim_run(have, n, t, t + skew + (time_t)rnd(3) * 60, &b);
		assert_true(n <= buckets_max(&b));
		runs++;
	}
	assert_true(runs > 20000);
	assert_true(n >= 24 + 7 + 4 + 12 - 4); /* steady: the buckets overlap a little */
}

static void test_steady_hourly_runs_keep_the_sum_of_the_buckets_less_overlaps(void **state)
{
	struct buckets b = {.min = 1};
	struct sim_snap have[128];
	size_t n = 0;
	(void)state;
	assert_int_equal(buckets_parse("24h,7d,4w,12m", &b), 0);
	for (time_t t = 1735689600; t < 1735689600 + 400 * DAY; t += HOUR)
		n = sim_run(have, n, t, t, &b);
	/*
	 * The last run is Thursday 2026-02-05 23:00: its 24 hours are that day; 6
	 * more days (01-30 to 02-04); this week is in them, and so is the last
	 * one's Sunday: 2 more weeks (01-25, 01-18); January's newest (01-31) is a
	 * day kept: 10 more months (2025-03 to 2025-12).
	 */
	assert_int_equal(n, 24 + 6 + 2 + 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_takes_hours_days_weeks_months_years_once_each),
		cmocka_unit_test(test_rule_with_bad_syntax_is_einval),
		cmocka_unit_test(test_periods_are_utc_hours_days_iso_weeks_months_years),
		cmocka_unit_test(test_each_kind_keeps_the_newest_of_its_newest_periods),
		cmocka_unit_test(test_missed_periods_are_filled_by_older_ones),
		cmocka_unit_test(test_years_of_hourly_runs_with_missed_runs_and_clock_jumps),
		cmocka_unit_test(test_steady_hourly_runs_keep_the_sum_of_the_buckets_less_overlaps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
