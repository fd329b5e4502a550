/* names: the naming rule and the name checks. */
#include "names.h"

#include <errno.h>
#include <string.h>

#include "strindex.h"
#include "utf8.h"

/* A service, share or snapshot of one of these names is listed by its id. */
bool names_is_reserved(const char *name)
{
	return strcmp(name, INFO_FILE) == 0 || strcmp(name, SNAPSHOT_DIR) == 0 ||
	       strcmp(name, STATUS_FILE) == 0 || strcmp(name, POLICIES_DIR) == 0;
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

int names_check_text(const char *text)
{
	if (strlen(text) > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	size_t left = strlen(text);
	for (const unsigned char *p = (const unsigned char *)text; left > 0;) {
		uint32_t cp;
		size_t n = utf8_sequence(p, left, &cp);
		if (n == 0)
			return -EILSEQ;
		if (utf8_is_control(cp))
			return -EINVAL;
		p += n;
		left -= n;
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
