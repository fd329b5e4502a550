/* Unit tests for autoplan: labelled names, which snapshots match, which go. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "autoplan.h"

#define T_2026_12_01_0700 1796108400 /* 2026-12-01T07:00:00Z */

/* ---- words and names ---- */

static void test_prefix_and_label_take_letters_digits_underscore_and_dot(void **state)
{
	(void)state;
	assert_true(autoplan_word_ok("auto"));
	assert_true(autoplan_word_ok("Hourly_2.x"));
	assert_true(autoplan_word_ok("0"));
	assert_false(autoplan_word_ok(""));
	assert_false(autoplan_word_ok(NULL));
	assert_false(autoplan_word_ok("a-b")); /* '-' separates the parts of a name */
	assert_false(autoplan_word_ok("a b"));
	assert_false(autoplan_word_ok("a/b"));
	assert_false(autoplan_word_ok("\xc3\xa9t\xc3\xa9"));
	assert_false(autoplan_word_ok("a\n"));
}

static void test_name_is_prefix_label_and_utc_minute(void **state)
{
	char buf[256];
	(void)state;
	assert_int_equal(autoplan_name(buf, sizeof(buf), "auto", "hourly", T_2026_12_01_0700 + 59),
			 0);
	assert_string_equal(buf, "auto-hourly-2026-12-01-0700");
	assert_int_equal(autoplan_name(buf, sizeof(buf), "p.x", "daily_1", 0), 0);
	assert_string_equal(buf, "p.x-daily_1-1970-01-01-0000");
}

static void test_name_with_bad_word_is_einval(void **state)
{
	char buf[256];
	(void)state;
	assert_int_equal(autoplan_name(buf, sizeof(buf), "a-b", "hourly", 0), -EINVAL);
	assert_int_equal(autoplan_name(buf, sizeof(buf), "auto", "", 0), -EINVAL);
}

static void test_name_over_255_bytes_is_enametoolong(void **state)
{
	char buf[512], label[300];
	(void)state;
	memset(label, 'l', sizeof(label));
	label[255 - 17 - 1] = '\0'; /* "a-" + label + "-" + 15 = 255 bytes */
	assert_int_equal(autoplan_name(buf, sizeof(buf), "a", label, 0), 0);
	assert_int_equal(strlen(buf), 255);
	label[255 - 17 - 1] = 'l';
	label[255 - 17] = '\0';
	assert_int_equal(autoplan_name(buf, sizeof(buf), "a", label, 0), -ENAMETOOLONG);
}

/* ---- which names belong to a label ---- */

static void test_matches_exactly_prefix_label_and_a_valid_timestamp(void **state)
{
	(void)state;
	assert_true(autoplan_matches("auto-hourly-2026-12-01-0700", "auto", "hourly"));
	assert_true(autoplan_matches("auto-hourly-2024-02-29-2359", "auto", "hourly"));
	assert_false(autoplan_matches("auto-daily-2026-12-01-0700", "auto", "hourly"));
	assert_false(autoplan_matches("other-hourly-2026-12-01-0700", "auto", "hourly"));
	assert_false(autoplan_matches("auto-hourly2-2026-12-01-0700", "auto", "hourly"));
	assert_false(autoplan_matches("xauto-hourly-2026-12-01-0700", "auto", "hourly"));
	assert_false(autoplan_matches("auto-hourly-2026-12-01-0700-copy", "auto", "hourly"));
	assert_false(autoplan_matches("auto-hourly-2026-12-01-070", "auto", "hourly"));
	assert_false(autoplan_matches("auto-hourly-", "auto", "hourly"));
	assert_false(autoplan_matches("auto-hourly", "auto", "hourly"));
	assert_false(autoplan_matches("", "auto", "hourly"));
	assert_false(autoplan_matches(NULL, "auto", "hourly"));
}

static void test_matches_rejects_impossible_dates_and_times(void **state)
{
	(void)state;
	assert_false(autoplan_matches("auto-h-2026-13-01-0700", "auto", "h"));
	assert_false(autoplan_matches("auto-h-2026-00-01-0700", "auto", "h"));
	assert_false(autoplan_matches("auto-h-2026-02-29-0700", "auto", "h"));
	assert_false(autoplan_matches("auto-h-1900-02-29-0700", "auto", "h"));
	assert_true(autoplan_matches("auto-h-2000-02-29-0700", "auto", "h"));
	assert_false(autoplan_matches("auto-h-2026-04-31-0700", "auto", "h"));
	assert_false(autoplan_matches("auto-h-2026-12-00-0700", "auto", "h"));
	assert_false(autoplan_matches("auto-h-2026-12-01-2400", "auto", "h"));
	assert_false(autoplan_matches("auto-h-2026-12-01-0760", "auto", "h"));
	assert_false(autoplan_matches("auto-h-2026-12-01T0700", "auto", "h"));
	assert_false(autoplan_matches("auto-h-2026-12-0a-0700", "auto", "h"));
	assert_false(autoplan_matches("auto-h-+026-12-01-0700", "auto", "h"));
}

