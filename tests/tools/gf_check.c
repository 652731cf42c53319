/* gf_check.c -- checks gis/geofence against PostGIS, and measures it.
 *
 *   gf_check [--zones N] [--points N] [--seed S] [--reach M] [--dist-points N] [--flip-one] CONNINFO
 *   gf_check --bench [--bench-zones N] [--bench-queries N] [--bench-pg-points N] [--no-pg] CONNINFO
 *
 * Check mode: N random zones (star polygons of 50-500 vertices, some with holes, some
 * multipolygons, rectilinear staircases with axis-parallel edges) go into a temporary table
 * with a GiST index; the index is built from what PostGIS gives back (ST_AsBinary in both
 * byte orders, ST_AsEWKB). Random points (uniform, zone vertices, points exactly on
 * axis-parallel edges, points interpolated on slanted edges, points in holes) are joined
 * with the zones by bounding box and ST_Covers is computed for every candidate pair; every
 * pair must agree with gf_query / gf_covered / gf_zone_covers. For the first --dist-points
 * points the signed distances within --reach metres are recomputed in SQL, in the same
 * local frame (ST_Translate, ST_Scale, ST_Distance to ST_Boundary), and compared too.
 * Prints every mismatch (up to 50) and exits 1 if there was any; 2 on a usage or
 * database error. --flip-one (a self-test of the checker) inverts the index's answer for
 * the first candidate pair, which must then be reported.
 *
 * Bench mode: builds 10,000 zones (smooth outlines; then spiky ones, a stress case), times
 * a few million gf_covered decisions on one core (points uniform over the zones' extent),
 * gf_query with reach 0 and 100 m, a GEOS STRtree + prepared geometries baseline, and
 * PostGIS answering the same question for 20,000 points the way a user would ask it (a
 * GiST-indexed table, EXISTS (... ST_Covers ...), the planner's own plan); prints the
 * figures and the ratio, with the load average and the machine's memory latency (the
 * queries are bound by cache misses). The PostGIS answers are compared with the index's
 * too: a disagreement makes the exit status 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <geos_c.h>
#include <libpq-fe.h>

#include "geofence.h"
#include "gf_gen.h"

#define KY (6371008.8 * 3.14159265358979323846 / 180.0)
#define MAX_SHOWN 50

struct opts {
	int zones, points, dist_points, bench, bench_zones, bench_pg_points, no_pg, flip_one;
	long bench_queries;
	double reach;
	uint64_t seed;
	const char *conninfo;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("gf_check: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* ---- database helpers ---------------------------------------------------------- */

static void exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
		die("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
}

static PGresult *query(PGconn *c, const char *sql, int nparams, const char *const *params, int binary)
{
	PGresult *r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, binary);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		die("%s: %s", sql, PQresultErrorMessage(r));
	return r;
}

struct text {
	char *p;
	size_t n, cap;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		va_start(ap, fmt);
		k = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0)
			die("vsnprintf");
		if (t->p && t->n + (size_t)k < t->cap) {
			t->n += (size_t)k;
			return;
		}
		gen_grow((void **)&t->p, &t->cap, t->n + (size_t)k + 1 + t->cap, 1);
	}
}

static void text_hex(struct text *t, const uint8_t *b, size_t n)
{
	static const char hx[] = "0123456789ABCDEF";
	size_t i;

	gen_grow((void **)&t->p, &t->cap, t->n + 2 * n + 1 + t->cap / 2, 1);
	for (i = 0; i < n; i++) {
		t->p[t->n++] = hx[b[i] >> 4];
		t->p[t->n++] = hx[b[i] & 15];
	}
	t->p[t->n] = 0;
}

static void copy_in(PGconn *c, const char *sql, const struct text *t)
{
	PGresult *r = PQexec(c, sql);
	size_t off = 0;

	if (PQresultStatus(r) != PGRES_COPY_IN)
		die("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	while (off < t->n) {
		size_t k = t->n - off > (1 << 20) ? (1 << 20) : t->n - off;

		if (PQputCopyData(c, t->p + off, (int)k) != 1)
			die("COPY: %s", PQerrorMessage(c));
		off += k;
	}
	if (PQputCopyEnd(c, NULL) != 1)
		die("COPY end: %s", PQerrorMessage(c));
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		die("%s: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
}

static PGconn *connect_db(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);

	if (PQstatus(c) != CONNECTION_OK)
		die("cannot connect (%s): %s", conninfo, PQerrorMessage(c));
	exec_ok(c, "SET client_min_messages = warning");
	exec_ok(c, "CREATE EXTENSION IF NOT EXISTS postgis");
	return c;
}

