/*
 * hook: a command run around a snapshot (ovhsnapfs-auto's --pre and --post).
 *
 * Owns the child: /bin/sh -c CMD in a process group of its own, stdin from
 * /dev/null, stdout to stderr (ovhsnapfs-auto's stdout is its one line per
 * action), the variables the caller adds to its environment, and its time
 * limit: past it, SIGTERM to the whole group, then SIGKILL after HOOK_GRACE
 * seconds; hook_run() returns once the group is gone. For one thread only:
 * it reaps children of the process.
 */
#ifndef OVHSNAPFS_HOOK_H
#define OVHSNAPFS_HOOK_H

#include <stdbool.h>
#include <stddef.h>

#define HOOK_GRACE 3 /* seconds between SIGTERM and SIGKILL */

struct hook_result {
	int status;	/* the shell's wait status */
	bool timed_out; /* killed for the time limit */
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
 * -errno when it could not be started.
 */
int hook_run(const char *cmd, char *const env[], unsigned timeout, struct hook_result *res);
/* Whether it exited with status 0. */
bool hook_ok(const struct hook_result *res);
/* "exit status 3", "killed by signal 9", "timed out after 60 s" into buf. */
void hook_describe(const struct hook_result *res, unsigned timeout, char *buf, size_t len);

#endif
