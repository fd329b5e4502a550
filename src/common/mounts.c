/* mounts: the host's mount table, watched, and API paths mapped into it. */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mountinfo.h"

#define MOUNTINFO_MAX (64u << 20) /* refuse to buffer more than this */
#define SETTLE_MS     100	  /* let a burst of mounts end before reloading */

/* ---- parsing ---- */

/* opts (comma-separated) has key, alone or as key=VALUE. */
static bool has_option(const char *opts, const char *key)
{
	size_t klen = strlen(key);
	for (const char *p = opts; p;) {
		if (strncmp(p, key, klen) == 0 && (!p[klen] || p[klen] == ',' || p[klen] == '='))
			return true;
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return false;
}

/*
 * A mount whose source is whatever its maker chose: any FUSE filesystem
 * (fusermount3 lets every user set fsname=), and any mount a user made
 * (user_id= in FUSE's super options; user or user= in the options).
 */
static bool untrusted(const char *fstype, const char *mount_opts, const char *super_opts)
{
	return strncmp(fstype, "fuse", 4) == 0 || has_option(super_opts, "user_id") ||
	       has_option(mount_opts, "user") || has_option(super_opts, "user");
}

/* The value of user_id= in opts (set by the kernel from who mounted a FUSE filesystem), or -1. */
static long user_id_of(const char *opts)
{
	for (const char *p = opts; p;) {
		if (strncmp(p, "user_id=", 8) == 0) {
			char *end;
			long v = strtol(p + 8, &end, 10);
			return end != p + 8 && (*end == ',' || !*end) && v >= 0 ? v : -1;
		}
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return -1;
}

/* One mountinfo line: 0 with *e filled, 1 to skip it, -ENOMEM. all: keep any mount. */
static int parse_line(char *line, size_t len, struct mount_entry *e, bool all)
{
	struct mountinfo_line m;
	if (mountinfo_parse(line, len, &m) != 0)
		return 1; /* malformed */
	/* not a bind mount of a subdirectory, and not one whose source its maker chose */
	e->trusted = strcmp(m.root, "/") == 0 && !untrusted(m.fstype, m.mount_opts, m.super_opts);
	if (!e->trusted && !all)
		return 1; /* never follow it, whatever its source says */
	e->nfs = strcmp(m.fstype, "nfs") == 0 || strcmp(m.fstype, "nfs4") == 0;
	e->user_id = user_id_of(m.super_opts);
	e->point = strdup(m.point);
	e->source = strdup(m.source);
	e->fstype = strdup(m.fstype);
	int rc = !e->point || !e->source || !e->fstype ? -ENOMEM : 1;
	if (rc < 0 || e->point[0] != '/')
		goto skip; /* a point is absolute */
	size_t slen = strlen(e->source);
	while (slen > 0 && e->source[slen - 1] == '/')
		e->source[--slen] = '\0';
	if (slen == 0 && !all)
		goto skip; /* "/" would be a prefix of everything */
	return 0;
skip:
	free(e->point);
	free(e->source);
	free(e->fstype);
	return rc;
}

static int parse(const char *text, size_t len, struct mount_table *out, bool all)
{
	size_t lines = 1;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	out->items = calloc(lines, sizeof(*out->items));
	char *copy = malloc(len + 1);
	if (!out->items || !copy) {
		free(copy);
		mounts_table_free(out);
		return -ENOMEM;
	}
	memcpy(copy, text, len);
	copy[len] = '\0';
	for (size_t start = 0; start < len;) {
		char *nl = memchr(copy + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - copy) : len;
		copy[end] = '\0'; /* the line's last field ends here too */
		int rc = parse_line(copy + start, end - start, &out->items[out->n], all);
		if (rc < 0) {
			free(copy);
			mounts_table_free(out);
			return rc;
		}
		out->n += rc == 0;
		start = end + 1;
	}
	free(copy);
	return 0;
}

int mounts_parse(const char *text, size_t len, struct mount_table *out)
{
	return parse(text, len, out, false);
}

int mounts_parse_all(const char *text, size_t len, struct mount_table *out)
{
	return parse(text, len, out, true);
}

void mounts_table_free(struct mount_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->items[i].fstype);
		free(t->items[i].source);
		free(t->items[i].point);
	}
	free(t->items);
	memset(t, 0, sizeof(*t));
}

