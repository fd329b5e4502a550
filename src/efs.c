/* efs: OVH EFS JSON models <-> C objects, and the routes that carry them. */
#include "efs.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "ovh.h"

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
	if (!json_is_string(id) || has_nul(id) || !id_is_safe(json_string_value(id)))
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

/* ---- routes ---- */

static void list_path(char *buf, size_t len, enum efs_kind kind, const char *svc, const char *share)
{
	switch (kind) {
	case EFS_SERVICE:
		snprintf(buf, len, "/storage/netapp");
		break;
	case EFS_SHARE:
		snprintf(buf, len, "/storage/netapp/%s/share?detail=true", svc);
		break;
	case EFS_SNAPSHOT:
		snprintf(buf, len, "/storage/netapp/%s/share/%s/snapshot?detail=true", svc, share);
		break;
	case EFS_ACCESS_PATH: /* storage.NetAppShareAccessPath[]: full objects */
		snprintf(buf, len, "/storage/netapp/%s/share/%s/accessPath", svc, share);
		break;
	case EFS_POLICY: /* storage.NetAppSnapshotPolicy[]: full objects, rules included */
		snprintf(buf, len, "/storage/netapp/%s/snapshotPolicy", svc);
		break;
	}
}

void efs_snapshot_path(char *buf, size_t len, const char *svc, const char *share, const char *snap)
{
	snprintf(buf, len, "/storage/netapp/%s/share/%s/snapshot%s%s", svc, share, snap ? "/" : "",
		 snap ? snap : "");
}

int efs_list(struct ovh_client *api, const struct op *op, enum efs_kind kind, const char *svc,
	     const char *share, struct efs_list *out)
{
	struct ovh_response resp;
	char path[512];

	memset(out, 0, sizeof(*out));
	list_path(path, sizeof(path), kind, svc, share);
	int rc = ovh_call(api, op, "GET", path, NULL, &resp);
	if (rc == 0) {
		rc = efs_decode_list(resp.body, resp.len, out);
		if (rc == -EIO)
			log_error("GET %s: unusable reply (X-Ovh-QueryID: %s)", path,
				  resp.query_id);
	}
	ovh_response_free(&resp);
	return rc;
}

/*
 * The API's refusal of one snapshot too many (its wording is undocumented).
 * Only a refusal of the create itself: a 429 ("Too many requests") is
 * throttling, retried by ovh.c, never a quota.
 */
static bool is_limit_refusal(const struct ovh_response *resp)
{
	static const char *const words[] = {"limit", "maximum", "quota", "too many"};
	if (resp->status != 400 && resp->status != 403 && resp->status != 409)
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasestr(resp->error_message, words[i]))
			return true;
	return false;
}

/* A call whose reply should be one snapshot object. */
static int snapshot_call(struct ovh_client *api, const struct op *op, const char *method,
			 const char *path, const char *body, struct efs_object *out)
{
	struct ovh_response resp;
	int rc = ovh_call(api, op, method, path, body, &resp);
	if (rc == 0) {
		rc = efs_decode_object(resp.body, resp.len, out);
		if (rc == -EIO)
			log_error("%s %s: unusable reply (X-Ovh-QueryID: %s)", method, path,
				  resp.query_id);
		if (rc == -EIO && strcmp(method, "POST") == 0)
			resp.outcome_unknown = true; /* it acted, but we cannot say on what */
	}
	if (rc && resp.outcome_unknown)
		rc = -EINPROGRESS;
	else if (rc && strcmp(method, "POST") == 0 && is_limit_refusal(&resp))
		rc = -EDQUOT;
	ovh_response_free(&resp);
	return rc;
}

int efs_get_snapshot(struct ovh_client *api, const struct op *op, const char *svc,
		     const char *share, const char *snap, struct efs_object *out)
{
	char path[512];
	efs_snapshot_path(path, sizeof(path), svc, share, snap);
	return snapshot_call(api, op, "GET", path, NULL, out);
}

static char *snapshot_body(const char *name, const char *description)
{
	json_t *obj = json_object();
	json_object_set_new(obj, "name", json_string(name));
	if (description && *description)
		json_object_set_new(obj, "description", json_string(description));
	char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	return text;
}

int efs_create_snapshot(struct ovh_client *api, const struct op *op, const char *svc,
			const char *share, const char *name, const char *description,
			struct efs_object *out)
{
	char path[512];
	char *body = snapshot_body(name, description);
	if (!body)
		return -EINVAL; /* not UTF-8: jansson refuses it */
	efs_snapshot_path(path, sizeof(path), svc, share, NULL);
	int rc = snapshot_call(api, op, "POST", path, body, out);
	free(body);
	return rc;
}

int efs_delete_snapshot(struct ovh_client *api, const struct op *op, const char *svc,
			const char *share, const char *snap)
{
	char path[512];
	struct ovh_response resp;
	efs_snapshot_path(path, sizeof(path), svc, share, snap);
	int rc = ovh_call(api, op, "DELETE", path, NULL, &resp);
	ovh_response_free(&resp);
	return rc;
}

int efs_hold_snapshot(struct ovh_client *api, const struct op *op, const char *svc,
		      const char *share, const char *snap, struct efs_object *out)
{
	char path[600];
	efs_snapshot_path(path, sizeof(path), svc, share, snap);
	strncat(path, "/hold", sizeof(path) - strlen(path) - 1);
	return snapshot_call(api, op, "POST", path, NULL, out);
}

