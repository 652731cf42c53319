/* api_layers.c -- layer versions, version diffs and the OGC API Features endpoints. */
#include <ctype.h>
#include <stdint.h>
#include <libpq-fe.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"

/*
 * OGC API - Features, Part 1 (core, GeoJSON). Links are absolute
 * ("http://" + the request's Host): GDAL's OAPIF driver, and with it QGIS,
 * follows hrefs as given. Every collection is a layer; its items are the
 * features of the layer's current version, or with `datetime` of the version
 * that was current at that time. Everything needs a viewer token, the landing
 * page and conformance included (GDAL_HTTP_HEADERS / QGIS authentication
 * configurations send it).
 */

#define OGC_CRS84 "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
#define ITEMS_DEFAULT_LIMIT 100
#define ITEMS_MAX_LIMIT 10000

/* A layer name percent-encoded for a URL path segment, in SQL (RFC 3986
 * unreserved characters stay; each other character becomes its UTF-8 bytes). */
#define SQL_NAME_ENC                                                                            \
	"(SELECT string_agg(CASE WHEN c ~ '^[A-Za-z0-9._~-]$' THEN c ELSE regexp_replace("     \
	"upper(encode(convert_to(c, 'UTF8'), 'hex')), '(..)', '%\\1', 'g') END, '' ORDER BY o)" \
	" FROM regexp_split_to_table(l.name, '') WITH ORDINALITY s(c, o))"

/* One collection object; $1 is the base URL, l the layer, e.b its extent
 * (current version), t.t0 its first load time. */
#define SQL_COLLECTION                                                                          \
	"json_build_object('id', l.name, 'title', coalesce(l.title, l.name), 'description', l.kind," \
	" 'itemType', 'feature', 'crs', json_build_array('" OGC_CRS84 "'),"                        \
	" 'extent', json_build_object("                                                          \
	"   'spatial', json_build_object('bbox', json_build_array(CASE WHEN e.b IS NULL"          \
	"     THEN json_build_array(-180, -90, 180, 90) ELSE json_build_array("                   \
	"     round(ST_XMin(e.b)::numeric, 7), round(ST_YMin(e.b)::numeric, 7),"                   \
	"     round(ST_XMax(e.b)::numeric, 7), round(ST_YMax(e.b)::numeric, 7)) END),"             \
	"     'crs', '" OGC_CRS84 "'),"                                                            \
	"   'temporal', json_build_object('interval', json_build_array(json_build_array("        \
	"     sw_iso(t.t0), NULL)), 'trs', 'http://www.opengis.net/def/uom/ISO-8601/0/Gregorian'))," \
	" 'links', json_build_array("                                                            \
	"   json_build_object('href', $1 || '/collections/' || " SQL_NAME_ENC ", 'rel', 'self',"   \
	"     'type', 'application/json', 'title', coalesce(l.title, l.name)),"                    \
	"   json_build_object('href', $1 || '/collections/' || " SQL_NAME_ENC " || '/items',"      \
	"     'rel', 'items', 'type', 'application/geo+json', 'title', coalesce(l.title, l.name))))"

#define SQL_COLLECTION_FROM                                                                     \
	" FROM layers l LEFT JOIN LATERAL (SELECT ST_Extent(f.geom)::geometry AS b FROM features f" \
	"   WHERE f.layer_version_id = l.current_version_id) e ON true"                             \
	" LEFT JOIN LATERAL (SELECT min(lv.loaded_at) AS t0 FROM layer_versions lv"                  \
	"   WHERE lv.layer_id = l.id) t ON true"

/* One GeoJSON Feature of row f: the props plus "code" when it has one. */
#define SQL_FEATURE                                                                             \
	"json_build_object('type', 'Feature', 'id', f.id, 'geometry', ST_AsGeoJSON(f.geom, 7)::json," \
	" 'properties', f.props || sw_ledger_props(f.id) || CASE WHEN f.code IS NULL THEN '{}'::jsonb"                        \
	"   ELSE jsonb_build_object('code', f.code) END)"

/* ----------------------------------------------------------------- helpers */

/* Worker thread: takes the one JSON cell of res, or answers 404 with
 * `missing` when there is no row (or a NULL cell), 500 on a query error. */
static void take_or_404(struct db_job *j, PGresult *res, const char *missing)
{
	if (PQresultStatus(res) == PGRES_TUPLES_OK &&
	    (PQntuples(res) < 1 || PQgetisnull(res, 0, 0))) {
		db_job_error(j, 404, missing);
		return;
	}
	db_job_take_json(j, res, 200);
}

/* Worker thread: a read-only transaction in which PostgreSQL neither JIT-compiles nor starts
 * parallel workers: PostGIS functions are costed so high that an items page with a bbox or a
 * diff crosses jit_above_cost, and compiling takes longer than answering. 0, or -1 with the
 * connection idle again. */
