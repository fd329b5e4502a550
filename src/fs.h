/*
 * fs: the FUSE operations.
 *
 * Owns the one filesystem context (struct ovhsnapfs, reached through
 * fuse_get_context()->private_data) and turns each FUSE call into tree
 * lookups and snapops changes. The only module that knows libfuse.
 */
#ifndef OVHSNAPFS_FS_H
#define OVHSNAPFS_FS_H

#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <sys/types.h>

#include "inval.h"
#include "snapops.h"
#include "tree.h"

struct ovhsnapfs {
	struct tree tree;
	struct snapops_opts change;
	bool read_only;
	uid_t uid;
	gid_t gid;
	mode_t umask;	     /* -o umask=, applied to every mode shown */
	int drop_caches;     /* set by SIGHUP, acted on by the next call (atomic) */
	struct inval *inval; /* kernel invalidations, from init on */
};

const struct fuse_operations *fs_operations(void);
/* Async-signal-safe: ask for every cache to be dropped before the next call. */
void fs_request_cache_drop(struct ovhsnapfs *fs);

#endif
