/* keylock: a lock per key, waited for on a condition variable. */
#include "keylock.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* A few keys are held at once (changes in flight): a list is enough. */
struct keylock_held {
	struct keylock_held *next;
	char key[];
};

void keylock_init(struct keylock *kl)
{
	pthread_mutex_init(&kl->lock, NULL);
	clock_cond_init(&kl->released);
	kl->held = NULL;
}

void keylock_destroy(struct keylock *kl)
{
	pthread_cond_destroy(&kl->released);
	pthread_mutex_destroy(&kl->lock);
}

/* Lock held. */
static bool is_held(const struct keylock *kl, const char *key)
{
	for (const struct keylock_held *h = kl->held; h; h = h->next)
		if (strcmp(h->key, key) == 0)
			return true;
	return false;
}

int keylock_take(struct keylock *kl, const struct op *op, const char *key)
{
	size_t len = strlen(key) + 1;
	struct keylock_held *mine = malloc(sizeof(*mine) + len);
	if (!mine)
		return -ENOMEM;
	memcpy(mine->key, key, len);
	pthread_mutex_lock(&kl->lock);
	int rc = 0;
	while (is_held(kl, key) && (rc = op_check(op)) == 0) {
		double left = op_left(op);
		clock_cond_wait(&kl->released, &kl->lock, left < OP_SLICE ? left : OP_SLICE);
	}
	if (rc == 0) {
		mine->next = kl->held;
		kl->held = mine;
	}
	pthread_mutex_unlock(&kl->lock);
	if (rc)
		free(mine);
	return rc;
}

void keylock_give(struct keylock *kl, const char *key)
{
	struct keylock_held *gone = NULL;
	pthread_mutex_lock(&kl->lock);
	for (struct keylock_held **p = &kl->held; *p; p = &(*p)->next) {
		if (strcmp((*p)->key, key) == 0) {
			gone = *p;
			*p = gone->next;
			break;
		}
	}
	pthread_cond_broadcast(&kl->released);
	pthread_mutex_unlock(&kl->lock);
	free(gone);
}

bool keylock_busy(struct keylock *kl, const char *key)
{
	pthread_mutex_lock(&kl->lock);
	bool held = is_held(kl, key);
	pthread_mutex_unlock(&kl->lock);
	return held;
}
