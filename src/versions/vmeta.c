/* vmeta: a path's NFS mount, its snapshots, their names and dates (see vmeta.h). */
#include "vmeta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "efs_time.h"
#include "mountinfo.h"
#include "mounts.h"
#include "safetree.h"
#include "vcore.h"

#define SNAPDIR	    ".snapshot"
#define OVH_FSTYPE  "fuse.ovhsnapfs"
#define OVH_SNAPDIR ".snapshots"

/* Lexically drop "." and "x/.." from an absolute path, in place. */
static void normalize(char *p)
{
	char *w = p;
	for (const char *r = p; *r;) {
		while (*r == '/')
			r++;
		size_t n = strcspn(r, "/");
		if (n == 0)
			break;
		if (n == 1 && r[0] == '.') {
		} else if (n == 2 && r[0] == '.' && r[1] == '.') {
			while (w > p && *--w != '/')
				;
		} else {
			*w++ = '/';
			memmove(w, r, n);
			w += n;
		}
		r += n;
	}
	if (w == p)
		*w++ = '/';
	*w = '\0';
}

/* Drop the last component of an absolute path, in place ("/" stays "/"). */
static void cut_last(char *path)
{
	char *slash = strrchr(path, '/');
	slash[slash == path ? 1 : 0] = '\0';
}

/*
 * The canonical form of abs: realpath of its longest existing parent, plus
 * the rest; the last component is never resolved (a symbolic link in the
 * share is a file of its own, with versions of its own).
 */
static char *canonical(const char *abs)
{
	char *head = strdup(abs);
	if (!head)
		return NULL;
	for (cut_last(head);; cut_last(head)) {
		char *real = realpath(head, NULL);
		if (real || errno == ENOMEM || strcmp(head, "/") == 0) {
			const char *rest = strcmp(head, "/") == 0 ? abs : abs + strlen(head);
			bool root = real && strcmp(real, "/") == 0;
			char *out = NULL;
			if (real && asprintf(&out, "%s%s", root ? "" : real,
					     root && !*rest ? "/" : rest) < 0)
				out = NULL;
			free(real);
			free(head);
			return out;
		}
	}
}

static char *absolute(const char *path)
{
	char cwd[PATH_MAX], *out = NULL;
	if (path[0] == '/')
		out = strdup(path);
	else if (getcwd(cwd, sizeof(cwd)) && asprintf(&out, "%s/%s", cwd, path) < 0)
		out = NULL;
	if (out)
		normalize(out);
	return out;
}

/* The mount on top of live (longest point, last in order): its index, or -1. */
static long holder(const struct mount_table *t, const char *live)
{
	long best = -1, best_len = -1;
	for (size_t i = 0; i < t->n; i++) {
		long len = mountinfo_covers(t->items[i].point, live);
		if (len >= 0 && len >= best_len) {
			best = (long)i;
			best_len = len;
		}
	}
	return best;
}

/* A path in a snapshot (.snapshot/NAME/REST) stands for the live REST. */
static const char *outside_snapdir(const char *rel)
{
	if (strncmp(rel, SNAPDIR "/", sizeof(SNAPDIR)) != 0)
		return rel;
	const char *name = rel + sizeof(SNAPDIR), *slash = strchr(name, '/');
	return slash ? slash + 1 : "";
}

/* live = mount/rel again (rel may have dropped a .snapshot/NAME prefix): 0 or -ENOMEM. */
static int relive(struct vplace *p)
{
	char *live = NULL;
	if (asprintf(&live, "%s%s%s", strcmp(p->mount, "/") ? p->mount : "", *p->rel ? "/" : "",
		     p->rel) < 0)
		return -ENOMEM;
	free(p->live);
	p->live = *live ? live : (free(live), strdup("/"));
	return p->live ? 0 : -ENOMEM;
}

int vmeta_locate(const char *path, struct vplace *out)
{
	struct mount_table t;
	memset(out, 0, sizeof(*out));
	char *abs = absolute(path);
	out->live = abs ? canonical(abs) : NULL;
	free(abs);
	if (!out->live)
		return -ENOMEM;
	int rc = mounts_load_all(&t);
	if (rc < 0)
		return rc;
	long i = holder(&t, out->live);
	rc = -EXDEV;
	if (i >= 0 && t.items[i].trusted && mounts_is_remote(t.items[i].source)) {
		const char *rest = out->live + strlen(t.items[i].point);
		rest = outside_snapdir(rest + strspn(rest, "/"));
		out->mount = strdup(t.items[i].point);
		out->source = strdup(t.items[i].source);
		out->rel = strdup(rest);
		rc = out->mount && out->source && out->rel ? relive(out) : -ENOMEM;
	}
	mounts_table_free(&t);
	return rc;
}

