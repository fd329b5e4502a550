/* cacheupdate: cache_update, our own changes swapped into a cached listing. */
#include <pthread.h>
#include <stdbool.h>

#include "cache.h"
#include "cacheslot.h"

/* Tries of cache_update before it gives up on a listing that keeps changing. */
#define UPDATE_TRIES 8

/* Install next in place of cur, unless s moved on meanwhile (lock held). */
static bool swap_in(struct cache *c, struct slot *s, struct listing *cur, unsigned long changes,
		    struct listing *next, struct listing **grave)
{
	if (s->listing != cur || s->changes != changes)
		return false;
	cache_slot_set(c, s, listing_ref(next), grave);
	s->changes++; /* a load under way may predate this change: it is dropped */
	return true;
}

/* Take key's turn to update (lock held): updates of one key build one after another. */
static struct slot *update_begin(struct cache *c, const char *key)
{
	struct slot *s = cache_slot_get(c, key, false);
	while (s && s->updating)
		pthread_cond_wait(&c->loaded, &c->lock); /* a build takes no I/O: short */
	if (s)
		s->updating = true;
	return s;
}

static void update_end(struct cache *c, struct slot *s)
{
	pthread_mutex_lock(&c->lock);
	s->updating = false;
	pthread_cond_broadcast(&c->loaded);
	pthread_mutex_unlock(&c->lock);
}

/* Build from s's listing and install the result unless a load landed meanwhile. */
static struct listing *update_once(struct cache *c, struct slot *s, cache_update_fn fn, void *ctx,
				   struct listing **was, bool *again)
{
	struct listing *grave = NULL, *next = NULL;
	pthread_mutex_lock(&c->lock);
	unsigned long changes = s->changes;
	struct listing *cur = listing_ref(s->listing);
	pthread_mutex_unlock(&c->lock);
	if (cur)
		next = fn(ctx, cur); /* built without the lock */
	*again = false;
	if (!next) {
		listing_unref(cur);
		return NULL;
	}
	next->fetched = cache_now(); /* newer than any load that could land now */
	listing_account(next);
	pthread_mutex_lock(&c->lock);
	bool done = swap_in(c, s, cur, changes, next, &grave);
	pthread_mutex_unlock(&c->lock);
	listing_release_all(grave);
	if (done) {
		*was = cur;
		return next;
	}
	*again = true; /* a load or a forget landed: build on what is there now */
	listing_unref(cur);
	listing_unref(next);
	return NULL;
}

struct listing *cache_update(struct cache *c, const char *key, cache_update_fn fn, void *ctx,
			     struct listing **was)
{
	struct listing *next = NULL;
	bool again = true;
	*was = NULL;
	pthread_mutex_lock(&c->lock);
	struct slot *s = update_begin(c, key);
	pthread_mutex_unlock(&c->lock);
	if (!s)
		return NULL;
	for (int try = 0; try < UPDATE_TRIES && again; try++)
		next = update_once(c, s, fn, ctx, was, &again);
	update_end(c, s);
	if (again)
		cache_forget(c, key); /* it kept changing: the next access asks the API */
	return next;
}
