/* layer_read.c -- GDAL/OGR bridge: open, choose a layer, reproject to EPSG:4326 lon/lat, hand over. */
#include "layer_read.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

static pthread_once_t layer_read_once = PTHREAD_ONCE_INIT;

static void layer_read_register(void)
{
	GDALAllRegister();
}

/* GDAL reports through an error handler; this one, pushed for the duration of a read on this
 * thread only, keeps the last failure (or, lacking one, the last warning) for our message. */
struct layer_read_errs {
	char failure[400];
	char warning[400];
	int failures;
};

static void copy_one_line(char *dst, size_t len, const char *src)
{
	size_t i;

	for (i = 0; src[i] && i + 1 < len; i++)
		dst[i] = (src[i] == '\n' || src[i] == '\r') ? ' ' : src[i];
	dst[i] = '\0';
}

static void CPL_STDCALL layer_read_error_handler(CPLErr cls, CPLErrorNum num, const char *msg)
{
	struct layer_read_errs *e = CPLGetErrorHandlerUserData();

	if (!e || !msg)
		return;
	if (cls == CE_Failure || cls == CE_Fatal) {
		copy_one_line(e->failure, sizeof(e->failure), msg);
		e->failures++;
	} else if (cls == CE_Warning) {
		copy_one_line(e->warning, sizeof(e->warning), msg);
	}
}

const char *layer_read_status_str(int code)
{
	switch (code) {
	case LAYER_READ_OK: return "ok";
	case LAYER_READ_ERR_ARG: return "bad arguments";
	case LAYER_READ_ERR_OPEN: return "cannot open";
	case LAYER_READ_ERR_LAYER: return "layer error";
	case LAYER_READ_ERR_SRS: return "coordinate reference system error";
	case LAYER_READ_ERR_TRANSFORM: return "reprojection failed";
	case LAYER_READ_ERR_FIELD: return "attribute error";
	case LAYER_READ_ERR_READ: return "read error";
	case LAYER_READ_ERR_CALLBACK: return "stopped by caller";
	case LAYER_READ_ERR_NOMEM: return "out of memory";
	default: return "unknown error";
	}
}

