/* Unit tests for retry: when a request is sent again, and when a POST never is. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "retry.h"

#define FIRST_GET  ((struct retry_state){.tries = 4})
#define FIRST_POST ((struct retry_state){.tries = 4, .unsafe = true})
#define LAST_GET   ((struct retry_state){.tries = 4, .number = 3})

static struct retry_decision reply(struct retry_state st, long status, double retry_after)
{
	struct try_outcome o = {.sent = TRY_REPLY, .status = status, .retry_after = retry_after};
	return retry_decide(&st, &o, INFINITY, 0.5);
}

static struct retry_decision failure(struct retry_state st, enum try_sent sent, int abort_rc)
{
	struct try_outcome o = {.sent = sent, .abort_rc = abort_rc};
	return retry_decide(&st, &o, INFINITY, 0.5);
}

/* ---- replies ---- */

static void test_a_2xx_is_done_and_the_api_is_up(void **state)
{
	(void)state;
	struct retry_decision d = reply(FIRST_POST, 201, 0);
	assert_int_equal(d.verdict, RETRY_DONE);
	assert_true(d.success && d.api_up && !d.api_down && !d.outcome_unknown);
}

static void test_a_503_on_a_get_is_sent_again_after_a_backoff(void **state)
{
	(void)state;
	struct retry_decision d = reply(FIRST_GET, 503, 0);
	assert_int_equal(d.verdict, RETRY_AFTER);
	assert_true(d.delay >= 0.125 && d.delay <= 0.25);
	assert_false(d.api_down); /* only the call's last failure counts for the breaker */
}

static void test_a_503_on_the_last_try_ends_the_call_as_a_failure_of_the_api(void **state)
{
	(void)state;
	struct retry_decision d = reply(LAST_GET, 503, 0);
	assert_int_equal(d.verdict, RETRY_DONE);
	assert_true(!d.success && d.api_down && !d.outcome_unknown);
}

static void test_a_5xx_on_a_post_is_never_sent_again_and_its_outcome_is_unknown(void **state)
{
	(void)state;
	long statuses[] = {500, 502, 503, 504};
	for (size_t i = 0; i < 4; i++) {
		struct retry_decision d = reply(FIRST_POST, statuses[i], 0);
		assert_int_equal(d.verdict, RETRY_DONE);
		assert_true(d.outcome_unknown && !d.success && d.api_down);
	}
}

static void test_a_429_on_a_post_is_sent_again_after_retry_after(void **state)
{
	(void)state;
	struct retry_decision d = reply(FIRST_POST, 429, 2);
	assert_int_equal(d.verdict, RETRY_AFTER);
	assert_true(d.delay == 2);
	assert_false(d.outcome_unknown);
}

static void test_a_429_whose_retry_after_outlasts_the_op_ends_now_not_acted_on(void **state)
{
	struct retry_state st = FIRST_POST;
	struct try_outcome o = {.sent = TRY_REPLY, .status = 429, .retry_after = 5};
	(void)state;
	struct retry_decision d = retry_decide(&st, &o, 3, 0.5);
	assert_int_equal(d.verdict, RETRY_DONE);
	assert_false(d.outcome_unknown); /* a 429 was certainly not carried out */
	assert_false(d.success);
}

static void test_a_backoff_that_outlasts_the_op_is_not_started(void **state)
{
	struct retry_state st = FIRST_GET;
	struct try_outcome o = {.sent = TRY_REPLY, .status = 500};
	(void)state;
	assert_int_equal(retry_decide(&st, &o, 0.1, 0.5).verdict, RETRY_DONE);
	assert_int_equal(retry_decide(&st, &o, 1.0, 0.5).verdict, RETRY_AFTER);
}

static void test_a_4xx_is_done_at_once_and_the_api_is_up(void **state)
{
	(void)state;
	long statuses[] = {400, 403, 404, 409};
	for (size_t i = 0; i < 4; i++) {
		struct retry_decision d = reply(FIRST_GET, statuses[i], 0);
		assert_int_equal(d.verdict, RETRY_DONE);
		assert_true(!d.success && d.api_up && !d.api_down);
	}
}

static void test_a_curable_refusal_is_cured_once_then_done(void **state)
{
	struct retry_state st = FIRST_POST;
	struct try_outcome o = {.sent = TRY_REPLY, .status = 401, .curable = true};
	(void)state;
	struct retry_decision d = retry_decide(&st, &o, INFINITY, 0.5);
	assert_int_equal(d.verdict, RETRY_CURE);
	assert_false(d.outcome_unknown);
	st.cured = true;
	d = retry_decide(&st, &o, INFINITY, 0.5);
	assert_int_equal(d.verdict, RETRY_DONE);
	assert_false(d.success);
}