static int add_snap(struct vplace *p, const char *name)
{
	struct vsnap *more = realloc(p->snaps, (p->n + 1) * sizeof(*more));
	if (!more)
		return -ENOMEM;
	p->snaps = more;
	struct vsnap *s = &more[p->n];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	if (!s->name || asprintf(&s->dir, "%s/%s/%s", strcmp(p->mount, "/") == 0 ? "" : p->mount,
				 SNAPDIR, name) < 0) {
		free(s->name);
		return -ENOMEM;
	}
	p->n++;
	return 0;
}

static int list_snapdir(struct vplace *p)
{
	char *dir = NULL;
	if (asprintf(&dir, "%s/%s", strcmp(p->mount, "/") == 0 ? "" : p->mount, SNAPDIR) < 0)
		return -ENOMEM;
	DIR *d = opendir(dir);
	int rc = d ? 0 : -errno;
	free(dir);
	for (struct dirent *e; d && rc == 0 && (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (e->d_type == DT_DIR || e->d_type == DT_UNKNOWN)
			rc = add_snap(p, e->d_name);
	}
	if (d)
		closedir(d);
	return rc;
}

/* ---- names and dates from an ovhsnapfs mount ---- */

static json_t *load_info(const char *dir)
{
	char *path = NULL;
	if (asprintf(&path, "%s/info.json", dir) < 0)
		return NULL;
	json_t *j = json_load_file(path, 0, NULL);
	free(path);
	return json_is_object(j) ? j : (json_decref(j), NULL);
}

static const char *jstr(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

/* The NFS name of the snapshot info describes: its path's last part under .snapshot. */
static const char *nfs_name(const struct vplace *p, json_t *info)
{
	const char *path = jstr(info, "path"), *name = jstr(info, "name");
	size_t len = strlen(p->source);
	if (path && strncmp(path, p->source, len) == 0 &&
	    strncmp(path + len, "/" SNAPDIR "/", sizeof(SNAPDIR) + 1) == 0)
		return path + len + sizeof(SNAPDIR) + 1;
	return name;
}

static void take_info(struct vplace *p, json_t *info)
{
	const char *name = nfs_name(p, info), *id = jstr(info, "id"),
		   *created = jstr(info, "createdAt");
	for (size_t i = 0; name && i < p->n; i++) {
		struct vsnap *s = &p->snaps[i];
		if (strcmp(s->name, name) != 0 || s->id)
			continue;
		s->id = id ? strdup(id) : NULL;
		s->created = created ? strdup(created) : NULL;
		if (!created || efs_parse_time(created, &s->created_t) < 0)
			s->created_t = 0;
		return;
	}
}

static bool visible(const struct dirent *e)
{
	return e->d_name[0] != '.' && strcmp(e->d_name, "info.json") != 0;
}

/* Call fn(path, ctx) for each listed entry of dir until it returns true. */
static bool each_dir(const char *dir, bool (*fn)(const char *, void *), void *ctx)
{
	DIR *d = opendir(dir);
	bool done = false;
	for (struct dirent *e; d && !done && (e = readdir(d));) {
		char *path = NULL;
		if (visible(e) && asprintf(&path, "%s/%s", dir, e->d_name) >= 0)
			done = fn(path, ctx);
		free(path);
	}
	if (d)
		closedir(d);
	return done;
}

struct share_search {
	const struct vplace *p;
	int pass; /* content links: 0 of shares whose id the export names, 1 of the others;
		     2: snapshots' paths */
	char *found;
};

/* The export names the share's id (share_ID, as EFS names them): ask that share first. */
static bool named_by_source(const char *share, const char *source)
{
	json_t *info = load_info(share);
	const char *id = info ? jstr(info, "id") : NULL;
	bool named = id && *id && strstr(source, id);
	json_decref(info);
	return named;
}

static bool first_snapshot_names_mount(const char *snap, void *ctx)
{
	struct share_search *s = ctx;
	json_t *info = load_info(snap);
	const char *path = info ? jstr(info, "path") : NULL;
	size_t len = strlen(s->p->source);
	bool match = path && strncmp(path, s->p->source, len) == 0 && path[len] == '/';
	json_decref(info);
	return match;
}

static bool share_matches(const char *share, void *ctx)
{
	struct share_search *s = ctx;
	char *link = NULL, target[PATH_MAX];
	bool match = false;
	if (s->pass < 2 && named_by_source(share, s->p->source) != (s->pass == 0))
		return false;
	if (s->pass < 2 && asprintf(&link, "%s/content", share) >= 0) {
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		match = n > 0 && strcmp(target, s->p->mount) == 0;
	} else if (s->pass == 2 && asprintf(&link, "%s/" OVH_SNAPDIR, share) >= 0) {
		match = each_dir(link, first_snapshot_names_mount, s);
	}
	free(link);
	if (match)
		s->found = strdup(share);
	return match;
}

static bool service_has_share(const char *service, void *ctx)
{
	return each_dir(service, share_matches, ctx);
}

static char *find_share(const struct vplace *p, const char *ovh_mount)
{
	struct share_search s = {.p = p};
	for (s.pass = 0; s.pass < 3 && !s.found; s.pass++)
		each_dir(ovh_mount, service_has_share, &s);
	return s.found;
}

static bool add_info(const char *snap, void *ctx)
{
	json_t *info = load_info(snap);
	if (info)
		take_info(ctx, info);
	json_decref(info);
	return false;
}

static void names_from(struct vplace *p, const char *ovh_mount)
{
	char *share = find_share(p, ovh_mount), *dir = NULL;
	if (share && asprintf(&dir, "%s/" OVH_SNAPDIR, share) >= 0) {
		each_dir(dir, add_info, p);
		p->ovh = share;
		share = NULL;
	}
	free(dir);
	free(share);
}

/*
 * An ovhsnapfs mount whose names, ids and dates may pick what --restore
 * copies: one root mounted (user_id=0 in its super options, which the
 * kernel takes from fusermount3, who sets the real uid of whoever mounts),
 * or one of the user running this tool. Another user's mount could name
 * any snapshot anything.
 */
static bool trusted_ovh(const struct mount_entry *e)
{
	return strcmp(e->fstype, OVH_FSTYPE) == 0 &&
	       (e->user_id == 0 || e->user_id == (long)geteuid());
}

static void names_from_any(struct vplace *p)
{
	struct mount_table t;
	if (mounts_load_all(&t) < 0)
		return;
	for (size_t i = 0; i < t.n && !p->ovh; i++)
		if (trusted_ovh(&t.items[i]))
			names_from(p, t.items[i].point);
	mounts_table_free(&t);
}

/* ovh_mount, given by --mount, unless the mount table shows it as another user's ovhsnapfs. */
static bool given_is_trusted(const char *ovh_mount)
{
	struct mount_table t;
	bool trusted = true;
	if (mounts_load_all(&t) < 0)
		return false;
	for (size_t i = 0; i < t.n; i++)
		if (strcmp(t.items[i].point, ovh_mount) == 0)
			trusted = strncmp(t.items[i].fstype, "fuse", 4) != 0 ||
				  trusted_ovh(&t.items[i]);
	mounts_table_free(&t);
	if (!trusted)
		fprintf(stderr,
			"ovhsnapfs-versions: %s: another user's mount: its names and dates are "
			"not used\n",
			ovh_mount);
	return trusted;
}

static int by_date(const void *a, const void *b)
{
	const struct vsnap *x = a, *y = b;
	return vcore_snap_cmp(x->created_t, x->name, y->created_t, y->name);
}

int vmeta_snapshots(struct vplace *p)
{
	int rc = list_snapdir(p);
	if (rc == 0 && p->n > 1)
		qsort(p->snaps, p->n, sizeof(*p->snaps), by_date);
	return rc;
}

void vmeta_names(struct vplace *p, const char *ovh_mount)
{
	if (ovh_mount) {
		if (given_is_trusted(ovh_mount))
			names_from(p, ovh_mount);
	} else
		names_from_any(p);
	if (p->n > 1)
		qsort(p->snaps, p->n, sizeof(*p->snaps), by_date);
}

const struct vsnap *vmeta_find(const struct vplace *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->snaps[i].name, name) == 0)
			return &p->snaps[i];
	for (size_t i = 0; i < p->n; i++)
		if (p->snaps[i].id && strcmp(p->snaps[i].id, name) == 0)
			return &p->snaps[i];
	return NULL;
}

