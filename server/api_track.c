/* api_track.c -- tracks, history queries and evidence exports.
 *
 *   GET  /api/vessels/{id}/track?from=&to=&simplify=&stop_radius=&stop_min_s=&stop_max_kn=
 *   GET  /api/vessels/{id}/track.{geojson,kml,gpx,csv}?from=&to=
 *   GET  /api/vessels/{id}/track/evidence.html?from=&to=
 *   GET  /api/alerts/{id}/evidence.{geojson,kml,gpx,csv,html}[?to=]
 *   POST /api/query/within   {"geometry", "from", "to"}
 *
 * Parameters are checked here on the service thread; the work (queries,
 * stops, GDAL writing, the sheet) runs on a database worker (export.c).
 */
#include <ctype.h>
#include <libpq-fe.h>
#include <libwebsockets.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export.h"
#include "fmt.h"
#include "http.h"
#include "log.h"

#define DAY_MS (86400LL * 1000)
#define TRACK_MAX_RANGE_MS (366 * DAY_MS)
#define WITHIN_MAX_RANGE_MS (31 * DAY_MS)
#define SIMPLIFY_MAX_M 10000.0

/* What a job needs from the request (the job's arg, malloc'd). */
struct trk_args {
	long vessel_id;
	long long alert_id;
	int64_t from_ms, to_ms;
	int to_given;
	double simplify_m;
	struct trk_stop_params sp;
	int format;               /* 0: the track API; else enum trk_format */
	char user[64];
};

/* ISO-8601 with an offset; a '+' that reached us as a space (an unencoded
 * "+08:00" in a query string) is taken as '+'. 0 or -1. */
static int parse_time(const char *in, int64_t *ms)
{
	char t[64];
	size_t i;

	if (strlen(in) >= sizeof(t))
		return -1;
	strcpy(t, in);
	for (i = 19; i < strlen(t); i++)
		if (t[i] == ' ')
			t[i] = '+';
	return sw_parse_iso_time(t, ms);
}

/* A time query argument: 1 given (*ms set), 0 absent, -1 after answering 400. */
static int time_arg(struct http_req *r, const char *name, int64_t *ms)
{
	char buf[1024], msg[200];

	if (http_query(r, name, buf, sizeof(buf)) < 0)
		return 0;
	if (!buf[0] || parse_time(buf, ms)) {
		snprintf(msg, sizeof(msg), "\"%s\" must be an ISO-8601 time with an offset, "
					  "e.g. 2024-05-01T08:00:00+08:00", name);
		http_error(r, 400, msg);
		return -1;
	}
	return 1;
}

/* A number query argument in [lo, hi]: 1 given, 0 absent, -1 after answering 400. */
static int num_arg(struct http_req *r, const char *name, double lo, double hi, double *v)
{
	char buf[1024], msg[200], *end;
	double x;

	if (http_query(r, name, buf, sizeof(buf)) < 0)
		return 0;
	x = strtod(buf, &end);
	if (!buf[0] || *end || !isfinite(x) || x < lo || x > hi) {
		snprintf(msg, sizeof(msg), "\"%s\" must be a number from %g to %g", name, lo, hi);
		http_error(r, 400, msg);
		return -1;
	}
	*v = x;
	return 1;
}

/* from/to ("to" defaults to now, "from" to 24 hours before "to") and the
 * stop thresholds. 0 or -1 after answering 400. */
