/* ingest.c -- the one pipeline every feed's positions go through: validate, queue, publish. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "log.h"
#include "server.h"

/* 2000-01-01T00:00:00Z: no satellite terminal reports earlier times honestly */
#define OLDEST_MS 946684800000LL

int64_t sw_now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int sw_iso_time(int64_t ms, char *buf, size_t len)
{
	int64_t local = ms + 8 * 3600 * 1000LL;
	time_t s = (time_t)(local >= 0 ? local / 1000 : (local - 999) / 1000);
	int frac = (int)(local - (int64_t)s * 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	return snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+08:00", tm.tm_year + 1900,
			tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

const char *ingest_check(const struct sw_server *s, const struct sw_position *p, int64_t now_ms)
{
	if (p->vessel_id <= 0)
		return "unknown vessel";
	if (!isfinite(p->lat) || !isfinite(p->lon) || p->lat < -90 || p->lat > 90 ||
	    p->lon < -180 || p->lon > 180)
		return "coordinates out of range";
	if (p->device_time_ms < OLDEST_MS)
		return "device time before 2000";
	if (p->device_time_ms > now_ms + (int64_t)s->cfg->future_tolerance_s * 1000)
		return "device time in the future";
	if (!isfinite(p->speed_kn) || p->speed_kn < 0 || p->speed_kn > 200)
		return "speed out of range";
	return NULL;
}

size_t ingest_positions(struct sw_server *s, struct sw_position *p, size_t n, const char **reason)
{
	int64_t now = sw_now_ms();
	size_t i, ok = 0;

	if (reason)
		*reason = NULL;
	for (i = 0; i < n; i++) {
		const char *why = ingest_check(s, &p[i], now);

		if (why) {
			if (reason && !*reason)
				*reason = why;
			free(p[i].raw);
			p[i].raw = NULL;
			s->positions_rejected++;
			continue;
		}
		if (!p[i].recv_time_ms)
			p[i].recv_time_ms = now;
		if (ok != i)
			p[ok] = p[i];
		ok++;
	}
	if (ok && db_push_positions(s->db, p, ok)) {
		for (i = 0; i < ok; i++)
			free(p[i].raw);
		s->positions_rejected += ok;
		if (reason)
			*reason = "server busy: write queue full";
		return 0;
	}
	s->positions_accepted += ok;
	return ok;
}

void ingest_committed(const struct sw_position *p, size_t n, void *ctx)
{
	struct sw_server *s = ctx;
	char buf[512], t[40];
	size_t i;
	int len;

	if (!s->live)
		return;
	for (i = 0; i < n; i++) {
		if (!p[i].fix_valid)
			continue;
		sw_iso_time(p[i].device_time_ms, t, sizeof(t));
		len = snprintf(buf, sizeof(buf),
			       "{\"type\":\"position\",\"vessel\":%d,\"lon\":%.7f,\"lat\":%.7f,"
			       "\"time\":\"%s\",\"speed_kn\":%.2f,\"course\":%.1f}",
			       p[i].vessel_id, p[i].lon, p[i].lat, t, (double)p[i].speed_kn,
			       (double)p[i].course);
		if (len > 0 && (size_t)len < sizeof(buf))
			live_publish(s->live, buf, (size_t)len);
	}
}
