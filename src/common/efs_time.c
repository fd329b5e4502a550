/*
 * efs_time: the API's dates (RFC 3339). Apart from efs.c so that
 * ovhsnapfs-auto and ovhsnapfs-versions read dates without the API client.
 */
#include "efs_time.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "calendar.h"

/* n decimal digits at p, exactly; -1 otherwise. */
static int digits(const char *p, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* Z, z or +hh:mm / -hh:mm; the offset in seconds east of UTC. */
static int parse_offset(const char *p, long *offset)
{
	if ((p[0] == 'Z' || p[0] == 'z') && !p[1]) {
		*offset = 0;
		return 0;
	}
	if (strlen(p) != 6 || (p[0] != '+' && p[0] != '-') || p[3] != ':')
		return -EINVAL;
	int oh = digits(p + 1, 2), om = digits(p + 4, 2);
	if (oh < 0 || om < 0 || oh > 23 || om > 59)
		return -EINVAL;
	*offset = (oh * 3600L + om * 60L) * (p[0] == '-' ? -1 : 1);
	return 0;
}

int efs_parse_time(const char *text, time_t *out)
{
	struct tm tm = {0};
	long offset;

	if (strnlen(text, 20) < 20 || text[4] != '-' || text[7] != '-' ||
	    (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
		return -EINVAL;
	int year = digits(text, 4), mon = digits(text + 5, 2), day = digits(text + 8, 2);
	int hour = digits(text + 11, 2), min = digits(text + 14, 2), sec = digits(text + 17, 2);
	if (year < 0 || !calendar_valid_date(year, mon, day) || hour < 0 || hour > 23 || min < 0 ||
	    min > 59 || sec < 0 || sec > 60)
		return -EINVAL;
	const char *p = text + 19;
	if (*p == '.' || *p == ',') {
		if (!isdigit((unsigned char)p[1]))
			return -EINVAL;
		for (p++; isdigit((unsigned char)*p); p++)
			;
	}
	if (parse_offset(p, &offset))
		return -EINVAL;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	*out = timegm(&tm) - offset;
	return 0;
}
