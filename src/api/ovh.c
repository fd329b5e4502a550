/* ovh: the OVH API client: one call and its tries (what they tell: ovh_report.c). */
#include "ovh.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "clock.h"
#include "guard.h"
#include "http.h"
#include "log.h"
#include "ovh_report.h"
#include "retry.h"

/* One HTTP request as ovh.c sends it. */
struct request {
	const char *method;
	const char *path; /* for logs: below the base URL, never secret */
	const char *url;
	const char *body;
	const char *content_type;
	bool sign;	   /* AK/AS/CK signature or OAuth2 bearer; false: anonymous */
	bool secret_reply; /* a token reply */
	unsigned flags;
	const struct op *op; /* whose deadline and interrupts bound it; NULL: background */
};

/* ---- one try ---- */

static void response_reset(struct ovh_response *resp, bool secret)
{
	http_body_free(resp, secret);
	memset(resp, 0, sizeof(*resp));
}

static void try_failed(struct ovh_client *c, const struct request *rq, struct ovh_response *resp,
		       const char *cls, const char *why)
{
	snprintf(resp->error_class, sizeof(resp->error_class), "%s", cls);
	snprintf(resp->error_message, sizeof(resp->error_message), "%s", why);
	ovh_record_error(c, rq->method, rq->path, resp, "%s %s: %s", rq->method, rq->path, why);
}

/* The caller gave up (Ctrl-C, kill, unmount): worth an info line, not an error. */
static void interrupted(const struct request *rq, struct ovh_response *resp, const char *why,
			bool maybe_done)
{
	snprintf(resp->error_class, sizeof(resp->error_class), "interrupted");
	snprintf(resp->error_message, sizeof(resp->error_message), "%s", why);
	log_info("%s %s: %s%s", rq->method, rq->path, why,
		 maybe_done ? " (it may have been carried out)" : "");
}

/* The request slot and the proof of identity; 0, or the call ends with this errno. */
static int before_try(struct ovh_client *c, const struct request *rq, struct ovh_response *resp,
		      struct auth_lines *lines)
{
	int rc = op_check(rq->op);
	if (rc == -EINTR) {
		interrupted(rq, resp, "interrupted before it was sent", false);
		return rc;
	}
	if (rc) {
		try_failed(c, rq, resp, "timeout", "not sent: the operation's time is up");
		return rc;
	}
	rc = ratelimit_wait(&c->ratelimit, rq->op, c->timeout);
	if (rc == -ETIMEDOUT && op_check(rq->op) == 0) {
		char why[96];
		snprintf(why, sizeof(why), "no request slot within timeout=%g s (rate=)",
			 c->timeout);
		try_failed(c, rq, resp, "rate", why);
		return rc;
	}
	if (rc) {
		interrupted(rq, resp, "interrupted while waiting for rate=", false);
		return rc;
	}
	lines->line[0] = NULL;
	if (rq->sign)
		return auth_lines(c->auth, rq->op, rq->flags, rq->method, rq->url, rq->body,
				  lines); /* a failed token fetch said why */
	return 0;
}

/*
 * Send it once, cut as retry.c says; 0 when a reply came (o says which),
 * else negative errno. fresh: the last try got no reply, so no connection
 * kept from before it is trusted.
 */
static int try_once(struct ovh_client *c, const struct request *rq, const struct retry_state *st,
		    bool fresh, const struct auth_lines *lines, struct ovh_response *resp,
		    struct try_outcome *o, char *why, size_t why_len)
{
	struct http_request hr = {
		.method = rq->method,
		.url = rq->url,
		.body = rq->body,
		.content_type = rq->content_type,
		.timeout = retry_try_timeout(st, op_left(rq->op), c->try_timeout),
		.op = rq->op,
		.secret_reply = rq->secret_reply,
		.fresh_connection = fresh,
	};
	hr.headers = lines->line;
	double t0 = clock_now();
	int rc = http_perform(c->http, &hr, resp, o, why, why_len);
	ovh_count_requests(c, rq->method, resp->status, o->requests);
	log_debug("%s %s %ld %.0fms %s", rq->method, rq->path, resp->status,
		  (clock_now() - t0) * 1000, resp->query_id);
	return rc;
}

/* A refusal that a fresh /auth/time can cure; the request was not acted on. */
static bool is_clock_rejection(const struct ovh_response *resp)
{
	return (resp->status == 400 || resp->status == 401 || resp->status == 403) &&
	       (strcmp(resp->error_class, "QUERY_TIME_OUT") == 0 ||
		strcmp(resp->error_class, "INVALID_SIGNATURE") == 0);
}

static bool curable(struct ovh_client *c, const struct request *rq, const struct ovh_response *resp)
{
	if (!rq->sign)
		return false;
	return auth_uses_oauth2(c->auth) ? resp->status == 401 : is_clock_rejection(resp);
}

static int sync_time(struct ovh_client *c, const struct op *op, unsigned flags);

/* Renew what the refusal blamed: the token it was sent with, or the clock. */
static bool cure(struct ovh_client *c, const struct request *rq, unsigned generation)
{
	if (auth_uses_oauth2(c->auth)) {
		auth_token_failed(c->auth, generation);
		return true;
	}
	return sync_time(c, rq->op, rq->flags) == 0;
}

