/* cu_geofence.c -- unit tests for gis/geofence: WKB flavours and errors, covers semantics
 * (vertices, edges, holes, multipolygons, discs), signed distances, reach, hit order,
 * kinds, reference counting across threads, and randomized comparisons against GEOS
 * (GEOSPreparedCovers) and against a brute-force port of PostGIS's point-in-polygon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <pthread.h>

#include <cmocka.h>
#include <geos_c.h>

#include "geofence.h"
#include "../tools/gf_gen.h"

#define KY (6371008.8 * 3.14159265358979323846 / 180.0) /* metres per degree of latitude */

static double kx_at(double lat)
{
	return cos(lat * 3.14159265358979323846 / 180.0) * KY;
}

/* ---- helpers ------------------------------------------------------------------ */

/* A polygon from rings given as flat x,y lists (closed by the helper). */
struct ring_def {
	const double *xy;
	int n; /* vertices, without the closing one */
};

static void geom_rings(struct gen_geom *g, const struct ring_def *rings, int nrings, int new_poly)
{
	int r, i;

	if (new_poly)
		gen_begin_poly(g);
	for (r = 0; r < nrings; r++) {
		gen_begin_ring(g);
		for (i = 0; i < rings[r].n; i++)
			gen_vertex(g, rings[r].xy[2 * i], rings[r].xy[2 * i + 1]);
		gen_close_ring(g);
	}
}

static struct gf_zone zone_of(int kind, const char *code)
{
	struct gf_zone z;

	memset(&z, 0, sizeof(z));
	z.feature_id = 1000;
	z.layer_id = 7;
	z.kind = kind;
	z.layer = "test_layer";
	z.code = code;
	z.name = "名称";
	return z;
}

static int add_geom(struct gf_builder *b, const struct gen_geom *g, int kind, int flags)
{
	struct gen_buf buf = { 0 };
	struct gf_zone z = zone_of(kind, NULL);
	char err[200];
	int rc;

	gen_wkb(&buf, g, flags);
	rc = gf_builder_add(b, &z, buf.p, buf.n, 50, err, sizeof(err));
	if (rc)
		print_error("add failed: %s\n", err);
	free(buf.p);
	return rc;
}

static struct gf_index *index_of(const struct gen_geom *g, int flags)
{
	struct gf_builder *b = gf_builder_new();

	assert_non_null(b);
	assert_int_equal(add_geom(b, g, GF_NO_MINING, flags), 0);
	return gf_build(b);
}

static int covers(const struct gf_index *ix, double x, double y)
{
	struct gf_hit h[4];
	size_t n = gf_query(ix, x, y, 0, h, 4);
	int c = gf_covered(ix, x, y, 0);

	/* the three ways of asking must agree */
	assert_int_equal(c, n > 0);
	assert_int_equal(gf_zone_covers(ix, 0, x, y), c);
	if (n)
		assert_int_equal(h[0].inside, 1);
	return c;
}

/* Brute-force PostGIS point_in_multipolygon (lwgeom_functions_analytic.c), all edges:
 * the reference the index's bands and grid must reproduce. */
static int ref_ring(const double *xy, uint32_t v0, uint32_t v1, double px, double py)
{
	int wn = 0;
	uint32_t i;

	for (i = v0; i + 1 < v1; i++) {
		const double *a = xy + 2 * i, *b = a + 2;
		volatile double t1 = (b[0] - a[0]) * (py - a[1]);
		volatile double t2 = (px - a[0]) * (b[1] - a[1]);
		double side = t1 - t2;

		if (a[0] == b[0] && a[1] == b[1])
			continue;
		if (side == 0.0 && !(fmax(a[0], b[0]) < px || fmin(a[0], b[0]) > px) &&
		    !(fmax(a[1], b[1]) < py || fmin(a[1], b[1]) > py))
			return 0;
		if (a[1] <= py && py < b[1] && side > 0)
			wn++;
		else if (b[1] <= py && py < a[1] && side < 0)
			wn--;
	}
	return wn ? 1 : -1;
}

static int ref_covers(const struct gen_geom *g, double px, double py)
{
	size_t p, r;

	for (p = 0; p < g->np; p++) {
		size_t r0 = g->poly[p], r1 = p + 1 < g->np ? g->poly[p + 1] : g->nr;
		int in = ref_ring(g->xy, g->ring[r0], gen_ring_end(g, r0), px, py), res;

		if (in == -1)
			continue;
		if (in == 0)
			return 1;
		res = 1;
		for (r = r0 + 1; r < r1; r++) {
			in = ref_ring(g->xy, g->ring[r], gen_ring_end(g, r), px, py);
			if (in == 1) {
				res = -1;
				break;
			}
			if (in == 0)
				return 1;
		}
		if (res == 1)
			return 1;
	}
	return 0;
}

/* Brute-force distance to the nearest edge, in the local frame around (px, py). */
static double ref_dist(const struct gen_geom *g, double px, double py)
{
	double kx = kx_at(py), best = INFINITY;
	size_t r;

	for (r = 0; r < g->nr; r++) {
		uint32_t i;

		for (i = g->ring[r]; i + 1 < gen_ring_end(g, r); i++) {
			double ax = (g->xy[2 * i] - px) * kx, ay = (g->xy[2 * i + 1] - py) * KY;
			double bx = (g->xy[2 * i + 2] - px) * kx, by = (g->xy[2 * i + 3] - py) * KY;
			double vx = bx - ax, vy = by - ay, l2 = vx * vx + vy * vy;
			double t = l2 > 0 ? -(ax * vx + ay * vy) / l2 : 0, d;

			t = t < 0 ? 0 : (t > 1 ? 1 : t);
			d = hypot(ax + t * vx, ay + t * vy);
			best = d < best ? d : best;
		}
	}
	return best;
}

/* ---- basic semantics -------------------------------------------------------------- */

static const double SQ[] = { 117.0, 30.0, 117.01, 30.0, 117.01, 30.01, 117.0, 30.01 };

