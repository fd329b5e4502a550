/* vcore: the pure rules of ovhsnapfs-versions (see vcore.h). */
#include "vcore.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "utf8.h"

#define NAME_MAX_LEN 255

bool vcore_same_version(const struct stat *a, const struct stat *b)
{
	return (a->st_mode & S_IFMT) == (b->st_mode & S_IFMT) && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

bool vcore_modified(const struct stat *a, const struct stat *b, const char *link_a,
		    const char *link_b)
{
	if (!vcore_same_version(a, b) || (a->st_mode & 07777) != (b->st_mode & 07777))
		return true;
	if (link_a || link_b)
		return !link_a || !link_b || strcmp(link_a, link_b) != 0;
	return false;
}

size_t vcore_unique(const struct stat *st, size_t n, bool *keep)
{
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		keep[i] = true;
		for (size_t j = 0; j < i && keep[i]; j++)
			keep[i] = !vcore_same_version(&st[j], &st[i]);
		kept += keep[i];
	}
	return kept;
}

int vcore_snap_cmp(time_t created_a, const char *name_a, time_t created_b, const char *name_b)
{
	if ((created_a != 0) != (created_b != 0))
		return created_a != 0 ? -1 : 1;
	if (created_a != created_b)
		return created_a < created_b ? -1 : 1;
	return strcmp(name_a, name_b);
}

void vcore_put_escaped(FILE *f, const char *s, bool keep_space)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p > ' ' && *p < 0x7f && *p != '\\') || (keep_space && *p == ' '))
			fputc(*p, f);
		else
			fprintf(f, "\\%04o", (unsigned)*p);
	}
}

void vcore_put_json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		uint32_t cp;
		size_t n = utf8_sequence(p, strnlen((const char *)p, 4), &cp);
		if (n == 0)
			fprintf(f, "\\udc%02x", (unsigned)*p++);
		else if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p++);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", (unsigned)*p++);
		else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
	fputc('"', f);
}

static int checked_name(int written, const char *buf, size_t len)
{
	if (written < 0 || (size_t)written >= len)
		return -ENAMETOOLONG;
	const char *base = strrchr(buf, '/');
	return strlen(base ? base + 1 : buf) > NAME_MAX_LEN ? -ENAMETOOLONG : 0;
}

int vcore_restore_name(const char *path, const char *snapshot, char *buf, size_t len)
{
	return checked_name(snprintf(buf, len, "%s.%s", path, snapshot), buf, len);
}

int vcore_kept_name(const char *path, time_t now, unsigned attempt, char *buf, size_t len)
{
	struct tm tm;
	char stamp[32];
	if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return -EINVAL;
	int w = attempt > 1 ? snprintf(buf, len, "%s.live-%s-%u", path, stamp, attempt)
			    : snprintf(buf, len, "%s.live-%s", path, stamp);
	return checked_name(w, buf, len);
}
