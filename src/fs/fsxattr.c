/* fsxattr: the extended attribute operations (xattr.h): read from the cache, two of them set. */
#include "fsxattr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "op.h"
#include "xattr.h"

int fsxattr_getxattr(const char *path, const char *name, char *buf, size_t size)
{
	struct fs_req r;
	char *value;
	size_t len;
	int rc = fs_begin(path, FS_READ, &r);
	if (rc)
		return rc;
	if (settings_owns(name))
		rc = settings_get(&r.fs->tree, &r.op, &r.n, name, &value, &len);
	else
		rc = xattr_get(&r.n, name, &value, &len);
	tree_node_release(&r.n);
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
	struct fs_req r;
	int rc = fs_begin(path, FS_READ, &r);
	if (rc)
		return rc;
	return fs_end(&r, xattr_list(&r.n, buf, size));
}

int fsxattr_setxattr(const char *path, const char *name, const char *value, size_t size, int flags)
{
	struct fs_req r;
	enum xattr_change change;
	char *text = NULL;
	int rc = fs_begin(path, FS_CHANGE, &r);
	if (rc)
		return rc;
	if (settings_owns(name) && r.n.kind == NODE_SHARE)
		return fs_end(&r, settings_set(&r.fs->tree, &r.fs->settings, &r.op, &r.n, name,
					       value, size, fuse_get_context()->uid));
	rc = xattr_parse_set(&r.n, name, value, size, flags, &change, &text);
	if (rc == 0 && change == XATTR_SET_DESCRIPTION)
		rc = snapops_set_description(&r.fs->tree, &r.op, &r.n, text);
	else if (rc == 0)
		rc = snapops_hold(&r.fs->tree, &r.fs->change, &r.op, &r.n);
	free(text);
	return fs_end(&r, rc);
}

int fsxattr_removexattr(const char *path, const char *name)
{
	struct fs_req r;
	int rc = fs_begin(path, FS_CHANGE, &r);
	if (rc)
		return rc;
	rc = xattr_check_remove(&r.n, name);
	if (rc == 0)
		rc = snapops_set_description(&r.fs->tree, &r.op, &r.n, NULL);
	return fs_end(&r, rc);
}
