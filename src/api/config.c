/* config: ovh.conf + OVH_* environment -> struct ovh_config. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct endpoint_entry {
	const char *name;
	const char *base_url;
	const char *token_url;
};

static const struct endpoint_entry endpoints[] = {
	{"ovh-eu", "https://eu.api.ovh.com/1.0", "https://www.ovh.com/auth/oauth2/token"},
	{"ovh-ca", "https://ca.api.ovh.com/1.0", "https://ca.ovh.com/auth/oauth2/token"},
	{"ovh-us", "https://api.us.ovhcloud.com/1.0", "https://us.ovhcloud.com/auth/oauth2/token"},
	{"kimsufi-eu", "https://eu.api.kimsufi.com/1.0", NULL},
	{"kimsufi-ca", "https://ca.api.kimsufi.com/1.0", NULL},
	{"soyoustart-eu", "https://eu.api.soyoustart.com/1.0", NULL},
	{"soyoustart-ca", "https://ca.api.soyoustart.com/1.0", NULL},
};

#define N_ENDPOINTS (sizeof(endpoints) / sizeof(endpoints[0]))

/* The keys ovhsnapfs reads from an endpoint's section. */
enum cfg_key { K_AK, K_AS, K_CK, K_CLIENT_ID, K_CLIENT_SECRET, K_COUNT };
static const char *const key_names[K_COUNT] = {"application_key", "application_secret",
					       "consumer_key", "client_id", "client_secret"};
static const char *const env_names[K_COUNT] = {"OVH_APPLICATION_KEY", "OVH_APPLICATION_SECRET",
					       "OVH_CONSUMER_KEY", "OVH_CLIENT_ID",
					       "OVH_CLIENT_SECRET"};

/* Every (section, key, value) read, later files overriding earlier ones. */
struct ini_item {
	char *section, *key, *value;
	struct ini_item *next;
};

static bool is_url(const char *text)
{
	return strncmp(text, "https://", 8) == 0 || strncmp(text, "http://", 7) == 0;
}

/* The host of an http(s) URL is this machine's loopback: 127.0.0.1, [::1] or localhost. */
static bool host_is_loopback(const char *url)
{
	const char *host = strstr(url, "://") + 3;
	size_t len = strcspn(host, "/?#");
	const char *at = memchr(host, '@', len); /* user:password@host */
	if (at) {
		len -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	size_t name = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/?#");
	if (name > len)
		return false;
	static const char *const loopback[] = {"127.0.0.1", "[::1]", "localhost"};
	for (size_t i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++)
		if (strlen(loopback[i]) == name && strncasecmp(host, loopback[i], name) == 0)
			return true;
	return false;
}

bool config_in_clear(const char *url)
{
	return url && strncmp(url, "http://", 7) == 0 && !host_is_loopback(url);
}

bool config_is_endpoint(const char *text)
{
	if (is_url(text))
		return true;
	for (size_t i = 0; i < N_ENDPOINTS; i++)
		if (strcmp(text, endpoints[i].name) == 0)
			return true;
	return false;
}

/* scheme://host[:port] of a URL: its length. */
static size_t origin_length(const char *url)
{
	const char *host = strstr(url, "://") + 3;
	return (size_t)(host - url) + strcspn(host, "/?#");
}

/*
 * A URL endpoint on a known OVH API host uses that host's token URL; any
 * other (a simulator, a proxy) is asked at <origin>/auth/oauth2/token.
 */
static char *token_url_for(const char *url)
{
	size_t len = origin_length(url);
	for (size_t i = 0; i < N_ENDPOINTS; i++) {
		const char *base = endpoints[i].base_url;
		if (origin_length(base) == len && strncmp(base, url, len) == 0)
			return endpoints[i].token_url ? strdup(endpoints[i].token_url) : NULL;
	}
	char *out = malloc(len + sizeof("/auth/oauth2/token"));
	if (out)
		sprintf(out, "%.*s/auth/oauth2/token", (int)len, url);
	return out;
}

int config_endpoint_url(const char *endpoint, char **base_url, char **token_url)
{
	*base_url = NULL;
	*token_url = NULL;
	if (is_url(endpoint)) {
		size_t len = strlen(endpoint);
		while (len > 0 && endpoint[len - 1] == '/')
			len--;
		*base_url = strndup(endpoint, len);
		*token_url = token_url_for(endpoint);
		return *base_url ? 0 : -ENOMEM;
	}
	for (size_t i = 0; i < N_ENDPOINTS; i++) {
		if (strcmp(endpoint, endpoints[i].name) != 0)
			continue;
		*base_url = strdup(endpoints[i].base_url);
		if (endpoints[i].token_url)
			*token_url = strdup(endpoints[i].token_url);
		return *base_url ? 0 : -ENOMEM;
	}
	return -EINVAL;
}

static void wipe_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

static int ini_collect(void *user, const char *section, const char *name, const char *value)
{
	struct ini_item **head = user;
	struct ini_item *item = calloc(1, sizeof(*item));
	if (!item)
		return 0;
	item->section = strdup(section);
	item->key = strdup(name);
	item->value = strdup(value);
	item->next = *head; /* newest first: the first match wins */
	*head = item;
	return item->section && item->key && item->value;
}

static const char *ini_find(struct ini_item *head, const char *section, const char *key)
{
	for (; head; head = head->next)
		if (strcmp(head->section, section) == 0 && strcmp(head->key, key) == 0)
			return head->value;
	return NULL;
}

static void ini_free(struct ini_item *head)
{
	while (head) {
		struct ini_item *next = head->next;
		free(head->section);
		free(head->key);
		wipe_free(head->value);
		free(head);
		head = next;
	}
}

/*
 * A credentials file must be a regular file of the user's own (or root's),
 * closed to group and others, as ssh insists. Checked on the descriptor
 * that is then parsed, so the file checked is the file read.
 */
static int check_file(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "config file %s is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen,
			 "%s belongs to another user (uid %u): it holds secrets; it must be "
			 "yours or root's",
			 path, (unsigned)st.st_uid);
		return -EPERM;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
			 "%s is open to group or others (mode %04o): it holds secrets; run "
			 "'chmod 600 %s'",
			 path, (unsigned)(st.st_mode & 07777), path);
		return -EPERM;
	}
	return 0;
}

