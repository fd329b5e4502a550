/*
 * Unit tests for config: ovh.conf files, OVH_* environment, endpoints.
 *
 * Each test runs in a fresh temporary directory: HOME points to an empty
 * directory in it, the working directory is another empty one (so neither
 * ~/.ovh.conf nor ./ovh.conf exists unless the test writes it), and every
 * OVH_* variable is unset. /etc/ovh.conf is never written; tests that read
 * the search list are skipped when the machine has one.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

extern char **environ;

/* Distinctive values, so the error texts can be searched for them. */
#define AK_EU	      "ak-eu-7f3a"
#define AS_EU	      "as-eu-SECRET-91c2"
#define CK_EU	      "ck-eu-SECRET-55d0"
#define AK_CA	      "ak-ca-1b2c"
#define AS_CA	      "as-ca-SECRET-3d4e"
#define CK_CA	      "ck-ca-SECRET-5f6a"
#define CLIENT_SECRET "client-SECRET-0a9b"

#define SECTION_EU                                                                                 \
	"[ovh-eu]\napplication_key=" AK_EU "\napplication_secret=" AS_EU "\nconsumer_key=" CK_EU   \
	"\n"
#define SECTION_CA                                                                                 \
	"[ovh-ca]\napplication_key=" AK_CA "\napplication_secret=" AS_CA "\nconsumer_key=" CK_CA   \
	"\n"

struct sandbox {
	char root[1024];
	char home[1100];
	char cwd[1100];
	char old_cwd[PATH_MAX];
	char err[512];
	struct ovh_config cfg;
};

static void unset_ovh_environment(void)
{
	char names[64][128];
	size_t n = 0;
	/* Collect first: unsetenv while walking environ would skip entries. */
	for (char **e = environ; *e && n < 64; e++) {
		size_t len = strcspn(*e, "=");
		if (strncmp(*e, "OVH_", 4) == 0 && len < sizeof(names[0]))
			snprintf(names[n++], sizeof(names[0]), "%.*s", (int)len, *e);
	}
	for (size_t i = 0; i < n; i++)
		unsetenv(names[i]);
}

static int setup(void **state)
{
	struct sandbox *sb = calloc(1, sizeof(*sb));
	const char *tmp = getenv("TMPDIR");
	if (!sb)
		return -1;
	snprintf(sb->root, sizeof(sb->root), "%s/ovhsnapfs-config-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(sb->root) || !getcwd(sb->old_cwd, sizeof(sb->old_cwd)))
		return -1;
	snprintf(sb->home, sizeof(sb->home), "%s/home", sb->root);
	snprintf(sb->cwd, sizeof(sb->cwd), "%s/cwd", sb->root);
	if (mkdir(sb->home, 0700) != 0 || mkdir(sb->cwd, 0700) != 0 || chdir(sb->cwd) != 0)
		return -1;
	unset_ovh_environment();
	setenv("HOME", sb->home, 1);
	*state = sb;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct sandbox *sb = *state;
	config_free(&sb->cfg);
	unset_ovh_environment();
	int rc = chdir(sb->old_cwd);
	nftw(sb->root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(sb);
	return rc;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* A mode-600 file with a unique name in the sandbox; path receives its name. */
static void write_temp_conf(struct sandbox *sb, const char *text, char *path, size_t len)
{
	snprintf(path, len, "%s/conf-XXXXXX", sb->root);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, 0600), 0);
	assert_int_equal(close(fd), 0);
}

static void write_home_conf(struct sandbox *sb, const char *text, mode_t mode)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/.ovh.conf", sb->home);
	write_file(path, text, mode);
}

static void write_local_conf(const char *text)
{
	write_file("./ovh.conf", text, 0600);
}

/* The search list includes /etc/ovh.conf, which these tests must not depend on. */
static void require_no_etc_conf(void)
{
	if (access("/etc/ovh.conf", F_OK) == 0) {
		print_message("/etc/ovh.conf exists on this machine: skipped\n");
		skip();
	}
}

static int load(struct sandbox *sb, const char *path, const char *endpoint)
{
	config_free(&sb->cfg);
	return config_load(&sb->cfg, path, endpoint, sb->err, sizeof(sb->err));
}

static void assert_no_secret_in(const char *text)
{
	static const char *const secrets[] = {AS_EU, CK_EU, AS_CA, CK_CA, CLIENT_SECRET};
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strstr(text, secrets[i])) {
			print_error("secret '%s' appears in: %s\n", secrets[i], text);
			fail();
		}
}

