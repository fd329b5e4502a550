/* safetree: walks and writes through directory descriptors only (see safetree.h). */
#include "safetree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __has_include
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HAVE_OPENAT2_H 1
#endif
#endif

#define NAME_MAX_LEN 255

static atomic_bool no_openat2, no_noreplace;

void safetree_set_openat2(bool use)
{
	atomic_store(&no_openat2, !use);
}

void safetree_set_noreplace(bool use)
{
	atomic_store(&no_noreplace, !use);
}

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

/* openat2, or -ENOSYS when this kernel (or this build) has none. */
static int try_openat2(int dirfd, const char *rel, int flags, mode_t mode)
{
#if defined(HAVE_OPENAT2_H) && defined(SYS_openat2)
	if (atomic_load(&no_openat2))
		return -ENOSYS;
	struct open_how how = {
		.flags = (unsigned long long)flags,
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	for (;;) {
		long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno == EAGAIN) /* a rename raced the lookup: try again */
			continue;
		if (errno == ENOSYS || errno == EPERM) /* EPERM: a seccomp filter */
			atomic_store(&no_openat2, true);
		return errno == EPERM ? -ENOSYS : neg_errno();
	}
#else
	(void)dirfd, (void)rel, (void)flags, (void)mode;
	return -ENOSYS;
#endif
}

/* One component at a time, none a link, none "..": what openat2 does above. */
static int walk_open(int dirfd, const char *rel, int flags, mode_t mode)
{
	int cur = -1; /* -1: dirfd itself */
	const char *p = rel;
	for (;;) {
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		const char *next = p + n;
		while (*next == '/')
			next++;
		bool last = *next == '\0';
		char name[NAME_MAX_LEN + 1];
		if (n > NAME_MAX_LEN) {
			if (cur >= 0)
				close(cur);
			return -ENAMETOOLONG;
		}
		memcpy(name, n ? p : ".", n ? n : 1);
		name[n ? n : 1] = '\0';
		if (strcmp(name, "..") == 0) {
			if (cur >= 0)
				close(cur);
			return -EXDEV;
		}
		int at = cur >= 0 ? cur : dirfd;
		int fd = last ? openat(at, name, flags, mode)
			      : openat(at, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = fd < 0 ? neg_errno() : 0;
		struct stat st;
		if (err == -ENOTDIR && fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			err = -ELOOP; /* as openat2 says of a link on the way */
		if (cur >= 0)
			close(cur);
		if (fd < 0)
			return err;
		if (last)
			return fd;
		cur = fd;
		p = next;
	}
}

int safetree_open(int dirfd, const char *rel, int flags, mode_t mode)
{
	if (rel[0] == '/')
		return -EXDEV;
	flags |= O_NOFOLLOW | O_CLOEXEC;
	const char *path = *rel ? rel : ".";
	int fd = try_openat2(dirfd, path, flags, mode);
	if (fd != -ENOSYS)
		return fd;
	return walk_open(dirfd, path, flags, mode);
}

int safetree_open_parent(int dirfd, const char *rel, const char **base)
{
	size_t len = strlen(rel);
	while (len > 0 && rel[len - 1] == '/')
		len--;
	size_t start = len;
	while (start > 0 && rel[start - 1] != '/')
		start--;
	if (len == start || len - start > NAME_MAX_LEN || rel[len] != '\0')
		return -EINVAL; /* no last component, or a trailing '/' */
	*base = rel + start;
	if (strcmp(*base, ".") == 0 || strcmp(*base, "..") == 0)
		return -EINVAL;
	char *dir = strndup(rel, start);
	if (!dir)
		return -ENOMEM;
	int fd = safetree_open(dirfd, dir, O_RDONLY | O_DIRECTORY, 0);
	free(dir);
	return fd;
}

int safetree_stat(int dirfd, const char *rel, struct stat *st)
{
	const char *base;
	int pfd = safetree_open_parent(dirfd, rel, &base);
	if (pfd < 0)
		return pfd;
	int rc = fstatat(pfd, base, st, AT_SYMLINK_NOFOLLOW) < 0 ? neg_errno() : 0;
	close(pfd);
	return rc;
}

static bool is_empty(int dirfd)
{
	return safetree_each(dirfd, NULL, NULL) == 0;
}

int safetree_mkdir(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0700) < 0)
		return neg_errno();
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 07777) != 0700 ||
	    !is_empty(fd)) {
		close(fd);
		return -EPERM; /* someone put another directory under the name */
	}
	return fd;
}