static int range_args(struct http_req *r, struct trk_args *a, int64_t max_ms)
{
	int hf, ht;
	char msg[160];

	if ((hf = time_arg(r, "from", &a->from_ms)) < 0 || (ht = time_arg(r, "to", &a->to_ms)) < 0)
		return -1;
	a->to_given = ht;
	if (!ht)
		a->to_ms = sw_now_ms();
	if (!hf)
		a->from_ms = a->to_ms - DAY_MS;
	if (a->from_ms > a->to_ms) {
		http_error(r, 400, "\"from\" is after \"to\"");
		return -1;
	}
	if (a->to_ms - a->from_ms > max_ms) {
		snprintf(msg, sizeof(msg), "the time range may not exceed %lld days",
			 (long long)(max_ms / DAY_MS));
		http_error(r, 400, msg);
		return -1;
	}
	a->sp.radius_m = TRK_STOP_RADIUS_M;
	a->sp.min_s = TRK_STOP_MIN_S;
	a->sp.max_kn = TRK_STOP_MAX_KN;
	if (num_arg(r, "stop_radius", 1, 10000, &a->sp.radius_m) < 0 ||
	    num_arg(r, "stop_min_s", 1, 30 * 86400, &a->sp.min_s) < 0 ||
	    num_arg(r, "stop_max_kn", 0, 100, &a->sp.max_kn) < 0)
		return -1;
	return 0;
}

static struct trk_args *args_new(struct http_req *r)
{
	struct trk_args *a = calloc(1, sizeof(*a));

	if (!a) {
		http_error(r, 500, "out of memory");
		return NULL;
	}
	if (r->have_identity)
		snprintf(a->user, sizeof(a->user), "%s", r->who.username);
	return a;
}

/* lws drops a transaction that shows no progress for its timeout_secs (5 s);
 * a long track or a large export may take longer on the worker. */
#define TRK_JOB_TIMEOUT_S 300

static void submit(struct sw_server *s, struct http_req *r, struct trk_args *a, db_run_fn run,
		   db_done_fn done)
{
	struct db_job *j = db_job_new(run, done, 0);

	if (!j) {
		free(a);
		http_error(r, 500, "out of memory");
		return;
	}
	j->arg = (char *)a;
	lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, TRK_JOB_TIMEOUT_S);
	http_submit_job(s, r, j);
}

/* ------------------------------------------------------------------ track */

/* Marks the fixes that are vertices of the track simplified by PostGIS:
 * the line of the valid fixes with their times as M, in the UTM zone of its
 * centroid (metres), ST_Simplify (Douglas-Peucker, which keeps the M of the
 * vertices it keeps), the kept vertices' M back to fixes. 0 or -1. */
