/* geofence.c -- the in-memory zone index: WKB in; an STR-packed R-tree over the zones and,
 * per zone, cell grids, horizontal edge bands and edge-run boxes out; point queries that
 * reproduce PostGIS ST_Covers(zone, point) bit for bit, and signed distances to zone
 * boundaries.
 *
 * Why not GEOS on the hot path: a GEOS STRtree of prepared geometries is several times
 * slower (tests/tools/gf_check --bench measures both), and GEOS's robust orientation is not
 * what PostGIS uses for ST_Covers(polygon, point): PostGIS short-circuits that case to its
 * own winding-number test (lwgeom_functions_analytic.c: point_in_ring, point_in_multipolygon)
 * with a plain double-precision side test. For a point within rounding distance of an edge
 * the two can differ (gf_check finds such points and counts the pairs where GEOS would
 * disagree with PostGIS), and the header promises agreement with PostGIS, so the arithmetic
 * below is PostGIS's, operation for operation. Error bounds are used where they are needed:
 * to prove that a grid cell holds no point on which that arithmetic could change its
 * answer, so that the cell answers without any edge test (grid_mark_edge).
 *
 * The work for one point (gf_covered):
 *   1. a uniform grid over the R-tree's leaves -> the one or two leaves whose box may hold
 *      the point; each leaf (16 float boxes, rounded outward, and kind masks) is tested with
 *      SSE -> candidate zones;
 *   2. the zone's hot record (two cache lines): exact box, and a coarse grid of up to 16 x 14
 *      cells (inside / outside / boundary). Most points end here;
 *   3. else the zone's grid (about 16 cells an edge, 2 bits a cell);
 *   4. for a boundary cell, the horizontal band holding the point: only the edges whose
 *      y-range meets the band, in ring order, through PostGIS's winding rule.
 * gf_query walks the R-tree with the point's box grown by reach_m, and for distances takes
 * runs of 8 consecutive edges (tight boxes) in groups of 8 runs, nearest first.
 *
 * The index never changes after gf_build: queries take no lock and write nothing shared.
 */
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geofence.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define GF_R_EARTH 6371008.8
#define GF_DEG (3.14159265358979323846 / 180.0)
#define RT_M 16		      /* R-tree fanout */
#define RT_STACK 512	      /* traversal stack: depth * (RT_M - 1) + 1 is far below */
#define GRID_CELLS_PER_EDGE 16 /* grid size target: this many cells per edge ... */
#define GRID_MAX_CELLS 65536   /* ... at most (16 KiB at 2 bits a cell) */
#define GRID_MAX_SIDE 4096
#define BAND_MAX 1048576
#define GF_COORD_MAX 1e15 /* beyond any lon/lat; keeps every intermediate value finite */
#define CH_E 8 /* distance search: edges a chunk ... */
#define CH_G 8 /* ... chunks a group */

enum { SH_POLY = 1, SH_DISC = 2 };
enum { CELL_OUT = 0, CELL_IN = 1, CELL_EDGE = 2 };

/* PostGIS on x86-64 is built for the baseline ISA, without FMA: its side test is two
 * rounded products and a rounded difference. Keep ours so even if someone builds with
 * -march=native (GCC contracts a*b - c*d into an FMA by default in GNU C mode). */
#if defined(__GNUC__) && defined(__x86_64__)
#define GF_NOFUSE(v) __asm__("" : "+x"(v))
#else
#define GF_NOFUSE(v) ((void)0)
#endif

/* What a query reads first of a zone, two cache lines (one aligned pair), kept in R-tree
 * leaf order: the box, the grid's mapping, and a coarse grid of at most 16 x 14 cells over
 * the same box. A coarse cell is inside (outside) when every grid cell that meets it is,
 * else "boundary": then the grid decides. Most points are decided here, without a miss. */
struct gf_hot {
	double minx, miny, maxx, maxy; /* exact bounding box; also the grids' origin */
	double gix, giy;	       /* grid cells per degree */
	const uint8_t *grid;	       /* 2 bits a cell, row-major */
	uint16_t gw, gh;
	uint8_t type;
	uint8_t cw, ch; /* coarse grid size */
	uint8_t pad_;
	float cix, ciy;	      /* coarse cells per degree */
	uint8_t coarse[56];   /* 2 bits a coarse cell, row-major (<= 224 cells) */
} __attribute__((aligned(128)));

/* A zone's geometry as queried. Arrays live in `mem` (one block). */
struct gf_shape {
	double minx, miny, maxx, maxy; /* exact bounding box */
	double gx0, gy0, gix, giy;     /* grid origin (= minx, miny), cells per degree */
	const uint8_t *grid;	       /* 2 bits a cell, row-major */
	uint16_t gw, gh;	       /* grid size */
	uint8_t type;		       /* SH_POLY, SH_DISC */
	uint8_t pad_;
	uint16_t pad2_;
	uint32_t zone; /* index in add order */
	uint32_t nb;   /* bands */
	double by0, biy;	     /* band origin, bands per degree */
	const uint32_t *band_off;    /* nb + 1 */
	const uint32_t *band_edge;   /* first vertex of each edge; ascending within a band */
	const double *xy;	     /* vertices (discs: centres) */
	const uint32_t *ring_start;  /* nr + 1: first vertex of each ring, then the end */
	const uint32_t *ring_poly;   /* nr: the polygon of each ring */
	const uint32_t *poly_ring;   /* np + 1: first ring of each polygon, then nr */
	uint32_t nv, nr, np, ne;     /* vertices, rings, polygons, non-degenerate edges */
	const uint32_t *edges;	     /* first vertex of each edge, ascending (ne) */
	const float *cbox, *gbox;    /* boxes of CH_E edges, of CH_G such chunks (x0 y0 x1 y1) */
	uint32_t nchunk, ngroup;
	double radius_m;	     /* discs */
	size_t band_entries, edge_cells, bytes;
	void *mem;
};

struct rt_node {
	float minx[RT_M], miny[RT_M], maxx[RT_M], maxy[RT_M];
	uint32_t child[RT_M]; /* a node, or (leaf) a shape */
	uint32_t kinds[RT_M]; /* kind bits present below */
	uint32_t n, leaf;
};

struct gf_index {
	atomic_int refs;
	size_t nzones;
	struct gf_zone *zones;	 /* add order; strings owned */
	struct gf_shape *shapes; /* R-tree leaf order */
	struct gf_hot *hot;	 /* the same order */
	uint32_t *shape_of;	 /* zone -> shape */
	struct rt_node *nodes;
	uint32_t nnodes, root, nleaves;
	/* The way in for point queries: a uniform grid over the tree's box whose cells list
	 * the leaves (nodes 0 .. nleaves-1) whose box meets the cell. One lookup instead of
	 * the walk down the upper levels (3 or 4 node visits for 10,000 zones). */
	double lg_x0, lg_y0, lg_ix, lg_iy;
	uint32_t lg_w, lg_h;
	uint32_t *lg_off; /* lg_w * lg_h + 1 */
	uint32_t *lg_leaf;
	struct gf_stats stats;
};

struct gf_pending {
	struct gf_zone z;
	struct gf_shape s;
};

struct gf_builder {
	struct gf_pending *v;
	size_t n, cap;
};

/* ---- small helpers ------------------------------------------------------- */

static char *dup_str(const char *s, int *oom)
{
	char *d;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s) + 1;
	d = malloc(n);
	if (!d) {
		*oom = 1;
		return NULL;
	}
	memcpy(d, s, n);
	return d;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static uint32_t kind_bit(int kind)
{
	return kind >= 0 && kind < 31 ? 1u << kind : 1u << 31;
}

/* Float bounds that never shrink the double box they stand for (one ulp step by the
 * bits when the conversion rounded the wrong way; no libm call on the query path). */
static inline float f_step(float f, int up)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	if (f == 0)
		u = up ? 0x00000001u : 0x80000001u;
	else if ((f > 0) == (up != 0))
		u++;
	else
		u--;
	memcpy(&f, &u, 4);
	return f;
}

static inline float f_down(double d)
{
	float f = (float)d;

	return (double)f > d ? f_step(f, 0) : f;
}

static inline float f_up(double d)
{
	float f = (float)d;

	return (double)f < d ? f_step(f, 1) : f;
}

/* Index of v's cell/band: floor((v - v0) * inv), clamped to [0, n - 1]. Monotone in v,
 * which is what makes the band lists exact (an edge is listed in every band from
 * idx(ymin) to idx(ymax), and ymin <= py <= ymax implies idx(ymin) <= idx(py) <= idx(ymax)). */
static inline uint32_t slot_of(double v, double v0, double inv, uint32_t n)
{
	double f = (v - v0) * inv;
	uint32_t i;

	if (!(f > 0))
		return 0;
	if (f >= (double)n)
		return n - 1;
	i = (uint32_t)f;
	return i < n ? i : n - 1;
}

/* ---- WKB ------------------------------------------------------------------ */

struct wkb_rd {
	const uint8_t *start, *p, *end;
	char *err;
	size_t errlen;
	int failed;
	int shape; /* SH_POLY or SH_DISC, from the top-level type */
	double *xy;
	size_t nv, capv;
	uint32_t *ring; /* first vertex of each ring */
	size_t nr, capr;
	uint32_t *poly; /* first ring of each polygon */
	size_t np, capp;
};

