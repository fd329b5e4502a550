/*
 * vmeta: where a path's versions are, for ovhsnapfs-versions.
 *
 * Owns finding the NFS-style mount (source HOST:/EXPORT, from mounts.h) that
 * holds a path, existing or not, and its path relative to that mount; the
 * snapshots NetApp shows there (MOUNT/.snapshot/NAME); and their ids and
 * createdAt from an ovhsnapfs mount of the same account, when one shows
 * the share (its SHARE/content link, or a snapshot's `path`, names that
 * mount). Reads only files: the mount table, directories and info.json;
 * never the network. Not thread-safe (one caller, before any walk).
 */
#ifndef OVHSNAPFS_VMETA_H
#define OVHSNAPFS_VMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <time.h>

struct vsnap {
	char *name;	  /* its directory under MOUNT/.snapshot */
	char *id;	  /* the snapshot's id, NULL when unknown */
	char *created;	  /* createdAt as the API gave it, NULL when unknown */
	time_t created_t; /* the same, 0 when unknown */
	char *dir;	  /* MOUNT/.snapshot/NAME */
};

struct vplace {
	char *live;   /* the path, absolute, its existing part canonical */
	char *mount;  /* the mount point that holds it */
	char *source; /* HOST:/EXPORT */
	char *rel;    /* live under mount: "" for the mount point itself */
	char *ovh;    /* the ovhsnapfs share directory that gave names, or NULL */
	struct vsnap *snaps;
	size_t n; /* snaps, oldest first (vcore_snap_cmp) */
};

/* Place path: 0; -EXDEV when no NFS-style mount holds it; -ENOMEM; -ENAMETOOLONG. */
int vmeta_locate(const char *path, struct vplace *out);
/*
 * Fill out->snaps from MOUNT/.snapshot, by name: 0, or -errno of opening
 * it when it cannot be read.
 */
int vmeta_snapshots(struct vplace *out);
/*
 * Add ids and dates from ovh_mount (an ovhsnapfs mount point) or, when
 * NULL, from the first ovhsnapfs mount in the mount table that shows the
 * share; then order by date. Reading a FUSE mount: only when needed.
 */
void vmeta_names(struct vplace *out, const char *ovh_mount);
/* The snapshot named name (its directory name, else its id), or NULL. */
const struct vsnap *vmeta_find(const struct vplace *p, const char *name);
/* SNAP/REL: the path of p's file in snapshot s (malloc'd), or NULL. */
char *vmeta_path_in(const struct vplace *p, const struct vsnap *s);
/*
 * REL opened beneath snapshot s's directory (s NULL: beneath the mount, the
 * live one) through safetree, flags as openat: a symbolic link anywhere on
 * the way is not followed (-ELOOP). A descriptor or -errno.
 */
int vmeta_open_in(const struct vplace *p, const struct vsnap *s, int flags);
/* lstat of REL beneath s's directory (NULL: the mount) the same way: 0 or -errno. */
int vmeta_stat_in(const struct vplace *p, const struct vsnap *s, struct stat *st);
void vmeta_free(struct vplace *p);

#endif
