/* Unit tests for cache: TTL, shared loads, updates, caps, refcounted listings. */
#include <errno.h>
#include <pthread.h>
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
#include "op.h"

#define KEY	  "svc-1/share-1/.snapshots"
#define N_THREADS 16

/* A loader standing in for the API: counts calls, may sleep or fail. */
struct fake_api {
	atomic_int calls;
	int fail_rc;	     /* returned instead of a listing when non-zero */
	long sleep_ms;	     /* how long each load takes */
	double age;	     /* seconds the listings it returns are already old */
	atomic_bool started; /* set when a load begins */
	const struct listing *previous_seen;
	const char *const *names; /* NULL entries have no name */
	const char *const *ids;
	size_t n;
};

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static char *xstrdup(const char *s)
{
	char *copy = strdup(s);
	assert_non_null(copy);
	return copy;
}

/* A listing as tree.c builds it: objects owned by the entries, fetched now. */
static struct listing *make_listing(const char *const *names, const char *const *ids, size_t n)
{
	struct listing *l = listing_new(n);
	if (!l)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &l->entries[i];
		e->obj.id = xstrdup(ids[i]);
		e->obj.name = names[i] ? xstrdup(names[i]) : NULL;
		e->obj.json = xstrdup("{}\n");
		e->obj.json_len = 3;
		e->name = e->obj.name ? e->obj.name : e->obj.id;
		l->n++;
	}
	l->fetched = cache_now();
	return l;
}

static const char *const default_names[] = {"nightly", NULL};
static const char *const default_ids[] = {"id-1", "id-2"};

static void fake_init(struct fake_api *api)
{
	memset(api, 0, sizeof(*api));
	atomic_init(&api->calls, 0);
	atomic_init(&api->started, false);
	api->names = default_names;
	api->ids = default_ids;
	api->n = 2;
}

static int fake_loader(void *ctx, const char *key, const struct listing *previous,
		       struct listing **out)
{
	struct fake_api *api = ctx;
	(void)key;
	atomic_fetch_add(&api->calls, 1);
	api->previous_seen = previous;
	atomic_store(&api->started, true);
	if (api->sleep_ms)
		sleep_ms(api->sleep_ms);
	if (api->fail_rc)
		return api->fail_rc;
	*out = make_listing(api->names, api->ids, api->n);
	if (!*out)
		return -ENOMEM;
	(*out)->fetched -= api->age;
	return 0;
}

static int get(struct cache *c, struct fake_api *api, struct listing **out)
{
	return cache_get(c, NULL, KEY, fake_loader, api, out);
}

/* ---- TTL ---- */

static void test_first_get_loads_once_and_second_within_ttl_does_not(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	struct listing *a = NULL, *b = NULL;
	(void)state;
	fake_init(&api);
	assert_int_equal(get(c, &api, &a), 0);
	assert_int_equal(atomic_load(&api.calls), 1);
	assert_non_null(a);
	assert_int_equal(a->n, 2);
	assert_string_equal(a->entries[0].name, "nightly");
	assert_null(api.previous_seen);

	assert_int_equal(get(c, &api, &b), 0);
	assert_int_equal(atomic_load(&api.calls), 1);
	assert_ptr_equal(a, b);
	assert_int_equal(a->refs, 3); /* the cache's and ours */
	listing_unref(a);
	listing_unref(b);
	cache_free(c);
}

static void test_stats_count_hits_misses_loads_and_objects(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	struct listing *l;
	struct cache_stats st;
	(void)state;
	fake_init(&api);
	cache_stats(c, &st);
	assert_int_equal(st.listings + st.objects + st.hits + st.misses + st.loads, 0);
	assert_int_equal(get(c, &api, &l), 0); /* a miss, one load */
	listing_unref(l);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(get(c, &api, &l), 0);
		listing_unref(l);
	}
	assert_int_equal(cache_refresh(c, KEY, fake_loader, &api), 0); /* fresh: nothing */
	cache_stats(c, &st);
	assert_int_equal(st.listings, 1);
	assert_int_equal(st.objects, 2);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.loads, 1);
	cache_drop_all(c);
	cache_stats(c, &st);
	assert_int_equal(st.listings + st.objects, 0);
	cache_free(c);
}

static void test_ttl_zero_loads_every_time(void **state)
{
	struct cache *c = cache_new(0, 0, 0);
	struct fake_api api;
	struct listing *first = NULL, *l = NULL;
	(void)state;
	fake_init(&api);
	assert_int_equal(get(c, &api, &first), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(get(c, &api, &l), 0);
		assert_ptr_not_equal(l, first);
		listing_unref(l);
	}
	assert_int_equal(atomic_load(&api.calls), 4);
	/* The listing we still hold outlived its replacements. */
	assert_string_equal(first->entries[1].name, "id-2");
	listing_unref(first);
	cache_free(c);
}

static void test_listing_younger_than_ttl_is_not_loaded_again(void **state)
{
	struct cache *c = cache_new(10, 0, 0);
	struct fake_api api;
	struct listing *a = NULL, *b = NULL;
	(void)state;
	fake_init(&api);
	api.age = 9.5;
	assert_int_equal(get(c, &api, &a), 0);
	assert_int_equal(get(c, &api, &b), 0);
	assert_int_equal(atomic_load(&api.calls), 1);
	assert_ptr_equal(a, b);
	listing_unref(a);
	listing_unref(b);
	cache_free(c);
}

