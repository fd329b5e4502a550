/* alias: typed names of snapshots renamed by another host while a mkdir waited. */
#include "alias.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

struct alias_entry {
	double expires; /* clock_now() seconds */
	char *key;	/* "svc/share/name" */
	char *id;
};

static void entry_free(struct alias_entry *e)
{
	if (!e)
		return;
	free(e->key);
	free(e->id);
	free(e);
}

void alias_init(struct aliases *a)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
}

void alias_destroy(struct aliases *a)
{
	for (size_t i = 0; i < ALIAS_MAX; i++) {
		entry_free(a->slots[i]);
		a->slots[i] = NULL;
	}
	pthread_mutex_destroy(&a->lock);
}

static char *make_key(const char *svc, const char *share, const char *name)
{
	size_t len = strlen(svc) + strlen(share) + strlen(name) + 3;
	char *key = malloc(len);
	if (key)
		snprintf(key, len, "%s/%s/%s", svc, share, name);
	return key;
}

void alias_add(struct aliases *a, const char *svc, const char *share, const char *name,
	       const char *id, double ttl)
{
	struct alias_entry *e = calloc(1, sizeof(*e));
	if (!e || !(e->key = make_key(svc, share, name)) || !(e->id = strdup(id))) {
		entry_free(e); /* out of memory: the typed name is simply not kept */
		return;
	}
	e->expires = clock_now() + ttl;
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < ALIAS_MAX; i++) { /* a newer alias of the name wins */
		if (a->slots[i] && strcmp(a->slots[i]->key, e->key) == 0) {
			entry_free(a->slots[i]);
			a->slots[i] = NULL;
		}
	}
	entry_free(a->slots[a->next]);
	a->slots[a->next] = e;
	a->next = (a->next + 1) % ALIAS_MAX;
	pthread_mutex_unlock(&a->lock);
}

void alias_forget_id(struct aliases *a, const char *id)
{
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < ALIAS_MAX; i++) {
		if (a->slots[i] && strcmp(a->slots[i]->id, id) == 0) {
			entry_free(a->slots[i]);
			a->slots[i] = NULL;
		}
	}
	pthread_mutex_unlock(&a->lock);
}

bool alias_find(struct aliases *a, const char *svc, const char *share, const char *name, char *id,
		size_t id_len)
{
	char *key = make_key(svc, share, name);
	bool found = false;
	if (!key)
		return false;
	double now = clock_now();
	pthread_mutex_lock(&a->lock);
	for (size_t i = 0; i < ALIAS_MAX && !found; i++) {
		struct alias_entry *e = a->slots[i];
		if (e && e->expires > now && strcmp(e->key, key) == 0) {
			snprintf(id, id_len, "%s", e->id);
			found = true;
		}
	}
	pthread_mutex_unlock(&a->lock);
	free(key);
	return found;
}