/* ---- endpoint precedence ---- */

#define FOUR_ENDPOINTS                                                                             \
	"[default]\nendpoint=ovh-ca\n" SECTION_EU SECTION_CA                                       \
	"[ovh-us]\napplication_key=ak-us\napplication_secret=as-us\nconsumer_key=ck-us\n"          \
	"[kimsufi-eu]\napplication_key=ak-ks\napplication_secret=as-ks\nconsumer_key=ck-ks\n"

static void test_endpoint_argument_beats_environment_and_file(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, FOUR_ENDPOINTS, path, sizeof(path));
	setenv("OVH_ENDPOINT", "ovh-us", 1);
	assert_int_equal(load(sb, path, "kimsufi-eu"), 0);
	assert_string_equal(sb->cfg.endpoint, "kimsufi-eu");
	assert_string_equal(sb->cfg.base_url, "https://eu.api.kimsufi.com/1.0");
	assert_string_equal(sb->cfg.application_key, "ak-ks");
}

static void test_endpoint_environment_beats_file_default(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, FOUR_ENDPOINTS, path, sizeof(path));
	setenv("OVH_ENDPOINT", "ovh-us", 1);
	assert_int_equal(load(sb, path, NULL), 0);
	assert_string_equal(sb->cfg.endpoint, "ovh-us");
	assert_string_equal(sb->cfg.base_url, "https://api.us.ovhcloud.com/1.0");
	assert_string_equal(sb->cfg.application_key, "ak-us");
}

static void test_endpoint_file_default_beats_builtin_ovh_eu(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, FOUR_ENDPOINTS, path, sizeof(path));
	assert_int_equal(load(sb, path, NULL), 0);
	assert_string_equal(sb->cfg.endpoint, "ovh-ca");
	assert_string_equal(sb->cfg.base_url, "https://ca.api.ovh.com/1.0");
	assert_string_equal(sb->cfg.application_key, AK_CA);
}

static void test_endpoint_defaults_to_ovh_eu(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, SECTION_CA SECTION_EU, path, sizeof(path));
	assert_int_equal(load(sb, path, NULL), 0);
	assert_string_equal(sb->cfg.endpoint, "ovh-eu");
	assert_string_equal(sb->cfg.base_url, "https://eu.api.ovh.com/1.0");
	assert_string_equal(sb->cfg.token_url, "https://www.ovh.com/auth/oauth2/token");
	assert_string_equal(sb->cfg.application_key, AK_EU);
}

/* ---- credentials ---- */

static void test_credentials_come_from_the_endpoint_section(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, SECTION_EU SECTION_CA, path, sizeof(path));
	assert_int_equal(load(sb, path, "ovh-ca"), 0);
	assert_string_equal(sb->cfg.application_key, AK_CA);
	assert_string_equal(sb->cfg.application_secret, AS_CA);
	assert_string_equal(sb->cfg.consumer_key, CK_CA);
	assert_null(sb->cfg.client_id);
	assert_false(config_uses_oauth2(&sb->cfg));
	assert_non_null(strstr(sb->cfg.files_read, path));
}

static void test_credentials_in_default_section_are_not_used(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb,
			"[default]\nendpoint=ovh-eu\napplication_key=a\napplication_secret=b\n"
			"consumer_key=c\n",
			path, sizeof(path));
	assert_int_equal(load(sb, path, NULL), -EINVAL);
	assert_non_null(strstr(sb->err, "ovh-eu"));
}

static void test_environment_overrides_file_key_by_key(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, SECTION_EU, path, sizeof(path));
	setenv("OVH_CONSUMER_KEY", "ck-from-env", 1);
	assert_int_equal(load(sb, path, NULL), 0);
	assert_string_equal(sb->cfg.application_key, AK_EU);
	assert_string_equal(sb->cfg.application_secret, AS_EU);
	assert_string_equal(sb->cfg.consumer_key, "ck-from-env");

	setenv("OVH_APPLICATION_KEY", "ak-from-env", 1);
	setenv("OVH_APPLICATION_SECRET", "as-from-env", 1);
	assert_int_equal(load(sb, path, NULL), 0);
	assert_string_equal(sb->cfg.application_key, "ak-from-env");
	assert_string_equal(sb->cfg.application_secret, "as-from-env");
	assert_string_equal(sb->cfg.consumer_key, "ck-from-env");
}