static int layers_begin(PGconn *c)
{
	PGresult *r = PQexec(c, "BEGIN READ ONLY; SET LOCAL jit = off;"
				" SET LOCAL max_parallel_workers_per_gather = 0");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	if (!ok)
		PQclear(PQexec(c, "ROLLBACK"));
	return ok ? 0 : -1;
}

static void layers_end(PGconn *c)
{
	PQclear(PQexec(c, "COMMIT"));
}

/* Percent-encodes s (RFC 3986 unreserved characters stay) into out; 0, or
 * -1 when it does not fit. */
static int url_encode(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			if (o + 1 >= len)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= len)
				return -1;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return 0;
}

/* Service thread: the absolute base URL of this server as the client named
 * it ("http://host:port"), from the Host header; "" (relative links) when the
 * header is missing or holds anything but host name characters. */
static void base_url(struct http_req *r, char *out, size_t len)
{
	char host[200];
	int n = http_request_header(r, WSI_TOKEN_HOST, host, sizeof(host));
	int i;

	out[0] = '\0';
	if (n <= 0)
		return;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)host[i]) && !strchr(".-:[]_", host[i]))
			return;
	snprintf(out, len, "http://%s", host);
}

/* A job with r's first path parameter (the layer name) in arg. */
static struct db_job *name_job(struct http_req *r, db_run_fn run)
{
	struct db_job *j = db_job_new(run, NULL, 0);

	if (j && !(j->arg = strdup(r->params[0]))) {
		db_job_free(j);
		j = NULL;
	}
	return j;
}

/* ---------------------------------------------------------------- versions */

static void run_versions(PGconn *c, struct db_job *j)
{
	const char *params[1] = { j->arg };
	PGresult *res = PQexecParams(c,
		"SELECT (SELECT coalesce(json_agg(json_build_object('version', lv.version,"
		"  'loaded_at', sw_iso(lv.loaded_at), 'loaded_by', lv.loaded_by,"
		"  'source_file', lv.source_file, 'source_srs', lv.source_srs,"
		"  'features', lv.feature_count, 'repaired', lv.repaired_count,"
		"  'current', coalesce(lv.id = l.current_version_id, false)) ORDER BY lv.version DESC), '[]')"
		"  FROM layer_versions lv WHERE lv.layer_id = l.id)"
		" FROM layers l WHERE l.name = $1",
		1, NULL, params, NULL, NULL, 0);

	take_or_404(j, res, "no such layer");
	PQclear(res);
}

/* GET /api/layers/{name}/versions: the layer's versions, newest first. */
static void api_layer_versions(struct sw_server *s, struct http_req *r)
{
	http_submit_job(s, r, name_job(r, run_versions));
}

/* -------------------------------------------------------------------- diff */

/* Features of one version keyed for matching: by code when every feature of
 * both versions has one (a layer with a code field), else by source fid;
 * repeated keys get "#2", "#3"... in fid order so that nothing is lost.
 * $2 is the version id, $3 whether to key by code. */
#define SQL_DIFF_SIDE(alias, vparam)                                                           \
	alias " AS (SELECT k || CASE WHEN n > 1 THEN '#' || n ELSE '' END AS key, props, geom, fid, n" \
	"  FROM (SELECT f.*, CASE WHEN $3::bool THEN f.code"                                      \
	"    ELSE coalesce(f.fid::text, 'row ' || f.id) END AS k,"                                 \
	"    row_number() OVER (PARTITION BY CASE WHEN $3::bool THEN f.code"                      \
	"    ELSE coalesce(f.fid::text, 'row ' || f.id) END ORDER BY f.fid, f.id) AS n"            \
	"    FROM features f WHERE f.layer_version_id = " vparam "::int) q)"

/* Output key: the code (text), or the source fid (number) when keyed by fid. */
#define SQL_DIFF_KEY(alias)                                                                     \
	"CASE WHEN $3::bool OR " alias ".fid IS NULL OR " alias ".n > 1 THEN to_json(" alias ".key)" \
	" ELSE to_json(" alias ".fid) END"

/* Geometry change: equal ordering after normalisation, else the topological
 * test (GEOS cannot relate geometry collections: those count as changed). */
#define SQL_GEOM_CHANGED                                                                       \
	"CASE WHEN ST_OrderingEquals(ST_Normalize(a.geom), ST_Normalize(b.geom)) THEN false"      \
	" WHEN GeometryType(a.geom) = 'GEOMETRYCOLLECTION' OR GeometryType(b.geom) ="            \
	" 'GEOMETRYCOLLECTION' THEN true ELSE NOT ST_Equals(a.geom, b.geom) END"

