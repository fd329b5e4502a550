/* fs: fuse_operations over the EFS tree. */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "content.h"
#include "freshness.h"
#include "log.h"
#include "names.h"
#include "op.h"
#include "treewalk.h"
#include "xattr.h"

/* Bytes of one open info.json, fixed at open so every read agrees. */
struct open_file {
	size_t len;
	char data[];
};

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

/* The op of a call that only reads: bounded by timeout=. */
static void read_op(const struct ovhsnapfs *fs, struct op *op)
{
	op_start(op, fs->timeout, call_interrupted, fs->session);
}

/* The op of mkdir, rmdir, rename: timeout= for the request, wait= for the API to finish. */
static void change_op(const struct ovhsnapfs *fs, struct op *op)
{
	op_start(op, fs->timeout + fs->change.wait, call_interrupted, fs->session);
}

/* The refusal for a change this filesystem never makes. */
static int refuse(const struct ovhsnapfs *fs)
{
	return fs->read_only ? -EROFS : -EPERM;
}

static const struct efs_object *info_object(const struct node *n)
{
	switch (n->info_of) {
	case NODE_SERVICE:
		return &n->service->obj;
	case NODE_SHARE:
		return &n->share->obj;
	case NODE_POLICIES:
		return &n->policy->obj;
	default:
		return &n->snapshot->obj;
	}
}

static void fill_dir(struct ovhsnapfs *fs, const struct node *n, struct stat *st)
{
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
	switch (n->kind) {
	case NODE_ROOT:
		st->st_mtime = fs->tree.started;
		st->st_nlink = 1; /* stat / must not cost an API call */
		break;
	case NODE_SERVICE:
		st->st_mtime = n->service->obj.created;
		st->st_nlink = 1; /* share count unknown without a listing */
		break;
	case NODE_SHARE:
		st->st_mtime = n->share->obj.created;
		st->st_nlink = 3;
		break;
	case NODE_SNAPSHOT:
		st->st_mtime = n->snapshot->obj.created;
		break;
	default:
		break;
	}
	if (!st->st_mtime)
		st->st_mtime = fs->tree.started;
}

/*
 * The status file's size moves with its counters: once the kernel has an
 * answer, make it forget it, so the next stat asks again.
 */
static void forget_status_attrs(struct ovhsnapfs *fs)
{
	inval_path(fs->inval, "/" STATUS_FILE);
}

static void fill_status(struct ovhsnapfs *fs, struct stat *st)
{
	size_t len = 0;
	free(status_file(fs->status, &len));
	st->st_mode = S_IFREG | 0444;
	st->st_nlink = 1;
	st->st_size = (off_t)len;
	st->st_blocks = (blkcnt_t)((len + 511) / 512);
	st->st_mtime = time(NULL);
	forget_status_attrs(fs);
}

/* A content link: lrwxrwxrwx, its size the target's length. */
static int fill_link(struct ovhsnapfs *fs, const struct op *op, const struct node *n,
		     struct stat *st)
{
	char target[PATH_MAX];
	int rc = content_target(&fs->tree, op, n, target, sizeof(target));
	if (rc)
		return rc;
	const struct efs_object *o = n->info_of == NODE_SHARE ? &n->share->obj : &n->snapshot->obj;
	st->st_mode = S_IFLNK | 0777;
	st->st_nlink = 1;
	st->st_size = (off_t)strlen(target);
	st->st_mtime = st->st_ctime = st->st_atime = o->created ? o->created : fs->tree.started;
	return 0;
}

/*
 * What may be changed (.snapshots, a snapshot) is 0777 less the umask (022
 * by default: the owner alone), so that with default_permissions, on by
 * itself with allow_other, the kernel lets only the users these modes allow
 * change anything. The rest is read-only to all.
 */
static mode_t changeable_mode(const struct ovhsnapfs *fs)
{
	return fs->read_only ? 0555 : 0777;
}

