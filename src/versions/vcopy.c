/* vcopy: an entry copied as cp -a does, through descriptors (see vcopy.h). */
#include "vcopy.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "progress.h"
#include "safetree.h"

#define PROG	  "ovhsnapfs-versions"
#define XATTR_MAX (64 * 1024)
#define MAX_LINKS 256 /* first copies of hard-linked files kept open to link again */

struct link {
	dev_t dev;
	ino_t ino;
	int fd; /* the first copy */
};

struct vcopy {
	char shown[PATH_MAX];
	size_t shown_len;
	struct link links[MAX_LINKS];
	size_t n_links;
	unsigned long long files, bytes;
	char *xattr_value;
	struct progress *progress; /* or NULL */
	unsigned depth;		   /* of the entry being copied: 1 for the first */
	int top_fd;		   /* the first entry's directory, when it is one, or -1 */
};

struct vcopy *vcopy_new(const char *shown_root)
{
	struct vcopy *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->xattr_value = malloc(XATTR_MAX);
	if (!c->xattr_value) {
		free(c);
		return NULL;
	}
	c->top_fd = -1;
	snprintf(c->shown, sizeof(c->shown), "%s", shown_root);
	c->shown_len = strlen(c->shown);
	return c;
}

void vcopy_free(struct vcopy *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_links; i++)
		close(c->links[i].fd);
	if (c->top_fd >= 0)
		close(c->top_fd);
	free(c->xattr_value);
	free(c);
}

int vcopy_take_top(struct vcopy *c)
{
	int fd = c->top_fd;
	c->top_fd = -1;
	return fd;
}

void vcopy_set_progress(struct vcopy *c, struct progress *p)
{
	c->progress = p;
}

void vcopy_done(const struct vcopy *c, unsigned long long *files, unsigned long long *bytes)
{
	*files = c->files;
	*bytes = c->bytes;
}

static int fail(struct vcopy *c, int err)
{
	fprintf(stderr, "%s: %s: %s\n", PROG, c->shown, strerror(err));
	return -err;
}

/* shown/name while name is copied; pop restores shown. */
static size_t push_name(struct vcopy *c, const char *name)
{
	size_t old = c->shown_len;
	int n = snprintf(c->shown + old, sizeof(c->shown) - old, "/%s", name);
	if (n > 0)
		c->shown_len =
			old + (size_t)n < sizeof(c->shown) ? old + (size_t)n : sizeof(c->shown) - 1;
	return old;
}

static void pop_name(struct vcopy *c, size_t old)
{
	c->shown_len = old;
	c->shown[old] = '\0';
}

/* Extended attributes of sfd onto dfd; one the destination refuses is left out. */
static int copy_xattrs(struct vcopy *c, int sfd, int dfd)
{
	char names[XATTR_MAX];
	ssize_t len = flistxattr(sfd, names, sizeof(names));
	if (len < 0 && errno != ENOTSUP)
		return fail(c, errno);
	for (ssize_t off = 0; off < len; off += (ssize_t)strlen(names + off) + 1) {
		ssize_t n = fgetxattr(sfd, names + off, c->xattr_value, XATTR_MAX);
		if (n < 0 && errno == ENODATA)
			continue;
		if (n < 0)
			return fail(c, errno);
		if (fsetxattr(dfd, names + off, c->xattr_value, (size_t)n, 0) < 0 &&
		    errno != ENOTSUP && errno != EPERM && errno != EACCES)
			return fail(c, errno);
	}
	return 0;
}

/* Owner (where permitted), then xattrs, then mode and times of st onto dfd. */
static int copy_meta(struct vcopy *c, int sfd, int dfd, const struct stat *st)
{
	if (fchown(dfd, st->st_uid, st->st_gid) < 0 && errno != EPERM && errno != EINVAL)
		return fail(c, errno);
	int rc = copy_xattrs(c, sfd, dfd);
	if (rc < 0)
		return rc;
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (fchmod(dfd, st->st_mode & 07777) < 0 || futimens(dfd, times) < 0)
		return fail(c, errno);
	return 0;
}

