/*
 * content: the SHARE/content and SNAPSHOT/content symbolic links.
 *
 * Owns where each link points: a snapshot's `path` (HOST:/EXPORT/REST) or,
 * when it has none that a mount explains, the share's access paths plus
 * .snapshot/NAME, mapped into this host's mounts (mounts.h), the path the
 * API marks preferred first; the share's link is the mount point of one of
 * its access paths. Also the one log line
 * of a path that could leave its mount, and which kernel entries go stale
 * when the mounts or those paths change (reported to tree->changed). Access
 * paths are loaded, through the cache, only when a link needs them and this
 * host has an NFS-style mount at all. Thread-safe.
 */
#ifndef OVHSNAPFS_CONTENT_H
#define OVHSNAPFS_CONTENT_H

#include <stddef.h>

#include "tree.h"

#define CONTENT_LINK	     "content"
#define CONTENT_SNAPSHOT_DIR ".snapshot" /* NetApp's name for it over NFS */

/*
 * The target of n's link (n: NODE_SHARE, NODE_SNAPSHOT or NODE_CONTENT):
 * 0 with an absolute path in buf; -ENOENT when there is no link; or the
 * error of loading the share's access paths (-EIO, -EACCES...).
 */
int content_target(struct tree *tree, const struct op *op, const struct node *n, char *buf,
		   size_t len);

/*
 * The share's access paths could not be loaded (rc): list keeps those of
 * previous (may be NULL: none) for another cache_ttl, so a refusal (403) or
 * an outage costs one call per cache_ttl, not one per lookup. 0 or -ENOMEM.
 */
int content_access_paths_failed(const char *share_id, const struct listing *previous, int rc,
				struct efs_list *list);
/* A listing of kind was built: log once each path that could leave its mount. */
void content_check_listing(enum efs_kind kind, const struct listing *listing,
			   const struct listing *previous);
/* A listing of kind changed from old: report the links that changed with it. */
void content_notify_changes(struct tree *tree, enum efs_kind kind, const char *service_id,
			    const char *share_id, const struct listing *old,
			    const struct listing *new_listing);
/* mounts_changed_fn (ctx: the tree): report the links of every share a source may hold. */
void content_mounts_changed(void *ctx, const char *const *sources, size_t n);

#endif
