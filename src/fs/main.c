/*
 * ovhsnapfs: OVHcloud Enterprise File Storage snapshots as a filesystem.
 *
 * main: the checks made before anything is mounted (the options' own are
 * options.h's), the FUSE session's life cycle and its signals.
 */
#include "fs.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cache.h"
#include "check.h"
#include "config.h"
#include "log.h"
#include "mountwatch.h"
#include "options.h"
#include "ovh.h"

/* For the signal handlers only: signals cannot carry a context. */
static struct ovhsnapfs *signal_fs;
/* The thread in libfuse's loop: on_detached interrupts its wait. */
static pthread_t main_thread;
/* libfuse's own SIGINT and SIGTERM handlers, which ours call after op_shutdown. */
static void (*fuse_handler[NSIG])(int);

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
	int rc = options_parse(&args, &o);

	if (rc != 0) {
		rc = rc > 0 ? 0 : -1; /* --help and --version end here, successfully */
		goto out;
	}
	rc = -1;
	if (options_endpoint(&o, &endpoint, &source) != 0)
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
	options_free(&o);
	ovh_global_cleanup();
	return rc == 0 ? 0 : 1;
}
