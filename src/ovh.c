/* ovh: the OVH API client: one call, its tries, and what they tell. */
#include "ovh.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
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
#include "retry.h"

/* The latest failure, as the status file shows it. */
struct failure {
	time_t time; /* 0: none yet */
	char method[16];
	char path[256];
	long status;
	char error_class[96];
	char message[256];
	char query_id[128];
};

#define N_STATUS 600 /* by_status counts 0 (no reply) and 100..599 */
static const char *const counted_methods[] = {"GET", "POST", "PUT", "DELETE", "other"};
#define N_METHODS (sizeof(counted_methods) / sizeof(counted_methods[0]))

/* What the status file counts; updated without a lock. */
struct counters {
	atomic_ulong calls; /* HTTP requests sent, /auth/time and tokens included */
	atomic_ulong by_method[N_METHODS];
	atomic_ulong by_status[N_STATUS];
	atomic_ulong retries; /* requests sent again */
	atomic_ulong errors;  /* failures reported (a 404 is not one) */
};

struct ovh_client {
	char *base_url;
	double timeout;
	double try_timeout; /* request_timeout=, at most timeout= */
	int retries;
	struct http *http;
	struct auth *auth;

	_Atomic int quiet;	  /* start-up checks report failures themselves */
	pthread_mutex_t err_lock; /* guards last_error and failure */
	char last_error[512];
	struct failure failure; /* the same, field by field, for the status file */
	struct counters counters;

	struct breaker breaker;	    /* fails fast while the API is down */
	struct ratelimit ratelimit; /* rate=, burst= */
};

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

/* ---- errors ---- */

int ovh_status_to_errno(long status)
{
	if (status >= 200 && status < 300)
		return 0;
	switch (status) {
	case 400:
		return -EINVAL;
	case 401:
	case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 409:
		return -EBUSY;
	case 0:
	case 408:
	case 504:
		return -ETIMEDOUT;
	default:
		return -EIO;
	}
}

/*
 * src into dst[len], cut before a UTF-8 sequence that would not fit whole:
 * the API's text is UTF-8 and stays so (the status file's JSON needs it).
 */
static void copy_text(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);
	if (!len)
		return;
	if (n >= len) {
		n = len - 1;
		while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
			n--; /* src[n] continues a sequence: cut before its lead byte */
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void copy_json_string(json_t *obj, const char *key, char *dst, size_t len)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (s)
		copy_text(dst, len, s);
}

int ovh_parse_error(const char *body, size_t len, char *cls, size_t cls_len, char *msg,
		    size_t msg_len)
{
	json_t *root = body ? json_loadb(body, len, 0, NULL) : NULL;
	int rc = -EINVAL;

	if (cls_len)
		cls[0] = '\0';
	if (msg_len)
		msg[0] = '\0';
	if (json_is_object(root) && json_is_string(json_object_get(root, "message"))) {
		copy_json_string(root, "message", msg, msg_len);
		if (json_is_string(json_object_get(root, "class")))
			copy_json_string(root, "class", cls, cls_len);
		else
			copy_json_string(root, "errorCode", cls, cls_len);
		rc = 0;
	}
	json_decref(root);
	return rc;
}

/* Non-JSON error pages (an HTML proxy error, say): keep a printable prefix. */
static void fill_error_fields(struct ovh_response *resp)
{
	if (resp->status >= 200 && resp->status < 300)
		return;
	if (ovh_parse_error(resp->body, resp->len, resp->error_class, sizeof(resp->error_class),
			    resp->error_message, sizeof(resp->error_message)) == 0)
		return;
	size_t n = 0;
	for (size_t i = 0; resp->body && i < resp->len && n + 1 < 80; i++) {
		unsigned char ch = (unsigned char)resp->body[i];
		resp->error_message[n++] = (char)(isprint(ch) ? ch : ' ');
	}
	resp->error_message[n] = '\0';
}

