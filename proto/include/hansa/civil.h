/*
 * Proleptic Gregorian calendar arithmetic on days since 1970-01-01 (Howard
 * Hinnant's civil_from_days and days_from_civil): integers only, no library
 * call, no time zone. The ledger's fiscal year, the risk engine's ISO weeks
 * and hansad's crash report (in a signal handler) all use these.
 */
#ifndef HANSA_CIVIL_H
#define HANSA_CIVIL_H

#include <stdint.h>

/* The date of day number days (0 = 1970-01-01; negative before it):
 * month 1-12, day 1-31. */
void hansa_civil_from_days(int64_t days, int64_t *year, unsigned *month, unsigned *day);

/* The day number of year-month-day (month 1-12, day 1-31). */
int64_t hansa_days_from_civil(int64_t year, unsigned month, unsigned day);

/* The day number holding unix second secs (floor division, also before
 * 1970). */
int64_t hansa_days_of_second(int64_t secs);

#endif
