/* geofence.h -- the in-memory zone index: which zones cover a point, and how far
 * the point is from each nearby zone's boundary.
 *
 * An index is built once from the current versions of the zone layers, then
 * never changes: any number of threads may query it at once. When a layer gets
 * a new version a new index is built beside the old one and swapped in; the
 * reference count keeps the old one alive until its last reader lets go.
 *
 * Semantics: `inside` agrees exactly with PostGIS ST_Covers(zone, point) (a
 * point on the boundary, a vertex included, is covered; a point in a hole is
 * not, a point on a hole's ring is). Coordinates are lon/lat degrees (EPSG:4326).
 * Distances are metres, measured in a local equirectangular frame around the
 * query point (good to well under a metre at zone sizes of a few kilometres).
 *
 * No sockets, no database: geometry comes in as WKB (what ST_AsBinary gives).
 */
#ifndef SW_GEOFENCE_H
#define SW_GEOFENCE_H

#include <stddef.h>
#include <stdint.h>

/* Zone kinds: the layer kinds the rules care about. */
enum gf_kind {
	GF_MINING = 1,     /* mining_zone: a permit names one by its code */
	GF_PARKING = 2,    /* parking: designated parking points */
	GF_NO_MINING = 3,  /* no_mining */
	GF_PROTECTION = 4, /* protection (drinking-water source) */
	GF_KIND_MAX = 5
};

/* What the index keeps of each zone (strings owned by the index). */
struct gf_zone {
	int64_t feature_id;    /* features.id */
	int32_t layer_id;      /* layers.id */
	int32_t kind;          /* enum gf_kind */
	const char *layer;     /* layer name */
	const char *code;      /* the feature's code (NULL if none) */
	const char *name;      /* a display name (NULL if none) */
	double minx, miny, maxx, maxy;  /* bounding box, degrees */
};

/* One answer of gf_query: a zone whose boundary is within `reach_m` of the
 * point, or which covers it. */
struct gf_hit {
	uint32_t zone;         /* index into gf_zone_at() */
	uint8_t inside;        /* ST_Covers(zone, point) */
	/* signed distance to the zone's boundary in metres: >= 0 inside (how
	 * deep), < 0 outside (how far). 0 on the boundary. */
	double dist_m;
};

struct gf_builder;
struct gf_index;

struct gf_builder *gf_builder_new(void);
/* Adds a zone. `wkb` is 2D (or Z/M, extra ordinates ignored) Polygon or
 * MultiPolygon, little- or big-endian, ISO or EWKB (an SRID is ignored);
 * a Point or MultiPoint is taken as a disc of `point_radius_m` around it.
 * Returns 0, or -1 with a reason in err (unsupported type, bad WKB); the
 * builder stays usable. */
int gf_builder_add(struct gf_builder *b, const struct gf_zone *z, const uint8_t *wkb,
		   size_t wkb_len, double point_radius_m, char *err, size_t errlen);
/* Builds the index (R-tree over the zones, an edge index per zone) and frees
 * the builder. NULL on allocation failure. An empty builder gives an empty,
 * valid index. */
struct gf_index *gf_build(struct gf_builder *b);
void gf_builder_free(struct gf_builder *b);

/* Reference counting (atomic): gf_build returns an index holding one. */
struct gf_index *gf_ref(struct gf_index *ix);
void gf_unref(struct gf_index *ix);

size_t gf_zone_count(const struct gf_index *ix);
const struct gf_zone *gf_zone_at(const struct gf_index *ix, uint32_t i);

/* Zones covering the point, or whose boundary is within reach_m of it
 * (reach_m = 0: covering zones only). Writes at most max hits (in zone
 * order) and returns how many there were in all (may exceed max). */
size_t gf_query(const struct gf_index *ix, double lon, double lat, double reach_m,
		struct gf_hit *hits, size_t max);

/* The fast path: 1 if any zone of `kind` (0: any kind) covers the point. */
int gf_covered(const struct gf_index *ix, double lon, double lat, int kind);

/* ---- additions (geofence.c) ---------------------------------------------- */

/* Details of the contract above, as implemented:
 * - `inside` is computed with PostGIS's own point-in-polygon arithmetic (the double-precision
 *   side test of point_in_ring, winding number, rings visited in PostGIS's order), so it
 *   equals ST_Covers even for points that rounding puts on an edge; GEOS's exact predicates
 *   can differ there. Self-intersecting rings follow the non-zero winding rule, as PostGIS.
 * - A Point or MultiPoint zone covers the points within point_radius_m of one of its points,
 *   in the query's local frame; its dist_m is the largest (radius - distance), exact when the
 *   discs do not overlap.
 * - gf_builder_add refuses (-1 and a reason): kinds outside 1 .. GF_KIND_MAX-1, rings of
 *   fewer than 4 points or not closed, non-finite coordinates or beyond +-1e15, empty
 *   geometries, other types, truncated or trailing bytes. Longitudes are not wrapped at
 *   +-180 degrees.
 * - dist_m of a covering zone is its full depth (the nearest edge wherever it is); a zone
 *   that does not cover the point is reported only within reach_m. */

/* One zone only (zone: an index into gf_zone_at()): 1 if it covers the point, exactly as
 * gf_query's `inside`; 0 if not, or if there is no such zone. */
int gf_zone_covers(const struct gf_index *ix, uint32_t zone, double lon, double lat);
/* One zone only: the signed distance to its boundary, as gf_hit.dist_m, at any range
 * (a full search of its edges). NAN if there is no such zone. */
double gf_zone_dist_m(const struct gf_index *ix, uint32_t zone, double lon, double lat);

/* What an index holds, for logs and benchmarks: gf_index_stats fills the caller's *st
 * (all zeros for a NULL index). */
struct gf_stats {
	size_t zones;
	size_t vertices;
	size_t edges;           /* non-degenerate polygon edges */
	size_t band_entries;    /* edge references in the horizontal bands */
	size_t grid_cells;      /* cells of the per-zone grids */
	size_t grid_edge_cells; /* of which near an edge (answered by the bands) */
	size_t bytes;           /* memory held by the index, about */
};
void gf_index_stats(const struct gf_index *ix, struct gf_stats *st);

#endif
