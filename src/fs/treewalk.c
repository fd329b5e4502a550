/* treewalk: walk detection hooked to paths and listings. */
#include "treewalk.h"

#include <stdio.h>
#include <string.h>

#include "ovh.h"
#include "walk.h"

/* walk_hooks.child_key: "S" has "H/SVC" listings, "H/SVC" has "N/SVC/SHARE". */
static bool child_key(const char *dir_key, const struct entry *e, char *buf, size_t len)
{
	bool services = strcmp(dir_key, "S") == 0;
	if (!services && strncmp(dir_key, "H/", 2) != 0)
		return false;
	if (e && services)
		tree_key(buf, len, EFS_SHARE, e->obj.id, NULL);
	else if (e)
		tree_key(buf, len, EFS_SNAPSHOT, dir_key + 2, e->obj.id);
	return true;
}

/* walk_hooks.may_load: background yields to the rate limit and to a share's changes. */
static bool may_load(void *ctx, const char *key)
{
	struct tree *t = ctx;
	const char *share = key[0] == 'N' ? strchr(key + 2, '/') : NULL;
	if (share && keylock_busy(&t->changes, share + 1))
		return false;
	return ovh_rate_spare(t->api);
}

struct walk *treewalk_new(struct tree *t, cache_loader_fn loader, int max_window)
{
	struct walk_hooks hooks = {
		.child_key = child_key, .may_load = may_load, .loader = loader, .ctx = t};
	return walk_new(t->cache, &hooks, max_window);
}

static size_t index_of(const struct listing *l, const struct entry *e)
{
	return (size_t)(e - l->entries);
}

/*
 * Going into a subdirectory is what counts, not looking at it (ls -l, stat,
 * getfattr): a path through one of a service's shares (it needed the
 * service's share listing), into a share's .snapshots (its snapshot listing).
 */
void treewalk_visited(struct tree *t, const struct node *n)
{
	char key[400];
	if (!t->walk || !n->service || !n->held[0])
		return;
	if (n->share)
		walk_visited(t->walk, "S", n->held[0], index_of(n->held[0], n->service));
	if (n->share && n->held[1] && (n->kind == NODE_SNAPDIR || n->snapshot)) {
		tree_key(key, sizeof(key), EFS_SHARE, n->service->obj.id, NULL);
		walk_visited(t->walk, key, n->held[1], index_of(n->held[1], n->share));
	}
}

/* Listing a service goes into it (a visit of the root), and may start a walk of its own. */
void treewalk_listed(struct tree *t, const struct node *dir)
{
	char key[400];
	if (!t->walk || (dir->kind != NODE_ROOT && dir->kind != NODE_SERVICE))
		return;
	if (dir->kind == NODE_SERVICE && dir->held[0])
		walk_visited(t->walk, "S", dir->held[0], index_of(dir->held[0], dir->service));
	if (dir->kind == NODE_ROOT)
		tree_key(key, sizeof(key), EFS_SERVICE, NULL, NULL);
	else
		tree_key(key, sizeof(key), EFS_SHARE, dir->service->obj.id, NULL);
	struct listing *l = cache_peek(t->cache, key);
	walk_listed(t->walk, key, dir->kind == NODE_SERVICE ? "S" : NULL, l);
	listing_unref(l);
}
