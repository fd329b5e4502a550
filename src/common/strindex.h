/*
 * strindex: a hash index from strings to positions in an array.
 *
 * Built once (strindex_add from one thread), then read from any thread.
 * Keys are borrowed: they must outlive the index. A key added again keeps
 * its first position and counts how often it was added. Lookups cost one
 * hash and a short probe, whatever the number of keys.
 */
#ifndef OVHSNAPFS_STRINDEX_H
#define OVHSNAPFS_STRINDEX_H

#include <stddef.h>

struct strindex;

/* An index sized for up to n keys; NULL when out of memory. */
struct strindex *strindex_new(size_t n);
void strindex_free(struct strindex *index);
/* Add key at pos (at most the n keys it was sized for; more are ignored). */
void strindex_add(struct strindex *index, const char *key, size_t pos);
/* The first position key was added at, or (size_t)-1. */
size_t strindex_find(const struct strindex *index, const char *key);
/* How many times key was added (0: never). */
size_t strindex_count(const struct strindex *index, const char *key);
/* Bytes the index takes. */
size_t strindex_bytes(const struct strindex *index);

#endif
