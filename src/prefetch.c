/* prefetch: worker threads warming the listing cache. */
#include "prefetch.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX 4096

struct prefetch {
	struct cache *cache;
	cache_loader_fn loader;
	void *ctx;
	int n_workers;
	pthread_t *workers;
	int started;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	char *queue[QUEUE_MAX]; /* a ring of keys */
	size_t head, count;
};

struct prefetch *prefetch_new(struct cache *cache, cache_loader_fn loader, void *ctx, int workers)
{
	struct prefetch *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cache = cache;
	p->loader = loader;
	p->ctx = ctx;
	p->n_workers = workers;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	return p;
}

/* The next key to load, or NULL when stopping. */
static char *next_key(struct prefetch *p)
{
	pthread_mutex_lock(&p->lock);
	while (!p->stopping && p->count == 0)
		pthread_cond_wait(&p->wake, &p->lock);
	char *key = NULL;
	if (!p->stopping) {
		key = p->queue[p->head];
		p->head = (p->head + 1) % QUEUE_MAX;
		p->count--;
	}
	pthread_mutex_unlock(&p->lock);
	return key;
}

static void *worker_main(void *arg)
{
	struct prefetch *p = arg;
	char *key;
	while ((key = next_key(p)) != NULL) {
		struct listing *l;
		if (cache_get(p->cache, key, p->loader, p->ctx, &l) == 0)
			listing_unref(l);
		free(key);
	}
	return NULL;
}

int prefetch_start(struct prefetch *p)
{
	p->workers = calloc((size_t)p->n_workers, sizeof(*p->workers));
	if (!p->workers)
		return -ENOMEM;
	for (; p->started < p->n_workers; p->started++)
		if (pthread_create(&p->workers[p->started], NULL, worker_main, p) != 0)
			return -EAGAIN;
	return 0;
}

void prefetch_key(struct prefetch *p, const char *key)
{
	/* Queued before the workers start too: the services listing is loaded at mount. */
	if (!p || cache_is_fresh(p->cache, key))
		return;
	char *copy = strdup(key);
	pthread_mutex_lock(&p->lock);
	if (copy && p->count < QUEUE_MAX && !p->stopping) {
		p->queue[(p->head + p->count) % QUEUE_MAX] = copy;
		p->count++;
		copy = NULL;
		pthread_cond_signal(&p->wake);
	}
	pthread_mutex_unlock(&p->lock);
	free(copy); /* dropped: the queue is full */
}

void prefetch_free(struct prefetch *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->started; i++)
		pthread_join(p->workers[i], NULL);
	for (size_t i = 0; i < p->count; i++)
		free(p->queue[(p->head + i) % QUEUE_MAX]);
	free(p->workers);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