static int copy_data(struct vcopy *c, int sfd, int dfd)
{
	char buf[1 << 16];
	for (;;) {
		ssize_t n = read(sfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(c, errno);
		if (n == 0)
			return 0;
		for (ssize_t w = 0; w < n;) {
			ssize_t m = write(dfd, buf + w, (size_t)(n - w));
			if (m < 0 && errno != EINTR)
				return fail(c, errno);
			w += m > 0 ? m : 0;
		}
		c->bytes += (unsigned long long)n;
		progress_update(c->progress, c->files, c->bytes);
	}
}

/* A hard link to the first copy of st's file, when there is one: 0 made, 1 none, -errno. */
static int link_again(struct vcopy *c, const struct stat *st, int ddir, const char *dname,
		      struct stat *made)
{
	for (size_t i = 0; i < c->n_links; i++) {
		if (c->links[i].dev != st->st_dev || c->links[i].ino != st->st_ino)
			continue;
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", c->links[i].fd);
		if (linkat(AT_FDCWD, proc, ddir, dname, AT_SYMLINK_FOLLOW) == 0 ||
		    linkat(c->links[i].fd, "", ddir, dname, AT_EMPTY_PATH) == 0)
			return fstat(c->links[i].fd, made) < 0 ? fail(c, errno) : 0;
		return errno == EEXIST ? fail(c, errno) : 1; /* else: a copy of its own */
	}
	return 1;
}

static int copy_file(struct vcopy *c, int sdir, const char *name, const struct stat *st, int ddir,
		     const char *dname, struct stat *made)
{
	if (st->st_nlink > 1) {
		int rc = link_again(c, st, ddir, dname, made);
		if (rc <= 0)
			return rc;
	}
	int sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	if (sfd < 0)
		return fail(c, errno);
	int dfd = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int rc = dfd < 0 ? fail(c, errno) : fstat(dfd, made) < 0 ? fail(c, errno) : 0;
	if (rc == 0)
		rc = copy_data(c, sfd, dfd);
	if (rc == 0)
		rc = copy_meta(c, sfd, dfd, st);
	if (rc == 0 && fsync(dfd) < 0)
		rc = fail(c, errno);
	close(sfd);
	c->files++;
	progress_update(c->progress, c->files, c->bytes);
	if (rc == 0 && st->st_nlink > 1 && c->n_links < MAX_LINKS) {
		c->links[c->n_links++] = (struct link){st->st_dev, st->st_ino, dfd};
		return 0;
	}
	if (dfd >= 0 && close(dfd) < 0 && rc == 0)
		rc = fail(c, errno);
	return rc;
}

struct dir_walk {
	struct vcopy *c;
	int dfd;
};

static int copy_child(int sdir, const char *name, void *arg)
{
	struct dir_walk *w = arg;
	struct stat made;
	return vcopy_entry(w->c, sdir, name, w->dfd, name, &made);
}

static int copy_dir(struct vcopy *c, int sdir, const char *name, const struct stat *st, int ddir,
		    const char *dname, struct stat *made)
{
	int sfd = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return fail(c, errno);
	int dfd = safetree_mkdir(ddir, dname);
	int rc = dfd < 0 ? fail(c, -dfd) : fstat(dfd, made) < 0 ? fail(c, errno) : 0;
	if (rc == 0 && c->depth == 1)
		c->top_fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	if (rc == 0) {
		struct dir_walk w = {c, dfd};
		rc = safetree_each(sfd, copy_child, &w);
		if (rc > 0)
			rc = -EIO; /* not reached: copy_child returns 0 or -errno */
	}
	if (rc == 0)
		rc = copy_meta(c, sfd, dfd, st);
	if (rc == 0 && fsync(dfd) < 0)
		rc = fail(c, errno);
	if (dfd >= 0)
		close(dfd);
	close(sfd);
	return rc;
}

/* Owner and times of the entry just made as dname (a link or a device), through an O_PATH fd. */
static int meta_by_path(struct vcopy *c, int ddir, const char *dname, const struct stat *st,
			struct stat *made)
{
	int fd = openat(ddir, dname, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat now;
	if (fd < 0 || fstat(fd, &now) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return fail(c, err);
	}
	*made = now;
	int rc = (now.st_mode & S_IFMT) == (st->st_mode & S_IFMT) ? 0 : fail(c, EPERM);
	if (rc == 0 && fchownat(fd, "", st->st_uid, st->st_gid, AT_EMPTY_PATH) < 0 &&
	    errno != EPERM && errno != EINVAL)
		rc = fail(c, errno);
	if (rc == 0 && !S_ISLNK(st->st_mode)) {
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (chmod(proc, st->st_mode & 07777) < 0)
			rc = fail(c, errno);
	}
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (rc == 0 && utimensat(ddir, dname, times, AT_SYMLINK_NOFOLLOW) < 0)
		rc = fail(c, errno);
	close(fd);
	return rc;
}

static int copy_link(struct vcopy *c, int sdir, const char *name, const struct stat *st, int ddir,
		     const char *dname, struct stat *made)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
	if (n < 0)
		return fail(c, errno);
	target[n] = '\0';
	if (symlinkat(target, ddir, dname) < 0)
		return fail(c, errno);
	return meta_by_path(c, ddir, dname, st, made);
}

int vcopy_entry(struct vcopy *c, int sdir, const char *name, int ddir, const char *dname,
		struct stat *made)
{
	struct stat st;
	size_t old = push_name(c, name);
	memset(made, 0, sizeof(*made)); /* st_ino 0: nothing made yet */
	c->depth++;
	int rc = 0;
	if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		rc = fail(c, errno);
	else if (S_ISDIR(st.st_mode))
		rc = copy_dir(c, sdir, name, &st, ddir, dname, made);
	else if (S_ISLNK(st.st_mode))
		rc = copy_link(c, sdir, name, &st, ddir, dname, made);
	else if (S_ISREG(st.st_mode))
		rc = copy_file(c, sdir, name, &st, ddir, dname, made);
	else if (mknodat(ddir, dname, (st.st_mode & S_IFMT) | 0600, st.st_rdev) < 0)
		rc = fail(c, errno);
	else
		rc = meta_by_path(c, ddir, dname, &st, made);
	c->depth--;
	pop_name(c, old);
	return rc;
}
