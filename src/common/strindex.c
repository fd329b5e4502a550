/* strindex: open addressing with linear probing, at most half full. */
#include "strindex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	const char *key; /* NULL: empty */
	size_t pos;
	size_t count;
};

struct strindex {
	size_t mask; /* capacity - 1, capacity a power of two */
	size_t used, max_keys;
	struct slot *slots;
};

static uint64_t hash(const char *key)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a final mix */
	for (; *key; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

struct strindex *strindex_new(size_t n)
{
	struct strindex *x = calloc(1, sizeof(*x));
	size_t cap = 8;
	while (cap < 2 * n)
		cap *= 2;
	if (x)
		x->slots = calloc(cap, sizeof(*x->slots));
	if (!x || !x->slots) {
		free(x);
		return NULL;
	}
	x->mask = cap - 1;
	x->max_keys = n;
	return x;
}

void strindex_free(struct strindex *x)
{
	if (x)
		free(x->slots);
	free(x);
}

/* The slot holding key, or the empty one where it would go. */
static struct slot *probe(const struct strindex *x, const char *key)
{
	for (size_t i = hash(key) & x->mask;; i = (i + 1) & x->mask) {
		struct slot *s = &x->slots[i];
		if (!s->key || strcmp(s->key, key) == 0)
			return s;
	}
}

void strindex_add(struct strindex *x, const char *key, size_t pos)
{
	struct slot *s = probe(x, key);
	if (s->key) {
		s->count++;
	} else if (x->used < x->max_keys) {
		*s = (struct slot){.key = key, .pos = pos, .count = 1};
		x->used++;
	}
}

size_t strindex_find(const struct strindex *x, const char *key)
{
	const struct slot *s = probe(x, key);
	return s->key ? s->pos : (size_t)-1;
}

size_t strindex_count(const struct strindex *x, const char *key)
{
	const struct slot *s = probe(x, key);
	return s->key ? s->count : 0;
}

size_t strindex_bytes(const struct strindex *x)
{
	return sizeof(*x) + (x->mask + 1) * sizeof(*x->slots);
}
