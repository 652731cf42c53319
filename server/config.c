/* config.c -- configuration defaults, `key = value` file, SHOREWATCH_* overrides. */
#include "config.h"
#include "ledger.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int config_parse_listen(const char *s, struct sw_listen *out)
{
	const char *colon;
	char *end;
	long port;
	size_t hl;

	if (!s || !*s)
		return -1;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - s - 1);
		if (hl >= sizeof(out->host))
			return -1;
		memcpy(out->host, s + 1, hl);
		out->host[hl] = '\0';
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -1;
		hl = (size_t)(colon - s);
		if (hl >= sizeof(out->host))
			return -1;
		memcpy(out->host, s, hl);
		out->host[hl] = '\0';
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port < 0 || port > 65535 || end == colon + 1)
		return -1;
	out->port = (int)port;
	return 0;
}

void config_default_db(char *out, size_t len)
{
	char cwd[PATH_MAX];

	static const char fmt[] = "host=%.*s/var/pg/run port=54329 dbname=shorewatch user=postgres";
	int room = (int)len - (int)sizeof(fmt) - 8;

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), ".");
	snprintf(out, len, fmt, room > 0 ? room : 0, cwd);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int set_int(int *dst, const char *v, long lo, long hi)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < lo || n > hi)
		return -1;
	*dst = (int)n;
	return 0;
}

static int set_str(char *dst, size_t cap, const char *v)
{
	if (strlen(v) >= cap)
		return -1;
	strcpy(dst, v);
	return 0;
}

/* The alert thresholds of struct rules_config, settable as rules_<name>. */
#define RF(f, t, lo, hi) { #f, t, offsetof(struct rules_config, f), lo, hi }
const struct rules_field rules_fields[] = {
	RF(stop_window_s, 'i', 30, 86400),          RF(stop_radius_m, 'd', 1, 10000),
	RF(stop_speed_kn, 'd', 0, 50),              RF(zone_inner_m, 'd', 0, 10000),
	RF(zone_outer_m, 'd', 0, 10000),            RF(zone_dwell_s, 'i', 0, 86400),
	RF(parking_tolerance_m, 'd', 0, 10000),     RF(zone_tolerance_m, 'd', 0, 10000),
	RF(stop_alert_s, 'i', 0, 7 * 86400),        RF(offline_after_s, 'i', 1, 30 * 86400),
	RF(jump_speed_kn, 'd', 1, 10000),           RF(jump_min_m, 'd', 0, 1000000),
	RF(device_alarm_mask, 'u', 0, 4294967295.0), RF(unregistered_quiet_s, 'i', 1, 365 * 86400),
	RF(late_after_s, 'i', 0, 30 * 86400),       RF(reeval_window_s, 'i', 0, 30 * 86400),
	RF(update_every_s, 'i', 0, 86400),          RF(tz_offset_s, 'i', -14 * 3600, 14 * 3600),
	RF(history_max, 'i', 16, 1000000),
	{ NULL, 0, 0, 0, 0 }
};
#undef RF

int rules_set(struct rules_config *rc, const char *name, const char *v)
{
	size_t i;
	char *end;
	double d;

	for (i = 0; rules_fields[i].name; i++) {
		const struct rules_field *f = &rules_fields[i];
		char *p = (char *)rc + f->offset;

		if (strcmp(f->name, name))
			continue;
		errno = 0;
		d = f->type == 'u' ? (double)strtoul(v, &end, 0) : strtod(v, &end);
		if (errno || end == v || *end || !(d >= f->lo && d <= f->hi))
			return -1;
		if (f->type == 'i') {
			if (d != (double)(int)d)
				return -1;
			*(int *)(void *)p = (int)d;
		} else if (f->type == 'u') {
			*(uint32_t *)(void *)p = (uint32_t)d;
		} else {
			*(double *)(void *)p = d;
		}
		return 0;
	}
	return -2;
}

/* Applies one setting. Returns 0, -1 bad value, -2 unknown key. */
static int config_set(struct sw_config *c, const char *k, const char *v)
{
	if (!strcmp(k, "db"))
		return set_str(c->db, sizeof(c->db), v);
	if (!strcmp(k, "http"))
		return config_parse_listen(v, &c->http);
	if (!strcmp(k, "jt808"))
		return config_parse_listen(v, &c->jt808);
	if (!strcmp(k, "nmea"))
		return config_parse_listen(v, &c->nmea);
	if (!strcmp(k, "ais"))
		return config_parse_listen(v, &c->ais);
	if (!strcmp(k, "web_root"))
		return set_str(c->web_root, sizeof(c->web_root), v);
	if (!strcmp(k, "schema_dir"))
		return set_str(c->schema_dir, sizeof(c->schema_dir), v);
	if (!strcmp(k, "demo_dir"))
		return set_str(c->demo_dir, sizeof(c->demo_dir), v);
	if (!strcmp(k, "basemap_url"))
		return set_str(c->basemap_url, sizeof(c->basemap_url), v);
	if (!strcmp(k, "map_center")) {
		double lon, lat;
		if (sscanf(v, "%lf , %lf", &lon, &lat) != 2 || lon < -180 ||
		    lon > 180 || lat < -90 || lat > 90)
			return -1;
		c->map_center[0] = lon;
		c->map_center[1] = lat;
		return 0;
	}
	if (!strcmp(k, "map_zoom")) {
		char *end;
		double z = strtod(v, &end);
		if (*end || z < 0 || z > 22)
			return -1;
		c->map_zoom = z;
		return 0;
	}
	if (!strcmp(k, "db_workers"))
		return set_int(&c->db_workers, v, 1, 64);
	if (!strcmp(k, "db_writers"))
		return set_int(&c->db_writers, v, 1, 8);
	if (!strcmp(k, "batch_max"))
		return set_int(&c->batch_max, v, 1, 1000000);
	if (!strcmp(k, "batch_ms"))
		return set_int(&c->batch_ms, v, 0, 60000);
	if (!strcmp(k, "live_ring"))
		return set_int(&c->live_ring, v, 16, 10000000);
	if (!strcmp(k, "token_ttl_s"))
		return set_int(&c->token_ttl_s, v, 60, 365 * 86400);
	if (!strcmp(k, "jt808_tz_offset_s"))
		return set_int(&c->jt808_tz_offset_s, v, -14 * 3600, 14 * 3600);
	if (!strcmp(k, "future_tolerance_s"))
		return set_int(&c->future_tolerance_s, v, 0, 86400);
	if (!strcmp(k, "log_level"))
		return set_int(&c->log_level, v, 0, 3);
	if (!strcmp(k, "upload_max"))
		return set_int(&c->upload_max, v, 1, 2147483647L);
	if (!strcmp(k, "ledger_map"))
		return set_str(c->ledger_map, sizeof(c->ledger_map), v);
	if (!strcmp(k, "permits_refresh_s"))
		return set_int(&c->permits_refresh_s, v, 1, 86400);
	if (!strncmp(k, "rules_", 6))
		return rules_set(&c->rules, k + 6, v);
	return -2;
}

