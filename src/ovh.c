/* ovh: signed HTTP calls to the OVH API over pooled libcurl handles. */
#include "ovh.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"
#include "clock.h"
#include "guard.h"
#include "log.h"

#define MAX_BODY	 (8u << 20) /* larger replies are refused, not buffered */
#define MAX_IDLE_HANDLES 16

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
	char *application_key;
	char *application_secret;
	char *consumer_key;
	char *client_id; /* OAuth2 instead of the three keys above */
	char *client_secret;
	char *token_url;
	char *cafile;
	double timeout;
	int retries;

	_Atomic long time_delta; /* server clock minus ours, seconds */

	_Atomic int quiet;	  /* start-up checks report failures themselves */
	pthread_mutex_t err_lock; /* guards last_error and failure */
	char last_error[512];
	struct failure failure; /* the same, field by field, for the status file */
	struct counters counters;

	pthread_mutex_t token_lock; /* one token request at a time */
	char *token;
	double token_expires; /* monotonic; 0: fetch before use */

	pthread_mutex_t pool_lock;
	CURL *idle[MAX_IDLE_HANDLES];
	int n_idle;

	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

	struct breaker breaker;	    /* fails fast while the API is down */
	struct ratelimit ratelimit; /* rate= */
};

/* What one HTTP exchange produced, before any interpretation. */
struct exchange {
	struct ovh_response *resp;
	size_t cap;
	bool too_big;
	double retry_after;
};

/* ---- signing ---- */

void ovh_sign(const char *app_secret, const char *consumer_key, const char *method, const char *url,
	      const char *body, long timestamp, char out[45])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	char ts[32];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	snprintf(ts, sizeof(ts), "%ld", timestamp);
	const char *parts[] = {app_secret, consumer_key, method, url, body ? body : "", ts};
	EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
	for (size_t i = 0; i < 6; i++) {
		if (i)
			EVP_DigestUpdate(ctx, "+", 1);
		EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
	}
	EVP_DigestFinal_ex(ctx, digest, &dlen);
	EVP_MD_CTX_free(ctx);
	memcpy(out, "$1$", 3);
	for (unsigned int i = 0; i < dlen && i < 20; i++)
		snprintf(out + 3 + 2 * i, 3, "%02x", digest[i]);
	out[43] = '\0';
}

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

static void copy_json_string(json_t *obj, const char *key, char *dst, size_t len)
{
	const char *s = json_string_value(json_object_get(obj, key));
	if (s && len)
		snprintf(dst, len, "%s", s);
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

/* A rejection that a fresh /auth/time can cure; the request was not acted on. */
static bool is_clock_rejection(const struct ovh_response *resp)
{
	return (resp->status == 400 || resp->status == 401 || resp->status == 403) &&
	       (strcmp(resp->error_class, "QUERY_TIME_OUT") == 0 ||
		strcmp(resp->error_class, "INVALID_SIGNATURE") == 0);
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
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->status = resp->status;
	snprintf(f->error_class, sizeof(f->error_class), "%s", resp->error_class);
	snprintf(f->message, sizeof(f->message), "%s", resp->error_message);
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

/* ---- libcurl plumbing ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct exchange *ex = user;
	struct ovh_response *resp = ex->resp;
	size_t n = size * nmemb;

	if (resp->len + n > MAX_BODY) {
		ex->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (resp->len + n + 1 > ex->cap) {
		size_t cap = ex->cap ? ex->cap : 4096;
		while (cap < resp->len + n + 1)
			cap *= 2;
		char *grown = realloc(resp->body, cap);
		if (!grown)
			return 0;
		resp->body = grown;
		ex->cap = cap;
	}
	memcpy(resp->body + resp->len, data, n);
	resp->len += n;
	resp->body[resp->len] = '\0';
	return n;
}

static bool header_is(const char *line, size_t len, const char *name, const char **value)
{
	size_t nlen = strlen(name);
	if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return false;
	*value = line + nlen + 1;
	while (**value == ' ')
		(*value)++;
	return true;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
	struct exchange *ex = user;
	size_t n = size * nmemb;
	const char *value;
	char buf[256];

	if (n >= sizeof(buf))
		return n;
	memcpy(buf, data, n);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (header_is(buf, n, "X-Ovh-QueryID", &value))
		snprintf(ex->resp->query_id, sizeof(ex->resp->query_id), "%.*s",
			 (int)sizeof(ex->resp->query_id) - 1, value);
	else if (header_is(buf, n, "Retry-After", &value))
		ex->retry_after = atof(value);
	return n;
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *user)
{
	struct ovh_client *c = user;
	(void)h;
	(void)access;
	pthread_mutex_lock(&c->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *user)
{
	struct ovh_client *c = user;
	(void)h;
	pthread_mutex_unlock(&c->share_locks[data]);
}

static CURL *handle_acquire(struct ovh_client *c)
{
	CURL *h = NULL;
	pthread_mutex_lock(&c->pool_lock);
	if (c->n_idle > 0)
		h = c->idle[--c->n_idle];
	pthread_mutex_unlock(&c->pool_lock);
	if (h) {
		curl_easy_reset(h); /* keeps its connections */
		return h;
	}
	return curl_easy_init();
}