static int wkb_fail(struct wkb_rd *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int wkb_fail(struct wkb_rd *w, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	if (!w->failed) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		set_err(w->err, w->errlen, "%s (at byte %zu of %zu)", what,
			(size_t)(w->p - w->start), (size_t)(w->end - w->start));
	}
	w->failed = 1;
	return -1;
}

static int wkb_need(struct wkb_rd *w, size_t n)
{
	if ((size_t)(w->end - w->p) < n)
		return wkb_fail(w, "truncated WKB");
	return 0;
}

static int host_big_endian(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 0;
}

static uint32_t wkb_u32(struct wkb_rd *w, int be)
{
	uint32_t v;

	memcpy(&v, w->p, 4);
	w->p += 4;
	if (be != host_big_endian())
		v = __builtin_bswap32(v);
	return v;
}

static double wkb_f64(struct wkb_rd *w, int be)
{
	uint64_t u;
	double d;

	memcpy(&u, w->p, 8);
	w->p += 8;
	if (be != host_big_endian())
		u = __builtin_bswap64(u);
	memcpy(&d, &u, 8);
	return d;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

/* Byte order, type and dimensions of a (sub)geometry; skips an EWKB SRID. */
static int wkb_header(struct wkb_rd *w, int *be, uint32_t *type, int *dims)
{
	uint32_t t, base;
	int z = 0, m = 0;

	if (wkb_need(w, 5))
		return -1;
	if (*w->p > 1)
		return wkb_fail(w, "bad byte-order mark %u", *w->p);
	*be = *w->p == 0;
	w->p++;
	t = wkb_u32(w, *be);
	if (t & 0x20000000u) { /* EWKB: an SRID follows */
		if (wkb_need(w, 4))
			return -1;
		w->p += 4;
	}
	z = (t & 0x80000000u) != 0;
	m = (t & 0x40000000u) != 0;
	t &= 0x0fffffffu;
	base = t % 1000;
	switch (t / 1000) { /* ISO: 1000 Z, 2000 M, 3000 ZM */
	case 0:
		break;
	case 1:
		z = 1;
		break;
	case 2:
		m = 1;
		break;
	case 3:
		z = m = 1;
		break;
	default:
		return wkb_fail(w, "unsupported geometry type %u", t);
	}
	*type = base;
	*dims = 2 + z + m;
	return 0;
}

static int wkb_point(struct wkb_rd *w, int be, int dims)
{
	double x, y;

	if (wkb_need(w, 8 * (size_t)dims))
		return -1;
	x = wkb_f64(w, be);
	y = wkb_f64(w, be);
	w->p += 8 * (size_t)(dims - 2);
	if (isnan(x) && isnan(y))
		return 0; /* POINT EMPTY */
	if (!isfinite(x) || !isfinite(y))
		return wkb_fail(w, "non-finite coordinate");
	if (fabs(x) > GF_COORD_MAX || fabs(y) > GF_COORD_MAX)
		return wkb_fail(w, "coordinate out of range (%g %g)", x, y);
	if (w->nv >= UINT32_MAX / 4)
		return wkb_fail(w, "too many points");
	if (grow((void **)&w->xy, &w->capv, 2 * (w->nv + 1), sizeof(double)))
		return wkb_fail(w, "out of memory");
	w->xy[2 * w->nv] = x;
	w->xy[2 * w->nv + 1] = y;
	w->nv++;
	return 0;
}

static int wkb_polygon(struct wkb_rd *w, int be, int dims)
{
	uint32_t nrings, r, n, i;

	if (wkb_need(w, 4))
		return -1;
	nrings = wkb_u32(w, be);
	if (nrings > (size_t)(w->end - w->p) / 4)
		return wkb_fail(w, "ring count %u beyond the end of the WKB", nrings);
	if (nrings == 0)
		return 0; /* POLYGON EMPTY */
	if (grow((void **)&w->poly, &w->capp, w->np + 1, sizeof(uint32_t)))
		return wkb_fail(w, "out of memory");
	w->poly[w->np++] = (uint32_t)w->nr;
	for (r = 0; r < nrings; r++) {
		size_t at;

		if (wkb_need(w, 4))
			return -1;
		n = wkb_u32(w, be);
		if (n > (size_t)(w->end - w->p) / (8 * (size_t)dims))
			return wkb_fail(w, "point count %u beyond the end of the WKB", n);
		if (n < 4)
			return wkb_fail(w, "a ring of %u points (at least 4 needed)", n);
		if (w->nv + n >= UINT32_MAX / 4)
			return wkb_fail(w, "too many points");
		if (grow((void **)&w->ring, &w->capr, w->nr + 1, sizeof(uint32_t)) ||
		    grow((void **)&w->xy, &w->capv, 2 * (w->nv + n), sizeof(double)))
			return wkb_fail(w, "out of memory");
		w->ring[w->nr++] = (uint32_t)w->nv;
		at = w->nv;
		for (i = 0; i < n; i++) {
			double x = wkb_f64(w, be), y = wkb_f64(w, be);

			w->p += 8 * (size_t)(dims - 2);
			if (!isfinite(x) || !isfinite(y))
				return wkb_fail(w, "non-finite coordinate");
			if (fabs(x) > GF_COORD_MAX || fabs(y) > GF_COORD_MAX)
				return wkb_fail(w, "coordinate out of range (%g %g)", x, y);
			w->xy[2 * w->nv] = x;
			w->xy[2 * w->nv + 1] = y;
			w->nv++;
		}
		if (w->xy[2 * at] != w->xy[2 * (w->nv - 1)] ||
		    w->xy[2 * at + 1] != w->xy[2 * (w->nv - 1) + 1])
			return wkb_fail(w, "a ring is not closed");
	}
	return 0;
}

/* One geometry: `want` 0 at the top level, else the member type a Multi* requires. */
static int wkb_geom(struct wkb_rd *w, uint32_t want)
{
	uint32_t type = 0, n, i;
	int be = 0, dims = 2;

	if (wkb_header(w, &be, &type, &dims))
		return -1;
	if (want && type != want)
		return wkb_fail(w, "a member of type %u in a collection of type %u", type,
				want == 1 ? 4u : 6u);
	switch (type) {
	case 1: /* Point */
		if (!want)
			w->shape = SH_DISC;
		return wkb_point(w, be, dims);
	case 3: /* Polygon */
		if (!want)
			w->shape = SH_POLY;
		return wkb_polygon(w, be, dims);
	case 4: /* MultiPoint */
	case 6: /* MultiPolygon */
		if (want)
			return wkb_fail(w, "nested collection");
		w->shape = type == 4 ? SH_DISC : SH_POLY;
		if (wkb_need(w, 4))
			return -1;
		n = wkb_u32(w, be);
		if (n > (size_t)(w->end - w->p) / 9)
			return wkb_fail(w, "member count %u beyond the end of the WKB", n);
		for (i = 0; i < n; i++)
			if (wkb_geom(w, type == 4 ? 1 : 3))
				return -1;
		return 0;
	default:
		return wkb_fail(w, "unsupported geometry type %u (Polygon, MultiPolygon, Point or "
				   "MultiPoint expected)",
				type);
	}
}

static void wkb_rd_free(struct wkb_rd *w)
{
	free(w->xy);
	free(w->ring);
	free(w->poly);
}

/* ---- PostGIS's point-in-polygon, over one band -------------------------- */

/* Winding test of one ring over the band entries [e, end) (all of that ring):
 * -1 outside, 0 on the boundary, 1 inside. This is point_in_ring() of PostGIS
 * (lwgeom_functions_analytic.c) restricted to the edges whose closed y-range holds py,
 * which are the only ones that can change its result. */
static inline int ring_wind(const double *xy, const uint32_t *e, const uint32_t *end, double px,
			    double py)
{
	int wn = 0;

	for (; e < end; e++) {
		const double *a = xy + 2 * (size_t)*e;
		double x1 = a[0], y1 = a[1], x2 = a[2], y2 = a[3];
		double t1, t2, side;

		if (y1 <= y2) {
			if (py < y1 || py > y2)
				continue;
		} else if (py < y2 || py > y1) {
			continue;
		}
		/* determineSide(): ((x2-x1)*(py-y1) - (px-x1)*(y2-y1)), unfused */
		t1 = (x2 - x1) * (py - y1);
		t2 = (px - x1) * (y2 - y1);
		GF_NOFUSE(t1);
		GF_NOFUSE(t2);
		side = t1 - t2;
		if (side == 0.0) {
			/* isOnSegment(): py is already within the y-range */
			if (x1 <= x2 ? (px >= x1 && px <= x2) : (px >= x2 && px <= x1))
				return 0;
		}
		if (y1 <= py && py < y2 && side > 0)
			wn++;
		else if (y2 <= py && py < y1 && side < 0)
			wn--;
	}
	return wn ? 1 : -1;
}

/* The ring holding vertex v (binary search from ring `r` on). */
static inline uint32_t ring_of(const struct gf_shape *s, uint32_t r, uint32_t v)
{
	uint32_t lo = r, hi = s->nr - 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo + 1) / 2;

		if (s->ring_start[mid] <= v)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* PostGIS point_in_multipolygon() on the band holding py: -1 outside, 0 boundary,
 * 1 inside. Requires miny <= py <= maxy. A ring with no edge in the band is "outside"
 * (winding 0, no boundary): an exterior ring without edges here skips its polygon, a
 * hole without edges changes nothing; the others are visited in ring order, as PostGIS
 * visits them, so that even invalid inputs (overlapping holes) get its answer. */
static int poly_pip(const struct gf_shape *s, double px, double py)
{
	uint32_t b = slot_of(py, s->by0, s->biy, s->nb);
	const uint32_t *e = s->band_edge + s->band_off[b];
	const uint32_t *end = s->band_edge + s->band_off[b + 1];
	uint32_t r = 0;

	if (s->nr == 1)
		return ring_wind(s->xy, e, end, px, py);
	while (e < end) {
		uint32_t p, vend_poly, rend;
		const uint32_t *re;
		int in, res;

		r = ring_of(s, r, *e);
		p = s->ring_poly[r];
		vend_poly = s->ring_start[s->poly_ring[p + 1]];
		if (r != s->poly_ring[p]) { /* the exterior has no edge here: outside */
			while (e < end && *e < vend_poly)
				e++;
			continue;
		}
		rend = s->ring_start[r + 1];
		for (re = e; re < end && *re < rend; re++)
			;
		in = ring_wind(s->xy, e, re, px, py);
		e = re;
		if (in == 0)
			return 0;
		res = in;
		while (res == 1 && e < end && *e < vend_poly) { /* the holes, in order */
			r = ring_of(s, r, *e);
			rend = s->ring_start[r + 1];
			for (re = e; re < end && *re < rend; re++)
				;
			in = ring_wind(s->xy, e, re, px, py);
			e = re;
			if (in == 1)
				res = -1;
			else if (in == 0)
				return 0;
		}
		if (res == 1)
			return 1;
		while (e < end && *e < vend_poly)
			e++;
	}
	return -1;
}

/* The coarse cell's state: CELL_IN, CELL_OUT, or CELL_EDGE (ask the grid). */
static inline int coarse_cell(const struct gf_hot *h, double px, double py)
{
	uint32_t cc = slot_of(py, h->miny, h->ciy, h->ch) * h->cw + slot_of(px, h->minx, h->cix, h->cw);

	return (h->coarse[cc >> 2] >> ((cc & 3) * 2)) & 3;
}

static inline int fine_cell(const struct gf_hot *h, double px, double py)
{
	size_t c = (size_t)slot_of(py, h->miny, h->giy, h->gh) * h->gw + slot_of(px, h->minx, h->gix, h->gw);

	return (h->grid[c >> 2] >> ((c & 3) * 2)) & 3;
}

static inline int grid_cell(const struct gf_hot *h, double px, double py)
{
	int v = coarse_cell(h, px, py);

	return v != CELL_EDGE ? v : fine_cell(h, px, py);
}

/* Polygon zone: -1 outside, 0 boundary, 1 inside (PostGIS semantics). The cold record s
 * is read only for points in a boundary cell. */
static inline int poly_test(const struct gf_hot *h, const struct gf_shape *s, double px, double py)
{
	int c;

	if (px < h->minx || px > h->maxx || py < h->miny || py > h->maxy)
		return -1;
	c = grid_cell(h, px, py);
	if (c == CELL_IN)
		return 1;
	if (c == CELL_OUT)
		return -1;
	return poly_pip(s, px, py);
}

/* ---- distances ------------------------------------------------------------ */

/* Squared distance from the origin to segment a-b (local metres). */
static inline double seg_dist2(double ax, double ay, double bx, double by)
{
	double vx = bx - ax, vy = by - ay;
	double t = -(ax * vx + ay * vy);
	double l2 = vx * vx + vy * vy;
	double c;

	if (t <= 0 || l2 == 0)
		return ax * ax + ay * ay;
	if (t >= l2)
		return bx * bx + by * by;
	c = ax * vy - ay * vx;
	return c * c / l2;
}

/* Lower bound of the squared distance (local metres) from the point to a box. */
static inline double box_lb2(const float *b, double px, double py, double kx, double ky)
{
	double dx = px < b[0] ? b[0] - px : (px > b[2] ? px - b[2] : 0);
	double dy = py < b[1] ? b[1] - py : (py > b[3] ? py - b[3] : 0);

	dx *= kx;
	dy *= ky;
	return dx * dx + dy * dy;
}

/* The edges of group g (CH_G chunks of CH_E edges) into *best2, skipping chunks whose box
 * is farther than min(*best2, lim2). */
static void group_nearest(const struct gf_shape *s, uint32_t g, double px, double py, double kx,
			  double ky, double *best2, double lim2)
{
	uint32_t c = g * CH_G, c1 = c + CH_G < s->nchunk ? c + CH_G : s->nchunk;

	for (; c < c1; c++) {
		uint32_t e = c * CH_E, e1 = e + CH_E < s->ne ? e + CH_E : s->ne;

		if (box_lb2(s->cbox + 4 * (size_t)c, px, py, kx, ky) > (*best2 < lim2 ? *best2 : lim2))
			continue;
		for (; e < e1; e++) {
			const double *a = s->xy + 2 * (size_t)s->edges[e];
			double d2 = seg_dist2((a[0] - px) * kx, (a[1] - py) * ky, (a[2] - px) * kx,
					      (a[3] - py) * ky);

			if (d2 < *best2)
				*best2 = d2;
		}
	}
}

/* Distance in metres from the point to the nearest edge of a polygon zone (any ring), or
 * INFINITY when none is within cutoff. Edges are taken in runs of consecutive ones (tight
 * boxes, since consecutive edges are neighbours): the group nearest by its box first, for a
 * good bound, then every other group whose box is nearer than the best so far. */
static double poly_nearest(const struct gf_shape *s, double px, double py, double kx, double ky,
			   double cutoff)
{
	double best2 = INFINITY, lim2 = cutoff * cutoff * (1 + 1e-9) + 1e-18, lbmin = INFINITY;
	uint32_t g, gmin = 0;

	for (g = 0; g < s->ngroup; g++) {
		double lb = box_lb2(s->gbox + 4 * (size_t)g, px, py, kx, ky);

		if (lb < lbmin) {
			lbmin = lb;
			gmin = g;
		}
	}
	if (!(lbmin <= lim2))
		return INFINITY;
	group_nearest(s, gmin, px, py, kx, ky, &best2, lim2);
	for (g = 0; g < s->ngroup; g++)
		if (g != gmin &&
		    box_lb2(s->gbox + 4 * (size_t)g, px, py, kx, ky) <= (best2 < lim2 ? best2 : lim2))
			group_nearest(s, g, px, py, kx, ky, &best2, lim2);
	return sqrt(best2);
}

/* Disc zone: the largest (radius - distance to a centre), in metres. */
static double disc_dist(const struct gf_shape *s, double px, double py, double kx, double ky)
{
	double best = -INFINITY;
	uint32_t i;

	for (i = 0; i < s->nv; i++) {
		double dx = (s->xy[2 * i] - px) * kx, dy = (s->xy[2 * i + 1] - py) * ky;
		double d = s->radius_m - sqrt(dx * dx + dy * dy);

		if (d > best)
			best = d;
	}
	return best;
}

static inline double kx_at(double lat)
{
	double k = cos(lat * GF_DEG) * (GF_R_EARTH * GF_DEG);

	return k > 0 ? k : 0;
}

/* Inside and signed distance of one zone; returns 1 if it is a hit for `reach`. */
static int shape_eval(const struct gf_hot *hh, const struct gf_shape *s, double px, double py,
		      double reach, double kx, double ky, uint8_t *inside, double *dist)
{
	double d;
	int t;

	if (s->type == SH_DISC) {
		d = disc_dist(s, px, py, kx, ky);
		*inside = d >= 0;
		*dist = d;
		return d >= -reach;
	}
	t = poly_test(hh, s, px, py);
	if (t >= 0) {
		*inside = 1;
		*dist = t == 0 ? 0.0 : poly_nearest(s, px, py, kx, ky, INFINITY);
		return 1;
	}
	if (!(reach > 0))
		return 0;
	d = poly_nearest(s, px, py, kx, ky, reach);
	if (!(d <= reach))
		return 0;
	*inside = 0;
	*dist = -d;
	return 1;
}

/* ---- building one zone ------------------------------------------------------ */

static void shape_free(struct gf_shape *s)
{
	free(s->mem);
	s->mem = NULL;
}

static inline int edge_ok(const double *xy, uint32_t i)
{
	return xy[2 * i] != xy[2 * i + 2] || xy[2 * i + 1] != xy[2 * i + 3];
}

static void grid_set(uint8_t *g, size_t c, int v)
{
	g[c >> 2] = (uint8_t)((g[c >> 2] & ~(3u << ((c & 3) * 2))) | ((unsigned)v << ((c & 3) * 2)));
}

/* Marks the cells that an edge could make ambiguous: every cell whose box, grown by
 * (mx, my), meets the part of the edge inside the cell's grown row. A cell left unmarked
 * is then at least mx away (horizontally) from every edge that spans a height inside it,
 * so for any point p mapped to it PostGIS's side test of such an edge has the exact sign
 * and is not 0: the exact value is at least gap * |dy| (gap: the horizontal distance from
 * p to the edge at height py, >= mx), while the rounding error of
 * (x2-x1)*(py-y1) - (px-x1)*(y2-y1) is below 5 eps (|dx| |py-y1| + |px-x1| |dy|)
 * <= 5 eps |dy| (|dx| + |px-x1|) <= 5 eps |dy| (2 W + 2 mx), since |py-y1| <= |dy| and
 * both p and the edge lie in the zone's box (width W). And mx >= 0.01 W / 4096 is some
 * 10^10 times 10 eps W. Edges whose y-range misses the cell take no part in the test.
 * The 1% margins also cover the rounding of the cell index computed from a point. */
static void grid_mark_edge(const struct gf_shape *s, uint8_t *mark, double x1, double y1, double x2,
			   double y2, double ch, double mx, double my)
{
	double eymin = y1 < y2 ? y1 : y2, eymax = y1 < y2 ? y2 : y1;
	double exmin = x1 < x2 ? x1 : x2, exmax = x1 < x2 ? x2 : x1;
	double jl = ceil((eymin - my - s->gy0) * s->giy) - 1, jh = floor((eymax + my - s->gy0) * s->giy);
	long j, jlo, jhi;

	if (s->giy == 0)
		jl = jh = 0;
	jlo = jl < 0 ? 0 : (long)jl;
	jhi = jh > s->gh - 1 ? s->gh - 1 : (long)jh;
	for (j = jlo; j <= jhi; j++) {
		double rlo = s->gy0 + (double)j * ch - my, rhi = s->gy0 + (double)(j + 1) * ch + my;
		double ya = eymin > rlo ? eymin : rlo, yb = eymax < rhi ? eymax : rhi;
		double xa, xb, xlo, xhi, il, ih;
		long i, ilo, ihi;

		if (ya > yb)
			continue;
		if (y1 == y2) {
			xa = exmin;
			xb = exmax;
		} else {
			double ta = (ya - y1) / (y2 - y1), tb = (yb - y1) / (y2 - y1);

			ta = ta < 0 ? 0 : (ta > 1 ? 1 : ta);
			tb = tb < 0 ? 0 : (tb > 1 ? 1 : tb);
			xa = x1 + (x2 - x1) * ta;
			xb = x1 + (x2 - x1) * tb;
		}
		xlo = xa < xb ? xa : xb;
		xhi = xa < xb ? xb : xa;
		if (s->gix == 0) {
			il = ih = 0;
		} else {
			il = ceil((xlo - mx - s->gx0) * s->gix) - 1;
			ih = floor((xhi + mx - s->gx0) * s->gix);
		}
		ilo = il < 0 ? 0 : (long)il;
		ihi = ih > s->gw - 1 ? s->gw - 1 : (long)ih;
		for (i = ilo; i <= ihi; i++)
			mark[(size_t)j * s->gw + (size_t)i] = 1;
	}
}

static int shape_build_poly(struct gf_shape *s, const struct wkb_rd *w, char *err, size_t errlen)
{
	uint32_t nv = (uint32_t)w->nv, nr = (uint32_t)w->nr, np = (uint32_t)w->np;
	uint32_t r, i, b, ne = 0;
	double W, H, sum_dy = 0, cw, ch, mx, my;
	size_t nbe = 0, ncell, off, gridbytes;
	uint32_t *cnt = NULL, *ring_start, *ring_poly, *poly_ring, *band_off, *band_edge, *edges;
	float *cbox, *gbox;
	uint8_t *mark = NULL, *grid, *mem;
	double *xy;
	uint32_t gw, gh, nb;

	if (!nr) {
		set_err(err, errlen, "empty geometry");
		return -1;
	}
	s->type = SH_POLY;
	s->minx = s->miny = INFINITY;
	s->maxx = s->maxy = -INFINITY;
	for (i = 0; i < nv; i++) {
		double x = w->xy[2 * i], y = w->xy[2 * i + 1];

		s->minx = x < s->minx ? x : s->minx;
		s->maxx = x > s->maxx ? x : s->maxx;
		s->miny = y < s->miny ? y : s->miny;
		s->maxy = y > s->maxy ? y : s->maxy;
	}
	for (r = 0; r < nr; r++) {
		uint32_t end = r + 1 < nr ? w->ring[r + 1] : nv;

		for (i = w->ring[r]; i + 1 < end; i++)
			if (edge_ok(w->xy, i)) {
				ne++;
				sum_dy += fabs(w->xy[2 * i + 3] - w->xy[2 * i + 1]);
			}
	}
	W = s->maxx - s->minx;
	H = s->maxy - s->miny;

	/* Bands: about ne/2 of them, fewer if the edges are tall, so that the lists hold
	 * about 3 ne entries in all (an edge is listed once per band it spans). */
	{
		double nbd = ne / 2.0;

		if (sum_dy > 0 && H > 0 && 3.0 * ne * H / sum_dy < nbd)
			nbd = 3.0 * ne * H / sum_dy;
		nb = nbd < 1 ? 1 : (nbd > BAND_MAX ? BAND_MAX : (uint32_t)nbd);
		if (!(H > 0))
			nb = 1;
	}
	s->nb = nb;
	s->by0 = s->miny;
	s->biy = H > 0 ? nb / H : 0;

	/* Grid: about GRID_CELLS_PER_EDGE cells an edge, shaped like the box. */
	{
		double target = (double)ne * GRID_CELLS_PER_EDGE;

		target = target < 16 ? 16 : (target > GRID_MAX_CELLS ? GRID_MAX_CELLS : target);
		if (W > 0 && H > 0) {
			double a = sqrt(target * (W / H));

			a = a < 1 ? 1 : (a > GRID_MAX_SIDE ? GRID_MAX_SIDE : a);
			gw = (uint32_t)lround(a);
			a = target / gw;
			a = a < 1 ? 1 : (a > GRID_MAX_SIDE ? GRID_MAX_SIDE : a);
			gh = (uint32_t)lround(a);
		} else if (W > 0) {
			gw = (uint32_t)(target > GRID_MAX_SIDE ? GRID_MAX_SIDE : target);
			gh = 1;
		} else if (H > 0) {
			gw = 1;
			gh = (uint32_t)(target > GRID_MAX_SIDE ? GRID_MAX_SIDE : target);
		} else {
			gw = gh = 1;
		}
	}
	s->gw = (uint16_t)gw;
	s->gh = (uint16_t)gh;
	s->gx0 = s->minx;
	s->gy0 = s->miny;
	s->gix = W > 0 ? gw / W : 0;
	s->giy = H > 0 ? gh / H : 0;
	ncell = (size_t)gw * gh;
	gridbytes = (ncell + 3) / 4;

	/* Count band entries. */
	cnt = calloc((size_t)nb + 1, sizeof(uint32_t));
	if (!cnt)
		goto oom;
	for (r = 0; r < nr; r++) {
		uint32_t end = r + 1 < nr ? w->ring[r + 1] : nv;

		for (i = w->ring[r]; i + 1 < end; i++) {
			double y1 = w->xy[2 * i + 1], y2 = w->xy[2 * i + 3];
			uint32_t b0, b1;

			if (!edge_ok(w->xy, i))
				continue;
			b0 = slot_of(y1 < y2 ? y1 : y2, s->by0, s->biy, nb);
			b1 = slot_of(y1 < y2 ? y2 : y1, s->by0, s->biy, nb);
			for (b = b0; b <= b1; b++)
				cnt[b]++;
			nbe += b1 - b0 + 1;
		}
	}
	if (nbe >= UINT32_MAX) {
		set_err(err, errlen, "zone too large for the edge index");
		free(cnt);
		return -1;
	}

	/* One block: xy, band_off, band_edge, ring_start, ring_poly, poly_ring, edges, chunk
	 * and group boxes, grid. */
	s->nchunk = (ne + CH_E - 1) / CH_E;
	s->ngroup = (s->nchunk + CH_G - 1) / CH_G;
	off = 0;
	{
		size_t o_xy = off;
		size_t o_boff = (off += sizeof(double) * 2 * (size_t)nv);
		size_t o_bedge = (off += sizeof(uint32_t) * ((size_t)nb + 1));
		size_t o_rs = (off += sizeof(uint32_t) * nbe);
		size_t o_rp = (off += sizeof(uint32_t) * ((size_t)nr + 1));
		size_t o_pr = (off += sizeof(uint32_t) * nr);
		size_t o_edges = (off += sizeof(uint32_t) * ((size_t)np + 1));
		size_t o_cbox = (off += sizeof(uint32_t) * (size_t)ne);
		size_t o_gbox = (off += sizeof(float) * 4 * (size_t)s->nchunk);
		size_t o_grid = (off += sizeof(float) * 4 * (size_t)s->ngroup);

		off += gridbytes;
		mem = malloc(off);
		if (!mem)
			goto oom;
		xy = (double *)(void *)(mem + o_xy);
		band_off = (uint32_t *)(void *)(mem + o_boff);
		band_edge = (uint32_t *)(void *)(mem + o_bedge);
		ring_start = (uint32_t *)(void *)(mem + o_rs);
		ring_poly = (uint32_t *)(void *)(mem + o_rp);
		poly_ring = (uint32_t *)(void *)(mem + o_pr);
		edges = (uint32_t *)(void *)(mem + o_edges);
		cbox = (float *)(void *)(mem + o_cbox);
		gbox = (float *)(void *)(mem + o_gbox);
		grid = mem + o_grid;
	}
	s->mem = mem;
	s->bytes = off;
	memcpy(xy, w->xy, sizeof(double) * 2 * (size_t)nv);
	memcpy(ring_start, w->ring, sizeof(uint32_t) * nr);
	ring_start[nr] = nv;
	memcpy(poly_ring, w->poly, sizeof(uint32_t) * np);
	poly_ring[np] = nr;
	for (i = 0; i < np; i++)
		for (r = poly_ring[i]; r < poly_ring[i + 1]; r++)
			ring_poly[r] = i;
	s->xy = xy;
	s->ring_start = ring_start;
	s->ring_poly = ring_poly;
	s->poly_ring = poly_ring;
	s->band_off = band_off;
	s->band_edge = band_edge;
	s->grid = grid;
	s->nv = nv;
	s->nr = nr;
	s->np = np;
	s->ne = ne;
	s->band_entries = nbe;
	s->edges = edges;
	s->cbox = cbox;
	s->gbox = gbox;

	/* The edge list and its boxes, for distances. */
	{
		uint32_t k = 0, c, g;

		for (r = 0; r < nr; r++)
			for (i = ring_start[r]; i + 1 < ring_start[r + 1]; i++)
				if (edge_ok(xy, i))
					edges[k++] = i;
		for (c = 0; c < s->nchunk; c++) {
			float *cb = cbox + 4 * (size_t)c;

			cb[0] = cb[1] = INFINITY;
			cb[2] = cb[3] = -INFINITY;
			for (k = c * CH_E; k < ne && k < (c + 1) * CH_E; k++) {
				const double *a = xy + 2 * (size_t)edges[k];

				cb[0] = fminf(cb[0], f_down(fmin(a[0], a[2])));
				cb[1] = fminf(cb[1], f_down(fmin(a[1], a[3])));
				cb[2] = fmaxf(cb[2], f_up(fmax(a[0], a[2])));
				cb[3] = fmaxf(cb[3], f_up(fmax(a[1], a[3])));
			}
		}
		for (g = 0; g < s->ngroup; g++) {
			float *gb = gbox + 4 * (size_t)g;

			gb[0] = gb[1] = INFINITY;
			gb[2] = gb[3] = -INFINITY;
			for (c = g * CH_G; c < s->nchunk && c < (g + 1) * CH_G; c++) {
				gb[0] = fminf(gb[0], cbox[4 * c]);
				gb[1] = fminf(gb[1], cbox[4 * c + 1]);
				gb[2] = fmaxf(gb[2], cbox[4 * c + 2]);
				gb[3] = fmaxf(gb[3], cbox[4 * c + 3]);
			}
		}
	}

	/* Fill the bands: edges in ascending vertex order, hence ring order. */
	band_off[0] = 0;
	for (b = 0; b < nb; b++)
		band_off[b + 1] = band_off[b] + cnt[b];
	memcpy(cnt, band_off, sizeof(uint32_t) * nb);
	for (r = 0; r < nr; r++) {
		for (i = ring_start[r]; i + 1 < ring_start[r + 1]; i++) {
			double y1 = xy[2 * i + 1], y2 = xy[2 * i + 3];
			uint32_t b0, b1;

			if (!edge_ok(xy, i))
				continue;
			b0 = slot_of(y1 < y2 ? y1 : y2, s->by0, s->biy, nb);
			b1 = slot_of(y1 < y2 ? y2 : y1, s->by0, s->biy, nb);
			for (b = b0; b <= b1; b++)
				band_edge[cnt[b]++] = i;
		}
	}
	free(cnt);
	cnt = NULL;

	/* Grid: mark the cells near an edge, then classify each run of unmarked cells of a
	 * row by one PostGIS test at a cell centre (a run is connected and meets no edge, so
	 * the whole run has that answer; see grid_mark_edge for why rounding cannot change
	 * it anywhere in the run). The margins (1% of a cell) also cover the rounding of the
	 * cell index computed from a query point. */
	mark = calloc(ncell, 1);
	if (!mark)
		goto oom;
	cw = W / gw;
	ch = H / gh;
	mx = 0.01 * cw + 1e-11;
	my = 0.01 * ch + 1e-11;
	for (r = 0; r < nr; r++)
		for (i = ring_start[r]; i + 1 < ring_start[r + 1]; i++)
			if (edge_ok(xy, i))
				grid_mark_edge(s, mark, xy[2 * i], xy[2 * i + 1], xy[2 * i + 2],
					       xy[2 * i + 3], ch, mx, my);
	memset(grid, 0, gridbytes);
	s->edge_cells = 0;
	for (uint32_t j = 0; j < gh; j++) {
		int run = -1;
		double cy = s->gy0 + (j + 0.5) * ch;

		if (cy > s->maxy)
			cy = s->maxy;
		for (i = 0; i < gw; i++) {
			size_t c = (size_t)j * gw + i;

			if (mark[c]) {
				grid_set(grid, c, CELL_EDGE);
				s->edge_cells++;
				run = -1;
				continue;
			}
			if (run < 0) {
				double cx = s->gx0 + (i + 0.5) * cw;

				if (cx > s->maxx)
					cx = s->maxx;
				run = poly_pip(s, cx, cy);
				/* cannot be 0 (no edge meets the cell); be safe anyway */
				run = run > 0 ? CELL_IN : (run < 0 ? CELL_OUT : CELL_EDGE);
			}
			grid_set(grid, c, run);
			if (run == CELL_EDGE)
				s->edge_cells++;
		}
	}
	free(mark);
	return 0;
oom:
	free(cnt);
	free(mark);
	shape_free(s);
	set_err(err, errlen, "out of memory");
	return -1;
}

static int shape_build_disc(struct gf_shape *s, const struct wkb_rd *w, double radius_m, char *err,
			    size_t errlen)
{
	double ky = GF_R_EARTH * GF_DEG, dlat = radius_m / ky;
	double *xy;
	uint32_t i;

	if (!w->nv) {
		set_err(err, errlen, "empty geometry");
		return -1;
	}
	if (!(radius_m > 0) || !isfinite(radius_m)) {
		set_err(err, errlen, "a point zone needs point_radius_m > 0 (got %g)", radius_m);
		return -1;
	}
	xy = malloc(sizeof(double) * 2 * w->nv);
	if (!xy) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	memcpy(xy, w->xy, sizeof(double) * 2 * w->nv);
	s->type = SH_DISC;
	s->mem = xy;
	s->xy = xy;
	s->nv = (uint32_t)w->nv;
	s->radius_m = radius_m;
	s->bytes = sizeof(double) * 2 * w->nv;
	s->minx = s->miny = INFINITY;
	s->maxx = s->maxy = -INFINITY;
	for (i = 0; i < s->nv; i++) {
		double x = xy[2 * i], y = xy[2 * i + 1];
		/* the query frame uses cos(query latitude): bound it over the disc's rows */
		double far = fabs(y) + dlat, c = far >= 90 ? 0 : cos(far * GF_DEG);
		double dlon = c > 0 ? radius_m / (c * ky) : 360;

		dlon = dlon * (1 + 1e-9) + 1e-12;
		if (x - dlon < s->minx)
			s->minx = x - dlon;
		if (x + dlon > s->maxx)
			s->maxx = x + dlon;
		if (y - dlat * (1 + 1e-9) - 1e-12 < s->miny)
			s->miny = y - dlat * (1 + 1e-9) - 1e-12;
		if (y + dlat * (1 + 1e-9) + 1e-12 > s->maxy)
			s->maxy = y + dlat * (1 + 1e-9) + 1e-12;
	}
	return 0;
}

/* ---- builder -------------------------------------------------------------- */

struct gf_builder *gf_builder_new(void)
{
	return calloc(1, sizeof(struct gf_builder));
}

static void zone_strings_free(struct gf_zone *z)
{
	free((char *)z->layer);
	free((char *)z->code);
	free((char *)z->name);
}

void gf_builder_free(struct gf_builder *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++) {
		zone_strings_free(&b->v[i].z);
		shape_free(&b->v[i].s);
	}
	free(b->v);
	free(b);
}

