/* listing: reference-counted listings, their lookups, changes and memory. */
#include "listing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "strindex.h"

struct listing *listing_new(size_t n)
{
	struct listing *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->entries = n ? calloc(n, sizeof(*l->entries)) : NULL;
	if (n && !l->entries) {
		free(l);
		return NULL;
	}
	l->refs = 1;
	return l;
}

struct listing *listing_ref(struct listing *l)
{
	if (l)
		__atomic_add_fetch(&l->refs, 1, __ATOMIC_RELAXED);
	return l;
}

struct listing_index {
	struct strindex *names, *ids;
};

static void index_free(struct listing_index *x)
{
	if (x) {
		strindex_free(x->names);
		strindex_free(x->ids);
	}
	free(x);
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		efs_object_free(&l->entries[i].obj);
	index_free(l->index);
	free(l->entries);
	free(l);
}

void listing_unref(struct listing *l)
{
	if (l && __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0)
		listing_free(l);
}

/*
 * Drop a reference with the cache's lock held: a listing that goes with it
 * is freed by listing_release_all after the lock (20,000 objects take a while).
 */
void listing_bury(struct listing **grave, struct listing *l)
{
	if (l && __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		l->next_free = *grave;
		*grave = l;
	}
}

void listing_release_all(struct listing *grave)
{
	for (struct listing *next; grave; grave = next) {
		next = grave->next_free;
		listing_free(grave);
	}
}

/* Listings this small are searched entry by entry. */
#define INDEX_MIN 8

static struct listing_index *index_build(const struct listing *l)
{
	struct listing_index *x = calloc(1, sizeof(*x));
	if (!x || !(x->names = strindex_new(l->n)) || !(x->ids = strindex_new(l->n))) {
		index_free(x);
		return NULL;
	}
	for (size_t i = 0; i < l->n; i++) {
		strindex_add(x->names, l->entries[i].name, i);
		strindex_add(x->ids, l->entries[i].obj.id, i);
	}
	return x;
}

/*
 * The listing's index, built by the first lookup that needs it (listings
 * are immutable once shared: only this field is set later, atomically).
 * NULL for small listings or without memory: the caller scans.
 */
static const struct listing_index *index_of(const struct listing *l)
{
	struct listing *w = (struct listing *)l; /* the index is a lazily computed cache */
	struct listing_index *x = __atomic_load_n(&w->index, __ATOMIC_ACQUIRE), *none = NULL;
	if (x || l->n < INDEX_MIN || !(x = index_build(l)))
		return x;
	if (!__atomic_compare_exchange_n(&w->index, &none, x, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		index_free(x); /* another thread built it first */
		x = none;
	}
	return x;
}

static const struct entry *at(const struct listing *l, size_t pos)
{
	return pos < l->n ? &l->entries[pos] : NULL;
}

const struct entry *listing_find_id(const struct listing *l, const char *id)
{
	const struct listing_index *x = l ? index_of(l) : NULL;
	const struct entry *e = x ? at(l, strindex_find(x->ids, id)) : NULL;
	for (size_t i = 0; l && !x && !e && i < l->n; i++)
		if (strcmp(l->entries[i].obj.id, id) == 0)
			e = &l->entries[i];
	/* Ids are UUIDs, which the API matches in any case: so do lookups (a rare miss scans). */
	for (size_t i = 0; l && !e && strlen(id) == 36 /* a UUID's text */ && i < l->n; i++)
		if (strcasecmp(l->entries[i].obj.id, id) == 0)
			e = &l->entries[i];
	return e;
}

const struct entry *listing_find(const struct listing *l, const char *name)
{
	/* Names win over ids, so an object named like another's id stays reachable. */
	const struct listing_index *x = index_of(l);
	const struct entry *e = x ? at(l, strindex_find(x->names, name)) : NULL;
	for (size_t i = 0; !x && !e && i < l->n; i++)
		if (strcmp(l->entries[i].name, name) == 0)
			e = &l->entries[i];
	return e ? e : listing_find_id(l, name);
}

/* Whether o is one of the objects a change concerns. */
static bool concerned(const struct efs_object *o, enum listing_change what, const char *id,
		      const struct efs_object *obj)
{
	return (what != LISTING_ADD && strcmp(o->id, id) == 0) ||
	       (what != LISTING_REMOVE && strcmp(o->id, obj->id) == 0);
}

int listing_objects_changed(const struct listing *l, enum listing_change what, const char *id,
			    const struct efs_object *obj, struct efs_list *out)
{
	bool placed = what == LISTING_REMOVE; /* obj is put once, or never */
	out->n = 0;
	out->items = calloc(l->n + 1, sizeof(*out->items));
	if (!out->items)
		return -ENOMEM;
	for (size_t i = 0; i <= l->n; i++) {
		const struct efs_object *o = i < l->n ? &l->entries[i].obj : NULL, *src = o;
		if (o ? concerned(o, what, id, obj) : what == LISTING_ADD && !placed) {
			src = placed ? NULL : obj; /* where the first concerned one was, or last */
			placed = true;
		}
		if (src && efs_object_copy(src, &out->items[out->n]) != 0) {
			efs_list_free(out);
			return -ENOMEM;
		}
		out->n += src != NULL;
	}
	return 0;
}

/* What a listing costs in memory, its index included (counted for -o cache_max). */
static size_t listing_bytes(const struct listing *l)
{
	size_t b = sizeof(*l) + l->n * sizeof(*l->entries);
	for (size_t i = 0; i < l->n; i++) {
		const struct efs_object *o = &l->entries[i].obj;
		b += strlen(o->id) + 1 + (o->name ? strlen(o->name) + 1 : 0) + o->path_len +
		     (o->path ? 1 : 0) + o->json_len + (o->json ? 1 : 0);
	}
	if (l->n >= INDEX_MIN) /* two indexes, at most half full */
		b += 2 * 2 * l->n * 3 * sizeof(size_t);
	return b;
}

/* Count a listing's bytes before it is installed, outside the lock. */
void listing_account(struct listing *l)
{
	if (l && l->bytes == 0)
		l->bytes = listing_bytes(l);
}
