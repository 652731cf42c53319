/* cu_layer_read.c -- unit tests for gis/layer_read: formats, encodings, CRS and axis order, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cpl_string.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include "layer_read.h"

/* Fixtures are written at test time into a fresh directory. */
static char tmpdir[64];

/* What the callback saw: up to 8 features. */
struct seen {
	int n;
	int64_t fid[8];
	int has_geom[8];
	double x[8], y[8];
	json_t *props[8];
	char code[8][64];
	int has_code[8];
	int stop_at; /* 1-based; 0 never */
};

static void seen_clear(struct seen *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		json_decref(s->props[i]);
	memset(s, 0, sizeof(*s));
}

/* x, y of a 2D little-endian WKB point, or of the first vertex of anything else we write. */
static int wkb_point(const unsigned char *w, size_t len, double *x, double *y)
{
	uint32_t type;

	if (len < 21 || w[0] != 1)
		return -1;
	memcpy(&type, w + 1, 4);
	if (type != 1)
		return -1;
	memcpy(x, w + 5, 8);
	memcpy(y, w + 13, 8);
	return 0;
}

static int collect(const struct layer_read_feature *f, void *arg, char *err, size_t errlen)
{
	struct seen *s = arg;
	int i = s->n;

	if (s->stop_at && i + 1 == s->stop_at) {
		snprintf(err, errlen, "enough at %ld", f->index);
		return 1;
	}
	if (i >= 8)
		return 0;
	s->fid[i] = f->fid;
	s->has_geom[i] = f->wkb != NULL;
	if (f->wkb)
		wkb_point(f->wkb, f->wkb_len, &s->x[i], &s->y[i]);
	s->props[i] = json_incref(f->props);
	if (f->code) {
		snprintf(s->code[i], sizeof(s->code[i]), "%s", f->code);
		s->has_code[i] = 1;
	}
	s->n++;
	return 0;
}

static void path_in_tmp(char *out, size_t len, const char *name)
{
	snprintf(out, len, "%s/%s", tmpdir, name);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *geojson_fixture =
	"{\"type\":\"FeatureCollection\",\"features\":["
	"{\"type\":\"Feature\",\"id\":7,\"properties\":{\"code\":\"MZ-01\",\"名称\":\"昌江可采区1号\","
	"\"面积\":12.5,\"船数\":3,\"批准日期\":\"2024-05-01\",\"范围\":{\"起\":1,\"止\":2}},"
	"\"geometry\":{\"type\":\"Point\",\"coordinates\":[117.2,29.3]}},"
	"{\"type\":\"Feature\",\"id\":8,\"properties\":{\"code\":null,\"名称\":\"无几何\",\"面积\":1.0,"
	"\"船数\":0,\"批准日期\":\"2024-05-02\",\"范围\":null},\"geometry\":null}]}";

static void test_geojson(void **state)
{
	struct layer_read_opts o = {0};
	struct layer_read_info info;
	struct layer_read_result res;
	struct seen s = {0};
	char path[128];
	json_t *p;

	path_in_tmp(path, sizeof(path), "zones.geojson");
	write_text(path, geojson_fixture);
	o.path = path;
	o.code_field = "code";
	assert_int_equal(layer_read_file(&o, collect, &s, &info, &res), LAYER_READ_OK);
	assert_int_equal(res.code, 0);
	assert_string_equal(info.driver, "GeoJSON");
	assert_string_equal(info.source_srs, "EPSG:4326");
	assert_int_equal(info.feature_count, 2);
	assert_int_equal(s.n, 2);

	assert_int_equal(s.fid[0], 7);
	assert_true(s.has_geom[0]);
	assert_float_equal(s.x[0], 117.2, 1e-9);
	assert_float_equal(s.y[0], 29.3, 1e-9);
	assert_true(s.has_code[0]);
	assert_string_equal(s.code[0], "MZ-01");
	p = s.props[0];
	assert_string_equal(json_string_value(json_object_get(p, "名称")), "昌江可采区1号");
	assert_true(json_is_real(json_object_get(p, "面积")));
	assert_float_equal(json_real_value(json_object_get(p, "面积")), 12.5, 1e-12);
	assert_true(json_is_integer(json_object_get(p, "船数")));
	assert_int_equal(json_integer_value(json_object_get(p, "船数")), 3);
	assert_string_equal(json_string_value(json_object_get(p, "批准日期")), "2024-05-01");
	assert_true(json_is_object(json_object_get(p, "范围")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(p, "范围"), "止")), 2);

	/* no geometry: handed over with wkb NULL; unset code: no code, null in props */
	assert_int_equal(s.fid[1], 8);
	assert_false(s.has_geom[1]);
	assert_false(s.has_code[1]);
	assert_true(json_is_null(json_object_get(s.props[1], "code")));
	seen_clear(&s);
}

