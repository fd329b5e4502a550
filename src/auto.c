/*
 * ovhsnapfs-auto: labelled snapshots on a schedule, through a mounted ovhsnapfs.
 *
 * For every share under the directories given, it creates one snapshot named
 * P-L-YYYY-MM-DD-HHMM (mkdir) and deletes the oldest P-L snapshots beyond the
 * newest N (rmdir). It works only on the mounted tree (readdir, stat, reading
 * info.json), so it needs no credentials of its own; what it may touch is
 * decided by autoplan. One line per action on stdout, errors on stderr.
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
#include "autoplan.h"
#include "efs.h"
#include "names.h"

#define PROG	     "ovhsnapfs-auto"
#define EXIT_USAGE   2
#define MOUNTINFO    "/proc/self/mountinfo"
#define FSTYPE	     "fuse.ovhsnapfs"
#define DEFAULT_PREF "auto"

struct options {
	const char *prefix, *label;
	size_t keep;
	bool dry_run, create;
};

struct run {
	struct options o;
	char name[NAME_MAX_BYTES + 1]; /* the snapshot this run creates */
	bool failed;
	char **done; /* real paths of the .snapshots already handled */
	size_t n_done;
};

/* A directory given on the command line, placed in the ovhsnapfs tree. */
struct place {
	char *real;  /* canonical path */
	char *fsrel; /* path inside the tree: "" (root), "svc", "svc/share", "svc/share/.snapshots"
		      */
	int depth;
};

/* ---- output ---- */

/* Bytes of the printable character at s (ASCII or valid UTF-8, no controls), or 0. */
static size_t printable(const unsigned char *s)
{
	if (s[0] >= 0x20 && s[0] < 0x7f)
		return s[0] == '\\' ? 0 : 1;
	size_t len = s[0] >= 0xc2 && s[0] <= 0xdf   ? 2
		     : (s[0] & 0xf0) == 0xe0	    ? 3
		     : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
						    : 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xc2 && s[1] < 0xa0) ||  /* C1 controls */
	    (s[0] == 0xe0 && s[1] < 0xa0) ||  /* overlong */
	    (s[0] == 0xed && s[1] >= 0xa0) || /* surrogates */
	    (s[0] == 0xf0 && s[1] < 0x90) ||  /* overlong */
	    (s[0] == 0xf4 && s[1] >= 0x90))   /* beyond U+10FFFF */
		return 0;
	return len;
}

/* s, with backslashes, controls and invalid UTF-8 as \xHH: one line stays one line. */
static void put_escaped(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		size_t n = printable(p);
		if (n == 0) {
			fprintf(f, "\\x%02x", *p++);
			continue;
		}
		fwrite(p, 1, n, f);
		p += n;
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

/* "ovhsnapfs-auto: WHERE: WHAT [NAME][: reason]" on stderr; the run has failed. */
static void fail(struct run *r, const char *where, const char *what, const char *name,
		 const char *reason)
{
	fputs(PROG ": ", stderr);
	put_escaped(stderr, where);
	fprintf(stderr, ": %s", what);
	if (name) {
		fputc(' ', stderr);
		put_escaped(stderr, name);
	}
	if (reason)
		fprintf(stderr, ": %s", reason);
	fputc('\n', stderr);
	r->failed = true;
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" PROG " --help'.\n", stderr);
	exit(EXIT_USAGE);
}

/* ---- where a directory is ---- */

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_octal(char *s)
{
	char *w = s;
	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*w++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else
			*w++ = *p;
	}
	*w = '\0';
}

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
	FILE *f = fopen(MOUNTINFO, "re");
	char *line = NULL, *best = NULL;
	size_t cap = 0;
	long best_len = -1;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		char root[4096], mnt[4096], *sep = strstr(line, " - ");
		char fstype[256];
		if (!sep || sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) != 2 ||
		    sscanf(sep + 3, "%255s", fstype) != 1)
			continue;
		unescape_octal(root);
		unescape_octal(mnt);
		long len = covers(mnt, real);
		if (len < 0 || len < best_len)
			continue;
		best_len = len;
		free(best);
		best = NULL;
		if (strcmp(fstype, FSTYPE) == 0) {
			const char *in_root = root + strspn(root, "/"), *rest = real + len;
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
	if (rc == -EDQUOT && deleted == 0)
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

/*
 * Create, then prune; when the share is at the API's limit (counted here,
 * or refused by the API), prune first, then create.
 */
static void run_share(struct run *r, struct share *s)
{
	bool make = r->o.create && !name_present(s, r->name);
	size_t n = s->n;
	if (r->o.create && !make)
		say("exists", s->label, r->name);
	if (make)
		s->snaps[n++] =
			(struct autoplan_snap){.entry = r->name, .name = r->name, .is_new = true};
	size_t kept = autoplan_decide(s->snaps, n, r->o.prefix, r->o.label, r->o.keep);
	bool full = s->n >= EFS_MAX_SNAPSHOTS;
	int rc = 0;

	if (make && !full) {
		rc = create(r, s);
		if (rc == -EDQUOT) {
			full = true;
		} else if (rc) {
			create_failed(r, s, rc, 0);
			make = false; /* keep N of those that exist: prune as without it */
			n--;
			kept = autoplan_decide(s->snaps, n, r->o.prefix, r->o.label, r->o.keep);
		}
	}
	size_t deleted = prune(r, s, n);
	if (make && full) {
		rc = create_after_prune(r, s, deleted);
		if (rc) {
			create_failed(r, s, rc, deleted);
			kept--;
		}
	}
	char count[32];
	snprintf(count, sizeof(count), "%zu", kept);
	say(r->o.dry_run ? "would keep" : "kept", s->label, count);
}

/* The share whose .snapshots is snapdir, once per run however often it is reached. */
static void do_share(struct run *r, const char *snapdir, const char *label)
{
	char *real = realpath(snapdir, NULL);
	if (!real) {
		fail(r, label, "cannot open", SNAPSHOT_DIR, strerror(errno));
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
	if (load_share(r, &s) == 0)
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
	       "\n"
	       "For every share under each DIR (the mount root, a service, a share or its\n"
	       ".snapshots in an ovhsnapfs mount): create the snapshot P-L-YYYY-MM-DD-HHMM\n"
	       "(UTC), then delete the oldest available, manual P-L-<timestamp> snapshots\n"
	       "beyond the newest N. Nothing else is ever touched.\n"
	       "\n"
	       "    --label L      the schedule's label (hourly, daily, ...)\n"
	       "    --keep N       how many P-L snapshots each share keeps (N >= 1)\n"
	       "    --prefix P     the names' prefix (default: " DEFAULT_PREF ")\n"
	       "    --no-create    only delete\n"
	       "    --dry-run      print what would be done, change nothing\n"
	       "    -h, --help     this help\n"
	       "    -V, --version  the version\n"
	       "\n"
	       "P and L hold only letters, digits, '_' and '.'. Exit status: 0 when all was\n"
	       "done, 1 when anything failed, 2 on bad usage. See " PROG "(1).\n");
}

static size_t parse_keep(const char *text)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (*text < '0' || *text > '9' || *end || errno || v < 1 || v > 1000000)
		usage_error("--keep: '%s' is not a number from 1 to 1000000", text);
	return (size_t)v;
}

