/*
 * treewalk: the tree's side of adaptive prefetch (walk.h).
 *
 * Owns what walk.h leaves to the tree: which listings are a directory's
 * subdirectories (the services' share listings under the root, the shares'
 * snapshot listings under a service; a .snapshots is never walked: its
 * snapshots have no listing), which path went through which of them, and
 * when a background load must not go (rate= has no room to spare, or a
 * change to the share is under way). Thread-safe.
 */
#ifndef OVHSNAPFS_TREEWALK_H
#define OVHSNAPFS_TREEWALK_H

#include "tree.h"

struct walk *treewalk_new(struct tree *tree, cache_loader_fn loader, int max_window);
/* A user's call resolved n: the subdirectories it went into. */
void treewalk_visited(struct tree *tree, const struct node *n);
/* A user's readdir listed dir. */
void treewalk_listed(struct tree *tree, const struct node *dir);

#endif
