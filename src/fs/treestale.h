/*
 * treestale: the kernel entries a listing makes stale.
 *
 * Owns the mount path of each listing's directory and what tree->changed
 * is told: when a new listing replaces one (entries gone or renamed, an
 * info.json changed, content links whose target moved: a snapshot's path,
 * a share's access paths), and when listings are forgotten (every path the
 * kernel may hold from them). Thread-safe.
 */
#ifndef OVHSNAPFS_TREESTALE_H
#define OVHSNAPFS_TREESTALE_H

#include <stddef.h>

#include "cache.h"
#include "efs.h"

struct tree;

/* The mount path of the directory a listing of kind fills ("" for the root). */
void tree_listing_dir(struct tree *tree, enum efs_kind kind, const char *service_id,
		      const char *share_id, char *buf, size_t len);
/*
 * Report what changed from old to new (a listing of kind) to tree->changed:
 * entries, info.json files and content links (a snapshot's path, a share's
 * access paths).
 */
void tree_notify_changes(struct tree *tree, enum efs_kind kind, const char *service_id,
			 const char *share_id, const struct listing *old,
			 const struct listing *new_listing);
/*
 * Forget key's listing (cache_forget), or every listing (SIGHUP), and tell
 * tree->changed every path the kernel may hold from them, so that it asks
 * again too instead of showing what it cached for up to cache_ttl.
 */
void tree_forget(struct tree *tree, const char *key);
void tree_forget_all(struct tree *tree);
/* Report the share's content link and each cached snapshot's (their targets may have moved). */
void tree_report_links(struct tree *tree, const char *service_id, const char *share_id);

#endif