static int fill_stat(struct ovhsnapfs *fs, const struct op *op, const struct node *n,
		     struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_uid = fs->uid;
	st->st_gid = fs->gid;
	st->st_blksize = 4096;
	if (n->kind == NODE_CONTENT)
		return fill_link(fs, op, n, st);
	if (n->kind == NODE_INFO) {
		const struct efs_object *o = info_object(n);
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)o->json_len;
		st->st_blocks = (blkcnt_t)((o->json_len + 511) / 512);
		st->st_mtime = o->created ? o->created : fs->tree.started;
	} else if (n->kind == NODE_STATUS) {
		fill_status(fs, st);
	} else if (n->kind == NODE_SNAPDIR) {
		struct listing *l;
		int rc = tree_children(&fs->tree, op, n, &l);
		if (rc)
			return rc;
		st->st_mode = S_IFDIR | changeable_mode(fs);
		st->st_nlink = 2 + l->n;
		st->st_mtime = l->mtime;
		listing_unref(l);
	} else {
		fill_dir(fs, n, st);
		/* rmdir, mv and setfattr change a snapshot; setfattr a share's settings */
		if (n->kind == NODE_SNAPSHOT || n->kind == NODE_SHARE)
			st->st_mode = S_IFDIR | changeable_mode(fs);
	}
	st->st_mode &= ~fs->umask;
	st->st_ctime = st->st_atime = st->st_mtime;
	return 0;
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node n;
	struct op op;
	read_op(fs, &op);
	int rc = tree_resolve(&fs->tree, &op, path, &n);
	if (rc)
		return rc;
	rc = fill_stat(fs, &op, &n, st);
	if (rc == 0 && n.kind == NODE_STATUS && fi && fi->fh) { /* fstat: the text it reads */
		size_t len = ((const struct open_file *)(uintptr_t)fi->fh)->len;
		st->st_size = (off_t)len;
		st->st_blocks = (blkcnt_t)((len + 511) / 512);
	}
	tree_node_release(&n);
	return rc;
}

/* A child node of dir for entry e, for readdir's attributes. */
static struct node child_node(const struct node *dir, const struct entry *e)
{
	struct node c = *dir;
	memset(c.held, 0, sizeof(c.held));
	if (dir->kind == NODE_ROOT) {
		c.kind = NODE_SERVICE;
		c.service = e;
	} else if (dir->kind == NODE_SERVICE) {
		c.kind = NODE_SHARE;
		c.share = e;
	} else {
		c.kind = NODE_SNAPSHOT;
		c.snapshot = e;
	}
	return c;
}

static void add_info(struct ovhsnapfs *fs, const struct op *op, const struct node *dir, void *buf,
		     fuse_fill_dir_t filler)
{
	struct node info = *dir;
	struct stat st;
	memset(info.held, 0, sizeof(info.held));
	info.info_of = dir->kind;
	info.kind = NODE_INFO;
	fill_stat(fs, op, &info, &st);
	filler(buf, INFO_FILE, &st, 0, FUSE_FILL_DIR_PLUS);
}

/* content, when the share or snapshot has one now. */
static void add_content(struct ovhsnapfs *fs, const struct op *op, const struct node *dir,
			void *buf, fuse_fill_dir_t filler)
{
	struct node link = *dir;
	struct stat st;
	memset(link.held, 0, sizeof(link.held));
	link.info_of = dir->kind;
	link.kind = NODE_CONTENT;
	if (fill_stat(fs, op, &link, &st) == 0)
		filler(buf, CONTENT_LINK, &st, 0, FUSE_FILL_DIR_PLUS);
}

static int list_entries(struct ovhsnapfs *fs, const struct op *op, const struct node *dir,
			void *buf, fuse_fill_dir_t filler)
{
	struct listing *l;
	struct stat st;
	int rc = tree_children(&fs->tree, op, dir, &l);
	if (rc)
		return rc;
	for (size_t i = 0; i < l->n; i++) {
		struct node c = child_node(dir, &l->entries[i]);
		fill_stat(fs, op, &c, &st);
		if (filler(buf, l->entries[i].name, &st, 0, FUSE_FILL_DIR_PLUS))
			break;
	}
	listing_unref(l);
	return 0;
}

