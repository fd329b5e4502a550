/*
 * efs: the Enterprise File Storage model and its routes.
 *
 * Owns the OVH JSON models (services, shares, snapshots, a share's access
 * paths, snapshot policies, a share's snapshot reserve and policy) and their decoding
 * into compact C objects (efs_model.c), and which route serves which
 * operation (efs.c). Only this module knows the JSON field names. Calls go
 * through ovh; thread-safe.
 */
#ifndef OVHSNAPFS_EFS_H
#define OVHSNAPFS_EFS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "efs_time.h"

struct ovh_client;
struct op;

/* EFS_POLICY: a service's snapshot policies (storage.NetAppSnapshotPolicy, with rules). */
enum efs_kind { EFS_SERVICE, EFS_SHARE, EFS_SNAPSHOT, EFS_ACCESS_PATH, EFS_POLICY };

/*
 * Snapshot life cycle: the ten values of storage.NetAppSnapshotStatusEnum
 * (OpenStack Manila's snapshot states).
 */
enum efs_status {
	EFS_ST_NONE = 0, /* null, or an object without a status */
	EFS_ST_AVAILABLE,
	EFS_ST_CREATING,
	EFS_ST_DELETING,
	EFS_ST_ERROR,
	EFS_ST_ERROR_DELETING,
	EFS_ST_MANAGE_STARTING,
	EFS_ST_MANAGE_ERROR,
	EFS_ST_UNMANAGE_STARTING,
	EFS_ST_UNMANAGE_ERROR,
	EFS_ST_RESTORING,
	EFS_ST_OTHER, /* a value this version does not know; its text is in the JSON */
};

struct efs_object {
	char *id;	/* never NULL; URL-safe (checked when decoded) */
	char *name;	/* NULL when the API gave null */
	time_t created; /* 0 when unknown */
	enum efs_status status;
	/*
	 * Snapshots and access paths: where it lives over NFS, HOST:/EXPORT[/...]
	 * (NULL when null or absent). May hold NUL bytes: path_len says how long.
	 */
	char *path;
	size_t path_len;
	char *json; /* the object as the API gave it, pretty-printed, ends in \n */
	size_t json_len;
};

struct efs_list {
	struct efs_object *items;
	size_t n;
};

/*
 * On the way to another status by itself (creating, manage_starting,
 * unmanage_starting, restoring): waited through after a create or hold, and
 * refused as busy by a change. deleting is not one: it ends in nothing.
 */
bool efs_status_is_transitional(enum efs_status status);
/* A failure the snapshot stays in (error, error_deleting, manage_error, unmanage_error). */
bool efs_status_is_failure(enum efs_status status);
/*
 * The object's status as the API wrote it, for logs: the enum's name, "null",
 * or the unknown text itself (control characters as '?', cut to size).
 */
const char *efs_status_text(const struct efs_object *obj, char *buf, size_t size);

/*
 * Whether a share (EFS_SHARE) or service (EFS_SERVICE) in its status, as the
 * API last gave it, can take a change of its snapshots: 0; -EBUSY while it
 * is on its way to another status (a share reverting, creating, extending,
 * awaiting_replication...; a service creating, suspending, reopening...);
 * -EROFS when it stays so (deleted, unmanaged, suspended, a share in an
 * error status). A null or unknown status is not refused here: the API decides.
 */
int efs_change_refusal(enum efs_kind kind, const struct efs_object *obj);

/*
 * Calls are made on behalf of op (op.h; NULL: a background call).
 * List services, a service's shares, a share's snapshots or its access paths
 * (full objects).
 */
int efs_list(struct ovh_client *api, const struct op *op, enum efs_kind kind,
	     const char *service_id, const char *share_id, struct efs_list *out);

/* The path of a share's snapshots (snap NULL) or of one (efs.c; efs_update.c uses it too). */
void efs_snapshot_path(char *buf, size_t len, const char *svc, const char *share, const char *snap);
int efs_get_snapshot(struct ovh_client *api, const struct op *op, const char *service_id,
		     const char *share_id, const char *snapshot_id, struct efs_object *out);
/*
 * POST; description may be NULL. out is the API's answer (status creating).
 * -EINPROGRESS: no usable answer came, and the API may have created it.
 * -EDQUOT: the API refused it for the share's snapshot limit.
 */