/* A Shapefile with the given CRS (EPSG code, 0 for none: no .prj) and one point. */
static void make_shapefile(const char *path, int epsg, const char *encoding, double x, double y,
			   const char *name_value)
{
	GDALDriverH drv = GDALGetDriverByName("ESRI Shapefile");
	OGRSpatialReferenceH srs = NULL;
	char **lco = NULL;
	GDALDatasetH ds;
	OGRLayerH lyr;
	OGRFieldDefnH fd;
	OGRFeatureH f;
	OGRGeometryH g;

	assert_non_null(drv);
	ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
	assert_non_null(ds);
	if (epsg) {
		srs = OSRNewSpatialReference(NULL);
		assert_int_equal(OSRImportFromEPSG(srs, epsg), OGRERR_NONE);
		OSRSetAxisMappingStrategy(srs, OAMS_TRADITIONAL_GIS_ORDER);
	}
	if (encoding)
		lco = CSLSetNameValue(lco, "ENCODING", encoding);
	lyr = GDALDatasetCreateLayer(ds, "pts", srs, wkbPoint, lco);
	CSLDestroy(lco);
	assert_non_null(lyr);
	fd = OGR_Fld_Create("名称", OFTString);
	OGR_Fld_SetWidth(fd, 40);
	assert_int_equal(OGR_L_CreateField(lyr, fd, TRUE), OGRERR_NONE);
	OGR_Fld_Destroy(fd);
	fd = OGR_Fld_Create("编号", OFTInteger);
	assert_int_equal(OGR_L_CreateField(lyr, fd, TRUE), OGRERR_NONE);
	OGR_Fld_Destroy(fd);

	f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
	OGR_F_SetFieldString(f, 0, name_value);
	OGR_F_SetFieldInteger(f, 1, 42);
	g = OGR_G_CreateGeometry(wkbPoint);
	OGR_G_SetPoint_2D(g, 0, x, y);
	OGR_F_SetGeometryDirectly(f, g);
	assert_int_equal(OGR_L_CreateFeature(lyr, f), OGRERR_NONE);
	OGR_F_Destroy(f);
	GDALClose(ds);
	if (srs)
		OSRDestroySpatialReference(srs);
}

/* Does the file at path contain the bytes? */
static int file_contains(const char *path, const char *bytes)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	return memmem(buf, n, bytes, strlen(bytes)) != NULL;
}

/* Make the DBF look like a planner's: no .cpg and no language driver id, so only --encoding
 * can tell GDAL that the bytes are GBK. */
static void strip_encoding_marks(const char *shp_path)
{
	char dbf[160], cpg[160];
	FILE *f;

	snprintf(dbf, sizeof(dbf), "%.*s.dbf", (int)strlen(shp_path) - 4, shp_path);
	snprintf(cpg, sizeof(cpg), "%.*s.cpg", (int)strlen(shp_path) - 4, shp_path);
	unlink(cpg);
	f = fopen(dbf, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 29, SEEK_SET), 0); /* the LDID byte of the DBF header */
	fputc(0, f);
	fclose(f);
}

