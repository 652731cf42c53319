/* cu_nmea.c -- cmocka tests of the NMEA 0183 decoder, on real captured sentences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nmea.h"

/*
 * Sources of the vectors (each table row names its own):
 *  [py]   Knio/pynmea2 test/test_types.py and test/test_pynmea.py.
 *  [bd]   ntpsec/gpsd test/daemon/beidou-bd.log (+ .log.chk for the decoded
 *         lat/lon/time), SiRF-TriG, BD talker, 2015-02-25.
 *  [gb]   ntpsec/gpsd test/daemon/beidou-gb.log, GB talker, GPGGA + GNRMC.
 *  [qk]   ntpsec/gpsd test/daemon/quectel-l76k-nmea.log (CASIC, NMEA 4.1
 *         nav status V with a good fix; GGA and RMC epochs interleaved).
 *  [um]   ntpsec/gpsd test/daemon/unicore-um621.log (empty course, 29 sats,
 *         empty geoid separation, RMC before GGA).
 *  [tr]   traccar src/test/java/org/traccar/protocol/T55ProtocolDecoderTest.java
 *         (7-decimal GNRMC, 6-decimal and 4-digit-degree coordinates; several
 *         rows there carry wrong checksums, which traccar does not check).
 *  [cn]   a BeiDou module capture quoted in an STM32 firmware comment
 *         ($BDRMC/$BDGGA 000133.000, void with coordinates), PROTOCOLS.md
 *         vector nmea_bdrmc_void_with_coords.
 *  [ais]  M0r13n/pyais tests/test_tag_block.py (NMEA 4.0 tag blocks).
 *  [hel]  /work/shared/data/tracks/helsinki_sailboat_nmea0183.log
 *         (signalk-server samples): 22,694 instrument sentences, no RMC/GGA.
 *  [syn]  synthetic: a real sentence with one field changed, checksum
 *         recomputed by mk() below; the row says which field.
 * Expected coordinates were computed independently (Python fractions: the
 * exact degrees + minutes/60, correctly rounded to a double) and agree with
 * gpsd's .chk output to its 9 printed decimals; they are compared exactly.
 */

/* ------------------------------------------------------------------ helpers */

/* "$" + body + "*hh" with the right checksum. */
static const char *mk(const char *body)
{
	static char buf[8][512];
	static int k;
	char *b = buf[k++ % 8];

	snprintf(b, 512, "$%s*%02X", body,
		 nmea_checksum(body, strlen(body)));
	return b;
}

static int parse(const char *line, struct nmea_sentence *s)
{
	return nmea_parse(line, strlen(line), s);
}

#define ASSERT_DBL_EXACT(a, b)                                                \
	do {                                                                  \
		double a_ = (a), b_ = (b);                                    \
		if (a_ != b_)                                                 \
			fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);   \
	} while (0)

#define ASSERT_DBL_NEAR(a, b, eps)                                            \
	do {                                                                  \
		double a_ = (a), b_ = (b);                                    \
		if (a_ - b_ > (eps) || b_ - a_ > (eps))                       \
			fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);   \
	} while (0)

