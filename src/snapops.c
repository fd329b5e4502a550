/* snapops: mkdir/rmdir/rename on .snapshots, as API calls. */
#include "snapops.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "names.h"
#include "op.h"

/* Striped locks: one per share in practice, never one for the whole mount. */
static pthread_mutex_t *share_lock(struct tree *t, const char *share_id)
{
	unsigned h = 5381;
	for (const char *p = share_id; *p; p++)
		h = h * 33 + (unsigned char)*p;
	return &t->change_locks[h % TREE_CHANGE_LOCKS];
}

/* A visible snapshot already called name (by name or by id). */
static bool name_taken(const struct listing *l, const char *name, const char *except_id)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct efs_object *o = &l->entries[i].obj;
		if (except_id && strcmp(o->id, except_id) == 0)
			continue;
		if (strcmp(o->id, name) == 0 || (o->name && strcmp(o->name, name) == 0))
			return true;
	}
	return false;
}

enum change { CHANGE_ADD, CHANGE_REMOVE, CHANGE_REPLACE };

/* Publish the listing as it is after our change, so it shows at once. */
static void cache_apply(struct tree *t, const char *svc, const char *share, enum change what,
			const struct efs_object *obj)
{
	char key[400];
	struct efs_list list;
	tree_snapshots_key(key, sizeof(key), svc, share);
	struct listing *cur = cache_peek(t->cache, key);
	if (!cur)
		return;
	if (tree_listing_objects(cur, &list) == 0) {
		size_t w = 0;
		for (size_t i = 0; i < list.n; i++) {
			bool same = strcmp(list.items[i].id, obj->id) == 0;
			if (same && what == CHANGE_REPLACE) {
				efs_object_free(&list.items[i]);
				efs_object_copy(obj, &list.items[i]);
			} else if (same) {
				efs_object_free(&list.items[i]); /* removed, or re-added below */
				continue;
			}
			list.items[w++] = list.items[i];
		}
		list.n = w;
		if (what == CHANGE_ADD && efs_object_copy(obj, &list.items[list.n]) == 0)
			list.n++;
		struct listing *next = tree_build_listing(t, EFS_SNAPSHOT, &list, cur);
		if (next) {
			next->fetched = cur->fetched;
			tree_notify_changes(t, EFS_SNAPSHOT, svc, share, cur, next);
			cache_put(t->cache, key, next);
		}
		efs_list_free(&list);
	}
	listing_unref(cur);
}

/* Polls an API that lags may answer as if our change had not reached it yet. */
#define LAG_POLLS 3

/* The answer of an API that has not caught up: no snapshot after the POST, still available after
 * the DELETE. */
static bool lags(int rc, const struct efs_object *got, enum efs_status pending)
{
	if (pending == EFS_ST_CREATING)
		return rc == -ENOENT;
	return rc == 0 && got->status == EFS_ST_AVAILABLE;
}

/*
 * Poll the snapshot until its status leaves pending (backoff 0.5 s to 5 s),
 * for at most wait seconds and as long as op lets it; up to LAG_POLLS
 * lagging answers (lags()) before the first pending one are not taken for
 * the end. 0 with *last filled, -ENOENT once it is gone, -ETIMEDOUT after
 * wait, op's -EINTR or -ETIMEDOUT.
 */
static int wait_while(struct tree *t, const struct op *op, const char *svc, const char *share,
		      const char *id, enum efs_status pending, double wait, struct efs_object *last)
{
	double deadline = clock_now() + wait, delay = 0.5;
	int lagging = 0;
	bool seen = false; /* an answer that showed our change */
	for (;;) {
		double left = deadline - clock_now();
		if (left <= 0)
			return -ETIMEDOUT;
		int rc = op_sleep(op, delay < left ? delay : left);
		if (rc == 0)
			rc = efs_get_snapshot(t->api, op, svc, share, id, last);
		if (!seen && lagging < LAG_POLLS && lags(rc, last, pending)) {
			lagging++;
			log_info("snapshot %s: the API does not show the change yet (poll %d)", id,
				 lagging);
			if (rc == 0)
				efs_object_free(last);
			continue;
		}
		if (rc)
			return rc;
		if (last->status != pending)
			return 0;
		seen = true;
		efs_object_free(last);
		delay = delay * 1.5 > 5 ? 5 : delay * 1.5;
	}
}