static void diff_body(PGconn *c, struct db_job *j)
{
	char from[24], to[24], msg[160];
	const char *p1[1] = { j->arg };
	const char *by;
	PGresult *res;
	long cur, vfrom, vto;
	int i, by_code, from_id = 0, to_id = 0, layer_id;

	/* the layer, its current version and whether it is keyed by code */
	res = PQexecParams(c,
		"SELECT l.id, (SELECT version FROM layer_versions WHERE id = l.current_version_id),"
		" l.code_field IS NOT NULL FROM layers l WHERE l.name = $1",
		1, NULL, p1, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		if (PQresultStatus(res) == PGRES_TUPLES_OK)
			db_job_error(j, 404, "no such layer");
		else
			db_job_error(j, 500, "database error");
		PQclear(res);
		return;
	}
	layer_id = atoi(PQgetvalue(res, 0, 0));
	cur = PQgetisnull(res, 0, 1) ? 0 : atol(PQgetvalue(res, 0, 1));
	by_code = PQgetvalue(res, 0, 2)[0] == 't';
	PQclear(res);

	vto = j->iarg[1] ? j->iarg[1] : cur;
	if (!vto) {
		db_job_error(j, 404, "the layer has no version");
		return;
	}
	vfrom = j->iarg[0] ? j->iarg[0] : vto - 1;
	if (vfrom < 1) {
		db_job_error(j, 400, "version 1 has no earlier version: give from=");
		return;
	}
	snprintf(from, sizeof(from), "%ld", vfrom);
	snprintf(to, sizeof(to), "%ld", vto);
	{
		char lid[24];
		const char *pv[3] = { lid, from, to };

		snprintf(lid, sizeof(lid), "%d", layer_id);
		res = PQexecParams(c,
			"SELECT version, id, EXISTS (SELECT 1 FROM features f WHERE"
			" f.layer_version_id = lv.id AND f.code IS NULL)"
			" FROM layer_versions lv WHERE layer_id = $1::int AND version IN ($2::int, $3::int)",
			3, NULL, pv, NULL, NULL, 0);
	}
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("db: diff: %s", PQresultErrorMessage(res));
		db_job_error(j, 500, "database error");
		PQclear(res);
		return;
	}
	for (i = 0; i < PQntuples(res); i++) {
		long v = atol(PQgetvalue(res, i, 0));

		if (v == vfrom)
			from_id = atoi(PQgetvalue(res, i, 1));
		if (v == vto)
			to_id = atoi(PQgetvalue(res, i, 1));
		if (PQgetvalue(res, i, 2)[0] == 't')
			by_code = 0; /* a feature without a code: match by fid */
	}
	PQclear(res);
	if (!from_id || !to_id) {
		snprintf(msg, sizeof(msg), "no version %ld of this layer", from_id ? vto : vfrom);
		db_job_error(j, 404, msg);
		return;
	}

	snprintf(from, sizeof(from), "%d", from_id);
	snprintf(to, sizeof(to), "%d", to_id);
	by = by_code ? "true" : "false";
	{
		char vf[24], vt[24];
		const char *pd[6] = { from, to, by, j->arg, vf, vt };

		snprintf(vf, sizeof(vf), "%ld", vfrom);
		snprintf(vt, sizeof(vt), "%ld", vto);
		/* $1 from version id, $2 to version id, $3 by code, $4 layer name,
		 * $5/$6 the version numbers */
		res = PQexecParams(c,
			"WITH " SQL_DIFF_SIDE("a", "$1") ", " SQL_DIFF_SIDE("b", "$2") ","
			" added AS (SELECT b.* FROM b WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.key = b.key)),"
			" removed AS (SELECT a.* FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.key = a.key)),"
			" pairs AS (SELECT a.key, " SQL_DIFF_KEY("a") " AS okey, " SQL_GEOM_CHANGED " AS gch,"
			"   (SELECT coalesce(json_agg(k ORDER BY k), '[]') FROM (SELECT jsonb_object_keys(a.props)"
			"     UNION SELECT jsonb_object_keys(b.props)) s(k)"
			"     WHERE a.props -> k IS DISTINCT FROM b.props -> k) AS pch,"
			"   a.props IS DISTINCT FROM b.props AS pdiff"
			"   FROM a JOIN b ON a.key = b.key),"
			" changed AS (SELECT * FROM pairs WHERE gch OR pdiff)"
			" SELECT json_build_object('layer', $4::text, 'from', $5::int, 'to', $6::int,"
			"  'key', CASE WHEN $3::bool THEN 'code' ELSE 'fid' END,"
			"  'added', (SELECT coalesce(json_agg(json_build_object('key', " SQL_DIFF_KEY("b") ","
			"    'properties', b.props) ORDER BY b.key), '[]') FROM added b),"
			"  'removed', (SELECT coalesce(json_agg(json_build_object('key', " SQL_DIFF_KEY("a") ","
			"    'properties', a.props) ORDER BY a.key), '[]') FROM removed a),"
			"  'changed', (SELECT coalesce(json_agg(json_build_object('key', okey,"
			"    'geometry_changed', gch, 'properties_changed', pch) ORDER BY key), '[]') FROM changed),"
			"  'counts', json_build_object('added', (SELECT count(*) FROM added),"
			"    'removed', (SELECT count(*) FROM removed), 'changed', (SELECT count(*) FROM changed),"
			"    'unchanged', (SELECT count(*) FROM pairs) - (SELECT count(*) FROM changed)))",
			6, NULL, pd, NULL, NULL, 0);
	}
	db_job_take_json(j, res, 200);
	PQclear(res);
}

