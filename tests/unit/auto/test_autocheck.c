/* Unit tests for autocheck: ages, states, and the verdict on one share. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "autocheck.h"

static void test_ages_take_seconds_minutes_hours_days_weeks(void **state)
{
	long long v;
	(void)state;
	assert_int_equal(autocheck_parse_age("90m", &v), 0);
	assert_int_equal(v, 5400);
	assert_int_equal(autocheck_parse_age("26h", &v), 0);
	assert_int_equal(v, 93600);
	assert_int_equal(autocheck_parse_age("2d", &v), 0);
	assert_int_equal(v, 172800);
	assert_int_equal(autocheck_parse_age("1w", &v), 0);
	assert_int_equal(v, 604800);
	assert_int_equal(autocheck_parse_age("3600", &v), 0);
	assert_int_equal(v, 3600);
	assert_int_equal(autocheck_parse_age("45s", &v), 0);
	assert_int_equal(v, 45);
}

static void test_bad_ages_are_einval(void **state)
{
	static const char *const bad[] = {"",	       "0",  "0h",  "h",  "1x",
					  "1hh",       "-1", "1 h", "1H", "99999999999999999999",
					  "100000000d"};
	long long v;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(autocheck_parse_age(bad[i], &v), -EINVAL);
	assert_int_equal(autocheck_parse_age(NULL, &v), -EINVAL);
}

static void test_ages_print_with_their_two_largest_units(void **state)
{
	char buf[32];
	(void)state;
	autocheck_format_age(42, buf, sizeof(buf));
	assert_string_equal(buf, "42s");
	autocheck_format_age(300, buf, sizeof(buf));
	assert_string_equal(buf, "5m");
	autocheck_format_age(3600, buf, sizeof(buf));
	assert_string_equal(buf, "1h0m");
	autocheck_format_age(2 * 86400 + 3 * 3600 + 59, buf, sizeof(buf));
	assert_string_equal(buf, "2d3h");
	autocheck_format_age(-5, buf, sizeof(buf));
	assert_string_equal(buf, "0s");
}

static void test_a_share_is_judged_by_age_then_free_slots(void **state)
{
	struct autocheck_limits l = {.warn = 5400, .crit = 93600, .min_free = 5};
	struct autocheck_share s = {.found = true, .age = 5400, .free = 5};
	(void)state;
	assert_int_equal(autocheck_judge(&s, &l), AUTOCHECK_OK); /* at the limit: not past it */
	s.age = 5401;
	assert_int_equal(autocheck_judge(&s, &l), AUTOCHECK_WARNING);
	s.age = 93601;
	assert_int_equal(autocheck_judge(&s, &l), AUTOCHECK_CRITICAL);
	s.age = 60;
	s.free = 4;
	assert_int_equal(autocheck_judge(&s, &l), AUTOCHECK_WARNING);
	l.min_free = 0;
	s.free = 0;
	assert_int_equal(autocheck_judge(&s, &l), AUTOCHECK_OK);
	s.found = false;
	assert_int_equal(autocheck_judge(&s, &l), AUTOCHECK_CRITICAL);
	s.unreadable = true;
	assert_int_equal(autocheck_judge(&s, &l), AUTOCHECK_UNKNOWN);
}

static void test_critical_is_worse_than_unknown_worse_than_warning(void **state)
{
	(void)state;
	assert_true(autocheck_worse(AUTOCHECK_CRITICAL, AUTOCHECK_UNKNOWN));
	assert_true(autocheck_worse(AUTOCHECK_UNKNOWN, AUTOCHECK_WARNING));
	assert_true(autocheck_worse(AUTOCHECK_WARNING, AUTOCHECK_OK));
	assert_false(autocheck_worse(AUTOCHECK_OK, AUTOCHECK_OK));
	assert_string_equal(autocheck_state_name(AUTOCHECK_CRITICAL), "CRITICAL");
	assert_string_equal(autocheck_state_name(AUTOCHECK_UNKNOWN), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ages_take_seconds_minutes_hours_days_weeks),
		cmocka_unit_test(test_bad_ages_are_einval),
		cmocka_unit_test(test_ages_print_with_their_two_largest_units),
		cmocka_unit_test(test_a_share_is_judged_by_age_then_free_slots),
		cmocka_unit_test(test_critical_is_worse_than_unknown_worse_than_warning),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
