/* tree: the mount's shape, cache keys, listing loads and path resolution. */
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
enum efs_kind tree_key_parts(const char *key, char *svc, char *share)
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
	enum efs_kind kind = tree_key_parts(key, svc, share);
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
