/*
 * efs_model: the EFS models as C objects (efs_model.h): a reply's JSON
 * decoded field by field, fields read from an object's JSON, copy and free.
 */
#include "efs_model.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efs.h"
#include "log.h"
#include "names.h"

#define MAX_ID_LEN 128

static const struct {
	const char *name;
	enum efs_status status;
} status_names[] = {
	{"available", EFS_ST_AVAILABLE},
	{"creating", EFS_ST_CREATING},
	{"deleting", EFS_ST_DELETING},
	{"error", EFS_ST_ERROR},
	{"error_deleting", EFS_ST_ERROR_DELETING},
	{"manage_starting", EFS_ST_MANAGE_STARTING},
	{"manage_error", EFS_ST_MANAGE_ERROR},
	{"unmanage_starting", EFS_ST_UNMANAGE_STARTING},
	{"unmanage_error", EFS_ST_UNMANAGE_ERROR},
	{"restoring", EFS_ST_RESTORING},
};

/* The enum's name; "null" for none; "unknown" for a value only the JSON holds (efs_status_text). */
const char *efs_status_name(enum efs_status status)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (status_names[i].status == status)
			return status_names[i].name;
	return status == EFS_ST_NONE ? "null" : "unknown";
}

static enum efs_status parse_status(const char *text)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (strcmp(status_names[i].name, text) == 0)
			return status_names[i].status;
	return EFS_ST_OTHER;
}

const char *efs_status_text(const struct efs_object *obj, char *buf, size_t size)
{
	if (obj->status != EFS_ST_OTHER || size == 0)
		return efs_status_name(obj->status);
	char *text = efs_object_field(obj, EFS_FIELD_STATUS);
	if (!text)
		return "unusable (not a string)";
	size_t n = 0;
	for (const char *p = text; *p && n + 1 < size; p++)
		buf[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
	buf[n] = '\0';
	free(text);
	return buf;
}

/*
 * Ids end up in URL paths and file names: only unreserved URL characters,
 * and never a dot segment (libcurl would resolve "snapshot/.." to the share).
 */
static bool id_is_safe(const char *id)
{
	size_t len = strlen(id);
	if (len == 0 || len > MAX_ID_LEN || strcmp(id, ".") == 0 || strcmp(id, "..") == 0 ||
	    names_is_reserved(id))
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-._~", *p))
			return false;
	return true;
}

/* A string with a \u0000 inside (or not a string): never an id, name, date or status. */
static bool has_nul(json_t *text)
{
	return json_is_string(text) && strlen(json_string_value(text)) != json_string_length(text);
}

/* A string fit for an id: no \u0000 in it, only unreserved URL characters, no dot segment. */
bool efs_usable_id(json_t *id)
{
	return json_is_string(id) && !has_nul(id) && id_is_safe(json_string_value(id));
}

/* Fields of an object that could not be used, for the one log line it gets. */
enum { BAD_NAME = 1, BAD_CREATED = 2, BAD_STATUS = 4, BAD_PATH = 8 };

/* A string without \u0000, or null (absent): usable. */
static bool is_text_or_null(json_t *v)
{
	return !v || json_is_null(v) || (json_is_string(v) && !has_nul(v));
}

/*
 * One bad field is not a bad object: an unusable name (a number, a NUL in
 * it) lists the object by its id, an unusable createdAt (no offset, say)
 * gives no date, an unusable status counts as unknown. Only an unusable id
 * makes the object unusable (-EIO). *bad says which fields were dropped.
 */
static int decode_fields(json_t *obj, struct efs_object *out, unsigned *bad)
{
	json_t *id = json_object_get(obj, "id");
	json_t *name = json_object_get(obj, "name");
	json_t *created = json_object_get(obj, "createdAt");
	json_t *status = json_object_get(obj, "status");
	json_t *path = json_object_get(obj, "path");

	*bad = 0;
	if (!efs_usable_id(id))
		return -EIO;
	if (!is_text_or_null(name))
		*bad |= BAD_NAME;
	else if (json_is_string(name) && !(out->name = strdup(json_string_value(name))))
		return -ENOMEM;
	if (!is_text_or_null(created) ||
	    (json_is_string(created) && efs_parse_time(json_string_value(created), &out->created)))
		*bad |= BAD_CREATED;
	if (!is_text_or_null(status)) {
		*bad |= BAD_STATUS;
		out->status = EFS_ST_OTHER;
	} else if (json_is_string(status)) {
		out->status = parse_status(json_string_value(status));
	}
	if (path && !json_is_null(path) && !json_is_string(path)) {
		*bad |= BAD_PATH;
	} else if (json_is_string(path)) {
		/* Kept whole, a NUL included, so that content links can refuse it (content.h). */
		out->path_len = json_string_length(path);
		out->path = malloc(out->path_len + 1);
		if (!out->path)
			return -ENOMEM;
		memcpy(out->path, json_string_value(path), out->path_len + 1);
	}
	out->id = strdup(json_string_value(id));
	return out->id ? 0 : -ENOMEM;
}

/* The one line an object with unusable fields gets (escaped by log.c). */
static void log_bad_fields(const struct efs_object *o, unsigned bad)
{
	if (!bad)
		return;
	static const char *const names[] = {"name", "createdAt", "status", "path"};
	char fields[64] = "";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (bad & (1u << i))
			snprintf(fields + strlen(fields), sizeof(fields) - strlen(fields), "%s%s",
				 fields[0] ? ", " : "", names[i]);
	log_warn("object %s: the API gave an unusable %s; %s", o->id, fields,
		 bad & BAD_NAME ? "listed by its id" : "the rest is used");
}

static int decode_value(json_t *obj, struct efs_object *out)
{
	unsigned bad = 0;
	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return -EIO;
	int rc = decode_fields(obj, out, &bad);
	if (rc == 0) {
		char *text = json_dumps(obj, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		size_t len = text ? strlen(text) : 0;
		out->json = text ? realloc(text, len + 2) : NULL;
		if (!out->json) {
			free(text);
			rc = -ENOMEM;
		} else {
			memcpy(out->json + len, "\n", 2);
			out->json_len = len + 1;
		}
	}
	if (rc)
		efs_object_free(out);
	else
		log_bad_fields(out, bad);
	return rc;
}

static json_t *parse_body(const char *body, size_t len)
{
	json_error_t err;
	/* \u0000 is valid JSON: decoded, then refused field by field (decode_fields) */
	json_t *root = json_loadb(body ? body : "", len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!root)
		log_error("API reply is not JSON: %s (line %d)", err.text, err.line);
	return root;
}

int efs_decode_object(const char *body, size_t len, struct efs_object *out)
{
	json_t *root = parse_body(body, len);
	int rc = root ? decode_value(root, out) : -EIO;
	if (root && rc == -EIO)
		log_error("API reply is not a valid object (missing or malformed id)");
	json_decref(root);
	return rc;
}

int efs_decode_list(const char *body, size_t len, struct efs_list *out)
{
	json_t *root = parse_body(body, len);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!root)
		return -EIO;
	if (!json_is_array(root)) {
		log_error("API list reply is not an array");
		rc = -EIO;
	}
	size_t n = rc ? 0 : json_array_size(root);
	out->items = n ? calloc(n, sizeof(*out->items)) : NULL;
	if (n && !out->items)
		rc = -ENOMEM;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		/* One bad object is not a bad directory: it is left out, the rest listed. */
		rc = decode_value(json_array_get(root, i), &out->items[out->n]);
		if (rc == 0)
			out->n++;
		else if (rc == -EIO)
			log_error("API list item %zu has no usable id: left out", i);
		if (rc == -EIO)
			rc = 0;
	}
	if (rc == 0 && n > 0 && out->n == 0) {
		log_error("API list reply holds no usable object");
		rc = -EIO; /* the reply's shape is wrong, not one object */
	}
	json_decref(root);
	if (rc)
		efs_list_free(out);
	return rc;
}

