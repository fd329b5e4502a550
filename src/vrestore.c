/* vrestore: a version copied back beside or over the live path (see vrestore.h). */
#include "vrestore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "vcore.h"

#define PROG	  "ovhsnapfs-versions"
#define XATTR_MAX (64 * 1024)

static int fail(const char *path, int err)
{
	fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(err));
	return -err;
}

/* Extended attributes of sfd onto dfd; one the destination refuses is left out. */
static int copy_xattrs(int sfd, int dfd, const char *src)
{
	char names[XATTR_MAX], *value = malloc(XATTR_MAX);
	ssize_t len = flistxattr(sfd, names, sizeof(names));
	if (!value)
		return -ENOMEM;
	if (len < 0 && errno != ENOTSUP) {
		free(value);
		return fail(src, errno);
	}
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(names + off) + 1) {
		ssize_t n = fgetxattr(sfd, names + off, value, XATTR_MAX);
		if (n < 0) {
			int err = errno;
			free(value);
			return fail(src, err);
		}
		if (fsetxattr(dfd, names + off, value, (size_t)n, 0) < 0 && errno != ENOTSUP &&
		    errno != EPERM && errno != EACCES) {
			int err = errno;
			free(value);
			return fail(src, err);
		}
	}
	free(value);
	return 0;
}

/* Owner (where permitted), mode and times of st onto dfd. */
static int copy_meta(int dfd, const struct stat *st, const char *dst)
{
	if (fchown(dfd, st->st_uid, st->st_gid) < 0 && errno != EPERM && errno != EINVAL)
		return fail(dst, errno);
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (fchmod(dfd, st->st_mode & 07777) < 0 || futimens(dfd, times) < 0)
		return fail(dst, errno);
	return 0;
}

static int copy_data(int sfd, int dfd, const char *src)
{
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(sfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(src, errno);
		if (n == 0)
			return 0;
		for (ssize_t w = 0; w < n;) {
			ssize_t m = write(dfd, buf + w, (size_t)(n - w));
			if (m < 0 && errno != EINTR)
				return fail("write", errno);
			w += m > 0 ? m : 0;
		}
	}
}

/* src (a regular file) into the open dfd, then its metadata; fsync'd. */
static int copy_file_fd(const char *src, int dfd, const char *dst)
{
	int sfd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (sfd < 0)
		return fail(src, errno);
	int rc = fstat(sfd, &st) < 0 ? fail(src, errno) : copy_data(sfd, dfd, src);
	if (rc == 0)
		rc = copy_xattrs(sfd, dfd, src);
	if (rc == 0)
		rc = copy_meta(dfd, &st, dst);
	if (rc == 0 && fsync(dfd) < 0)
		rc = fail(dst, errno);
	close(sfd);
	return rc;
}

static int copy_tree(const char *src, const char *dst);

static int copy_entries(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	int rc = 0;
	if (!d)
		return fail(src, errno);
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *s = NULL, *t = NULL;
		if (asprintf(&s, "%s/%s", src, e->d_name) < 0 ||
		    asprintf(&t, "%s/%s", dst, e->d_name) < 0)
			rc = -ENOMEM;
		else
			rc = copy_tree(s, t);
		free(s);
		free(t);
	}
	closedir(d);
	return rc;
}

static int copy_dir(const char *src, const char *dst, const struct stat *st)
{
	if (mkdir(dst, 0700) < 0)
		return fail(dst, errno);
	int rc = copy_entries(src, dst);
	int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int dfd = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rc == 0 && (sfd < 0 || dfd < 0))
		rc = fail(sfd < 0 ? src : dst, errno);
	if (rc == 0)
		rc = copy_xattrs(sfd, dfd, src);
	if (rc == 0)
		rc = copy_meta(dfd, st, dst);
	if (rc == 0 && fsync(dfd) < 0)
		rc = fail(dst, errno);
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	return rc;
}

static int copy_link(const char *src, const char *dst, const struct stat *st)
{
	char target[PATH_MAX];
	ssize_t n = readlink(src, target, sizeof(target) - 1);
	if (n < 0)
		return fail(src, errno);
	target[n] = '\0';
	if (symlink(target, dst) < 0)
		return fail(dst, errno);
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (lchown(dst, st->st_uid, st->st_gid) < 0 && errno != EPERM)
		return fail(dst, errno);
	if (utimensat(AT_FDCWD, dst, times, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(dst, errno);
	return 0;
}

/* src, of any type, to the new name dst, as cp -a would. */
static int copy_tree(const char *src, const char *dst)
{
	struct stat st;
	if (lstat(src, &st) < 0)
		return fail(src, errno);
	if (S_ISDIR(st.st_mode))
		return copy_dir(src, dst, &st);
	if (S_ISLNK(st.st_mode))
		return copy_link(src, dst, &st);
	if (!S_ISREG(st.st_mode)) {
		if (mknod(dst, st.st_mode, st.st_rdev) < 0)
			return fail(dst, errno);
		return 0;
	}
	int dfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (dfd < 0)
		return fail(dst, errno);
	int rc = copy_file_fd(src, dfd, dst);
	if (close(dfd) < 0 && rc == 0)
		rc = fail(dst, errno);
	return rc;
}

/* ---- putting it in place ---- */

static int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		for (struct dirent *e; d && (e = readdir(d));) {
			char *p = NULL;
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
			    asprintf(&p, "%s/%s", path, e->d_name) >= 0)
				remove_tree(p);
			free(p);
		}
		if (d)
			closedir(d);
		return rmdir(path);
	}
	return unlink(path);
}

