/* sim_nmea.h -- NMEA 0183 sentence encoders for shorewatch-sim: checksum, coordinates, $PSWID, $GNRMC and $GNGGA. */
#ifndef SW_SIM_NMEA_H
#define SW_SIM_NMEA_H

#include <stddef.h>
#include <stdint.h>

/* Longest sentence these encoders write, CRLF and NUL included. */
#define SIM_NMEA_MAX 128

/* One epoch of a receiver's solution. */
struct sim_nmea_fix {
	double utc;        /* UTC unix seconds (milliseconds are kept) */
	double lat, lon;   /* degrees, negative south / west */
	double speed_kn;
	double course;     /* degrees true, 0-360 */
	int satellites;
	double hdop;
	double altitude_m;
};

/* XOR of the characters of s[0..len) (the text between '$'/'!' and '*'). */
uint8_t sim_nmea_xor(const char *s, size_t len);

/* Formats |deg| as ddmm.mmmmmm (lat, deg_digits 2) or dddmm.mmmmmm (lon,
 * deg_digits 3) with six decimals of minutes, rounded so that minutes never
 * print as 60. Writes into out (at least 16 bytes), NUL-terminated; returns
 * the length. The hemisphere is the caller's business. */
size_t sim_nmea_coord(double deg, int deg_digits, char *out);

/* Completes a sentence: body is the text after the leading '$' or '!' (that
 * lead character is lead); writes lead, body, '*', two upper-case hex digits
 * and CRLF into out. Returns the length written (without NUL), or 0 if cap is
 * too small. */
size_t sim_nmea_finish(char lead, const char *body, size_t body_len, char *out,
		       size_t cap);

/* "$PSWID,<id>*hh\r\n". Returns the length, or 0 if cap is too small. */
size_t sim_nmea_pswid(const char *id, char *out, size_t cap);

/* "$GNRMC,hhmmss.sss,A,ddmm.mmmmmm,N,dddmm.mmmmmm,E,kn,course,ddmmyy,,,A*hh"
 * with CRLF. Returns the length, or 0 if cap is too small. */
size_t sim_nmea_rmc(const struct sim_nmea_fix *f, char *out, size_t cap);

/* "$GNGGA,hhmmss.sss,lat,N,lon,E,1,sats,hdop,alt,M,0.0,M,,*hh" with CRLF.
 * Returns the length, or 0 if cap is too small. */
size_t sim_nmea_gga(const struct sim_nmea_fix *f, char *out, size_t cap);

#endif
