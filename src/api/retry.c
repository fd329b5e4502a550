/* retry: the decision to send a request again. */
#include "retry.h"

double retry_backoff(int number, double retry_after, double jitter)
{
	if (retry_after > 0)
		return retry_after > RETRY_MAX_DELAY ? RETRY_MAX_DELAY : retry_after;
	double base = 0.25 * (double)(1 << (number < 6 ? number : 6));
	if (base > 8)
		base = 8;
	return base * (0.5 + 0.5 * jitter);
}

double retry_try_timeout(const struct retry_state *st, double left, double cap)
{
	int tries = st->tries < 1 ? 1 : st->tries;
	double t = cap < left ? cap : left;
	if (!st->unsafe && st->number + 1 < tries && left / 2 < t)
		t = left / 2;
	return t;
}

/* Send it again after the back-off, if a try is left and the wait fits in the op. */
static struct retry_decision again(const struct retry_state *st, const struct try_outcome *o,
				   double left, double jitter, struct retry_decision d)
{
	int tries = st->tries < 1 ? 1 : st->tries;
	double delay = retry_backoff(st->number, o->retry_after, jitter);
	if (st->number + 1 < tries && delay < left) {
		d.verdict = RETRY_AFTER;
		d.delay = delay;
		d.api_down = false; /* not yet: only the call's last failure counts */
	}
	return d;
}

static struct retry_decision after_reply(const struct retry_state *st, const struct try_outcome *o,
					 double left, double jitter)
{
	struct retry_decision d = {.verdict = RETRY_DONE};
	long s = o->status;
	bool transient = s == 429 || s >= 500;

	d.api_up = !transient;
	d.api_down = transient;
	if (s >= 200 && s < 300) {
		d.success = true;
		return d;
	}
	if (o->curable && !st->cured) {
		d.verdict = RETRY_CURE;
		return d;
	}
	if (st->is_delete && s == 404 && st->number > 0) {
		d.success = true; /* an earlier try did it, its reply lost */
		return d;
	}
	if (!transient || o->lasting)
		return d;
	if (st->unsafe && s != 429) {
		/* A 5xx after a POST: a proxy or the API may have carried it out. */
		d.outcome_unknown = true;
		return d;
	}
	return again(st, o, left, jitter, d); /* a 429 was certainly not acted on */
}

struct retry_decision retry_decide(const struct retry_state *st, const struct try_outcome *o,
				   double left, double jitter)
{
	struct retry_decision d = {.verdict = RETRY_DONE};

	if (o->abort_rc) {
		/* The caller gave up (interrupt, deadline, shutdown): not the API's fault. */
		d.outcome_unknown = st->unsafe && o->sent != TRY_NOT_SENT;
		return d;
	}
	if (o->sent == TRY_REPLY)
		return after_reply(st, o, left, jitter);
	d.api_down = !o->lasting;
	if (o->sent == TRY_MAYBE_SENT && st->unsafe) {
		d.outcome_unknown = true; /* written, perhaps acted on: never again */
		return d;
	}
	if (o->lasting)
		return d;
	return again(st, o, left, jitter, d);
}