static void test_listing_older_than_ttl_is_loaded_again_with_previous(void **state)
{
	struct cache *c = cache_new(10, 0, 0);
	struct fake_api api;
	struct listing *old = NULL, *fresh = NULL;
	(void)state;
	fake_init(&api);
	api.age = 10.5;
	assert_int_equal(get(c, &api, &old), 0);
	assert_int_equal(get(c, &api, &fresh), 0);
	assert_int_equal(atomic_load(&api.calls), 2);
	assert_ptr_not_equal(fresh, old);
	/* The loader saw what it replaces (for the directory's mtime). */
	assert_ptr_equal(api.previous_seen, old);
	listing_unref(old);
	listing_unref(fresh);
	cache_free(c);
}

static void test_listing_expires_in_real_time(void **state)
{
	struct cache *c = cache_new(0.05, 0, 0);
	struct fake_api api;
	struct listing *l = NULL;
	(void)state;
	fake_init(&api);
	assert_int_equal(get(c, &api, &l), 0);
	listing_unref(l);
	sleep_ms(100);
	assert_int_equal(get(c, &api, &l), 0);
	assert_int_equal(atomic_load(&api.calls), 2);
	listing_unref(l);
	cache_free(c);
}

static void test_cache_ttl_reports_the_ttl(void **state)
{
	struct cache *c = cache_new(12.5, 0, 0);
	(void)state;
	assert_true(cache_ttl(c) == 12.5);
	cache_free(c);
}

/* ---- cache_peek, cache_drop_all ---- */

/* cache_loader_fn: hands over the listing in ctx. */
static int give_loader(void *ctx, const char *key, const struct listing *previous,
		       struct listing **out)
{
	(void)key, (void)previous;
	*out = ctx;
	return 0;
}

/* Install l (its reference taken) as key's listing, as a load would. */
static void seed(struct cache *c, const char *key, struct listing *l)
{
	cache_forget(c, key);
	assert_int_equal(cache_refresh(c, key, give_loader, l), 0);
}

/* One cache_get on a thread, so the test can act while the load runs. */
struct getter {
	pthread_t thread;
	struct cache *cache;
	struct fake_api *api;
	pthread_barrier_t *barrier;
	int rc;
	struct listing *got;
};

static void *getter_main(void *arg)
{
	struct getter *g = arg;
	if (g->barrier)
		pthread_barrier_wait(g->barrier);
	g->rc = cache_get(g->cache, NULL, KEY, fake_loader, g->api, &g->got);
	return NULL;
}

/* ---- users' calls (an op): interrupted waiters leave, the shared load goes on ---- */

static bool flag_set(void *ctx)
{
	return atomic_load((atomic_bool *)ctx);
}

struct op_getter {
	pthread_t thread;
	struct cache *cache;
	struct fake_api *api;
	struct op op;
	int rc;
	double took;
	struct listing *got;
};

static void *op_getter_main(void *arg)
{
	struct op_getter *g = arg;
	double t0 = cache_now();
	g->rc = cache_get(g->cache, &g->op, KEY, fake_loader, g->api, &g->got);
	g->took = cache_now() - t0;
	return NULL;
}

static void test_interrupted_waiter_leaves_at_once_and_the_load_serves_the_others(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	atomic_bool ctrl_c, never;
	struct op_getter first = {.cache = c, .api = &api}, second = {.cache = c, .api = &api};
	(void)state;
	fake_init(&api);
	api.sleep_ms = 800;
	atomic_init(&ctrl_c, false);
	atomic_init(&never, false);
	op_start(&first.op, 30, flag_set, &ctrl_c);
	op_start(&second.op, 30, flag_set, &never);
	assert_int_equal(pthread_create(&first.thread, NULL, op_getter_main, &first), 0);
	while (!atomic_load(&api.started))
		sleep_ms(1);
	assert_int_equal(pthread_create(&second.thread, NULL, op_getter_main, &second), 0);
	sleep_ms(100);
	atomic_store(&ctrl_c, true); /* the one who started the load is interrupted */
	assert_int_equal(pthread_join(first.thread, NULL), 0);
	assert_int_equal(first.rc, -EINTR);
	assert_null(first.got);
	assert_true(first.took < 0.5);
	assert_int_equal(pthread_join(second.thread, NULL), 0);
	assert_int_equal(second.rc, 0); /* the load went on for the other waiter */
	assert_non_null(second.got);
	assert_int_equal(atomic_load(&api.calls), 1);
	listing_unref(second.got);
	cache_free(c);
}

static void test_waiter_past_its_deadline_gets_the_stale_listing(void **state)
{
	struct cache *c = cache_new(0.05, 0, 0); /* expires at once */
	struct fake_api api;
	struct listing *old = NULL;
	struct op_getter g = {.cache = c, .api = &api};
	(void)state;
	fake_init(&api);
	assert_int_equal(get(c, &api, &old), 0);
	sleep_ms(100);
	api.sleep_ms = 1000; /* the API is slow now */
	op_start(&g.op, 0.2, NULL, NULL);
	op_getter_main(&g);
	assert_int_equal(g.rc, 0);
	assert_ptr_equal(g.got, old);
	assert_true(g.took < 0.6);
	listing_unref(g.got);
	listing_unref(old);
	cache_free(c); /* waits for the slow load to end */
	assert_int_equal(atomic_load(&api.calls), 2);
}