static int set_err(struct layer_read_result *res, int code, long index, int64_t fid,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Fills res; feature errors get the "feature #N (fid F): " prefix. Returns code. */
static int set_err(struct layer_read_result *res, int code, long index, int64_t fid,
		   const char *fmt, ...)
{
	size_t used = 0;
	va_list ap;

	res->code = code;
	res->index = index;
	res->fid = fid;
	res->message[0] = '\0';
	if (index >= 0 && fid >= 0)
		snprintf(res->message, sizeof(res->message), "feature #%ld (fid %lld): ", index + 1,
			 (long long)fid);
	else if (index >= 0)
		snprintf(res->message, sizeof(res->message), "feature #%ld: ", index + 1);
	used = strlen(res->message);
	va_start(ap, fmt);
	vsnprintf(res->message + used, sizeof(res->message) - used, fmt, ap);
	va_end(ap);
	return code;
}

/* GDAL's own words for the last failure, or a fallback. */
static const char *gdal_says(const struct layer_read_errs *e, const char *fallback)
{
	if (e->failure[0])
		return e->failure;
	if (e->warning[0])
		return e->warning;
	return fallback;
}

/* "EPSG:4548" if the CRS has or can be matched to an authority code, else its name. */
static void srs_describe(OGRSpatialReferenceH srs, char *out, size_t len)
{
	const char *auth = OSRGetAuthorityName(srs, NULL);
	const char *code = OSRGetAuthorityCode(srs, NULL);
	OGRSpatialReferenceH *matches;
	int *confidence = NULL;
	int n = 0;

	if (auth && code) {
		snprintf(out, len, "%s:%s", auth, code);
		return;
	}
	/* ESRI .prj files carry no authority; ask PROJ for a confident match. */
	matches = OSRFindMatches(srs, NULL, &n, &confidence);
	if (matches && n > 0 && confidence && confidence[0] >= 90) {
		auth = OSRGetAuthorityName(matches[0], NULL);
		code = OSRGetAuthorityCode(matches[0], NULL);
		if (auth && code) {
			snprintf(out, len, "%s:%s", auth, code);
			OSRFreeSRSArray(matches);
			CPLFree(confidence);
			return;
		}
	}
	if (matches)
		OSRFreeSRSArray(matches);
	CPLFree(confidence);
	snprintf(out, len, "%s", OSRGetName(srs) ? OSRGetName(srs) : "unknown");
}

static void format_time(char *buf, size_t len, int h, int mi, float sec)
{
	double whole = floor(sec);

	if (sec - whole > 0.0005)
		snprintf(buf, len, "%02d:%02d:%06.3f", h, mi, (double)sec);
	else
		snprintf(buf, len, "%02d:%02d:%02d", h, mi, (int)whole);
}

/* ISO 8601 text for a date, time or date-time field. OGR's TZ flag: 0 unknown, 1 local time,
 * 100 UTC, 100 + n quarter hours east of UTC otherwise. */
static json_t *datetime_json(OGRFeatureH f, int i, OGRFieldType type)
{
	int y, m, d, h, mi, tz;
	float sec;
	char date[32], tm[32], zone[16] = "", out[96];

	if (!OGR_F_GetFieldAsDateTimeEx(f, i, &y, &m, &d, &h, &mi, &sec, &tz))
		return json_null();
	snprintf(date, sizeof(date), "%04d-%02d-%02d", y, m, d);
	format_time(tm, sizeof(tm), h, mi, sec);
	if (tz == 100) {
		snprintf(zone, sizeof(zone), "Z");
	} else if (tz > 1) {
		int q = tz - 100, a = abs(q);

		snprintf(zone, sizeof(zone), "%c%02d:%02d", q < 0 ? '-' : '+', a / 4, (a % 4) * 15);
	}
	if (type == OFTDate)
		return json_string(date);
	if (type == OFTTime)
		return json_string(tm);
	snprintf(out, sizeof(out), "%sT%s%s", date, tm, zone);
	return json_string(out);
}

/* One attribute as JSON; NULL means "not valid UTF-8" (or no memory). */
static json_t *field_json(OGRFeatureH f, int i, OGRFieldDefnH fd)
{
	OGRFieldType type = OGR_Fld_GetType(fd);
	OGRFieldSubType sub = OGR_Fld_GetSubType(fd);
	json_t *a;
	int n, k;

	if (!OGR_F_IsFieldSetAndNotNull(f, i))
		return json_null();
	switch (type) {
	case OFTInteger:
		if (sub == OFSTBoolean)
			return json_boolean(OGR_F_GetFieldAsInteger(f, i));
		return json_integer(OGR_F_GetFieldAsInteger(f, i));
	case OFTInteger64:
		return json_integer(OGR_F_GetFieldAsInteger64(f, i));
	case OFTReal: {
		double v = OGR_F_GetFieldAsDouble(f, i);

		return isfinite(v) ? json_real(v) : json_null();
	}
	case OFTDate:
	case OFTTime:
	case OFTDateTime:
		return datetime_json(f, i, type);
	case OFTIntegerList: {
		const int *v = OGR_F_GetFieldAsIntegerList(f, i, &n);

		a = json_array();
		for (k = 0; a && k < n; k++)
			json_array_append_new(a, sub == OFSTBoolean ? json_boolean(v[k]) : json_integer(v[k]));
		return a;
	}
	case OFTInteger64List: {
		const GIntBig *v = OGR_F_GetFieldAsInteger64List(f, i, &n);

		a = json_array();
		for (k = 0; a && k < n; k++)
			json_array_append_new(a, json_integer(v[k]));
		return a;
	}
	case OFTRealList: {
		const double *v = OGR_F_GetFieldAsDoubleList(f, i, &n);

		a = json_array();
		for (k = 0; a && k < n; k++)
			json_array_append_new(a, isfinite(v[k]) ? json_real(v[k]) : json_null());
		return a;
	}
	case OFTStringList: {
		char **v = OGR_F_GetFieldAsStringList(f, i);

		a = json_array();
		for (k = 0; a && v && v[k]; k++) {
			json_t *s = json_string(v[k]);

			if (!s) {
				json_decref(a);
				return NULL;
			}
			json_array_append_new(a, s);
		}
		return a;
	}
	case OFTBinary: {
		const GByte *v = OGR_F_GetFieldAsBinary(f, i, &n);
		char *hex = malloc((size_t)n * 2 + 1);
		json_t *s;

		if (!hex)
			return NULL;
		for (k = 0; k < n; k++)
			snprintf(hex + 2 * k, 3, "%02x", v[k]);
		hex[2 * n] = '\0';
		s = json_string(hex);
		free(hex);
		return s;
	}
	case OFTString:
	default: {
		const char *s = OGR_F_GetFieldAsString(f, i);

		/* GeoJSON objects and arrays come as strings of subtype JSON: keep their structure. */
		if (sub == OFSTJSON) {
			json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);

			if (j)
				return j;
		}
		return json_string(s);
	}
	}
}

