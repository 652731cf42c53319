/* api_upload.c -- POST /api/layers: a planner's GIS file, streamed to disk, becomes a new layer version. */
#include <jansson.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http.h"
#include "load.h"
#include "log.h"

/*
 * POST /api/layers?kind=KIND&name=NAME[&code_field=F&s_srs=SRS&encoding=ENC
 *   &layer=SRC_LAYER&filename=ORIGINAL.ext&skip_invalid=1], the file as the raw body.
 *
 * http.c streams the body into a private temporary directory (this route's
 * table is a streaming one); the handler takes that directory over and hands
 * it to a database worker, which renames the body after the original file's
 * extension (GDAL picks drivers by it), runs load_file and deletes the
 * directory whatever happened. The answer is the whole load report (201,
 * upload_report: counts, the repaired and skipped features with their row,
 * fid and reason, the CRS used, warnings) or one
 * error line naming the original file, the feature and the reason. The live
 * "layer" event comes from load_file's NOTIFY shorewatch_layer (main.c's
 * listener), as for every other loader.
 */

/* How each accepted extension is opened: zipped ones through /vsizip/. */
static const struct {
	const char *ext;
	int zipped;
} upload_formats[] = {
	{ ".zip", 1 },  { ".kmz", 1 },  { ".geojson", 0 }, { ".json", 0 },
	{ ".gpkg", 0 }, { ".kml", 0 },  { ".csv", 0 },     { ".dxf", 0 },
};

#define UPLOAD_FORMATS ".zip (zipped shapefile), .kmz, .geojson, .json, .gpkg, .kml, .csv, .dxf"

/* The last path component of a client's file name ("C:\fakepath\a.zip" and
 * "dir/a.zip" give "a.zip"). Borrowed from s. */
static const char *upload_base(const char *s)
{
	const char *b = s, *p;

	for (p = s; *p; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	return b;
}

/* Index into upload_formats of file's extension, or -1. */
static int upload_format(const char *file)
{
	const char *dot = strrchr(file, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(upload_formats) / sizeof(upload_formats[0]); i++)
		if (!strcasecmp(dot, upload_formats[i].ext))
			return (int)i;
	return -1;
}

/* Replaces every occurrence of from in buf (NUL-terminated, capacity cap)
 * with to, truncating if needed. */
static void str_replace_all(char *buf, size_t cap, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to);
	char *p = buf;

	if (!fl)
		return;
	while ((p = strstr(p, from))) {
		size_t tail = strlen(p + fl), off = (size_t)(p - buf);

		if (off + tl >= cap)
			return;
		if (off + tl + tail >= cap)
			tail = cap - 1 - off - tl;
		memmove(p + tl, p + fl, tail);
		p[tl + tail] = '\0';
		memcpy(p, to, tl);
		p += tl;
	}
}

/* The HTTP status of a load_file error. */
static int upload_status(int rc)
{
	switch (rc) {
	case LOAD_ERR_KIND: return 409;
	case LOAD_ERR_DB: return 500;
	default: return 400;
	}
}

/* The name the upload is stored under in its private directory: the client's file name without
 * its extension (GDAL names a GeoJSON's, KML's or CSV's layer after the file, and that name is
 * shown in the report as the source layer), characters that have a meaning in paths or for
 * /vsizip/ replaced by '_'; "upload" when nothing is left. */
static void upload_stored_name(const char *source, const char *ext, char *out, size_t len)
{
	size_t n = strlen(source), el = strlen(ext), i;
	int cut = 0;

	if (n > el)
		n -= el; /* upload_format() matched this extension at the end */
	if (n >= len) {
		n = len - 1;
		cut = 1;
	}
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)source[i];

		out[i] = (ch < 0x20 || ch == 0x7f || strchr("/\\:*?\"<>|", ch)) ? '_' : (char)ch;
	}
	/* a name cut short must not end inside a UTF-8 sequence */
	while (cut && n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
		n--;
	if (cut && n > 0 && (unsigned char)out[n - 1] >= 0xc0)
		n--;
	out[n] = '\0';
	if (!out[0] || out[0] == '.')
		snprintf(out, len, "upload");
}

/* One repaired or skipped feature of the report: {"row", "fid" (null without one), "id" (the
 * stored feature's id; repaired ones only), "reason"}. */
