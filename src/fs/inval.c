/* inval: a thread that passes invalidations to the kernel. */
#include "inval.h"

#include "fs.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "workq.h"

#define QUEUE_MAX 1024

struct inval {
	struct fuse *fuse;
	struct workq *queue;
	atomic_ulong dropped;	 /* since the last report */
	atomic_bool overflowing; /* warned: the queue is full */
};

/*
 * A path dropped from a full queue leaves the kernel with what it cached,
 * for at most its entry and attribute timeouts (cache_ttl): never in
 * silence. One warning when the queue fills, then a count of what was
 * dropped as the thread goes on, and at the end.
 */
static void note_dropped(struct inval *v, const char *path)
{
	atomic_fetch_add(&v->dropped, 1);
	if (!atomic_exchange(&v->overflowing, true))
		log_warn("kernel invalidations: the queue is full (%d paths): %s and those that "
			 "follow are dropped; the kernel may show them as they were for up to "
			 "cache_ttl",
			 QUEUE_MAX, path);
}

static void report_dropped(struct inval *v)
{
	unsigned long n = atomic_exchange(&v->dropped, 0);
	if (n) {
		log_warn("kernel invalidations: %lu dropped while the queue was full", n);
		atomic_store(&v->overflowing, false);
	}
}

static void notify_kernel(void *arg, const char *path)
{
	struct inval *v = arg;
	report_dropped(v);
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
	if (v && !workq_push(v->queue, path))
		note_dropped(v, path);
}

void inval_stop(struct inval *v)
{
	if (!v)
		return;
	size_t left = workq_free(v->queue);
	report_dropped(v);
	if (left) /* harmless: the kernel forgets the mount's paths with it */
		log_debug("kernel invalidations: %zu not sent: the filesystem is unmounted", left);
	free(v);
}
