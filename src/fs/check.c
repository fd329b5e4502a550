/* check: start-up diagnoses and the --check report. */
#include "check.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "ovh.h"

/* Messages and names from the API may hold any byte: escaped, as in the log. */
void check_die(const char *fmt, ...)
{
	char raw[2048], line[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	log_escape(raw, line, sizeof(line));
	fprintf(stderr, "ovhsnapfs: %s\n", line);
}

static void report_refusal(const struct ovh_config *cfg, int rc, const char *why)
{
	const char *from = cfg->files_read ? cfg->files_read : "the environment";
	if (rc != -EACCES && rc != -EINVAL)
		check_die("the OVH API at %s could not be used: %s", cfg->base_url, why);
	else if (config_uses_oauth2(cfg))
		check_die("the OVH API at %s refused the OAuth2 service account (from %s): %s; "
			  "check client_id, client_secret and the account's IAM policy",
			  cfg->base_url, from, why);
	else
		check_die("the OVH API at %s refused the credentials for endpoint %s (from %s): "
			  "%s; check application_key, application_secret and consumer_key, and "
			  "that the consumer key is validated with GET, POST, PUT and DELETE on "
			  "/storage/netapp/*",
			  cfg->base_url, cfg->endpoint, from, why);
}

int check_api(struct tree *tree, const struct ovh_config *cfg)
{
	struct node root = {.kind = NODE_ROOT};
	struct listing *services = NULL;
	char why[512] = "";
	int rc = 0;

	ovh_set_quiet(tree->api, true);
	if (!ovh_uses_oauth2(tree->api))
		rc = ovh_sync_time(tree->api, OVH_ONCE); /* OAuth2 needs no clock */
	if (rc) {
		ovh_last_error(tree->api, why, sizeof(why));
		check_die("cannot reach the OVH API at %s (%s): check the endpoint and the network",
			  cfg->base_url, why);
	} else if ((rc = tree_children(tree, NULL, &root, &services)) != 0) {
		ovh_last_error(tree->api, why, sizeof(why));
		report_refusal(cfg, rc, why);
	}
	listing_unref(services);
	ovh_set_quiet(tree->api, false);
	return rc;
}

/* "abcd…": enough to tell keys apart, too little to use one. */
static void key_prefix(char *out, size_t len, const char *key)
{
	snprintf(out, len, "%.4s%s", key, strlen(key) > 4 ? "..." : "");
}

void check_report(FILE *out, struct tree *tree, const struct ovh_config *cfg)
{
	struct node root = {.kind = NODE_ROOT};
	struct listing *services = NULL;
	char key[16];

	fprintf(out, "endpoint:   %s (%s)\n", cfg->endpoint, cfg->base_url);
	fprintf(out, "config:     %s\n", cfg->files_read ? cfg->files_read : "none (environment)");
	if (config_uses_oauth2(cfg)) {
		key_prefix(key, sizeof(key), cfg->client_id);
		fprintf(out, "auth:       OAuth2 service account, client_id %s (token from %s)\n",
			key, cfg->token_url);
	} else {
		key_prefix(key, sizeof(key), cfg->application_key);
		fprintf(out, "auth:       application key %s (consumer key accepted)\n", key);
		fprintf(out, "time delta: %+ld s\n", ovh_time_delta(tree->api));
	}
	if (tree_children(tree, NULL, &root, &services) == 0) {
		fprintf(out, "services:   %zu", services->n);
		for (size_t i = 0; i < services->n; i++) {
			char name[4 * NAME_MAX_BYTES + 1];
			log_escape(services->entries[i].name, name, sizeof(name));
			fprintf(out, "%s%s", i ? ", " : " (", name);
		}
		fprintf(out, "%s\n", services->n ? ")" : "");
	}
	listing_unref(services);
	fprintf(out, "ok\n");
}