/* The state of one read, so the feature loop stays readable. */
struct reader {
	const struct layer_read_opts *o;
	struct layer_read_result *res;
	struct layer_read_errs errs;
	GDALDatasetH ds;
	OGRLayerH lyr;
	OGRCoordinateTransformationH ct;
	OGRSpatialReferenceH src, dst;
	int code_idx;
	int dxf;           /* DXF: close closed linestrings into polygons */
	int identity;      /* the source is EPSG:4326 lon/lat already: no transformation */
	long closed;       /* how many were */
	unsigned char *wkb;
	size_t wkb_cap;
};

static int ends_with_ci(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* The first file in zip (a "/vsizip/..." directory) that GDAL reads as a vector layer on its own:
 * planners zip a folder, so the .shp is often one level down. out "" if none. */
static void zip_find_inner(const char *zip, char *out, size_t len)
{
	static const char *const exts[] = {".shp", ".gpkg", ".geojson", ".json", ".kml", ".dxf",
					   ".csv", NULL};
	char **names = VSIReadDirRecursive(zip);
	int e, k;

	out[0] = '\0';
	for (e = 0; exts[e] && !out[0]; e++)
		for (k = 0; names && names[k] && !out[0]; k++)
			if (ends_with_ci(names[k], exts[e]) && !strstr(names[k], "__MACOSX") &&
			    snprintf(out, len, "%s/%s", zip, names[k]) >= (int)len)
				out[0] = '\0'; /* too long to open */
	CSLDestroy(names);
}

/* Opens path with the open options its driver needs (Shapefile ENCODING, CSV geometry columns). */
static GDALDatasetH reader_open_path(const struct layer_read_opts *o, const char *path)
{
	char **open_opts = NULL;
	GDALDriverH drv;
	GDALDatasetH ds;

	drv = GDALIdentifyDriverEx(path, GDAL_OF_VECTOR, NULL, NULL);
	/* ENCODING is a Shapefile open option; other formats are UTF-8 by definition. */
	if (o->encoding && o->encoding[0] && drv &&
	    strcmp(GDALGetDriverShortName(drv), "ESRI Shapefile") == 0)
		open_opts = CSLSetNameValue(open_opts, "ENCODING", o->encoding);
	if ((drv && strcmp(GDALGetDriverShortName(drv), "CSV") == 0) || ends_with_ci(path, ".csv")) {
		open_opts = CSLSetNameValue(open_opts, "GEOM_POSSIBLE_NAMES",
					    "WKT,wkt,geom,geometry,the_geom");
		open_opts = CSLSetNameValue(open_opts, "X_POSSIBLE_NAMES", "lon,lng,x,经度");
		open_opts = CSLSetNameValue(open_opts, "Y_POSSIBLE_NAMES", "lat,y,纬度");
		open_opts = CSLSetNameValue(open_opts, "KEEP_GEOM_COLUMNS", "NO");
	}
	ds = GDALOpenEx(path, GDAL_OF_VECTOR | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, NULL,
			(const char *const *)open_opts, NULL);
	CSLDestroy(open_opts);
	return ds;
}

static int reader_open(struct reader *r, struct layer_read_info *info)
{
	const struct layer_read_opts *o = r->o;
	int nlayers;

	/* Zipped shapefiles (as planners mail them) and KMZ go through /vsizip/. */
	if (strncmp(o->path, "/vsi", 4) != 0 &&
	    (ends_with_ci(o->path, ".zip") || ends_with_ci(o->path, ".kmz")))
		snprintf(info->opened, sizeof(info->opened), "/vsizip/%s", o->path);
	else
		snprintf(info->opened, sizeof(info->opened), "%s", o->path);
	r->ds = reader_open_path(o, info->opened);
	if (!r->ds && strncmp(info->opened, "/vsizip/", 8) == 0) {
		char inner[1024];
		struct layer_read_errs saved = r->errs;

		zip_find_inner(info->opened, inner, sizeof(inner));
		if (inner[0]) {
			snprintf(info->opened, sizeof(info->opened), "%s", inner);
			r->ds = reader_open_path(o, info->opened);
		} else {
			r->errs = saved;
		}
	}
	if (!r->ds)
		return set_err(r->res, LAYER_READ_ERR_OPEN, -1, -1, "cannot open: %s",
			       gdal_says(&r->errs, "not a vector format GDAL can read"));
	snprintf(info->driver, sizeof(info->driver), "%s",
		 GDALGetDriverShortName(GDALGetDatasetDriver(r->ds)));
	r->dxf = strcmp(info->driver, "DXF") == 0;

	nlayers = GDALDatasetGetLayerCount(r->ds);
	if (o->layer_name && o->layer_name[0]) {
		r->lyr = GDALDatasetGetLayerByName(r->ds, o->layer_name);
		if (!r->lyr)
			return set_err(r->res, LAYER_READ_ERR_LAYER, -1, -1,
				       "no layer named \"%s\" (the file has %d)", o->layer_name, nlayers);
	} else if (nlayers == 1) {
		r->lyr = GDALDatasetGetLayer(r->ds, 0);
	} else if (nlayers == 0) {
		return set_err(r->res, LAYER_READ_ERR_LAYER, -1, -1, "the file has no layers");
	} else {
		char names[300] = "";
		int k;

		for (k = 0; k < nlayers && strlen(names) < 200; k++) {
			size_t used = strlen(names);

			snprintf(names + used, sizeof(names) - used, "%s%s", k ? ", " : "",
				 OGR_L_GetName(GDALDatasetGetLayer(r->ds, k)));
		}
		return set_err(r->res, LAYER_READ_ERR_LAYER, -1, -1,
			       "the file has %d layers (%s%s); choose one with --layer", nlayers, names,
			       k < nlayers ? ", ..." : "");
	}
	snprintf(info->layer_name, sizeof(info->layer_name), "%s", OGR_L_GetName(r->lyr));
	if (OGR_L_GetGeomType(r->lyr) == wkbNone)
		return set_err(r->res, LAYER_READ_ERR_LAYER, -1, -1, "layer \"%s\" has no geometry",
			       info->layer_name);
	info->feature_count = (long)OGR_L_GetFeatureCount(r->lyr, FALSE);

	r->code_idx = -1;
	if (o->code_field && o->code_field[0]) {
		OGRFeatureDefnH fd = OGR_L_GetLayerDefn(r->lyr);
		char names[300] = "";
		int k, nf = OGR_FD_GetFieldCount(fd);

		r->code_idx = OGR_FD_GetFieldIndex(fd, o->code_field);
		if (r->code_idx < 0) {
			for (k = 0; k < nf && strlen(names) < 200; k++) {
				size_t used = strlen(names);

				snprintf(names + used, sizeof(names) - used, "%s%s", k ? ", " : "",
					 OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(fd, k)));
			}
			return set_err(r->res, LAYER_READ_ERR_FIELD, -1, -1,
				       "no field \"%s\" for the code; the fields are: %s%s", o->code_field,
				       nf ? names : "(none)", k < nf ? ", ..." : "");
		}
	}
	return 0;
}

