/* autoopts: ovhsnapfs-auto's command line, checked whole before anything is done. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_config.h"
#include "auto.h"
#include "efs_time.h"

void usage_error(const char *fmt, ...)
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
	       "    -q, --quiet        no progress line (shown only when stderr is a terminal)\n"
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
	{"quiet", no_argument, NULL, 'q'},
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
	case 'q':
		o->quiet = true;
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
int auto_parse_args(int argc, char **argv, struct options *o)
{
	struct texts t = {0};
	int c;

	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		check_mode = check_mode || strcmp(argv[i], "--check") == 0;
	*o = (struct options){.prefix = DEFAULT_PREF, .create = true};
	while ((c = getopt_long(argc, argv, "+hVq", longopts, NULL)) != -1) {
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
