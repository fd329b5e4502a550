/*
 * vrestore: ovhsnapfs-versions --restore, a version put back without loss.
 *
 * Owns copying a file or a whole tree as cp -a does (data, ownership where
 * permitted, then extended attributes, so that file capabilities survive,
 * then mode and times; symbolic links as links; hard links within the tree
 * as hard links) to a temporary name in the destination's directory,
 * fsync'd, then putting it in place: beside the live path as
 * PATH.SNAPSHOT, never over anything (safetree_place), or, with overwrite,
 * over PATH itself after keeping the current PATH under PATH.live-STAMP (a
 * hard link, so a file is either the old or the new version at every
 * instant; an exchange when a directory replaces a file or the reverse).
 *
 * Every read and write goes through safetree's descriptors: the source is
 * resolved beneath the snapshot's directory and never followed out of it;
 * the destination's parent is resolved beneath the share's mount once,
 * and every write is relative to it or to a directory made in it. The
 * temporary directory and each directory copied are made 0700 and owned by
 * us until they are full (another user can neither enter nor swap their
 * entries), and get their owner and mode last. Prints each path it wrote
 * on out (escaped as the listing does) and each error on stderr.
 */
#ifndef OVHSNAPFS_VRESTORE_H
#define OVHSNAPFS_VRESTORE_H

#include <stdbool.h>
#include <stdio.h>

struct vrestore_args {
	const char *snap_dir; /* MOUNT/.snapshot/NAME */
	const char *mount;    /* the share's mount point */
	const char *rel;      /* the path under both, not "" */
	const char *live;     /* MOUNT/REL, as shown */
	const char *snapshot; /* NAME, for PATH.NAME */
	bool overwrite;
	bool confine; /* Landlock: read beneath mount and snap_dir, write beneath PATH's parent */
	bool verbose;
	bool quiet; /* no progress line (there is one only on a terminal's stderr) */
};

/*
 * Restore: 0; -EEXIST when PATH.SNAPSHOT exists (nothing changed); -ENOENT
 * when PATH's directory or the version is missing; another -errno (told
 * on stderr) when the copy failed (nothing is left behind).
 */
int vrestore_run(const struct vrestore_args *a, FILE *out);

#endif
