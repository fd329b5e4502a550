/*
 * progress: one updating line on stderr while a long task runs, for the
 * tools (ovhsnapfs-versions' --restore and --diff, ovhsnapfs-auto's share line).
 *
 * Owns whether to show it (stderr is a terminal and the user did not ask
 * for quiet), how often (the first count at once, then at most five times a
 * second), and its text: "WHAT: N UNIT, SIZE, RATE/s", or "WHAT: TEXT" for
 * a caller that says where it is (ovhsnapfs-auto's "share N: NAME"),
 * rewritten in place with "\r" and erased at the end, so that nothing of it
 * stays in the terminal or ever reaches a file or a pipe. Other output on
 * the terminal goes between progress_hide and progress_show. Not thread-safe: callers that
 * count from several threads hold their own lock around progress_update.
 */
#ifndef OVHSNAPFS_PROGRESS_H
#define OVHSNAPFS_PROGRESS_H

#include <stdbool.h>

struct progress;

/*
 * A progress line about what (such as "restoring"), counting unit (such as
 * "files"); NULL (every call then does nothing) when quiet, when stderr is
 * no terminal, or when memory runs out.
 */
struct progress *progress_new(const char *what, const char *unit, bool quiet);
/* items done so far and bytes (0: no size shown). */
void progress_update(struct progress *p, unsigned long long items, unsigned long long bytes);
/* Show "WHAT: text" at once (text printable, kept for progress_show). */
void progress_text(struct progress *p, const char *text);
/* Erase the line before other output; true when it was shown. */
bool progress_hide(struct progress *p);
/* Draw the last text again (nothing before progress_text). */
void progress_show(struct progress *p);
/* Erase the line and free p. */
void progress_end(struct progress *p);

#endif
