/* snapops: rmdir, mv, description and hold of snapshots, as API calls. */
#include "snapops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "op.h"
#include "snapstep.h"

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

/* On its way somewhere (creating, manage_starting, unmanage_starting, restoring, deleting). */
static bool is_busy(enum efs_status status)
{
	return efs_status_is_transitional(status) || status == EFS_ST_DELETING;
}

/*
 * Read the share's listing again and find what name means now: 0 with *now
 * filled, -ENOENT when nothing is called that, -EBUSY while it is being
 * created or deleted. The kernel is told what changed since the old one.
 */
static int resolve_again(struct tree *t, const struct op *op, const char *svc, const char *share,
			 const char *name, struct efs_object *now)
{
	struct listing *l;
	int rc = tree_snapshots_afresh(t, op, svc, share, &l);
	if (rc == 0) {
		const struct entry *e = listing_find(l, name);
		rc = !e ? -ENOENT : is_busy(e->obj.status) ? -EBUSY : efs_object_copy(&e->obj, now);
		listing_unref(l);
	}
	return rc;
}

int snapops_confirm(struct tree *t, const struct op *op, const char *svc, const char *share,
		    const struct entry *e, bool by_id, const char *verb, struct efs_object *now)
{
	int rc = efs_get_snapshot(t->api, op, svc, share, e->obj.id, now);
	if (rc && rc != -ENOENT)
		return rc; /* what the GET met (-EINTR, -ETIMEDOUT, -EIO...), never a guess */
	if (rc == 0 && (by_id || same_text(now->name, e->name))) {
		snapstep_cache_apply(t, svc, share, CHANGE_REPLACE, now);
		if (!is_busy(now->status))
			return 0;
		efs_object_free(now);
		return -EBUSY;
	}
	if (rc == 0) {
		log_info("%s %s: snapshot %s is now called %s: reading the listing again", verb,
			 e->name, e->obj.id, now->name ? now->name : now->id);
		efs_object_free(now);
	}
	if (by_id) { /* the id is gone, and ids never come back */
		snapstep_cache_apply(t, svc, share, CHANGE_REMOVE, &e->obj);
		return -ENOENT;
	}
	return resolve_again(t, op, svc, share, e->name, now);
}

/* snapops_confirm for the snapshot node names. */
static int confirm(struct tree *t, const struct op *op, const struct node *node, const char *verb,
		   struct efs_object *now)
{
	const struct entry *e = node->snapshot;
	bool by_id = node->snapshot_by_id || strcmp(e->name, e->obj.id) == 0;
	return snapops_confirm(t, op, node->service->obj.id, node->share->obj.id, e, by_id, verb,
			       now);
}

/*
 * A DELETE refused may be our own sent again after the reply to the first
 * was lost (ovh.c retries a DELETE), refused by whatever status and wording
 * the API uses for a snapshot being deleted (undocumented). One GET decides:
 * gone (404) or deleting is done; otherwise the refusal (failed) stands.
 * A GET that fails says why (-EINTR, -ETIMEDOUT, -EIO), not busy.
 */
static int deletion_under_way(struct tree *t, const struct op *op, const char *svc,
			      const char *share, const char *id, int failed)
{
	struct efs_object now;
	int rc = efs_get_snapshot(t->api, op, svc, share, id, &now);
	if (rc == -ENOENT)
		return 0; /* already gone */
	if (rc)
		return rc;
	rc = now.status == EFS_ST_DELETING ? 0 : failed;
	efs_object_free(&now);
	return rc;
}

/*
 * A change whose request ended this way may still have been carried out
 * (interrupted or cut in flight): the cached listing cannot tell. Not EIO:
 * while the API is down (fail fast) the cached listing is still served.
 */
static bool may_have_acted(int rc)
{
	return rc == -EINTR || rc == -ETIMEDOUT;
}

/* Under the share's lock: confirm what the name means, then one DELETE of that id. */
static int send_delete(struct tree *t, const struct op *op, const struct node *node,
		       struct efs_object *obj)
{
	const char *svc = node->service->obj.id, *share = node->share->obj.id;
	int rc = confirm(t, op, node, "rmdir", obj);
	if (rc)
		return rc;
	rc = op_check(op); /* a caller gone: not sent */
	if (rc == 0)
		rc = efs_delete_snapshot(t->api, op, svc, share, obj->id);
	if (rc && rc != -ENOENT && rc != -ENOMEM && !may_have_acted(rc) && op_check(op) == 0)
		rc = deletion_under_way(t, op, svc, share, obj->id, rc);
	if (rc == 0 || rc == -ENOENT || may_have_acted(rc))
		alias_forget_id(&t->aliases, obj->id); /* its typed name is free again */
	if (rc == 0 || rc == -ENOENT)
		snapstep_cache_apply(t, svc, share, CHANGE_REMOVE, obj);
	else if (may_have_acted(rc))
		snapstep_forget(t, svc, share); /* the next ls asks the API what it did */
	if (rc)
		efs_object_free(obj);
	return rc;
}

