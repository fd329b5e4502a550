/*
 * libFuzzer target: the mount table and API paths mapped into it (mounts.h).
 *
 * The input is mountinfo text, then a line "--", then API paths, one a line
 * (at most MAX_PATHS). Promises checked: every mount kept has an absolute
 * mount point and a non-empty source without a trailing '/'; a target is
 * always a kept mount point itself or below it ("M/REST"), its REST free of
 * empty, "." and ".." segments; mounts_table_target answers only 0, -ENOENT,
 * -EINVAL or -ENAMETOOLONG. mounts_parse_all keeps a superset: every
 * mount mounts_parse keeps, marked trusted, each with a type and an
 * absolute point.
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "mounts.h"

#define MAX_PATHS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool clean_segments(const char *s)
{
	if (!*s)
		return true;
	for (const char *p = s;;) {
		size_t n = strcspn(p, "/");
		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!p[n])
			return true;
		p += n + 1;
	}
}

/* target is point itself or point + "/" + something; that something, via *rest. */
static bool below(const char *point, const char *target, const char **rest)
{
	size_t n = strcmp(point, "/") == 0 ? 0 : strlen(point);
	if (strncmp(target, point, n) != 0)
		return false;
	if (target[n] == '\0' || (n == 0 && strcmp(target, "/") == 0)) {
		*rest = "";
		return true;
	}
	*rest = target + n + 1;
	return target[n] == '/';
}

static void check_table(const struct mount_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct mount_entry *e = &t->items[i];
		size_t len = strlen(e->source);
		FUZZ_CHECK(e->point[0] == '/', "mount point %zu is not absolute", i);
		FUZZ_CHECK(len > 0 && e->source[len - 1] != '/', "source %zu ends in '/'", i);
	}
}

static void check_target(const struct mount_table *t, const char *path, const char *suffix)
{
	char buf[PATH_MAX];
	int rc = mounts_table_target(t, &path, 1, suffix, buf, sizeof(buf));
	FUZZ_CHECK(rc == 0 || rc == -ENOENT || rc == -EINVAL || rc == -ENAMETOOLONG,
		   "mounts_table_target returned %d", rc);
	if (rc != 0)
		return;
	bool inside = false;
	for (size_t i = 0; i < t->n && !inside; i++) {
		const char *rest;
		inside = below(t->items[i].point, buf, &rest) && clean_segments(rest);
	}
	FUZZ_CHECK(inside, "target '%s' of '%s' is not inside a mount", buf, path);
}

static void check_all(const char *text, size_t len, const struct mount_table *kept)
{
	struct mount_table all;
	if (mounts_parse_all(text, len, &all) != 0)
		abort();
	size_t trusted = 0;
	for (size_t i = 0; i < all.n; i++) {
		FUZZ_CHECK(all.items[i].point[0] == '/' && all.items[i].fstype,
			   "mount %zu of all: no absolute point or no type", i);
		trusted += all.items[i].trusted;
	}
	FUZZ_CHECK(trusted >= kept->n, "%zu trusted mounts, %zu kept", trusted, kept->n);
	mounts_table_free(&all);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	char *sep = strstr(text, "\n--\n");
	size_t table_len = sep ? (size_t)(sep - text) : size;

	struct mount_table t;
	if (mounts_parse(text, table_len, &t) != 0)
		abort(); /* only -ENOMEM, which libFuzzer's limits never reach */
	check_table(&t);
	mounts_table_has_remote(&t);
	check_all(text, table_len, &t);

	char *line = sep ? sep + 4 : NULL;
	for (int n = 0; line && n < MAX_PATHS; n++) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		mounts_path_is_safe(line, strlen(line));
		mounts_is_remote(line);
		check_target(&t, line, NULL);
		check_target(&t, line, ".snapshot/x");
		line = nl ? nl + 1 : NULL;
	}
	mounts_table_free(&t);
	free(text);
	return 0;
}
