/* efs: the routes of the OVH EFS models and the calls that carry them (models: efs_model.c). */
#include "efs.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efs_model.h"
#include "log.h"
#include "ovh.h"

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

/* snapshot_call on snapshot snap's path followed by tail ("" or "/hold"). */
static int snapshot_at(struct ovh_client *api, const struct op *op, const char *method,
		       const char *svc, const char *share, const char *snap, const char *tail,
		       struct efs_object *out)
{
	char path[600];
	efs_snapshot_path(path, sizeof(path), svc, share, snap);
	strncat(path, tail, sizeof(path) - strlen(path) - 1);
	return snapshot_call(api, op, method, path, NULL, out);
}

int efs_get_snapshot(struct ovh_client *api, const struct op *op, const char *svc,
		     const char *share, const char *snap, struct efs_object *out)
{
	return snapshot_at(api, op, "GET", svc, share, snap, "", out);
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
	return snapshot_at(api, op, "POST", svc, share, snap, "/hold", out);
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

/* GET a share's setting (tail: "/snapshotReserve", ...): its path into path, its reply in *root. */
static int get_setting(struct ovh_client *api, const struct op *op, const char *svc,
		       const char *share, const char *tail, char *path, size_t len, json_t **root)
{
	share_path(path, len, svc, share, tail);
	return get_object(api, op, path, root);
}

int efs_get_reserve(struct ovh_client *api, const struct op *op, const char *svc, const char *share,
		    struct efs_object *out)
{
	char path[512], text[32];
	json_t *root;
	int rc = get_setting(api, op, svc, share, "/snapshotReserve", path, sizeof(path), &root);
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
	int rc = get_setting(api, op, svc, share, "/snapshotPolicy", path, sizeof(path), &root);
	if (rc)
		return rc;
	json_t *id = json_object_get(root, "id");
	if (json_is_null(id) || !id)
		rc = -ENOENT; /* no policy */
	else if (!efs_usable_id(id)) {
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
