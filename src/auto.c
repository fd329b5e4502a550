/*
 * ovhsnapfs-auto: labelled snapshots on a schedule, through a mounted ovhsnapfs.
 *
 * For every share under the directories given, it creates one snapshot named
 * P-L-YYYY-MM-DD-HHMM (mkdir), between the --pre and --post hooks (hook), and
 * deletes the oldest P-L snapshots beyond the newest N or outside the
 * --preserve rule (rmdir). It works only on the mounted tree (readdir, stat,
 * reading info.json), so it needs no credentials of its own; what it may
 * touch is decided by autoplan. One line per action on stdout, errors on
 * stderr. With --check it changes nothing: it is a monitoring plugin
 * (autocheck judges, this file prints).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"
#include "autocheck.h"
#include "autoplan.h"
#include "buckets.h"
#include "efs.h"
#include "hook.h"
#include "log.h"
#include "mountinfo.h"
#include "names.h"
#include "utf8.h"

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

/* --check: bad usage is UNKNOWN (3), on stdout, as monitoring plugins do. */
static bool check_mode;

/* A directory given on the command line, placed in the ovhsnapfs tree. */
struct place {
	char *real;  /* canonical path */
	char *fsrel; /* path inside the tree: "" (root), "svc", "svc/share", "svc/share/.snapshots"
		      */
	int depth;
};

/* ---- output ---- */

/* Bytes of the printable character at s (ASCII or valid UTF-8, no controls), or 0. */
static size_t printable(const unsigned char *s, size_t left)
{
	uint32_t cp;
	size_t len = s[0] == '\\' ? 0 : utf8_sequence(s, left, &cp);
	return len && !utf8_is_control(cp) ? len : 0;
}

/* s, with backslashes, controls and invalid UTF-8 as \xHH: one line stays one line. */
static void put_escaped(FILE *f, const char *s)
{
	size_t left = strlen(s);
	for (const unsigned char *p = (const unsigned char *)s; left > 0;) {
		size_t n = printable(p, left);
		if (n == 0) {
			fprintf(f, "\\x%02x", *p++);
			left--;
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
		left -= n;
	}
}

/* "VERB SERVICE/SHARE WHAT" on stdout, flushed so that lines keep their order in a log. */
static void say(const char *verb, const char *share, const char *what)
{
	fputs(verb, stdout);
	putchar(' ');
	put_escaped(stdout, share);
	putchar(' ');
	put_escaped(stdout, what);
	putchar('\n');
	fflush(stdout);
}

/* "<3>" when stderr is the journal (a systemd service): failures show at priority err. */
static const char *err_priority(void)
{
	static int journal = -1;
	if (journal < 0)
		journal = log_fd_is_journal(STDERR_FILENO);
	return journal ? "<3>" : "";
}

/* "ovhsnapfs-auto: WHERE: WHAT [NAME][: reason]" on stderr; the run has failed. */
static void fail(struct run *r, const char *where, const char *what, const char *name,
		 const char *reason)
{
	char *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	if (!f) {
		f = stderr; /* the line, without being kept for --check */
		fprintf(f, "%s" PROG ": ", err_priority());
	}
	put_escaped(f, where);
	fprintf(f, ": %s", what);
	if (name) {
		fputc(' ', f);
		put_escaped(f, name);
	}
	if (reason)
		fprintf(f, ": %s", reason);
	if (f != stderr) {
		if (fclose(f) == 0)
			fprintf(stderr, "%s" PROG ": %s", err_priority(), line);
		if (!r->first_failure)
			r->first_failure = line;
		else
			free(line);
	}
	fputc('\n', stderr);
	r->failed = true;
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	FILE *f = check_mode ? stdout : stderr;
	if (check_mode)
		fputs("UNKNOWN: ", f);
	else
		fprintf(f, "%s" PROG ": ", err_priority());
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputs(check_mode ? "\n" : "\nTry '" PROG " --help'.\n", f);
	exit(check_mode ? AUTOCHECK_UNKNOWN : EXIT_USAGE);
}

/* ---- where a directory is ---- */

/* Length of the part of real that mount point mnt covers, or -1 if it does not. */
static long covers(const char *mnt, const char *real)
{
	size_t len = strlen(mnt);
	if (strcmp(mnt, "/") == 0)
		return 0;
	if (strncmp(real, mnt, len) == 0 && (real[len] == '/' || real[len] == '\0'))
		return (long)len;
	return -1;
}

/*
 * The mount that holds real (the last of the longest mount points: the one
 * on top); when it is an ovhsnapfs mount, the path inside its tree.
 */
static int locate(const char *real, char **fsrel)
{
	FILE *f = fopen(MOUNTINFO_PATH, "re");
	char *line = NULL, *best = NULL;
	size_t cap = 0;
	long best_len = -1;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		struct mountinfo_line m;
		if (mountinfo_parse(line, strcspn(line, "\n"), &m) != 0)
			continue;
		long len = covers(m.point, real);
		if (len < 0 || len < best_len)
			continue;
		best_len = len;
		free(best);
		best = NULL;
		if (strcmp(m.fstype, FSTYPE) == 0) {
			const char *in_root = m.root + strspn(m.root, "/"), *rest = real + len;
			rest += strspn(rest, "/");
			if (asprintf(&best, "%s%s%s", in_root, *in_root && *rest ? "/" : "", rest) <
			    0)
				best = NULL;
		}
	}
	free(line);
	fclose(f);
	*fsrel = best;
	return best ? 0 : -ENOENT;
}

