/* snapops: mkdir/rmdir/rename on .snapshots, as API calls. */
#include "snapops.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "names.h"
#include "op.h"

/* A visible snapshot already called name (by name or by id). */
static bool name_taken(const struct listing *l, const char *name, const char *except_id)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct efs_object *o = &l->entries[i].obj;
		if (except_id && strcmp(o->id, except_id) == 0)
			continue;
		/* ids are UUIDs, which the API matches in any case */
		if (strcasecmp(o->id, name) == 0 || (o->name && strcmp(o->name, name) == 0))
			return true;
	}
	return false;
}

enum change { CHANGE_ADD, CHANGE_REMOVE, CHANGE_REPLACE };

/* Publish the listing as it is after our change, so it shows at once. */
static void cache_apply(struct tree *t, const char *svc, const char *share, enum change what,
			const struct efs_object *obj)
{
	static const enum listing_change as[] = {
		[CHANGE_ADD] = LISTING_ADD,
		[CHANGE_REMOVE] = LISTING_REMOVE,
		[CHANGE_REPLACE] = LISTING_REPLACE,
	};
	tree_change_snapshots(t, svc, share, as[what], obj->id, obj);
}

/* Polls an API that lags may answer as if our change had not reached it yet. */
#define LAG_POLLS 3

/* What a wait waits for: a new snapshot to settle (create, hold), or a deleted one to go. */
enum wait_for { UNTIL_SETTLED, UNTIL_GONE };

/* The answer of an API that has not caught up: no snapshot after the POST, still available after
 * the DELETE. */
static bool lags(int rc, const struct efs_object *got, enum wait_for until)
{
	if (until == UNTIL_SETTLED)
		return rc == -ENOENT;
	return rc == 0 && got->status == EFS_ST_AVAILABLE;
}

/* Still on the way: a transitional status (creating, manage_starting, ...), or deleting. */
static bool pending(const struct efs_object *got, enum wait_for until)
{
	if (until == UNTIL_SETTLED)
		return efs_status_is_transitional(got->status);
	return got->status == EFS_ST_DELETING;
}

/*
 * A status poll that failed (the API down for a moment, a 5xx after its
 * retries, an open breaker, a cut request) says nothing of the change the
 * API accepted: poll on while wait and the op allow. Not a failure: an
 * answer (0, -ENOENT), or the op's own end (interrupt, deadline).
 */
static bool poll_failed(int rc, const struct op *op)
{
	if (rc == 0 || rc == -ENOENT || rc == -ENOMEM || op_check(op) != 0)
		return false;
	return rc == -EIO || rc == -ETIMEDOUT || rc == -EAGAIN || rc == -EBUSY ||
	       rc == -ECONNREFUSED || rc == -EHOSTUNREACH || rc == -ENETUNREACH;
}

/*
 * Poll the snapshot while its status is pending() (backoff 0.5 s to 5 s),
 * for at most wait seconds and as long as op lets it; up to LAG_POLLS
 * lagging answers (lags()) before the first pending one are not taken for
 * the end, and failed polls (poll_failed) are polled past. 0 with *last
 * filled, -ENOENT once it is gone, -ETIMEDOUT after wait, op's -EINTR or
 * -ETIMEDOUT.
 */
static int wait_while(struct tree *t, const struct op *op, const char *svc, const char *share,
		      const char *id, enum wait_for until, double wait, struct efs_object *last)
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
		if (!seen && lagging < LAG_POLLS && lags(rc, last, until)) {
			lagging++;
			log_info("snapshot %s: the API does not show the change yet (poll %d)", id,
				 lagging);
			if (rc == 0)
				efs_object_free(last);
			continue;
		}
		if (poll_failed(rc, op)) {
			log_info("snapshot %s: a status poll failed (%s); polling on", id,
				 strerror(-rc));
			delay = delay * 1.5 > 5 ? 5 : delay * 1.5;
			continue;
		}
		if (rc)
			return rc;
		if (!pending(last, until))
			return 0;
		seen = true;
		efs_object_free(last);
		delay = delay * 1.5 > 5 ? 5 : delay * 1.5;
	}
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