static void test_environment_alone_is_enough(void **state)
{
	struct sandbox *sb = *state;
	require_no_etc_conf();
	setenv("OVH_APPLICATION_KEY", "ak", 1);
	setenv("OVH_APPLICATION_SECRET", "as", 1);
	setenv("OVH_CONSUMER_KEY", "ck", 1);
	assert_int_equal(load(sb, NULL, NULL), 0);
	assert_string_equal(sb->cfg.endpoint, "ovh-eu");
	assert_string_equal(sb->cfg.consumer_key, "ck");
	assert_null(sb->cfg.files_read);
}

static void test_oauth2_client_credentials_are_accepted(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, "[ovh-eu]\nclient_id=cid\nclient_secret=" CLIENT_SECRET "\n", path,
			sizeof(path));
	assert_int_equal(load(sb, path, NULL), 0);
	assert_true(config_uses_oauth2(&sb->cfg));
	assert_string_equal(sb->cfg.client_id, "cid");
	assert_string_equal(sb->cfg.client_secret, CLIENT_SECRET);
	assert_null(sb->cfg.application_key);
}

/* ---- search list ---- */

static void test_search_list_local_file_overrides_home_file(void **state)
{
	struct sandbox *sb = *state;
	require_no_etc_conf();
	write_home_conf(sb, "[default]\nendpoint=ovh-ca\n" SECTION_EU, 0600);
	write_local_conf("[default]\nendpoint=ovh-eu\n[ovh-eu]\nconsumer_key=ck-local\n");
	assert_int_equal(load(sb, NULL, NULL), 0);
	assert_string_equal(sb->cfg.endpoint, "ovh-eu");
	assert_string_equal(sb->cfg.application_key, AK_EU);   /* only in ~ */
	assert_string_equal(sb->cfg.consumer_key, "ck-local"); /* in both: ./ wins */
	/* Both reported, in the order read. */
	char *home_pos = strstr(sb->cfg.files_read, ".ovh.conf");
	char *local_pos = strstr(sb->cfg.files_read, "./ovh.conf");
	assert_non_null(home_pos);
	assert_non_null(local_pos);
	assert_true(home_pos < local_pos);
}

static void test_search_list_reads_home_file(void **state)
{
	struct sandbox *sb = *state;
	require_no_etc_conf();
	write_home_conf(sb, SECTION_CA, 0600);
	assert_int_equal(load(sb, NULL, "ovh-ca"), 0);
	assert_string_equal(sb->cfg.consumer_key, CK_CA);
}

static void test_search_list_reads_local_file_without_home_file(void **state)
{
	struct sandbox *sb = *state;
	require_no_etc_conf();
	write_local_conf(SECTION_EU);
	assert_int_equal(load(sb, NULL, NULL), 0);
	assert_string_equal(sb->cfg.consumer_key, CK_EU);
	assert_string_equal(sb->cfg.files_read, "./ovh.conf");
}

static void test_search_list_without_any_file_says_what_to_set(void **state)
{
	struct sandbox *sb = *state;
	require_no_etc_conf();
	assert_int_equal(load(sb, NULL, NULL), -EINVAL);
	assert_non_null(strstr(sb->err, "no config file found"));
	assert_non_null(strstr(sb->err, "OVH_CONSUMER_KEY"));
}

/* ---- refusals ---- */

static void test_config_file_of_another_user_is_eperm(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	if (geteuid() != 0) {
		print_message("needs root to give a file away: skipped\n");
		skip();
	}
	write_temp_conf(sb, SECTION_EU, path, sizeof(path));
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(load(sb, path, NULL), -EPERM);
	assert_non_null(strstr(sb->err, "another user"));
	assert_non_null(strstr(sb->err, path));
	assert_no_secret_in(sb->err);
}

static void test_config_fifo_is_refused_without_hanging(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/fifo.conf", sb->root);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(load(sb, path, NULL), -EINVAL);
	assert_non_null(strstr(sb->err, "not a regular file"));
}

static void test_optional_directory_in_search_list_is_skipped(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX + 16];
	require_no_etc_conf();
	snprintf(path, sizeof(path), "%s/.ovh.conf", sb->home);
	assert_int_equal(mkdir(path, 0700), 0);
	write_local_conf(SECTION_EU);
	assert_int_equal(load(sb, NULL, NULL), 0);
	assert_string_equal(sb->cfg.files_read, "./ovh.conf");
}