/* Zones into a temporary table `name` (id, kind, geom) with a GiST index, analysed. */
static void zones_to_db(PGconn *c, const char *name, struct gen_geom *g, const int *kinds, int n)
{
	struct text t = { 0 }, sql = { 0 };
	struct gen_buf w = { 0 };
	int i;

	text_add(&sql, "DROP TABLE IF EXISTS %s; CREATE TEMP TABLE %s (id int PRIMARY KEY, kind int, "
		       "geom geometry(Geometry, 4326))",
		 name, name);
	exec_ok(c, sql.p);
	for (i = 0; i < n; i++) {
		gen_wkb(&w, &g[i], GEN_SRID | (i % 2 ? GEN_BE : 0));
		text_add(&t, "%d\t%d\t", i, kinds[i]);
		text_hex(&t, w.p, w.n);
		text_add(&t, "\n");
	}
	sql.n = 0;
	text_add(&sql, "COPY %s (id, kind, geom) FROM STDIN", name);
	copy_in(c, sql.p, &t);
	sql.n = 0;
	text_add(&sql, "CREATE INDEX ON %s USING gist (geom); ANALYZE %s", name, name);
	exec_ok(c, sql.p);
	free(t.p);
	free(sql.p);
	free(w.p);
}

static void points_to_db(PGconn *c, const char *name, const double *xy, int n)
{
	struct text t = { 0 }, sql = { 0 };
	struct gen_buf w = { 0 };
	int i;

	text_add(&sql, "DROP TABLE IF EXISTS %s; CREATE TEMP TABLE %s (id int PRIMARY KEY, "
		       "geom geometry(Point, 4326))",
		 name, name);
	exec_ok(c, sql.p);
	for (i = 0; i < n; i++) {
		gen_wkb_points(&w, xy + 2 * i, 1, 0, GEN_SRID);
		text_add(&t, "%d\t", i);
		text_hex(&t, w.p, w.n);
		text_add(&t, "\n");
	}
	sql.n = 0;
	text_add(&sql, "COPY %s (id, geom) FROM STDIN", name);
	copy_in(c, sql.p, &t);
	sql.n = 0;
	text_add(&sql, "ANALYZE %s", name);
	exec_ok(c, sql.p);
	free(t.p);
	free(sql.p);
	free(w.p);
}

static uint32_t get_u32(const PGresult *r, int row, int col)
{
	uint32_t v;

	memcpy(&v, PQgetvalue(r, row, col), 4);
	return ntohl(v);
}

/* ---- generation ------------------------------------------------------------------ */

#define AREA_X0 117.20
#define AREA_Y0 29.30

/* n zones over a square of side `side` degrees; kinds 1..4; spiky: 0 none, 1 all, 2 every
 * other one. */
static struct gen_geom *make_zones(struct gen_rng *r, int n, double side, int *kinds, int spiky)
{
	struct gen_geom *g = calloc((size_t)n, sizeof(*g));
	int i;

	if (!g)
		die("out of memory");
	for (i = 0; i < n; i++) {
		kinds[i] = 1 + i % 4;
		gen_zone(&g[i], r, AREA_X0 + gen_range(r, 0, side), AREA_Y0 + gen_range(r, 0, side),
			 gen_range(r, 300, 3000), 50, 500, spiky == 2 ? i % 2 : spiky);
	}
	return g;
}

#define MODE_UNIFORM 5
#define MODE_ROUNDING 6
#define NMODES 7
static const char *const mode_names[NMODES] = { "vertex", "axis-edge", "slanted-edge", "hole", "zone-box",
						 "uniform", "rounding" };

/* A point on a slanted edge of g where PostGIS's double-precision side test,
 * (x2-x1)*(py-y1) - (px-x1)*(y2-y1), is exactly 0 (PostGIS: on the boundary, covered)
 * although the point is off the line in exact arithmetic (GEOSOrientationIndex != 0).
 * About 5 in a million interpolated points are such; 0 if none was found. */
static int rounding_point(GEOSContextHandle_t h, const struct gen_geom *g, struct gen_rng *r, double *x,
			  double *y)
{
	int e, t;

	for (e = 0; e < 20; e++) {
		uint32_t i = (uint32_t)gen_int(r, 0, (int)g->nv - 2);
		const double *a = g->xy + 2 * i;

		if (a[0] == a[2] || a[1] == a[3])
			continue;
		for (t = 0; t < 500000; t++) {
			double u = gen_unif(r), px = a[0] + u * (a[2] - a[0]), py = a[1] + u * (a[3] - a[1]);
			volatile double t1 = (a[2] - a[0]) * (py - a[1]), t2 = (px - a[0]) * (a[3] - a[1]);

			if (t1 - t2 != 0.0)
				continue;
			if (GEOSOrientationIndex_r(h, a[0], a[1], a[2], a[3], px, py) != 0) {
				*x = px;
				*y = py;
				return 1;
			}
		}
	}
	return 0;
}

