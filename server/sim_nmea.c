/* sim_nmea.c -- NMEA 0183 sentence encoders for shorewatch-sim (hand-rolled number formatting: no printf on the hot path). */
#include "sim_nmea.h"

#include <math.h>
#include <string.h>
#include <time.h>

static const char HEX[] = "0123456789ABCDEF";

uint8_t sim_nmea_xor(const char *s, size_t len)
{
	uint8_t x = 0;
	size_t i;

	for (i = 0; i < len; i++)
		x ^= (uint8_t)s[i];
	return x;
}

/* Writes v in decimal with at least width digits (zero-padded). Returns the
 * number of characters written. */
static size_t put_uint(char *out, uint64_t v, int width)
{
	char tmp[24];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while ((int)n < width)
		tmp[n++] = '0';
	for (i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

/* Writes v (>= 0) rounded to dec decimals (1..6). Returns the length. */
static size_t put_fixed(char *out, double v, int dec)
{
	static const double P[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};
	uint64_t scaled, ip, fp;
	size_t n;

	if (!(v > 0))
		v = 0;
	scaled = (uint64_t)llround(v * P[dec]);
	ip = scaled / (uint64_t)P[dec];
	fp = scaled % (uint64_t)P[dec];
	n = put_uint(out, ip, 1);
	out[n++] = '.';
	n += put_uint(out + n, fp, dec);
	return n;
}

size_t sim_nmea_coord(double deg, int deg_digits, char *out)
{
	/* whole micro-minutes, so that rounding carries into the degrees */
	uint64_t um = (uint64_t)llround(fabs(deg) * 60e6);
	uint64_t d = um / 60000000u, rem = um % 60000000u;
	size_t n = put_uint(out, d, deg_digits);

	n += put_uint(out + n, rem / 1000000u, 2);
	out[n++] = '.';
	n += put_uint(out + n, rem % 1000000u, 6);
	out[n] = 0;
	return n;
}

size_t sim_nmea_finish(char lead, const char *body, size_t body_len, char *out,
		       size_t cap)
{
	uint8_t x;

	if (body_len + 6 > cap)
		return 0;
	x = sim_nmea_xor(body, body_len);
	out[0] = lead;
	memcpy(out + 1, body, body_len);
	out[body_len + 1] = '*';
	out[body_len + 2] = HEX[x >> 4];
	out[body_len + 3] = HEX[x & 15];
	out[body_len + 4] = '\r';
	out[body_len + 5] = '\n';
	if (body_len + 6 < cap)
		out[body_len + 6] = 0;
	return body_len + 6;
}

size_t sim_nmea_pswid(const char *id, char *out, size_t cap)
{
	char body[96];
	size_t n = strlen(id);

	if (n > sizeof(body) - 7)
		return 0;
	memcpy(body, "PSWID,", 6);
	memcpy(body + 6, id, n);
	return sim_nmea_finish('$', body, n + 6, out, cap);
}

/* Writes "hhmmss.sss" for the UTC time; fills *tm_out for the date. */
static size_t put_time(char *out, double utc, struct tm *tm_out)
{
	time_t sec = (time_t)floor(utc);
	int ms = (int)lround((utc - (double)sec) * 1000);
	size_t n;

	if (ms >= 1000) {
		sec++;
		ms -= 1000;
	}
	gmtime_r(&sec, tm_out);
	n = put_uint(out, (uint64_t)tm_out->tm_hour, 2);
	n += put_uint(out + n, (uint64_t)tm_out->tm_min, 2);
	n += put_uint(out + n, (uint64_t)tm_out->tm_sec, 2);
	out[n++] = '.';
	n += put_uint(out + n, (uint64_t)ms, 3);
	return n;
}

/* Writes "lat,N,lon,E". */
static size_t put_latlon(char *out, double lat, double lon)
{
	size_t n = sim_nmea_coord(lat, 2, out);

	out[n++] = ',';
	out[n++] = lat < 0 ? 'S' : 'N';
	out[n++] = ',';
	n += sim_nmea_coord(lon, 3, out + n);
	out[n++] = ',';
	out[n++] = lon < 0 ? 'W' : 'E';
	return n;
}

size_t sim_nmea_rmc(const struct sim_nmea_fix *f, char *out, size_t cap)
{
	char b[SIM_NMEA_MAX];
	struct tm tm;
	double course = fmod(f->course, 360.0);
	size_t n;

	if (course < 0)
		course += 360.0;
	memcpy(b, "GNRMC,", 6);
	n = 6 + put_time(b + 6, f->utc, &tm);
	memcpy(b + n, ",A,", 3);
	n += 3;
	n += put_latlon(b + n, f->lat, f->lon);
	b[n++] = ',';
	n += put_fixed(b + n, f->speed_kn, 2);
	b[n++] = ',';
	n += put_fixed(b + n, course >= 359.95 ? 0 : course, 1);
	b[n++] = ',';
	n += put_uint(b + n, (uint64_t)tm.tm_mday, 2);
	n += put_uint(b + n, (uint64_t)tm.tm_mon + 1, 2);
	n += put_uint(b + n, (uint64_t)(tm.tm_year % 100), 2);
	memcpy(b + n, ",,,A", 4);
	n += 4;
	return sim_nmea_finish('$', b, n, out, cap);
}

size_t sim_nmea_gga(const struct sim_nmea_fix *f, char *out, size_t cap)
{
	char b[SIM_NMEA_MAX];
	struct tm tm;
	size_t n;

	memcpy(b, "GNGGA,", 6);
	n = 6 + put_time(b + 6, f->utc, &tm);
	b[n++] = ',';
	n += put_latlon(b + n, f->lat, f->lon);
	memcpy(b + n, ",1,", 3);
	n += 3;
	n += put_uint(b + n, (uint64_t)(f->satellites < 0 ? 0 : f->satellites), 2);
	b[n++] = ',';
	n += put_fixed(b + n, f->hdop, 1);
	b[n++] = ',';
	if (f->altitude_m < 0)
		b[n++] = '-';
	n += put_fixed(b + n, fabs(f->altitude_m), 1);
	memcpy(b + n, ",M,0.0,M,,", 10);
	n += 10;
	return sim_nmea_finish('$', b, n, out, cap);
}
