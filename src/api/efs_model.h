/*
 * efs_model: the EFS models as C objects; private to the EFS client.
 *
 * efs_model.c owns the JSON side of the models: a reply decoded field by
 * field into struct efs_object (what of each field is usable, one log line
 * for what is not), the status names, the fields read from an object's
 * JSON on demand, and copy and free. Those functions are declared in efs.h,
 * the client's contract; efs.c (the routes and the calls that carry them)
 * includes this header for the check it shares. No API call; thread-safe.
 */
#ifndef OVHSNAPFS_EFS_MODEL_H
#define OVHSNAPFS_EFS_MODEL_H

#include <jansson.h>
#include <stdbool.h>

/*
 * An id the API gave, usable in URL paths and file names: a string without
 * \u0000, of unreserved URL characters only, never a dot segment or a
 * reserved name.
 */
bool efs_usable_id(json_t *id);

#endif