/* Source CRS (the file's, or --s-srs) and the transformation to EPSG:4326. Both ends use the
 * traditional GIS order (x = easting/longitude): files store x first whatever EPSG says, which is
 * what makes EPSG:4490 (lat/lon in EPSG) and EPSG:4548 (northing first) come out right. */
static int reader_srs(struct reader *r, struct layer_read_info *info)
{
	const struct layer_read_opts *o = r->o;

	if (o->s_srs && o->s_srs[0]) {
		r->src = OSRNewSpatialReference(NULL);
		if (!r->src)
			return set_err(r->res, LAYER_READ_ERR_NOMEM, -1, -1, "out of memory");
		if (OSRSetFromUserInput(r->src, o->s_srs) != OGRERR_NONE)
			return set_err(r->res, LAYER_READ_ERR_SRS, -1, -1,
				       "--s-srs \"%s\" is not a coordinate reference system: %s", o->s_srs,
				       gdal_says(&r->errs, "not understood"));
	} else if (r->dxf) {
		/* DXF has no georeferencing: whatever GDAL guesses is not the planner's CRS. */
		return set_err(r->res, LAYER_READ_ERR_SRS, -1, -1,
			       "a DXF file has no coordinate reference system; give one with "
			       "--s-srs, e.g. --s-srs EPSG:4548");
	} else {
		OGRSpatialReferenceH file_srs = OGR_L_GetSpatialRef(r->lyr);

		if (!file_srs)
			return set_err(r->res, LAYER_READ_ERR_SRS, -1, -1,
				       "layer \"%s\" has no coordinate reference system (a Shapefile "
				       "without .prj?); give one with --s-srs, e.g. EPSG:4490",
				       info->layer_name);
		r->src = OSRClone(file_srs);
		if (!r->src)
			return set_err(r->res, LAYER_READ_ERR_NOMEM, -1, -1, "out of memory");
	}
	OSRSetAxisMappingStrategy(r->src, OAMS_TRADITIONAL_GIS_ORDER);
	srs_describe(r->src, info->source_srs, sizeof(info->source_srs));

	r->dst = OSRNewSpatialReference(NULL);
	if (!r->dst || OSRImportFromEPSG(r->dst, 4326) != OGRERR_NONE)
		return set_err(r->res, LAYER_READ_ERR_SRS, -1, -1, "EPSG:4326 unavailable: %s",
			       gdal_says(&r->errs, "is proj.db installed?"));
	OSRSetAxisMappingStrategy(r->dst, OAMS_TRADITIONAL_GIS_ORDER);
	/* Strictly the same CRS with the same axis mapping (a GeoJSON file): nothing to do. */
	r->identity = OSRIsSameEx(r->src, r->dst, (const char *const[]){"CRITERION=STRICT", NULL});
	r->ct = OCTNewCoordinateTransformation(r->src, r->dst);
	if (!r->ct)
		return set_err(r->res, LAYER_READ_ERR_SRS, -1, -1,
			       "no transformation from %s to EPSG:4326: %s", info->source_srs,
			       gdal_says(&r->errs, "PROJ found none"));
	return 0;
}

