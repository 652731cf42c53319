/* sim_model.c -- the demo fleet file and the vessel movement model (schedule, river transit, zone wandering, parking jitter). */
#include "sim_model.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400.0
#define KMH (1000.0 / 3600.0) /* metres per second in one km/h */
#define SUBSTEP 5.0           /* seconds per motion step */

/* Copies a string member of o into dst; 0, or -1 if missing / empty. */
static int get_str(json_t *o, const char *key, char *dst, size_t cap)
{
	const char *s = json_string_value(json_object_get(o, key));

	if (!s || !*s)
		return -1;
	snprintf(dst, cap, "%s", s);
	return 0;
}

int sim_fleet_load(const char *path, const struct sim_geo *g,
		   struct sim_vessel **out, size_t *n, char *err,
		   size_t errlen)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *o;
	struct sim_vessel *vs;
	size_t i;

	if (!root) {
		if (je.line > 0)
			snprintf(err, errlen, "%s: %s (line %d)", path, je.text,
				 je.line);
		else
			snprintf(err, errlen, "%s", je.text);
		return -1;
	}
	if (!json_is_array(root) || !json_array_size(root)) {
		snprintf(err, errlen, "%s: expected a non-empty JSON array", path);
		json_decref(root);
		return -1;
	}
	vs = calloc(json_array_size(root), sizeof(*vs));
	if (!vs) {
		json_decref(root);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_array_foreach(root, i, o) {
		struct sim_vessel *v = &vs[i];
		char zone[32], park[32];
		const char *d;

		if (get_str(o, "name", v->name, sizeof(v->name)) ||
		    get_str(o, "registration", v->registration,
			    sizeof(v->registration)) ||
		    get_str(o, "terminal", v->terminal, sizeof(v->terminal)) ||
		    get_str(o, "zone", zone, sizeof(zone)) ||
		    get_str(o, "parking", park, sizeof(park))) {
			snprintf(err, errlen,
				 "%s: vessel %zu lacks name, registration, terminal, zone or parking",
				 path, i + 1);
			goto fail;
		}
		for (d = v->terminal; *d; d++)
			if (*d < '0' || *d > '9')
				break;
		if (*d || strlen(v->terminal) > 20) {
			snprintf(err, errlen, "%s: vessel %s: terminal %s is not a number of up to 20 digits",
				 path, v->name, v->terminal);
			goto fail;
		}
		v->zone = sim_geo_zone(g, zone);
		v->park = sim_geo_park(g, park);
		if (v->zone < 0 || v->park < 0) {
			snprintf(err, errlen, "%s: vessel %s: %s %s not in the demo geography",
				 path, v->name, v->zone < 0 ? "zone" : "parking",
				 v->zone < 0 ? zone : park);
			goto fail;
		}
	}
	*n = json_array_size(root);
	*out = vs;
	json_decref(root);
	return 0;
fail:
	free(vs);
	json_decref(root);
	return -1;
}

void sim_vessel_synthetic(struct sim_vessel *v, const struct sim_geo *g,
			  size_t i, uint64_t terminal_base)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->terminal, sizeof(v->terminal), "%llu",
		 (unsigned long long)(terminal_base + i));
	snprintf(v->name, sizeof(v->name), "SIM-%zu", i);
	/* 赣测 + the last 6 digits: a plausible plate, GBK-encodable */
	snprintf(v->registration, sizeof(v->registration), "赣测%06llu",
		 (unsigned long long)((terminal_base + i) % 1000000));
	v->zone = (int)(i % g->n_zones);
	v->park = (int)(i % g->n_parks);
	v->always_work = 1;
}

const char *sim_phase_name(enum sim_phase p)
{
	switch (p) {
	case SIM_PARKED:
		return "parked";
	case SIM_TO_ZONE:
		return "to_zone";
	case SIM_WORKING:
		return "working";
	case SIM_TO_PARK:
		return "to_park";
	}
	return "?";
}

void sim_vessel_clear(struct sim_vessel *v)
{
	free(v->path);
	v->path = NULL;
	v->path_n = v->path_seg = 0;
	v->path_off = 0;
}

/* Length of the remaining path in metres. */
static double path_left(const struct sim_vessel *v)
{
	double d = -v->path_off;
	size_t i;

	for (i = v->path_seg; i + 1 < v->path_n; i++)
		d += sim_dist(v->path[i], v->path[i + 1]);
	return d;
}

/* Heading in degrees (0 north, clockwise) from a to b. */
static double bearing(struct sim_pt a, struct sim_pt b)
{
	double c = atan2(b.x - a.x, b.y - a.y) * 180.0 / M_PI;
	return c < 0 ? c + 360.0 : c;
}

/* Moves dist metres along the path; returns 1 on arrival at its end. */
static int path_advance(struct sim_vessel *v, double dist)
{
	while (v->path_seg + 1 < v->path_n) {
		struct sim_pt a = v->path[v->path_seg], b = v->path[v->path_seg + 1];
		double len = sim_dist(a, b), left = len - v->path_off;

		if (len > 0.01)
			v->course = bearing(a, b);
		if (dist < left) {
			v->path_off += dist;
			v->pos.x = a.x + (b.x - a.x) * v->path_off / len;
			v->pos.y = a.y + (b.y - a.y) * v->path_off / len;
			return 0;
		}
		dist -= left;
		v->path_seg++;
		v->path_off = 0;
		v->pos = b;
	}
	return 1;
}

