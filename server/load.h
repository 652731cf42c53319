/* load.h -- `shorewatch load`: a GIS file becomes a new version of a layer, in one transaction. */
#ifndef SHOREWATCH_LOAD_H
#define SHOREWATCH_LOAD_H

#include <stddef.h>

#include <libpq-fe.h>

/* Status codes: 0 ok, negative errors. */
enum load_status {
	LOAD_OK = 0,
	LOAD_ERR_ARG = -1,  /* bad options: no file, unknown kind, bad name */
	LOAD_ERR_DB = -2,   /* the database refused or the connection failed */
	LOAD_ERR_FILE = -3, /* the file could not be read (layer_read error) or a feature is unusable */
	LOAD_ERR_KIND = -4, /* the layer exists with another kind */
	LOAD_ERR_EMPTY = -5 /* the file has no features: nothing to make a version of */
};

/* What to load. Every pointer is borrowed; NULL means the default given. */
struct load_opts {
	const char *path;        /* the file to read (required) */
	const char *kind;        /* required: shoreline_project, mining_zone, parking, no_mining,
				  * protection, function_zone or river */
	const char *name;        /* layer name; NULL: the file's base name without extension */
	const char *code_field;  /* NULL: the layer's stored code field, if any */
	const char *s_srs;       /* NULL: the file's CRS */
	const char *encoding;    /* NULL: GDAL's detection (Shapefile .cpg / LDID) */
	const char *src_layer;   /* NULL: the file's only layer */
	const char *loaded_by;   /* NULL: "cli" */
	const char *ledger_map;  /* shoreline_project: JSON file mapping source columns to the
				  * ledger's typed fields; NULL: the built-in mapping */
	const char *source_name; /* recorded as layer_versions.source_file; NULL: basename(path)
				  * (an upload passes the client's file name here) */
	int skip_invalid;        /* 0: an empty or unrepairable geometry fails the load; 1: such
				  * features are skipped and counted in skipped_count */
	int progress;            /* 1: loads of more than 10,000 features print "loading NAME: N of
				  * M features (P%)" on stderr at most once a second (the CLI) */
};

/* One feature named in a load report: repaired or skipped, and why. */
struct load_item {
	long row;        /* 1-based position of the feature in the file ("#row") */
	long long fid;   /* its id in the source file, -1 if it has none */
	long long id;    /* features.id of the stored feature; 0 if it was not stored (skipped) */
	char reason[200]; /* repaired: PostGIS's ST_IsValidReason before the repair; skipped: why */
};

#define LOAD_LISTED 50  /* repaired and skipped features listed by name (the counts are exact) */
#define LOAD_WARNINGS 4 /* warning lines kept */

/* What a successful load made: the whole load report (the CLI prints it, POST /api/layers
 * answers it). Plain storage, nothing to free. */
struct load_result {
	int layer_id;
	int version_id;            /* layer_versions.id, now layers.current_version_id */
	int version;               /* 1, 2, ... per layer */
	long feature_count;        /* features stored */
	long repaired_count;       /* invalid geometries stored after ST_MakeValid */
	long skipped_count;        /* empty/unrepairable features skipped (skip_invalid only) */
	long closed_count;         /* DXF closed polylines stored as polygons */
	char name[256];            /* the layer's name */
	char source_srs[256];      /* the CRS read from, e.g. "EPSG:4548" */
	int srs_given;             /* 1: source_srs is o->s_srs (--s-srs), 0: the file's own */
	char driver[64];           /* GDAL driver that read the file, e.g. "ESRI Shapefile" */
	char source_layer[256];    /* the layer of the file that was read */
	char repaired[512];        /* the first 20 repaired features: "#3 (fid 2), #7 (fid 6), ..." */
	int repaired_listed;       /* repaired_items[0..repaired_listed): the first LOAD_LISTED */
	struct load_item repaired_items[LOAD_LISTED];
	int skipped_listed;        /* skipped_items[0..skipped_listed): the first LOAD_LISTED */
	struct load_item skipped_items[LOAD_LISTED];
	int warning_count;         /* warnings[0..warning_count): one line each, e.g. eastings that
				    * contradict the declared Gauss-Krueger CRS, dates the ledger
				    * did not understand */
	char warnings[LOAD_WARNINGS][512];
};

/* Loads o->path as a new version of layer o->name in one transaction on conn, which must be
 * connected and idle (not inside a transaction); conn stays usable afterwards. Creates the layer
 * if it is new; an existing layer must have the same kind. Features go with one COPY into a fresh
 * table (sw_features_stage, schema/005), whose invalid geometries are then repaired with
 * ST_MakeValid, counted and listed with PostGIS's reason (r->repaired_items); an empty geometry,
 * or one that is empty once repaired, fails the load (unless o->skip_invalid: then it is skipped
 * and listed in r->skipped_items). The table is then indexed and attached as the version's
 * partition of `features` (sw_features_attach). On success fills r (may be NULL) and returns 0,
 * and on commit NOTIFY shorewatch_layer '{"layer","kind","version","features"}'.
 * On error rolls back (nothing stored), writes one line into err (naming the file, and the
 * feature "#index (fid F)" when one is to blame) and returns a negative load_status.
 * Blocks on the database: call it from a database worker thread, never the lws service thread. */
int load_file(PGconn *conn, const struct load_opts *o, struct load_result *r, char *err,
	      size_t errlen);

/* 1 if kind is one of the layer kinds above, else 0. */
int load_kind_valid(const char *kind);

/* The `shorewatch load` command: argv[0] is "load", then
 * --kind KIND [--name NAME] [--code-field FIELD] [--s-srs SRS] [--encoding ENC] [--layer SRC_LAYER]
 * [--loaded-by WHO] [--skip-invalid] FILE (also --opt=value). A .zip or .kmz is read through
 * /vsizip/. Connects with conninfo (NULL: libpq's defaults). Prints "layer NAME version N:
 * F features (R repaired[, S skipped])" on stdout (repaired features and DXF polylines closed into
 * polygons as warning lines on stderr, and progress for long loads) and returns 0, or prints one
 * line on stderr and returns a non-zero exit status (2 for usage errors, 1 otherwise). */
int load_main(const char *conninfo, const char *ledger_map, int argc, char **argv);

#endif