int gf_builder_add(struct gf_builder *b, const struct gf_zone *z, const uint8_t *wkb,
		   size_t wkb_len, double point_radius_m, char *err, size_t errlen)
{
	struct wkb_rd w;
	struct gf_pending *p;
	int rc, oom = 0;

	if (!b || !z) {
		set_err(err, errlen, "no builder or no zone");
		return -1;
	}
	if (z->kind < GF_MINING || z->kind >= GF_KIND_MAX) {
		set_err(err, errlen, "bad zone kind %d", (int)z->kind);
		return -1;
	}
	if (!wkb || !wkb_len) {
		set_err(err, errlen, "no WKB");
		return -1;
	}
	if (b->n >= UINT32_MAX - 1) {
		set_err(err, errlen, "too many zones");
		return -1;
	}
	if (grow((void **)&b->v, &b->cap, b->n + 1, sizeof(*b->v))) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.start = w.p = wkb;
	w.end = wkb + wkb_len;
	w.err = err;
	w.errlen = errlen;
	rc = wkb_geom(&w, 0);
	if (!rc && w.p != w.end)
		rc = wkb_fail(&w, "%zu trailing bytes after the geometry", (size_t)(w.end - w.p));
	p = &b->v[b->n];
	memset(p, 0, sizeof(*p));
	if (!rc)
		rc = w.shape == SH_DISC ? shape_build_disc(&p->s, &w, point_radius_m, err, errlen)
					: shape_build_poly(&p->s, &w, err, errlen);
	wkb_rd_free(&w);
	if (rc)
		return -1;
	p->z = *z;
	p->z.layer = dup_str(z->layer, &oom);
	p->z.code = dup_str(z->code, &oom);
	p->z.name = dup_str(z->name, &oom);
	if (oom) {
		zone_strings_free(&p->z);
		shape_free(&p->s);
		set_err(err, errlen, "out of memory");
		return -1;
	}
	p->z.minx = p->s.minx;
	p->z.miny = p->s.miny;
	p->z.maxx = p->s.maxx;
	p->z.maxy = p->s.maxy;
	p->s.zone = (uint32_t)b->n;
	b->n++;
	return 0;
}