/* Builds the route from the current position to the vessel's zone. When the
 * river centreline runs through the zone, the trip ends where it enters it. */
static int route_to_zone(struct sim_vessel *v, const struct sim_geo *g)
{
	const struct sim_poly *z = &g->zones[v->zone];
	struct sim_pt *r = NULL;
	int n = sim_geo_route(g, v->pos, z->centre, &r);

	if (n < 0)
		return -1;
	if (n >= 3 && sim_poly_contains(z, r[n - 2])) {
		/* stop at the first centreline point inside the zone */
		int i;
		for (i = 1; i < n - 1; i++)
			if (sim_poly_contains(z, r[i]))
				break;
		n = i + 1;
	}
	sim_vessel_clear(v);
	v->path = r;
	v->path_n = (size_t)n;
	return 0;
}

/* Builds the route from the current position to a fresh anchor point in the
 * vessel's parking polygon. */
static int route_to_park(struct sim_vessel *v, const struct sim_geo *g)
{
	struct sim_pt *r = NULL;
	int n;

	v->anchor = sim_poly_random(&g->parks[v->park], &v->rng);
	n = sim_geo_route(g, v->pos, v->anchor, &r);
	if (n < 0)
		return -1;
	sim_vessel_clear(v);
	v->path = r;
	v->path_n = (size_t)n;
	return 0;
}

/* Starts a transit in the given direction (staying put if out of memory). */
static void start_transit(struct sim_vessel *v, const struct sim_geo *g,
			  enum sim_phase to)
{
	if ((to == SIM_TO_ZONE ? route_to_zone(v, g) : route_to_park(v, g)) == 0)
		v->phase = to;
}

/* Starts a new wander leg: a new speed; the target is planned from wherever
 * the vessel is when it next moves (plan_leg). */
static void new_leg(struct sim_vessel *v, const struct sim_geo *g)
{
	v->leg_kmh = sim_rng_range(&v->rng, 0.3, 3.0);
	v->leg_left = -1;
}

/* 1 if the straight line a-b stays inside poly, tested every 25 m (at most
 * 64 points): done once per leg, so that steps need no polygon test. */
static int line_inside(const struct sim_poly *poly, struct sim_pt a,
		       struct sim_pt b)
{
	double d = sim_dist(a, b);
	int n = (int)(d / 25.0) + 1, i;

	if (n > 64)
		n = 64;
	for (i = 1; i <= n; i++) {
		struct sim_pt p = {a.x + (b.x - a.x) * i / n,
				   a.y + (b.y - a.y) * i / n};
		if (!sim_poly_contains(poly, p))
			return 0;
	}
	return 1;
}

/* Picks a target inside the zone reachable in a straight line (a few tries,
 * else the zone's centre), and precomputes course, direction and length. */
static void plan_leg(struct sim_vessel *v, const struct sim_geo *g)
{
	const struct sim_poly *z = &g->zones[v->zone];
	int tries;

	v->target = z->centre;
	if (sim_poly_contains(z, v->pos)) {
		for (tries = 0; tries < 8; tries++) {
			struct sim_pt t = sim_poly_random(z, &v->rng);
			if (line_inside(z, v->pos, t)) {
				v->target = t;
				break;
			}
		}
	} /* else: arrived at the zone's edge from the river: head in */
	v->leg_left = sim_dist(v->pos, v->target);
	if (v->leg_left > 0.01) {
		v->ux = (v->target.x - v->pos.x) / v->leg_left;
		v->uy = (v->target.y - v->pos.y) / v->leg_left;
		v->course = bearing(v->pos, v->target);
	} else {
		v->ux = v->uy = 0;
	}
}

/* 1 if the schedule wants the vessel out of its parking at time-of-day tod. */
static int in_window(const struct sim_vessel *v, double tod)
{
	if (v->depart_tod <= v->leave_tod)
		return tod >= v->depart_tod && tod < v->leave_tod;
	return tod >= v->depart_tod || tod < v->leave_tod;
}

