/* vcore: the pure rules of ovhsnapfs-versions (see vcore.h). */
#include "vcore.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

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

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	if (p[0] < 0x80)
		return 1;
	size_t n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || p[0] > 0xf4)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	uint32_t cp = p[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++)
		cp = (cp << 6) | (p[i] & 0x3f);
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, out of range, or a surrogate */
	return n;
}

void vcore_put_json_string(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = utf8_len(p);
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
