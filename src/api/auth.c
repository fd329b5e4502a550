/* auth: request signatures and OAuth2 tokens. */
#include "auth.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "ovh.h"

#define MAX_TOKEN 4000

struct auth {
	char *application_key;
	char *application_secret;
	char *consumer_key;
	char *client_id; /* OAuth2 instead of the three keys above */
	char *client_secret;
	char *token_url;
	_Atomic long time_delta;

	auth_fetch_fn fetch;
	void *ctx;
	pthread_mutex_t lock;	/* guards what follows; never held during a fetch */
	pthread_cond_t changed; /* a fetch ended */
	char *token;
	double expires;	      /* monotonic; 0: fetch before use */
	unsigned generation;  /* of token: bumped by each token fetched */
	bool fetching;	      /* a fetch thread runs (auth_free waits for it) */
	unsigned fetch_flags; /* of the caller that started it */
	unsigned fetches;     /* fetches ended, and how the last one did */
	int fetch_rc;
};

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* ---- signatures ---- */

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

static void add_line(struct auth_lines *out, size_t *used, int *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add_line(struct auth_lines *out, size_t *used, int *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(out->buf + *used, sizeof(out->buf) - *used, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(out->buf) - *used || *n == AUTH_LINES_MAX)
		return; /* keys are bounded by config.c well below this */
	out->line[(*n)++] = out->buf + *used;
	out->line[*n] = NULL;
	*used += (size_t)len + 1;
}

static void sign_lines(struct auth *a, const char *method, const char *url, const char *body,
		       struct auth_lines *out)
{
	char sig[45];
	size_t used = 0;
	int n = 0;
	long ts = (long)time(NULL) + a->time_delta; /* the API's wall clock, as it checks it */

	ovh_sign(a->application_secret, a->consumer_key, method, url, body, ts, sig);
	add_line(out, &used, &n, "X-Ovh-Application: %s", a->application_key);
	add_line(out, &used, &n, "X-Ovh-Consumer: %s", a->consumer_key);
	add_line(out, &used, &n, "X-Ovh-Timestamp: %ld", ts);
	add_line(out, &used, &n, "X-Ovh-Signature: %s", sig);
	explicit_bzero(sig, sizeof(sig));
}

/* ---- OAuth2 tokens ---- */

/* application/x-www-form-urlencoded value of s, into dst (3 * strlen(s) + 1 bytes). */
static void form_escape(char *dst, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			*dst++ = (char)ch;
		} else {
			*dst++ = '%';
			*dst++ = hex[ch >> 4];
			*dst++ = hex[ch & 15];
		}
	}
	*dst = '\0';
}

/* The client-credentials form: one copy of the secret, for the caller to wipe_free. */
static char *token_form(const struct auth *a)
{
	static const char fmt[] =
		"grant_type=client_credentials&client_id=&client_secret=&scope=all";
	size_t cap = sizeof(fmt) + 3 * (strlen(a->client_id) + strlen(a->client_secret));
	char *form = malloc(cap);
	if (!form)
		return NULL;
	char *p = form + sprintf(form, "grant_type=client_credentials&client_id=");
	form_escape(p, a->client_id);
	p += strlen(p);
	p += sprintf(p, "&client_secret=");
	form_escape(p, a->client_secret);
	p += strlen(p);
	strcpy(p, "&scope=all");
	return form;
}

static bool visible_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

int auth_parse_token(const char *body, size_t len, char **token, double *lifetime, char *why,
		     size_t why_len)
{
	json_t *root = json_loadb(body ? body : "", body ? len : 0, 0, NULL);
	json_t *tok = json_object_get(root, "access_token");
	json_t *ttl = json_object_get(root, "expires_in");
	size_t n = json_is_string(tok) ? json_string_length(tok) : 0;
	int rc = -EIO;

	*token = NULL;
	if (n == 0 || n > MAX_TOKEN) {
		snprintf(why, why_len, "the token reply has no usable access_token");
	} else if (!visible_ascii(json_string_value(tok), n)) {
		/* A CR or LF would end the Authorization header and forge others. */
		snprintf(why, why_len,
			 "the token reply's access_token holds a control or "
			 "non-ASCII character: refused");
	} else if (!(*token = strdup(json_string_value(tok)))) {
		snprintf(why, why_len, "out of memory");
		rc = -ENOMEM;
	} else {
		double s = json_is_number(ttl) ? json_number_value(ttl) : 3600;
		*lifetime = s >= 0 && s < 1e9 ? s : 3600;
		rc = 0;
	}
	if (n)
		explicit_bzero((char *)json_string_value(tok), n); /* jansson's copy of it */
	json_decref(root);
	return rc;
}

static bool token_fresh(const struct auth *a)
{
	return a->token && clock_now() < a->expires;
}

/* A fetch's outcome, published to its waiters; lock held. */
static void fetch_ended(struct auth *a, int rc, char *token, double lifetime)
{
	if (rc == 0) {
		double margin = lifetime / 5 < 60 ? lifetime / 5 : 60; /* renew early */
		wipe_free(a->token);
		a->token = token;
		a->expires = clock_now() + lifetime - margin;
		a->generation++;
	}
	a->fetching = false;
	a->fetches++;
	a->fetch_rc = rc;
	pthread_cond_broadcast(&a->changed);
}

/*
 * One fetch on its own bound: a NULL op (the client's timeout=, the
 * process's shutdown), not any caller's, so that a caller who leaves (its
 * deadline, its Ctrl-C) ends only its own wait and the others get the token.
 */