static int count_depth(const char *fsrel)
{
	int depth = *fsrel ? 1 : 0;
	for (const char *p = fsrel; *p; p++)
		depth += *p == '/';
	return depth;
}

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Place DIR in the tree: 0, or -errno when it cannot be reached now (the
 * API failing: reported). Exits 2 when DIR does not exist or is not the
 * root, a service, a share or a .snapshots of an ovhsnapfs mount.
 */
static int place_dir(struct run *r, const char *dir, struct place *out)
{
	char *real = realpath(dir, NULL);
	if (!real && (errno == ENOENT || errno == ENOTDIR || errno == ELOOP))
		usage_error("%s: %s", dir, strerror(errno));
	if (!real) {
		int err = errno;
		fail(r, dir, "cannot open", NULL, strerror(err));
		return -err;
	}
	if (!is_dir(real))
		usage_error("%s: not a directory", dir);
	if (locate(real, &out->fsrel) < 0)
		usage_error("%s: not in an ovhsnapfs mount", dir);
	out->real = real;
	out->depth = count_depth(out->fsrel);
	const char *base = strrchr(out->fsrel, '/');
	base = base ? base + 1 : out->fsrel;
	char *snapdir = NULL;
	bool shape_ok = out->depth < 2 || (out->depth == 3 && strcmp(base, SNAPSHOT_DIR) == 0);
	if (out->depth == 2 && asprintf(&snapdir, "%s/" SNAPSHOT_DIR, real) >= 0)
		shape_ok = is_dir(snapdir);
	free(snapdir);
	if (!shape_ok)
		usage_error("%s: not the mount root, a service, a share or its " SNAPSHOT_DIR, dir);
	return 0;
}

/* ---- reading the tree ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static bool is_subdir(DIR *d, const struct dirent *de)
{
	struct stat st;
	if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
		return false;
	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/* The subdirectories of path, sorted; 0 or -errno. */
static int subdirs(const char *path, char ***out, size_t *n_out)
{
	DIR *d = opendir(path);
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;

	if (!d)
		return -errno;
	errno = 0;
	while ((de = readdir(d))) {
		if (!is_subdir(d, de))
			continue;
		char **grown = realloc(names, (n + 1) * sizeof(*names));
		if (!grown || !(grown[n] = strdup(de->d_name))) {
			names = grown ? grown : names;
			errno = ENOMEM;
			break;
		}
		names = grown;
		n++;
		errno = 0;
	}
	int rc = -errno;
	closedir(d);
	if (rc) {
		free_names(names, n);
		return rc;
	}
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	*out = names;
	*n_out = n;
	return 0;
}

/* One share's snapshots: the plan's input, and what its strings point into. */
struct share {
	const char *label;   /* "SERVICE/SHARE" */
	const char *snapdir; /* its .snapshots */
	char **entries;
	json_t **infos;
	struct autoplan_snap *snaps; /* one more slot, for the snapshot to create */
	size_t n;		     /* snapshots listed */
};

static void share_free(struct share *s)
{
	for (size_t i = 0; i < s->n; i++)
		json_decref(s->infos[i]);
	free_names(s->entries, s->n);
	free(s->infos);
	free(s->snaps);
}

