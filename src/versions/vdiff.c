/* vdiff: two trees compared in parallel, zfs diff's lines out (see vdiff.h). */
#include "vdiff.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "progress.h"
#include "safetree.h"
#include "vcore.h"

#define PROG	    "ovhsnapfs-versions"
#define MAX_THREADS 64

enum side { BOTH, OLD_ONLY, NEW_ONLY };

struct change {
	char c;
	char *rel;
};

struct changes {
	struct change *items;
	size_t n, cap;
	size_t seen; /* entries compared */
};

struct job {
	struct job *next;
	char *rel; /* "" for the roots */
	enum side side;
};

struct walk {
	int roots[2]; /* old, new */
	const char *names[2];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *queue;
	size_t pending; /* queued or running */
	struct changes all;
	bool unreadable, nomem;
	struct progress *progress; /* or NULL */
	unsigned long long seen;
	const char *skip; /* a path under the roots not to compare, or NULL */
};

struct names {
	char **items;
	size_t n;
};

static char *join(const char *rel, const char *name)
{
	char *out = NULL;
	if (asprintf(&out, "%s%s%s", rel, *rel ? "/" : "", name) < 0)
		return NULL;
	return out;
}

static bool add(struct changes *ch, char c, const char *rel, const char *name)
{
	if (ch->n == ch->cap) {
		size_t cap = ch->cap ? ch->cap * 2 : 64;
		struct change *more = realloc(ch->items, cap * sizeof(*more));
		if (!more)
			return false;
		ch->items = more;
		ch->cap = cap;
	}
	char *path = join(rel, name);
	if (!path)
		return false;
	ch->items[ch->n].c = c;
	ch->items[ch->n++].rel = path;
	return true;
}

/* Move src's items to the end of dst (src is left empty, or untouched on failure). */
static bool move_all(struct changes *dst, struct changes *src)
{
	if (src->n == 0)
		return true;
	if (dst->n + src->n > dst->cap) {
		size_t cap = dst->cap ? dst->cap : 64;
		while (cap < dst->n + src->n)
			cap *= 2;
		struct change *more = realloc(dst->items, cap * sizeof(*more));
		if (!more)
			return false;
		dst->items = more;
		dst->cap = cap;
	}
	memcpy(dst->items + dst->n, src->items, src->n * sizeof(*src->items));
	dst->n += src->n;
	src->n = 0;
	return true;
}

static void unreadable(struct walk *w, int side, const char *rel, int err)
{
	pthread_mutex_lock(&w->lock);
	fprintf(stderr, "%s: %s%s%s: %s\n", PROG, w->names[side], *rel ? "/" : "", rel,
		strerror(err));
	w->unreadable = true;
	pthread_mutex_unlock(&w->lock);
}

/* An allocation failed: the diff would be incomplete, so it is reported, not printed. */
static void out_of_memory(struct walk *w)
{
	pthread_mutex_lock(&w->lock);
	w->nomem = true;
	pthread_mutex_unlock(&w->lock);
}

static void added(struct walk *w, struct changes *ch, char c, const char *rel, const char *name)
{
	if (!add(ch, c, rel, name))
		out_of_memory(w);
}

static void push(struct walk *w, const char *rel, const char *name, enum side side)
{
	struct job *j = calloc(1, sizeof(*j));
	char *path = join(rel, name);
	pthread_mutex_lock(&w->lock);
	if (j && path) {
		j->rel = path;
		j->side = side;
		j->next = w->queue;
		w->queue = j;
		w->pending++;
		pthread_cond_signal(&w->cond);
	} else {
		w->nomem = true;
		free(j);
		free(path);
	}
	pthread_mutex_unlock(&w->lock);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in dfd (which stays open). 0 or -errno (-ENOMEM: some left out). */
static int read_names(int dfd, struct names *out)
{
	int fd = dup(dfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	size_t cap = 0;
	int rc = 0;
	memset(out, 0, sizeof(*out));
	if (!d) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return -err;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 32;
			char **more = realloc(out->items, cap * sizeof(*more));
			if (!more) {
				rc = -ENOMEM;
				break;
			}
			out->items = more;
		}
		if (!(out->items[out->n] = strdup(e->d_name))) {
			rc = -ENOMEM;
			break;
		}
		out->n++;
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->items, out->n, sizeof(*out->items), by_name);
	return rc;
}