static void test_op_already_ended_loads_nothing(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	atomic_bool ctrl_c;
	struct op_getter g = {.cache = c, .api = &api};
	(void)state;
	fake_init(&api);
	atomic_init(&ctrl_c, true);
	op_start(&g.op, 30, flag_set, &ctrl_c);
	op_getter_main(&g);
	assert_int_equal(g.rc, -EINTR);
	assert_int_equal(atomic_load(&api.calls), 0);
	cache_free(c);
}

static void test_peek_returns_current_listing_or_null(void **state)
{
	struct cache *c = cache_new(0, 0, 0);
	struct fake_api api;
	struct listing *l = NULL;
	(void)state;
	fake_init(&api);
	assert_null(cache_peek(c, KEY));
	assert_int_equal(get(c, &api, &l), 0);
	struct listing *peeked = cache_peek(c, KEY); /* however old: ttl is 0 */
	assert_ptr_equal(peeked, l);
	assert_int_equal(atomic_load(&api.calls), 1);
	listing_unref(peeked);
	listing_unref(l);
	cache_free(c);
}

static void test_drop_all_forces_a_load(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	struct listing *a = NULL, *b = NULL;
	(void)state;
	fake_init(&api);
	assert_int_equal(get(c, &api, &a), 0);
	assert_int_equal(cache_get(c, NULL, "other-key", fake_loader, &api, &b), 0);
	listing_unref(b);
	assert_int_equal(atomic_load(&api.calls), 2);
	cache_drop_all(c);
	assert_null(cache_peek(c, KEY));
	assert_null(cache_peek(c, "other-key"));
	assert_int_equal(get(c, &api, &b), 0);
	assert_int_equal(atomic_load(&api.calls), 3);
	assert_ptr_not_equal(a, b);
	assert_int_equal(a->refs, 1); /* only ours: the cache let go */
	listing_unref(a);
	listing_unref(b);
	cache_free(c);
}

static void test_keys_are_cached_separately(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	struct listing *a = NULL, *b = NULL;
	(void)state;
	fake_init(&api);
	assert_int_equal(cache_get(c, NULL, "svc-1", fake_loader, &api, &a), 0);
	assert_int_equal(cache_get(c, NULL, "svc-2", fake_loader, &api, &b), 0);
	assert_int_equal(atomic_load(&api.calls), 2);
	assert_ptr_not_equal(a, b);
	listing_unref(a);
	listing_unref(b);
	cache_free(c);
}

/* ---- failures ---- */

static void test_failing_loader_error_is_returned_and_nothing_cached(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	struct listing sentinel;
	struct listing *l = &sentinel; /* must be reset */
	(void)state;
	fake_init(&api);
	api.fail_rc = -ETIMEDOUT;
	assert_int_equal(get(c, &api, &l), -ETIMEDOUT);
	assert_null(l);
	assert_null(cache_peek(c, KEY));
	/* The error is not cached either: the next access asks again. */
	api.fail_rc = 0;
	assert_int_equal(get(c, &api, &l), 0);
	assert_non_null(l);
	assert_int_equal(atomic_load(&api.calls), 2);
	listing_unref(l);
	cache_free(c);
}

static void test_outage_serves_the_previous_listing_stale(void **state)
{
	struct cache *c = cache_new(0, 0, 0);
	struct fake_api api;
	struct listing *l = NULL;
	(void)state;
	fake_init(&api);
	assert_int_equal(get(c, &api, &l), 0);
	struct listing *good = l;
	/* EIO, ETIMEDOUT, EAGAIN: the API cannot answer; the old listing is served. */
	api.fail_rc = -EIO;
	assert_int_equal(get(c, &api, &l), 0);
	assert_ptr_equal(l, good);
	listing_unref(l);
	api.fail_rc = -ETIMEDOUT;
	assert_int_equal(get(c, &api, &l), 0);
	assert_ptr_equal(l, good);
	listing_unref(l);
	assert_int_equal(atomic_load(&api.calls), 3); /* it asked each time */
	listing_unref(good);
	cache_free(c);
}

static void test_refusal_is_not_hidden_by_a_stale_listing(void **state)
{
	struct cache *c = cache_new(0, 0, 0);
	struct fake_api api;
	struct listing *l = NULL;
	(void)state;
	fake_init(&api);
	assert_int_equal(get(c, &api, &l), 0);
	struct listing *good = l;
	/* EACCES, ENOENT: the API answered no; that answer is the user's. */
	api.fail_rc = -EACCES;
	assert_int_equal(get(c, &api, &l), -EACCES);
	assert_null(l);
	struct listing *peeked = cache_peek(c, KEY);
	assert_ptr_equal(peeked, good);
	listing_unref(peeked);
	listing_unref(good);
	cache_free(c);
}

/* ---- size cap and background refresh ---- */

