/* sim_geo.c -- reads the demo GeoJSON layers with jansson and answers the simulator's geometric questions. */
#include "sim_geo.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEG2RAD (M_PI / 180.0)

/* Growable array of points used while reading coordinates. */
struct pt_buf {
	struct sim_pt *p;
	size_t n, cap;
	size_t *rings;
	size_t n_rings, cap_rings;
};

/* Appends a point; 0 or -1 on allocation failure. */
static int buf_push(struct pt_buf *b, double lon, double lat)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct sim_pt *np = realloc(b->p, cap * sizeof(*np));
		if (!np)
			return -1;
		b->p = np;
		b->cap = cap;
	}
	/* lon/lat for now; converted to metres once the origin is known */
	b->p[b->n].x = lon;
	b->p[b->n].y = lat;
	b->n++;
	return 0;
}

/* Records that a ring starts at the current point count. */
static int buf_ring(struct pt_buf *b)
{
	if (b->n_rings + 1 >= b->cap_rings) {
		size_t cap = b->cap_rings ? 2 * b->cap_rings : 8;
		size_t *nr = realloc(b->rings, cap * sizeof(*nr));
		if (!nr)
			return -1;
		b->rings = nr;
		b->cap_rings = cap;
	}
	b->rings[b->n_rings++] = b->n;
	return 0;
}

/* Reads a GeoJSON position array [[lon,lat],...] into b. 0 or -1. */
static int read_positions(json_t *arr, struct pt_buf *b)
{
	size_t i;
	json_t *pos;

	if (!json_is_array(arr))
		return -1;
	json_array_foreach(arr, i, pos) {
		json_t *x = json_array_get(pos, 0), *y = json_array_get(pos, 1);
		if (!json_is_number(x) || !json_is_number(y))
			return -1;
		if (buf_push(b, json_number_value(x), json_number_value(y)))
			return -1;
	}
	return 0;
}

/* Loads a FeatureCollection (or a single Feature) from path. Returns the
 * features array with a new reference held in *root, or NULL. */
static json_t *load_features(const char *path, json_t **root, char *err,
			     size_t errlen)
{
	json_error_t je;
	json_t *r = json_load_file(path, 0, &je);
	json_t *feats;

	if (!r) {
		if (je.line > 0)
			snprintf(err, errlen, "%s: %s (line %d)", path, je.text,
				 je.line);
		else
			snprintf(err, errlen, "%s", je.text);
		return NULL;
	}
	feats = json_object_get(r, "features");
	if (!json_is_array(feats)) {
		if (json_is_object(json_object_get(r, "geometry"))) {
			/* a single Feature: wrap it */
			json_t *wrap = json_array();
			json_array_append(wrap, r);
			json_object_set_new(r, "__wrap", wrap);
			feats = wrap;
		} else {
			snprintf(err, errlen, "%s: not a GeoJSON FeatureCollection",
				 path);
			json_decref(r);
			return NULL;
		}
	}
	*root = r;
	return feats;
}

/* Releases a root loaded by load_features (breaking the wrap cycle). */
static void release_root(json_t *root)
{
	if (!root)
		return;
	if (json_object_get(root, "__wrap")) {
		json_array_clear(json_object_get(root, "__wrap"));
		json_object_del(root, "__wrap");
	}
	json_decref(root);
}

/* Reads the river line file: every LineString / MultiLineString becomes one or
 * more parts (kept in degrees until sim_geo_load projects them). */
