/*
 * config: where ovhsnapfs finds its endpoint and credentials.
 *
 * Owns ovh.conf parsing (INI, python-ovh/go-ovh conventions), the OVH_*
 * environment overrides and the endpoint name -> URL table. Knows nothing of
 * HTTP or FUSE. Not thread-safe; used once at start-up.
 */
#ifndef OVHSNAPFS_CONFIG_H
#define OVHSNAPFS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct ovh_config {
	char *endpoint;	 /* as configured: a name such as ovh-eu, or a URL */
	char *base_url;	 /* https://eu.api.ovh.com/1.0, no trailing slash */
	char *token_url; /* OAuth2 token URL, NULL where OAuth2 is not offered */
	char *application_key;
	char *application_secret;
	char *consumer_key;
	char *client_id;
	char *client_secret;
	char *files_read; /* "a, b" for reports; never secret */
};

/*
 * Endpoint name or URL -> base URL (and OAuth2 token URL, may be NULL).
 * Returns 0 or -EINVAL for an unknown name. Caller frees both.
 */
int config_endpoint_url(const char *endpoint, char **base_url, char **token_url);

/*
 * True if url is http:// to another host than this one's loopback
 * (127.0.0.1, [::1], localhost): the credentials and tokens would cross the
 * network in clear. https:// and loopback (a simulator, a local TLS proxy)
 * are not.
 */
bool config_in_clear(const char *url);
/* True if text names an endpoint (a known name or an http(s) URL). */
bool config_is_endpoint(const char *text);

/*
 * Load configuration. config_path: one file to read instead of the search
 * list (NULL: /etc/ovh.conf, ~/.ovh.conf, ./ovh.conf, later overriding
 * earlier). endpoint: chosen on the command line (NULL: OVH_ENDPOINT, then
 * the file's [default] endpoint, then ovh-eu). On failure returns negative
 * errno and writes one user-facing sentence (with the fix) into err.
 */
int config_load(struct ovh_config *cfg, const char *config_path, const char *endpoint, char *err,
		size_t errlen);

/*
 * Remove the OVH_* credentials from the environment and wipe their text, so
 * that no helper (fusermount3) and no /proc/PID/environ reader sees them.
 * Call once config_load has taken them; not thread-safe (setenv/unsetenv).
 */
void config_clear_environment(void);

/* True when the configuration uses OAuth2 client credentials. */
bool config_uses_oauth2(const struct ovh_config *cfg);

/* Free and wipe (secrets are zeroed). */
void config_free(struct ovh_config *cfg);

#endif
