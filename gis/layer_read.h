/* layer_read.h -- GDAL/OGR bridge: open a GIS file, reproject every feature to EPSG:4326 lon/lat
 * and hand it over as WKB plus JSON attributes. No database, no sockets, no threads. */
#ifndef SHOREWATCH_LAYER_READ_H
#define SHOREWATCH_LAYER_READ_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Status codes: 0 ok, negative errors. */
enum layer_read_status {
	LAYER_READ_OK = 0,
	LAYER_READ_ERR_ARG = -1,       /* bad options (no path, ...) */
	LAYER_READ_ERR_OPEN = -2,      /* file missing or not a vector format GDAL reads */
	LAYER_READ_ERR_LAYER = -3,     /* layer not found, several layers and none chosen, no geometry */
	LAYER_READ_ERR_SRS = -4,       /* no CRS in the file and none given, or --s-srs not understood */
	LAYER_READ_ERR_TRANSFORM = -5, /* a feature could not be reprojected */
	LAYER_READ_ERR_FIELD = -6,     /* code field missing, attribute not valid UTF-8 */
	LAYER_READ_ERR_READ = -7,      /* the driver failed while reading features */
	LAYER_READ_ERR_CALLBACK = -8,  /* the feature callback asked to stop */
	LAYER_READ_ERR_NOMEM = -9,
};

/* What to read. Every pointer is borrowed for the duration of layer_read_file(). */
struct layer_read_opts {
	const char *path;       /* file (or anything GDALOpenEx takes, e.g. /vsizip/...); a path
				 * ending .zip or .kmz is read through /vsizip/, and when the zip's
				 * root does not open, its first .shp/.gpkg/.geojson/.kml/.dxf/.csv
				 * (in any folder) is read instead */
	const char *layer_name; /* NULL: the file's only layer (error if it has several) */
	const char *s_srs;      /* NULL: the file's CRS; else overrides it ("EPSG:4548", WKT, PROJ string) */
	const char *encoding;   /* NULL: GDAL's default (the .cpg or the DBF's LDID; without either the
				 * bytes pass unchanged and non-UTF-8 text is an error); Shapefile only,
				 * passed as open option ENCODING (e.g. "GBK", "UTF-8", "CP936") */
	const char *code_field; /* NULL: no code; else the attribute whose value is the feature's code */
};

/* Formats without a CRS of their own: DXF always needs s_srs (LAYER_READ_ERR_SRS naming --s-srs).
 * DXF closed LINESTRINGs (closed polylines, LWPOLYLINEs) are handed over as POLYGONs and counted
 * in info->closed_count. CSV is opened with a WKT column (WKT, wkt, geom, geometry, the_geom) or
 * X/Y columns (lon, lng, x, 经度 / lat, y, 纬度); the geometry column is not an attribute. */

/* What was opened; filled before the first callback. */
struct layer_read_info {
	char driver[64];       /* GDAL driver short name, e.g. "ESRI Shapefile" */
	char layer_name[256];  /* the layer read */
	char source_srs[256];  /* "EPSG:4548" when identifiable, else the CRS name */
	long feature_count;    /* the driver's count, -1 if unknown; after reading: features handed over */
	char warning[512];     /* "" or one line: e.g. eastings that contradict a Gauss-Krueger CRS */
	char opened[1024];     /* the path GDAL opened (e.g. "/vsizip/a.zip/dir/a.shp") */
	long closed_count;     /* DXF closed polylines handed over as polygons */
};

/* One feature, handed to the callback. Everything is borrowed and valid only during the call:
 * copy the WKB, json_incref() the props to keep them. */
struct layer_read_feature {
	long index;               /* 0-based position in the layer; messages say "#index+1" */
	int64_t fid;              /* the feature's id in the file, -1 if it has none */
	const unsigned char *wkb; /* 2D ISO WKB (little endian) in EPSG:4326, x = lon, y = lat;
				   * NULL if the feature has no or an empty geometry */
	size_t wkb_len;
	json_t *props;            /* object: field name -> value, UTF-8; integers, reals, strings,
				   * booleans, arrays (list fields), ISO 8601 dates; null if unset */
	const char *code;         /* the code field's value as text, NULL if no code field or unset */
};

/* The outcome of layer_read_file(): code 0 or a layer_read_status; a one-line message (without
 * the path, which the caller prefixes) that for feature errors starts "feature #N (fid F): ";
 * index is 0-based, -1 when no feature is concerned; fid -1 when unknown. */
struct layer_read_result {
	int code;
	char message[512];
	long index;
	int64_t fid;
};

/* Called once per feature in file order. Return 0 to go on; anything else stops the read, which
 * then returns LAYER_READ_ERR_CALLBACK with the callback's err text (if it wrote one) as message. */
typedef int (*layer_read_feature_fn)(const struct layer_read_feature *f, void *arg, char *err,
				     size_t errlen);

/* Reads the layer described by o and calls fn for each feature. info (may be NULL) is filled when
 * the layer is open. res must not be NULL. Returns res->code. Never aborts; GDAL's own messages are
 * captured (thread-local handler) into res->message. Registers GDAL drivers on first use. */
int layer_read_file(const struct layer_read_opts *o, layer_read_feature_fn fn, void *arg,
		    struct layer_read_info *info, struct layer_read_result *res);

/* A static English name for a layer_read_status. */
const char *layer_read_status_str(int code);

#endif
