/*
 * vcore: the pure rules of ovhsnapfs-versions, apart from any file system.
 *
 * Owns when two versions of a file are the same one (type, size, mtime),
 * which entries a diff reports as modified, the order of snapshots (by
 * createdAt, then by name), the escaping of names on output (zfs diff's
 * \0ooo for a text line, JSON with invalid bytes as \udcXX for --json), and
 * the names a restore writes. No I/O but the FILE given; thread-safe.
 */
#ifndef OVHSNAPFS_VCORE_H
#define OVHSNAPFS_VCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

/* Same version: same file type, size and mtime (to the nanosecond). */
bool vcore_same_version(const struct stat *a, const struct stat *b);

/*
 * Modified between two trees: type, size, mtime, mode or (links: targets,
 * NULL when not a link) differ.
 */
bool vcore_modified(const struct stat *a, const struct stat *b, const char *link_a,
		    const char *link_b);

/*
 * Of versions st[0..n) (oldest first), which are new: keep[i] is true when
 * no st[j], j < i, is the same version. Returns how many are kept.
 */
size_t vcore_unique(const struct stat *st, size_t n, bool *keep);

/* Snapshot order: known dates (created != 0) first, oldest first; then by name. */
int vcore_snap_cmp(time_t created_a, const char *name_a, time_t created_b, const char *name_b);

/*
 * Write s as zfs diff does: bytes from '!' to '~' but '\\' as they are,
 * any other byte (space, newline, '\\', 0x7f and above) as \0ooo (4 octal
 * digits). keep_space: a space stays a space (the listing's last column).
 */
void vcore_put_escaped(FILE *f, const char *s, bool keep_space);
/*
 * Write s as a JSON string, quotes included. Valid UTF-8 as it is; control
 * characters, '"' and '\\' escaped; a byte that is not valid UTF-8 as
 * \udcXX (XX: the byte; what Python's os.fsdecode gives), so each name
 * maps back to its bytes. NULL: null.
 */
void vcore_put_json_string(FILE *f, const char *s);

/*
 * The name a restore writes beside PATH: "PATH.SNAPSHOT". 0, or
 * -ENAMETOOLONG when it would not fit in len or its last component would
 * be longer than 255 bytes.
 */
int vcore_restore_name(const char *path, const char *snapshot, char *buf, size_t len);
/*
 * The name --overwrite keeps the current PATH under: "PATH.live-YYYYmmddTHHMMSSZ"
 * (UTC of now), then "-N" when attempt N > 1. Same errors.
 */
int vcore_kept_name(const char *path, time_t now, unsigned attempt, char *buf, size_t len);

#endif
