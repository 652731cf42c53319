/* load.c -- `shorewatch load`: read a GIS file (gis/layer_read) into a new layer version in PostGIS. */
#include "load.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "layer_read.h"

#define LOAD_BYTEAOID 17 /* pg_type.oid of bytea, stable since forever */

static const char *const load_kinds[] = {
	"shoreline_project", "mining_zone", "parking", "no_mining", "protection", "function_zone",
	"river", NULL,
};

int load_kind_valid(const char *kind)
{
	int i;

	for (i = 0; kind && load_kinds[i]; i++)
		if (strcmp(kind, load_kinds[i]) == 0)
			return 1;
	return 0;
}

/* Everything one load needs; lives on load_file's stack. */
struct load_ctx {
	PGconn *conn;
	const struct load_opts *o;
	int version_id;
	long features;
	long repaired;
};

static void one_line(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

/* The server's primary message for a failed result, else the connection's; one line. */
static void db_message(PGconn *conn, const PGresult *res, char *out, size_t len)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	size_t n;

	snprintf(out, len, "%s", m ? m : PQerrorMessage(conn));
	one_line(out);
	n = strlen(out);
	while (n > 0 && out[n - 1] == ' ')
		out[--n] = '\0';
	if (!out[0])
		snprintf(out, len, "database error");
}

/* Runs sql with text parameters; returns the result if its status is ok, else NULL with the
 * reason in why. The caller PQclear()s a non-NULL result. */
static PGresult *db_exec(PGconn *conn, const char *sql, int n, const char *const *params,
			 ExecStatusType ok, char *why, size_t whylen)
{
	PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);

	if (!res || PQresultStatus(res) != ok) {
		db_message(conn, res, why, whylen);
		PQclear(res);
		return NULL;
	}
	return res;
}

static int db_command(PGconn *conn, const char *sql, int n, const char *const *params, char *why,
		      size_t whylen)
{
	PGresult *res = db_exec(conn, sql, n, params, PGRES_COMMAND_OK, why, whylen);

	PQclear(res);
	return res ? 0 : -1;
}

/* The insert for one feature, in one round trip: decode the WKB, check it, repair it if invalid
 * (polygons with the 'structure' method so they stay polygons), refuse it if nothing is left,
 * store it; answer whether it was valid and whether it is empty. */
static const char sql_feature[] =
	"WITH g AS (SELECT ST_GeomFromWKB($5, 4326) AS geom),"
	" v AS (SELECT geom, ST_IsValid(geom) AS ok FROM g),"
	" m AS (SELECT ok, CASE WHEN ok THEN geom"
	"   WHEN GeometryType(geom) IN ('POLYGON', 'MULTIPOLYGON')"
	"   THEN ST_MakeValid(geom, 'method=structure') ELSE ST_MakeValid(geom) END AS geom FROM v),"
	" ins AS (INSERT INTO features (layer_version_id, fid, code, props, geom)"
	"   SELECT $1::integer, $2::bigint, $3::text, $4::jsonb, geom FROM m"
	"   WHERE geom IS NOT NULL AND NOT ST_IsEmpty(geom) RETURNING id)"
	" SELECT ok, (SELECT count(*) FROM ins) FROM m";

/* layer_read callback: store one feature. */
static int load_feature(const struct layer_read_feature *f, void *arg, char *err, size_t errlen)
{
	struct load_ctx *c = arg;
	char vid[16], fid[24], why[300];
	char *props;
	const char *values[5];
	int lengths[5] = {0, 0, 0, 0, 0};
	int formats[5] = {0, 0, 0, 0, 1};
	Oid types[5] = {0, 0, 0, 0, LOAD_BYTEAOID};
	PGresult *res;
	int rc = 0;

	if (!f->wkb) {
		snprintf(err, errlen, "empty geometry (every feature needs one)");
		return 1;
	}
	props = json_dumps(f->props, JSON_COMPACT);
	if (!props) {
		snprintf(err, errlen, "cannot encode the attributes as JSON");
		return 1;
	}
	snprintf(vid, sizeof(vid), "%d", c->version_id);
	snprintf(fid, sizeof(fid), "%lld", (long long)f->fid);
	values[0] = vid;
	values[1] = f->fid >= 0 ? fid : NULL;
	values[2] = f->code;
	values[3] = props;
	values[4] = (const char *)f->wkb;
	lengths[4] = (int)f->wkb_len;

	res = PQexecParams(c->conn, sql_feature, 5, types, values, lengths, formats, 0);
	if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		db_message(c->conn, res, why, sizeof(why));
		snprintf(err, errlen, "cannot store: %s", why);
		rc = 1;
	} else if (strcmp(PQgetvalue(res, 0, 1), "1") != 0) {
		snprintf(err, errlen, "invalid geometry that is empty once repaired");
		rc = 1;
	} else {
		c->features++;
		if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
			c->repaired++;
	}
	PQclear(res);
	free(props);
	return rc;
}

