/* http: pooled libcurl easy handles sharing DNS and TLS sessions. */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "build_config.h"
#include "log.h"

#define MAX_HEADERS 8 /* Accept, Content-Type and up to 6 of the caller's */

/*
 * An easy handle and the multi handle that drives it: the multi owns the
 * connection cache, so the pair stays together for keep-alive reuse, and
 * polling it every OP_SLICE lets an op end a transfer at once (libcurl
 * calls the progress callback only about once a second while idle).
 */
struct conn {
	CURL *easy;
	CURLM *multi;
};

struct http {
	char *cafile;
	pthread_mutex_t pool_lock;
	struct conn idle[HTTP_POOL_SIZE]; /* a stack: the warmest connection is taken first */
	int n_idle;
	CURLSH *share;
	pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];
};

/* What one transfer collects while it runs. */
struct exchange {
	const struct http_request *rq;
	struct ovh_response *resp;
	size_t cap;
	bool too_big;
	int abort_rc; /* the op ended it */
	double retry_after;
	int requests; /* written on a connection (CURLOPT_PREREQFUNCTION) */
};

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

const char *http_version(void)
{
	return curl_version();
}

/* ---- callbacks ---- */

/* A larger buffer for the body; a secret's old one is wiped, never left to realloc. */
static bool grow(struct exchange *ex, size_t need)
{
	struct ovh_response *resp = ex->resp;
	size_t cap = ex->cap ? ex->cap : 4096;
	while (cap < need)
		cap *= 2;
	if (!ex->rq->secret_reply) {
		char *grown = realloc(resp->body, cap);
		if (!grown)
			return false;
		resp->body = grown;
	} else {
		char *fresh = malloc(cap);
		if (!fresh)
			return false;
		if (resp->body) {
			memcpy(fresh, resp->body, resp->len + 1);
			explicit_bzero(resp->body, ex->cap);
		}
		free(resp->body);
		resp->body = fresh;
	}
	ex->cap = cap;
	return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
	struct exchange *ex = user;
	struct ovh_response *resp = ex->resp;
	size_t n = size * nmemb;

	if (resp->len + n > HTTP_MAX_BODY) {
		ex->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (resp->len + n + 1 > ex->cap && !grow(ex, resp->len + n + 1))
		return 0;
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
	if (header_is(buf, n, "X-Ovh-QueryID", &value)) {
		snprintf(ex->resp->query_id, sizeof(ex->resp->query_id), "%.*s",
			 (int)sizeof(ex->resp->query_id) - 1, value);
	} else if (header_is(buf, n, "Retry-After", &value)) {
		double s = strtod(value, NULL); /* an HTTP-date reads as 0: the back-off applies */
		ex->retry_after = isfinite(s) && s > 0 ? s : 0;
	}
	return n;
}

/* Called about once a second and whenever data moves: ends the transfer with its op. */
static int on_progress(void *user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct exchange *ex = user;
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	ex->abort_rc = op_check(ex->rq->op);
	return ex->abort_rc != 0;
}

#if LIBCURL_VERSION_NUM >= 0x075000
/*
 * Called before each request is written, on a new or a reused connection:
 * again when libcurl re-sends a request whose reused connection the server
 * had closed (multi.c goes back to CONNECT, then DO calls it).
 */
static int on_prereq(void *user, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
	struct exchange *ex = user;
	(void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
	ex->requests++;
	return CURL_PREREQFUNC_OK;
}
#endif

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *user)
{
	struct http *http = user;
	(void)h, (void)access;
	pthread_mutex_lock(&http->share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *user)
{
	struct http *http = user;
	(void)h;
	pthread_mutex_unlock(&http->share_locks[data]);
}

/* ---- the pool ---- */

static void conn_close(struct conn *c)
{
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->easy)
		curl_easy_cleanup(c->easy);
	c->multi = NULL;
	c->easy = NULL;
}

/* A pooled pair, or a new one; false when out of memory. */
static bool handle_acquire(struct http *http, struct conn *c)
{
	bool pooled = false;
	pthread_mutex_lock(&http->pool_lock);
	if (http->n_idle > 0) {
		*c = http->idle[--http->n_idle];
		pooled = true;
	}
	pthread_mutex_unlock(&http->pool_lock);
	if (pooled) {
		curl_easy_reset(c->easy); /* its multi keeps the live connections */
		return true;
	}
	c->easy = curl_easy_init();
	c->multi = curl_multi_init();
	if (c->easy && c->multi)
		return true;
	conn_close(c);
	return false;
}

static void handle_release(struct http *http, struct conn *c)
{
	pthread_mutex_lock(&http->pool_lock);
	if (http->n_idle < HTTP_POOL_SIZE) {
		http->idle[http->n_idle++] = *c;
		c->easy = NULL;
		c->multi = NULL;
	}
	pthread_mutex_unlock(&http->pool_lock);
	conn_close(c);
}

/*
 * curl_easy_perform, looking at the op between polls of at most OP_SLICE:
 * an ended op aborts the transfer as the progress callback would.
 */
static CURLcode perform_polled(struct conn *c, struct exchange *ex)
{
	CURLcode cc = CURLE_OK;
	int running = 1;
	if (curl_multi_add_handle(c->multi, c->easy) != CURLM_OK)
		return CURLE_FAILED_INIT;
	for (;;) {
		if (curl_multi_perform(c->multi, &running) != CURLM_OK) {
			cc = CURLE_FAILED_INIT;
			break;
		}
		if (!running)
			break;
		ex->abort_rc = op_check(ex->rq->op);
		if (ex->abort_rc) {
			cc = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (curl_multi_poll(c->multi, NULL, 0, (int)(OP_SLICE * 1000), NULL) != CURLM_OK) {
			cc = CURLE_FAILED_INIT;
			break;
		}
	}
	int queued;
	CURLMsg *msg;
	while (!running && (msg = curl_multi_info_read(c->multi, &queued)))
		if (msg->msg == CURLMSG_DONE)
			cc = msg->data.result;
	curl_multi_remove_handle(c->multi, c->easy); /* an unfinished one closes its connection */
	return cc;
}

/* ---- one transfer ---- */

static int setopt_checked(CURLcode cc, const char *name)
{
	if (cc == CURLE_OK)
		return 0;
	log_error("libcurl refused %s: %s", name, curl_easy_strerror(cc));
	return -1;
}

/* POST and PUT carry a body, an empty one when the caller gave none. */
static bool sends_body(const struct http_request *rq)
{
	return strcmp(rq->method, "POST") == 0 || strcmp(rq->method, "PUT") == 0;
}

/* curl_easy_setopt whose refusal is an error with one log line, never ignored. */
#define SETOPT(h, opt, val) setopt_checked(curl_easy_setopt((h), (opt), (val)), #opt)

static int setup_transfer(struct http *http, CURL *h, const struct http_request *rq,
			  struct exchange *ex)
{
	long ms = rq->timeout < 1e9 ? (long)(rq->timeout * 1000 + 0.999) : 1000000000L;
	if (ms < 1)
		ms = 1;
	long connect_ms = ms < 10000 ? ms : 10000; /* a connection slower than 10 s is not coming */
	int bad = SETOPT(h, CURLOPT_URL, rq->url) || SETOPT(h, CURLOPT_SHARE, http->share) ||
		  SETOPT(h, CURLOPT_MAXCONNECTS, 2L) || /* the API's and the token URL's */
		  SETOPT(h, CURLOPT_NOSIGNAL, 1L) || SETOPT(h, CURLOPT_TIMEOUT_MS, ms) ||
		  SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, connect_ms) ||
		  SETOPT(h, CURLOPT_TCP_KEEPALIVE, 1L) || SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L) ||
		  SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L) ||
