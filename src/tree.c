/* tree: path resolution and listing construction. */
#include "tree.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mounts.h"
#include "names.h"
#include "op.h"
#include "prefetch.h"
#include "treewalk.h"
#include "walk.h"

#define MAX_DEPTH 5

/*
 * Cache keys: "S" services, "H/<svc>" shares, "N/<svc>/<share>" snapshots,
 * "A/<svc>/<share>" access paths, "Q/<svc>" snapshot policies; a share's
 * settings: "R/<svc>/<share>" reserve, "P/<svc>/<share>" its policy.
 */
static void key_of(char *buf, size_t len, enum efs_kind kind, const char *svc, const char *share)
{
	if (kind == EFS_SERVICE)
		snprintf(buf, len, "S");
	else if (kind == EFS_SHARE)
		snprintf(buf, len, "H/%s", svc);
	else if (kind == EFS_POLICY)
		snprintf(buf, len, "Q/%s", svc);
	else
		snprintf(buf, len, "%c/%s/%s", kind == EFS_ACCESS_PATH ? 'A' : 'N', svc, share);
}

void tree_key(char *buf, size_t len, enum efs_kind kind, const char *svc, const char *share)
{
	key_of(buf, len, kind, svc, share);
}

void tree_snapshots_key(char *buf, size_t len, const char *svc, const char *share)
{
	key_of(buf, len, EFS_SNAPSHOT, svc, share);
}

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

static bool same_names(const struct listing *a, const struct listing *b)
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
	if (same_names(previous, l))
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
		was = find_object(previous, o->id);
		if (was && same_path(was, o))
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
	key_of(key, sizeof(key), EFS_SNAPSHOT, svc, share);
	struct listing *next = cache_update(t->cache, key, changed_listing, &ch, &was);
	if (next)
		tree_notify_changes(t, EFS_SNAPSHOT, svc, share, was, next);
	listing_unref(was);
	listing_unref(next);
}

void tree_init(struct tree *t, struct ovh_client *api, struct cache *cache, char **services)
{
	memset(t, 0, sizeof(*t));
	t->api = api;
	t->cache = cache;
	t->services = services;
	t->started = time(NULL);
	t->mounts = mounts_new();
	keylock_init(&t->changes);
	alias_init(&t->aliases);
}

void tree_destroy(struct tree *t)
{
	tree_stop_threads(t);
	mounts_free(t->mounts);
	t->mounts = NULL;
	keylock_destroy(&t->changes);
	alias_destroy(&t->aliases);
	for (char **s = t->services; s && *s; s++)
		free(*s);
	free(t->services);
	t->services = NULL;
}

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
	key_of(key, sizeof(key), EFS_SHARE, svc, NULL);
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
		const struct efs_object *o = find_object(b, a->entries[i].obj.id);
		if (!o || !same_path(o, &a->entries[i].obj))
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
		const struct efs_object *now = find_object(new_listing, was->obj.id);
		if (now && !same_path(now, &was->obj)) {
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
	if (entries_changed || !same_names(old, new_listing))
		t->changed(t->changed_ctx, dir[0] ? dir : "/");
}

static enum efs_kind kind_of_key(char c)
{
	switch (c) {
	case 'S':
		return EFS_SERVICE;
	case 'H':
		return EFS_SHARE;
	case 'A':
		return EFS_ACCESS_PATH;
	case 'Q':
		return EFS_POLICY;
	default:
		return EFS_SNAPSHOT;
	}
}

