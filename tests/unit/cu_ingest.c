/* cu_ingest.c -- unit tests for the position validation every feed goes through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "server.h"

#define NOW 1796000000000LL /* 2026-11-30 */

static void test_check(void **state)
{
	struct sw_config cfg;
	struct sw_server s;
	struct sw_position ok = { .vessel_id = 1, .device_time_ms = NOW - 60000, .lon = 117.18,
				  .lat = 29.30, .speed_kn = 3, .fix_valid = 1, .protocol = POS_JT808 };
	struct sw_position p;
	static const struct {
		const char *field;
		double value;
		const char *want;
	} bad[] = {
		{ "vessel", 0, "unknown vessel" },
		{ "lat", 90.0001, "coordinates out of range" },
		{ "lat", -91, "coordinates out of range" },
		{ "lon", 180.5, "coordinates out of range" },
		{ "lon", NAN, "coordinates out of range" },
		{ "time", 946684799999.0, "device time before 2000" },
		{ "time", NOW + 301000.0, "device time in the future" },
		{ "speed", -1, "speed out of range" },
		{ "null", 0, "no position (0, 0)" },
		{ "speed", INFINITY, "speed out of range" },
	};
	size_t i;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.future_tolerance_s = 300;
	memset(&s, 0, sizeof(s));
	s.cfg = &cfg;
	assert_null(ingest_check(&s, &ok, NOW));
	/* old positions (blind-area uploads) are normal input */
	p = ok;
	p.device_time_ms = NOW - 90LL * 86400 * 1000;
	assert_null(ingest_check(&s, &p, NOW));
	/* just inside the future tolerance */
	p.device_time_ms = NOW + 299000;
	assert_null(ingest_check(&s, &p, NOW));
	/* the poles and the antimeridian are valid coordinates */
	p = ok;
	p.lat = -90;
	p.lon = 180;
	assert_null(ingest_check(&s, &p, NOW));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = ok;
		if (!strcmp(bad[i].field, "vessel"))
			p.vessel_id = (int32_t)bad[i].value;
		else if (!strcmp(bad[i].field, "lat"))
			p.lat = bad[i].value;
		else if (!strcmp(bad[i].field, "lon"))
			p.lon = bad[i].value;
		else if (!strcmp(bad[i].field, "null"))
			p.lat = p.lon = 0;
		else if (!strcmp(bad[i].field, "time"))
			p.device_time_ms = (int64_t)bad[i].value;
		else
			p.speed_kn = (float)bad[i].value;
		assert_string_equal(ingest_check(&s, &p, NOW), bad[i].want);
	}
}

static void test_iso_time(void **state)
{
	char buf[40];

	(void)state;
	/* 2021-07-26T12:35:31Z is 20:35:31 in China */
	sw_iso_time(1627302931000LL, buf, sizeof(buf));
	assert_string_equal(buf, "2021-07-26T20:35:31.000+08:00");
	/* the local date rolls over at 16:00 UTC */
	sw_iso_time(1627315200123LL, buf, sizeof(buf));
	assert_string_equal(buf, "2021-07-27T00:00:00.123+08:00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_iso_time),
	};

	return cmocka_run_group_tests_name("ingest", tests, NULL, NULL);
}
