/*
 * fsxattr: getxattr, listxattr, setxattr and removexattr: the user.ovh.* names
 * (xattr.h) and a share's settings (settings.h), a description or a hold
 * (snapops.h) set or removed.
 */
#ifndef OVHSNAPFS_FSXATTR_H
#define OVHSNAPFS_FSXATTR_H

#include "fs.h"

int fsxattr_getxattr(const char *path, const char *name, char *buf, size_t size);
int fsxattr_listxattr(const char *path, char *buf, size_t size);
int fsxattr_setxattr(const char *path, const char *name, const char *value, size_t size, int flags);
int fsxattr_removexattr(const char *path, const char *name);

#endif
