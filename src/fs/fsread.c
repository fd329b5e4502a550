/* fsread: the FUSE operations that read: stat, list, open, read, readlink. */
#include "fsread.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "content.h"
#include "names.h"
#include "op.h"
#include "treewalk.h"
#include "xattr.h"

/* Bytes of one open info.json, fixed at open so every read agrees. */
struct open_file {
	struct open_file *prev, *next; /* open_files */
	size_t len;
	char data[];
};

/*
 * The files open now (info.json, the status file): release frees each, and
 * fsread_free_open frees those a lazy unmount left open (the session ends
 * while a file stays open, and no release comes). One session a process.
 */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct open_file *open_files;

static void open_add(struct fuse_file_info *fi, struct open_file *f)
{
	pthread_mutex_lock(&open_lock);
	f->prev = NULL;
	f->next = open_files;
	if (open_files)
		open_files->prev = f;
	open_files = f;
	pthread_mutex_unlock(&open_lock);
	fi->fh = (uint64_t)(uintptr_t)f;
	fi->direct_io = 1; /* sizes may change between opens */
}

static void open_remove(struct open_file *f)
{
	pthread_mutex_lock(&open_lock);
	if (f->prev)
		f->prev->next = f->next;
	else
		open_files = f->next;
	if (f->next)
		f->next->prev = f->prev;
	pthread_mutex_unlock(&open_lock);
	free(f);
}

void fsread_free_open(void)
{
	pthread_mutex_lock(&open_lock);
	while (open_files) {
		struct open_file *f = open_files;
		open_files = f->next;
		free(f);
	}
	pthread_mutex_unlock(&open_lock);
}

static const struct efs_object *info_object(const struct node *n)
{
	return xattr_object(n, n->info_of);
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

int fsread_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct fs_req r;
	int rc = fs_begin(path, FS_READ, &r);
	if (rc)
		return rc;
	rc = fill_stat(r.fs, &r.op, &r.n, st);
	if (rc == 0 && r.n.kind == NODE_STATUS && fi && fi->fh) { /* fstat: the text it reads */
		size_t len = ((const struct open_file *)(uintptr_t)fi->fh)->len;
		st->st_size = (off_t)len;
		st->st_blocks = (blkcnt_t)((len + 511) / 512);
	}
	return fs_end(&r, rc);
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

int fsread_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		   struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	struct fs_req r;
	(void)off, (void)fi, (void)flags;
	int rc = fs_begin(path, FS_READ, &r);
	if (rc)
		return rc;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	switch (r.n.kind) {
	case NODE_ROOT:
	case NODE_SNAPDIR:
		rc = list_entries(r.fs, &r.op, &r.n, buf, filler);
		break;
	case NODE_SERVICE:
		add_info(r.fs, &r.op, &r.n, buf, filler);
		rc = list_entries(r.fs, &r.op, &r.n, buf, filler);
		break;
	case NODE_SHARE:
		add_info(r.fs, &r.op, &r.n, buf, filler);
		filler(buf, SNAPSHOT_DIR, NULL, 0, 0);
		add_content(r.fs, &r.op, &r.n, buf, filler);
		break;
	case NODE_SNAPSHOT:
		add_info(r.fs, &r.op, &r.n, buf, filler);
		add_content(r.fs, &r.op, &r.n, buf, filler);
		break;
	case NODE_POLICIES:
		rc = list_policies(r.fs, &r.op, &r.n, buf, filler);
		break;
	default:
		rc = -ENOTDIR;
	}
	if (rc == 0)
		treewalk_listed(&r.fs->tree, &r.n); /* a walk starts with a listing */
	return fs_end(&r, rc);
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
	open_add(fi, f);
	forget_status_attrs(fs);
	return 0;
}

int fsread_readlink(const char *path, char *buf, size_t size)
{
	struct fs_req r;
	char target[PATH_MAX];
	int rc = fs_begin(path, FS_READ, &r);
	if (rc)
		return rc;
	rc = r.n.kind == NODE_CONTENT
		     ? content_target(&r.fs->tree, &r.op, &r.n, target, sizeof(target))
		     : -EINVAL;
	if (rc == 0 && size > 0)
		snprintf(buf, size, "%s", target); /* truncated as readlink(2) does */
	return fs_end(&r, rc);
}

int fsread_open(const char *path, struct fuse_file_info *fi)
{
	struct fs_req r;
	int rc = fs_begin(path, FS_READ, &r);
	if (rc)
		return rc;
	if (r.n.kind != NODE_INFO && r.n.kind != NODE_STATUS) {
		rc = -EISDIR;
	} else if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		rc = r.fs->read_only ? -EROFS : -EACCES;
	} else if (r.n.kind == NODE_STATUS) {
		rc = open_status(r.fs, fi);
	} else {
		const struct efs_object *o = info_object(&r.n);
		struct open_file *f = malloc(sizeof(*f) + o->json_len);
		if (!f) {
			rc = -ENOMEM;
		} else {
			f->len = o->json_len;
			memcpy(f->data, o->json, o->json_len);
			open_add(fi, f);
		}
	}
	return fs_end(&r, rc);
}

int fsread_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
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

int fsread_release(const char *path, struct fuse_file_info *fi)
{
	(void)path;
	open_remove((struct open_file *)(uintptr_t)fi->fh);
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

int fsread_opendir(const char *path, struct fuse_file_info *fi)
{
	struct fs_req r;
	int rc = fs_begin(path, FS_READ, &r);
	if (rc)
		return rc;
	if (r.n.kind == NODE_INFO || r.n.kind == NODE_STATUS)
		rc = -ENOTDIR;
	else if (r.n.kind == NODE_SNAPDIR && cache_ttl(r.fs->tree.cache) > 0)
		rc = allow_kernel_cache(r.fs, &r.op, &r.n, fi);
	return fs_end(&r, rc);
}