static void run_diff(PGconn *c, struct db_job *j)
{
	if (layers_begin(c)) {
		db_job_error(j, 500, "database error");
		return;
	}
	diff_body(c, j);
	layers_end(c);
}

/* GET /api/layers/{name}/diff?from=V1&to=V2: to defaults to the current
 * version, from to to - 1. */
static void api_layer_diff(struct sw_server *s, struct http_req *r)
{
	char buf[32];
	long from = 0, to = 0;
	struct db_job *j;

	if (http_query(r, "from", buf, sizeof(buf)) >= 0 && (from = http_parse_id(buf, INT32_MAX)) < 0) {
		http_error(r, 400, "from must be a version number (1, 2, ...)");
		return;
	}
	if (http_query(r, "to", buf, sizeof(buf)) >= 0 && (to = http_parse_id(buf, INT32_MAX)) < 0) {
		http_error(r, 400, "to must be a version number (1, 2, ...)");
		return;
	}
	j = name_job(r, run_diff);
	if (j) {
		j->iarg[0] = from;
		j->iarg[1] = to;
	}
	http_submit_job(s, r, j);
}

/* ---------------------------------------------------------- landing, conformance */

/* GET / (for JSON clients): the OGC API landing page. */
static void ogc_landing(struct sw_server *s, struct http_req *r)
{
	char base[256], self[300], conf[300], data[300], api[300];

	(void)s;
	base_url(r, base, sizeof(base));
	snprintf(self, sizeof(self), "%s/", base);
	snprintf(conf, sizeof(conf), "%s/conformance", base);
	snprintf(data, sizeof(data), "%s/collections", base);
	snprintf(api, sizeof(api), "%s/api", base);
	http_json(r, 200,
		  json_pack("{s:s,s:s,s:[{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s},{s:s,s:s,s:s,s:s},"
			    "{s:s,s:s,s:s,s:s}]}",
			    "title", "Shorewatch",
			    "description", "River supervision layers: zones, parking points, shoreline "
					   "projects and rivers, every loaded version (OGC API - Features)",
			    "links",
			    "href", self, "rel", "self", "type", "application/json", "title",
			    "this document",
			    "href", conf, "rel", "conformance", "type", "application/json", "title",
			    "conformance classes",
			    "href", data, "rel", "data", "type", "application/json", "title",
			    "collections",
			    "href", api, "rel", "service-desc", "type",
			    "application/vnd.oai.openapi+json;version=3.0", "title",
			    "the API definition (OpenAPI 3.0)"));
}

/* The OpenAPI 3.0 definition (rel service-desc): QGIS's OAPIF provider
 * refuses a landing page without one, and reads the limit's default and
 * maximum from components.parameters.limit. %s is the base URL. */