void sim_vessel_start(struct sim_vessel *v, const struct sim_geo *g,
		      uint64_t seed, size_t index, int stagger, double now,
		      double tod, double k)
{
	const struct sim_poly *z = &g->zones[v->zone];
	double transit, hold;
	int kind;

	v->rng = seed * 0x9e3779b97f4a7c15ULL + index * 0xd1b54a32d192ed03ULL + 1;
	sim_rng_next(&v->rng);
	v->cruise_kmh = sim_rng_range(&v->rng, 6.0, 12.0);
	v->mileage_m = sim_rng_range(&v->rng, 2000e3, 40000e3);
	v->anchor = sim_poly_random(&g->parks[v->park], &v->rng);
	v->pos = v->anchor;
	v->phase = SIM_PARKED;
	v->t_last = now;
	new_leg(v, g);

	/* depart early enough to arrive a little after 07:00, leave a little
	 * before 19:00; transit time counted in schedule seconds */
	if (route_to_zone(v, g) == 0) {
		transit = path_left(v) / (v->cruise_kmh * KMH) * k;
		sim_vessel_clear(v);
	} else {
		transit = sim_dist(v->anchor, z->centre) * 1.5 /
			  (v->cruise_kmh * KMH) * k;
	}
	if (transit > 5 * 3600)
		transit = 5 * 3600;
	v->depart_tod = fmod(SIM_WORK_START + sim_rng_range(&v->rng, 300, 2700) -
				     transit + DAY, DAY);
	v->leave_tod = SIM_WORK_END - sim_rng_range(&v->rng, 300, 2700);

	if (v->always_work) {
		v->pos = sim_poly_random(z, &v->rng);
		v->phase = SIM_WORKING;
		return;
	}
	if (!stagger)
		return;
	/* stagger: 2 of 5 working, 1 heading out, 1 heading home, 1 parked */
	kind = (int)(index % 5);
	hold = sim_rng_range(&v->rng, 1200, 5400) / (k > 1 ? k : 1);
	v->hold_until = now + (hold < 60 ? 60 : hold);
	if (kind <= 1) {
		v->pos = sim_poly_random(z, &v->rng);
		v->phase = SIM_WORKING;
	} else if (kind == 2 || kind == 3) {
		if (kind == 3)
			v->pos = sim_poly_random(z, &v->rng);
		start_transit(v, g, kind == 2 ? SIM_TO_ZONE : SIM_TO_PARK);
		path_advance(v, path_left(v) * sim_rng_range(&v->rng, 0.15, 0.85));
		v->speed_kmh = v->cruise_kmh;
	} else {
		v->hold_until = 0;
	}
}

/* One motion step of h seconds. */
static void move(struct sim_vessel *v, const struct sim_geo *g, double h)
{
	struct sim_pt before = v->pos;

	switch (v->phase) {
	case SIM_PARKED:
		v->pos = v->anchor;
		v->speed_kmh = 0;
		break;
	case SIM_TO_ZONE:
	case SIM_TO_PARK:
		v->speed_kmh = v->cruise_kmh;
		if (path_advance(v, v->cruise_kmh * KMH * h)) {
			sim_vessel_clear(v);
			if (v->phase == SIM_TO_ZONE) {
				v->phase = SIM_WORKING;
				new_leg(v, g);
			} else {
				v->phase = SIM_PARKED;
				v->anchor = v->pos;
				v->speed_kmh = 0;
			}
		}
		break;
	case SIM_WORKING: {
		/* precomputed leg: no polygon test, no trigonometry per step */
		double step = v->leg_kmh * KMH * h;

		if (v->leg_left < 0)
			plan_leg(v, g);
		v->speed_kmh = v->leg_kmh;
		if (step >= v->leg_left) {
			v->mileage_m += v->leg_left;
			v->pos = v->target;
			new_leg(v, g);
		} else {
			v->pos.x += v->ux * step;
			v->pos.y += v->uy * step;
			v->leg_left -= step;
			v->mileage_m += step;
		}
		return;
	}
	}
	v->mileage_m += sim_dist(before, v->pos);
}

void sim_vessel_step(struct sim_vessel *v, const struct sim_geo *g, double now,
		     double tod)
{
	double dt = now - v->t_last;

	if (dt <= 0)
		return;
	v->t_last = now;
	if (!v->always_work && now >= v->hold_until) {
		int win = in_window(v, tod);
		if (v->phase == SIM_PARKED && win)
			start_transit(v, g, SIM_TO_ZONE);
		else if (v->phase == SIM_WORKING && !win)
			start_transit(v, g, SIM_TO_PARK);
	}
	while (dt > 0) {
		double h = dt > SUBSTEP ? SUBSTEP : dt;
		move(v, g, h);
		dt -= h;
	}
}

void sim_vessel_fix(struct sim_vessel *v, const struct sim_geo *g,
		    struct sim_fix *fix)
{
	struct sim_pt p = v->pos;

	fix->speed_kmh = v->speed_kmh;
	fix->course = v->course;
	if (v->phase == SIM_PARKED) {
		double r = sim_rng_range(&v->rng, 2.0, 5.0);
		double a = sim_rng_range(&v->rng, 0, 2 * M_PI);
		p.x += r * sin(a);
		p.y += r * cos(a);
		fix->speed_kmh = sim_rng_range(&v->rng, 0, 0.3);
		fix->course = floor(sim_rng_range(&v->rng, 0, 360));
	} else {
		fix->speed_kmh += sim_rng_range(&v->rng, -0.1, 0.1) *
				  (v->phase == SIM_WORKING ? 1 : 5);
		if (fix->speed_kmh < 0)
			fix->speed_kmh = 0;
	}
	sim_geo_to_lonlat(g, p, &fix->lon, &fix->lat);
	fix->mileage_hm = (uint32_t)(v->mileage_m / 100.0);
	fix->satellites = 8 + (int)(sim_rng_next(&v->rng) % 13);
	fix->signal = 14 + (int)(sim_rng_next(&v->rng) % 18);
}
