/*
 * freshness: with -o metrics_file=, every share's snapshot listing is read
 * again at least every metrics_refresh seconds, so that the freshness
 * gauges (status.h) cover every share without anyone running ls.
 *
 * Owns one thread. Each tick (metrics_refresh / (listings + 1) seconds,
 * between 1 and 10) it loads at most one listing, the oldest of those older
 * than the period or never loaded: the services, each service's shares,
 * each share's snapshots. Loads go through the cache and the API client's
 * rate limit, one at a time: never a burst. Thread-safe.
 */
#ifndef OVHSNAPFS_FRESHNESS_H
#define OVHSNAPFS_FRESHNESS_H

#include "tree.h"

struct freshness;

/* Start the thread (after the daemon forks); NULL when it cannot. */
struct freshness *freshness_start(struct tree *tree, double period);
/* Stop the thread (after op_shutdown: a load under way ends) and free. NULL is fine. */
void freshness_stop(struct freshness *freshness);

#endif
