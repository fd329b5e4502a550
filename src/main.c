/*
 * ovhsnapfs: OVHcloud Enterprise File Storage snapshots as a filesystem.
 *
 * main: the command line, the checks made before anything is mounted, and
 * the FUSE session's life cycle.
 */
#include "fs.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "build_config.h"
#include "cache.h"
#include "check.h"
#include "config.h"
#include "log.h"
#include "mountwatch.h"
#include "names.h"
#include "ovh.h"

struct options {
	char *config;
	char *endpoint;
	char *service;
	char *description;
	char *cafile;
	char *log_level;
	char *metrics_file;
	double cache_ttl;
	double wait;
	double metrics_refresh;
	double timeout;
	double request_timeout;
	double rate;
	double burst;
	int retries;
	int prefetch;
	char *cache_max; /* cache_parse_max */
	size_t cache_max_objects, cache_max_bytes;
	unsigned int umask;
	int read_only;
	int allow_revert;	 /* -o allow_revert: setfattr user.ovh.revert may revert a share */
	int allow_other;	 /* allow_other or allow_root */
	int default_permissions; /* given, or added for allow_other */
	int show_help;
	int show_version;
	int check;	   /* --check: run the start-up checks, report, do not mount */
	int insecure_http; /* http:// to a host not this one's loopback allowed */
	char *nonopt[2];
	int n_nonopt;
	const char *error; /* a refused option, reported after parsing */
	char bad_number[256];
};

