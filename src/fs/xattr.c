/* xattr: user.ovh.* names and values, from the cached objects. */
#include "xattr.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "efs.h"
#include "names.h"

enum source { SRC_ID, SRC_NAME, SRC_FIELD };

static const struct attr {
	const char *name;
	enum source source;
	enum efs_field field;
	bool snapshot_only;
} attrs[] = {
	{"user.ovh.id", SRC_ID, 0, false},
	{"user.ovh.name", SRC_NAME, 0, false},
	{"user.ovh.status", SRC_FIELD, EFS_FIELD_STATUS, false},
	{"user.ovh.type", SRC_FIELD, EFS_FIELD_TYPE, true},
	{XATTR_DESCRIPTION, SRC_FIELD, EFS_FIELD_DESCRIPTION, true},
	{"user.ovh.created", SRC_FIELD, EFS_FIELD_CREATED, true},
	{"user.ovh.path", SRC_FIELD, EFS_FIELD_PATH, true},
};
#define N_ATTRS (sizeof(attrs) / sizeof(attrs[0]))

const struct efs_object *xattr_object(const struct node *n, enum node_kind kind)
{
	switch (kind) {
	case NODE_SERVICE:
		return &n->service->obj;
	case NODE_SHARE:
		return &n->share->obj;
	case NODE_SNAPSHOT:
		return &n->snapshot->obj;
	case NODE_POLICIES:
		return &n->policy->obj;
	default:
		return NULL;
	}
}

/* The object a directory stands for; NULL for those without attributes. */
static const struct efs_object *object_of(const struct node *n)
{
	return n->kind == NODE_POLICIES ? NULL : xattr_object(n, n->kind);
}

/* a's value on n, malloc'ed; NULL when it has none. */
static char *value_of(const struct node *n, const struct attr *a)
{
	const struct efs_object *obj = object_of(n);
	if (!obj || (a->snapshot_only && n->kind != NODE_SNAPSHOT))
		return NULL;
	switch (a->source) {
	case SRC_ID:
		return strdup(obj->id);
	case SRC_NAME:
		return obj->name ? strdup(obj->name) : NULL;
	default:
		return efs_object_field(obj, a->field);
	}
}

static const struct attr *find_attr(const char *name)
{
	for (size_t i = 0; i < N_ATTRS; i++)
		if (strcmp(attrs[i].name, name) == 0)
			return &attrs[i];
	return NULL;
}

int xattr_get(const struct node *n, const char *name, char **value, size_t *len)
{
	const struct attr *a = find_attr(name);
	*value = a ? value_of(n, a) : NULL;
	if (!*value)
		return -ENODATA;
	*len = strlen(*value);
	return 0;
}

/* A share's settings (settings.h): listed always, read through the cache by fs. */
static const char *const share_settings[] = {"user.ovh.snapshot_reserve",
					     "user.ovh.snapshot_policy"};

static int list_name(const char *name, char *buf, size_t size, size_t *need)
{
	size_t len = strlen(name) + 1;
	if (size && *need + len > size)
		return -ERANGE;
	if (size)
		memcpy(buf + *need, name, len);
	*need += len;
	return 0;
}

int xattr_list(const struct node *n, char *buf, size_t size)
{
	size_t need = 0;
	for (size_t i = 0; i < N_ATTRS; i++) {
		char *value = value_of(n, &attrs[i]);
		if (!value)
			continue;
		free(value);
		if (list_name(attrs[i].name, buf, size, &need))
			return -ERANGE;
	}
	for (size_t i = 0; n->kind == NODE_SHARE && i < 2; i++)
		if (list_name(share_settings[i], buf, size, &need))
			return -ERANGE;
	return (int)need;
}

static bool has_description(const struct node *n)
{
	char *value = value_of(n, find_attr(XATTR_DESCRIPTION));
	bool has = value != NULL;
	free(value);
	return has;
}

static int parse_description(const struct node *n, const char *value, size_t size, int flags,
			     char **text)
{
	bool has = has_description(n);
	if ((flags & XATTR_CREATE) && has)
		return -EEXIST;
	if ((flags & XATTR_REPLACE) && !has)
		return -ENODATA;
	if (memchr(value, '\0', size))
		return -EINVAL; /* a NUL is a control character too */
	*text = strndup(value, size);
	if (!*text)
		return -ENOMEM;
	int rc = names_check_text(*text);
	if (rc) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

int xattr_parse_set(const struct node *n, const char *name, const char *value, size_t size,
		    int flags, enum xattr_change *change, char **text)
{
	*text = NULL;
	if (n->kind != NODE_SNAPSHOT)
		return -EPERM;
	if (strcmp(name, XATTR_DESCRIPTION) == 0) {
		*change = XATTR_SET_DESCRIPTION;
		return parse_description(n, value, size, flags, text);
	}
	if (strcmp(name, XATTR_HOLD) == 0) {
		*change = XATTR_SET_HOLD;
		return size == 1 && value[0] == '1' ? 0 : -EINVAL;
	}
	return -EPERM;
}

int xattr_check_remove(const struct node *n, const char *name)
{
	if (n->kind != NODE_SNAPSHOT || strcmp(name, XATTR_DESCRIPTION) != 0)
		return -EPERM;
	return has_description(n) ? 0 : -ENODATA;
}
