/* inval: a thread that passes invalidations to the kernel. */
#include "inval.h"

#include "fs.h"

#include <stdlib.h>

#include "log.h"
#include "workq.h"

#define QUEUE_MAX 1024

struct inval {
	struct fuse *fuse;
	struct workq *queue;
};

static void notify_kernel(void *arg, const char *path)
{
	struct inval *v = arg;
	/* -ENOENT: the kernel never looked it up, nothing to forget. */
	int rc = fuse_invalidate_path(v->fuse, path);
	log_debug("invalidate %s: %d", path, rc);
}

struct inval *inval_start(struct fuse *fuse)
{
	struct inval *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->fuse = fuse;
	v->queue = workq_new(1, QUEUE_MAX, notify_kernel, v);
	if (!v->queue || workq_start(v->queue) != 0) {
		workq_free(v->queue);
		free(v);
		return NULL;
	}
	return v;
}

void inval_path(struct inval *v, const char *path)
{
	if (v)
		workq_push(v->queue, path);
}

void inval_stop(struct inval *v)
{
	if (!v)
		return;
	workq_free(v->queue);
	free(v);
}