static const char *field(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/*
 * Whether info.json has a createdAt the mount could use: without one, the
 * directory's mtime is only the time the mount started.
 */
static bool created_known(json_t *info)
{
	json_t *created = json_object_get(info, "createdAt");
	time_t t;
	return json_is_string(created) &&
	       strlen(json_string_value(created)) == json_string_length(created) &&
	       efs_parse_time(json_string_value(created), &t) == 0;
}

/* Fill snap from entry's directory and info.json; 0, or -errno. */
static int read_snapshot(const struct share *s, size_t i)
{
	struct autoplan_snap *snap = &s->snaps[i];
	char *path;
	struct stat st;
	json_error_t jerr;

	*snap = (struct autoplan_snap){.entry = s->entries[i]};
	if (asprintf(&path, "%s/%s/" INFO_FILE, s->snapdir, s->entries[i]) < 0)
		return -ENOMEM;
	int rc = 0;
	char *dir = strndup(path, strlen(path) - strlen("/" INFO_FILE));
	if (!dir || stat(dir, &st) != 0)
		rc = dir ? -errno : -ENOMEM;
	else if (!(s->infos[i] = json_load_file(path, 0, &jerr)))
		rc = access(path, R_OK) == 0 ? -EBADMSG : -errno;
	free(dir);
	free(path);
	if (rc)
		return rc;
	snap->created = st.st_mtime;
	snap->created_unknown = !created_known(s->infos[i]);
	snap->name = field(s->infos[i], "name");
	snap->type = field(s->infos[i], "type");
	snap->status = field(s->infos[i], "status");
	return 0;
}

/* List the share's snapshots; 0 or -errno (reported). A snapshot gone meanwhile is skipped. */
static int load_share(struct run *r, struct share *s)
{
	int rc = subdirs(s->snapdir, &s->entries, &s->n);
	if (rc) {
		fail(r, s->label, "cannot list", SNAPSHOT_DIR, strerror(-rc));
		return rc;
	}
	s->infos = calloc(s->n + 1, sizeof(*s->infos));
	s->snaps = calloc(s->n + 1, sizeof(*s->snaps));
	if (!s->infos || !s->snaps) {
		fail(r, s->label, "cannot list", SNAPSHOT_DIR, strerror(ENOMEM));
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->n; i++) {
		rc = read_snapshot(s, i);
		if (rc && rc != -ENOENT)
			fail(r, s->label, "cannot read the info.json of", s->entries[i],
			     strerror(-rc)); /* left alone: its type is unknown */
	}
	return 0;
}

static bool name_present(const struct share *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->entries[i], name) == 0 ||
		    (s->snaps[i].name && strcmp(s->snaps[i].name, name) == 0))
			return true;
	return false;
}

/* ---- acting ---- */

static char *child(const char *dir, const char *name)
{
	char *path;
	return asprintf(&path, "%s/%s", dir, name) < 0 ? NULL : path;
}

/* mkdir the new snapshot: 0 (made, or found made), or -errno (not reported). */
static int create(struct run *r, const struct share *s)
{
	if (r->o.dry_run) {
		say("would create", s->label, r->name);
		return 0;
	}
	char *path = child(s->snapdir, r->name);
	int rc = !path ? -ENOMEM : mkdir(path, 0755) == 0 ? 0 : -errno;
	free(path);
	if (rc == 0)
		say("created", s->label, r->name);
	else if (rc == -EEXIST)
		say("exists", s->label, r->name); /* made meanwhile: not an error */
	return rc == -EEXIST ? 0 : rc;
}

static void create_failed(struct run *r, const struct share *s, int rc, size_t deleted)
{
	char why[640];
	if (rc == -EDQUOT && deleted == 0 && r->o.preserve)
		snprintf(why, sizeof(why),
			 "the share is at the API's limit of %d snapshots, and all its %s-%s "
			 "snapshots are in the periods --preserve keeps",
			 EFS_MAX_SNAPSHOTS, r->o.prefix, r->o.label);
	else if (rc == -EDQUOT && deleted == 0)
		snprintf(why, sizeof(why),
			 "the share is at the API's limit of %d snapshots, and none of its %s-%s "
			 "snapshots beyond the newest %zu can go",
			 EFS_MAX_SNAPSHOTS, r->o.prefix, r->o.label, r->o.keep);
	else if (rc == -EDQUOT)
		snprintf(why, sizeof(why), "the share is still at the API's limit of %d snapshots",
			 EFS_MAX_SNAPSHOTS);
	else
		snprintf(why, sizeof(why), "%s", strerror(-rc));
	fail(r, s->label, "cannot create", r->name, why);
}

/* rmdir every snapshot the plan deletes, oldest first; how many went. */
static size_t prune(struct run *r, const struct share *s, size_t n)
{
	size_t deleted = 0;
	for (size_t i = 0; i < n; i++) {
		const struct autoplan_snap *snap = &s->snaps[i];
		if (snap->verdict != AUTOPLAN_DELETE)
			continue;
		if (r->o.dry_run) {
			say("would delete", s->label, snap->entry);
			deleted++;
			continue;
		}
		char *path = child(s->snapdir, snap->entry);
		int rc = !path ? -ENOMEM : rmdir(path) == 0 ? 0 : -errno;
		free(path);
		if (rc == 0 || rc == -ENOENT) /* gone already: what was asked is done */
			deleted++;
		if (rc == 0)
			say("deleted", s->label, snap->entry);
		else if (rc != -ENOENT)
			fail(r, s->label, "cannot delete", snap->entry, strerror(-rc));
	}
	return deleted;
}

/*
 * Create in a share at the limit, after deleting. The API counts snapshots
 * still being deleted (a mount with wait=0 returns before they are gone):
 * while it refuses for the limit, try again, 1 + 2 + 4 + 8 + 16 s at most.
 */
static int create_after_prune(struct run *r, const struct share *s, size_t deleted)
{
	int rc = create(r, s);
	for (unsigned delay = 1; rc == -EDQUOT && deleted > 0 && delay <= 16; delay *= 2) {
		sleep(delay);
		rc = create(r, s);
	}
	return rc;
}