static void handle_release(struct ovh_client *c, CURL *h)
{
	pthread_mutex_lock(&c->pool_lock);
	if (c->n_idle < MAX_IDLE_HANDLES) {
		c->idle[c->n_idle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&c->pool_lock);
	if (h)
		curl_easy_cleanup(h);
}

/* One HTTP request as ovh.c sends it. */
struct request {
	const char *method;
	const char *path; /* for logs: below the base URL, never secret */
	const char *url;
	const char *body;
	const char *content_type;
	bool sign; /* AK/AS/CK signature or OAuth2 bearer; false: anonymous */
	unsigned flags;
	const struct op *op; /* whose deadline and interrupts bound it; NULL: background */
};

static int token_get(struct ovh_client *c, unsigned flags, char *out, size_t len);
static void token_forget(struct ovh_client *c);

static struct curl_slist *signature_headers(struct ovh_client *c, const struct request *rq)
{
	struct curl_slist *h = NULL;
	char line[256], sig[45];
	long ts = (long)time(NULL) + c->time_delta;

	ovh_sign(c->application_secret, c->consumer_key, rq->method, rq->url, rq->body, ts, sig);
	snprintf(line, sizeof(line), "X-Ovh-Application: %s", c->application_key);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "X-Ovh-Consumer: %s", c->consumer_key);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "X-Ovh-Timestamp: %ld", ts);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "X-Ovh-Signature: %s", sig);
	h = curl_slist_append(h, line);
	explicit_bzero(line, sizeof(line));
	return h;
}

/* The proof of identity a request carries; -errno when none can be had. */
static int auth_headers(struct ovh_client *c, const struct request *rq, struct curl_slist **h)
{
	char line[4200];
	if (!rq->sign)
		return 0;
	if (!c->client_id) {
		*h = signature_headers(c, rq);
		return 0;
	}
	int rc = token_get(c, rq->flags, line, sizeof(line));
	if (rc == 0)
		*h = curl_slist_append(*h, line);
	explicit_bzero(line, sizeof(line));
	return rc;
}

static void setup_handle(struct ovh_client *c, CURL *h, const struct request *rq,
			 struct exchange *ex)
{
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_SHARE, c->share);
	/* libcurl keeps 5 idle connections by default: too few for parallel loads. */
	curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 64L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->timeout * 1000));
	/* A connection that takes longer than 10 s to open is not coming. */
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)((c->timeout < 10 ? c->timeout : 10) * 1000));
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ovhsnapfs/" PACKAGE_VERSION);
	if (c->cafile)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->cafile);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, ex);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, ex);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	if (strcmp(rq->method, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	if (strcmp(rq->method, "POST") == 0) {
		/*
		 * libcurl silently re-sends a request whose reused connection died
		 * before the reply; for a POST that could make a second snapshot.
		 */
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	}
	if (rq->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(rq->body));
	}
}

static void response_reset(struct ovh_response *resp)
{
	free(resp->body);
	memset(resp, 0, sizeof(*resp));
}

static void count_request(struct ovh_client *c, const char *method, long status)
{
	size_t m = 0;
	while (m + 1 < N_METHODS && strcmp(counted_methods[m], method) != 0)
		m++;
	atomic_fetch_add(&c->counters.calls, 1);
	atomic_fetch_add(&c->counters.by_method[m], 1);
	if (status > 0 && (status < 100 || status >= N_STATUS))
		status = 0; /* not HTTP: counted as no reply */
	atomic_fetch_add(&c->counters.by_status[status], 1);
}

/* ---- one request, then the retry policy ---- */

