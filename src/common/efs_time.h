/*
 * efs_time: what any program may know of the API's data without being its
 * client: the dates it writes (RFC 3339) and its documented snapshot limit.
 * libc only: ovhsnapfs-auto and ovhsnapfs-versions read info.json with it.
 */
#ifndef OVHSNAPFS_EFS_TIME_H
#define OVHSNAPFS_EFS_TIME_H

#include <time.h>

/* "A volume can't have more than 200 snapshots" (OVH's EFS documentation). */
#define EFS_MAX_SNAPSHOTS 200

/* RFC 3339 -> time_t; -EINVAL when it is not one. */
int efs_parse_time(const char *text, time_t *out);

#endif
