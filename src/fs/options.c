/* options: the ovhsnapfs command line, parsed (fuse_opt) and checked. */
#include "options.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_config.h"
#include "cache.h"
#include "check.h"
#include "config.h"
#include "log.h"
#include "names.h"
#include "ovh.h"

enum {
	KEY_SECRET,
	KEY_NUMBER,  /* a plain decimal: 0, 2.5 */
	KEY_INTEGER, /* digits alone: sscanf would read "1.5" as 1 */
	KEY_OCTAL,   /* octal digits alone: sscanf would read "08" as 0 */
	KEY_FUSE_NUMBER,
	KEY_FUSE_INTEGER, /* libfuse's own whole numbers, which its sscanf would wrap */
};

/*
 * One option a line, like libfuse's examples. The region is fenced with the
 * exact markers: clang-format 14 takes no text after "off", 19 does.
 */
/* clang-format off */
#define OPTION(t, p) { t, offsetof(struct options, p), 1 }
static const struct fuse_opt option_spec[] = {
	OPTION("config=%s", config),
	OPTION("endpoint=%s", endpoint),
	OPTION("service=%s", service),
	OPTION("description=%s", description),
	OPTION("cafile=%s", cafile),
	OPTION("log_level=%s", log_level),
	OPTION("metrics_file=%s", metrics_file),
	OPTION("cache_ttl=%lf", cache_ttl),
	OPTION("wait=%lf", wait),
	OPTION("metrics_refresh=%lf", metrics_refresh),
	OPTION("allow_revert", allow_revert),
	OPTION("timeout=%lf", timeout),
	OPTION("request_timeout=%lf", request_timeout),
	OPTION("rate=%lf", rate),
	OPTION("burst=%lf", burst),
	OPTION("retries=%d", retries),
	OPTION("prefetch=%d", prefetch),
	OPTION("cache_max=%s", cache_max),
	/* Ours, not libfuse's: libfuse would give info.json execute bits. */
	OPTION("umask=%o", umask),
	OPTION("insecure_http", insecure_http),
	/* Also matched by these, for a strict look at the text (see number_text). */
	FUSE_OPT_KEY("cache_ttl=", KEY_NUMBER),
	FUSE_OPT_KEY("wait=", KEY_NUMBER),
	FUSE_OPT_KEY("metrics_refresh=", KEY_NUMBER),
	FUSE_OPT_KEY("timeout=", KEY_NUMBER),
	FUSE_OPT_KEY("request_timeout=", KEY_NUMBER),
	FUSE_OPT_KEY("rate=", KEY_NUMBER),
	FUSE_OPT_KEY("burst=", KEY_NUMBER),
	FUSE_OPT_KEY("retries=", KEY_INTEGER),
	FUSE_OPT_KEY("prefetch=", KEY_INTEGER),
	FUSE_OPT_KEY("umask=", KEY_OCTAL),
	FUSE_OPT_KEY("entry_timeout=", KEY_FUSE_NUMBER),
	FUSE_OPT_KEY("attr_timeout=", KEY_FUSE_NUMBER),
	FUSE_OPT_KEY("negative_timeout=", KEY_FUSE_NUMBER),
	FUSE_OPT_KEY("max_threads=", KEY_FUSE_INTEGER),
	FUSE_OPT_KEY("max_idle_threads=", KEY_FUSE_INTEGER),
	FUSE_OPT_KEY("max_read=", KEY_FUSE_INTEGER),
	FUSE_OPT_KEY("max_background=", KEY_FUSE_INTEGER),
	FUSE_OPT_KEY("congestion_threshold=", KEY_FUSE_INTEGER),
	FUSE_OPT_KEY("uid=", KEY_FUSE_INTEGER),
	FUSE_OPT_KEY("gid=", KEY_FUSE_INTEGER),
	/* Flags: set here, and those libfuse needs too kept for it. */
	OPTION("ro", read_only),
	FUSE_OPT_KEY("ro", FUSE_OPT_KEY_KEEP), /* the kernel mount is read-only too */
	OPTION("allow_other", allow_other),
	FUSE_OPT_KEY("allow_other", FUSE_OPT_KEY_KEEP),
	OPTION("allow_root", allow_other),
	FUSE_OPT_KEY("allow_root", FUSE_OPT_KEY_KEEP),
	OPTION("default_permissions", default_permissions),
	FUSE_OPT_KEY("default_permissions", FUSE_OPT_KEY_KEEP),
	OPTION("-h", show_help),
	OPTION("--help", show_help),
	OPTION("-V", show_version),
	OPTION("--version", show_version),
	OPTION("--check", check),
	/* fstab words meant for mount(8) and systemd, not for us. */
	FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("users", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("defaults", FUSE_OPT_KEY_DISCARD),
	/* Secrets on the command line would show in ps and /proc/mounts. */
	FUSE_OPT_KEY("application_key=", KEY_SECRET),
	FUSE_OPT_KEY("application_secret=", KEY_SECRET),
	FUSE_OPT_KEY("consumer_key=", KEY_SECRET),
	FUSE_OPT_KEY("client_id=", KEY_SECRET),
	FUSE_OPT_KEY("client_secret=", KEY_SECRET),
	FUSE_OPT_END,
};
/* clang-format on */

static void show_help(const char *progname)
{
	printf("usage: %s [SOURCE] MOUNTPOINT [-o OPT[,OPT...]] [-f] [-d] [-s]\n"
	       "       %s --check [SOURCE] [-o OPT[,OPT...]]\n\n",
	       progname, progname);
	printf("SOURCE is an endpoint (ovh-eu, ovh-ca, ovh-us, kimsufi-eu, kimsufi-ca,\n"
	       "soyoustart-eu, soyoustart-ca) or a base URL such as https://eu.api.ovh.com/1.0.\n\n"
	       "ovhsnapfs options:\n"
	       "    -o config=PATH         one ovh.conf to read (default: /etc/ovh.conf,\n"
	       "                           ~/.ovh.conf, ./ovh.conf)\n"
	       "    -o endpoint=NAME|URL   API endpoint (default: SOURCE, OVH_ENDPOINT,\n"
	       "                           the config file, ovh-eu)\n"
	       "    -o service=ID[:ID...]  show only these services\n"
	       "    -o cache_ttl=SECONDS   trust listings this long (default 60)\n"
	       "    -o ro                  refuse mkdir/rmdir/rename with EROFS\n"
	       "    -o wait=SECONDS        mkdir/rmdir wait for available/gone (default 360)\n"
	       "    -o allow_revert        setfattr -n user.ovh.revert -v SNAPSHOT SHARE reverts\n"
	       "                           the share, destroying what was written since\n"
	       "    -o description=TEXT    description of snapshots made by mkdir\n"
	       "    -o cafile=PATH         CA bundle for TLS (default: system store)\n"
	       "    -o insecure_http       allow an http:// endpoint on another host than\n"
	       "                           127.0.0.1, [::1], localhost (credentials in clear)\n"
	       "    -o timeout=SECONDS     what a read may take in all, tries and waits\n"
	       "                           included (default 30)\n"
	       "    -o request_timeout=SECONDS\n"
	       "                           one HTTP try at most, and half of what is left\n"
	       "                           while a try remains (default 10)\n"
	       "    -o retries=N           tries on 429, 5xx, network errors (default 4)\n"
	       "    -o rate=N              at most N API requests per second sustained\n"
	       "                           (default 1: OVH's fair use, 60 a minute; 0: no limit)\n"
	       "    -o burst=N             requests at once before rate= applies (default 60)\n"
	       "    -o prefetch=N          a walk (find, du) seen loads up to N of the\n"
	       "                           next subdirectories in parallel (default 16;\n"
	       "                           0: off; a single ls or stat never does)\n"
	       "    -o cache_max=SIZE      cache listings of at most SIZE bytes (K, M, G, T:\n"
	       "                           powers of 1024; a plain number N: N objects), least\n"
	       "                           recently used dropped first (default 1G)\n"
	       "    -o max_threads=N       FUSE worker threads at most; each waiting mkdir\n"
	       "                           or rmdir holds one (default 256, 16 kept idle)\n"
	       "    -o log_level=LEVEL     error, warn, info or debug (default warn)\n"
	       "    -o metrics_file=PATH   write counters there in the Prometheus text format\n"
	       "                           every 15 s (default: none)\n"
	       "    -o metrics_refresh=SECONDS\n"
	       "                           with metrics_file=, read each share's snapshots\n"
	       "                           at least this often (default 900; 0: off)\n\n");
}

/*
 * sscanf, which fuse_opt uses, takes "nan", "inf", "-1" for an unsigned and
 * "5abc" for 5, and wraps a whole number too large for an int
 * (retries=4294967297 reads as 1): every number option must be a plain
 * decimal, 0 or more, and a whole one at most INT_MAX (then each has its
 * own range, check_numbers).
 */
static bool number_text(const char *arg, const char *digits, int base)
{
	const char *value = strchr(arg, '=') + 1;
	char *end;
	if (!*value || value[strspn(value, digits)] != '\0')
		return false; /* no sign, no "nan", no "inf", no blank, no 0x, no exponent */
	errno = 0;
	if (base) {
		unsigned long long n = strtoull(value, &end, base);
		return *end == '\0' && errno == 0 && n <= INT_MAX;
	}
	double v = strtod(value, &end);
	return *end == '\0' && errno == 0 && isfinite(v);
}

/* Why number_text refused arg (key says which kind it is). */
static const char *number_error(int key)
{
	switch (key) {
	case KEY_OCTAL:
		return "not an octal mode (digits 0 to 7, at most 0777)";
	case KEY_INTEGER:
	case KEY_FUSE_INTEGER:
		return "not a whole number from 0 to 2147483647";
	default:
		return "not a number of 0 or more";
	}
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *o = data;
	(void)outargs;
	switch (key) {
	case KEY_SECRET:
		o->error = "credentials are not accepted as -o options (they would show in ps "
			   "and /proc/mounts): put them in ovh.conf (chmod 600) or OVH_* "
			   "environment variables";
		return 0;
	case KEY_NUMBER:
	case KEY_INTEGER:
	case KEY_OCTAL:
	case KEY_FUSE_NUMBER:
	case KEY_FUSE_INTEGER: {
		bool whole = key == KEY_INTEGER || key == KEY_FUSE_INTEGER;
		if (!number_text(arg,
				 key == KEY_OCTAL ? "01234567"
				 : whole	  ? "0123456789"
						  : "0123456789.",
				 key == KEY_OCTAL ? 8
				 : whole	  ? 10
						  : 0)) {
			snprintf(o->bad_number, sizeof(o->bad_number), "%.200s: %s", arg,
				 number_error(key));
			o->error = o->bad_number;
		}
		return key == KEY_FUSE_NUMBER || key == KEY_FUSE_INTEGER; /* libfuse's own */
	}
	case FUSE_OPT_KEY_NONOPT:
		if (o->n_nonopt == 2) {
			o->error = "too many arguments: expected [SOURCE] MOUNTPOINT";
			return 0;
		}
		o->nonopt[o->n_nonopt++] = strdup(arg);
		return 0;
	case FUSE_OPT_KEY_OPT:
		if (strncmp(arg, "x-", 2) == 0 || strncmp(arg, "X-", 2) == 0)
			return 0; /* x-systemd.* and friends */
		return 1;
	default:
		return 1;
	}
}
/* Upper bounds: beyond them a value is a typo, and would overflow a timer. */
#define MAX_SECONDS (366.0 * 86400)
#define MAX_TIMEOUT 3600.0
#define MAX_RATE    1e6
#define MAX_CACHED  1000000000UL

static int parse_cache_max(struct options *o)
{
	int rc = cache_parse_max(o->cache_max, &o->cache_max_objects, &o->cache_max_bytes);
	return rc == 0 && o->cache_max_objects > MAX_CACHED ? -ERANGE : rc;
}

static int check_numbers(struct options *o)
{
	if (o->cache_ttl < 0 || o->cache_ttl > MAX_SECONDS)
		check_die("cache_ttl=%g: must be from 0 to %.0f seconds", o->cache_ttl,
			  MAX_SECONDS);
	else if (o->wait < 0 || o->wait > MAX_SECONDS)
		check_die("wait=%g: must be from 0 to %.0f seconds", o->wait, MAX_SECONDS);
	else if ((o->metrics_refresh != 0 && o->metrics_refresh < 1) ||
		 o->metrics_refresh > MAX_SECONDS)
		check_die("metrics_refresh=%g: must be 0 (off) or from 1 to %.0f seconds",
			  o->metrics_refresh, MAX_SECONDS);
	else if (o->timeout <= 0 || o->timeout > MAX_TIMEOUT)
		check_die("timeout=%g: must be more than 0 and at most %.0f seconds", o->timeout,
			  MAX_TIMEOUT);
	else if (o->request_timeout <= 0 || o->request_timeout > MAX_TIMEOUT)
		check_die("request_timeout=%g: must be more than 0 and at most %.0f seconds",
			  o->request_timeout, MAX_TIMEOUT);
	else if (o->retries < 1 || o->retries > 100)
		check_die("retries=%d: must be between 1 and 100", o->retries);
	else if (o->prefetch < 0 || o->prefetch > 64)
		check_die("prefetch=%d: must be between 0 and 64", o->prefetch);
	else if (o->rate < 0 || o->rate > MAX_RATE)
		check_die("rate=%g: must be 0 (unlimited) or up to %.0f requests per second",
			  o->rate, MAX_RATE);
	else if (o->burst < 1 || o->burst > MAX_RATE)
		check_die("burst=%g: must be from 1 to %.0f requests", o->burst, MAX_RATE);
	else if (o->cache_max && parse_cache_max(o) != 0)
		check_die("cache_max=%.200s: not a size (512M, 2G; K, M, G, T are powers of 1024; "
			  "at most 1T) nor a whole number of objects (at most %lu)",
			  o->cache_max, MAX_CACHED);
	else if (o->umask > 0777)
		check_die("umask=%o: must be an octal mode from 0 to 0777", o->umask);
	else
		return 0;
	return -EINVAL;
}

/* -o description= follows the rule of a description set with setfattr (names.h). */
static int check_texts(const struct options *o)
{
	int rc = o->description ? names_check_text(o->description) : 0;
	if (rc == -ENAMETOOLONG)
		check_die("description=: longer than 255 bytes");
	else if (rc == -EILSEQ)
		check_die("description=: not valid UTF-8");
	else if (rc)
		check_die("description=: control characters are not allowed");
	return rc;
}

int options_endpoint(const struct options *o, const char **endpoint, const char **source)
{
	bool has_source = o->check ? o->n_nonopt >= 1 : o->n_nonopt == 2;
	*source = has_source ? o->nonopt[0] : NULL;
	*endpoint = o->endpoint;
	if (*source && !config_is_endpoint(*source)) {
		check_die("SOURCE '%s' is not an endpoint: use ovh-eu, ovh-ca, ovh-us, kimsufi-eu, "
			  "kimsufi-ca, soyoustart-eu, soyoustart-ca or an http(s) URL",
			  *source);
		return -EINVAL;
	}
	if (*source && *endpoint && strcmp(*source, *endpoint) != 0) {
		check_die("SOURCE '%s' and -o endpoint= disagree: give one of them", *source);
		return -EINVAL;
	}
	if (!*endpoint)
		*endpoint = *source;
	return 0;
}

/*
 * The daemon changes directory to / once mounted, and libcurl reads the CA
 * bundle at each new connection: relative paths are made absolute now.
 */
static int absolute_paths(struct options *o)
{
	char *abs;
	if (o->config && o->config[0] != '/' && (abs = realpath(o->config, NULL)) != NULL) {
		free(o->config); /* one that cannot be resolved is named as given */
		o->config = abs;
	}
	if (!o->cafile)
		return 0;
	abs = realpath(o->cafile, NULL);
	if (!abs) {
		check_die("cafile=%s: %s", o->cafile, strerror(errno));
		return -1;
	}
	free(o->cafile);
	o->cafile = abs;
	return 0;
}

int options_parse(struct fuse_args *args, struct options *o)
{
	*o = (struct options){.cache_ttl = 60,
			      .wait = 360,
			      .metrics_refresh = 900,
			      .timeout = 30,
			      .request_timeout = OVH_DEFAULT_REQUEST_TIMEOUT,
			      .rate = OVH_DEFAULT_RATE,
			      .burst = OVH_DEFAULT_BURST,
			      .retries = 4,
			      .prefetch = 16,
			      .cache_max_bytes = CACHE_DEFAULT_MAX_BYTES,
			      .umask = 022};
	if (fuse_opt_parse(args, o, option_spec, opt_proc) != 0)
		return -1;
	/*
	 * Other users may only look unless the modes shown let them change:
	 * the kernel checks them (a mount option libfuse passes on).
	 */
	if (o->allow_other && !o->default_permissions &&
	    fuse_opt_add_arg(args, "-odefault_permissions") != 0)
		return -1;
	if (o->error) {
		check_die("%s", o->error);
		return -1;
	}
	if (o->show_version) {
		printf("ovhsnapfs %s (libfuse %s, %s)\n", PACKAGE_VERSION, fuse_pkgversion(),
		       ovh_transport_version());
		return 1;
	}
	if (o->show_help) {
		show_help(args->argv[0]);
		fuse_lib_help(args);
		return 1;
	}
	if (o->check && o->n_nonopt > 1) {
		check_die("--check takes at most a SOURCE, no mountpoint");
		return -1;
	}
	if (o->n_nonopt == 0 && !o->check) {
		check_die("no mountpoint given (try --help)");
		return -1;
	}
	if (o->log_level) {
		enum log_level level;
		if (log_level_parse(o->log_level, &level) != 0) {
			check_die("log_level=%s: use error, warn, info or debug", o->log_level);
			return -1;
		}
		log_set_level(level);
	}
	return check_numbers(o) || check_texts(o) || absolute_paths(o) ? -1 : 0;
}

void options_free(struct options *o)
{
	free(o->config);
	free(o->endpoint);
	free(o->service);
	free(o->description);
	free(o->cafile);
	free(o->log_level);
	free(o->metrics_file);
	free(o->cache_max);
	for (int i = 0; i < o->n_nonopt; i++)
		free(o->nonopt[i]);
}