/* Parse the open file (fd is taken). */
static int parse_fd(int fd, const char *path, struct ini_item **items, char *err, size_t errlen)
{
	char buf[BUFSIZ]; /* ours, so that the secrets it held can be wiped */
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	int line = ini_parse_file(f, ini_collect, items);
	fclose(f);
	explicit_bzero(buf, sizeof(buf));
	if (line == 0)
		return 0;
	if (line > 0)
		snprintf(err, errlen, "config file %s: syntax error on line %d", path, line);
	else
		snprintf(err, errlen, "cannot read config file %s", path);
	return -EINVAL;
}

static int note_file_read(struct ovh_config *cfg, const char *path)
{
	size_t old = cfg->files_read ? strlen(cfg->files_read) : 0;
	char *joined = realloc(cfg->files_read, old + strlen(path) + 3);
	if (!joined)
		return -ENOMEM;
	sprintf(joined + old, "%s%s", old ? ", " : "", path);
	cfg->files_read = joined;
	return 0;
}

static int read_one_file(const char *path, bool required, struct ini_item **items,
			 struct ovh_config *cfg, char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO must not hang the start; it is refused below. */
	int fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	int rc = fd < 0 ? -errno : 0;
	if ((rc == -ENOENT || rc == -EACCES || rc == -ENOTDIR || rc == -EPERM) && !required)
		return 0; /* an optional file we cannot read is skipped, as python-ovh does */
	if (rc < 0) {
		snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = check_file(fd, path, err, errlen);
	if (rc == -EINVAL && !required) {
		close(fd); /* a directory, say: python-ovh skips what it cannot read */
		return 0;
	}
	if (rc < 0) {
		close(fd);
		return rc;
	}
	rc = parse_fd(fd, path, items, err, errlen);
	return rc ? rc : note_file_read(cfg, path);
}

static int read_files(const char *config_path, struct ini_item **items, struct ovh_config *cfg,
		      char *err, size_t errlen)
{
	if (config_path)
		return read_one_file(config_path, true, items, cfg, err, errlen);

	char home_conf[4096] = "";
	const char *home = getenv("HOME");
	if (!home || !*home) {
		/* At boot mount(8) may run us without HOME. */
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (home)
		snprintf(home_conf, sizeof(home_conf), "%s/.ovh.conf", home);
	const char *paths[] = {"/etc/ovh.conf", home_conf, "./ovh.conf"};
	for (size_t i = 0; i < 3; i++) {
		if (!*paths[i])
			continue;
		int rc = read_one_file(paths[i], false, items, cfg, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int choose_endpoint(struct ovh_config *cfg, const char *endpoint, struct ini_item *items,
			   char *err, size_t errlen)
{
	const char *chosen = endpoint;
	if (!chosen || !*chosen)
		chosen = getenv("OVH_ENDPOINT");
	if (!chosen || !*chosen)
		chosen = ini_find(items, "default", "endpoint");
	if (!chosen || !*chosen)
		chosen = "ovh-eu";
	cfg->endpoint = strdup(chosen);
	if (!cfg->endpoint)
		return -ENOMEM;
	int rc = config_endpoint_url(chosen, &cfg->base_url, &cfg->token_url);
	if (rc == -EINVAL)
		snprintf(err, errlen,
			 "unknown endpoint '%s': use ovh-eu, ovh-ca, ovh-us, kimsufi-eu, "
			 "kimsufi-ca, soyoustart-eu, soyoustart-ca or a URL such as "
			 "https://eu.api.ovh.com/1.0",
			 chosen);
	return rc;
}

static int take_keys(struct ovh_config *cfg, struct ini_item *items)
{
	char **fields[K_COUNT] = {&cfg->application_key, &cfg->application_secret,
				  &cfg->consumer_key, &cfg->client_id, &cfg->client_secret};
	for (int k = 0; k < K_COUNT; k++) {
		const char *value = getenv(env_names[k]);
		if (!value || !*value)
			value = ini_find(items, cfg->endpoint, key_names[k]);
		if (!value || !*value)
			continue;
		*fields[k] = strdup(value);
		if (!*fields[k])
			return -ENOMEM;
	}
	return 0;
}

static int check_auth_method(const struct ovh_config *cfg, char *err, size_t errlen)
{
	bool any_ak = cfg->application_key || cfg->application_secret || cfg->consumer_key;
	bool any_oauth = cfg->client_id || cfg->client_secret;
	const char *where = cfg->files_read ? cfg->files_read : "no config file found";

	if (any_ak && any_oauth) {
		snprintf(err, errlen,
			 "both application keys and OAuth2 client_id/client_secret are set for "
			 "endpoint %s (%s): keep only one method",
			 cfg->endpoint, where);
		return -EINVAL;
	}
	if (any_oauth && !(cfg->client_id && cfg->client_secret)) {
		snprintf(err, errlen, "OAuth2 needs both client_id and client_secret in [%s] (%s)",
			 cfg->endpoint, where);
		return -EINVAL;
	}
	if (any_oauth && !cfg->token_url) {
		snprintf(err, errlen, "endpoint %s offers no OAuth2: use application keys",
			 cfg->endpoint);
		return -EINVAL;
	}
	if (!any_oauth && !(cfg->application_key && cfg->application_secret && cfg->consumer_key)) {
		snprintf(err, errlen,
			 "no credentials for endpoint %s (%s): set application_key, "
			 "application_secret and consumer_key in section [%s] of ovh.conf, or "
			 "OVH_APPLICATION_KEY, OVH_APPLICATION_SECRET and OVH_CONSUMER_KEY",
			 cfg->endpoint, where, cfg->endpoint);
		return -EINVAL;
	}
	return 0;
}

int config_load(struct ovh_config *cfg, const char *config_path, const char *endpoint, char *err,
		size_t errlen)
{
	struct ini_item *items = NULL;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	if (errlen)
		err[0] = '\0';
	rc = read_files(config_path, &items, cfg, err, errlen);
	if (rc == 0)
		rc = choose_endpoint(cfg, endpoint, items, err, errlen);
	if (rc == 0)
		rc = take_keys(cfg, items);
	if (rc == 0)
		rc = check_auth_method(cfg, err, errlen);
	ini_free(items);
	if (rc < 0) {
		if (errlen && !err[0])
			snprintf(err, errlen, "configuration: %s", strerror(-rc));
		config_free(cfg);
	}
	return rc;
}

extern char **environ;

void config_clear_environment(void)
{
	char *found[K_COUNT];
	int n = 0;
	for (char **e = environ; *e && n < K_COUNT; e++)
		for (int k = 0; k < K_COUNT; k++) {
			size_t len = strlen(env_names[k]);
			if (strncmp(*e, env_names[k], len) == 0 && (*e)[len] == '=')
				found[n++] = *e;
		}
	for (int k = 0; k < K_COUNT; k++)
		unsetenv(env_names[k]);
	/* The strings stay where they were (/proc/PID/environ shows them): wipe them. */
	for (int i = 0; i < n; i++)
		explicit_bzero(found[i], strlen(found[i]));
}

bool config_uses_oauth2(const struct ovh_config *cfg)
{
	return cfg->client_id != NULL;
}

void config_free(struct ovh_config *cfg)
{
	free(cfg->endpoint);
	free(cfg->base_url);
	free(cfg->token_url);
	wipe_free(cfg->application_key);
	wipe_free(cfg->application_secret);
	wipe_free(cfg->consumer_key);
	wipe_free(cfg->client_id);
	wipe_free(cfg->client_secret);
	free(cfg->files_read);
	memset(cfg, 0, sizeof(*cfg));
}