/* The plan for snaps[0..n): keep the newest N or what --preserve keeps; how many are kept. */
static size_t decide(struct run *r, struct share *s, size_t n)
{
	if (!r->o.preserve)
		return autoplan_decide(s->snaps, n, r->o.prefix, r->o.label, r->o.keep);
	long kept = autoplan_preserve(s->snaps, n, r->o.prefix, r->o.label, &r->o.rule);
	if (kept >= 0)
		return (size_t)kept;
	fail(r, s->label, "cannot plan", NULL, strerror((int)-kept));
	for (size_t i = 0; i < n; i++)
		s->snaps[i].verdict = AUTOPLAN_IGNORE; /* delete nothing */
	return 0;
}

/* "NAME=value" for the hooks' environment, value escaped; NULL when out of memory. */
static char *env_var(const char *name, const char *value, size_t len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return NULL;
	fprintf(f, "%s=%.*s", name, (int)len, value);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Run the --pre or --post hook cmd for share s; whether it ran and exited 0 (reported if not). */
static bool run_hook(struct run *r, const struct share *s, const char *which, const char *cmd,
		     const char *result)
{
	const char *slash = strchr(s->label, '/');
	size_t svc_len = slash ? (size_t)(slash - s->label) : strlen(s->label);
	const char *share = slash ? slash + 1 : "";
	char *env[6] = {
		env_var("OVHSNAPFS_SERVICE", s->label, svc_len),
		env_var("OVHSNAPFS_SHARE", share, strlen(share)),
		env_var("OVHSNAPFS_SNAPSHOT", r->name, strlen(r->name)),
		env_var("OVHSNAPFS_LABEL", r->o.label, strlen(r->o.label)),
		result ? env_var("OVHSNAPFS_RESULT", result, strlen(result)) : NULL,
	};
	struct hook_result res;
	char what[32], why[64];
	int rc = -ENOMEM;

	if (env[0] && env[1] && env[2] && env[3] && (!result || env[4]))
		rc = hook_run(cmd, env, r->o.hook_timeout, &res);
	for (size_t i = 0; i < 5; i++)
		free(env[i]);
	snprintf(what, sizeof(what), "%s hook failed for", which);
	if (rc == 0 && hook_ok(&res))
		return true;
	if (rc)
		snprintf(why, sizeof(why), "%s", strerror(-rc));
	else
		hook_describe(&res, r->o.hook_timeout, why, sizeof(why));
	fail(r, s->label, what, r->name, why);
	return false;
}

/*
 * The snapshot, between the hooks (not run by --dry-run); at the limit, the
 * plan's deletions first (*pruned). 0, or -errno (reported).
 */
static int create_between_hooks(struct run *r, struct share *s, size_t n, bool full, bool *pruned)
{
	bool hooks = !r->o.dry_run;
	int rc = 0;
	if (hooks && r->o.pre && !run_hook(r, s, "pre", r->o.pre, NULL))
		rc = -ECANCELED;
	if (rc == 0 && !full) {
		rc = create(r, s);
		if (rc && rc != -EDQUOT)
			create_failed(r, s, rc, 0);
	}
	if (rc == -EDQUOT || (rc == 0 && full)) {
		size_t deleted = prune(r, s, n);
		*pruned = true;
		rc = create_after_prune(r, s, deleted);
		if (rc)
			create_failed(r, s, rc, deleted);
	}
	if (hooks && r->o.post)
		run_hook(r, s, "post", r->o.post, rc == 0 ? "created" : "failed");
	return rc;
}

/* "ENTRY: hour 2026-12-01T07, day 2026-12-01, ..., newest": the periods that keep snap. */
static char *why_kept(const struct autoplan_snap *snap)
{
	char *text = NULL, label[32];
	size_t size = 0;
	const char *sep = ":";
	FILE *f = open_memstream(&text, &size);
	if (!f)
		return NULL;
	fputs(snap->entry, f);
	for (int k = 0; k < BUCKET_KINDS; k++) {
		enum bucket_kind kind = (enum bucket_kind)k;
		if (!(snap->why & BUCKET_BIT(kind)) ||
		    buckets_label(kind, snap->created, label, sizeof(label)) != 0)
			continue;
		fprintf(f, "%s %s %s", sep, buckets_kind_name(kind), label);
		sep = ",";
	}
	if (snap->why & BUCKET_MIN_BIT)
		fprintf(f, "%s newest", sep);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* --dry-run --preserve: each snapshot kept, and the periods that keep it. */
static void say_why(const struct share *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s->snaps[i].verdict != AUTOPLAN_KEEP)
			continue;
		char *what = why_kept(&s->snaps[i]);
		say("would keep", s->label, what ? what : s->snaps[i].entry);
		free(what);
	}
}

/*
 * Create (between the hooks), then prune; when the share is at the API's
 * limit (counted here, or refused by the API), prune first, then create.
 * When the pre hook or the creation fails, prune as without it.
 */
