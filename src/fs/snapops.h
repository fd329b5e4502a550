/*
 * snapops: the changes a user can make: create, delete and rename snapshots,
 * change their description and hold automatic ones.
 *
 * Owns the rules around each API call (name checks, EEXIST/EBUSY before any
 * call, one POST/DELETE/PUT, before a DELETE, PUT, hold or revert (settings) one GET confirming
 * the snapshot still has the name the user typed (a cached name may be stale:
 * another host may have renamed it and reused the name; the listing is then
 * read again and the name means what it means now), reconciling a POST whose outcome is unknown by
 * listing again, never by sending it again,
 * waiting for creating/deleting to end) and updates the cached listing as
 * soon as the API has accepted a change. Thread-safe: changes within one
 * share are serialized so two mkdirs of one name cannot both create.
 * snapops.c has rmdir, mv, description and hold; snapcreate.c mkdir;
 * snapstep.c the steps they share.
 */
#ifndef OVHSNAPFS_SNAPOPS_H
#define OVHSNAPFS_SNAPOPS_H

#include <stdbool.h>

#include "tree.h"

struct snapops_opts {
	double wait;		 /* seconds to wait for available/gone; 0: do not */
	const char *description; /* for new snapshots; NULL or "" for none */
	double reconcile;	 /* seconds to look for a POST whose answer was lost */
};

/*
 * Each change is made on behalf of op (op.h), checked before every request:
 * once op ends (-EINTR: the caller was interrupted; -ETIMEDOUT) nothing more
 * is sent, and what was sent stands: an interrupted mkdir leaves its
 * snapshot being created and listed, an interrupted rmdir leaves it being
 * deleted and unlisted.
 */
/* dir is a NODE_SNAPDIR. In snapcreate.c. */
int snapops_create(struct tree *tree, const struct snapops_opts *opts, const struct op *op,
		   const struct node *dir, const char *name);
/* node is a NODE_SNAPSHOT. */
int snapops_delete(struct tree *tree, const struct snapops_opts *opts, const struct op *op,
		   const struct node *node);
/* from is a NODE_SNAPSHOT, to_dir the directory of the new name. */
int snapops_rename(struct tree *tree, const struct op *op, const struct node *from,
		   const struct node *to_dir, const char *new_name);

/*
 * The cached entry e (of the share's listing) may be stale: within
 * cache_ttl another host may have renamed its snapshot and given the name to
 * a new one, and a DELETE, PUT, hold or revert of the cached id would then
 * act on the wrong snapshot. One GET of that id confirms it still answers to
 * the name the user typed (by_id: an id, which always does); otherwise the
 * listing is read again and the name means what it means now. 0 with *now
 * the snapshot to act on; -ENOENT when none; -EBUSY while it is being
 * created or deleted (a cached busy status is never trusted alone);
 * otherwise what the GET met (-EINTR, -ETIMEDOUT, -EIO), never -EBUSY.
 * verb names the call in logs. Called under the share's lock (the tree's
 * keylock).
 */
int snapops_confirm(struct tree *t, const struct op *op, const char *svc, const char *share,
		    const struct entry *e, bool by_id, const char *verb, struct efs_object *now);

/*
 * Extended attributes. node is a NODE_SNAPSHOT. A description is checked
 * like a name (names_check_text) before one PUT; NULL sends null.
 */
int snapops_set_description(struct tree *tree, const struct op *op, const struct node *node,
			    const char *description);
/*
 * One POST .../hold on an automatic snapshot (-EINVAL, no call, on any other
 * type): the entry keeps its name and takes the new id; waits like mkdir.
 */
int snapops_hold(struct tree *tree, const struct snapops_opts *opts, const struct op *op,
		 const struct node *node);

#endif