static void forget_snapshots(struct tree *t, const char *svc, const char *share)
{
	char key[400];
	tree_snapshots_key(key, sizeof(key), svc, share);
	tree_forget(t, key); /* the kernel is told too */
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
 * After a POST that made a snapshot (mkdir, hold): refuse a failure status,
 * then wait (wait=) while it is creating. verb names the call in logs.
 */
static int finish_create(struct tree *t, const struct snapops_opts *opts, const struct op *op,
			 const char *svc, const char *share, const char *verb, const char *name,
			 struct efs_object *obj)
{
	struct efs_object last;
	char text[64];
	if (opts->wait > 0 && obj->status == EFS_ST_NONE && status_now(t, op, svc, share, obj) == 0)
		cache_apply(t, svc, share, CHANGE_REPLACE, obj); /* the POST's answer had none */
	if (obj->status != EFS_ST_AVAILABLE && obj->status != EFS_ST_NONE &&
	    !efs_status_is_transitional(obj->status)) {
		log_error("%s %s: the API answered with snapshot %s in status %s", verb, name,
			  obj->id, efs_status_text(obj, text, sizeof(text)));
		return -EIO;
	}
	if (opts->wait <= 0 || !efs_status_is_transitional(obj->status))
		return 0;
	int rc = wait_while(t, op, svc, share, obj->id, UNTIL_SETTLED, opts->wait, &last);
	if (rc == -EINTR) {
		log_info("%s %s: interrupted; snapshot %s goes on being created", verb, name,
			 obj->id);
		return rc;
	}
	if (rc == -ETIMEDOUT) {
		log_error("%s %s: snapshot %s still not available after wait=%.0f s", verb, name,
			  obj->id, opts->wait);
		return rc;
	}
	if (rc == -ENOENT) {
		log_error("%s %s: snapshot %s vanished while being created", verb, name, obj->id);
		cache_apply(t, svc, share, CHANGE_REMOVE, obj);
		return -EIO;
	}
	if (rc)
		return rc;
	cache_apply(t, svc, share, CHANGE_REPLACE, &last);
	if (name && last.name && strcmp(last.name, name) != 0)
		log_info("%s %s: snapshot %s was renamed to %s meanwhile", verb, name, last.id,
			 last.name);
	if (last.status != EFS_ST_AVAILABLE) {
		log_error("%s %s: snapshot %s ended in status %s", verb, name, obj->id,
			  efs_status_text(&last, text, sizeof(text)));
		rc = -EIO;
	}
	efs_object_free(&last);
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
	forget_snapshots(t, svc, share);
	if (tree_snapshots(t, op, svc, share, &l) != 0)
		return -EBUSY;
	int rc = name_taken(l, name, NULL) ? -EEXIST : -EBUSY;
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

/*
 * A service or share whose status makes a change of its snapshots impossible
 * (efs_change_refusal): -EBUSY or -EROFS at once, with no API call.
 */
static int change_possible(const struct node *node, const char *verb, const char *name)
{
	const struct entry *e = node->service;
	int rc = efs_change_refusal(EFS_SERVICE, &e->obj);
	if (rc == 0 && node->share) {
		e = node->share;
		rc = efs_change_refusal(EFS_SHARE, &e->obj);
	}
	if (rc) {
		char text[64];
		log_error("%s %s: %s %s is %s: %s", verb, name,
			  e == node->service ? "service" : "share", e->name,
			  efs_status_text(&e->obj, text, sizeof(text)),
			  rc == -EBUSY ? "try again when it is done"
				       : "its snapshots cannot change");
	}
	return rc;
}

int snapops_create(struct tree *t, const struct snapops_opts *opts, const struct op *op,
		   const struct node *dir, const char *name)
{
	const char *svc = dir->service->obj.id, *share = dir->share->obj.id;
	struct efs_object obj = {0};
	struct listing *l;

	int rc = names_check_new(name);
	if (rc == 0)
		rc = change_possible(dir, "mkdir", name);
	if (rc)
		return rc;
	bool unknown = false;
	int lock_rc = keylock_take(&t->changes, op, share); /* the caller may leave meanwhile */
	if (lock_rc)
		return lock_rc;
	rc = tree_snapshots(t, op, svc, share, &l);
	if (rc == 0) {
		if (name_taken(l, name, NULL)) {
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
		cache_apply(t, svc, share, CHANGE_ADD, &obj);
	if (unknown)
		forget_snapshots(t, svc, share); /* the user's retry decides from the API */
	keylock_give(&t->changes, share);
	if (rc == 0) {
		log_info("mkdir %s: created snapshot %s", name, obj.id);
		rc = finish_create(t, opts, op, svc, share, "mkdir", name, &obj);
		if (rc == 0)
			keep_typed_name(t, svc, share, name, obj.id);
	}
	efs_object_free(&obj);
	return rc;
}

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
		cache_apply(t, svc, share, CHANGE_REPLACE, now);
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
		cache_apply(t, svc, share, CHANGE_REMOVE, &e->obj);
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
	if (rc == 0 || rc == -ENOENT)
		cache_apply(t, svc, share, CHANGE_REMOVE, obj);
	else if (may_have_acted(rc))
		forget_snapshots(t, svc, share); /* the next ls asks the API what it did */
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
	int rc = wait_while(t, op, svc, share, obj->id, UNTIL_GONE, opts->wait, &last);
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
		cache_apply(t, svc, share, CHANGE_ADD, &last);
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
	int rc = change_possible(node, "rmdir", node->snapshot->name);
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
		rc = name_taken(l, name, except_id) ? -EEXIST : 0;
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
	efs_object_free(&obj);
	if (rc == 0) {
		cache_apply(t, svc, share, CHANGE_REPLACE, &now);
		efs_object_free(&now);
	} else if (may_have_acted(rc)) {
		forget_snapshots(t, svc, share); /* the next look shows what the API has */
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
	rc = change_possible(from, "rename", from->snapshot->name);
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
			forget_snapshots(t, svc, share); /* the next look asks the API */
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
	int rc = change_possible(node, "hold", node->snapshot->name);
	if (rc)
		return rc;
	rc = keylock_take(&t->changes, op, share); /* the caller may leave meanwhile */
	if (rc)
		return rc;
	rc = send_hold(t, op, node, &held);
	keylock_give(&t->changes, share);
	if (rc == 0)
		rc = finish_create(t, opts, op, svc, share, "hold", node->snapshot->name, &held);
	efs_object_free(&held);
	return rc;
}