static void api_failure(struct ovh_client *c, const struct request *rq,
			const struct ovh_response *resp)
{
	const char *sep = resp->error_class[0] ? ": " : "";
	const char *qid = resp->query_id[0] ? resp->query_id : "none";
	if (resp->status == 404) {
		/* How a finished deletion shows: worth a line, not an alarm. */
		log_info("%s %s: HTTP 404 %s%s\"%s\" (X-Ovh-QueryID: %s)", rq->method, rq->path,
			 resp->error_class, sep, resp->error_message, qid);
		return;
	}
	ovh_record_error(c, rq->method, rq->path, resp,
			 "%s %s: HTTP %ld %s%s\"%s\" (X-Ovh-QueryID: %s)", rq->method, rq->path,
			 resp->status, resp->error_class, sep, resp->error_message, qid);
}

/* How the call ends after its last try: 0, or negative errno with one line. */
static int finish(struct ovh_client *c, const struct request *rq, struct ovh_response *resp,
		  const struct retry_decision *d, int rc, const char *why)
{
	resp->outcome_unknown = d->outcome_unknown;
	if (d->api_up)
		breaker_success(&c->breaker);
	if (d->api_down)
		breaker_failure(&c->breaker);
	if (d->success)
		return 0;
	if (rc == -EINTR) {
		interrupted(rq, resp, why, d->outcome_unknown);
		return rc;
	}
	if (rc) {
		try_failed(c, rq, resp, "network", why);
		return rc;
	}
	if (!(rq->flags & OVH_QUIET))
		api_failure(c, rq, resp);
	return ovh_status_to_errno(resp->status);
}

/* Wait before the next try; 0, or the op ended the wait. */
static int pause_before_retry(struct ovh_client *c, const struct request *rq,
			      const struct retry_state *st, const struct retry_decision *d,
			      const struct ovh_response *resp, const char *why)
{
	if (resp->status)
		log_warn("%s %s: HTTP %ld; retry %d/%d in %.1fs", rq->method, rq->path,
			 resp->status, st->number + 1, st->tries - 1, d->delay);
	else
		log_warn("%s %s: %s; retry %d/%d in %.1fs", rq->method, rq->path, why,
			 st->number + 1, st->tries - 1, d->delay);
	atomic_fetch_add(&c->counters.retries, 1);
	return op_sleep(rq->op, d->delay);
}

static double jitter(void)
{
	return (double)random() / ((double)RAND_MAX + 1);
}

static int call(struct ovh_client *c, const struct request *rq, struct ovh_response *resp)
{
	struct retry_state st = {
		.tries = rq->flags & OVH_ONCE ? 1
			 : c->retries > 0     ? c->retries
					      : 1,
		.unsafe = (strcmp(rq->method, "POST") == 0 && !(rq->flags & OVH_IDEMPOTENT)) ||
			  (rq->flags & OVH_CONFIRM),
		.is_delete = strcmp(rq->method, "DELETE") == 0,
	};
	if (breaker_is_open(&c->breaker)) {
		snprintf(resp->error_message, sizeof(resp->error_message),
			 "the OVH API is down: failing fast");
		return -EIO;
	}
	bool fresh = false;
	for (;;) {
		struct auth_lines lines;
		struct try_outcome o;
		char why[256] = "";
		response_reset(resp, rq->secret_reply);
		int rc = before_try(c, rq, resp, &lines);
		if (rc)
			return rc; /* nothing was sent this time: an earlier try's outcome stands */
		rc = try_once(c, rq, &st, fresh, &lines, resp, &o, why, sizeof(why));
		auth_lines_wipe(&lines);
		fresh = o.sent != TRY_REPLY;
		if (rc == 0) {
			ovh_fill_error_fields(resp);
			o.curable = curable(c, rq, resp);
		}
		struct retry_decision d = retry_decide(&st, &o, op_left(rq->op), jitter());
		if (d.verdict == RETRY_CURE && cure(c, rq, lines.generation)) {
			st.cured = true; /* once: measure the clock or get a token again */
			atomic_fetch_add(&c->counters.retries, 1);
			continue;
		}
		if (d.verdict != RETRY_AFTER)
			return finish(c, rq, resp, &d, rc, why);
		rc = pause_before_retry(c, rq, &st, &d, resp, why);
		if (rc) {
			d = (struct retry_decision){.verdict = RETRY_DONE};
			return finish(c, rq, resp, &d, rc, rc == -EINTR ? "interrupted" : why);
		}
		st.number++;
	}
}

/* ---- the public calls ---- */

int ovh_call_ex(struct ovh_client *c, const struct op *op, const char *method, const char *path,
		const char *body, unsigned flags, struct ovh_response *resp)
{
	char url[4096];
	snprintf(url, sizeof(url), "%s%s", c->base_url, path);
	struct request rq = {.method = method,
			     .path = path,
			     .url = url,
			     .body = body,
			     .content_type = "application/json;charset=utf-8",
			     .sign = true,
			     .flags = flags,
			     .op = op};
	memset(resp, 0, sizeof(*resp));
	return call(c, &rq, resp);
}

