/* freshness: one listing refreshed per tick, so each is at most a period old. */
#include "freshness.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

#define MIN_TICK 1.0
#define MAX_TICK 10.0

struct freshness {
	struct tree *tree;
	double period;
	struct clock_stop stop;
	pthread_t thread;
};

/* The listing most due for a load: never loaded beats oldest. */
struct pick {
	struct cache *cache;
	double due_before; /* fetched before this: due */
	size_t listings;
	char key[400];
	double fetched; /* of key; -1: never loaded */
};

static void consider(struct pick *p, const char *key)
{
	struct listing *l = cache_peek(p->cache, key);
	double fetched = l ? l->fetched : -1;
	listing_unref(l);
	p->listings++;
	if (fetched >= p->due_before || (p->key[0] && fetched >= p->fetched))
		return;
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->fetched = fetched;
}

static void consider_share(void *ctx, const struct entry *svc, const struct entry *share)
{
	char key[400];
	tree_snapshots_key(key, sizeof(key), svc->obj.id, share->obj.id);
	consider(ctx, key);
}

static void pick_next(struct freshness *f, struct pick *p)
{
	char key[400];
	double ttl = cache_ttl(f->tree->cache);
	memset(p, 0, sizeof(*p));
	p->cache = f->tree->cache;
	/* A listing younger than cache_ttl is fresh: the cache would not load it. */
	p->due_before = cache_now() - (f->period > ttl ? f->period : ttl);
	consider(p, "S");
	struct listing *services = cache_peek(p->cache, "S");
	for (size_t i = 0; services && i < services->n; i++) {
		tree_key(key, sizeof(key), EFS_SHARE, services->entries[i].obj.id, NULL);
		consider(p, key);
	}
	listing_unref(services);
	tree_each_share(f->tree, consider_share, p);
}

static double tick(const struct freshness *f, size_t listings)
{
	double t = f->period / (double)(listings + 1);
	return t < MIN_TICK ? MIN_TICK : t > MAX_TICK ? MAX_TICK : t;
}

static void *run(void *arg)
{
	struct freshness *f = arg;
	struct pick p;
	double next = MIN_TICK;
	while (clock_stop_sleep(&f->stop, next)) {
		pick_next(f, &p);
		/* what was never loaded is loaded one a second; the rest spread over the period */
		next = p.key[0] && p.fetched < 0 ? MIN_TICK : tick(f, p.listings);
		if (p.key[0] && tree_refresh(f->tree, p.key) != 0)
			log_info("metrics_refresh: %s could not be read; the gauges keep what they "
				 "had",
				 p.key);
	}
	return NULL;
}

struct freshness *freshness_start(struct tree *tree, double period)
{
	struct freshness *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->tree = tree;
	f->period = period;
	clock_stop_init(&f->stop);
	if (pthread_create(&f->thread, NULL, run, f) == 0)
		return f;
	clock_stop_destroy(&f->stop);
	free(f);
	return NULL;
}

void freshness_stop(struct freshness *f)
{
	if (!f)
		return;
	clock_stop_ask(&f->stop);
	pthread_join(f->thread, NULL);
	clock_stop_destroy(&f->stop);
	free(f);
}