static int get_key(struct cache *c, struct fake_api *api, const char *key)
{
	struct listing *l;
	int rc = cache_get(c, NULL, key, fake_loader, api, &l);
	listing_unref(l);
	return rc;
}

static void test_cache_max_drops_the_least_recently_used_listing(void **state)
{
	struct cache *c = cache_new(60, 5, 0); /* each listing holds 2 objects */
	struct fake_api api;
	(void)state;
	fake_init(&api);
	assert_int_equal(get_key(c, &api, "a"), 0);
	assert_int_equal(get_key(c, &api, "b"), 0);
	assert_int_equal(get_key(c, &api, "a"), 0); /* a is now more recent than b */
	assert_int_equal(get_key(c, &api, "c"), 0); /* 6 objects > 5: b goes */
	assert_int_equal(atomic_load(&api.calls), 3);
	assert_true(cache_is_fresh(c, "a") && cache_is_fresh(c, "c"));
	assert_false(cache_is_fresh(c, "b"));
	assert_int_equal(get_key(c, &api, "b"), 0);
	assert_int_equal(atomic_load(&api.calls), 4);
	cache_free(c);
}

static void test_expired_listings_a_user_saw_are_handed_out_once(void **state)
{
	struct cache *c = cache_new(10, 0, 0);
	struct fake_api api;
	char *keys[4];
	(void)state;
	fake_init(&api);
	api.age = 10.5; /* expired as soon as loaded */
	assert_int_equal(get_key(c, &api, "seen"), 0);
	assert_int_equal(cache_refresh(c, "unseen", fake_loader, &api), 0);
	assert_int_equal(cache_take_expired(c, keys, 4), 1);
	assert_string_equal(keys[0], "seen");
	free(keys[0]);
	assert_int_equal(cache_take_expired(c, keys, 4), 0); /* once per use */
	/* A background refresh is not a use: it does not ask to be refreshed again. */
	assert_int_equal(cache_refresh(c, "seen", fake_loader, &api), 0);
	assert_int_equal(cache_take_expired(c, keys, 4), 0);
	cache_free(c);
}

/* ---- concurrency ---- */

static void run_getters(struct cache *c, struct fake_api *api, struct getter *g)
{
	pthread_barrier_t barrier;
	assert_int_equal(pthread_barrier_init(&barrier, NULL, N_THREADS), 0);
	for (int i = 0; i < N_THREADS; i++) {
		g[i] = (struct getter){.cache = c, .api = api, .barrier = &barrier};
		assert_int_equal(pthread_create(&g[i].thread, NULL, getter_main, &g[i]), 0);
	}
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_join(g[i].thread, NULL), 0);
	pthread_barrier_destroy(&barrier);
}

static void test_concurrent_misses_on_one_key_share_one_load(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	struct getter g[N_THREADS];
	(void)state;
	fake_init(&api);
	api.sleep_ms = 200;
	run_getters(c, &api, g);
	assert_int_equal(atomic_load(&api.calls), 1);
	for (int i = 0; i < N_THREADS; i++) {
		assert_int_equal(g[i].rc, 0);
		assert_non_null(g[i].got);
		assert_ptr_equal(g[i].got, g[0].got);
	}
	assert_int_equal(g[0].got->refs, N_THREADS + 1);
	for (int i = 0; i < N_THREADS; i++)
		listing_unref(g[i].got);
	cache_free(c);
}

static void test_concurrent_misses_share_the_load_error(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	struct getter g[N_THREADS];
	(void)state;
	fake_init(&api);
	api.sleep_ms = 200;
	api.fail_rc = -EACCES;
	run_getters(c, &api, g);
	assert_int_equal(atomic_load(&api.calls), 1);
	for (int i = 0; i < N_THREADS; i++) {
		assert_int_equal(g[i].rc, -EACCES);
		assert_null(g[i].got);
	}
	cache_free(c);
}

/* ---- listings ---- */

static void test_listing_find_by_display_name_and_by_id(void **state)
{
	static const char *const names[] = {"nightly", NULL, "weekly"};
	static const char *const ids[] = {"id-1", "id-2", "id-3"};
	struct listing *l = make_listing(names, ids, 3);
	(void)state;
	assert_ptr_equal(listing_find(l, "nightly"), &l->entries[0]);
	assert_ptr_equal(listing_find(l, "id-1"), &l->entries[0]); /* listed by name, found by id */
	assert_ptr_equal(listing_find(l, "id-2"), &l->entries[1]);
	assert_ptr_equal(listing_find(l, "weekly"), &l->entries[2]);
	assert_null(listing_find(l, "monthly"));
	assert_null(listing_find(l, "nightl"));
	assert_null(listing_find(l, ""));
	listing_unref(l);
}

static void test_listing_find_names_win_over_ids(void **state)
{
	/* Entry 0 is displayed as "id-2", which is entry 1's id. */
	static const char *const names[] = {"id-2", "beta"};
	static const char *const ids[] = {"id-1", "id-2"};
	struct listing *l = make_listing(names, ids, 2);
	(void)state;
	assert_ptr_equal(listing_find(l, "id-2"), &l->entries[0]);
	assert_ptr_equal(listing_find(l, "beta"), &l->entries[1]);
	assert_ptr_equal(listing_find(l, "id-1"), &l->entries[0]);
	listing_unref(l);
}

