/* progress: one updating line on a terminal's stderr (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define INTERVAL_NS 200000000LL /* at most five lines a second */

struct progress {
	char what[64], unit[16];
	long long start_ns, last_ns; /* last_ns < 0: nothing shown yet */
	bool shown;
	char *text; /* progress_text's, or NULL */
};

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct progress *progress_new(const char *what, const char *unit, bool quiet)
{
	if (quiet || !isatty(STDERR_FILENO))
		return NULL;
	struct progress *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->what, sizeof(p->what), "%s", what);
	snprintf(p->unit, sizeof(p->unit), "%s", unit);
	p->start_ns = now_ns();
	p->last_ns = -1;
	return p;
}

/* n bytes as "12.3 MiB". */
static void size_text(double n, char *buf, size_t len)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	size_t u = 0;
	while (n >= 1024 && u + 1 < sizeof(units) / sizeof(*units)) {
		n /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", n, units[u]);
}

void progress_update(struct progress *p, unsigned long long items, unsigned long long bytes)
{
	if (!p)
		return;
	long long now = now_ns();
	if (p->last_ns >= 0 && now - p->last_ns < INTERVAL_NS)
		return;
	p->last_ns = now;
	double secs = (double)(now - p->start_ns) / 1e9;
	char size[32], rate[32];
	if (bytes) {
		size_text((double)bytes, size, sizeof(size));
		size_text(secs > 0.001 ? (double)bytes / secs : 0, rate, sizeof(rate));
		fprintf(stderr, "\r%s: %llu %s, %s, %s/s\033[K", p->what, items, p->unit, size,
			rate);
	} else {
		fprintf(stderr, "\r%s: %llu %s, %.0f/s\033[K", p->what, items, p->unit,
			secs > 0.001 ? (double)items / secs : 0.0);
	}
	fflush(stderr);
	p->shown = true;
}

void progress_text(struct progress *p, const char *text)
{
	if (!p)
		return;
	free(p->text);
	p->text = strdup(text);
	progress_show(p);
}

bool progress_hide(struct progress *p)
{
	if (!p || !p->shown)
		return false;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	p->shown = false;
	return true;
}

void progress_show(struct progress *p)
{
	if (!p || !p->text)
		return;
	fflush(stdout); /* what was said before it, first */
	fprintf(stderr, "\r\033[K%s: %s", p->what, p->text);
	fflush(stderr);
	p->shown = true;
}

void progress_end(struct progress *p)
{
	progress_hide(p);
	if (p)
		free(p->text);
	free(p);
}
