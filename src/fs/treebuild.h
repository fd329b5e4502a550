/*
 * treebuild: a directory listing built from an API list.
 *
 * Owns what a listing shows: the naming rule applied (names.h), deleting
 * snapshots and unwanted services hidden (-o service=), the directory mtime
 * (it moves only when the entries do), the one log line of a path that could
 * leave its mount, and our own changes published into a cached listing
 * (cache_update). Thread-safe.
 */
#ifndef OVHSNAPFS_TREEBUILD_H
#define OVHSNAPFS_TREEBUILD_H

#include <stdbool.h>

#include "cache.h"
#include "efs.h"

struct tree;

/*
 * Build a listing from an API list (its objects are moved out of list).
 * previous (may be NULL) keeps the directory mtime when nothing changed.
 */
struct listing *tree_build_listing(struct tree *tree, enum efs_kind kind, struct efs_list *list,
				   const struct listing *previous);
/*
 * Publish a share's snapshots as they are after a change of ours, so that it
 * shows at once (listing_objects_changed says how what, id and obj apply),
 * and report what changed. Built outside the cache's lock; nothing when the
 * listing is not cached.
 */
void tree_change_snapshots(struct tree *tree, const char *service_id, const char *share_id,
			   enum listing_change what, const char *id, const struct efs_object *obj);
/* Copy a listing's objects into list, for building a changed listing. */
int tree_listing_objects(const struct listing *listing, struct efs_list *list);
/* The same ids under the same names, in the same order. */
bool tree_same_names(const struct listing *a, const struct listing *b);
/* The object of id in l (NULL l: NULL), or NULL. */
const struct efs_object *tree_find_object(const struct listing *l, const char *id);
/* The same API path (bytes, NUL included), or both without one. */
bool tree_same_path(const struct efs_object *a, const struct efs_object *b);

#endif
