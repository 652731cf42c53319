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
 *   &layer=SRC_LAYER&filename=ORIGINAL.ext], the file as the raw body.
 *
 * http.c streams the body into a private temporary directory (this route's
 * table is a streaming one); the handler takes that directory over and hands
 * it to a database worker, which renames the body after the original file's
 * extension (GDAL picks drivers by it), runs load_file and deletes the
 * directory whatever happened. The answer is the load report (201) or one
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

/* Worker thread. j->arg: the upload directory (taken over from the
 * request); j->arg2: the options as a JSON object. Loads the file and
 * removes the directory; j->out gets the report (201) or {"error"}. */
static void run_upload(PGconn *c, struct db_job *j)
{
	json_t *o = json_loads(j->arg2, 0, NULL);
	const char *dir = j->arg, *source;
	char body[320], file[320], gdal[340], err[1024];
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
	snprintf(file, sizeof(file), "%s/upload%s", dir, upload_formats[fmt].ext);
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
		json_t *rep = json_pack("{s:s, s:s, s:i, s:I, s:I, s:s, s:s, s:s}", "layer", res.name,
					"kind", lo.kind, "version", res.version, "features",
					(json_int_t)res.feature_count, "repaired",
					(json_int_t)res.repaired_count, "source_srs", res.source_srs,
					"loaded_by", lo.loaded_by, "source_file", source);

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
