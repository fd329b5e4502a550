/* cache: the slot table, LRU and caps, shared loads, forgetting. */
#include "cache.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cacheslot.h"
#include "clock.h"
#include "log.h"

double cache_now(void)
{
	return clock_now();
}

struct cache *cache_new(double ttl, size_t max_entries, size_t max_bytes)
{
	struct cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->ttl = ttl;
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	pthread_mutex_init(&c->lock, NULL);
	clock_cond_init(&c->loaded);
	return c;
}

double cache_ttl(const struct cache *c)
{
	return c->ttl;
}

static size_t hash_key(const char *key)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return (size_t)(h % N_BUCKETS);
}

/* Called with the lock held. */
struct slot *cache_slot_get(struct cache *c, const char *key, bool create)
{
	size_t b = hash_key(key);
	for (struct slot *s = c->buckets[b]; s; s = s->next)
		if (strcmp(s->key, key) == 0)
			return s;
	if (!create)
		return NULL;
	struct slot *s = calloc(1, sizeof(*s));
	if (!s || !(s->key = strdup(key))) {
		free(s);
		return NULL;
	}
	s->next = c->buckets[b];
	c->buckets[b] = s;
	return s;
}

static bool is_fresh(const struct cache *c, const struct listing *l)
{
	return l && cache_now() - l->fetched < c->ttl;
}

bool cache_is_fresh(struct cache *c, const char *key)
{
	pthread_mutex_lock(&c->lock);
	struct slot *s = cache_slot_get(c, key, false);
	bool fresh = s && is_fresh(c, s->listing);
	pthread_mutex_unlock(&c->lock);
	return fresh;
}

/* The LRU list (lock held): oldest ... newest, the slots that hold a listing. */
static void lru_unlink(struct cache *c, struct slot *s)
{
	*(s->older ? &s->older->newer : &c->oldest) = s->newer;
	*(s->newer ? &s->newer->older : &c->newest) = s->older;
	s->older = s->newer = NULL;
}

static void lru_append(struct cache *c, struct slot *s)
{
	s->older = c->newest;
	s->newer = NULL;
	*(c->newest ? &c->newest->newer : &c->oldest) = s;
	c->newest = s;
}

/* A use of s's listing: it becomes the newest (lock held). */
static void lru_touch(struct cache *c, struct slot *s)
{
	if (s->listing && c->newest != s) {
		lru_unlink(c, s);
		lru_append(c, s);
	}
}

/* The least recently used slot holding a listing, other than keep and those loading. */
static struct slot *lru_victim(struct cache *c, const struct slot *keep)
{
	struct slot *v = c->oldest;
	while (v && (v == keep || v->loading))
		v = v->newer; /* skips at most one slot per load under way */
	return v;
}

static bool over_cap(const struct cache *c)
{
	return (c->max_entries && c->entries > c->max_entries) ||
	       (c->max_bytes && c->bytes > c->max_bytes);
}

/* Take s's listing out of the cache (lock held); its reference goes to grave. */
static void slot_clear(struct cache *c, struct slot *s, struct listing **grave)
{
	if (!s->listing)
		return;
	c->entries -= s->listing->n;
	c->bytes -= s->listing->bytes;
	c->listings--;
	lru_unlink(c, s);
	listing_bury(grave, s->listing);
	s->listing = NULL;
}

/*
 * Install l (accounted) as s's listing (lock held), and drop the least
 * recently used listings past the caps. What goes is left in grave.
 */
void cache_slot_set(struct cache *c, struct slot *s, struct listing *l, struct listing **grave)
{
	slot_clear(c, s, grave);
	s->listing = l;
	if (l) {
		c->entries += l->n;
		c->bytes += l->bytes;
		c->listings++;
		lru_append(c, s);
	}
	while (over_cap(c)) {
		struct slot *victim = lru_victim(c, s);
		if (!victim)
			break;
		slot_clear(c, victim, grave);
		victim->changes++;
	}
}

/* The API could not answer (as opposed to refusing): an old listing beats none. */
static bool is_outage(int rc)
{
	return rc == -EIO || rc == -ETIMEDOUT || rc == -EAGAIN;
}

/* Called with the lock held, after a load. */
static void note_outage(struct cache *c, int rc, const struct slot *s)
{
	if (rc == 0 && c->serving_stale) {
		c->serving_stale = false;
		log_warn("listings are fresh again");
	} else if (rc && is_outage(rc) && s->listing && !c->serving_stale) {
		c->serving_stale = true;
		log_warn("the API cannot answer (%s): serving cached listings, %.0f s old and "
			 "older, until it does",
			 strerror(-rc), cache_now() - s->listing->fetched);
	}
}

/* Run the loader without the lock, then publish its result to the waiters. Lock held. */
static void load_slot(struct cache *c, struct slot *s, cache_loader_fn loader, void *ctx,
		      struct listing **grave)
{
	struct listing *previous = listing_ref(s->listing);
	struct listing *fresh = NULL;
	unsigned long changes_before = s->changes, generation = c->generation;