/* ---- eligibility ---- */

static struct autoplan_snap snap(const char *name, time_t created)
{
	return (struct autoplan_snap){.entry = name,
				      .name = name,
				      .type = "manual",
				      .status = "available",
				      .created = created};
}

static void test_only_manual_settled_snapshots_are_eligible(void **state)
{
	struct autoplan_snap s = snap("auto-h-2026-12-01-0700", 1);
	(void)state;
	assert_true(autoplan_eligible(&s, "auto", "h"));
	s.type = "automatic";
	assert_false(autoplan_eligible(&s, "auto", "h"));
	s.type = "system";
	assert_false(autoplan_eligible(&s, "auto", "h"));
	s.type = "some_future_type";
	assert_false(autoplan_eligible(&s, "auto", "h"));
	s.type = NULL;
	assert_true(autoplan_eligible(&s, "auto", "h"));
	s.status = "creating";
	assert_false(autoplan_eligible(&s, "auto", "h"));
	s.status = "deleting";
	assert_false(autoplan_eligible(&s, "auto", "h"));
	s.status = "error"; /* a failed one is neither one of the N nor deleted */
	assert_false(autoplan_eligible(&s, "auto", "h"));
	s.status = "restoring"; /* a revert from it under way */
	assert_false(autoplan_eligible(&s, "auto", "h"));
	s.status = "error_deleting";
	assert_false(autoplan_eligible(&s, "auto", "h"));
	s.status = NULL;
	assert_true(autoplan_eligible(&s, "auto", "h"));
	s.name = NULL; /* the entry's name does not count: the snapshot's does */
	assert_false(autoplan_eligible(&s, "auto", "h"));
}

/* ---- decisions ---- */

static void test_keeps_newest_n_and_deletes_the_rest_oldest_first(void **state)
{
	struct autoplan_snap s[] = {
		snap("auto-h-2026-12-01-0300", 300),
		snap("auto-h-2026-12-01-0100", 100),
		snap("auto-h-2026-12-01-0400", 400),
		snap("auto-h-2026-12-01-0200", 200),
	};
	(void)state;
	assert_int_equal(autoplan_decide(s, 4, "auto", "h", 2), 2);
	assert_string_equal(s[0].name, "auto-h-2026-12-01-0100");
	assert_int_equal(s[0].verdict, AUTOPLAN_DELETE);
	assert_string_equal(s[1].name, "auto-h-2026-12-01-0200");
	assert_int_equal(s[1].verdict, AUTOPLAN_DELETE);
	assert_int_equal(s[2].verdict, AUTOPLAN_KEEP);
	assert_int_equal(s[3].verdict, AUTOPLAN_KEEP);
}

static void test_age_is_created_not_the_name(void **state)
{
	/* The names say 09:00 is newest; createdAt says it is oldest. */
	struct autoplan_snap s[] = {
		snap("auto-h-2026-12-01-0900", 100),
		snap("auto-h-2026-12-01-0100", 200),
	};
	(void)state;
	assert_int_equal(autoplan_decide(s, 2, "auto", "h", 1), 1);
	assert_string_equal(s[0].name, "auto-h-2026-12-01-0900");
	assert_int_equal(s[0].verdict, AUTOPLAN_DELETE);
	assert_int_equal(s[1].verdict, AUTOPLAN_KEEP);
}

static void test_equal_times_are_ordered_by_name(void **state)
{
	struct autoplan_snap s[] = {
		snap("auto-h-2026-12-01-0200", 100),
		snap("auto-h-2026-12-01-0100", 100),
		snap("auto-h-2026-12-01-0300", 100),
	};
	(void)state;
	autoplan_decide(s, 3, "auto", "h", 1);
	assert_string_equal(s[0].name, "auto-h-2026-12-01-0100");
	assert_int_equal(s[0].verdict, AUTOPLAN_DELETE);
	assert_string_equal(s[1].name, "auto-h-2026-12-01-0200");
	assert_int_equal(s[1].verdict, AUTOPLAN_DELETE);
	assert_string_equal(s[2].name, "auto-h-2026-12-01-0300");
	assert_int_equal(s[2].verdict, AUTOPLAN_KEEP);
}