/* After a POST whose fate is unknown: did it create a snapshot called name? */
static int find_created(struct tree *t, const struct op *op, const char *svc, const char *share,
			const char *name, const struct listing *before, struct efs_object *out)
{
	struct efs_list now;
	int rc = efs_list(t->api, op, EFS_SNAPSHOT, svc, share, &now);
	if (rc)
		return rc;
	rc = -ENOENT;
	for (size_t i = 0; i < now.n && rc == -ENOENT; i++) {
		const struct efs_object *o = &now.items[i];
		if (!o->name || strcmp(o->name, name) != 0 || o->status == EFS_ST_DELETING)
			continue;
		bool known = false;
		for (size_t j = 0; j < before->n; j++)
			known = known || strcmp(before->entries[j].obj.id, o->id) == 0;
		if (!known)
			rc = efs_object_copy(o, out);
	}
	efs_list_free(&now);
	return rc;
}

/* One snapshot, never two: a POST is sent again only when none was made. */
static int post_reconciled(struct tree *t, const struct snapops_opts *opts, const struct op *op,
			   const char *svc, const char *share, const char *name,
			   const struct listing *before, struct efs_object *out)
{
	int tries = opts->retries > 0 ? opts->retries : 1;
	for (int i = 0; i < tries; i++) {
		int rc = op_check(op); /* a caller gone: not sent */
		if (rc == 0)
			rc = efs_create_snapshot(t->api, op, svc, share, name, opts->description,
						 out);
		if (rc != -EINPROGRESS)
			return rc;
		rc = find_created(t, op, svc, share, name, before, out);
		for (int again = 0; rc == -EIO && again < 2; again++)
			rc = find_created(t, op, svc, share, name, before, out); /* a bad reply */
		if (rc == 0) {
			log_warn("mkdir %s: the API's reply was lost, but the snapshot exists (%s)",
				 name, out->id);
			return 0;
		}
		if (rc != -ENOENT)
			return -EIO; /* cannot tell: sending it again could duplicate */
		log_warn("mkdir %s: the API's reply was lost and no snapshot was made; "
			 "sending the request again",
			 name);
	}
	return -EIO;
}

/* Replace obj by what the API says of it now. */
static int status_now(struct tree *t, const struct op *op, const char *svc, const char *share,
		      struct efs_object *obj)
{
	struct efs_object now;
	int rc = efs_get_snapshot(t->api, op, svc, share, obj->id, &now);
	if (rc == 0) {
		efs_object_free(obj);
		*obj = now;
	}
	return rc;
}

static int finish_create(struct tree *t, const struct snapops_opts *opts, const struct op *op,
			 const char *svc, const char *share, const char *name,
			 struct efs_object *obj)
{
	struct efs_object last;
	if (opts->wait > 0 && obj->status == EFS_ST_NONE && status_now(t, op, svc, share, obj) == 0)
		cache_apply(t, svc, share, CHANGE_REPLACE, obj); /* the POST's answer had none */
	if (opts->wait <= 0 || obj->status != EFS_ST_CREATING)
		return 0;
	int rc = wait_while(t, op, svc, share, obj->id, EFS_ST_CREATING, opts->wait, &last);
	if (rc == -EINTR) {
		log_info("mkdir %s: interrupted; snapshot %s goes on being created", name, obj->id);
		return rc;
	}
	if (rc == -ETIMEDOUT) {
		log_error("mkdir %s: snapshot %s still creating after wait=%.0f s", name, obj->id,
			  opts->wait);
		return rc;
	}
	if (rc == -ENOENT) {
		log_error("mkdir %s: snapshot %s vanished while being created", name, obj->id);
		cache_apply(t, svc, share, CHANGE_REMOVE, obj);
		return -EIO;
	}
	if (rc)
		return rc;
	cache_apply(t, svc, share, CHANGE_REPLACE, &last);
	if (last.status != EFS_ST_AVAILABLE) {
		log_error("mkdir %s: snapshot %s ended in status %s", name, obj->id,
			  efs_status_name(last.status));
		rc = -EIO;
	}
	efs_object_free(&last);
	return rc;
}

int snapops_create(struct tree *t, const struct snapops_opts *opts, const struct op *op,
		   const struct node *dir, const char *name)
{
	const char *svc = dir->service->obj.id, *share = dir->share->obj.id;
	struct efs_object obj = {0};
	struct listing *l;

	int rc = names_check_new(name);
	if (rc)
		return rc;
	pthread_mutex_t *lock = share_lock(t, share);
	pthread_mutex_lock(lock);
	rc = tree_snapshots(t, op, svc, share, &l);
	if (rc == 0) {
		if (name_taken(l, name, NULL)) {
			rc = -EEXIST;
		} else if (l->n >= EFS_MAX_SNAPSHOTS) {
			log_error("mkdir %s: the share already has %zu snapshots, the API's limit",
				  name, l->n);
			rc = -EDQUOT;
		} else
			rc = post_reconciled(t, opts, op, svc, share, name, l, &obj);
		listing_unref(l);
	}
	if (rc == 0)
		cache_apply(t, svc, share, CHANGE_ADD, &obj);
	pthread_mutex_unlock(lock);
	if (rc == 0) {
		log_info("mkdir %s: created snapshot %s", name, obj.id);
		rc = finish_create(t, opts, op, svc, share, name, &obj);
	}
	efs_object_free(&obj);
	return rc;
}