int safetree_each(int dirfd, int (*fn)(int, const char *, void *), void *ctx)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int err = neg_errno();
		if (fd >= 0)
			close(fd);
		return err;
	}
	int rc = 0;
	errno = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d)); errno = 0) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		rc = fn ? fn(dirfd, e->d_name, ctx) : 1;
	}
	if (rc == 0 && errno)
		rc = -errno;
	closedir(d);
	return rc;
}

struct empty_ctx {
	dev_t dev;
	int first_err;
};

static int remove_in(int dirfd, const char *name, dev_t dev, const struct stat *expect);

static int remove_one(int dirfd, const char *name, void *arg)
{
	struct empty_ctx *c = arg;
	int rc = remove_in(dirfd, name, c->dev, NULL);
	if (rc < 0 && c->first_err == 0)
		c->first_err = rc;
	return 0;
}

static int empty_on(int dirfd, dev_t dev)
{
	struct empty_ctx c = {.dev = dev};
	/*
	 * Entries may come and go while the directory is read (someone renaming
	 * in it): read it again, errors or not, until it stays empty.
	 */
	for (int pass = 0; pass < 8; pass++) {
		c.first_err = 0;
		int rc = safetree_each(dirfd, remove_one, &c);
		if (rc < 0)
			return rc;
		if (is_empty(dirfd))
			return 0;
		if (c.first_err == -EXDEV)
			return c.first_err; /* another device: it stays */
	}
	return c.first_err < 0 ? c.first_err : -ENOTEMPTY;
}

static bool same(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static int remove_in(int dirfd, const char *name, dev_t dev, const struct stat *expect)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : neg_errno();
	if (expect && !same(&st, expect))
		return -ESTALE; /* not what the caller made */
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? neg_errno() : 0;
	if (st.st_dev != dev)
		return -EXDEV; /* a mount, or a directory moved in from elsewhere: left alone */
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : neg_errno();
	if (fstat(fd, &st) < 0 || (expect && !same(&st, expect))) {
		close(fd);
		return -ESTALE; /* swapped between the two looks: left alone */
	}
	int rc = empty_on(fd, dev);
	close(fd);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = neg_errno();
	return rc;
}

int safetree_empty(int dirfd)
{
	struct stat st;
	if (fstat(dirfd, &st) < 0)
		return neg_errno();
	return empty_on(dirfd, st.st_dev);
}

int safetree_remove(int dirfd, const char *name, const struct stat *expect)
{
	struct stat st;
	if (fstat(dirfd, &st) < 0)
		return neg_errno();
	return remove_in(dirfd, name, expect ? expect->st_dev : st.st_dev, expect);
}

bool safetree_is(int dirfd, const char *name, const struct stat *st)
{
	struct stat now;
	return fstatat(dirfd, name, &now, AT_SYMLINK_NOFOLLOW) == 0 && same(&now, st);
}

static bool unsupported(int err)
{
	return err == EINVAL || err == ENOSYS || err == ENOTSUP || err == EOPNOTSUPP;
}

/*
 * A directory without RENAME_NOREPLACE: rename may replace an empty
 * directory, so one is made first, ours (0700, checked), and only it is
 * replaced. Whoever removes it and makes another in between replaces their
 * own empty directory: they could as well have removed ours afterwards.
 */
static int place_dir(int fromfd, const char *from, int tofd, const char *to)
{
	int fd = safetree_mkdir(tofd, to);
	if (fd == -EPERM)
		return -EEXIST;
	if (fd < 0)
		return fd;
	struct stat mine;
	int rc = fstat(fd, &mine) < 0 ? neg_errno() : 0;
	close(fd);
	if (rc == 0 && !safetree_is(tofd, to, &mine))
		return -EEXIST;
	if (rc == 0 && renameat(fromfd, from, tofd, to) < 0)
		rc = neg_errno();
	if (rc < 0 && safetree_is(tofd, to, &mine))
		unlinkat(tofd, to, AT_REMOVEDIR);
	return rc;
}

int safetree_place(int fromfd, const char *from, int tofd, const char *to)
{
	if (!atomic_load(&no_noreplace)) {
		if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
			return 0;
		if (!unsupported(errno))
			return neg_errno();
	}
	struct stat st;
	if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return neg_errno();
	if (S_ISDIR(st.st_mode))
		return place_dir(fromfd, from, tofd, to);
	if (linkat(fromfd, from, tofd, to, 0) < 0) /* link never replaces */
		return neg_errno();
	unlinkat(fromfd, from, 0);
	return 0;
}

int safetree_exchange(int dirfd, const char *a, const char *b)
{
	if (renameat2(dirfd, a, dirfd, b, RENAME_EXCHANGE) == 0)
		return 0;
	return unsupported(errno) ? -EINVAL : neg_errno();
}
