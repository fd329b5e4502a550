/* autotree: a share's .snapshots read through the mounted tree (readdir, stat, info.json). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto.h"
#include "efs_time.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static bool is_subdir(DIR *d, const struct dirent *de)
{
	struct stat st;
	if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
		return false;
	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* The subdirectories of path, sorted; 0 or -errno. */
int subdirs(const char *path, char ***out, size_t *n_out)
{
	DIR *d = opendir(path);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;

	if (!d)
		return -errno;
	errno = 0;
	while ((de = readdir(d))) {
		if (!is_subdir(d, de))
			continue;
		char **grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			names = grown ? grown : names;
			errno = ENOMEM;
			break;
		}
		names = grown;
		n++;
		errno = 0;
	}
	int rc = -errno;
	closedir(d);
	if (rc) {
		free_names(names, n);
		return rc;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	*out = names;
	*n_out = n;
	return 0;
}

void share_free(struct share *s)
{
	for (size_t i = 0; i < s->n; i++)
		json_decref(s->infos[i]);
	free_names(s->entries, s->n);
	free(s->infos);
	free(s->snaps);
}

static const char *field(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/*
 * Whether info.json has a createdAt the mount could use: without one, the
 * directory's mtime is only the time the mount started.
 */
static bool created_known(json_t *info)
{
	json_t *created = json_object_get(info, "createdAt");
	time_t t;
	return json_is_string(created) &&
	       strlen(json_string_value(created)) == json_string_length(created) &&
	       efs_parse_time(json_string_value(created), &t) == 0;
}

/* Fill snap from entry's directory and info.json; 0, or -errno. */
static int read_snapshot(const struct share *s, size_t i)
{
	struct autoplan_snap *snap = &s->snaps[i];
	char *path;
	struct stat st;
	json_error_t jerr;

	*snap = (struct autoplan_snap){.entry = s->entries[i]};
	if (asprintf(&path, "%s/%s/" INFO_FILE, s->snapdir, s->entries[i]) < 0)
		return -ENOMEM;
	int rc = 0;
	char *dir = strndup(path, strlen(path) - strlen("/" INFO_FILE));
	if (!dir || stat(dir, &st) != 0)
		rc = dir ? -errno : -ENOMEM;
	else if (!(s->infos[i] = json_load_file(path, 0, &jerr)))
		rc = access(path, R_OK) == 0 ? -EBADMSG : -errno;
	free(dir);
	free(path);
	if (rc)
		return rc;
	snap->created = st.st_mtime;
	snap->created_unknown = !created_known(s->infos[i]);
	snap->name = field(s->infos[i], "name");
	snap->type = field(s->infos[i], "type");
	snap->status = field(s->infos[i], "status");
	return 0;
}

/* List the share's snapshots; 0 or -errno (reported). A snapshot gone meanwhile is skipped. */
int load_share(struct run *r, struct share *s)
{
	int rc = subdirs(s->snapdir, &s->entries, &s->n);
	if (rc) {
		fail(r, s->label, "cannot list", SNAPSHOT_DIR, strerror(-rc));
		return rc;
	}
	s->infos = calloc(s->n + 1, sizeof(*s->infos));
	s->snaps = calloc(s->n + 1, sizeof(*s->snaps));
	if (!s->infos || !s->snaps) {
		fail(r, s->label, "cannot list", SNAPSHOT_DIR, strerror(ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++) {
		rc = read_snapshot(s, i);
		if (rc && rc != -ENOENT)
			fail(r, s->label, "cannot read the info.json of", s->entries[i],
			     strerror(-rc)); /* left alone: its type is unknown */
	}
	return 0;
}

bool name_present(const struct share *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->entries[i], name) == 0 ||
		    (s->snaps[i].name && strcmp(s->snaps[i].name, name) == 0))
			return true;
	return false;
}

char *child(const char *dir, const char *name)
{
	char *path;
	return asprintf(&path, "%s/%s", dir, name) < 0 ? NULL : path;
}
