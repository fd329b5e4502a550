/*
 * alias: the names a mkdir typed for snapshots that another host renamed
 * before the mkdir returned.
 *
 * mkdir answers 0 once its snapshot is available; libfuse then looks the
 * typed name up. If another host renamed the new snapshot meanwhile, that
 * lookup would fail (the user would see ENOENT for a snapshot that exists,
 * and a retry would make a second one). Owns a small table of (share, typed
 * name) -> snapshot id, each kept for a while (max of cache_ttl and a few
 * seconds): the typed name keeps leading to the snapshot, which shows its
 * current name in info.json and listings. The oldest alias goes first when
 * the table is full. Thread-safe.
 */
#ifndef OVHSNAPFS_ALIAS_H
#define OVHSNAPFS_ALIAS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define ALIAS_MAX 64

struct alias_entry;

struct aliases {
	pthread_mutex_t lock;
	struct alias_entry *slots[ALIAS_MAX];
	size_t next; /* the slot the next alias takes */
};

void alias_init(struct aliases *a);
void alias_destroy(struct aliases *a);
/* name in share (svc, share ids) leads to snapshot id for ttl seconds. */
void alias_add(struct aliases *a, const char *svc, const char *share, const char *name,
	       const char *id, double ttl);
/*
 * Drop every alias leading to id: this mount renamed or deleted that
 * snapshot, so the name a mkdir typed for it is free again.
 */
void alias_forget_id(struct aliases *a, const char *id);
/* The id name leads to in share, copied into id (id_len bytes); false when none or expired. */
bool alias_find(struct aliases *a, const char *svc, const char *share, const char *name, char *id,
		size_t id_len);

#endif
