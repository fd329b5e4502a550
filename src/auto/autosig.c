/*
 * autosig: SIGTERM, SIGINT and SIGHUP ask ovhsnapfs-auto to stop.
 *
 * The handlers only note the signal (auto_stop) and are installed without
 * SA_RESTART, so that the step under way ends at once: mkdir and rmdir in the
 * mount return EINTR (the daemon honours FUSE interrupts), sleep() and the
 * hooks' polls return early. autorun then runs the post hook it owes (not
 * stoppable) and the run ends with autosig_exit().
 *
 * SIGPIPE is ignored.
 *
 * A signal that comes between the look at auto_stop and the start of the
 * mkdir or rmdir (autosig_call_begin .. _end) would not interrupt it: then
 * the handler arms a timer whose SIGALRM, every 100 ms until the call
 * returns, interrupts it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "auto.h"
#include "progress.h"

volatile sig_atomic_t auto_stop;

static const int stop_signals[] = {SIGTERM, SIGINT, SIGHUP};

static volatile sig_atomic_t in_call; /* between autosig_call_begin and _end */

/* Every 100 ms (on) or never. setitimer is a plain system call: safe in a handler. */
static void kicks(bool on)
{
	struct itimerval it = {{0, on ? 100000 : 0}, {0, on ? 100000 : 0}};
	int saved = errno;
	setitimer(ITIMER_REAL, &it, NULL);
	errno = saved;
}

static void on_stop(int sig)
{
	if (!auto_stop)
		auto_stop = sig;
	if (in_call)
		kicks(true);
}

static void on_kick(int sig)
{
	(void)sig; /* it only ends the blocking call under way (EINTR) */
}

int autosig_call_begin(void)
{
	in_call = 1;
	return auto_stop ? -EINTR : 0;
}

void autosig_call_end(void)
{
	in_call = 0;
	kicks(false);
}

const char *autosig_name(int sig)
{
	return sig == SIGTERM  ? "SIGTERM"
	       : sig == SIGINT ? "SIGINT"
	       : sig == SIGHUP ? "SIGHUP"
			       : "a signal";
}

int autosig_init(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(*stop_signals); i++)
		sigaddset(&sa.sa_mask, stop_signals[i]);
	sa.sa_flags = 0; /* no SA_RESTART: a blocking call returns EINTR */
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(*stop_signals); i++)
		if (sigaction(stop_signals[i], &sa, NULL) != 0)
			return -1;
	sa.sa_handler = on_kick;
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		return -1;
	/*
	 * A reader of stdout gone (Ctrl-C reaches "| tee" too) must not end the
	 * run between the hooks: writes fail with EPIPE instead (hooks get
	 * SIGPIPE back, hook.c).
	 */
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

void autosig_exit(void)
{
	int sig = auto_stop;
	sigset_t set;
	progress_hide(auto_progress);
	fprintf(stderr, PROG ": stopped by %s\n", autosig_name(sig));
	fflush(stdout);
	fflush(stderr);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig); /* not reached: the default action ends the process */
}
