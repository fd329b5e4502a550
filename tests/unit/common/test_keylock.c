/* Unit tests for keylock: one lock per key, waits bounded by their op. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clock.h"
#include "keylock.h"

static void test_other_keys_are_taken_while_one_is_held(void **state)
{
	struct keylock kl;
	(void)state;
	keylock_init(&kl);
	assert_int_equal(keylock_take(&kl, NULL, "share-a"), 0);
	assert_int_equal(keylock_take(&kl, NULL, "share-b"), 0); /* no stripe shared */
	keylock_give(&kl, "share-b");
	keylock_give(&kl, "share-a");
	keylock_destroy(&kl);
}

static void test_a_held_key_waits_until_its_op_ends(void **state)
{
	struct keylock kl;
	struct op op;
	(void)state;
	keylock_init(&kl);
	assert_int_equal(keylock_take(&kl, NULL, "share-a"), 0);
	op_start(&op, 0.2, NULL, NULL);
	assert_int_equal(keylock_take(&kl, &op, "share-a"), -ETIMEDOUT);
	keylock_give(&kl, "share-a");
	assert_int_equal(keylock_take(&kl, NULL, "share-a"), 0); /* given back: free again */
	keylock_give(&kl, "share-a");
	keylock_destroy(&kl);
}

static bool always(void *ctx)
{
	(void)ctx;
	return true;
}

static void test_a_wait_ends_with_its_callers_interrupt(void **state)
{
	struct keylock kl;
	struct op op;
	(void)state;
	keylock_init(&kl);
	assert_int_equal(keylock_take(&kl, NULL, "share-a"), 0);
	op_start(&op, 0, always, NULL);
	assert_int_equal(keylock_take(&kl, &op, "share-a"), -EINTR);
	keylock_give(&kl, "share-a");
	keylock_destroy(&kl);
}

struct holder {
	struct keylock *kl;
	atomic_int inside; /* holders of "share-a" at once */
	atomic_int most;
};

static void *take_and_hold(void *arg)
{
	struct holder *h = arg;
	for (int i = 0; i < 50; i++) {
		assert_int_equal(keylock_take(h->kl, NULL, "share-a"), 0);
		int n = atomic_fetch_add(&h->inside, 1) + 1;
		if (n > atomic_load(&h->most))
			atomic_store(&h->most, n);
		clock_sleep(0.0005);
		atomic_fetch_sub(&h->inside, 1);
		keylock_give(h->kl, "share-a");
	}
	return NULL;
}

static void test_one_holder_of_a_key_at_a_time(void **state)
{
	struct keylock kl;
	struct holder h = {.kl = &kl};
	pthread_t threads[4];
	(void)state;
	keylock_init(&kl);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&threads[i], NULL, take_and_hold, &h), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(threads[i], NULL);
	assert_int_equal(h.most, 1);
	keylock_destroy(&kl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_other_keys_are_taken_while_one_is_held),
		cmocka_unit_test(test_a_held_key_waits_until_its_op_ends),
		cmocka_unit_test(test_a_wait_ends_with_its_callers_interrupt),
		cmocka_unit_test(test_one_holder_of_a_key_at_a_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
