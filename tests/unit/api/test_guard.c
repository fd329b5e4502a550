/* Unit tests for guard: the rate limit's token bucket and the circuit breaker. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <time.h>

#include <cmocka.h>

#include "guard.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A max_wait of 0 turns "would it wait?" into an answer: 0 (no wait needed)
 * or -ETIMEDOUT. No assertion here depends on how fast the machine is.
 */
static void test_no_rate_never_waits(void **state)
{
	struct ratelimit r;
	(void)state;
	ratelimit_init(&r, 0, 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(ratelimit_wait(&r, NULL, 0), 0);
	ratelimit_destroy(&r);
}

static void test_a_burst_of_rate_requests_goes_at_once_then_one_per_interval(void **state)
{
	struct ratelimit r;
	(void)state;
	ratelimit_init(&r, 4, 4); /* burst 4, then one every 250 ms */
	for (int i = 0; i < 4; i++)
		assert_int_equal(ratelimit_wait(&r, NULL, 0), 0);
	assert_int_equal(ratelimit_wait(&r, NULL, 0), -ETIMEDOUT); /* the fifth must wait */
	double t0 = now();
	assert_int_equal(ratelimit_wait(&r, NULL, 1), 0);
	assert_true(now() - t0 >= 0.2); /* and did wait (a lower bound: cannot flake) */
	ratelimit_destroy(&r);
}

static void test_a_refused_wait_takes_no_slot(void **state)
{
	struct ratelimit r;
	(void)state;
	ratelimit_init(&r, 1, 1); /* burst 1, then one a second */
	assert_int_equal(ratelimit_wait(&r, NULL, 0), 0);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ratelimit_wait(&r, NULL, 0.1), -ETIMEDOUT);
	/* Had the refusals taken slots, the next one would be 6 s away, not 1. */
	assert_int_equal(ratelimit_wait(&r, NULL, 1.5), 0);
	ratelimit_destroy(&r);
}

static void test_the_burst_is_separate_from_the_rate(void **state)
{
	struct ratelimit r;
	(void)state;
	ratelimit_init(&r, 1, 60); /* the default: 60 at once, then one a second */
	for (int i = 0; i < 60; i++)
		assert_int_equal(ratelimit_wait(&r, NULL, 0), 0);
	assert_int_equal(ratelimit_wait(&r, NULL, 0), -ETIMEDOUT);
	assert_int_equal(ratelimit_wait(&r, NULL, 0.5), -ETIMEDOUT); /* a second away */
	ratelimit_destroy(&r);
}

static void test_a_wait_longer_than_the_op_has_left_is_refused_at_once(void **state)
{
	struct ratelimit r;
	struct op op;
	(void)state;
	ratelimit_init(&r, 1, 1);
	assert_int_equal(ratelimit_wait(&r, NULL, 0), 0);
	op_start(&op, 0.3, NULL, NULL);
	double t0 = now();
	assert_int_equal(ratelimit_wait(&r, &op, 30), -ETIMEDOUT);
	assert_true(now() - t0 < 0.2); /* refused, not waited for */
	ratelimit_destroy(&r);
}

static bool interrupted(void *ctx)
{
	double *at = ctx;
	return now() >= *at;
}

static void test_an_interrupt_ends_the_wait(void **state)
{
	struct ratelimit r;
	struct op op;
	(void)state;
	ratelimit_init(&r, 0.5, 1); /* the next slot 2 s away */
	assert_int_equal(ratelimit_wait(&r, NULL, 0), 0);
	double at = now() + 0.2;
	op_start(&op, 0, interrupted, &at);
	assert_int_equal(ratelimit_wait(&r, &op, 30), -EINTR);
	assert_true(now() - at < 1.0);
	unsigned long waits;
	double waited;
	ratelimit_stats(&r, &waits, &waited);
	assert_int_equal(waits, 1);
	assert_true(waited > 1.5);
	ratelimit_destroy(&r);
}

static bool always(void *ctx)
{
	(void)ctx;
	return true;
}

static void test_an_interrupted_wait_gives_its_slot_back(void **state)
{
	struct ratelimit r;
	struct op op;
	(void)state;
	ratelimit_init(&r, 1, 1); /* one request a second, no burst */
	assert_int_equal(ratelimit_wait(&r, NULL, 0), 0);
	op_start(&op, 0, always, NULL);
	assert_int_equal(ratelimit_wait(&r, &op, 30), -EINTR); /* the slot 1 s away */
	/* The next caller finds that slot free again, not one 2 s away. */
	assert_int_equal(ratelimit_wait(&r, &op, 1.5), -EINTR);
	ratelimit_destroy(&r);
}

static void test_breaker_opens_after_three_failures_in_a_row(void **state)
{
	struct breaker b;
	(void)state;
	breaker_init(&b);
	breaker_failure(&b);
	breaker_failure(&b);
	assert_false(breaker_is_open(&b));
	breaker_failure(&b);
	assert_true(breaker_is_open(&b));
	assert_true(b.open_for == 5);
	assert_int_equal(breaker_opened(&b), 1); /* the status file's "opened" */
	breaker_destroy(&b);
}

static void test_a_success_closes_it_and_resets_the_count(void **state)
{
	struct breaker b;
	(void)state;
	breaker_init(&b);
	breaker_failure(&b);
	breaker_failure(&b);
	breaker_success(&b);
	breaker_failure(&b);
	breaker_failure(&b);
	assert_false(breaker_is_open(&b)); /* not three in a row */
	breaker_failure(&b);
	assert_true(breaker_is_open(&b));
	breaker_success(&b);
	assert_int_equal(b.failures, 0);
	assert_true(b.open_for == 0);
	breaker_destroy(&b);
}

static void test_back_off_doubles_up_to_a_minute(void **state)
{
	struct breaker b;
	double expected[] = {5, 10, 20, 40, 60, 60};
	(void)state;
	breaker_init(&b);
	breaker_failure(&b);
	breaker_failure(&b);
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
		breaker_failure(&b); /* the probe after each back-off fails again */
		assert_true(b.open_for == expected[i]);
	}
	breaker_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_rate_never_waits),
		cmocka_unit_test(test_a_burst_of_rate_requests_goes_at_once_then_one_per_interval),
		cmocka_unit_test(test_a_refused_wait_takes_no_slot),
		cmocka_unit_test(test_the_burst_is_separate_from_the_rate),
		cmocka_unit_test(test_a_wait_longer_than_the_op_has_left_is_refused_at_once),
		cmocka_unit_test(test_an_interrupt_ends_the_wait),
		cmocka_unit_test(test_an_interrupted_wait_gives_its_slot_back),
		cmocka_unit_test(test_breaker_opens_after_three_failures_in_a_row),
		cmocka_unit_test(test_a_success_closes_it_and_resets_the_count),
		cmocka_unit_test(test_back_off_doubles_up_to_a_minute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
