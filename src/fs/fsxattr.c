/* fsxattr: the extended attribute operations (xattr.h): read from the cache, two of them set. */
#include "fsxattr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "xattr.h"

int fsxattr_getxattr(const char *path, const char *name, char *buf, size_t size)
{
	struct ovhsnapfs *fs;
	struct node n;
	char *value;
	size_t len;
	struct op op;
	int rc = fs_resolve(path, FS_READ, &fs, &op, &n);
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

int fsxattr_listxattr(const char *path, char *buf, size_t size)
{
	struct ovhsnapfs *fs;
	struct node n;
	struct op op;
	int rc = fs_resolve(path, FS_READ, &fs, &op, &n);
	if (rc)
		return rc;
	rc = xattr_list(&n, buf, size);
	tree_node_release(&n);
	return rc;
}

int fsxattr_setxattr(const char *path, const char *name, const char *value, size_t size, int flags)
{
	struct ovhsnapfs *fs;
	struct node n;
	enum xattr_change change;
	char *text = NULL;
	struct op op;
	int rc = fs_resolve(path, FS_CHANGE, &fs, &op, &n);
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

int fsxattr_removexattr(const char *path, const char *name)
{
	struct ovhsnapfs *fs;
	struct node n;
	struct op op;
	int rc = fs_resolve(path, FS_CHANGE, &fs, &op, &n);
	if (rc)
		return rc;
	rc = fs->read_only ? -EROFS : xattr_check_remove(&n, name);
	if (rc == 0)
		rc = snapops_set_description(&fs->tree, &op, &n, NULL);
	tree_node_release(&n);
	return rc;
}
