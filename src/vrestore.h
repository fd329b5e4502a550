/*
 * vrestore: ovhsnapfs-versions --restore, a version put back without loss.
 *
 * Owns copying a file or a whole tree as cp -a does (data, mode, mtime,
 * ownership where permitted, extended attributes, symbolic links) to a
 * temporary name in the destination's directory, fsync'd, then putting it
 * in place: beside the live path as PATH.SNAPSHOT, never over anything
 * (rename with RENAME_NOREPLACE, or link), or, with overwrite, over PATH
 * itself after keeping the current PATH under PATH.live-STAMP (a hard
 * link, so a file is either the old or the new version at every instant).
 * Prints each path it wrote on out and each error on stderr.
 */
#ifndef OVHSNAPFS_VRESTORE_H
#define OVHSNAPFS_VRESTORE_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Restore src (a path in a snapshot) for live, snapshot being its name:
 * 0; -EEXIST when PATH.SNAPSHOT exists (nothing changed); another -errno
 * (told on stderr) when the copy failed (nothing but a temporary file
 * beginning with '.' may be left).
 */
int vrestore_run(const char *src, const char *live, const char *snapshot, bool overwrite,
		 FILE *out);

#endif
