/* sim_geo.h -- the simulator's demo geography: river centreline, mining zones and parking polygons in local metres. */
#ifndef SW_SIM_GEO_H
#define SW_SIM_GEO_H

#include <stddef.h>
#include <stdint.h>

/* A point in local metres: x east, y north of the projection origin. */
struct sim_pt {
	double x, y;
};

/* One polyline part of the river centreline. pts owned by the geo. */
struct sim_line {
	struct sim_pt *pts;
	size_t n;
};

/* A polygon or multipolygon: all rings concatenated, tested with the
 * even-odd rule (holes and separate parts both work). Arrays owned. */
struct sim_poly {
	char code[32];
	struct sim_pt *pts;
	size_t n;
	size_t *ring_start; /* n_rings + 1 entries, the last one is n */
	size_t n_rings;
	double minx, miny, maxx, maxy;
	struct sim_pt centre; /* an interior point, for routing */
};

/* Everything read from --demo-dir. Free with sim_geo_free. */
struct sim_geo {
	double lon0, lat0; /* projection origin, degrees */
	double kx, ky;     /* metres per degree of lon / lat at lat0 */
	struct sim_line *river;
	size_t n_river;
	struct sim_poly *zones;
	size_t n_zones;
	struct sim_poly *parks;
	size_t n_parks;
};

/* Reads chang_river.geojson, mining_zones.geojson and parking.geojson from
 * dir into g (zeroed first). Returns 0, or -1 with a one-line message in err. */
int sim_geo_load(struct sim_geo *g, const char *dir, char *err, size_t errlen);
void sim_geo_free(struct sim_geo *g);

/* Degrees <-> local metres with the geo's origin (equirectangular; good to a
 * few metres over the few tens of kilometres of the demo). */
struct sim_pt sim_geo_to_local(const struct sim_geo *g, double lon, double lat);
void sim_geo_to_lonlat(const struct sim_geo *g, struct sim_pt p, double *lon,
		       double *lat);

/* Index of the zone / parking polygon with this code, or -1. */
int sim_geo_zone(const struct sim_geo *g, const char *code);
int sim_geo_park(const struct sim_geo *g, const char *code);

/* 1 if p is inside poly (even-odd over all rings), else 0. */
int sim_poly_contains(const struct sim_poly *poly, struct sim_pt p);

/* A uniformly random interior point (rejection sampling in the bounding box);
 * the polygon's centre if sampling fails. rng is a splitmix64 state. */
struct sim_pt sim_poly_random(const struct sim_poly *poly, uint64_t *rng);

/* The route from a to b along the river: a, a's foot on the centreline, the
 * centreline vertices between, b's foot, b. *out is malloc'd and owned by the
 * caller. Returns the number of points (>= 2), or -1 on allocation failure. */
int sim_geo_route(const struct sim_geo *g, struct sim_pt a, struct sim_pt b,
		  struct sim_pt **out);

/* Distance in metres between two local points. */
double sim_dist(struct sim_pt a, struct sim_pt b);

/* splitmix64: next 64 random bits, and a uniform double in [lo, hi). */
uint64_t sim_rng_next(uint64_t *s);
double sim_rng_range(uint64_t *s, double lo, double hi);

#endif
