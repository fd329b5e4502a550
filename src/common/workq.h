/*
 * workq: a bounded queue of strings and the threads that consume it.
 *
 * Owns its threads and queued copies. Items pushed before the threads start
 * wait for them (threads start after the daemon forks); a push to a full
 * queue is dropped, never waited for. Thread-safe.
 */
#ifndef OVHSNAPFS_WORKQ_H
#define OVHSNAPFS_WORKQ_H

#include <stdbool.h>
#include <stddef.h>

typedef void (*workq_fn)(void *ctx, const char *item);

struct workq;

struct workq *workq_new(int workers, size_t max_items, workq_fn fn, void *ctx);
/* 0, or -errno when a thread could not start (those started keep working). */
int workq_start(struct workq *q);
/* Queue a copy of item; false when it was dropped (queue full or stopping). */
bool workq_push(struct workq *q, const char *item);
/* Stop the threads after their current item, drop the rest, free; how many were dropped. */
size_t workq_free(struct workq *q);

#endif