static int simplify_keep(PGconn *c, const struct trk_args *a, const struct trk_data *d,
			 unsigned char *keep)
{
	char id[24], t0[40], t1[40], tol[32];
	const char *params[4] = { id, t0, t1, tol };
	PGresult *r;
	int i, n;
	size_t lo = 0;

	snprintf(id, sizeof(id), "%ld", a->vessel_id);
	*fmt_pg_ts(t0, d->from_ms) = '\0';
	*fmt_pg_ts(t1, d->to_ms) = '\0';
	snprintf(tol, sizeof(tol), "%.6f", a->simplify_m);
	r = PQexecParams(c,
		"WITH l AS (SELECT ST_SetSRID(ST_MakeLine(ST_MakePointM(ST_X(geom), ST_Y(geom),"
		"   extract(epoch FROM device_time)::float8) ORDER BY device_time, recv_time), 4326) AS g"
		"  FROM positions WHERE vessel_id = $1::int AND fix_valid"
		"  AND device_time >= $2::timestamptz AND device_time <= $3::timestamptz),"
		" u AS (SELECT g, CASE WHEN ST_Y(ST_Centroid(g)) >= 0 THEN 32600 ELSE 32700 END"
		"   + least(60, greatest(1, floor((ST_X(ST_Centroid(g)) + 180) / 6)::int + 1)) AS srid"
		"  FROM l WHERE ST_NPoints(g) >= 2)"
		" SELECT round(ST_M(p.geom) * 1000)::int8"
		" FROM u, ST_DumpPoints(ST_Simplify(ST_Transform(u.g, u.srid), $4::float8, true)) p"
		" ORDER BY p.path",
		4, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_error("track: simplify: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	n = PQntuples(r);
	/* the vertices come in time order, like the fixes */
	for (i = 0; i < n; i++) {
		int64_t t = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		size_t k;

		for (k = lo; k < d->nfix; k++) {
			if (!d->fix[k].valid || d->fix[k].t_ms < t || keep[k])
				continue;
			if (d->fix[k].t_ms == t) {
				keep[k] = 1;
				lo = k + 1;
			}
			break;
		}
	}
	PQclear(r);
	return 0;
}

static void run_track(PGconn *c, struct db_job *j)
{
	const struct trk_args *a = (const struct trk_args *)j->arg;
	struct trk_data d;
	struct trk_geojson_opts o = { 0 };
	unsigned char *keep = NULL;
	size_t i, nvalid = 0, nkept = 0;
	int st;

	memset(&d, 0, sizeof(d));
	d.vessel_id = a->vessel_id;
	d.from_ms = a->from_ms;
	d.to_ms = a->to_ms;
	d.valid_only = 1;
	d.sp = a->sp;
	j->iarg[3] = 1; /* GeoJSON */
	st = trk_load_track(c, &d, TRK_MAX_FIXES);
	if (st != 200) {
		db_job_error(j, st, d.err[0] ? d.err : "error");
		trk_free(&d);
		return;
	}
	o.simplify_m = a->simplify_m;
	for (i = 0; i < d.nfix; i++)
		nvalid += d.fix[i].valid != 0;
	if (a->simplify_m > 0 && nvalid >= 3) {
		keep = calloc(d.nfix, 1);
		if (!keep || simplify_keep(c, a, &d, keep)) {
			free(keep);
			trk_free(&d);
			db_job_error(j, 500, "cannot simplify the track");
			return;
		}
		for (i = 0; i < d.nfix; i++)
			nkept += keep[i];
		o.keep = keep;
		/* every fix while they are few; the line's vertices while those
		 * are few; none beyond */
		o.positions_mode = nvalid <= TRK_POSITION_LIMIT ? 0 : nkept <= TRK_POSITION_LIMIT ? 1 : 2;
	}
	j->out = trk_geojson(&d, &o, &j->out_len);
	j->status = j->out ? 200 : 500;
	if (!j->out)
		db_job_error(j, 500, "out of memory");
	free(keep);
	trk_free(&d);
}

static void api_track(struct sw_server *s, struct http_req *r)
{
	long long id = http_parse_id(r->params[0], 9007199254740991LL);
	struct trk_args *a;
	int hs;

	if (id < 0 || id > 2147483647LL) {
		http_error(r, 404, "no such vessel");
		return;
	}
	if (!(a = args_new(r)))
		return;
	a->vessel_id = (long)id;
	if (range_args(r, a, TRACK_MAX_RANGE_MS) ||
	    (hs = num_arg(r, "simplify", 0, SIMPLIFY_MAX_M, &a->simplify_m)) < 0) {
		free(a);
		return;
	}
	/* by default: every fix up to a day, 10 m beyond */
	if (!hs)
		a->simplify_m = a->to_ms - a->from_ms < DAY_MS ? 0 : 10;
	submit(s, r, a, run_track, NULL);
}

/* ---------------------------------------------------------------- exports */

/* RFC 8187 percent-encoding of a UTF-8 file name into out. */
static size_t pct_encode(const char *in, char *out, size_t len)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in; in++) {
		unsigned char ch = (unsigned char)*in;

		if (isalnum(ch) || strchr("!#$&+-.^_`|~", ch)) {
			if (o + 1 >= len)
				break;
			out[o++] = (char)ch;
		} else {
			if (o + 3 >= len)
				break;
			out[o++] = '%';
			out[o++] = hexd[ch >> 4];
			out[o++] = hexd[ch & 15];
		}
	}
	out[o] = '\0';
	return o;
}

/* "attachment; filename=\"ascii\"; filename*=UTF-8''<name><suffix>" within
 * the room a response header has: the first suffix that fits with the whole
 * name, else the name shortened (whole characters) before the last suffix. */
