/*
 * clock: monotonic time and sleeping, in seconds as doubles.
 *
 * The one place that reads CLOCK_MONOTONIC and sleeps through EINTR, for
 * TTLs, back-offs and timeouts. No state; thread-safe.
 */
#ifndef OVHSNAPFS_CLOCK_H
#define OVHSNAPFS_CLOCK_H

#include <pthread.h>

/* Seconds on a clock that never jumps (CLOCK_MONOTONIC). */
double clock_now(void);
/* Sleep s seconds (nothing when s <= 0), resuming after signals. */
void clock_sleep(double s);
/* Initialise a condition variable that times out on this clock. */
void clock_cond_init(pthread_cond_t *cond);
/* Wait on cond (made by clock_cond_init) for at most s seconds; as pthread_cond_timedwait. */
int clock_cond_wait(pthread_cond_t *cond, pthread_mutex_t *lock, double s);

#endif
