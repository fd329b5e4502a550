/* status: the status document, as JSON and as Prometheus text. */
#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_config.h"
#include "clock.h"
#include "names.h"

struct status {
	char *endpoint, *base_url;
	const char *auth; /* "application-key" or "oauth2" */
	char key_prefix[STATUS_KEY_PREFIX_SIZE];
	double started;
	struct ovh_client *api;
	struct cache *cache;
};

void status_key_prefix(const char *key, char out[STATUS_KEY_PREFIX_SIZE])
{
	size_t n = 0, chars = 0;
	while (key && key[n] && n < STATUS_KEY_PREFIX_SIZE - 1) {
		if (((unsigned char)key[n] & 0xc0) != 0x80 && chars++ == 4)
			break; /* the fifth character starts here */
		n++;
	}
	if (n)
		memcpy(out, key, n);
	out[n] = '\0';
	if (names_check_text(out) == -EILSEQ)
		out[0] = '\0'; /* jansson would refuse the whole document */
}

struct status *status_new(const struct ovh_config *cfg, struct ovh_client *api, struct cache *cache)
{
	struct status *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	bool oauth2 = config_uses_oauth2(cfg);
	const char *key = oauth2 ? cfg->client_id : cfg->application_key;
	st->endpoint = strdup(cfg->endpoint ? cfg->endpoint : "");
	st->base_url = strdup(cfg->base_url ? cfg->base_url : "");
	st->auth = oauth2 ? "oauth2" : "application-key";
	/* Enough to tell keys apart, too little to use one; never the secret. */
	status_key_prefix(key, st->key_prefix);
	st->started = clock_now();
	st->api = api;
	st->cache = cache;
	if (!st->endpoint || !st->base_url) {
		status_free(st);
		return NULL;
	}
	return st;
}

void status_free(struct status *st)
{
	if (!st)
		return;
	free(st->endpoint);
	free(st->base_url);
	free(st);
}

static json_t *cache_json(struct cache *cache)
{
	struct cache_stats cs;
	cache_stats(cache, &cs);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "listings", (json_int_t)cs.listings,
			 "objects", (json_int_t)cs.objects, "bytes", (json_int_t)cs.bytes, "hits",
			 (json_int_t)cs.hits, "misses", (json_int_t)cs.misses, "loads",
			 (json_int_t)cs.loads);
}

json_t *status_collect(struct status *st)
{
	json_t *api = ovh_status_json(st->api);
	json_t *breaker = json_incref(json_object_get(api, "breaker"));
	json_t *rate = json_incref(json_object_get(api, "rate"));
	json_object_del(api, "breaker");
	json_object_del(api, "rate");
	/* "o" steals the references, including on failure. */
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:I, s:I, s:o?, s:o?, s:o?, s:o?}",
			 "version", PACKAGE_VERSION, "endpoint", st->endpoint, "base_url",
			 st->base_url, "auth", "method", st->auth, "key_prefix", st->key_prefix,
			 "time_delta", (json_int_t)ovh_time_delta(st->api), "uptime_seconds",
			 (json_int_t)(clock_now() - st->started), "api", api, "breaker", breaker,
			 "rate", rate, "cache", cache_json(st->cache));
}

char *status_file(struct status *st, size_t *len)
{
	json_t *doc = status_collect(st);
	char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (!text)
		return NULL;
	size_t n = strlen(text);
	char *out = realloc(text, n + 2);
	if (!out) {
		free(text);
		return NULL;
	}
	memcpy(out + n, "\n", 2);
	*len = n + 1;
	return out;
}

/* ---- Prometheus text format (node_exporter's textfile collector) ---- */

