/* fs: the filesystem context, its life cycle and the fuse_operations table. */
#include "fs.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <sys/statvfs.h>

#include "content.h"
#include "freshness.h"
#include "fschange.h"
#include "fsread.h"
#include "fsxattr.h"
#include "log.h"
#include "names.h"
#include "op.h"

static struct ovhsnapfs *fs_ctx(void)
{
	struct ovhsnapfs *fs = fuse_get_context()->private_data;
	if (__atomic_exchange_n(&fs->drop_caches, 0, __ATOMIC_ACQ_REL)) {
		log_info("SIGHUP: dropping every cached listing");
		tree_forget_all(&fs->tree);
	}
	return fs;
}

void fs_request_cache_drop(struct ovhsnapfs *fs)
{
	__atomic_store_n(&fs->drop_caches, 1, __ATOMIC_RELEASE);
}

/* A FUSE call's caller was interrupted (Ctrl-C, kill), or the session is ending (unmount). */
static bool call_interrupted(void *ctx)
{
	struct fuse_session *se = ctx;
	return fuse_interrupted() || (se && fuse_session_exited(se));
}

struct ovhsnapfs *fs_call(struct op *op, enum fs_call kind)
{
	struct ovhsnapfs *fs = fs_ctx();
	double wait = kind == FS_CHANGE ? fs->change.wait : 0;
	op_start(op, fs->timeout + wait, call_interrupted, fs->session);
	return fs;
}

int fs_resolve(const char *path, enum fs_call kind, struct ovhsnapfs **fs, struct op *op,
	       struct node *n)
{
	*fs = fs_call(op, kind);
	return tree_resolve(&(*fs)->tree, op, path, n);
}

int fs_begin(const char *path, enum fs_call kind, struct fs_req *r)
{
	int rc = fs_resolve(path, kind, &r->fs, &r->op, &r->n);
	if (rc == 0 && kind == FS_CHANGE && r->fs->read_only)
		rc = fs_end(r, -EROFS);
	return rc;
}

int fs_end(struct fs_req *r, int rc)
{
	tree_node_release(&r->n);
	return rc;
}

/* The refusal for a change this filesystem never makes. */
static int refuse(const struct ovhsnapfs *fs)
{
	return fs->read_only ? -EROFS : -EPERM;
}

/* ---- everything else this filesystem refuses ---- */

static int op_mknod(const char *path, mode_t mode, dev_t dev)
{
	(void)path, (void)mode, (void)dev;
	return refuse(fs_ctx());
}

static int op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path, (void)mode, (void)fi;
	return refuse(fs_ctx());
}

static int op_unlink(const char *path)
{
	(void)path;
	return refuse(fs_ctx());
}

static int op_symlink(const char *target, const char *path)
{
	(void)target, (void)path;
	return refuse(fs_ctx());
}

static int op_link(const char *from, const char *to)
{
	(void)from, (void)to;
	return refuse(fs_ctx());
}

static int op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	(void)path, (void)mode, (void)fi;
	return refuse(fs_ctx());
}

static int op_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi)
{
	(void)path, (void)uid, (void)gid, (void)fi;
	return refuse(fs_ctx());
}

static int op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	(void)path, (void)size, (void)fi;
	return refuse(fs_ctx());
}

static int op_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	(void)path, (void)buf, (void)size, (void)off, (void)fi;
	return refuse(fs_ctx());
}

static int op_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
	(void)path, (void)tv, (void)fi;
	return refuse(fs_ctx());
}

static int op_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	memset(st, 0, sizeof(*st));
	st->f_bsize = st->f_frsize = 4096;
	st->f_namemax = NAME_MAX_BYTES;
	return 0;
}

static void on_changed(void *ctx, const char *path)
{
	struct ovhsnapfs *fs = ctx;
	inval_path(fs->inval, path);
}

/* Runs in the daemon, after the fork: the place to start threads. */
static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	struct ovhsnapfs *fs = fuse_get_context()->private_data;
	(void)conn;
#ifdef M_ARENA_MAX
	/* Listings are built on many threads: an arena each keeps what one load freed from
	 * the next, a quarter more peak RSS (bench figure 4). */
	mallopt(M_ARENA_MAX, 2);
#endif
	cfg->nullpath_ok = 0;
	/*
	 * The kernel's FUSE_INTERRUPT reaches fuse_interrupted() only with intr
	 * on libfuse 3.17: without it the library sets conn->no_interrupt once
	 * this returns, answers the first FUSE_INTERRUPT with ENOSYS, and the
	 * kernel sends no more, so Ctrl-C waits for the call (3.14 kept the flag
	 * either way; intr is no command-line option since 3.0). With intr,
	 * libfuse also sends intr_signal to the interrupted call's thread (main
	 * installs a no-op handler): every sleep and poll of ours goes round
	 * again on EINTR and op_check sees the flag within OP_SLICE.
	 */
	cfg->intr = 1;
	cfg->intr_signal = FS_INTR_SIGNAL;
	fs->inval = inval_start(fuse_get_context()->fuse);
	if (fs->inval) {
		fs->tree.changed_ctx = fs;
		fs->tree.changed = on_changed;
	}
	if (tree_start_threads(&fs->tree, content_mounts_changed) != 0)
		log_error("cannot start the prefetch threads: prefetching is off");
	if (fs->metrics && metrics_start(fs->metrics) != 0)
		log_error("cannot start the metrics thread: %s is written at unmount only",
			  metrics_path(fs->metrics));
	if (fs->metrics && fs->metrics_refresh > 0 &&
	    !(fs->freshness = freshness_start(&fs->tree, fs->metrics_refresh)))
		log_error("cannot start the metrics_refresh thread: shares are read when used");
	return fs;
}

void fs_stop(struct ovhsnapfs *fs)
{
	op_shutdown();
	freshness_stop(fs->freshness); /* its load under way ends at op_shutdown */
	fs->freshness = NULL;
	cache_stop_loads(fs->tree.cache); /* they may queue prefetches: first */
	tree_stop_threads(&fs->tree);	  /* prefetch and refresh */
	fs->tree.changed = NULL;	  /* nobody is left to call it */
	inval_stop(fs->inval);
	fs->inval = NULL;
	metrics_free(fs->metrics); /* its last write, while the API client is alive */
	fs->metrics = NULL;
	fsread_free_open(); /* files a lazy unmount left open get no release */
}

/* libfuse calls it from fuse_destroy, after freeing its nodes: too late for threads. */
static void op_destroy(void *data)
{
	fs_stop(data); /* already done by main: a no-op then */
}

static const struct fuse_operations operations = {
	.init = op_init,
	.destroy = op_destroy,
	.opendir = fsread_opendir,
	.getattr = fsread_getattr,
	.readlink = fsread_readlink,
	.readdir = fsread_readdir,
	.open = fsread_open,
	.read = fsread_read,
	.release = fsread_release,
	.mkdir = fschange_mkdir,
	.rmdir = fschange_rmdir,
	.rename = fschange_rename,
	.mknod = op_mknod,
	.create = op_create,
	.unlink = op_unlink,
	.symlink = op_symlink,
	.link = op_link,
	.chmod = op_chmod,
	.chown = op_chown,
	.truncate = op_truncate,
	.write = op_write,
	.utimens = op_utimens,
	.statfs = op_statfs,
	.getxattr = fsxattr_getxattr,
	.listxattr = fsxattr_listxattr,
	.setxattr = fsxattr_setxattr,
	.removexattr = fsxattr_removexattr,
};

const struct fuse_operations *fs_operations(void)
{
	return &operations;
}
