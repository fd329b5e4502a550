/*
 * op: one user operation's deadline and cancellation.
 *
 * Owns the bound of every wait ovhsnapfs makes on a user's behalf. fs
 * creates one struct op per FUSE call that may wait and passes it down
 * through snapops, efs and ovh to each place that waits: status polls,
 * retry back-off, Retry-After, the rate limiter, the token fetch and the
 * HTTP transfer itself. An op ends its waits with -EINTR when its caller
 * was interrupted (a callback fs sets: fuse_interrupted) or the process is
 * shutting down (op_shutdown), and with -ETIMEDOUT at its deadline.
 *
 * A NULL op is a background call (prefetch, refresh): no deadline of its
 * own beyond the client's timeout=, no caller to interrupt, but it still
 * ends at shutdown. Thread-safe: an op belongs to one thread; the shutdown
 * flag is atomic.
 */
#ifndef OVHSNAPFS_OP_H
#define OVHSNAPFS_OP_H

#include <pthread.h>
#include <stdbool.h>

struct op {
	double deadline;		/* monotonic seconds; INFINITY: none */
	bool (*interrupted)(void *ctx); /* polled; NULL: never */
	void *ctx;
};

/* Waits are cut into slices this long, so an interrupt is seen within it. */
#define OP_SLICE 0.1

/* An op that ends budget seconds from now (budget <= 0 or INFINITY: no deadline). */
void op_start(struct op *op, double budget, bool (*interrupted)(void *ctx), void *ctx);
/* 0 while the op may go on; -EINTR (interrupted or shutting down), -ETIMEDOUT. */
int op_check(const struct op *op);
/* Seconds left before the deadline (INFINITY for none or a NULL op); may be <= 0. */
double op_left(const struct op *op);
/*
 * Sleep s seconds, looking at the op every OP_SLICE. 0 after the full
 * sleep; -EINTR or -ETIMEDOUT as soon as op_check says so (a sleep that
 * would pass the deadline ends at it with -ETIMEDOUT).
 */
int op_sleep(const struct op *op, double s);

/* From now on every op_check answers -EINTR (unmount, SIGTERM). Async-signal-safe. */
void op_shutdown(void);
bool op_shutting_down(void);

#endif
