/* prefetch: worker threads warming the listing cache. */
#include "prefetch.h"

#include <stdlib.h>

#include "workq.h"

#define QUEUE_MAX 4096

struct prefetch {
	struct cache *cache;
	cache_loader_fn loader;
	void *ctx;
	struct workq *queue;
};

static void load_key(void *arg, const char *key)
{
	struct prefetch *p = arg;
	struct listing *l;
	if (cache_get(p->cache, key, p->loader, p->ctx, &l) == 0)
		listing_unref(l);
}

struct prefetch *prefetch_new(struct cache *cache, cache_loader_fn loader, void *ctx, int workers)
{
	struct prefetch *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	*p = (struct prefetch){.cache = cache, .loader = loader, .ctx = ctx};
	p->queue = workq_new(workers, QUEUE_MAX, load_key, p);
	if (!p->queue) {
		free(p);
		return NULL;
	}
	return p;
}

int prefetch_start(struct prefetch *p)
{
	return workq_start(p->queue);
}

void prefetch_key(struct prefetch *p, const char *key)
{
	/* Queued before the workers start too: the services listing is loaded at mount. */
	if (p && !cache_is_fresh(p->cache, key))
		workq_push(p->queue, key);
}

void prefetch_free(struct prefetch *p)
{
	if (!p)
		return;
	workq_free(p->queue);
	free(p);
}
