/* settings: snapshot reserve, snapshot policy and revert of a share. */
#include "settings.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "op.h"
#include "snapops.h"

bool settings_owns(const char *name)
{
	return strcmp(name, XATTR_SNAPSHOT_RESERVE) == 0 ||
	       strcmp(name, XATTR_SNAPSHOT_POLICY) == 0 || strcmp(name, XATTR_REVERT) == 0;
}

static const char *svc_of(const struct node *n)
{
	return n->service->obj.id;
}

static const char *share_of(const struct node *n)
{
	return n->share->obj.id;
}

/* The policy's display name in the service's .policies, or its id. */
static char *policy_name(struct tree *t, const struct op *op, const char *svc, const char *id)
{
	struct listing *l;
	const struct entry *e = NULL;
	if (tree_policies(t, op, svc, &l) == 0) {
		e = listing_find(l, id);
		char *name = strdup(e ? e->name : id);
		listing_unref(l);
		return name;
	}
	return strdup(id); /* the listing failed: the id still names it */
}

int settings_get(struct tree *t, const struct op *op, const struct node *n, const char *name,
		 char **value, size_t *len)
{
	bool reserve = strcmp(name, XATTR_SNAPSHOT_RESERVE) == 0;
	struct listing *l;
	*value = NULL;
	if (n->kind != NODE_SHARE || (!reserve && strcmp(name, XATTR_SNAPSHOT_POLICY) != 0))
		return -ENODATA;
	int rc = tree_setting(t, op, reserve ? TREE_RESERVE : TREE_SHARE_POLICY, svc_of(n),
			      share_of(n), &l);
	if (rc)
		return rc;
	if (l->n == 0)
		*value = strdup("");
	else if (reserve)
		*value = strdup(l->entries[0].obj.name ? l->entries[0].obj.name : "");
	else
		*value = policy_name(t, op, svc_of(n), l->entries[0].obj.id);
	listing_unref(l);
	if (!*value)
		return -ENOMEM;
	*len = strlen(*value);
	return 0;
}

/* A whole number in the documented range, nothing else (no sign, no spaces). */
static int parse_percent(const char *value, size_t size, long *out)
{
	long n = 0;
	if (size == 0 || size > 3 || (size > 1 && value[0] == '0'))
		return -EINVAL; /* "010" is no way to write ten */
	for (size_t i = 0; i < size; i++) {
		if (value[i] < '0' || value[i] > '9')
			return -EINVAL;
		n = n * 10 + (value[i] - '0');
	}
	if (n < SETTINGS_RESERVE_MIN || n > SETTINGS_RESERVE_MAX)
		return -EINVAL;
	*out = n;
	return 0;
}

/*
 * The share's setting listing replaced by one entry (id, name) the API
 * accepted (nothing when none is cached: the next read asks); id NULL (the
 * outcome is unknown): forgotten, read afresh next.
 */
static void cache_setting(struct tree *t, enum tree_setting which, const char *svc,
			  const char *share, const char *id, const char *name)
{
	char key[400];
	tree_setting_key(key, sizeof(key), which, svc, share);
	struct listing *l = id ? listing_new(1) : NULL;
	struct efs_object *o = l ? &l->entries[0].obj : NULL;
	if (o && (o->id = strdup(id)) && (!name || (o->name = strdup(name))) &&
	    (o->json = strdup("{}\n"))) {
		o->json_len = 3;
		l->entries[0].name = o->id;
		l->n = 1;
		l->mtime = time(NULL);
		tree_install(t, key, l);
		return;
	}
	if (o)
		efs_object_free(o);
	listing_unref(l);
	tree_forget(t, key); /* the next read asks the API */
}

static int set_reserve(struct tree *t, const struct op *op, const struct node *n, const char *value,
		       size_t size)
{
	long percent;
	int rc = parse_percent(value, size, &percent);
	if (rc)
		return rc;
	rc = op_check(op);
	if (rc == 0)
		rc = efs_set_reserve(t->api, op, svc_of(n), share_of(n), percent);
	if (rc == 0 || rc == -EINPROGRESS) {
		char text[16];
		snprintf(text, sizeof(text), "%ld", percent);
		cache_setting(t, TREE_RESERVE, svc_of(n), share_of(n), rc ? NULL : "reserve", text);
	}
	return rc == -EINPROGRESS ? -EIO : rc;
}