static char *disposition(const char *ascii, const char *name, const char *const *suffix, int nsuf)
{
	char head[160], nm[200], full[400], enc[400], out[sizeof(head) + sizeof(enc) + 24];
	size_t n, room = sizeof(((struct http_req *)0)->extra_value[0]) - 1, fixed;
	int i;

	snprintf(head, sizeof(head), "attachment; filename=\"%s\"", ascii);
	fixed = strlen(head) + strlen("; filename*=UTF-8''");
	snprintf(nm, sizeof(nm), "%s", name ? name : "");
	for (i = 0;; i = i + 1 < nsuf ? i + 1 : i) {
		snprintf(full, sizeof(full), "%s%s", nm, suffix[i]);
		pct_encode(full, enc, sizeof(enc));
		if (fixed + strlen(enc) <= room)
			break;
		if (i + 1 < nsuf)
			continue;
		n = strlen(nm);
		if (!n)
			return strdup(head);
		/* drop the last whole UTF-8 character */
		do
			n--;
		while (n && ((unsigned char)nm[n] & 0xC0) == 0x80);
		nm[n] = '\0';
	}
	snprintf(out, sizeof(out), "%s; filename*=UTF-8''%s", head, enc);
	return strdup(out);
}

/* "20240501-0800" (local time) */
static void stamp(int64_t ms, char *buf, size_t len)
{
	char t[40];

	*fmt_iso_cst(t, ms) = '\0';
	snprintf(buf, len, "%.4s%.2s%.2s-%.2s%.2s", t, t + 5, t + 8, t + 11, t + 14);
}

/* Query-string-safe ISO time ("+" and ":" escaped). */
static void url_time(int64_t ms, char *buf, size_t len)
{
	char t[40];
	size_t i, o = 0;

	*fmt_iso_cst(t, ms) = '\0';
	for (i = 0; t[i] && o + 4 < len; i++) {
		if (t[i] == '+' || t[i] == ':')
			o += (size_t)snprintf(buf + o, len - o, "%%%02X", (unsigned char)t[i]);
		else
			buf[o++] = t[i];
	}
	buf[o] = '\0';
}

/* The ASCII file name of a download (also named in the sheet). */
static void ascii_name(const struct trk_args *a, const struct trk_data *d, int format, char *buf,
		       size_t len)
{
	char st[32];

	if (a->alert_id) {
		snprintf(buf, len, "alert-%lld-evidence.%s", a->alert_id, trk_format_ext(format));
	} else {
		stamp(d->from_ms, st, sizeof(st));
		snprintf(buf, len, "track-%ld-%s%s.%s", a->vessel_id, st,
			 format == TF_HTML ? "-evidence" : "", trk_format_ext(format));
	}
}

