/*
 * fs: the FUSE operations.
 *
 * Owns the one filesystem context (struct ovhsnapfs, reached through
 * fuse_get_context()->private_data), its start (init) and stop, the table of
 * operations and the refusals (write, chmod, ...). The operations that do
 * something are fsread's, fschange's and fsxattr's, which turn each FUSE call
 * into tree lookups and snapops changes; with main, the only modules that
 * know libfuse.
 */
#ifndef OVHSNAPFS_FS_H
#define OVHSNAPFS_FS_H

#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "inval.h"
#include "metrics.h"
#include "settings.h"
#include "snapops.h"
#include "status.h"
#include "tree.h"

struct ovhsnapfs {
	struct tree tree;
	struct snapops_opts change;
	struct settings_opts settings; /* a share's reserve, policy and revert (settings.h) */
	bool read_only;
	uid_t uid;
	gid_t gid;
	mode_t umask;	     /* -o umask=, applied to every mode shown */
	int drop_caches;     /* set by SIGHUP, acted on by the next call (atomic) */
	struct inval *inval; /* kernel invalidations, from init on */
	/*
	 * Each FUSE call that may reach the API is one op (op.h): it ends when
	 * its caller is interrupted or the session ends, and after timeout
	 * seconds (reads) or timeout + change.wait (mkdir, rmdir, rename).
	 */
	double timeout;
	struct fuse_session *session; /* set before the session loop starts */
	struct status *status;	      /* MOUNT/.ovhsnapfs */
	struct metrics *metrics;      /* -o metrics_file=, NULL without it */
	double metrics_refresh;	      /* -o metrics_refresh= (freshness.h) */
	struct freshness *freshness;  /* with metrics_file= only */
};

/*
 * libfuse sends it to the thread of an interrupted call (fuse_config's intr,
 * set by init); main installs its no-op handler before fuse_new.
 */
#define FS_INTR_SIGNAL SIGUSR1

const struct fuse_operations *fs_operations(void);
/*
 * After the session loop returned, before fuse_unmount and fuse_destroy:
 * end every wait (op_shutdown) and stop the background threads (prefetch,
 * refresh, shared loads, kernel invalidations), which use libfuse.
 */
void fs_stop(struct ovhsnapfs *fs);
/* Async-signal-safe: ask for every cache to be dropped before the next call. */
void fs_request_cache_drop(struct ovhsnapfs *fs);

/* ---- for the operations (fsread.c, fschange.c, fsxattr.c) ---- */

enum fs_call {
	FS_READ,  /* bounded by timeout= */
	FS_CHANGE /* mkdir, rmdir, rename, setxattr, removexattr: also wait= */
};
/* One FUSE call on one node: fs_begin fills it, fs_end ends it. */
struct fs_req {
	struct ovhsnapfs *fs;
	struct op op;
	struct node n;
};
/*
 * fs_resolve path into r; an FS_CHANGE on a read-only mount is then refused
 * (-EROFS). When 0, end with fs_end.
 */
int fs_begin(const char *path, enum fs_call kind, struct fs_req *r);
/* Releases r's node and returns rc. */
int fs_end(struct fs_req *r, int rc);
/*
 * The calling FUSE call's context, its SIGHUP cache drop done, and its op
 * (op.h) started: it ends when the caller is interrupted or the session ends.
 */
struct ovhsnapfs *fs_call(struct op *op, enum fs_call kind);
/* fs_call, then path resolved into *n (tree_node_release it when 0). */
int fs_resolve(const char *path, enum fs_call kind, struct ovhsnapfs **fs, struct op *op,
	       struct node *n);

#endif