static CURLcode perform_once(struct ovh_client *c, const struct request *rq, struct exchange *ex,
			     int *auth_rc)
{
	struct curl_slist *headers = NULL;
	char ctype[128];
	CURLcode cc;

	*auth_rc = auth_headers(c, rq, &headers);
	if (*auth_rc)
		return CURLE_LOGIN_DENIED;
	CURL *h = handle_acquire(c);
	if (!h) {
		curl_slist_free_all(headers);
		return CURLE_OUT_OF_MEMORY;
	}
	setup_handle(c, h, rq, ex);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (rq->body) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s", rq->content_type);
		headers = curl_slist_append(headers, ctype);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	cc = curl_easy_perform(h);
	if (cc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &ex->resp->status);
	count_request(c, rq->method, ex->resp->status);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers); /* holds the bearer token: freed at once */
	handle_release(c, h);
	return cc;
}

/* Exponential backoff with jitter; Retry-After wins when the API sent one. */
static double backoff_delay(int attempt, double retry_after)
{
	if (retry_after > 0)
		return retry_after > 60 ? 60 : retry_after;
	double base = 0.25 * (double)(1 << (attempt < 6 ? attempt : 6));
	if (base > 8)
		base = 8;
	return base * (0.5 + 0.5 * ((double)random() / (double)RAND_MAX));
}

/* Failures before a byte of the request left: safe to send again. */
static bool never_sent(CURLcode cc)
{
	return cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
	       cc == CURLE_COULDNT_RESOLVE_PROXY;
}

static int network_failure(struct ovh_client *c, const struct request *rq, CURLcode cc,
			   struct exchange *ex)
{
	struct ovh_response *resp = ex->resp;
	if (ex->too_big)
		snprintf(resp->error_message, sizeof(resp->error_message),
			 "reply larger than %u bytes, refused", MAX_BODY);
	else
		snprintf(resp->error_message, sizeof(resp->error_message), "%s",
			 curl_easy_strerror(cc));
	snprintf(resp->error_class, sizeof(resp->error_class), "network");
	record_error(c, rq->method, rq->path, resp, "%s %s: %s", rq->method, rq->path,
		     resp->error_message);
	return cc == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT : -EIO;
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

/* A refusal that a fresh clock or token can cure; the API did not act on it. */
static bool cure_auth(struct ovh_client *c, const struct request *rq,
		      const struct ovh_response *resp)
{
	if (!rq->sign)
		return false;
	if (c->client_id && resp->status == 401) {
		token_forget(c);
		return true;
	}
	return !c->client_id && is_clock_rejection(resp) && ovh_sync_time(c, rq->flags) == 0;
}

/* Where one try leaves a call: finished (rc set), or to be tried again. */
enum verdict { DONE, RETRY, RETRY_NOW };

/* Per-call state of the retry loop. */
struct attempt {
	int number, tries;
	bool is_post; /* a POST that must not be sent twice blindly */
	bool cured;   /* the clock or token was renewed once already */
	int rc;
};

static enum verdict after_network_error(struct ovh_client *c, const struct request *rq, CURLcode cc,
					struct exchange *ex, struct attempt *at)
{
	bool may_retry = never_sent(cc) || (!at->is_post && !ex->too_big);
	if (!may_retry || at->number + 1 >= at->tries) {
		ex->resp->outcome_unknown = at->is_post && !never_sent(cc);
		if (!ex->too_big)
			breaker_failure(&c->breaker);
		at->rc = network_failure(c, rq, cc, ex);
		return DONE;
	}
	log_warn("%s %s: %s; retrying", rq->method, rq->path, curl_easy_strerror(cc));
	clock_sleep(backoff_delay(at->number, 0));
	return RETRY;
}

static enum verdict after_reply(struct ovh_client *c, const struct request *rq, struct exchange *ex,
				struct attempt *at)
{
	struct ovh_response *resp = ex->resp;
	bool transient = resp->status == 429 || resp->status >= 500;