/* Points: 40% uniform over the area (and a margin), the rest tied to a random zone; the
 * first `rounding` ones are rounding points (see rounding_point) when h is given. */
static double *make_points(struct gen_rng *r, const struct gen_geom *g, int nz, int n, double side,
			   int *modes, GEOSContextHandle_t h, int rounding)
{
	double *xy = malloc(sizeof(double) * 2 * (size_t)n);
	int i;

	if (!xy)
		die("out of memory");
	for (i = 0; i < n; i++) {
		int m = i % 20;
		/* of 20: 8 uniform, 3 vertices, 3 on axis-parallel edges, 2 on slanted edges,
		 * 2 in holes, 2 in a zone's box */
		static const int by_m[20] = { MODE_UNIFORM,	MODE_UNIFORM,	  MODE_UNIFORM,	    MODE_UNIFORM,
					      MODE_UNIFORM,	MODE_UNIFORM,	  MODE_UNIFORM,	    MODE_UNIFORM,
					      GEN_PT_VERTEX,	GEN_PT_VERTEX,	  GEN_PT_VERTEX,    GEN_PT_AXIS_EDGE,
					      GEN_PT_AXIS_EDGE, GEN_PT_AXIS_EDGE, GEN_PT_NEAR_EDGE, GEN_PT_NEAR_EDGE,
					      GEN_PT_HOLE,	GEN_PT_HOLE,	  GEN_PT_BOX,	    GEN_PT_BOX };
		int mode = by_m[m];

		if (h && i < rounding && rounding_point(h, &g[gen_int(r, 0, nz - 1)], r, &xy[2 * i], &xy[2 * i + 1])) {
			modes[i] = MODE_ROUNDING;
			continue;
		}
		if (mode == MODE_UNIFORM) {
			xy[2 * i] = AREA_X0 - 0.02 + gen_range(r, 0, side + 0.04);
			xy[2 * i + 1] = AREA_Y0 - 0.02 + gen_range(r, 0, side + 0.04);
		} else {
			gen_point(&g[gen_int(r, 0, nz - 1)], r, mode, &xy[2 * i], &xy[2 * i + 1]);
		}
		modes[i] = mode;
	}
	return xy;
}

/* ---- check mode -------------------------------------------------------------------- */

struct pair {
	int pt, zone, covers;
	double dist; /* distance check: PostGIS's distance to the boundary */
};

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *p = a, *q = b;

	if (p->pt != q->pt)
		return p->pt < q->pt ? -1 : 1;
	return (p->zone > q->zone) - (p->zone < q->zone);
}

static long mismatches;