#if LIBCURL_VERSION_NUM >= 0x075500
		  SETOPT(h, CURLOPT_PROTOCOLS_STR, "http,https") ||
#endif
		  SETOPT(h, CURLOPT_USERAGENT, "ovhsnapfs/" PACKAGE_VERSION) ||
		  (http->cafile && SETOPT(h, CURLOPT_CAINFO, http->cafile)) ||
		  SETOPT(h, CURLOPT_WRITEFUNCTION, on_body) || SETOPT(h, CURLOPT_WRITEDATA, ex) ||
		  SETOPT(h, CURLOPT_HEADERFUNCTION, on_header) ||
		  SETOPT(h, CURLOPT_HEADERDATA, ex) || SETOPT(h, CURLOPT_NOPROGRESS, 0L) ||
		  SETOPT(h, CURLOPT_XFERINFOFUNCTION, on_progress) ||
		  SETOPT(h, CURLOPT_XFERINFODATA, ex) ||
#if LIBCURL_VERSION_NUM >= 0x075000
		  SETOPT(h, CURLOPT_PREREQFUNCTION, on_prereq) ||
		  SETOPT(h, CURLOPT_PREREQDATA, ex) ||
#endif
		  SETOPT(h, CURLOPT_CUSTOMREQUEST, rq->method);
	if (!bad && strcmp(rq->method, "GET") == 0)
		bad = SETOPT(h, CURLOPT_HTTPGET, 1L);
	/*
	 * libcurl silently re-sends a request whose reused connection died
	 * before the reply; for a POST that could make a second snapshot.
	 */
	if (!bad && (rq->fresh_connection || strcmp(rq->method, "POST") == 0))
		bad = SETOPT(h, CURLOPT_FRESH_CONNECT, 1L);
	/* A POST or PUT without a body still says so (Content-Length: 0), as python-ovh does. */
	if (!bad && (rq->body || sends_body(rq)))
		bad = SETOPT(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "") ||
		      SETOPT(h, CURLOPT_POSTFIELDSIZE, rq->body ? (long)strlen(rq->body) : 0L);
	return bad ? -EIO : 0;
}

