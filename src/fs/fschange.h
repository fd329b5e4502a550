/*
 * fschange: mkdir, rmdir and rename: the FUSE operations that create, delete and
 * rename snapshots (snapops.h), refused on anything else or with -o ro.
 */
#ifndef OVHSNAPFS_FSCHANGE_H
#define OVHSNAPFS_FSCHANGE_H

#include "fs.h"

int fschange_mkdir(const char *path, mode_t mode);
int fschange_rmdir(const char *path);
int fschange_rename(const char *from, const char *to, unsigned int flags);

#endif
