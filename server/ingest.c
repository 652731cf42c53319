/* ingest.c -- the one pipeline every feed's positions go through: validate, queue, publish. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "alerts.h"
#include "fmt.h"
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
	char tmp[32], *o = fmt_iso_cst(tmp, ms);
	size_t n = (size_t)(o - tmp);

	if (!len)
		return (int)n;
	if (n >= len)
		n = len - 1;
	memcpy(buf, tmp, n);
	buf[n] = '\0';
	return (int)n;
}

int ingest_init(struct sw_server *s)
{
	s->seen = calloc((size_t)1 << DEDUPE_BITS, sizeof(*s->seen));
	return s->seen ? 0 : -1;
}

void ingest_free(struct sw_server *s)
{
	free(s->seen);
	s->seen = NULL;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

int ingest_seen(struct sw_server *s, const struct sw_position *p)
{
	uint64_t h, *slot;

	if (!s->seen)
		return 0;
	/* the coordinates as exact micro-degree integers: the same report
	 * decoded twice gives the same bits */
	h = mix((uint64_t)(uint32_t)p->vessel_id ^ mix((uint64_t)p->device_time_ms));
	h = mix(h ^ (uint64_t)llround(p->lat * 1e7));
	h = mix(h ^ (uint64_t)llround(p->lon * 1e7) ^ ((uint64_t)p->fix_valid << 63));
	if (!h)
		h = 1;
	slot = &s->seen[h & (((uint64_t)1 << DEDUPE_BITS) - 1)];
	if (*slot == h)
		return 1;
	*slot = h;
	return 0;
}

const char *ingest_check(const struct sw_server *s, const struct sw_position *p, int64_t now_ms)
{
	if (p->vessel_id <= 0)
		return "unknown vessel";
	if (!isfinite(p->lat) || !isfinite(p->lon) || p->lat < -90 || p->lat > 90 ||
	    p->lon < -180 || p->lon > 180)
		return "coordinates out of range";
	/* 0,0 is what receivers print for "no position", never a river */
	if (p->lat == 0 && p->lon == 0)
		return "no position (0, 0)";
	if (p->device_time_ms < OLDEST_MS)
		return "device time before 2000";
	if (p->device_time_ms > now_ms + (int64_t)s->cfg->future_tolerance_s * 1000)
		return "device time in the future";
	if (!isfinite(p->speed_kn) || p->speed_kn < 0 || p->speed_kn > 200)
		return "speed out of range";
	return NULL;
}

const char ingest_duplicate[] = "duplicate";

size_t ingest_filter(struct sw_server *s, struct sw_position *p, size_t n, const char **why)
{
	int64_t now = sw_now_ms();
	size_t i, ok = 0;

	for (i = 0; i < n; i++) {
		const char *w = ingest_check(s, &p[i], now);

		if (!w && ingest_seen(s, &p[i]))
			w = ingest_duplicate; /* a retransmission: not stored twice */
		if (why)
			why[i] = w;
		if (w) {
			free(p[i].raw);
			p[i].raw = NULL;
			if (w == ingest_duplicate)
				s->positions_duplicate++;
			else
				s->positions_rejected++;
			continue;
		}
		if (!p[i].recv_time_ms)
			p[i].recv_time_ms = now;
		if (ok != i)
			p[ok] = p[i];
		ok++;
	}
	return ok;
}

int ingest_queue(struct sw_server *s, struct sw_position *p, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	if (db_push_positions(s->db, p, n)) {
		for (i = 0; i < n; i++)
			free(p[i].raw);
		s->positions_rejected += n;
		return -1;
	}
	s->positions_accepted += n;
	return 0;
}

size_t ingest_positions(struct sw_server *s, struct sw_position *p, size_t n, const char **reason)
{
	const char *why[64];
	size_t i, ok;

	if (reason)
		*reason = NULL;
	if (n > 64) {
		size_t done = 0, sub;
		for (i = 0; i < n; i += sub) {
			sub = n - i < 64 ? n - i : 64;
			done += ingest_positions(s, p + i, sub, reason && !*reason ? reason : NULL);
		}
		return done;
	}
	ok = ingest_filter(s, p, n, why);
	for (i = 0; reason && i < n && !*reason; i++)
		if (why[i] && why[i] != ingest_duplicate)
			*reason = why[i];
	if (ingest_queue(s, p, ok)) {
		if (reason)
			*reason = "server busy: write queue full";
		return 0;
	}
	return ok;
}

/* Appends a string literal. */
#define PUT(o, lit) (memcpy((o), (lit), sizeof(lit) - 1), (o) + sizeof(lit) - 1)

void ingest_committed(const struct sw_position *p, size_t n, void *ctx)
{
	struct sw_server *s = ctx;
	char buf[512], *o;
	size_t i;

	alerts_positions(s, p, n);
	if (!s->live)
		return;
	for (i = 0; i < n; i++) {
		if (!p[i].fix_valid)
			continue;
		/* {"type":"position","vessel":..,"lon":..,"lat":..,"time":"..",
		 *  "speed_kn":..,"course":..,"received":".."[,"blind":true]}:
		 * "received" is when the server got the message, "blind" marks a
		 * re-send after a signal gap. Built by hand: this runs for every
		 * position. */
		o = PUT(buf, "{\"type\":\"position\",\"vessel\":");
		o = fmt_int(o, p[i].vessel_id);
		o = PUT(o, ",\"lon\":");
		o = fmt_fixed(o, p[i].lon, 7);
		o = PUT(o, ",\"lat\":");
		o = fmt_fixed(o, p[i].lat, 7);
		o = PUT(o, ",\"time\":\"");
		o = fmt_iso_cst(o, p[i].device_time_ms);
		o = PUT(o, "\",\"speed_kn\":");
		o = fmt_fixed(o, p[i].speed_kn, 2);
		o = PUT(o, ",\"course\":");
		o = fmt_fixed(o, p[i].course, 1);
		o = PUT(o, ",\"received\":\"");
		o = fmt_iso_cst(o, p[i].recv_time_ms);
		o = PUT(o, "\"");
		if (p[i].blind)
			o = PUT(o, ",\"blind\":true");
		*o++ = '}';
		live_publish(s->live, buf, (size_t)(o - buf));
	}
}