/* After the DELETE: wait (wait=) until the API no longer has it. */
static int wait_deleted(struct tree *t, const struct snapops_opts *opts, const struct op *op,
			const struct node *node, const struct efs_object *obj)
{
	const char *svc = node->service->obj.id, *share = node->share->obj.id;
	struct efs_object last;
	char text[64];
	log_info("rmdir %s: deleting snapshot %s", node->snapshot->name, obj->id);
	int rc = snapstep_wait_while(t, op, svc, share, obj->id, UNTIL_GONE, opts->wait, &last);
	if (rc == -ENOENT)
		return 0; /* gone: done */
	if (rc == -EINTR) {
		log_info("rmdir %s: interrupted; snapshot %s goes on being deleted",
			 node->snapshot->name, obj->id);
		return rc;
	}
	if (rc == 0) {
		log_error("rmdir %s: snapshot %s ended in status %s", node->snapshot->name, obj->id,
			  efs_status_text(&last, text, sizeof(text)));
		snapstep_cache_apply(t, svc, share, CHANGE_ADD, &last);
		efs_object_free(&last);
		return -EIO;
	}
	if (rc == -ETIMEDOUT)
		log_error("rmdir %s: snapshot %s still deleting after wait=%.0f s",
			  node->snapshot->name, obj->id, opts->wait);
	return rc;
}

int snapops_delete(struct tree *t, const struct snapops_opts *opts, const struct op *op,
		   const struct node *node)
{
	struct efs_object obj;
	int rc = snapstep_change_possible(node, "rmdir", node->snapshot->name);
	if (rc)
		return rc;
	rc = keylock_take(&t->changes, op, node->share->obj.id); /* the caller may leave */
	if (rc)
		return rc;
	rc = send_delete(t, op, node, &obj);
	keylock_give(&t->changes, node->share->obj.id);
	if (rc)
		return rc;
	if (opts->wait > 0)
		rc = wait_deleted(t, opts, op, node, &obj);
	efs_object_free(&obj);
	return rc;
}

/* -EEXIST when another snapshot than except_id is called name in the share's listing. */
static int new_name_taken(struct tree *t, const struct op *op, const char *svc, const char *share,
			  const char *name, const char *except_id)
{
	struct listing *l;
	int rc = tree_snapshots(t, op, svc, share, &l);
	if (rc == 0) {
		rc = snapstep_name_taken(l, name, except_id) ? -EEXIST : 0;
		listing_unref(l);
	}
	return rc;
}

/* What a PUT changes: the name (mv) or the description (setfattr). */
enum update_field { UPDATE_NAME, UPDATE_DESCRIPTION };

/*
 * Under the share's lock: confirm what node's name means, then one PUT of
 * field. The listing shows the result at once, or is forgotten when the API
 * may have acted on a PUT whose answer was lost.
 */
static int send_update(struct tree *t, const struct op *op, const struct node *node,
		       enum update_field field, const char *value)
{
	const char *svc = node->service->obj.id, *share = node->share->obj.id;
	struct efs_object obj, now;
	int rc = confirm(t, op, node, field == UPDATE_NAME ? "rename" : "description", &obj);
	if (rc)
		return rc;
	if (field == UPDATE_NAME) /* again: confirm may have read a new listing */
		rc = new_name_taken(t, op, svc, share, value, obj.id);
	if (rc == 0)
		rc = op_check(op); /* a caller gone: not sent */
	if (rc == 0)
		rc = field == UPDATE_NAME
			     ? efs_rename_snapshot(t->api, op, svc, share, &obj, value, &now)
			     : efs_set_description(t->api, op, svc, share, &obj, value, &now);
	if (field == UPDATE_NAME && (rc == 0 || may_have_acted(rc)))
		alias_forget_id(&t->aliases, obj.id); /* our own rename: the typed name is free */
	efs_object_free(&obj);
	if (rc == 0) {
		snapstep_cache_apply(t, svc, share, CHANGE_REPLACE, &now);
		efs_object_free(&now);
	} else if (may_have_acted(rc)) {
		snapstep_forget(t, svc, share); /* the next look shows what the API has */
	}
	return rc;
}