static void *fetch_thread(void *arg)
{
	struct auth *a = arg;
	char *token = NULL, *form = token_form(a);
	double lifetime = 0;
	int rc = form ? a->fetch(a->ctx, NULL, a->fetch_flags, form, &token, &lifetime) : -ENOMEM;
	wipe_free(form);
	pthread_mutex_lock(&a->lock);
	fetch_ended(a, rc, token, lifetime);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

/* Start a fetch in its own thread; lock held. 0, or the fetch's end when no thread could run. */
static int start_fetch(struct auth *a, unsigned flags)
{
	pthread_t thread;
	pthread_attr_t attr;
	a->fetching = true;
	a->fetch_flags = flags;
	int rc = pthread_attr_init(&attr);
	if (rc == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&thread, &attr, fetch_thread, a);
		pthread_attr_destroy(&attr);
	}
	if (rc) {
		log_error("OAuth2 token: cannot start a thread to fetch it: %s", strerror(rc));
		fetch_ended(a, -EAGAIN, NULL, 0);
		return -EAGAIN;
	}
	return 0;
}

/*
 * The fetch that just ended was cut (-ETIMEDOUT: its own bound; -EINTR),
 * not refused: that says nothing to a waiter whose op goes on, who then
 * fetches again. Lock held.
 */
static bool cut_short(const struct auth *a, const struct op *op)
{
	return (a->fetch_rc == -EINTR || a->fetch_rc == -ETIMEDOUT) && op_check(op) == 0;
}

/*
 * A usable token in a->token; lock held. Waits for the fetch under way
 * rather than fetch too, and only as long as its own op lets it.
 */
static int await_token(struct auth *a, const struct op *op, unsigned flags)
{
	unsigned seen = a->fetches;
	while (!token_fresh(a)) {
		if (a->fetches != seen && !cut_short(a, op)) /* its token or its error */
			return a->fetch_rc ? a->fetch_rc : a->token ? 0 : -EIO;
		seen = a->fetches;
		int rc = a->fetching ? 0 : start_fetch(a, flags);
		if (rc)
			return rc;
		clock_cond_wait(&a->changed, &a->lock, OP_SLICE);
		rc = op_check(op);
		if (rc)
			return rc;
	}
	return 0;
}

static int bearer_line(struct auth *a, const struct op *op, unsigned flags, struct auth_lines *out)
{
	pthread_mutex_lock(&a->lock);
	int rc = await_token(a, op, flags);
	if (rc == 0) {
		snprintf(out->buf, sizeof(out->buf), "Authorization: Bearer %s", a->token);
		out->line[0] = out->buf;
		out->line[1] = NULL;
		out->generation = a->generation;
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

void auth_token_failed(struct auth *a, unsigned generation)
{
	pthread_mutex_lock(&a->lock);
	if (a->generation == generation)
		a->expires = 0; /* the others that got a 401 with it find it renewed */
	pthread_mutex_unlock(&a->lock);
}

/* ---- requests ---- */

int auth_lines(struct auth *a, const struct op *op, unsigned flags, const char *method,
	       const char *url, const char *body, struct auth_lines *out)
{
	out->line[0] = NULL;
	out->generation = 0;
	if (a->client_id)
		return bearer_line(a, op, flags, out);
	sign_lines(a, method, url, body, out);
	return 0;
}

void auth_lines_wipe(struct auth_lines *lines)
{
	explicit_bzero(lines->buf, sizeof(lines->buf));
	lines->line[0] = NULL;
}

bool auth_uses_oauth2(const struct auth *a)
{
	return a->client_id != NULL;
}

const char *auth_token_url(const struct auth *a)
{
	return a->token_url;
}

void auth_set_time_delta(struct auth *a, long delta)
{
	a->time_delta = delta;
}

long auth_time_delta(const struct auth *a)
{
	return a->time_delta;
}

/* ---- life cycle ---- */

static bool dup_into(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return !src || *dst;
}

int auth_new(const struct ovh_config *cfg, auth_fetch_fn fetch, void *ctx, struct auth **out)
{
	struct auth *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->fetch = fetch;
	a->ctx = ctx;
	pthread_mutex_init(&a->lock, NULL);
	clock_cond_init(&a->changed);
	bool oauth2 = cfg->client_id != NULL;
	if (oauth2 ? !(cfg->client_secret && cfg->token_url)
		   : !(cfg->application_key && cfg->application_secret && cfg->consumer_key)) {
		auth_free(a);
		return -EINVAL; /* config.c lets no such configuration through */
	}
	if (!dup_into(&a->application_key, cfg->application_key) ||
	    !dup_into(&a->application_secret, cfg->application_secret) ||
	    !dup_into(&a->consumer_key, cfg->consumer_key) ||
	    !dup_into(&a->client_id, cfg->client_id) ||
	    !dup_into(&a->client_secret, cfg->client_secret) ||
	    !dup_into(&a->token_url, cfg->token_url)) {
		auth_free(a);
		return -ENOMEM;
	}
	*out = a;
	return 0;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	while (a->fetching) /* bounded by timeout=, and cut at shutdown */
		clock_cond_wait(&a->changed, &a->lock, OP_SLICE);
	pthread_mutex_unlock(&a->lock);
	pthread_cond_destroy(&a->changed);
	pthread_mutex_destroy(&a->lock);
	wipe_free(a->application_key);
	wipe_free(a->application_secret);
	wipe_free(a->consumer_key);
	wipe_free(a->client_id);
	wipe_free(a->client_secret);
	wipe_free(a->token);
	free(a->token_url);
	free(a);
}
