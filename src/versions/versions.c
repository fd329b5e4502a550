/*
 * ovhsnapfs-versions: every version of a file across a share's snapshots.
 *
 * Lists the unique versions of each PATH (vmeta finds the NFS mount, its
 * .snapshot directory and, from an ovhsnapfs mount, names and dates),
 * restores one beside or over the live file (vrestore), or shows what
 * changed under a directory since a snapshot (vdiff). It reads files only:
 * no credentials, no API call of its own. Exit codes: 0 done; 1 nothing
 * found, a snapshot or a target that is wrong, or a version unreadable;
 * 2 bad usage, a path outside any NFS-style mount, or no .snapshot there.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"
#include "confine.h"
#include "vcore.h"
#include "vdiff.h"
#include "vmeta.h"
#include "vrestore.h"

#define PROG	       "ovhsnapfs-versions"
#define EXIT_NOTFOUND  1
#define EXIT_USAGE     2
#define DIFF_THREADS   8
#define LIVE_MARK      "(live)"
#define TIME_FORMAT    "%Y-%m-%dT%H:%M:%SZ"
#define TIME_TEXT_SIZE 32

struct options {
	bool all, json, overwrite, verbose, quiet;
	const char *restore, *diff, *to, *mount;
	unsigned threads;
};

/* One version of a path: a snapshot's (snap) or the live one (snap NULL). */
struct version {
	const struct vsnap *snap;
	struct stat st;
	char *path;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [--all] [--json] [--mount DIR] PATH...\n"
		"       " PROG " --restore SNAPSHOT [--overwrite] PATH\n"
		"       " PROG " --diff SNAPSHOT [--to SNAPSHOT2] [--json] DIR\n"
		"\n"
		"Every version of a file in a share's snapshots (MOUNT/.snapshot/NAME over NFS),\n"
		"with names and dates from an ovhsnapfs mount when one shows the share.\n"
		"\n"
		"    -a, --all            every snapshot that holds PATH, duplicates included\n"
		"    -j, --json           one JSON array\n"
		"    -m, --mount DIR      the ovhsnapfs mount to take names and dates from\n"
		"    -r, --restore SNAP   copy SNAP's version to PATH.SNAP (never overwrites)\n"
		"    -o, --overwrite      with --restore: replace PATH, keeping it as PATH.live-*\n"
		"    -d, --diff SNAP      what changed under DIR since SNAP: +, - or M, a tab, a "
		"path\n"
		"    -t, --to SNAP2       with --diff: up to SNAP2 instead of now\n"
		"    -v, --verbose        say how the run is confined (Landlock)\n"
		"    -q, --quiet          no progress line\n"
		"    -h, --help           this help\n"
		"    -V, --version        the version\n"
		"\n"
		"Exit: 0 done; 1 not found, unknown snapshot, target exists or a version\n"
		"unreadable; 2 bad usage, PATH outside any NFS mount, or .snapshot unreachable.\n");
}

static void usage_error(const char *what) __attribute__((noreturn));
static void usage_error(const char *what)
{
	fprintf(stderr, "%s: %s\nTry '" PROG " --help'.\n", PROG, what);
	exit(EXIT_USAGE);
}

