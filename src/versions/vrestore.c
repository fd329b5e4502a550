/* vrestore: a version copied back beside or over the live path (see vrestore.h). */
#include "vrestore.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "confine.h"
#include "progress.h"
#include "safetree.h"
#include "vcopy.h"
#include "vcore.h"

#define PROG	   "ovhsnapfs-versions"
#define NAME_BUF   256
#define TEMP_TRIES 100
#define KEEP_TRIES 1000
#define CLOSE(fd)  ((fd) >= 0 ? close(fd) : 0)

struct run {
	const struct vrestore_args *a;
	FILE *out;
	int pfd;	  /* the live path's directory, resolved once */
	const char *base; /* the live path's name in it */
	char tmp[NAME_BUF];
	struct stat made; /* what tmp names while it is ours (st_ino 0: nothing) */
	int tfd;	  /* the temporary directory, open, or -1 (a file, or none) */
	bool tmp_ours;	  /* tmp still holds the copy (not the old live path) */
};

static int fail(const char *what, int err)
{
	if (err == ESTALE)
		fprintf(stderr,
			"%s: %s: the temporary copy was renamed meanwhile: nothing put in place\n",
			PROG, what);
	else
		fprintf(stderr, "%s: %s: %s\n", PROG, what, strerror(err));
	return -err;
}

/* The live path's directory/name on f, escaped as the listing escapes a path. */
static void put_path(const struct run *r, FILE *f, const char *name)
{
	size_t dir_len = strlen(r->a->live) - strlen(r->base);
	char *dir = strndup(r->a->live, dir_len);
	char *path = NULL;
	if (dir && asprintf(&path, "%s%s", dir, name) >= 0)
		vcore_put_escaped(f, path, true);
	free(path);
	free(dir);
}

static void print_path(const struct run *r, const char *name)
{
	put_path(r, r->out, name);
	fputc('\n', r->out);
}

static void told_exists(const struct run *r, const char *name)
{
	fprintf(stderr, "%s: ", PROG);
	put_path(r, stderr, name);
	fputs(" exists: nothing restored\n", stderr);
}

static void sync_parent(const struct run *r)
{
	fsync(r->pfd);
}