static void test_a_404_on_a_repeated_delete_means_an_earlier_try_did_it(void **state)
{
	struct retry_state st = {.tries = 4, .is_delete = true};
	struct try_outcome o = {.sent = TRY_REPLY, .status = 404};
	(void)state;
	assert_false(retry_decide(&st, &o, INFINITY, 0.5).success); /* the first try: a 404 */
	st.number = 1;
	assert_true(retry_decide(&st, &o, INFINITY, 0.5).success);
}

/* ---- failures without a reply ---- */

static void test_a_post_that_was_never_written_is_sent_again(void **state)
{
	(void)state;
	struct retry_decision d = failure(FIRST_POST, TRY_NOT_SENT, 0);
	assert_int_equal(d.verdict, RETRY_AFTER);
	assert_false(d.outcome_unknown);
}

static void test_a_post_that_may_have_been_written_is_never_sent_again(void **state)
{
	(void)state;
	struct retry_decision d = failure(FIRST_POST, TRY_MAYBE_SENT, 0);
	assert_int_equal(d.verdict, RETRY_DONE);
	assert_true(d.outcome_unknown && d.api_down);
}

static void test_a_get_that_may_have_been_written_is_sent_again(void **state)
{
	(void)state;
	assert_int_equal(failure(FIRST_GET, TRY_MAYBE_SENT, 0).verdict, RETRY_AFTER);
	assert_int_equal(failure(LAST_GET, TRY_MAYBE_SENT, 0).verdict, RETRY_DONE);
}

static void test_an_idempotent_post_is_sent_again_like_a_get(void **state)
{
	struct retry_state st = {.tries = 4}; /* a token request: unsafe is false */
	(void)state;
	assert_int_equal(failure(st, TRY_MAYBE_SENT, 0).verdict, RETRY_AFTER);
	assert_int_equal(reply(st, 503, 0).verdict, RETRY_AFTER);
}

static void test_a_lasting_failure_is_not_tried_again(void **state)
{
	struct retry_state st = FIRST_GET;
	struct try_outcome o = {.sent = TRY_NOT_SENT, .lasting = true}; /* a bad certificate */
	(void)state;
	assert_int_equal(retry_decide(&st, &o, INFINITY, 0.5).verdict, RETRY_DONE);
}

static void test_a_reply_too_big_for_a_post_is_unknown_but_the_api_is_not_down(void **state)
{
	struct retry_state st = FIRST_POST;
	struct try_outcome o = {.sent = TRY_MAYBE_SENT, .lasting = true};
	(void)state;
	struct retry_decision d = retry_decide(&st, &o, INFINITY, 0.5);
	assert_int_equal(d.verdict, RETRY_DONE);
	assert_true(d.outcome_unknown && !d.api_down);
}

/* ---- the op ended the transfer ---- */

static void test_an_aborted_post_after_its_bytes_may_have_left_is_unknown(void **state)
{
	(void)state;
	struct retry_decision d = failure(FIRST_POST, TRY_MAYBE_SENT, -EINTR);
	assert_int_equal(d.verdict, RETRY_DONE);
	assert_true(d.outcome_unknown);
	assert_false(d.api_down); /* the caller gave up, the API did not fail */
}

static void test_an_aborted_post_before_it_was_written_is_known_not_done(void **state)
{
	(void)state;
	struct retry_decision d = failure(FIRST_POST, TRY_NOT_SENT, -ETIMEDOUT);
	assert_int_equal(d.verdict, RETRY_DONE);
	assert_false(d.outcome_unknown);
}

static void test_an_aborted_get_is_never_sent_again(void **state)
{
	(void)state;
	assert_int_equal(failure(FIRST_GET, TRY_MAYBE_SENT, -ETIMEDOUT).verdict, RETRY_DONE);
	assert_int_equal(failure(FIRST_GET, TRY_NOT_SENT, -EINTR).verdict, RETRY_DONE);
}

/* ---- back-off ---- */

static void test_backoff_doubles_from_a_quarter_second_up_to_eight(void **state)
{
	(void)state;
	assert_true(retry_backoff(0, 0, 1.0 - 1e-9) <= 0.25);
	assert_true(retry_backoff(0, 0, 0) == 0.125);
	assert_true(retry_backoff(1, 0, 0) == 0.25);
	assert_true(retry_backoff(3, 0, 0) == 1.0);
	assert_true(retry_backoff(10, 0, 0) == 4.0);
	assert_true(retry_backoff(30, 0, 1.0 - 1e-9) <= 8.0);
}

static void test_retry_after_wins_and_is_capped(void **state)
{
	(void)state;
	assert_true(retry_backoff(5, 1.5, 0.9) == 1.5);
	assert_true(retry_backoff(0, 3600, 0.9) == RETRY_MAX_DELAY);
}