static int read_river(struct sim_geo *g, const char *path, char *err,
		      size_t errlen)
{
	json_t *root = NULL, *feats, *f;
	size_t i;

	feats = load_features(path, &root, err, errlen);
	if (!feats)
		return -1;
	json_array_foreach(feats, i, f) {
		json_t *geom = json_object_get(f, "geometry");
		const char *type = json_string_value(json_object_get(geom, "type"));
		json_t *coords = json_object_get(geom, "coordinates");
		json_t *single = NULL, *list = NULL;
		size_t np, j;

		if (!type)
			continue;
		if (!strcmp(type, "LineString")) {
			single = coords;
			np = 1;
		} else if (!strcmp(type, "MultiLineString") &&
			   json_is_array(coords)) {
			list = coords;
			np = json_array_size(coords);
		} else {
			continue;
		}
		for (j = 0; j < np; j++) {
			struct pt_buf b = {0};
			json_t *c = list ? json_array_get(list, j) : single;
			struct sim_line *nl;

			if (read_positions(c, &b)) {
				free(b.p);
				free(b.rings);
				snprintf(err, errlen, "%s: bad LineString coordinates",
					 path);
				release_root(root);
				return -1;
			}
			if (b.n < 2) {
				free(b.p);
				free(b.rings);
				continue;
			}
			free(b.rings);
			nl = realloc(g->river, (g->n_river + 1) * sizeof(*nl));
			if (!nl) {
				free(b.p);
				release_root(root);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			g->river = nl;
			g->river[g->n_river].pts = b.p;
			g->river[g->n_river].n = b.n;
			g->n_river++;
		}
	}
	release_root(root);
	if (!g->n_river) {
		snprintf(err, errlen, "%s: no LineString features", path);
		return -1;
	}
	return 0;
}

/* Reads Polygon / MultiPolygon features with properties.code into *polys. */
static int read_polys(const char *path, struct sim_poly **polys, size_t *n,
		      char *err, size_t errlen)
{
	json_t *root = NULL, *feats, *f;
	size_t i;

	feats = load_features(path, &root, err, errlen);
	if (!feats)
		return -1;
	json_array_foreach(feats, i, f) {
		json_t *geom = json_object_get(f, "geometry");
		const char *type = json_string_value(json_object_get(geom, "type"));
		const char *code = json_string_value(
			json_object_get(json_object_get(f, "properties"), "code"));
		json_t *coords = json_object_get(geom, "coordinates");
		struct pt_buf b = {0};
		struct sim_poly *np, *p;
		size_t j, k;
		int bad = 0;

		if (!type || !code)
			continue;
		if (!strcmp(type, "Polygon")) {
			for (k = 0; k < json_array_size(coords) && !bad; k++)
				bad = buf_ring(&b) ||
				      read_positions(json_array_get(coords, k), &b);
		} else if (!strcmp(type, "MultiPolygon")) {
			for (j = 0; j < json_array_size(coords) && !bad; j++) {
				json_t *poly = json_array_get(coords, j);
				for (k = 0; k < json_array_size(poly) && !bad; k++)
					bad = buf_ring(&b) ||
					      read_positions(json_array_get(poly, k), &b);
			}
		} else {
			continue;
		}
		if (bad || b.n < 3 || buf_ring(&b)) {
			free(b.p);
			free(b.rings);
			snprintf(err, errlen, "%s: feature %s: bad polygon", path,
				 code);
			release_root(root);
			return -1;
		}
		np = realloc(*polys, (*n + 1) * sizeof(*np));
		if (!np) {
			free(b.p);
			free(b.rings);
			release_root(root);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		*polys = np;
		p = &np[*n];
		memset(p, 0, sizeof(*p));
		snprintf(p->code, sizeof(p->code), "%s", code);
		p->pts = b.p;
		p->n = b.n;
		p->ring_start = b.rings;
		p->n_rings = b.n_rings - 1; /* last entry is the end marker */
		(*n)++;
	}
	release_root(root);
	if (!*n) {
		snprintf(err, errlen, "%s: no Polygon features with properties.code",
			 path);
		return -1;
	}
	return 0;
}

/* Converts a polygon from degrees to metres and fills its bbox and centre. */
static void finish_poly(const struct sim_geo *g, struct sim_poly *p)
{
	size_t i;
	double sx = 0, sy = 0;
	uint64_t rng = 0x5157u;

	p->minx = p->miny = INFINITY;
	p->maxx = p->maxy = -INFINITY;
	for (i = 0; i < p->n; i++) {
		p->pts[i] = sim_geo_to_local(g, p->pts[i].x, p->pts[i].y);
		p->minx = fmin(p->minx, p->pts[i].x);
		p->maxx = fmax(p->maxx, p->pts[i].x);
		p->miny = fmin(p->miny, p->pts[i].y);
		p->maxy = fmax(p->maxy, p->pts[i].y);
		sx += p->pts[i].x;
		sy += p->pts[i].y;
	}
	p->centre.x = sx / p->n;
	p->centre.y = sy / p->n;
	if (!sim_poly_contains(p, p->centre)) {
		/* concave: any interior point will do for routing */
		p->centre = p->pts[0];
		for (i = 0; i < 2000; i++) {
			struct sim_pt q = {sim_rng_range(&rng, p->minx, p->maxx),
					   sim_rng_range(&rng, p->miny, p->maxy)};
			if (sim_poly_contains(p, q)) {
				p->centre = q;
				break;
			}
		}
	}
}

int sim_geo_load(struct sim_geo *g, const char *dir, char *err, size_t errlen)
{
	char path[4096];
	double minx = INFINITY, maxx = -INFINITY, miny = INFINITY,
	       maxy = -INFINITY;
	size_t i, j;

	memset(g, 0, sizeof(*g));
	snprintf(path, sizeof(path), "%s/chang_river.geojson", dir);
	if (read_river(g, path, err, errlen))
		goto fail;
	snprintf(path, sizeof(path), "%s/mining_zones.geojson", dir);
	if (read_polys(path, &g->zones, &g->n_zones, err, errlen))
		goto fail;
	snprintf(path, sizeof(path), "%s/parking.geojson", dir);
	if (read_polys(path, &g->parks, &g->n_parks, err, errlen))
		goto fail;

	/* origin: the middle of the zones and parking points */
	for (i = 0; i < g->n_zones + g->n_parks; i++) {
		struct sim_poly *p = i < g->n_zones ? &g->zones[i]
						    : &g->parks[i - g->n_zones];
		for (j = 0; j < p->n; j++) {
			minx = fmin(minx, p->pts[j].x);
			maxx = fmax(maxx, p->pts[j].x);
			miny = fmin(miny, p->pts[j].y);
			maxy = fmax(maxy, p->pts[j].y);
		}
	}
	g->lon0 = (minx + maxx) / 2;
	g->lat0 = (miny + maxy) / 2;
	if (g->lat0 < -85 || g->lat0 > 85 || g->lon0 < -180 || g->lon0 > 180) {
		snprintf(err, errlen, "%s: coordinates are not WGS84 lon/lat", dir);
		goto fail;
	}
	g->ky = 111132.954 - 559.822 * cos(2 * g->lat0 * DEG2RAD);
	g->kx = 111319.49 * cos(g->lat0 * DEG2RAD);
	for (i = 0; i < g->n_river; i++)
		for (j = 0; j < g->river[i].n; j++)
			g->river[i].pts[j] = sim_geo_to_local(
				g, g->river[i].pts[j].x, g->river[i].pts[j].y);
	for (i = 0; i < g->n_zones; i++)
		finish_poly(g, &g->zones[i]);
	for (i = 0; i < g->n_parks; i++)
		finish_poly(g, &g->parks[i]);
	return 0;
fail:
	sim_geo_free(g);
	return -1;
}

/* Frees an array of polygons. */
static void free_polys(struct sim_poly *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].pts);
		free(p[i].ring_start);
	}
	free(p);
}