char *vmeta_path_in(const struct vplace *p, const struct vsnap *s)
{
	char *out = NULL;
	if (asprintf(&out, "%s%s%s", s->dir, *p->rel ? "/" : "", p->rel) < 0)
		return NULL;
	return out;
}

int vmeta_open_in(const struct vplace *p, const struct vsnap *s, int flags)
{
	int root = open(s ? s->dir : p->mount,
			O_RDONLY | O_DIRECTORY | O_CLOEXEC | (s ? O_NOFOLLOW : 0));
	if (root < 0)
		return -errno;
	int fd = safetree_open(root, p->rel, flags, 0);
	close(root);
	return fd;
}

int vmeta_stat_in(const struct vplace *p, const struct vsnap *s, struct stat *st)
{
	int root = open(s ? s->dir : p->mount,
			O_PATH | O_DIRECTORY | O_CLOEXEC | (s ? O_NOFOLLOW : 0));
	if (root < 0)
		return -errno;
	int rc = *p->rel ? safetree_stat(root, p->rel, st) : fstat(root, st) < 0 ? -errno : 0;
	close(root);
	return rc;
}

void vmeta_free(struct vplace *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->snaps[i].name);
		free(p->snaps[i].id);
		free(p->snaps[i].created);
		free(p->snaps[i].dir);
	}
	free(p->snaps);
	free(p->live);
	free(p->mount);
	free(p->source);
	free(p->rel);
	free(p->ovh);
	memset(p, 0, sizeof(*p));
}