/* ---- fields read on demand ---- */

static const char *const field_names[] = {
	[EFS_FIELD_STATUS] = "status",
	[EFS_FIELD_TYPE] = "type",
	[EFS_FIELD_DESCRIPTION] = "description",
	[EFS_FIELD_CREATED] = "createdAt",
	[EFS_FIELD_PATH] = "path",
};

char *efs_object_field(const struct efs_object *obj, enum efs_field field)
{
	if ((size_t)field >= sizeof(field_names) / sizeof(field_names[0]) || !obj->json)
		return NULL;
	json_t *root = json_loadb(obj->json, obj->json_len, 0, NULL);
	json_t *value = json_object_get(root, field_names[field]);
	char *text = json_is_string(value)
			     ? strndup(json_string_value(value), json_string_length(value))
			     : NULL;
	json_decref(root);
	return text;
}

bool efs_is_automatic(const struct efs_object *obj)
{
	char *type = efs_object_field(obj, EFS_FIELD_TYPE);
	bool automatic = type && strcmp(type, "automatic") == 0;
	free(type);
	return automatic;
}

bool efs_is_preferred(const struct efs_object *obj)
{
	json_t *root = obj->json ? json_loadb(obj->json, obj->json_len, 0, NULL) : NULL;
	bool preferred = json_is_true(json_object_get(root, "preferred"));
	json_decref(root);
	return preferred;
}

/* ---- memory ---- */

int efs_object_copy(const struct efs_object *src, struct efs_object *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->id = strdup(src->id);
	dst->name = src->name ? strdup(src->name) : NULL;
	dst->json = malloc(src->json_len + 1);
	dst->path = src->path ? malloc(src->path_len + 1) : NULL;
	if (!dst->id || (src->name && !dst->name) || !dst->json || (src->path && !dst->path)) {
		efs_object_free(dst);
		return -ENOMEM;
	}
	memcpy(dst->json, src->json, src->json_len + 1);
	dst->json_len = src->json_len;
	if (src->path)
		memcpy(dst->path, src->path, src->path_len + 1);
	dst->path_len = src->path_len;
	dst->created = src->created;
	dst->status = src->status;
	return 0;
}

void efs_object_free(struct efs_object *obj)
{
	free(obj->id);
	free(obj->name);
	free(obj->json);
	free(obj->path);
	memset(obj, 0, sizeof(*obj));
}

void efs_list_free(struct efs_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		efs_object_free(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}
