/* treestale: the kernel entries a new listing or a forget makes stale. */
#include "treestale.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tree.h"
#include "treebuild.h"

/* ---- what changed, for the kernel's caches ---- */

/* The display name of id in the listing under key, or id itself. */
static const char *display_name(struct tree *t, const char *key, const char *id, char *buf,
				size_t len)
{
	struct listing *l = cache_peek(t->cache, key);
	const struct entry *e = listing_find_id(l, id);
	snprintf(buf, len, "%s", e ? e->name : id);
	listing_unref(l);
	return buf;
}

void tree_listing_dir(struct tree *t, enum efs_kind kind, const char *svc, const char *share,
		      char *buf, size_t len)
{
	char svc_name[NAME_MAX_BYTES + 1], share_name[NAME_MAX_BYTES + 1], key[400];
	buf[0] = '\0';
	if (kind == EFS_SERVICE)
		return;
	display_name(t, "S", svc, svc_name, sizeof(svc_name));
	if (kind == EFS_SHARE) {
		snprintf(buf, len, "/%s", svc_name);
		return;
	}
	if (kind == EFS_POLICY) {
		snprintf(buf, len, "/%s/" POLICIES_DIR, svc_name);
		return;
	}
	tree_key(key, sizeof(key), EFS_SHARE, svc, NULL);
	display_name(t, key, share, share_name, sizeof(share_name));
	if (kind == EFS_ACCESS_PATH) /* they belong to the share itself */
		snprintf(buf, len, "/%s/%s", svc_name, share_name);
	else
		snprintf(buf, len, "/%s/%s/" SNAPSHOT_DIR, svc_name, share_name);
}

static void report(struct tree *t, const char *dir, const char *name, const char *file)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/%s%s%s", dir, name, file ? "/" : "", file ? file : "");
	t->changed(t->changed_ctx, path);
}

/*
 * The share's link and every cached snapshot's: the kernel then asks again
 * for each one it holds (the others cost the inval thread a table lookup).
 */
void tree_report_links(struct tree *t, const char *svc, const char *share)
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
		const struct efs_object *o = tree_find_object(b, a->entries[i].obj.id);
		if (!o || !tree_same_path(o, &a->entries[i].obj))
			return true;
	}
	return false;
}

/* The content links a new listing of kind changed. */
static void notify_links(struct tree *t, enum efs_kind kind, const char *svc, const char *share,
			 const struct listing *old, const struct listing *new_listing)
{
	char dir[1024], path[1400];
	if (!t->changed || !old)
		return;
	if (kind == EFS_ACCESS_PATH && paths_differ(old, new_listing))
		tree_report_links(t, svc, share);
	if (kind != EFS_SNAPSHOT)
		return;
	tree_listing_dir(t, kind, svc, share, dir, sizeof(dir));
	for (size_t i = 0; i < old->n; i++) {
		const struct entry *was = &old->entries[i];
		const struct efs_object *now = tree_find_object(new_listing, was->obj.id);
		if (now && !tree_same_path(now, &was->obj)) {
			snprintf(path, sizeof(path), "%s/%s/" CONTENT_LINK, dir, was->name);
			t->changed(t->changed_ctx, path);
		}
	}
}

void tree_notify_changes(struct tree *t, enum efs_kind kind, const char *svc, const char *share,
			 const struct listing *old, const struct listing *new_listing)
{
	char dir[1024];
	bool entries_changed = old && old->n != new_listing->n;
	notify_links(t, kind, svc, share, old, new_listing);
	if (!t->changed || !old || kind == EFS_ACCESS_PATH)
		return;
	tree_listing_dir(t, kind, svc, share, dir, sizeof(dir));
	if (kind == EFS_POLICY) { /* files NAME.json, never listed: each old name may be stale */
		for (size_t i = 0; i < old->n; i++)
			report(t, dir, old->entries[i].name, NULL);
		return;
	}
	for (size_t i = 0; i < old->n; i++) {
		const struct entry *was = &old->entries[i];
		const struct entry *now = listing_find_id(new_listing, was->obj.id);
		if (!now || strcmp(now->name, was->name) != 0) {
			report(t, dir, was->name, NULL); /* gone, or renamed */
			entries_changed = true;
			if (!now && strcmp(was->name, was->obj.id) != 0)
				report(t, dir, was->obj.id, NULL); /* its id too (hold) */
		} else if (now->obj.json_len != was->obj.json_len ||
			   memcmp(now->obj.json, was->obj.json, was->obj.json_len) != 0) {
			report(t, dir, was->name, INFO_FILE); /* its info.json changed */
		}
	}
	if (entries_changed || !tree_same_names(old, new_listing))
		t->changed(t->changed_ctx, dir[0] ? dir : "/");
}

/* ---- forgetting: the kernel is told too ---- */

struct paths {
	char **v;
	size_t n, max;
};

static void paths_add(struct paths *p, const char *dir, const char *name, const char *file)
{
	char path[1200];
	if (p->n == p->max) {
		size_t max = p->max ? 2 * p->max : 64;
		char **v = realloc(p->v, max * sizeof(*v));
		if (!v)
			return; /* the kernel's own timeouts end what it holds */
		p->v = v;
		p->max = max;
	}
	snprintf(path, sizeof(path), "%s/%s%s%s", dir, name, file ? "/" : "", file ? file : "");
	if ((p->v[p->n] = strdup(name ? path : dir[0] ? dir : "/")))
		p->n++;
}

/* Every path the kernel may hold from key's listing l. Before it is dropped: names need it. */
static void listing_paths(struct tree *t, const char *key, const struct listing *l, struct paths *p)
{
	char svc[160], share[160], dir[1024];
	enum efs_kind kind = tree_key_parts(key, svc, share);
	if (kind == EFS_ACCESS_PATH || key[0] == 'R' || key[0] == 'P')
		return; /* not listed anywhere: access paths, a share's settings */
	tree_listing_dir(t, kind, svc, share, dir, sizeof(dir));
	for (size_t i = 0; i < l->n && kind != EFS_POLICY; i++) { /* NAME.json: the dir says */
		paths_add(p, dir, l->entries[i].name, NULL);
		if (kind == EFS_SNAPSHOT)
			paths_add(p, dir, l->entries[i].name, INFO_FILE);
	}
	paths_add(p, dir, NULL, NULL);
}

/* Tell them to the kernel (after the listings are gone: it may look again at once). */
static void paths_send(struct tree *t, struct paths *p)
{
	for (size_t i = 0; i < p->n; i++) {
		t->changed(t->changed_ctx, p->v[i]);
		free(p->v[i]);
	}
	free(p->v);
}

void tree_forget(struct tree *t, const char *key)
{
	struct paths p = {0};
	struct listing *old = t->changed ? cache_peek(t->cache, key) : NULL;
	if (old)
		listing_paths(t, key, old, &p);
	listing_unref(old);
	cache_forget(t->cache, key);
	paths_send(t, &p);
}

void tree_forget_all(struct tree *t)
{
	struct paths p = {0};
	char **keys = NULL;
	size_t n = t->changed ? cache_keys(t->cache, &keys) : 0;
	for (size_t i = 0; i < n; i++) {
		struct listing *old = cache_peek(t->cache, keys[i]);
		if (old)
			listing_paths(t, keys[i], old, &p);
		listing_unref(old);
		free(keys[i]);
	}
	free(keys);
	cache_drop_all(t->cache);
	paths_send(t, &p);
}
