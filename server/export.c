/* export.c -- a vessel's track as data (fixes, stops, zone visits) and its renderings.
 *
 * Loading: the fixes come from `positions` (device time order), stops are
 * found here (trk_find_stops), zone visits by PostGIS (segments between
 * consecutive fixes against the zones of the current layer versions).
 * Renderings: GeoJSON (text built here, strings escaped by jansson); KML
 * (LIBKML, else KML), GPX and CSV through GDAL/OGR into /vsimem/; and the
 * printable evidence sheet (HTML, an SVG map drawn here with the zones drawn
 * by PostGIS's ST_AsSVG, and the SHA-256 of the CSV export by libsodium).
 */
#include "export.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <sodium.h>

#include "fmt.h"
#include "http.h"
#include "log.h"
#include "server.h"

/* ------------------------------------------------------------ text buffer */

static int xb_reserve(struct xb *b, size_t more)
{
	size_t need, ncap;
	char *np;

	if (b->oom)
		return -1;
	need = b->len + more + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 4096;
	while (ncap < need)
		ncap *= 2;
	np = realloc(b->p, ncap);
	if (!np) {
		b->oom = 1;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

void xb_add(struct xb *b, const char *s, size_t n)
{
	if (xb_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void xb_str(struct xb *b, const char *s)
{
	xb_add(b, s, strlen(s));
}

void xb_printf(struct xb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || xb_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void xb_json_str(struct xb *b, const char *s)
{
	json_t *v;
	char *t;

	if (!s) {
		xb_str(b, "null");
		return;
	}
	v = json_string(s);
	t = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
	json_decref(v);
	if (!t) {
		/* not UTF-8: say so rather than emit broken JSON */
		xb_str(b, "\"(invalid UTF-8)\"");
		return;
	}
	xb_str(b, t);
	free(t);
}

void xb_html(struct xb *b, const char *s)
{
	const char *run = s;

	if (!s)
		return;
	for (; *s; s++) {
		const char *e = NULL;

		switch (*s) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&#39;"; break;
		}
		if (e) {
			xb_add(b, run, (size_t)(s - run));
			xb_str(b, e);
			run = s + 1;
		}
	}
	xb_add(b, run, (size_t)(s - run));
}

void xb_coord(struct xb *b, double v)
{
	char t[48];
	int n = snprintf(t, sizeof(t), "%.7f", v);

	while (n > 1 && t[n - 1] == '0')
		n--;
	if (n > 1 && t[n - 1] == '.')
		n--;
	if (n == 2 && t[0] == '-' && t[1] == '0') {
		t[0] = '0';
		n = 1;
	}
	xb_add(b, t, (size_t)n);
}

void xb_num(struct xb *b, double v)
{
	if (!isfinite(v))
		xb_str(b, "null");
	else
		xb_printf(b, "%.10g", v);
}

/* ISO-8601 with +08:00 into b (quoted when q). */
static void xb_iso(struct xb *b, int64_t ms, int q)
{
	char t[40], *e = fmt_iso_cst(t, ms);

	if (q)
		xb_add(b, "\"", 1);
	xb_add(b, t, (size_t)(e - t));
	if (q)
		xb_add(b, "\"", 1);
}

void trk_local_time(int64_t ms, char *buf, size_t len)
{
	char t[40];

	*fmt_iso_cst(t, ms) = '\0';
	/* "YYYY-MM-DDTHH:MM:SS.mmm+08:00" */
	t[10] = ' ';
	if (!strncmp(t + 19, ".000", 4))
		t[19] = '\0';
	else
		t[23] = '\0';
	snprintf(buf, len, "%s", t);
}

/* ------------------------------------------------------------------ stops */

double trk_distance_m(double lon1, double lat1, double lon2, double lat2)
{
	const double r = 6371008.8, k = M_PI / 180.0;
	double dlat = (lat2 - lat1) * k, dlon = (lon2 - lon1) * k;
	double a = sin(dlat / 2) * sin(dlat / 2) +
		   cos(lat1 * k) * cos(lat2 * k) * sin(dlon / 2) * sin(dlon / 2);

	return 2 * r * atan2(sqrt(a), sqrt(1 - a > 0 ? 1 - a : 0));
}

static int slow(const struct trk_fix *f, const struct trk_stop_params *p)
{
	return isnan(f->speed_kn) || f->speed_kn <= p->max_kn;
}

long trk_find_stops(const struct trk_fix *f, size_t n, const struct trk_stop_params *p,
		    struct trk_stop **out)
{
	struct trk_stop *s = NULL;
	size_t ns = 0, cap = 0, i = 0;

	*out = NULL;
	while (i < n) {
		size_t j, last;

		if (!f[i].valid || !slow(&f[i], p)) {
			i++;
			continue;
		}
		/* extend over valid fixes; an invalid one neither joins nor breaks */
		last = i;
		for (j = i + 1; j < n; j++) {
			if (!f[j].valid)
				continue;
			if (!slow(&f[j], p) ||
			    trk_distance_m(f[i].lon, f[i].lat, f[j].lon, f[j].lat) > p->radius_m)
				break;
			last = j;
		}
		if ((double)(f[last].t_ms - f[i].t_ms) >= p->min_s * 1000.0) {
			struct trk_stop *st;
			double sx = 0, sy = 0, far = 0;
			size_t k;
			int cnt = 0;

			if (ns == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct trk_stop *np = realloc(s, nc * sizeof(*s));
				if (!np) {
					free(s);
					return -1;
				}
				s = np;
				cap = nc;
			}
			st = &s[ns++];
			for (k = i; k <= last; k++)
				if (f[k].valid) {
					sx += f[k].lon;
					sy += f[k].lat;
					cnt++;
				}
			st->lon = sx / cnt;
			st->lat = sy / cnt;
			for (k = i; k <= last; k++)
				if (f[k].valid) {
					double dd = trk_distance_m(st->lon, st->lat, f[k].lon, f[k].lat);
					if (dd > far)
						far = dd;
				}
			st->spread_m = far;
			st->start_ms = f[i].t_ms;
			st->end_ms = f[last].t_ms;
			st->first = i;
			st->last = last;
			st->n = cnt;
			i = last + 1;
		} else {
			i++;
		}
	}
	*out = s;
	return (long)ns;
}

/* ---------------------------------------------------------------- loading */

static int64_t col_i64(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static double col_num(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NAN : strtod(PQgetvalue(r, row, col), NULL);
}

static const char *col_str(PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int col_bool(PGresult *r, int row, int col)
{
	return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

static void ts_param(char *buf, int64_t ms)
{
	*fmt_pg_ts(buf, ms) = '\0';
}

static int load_vessel(PGconn *c, struct trk_data *d)
{
	char id[24];
	const char *params[1] = { id };
	PGresult *r;

	snprintf(id, sizeof(id), "%ld", d->vessel_id);
	r = PQexecParams(c,
		"SELECT json_build_object('id', v.id, 'name', v.name, 'registration', v.registration,"
		" 'kind', v.kind, 'terminal', v.terminal, 'mmsi', v.mmsi, 'owner', v.owner,"
		" 'status', v.status)::text FROM vessels v WHERE v.id = $1::int",
		1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_error("track: vessel: %s", PQresultErrorMessage(r));
		snprintf(d->err, sizeof(d->err), "database error");
		PQclear(r);
		return 500;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		snprintf(d->err, sizeof(d->err), "no such vessel");
		return 404;
	}
	d->vessel = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	PQclear(r);
	return d->vessel ? 200 : 500;
}

/* Columns 0..11 of a fix row (positions p). */
#define FIX_COLS                                                                          \
	"(extract(epoch FROM p.device_time) * 1000)::int8, (extract(epoch FROM p.recv_time) * 1000)::int8," \
	" ST_X(p.geom), ST_Y(p.geom), p.speed_kn, p.course, p.fix_valid, p.blind, p.protocol," \
	" p.alarm_bits, p.raw"

/* Takes the fix rows of r (FIX_COLS and the evidence flag). */
static int take_fixes(struct trk_data *d, PGresult *r, size_t max_fixes)
{
	size_t i, n = (size_t)PQntuples(r);

	if (n > max_fixes) {
		snprintf(d->err, sizeof(d->err),
			 "more than %zu positions in the time range: choose a shorter range", max_fixes);
		PQclear(r);
		return 400;
	}
	d->fix_res = r;
	d->nfix = n;
	d->fix = n ? calloc(n, sizeof(*d->fix)) : NULL;
	if (n && !d->fix) {
		snprintf(d->err, sizeof(d->err), "out of memory");
		return 500;
	}
	for (i = 0; i < n; i++) {
		struct trk_fix *f = &d->fix[i];
		int row = (int)i;

		f->t_ms = col_i64(r, row, 0);
		f->recv_ms = col_i64(r, row, 1);
		f->lon = col_num(r, row, 2);
		f->lat = col_num(r, row, 3);
		f->speed_kn = col_num(r, row, 4);
		f->course = col_num(r, row, 5);
		f->valid = col_bool(r, row, 6);
		f->blind = col_bool(r, row, 7);
		f->protocol = col_str(r, row, 8);
		f->alarm_bits = col_i64(r, row, 9);
		f->raw = col_str(r, row, 10);
		f->evidence = col_bool(r, row, 11);
	}
	return 200;
}

/* Zone visits: each segment between consecutive valid fixes (the last fix
 * alone as a point) against the polygons of the current versions of the
 * mining_zone, parking, no_mining and protection layers. A segment that
 * intersects a zone enters it at the first point of the intersection along
 * the segment and leaves at the last (times interpolated along the
 * segment); consecutive segments stay one visit while the fix between them
 * is inside. */
static const char visits_sql[] =
	"WITH p AS ("
	"  SELECT device_time AS t, geom, lead(device_time) OVER w AS t2, lead(geom) OVER w AS g2,"
	"         row_number() OVER w AS i, count(*) OVER () AS n"
	"  FROM positions WHERE vessel_id = $1::int AND fix_valid"
	"  AND device_time >= $2::timestamptz AND device_time <= $3::timestamptz"
	"  WINDOW w AS (ORDER BY device_time, recv_time)),"
	" z AS MATERIALIZED (SELECT f.id AS zid, l.name AS layer, l.kind, f.code,"
	"       coalesce(f.props->>'名称', f.props->>'name', f.props->>'NAME', f.code, '') AS zname, f.geom"
	"       FROM layers l JOIN features f ON f.layer_version_id = l.current_version_id"
	"       WHERE l.kind IN ('mining_zone', 'parking', 'no_mining', 'protection')"
	"       AND ST_Dimension(f.geom) = 2),"
	/* the segments, built once; only those near some zone go on */
	" s AS MATERIALIZED (SELECT i, n, t, coalesce(t2, t) AS t2, geom AS g1, coalesce(g2, geom) AS g2,"
	"       CASE WHEN g2 IS NULL OR ST_Equals(geom, g2) THEN geom ELSE ST_MakeLine(geom, g2) END AS seg"
	"       FROM p WHERE ST_MakeEnvelope(least(ST_X(geom), ST_X(coalesce(g2, geom))),"
	"         least(ST_Y(geom), ST_Y(coalesce(g2, geom))), greatest(ST_X(geom), ST_X(coalesce(g2, geom))),"
	"         greatest(ST_Y(geom), ST_Y(coalesce(g2, geom))), 4326)"
	"         && (SELECT ST_SetSRID(ST_Extent(geom)::geometry, 4326) FROM z)),"
	" h AS (SELECT s.i, s.n, s.t, s.t2, z.zid, ST_Covers(z.geom, s.g1) AS in1,"
	"       ST_Covers(z.geom, s.g2) AS in2, s.seg, z.geom AS zg"
	"       FROM s JOIN z ON s.seg && z.geom AND ST_Intersects(z.geom, s.seg)),"
	" f AS (SELECT i, n, t, t2, zid, in1,"
	"       CASE WHEN in1 THEN 0 ELSE coalesce((SELECT min(ST_LineLocatePoint(h.seg, d.geom))"
	"         FROM ST_DumpPoints(ST_Intersection(h.seg, h.zg)) d), 0) END AS a,"
	"       CASE WHEN in2 THEN 1 ELSE coalesce((SELECT max(ST_LineLocatePoint(h.seg, d.geom))"
	"         FROM ST_DumpPoints(ST_Intersection(h.seg, h.zg)) d), 1) END AS b"
	"       FROM h),"
	" r AS (SELECT *, CASE WHEN in1 AND lag(i) OVER (PARTITION BY zid ORDER BY i) = i - 1"
	"       THEN 0 ELSE 1 END AS brk FROM f),"
	" r2 AS (SELECT *, sum(brk) OVER (PARTITION BY zid ORDER BY i) AS run FROM r),"
	" v AS (SELECT zid, run, min(t + a * (t2 - t)) AS t_in, max(t + b * (t2 - t)) AS t_out,"
	"       bool_or(i = 1 AND in1) AS at_start, bool_or(i = n AND in1) AS at_end"
	"       FROM r2 GROUP BY zid, run)"
	" SELECT z.layer, z.kind, z.code, z.zname, (extract(epoch FROM v.t_in) * 1000)::int8,"
	"  (extract(epoch FROM v.t_out) * 1000)::int8, v.at_start, v.at_end, ST_AsGeoJSON(z.geom, 7)"
	" FROM v JOIN z ON z.zid = v.zid ORDER BY v.t_in, z.layer, z.code";

static int load_visits(PGconn *c, struct trk_data *d)
{
	char id[24], t0[40], t1[40];
	const char *params[3] = { id, t0, t1 };
	PGresult *r;
	size_t i, n;

	if (!d->vessel_id)
		return 200;
	snprintf(id, sizeof(id), "%ld", d->vessel_id);
	ts_param(t0, d->from_ms);
	ts_param(t1, d->to_ms);
	r = PQexecParams(c, visits_sql, 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_error("track: zone visits: %s", PQresultErrorMessage(r));
		snprintf(d->err, sizeof(d->err), "database error");
		PQclear(r);
		return 500;
	}
	n = (size_t)PQntuples(r);
	d->visit_res = r;
	d->visit = n ? calloc(n, sizeof(*d->visit)) : NULL;
	if (n && !d->visit) {
		snprintf(d->err, sizeof(d->err), "out of memory");
		return 500;
	}
	d->nvisit = n;
	for (i = 0; i < n; i++) {
		struct trk_visit *v = &d->visit[i];
		int row = (int)i;

		v->layer = col_str(r, row, 0);
		v->layer_kind = col_str(r, row, 1);
		v->code = col_str(r, row, 2);
		v->name = col_str(r, row, 3);
		v->enter_ms = col_i64(r, row, 4);
		v->exit_ms = col_i64(r, row, 5);
		v->at_start = col_bool(r, row, 6);
		v->at_end = col_bool(r, row, 7);
		v->geojson = col_str(r, row, 8);
	}
	return 200;
}

static int find_stops(struct trk_data *d)
{
	long ns = trk_find_stops(d->fix, d->nfix, &d->sp, &d->stop);

	if (ns < 0) {
		snprintf(d->err, sizeof(d->err), "out of memory");
		return 500;
	}
	d->nstop = (size_t)ns;
	return 200;
}

int trk_load_track(PGconn *c, struct trk_data *d, size_t max_fixes)
{
	char id[24], t0[40], t1[40], lim[24];
	const char *params[4] = { id, t0, t1, lim };
	PGresult *r;
	int st;

	if ((st = load_vessel(c, d)) != 200)
		return st;
	snprintf(id, sizeof(id), "%ld", d->vessel_id);
	ts_param(t0, d->from_ms);
	ts_param(t1, d->to_ms);
	snprintf(lim, sizeof(lim), "%zu", max_fixes + 1);
	r = PQexecParams(c, d->valid_only
		? "SELECT " FIX_COLS ", false FROM positions p WHERE p.vessel_id = $1::int"
		  " AND p.device_time >= $2::timestamptz AND p.device_time <= $3::timestamptz"
		  " AND p.fix_valid ORDER BY p.device_time, p.recv_time LIMIT $4::int"
		: "SELECT " FIX_COLS ", false FROM positions p WHERE p.vessel_id = $1::int"
		  " AND p.device_time >= $2::timestamptz AND p.device_time <= $3::timestamptz"
		  " ORDER BY p.device_time, p.recv_time LIMIT $4::int",
		4, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_error("track: positions: %s", PQresultErrorMessage(r));
		snprintf(d->err, sizeof(d->err), "database error");
		PQclear(r);
		return 500;
	}
	if ((st = take_fixes(d, r, max_fixes)) != 200)
		return st;
	if ((st = find_stops(d)) != 200)
		return st;
	return load_visits(c, d);
}

int trk_load_alert(PGconn *c, struct trk_data *d, long long alert_id, int64_t to_ms,
		   size_t max_fixes)
{
	char aid[24], vid[24], t0[40], t1[40], lim[24];
	const char *p1[1] = { aid };
	const char *p2[5] = { aid, vid, t0, t1, lim };
	PGresult *r;
	int64_t opened, closed, ev_min;
	int st;

	snprintf(aid, sizeof(aid), "%lld", alert_id);
	r = PQexecParams(c,
		"SELECT sw_alert_json(a, NULL)::text, a.vessel_id,"
		" (extract(epoch FROM a.opened_at) * 1000)::int8,"
		" (extract(epoch FROM a.closed_at) * 1000)::int8,"
		" (SELECT (extract(epoch FROM min((e->>'time')::timestamptz)) * 1000)::int8"
		"  FROM jsonb_array_elements(a.evidence) e)"
		" FROM alerts a WHERE a.id = $1::bigint",
		1, NULL, p1, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_error("alert evidence: %s", PQresultErrorMessage(r));
		snprintf(d->err, sizeof(d->err), "database error");
		PQclear(r);
		return 500;
	}
	if (PQntuples(r) != 1) {
		PQclear(r);
		snprintf(d->err, sizeof(d->err), "no such alert");
		return 404;
	}
	d->alert = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	d->vessel_id = (long)col_i64(r, 0, 1);
	opened = col_i64(r, 0, 2);
	closed = col_i64(r, 0, 3);
	ev_min = PQgetisnull(r, 0, 4) ? 0 : col_i64(r, 0, 4);
	PQclear(r);
	if (!d->alert) {
		snprintf(d->err, sizeof(d->err), "out of memory");
		return 500;
	}
	d->from_ms = opened - 10 * 60 * 1000;
	if (ev_min && ev_min < d->from_ms)
		d->from_ms = ev_min;
	d->to_ms = to_ms > 0 ? to_ms : closed ? closed : sw_now_ms();
	if (d->to_ms < d->from_ms) {
		snprintf(d->err, sizeof(d->err), "\"to\" is before the alert's evidence begins");
		return 400;
	}
	if (d->vessel_id && (st = load_vessel(c, d)) != 200) {
		if (st != 404)
			return st;
		d->vessel_id = 0; /* the vessel is gone: the evidence stays */
		d->err[0] = '\0';
	}
	snprintf(vid, sizeof(vid), "%ld", d->vessel_id);
	ts_param(t0, d->from_ms);
	ts_param(t1, d->to_ms);
	snprintf(lim, sizeof(lim), "%zu", max_fixes + 1);
	r = PQexecParams(c,
		"WITH ev AS (SELECT (e->>'time')::timestamptz AS t, (e->>'lon')::float8 AS lon,"
		"  (e->>'lat')::float8 AS lat, (e->>'speed_kn')::real AS sp, (e->>'course')::real AS co"
		"  FROM alerts a, jsonb_array_elements(a.evidence) e WHERE a.id = $1::bigint),"
		" pos AS MATERIALIZED (SELECT * FROM positions p WHERE p.vessel_id = $2::int"
		"  AND p.device_time >= $3::timestamptz AND p.device_time <= $4::timestamptz"
		"  ORDER BY p.device_time, p.recv_time LIMIT $5::int)"
		" SELECT " FIX_COLS ", EXISTS (SELECT 1 FROM ev WHERE ev.t = p.device_time) FROM pos p"
		" UNION ALL"
		" SELECT (extract(epoch FROM ev.t) * 1000)::int8, NULL, ev.lon, ev.lat, ev.sp, ev.co,"
		"  true, false, 'alert', 0, NULL, true FROM ev"
		"  WHERE NOT EXISTS (SELECT 1 FROM pos WHERE pos.device_time = ev.t)"
		" ORDER BY 1, 2 NULLS FIRST",
		5, NULL, p2, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_error("alert evidence: positions: %s", PQresultErrorMessage(r));
		snprintf(d->err, sizeof(d->err), "database error");
		PQclear(r);
		return 500;
	}
	if ((st = take_fixes(d, r, max_fixes)) != 200)
		return st;
	if ((st = find_stops(d)) != 200)
		return st;
	return load_visits(c, d);
}

int trk_load_permits(PGconn *c, struct trk_data *d)
{
	char id[24], t0[40], t1[40];
	const char *params[3] = { id, t0, t1 };
	PGresult *r;

	if (!d->vessel_id) {
		d->permits = json_array();
		return 0;
	}
	snprintf(id, sizeof(id), "%ld", d->vessel_id);
	ts_param(t0, d->from_ms);
	ts_param(t1, d->to_ms);
	r = PQexecParams(c,
		"SELECT coalesce(json_agg(json_build_object('number', p.number,"
		" 'zone_layer', p.zone_layer, 'zone_code', p.zone_code,"
		" 'zone_name', (SELECT coalesce(f.props->>'名称', f.props->>'name', f.code)"
		"   FROM layers l JOIN features f ON f.layer_version_id = l.current_version_id"
		"   WHERE l.name = p.zone_layer AND f.code = p.zone_code LIMIT 1),"
		" 'valid_from', p.valid_from, 'valid_to', p.valid_to,"
		" 'hours', CASE WHEN p.hours_from IS NULL THEN NULL ELSE"
		"   to_char(p.hours_from, 'HH24:MI') || '-' || to_char(p.hours_to, 'HH24:MI') END,"
		" 'in_range', p.valid_from <= ($3::timestamptz AT TIME ZONE 'Asia/Shanghai')::date"
		"   AND p.valid_to >= ($2::timestamptz AT TIME ZONE 'Asia/Shanghai')::date)"
		" ORDER BY p.valid_from DESC, p.number), '[]')::text FROM permits p WHERE p.vessel_id = $1::int",
		3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_error("track: permits: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	d->permits = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
	PQclear(r);
	return d->permits ? 0 : -1;
}

void trk_free(struct trk_data *d)
{
	json_decref(d->vessel);
	json_decref(d->permits);
	json_decref(d->alert);
	free(d->fix);
	free(d->stop);
	free(d->visit);
	PQclear(d->fix_res);
	PQclear(d->visit_res);
	memset(d, 0, sizeof(*d));
}

/* ---------------------------------------------------------------- GeoJSON */

static const char *vessel_name(const struct trk_data *d)
{
	const char *n = json_string_value(json_object_get(d->vessel, "name"));

	return n ? n : "";
}

static void json_bool(struct xb *b, int v)
{
	xb_str(b, v ? "true" : "false");
}

static double track_length_m(const struct trk_data *d)
{
	double len = 0;
	size_t i, prev = (size_t)-1;

	for (i = 0; i < d->nfix; i++) {
		if (!d->fix[i].valid)
			continue;
		if (prev != (size_t)-1)
			len += trk_distance_m(d->fix[prev].lon, d->fix[prev].lat, d->fix[i].lon,
					      d->fix[i].lat);
		prev = i;
	}
	return len;
}

char *trk_geojson(const struct trk_data *d, const struct trk_geojson_opts *o, size_t *len)
{
	static const char *modes[] = { "all", "vertices", "none" };
	struct xb b = { 0 };
	size_t i, nvalid = 0, nkept = 0, first = (size_t)-1, last = 0;
	int comma = 0;

	for (i = 0; i < d->nfix; i++) {
		if (!d->fix[i].valid)
			continue;
		nvalid++;
		if (o->keep && !o->keep[i])
			continue;
		nkept++;
		if (first == (size_t)-1)
			first = i;
		last = i;
	}
	xb_printf(&b, "{\"type\":\"FeatureCollection\",\"vessel\":%ld,\"vessel_name\":", d->vessel_id);
	xb_json_str(&b, d->vessel ? vessel_name(d) : NULL);
	xb_str(&b, ",\"from\":");
	xb_iso(&b, d->from_ms, 1);
	xb_str(&b, ",\"to\":");
	xb_iso(&b, d->to_ms, 1);
	xb_printf(&b, ",\"points_in_range\":%zu,\"simplify_m\":", nvalid);
	xb_num(&b, o->simplify_m);
	xb_printf(&b, ",\"positions_mode\":\"%s\",\"position_limit\":%d,\"stop_radius_m\":",
		  modes[o->positions_mode], TRK_POSITION_LIMIT);
	xb_num(&b, d->sp.radius_m);
	xb_str(&b, ",\"stop_min_s\":");
	xb_num(&b, d->sp.min_s);
	xb_str(&b, ",\"stop_max_kn\":");
	xb_num(&b, d->sp.max_kn);
	if (o->export_doc) {
		char *t;

		if (d->vessel && (t = json_dumps(d->vessel, JSON_COMPACT))) {
			xb_str(&b, ",\"vessel_detail\":");
			xb_str(&b, t);
			free(t);
		}
		if (d->alert && (t = json_dumps(d->alert, JSON_COMPACT))) {
			xb_str(&b, ",\"alert\":");
			xb_str(&b, t);
			free(t);
		}
	}
	xb_str(&b, ",\"features\":[");

	/* the line */
	if (nkept >= 2) {
		xb_str(&b, "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[");
		for (i = 0; i < d->nfix; i++) {
			if (!d->fix[i].valid || (o->keep && !o->keep[i]))
				continue;
			xb_str(&b, comma ? ",[" : "[");
			xb_coord(&b, d->fix[i].lon);
			xb_add(&b, ",", 1);
			xb_coord(&b, d->fix[i].lat);
			xb_add(&b, "]", 1);
			comma = 1;
		}
		xb_printf(&b, "]},\"properties\":{\"kind\":\"track\",\"points\":%zu,\"points_in_range\":%zu,"
			  "\"simplify_m\":", nkept, nvalid);
		xb_num(&b, o->simplify_m);
		xb_str(&b, ",\"start\":");
		xb_iso(&b, d->fix[first].t_ms, 1);
		xb_str(&b, ",\"end\":");
		xb_iso(&b, d->fix[last].t_ms, 1);
		xb_str(&b, ",\"length_m\":");
		xb_num(&b, round(track_length_m(d) * 10) / 10);
		xb_printf(&b, ",\"positions_mode\":\"%s\"}}", modes[o->positions_mode]);
		comma = 1;
	} else {
		comma = 0;
	}

	/* the positions */
	for (i = 0; o->positions_mode != 2 && i < d->nfix; i++) {
		const struct trk_fix *f = &d->fix[i];

		if (o->positions_mode == 1 && (!f->valid || (o->keep && !o->keep[i])))
			continue;
		xb_str(&b, comma ? ",{" : "{");
		comma = 1;
		xb_str(&b, "\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[");
		xb_coord(&b, f->lon);
		xb_add(&b, ",", 1);
		xb_coord(&b, f->lat);
		xb_str(&b, "]},\"properties\":{\"kind\":\"position\",\"time\":");
		xb_iso(&b, f->t_ms, 1);
		xb_str(&b, ",\"speed_kn\":");
		xb_num(&b, f->speed_kn);
		xb_str(&b, ",\"course\":");
		xb_num(&b, f->course);
		xb_str(&b, ",\"blind\":");
		json_bool(&b, f->blind);
		xb_str(&b, ",\"fix_valid\":");
		json_bool(&b, f->valid);
		if (o->export_doc) {
			xb_str(&b, ",\"protocol\":");
			xb_json_str(&b, f->protocol);
			xb_str(&b, ",\"received\":");
			if (f->recv_ms)
				xb_iso(&b, f->recv_ms, 1);
			else
				xb_str(&b, "null");
		}
		if (d->alert) {
			xb_str(&b, ",\"evidence\":");
			json_bool(&b, f->evidence);
		}
		xb_str(&b, "}}");
	}

	/* the stops */
	for (i = 0; i < d->nstop; i++) {
		const struct trk_stop *s = &d->stop[i];

		xb_str(&b, comma ? ",{" : "{");
		comma = 1;
		xb_str(&b, "\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[");
		xb_coord(&b, s->lon);
		xb_add(&b, ",", 1);
		xb_coord(&b, s->lat);
		xb_printf(&b, "]},\"properties\":{\"kind\":\"stop\",\"n\":%zu,\"start\":", i + 1);
		xb_iso(&b, s->start_ms, 1);
		xb_str(&b, ",\"end\":");
		xb_iso(&b, s->end_ms, 1);
		xb_str(&b, ",\"duration_s\":");
		xb_num(&b, (double)(s->end_ms - s->start_ms) / 1000.0);
		xb_printf(&b, ",\"positions\":%d,\"spread_m\":", s->n);
		xb_num(&b, round(s->spread_m * 10) / 10);
		xb_str(&b, "}}");
	}

	/* the zones entered */
	for (i = 0; i < d->nvisit; i++) {
		const struct trk_visit *v = &d->visit[i];

		xb_str(&b, comma ? ",{" : "{");
		comma = 1;
		xb_str(&b, "\"type\":\"Feature\",\"geometry\":");
		xb_str(&b, v->geojson ? v->geojson : "null");
		xb_str(&b, ",\"properties\":{\"kind\":\"zone_visit\",\"layer\":");
		xb_json_str(&b, v->layer);
		xb_str(&b, ",\"layer_kind\":");
		xb_json_str(&b, v->layer_kind);
		xb_str(&b, ",\"code\":");
		xb_json_str(&b, v->code);
		xb_str(&b, ",\"name\":");
		xb_json_str(&b, v->name);
		xb_str(&b, ",\"enter\":");
		xb_iso(&b, v->enter_ms, 1);
		xb_str(&b, ",\"exit\":");
		xb_iso(&b, v->exit_ms, 1);
		xb_str(&b, ",\"duration_s\":");
		xb_num(&b, (double)(v->exit_ms - v->enter_ms) / 1000.0);
		xb_str(&b, ",\"inside_at_start\":");
		json_bool(&b, v->at_start);
		xb_str(&b, ",\"inside_at_end\":");
		json_bool(&b, v->at_end);
		xb_str(&b, "}}");
	}
	xb_str(&b, "]}");
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* ---------------------------------------------------------------- formats */

int trk_format_parse(const char *ext)
{
	if (!ext)
		return 0;
	if (!strcmp(ext, "geojson"))
		return TF_GEOJSON;
	if (!strcmp(ext, "kml"))
		return TF_KML;
	if (!strcmp(ext, "gpx"))
		return TF_GPX;
	if (!strcmp(ext, "csv"))
		return TF_CSV;
	if (!strcmp(ext, "html"))
		return TF_HTML;
	return 0;
}

const char *trk_format_ext(int f)
{
	switch (f) {
	case TF_GEOJSON: return "geojson";
	case TF_KML: return "kml";
	case TF_GPX: return "gpx";
	case TF_CSV: return "csv";
	case TF_HTML: return "html";
	}
	return "bin";
}

const char *trk_format_ctype(int f)
{
	switch (f) {
	case TF_GEOJSON: return "application/geo+json";
	case TF_KML: return "application/vnd.google-earth.kml+xml";
	case TF_GPX: return "application/gpx+xml";
	case TF_CSV: return "text/csv; charset=utf-8";
	case TF_HTML: return "text/html; charset=utf-8";
	}
	return "application/octet-stream";
}

/* ------------------------------------------------------------- GDAL / OGR */

static pthread_once_t ogr_once = PTHREAD_ONCE_INIT;
/* one export at a time through GDAL: exports are rare, and some drivers
 * (libkml) are not known to be safe on several threads at once */
static pthread_mutex_t ogr_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ulong ogr_seq;

static void ogr_register(void)
{
	GDALAllRegister();
}

static int add_field(OGRLayerH l, const char *name, OGRFieldType t, OGRFieldSubType st)
{
	OGRFieldDefnH f = OGR_Fld_Create(name, t);
	OGRErr e;

	if (st != OFSTNone)
		OGR_Fld_SetSubType(f, st);
	e = OGR_L_CreateField(l, f, TRUE);
	OGR_Fld_Destroy(f);
	return e == OGRERR_NONE ? 0 : -1;
}

static void set_str(OGRFeatureH f, const char *field, const char *v)
{
	int i = OGR_F_GetFieldIndex(f, field);

	if (i >= 0 && v)
		OGR_F_SetFieldString(f, i, v);
}

static void set_int(OGRFeatureH f, const char *field, long long v)
{
	int i = OGR_F_GetFieldIndex(f, field);

	if (i >= 0)
		OGR_F_SetFieldInteger64(f, i, v);
}

static void set_real(OGRFeatureH f, const char *field, double v)
{
	int i = OGR_F_GetFieldIndex(f, field);

	if (i >= 0 && isfinite(v))
		OGR_F_SetFieldDouble(f, i, v);
}

/* A DateTime field in UTC+8 (OGR's TZ flag 100 + 8 * 4). */
static void set_time(OGRFeatureH f, const char *field, int64_t ms)
{
	int i = OGR_F_GetFieldIndex(f, field);
	int64_t l = ms + 8 * 3600000LL, days = l >= 0 ? l / 86400000 : (l - 86399999) / 86400000;
	int64_t rem = l - days * 86400000;
	int y, m, dd;

	if (i < 0)
		return;
	fmt_civil_from_days(days, &y, &m, &dd);
	OGR_F_SetFieldDateTimeEx(f, i, y, m, dd, (int)(rem / 3600000), (int)(rem / 60000 % 60),
				 (float)((double)(rem % 60000) / 1000.0), 132);
}

static void set_iso(OGRFeatureH f, const char *field, int64_t ms)
{
	char t[40];

	*fmt_iso_cst(t, ms) = '\0';
	set_str(f, field, t);
}

static OGRGeometryH point_geom(double lon, double lat)
{
	OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);

	OGR_G_SetPoint_2D(g, 0, lon, lat);
	return g;
}

static size_t count_valid(const struct trk_data *d)
{
	size_t i, n = 0;

	for (i = 0; i < d->nfix; i++)
		n += d->fix[i].valid != 0;
	return n;
}

static int first_last_valid(const struct trk_data *d, size_t *first, size_t *last)
{
	size_t i;
	int any = 0;

	for (i = 0; i < d->nfix; i++) {
		if (!d->fix[i].valid)
			continue;
		if (!any)
			*first = i;
		*last = i;
		any = 1;
	}
	return any;
}

/* Stop label: "停泊 1 Stop 1". */
static void stop_name(char *buf, size_t len, size_t i)
{
	snprintf(buf, len, "停泊 %zu Stop %zu", i + 1, i + 1);
}

static int create_put(OGRLayerH l, OGRFeatureH f)
{
	int e = OGR_L_CreateFeature(l, f) == OGRERR_NONE ? 0 : -1;

	OGR_F_Destroy(f);
	return e;
}

static int write_kml(GDALDatasetH ds, const struct trk_data *d, OGRSpatialReferenceH srs)
{
	OGRLayerH lt, lp, ls, lz;
	OGRFeatureH f;
	size_t i, first = 0, last = 0;
	char buf[256], a[40], b[40];
	int rc = 0;

	/* the line of the valid fixes */
	lt = GDALDatasetCreateLayer(ds, "track", srs, wkbLineString, NULL);
	if (!lt || add_field(lt, "name", OFTString, OFSTNone) ||
	    add_field(lt, "description", OFTString, OFSTNone) ||
	    add_field(lt, "begin", OFTDateTime, OFSTNone) || add_field(lt, "end", OFTDateTime, OFSTNone) ||
	    add_field(lt, "points", OFTInteger, OFSTNone) || add_field(lt, "length_m", OFTReal, OFSTNone))
		return -1;
	if (count_valid(d) >= 2 && first_last_valid(d, &first, &last)) {
		OGRGeometryH g = OGR_G_CreateGeometry(wkbLineString);

		for (i = 0; i < d->nfix; i++)
			if (d->fix[i].valid)
				OGR_G_AddPoint_2D(g, d->fix[i].lon, d->fix[i].lat);
		f = OGR_F_Create(OGR_L_GetLayerDefn(lt));
		OGR_F_SetGeometryDirectly(f, g);
		set_str(f, "name", d->vessel ? vessel_name(d) : "");
		trk_local_time(d->fix[first].t_ms, a, sizeof(a));
		trk_local_time(d->fix[last].t_ms, b, sizeof(b));
		snprintf(buf, sizeof(buf), "轨迹 Track %s – %s (UTC+8)", a, b);
		set_str(f, "description", buf);
		set_time(f, "begin", d->fix[first].t_ms);
		set_time(f, "end", d->fix[last].t_ms);
		set_int(f, "points", (long long)count_valid(d));
		set_real(f, "length_m", round(track_length_m(d) * 10) / 10);
		OGR_F_SetStyleString(f, "PEN(c:#1F4E9CFF,w:3px)");
		rc |= create_put(lt, f);
	}

	/* every fix */
	lp = GDALDatasetCreateLayer(ds, "positions", srs, wkbPoint, NULL);
	if (!lp || add_field(lp, "timestamp", OFTDateTime, OFSTNone) ||
	    add_field(lp, "speed_kn", OFTReal, OFSTNone) || add_field(lp, "course", OFTReal, OFSTNone) ||
	    add_field(lp, "fix_valid", OFTInteger, OFSTBoolean) ||
	    add_field(lp, "blind", OFTInteger, OFSTBoolean) ||
	    add_field(lp, "protocol", OFTString, OFSTNone) ||
	    (d->alert && add_field(lp, "evidence", OFTInteger, OFSTBoolean)))
		return -1;
	for (i = 0; i < d->nfix && !rc; i++) {
		const struct trk_fix *x = &d->fix[i];

		f = OGR_F_Create(OGR_L_GetLayerDefn(lp));
		OGR_F_SetGeometryDirectly(f, point_geom(x->lon, x->lat));
		set_time(f, "timestamp", x->t_ms);
		set_real(f, "speed_kn", x->speed_kn);
		set_real(f, "course", x->course);
		set_int(f, "fix_valid", x->valid);
		set_int(f, "blind", x->blind);
		set_str(f, "protocol", x->protocol);
		if (d->alert)
			set_int(f, "evidence", x->evidence);
		rc |= create_put(lp, f);
	}

	/* the stops */
	ls = GDALDatasetCreateLayer(ds, "stops", srs, wkbPoint, NULL);
	if (!ls || add_field(ls, "name", OFTString, OFSTNone) ||
	    add_field(ls, "description", OFTString, OFSTNone) ||
	    add_field(ls, "begin", OFTDateTime, OFSTNone) || add_field(ls, "end", OFTDateTime, OFSTNone) ||
	    add_field(ls, "duration_s", OFTReal, OFSTNone) ||
	    add_field(ls, "positions", OFTInteger, OFSTNone) ||
	    add_field(ls, "spread_m", OFTReal, OFSTNone))
		return -1;
	for (i = 0; i < d->nstop && !rc; i++) {
		const struct trk_stop *s = &d->stop[i];

		f = OGR_F_Create(OGR_L_GetLayerDefn(ls));
		OGR_F_SetGeometryDirectly(f, point_geom(s->lon, s->lat));
		stop_name(buf, sizeof(buf), i);
		set_str(f, "name", buf);
		trk_local_time(s->start_ms, a, sizeof(a));
		trk_local_time(s->end_ms, b, sizeof(b));
		snprintf(buf, sizeof(buf), "%s – %s (UTC+8), %.0f s", a, b,
			 (double)(s->end_ms - s->start_ms) / 1000.0);
		set_str(f, "description", buf);
		set_time(f, "begin", s->start_ms);
		set_time(f, "end", s->end_ms);
		set_real(f, "duration_s", (double)(s->end_ms - s->start_ms) / 1000.0);
		set_int(f, "positions", s->n);
		set_real(f, "spread_m", round(s->spread_m * 10) / 10);
		rc |= create_put(ls, f);
	}

	/* the zones entered */
	lz = GDALDatasetCreateLayer(ds, "zone_visits", srs, wkbUnknown, NULL);
	if (!lz || add_field(lz, "name", OFTString, OFSTNone) ||
	    add_field(lz, "description", OFTString, OFSTNone) ||
	    add_field(lz, "begin", OFTDateTime, OFSTNone) || add_field(lz, "end", OFTDateTime, OFSTNone) ||
	    add_field(lz, "layer", OFTString, OFSTNone) ||
	    add_field(lz, "layer_kind", OFTString, OFSTNone) ||
	    add_field(lz, "code", OFTString, OFSTNone) ||
	    add_field(lz, "duration_s", OFTReal, OFSTNone))
		return -1;
	for (i = 0; i < d->nvisit && !rc; i++) {
		const struct trk_visit *v = &d->visit[i];
		OGRGeometryH g = v->geojson ? OGR_G_CreateGeometryFromJson(v->geojson) : NULL;

		f = OGR_F_Create(OGR_L_GetLayerDefn(lz));
		if (g)
			OGR_F_SetGeometryDirectly(f, g);
		set_str(f, "name", v->name);
		trk_local_time(v->enter_ms, a, sizeof(a));
		trk_local_time(v->exit_ms, b, sizeof(b));
		snprintf(buf, sizeof(buf), "%s %s: %s – %s (UTC+8)", v->layer ? v->layer : "",
			 v->code ? v->code : "", a, b);
		set_str(f, "description", buf);
		set_time(f, "begin", v->enter_ms);
		set_time(f, "end", v->exit_ms);
		set_str(f, "layer", v->layer);
		set_str(f, "layer_kind", v->layer_kind);
		set_str(f, "code", v->code);
		set_real(f, "duration_s", (double)(v->exit_ms - v->enter_ms) / 1000.0);
		OGR_F_SetStyleString(f, "BRUSH(fc:#FF880040);PEN(c:#FF8800FF,w:2px)");
		rc |= create_put(lz, f);
	}
	return rc;
}

static int write_gpx(GDALDatasetH ds, const struct trk_data *d, OGRSpatialReferenceH srs)
{
	OGRLayerH lw, lp;
	OGRFeatureH f;
	size_t i;
	char buf[256], a[40], b[40];
	int rc = 0;

	/* GPX wants its waypoints before its tracks: the stops first */
	lw = GDALDatasetCreateLayer(ds, "waypoints", srs, wkbPoint, NULL);
	if (!lw || add_field(lw, "end_time", OFTString, OFSTNone) ||
	    add_field(lw, "duration_s", OFTReal, OFSTNone) ||
	    add_field(lw, "positions", OFTInteger, OFSTNone))
		return -1;
	for (i = 0; i < d->nstop && !rc; i++) {
		const struct trk_stop *s = &d->stop[i];

		f = OGR_F_Create(OGR_L_GetLayerDefn(lw));
		OGR_F_SetGeometryDirectly(f, point_geom(s->lon, s->lat));
		stop_name(buf, sizeof(buf), i);
		set_str(f, "name", buf);
		trk_local_time(s->start_ms, a, sizeof(a));
		trk_local_time(s->end_ms, b, sizeof(b));
		snprintf(buf, sizeof(buf), "%s – %s (UTC+8), %.0f s, %d fixes", a, b,
			 (double)(s->end_ms - s->start_ms) / 1000.0, s->n);
		set_str(f, "desc", buf);
		set_str(f, "type", "stop");
		set_time(f, "time", s->start_ms);
		set_iso(f, "end_time", s->end_ms);
		set_real(f, "duration_s", (double)(s->end_ms - s->start_ms) / 1000.0);
		set_int(f, "positions", s->n);
		rc |= create_put(lw, f);
	}

	/* one track of the valid fixes */
	lp = GDALDatasetCreateLayer(ds, "track_points", srs, wkbPoint, NULL);
	if (!lp || add_field(lp, "speed_kn", OFTReal, OFSTNone) ||
	    add_field(lp, "course", OFTReal, OFSTNone) ||
	    add_field(lp, "blind", OFTInteger, OFSTBoolean) ||
	    (d->alert && add_field(lp, "evidence", OFTInteger, OFSTBoolean)))
		return -1;
	for (i = 0; i < d->nfix && !rc; i++) {
		const struct trk_fix *x = &d->fix[i];

		if (!x->valid)
			continue;
		f = OGR_F_Create(OGR_L_GetLayerDefn(lp));
		OGR_F_SetGeometryDirectly(f, point_geom(x->lon, x->lat));
		set_int(f, "track_fid", 0);
		set_int(f, "track_seg_id", 0);
		set_str(f, "track_name", d->vessel ? vessel_name(d) : "track");
		set_time(f, "time", x->t_ms);
		set_real(f, "speed_kn", x->speed_kn);
		set_real(f, "course", x->course);
		set_int(f, "blind", x->blind);
		if (d->alert)
			set_int(f, "evidence", x->evidence);
		rc |= create_put(lp, f);
	}
	return rc;
}

static int write_csv(GDALDatasetH ds, const struct trk_data *d)
{
	char **lco = NULL;
	OGRLayerH l;
	size_t i;
	int rc = 0;
	const char *vname = d->vessel ? vessel_name(d) : NULL;

	/* a byte-order mark for spreadsheets, CRLF as RFC 4180 says; no
	 * geometry column: lon and lat are plain numbers */
	lco = CSLSetNameValue(lco, "WRITE_BOM", "YES");
	lco = CSLSetNameValue(lco, "LINEFORMAT", "CRLF");
	lco = CSLSetNameValue(lco, "STRING_QUOTING", "IF_NEEDED");
	l = GDALDatasetCreateLayer(ds, "positions", NULL, wkbNone, lco);
	CSLDestroy(lco);
	if (!l || add_field(l, "seq", OFTInteger, OFSTNone) ||
	    add_field(l, "vessel_id", OFTInteger, OFSTNone) ||
	    add_field(l, "vessel", OFTString, OFSTNone) || add_field(l, "time", OFTString, OFSTNone) ||
	    add_field(l, "lon", OFTReal, OFSTNone) || add_field(l, "lat", OFTReal, OFSTNone) ||
	    add_field(l, "speed_kn", OFTReal, OFSTNone) || add_field(l, "course", OFTReal, OFSTNone) ||
	    add_field(l, "fix_valid", OFTInteger, OFSTBoolean) ||
	    add_field(l, "blind", OFTInteger, OFSTBoolean) ||
	    add_field(l, "protocol", OFTString, OFSTNone) ||
	    add_field(l, "received", OFTString, OFSTNone) ||
	    add_field(l, "alarm_bits", OFTInteger64, OFSTNone) ||
	    (d->alert && add_field(l, "evidence", OFTInteger, OFSTBoolean)) ||
	    add_field(l, "raw", OFTString, OFSTNone))
		return -1;
	for (i = 0; i < d->nfix && !rc; i++) {
		const struct trk_fix *x = &d->fix[i];
		OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(l));

		set_int(f, "seq", (long long)i + 1);
		if (d->vessel_id)
			set_int(f, "vessel_id", d->vessel_id);
		set_str(f, "vessel", vname);
		set_iso(f, "time", x->t_ms);
		set_real(f, "lon", x->lon);
		set_real(f, "lat", x->lat);
		set_real(f, "speed_kn", x->speed_kn);
		set_real(f, "course", x->course);
		set_int(f, "fix_valid", x->valid);
		set_int(f, "blind", x->blind);
		set_str(f, "protocol", x->protocol);
		if (x->recv_ms)
			set_iso(f, "received", x->recv_ms);
		set_int(f, "alarm_bits", x->alarm_bits);
		if (d->alert)
			set_int(f, "evidence", x->evidence);
		set_str(f, "raw", x->raw);
		rc |= create_put(l, f);
	}
	return rc;
}

char *trk_ogr_write(const struct trk_data *d, int format, size_t *len, char *err, size_t errlen)
{
	const char *drv_name, *file;
	GDALDriverH drv = NULL;
	char dir[96], path[160], **dsco = NULL, *out = NULL;
	OGRSpatialReferenceH srs;
	GDALDatasetH ds;
	int rc = -1;

	pthread_once(&ogr_once, ogr_register);
	switch (format) {
	case TF_KML:
		drv_name = "LIBKML";
		if (!(drv = GDALGetDriverByName(drv_name)))
			drv_name = "KML"; /* without libkml: the plain KML writer */
		file = "track.kml";
		break;
	case TF_GPX:
		drv_name = "GPX";
		file = "track.gpx";
		dsco = CSLSetNameValue(dsco, "GPX_USE_EXTENSIONS", "YES");
		dsco = CSLSetNameValue(dsco, "GPX_EXTENSIONS_NS", "sw");
		dsco = CSLSetNameValue(dsco, "GPX_EXTENSIONS_NS_URL", "https://shorewatch.invalid/gpx/1");
		break;
	case TF_CSV:
		drv_name = "CSV";
		file = "track.csv";
		break;
	default:
		snprintf(err, errlen, "not a GDAL export format");
		return NULL;
	}
	if (!drv)
		drv = GDALGetDriverByName(drv_name);
	if (!drv) {
		snprintf(err, errlen, "GDAL has no %s driver", drv_name);
		CSLDestroy(dsco);
		return NULL;
	}
	if (format == TF_KML) {
		char name[300];

		snprintf(name, sizeof(name), "%s", d->vessel ? vessel_name(d) : "Shorewatch");
		if (!strcmp(drv_name, "LIBKML"))
			dsco = CSLSetNameValue(dsco, "NAME", name);
		else
			dsco = CSLSetNameValue(dsco, "NameField", "name");
	}
	snprintf(dir, sizeof(dir), "/vsimem/shorewatch-export-%lu",
		 (unsigned long)atomic_fetch_add(&ogr_seq, 1));
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	srs = OSRNewSpatialReference(NULL);
	pthread_mutex_lock(&ogr_lock);
	CPLPushErrorHandler(CPLQuietErrorHandler);
	CPLErrorReset();
	/* libkml resolves <SchemaData> against its <Schema> for every placemark
	 * (quadratic: minutes for a few thousand fixes); plain <Data> elements
	 * write in linear time and Google Earth and QGIS read them alike */
	CPLSetThreadLocalConfigOption("LIBKML_USE_SIMPLEFIELD", "NO");
	if (srs && OSRImportFromEPSG(srs, 4326) == OGRERR_NONE) {
		OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
		VSIMkdir(dir, 0700);
		ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, dsco);
		if (ds) {
			rc = format == TF_KML ? write_kml(ds, d, srs)
			   : format == TF_GPX ? write_gpx(ds, d, srs)
					      : write_csv(ds, d);
			GDALClose(ds); /* writes the file */
		}
	}
	if (!rc) {
		vsi_l_offset vlen = 0;
		GByte *buf = VSIGetMemFileBuffer(path, &vlen, TRUE);

		if (buf && (out = malloc((size_t)vlen + 1))) {
			memcpy(out, buf, (size_t)vlen);
			out[vlen] = '\0';
			*len = (size_t)vlen;
		}
		CPLFree(buf);
	}
	if (!out)
		snprintf(err, errlen, "%s export failed: %s", drv_name,
			 CPLGetLastErrorMsg()[0] ? CPLGetLastErrorMsg() : "out of memory");
	VSIRmdirRecursive(dir);
	CPLSetThreadLocalConfigOption("LIBKML_USE_SIMPLEFIELD", NULL);
	CPLPopErrorHandler();
	pthread_mutex_unlock(&ogr_lock);
	OSRDestroySpatialReference(srs);
	CSLDestroy(dsco);
	return out;
}

/* -------------------------------------------------------------- the sheet */

#define MAP_W 900
#define MAP_H 560

/* The map's projection: equirectangular about the middle of the data, the
 * same scale in x and y in metres (close enough over a few kilometres for an
 * illustration; the table's coordinates are the evidence). */
struct proj {
	int ok;
	double lon0, lat0, kx, ky, mpp;
};

static double px_x(const struct proj *p, double lon)
{
	return MAP_W / 2.0 + (lon - p->lon0) * p->kx;
}

static double px_y(const struct proj *p, double lat)
{
	return MAP_H / 2.0 - (lat - p->lat0) * p->ky;
}

static void map_fit(const struct trk_data *d, struct proj *p)
{
	const double k = M_PI / 180.0, r = 6371008.8;
	double minlon = 1e9, maxlon = -1e9, minlat = 1e9, maxlat = -1e9, mlon, mlat, w, h;
	size_t i;
	int pass, any = 0;

	for (pass = 0; pass < 2 && !any; pass++)
		for (i = 0; i < d->nfix; i++) {
			const struct trk_fix *f = &d->fix[i];

			if ((!pass && !f->valid) || !isfinite(f->lon) || !isfinite(f->lat))
				continue;
			minlon = fmin(minlon, f->lon);
			maxlon = fmax(maxlon, f->lon);
			minlat = fmin(minlat, f->lat);
			maxlat = fmax(maxlat, f->lat);
			any = 1;
		}
	if (!any && d->alert) {
		json_t *lo = json_object_get(d->alert, "lon"), *la = json_object_get(d->alert, "lat");

		if (json_is_number(lo) && json_is_number(la)) {
			minlon = maxlon = json_number_value(lo);
			minlat = maxlat = json_number_value(la);
			any = 1;
		}
	}
	memset(p, 0, sizeof(*p));
	if (!any)
		return;
	p->lon0 = (minlon + maxlon) / 2;
	p->lat0 = (minlat + maxlat) / 2;
	mlon = k * r * cos(p->lat0 * k);
	mlat = k * r;
	/* some room around the data, and at least 600 m across for context */
	w = fmax((maxlon - minlon) * mlon * 1.25, 600.0);
	h = fmax((maxlat - minlat) * mlat * 1.25, 600.0 * MAP_H / MAP_W);
	p->mpp = fmax(w / MAP_W, h / MAP_H);
	p->kx = mlon / p->mpp;
	p->ky = mlat / p->mpp;
	p->ok = 1;
}

static const char *zone_fill(const char *kind)
{
	if (!strcmp(kind, "river")) return "#cfe3f7";
	if (!strcmp(kind, "mining_zone")) return "#cdebc3";
	if (!strcmp(kind, "parking")) return "#dcdcf5";
	if (!strcmp(kind, "no_mining")) return "#f5cccc";
	return "#fae3bd"; /* protection */
}

static const char *zone_stroke(const char *kind)
{
	if (!strcmp(kind, "river")) return "none";
	if (!strcmp(kind, "mining_zone")) return "#4d9a3a";
	if (!strcmp(kind, "parking")) return "#5b5bb0";
	if (!strcmp(kind, "no_mining")) return "#c0392b";
	return "#d68910";
}

/* The zones (and river water) around the track, clipped to the map and drawn
 * in map pixels by PostGIS. */
static void svg_zones(PGconn *c, struct xb *b, const struct proj *p)
{
	char v[8][40];
	const char *params[8];
	double hw = (MAP_W / 2.0) / p->kx, hh = (MAP_H / 2.0) / p->ky;
	PGresult *r;
	int i, n;

	snprintf(v[0], sizeof(v[0]), "%.9f", p->lon0 - hw);
	snprintf(v[1], sizeof(v[1]), "%.9f", p->lat0 - hh);
	snprintf(v[2], sizeof(v[2]), "%.9f", p->lon0 + hw);
	snprintf(v[3], sizeof(v[3]), "%.9f", p->lat0 + hh);
	snprintf(v[4], sizeof(v[4]), "%.9f", p->kx);
	snprintf(v[5], sizeof(v[5]), "%.9f", p->ky);
	snprintf(v[6], sizeof(v[6]), "%.9f", MAP_W / 2.0 - p->lon0 * p->kx);
	/* ST_AsSVG writes -y: y' = ky * lat - (lat0 * ky + H/2) gives the pixel row */
	snprintf(v[7], sizeof(v[7]), "%.9f", -p->lat0 * p->ky - MAP_H / 2.0);
	for (i = 0; i < 8; i++)
		params[i] = v[i];
	r = PQexecParams(c,
		"WITH b AS (SELECT ST_MakeEnvelope($1::float8, $2::float8, $3::float8, $4::float8, 4326) AS box),"
		" z AS (SELECT l.kind, l.name AS layer, f.code, ST_ClipByBox2D(f.geom, b.box) AS g"
		"  FROM layers l JOIN features f ON f.layer_version_id = l.current_version_id, b"
		"  WHERE l.kind IN ('river', 'mining_zone', 'parking', 'no_mining', 'protection')"
		"  AND ST_Dimension(f.geom) = 2 AND f.geom && b.box)"
		" SELECT kind, code, ST_AsSVG(ST_Simplify(ST_Affine(g, $5::float8, 0, 0, $6::float8,"
		"  $7::float8, $8::float8), 0.3, true), 0, 1), ST_X(ST_Centroid(g)), ST_Y(ST_Centroid(g))"
		" FROM z WHERE NOT ST_IsEmpty(g)"
		" ORDER BY CASE kind WHEN 'river' THEN 0 ELSE 1 END, layer, code",
		8, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_error("sheet: zones: %s", PQresultErrorMessage(r));
		PQclear(r);
		return;
	}
	n = PQntuples(r);
	for (i = 0; i < n; i++) {
		const char *kind = PQgetvalue(r, i, 0);

		if (PQgetisnull(r, i, 2) || !PQgetvalue(r, i, 2)[0])
			continue;
		xb_printf(b, "<path d=\"%s\" fill=\"%s\" fill-opacity=\"%s\" stroke=\"%s\" "
			     "stroke-width=\"1\" fill-rule=\"evenodd\"/>\n",
			  PQgetvalue(r, i, 2), zone_fill(kind), strcmp(kind, "river") ? "0.6" : "1",
			  zone_stroke(kind));
	}
	/* labels above every fill */
	for (i = 0; i < n; i++) {
		double x, y;

		if (!strcmp(PQgetvalue(r, i, 0), "river") || PQgetisnull(r, i, 1) ||
		    PQgetisnull(r, i, 3))
			continue;
		x = px_x(p, strtod(PQgetvalue(r, i, 3), NULL));
		y = px_y(p, strtod(PQgetvalue(r, i, 4), NULL));
		if (x < 20 || x > MAP_W - 20 || y < 12 || y > MAP_H - 6)
			continue;
		xb_printf(b, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\" "
			     "text-anchor=\"middle\">",
			  x, y, zone_stroke(PQgetvalue(r, i, 0)));
		xb_html(b, PQgetvalue(r, i, 1));
		xb_str(b, "</text>\n");
	}
	PQclear(r);
}

static void svg_legend_row(struct xb *b, int row, const char *sym, const char *label)
{
	xb_printf(b, "<g transform=\"translate(10,%d)\">%s<text x=\"26\" y=\"4\" font-size=\"11\" "
		     "fill=\"#222\">%s</text></g>\n",
		  16 + row * 15, sym, label);
}

static void svg_map(PGconn *c, struct xb *b, const struct trk_data *d)
{
	struct proj p;
	size_t i, first = 0, last = 0;
	double lx = -1e9, ly = -1e9, target, p10, step, bar_m, bar_px;
	int rows, row = 0, dots;

	map_fit(d, &p);
	xb_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		     "height=\"%d\" role=\"img\" aria-label=\"轨迹图 Track map\" "
		     "font-family=\"sans-serif\">\n<rect width=\"%d\" height=\"%d\" fill=\"#fbfbf8\"/>\n",
		  MAP_W, MAP_H, MAP_W, MAP_H, MAP_W, MAP_H);
	if (!p.ok) {
		xb_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"16\" "
			     "fill=\"#666\">无定位数据 No positions</text></svg>\n",
			  MAP_W / 2, MAP_H / 2);
		return;
	}
	svg_zones(c, b, &p);

	/* the track: valid fixes, points closer than 0.7 px to the last drawn skipped */
	if (count_valid(d) >= 2) {
		xb_str(b, "<polyline fill=\"none\" stroke=\"#1f4e9c\" stroke-width=\"2\" "
			  "stroke-linejoin=\"round\" stroke-linecap=\"round\" points=\"");
		first_last_valid(d, &first, &last);
		for (i = 0; i < d->nfix; i++) {
			double x, y;

			if (!d->fix[i].valid)
				continue;
			x = px_x(&p, d->fix[i].lon);
			y = px_y(&p, d->fix[i].lat);
			if (i != last && fabs(x - lx) < 0.7 && fabs(y - ly) < 0.7)
				continue;
			xb_printf(b, "%.1f,%.1f ", x, y);
			lx = x;
			ly = y;
		}
		xb_str(b, "\"/>\n");
	}
	dots = count_valid(d) <= 600;
	for (i = 0; i < d->nfix; i++) {
		const struct trk_fix *f = &d->fix[i];

		if (f->evidence)
			xb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"#d62728\" "
				     "stroke=\"#fff\" stroke-width=\"0.8\"/>\n",
				  px_x(&p, f->lon), px_y(&p, f->lat));
		else if (dots && f->valid)
			xb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.6\" fill=\"#1f4e9c\"/>\n",
				  px_x(&p, f->lon), px_y(&p, f->lat));
	}
	if (first_last_valid(d, &first, &last)) {
		xb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"6\" fill=\"#2ca02c\" stroke=\"#fff\" "
			     "stroke-width=\"1.5\"/>\n",
			  px_x(&p, d->fix[first].lon), px_y(&p, d->fix[first].lat));
		xb_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"11\" height=\"11\" fill=\"#7b1010\" "
			     "stroke=\"#fff\" stroke-width=\"1.5\"/>\n",
			  px_x(&p, d->fix[last].lon) - 5.5, px_y(&p, d->fix[last].lat) - 5.5);
	}
	for (i = 0; i < d->nstop; i++) {
		double x = px_x(&p, d->stop[i].lon), y = px_y(&p, d->stop[i].lat);

		xb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"8\" fill=\"#ff8c00\" stroke=\"#fff\" "
			     "stroke-width=\"1.5\"/><text x=\"%.1f\" y=\"%.1f\" font-size=\"10\" "
			     "font-weight=\"bold\" fill=\"#fff\" text-anchor=\"middle\">%zu</text>\n",
			  x, y, x, y + 3.5, i + 1);
	}
	if (d->alert) {
		json_t *lo = json_object_get(d->alert, "lon"), *la = json_object_get(d->alert, "lat");

		if (json_is_number(lo) && json_is_number(la))
			xb_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"12\" fill=\"none\" "
				     "stroke=\"#d62728\" stroke-width=\"2.5\"/>\n",
				  px_x(&p, json_number_value(lo)), px_y(&p, json_number_value(la)));
	}

	/* north arrow (north is up in this projection) */
	xb_printf(b, "<g transform=\"translate(%d,62)\"><circle r=\"22\" fill=\"#fff\" "
		     "fill-opacity=\"0.85\"/><polygon points=\"0,-18 8,12 0,5 -8,12\" fill=\"#222\"/>"
		     "<text y=\"-26\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\" "
		     "fill=\"#222\">N</text></g>\n",
		  MAP_W - 40);

	/* scale bar: a round length near a fifth of the width */
	target = p.mpp * MAP_W / 5;
	p10 = pow(10, floor(log10(target)));
	step = target / p10 >= 5 ? 5 : target / p10 >= 2 ? 2 : 1;
	bar_m = step * p10;
	bar_px = bar_m / p.mpp;
	xb_printf(b, "<g transform=\"translate(20,%d)\"><rect x=\"-8\" y=\"-22\" width=\"%.1f\" "
		     "height=\"34\" fill=\"#fff\" fill-opacity=\"0.85\"/>"
		     "<path d=\"M0,-6 V0 H%.1f V-6 M%.1f,0 V-4\" fill=\"none\" stroke=\"#222\" "
		     "stroke-width=\"2\"/><text x=\"%.1f\" y=\"-9\" text-anchor=\"middle\" "
		     "font-size=\"12\" fill=\"#222\">",
		  MAP_H - 14, bar_px + 16, bar_px, bar_px / 2, bar_px / 2);
	if (bar_m >= 1000)
		xb_printf(b, "%g km", bar_m / 1000);
	else
		xb_printf(b, "%g m", bar_m);
	xb_str(b, "</text></g>\n");

	/* legend */
	rows = d->alert ? 9 : 8;
	xb_printf(b, "<g transform=\"translate(%d,%d)\"><rect width=\"180\" height=\"%d\" "
		     "fill=\"#fff\" fill-opacity=\"0.9\" stroke=\"#999\"/>\n",
		  MAP_W - 190, MAP_H - 16 - rows * 15, rows * 15 + 8);
	svg_legend_row(b, row++, "<path d=\"M0,0 H18\" stroke=\"#1f4e9c\" stroke-width=\"2\"/>",
		       "轨迹 Track");
	svg_legend_row(b, row++, "<circle cx=\"9\" r=\"5\" fill=\"#2ca02c\"/>", "起点 Start");
	svg_legend_row(b, row++, "<rect x=\"4\" y=\"-5\" width=\"10\" height=\"10\" fill=\"#7b1010\"/>",
		       "终点 End");
	svg_legend_row(b, row++, "<circle cx=\"9\" r=\"6\" fill=\"#ff8c00\"/>", "停泊 Stop");
	if (d->alert)
		svg_legend_row(b, row++, "<circle cx=\"9\" r=\"3.5\" fill=\"#d62728\"/>",
			       "证据定位 Evidence fix");
	svg_legend_row(b, row++, "<rect y=\"-5\" width=\"18\" height=\"10\" fill=\"#cdebc3\" stroke=\"#4d9a3a\"/>",
		       "可采区 Mining zone");
	svg_legend_row(b, row++, "<rect y=\"-5\" width=\"18\" height=\"10\" fill=\"#dcdcf5\" stroke=\"#5b5bb0\"/>",
		       "停放点 Parking");
	svg_legend_row(b, row++, "<rect y=\"-5\" width=\"18\" height=\"10\" fill=\"#f5cccc\" stroke=\"#c0392b\"/>",
		       "禁采区 No-mining zone");
	svg_legend_row(b, row++, "<rect y=\"-5\" width=\"18\" height=\"10\" fill=\"#fae3bd\" stroke=\"#d68910\"/>",
		       "保护区 Protection zone");
	xb_str(b, "</g>\n<rect width=\"900\" height=\"560\" fill=\"none\" stroke=\"#888\"/>\n</svg>\n");
}

