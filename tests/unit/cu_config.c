/* cu_config.c -- unit tests for configuration: defaults, file, environment, listen addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const char *envs[] = { "SHOREWATCH_DB", "SHOREWATCH_HTTP", "SHOREWATCH_JT808",
			      "SHOREWATCH_NMEA", "SHOREWATCH_AIS", "SHOREWATCH_LOG_LEVEL",
			      "SHOREWATCH_BASEMAP_URL", NULL };

static int clear_env(void **state)
{
	int i;

	(void)state;
	for (i = 0; envs[i]; i++)
		unsetenv(envs[i]);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_listen(void **state)
{
	static const struct {
		const char *in;
		int ok;
		const char *host;
		int port;
	} v[] = {
		{ "127.0.0.1:8080", 1, "127.0.0.1", 8080 },
		{ "[::1]:6808", 1, "::1", 6808 },
		{ ":10110", 1, "", 10110 },
		{ "0.0.0.0:0", 1, "0.0.0.0", 0 },
		{ "localhost", 0, NULL, 0 },
		{ "127.0.0.1:", 0, NULL, 0 },
		{ "127.0.0.1:65536", 0, NULL, 0 },
		{ "127.0.0.1:80x", 0, NULL, 0 },
		{ "[::1]6808", 0, NULL, 0 },
		{ "", 0, NULL, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sw_listen l;
		int rc = config_parse_listen(v[i].in, &l);

		assert_int_equal(rc == 0, v[i].ok);
		if (v[i].ok) {
			assert_string_equal(l.host, v[i].host);
			assert_int_equal(l.port, v[i].port);
		}
	}
	assert_int_equal(config_parse_listen(NULL, NULL), -1);
}

static void test_defaults(void **state)
{
	struct sw_config c;
	char err[256];

	(void)state;
	assert_int_equal(config_load(&c, NULL, err, sizeof(err)), 0);
	assert_string_equal(c.http.host, "127.0.0.1");
	assert_int_equal(c.http.port, 8080);
	assert_int_equal(c.jt808.port, 6808);
	assert_int_equal(c.nmea.port, 10110);
	assert_int_equal(c.ais.port, 10111);
	assert_int_equal(c.jt808_tz_offset_s, 28800);
	assert_non_null(strstr(c.db, "/var/pg/run"));
	assert_non_null(strstr(c.db, "dbname=shorewatch"));
}

static void test_file_and_env(void **state)
{
	char path[] = "/tmp/cu_config_XXXXXX";
	struct sw_config c;
	char err[256];
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_file(path, "# Shorewatch\n"
			 "http = 127.0.0.1:9000\n"
			 "  jt808=[::1]:7000  \n"
			 "db = host=/tmp port=1 dbname=x\n"
			 "batch_ms = 20\n"
			 "map_center = 117.2, 29.3\n"
			 "basemap_url = http://tiles.local/{z}/{x}/{y}.png\n");
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.http.port, 9000);
	assert_string_equal(c.jt808.host, "::1");
	assert_string_equal(c.db, "host=/tmp port=1 dbname=x");
	assert_int_equal(c.batch_ms, 20);
	assert_true(c.map_center[0] > 117.19 && c.map_center[0] < 117.21);
	assert_string_equal(c.basemap_url, "http://tiles.local/{z}/{x}/{y}.png");

	/* the environment overrides the file */
	setenv("SHOREWATCH_HTTP", "127.0.0.1:9100", 1);
	setenv("SHOREWATCH_DB", "postgresql:///other", 1);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), 0);
	assert_int_equal(c.http.port, 9100);
	assert_string_equal(c.db, "postgresql:///other");
	unsetenv("SHOREWATCH_HTTP");
	unsetenv("SHOREWATCH_DB");

	setenv("SHOREWATCH_JT808", "nonsense", 1);
	assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "SHOREWATCH_JT808"));
	unsetenv("SHOREWATCH_JT808");
	unlink(path);
}

static void test_file_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} v[] = {
		{ "http 127.0.0.1:1\n", ":1: expected key = value" },
		{ "colour = blue\n", ":1: unknown setting 'colour'" },
		{ "\n\nbatch_ms = -5\n", ":3: bad value for 'batch_ms'" },
		{ "db_workers = 1000\n", ":1: bad value for 'db_workers'" },
		{ "map_center = 200, 0\n", ":1: bad value for 'map_center'" },
	};
	char path[] = "/tmp/cu_config_XXXXXX";
	struct sw_config c;
	char err[256];
	size_t i;
	int fd = mkstemp(path);

	(void)state;
	close(fd);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		write_file(path, v[i].text);
		assert_int_equal(config_load(&c, path, err, sizeof(err)), -1);
		assert_non_null(strstr(err, v[i].want));
	}
	unlink(path);
	assert_int_equal(config_load(&c, "/nonexistent/shorewatch.conf", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen),
		cmocka_unit_test_setup(test_defaults, clear_env),
		cmocka_unit_test_setup(test_file_and_env, clear_env),
		cmocka_unit_test_setup(test_file_errors, clear_env),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