static void check_word(const char *opt, const char *word)
{
	if (!autoplan_word_ok(word))
		usage_error("%s: '%s': use only letters, digits, '_' and '.'", opt, word);
}

/* Parse argv into o; returns the index of the first DIR. Exits on bad usage. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{"dry-run", no_argument, NULL, 'n'},	  {"no-create", no_argument, NULL, 'N'},
		{"prefix", required_argument, NULL, 'p'}, {"label", required_argument, NULL, 'l'},
		{"keep", required_argument, NULL, 'k'},	  {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},	  {NULL, 0, NULL, 0},
	};
	const char *keep = NULL;
	int c;

	*o = (struct options){.prefix = DEFAULT_PREF, .create = true};
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			o->dry_run = true;
			break;
		case 'N':
			o->create = false;
			break;
		case 'p':
			o->prefix = optarg;
			break;
		case 'l':
			o->label = optarg;
			break;
		case 'k':
			keep = optarg;
			break;
		case 'h':
			show_help();
			exit(0);
		case 'V':
			printf(PROG " " PACKAGE_VERSION "\n");
			exit(0);
		default:
			fputs("Try '" PROG " --help'.\n", stderr);
			exit(EXIT_USAGE);
		}
	}
	if (!o->label)
		usage_error("--label is required");
	if (!keep)
		usage_error("--keep is required");
	check_word("--prefix", o->prefix);
	check_word("--label", o->label);
	o->keep = parse_keep(keep);
	if (optind >= argc)
		usage_error("no DIR given");
	return optind;
}

int main(int argc, char **argv)
{
	struct run r = {0};
	int first = parse_args(argc, argv, &r.o);
	int rc = autoplan_name(r.name, sizeof(r.name), r.o.prefix, r.o.label, time(NULL));
	if (rc)
		usage_error("%s-%s-YYYY-MM-DD-HHMM: %s", r.o.prefix, r.o.label, strerror(-rc));

	/* Every DIR is checked before anything is done. */
	size_t n = (size_t)(argc - first);
	struct place *places = calloc(n, sizeof(*places));
	if (!places)
		return 1;
	for (size_t i = 0; i < n; i++)
		place_dir(&r, argv[first + (int)i], &places[i]);
	for (size_t i = 0; i < n; i++) {
		if (places[i].real)
			walk(&r, places[i].real, places[i].fsrel, places[i].depth);
		free(places[i].real);
		free(places[i].fsrel);
	}
	free(places);
	free_names(r.done, r.n_done);
	return r.failed ? 1 : 0;
}
