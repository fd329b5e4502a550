/*
 * libFuzzer target: config_load on an ovh.conf, and config_endpoint_url.
 *
 * Input layout: the bytes before the first NUL are the config file; the bytes
 * after it, if there is a NUL, are the endpoint given on the command line
 * (without a NUL the endpoint is NULL, as when none is given). The file is
 * one mkstemp file in /tmp, or $TMPDIR if set (mode 0600, as config_load
 * demands), rewritten for each input and removed at exit. Every OVH_* variable is unset and HOME
 * is an empty directory, so nothing but the input is read.
 *
 * Checks: err is NUL-terminated, and non-empty on failure ("writes one
 * user-facing sentence"); on success endpoint and base_url are set; after
 * config_free the struct is zero. config_endpoint_url on the whole input
 * (as a C string) succeeds exactly when config_is_endpoint says it names
 * an endpoint, and gives a base URL without a trailing slash.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_util.h"

extern char **environ;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char conf_path[4096];
static char home_dir[4096];
static int conf_fd = -1;

static void cleanup(void)
{
	if (conf_fd >= 0) {
		close(conf_fd);
		unlink(conf_path);
	}
	if (home_dir[0])
		rmdir(home_dir);
}

/* Unset every OVH_* variable (collected one at a time: unsetenv edits environ). */
static void unset_ovh_environment(void)
{
	for (;;) {
		const char *found = NULL;
		for (char **e = environ; e && *e; e++)
			if (strncmp(*e, "OVH_", 4) == 0) {
				found = *e;
				break;
			}
		if (!found)
			return;
		size_t len = strcspn(found, "=");
		char *name = strndup(found, len);
		if (!name || unsetenv(name) != 0)
			abort();
		free(name);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* /tmp, or $TMPDIR: run.sh points it into its work directory. */
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(home_dir, sizeof(home_dir), "%s/ovhsnapfs-fuzz-home-XXXXXX", tmp);
	snprintf(conf_path, sizeof(conf_path), "%s/ovhsnapfs-fuzz-conf-XXXXXX", tmp);
	unset_ovh_environment();
	atexit(cleanup);
	if (!mkdtemp(home_dir) || setenv("HOME", home_dir, 1) != 0)
		abort();
	conf_fd = mkstemp(conf_path); /* mode 0600 */
	if (conf_fd < 0 || fchmod(conf_fd, 0600) != 0)
		abort();
	return 0;
}

static void write_conf(const uint8_t *data, size_t len)
{
	FUZZ_CHECK(ftruncate(conf_fd, 0) == 0, "cannot truncate %s", conf_path);
	for (size_t done = 0; done < len;) {
		ssize_t n = pwrite(conf_fd, data + done, len - done, (off_t)done);
		FUZZ_CHECK(n > 0, "cannot write %s", conf_path);
		done += (size_t)n;
	}
}

static bool all_zero(const struct ovh_config *cfg)
{
	static const struct ovh_config zero;
	return memcmp(cfg, &zero, sizeof(zero)) == 0;
}

static void fuzz_load(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t file_len = nul ? (size_t)(nul - data) : size;
	char *endpoint = nul ? strndup((const char *)nul + 1, size - file_len - 1) : NULL;
	if (nul && !endpoint)
		abort();
	write_conf(data, file_len);

	struct ovh_config cfg;
	char err[1024];
	memset(&cfg, 0xa5, sizeof(cfg));
	memset(err, 0xa5, sizeof(err));
	int rc = config_load(&cfg, conf_path, endpoint, err, sizeof(err));
	FUZZ_CHECK(rc <= 0, "config_load returned %d", rc);
	FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL, "err is not NUL-terminated (rc %d)", rc);
	if (rc == 0) {
		FUZZ_CHECK(cfg.base_url != NULL, "config_load succeeded without a base_url");
		FUZZ_CHECK(cfg.endpoint != NULL, "config_load succeeded without an endpoint");
		FUZZ_CHECK(cfg.files_read && strcmp(cfg.files_read, conf_path) == 0,
			   "files_read is '%s', not the one file read",
			   cfg.files_read ? cfg.files_read : "(null)");
		FUZZ_CHECK(config_uses_oauth2(&cfg)
				   ? cfg.client_secret && cfg.token_url
				   : cfg.application_key && cfg.application_secret &&
					     cfg.consumer_key,
			   "config_load succeeded with incomplete credentials");
	} else {
		FUZZ_CHECK(err[0] != '\0', "config_load failed (%d) without a message", rc);
		FUZZ_CHECK(all_zero(&cfg), "config_load failed (%d) but left cfg set", rc);
	}
	config_free(&cfg);
	FUZZ_CHECK(all_zero(&cfg), "config_free left cfg set");
	free(endpoint);
}

static void fuzz_endpoint(const uint8_t *data, size_t size)
{
	char *text = strndup((const char *)data, size);
	if (!text)
		abort();
	char *base_url = (char *)1, *token_url = (char *)1;
	int rc = config_endpoint_url(text, &base_url, &token_url);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "config_endpoint_url returned %d",
		   rc);
	if (rc == 0) {
		FUZZ_CHECK(base_url != NULL, "config_endpoint_url succeeded without a base URL");
		size_t len = strlen(base_url);
		FUZZ_CHECK(len == 0 || base_url[len - 1] != '/', "base URL '%s' ends in '/'",
			   base_url);
		if (token_url)
			FUZZ_CHECK(strlen(token_url) > 0, "empty token URL");
	} else {
		FUZZ_CHECK(base_url == NULL && token_url == NULL,
			   "config_endpoint_url failed (%d) but returned URLs", rc);
	}
	if (rc != -ENOMEM)
		FUZZ_CHECK((rc == 0) == config_is_endpoint(text),
			   "config_endpoint_url (%d) and config_is_endpoint (%d) disagree", rc,
			   (int)config_is_endpoint(text));
	free(base_url);
	free(token_url);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_load(data, size);
	fuzz_endpoint(data, size);
	return 0;
}
