/* Unit tests for walk: when a walk is seen, how far ahead it loads, hits and waste. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cache.h"
#include "walk.h"

#define DIR_KEY	  "D"
#define N_ENTRIES 10
#define SETTLE_MS 150 /* long enough for a queued load to have gone */

static atomic_int loads;
static atomic_bool may;
static atomic_bool loaded[N_ENTRIES]; /* C/e<i> was loaded */

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* "D" has entries e0..e9, whose listings are "C/e0"...; "C/..." have none. */
static bool child_key(const char *dir_key, const struct entry *e, char *buf, size_t len)
{
	if (strcmp(dir_key, DIR_KEY) != 0)
		return false;
	if (e)
		snprintf(buf, len, "C/%s", e->obj.id);
	return true;
}

static bool may_load(void *ctx, const char *key)
{
	(void)ctx, (void)key;
	return atomic_load(&may);
}

static int loader(void *ctx, const char *key, const struct listing *previous, struct listing **out)
{
	(void)ctx, (void)previous;
	atomic_fetch_add(&loads, 1);
	if (strncmp(key, "C/e", 3) == 0)
		atomic_store(&loaded[atoi(key + 3) % N_ENTRIES], true);
	*out = listing_new(0);
	(*out)->fetched = cache_now();
	return 0;
}

static struct listing *dir_listing(void)
{
	struct listing *l = listing_new(N_ENTRIES);
	for (size_t i = 0; i < N_ENTRIES; i++) {
		char id[8];
		snprintf(id, sizeof(id), "e%zu", i);
		l->entries[i].obj.id = strdup(id);
		l->entries[i].name = l->entries[i].obj.id;
		l->n++;
	}
	l->fetched = cache_now();
	return l;
}

struct fixture {
	struct cache *cache;
	struct walk *walk;
	struct listing *dir;
};

static struct fixture *setup_ttl(double ttl)
{
	static const struct walk_hooks hooks = {
		.child_key = child_key, .may_load = may_load, .loader = loader};
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->cache = cache_new(ttl, 0, 0);
	f->walk = walk_new(f->cache, &hooks, 8);
	assert_non_null(f->walk);
	assert_int_equal(walk_start(f->walk), 0);
	f->dir = dir_listing();
	atomic_store(&loads, 0);
	atomic_store(&may, true);
	for (size_t i = 0; i < N_ENTRIES; i++)
		atomic_store(&loaded[i], false);
	return f;
}

static void teardown(struct fixture *f)
{
	walk_free(f->walk);
	listing_unref(f->dir);
	cache_free(f->cache);
	free(f);
}

/* The counters once at least want loads were made (5 s at most), and a settle more. */
static struct walk_stats stats_after(struct fixture *f, unsigned long want)
{
	struct walk_stats s;
	for (int i = 0; i < 500; i++) {
		walk_stats(f->walk, &s);
		if (s.loads >= want)
			break;
		sleep_ms(10);
	}
	sleep_ms(SETTLE_MS);
	walk_stats(f->walk, &s);
	return s;
}

static struct walk_stats stats(struct fixture *f)
{
	return stats_after(f, 0);
}

static void a_listing_and_one_subdirectory_load_nothing_ahead(void **state)
{
	(void)state;
	struct fixture *f = setup_ttl(60);
	walk_listed(f->walk, DIR_KEY, NULL, f->dir);
	walk_visited(f->walk, DIR_KEY, f->dir, 0);
	walk_visited(f->walk, DIR_KEY, f->dir, 0); /* the same one again */
	walk_used(f->walk, "C/e0");
	assert_int_equal(stats(f).loads, 0);
	assert_int_equal(atomic_load(&loads), 0);
	teardown(f);
}

static void going_back_is_no_walk(void **state)
{
	(void)state;
	struct fixture *f = setup_ttl(60);
	walk_listed(f->walk, DIR_KEY, NULL, f->dir);
	walk_visited(f->walk, DIR_KEY, f->dir, 5); /* a script's picks, not readdir's order */
	walk_visited(f->walk, DIR_KEY, f->dir, 2);
	walk_visited(f->walk, DIR_KEY, f->dir, 0);
	assert_int_equal(stats(f).loads, 0);
	walk_visited(f->walk, DIR_KEY, f->dir, 1); /* forward from 0: a walk */
	assert_int_equal(stats_after(f, 2).loads, 2);
	teardown(f);
}