static void test_shapefile_gbk_4490(void **state)
{
	struct layer_read_opts o = {0};
	struct layer_read_info info;
	struct layer_read_result res;
	struct seen s = {0};
	char path[128], dbf[128];

	path_in_tmp(path, sizeof(path), "gbk.shp");
	path_in_tmp(dbf, sizeof(dbf), "gbk.dbf");
	make_shapefile(path, 4490, "GBK", 117.2, 29.3, "昌江集中停放点");
	/* 名称 in GBK is C3FB B3C6: the file really is GBK, not UTF-8 */
	assert_true(file_contains(dbf, "\xC3\xFB\xB3\xC6"));
	assert_false(file_contains(dbf, "名称"));

	/* as written: GDAL finds the encoding itself (.cpg / LDID) */
	o.path = path;
	o.code_field = "编号";
	assert_int_equal(layer_read_file(&o, collect, &s, &info, &res), LAYER_READ_OK);
	assert_string_equal(info.driver, "ESRI Shapefile");
	assert_string_equal(info.source_srs, "EPSG:4490");
	assert_int_equal(s.n, 1);
	assert_int_equal(s.fid[0], 0);
	assert_string_equal(json_string_value(json_object_get(s.props[0], "名称")), "昌江集中停放点");
	assert_int_equal(json_integer_value(json_object_get(s.props[0], "编号")), 42);
	assert_string_equal(s.code[0], "42");
	/* EPSG:4490 is lat/lon in EPSG's order; the file has lon/lat; output must be lon/lat */
	assert_float_equal(s.x[0], 117.2, 1e-6);
	assert_float_equal(s.y[0], 29.3, 1e-6);
	seen_clear(&s);

	/* no .cpg, no LDID: GDAL passes the GBK bytes through; they are not UTF-8, and the error
	 * says so and points at --encoding. With --encoding GBK they come out right. */
	strip_encoding_marks(path);
	o.code_field = NULL;
	assert_int_equal(layer_read_file(&o, collect, &s, &info, &res), LAYER_READ_ERR_FIELD);
	assert_int_equal(res.index, 0);
	assert_non_null(strstr(res.message, "feature #1 (fid 0): "));
	assert_non_null(strstr(res.message, "--encoding"));
	assert_int_equal(s.n, 0);
	o.encoding = "GBK";
	assert_int_equal(layer_read_file(&o, collect, &s, &info, &res), LAYER_READ_OK);
	assert_string_equal(json_string_value(json_object_get(s.props[0], "名称")), "昌江集中停放点");
	seen_clear(&s);
}

static void test_gauss_kruger_4548(void **state)
{
	struct layer_read_opts o = {0};
	struct layer_read_info info;
	struct layer_read_result res;
	struct seen s = {0};
	char path[128];

	/* CGCS2000 / 3-degree Gauss-Kruger CM 117E; the file stores easting first.
	 * Expected: echo "3243000 517500" | cs2cs -d 9 EPSG:4548 EPSG:4326
	 *        -> 29.304201872 117.180129497 */
	path_in_tmp(path, sizeof(path), "gk.shp");
	make_shapefile(path, 4548, "UTF-8", 517500.0, 3243000.0, "测站");
	o.path = path;
	assert_int_equal(layer_read_file(&o, collect, &s, &info, &res), LAYER_READ_OK);
	assert_string_equal(info.source_srs, "EPSG:4548");
	assert_int_equal(s.n, 1);
	assert_float_equal(s.x[0], 117.180129497, 1e-6);
	assert_float_equal(s.y[0], 29.304201872, 1e-6);
	assert_string_equal(info.warning, "");
	seen_clear(&s);
}

/* Eastings with the zone number (39 = CM 117E) in a file that declares the
 * zoneless EPSG:4548, and the reverse: the reader says which CRS fits. */
static void test_gauss_kruger_zone_mismatch(void **state)
{
	struct layer_read_opts o = {0};
	struct layer_read_info info;
	struct layer_read_result res;
	struct seen s = {0};
	char path[128];

	path_in_tmp(path, sizeof(path), "gkzone.shp");
	make_shapefile(path, 4548, "UTF-8", 39517500.0, 3243000.0, "带号");
	o.path = path;
	/* 39,517,500 m east of CM 117E is off the earth: the load fails, and
	 * its message names the CRS that fits */
	assert_int_equal(layer_read_file(&o, collect, &s, &info, &res), LAYER_READ_ERR_TRANSFORM);
	assert_non_null(strstr(info.warning, "zone number (39)"));
	assert_non_null(strstr(res.message, "did you mean EPSG:4527?"));
	seen_clear(&s);

	path_in_tmp(path, sizeof(path), "gknozone.shp");
	make_shapefile(path, 4527, "UTF-8", 517500.0, 3243000.0, "无带号");
	o.path = path;
	assert_int_equal(layer_read_file(&o, collect, &s, &info, &res), LAYER_READ_ERR_TRANSFORM);
	assert_non_null(strstr(info.warning, "no zone number"));
	assert_non_null(strstr(res.message, "did you mean EPSG:4548?"));
	seen_clear(&s);
}