/* SERVICE/.policies: NAME.json for each of the service's policies. */
static int list_policies(struct ovhsnapfs *fs, const struct op *op, const struct node *dir,
			 void *buf, fuse_fill_dir_t filler)
{
	struct listing *l;
	struct stat st;
	char name[NAME_MAX_BYTES + sizeof(POLICY_EXT)];
	int rc = tree_children(&fs->tree, op, dir, &l);
	if (rc)
		return rc;
	for (size_t i = 0; i < l->n; i++) {
		struct node c = *dir;
		memset(c.held, 0, sizeof(c.held));
		c.kind = NODE_INFO;
		c.info_of = NODE_POLICIES;
		c.policy = &l->entries[i];
		fill_stat(fs, op, &c, &st);
		snprintf(name, sizeof(name), "%s" POLICY_EXT, l->entries[i].name);
		if (filler(buf, name, &st, 0, FUSE_FILL_DIR_PLUS))
			break;
	}
	listing_unref(l);
	return 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node n;
	struct op op;
	(void)off, (void)fi, (void)flags;
	read_op(fs, &op);
	int rc = tree_resolve(&fs->tree, &op, path, &n);
	if (rc)
		return rc;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	switch (n.kind) {
	case NODE_ROOT:
	case NODE_SNAPDIR:
		rc = list_entries(fs, &op, &n, buf, filler);
		break;
	case NODE_SERVICE:
		add_info(fs, &op, &n, buf, filler);
		rc = list_entries(fs, &op, &n, buf, filler);
		break;
	case NODE_SHARE:
		add_info(fs, &op, &n, buf, filler);
		filler(buf, SNAPSHOT_DIR, NULL, 0, 0);
		add_content(fs, &op, &n, buf, filler);
		break;
	case NODE_SNAPSHOT:
		add_info(fs, &op, &n, buf, filler);
		add_content(fs, &op, &n, buf, filler);
		break;
	case NODE_POLICIES:
		rc = list_policies(fs, &op, &n, buf, filler);
		break;
	default:
		rc = -ENOTDIR;
	}
	if (rc == 0)
		treewalk_listed(&fs->tree, &n); /* a walk starts with a listing */
	tree_node_release(&n);
	return rc;
}

/* The status file's text, rendered at open and fixed for it like info.json's. */
static int open_status(struct ovhsnapfs *fs, struct fuse_file_info *fi)
{
	size_t len;
	char *text = status_file(fs->status, &len);
	struct open_file *f = text ? malloc(sizeof(*f) + len) : NULL;
	if (!f) {
		free(text);
		return -ENOMEM;
	}
	f->len = len;
	memcpy(f->data, text, len);
	free(text);
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->direct_io = 1;
	forget_status_attrs(fs);
	return 0;
}

static int op_readlink(const char *path, char *buf, size_t size)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node n;
	struct op op;
	char target[PATH_MAX];
	read_op(fs, &op);
	int rc = tree_resolve(&fs->tree, &op, path, &n);
	if (rc)
		return rc;
	rc = n.kind == NODE_CONTENT ? content_target(&fs->tree, &op, &n, target, sizeof(target))
				    : -EINVAL;
	if (rc == 0 && size > 0)
		snprintf(buf, size, "%s", target); /* truncated as readlink(2) does */
	tree_node_release(&n);
	return rc;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node n;
	struct op op;
	read_op(fs, &op);
	int rc = tree_resolve(&fs->tree, &op, path, &n);
	if (rc)
		return rc;
	if (n.kind != NODE_INFO && n.kind != NODE_STATUS) {
		rc = -EISDIR;
	} else if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		rc = fs->read_only ? -EROFS : -EACCES;
	} else if (n.kind == NODE_STATUS) {
		rc = open_status(fs, fi);
	} else {
		const struct efs_object *o = info_object(&n);
		struct open_file *f = malloc(sizeof(*f) + o->json_len);
		if (!f) {
			rc = -ENOMEM;
		} else {
			f->len = o->json_len;
			memcpy(f->data, o->json, o->json_len);
			fi->fh = (uint64_t)(uintptr_t)f;
			fi->direct_io = 1; /* sizes may change between opens */
		}
	}
	tree_node_release(&n);
	return rc;
}