	s->loading = true;
	c->loads++;
	pthread_mutex_unlock(&c->lock);
	int rc = loader(ctx, s->key, previous, &fresh);
	listing_unref(previous);
	if (rc == 0)
		listing_account(fresh);
	pthread_mutex_lock(&c->lock);

	s->loading = false;
	s->loads_done++;
	s->last_error = rc;
	bool forgotten = s->forgotten || c->generation != generation; /* SIGHUP meanwhile */
	s->forgotten = false;
	if (rc == 0 && (forgotten || (s->changes != changes_before && s->listing))) {
		/* Forgotten, or our own change landed meanwhile: the load may predate it. */
		listing_bury(grave, fresh);
	} else if (rc == 0) {
		cache_slot_set(c, s, fresh, grave);
	}
	note_outage(c, rc, s);
	pthread_cond_broadcast(&c->loaded);
}

/* A load of a user's, on a thread of its own so that the user may stop waiting. */
struct load_job {
	struct cache *cache;
	struct slot *slot; /* slots live as long as the cache */
	cache_loader_fn loader;
	void *ctx;
};

static void *load_main(void *arg)
{
	struct load_job *job = arg;
	struct cache *c = job->cache;
	struct listing *grave = NULL;
	pthread_mutex_lock(&c->lock);
	load_slot(c, job->slot, job->loader, job->ctx, &grave);
	c->loaders--;
	pthread_cond_broadcast(&c->loaded);
	pthread_mutex_unlock(&c->lock);
	listing_release_all(grave);
	free(job);
	return NULL;
}

/* Start loading s on a new thread (lock held); -errno when none could start. */
static int spawn_load(struct cache *c, struct slot *s, cache_loader_fn loader, void *ctx)
{
	struct load_job *job = malloc(sizeof(*job));
	pthread_attr_t attr;
	pthread_t thread;
	if (!job)
		return -ENOMEM;
	*job = (struct load_job){.cache = c, .slot = s, .loader = loader, .ctx = ctx};
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	s->loading = true; /* before the thread runs: we wait for it below */
	int rc = pthread_create(&thread, &attr, load_main, job);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		s->loading = false;
		free(job);
		return -rc;
	}
	c->loaders++;
	return 0;
}

/* Wait while s is being loaded and has no fresh listing: 0, or op's -EINTR/-ETIMEDOUT. */
static int wait_load(struct cache *c, struct slot *s, const struct op *op)
{
	while (s->loading && !is_fresh(c, s->listing)) {
		if (!op) {
			pthread_cond_wait(&c->loaded, &c->lock);
			continue;
		}
		int rc = op_check(op);
		if (rc)
			return rc;
		clock_cond_wait(&c->loaded, &c->lock, OP_SLICE);
	}
	return 0;
}

/* Hand out s's listing (lock held). */
static int serve(struct cache *c, struct slot *s, struct listing **out)
{
	*out = listing_ref(s->listing);
	lru_touch(c, s);
	return 0;
}

static int get(struct cache *c, const struct op *op, const char *key, cache_loader_fn loader,
	       void *ctx, struct listing **out, bool touch)
{
	int rc = -EIO;
	struct listing *grave = NULL;

	*out = NULL;
	pthread_mutex_lock(&c->lock);
	struct slot *s = cache_slot_get(c, key, true);
	if (!s) {
		pthread_mutex_unlock(&c->lock);
		return -ENOMEM;
	}
	unsigned long seen = s->loads_done;
	bool hit = false; /* served at once from a fresh listing */
	for (int round = 0;; round++) {
		rc = wait_load(c, s, op);
		if (rc)
			break;
		bool waited = s->loads_done != seen;
		bool usable = s->listing && (s->last_error == 0 || is_outage(s->last_error));
		if (is_fresh(c, s->listing) || (waited && usable)) {
			hit = round == 0 && !waited;
			rc = serve(c, s, out); /* stale after an outage, but served */
			break;
		}
		if (waited && s->last_error != 0) {
			rc = s->last_error; /* the load we waited for failed: share its answer */
			break;
		}
		rc = op_check(op); /* nothing is sent for a caller who is gone */
		if (rc == 0 && round == 2)
			rc = -EIO; /* loaded twice, and still no listing */
		if (rc)
			break;
		seen = s->loads_done;
		if (!op || spawn_load(c, s, loader, ctx) != 0)
			load_slot(c, s, loader, ctx, &grave);
	}
	if (rc == -ETIMEDOUT && s->listing)
		rc = serve(c, s, out); /* the API is slow: what the user saw a moment ago */
	if (rc == 0 && touch)
		s->touched = true;
	if (touch && hit)
		c->hits++;
	else if (touch)
		c->misses++;
	pthread_mutex_unlock(&c->lock);
	listing_release_all(grave);
	return rc;
}

