/* autoreport: --check's one line, from autocheck's verdict on each share. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auto.h"
#include "efs_time.h"

/*
 * The plugin's text ends at its first '|' (the performance data follow);
 * a label ends at '='. Both are written as \xHH, like the controls.
 */
#define TEXT_SPECIAL  "|"
#define LABEL_SPECIAL "|="

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
void check_share(struct run *r, struct share *s, int rc)
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
	put_text(stdout, c->label, TEXT_SPECIAL);
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
		put_text(stdout, c->newest, TEXT_SPECIAL);
		printf(" is %s old", age);
	}
	if (r->o.limits.min_free && c->seen.free < r->o.limits.min_free)
		printf(", %ld of %d snapshot slots free", c->seen.free, EFS_MAX_SNAPSHOTS);
}

/*
 * A performance-data label, as the monitoring-plugin guidelines have it:
 * quoted, quotes doubled, no '=' (\x3d, like controls and '|').
 */
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
		put_text(stdout, doubled, LABEL_SPECIAL);
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

/* A failure's line, escaped already by fail(): its '|' too. */
static void put_failure(const char *line)
{
	for (const char *p = line; *p; p++) {
		if (strchr(TEXT_SPECIAL, *p))
			printf("\\x%02x", (unsigned char)*p);
		else
			putchar(*p);
	}
}

/* The plugin's line; its exit status. */
int report(struct run *r)
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
		put_failure(r->first_failure);
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