/* ---- R-tree (sort-tile-recursive packing) -------------------------------- */

struct str_item {
	double cx, cy;
	uint32_t i;
};

static int cmp_cx(const void *a, const void *b)
{
	const struct str_item *p = a, *q = b;

	return p->cx < q->cx ? -1 : p->cx > q->cx ? 1 : (p->i > q->i) - (p->i < q->i);
}

static int cmp_cy(const void *a, const void *b)
{
	const struct str_item *p = a, *q = b;

	return p->cy < q->cy ? -1 : p->cy > q->cy ? 1 : (p->i > q->i) - (p->i < q->i);
}

/* Orders n items so that consecutive runs of RT_M make good nodes: vertical slices of
 * about sqrt(n / RT_M) nodes each by x, then by y within a slice. */
static void str_order(struct str_item *it, size_t n)
{
	size_t nodes = (n + RT_M - 1) / RT_M;
	size_t slices = (size_t)ceil(sqrt((double)nodes));
	size_t per = (slices ? (nodes + slices - 1) / slices : 1) * RT_M;
	size_t s;

	qsort(it, n, sizeof(*it), cmp_cx);
	for (s = 0; s < n; s += per)
		qsort(it + s, n - s < per ? n - s : per, sizeof(*it), cmp_cy);
}

