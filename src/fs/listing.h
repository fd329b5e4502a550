/*
 * listing: one directory's objects as the cache holds them.
 *
 * Owns struct listing: immutable once shared, reference-counted (readers
 * hold a reference while they use one; the last unref frees it), looked up
 * by display name or id (an index built by the first lookup of a large
 * one), a change of ours applied to its objects, and its memory as
 * -o cache_max counts it. Thread-safe for readers.
 */
#ifndef OVHSNAPFS_LISTING_H
#define OVHSNAPFS_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "efs.h"

struct entry {
	const char *name; /* display name: points into obj.name or obj.id */
	struct efs_object obj;
};

struct listing_index;

struct listing {
	int refs;	/* atomic */
	double fetched; /* monotonic seconds when the API answered (or we changed it) */
	time_t mtime;	/* the directory's mtime: changes only with its content */
	int kernel_has; /* the kernel was allowed to cache this one (atomic) */
	size_t n;
	struct entry *entries;
	/* Owned by the cache: */
	size_t bytes;		     /* its memory, counted when it is installed */
	struct listing_index *index; /* by name and by id, built by the first lookup */
	struct listing *next_free;   /* freed after the cache's lock is let go */
};

struct listing *listing_new(size_t n);
struct listing *listing_ref(struct listing *listing);
void listing_unref(struct listing *listing);
/* By display name, else by id; one hash probe each (a scan for small listings). */
const struct entry *listing_find(const struct listing *listing, const char *name);
/* By id only (NULL listing: NULL). */
const struct entry *listing_find_id(const struct listing *listing, const char *id);
enum listing_change {
	LISTING_ADD,	 /* obj, in place of an object of its id if there is one, else last */
	LISTING_REMOVE,	 /* the object whose id is id */
	LISTING_REPLACE, /* id's object by obj (a hold: id is the old id), if it is there */
};
/*
 * The objects of listing as they are after a change of ours, copied into
 * out. Every object of the ids concerned goes (id, obj's id) and obj takes
 * the place of the first, so an id is listed once whatever the listing held
 * (a load may have brought a held copy in already). 0 or -ENOMEM.
 */
int listing_objects_changed(const struct listing *listing, enum listing_change what, const char *id,
			    const struct efs_object *obj, struct efs_list *out);
/*
 * For the cache, which must not free under its lock: drop a reference
 * (lock held), a listing that goes with it chained onto *grave; free them
 * all once the lock is let go.
 */
void listing_bury(struct listing **grave, struct listing *listing);
void listing_release_all(struct listing *grave);
/* Count a listing's bytes (listing->bytes) before it is installed, outside the lock. */
void listing_account(struct listing *listing);

#endif