static json_t *report_item(const struct load_item *it, int stored)
{
	json_t *o = json_pack("{s:I, s:o, s:s}", "row", (json_int_t)it->row, "fid",
			      it->fid >= 0 ? json_integer(it->fid) : json_null(), "reason", it->reason);

	if (o && stored)
		json_object_set_new(o, "id", json_integer(it->id));
	return o;
}

/* The whole load report (a new reference, NULL without memory):
 *   layer, kind, version, features, repaired, skipped, closed_polylines (DXF), source_srs and
 *   srs_from ("file" or "s_srs": which one the load used), driver, source_layer, loaded_by,
 *   source_file, skip_invalid, warnings [lines], repaired_features and skipped_features (the
 *   first LOAD_LISTED of each, [{row, fid, id, reason}]; the counts are exact). */
static json_t *upload_report(const struct load_result *res, const struct load_opts *lo,
			     const char *source)
{
	json_t *rep, *rl = json_array(), *sl = json_array(), *wl = json_array();
	int i;

	for (i = 0; rl && i < res->repaired_listed; i++)
		json_array_append_new(rl, report_item(&res->repaired_items[i], 1));
	for (i = 0; sl && i < res->skipped_listed; i++)
		json_array_append_new(sl, report_item(&res->skipped_items[i], 0));
	for (i = 0; wl && i < res->warning_count; i++)
		json_array_append_new(wl, json_string(res->warnings[i]));
	rep = json_pack("{s:s, s:s, s:i, s:I, s:I, s:I, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:b,"
			" s:o, s:o, s:o}",
			"layer", res->name, "kind", lo->kind, "version", res->version,
			"features", (json_int_t)res->feature_count,
			"repaired", (json_int_t)res->repaired_count,
			"skipped", (json_int_t)res->skipped_count,
			"closed_polylines", (json_int_t)res->closed_count,
			"source_srs", res->source_srs, "srs_from", res->srs_given ? "s_srs" : "file",
			"driver", res->driver, "source_layer", res->source_layer,
			"loaded_by", lo->loaded_by ? lo->loaded_by : "", "source_file", source,
			"skip_invalid", lo->skip_invalid,
			"warnings", wl ? wl : json_array(), "repaired_features", rl ? rl : json_array(),
			"skipped_features", sl ? sl : json_array());
	return rep;
}

/* Worker thread. j->arg: the upload directory (taken over from the
 * request); j->arg2: the options as a JSON object. Loads the file and
 * removes the directory; j->out gets the report (201) or {"error"}. */
static void run_upload(PGconn *c, struct db_job *j)
{
	json_t *o = json_loads(j->arg2, 0, NULL);
	const char *dir = j->arg, *source;
	char body[320], file[600], gdal[620], err[1024], stem[256];
	struct load_opts lo;
	struct load_result res;
	int fmt, rc;

	snprintf(body, sizeof(body), "%s/" HTTP_UPLOAD_FILE, dir);
	if (!o) {
		unlink(body);
		rmdir(dir);
		db_job_error(j, 500, "out of memory");
		return;
	}
	source = json_string_value(json_object_get(o, "filename"));
	fmt = upload_format(source);
	upload_stored_name(source, upload_formats[fmt].ext, stem, sizeof(stem));
	snprintf(file, sizeof(file), "%s/%s%s", dir, stem, upload_formats[fmt].ext);
	snprintf(gdal, sizeof(gdal), "%s%s", upload_formats[fmt].zipped ? "/vsizip/" : "", file);
	memset(&lo, 0, sizeof(lo));
	lo.path = gdal;
	lo.kind = json_string_value(json_object_get(o, "kind"));
	lo.name = json_string_value(json_object_get(o, "name"));
	lo.code_field = json_string_value(json_object_get(o, "code_field"));
	lo.s_srs = json_string_value(json_object_get(o, "s_srs"));
	lo.encoding = json_string_value(json_object_get(o, "encoding"));
	lo.src_layer = json_string_value(json_object_get(o, "layer"));
	lo.loaded_by = json_string_value(json_object_get(o, "loaded_by"));
	lo.ledger_map = json_string_value(json_object_get(o, "ledger_map"));
	lo.source_name = source;
	lo.skip_invalid = json_is_true(json_object_get(o, "skip_invalid"));

	if (rename(body, file)) {
		snprintf(err, sizeof(err), "%s: cannot store the upload", source);
		rc = LOAD_ERR_DB;
	} else {
		rc = load_file(c, &lo, &res, err, sizeof(err));
	}
	unlink(body);
	unlink(file);
	if (rmdir(dir))
		log_warn("upload: cannot remove %s", dir);

	if (rc) {
		/* the client knows its file by its own name, not our temp path */
		str_replace_all(err, sizeof(err), gdal, source);
		str_replace_all(err, sizeof(err), file, source);
		str_replace_all(err, sizeof(err), dir, source);
		db_job_error(j, upload_status(rc), err);
	} else {
		json_t *rep = upload_report(&res, &lo, source);

		j->out = rep ? json_dumps(rep, JSON_COMPACT) : NULL;
		j->out_len = j->out ? strlen(j->out) : 0;
		j->status = j->out ? 201 : 500;
		json_decref(rep);
	}
	json_decref(o);
}

