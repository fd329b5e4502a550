/*
 * prefetch: a few threads that load listings before anyone asks for them.
 *
 * Owns its worker threads and a bounded queue of cache keys. Requests are
 * dropped, never waited for, when the queue is full; requests made before
 * the workers start (they start after the daemon forks) wait for them. Loads go through cache_get,
 * so they share requests with users and respect the rate limit. Thread-safe.
 */
#ifndef OVHSNAPFS_PREFETCH_H
#define OVHSNAPFS_PREFETCH_H

#include "cache.h"

struct prefetch;

struct prefetch *prefetch_new(struct cache *cache, cache_loader_fn loader, void *ctx, int workers);
/* Start the workers; call after fork. 0 or -errno. */
int prefetch_start(struct prefetch *prefetch);
/* Ask for key to be loaded soon, unless it is cached and fresh. */
void prefetch_key(struct prefetch *prefetch, const char *key);
/* Stop the workers (queued keys are dropped) and free. */
void prefetch_free(struct prefetch *prefetch);

#endif