static void run_share(struct run *r, struct share *s)
{
	bool make = r->o.create && !name_present(s, r->name);
	size_t n = s->n;
	bool pruned = false;
	if (r->o.create && !make)
		say("exists", s->label, r->name);
	if (make)
		s->snaps[n++] =
			(struct autoplan_snap){.entry = r->name, .name = r->name, .is_new = true};
	size_t kept = decide(r, s, n);
	bool full = s->n >= EFS_MAX_SNAPSHOTS;

	if (make) {
		int rc = create_between_hooks(r, s, n, full, &pruned);
		if (rc && pruned) {
			kept--; /* the plan counted it */
		} else if (rc) {
			n--; /* keep those that exist: prune as without it */
			kept = decide(r, s, n);
		}
	}
	if (!pruned)
		prune(r, s, n);
	if (r->o.dry_run && r->o.preserve)
		say_why(s, n);
	char count[32];
	snprintf(count, sizeof(count), "%zu", kept);
	say(r->o.dry_run ? "would keep" : "kept", s->label, count);
}

/* ---- --check ---- */

/*
 * The newest snapshot that counts: with --label, an available manual P-L
 * one (its name's minute when createdAt is unknown); without, any
 * available one whose createdAt is known. Its index, or -1.
 */
static long newest_counting(struct run *r, struct share *s)
{
	long best = -1;
	if (r->o.label) {
		autoplan_decide(s->snaps, s->n, r->o.prefix, r->o.label, s->n);
		for (size_t i = 0; i < s->n; i++)
			if (s->snaps[i].verdict == AUTOPLAN_KEEP)
				best = (long)i; /* sorted oldest first */
		return best;
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct autoplan_snap *snap = &s->snaps[i];
		if (!s->infos[i] || snap->created_unknown ||
		    (snap->status && strcmp(snap->status, "available") != 0))
			continue;
		if (best < 0 || snap->created > s->snaps[best].created)
			best = (long)i;
	}
	return best;
}

/* Judge one share (rc: how listing it went) and keep the verdict for report(). */
static void check_share(struct run *r, struct share *s, int rc)
{
	struct checked c = {.label = strdup(s->label)};
	long best = rc ? -1 : newest_counting(r, s);

	c.seen.unreadable = rc != 0;
	c.seen.free = EFS_MAX_SNAPSHOTS - (long)s->n;
	if (best >= 0) {
		c.seen.found = true;
		c.seen.age = r->now > s->snaps[best].created ? r->now - s->snaps[best].created : 0;
		c.newest = strdup(s->snaps[best].entry);
	}
	c.state = autocheck_judge(&c.seen, &r->o.limits);
	struct checked *grown = realloc(r->checked, (r->n_checked + 1) * sizeof(*grown));
	if (!c.label || (best >= 0 && !c.newest) || !grown) {
		free(c.label);
		free(c.newest);
		r->checked = grown ? grown : r->checked;
		fail(r, s->label, "cannot check", NULL, strerror(ENOMEM));
		return;
	}
	r->checked = grown;
	r->checked[r->n_checked++] = c;
}

/* Whether a is a worse share than b: its state, then the older (or no) snapshot. */
static bool worse_share(const struct checked *a, const struct checked *b)
{
	if (a->state != b->state)
		return autocheck_worse(a->state, b->state);
	if (a->seen.found != b->seen.found)
		return !a->seen.found;
	return a->seen.age > b->seen.age;
}

/* What the plugin line says of one share. */
static void say_share(const struct run *r, const struct checked *c)
{
	char age[32];
	put_escaped(stdout, c->label);
	if (c->seen.unreadable) {
		fputs(": cannot list " SNAPSHOT_DIR, stdout);
		return;
	}
	if (!c->seen.found) {
		if (r->o.label)
			printf(": no %s-%s snapshot", r->o.prefix, r->o.label);
		else
			fputs(": no available snapshot", stdout);
	} else {
		autocheck_format_age(c->seen.age, age, sizeof(age));
		fputs(": newest ", stdout);
		put_escaped(stdout, c->newest);
		printf(" is %s old", age);
	}
	if (r->o.limits.min_free && c->seen.free < r->o.limits.min_free)
		printf(", %ld of %d snapshot slots free", c->seen.free, EFS_MAX_SNAPSHOTS);
}

/* A performance-data label: quoted, quotes doubled, controls escaped. */
static void perf_label(const char *label, const char *suffix)
{
	char *doubled = malloc(2 * strlen(label) + 1), *w = doubled;
	putchar('\'');
	for (const char *p = label; doubled && *p; p++) {
		if (*p == '\'')
			*w++ = '\'';
		*w++ = *p;
	}
	if (doubled) {
		*w = '\0';
		put_escaped(stdout, doubled);
	}
	free(doubled);
	printf("%s'=", suffix);
}

