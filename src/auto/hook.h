/*
 * hook: a command run around a snapshot (ovhsnapfs-auto's --pre and --post).
 *
 * Owns the child: /bin/sh -c CMD in a process group of its own, stdin from
 * /dev/null, stdout to stderr (ovhsnapfs-auto's stdout is its one line per
 * action), the variables the caller adds to its environment, and its time
 * limit: past it, SIGTERM to the whole group, then SIGKILL after HOOK_GRACE
 * seconds. The limit bounds the group, not only the shell: members left
 * running after the shell exits (a background child holding the caller's
 * stderr) are waited for until the limit, then killed the same way. Every
 * wait is a poll to a deadline: hook_run() returns at the latest
 * HOOK_GRACE + HOOK_REAP_BOUND seconds past the limit, even when a member
 * cannot die (stuck in D state). For one thread only: it reaps children of
 * the process.
 */
#ifndef OVHSNAPFS_HOOK_H
#define OVHSNAPFS_HOOK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define HOOK_GRACE	3 /* seconds between SIGTERM and SIGKILL */
#define HOOK_REAP_BOUND 2 /* seconds the SIGKILLed group may take to go */

struct hook_result {
	int status;	/* the shell's wait status */
	bool timed_out; /* killed for the time limit */
	bool stopped;	/* killed because *stop became non-zero */
};

/*
 * Make the process a child subreaper, so that what a hook leaves behind
 * (its grandchildren) is reaped here and a group known to be gone; 0 or
 * -errno.
 */
int hook_init(void);
/*
 * Run cmd with env ("NAME=value" strings, NULL-terminated) added to the
 * environment, for at most timeout seconds; 0 (res says how it ended) or
 * -errno when it could not be started. When stop is not NULL and *stop
 * becomes non-zero (a signal handler's flag), the group is ended at once as
 * at the limit (within 20 ms of the signal); with stop NULL, signals do not
 * shorten the hook.
 */
int hook_run(const char *cmd, char *const env[], unsigned timeout,
	     const volatile sig_atomic_t *stop, struct hook_result *res);
/* Whether it exited with status 0. */
bool hook_ok(const struct hook_result *res);
/* "exit status 3", "killed by signal 9", "timed out after 60 s", "interrupted" into buf. */
void hook_describe(const struct hook_result *res, unsigned timeout, char *buf, size_t len);

#endif
