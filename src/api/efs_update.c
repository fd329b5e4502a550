/* efs_update: a snapshot's PUT (name, description) and a lost answer's confirmation. */
#include "efs.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "ovh.h"

/*
 * The body of a PUT: both fields of the schema's NetAppShareSnapshotUpdate,
 * each a string or null, so that an API that reads a missing field as null
 * clears nothing (Terraform's provider sends both too). NULL when a text is
 * not UTF-8 (jansson refuses it) or no memory.
 */
static char *update_body(const char *name, const char *description)
{
	json_t *obj = json_object();
	json_t *n = name ? json_string(name) : json_null();
	json_t *d = description ? json_string(description) : json_null();
	char *text = NULL;
	if (obj && n && d && json_object_set_new(obj, "name", n) == 0 &&
	    json_object_set_new(obj, "description", d) == 0)
		text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	else {
		json_decref(n);
		json_decref(d);
	}
	json_decref(obj);
	return text;
}

/* The description of a snapshot as the API gave it (in its JSON), malloc'ed; NULL: none. */
static char *current_description(const struct efs_object *cur)
{
	json_t *doc = cur->json ? json_loadb(cur->json, cur->json_len, 0, NULL) : NULL;
	const char *d = json_string_value(json_object_get(doc, "description"));
	char *copy = d ? strdup(d) : NULL;
	json_decref(doc);
	return copy;
}

/*
 * The snapshot as a PUT the API carried out left it: cur with the fields of
 * body. For an answer without the object (null, empty: the API may send
 * that; Terraform's provider never reads it): the change was made, and
 * another GET would cost a call and could fail it. The cache's TTL reads
 * the rest (status, new fields) again in its time.
 */
static int updated_locally(const struct efs_object *cur, const char *body, struct efs_object *out)
{
	json_t *root = cur->json ? json_loadb(cur->json, cur->json_len, 0, NULL) : NULL;
	json_t *fields = json_loads(body, 0, NULL);
	char *text = NULL;
	if (json_is_object(root) && json_is_object(fields) && json_object_update(root, fields) == 0)
		text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	json_decref(fields);
	if (!text)
		return -ENOMEM;
	int rc = efs_decode_object(text, strlen(text), out);
	free(text);
	return rc;
}

/* A reply that carries no object: empty, or JSON null. */
static bool no_object(const struct ovh_response *resp)
{
	size_t n = resp->len;
	const char *b = resp->body ? resp->body : "";
	while (n && strchr(" \t\r\n", b[n - 1]))
		n--;
	while (n && strchr(" \t\r\n", *b)) {
		b++;
		n--;
	}
	return n == 0 || (n == 4 && memcmp(b, "null", 4) == 0);
}

/* Whether the snapshot now holds every field of the PUT body (its change is made). */
static bool holds_fields(const struct efs_object *now, const char *body)
{
	json_t *root = now->json ? json_loadb(now->json, now->json_len, 0, NULL) : NULL;
	json_t *fields = json_loads(body, 0, NULL), *value;
	const char *key;
	bool holds = json_is_object(root) && json_is_object(fields);
	json_object_foreach(holds ? fields : NULL, key, value)
	{
		json_t *has = json_object_get(root, key);
		holds = holds && (has ? json_equal(has, value) : json_is_null(value));
	}
	json_decref(root);
	json_decref(fields);
	return holds;
}

/* PUT tries (retries= may allow fewer) whose lost answer is confirmed by GETs before the next. */
#define PUT_CONFIRMED_TRIES 3
/* GETs, a second apart, that look for the change of a PUT whose answer was lost. */
#define PUT_CONFIRM_GETS 3

/* 1: the change shows (in *now), 0: it does not after PUT_CONFIRM_GETS, -errno: a GET failed. */
static int change_shows(struct ovh_client *api, const struct op *op, const char *svc,
			const char *share, const char *id, const char *body, struct efs_object *now)
{
	for (int i = 0; i < PUT_CONFIRM_GETS; i++) {
		int rc = (i ? op_sleep(op, 1.0) : 0);
		if (rc == 0)
			rc = efs_get_snapshot(api, op, svc, share, id, now);
		if (rc)
			return rc;
		if (holds_fields(now, body))
			return 1;
		efs_object_free(now);
	}
	return 0;
}

/*
 * One PUT, never sent again once written without a confirmation: a copy
 * carried out late by the API would land after the user's next change. So a
 * lost answer is followed by a GET: the change shows (done), or the PUT goes
 * again; a GET that fails leaves the outcome unknown (resp says so).
 */
static int put_confirmed(struct ovh_client *api, const struct op *op, const char *svc,
			 const char *share, const struct efs_object *cur, const char *path,
			 const char *body, struct ovh_response *resp, struct efs_object *out)
{
	int rc = ovh_call_ex(api, op, "PUT", path, body, OVH_CONFIRM, resp);
	int tries = ovh_tries(api) < PUT_CONFIRMED_TRIES ? ovh_tries(api) : PUT_CONFIRMED_TRIES;
	for (int i = 1; rc != 0 && resp->outcome_unknown && i < tries; i++) {
		struct efs_object now;
		int shows = change_shows(api, op, svc, share, cur->id, body, &now);
		if (shows < 0)
			break;
		if (shows) {
			log_warn("PUT %s: its answer was lost; a GET shows the change made", path);
			ovh_response_free(resp);
			memset(resp, 0, sizeof(*resp));
			*out = now;
			return 1;
		}
		log_warn("PUT %s: its answer was lost; GETs show the change not made: sent again",
			 path);
		ovh_response_free(resp);
		rc = ovh_call_ex(api, op, "PUT", path, body, OVH_CONFIRM, resp);
	}
	return rc;
}

static int update_snapshot(struct ovh_client *api, const struct op *op, const char *svc,
			   const char *share, const struct efs_object *cur, const char *body,
			   struct efs_object *out)
{
	char path[512];
	struct ovh_response resp;
	efs_snapshot_path(path, sizeof(path), svc, share, cur->id);
	int rc = put_confirmed(api, op, svc, share, cur, path, body, &resp, out);
	if (rc == 1) /* confirmed by a GET: out is what it read */
		return 0;
	if (rc == 0 && no_object(&resp)) {
		log_debug("PUT %s: answered without the object; applying the change locally", path);
		rc = updated_locally(cur, body, out);
	} else if (rc == 0 && efs_decode_object(resp.body, resp.len, out) != 0) {
		log_warn("PUT %s: carried out, but its answer is unusable; applying the change "
			 "locally",
			 path);
		rc = updated_locally(cur, body, out);
	}
	ovh_response_free(&resp);
	return rc;
}

int efs_rename_snapshot(struct ovh_client *api, const struct op *op, const char *svc,
			const char *share, const struct efs_object *cur, const char *new_name,
			struct efs_object *out)
{
	char *description = current_description(cur);
	char *body = update_body(new_name, description);
	free(description);
	if (!body)
		return -EINVAL;
	int rc = update_snapshot(api, op, svc, share, cur, body, out);
	free(body);
	return rc;
}

int efs_set_description(struct ovh_client *api, const struct op *op, const char *svc,
			const char *share, const struct efs_object *cur, const char *description,
			struct efs_object *out)
{
	char *body = update_body(cur->name, description);
	if (!body)
		return -EILSEQ;
	int rc = update_snapshot(api, op, svc, share, cur, body, out);
	free(body);
	return rc;
}
