/* gf_gen.h -- random zone geometries and query points for the geofence tests
 * (tests/unit/cu_geofence.c, tests/tools/gf_check.c): star-shaped polygons with holes,
 * multipolygons, rectilinear staircases (axis-parallel edges), WKB in every flavour.
 * Header-only (static functions); deterministic for a given seed. */
#ifndef SW_GF_GEN_H
#define SW_GF_GEN_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GEN_M_PER_DEG 111195.0802335329 /* 6371008.8 * pi / 180 */

struct gen_rng {
	uint64_t s;
};

static inline uint64_t gen_u64(struct gen_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull); /* splitmix64 */

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [0, 1) */
static inline double gen_unif(struct gen_rng *r)
{
	return (double)(gen_u64(r) >> 11) * 0x1.0p-53;
}

static inline double gen_range(struct gen_rng *r, double lo, double hi)
{
	return lo + (hi - lo) * gen_unif(r);
}

/* uniform integer in [lo, hi] */
static inline int gen_int(struct gen_rng *r, int lo, int hi)
{
	return lo + (int)(gen_u64(r) % (uint64_t)(hi - lo + 1));
}

/* A (multi)polygon: rings are closed (first vertex repeated). */
struct gen_geom {
	double *xy;
	size_t nv, capv;
	uint32_t *ring; /* first vertex of each ring */
	size_t nr, capr;
	uint32_t *poly; /* first ring of each polygon */
	size_t np, capp;
	double minx, miny, maxx, maxy;
};

static inline void gen_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return;
	while (c < need)
		c *= 2;
	*p = realloc(*p, c * elem);
	if (!*p)
		abort();
	*cap = c;
}

static inline void gen_clear(struct gen_geom *g)
{
	g->nv = g->nr = g->np = 0;
	g->minx = g->miny = INFINITY;
	g->maxx = g->maxy = -INFINITY;
}

static inline void gen_free(struct gen_geom *g)
{
	free(g->xy);
	free(g->ring);
	free(g->poly);
	memset(g, 0, sizeof(*g));
}

static inline void gen_begin_poly(struct gen_geom *g)
{
	gen_grow((void **)&g->poly, &g->capp, g->np + 1, sizeof(uint32_t));
	g->poly[g->np++] = (uint32_t)g->nr;
}

static inline void gen_begin_ring(struct gen_geom *g)
{
	gen_grow((void **)&g->ring, &g->capr, g->nr + 1, sizeof(uint32_t));
	g->ring[g->nr++] = (uint32_t)g->nv;
}

static inline void gen_vertex(struct gen_geom *g, double x, double y)
{
	gen_grow((void **)&g->xy, &g->capv, 2 * (g->nv + 1), sizeof(double));
	g->xy[2 * g->nv] = x;
	g->xy[2 * g->nv + 1] = y;
	g->nv++;
	g->minx = x < g->minx ? x : g->minx;
	g->maxx = x > g->maxx ? x : g->maxx;
	g->miny = y < g->miny ? y : g->miny;
	g->maxy = y > g->maxy ? y : g->maxy;
}

static inline void gen_close_ring(struct gen_geom *g)
{
	uint32_t f = g->ring[g->nr - 1];

	gen_vertex(g, g->xy[2 * f], g->xy[2 * f + 1]);
}

/* End (exclusive) of ring r's vertices. */
static inline uint32_t gen_ring_end(const struct gen_geom *g, size_t r)
{
	return r + 1 < g->nr ? g->ring[r + 1] : (uint32_t)g->nv;
}

/* A star-shaped ring around (cx, cy) in normalised units (rx, ry: degrees per unit):
 * n vertices at jittered increasing angles, reversed if cw. Spiky: each vertex's radius
 * is drawn in [rmin, rmax] on its own (a jagged outline, ~30 crossings per horizontal
 * line at 500 vertices: a stress case). Smooth: the radius follows a random sum of a few
 * harmonics scaled into [rmin, rmax], with 1% jitter (like a digitised outline). */