static void test_tries_below_one_count_as_one(void **state)
{
	struct retry_state st = {.tries = 0};
	(void)state;
	assert_int_equal(reply(st, 503, 0).verdict, RETRY_DONE);
}

/* ---- how long one try may last ---- */

static void test_a_try_with_tries_left_gets_at_most_half_of_what_is_left(void **state)
{
	(void)state;
	struct retry_state st = FIRST_GET;
	assert_true(retry_try_timeout(&st, 2, 10) == 1);	 /* timeout=2: one more fits */
	assert_true(retry_try_timeout(&st, 30, 10) == 10);	 /* request_timeout= first */
	assert_true(retry_try_timeout(&st, INFINITY, 10) == 10); /* a call without an op */
}

static void test_the_last_try_gets_all_that_is_left(void **state)
{
	(void)state;
	struct retry_state st = LAST_GET;
	assert_true(retry_try_timeout(&st, 2, 10) == 2);
	assert_true(retry_try_timeout(&st, 30, 10) == 10);
	st = (struct retry_state){.tries = 1};
	assert_true(retry_try_timeout(&st, 2, 10) == 2);
}

static void test_a_post_is_not_halved_a_cut_one_is_never_sent_again(void **state)
{
	(void)state;
	struct retry_state st = FIRST_POST;
	assert_true(retry_try_timeout(&st, 2, 10) == 2);
	assert_true(retry_try_timeout(&st, 390, 10) == 10);
	struct try_outcome cut = {.sent = TRY_MAYBE_SENT};
	struct retry_decision d = retry_decide(&st, &cut, 1, 0.5);
	assert_int_equal(d.verdict, RETRY_DONE);
	assert_true(d.outcome_unknown);
}

static void test_a_get_cut_at_half_is_sent_again_within_the_op(void **state)
{
	(void)state;
	struct retry_state st = FIRST_GET;
	double left = 2;
	left -= retry_try_timeout(&st, left, 10); /* the first try stalled and was cut */
	struct try_outcome cut = {.sent = TRY_MAYBE_SENT};
	struct retry_decision d = retry_decide(&st, &cut, left, 0.99);
	assert_int_equal(d.verdict, RETRY_AFTER);
	assert_true(d.delay < left);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_2xx_is_done_and_the_api_is_up),
		cmocka_unit_test(test_a_503_on_a_get_is_sent_again_after_a_backoff),
		cmocka_unit_test(test_a_503_on_the_last_try_ends_the_call_as_a_failure_of_the_api),
		cmocka_unit_test(
			test_a_5xx_on_a_post_is_never_sent_again_and_its_outcome_is_unknown),
		cmocka_unit_test(test_a_429_on_a_post_is_sent_again_after_retry_after),
		cmocka_unit_test(
			test_a_429_whose_retry_after_outlasts_the_op_ends_now_not_acted_on),
		cmocka_unit_test(test_a_backoff_that_outlasts_the_op_is_not_started),
		cmocka_unit_test(test_a_4xx_is_done_at_once_and_the_api_is_up),
		cmocka_unit_test(test_a_curable_refusal_is_cured_once_then_done),
		cmocka_unit_test(test_a_404_on_a_repeated_delete_means_an_earlier_try_did_it),
		cmocka_unit_test(test_a_post_that_was_never_written_is_sent_again),
		cmocka_unit_test(test_a_post_that_may_have_been_written_is_never_sent_again),
		cmocka_unit_test(test_a_get_that_may_have_been_written_is_sent_again),
		cmocka_unit_test(test_an_idempotent_post_is_sent_again_like_a_get),
		cmocka_unit_test(test_a_lasting_failure_is_not_tried_again),
		cmocka_unit_test(
			test_a_reply_too_big_for_a_post_is_unknown_but_the_api_is_not_down),
		cmocka_unit_test(test_an_aborted_post_after_its_bytes_may_have_left_is_unknown),
		cmocka_unit_test(test_an_aborted_post_before_it_was_written_is_known_not_done),
		cmocka_unit_test(test_an_aborted_get_is_never_sent_again),
		cmocka_unit_test(test_backoff_doubles_from_a_quarter_second_up_to_eight),
		cmocka_unit_test(test_retry_after_wins_and_is_capped),
		cmocka_unit_test(test_tries_below_one_count_as_one),
		cmocka_unit_test(test_a_try_with_tries_left_gets_at_most_half_of_what_is_left),
		cmocka_unit_test(test_the_last_try_gets_all_that_is_left),
		cmocka_unit_test(test_a_post_is_not_halved_a_cut_one_is_never_sent_again),
		cmocka_unit_test(test_a_get_cut_at_half_is_sent_again_within_the_op),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