/* As another user, ~/.ovh.conf exists but cannot be opened: skipped, ./ovh.conf read. */
static void test_unreadable_optional_file_is_skipped(void **state)
{
	struct sandbox *sb = *state;
	require_no_etc_conf();
	if (geteuid() != 0) {
		print_message("needs root to act as another user: skipped\n");
		skip();
	}
	write_home_conf(sb, "[ovh-eu]\napplication_key=from-home\n", 0600);
	write_local_conf(SECTION_EU);
	assert_int_equal(chown("./ovh.conf", 65534, 65534), 0);
	assert_int_equal(chmod(sb->home, 0711), 0);
	assert_int_equal(chmod(sb->cwd, 0711), 0);
	assert_int_equal(chmod(sb->root, 0711), 0);
	assert_int_equal(seteuid(65534), 0);
	int rc = load(sb, NULL, NULL);
	assert_int_equal(seteuid(0), 0);
	assert_int_equal(rc, 0);
	assert_string_equal(sb->cfg.files_read, "./ovh.conf");
	assert_string_equal(sb->cfg.application_key, AK_EU);
}

static void test_config_file_readable_by_others_is_eperm(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, SECTION_EU, path, sizeof(path));
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(load(sb, path, NULL), -EPERM);
	assert_non_null(strstr(sb->err, "chmod 600"));
	assert_non_null(strstr(sb->err, path));
	assert_no_secret_in(sb->err);
	/* Readable by the group only is refused too. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(load(sb, path, NULL), -EPERM);
}

static void test_home_file_readable_by_others_is_eperm(void **state)
{
	struct sandbox *sb = *state;
	require_no_etc_conf();
	write_home_conf(sb, SECTION_EU, 0644);
	assert_int_equal(load(sb, NULL, NULL), -EPERM);
	assert_non_null(strstr(sb->err, "chmod 600"));
	assert_non_null(strstr(sb->err, ".ovh.conf"));
}

static void test_missing_explicit_config_file_names_the_path(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/does-not-exist.conf", sb->root);
	assert_int_equal(load(sb, path, NULL), -ENOENT);
	assert_non_null(strstr(sb->err, path));
}

static void test_explicit_config_file_replaces_search_list(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_local_conf(SECTION_EU);
	write_temp_conf(sb, "[ovh-eu]\napplication_key=x\napplication_secret=y\n", path,
			sizeof(path));
	/* ./ovh.conf is not read, so its consumer_key does not complete the set. */
	assert_int_equal(load(sb, path, NULL), -EINVAL);
	assert_non_null(strstr(sb->err, "consumer_key"));
}

static void test_mixing_application_keys_and_client_id_is_refused(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, SECTION_EU "client_id=cid\nclient_secret=" CLIENT_SECRET "\n", path,
			sizeof(path));
	assert_int_equal(load(sb, path, NULL), -EINVAL);
	assert_non_null(strstr(sb->err, "client_id"));
	assert_no_secret_in(sb->err);
}

static void test_client_id_from_environment_with_file_keys_is_refused(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, SECTION_EU, path, sizeof(path));
	setenv("OVH_CLIENT_ID", "cid", 1);
	setenv("OVH_CLIENT_SECRET", CLIENT_SECRET, 1);
	assert_int_equal(load(sb, path, NULL), -EINVAL);
	assert_no_secret_in(sb->err);
}

static void test_missing_consumer_key_is_named_in_the_error(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, "[ovh-eu]\napplication_key=" AK_EU "\napplication_secret=" AS_EU "\n",
			path, sizeof(path));
	assert_int_equal(load(sb, path, NULL), -EINVAL);
	assert_non_null(strstr(sb->err, "consumer_key"));
	assert_non_null(strstr(sb->err, path));
	assert_no_secret_in(sb->err);
}

static void test_client_id_without_secret_is_refused(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, "[ovh-eu]\nclient_id=cid\n", path, sizeof(path));
	assert_int_equal(load(sb, path, NULL), -EINVAL);
	assert_non_null(strstr(sb->err, "client_secret"));
}

static void test_oauth2_on_kimsufi_is_refused(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, "[kimsufi-eu]\nclient_id=cid\nclient_secret=" CLIENT_SECRET "\n", path,
			sizeof(path));
	assert_int_equal(load(sb, path, "kimsufi-eu"), -EINVAL);
	assert_non_null(strstr(sb->err, "OAuth2"));
	assert_no_secret_in(sb->err);
}

