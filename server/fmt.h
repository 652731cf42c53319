/* fmt.h -- printf-free number and time formatting for the hot paths.
 * Each function writes at the pointer it is given (no NUL) and returns the
 * pointer after what it wrote; the caller provides the room. */
#ifndef SW_FMT_H
#define SW_FMT_H

#include <stdint.h>

/* Day number (days since 1970-01-01) of a civil date, proleptic Gregorian. */
int64_t fmt_days_from_civil(int y, int m, int d);
/* Civil date of a day number (days since 1970-01-01), proleptic Gregorian. */
void fmt_civil_from_days(int64_t z, int *y, int *m, int *d);
/* Signed decimal integer (at most 20 chars). */
char *fmt_int(char *o, long long v);
/* v with `dec` (0-9) decimals, rounded; non-finite values or |v| > 1e9 as 0. */
char *fmt_fixed(char *o, double v, int dec);
/* "YYYY-MM-DD HH:MM:SS.mmm+00" (26 chars): a PostgreSQL timestamptz in UTC. */
char *fmt_pg_ts(char *o, int64_t ms);
/* "YYYY-MM-DDTHH:MM:SS.mmm+08:00" (29 chars): ISO-8601 in China Standard Time. */
char *fmt_iso_cst(char *o, int64_t ms);

#endif