static void test_others_are_ignored_and_not_counted(void **state)
{
	struct autoplan_snap s[] = {
		snap("auto-h-2026-12-01-0100", 100), snap("auto-d-2026-12-01-0000", 50),
		snap("before-upgrade", 10),	     snap("x-h-2026-12-01-0000", 20),
		snap("auto-h-2026-12-01-0200", 200), snap("auto-h-2026-11-30-0000", 30),
		snap("auto-h-2026-12-01-0300", 300),
	};
	s[5].type = "automatic"; /* named like the label, but OVH's */
	struct autoplan_snap creating = snap("auto-h-2026-12-01-0000", 5);
	creating.status = "creating";
	(void)state;
	struct autoplan_snap all[8];
	memcpy(all, s, sizeof(s));
	all[7] = creating;
	assert_int_equal(autoplan_decide(all, 8, "auto", "h", 2), 2);
	size_t deleted = 0;
	for (size_t i = 0; i < 8; i++) {
		if (all[i].verdict == AUTOPLAN_DELETE) {
			assert_string_equal(all[i].name, "auto-h-2026-12-01-0100");
			deleted++;
		}
		if (strncmp(all[i].name, "auto-h-", 7) != 0 || all[i].created <= 30)
			assert_int_equal(all[i].verdict, AUTOPLAN_IGNORE);
	}
	assert_int_equal(deleted, 1);
}

static void test_the_new_snapshot_is_newest_and_counts(void **state)
{
	/* Even when an existing one claims a later createdAt (a clock ahead). */
	struct autoplan_snap s[] = {
		snap("auto-h-2026-12-01-0100", 100),
		snap("auto-h-2026-12-01-0200", 99999),
		{.entry = "auto-h-2026-12-01-0300",
		 .name = "auto-h-2026-12-01-0300",
		 .created = 300,
		 .is_new = true},
	};
	(void)state;
	assert_int_equal(autoplan_decide(s, 3, "auto", "h", 1), 1);
	assert_true(s[2].is_new);
	assert_int_equal(s[2].verdict, AUTOPLAN_KEEP);
	assert_int_equal(s[0].verdict, AUTOPLAN_DELETE);
	assert_int_equal(s[1].verdict, AUTOPLAN_DELETE);
}

static void test_without_created_at_the_age_is_the_name(void **state)
{
	/*
	 * The mount gives a snapshot without createdAt the time it started (here
	 * 15:00, later than all): the name's minute stands in, so it is not kept as
	 * the newest while the newer ones go.
	 */
	struct autoplan_snap s[] = {
		snap("auto-h-2026-12-01-0100", 1796137200), /* 15:00 */
		snap("auto-h-2026-12-01-0300", 1796094000), /* 2026-12-01 03:00 UTC */
		snap("auto-h-2026-12-01-0200", 1796090400), /* 02:00 */
	};
	s[0].created_unknown = true;
	(void)state;
	assert_int_equal(autoplan_decide(s, 3, "auto", "h", 2), 2);
	assert_string_equal(s[0].name, "auto-h-2026-12-01-0100");
	assert_int_equal(s[0].created, 1796086800); /* 01:00 */
	assert_int_equal(s[0].verdict, AUTOPLAN_DELETE);
	assert_string_equal(s[1].name, "auto-h-2026-12-01-0200");
	assert_int_equal(s[1].verdict, AUTOPLAN_KEEP);
	assert_string_equal(s[2].name, "auto-h-2026-12-01-0300");
	assert_int_equal(s[2].verdict, AUTOPLAN_KEEP);
}

static void test_fewer_than_n_deletes_nothing(void **state)
{
	struct autoplan_snap s[] = {snap("auto-h-2026-12-01-0100", 100)};
	(void)state;
	assert_int_equal(autoplan_decide(s, 1, "auto", "h", 24), 1);
	assert_int_equal(s[0].verdict, AUTOPLAN_KEEP);
	assert_int_equal(autoplan_decide(NULL, 0, "auto", "h", 24), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_and_label_take_letters_digits_underscore_and_dot),
		cmocka_unit_test(test_name_is_prefix_label_and_utc_minute),
		cmocka_unit_test(test_name_with_bad_word_is_einval),
		cmocka_unit_test(test_name_over_255_bytes_is_enametoolong),
		cmocka_unit_test(test_matches_exactly_prefix_label_and_a_valid_timestamp),
		cmocka_unit_test(test_matches_rejects_impossible_dates_and_times),
		cmocka_unit_test(test_only_manual_settled_snapshots_are_eligible),
		cmocka_unit_test(test_keeps_newest_n_and_deletes_the_rest_oldest_first),
		cmocka_unit_test(test_age_is_created_not_the_name),
		cmocka_unit_test(test_equal_times_are_ordered_by_name),
		cmocka_unit_test(test_others_are_ignored_and_not_counted),
		cmocka_unit_test(test_the_new_snapshot_is_newest_and_counts),
		cmocka_unit_test(test_without_created_at_the_age_is_the_name),
		cmocka_unit_test(test_fewer_than_n_deletes_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