	fill_error_fields(resp);
	if (!transient)
		breaker_success(&c->breaker);
	at->rc = 0;
	if (resp->status >= 200 && resp->status < 300)
		return DONE;
	if (!at->cured && cure_auth(c, rq, resp)) {
		at->cured = true; /* once: measure the clock or get a token again */
		return RETRY_NOW;
	}
	if (strcmp(rq->method, "DELETE") == 0 && resp->status == 404 && at->number > 0)
		return DONE; /* an earlier try did it */
	if (transient && at->is_post && resp->status != 429) {
		resp->outcome_unknown = true; /* a 5xx after a POST: acted on, or not */
	} else if (transient && at->number + 1 < at->tries) {
		double delay = backoff_delay(at->number, ex->retry_after);
		log_warn("%s %s: HTTP %ld; retry %d/%d in %.1fs", rq->method, rq->path,
			 resp->status, at->number + 1, at->tries - 1, delay);
		clock_sleep(delay);
		return RETRY;
	}
	if (transient)
		breaker_failure(&c->breaker);
	if (!(rq->flags & OVH_QUIET))
		api_failure(c, rq, resp);
	at->rc = ovh_status_to_errno(resp->status);
	return DONE;
}

static int call(struct ovh_client *c, const struct request *rq, struct ovh_response *resp)
{
	struct attempt at = {
		.tries = rq->flags & OVH_ONCE ? 1
			 : c->retries > 0     ? c->retries
					      : 1,
		.is_post = strcmp(rq->method, "POST") == 0 && !(rq->flags & OVH_IDEMPOTENT),
	};
	if (breaker_is_open(&c->breaker)) {
		snprintf(resp->error_message, sizeof(resp->error_message),
			 "the OVH API is down: failing fast");
		return -EIO;
	}
	for (;;) {
		struct exchange ex = {.resp = resp};
		int auth_rc = 0;
		response_reset(resp);
		if (ratelimit_wait(&c->ratelimit, c->timeout) != 0) {
			snprintf(resp->error_class, sizeof(resp->error_class), "rate");
			snprintf(resp->error_message, sizeof(resp->error_message),
				 "no request slot within timeout=%.0f s (rate=)", c->timeout);
			record_error(c, rq->method, rq->path, resp, "%s %s: %s", rq->method,
				     rq->path, resp->error_message);
			return -ETIMEDOUT;
		}
		double t0 = clock_now();
		CURLcode cc = perform_once(c, rq, &ex, &auth_rc);
		if (auth_rc)
			return auth_rc; /* no token: the token request said why */
		log_debug("%s %s %ld %.0fms %s", rq->method, rq->path, resp->status,
			  (clock_now() - t0) * 1000, resp->query_id);
		enum verdict v = cc == CURLE_OK ? after_reply(c, rq, &ex, &at)
						: after_network_error(c, rq, cc, &ex, &at);
		if (v == DONE)
			return at.rc;
		atomic_fetch_add(&c->counters.retries, 1);
		if (v == RETRY)
			at.number++;
	}
}

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
	response_reset(resp);
}

int ovh_sync_time(struct ovh_client *c, unsigned flags)
{
	char url[4096];
	struct ovh_response resp = {0};
	snprintf(url, sizeof(url), "%s/auth/time", c->base_url);
	struct request rq = {.method = "GET", .path = "/auth/time", .url = url, .flags = flags};
	int rc = call(c, &rq, &resp);
	if (rc == 0) {
		json_t *t = json_loadb(resp.body ? resp.body : "", resp.len, JSON_DECODE_ANY, NULL);
		if (json_is_integer(t)) {
			c->time_delta = (long)(json_integer_value(t) - (json_int_t)time(NULL));
			log_debug("server time delta: %ld s", (long)c->time_delta);
		} else {
			log_error("GET /auth/time: reply is not an integer");
			rc = -EIO;
		}
		json_decref(t);
	}
	ovh_response_free(&resp);
	return rc;
}

long ovh_time_delta(const struct ovh_client *c)
{
	return c->time_delta;
}

const char *ovh_base_url(const struct ovh_client *c)
{
	return c->base_url;
}

bool ovh_uses_oauth2(const struct ovh_client *c)
{
	return c->client_id != NULL;
}

/* ---- OAuth2 client credentials ---- */

static void token_forget(struct ovh_client *c)
{
	pthread_mutex_lock(&c->token_lock);
	c->token_expires = 0;
	pthread_mutex_unlock(&c->token_lock);
}

static char *token_form(const struct ovh_client *c)
{
	char *id = curl_easy_escape(NULL, c->client_id, 0);
	char *secret = curl_easy_escape(NULL, c->client_secret, 0);
	char *form = NULL;
	if (id && secret &&
	    asprintf(&form, "grant_type=client_credentials&client_id=%s&client_secret=%s&scope=all",
		     id, secret) < 0)
		form = NULL;
	if (secret)
		explicit_bzero(secret, strlen(secret));
	curl_free(id);
	curl_free(secret);
	return form;
}