/* Copies query argument name into o as a string if present and non-empty. */
static void opt_arg(struct http_req *r, json_t *o, const char *name)
{
	char v[512];

	if (http_query(r, name, v, sizeof(v)) > 0)
		json_object_set_new(o, name, json_string(v));
}

/* Service thread: POST /api/layers (planner). Checks the arguments, takes
 * the streamed file over and queues the load. */
static void api_layer_upload(struct sw_server *s, struct http_req *r)
{
	char kind[64], name[256], filename[256], msg[512];
	const char *base;
	struct db_job *j;
	json_t *o;
	int fmt;

	if (!r->upload_dir[0] || !r->body_len) {
		http_error(r, 400, "the request body must be the file (Content-Length required)");
		return;
	}
	if (http_query(r, "filename", filename, sizeof(filename)) <= 0)
		snprintf(filename, sizeof(filename), "upload.geojson");
	base = upload_base(filename);
	fmt = upload_format(base);
	if (fmt < 0) {
		snprintf(msg, sizeof(msg), "%s: unsupported file type; upload one of " UPLOAD_FORMATS,
			 base);
		http_error(r, 400, msg);
		return;
	}
	if (http_query(r, "kind", kind, sizeof(kind)) <= 0 || !load_kind_valid(kind)) {
		snprintf(msg, sizeof(msg),
			 "%s: kind must be shoreline_project, mining_zone, parking, no_mining, "
			 "protection, function_zone or river",
			 base);
		http_error(r, 400, msg);
		return;
	}
	if (http_query(r, "name", name, sizeof(name)) <= 0) {
		/* the file's base name without its extension */
		snprintf(name, sizeof(name), "%.*s", (int)(strrchr(base, '.') - base), base);
	}
	o = json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "name", name, "filename", base,
		      "loaded_by", r->who.username[0] ? r->who.username : "unknown");
	if (!o) {
		http_error(r, 400, "the arguments must be UTF-8 text");
		return;
	}
	opt_arg(r, o, "code_field");
	opt_arg(r, o, "s_srs");
	opt_arg(r, o, "encoding");
	opt_arg(r, o, "layer");
	if (http_query(r, "skip_invalid", msg, sizeof(msg)) >= 0)
		json_object_set_new(o, "skip_invalid",
				    json_boolean(!msg[0] || !strcmp(msg, "1") || !strcmp(msg, "true")));
	if (s->cfg->ledger_map[0])
		json_object_set_new(o, "ledger_map", json_string(s->cfg->ledger_map));
	j = db_job_new(run_upload, NULL, 0);
	if (j) {
		j->arg = strdup(r->upload_dir);
		j->arg2 = json_dumps(o, JSON_COMPACT);
		if (!j->arg || !j->arg2) {
			db_job_free(j);
			j = NULL;
		}
	}
	json_decref(o);
	if (j)
		r->upload_dir[0] = r->upload_path[0] = '\0'; /* the worker deletes it now */
	http_submit_job(s, r, j);
}

const struct http_route upload_routes[] = {
	{ HM_POST, "/api/layers", ROLE_PLANNER, api_layer_upload },
	{ 0, NULL, ROLE_NONE, NULL },
};
