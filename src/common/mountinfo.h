/*
 * mountinfo: the one reader of /proc/self/mountinfo's lines (proc(5)).
 *
 * Pure functions, thread-safe; the caller owns the text. Used by mounts
 * (the content links), mountwatch (lazy unmounts) and ovhsnapfs-auto
 * (which mount holds a path).
 */
#ifndef OVHSNAPFS_MOUNTINFO_H
#define OVHSNAPFS_MOUNTINFO_H

#include <stddef.h>

#define MOUNTINFO_PATH "/proc/self/mountinfo"

/* One line's fields: pointers into the line, NUL-ended; paths decoded. */
struct mountinfo_line {
	long id;
	const char *dev;	/* major:minor */
	const char *root;	/* the mount's root inside its filesystem */
	const char *point;	/* where it is mounted */
	const char *mount_opts; /* per mount: rw,nosuid,... */
	const char *fstype;	/* "fuse.ovhsnapfs", "nfs4"... */
	const char *source;	/* "10.0.0.5:/share", "/dev/sda1"... */
	const char *super_opts; /* per superblock ("" when absent) */
};

/*
 * Split line[0..len) (changed in place; len excludes any newline) into its
 * fields, undoing the octal escapes (\040 for a space) of root, point and
 * source. 0, or -EINVAL when the line is malformed or a path would hold a
 * NUL byte.
 */
int mountinfo_parse(char *line, size_t len, struct mountinfo_line *out);

/*
 * How much of path (absolute, canonical) mount point point covers: its
 * length (0 for "/"), or -1 when path is not at or below it ("/mnt/efs"
 * covers "/mnt/efs/a", not "/mnt/efs2"). The mount that holds a path is the
 * one that covers most of it, the last listed among equals (the one on top).
 */
long mountinfo_covers(const char *point, const char *path);

#endif