static void test_square(void **state)
{
	struct gen_geom g = { 0 };
	struct gf_index *ix;
	struct ring_def rd = { SQ, 4 };

	(void)state;
	gen_clear(&g);
	geom_rings(&g, &rd, 1, 1);
	ix = index_of(&g, 0);
	assert_non_null(ix);
	assert_int_equal(gf_zone_count(ix), 1);
	assert_true(covers(ix, 117.005, 30.005));
	assert_false(covers(ix, 117.02, 30.005));
	assert_false(covers(ix, 116.99, 30.005));
	assert_false(covers(ix, 117.005, 30.0100001));
	/* vertices */
	assert_true(covers(ix, 117.0, 30.0));
	assert_true(covers(ix, 117.01, 30.0));
	assert_true(covers(ix, 117.01, 30.01));
	assert_true(covers(ix, 117.0, 30.01));
	/* points on edges (all four axis-parallel edges) */
	assert_true(covers(ix, 117.003, 30.0));
	assert_true(covers(ix, 117.01, 30.0077));
	assert_true(covers(ix, 117.0042, 30.01));
	assert_true(covers(ix, 117.0, 30.0001));
	/* just outside each edge */
	assert_false(covers(ix, nextafter(117.0, 0), 30.005));
	assert_false(covers(ix, nextafter(117.01, 200), 30.005));
	assert_false(covers(ix, 117.005, nextafter(30.0, 0)));
	assert_false(covers(ix, 117.005, nextafter(30.01, 90)));
	assert_true(covers(ix, nextafter(117.0, 200), 30.005));
	/* the zone's box */
	assert_true(gf_zone_at(ix, 0)->minx == 117.0 && gf_zone_at(ix, 0)->maxy == 30.01);
	assert_null(gf_zone_at(ix, 1));
	/* NaN and infinities are never covered */
	assert_false(gf_covered(ix, NAN, 30.005, 0));
	assert_false(gf_covered(ix, 117.005, INFINITY, 0));
	assert_int_equal(gf_query(ix, NAN, 30.0, 100, NULL, 0), 0);
	gf_unref(ix);
	gen_free(&g);
}

static void test_holes(void **state)
{
	static const double outer[] = { 0, 0, 10, 0, 10, 10, 0, 10 };
	static const double hole1[] = { 2, 2, 2, 4, 4, 4, 4, 2 };
	/* a triangular hole with a diagonal edge */
	static const double hole2[] = { 6, 6, 8, 6, 6, 8 };
	struct ring_def rd[] = { { outer, 4 }, { hole1, 4 }, { hole2, 3 } };
	struct gen_geom g = { 0 };
	struct gf_index *ix;

	(void)state;
	gen_clear(&g);
	geom_rings(&g, rd, 3, 1);
	ix = index_of(&g, 0);
	assert_true(covers(ix, 1, 1));
	assert_false(covers(ix, 3, 3));	  /* in hole 1 */
	assert_true(covers(ix, 2, 3));	  /* on hole 1's ring */
	assert_true(covers(ix, 4, 4));	  /* a vertex of hole 1 */
	assert_true(covers(ix, 3, 2));	  /* on hole 1's ring */
	assert_false(covers(ix, 6.5, 6.5)); /* in hole 2 */
	assert_true(covers(ix, 7, 7));	  /* on hole 2's diagonal (exact: 7+7 = 14) */
	assert_true(covers(ix, 6, 7));	  /* on hole 2's vertical edge */
	assert_true(covers(ix, 7.5, 7.5)); /* beyond the diagonal: in the polygon */
	assert_true(covers(ix, 5, 5));
	assert_true(covers(ix, 10, 5));
	assert_false(covers(ix, 11, 5));
	/* depth: (1, 1) is 1 degree from two edges; the nearest in metres is the x one */
	{
		struct gf_hit h;
		double want = 1.0 * kx_at(1.0);

		assert_int_equal(gf_query(ix, 1, 1, 0, &h, 1), 1);
		assert_true(fabs(h.dist_m - want) < 1e-6);
		/* in hole 1, 1 degree from its ring in y and x; outside: negative */
		assert_int_equal(gf_query(ix, 3, 3, 200000, &h, 1), 1);
		assert_int_equal(h.inside, 0);
		assert_true(fabs(h.dist_m + 1.0 * kx_at(3.0)) < 1e-6);
		/* on a hole's ring: distance 0 */
		assert_int_equal(gf_query(ix, 2, 3, 0, &h, 1), 1);
		assert_true(h.dist_m == 0.0);
	}
	gf_unref(ix);
	gen_free(&g);
}

static void test_multipolygon(void **state)
{
	static const double a[] = { 0, 0, 1, 0, 1, 1, 0, 1 };
	static const double b[] = { 3, 0, 4, 0, 4, 1, 3, 1 };
	static const double bh[] = { 3.25, 0.25, 3.75, 0.25, 3.75, 0.75, 3.25, 0.75 };
	/* a third part touching the first at its corner (1, 1) */
	static const double c[] = { 1, 1, 2, 1, 2, 2, 1, 2 };
	struct ring_def ra[] = { { a, 4 } }, rb[] = { { b, 4 }, { bh, 4 } }, rc[] = { { c, 4 } };
	struct gen_geom g = { 0 };
	struct gf_index *ix;
	int flags;

	(void)state;
	gen_clear(&g);
	geom_rings(&g, ra, 1, 1);
	geom_rings(&g, rb, 2, 1);
	geom_rings(&g, rc, 1, 1);
	for (flags = 0; flags < 2; flags++) {
		ix = index_of(&g, flags ? GEN_BE | GEN_SRID : 0);
		assert_true(covers(ix, 0.5, 0.5));
		assert_true(covers(ix, 3.1, 0.5));
		assert_false(covers(ix, 2, 0.5)); /* between the parts */
		assert_false(covers(ix, 3.5, 0.5)); /* in b's hole */
		assert_true(covers(ix, 3.25, 0.5)); /* on b's hole */
		assert_true(covers(ix, 1, 1));	    /* the shared corner */
		assert_true(covers(ix, 1.5, 1.5));
		assert_true(covers(ix, 1.5, 1)); /* c's bottom edge */
		assert_false(covers(ix, 0.5, 1.5));
		assert_true(covers(ix, 4, 1));
		gf_unref(ix);
	}
	gen_free(&g);
}

/* ---- WKB -------------------------------------------------------------------------- */