/* A cache key's kind, service id and share id (each 160 bytes). */
static enum efs_kind key_parts(const char *key, char *svc, char *share)
{
	enum efs_kind kind = kind_of_key(key[0]);
	svc[0] = share[0] = '\0';
	if (kind != EFS_SERVICE) {
		const char *p = key + 2, *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		snprintf(svc, 160, "%.*s", (int)n, p);
		if (slash)
			snprintf(share, 160, "%s", slash + 1);
	}
	return kind;
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
	enum efs_kind kind = key_parts(key, svc, share);
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

/* ---- loading ---- */

/* A share's reserve or policy as a listing of one entry (none: no policy). */
static int load_setting(struct tree *t, const struct op *op, char which, const char *svc,
			const char *share, struct listing **out)
{
	struct efs_object obj;
	int rc = which == 'R' ? efs_get_reserve(t->api, op, svc, share, &obj)
			      : efs_get_share_policy(t->api, op, svc, share, &obj);
	if (rc && rc != -ENOENT)
		return rc;
	*out = listing_new(rc ? 0 : 1);
	if (!*out) {
		if (rc == 0)
			efs_object_free(&obj);
		return -ENOMEM;
	}
	if (rc == 0) {
		(*out)->entries[0].obj = obj;
		(*out)->entries[0].name = (*out)->entries[0].obj.id;
		(*out)->n = 1;
	}
	(*out)->fetched = cache_now();
	(*out)->mtime = time(NULL);
	return 0;
}

/*
 * The share's access paths could not be loaded (rc): list keeps those of
 * previous (may be NULL: none) for another cache_ttl, so a refusal (403) or
 * an outage costs one call per cache_ttl, not one per lookup. 0 or -ENOMEM.
 */
static int access_paths_failed(const char *share, const struct listing *previous, int rc,
			       struct efs_list *list)
{
	if (rc == -EACCES) /* ovh logged the refusal; this says what it costs */
		log_warn("share %s: access paths refused: links to it need the right "
			 "storageNetApp:apiovh:share/accessPath/get (GET /storage/netapp*)",
			 share);
	memset(list, 0, sizeof(*list));
	return previous ? tree_listing_objects(previous, list) : 0;
}

static int loader(void *ctx, const char *key, const struct listing *previous, struct listing **out)
{
	struct tree *t = ctx;
	char svc[160], share[160];
	enum efs_kind kind = key_parts(key, svc, share);
	struct efs_list list;

	struct op background; /* shared by every waiter: none of them may cut it short */
	op_start(&background, t->load_budget, NULL, NULL);
	if (key[0] == 'R' || key[0] == 'P')
		return load_setting(t, &background, key[0], svc, share, out);
	int rc = efs_list(t->api, &background, kind, svc, share, &list);
	if (rc && kind == EFS_ACCESS_PATH)
		rc = access_paths_failed(share, previous, rc, &list);
	if (rc)
		return rc;
	*out = tree_build_listing(t, kind, &list, previous);
	efs_list_free(&list);
	if (!*out)
		return -ENOMEM;
	tree_notify_changes(t, kind, svc, share, previous, *out);
	return 0;
}

int tree_enable_prefetch(struct tree *t, int workers)
{
	t->prefetch = prefetch_new(t->cache, loader, t, 1);
	if (workers > 0 && cache_ttl(t->cache) > 0)
		t->walk = treewalk_new(t, loader, workers);
	return t->prefetch && (workers <= 0 || cache_ttl(t->cache) <= 0 || t->walk) ? 0 : -ENOMEM;
}

int tree_start_threads(struct tree *t, mounts_changed_fn on_mounts)
{
	int rc = mounts_start(t->mounts, on_mounts, t);
	if (rc)
		log_error("cannot watch the mount table (%s): content links may go stale",
			  strerror(-rc));
	rc = walk_start(t->walk);
	if (rc)
		return rc;
	return t->prefetch ? prefetch_start(t->prefetch) : 0;
}

void tree_stop_threads(struct tree *t)
{
	mounts_stop(t->mounts);
	walk_free(t->walk);
	t->walk = NULL;
	prefetch_free(t->prefetch);
	t->prefetch = NULL;
}

static int load(struct tree *t, const struct op *op, enum efs_kind kind, const char *svc,
		const char *share, struct listing **out)
{
	char key[400];
	key_of(key, sizeof(key), kind, svc, share);
	if (op)
		walk_used(t->walk, key);
	return cache_get(t->cache, op, key, loader, t, out);
}

struct listing *tree_cached(struct tree *t, enum efs_kind kind, const char *svc, const char *share)
{
	char key[400];
	key_of(key, sizeof(key), kind, svc, share);
	return cache_peek(t->cache, key);
}

int tree_snapshots(struct tree *t, const struct op *op, const char *svc, const char *share,
		   struct listing **out)
{
	return load(t, op, EFS_SNAPSHOT, svc, share, out);
}

int tree_snapshots_afresh(struct tree *t, const struct op *op, const char *svc, const char *share,
			  struct listing **out)
{
	char key[400];
	key_of(key, sizeof(key), EFS_SNAPSHOT, svc, share);
	struct listing *old = cache_peek(t->cache, key);
	cache_forget(t->cache, key);
	int rc = load(t, op, EFS_SNAPSHOT, svc, share, out);
	if (rc == 0)
		tree_notify_changes(t, EFS_SNAPSHOT, svc, share, old, *out);
	listing_unref(old);
	return rc;
}

/* cache_update's builder for tree_install: the listing given, whatever is cached now. */
static struct listing *replacement(void *ctx, const struct listing *current)
{
	(void)current;
	return listing_ref(ctx);
}

void tree_install(struct tree *t, const char *key, struct listing *l)
{
	struct listing *was, *now = cache_update(t->cache, key, replacement, l, &was);
	listing_unref(now);
	listing_unref(was);
	listing_unref(l);
}

int tree_access_paths(struct tree *t, const struct op *op, const char *svc, const char *share,
		      struct listing **out)
{
	return load(t, op, EFS_ACCESS_PATH, svc, share, out);
}

void tree_setting_key(char *buf, size_t len, enum tree_setting which, const char *svc,
		      const char *share)
{
	snprintf(buf, len, "%c/%s/%s", which == TREE_RESERVE ? 'R' : 'P', svc, share);
}

int tree_setting(struct tree *t, const struct op *op, enum tree_setting which, const char *svc,
		 const char *share, struct listing **out)
{
	char key[400];
	tree_setting_key(key, sizeof(key), which, svc, share);
	return cache_get(t->cache, op, key, loader, t, out);
}

int tree_policies(struct tree *t, const struct op *op, const char *svc, struct listing **out)
{
	return load(t, op, EFS_POLICY, svc, NULL, out);
}

void tree_each_share(struct tree *t, tree_share_fn fn, void *ctx)
{
	char key[400];
	struct listing *services = cache_peek(t->cache, "S");
	for (size_t i = 0; services && i < services->n; i++) {
		const struct entry *svc = &services->entries[i];
		key_of(key, sizeof(key), EFS_SHARE, svc->obj.id, NULL);
		struct listing *shares = cache_peek(t->cache, key);
		for (size_t j = 0; shares && j < shares->n; j++)
			fn(ctx, svc, &shares->entries[j]);
		listing_unref(shares);
	}
	listing_unref(services);
}

int tree_refresh(struct tree *t, const char *key)
{
	return cache_refresh(t->cache, key, loader, t);
}

int tree_children(struct tree *t, const struct op *op, const struct node *dir, struct listing **out)
{
	switch (dir->kind) {
	case NODE_ROOT:
		return load(t, op, EFS_SERVICE, NULL, NULL, out);
	case NODE_SERVICE:
		return load(t, op, EFS_SHARE, dir->service->obj.id, NULL, out);
	case NODE_SNAPDIR:
		return load(t, op, EFS_SNAPSHOT, dir->service->obj.id, dir->share->obj.id, out);
	case NODE_POLICIES:
		return load(t, op, EFS_POLICY, dir->service->obj.id, NULL, out);
	default:
		return -ENOTDIR;
	}
}

/* ---- resolving ---- */

static int split_path(const char *path, char parts[MAX_DEPTH][NAME_MAX_BYTES + 1], int *count)
{
	*count = 0;
	while (*path) {
		while (*path == '/')
			path++;
		if (!*path)
			break;
		size_t len = strcspn(path, "/");
		if (len > NAME_MAX_BYTES)
			return -ENAMETOOLONG;
		if (*count == MAX_DEPTH)
			return -ENOENT;
		memcpy(parts[*count], path, len);
		parts[(*count)++][len] = '\0';
		path += len;
	}
	return 0;
}

/* SERVICE/.policies/NAME.json: the policy listed as NAME (or by its id). */
static int step_policy(struct tree *t, const struct op *op, struct node *n, int level,
		       const char *name)
{
	size_t len = strlen(name), ext = strlen(POLICY_EXT);
	char base[NAME_MAX_BYTES + 1];
	if (len <= ext || strcmp(name + len - ext, POLICY_EXT) != 0)
		return -ENOENT;
	snprintf(base, sizeof(base), "%.*s", (int)(len - ext), name);
	struct listing *l;
	int rc = tree_children(t, op, n, &l);
	if (rc)
		return rc;
	n->held[level] = l;
	n->policy = listing_find(l, base);
	if (!n->policy)
		return -ENOENT;
	n->info_of = NODE_POLICIES;
	n->kind = NODE_INFO;
	return 0;
}

/* Step into a directory's child called name. */
static int step(struct tree *t, const struct op *op, struct node *n, int level, const char *name)
{
	if (n->kind == NODE_INFO || n->kind == NODE_STATUS || n->kind == NODE_CONTENT)
		return -ENOTDIR;
	if (n->kind == NODE_ROOT && strcmp(name, STATUS_FILE) == 0) {
		n->kind = NODE_STATUS; /* no listing: reading it costs no API call */
		return 0;
	}
	if ((n->kind == NODE_SHARE || n->kind == NODE_SNAPSHOT) &&
	    strcmp(name, CONTENT_LINK) == 0) {
		n->info_of = n->kind; /* whether it has a target is content's to say (fs asks) */
		n->kind = NODE_CONTENT;
		return 0;
	}
	if (strcmp(name, INFO_FILE) == 0 && n->kind != NODE_ROOT && n->kind != NODE_SNAPDIR) {
		n->info_of = n->kind;
		n->kind = NODE_INFO;
		return 0;
	}
	if (n->kind == NODE_SHARE) {
		if (strcmp(name, SNAPSHOT_DIR) != 0)
			return -ENOENT;
		n->kind = NODE_SNAPDIR;
		return 0;
	}
	if (n->kind == NODE_SNAPSHOT)
		return -ENOENT;
	if (n->kind == NODE_SERVICE && strcmp(name, POLICIES_DIR) == 0) {
		n->kind = NODE_POLICIES; /* no listing: reached by name only */
		return 0;
	}
	if (n->kind == NODE_POLICIES)
		return step_policy(t, op, n, level, name);
	struct listing *l;
	int rc = tree_children(t, op, n, &l);
	if (rc)
		return rc;
	n->held[level] = l;
	const struct entry *e = listing_find(l, name);
	char id[128];
	if (!e && n->kind == NODE_SNAPDIR &&
	    alias_find(&t->aliases, n->service->obj.id, n->share->obj.id, name, id, sizeof(id)))
		e = listing_find_id(l, id); /* a mkdir's name for a snapshot renamed since */
	if (!e)
		return -ENOENT; /* the cached listing answers: no API call */
	if (n->kind == NODE_ROOT) {
		n->service = e;
		n->kind = NODE_SERVICE;
	} else if (n->kind == NODE_SERVICE) {
		n->share = e;
		n->kind = NODE_SHARE;
	} else {
		n->snapshot = e;
		n->snapshot_by_id = strcmp(e->name, name) != 0;
		n->kind = NODE_SNAPSHOT;
	}
	return 0;
}

int tree_resolve(struct tree *t, const struct op *op, const char *path, struct node *out)
{
	char parts[MAX_DEPTH][NAME_MAX_BYTES + 1];
	int count, rc, level = 0;

	memset(out, 0, sizeof(*out));
	out->kind = NODE_ROOT;
	rc = split_path(path, parts, &count);
	for (int i = 0; rc == 0 && i < count; i++) {
		rc = step(t, op, out, level, parts[i]);
		if (level < 3 && out->held[level])
			level++; /* each level that loaded a listing holds it */
	}
	if (rc)
		tree_node_release(out);
	else if (op)
		treewalk_visited(t, out);
	return rc;
}

void tree_node_release(struct node *n)
{
	for (int i = 0; i < 3; i++) {
		listing_unref(n->held[i]);
		n->held[i] = NULL;
	}
}
