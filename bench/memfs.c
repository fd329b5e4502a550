/*
 * memfs: the baseline of bench/run.sh. A minimal read-only in-memory FUSE
 * filesystem (libfuse3 high-level API, like ovhsnapfs) that serves a tree
 * read from a manifest, with no logic of its own: every lookup is one hash
 * probe. The bench generates the manifest from a mounted ovhsnapfs, so both
 * serve the same names, directories and file sizes.
 *
 *     memfs MANIFEST MOUNTPOINT [FUSE options...]
 *
 * Manifest: one entry per line, TAB-separated, paths relative to the root:
 *     d<TAB>PATH            a directory
 *     f<TAB>SIZE<TAB>PATH   a regular file of SIZE bytes
 * Parents must be listed before their children. Files read as SIZE bytes of
 * '.' ending in '\n'.
 *
 * Build: cc -O2 memfs.c -o memfs $(pkg-config --cflags --libs fuse3)
 */
#define FUSE_USE_VERSION 312
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fuse.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct mnode {
	char *path; /* "/a/b", "/" for the root */
	const char *name;
	int is_dir;
	off_t size;
	struct mnode **kids;
	size_t n_kids, cap_kids;
};

static struct mnode **table; /* open addressing, by path */
static size_t table_size;    /* a power of two */
static size_t n_nodes;
static time_t loaded_at;

static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct mnode *find(const char *path)
{
	for (size_t i = hash_path(path) & (table_size - 1);; i = (i + 1) & (table_size - 1)) {
		struct mnode *n = table[i];
		if (!n)
			return NULL;
		if (strcmp(n->path, path) == 0)
			return n;
	}
}

static void die(const char *what)
{
	fprintf(stderr, "memfs: %s\n", what);
	exit(1);
}

static void insert(struct mnode *n)
{
	size_t i = hash_path(n->path) & (table_size - 1);
	while (table[i]) {
		if (strcmp(table[i]->path, n->path) == 0)
			die("duplicate path in manifest");
		i = (i + 1) & (table_size - 1);
	}
	table[i] = n;
	n_nodes++;
}

static struct mnode *add(const char *path, int is_dir, off_t size)
{
	struct mnode *n = calloc(1, sizeof(*n));
	if (!n || !(n->path = strdup(path)))
		die("out of memory");
	n->is_dir = is_dir;
	n->size = size;
	const char *slash = strrchr(n->path, '/');
	n->name = slash[1] ? slash + 1 : n->path;
	if (strcmp(path, "/") != 0) {
		size_t plen = (size_t)(slash - n->path);
		char *parent_path = strndup(n->path, plen ? plen : 1);
		struct mnode *parent = parent_path ? find(parent_path) : NULL;
		free(parent_path);
		if (!parent || !parent->is_dir)
			die("manifest: an entry's parent directory is missing or listed later");
		if (parent->n_kids == parent->cap_kids) {
			parent->cap_kids = parent->cap_kids ? 2 * parent->cap_kids : 8;
			parent->kids =
				realloc(parent->kids, parent->cap_kids * sizeof(*parent->kids));
			if (!parent->kids)
				die("out of memory");
		}
		parent->kids[parent->n_kids++] = n;
	}
	insert(n);
	return n;
}

static void load_manifest(const char *file)
{
	FILE *f = fopen(file, "r");
	char *line = NULL, path[8192];
	size_t cap = 0, lines = 0;
	ssize_t len;
	if (!f)
		die("cannot open the manifest");
	while (getline(&line, &cap, f) > 0)
		lines++;
	for (table_size = 16; table_size < 2 * (lines + 1); table_size *= 2)
		;
	table = calloc(table_size, sizeof(*table));
	if (!table)
		die("out of memory");
	add("/", 1, 0);
	rewind(f);
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		char *tab = strchr(line, '\t');
		if (!tab)
			die("manifest: a line without a TAB");
		off_t size = 0;
		char *p = tab + 1;
		if (line[0] == 'f') {
			char *end;
			size = (off_t)strtoll(p, &end, 10);
			if (*end != '\t')
				die("manifest: bad file size");
			p = end + 1;
		} else if (line[0] != 'd') {
			die("manifest: lines start with d or f");
		}
		if (snprintf(path, sizeof(path), "/%s", p[0] == '/' ? p + 1 : p) >=
		    (int)sizeof(path))
			die("manifest: path too long");
		add(path, line[0] == 'd', size);
	}
	free(line);
	fclose(f);
}

static void fill(const struct mnode *n, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_blksize = 4096;
	st->st_mtime = st->st_ctime = st->st_atime = loaded_at;
	if (n->is_dir) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = n->size;
		st->st_blocks = (n->size + 511) / 512;
	}
}

static int op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	const struct mnode *n = find(path);
	if (!n)
		return -ENOENT;
	fill(n, st);
	return 0;
}

static int op_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off,
		      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
	(void)off, (void)fi, (void)flags;
	const struct mnode *n = find(path);
	struct stat st;
	if (!n)
		return -ENOENT;
	if (!n->is_dir)
		return -ENOTDIR;
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	for (size_t i = 0; i < n->n_kids; i++) {
		fill(n->kids[i], &st);
		if (filler(buf, n->kids[i]->name, &st, 0, FUSE_FILL_DIR_PLUS))
			break;
	}
	return 0;
}

static int op_open(const char *path, struct fuse_file_info *fi)
{
	const struct mnode *n = find(path);
	if (!n)
		return -ENOENT;
	if (n->is_dir)
		return -EISDIR;
	if ((fi->flags & O_ACCMODE) != O_RDONLY)
		return -EACCES;
	return 0;
}

static int op_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	const struct mnode *n = find(path);
	if (!n || n->is_dir)
		return -ENOENT;
	if (off >= n->size)
		return 0;
	if ((off_t)size > n->size - off)
		size = (size_t)(n->size - off);
	memset(buf, '.', size);
	if (off + (off_t)size == n->size && size > 0)
		buf[size - 1] = '\n';
	return (int)size;
}

static int op_statfs(const char *path, struct statvfs *st)
{
	(void)path;
	memset(st, 0, sizeof(*st));
	st->f_bsize = st->f_frsize = 4096;
	st->f_namemax = 255;
	return 0;
}

static const struct fuse_operations ops = {
	.getattr = op_getattr,
	.readdir = op_readdir,
	.open = op_open,
	.read = op_read,
	.statfs = op_statfs,
};

int main(int argc, char *argv[])
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s MANIFEST MOUNTPOINT [FUSE options...]\n", argv[0]);
		return 2;
	}
	loaded_at = time(NULL);
	load_manifest(argv[1]);
	argv[1] = argv[0]; /* fuse_main sees: memfs MOUNTPOINT [options] */
	return fuse_main(argc - 1, argv + 1, &ops, NULL);
}