static void test_wkb_flavours(void **state)
{
	static const int flavours[] = { 0,
					GEN_BE,
					GEN_SRID,
					GEN_SRID | GEN_BE,
					GEN_ISO_Z,
					GEN_ISO_Z | GEN_BE,
					GEN_EWKB_Z,
					GEN_EWKB_Z | GEN_SRID | GEN_BE,
					GEN_ISO_ZM,
					GEN_ISO_ZM | GEN_BE };
	struct ring_def rd = { SQ, 4 };
	struct gen_geom g = { 0 };
	size_t f;

	(void)state;
	for (f = 0; f < sizeof(flavours) / sizeof(flavours[0]); f++) {
		struct gf_index *ix;
		int multi;

		for (multi = 0; multi < 2; multi++) {
			gen_clear(&g);
			geom_rings(&g, &rd, 1, 1);
			if (multi) { /* a second, far away part makes it a MultiPolygon */
				static const double far[] = { 10, 10, 11, 10, 11, 11 };
				struct ring_def rf = { far, 3 };

				geom_rings(&g, &rf, 1, 1);
			}
			ix = index_of(&g, flavours[f]);
			assert_non_null(ix);
			assert_true(covers(ix, 117.005, 30.005));
			assert_true(covers(ix, 117.0, 30.005));
			assert_false(covers(ix, 117.02, 30.005));
			assert_int_equal(covers(ix, 10.6, 10.2), multi);
			gf_unref(ix);
		}
	}
	/* a mixed-endian MultiPolygon: big-endian container, little-endian member */
	{
		struct gen_buf b = { 0 }, m = { 0 };
		struct gf_builder *bl = gf_builder_new();
		struct gf_zone z = zone_of(GF_MINING, "M-1");
		struct gf_index *ix;
		char err[128];

		gen_clear(&g);
		geom_rings(&g, &rd, 1, 1);
		gen_wkb(&m, &g, 0);
		gen_put_header(&b, 6, GEN_BE, 1);
		gen_put_u32(&b, 1, 1);
		gen_put(&b, m.p, m.n, 0);
		assert_int_equal(gf_builder_add(bl, &z, b.p, b.n, 0, err, sizeof(err)), 0);
		ix = gf_build(bl);
		assert_true(covers(ix, 117.005, 30.005));
		assert_string_equal(gf_zone_at(ix, 0)->code, "M-1");
		gf_unref(ix);
		free(b.p);
		free(m.p);
	}
	gen_free(&g);
}

static void expect_reject(struct gf_builder *b, const uint8_t *w, size_t n, const char *needle)
{
	struct gf_zone z = zone_of(GF_PARKING, NULL);
	char err[200];

	err[0] = 0;
	assert_int_equal(gf_builder_add(b, &z, w, n, 25, err, sizeof(err)), -1);
	assert_true(err[0] != 0);
	if (needle && !strstr(err, needle) &&
	    !(strcmp(needle, "truncated") == 0 && strstr(err, "beyond the end"))) {
		print_error("error '%s' lacks '%s'\n", err, needle);
		fail();
	}
}

