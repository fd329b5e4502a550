/*
 * auto: what the modules of ovhsnapfs-auto share (not a library header).
 *
 * auto.c places the DIRs and walks them, autoopts.c reads the command line,
 * autotree.c reads a share's .snapshots, autorun.c acts on one share (the
 * hooks, mkdir, rmdir), autoreport.c is --check's line. One thread.
 */
#ifndef OVHSNAPFS_AUTO_H
#define OVHSNAPFS_AUTO_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "autocheck.h"
#include "autoplan.h"
#include "buckets.h"
#include "names.h"

#define PROG	     "ovhsnapfs-auto"
#define EXIT_USAGE   2
#define FSTYPE	     "fuse.ovhsnapfs"
#define DEFAULT_PREF "auto"
#define HOOK_TIMEOUT 60

struct options {
	const char *prefix, *label;
	size_t keep;
	bool preserve; /* --preserve: rule, not keep */
	struct buckets rule;
	const char *pre, *post; /* hooks, or NULL */
	unsigned hook_timeout;
	bool dry_run, create;
	bool quiet; /* -q: no progress line on a terminal */
	bool check; /* --check: judge, change nothing */
	struct autocheck_limits limits;
};

/* One share judged by --check. */
struct checked {
	char *label;  /* "SERVICE/SHARE" */
	char *newest; /* its newest snapshot that counts, or NULL */
	struct autocheck_share seen;
	enum autocheck_state state;
};

struct run {
	struct options o;
	char name[NAME_MAX_BYTES + 1]; /* the snapshot this run creates */
	bool failed;
	char *first_failure; /* --check: what made it UNKNOWN */
	char **done;	     /* real paths of the .snapshots already handled */
	size_t n_done;
	struct checked *checked;
	size_t n_checked;
	time_t now;
};

/* One share's snapshots: the plan's input, and what its strings point into. */
struct share {
	const char *label;   /* "SERVICE/SHARE" */
	const char *snapdir; /* its .snapshots */
	char **entries;
	json_t **infos;
	struct autoplan_snap *snaps; /* one more slot, for the snapshot to create */
	size_t n;		     /* snapshots listed */
};

/* --check: bad usage is UNKNOWN (3), on stdout, as monitoring plugins do. */
extern bool check_mode;

/* s, with backslashes, controls and invalid UTF-8 as \xHH: one line stays one line. */
void put_escaped(FILE *f, const char *s);
/* The same, and the ASCII characters of also as \xHH too (--check: "|", "="). */
void put_text(FILE *f, const char *s, const char *also);
/* "VERB SERVICE/SHARE WHAT" on stdout, flushed so that lines keep their order in a log. */
/* "<3>" before a failure line when stderr is the journal (priority err), else "". */
const char *err_priority(void);
void say(const char *verb, const char *share, const char *what);
/* "ovhsnapfs-auto: WHERE: WHAT [NAME][: reason]" on stderr; the run has failed. */
void fail(struct run *r, const char *where, const char *what, const char *name, const char *reason);
/* The progress line on a terminal (progress.h), "share N: NAME"; NULL when off. */
struct progress;
extern struct progress *auto_progress;
/* Bad usage: the message, then exit 2 (--check: UNKNOWN, 3). */
void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* autoopts: parse argv into o; the index of the first DIR. Exits on bad usage. */
int auto_parse_args(int argc, char **argv, struct options *o);

/* autotree */
char *child(const char *dir, const char *name);
void free_names(char **names, size_t n);
/* The subdirectories of path, sorted; 0 or -errno. */
int subdirs(const char *path, char ***out, size_t *n_out);
/* List the share's snapshots; 0 or -errno (reported). */
int load_share(struct run *r, struct share *s);
void share_free(struct share *s);
bool name_present(const struct share *s, const char *name);

/* autosig: the stop signal caught (SIGTERM, SIGINT, SIGHUP), or 0. */
extern volatile sig_atomic_t auto_stop;
/* Catch them, without SA_RESTART, and ignore SIGPIPE; 0 or -1 (errno set). */
int autosig_init(void);
/*
 * Around a mkdir or rmdir: -EINTR when stopped already (do not start it),
 * else 0, and a stop signal from then on interrupts it even if it comes
 * before the call has begun to wait; _end after the call, whatever begin said.
 */
int autosig_call_begin(void);
void autosig_call_end(void);
/* "SIGTERM". */
const char *autosig_name(int sig);
/* End as killed by auto_stop (the default action re-raised): never returns. */
void autosig_exit(void) __attribute__((noreturn));

/* autorun: create (between the hooks), then prune. */
void run_share(struct run *r, struct share *s);

/* autoreport: judge one share (rc: how listing it went); the plugin's line and status. */
void check_share(struct run *r, struct share *s, int rc);
int report(struct run *r);

#endif