static inline void gen_star_ring(struct gen_geom *g, struct gen_rng *r, double cx, double cy,
				 double rx, double ry, int n, double rmin, double rmax, int cw, int spiky)
{
	double t0 = gen_range(r, 0, 6.283185307179586), amp[6], ph[6];
	double *t = malloc(sizeof(double) * 2 * (size_t)n), *rho, fmin = INFINITY, fmax = -INFINITY;
	int i, k;

	if (!t)
		abort();
	rho = t + n;
	for (k = 1; k < 6; k++) {
		amp[k] = gen_range(r, 0, 1.0 / k);
		ph[k] = gen_range(r, 0, 6.283185307179586);
	}
	for (i = 0; i < n; i++) {
		t[i] = t0 + 6.283185307179586 * (i + 0.8 * gen_unif(r)) / n;
		if (spiky) {
			rho[i] = gen_range(r, rmin, rmax);
			continue;
		}
		rho[i] = 0;
		for (k = 1; k < 6; k++)
			rho[i] += amp[k] * cos(k * t[i] + ph[k]);
		rho[i] += gen_range(r, -0.01, 0.01) * (amp[1] + amp[2] + amp[3] + 0.1);
		fmin = rho[i] < fmin ? rho[i] : fmin;
		fmax = rho[i] > fmax ? rho[i] : fmax;
	}
	gen_begin_ring(g);
	for (i = 0; i < n; i++) {
		int v = cw ? n - 1 - i : i;
		double q = spiky ? rho[v] : rmin + (rmax - rmin) * (rho[v] - fmin) / (fmax - fmin);

		gen_vertex(g, cx + rx * q * cos(t[v]), cy + ry * q * sin(t[v]));
	}
	gen_close_ring(g);
	free(t);
}

/* A star polygon of about n vertices with 0..holes star holes (a hole stays within 0.36 of
 * the centre, the exterior never comes closer than 0.54). */
static inline void gen_star(struct gen_geom *g, struct gen_rng *r, double cx, double cy, double rx,
			    double ry, int n, int holes, int spiky)
{
	double phi = gen_range(r, 0, 6.283185307179586);
	int h;

	gen_begin_poly(g);
	gen_star_ring(g, r, cx, cy, rx, ry, n, 0.55, 1.0, gen_int(r, 0, 1), spiky);
	for (h = 0; h < holes && h < 2; h++) {
		double a = phi + h * 3.141592653589793;

		gen_star_ring(g, r, cx + rx * 0.25 * cos(a), cy + ry * 0.25 * sin(a), rx * 0.11,
			      ry * 0.11, gen_int(r, 8, 40), 0.55, 1.0, gen_int(r, 0, 1), spiky);
	}
}

/* A rectilinear staircase of 2k+2 vertices over [x0, x0+w] x [y0, y0+h], every edge
 * axis-parallel; with a rectangular hole if hole. Spiky: independent step heights; else a
 * random walk. */
static inline void gen_staircase(struct gen_geom *g, struct gen_rng *r, double x0, double y0,
				 double w, double h, int k, int hole, int spiky)
{
	double *xs = malloc(sizeof(double) * (size_t)(k + 1)), *hs = malloc(sizeof(double) * (size_t)k);
	int i;

	if (!xs || !hs)
		abort();
	xs[0] = x0;
	xs[k] = x0 + w;
	for (i = 1; i < k; i++)
		xs[i] = x0 + w * (i + 0.6 * gen_unif(r) - 0.3) / k;
	for (i = 0; i < k; i++) {
		double f = spiky || i == 0 ? gen_range(r, 0.3, 1.0) : (hs[i - 1] - y0) / h + gen_range(r, -0.08, 0.08);

		hs[i] = y0 + h * (f < 0.3 ? 0.3 : (f > 1.0 ? 1.0 : f));
	}
	gen_begin_poly(g);
	gen_begin_ring(g);
	gen_vertex(g, xs[0], y0);
	gen_vertex(g, xs[k], y0);
	for (i = k; i >= 1; i--) {
		gen_vertex(g, xs[i], hs[i - 1]);
		gen_vertex(g, xs[i - 1], hs[i - 1]);
	}
	gen_close_ring(g);
	if (hole) {
		double hx0 = x0 + 0.3 * w, hx1 = x0 + 0.6 * w, hy0 = y0 + 0.05 * h, hy1 = y0 + 0.2 * h;

		gen_begin_ring(g);
		gen_vertex(g, hx0, hy0);
		gen_vertex(g, hx0, hy1);
		gen_vertex(g, hx1, hy1);
		gen_vertex(g, hx1, hy0);
		gen_close_ring(g);
	}
	free(xs);
	free(hs);
}

/* A random zone of about [nlo, nhi] vertices and about `size_m` metres across, centred
 * on (cx, cy): a star (maybe with holes), a multipolygon of 2-3 stars, or a staircase
 * (maybe with a hole); spiky or smooth (see gen_star_ring). Some get a repeated vertex
 * (a zero-length edge). */