static void run_export(PGconn *c, struct db_job *j)
{
	const struct trk_args *a = (const struct trk_args *)j->arg;
	int html = a->format == TF_HTML;
	struct trk_data d;
	char err[300], ascii[128], suf[4][96], st[32];
	const char *vname, *ext, *sufp[4];
	int status, k;

	memset(&d, 0, sizeof(d));
	d.sp = a->sp;
	if (a->alert_id) {
		status = trk_load_alert(c, &d, a->alert_id, a->to_given ? a->to_ms : 0,
					html ? TRK_SHEET_MAX_FIXES : TRK_MAX_FIXES);
	} else {
		d.vessel_id = a->vessel_id;
		d.from_ms = a->from_ms;
		d.to_ms = a->to_ms;
		status = trk_load_track(c, &d, html ? TRK_SHEET_MAX_FIXES : TRK_MAX_FIXES);
	}
	if (status != 200) {
		db_job_error(j, status, d.err[0] ? d.err : "error");
		trk_free(&d);
		return;
	}
	err[0] = '\0';
	if (a->format == TF_GEOJSON) {
		struct trk_geojson_opts o = { 0 };

		o.export_doc = 1;
		j->out = trk_geojson(&d, &o, &j->out_len);
		if (!j->out)
			snprintf(err, sizeof(err), "out of memory");
	} else if (!html) {
		j->out = trk_ogr_write(&d, a->format, &j->out_len, err, sizeof(err));
	} else {
		size_t csv_len = 0;
		char *csv = trk_ogr_write(&d, TF_CSV, &csv_len, err, sizeof(err));
		char url[400], tf[64], tt[64], csvname[128];
		struct trk_sheet_info info;

		if (csv) {
			url_time(d.to_ms, tt, sizeof(tt));
			if (a->alert_id) {
				snprintf(url, sizeof(url), "/api/alerts/%lld/evidence.csv?to=%s", a->alert_id, tt);
			} else {
				url_time(d.from_ms, tf, sizeof(tf));
				snprintf(url, sizeof(url), "/api/vessels/%ld/track.csv?from=%s&to=%s",
					 a->vessel_id, tf, tt);
			}
			ascii_name(a, &d, TF_CSV, csvname, sizeof(csvname));
			memset(&info, 0, sizeof(info));
			info.csv_url = url;
			info.csv_filename = csvname;
			info.generated_by = a->user;
			info.generated_ms = sw_now_ms();
			if (trk_load_permits(c, &d))
				snprintf(err, sizeof(err), "database error");
			else
				j->out = trk_sheet_html(c, &d, csv, csv_len, &info, &j->out_len, err,
							sizeof(err));
			free(csv);
		}
	}
	if (!j->out) {
		log_error("export: %s", err);
		db_job_error(j, 500, err[0] ? err : "export failed");
		trk_free(&d);
		return;
	}
	/* the file names: ASCII, and the vessel's own name for those who can */
	ascii_name(a, &d, a->format, ascii, sizeof(ascii));
	vname = json_string_value(json_object_get(d.vessel, "name"));
	ext = trk_format_ext(a->format);
	stamp(d.from_ms, st, sizeof(st));
	if (a->alert_id) {
		snprintf(suf[0], sizeof(suf[0]), "-告警%lld-证据.%s", a->alert_id, ext);
		snprintf(suf[1], sizeof(suf[1]), "-告警%lld.%s", a->alert_id, ext);
		snprintf(suf[2], sizeof(suf[2]), "-%lld.%s", a->alert_id, ext);
		if (!vname)
			vname = "未登记终端";
	} else {
		snprintf(suf[0], sizeof(suf[0]), "-%s-%s.%s", html ? "轨迹证据单" : "轨迹", st, ext);
		snprintf(suf[1], sizeof(suf[1]), "-%s%s.%s", html ? "证据单-" : "", st, ext);
		snprintf(suf[2], sizeof(suf[2]), "-%s.%s", st, ext);
	}
	snprintf(suf[3], sizeof(suf[3]), ".%s", ext);
	for (k = 0; k < 4; k++)
		sufp[k] = suf[k];
	free(j->arg2);
	j->arg2 = disposition(ascii, vname, sufp, 4);
	j->status = 200;
	trk_free(&d);
}

static void done_export(struct db_job *j, void *ctx)
{
	struct http_req *r = http_job_claim(ctx, j);
	const struct trk_args *a = (const struct trk_args *)j->arg;

	if (!r)
		return;
	if (j->status != 200) {
		http_job_answer(r, j);
		return;
	}
	if (j->arg2)
		http_add_header(r, "content-disposition:", j->arg2);
	http_respond(r, 200, trk_format_ctype(a->format), j->out, j->out_len);
	j->out = NULL;
}

