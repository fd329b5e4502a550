/*
 * settings: a share's own snapshot settings as extended attributes, and revert.
 *
 * Owns user.ovh.snapshot_reserve and user.ovh.snapshot_policy (read through
 * the cache: one GET each per cache_ttl; set with one PUT, none for a bad
 * value, an unknown policy or the policy the share has), and
 * user.ovh.revert: the guarded revert of a share to its latest available
 * manual snapshot, its bounded wait and its log line. Refusals for
 * read-only mounts are fs's. Thread-safe: changes to one share are
 * serialized with snapops's (the tree's keylock).
 */
#ifndef OVHSNAPFS_SETTINGS_H
#define OVHSNAPFS_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "tree.h"

#define XATTR_SNAPSHOT_RESERVE "user.ovh.snapshot_reserve"
#define XATTR_SNAPSHOT_POLICY  "user.ovh.snapshot_policy"
#define XATTR_REVERT	       "user.ovh.revert"

/* The percent a reserve may be set to: OVH's control panel's range (reference 5). */
#define SETTINGS_RESERVE_MIN 5
#define SETTINGS_RESERVE_MAX 100

struct settings_opts {
	double wait;	   /* seconds a revert waits for the share to be usable; 0: none */
	bool allow_revert; /* -o allow_revert */
};

/* True for the names this module owns (on a share). */
bool settings_owns(const char *name);
/*
 * The value of name on the share n (malloc'ed, *len bytes): the percent;
 * the policy's name as .policies lists it ("" when the share has none).
 * -ENODATA for user.ovh.revert, which is set only.
 */
int settings_get(struct tree *tree, const struct op *op, const struct node *n, const char *name,
		 char **value, size_t *len);
/*
 * setxattr of name on the share n, made on behalf of op by uid. -EINVAL
 * (no call) for a bad value, -EPERM for revert without allow_revert.
 */
int settings_set(struct tree *tree, const struct settings_opts *opts, const struct op *op,
		 const struct node *n, const char *name, const char *value, size_t size, uid_t uid);

#endif
