/* fmt.c -- printf-free formatting for the hot paths (COPY rows, live events). */
#include "fmt.h"

#include <math.h>
#include <string.h>

int64_t fmt_days_from_civil(int y, int m, int d)
{
	int era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + (int64_t)doe - 719468;
}

/* Civil date of a day number (days since 1970-01-01), proleptic Gregorian. */
void fmt_civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static char *put2(char *o, int v)
{
	o[0] = (char)('0' + v / 10);
	o[1] = (char)('0' + v % 10);
	return o + 2;
}

/* Writes "YYYY-MM-DD HH:MM:SS.mmm+00" (26 chars) for UTC ms; the hot path of
 * COPY, so no printf. Years 0-9999 only (the ingest filter keeps 2000 on). */
char *fmt_pg_ts(char *o, int64_t ms)
{
	int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000, days, sod;
	int y, m, d, frac = (int)(ms - s * 1000);

	days = s >= 0 ? s / 86400 : (s - 86399) / 86400;
	sod = s - days * 86400;
	fmt_civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999)
		y = 0;
	o = put2(o, y / 100);
	o = put2(o, y % 100);
	*o++ = '-';
	o = put2(o, m);
	*o++ = '-';
	o = put2(o, d);
	*o++ = ' ';
	o = put2(o, (int)(sod / 3600));
	*o++ = ':';
	o = put2(o, (int)(sod / 60 % 60));
	*o++ = ':';
	o = put2(o, (int)(sod % 60));
	*o++ = '.';
	*o++ = (char)('0' + frac / 100);
	o = put2(o, frac % 100);
	memcpy(o, "+00", 3);
	return o + 3;
}

/* Writes a signed integer. */
char *fmt_int(char *o, long long v)
{
	char tmp[24];
	int n = 0;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	if (v < 0)
		*o++ = '-';
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	while (n)
		*o++ = tmp[--n];
	return o;
}

/* Writes v with `dec` decimals (rounded), without printf. */
char *fmt_fixed(char *o, double v, int dec)
{
	static const long long pow10[] = { 1, 10, 100, 1000, 10000, 100000, 1000000,
					    10000000, 100000000, 1000000000 };
	long long scaled, ip, fp;
	int i;

	if (dec < 0)
		dec = 0;
	if (dec > 9)
		dec = 9;
	if (!(v == v) || v > 1e9 || v < -1e9)
		v = 0;
	scaled = llround(v * (double)pow10[dec]);
	if (scaled < 0) {
		*o++ = '-';
		scaled = -scaled;
	}
	ip = scaled / pow10[dec];
	fp = scaled % pow10[dec];
	o = fmt_int(o, ip);
	if (dec) {
		*o++ = '.';
		for (i = dec - 1; i >= 0; i--) {
			o[i] = (char)('0' + fp % 10);
			fp /= 10;
		}
		o += dec;
	}
	return o;
}

/* Writes "YYYY-MM-DDTHH:MM:SS.mmm+08:00" (29 chars) for UTC ms. */
char *fmt_iso_cst(char *o, int64_t ms)
{
	char *start = o;

	o = fmt_pg_ts(o, ms + 8 * 3600 * 1000LL);
	start[10] = 'T';
	memcpy(o - 3, "+08:00", 6);
	return o + 3;
}
