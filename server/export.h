/* export.h -- a vessel's track as data (fixes, stops, zone visits) and its
 * renderings: GeoJSON, KML/GPX/CSV (GDAL/OGR, written in /vsimem/), and the
 * printable evidence sheet (HTML with an inline SVG map and a SHA-256).
 *
 * Everything here runs on a database worker thread (api_track.c submits the
 * jobs); nothing touches the service thread's state.
 */
#ifndef SW_EXPORT_H
#define SW_EXPORT_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

/* Defaults and bounds of the query parameters. */
#define TRK_STOP_RADIUS_M 50.0
#define TRK_STOP_MIN_S 120.0
#define TRK_STOP_MAX_KN 1.5       /* "slow": the rules engine's stop_speed_kn */
#define TRK_MAX_FIXES 200000      /* fixes one answer may hold */
#define TRK_SHEET_MAX_FIXES 50000 /* rows of one printable sheet */
#define TRK_POSITION_LIMIT 5000   /* position features of a simplified track */

/* A growing text buffer; oom is sticky and every add is a no-op after it. */
struct xb {
	char *p;
	size_t len, cap;
	int oom;
};
void xb_add(struct xb *b, const char *s, size_t n);
void xb_str(struct xb *b, const char *s);
void xb_printf(struct xb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal (quotes and escapes); NULL as null. */
void xb_json_str(struct xb *b, const char *s);
/* s with &, <, >, " and ' escaped for HTML text and attributes. */
void xb_html(struct xb *b, const char *s);
/* A coordinate with 7 decimals, trailing zeros trimmed ("117.181234"). */
void xb_coord(struct xb *b, double v);
/* A finite number (%.10g), or null. */
void xb_num(struct xb *b, double v);

/* One stored position (borrowed strings point into the loading PGresult). */
struct trk_fix {
	int64_t t_ms;          /* device time, UTC */
	int64_t recv_ms;       /* 0: unknown (an alert's evidence fix with no row) */
	double lon, lat;
	double speed_kn;       /* NAN: not reported */
	double course;         /* NAN: not reported */
	int valid, blind;
	int evidence;          /* one of the alert's evidence fixes */
	long long alarm_bits;
	const char *protocol;
	const char *raw;       /* NULL: none (e.g. the HTTP feed) */
};

struct trk_stop {
	int64_t start_ms, end_ms;
	double lon, lat;       /* centroid of its fixes */
	double spread_m;       /* farthest fix from the centroid */
	size_t first, last;    /* indices into the fix array */
	int n;                 /* fixes in it */
};

struct trk_visit {
	const char *layer, *layer_kind, *code, *name;
	int64_t enter_ms, exit_ms;
	int at_start, at_end;  /* already inside at the first fix / still at the last */
	const char *geojson;   /* the zone's geometry */
};

struct trk_stop_params {
	double radius_m, min_s, max_kn;
};

struct trk_data {
	long vessel_id;        /* 0: none (an alert of an unregistered terminal) */
	json_t *vessel;        /* {id,name,registration,kind,terminal,mmsi,owner,status} or NULL */
	json_t *permits;       /* array of permits (sheet only) */
	json_t *alert;         /* sw_alert_json of the alert, NULL for a track */
	int64_t from_ms, to_ms;
	int valid_only;        /* fixes: only valid ones (the track API) */
	struct trk_stop_params sp;
	struct trk_fix *fix;
	size_t nfix;
	struct trk_stop *stop;
	size_t nstop;
	struct trk_visit *visit;
	size_t nvisit;
	PGresult *fix_res, *visit_res;
	char err[256];         /* why a load failed */
};

/* Finds the stops among the valid fixes f[0..n) (time order): a stop is a
 * run of consecutive valid fixes, each at most p->radius_m from the run's
 * first fix and each slow (speed_kn <= p->max_kn, or not reported), lasting
 * at least p->min_s from the first to the last fix. Runs are maximal and do
 * not overlap. Returns the number found (*out malloc'd, NULL if none) or -1
 * when out of memory. */
long trk_find_stops(const struct trk_fix *f, size_t n, const struct trk_stop_params *p,
		    struct trk_stop **out);

/* Great-circle distance in metres (spherical Earth, mean radius). */
double trk_distance_m(double lon1, double lat1, double lon2, double lat2);

/* Loads d's vessel (d->vessel_id), fixes in [from, to], stops and zone
 * visits. max_fixes bounds the fixes. Returns an HTTP status: 200, 404 (no
 * such vessel), 400 (too many fixes; d->err says so), 500 (d->err). */
int trk_load_track(PGconn *c, struct trk_data *d, size_t max_fixes);
/* The same for an alert: its vessel, the vessel's fixes from 10 minutes
 * before it opened (or its first evidence fix, if earlier) to to_ms (> 0) or
 * its closing (or now), its evidence fixes marked (and added when no stored
 * position matches one). */
int trk_load_alert(PGconn *c, struct trk_data *d, long long alert_id, int64_t to_ms,
		   size_t max_fixes);
/* The vessel's permits into d->permits (for the sheet). 0 or -1. */
int trk_load_permits(PGconn *c, struct trk_data *d);
void trk_free(struct trk_data *d);

/* Options of the GeoJSON rendering. */
struct trk_geojson_opts {
	double simplify_m;        /* the tolerance used (0: none), a property */
	const unsigned char *keep;/* per fix: a vertex of the (simplified) line; NULL: all valid */
	int positions_mode;       /* 0 all fixes, 1 only kept vertices, 2 none */
	int export_doc;           /* add vessel/alert members (the .geojson download) */
};
/* The FeatureCollection (malloc'd text, *len) or NULL when out of memory. */
char *trk_geojson(const struct trk_data *d, const struct trk_geojson_opts *o, size_t *len);

enum trk_format { TF_GEOJSON = 1, TF_KML, TF_GPX, TF_CSV, TF_HTML };
/* "geojson" -> TF_GEOJSON ...; 0 if unknown. */
int trk_format_parse(const char *ext);
const char *trk_format_ext(int f);
const char *trk_format_ctype(int f);

/* KML, GPX or CSV through GDAL/OGR into /vsimem/; the bytes (malloc'd) or
 * NULL with err filled. */
char *trk_ogr_write(const struct trk_data *d, int format, size_t *len, char *err, size_t errlen);

/* What the sheet says about where its data can be downloaded. */
struct trk_sheet_info {
	const char *csv_url;      /* path and query of the CSV the hash covers */
	const char *csv_filename; /* its file name */
	const char *generated_by; /* user name */
	int64_t generated_ms;
};
/* The printable evidence sheet (malloc'd HTML) or NULL with err. It hashes
 * csv[0..csv_len) (the CSV export of the same data) with SHA-256. The map's
 * zones are read with c. */
char *trk_sheet_html(PGconn *c, const struct trk_data *d, const char *csv, size_t csv_len,
		     const struct trk_sheet_info *info, size_t *len, char *err, size_t errlen);

/* Local time (UTC+8) for people: "2024-05-01 08:00:05" (".123" when the
 * milliseconds are not 0). */
void trk_local_time(int64_t ms, char *buf, size_t len);

#endif
