/*
 * autosig: SIGTERM, SIGINT and SIGHUP ask ovhsnapfs-auto to stop.
 *
 * The handlers only note the signal (auto_stop) and are installed without
 * SA_RESTART, so that the step under way ends at once: mkdir and rmdir in the
 * mount return EINTR (the daemon honours FUSE interrupts), sleep() and the
 * hooks' polls return early. autorun then runs the post hook it owes (not
 * stoppable) and the run ends with autosig_exit().
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auto.h"

volatile sig_atomic_t auto_stop;

static const int stop_signals[] = {SIGTERM, SIGINT, SIGHUP};

static void on_stop(int sig)
{
	if (!auto_stop)
		auto_stop = sig;
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
	return 0;
}

void autosig_exit(void)
{
	int sig = auto_stop;
	sigset_t set;
	progress_clear();
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
