/* autocheck: ages, states and the verdict on one share for ovhsnapfs-auto --check. */
#include "autocheck.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define MAX_AGE (100LL * 365 * 86400) /* a century: more is surely a typing error */

int autocheck_parse_age(const char *text, long long *seconds)
{
	static const struct {
		char unit;
		long long scale;
	} units[] = {{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
	long long v = 0, scale = 1;
	const char *p = text;

	if (!text)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > MAX_AGE)
			return -EINVAL;
	}
	if (p == text)
		return -EINVAL;
	if (*p) {
		size_t i = 0;
		while (i < sizeof(units) / sizeof(units[0]) && units[i].unit != *p)
			i++;
		if (i == sizeof(units) / sizeof(units[0]) || p[1])
			return -EINVAL;
		scale = units[i].scale;
	}
	if (v < 1 || v > MAX_AGE / scale)
		return -EINVAL;
	*seconds = v * scale;
	return 0;
}

void autocheck_format_age(long long s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, len, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, len, "%lldm", s / 60);
	else
		snprintf(buf, len, "%llds", s);
}

enum autocheck_state autocheck_judge(const struct autocheck_share *share,
				     const struct autocheck_limits *limits)
{
	if (share->unreadable)
		return AUTOCHECK_UNKNOWN;
	if (!share->found || share->age > limits->crit)
		return AUTOCHECK_CRITICAL;
	if (share->age > limits->warn || share->free < limits->min_free)
		return AUTOCHECK_WARNING;
	return AUTOCHECK_OK;
}

static int rank(enum autocheck_state state)
{
	static const int ranks[] = {[AUTOCHECK_OK] = 0,
				    [AUTOCHECK_WARNING] = 1,
				    [AUTOCHECK_UNKNOWN] = 2,
				    [AUTOCHECK_CRITICAL] = 3};
	return state >= AUTOCHECK_OK && state <= AUTOCHECK_UNKNOWN ? ranks[state] : 2;
}

bool autocheck_worse(enum autocheck_state a, enum autocheck_state b)
{
	return rank(a) > rank(b);
}

const char *autocheck_state_name(enum autocheck_state state)
{
	static const char *const names[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
	return state >= AUTOCHECK_OK && state <= AUTOCHECK_UNKNOWN ? names[state] : "UNKNOWN";
}
