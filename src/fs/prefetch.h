/*
 * prefetch: loads listings before anyone asks for them.
 *
 * Two kinds: the subdirectories of a listing just made (-o prefetch=N), and
 * listings that expire after being shown to a user, so that a change made
 * elsewhere reaches the kernel's caches within cache_ttl even when nobody
 * lists the directory again. Owns its worker threads, a ticker thread and a
 * bounded queue of cache keys; requests made before the threads start (they
 * start after the daemon forks) wait for them. Loads go through the cache,
 * sharing requests with users and the rate limit. Thread-safe.
 */
#ifndef OVHSNAPFS_PREFETCH_H
#define OVHSNAPFS_PREFETCH_H

#include "cache.h"

struct prefetch;

struct prefetch *prefetch_new(struct cache *cache, cache_loader_fn loader, void *ctx, int workers);
/* Start the threads; call after fork. 0 or -errno. */
int prefetch_start(struct prefetch *prefetch);
/* Ask for key to be loaded soon, unless it is cached and fresh. */
void prefetch_key(struct prefetch *prefetch, const char *key);
/* Stop the threads (queued keys are dropped) and free. */
void prefetch_free(struct prefetch *prefetch);

#endif