static void record_error(struct ovh_client *c, const char *method, const char *path,
			 const struct ovh_response *resp, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/*
 * Keep the last failure (of method path, with what resp says of it) for
 * start-up reports and the status file, and log it unless quiet.
 */
static void record_error(struct ovh_client *c, const char *method, const char *path,
			 const struct ovh_response *resp, const char *fmt, ...)
{
	struct failure *f = &c->failure;
	va_list ap;
	atomic_fetch_add(&c->counters.errors, 1);
	pthread_mutex_lock(&c->err_lock);
	va_start(ap, fmt);
	vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
	va_end(ap);
	f->time = time(NULL);
	snprintf(f->method, sizeof(f->method), "%s", method);
	copy_text(f->path, sizeof(f->path), path);
	f->status = resp->status;
	copy_text(f->error_class, sizeof(f->error_class), resp->error_class);
	copy_text(f->message, sizeof(f->message), resp->error_message);
	snprintf(f->query_id, sizeof(f->query_id), "%s", resp->query_id);
	if (!c->quiet)
		log_error("%s", c->last_error);
	pthread_mutex_unlock(&c->err_lock);
}

void ovh_set_quiet(struct ovh_client *c, bool quiet)
{
	c->quiet = quiet;
}

void ovh_last_error(struct ovh_client *c, char *buf, size_t len)
{
	pthread_mutex_lock(&c->err_lock);
	snprintf(buf, len, "%s", c->last_error);
	pthread_mutex_unlock(&c->err_lock);
}

/*
 * A try's requests: each one written is a call (libcurl's own re-send of a
 * GET on a dead reused connection too, also a retry); the last one got
 * status (0: no reply), the earlier ones got no reply.
 */
static void count_requests(struct ovh_client *c, const char *method, long status, int n)
{
	size_t m = 0;
	if (n <= 0)
		return; /* nothing was written: refused, or never connected */
	while (m + 1 < N_METHODS && strcmp(counted_methods[m], method) != 0)
		m++;
	atomic_fetch_add(&c->counters.calls, (unsigned long)n);
	atomic_fetch_add(&c->counters.by_method[m], (unsigned long)n);
	atomic_fetch_add(&c->counters.retries, (unsigned long)(n - 1));
	atomic_fetch_add(&c->counters.by_status[0], (unsigned long)(n - 1));
	if (status > 0 && (status < 100 || status >= N_STATUS))
		status = 0; /* not HTTP: counted as no reply */
	atomic_fetch_add(&c->counters.by_status[status], 1);
}

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
	record_error(c, rq->method, rq->path, resp, "%s %s: %s", rq->method, rq->path, why);
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
	count_requests(c, rq->method, resp->status, o->requests);
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
	record_error(c, rq->method, rq->path, resp,
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
			fill_error_fields(resp);
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

/* ---- OAuth2: auth.c asks for a token, this sends the request ---- */

static void token_refused(struct ovh_client *c, const char *url, struct ovh_response *resp)
{
	json_t *root = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
	copy_json_string(root, "error", resp->error_class, sizeof(resp->error_class));
	copy_json_string(root, "error_description", resp->error_message,
			 sizeof(resp->error_message));
	json_decref(root);
	record_error(c, "POST", url, resp, "OAuth2 token refused by %s: HTTP %ld %s: \"%s\"", url,
		     resp->status, resp->error_class, resp->error_message);
}

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
		token_refused(c, url, &resp);
		rc = resp.status == 400 || resp.status == 401 ? -EACCES : rc;
	}
	response_reset(&resp, true);
	return rc;
}
/* ---- status ---- */

static json_t *failure_json(struct ovh_client *c)
{
	const struct failure *f = &c->failure;
	char when[32];
	struct tm tm;
	pthread_mutex_lock(&c->err_lock);
	if (!f->time) {
		pthread_mutex_unlock(&c->err_lock);
		return json_null();
	}
	gmtime_r(&f->time, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s}", "time", when, "method",
			      f->method, "path", f->path, "status", (json_int_t)f->status, "class",
			      f->error_class, "message", f->message, "query_id", f->query_id);
	pthread_mutex_unlock(&c->err_lock);
	return o ? o : json_null();
}

static json_t *counts_json(atomic_ulong *counts, size_t n, const char *const *names)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < n; i++) {
		unsigned long v = atomic_load(&counts[i]);
		char key[16];
		if (!v)
			continue;
		if (names)
			snprintf(key, sizeof(key), "%s", names[i]);
		else
			snprintf(key, sizeof(key), "%zu", i);
		json_object_set_new(o, key, json_integer((json_int_t)v));
	}
	return o;
}

bool ovh_rate_spare(struct ovh_client *c)
{
	return ratelimit_spare(&c->ratelimit);
}

json_t *ovh_status_json(struct ovh_client *c)
{
	struct counters *k = &c->counters;
	unsigned long waits;
	double waited;
	ratelimit_stats(&c->ratelimit, &waits, &waited);
	return json_pack("{s:I, s:o, s:o, s:I, s:I, s:o, s:{s:s, s:I}, s:{s:f, s:f, s:I, s:f}}",
			 "calls", (json_int_t)atomic_load(&k->calls), "by_method",
			 counts_json(k->by_method, N_METHODS, counted_methods), "by_status",
			 counts_json(k->by_status, N_STATUS, NULL), "retries",
			 (json_int_t)atomic_load(&k->retries), "errors",
			 (json_int_t)atomic_load(&k->errors), "last_error", failure_json(c),
			 "breaker", "state", breaker_is_open(&c->breaker) ? "open" : "closed",
			 "opened", (json_int_t)breaker_opened(&c->breaker), "rate", "limit",
			 c->ratelimit.rate, "burst", c->ratelimit.burst, "waits", (json_int_t)waits,
			 "waited_seconds", waited);
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
	if (rc) {
		ovh_client_free(c);
		return rc;
	}
	*out = c;
	return 0;
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