static const char openapi_doc[] =
	"{\"openapi\":\"3.0.2\",\"info\":{\"title\":\"Shorewatch\",\"version\":\"1.0.0\","
	"\"description\":\"River supervision layers as OGC API - Features. Every request needs "
	"a viewer's token: Authorization: Bearer TOKEN (POST /api/login).\"},"
	"\"servers\":[{\"url\":\"%s/\"}],"
	"\"security\":[{\"bearer\":[]}],"
	"\"paths\":{"
	"\"/\":{\"get\":{\"summary\":\"landing page\",\"operationId\":\"getLandingPage\","
	"\"responses\":{\"200\":{\"description\":\"links to the API definition, conformance and collections\"}}}},"
	"\"/api\":{\"get\":{\"summary\":\"this API definition\",\"operationId\":\"getAPI\","
	"\"responses\":{\"200\":{\"description\":\"the OpenAPI 3.0 definition\"}}}},"
	"\"/conformance\":{\"get\":{\"summary\":\"conformance classes\",\"operationId\":\"getConformance\","
	"\"responses\":{\"200\":{\"description\":\"conformsTo\"}}}},"
	"\"/collections\":{\"get\":{\"summary\":\"the layers\",\"operationId\":\"getCollections\","
	"\"responses\":{\"200\":{\"description\":\"every layer\"}}}},"
	"\"/collections/{collectionId}\":{\"get\":{\"summary\":\"one layer\",\"operationId\":\"describeCollection\","
	"\"parameters\":[{\"$ref\":\"#/components/parameters/collectionId\"}],"
	"\"responses\":{\"200\":{\"description\":\"the layer\"},\"404\":{\"description\":\"no such layer\"}}}},"
	"\"/collections/{collectionId}/items\":{\"get\":{\"summary\":\"features of a layer's version\","
	"\"operationId\":\"getFeatures\",\"parameters\":[{\"$ref\":\"#/components/parameters/collectionId\"},"
	"{\"$ref\":\"#/components/parameters/limit\"},{\"$ref\":\"#/components/parameters/offset\"},"
	"{\"$ref\":\"#/components/parameters/bbox\"},{\"$ref\":\"#/components/parameters/datetime\"}],"
	"\"responses\":{\"200\":{\"description\":\"a GeoJSON FeatureCollection\","
	"\"content\":{\"application/geo+json\":{\"schema\":{\"type\":\"object\"}}}},"
	"\"400\":{\"description\":\"a malformed parameter\"},\"404\":{\"description\":\"no such layer\"}}}},"
	"\"/collections/{collectionId}/items/{featureId}\":{\"get\":{\"summary\":\"one feature\","
	"\"operationId\":\"getFeature\",\"parameters\":[{\"$ref\":\"#/components/parameters/collectionId\"},"
	"{\"$ref\":\"#/components/parameters/featureId\"}],"
	"\"responses\":{\"200\":{\"description\":\"a GeoJSON Feature\","
	"\"content\":{\"application/geo+json\":{\"schema\":{\"type\":\"object\"}}}},"
	"\"404\":{\"description\":\"no such feature\"}}}}},"
	"\"components\":{\"securitySchemes\":{\"bearer\":{\"type\":\"http\",\"scheme\":\"bearer\"}},"
	"\"parameters\":{"
	"\"collectionId\":{\"name\":\"collectionId\",\"in\":\"path\",\"required\":true,"
	"\"description\":\"the layer name\",\"schema\":{\"type\":\"string\"}},"
	"\"featureId\":{\"name\":\"featureId\",\"in\":\"path\",\"required\":true,"
	"\"schema\":{\"type\":\"integer\"}},"
	"\"limit\":{\"name\":\"limit\",\"in\":\"query\",\"required\":false,\"style\":\"form\","
	"\"explode\":false,\"schema\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"default\":100}},"
	"\"offset\":{\"name\":\"offset\",\"in\":\"query\",\"required\":false,\"style\":\"form\","
	"\"explode\":false,\"schema\":{\"type\":\"integer\",\"minimum\":0,\"default\":0}},"
	"\"bbox\":{\"name\":\"bbox\",\"in\":\"query\",\"required\":false,\"style\":\"form\","
	"\"explode\":false,\"schema\":{\"type\":\"array\",\"minItems\":4,\"maxItems\":6,"
	"\"items\":{\"type\":\"number\"}}},"
	"\"datetime\":{\"name\":\"datetime\",\"in\":\"query\",\"required\":false,\"style\":\"form\","
	"\"explode\":false,\"description\":\"an instant (the layer version current then) or an "
	"interval ../T (the same as T)\",\"schema\":{\"type\":\"string\"}}}}}";

/* GET /api: the OpenAPI definition. */
static void ogc_api(struct sw_server *s, struct http_req *r)
{
	char base[256], *doc;
	size_t len;

	(void)s;
	base_url(r, base, sizeof(base));
	len = sizeof(openapi_doc) + strlen(base);
	doc = malloc(len);
	if (!doc) {
		http_error(r, 500, "out of memory");
		return;
	}
	snprintf(doc, len, openapi_doc, base);
	http_respond(r, 200, "application/vnd.oai.openapi+json;version=3.0", doc, strlen(doc));
}

