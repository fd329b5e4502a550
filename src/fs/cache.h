/*
 * cache: directory listings trusted for cache_ttl seconds.
 *
 * Owns the table that maps a directory key to its current listing
 * (listing.h), the LRU list and caps (cacheslot.h), and the loads. Concurrent misses on one key
 * share one load. Changes made by the filesystem itself replace a listing at once, atomically
 * (cache_update).
 * When the API cannot answer (EIO, ETIMEDOUT, EAGAIN), the last listing is
 * served, stale, with one log line per outage. Thread-safe.
 */
#ifndef OVHSNAPFS_CACHE_H
#define OVHSNAPFS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "efs.h"
#include "listing.h"
#include "op.h"

struct cache;

/* Fetch a listing for key; returns a new listing with one reference. */
typedef int (*cache_loader_fn)(void *ctx, const char *key, const struct listing *previous,
			       struct listing **out);

/*
 * max_entries caps the objects held in all listings together, max_bytes
 * their memory (entries, strings, JSON and indexes); past either, the least
 * recently used listings are dropped (0: no cap). Finding the one to drop
 * costs no scan.
 */
struct cache *cache_new(double ttl, size_t max_entries, size_t max_bytes);
/* The default cap: about 1.8 million snapshots (600 bytes each), more than the old 1,000,000. */
#define CACHE_DEFAULT_MAX_BYTES ((size_t)1 << 30)
/*
 * -o cache_max=TEXT: a size, digits and one of K, M, G, T (powers of 1024,
 * "B" or "iB" may follow), sets *max_bytes; plain digits (the option's
 * first meaning, kept) set *max_entries, a count of objects. The other is
 * 0. 0, -EINVAL (not such a text) or -ERANGE (over 1T).
 */
int cache_parse_max(const char *text, size_t *max_entries, size_t *max_bytes);
void cache_free(struct cache *cache);
double cache_ttl(const struct cache *cache);

/*
 * A referenced listing no older than the TTL, loading it with loader when
 * there is none. Callers that arrive while a load is under way wait for it
 * and share its result (or its error).
 *
 * For a user's call (op not NULL) the load runs on a thread of its own and
 * the caller waits only as long as op allows: interrupted, it gets -EINTR
 * within OP_SLICE while the load goes on for whoever shares it; at op's
 * deadline it gets the last listing, stale, or -ETIMEDOUT. A NULL op (a
 * background reader) loads on the calling thread.
 */
int cache_get(struct cache *cache, const struct op *op, const char *key, cache_loader_fn loader,
	      void *ctx, struct listing **out);
/* Wait until no load started by cache_get runs (at shutdown, after op_shutdown). */
void cache_stop_loads(struct cache *cache);
/* Load key if it is not fresh, for a background reader (not a use: see below). */
int cache_refresh(struct cache *cache, const char *key, cache_loader_fn loader, void *ctx);
/*
 * Keys whose listing expired after being served to a user since it was
 * loaded (the kernel may still hold what it showed): up to max strdup'ed
 * keys; each is handed out once per use.
 */
size_t cache_take_expired(struct cache *cache, char **keys, size_t max);
/* True when key has a listing younger than the TTL (prefetch skips those). */
bool cache_is_fresh(struct cache *cache, const char *key);
/* The current listing for key, however old, or NULL. Referenced. */
struct listing *cache_peek(struct cache *cache, const char *key);
/*
 * Build the next listing from the current one; runs without the cache's
 * lock (it may take a while on a large listing) and may run more than once.
 * It must not call the API or back into the cache. NULL leaves the listing
 * as it is.
 */
typedef struct listing *(*cache_update_fn)(void *ctx, const struct listing *current);
/*
 * Replace key's listing by fn(current) atomically: built outside the lock,
 * installed only if key's listing is still current (otherwise built again
 * from the one that replaced it), so that no concurrent load or update is
 * lost or loses ours. The new listing counts as fetched now: a load that
 * started before is dropped, and the next is due a TTL later (an API that
 * lags may not show our change yet). Nothing happens when key has no
 * listing (the next access loads one); a listing that keeps changing is
 * forgotten. Returns the new listing and sets *was to the one it replaced,
 * both referenced (or NULL, NULL).
 */
struct listing *cache_update(struct cache *cache, const char *key, cache_update_fn fn, void *ctx,
			     struct listing **was);
/*
 * Forget key's listing: the next access asks the API, and a load under way
 * (which may predate what made the caller forget) is not kept.
 */
void cache_forget(struct cache *cache, const char *key);
/*
 * Forget every listing (SIGHUP): the next access asks the API, and no load
 * under way (it may predate the signal) is kept.
 */
void cache_drop_all(struct cache *cache);
/* The keys that have a listing now: *keys malloc'ed, each strdup'ed; their count. */
size_t cache_keys(struct cache *cache, char ***keys);

/* What the status file shows of the cache. */
struct cache_stats {
	size_t listings;      /* listings held */
	size_t objects;	      /* objects in them */
	size_t bytes;	      /* their memory, as cache_max counts it */
	unsigned long hits;   /* user lookups answered from a fresh listing */
	unsigned long misses; /* user lookups that loaded, or waited for a load */
	unsigned long loads;  /* loader calls, background refreshes included */
};
void cache_stats(struct cache *cache, struct cache_stats *out);

double cache_now(void);

#endif