static void export_track(struct sw_server *s, struct http_req *r, int format)
{
	long long id = http_parse_id(r->params[0], 9007199254740991LL);
	struct trk_args *a;

	if (id < 0 || id > 2147483647LL) {
		http_error(r, 404, "no such vessel");
		return;
	}
	if (!(a = args_new(r)))
		return;
	a->vessel_id = (long)id;
	a->format = format;
	if (range_args(r, a, TRACK_MAX_RANGE_MS)) {
		free(a);
		return;
	}
	submit(s, r, a, run_export, done_export);
}

static void api_track_export(struct sw_server *s, struct http_req *r)
{
	int f = trk_format_parse(r->params[1]);

	if (!f || f == TF_HTML) {
		http_error(r, 404, "no such format: use .geojson, .kml, .gpx or .csv");
		return;
	}
	export_track(s, r, f);
}

static void api_track_sheet(struct sw_server *s, struct http_req *r)
{
	export_track(s, r, TF_HTML);
}

static void api_alert_export(struct sw_server *s, struct http_req *r)
{
	long long id = http_parse_id(r->params[0], 9007199254740991LL);
	int f = trk_format_parse(r->params[1]);
	struct trk_args *a;
	int ht;

	if (id < 0) {
		http_error(r, 404, "no such alert");
		return;
	}
	if (!f) {
		http_error(r, 404, "no such format: use .geojson, .kml, .gpx, .csv or .html");
		return;
	}
	if (!(a = args_new(r)))
		return;
	a->alert_id = id;
	a->format = f;
	a->sp.radius_m = TRK_STOP_RADIUS_M;
	a->sp.min_s = TRK_STOP_MIN_S;
	a->sp.max_kn = TRK_STOP_MAX_KN;
	/* the range is the alert's own; "to" pins the end of an open one */
	if ((ht = time_arg(r, "to", &a->to_ms)) < 0 ||
	    num_arg(r, "stop_radius", 1, 10000, &a->sp.radius_m) < 0 ||
	    num_arg(r, "stop_min_s", 1, 30 * 86400, &a->sp.min_s) < 0 ||
	    num_arg(r, "stop_max_kn", 0, 100, &a->sp.max_kn) < 0) {
		free(a);
		return;
	}
	a->to_given = ht;
	submit(s, r, a, run_export, done_export);
}

/* ----------------------------------------------------------------- within */

static void run_within(PGconn *c, struct db_job *j)
{
	char t0[40], t1[40], msg[400];
	const char *p1[1] = { j->arg };
	const char *p3[3] = { j->arg, t0, t1 };
	PGresult *r;
	int srid;

	*fmt_pg_ts(t0, j->iarg[0]) = '\0';
	*fmt_pg_ts(t1, j->iarg[1]) = '\0';
	r = PQexecParams(c,
		"SELECT ST_IsValid(g), ST_IsValidReason(g), ST_SRID(g), ST_XMin(g), ST_XMax(g),"
		" ST_YMin(g), ST_YMax(g), ST_IsEmpty(g) FROM (SELECT ST_GeomFromGeoJSON($1) AS g) s",
		1, NULL, p1, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		/* PostGIS names what is wrong with the GeoJSON */
		snprintf(msg, sizeof(msg), "geometry: %s",
			 PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
				 ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : "not valid GeoJSON");
		PQclear(r);
		db_job_error(j, 400, msg);
		return;
	}
	srid = atoi(PQgetvalue(r, 0, 2));
	if (PQgetvalue(r, 0, 7)[0] == 't') {
		db_job_error(j, 400, "geometry: the polygon is empty");
	} else if (srid != 0 && srid != 4326) {
		db_job_error(j, 400, "geometry: coordinates must be WGS84 lon/lat (EPSG:4326)");
	} else if (atof(PQgetvalue(r, 0, 3)) < -180 || atof(PQgetvalue(r, 0, 4)) > 180 ||
		   atof(PQgetvalue(r, 0, 5)) < -90 || atof(PQgetvalue(r, 0, 6)) > 90) {
		db_job_error(j, 400, "geometry: coordinates are not lon/lat degrees");
	} else if (PQgetvalue(r, 0, 0)[0] != 't') {
		snprintf(msg, sizeof(msg), "geometry is not valid: %s", PQgetvalue(r, 0, 1));
		db_job_error(j, 400, msg);
	} else {
		PQclear(r);
		/* the device-time bounds prune the monthly partitions; ST_Covers
		 * uses the positions' GiST index */
		r = PQexecParams(c,
			"WITH g AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON($1), 4326) AS g),"
			" hits AS (SELECT p.vessel_id, min(p.device_time) AS first,"
			"  max(p.device_time) AS last, count(*) AS n FROM positions p, g"
			"  WHERE p.device_time >= $2::timestamptz AND p.device_time <= $3::timestamptz"
			"  AND p.fix_valid AND ST_Covers(g.g, p.geom) GROUP BY p.vessel_id)"
			" SELECT json_build_object('from', sw_iso($2::timestamptz), 'to', sw_iso($3::timestamptz),"
			"  'vessels', coalesce(json_agg(json_build_object('id', v.id, 'name', v.name,"
			"  'kind', v.kind, 'first', sw_iso(h.first), 'last', sw_iso(h.last),"
			"  'positions', h.n) ORDER BY v.id), '[]'))"
			" FROM hits h JOIN vessels v ON v.id = h.vessel_id",
			3, NULL, p3, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_TUPLES_OK)
			api_pg_error(j, r, "within");
		else
			db_job_take_json(j, r, 200);
	}
	PQclear(r);
}

