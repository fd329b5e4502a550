/*
 * vcopy: an entry of any type copied as cp -a does, through descriptors.
 *
 * Owns the copy itself for vrestore: data; ownership where permitted
 * (fchown before the extended attributes, since a chown clears
 * security.capability); extended attributes; mode and times; symbolic
 * links made as links (never followed); devices and fifos; hard links
 * within one copy kept as hard links (by device and inode, linkat of the
 * first copy). Reads relative to a source directory descriptor and writes
 * relative to a destination one, one component at a time with O_NOFOLLOW:
 * nothing is resolved by a path. Each directory is made 0700, filled
 * through its descriptor, and given its owner and mode last. Errors: one
 * line on stderr naming the source, and -errno. Not thread-safe (one copy).
 */
#ifndef OVHSNAPFS_VCOPY_H
#define OVHSNAPFS_VCOPY_H

#include <stddef.h>
#include <sys/stat.h>

struct vcopy;

/* A copy, naming sources as shown_root/... in messages; NULL when out of memory. */
struct vcopy *vcopy_new(const char *shown_root);
void vcopy_free(struct vcopy *c);

/*
 * Copy name in sdir to the new name dname in ddir, made 0600/0700 first
 * and never over anything (-EEXIST). *made: what was made as dname (its
 * st_ino 0 when nothing was), set as soon as it exists, on failure too.
 * Files and bytes copied so far: vcopy_done.
 */
int vcopy_entry(struct vcopy *c, int sdir, const char *name, int ddir, const char *dname,
		struct stat *made);

/*
 * The directory the first vcopy_entry made, still open (the caller owns
 * it, and may empty it through it whatever its name has become), or -1.
 */
int vcopy_take_top(struct vcopy *c);

/* Report files and bytes copied on p (a progress line; NULL: none). */
struct progress;
void vcopy_set_progress(struct vcopy *c, struct progress *p);

void vcopy_done(const struct vcopy *c, unsigned long long *files, unsigned long long *bytes);

#endif