void sim_geo_free(struct sim_geo *g)
{
	size_t i;

	for (i = 0; i < g->n_river; i++)
		free(g->river[i].pts);
	free(g->river);
	free_polys(g->zones, g->n_zones);
	free_polys(g->parks, g->n_parks);
	memset(g, 0, sizeof(*g));
}

struct sim_pt sim_geo_to_local(const struct sim_geo *g, double lon, double lat)
{
	struct sim_pt p = {(lon - g->lon0) * g->kx, (lat - g->lat0) * g->ky};
	return p;
}

void sim_geo_to_lonlat(const struct sim_geo *g, struct sim_pt p, double *lon,
		       double *lat)
{
	*lon = g->lon0 + p.x / g->kx;
	*lat = g->lat0 + p.y / g->ky;
}

/* Linear search for a code in an array of polygons. */
static int find_code(const struct sim_poly *p, size_t n, const char *code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(p[i].code, code))
			return (int)i;
	return -1;
}

int sim_geo_zone(const struct sim_geo *g, const char *code)
{
	return find_code(g->zones, g->n_zones, code);
}

int sim_geo_park(const struct sim_geo *g, const char *code)
{
	return find_code(g->parks, g->n_parks, code);
}

int sim_poly_contains(const struct sim_poly *poly, struct sim_pt p)
{
	size_t r, i, j;
	int in = 0;

	if (p.x < poly->minx || p.x > poly->maxx || p.y < poly->miny ||
	    p.y > poly->maxy)
		return 0;
	for (r = 0; r < poly->n_rings; r++) {
		size_t s = poly->ring_start[r], e = poly->ring_start[r + 1];
		if (e - s < 3)
			continue;
		for (i = s, j = e - 1; i < e; j = i++) {
			const struct sim_pt *a = &poly->pts[i], *b = &poly->pts[j];
			if ((a->y > p.y) != (b->y > p.y) &&
			    p.x < (b->x - a->x) * (p.y - a->y) / (b->y - a->y) + a->x)
				in = !in;
		}
	}
	return in;
}

