/*
 * xattr: the extended attributes of services, shares and snapshots.
 *
 * Owns the user.ovh.* names, which directory has which, their values (read
 * from the cached object: never an API call) and what setting or removing
 * one asks for. Acting on it (read-only mounts, the PUT, the hold) is fs's
 * and snapops's. Pure functions over tree nodes; thread-safe.
 */
#ifndef OVHSNAPFS_XATTR_H
#define OVHSNAPFS_XATTR_H

#include <stddef.h>

#include "tree.h"

#define XATTR_DESCRIPTION "user.ovh.description"
#define XATTR_HOLD	  "user.ovh.hold"

/*
 * The cached object behind n taken as kind's: a service's, share's or
 * snapshot's, the policy's (n->policy) for NODE_POLICIES; NULL for any other
 * kind. fs reads an info.json's from it (kind: n->info_of).
 */
const struct efs_object *xattr_object(const struct node *n, enum node_kind kind);
/* name's value on n, malloc'ed in *value (*len bytes); -ENODATA when n has none. */
int xattr_get(const struct node *n, const char *name, char **value, size_t *len);
/*
 * listxattr: the names that have a value on n (on a share also its
 * settings, whose values settings.h reads), each NUL-terminated, into
 * buf (size 0: only measure). The bytes needed, or -ERANGE.
 */
int xattr_list(const struct node *n, char *buf, size_t size);

enum xattr_change { XATTR_SET_DESCRIPTION, XATTR_SET_HOLD };

/*
 * What setxattr(name, value, flags) asks of n. XATTR_SET_DESCRIPTION puts
 * the text, checked like a name, in *text (malloc'ed); XATTR_SET_HOLD takes
 * the value "1". -EPERM for any other name or directory; -EINVAL,
 * -EILSEQ or -ENAMETOOLONG for a bad value; -EEXIST / -ENODATA for
 * XATTR_CREATE / XATTR_REPLACE.
 */
int xattr_parse_set(const struct node *n, const char *name, const char *value, size_t size,
		    int flags, enum xattr_change *change, char **text);
/* removexattr: 0 for a snapshot's description, -ENODATA when it has none, -EPERM otherwise. */
int xattr_check_remove(const struct node *n, const char *name);

#endif