/* ---- paths ---- */

/* Every '/'-separated segment of s[0..len) is non-empty and neither "." nor "..". */
static bool segments_ok(const char *s, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '/')
			continue;
		size_t n = i - start;
		if (n == 0 || (n == 1 && s[start] == '.') ||
		    (n == 2 && s[start] == '.' && s[start + 1] == '.'))
			return false;
		start = i + 1;
	}
	return true;
}

/* s[0..len) has the form HOST:/PATH: a host without '/', then ":/", then not '/'. */
static bool remote_form(const char *s, size_t len)
{
	for (size_t i = 0; i + 1 < len && s[i] != '/'; i++)
		if (s[i] == ':' && s[i + 1] == '/')
			return i > 0 && (i + 2 == len || s[i + 2] != '/');
	return false;
}

bool mounts_path_is_safe(const char *path, size_t len)
{
	if (!path || len == 0 || memchr(path, '\0', len))
		return false;
	if (path[len - 1] == '/')
		len--;
	const char *slash = memchr(path, '/', len);
	if (!slash)
		return true;
	size_t off = (size_t)(slash - path) + 1;
	return off == len || segments_ok(path + off, len - off);
}

/* M + "/" + rest + "/" + suffix, without doubling the root's '/'. */
static int join(const char *point, const char *rest, size_t rest_len, const char *suffix, char *buf,
		size_t len)
{
	const char *base = strcmp(point, "/") == 0 ? "" : point;
	int n = snprintf(buf, len, "%s%s%.*s%s%s", base, rest_len ? "/" : "", (int)rest_len, rest,
			 suffix ? "/" : "", suffix ? suffix : "");
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	if (!buf[0])
		snprintf(buf, len, "/");
	return 0;
}

/* path split at source: 0 with the REST, or -ENOENT when source does not prefix it. */
static int split_at(const char *path, size_t plen, const char *source, const char **rest,
		    size_t *rest_len)
{
	size_t slen = strlen(source);
	if (plen < slen || memcmp(path, source, slen) != 0 || (plen > slen && path[slen] != '/'))
		return -ENOENT;
	*rest = plen > slen ? path + slen + 1 : path + plen;
	*rest_len = plen > slen ? plen - slen - 1 : 0;
	return 0;
}

/* Mount a with path i beats mount b with path j: NFS first, then the earlier path. */
static bool better(const struct mount_entry *a, size_t i, const struct mount_entry *b, size_t j)
{
	if (a->nfs != b->nfs)
		return a->nfs;
	return i < j;
}

int mounts_table_target(const struct mount_table *t, const char *const *paths, size_t n,
			const char *suffix, char *buf, size_t len)
{
	const struct mount_entry *best = NULL;
	const char *best_rest = NULL;
	size_t best_len = 0, best_i = 0;
	for (size_t m = 0; m < t->n; m++) {
		for (size_t i = 0; i < n; i++) {
			const char *rest;
			size_t rest_len, plen = paths[i] ? strlen(paths[i]) : 0;
			if (plen > 1 && paths[i][plen - 1] == '/')
				plen--;
			/* Not HOST:/PATH ("tmpfs", "/dev/vda/etc"): it would name a local
			 * filesystem. */
			if (!plen || !remote_form(paths[i], plen) ||
			    split_at(paths[i], plen, t->items[m].source, &rest, &rest_len))
				continue;
			if (!best || better(&t->items[m], i, best, best_i)) {
				best = &t->items[m];
				best_i = i;
				best_rest = rest;
				best_len = rest_len;
			}
		}
	}
	if (!best)
		return -ENOENT;
	if ((best_len && !segments_ok(best_rest, best_len)) ||
	    (suffix && !segments_ok(suffix, strlen(suffix))))
		return -EINVAL;
	return join(best->point, best_rest, best_len, suffix, buf, len);
}