static int set_policy(struct tree *t, const struct op *op, const struct node *n, const char *value,
		      size_t size)
{
	char want[NAME_MAX_BYTES + 1];
	struct listing *policies, *cur;
	if (size == 0 || size > NAME_MAX_BYTES || memchr(value, '\0', size))
		return -EINVAL;
	snprintf(want, sizeof(want), "%.*s", (int)size, value);
	int rc = tree_policies(t, op, svc_of(n), &policies);
	if (rc)
		return rc;
	const struct entry *p = listing_find(policies, want);
	char *id = p ? strdup(p->obj.id) : NULL;
	listing_unref(policies);
	if (!p)
		return -EINVAL; /* the service has no such policy: nothing sent */
	if (!id)
		return -ENOMEM;
	rc = tree_setting(t, op, TREE_SHARE_POLICY, svc_of(n), share_of(n), &cur);
	if (rc == 0) {
		bool same = cur->n == 1 && strcmp(cur->entries[0].obj.id, id) == 0;
		listing_unref(cur);
		rc = same ? 1 : op_check(op);
	}
	if (rc == 0)
		rc = efs_set_share_policy(t->api, op, svc_of(n), share_of(n), id);
	if (rc == 0)
		cache_setting(t, TREE_SHARE_POLICY, svc_of(n), share_of(n), id, NULL);
	else if (rc == -EINPROGRESS)
		cache_setting(t, TREE_SHARE_POLICY, svc_of(n), share_of(n), NULL, NULL);
	free(id);
	return rc == 1 ? 0 : rc == -EINPROGRESS ? -EIO : rc;
}

/* ---- revert ---- */

/* The share's latest available manual snapshot in l (the only one the API reverts to). */
static const struct entry *latest_manual(const struct listing *l)
{
	const struct entry *best = NULL;
	for (size_t i = 0; i < l->n; i++) {
		const struct entry *e = &l->entries[i];
		char *type = efs_object_field(&e->obj, EFS_FIELD_TYPE);
		bool manual = type && strcmp(type, "manual") == 0;
		free(type);
		if (manual && e->obj.status == EFS_ST_AVAILABLE &&
		    (!best || e->obj.created >= best->obj.created))
			best = e;
	}
	return best;
}

/* Whether snapshot obj, as the API has it now, is one the API reverts to. */
static bool revertible(const struct efs_object *obj)
{
	char *type = efs_object_field(obj, EFS_FIELD_TYPE);
	bool manual = type && strcmp(type, "manual") == 0;
	free(type);
	return manual && obj->status == EFS_ST_AVAILABLE;
}

/*
 * The snapshot value names, when it is the one a revert may go to (else
 * -EINVAL): the latest available manual one of the cached listing, then
 * confirmed with one GET of its id as rmdir and mv do (snapops_confirm).
 * Under the share's lock.
 */
static int revert_target(struct tree *t, const struct op *op, const struct node *n,
			 const char *value, size_t size, struct efs_object *out)
{
	char want[NAME_MAX_BYTES + 1];
	struct listing *l;
	if (size == 0 || size > NAME_MAX_BYTES || memchr(value, '\0', size))
		return -EINVAL;
	snprintf(want, sizeof(want), "%.*s", (int)size, value);
	int rc = tree_snapshots(t, op, svc_of(n), share_of(n), &l);
	if (rc)
		return rc;
	const struct entry *e = listing_find(l, want);
	if (!e || e != latest_manual(l)) {
		rc = -EINVAL;
	} else {
		bool by_id = strcmp(want, e->obj.id) == 0 || strcmp(e->name, e->obj.id) == 0;
		rc = snapops_confirm(t, op, svc_of(n), share_of(n), e, by_id, "revert", out);
		if (rc == 0 && !revertible(out)) {
			efs_object_free(out);
			rc = -EINVAL;
		}
	}
	listing_unref(l);
	if (rc == -EINVAL)
		log_warn("revert of share %s to %s refused: only its latest available manual "
			 "snapshot can be reverted to",
			 n->share->name, want);
	return rc;
}

/* The share's status now: 0 and *done when usable again, -EIO when it failed. */
static int share_status(struct tree *t, const struct op *op, const struct node *n, bool *done,
			bool *reverting)
{
	struct efs_object share;
	int rc = efs_get_share(t->api, op, svc_of(n), share_of(n), &share);
	if (rc)
		return rc;
	char *status = efs_object_field(&share, EFS_FIELD_STATUS);
	efs_object_free(&share);
	*done = status && strcmp(status, "available") == 0;
	*reverting = status && strcmp(status, "reverting") == 0;
	if (status && strstr(status, "error")) {
		log_error("share %s: the revert ended in status %s", n->share->name, status);
		rc = -EIO;
	}
	free(status);
	return rc;
}