static void mismatch(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mismatch(const char *fmt, ...)
{
	va_list ap;

	if (mismatches++ < MAX_SHOWN) {
		va_start(ap, fmt);
		fputs("MISMATCH ", stdout);
		vprintf(fmt, ap);
		va_end(ap);
		fputc('\n', stdout);
	}
}

static int run_check(const struct opts *o)
{
	struct gen_rng r = { o->seed };
	double side = 0.2 * sqrt(o->zones / 300.0);
	int *kinds = malloc(sizeof(int) * (size_t)o->zones), *modes = malloc(sizeof(int) * (size_t)o->points);
	struct gen_geom *g;
	double *pts;
	PGconn *c;
	PGresult *res;
	struct gf_builder *b;
	struct gf_index *ix;
	struct gf_hit *hits = malloc(sizeof(*hits) * (size_t)o->zones);
	struct pair *pairs;
	GEOSContextHandle_t geos = GEOS_init_r();
	GEOSWKBReader *rdr = GEOSWKBReader_create_r(geos);
	const GEOSPreparedGeometry **prep = calloc((size_t)o->zones, sizeof(*prep));
	GEOSGeometry **gg = calloc((size_t)o->zones, sizeof(*gg));
	long npairs, i, covered = 0, geos_diff = 0, dist_pairs = 0;
	long by_mode[NMODES] = { 0 }, cov_mode[NMODES] = { 0 };
	double t0;
	int z;

	if (!kinds || !modes || !hits || !prep || !gg)
		die("out of memory");
	t0 = now_s();
	g = make_zones(&r, o->zones, side, kinds, 2);
	pts = make_points(&r, g, o->zones, o->points, side, modes, geos, o->points / 100);
	c = connect_db(o->conninfo);
	zones_to_db(c, "gf_zones", g, kinds, o->zones);
	points_to_db(c, "gf_pts", pts, o->points);

	/* the index, from what PostGIS gives back, in three encodings */
	res = query(c,
		    "SELECT id, kind, CASE id % 3 WHEN 0 THEN ST_AsBinary(geom, 'XDR') "
		    "WHEN 1 THEN ST_AsEWKB(geom) ELSE ST_AsBinary(geom) END FROM gf_zones ORDER BY id",
		    0, NULL, 1);
	if (PQntuples(res) != o->zones)
		die("%d zones read back, %d written", PQntuples(res), o->zones);
	b = gf_builder_new();
	for (z = 0; z < o->zones; z++) {
		struct gf_zone zz;
		char err[256];
		const uint8_t *w = (const uint8_t *)PQgetvalue(res, z, 2);
		size_t wl = (size_t)PQgetlength(res, z, 2);

		memset(&zz, 0, sizeof(zz));
		zz.feature_id = get_u32(res, z, 0);
		zz.kind = (int32_t)get_u32(res, z, 1);
		zz.layer = "gf_check";
		if ((int)zz.feature_id != z)
			die("zones out of order");
		if (gf_builder_add(b, &zz, w, wl, 50, err, sizeof(err)))
			die("zone %d rejected: %s", z, err);
		gg[z] = GEOSWKBReader_read_r(geos, rdr, w, wl);
		if (!gg[z])
			die("GEOS cannot read zone %d", z);
		prep[z] = GEOSPrepare_r(geos, gg[z]);
	}
	PQclear(res);
	ix = gf_build(b);
	if (!ix)
		die("gf_build failed");

	/* every candidate pair (bounding boxes meet), with ST_Covers */
	res = query(c,
		    "SELECT p.id, z.id, ST_Covers(z.geom, p.geom) FROM gf_pts p "
		    "JOIN gf_zones z ON z.geom && p.geom",
		    0, NULL, 0);
	npairs = PQntuples(res);
	pairs = malloc(sizeof(*pairs) * (size_t)(npairs + 1));
	if (!pairs)
		die("out of memory");
	for (i = 0; i < npairs; i++) {
		pairs[i].pt = atoi(PQgetvalue(res, (int)i, 0));
		pairs[i].zone = atoi(PQgetvalue(res, (int)i, 1));
		pairs[i].covers = PQgetvalue(res, (int)i, 2)[0] == 't';
	}
	PQclear(res);
	qsort(pairs, (size_t)npairs, sizeof(*pairs), cmp_pair);

	{
		long k = 0;
		int p;

		for (p = 0; p < o->points; p++) {
			double x = pts[2 * p], y = pts[2 * p + 1];
			size_t n = gf_query(ix, x, y, 0, hits, (size_t)o->zones), h = 0;
			int any[GF_KIND_MAX] = { 0 }, kk;

			by_mode[modes[p]]++;
			for (; k < npairs && pairs[k].pt == p; k++) {
				const struct pair *pp = &pairs[k];
				int ours, gc;
				GEOSGeometry *gpt;

				while (h < n && hits[h].zone < (uint32_t)pp->zone) {
					mismatch("point %d (%.17g %.17g, %s): index covers zone %u, not a "
						 "PostGIS candidate",
						 p, x, y, mode_names[modes[p]], hits[h].zone);
					h++;
				}
				ours = h < n && hits[h].zone == (uint32_t)pp->zone;
				h += ours;
				if (o->flip_one && k == 0)
					ours = !ours;
				if (ours != pp->covers)
					mismatch("point %d (%.17g %.17g, %s) zone %d: ST_Covers %s, gf_query %s", p,
						 x, y, mode_names[modes[p]], pp->zone, pp->covers ? "t" : "f",
						 ours ? "t" : "f");
				if (gf_zone_covers(ix, (uint32_t)pp->zone, x, y) != pp->covers)
					mismatch("point %d zone %d: ST_Covers %d, gf_zone_covers %d", p, pp->zone,
						 pp->covers, !pp->covers);
				if (pp->covers) {
					covered++;
					cov_mode[modes[p]]++;
					any[0] = any[kinds[pp->zone]] = 1;
				}
				/* information: would GEOS's exact predicate have agreed? */
				gpt = GEOSGeom_createPointFromXY_r(geos, x, y);
				gc = GEOSPreparedCovers_r(geos, prep[pp->zone], gpt);
				GEOSGeom_destroy_r(geos, gpt);
				if (gc != pp->covers)
					geos_diff++;
			}
			for (; h < n; h++)
				mismatch("point %d (%.17g %.17g): index covers zone %u, not a PostGIS candidate",
					 p, x, y, hits[h].zone);
			for (kk = 0; kk < GF_KIND_MAX; kk++)
				if (gf_covered(ix, x, y, kk) != any[kk])
					mismatch("point %d (%.17g %.17g, %s): gf_covered(kind %d) = %d, PostGIS %d", p,
						 x, y, mode_names[modes[p]], kk, !any[kk], any[kk]);
		}
	}
	free(pairs);

	/* signed distances within reach, recomputed in SQL in the same local frame */
	if (o->dist_points > 0 && o->reach > 0) {
		char pk[64], pr[64], pn[32];
		const char *params[3] = { pk, pr, pn };
		int p;
		long k = 0;

		snprintf(pk, sizeof(pk), "%.17g", KY);
		snprintf(pr, sizeof(pr), "%.17g", o->reach);
		snprintf(pn, sizeof(pn), "%d", o->dist_points);
		res = query(c,
			    "SELECT p.id, z.id, ST_Covers(z.geom, p.geom), "
			    " ST_Distance(ST_Boundary(ST_Scale(ST_Translate(z.geom, -ST_X(p.geom), -ST_Y(p.geom)),"
			    "   cos(radians(ST_Y(p.geom))) * $1::float8, $1::float8)), ST_SetSRID(ST_MakePoint(0, 0), 4326)) "
			    "FROM gf_pts p JOIN gf_zones z ON z.geom && ST_Expand(p.geom, "
			    "  $2::float8 / (cos(radians(ST_Y(p.geom))) * $1::float8) * 1.001, $2::float8 / $1::float8 * 1.001) "
			    "WHERE p.id < $3::int",
			    3, params, 0);
		npairs = PQntuples(res);
		pairs = malloc(sizeof(*pairs) * (size_t)(npairs + 1));
		if (!pairs)
			die("out of memory");
		for (i = 0; i < npairs; i++) {
			pairs[i].pt = atoi(PQgetvalue(res, (int)i, 0));
			pairs[i].zone = atoi(PQgetvalue(res, (int)i, 1));
			pairs[i].covers = PQgetvalue(res, (int)i, 2)[0] == 't';
			pairs[i].dist = strtod(PQgetvalue(res, (int)i, 3), NULL);
		}
		PQclear(res);
		qsort(pairs, (size_t)npairs, sizeof(*pairs), cmp_pair);
		for (p = 0; p < o->dist_points && p < o->points; p++) {
			double x = pts[2 * p], y = pts[2 * p + 1];
			size_t n = gf_query(ix, x, y, o->reach, hits, (size_t)o->zones), h = 0;

			for (; k < npairs && pairs[k].pt == p; k++) {
				const struct pair *pp = &pairs[k];
				int want = pp->covers || pp->dist <= o->reach, ours;
				double wd = pp->covers ? pp->dist : -pp->dist;

				while (h < n && hits[h].zone < (uint32_t)pp->zone) {
					mismatch("point %d: gf_query(reach %g) reports zone %u, beyond PostGIS's box",
						 p, o->reach, hits[h].zone);
					h++;
				}
				ours = h < n && hits[h].zone == (uint32_t)pp->zone;
				if (fabs(pp->dist - o->reach) < 1e-6) { /* too close to call */
					h += ours;
					continue;
				}
				if (ours != want) {
					mismatch("point %d (%.17g %.17g) zone %d: PostGIS distance %.9f covers %d, "
						 "gf_query(reach %g) %s",
						 p, x, y, pp->zone, pp->dist, pp->covers, o->reach,
						 ours ? "reports it" : "does not");
				} else if (ours) {
					double d = hits[h].dist_m;

					dist_pairs++;
					if (fabs(d - wd) > 1e-6 + 1e-9 * fabs(wd))
						mismatch("point %d (%.17g %.17g) zone %d: dist_m %.9f, PostGIS %.9f", p,
							 x, y, pp->zone, d, wd);
					if (hits[h].inside != pp->covers)
						mismatch("point %d zone %d: inside %d, ST_Covers %d", p, pp->zone,
							 hits[h].inside, pp->covers);
				}
				h += ours;
			}
			for (; h < n; h++)
				mismatch("point %d: gf_query(reach %g) reports zone %u, beyond PostGIS's box", p,
					 o->reach, hits[h].zone);
		}
		free(pairs);
	}

	printf("gf_check: %d zones, %d points, %ld covered pairs, %ld distances within %g m checked "
	       "(%.1f s)\n",
	       o->zones, o->points, covered, dist_pairs, o->reach, now_s() - t0);
	printf("gf_check: points by kind:");
	for (i = 0; i < NMODES; i++)
		printf(" %s %ld (%ld covered pairs)%s", mode_names[i], by_mode[i], cov_mode[i], i + 1 < NMODES ? ";" : "");
	printf("\n");
	printf("gf_check: pairs where GEOS's exact predicate differs from PostGIS: %ld (information)\n",
	       geos_diff);
	printf("gf_check: %ld mismatches\n", mismatches);

	gf_unref(ix);
	for (z = 0; z < o->zones; z++) {
		GEOSPreparedGeom_destroy_r(geos, prep[z]);
		GEOSGeom_destroy_r(geos, gg[z]);
		gen_free(&g[z]);
	}
	GEOSWKBReader_destroy_r(geos, rdr);
	GEOS_finish_r(geos);
	exec_ok(c, "DROP TABLE gf_zones; DROP TABLE gf_pts");
	PQfinish(c);
	free(g);
	free(gg);
	free(prep);
	free(pts);
	free(kinds);
	free(modes);
	free(hits);
	return mismatches ? 1 : 0;
}

/* ---- bench mode ---------------------------------------------------------------------- */

struct geos_q {
	GEOSContextHandle_t h;
	const GEOSGeometry *pt;
	int found;
};

static void geos_cb(void *item, void *userdata)
{
	struct geos_q *q = userdata;

	if (!q->found && GEOSPreparedCovers_r(q->h, item, q->pt) == 1)
		q->found = 1;
}

/* One benchmark set: smooth (realistic) or spiky (stress) zones; PostGIS if with_pg. */
static int bench_set(const struct opts *o, int spiky, int with_pg)
{
	struct gen_rng r = { o->seed + (uint64_t)spiky };
	int n = o->bench_zones;
	double side = 0.2 * sqrt(n / 300.0);
	int *kinds = malloc(sizeof(int) * (size_t)n);
	struct gen_geom *g;
	struct gf_builder *b;
	struct gf_index *ix;
	struct gen_buf w = { 0 };
	struct gf_stats st;
	long q = o->bench_queries, i, hitsum = 0;
	double *pts, t, ours, build_s;
	int z, rc = 0;

	if (!kinds)
		die("out of memory");
	g = make_zones(&r, n, side, kinds, spiky);
	t = now_s();
	b = gf_builder_new();
	for (z = 0; z < n; z++) {
		struct gf_zone zz;
		char err[200];

		memset(&zz, 0, sizeof(zz));
		zz.feature_id = z;
		zz.kind = kinds[z];
		gen_wkb(&w, &g[z], 0);
		if (gf_builder_add(b, &zz, w.p, w.n, 50, err, sizeof(err)))
			die("zone %d: %s", z, err);
	}
	ix = gf_build(b);
	build_s = now_s() - t;
	gf_index_stats(ix, &st);
	printf("\n== %s zones: %d zones (50-500 vertices, %zu vertices in all) over %.2f x %.2f degrees; "
	       "index built in %.2f s, %.1f MiB; %.1f%% of grid cells near an edge\n",
	       spiky ? "spiky (stress case)" : "smooth", n, st.vertices, side, side, build_s, st.bytes / 1048576.0,
	       100.0 * st.grid_edge_cells / (st.grid_cells ? st.grid_cells : 1));

	pts = malloc(sizeof(double) * 2 * (size_t)q);
	if (!pts)
		die("out of memory");
	for (i = 0; i < q; i++) {
		pts[2 * i] = AREA_X0 + gen_range(&r, 0, side);
		pts[2 * i + 1] = AREA_Y0 + gen_range(&r, 0, side);
	}
	/* warm up, then time */
	for (i = 0; i < q / 10; i++)
		hitsum += gf_covered(ix, pts[2 * i], pts[2 * i + 1], 0);
	hitsum = 0;
	t = now_s();
	for (i = 0; i < q; i++)
		hitsum += gf_covered(ix, pts[2 * i], pts[2 * i + 1], 0);
	t = now_s() - t;
	ours = q / t;
	printf("gf_covered (any kind):      %10.0f decisions/s on one core "
	       "(%ld points, %.1f%% covered, %.0f ns each)\n",
	       ours, q, 100.0 * hitsum / q, 1e9 * t / q);
	hitsum = 0;
	t = now_s();
	for (i = 0; i < q; i++)
		hitsum += gf_covered(ix, pts[2 * i], pts[2 * i + 1], GF_NO_MINING);
	t = now_s() - t;
	printf("gf_covered (one kind):      %10.0f decisions/s (%.1f%% covered)\n", q / t, 100.0 * hitsum / q);
	{
		struct gf_hit h[64];
		long qq = q / 4 > 0 ? q / 4 : 1;

		t = now_s();
		for (i = 0; i < qq; i++)
			hitsum += (long)gf_query(ix, pts[2 * i], pts[2 * i + 1], 0, h, 64);
		t = now_s() - t;
		printf("gf_query (reach 0):         %10.0f queries/s (with depths)\n", qq / t);
		t = now_s();
		for (i = 0; i < qq; i++)
			hitsum += (long)gf_query(ix, pts[2 * i], pts[2 * i + 1], 100, h, 64);
		t = now_s() - t;
		printf("gf_query (reach 100 m):     %10.0f queries/s\n", qq / t);
	}

	/* GEOS baseline: STRtree of prepared geometries, first covering zone wins */
	{
		GEOSContextHandle_t h = GEOS_init_r();
		GEOSWKBReader *rdr = GEOSWKBReader_create_r(h);
		GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
		GEOSGeometry **gg = malloc(sizeof(*gg) * (size_t)n);
		const GEOSPreparedGeometry **pg = malloc(sizeof(*pg) * (size_t)n);
		long gq = q / 4 > 0 ? q / 4 : 1, found = 0, disagree = 0;

		for (z = 0; z < n; z++) {
			gen_wkb(&w, &g[z], 0);
			gg[z] = GEOSWKBReader_read_r(h, rdr, w.p, w.n);
			pg[z] = GEOSPrepare_r(h, gg[z]);
			GEOSSTRtree_insert_r(h, tree, gg[z], (void *)pg[z]);
		}
		t = now_s();
		for (i = 0; i < gq; i++) {
			GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, pts[2 * i], pts[2 * i + 1]);
			struct geos_q gqs = { h, pt, 0 };

			GEOSSTRtree_query_r(h, tree, pt, geos_cb, &gqs);
			found += gqs.found;
			GEOSGeom_destroy_r(h, pt);
		}
		t = now_s() - t;
		for (i = 0; i < gq; i += 97) {
			GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, pts[2 * i], pts[2 * i + 1]);
			struct geos_q gqs = { h, pt, 0 };

			GEOSSTRtree_query_r(h, tree, pt, geos_cb, &gqs);
			disagree += gqs.found != gf_covered(ix, pts[2 * i], pts[2 * i + 1], 0);
			GEOSGeom_destroy_r(h, pt);
		}
		printf("GEOS STRtree + prepared:    %10.0f decisions/s (%.1f%% covered; %ld disagreements "
		       "with the index in a sample)\n",
		       gq / t, 100.0 * found / gq, disagree);
		GEOSSTRtree_destroy_r(h, tree);
		for (z = 0; z < n; z++) {
			GEOSPreparedGeom_destroy_r(h, pg[z]);
			GEOSGeom_destroy_r(h, gg[z]);
		}
		free(gg);
		free(pg);
		GEOSWKBReader_destroy_r(h, rdr);
		GEOS_finish_r(h);
	}

	if (with_pg) {
		PGconn *c = connect_db(o->conninfo);
		int np = o->bench_pg_points, run, mism = 0;
		double best = INFINITY, join_best = INFINITY;
		long pg_cov = 0, join_pairs = 0;
		PGresult *res;
		char *seen = calloc((size_t)np, 1);
		static const char sql[] = "SELECT p.id FROM gf_bpts p WHERE EXISTS "
					  "(SELECT 1 FROM gf_bzones z WHERE ST_Covers(z.geom, p.geom))";
		static const char jsql[] = "SELECT count(*) FROM gf_bpts p JOIN gf_bzones z ON ST_Covers(z.geom, p.geom)";

		if (!seen)
			die("out of memory");
		if (np > q)
			np = (int)q;
		zones_to_db(c, "gf_bzones", g, kinds, n);
		points_to_db(c, "gf_bpts", pts, np);
		res = query(c, "EXPLAIN SELECT p.id FROM gf_bpts p WHERE EXISTS "
			       "(SELECT 1 FROM gf_bzones z WHERE ST_Covers(z.geom, p.geom))",
			    0, NULL, 0);
		printf("PostGIS plan:\n");
		for (i = 0; i < PQntuples(res); i++)
			printf("    %s\n", PQgetvalue(res, (int)i, 0));
		PQclear(res);
		for (run = 0; run < 3; run++) {
			t = now_s();
			res = query(c, sql, 0, NULL, 0);
			t = now_s() - t;
			best = t < best ? t : best;
			if (run == 0) {
				pg_cov = PQntuples(res);
				for (i = 0; i < pg_cov; i++)
					seen[atoi(PQgetvalue(res, (int)i, 0))] = 1;
			}
			PQclear(res);
		}
		for (i = 0; i < np; i++)
			mism += seen[i] != gf_covered(ix, pts[2 * i], pts[2 * i + 1], 0);
		for (run = 0; run < 2; run++) {
			t = now_s();
			res = query(c, jsql, 0, NULL, 0);
			t = now_s() - t;
			join_best = t < join_best ? t : join_best;
			join_pairs = atol(PQgetvalue(res, 0, 0));
			PQclear(res);
		}
		printf("PostGIS EXISTS(ST_Covers):  %10.0f decisions/s (%d points in %.3f s, %.1f%% covered; "
		       "%d disagreements with gf_covered)\n",
		       np / best, np, best, 100.0 * pg_cov / np, mism);
		printf("PostGIS JOIN ST_Covers:     %10.0f points/s (%ld covering pairs in %.3f s)\n",
		       np / join_best, join_pairs, join_best);
		printf("ratio gf_covered / PostGIS: %10.0f x\n", ours / (np / best));
		exec_ok(c, "DROP TABLE gf_bzones; DROP TABLE gf_bpts");
		PQfinish(c);
		free(seen);
		rc = mism != 0;
	}
	fflush(stdout);
	gf_unref(ix);
	for (z = 0; z < n; z++)
		gen_free(&g[z]);
	free(g);
	free(kinds);
	free(pts);
	free(w.p);
	return rc;
}