/* Take access_token and expires_in from a token reply; lock held. */
static int token_store(struct ovh_client *c, const struct ovh_response *resp)
{
	json_t *root = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
	json_t *token = json_object_get(root, "access_token");
	json_t *ttl = json_object_get(root, "expires_in");
	int rc = -EIO;
	if (json_is_string(token) && json_string_length(token) < 4000) {
		double lifetime = json_is_integer(ttl) ? (double)json_integer_value(ttl) : 3600;
		double margin = lifetime / 5 < 60 ? lifetime / 5 : 60; /* refresh early */
		if (c->token)
			explicit_bzero(c->token, strlen(c->token));
		free(c->token);
		c->token = strdup(json_string_value(token));
		c->token_expires = clock_now() + lifetime - margin;
		rc = c->token ? 0 : -ENOMEM;
	} else {
		log_error("POST %s: the token reply has no access_token", c->token_url);
	}
	json_decref(root);
	return rc;
}

static int token_fetch(struct ovh_client *c, unsigned flags)
{
	struct ovh_response resp = {0};
	char *form = token_form(c);
	if (!form)
		return -ENOMEM;
	struct request rq = {.method = "POST",
			     .path = c->token_url,
			     .url = c->token_url,
			     .body = form,
			     .content_type = "application/x-www-form-urlencoded",
			     .flags = flags | OVH_IDEMPOTENT | OVH_QUIET};
	int rc = call(c, &rq, &resp);
	explicit_bzero(form, strlen(form));
	free(form);
	if (rc == 0) {
		rc = token_store(c, &resp);
	} else if (resp.status) {
		json_t *root = json_loadb(resp.body ? resp.body : "", resp.len, 0, NULL);
		copy_json_string(root, "error", resp.error_class, sizeof(resp.error_class));
		copy_json_string(root, "error_description", resp.error_message,
				 sizeof(resp.error_message));
		json_decref(root);
		record_error(c, "POST", c->token_url, &resp,
			     "OAuth2 token refused by %s: HTTP %ld %s: \"%s\"", c->token_url,
			     resp.status, resp.error_class, resp.error_message);
		rc = resp.status == 400 || resp.status == 401 ? -EACCES : rc;
	}
	ovh_response_free(&resp);
	return rc;
}

static int token_get(struct ovh_client *c, unsigned flags, char *out, size_t len)
{
	int rc = 0;
	pthread_mutex_lock(&c->token_lock);
	if (!c->token || clock_now() >= c->token_expires)
		rc = token_fetch(c, flags);
	if (rc == 0)
		snprintf(out, len, "Authorization: Bearer %s", c->token);
	pthread_mutex_unlock(&c->token_lock);
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

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int ovh_client_new(const struct ovh_client_opts *opts, struct ovh_client **out)
{
	struct ovh_client *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->base_url = dup_or_null(opts->cfg->base_url);
	c->application_key = dup_or_null(opts->cfg->application_key);
	c->application_secret = dup_or_null(opts->cfg->application_secret);
	c->consumer_key = dup_or_null(opts->cfg->consumer_key);
	c->client_id = dup_or_null(opts->cfg->client_id);
	c->client_secret = dup_or_null(opts->cfg->client_secret);
	c->token_url = dup_or_null(opts->cfg->token_url);
	c->cafile = dup_or_null(opts->cafile);
	c->timeout = opts->timeout > 0 ? opts->timeout : 30;
	c->retries = opts->retries;
	ratelimit_init(&c->ratelimit, opts->rate);
	pthread_mutex_init(&c->pool_lock, NULL);
	pthread_mutex_init(&c->token_lock, NULL);
	breaker_init(&c->breaker);
	pthread_mutex_init(&c->err_lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&c->share_locks[i], NULL);
	c->share = curl_share_init();
	if (!c->share || !c->base_url || (c->client_id && !c->token_url)) {
		ovh_client_free(c);
		return -ENOMEM;
	}
	curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	*out = c;
	return 0;
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void ovh_client_free(struct ovh_client *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n_idle; i++)
		curl_easy_cleanup(c->idle[i]);
	if (c->share)
		curl_share_cleanup(c->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&c->share_locks[i]);
	pthread_mutex_destroy(&c->pool_lock);
	ratelimit_destroy(&c->ratelimit);
	pthread_mutex_destroy(&c->token_lock);
	breaker_destroy(&c->breaker);
	pthread_mutex_destroy(&c->err_lock);
	free(c->base_url);
	wipe_free(c->client_id);
	wipe_free(c->client_secret);
	wipe_free(c->token);
	free(c->token_url);
	wipe_free(c->application_key);
	wipe_free(c->application_secret);
	wipe_free(c->consumer_key);
	free(c->cafile);
	free(c);
}