/*
 * A DELETE refused as busy may be our own, re-sent by libcurl after the
 * reply to the first was lost: if the snapshot is being deleted, it worked.
 */
static int deletion_under_way(struct tree *t, const struct op *op, const char *svc,
			      const char *share, const char *id)
{
	struct efs_object now;
	int rc = efs_get_snapshot(t->api, op, svc, share, id, &now);
	if (rc == -ENOENT)
		return 0; /* already gone */
	if (rc)
		return -EBUSY;
	rc = now.status == EFS_ST_DELETING ? 0 : -EBUSY;
	efs_object_free(&now);
	return rc;
}

int snapops_delete(struct tree *t, const struct snapops_opts *opts, const struct op *op,
		   const struct node *node)
{
	const char *svc = node->service->obj.id, *share = node->share->obj.id;
	const struct efs_object *obj = &node->snapshot->obj;
	struct efs_object last;

	if (obj->status == EFS_ST_CREATING)
		return -EBUSY;
	pthread_mutex_t *lock = share_lock(t, share);
	pthread_mutex_lock(lock);
	int rc = op_check(op); /* a caller gone: not sent */
	if (rc == 0)
		rc = efs_delete_snapshot(t->api, op, svc, share, obj->id);
	if (rc == -EBUSY)
		rc = deletion_under_way(t, op, svc, share, obj->id);
	if (rc == 0 || rc == -ENOENT)
		cache_apply(t, svc, share, CHANGE_REMOVE, obj);
	pthread_mutex_unlock(lock);
	if (rc || opts->wait <= 0)
		return rc;
	log_info("rmdir %s: deleting snapshot %s", node->snapshot->name, obj->id);
	rc = wait_while(t, op, svc, share, obj->id, EFS_ST_DELETING, opts->wait, &last);
	if (rc == -ENOENT)
		return 0; /* gone: done */
	if (rc == -EINTR) {
		log_info("rmdir %s: interrupted; snapshot %s goes on being deleted",
			 node->snapshot->name, obj->id);
		return rc;
	}
	if (rc == 0) {
		log_error("rmdir %s: snapshot %s ended in status %s", node->snapshot->name, obj->id,
			  efs_status_name(last.status));
		cache_apply(t, svc, share, CHANGE_ADD, &last);
		efs_object_free(&last);
		return -EIO;
	}
	if (rc == -ETIMEDOUT)
		log_error("rmdir %s: snapshot %s still deleting after wait=%.0f s",
			  node->snapshot->name, obj->id, opts->wait);
	return rc;
}

int snapops_rename(struct tree *t, const struct op *op, const struct node *from,
		   const struct node *to_dir, const char *new_name)
{
	const char *svc = from->service->obj.id, *share = from->share->obj.id;
	const struct efs_object *obj = &from->snapshot->obj;
	struct efs_object renamed;
	struct listing *l;

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
	if (obj->status == EFS_ST_CREATING || obj->status == EFS_ST_DELETING)
		return -EBUSY;
	pthread_mutex_t *lock = share_lock(t, share);
	pthread_mutex_lock(lock);
	rc = tree_snapshots(t, op, svc, share, &l);
	if (rc == 0) {
		rc = name_taken(l, new_name, obj->id) ? -EEXIST : 0;
		listing_unref(l);
	}
	if (rc == 0)
		rc = op_check(op); /* a caller gone: not sent */
	if (rc == 0)
		rc = efs_rename_snapshot(t->api, op, svc, share, obj->id, new_name, &renamed);
	if (rc == 0) {
		cache_apply(t, svc, share, CHANGE_REPLACE, &renamed);
		efs_object_free(&renamed);
	}
	pthread_mutex_unlock(lock);
	return rc;
}

/* ---- extended attributes: description and hold ---- */

