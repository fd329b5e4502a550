/* op: deadlines and cancellation of one operation. */
#include "op.h"

#include <errno.h>
#include <math.h>

#include "clock.h"

static volatile int shutting_down; /* written with __atomic builtins only */

void op_start(struct op *op, double budget, bool (*interrupted)(void *ctx), void *ctx)
{
	op->deadline = budget > 0 && isfinite(budget) ? clock_now() + budget : INFINITY;
	op->interrupted = interrupted;
	op->ctx = ctx;
}

void op_shutdown(void)
{
	__atomic_store_n(&shutting_down, 1, __ATOMIC_RELEASE);
}

bool op_shutting_down(void)
{
	return __atomic_load_n(&shutting_down, __ATOMIC_ACQUIRE) != 0;
}

int op_check(const struct op *op)
{
	if (op_shutting_down())
		return -EINTR;
	if (!op)
		return 0;
	if (op->interrupted && op->interrupted(op->ctx))
		return -EINTR;
	if (clock_now() >= op->deadline)
		return -ETIMEDOUT;
	return 0;
}

double op_left(const struct op *op)
{
	if (!op || !isfinite(op->deadline))
		return INFINITY;
	return op->deadline - clock_now();
}

int op_sleep(const struct op *op, double s)
{
	double end = clock_now() + (s > 0 ? s : 0);
	for (;;) {
		int rc = op_check(op);
		if (rc)
			return rc;
		double now = clock_now();
		if (now >= end)
			return 0;
		double slice = end - now < OP_SLICE ? end - now : OP_SLICE;
		double left = op_left(op);
		if (left < slice)
			slice = left > 0 ? left : 0;
		clock_sleep(slice);
	}
}
