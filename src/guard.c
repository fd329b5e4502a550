/* guard: token bucket and circuit breaker. */
#include "guard.h"

#include <errno.h>
#include <time.h>

#include "log.h"

static double now_monotonic(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_seconds(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {.tv_sec = (time_t)s,
			      .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void ratelimit_init(struct ratelimit *r, double rate)
{
	pthread_mutex_init(&r->lock, NULL);
	r->interval = rate > 0 ? 1.0 / rate : 0;
	r->burst = rate < 1 ? 1 : rate;
	r->tat = 0;
}

void ratelimit_destroy(struct ratelimit *r)
{
	pthread_mutex_destroy(&r->lock);
}

int ratelimit_wait(struct ratelimit *r, double max_wait)
{
	if (r->interval <= 0)
		return 0;
	pthread_mutex_lock(&r->lock);
	double now = now_monotonic();
	if (r->tat < now)
		r->tat = now;
	double wait = r->tat - (r->burst - 1) * r->interval - now;
	if (wait <= max_wait)
		r->tat += r->interval; /* the slot is ours */
	pthread_mutex_unlock(&r->lock);
	if (wait > max_wait)
		return -ETIMEDOUT;
	sleep_seconds(wait);
	return 0;
}

void breaker_init(struct breaker *b)
{
	pthread_mutex_init(&b->lock, NULL);
	b->failures = 0;
	b->open_until = 0;
	b->open_for = 0;
}

void breaker_destroy(struct breaker *b)
{
	pthread_mutex_destroy(&b->lock);
}

bool breaker_is_open(struct breaker *b)
{
	pthread_mutex_lock(&b->lock);
	bool open = now_monotonic() < b->open_until;
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
		b->open_until = now_monotonic() + b->open_for;
		if (b->failures == BREAKER_THRESHOLD)
			log_error("the OVH API failed %d calls in a row: failing fast for %.0f s "
				  "at a time until it answers",
				  b->failures, b->open_for);
	}
	pthread_mutex_unlock(&b->lock);
}