static void node_init(struct rt_node *nd, int leaf)
{
	int k;

	memset(nd, 0, sizeof(*nd));
	for (k = 0; k < RT_M; k++) {
		nd->minx[k] = nd->miny[k] = INFINITY;
		nd->maxx[k] = nd->maxy[k] = -INFINITY;
	}
	nd->leaf = (uint32_t)leaf;
}

static void node_box(const struct rt_node *nd, float *b, uint32_t *kinds)
{
	uint32_t k;

	b[0] = b[1] = INFINITY;
	b[2] = b[3] = -INFINITY;
	*kinds = 0;
	for (k = 0; k < nd->n; k++) {
		b[0] = nd->minx[k] < b[0] ? nd->minx[k] : b[0];
		b[1] = nd->miny[k] < b[1] ? nd->miny[k] : b[1];
		b[2] = nd->maxx[k] > b[2] ? nd->maxx[k] : b[2];
		b[3] = nd->maxy[k] > b[3] ? nd->maxy[k] : b[3];
		*kinds |= nd->kinds[k];
	}
}

/* Grid cells [*lo, *hi] (of n over the box) that meet coarse cell k (of cn), with a margin
 * of a thousandth of a grid cell: more than the rounding of the coarse mapping of a point
 * (a float scale: relative 6e-8, times at most 4096 grid cells, is 2.5e-4 cells). */