/* The context of the figures: the load average, and the latency of a random load from a
 * 64 MiB buffer (a pointer chase): the index's queries are bound by cache misses. */
static void bench_context(void)
{
	size_t n = (64u << 20) / 64, i, p = 0, *a = malloc(n * 64), *perm = malloc(n * sizeof(size_t));
	struct gen_rng r = { 7 };
	char load[128] = "?";
	FILE *f = fopen("/proc/loadavg", "r");
	long k, iters = 5000000;
	double t;

	if (f) {
		if (!fgets(load, sizeof(load), f))
			strcpy(load, "?");
		load[strcspn(load, "\n")] = 0;
		fclose(f);
	}
	if (!a || !perm)
		die("out of memory");
	for (i = 0; i < n; i++)
		perm[i] = i;
	for (i = n - 1; i > 0; i--) {
		size_t j = gen_u64(&r) % (i + 1), x = perm[i];

		perm[i] = perm[j];
		perm[j] = x;
	}
	for (i = 0; i < n; i++)
		a[perm[i] * 8] = perm[(i + 1) % n] * 8;
	t = now_s();
	for (k = 0; k < iters; k++)
		p = a[p];
	t = now_s() - t;
	printf("machine: load average %s; a random memory load takes %.0f ns (chase ended at %zu)\n",
	       load, 1e9 * t / iters, p / 8);
	free(a);
	free(perm);
}