int ovh_call(struct ovh_client *c, const struct op *op, const char *method, const char *path,
	     const char *body, struct ovh_response *resp)
{
	return ovh_call_ex(c, op, method, path, body, 0, resp);
}

void ovh_response_free(struct ovh_response *resp)
{
	response_reset(resp, false);
}

static int sync_time(struct ovh_client *c, const struct op *op, unsigned flags)
{
	char url[4096];
	struct ovh_response resp = {0};
	snprintf(url, sizeof(url), "%s/auth/time", c->base_url);
	struct request rq = {
		.method = "GET", .path = "/auth/time", .url = url, .flags = flags, .op = op};
	int rc = call(c, &rq, &resp);
	if (rc == 0) {
		json_t *t = json_loadb(resp.body ? resp.body : "", resp.len, JSON_DECODE_ANY, NULL);
		if (json_is_integer(t)) {
			long delta = (long)(json_integer_value(t) - (json_int_t)time(NULL));
			auth_set_time_delta(c->auth, delta);
			log_debug("server time delta: %ld s", delta);
		} else {
			try_failed(c, &rq, &resp, "reply", "the reply is not an integer");
			rc = -EIO;
		}
		json_decref(t);
	}
	ovh_response_free(&resp);
	return rc;
}

int ovh_sync_time(struct ovh_client *c, unsigned flags)
{
	return sync_time(c, NULL, flags);
}

long ovh_time_delta(const struct ovh_client *c)
{
	return auth_time_delta(c->auth);
}

const char *ovh_base_url(const struct ovh_client *c)
{
	return c->base_url;
}

int ovh_tries(const struct ovh_client *c)
{
	return c->retries > 0 ? c->retries : 1;
}

bool ovh_uses_oauth2(const struct ovh_client *c)
{
	return auth_uses_oauth2(c->auth);
}

bool ovh_rate_spare(struct ovh_client *c)
{
	return ratelimit_spare(&c->ratelimit);
}

/* ---- OAuth2: auth.c asks for a token, this sends the request ---- */

static int fetch_token(void *ctx, const struct op *op, unsigned flags, const char *form,
		       char **token, double *lifetime)
{
	struct ovh_client *c = ctx;
	const char *url = auth_token_url(c->auth);
	struct ovh_response resp = {0};
	struct op own;
	if (!op) { /* auth's own fetch: bounded like an operation, so a stalled try is cut */
		op_start(&own, c->timeout, NULL, NULL);
		op = &own;
	}
	struct request rq = {.method = "POST",
			     .path = url,
			     .url = url,
			     .body = form,
			     .content_type = "application/x-www-form-urlencoded",
			     .secret_reply = true,
			     .flags = flags | OVH_IDEMPOTENT | OVH_QUIET,
			     .op = op};
	int rc = call(c, &rq, &resp);
	if (rc == 0) {
		char why[128];
		rc = auth_parse_token(resp.body, resp.len, token, lifetime, why, sizeof(why));
		if (rc)
			try_failed(c, &rq, &resp, "token", why);
	} else if (resp.status) {
		ovh_token_refused(c, url, &resp);
		rc = resp.status == 400 || resp.status == 401 ? -EACCES : rc;
	}
	response_reset(&resp, true);
	return rc;
}

/* ---- life cycle ---- */

int ovh_global_init(void)
{
	return http_global_init();
}

void ovh_global_cleanup(void)
{
	http_global_cleanup();
}

const char *ovh_transport_version(void)
{
	return http_version();
}

int ovh_client_new(const struct ovh_client_opts *opts, struct ovh_client **out)
{
	struct ovh_client *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->timeout = opts->timeout > 0 ? opts->timeout : 30;
	c->try_timeout =
		opts->request_timeout > 0 ? opts->request_timeout : OVH_DEFAULT_REQUEST_TIMEOUT;
	if (c->try_timeout > c->timeout)
		c->try_timeout = c->timeout;
	c->retries = opts->retries;
	ratelimit_init(&c->ratelimit, opts->rate,
		       opts->burst > 0 ? opts->burst : OVH_DEFAULT_BURST);
	breaker_init(&c->breaker);
	pthread_mutex_init(&c->err_lock, NULL);
	int rc = -ENOMEM;
	if (opts->cfg->base_url && (c->base_url = strdup(opts->cfg->base_url)))
		rc = auth_new(opts->cfg, fetch_token, c, &c->auth);
	if (rc == 0)
		rc = http_new(opts->cafile, &c->http);
	if (rc == 0)
		*out = c;
	else
		ovh_client_free(c);
	return rc;
}

void ovh_client_free(struct ovh_client *c)
{
	if (!c)
		return;
	auth_free(c->auth); /* first: waits for a token fetch, which uses http */
	http_free(c->http);
	ratelimit_destroy(&c->ratelimit);
	breaker_destroy(&c->breaker);
	pthread_mutex_destroy(&c->err_lock);
	free(c->base_url);
	free(c);
}
