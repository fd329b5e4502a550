/*
 * confine: Landlock, so that a process may read and write only where its
 * task says, as defence in depth behind safetree's descriptors.
 *
 * Owns the ruleset (through syscall(), no library): every file system
 * right the running kernel's Landlock ABI knows is handled; directories
 * given for reading get read access beneath them; those given for writing
 * get every right but execute beneath them; nothing else may be opened for
 * reading (when read_fds is given) and nothing at all written. Sets
 * no_new_privs. Once applied it lasts for the process and its children.
 */
#ifndef OVHSNAPFS_CONFINE_H
#define OVHSNAPFS_CONFINE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Confine this process: reads only beneath read_fds[0..nr) (or anywhere
 * when read_fds is NULL), writes only beneath write_fds[0..nw) (open
 * directory descriptors, O_PATH will do). The Landlock ABI version (> 0)
 * when enforced; 0 when this kernel has no Landlock (ENOSYS, EOPNOTSUPP, or
 * EPERM from a container's seccomp filter: the caller runs unconfined);
 * -errno (told on stderr) when a rule could not be added or applied.
 * verbose: one line on stderr saying which.
 */
int confine_paths(const int *read_fds, size_t nr, const int *write_fds, size_t nw, bool verbose);

#endif
