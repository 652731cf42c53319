/* sim_feed.c -- the text feeds of shorewatch-sim: NMEA 0183 ($PSWID, $GNRMC, $GNGGA) and AIS (!AIVDM types 1/18 with 5/24 static data). */
#include "sim_app.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim_ais.h"
#include "sim_nmea.h"

#define KMH_PER_KN 1.852
#define STATIC_EVERY 6 /* AIS static data with every 6th position */

void sim_sample(struct sim_app *a, struct sim_term *t, double now,
		struct sim_fix *fx)
{
	sim_vessel_step(&t->v, &a->geo, now, a->tod);
	sim_vessel_fix(&t->v, &a->geo, fx);
	t->reports++;
}

size_t sim_feed_hello(const struct sim_term *t, char *out, size_t cap)
{
	return sim_nmea_pswid(t->v.terminal, out, cap);
}

/* The vessel's AIS static data: pinyin name, a callsign from the MMSI, ship
 * type 33 (dredging), dimensions from the MMSI (stable across runs). */
static void static_data(const struct sim_term *t, struct sim_ais_static *s)
{
	memset(s, 0, sizeof(*s));
	s->mmsi = t->mmsi;
	sim_ais_name(t->v.name, s->name, sizeof(s->name));
	snprintf(s->callsign, sizeof(s->callsign), "BS%05u", t->mmsi % 100000);
	s->ship_type = 33;
	s->to_bow = 30 + (int)(t->mmsi % 17);
	s->to_stern = 8 + (int)(t->mmsi % 5);
	s->to_port = 4 + (int)(t->mmsi % 3);
	s->to_starboard = s->to_port;
	s->draught_m = 2.0 + (t->mmsi % 15) / 10.0;
	snprintf(s->destination, sizeof(s->destination), "JINGDEZHEN");
}

/* Writes t's AIS lines for one report into out: the position, then every
 * STATIC_EVERY reports the static data. Returns the length, 0 if no room. */
static size_t ais_lines(struct sim_app *a, struct sim_term *t,
			const struct sim_fix *fx, char *out, size_t cap)
{
	struct sim_ais_pos p;
	struct sim_ais_bits bs;
	struct sim_ais_static st;
	size_t n, k;

	p.mmsi = t->mmsi;
	p.nav_status = t->v.phase == SIM_PARKED ? 5 : 0;
	p.lon = fx->lon;
	p.lat = fx->lat;
	p.sog_kn = fx->speed_kmh / KMH_PER_KN;
	p.cog = fx->course;
	p.heading = (int)lround(fx->course) % 360;
	p.second = (int)fmod(floor(a->now_real), 60.0);
	p.rot = -128; /* n/a */
	p.accuracy = 1;
	p.raim = 0;
	p.radio = 0;
	if (t->class_b)
		sim_ais_type18(&p, &bs);
	else
		sim_ais_type1(&p, &bs);
	n = sim_ais_lines(&bs, 0, 'A', out, cap);
	if (!n)
		return 0;
	if ((t->reports - 1) % STATIC_EVERY)
		return n;
	static_data(t, &st);
	if (t->class_b) {
		sim_ais_type24(&st, 0, &bs);
		k = sim_ais_lines(&bs, 0, 'A', out + n, cap - n);
		if (!k)
			return n;
		sim_ais_type24(&st, 1, &bs);
		n += k;
		k = sim_ais_lines(&bs, 0, 'A', out + n, cap - n);
		if (!k)
			return n;
		n += k;
		a->s.lines_sent += 2;
	} else {
		sim_ais_type5(&st, &bs);
		k = sim_ais_lines(&bs, a->ais_seq, 'A', out + n, cap - n);
		if (!k)
			return n;
		a->ais_seq = (a->ais_seq + 1) % 10;
		n += k;
		a->s.lines_sent += 2;
	}
	a->s.statics++;
	return n;
}

/* Writes t's NMEA RMC + GGA for one report into out. */
static size_t nmea_lines(struct sim_app *a, struct sim_term *t,
			 const struct sim_fix *fx, char *out, size_t cap)
{
	struct sim_nmea_fix f;
	size_t n, k;

	f.utc = a->now_real;
	f.lat = fx->lat;
	f.lon = fx->lon;
	f.speed_kn = fx->speed_kmh / KMH_PER_KN;
	f.course = fx->course;
	f.satellites = fx->satellites;
	f.hdop = 0.6 + (fx->signal % 7) / 10.0;
	f.altitude_m = 22.0;
	n = sim_nmea_rmc(&f, out, cap);
	if (!n)
		return 0;
	k = sim_nmea_gga(&f, out + n, cap - n);
	if (!k)
		return 0;
	a->s.lines_sent++;
	return n + k;
}

size_t sim_feed_report(struct sim_app *a, struct sim_term *t, double now)
{
	/* room for a position and a two-fragment static message */
	char buf[512];
	struct sim_fix fx;
	size_t n;

	sim_sample(a, t, now, &fx);
	if (a->o.feed == SIM_FEED_NMEA)
		n = nmea_lines(a, t, &fx, buf, sizeof(buf));
	else
		n = ais_lines(a, t, &fx, buf, sizeof(buf));
	if (!n)
		return 0;
	if (a->o.feed == SIM_FEED_AIS_UDP) {
		if (a->dgram_len + n > sizeof(a->dgram))
			sim_net_udp_flush(a, now);
		memcpy(a->dgram + a->dgram_len, buf, n);
		a->dgram_len += n;
	} else {
		if (n > sizeof(t->out) - t->out_len) {
			a->s.errors++;
			sim_logt(a, "terminal %s: send buffer full, report dropped",
				 t->v.terminal);
			return 0;
		}
		memcpy(t->out + t->out_len, buf, n);
		t->out_len += n;
	}
	a->s.lines_sent++;
	a->s.positions_sent++;
	if (a->o.verbose)
		sim_log("%s %s %s %.6f %.6f %.1f km/h %.0f deg (%s)",
			t->v.terminal, t->v.name, sim_phase_name(t->v.phase),
			fx.lon, fx.lat, fx.speed_kmh, fx.course,
			sim_feed_name(a->o.feed));
	return n;
}
