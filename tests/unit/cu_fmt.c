/* cu_fmt.c -- unit tests for the printf-free formatters of the hot paths, against snprintf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fmt.h"

static void test_numbers(void **state)
{
	static const double v[] = { 0, 1, -1, 0.5, 117.1812345, -29.3000001, 179.9999999, -180,
				    12.345, 0.005, 359.95, 1e-9, 1000000 };
	static const long long iv[] = { 0, 7, -7, 2147483647LL, -2147483648LL, 4294967295LL };
	char a[64], b[64], *o;
	size_t i;
	int dec;

	(void)state;
	for (i = 0; i < sizeof(iv) / sizeof(iv[0]); i++) {
		o = fmt_int(a, iv[i]);
		*o = '\0';
		snprintf(b, sizeof(b), "%lld", iv[i]);
		assert_string_equal(a, b);
	}
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		for (dec = 0; dec <= 7; dec++) {
			double back;

			o = fmt_fixed(a, v[i], dec);
			*o = '\0';
			/* the same value as printf's to the last decimal (rounding of
			 * exact halves may differ by one unit in the last place) */
			sscanf(a, "%lf", &back);
			snprintf(b, sizeof(b), "%.*f", dec, v[i]);
			{
				double pb, unit = 1;
				int k;

				for (k = 0; k < dec; k++)
					unit /= 10;
				sscanf(b, "%lf", &pb);
				assert_true(back - pb <= 1.01 * unit && pb - back <= 1.01 * unit);
			}
			if (dec == 7 && (v[i] == 117.1812345 || v[i] == -29.3000001))
				assert_string_equal(a, b);
		}
}

static void test_times(void **state)
{
	static const int64_t ms[] = { 946684800000LL, 1627302931000LL, 1627315200123LL,
				      1796000000999LL, 4102444799999LL, 951782400000LL /* 2000-02-29 */ };
	char a[64], b[64], *o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		time_t t = (time_t)(ms[i] / 1000);
		struct tm tm;
		int y, m, d;

		gmtime_r(&t, &tm);
		o = fmt_pg_ts(a, ms[i]);
		*o = '\0';
		snprintf(b, sizeof(b), "%04d-%02d-%02d %02d:%02d:%02d.%03d+00", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(ms[i] % 1000));
		assert_string_equal(a, b);
		fmt_civil_from_days(ms[i] / 86400000, &y, &m, &d);
		assert_int_equal(fmt_days_from_civil(y, m, d), ms[i] / 86400000);
	}
	o = fmt_iso_cst(a, 1627302931000LL);
	*o = '\0';
	assert_string_equal(a, "2021-07-26T20:35:31.000+08:00");
	o = fmt_iso_cst(a, 1627315200123LL);
	*o = '\0';
	assert_string_equal(a, "2021-07-27T00:00:00.123+08:00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_times),
	};

	return cmocka_run_group_tests_name("fmt", tests, NULL, NULL);
}