static const char *label_of(const char *const *tab, const char *key)
{
	size_t i;

	for (i = 0; key && tab[i]; i += 2)
		if (!strcmp(tab[i], key))
			return tab[i + 1];
	return key ? key : "";
}

static const char *const alert_kinds[] = {
	"illegal_stop", "违规停泊 Illegal stop", "outside_zone", "越界作业 Outside permitted zone",
	"off_hours", "超时段作业 Off-hours work", "no_mining_zone", "禁采区作业 In a no-mining zone",
	"protection_zone", "闯入保护区 In a protection zone", "no_permit", "无证作业 No valid permit",
	"unregistered", "未登记终端 Unregistered terminal", "offline", "终端离线 Terminal offline",
	"jump", "位置跳变 Position jump", "device_alarm", "终端报警 Device alarm", NULL,
};
static const char *const layer_kinds[] = {
	"mining_zone", "可采区 Mining zone", "parking", "停放点 Parking", "no_mining",
	"禁采区 No-mining zone", "protection", "保护区 Protection zone", NULL,
};
static const char *const vessel_kinds[] = {
	"sand_mining", "采砂船 Sand mining", "sand_transport", "运砂船 Sand transport", "other",
	"其他 Other", NULL,
};
static const char *const vessel_status[] = {
	"active", "在用 Active", "suspended", "停用 Suspended", "seized", "扣押 Seized", "retired",
	"报废 Retired", NULL,
};
static const char *const alert_states[] = {
	"open", "未处理 Open", "acknowledged", "已确认 Acknowledged", "closed", "已结束 Closed", NULL,
};

