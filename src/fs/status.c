/* status: the status document, as JSON and as Prometheus text. */
#include "status.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build_config.h"
#include "clock.h"
#include "names.h"
#include "tree.h"
#include "walk.h"

struct status {
	char *endpoint, *base_url;
	const char *auth; /* "application-key" or "oauth2" */
	char key_prefix[STATUS_KEY_PREFIX_SIZE];
	double started;
	struct ovh_client *api;
	struct cache *cache;
	struct tree *tree; /* NULL: no per-share gauges */
};

void status_watch_tree(struct status *st, struct tree *tree)
{
	st->tree = tree;
}

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
	if (st->endpoint && st->base_url)
		return st;
	status_free(st);
	return NULL;
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

/* Background loads made for walks (walk.h): what prefetch costs and what it saves. */
static json_t *prefetch_json(struct status *st)
{
	struct walk_stats ws;
	walk_stats(st->tree ? st->tree->walk : NULL, &ws);
	return json_pack("{s:I, s:I, s:I}", "loads", (json_int_t)ws.loads, "hits",
			 (json_int_t)ws.hits, "waste", (json_int_t)ws.waste);
}

/* The snapshot types every share shows, 0 when it has none of one. */
static const char *const snapshot_types[] = {"automatic", "manual", "system"};

/*
 * One object per share whose snapshot listing the cache holds: names, the
 * count by type and the newest available snapshot's createdAt.
 */
struct shares_ctx {
	struct cache *cache;
	json_t *shares;
};

static json_t *share_json(const struct entry *svc, const struct entry *share,
			  const struct listing *l)
{
	json_t *types = json_object();
	const struct efs_object *newest = NULL;
	for (size_t k = 0; k < sizeof(snapshot_types) / sizeof(snapshot_types[0]); k++)
		json_object_set_new(types, snapshot_types[k], json_integer(0));
	for (size_t i = 0; i < l->n; i++) {
		const struct efs_object *o = &l->entries[i].obj;
		char *type = efs_object_field(o, EFS_FIELD_TYPE);
		const char *t = type && names_check_text(type) == 0 ? type : "unknown";
		json_object_set_new(
			types, t, json_integer(json_integer_value(json_object_get(types, t)) + 1));
		free(type);
		if (o->status == EFS_ST_AVAILABLE && o->created &&
		    (!newest || o->created > newest->created))
			newest = o;
	}
	char *created = newest ? efs_object_field(newest, EFS_FIELD_CREATED) : NULL;
	json_t *obj =
		json_pack("{s:s, s:s, s:s, s:s, s:o, s:s?, s:I}", "service", svc->name,
			  "service_id", svc->obj.id, "share", share->name, "share_id",
			  share->obj.id, "snapshots", types, "newest_snapshot", created,
			  "newest_snapshot_timestamp", (json_int_t)(newest ? newest->created : 0));
	free(created);
	return obj;
}

static void add_share_json(void *arg, const struct entry *svc, const struct entry *share)
{
	struct shares_ctx *ctx = arg;
	char key[400];
	tree_snapshots_key(key, sizeof(key), svc->obj.id, share->obj.id);
	struct listing *l = cache_peek(ctx->cache, key);
	if (l)
		json_array_append_new(ctx->shares, share_json(svc, share, l));
	listing_unref(l);
}

static json_t *shares_json(struct status *st)
{
	struct shares_ctx ctx = {st->cache, json_array()};
	if (st->tree && ctx.shares)
		tree_each_share(st->tree, add_share_json, &ctx);
	return ctx.shares;
}

json_t *status_collect(struct status *st)
{
	json_t *api = ovh_status_json(st->api);
	json_t *breaker = json_incref(json_object_get(api, "breaker"));
	json_t *rate = json_incref(json_object_get(api, "rate"));
	json_object_del(api, "breaker");
	json_object_del(api, "rate");
	/* "o" steals the references, including on failure. */
	/* pid: the process that serves the mount (umount.fuse.ovhsnapfs waits for it). */
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:I, s:I, s:I, s:o?, s:o?, s:o?, s:o?, "
			 "s:o?, s:o?}",
			 "version", PACKAGE_VERSION, "endpoint", st->endpoint, "base_url",
			 st->base_url, "auth", "method", st->auth, "key_prefix", st->key_prefix,
			 "time_delta", (json_int_t)ovh_time_delta(st->api), "uptime_seconds",
			 (json_int_t)(clock_now() - st->started), "pid", (json_int_t)getpid(),
			 "api", api, "breaker", breaker, "rate", rate, "cache",
			 cache_json(st->cache), "prefetch", prefetch_json(st), "shares",
			 shares_json(st));
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
	{"prefetch", "loads", "prefetch_loads_total", "counter",
	 "Listings loaded in the background ahead of a walk."},
	{"prefetch", "hits", "prefetch_hits_total", "counter",
	 "Background loads used by a later call within cache_ttl."},
	{"prefetch", "waste", "prefetch_waste_total", "counter",
	 "Background loads not used within cache_ttl."},
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

/* Per share: snapshots by type, the newest one's createdAt (labels by name). */
static void share_labels(FILE *f, const json_t *share)
{
	fputs("{service=", f);
	label(f, json_string_value(json_object_get(share, "service")));
	fputs(",share=", f);
	label(f, json_string_value(json_object_get(share, "share")));
}

static void freshness(FILE *f, const json_t *shares)
{
	size_t i;
	const json_t *share;
	const char *type;
	json_t *count;
	if (json_array_size(shares) == 0)
		return;
	header(f, "share_snapshots", "gauge",
	       "Snapshots of a share by type, as its listing last showed them.");
	json_array_foreach((json_t *)shares, i, share)
	{
		json_object_foreach(json_object_get(share, "snapshots"), type, count)
		{
			fputs("ovhsnapfs_share_snapshots", f);
			share_labels(f, share);
			fputs(",type=", f);
			label(f, type);
			fputs("} ", f);
			number(f, count);
		}
	}
	header(f, "share_newest_snapshot_timestamp_seconds", "gauge",
	       "createdAt of the share's newest available snapshot, in seconds since the epoch "
	       "(0: none).");
	json_array_foreach((json_t *)shares, i, share)
	{
		fputs("ovhsnapfs_share_newest_snapshot_timestamp_seconds", f);
		share_labels(f, share);
		fputs("} ", f);
		number(f, json_object_get(share, "newest_snapshot_timestamp"));
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
	freshness(f, json_object_get(doc, "shares"));
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