int cache_get(struct cache *c, const struct op *op, const char *key, cache_loader_fn loader,
	      void *ctx, struct listing **out)
{
	return get(c, op, key, loader, ctx, out, true);
}

int cache_refresh(struct cache *c, const char *key, cache_loader_fn loader, void *ctx)
{
	struct listing *l;
	int rc = get(c, NULL, key, loader, ctx, &l, false);
	listing_unref(l);
	return rc;
}

void cache_stop_loads(struct cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	while (c->loaders > 0)
		pthread_cond_wait(&c->loaded, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

size_t cache_take_expired(struct cache *c, char **keys, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&c->lock);
	for (size_t b = 0; b < N_BUCKETS && n < max; b++)
		for (struct slot *s = c->buckets[b]; s && n < max; s = s->next) {
			if (!s->touched || !s->listing || s->loading || is_fresh(c, s->listing))
				continue;
			keys[n] = strdup(s->key);
			if (keys[n])
				n++;
			s->touched = false; /* refreshed once; again only if used again */
		}
	pthread_mutex_unlock(&c->lock);
	return n;
}

void cache_stats(struct cache *c, struct cache_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&c->lock);
	out->listings = c->listings;
	out->objects = c->entries;
	out->bytes = c->bytes;
	out->hits = c->hits;
	out->misses = c->misses;
	out->loads = c->loads;
	pthread_mutex_unlock(&c->lock);
}

struct listing *cache_peek(struct cache *c, const char *key)
{
	pthread_mutex_lock(&c->lock);
	struct slot *s = cache_slot_get(c, key, false);
	struct listing *l = s ? listing_ref(s->listing) : NULL;
	pthread_mutex_unlock(&c->lock);
	return l;
}

void cache_forget(struct cache *c, const char *key)
{
	struct listing *grave = NULL;
	pthread_mutex_lock(&c->lock);
	struct slot *s = cache_slot_get(c, key, false);
	if (s) {
		slot_clear(c, s, &grave);
		s->touched = false;
		s->changes++;
		s->forgotten = s->loading;
	}
	pthread_mutex_unlock(&c->lock);
	listing_release_all(grave);
}

static void drop_slots(struct cache *c, bool free_slots, struct listing **grave)
{
	for (size_t b = 0; b < N_BUCKETS; b++) {
		for (struct slot *s = c->buckets[b], *next; s; s = next) {
			next = s->next;
			slot_clear(c, s, grave);
			s->touched = false;
			s->changes++;
			if (free_slots) {
				free(s->key);
				free(s);
			}
		}
		if (free_slots)
			c->buckets[b] = NULL;
	}
}

void cache_drop_all(struct cache *c)
{
	struct listing *grave = NULL;
	pthread_mutex_lock(&c->lock);
	drop_slots(c, false, &grave);
	c->generation++;
	pthread_mutex_unlock(&c->lock);
	listing_release_all(grave);
}

size_t cache_keys(struct cache *c, char ***out)
{
	size_t n = 0, max = 0;
	char **keys = NULL;
	pthread_mutex_lock(&c->lock);
	for (size_t b = 0; b < N_BUCKETS; b++)
		for (struct slot *s = c->buckets[b]; s; s = s->next)
			max += s->listing != NULL;
	keys = max ? calloc(max, sizeof(*keys)) : NULL;
	for (size_t b = 0; keys && b < N_BUCKETS; b++)
		for (struct slot *s = c->buckets[b]; s; s = s->next)
			if (s->listing && (keys[n] = strdup(s->key)))
				n++;
	pthread_mutex_unlock(&c->lock);
	*out = keys;
	return n;
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	struct listing *grave = NULL;
	cache_stop_loads(c);
	drop_slots(c, true, &grave);
	listing_release_all(grave);
	pthread_cond_destroy(&c->loaded);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

int cache_parse_max(const char *text, size_t *max_entries, size_t *max_bytes)
{
	static const char units[] = "KMGT";
	size_t digits = strspn(text, "0123456789");
	const char *unit = text + digits;
	const char *u = *unit ? strchr(units, toupper((unsigned char)*unit)) : NULL;
	*max_entries = *max_bytes = 0;
	if (digits == 0 || digits > 15 || (*unit && !u))
		return -EINVAL; /* no sign, no blank, no "1e3", no "0x" */
	if (*unit && strcmp(unit + 1, "") != 0 && strcmp(unit + 1, "B") != 0 &&
	    strcmp(unit + 1, "iB") != 0)
		return -EINVAL;
	unsigned long long n = strtoull(text, NULL, 10);
	if (!*unit) {
		*max_entries = (size_t)n;
		return 0;
	}
	int shift = 10 * (int)(u - units + 1);
	if (n > (1ULL << 40) >> shift)
		return -ERANGE;
	*max_bytes = (size_t)(n << shift);
	return 0;
}
