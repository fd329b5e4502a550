/*
 * inval: tells the kernel to forget entries that changed behind its back.
 *
 * Part of the FUSE layer (with fs.c): owns one thread and a queue of paths
 * handed to fuse_invalidate_path. The kernel must never be told from inside
 * an operation on a related inode (it could deadlock), so callers anywhere
 * only queue; the thread notifies. Thread-safe.
 */
#ifndef OVHSNAPFS_INVAL_H
#define OVHSNAPFS_INVAL_H

struct fuse;
struct inval;

/* Start the thread; call after the daemon forks. NULL on failure. */
struct inval *inval_start(struct fuse *fuse);
/*
 * Queue a path (copied). Dropped when the queue is full (1024 paths), with a
 * warning, and counted in the log: the kernel keeps what it cached for at
 * most cache_ttl. Any thread.
 */
void inval_path(struct inval *inval, const char *path);
/* Stop the thread and free. */
void inval_stop(struct inval *inval);

#endif
