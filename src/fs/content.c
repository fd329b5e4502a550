/* content: where SHARE/content and SNAPSHOT/content point, and when they change. */
#include "content.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mounts.h"
#include "names.h"

#define MAX_ACCESS_PATHS 16

/* ---- targets ---- */

/* A snapshot name usable as one directory name under .snapshot. */
static bool is_segment(const char *name)
{
	size_t len = strlen(name);
	return len > 0 && len <= NAME_MAX_BYTES && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0;
}

/* The share's access paths, mapped into the mounts, then suffix (may be NULL). */
static int access_target(struct tree *t, const struct op *op, const struct node *n,
			 const char *suffix, char *buf, size_t len)
{
	const char *paths[MAX_ACCESS_PATHS];
	size_t k = 0;
	struct listing *l;
	if (!mounts_has_remote(t->mounts))
		return -ENOENT; /* no NFS-style mount here: nothing to ask the API about */
	int rc = tree_access_paths(t, op, n->service->obj.id, n->share->obj.id, &l);
	if (rc)
		return rc;
	/* The preferred path first: where several are mounted, its mount wins. */
	for (int preferred = 1; preferred >= 0; preferred--) {
		for (size_t i = 0; i < l->n && k < MAX_ACCESS_PATHS; i++) {
			const struct efs_object *o = &l->entries[i].obj;
			if (o->path && mounts_path_is_safe(o->path, o->path_len) &&
			    efs_is_preferred(o) == (preferred == 1))
				paths[k++] = o->path;
		}
	}
	rc = mounts_target(t->mounts, paths, k, suffix, buf, len);
	listing_unref(l);
	return rc ? -ENOENT : 0;
}

static int snapshot_target(struct tree *t, const struct op *op, const struct node *n, char *buf,
			   size_t len)
{
	const struct efs_object *o = &n->snapshot->obj;
	char suffix[NAME_MAX_BYTES + sizeof(CONTENT_SNAPSHOT_DIR) + 1];
	if (o->path) {
		const char *path = o->path;
		if (!mounts_path_is_safe(o->path, o->path_len))
			return -ENOENT; /* logged when it was loaded */
		int rc = mounts_target(t->mounts, &path, 1, NULL, buf, len);
		if (rc != -ENOENT)
			return rc ? -ENOENT : 0;
	}
	if (!o->name || !is_segment(o->name))
		return -ENOENT;
	snprintf(suffix, sizeof(suffix), CONTENT_SNAPSHOT_DIR "/%s", o->name);
	return access_target(t, op, n, suffix, buf, len);
}

int content_target(struct tree *t, const struct op *op, const struct node *n, char *buf, size_t len)
{
	enum node_kind kind = n->kind == NODE_CONTENT ? n->info_of : n->kind;
	if (kind == NODE_SNAPSHOT)
		return snapshot_target(t, op, n, buf, len);
	if (kind == NODE_SHARE)
		return access_target(t, op, n, NULL, buf, len);
	return -ENOENT;
}

/* ---- what goes stale ---- */

/* source is path, or a '/'-bounded prefix of it. */
static bool holds(const char *source, const struct efs_object *o)
{
	size_t n = strlen(source);
	return o->path && o->path_len >= n && memcmp(o->path, source, n) == 0 &&
	       (o->path_len == n || o->path[n] == '/');
}

static bool listing_held(const struct listing *l, const char *const *sources, size_t n, bool *known)
{
	for (size_t i = 0; l && i < l->n; i++) {
		*known |= l->entries[i].obj.path != NULL;
		for (size_t s = 0; s < n; s++)
			if (holds(sources[s], &l->entries[i].obj))
				return true;
	}
	return false;
}

/*
 * A share whose links may depend on one of the sources. Unsure (nothing of
 * it cached: the kernel can hold links only after a cache drop): yes, if a
 * source is NFS-style.
 */
static bool share_affected(struct tree *t, const char *svc, const char *share,
			   const char *const *sources, size_t n, bool remote)
{
	static const enum efs_kind kinds[] = {EFS_SNAPSHOT, EFS_ACCESS_PATH};
	bool known = false, held = false;
	for (size_t k = 0; k < 2 && !held; k++) {
		struct listing *l = tree_cached(t, kinds[k], svc, share);
		held = listing_held(l, sources, n, &known);
		listing_unref(l);
	}
	return held || (!known && remote);
}

void content_mounts_changed(void *ctx, const char *const *sources, size_t n)
{
	struct tree *t = ctx;
	struct listing *services = t->changed ? tree_cached(t, EFS_SERVICE, NULL, NULL) : NULL;
	bool remote = false;
	for (size_t i = 0; i < n; i++)
		remote |= mounts_is_remote(sources[i]);
	for (size_t i = 0; services && i < services->n; i++) {
		const char *svc = services->entries[i].obj.id;
		struct listing *shares = tree_cached(t, EFS_SHARE, svc, NULL);
		for (size_t j = 0; shares && j < shares->n; j++) {
			const char *share = shares->entries[j].obj.id;
			if (share_affected(t, svc, share, sources, n, remote))
				tree_report_links(t, svc, share);
		}
		listing_unref(shares);
	}
	listing_unref(services);
}
