/*
 * mountwatch: notices that the mount was taken away while calls are in flight.
 *
 * A lazy unmount (umount -l, fusermount3 -uz) detaches the mount at once,
 * but the kernel ends the FUSE session only when the last call in flight
 * returns: a mkdir waiting for its snapshot would keep the daemon running
 * for wait= seconds. (A plain umount is refused with EBUSY while a call is
 * in flight.) Owns one thread, which sleeps in poll() on
 * /proc/self/mountinfo (the kernel wakes it on every mount change) and calls
 * gone() once no mount of this process's FUSE connection is listed: neither
 * the one it made nor a bind mount of it; then again every 100 ms until
 * mountwatch_stop, so that a wake-up lost to a race is sent again. Start it
 * after the daemon forks; thread-safe.
 */
#ifndef OVHSNAPFS_MOUNTWATCH_H
#define OVHSNAPFS_MOUNTWATCH_H

#include <stdbool.h>

struct mountwatch;

/*
 * Watch the newest FUSE mount on mountpoint (a canonical path, as libfuse
 * gives it). NULL when there is nothing to watch (not listed: a /dev/fd/N
 * mountpoint, another mount namespace) or no thread could start.
 */
struct mountwatch *mountwatch_start(const char *mountpoint, void (*gone)(void *ctx), void *ctx);
/* Stop the thread and free; NULL is fine. */
void mountwatch_stop(struct mountwatch *watch);

/*
 * The id of the newest FUSE mount on mountpoint (the last listed) in the
 * text of a mountinfo file, or -1. Exposed for the unit tests.
 */
long mountwatch_find(const char *mountinfo, const char *mountpoint);
/*
 * Whether a mount of the device major:minor dev (a FUSE connection: the
 * mount made, or a bind mount of it) is in the text of a mountinfo file.
 * Exposed for the unit tests.
 */
bool mountwatch_dev_listed(const char *mountinfo, const char *dev);

#endif