int snapops_set_description(struct tree *t, const struct op *op, const struct node *node,
			    const char *description)
{
	const char *svc = node->service->obj.id, *share = node->share->obj.id;
	const struct efs_object *obj = &node->snapshot->obj;
	struct efs_object now;

	int rc = description ? names_check_text(description) : 0;
	if (rc)
		return rc;
	if (obj->status == EFS_ST_CREATING || obj->status == EFS_ST_DELETING)
		return -EBUSY;
	pthread_mutex_t *lock = share_lock(t, share);
	pthread_mutex_lock(lock);
	rc = op_check(op); /* a caller gone: not sent */
	if (rc == 0)
		rc = efs_set_description(t->api, op, svc, share, obj->id, description, &now);
	if (rc == 0) {
		cache_apply(t, svc, share, CHANGE_REPLACE, &now);
		efs_object_free(&now);
	}
	pthread_mutex_unlock(lock);
	return rc;
}

/* Publish the listing with old_id's snapshot replaced by obj, in one step (hold). */
static void cache_swap(struct tree *t, const char *svc, const char *share, const char *old_id,
		       const struct efs_object *obj)
{
	char key[400];
	struct efs_list list;
	tree_snapshots_key(key, sizeof(key), svc, share);
	struct listing *cur = cache_peek(t->cache, key);
	if (!cur)
		return;
	if (tree_listing_objects(cur, &list) == 0) {
		for (size_t i = 0; i < list.n; i++) {
			if (strcmp(list.items[i].id, old_id) != 0)
				continue;
			efs_object_free(&list.items[i]);
			if (efs_object_copy(obj, &list.items[i]) != 0)
				list.items[i--] = list.items[--list.n];
		}
		struct listing *next = tree_build_listing(t, EFS_SNAPSHOT, &list, cur);
		if (next) {
			next->fetched = cur->fetched;
			tree_notify_changes(t, EFS_SNAPSHOT, svc, share, cur, next);
			cache_put(t->cache, key, next);
		}
		efs_list_free(&list);
	}
	listing_unref(cur);
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
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

/* The held copy may start creating: wait for it as mkdir waits (wait=). */
static int finish_hold(struct tree *t, const struct snapops_opts *opts, const struct op *op,
		       const char *svc, const char *share, const char *name,
		       struct efs_object *held)
{
	struct efs_object last;
	if (opts->wait > 0 && held->status == EFS_ST_NONE &&
	    status_now(t, op, svc, share, held) == 0)
		cache_apply(t, svc, share, CHANGE_REPLACE, held);
	if (opts->wait <= 0 || held->status != EFS_ST_CREATING)
		return 0;
	int rc = wait_while(t, op, svc, share, held->id, EFS_ST_CREATING, opts->wait, &last);
	if (rc == -ETIMEDOUT)
		log_error("hold %s: snapshot %s still creating after wait=%.0f s", name, held->id,
			  opts->wait);
	if (rc == -ENOENT) {
		log_error("hold %s: snapshot %s vanished while being created", name, held->id);
		cache_apply(t, svc, share, CHANGE_REMOVE, held);
		return -EIO;
	}
	if (rc)
		return rc;
	cache_apply(t, svc, share, CHANGE_REPLACE, &last);
	if (last.status != EFS_ST_AVAILABLE) {
		log_error("hold %s: snapshot %s ended in status %s", name, held->id,
			  efs_status_name(last.status));
		rc = -EIO;
	}
	efs_object_free(&last);
	return rc;
}

int snapops_hold(struct tree *t, const struct snapops_opts *opts, const struct op *op,
		 const struct node *node)
{
	const char *svc = node->service->obj.id, *share = node->share->obj.id;
	const struct efs_object *obj = &node->snapshot->obj;
	struct efs_object held = {0};

	if (!efs_is_automatic(obj))
		return -EINVAL; /* the API holds only what a policy made */
	if (obj->status == EFS_ST_CREATING || obj->status == EFS_ST_DELETING)
		return -EBUSY;
	pthread_mutex_t *lock = share_lock(t, share);
	pthread_mutex_lock(lock);
	int rc = op_check(op); /* a caller gone: not sent */
	if (rc == 0)
		rc = efs_hold_snapshot(t->api, op, svc, share, obj->id, &held);
	if (rc == -EINPROGRESS) {
		rc = find_held(t, op, svc, share, obj, &held);
		if (rc)
			log_error("hold %s: the API's reply was lost and the listing does not tell "
				  "whether it was held; not sending it again",
				  node->snapshot->name);
	}
	if (rc == 0)
		cache_swap(t, svc, share, obj->id, &held);
	pthread_mutex_unlock(lock);
	if (rc == 0) {
		log_info("hold %s: snapshot %s is now %s", node->snapshot->name, obj->id, held.id);
		rc = finish_hold(t, opts, op, svc, share, node->snapshot->name, &held);
	}
	efs_object_free(&held);
	return rc;
}