static void test_wkb_errors(void **state)
{
	struct gf_builder *b = gf_builder_new();
	struct gen_geom g = { 0 };
	struct gen_buf w = { 0 };
	struct ring_def rd = { SQ, 4 };
	struct gf_zone z = zone_of(GF_MINING, NULL);
	struct gf_index *ix;
	char err[200];
	size_t n;
	int flags;

	(void)state;
	gen_clear(&g);
	geom_rings(&g, &rd, 1, 1);
	geom_rings(&g, &rd, 1, 1);
	/* every truncation of every flavour is rejected, none crashes */
	for (flags = 0; flags < 32; flags++) {
		if (__builtin_popcount(flags & (GEN_ISO_Z | GEN_EWKB_Z | GEN_ISO_ZM)) > 1)
			continue; /* one way of saying Z at a time */
		gen_wkb(&w, &g, flags);
		for (n = 0; n < w.n; n++) /* a count may be found to overrun first */
			expect_reject(b, w.p, n, n ? "truncated" : "no WKB");
		/* and one byte more is "trailing" */
		gen_put(&w, "x", 1, 0);
		expect_reject(b, w.p, w.n, "trailing");
	}
	/* a bad byte-order mark */
	gen_wkb(&w, &g, 0);
	w.p[0] = 7;
	expect_reject(b, w.p, w.n, "byte-order");
	/* unsupported types: LineString, GeometryCollection, a big ISO number */
	{
		static const uint8_t ls[] = { 1, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
		static const uint8_t gc[] = { 1, 7, 0, 0, 0, 0, 0, 0, 0 };
		static const uint8_t big[] = { 1, 0xa3, 0x0f, 0, 0, 0, 0, 0, 0 }; /* 4003 */

		expect_reject(b, ls, sizeof(ls), "unsupported geometry type 2");
		expect_reject(b, gc, sizeof(gc), "unsupported geometry type 7");
		expect_reject(b, big, sizeof(big), "unsupported");
	}
	/* huge counts are caught before any allocation */
	{
		uint8_t huge[] = { 1, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0 };
		uint8_t hugep[] = { 1, 3, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0 };
		uint8_t hugem[] = { 1, 6, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0 };

		expect_reject(b, huge, sizeof(huge), "ring count");
		expect_reject(b, hugep, sizeof(hugep), "point count");
		expect_reject(b, hugem, sizeof(hugem), "member count");
	}
	/* a ring of 3 points, an unclosed ring, a NaN, an infinity */
	{
		struct gen_buf t = { 0 };
		double nan_xy[] = { 0, 0, 1, 0, NAN, 1, 0, 0 };
		double inf_xy[] = { 0, 0, 1, 0, 1, INFINITY, 0, 0 };
		double open_xy[] = { 0, 0, 1, 0, 1, 1, 0, 1 };
		const double *sets[] = { nan_xy, inf_xy, open_xy };
		const char *why[] = { "non-finite", "non-finite", "not closed" };
		int k, i;

		for (k = 0; k < 3; k++) {
			t.n = 0;
			gen_put_header(&t, 3, 0, 1);
			gen_put_u32(&t, 1, 0);
			gen_put_u32(&t, 4, 0);
			for (i = 0; i < 8; i++)
				gen_put_f64(&t, sets[k][i], 0);
			expect_reject(b, t.p, t.n, why[k]);
		}
		t.n = 0;
		gen_put_header(&t, 3, 0, 1);
		gen_put_u32(&t, 1, 0);
		gen_put_u32(&t, 3, 0);
		for (i = 0; i < 6; i++)
			gen_put_f64(&t, open_xy[i % 4], 0);
		expect_reject(b, t.p, t.n, "at least 4");
		/* POLYGON EMPTY, MULTIPOLYGON EMPTY, POINT EMPTY */
		t.n = 0;
		gen_put_header(&t, 3, 0, 1);
		gen_put_u32(&t, 0, 0);
		expect_reject(b, t.p, t.n, "empty");
		t.n = 0;
		gen_put_header(&t, 6, 0, 1);
		gen_put_u32(&t, 0, 0);
		expect_reject(b, t.p, t.n, "empty");
		t.n = 0;
		gen_put_header(&t, 1, 0, 1);
		gen_put_f64(&t, NAN, 0);
		gen_put_f64(&t, NAN, 0);
		expect_reject(b, t.p, t.n, "empty");
		/* a MultiPolygon holding a Point; a MultiPoint holding a MultiPoint */
		t.n = 0;
		gen_put_header(&t, 6, 0, 1);
		gen_put_u32(&t, 1, 0);
		gen_put_header(&t, 1, 0, 0);
		gen_put_f64(&t, 1, 0);
		gen_put_f64(&t, 1, 0);
		expect_reject(b, t.p, t.n, "member of type 1");
		t.n = 0;
		gen_put_header(&t, 4, 0, 1);
		gen_put_u32(&t, 1, 0);
		gen_put_header(&t, 4, 0, 0);
		gen_put_u32(&t, 0, 0);
		expect_reject(b, t.p, t.n, "member of type 4");
		free(t.p);
	}
	/* a point without a radius; a bad kind */
	{
		double xy[] = { 117, 30 };
		struct gen_buf t = { 0 };
		struct gf_zone bad = zone_of(0, NULL);

		gen_wkb_points(&t, xy, 1, 0, 0);
		assert_int_equal(gf_builder_add(b, &z, t.p, t.n, 0, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "point_radius_m"));
		assert_int_equal(gf_builder_add(b, &bad, t.p, t.n, 10, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "kind"));
		bad.kind = GF_KIND_MAX;
		assert_int_equal(gf_builder_add(b, &bad, t.p, t.n, 10, err, sizeof(err)), -1);
		/* a NULL err buffer is fine */
		assert_int_equal(gf_builder_add(b, &bad, t.p, t.n, 10, NULL, 0), -1);
		free(t.p);
	}
	/* after all that, the builder still works */
	gen_clear(&g);
	geom_rings(&g, &rd, 1, 1);
	gen_wkb(&w, &g, 0);
	assert_int_equal(gf_builder_add(b, &z, w.p, w.n, 0, err, sizeof(err)), 0);
	ix = gf_build(b);
	assert_int_equal(gf_zone_count(ix), 1);
	assert_true(gf_covered(ix, 117.005, 30.005, GF_MINING));
	gf_unref(ix);
	/* gf_builder_free on a builder with zones in it */
	b = gf_builder_new();
	assert_int_equal(gf_builder_add(b, &z, w.p, w.n, 0, err, sizeof(err)), 0);
	gf_builder_free(b);
	gf_builder_free(NULL);
	free(w.p);
	gen_free(&g);
}

/* Corrupted WKB (bytes flipped, counts changed, cut short, grown): never a crash (the
 * sanitizer build checks the reads), and whatever is accepted can be queried. */
static void test_wkb_mutations(void **state)
{
	struct gen_rng r = { 99 };
	struct gen_geom g = { 0 };
	struct gen_buf w = { 0 };
	struct gf_builder *b = gf_builder_new();
	struct gf_zone z = zone_of(GF_PROTECTION, NULL);
	struct gf_index *ix;
	char err[200];
	int i, accepted = 0, rejected = 0;

	(void)state;
	for (i = 0; i < 20000; i++) {
		size_t n, k, nflip = (size_t)gen_int(&r, 1, 4);

		if (i % 50 == 0)
			gen_zone(&g, &r, 117 + gen_range(&r, 0, 0.1), 30 + gen_range(&r, 0, 0.1), 800, 4, 40, i % 2);
		gen_wkb(&w, &g, (int)(gen_u64(&r) % 32) & ~GEN_ISO_ZM);
		n = w.n;
		for (k = 0; k < nflip; k++) {
			size_t at = (size_t)gen_int(&r, 0, (int)n - 1);

			switch (gen_int(&r, 0, 3)) {
			case 0:
				w.p[at] ^= (uint8_t)(1u << gen_int(&r, 0, 7));
				break;
			case 1:
				w.p[at] = (uint8_t)gen_u64(&r);
				break;
			case 2: /* a count-sized field: 0, 1, 3, huge */
				if (at + 4 <= n) {
					static const uint32_t vals[] = { 0, 1, 3, 0x7fffffffu, 0xffffffffu };
					uint32_t v = vals[gen_int(&r, 0, 4)];

					memcpy(w.p + at, &v, 4);
				}
				break;
			default:
				n = (size_t)gen_int(&r, 1, (int)n);
				break;
			}
		}
		if (gf_builder_add(b, &z, w.p, n, 10, err, sizeof(err)) == 0)
			accepted++;
		else
			rejected++;
	}
	ix = gf_build(b);
	assert_non_null(ix);
	assert_int_equal(gf_zone_count(ix), accepted);
	for (i = 0; i < 20000; i++) {
		struct gf_hit h[16];
		double x = 117 + gen_range(&r, -0.05, 0.15), y = 30 + gen_range(&r, -0.05, 0.15);

		gf_covered(ix, x, y, 0);
		gf_query(ix, x, y, gen_range(&r, 0, 300), h, 16);
	}
	print_message("      %d mutated WKB accepted, %d rejected\n", accepted, rejected);
	assert_true(rejected > 1000);
	gf_unref(ix);
	gen_free(&g);
	free(w.p);
}

/* Far-out coordinates (not lon/lat, but finite and below 1e15): accepted and queried;
 * beyond 1e15 refused; a tiny zone still exact. */
static void test_extreme_coordinates(void **state)
{
	static const double big[] = { 1e14, 1e14, 1.5e14, 1e14, 1.5e14, 1.5e14 };
	static const double huge[] = { -1.7e308, 0, 1.7e308, 0, 0, 1 };
	static const double tiny[] = { 117, 30, 117 + 1e-12, 30, 117 + 1e-12, 30 + 1e-12, 117, 30 + 1e-12 };
	struct ring_def rb = { big, 3 }, rh = { huge, 3 }, rt = { tiny, 4 };
	struct gen_geom g = { 0 };
	struct gen_buf w = { 0 };
	struct gf_builder *b = gf_builder_new();
	struct gf_zone z = zone_of(GF_MINING, NULL);
	struct gf_index *ix;
	char err[200];

	(void)state;
	gen_clear(&g);
	geom_rings(&g, &rb, 1, 1);
	gen_wkb(&w, &g, 0);
	assert_int_equal(gf_builder_add(b, &z, w.p, w.n, 0, err, sizeof(err)), 0);
	gen_clear(&g);
	geom_rings(&g, &rh, 1, 1);
	gen_wkb(&w, &g, 0);
	assert_int_equal(gf_builder_add(b, &z, w.p, w.n, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "out of range"));
	gen_clear(&g);
	geom_rings(&g, &rt, 1, 1);
	gen_wkb(&w, &g, 0);
	assert_int_equal(gf_builder_add(b, &z, w.p, w.n, 0, err, sizeof(err)), 0);
	ix = gf_build(b);
	assert_int_equal(gf_zone_count(ix), 2);
	assert_true(gf_zone_covers(ix, 0, 1.4e14, 1.1e14));
	assert_true(gf_zone_covers(ix, 0, 1.25e14, 1.25e14)); /* on the diagonal edge */
	assert_false(gf_zone_covers(ix, 0, 1.1e14, 1.4e14));
	assert_true(gf_zone_covers(ix, 1, 117 + 5e-13, 30 + 5e-13));
	assert_true(gf_zone_covers(ix, 1, 117 + 1e-12, 30 + 5e-13));
	assert_false(gf_zone_covers(ix, 1, nextafter(117 + 1e-12, 200), 30 + 5e-13));
	assert_true(gf_covered(ix, 117, 30, GF_MINING));
	gf_unref(ix);
	gen_free(&g);
	free(w.p);
}

/* ---- discs ------------------------------------------------------------------------- */

static void test_discs(void **state)
{
	double c[] = { 117.0, 30.0 }, mc[] = { 117.0, 30.0, 117.01, 30.0 };
	struct gen_buf t = { 0 };
	struct gf_builder *b = gf_builder_new();
	struct gf_zone z = zone_of(GF_PARKING, "P-1");
	struct gf_index *ix;
	struct gf_hit h[4];
	char err[128];
	double dlat = 1 / KY; /* one metre north, in degrees */

	(void)state;
	gen_wkb_points(&t, c, 1, 0, GEN_SRID | GEN_ISO_Z);
	assert_int_equal(gf_builder_add(b, &z, t.p, t.n, 50, err, sizeof(err)), 0);
	z.code = "P-2";
	gen_wkb_points(&t, mc, 2, 1, GEN_BE);
	assert_int_equal(gf_builder_add(b, &z, t.p, t.n, 30, err, sizeof(err)), 0);
	ix = gf_build(b);
	assert_int_equal(gf_zone_count(ix), 2);
	/* zone 0: 50 m around (117, 30); 40 m north is 10 m deep */
	assert_true(gf_zone_covers(ix, 0, 117.0, 30.0 + 40 * dlat));
	assert_true(fabs(gf_zone_dist_m(ix, 0, 117.0, 30.0 + 40 * dlat) - 10) < 1e-6);
	assert_false(gf_zone_covers(ix, 0, 117.0, 30.0 + 60 * dlat));
	assert_true(fabs(gf_zone_dist_m(ix, 0, 117.0, 30.0 + 60 * dlat) + 10) < 1e-6);
	/* east: 45 m east at lat 30 */
	{
		double dlon = 45 / kx_at(30.0);

		assert_true(gf_zone_covers(ix, 0, 117.0 + dlon, 30.0));
		assert_true(fabs(gf_zone_dist_m(ix, 0, 117.0 + dlon, 30.0) - 5) < 1e-6);
		assert_false(gf_zone_covers(ix, 0, 117.0 + 55 / kx_at(30.0), 30.0));
	}
	/* zone 1: both discs of 30 m; the first overlaps zone 0 */
	assert_int_equal(gf_query(ix, 117.0, 30.0 + 20 * dlat, 0, h, 4), 2);
	assert_int_equal(h[0].zone, 0);
	assert_int_equal(h[1].zone, 1);
	assert_true(fabs(h[0].dist_m - 30) < 1e-6 && fabs(h[1].dist_m - 10) < 1e-6);
	assert_true(gf_covered(ix, 117.01, 30.0, GF_PARKING));
	assert_false(gf_covered(ix, 117.01, 30.0, GF_MINING));
	assert_false(gf_covered(ix, 117.005, 30.0, 0));
	/* reach: 60 m north of (117, 30) is 10 m from zone 0 and 30 m from zone 1 */
	assert_int_equal(gf_query(ix, 117.0, 30.0 + 60 * dlat, 5, h, 4), 0);
	assert_int_equal(gf_query(ix, 117.0, 30.0 + 60 * dlat, 15, h, 4), 1);
	assert_true(h[0].zone == 0 && !h[0].inside && fabs(h[0].dist_m + 10) < 1e-6);
	assert_int_equal(gf_query(ix, 117.0, 30.0 + 60 * dlat, 31, h, 4), 2);
	gf_unref(ix);
	free(t.p);
}

/* ---- distances, reach, order, kinds ----------------------------------------------- */

static void test_distances(void **state)
{
	struct ring_def rd = { SQ, 4 };
	struct gen_geom g = { 0 };
	struct gf_index *ix;
	struct gf_hit h;

	(void)state;
	gen_clear(&g);
	geom_rings(&g, &rd, 1, 1);
	ix = index_of(&g, 0);
	/* (117.005, 30.002): 0.002 deg above the bottom edge, 0.005 deg from the sides:
	 * depth = 0.002 * KY = 222.390 m (the sides are 0.005 * kx(30.002) = 481.4 m) */
	assert_int_equal(gf_query(ix, 117.005, 30.002, 0, &h, 1), 1);
	assert_true(h.inside);
	assert_true(fabs(h.dist_m - 0.002 * KY) < 1e-6);
	assert_true(fabs(h.dist_m - 222.39016) < 1e-4);
	/* (117.012, 30.005): 0.002 deg east of the right edge: -0.002 * kx(30.005) = -192.58 m */
	{
		double want = 0.002 * kx_at(30.005);

		assert_int_equal(gf_query(ix, 117.012, 30.005, 150, &h, 1), 0);
		assert_int_equal(gf_query(ix, 117.012, 30.005, 200, &h, 1), 1);
		assert_false(h.inside);
		assert_true(fabs(h.dist_m + want) < 1e-6);
		assert_true(fabs(h.dist_m + 192.58) < 0.01);
	}
	/* (117.012, 30.013): nearest is the corner (117.01, 30.01) */
	{
		double want = hypot(0.002 * kx_at(30.013), 0.003 * KY);

		assert_true(fabs(gf_zone_dist_m(ix, 0, 117.012, 30.013) + want) < 1e-6);
		assert_int_equal(gf_query(ix, 117.012, 30.013, want - 0.001, &h, 1), 0);
		assert_int_equal(gf_query(ix, 117.012, 30.013, want + 0.001, &h, 1), 1);
	}
	/* on the boundary: 0 */
	assert_true(gf_zone_dist_m(ix, 0, 117.01, 30.004) == 0.0);
	assert_true(isnan(gf_zone_dist_m(ix, 1, 117.01, 30.004)));
	/* far outside, no reach limit: the full search */
	assert_true(fabs(gf_zone_dist_m(ix, 0, 117.0, 31.01) + 1.0 * KY) < 1e-6);
	gf_unref(ix);
	gen_free(&g);
}

static void test_order_and_kinds(void **state)
{
	struct gf_builder *b = gf_builder_new();
	struct gen_geom g = { 0 };
	struct gf_index *ix;
	struct gf_hit h[8];
	int i;
	size_t n;

	(void)state;
	/* 6 nested squares (zone i: half-width 0.001 * (6 - i)), kinds cycling 1..4 */
	for (i = 0; i < 6; i++) {
		double w = 0.001 * (6 - i);
		double xy[] = { 117 - w, 30 - w, 117 + w, 30 - w, 117 + w, 30 + w, 117 - w, 30 + w };
		struct ring_def rd = { xy, 4 };

		gen_clear(&g);
		geom_rings(&g, &rd, 1, 1);
		assert_int_equal(add_geom(b, &g, 1 + i % 4, 0), 0);
	}
	ix = gf_build(b);
	n = gf_query(ix, 117, 30, 0, h, 8);
	assert_int_equal(n, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(h[i].zone, i);
		assert_true(h[i].inside);
		assert_true(fabs(h[i].dist_m - 0.001 * (6 - i) * kx_at(30)) < 1e-6);
	}
	/* max 2: the total, and the two lowest zones */
	memset(h, 0xff, sizeof(h));
	assert_int_equal(gf_query(ix, 117, 30, 0, h, 2), 6);
	assert_int_equal(h[0].zone, 0);
	assert_int_equal(h[1].zone, 1);
	assert_int_equal(h[2].zone, 0xffffffffu); /* untouched */
	assert_int_equal(gf_query(ix, 117, 30, 0, NULL, 0), 6);
	/* at 117.0045: inside zones 0 (w .006) and 1 (w .005) only */
	assert_int_equal(gf_query(ix, 117.0045, 30, 0, h, 8), 2);
	assert_true(gf_covered(ix, 117.0045, 30, GF_MINING));	  /* zone 0 */
	assert_true(gf_covered(ix, 117.0045, 30, GF_PARKING));	  /* zone 1 */
	assert_false(gf_covered(ix, 117.0045, 30, GF_NO_MINING)); /* zone 2 is smaller */
	assert_true(gf_covered(ix, 117.0005, 30, GF_NO_MINING));
	assert_true(gf_covered(ix, 117.0005, 30, GF_PROTECTION));
	assert_false(gf_covered(ix, 117.0065, 30, 0));
	/* reach 100 m from 117.0065: zone 0's edge is 0.0005 deg = 48.2 m away */
	assert_int_equal(gf_query(ix, 117.0065, 30, 100, h, 8), 1);
	assert_true(h[0].zone == 0 && !h[0].inside);
	assert_true(fabs(h[0].dist_m + 0.0005 * kx_at(30)) < 1e-6);
	/* reach 200 m reaches zone 1 too (0.0015 deg = 144.6 m) */
	assert_int_equal(gf_query(ix, 117.0065, 30, 200, h, 8), 2);
	gf_unref(ix);
	gen_free(&g);
}

static void test_empty_index(void **state)
{
	struct gf_index *ix = gf_build(gf_builder_new());
	struct gf_hit h;
	struct gf_stats st;

	(void)state;
	assert_non_null(ix);
	assert_int_equal(gf_zone_count(ix), 0);
	assert_null(gf_zone_at(ix, 0));
	assert_int_equal(gf_covered(ix, 117, 30, 0), 0);
	assert_int_equal(gf_query(ix, 117, 30, 100, &h, 1), 0);
	assert_int_equal(gf_zone_covers(ix, 0, 117, 30), 0);
	gf_index_stats(ix, &st);
	assert_int_equal(st.zones, 0);
	assert_ptr_equal(gf_ref(ix), ix);
	gf_unref(ix);
	gf_unref(ix);
	/* NULL everywhere */
	assert_null(gf_build(NULL));
	assert_int_equal(gf_covered(NULL, 117, 30, 0), 0);
	assert_int_equal(gf_query(NULL, 117, 30, 0, &h, 1), 0);
	assert_int_equal(gf_zone_count(NULL), 0);
	gf_unref(NULL);
	assert_null(gf_ref(NULL));
}

/* ---- reference counting across threads -------------------------------------------- */

struct thr {
	struct gf_index *ix;
	long covered;
};

static void *reader(void *arg)
{
	struct thr *t = arg;
	struct gen_rng r = { (uint64_t)(uintptr_t)arg };
	int i;

	for (i = 0; i < 200000; i++)
		t->covered += gf_covered(t->ix, gen_range(&r, 116.99, 117.02), gen_range(&r, 29.99, 30.02), 0);
	gf_unref(t->ix);
	return NULL;
}

static void test_refcount_threads(void **state)
{
	struct ring_def rd = { SQ, 4 };
	struct gen_geom g = { 0 };
	struct gf_index *ix;
	struct thr t[4];
	pthread_t th[4];
	int i;

	(void)state;
	gen_clear(&g);
	geom_rings(&g, &rd, 1, 1);
	ix = index_of(&g, 0);
	for (i = 0; i < 4; i++) {
		t[i].ix = gf_ref(ix);
		t[i].covered = 0;
		assert_int_equal(pthread_create(&th[i], NULL, reader, &t[i]), 0);
	}
	gf_unref(ix); /* the readers keep it alive; the last one frees it */
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		/* the square is 1/9 of the sampled box */
		assert_true(t[i].covered > 200000 / 9 * 0.9 && t[i].covered < 200000 / 9 * 1.1);
	}
	gen_free(&g);
}