static void api_within(struct sw_server *s, struct http_req *r)
{
	json_t *b = http_body_json(r), *g, *f, *t;
	const char *type;
	int64_t from = 0, to = 0;
	struct db_job *j;
	char *text;

	if (!b)
		return;
	g = json_object_get(b, "geometry");
	type = json_string_value(json_object_get(g, "type"));
	if (!json_is_object(b) || !json_is_object(g) || !type ||
	    (strcmp(type, "Polygon") && strcmp(type, "MultiPolygon"))) {
		json_decref(b);
		http_error(r, 400, "\"geometry\" must be a GeoJSON Polygon or MultiPolygon");
		return;
	}
	f = json_object_get(b, "from");
	t = json_object_get(b, "to");
	if ((f && (!json_is_string(f) || parse_time(json_string_value(f), &from))) ||
	    (t && (!json_is_string(t) || parse_time(json_string_value(t), &to)))) {
		json_decref(b);
		http_error(r, 400, "\"from\" and \"to\" must be ISO-8601 times with an offset");
		return;
	}
	if (!t)
		to = sw_now_ms();
	if (!f)
		from = to - DAY_MS;
	if (from > to) {
		json_decref(b);
		http_error(r, 400, "\"from\" is after \"to\"");
		return;
	}
	if (to - from > WITHIN_MAX_RANGE_MS) {
		json_decref(b);
		http_error(r, 400, "the time range may not exceed 31 days");
		return;
	}
	text = json_dumps(g, JSON_COMPACT);
	json_decref(b);
	j = text ? db_job_new(run_within, NULL, 0) : NULL;
	if (!j) {
		free(text);
		http_error(r, 500, "out of memory");
		return;
	}
	j->arg = text;
	j->iarg[0] = from;
	j->iarg[1] = to;
	http_submit_job(s, r, j);
}

const struct http_route track_routes[] = {
	{ HM_GET, "/api/vessels/{}/track", ROLE_VIEWER, api_track },
	{ HM_GET, "/api/vessels/{}/track.{}", ROLE_VIEWER, api_track_export },
	{ HM_GET, "/api/vessels/{}/track/evidence.html", ROLE_VIEWER, api_track_sheet },
	{ HM_GET, "/api/alerts/{}/evidence.{}", ROLE_VIEWER, api_alert_export },
	{ HM_POST, "/api/query/within", ROLE_VIEWER, api_within },
	{ 0, NULL, ROLE_NONE, NULL },
};