static const char *path_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int load_fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int load_fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		one_line(err);
	}
	return code;
}

/* Checks the options and works out the layer name (the base name without its extension). */
static int load_check(const struct load_opts *o, char *name, size_t namelen, char *err,
		      size_t errlen)
{
	const unsigned char *p;

	if (!o || !o->path || !o->path[0])
		return load_fail(err, errlen, LOAD_ERR_ARG, "no file given");
	if (!load_kind_valid(o->kind))
		return load_fail(err, errlen, LOAD_ERR_ARG,
				 "%s: kind \"%s\" is not one of shoreline_project, mining_zone, "
				 "parking, no_mining, protection, function_zone, river",
				 o->path, o->kind ? o->kind : "");
	if (o->name && o->name[0]) {
		snprintf(name, namelen, "%s", o->name);
	} else {
		char *dot;

		snprintf(name, namelen, "%s", path_base(o->path));
		dot = strrchr(name, '.');
		if (dot && dot != name)
			*dot = '\0';
	}
	if (!name[0] || strlen(name) > 200)
		return load_fail(err, errlen, LOAD_ERR_ARG, "%s: layer name \"%s\" is empty or too long",
				 o->path, name);
	for (p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == '/' || *p == 0x7f)
			return load_fail(err, errlen, LOAD_ERR_ARG,
					 "%s: layer name may not contain '/' or control characters",
					 o->path);
	return 0;
}

