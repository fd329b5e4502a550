/*
 * check: the start-up checks, run before anything is mounted and by --check.
 *
 * Owns the one-line diagnoses a failed start prints (what is wrong and what
 * to do) and the --check report. Single-threaded, at start-up only.
 */
#ifndef OVHSNAPFS_CHECK_H
#define OVHSNAPFS_CHECK_H

#include <stdio.h>

#include "config.h"
#include "tree.h"

/* The one line a failed start leaves on stderr. */
void check_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Reach the endpoint and make one authenticated call (the service listing,
 * which stays cached). On failure prints one line and returns -errno.
 */
int check_api(struct tree *tree, const struct ovh_config *cfg);

/* The --check report of a successful check_api. */
void check_report(FILE *out, struct tree *tree, const struct ovh_config *cfg);

#endif
