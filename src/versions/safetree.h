/*
 * safetree: the host's files walked and written through directory
 * descriptors only, for ovhsnapfs-versions.
 *
 * Owns resolving a relative path beneath an open directory without ever
 * leaving it: openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 * RESOLVE_NO_MAGICLINKS where the kernel has it, else a walk of one
 * component at a time with O_NOFOLLOW (".." refused). A symbolic link is
 * never followed, anywhere in a path: one as the last component is an
 * entry of its own (fstatat with AT_SYMLINK_NOFOLLOW sees it). Also owns
 * the writes that a root-run tool may do in a directory other users can
 * write: a private (0700, owned by us, checked through its descriptor)
 * directory, removal of a tree through descriptors on one device only, and
 * putting a name in place without ever replacing another (renameat2
 * RENAME_NOREPLACE, else link for a file or an owned placeholder directory
 * for a directory). Every function takes names relative to a descriptor;
 * names of entries hold no '/'. Errors: negative errno. Thread-safe.
 */
#ifndef OVHSNAPFS_SAFETREE_H
#define OVHSNAPFS_SAFETREE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Open rel beneath dirfd (flags and mode as openat; O_NOFOLLOW and O_CLOEXEC
 * added): a descriptor, or -ELOOP when a component is a symbolic link,
 * -EXDEV when rel would leave dirfd (absolute, or ".." above it), -errno.
 * rel "" or "." opens dirfd's directory again.
 */
int safetree_open(int dirfd, const char *rel, int flags, mode_t mode);

/*
 * The directory that holds rel's last component, beneath dirfd (opened
 * O_RDONLY | O_DIRECTORY), with *base pointing into rel at that component:
 * a descriptor or -errno. rel must name an entry (not "", "." nor "..").
 */
int safetree_open_parent(int dirfd, const char *rel, const char **base);

/* lstat of rel beneath dirfd: 0 or -errno (a link anywhere but last: -ELOOP). */
int safetree_stat(int dirfd, const char *rel, struct stat *st);

/*
 * Make the directory name in dirfd, mode 0700, and open it (O_RDONLY |
 * O_DIRECTORY): a descriptor whose directory is checked to be ours (owner
 * the effective uid, mode 0700, empty) whatever happened to the name in
 * between; -EEXIST when name exists; -EPERM when what was opened is not ours.
 */
int safetree_mkdir(int dirfd, const char *name);

/*
 * Call fn(dirfd, name, ctx) for each entry of the open directory dirfd
 * ("." and ".." left out; dirfd is not moved: a duplicate is read) until
 * fn returns non-zero: that value, 0 at the end, -errno.
 */
int safetree_each(int dirfd, int (*fn)(int dirfd, const char *name, void *ctx), void *ctx);

/*
 * Remove everything in the open directory dirfd, never following a link
 * and never descending into a directory of another device: 0 or the first
 * -errno (the removal goes on).
 */
int safetree_empty(int dirfd);

/*
 * Remove name in dirfd, a directory with everything in it (as
 * safetree_empty), or any other entry. expect: only when name is still
 * that entry (same device and inode, checked again on the directory's own
 * descriptor before anything in it is removed), else -ESTALE; NULL: any.
 */
int safetree_remove(int dirfd, const char *name, const struct stat *expect);

/*
 * Move from (in fromfd) to the new name to (in tofd), never replacing
 * anything: renameat2(RENAME_NOREPLACE); where the file system has no
 * such flag, linkat then unlinkat for anything but a directory, and for a
 * directory an empty placeholder made by safetree_mkdir and then replaced
 * (only ever our own placeholder is replaced). 0, -EEXIST, -errno.
 */
int safetree_place(int fromfd, const char *from, int tofd, const char *to);

/* Exchange a and b in dirfd atomically (RENAME_EXCHANGE): 0, -EINVAL when not supported. */
int safetree_exchange(int dirfd, const char *a, const char *b);

/* Whether name in dirfd is still the entry st describes (same device and inode). */
bool safetree_is(int dirfd, const char *name, const struct stat *st);

/* For tests and for kernels without it: resolve by the component walk only. */
void safetree_set_openat2(bool use);
/* For tests: place as on a file system without RENAME_NOREPLACE (NFS). */
void safetree_set_noreplace(bool use);

#endif