static void parse(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{"all", no_argument, NULL, 'a'},	 {"json", no_argument, NULL, 'j'},
		{"mount", required_argument, NULL, 'm'}, {"restore", required_argument, NULL, 'r'},
		{"overwrite", no_argument, NULL, 'o'},	 {"diff", required_argument, NULL, 'd'},
		{"to", required_argument, NULL, 't'},	 {"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},	 {"verbose", no_argument, NULL, 'v'},
		{"quiet", no_argument, NULL, 'q'},	 {NULL, 0, NULL, 0}};
	for (int c; (c = getopt_long(argc, argv, "ajm:r:od:t:hVvq", longs, NULL)) != -1;) {
		switch (c) {
		case 'a':
			o->all = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'm':
			o->mount = optarg;
			break;
		case 'r':
			o->restore = optarg;
			break;
		case 'o':
			o->overwrite = true;
			break;
		case 'd':
			o->diff = optarg;
			break;
		case 't':
			o->to = optarg;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf(PROG " " PACKAGE_VERSION "\n");
			exit(0);
		default:
			fprintf(stderr, "Try '" PROG " --help'.\n");
			exit(EXIT_USAGE);
		}
	}
	if (optind == argc)
		usage_error("no PATH given");
	if (o->restore && o->diff)
		usage_error("--restore and --diff do not go together");
	if (o->overwrite && !o->restore)
		usage_error("--overwrite goes with --restore");
	if (o->to && !o->diff)
		usage_error("--to goes with --diff");
	if ((o->restore || o->diff) && optind + 1 != argc)
		usage_error(o->restore ? "--restore takes one PATH" : "--diff takes one DIR");
	if (o->all && (o->restore || o->diff))
		usage_error("--all goes with a listing");
	if (o->json && o->restore)
		usage_error("--json goes with a listing or --diff");
}

/*
 * Place path and read its snapshots (with names and dates from an ovhsnapfs
 * mount when names): 0, or the exit code after one line on stderr.
 */
static int place(const char *path, const struct options *o, bool names, struct vplace *p)
{
	int rc = vmeta_locate(path, p);
	if (rc == -EXDEV) {
		fprintf(stderr, "%s: %s: not in an NFS-style mount (a source HOST:/EXPORT)\n", PROG,
			path);
		return EXIT_USAGE;
	}
	if (rc == 0)
		rc = vmeta_snapshots(p);
	if (rc == 0 && names)
		vmeta_names(p, o->mount);
	if (rc < 0 && p->mount) {
		fprintf(stderr,
			"%s: %s/.snapshot: %s: mount the share with its snapshot directory "
			"visible\n",
			PROG, strcmp(p->mount, "/") ? p->mount : "", strerror(-rc));
		return EXIT_USAGE;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s: %s\n", PROG, path, strerror(-rc));
		return EXIT_USAGE;
	}
	return 0;
}

/*
 * The snapshot named name (its directory, else, from the ovhsnapfs mount,
 * its id), or NULL after the line naming those that exist.
 */
static const struct vsnap *snapshot_named(struct vplace *p, const char *name,
					  const struct options *o)
{
	const struct vsnap *s = vmeta_find(p, name);
	if (!s && !p->ovh) {
		vmeta_names(p, o->mount);
		s = vmeta_find(p, name);
	}
	if (s)
		return s;
	fprintf(stderr, "%s: no snapshot %s in %s/.snapshot; there are:", PROG, name, p->mount);
	for (size_t i = 0; i < p->n; i++) {
		fputc(' ', stderr);
		vcore_put_escaped(stderr, p->snaps[i].name, false);
	}
	fputs(p->n ? "\n" : " none\n", stderr);
	return NULL;
}

/* ---- listing ---- */

static void utc(time_t t, char *buf)
{
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(buf, TIME_TEXT_SIZE, TIME_FORMAT, &tm) == 0)
		strcpy(buf, "-");
}

static const char *label(const struct version *v)
{
	return v->snap ? v->snap->name : LIVE_MARK;
}

static void print_text(const struct version *v, size_t n)
{
	int wname = 0, wcreated = 1, wsize = 1;
	for (size_t i = 0; i < n; i++) {
		const char *created = v[i].snap && v[i].snap->created ? v[i].snap->created : "-";
		int len = snprintf(NULL, 0, "%lld", (long long)v[i].st.st_size);
		wname = (int)strlen(label(&v[i])) > wname ? (int)strlen(label(&v[i])) : wname;
		wcreated = (int)strlen(created) > wcreated ? (int)strlen(created) : wcreated;
		wsize = len > wsize ? len : wsize;
	}
	for (size_t i = 0; i < n; i++) {
		char mtime[TIME_TEXT_SIZE];
		utc(v[i].st.st_mtime, mtime);
		vcore_put_escaped(stdout, label(&v[i]), true);
		printf("%*s  %-*s  %s  %*lld  ", wname - (int)strlen(label(&v[i])), "", wcreated,
		       v[i].snap && v[i].snap->created ? v[i].snap->created : "-", mtime, wsize,
		       (long long)v[i].st.st_size);
		vcore_put_escaped(stdout, v[i].path, true);
		putchar('\n');
	}
}

