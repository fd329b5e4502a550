/*
 * tree: paths <-> EFS objects.
 *
 * Owns the shape of the mount (SERVICE/SHARE/.snapshots/SNAPSHOT/info.json,
 * SERVICE/.policies/NAME.json, and the status file at the root), the cache
 * keys of its directories, their loads (the loader the cache calls, the
 * access paths kept when a load fails, the background threads) and path
 * resolution: resolving a path loads at most one listing per level, through
 * the cache. How a listing is built is treebuild.h's, which kernel entries
 * it makes stale treestale.h's (both included here). Knows nothing of
 * content.h (which calls it). Thread-safe.
 */
#ifndef OVHSNAPFS_TREE_H
#define OVHSNAPFS_TREE_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "alias.h"
#include "cache.h"
#include "efs.h"
#include "keylock.h"
#include "mounts.h"
#include "names.h"
#include "treebuild.h"
#include "treestale.h"

struct ovh_client;

struct tree {
	struct ovh_client *api;
	struct cache *cache;
	char **services; /* -o service= ids or names, NULL-terminated; NULL: all */
	time_t started;	 /* mtime of what has no date of its own */
	/* Changes to one share are serialized (snapops): a lock per share id. */
	struct keylock changes;
	/* Names a mkdir typed for snapshots renamed meanwhile (alias.h). */
	struct aliases aliases;
	struct prefetch *prefetch; /* refreshes what users saw (prefetch.h) */
	struct walk *walk;	   /* loads ahead of a walk (walk.h; NULL: prefetch=0) */
	struct mounts *mounts;	   /* this host's mounts, for content links (content.h) */
	/*
	 * Told, from any thread, of a path whose kernel entry or attributes a
	 * new listing made stale (NULL: nobody listens).
	 */
	void (*changed)(void *ctx, const char *path);
	void *changed_ctx;
	double load_budget; /* seconds one listing load may take, retries included (timeout=) */
};

/* api and cache are borrowed; services is taken (freed by tree_destroy). */
void tree_init(struct tree *tree, struct ovh_client *api, struct cache *cache, char **services);
void tree_destroy(struct tree *tree);
/*
 * The background loads: refreshing expired listings a user saw, and with
 * -o prefetch=N (workers > 0) loading ahead of a walk (treewalk.h), a
 * window of at most N listings at once.
 */
int tree_enable_prefetch(struct tree *tree, int workers);
/*
 * Threads (prefetch, the mount watcher): start them after the daemon forks.
 * on_mounts (ctx: the tree) is told of each change of the mounts (content.h).
 */
int tree_start_threads(struct tree *tree, mounts_changed_fn on_mounts);
void tree_stop_threads(struct tree *tree);

enum node_kind {
	NODE_ROOT,
	NODE_SERVICE,
	NODE_SHARE,
	NODE_SNAPDIR,
	NODE_SNAPSHOT,
	NODE_INFO,
	NODE_STATUS,
	NODE_CONTENT,  /* SHARE/content, SNAPSHOT/content: links while content_target has one */
	NODE_POLICIES, /* SERVICE/.policies: never listed; its files are NODE_INFO of it */
};

struct node {
	enum node_kind kind;
	enum node_kind info_of; /* NODE_INFO, NODE_CONTENT: whose info.json or content */
	const struct entry *service, *share, *snapshot;
	const struct entry *policy; /* NODE_INFO of NODE_POLICIES: SERVICE/.policies/NAME.json */
	/*
	 * The path named the snapshot by its id while it is listed under its
	 * name: that id, not a name, is what the user meant.
	 */
	bool snapshot_by_id;
	struct listing *held[3]; /* keep the entries above alive */
};

/*
 * Reading calls take the op of the user's call they serve (op.h; NULL: a
 * background caller): a load they wait for is shared, and runs on within
 * load_budget when the caller is interrupted.
 */
int tree_resolve(struct tree *tree, const struct op *op, const char *path, struct node *out);
void tree_node_release(struct node *node);

/* What a directory node contains: services, shares or snapshots. */
int tree_children(struct tree *tree, const struct op *op, const struct node *dir,
		  struct listing **out);
/* The snapshot listing of a share, however it was reached. */
int tree_snapshots(struct tree *tree, const struct op *op, const char *service_id,
		   const char *share_id, struct listing **out);
void tree_snapshots_key(char *buf, size_t len, const char *service_id, const char *share_id);
/*
 * The share's snapshots read from the API now, whatever the cache holds (a
 * change found its entry stale); the kernel is told what changed.
 */
int tree_snapshots_afresh(struct tree *tree, const struct op *op, const char *service_id,
			  const char *share_id, struct listing **out);
/*
 * Replace key's listing by l, which the caller built (a setting the API
 * accepted); takes l's reference. Nothing when key has none cached: the next
 * read asks the API.
 */
void tree_install(struct tree *tree, const char *key, struct listing *l);
/* A share's access paths (loaded only for content links; not listed anywhere). */
int tree_access_paths(struct tree *tree, const struct op *op, const char *service_id,
		      const char *share_id, struct listing **out);
/*
 * A share's snapshot settings, cached like a listing (one GET per
 * cache_ttl): TREE_RESERVE holds one entry (name: the percent),
 * TREE_SHARE_POLICY one (id: the policy's) or none when the share has none.
 */
enum tree_setting { TREE_RESERVE, TREE_SHARE_POLICY };
int tree_setting(struct tree *tree, const struct op *op, enum tree_setting which,
		 const char *service_id, const char *share_id, struct listing **out);
void tree_setting_key(char *buf, size_t len, enum tree_setting which, const char *service_id,
		      const char *share_id);
/* A service's snapshot policies (SERVICE/.policies), named like snapshots. */
int tree_policies(struct tree *tree, const struct op *op, const char *service_id,
		  struct listing **out);
/*
 * Each share of the listings the cache holds, however old (no API call):
 * fn(ctx, its service's entry, its entry), the entries valid during the call.
 */
typedef void (*tree_share_fn)(void *ctx, const struct entry *service, const struct entry *share);
void tree_each_share(struct tree *tree, tree_share_fn fn, void *ctx);
/* Load key's listing on the calling thread unless it is fresh (a background load). */
int tree_refresh(struct tree *tree, const char *key);

/* The cached listing of kind, however old, or NULL: never an API call. Referenced. */
struct listing *tree_cached(struct tree *tree, enum efs_kind kind, const char *service_id,
			    const char *share_id);
/* The cache key of the listing of kind (service_id, share_id as that kind needs). */
void tree_key(char *buf, size_t len, enum efs_kind kind, const char *service_id,
	      const char *share_id);
/*
 * A cache key's kind, service id and share id (svc and share: 160 bytes
 * each; a share's settings, 'R' and 'P', read as EFS_SNAPSHOT: key[0] says).
 */
enum efs_kind tree_key_parts(const char *key, char *svc, char *share);

#endif
