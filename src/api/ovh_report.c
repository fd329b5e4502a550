/*
 * ovh_report: what the OVH client's calls tell (ovh_report.h). The errno of
 * a status, the API's error bodies, the latest failure and the counters.
 */
#include "ovh_report.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static const char *const counted_methods[N_METHODS] = {"GET", "POST", "PUT", "DELETE", "other"};

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
void ovh_fill_error_fields(struct ovh_response *resp)
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

/*
 * Keep the last failure (of method path, with what resp says of it) for
 * start-up reports and the status file, and log it unless quiet.
 */
void ovh_record_error(struct ovh_client *c, const char *method, const char *path,
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

void ovh_token_refused(struct ovh_client *c, const char *url, struct ovh_response *resp)
{
	json_t *root = json_loadb(resp->body ? resp->body : "", resp->len, 0, NULL);
	copy_json_string(root, "error", resp->error_class, sizeof(resp->error_class));
	copy_json_string(root, "error_description", resp->error_message,
			 sizeof(resp->error_message));
	json_decref(root);
	ovh_record_error(c, "POST", url, resp, "OAuth2 token refused by %s: HTTP %ld %s: \"%s\"",
			 url, resp->status, resp->error_class, resp->error_message);
}

/* ---- counters ---- */

/*
 * A try's requests: each one written is a call (libcurl's own re-send of a
 * GET on a dead reused connection too, also a retry); the last one got
 * status (0: no reply), the earlier ones got no reply.
 */
void ovh_count_requests(struct ovh_client *c, const char *method, long status, int n)
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
