/* names: the naming rule and the name checks. */
#include "names.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "strindex.h"

/* A service, share or snapshot of one of these names is listed by its id. */
bool names_is_reserved(const char *name)
{
	return strcmp(name, INFO_FILE) == 0 || strcmp(name, SNAPSHOT_DIR) == 0 ||
	       strcmp(name, STATUS_FILE) == 0;
}

bool names_is_listable(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > NAME_MAX_BYTES || strchr(name, '/'))
		return false;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	return !names_is_reserved(name);
}

/* Length of the UTF-8 sequence at s (its code point in *out), or 0 when malformed. */
static size_t utf8_sequence(const unsigned char *s, uint32_t *out)
{
	uint32_t cp;
	size_t len;
	*out = s[0];
	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		len = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		len = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0; /* overlong, out of range or a surrogate */
	*out = cp;
	return len;
}

int names_check_text(const char *text)
{
	if (strlen(text) > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	for (const unsigned char *p = (const unsigned char *)text; *p;) {
		uint32_t cp;
		size_t n = utf8_sequence(p, &cp);
		if (n == 0)
			return -EILSEQ;
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return -EINVAL; /* C0, DEL and C1 control characters */
		p += n;
	}
	return 0;
}

int names_check_new(const char *name)
{
	size_t len = strlen(name);
	if (len > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	if (len == 0 || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	int rc = names_check_text(name);
	if (rc)
		return rc;
	return names_is_reserved(name) ? -EINVAL : 0;
}

/* Without memory for an index: compare with every sibling (quadratic, but right). */
static bool name_is_unique_slow(const char *name, const char *const *names, const char *const *ids,
				size_t n, size_t self)
{
	for (size_t j = 0; j < n; j++) {
		if (j != self && names[j] && strcmp(names[j], name) == 0)
			return false;
		if (j != self && strcmp(ids[j], name) == 0)
			return false;
	}
	return true;
}

/* Every name and id of the siblings, counted: one probe answers "unique?". */
static struct strindex *index_siblings(const char *const *names, const char *const *ids, size_t n)
{
	struct strindex *all = strindex_new(2 * n);
	for (size_t i = 0; all && i < n; i++) {
		if (names[i])
			strindex_add(all, names[i], i);
		strindex_add(all, ids[i], i);
	}
	return all;
}

void names_assign(const char *const *names, const char *const *ids, size_t n, const char **display)
{
	struct strindex *all = index_siblings(names, ids, n);
	for (size_t i = 0; i < n; i++) {
		const char *name = names[i];
		bool usable = name && names_is_listable(name);
		if (usable && all) /* others = all uses of the text but its own name and id */
			usable = strindex_count(all, name) - 1 - (strcmp(ids[i], name) == 0) == 0;
		else if (usable)
			usable = name_is_unique_slow(name, names, ids, n, i);
		display[i] = usable ? name : ids[i];
	}
	strindex_free(all);
}
