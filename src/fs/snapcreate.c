/* snapcreate: mkdir in .snapshots, as one POST. */
#include "snapcreate.h"

#include <errno.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "names.h"
#include "op.h"
#include "snapstep.h"

/* Seconds a typed name keeps leading to its renamed snapshot: the kernel's cache_ttl, or more. */
#define ALIAS_MIN_TTL 10.0

/*
 * Another host may rename the new snapshot while we wait, or once it is
 * available, before a listing loaded meanwhile lands: the name typed goes
 * on leading to it (libfuse looks it up as mkdir returns), and the
 * snapshot shows its current name.
 */
static void keep_typed_name(struct tree *t, const char *svc, const char *share, const char *name,
			    const char *id)
{
	double ttl = cache_ttl(t->cache) > ALIAS_MIN_TTL ? cache_ttl(t->cache) : ALIAS_MIN_TTL;
	alias_add(&t->aliases, svc, share, name, id, ttl);
}

/*
 * After a POST whose fate is unknown: did it create a snapshot called name?
 * -ENOENT only when a listing came and lacks it; any failure to list (a 404
 * included) is not an answer.
 */
static int find_created(struct tree *t, const struct op *op, const char *svc, const char *share,
			const char *name, const struct listing *before, struct efs_object *out)
{
	struct efs_list now;
	int rc = efs_list(t->api, op, EFS_SNAPSHOT, svc, share, &now);
	if (rc)
		return rc == -ENOENT ? -EIO : rc;
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

/*
 * The API may carry the POST out late (a slow backend, a queueing proxy):
 * read the listing again, backing off from 0.5 s to 5 s, until the snapshot
 * shows or opts->reconcile seconds pass. Never POST again: 0 with out
 * filled, -EIO (it may still appear), or -EINTR when the caller gave up.
 */
static int reconcile(struct tree *t, const struct op *op, const struct snapops_opts *opts,
		     const char *svc, const char *share, const char *name,
		     const struct listing *before, struct efs_object *out)
{
	double until = clock_now() + opts->reconcile, delay = 0.5;
	int rc;
	for (;;) {
		rc = find_created(t, op, svc, share, name, before, out);
		if (rc == 0 || rc == -ENOMEM)
			return rc;
		double left = until - clock_now();
		if (left <= 0 || op_check(op) || op_sleep(op, delay < left ? delay : left))
			break; /* the bound, or the op's end (its deadline, an interrupt) */
		delay = delay * 1.5 > 5 ? 5 : delay * 1.5;
	}
	if (op_check(op) == -EINTR)
		return -EINTR;
	log_error("mkdir %s: the API's answer to the POST was lost and no snapshot of that name "
		  "showed within %.0f s; it may still appear (list .snapshots before trying again)",
		  name, opts->reconcile);
	return -EIO;
}

/*
 * One snapshot, never two: the POST is sent once (ovh.c alone re-sends it,
 * when the API certainly did not act on it). *unknown: whether it did stays
 * unknown.
 */
static int post_once(struct tree *t, const struct op *op, const struct snapops_opts *opts,
		     const char *svc, const char *share, const char *name,
		     const struct listing *before, struct efs_object *out, bool *unknown)
{
	int rc = op_check(op); /* a caller gone: not sent */
	if (rc == 0)
		rc = efs_create_snapshot(t->api, op, svc, share, name, opts->description, out);
	*unknown = rc == -EINPROGRESS;
	if (!*unknown)
		return rc;
	log_warn("mkdir %s: the API's answer to the POST was lost; reading the listing until the "
		 "snapshot shows (at most %.0f s)",
		 name, opts->reconcile);
	rc = reconcile(t, op, opts, svc, share, name, before, out);
	*unknown = rc != 0;
	if (rc == 0)
		log_warn("mkdir %s: the snapshot exists (%s)", name, out->id);
	return rc;
}

/*
 * A create refused 409 (Conflict): an API that keeps names unique says so for
 * a name this share's cached listing lacks (another host made it). One fresh
 * listing decides: -EEXIST when the name is there now, else -EBUSY.
 */
static int create_conflict(struct tree *t, const struct op *op, const char *svc, const char *share,
			   const char *name)
{
	struct listing *l;
	snapstep_forget(t, svc, share);
	if (tree_snapshots(t, op, svc, share, &l) != 0)
		return -EBUSY;
	int rc = snapstep_name_taken(l, name, NULL) ? -EEXIST : -EBUSY;
	listing_unref(l);
	return rc;
}

/*
 * Snapshots the API holds in one share, as it counts them: deleting ones
 * too, which listings hide. 0 when it cannot say.
 */
static size_t api_count(struct tree *t, const struct op *op, const char *svc, const char *share)
{
	struct efs_list now;
	if (efs_list(t->api, op, EFS_SNAPSHOT, svc, share, &now) != 0)
		return 0;
	size_t n = now.n;
	efs_list_free(&now);
	return n;
}

/* ... and in all the shares of the service (their list as cached). */
static size_t service_count(struct tree *t, const struct op *op, const struct node *dir)
{
	struct node svc = {.kind = NODE_SERVICE, .service = dir->service};
	struct listing *shares;
	size_t total = 0;
	if (tree_children(t, op, &svc, &shares) != 0)
		return 0;
	for (size_t i = 0; i < shares->n && op_check(op) == 0; i++)
		total += api_count(t, op, dir->service->obj.id, shares->entries[i].obj.id);
	listing_unref(shares);
	return total;
}

/*
 * A create refused 400 or 403 in words this version does not look for (the
 * API's are undocumented): at the documented limit, 200 snapshots in the
 * share or in the service, it is the limit's refusal whatever it says, so
 * -EDQUOT; otherwise failed stands. The API's listings count.
 */
static int create_refused(struct tree *t, const struct op *op, const struct node *dir,
			  const char *name, int failed)
{
	const char *where = "share";
	size_t n = api_count(t, op, dir->service->obj.id, dir->share->obj.id);
	if (n < EFS_MAX_SNAPSHOTS) {
		n = service_count(t, op, dir);
		where = "service";
	}
	if (n < EFS_MAX_SNAPSHOTS)
		return failed;
	log_error("mkdir %s: refused with %zu snapshots in the %s, the API's documented limit",
		  name, n, where);
	return -EDQUOT;
}

int snapops_create(struct tree *t, const struct snapops_opts *opts, const struct op *op,
		   const struct node *dir, const char *name)
{
	const char *svc = dir->service->obj.id, *share = dir->share->obj.id;
	struct efs_object obj = {0};
	struct listing *l;

	int rc = names_check_new(name);
	if (rc == 0)
		rc = snapstep_change_possible(dir, "mkdir", name);
	if (rc)
		return rc;
	bool unknown = false;
	int lock_rc = keylock_take(&t->changes, op, share); /* the caller may leave meanwhile */
	if (lock_rc)
		return lock_rc;
	rc = tree_snapshots(t, op, svc, share, &l);
	if (rc == 0) {
		if (snapstep_name_taken(l, name, NULL)) {
			rc = -EEXIST;
		} else if (l->n >= EFS_MAX_SNAPSHOTS) {
			log_error("mkdir %s: the share already has %zu snapshots, the API's limit",
				  name, l->n);
			rc = -EDQUOT;
		} else {
			rc = post_once(t, op, opts, svc, share, name, l, &obj, &unknown);
			if (rc == -EBUSY)
				rc = create_conflict(t, op, svc, share, name);
			else if (rc == -EINVAL || rc == -EACCES)
				rc = create_refused(t, op, dir, name, rc);
		}
		listing_unref(l);
	}
	if (rc == 0)
		snapstep_cache_apply(t, svc, share, CHANGE_ADD, &obj);
	if (unknown)
		snapstep_forget(t, svc, share); /* the user's retry decides from the API */
	keylock_give(&t->changes, share);
	if (rc == 0) {
		log_info("mkdir %s: created snapshot %s", name, obj.id);
		rc = snapstep_finish_create(t, opts, op, svc, share, "mkdir", name, &obj);
		if (rc == 0)
			keep_typed_name(t, svc, share, name, obj.id);
	}
	efs_object_free(&obj);
	return rc;
}
