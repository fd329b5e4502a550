/*
 * vdiff: ovhsnapfs-versions --diff, what changed between two trees.
 *
 * Owns walking an old tree (a snapshot's) and a new one (live, or another
 * snapshot's) side by side, directories in parallel on a few threads, and
 * printing zfs diff's lines ("+", "-" or "M", a tab, the path under the
 * shown root, escaped as vcore says) or a JSON array, sorted by path. A
 * pair of directories whose mtime, ctime, size and link count agree has
 * the same entries: only the new side is listed then (each entry is still
 * compared). Errors: one line on stderr each, the walk goes on.
 */
#ifndef OVHSNAPFS_VDIFF_H
#define OVHSNAPFS_VDIFF_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Compare the open directories roots[0] (old) and roots[1] (new; both stay
 * open), named names[0] and names[1] in messages, printing paths under
 * shown_root. Every directory below is opened beneath its root through
 * safetree (a symbolic link is an entry, never followed). 0 when every
 * directory could be read, 1 when some could not (told on stderr), -ENOMEM
 * when memory ran out (nothing printed: a diff with changes left out would
 * mislead). A progress line on a terminal's stderr unless quiet. skip: a path relative to the roots
 * left out on both sides (the mount's .snapshot when the roots are the mount point itself), or
 * NULL.
 */
int vdiff_run(const int roots[2], const char *const names[2], const char *shown_root,
	      const char *skip, bool json, unsigned threads, bool quiet, FILE *out);

#endif
