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
#include "ovh.h"

#define MAX_ID_LEN 128

static const struct {
	const char *name;
	enum efs_status status;
} status_names[] = {
	{"available", EFS_ST_AVAILABLE}, {"creating", EFS_ST_CREATING},
	{"deleting", EFS_ST_DELETING},	 {"error", EFS_ST_ERROR},
	{"error_deleting", EFS_ST_ERROR_DELETING},
};

const char *efs_status_name(enum efs_status status)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (status_names[i].status == status)
			return status_names[i].name;
	return status == EFS_ST_NONE ? "null" : "other";
}

static enum efs_status parse_status(const char *text)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (strcmp(status_names[i].name, text) == 0)
			return status_names[i].status;
	return EFS_ST_OTHER;
}

int efs_parse_time(const char *text, time_t *out)
{
	struct tm tm = {0};
	int consumed = 0;
	if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
		   &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6 || consumed != 19)
		return -EINVAL;
	const char *p = text + consumed;
	if (*p == '.' || *p == ',')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	long offset = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om, n = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2 || n != 5)
			return -EINVAL;
		offset = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -EINVAL;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = timegm(&tm) - offset;
	return 0;
}

/* Ids end up in URL paths: only unreserved URL characters are accepted. */
static bool id_is_safe(const char *id)
{
	size_t len = strlen(id);
	if (len == 0 || len > MAX_ID_LEN)
		return false;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-._~", *p))
			return false;
	return true;
}

static int decode_fields(json_t *obj, struct efs_object *out)
{
	json_t *id = json_object_get(obj, "id");
	json_t *name = json_object_get(obj, "name");
	json_t *created = json_object_get(obj, "createdAt");
	json_t *status = json_object_get(obj, "status");

	if (!json_is_string(id) || !id_is_safe(json_string_value(id)))
		return -EIO;
	if (name && !json_is_null(name) && !json_is_string(name))
		return -EIO;
	if (created && !json_is_null(created) &&
	    (!json_is_string(created) || efs_parse_time(json_string_value(created), &out->created)))
		return -EIO;
	if (status && !json_is_null(status) && !json_is_string(status))
		return -EIO;
	out->id = strdup(json_string_value(id));
	if (json_is_string(name))
		out->name = strndup(json_string_value(name), json_string_length(name));
	if (json_is_string(status))
		out->status = parse_status(json_string_value(status));
	return out->id ? 0 : -ENOMEM;
}

static int decode_value(json_t *obj, struct efs_object *out)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(obj))
		return -EIO;
	int rc = decode_fields(obj, out);
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
	return rc;
}

static json_t *parse_body(const char *body, size_t len)
{
	json_error_t err;
	json_t *root = json_loadb(body ? body : "", len, JSON_DECODE_ANY, &err);
	if (!root)
		log_error("API reply is not JSON: %s (line %d)", err.text, err.line);
	return root;
}

int efs_decode_object(const char *body, size_t len, struct efs_object *out)
{
	json_t *root = parse_body(body, len);
	int rc = root ? decode_value(root, out) : -EIO;
	if (root && rc == -EIO)
		log_error("API reply is not a valid object (missing or malformed id, name, "
			  "createdAt or status)");
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
		rc = decode_value(json_array_get(root, i), &out->items[i]);
		if (rc == 0)
			out->n++;
		else if (rc == -EIO)
			log_error("API list item %zu is not a valid object", i);
	}
	json_decref(root);
	if (rc)
		efs_list_free(out);
	return rc;
}

/* ---- routes ---- */

static void list_path(char *buf, size_t len, enum efs_kind kind, const char *svc,
		      const char *share)
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
	}
}

static void snapshot_path(char *buf, size_t len, const char *svc, const char *share,
			  const char *snap)
{
	snprintf(buf, len, "/storage/netapp/%s/share/%s/snapshot%s%s", svc, share, snap ? "/" : "",
		 snap ? snap : "");
}

int efs_list(struct ovh_client *api, enum efs_kind kind, const char *svc, const char *share,
	     struct efs_list *out)
{
	struct ovh_response resp;
	char path[512];

	memset(out, 0, sizeof(*out));
	list_path(path, sizeof(path), kind, svc, share);
	int rc = ovh_call(api, "GET", path, NULL, &resp);
	if (rc == 0) {
		rc = efs_decode_list(resp.body, resp.len, out);
		if (rc == -EIO)
			log_error("GET %s: unusable reply (X-Ovh-QueryID: %s)", path,
				  resp.query_id);
	}
	ovh_response_free(&resp);
	return rc;
}

/* A call whose reply should be one snapshot object. */
static int snapshot_call(struct ovh_client *api, const char *method, const char *path,
			 const char *body, struct efs_object *out)
{
	struct ovh_response resp;
	int rc = ovh_call(api, method, path, body, &resp);
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
	ovh_response_free(&resp);
	return rc;
}

int efs_get_snapshot(struct ovh_client *api, const char *svc, const char *share,
		     const char *snap, struct efs_object *out)
{
	char path[512];
	snapshot_path(path, sizeof(path), svc, share, snap);
	return snapshot_call(api, "GET", path, NULL, out);
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

int efs_create_snapshot(struct ovh_client *api, const char *svc, const char *share,
			const char *name, const char *description, struct efs_object *out)
{
	char path[512];
	char *body = snapshot_body(name, description);
	if (!body)
		return -EINVAL; /* not UTF-8: jansson refuses it */
	snapshot_path(path, sizeof(path), svc, share, NULL);
	int rc = snapshot_call(api, "POST", path, body, out);
	free(body);
	return rc;
}

int efs_rename_snapshot(struct ovh_client *api, const char *svc, const char *share,
			const char *snap, const char *new_name, struct efs_object *out)
{
	char path[512];
	char *body = snapshot_body(new_name, NULL);
	struct ovh_response resp;
	if (!body)
		return -EINVAL;
	snapshot_path(path, sizeof(path), svc, share, snap);
	int rc = ovh_call(api, "PUT", path, body, &resp);
	free(body);
	if (rc == 0 && efs_decode_object(resp.body, resp.len, out) != 0)
		rc = efs_get_snapshot(api, svc, share, snap, out); /* PUT may answer null */
	ovh_response_free(&resp);
	return rc;
}

int efs_delete_snapshot(struct ovh_client *api, const char *svc, const char *share,
			const char *snap)
{
	char path[512];
	struct ovh_response resp;
	snapshot_path(path, sizeof(path), svc, share, snap);
	int rc = ovh_call(api, "DELETE", path, NULL, &resp);
	ovh_response_free(&resp);
	return rc;
}

/* ---- memory ---- */

int efs_object_copy(const struct efs_object *src, struct efs_object *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->id = strdup(src->id);
	dst->name = src->name ? strdup(src->name) : NULL;
	dst->json = malloc(src->json_len + 1);
	if (!dst->id || (src->name && !dst->name) || !dst->json) {
		efs_object_free(dst);
		return -ENOMEM;
	}
	memcpy(dst->json, src->json, src->json_len + 1);
	dst->json_len = src->json_len;
	dst->created = src->created;
	dst->status = src->status;
	return 0;
}

void efs_object_free(struct efs_object *obj)
{
	free(obj->id);
	free(obj->name);
	free(obj->json);
	memset(obj, 0, sizeof(*obj));
}

void efs_list_free(struct efs_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		efs_object_free(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}
