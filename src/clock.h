/*
 * clock: monotonic time and sleeping, in seconds as doubles.
 *
 * The one place that reads CLOCK_MONOTONIC and sleeps through EINTR, for
 * TTLs, back-offs and timeouts. No state; thread-safe.
 */
#ifndef OVHSNAPFS_CLOCK_H
#define OVHSNAPFS_CLOCK_H

/* Seconds on a clock that never jumps (CLOCK_MONOTONIC). */
double clock_now(void);
/* Sleep s seconds (nothing when s <= 0), resuming after signals. */
void clock_sleep(double s);

#endif
