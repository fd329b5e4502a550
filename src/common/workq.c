/* workq: string queue + worker threads. */
#include "workq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct workq {
	workq_fn fn;
	void *ctx;
	int n_workers, started;
	pthread_t *workers;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	char **ring;
	size_t max, head, count;
};

struct workq *workq_new(int workers, size_t max_items, workq_fn fn, void *ctx)
{
	struct workq *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->ring = calloc(max_items, sizeof(*q->ring));
	q->workers = calloc((size_t)workers, sizeof(*q->workers));
	if (!q->ring || !q->workers) {
		free(q->ring);
		free(q->workers);
		free(q);
		return NULL;
	}
	q->fn = fn;
	q->ctx = ctx;
	q->n_workers = workers;
	q->max = max_items;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->wake, NULL);
	return q;
}

/* The next item (the caller frees it), or NULL when stopping. */
static char *next_item(struct workq *q)
{
	pthread_mutex_lock(&q->lock);
	while (!q->stopping && q->count == 0)
		pthread_cond_wait(&q->wake, &q->lock);
	char *item = NULL;
	if (!q->stopping) {
		item = q->ring[q->head];
		q->head = (q->head + 1) % q->max;
		q->count--;
	}
	pthread_mutex_unlock(&q->lock);
	return item;
}

static void *worker_main(void *arg)
{
	struct workq *q = arg;
	char *item;
	while ((item = next_item(q)) != NULL) {
		q->fn(q->ctx, item);
		free(item);
	}
	return NULL;
}

int workq_start(struct workq *q)
{
	for (; q->started < q->n_workers; q->started++)
		if (pthread_create(&q->workers[q->started], NULL, worker_main, q) != 0)
			return -EAGAIN;
	return 0;
}

bool workq_push(struct workq *q, const char *item)
{
	char *copy = strdup(item);
	bool queued = false;
	pthread_mutex_lock(&q->lock);
	if (copy && q->count < q->max && !q->stopping) {
		q->ring[(q->head + q->count) % q->max] = copy;
		q->count++;
		queued = true;
		pthread_cond_signal(&q->wake);
	}
	pthread_mutex_unlock(&q->lock);
	if (!queued)
		free(copy);
	return queued;
}

size_t workq_free(struct workq *q)
{
	if (!q)
		return 0;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	pthread_cond_broadcast(&q->wake);
	pthread_mutex_unlock(&q->lock);
	for (int i = 0; i < q->started; i++)
		pthread_join(q->workers[i], NULL);
	size_t left = q->count;
	for (size_t i = 0; i < q->count; i++)
		free(q->ring[(q->head + i) % q->max]);
	free(q->ring);
	free(q->workers);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->lock);
	free(q);
	return left;
}