enum {
	KEY_HELP,
	KEY_VERSION,
	KEY_CHECK,
	KEY_RO,
	KEY_SECRET,
	KEY_NUMBER,  /* a plain decimal: 0, 2.5 */
	KEY_INTEGER, /* digits alone: sscanf would read "1.5" as 1 */
	KEY_OCTAL,   /* octal digits alone: sscanf would read "08" as 0 */
	KEY_FUSE_NUMBER,
	KEY_FUSE_INTEGER, /* libfuse's own whole numbers, which its sscanf would wrap */
	KEY_ALLOW_OTHER,
	KEY_DEFAULT_PERMISSIONS,
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
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("allow_other", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("allow_root", KEY_ALLOW_OTHER),
	FUSE_OPT_KEY("default_permissions", KEY_DEFAULT_PERMISSIONS),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("--check", KEY_CHECK),
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

/* For the signal handlers only: signals cannot carry a context. */
static struct ovhsnapfs *signal_fs;
/* The thread in libfuse's loop: on_detached interrupts its wait. */
static pthread_t main_thread;
/* libfuse's own SIGINT and SIGTERM handlers, which ours call after op_shutdown. */
static void (*fuse_handler[NSIG])(int);

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
	case KEY_HELP:
		o->show_help = 1;
		return 0;
	case KEY_VERSION:
		o->show_version = 1;
		return 0;
	case KEY_CHECK:
		o->check = 1;
		return 0;
	case KEY_RO:
		o->read_only = 1;
		return 1; /* the kernel mount is read-only too */
	case KEY_ALLOW_OTHER:
		o->allow_other = 1;
		return 1;
	case KEY_DEFAULT_PERMISSIONS:
		o->default_permissions = 1;
		return 1;
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

static char **split_services(const char *text)
{
	size_t n = 1;
	for (const char *p = text; *p; p++)
		n += *p == ':';
	char **list = calloc(n + 1, sizeof(*list));
	char *copy = strdup(text), *save = NULL;
	size_t i = 0;
	for (char *tok = copy ? strtok_r(copy, ":", &save) : NULL; tok && list;
	     tok = strtok_r(NULL, ":", &save))
		list[i++] = strdup(tok);
	free(copy);
	return list;
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

/* SOURCE and -o endpoint= name the same thing; either may be absent. */
static int choose_endpoint(const struct options *o, const char **endpoint, const char **source)
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
 * The kernel may trust entries and attributes as long as we trust listings:
 * inserted first, so the user's own entry_timeout=/attr_timeout= win.
 */
static int add_kernel_timeouts(struct fuse_args *args, double ttl)
{
	char opt[128];
	snprintf(opt, sizeof(opt), "-oentry_timeout=%g,attr_timeout=%g", ttl, ttl);
	return fuse_opt_insert_arg(args, 1, opt);
}

/*
 * A mkdir waiting for its snapshot holds a worker thread: allow many, so
 * that waiting calls never leave ls and cat without one (libfuse's default
 * is 10), but keep few idle ones once a burst is over. Inserted first, so
 * the user's own -o max_threads=/max_idle_threads= win.
 */
static int add_thread_defaults(struct fuse_args *args)
{
	return fuse_opt_insert_arg(args, 1, "-omax_threads=256,max_idle_threads=16");
}

/* fsname and subtype make /proc/mounts read "SOURCE MNT fuse.ovhsnapfs". */
static int add_mount_args(struct fuse_args *args, const char *fsname, const char *mountpoint)
{
	char opt[1024];
	size_t w = 0;
	w += (size_t)snprintf(opt, sizeof(opt), "-osubtype=ovhsnapfs,fsname=");
	for (const char *p = fsname; *p && w + 3 < sizeof(opt); p++) {
		if (*p == ',' || *p == '\\')
			opt[w++] = '\\';
		opt[w++] = *p;
	}
	opt[w] = '\0';
	if (fuse_opt_add_arg(args, opt) || fuse_opt_add_arg(args, mountpoint))
		return -ENOMEM;
	return 0;
}

static void on_sighup(int sig)
{
	(void)sig;
	if (signal_fs)
		fs_request_cache_drop(signal_fs);
}

/* Ours first: libfuse leaves a handler alone unless it is SIG_DFL. */
static void install_sighup(struct ovhsnapfs *fs)
{
	struct sigaction sa = {.sa_handler = on_sighup};
	sigemptyset(&sa.sa_mask);
	signal_fs = fs;
	sigaction(SIGHUP, &sa, NULL);
}

static void on_intr_signal(int sig)
{
	(void)sig; /* it only ends a blocking call of the thread it was sent to (EINTR) */
}

/*
 * The handler of FS_INTR_SIGNAL, which libfuse sends to the thread of an
 * interrupted call (fs's op_init sets intr). Ours, before fuse_new: libfuse
 * 3.14 installs one only when intr was set before fuse_new, which no option
 * can do any more, and 3.17 leaves a handler alone unless it is SIG_DFL. No
 * SA_RESTART, like libfuse's: a blocking poll or sleep ends at once.
 */
static void install_intr_signal(void)
{
	struct sigaction sa = {.sa_handler = on_intr_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(FS_INTR_SIGNAL, &sa, NULL);
}

/* End every wait at once (op_shutdown is async-signal-safe), then let libfuse end the loop. */
static void on_stop(int sig)
{
	op_shutdown();
	if (sig > 0 && sig < NSIG && fuse_handler[sig])
		fuse_handler[sig](sig);
}

/* Put on_stop in front of the handler libfuse installed for sig; false if there is none. */
static bool chain_stop(int sig)
{
	struct sigaction old, sa = {.sa_handler = on_stop};
	if (sigaction(sig, NULL, &old) != 0 || (old.sa_flags & SA_SIGINFO) ||
	    old.sa_handler == SIG_DFL || old.sa_handler == SIG_IGN)
		return false;
	fuse_handler[sig] = old.sa_handler;
	sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL) == 0;
}

/* Give libfuse its handlers back, so that fuse_remove_signal_handlers finds them. */
static void unchain_stop(int sig)
{
	struct sigaction sa = {.sa_handler = fuse_handler[sig]};
	if (!fuse_handler[sig])
		return;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/*
 * umount -l while a mkdir waits: the kernel ends the session only once that
 * call returns, and a file left open or a working directory in the detached
 * mount keeps it for as long as it stays: the daemon would outlive its
 * unmount (a mount unit that never stops). So end every wait (the calls
 * answer EINTR) and the session: libfuse's loop sees it once the main
 * thread's wait is interrupted (FS_INTR_SIGNAL's handler does nothing, but
 * without SA_RESTART). mountwatch calls this again every 100 ms, in case the
 * signal came just before that wait began.
 */
static void on_detached(void *ctx)
{
	struct ovhsnapfs *fs = ctx;
	static atomic_bool said;
	if (!atomic_exchange(&said, true))
		log_info("the mount is gone (unmounted, lazily if calls wait): ending every wait "
			 "and the session");
	op_shutdown();
	fuse_session_exit(fs->session);
	pthread_kill(main_thread, FS_INTR_SIGNAL);
}

static int serve(struct fuse *fuse, struct ovhsnapfs *fs, const struct fuse_cmdline_opts *c)
{
	struct fuse_session *se = fuse_get_session(fuse);
	struct mountwatch *watch;
	int rc = -1;

	if (fuse_mount(fuse, c->mountpoint) != 0)
		return 1;
	if (fuse_daemonize(c->foreground) != 0)
		goto out;
	if (!c->foreground)
		log_use_syslog();
	install_sighup(fs);
	if (fuse_set_signal_handlers(se) != 0)
		goto out;
	chain_stop(SIGINT);
	chain_stop(SIGTERM);
	fs->session = se;
	main_thread = pthread_self();
	watch = mountwatch_start(c->mountpoint, on_detached, fs);
	log_info("mounted on %s", c->mountpoint);
	if (c->singlethread) {
		rc = fuse_loop(fuse);
	} else {
		struct fuse_loop_config *loop = fuse_loop_cfg_create();
		fuse_loop_cfg_set_clone_fd(loop, (unsigned)c->clone_fd);
		fuse_loop_cfg_set_max_threads(loop, c->max_threads);
		if (c->max_idle_threads != UINT_MAX)
			fuse_loop_cfg_set_idle_threads(loop, c->max_idle_threads);
		rc = fuse_loop_mt(fuse, loop);
		fuse_loop_cfg_destroy(loop);
	}
	mountwatch_stop(watch);
	fs_stop(fs); /* every worker has answered; now the threads that use libfuse */
	unchain_stop(SIGINT);
	unchain_stop(SIGTERM);
	fuse_remove_signal_handlers(se);
	log_info("unmounting %s", c->mountpoint);
out:
	fuse_unmount(fuse);
	return rc < 0 ? 1 : 0; /* > 0: ended by a signal, which is a clean stop */
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

/* Options into o; 0 to go on, 1 for a clean early exit, -1 for a usage error. */
static int parse_args(struct fuse_args *args, struct options *o)
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

static void free_options(struct options *o)
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

/*
 * http:// sends the consumer key, signatures and bearer tokens in clear:
 * refused unless to this host's loopback (a simulator, a local TLS proxy)
 * or -o insecure_http says so.
 */
static int check_transport(const struct options *o, const struct ovh_config *cfg)
{
	if (!config_in_clear(cfg->base_url) && !config_in_clear(cfg->token_url))
		return 0;
	if (!o->insecure_http) {
		check_die("endpoint %s: http:// would send the credentials and tokens in clear; "
			  "use https://, or -o insecure_http for a test server",
			  cfg->base_url);
		return -EPERM;
	}
	log_warn("endpoint %s: http:// (insecure_http): credentials and tokens go in clear",
		 cfg->base_url);
	return 0;
}

/* Everything that must exist before mounting; on failure, one line said why. */
static int prepare(struct ovhsnapfs *fs, const struct options *o, const struct ovh_config *cfg)
{
	struct ovh_client *api;
	struct ovh_client_opts copts = {.cfg = cfg,
					.cafile = o->cafile,
					.timeout = o->timeout,
					.request_timeout = o->request_timeout,
					.retries = o->retries,
					.rate = o->rate,
					.burst = o->burst};
	struct cache *cache = cache_new(o->cache_ttl, o->cache_max_objects, o->cache_max_bytes);
	if (!cache || ovh_client_new(&copts, &api) != 0) {
		cache_free(cache);
		check_die("out of memory");
		return -ENOMEM;
	}
	tree_init(&fs->tree, api, cache, o->service ? split_services(o->service) : NULL);
	if (tree_enable_prefetch(&fs->tree, o->prefetch) != 0) {
		check_die("out of memory");
		return -ENOMEM;
	}
	fs->change = (struct snapops_opts){
		.wait = o->wait, .description = o->description, .reconcile = o->timeout};
	fs->settings = (struct settings_opts){.wait = o->wait, .allow_revert = o->allow_revert};
	fs->read_only = o->read_only;
	fs->metrics_refresh = o->metrics_refresh;
	fs->timeout = o->timeout;
	fs->tree.load_budget = o->timeout;
	fs->umask = (mode_t)(o->umask & 0777);
	fs->uid = getuid();
	fs->gid = getgid();
	fs->status = status_new(cfg, api, cache);
	if (!fs->status) {
		check_die("out of memory");
		return -ENOMEM;
	}
	status_watch_tree(fs->status, &fs->tree);
	int rc = check_api(&fs->tree, cfg);
	if (rc == 0 && o->metrics_file && !o->check &&
	    (rc = metrics_open(fs->status, o->metrics_file, &fs->metrics)) != 0)
		check_die("metrics_file=%s: cannot write it: %s", o->metrics_file, strerror(-rc));
	return rc;
}

/* The API client holds its own copy of the secrets: wipe this one, so there is one. */
static void forget_secrets(struct ovh_config *cfg)
{
	char **secrets[] = {&cfg->application_secret, &cfg->consumer_key, &cfg->client_secret};
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (*secrets[i]) {
			explicit_bzero(*secrets[i], strlen(*secrets[i]));
			free(*secrets[i]);
			*secrets[i] = NULL;
		}
	}
}

static void release(struct ovhsnapfs *fs)
{
	struct ovh_client *api = fs->tree.api;
	struct cache *cache = fs->tree.cache;
	if (!api)
		return;
	metrics_free(fs->metrics); /* when op_destroy did not run */
	fs->metrics = NULL;
	tree_destroy(&fs->tree);
	cache_free(cache);
	status_free(fs->status);
	ovh_client_free(api);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd = {0};
	struct ovhsnapfs fs = {0};
	struct ovh_config cfg = {0};
	struct options o;
	const char *endpoint, *source;
	struct fuse *fuse = NULL;
	char err[1024];
	/* Secrets live in this process: no core dumps, no ptrace by other users. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	int rc = parse_args(&args, &o);

	if (rc != 0) {
		rc = rc > 0 ? 0 : -1; /* --help and --version end here, successfully */
		goto out;
	}
	rc = -1;
	if (choose_endpoint(&o, &endpoint, &source) != 0)
		goto out;
	int loaded = config_load(&cfg, o.config, endpoint, err, sizeof(err));
	config_clear_environment(); /* before any helper runs: fusermount3 */
	if (loaded != 0) {
		check_die("%s", err);
		goto out;
	}
	if (check_transport(&o, &cfg) != 0)
		goto out;
	ovh_global_init();
	if (o.check) {
		if (prepare(&fs, &o, &cfg) == 0) {
			check_report(stdout, &fs.tree, &cfg);
			rc = 0;
		}
		goto out;
	}
	if (add_kernel_timeouts(&args, o.cache_ttl) || add_thread_defaults(&args) ||
	    add_mount_args(&args, source ? source : cfg.endpoint, o.nonopt[o.n_nonopt - 1]) ||
	    fuse_parse_cmdline(&args, &cmd) != 0)
		goto out;
	if (cmd.debug)
		log_set_level(LOG_LVL_DEBUG);
	install_intr_signal();
	fuse = fuse_new(&args, fs_operations(), sizeof(struct fuse_operations), &fs);
	if (!fuse || prepare(&fs, &o, &cfg) != 0)
		goto out;
	forget_secrets(&cfg);
	rc = serve(fuse, &fs, &cmd);
out:
	if (fuse)
		fuse_destroy(fuse);
	release(&fs);
	config_free(&cfg);
	free(cmd.mountpoint);
	fuse_opt_free_args(&args);
	free_options(&o);
	ovh_global_cleanup();
	return rc == 0 ? 0 : 1;
}