bool mounts_is_remote(const char *source)
{
	return remote_form(source, strlen(source));
}

bool mounts_table_has_remote(const struct mount_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (mounts_is_remote(t->items[i].source))
			return true;
	return false;
}

/* ---- the live table ---- */

struct mounts {
	pthread_mutex_t lock;
	struct mount_table table; /* under lock */
	mounts_changed_fn changed;
	void *ctx;
	int fd;	     /* mountinfo, polled by the watcher */
	int wake[2]; /* a byte here stops the watcher */
	pthread_t thread;
	bool running;
};

static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = 16384, n = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int err = -errno;
		free(buf);
		return err;
	}
	for (;;) {
		if (n == cap) {
			char *bigger = cap < MOUNTINFO_MAX ? realloc(buf, cap * 2) : NULL;
			if (!bigger) {
				free(buf);
				return -ENOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int err = -errno;
			free(buf);
			return err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*out = buf;
	*len = n;
	return 0;
}

static int load_table(int fd, struct mount_table *out)
{
	char *text = NULL;
	size_t len = 0;
	int rc = read_all(fd, &text, &len);
	if (rc == 0) {
		rc = mounts_parse(text, len, out);
		free(text);
	}
	return rc;
}

int mounts_load_all(struct mount_table *out)
{
	int fd = open(MOUNTINFO_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	char *text = NULL;
	size_t len = 0;
	int rc = read_all(fd, &text, &len);
	close(fd);
	if (rc == 0) {
		rc = mounts_parse_all(text, len, out);
		free(text);
	}
	return rc;
}

struct mounts *mounts_new(void)
{
	struct mounts *m = calloc(1, sizeof(*m));
	int fd = open(MOUNTINFO_PATH, O_RDONLY | O_CLOEXEC);
	int rc = fd < 0 ? -errno : m ? load_table(fd, &m->table) : -ENOMEM;
	if (fd >= 0)
		close(fd);
	if (rc) {
		log_warn("cannot read %s (%s): no content links", MOUNTINFO_PATH, strerror(-rc));
		free(m);
		return NULL;
	}
	pthread_mutex_init(&m->lock, NULL);
	m->fd = m->wake[0] = m->wake[1] = -1;
	return m;
}

int mounts_target(struct mounts *m, const char *const *paths, size_t n, const char *suffix,
		  char *buf, size_t len)
{
	if (!m)
		return -ENOENT;
	pthread_mutex_lock(&m->lock);
	int rc = mounts_table_target(&m->table, paths, n, suffix, buf, len);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

bool mounts_has_remote(struct mounts *m)
{
	if (!m)
		return false;
	pthread_mutex_lock(&m->lock);
	bool remote = mounts_table_has_remote(&m->table);
	pthread_mutex_unlock(&m->lock);
	return remote;
}

/* ---- what changed ---- */

struct first_mount {
	const char *source, *point;
	bool nfs;
	size_t order;
};

/* By source, then as mounts_table_target ranks them: NFS first, then table order. */
static int by_source(const void *a, const void *b)
{
	const struct first_mount *x = a, *y = b;
	int c = strcmp(x->source, y->source);
	if (c || x->nfs != y->nfs)
		return c ? c : x->nfs ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Each source once, with the mount point a target would use, sorted by source. */
static struct first_mount *firsts(const struct mount_table *t, size_t *n)
{
	struct first_mount *f = calloc(t->n + 1, sizeof(*f));
	*n = 0;
	if (!f)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		f[i] = (struct first_mount){t->items[i].source, t->items[i].point, t->items[i].nfs,
					    i};
	qsort(f, t->n, sizeof(*f), by_source);
	for (size_t i = 0; i < t->n; i++)
		if (*n == 0 || strcmp(f[*n - 1].source, f[i].source) != 0)
			f[(*n)++] = f[i];
	return f;
}

/*
 * Sources whose first mount point differs between a and b (mounted,
 * unmounted or moved): pointers into the tables, at most a->n + b->n.
 */
static size_t diff_tables(const struct mount_table *a, const struct mount_table *b,
			  const char **out)
{
	size_t na, nb, i = 0, j = 0, n = 0;
	struct first_mount *fa = firsts(a, &na), *fb = firsts(b, &nb);
	if (!fa || !fb)
		na = nb = 0;
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(fa[i].source, fb[j].source);
		if (c < 0)
			out[n++] = fa[i++].source;
		else if (c > 0)
			out[n++] = fb[j++].source;
		else if (strcmp(fa[i].point, fb[j].point) != 0)
			out[n++] = fb[j++].source, i++;
		else
			i++, j++;
	}
	free(fa);
	free(fb);
	return n;
}

/* Reload; tell the callback what changed (outside the lock). */
static void reload(struct mounts *m)
{
	struct mount_table fresh, old;
	int rc = load_table(m->fd, &fresh);
	if (rc) {
		log_warn("cannot reload %s (%s): content links may be stale", MOUNTINFO_PATH,
			 strerror(-rc));
		return;
	}
	pthread_mutex_lock(&m->lock);
	old = m->table;
	m->table = fresh;
	pthread_mutex_unlock(&m->lock);
	/* Only this thread replaces the table: reading fresh unlocked is safe. */
	const char **changed = calloc(old.n + fresh.n + 1, sizeof(*changed));
	size_t n = changed ? diff_tables(&old, &fresh, changed) : 0;
	if (n)
		log_debug("mount table: %zu source(s) mounted or unmounted", n);
	if (n && m->changed)
		m->changed(m->ctx, changed, n);
	free(changed);
	mounts_table_free(&old);
}

/* Wait up to ms (-1: forever): 1 when mountinfo changed, 0 at the timeout, -1 to stop. */
static int wait_change(struct mounts *m, int ms)
{
	struct pollfd p[2] = {{.fd = m->fd, .events = POLLPRI},
			      {.fd = m->wake[0], .events = POLLIN}};
	for (;;) {
		int rc = poll(p, 2, ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0 || p[1].revents || (p[0].revents & POLLNVAL))
			return -1;
		return (p[0].revents & (POLLPRI | POLLERR)) ? 1 : 0;
	}
}

static void *watch(void *arg)
{
	struct mounts *m = arg;
	int rc;
	reload(m); /* whatever changed between mounts_new and now */
	while ((rc = wait_change(m, -1)) >= 0) {
		if (rc == 0)
			continue;
		while ((rc = wait_change(m, SETTLE_MS)) > 0)
			; /* a burst of mounts: reload once it is over */
		if (rc < 0)
			break;
		reload(m);
	}
	return NULL;
}

int mounts_start(struct mounts *m, mounts_changed_fn changed, void *ctx)
{
	if (!m || m->running)
		return 0;
	m->changed = changed;
	m->ctx = ctx;
	m->fd = open(MOUNTINFO_PATH, O_RDONLY | O_CLOEXEC);
	if (m->fd < 0 || pipe2(m->wake, O_CLOEXEC) != 0) {
		int err = -errno;
		mounts_stop(m);
		return err;
	}
	int rc = pthread_create(&m->thread, NULL, watch, m);
	if (rc) {
		mounts_stop(m);
		return -rc;
	}
	m->running = true;
	return 0;
}

void mounts_stop(struct mounts *m)
{
	if (!m)
		return;
	if (m->running) {
		char byte = 1;
		while (write(m->wake[1], &byte, 1) < 0 && errno == EINTR)
			;
		pthread_join(m->thread, NULL);
		m->running = false;
	}
	for (int i = 0; i < 2; i++)
		if (m->wake[i] >= 0)
			close(m->wake[i]);
	if (m->fd >= 0)
		close(m->fd);
	m->fd = m->wake[0] = m->wake[1] = -1;
}

void mounts_free(struct mounts *m)
{
	if (!m)
		return;
	mounts_stop(m);
	mounts_table_free(&m->table);
	pthread_mutex_destroy(&m->lock);
	free(m);
}
