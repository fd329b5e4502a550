/*
 * ovh: calls to the OVHcloud API.
 *
 * The public face of the transport. Owns the client's life cycle and the
 * call loop: for each try it takes a rate= slot (guard.c), the proof of
 * identity (auth.c: signature or OAuth2 token), sends it (http.c: libcurl),
 * asks retry.c whether to send it again, and keeps the circuit breaker
 * (guard.c) and the status counters; then translates the result into
 * negative errno with one log line (the errno, error bodies, the latest
 * failure and the counters: ovh_report.c). Every wait obeys the call's op.
 * Knows nothing of the EFS models. Thread-safe.
 */
#ifndef OVHSNAPFS_OVH_H
#define OVHSNAPFS_OVH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "op.h"

struct ovh_client;

struct ovh_client_opts {
	const struct ovh_config *cfg; /* copied; the caller may free it after */
	const char *cafile;	      /* NULL: system store */
	double timeout;		      /* timeout=: caps each try, and rate= waits without an op */
	double request_timeout;	      /* seconds one try may last at most; <= 0: the default */
	int retries;		      /* tries for 429, 5xx and network errors */
	double rate;		      /* requests per second sustained; <= 0: unlimited */
	double burst;		      /* requests at once before rate applies; <= 0: the default */
};

/* The default cut of one try (request_timeout=): a reply later than this is not coming. */
#define OVH_DEFAULT_REQUEST_TIMEOUT 10.0

/* OVH's fair use: about 60 requests a minute per consumer key, in a burst of 60. */
#define OVH_DEFAULT_RATE  1.0
#define OVH_DEFAULT_BURST 60.0

/* libcurl's global state: once in main before any thread, and at its end. */
int ovh_global_init(void);
void ovh_global_cleanup(void);
/* The HTTP library and its TLS backend, for --version: "libcurl/7.88.1 OpenSSL/3.0.x ...". */
const char *ovh_transport_version(void);

struct ovh_response {
	long status; /* HTTP status; 0 when no reply arrived */
	char *body;  /* NUL-terminated */
	size_t len;
	char query_id[128];
	/* The request may have been carried out although no reply came. */
	bool outcome_unknown;
	char error_class[96]; /* "Client::NotFound" or an errorCode */
	char error_message[256];
};

int ovh_client_new(const struct ovh_client_opts *opts, struct ovh_client **out);
void ovh_client_free(struct ovh_client *client);

/* Flags for ovh_call_ex. */
#define OVH_QUIET      1u /* do not log a failure: the caller reports it */
#define OVH_ONCE       2u /* no retries (start-up checks fail fast) */
#define OVH_IDEMPOTENT 4u /* a POST that may be sent twice (token requests) */
/* A PUT that is not sent again once written: the caller confirms its outcome (a GET) first. */
#define OVH_CONFIRM 8u

/* Fetch GET /auth/time and store the delta used for signatures. */
int ovh_sync_time(struct ovh_client *client, unsigned flags);
long ovh_time_delta(const struct ovh_client *client);
/* Whether a background request may go now (ratelimit_spare): it never waits for rate=. */
bool ovh_rate_spare(struct ovh_client *client);
const char *ovh_base_url(const struct ovh_client *client);
/* The tries a request may take in all (retries=, at least 1). */
int ovh_tries(const struct ovh_client *client);

/*
 * One API call on behalf of op (NULL: a background call; op.h): method,
 * path below the base URL (with its query string), JSON body or NULL.
 * Returns 0 on 2xx with resp filled, or negative errno after logging the
 * failure; resp is filled either way and must be freed.
 *
 * GET, PUT and DELETE are retried on 429, 5xx and network errors; a POST
 * only when the API certainly did not act on it (429, or a failure before
 * the request was written: connection refused, DNS, TLS handshake); any
 * other failure of a POST sets resp->outcome_unknown and is not sent again.
 *
 * Bounds: each try is cut after request_timeout= (never more than timeout=)
 * or when op ends, whichever comes first, and at half of what op has left
 * when a cut try could be sent again (retry_try_timeout), on a fresh
 * connection; back-off, Retry-After and rate= waits end when op ends, and
 * a wait that would outlast op is not started. So a call on behalf of an op
 * with a deadline ends by it, whatever retries= says. An op that ends
 * (interrupt, shutdown) aborts the transfer at once (-EINTR) and a deadline
 * with -ETIMEDOUT. Background calls (NULL op) end at op_shutdown().
 */
int ovh_call(struct ovh_client *client, const struct op *op, const char *method, const char *path,
	     const char *body, struct ovh_response *resp);
int ovh_call_ex(struct ovh_client *client, const struct op *op, const char *method,
		const char *path, const char *body, unsigned flags, struct ovh_response *resp);

/*
 * OAuth2 service accounts: a client-credentials token from the endpoint's
 * token URL, sent as "Authorization: Bearer", refreshed before it expires
 * and once after a 401.
 */
bool ovh_uses_oauth2(const struct ovh_client *client);

/*
 * Start-up checks report failures in one line of their own: while quiet,
 * failures are only kept; ovh_last_error gives the latest one.
 */
void ovh_set_quiet(struct ovh_client *client, bool quiet);
void ovh_last_error(struct ovh_client *client, char *buf, size_t len);
void ovh_response_free(struct ovh_response *resp);

/*
 * Counters for the status file: a new JSON object (jansson; the caller
 * json_decref()s it), never holding a secret. NULL when out of memory.
 *   "calls":      every HTTP request sent, /auth/time and token requests included
 *   "by_method":  {"GET": n, "POST": n, "PUT": n, "DELETE": n, "other": n} (zeros left out)
 *   "by_status":  {"200": n, "404": n, ..., "0": n (no reply)} (zeros left out)
 *   "retries":    requests sent again (after a 429, 5xx, network error, or a
 *                 renewed clock or token)
 *   "errors":     failures reported (logged, or kept by a quiet start-up
 *                 check); a 404 is not one
 *   "last_error": null, or {"time": RFC 3339 UTC, "method", "path",
 *                 "status" (0: no reply), "class" ("network", "rate", or the
 *                 API's class or errorCode), "message", "query_id"}
 *   "breaker":    {"state": "closed" | "open", "opened": times it opened}
 *   "rate":       {"limit": requests per second (0: none), "burst": b,
 *                 "waits": requests that waited, "waited_seconds": x}
 * Thread-safe; counters are read one by one, not as one snapshot.
 */
json_t *ovh_status_json(struct ovh_client *client);

/* Pure helpers, exposed for the unit tests. */
void ovh_sign(const char *app_secret, const char *consumer_key, const char *method, const char *url,
	      const char *body, long timestamp, char out[45]);
int ovh_status_to_errno(long status);
/* Parse either OVH error shape into class and message; 0 if it was one. */
int ovh_parse_error(const char *body, size_t len, char *cls, size_t cls_len, char *msg,
		    size_t msg_len);

#endif
