/*
 * autoplan: what ovhsnapfs-auto makes and deletes in one share.
 *
 * Owns the name of a labelled snapshot (P-L-YYYY-MM-DD-HHMM, UTC), which
 * names belong to a prefix and label, and which of those snapshots go so
 * that the newest N stay, or that a --preserve rule (buckets.h) keeps its
 * periods. Pure functions: no I/O, no clock (the caller
 * passes the time), thread-safe.
 */
#ifndef OVHSNAPFS_AUTOPLAN_H
#define OVHSNAPFS_AUTOPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "buckets.h"

#define AUTOPLAN_STAMP_LEN 15 /* YYYY-MM-DD-HHMM */

/* A prefix or label: non-empty, only ASCII letters, digits, '_' and '.'. */
bool autoplan_word_ok(const char *word);
/*
 * "prefix-label-YYYY-MM-DD-HHMM" for t (UTC) into buf: 0, -EINVAL (a bad
 * word), or the error of names_check_new() (-ENAMETOOLONG past 255 bytes).
 */
int autoplan_name(char *buf, size_t len, const char *prefix, const char *label, time_t t);
/* Whether name is exactly "prefix-label-" and a valid UTC timestamp. */
bool autoplan_matches(const char *name, const char *prefix, const char *label);

enum autoplan_verdict { AUTOPLAN_IGNORE, AUTOPLAN_KEEP, AUTOPLAN_DELETE };

/* One snapshot of the share, as its directory and info.json show it. */
struct autoplan_snap {
	const char *entry;	       /* directory name (the name, or the id when names clash) */
	const char *name;	       /* info.json "name"; NULL when null or missing */
	const char *type;	       /* info.json "type"; NULL when null or missing */
	const char *status;	       /* info.json "status"; NULL when null or missing */
	time_t created;		       /* the directory's mtime (createdAt) */
	bool created_unknown;	       /* no usable createdAt: created is a stand-in */
	bool is_new;		       /* the snapshot this run is about to create */
	enum autoplan_verdict verdict; /* set by autoplan_decide() */
	unsigned why;		       /* autoplan_preserve(): the BUCKET_*BITs that keep it */
};

/*
 * Whether ovhsnapfs-auto may count and delete this snapshot: its name
 * matches, its type is manual (or absent), its status available (or absent).
 */
bool autoplan_eligible(const struct autoplan_snap *snap, const char *prefix, const char *label);
/*
 * Sort snaps oldest first (created, then name, then entry; the new one
 * last) and give each a verdict: the newest keep eligible ones KEEP, older
 * eligible ones DELETE, the rest IGNORE. Returns how many are kept. An
 * eligible snapshot whose createdAt is unknown is as old as its name says
 * (its created is set to that minute): the stand-in, the time the mount
 * started, would make it the newest and keep it for ever.
 */
size_t autoplan_decide(struct autoplan_snap *snaps, size_t n, const char *prefix, const char *label,
		       size_t keep);
/*
 * The same, but the eligible snapshots kept are those rule keeps
 * (buckets_mark(), the one to create counting as of its name's minute); each
 * one's why says which periods keep it. Returns how many are kept, or
 * -ENOMEM.
 */
long autoplan_preserve(struct autoplan_snap *snaps, size_t n, const char *prefix, const char *label,
		       const struct buckets *rule);

#endif