/* CGCS2000 Gauss-Krueger CRSs come in pairs: with the zone number in front
 * of the easting (EPSG:4491-4501 for 6-degree zones 13-23, 4513-4533 for
 * 3-degree zones 25-45) and without it (4502-4512 and 4534-4554, same
 * zones). Files often declare one and hold the other: compare the layer's
 * eastings with the declared CRS and say so (a warning: the load goes on,
 * since the planner may have meant it). */
static void gk_easting_check(struct reader *r, struct layer_read_info *info)
{
	const char *auth = OSRGetAuthorityName(r->src, NULL), *code = OSRGetAuthorityCode(r->src, NULL);
	OGREnvelope env;
	int epsg, with_zone, six, zone, first_zone, base_with, base_without;
	double lo, hi;

	if (!auth || !code || strcmp(auth, "EPSG"))
		return;
	epsg = atoi(code);
	if (epsg >= 4491 && epsg <= 4512) {
		six = 1;
		with_zone = epsg <= 4501;
		zone = 13 + (with_zone ? epsg - 4491 : epsg - 4502);
	} else if (epsg >= 4513 && epsg <= 4554) {
		six = 0;
		with_zone = epsg <= 4533;
		zone = 25 + (with_zone ? epsg - 4513 : epsg - 4534);
	} else {
		return;
	}
	if (OGR_L_GetExtent(r->lyr, &env, 1) != OGRERR_NONE)
		return;
	first_zone = six ? 13 : 25;
	base_with = six ? 4491 : 4513;
	base_without = six ? 4502 : 4534;
	lo = with_zone ? zone * 1e6 : 0;
	hi = with_zone ? (zone + 1) * 1e6 : 1e6;
	if (env.MinX >= lo && env.MaxX <= hi)
		return;
	if (!with_zone && env.MinX >= 1e6 && (int)(env.MinX / 1e6) >= first_zone &&
	    (int)(env.MinX / 1e6) < first_zone + (six ? 11 : 21)) {
		int z = (int)(env.MinX / 1e6);

		snprintf(info->warning, sizeof(info->warning),
			 "eastings %.0f-%.0f carry a zone number (%d) but %s is declared without "
			 "one; did you mean EPSG:%d?", env.MinX, env.MaxX, z, info->source_srs,
			 base_with + z - first_zone);
	} else if (with_zone && env.MaxX < 1e6) {
		snprintf(info->warning, sizeof(info->warning),
			 "eastings %.0f-%.0f have no zone number but %s expects zone %d in front; "
			 "did you mean EPSG:%d?", env.MinX, env.MaxX, info->source_srs, zone,
			 base_without + zone - first_zone);
	} else {
		snprintf(info->warning, sizeof(info->warning),
			 "eastings %.0f-%.0f do not fit %s (expected %.0f-%.0f)", env.MinX, env.MaxX,
			 info->source_srs, lo, hi);
	}
}