/* ---- PostGIS arithmetic ------------------------------------------------------------ */

static GEOSContextHandle_t geos;

static int geos_covers(const GEOSPreparedGeometry *pg, double x, double y)
{
	GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(geos, x, y);
	char c = GEOSPreparedCovers_r(geos, pg, pt);

	GEOSGeom_destroy_r(geos, pt);
	assert_true(c == 0 || c == 1);
	return c;
}

/* A point that PostGIS's double-precision side test puts exactly on an edge although it is
 * not on it in exact arithmetic: PostGIS (and so the index) says covered; GEOS, exact,
 * says not covered when the point is on the outer side. */
static void test_postgis_rounding(void **state)
{
	struct gen_rng r = { 42 };
	int found = 0, tries;

	(void)state;
	for (tries = 0; tries < 2000000 && found < 5; tries++) {
		double ax = gen_range(&r, 117, 117.01), ay = gen_range(&r, 30, 30.01);
		double bx = gen_range(&r, 117, 117.01), by = gen_range(&r, 30, 30.01);
		double t = gen_unif(&r), px = ax + t * (bx - ax), py = ay + t * (by - ay);
		volatile double t1 = (bx - ax) * (py - ay), t2 = (px - ax) * (by - ay);
		int o;

		if (t1 - t2 != 0.0)
			continue;
		o = GEOSOrientationIndex_r(geos, ax, ay, bx, by, px, py);
		if (o != -1) /* want p exactly right of a->b */
			continue;
		/* triangle a, b, c with c on the left of a->b: p is (exactly) outside */
		{
			double cx = ax - (by - ay), cy = ay + (bx - ax);
			double tri[] = { ax, ay, bx, by, cx, cy };
			struct ring_def rd = { tri, 3 };
			struct gen_geom g = { 0 };
			struct gen_buf w = { 0 };
			struct gf_index *ix;
			GEOSWKBReader *rd_ = GEOSWKBReader_create_r(geos);
			GEOSGeometry *gg;
			const GEOSPreparedGeometry *pg;

			gen_clear(&g);
			geom_rings(&g, &rd, 1, 1);
			gen_wkb(&w, &g, 0);
			ix = index_of(&g, 0);
			gg = GEOSWKBReader_read_r(geos, rd_, w.p, w.n);
			pg = GEOSPrepare_r(geos, gg);
			assert_int_equal(ref_covers(&g, px, py), 1);
			assert_int_equal(covers(ix, px, py), 1);
			assert_int_equal(geos_covers(pg, px, py), 0);
			GEOSPreparedGeom_destroy_r(geos, pg);
			GEOSGeom_destroy_r(geos, gg);
			GEOSWKBReader_destroy_r(geos, rd_);
			gf_unref(ix);
			gen_free(&g);
			free(w.p);
			found++;
		}
	}
	assert_true(found >= 1);
}