int snapops_rename(struct tree *t, const struct op *op, const struct node *from,
		   const struct node *to_dir, const char *new_name)
{
	const char *svc = from->service->obj.id, *share = from->share->obj.id;

	/*
	 * Never EXDEV: GNU mv would fall back to copying, and its mkdir would
	 * make a real snapshot elsewhere. ZFS answers EINVAL for its snapdir too.
	 */
	if (to_dir->kind != NODE_SNAPDIR || strcmp(to_dir->share->obj.id, share) != 0 ||
	    strcmp(to_dir->service->obj.id, svc) != 0)
		return -EINVAL;
	int rc = names_check_new(new_name);
	if (rc)
		return rc;
	if (strcmp(from->snapshot->name, new_name) == 0)
		return 0;
	rc = snapstep_change_possible(from, "rename", from->snapshot->name);
	if (rc)
		return rc;
	rc = keylock_take(&t->changes, op, share); /* the caller may leave meanwhile */
	if (rc)
		return rc;
	/* A name taken in the cached listing: EEXIST before any call. */
	rc = new_name_taken(t, op, svc, share, new_name, from->snapshot->obj.id);
	if (rc == 0)
		rc = send_update(t, op, from, UPDATE_NAME, new_name);
	keylock_give(&t->changes, share);
	return rc;
}

/* ---- extended attributes: description and hold ---- */

int snapops_set_description(struct tree *t, const struct op *op, const struct node *node,
			    const char *description)
{
	const char *share = node->share->obj.id;
	int rc = description ? names_check_text(description) : 0;
	if (rc)
		return rc;
	rc = keylock_take(&t->changes, op, share); /* the caller may leave meanwhile */
	if (rc)
		return rc;
	rc = send_update(t, op, node, UPDATE_DESCRIPTION, description);
	keylock_give(&t->changes, share);
	return rc;
}

/* Publish the listing with old_id's snapshot replaced by obj, in one step (hold). */
static void cache_swap(struct tree *t, const char *svc, const char *share, const char *old_id,
		       const struct efs_object *obj)
{
	tree_change_snapshots(t, svc, share, LISTING_REPLACE, old_id, obj);
}

/*
 * After a hold whose fate is unknown: the held copy keeps name and createdAt
 * under a new id, and the automatic one is gone. Never sent again.
 */
static int find_held(struct tree *t, const struct op *op, const char *svc, const char *share,
		     const struct efs_object *old, struct efs_object *out)
{
	struct efs_list now;
	const struct efs_object *held = NULL;
	int rc = efs_list(t->api, op, EFS_SNAPSHOT, svc, share, &now);
	if (rc)
		return -EIO;
	for (size_t i = 0; i < now.n; i++) {
		const struct efs_object *o = &now.items[i];
		if (strcmp(o->id, old->id) == 0) {
			held = NULL; /* still there: not held, or not yet */
			break;
		}
		if (!held && same_text(o->name, old->name) && o->created == old->created &&
		    !efs_is_automatic(o))
			held = o;
	}
	rc = held ? efs_object_copy(held, out) : -EIO;
	efs_list_free(&now);
	return rc;
}

/* Under the share's lock: confirm what the name means, then one POST .../hold of that id. */
static int send_hold(struct tree *t, const struct op *op, const struct node *node,
		     struct efs_object *held)
{
	const char *svc = node->service->obj.id, *share = node->share->obj.id;
	struct efs_object obj;
	int rc = confirm(t, op, node, "hold", &obj);
	if (rc)
		return rc;
	rc = efs_is_automatic(&obj) ? op_check(op) : -EINVAL; /* a caller gone: not sent */
	if (rc == 0)
		rc = efs_hold_snapshot(t->api, op, svc, share, obj.id, held);
	if (rc == -EINPROGRESS) {
		rc = find_held(t, op, svc, share, &obj, held);
		if (rc && op_check(op) == -EINTR)
			rc = -EINTR; /* the caller left: not the API's fault */
		else if (rc)
			log_error("hold %s: the API's reply was lost and the listing does not tell "
				  "whether it was held; not sending it again",
				  node->snapshot->name);
		if (rc)
			snapstep_forget(t, svc, share); /* the next look asks the API */
	}
	if (rc == 0) {
		cache_swap(t, svc, share, obj.id, held);
		log_info("hold %s: snapshot %s is now %s", node->snapshot->name, obj.id, held->id);
	}
	efs_object_free(&obj);
	return rc;
}

int snapops_hold(struct tree *t, const struct snapops_opts *opts, const struct op *op,
		 const struct node *node)
{
	const char *svc = node->service->obj.id, *share = node->share->obj.id;
	struct efs_object held = {0};

	if (!efs_is_automatic(&node->snapshot->obj))
		return -EINVAL; /* the API holds only what a policy made */
	int rc = snapstep_change_possible(node, "hold", node->snapshot->name);
	if (rc)
		return rc;
	rc = keylock_take(&t->changes, op, share); /* the caller may leave meanwhile */
	if (rc)
		return rc;
	rc = send_hold(t, op, node, &held);
	keylock_give(&t->changes, share);
	if (rc == 0)
		rc = snapstep_finish_create(t, opts, op, svc, share, "hold", node->snapshot->name,
					    &held);
	efs_object_free(&held);
	return rc;
}
