/*
 * snapstep: the steps every change of snapshots (snapcreate, snapops) takes
 * around its one API call.
 *
 * Owns the refusals made before any call (a service or share whose status
 * forbids a change, a name already taken in a listing), publishing a change
 * the API accepted in the cached listing (or forgetting the listing when the
 * outcome is unknown), and waiting (wait=) for a snapshot's status to
 * settle after a POST or to go after a DELETE, polling past an API that
 * lags or fails for a moment. Thread-safe; the callers hold the share's lock
 * (the tree's keylock) where a step says so.
 */
#ifndef OVHSNAPFS_SNAPSTEP_H
#define OVHSNAPFS_SNAPSTEP_H

#include <stdbool.h>

#include "snapops.h"

/* A visible snapshot in l already called name (by name or by id), other than except_id. */
bool snapstep_name_taken(const struct listing *l, const char *name, const char *except_id);

enum snapstep_change { CHANGE_ADD, CHANGE_REMOVE, CHANGE_REPLACE };
/* Publish the share's listing as it is after our change, so it shows at once. */
void snapstep_cache_apply(struct tree *t, const char *svc, const char *share,
			  enum snapstep_change what, const struct efs_object *obj);
/* Forget the share's listing (the kernel is told too): the next look asks the API. */
void snapstep_forget(struct tree *t, const char *svc, const char *share);

/* What a wait waits for: a new snapshot to settle (create, hold), or a deleted one to go. */
enum snapstep_wait_for { UNTIL_SETTLED, UNTIL_GONE };
/*
 * Poll snapshot id while it is on its way (backoff 0.5 s to 5 s), for at
 * most wait seconds and as long as op lets it. 0 with *last filled, -ENOENT
 * once it is gone, -ETIMEDOUT after wait, op's -EINTR or -ETIMEDOUT.
 */
int snapstep_wait_while(struct tree *t, const struct op *op, const char *svc, const char *share,
			const char *id, enum snapstep_wait_for until, double wait,
			struct efs_object *last);
/*
 * After a POST that made snapshot obj (mkdir, hold): refuse a failure status,
 * then wait (wait=) while it is creating. verb names the call in logs.
 */
int snapstep_finish_create(struct tree *t, const struct snapops_opts *opts, const struct op *op,
			   const char *svc, const char *share, const char *verb, const char *name,
			   struct efs_object *obj);
/*
 * -EBUSY or -EROFS at once, with no API call, when the status of node's
 * service or share makes a change of its snapshots impossible
 * (efs_change_refusal); 0 otherwise.
 */
int snapstep_change_possible(const struct node *node, const char *verb, const char *name);

#endif