static void sync_dir_of(const char *path)
{
	char *copy = strdup(path);
	int fd = copy ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* A fresh temporary name in the directory of live: ".BASE.ovhsnapfs-versions-XXXXXX". */
static char *temp_name(const char *live)
{
	char *copy = strdup(live), *dir = NULL, *out = NULL;
	if (!copy)
		return NULL;
	const char *base = strrchr(live, '/') + 1;
	dir = dirname(copy);
	for (int i = 0; i < 100 && !out; i++) {
		struct stat st;
		if (asprintf(&out, "%s/.%s.ovhsnapfs-versions-%06ld", strcmp(dir, "/") ? dir : "",
			     base, random() % 1000000) < 0)
			out = NULL;
		else if (lstat(out, &st) == 0 || errno != ENOENT) {
			free(out);
			out = NULL;
		}
	}
	free(copy);
	return out;
}

/* Move from to the new name to, never replacing anything: 0, -EEXIST or -errno. */
static int place(const char *from, const char *to, bool is_dir)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
		return -errno;
	struct stat st;
	if (!is_dir) { /* a file system without RENAME_NOREPLACE: link refuses to replace */
		if (link(from, to) < 0)
			return -errno;
		unlink(from);
		return 0;
	}
	if (lstat(to, &st) == 0)
		return -EEXIST;
	return rename(from, to) < 0 ? -errno : 0;
}

/*
 * Keep the file live under kept: a hard link (the old file stays as it
 * is), or where the file system refuses one, a synced copy put in place.
 */
static int keep_file(const char *live, const char *kept)
{
	if (link(live, kept) == 0)
		return 0;
	if (errno == EEXIST)
		return -EEXIST;
	char *tmp = temp_name(live);
	int rc = tmp ? copy_tree(live, tmp) : -ENOMEM;
	if (rc == 0)
		rc = place(tmp, kept, false);
	if (rc < 0 && tmp)
		remove_tree(tmp);
	free(tmp);
	return rc;
}

/* Keep live (of type mode) under a new name starting with its own: the name in kept. */
static int keep_current(const char *live, mode_t mode, char *kept, size_t len)
{
	time_t now = time(NULL);
	for (unsigned attempt = 1; attempt < 1000; attempt++) {
		int rc = vcore_kept_name(live, now, attempt, kept, len);
		if (rc < 0)
			return fail(live, -rc);
		rc = S_ISDIR(mode) ? place(live, kept, true) : keep_file(live, kept);
		if (rc == 0) {
			sync_dir_of(kept);
			return 0;
		}
		if (rc != -EEXIST)
			return fail(kept, -rc);
	}
	return fail(live, EEXIST);
}

static int overwrite(const char *tmp, const char *live, bool src_dir, FILE *out)
{
	char kept[PATH_MAX];
	struct stat st;
	bool exists = lstat(live, &st) == 0;
	int rc = exists ? keep_current(live, st.st_mode, kept, sizeof(kept)) : 0;
	if (rc < 0)
		return rc;
	if (exists && !S_ISDIR(st.st_mode) && !src_dir)
		rc = rename(tmp, live) < 0 ? -errno : 0; /* atomic: old or new */
	else
		rc = place(tmp, live, src_dir); /* a directory was moved away just before */
	if (rc < 0)
		return fail(live, -rc);
	sync_dir_of(live);
	fprintf(out, "%s\n", live);
	if (exists)
		fprintf(out, "%s\n", kept);
	return 0;
}

int vrestore_run(const char *src, const char *live, const char *snapshot, bool overwrite_live,
		 FILE *out)
{
	char dst[PATH_MAX];
	struct stat st, there;
	if (lstat(src, &st) < 0)
		return fail(src, errno);
	int rc = vcore_restore_name(live, snapshot, dst, sizeof(dst));
	if (rc < 0)
		return fail(live, -rc);
	if (!overwrite_live && lstat(dst, &there) == 0) {
		fprintf(stderr, "%s: %s exists: nothing restored\n", PROG, dst);
		return -EEXIST;
	}
	char *parent = strdup(live);
	bool no_parent = parent && stat(dirname(parent), &there) < 0 && errno == ENOENT;
	if (no_parent)
		fprintf(stderr, "%s: %s does not exist: restore the directory that held %s first\n",
			PROG, parent, live);
	free(parent);
	if (no_parent)
		return -ENOENT;
	char *tmp = temp_name(live);
	if (!tmp)
		return fail(live, ENOMEM);
	rc = copy_tree(src, tmp);
	if (rc == 0)
		sync_dir_of(tmp);
	if (rc == 0 && overwrite_live) {
		rc = overwrite(tmp, live, S_ISDIR(st.st_mode), out);
	} else if (rc == 0) {
		rc = place(tmp, dst, S_ISDIR(st.st_mode));
		if (rc == -EEXIST)
			fprintf(stderr, "%s: %s exists: nothing restored\n", PROG, dst);
		else if (rc < 0)
			fail(dst, -rc);
		else
			fprintf(out, "%s\n", dst);
	}
	if (rc < 0)
		remove_tree(tmp);
	else
		sync_dir_of(dst);
	free(tmp);
	return rc;
}
