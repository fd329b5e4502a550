/*
 * status: what MOUNT/.ovhsnapfs and -o metrics_file= tell.
 *
 * Owns the status document: the mount's identity (version, endpoint, the
 * kind of credentials and the key's first four characters, never a
 * secret), its uptime and clock offset, the API counters (ovh_status_json)
 * and the cache's (cache_stats), the freshness of each share whose
 * snapshots the cache holds (their number by type, the createdAt of the
 * newest available one), as JSON and in the Prometheus text format.
 * Building it makes no API call. Thread-safe.
 */
#ifndef OVHSNAPFS_STATUS_H
#define OVHSNAPFS_STATUS_H

#include <jansson.h>
#include <stddef.h>

#include "cache.h"
#include "config.h"
#include "ovh.h"

struct status;

/* cfg is read now and not kept; api and cache are borrowed. NULL when out of memory. */
struct status *status_new(const struct ovh_config *cfg, struct ovh_client *api,
			  struct cache *cache);
void status_free(struct status *status);
/* The tree whose cached snapshot listings give the per-share gauges (borrowed). */
struct tree;
void status_watch_tree(struct status *status, struct tree *tree);

/* The document as of now: a new object (json_decref it), or NULL. */
json_t *status_collect(struct status *status);
/*
 * The status file's bytes, malloc'ed: the document as pretty JSON ending
 * in a newline, rendered anew at every call, so the counters are as they
 * are now (fs keeps an open file's text, which its fstat and reads share).
 * NULL when out of memory.
 */
char *status_file(struct status *status, size_t *len);
/* A document's counters in the Prometheus text exposition format, malloc'ed. */
char *status_prometheus(const json_t *doc, size_t *len);

/* Four UTF-8 characters of at most four bytes each, and the NUL. */
#define STATUS_KEY_PREFIX_SIZE 17
/*
 * The key's first four characters, cut at a character boundary; "" when
 * they are not UTF-8 (a JSON document cannot hold them) or key is NULL.
 */
void status_key_prefix(const char *key, char out[STATUS_KEY_PREFIX_SIZE]);

#endif