static void test_unknown_endpoint_name_is_einval(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, SECTION_EU, path, sizeof(path));
	assert_int_equal(load(sb, path, "ovh-mars"), -EINVAL);
	assert_non_null(strstr(sb->err, "ovh-mars"));
	assert_null(sb->cfg.endpoint); /* nothing half-filled is left */
	assert_null(sb->cfg.application_key);

	setenv("OVH_ENDPOINT", "eu", 1);
	assert_int_equal(load(sb, path, NULL), -EINVAL);
	assert_non_null(strstr(sb->err, "'eu'"));
}

static void test_syntax_error_names_file_and_line(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, "[ovh-eu]\napplication_key=" AK_EU "\nthis line is not ini\n", path,
			sizeof(path));
	assert_int_equal(load(sb, path, NULL), -EINVAL);
	assert_non_null(strstr(sb->err, path));
	assert_non_null(strstr(sb->err, "line 3"));
}

static void test_url_endpoint_trailing_slash_is_dropped(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb,
			"[http://127.0.0.1:8080/1.0/]\napplication_key=a\n"
			"application_secret=b\nconsumer_key=c\n",
			path, sizeof(path));
	assert_int_equal(load(sb, path, "http://127.0.0.1:8080/1.0/"), 0);
	assert_string_equal(sb->cfg.base_url, "http://127.0.0.1:8080/1.0");
	assert_string_equal(sb->cfg.token_url, "http://127.0.0.1:8080/auth/oauth2/token");
}

static void test_error_texts_never_contain_secrets(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	/* Every secret set, and an error found only after reading them all. */
	write_temp_conf(sb, SECTION_EU SECTION_CA "client_secret=" CLIENT_SECRET "\n", path,
			sizeof(path));
	assert_int_equal(load(sb, path, "ovh-ca"), -EINVAL);
	assert_true(sb->err[0] != '\0');
	assert_no_secret_in(sb->err);
	setenv("OVH_APPLICATION_SECRET", AS_EU, 1);
	setenv("OVH_CLIENT_SECRET", CLIENT_SECRET, 1);
	assert_int_equal(load(sb, path, "ovh-eu"), -EINVAL);
	assert_no_secret_in(sb->err);
}

static void test_config_free_clears_everything(void **state)
{
	struct sandbox *sb = *state;
	char path[PATH_MAX];
	write_temp_conf(sb, SECTION_EU, path, sizeof(path));
	assert_int_equal(load(sb, path, NULL), 0);
	config_free(&sb->cfg);
	assert_null(sb->cfg.endpoint);
	assert_null(sb->cfg.base_url);
	assert_null(sb->cfg.application_secret);
	assert_null(sb->cfg.files_read);
	config_free(&sb->cfg); /* twice is harmless */
}

/* ---- endpoint table ---- */

static void check_endpoint(const char *name, const char *base, const char *token)
{
	char *b = NULL, *t = NULL;
	assert_int_equal(config_endpoint_url(name, &b, &t), 0);
	assert_string_equal(b, base);
	if (token)
		assert_string_equal(t, token);
	else
		assert_null(t);
	assert_true(config_is_endpoint(name));
	free(b);
	free(t);
}

static void test_endpoint_table_has_all_seven_names(void **state)
{
	(void)state;
	check_endpoint("ovh-eu", "https://eu.api.ovh.com/1.0",
		       "https://www.ovh.com/auth/oauth2/token");
	check_endpoint("ovh-ca", "https://ca.api.ovh.com/1.0",
		       "https://ca.ovh.com/auth/oauth2/token");
	check_endpoint("ovh-us", "https://api.us.ovhcloud.com/1.0",
		       "https://us.ovhcloud.com/auth/oauth2/token");
	check_endpoint("kimsufi-eu", "https://eu.api.kimsufi.com/1.0", NULL);
	check_endpoint("kimsufi-ca", "https://ca.api.kimsufi.com/1.0", NULL);
	check_endpoint("soyoustart-eu", "https://eu.api.soyoustart.com/1.0", NULL);
	check_endpoint("soyoustart-ca", "https://ca.api.soyoustart.com/1.0", NULL);
}