static void coarse_span(uint32_t k, uint32_t cn, uint32_t n, uint32_t *lo, uint32_t *hi)
{
	double a = (double)k * n / cn - 1e-3, b = (double)(k + 1) * n / cn + 1e-3;

	*lo = a <= 0 ? 0 : (uint32_t)a;
	*hi = b >= n ? n - 1 : (uint32_t)b;
}

/* The hot record of a shape, with the coarse grid derived from the grid: a grid cell's
 * state holds for every point of its box grown by 1% (see grid_mark_edge), so a coarse
 * cell whose grid cells (with coarse_span's margin) all agree has their state everywhere
 * a point can be mapped to it. */
static void hot_fill(struct gf_hot *h, const struct gf_shape *s)
{
	uint32_t ci, cj, i, j, i0, i1, j0, j1;
	double W = s->maxx - s->minx, H = s->maxy - s->miny;

	memset(h, 0, sizeof(*h));
	h->minx = s->minx;
	h->miny = s->miny;
	h->maxx = s->maxx;
	h->maxy = s->maxy;
	h->gix = s->gix;
	h->giy = s->giy;
	h->grid = s->grid;
	h->gw = s->gw;
	h->gh = s->gh;
	h->type = s->type;
	if (s->type != SH_POLY)
		return;
	h->cw = (uint8_t)(s->gw < 16 ? s->gw : 16);
	h->ch = (uint8_t)(s->gh < 14 ? s->gh : 14);
	h->cix = W > 0 ? (float)(h->cw / W) : 0;
	h->ciy = H > 0 ? (float)(h->ch / H) : 0;
	for (cj = 0; cj < h->ch; cj++) {
		coarse_span(cj, h->ch, s->gh, &j0, &j1);
		for (ci = 0; ci < h->cw; ci++) {
			uint32_t cc = cj * h->cw + ci;
			int cur = -1;

			coarse_span(ci, h->cw, s->gw, &i0, &i1);
			for (j = j0; j <= j1 && cur != CELL_EDGE; j++)
				for (i = i0; i <= i1; i++) {
					size_t c = (size_t)j * s->gw + i;
					int v = (s->grid[c >> 2] >> ((c & 3) * 2)) & 3;

					if (cur < 0)
						cur = v;
					else if (cur != v)
						cur = CELL_EDGE;
				}
			h->coarse[cc >> 2] |= (uint8_t)((unsigned)cur << ((cc & 3) * 2));
		}
	}
}

static int rtree_build(struct gf_index *ix, struct gf_pending *pend, size_t n)
{
	struct str_item *it = NULL;
	size_t cap, i, level_start, level_n;
	int rc = -1;

	it = malloc(sizeof(*it) * (n ? n : 1));
	/* a tree of fanout 16 has fewer than n/15 + depth nodes */
	cap = n / (RT_M - 1) + 64;
	ix->nodes = malloc(sizeof(struct rt_node) * cap);
	if (!it || !ix->nodes)
		goto out;
	for (i = 0; i < n; i++) {
		const struct gf_shape *s = &pend[i].s;

		it[i].cx = 0.5 * (s->minx + s->maxx);
		it[i].cy = 0.5 * (s->miny + s->maxy);
		it[i].i = (uint32_t)i;
	}
	str_order(it, n);
	for (i = 0; i < n; i++) {
		const struct gf_shape *s = &pend[it[i].i].s;
		struct gf_hot *h = &ix->hot[i];

		ix->shapes[i] = *s;
		ix->shape_of[it[i].i] = (uint32_t)i;
		hot_fill(h, s);
	}
	/* leaves */
	ix->nnodes = 0;
	for (i = 0; i < n; i += RT_M) {
		struct rt_node *nd = &ix->nodes[ix->nnodes++];
		size_t k;

		node_init(nd, 1);
		for (k = 0; k < RT_M && i + k < n; k++) {
			const struct gf_shape *s = &ix->shapes[i + k];

			nd->minx[k] = f_down(s->minx);
			nd->miny[k] = f_down(s->miny);
			nd->maxx[k] = f_up(s->maxx);
			nd->maxy[k] = f_up(s->maxy);
			nd->child[k] = (uint32_t)(i + k);
			nd->kinds[k] = kind_bit(ix->zones[s->zone].kind);
			nd->n++;
		}
	}
	ix->nleaves = ix->nnodes;
	level_start = 0;
	level_n = ix->nnodes;
	while (level_n > 1) {
		size_t next_start = ix->nnodes;

		for (i = 0; i < level_n; i++) {
			float b[4];
			uint32_t kinds;

			node_box(&ix->nodes[level_start + i], b, &kinds);
			it[i].cx = 0.5 * ((double)b[0] + b[2]);
			it[i].cy = 0.5 * ((double)b[1] + b[3]);
			it[i].i = (uint32_t)(level_start + i);
		}
		str_order(it, level_n);
		for (i = 0; i < level_n; i += RT_M) {
			struct rt_node *nd;
			size_t k;

			if (ix->nnodes >= cap)
				goto out; /* cannot happen: cap bounds every level */
			nd = &ix->nodes[ix->nnodes++];
			node_init(nd, 0);
			for (k = 0; k < RT_M && i + k < level_n; k++) {
				float b[4];
				uint32_t kinds;

				node_box(&ix->nodes[it[i + k].i], b, &kinds);
				nd->minx[k] = b[0];
				nd->miny[k] = b[1];
				nd->maxx[k] = b[2];
				nd->maxy[k] = b[3];
				nd->kinds[k] = kinds;
				nd->child[k] = it[i + k].i;
				nd->n++;
			}
		}
		level_start = next_start;
		level_n = ix->nnodes - next_start;
	}
	ix->root = ix->nnodes ? ix->nnodes - 1 : 0;
	rc = 0;
out:
	free(it);
	return rc;
}

