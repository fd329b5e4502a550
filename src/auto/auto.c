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
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auto.h"
#include "hook.h"
#include "log.h"
#include "mountinfo.h"
#include "progress.h"
#include "utf8.h"

bool check_mode;

/* A directory given on the command line, placed in the ovhsnapfs tree. */
struct place {
	char *real;  /* canonical path */
	char *fsrel; /* path inside the tree: "" (root), "svc", "svc/share", "svc/share/.snapshots"
		      */
	int depth;
};

/* ---- output ---- */

/*
 * Bytes of the printable character at s (ASCII or valid UTF-8, no controls,
 * none of also), or 0.
 */
static size_t printable(const unsigned char *s, size_t left, const char *also)
{
	uint32_t cp;
	if (s[0] == '\\' || strchr(also, s[0]))
		return 0;
	size_t len = utf8_sequence(s, left, &cp);
	return len && !utf8_is_control(cp) ? len : 0;
}

void put_escaped(FILE *f, const char *s)
{
	put_text(f, s, "");
}

void put_text(FILE *f, const char *s, const char *also)
{
	size_t left = strlen(s);
	for (const unsigned char *p = (const unsigned char *)s; left > 0;) {
		size_t n = printable(p, left, also);
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

struct progress *auto_progress;

/* The progress line says the run is on share label, the run's n-th. */
static void progress_share(const char *label)
{
	static size_t n;
	char *text = NULL;
	size_t len = 0;
	FILE *f = auto_progress ? open_memstream(&text, &len) : NULL;
	if (!f)
		return;
	fprintf(f, "share %zu: ", ++n);
	put_escaped(f, label);
	if (fclose(f) == 0)
		progress_text(auto_progress, text);
	free(text);
}

/* "VERB SERVICE/SHARE WHAT" on stdout, flushed so that lines keep their order in a log. */
void say(const char *verb, const char *share, const char *what)
{
	bool shown = progress_hide(auto_progress);
	fputs(verb, stdout);
	putchar(' ');
	put_escaped(stdout, share);
	putchar(' ');
	put_escaped(stdout, what);
	putchar('\n');
	fflush(stdout);
	if (shown)
		progress_show(auto_progress);
}

/* "<3>" when stderr is the journal (a systemd service): failures show at priority err. */
const char *err_priority(void)
{
	static int journal = -1;
	if (journal < 0)
		journal = log_fd_is_journal(STDERR_FILENO);
	return journal ? "<3>" : "";
}

/* "ovhsnapfs-auto: WHERE: WHAT [NAME][: reason]" on stderr; the run has failed. */
void fail(struct run *r, const char *where, const char *what, const char *name, const char *reason)
{
	char *line = NULL;
	size_t len = 0;
	bool shown = progress_hide(auto_progress);
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
	if (shown)
		progress_show(auto_progress);
}

/* ---- where a directory is ---- */

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
		long len = mountinfo_covers(m.point, real);
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

/* The share whose .snapshots is snapdir, once per run however often it is reached. */
static void do_share(struct run *r, const char *snapdir, const char *label)
{
	if (auto_stop)
		return; /* stopped: no other share is started */
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
	if (!r->o.check)
		progress_share(label);
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
	int first = auto_parse_args(argc, argv, &r.o), rc = 0;
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
	auto_progress = progress_new(PROG, "shares", r.o.check || r.o.quiet);
	if (!r.o.check && autosig_init() != 0)
		fail(&r, PROG, "cannot catch SIGTERM", NULL, strerror(errno));

	walk_dirs(&r, argv + first, (size_t)(argc - first));
	int status = r.o.check ? report(&r) : r.failed ? 1 : 0;
	progress_end(auto_progress);
	auto_progress = NULL;
	free_run(&r);
	if (auto_stop)
		autosig_exit();
	return status;
}
