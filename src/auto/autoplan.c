/* autoplan: labelled snapshot names, the keep-the-newest-N and the --preserve rules. */
#include "autoplan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "names.h"

bool autoplan_word_ok(const char *word)
{
	if (!word || !*word)
		return false;
	for (const char *p = word; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.';
		if (!ok)
			return false;
	}
	return true;
}

int autoplan_name(char *buf, size_t len, const char *prefix, const char *label, time_t t)
{
	struct tm tm;
	char stamp[32];

	if (!autoplan_word_ok(prefix) || !autoplan_word_ok(label) || !gmtime_r(&t, &tm))
		return -EINVAL;
	if (strftime(stamp, sizeof(stamp), "%Y-%m-%d-%H%M", &tm) != AUTOPLAN_STAMP_LEN)
		return -EINVAL; /* a year beyond 9999 */
	size_t need = strlen(prefix) + strlen(label) + 2 + AUTOPLAN_STAMP_LEN;
	if (need > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	if (need >= len)
		return -ENOBUFS;
	snprintf(buf, len, "%s-%s-%s", prefix, label, stamp);
	return names_check_new(buf);
}

/* The number of n digits at s, or -1. */
static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DD-HHMM", a date that exists and a time of day. */
static bool stamp_ok(const char *s)
{
	if (strlen(s) != AUTOPLAN_STAMP_LEN || s[4] != '-' || s[7] != '-' || s[10] != '-')
		return false;
	int year = digits(s, 4), month = digits(s + 5, 2), day = digits(s + 8, 2);
	int hour = digits(s + 11, 2), minute = digits(s + 13, 2);
	if (year < 0 || hour < 0 || hour > 23 || minute < 0 || minute > 59)
		return false;
	return calendar_valid_date(year, month, day);
}

bool autoplan_matches(const char *name, const char *prefix, const char *label)
{
	size_t lp = strlen(prefix), ll = strlen(label);
	if (!name || strncmp(name, prefix, lp) != 0 || name[lp] != '-')
		return false;
	name += lp + 1;
	if (strncmp(name, label, ll) != 0 || name[ll] != '-')
		return false;
	return stamp_ok(name + ll + 1);
}

/* The UTC time of a stamp_ok() stamp. */
static time_t stamp_time(const char *s)
{
	struct tm tm = {.tm_year = digits(s, 4) - 1900,
			.tm_mon = digits(s + 5, 2) - 1,
			.tm_mday = digits(s + 8, 2),
			.tm_hour = digits(s + 11, 2),
			.tm_min = digits(s + 13, 2)};
	return timegm(&tm);
}

bool autoplan_eligible(const struct autoplan_snap *snap, const char *prefix, const char *label)
{
	if (snap->is_new)
		return true;
	if (!autoplan_matches(snap->name, prefix, label))
		return false;
	if (snap->type && strcmp(snap->type, "manual") != 0)
		return false; /* automatic and system belong to OVH; unknown types to nobody */
	/*
	 * Only a settled snapshot is one of the N, or may go: creating, deleting,
	 * restoring (a revert from it), error... are left alone, so that failed
	 * snapshots never push good ones out.
	 */
	return !snap->status || strcmp(snap->status, "available") == 0;
}

static int strcmp_null(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

/* Oldest first: by createdAt, then name, then entry; the one to create is the newest. */
static int older_first(const void *pa, const void *pb)
{
	const struct autoplan_snap *a = pa, *b = pb;
	if (a->is_new != b->is_new)
		return a->is_new ? 1 : -1;
	if (a->created != b->created)
		return a->created < b->created ? -1 : 1;
	int c = strcmp_null(a->name, b->name);
	return c ? c : strcmp_null(a->entry, b->entry);
}

/* Give an unknown createdAt its name's minute, then sort oldest first. */
static void prepare(struct autoplan_snap *snaps, size_t n, const char *prefix, const char *label)
{
	for (size_t i = 0; i < n; i++)
		if (snaps[i].created_unknown && !snaps[i].is_new &&
		    autoplan_eligible(&snaps[i], prefix, label))
			snaps[i].created =
				stamp_time(snaps[i].name + strlen(prefix) + strlen(label) + 2);
	if (n > 1)
		qsort(snaps, n, sizeof(*snaps), older_first);
}

size_t autoplan_decide(struct autoplan_snap *snaps, size_t n, const char *prefix, const char *label,
		       size_t keep)
{
	size_t eligible = 0, kept = 0;

	prepare(snaps, n, prefix, label);
	for (size_t i = 0; i < n; i++)
		eligible += autoplan_eligible(&snaps[i], prefix, label);
	size_t to_delete = eligible > keep ? eligible - keep : 0;
	for (size_t i = 0; i < n; i++) {
		snaps[i].why = 0;
		if (!autoplan_eligible(&snaps[i], prefix, label)) {
			snaps[i].verdict = AUTOPLAN_IGNORE;
		} else if (to_delete > 0) {
			snaps[i].verdict = AUTOPLAN_DELETE;
			to_delete--;
		} else {
			snaps[i].verdict = AUTOPLAN_KEEP;
			kept++;
		}
	}
	return kept;
}

long autoplan_preserve(struct autoplan_snap *snaps, size_t n, const char *prefix, const char *label,
		       const struct buckets *rule)
{
	time_t *times = calloc(n + 1, sizeof(*times));
	unsigned *why = calloc(n + 1, sizeof(*why));
	size_t *at = calloc(n + 1, sizeof(*at));
	size_t m = 0;
	long kept = 0;

	if (!times || !why || !at) {
		free(times);
		free(why);
		free(at);
		return -ENOMEM;
	}
	prepare(snaps, n, prefix, label);
	for (size_t i = n; i-- > 0;) { /* newest first */
		snaps[i].why = 0;
		snaps[i].verdict = AUTOPLAN_IGNORE;
		if (!autoplan_eligible(&snaps[i], prefix, label))
			continue;
		if (snaps[i].is_new)
			snaps[i].created =
				stamp_time(snaps[i].name + strlen(prefix) + strlen(label) + 2);
		at[m] = i;
		times[m++] = snaps[i].created;
	}
	buckets_mark(times, m, rule, why);
	for (size_t j = 0; j < m; j++) {
		snaps[at[j]].why = why[j];
		snaps[at[j]].verdict = why[j] ? AUTOPLAN_KEEP : AUTOPLAN_DELETE;
		kept += why[j] != 0;
	}
	free(times);
	free(why);
	free(at);
	return kept;
}
