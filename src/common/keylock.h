/*
 * keylock: one lock per key (a share's id), taken by waiting on a condition
 * variable, never by polling.
 *
 * Owns the set of keys held right now. Changes to one share are serialized
 * (snapops) while changes to other shares go on: no stripes, so two shares
 * never wait through each other's POST. A wait is bounded by its op (op.h):
 * its deadline (-ETIMEDOUT) and its caller's interrupt or shutdown (-EINTR),
 * seen within OP_SLICE. Thread-safe.
 */
#ifndef OVHSNAPFS_KEYLOCK_H
#define OVHSNAPFS_KEYLOCK_H

#include <pthread.h>
#include <stdbool.h>

#include "op.h"

struct keylock_held;

struct keylock {
	pthread_mutex_t lock;
	pthread_cond_t released; /* a key was let go */
	struct keylock_held *held;
};

void keylock_init(struct keylock *kl);
/* No key may be held. */
void keylock_destroy(struct keylock *kl);
/* 0 with key held; -EINTR or -ETIMEDOUT (op's end), -ENOMEM, without it. */
int keylock_take(struct keylock *kl, const struct op *op, const char *key);
/* Let go of a key keylock_take gave. */
void keylock_give(struct keylock *kl, const char *key);
/* Whether key is held now (a background reader keeps off it). */
bool keylock_busy(struct keylock *kl, const char *key);

#endif