/*
 * The header list, built in place so that no copy of a secret line is made
 * (curl_slist_append would strdup it and free it unwiped).
 */
static int link_headers(const struct http_request *rq, struct curl_slist *nodes, char *ctype,
			size_t ctype_len)
{
	static char accept[] = "Accept: application/json";
	static char no_ctype[] = "Content-Type:";
	char *lines[MAX_HEADERS];
	int n = 0;
	lines[n++] = accept;
	if (rq->body) {
		snprintf(ctype, ctype_len, "Content-Type: %s", rq->content_type);
		lines[n++] = ctype;
	} else if (sends_body(rq)) {
		lines[n++] = no_ctype; /* not libcurl's form type: there is no body */
	}
	for (size_t i = 0; rq->headers && rq->headers[i]; i++) {
		if (n == MAX_HEADERS)
			return -E2BIG;
		lines[n++] = (char *)rq->headers[i]; /* libcurl only reads it */
	}
	for (int i = 0; i < n; i++) {
		nodes[i].data = lines[i];
		nodes[i].next = i + 1 < n ? &nodes[i + 1] : NULL;
	}
	return 0;
}

/* Certainly nothing of the request was written: it failed while connecting. */
static bool before_write(CURL *h, CURLcode cc, const char *url)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR: /* the TLS handshake failed */
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return true;
	default:
		break;
	}
	/*
	 * A timeout or an abort: written if libcurl counts bytes of the request
	 * (a reused connection has a connect time of 0 µs: not proof of
	 * anything); else nothing was written if the connection (TLS handshake
	 * included) was never up. libcurl records these times only once reached.
	 */
	long written = 0;
	if (curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &written) == CURLE_OK && written > 0)
		return false;
	curl_off_t t = 0;
	bool https = strncasecmp(url, "https:", 6) == 0;
	if (curl_easy_getinfo(h, https ? CURLINFO_APPCONNECT_TIME_T : CURLINFO_CONNECT_TIME_T,
			      &t) != CURLE_OK)
		return false;
	return t == 0;
}

/* Failures that no second try can cure. */
static bool is_lasting(CURLcode cc)
{
	return cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CERTPROBLEM ||
	       cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_UNSUPPORTED_PROTOCOL ||
	       cc == CURLE_URL_MALFORMAT;
}

