/*
 * fsread: the FUSE operations that read: getattr (the modes and sizes shown), readdir,
 * opendir (the kernel's cache of .snapshots listings), readlink, and open, read
 * and release of info.json and the status file, fixed at open.
 */
#ifndef OVHSNAPFS_FSREAD_H
#define OVHSNAPFS_FSREAD_H

#include "fs.h"

int fsread_opendir(const char *path, struct fuse_file_info *fi);
int fsread_getattr(const char *path, struct stat *st, struct fuse_file_info *fi);
int fsread_readlink(const char *path, char *buf, size_t size);
int fsread_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		   struct fuse_file_info *fi, enum fuse_readdir_flags flags);
int fsread_open(const char *path, struct fuse_file_info *fi);
int fsread_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi);
int fsread_release(const char *path, struct fuse_file_info *fi);

/* Free the files a lazy unmount left open (no release comes for them): after the loop. */
void fsread_free_open(void);

#endif
