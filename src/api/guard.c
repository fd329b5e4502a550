/* guard: token bucket and circuit breaker. */
#include "guard.h"

#include <errno.h>
#include <time.h>

#include "clock.h"
#include "log.h"

void ratelimit_init(struct ratelimit *r, double rate, double burst)
{
	pthread_mutex_init(&r->lock, NULL);
	r->interval = rate > 0 ? 1.0 / rate : 0;
	r->burst = burst < 1 ? 1 : burst;
	r->tat = 0;
	r->rate = rate > 0 ? rate : 0;
	r->waits = 0;
	r->waited = 0;
}

void ratelimit_destroy(struct ratelimit *r)
{
	pthread_mutex_destroy(&r->lock);
}

int ratelimit_wait(struct ratelimit *r, const struct op *op, double max_wait)
{
	if (r->interval <= 0)
		return 0;
	double left = op_left(op);
	if (left < max_wait)
		max_wait = left;
	pthread_mutex_lock(&r->lock);
	double now = clock_now();
	if (r->tat < now)
		r->tat = now;
	double wait = r->tat - (r->burst - 1) * r->interval - now;
	if (wait <= max_wait) {
		r->tat += r->interval; /* the slot is ours */
		if (wait > 0) {
			r->waits++;
			r->waited += wait;
		}
	}
	pthread_mutex_unlock(&r->lock);
	if (wait > max_wait)
		return -ETIMEDOUT;
	int rc = wait > 0 ? op_sleep(op, wait) : 0;
	if (rc) {
		pthread_mutex_lock(&r->lock);
		r->tat -= r->interval; /* no request went out: the slot goes back */
		pthread_mutex_unlock(&r->lock);
	}
	return rc;
}

void ratelimit_stats(struct ratelimit *r, unsigned long *waits, double *waited)
{
	pthread_mutex_lock(&r->lock);
	*waits = r->waits;
	*waited = r->waited;
	pthread_mutex_unlock(&r->lock);
}

bool ratelimit_spare(struct ratelimit *r)
{
	if (r->interval <= 0)
		return true;
	pthread_mutex_lock(&r->lock);
	double now = clock_now(), tat = r->tat < now ? now : r->tat;
	double room = r->burst - (tat - now) / r->interval; /* requests that may go now */
	pthread_mutex_unlock(&r->lock);
	return room >= 1 + r->burst / 4;
}

void breaker_init(struct breaker *b)
{
	pthread_mutex_init(&b->lock, NULL);
	b->failures = 0;
	b->open_until = 0;
	b->open_for = 0;
	b->opened = 0;
}

void breaker_destroy(struct breaker *b)
{
	pthread_mutex_destroy(&b->lock);
}

unsigned long breaker_opened(struct breaker *b)
{
	pthread_mutex_lock(&b->lock);
	unsigned long n = b->opened;
	pthread_mutex_unlock(&b->lock);
	return n;
}

bool breaker_is_open(struct breaker *b)
{
	pthread_mutex_lock(&b->lock);
	bool open = clock_now() < b->open_until;
	pthread_mutex_unlock(&b->lock);
	return open;
}

void breaker_success(struct breaker *b)
{
	pthread_mutex_lock(&b->lock);
	if (b->failures >= BREAKER_THRESHOLD)
		log_warn("the OVH API answers again");
	b->failures = 0;
	b->open_for = 0;
	pthread_mutex_unlock(&b->lock);
}

void breaker_failure(struct breaker *b)
{
	pthread_mutex_lock(&b->lock);
	if (++b->failures >= BREAKER_THRESHOLD) {
		b->open_for = b->open_for ? b->open_for * 2 : 5;
		if (b->open_for > 60)
			b->open_for = 60;
		b->open_until = clock_now() + b->open_for;
		b->opened++;
		if (b->failures == BREAKER_THRESHOLD)
			log_error("the OVH API failed %d calls in a row: failing fast for %.0f s "
				  "at a time until it answers",
				  b->failures, b->open_for);
	}
	pthread_mutex_unlock(&b->lock);
}