static void test_missing_crs(void **state)
{
	struct layer_read_opts o = {0};
	struct layer_read_info info;
	struct layer_read_result res;
	struct seen s = {0};
	char path[128];

	path_in_tmp(path, sizeof(path), "noprj.shp");
	make_shapefile(path, 0, "UTF-8", 517500.0, 3243000.0, "无坐标系");
	o.path = path;
	assert_int_equal(layer_read_file(&o, collect, &s, &info, &res), LAYER_READ_ERR_SRS);
	assert_int_equal(res.code, LAYER_READ_ERR_SRS);
	assert_int_equal(res.index, -1);
	assert_non_null(strstr(res.message, "no coordinate reference system"));
	assert_non_null(strstr(res.message, "--s-srs"));
	assert_int_equal(s.n, 0);

	/* --s-srs supplies it */
	o.s_srs = "EPSG:4548";
	assert_int_equal(layer_read_file(&o, collect, &s, &info, &res), LAYER_READ_OK);
	assert_string_equal(info.source_srs, "EPSG:4548");
	assert_float_equal(s.x[0], 117.180129497, 1e-6);
	assert_float_equal(s.y[0], 29.304201872, 1e-6);
	seen_clear(&s);

	/* nonsense --s-srs */
	o.s_srs = "EPSG:999999";
	assert_int_equal(layer_read_file(&o, collect, &s, &info, &res), LAYER_READ_ERR_SRS);
	assert_non_null(strstr(res.message, "EPSG:999999"));
}

static void test_missing_file(void **state)
{
	struct layer_read_opts o = {0};
	struct layer_read_result res;
	struct seen s = {0};
	char path[128];

	path_in_tmp(path, sizeof(path), "does_not_exist.shp");
	o.path = path;
	assert_int_equal(layer_read_file(&o, collect, &s, NULL, &res), LAYER_READ_ERR_OPEN);
	assert_non_null(strstr(res.message, "cannot open"));
	assert_true(strlen(res.message) > strlen("cannot open: "));
	assert_int_equal(s.n, 0);

	/* a file that is no GIS format */
	path_in_tmp(path, sizeof(path), "notes.txt");
	write_text(path, "just words\n");
	assert_int_equal(layer_read_file(&o, collect, &s, NULL, &res), LAYER_READ_ERR_OPEN);

	o.path = NULL;
	assert_int_equal(layer_read_file(&o, collect, &s, NULL, &res), LAYER_READ_ERR_ARG);
}

static void test_code_field_and_callback_errors(void **state)
{
	struct layer_read_opts o = {0};
	struct layer_read_result res;
	struct seen s = {0};
	char path[128];

	path_in_tmp(path, sizeof(path), "zones.geojson");
	write_text(path, geojson_fixture);
	o.path = path;
	o.code_field = "编码";
	assert_int_equal(layer_read_file(&o, collect, &s, NULL, &res), LAYER_READ_ERR_FIELD);
	assert_non_null(strstr(res.message, "编码"));
	assert_non_null(strstr(res.message, "名称")); /* lists the fields there are */

	o.code_field = NULL;
	s.stop_at = 2;
	assert_int_equal(layer_read_file(&o, collect, &s, NULL, &res), LAYER_READ_ERR_CALLBACK);
	assert_int_equal(res.index, 1);
	assert_int_equal(res.fid, 8);
	assert_string_equal(res.message, "feature #2 (fid 8): enough at 1");
	seen_clear(&s);
}

static void test_layer_choice(void **state)
{
	GDALDriverH drv = GDALGetDriverByName("GPKG");
	struct layer_read_opts o = {0};
	struct layer_read_result res;
	struct seen s = {0};
	OGRSpatialReferenceH srs = OSRNewSpatialReference(NULL);
	char path[128];
	GDALDatasetH ds;
	int k;

	if (!drv)
		skip();
	path_in_tmp(path, sizeof(path), "two.gpkg");
	ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
	assert_non_null(ds);
	OSRImportFromEPSG(srs, 4326);
	for (k = 0; k < 2; k++) {
		OGRLayerH lyr = GDALDatasetCreateLayer(ds, k ? "parking" : "zones", srs, wkbPoint, NULL);
		OGRFeatureH f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
		OGRGeometryH g = OGR_G_CreateGeometry(wkbPoint);

		OGR_G_SetPoint_2D(g, 0, 117.0 + k, 29.0);
		OGR_F_SetGeometryDirectly(f, g);
		assert_int_equal(OGR_L_CreateFeature(lyr, f), OGRERR_NONE);
		OGR_F_Destroy(f);
	}
	GDALClose(ds);
	OSRDestroySpatialReference(srs);

	o.path = path;
	assert_int_equal(layer_read_file(&o, collect, &s, NULL, &res), LAYER_READ_ERR_LAYER);
	assert_non_null(strstr(res.message, "--layer"));
	assert_non_null(strstr(res.message, "parking"));
	o.layer_name = "parking";
	assert_int_equal(layer_read_file(&o, collect, &s, NULL, &res), LAYER_READ_OK);
	assert_int_equal(s.n, 1);
	assert_float_equal(s.x[0], 118.0, 1e-9);
	seen_clear(&s);
	o.layer_name = "nope";
	assert_int_equal(layer_read_file(&o, collect, &s, NULL, &res), LAYER_READ_ERR_LAYER);
}

