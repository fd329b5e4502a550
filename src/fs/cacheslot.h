/*
 * cacheslot: the cache's insides, shared by cache.c and cacheupdate.c only.
 *
 * Owns struct cache and its slots: the table of keys (a slot lives as long
 * as the cache), the LRU list of the slots holding a listing, and the caps
 * (-o cache_max) enforced when a listing is installed.
 */
#ifndef OVHSNAPFS_CACHESLOT_H
#define OVHSNAPFS_CACHESLOT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "cache.h"

#define N_BUCKETS 1024

struct slot {
	char *key;
	struct listing *listing;
	bool loading;
	bool updating; /* a cache_update builds the next listing: others wait their turn */
	unsigned long loads_done; /* bumped when a load ends */
	unsigned long changes;	  /* bumped by our own changes: a load under way predates them */
	int last_error;
	struct slot *older, *newer; /* the LRU list: slots holding a listing */
	bool touched;		    /* served to a user since it was loaded */
	bool forgotten;		    /* cache_forget during a load: its result may predate it */
	struct slot *next;
};

struct cache {
	double ttl;
	bool serving_stale;		   /* an outage is under way: logged once */
	size_t max_entries;		   /* 0: no cap */
	size_t max_bytes;		   /* 0: no cap */
	size_t entries;			   /* objects in all listings held */
	size_t bytes;			   /* bytes of all listings held (listing_bytes) */
	size_t listings;		   /* listings held */
	struct slot *oldest, *newest;	   /* least and most recently used listings */
	int loaders;			   /* load threads running (spawn_load) */
	unsigned long hits, misses, loads; /* cache_stats */
	unsigned long generation;	   /* bumped by cache_drop_all: older loads are not kept */
	pthread_mutex_t lock;
	pthread_cond_t loaded;
	struct slot *buckets[N_BUCKETS];
};

/* key's slot, created if asked (NULL: no such slot, or no memory). Lock held. */
struct slot *cache_slot_get(struct cache *c, const char *key, bool create);
/*
 * Install l (accounted) as s's listing (lock held), and drop the least
 * recently used listings past the caps. What goes is left in grave.
 */
void cache_slot_set(struct cache *c, struct slot *s, struct listing *l, struct listing **grave);

#endif
