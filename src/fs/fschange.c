/* fschange: mkdir, rmdir and rename, the FUSE operations that change snapshots. */
#include "fschange.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "op.h"

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

int fschange_mkdir(const char *path, mode_t mode)
{
	struct ovhsnapfs *fs;
	struct node parent;
	const char *name;
	struct op op;
	(void)mode;
	fs = fs_call(&op, FS_CHANGE);
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

int fschange_rmdir(const char *path)
{
	struct fs_req r;
	int rc = fs_begin(path, FS_CHANGE, &r);
	if (rc)
		return rc;
	if (r.n.kind == NODE_SNAPSHOT)
		rc = snapops_delete(&r.fs->tree, &r.fs->change, &r.op, &r.n);
	else
		rc = r.n.kind == NODE_INFO || r.n.kind == NODE_STATUS ? -ENOTDIR : -EPERM;
	return fs_end(&r, rc);
}

int fschange_rename(const char *from, const char *to, unsigned int flags)
{
	struct ovhsnapfs *fs;
	struct node src, dst_dir;
	const char *name;
	struct op op;
	if (flags & RENAME_EXCHANGE)
		return -EINVAL;
	int rc = fs_resolve(from, FS_CHANGE, &fs, &op, &src);
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
