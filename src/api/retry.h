/*
 * retry: whether a request is sent again, and when.
 *
 * The one place that decides, for every outcome of one try (a reply, a
 * failure before the request was written, a failure after it may have
 * been, a transfer its op ended), whether the call is done, is sent again
 * after a delay, or is sent again at once with a renewed clock or token;
 * and whether a POST's outcome is unknown; and how long each try may last
 * within what its op has left. A request that must not be
 * carried out twice (a POST) is sent again only when the API certainly
 * never acted on it: a 429, a refusal of its signature or token, or a
 * failure before its bytes left (connection refused, DNS, TLS handshake).
 *
 * Pure: no I/O, no clock, no libcurl, no randomness (the caller passes the
 * jitter and the time its op has left, and does the sleeping). Thread-safe.
 */
#ifndef OVHSNAPFS_RETRY_H
#define OVHSNAPFS_RETRY_H

#include <stdbool.h>

/* How far one try got. */
enum try_sent {
	TRY_REPLY,	/* a whole HTTP reply arrived */
	TRY_NOT_SENT,	/* it failed before a byte of the request was written */
	TRY_MAYBE_SENT, /* it failed after the request may have been written */
};

/* What one try produced, as http.c and ovh.c classified it. */
struct try_outcome {
	enum try_sent sent;
	long status;	    /* TRY_REPLY: the HTTP status */
	double retry_after; /* seconds the reply's Retry-After asked for; 0: none */
	int abort_rc;	    /* -EINTR or -ETIMEDOUT when the op ended the transfer; else 0 */
	bool lasting;	    /* trying again cannot help: a bad certificate, a reply too big */
	bool curable;	    /* a refusal a fresh clock or token cures: the API did not act */
	int requests;	    /* HTTP requests written: 0 when none was, 2 when libcurl re-sent */
};

/* One call's progress through its tries. */
struct retry_state {
	int tries;	/* at most this many tries; < 1 counts as 1 */
	int number;	/* tries made before this one: 0 for the first */
	bool unsafe;	/* a POST: must never be carried out twice */
	bool is_delete; /* a DELETE: a 404 after an earlier try means an earlier try did it */
	bool cured;	/* the clock or token was renewed once already */
};

enum retry_verdict {
	RETRY_DONE,  /* the call ends with this try */
	RETRY_AFTER, /* send it again after delay seconds */
	RETRY_CURE,  /* renew the clock or token, then send it again at once (once per call) */
};

struct retry_decision {
	enum retry_verdict verdict;
	double delay; /* RETRY_AFTER */
	bool success; /* RETRY_DONE: the call succeeded (a 2xx, or a repeated DELETE's 404) */
	bool outcome_unknown; /* RETRY_DONE: the API may have carried out an unsafe request */
	bool api_up;	      /* the API answered: close the circuit breaker */
	bool api_down;	      /* the API failed the call: a failure for the breaker */
};

/* Longest wait between tries, Retry-After included. */
#define RETRY_MAX_DELAY 60.0

/*
 * The decision after one try. left: seconds the call's op has before its
 * deadline (INFINITY: none); a wait that would not end before it is not
 * started, the call ends now with what this try gave. jitter in [0, 1).
 */
struct retry_decision retry_decide(const struct retry_state *st, const struct try_outcome *o,
				   double left, double jitter);

/*
 * How long this try may last before it is cut: at most cap (request_timeout=,
 * never more than timeout=) and what the op has left; and, when a try cut
 * after its request was written could be followed by another (not a POST,
 * tries left), at most half of what is left, so that a stalled try leaves
 * room for one more on a fresh connection. A cut POST is never sent again:
 * it gets all it may.
 */
double retry_try_timeout(const struct retry_state *st, double left, double cap);

/*
 * Seconds before try number + 1: Retry-After when the API sent one (at
 * most RETRY_MAX_DELAY), else exponential from 0.25 s, at most 8 s, scaled
 * by 0.5 + jitter / 2.
 */
double retry_backoff(int number, double retry_after, double jitter);

#endif
