/* api_tiles.c -- Mapbox Vector Tiles of layers (ST_AsMVT) and their TileJSON. */
#include <ctype.h>
#include <libpq-fe.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"

/*
 * GET /tiles/{name}/{z}/{x}/{y}.mvt -- one tile of a layer's current version.
 *
 * The tile is encoded by PostGIS (ST_AsMVT, extent 4096, buffer 64) on a
 * database worker and comes back as raw bytes (binary result format). The
 * service thread keeps two things, both touched only on the service thread:
 *
 *  - a layer record per layer name: its current version id and when that
 *    was last read from the database;
 *  - an LRU cache of encoded tiles keyed by (name, z, x, y), each entry
 *    remembering the version it was made from, bounded by total bytes.
 *
 * A request whose layer was checked less than TILES_REVALIDATE_MS ago is
 * answered from memory (304 on a matching If-None-Match, or the cached
 * tile) without touching the database. Otherwise one query reads the current
 * version and, only if it differs from the cached entry's version, encodes
 * the tile. So a new version (loaded by `shorewatch load` in another
 * process, which cannot tell us) is visible at most TILES_REVALIDATE_MS
 * after it is committed, and the revalidation of a cached tile costs one
 * index lookup, not an ST_AsMVT.
 *
 * The ETag is a strong validator made of (version id, z, x, y): a tile's
 * bytes are a function of exactly those (and of this encoding, hence the
 * "mvt2" prefix to bump if the SQL changes).
 */

#define TILES_CACHE_BYTES ((size_t)64 << 20)  /* encoded bytes + entry overhead */
#define TILES_MAX_TILE (TILES_CACHE_BYTES / 8) /* larger tiles are not cached */
#define TILES_REVALIDATE_MS 1000
#define TILES_MAX_LAYERS 256
#define TILES_MAX_Z 22
#define TILES_CACHE_CONTROL "private, max-age=60" /* tiles need a login */
#define TILES_CTYPE "application/vnd.mapbox-vector-tile"

/* job->status of a tile job whose layer version equals the hinted one: the
 * cached tile is current (not an HTTP status) */
#define TILE_UNCHANGED 1

struct tile_entry {
	struct tile_entry *hnext;       /* hash chain */
	struct tile_entry *prev, *next; /* LRU list, most recent first */
	uint64_t hash;
	int version;
	int z;
	unsigned x, y;
	size_t len;
	unsigned char *data; /* owned; NULL for an empty tile */
	char name[];         /* layer name */
};

struct layer_rec {
	char name[128];
	int version;
	int64_t checked_ms;
};

struct tile_cache {
	struct tile_entry **buckets;
	size_t nbuckets, count, bytes;
	struct tile_entry *head, *tail;
	struct layer_rec layers[TILES_MAX_LAYERS];
	int nlayers;
};


/* ------------------------------------------------------------ tile cache */