int efs_create_snapshot(struct ovh_client *api, const struct op *op, const char *service_id,
			const char *share_id, const char *name, const char *description,
			struct efs_object *out);
/*
 * PUT {"name": NEW, "description": cur's}: both fields, so that an API that
 * reads a missing one as null clears nothing. cur: the snapshot as just read.
 */
int efs_rename_snapshot(struct ovh_client *api, const struct op *op, const char *service_id,
			const char *share_id, const struct efs_object *cur, const char *new_name,
			struct efs_object *out);
int efs_delete_snapshot(struct ovh_client *api, const struct op *op, const char *service_id,
			const char *share_id, const char *snapshot_id);

/*
 * PUT {"name": cur's, "description": TEXT}, the description null when
 * description is NULL. out is the snapshot as the API then has it.
 */
int efs_set_description(struct ovh_client *api, const struct op *op, const char *service_id,
			const char *share_id, const struct efs_object *cur, const char *description,
			struct efs_object *out);
/*
 * POST .../snapshot/{id}/hold (no body): the API turns an automatic snapshot
 * into a manual one with a new id; out is that new snapshot.
 * -EINPROGRESS: no usable answer came, and the API may have held it.
 */
int efs_hold_snapshot(struct ovh_client *api, const struct op *op, const char *service_id,
		      const char *share_id, const char *snapshot_id, struct efs_object *out);

/*
 * A share's own snapshot settings (storage.NetAppShareSnapshotReserve,
 * storage.NetAppShareSnapshotPolicy). Each get is one GET; out->id is
 * "reserve" and out->name the percent in decimal for the reserve, and the
 * policy's id for the policy (-ENOENT: the API says the share has none).
 * out->json is the reply, pretty-printed.
 */
int efs_get_reserve(struct ovh_client *api, const struct op *op, const char *service_id,
		    const char *share_id, struct efs_object *out);
int efs_get_share_policy(struct ovh_client *api, const struct op *op, const char *service_id,
			 const char *share_id, struct efs_object *out);
/* PUT {"percent": N} (NetAppShareSnapshotReserveUpdate); void reply. */
int efs_set_reserve(struct ovh_client *api, const struct op *op, const char *service_id,
		    const char *share_id, long percent);
/* PUT {"snapshotPolicyID": ID} (NetAppShareSnapshotPolicyUpdate); void reply. */
int efs_set_share_policy(struct ovh_client *api, const struct op *op, const char *service_id,
			 const char *share_id, const char *policy_id);
/*
 * POST .../revert {"snapshotID": ID} (NetAppShareRevertToSnapshot); void
 * reply (202). -EINPROGRESS: no usable answer came, and the API may have acted.
 */
int efs_revert_share(struct ovh_client *api, const struct op *op, const char *service_id,
		     const char *share_id, const char *snapshot_id);
/* GET .../share/{id}: the share as the API has it now (its status: a revert's end). */
int efs_get_share(struct ovh_client *api, const struct op *op, const char *service_id,
		  const char *share_id, struct efs_object *out);

/* Fields kept only in an object's JSON, read on demand (extended attributes). */
enum efs_field {
	EFS_FIELD_STATUS, /* the API's text, including values efs_status does not know */
	EFS_FIELD_TYPE,
	EFS_FIELD_DESCRIPTION,
	EFS_FIELD_CREATED, /* createdAt, as the API wrote it */
	EFS_FIELD_PATH,
};
/* The field's text, malloc'ed; NULL when the API gave none (absent, null, not a string). */
char *efs_object_field(const struct efs_object *obj, enum efs_field field);
/* True for a snapshot of type automatic (made by a policy; the only kind hold takes). */
bool efs_is_automatic(const struct efs_object *obj);
/* True for an access path the API marks preferred (the one a share is best mounted by). */
bool efs_is_preferred(const struct efs_object *obj);

/* Decoding, exposed for the unit tests and fuzzers. -EIO on a bad reply. */
int efs_decode_list(const char *body, size_t len, struct efs_list *out);
int efs_decode_object(const char *body, size_t len, struct efs_object *out);
const char *efs_status_name(enum efs_status status);

int efs_object_copy(const struct efs_object *src, struct efs_object *dst);
void efs_object_free(struct efs_object *obj);
void efs_list_free(struct efs_list *list);

#endif