static void test_endpoint_urls_are_taken_as_given_without_trailing_slashes(void **state)
{
	(void)state;
	/* A known API host keeps its official token URL; others get <origin>/auth/oauth2/token. */
	check_endpoint("https://eu.api.ovh.com/1.0/", "https://eu.api.ovh.com/1.0",
		       "https://www.ovh.com/auth/oauth2/token");
	check_endpoint("https://ca.api.ovh.com/v1", "https://ca.api.ovh.com/v1",
		       "https://ca.ovh.com/auth/oauth2/token");
	check_endpoint("https://eu.api.kimsufi.com/1.0", "https://eu.api.kimsufi.com/1.0", NULL);
	check_endpoint("http://127.0.0.1:8080/1.0//", "http://127.0.0.1:8080/1.0",
		       "http://127.0.0.1:8080/auth/oauth2/token");
	check_endpoint("http://127.0.0.1:8080/1.0", "http://127.0.0.1:8080/1.0",
		       "http://127.0.0.1:8080/auth/oauth2/token");
}

static void test_endpoint_unknown_name_is_einval(void **state)
{
	char junk[] = "junk";
	char *b = junk, *t = junk;
	(void)state;
	assert_int_equal(config_endpoint_url("ovh-mars", &b, &t), -EINVAL);
	assert_null(b);
	assert_null(t);
	assert_false(config_is_endpoint("ovh-mars"));
	assert_false(config_is_endpoint("OVH-EU"));
	assert_false(config_is_endpoint("/mnt/snapshots"));
	assert_false(config_is_endpoint("ftp://eu.api.ovh.com/1.0"));
}

static void test_http_is_in_clear_off_this_hosts_loopback(void **state)
{
	(void)state;
	assert_true(config_in_clear("http://eu.api.ovh.com/1.0"));
	assert_true(config_in_clear("http://10.0.0.5:8080/1.0"));
	assert_true(config_in_clear("http://127.0.0.2:8080/1.0"));
	assert_true(config_in_clear("http://127.0.0.1.example.com/1.0"));
	assert_true(config_in_clear("http://localhost.example.com/1.0"));
	assert_true(config_in_clear("http://127.0.0.1@evil.example.com/1.0"));
	assert_true(config_in_clear("http://[::2]:80/1.0"));
	assert_false(config_in_clear("https://eu.api.ovh.com/1.0"));
	assert_false(config_in_clear("http://127.0.0.1:8080/1.0"));
	assert_false(config_in_clear("http://127.0.0.1/1.0"));
	assert_false(config_in_clear("http://LOCALHOST:8080"));
	assert_false(config_in_clear("http://[::1]:8080/1.0"));
	assert_false(config_in_clear("http://user:pw@localhost:8080/1.0"));
	assert_false(config_in_clear(NULL));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_endpoint_argument_beats_environment_and_file),
		T(test_endpoint_environment_beats_file_default),
		T(test_endpoint_file_default_beats_builtin_ovh_eu),
		T(test_endpoint_defaults_to_ovh_eu),
		T(test_credentials_come_from_the_endpoint_section),
		T(test_credentials_in_default_section_are_not_used),
		T(test_environment_overrides_file_key_by_key),
		T(test_environment_alone_is_enough),
		T(test_oauth2_client_credentials_are_accepted),
		T(test_search_list_local_file_overrides_home_file),
		T(test_search_list_reads_home_file),
		T(test_search_list_reads_local_file_without_home_file),
		T(test_search_list_without_any_file_says_what_to_set),
		T(test_config_file_readable_by_others_is_eperm),
		T(test_home_file_readable_by_others_is_eperm),
		T(test_config_file_of_another_user_is_eperm),
		T(test_config_fifo_is_refused_without_hanging),
		T(test_optional_directory_in_search_list_is_skipped),
		T(test_unreadable_optional_file_is_skipped),
		T(test_missing_explicit_config_file_names_the_path),
		T(test_explicit_config_file_replaces_search_list),
		T(test_mixing_application_keys_and_client_id_is_refused),
		T(test_client_id_from_environment_with_file_keys_is_refused),
		T(test_missing_consumer_key_is_named_in_the_error),
		T(test_client_id_without_secret_is_refused),
		T(test_oauth2_on_kimsufi_is_refused),
		T(test_unknown_endpoint_name_is_einval),
		T(test_syntax_error_names_file_and_line),
		T(test_url_endpoint_trailing_slash_is_dropped),
		T(test_error_texts_never_contain_secrets),
		T(test_config_free_clears_everything),
		cmocka_unit_test(test_endpoint_table_has_all_seven_names),
		cmocka_unit_test(test_endpoint_urls_are_taken_as_given_without_trailing_slashes),
		cmocka_unit_test(test_endpoint_unknown_name_is_einval),
		cmocka_unit_test(test_http_is_in_clear_off_this_hosts_loopback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