static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	const struct open_file *f = (const struct open_file *)(uintptr_t)fi->fh;
	(void)path;
	if (off < 0 || (size_t)off >= f->len)
		return 0;
	size_t n = f->len - (size_t)off;
	if (n > size)
		n = size;
	memcpy(buf, f->data + off, n);
	return (int)n;
}

static int op_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	free((void *)(uintptr_t)fi->fh);
	return 0;
}

/* Resolve the directory holding path's last component; *name points into path. */
static int resolve_parent(struct ovhsnapfs *fs, const struct op *op, const char *path,
			  struct node *parent, const char **name)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t len = slash ? (size_t)(slash - path) : 0;
	if (len >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, len);
	dir[len] = '\0';
	*name = slash ? slash + 1 : path;
	return tree_resolve(&fs->tree, op, dir, parent);
}

static int op_mkdir(const char *path, mode_t mode)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node parent;
	const char *name;
	struct op op;
	(void)mode;
	change_op(fs, &op);
	int rc = resolve_parent(fs, &op, path, &parent, &name);
	if (rc)
		return rc;
	if (fs->read_only)
		rc = -EROFS;
	else if (parent.kind != NODE_SNAPDIR)
		rc = -EPERM; /* snapshots are made only inside .snapshots */
	else
		rc = snapops_create(&fs->tree, &fs->change, &op, &parent, name);
	tree_node_release(&parent);
	return rc;
}

static int op_rmdir(const char *path)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node n;
	struct op op;
	change_op(fs, &op);
	int rc = tree_resolve(&fs->tree, &op, path, &n);
	if (rc)
		return rc;
	if (fs->read_only)
		rc = -EROFS;
	else if (n.kind == NODE_INFO || n.kind == NODE_STATUS)
		rc = -ENOTDIR;
	else if (n.kind != NODE_SNAPSHOT)
		rc = -EPERM;
	else
		rc = snapops_delete(&fs->tree, &fs->change, &op, &n);
	tree_node_release(&n);
	return rc;
}

static int op_rename(const char *from, const char *to, unsigned int flags)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node src, dst_dir;
	const char *name;
	struct op op;
	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	change_op(fs, &op);
	int rc = tree_resolve(&fs->tree, &op, from, &src);
	if (rc)
		return rc;
	rc = resolve_parent(fs, &op, to, &dst_dir, &name);
	if (rc == 0) {
		if (fs->read_only)
			rc = -EROFS;
		else if (src.kind != NODE_SNAPSHOT)
			rc = -EPERM;
		else
			rc = snapops_rename(&fs->tree, &op, &src, &dst_dir, name);
		tree_node_release(&dst_dir);
	}
	tree_node_release(&src);
	return rc;
}

/* ---- extended attributes (xattr.h): read from the cache, two of them set ---- */

static int op_getxattr(const char *path, const char *name, char *buf, size_t size)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node n;
	char *value;
	size_t len;
	struct op op;
	read_op(fs, &op);
	int rc = tree_resolve(&fs->tree, &op, path, &n);
	if (rc)
		return rc;
	if (settings_owns(name))
		rc = settings_get(&fs->tree, &op, &n, name, &value, &len);
	else
		rc = xattr_get(&n, name, &value, &len);
	tree_node_release(&n);
	if (rc)
		return rc;
	if (size && len > size)
		rc = -ERANGE;
	else if (size)
		memcpy(buf, value, len);
	free(value);
	return rc ? rc : (int)len;
}

