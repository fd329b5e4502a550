/* hook: one command, in its own process group, bounded in time. */
#include "hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define POLL_NS 20000000L /* 20 ms between looks at the children */

int hook_init(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 ? 0 : -errno;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_a_little(void)
{
	struct timespec ts = {0, POLL_NS};
	nanosleep(&ts, NULL);
}

/* In the child: never returns. */
static void exec_hook(const char *cmd, char *const env[])
{
	setpgid(0, 0);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0)
		_exit(126);
	for (size_t i = 0; env && env[i]; i++)
		if (putenv(env[i]) != 0)
			_exit(126);
	signal(SIGPIPE, SIG_DFL);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* Reap what of the group has ended; note the leader's status. */
static void reap(pid_t pgid, int *status, bool *leader_done)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-pgid, &st, WNOHANG)) > 0) {
		if (pid == pgid) {
			*status = st;
			*leader_done = true;
		}
	}
}

static bool group_alive(pid_t pgid)
{
	return kill(-pgid, 0) == 0 || errno == EPERM;
}

/* Reap the group until it is gone or seconds have passed; whether it is gone. */
static bool reap_until_gone(pid_t pgid, double seconds, int *status, bool *leader_done)
{
	double end = now() + seconds;
	for (;;) {
		reap(pgid, status, leader_done);
		if (!group_alive(pgid))
			return true;
		if (now() >= end)
			return false;
		pause_a_little();
	}
}

/* Past the limit: SIGTERM to the group, SIGKILL after the grace, until it is gone. */
static void stop_group(pid_t pgid, int *status, bool *leader_done)
{
	kill(-pgid, SIGTERM);
	if (reap_until_gone(pgid, HOOK_GRACE, status, leader_done))
		return;
	kill(-pgid, SIGKILL);
	reap_until_gone(pgid, HOOK_REAP_BOUND, status, leader_done);
}

/*
 * Until the group is gone, the limit passes or *stop is set; a nanosleep cut
 * by a signal only makes the next look sooner.
 */
static void watch(pid_t pgid, double deadline, const volatile sig_atomic_t *stop,
		  struct hook_result *res, bool *leader_done)
{
	for (;;) {
		reap(pgid, &res->status, leader_done);
		if (*leader_done && !group_alive(pgid))
			return;
		if (stop && *stop) {
			res->stopped = !*leader_done;
			return;
		}
		if (now() >= deadline) {
			res->timed_out = !*leader_done; /* else: what it left behind */
			return;
		}
		pause_a_little();
	}
}

int hook_run(const char *cmd, char *const env[], unsigned timeout,
	     const volatile sig_atomic_t *stop, struct hook_result *res)
{
	bool leader_done = false;
	double deadline = now() + timeout;

	*res = (struct hook_result){0};
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		exec_hook(cmd, env);
	setpgid(pid, pid); /* the child does it too: whichever comes first */
	watch(pid, deadline, stop, res, &leader_done);
	if (group_alive(pid))
		stop_group(pid, &res->status, &leader_done);
	if (!leader_done) /* not waited for: cannot be, within the bound */
		res->status = SIGKILL;
	return 0;
}

bool hook_ok(const struct hook_result *res)
{
	return !res->timed_out && !res->stopped && WIFEXITED(res->status) &&
	       WEXITSTATUS(res->status) == 0;
}

void hook_describe(const struct hook_result *res, unsigned timeout, char *buf, size_t len)
{
	if (res->timed_out)
		snprintf(buf, len, "timed out after %u s", timeout);
	else if (res->stopped)
		snprintf(buf, len, "interrupted");
	else if (WIFEXITED(res->status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(res->status));
	else if (WIFSIGNALED(res->status))
		snprintf(buf, len, "killed by signal %d", WTERMSIG(res->status));
	else
		snprintf(buf, len, "wait status %d", res->status);
}