static inline void gen_zone(struct gen_geom *g, struct gen_rng *r, double cx, double cy,
			    double size_m, int nlo, int nhi, int spiky)
{
	double ry = size_m / 2 / GEN_M_PER_DEG, rx = ry / cos(cy * 3.141592653589793 / 180);
	int n = gen_int(r, nlo, nhi), kind = gen_int(r, 0, 9);

	gen_clear(g);
	if (kind < 5) {
		gen_star(g, r, cx, cy, rx, ry, n - 1, kind < 2 ? gen_int(r, 1, 2) : 0, spiky);
	} else if (kind < 7) {
		int parts = gen_int(r, 2, 3), p;

		for (p = 0; p < parts; p++) {
			double ox = (p - (parts - 1) / 2.0) * 0.8 * rx;

			gen_star(g, r, cx + ox, cy, rx * 0.35, ry * 0.35, (n - 1) / parts > 8 ? (n - 1) / parts : 8,
				 gen_int(r, 0, 3) == 0, spiky);
		}
	} else {
		gen_staircase(g, r, cx - rx, cy - ry, 2 * rx, 2 * ry, (n - 2) / 2 > 1 ? (n - 2) / 2 : 1,
			      kind == 9, spiky);
	}
	if (gen_int(r, 0, 19) == 0) { /* repeat one vertex of the first ring */
		uint32_t e = gen_ring_end(g, 0), v = (uint32_t)gen_int(r, 1, (int)e - 2);

		gen_grow((void **)&g->xy, &g->capv, 2 * (g->nv + 1), sizeof(double));
		memmove(g->xy + 2 * (v + 1), g->xy + 2 * v, sizeof(double) * 2 * (g->nv - v));
		g->nv++;
		for (size_t k = 1; k < g->nr; k++)
			g->ring[k]++;
	}
}

/* ---- WKB writing ---------------------------------------------------------- */

enum {
	GEN_BE = 1,	/* big-endian */
	GEN_SRID = 2,	/* EWKB with SRID 4326 */
	GEN_ISO_Z = 4,	/* ISO type + 1000, a z ordinate */
	GEN_EWKB_Z = 8, /* EWKB Z flag, a z ordinate */
	GEN_ISO_ZM = 16 /* ISO type + 3000, z and m */
};

struct gen_buf {
	uint8_t *p;
	size_t n, cap;
};

static inline void gen_put(struct gen_buf *b, const void *v, size_t n, int be)
{
	size_t i;

	gen_grow((void **)&b->p, &b->cap, b->n + n, 1);
	for (i = 0; i < n; i++) /* the host is little-endian (x86-64) */
		b->p[b->n + i] = ((const uint8_t *)v)[be ? n - 1 - i : i];
	b->n += n;
}

static inline void gen_put_u32(struct gen_buf *b, uint32_t v, int be)
{
	gen_put(b, &v, 4, be);
}

static inline void gen_put_f64(struct gen_buf *b, double v, int be)
{
	gen_put(b, &v, 8, be);
}

static inline void gen_put_header(struct gen_buf *b, uint32_t type, int flags, int top)
{
	int be = (flags & GEN_BE) != 0;
	uint8_t bo = be ? 0 : 1;

	gen_put(b, &bo, 1, 0);
	if (flags & GEN_ISO_Z)
		type += 1000;
	if (flags & GEN_ISO_ZM)
		type += 3000;
	if (flags & GEN_EWKB_Z)
		type |= 0x80000000u;
	if ((flags & GEN_SRID) && top)
		type |= 0x20000000u;
	gen_put_u32(b, type, be);
	if ((flags & GEN_SRID) && top)
		gen_put_u32(b, 4326, be);
}

static inline int gen_extra_dims(int flags)
{
	return (flags & (GEN_ISO_Z | GEN_EWKB_Z)) ? 1 : (flags & GEN_ISO_ZM) ? 2 : 0;
}

static inline void gen_put_polygon(struct gen_buf *b, const struct gen_geom *g, size_t p, int flags,
				   int top)
{
	int be = (flags & GEN_BE) != 0, extra = gen_extra_dims(flags), e;
	size_t r0 = g->poly[p], r1 = p + 1 < g->np ? g->poly[p + 1] : g->nr, rr;

	gen_put_header(b, 3, flags, top);
	gen_put_u32(b, (uint32_t)(r1 - r0), be);
	for (rr = r0; rr < r1; rr++) {
		uint32_t v, end = gen_ring_end(g, rr);

		gen_put_u32(b, end - g->ring[rr], be);
		for (v = g->ring[rr]; v < end; v++) {
			gen_put_f64(b, g->xy[2 * v], be);
			gen_put_f64(b, g->xy[2 * v + 1], be);
			for (e = 0; e < extra; e++)
				gen_put_f64(b, 12.5 + e, be);
		}
	}
}

