/*
 * calendar: the one check of the proleptic Gregorian calendar (the API's
 * createdAt in efs_time, ovhsnapfs-auto's stamps in autoplan). Pure, thread-safe.
 */
#ifndef OVHSNAPFS_CALENDAR_H
#define OVHSNAPFS_CALENDAR_H

#include <stdbool.h>

/* True when year-month-day exists (month 1 to 12, leap years counted). */
bool calendar_valid_date(int year, int month, int day);

#endif
