/*
 * efs_status: what the schema's status enums mean for a change — which
 * snapshot statuses pass by themselves, which stay failed, and which share
 * and service statuses make a change of snapshots impossible.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "efs.h"

bool efs_status_is_transitional(enum efs_status status)
{
	return status == EFS_ST_CREATING || status == EFS_ST_MANAGE_STARTING ||
	       status == EFS_ST_UNMANAGE_STARTING || status == EFS_ST_RESTORING;
}

bool efs_status_is_failure(enum efs_status status)
{
	return status == EFS_ST_ERROR || status == EFS_ST_ERROR_DELETING ||
	       status == EFS_ST_MANAGE_ERROR || status == EFS_ST_UNMANAGE_ERROR;
}

/* storage.NetAppShareStatusEnum: on the way to another status by itself. */
static const char *const share_passing[] = {
	"awaiting_replication",
	"creating",
	"creating_from_snapshot",
	"deleting",
	"extending",
	"manage_starting",
	"migrating",
	"migrating_to",
	"replication_change",
	"reverting",
	"shrinking",
	"unmanage_starting",
};
/* ... and staying so until someone acts (gone, or an error only support clears). */
static const char *const share_stuck[] = {
	"deleted",	   "error",	      "error_deleting",
	"extending_error", "inactive",	      "manage_error",
	"reverting_error", "shrinking_error", "shrinking_possible_data_loss_error",
	"unmanage_error",  "unmanaged",
};
/* storage.NetAppServiceStatusEnum. */
static const char *const service_passing[] = {"creating", "deleting", "reopening", "suspending"};
static const char *const service_stuck[] = {"deleted", "suspended"};

static bool listed(const char *text, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(text, names[i]) == 0)
			return true;
	return false;
}

#define LISTED(text, names) listed(text, names, sizeof(names) / sizeof(names[0]))

int efs_change_refusal(enum efs_kind kind, const struct efs_object *obj)
{
	if (kind != EFS_SHARE && kind != EFS_SERVICE)
		return 0;
	char *text = efs_object_field(obj, EFS_FIELD_STATUS);
	int rc = 0;
	if (text && kind == EFS_SHARE)
		rc = LISTED(text, share_passing) ? -EBUSY : LISTED(text, share_stuck) ? -EROFS : 0;
	else if (text)
		rc = LISTED(text, service_passing) ? -EBUSY
		     : LISTED(text, service_stuck) ? -EROFS
						   : 0;
	free(text);
	return rc;
}