static int op_listxattr(const char *path, char *buf, size_t size)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node n;
	struct op op;
	read_op(fs, &op);
	int rc = tree_resolve(&fs->tree, &op, path, &n);
	if (rc)
		return rc;
	rc = xattr_list(&n, buf, size);
	tree_node_release(&n);
	return rc;
}

static int op_setxattr(const char *path, const char *name, const char *value, size_t size,
		       int flags)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node n;
	enum xattr_change change;
	char *text = NULL;
	struct op op;
	change_op(fs, &op);
	int rc = tree_resolve(&fs->tree, &op, path, &n);
	if (rc)
		return rc;
	if (fs->read_only) {
		rc = -EROFS;
	} else if (settings_owns(name) && n.kind == NODE_SHARE) {
		rc = settings_set(&fs->tree, &fs->settings, &op, &n, name, value, size,
				  fuse_get_context()->uid);
		tree_node_release(&n);
		return rc;
	} else {
		rc = xattr_parse_set(&n, name, value, size, flags, &change, &text);
	}
	if (rc == 0 && change == XATTR_SET_DESCRIPTION)
		rc = snapops_set_description(&fs->tree, &op, &n, text);
	else if (rc == 0)
		rc = snapops_hold(&fs->tree, &fs->change, &op, &n);
	free(text);
	tree_node_release(&n);
	return rc;
}

static int op_removexattr(const char *path, const char *name)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node n;
	struct op op;
	change_op(fs, &op);
	int rc = tree_resolve(&fs->tree, &op, path, &n);
	if (rc)
		return rc;
	rc = fs->read_only ? -EROFS : xattr_check_remove(&n, name);
	if (rc == 0)
		rc = snapops_set_description(&fs->tree, &op, &n, NULL);
	tree_node_release(&n);
	return rc;
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

/*
 * The kernel may keep .snapshots listings: every opendir reaches us, and
 * the kernel's copy is kept only while it is the one of our current listing.
 */
static int allow_kernel_cache(struct ovhsnapfs *fs, const struct op *op, const struct node *n,
			      struct fuse_file_info *fi)
{
	struct listing *l;
	int rc = tree_children(&fs->tree, op, n, &l);
	if (rc)
		return rc;
	fi->cache_readdir = 1;
	fi->keep_cache = __atomic_exchange_n(&l->kernel_has, 1, __ATOMIC_ACQ_REL);
	listing_unref(l);
	return 0;
}

static int op_opendir(const char *path, struct fuse_file_info *fi)
{
	struct ovhsnapfs *fs = fs_ctx();
	struct node n;
	struct op op;
	read_op(fs, &op);
	int rc = tree_resolve(&fs->tree, &op, path, &n);
	if (rc)
		return rc;
	if (n.kind == NODE_INFO || n.kind == NODE_STATUS)
		rc = -ENOTDIR;
	else if (n.kind == NODE_SNAPDIR && cache_ttl(fs->tree.cache) > 0)
		rc = allow_kernel_cache(fs, &op, &n, fi);
	tree_node_release(&n);
	return rc;
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
}

/* libfuse calls it from fuse_destroy, after freeing its nodes: too late for threads. */
static void op_destroy(void *data)
{
	fs_stop(data); /* already done by main: a no-op then */
}

static const struct fuse_operations operations = {
	.init = op_init,
	.destroy = op_destroy,
	.opendir = op_opendir,
	.getattr = op_getattr,
	.readlink = op_readlink,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
	.release = op_release,
	.mkdir = op_mkdir,
	.rmdir = op_rmdir,
	.rename = op_rename,
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
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.setxattr = op_setxattr,
	.removexattr = op_removexattr,
};

const struct fuse_operations *fs_operations(void)
{
	return &operations;
}