/* 1 if g is a LINESTRING of at least 4 points whose last point is its first. */
static int linestring_closed(OGRGeometryH g)
{
	int n;

	if (wkbFlatten(OGR_G_GetGeometryType(g)) != wkbLineString)
		return 0;
	n = OGR_G_GetPointCount(g);
	return n >= 4 && OGR_G_GetX(g, 0) == OGR_G_GetX(g, n - 1) &&
	       OGR_G_GetY(g, 0) == OGR_G_GetY(g, n - 1);
}

/* Geometry of f as 2D linear ISO WKB in EPSG:4326 into r->wkb; *len 0 if none or empty. */
static int reader_geometry(struct reader *r, OGRFeatureH f, long index, int64_t fid, size_t *len)
{
	OGRGeometryH g = OGR_F_GetGeometryRef(f), work;
	size_t need;

	*len = 0;
	if (!g || OGR_G_IsEmpty(g))
		return 0;
	/* Arcs (GeoPackage, DXF) become segments in the source CRS: GEOS, MVT and the fences
	 * downstream are linear only. Otherwise the feature's own geometry is taken over (the
	 * feature is destroyed after the callback): no copy. */
	if (OGR_G_HasCurveGeometry(g, TRUE))
		work = OGR_G_GetLinearGeometry(g, 0, NULL);
	else
		work = OGR_F_StealGeometry(f);
	if (!work)
		return set_err(r->res, LAYER_READ_ERR_NOMEM, index, fid, "out of memory");
	OGR_G_FlattenTo2D(work);
	/* DXF stores areas as closed polylines: a ring of at least 4 points becomes a polygon. */
	if (r->dxf && linestring_closed(work)) {
		OGRGeometryH poly = OGR_G_ForceToPolygon(work);

		if (!poly)
			return set_err(r->res, LAYER_READ_ERR_NOMEM, index, fid, "out of memory");
		work = poly;
		r->closed++;
	}
	if (!r->identity && OGR_G_Transform(work, r->ct) != OGRERR_NONE) {
		OGR_G_DestroyGeometry(work);
		return set_err(r->res, LAYER_READ_ERR_TRANSFORM, index, fid,
			       "cannot reproject to EPSG:4326: %s",
			       gdal_says(&r->errs, "coordinates outside the CRS's area?"));
	}
	need = (size_t)OGR_G_WkbSize(work);
	if (need > r->wkb_cap) {
		unsigned char *b = realloc(r->wkb, need);

		if (!b) {
			OGR_G_DestroyGeometry(work);
			return set_err(r->res, LAYER_READ_ERR_NOMEM, index, fid, "out of memory");
		}
		r->wkb = b;
		r->wkb_cap = need;
	}
	if (OGR_G_ExportToIsoWkb(work, wkbNDR, r->wkb) != OGRERR_NONE) {
		OGR_G_DestroyGeometry(work);
		return set_err(r->res, LAYER_READ_ERR_READ, index, fid, "cannot encode geometry: %s",
			       gdal_says(&r->errs, "unsupported geometry type"));
	}
	OGR_G_DestroyGeometry(work);
	*len = need;
	return 0;
}

/* Attributes of f as a new JSON object in *out (caller owns it). */
static int reader_props(struct reader *r, OGRFeatureH f, long index, int64_t fid, json_t **out)
{
	int i, n = OGR_F_GetFieldCount(f);
	json_t *obj = json_object();

	if (!obj)
		return set_err(r->res, LAYER_READ_ERR_NOMEM, index, fid, "out of memory");
	for (i = 0; i < n; i++) {
		OGRFieldDefnH fd = OGR_F_GetFieldDefnRef(f, i);
		const char *name = OGR_Fld_GetNameRef(fd);
		json_t *v = field_json(f, i, fd);

		if (!v) {
			/* the name is likely garbled too: only print it if it is clean */
			json_t *probe = json_string(name);

			json_decref(obj);
			if (!probe)
				return set_err(r->res, LAYER_READ_ERR_FIELD, index, fid,
					       "field #%d is not valid UTF-8 (wrong or missing "
					       "--encoding?)", i + 1);
			json_decref(probe);
			return set_err(r->res, LAYER_READ_ERR_FIELD, index, fid,
				       "field \"%s\" is not valid UTF-8 (wrong or missing --encoding?)",
				       name);
		}
		if (json_object_set_new(obj, name, v) != 0) {
			json_decref(obj);
			return set_err(r->res, LAYER_READ_ERR_FIELD, index, fid,
				       "field name #%d is not valid UTF-8 (wrong or missing --encoding?)",
				       i + 1);
		}
	}
	*out = obj;
	return 0;
}