/* The transaction's body, between BEGIN and COMMIT; returns 0 or a load_status with err set. */
static int load_body(struct load_ctx *c, const char *name, struct load_result *r, char *err,
		     size_t errlen)
{
	const struct load_opts *o = c->o;
	struct layer_read_opts ro = {0};
	struct layer_read_info info;
	struct layer_read_result rr;
	char why[400], num[3][24], stored_code_field[256], *payload;
	const char *code_field = o->code_field && o->code_field[0] ? o->code_field : NULL;
	const char *p[5];
	PGresult *res;
	json_t *note;
	int layer_id, version;

	/* ST_IsValid reports every defect as a NOTICE; the count is what we want, not the noise. */
	if (db_command(c->conn, "SET LOCAL client_min_messages = warning", 0, NULL, why,
		       sizeof(why)))
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);

	/* The layer row: create it if new, then lock it so concurrent loads number versions in turn. */
	p[0] = name;
	p[1] = o->kind;
	p[2] = code_field;
	if (db_command(c->conn,
		       "INSERT INTO layers (name, kind, code_field) VALUES ($1, $2, $3)"
		       " ON CONFLICT (name) DO NOTHING",
		       3, p, why, sizeof(why)))
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);
	res = db_exec(c->conn, "SELECT id, kind, code_field FROM layers WHERE name = $1 FOR UPDATE", 1,
		      p, PGRES_TUPLES_OK, why, sizeof(why));
	if (!res)
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);
	if (PQntuples(res) != 1) {
		PQclear(res);
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: layer \"%s\" vanished", o->path, name);
	}
	if (strcmp(PQgetvalue(res, 0, 1), o->kind) != 0) {
		int rc = load_fail(err, errlen, LOAD_ERR_KIND,
				   "%s: layer \"%s\" is a %s layer, not %s (choose another --name)",
				   o->path, name, PQgetvalue(res, 0, 1), o->kind);

		PQclear(res);
		return rc;
	}
	layer_id = atoi(PQgetvalue(res, 0, 0));
	/* Without --code-field a new version keeps the code field the layer already has. */
	snprintf(stored_code_field, sizeof(stored_code_field), "%s",
		 PQgetisnull(res, 0, 2) ? "" : PQgetvalue(res, 0, 2));
	PQclear(res);
	if (!code_field && stored_code_field[0])
		code_field = stored_code_field;

	snprintf(num[0], sizeof(num[0]), "%d", layer_id);
	p[0] = num[0];
	p[1] = o->loaded_by && o->loaded_by[0] ? o->loaded_by : "cli";
	p[2] = o->source_name && o->source_name[0] ? o->source_name : path_base(o->path);
	res = db_exec(c->conn,
		      "INSERT INTO layer_versions (layer_id, version, loaded_by, source_file)"
		      " SELECT $1::integer, COALESCE(max(version), 0) + 1, $2, $3"
		      " FROM layer_versions WHERE layer_id = $1::integer RETURNING id, version",
		      3, p, PGRES_TUPLES_OK, why, sizeof(why));
	if (!res)
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);
	c->version_id = atoi(PQgetvalue(res, 0, 0));
	version = atoi(PQgetvalue(res, 0, 1));
	PQclear(res);

	ro.path = o->path;
	ro.layer_name = o->src_layer;
	ro.s_srs = o->s_srs;
	ro.encoding = o->encoding;
	ro.code_field = code_field;
	layer_read_file(&ro, load_feature, c, &info, &rr);
	if (rr.code != LAYER_READ_OK)
		return load_fail(err, errlen, LOAD_ERR_FILE, "%s: %s", o->path, rr.message);
	if (c->features == 0)
		return load_fail(err, errlen, LOAD_ERR_EMPTY, "%s: layer \"%s\" has no features",
				 o->path, info.layer_name);

	snprintf(num[1], sizeof(num[1]), "%ld", c->features);
	snprintf(num[2], sizeof(num[2]), "%ld", c->repaired);
	snprintf(num[0], sizeof(num[0]), "%d", c->version_id);
	p[0] = num[0];
	p[1] = num[1];
	p[2] = num[2];
	p[3] = info.source_srs;
	if (db_command(c->conn,
		       "UPDATE layer_versions SET feature_count = $2::integer,"
		       " repaired_count = $3::integer, source_srs = $4 WHERE id = $1::integer",
		       4, p, why, sizeof(why)))
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);
	snprintf(num[1], sizeof(num[1]), "%d", layer_id);
	p[1] = num[1];
	p[2] = code_field;
	if (db_command(c->conn,
		       "UPDATE layers SET current_version_id = $1::integer, code_field = $3"
		       " WHERE id = $2::integer",
		       3, p, why, sizeof(why)))
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);

	/* Listeners (the live feed's `layer` event) hear of it only if the transaction commits. */
	note = json_pack("{s:s, s:s, s:i, s:I}", "layer", name, "kind", o->kind, "version", version,
			 "features", (json_int_t)c->features);
	payload = note ? json_dumps(note, JSON_COMPACT) : NULL;
	json_decref(note);
	if (!payload)
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: out of memory", o->path);
	p[0] = payload;
	res = db_exec(c->conn, "SELECT pg_notify('shorewatch_layer', $1)", 1, p, PGRES_TUPLES_OK,
		      why, sizeof(why));
	free(payload);
	if (!res)
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: cannot notify: %s", o->path, why);
	PQclear(res);

	if (r) {
		r->layer_id = layer_id;
		r->version_id = c->version_id;
		r->version = version;
		r->feature_count = c->features;
		r->repaired_count = c->repaired;
		snprintf(r->name, sizeof(r->name), "%s", name);
		snprintf(r->source_srs, sizeof(r->source_srs), "%s", info.source_srs);
		snprintf(r->warning, sizeof(r->warning), "%s", info.warning);
	}
	return 0;
}

int load_file(PGconn *conn, const struct load_opts *o, struct load_result *r, char *err,
	      size_t errlen)
{
	struct load_ctx c = {0};
	char name[256], why[400];
	PGresult *res;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (r)
		memset(r, 0, sizeof(*r));
	rc = load_check(o, name, sizeof(name), err, errlen);
	if (rc)
		return rc;
	if (!conn || PQstatus(conn) != CONNECTION_OK)
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: no database connection", o->path);
	if (PQtransactionStatus(conn) != PQTRANS_IDLE)
		return load_fail(err, errlen, LOAD_ERR_DB,
				 "%s: the connection is busy or inside a transaction", o->path);
	if (db_command(conn, "BEGIN", 0, NULL, why, sizeof(why)))
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);

	c.conn = conn;
	c.o = o;
	rc = load_body(&c, name, r, err, errlen);
	if (rc == 0) {
		res = PQexecParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
		/* A COMMIT of a failed transaction answers COMMAND_OK with tag ROLLBACK. */
		if (!res || PQresultStatus(res) != PGRES_COMMAND_OK ||
		    strcmp(PQcmdStatus(res), "COMMIT") != 0) {
			db_message(conn, res, why, sizeof(why));
			rc = load_fail(err, errlen, LOAD_ERR_DB, "%s: commit failed: %s", o->path, why);
			if (r)
				memset(r, 0, sizeof(*r));
		}
		PQclear(res);
		return rc;
	}
	if (PQstatus(conn) == CONNECTION_OK)
		PQclear(PQexecParams(conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0));
	if (r)
		memset(r, 0, sizeof(*r));
	return rc;
}