/*
 * Poll the share (backoff 0.5 s to 5 s) until it is available again, for
 * at most wait seconds and as long as op lets it; one "available" before
 * any "reverting" is taken for an API that has not started yet.
 */
static int wait_usable(struct tree *t, const struct op *op, const struct node *n, double wait)
{
	double deadline = clock_now() + wait, delay = 0.5;
	bool seen = false, lagged = false;
	for (;;) {
		double left = deadline - clock_now();
		if (left <= 0)
			return -ETIMEDOUT;
		int rc = op_sleep(op, delay < left ? delay : left);
		bool done = false, reverting = false;
		if (rc == 0)
			rc = share_status(t, op, n, &done, &reverting);
		if (rc && rc != -EIO && op_check(op) == 0 && rc != -ENOENT && rc != -EACCES)
			rc = 0; /* a failed poll says nothing of the revert: poll on */
		if (rc)
			return rc;
		seen = seen || reverting;
		if (done && (seen || lagged))
			return 0;
		lagged = lagged || done;
		delay = delay * 1.5 > 5 ? 5 : delay * 1.5;
	}
}

/* After a revert (or one whose outcome is unknown): what the cache holds is stale. */
static void forget_share(struct tree *t, const struct node *n)
{
	char key[400];
	tree_snapshots_key(key, sizeof(key), svc_of(n), share_of(n));
	tree_forget(t, key);
	tree_key(key, sizeof(key), EFS_SHARE, svc_of(n), NULL);
	tree_forget(t, key);
}

static int send_revert(struct tree *t, const struct op *op, const struct node *n, const char *value,
		       size_t size, uid_t uid)
{
	struct efs_object snap;
	int rc = revert_target(t, op, n, value, size, &snap);
	if (rc)
		return rc;
	rc = op_check(op);
	if (rc == 0)
		rc = efs_revert_share(t->api, op, svc_of(n), share_of(n), snap.id);
	if (rc == 0)
		log_warn("uid %u reverted share %s (%s) of service %s to snapshot %s (%s): what "
			 "was written since is gone",
			 (unsigned)uid, n->share->name, share_of(n), n->service->name,
			 snap.name ? snap.name : snap.id, snap.id);
	efs_object_free(&snap);
	if (rc == 0 || rc == -EINPROGRESS)
		forget_share(t, n);
	return rc == -EINPROGRESS ? -EIO : rc;
}

static int settings_revert(struct tree *t, const struct settings_opts *opts, const struct op *op,
			   const struct node *n, const char *value, size_t size, uid_t uid)
{
	if (!opts->allow_revert) {
		log_warn("uid %u: revert of share %s refused: this mount was not made with "
			 "-o allow_revert, the option that enables user.ovh.revert",
			 (unsigned)uid, n->share->name);
		return -EPERM;
	}
	int rc = keylock_take(&t->changes, op, share_of(n)); /* the caller may leave meanwhile */
	if (rc)
		return rc;
	rc = send_revert(t, op, n, value, size, uid);
	keylock_give(&t->changes, share_of(n));
	if (rc == 0 && opts->wait > 0) {
		rc = wait_usable(t, op, n, opts->wait);
		forget_share(t, n); /* what the wait saw, the listings show */
	}
	return rc;
}

int settings_set(struct tree *t, const struct settings_opts *opts, const struct op *op,
		 const struct node *n, const char *name, const char *value, size_t size, uid_t uid)
{
	if (n->kind != NODE_SHARE || !settings_owns(name))
		return -EPERM;
	if (strcmp(name, XATTR_REVERT) == 0)
		return settings_revert(t, opts, op, n, value, size, uid);
	int rc = keylock_take(&t->changes, op, share_of(n)); /* the caller may leave meanwhile */
	if (rc)
		return rc;
	if (strcmp(name, XATTR_SNAPSHOT_RESERVE) == 0)
		rc = set_reserve(t, op, n, value, size);
	else
		rc = set_policy(t, op, n, value, size);
	keylock_give(&t->changes, share_of(n));
	return rc;
}