/* ---- randomized comparisons ---------------------------------------------------------- */

#define RZ 240	    /* zones */
#define RP 30000    /* points */
#define AREA_X0 117.20
#define AREA_Y0 29.30
#define AREA_W 0.10

static void test_random_vs_geos_and_postgis(void **state)
{
	struct gen_rng r = { 20240601 };
	struct gen_geom *g = calloc(RZ, sizeof(*g));
	GEOSGeometry **gg = calloc(RZ, sizeof(*gg));
	const GEOSPreparedGeometry **pg = calloc(RZ, sizeof(*pg));
	GEOSWKBReader *rdr = GEOSWKBReader_create_r(geos);
	struct gf_builder *b = gf_builder_new();
	struct gen_buf w = { 0 };
	struct gf_index *ix;
	struct gf_hit *hits = malloc(sizeof(*hits) * RZ);
	int kinds[RZ];
	long checked = 0, inside = 0, geos_near_diff = 0, by_mode[5] = { 0 };
	long dist_checked = 0;
	int z, i;

	(void)state;
	for (z = 0; z < RZ; z++) {
		struct gf_zone zz = zone_of(1 + z % 4, NULL);
		char err[200];
		int flags = (int)(gen_u64(&r) % 4) * GEN_BE + (z % 3 == 0 ? GEN_SRID : 0) +
			    (z % 5 == 0 ? GEN_ISO_Z : 0);

		kinds[z] = zz.kind;
		gen_zone(&g[z], &r, AREA_X0 + gen_range(&r, 0, AREA_W), AREA_Y0 + gen_range(&r, 0, AREA_W),
			 gen_range(&r, 300, 3000), 50, 500, z % 2);
		gen_wkb(&w, &g[z], flags & ~GEN_BE);
		gg[z] = GEOSWKBReader_read_r(geos, rdr, w.p, w.n);
		assert_non_null(gg[z]);
		pg[z] = GEOSPrepare_r(geos, gg[z]);
		gen_wkb(&w, &g[z], flags);
		assert_int_equal(gf_builder_add(b, &zz, w.p, w.n, 0, err, sizeof(err)), 0);
	}
	ix = gf_build(b);
	assert_non_null(ix);
	assert_int_equal(gf_zone_count(ix), RZ);
	for (i = 0; i < RP; i++) {
		/* of 10: 4 uniform (-1), 2 vertices, 2 on axis-parallel edges, 1 in a hole,
		 * 1 interpolated on an edge */
		static const int by_i[10] = { -1,
					      -1,
					      -1,
					      -1,
					      GEN_PT_VERTEX,
					      GEN_PT_VERTEX,
					      GEN_PT_AXIS_EDGE,
					      GEN_PT_AXIS_EDGE,
					      GEN_PT_HOLE,
					      GEN_PT_NEAR_EDGE };
		int mode = by_i[i % 10];
		int src = gen_int(&r, 0, RZ - 1), any[GF_KIND_MAX] = { 0 };
		double x, y;
		size_t n, k;

		if (mode < 0) {
			x = AREA_X0 - 0.01 + gen_range(&r, 0, AREA_W + 0.02);
			y = AREA_Y0 - 0.01 + gen_range(&r, 0, AREA_W + 0.02);
		} else {
			gen_point(&g[src], &r, mode, &x, &y);
			by_mode[mode]++;
		}
		n = gf_query(ix, x, y, 0, hits, RZ);
		assert_true(n <= RZ);
		for (k = 1; k < n; k++)
			assert_true(hits[k - 1].zone < hits[k].zone);
		k = 0;
		for (z = 0; z < RZ; z++) {
			int want, got, gc;

			if (x < g[z].minx || x > g[z].maxx || y < g[z].miny || y > g[z].maxy) {
				assert_false(k < n && hits[k].zone == (uint32_t)z);
				continue;
			}
			want = ref_covers(&g[z], x, y);
			got = k < n && hits[k].zone == (uint32_t)z;
			if (got)
				k++;
			if (want != got) {
				print_error("zone %d point %.17g %.17g (mode %d): index %d, PostGIS rule %d\n", z,
					    x, y, mode, got, want);
				fail();
			}
			assert_int_equal(gf_zone_covers(ix, (uint32_t)z, x, y), want);
			gc = geos_covers(pg[z], x, y);
			if (gc != want) {
				/* only a point interpolated on a slanted edge may fall where
				 * PostGIS's rounding and GEOS's exact test disagree */
				if (mode != GEN_PT_NEAR_EDGE) {
					print_error("zone %d point %.17g %.17g (mode %d): GEOS %d, index %d\n",
						    z, x, y, mode, gc, want);
					fail();
				}
				geos_near_diff++;
			}
			checked++;
			inside += want;
			if (want)
				any[kinds[z]] = any[0] = 1;
		}
		assert_int_equal(k, n);
		for (k = 0; k < GF_KIND_MAX; k++)
			assert_int_equal(gf_covered(ix, x, y, (int)k), any[k]);
		/* distances against a brute force, for some points */
		if (i % 8 == 0) {
			double reach = 100;

			n = gf_query(ix, x, y, reach, hits, RZ);
			k = 0;
			for (z = 0; z < RZ; z++) {
				double d = ref_dist(&g[z], x, y);
				int in = ref_covers(&g[z], x, y);
				int got = k < n && hits[k].zone == (uint32_t)z;

				if (fabs(d - reach) < 1e-6) { /* too close to call */
					k += got;
					continue;
				}
				assert_int_equal(got, in || d <= reach);
				if (got) {
					double want = in ? d : -d;

					if (fabs(hits[k].dist_m - want) > 1e-6 && !(in && hits[k].dist_m == 0)) {
						print_error("zone %d %.17g %.17g dist %.9f want %.9f\n", z, x, y,
							    hits[k].dist_m, want);
						fail();
					}
					assert_int_equal(hits[k].inside, in);
					k++;
					dist_checked++;
				}
			}
			assert_int_equal(k, n);
		}
	}
	{
		struct gf_stats st;

		gf_index_stats(ix, &st);
		print_message("      %ld zone/point pairs checked (%ld covered), %ld distances; "
			      "near-edge points where GEOS differs from PostGIS's rule: %ld; "
			      "grid cells near an edge: %.1f%%, %zu KiB\n",
			      checked, inside, dist_checked, geos_near_diff,
			      100.0 * st.grid_edge_cells / (st.grid_cells ? st.grid_cells : 1), st.bytes / 1024);
	}
	assert_true(inside > 1000);
	assert_true(by_mode[GEN_PT_AXIS_EDGE] > 1000);
	gf_unref(ix);
	for (z = 0; z < RZ; z++) {
		GEOSPreparedGeom_destroy_r(geos, pg[z]);
		GEOSGeom_destroy_r(geos, gg[z]);
		gen_free(&g[z]);
	}
	GEOSWKBReader_destroy_r(geos, rdr);
	free(g);
	free(gg);
	free(pg);
	free(hits);
	free(w.p);
}