static void perf_data(const struct run *r)
{
	const struct autocheck_limits *l = &r->o.limits;
	fputs(" |", stdout);
	for (size_t i = 0; i < r->n_checked; i++) {
		const struct checked *c = &r->checked[i];
		putchar(' ');
		perf_label(c->label, "");
		if (c->seen.found)
			printf("%llds;%lld;%lld;0", c->seen.age, l->warn, l->crit);
		else
			printf("U;%lld;%lld;0", l->warn, l->crit);
		if (!l->min_free || c->seen.unreadable)
			continue;
		putchar(' ');
		perf_label(c->label, " free");
		printf("%ld;%ld:;;0;%d", c->seen.free, l->min_free, EFS_MAX_SNAPSHOTS);
	}
}

/* The plugin's line; its exit status. */
static int report(struct run *r)
{
	const struct checked *worst = NULL;
	size_t bad = 0;
	for (size_t i = 0; i < r->n_checked; i++) {
		bad += r->checked[i].state != AUTOCHECK_OK;
		if (!worst || worse_share(&r->checked[i], worst))
			worst = &r->checked[i];
	}
	enum autocheck_state state = worst ? worst->state : AUTOCHECK_UNKNOWN;
	if (r->failed && autocheck_worse(AUTOCHECK_UNKNOWN, state))
		state = AUTOCHECK_UNKNOWN;
	printf("%s: ", autocheck_state_name(state));
	if (worst && (state == worst->state || !r->first_failure))
		say_share(r, worst);
	else if (r->first_failure)
		put_escaped(stdout, r->first_failure);
	else
		fputs("no share found", stdout);
	printf(" (%zu share%s", r->n_checked, r->n_checked == 1 ? "" : "s");
	if (bad)
		printf(", %zu not OK", bad);
	putchar(')');
	perf_data(r);
	putchar('\n');
	fflush(stdout);
	return (int)state;
}

/* The share whose .snapshots is snapdir, once per run however often it is reached. */
static void do_share(struct run *r, const char *snapdir, const char *label)
{
	char *real = realpath(snapdir, NULL);
	if (!real) {
		int err = errno;
		fail(r, label, "cannot open", SNAPSHOT_DIR, strerror(err));
		if (r->o.check)
			check_share(r, &(struct share){.label = label}, -err);
		return;
	}
	for (size_t i = 0; i < r->n_done; i++) {
		if (strcmp(r->done[i], real) == 0) {
			free(real);
			return;
		}
	}
	char **grown = realloc(r->done, (r->n_done + 1) * sizeof(*r->done));
	if (!grown) {
		free(real);
		fail(r, label, "cannot open", SNAPSHOT_DIR, strerror(ENOMEM));
		return;
	}
	r->done = grown;
	r->done[r->n_done++] = real;

	struct share s = {.label = label, .snapdir = real};
	int rc = load_share(r, &s);
	if (r->o.check)
		check_share(r, &s, rc);
	else if (rc == 0)
		run_share(r, &s);
	share_free(&s);
}

/* Every share at or below path (depth as in struct place; fsrel names it). */
static void walk(struct run *r, const char *path, const char *fsrel, int depth)
{
	if (depth >= 2) {
		char *snapdir = depth == 2 ? child(path, SNAPSHOT_DIR) : strdup(path);
		char *label = strdup(fsrel);
		if (depth == 3 && label)
			*strrchr(label, '/') = '\0';
		if (snapdir && label)
			do_share(r, snapdir, label);
		else
			fail(r, fsrel, "cannot open", NULL, strerror(ENOMEM));
		free(snapdir);
		free(label);
		return;
	}
	char **names;
	size_t n;
	int rc = subdirs(path, &names, &n);
	if (rc) {
		fail(r, *fsrel ? fsrel : path, "cannot list", NULL, strerror(-rc));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char *sub = child(path, names[i]), *subrel = NULL;
		if (!sub || asprintf(&subrel, "%s%s%s", fsrel, *fsrel ? "/" : "", names[i]) < 0)
			subrel = NULL;
		if (sub && subrel)
			walk(r, sub, subrel, depth + 1);
		else
			fail(r, names[i], "cannot open", NULL, strerror(ENOMEM));
		free(sub);
		free(subrel);
	}
	free_names(names, n);
}

/* ---- command line ---- */

