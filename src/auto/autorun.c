/*
 * autorun: one share's run: the pre hook, mkdir, the post hook, then the
 * deletions. A share at the API's limit deletes first, before the pre hook:
 * between the hooks there is only the mkdir. A stop signal (autosig) ends
 * the step under way; the post hook owed then still runs, once, and the run
 * goes no further.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auto.h"
#include "efs_time.h"
#include "hook.h"
#include "progress.h"

/* mkdir the new snapshot: 0 (made, or found made), or -errno (not reported). */
static int create(struct run *r, const struct share *s)
{
	if (r->o.dry_run) {
		say("would create", s->label, r->name);
		return 0;
	}
	char *path = child(s->snapdir, r->name);
	int rc = !path ? -ENOMEM : autosig_call_begin();
	if (rc == 0)
		rc = mkdir(path, 0755) == 0 ? 0 : -errno;
	autosig_call_end();
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
	else if (rc == -EINTR && auto_stop)
		snprintf(why, sizeof(why), "interrupted by %s", autosig_name(auto_stop));
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
		if (auto_stop)
			break;
		char *path = child(s->snapdir, snap->entry);
		int rc = !path ? -ENOMEM : autosig_call_begin();
		if (rc == 0)
			rc = rmdir(path) == 0 ? 0 : -errno;
		autosig_call_end();
		free(path);
		if (rc == 0 || rc == -ENOENT) /* gone already: what was asked is done */
			deleted++;
		if (rc == 0)
			say("deleted", s->label, snap->entry);
		else if (rc == -EINTR && auto_stop)
			fail(r, s->label, "cannot delete", snap->entry, "interrupted");
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
		sleep(delay); /* cut short by a stop signal: create() then says -EINTR */
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

/*
 * Run the --pre or --post hook cmd for share s; whether it ran and exited 0
 * (reported if not). The pre hook is ended by a stop signal, the post hook
 * is not: it runs to its end or its limit.
 */
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

	progress_hide(auto_progress); /* the hook's output may go to the terminal */
	if (env[0] && env[1] && env[2] && env[3] && (!result || env[4]))
		rc = hook_run(cmd, env, r->o.hook_timeout, result ? NULL : &auto_stop, &res);
	progress_show(auto_progress);
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
 * The snapshot, between the hooks (not run by --dry-run); after_prune: at
 * the limit, deleted snapshots just deleted. The post hook runs once the
 * pre hook has been started, whatever happens (a stop signal included).
 * 0, or -errno (reported, but for the API's limit when !last_try).
 */
static int create_between_hooks(struct run *r, struct share *s, bool after_prune, size_t deleted,
				bool last_try)
{
	bool hooks = !r->o.dry_run;
	int rc = auto_stop ? -EINTR : 0;
	if (rc)
		return rc; /* stopped before this share's hooks: none owed */
	if (hooks && r->o.pre && !run_hook(r, s, "pre", r->o.pre, NULL))
		rc = -ECANCELED;
	if (rc == 0)
		rc = after_prune ? create_after_prune(r, s, deleted) : create(r, s);
	if (rc && rc != -ECANCELED && (rc != -EDQUOT || last_try))
		create_failed(r, s, rc, deleted);
	if (hooks && r->o.post)
		run_hook(r, s, "post", r->o.post, rc == 0 ? "created" : "failed");
	return rc;
}

/*
 * Make the snapshot whose slot the plan for snaps[0..n) counts. At the
 * limit (counted here), delete first, then pre, mkdir, post. When the API
 * refuses for its limit what the listing could not show (snapshots being
 * deleted, counted by the API), the post hook says failed, the deletions
 * run, and then, if any was deleted, pre, mkdir, post once more. 0, or
 * -errno; *pruned.
 */
static int make_snapshot(struct run *r, struct share *s, size_t n, bool *pruned)
{
	bool full = s->n >= EFS_MAX_SNAPSHOTS;
	size_t deleted = 0;
	if (full) {
		deleted = prune(r, s, n);
		*pruned = true;
	}
	int rc = create_between_hooks(r, s, full, deleted, full);
	if (rc == -EDQUOT && !full && !auto_stop) {
		deleted = prune(r, s, n);
		*pruned = true;
		if (deleted > 0) /* else the API would refuse again: no second round */
			rc = create_between_hooks(r, s, true, deleted, true);
		else
			create_failed(r, s, rc, 0);
	}
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
 * When the pre hook or the creation fails, prune as without it; when a stop
 * signal came, not at all.
 */
void run_share(struct run *r, struct share *s)
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

	if (make) {
		int rc = make_snapshot(r, s, n, &pruned);
		if (rc && pruned) {
			kept--; /* the plan counted it */
		} else if (rc) {
			n--; /* keep those that exist: prune as without it */
			kept = decide(r, s, n);
		}
	}
	if (auto_stop)
		return;
	if (!pruned)
		prune(r, s, n);
	if (r->o.dry_run && r->o.preserve)
		say_why(s, n);
	char count[32];
	snprintf(count, sizeof(count), "%zu", kept);
	say(r->o.dry_run ? "would keep" : "kept", s->label, count);
}