/* "HH:MM:SS" of a duration (hours may exceed 24). */
static void xb_dur(struct xb *b, int64_t ms)
{
	long long s = (long long)((ms + 500) / 1000);

	xb_printf(b, "%02lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

static void xb_local(struct xb *b, int64_t ms)
{
	char t[40];

	trk_local_time(ms, t, sizeof(t));
	xb_str(b, t);
}

static void kv_row(struct xb *b, const char *th, const char *td)
{
	xb_str(b, "<tr><th>");
	xb_str(b, th);
	xb_str(b, "</th><td>");
	if (td && *td)
		xb_html(b, td);
	else
		xb_str(b, "—");
	xb_str(b, "</td></tr>\n");
}

/* A JSON value as text (strings as they are). */
static void xb_json_text(struct xb *b, json_t *v)
{
	char *t;

	if (json_is_string(v)) {
		xb_html(b, json_string_value(v));
		return;
	}
	if (!v || json_is_null(v)) {
		xb_str(b, "—");
		return;
	}
	t = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(10));
	xb_html(b, t ? t : "");
	free(t);
}

static const char sheet_css[] =
	"@page{size:A4;margin:14mm 12mm}"
	"body{font-family:'Noto Sans CJK SC','WenQuanYi Micro Hei','Microsoft YaHei','PingFang SC',sans-serif;"
	"font-size:10pt;color:#111;margin:0 auto;max-width:190mm;line-height:1.35}"
	"h1{font-size:17pt;margin:6pt 0 2pt}h2{font-size:12pt;border-bottom:1px solid #888;margin:14pt 0 5pt}"
	"small{font-weight:normal;color:#555;font-size:.78em;margin-left:.4em}"
	"table{border-collapse:collapse;width:100%;margin:2pt 0}"
	"th,td{border:1px solid #bbb;padding:2pt 4pt;text-align:left;vertical-align:top}"
	"th{background:#f2f2f2;font-weight:600}table.kv th{width:30%}"
	"table.pos{font-size:7.5pt}table.pos td.raw{font-family:monospace;word-break:break-all;font-size:7pt;max-width:60mm}"
	"thead{display:table-header-group}tr{page-break-inside:avoid}"
	"tr.ev td{background:#fde2e2}.num{text-align:right;font-variant-numeric:tabular-nums}"
	".hash{font-family:monospace;font-size:11.5pt;word-break:break-all;border:2px solid #333;padding:5pt;margin:4pt 0}"
	"svg{width:100%;height:auto;display:block}figure{margin:0}figcaption{font-size:8pt;color:#555}"
	".meta{color:#444;font-size:9pt}.sign{margin-top:26pt;display:flex;gap:30pt}"
	".sign div{flex:1;border-top:1px solid #333;padding-top:3pt;font-size:9pt}"
	"code{font-family:monospace}";

char *trk_sheet_html(PGconn *c, const struct trk_data *d, const char *csv, size_t csv_len,
		     const struct trk_sheet_info *info, size_t *len, char *err, size_t errlen)
{
	struct xb b = { 0 };
	unsigned char hash[crypto_hash_sha256_BYTES];
	char hex[crypto_hash_sha256_BYTES * 2 + 1], t[64];
	size_t i, nvalid = count_valid(d);
	json_t *a = d->alert, *v;
	const char *title = a ? "告警证据单" : "船舶轨迹证据单";
	const char *title_en = a ? "Alert evidence sheet" : "Vessel track evidence sheet";

	crypto_hash_sha256(hash, (const unsigned char *)csv, csv_len);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));

	xb_str(&b, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
	xb_str(&b, title);
	xb_str(&b, " – ");
	xb_html(&b, d->vessel ? vessel_name(d) : "");
	xb_str(&b, "</title>\n<meta name=\"generator\" content=\"Shorewatch\">\n<style>");
	xb_str(&b, sheet_css);
	xb_str(&b, "</style>\n</head>\n<body>\n<header>\n<h1>");
	xb_str(&b, title);
	xb_printf(&b, "<small>%s</small></h1>\n<p class=\"meta\">生成时间 Generated: ", title_en);
	xb_local(&b, info->generated_ms);
	xb_str(&b, " (UTC+8) · 生成人 By: ");
	xb_html(&b, info->generated_by && *info->generated_by ? info->generated_by : "—");
	xb_str(&b, " · Shorewatch</p>\n</header>\n");

	/* the vessel */
	xb_str(&b, "<section>\n<h2>船舶<small>Vessel</small></h2>\n<table class=\"kv\">\n");
	if (d->vessel) {
		json_t *ve = d->vessel;

		snprintf(t, sizeof(t), "%ld", d->vessel_id);
		kv_row(&b, "船名<small>Name</small>", json_string_value(json_object_get(ve, "name")));
		kv_row(&b, "编号<small>Id</small>", t);
		kv_row(&b, "登记号<small>Registration</small>",
		       json_string_value(json_object_get(ve, "registration")));
		kv_row(&b, "类型<small>Kind</small>",
		       label_of(vessel_kinds, json_string_value(json_object_get(ve, "kind"))));
		kv_row(&b, "终端号<small>Terminal</small>",
		       json_string_value(json_object_get(ve, "terminal")));
		v = json_object_get(ve, "mmsi");
		if (json_is_integer(v))
			snprintf(t, sizeof(t), "%lld", (long long)json_integer_value(v));
		else
			t[0] = '\0';
		kv_row(&b, "MMSI", t);
		kv_row(&b, "船主<small>Owner</small>", json_string_value(json_object_get(ve, "owner")));
		kv_row(&b, "状态<small>Status</small>",
		       label_of(vessel_status, json_string_value(json_object_get(ve, "status"))));
	} else {
		kv_row(&b, "船舶<small>Vessel</small>", "未登记 Not in the registry");
		if (a)
			kv_row(&b, "终端<small>Terminal</small>",
			       json_string_value(json_object_get(a, "subject")));
	}
	xb_str(&b, "</table>\n</section>\n");

	/* permits */
	xb_str(&b, "<section>\n<h2>采砂许可<small>Permits</small></h2>\n");
	if (json_array_size(d->permits)) {
		xb_str(&b, "<table>\n<thead><tr><th>许可证号<small>Number</small></th><th>可采区<small>Zone</small></th>"
			   "<th>有效期<small>Valid</small></th><th>作业时段<small>Hours (UTC+8)</small></th>"
			   "<th>本时段有效<small>Valid in range</small></th></tr></thead>\n<tbody>\n");
		json_array_foreach(d->permits, i, v) {
			xb_str(&b, "<tr><td>");
			xb_html(&b, json_string_value(json_object_get(v, "number")));
			xb_str(&b, "</td><td>");
			xb_html(&b, json_string_value(json_object_get(v, "zone_layer")));
			xb_str(&b, " / ");
			xb_html(&b, json_string_value(json_object_get(v, "zone_code")));
			if (json_string_value(json_object_get(v, "zone_name"))) {
				xb_str(&b, " ");
				xb_html(&b, json_string_value(json_object_get(v, "zone_name")));
			}
			xb_str(&b, "</td><td>");
			xb_html(&b, json_string_value(json_object_get(v, "valid_from")));
			xb_str(&b, " – ");
			xb_html(&b, json_string_value(json_object_get(v, "valid_to")));
			xb_str(&b, "</td><td>");
			xb_html(&b, json_string_value(json_object_get(v, "hours"))
				    ? json_string_value(json_object_get(v, "hours")) : "全天 All day");
			xb_str(&b, json_is_true(json_object_get(v, "in_range")) ? "</td><td>是 Yes</td></tr>\n"
										 : "</td><td>否 No</td></tr>\n");
		}
		xb_str(&b, "</tbody>\n</table>\n");
	} else {
		xb_str(&b, "<p>无采砂许可记录 No permit on record.</p>\n");
	}
	xb_str(&b, "</section>\n");

	/* the alert and its rule */
	if (a) {
		json_t *det = json_object_get(a, "detail");
		const char *key;

		xb_str(&b, "<section>\n<h2>告警与规则<small>Alert and the rule that fired</small></h2>\n"
			   "<table class=\"kv\">\n");
		snprintf(t, sizeof(t), "%lld", (long long)json_integer_value(json_object_get(a, "id")));
		kv_row(&b, "告警编号<small>Alert id</small>", t);
		kv_row(&b, "类型<small>Kind</small>",
		       label_of(alert_kinds, json_string_value(json_object_get(a, "kind"))));
		kv_row(&b, "状态<small>State</small>",
		       label_of(alert_states, json_string_value(json_object_get(a, "state"))));
		snprintf(t, sizeof(t), "%lld", (long long)json_integer_value(json_object_get(a, "severity")));
		kv_row(&b, "级别<small>Severity</small>", t);
		{
			int64_t ms;
			const char *s = json_string_value(json_object_get(a, "opened"));

			xb_str(&b, "<tr><th>开始（设备时间，UTC+8）<small>Opened (device time)</small></th><td>");
			if (s && !sw_parse_iso_time(s, &ms))
				xb_local(&b, ms);
			xb_str(&b, "</td></tr>\n<tr><th>结束<small>Closed</small></th><td>");
			s = json_string_value(json_object_get(a, "closed"));
			if (s && !sw_parse_iso_time(s, &ms))
				xb_local(&b, ms);
			else
				xb_str(&b, "未结束 Not closed");
			xb_str(&b, "</td></tr>\n");
		}
		kv_row(&b, "对象<small>Subject</small>", json_string_value(json_object_get(a, "subject")));
		kv_row(&b, "相关许可<small>Permit</small>", json_string_value(json_object_get(a, "permit")));
		kv_row(&b, "规则<small>Rule</small>", json_string_value(json_object_get(det, "rule")));
		json_object_foreach(det, key, v) {
			if (!strcmp(key, "rule"))
				continue;
			xb_str(&b, "<tr><th><code>");
			xb_html(&b, key);
			xb_str(&b, "</code></th><td>");
			xb_json_text(&b, v);
			xb_str(&b, "</td></tr>\n");
		}
		if (json_is_object(json_object_get(a, "ack"))) {
			json_t *ack = json_object_get(a, "ack");
			char line[512];

			snprintf(line, sizeof(line), "%s %s %s",
				 json_string_value(json_object_get(ack, "by")) ? json_string_value(json_object_get(ack, "by")) : "",
				 json_string_value(json_object_get(ack, "at")) ? json_string_value(json_object_get(ack, "at")) : "",
				 json_string_value(json_object_get(ack, "note")) ? json_string_value(json_object_get(ack, "note")) : "");
			kv_row(&b, "确认<small>Acknowledged</small>", line);
		}
		xb_str(&b, "</table>\n</section>\n");
	}

	/* range and summary */
	xb_str(&b, "<section>\n<h2>时间范围与概况<small>Time range and summary</small></h2>\n<table class=\"kv\">\n"
		   "<tr><th>时间范围（设备时间，UTC+8）<small>Range (device time)</small></th><td>");
	xb_local(&b, d->from_ms);
	xb_str(&b, " – ");
	xb_local(&b, d->to_ms);
	xb_printf(&b, "</td></tr>\n<tr><th>定位记录<small>Positions</small></th><td>%zu "
		      "（有效 valid %zu）</td></tr>\n", d->nfix, nvalid);
	xb_str(&b, "<tr><th>航程<small>Distance</small></th><td>");
	xb_printf(&b, "%.2f km", track_length_m(d) / 1000.0);
	xb_printf(&b, "</td></tr>\n<tr><th>停泊<small>Stops</small></th><td>%zu（≥ %.0f s，半径 radius "
		      "%.0f m，航速 speed ≤ %.1f kn）</td></tr>\n",
		  d->nstop, d->sp.min_s, d->sp.radius_m, d->sp.max_kn);
	xb_printf(&b, "<tr><th>进出区域<small>Zone visits</small></th><td>%zu</td></tr>\n</table>\n</section>\n",
		  d->nvisit);

	/* the map */
	xb_str(&b, "<section>\n<h2>轨迹图<small>Track map</small></h2>\n<figure>\n");
	svg_map(c, &b, d);
	xb_str(&b, "<figcaption>示意图：等距圆柱投影，北向朝上；坐标以下表为准。 Illustration: equirectangular "
		   "projection, north up; the coordinates in the table are authoritative.</figcaption>\n"
		   "</figure>\n</section>\n");

	/* stops */
	xb_str(&b, "<section>\n<h2>停泊<small>Stops</small></h2>\n");
	if (d->nstop) {
		xb_str(&b, "<table>\n<thead><tr><th>#</th><th>开始<small>Start</small></th><th>结束<small>End</small></th>"
			   "<th>时长<small>Duration</small></th><th>定位数<small>Fixes</small></th>"
			   "<th>位置<small>Lon, lat</small></th></tr></thead>\n<tbody>\n");
		for (i = 0; i < d->nstop; i++) {
			const struct trk_stop *s = &d->stop[i];

			xb_printf(&b, "<tr><td>%zu</td><td>", i + 1);
			xb_local(&b, s->start_ms);
			xb_str(&b, "</td><td>");
			xb_local(&b, s->end_ms);
			xb_str(&b, "</td><td>");
			xb_dur(&b, s->end_ms - s->start_ms);
			xb_printf(&b, "</td><td class=\"num\">%d</td><td>%.6f, %.6f</td></tr>\n", s->n,
				  s->lon, s->lat);
		}
		xb_str(&b, "</tbody>\n</table>\n");
	} else {
		xb_str(&b, "<p>无 None.</p>\n");
	}
	xb_str(&b, "</section>\n");

	/* zone visits */
	xb_str(&b, "<section>\n<h2>进出区域<small>Zones entered</small></h2>\n");
	if (d->nvisit) {
		xb_str(&b, "<table>\n<thead><tr><th>区域<small>Zone</small></th><th>类型<small>Kind</small></th>"
			   "<th>图层<small>Layer</small></th><th>进入<small>Enter</small></th>"
			   "<th>离开<small>Exit</small></th><th>时长<small>Duration</small></th></tr></thead>\n<tbody>\n");
		for (i = 0; i < d->nvisit; i++) {
			const struct trk_visit *z = &d->visit[i];

			xb_str(&b, "<tr><td>");
			xb_html(&b, z->code);
			xb_str(&b, " ");
			xb_html(&b, z->name);
			xb_str(&b, "</td><td>");
			xb_html(&b, label_of(layer_kinds, z->layer_kind));
			xb_str(&b, "</td><td>");
			xb_html(&b, z->layer);
			xb_str(&b, "</td><td>");
			xb_local(&b, z->enter_ms);
			xb_str(&b, z->at_start ? "（起始时已在内 inside at start）</td><td>" : "</td><td>");
			xb_local(&b, z->exit_ms);
			xb_str(&b, z->at_end ? "（结束时仍在内 inside at end）</td><td>" : "</td><td>");
			xb_dur(&b, z->exit_ms - z->enter_ms);
			xb_str(&b, "</td></tr>\n");
		}
		xb_str(&b, "</tbody>\n</table>\n");
	} else {
		xb_str(&b, "<p>无 None.</p>\n");
	}
	xb_str(&b, "</section>\n");

	/* integrity */
	xb_str(&b, "<section>\n<h2>数据校验<small>Data integrity</small></h2>\n"
		   "<p>下表全部定位记录（含原始报文）的 CSV 导出文件的 SHA-256 摘要："
		   "<small>SHA-256 of the CSV export of all the positions below, raw messages included:</small></p>\n"
		   "<p class=\"hash\" id=\"sha256\">");
	xb_str(&b, hex);
	xb_str(&b, "</p>\n<table class=\"kv\">\n<tr><th>被校验文件<small>File hashed</small></th><td><code>");
	xb_html(&b, info->csv_filename);
	xb_printf(&b, "</code>（%zu 字节 bytes；UTF-8 带 BOM with BOM，CRLF 换行 line ends）</td></tr>\n"
		      "<tr><th>下载地址<small>Download</small></th><td><code>GET ",
		  csv_len);
	xb_html(&b, info->csv_url);
	xb_str(&b, "</code></td></tr>\n<tr><th>核验方法<small>How to verify</small></th><td><code>sha256sum ");
	xb_html(&b, info->csv_filename);
	xb_str(&b, "</code>（Linux）· <code>certutil -hashfile ");
	xb_html(&b, info->csv_filename);
	xb_str(&b, " SHA256</code>（Windows）</td></tr>\n</table>\n"
		   "<p class=\"meta\">摘要覆盖该 CSV 文件的每一个字节，即本单生成时数据库中上述时间范围内的全部定位记录。"
		   " The hash covers every byte of that file: every position of the range above stored when this "
		   "sheet was made. 下载同一地址得到的文件摘要一致，即证明数据未被改动。 Downloading the same address "
		   "gives a file with the same hash as long as the stored data are unchanged.</p>\n</section>\n");

	/* the positions */
	xb_str(&b, "<section>\n<h2>定位记录与原始报文<small>Positions and raw terminal messages</small></h2>\n"
		   "<table class=\"pos\">\n<thead><tr><th>#</th><th>时间<small>Time (UTC+8)</small></th>"
		   "<th>经度<small>Lon</small></th><th>纬度<small>Lat</small></th>"
		   "<th>航速<small>kn</small></th><th>航向<small>°</small></th>"
		   "<th>有效<small>Valid</small></th><th>补传<small>Blind</small></th>"
		   "<th>协议<small>Protocol</small></th><th>接收<small>Received</small></th>");
	if (a)
		xb_str(&b, "<th>证据<small>Evidence</small></th>");
	xb_str(&b, "<th>原始报文（十六进制）<small>Raw message (hex)</small></th></tr></thead>\n<tbody>\n");
	for (i = 0; i < d->nfix; i++) {
		const struct trk_fix *f = &d->fix[i];

		xb_printf(&b, "<tr%s><td class=\"num\">%zu</td><td>", f->evidence ? " class=\"ev\"" : "",
			  i + 1);
		xb_local(&b, f->t_ms);
		xb_printf(&b, "</td><td class=\"num\">%.7f</td><td class=\"num\">%.7f</td><td class=\"num\">",
			  f->lon, f->lat);
		if (isfinite(f->speed_kn))
			xb_printf(&b, "%.1f", f->speed_kn);
		xb_str(&b, "</td><td class=\"num\">");
		if (isfinite(f->course))
			xb_printf(&b, "%.0f", f->course);
		xb_printf(&b, "</td><td>%s</td><td>%s</td><td>", f->valid ? "是" : "否",
			  f->blind ? "是" : "");
		xb_html(&b, f->protocol);
		xb_str(&b, "</td><td>");
		if (f->recv_ms)
			xb_local(&b, f->recv_ms);
		if (a)
			xb_str(&b, f->evidence ? "</td><td>是</td>" : "</td><td></td>");
		else
			xb_str(&b, "</td>");
		xb_str(&b, "<td class=\"raw\">");
		if (f->raw)
			xb_html(&b, f->raw);
		else
			xb_str(&b, "—");
		xb_str(&b, "</td></tr>\n");
	}
	if (!d->nfix)
		xb_printf(&b, "<tr><td colspan=\"%d\">无 None.</td></tr>\n", a ? 12 : 11);
	xb_str(&b, "</tbody>\n</table>\n<p class=\"meta\">“—”表示无原始报文（例如经 HTTP 接口转入的定位）。"
		   " “—” means no raw message was received (e.g. positions forwarded over the HTTP API).</p>\n"
		   "</section>\n<footer>\n<div class=\"sign\"><div>执法人员签名 Officer</div>"
		   "<div>当事人签名 Party</div><div>日期 Date</div></div>\n</footer>\n</body>\n</html>\n");
	if (b.oom) {
		free(b.p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*len = b.len;
	return b.p;
}
