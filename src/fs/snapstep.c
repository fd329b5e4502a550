/* snapstep: the steps every change of snapshots takes, before and after its API call. */
#include "snapstep.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "log.h"
#include "op.h"

/* A visible snapshot already called name (by name or by id). */
bool snapstep_name_taken(const struct listing *l, const char *name, const char *except_id)
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

/* Publish the listing as it is after our change, so it shows at once. */
void snapstep_cache_apply(struct tree *t, const char *svc, const char *share,
			  enum snapstep_change what, const struct efs_object *obj)
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

/* The answer of an API that has not caught up: no snapshot after the POST, still available after
 * the DELETE. */
static bool lags(int rc, const struct efs_object *got, enum snapstep_wait_for until)
{
	if (until == UNTIL_SETTLED)
		return rc == -ENOENT;
	return rc == 0 && got->status == EFS_ST_AVAILABLE;
}

/* Still on the way: a transitional status (creating, manage_starting, ...), or deleting. */
static bool pending(const struct efs_object *got, enum snapstep_wait_for until)
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
int snapstep_wait_while(struct tree *t, const struct op *op, const char *svc, const char *share,
			const char *id, enum snapstep_wait_for until, double wait,
			struct efs_object *last)
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

void snapstep_forget(struct tree *t, const char *svc, const char *share)
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

/*
 * After a POST that made a snapshot (mkdir, hold): refuse a failure status,
 * then wait (wait=) while it is creating. verb names the call in logs.
 */
int snapstep_finish_create(struct tree *t, const struct snapops_opts *opts, const struct op *op,
			   const char *svc, const char *share, const char *verb, const char *name,
			   struct efs_object *obj)
{
	struct efs_object last;
	char text[64];
	if (opts->wait > 0 && obj->status == EFS_ST_NONE && status_now(t, op, svc, share, obj) == 0)
		snapstep_cache_apply(t, svc, share, CHANGE_REPLACE,
				     obj); /* the POST's answer had none */
	if (obj->status != EFS_ST_AVAILABLE && obj->status != EFS_ST_NONE &&
	    !efs_status_is_transitional(obj->status)) {
		log_error("%s %s: the API answered with snapshot %s in status %s", verb, name,
			  obj->id, efs_status_text(obj, text, sizeof(text)));
		return -EIO;
	}
	if (opts->wait <= 0 || !efs_status_is_transitional(obj->status))
		return 0;
	int rc = snapstep_wait_while(t, op, svc, share, obj->id, UNTIL_SETTLED, opts->wait, &last);
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
		snapstep_cache_apply(t, svc, share, CHANGE_REMOVE, obj);
		return -EIO;
	}
	if (rc)
		return rc;
	snapstep_cache_apply(t, svc, share, CHANGE_REPLACE, &last);
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
 * A service or share whose status makes a change of its snapshots impossible
 * (efs_change_refusal): -EBUSY or -EROFS at once, with no API call.
 */
int snapstep_change_possible(const struct node *node, const char *verb, const char *name)
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