static void print_json(const struct version *v, size_t n, bool *first)
{
	for (size_t i = 0; i < n; i++) {
		fputs(*first ? "[\n  {\"snapshot\": " : ",\n  {\"snapshot\": ", stdout);
		*first = false;
		vcore_put_json_string(stdout, v[i].snap ? v[i].snap->name : NULL);
		fputs(", \"id\": ", stdout);
		vcore_put_json_string(stdout, v[i].snap ? v[i].snap->id : NULL);
		fputs(", \"created\": ", stdout);
		vcore_put_json_string(stdout, v[i].snap ? v[i].snap->created : NULL);
		printf(", \"mtime\": %lld, \"size\": %lld, \"path\": ", (long long)v[i].st.st_mtime,
		       (long long)v[i].st.st_size);
		vcore_put_json_string(stdout, v[i].path);
		fputc('}', stdout);
	}
}

/*
 * Stat p's path in s (NULL: live) into v[*n], named path (owned): 0 found,
 * 1 absent (a symbolic link on the way in a snapshot is not followed: the
 * file is not there), -1 unreadable (told).
 */
static int take(const struct vplace *p, struct version *v, size_t *n, const struct vsnap *s,
		char *path)
{
	int err = path ? -vmeta_stat_in(p, s, &v[*n].st) : ENOMEM;
	if (err == 0) {
		v[*n].snap = s;
		v[(*n)++].path = path;
		return 0;
	}
	if (err == ENOENT || err == ENOTDIR || err == ELOOP || err == EXDEV) {
		free(path);
		return 1;
	}
	fprintf(stderr, "%s: %s: %s (version skipped)\n", PROG, path ? path : "", strerror(err));
	free(path);
	return -1;
}

/* The versions of p's path, deduplicated unless all: exit code 0 or 1. */
static int collect(const struct vplace *p, bool all, struct version *v, size_t *n)
{
	int code = 0;
	for (size_t i = 0; i < p->n; i++)
		if (take(p, v, n, &p->snaps[i], vmeta_path_in(p, &p->snaps[i])) < 0)
			code = EXIT_NOTFOUND;
	struct stat *st = malloc((*n + 1) * sizeof(*st));
	bool *keep = malloc((*n + 1) * sizeof(*keep));
	if (st && keep && !all) {
		for (size_t i = 0; i < *n; i++)
			st[i] = v[i].st;
		vcore_unique(st, *n, keep);
		size_t w = 0;
		for (size_t i = 0; i < *n; i++) {
			if (keep[i])
				v[w++] = v[i];
			else
				free(v[i].path);
		}
		*n = w;
	}
	free(st);
	free(keep);
	if (take(p, v, n, NULL, strdup(p->live)) < 0)
		code = EXIT_NOTFOUND;
	return code;
}

