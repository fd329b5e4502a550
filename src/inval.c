/* inval: a thread that passes invalidations to the kernel. */
#include "inval.h"

#include "fs.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define QUEUE_MAX 1024

struct inval {
	struct fuse *fuse;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	char *queue[QUEUE_MAX];
	size_t head, count;
};

static char *next_path(struct inval *v)
{
	pthread_mutex_lock(&v->lock);
	while (!v->stopping && v->count == 0)
		pthread_cond_wait(&v->wake, &v->lock);
	char *path = NULL;
	if (!v->stopping) {
		path = v->queue[v->head];
		v->head = (v->head + 1) % QUEUE_MAX;
		v->count--;
	}
	pthread_mutex_unlock(&v->lock);
	return path;
}

static void *inval_main(void *arg)
{
	struct inval *v = arg;
	char *path;
	while ((path = next_path(v)) != NULL) {
		/* -ENOENT: the kernel never looked it up, nothing to forget. */
		int rc = fuse_invalidate_path(v->fuse, path);
		log_debug("invalidate %s: %d", path, rc);
		free(path);
	}
	return NULL;
}

struct inval *inval_start(struct fuse *fuse)
{
	struct inval *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->fuse = fuse;
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->wake, NULL);
	if (pthread_create(&v->thread, NULL, inval_main, v) != 0) {
		pthread_cond_destroy(&v->wake);
		pthread_mutex_destroy(&v->lock);
		free(v);
		return NULL;
	}
	return v;
}

void inval_path(struct inval *v, const char *path)
{
	if (!v)
		return;
	char *copy = strdup(path);
	pthread_mutex_lock(&v->lock);
	if (copy && v->count < QUEUE_MAX && !v->stopping) {
		v->queue[(v->head + v->count) % QUEUE_MAX] = copy;
		v->count++;
		copy = NULL;
		pthread_cond_signal(&v->wake);
	}
	pthread_mutex_unlock(&v->lock);
	free(copy);
}

void inval_stop(struct inval *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&v->lock);
	v->stopping = true;
	pthread_cond_broadcast(&v->wake);
	pthread_mutex_unlock(&v->lock);
	pthread_join(v->thread, NULL);
	for (size_t i = 0; i < v->count; i++)
		free(v->queue[(v->head + i) % QUEUE_MAX]);
	pthread_cond_destroy(&v->wake);
	pthread_mutex_destroy(&v->lock);
	free(v);
}