static int run_bench(const struct opts *o)
{
	int rc;

	bench_context();
	rc = bench_set(o, 0, !o->no_pg);

	return bench_set(o, 1, 0) | rc;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: gf_check [--zones N] [--points N] [--seed S] [--reach M] [--dist-points N] [--flip-one] "
		"CONNINFO\n"
		"       gf_check --bench [--bench-zones N] [--bench-queries N] [--bench-pg-points N] "
		"[--no-pg] [CONNINFO]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .zones = 300,
			  .points = 20000,
			  .dist_points = 2000,
			  .bench_zones = 10000,
			  .bench_pg_points = 20000,
			  .bench_queries = 4000000,
			  .reach = 100,
			  .seed = 1 };
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--bench")) {
			o.bench = 1;
		} else if (!strcmp(a, "--no-pg")) {
			o.no_pg = 1;
		} else if (!strcmp(a, "--flip-one")) {
			o.flip_one = 1;
		} else if (a[0] == '-' && a[1] == '-') {
			char *end;
			double d;

			if (!v)
				usage();
			errno = 0;
			d = strtod(v, &end);
			if (*end || errno || d < 0)
				usage();
			i++;
			if (!strcmp(a, "--zones"))
				o.zones = (int)d;
			else if (!strcmp(a, "--points"))
				o.points = (int)d;
			else if (!strcmp(a, "--seed"))
				o.seed = (uint64_t)d;
			else if (!strcmp(a, "--reach"))
				o.reach = d;
			else if (!strcmp(a, "--dist-points"))
				o.dist_points = (int)d;
			else if (!strcmp(a, "--bench-zones"))
				o.bench_zones = (int)d;
			else if (!strcmp(a, "--bench-queries"))
				o.bench_queries = (long)d;
			else if (!strcmp(a, "--bench-pg-points"))
				o.bench_pg_points = (int)d;
			else
				usage();
		} else if (!o.conninfo) {
			o.conninfo = a;
		} else {
			usage();
		}
	}
	if (o.zones < 1 || o.points < 1 || o.bench_zones < 1 || o.bench_queries < 1 || o.bench_pg_points < 1)
		usage();
	if (!o.conninfo && !(o.bench && o.no_pg))
		usage();
	return o.bench ? run_bench(&o) : run_check(&o);
}