/* Drop the entry of names in rel that is w->skip. */
static void drop_skipped(const struct walk *w, const char *rel, struct names *names)
{
	for (size_t i = 0; w->skip && i < names->n; i++) {
		char *path = join(rel, names->items[i]);
		bool skip = path && strcmp(path, w->skip) == 0;
		free(path);
		if (skip) {
			free(names->items[i]);
			memmove(&names->items[i], &names->items[i + 1],
				(names->n - i - 1) * sizeof(*names->items));
			names->n--;
			return;
		}
	}
}

static void free_names(struct names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->items[i]);
	free(n->items);
}

static int open_dir(struct walk *w, int side, const char *rel)
{
	int fd = safetree_open(w->roots[side], rel, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		unreadable(w, side, rel, -fd);
	return fd;
}

/* A subtree present on one side only: every entry added or removed. */
static void one_side(struct walk *w, const struct job *j, struct changes *ch)
{
	int side = j->side == OLD_ONLY ? 0 : 1;
	char c = side == 0 ? '-' : '+';
	struct names names;
	int fd = open_dir(w, side, j->rel);
	if (fd < 0)
		return;
	int rc = read_names(fd, &names);
	if (rc == -ENOMEM)
		out_of_memory(w);
	else if (rc < 0)
		unreadable(w, side, j->rel, -rc);
	drop_skipped(w, j->rel, &names);
	for (size_t i = 0; i < names.n; i++) {
		struct stat st;
		ch->seen++;
		added(w, ch, c, j->rel, names.items[i]);
		if (fstatat(fd, names.items[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			push(w, j->rel, names.items[i], j->side);
	}
	free_names(&names);
	close(fd);
}

/* Same mtime, ctime, size and link count: the same entries. */
static bool same_dir(const struct stat *a, const struct stat *b)
{
	return a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec &&
	       a->st_size == b->st_size && a->st_nlink == b->st_nlink;
}

static char *link_of(int dfd, const char *name, const struct stat *st)
{
	char buf[PATH_MAX];
	if (!S_ISLNK(st->st_mode))
		return NULL;
	ssize_t n = readlinkat(dfd, name, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return strdup(buf);
}

/* name, present in both directories: M when it differs; deeper jobs. */
static void compare(struct walk *w, const struct job *j, int fds[2], const char *name,
		    struct changes *ch)
{
	struct stat st[2];
	bool present[2];
	ch->seen++;
	for (int s = 0; s < 2; s++)
		present[s] = fstatat(fds[s], name, &st[s], AT_SYMLINK_NOFOLLOW) == 0;
	if (!present[0] || !present[1]) {
		if (present[0] || present[1]) {
			int s = present[0] ? 0 : 1;
			added(w, ch, s == 0 ? '-' : '+', j->rel, name);
			if (S_ISDIR(st[s].st_mode))
				push(w, j->rel, name, s == 0 ? OLD_ONLY : NEW_ONLY);
		}
		return;
	}
	bool dirs[2] = {S_ISDIR(st[0].st_mode), S_ISDIR(st[1].st_mode)};
	char *links[2] = {link_of(fds[0], name, &st[0]), link_of(fds[1], name, &st[1])};
	if ((S_ISLNK(st[0].st_mode) && !links[0]) || (S_ISLNK(st[1].st_mode) && !links[1]))
		out_of_memory(w);
	if (vcore_modified(&st[0], &st[1], links[0], links[1]))
		added(w, ch, 'M', j->rel, name);
	free(links[0]);
	free(links[1]);
	if (dirs[0] && dirs[1])
		push(w, j->rel, name, BOTH);
	else if (dirs[0] || dirs[1])
		push(w, j->rel, name, dirs[0] ? OLD_ONLY : NEW_ONLY);
}

static void both_sides(struct walk *w, const struct job *j, struct changes *ch)
{
	int fds[2] = {open_dir(w, 0, j->rel), open_dir(w, 1, j->rel)};
	struct names names[2] = {{0}};
	struct stat st[2];
	if (fds[0] >= 0 && fds[1] >= 0) {
		bool same = fstat(fds[0], &st[0]) == 0 && fstat(fds[1], &st[1]) == 0 &&
			    same_dir(&st[0], &st[1]);
		for (int s = same ? 1 : 0; s < 2; s++) {
			int rc = read_names(fds[s], &names[s]);
			if (rc == -ENOMEM)
				out_of_memory(w);
			else if (rc < 0)
				unreadable(w, s, j->rel, -rc);
			drop_skipped(w, j->rel, &names[s]);
		}
		if (same)
			names[0] = names[1]; /* compare() still looks at each on both sides */
		for (size_t a = 0, b = 0; a < names[0].n || b < names[1].n;) {
			int cmp = a == names[0].n   ? 1
				  : b == names[1].n ? -1
						    : strcmp(names[0].items[a], names[1].items[b]);
			compare(w, j, fds, cmp <= 0 ? names[0].items[a] : names[1].items[b], ch);
			a += cmp <= 0;
			b += cmp >= 0;
		}
		if (!same)
			free_names(&names[0]);
		free_names(&names[1]);
	}
	for (int s = 0; s < 2; s++)
		if (fds[s] >= 0)
			close(fds[s]);
}

static void *worker(void *arg)
{
	struct walk *w = arg;
	for (;;) {
		pthread_mutex_lock(&w->lock);
		while (!w->queue && w->pending > 0)
			pthread_cond_wait(&w->cond, &w->lock);
		struct job *j = w->queue;
		if (j)
			w->queue = j->next;
		pthread_mutex_unlock(&w->lock);
		if (!j)
			return NULL;
		struct changes ch = {0};
		if (j->side == BOTH)
			both_sides(w, j, &ch);
		else
			one_side(w, j, &ch);
		pthread_mutex_lock(&w->lock);
		if (!move_all(&w->all, &ch))
			w->nomem = true;
		w->seen += ch.seen;
		progress_update(w->progress, w->seen, 0);
		if (--w->pending == 0)
			pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		for (size_t i = 0; i < ch.n; i++)
			free(ch.items[i].rel);
		free(ch.items);
		free(j->rel);
		free(j);
	}
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct change *)a)->rel, ((const struct change *)b)->rel);
}

/* false when memory ran out (the output is then incomplete). */
static bool print(const struct walk *w, const char *shown, bool json, FILE *out)
{
	const char *root = strcmp(shown, "/") == 0 ? "" : shown;
	if (json)
		fputs(w->all.n ? "[\n" : "[]\n", out);
	for (size_t i = 0; i < w->all.n; i++) {
		char *path = NULL;
		if (asprintf(&path, "%s/%s", root, w->all.items[i].rel) < 0)
			return false;
		if (json) {
			fprintf(out, "  {\"change\": \"%c\", \"path\": ", w->all.items[i].c);
			vcore_put_json_string(out, path);
			fputs(i + 1 < w->all.n ? "},\n" : "}\n]\n", out);
		} else {
			fprintf(out, "%c\t", w->all.items[i].c);
			vcore_put_escaped(out, path, false);
			fputc('\n', out);
		}
		free(path);
	}
	return true;
}

int vdiff_run(const int roots[2], const char *const names[2], const char *shown_root,
	      const char *skip, bool json, unsigned threads, bool quiet, FILE *out)
{
	struct walk w = {
		.roots = {roots[0], roots[1]}, .names = {names[0], names[1]}, .skip = skip};
	w.progress = progress_new("comparing", "entries", quiet);
	pthread_t tids[MAX_THREADS];
	size_t started = 0;
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	push(&w, "", "", BOTH);
	threads = threads < 1 ? 1 : threads > MAX_THREADS ? MAX_THREADS : threads;
	while (started < threads && pthread_create(&tids[started], NULL, worker, &w) == 0)
		started++;
	if (started == 0)
		worker(&w);
	for (size_t i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	progress_end(w.progress);
	if (w.all.n > 1)
		qsort(w.all.items, w.all.n, sizeof(*w.all.items), by_path);
	if (!w.nomem && !print(&w, shown_root, json, out))
		w.nomem = true;
	for (size_t i = 0; i < w.all.n; i++)
		free(w.all.items[i].rel);
	free(w.all.items);
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	if (w.nomem)
		fprintf(stderr, "%s: out of memory\n", PROG);
	return w.nomem ? -ENOMEM : w.unreadable ? 1 : 0;
}