/* A fresh temporary name beside the live path in name: 0 or -EEXIST. */
static int temp_name(const struct run *r, char *name, size_t len)
{
	struct stat st;
	for (int i = 0; i < TEMP_TRIES; i++) {
		snprintf(name, len, ".%.200s.ovhsnapfs-versions-%06ld", r->base,
			 random() % 1000000);
		if (fstatat(r->pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			return 0;
	}
	return -EEXIST;
}

/* Copy the version to a fresh temporary name beside the live path. */
static int copy_to_temp(struct run *r, int spfd, const char *sbase)
{
	if (temp_name(r, r->tmp, sizeof(r->tmp)) < 0)
		return fail(r->a->live, EEXIST);
	/* messages name the source as SNAPSHOT_DIR/REL... */
	char *root = NULL;
	int dir_len = (int)(sbase - r->a->rel);
	struct vcopy *c = NULL;
	if (asprintf(&root, "%s%s%.*s", r->a->snap_dir, dir_len ? "/" : "",
		     dir_len ? dir_len - 1 : 0, r->a->rel) >= 0)
		c = vcopy_new(root);
	free(root);
	if (!c)
		return fail(r->a->live, ENOMEM);
	struct progress *p = progress_new("restoring", "files", r->a->quiet);
	vcopy_set_progress(c, p);
	int rc = vcopy_entry(c, spfd, sbase, r->pfd, r->tmp, &r->made);
	progress_end(p);
	r->tmp_ours = r->made.st_ino != 0;
	r->tfd = vcopy_take_top(c);
	vcopy_free(c);
	if (rc == 0)
		sync_parent(r);
	return rc;
}

/*
 * Remove the copy while it is ours: by its name when that still holds it,
 * else (renamed by someone) emptied through its descriptor, which nobody
 * can redirect, leaving one empty directory wherever they put it.
 */
static void cleanup(struct run *r)
{
	if (!r->tmp_ours || !r->made.st_ino)
		return;
	if (safetree_is(r->pfd, r->tmp, &r->made) &&
	    safetree_remove(r->pfd, r->tmp, &r->made) != -ESTALE)
		return;
	if (r->tfd >= 0)
		safetree_empty(r->tfd);
}

/* tmp to the new name to, when tmp is still ours: 0, -EEXIST, -errno. */
static int place_temp(struct run *r, const char *to)
{
	if (!safetree_is(r->pfd, r->tmp, &r->made))
		return -ESTALE; /* renamed by someone else: never put another entry in place */
	return safetree_place(r->pfd, r->tmp, r->pfd, to);
}

/* Beside the live path, never over anything. */
static int beside(struct run *r, const char *dst)
{
	int rc = place_temp(r, dst);
	if (rc == -EEXIST)
		told_exists(r, dst);
	else if (rc < 0)
		return fail(r->a->live, -rc);
	if (rc == 0) {
		r->tmp_ours = false;
		print_path(r, dst);
	}
	return rc;
}

static int move_kept(struct run *r, const char *name, char *kept, size_t len);

/* Where the file system refuses a hard link: a synced copy of the live file, put at kept. */
static int copy_kept(struct run *r, char *kept, size_t len)
{
	char tmp[NAME_BUF];
	struct stat made;
	size_t dir_len = strlen(r->a->live) - strlen(r->base);
	char *dir = strndup(r->a->live, dir_len ? dir_len - 1 : 0);
	struct vcopy *c = dir ? vcopy_new(dir) : NULL;
	free(dir);
	int rc = !c ? -ENOMEM : temp_name(r, tmp, sizeof(tmp));
	if (rc == 0) {
		rc = vcopy_entry(c, r->pfd, r->base, r->pfd, tmp, &made);
		if (rc == 0)
			rc = move_kept(r, tmp, kept, len);
		if (rc < 0 && made.st_ino)
			safetree_remove(r->pfd, tmp, &made);
	}
	vcopy_free(c);
	return rc;
}

/* The live file kept under a fresh kept name as a hard link (else a copy): 0, or -errno. */
static int link_kept(struct run *r, char *kept, size_t len)
{
	time_t now = time(NULL);
	for (unsigned attempt = 1; attempt < KEEP_TRIES; attempt++) {
		int rc = vcore_kept_name(r->base, now, attempt, kept, len);
		if (rc < 0)
			return rc;
		if (linkat(r->pfd, r->base, r->pfd, kept, 0) == 0)
			return 0;
		if (errno == EPERM || errno == EMLINK || errno == ENOTSUP || errno == EOPNOTSUPP)
			return copy_kept(r, kept, len);
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

/* Move name (of the old live path) to a fresh kept name: 0, or -errno. */
static int move_kept(struct run *r, const char *name, char *kept, size_t len)
{
	time_t now = time(NULL);
	for (unsigned attempt = 1; attempt < KEEP_TRIES; attempt++) {
		int rc = vcore_kept_name(r->base, now, attempt, kept, len);
		if (rc < 0)
			return rc;
		rc = safetree_place(r->pfd, name, r->pfd, kept);
		if (rc != -EEXIST)
			return rc;
	}
	return -EEXIST;
}

/* Both files: link the old one to kept, then rename over it (old or new at every instant). */
static int over_file(struct run *r, char *kept, size_t len)
{
	int rc = link_kept(r, kept, len);
	if (rc < 0)
		return rc;
	if (!safetree_is(r->pfd, r->tmp, &r->made))
		rc = -ESTALE;
	else if (renameat(r->pfd, r->tmp, r->pfd, r->base) < 0)
		rc = -errno;
	if (rc < 0)
		unlinkat(r->pfd, kept, 0); /* a second name of the live file: nothing lost */
	return rc;
}

/*
 * A directory for a file or the reverse: exchange them (the live path is
 * the old or the new one at every instant), then move the old one to kept;
 * where exchange is unsupported, move the old one to kept first. On failure
 * everything is put back as it was.
 */
static int over_other(struct run *r, char *kept, size_t len)
{
	if (!safetree_is(r->pfd, r->tmp, &r->made))
		return -ESTALE;
	int rc = safetree_exchange(r->pfd, r->tmp, r->base);
	if (rc == 0) {
		r->tmp_ours = false; /* tmp now holds the old live path */
		rc = move_kept(r, r->tmp, kept, len);
		if (rc < 0 && safetree_exchange(r->pfd, r->tmp, r->base) == 0)
			r->tmp_ours = true;
		return rc;
	}
	if (rc != -EINVAL)
		return rc;
	rc = move_kept(r, r->base, kept, len);
	if (rc < 0)
		return rc;
	rc = place_temp(r, r->base);
	if (rc < 0)
		safetree_place(r->pfd, kept, r->pfd, r->base);
	return rc;
}

static int overwrite(struct run *r, bool src_dir)
{
	char kept[NAME_BUF];
	struct stat st;
	bool exists = fstatat(r->pfd, r->base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	int rc;
	if (!exists)
		rc = place_temp(r, r->base);
	else if (!S_ISDIR(st.st_mode) && !src_dir)
		rc = over_file(r, kept, sizeof(kept));
	else
		rc = over_other(r, kept, sizeof(kept));
	if (rc < 0)
		return fail(r->a->live, -rc);
	r->tmp_ours = false;
	sync_parent(r);
	print_path(r, r->base);
	if (exists)
		print_path(r, kept);
	return 0;
}

/* Where the version is: its directory in the snapshot (beneath root), or -errno after a line. */
static int open_source(const struct vrestore_args *a, int *sroot, const char **sbase,
		       struct stat *st)
{
	*sroot = open(a->snap_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*sroot < 0)
		return fail(a->snap_dir, errno);
	int spfd = safetree_open_parent(*sroot, a->rel, sbase);
	int rc = spfd < 0 ? spfd : fstatat(spfd, *sbase, st, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	if (rc == -ELOOP || rc == -EXDEV)
		fprintf(stderr, "%s: %s: a symbolic link on its way in snapshot %s: not followed\n",
			PROG, a->live, a->snapshot);
	else if (rc < 0)
		fprintf(stderr, "%s: %s is not in snapshot %s\n", PROG, a->live, a->snapshot);
	if (rc < 0) {
		CLOSE(spfd);
		return rc == -ENOTDIR ? -ENOENT : rc;
	}
	return spfd;
}

/* The live path's directory, beneath the mount: a descriptor or -errno after a line. */
static int open_dest(const struct vrestore_args *a, int mfd, const char **base)
{
	int pfd = safetree_open_parent(mfd, a->rel, base);
	if (pfd == -ENOENT || pfd == -ENOTDIR) {
		size_t len = strlen(a->live) - strlen(*base);
		char *dir = strndup(a->live, len > 1 ? len - 1 : len);
		fprintf(stderr, "%s: %s does not exist: restore the directory that held %s first\n",
			PROG, dir ? dir : a->live, a->live);
		free(dir);
		return -ENOENT;
	}
	if (pfd == -ELOOP || pfd == -EXDEV)
		fprintf(stderr, "%s: %s: a symbolic link on its way: not followed\n", PROG,
			a->live);
	else if (pfd < 0)
		fail(a->live, -pfd);
	return pfd;
}

static int restore(struct run *r, int spfd, const char *sbase, const struct stat *st)
{
	char dst[NAME_BUF];
	struct stat there;
	int rc = vcore_restore_name(r->base, r->a->snapshot, dst, sizeof(dst));
	if (rc < 0)
		return fail(r->a->live, -rc);
	if (!r->a->overwrite && fstatat(r->pfd, dst, &there, AT_SYMLINK_NOFOLLOW) == 0) {
		told_exists(r, dst);
		return -EEXIST;
	}
	rc = copy_to_temp(r, spfd, sbase);
	if (rc == 0)
		rc = r->a->overwrite ? overwrite(r, S_ISDIR(st->st_mode)) : beside(r, dst);
	if (rc < 0)
		cleanup(r);
	return rc;
}

int vrestore_run(const struct vrestore_args *a, FILE *out)
{
	struct run r = {.a = a, .out = out, .pfd = -1, .tfd = -1};
	struct stat st;
	const char *sbase;
	int sroot = -1, mfd = open(a->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int spfd = mfd < 0 ? fail(a->mount, errno) : open_source(a, &sroot, &sbase, &st);
	r.pfd = spfd < 0 ? spfd : open_dest(a, mfd, &r.base);
	int rc = r.pfd < 0 ? r.pfd : 0;
	if (rc == 0 && a->confine) {
		int reads[] = {mfd, sroot}, writes[] = {r.pfd};
		rc = confine_paths(reads, 2, writes, 1, a->verbose);
		rc = rc < 0 ? rc : 0;
	}
	if (rc == 0)
		rc = restore(&r, spfd, sbase, &st);
	CLOSE(r.tfd);
	CLOSE(r.pfd);
	CLOSE(spfd);
	CLOSE(sroot);
	CLOSE(mfd);
	return rc;
}
