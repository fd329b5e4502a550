/*
 * clock: monotonic time and sleeping, in seconds as doubles.
 *
 * The one place that reads CLOCK_MONOTONIC and sleeps through EINTR, for
 * TTLs, back-offs and timeouts. No state; thread-safe.
 */
#ifndef OVHSNAPFS_CLOCK_H
#define OVHSNAPFS_CLOCK_H

#include <pthread.h>
#include <stdbool.h>

/* Seconds on a clock that never jumps (CLOCK_MONOTONIC). */
double clock_now(void);
/* Sleep s seconds (nothing when s <= 0), resuming after signals. */
void clock_sleep(double s);
/* Initialise a condition variable that times out on this clock. */
void clock_cond_init(pthread_cond_t *cond);
/* Wait on cond (made by clock_cond_init) for at most s seconds; as pthread_cond_timedwait. */
int clock_cond_wait(pthread_cond_t *cond, pthread_mutex_t *lock, double s);

/* A background thread's stop: its sleeps end at once when the stop is asked. */
struct clock_stop {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* clock_cond_init */
	bool stopping;
};
void clock_stop_init(struct clock_stop *s);
/* Sleep s seconds, less when the stop is asked; true while it is not. */
bool clock_stop_sleep(struct clock_stop *s, double seconds);
/* Ask for the stop: every sleep ends and none starts. */
void clock_stop_ask(struct clock_stop *s);
void clock_stop_destroy(struct clock_stop *s);

#endif