static int list_one(const char *path, const struct options *o, bool *first)
{
	struct vplace p;
	int code = place(path, o, true, &p);
	struct version *v = code ? NULL : calloc(p.n + 1, sizeof(*v));
	size_t n = 0;
	if (!code && !v)
		code = EXIT_USAGE;
	if (!code) {
		code = collect(&p, o->all, v, &n);
		if (n == 0) {
			fprintf(stderr, "%s: %s: in no snapshot, and does not exist\n", PROG,
				p.live);
			code = EXIT_NOTFOUND;
		}
		if (o->json)
			print_json(v, n, first);
		else
			print_text(v, n);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
	vmeta_free(&p);
	return code;
}

static int list(int argc, char **argv, const struct options *o)
{
	int code = 0;
	bool first = true;
	if (confine_paths(NULL, 0, NULL, 0, o->verbose) < 0) /* a listing writes nothing */
		return EXIT_NOTFOUND;
	for (int i = optind; i < argc; i++) {
		int rc = list_one(argv[i], o, &first);
		code = rc > code ? rc : code;
	}
	if (o->json)
		fputs(first ? "[]\n" : "\n]\n", stdout);
	return code;
}

/* ---- restore and diff ---- */

static int restore(const char *path, const struct options *o)
{
	struct vplace p;
	int code = place(path, o, false, &p);
	const struct vsnap *s = code ? NULL : snapshot_named(&p, o->restore, o);
	if (!code && !s)
		code = EXIT_NOTFOUND;
	else if (s && !*p.rel) {
		fprintf(stderr, "%s: %s is the share's mount point: restore what is in it\n", PROG,
			p.live);
		code = EXIT_USAGE;
	} else if (s) {
		struct vrestore_args a = {.snap_dir = s->dir,
					  .mount = p.mount,
					  .rel = p.rel,
					  .live = p.live,
					  .snapshot = s->name,
					  .overwrite = o->overwrite,
					  .confine = true,
					  .verbose = o->verbose,
					  .quiet = o->quiet};
		int rc = vrestore_run(&a, stdout);
		code = rc == 0 ? 0 : EXIT_NOTFOUND;
	}
	vmeta_free(&p);
	return code;
}

/* The trees compared: opened beneath their snapshot (or the mount), then confined to them. */
static int diff_roots(const struct vplace *p, const struct vsnap *from, const struct vsnap *to,
		      const struct options *o)
{
	char *names[2] = {vmeta_path_in(p, from), to ? vmeta_path_in(p, to) : strdup(p->live)};
	int roots[2] = {-1, -1}, rc = names[0] && names[1] ? 0 : -ENOMEM;
	for (int s = 0; rc == 0 && s < 2; s++) {
		roots[s] = vmeta_open_in(p, s == 0 ? from : to, O_RDONLY | O_DIRECTORY);
		if (roots[s] < 0) {
			rc = roots[s];
			fprintf(stderr, "%s: %s: %s\n", PROG, names[s], strerror(-rc));
		}
	}
	if (rc == 0 && confine_paths(roots, 2, NULL, 0, o->verbose) < 0)
		rc = -EPERM;
	const char *skip = *p->rel ? NULL : ".snapshot"; /* NetApp hides it; a stand-in may not */
	if (rc == 0)
		rc = vdiff_run(roots, (const char *const *)names, p->live, skip, o->json,
			       o->threads, o->quiet, stdout);
	for (int s = 0; s < 2; s++) {
		free(names[s]);
		if (roots[s] >= 0)
			close(roots[s]);
	}
	return rc == 0 ? 0 : EXIT_NOTFOUND;
}

static int diff(const char *dir, const struct options *o)
{
	struct vplace p;
	int code = place(dir, o, false, &p);
	const struct vsnap *from = code ? NULL : snapshot_named(&p, o->diff, o);
	char *from_name = from ? strdup(from->name) : NULL; /* names may re-sort the snapshots */
	const struct vsnap *to = from && o->to ? snapshot_named(&p, o->to, o) : NULL;
	from = from_name ? vmeta_find(&p, from_name) : NULL;
	free(from_name);
	if (!code && (!from || (o->to && !to)))
		code = EXIT_NOTFOUND;
	if (!code)
		code = diff_roots(&p, from, to, o);
	vmeta_free(&p);
	return code;
}

int main(int argc, char **argv)
{
	struct options o = {.threads = DIFF_THREADS};
	parse(argc, argv, &o);
	srandom((unsigned)time(NULL) ^ (unsigned)getpid());
	int code = o.restore ? restore(argv[optind], &o)
		   : o.diff  ? diff(argv[optind], &o)
			     : list(argc, argv, &o);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: write error on standard output\n", PROG);
		return EXIT_NOTFOUND;
	}
	return code;
}