/* A zone with many parts and holes (ring bookkeeping), and a tall thin one. */
static void test_many_rings(void **state)
{
	struct gen_rng r = { 7 };
	struct gen_geom g = { 0 };
	struct gf_index *ix;
	int p, i;

	(void)state;
	gen_clear(&g);
	for (p = 0; p < 60; p++)
		gen_star(&g, &r, 117 + (p % 10) * 0.01, 30 + (p / 10) * 0.01, 0.004, 0.004, gen_int(&r, 8, 60),
			 gen_int(&r, 0, 2), p % 2);
	ix = index_of(&g, 0);
	for (i = 0; i < 200000; i++) {
		double x = gen_range(&r, 116.99, 117.11), y = gen_range(&r, 29.99, 30.07);

		if (i % 3 == 0)
			gen_point(&g, &r, i % 2 ? GEN_PT_VERTEX : GEN_PT_HOLE, &x, &y);
		assert_int_equal(gf_covered(ix, x, y, 0), ref_covers(&g, x, y));
	}
	gf_unref(ix);
	gen_clear(&g);
	gen_staircase(&g, &r, 117, 30, 0.00001, 0.5, 200, 1, 1);
	ix = index_of(&g, 0);
	for (i = 0; i < 100000; i++) {
		double x, y;

		gen_point(&g, &r, i % 3 == 0 ? GEN_PT_AXIS_EDGE : GEN_PT_BOX, &x, &y);
		assert_int_equal(gf_covered(ix, x, y, 0), ref_covers(&g, x, y));
	}
	gf_unref(ix);
	gen_free(&g);
}

static int setup(void **state)
{
	(void)state;
	geos = GEOS_init_r();
	return geos ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	GEOS_finish_r(geos);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_square),
		cmocka_unit_test(test_holes),
		cmocka_unit_test(test_multipolygon),
		cmocka_unit_test(test_wkb_flavours),
		cmocka_unit_test(test_wkb_errors),
		cmocka_unit_test(test_wkb_mutations),
		cmocka_unit_test(test_extreme_coordinates),
		cmocka_unit_test(test_discs),
		cmocka_unit_test(test_distances),
		cmocka_unit_test(test_order_and_kinds),
		cmocka_unit_test(test_empty_index),
		cmocka_unit_test(test_refcount_threads),
		cmocka_unit_test(test_postgis_rounding),
		cmocka_unit_test(test_random_vs_geos_and_postgis),
		cmocka_unit_test(test_many_rings),
	};

	return cmocka_run_group_tests_name("geofence", tests, setup, teardown);
}