static void show_help(void)
{
	printf("usage: " PROG " [--dry-run] [--prefix P] [--no-create] --label L --keep N DIR...\n"
	       "       " PROG
	       " [...] --label L --preserve 24h,7d,4w,12m [--preserve-min N] DIR...\n"
	       "       " PROG " [...] --pre CMD --post CMD [--hook-timeout S] ...\n"
	       "       " PROG " --check [--prefix P] [--label L] --warn AGE --crit AGE\n"
	       "                      [--min-free N] DIR...\n"
	       "\n"
	       "For every share under each DIR (the mount root, a service, a share or its\n"
	       ".snapshots in an ovhsnapfs mount): create the snapshot P-L-YYYY-MM-DD-HHMM\n"
	       "(UTC), then delete the oldest available, manual P-L-<timestamp> snapshots\n"
	       "beyond the newest N, or outside the periods --preserve keeps. Nothing else\n"
	       "is ever touched.\n"
	       "\n"
	       "    --label L          the schedule's label (hourly, daily, ...)\n"
	       "    --keep N           how many P-L snapshots each share keeps (N >= 1)\n"
	       "    --preserve RULE    instead of --keep: the newest P-L snapshot of each of\n"
	       "                       the last N hours (Nh), days (Nd), ISO weeks (Nw),\n"
	       "                       months (Nm) and years (Ny) that have one\n"
	       "    --preserve-min N   and the newest N whatever their periods (default 1)\n"
	       "    --prefix P         the names' prefix (default: " DEFAULT_PREF ")\n"
	       "    --no-create        only delete\n"
	       "    --pre CMD          run before each share's snapshot (sh -c); failing,\n"
	       "                       no snapshot for that share\n"
	       "    --post CMD         run after it, whatever happened (OVHSNAPFS_RESULT)\n"
	       "    --hook-timeout S   a hook's time limit (default 60)\n"
	       "    --dry-run          print what would be done, change nothing, run no hook\n"
	       "    --check            be a monitoring plugin: judge the age of each share's\n"
	       "                       newest snapshot (of --label L, or any), change nothing\n"
	       "    --warn AGE, --crit AGE  older is WARNING, CRITICAL (90m, 26h, 2d, or s)\n"
	       "    --min-free N       WARNING below N free snapshot slots (of %d)\n"
	       "    -h, --help         this help\n"
	       "    -V, --version      the version\n"
	       "\n"
	       "P and L hold only letters, digits, '_' and '.'. Exit status: 0 when all was\n"
	       "done, 1 when anything failed, 2 on bad usage; with --check 0, 1, 2, 3 for\n"
	       "OK, WARNING, CRITICAL, UNKNOWN. See " PROG "(1).\n",
	       EFS_MAX_SNAPSHOTS);
}

/* A whole number from 1 to max, or a usage error naming opt. */
static unsigned long long parse_number(const char *opt, const char *text, unsigned long long min,
				       unsigned long long max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (*text < '0' || *text > '9' || *end || errno || v < min || v > max)
		usage_error("%s: '%s' is not a number from %llu to %llu", opt, text, min, max);
	return v;
}

static size_t parse_keep(const char *text)
{
	return (size_t)parse_number("--keep", text, 1, 1000000);
}

static void check_word(const char *opt, const char *word)
{
	if (!autoplan_word_ok(word))
		usage_error("%s: '%s': use only letters, digits, '_' and '.'", opt, word);
}

/* The options' texts, checked once all are read. */
struct texts {
	const char *keep, *preserve, *preserve_min, *hook_timeout, *warn, *crit, *min_free;
};

static const struct option longopts[] = {
	{"dry-run", no_argument, NULL, 'n'},
	{"no-create", no_argument, NULL, 'N'},
	{"prefix", required_argument, NULL, 'p'},
	{"label", required_argument, NULL, 'l'},
	{"keep", required_argument, NULL, 'k'},
	{"preserve", required_argument, NULL, 'P'},
	{"preserve-min", required_argument, NULL, 'M'},
	{"pre", required_argument, NULL, 'b'},
	{"post", required_argument, NULL, 'a'},
	{"hook-timeout", required_argument, NULL, 't'},
	{"check", no_argument, NULL, 'c'},
	{"warn", required_argument, NULL, 'w'},
	{"crit", required_argument, NULL, 'C'},
	{"min-free", required_argument, NULL, 'f'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0},
};

/* One option; false when c is none of ours. */
static bool set_option(int c, struct options *o, struct texts *t)
{
	const char *arg = optarg;
	switch (c) {
	case 'n':
		o->dry_run = true;
		break;
	case 'N':
		o->create = false;
		break;
	case 'p':
		o->prefix = arg;
		break;
	case 'l':
		o->label = arg;
		break;
	case 'k':
		t->keep = arg;
		break;
	case 'P':
		t->preserve = arg;
		break;
	case 'M':
		t->preserve_min = arg;
		break;
	case 'b':
		o->pre = arg;
		break;
	case 'a':
		o->post = arg;
		break;
	case 't':
		t->hook_timeout = arg;
		break;
	case 'c':
		o->check = check_mode = true;
		break;
	case 'w':
		t->warn = arg;
		break;
	case 'C':
		t->crit = arg;
		break;
	case 'f':
		t->min_free = arg;
		break;
	default:
		return false;
	}
	return true;
}

static long long parse_age(const char *opt, const char *text)
{
	long long v;
	if (!text)
		usage_error("%s is required", opt);
	if (autocheck_parse_age(text, &v))
		usage_error("%s: '%s' is not an age (90m, 26h, 2d, 1w, or seconds)", opt, text);
	return v;
}

