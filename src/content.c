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

int content_access_paths_failed(const char *share, const struct listing *previous, int rc,
				struct efs_list *list)
{
	if (rc == -EACCES) /* ovh logged the refusal; this says what it costs */
		log_warn("share %s: access paths refused: links to it need the right "
			 "storageNetApp:apiovh:share/accessPath/get (GET /storage/netapp*)",
			 share);
	memset(list, 0, sizeof(*list));
	return previous ? tree_listing_objects(previous, list) : 0;
}

/* ---- hostile paths ---- */

/*
 * text[0..len) as a C string for the log, whose sink escapes everything
 * else: a NUL byte shows as U+2400 (the symbol for null).
 */
static void printable(const char *text, size_t len, char *out, size_t out_len)
{
	static const char nul[] = "\xe2\x90\x80";
	size_t o = 0;
	for (size_t i = 0; i < len && o + sizeof(nul) < out_len; i++) {
		if (text[i]) {
			out[o++] = text[i];
		} else {
			memcpy(out + o, nul, sizeof(nul) - 1);
			o += sizeof(nul) - 1;
		}
	}
	out[o] = '\0';
}

static const struct efs_object *find_object(const struct listing *l, const char *id)
{
	const struct entry *e = listing_find_id(l, id);
	return e ? &e->obj : NULL;
}

static bool same_path(const struct efs_object *a, const struct efs_object *b)
{
	if (!a->path || !b->path)
		return a->path == b->path;
	return a->path_len == b->path_len && memcmp(a->path, b->path, a->path_len) == 0;
}

void content_check_listing(enum efs_kind kind, const struct listing *l,
			   const struct listing *previous)
{
	char text[256];
	if (kind != EFS_SNAPSHOT && kind != EFS_ACCESS_PATH)
		return;
	for (size_t i = 0; i < l->n; i++) {
		const struct efs_object *o = &l->entries[i].obj, *was;
		if (!o->path || mounts_path_is_safe(o->path, o->path_len))
			continue;
		was = find_object(previous, o->id);
		if (was && same_path(was, o))
			continue; /* said already */
		printable(o->path, o->path_len, text, sizeof(text));
		log_warn("%s %s: path \"%s\" has an empty, . or .. segment or a NUL: no content "
			 "link from it",
			 kind == EFS_SNAPSHOT ? "snapshot" : "access path", o->id, text);
	}
}

/* ---- what goes stale ---- */

/*
 * The share's link and every cached snapshot's: the kernel then asks again
 * for each one it holds (the others cost the inval thread a table lookup).
 */
static void report_share(struct tree *t, const char *svc, const char *share)
{
	char dir[1024], path[1400], key[400];
	tree_listing_dir(t, EFS_ACCESS_PATH, svc, share, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/" CONTENT_LINK, dir);
	t->changed(t->changed_ctx, path);
	tree_key(key, sizeof(key), EFS_SNAPSHOT, svc, share);
	struct listing *l = cache_peek(t->cache, key);
	tree_listing_dir(t, EFS_SNAPSHOT, svc, share, dir, sizeof(dir));
	for (size_t i = 0; l && i < l->n; i++) {
		snprintf(path, sizeof(path), "%s/%s/" CONTENT_LINK, dir, l->entries[i].name);
		t->changed(t->changed_ctx, path);
	}
	listing_unref(l);
}

static bool paths_differ(const struct listing *a, const struct listing *b)
{
	if (a->n != b->n)
		return true;
	for (size_t i = 0; i < a->n; i++) {
		const struct efs_object *o = find_object(b, a->entries[i].obj.id);
		if (!o || !same_path(o, &a->entries[i].obj))
			return true;
	}
	return false;
}

void content_notify_changes(struct tree *t, enum efs_kind kind, const char *svc, const char *share,
			    const struct listing *old, const struct listing *new_listing)
{
	char dir[1024], path[1400];
	if (!t->changed || !old)
		return;
	if (kind == EFS_ACCESS_PATH && paths_differ(old, new_listing))
		report_share(t, svc, share);
	if (kind != EFS_SNAPSHOT)
		return;
	tree_listing_dir(t, kind, svc, share, dir, sizeof(dir));
	for (size_t i = 0; i < old->n; i++) {
		const struct entry *was = &old->entries[i];
		const struct efs_object *now = find_object(new_listing, was->obj.id);
		if (now && !same_path(now, &was->obj)) {
			snprintf(path, sizeof(path), "%s/%s/" CONTENT_LINK, dir, was->name);
			t->changed(t->changed_ctx, path);
		}
	}
}

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
	char key[400];
	bool known = false, held = false;
	for (size_t k = 0; k < 2 && !held; k++) {
		tree_key(key, sizeof(key), kinds[k], svc, share);
		struct listing *l = cache_peek(t->cache, key);
		held = listing_held(l, sources, n, &known);
		listing_unref(l);
	}
	return held || (!known && remote);
}

void content_mounts_changed(void *ctx, const char *const *sources, size_t n)
{
	struct tree *t = ctx;
	char key[400];
	tree_key(key, sizeof(key), EFS_SERVICE, NULL, NULL);
	struct listing *services = t->changed ? cache_peek(t->cache, key) : NULL;
	bool remote = false;
	for (size_t i = 0; i < n; i++)
		remote |= mounts_is_remote(sources[i]);
	for (size_t i = 0; services && i < services->n; i++) {
		const char *svc = services->entries[i].obj.id;
		tree_key(key, sizeof(key), EFS_SHARE, svc, NULL);
		struct listing *shares = cache_peek(t->cache, key);
		for (size_t j = 0; shares && j < shares->n; j++) {
			const char *share = shares->entries[j].obj.id;
			if (share_affected(t, svc, share, sources, n, remote))
				report_share(t, svc, share);
		}
		listing_unref(shares);
	}
	listing_unref(services);
}