static uint64_t tile_hash(const char *name, int z, unsigned x, unsigned y)
{
	uint64_t h = 1469598103934665603ULL;
	const unsigned char *p = (const unsigned char *)name;
	unsigned v[3] = { (unsigned)z, x, y };
	size_t i;

	for (; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	for (i = 0; i < 3; i++) {
		h = (h ^ (v[i] & 0xffff)) * 1099511628211ULL;
		h = (h ^ (v[i] >> 16)) * 1099511628211ULL;
	}
	return h;
}

static size_t entry_cost(const struct tile_entry *e)
{
	return sizeof(*e) + strlen(e->name) + 1 + e->len + sizeof(void *);
}

static void lru_unlink(struct tile_cache *tc, struct tile_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		tc->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		tc->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_front(struct tile_cache *tc, struct tile_entry *e)
{
	e->prev = NULL;
	e->next = tc->head;
	if (tc->head)
		tc->head->prev = e;
	tc->head = e;
	if (!tc->tail)
		tc->tail = e;
}

static struct tile_entry *cache_find(struct tile_cache *tc, const char *name, int z, unsigned x, unsigned y)
{
	uint64_t h = tile_hash(name, z, x, y);
	struct tile_entry *e;

	if (!tc->nbuckets)
		return NULL;
	for (e = tc->buckets[h & (tc->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->z == z && e->x == x && e->y == y && !strcmp(e->name, name))
			return e;
	return NULL;
}

/* Removes e from the hash and the LRU and frees it. */
static void cache_drop(struct tile_cache *tc, struct tile_entry *e)
{
	struct tile_entry **pp = &tc->buckets[e->hash & (tc->nbuckets - 1)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(tc, e);
	tc->count--;
	tc->bytes -= entry_cost(e);
	free(e->data);
	free(e);
}

/* Doubles the bucket array (power of two); on allocation failure the
 * chains just get longer. */
static void cache_grow(struct tile_cache *tc)
{
	size_t n = tc->nbuckets ? tc->nbuckets * 2 : 1024, i;
	struct tile_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (i = 0; i < tc->nbuckets; i++) {
		struct tile_entry *e = tc->buckets[i], *next;

		for (; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(tc->buckets);
	tc->buckets = b;
	tc->nbuckets = n;
}

/* Stores a copy of data[0..len) as the tile (name, z, x, y) of `version`,
 * replacing an older entry, then evicts least recently used tiles until the
 * cache fits TILES_CACHE_BYTES. Tiles over TILES_MAX_TILE are not kept. */
static void cache_put(struct tile_cache *tc, const char *name, int z, unsigned x, unsigned y, int version,
		      const unsigned char *data, size_t len)
{
	struct tile_entry *e = cache_find(tc, name, z, x, y);
	size_t nl = strlen(name);

	if (e)
		cache_drop(tc, e);
	if (len > TILES_MAX_TILE)
		return;
	if (tc->count >= tc->nbuckets * 2)
		cache_grow(tc);
	if (!tc->nbuckets)
		return;
	e = calloc(1, sizeof(*e) + nl + 1);
	if (!e)
		return;
	if (len) {
		e->data = malloc(len);
		if (!e->data) {
			free(e);
			return;
		}
		memcpy(e->data, data, len);
	}
	memcpy(e->name, name, nl + 1);
	e->hash = tile_hash(name, z, x, y);
	e->version = version;
	e->z = z;
	e->x = x;
	e->y = y;
	e->len = len;
	e->hnext = tc->buckets[e->hash & (tc->nbuckets - 1)];
	tc->buckets[e->hash & (tc->nbuckets - 1)] = e;
	lru_push_front(tc, e);
	tc->count++;
	tc->bytes += entry_cost(e);
	while (tc->bytes > TILES_CACHE_BYTES && tc->tail && tc->tail != e)
		cache_drop(tc, tc->tail);
}

static struct layer_rec *layer_find(struct tile_cache *tc, const char *name)
{
	int i;

	for (i = 0; i < tc->nlayers; i++)
		if (!strcmp(tc->layers[i].name, name))
			return &tc->layers[i];
	return NULL;
}

/* Records what the database just said about a layer: its current version
 * (0: no such layer, the record is dropped). Names too long for a record or
 * beyond TILES_MAX_LAYERS are simply always asked for. */
static void layer_note(struct tile_cache *tc, const char *name, int version)
{
	struct layer_rec *l = layer_find(tc, name);

	if (!version) {
		if (l)
			*l = tc->layers[--tc->nlayers];
		return;
	}
	if (!l) {
		if (tc->nlayers >= TILES_MAX_LAYERS || strlen(name) >= sizeof(l->name))
			return;
		l = &tc->layers[tc->nlayers++];
		snprintf(l->name, sizeof(l->name), "%s", name);
	}
	l->version = version;
	l->checked_ms = sw_now_ms();
}

/* ------------------------------------------------------------ HTTP details */

/* Parses a decimal number of at most 7 digits that is <= max. 0 or -1. */
static int parse_coord(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;
	size_t i;

	if (!n || n > 7)
		return -1;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static void tile_etag(char *buf, size_t len, int version, int z, unsigned x, unsigned y)
{
	snprintf(buf, len, "\"mvt2-%d-%d-%u-%u\"", version, z, x, y);
}

/* 1 if the If-None-Match value (a list of entity tags, or "*") matches etag.
 * If-None-Match uses the weak comparison, so a W/ prefix is ignored. */
static int etag_matches(const char *inm, const char *etag)
{
	size_t el = strlen(etag);
	const char *p = inm, *e;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		if (*p == '*')
			return 1;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (*p == '"') {
			e = strchr(p + 1, '"');
			if (!e)
				return 0;
			e++;
		} else {
			for (e = p; *e && *e != ','; e++)
				;
		}
		if ((size_t)(e - p) == el && !memcmp(p, etag, el))
			return 1;
		p = e;
	}
	return 0;
}

/* Answers a tile: 304 when inm (may be NULL) matches, else 200 with the
 * bytes (owned by this call; NULL/0 for an empty tile, which MapLibre
 * accepts as "nothing here"). */
static void tile_respond(struct http_req *r, int version, int z, unsigned x, unsigned y,
			 const char *inm, unsigned char *data, size_t len)
{
	char etag[96];

	tile_etag(etag, sizeof(etag), version, z, x, y);
	http_add_header(r, "etag:", etag);
	http_add_header(r, "cache-control:", TILES_CACHE_CONTROL);
	if (inm && etag_matches(inm, etag)) {
		free(data);
		http_respond(r, 304, TILES_CTYPE, NULL, 0);
		return;
	}
	http_respond(r, 200, TILES_CTYPE, (char *)data, len);
}

/* A malloc'd copy of a cached tile's bytes (NULL for an empty tile); -1 on
 * allocation failure. */
static int entry_copy(const struct tile_entry *e, unsigned char **out)
{
	*out = NULL;
	if (!e->len)
		return 0;
	*out = malloc(e->len);
	if (!*out)
		return -1;
	memcpy(*out, e->data, e->len);
	return 0;
}

/* ------------------------------------------------------------ tile job */

/* Worker thread: a read-only transaction in which PostgreSQL neither JIT-compiles nor starts
 * parallel workers. PostGIS functions are costed so high that a tile of a few thousand features
 * crosses jit_above_cost, and compiling takes longer (100-200 ms) than encoding the tile; and a
 * parallel worker is a fresh process that must set PROJ up before its first ST_Transform
 * (0.5-1 s), where this connection's backend has it cached. 0, or -1 with the connection idle. */
static int tiles_begin(PGconn *c)
{
	PGresult *r = PQexec(c, "BEGIN READ ONLY; SET LOCAL jit = off;"
				" SET LOCAL max_parallel_workers_per_gather = 0");
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;

	PQclear(r);
	if (!ok)
		PQclear(PQexec(c, "ROLLBACK"));
	return ok ? 0 : -1;
}

static void tiles_end(PGconn *c)
{
	PQclear(PQexec(c, "COMMIT"));
}

/* $1 name. The layer's current version. */
static const char tile_version_sql[] =
	"SELECT current_version_id FROM layers WHERE name = $1 AND current_version_id IS NOT NULL";

/* $1 name, $2 z, $3 x, $4 y, $5 the version. The version is a bound parameter, so the plan
 * reads that version's partition of features only (schema/005). Features are stored in
 * EPSG:4326: the && filter uses the tile envelope (with the buffer as margin) transformed to
 * 4326 so the GiST index applies; each geometry is transformed to 3857 for ST_AsMVTGeom.
 *
 * Low zooms of dense layers: a feature whose bounding box is smaller than one pixel of the
 * usual 256-pixel tile (1/256 of the tile, 16 of the 4096 units: 153 m at z10, 2.4 m at z16)
 * both across and down is left out; points always stay. The test reads the box stored in the
 * geometry's header (postgis_getbbox, the box the GiST index holds), so a skipped feature costs
 * no decoding, no transformation and no encoding. Large geometries (over 4 KiB, some 250
 * vertices) are first simplified in place to a quarter of a tile unit, so a long river is not
 * reprojected vertex by vertex only to be snapped to the tile grid; ST_AsMVTGeom snaps to whole
 * units anyway, so the tile does not change beyond that.
 *
 * The code column joins the attributes unless the source has its own "code" (then that one
 * wins, as in the OGC items); a NULL column is not encoded. Rows whose ST_AsMVTGeom is NULL
 * (nothing left inside the tile) are skipped by ST_AsMVT itself: a "WHERE geom IS NOT NULL"
 * around the subquery would make PostgreSQL compute ST_AsMVTGeom twice per row. */
static const char tile_sql[] =
	"SELECT coalesce(ST_AsMVT(t, $1, 4096, 'geom', 'fid'), ''::bytea) FROM ("
	" SELECT f.id AS fid, CASE WHEN f.props ? 'code' THEN NULL ELSE f.code END AS code, f.props,"
	"  ST_AsMVTGeom(ST_Transform(CASE WHEN ST_MemSize(f.geom) > 4096"
	"    THEN ST_Simplify(f.geom, k.tol, true) ELSE f.geom END, 3857), k.tile, 4096, 64, true) AS geom"
	" FROM features f, (SELECT ST_TileEnvelope($2::int, $3::int, $4::int) AS tile,"
	"   ST_Transform(ST_TileEnvelope($2::int, $3::int, $4::int, margin => 64.0 / 4096), 4326) AS area,"
	"   Box2D(ST_Transform(ST_TileEnvelope($2::int, $3::int, $4::int), 4326)) AS deg,"
	"   least(ST_XMax(Box2D(ST_Transform(ST_TileEnvelope($2::int, $3::int, $4::int), 4326)))"
	"     - ST_XMin(Box2D(ST_Transform(ST_TileEnvelope($2::int, $3::int, $4::int), 4326))),"
	"     ST_YMax(Box2D(ST_Transform(ST_TileEnvelope($2::int, $3::int, $4::int), 4326)))"
	"     - ST_YMin(Box2D(ST_Transform(ST_TileEnvelope($2::int, $3::int, $4::int), 4326))))"
	"     / (4 * 4096) AS tol) k"
	" WHERE f.layer_version_id = $5::int AND f.geom && k.area"
	"  AND (ST_XMax(postgis_getbbox(f.geom)) - ST_XMin(postgis_getbbox(f.geom))"
	"     >= (ST_XMax(k.deg) - ST_XMin(k.deg)) / 256"
	"   OR ST_YMax(postgis_getbbox(f.geom)) - ST_YMin(postgis_getbbox(f.geom))"
	"     >= (ST_YMax(k.deg) - ST_YMin(k.deg)) / 256"
	"   OR GeometryType(f.geom) IN ('POINT', 'MULTIPOINT'))) t";

/* Worker thread. In: arg name, arg2 If-None-Match (or NULL), iarg[0..2]
 * z/x/y, iarg[3] the cached version (or -1). Out: status 200 with out/out_len
 * the tile, or TILE_UNCHANGED; iarg[3] the current version; or an error.
 * Two statements in one transaction: the layer's version, then (only if it
 * is not the cached one) the tile of exactly that version. */
static void run_tile(PGconn *c, struct db_job *j)
{
	char z[16], x[16], y[16], ver[24];
	const char *params[5] = { j->arg, z, x, y, ver };
	PGresult *res;
	int len, version;

	snprintf(z, sizeof(z), "%lld", j->iarg[0]);
	snprintf(x, sizeof(x), "%lld", j->iarg[1]);
	snprintf(y, sizeof(y), "%lld", j->iarg[2]);
	if (tiles_begin(c)) {
		db_job_error(j, 500, "database error");
		return;
	}
	res = PQexecParams(c, tile_version_sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("db: tile %s/%s/%s/%s: %s", j->arg, z, x, y, PQresultErrorMessage(res));
		db_job_error(j, 500, "database error");
		goto out;
	}
	if (PQntuples(res) < 1) {
		j->iarg[3] = 0;
		db_job_error(j, 404, "no such layer");
		goto out;
	}
	version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	res = NULL;
	if (version == j->iarg[3]) {
		j->status = TILE_UNCHANGED;
		goto out;
	}
	j->iarg[3] = version;
	snprintf(ver, sizeof(ver), "%d", version);
	/* binary results: the bytea arrives as raw bytes */
	res = PQexecParams(c, tile_sql, 5, NULL, params, NULL, NULL, 1);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		log_error("db: tile %s/%s/%s/%s: %s", j->arg, z, x, y, PQresultErrorMessage(res));
		db_job_error(j, 500, "database error");
		goto out;
	}
	len = PQgetlength(res, 0, 0);
	if (len > 0) {
		j->out = malloc((size_t)len);
		if (!j->out) {
			db_job_error(j, 500, "out of memory");
			goto out;
		}
		memcpy(j->out, PQgetvalue(res, 0, 0), (size_t)len);
	}
	j->out_len = (size_t)len;
	j->status = 200;
out:
	PQclear(res);
	tiles_end(c);
}

static void submit_tile(struct sw_server *s, struct http_req *r, const char *name, int z,
			unsigned x, unsigned y, int hint, const char *inm);

/* Service thread: records the version, caches the tile, answers. */
static void done_tile(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct http_req *r;
	int z = (int)j->iarg[0], version = (int)j->iarg[3];
	unsigned x = (unsigned)j->iarg[1], y = (unsigned)j->iarg[2];
	struct tile_entry *e;
	unsigned char *data;

	if (j->status == 200 || j->status == TILE_UNCHANGED || j->status == 404)
		layer_note(s->tiles, j->arg, j->status == 404 ? 0 : version);
	if (j->status == 200)
		cache_put(s->tiles, j->arg, z, x, y, version, (unsigned char *)j->out, j->out_len);
	if (!(r = http_job_claim(s, j)))
		return; /* the client went away; the tile is cached all the same */
	switch (j->status) {
	case 200:
		tile_respond(r, version, z, x, y, j->arg2, (unsigned char *)j->out, j->out_len);
		j->out = NULL;
		return;
	case TILE_UNCHANGED:
		e = cache_find(s->tiles, j->arg, z, x, y);
		if (!e || e->version != version) {
			/* evicted meanwhile: encode it after all */
			submit_tile(s, r, j->arg, z, x, y, -1, j->arg2);
			return;
		}
		lru_unlink(s->tiles, e);
		lru_push_front(s->tiles, e);
		if (entry_copy(e, &data)) {
			http_error(r, 500, "out of memory");
			return;
		}
		tile_respond(r, version, z, x, y, j->arg2, data, e->len);
		return;
	default:
		j->iarg[3] = 0; /* not GeoJSON: an error answer */
		http_job_answer(r, j);
	}
}

static void submit_tile(struct sw_server *s, struct http_req *r, const char *name, int z,
			unsigned x, unsigned y, int hint, const char *inm)
{
	struct db_job *j = db_job_new(run_tile, done_tile, 0);

	if (j) {
		j->arg = strdup(name);
		j->arg2 = inm ? strdup(inm) : NULL;
		j->iarg[0] = z;
		j->iarg[1] = x;
		j->iarg[2] = y;
		j->iarg[3] = hint;
		if (!j->arg || (inm && !j->arg2)) {
			db_job_free(j);
			j = NULL;
		}
	}
	http_submit_job(s, r, j);
}

/* GET /tiles/{name}/{z}/{x}/{y}.mvt. z beyond 0..22, x or y beyond the
 * zoom's 2^z tiles or not decimal: 400; a suffix other than ".mvt": 404. */
static void api_tile(struct sw_server *s, struct http_req *r)
{
	const char *name = r->params[0], *ys = r->params[3];
	size_t yl = strlen(ys);
	char inm_buf[512];
	const char *inm = NULL;
	struct layer_rec *l;
	struct tile_entry *e;
	unsigned z, x, y, max;
	unsigned char *data;

	if (yl < 4 || strcmp(ys + yl - 4, ".mvt")) {
		http_error(r, 404, "tiles are served as {z}/{x}/{y}.mvt");
		return;
	}
	if (parse_coord(r->params[1], strlen(r->params[1]), TILES_MAX_Z, &z)) {
		http_error(r, 400, "z must be an integer from 0 to 22");
		return;
	}
	max = (1u << z) - 1;
	if (parse_coord(r->params[2], strlen(r->params[2]), max, &x) ||
	    parse_coord(ys, yl - 4, max, &y)) {
		http_error(r, 400, "x and y must be integers from 0 to 2^z - 1");
		return;
	}
	if (http_request_header(r, WSI_TOKEN_HTTP_IF_NONE_MATCH, inm_buf, sizeof(inm_buf)) > 0)
		inm = inm_buf;

	e = cache_find(s->tiles, name, (int)z, x, y);
	l = layer_find(s->tiles, name);
	if (l && sw_now_ms() - l->checked_ms < TILES_REVALIDATE_MS) {
		char etag[96];

		/* the version is fresh enough: no database at all */
		tile_etag(etag, sizeof(etag), l->version, (int)z, x, y);
		if (inm && etag_matches(inm, etag)) {
			tile_respond(r, l->version, (int)z, x, y, inm, NULL, 0);
			return;
		}
		if (e && e->version == l->version) {
			lru_unlink(s->tiles, e);
			lru_push_front(s->tiles, e);
			if (entry_copy(e, &data)) {
				http_error(r, 500, "out of memory");
				return;
			}
			tile_respond(r, l->version, (int)z, x, y, inm, data, e->len);
			return;
		}
		submit_tile(s, r, name, (int)z, x, y, -1, inm);
		return;
	}
	/* revalidate: the query encodes the tile only if the version moved on */
	submit_tile(s, r, name, (int)z, x, y, e ? e->version : -1, inm);
}

/* -------------------------------------------------------------- TileJSON */

/* $1 name, $2 its current version (tile_version_sql: a bound parameter, so only that version's
 * partition is read). The TileJSON minus "tiles" (which depends on how the client reached us).
 * fields: a key is "Number" or "Boolean" when every non-null value of it is one, else "String". */
static const char tilejson_sql[] =
	"WITH l AS (SELECT name, coalesce(title, name) AS title, kind FROM layers WHERE name = $1),"
	" e AS (SELECT ST_Extent(f.geom)::geometry AS b FROM features f WHERE f.layer_version_id = $2::int),"
	" k AS (SELECT p.key, CASE WHEN bool_and(jsonb_typeof(p.value) = 'number') THEN 'Number'"
	"    WHEN bool_and(jsonb_typeof(p.value) = 'boolean') THEN 'Boolean' ELSE 'String' END AS t"
	"  FROM features f, jsonb_each(CASE WHEN f.code IS NULL THEN f.props"
	"    ELSE jsonb_build_object('code', f.code) || f.props END) p"
	"  WHERE f.layer_version_id = $2::int AND jsonb_typeof(p.value) <> 'null' GROUP BY p.key),"
	" bb AS (SELECT CASE WHEN e.b IS NULL THEN NULL ELSE ARRAY["
	"    greatest(ST_XMin(e.b), -180), greatest(ST_YMin(e.b), -85.0511287798),"
	"    least(ST_XMax(e.b), 180), least(ST_YMax(e.b), 85.0511287798)] END AS a FROM e)"
	" SELECT json_build_object('tilejson', '3.0.0', 'name', l.name, 'description', l.title,"
	"  'scheme', 'xyz', 'minzoom', 0, 'maxzoom', 22,"
	"  'bounds', coalesce(to_json(bb.a), '[-180,-85.0511287798,180,85.0511287798]'::json),"
	"  'center', CASE WHEN bb.a IS NULL THEN '[0,0,0]'::json ELSE json_build_array("
	"    (bb.a[1] + bb.a[3]) / 2, (bb.a[2] + bb.a[4]) / 2,"
	"    least(22, greatest(0, floor(ln(360 / greatest(bb.a[3] - bb.a[1], bb.a[4] - bb.a[2], 1e-6))"
	"     / ln(2))))) END,"
	"  'vector_layers', json_build_array(json_build_object('id', l.name, 'description', l.kind,"
	"    'minzoom', 0, 'maxzoom', 22,"
	"    'fields', coalesce((SELECT json_object_agg(k.key, k.t ORDER BY k.key) FROM k), '{}'::json))))"
	" FROM l, bb";

/* Worker thread. In: arg name. Out: the TileJSON text (200, iarg[3] the
 * version), or 404/500. */
static void run_tilejson(PGconn *c, struct db_job *j)
{
	char ver[24];
	const char *params[2] = { j->arg, ver };
	PGresult *res;

	if (tiles_begin(c)) {
		db_job_error(j, 500, "database error");
		return;
	}
	res = PQexecParams(c, tile_version_sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("db: tilejson %s: %s", j->arg, PQresultErrorMessage(res));
		db_job_error(j, 500, "database error");
		goto out;
	}
	if (PQntuples(res) < 1) {
		db_job_error(j, 404, "no such layer");
		goto out;
	}
	j->iarg[3] = atoll(PQgetvalue(res, 0, 0));
	snprintf(ver, sizeof(ver), "%lld", j->iarg[3]);
	PQclear(res);
	res = PQexecParams(c, tilejson_sql, 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("db: tilejson %s: %s", j->arg, PQresultErrorMessage(res));
		db_job_error(j, 500, "database error");
	} else if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0)) {
		db_job_error(j, 404, "no such layer");
	} else {
		j->out = strdup(PQgetvalue(res, 0, 0));
		j->out_len = j->out ? strlen(j->out) : 0;
		j->status = j->out ? 200 : 500;
	}
out:
	PQclear(res);
	tiles_end(c);
}

/* Appends s percent-encoded (RFC 3986 unreserved characters kept) to
 * buf[*n..len). -1 if it does not fit. */
static int url_escape(char *buf, size_t len, size_t *n, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (*n + 4 > len)
			return -1;
		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			buf[(*n)++] = (char)ch;
		} else {
			buf[(*n)++] = '%';
			buf[(*n)++] = hex[ch >> 4];
			buf[(*n)++] = hex[ch & 15];
		}
	}
	buf[*n] = '\0';
	return 0;
}

/* Service thread: adds "tiles" (arg2 holds "scheme://host") and answers. */
static void done_tilejson(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct http_req *r;
	char url[1024];
	size_t n;
	json_t *o;

	if (j->status == 200 || j->status == 404)
		layer_note(s->tiles, j->arg, j->status == 404 ? 0 : (int)j->iarg[3]);
	if (!(r = http_job_claim(s, j)))
		return;
	if (j->status != 200) {
		j->iarg[3] = 0; /* not GeoJSON: an error answer */
		http_job_answer(r, j);
		return;
	}
	o = json_loadb(j->out, j->out_len, 0, NULL);
	n = (size_t)snprintf(url, sizeof(url), "%s/tiles/", j->arg2);
	if (!o || n >= sizeof(url) || url_escape(url, sizeof(url), &n, j->arg) ||
	    n + sizeof("/{z}/{x}/{y}.mvt") > sizeof(url)) {
		json_decref(o);
		http_error(r, 500, "cannot build the TileJSON");
		return;
	}
	strcat(url, "/{z}/{x}/{y}.mvt");
	json_object_set_new(o, "tiles", json_pack("[s]", url));
	http_json(r, 200, o);
}

/* 1 if the Host header value is a plain host[:port] (no scheme, path or
 * odd characters) that can go into a URL as it is. */
static int host_ok(const char *h)
{
	if (!*h)
		return 0;
	for (; *h; h++)
		if (!isalnum((unsigned char)*h) && !strchr(".-_:[]", *h))
			return 0;
	return 1;
}

/* GET /tiles/{name}.json: TileJSON 3.0.0. The tile URL template is built
 * from the request (Host header; https when the connection is TLS or a
 * proxy says X-Forwarded-Proto: https). */
static void api_tilejson(struct sw_server *s, struct http_req *r)
{
	const char *p = r->params[0];
	size_t pl = strlen(p);
	char host[256], proto[16], base[300];
	const char *scheme = "http";
	struct db_job *j;

	if (pl < 6 || strcmp(p + pl - 5, ".json")) {
		http_error(r, 404, "no such resource");
		return;
	}
	if (http_request_header(r, WSI_TOKEN_HOST, host, sizeof(host)) <= 0 || !host_ok(host))
		snprintf(host, sizeof(host), "localhost");
	if (lws_is_ssl(r->wsi) ||
	    (lws_hdr_custom_copy(r->wsi, proto, sizeof(proto), "x-forwarded-proto:", 18) > 0 &&
	     !strcasecmp(proto, "https")))
		scheme = "https";
	snprintf(base, sizeof(base), "%s://%s", scheme, host);
	j = db_job_new(run_tilejson, done_tilejson, 0);
	if (j) {
		j->arg = strndup(p, pl - 5);
		j->arg2 = strdup(base);
		if (!j->arg || !j->arg2) {
			db_job_free(j);
			j = NULL;
		}
	}
	http_submit_job(s, r, j);
}

struct tile_cache *tiles_new(void)
{
	return calloc(1, sizeof(struct tile_cache));
}

void tiles_free(struct sw_server *s)
{
	struct tile_cache *tc = s->tiles;

	if (!tc)
		return;
	while (tc->head)
		cache_drop(tc, tc->head);
	free(tc->buckets);
	free(tc);
	s->tiles = NULL;
}

const struct http_route tiles_routes[] = {
	{ HM_GET, "/tiles/{}/{}/{}/{}", ROLE_VIEWER, api_tile },
	{ HM_GET, "/tiles/{}", ROLE_VIEWER, api_tilejson },
	{ 0, NULL, ROLE_NONE, NULL },
};
