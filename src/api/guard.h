/*
 * guard: the two brakes on API traffic.
 *
 * A token bucket (GCRA) that lets `burst` requests go at once and then
 * spaces them to at most `rate` a second (its waits bounded by the caller's
 * op), and a circuit breaker that, after three failed
 * calls in a row, makes calls fail fast for 5 s, doubling up to 60 s, until
 * one succeeds. No I/O, no knowledge of HTTP; used by ovh.c. Thread-safe.
 */
#ifndef OVHSNAPFS_GUARD_H
#define OVHSNAPFS_GUARD_H

#include <pthread.h>
#include <stdbool.h>

#include "op.h"

struct ratelimit {
	pthread_mutex_t lock;
	double interval; /* seconds between requests; 0: unlimited */
	double burst;	 /* requests that may go at once */
	double tat;	 /* theoretical arrival time of the next request */
	double rate;
	unsigned long waits; /* requests that had to wait for their slot */
	double waited;	     /* seconds they waited, in all */
};

/* rate <= 0: no limit; burst < 1 counts as 1. */
void ratelimit_init(struct ratelimit *limit, double rate, double burst);
void ratelimit_destroy(struct ratelimit *limit);
/*
 * Wait for a slot on behalf of op (NULL: a background call). -ETIMEDOUT,
 * without waiting or taking a slot, when that would take longer than
 * max_wait or than op has left; -EINTR or -ETIMEDOUT when op ends the wait
 * (the slot is then given back: no request used it).
 */
int ratelimit_wait(struct ratelimit *limit, const struct op *op, double max_wait);
/* Counters for the status file: the waits so far and the seconds they took. */
void ratelimit_stats(struct ratelimit *limit, unsigned long *waits, double *waited);

/*
 * Whether a background request may go now: without waiting, and leaving a
 * quarter of the burst to users' calls.
 */
bool ratelimit_spare(struct ratelimit *limit);

#define BREAKER_THRESHOLD 3

struct breaker {
	pthread_mutex_t lock;
	int failures;	      /* consecutive calls the API failed */
	double open_until;    /* monotonic: calls before it fail fast */
	double open_for;      /* current back-off */
	unsigned long opened; /* times it opened */
};

void breaker_init(struct breaker *breaker);
void breaker_destroy(struct breaker *breaker);
/* True while calls should fail fast. */
bool breaker_is_open(struct breaker *breaker);
/* How many times it opened since init. */
unsigned long breaker_opened(struct breaker *breaker);
/* The API answered (a 4xx too): it is up. */
void breaker_success(struct breaker *breaker);
/* The API failed a call (network error, 5xx or 429 after the retries). */
void breaker_failure(struct breaker *breaker);

#endif
