/*
 * mounts: where this host has mounted an export, from /proc/self/mountinfo.
 *
 * Owns a copy of the mount table (each mount's source and mount point, in
 * mountinfo order), a thread that reloads it when the kernel signals a
 * change (poll POLLPRI on mountinfo) and reports which sources came or went
 * through a callback, and the rule that turns an API path HOST:/EXPORT/REST
 * into M/REST, M being where a filesystem with source HOST:/EXPORT is
 * mounted. That rule never yields a path outside M, nor one into a local
 * filesystem: a path not of the form HOST:/... matches no mount, and one
 * whose REST has an empty, "." or ".." segment, or a NUL, is refused. Nor
 * one into a mount whose source its maker chose: FUSE mounts (any user may
 * set fsname=) and mounts a user made are never in the table. Knows nothing
 * of the API or FUSE. Thread-safe.
 */
#ifndef OVHSNAPFS_MOUNTS_H
#define OVHSNAPFS_MOUNTS_H

#include <stdbool.h>
#include <stddef.h>

struct mount_entry {
	char *source; /* as mounted, octal escapes decoded, trailing '/' dropped */
	char *point;  /* absolute */
	char *fstype; /* as mounted ("nfs", "fuse.ovhsnapfs"...) */
	bool nfs;     /* type nfs or nfs4: ranked above any other */
	bool trusted; /* a filesystem's root, not FUSE, not made by a user */
	long user_id; /* user_id= of the super options (FUSE: who mounted it), -1 when none */
};

struct mount_table {
	size_t n;
	struct mount_entry *items;
};

/*
 * Parse mountinfo text. Only mounts of a filesystem's root are kept (a bind
 * mount of a subdirectory shows only part of it), and never a FUSE mount
 * (type fuse, fuse.*, fuseblk) nor one a user made (user_id= in the super
 * options, user or user= in the mount's): their source proves nothing.
 * 0 or -ENOMEM.
 */
int mounts_parse(const char *text, size_t len, struct mount_table *out);
void mounts_table_free(struct mount_table *table);
/*
 * The same, keeping every mount (trusted or not, a source of "/" too), in
 * mountinfo order: for a client that must know which mount is on top of a
 * path. Only trusted entries may be followed. 0 or -ENOMEM.
 */
int mounts_parse_all(const char *text, size_t len, struct mount_table *out);
/* mounts_parse_all of /proc/self/mountinfo: 0 or -errno. */
int mounts_load_all(struct mount_table *out);

/*
 * True when an API path may be used at all: no NUL, and after its first '/'
 * no empty, "." or ".." segment (one trailing '/' is ignored).
 */
bool mounts_path_is_safe(const char *path, size_t len);

/*
 * The local path of the best mount whose source is one of paths[0..n)
 * (those of the form HOST:/PATH) or a '/'-bounded prefix of one: M/REST,
 * then "/suffix" when suffix is not NULL. Best: an nfs or nfs4 mount before
 * any other type, then the earliest of paths (callers put the preferred
 * access path first), then the first in table order. 0 with the path in buf;
 * -ENOENT when nothing matches; -EINVAL when the REST or suffix could leave
 * M; -ENAMETOOLONG.
 */
int mounts_table_target(const struct mount_table *table, const char *const *paths, size_t n,
			const char *suffix, char *buf, size_t len);
/* source has the form HOST:/PATH (an NFS-style mount; not a URL such as http://...). */
bool mounts_is_remote(const char *source);
/* True when some source is. */
bool mounts_table_has_remote(const struct mount_table *table);

/* ---- the live table ---- */

struct mounts;

/* Told, on the watcher thread, the sources mounted or unmounted since the last load. */
typedef void (*mounts_changed_fn)(void *ctx, const char *const *sources, size_t n);

/* Load the table once (NULL when /proc/self/mountinfo cannot be read). */
struct mounts *mounts_new(void);
/* Start the watcher (after the daemon forks). 0 or -errno. NULL mounts: 0. */
int mounts_start(struct mounts *mounts, mounts_changed_fn changed, void *ctx);
/* Stop the watcher; it may be started again. NULL is fine. */
void mounts_stop(struct mounts *mounts);
void mounts_free(struct mounts *mounts);

/* mounts_table_target and mounts_table_has_remote on the current table (NULL: -ENOENT, false). */
int mounts_target(struct mounts *mounts, const char *const *paths, size_t n, const char *suffix,
		  char *buf, size_t len);
bool mounts_has_remote(struct mounts *mounts);

#endif
