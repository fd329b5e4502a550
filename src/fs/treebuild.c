/* treebuild: directory listings built from API lists, and our own changes published. */
#include "treebuild.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mounts.h"
#include "names.h"
#include "tree.h"

static bool service_wanted(const struct tree *t, const struct efs_object *obj)
{
	if (!t->services)
		return true;
	for (char **s = t->services; *s; s++)
		if (strcmp(*s, obj->id) == 0 || (obj->name && strcmp(*s, obj->name) == 0))
			return true;
	return false;
}

static bool is_visible(const struct tree *t, enum efs_kind kind, const struct efs_object *obj)
{
	if (kind == EFS_SNAPSHOT)
		return obj->status != EFS_ST_DELETING;
	if (kind == EFS_SERVICE)
		return service_wanted(t, obj);
	return true;
}

bool tree_same_names(const struct listing *a, const struct listing *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->entries[i].obj.id, b->entries[i].obj.id) != 0 ||
		    strcmp(a->entries[i].name, b->entries[i].name) != 0)
			return false;
	return true;
}

/* The ZFS snapdir rule: a directory's mtime moves only when its entries do. */
static time_t listing_mtime(const struct tree *t, const struct listing *l,
			    const struct listing *previous)
{
	time_t newest = 0;
	for (size_t i = 0; i < l->n; i++)
		if (l->entries[i].obj.created > newest)
			newest = l->entries[i].obj.created;
	if (!previous)
		return newest ? newest : t->started;
	if (tree_same_names(previous, l))
		return previous->mtime;
	time_t now = time(NULL);
	return newest > now ? newest : now;
}

static void assign_names(struct listing *l)
{
	const char **names = calloc(l->n ? l->n : 1, sizeof(*names));
	const char **ids = calloc(l->n ? l->n : 1, sizeof(*ids));
	const char **display = calloc(l->n ? l->n : 1, sizeof(*display));
	if (names && ids && display) {
		for (size_t i = 0; i < l->n; i++) {
			names[i] = l->entries[i].obj.name;
			ids[i] = l->entries[i].obj.id;
		}
		names_assign(names, ids, l->n, display);
	}
	for (size_t i = 0; i < l->n; i++)
		l->entries[i].name = display ? display[i] : l->entries[i].obj.id;
	free(names);
	free(ids);
	free(display);
}

/* ---- hostile paths (content links refuse them; said once when loaded) ---- */

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

const struct efs_object *tree_find_object(const struct listing *l, const char *id)
{
	const struct entry *e = listing_find_id(l, id);
	return e ? &e->obj : NULL;
}

bool tree_same_path(const struct efs_object *a, const struct efs_object *b)
{
	if (!a->path || !b->path)
		return a->path == b->path;
	return a->path_len == b->path_len && memcmp(a->path, b->path, a->path_len) == 0;
}

/* A listing of kind was built: log once each path that could leave its mount. */
static void warn_unsafe_paths(enum efs_kind kind, const struct listing *l,
			      const struct listing *previous)
{
	char text[256];
	if (kind != EFS_SNAPSHOT && kind != EFS_ACCESS_PATH)
		return;
	for (size_t i = 0; i < l->n; i++) {
		const struct efs_object *o = &l->entries[i].obj, *was;
		if (!o->path || mounts_path_is_safe(o->path, o->path_len))
			continue;
		was = tree_find_object(previous, o->id);
		if (was && tree_same_path(was, o))
			continue; /* said already */
		printable(o->path, o->path_len, text, sizeof(text));
		log_warn("%s %s: path \"%s\" has an empty, . or .. segment or a NUL: no content "
			 "link from it",
			 kind == EFS_SNAPSHOT ? "snapshot" : "access path", o->id, text);
	}
}

struct listing *tree_build_listing(struct tree *t, enum efs_kind kind, struct efs_list *list,
				   const struct listing *previous)
{
	size_t visible = 0;
	for (size_t i = 0; i < list->n; i++)
		visible += is_visible(t, kind, &list->items[i]);
	struct listing *l = listing_new(visible);
	if (!l)
		return NULL;
	for (size_t i = 0; i < list->n; i++) {
		if (!is_visible(t, kind, &list->items[i]))
			continue;
		l->entries[l->n++].obj = list->items[i];
		memset(&list->items[i], 0, sizeof(list->items[i]));
	}
	assign_names(l);
	l->fetched = cache_now();
	l->mtime = listing_mtime(t, l, previous);
	warn_unsafe_paths(kind, l, previous);
	return l;
}

int tree_listing_objects(const struct listing *l, struct efs_list *list)
{
	list->n = 0;
	list->items = calloc(l->n + 1, sizeof(*list->items));
	if (!list->items)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		if (efs_object_copy(&l->entries[i].obj, &list->items[i]) != 0) {
			efs_list_free(list);
			return -ENOMEM;
		}
		list->n++;
	}
	return 0;
}

struct change {
	struct tree *t;
	enum listing_change what;
	const char *id;
	const struct efs_object *obj;
};

/* cache_update_fn: the share's snapshots as they are after our change. */
static struct listing *changed_listing(void *arg, const struct listing *cur)
{
	const struct change *ch = arg;
	struct efs_list list;
	if (listing_objects_changed(cur, ch->what, ch->id, ch->obj, &list) != 0)
		return NULL;
	struct listing *next = tree_build_listing(ch->t, EFS_SNAPSHOT, &list, cur);
	efs_list_free(&list);
	return next;
}

void tree_change_snapshots(struct tree *t, const char *svc, const char *share,
			   enum listing_change what, const char *id, const struct efs_object *obj)
{
	char key[400];
	struct change ch = {.t = t, .what = what, .id = id, .obj = obj};
	struct listing *was;
	tree_snapshots_key(key, sizeof(key), svc, share);
	struct listing *next = cache_update(t->cache, key, changed_listing, &ch, &was);
	if (next)
		tree_notify_changes(t, EFS_SNAPSHOT, svc, share, was, next);
	listing_unref(was);
	listing_unref(next);
}
