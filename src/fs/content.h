/*
 * content: where the SHARE/content and SNAPSHOT/content symbolic links point.
 *
 * Owns where each link points: a snapshot's `path` (HOST:/EXPORT/REST) or,
 * when it has none that a mount explains, the share's access paths plus
 * .snapshot/NAME, mapped into this host's mounts (mounts.h), the path the
 * API marks preferred first; the share's link is the mount point of one of
 * its access paths. Also which shares' links a change of the mounts may
 * move (reported through tree_report_links). Access paths are loaded,
 * through the tree, only when a link needs them and this host has an
 * NFS-style mount at all. Calls go one way: fs -> content -> tree (tree
 * knows nothing of content; it reports a listing's link changes itself).
 * Thread-safe.
 */
#ifndef OVHSNAPFS_CONTENT_H
#define OVHSNAPFS_CONTENT_H

#include <stddef.h>

#include "tree.h"

#define CONTENT_SNAPSHOT_DIR ".snapshot" /* NetApp's name for it over NFS */

/*
 * The target of n's link (n: NODE_SHARE, NODE_SNAPSHOT or NODE_CONTENT):
 * 0 with an absolute path in buf; -ENOENT when there is no link; or the
 * error of loading the share's access paths (-EIO, -EACCES...).
 */
int content_target(struct tree *tree, const struct op *op, const struct node *n, char *buf,
		   size_t len);

/* mounts_changed_fn (ctx: the tree): report the links of every share a source may hold. */
void content_mounts_changed(void *ctx, const char *const *sources, size_t n);

#endif
