/* mountinfo: "ID PARENT MAJ:MIN ROOT POINT OPTS [TAGS...] - FSTYPE SOURCE SUPER_OPTS". */
#include "mountinfo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 64
#define FIXED	   6 /* id, parent, dev, root, point, options */

/* Undo the octal escapes of a NUL-ended field in place; -EINVAL for an escaped NUL. */
static int unescape(char *s)
{
	char *w = s;
	for (const char *r = s; *r; w++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			if (*w == '\0')
				return -EINVAL; /* a path cannot hold NUL */
			r += 4;
		} else {
			*w = *r++;
		}
	}
	*w = '\0';
	return 0;
}

/* Split line[0..len) at spaces into at most max NUL-ended fields. */
static size_t split(char *line, size_t len, char **fields, size_t max)
{
	size_t n = 0, start = 0;
	for (size_t i = 0; i <= len && n < max; i++) {
		if (i < len && line[i] != ' ')
			continue;
		fields[n++] = line + start;
		if (i < len)
			line[i] = '\0';
		start = i + 1;
	}
	return n;
}

int mountinfo_parse(char *line, size_t len, struct mountinfo_line *out)
{
	char *f[MAX_FIELDS], *end;
	size_t sep, n;
	memset(out, 0, sizeof(*out));
	if (memchr(line, '\0', len))
		return -EINVAL;
	n = split(line, len, f, MAX_FIELDS);
	for (sep = FIXED; sep < n && strcmp(f[sep], "-") != 0; sep++)
		;
	if (sep + 2 >= n)
		return -EINVAL; /* no " - FSTYPE SOURCE" */
	out->id = strtol(f[0], &end, 10);
	if (end == f[0] || *end || unescape(f[3]) || unescape(f[4]) || unescape(f[sep + 2]))
		return -EINVAL;
	out->dev = f[2];
	out->root = f[3];
	out->point = f[4];
	out->mount_opts = f[5];
	out->fstype = f[sep + 1];
	out->source = f[sep + 2];
	out->super_opts = sep + 3 < n ? f[sep + 3] : "";
	return 0;
}

long mountinfo_covers(const char *point, const char *path)
{
	size_t len = strlen(point);
	if (strcmp(point, "/") == 0)
		return 0;
	if (strncmp(path, point, len) == 0 && (path[len] == '/' || path[len] == '\0'))
		return (long)len;
	return -1;
}