static void no_listing_no_walk(void **state)
{
	(void)state;
	struct fixture *f = setup_ttl(60);
	for (size_t i = 0; i < N_ENTRIES; i++) /* stat of each, say: nobody listed D */
		walk_visited(f->walk, DIR_KEY, f->dir, i);
	assert_int_equal(stats(f).loads, 0);
	teardown(f);
}

static void two_subdirectories_load_a_window_of_two_that_doubles_with_use(void **state)
{
	(void)state;
	struct fixture *f = setup_ttl(60);
	walk_listed(f->walk, DIR_KEY, NULL, f->dir);
	walk_visited(f->walk, DIR_KEY, f->dir, 0);
	walk_visited(f->walk, DIR_KEY, f->dir, 1); /* a walk: e1 and e2 loaded */
	struct walk_stats s = stats_after(f, 2);
	assert_int_equal(s.loads, 2);
	assert_int_equal(s.hits, 0);
	walk_visited(f->walk, DIR_KEY, f->dir, 2); /* two unused already: nothing more */
	assert_int_equal(stats(f).loads, 2);
	walk_used(f->walk, "C/e1"); /* a hit: window 4, three more */
	s = stats_after(f, 5);
	assert_int_equal(s.hits, 1);
	assert_int_equal(s.loads, 5);
	assert_int_equal(atomic_load(&loads), 5);
	teardown(f);
}

static void a_walk_that_goes_on_loads_each_subdirectory_once(void **state)
{
	(void)state;
	struct fixture *f = setup_ttl(60);
	bool used[N_ENTRIES] = {false};
	walk_listed(f->walk, DIR_KEY, NULL, f->dir);
	walk_visited(f->walk, DIR_KEY, f->dir, 0);
	walk_visited(f->walk, DIR_KEY, f->dir, 1);
	for (bool more = true; more;) { /* the user uses each listing loaded ahead */
		char key[16];
		sleep_ms(SETTLE_MS);
		more = false;
		for (size_t i = 1; i < N_ENTRIES; i++) {
			if (!atomic_load(&loaded[i]) || used[i])
				continue;
			snprintf(key, sizeof(key), "C/e%zu", i);
			walk_visited(f->walk, DIR_KEY, f->dir, i);
			walk_used(f->walk, key);
			used[i] = more = true;
		}
	}
	struct walk_stats s = stats(f);
	assert_int_equal(s.loads, N_ENTRIES - 1); /* e1..e9, each once */
	assert_int_equal(s.hits, N_ENTRIES - 1);
	assert_int_equal(s.waste, 0);
	teardown(f);
}

static void background_yields_when_it_may_not_load(void **state)
{
	(void)state;
	struct fixture *f = setup_ttl(60);
	atomic_store(&may, false);
	walk_listed(f->walk, DIR_KEY, NULL, f->dir);
	walk_visited(f->walk, DIR_KEY, f->dir, 0);
	walk_visited(f->walk, DIR_KEY, f->dir, 1);
	assert_int_equal(stats(f).loads, 0);
	assert_int_equal(atomic_load(&loads), 0);
	teardown(f);
}

static void loads_unused_within_cache_ttl_are_waste(void **state)
{
	(void)state;
	struct fixture *f = setup_ttl(0.2);
	walk_listed(f->walk, DIR_KEY, NULL, f->dir);
	walk_visited(f->walk, DIR_KEY, f->dir, 0);
	walk_visited(f->walk, DIR_KEY, f->dir, 1);
	stats_after(f, 2);
	sleep_ms(300);
	walk_used(f->walk, "C/e1"); /* too late: waste, not a hit */
	struct walk_stats s = stats(f);
	assert_int_equal(s.loads, 2);
	assert_int_equal(s.hits, 0);
	assert_int_equal(s.waste, 2);
	teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_listing_and_one_subdirectory_load_nothing_ahead),
		cmocka_unit_test(no_listing_no_walk),
		cmocka_unit_test(going_back_is_no_walk),
		cmocka_unit_test(two_subdirectories_load_a_window_of_two_that_doubles_with_use),
		cmocka_unit_test(a_walk_that_goes_on_loads_each_subdirectory_once),
		cmocka_unit_test(background_yields_when_it_may_not_load),
		cmocka_unit_test(loads_unused_within_cache_ttl_are_waste),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