static void load_usage(FILE *out)
{
	fprintf(out,
		"usage: shorewatch load --kind KIND [--name NAME] [--code-field FIELD] [--s-srs SRS]\n"
		"                       [--encoding ENC] [--layer SRC_LAYER] [--loaded-by WHO] FILE\n"
		"  KIND: shoreline_project, mining_zone, parking, no_mining, protection,\n"
		"        function_zone, river\n");
}

int load_main(const char *conninfo, int argc, char **argv)
{
	static const struct {
		const char *flag;
		size_t off;
	} flags[] = {
		{"--kind", offsetof(struct load_opts, kind)},
		{"--name", offsetof(struct load_opts, name)},
		{"--code-field", offsetof(struct load_opts, code_field)},
		{"--s-srs", offsetof(struct load_opts, s_srs)},
		{"--encoding", offsetof(struct load_opts, encoding)},
		{"--layer", offsetof(struct load_opts, src_layer)},
		{"--loaded-by", offsetof(struct load_opts, loaded_by)},
	};
	struct load_opts o = {0};
	struct load_result r;
	char err[700];
	PGconn *conn;
	int i, rc;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t k, n = sizeof(flags) / sizeof(flags[0]);

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			load_usage(stdout);
			return 0;
		}
		if (strncmp(a, "--", 2) != 0 || strcmp(a, "--") == 0) {
			if (strcmp(a, "--") == 0 && i + 1 < argc)
				a = argv[++i];
			if (o.path) {
				fprintf(stderr, "shorewatch load: one file at a time (got %s and %s)\n",
					o.path, a);
				return 2;
			}
			o.path = a;
			continue;
		}
		for (k = 0; k < n; k++) {
			size_t fl = strlen(flags[k].flag);
			const char **slot = (const char **)((char *)&o + flags[k].off);

			if (strcmp(a, flags[k].flag) == 0) {
				if (i + 1 >= argc) {
					fprintf(stderr, "shorewatch load: %s needs a value\n", a);
					return 2;
				}
				*slot = argv[++i];
				break;
			}
			if (strncmp(a, flags[k].flag, fl) == 0 && a[fl] == '=') {
				*slot = a + fl + 1;
				break;
			}
		}
		if (k == n) {
			fprintf(stderr, "shorewatch load: unknown option %s (try --help)\n", a);
			return 2;
		}
	}
	if (!o.path) {
		fprintf(stderr, "shorewatch load: no FILE given (try --help)\n");
		return 2;
	}
	if (!o.kind) {
		fprintf(stderr, "shorewatch load: %s: --kind is required (shoreline_project, "
				"mining_zone, parking, no_mining, protection, function_zone, river)\n",
			o.path);
		return 2;
	}

	conn = PQconnectdb(conninfo ? conninfo : "");
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		db_message(conn, NULL, err, sizeof(err));
		fprintf(stderr, "shorewatch load: %s: cannot connect to the database: %s\n", o.path,
			err);
		PQfinish(conn);
		return 1;
	}
	/* Attributes are UTF-8 whatever the server's or the locale's defaults are. */
	if (PQsetClientEncoding(conn, "UTF8") != 0) {
		fprintf(stderr, "shorewatch load: %s: cannot set client encoding UTF8\n", o.path);
		PQfinish(conn);
		return 1;
	}
	rc = load_file(conn, &o, &r, err, sizeof(err));
	PQfinish(conn);
	if (rc != 0) {
		fprintf(stderr, "shorewatch load: %s\n", err);
		return rc == LOAD_ERR_ARG ? 2 : 1;
	}
	if (r.warning[0])
		fprintf(stderr, "shorewatch load: warning: %s\n", r.warning);
	printf("layer %s version %d: %ld feature%s (%ld repaired)\n", r.name, r.version,
	       r.feature_count, r.feature_count == 1 ? "" : "s", r.repaired_count);
	return 0;
}