int config_load(struct sw_config *c, const char *file, char *err, size_t errlen)
{
	static const struct {
		const char *env, *key;
	} envs[] = {
		{ "SHOREWATCH_DB", "db" },         { "SHOREWATCH_HTTP", "http" },
		{ "SHOREWATCH_JT808", "jt808" },   { "SHOREWATCH_NMEA", "nmea" },
		{ "SHOREWATCH_AIS", "ais" },       { "SHOREWATCH_WEB_ROOT", "web_root" },
		{ "SHOREWATCH_SCHEMA_DIR", "schema_dir" },
		{ "SHOREWATCH_DEMO_DIR", "demo_dir" },
		{ "SHOREWATCH_BASEMAP_URL", "basemap_url" },
		{ "SHOREWATCH_LOG_LEVEL", "log_level" },
		{ "SHOREWATCH_LIVE_RING", "live_ring" },
		{ "SHOREWATCH_DB_WRITERS", "db_writers" },
		{ "SHOREWATCH_UPLOAD_MAX", "upload_max" },
		{ "SHOREWATCH_LEDGER_MAP", "ledger_map" },
	};
	size_t i;

	memset(c, 0, sizeof(*c));
	config_parse_listen("127.0.0.1:8080", &c->http);
	config_parse_listen("127.0.0.1:6808", &c->jt808);
	config_parse_listen("127.0.0.1:10110", &c->nmea);
	config_parse_listen("127.0.0.1:10111", &c->ais);
	snprintf(c->web_root, sizeof(c->web_root), "web");
	snprintf(c->schema_dir, sizeof(c->schema_dir), "schema");
	snprintf(c->demo_dir, sizeof(c->demo_dir), "schema/demo");
	c->map_center[0] = 117.13;
	c->map_center[1] = 29.325;
	c->map_zoom = 11.3;
	c->db_workers = 2;
	c->db_writers = 2;
	c->batch_max = 20000;
	c->batch_ms = 0;
	c->live_ring = 65536;
	c->token_ttl_s = 12 * 3600;
	c->jt808_tz_offset_s = 8 * 3600;
	c->future_tolerance_s = 300;
	c->log_level = 1;
	c->upload_max = 200 * 1024 * 1024;
	c->permits_refresh_s = 30;
	rules_config_defaults(&c->rules);

	if (file) {
		FILE *f = fopen(file, "r");
		char line[2048];
		int lineno = 0;

		if (!f) {
			snprintf(err, errlen, "%s: %s", file, strerror(errno));
			return -1;
		}
		while (fgets(line, sizeof(line), f)) {
			char *s = trim(line), *eq;
			int rc;

			lineno++;
			if (!*s || *s == '#' || *s == ';' || *s == '[')
				continue;
			eq = strchr(s, '=');
			if (!eq) {
				snprintf(err, errlen, "%s:%d: expected key = value", file, lineno);
				fclose(f);
				return -1;
			}
			*eq = '\0';
			rc = config_set(c, trim(s), trim(eq + 1));
			if (rc) {
				snprintf(err, errlen, "%s:%d: %s '%s'", file, lineno,
					 rc == -2 ? "unknown setting" : "bad value for", trim(s));
				fclose(f);
				return -1;
			}
		}
		fclose(f);
	}
	for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		const char *v = getenv(envs[i].env);
		if (v && *v && config_set(c, envs[i].key, v)) {
			snprintf(err, errlen, "%s: bad value '%s'", envs[i].env, v);
			return -1;
		}
	}
	/* every threshold also as SHOREWATCH_RULES_<FIELD> */
	for (i = 0; rules_fields[i].name; i++) {
		char env[96], *e;
		const char *v;

		snprintf(env, sizeof(env), "SHOREWATCH_RULES_%s", rules_fields[i].name);
		for (e = env; *e; e++)
			*e = (char)toupper((unsigned char)*e);
		v = getenv(env);
		if (v && *v && rules_set(&c->rules, rules_fields[i].name, v)) {
			snprintf(err, errlen, "%s: bad value '%s'", env, v);
			return -1;
		}
	}
	if (!c->db[0])
		config_default_db(c->db, sizeof(c->db));
	/* A bad ledger mapping stops every command at startup, not the first shoreline load. */
	if (c->ledger_map[0]) {
		char *m = ledger_map_read(c->ledger_map, err, errlen);
		if (!m)
			return -1;
		free(m);
	}
	return 0;
}