/* Leaf cells of one leaf's box, by the same monotone mapping a query point goes through:
 * a point inside the box maps into [*i0, *i1] x [*j0, *j1]. */
static void leaf_cells(const struct gf_index *ix, const float *b, uint32_t *i0, uint32_t *i1,
		       uint32_t *j0, uint32_t *j1)
{
	*i0 = slot_of(b[0], ix->lg_x0, ix->lg_ix, ix->lg_w);
	*i1 = slot_of(b[2], ix->lg_x0, ix->lg_ix, ix->lg_w);
	*j0 = slot_of(b[1], ix->lg_y0, ix->lg_iy, ix->lg_h);
	*j1 = slot_of(b[3], ix->lg_y0, ix->lg_iy, ix->lg_h);
}

/* Shapes the leaf grid for about `target` cells; returns the entries it would hold and
 * the mean length of the non-empty cells' lists. */
static size_t leafgrid_try(struct gf_index *ix, double W, double H, double target, double *mean)
{
	uint32_t nl = ix->nleaves, l, i, j, i0, i1, j0, j1, kinds;
	size_t ncell, entries = 0, nonempty = 0;
	uint32_t *cnt;
	float b[4];

	if (W > 0 && H > 0) {
		double a = sqrt(target * W / H);

		ix->lg_w = a < 1 ? 1 : (a > 65536 ? 65536 : (uint32_t)a);
		a = target / ix->lg_w;
		ix->lg_h = a < 1 ? 1 : (a > 65536 ? 65536 : (uint32_t)a);
	} else {
		ix->lg_w = W > 0 ? (uint32_t)fmin(target, 65536) : 1;
		ix->lg_h = H > 0 ? (uint32_t)fmin(target, 65536) : 1;
	}
	ix->lg_ix = W > 0 ? ix->lg_w / W : 0;
	ix->lg_iy = H > 0 ? ix->lg_h / H : 0;
	ncell = (size_t)ix->lg_w * ix->lg_h;
	cnt = calloc(ncell, sizeof(uint32_t));
	if (!cnt)
		return 0;
	for (l = 0; l < nl; l++) {
		node_box(&ix->nodes[l], b, &kinds);
		leaf_cells(ix, b, &i0, &i1, &j0, &j1);
		for (j = j0; j <= j1; j++)
			for (i = i0; i <= i1; i++)
				nonempty += cnt[(size_t)j * ix->lg_w + i]++ == 0;
		entries += (size_t)(i1 - i0 + 1) * (j1 - j0 + 1);
	}
	free(cnt);
	*mean = nonempty ? (double)entries / nonempty : 0;
	return entries;
}

/* Sizes the leaf grid: 4, 16 or 64 cells a leaf, the coarsest whose lists are within 10%
 * as short as the finest's (leaves overlap, so lists never get shorter than the overlap;
 * finer grids only help clustered zones, e.g. along a river, and cost cache). */
static int leafgrid_build(struct gf_index *ix)
{
	uint32_t nl = ix->nleaves, l, i, j, i0, i1, j0, j1;
	float root[4], b[4];
	double W, H, mean[3], best = INFINITY;
	size_t ncell, entries, ent[3];
	uint32_t kinds;
	int t, pick = 0;

	if (!nl)
		return 0;
	node_box(&ix->nodes[ix->root], root, &kinds);
	W = (double)root[2] - root[0];
	H = (double)root[3] - root[1];
	if (!isfinite(W) || !isfinite(H)) /* cannot happen: |coordinates| <= GF_COORD_MAX */
		W = H = 0;
	ix->lg_x0 = root[0];
	ix->lg_y0 = root[1];
	for (t = 0; t < 3; t++) {
		ent[t] = leafgrid_try(ix, W, H, (4 << (2 * t)) * (double)nl, &mean[t]);
		if (!ent[t])
			return -1;
		/* huge leaves (zones spanning the map) make fine grids big: not those */
		if (t == 0 || ent[t] <= 64 * (size_t)nl)
			best = mean[t] < best ? mean[t] : best;
	}
	while (pick < 2 && mean[pick] > 1.1 * best)
		pick++;
	entries = leafgrid_try(ix, W, H, (4 << (2 * pick)) * (double)nl, &mean[pick]);
	if (!entries)
		return -1;
	ncell = (size_t)ix->lg_w * ix->lg_h;
	ix->lg_off = calloc(ncell + 1, sizeof(uint32_t));
	ix->lg_leaf = malloc(sizeof(uint32_t) * (entries ? entries : 1));
	if (!ix->lg_off || !ix->lg_leaf)
		return -1;
	for (l = 0; l < nl; l++) {
		node_box(&ix->nodes[l], b, &kinds);
		leaf_cells(ix, b, &i0, &i1, &j0, &j1);
		for (j = j0; j <= j1; j++)
			for (i = i0; i <= i1; i++)
				ix->lg_off[(size_t)j * ix->lg_w + i + 1]++;
	}
	for (i = 0; i < ncell; i++)
		ix->lg_off[i + 1] += ix->lg_off[i];
	{
		uint32_t *fill = malloc(sizeof(uint32_t) * ncell);

		if (!fill)
			return -1;
		memcpy(fill, ix->lg_off, sizeof(uint32_t) * ncell);
		for (l = 0; l < nl; l++) {
			node_box(&ix->nodes[l], b, &kinds);
			leaf_cells(ix, b, &i0, &i1, &j0, &j1);
			for (j = j0; j <= j1; j++)
				for (i = i0; i <= i1; i++)
					ix->lg_leaf[fill[(size_t)j * ix->lg_w + i]++] = l;
		}
		free(fill);
	}
	ix->stats.bytes += sizeof(uint32_t) * (ncell + 1 + entries);
	return 0;
}

static void index_free(struct gf_index *ix)
{
	size_t i;

	for (i = 0; i < ix->nzones; i++) {
		zone_strings_free(&ix->zones[i]);
		if (ix->shapes)
			shape_free(&ix->shapes[i]);
	}
	free(ix->zones);
	free(ix->shapes);
	free(ix->hot);
	free(ix->shape_of);
	free(ix->nodes);
	free(ix->lg_off);
	free(ix->lg_leaf);
	free(ix);
}

struct gf_index *gf_build(struct gf_builder *b)
{
	struct gf_index *ix;
	size_t i, n;

	if (!b)
		return NULL;
	n = b->n;
	ix = calloc(1, sizeof(*ix));
	if (!ix)
		goto fail;
	atomic_init(&ix->refs, 1);
	ix->zones = malloc(sizeof(*ix->zones) * (n ? n : 1));
	ix->shapes = calloc(n ? n : 1, sizeof(*ix->shapes));
	ix->hot = aligned_alloc(128, sizeof(*ix->hot) * (n ? n : 1));
	ix->shape_of = malloc(sizeof(uint32_t) * (n ? n : 1));
	if (!ix->zones || !ix->shapes || !ix->hot || !ix->shape_of)
		goto fail;
	for (i = 0; i < n; i++)
		ix->zones[i] = b->v[i].z;
	if (rtree_build(ix, b->v, n) || leafgrid_build(ix))
		goto fail;
	/* the index owns zones and shapes now */
	ix->nzones = n;
	ix->stats.zones = n;
	for (i = 0; i < n; i++) {
		const struct gf_shape *s = &ix->shapes[i];

		ix->stats.vertices += s->nv;
		ix->stats.edges += s->ne;
		ix->stats.band_entries += s->band_entries;
		ix->stats.grid_cells += s->type == SH_POLY ? (size_t)s->gw * s->gh : 0;
		ix->stats.grid_edge_cells += s->edge_cells;
		ix->stats.bytes += s->bytes + sizeof(*s) + sizeof(struct gf_hot) + sizeof(struct gf_zone) +
				   sizeof(uint32_t);
	}
	ix->stats.bytes += sizeof(struct rt_node) * ix->nnodes + sizeof(*ix);
	free(b->v);
	free(b);
	return ix;
fail:
	if (ix) {
		free(ix->zones);
		free(ix->shapes);
		free(ix->hot);
		free(ix->shape_of);
		free(ix->nodes);
		free(ix->lg_off);
		free(ix->lg_leaf);
		free(ix);
	}
	gf_builder_free(b);
	return NULL;
}

/* ---- queries --------------------------------------------------------------- */

struct gf_index *gf_ref(struct gf_index *ix)
{
	if (ix)
		atomic_fetch_add_explicit(&ix->refs, 1, memory_order_relaxed);
	return ix;
}

void gf_unref(struct gf_index *ix)
{
	if (ix && atomic_fetch_sub_explicit(&ix->refs, 1, memory_order_acq_rel) == 1)
		index_free(ix);
}

size_t gf_zone_count(const struct gf_index *ix)
{
	return ix ? ix->nzones : 0;
}

const struct gf_zone *gf_zone_at(const struct gf_index *ix, uint32_t i)
{
	return ix && i < ix->nzones ? &ix->zones[i] : NULL;
}