/* CSV: a WKT column or lon/lat columns in Chinese; the geometry column is not an attribute. */
static void test_csv(void **state)
{
	struct layer_read_opts o = {0};
	struct layer_read_result res;
	struct seen s = {0};
	char path[128];

	path_in_tmp(path, sizeof(path), "wkt.csv");
	write_text(path, "WKT,名称\n\"POINT (117.2 29.3)\",甲区\n");
	o.path = path;
	o.s_srs = "EPSG:4326";
	assert_int_equal(layer_read_file(&o, collect, &s, NULL, &res), LAYER_READ_OK);
	assert_int_equal(s.n, 1);
	assert_float_equal(s.x[0], 117.2, 1e-12);
	assert_float_equal(s.y[0], 29.3, 1e-12);
	assert_string_equal(json_string_value(json_object_get(s.props[0], "名称")), "甲区");
	assert_null(json_object_get(s.props[0], "WKT"));
	seen_clear(&s);

	path_in_tmp(path, sizeof(path), "lonlat.csv");
	write_text(path, "经度,纬度,名称\n117.25,29.35,乙区\n");
	assert_int_equal(layer_read_file(&o, collect, &s, NULL, &res), LAYER_READ_OK);
	assert_int_equal(s.n, 1);
	assert_float_equal(s.x[0], 117.25, 1e-12);
	assert_float_equal(s.y[0], 29.35, 1e-12);
	seen_clear(&s);
}

static int wkb_type_of_first(const struct layer_read_feature *f, void *arg, char *err,
			     size_t errlen)
{
	uint32_t *type = arg;

	if (f->wkb && f->wkb_len >= 5)
		memcpy(type, f->wkb + 1, 4);
	return 0;
}

/* DXF: no CRS without --s-srs; a closed polyline comes out as a polygon, and is counted. */
static void test_dxf(void **state)
{
	GDALDriverH drv = GDALGetDriverByName("DXF");
	struct layer_read_opts o = {0};
	struct layer_read_info info;
	struct layer_read_result res;
	OGRGeometryH g;
	OGRFeatureH f;
	OGRLayerH lyr;
	GDALDatasetH ds;
	uint32_t type = 0;
	char path[128];

	if (!drv)
		skip();
	path_in_tmp(path, sizeof(path), "closed.dxf");
	ds = GDALCreate(drv, path, 0, 0, 0, GDT_Unknown, NULL);
	assert_non_null(ds);
	lyr = GDALDatasetCreateLayer(ds, "entities", NULL, wkbLineString, NULL);
	assert_non_null(lyr);
	f = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
	g = OGR_G_CreateGeometry(wkbLineString);
	OGR_G_AddPoint_2D(g, 517000, 3243000);
	OGR_G_AddPoint_2D(g, 518000, 3243000);
	OGR_G_AddPoint_2D(g, 518000, 3244000);
	OGR_G_AddPoint_2D(g, 517000, 3243000);
	OGR_F_SetGeometryDirectly(f, g);
	assert_int_equal(OGR_L_CreateFeature(lyr, f), OGRERR_NONE);
	OGR_F_Destroy(f);
	GDALClose(ds);

	o.path = path;
	assert_int_equal(layer_read_file(&o, wkb_type_of_first, &type, &info, &res),
			 LAYER_READ_ERR_SRS);
	assert_non_null(strstr(res.message, "--s-srs"));
	o.s_srs = "EPSG:4548";
	assert_int_equal(layer_read_file(&o, wkb_type_of_first, &type, &info, &res), LAYER_READ_OK);
	assert_int_equal(type, 3); /* POLYGON */
	assert_int_equal(info.closed_count, 1);
	assert_string_equal(info.driver, "DXF");
}

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cu_layer_read.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	GDALAllRegister();
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geojson),
		cmocka_unit_test(test_shapefile_gbk_4490),
		cmocka_unit_test(test_gauss_kruger_4548),
		cmocka_unit_test(test_gauss_kruger_zone_mismatch),
		cmocka_unit_test(test_missing_crs),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_code_field_and_callback_errors),
		cmocka_unit_test(test_layer_choice),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_dxf),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
