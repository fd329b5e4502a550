/*
 * guard: the two brakes on API traffic.
 *
 * A token bucket (GCRA) that spaces requests to at most `rate` a second
 * with a burst of `rate`, and a circuit breaker that, after three failed
 * calls in a row, makes calls fail fast for 5 s, doubling up to 60 s, until
 * one succeeds. No I/O, no knowledge of HTTP; used by ovh.c. Thread-safe.
 */
#ifndef OVHSNAPFS_GUARD_H
#define OVHSNAPFS_GUARD_H

#include <pthread.h>
#include <stdbool.h>

struct ratelimit {
	pthread_mutex_t lock;
	double interval; /* seconds between requests; 0: unlimited */
	double burst;
	double tat; /* theoretical arrival time of the next request */
	double rate;
	unsigned long waits; /* requests that had to wait for their slot */
	double waited;	     /* seconds they waited, in all */
};

/* rate <= 0: no limit. */
void ratelimit_init(struct ratelimit *limit, double rate);
void ratelimit_destroy(struct ratelimit *limit);
/* Wait for a slot; -ETIMEDOUT, without waiting or taking one, if that would exceed max_wait. */
int ratelimit_wait(struct ratelimit *limit, double max_wait);
/* Counters for the status file: the waits so far and the seconds they took. */
void ratelimit_stats(struct ratelimit *limit, unsigned long *waits, double *waited);

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