/* The geometry as WKB (Polygon if one polygon, else MultiPolygon); b is reset first. */
static inline void gen_wkb(struct gen_buf *b, const struct gen_geom *g, int flags)
{
	size_t p;

	b->n = 0;
	if (g->np == 1) {
		gen_put_polygon(b, g, 0, flags, 1);
		return;
	}
	gen_put_header(b, 6, flags, 1);
	gen_put_u32(b, (uint32_t)g->np, (flags & GEN_BE) != 0);
	for (p = 0; p < g->np; p++)
		gen_put_polygon(b, g, p, flags, 0);
}

/* A Point or MultiPoint (n > 1 or multi) as WKB. */
static inline void gen_wkb_points(struct gen_buf *b, const double *xy, size_t n, int multi, int flags)
{
	int be = (flags & GEN_BE) != 0, extra = gen_extra_dims(flags), e;
	size_t i;

	b->n = 0;
	if (multi) {
		gen_put_header(b, 4, flags, 1);
		gen_put_u32(b, (uint32_t)n, be);
	}
	for (i = 0; i < n; i++) {
		gen_put_header(b, 1, flags, !multi);
		gen_put_f64(b, xy[2 * i], be);
		gen_put_f64(b, xy[2 * i + 1], be);
		for (e = 0; e < extra; e++)
			gen_put_f64(b, 3.0, be);
	}
}

/* ---- query points ---------------------------------------------------------- */

enum {
	GEN_PT_VERTEX = 0,    /* a vertex, exactly */
	GEN_PT_AXIS_EDGE = 1, /* exactly on an axis-parallel edge (else a vertex) */
	GEN_PT_NEAR_EDGE = 2, /* interpolated on an edge: on it up to rounding */
	GEN_PT_HOLE = 3,      /* inside the box of a hole (else anywhere in the box) */
	GEN_PT_BOX = 4	      /* anywhere in the zone's box */
};

/* A point of the given kind related to g. */
static inline void gen_point(const struct gen_geom *g, struct gen_rng *r, int mode, double *x, double *y)
{
	uint32_t v = (uint32_t)gen_int(r, 0, (int)g->nv - 1);
	int tries;

	switch (mode) {
	case GEN_PT_AXIS_EDGE:
		for (tries = 0; tries < 64; tries++) {
			uint32_t i = (uint32_t)gen_int(r, 0, (int)g->nv - 2);
			const double *a = g->xy + 2 * i;
			double t = gen_unif(r);

			if (a[0] == a[2] && a[1] != a[3]) {
				*x = a[0];
				*y = a[1] + t * (a[3] - a[1]);
				return;
			}
			if (a[1] == a[3] && a[0] != a[2]) {
				*x = a[0] + t * (a[2] - a[0]);
				*y = a[1];
				return;
			}
		}
		break;
	case GEN_PT_NEAR_EDGE: {
		uint32_t i = (uint32_t)gen_int(r, 0, (int)g->nv - 2);
		const double *a = g->xy + 2 * i;
		double t = gen_unif(r);

		*x = a[0] + t * (a[2] - a[0]);
		*y = a[1] + t * (a[3] - a[1]);
		return;
	}
	case GEN_PT_HOLE: {
		size_t k;

		for (k = 0; k < g->nr; k++) {
			size_t rr = (size_t)gen_int(r, 0, (int)g->nr - 1), p, is_ext = 0;

			for (p = 0; p < g->np; p++)
				is_ext |= g->poly[p] == rr;
			if (!is_ext) {
				double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
				uint32_t i;

				for (i = g->ring[rr]; i < gen_ring_end(g, rr); i++) {
					x0 = fmin(x0, g->xy[2 * i]);
					x1 = fmax(x1, g->xy[2 * i]);
					y0 = fmin(y0, g->xy[2 * i + 1]);
					y1 = fmax(y1, g->xy[2 * i + 1]);
				}
				*x = gen_range(r, x0, x1);
				*y = gen_range(r, y0, y1);
				return;
			}
		}
	}
		/* fall through */
	case GEN_PT_BOX:
		*x = gen_range(r, g->minx, g->maxx);
		*y = gen_range(r, g->miny, g->maxy);
		return;
	default:
		break;
	}
	*x = g->xy[2 * v];
	*y = g->xy[2 * v + 1];
}

#endif
