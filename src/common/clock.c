/* clock: monotonic seconds and sleeping. */
#include "clock.h"

#include <errno.h>
#include <time.h>

double clock_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void clock_sleep(double s)
{
	if (s <= 0)
		return;
	struct timespec ts = {.tv_sec = (time_t)s,
			      .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void clock_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

int clock_cond_wait(pthread_cond_t *cond, pthread_mutex_t *lock, double s)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	long ns = until.tv_nsec + (long)((s > 0 ? s : 0) * 1e9);
	until.tv_sec += ns / 1000000000L;
	until.tv_nsec = ns % 1000000000L;
	return pthread_cond_timedwait(cond, lock, &until);
}

void clock_stop_init(struct clock_stop *s)
{
	pthread_mutex_init(&s->lock, NULL);
	clock_cond_init(&s->cond);
	s->stopping = false;
}

bool clock_stop_sleep(struct clock_stop *s, double seconds)
{
	double until = clock_now() + seconds;
	pthread_mutex_lock(&s->lock);
	for (double left = seconds; !s->stopping && left > 0; left = until - clock_now())
		clock_cond_wait(&s->cond, &s->lock, left);
	bool go_on = !s->stopping;
	pthread_mutex_unlock(&s->lock);
	return go_on;
}

void clock_stop_ask(struct clock_stop *s)
{
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

void clock_stop_destroy(struct clock_stop *s)
{
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
}