void gf_index_stats(const struct gf_index *ix, struct gf_stats *st)
{
	if (!st)
		return;
	if (!ix)
		memset(st, 0, sizeof(*st));
	else
		*st = ix->stats;
}

/* Bit k set when entry k of the node meets the box [xl, xh] x [yl, yh] and has a kind in
 * mask (all: ~0u; then no kind test is needed, every used slot has a kind). Empty slots
 * hold an inverted box and no kind. */
#if defined(__SSE2__)
#define NODE_GROUP(k)                                                                              \
	do {                                                                                       \
		__m128 a_ = _mm_and_ps(_mm_cmple_ps(_mm_loadu_ps(nd->minx + (k)), qxh),            \
				       _mm_cmpge_ps(_mm_loadu_ps(nd->maxx + (k)), qxl));           \
		__m128 b_ = _mm_and_ps(_mm_cmple_ps(_mm_loadu_ps(nd->miny + (k)), qyh),            \
				       _mm_cmpge_ps(_mm_loadu_ps(nd->maxy + (k)), qyl));           \
		__m128 r_ = _mm_and_ps(a_, b_);                                                    \
		if (mask != ~0u) {                                                                 \
			__m128i kd_ = _mm_and_si128(                                               \
				_mm_loadu_si128((const __m128i *)(const void *)(nd->kinds + (k))), m); \
			r_ = _mm_andnot_ps(_mm_castsi128_ps(_mm_cmpeq_epi32(kd_, zero)), r_);      \
		}                                                                                  \
		hit |= (uint32_t)_mm_movemask_ps(r_) << (k);                                       \
	} while (0)
#endif

static inline uint32_t node_hits(const struct rt_node *nd, float xl, float xh, float yl, float yh,
				 uint32_t mask)
{
	uint32_t hit = 0;
#if defined(__SSE2__)
	const __m128 qxl = _mm_set1_ps(xl), qxh = _mm_set1_ps(xh);
	const __m128 qyl = _mm_set1_ps(yl), qyh = _mm_set1_ps(yh);
	const __m128i m = _mm_set1_epi32((int)mask), zero = _mm_setzero_si128();

	NODE_GROUP(0);
	NODE_GROUP(4);
	NODE_GROUP(8);
	NODE_GROUP(12);
#else
	uint32_t k;

	for (k = 0; k < RT_M; k++)
		hit |= (uint32_t)((nd->minx[k] <= xh) & (nd->maxx[k] >= xl) & (nd->miny[k] <= yh) &
				  (nd->maxy[k] >= yl) & ((nd->kinds[k] & mask) != 0))
		       << k;
#endif
	return hit;
}

/* The leaves whose box may hold the point: a run of lg_leaf. */
static inline const uint32_t *leaf_run(const struct gf_index *ix, double lon, double lat,
				       const uint32_t **end)
{
	uint32_t i = slot_of(lon, ix->lg_x0, ix->lg_ix, ix->lg_w);
	uint32_t j = slot_of(lat, ix->lg_y0, ix->lg_iy, ix->lg_h);
	size_t c = (size_t)j * ix->lg_w + i;

	*end = ix->lg_leaf + ix->lg_off[c + 1];
	return ix->lg_leaf + ix->lg_off[c];
}

int gf_covered(const struct gf_index *ix, double lon, double lat, int kind)
{
	uint32_t mask = kind ? kind_bit(kind) : ~0u;
	const uint32_t *l, *lend;
	float pxl, pxh, pyl, pyh;
	double kx = -1;

	if (!ix || !ix->nnodes || !isfinite(lon) || !isfinite(lat))
		return 0;
	pxl = f_down(lon);
	pxh = f_up(lon);
	pyl = f_down(lat);
	pyh = f_up(lat);
	for (l = leaf_run(ix, lon, lat, &lend); l < lend; l++) {
		const struct rt_node *nd = &ix->nodes[*l];
		uint32_t hit = node_hits(nd, pxl, pxh, pyl, pyh, mask);

		while (hit) {
			uint32_t i = nd->child[__builtin_ctz(hit)];
			const struct gf_hot *h = &ix->hot[i];

			hit &= hit - 1;
			if (h->type == SH_POLY) {
				if (poly_test(h, &ix->shapes[i], lon, lat) >= 0)
					return 1;
			} else {
				if (kx < 0)
					kx = kx_at(lat);
				if (disc_dist(&ix->shapes[i], lon, lat, kx, GF_R_EARTH * GF_DEG) >= 0)
					return 1;
			}
		}
	}
	return 0;
}

/* Keeps hits[0..*n) sorted by zone, at most max of them (the lowest zones). */
static void hit_insert(struct gf_hit *hits, size_t max, size_t *n, const struct gf_hit *h)
{
	size_t at;

	if (!max)
		return;
	if (*n == max) {
		if (h->zone >= hits[max - 1].zone)
			return;
		(*n)--;
	}
	at = *n;
	while (at > 0 && hits[at - 1].zone > h->zone) {
		hits[at] = hits[at - 1];
		at--;
	}
	hits[at] = *h;
	(*n)++;
}

/* gf_query's work on the entries `hit` of leaf nd. */
static inline void query_leaf(const struct gf_index *ix, const struct rt_node *nd, uint32_t hit,
			      double lon, double lat, double reach_m, double kx, double ky,
			      struct gf_hit *hits, size_t max, size_t *nout, size_t *total)
{
	while (hit) {
		uint32_t i = nd->child[__builtin_ctz(hit)];
		const struct gf_shape *s = &ix->shapes[i];
		struct gf_hit h;

		hit &= hit - 1;
		if (!shape_eval(&ix->hot[i], s, lon, lat, reach_m, kx, ky, &h.inside, &h.dist_m))
			continue;
		h.zone = s->zone;
		(*total)++;
		hit_insert(hits, max, nout, &h);
	}
}

size_t gf_query(const struct gf_index *ix, double lon, double lat, double reach_m,
		struct gf_hit *hits, size_t max)
{
	uint32_t stack[RT_STACK];
	double ky = GF_R_EARTH * GF_DEG, kx, dlat, dlon;
	float qxl, qxh, qyl, qyh;
	size_t total = 0, nout = 0;
	int sp = 0;

	if (!ix || !ix->nnodes || !isfinite(lon) || !isfinite(lat))
		return 0;
	if (!hits)
		max = 0;
	if (!(reach_m > 0) || !isfinite(reach_m))
		reach_m = reach_m > 0 ? 1e9 : 0; /* NaN / negative: 0; +inf: the whole earth */
	kx = kx_at(lat);
	dlat = reach_m / ky * (1 + 1e-9);
	dlon = reach_m == 0 ? 0 : (kx > 0 ? reach_m / kx * (1 + 1e-9) : INFINITY);
	qxl = f_down(lon - dlon);
	qxh = f_up(lon + dlon);
	qyl = f_down(lat - dlat);
	qyh = f_up(lat + dlat);
	if (reach_m == 0) { /* a point: the leaf grid */
		const uint32_t *l, *lend;

		for (l = leaf_run(ix, lon, lat, &lend); l < lend; l++) {
			const struct rt_node *nd = &ix->nodes[*l];

			query_leaf(ix, nd, node_hits(nd, qxl, qxh, qyl, qyh, ~0u), lon, lat, 0, kx, ky,
				   hits, max, &nout, &total);
		}
		return total;
	}
	stack[sp++] = ix->root;
	while (sp) {
		const struct rt_node *nd = &ix->nodes[stack[--sp]];
		uint32_t hit = node_hits(nd, qxl, qxh, qyl, qyh, ~0u);

		if (nd->leaf) {
			query_leaf(ix, nd, hit, lon, lat, reach_m, kx, ky, hits, max, &nout, &total);
			continue;
		}
		while (hit) {
			stack[sp++] = nd->child[__builtin_ctz(hit)];
			hit &= hit - 1;
		}
	}
	return total;
}

int gf_zone_covers(const struct gf_index *ix, uint32_t zone, double lon, double lat)
{
	const struct gf_shape *s;
	uint32_t i;

	if (!ix || zone >= ix->nzones || !isfinite(lon) || !isfinite(lat))
		return 0;
	i = ix->shape_of[zone];
	s = &ix->shapes[i];
	if (s->type == SH_POLY)
		return poly_test(&ix->hot[i], s, lon, lat) >= 0;
	return disc_dist(s, lon, lat, kx_at(lat), GF_R_EARTH * GF_DEG) >= 0;
}

double gf_zone_dist_m(const struct gf_index *ix, uint32_t zone, double lon, double lat)
{
	const struct gf_shape *s;
	double kx, ky = GF_R_EARTH * GF_DEG;
	uint32_t i;
	int t;

	if (!ix || zone >= ix->nzones || !isfinite(lon) || !isfinite(lat))
		return NAN;
	i = ix->shape_of[zone];
	s = &ix->shapes[i];
	kx = kx_at(lat);
	if (s->type == SH_DISC)
		return disc_dist(s, lon, lat, kx, ky);
	t = poly_test(&ix->hot[i], s, lon, lat);
	if (t == 0)
		return 0.0;
	return t > 0 ? poly_nearest(s, lon, lat, kx, ky, INFINITY)
		     : -poly_nearest(s, lon, lat, kx, ky, INFINITY);
}