static void test_listing_find_in_empty_listing_is_null(void **state)
{
	struct listing *l = listing_new(0);
	(void)state;
	assert_non_null(l);
	assert_int_equal(l->n, 0);
	assert_null(listing_find(l, "anything"));
	listing_unref(l);
}

static void test_listing_refcount_frees_on_last_unref(void **state)
{
	struct listing *l = make_listing(default_names, default_ids, 2);
	(void)state;
	assert_int_equal(l->refs, 1);
	assert_ptr_equal(listing_ref(l), l);
	assert_int_equal(l->refs, 2);
	listing_unref(l);
	assert_int_equal(l->refs, 1);
	assert_string_equal(l->entries[0].obj.id, "id-1"); /* still alive */
	listing_unref(l); /* frees it and its objects: the ASan build checks */
	assert_null(listing_ref(NULL));
	listing_unref(NULL);
}

static void test_listing_held_by_caller_survives_cache_free(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	struct listing *l = NULL;
	(void)state;
	fake_init(&api);
	assert_int_equal(get(c, &api, &l), 0);
	cache_free(c);
	assert_int_equal(l->refs, 1);
	assert_string_equal(l->entries[0].name, "nightly");
	listing_unref(l);
	cache_free(NULL);
}

/* ---- cache_update and cache_forget ---- */

/* cache_update_fn: the current listing plus one entry named ctx. */
static struct listing *add_entry(void *ctx, const struct listing *cur)
{
	const char *name = ctx;
	struct listing *next = listing_new(cur->n + 1);
	assert_non_null(next);
	for (size_t i = 0; i < cur->n; i++) {
		struct entry *e = &next->entries[next->n++];
		e->obj.id = xstrdup(cur->entries[i].obj.id);
		e->obj.json = xstrdup("{}\n");
		e->obj.json_len = 3;
		e->name = e->obj.id;
	}
	struct entry *e = &next->entries[next->n++];
	e->obj.id = xstrdup(name);
	e->obj.json = xstrdup("{}\n");
	e->obj.json_len = 3;
	e->name = e->obj.id;
	next->fetched = cur->fetched;
	return next;
}

static void update_add(struct cache *c, const char *name)
{
	struct listing *was;
	struct listing *next = cache_update(c, KEY, add_entry, (void *)name, &was);
	assert_non_null(next);
	assert_non_null(was);
	assert_int_equal(next->n, was->n + 1);
	listing_unref(next);
	listing_unref(was);
}

#define UPDATES_PER_THREAD 200

struct updater {
	pthread_t thread;
	struct cache *cache;
	int index;
	pthread_barrier_t *barrier;
};

static void *updater_main(void *arg)
{
	struct updater *u = arg;
	char name[32];
	pthread_barrier_wait(u->barrier);
	for (int i = 0; i < UPDATES_PER_THREAD; i++) {
		snprintf(name, sizeof(name), "t%d-%d", u->index, i);
		update_add(u->cache, name);
	}
	return NULL;
}

static void test_concurrent_updates_of_one_listing_lose_nothing(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct updater u[N_THREADS];
	pthread_barrier_t barrier;
	char name[32];
	(void)state;
	seed(c, KEY, make_listing(NULL, NULL, 0));
	assert_int_equal(pthread_barrier_init(&barrier, NULL, N_THREADS), 0);
	for (int i = 0; i < N_THREADS; i++) {
		u[i] = (struct updater){.cache = c, .index = i, .barrier = &barrier};
		assert_int_equal(pthread_create(&u[i].thread, NULL, updater_main, &u[i]), 0);
	}
	for (int i = 0; i < N_THREADS; i++)
		assert_int_equal(pthread_join(u[i].thread, NULL), 0);
	pthread_barrier_destroy(&barrier);
	struct listing *l = cache_peek(c, KEY);
	assert_int_equal(l->n, N_THREADS * UPDATES_PER_THREAD);
	for (int i = 0; i < N_THREADS; i++) {
		snprintf(name, sizeof(name), "t%d-%d", i, UPDATES_PER_THREAD - 1);
		assert_non_null(listing_find(l, name));
	}
	listing_unref(l);
	cache_free(c);
}

static void test_update_during_a_load_wins_over_the_load(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	struct getter g = {.cache = c, .api = &api};
	(void)state;
	fake_init(&api);
	struct listing *old = make_listing(NULL, NULL, 0);
	old->fetched -= 120; /* expired: the getter loads */
	seed(c, KEY, old);
	api.sleep_ms = 200;
	assert_int_equal(pthread_create(&g.thread, NULL, getter_main, &g), 0);
	while (!atomic_load(&api.started))
		sleep_ms(1);
	update_add(c, "made-by-mkdir"); /* while the (older) load is under way */
	assert_int_equal(pthread_join(g.thread, NULL), 0);
	assert_int_equal(g.rc, 0);
	assert_non_null(listing_find(g.got, "made-by-mkdir"));
	struct listing *peeked = cache_peek(c, KEY);
	assert_non_null(listing_find(peeked, "made-by-mkdir"));
	listing_unref(peeked);
	listing_unref(g.got);
	cache_free(c);
}

