/* prefetch: threads warming and refreshing the listing cache. */
#include "prefetch.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "workq.h"

#define QUEUE_MAX   4096
#define EXPIRED_MAX 64

struct prefetch {
	struct cache *cache;
	cache_loader_fn loader;
	void *ctx;
	struct workq *queue;

	pthread_t ticker;
	bool ticking;
	struct clock_stop stop; /* the ticker's */
};

static void load_key(void *arg, const char *key)
{
	struct prefetch *p = arg;
	cache_refresh(p->cache, key, p->loader, p->ctx);
}

struct prefetch *prefetch_new(struct cache *cache, cache_loader_fn loader, void *ctx, int workers)
{
	struct prefetch *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cache = cache;
	p->loader = loader;
	p->ctx = ctx;
	p->queue = workq_new(workers, QUEUE_MAX, load_key, p);
	if (!p->queue) {
		free(p);
		return NULL;
	}
	clock_stop_init(&p->stop);
	return p;
}

/* Queue the listings that expired after a user saw them. */
static void *ticker_main(void *arg)
{
	struct prefetch *p = arg;
	double period = cache_ttl(p->cache) / 4;
	char *keys[EXPIRED_MAX];

	period = period < 0.1 ? 0.1 : period > 1 ? 1 : period;
	while (clock_stop_sleep(&p->stop, period)) {
		size_t n = cache_take_expired(p->cache, keys, EXPIRED_MAX);
		for (size_t i = 0; i < n; i++) {
			workq_push(p->queue, keys[i]);
			free(keys[i]);
		}
	}
	return NULL;
}

int prefetch_start(struct prefetch *p)
{
	int rc = workq_start(p->queue);
	if (rc == 0 && cache_ttl(p->cache) > 0) {
		if (pthread_create(&p->ticker, NULL, ticker_main, p) != 0)
			return -EAGAIN;
		p->ticking = true;
	}
	return rc;
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
	clock_stop_ask(&p->stop);
	if (p->ticking)
		pthread_join(p->ticker, NULL);
	workq_free(p->queue);
	clock_stop_destroy(&p->stop);
	free(p);
}
