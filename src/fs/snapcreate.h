/*
 * snapcreate: snapops_create (mkdir in .snapshots), declared in snapops.h.
 *
 * Owns what a create checks before its one POST (the name, the share's
 * cached count against the API's limit), the POST sent once, reconciling a
 * POST whose answer was lost by listing again (never by sending it again),
 * and the reading of a refusal: 409 as EEXIST or EBUSY after one fresh
 * listing, 400/403 at the documented limit as EDQUOT.
 */
#ifndef OVHSNAPFS_SNAPCREATE_H
#define OVHSNAPFS_SNAPCREATE_H

#include "snapops.h"

#endif