static struct listing *must_not_run(void *ctx, const struct listing *cur)
{
	(void)ctx, (void)cur;
	fail();
	return NULL;
}

static void test_update_of_an_uncached_key_does_nothing(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct listing *was = (struct listing *)1;
	(void)state;
	assert_null(cache_update(c, KEY, must_not_run, NULL, &was));
	assert_null(was);
	assert_null(cache_peek(c, KEY));
	cache_free(c);
}

static void test_forget_makes_the_next_get_ask_and_drops_a_load_under_way(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct fake_api api;
	struct getter g = {.cache = c, .api = &api};
	struct listing *l;
	(void)state;
	fake_init(&api);
	struct listing *old = make_listing(NULL, NULL, 0);
	old->fetched -= 120;
	seed(c, KEY, old);
	api.sleep_ms = 200;
	assert_int_equal(pthread_create(&g.thread, NULL, getter_main, &g), 0);
	while (!atomic_load(&api.started))
		sleep_ms(1);
	cache_forget(c, KEY); /* the load under way may predate what made us forget */
	assert_int_equal(pthread_join(g.thread, NULL), 0);
	assert_int_equal(g.rc, 0);
	/* Its answer was not used: the getter asked the API again. */
	assert_int_equal(atomic_load(&api.calls), 2);
	assert_int_equal(g.got->n, 2);
	struct listing *peeked = cache_peek(c, KEY);
	assert_ptr_equal(peeked, g.got); /* the second load is kept as usual */
	listing_unref(peeked);
	api.sleep_ms = 0;
	assert_int_equal(get(c, &api, &l), 0);
	assert_int_equal(atomic_load(&api.calls), 2);
	listing_unref(l);
	cache_forget(c, KEY); /* no load under way: the next get asks */
	assert_null(cache_peek(c, KEY));
	assert_int_equal(get(c, &api, &l), 0);
	assert_int_equal(atomic_load(&api.calls), 3);
	listing_unref(l);
	listing_unref(g.got);
	cache_free(c);
}

/* ---- large listings, changes built outside the lock, bytes ---- */

#define BIG 5000

/* A listing of n snapshots "snap-I" (id "id-I"); every 10th has no name. */
static struct listing *big_listing(size_t n)
{
	struct listing *l = listing_new(n);
	char name[32], id[32];
	assert_non_null(l);
	for (size_t i = 0; i < n; i++) {
		struct entry *e = &l->entries[l->n++];
		snprintf(name, sizeof(name), "snap-%zu", i);
		snprintf(id, sizeof(id), "id-%zu", i);
		e->obj.id = xstrdup(id);
		e->obj.name = i % 10 ? xstrdup(name) : NULL;
		e->obj.json = xstrdup("{}\n");
		e->obj.json_len = 3;
		e->name = e->obj.name ? e->obj.name : e->obj.id;
	}
	l->fetched = cache_now();
	return l;
}

static void test_listing_find_in_a_large_listing_by_name_and_by_id(void **state)
{
	struct listing *l = big_listing(BIG);
	char text[32];
	(void)state;
	for (size_t i = 0; i < BIG; i += 7) {
		snprintf(text, sizeof(text), "id-%zu", i);
		assert_ptr_equal(listing_find(l, text), &l->entries[i]);
		assert_ptr_equal(listing_find_id(l, text), &l->entries[i]);
		snprintf(text, sizeof(text), "snap-%zu", i);
		if (i % 10)
			assert_ptr_equal(listing_find(l, text), &l->entries[i]);
		else
			assert_null(listing_find(l, text)); /* listed by its id */
		assert_null(listing_find_id(l, text));
	}
	assert_null(listing_find(l, "snap-"));
	assert_null(listing_find(l, ""));
	assert_null(listing_find_id(NULL, "id-1"));
	listing_unref(l);
}

static void test_listing_find_in_a_large_listing_names_win_over_ids(void **state)
{
	struct listing *l = big_listing(BIG);
	(void)state;
	/* Entry 3 shown as "id-4" (as if the API named it so and 4 were hidden). */
	l->entries[3].name = l->entries[4].obj.id;
	l->entries[4].name = l->entries[4].obj.name;
	assert_ptr_equal(listing_find(l, "id-4"), &l->entries[3]);
	assert_ptr_equal(listing_find_id(l, "id-4"), &l->entries[4]);
	listing_unref(l);
}

static struct efs_object object(const char *id, const char *name)
{
	struct efs_object o = {.id = (char *)id, .name = (char *)name};
	o.json = (char *)"{}\n";
	o.json_len = 3;
	return o;
}

