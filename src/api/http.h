/*
 * http: libcurl, and nothing else of ovhsnapfs knows it.
 *
 * Owns libcurl's global state, a pool of easy handles (each driven by a
 * multi handle of its own, polled every OP_SLICE), the share they use
 * (DNS cache and TLS sessions only: libcurl 7.88 does not support one
 * connection cache shared by threads running at once), the options every
 * request gets (each one checked), the callbacks that collect a reply, and
 * the abort of a transfer whose op ended (interrupt, deadline, shutdown).
 *
 * Each pooled handle keeps its own connections (in its multi handle's
 * cache): a handle taken from the
 * pool reuses the keep-alive connection its last request left open (a
 * stack: the most recently used first). HTTP_POOL_SIZE idle handles are
 * kept: prefetch= (at most 64 workers) can keep that many busy at once, and
 * at the default rate= and burst= no more than 60 requests start together.
 * More threads can be in a transfer at once (libfuse's max_threads, the
 * refresh thread, rate=0): each then gets a handle of its own, closed
 * after its request, with its connection; TLS sessions are resumed.
 *
 * A transfer that failed (a cut, a dropped connection) takes its handle and
 * connections with it: a stalled connection is never used again.
 *
 * Each transfer is classified for retry.c: a reply, a failure before the
 * request was written, or a failure after it may have been. Thread-safe.
 */
#ifndef OVHSNAPFS_HTTP_H
#define OVHSNAPFS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "op.h"
#include "ovh.h"
#include "retry.h"

#define HTTP_POOL_SIZE 64
#define HTTP_MAX_BODY  (8u << 20) /* larger replies are refused, not buffered */

struct http;

/* Once per process, before any thread starts, and at its very end. */
int http_global_init(void);
void http_global_cleanup(void);
const char *http_version(void);

/* cafile: a CA bundle (NULL: the system store); copied. */
int http_new(const char *cafile, struct http **out);
void http_free(struct http *http);

struct http_request {
	const char *method;
	const char *url;
	const char *body; /* NULL: none; used in place, not copied */
	const char *content_type;
	const char *const *headers; /* extra lines, NULL-terminated; used in place, not copied */
	double timeout;		    /* seconds for the whole transfer, connection included */
	bool fresh_connection;	    /* on a new connection, none kept from before */
	const struct op *op;	    /* its end aborts the transfer; NULL: only shutdown does */
	bool secret_reply;	    /* the reply holds a secret: no stale copy of it is left */
};

/*
 * One HTTP exchange. Fills resp (status, body, query_id; the caller frees
 * it) and out (how far it got, Retry-After). Returns 0 when a reply came,
 * else negative errno with a one-line reason in why: -EINTR or -ETIMEDOUT
 * when the op ended it (out->abort_rc), -ETIMEDOUT when timeout passed,
 * -ENOMEM, -EIO for the rest.
 */
int http_perform(struct http *http, const struct http_request *rq, struct ovh_response *resp,
		 struct try_outcome *out, char *why, size_t why_len);

/* Free a reply's body, wiping it first when it held a secret. */
void http_body_free(struct ovh_response *resp, bool secret);

#endif