struct sim_pt sim_poly_random(const struct sim_poly *poly, uint64_t *rng)
{
	int i;

	for (i = 0; i < 1000; i++) {
		struct sim_pt q = {sim_rng_range(rng, poly->minx, poly->maxx),
				   sim_rng_range(rng, poly->miny, poly->maxy)};
		if (sim_poly_contains(poly, q))
			return q;
	}
	return poly->centre;
}

double sim_dist(struct sim_pt a, struct sim_pt b)
{
	return hypot(a.x - b.x, a.y - b.y);
}

/* Foot of p on one river part: segment index, foot point and distance. */
static double foot_on(const struct sim_line *l, struct sim_pt p, size_t *seg,
		      struct sim_pt *foot)
{
	double best = INFINITY;
	size_t i;

	for (i = 0; i + 1 < l->n; i++) {
		struct sim_pt a = l->pts[i], b = l->pts[i + 1], f;
		double dx = b.x - a.x, dy = b.y - a.y, len2 = dx * dx + dy * dy;
		double t = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0;
		double d;

		t = t < 0 ? 0 : t > 1 ? 1 : t;
		f.x = a.x + t * dx;
		f.y = a.y + t * dy;
		d = sim_dist(p, f);
		if (d < best) {
			best = d;
			*seg = i;
			*foot = f;
		}
	}
	return best;
}

int sim_geo_route(const struct sim_geo *g, struct sim_pt a, struct sim_pt b,
		  struct sim_pt **out)
{
	double best = INFINITY;
	size_t part = 0, sa = 0, sb = 0, i, n = 0;
	struct sim_pt fa = a, fb = b, *r;

	for (i = 0; i < g->n_river; i++) {
		size_t s1 = 0, s2 = 0;
		struct sim_pt f1, f2;
		double d = foot_on(&g->river[i], a, &s1, &f1) +
			   foot_on(&g->river[i], b, &s2, &f2);
		if (d < best) {
			best = d;
			part = i;
			sa = s1;
			sb = s2;
			fa = f1;
			fb = f2;
		}
	}
	r = malloc((g->n_river ? g->river[part].n : 0) * sizeof(*r) +
		   4 * sizeof(*r));
	if (!r)
		return -1;
	r[n++] = a;
	if (g->n_river) {
		const struct sim_line *l = &g->river[part];
		r[n++] = fa;
		/* foot a lies on segment sa (between vertex sa and sa+1) */
		if (sa < sb)
			for (i = sa + 1; i <= sb; i++)
				r[n++] = l->pts[i];
		else if (sa > sb)
			for (i = sa; i > sb; i--)
				r[n++] = l->pts[i];
		r[n++] = fb;
	}
	r[n++] = b;
	*out = r;
	return (int)n;
}

uint64_t sim_rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double sim_rng_range(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * ((sim_rng_next(s) >> 11) * 0x1.0p-53);
}