static void assert_ids(const struct efs_list *list, const char *const *ids, size_t n)
{
	assert_int_equal(list->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(list->items[i].id, ids[i]);
}

static void test_changed_objects_list_each_id_once(void **state)
{
	static const char *const names[] = {"a", "b", "held"};
	static const char *const ids[] = {"id-1", "id-2", "id-3"};
	struct listing *l = make_listing(names, ids, 3);
	struct efs_object held = object("id-3", "held"), added = object("id-9", "new");
	struct efs_list list;
	(void)state;
	/* A hold of id-1 whose copy (id-3) a load already brought in: id-3 once, in id-1's place.
	 */
	assert_int_equal(listing_objects_changed(l, LISTING_REPLACE, "id-1", &held, &list), 0);
	assert_ids(&list, (const char *const[]){"id-3", "id-2"}, 2);
	efs_list_free(&list);
	/* A replace of what a load already removed brings nothing back. */
	assert_int_equal(listing_objects_changed(l, LISTING_REPLACE, "id-9", &added, &list), 0);
	assert_ids(&list, ids, 3);
	efs_list_free(&list);
	/* An add of an id the listing has (a load landed first): replaced, not doubled. */
	assert_int_equal(listing_objects_changed(l, LISTING_ADD, NULL, &held, &list), 0);
	assert_ids(&list, ids, 3);
	efs_list_free(&list);
	assert_int_equal(listing_objects_changed(l, LISTING_ADD, NULL, &added, &list), 0);
	assert_ids(&list, (const char *const[]){"id-1", "id-2", "id-3", "id-9"}, 4);
	assert_string_equal(list.items[3].name, "new");
	efs_list_free(&list);
	/* A remove, and a remove of an id that is not there. */
	assert_int_equal(listing_objects_changed(l, LISTING_REMOVE, "id-2", NULL, &list), 0);
	assert_ids(&list, (const char *const[]){"id-1", "id-3"}, 2);
	efs_list_free(&list);
	assert_int_equal(listing_objects_changed(l, LISTING_REMOVE, "id-7", NULL, &list), 0);
	assert_ids(&list, ids, 3);
	efs_list_free(&list);
	listing_unref(l);
}

/* cache_update_fn that keeps the old fetch time, as snapops' did. */
static struct listing *add_keeping_fetched(void *ctx, const struct listing *cur)
{
	return add_entry(ctx, cur);
}

static void test_a_change_counts_as_fetched_now_so_no_lagging_reload_follows(void **state)
{
	struct cache *c = cache_new(2, 0, 0);
	struct fake_api api;
	struct listing *was, *l;
	(void)state;
	fake_init(&api); /* an API that lags: its listing lacks what we made */
	struct listing *old = make_listing(NULL, NULL, 0);
	old->fetched -= 1.9; /* about to expire */
	seed(c, KEY, old);
	struct listing *next = cache_update(c, KEY, add_keeping_fetched, (void *)"made", &was);
	assert_non_null(next);
	listing_unref(next);
	listing_unref(was);
	sleep_ms(300); /* the old fetch time is past the TTL now */
	assert_int_equal(get(c, &api, &l), 0);
	assert_int_equal(atomic_load(&api.calls), 0);
	assert_non_null(listing_find(l, "made"));
	listing_unref(l);
	cache_free(c);
}

struct peeker {
	struct cache *cache;
	atomic_bool done;
};

static void *peeker_main(void *arg)
{
	struct peeker *p = arg;
	listing_unref(cache_peek(p->cache, "another key"));
	struct cache_stats cs;
	cache_stats(p->cache, &cs);
	atomic_store(&p->done, true);
	return NULL;
}

/* cache_update_fn: while it builds, another thread uses the cache. */
static struct listing *add_while_another_reads(void *ctx, const struct listing *cur)
{
	struct peeker *p = ctx;
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, peeker_main, p), 0);
	for (int i = 0; i < 5000 && !atomic_load(&p->done); i++)
		sleep_ms(1);
	bool done = atomic_load(&p->done);
	if (!done)
		pthread_detach(thread); /* it waits for our lock: the test fails below */
	else
		assert_int_equal(pthread_join(thread, NULL), 0);
	return done ? add_entry((void *)"made", cur) : NULL;
}

static void test_a_change_is_built_without_the_cache_lock(void **state)
{
	struct cache *c = cache_new(60, 0, 0);
	struct peeker p = {.cache = c};
	struct listing *was;
	(void)state;
	atomic_init(&p.done, false);
	seed(c, KEY, make_listing(NULL, NULL, 0));
	struct listing *next = cache_update(c, KEY, add_while_another_reads, &p, &was);
	assert_true(atomic_load(&p.done)); /* the reader was not held up by the build */
	assert_non_null(next);
	listing_unref(next);
	listing_unref(was);
	cache_free(c);
}

static void test_cache_max_in_bytes_drops_the_least_recently_used_listing(void **state)
{
	struct cache *probe = cache_new(60, 0, 0);
	struct fake_api api;
	struct cache_stats cs;
	(void)state;
	fake_init(&api);
	assert_int_equal(get_key(probe, &api, "a"), 0);
	cache_stats(probe, &cs);
	assert_true(cs.bytes > 0);
	size_t one = cs.bytes;
	cache_forget(probe, "a");
	cache_stats(probe, &cs);
	assert_int_equal(cs.bytes, 0);
	assert_int_equal(cs.listings, 0);
	cache_free(probe);

	struct cache *c = cache_new(60, 0, 2 * one + one / 2); /* room for two */
	assert_int_equal(get_key(c, &api, "a"), 0);
	assert_int_equal(get_key(c, &api, "b"), 0);
	assert_int_equal(get_key(c, &api, "a"), 0); /* a is now more recent than b */
	assert_int_equal(get_key(c, &api, "c"), 0); /* b goes */
	assert_true(cache_is_fresh(c, "a") && cache_is_fresh(c, "c"));
	assert_false(cache_is_fresh(c, "b"));
	cache_stats(c, &cs);
	assert_int_equal(cs.listings, 2);
	assert_int_equal(cs.bytes, 2 * one);
	cache_free(c);
}