/* ---- a share's snapshot settings and revert ---- */

static void share_path(char *buf, size_t len, const char *svc, const char *share, const char *tail)
{
	snprintf(buf, len, "/storage/netapp/%s/share/%s%s", svc, share, tail);
}

/* The reply as an efs_object: id and name given, json the reply pretty-printed. */
static int settings_object(json_t *root, const char *id, const char *name, struct efs_object *out)
{
	memset(out, 0, sizeof(*out));
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	size_t len = text ? strlen(text) : 0;
	out->id = strdup(id);
	out->name = name ? strdup(name) : NULL;
	out->json = text ? realloc(text, len + 2) : NULL;
	if (!out->json)
		free(text); /* realloc failed: text is still ours */
	if (!out->id || (name && !out->name) || !out->json) {
		efs_object_free(out);
		return -ENOMEM;
	}
	memcpy(out->json + len, "\n", 2);
	out->json_len = len + 1;
	return 0;
}

/* GET path, its reply parsed into *root (an object), or -EIO logged. */
static int get_object(struct ovh_client *api, const struct op *op, const char *path, json_t **root)
{
	struct ovh_response resp;
	int rc = ovh_call(api, op, "GET", path, NULL, &resp);
	*root = NULL;
	if (rc == 0) {
		*root = json_loadb(resp.body ? resp.body : "", resp.len, 0, NULL);
		if (!json_is_object(*root)) {
			log_error("GET %s: unusable reply (X-Ovh-QueryID: %s)", path,
				  resp.query_id);
			json_decref(*root);
			*root = NULL;
			rc = -EIO;
		}
	}
	ovh_response_free(&resp);
	return rc;
}

int efs_get_reserve(struct ovh_client *api, const struct op *op, const char *svc, const char *share,
		    struct efs_object *out)
{
	char path[512], text[32];
	json_t *root;
	share_path(path, sizeof(path), svc, share, "/snapshotReserve");
	int rc = get_object(api, op, path, &root);
	if (rc)
		return rc;
	json_t *percent = json_object_get(root, "percent");
	if (json_is_integer(percent)) {
		snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(percent));
		rc = settings_object(root, "reserve", text, out);
	} else {
		log_error("GET %s: no percent in the reply", path);
		rc = -EIO;
	}
	json_decref(root);
	return rc;
}

int efs_get_share_policy(struct ovh_client *api, const struct op *op, const char *svc,
			 const char *share, struct efs_object *out)
{
	char path[512];
	json_t *root;
	share_path(path, sizeof(path), svc, share, "/snapshotPolicy");
	int rc = get_object(api, op, path, &root);
	if (rc)
		return rc;
	json_t *id = json_object_get(root, "id");
	if (json_is_null(id) || !id)
		rc = -ENOENT; /* no policy */
	else if (!json_is_string(id) || has_nul(id) || !id_is_safe(json_string_value(id))) {
		log_error("GET %s: no usable policy id in the reply", path);
		rc = -EIO;
	} else
		rc = settings_object(root, json_string_value(id), NULL, out);
	json_decref(root);
	return rc;
}

/* A PUT or POST of a one-field body (the schema's update models); void reply. */
static int send_field(struct ovh_client *api, const struct op *op, const char *method,
		      const char *path, const char *field, json_t *value)
{
	json_t *obj = json_object();
	char *body = NULL;
	if (obj && value && json_object_set_new(obj, field, value) == 0)
		body = json_dumps(obj, JSON_COMPACT);
	else
		json_decref(value);
	json_decref(obj);
	if (!body)
		return -ENOMEM;
	struct ovh_response resp;
	int rc = ovh_call(api, op, method, path, body, &resp);
	if (rc && resp.outcome_unknown)
		rc = -EINPROGRESS;
	ovh_response_free(&resp);
	free(body);
	return rc;
}

int efs_set_reserve(struct ovh_client *api, const struct op *op, const char *svc, const char *share,
		    long percent)
{
	char path[512];
	share_path(path, sizeof(path), svc, share, "/snapshotReserve");
	return send_field(api, op, "PUT", path, "percent", json_integer(percent));
}

int efs_set_share_policy(struct ovh_client *api, const struct op *op, const char *svc,
			 const char *share, const char *policy_id)
{
	char path[512];
	share_path(path, sizeof(path), svc, share, "/snapshotPolicy");
	return send_field(api, op, "PUT", path, "snapshotPolicyID", json_string(policy_id));
}

int efs_revert_share(struct ovh_client *api, const struct op *op, const char *svc,
		     const char *share, const char *snapshot_id)
{
	char path[512];
	share_path(path, sizeof(path), svc, share, "/revert");
	return send_field(api, op, "POST", path, "snapshotID", json_string(snapshot_id));
}

int efs_get_share(struct ovh_client *api, const struct op *op, const char *svc, const char *share,
		  struct efs_object *out)
{
	char path[512];
	struct ovh_response resp;
	share_path(path, sizeof(path), svc, share, "");
	int rc = ovh_call(api, op, "GET", path, NULL, &resp);
	if (rc == 0)
		rc = efs_decode_object(resp.body, resp.len, out);
	ovh_response_free(&resp);
	return rc;
}

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
