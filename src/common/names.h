/*
 * names: which file name an API object gets, and which names users may give.
 *
 * Pure functions, no I/O, thread-safe. The rule (contract, "The tree"): an
 * object is listed by its name when that name is a valid, unreserved file
 * name unique among its siblings, otherwise by its id.
 */
#ifndef OVHSNAPFS_NAMES_H
#define OVHSNAPFS_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define NAME_MAX_BYTES 255
#define INFO_FILE      "info.json"
#define SNAPSHOT_DIR   ".snapshots"
/* MOUNT/.ovhsnapfs: resolved by name, never listed (fs serves it from status.h). */
#define STATUS_FILE ".ovhsnapfs"
/* SERVICE/.policies/NAME.json: the service's snapshot policies, reached by name, never listed. */
#define POLICIES_DIR ".policies"
#define POLICY_EXT   ".json"
/* SHARE/content, SNAPSHOT/content: symbolic links while they have a target (content.h). */
#define CONTENT_LINK "content"

bool names_is_reserved(const char *name);
/* Non-empty, no '/', not "." or "..", at most 255 bytes, not reserved. */
bool names_is_listable(const char *name);
/*
 * A name a user asks for (mkdir, rename target): 0, or -ENAMETOOLONG
 * (> 255 bytes), -EILSEQ (not UTF-8), -EINVAL (control characters, empty,
 * '/', "." or "..", reserved).
 */
int names_check_new(const char *name);
/*
 * A text a user gives that is not a file name (a description): 0, or
 * -ENAMETOOLONG (> 255 bytes), -EILSEQ (not UTF-8), -EINVAL (control characters).
 */
int names_check_text(const char *text);
/*
 * Choose the display name of each of n siblings. names[i] may be NULL.
 * display[i] is set to names[i] or ids[i] (pointers, not copies).
 */
void names_assign(const char *const *names, const char *const *ids, size_t n, const char **display);

#endif