static void test_cache_max_text_is_a_size_or_a_count_of_objects(void **state)
{
	size_t objects, bytes;
	(void)state;
	assert_int_equal(cache_parse_max("512M", &objects, &bytes), 0);
	assert_int_equal(bytes, (size_t)512 << 20);
	assert_int_equal(objects, 0);
	assert_int_equal(cache_parse_max("2G", &objects, &bytes), 0);
	assert_int_equal(bytes, (size_t)2 << 30);
	assert_int_equal(cache_parse_max("64KiB", &objects, &bytes), 0);
	assert_int_equal(bytes, (size_t)64 << 10);
	assert_int_equal(cache_parse_max("256m", &objects, &bytes), 0); /* as tmpfs' size= */
	assert_int_equal(bytes, (size_t)256 << 20);
	assert_int_equal(cache_parse_max("1TB", &objects, &bytes), 0);
	assert_int_equal(bytes, (size_t)1 << 40);
	/* Digits alone: the option's first meaning, a count of objects. */
	assert_int_equal(cache_parse_max("1000000", &objects, &bytes), 0);
	assert_int_equal(objects, 1000000);
	assert_int_equal(bytes, 0);
	assert_int_equal(cache_parse_max("0", &objects, &bytes), 0);
	assert_int_equal(objects + bytes, 0);
	static const char *const bad[] = {"",  "-1",  "1e3", "0x10",  "1.5G", "5X",
					  "G", " 5M", "5M ", "5MiBs", "5 M",  "5Mb"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cache_parse_max(bad[i], &objects, &bytes), -EINVAL);
	assert_int_equal(cache_parse_max("2T", &objects, &bytes), -ERANGE);
	assert_int_equal(cache_parse_max("1048577M", &objects, &bytes), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_get_loads_once_and_second_within_ttl_does_not),
		cmocka_unit_test(test_stats_count_hits_misses_loads_and_objects),
		cmocka_unit_test(test_ttl_zero_loads_every_time),
		cmocka_unit_test(test_listing_younger_than_ttl_is_not_loaded_again),
		cmocka_unit_test(test_listing_older_than_ttl_is_loaded_again_with_previous),
		cmocka_unit_test(test_listing_expires_in_real_time),
		cmocka_unit_test(test_cache_ttl_reports_the_ttl),
		cmocka_unit_test(test_peek_returns_current_listing_or_null),
		cmocka_unit_test(test_concurrent_updates_of_one_listing_lose_nothing),
		cmocka_unit_test(test_update_during_a_load_wins_over_the_load),
		cmocka_unit_test(test_update_of_an_uncached_key_does_nothing),
		cmocka_unit_test(test_forget_makes_the_next_get_ask_and_drops_a_load_under_way),
		cmocka_unit_test(test_drop_all_forces_a_load),
		cmocka_unit_test(test_keys_are_cached_separately),
		cmocka_unit_test(test_failing_loader_error_is_returned_and_nothing_cached),
		cmocka_unit_test(test_outage_serves_the_previous_listing_stale),
		cmocka_unit_test(test_cache_max_drops_the_least_recently_used_listing),
		cmocka_unit_test(test_expired_listings_a_user_saw_are_handed_out_once),
		cmocka_unit_test(test_refusal_is_not_hidden_by_a_stale_listing),
		cmocka_unit_test(test_concurrent_misses_on_one_key_share_one_load),
		cmocka_unit_test(test_concurrent_misses_share_the_load_error),
		cmocka_unit_test(test_listing_find_by_display_name_and_by_id),
		cmocka_unit_test(test_listing_find_names_win_over_ids),
		cmocka_unit_test(test_listing_find_in_empty_listing_is_null),
		cmocka_unit_test(test_listing_refcount_frees_on_last_unref),
		cmocka_unit_test(test_listing_held_by_caller_survives_cache_free),
		cmocka_unit_test(
			test_interrupted_waiter_leaves_at_once_and_the_load_serves_the_others),
		cmocka_unit_test(test_waiter_past_its_deadline_gets_the_stale_listing),
		cmocka_unit_test(test_op_already_ended_loads_nothing),
		cmocka_unit_test(test_listing_find_in_a_large_listing_by_name_and_by_id),
		cmocka_unit_test(test_listing_find_in_a_large_listing_names_win_over_ids),
		cmocka_unit_test(test_changed_objects_list_each_id_once),
		cmocka_unit_test(test_a_change_counts_as_fetched_now_so_no_lagging_reload_follows),
		cmocka_unit_test(test_a_change_is_built_without_the_cache_lock),
		cmocka_unit_test(test_cache_max_in_bytes_drops_the_least_recently_used_listing),
		cmocka_unit_test(test_cache_max_text_is_a_size_or_a_count_of_objects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