static int reader_loop(struct reader *r, layer_read_feature_fn fn, void *arg, long *count)
{
	OGRFeatureH f;
	long index = 0;
	int rc = 0;

	OGR_L_ResetReading(r->lyr);
	for (;;) {
		struct layer_read_feature feat;
		char cb_err[400] = "";
		char *code = NULL;
		int64_t fid;

		r->errs.failures = 0;
		f = OGR_L_GetNextFeature(r->lyr);
		if (!f) {
			/* NULL is both "end" and "failed": only a reported failure tells them apart. */
			if (r->errs.failures)
				rc = set_err(r->res, LAYER_READ_ERR_READ, index, -1, "cannot read: %s",
					     r->errs.failure);
			break;
		}
		fid = OGR_F_GetFID(f) == OGRNullFID ? -1 : (int64_t)OGR_F_GetFID(f);
		memset(&feat, 0, sizeof(feat));
		feat.index = index;
		feat.fid = fid;
		rc = reader_geometry(r, f, index, fid, &feat.wkb_len);
		if (rc == 0)
			rc = reader_props(r, f, index, fid, &feat.props);
		if (rc == 0 && r->code_idx >= 0 && OGR_F_IsFieldSetAndNotNull(f, r->code_idx)) {
			code = strdup(OGR_F_GetFieldAsString(f, r->code_idx));
			if (!code)
				rc = set_err(r->res, LAYER_READ_ERR_NOMEM, index, fid, "out of memory");
		}
		if (rc == 0) {
			feat.wkb = feat.wkb_len ? r->wkb : NULL;
			feat.code = code;
			if (fn(&feat, arg, cb_err, sizeof(cb_err)) != 0)
				rc = set_err(r->res, LAYER_READ_ERR_CALLBACK, index, fid, "%s",
					     cb_err[0] ? cb_err : "stopped by the caller");
		}
		free(code);
		json_decref(feat.props);
		OGR_F_Destroy(f);
		if (rc != 0)
			break;
		index++;
	}
	*count = index;
	return rc;
}

int layer_read_file(const struct layer_read_opts *o, layer_read_feature_fn fn, void *arg,
		    struct layer_read_info *info, struct layer_read_result *res)
{
	struct layer_read_info local_info;
	struct reader r;
	long count = 0;
	int rc;

	if (!res)
		return LAYER_READ_ERR_ARG;
	memset(res, 0, sizeof(*res));
	res->index = -1;
	res->fid = -1;
	if (!info)
		info = &local_info;
	memset(info, 0, sizeof(*info));
	info->feature_count = -1;
	if (!o || !o->path || !o->path[0] || !fn)
		return set_err(res, LAYER_READ_ERR_ARG, -1, -1, "no file given");

	pthread_once(&layer_read_once, layer_read_register);
	memset(&r, 0, sizeof(r));
	r.o = o;
	r.res = res;
	CPLPushErrorHandlerEx(layer_read_error_handler, &r.errs);

	rc = reader_open(&r, info);
	if (rc == 0)
		rc = reader_srs(&r, info);
	if (rc == 0)
		gk_easting_check(&r, info);
	if (rc == 0) {
		rc = reader_loop(&r, fn, arg, &count);
		info->feature_count = count;
		info->closed_count = r.closed;
		/* a coordinate that will not transform is usually the wrong
		 * Gauss-Krueger twin: say which one fits */
		if (rc == LAYER_READ_ERR_TRANSFORM && info->warning[0]) {
			size_t n = strlen(res->message);

			snprintf(res->message + n, sizeof(res->message) - n, "; %s", info->warning);
		}
	}

	free(r.wkb);
	if (r.ct)
		OCTDestroyCoordinateTransformation(r.ct);
	if (r.src)
		OSRDestroySpatialReference(r.src);
	if (r.dst)
		OSRDestroySpatialReference(r.dst);
	if (r.ds)
		GDALClose(r.ds);
	CPLPopErrorHandler();
	return rc;
}