/* --check's options, and none of the others. */
static void check_check_options(struct options *o, const struct texts *t)
{
	if (t->keep || t->preserve || t->preserve_min || o->pre || o->post || t->hook_timeout ||
	    !o->create || o->dry_run)
		usage_error("--check takes only --prefix, --label, --warn, --crit and --min-free");
	check_word("--prefix", o->prefix);
	if (o->label)
		check_word("--label", o->label);
	o->limits.warn = parse_age("--warn", t->warn);
	o->limits.crit = parse_age("--crit", t->crit);
	if (o->limits.warn > o->limits.crit)
		usage_error("--warn is longer than --crit");
	if (t->min_free)
		o->limits.min_free =
			(long)parse_number("--min-free", t->min_free, 1, EFS_MAX_SNAPSHOTS);
}

/* A run's options: the label and one rule of retention, hooks. */
static void check_run_options(struct options *o, const struct texts *t)
{
	if (t->warn || t->crit || t->min_free)
		usage_error("--warn, --crit and --min-free go with --check");
	if (!o->label)
		usage_error("--label is required");
	if (t->keep && t->preserve)
		usage_error("--keep and --preserve exclude each other");
	if (!t->keep && !t->preserve)
		usage_error("--keep or --preserve is required");
	check_word("--prefix", o->prefix);
	check_word("--label", o->label);
	if (t->keep && t->preserve_min)
		usage_error("--preserve-min goes with --preserve");
	if (t->keep)
		o->keep = parse_keep(t->keep);
	o->preserve = t->preserve != NULL;
	if (o->preserve && buckets_parse(t->preserve, &o->rule))
		usage_error("--preserve: '%s' is not like 24h,7d,4w,12m,1y", t->preserve);
	o->rule.min = t->preserve_min
			      ? (size_t)parse_number("--preserve-min", t->preserve_min, 0, 1000000)
			      : 1;
	o->hook_timeout = t->hook_timeout ? (unsigned)parse_number("--hook-timeout",
								   t->hook_timeout, 1, 86400)
					  : HOOK_TIMEOUT;
}

/* Parse argv into o; returns the index of the first DIR. Exits on bad usage. */
static int parse_args(int argc, char **argv, struct options *o)
{
	struct texts t = {0};
	int c;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		check_mode = check_mode || strcmp(argv[i], "--check") == 0;
	*o = (struct options){.prefix = DEFAULT_PREF, .create = true};
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		if (set_option(c, o, &t))
			continue;
		if (c == 'h') {
			show_help();
			exit(0);
		}
		if (c == 'V') {
			printf(PROG " " PACKAGE_VERSION "\n");
			exit(0);
		}
		if (check_mode)
			usage_error("bad option (see " PROG " --help)");
		fputs("Try '" PROG " --help'.\n", stderr);
		exit(EXIT_USAGE);
	}
	check_mode = o->check; /* the scan above may have taken a value for the option */
	if (o->check)
		check_check_options(o, &t);
	else
		check_run_options(o, &t);
	if (optind >= argc)
		usage_error("no DIR given");
	return optind;
}

/* Every DIR is checked before anything is done; then each is walked. */
static void walk_dirs(struct run *r, char **dirs, size_t n)
{
	struct place *places = calloc(n, sizeof(*places));
	if (!places) {
		fail(r, PROG, "cannot start", NULL, strerror(ENOMEM));
		return;
	}
	for (size_t i = 0; i < n; i++)
		place_dir(r, dirs[i], &places[i]);
	for (size_t i = 0; i < n; i++) {
		if (places[i].real)
			walk(r, places[i].real, places[i].fsrel, places[i].depth);
		free(places[i].real);
		free(places[i].fsrel);
	}
	free(places);
}

static void free_run(struct run *r)
{
	for (size_t i = 0; i < r->n_checked; i++) {
		free(r->checked[i].label);
		free(r->checked[i].newest);
	}
	free(r->checked);
	free(r->first_failure);
	free_names(r->done, r->n_done);
}

int main(int argc, char **argv)
{
	struct run r = {0};
	int first = parse_args(argc, argv, &r.o), rc = 0;
	r.now = time(NULL);
	if (!r.o.check) {
		rc = autoplan_name(r.name, sizeof(r.name), r.o.prefix, r.o.label, r.now);
		if (rc)
			usage_error("%s-%s-YYYY-MM-DD-HHMM: %s", r.o.prefix, r.o.label,
				    strerror(-rc));
	}
	rc = (r.o.pre || r.o.post) && !r.o.dry_run ? hook_init() : 0;
	if (rc)
		fail(&r, PROG, "cannot reap the hooks' children", NULL, strerror(-rc));

	walk_dirs(&r, argv + first, (size_t)(argc - first));
	int status = r.o.check ? report(&r) : r.failed ? 1 : 0;
	free_run(&r);
	return status;
}