/* GET /conformance. */
static void ogc_conformance(struct sw_server *s, struct http_req *r)
{
	(void)s;
	http_json(r, 200, json_pack("{s:[s,s,s]}", "conformsTo",
				    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
				    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
				    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"));
}

/* ------------------------------------------------------------- collections */

static void run_collections(PGconn *c, struct db_job *j)
{
	const char *params[1] = { j->arg };
	PGresult *res = PQexecParams(c,
		"SELECT json_build_object('links', json_build_array(json_build_object("
		"  'href', $1 || '/collections', 'rel', 'self', 'type', 'application/json',"
		"  'title', 'collections')),"
		" 'collections', coalesce(json_agg(" SQL_COLLECTION " ORDER BY l.name), '[]'))"
		SQL_COLLECTION_FROM,
		1, NULL, params, NULL, NULL, 0);

	db_job_take_json(j, res, 200);
	PQclear(res);
}

/* GET /collections: every layer. */
static void ogc_collections(struct sw_server *s, struct http_req *r)
{
	char base[256];
	struct db_job *j = db_job_new(run_collections, NULL, 0);

	base_url(r, base, sizeof(base));
	if (j && !(j->arg = strdup(base))) {
		db_job_free(j);
		j = NULL;
	}
	http_submit_job(s, r, j);
}

static void run_collection(PGconn *c, struct db_job *j)
{
	const char *params[2] = { j->arg2, j->arg };
	PGresult *res = PQexecParams(c, "SELECT " SQL_COLLECTION SQL_COLLECTION_FROM
				   " WHERE l.name = $2",
				   2, NULL, params, NULL, NULL, 0);

	take_or_404(j, res, "no such collection");
	PQclear(res);
}

/* GET /collections/{name}. */
static void ogc_collection(struct sw_server *s, struct http_req *r)
{
	char base[256];
	struct db_job *j = name_job(r, run_collection);

	base_url(r, base, sizeof(base));
	if (j && !(j->arg2 = strdup(base))) {
		db_job_free(j);
		j = NULL;
	}
	http_submit_job(s, r, j);
}

/* ------------------------------------------------------------------- items */

/* What an items request asks for, parsed on the service thread. */
struct items_query {
	long limit, offset;
	int have_bbox;
	double bbox[4];     /* minlon, minlat, maxlon, maxlat */
	int have_time;      /* 1: the version current at time_ms; 2: the current version */
	int64_t time_ms;
};

/* Parses a bbox "minlon,minlat,maxlon,maxlat" (or the 6-number form with
 * heights, which are ignored). 0 or -1. */
static int parse_bbox(const char *s, double b[4])
{
	double v[6];
	int n = 0;
	char *end;

	for (;;) {
		if (n == 6)
			return -1;
		v[n++] = strtod(s, &end);
		if (end == s || (*end && *end != ','))
			return -1;
		if (!*end)
			break;
		s = end + 1;
	}
	if (n == 4) {
		b[0] = v[0], b[1] = v[1], b[2] = v[2], b[3] = v[3];
	} else if (n == 6) {
		b[0] = v[0], b[1] = v[1], b[2] = v[3], b[3] = v[4];
	} else {
		return -1;
	}
	if (b[1] < -90 || b[3] > 90 || b[1] > b[3] || b[0] > b[2] || b[0] < -180 || b[2] > 180)
		return -1;
	return 0;
}

/* Parses `datetime`: an instant, or an interval "start/end" whose end counts
 * (".." or "" as the end: now, i.e. the current version). 0 or -1. */
static int parse_datetime(const char *s, struct items_query *q)
{
	const char *slash = strchr(s, '/');
	char start[64];

	if (!slash) {
		q->have_time = 1;
		return sw_parse_iso_time(s, &q->time_ms);
	}
	if ((size_t)(slash - s) >= sizeof(start) || strchr(slash + 1, '/'))
		return -1;
	memcpy(start, s, (size_t)(slash - s));
	start[slash - s] = '\0';
	if (start[0] && strcmp(start, "..") && sw_parse_iso_time(start, &q->time_ms))
		return -1;
	if (!slash[1] || !strcmp(slash + 1, "..")) {
		if (!start[0] || !strcmp(start, ".."))
			return -1; /* "../..": no bound at all */
		q->have_time = 2;
		return 0;
	}
	q->have_time = 1;
	return sw_parse_iso_time(slash + 1, &q->time_ms);
}

/* The bbox filter of an items query, $2..$5 the box or NULL: with the parameters bound when
 * the statement is planned, "$2 IS NULL" folds away and the GiST index serves the box. */
#define SQL_ITEMS_BBOX                                                                          \
	" AND ($2::float8 IS NULL OR (f.geom && ST_MakeEnvelope($2::float8, $3::float8, $4::float8,"  \
	"   $5::float8, 4326) AND ST_Intersects(f.geom, ST_MakeEnvelope($2::float8, $3::float8,"      \
	"   $4::float8, $5::float8, 4326))))"

static void run_items(PGconn *c, struct db_job *j)
{
	const struct items_query *q = (const struct items_query *)j->arg2;
	char b[4][32], lim[24], off[24], tms[24], vid[24];
	const char *params[9];
	PGresult *res;
	int i;

	if (layers_begin(c)) {
		db_job_error(j, 500, "database error");
		return;
	}
	/* 1. the version: the current one, or with datetime the one current then (NULL: none yet) */
	snprintf(tms, sizeof(tms), "%lld", (long long)q->time_ms);
	params[0] = j->arg;
	params[1] = q->have_time == 1 ? tms : NULL;
	res = PQexecParams(c,
		"SELECT CASE WHEN $2::bigint IS NULL THEN l.current_version_id ELSE"
		"  (SELECT lv.id FROM layer_versions lv WHERE lv.layer_id = l.id"
		"   AND date_trunc('milliseconds', lv.loaded_at) <="
		"     'epoch'::timestamptz + $2::bigint * interval '1 millisecond'"
		"   ORDER BY lv.version DESC LIMIT 1) END"
		" FROM layers l WHERE l.name = $1",
		2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1) {
		take_or_404(j, res, "no such collection");
		goto out;
	}
	snprintf(vid, sizeof(vid), "%s", PQgetvalue(res, 0, 0));
	params[0] = PQgetisnull(res, 0, 0) ? NULL : vid;
	PQclear(res);

	/* 2. the page of that version (a bound parameter: one partition of features is read).
	 * arg: "name\0items href without offset\0collection href" */
	params[7] = j->arg + strlen(j->arg) + 1;
	params[8] = params[7] + strlen(params[7]) + 1;
	for (i = 0; i < 4; i++) {
		snprintf(b[i], sizeof(b[i]), "%.9f", q->bbox[i]);
		params[1 + i] = q->have_bbox ? b[i] : NULL;
	}
	snprintf(lim, sizeof(lim), "%ld", q->limit);
	snprintf(off, sizeof(off), "%ld", q->offset);
	params[5] = lim;
	params[6] = off;
	res = PQexecParams(c,
		"WITH page AS (SELECT f.* FROM features f WHERE f.layer_version_id = $1::int"
		SQL_ITEMS_BBOX " ORDER BY f.id LIMIT $6::int OFFSET $7::int),"
		" n AS (SELECT (SELECT count(*) FROM features f WHERE f.layer_version_id = $1::int"
		SQL_ITEMS_BBOX ") AS matched, (SELECT count(*) FROM page) AS returned)"
		" SELECT json_build_object('type', 'FeatureCollection',"
		"  'numberMatched', n.matched, 'numberReturned', n.returned, 'timeStamp', sw_iso(now()),"
		"  'links', jsonb_build_array("
		"    jsonb_build_object('href', $8::text || CASE WHEN $7::bigint > 0"
		"      THEN '&offset=' || $7::bigint ELSE '' END, 'rel', 'self', 'type', 'application/geo+json',"
		"      'title', 'this page'),"
		"    jsonb_build_object('href', $9::text, 'rel', 'collection', 'type', 'application/json',"
		"      'title', 'the collection'))"
		"   || CASE WHEN n.matched > $7::bigint + n.returned THEN jsonb_build_array("
		"    jsonb_build_object('href', $8::text || '&offset=' || ($7::bigint + $6::bigint),"
		"      'rel', 'next', 'type', 'application/geo+json', 'title', 'next page'))"
		"   ELSE '[]'::jsonb END,"
		"  'features', (SELECT coalesce(json_agg(" SQL_FEATURE " ORDER BY f.id), '[]') FROM page f))"
		" FROM n",
		9, NULL, params, NULL, NULL, 0);
	take_or_404(j, res, "no such collection");
	j->iarg[3] = 1;
out:
	PQclear(res);
	layers_end(c);
}

/* Appends "&key=urlencoded(value)" to buf at *n; -1 when it does not fit. */
static int query_add(char *buf, size_t len, size_t *n, const char *key, const char *value)
{
	char enc[512];
	int w;

	if (url_encode(value, enc, sizeof(enc)))
		return -1;
	w = snprintf(buf + *n, len - *n, "&%s=%s", key, enc);
	if (w < 0 || (size_t)w >= len - *n)
		return -1;
	*n += (size_t)w;
	return 0;
}

/* GET /collections/{name}/items?bbox=&limit=&offset=&datetime=. */
static void ogc_items(struct sw_server *s, struct http_req *r)
{
	char buf[256], bbox_raw[256] = "", dt_raw[160] = "", base[256], name_enc[768];
	char self[2048], coll[1100];
	struct items_query q;
	struct db_job *j;
	size_t n, nl, sl, cl;
	char *end;

	memset(&q, 0, sizeof(q));
	q.limit = ITEMS_DEFAULT_LIMIT;
	if (http_query(r, "limit", buf, sizeof(buf)) >= 0) {
		q.limit = strtol(buf, &end, 10);
		if (!isdigit((unsigned char)buf[0]) || *end || q.limit < 1) {
			http_error(r, 400, "limit must be a positive integer (at most 10000 are returned)");
			return;
		}
		/* OGC API - Features /req/core/fc-limit-response-1: a limit over the maximum is not an
		 * error, the maximum is used (and the links say so) */
		if (q.limit > ITEMS_MAX_LIMIT)
			q.limit = ITEMS_MAX_LIMIT;
	}
	if (http_query(r, "offset", buf, sizeof(buf)) >= 0) {
		q.offset = strtol(buf, &end, 10);
		if (!isdigit((unsigned char)buf[0]) || *end || q.offset < 0 || q.offset > 2000000000L) {
			http_error(r, 400, "offset must be a non-negative integer");
			return;
		}
	}
	if (http_query(r, "bbox-crs", buf, sizeof(buf)) >= 0 && strcmp(buf, OGC_CRS84)) {
		http_error(r, 400, "bbox-crs: only " OGC_CRS84 " is supported");
		return;
	}
	if (http_query(r, "bbox", bbox_raw, sizeof(bbox_raw)) >= 0) {
		if (parse_bbox(bbox_raw, q.bbox)) {
			http_error(r, 400, "bbox must be minlon,minlat,maxlon,maxlat (WGS84 degrees)");
			return;
		}
		q.have_bbox = 1;
	}
	if (http_query(r, "datetime", dt_raw, sizeof(dt_raw)) >= 0 && parse_datetime(dt_raw, &q)) {
		http_error(r, 400, "datetime must be ISO-8601 with an offset (2026-11-29T09:30:00+08:00) "
				   "or an interval ending with one (../2026-11-29T09:30:00+08:00)");
		return;
	}

	/* the links: self and next are this prefix + "&offset=N" (added in SQL) */
	base_url(r, base, sizeof(base));
	if (url_encode(r->params[0], name_enc, sizeof(name_enc))) {
		http_error(r, 404, "no such collection");
		return;
	}
	snprintf(coll, sizeof(coll), "%s/collections/%s", base, name_enc);
	n = (size_t)snprintf(self, sizeof(self), "%s/items?limit=%ld", coll, q.limit);
	if ((q.have_bbox && query_add(self, sizeof(self), &n, "bbox", bbox_raw)) ||
	    (q.have_time && query_add(self, sizeof(self), &n, "datetime", dt_raw))) {
		http_error(r, 400, "query too long");
		return;
	}

	j = db_job_new(run_items, NULL, 0);
	if (!j) {
		http_error(r, 500, "out of memory");
		return;
	}
	nl = strlen(r->params[0]) + 1;
	sl = strlen(self);
	cl = strlen(coll) + 1;
	j->arg = malloc(nl + sl + 1 + cl);
	j->arg2 = malloc(sizeof(q));
	if (!j->arg || !j->arg2) {
		db_job_free(j);
		http_error(r, 500, "out of memory");
		return;
	}
	memcpy(j->arg, r->params[0], nl);
	memcpy(j->arg + nl, self, sl);
	j->arg[nl + sl] = '\0';
	memcpy(j->arg + nl + sl + 1, coll, cl);
	memcpy(j->arg2, &q, sizeof(q));
	http_submit_job(s, r, j);
}

static void run_item(PGconn *c, struct db_job *j)
{
	const char *params[2] = { j->arg, j->arg2 };
	PGresult *res;

	if (layers_begin(c)) {
		db_job_error(j, 500, "database error");
		return;
	}
	/* the layer's versions as an array worked out first: only their partitions are probed */
	res = PQexecParams(c,
		"SELECT " SQL_FEATURE " FROM features f WHERE f.id = $2::bigint"
		" AND f.layer_version_id = ANY (ARRAY(SELECT lv.id FROM layer_versions lv"
		"   JOIN layers l ON l.id = lv.layer_id WHERE l.name = $1))",
		2, NULL, params, NULL, NULL, 0);
	take_or_404(j, res, "no such feature");
	j->iarg[3] = 1;
	PQclear(res);
	layers_end(c);
}

/* GET /collections/{name}/items/{featureId}: a feature of any version of
 * the layer (ids stay valid for the versions `datetime` can reach). */
static void ogc_item(struct sw_server *s, struct http_req *r)
{
	const char *id = r->params[1];
	struct db_job *j;
	size_t i;

	for (i = 0; id[i]; i++)
		if (!isdigit((unsigned char)id[i]))
			break;
	if (id[i] || !i || i > 18) {
		http_error(r, 404, "no such feature");
		return;
	}
	j = name_job(r, run_item);
	if (j && !(j->arg2 = strdup(id))) {
		db_job_free(j);
		j = NULL;
	}
	http_submit_job(s, r, j);
}

const struct http_route layers_routes[] = {
	{ HM_GET, "/api/layers/{}/versions", ROLE_VIEWER, api_layer_versions },
	{ HM_GET, "/api/layers/{}/diff", ROLE_VIEWER, api_layer_diff },
	{ HM_GET, "/", ROLE_VIEWER, ogc_landing },
	{ HM_GET, "/api", ROLE_VIEWER, ogc_api },
	{ HM_GET, "/conformance", ROLE_VIEWER, ogc_conformance },
	{ HM_GET, "/collections", ROLE_VIEWER, ogc_collections },
	{ HM_GET, "/collections/{}", ROLE_VIEWER, ogc_collection },
	{ HM_GET, "/collections/{}/items", ROLE_VIEWER, ogc_items },
	{ HM_GET, "/collections/{}/items/{}", ROLE_VIEWER, ogc_item },
	{ 0, NULL, ROLE_NONE, NULL },
};