static const struct metric {
	const char *group, *field; /* where in the document; group NULL: top level */
	const char *name, *type, *help;
} metrics[] = {
	{NULL, "uptime_seconds", "uptime_seconds", "gauge", "Seconds since the mount started."},
	{NULL, "time_delta", "time_delta_seconds", "gauge",
	 "The API's clock minus this machine's, in seconds."},
	{"api", "calls", "api_calls_total", "counter",
	 "HTTP requests sent to the API, /auth/time and token requests included."},
	{"api", "retries", "api_retries_total", "counter", "HTTP requests sent again."},
	{"api", "errors", "api_errors_total", "counter", "Failed API calls reported."},
	{"breaker", "opened", "breaker_opened_total", "counter",
	 "Times the circuit breaker opened (calls failing fast)."},
	{"rate", "limit", "rate_limit", "gauge", "Requests per second allowed (0: no limit)."},
	{"rate", "burst", "rate_burst", "gauge", "Requests allowed at once."},
	{"rate", "waits", "rate_waits_total", "counter",
	 "Requests that waited for the rate limit."},
	{"rate", "waited_seconds", "rate_waited_seconds_total", "counter",
	 "Seconds requests waited for the rate limit."},
	{"cache", "listings", "cache_listings", "gauge", "Listings held."},
	{"cache", "objects", "cache_objects", "gauge", "Objects in the listings held."},
	{"cache", "bytes", "cache_bytes", "gauge",
	 "Memory of the listings held, as cache_max counts it."},
	{"cache", "hits", "cache_hits_total", "counter", "Lookups answered from a fresh listing."},
	{"cache", "misses", "cache_misses_total", "counter",
	 "Lookups that loaded a listing or waited for one."},
	{"cache", "loads", "cache_loads_total", "counter", "Listings loaded from the API."},
};

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP ovhsnapfs_%s %s\n# TYPE ovhsnapfs_%s %s\n", name, help, name, type);
}

static void number(FILE *f, const json_t *v)
{
	if (json_is_integer(v))
		fprintf(f, "%lld\n", (long long)json_integer_value(v));
	else
		fprintf(f, "%.9g\n", json_number_value(v));
}

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *text)
{
	fputc('"', f);
	for (const char *p = text ? text : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			fputc('\\', f);
		if (*p == '\n')
			fputs("\\n", f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* {"GET": 3, ...} as one labelled series per key. */
static void by_key(FILE *f, const json_t *counts, const char *name, const char *key,
		   const char *help)
{
	const char *k;
	json_t *v;
	header(f, name, "counter", help);
	json_object_foreach((json_t *)counts, k, v)
	{
		fprintf(f, "ovhsnapfs_%s{%s=", name, key);
		label(f, k);
		fputs("} ", f);
		number(f, v);
	}
}

static void identity(FILE *f, const json_t *doc)
{
	const json_t *auth = json_object_get(doc, "auth");
	header(f, "info", "gauge", "The mount: version, endpoint and kind of credentials.");
	fputs("ovhsnapfs_info{version=", f);
	label(f, json_string_value(json_object_get(doc, "version")));
	fputs(",endpoint=", f);
	label(f, json_string_value(json_object_get(doc, "endpoint")));
	fputs(",auth=", f);
	label(f, json_string_value(json_object_get(auth, "method")));
	fputs("} 1\n", f);
}

char *status_prometheus(const json_t *doc, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	if (!f)
		return NULL;
	const json_t *api = json_object_get(doc, "api");
	identity(f, doc);
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
		const struct metric *m = &metrics[i];
		const json_t *group = m->group ? json_object_get(doc, m->group) : doc;
		const json_t *v = json_object_get(group, m->field);
		if (!json_is_number(v))
			continue;
		header(f, m->name, m->type, m->help);
		fprintf(f, "ovhsnapfs_%s ", m->name);
		number(f, v);
	}
	by_key(f, json_object_get(api, "by_method"), "api_calls_by_method_total", "method",
	       "HTTP requests sent, by method.");
	by_key(f, json_object_get(api, "by_status"), "api_calls_by_status_total", "status",
	       "HTTP requests sent, by the status answered (0: no reply).");
	const char *state =
		json_string_value(json_object_get(json_object_get(doc, "breaker"), "state"));
	header(f, "breaker_open", "gauge", "1 while calls fail fast because the API is down.");
	fprintf(f, "ovhsnapfs_breaker_open %d\n", state && strcmp(state, "open") == 0);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