/* Classify a failed transfer for retry.c and say why in one line. */
static int failed(CURL *h, CURLcode cc, const struct http_request *rq, const struct exchange *ex,
		  struct try_outcome *out, char *why, size_t why_len)
{
	out->sent = before_write(h, cc, rq->url) ? TRY_NOT_SENT : TRY_MAYBE_SENT;
	out->lasting = ex->too_big || is_lasting(cc);
	out->abort_rc = ex->abort_rc ? ex->abort_rc : op_check(rq->op);
	if (ex->too_big)
		snprintf(why, why_len, "reply larger than %u bytes, refused", HTTP_MAX_BODY);
	else if (out->abort_rc == -EINTR)
		snprintf(why, why_len, "interrupted");
	else if (out->abort_rc)
		snprintf(why, why_len, "no reply before the operation's deadline");
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		snprintf(why, why_len, "no reply within %.1f s, cut", rq->timeout);
	else
		snprintf(why, why_len, "%s", curl_easy_strerror(cc));
	if (out->abort_rc)
		return out->abort_rc;
	if (cc == CURLE_OPERATION_TIMEDOUT)
		return -ETIMEDOUT;
	return cc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EIO;
}

int http_perform(struct http *http, const struct http_request *rq, struct ovh_response *resp,
		 struct try_outcome *out, char *why, size_t why_len)
{
	struct exchange ex = {.rq = rq, .resp = resp};
	struct curl_slist nodes[MAX_HEADERS];
	char ctype[128];

	*out = (struct try_outcome){.sent = TRY_NOT_SENT};
	struct conn c;
	if (!handle_acquire(http, &c)) {
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	CURL *h = c.easy;
	int rc = link_headers(rq, nodes, ctype, sizeof(ctype));
	if (rc == 0)
		rc = setup_transfer(http, h, rq, &ex);
	if (rc == 0 && SETOPT(h, CURLOPT_HTTPHEADER, nodes) != 0)
		rc = -EIO;
	if (rc) {
		snprintf(why, why_len, "libcurl refused the request's options");
		conn_close(&c); /* in an unknown state: not back to the pool */
		return rc;
	}
	CURLcode cc = perform_polled(&c, &ex);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
		out->sent = TRY_REPLY;
		out->status = resp->status;
		out->retry_after = ex.retry_after;
	} else {
		rc = failed(h, cc, rq, &ex, out, why, why_len);
	}
#if LIBCURL_VERSION_NUM >= 0x075000
	out->requests = ex.requests;
#else
	out->requests = 1; /* no hook to see libcurl's own re-send: one per try */
#endif
	SETOPT(h, CURLOPT_HTTPHEADER, NULL); /* the nodes die with this frame */
	if (cc == CURLE_OK)
		handle_release(http, &c);
	else
		conn_close(&c); /* a cut or broken transfer: its connections are not reused */
	return rc;
}

void http_body_free(struct ovh_response *resp, bool secret)
{
	if (resp->body && secret)
		explicit_bzero(resp->body, resp->len);
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}

/* ---- life cycle ---- */

static int share_new(struct http *http)
{
	http->share = curl_share_init();
	if (!http->share)
		return -ENOMEM;
	CURLSHcode bad = curl_share_setopt(http->share, CURLSHOPT_LOCKFUNC, share_lock);
	if (!bad)
		bad = curl_share_setopt(http->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	if (!bad)
		bad = curl_share_setopt(http->share, CURLSHOPT_USERDATA, http);
	/* Not CURL_LOCK_DATA_CONNECT: libcurl 7.88 cannot share it between running threads. */
	if (!bad)
		bad = curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	if (!bad)
		bad = curl_share_setopt(http->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	if (bad) {
		log_error("libcurl refused its share: %s", curl_share_strerror(bad));
		return -EIO;
	}
	return 0;
}

int http_new(const char *cafile, struct http **out)
{
	struct http *http = calloc(1, sizeof(*http));
	if (!http)
		return -ENOMEM;
	pthread_mutex_init(&http->pool_lock, NULL);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&http->share_locks[i], NULL);
	int rc = cafile && !(http->cafile = strdup(cafile)) ? -ENOMEM : share_new(http);
	if (rc) {
		http_free(http);
		return rc;
	}
	*out = http;
	return 0;
}

void http_free(struct http *http)
{
	if (!http)
		return;
	for (int i = 0; i < http->n_idle; i++)
		conn_close(&http->idle[i]);
	if (http->share)
		curl_share_cleanup(http->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&http->share_locks[i]);
	pthread_mutex_destroy(&http->pool_lock);
	free(http->cafile);
	free(http);
}