static int64_t utc_ms(int y, int mo, int d, int h, int mi, int s, int ms)
{
	return ((nmea_days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL +
	       s * 1000LL + ms;
}

/* ------------------------------------------------------------------ RMC */

struct rmc_vec {
	const char *src;
	const char *line;
	int32_t tod_ms;
	int y, mo, d;      /* y == 0: no date */
	int has_pos;
	double lat, lon;
	char status, mode;
	int valid;
	int has_speed;
	double speed;
	int has_course;
	double course;
};

static const struct rmc_vec rmc_vecs[] = {
	{"[py] test_RMC, 1994 west, no mode field",
	 "$GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E*68",
	 ((22 * 60 + 54) * 60 + 46) * 1000, 1994, 11, 19, 1,
	 49.274166666666666, -123.18533333333333, 'A', 0, 1, 1, 0.5, 1, 54.7},
	{"[bd] first valid GNRMC",
	 "$GNRMC,074155.799,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,A*76",
	 ((7 * 60 + 41) * 60 + 55) * 1000 + 799, 2015, 2, 25, 1,
	 31.247949999999999, 121.58743833333334, 'A', 'A', 1, 1, 0.30, 1, 4.94},
	{"[bd] void GNRMC, no position, mode N",
	 "$GNRMC,074150.799,V,,,,,,,250215,,,N*52",
	 ((7 * 60 + 41) * 60 + 50) * 1000 + 799, 2015, 2, 25, 0, 0, 0,
	 'V', 'N', 0, 0, 0, 0, 0},
	{"[gb] GNRMC of a GB-talker log",
	 "$GNRMC,053232.438,A,3114.8789,N,12135.2442,E,0.26,167.42,020315,,,A*70",
	 ((5 * 60 + 32) * 60 + 32) * 1000 + 438, 2015, 3, 2, 1,
	 31.247981666666668, 121.58740333333333, 'A', 'A', 1, 1, 0.26, 1,
	 167.42},
	{"[qk] 5-decimal, NMEA 4.1 nav status V with a good fix",
	 "$GNRMC,055234.000,A,4739.71890,N,12219.58362,W,0.00,286.35,050826,,,A,V*13",
	 ((5 * 60 + 52) * 60 + 34) * 1000, 2026, 8, 5, 1,
	 47.661981666666669, -122.32639366666666, 'A', 'A', 1, 1, 0.0, 1,
	 286.35},
	{"[um] empty course",
	 "$GNRMC,000653.00,A,4404.12994,N,12118.84613,W,0.052,,090624,,,A,V*08",
	 (6 * 60 + 53) * 1000, 2024, 6, 9, 1, 44.068832333333333,
	 -121.31410216666667, 'A', 'A', 1, 1, 0.052, 0, 0},
	{"[tr] 7-decimal minutes",
	 "$GNRMC,164414.90,A,4650.5156500,N,01246.1059604,E,0.018,,091123,,,A,V*15",
	 ((16 * 60 + 44) * 60 + 14) * 1000 + 900, 2023, 11, 9, 1,
	 46.841927499999997, 12.768432673333333, 'A', 'A', 1, 1, 0.018, 0, 0},
	{"[tr] 6-decimal minutes, west",
	 "$GPRMC,064411.000,A,3717.240078,N,00603.046984,W,0.000,1,010313,,,A*6C",
	 ((6 * 60 + 44) * 60 + 11) * 1000, 2013, 3, 1, 1, 37.28733463333333,
	 -6.0507830666666669, 'A', 'A', 1, 1, 0.0, 1, 1.0},
	{"[tr] south-west, year 96 -> 1996",
	 "$GPRMC,161223.000,A,2517.0545,S,05739.1788,W,0.0,0.0,011196,,,A*61",
	 ((16 * 60 + 12) * 60 + 23) * 1000, 1996, 11, 1, 1, -25.284241666666667,
	 -57.652979999999999, 'A', 'A', 1, 1, 0.0, 1, 0.0},
	{"[tr] void with coordinates, mode N (device prefix stripped)",
	 "$GPRMC,155708.252,V,4610.1676,N,00606.4586,E,000.0,000.0,060214,,,N*76",
	 ((15 * 60 + 57) * 60 + 8) * 1000 + 252, 2014, 2, 6, 1, 46.16946,
	 6.1076433333333338, 'V', 'N', 0, 1, 0.0, 1, 0.0},
	{"[cn] BDRMC void with coordinates, empty date",
	 "$BDRMC,000133.000,V,3104.465517,N,12121.549250,E,0.000,0.000,,,E,N*2F",
	 (1 * 60 + 33) * 1000, 0, 0, 0, 1, 31.074425283333333,
	 121.35915416666667, 'V', 'N', 0, 1, 0.0, 1, 0.0},
	{"[tr] void at 0/0",
	 "$GPRMC,192350.000,V,0000.0000,N,00000.0000,E,,,110318,,*12",
	 ((19 * 60 + 23) * 60 + 50) * 1000, 2018, 3, 11, 1, 0.0, 0.0, 'V', 0,
	 0, 0, 0, 0, 0},
	{"[tr] 4-digit longitude (13 deg 53.52 min)",
	 "$GPRMC,012006,A,4828.10,N,1353.52,E,0.00,0.00,180915,020.3,E*42",
	 ((1 * 60 + 20) * 60 + 6) * 1000, 2015, 9, 18, 1, 48.468333333333334,
	 13.891999999999999, 'A', 0, 1, 1, 0.0, 1, 0.0},
	{"[tr] 4-digit longitude, 6-decimal speed (device prefix stripped)",
	 "$GPRMC,133343,A,5308.56325,N,1029.12850,E,0.000000,0.000000,290316,,*2A",
	 ((13 * 60 + 33) * 60 + 43) * 1000, 2016, 3, 29, 1, 53.142720833333335,
	 10.485474999999999, 'A', 0, 1, 1, 0.0, 1, 0.0},
};

static void test_rmc_vectors(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(rmc_vecs) / sizeof(rmc_vecs[0]); i++) {
		const struct rmc_vec *v = &rmc_vecs[i];
		struct nmea_sentence s;
		int r = parse(v->line, &s);

		if (r != NMEA_OK)
			fail_msg("%s: %s", v->src, nmea_strerror(r));
		assert_int_equal(s.type, NMEA_RMC);
		assert_int_equal(s.has_time, 1);
		assert_int_equal(s.tod_ms, v->tod_ms);
		assert_int_equal(s.has_date, v->y != 0);
		if (v->y) {
			assert_int_equal(s.year, v->y);
			assert_int_equal(s.month, v->mo);
			assert_int_equal(s.day, v->d);
		}
		assert_int_equal(s.has_pos, v->has_pos);
		if (v->has_pos) {
			ASSERT_DBL_EXACT(s.lat, v->lat);
			ASSERT_DBL_EXACT(s.lon, v->lon);
		}
		assert_int_equal(s.status, v->status);
		assert_int_equal(s.mode, v->mode);
		assert_int_equal(s.valid, v->valid);
		assert_int_equal(s.has_speed, v->has_speed);
		if (v->has_speed)
			ASSERT_DBL_NEAR(s.speed_kn, v->speed, 1e-12);
		assert_int_equal(s.has_course, v->has_course);
		if (v->has_course)
			ASSERT_DBL_NEAR(s.course, v->course, 1e-12);
		assert_int_equal(s.talker[0], v->line[1]);
		assert_int_equal(s.talker[1], v->line[2]);
		assert_int_equal(s.talker[2], '\0');
	}
}

/* ------------------------------------------------------------------ GGA */

struct gga_vec {
	const char *src;
	const char *line;
	int32_t tod_ms;
	int has_pos;
	double lat, lon;
	int quality, sats;
	int has_hdop;
	double hdop;
	int has_alt;
	double alt;
};

static const struct gga_vec gga_vecs[] = {
	{"[py] test_GGA, south",
	 "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6D",
	 ((18 * 60 + 43) * 60 + 53) * 1000 + 70, 1, -19.484083333333334, 24.1751,
	 1, 4, 1, 2.6, 1, 100.0},
	{"[bd] 15th field after the station id",
	 "$GNGGA,074155.799,3114.8770,N,12135.2463,E,1,05,1.3,156.9,M,8.3,M,,0000,4.9*77",
	 ((7 * 60 + 41) * 60 + 55) * 1000 + 799, 1, 31.247949999999999,
	 121.58743833333334, 1, 5, 1, 1.3, 1, 156.9},
	{"[bd] no fix, trailing comma",
	 "$GNGGA,074150.799,,,,,0,00,,,M,0.0,M,,0000,*64",
	 ((7 * 60 + 41) * 60 + 50) * 1000 + 799, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"[um] 29 satellites, empty geoid separation",
	 "$GNGGA,000653.00,4404.12994,N,12118.84613,W,1,29,0.69,1109.2,M,,M,,*71",
	 (6 * 60 + 53) * 1000, 1, 44.068832333333333, -121.31410216666667, 1, 29,
	 1, 0.69, 1, 1109.2},
	{"[cn] BDGGA quality 0 with coordinates",
	 "$BDGGA,000133.000,3104.465517,N,12121.549250,E,0,00,127.000,30.744,M,0,M,,*5F",
	 (1 * 60 + 33) * 1000, 1, 31.074425283333333, 121.35915416666667, 0, 0,
	 1, 127.0, 1, 30.744},
	{"[tr] 7-decimal GNGGA",
	 "$GNGGA,164414.90,4650.5156500,N,01246.1059604,E,1,12,0.84,740.729,M,44.804,M,,*4E",
	 ((16 * 60 + 44) * 60 + 14) * 1000 + 900, 1, 46.841927499999997,
	 12.768432673333333, 1, 12, 1, 0.84, 1, 740.729},
	{"[py] test_missing_latlon",
	 "$GPGGA,201716.684,,,,,0,00,,,M,0.0,M,,0000*5F",
	 ((20 * 60 + 17) * 60 + 16) * 1000 + 684, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	{"[syn] [tr] 4807.038 row, negative altitude, checksum fixed",
	 NULL, 0, 1, 48.1173, 11.516666666666667, 1, 8, 1, 0.9, 1, -545.4},
};

static void test_gga_vectors(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(gga_vecs) / sizeof(gga_vecs[0]); i++) {
		const struct gga_vec *v = &gga_vecs[i];
		const char *line = v->line ? v->line :
			mk("GPGGA,000000,4807.038,N,01131.000,E,1,08,0.9,-545.4,M,46.9,M,,");
		struct nmea_sentence s;
		int r = parse(line, &s);

		if (r != NMEA_OK)
			fail_msg("%s: %s", v->src, nmea_strerror(r));
		assert_int_equal(s.type, NMEA_GGA);
		assert_int_equal(s.tod_ms, v->tod_ms);
		assert_int_equal(s.has_date, 0);
		assert_int_equal(s.has_pos, v->has_pos);
		if (v->has_pos) {
			ASSERT_DBL_EXACT(s.lat, v->lat);
			ASSERT_DBL_EXACT(s.lon, v->lon);
		}
		assert_int_equal(s.quality, v->quality);
		assert_int_equal(s.valid, v->quality > 0);
		assert_int_equal(s.satellites, v->sats);
		assert_int_equal(s.has_hdop, v->has_hdop);
		if (v->has_hdop)
			ASSERT_DBL_NEAR(s.hdop, v->hdop, 1e-12);
		assert_int_equal(s.has_altitude, v->has_alt);
		if (v->has_alt)
			ASSERT_DBL_NEAR(s.altitude_m, v->alt, 1e-9);
	}
}

/* ------------------------------------------------------------------ codes */

struct rc_vec {
	const char *src;
	const char *line;  /* NULL: body is passed through mk() */
	const char *body;
	int rc;
	int err_field;
};

static const struct rc_vec rc_vecs[] = {
	/* ignored: well-formed, not used */
	{"[py] test_missing_2 GSV", "$GPGSV,3,3,09,24,03,046,*47", NULL,
	 NMEA_IGNORED, 0},
	{"[py] test_TXT, spaces and parentheses",
	 "$GNTXT,01,01,02,ROM BASE 2.01 (75331) Oct 29 2013 13:28:17*44", NULL,
	 NMEA_IGNORED, 0},
	{"[py] test_missing VTG", "$GPVTG,108.53,T,,M,0.04,N,0.07,K,A*31", NULL,
	 NMEA_IGNORED, 0},
	{"[tr] proprietary $PGID", "$PGID,359853000144328*0F", NULL,
	 NMEA_IGNORED, 0},
	{"[bd] proprietary $PSRFEPE",
	 "$PSRFEPE,074155.799,A,1.3,10.59,52.97,0.6,180.0*16", NULL,
	 NMEA_IGNORED, 0},
	{"[um] non-standard address $SNRSTAT", "$SNRSTAT,1,1,0,0*5D", NULL,
	 NMEA_IGNORED, 0},
	{"[bd] GNGNS", "$GNGNS,074155.799,3114.8770,N,12135.2463,E,ANNA,05,1.3,156.9,8.3,,0000*52",
	 NULL, NMEA_IGNORED, 0},
	{"AIS in aishub_sample.nmea", "!AIVDM,1,1,,A,13HOI:0P0000VOHLCnHQKwvL05Ip,0*23",
	 NULL, NMEA_IGNORED, 0},
	{"[ais] tag block, AIS", "\\s:2573535,c:1671533231*08\\!BSVDM,2,2,8,B,00000000000,2*36",
	 NULL, NMEA_IGNORED, 0},
	{"[ais] tag block, $ARVSI",
	 "\\s:APIDSSRC1,g:2-2-05649,n:08852,c:0002780328*04\\$ARVSI,1234567899,,041848.95096061,0427,-098,03*62",
	 NULL, NMEA_IGNORED, 0},
	{"[syn] [ais] tag block with a wrong checksum",
	 "\\s:2573535,c:1671533231*09\\!BSVDM,2,2,8,B,00000000000,2*36", NULL,
	 NMEA_ECHECKSUM, 0},
	{"[syn] unterminated tag block", "\\s:2573535,c:1671533231*08!BSVDM*36",
	 NULL, NMEA_ESYNTAX, 0},
	{"[syn] talker P is proprietary, not RMC", NULL,
	 "PXRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E",
	 NMEA_IGNORED, 0},
	/* checksums */
	{"[py] test_checksum: *00", "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*00",
	 NULL, NMEA_ECHECKSUM, 0},
	{"[py] lower-case hex accepted (test_GGA with *6d)",
	 "$GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000*6d",
	 NULL, NMEA_OK, 0},
	{"[tr] wrong checksum as published (*6F, is 60)",
	 "$GPGGA,000000.0,4337.200755,N,11611.955704,W,1,05,3.5,825.5,M,-11.0,M,,*6F",
	 NULL, NMEA_ECHECKSUM, 0},
	{"[tr] wrong checksum as published (*47, is 4A)",
	 "$GPGGA,000000,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,*47",
	 NULL, NMEA_ECHECKSUM, 0},
	{"[tr] no checksum",
	 "$GPGGA,082350.000,5355.0314,N,01044.1271,E,1,10,0.7,-46.0,M,0.0,M,0.0,0000",
	 NULL, NMEA_ENOCHECKSUM, 0},
	{"[tr] no checksum, truncated RMC",
	 "$GPRMC,082350.000,A,5355.0314,N,01044.1271,E,26.20,184.27,080518,,",
	 NULL, NMEA_ENOCHECKSUM, 0},
	{"[py] test_corrupt_message", "$GPRMC,172142.00,A,4805.30256324,N,11629.09084774,W,0.D",
	 NULL, NMEA_ENOCHECKSUM, 0},
	{"[tr] spaces around the star",
	 "$GPRMC,213516.0,A,4337.216791,N,11611.995877,W,0.0,335.4,181214,,,A * 72",
	 NULL, NMEA_ESYNTAX, 0},
	{"[tr] one-digit checksum", "$GPRMA,V,0000.00,S,00000.00,E,,,00.0,000.,11.,E*7",
	 NULL, NMEA_ESYNTAX, 0},
	{"[tr] data after the checksum",
	 "$GPRMC,073446.000,A,1255.5125,N,07738.2948,E,0.00,0.53,080316,D*71,11,865733027593268,1,090,086",
	 NULL, NMEA_ESYNTAX, 0},
	/* garbage */
	{"[py] test_fail", "FOOBAR", NULL, NMEA_ESYNTAX, 0},
	{"[py] test_slash", "$GPGSV,3,3,09,24,03,046,*47\\", NULL, NMEA_ESYNTAX, 0},
	{"[tr] device prefix not stripped",
	 "123456789$GPRMC,155708.252,V,4610.1676,N,00606.4586,E,000.0,000.0,060214,,,N*76",
	 NULL, NMEA_ESYNTAX, 0},
	{"[tr] login line", "IMEI 351467108700000", NULL, NMEA_ESYNTAX, 0},
	{"[syn] empty", "", NULL, NMEA_ESYNTAX, 0},
	{"[syn] just a dollar", "$", NULL, NMEA_ESYNTAX, 0},
	{"[syn] empty address", NULL, ",1,2", NMEA_ESYNTAX, 0},
	{"[syn] lower-case address", NULL, "gprmc,1", NMEA_ESYNTAX, 0},
	{"[syn] control byte inside", "$GPGSV,3,3,09,24,03\x01,046,*47", NULL,
	 NMEA_ESYNTAX, 0},
	{"[syn] 8-bit byte inside", "$GPGSV,3,3,09,24,03\xb0,046,*47", NULL,
	 NMEA_ESYNTAX, 0},
	/* truncated */
	{"[syn] [py] RMC cut after the course", NULL,
	 "GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7", NMEA_ESHORT, 0},
	{"[syn] GGA cut after the longitude", NULL,
	 "GPGGA,184353.07,1929.045,S,02410.506,E", NMEA_ESHORT, 0},
	{"[syn] PSWID without id", NULL, "PSWID", NMEA_ESHORT, 0},
	/* out of range / malformed fields, from [py] test_RMC and test_GGA */
	{"[syn] hour 24", NULL,
	 "GPRMC,245446,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 1},
	{"[syn] minute 60", NULL,
	 "GPRMC,226046,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 1},
	{"[syn] second 61", NULL,
	 "GPRMC,225461,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 1},
	{"[syn] leap second not at 23:59", NULL,
	 "GPRMC,225460,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 1},
	{"[syn] 5-digit time", NULL,
	 "GPRMC,22544,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 1},
	{"[syn] time with a comma-less junk", NULL,
	 "GPRMC,225446x,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 1},
	{"[syn] status X", NULL,
	 "GPRMC,225446,X,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 2},
	{"[syn] latitude 91", NULL,
	 "GPRMC,225446,A,9100.00,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 3},
	{"[syn] latitude 90 deg 0.01 min", NULL,
	 "GPRMC,225446,A,9000.01,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 3},
	{"[syn] latitude minutes 60", NULL,
	 "GPRMC,225446,A,4960.00,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 3},
	{"[syn] latitude with decimal comma-like junk", NULL,
	 "GPRMC,225446,A,4916;45,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 3},
	{"[syn] latitude two digits", NULL,
	 "GPRMC,225446,A,49.5,N,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 3},
	{"[syn] hemisphere E for latitude", NULL,
	 "GPRMC,225446,A,4916.45,E,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 4},
	{"[syn] longitude 181", NULL,
	 "GPRMC,225446,A,4916.45,N,18100.00,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 5},
	{"[syn] longitude six integer digits", NULL,
	 "GPRMC,225446,A,4916.45,N,123110.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 5},
	{"[syn] longitude hemisphere missing", NULL,
	 "GPRMC,225446,A,4916.45,N,12311.12,,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 6},
	{"[syn] latitude missing, longitude present", NULL,
	 "GPRMC,225446,A,,,12311.12,W,000.5,054.7,191194,020.3,E", NMEA_EFIELD, 3},
	{"[syn] negative speed", NULL,
	 "GPRMC,225446,A,4916.45,N,12311.12,W,-0.5,054.7,191194,020.3,E", NMEA_EFIELD, 7},
	{"[syn] speed with two points", NULL,
	 "GPRMC,225446,A,4916.45,N,12311.12,W,0.0.5,054.7,191194,020.3,E", NMEA_EFIELD, 7},
	{"[syn] course 360.1", NULL,
	 "GPRMC,225446,A,4916.45,N,12311.12,W,000.5,360.1,191194,020.3,E", NMEA_EFIELD, 8},
	{"[syn] month 13", NULL,
	 "GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,191394,020.3,E", NMEA_EFIELD, 9},
	{"[syn] day 0", NULL,
	 "GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,001194,020.3,E", NMEA_EFIELD, 9},
	{"[syn] 31 November", NULL,
	 "GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,311194,020.3,E", NMEA_EFIELD, 9},
	{"[syn] 29 February 2023", NULL,
	 "GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,290223,020.3,E", NMEA_EFIELD, 9},
	{"[syn] 8-digit date", NULL,
	 "GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,19111994,020.3,E", NMEA_EFIELD, 9},
	{"[syn] mode of two letters", NULL,
	 "GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,191194,020.3,E,AA", NMEA_EFIELD, 12},
	{"[syn] GGA quality 10", NULL,
	 "GPGGA,184353.07,1929.045,S,02410.506,E,10,04,2.6,100.00,M,-33.9,M,,0000", NMEA_EFIELD, 6},
	{"[syn] GGA satellites x", NULL,
	 "GPGGA,184353.07,1929.045,S,02410.506,E,1,x4,2.6,100.00,M,-33.9,M,,0000", NMEA_EFIELD, 7},
	{"[syn] GGA HDOP junk", NULL,
	 "GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6a,100.00,M,-33.9,M,,0000", NMEA_EFIELD, 8},
	{"[syn] GGA altitude junk", NULL,
	 "GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,1e2,M,-33.9,M,,0000", NMEA_EFIELD, 9},
	{"[syn] PSWID with letters", NULL, "PSWID,13800138000A", NMEA_EFIELD, 1},
	{"[syn] PSWID empty id", NULL, "PSWID,", NMEA_EFIELD, 1},
	{"[syn] PSWID 21 digits", NULL, "PSWID,123456789012345678901", NMEA_EFIELD, 1},
};

static void test_codes(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(rc_vecs) / sizeof(rc_vecs[0]); i++) {
		const struct rc_vec *v = &rc_vecs[i];
		const char *line = v->line ? v->line : mk(v->body);
		struct nmea_sentence s;
		int r = parse(line, &s);

		if (r != v->rc)
			fail_msg("%s: got %d (%s), expected %d (%s)", v->src, r,
				 nmea_strerror(r), v->rc, nmea_strerror(v->rc));
		if (r == NMEA_EFIELD && s.err_field != v->err_field)
			fail_msg("%s: err_field %d, expected %d", v->src,
				 s.err_field, v->err_field);
	}
}

/* Ignored sentences still say what they were. */
static void test_ignored_address(void **state)
{
	struct nmea_sentence s;

	assert_int_equal(parse("$GPGSV,3,3,09,24,03,046,*47", &s), NMEA_IGNORED);
	assert_int_equal(s.type, NMEA_OTHER);
	assert_string_equal(s.address, "GPGSV");
	assert_string_equal(s.talker, "GP");
	assert_int_equal(parse("$PSRFEPE,074155.799,A,1.3,10.59,52.97,0.6,180.0*16",
			       &s), NMEA_IGNORED);
	assert_string_equal(s.address, "PSRFEPE");
	assert_string_equal(s.talker, "");
}

/* Line ends, leading blanks ([bd] has " $GNRMC" at 074157.799), and the
 * pynmea2 test_whitespace surroundings (pynmea2 also accepts a missing '$',
 * which we do not). */
static void test_whitespace(void **state)
{
	static const char *lines[] = {
		" $GNRMC,074157.799,A,3114.8902,N,12135.2443,E,0.32,4.94,250215,,,A*7F",
		"$GNRMC,074157.799,A,3114.8902,N,12135.2443,E,0.32,4.94,250215,,,A*7F\r\n",
		"  $GNRMC,074157.799,A,3114.8902,N,12135.2443,E,0.32,4.94,250215,,,A*7F  \r\n  ",
		"\t$GNRMC,074157.799,A,3114.8902,N,12135.2443,E,0.32,4.94,250215,,,A*7F\n",
	};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct nmea_sentence s;

		assert_int_equal(parse(lines[i], &s), NMEA_OK);
		ASSERT_DBL_EXACT(s.lat, 31.248169999999998);
		ASSERT_DBL_EXACT(s.lon, 121.587405);
	}
	{
		struct nmea_sentence s;

		assert_int_equal(parse("  GPGSV,3,3,09,24,03,046,*47  \r\n  ", &s),
				 NMEA_ESYNTAX);
	}
}

/* [py] test_timestamp: any number of fraction digits (we keep ms). */
static void test_time_fractions(void **state)
{
	static const struct {
		const char *t;
		int32_t ms;
	} v[] = {
		{"115919", 0},        {"115919.", 0},       {"115919.1", 100},
		{"115919.12", 120},   {"115919.123", 123},  {"115919.1234", 123},
		{"115919.12345", 123}, {"115919.1234567", 123},
		{"000000.000", -1}, /* -1: midnight, 0 s */
		{"235959.999", -2},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char body[128];
		struct nmea_sentence s;
		int32_t want;

		snprintf(body, sizeof(body),
			 "GPGGA,%s,1929.045,S,02410.506,E,1,04,2.6,100.00,M,-33.9,M,,0000",
			 v[i].t);
		assert_int_equal(parse(mk(body), &s), NMEA_OK);
		want = v[i].ms == -1 ? 0 : v[i].ms == -2 ? 86399999 :
		       (11 * 3600 + 59 * 60 + 19) * 1000 + v[i].ms;
		assert_int_equal(s.tod_ms, want);
	}
}

/* Leap second: 23:59:60 is kept as 23:59:59.999. [syn] from [py] test_RMC. */
static void test_leap_second(void **state)
{
	struct nmea_sentence s;

	assert_int_equal(parse(mk("GPRMC,235960.5,A,4916.45,N,12311.12,W,000.5,054.7,311216,020.3,E"),
			       &s), NMEA_OK);
	assert_int_equal(s.tod_ms, 86399999);
}

/* Two-digit year pivot: yy < 80 -> 20yy ([py] 191194 -> 1994). */
static void test_year_pivot(void **state)
{
	static const struct {
		const char *d;
		int y;
	} v[] = {
		{"191194", 1994}, {"011196", 1996}, {"010180", 1980},
		{"311279", 2079}, {"010100", 2000}, {"290200", 2000},
		{"311299", 1999}, {"290296", 1996},
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char body[128];
		struct nmea_sentence s;

		snprintf(body, sizeof(body),
			 "GPRMC,225446,A,4916.45,N,12311.12,W,000.5,054.7,%s,020.3,E",
			 v[i].d);
		assert_int_equal(parse(mk(body), &s), NMEA_OK);
		assert_int_equal(s.year, v[i].y);
	}
}

static void test_coordinate_edges(void **state)
{
	struct nmea_sentence s;

	/* 90 and 180 exactly are legal; "0000" without decimals too */
	assert_int_equal(parse(mk("GPRMC,000000,A,9000.000,S,18000.000,W,,,010120,,"), &s),
			 NMEA_OK);
	ASSERT_DBL_EXACT(s.lat, -90.0);
	ASSERT_DBL_EXACT(s.lon, -180.0);
	assert_int_equal(parse(mk("GPRMC,000000,A,0000,N,00030,E,,,010120,,"), &s),
			 NMEA_OK);
	ASSERT_DBL_EXACT(s.lat, 0.0);
	ASSERT_DBL_EXACT(s.lon, 0.5);
	/* [py] test_corrupt_message coordinates (8 decimals), checksummed:
	 * 4805.30256324 -> 48 + 5.30256324/60; 11629.09084774 W */
	assert_int_equal(parse(mk("GPRMC,172142.00,A,4805.30256324,N,11629.09084774,W,0.0,,010120,,"),
			       &s), NMEA_OK);
	ASSERT_DBL_EXACT(s.lat, 48.088376054);
	ASSERT_DBL_NEAR(s.lon, -116.48484746233333, 1e-14);
	/* 15 decimals: the ones past 11 are below 1e-12 degree */
	assert_int_equal(parse(mk("GPRMC,000000,A,4916.450000000009,N,12311.120000000009,W,,,010120,,"),
			       &s), NMEA_OK);
	ASSERT_DBL_EXACT(s.lat, 49.274166666666666);
	/* course 360 becomes 0 */
	assert_int_equal(parse(mk("GPRMC,000000,A,4916.45,N,12311.12,W,1.0,360.0,010120,,"),
			       &s), NMEA_OK);
	ASSERT_DBL_EXACT(s.course, 0.0);
	/* altitude in feet is not taken as metres */
	assert_int_equal(parse(mk("GPGGA,184353.07,1929.045,S,02410.506,E,1,04,2.6,328.1,f,-33.9,M,,0000"),
			       &s), NMEA_OK);
	assert_int_equal(s.has_altitude, 0);
	/* empty quality is "no fix" */
	assert_int_equal(parse(mk("GPGGA,184353.07,,,,,,,,,,,,,"), &s), NMEA_OK);
	assert_int_equal(s.quality, 0);
	assert_int_equal(s.valid, 0);
	/* an RMC with nothing but commas ([bd]-style cold start) */
	assert_int_equal(parse(mk("GNRMC,,V,,,,,,,,,,N"), &s), NMEA_OK);
	assert_int_equal(s.has_time, 0);
	assert_int_equal(s.has_date, 0);
	assert_int_equal(s.has_pos, 0);
}

static void test_pswid(void **state)
{
	struct nmea_sentence s;

	assert_int_equal(parse(mk("PSWID,13800138000"), &s), NMEA_OK);
	assert_int_equal(s.type, NMEA_PSWID);
	assert_string_equal(s.id, "13800138000");
	assert_int_equal(parse(mk("PSWID,413000001"), &s), NMEA_OK);
	assert_string_equal(s.id, "413000001");
	assert_int_equal(parse(mk("PSWID,12345678901234567890"), &s), NMEA_OK);
	assert_string_equal(s.id, "12345678901234567890");
	/* later fields are tolerated */
	assert_int_equal(parse(mk("PSWID,413000001,v2"), &s), NMEA_OK);
	assert_string_equal(s.id, "413000001");
	/* CRLF like any sentence */
	assert_int_equal(parse("$PSWID,1*44\r\n", &s), NMEA_OK);
	assert_string_equal(s.id, "1");
	/* and checksummed like any sentence */
	assert_int_equal(parse("$PSWID,1*45", &s), NMEA_ECHECKSUM);
	assert_int_equal(parse("$PSWID,1", &s), NMEA_ENOCHECKSUM);
}

static void test_too_long(void **state)
{
	char body[NMEA_MAX_LINE + 16];
	struct nmea_sentence s;
	size_t n;

	/* "$GPXXX," + fill + "*hh" of exactly NMEA_MAX_LINE bytes is fine */
	n = NMEA_MAX_LINE - 4; /* minus "$" and "*hh" */
	memset(body, '0', n);
	memcpy(body, "GPXXX,", 6);
	body[n] = '\0';
	assert_int_equal(strlen(mk(body)), NMEA_MAX_LINE);
	assert_int_equal(parse(mk(body), &s), NMEA_IGNORED);
	body[n] = '0';
	body[n + 1] = '\0';
	assert_int_equal(parse(mk(body), &s), NMEA_ETOOLONG);
}

/* Every line of the Helsinki sample parses (checksums good), and none is a
 * sentence we use: it has GLL/ZDA positions but no RMC or GGA. */
static void test_helsinki_file(void **state)
{
	const char *path = getenv("NMEA_HELSINKI");
	char line[512];
	size_t n = 0, ignored = 0;
	FILE *f;

	if (!path)
		path = "../shared/data/tracks/helsinki_sailboat_nmea0183.log";
	f = fopen(path, "r");
	if (!f) {
		skip();
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		struct nmea_sentence s;
		int r = parse(line, &s);

		n++;
		if (r == NMEA_IGNORED)
			ignored++;
		else
			fail_msg("line %zu: %s: %s", n, nmea_strerror(r), line);
	}
	fclose(f);
	assert_int_equal(n, 22694);
	assert_int_equal(ignored, n);
}

/* ------------------------------------------------------------------ liner */

struct lines {
	size_t n;
	int err[64];
	char text[64][NMEA_MAX_LINE + 1];
	int stop_after;
};

static int line_cb(void *user, const char *line, size_t len, int err)
{
	struct lines *c = user;

	assert_true(c->n < 64);
	c->err[c->n] = err;
	if (line) {
		assert_true(len <= NMEA_MAX_LINE);
		memcpy(c->text[c->n], line, len);
		c->text[c->n][len] = '\0';
	} else {
		assert_int_equal(err, NMEA_ETOOLONG);
		c->text[c->n][0] = '\0';
	}
	c->n++;
	return c->stop_after && (int)c->n >= c->stop_after ? 7 : 0;
}

/* [gb] the epoch 053232.438, as sent (CRLF) */
static const char gb_stream[] =
	"$PSRFEPE,053232.438,A,1.2,5.77,12.97,1.2,180.0*21\r\n"
	"$GPGGA,053232.438,3114.8789,N,12135.2442,E,1,06,1.2,153.8,M,8.3,M,,0000*6A\r\n"
	"$GNGNS,053232.438,3114.8789,N,12135.2442,E,ANNA,07,1.2,153.8,8.3,,0000*5F\r\n"
	"$GNGSA,A,3,22,18,14,12,31,24,,,,,,,2.5,1.2,2.2*23\r\n"
	"$GNGSA,A,3,201,,,,,,,,,,,,2.5,1.2,2.2*1B\r\n"
	"$GBGSV,3,1,11,201,49,147,44,202,23,250,35,204,35,123,42,213,83,243,*6D\r\n"
	"$GNRMC,053232.438,A,3114.8789,N,12135.2442,E,0.26,167.42,020315,,,A*70\r\n";

static void check_gb_lines(const struct lines *c)
{
	const char *p = gb_stream;
	size_t i;

	assert_int_equal(c->n, 7);
	for (i = 0; i < c->n; i++) {
		const char *e = strstr(p, "\r\n");

		assert_int_equal(c->err[i], NMEA_OK);
		assert_int_equal(strlen(c->text[i]), (size_t)(e - p));
		assert_memory_equal(c->text[i], p, (size_t)(e - p));
		p = e + 2;
	}
}

static void test_liner_every_split(void **state)
{
	size_t len = sizeof(gb_stream) - 1, i, j;
	struct nmea_liner l;
	struct lines c;

	/* one split at every byte boundary */
	for (i = 0; i <= len; i++) {
		memset(&c, 0, sizeof(c));
		nmea_liner_init(&l);
		assert_int_equal(nmea_liner_push(&l, gb_stream, i, line_cb, &c), 0);
		assert_int_equal(nmea_liner_push(&l, gb_stream + i, len - i, line_cb, &c), 0);
		check_gb_lines(&c);
	}
	/* byte by byte */
	memset(&c, 0, sizeof(c));
	nmea_liner_init(&l);
	for (i = 0; i < len; i++)
		assert_int_equal(nmea_liner_push(&l, gb_stream + i, 1, line_cb, &c), 0);
	check_gb_lines(&c);
	/* every pair of split points over the first two lines and a bit */
	for (i = 0; i < 140; i++) {
		for (j = i; j < 140; j++) {
			memset(&c, 0, sizeof(c));
			nmea_liner_init(&l);
			nmea_liner_push(&l, gb_stream, i, line_cb, &c);
			nmea_liner_push(&l, gb_stream + i, j - i, line_cb, &c);
			nmea_liner_push(&l, gb_stream + j, len - j, line_cb, &c);
			check_gb_lines(&c);
		}
	}
}

static void test_liner_endings(void **state)
{
	static const char s[] = "$A*41\n\r\n\n$B*42\r\r\n$C\rD*00\r\nabc";
	struct nmea_liner l;
	struct lines c = {0};

	nmea_liner_init(&l);
	assert_int_equal(nmea_liner_push(&l, s, sizeof(s) - 1, line_cb, &c), 0);
	/* LF alone, blank lines skipped, CRs before LF stripped, inner CR kept */
	assert_int_equal(c.n, 3);
	assert_string_equal(c.text[0], "$A*41");
	assert_string_equal(c.text[1], "$B*42");
	assert_string_equal(c.text[2], "$C\rD*00");
	/* the unterminated tail comes out on flush, once */
	assert_int_equal(nmea_liner_flush(&l, line_cb, &c), 0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.text[3], "abc");
	assert_int_equal(nmea_liner_flush(&l, line_cb, &c), 0);
	assert_int_equal(c.n, 4);
}

static void test_liner_overlong(void **state)
{
	char big[3 * NMEA_MAX_LINE];
	struct nmea_liner l;
	struct lines c = {0};
	size_t i;

	/* exactly NMEA_MAX_LINE plus CRCR LF: fine */
	memset(big, 'x', NMEA_MAX_LINE);
	memcpy(big + NMEA_MAX_LINE, "\r\r\n", 3);
	nmea_liner_init(&l);
	for (i = 0; i < NMEA_MAX_LINE + 3; i++)
		nmea_liner_push(&l, big + i, 1, line_cb, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.err[0], NMEA_OK);
	assert_int_equal(strlen(c.text[0]), NMEA_MAX_LINE);

	/* one more byte: reported once, at once, then skipped to the LF */
	memset(&c, 0, sizeof(c));
	memset(big, 'y', sizeof(big));
	nmea_liner_init(&l);
	nmea_liner_push(&l, big, NMEA_MAX_LINE, line_cb, &c);
	assert_int_equal(c.n, 0);
	nmea_liner_push(&l, big, 1, line_cb, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.err[0], NMEA_ETOOLONG);
	nmea_liner_push(&l, big, sizeof(big), line_cb, &c);
	assert_int_equal(c.n, 1);
	nmea_liner_push(&l, "tail\r\n$PSWID,1*44\r\n", 19, line_cb, &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.text[1], "$PSWID,1*44");

	/* a CR that would make it overflow counts when a byte follows it */
	memset(&c, 0, sizeof(c));
	nmea_liner_init(&l);
	nmea_liner_push(&l, big, NMEA_MAX_LINE, line_cb, &c);
	nmea_liner_push(&l, "\rz\n", 3, line_cb, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.err[0], NMEA_ETOOLONG);

	/* flush of a skipped line says nothing more */
	nmea_liner_push(&l, big, NMEA_MAX_LINE + 1, line_cb, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(nmea_liner_flush(&l, line_cb, &c), 0);
	assert_int_equal(c.n, 2);
}

static void test_liner_stop(void **state)
{
	struct nmea_liner l;
	struct lines c = {0};

	c.stop_after = 2;
	nmea_liner_init(&l);
	assert_int_equal(nmea_liner_push(&l, gb_stream, sizeof(gb_stream) - 1,
					 line_cb, &c), 7);
	assert_int_equal(c.n, 2);
}

/* ------------------------------------------------------------------ session */

struct run {
	struct nmea_liner liner;
	struct nmea_session sess;
	size_t nfix;
	struct nmea_fix fix[32];
	size_t nlines, nerr, nignored;
};

static int run_cb(void *user, const char *line, size_t len, int err)
{
	struct run *r = user;
	struct nmea_sentence s;
	int rc;

	r->nlines++;
	if (err) {
		r->nerr++;
		return 0;
	}
	rc = nmea_parse(line, len, &s);
	if (rc == NMEA_IGNORED) {
		r->nignored++;
		return 0;
	}
	if (rc < 0) {
		r->nerr++;
		return 0;
	}
	assert_true(r->nfix + NMEA_FIXES_MAX <= 32);
	r->nfix += (size_t)nmea_session_feed(&r->sess, &s, &r->fix[r->nfix]);
	return 0;
}

static void run_text(struct run *r, const char *text)
{
	memset(r, 0, sizeof(*r));
	nmea_liner_init(&r->liner);
	nmea_session_init(&r->sess);
	assert_int_equal(nmea_liner_push(&r->liner, text, strlen(text), run_cb, r), 0);
}

/* Feeds body strings through mk(); returns the number of fixes. */
static size_t run_bodies(struct run *r, const char *const *bodies, size_t n)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	nmea_session_init(&r->sess);
	for (i = 0; i < n; i++) {
		const char *l = mk(bodies[i]);

		run_cb(r, l, strlen(l), 0);
	}
	return r->nfix;
}

/* [bd] the whole log (comments dropped, the " $GNRMC" line kept as is):
 * GGA comes before RMC, so each fix has the GGA's altitude and satellites;
 * no fix for the void epochs; times and positions as in beidou-bd.log.chk. */
static const char bd_log[] =
	"$PSRFEPE,074150.799,V,,,,,*23\r\n"
	"$GNGGA,074150.799,,,,,0,00,,,M,0.0,M,,0000,*64\r\n"
	"$GNGNS,074150.799,,,,,NNNN,00,,,0.0,,0000*63\r\n"
	"$GPGSA,A,1,,,,,,,,,,,,,,,,*32\r\n"
	"$BDGSA,A,1,,,,,,,,,,,,,,,,*23\r\n"
	"$BDGSV,2,2,07,05,27,090,,13,19,016,,11,07,147,*5E\r\n"
	"$GNRMC,074150.799,V,,,,,,,250215,,,N*52\r\n"
	"$PSRFEPE,074151.799,V,,,,,*22\r\n"
	"$GNGGA,074151.799,,,,,0,00,,,M,0.0,M,,0000,*65\r\n"
	"$GNGNS,074151.799,,,,,NNNN,00,,,0.0,,0000*62\r\n"
	"$GNRMC,074151.799,V,,,,,,,250215,,,N*53\r\n"
	"$PSRF151,3,1833,28692,0x7EFFFFFF*15\r\n"
	"$GNGGA,074154.799,,,,,0,00,,,M,0.0,M,,0000,*60\r\n"
	"$GNRMC,074154.799,V,,,,,,,250215,,,N*56\r\n"
	"$PSRFEPE,074155.799,A,1.3,10.59,52.97,0.6,180.0*16\r\n"
	"$GNGGA,074155.799,3114.8770,N,12135.2463,E,1,05,1.3,156.9,M,8.3,M,,0000,4.9*77\r\n"
	"$GNGNS,074155.799,3114.8770,N,12135.2463,E,ANNA,05,1.3,156.9,8.3,,0000*52\r\n"
	"$GPGSA,A,3,25,32,,,,,,,,,,,5.1,1.3,4.9,3.3*3D\r\n"
	"$BDGSA,A,3,02,03,04,,,,,,,,,,5.1,1.3,4.9,3.3*2F\r\n"
	"$GNRMC,074155.799,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,A*76\r\n"
	"$PSRFEPE,074156.799,A,1.1,64.94,58.97,0.2,180.0*1B\r\n"
	"$GNGGA,074156.799,3114.8950,N,12135.2442,E,1,07,1.1,190.7,M,8.3,M,,0000,1.8*7B\r\n"
	"$GNRMC,074156.799,A,3114.8950,N,12135.2442,E,0.26,4.94,250215,,,A*7D\r\n"
	"$GNGGA,074157.799,3114.8902,N,12135.2443,E,1,07,1.1,192.9,M,8.3,M,,0000,1.8*70\r\n"
	" $GNRMC,074157.799,A,3114.8902,N,12135.2443,E,0.32,4.94,250215,,,A*7F\r\n"
	"$GNGGA,074158.799,3114.8953,N,12135.2439,E,1,07,1.1,198.5,M,8.3,M,,0000,1.8*70\r\n"
	"$GNRMC,074158.799,A,3114.8953,N,12135.2439,E,0.25,4.94,250215,,,A*7F\r\n"
	"$GNGGA,074159.799,3114.8943,N,12135.2444,E,1,07,1.1,196.4,M,8.3,M,,0000,1.8*75\r\n"
	"$GNRMC,074159.799,A,3114.8943,N,12135.2444,E,0.23,4.94,250215,,,A*73\r\n"
	"$PSRF151,3,1833,28693,0x7EFFD7FF*67\r\n";

static void test_session_beidou_bd(void **state)
{
	static const struct {
		int s;
		double lat, lon, alt, speed;
		int sats;
	} want[] = {
		{55, 31.247949999999999, 121.58743833333334, 156.9, 0.30, 5},
		{56, 31.248249999999999, 121.58740333333333, 190.7, 0.26, 7},
		{57, 31.248169999999998, 121.587405, 192.9, 0.32, 7},
		{58, 31.248255, 121.58739833333334, 198.5, 0.25, 7},
		{59, 31.248238333333333, 121.58740666666667, 196.4, 0.23, 7},
	};
	struct run r;
	size_t i;

	run_text(&r, bd_log);
	assert_int_equal(r.nerr, 0);
	assert_int_equal(r.nfix, 5);
	for (i = 0; i < 5; i++) {
		const struct nmea_fix *f = &r.fix[i];

		assert_true(f->time_ms == utc_ms(2015, 2, 25, 7, 41, want[i].s, 799));
		assert_int_equal(f->valid, 1);
		ASSERT_DBL_EXACT(f->lat, want[i].lat);
		ASSERT_DBL_EXACT(f->lon, want[i].lon);
		/* beidou-bd.log.chk prints them to 1e-9 */
		ASSERT_DBL_NEAR(f->lat, want[i].lat, 1e-9);
		assert_int_equal(f->has_altitude, 1);
		ASSERT_DBL_NEAR(f->altitude_m, want[i].alt, 1e-9);
		assert_int_equal(f->satellites, want[i].sats);
		assert_int_equal(f->quality, 1);
		assert_int_equal(f->has_speed, 1);
		ASSERT_DBL_NEAR(f->speed_kn, want[i].speed, 1e-12);
		assert_int_equal(f->has_course, 1);
		ASSERT_DBL_NEAR(f->course, 4.94, 1e-12);
		assert_string_equal(f->talker, "GN");
	}
	/* the .chk's first timed TPV: "2015-02-25T07:41:56.799Z" */
	assert_true(r.fix[1].time_ms == 1424850116799LL);
}

/* [gb] GPGGA (single-system talker) then GNRMC, same epoch: one fix. */
static void test_session_beidou_gb(void **state)
{
	static const char log[] =
		"$GPGGA,053231.438,,,,,0,00,,,M,0.0,M,,0000*5F\r\n"
		"$GNRMC,053231.438,V,,,,,,,020315,,,N*5F\r\n"
		"$PSRFEPE,053232.438,A,1.2,5.77,12.97,1.2,180.0*21\r\n"
		"$GPGGA,053232.438,3114.8789,N,12135.2442,E,1,06,1.2,153.8,M,8.3,M,,0000*6A\r\n"
		"$GNRMC,053232.438,A,3114.8789,N,12135.2442,E,0.26,167.42,020315,,,A*70\r\n"
		"$GPGGA,053233.438,3114.8821,N,12135.2428,E,1,06,1.2,167.2,M,8.3,M,,0000*67\r\n"
		"$GNRMC,053233.438,A,3114.8821,N,12135.2428,E,0.07,167.42,020315,,,A*73\r\n";
	struct run r;

	run_text(&r, log);
	assert_int_equal(r.nfix, 2);
	assert_true(r.fix[0].time_ms == utc_ms(2015, 3, 2, 5, 32, 32, 438));
	ASSERT_DBL_EXACT(r.fix[0].lat, 31.247981666666668);
	ASSERT_DBL_NEAR(r.fix[0].altitude_m, 153.8, 1e-9);
	assert_int_equal(r.fix[0].satellites, 6);
	ASSERT_DBL_NEAR(r.fix[0].course, 167.42, 1e-12);
	assert_true(r.fix[1].time_ms == utc_ms(2015, 3, 2, 5, 32, 33, 438));
	ASSERT_DBL_EXACT(r.fix[1].lat, 31.248035000000002);
	ASSERT_DBL_EXACT(r.fix[1].lon, 121.58738);
	ASSERT_DBL_NEAR(r.fix[1].altitude_m, 167.2, 1e-9);
}

/* [um] RMC then GGA of the same epoch: the RMC is stored at once, the GGA
 * adds nothing (it came after), no duplicate; GSA/GSV/$GYOACC ignored. */
static void test_session_unicore(void **state)
{
	static const char log[] =
		"$GNRMC,000653.00,A,4404.12994,N,12118.84613,W,0.052,,090624,,,A,V*08\r\n"
		"$GNGGA,000653.00,4404.12994,N,12118.84613,W,1,29,0.69,1109.2,M,,M,,*71\r\n"
		"$GNGSA,A,3,08,10,23,27,32,24,28,21,44,48,18,,1.05,0.69,0.79,1*02\r\n"
		"$GBGSV,4,4,14,44,59,199,40,46,03,052,,1*7C\r\n"
		"$SNRSTAT,1,1,0,0*5D\r\n"
		"$GYOACC,090624,000653.10,0.004960,-0.001510,0.005386,100,-3.358145,-8.120926,4.427577,100,35,0,100,0*21\r\n"
		"$GNRMC,000654.00,A,4404.12993,N,12118.84616,W,0.071,,090624,,,A,V*0C\r\n"
		"$GNGGA,000654.00,4404.12993,N,12118.84616,W,1,29,0.63,1109.3,M,,M,,*7F\r\n"
		"$GNRMC,000655.00,A,4404.12993,N,12118.84616,W,0.068,,090624,,,A,V*05\r\n"
		"$GNGGA,000655.00,4404.12993,N,12118.84616,W,1,29,0.60,1109.3,M,,M,,*7D\r\n"
		"$GNRMC,000656.00,A,4404.12992,N,12118.84621,W,0.055,,090624,,,A,V*0D\r\n"
		"$GNGGA,000656.00,4404.12992,N,12118.84621,W,1,29,0.62,1109.3,M,,M,,*79\r\n";
	struct run r;
	size_t i;

	run_text(&r, log);
	assert_int_equal(r.nerr, 0);
	assert_int_equal(r.nignored, 4);
	assert_int_equal(r.nfix, 4);
	for (i = 0; i < 4; i++) {
		assert_true(r.fix[i].time_ms == utc_ms(2024, 6, 9, 0, 6, 53 + (int)i, 0));
		assert_int_equal(r.fix[i].valid, 1);
		assert_int_equal(r.fix[i].has_course, 0);
		assert_int_equal(r.fix[i].satellites, -1);
		assert_int_equal(r.fix[i].quality, -1);
	}
	ASSERT_DBL_EXACT(r.fix[3].lat, 44.068832);
	ASSERT_DBL_EXACT(r.fix[3].lon, -121.3141035);
}

/* [qk] RMC epochs .000/.200/..., each GGA .200 ahead of its RMC: the first
 * RMC alone, then every RMC with the GGA of its epoch. */
static void test_session_quectel(void **state)
{
	static const char log[] =
		"$GNRMC,055234.000,A,4739.71890,N,12219.58362,W,0.00,286.35,050826,,,A,V*13\r\n"
		"$GNVTG,286.35,T,,M,0.00,N,0.00,K,A*29\r\n"
		"$GNZDA,055234.000,05,08,2026,00,00*46\r\n"
		"$GNGGA,055234.200,4739.71890,N,12219.58362,W,1,14,0.9,76.5,M,-21.6,M,,*4A\r\n"
		"$GNGLL,4739.71890,N,12219.58362,W,055234.200,A,A*5F\r\n"
		"$GNRMC,055234.200,A,4739.71890,N,12219.58362,W,0.00,286.35,050826,,,A,V*11\r\n"
		"$GPTXT,01,01,01,ANTENNA OK*35\r\n"
		"$GNGGA,055234.400,4739.71890,N,12219.58361,W,1,14,0.9,76.5,M,-21.6,M,,*4F\r\n"
		"$GNRMC,055234.400,A,4739.71890,N,12219.58361,W,0.00,286.35,050826,,,A,V*14\r\n"
		"$GNGGA,055234.600,4739.71890,N,12219.58361,W,1,14,0.9,76.5,M,-21.6,M,,*4D\r\n"
		"$GNRMC,055234.600,A,4739.71890,N,12219.58361,W,0.00,286.35,050826,,,A,V*16\r\n";
	struct run r;
	size_t i;

	run_text(&r, log);
	assert_int_equal(r.nerr, 0);
	assert_int_equal(r.nfix, 4);
	assert_int_equal(r.fix[0].has_altitude, 0);
	for (i = 0; i < 4; i++) {
		assert_true(r.fix[i].time_ms == utc_ms(2026, 8, 5, 5, 52, 34, 200 * (int)i));
		assert_int_equal(r.fix[i].valid, 1);
		assert_int_equal(r.fix[i].has_speed, 1);
		if (i > 0) {
			assert_int_equal(r.fix[i].has_altitude, 1);
			ASSERT_DBL_NEAR(r.fix[i].altitude_m, 76.5, 1e-9);
			assert_int_equal(r.fix[i].satellites, 14);
			ASSERT_DBL_NEAR(r.fix[i].hdop, 0.9, 1e-12);
		}
	}
	ASSERT_DBL_EXACT(r.fix[0].lon, -122.32639366666666);
	ASSERT_DBL_EXACT(r.fix[3].lat, 47.661981666666669);
	ASSERT_DBL_EXACT(r.fix[3].lon, -122.32639349999999);
}

/* [syn] from [bd] 074155.799: the same epoch as GNRMC, GPRMC and BDRMC, in
 * both orders: one fix per epoch; after the first GN, single-system
 * sentences are dropped even when they come first. */
static void test_session_gn_gp_duplicate(void **state)
{
	static const char *const b[] = {
		"GPRMC,074155.799,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,A",
		"GNRMC,074155.799,A,3114.8771,N,12135.2463,E,0.30,4.94,250215,,,A",
		"BDRMC,074155.799,A,3114.8772,N,12135.2463,E,0.30,4.94,250215,,,A",
		"GPRMC,074156.799,A,3114.8950,N,12135.2442,E,0.26,4.94,250215,,,A",
		"GNRMC,074156.799,A,3114.8951,N,12135.2442,E,0.26,4.94,250215,,,A",
		"GNRMC,074157.799,A,3114.8903,N,12135.2443,E,0.32,4.94,250215,,,A",
		"GPRMC,074157.799,A,3114.8902,N,12135.2443,E,0.32,4.94,250215,,,A",
	};
	struct run r;

	assert_int_equal(run_bodies(&r, b, 7), 3);
	/* first epoch: GP came first and is kept; the GN duplicate dropped */
	assert_string_equal(r.fix[0].talker, "GP");
	assert_true(r.fix[0].time_ms == utc_ms(2015, 2, 25, 7, 41, 55, 799));
	/* then GN wins whatever the order */
	assert_string_equal(r.fix[1].talker, "GN");
	ASSERT_DBL_NEAR(r.fix[1].lat, 31 + 14.8951 / 60, 1e-12);
	assert_string_equal(r.fix[2].talker, "GN");
	ASSERT_DBL_NEAR(r.fix[2].lat, 31 + 14.8903 / 60, 1e-12);
}

/* [syn] a GN receiver that stops sending GN: GP is used again after 5 s. */
static void test_session_gn_stops(void **state)
{
	static const char *const b[] = {
		"GNRMC,120000,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,A",
		"GPRMC,120001,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,A",
		"GPRMC,120005,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,A",
		"GPRMC,120006,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,A",
	};
	struct run r;

	assert_int_equal(run_bodies(&r, b, 4), 2);
	assert_string_equal(r.fix[1].talker, "GP");
	assert_true(r.fix[1].time_ms == utc_ms(2015, 2, 25, 12, 0, 6, 0));
}

/* [syn] GGA dates: none before an RMC; the RMC's date; midnight rollover
 * forwards and backwards; a GGA-only stream keeps rolling over. */
static void test_session_gga_dates(void **state)
{
	static const char *const b[] = {
		/* 0: no RMC yet: no date, no fix */
		"GPGGA,235958.000,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
		/* 1: RMC 31 Dec 2024 23:59:59 -> fix */
		"GPRMC,235959.000,A,4807.038,N,01131.000,E,0.0,,311224,,,A",
		/* 2: GGA 00:00:00: held (the source pairs GGA with RMC) */
		"GPGGA,000000.000,4807.038,N,01131.000,E,1,07,0.9,545.4,M,46.9,M,,",
		/* 3: GGA 00:00:01: no RMC came for 00:00:00 -> GGA-only: the
		 *    held 00:00:00 is released (not lost), then this one, both
		 *    dated 1 Jan 2025 */
		"GPGGA,000001.000,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
		/* 4: and on */
		"GPGGA,000002.000,4807.038,N,01131.000,E,1,09,0.9,545.4,M,46.9,M,,",
	};
	struct run r;

	assert_int_equal(run_bodies(&r, b, 5), 4);
	assert_true(r.fix[0].time_ms == utc_ms(2024, 12, 31, 23, 59, 59, 0));
	assert_true(r.fix[1].time_ms == utc_ms(2025, 1, 1, 0, 0, 0, 0));
	assert_int_equal(r.fix[1].satellites, 7);
	assert_true(r.fix[2].time_ms == utc_ms(2025, 1, 1, 0, 0, 1, 0));
	assert_int_equal(r.fix[2].has_speed, 0);
	assert_int_equal(r.fix[2].satellites, 8);
	assert_int_equal(r.fix[2].quality, 1);
	ASSERT_DBL_NEAR(r.fix[2].altitude_m, 545.4, 1e-9);
	assert_true(r.fix[3].time_ms == utc_ms(2025, 1, 1, 0, 0, 2, 0));
	assert_int_equal(r.fix[3].satellites, 9);
}

static void test_session_gga_backwards(void **state)
{
	/* RMC just after midnight, then a GGA from just before it: dated the
	 * day before, shown by the RMC of that epoch picking it up */
	static const char *const b[] = {
		"GPRMC,000000.200,A,4807.038,N,01131.000,E,0.0,,010325,,,A",
		"GPGGA,235959.800,4807.038,N,01131.000,E,1,08,0.9,545.4,M,46.9,M,,",
		"GPRMC,235959.800,A,4807.038,N,01131.000,E,0.0,,280225,,,A",
	};
	struct run r;

	assert_int_equal(run_bodies(&r, b, 3), 2);
	assert_true(r.fix[0].time_ms == utc_ms(2025, 3, 1, 0, 0, 0, 200));
	assert_int_equal(r.fix[0].has_altitude, 0);
	assert_true(r.fix[1].time_ms == utc_ms(2025, 2, 28, 23, 59, 59, 800));
	assert_int_equal(r.fix[1].has_altitude, 1);
	assert_int_equal(r.fix[1].satellites, 8);
}

/* [cn] the void BDRMC/BDGGA pair: without an earlier date nothing; after a
 * dated RMC, an invalid fix with the coordinates (evidence). */
static void test_session_void(void **state)
{
	static const char *const b[] = {
		"BDRMC,000133.000,V,3104.465517,N,12121.549250,E,0.000,0.000,,,E,N",
		"BDGGA,000133.000,3104.465517,N,12121.549250,E,0,00,127.000,30.744,M,0,M,,",
	};
	static const char *const b2[] = {
		"BDRMC,000132.000,V,,,,,,,010124,,,N",
		"BDRMC,000133.000,V,3104.465517,N,12121.549250,E,0.000,0.000,,,E,N",
		"BDGGA,000133.000,3104.465517,N,12121.549250,E,0,00,127.000,30.744,M,0,M,,",
		"BDGGA,000134.000,3104.465517,N,12121.549250,E,0,00,127.000,30.744,M,0,M,,",
		"BDRMC,000134.000,V,3104.465517,N,12121.549250,E,0.000,0.000,,,E,N",
		/* [tr] void at 0/0: not even evidence */
		"GPRMC,000135.000,V,0000.0000,N,00000.0000,E,,,010124,,",
		"GPGGA,000136.000,0000.0000,N,00000.0000,E,0,00,,,M,,M,,",
	};
	struct run r;

	assert_int_equal(run_bodies(&r, b, 2), 0);
	assert_int_equal(run_bodies(&r, b2, 7), 2);
	assert_true(r.fix[0].time_ms == utc_ms(2024, 1, 1, 0, 1, 33, 0));
	assert_int_equal(r.fix[0].valid, 0);
	ASSERT_DBL_EXACT(r.fix[0].lat, 31.074425283333333);
	ASSERT_DBL_EXACT(r.fix[0].lon, 121.35915416666667);
	assert_string_equal(r.fix[0].talker, "BD");
	/* 000134: GGA (quality 0) held, then the RMC: invalid, with its data */
	assert_int_equal(r.fix[1].valid, 0);
	assert_int_equal(r.fix[1].quality, 0);
	assert_int_equal(r.fix[1].satellites, 0);
	ASSERT_DBL_NEAR(r.fix[1].altitude_m, 30.744, 1e-9);
}

/* Invalid RMC/GGA are never turned valid by the other sentence. [syn] */
static void test_session_validity(void **state)
{
	static const char *const b[] = {
		"GNRMC,100000,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,A",
		"GNGGA,100001,3114.8770,N,12135.2463,E,1,05,1.3,156.9,M,8.3,M,,0000",
		"GNRMC,100001,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,N",
		"GNGGA,100002,3114.8770,N,12135.2463,E,0,05,1.3,156.9,M,8.3,M,,0000",
		"GNRMC,100002,A,3114.8770,N,12135.2463,E,0.30,4.94,250215,,,A,V",
	};
	struct run r;

	assert_int_equal(run_bodies(&r, b, 5), 3);
	assert_int_equal(r.fix[0].valid, 1);
	assert_int_equal(r.fix[1].valid, 0); /* mode N */
	assert_int_equal(r.fix[1].quality, 1);
	assert_int_equal(r.fix[2].valid, 1); /* RMC's own A, nav status V */
	assert_int_equal(r.fix[2].quality, 0);
}

static void test_session_other_sentences(void **state)
{
	struct nmea_session s;
	struct nmea_sentence in;
	struct nmea_fix f[NMEA_FIXES_MAX];

	nmea_session_init(&s);
	assert_int_equal(parse(mk("PSWID,13800138000"), &in), NMEA_OK);
	assert_int_equal(nmea_session_feed(&s, &in, f), 0);
	assert_int_equal(parse("$GPGSV,3,3,09,24,03,046,*47", &in), NMEA_IGNORED);
	assert_int_equal(nmea_session_feed(&s, &in, f), 0);
}

static void test_days_from_civil(void **state)
{
	assert_true(nmea_days_from_civil(1970, 1, 1) == 0);
	assert_true(nmea_days_from_civil(2000, 3, 1) == 11017);
	assert_true(nmea_days_from_civil(1994, 11, 19) == 9088);
	assert_true(nmea_days_from_civil(1969, 12, 31) == -1);
	/* [py] test_RMC datetime 1994-11-19 22:54:46 = 785285686 s */
	assert_true(utc_ms(1994, 11, 19, 22, 54, 46, 0) == 785285686000LL);
}

static void test_strerror(void **state)
{
	int e;

	for (e = NMEA_ETOOLONG; e <= NMEA_IGNORED; e++)
		assert_string_not_equal(nmea_strerror(e), "unknown error");
	assert_string_equal(nmea_strerror(-99), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rmc_vectors),
		cmocka_unit_test(test_gga_vectors),
		cmocka_unit_test(test_codes),
		cmocka_unit_test(test_ignored_address),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_time_fractions),
		cmocka_unit_test(test_leap_second),
		cmocka_unit_test(test_year_pivot),
		cmocka_unit_test(test_coordinate_edges),
		cmocka_unit_test(test_pswid),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_helsinki_file),
		cmocka_unit_test(test_liner_every_split),
		cmocka_unit_test(test_liner_endings),
		cmocka_unit_test(test_liner_overlong),
		cmocka_unit_test(test_liner_stop),
		cmocka_unit_test(test_session_beidou_bd),
		cmocka_unit_test(test_session_beidou_gb),
		cmocka_unit_test(test_session_unicore),
		cmocka_unit_test(test_session_quectel),
		cmocka_unit_test(test_session_gn_gp_duplicate),
		cmocka_unit_test(test_session_gn_stops),
		cmocka_unit_test(test_session_gga_dates),
		cmocka_unit_test(test_session_gga_backwards),
		cmocka_unit_test(test_session_void),
		cmocka_unit_test(test_session_validity),
		cmocka_unit_test(test_session_other_sentences),
		cmocka_unit_test(test_days_from_civil),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
