/*
 * walk: adaptive prefetch, the readahead of directory listings.
 *
 * Owns the recognition of a walk (find, du) and the background
 * loads it earns. A user's readdir of a directory, followed within WALK_GAP
 * seconds by calls going into two or more of its subdirectories, forward in
 * the listing's order (what goes into one is the caller's to say:
 * treewalk.h), is a walk:
 * only then are the listings of its next subdirectories loaded in parallel,
 * a window of 2 that doubles each time one of them is used by a user's call
 * (up to the maximum, -o prefetch=N), and that never has more loads unused
 * than its size. The walk spreads: a subdirectory loaded for it, or listed
 * while its parent is walked, is walked too, as wide as the walk above it;
 * and a walk seen in a subdirectory the user went into from a listing walks
 * that listing too. A single ls, stat, mkdir or rmdir never makes a
 * background load.
 *
 * Owns its worker threads, the state of the directories looked at lately
 * and the loads made for them: loads, hits (used by a user's call within
 * cache_ttl) and waste (not used). Before each load it asks may_load (the
 * rate limit's room, a change under way): background yields. Thread-safe.
 */
#ifndef OVHSNAPFS_WALK_H
#define OVHSNAPFS_WALK_H

#include <stdbool.h>
#include <stddef.h>

#include "cache.h"

#define WALK_GAP   2.0 /* seconds: a walk's steps come closer than this */
#define WALK_FIRST 2   /* the first window */

struct walk;

/*
 * The hooks the tree gives (ctx: its own): child_key writes the listing key
 * of dir_key's entry e and is true, or false when dir_key's entries have no
 * listing (e NULL: only that answer); may_load is false when a background
 * load of key must not go now.
 */
struct walk_hooks {
	bool (*child_key)(const char *dir_key, const struct entry *e, char *buf, size_t len);
	bool (*may_load)(void *ctx, const char *key);
	cache_loader_fn loader;
	void *ctx;
};

/* max_window: -o prefetch=N (> 0); also the number of worker threads. */
struct walk *walk_new(struct cache *cache, const struct walk_hooks *hooks, int max_window);
/* Start the threads; call after fork. 0 or -errno. */
int walk_start(struct walk *walk);
/* Stop the threads (queued loads are dropped) and free. */
void walk_free(struct walk *walk);

/* A user's readdir of dir_key's directory (parent_key: its parent's, or NULL) listed l. */
void walk_listed(struct walk *walk, const char *dir_key, const char *parent_key, struct listing *l);
/* A user's call went through entry index of dir_key's listing l. */
void walk_visited(struct walk *walk, const char *dir_key, struct listing *l, size_t index);
/* A user's call used key's listing. */
void walk_used(struct walk *walk, const char *key);

struct walk_stats {
	unsigned long loads; /* background loads made for walks */
	unsigned long hits;  /* of them, used by a user's call within cache_ttl */
	unsigned long waste; /* of them, not used within cache_ttl */
};
void walk_stats(struct walk *walk, struct walk_stats *out);

#endif
