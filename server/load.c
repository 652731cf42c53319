/* load.c -- `shorewatch load`: read a GIS file (gis/layer_read) into a new layer version in PostGIS. */
#include "load.h"
#include "ledger.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "layer_read.h"

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

/* Everything one load needs; lives on load_file's stack. Features stream into one COPY into the
 * staged table `stage` (the version's partition-to-be): buf collects COPY text rows and is flushed
 * every LOAD_COPY_CHUNK bytes; index_of maps the n-th row sent to its feature's index in the file
 * (rows skipped are not sent), for messages. r is the report being filled (never NULL). */
struct load_ctx {
	PGconn *conn;
	const struct load_opts *o;
	const char *name;
	struct layer_read_info info; /* filled by layer_read_file before the first feature */
	struct load_result *r;
	int version_id;
	char stage[96];
	long features;
	long repaired;
	long skipped;
	char *buf;
	size_t len, cap;
	long *index_of;
	size_t index_cap;
	time_t progress_at;
};

#define LOAD_COPY_CHUNK (64 << 10)
#define LOAD_PROGRESS_MIN 10000
#define LOAD_REPAIRED_LISTED 20 /* in the one-line summary (r->repaired) */

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

/* Appends a feature to a report list (the first LOAD_LISTED only). */
static void item_add(struct load_item *items, int *n, long row, long long fid, long long id,
		     const char *reason)
{
	struct load_item *it;

	if (*n >= LOAD_LISTED)
		return;
	it = &items[(*n)++];
	it->row = row;
	it->fid = fid;
	it->id = id;
	snprintf(it->reason, sizeof(it->reason), "%s", reason ? reason : "");
	one_line(it->reason);
}

static void warning_add(struct load_result *r, const char *w)
{
	if (!w || !w[0] || r->warning_count >= LOAD_WARNINGS)
		return;
	snprintf(r->warnings[r->warning_count], sizeof(r->warnings[0]), "%s", w);
	one_line(r->warnings[r->warning_count++]);
}

static int buf_reserve(struct load_ctx *c, size_t more)
{
	size_t cap = c->cap ? c->cap : 2 * LOAD_COPY_CHUNK;
	char *b;

	if (c->len + more <= c->cap)
		return 0;
	while (cap < c->len + more)
		cap *= 2;
	b = realloc(c->buf, cap);
	if (!b)
		return -1;
	c->buf = b;
	c->cap = cap;
	return 0;
}

/* Appends s as one COPY text field: backslash, tab, newline and CR escaped. */
static int buf_field(struct load_ctx *c, const char *s)
{
	size_t n = strlen(s);

	if (buf_reserve(c, 2 * n + 1))
		return -1;
	for (; *s; s++) {
		char e = *s == '\\' ? '\\' : *s == '\t' ? 't' : *s == '\n' ? 'n' : *s == '\r' ? 'r' : 0;

		if (e) {
			c->buf[c->len++] = '\\';
			c->buf[c->len++] = e;
		} else {
			c->buf[c->len++] = *s;
		}
	}
	return 0;
}

static int buf_text(struct load_ctx *c, const char *s)
{
	size_t n = strlen(s);

	if (buf_reserve(c, n))
		return -1;
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	return 0;
}

/* The geometry as PostGIS text input: "SRID=4326;" and the WKB in hex. */
static int buf_wkb(struct load_ctx *c, const unsigned char *wkb, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	if (buf_text(c, "SRID=4326;") || buf_reserve(c, 2 * n))
		return -1;
	for (i = 0; i < n; i++) {
		c->buf[c->len++] = hex[wkb[i] >> 4];
		c->buf[c->len++] = hex[wkb[i] & 15];
	}
	return 0;
}

static int copy_flush(struct load_ctx *c, char *why, size_t whylen)
{
	if (c->len && PQputCopyData(c->conn, c->buf, (int)c->len) != 1) {
		db_message(c->conn, NULL, why, whylen);
		return -1;
	}
	c->len = 0;
	return 0;
}

/* "40,000" */
static void thousands(long v, char *out, size_t len)
{
	char digits[32];
	size_t n, i, o = 0;

	snprintf(digits, sizeof(digits), "%ld", v);
	n = strlen(digits);
	for (i = 0; i < n && o + 2 < len; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
}

/* At most once a second, for loads of more than LOAD_PROGRESS_MIN features. */
static void load_progress(struct load_ctx *c, long done)
{
	long total = c->info.feature_count;
	char a[32], b[32];
	time_t now;

	if (!c->o->progress || total <= LOAD_PROGRESS_MIN)
		return;
	now = time(NULL);
	if (!c->progress_at) {
		c->progress_at = now;
		return;
	}
	if (now == c->progress_at)
		return;
	c->progress_at = now;
	thousands(done, a, sizeof(a));
	thousands(total, b, sizeof(b));
	fprintf(stderr, "loading %s: %s of %s features (%ld%%)\n", c->name, a, b,
		(long)(100.0 * done / total));
}

/* layer_read callback: one COPY row per feature (layer_version_id, fid, code, props, geom). */
static int load_feature(const struct layer_read_feature *f, void *arg, char *err, size_t errlen)
{
	struct load_ctx *c = arg;
	char num[24], why[300];
	char *props;
	int bad;

	load_progress(c, f->index);
	if (!f->wkb) {
		if (c->o->skip_invalid) {
			c->skipped++;
			item_add(c->r->skipped_items, &c->r->skipped_listed, f->index + 1,
				 (long long)f->fid, 0, "empty geometry");
			return 0;
		}
		snprintf(err, errlen, "empty geometry (every feature needs one; --skip-invalid "
				      "skips such features)");
		return 1;
	}
	if ((size_t)c->features >= c->index_cap) {
		size_t cap = c->index_cap ? 2 * c->index_cap : 4096;
		long *p = realloc(c->index_of, cap * sizeof(*p));

		if (!p) {
			snprintf(err, errlen, "out of memory");
			return 1;
		}
		c->index_of = p;
		c->index_cap = cap;
	}
	props = json_dumps(f->props, JSON_COMPACT);
	if (!props) {
		snprintf(err, errlen, "cannot encode the attributes as JSON");
		return 1;
	}
	snprintf(num, sizeof(num), "%d\t", c->version_id);
	bad = buf_text(c, num);
	if (f->fid >= 0)
		snprintf(num, sizeof(num), "%lld\t", (long long)f->fid);
	else
		snprintf(num, sizeof(num), "\\N\t");
	bad = bad || buf_text(c, num);
	bad = bad || (f->code ? buf_field(c, f->code) : buf_text(c, "\\N"));
	bad = bad || buf_text(c, "\t") || buf_field(c, props) || buf_text(c, "\t");
	bad = bad || buf_wkb(c, f->wkb, f->wkb_len) || buf_text(c, "\n");
	free(props);
	if (bad) {
		snprintf(err, errlen, "out of memory");
		return 1;
	}
	c->index_of[c->features++] = f->index;
	if (c->len >= LOAD_COPY_CHUNK && copy_flush(c, why, sizeof(why))) {
		snprintf(err, errlen, "cannot store: %s", why);
		return 1;
	}
	return 0;
}

/* "feature #N (fid F)" of the row-th row sent (0-based), as messages name features. */
static void row_name(const struct load_ctx *c, long row, const char *fid, char *out, size_t len)
{
	long index = row >= 0 && row < c->features ? c->index_of[row] : -1;

	if (index < 0)
		snprintf(out, len, "feature (fid %s)", fid && fid[0] ? fid : "?");
	else if (fid && fid[0])
		snprintf(out, len, "feature #%ld (fid %s)", index + 1, fid);
	else
		snprintf(out, len, "feature #%ld", index + 1);
}

/* Ends the COPY (aborting it with reason if not NULL); 0 if the server took every row. A failed
 * row is named from the error's "COPY features_vN, line N" context. */
static int copy_end(struct load_ctx *c, const char *reason, char *why, size_t whylen)
{
	PGresult *res;
	int rc = 0;

	if (!reason && copy_flush(c, why, whylen))
		reason = why;
	if (PQputCopyEnd(c->conn, reason) != 1) {
		db_message(c->conn, NULL, why, whylen);
		return -1;
	}
	while ((res = PQgetResult(c->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK && rc == 0) {
			const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
			const char *line = ctx ? strstr(ctx, "line ") : NULL;
			char msg[300], who[80] = "";

			db_message(c->conn, res, msg, sizeof(msg));
			if (line && !reason)
				row_name(c, atol(line + 5) - 1, NULL, who, sizeof(who));
			snprintf(why, whylen, "%s%s%s", who, who[0] ? ": " : "", msg);
			rc = -1;
		}
		PQclear(res);
	}
	return reason ? -1 : rc;
}

static int cmp_id(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static int cmp_item_row(const void *a, const void *b)
{
	long x = ((const struct load_item *)a)->row, y = ((const struct load_item *)b)->row;

	return x < y ? -1 : x > y;
}

/* Rank (0-based position in COPY order, i.e. in id order) of each of ids[0..n) (ascending) in
 * the staged table, into ranks[]; -1 for an id not found. One scan and sort, only when something
 * is to be named. */
static int stage_ranks(struct load_ctx *c, const long long *ids, int n, long *ranks, char *why,
		       size_t whylen)
{
	char sql[300], *arr;
	const char *p[1];
	PGresult *res;
	size_t len = 2, cap = (size_t)n * 24 + 3;
	int i, k;

	for (i = 0; i < n; i++)
		ranks[i] = -1;
	if (n == 0)
		return 0;
	arr = malloc(cap);
	if (!arr) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	arr[0] = '{';
	arr[1] = '\0';
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(arr + len - 1, cap - len + 1, "%s%lld", i ? "," : "", ids[i]);
	snprintf(arr + len - 1, cap - len + 1, "}");
	snprintf(sql, sizeof(sql),
		 "SELECT s.id, s.rn FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS rn"
		 " FROM %s) s WHERE s.id = ANY($1::bigint[])", c->stage);
	p[0] = arr;
	res = db_exec(c->conn, sql, 1, p, PGRES_TUPLES_OK, why, whylen);
	free(arr);
	if (!res)
		return -1;
	for (k = 0; k < PQntuples(res); k++) {
		long long id = atoll(PQgetvalue(res, k, 0));
		const long long *at = bsearch(&id, ids, (size_t)n, sizeof(*ids), cmp_id);

		if (at)
			ranks[at - ids] = atol(PQgetvalue(res, k, 1));
	}
	PQclear(res);
	return 0;
}

/* Repairs the invalid geometries of the staged version (sw_valid false: polygons with the
 * 'structure' method so they stay polygons), names them with PostGIS's reason in the report,
 * and refuses (or, with skip_invalid, deletes and lists) those that are empty once repaired.
 * Returns 0 or a load_status with err set. */
static int load_repair(struct load_ctx *c, char *err, size_t errlen)
{
	struct load_result *r = c->r;
	char sql[1200], why[300], who[80], *empties = NULL;
	const char *p[1];
	PGresult *res;
	long i, n, nempty = 0, *ranks = NULL;
	long long *ids = NULL;
	int named = 0, rc = 0, k = 0;
	size_t elen = 0;

	snprintf(sql, sizeof(sql),
		 "WITH bad AS (SELECT id, ST_IsValidReason(geom) AS reason FROM %s WHERE NOT sw_valid),"
		 " u AS (UPDATE %s t SET geom = COALESCE(CASE"
		 "   WHEN GeometryType(t.geom) IN ('POLYGON', 'MULTIPOLYGON')"
		 "   THEN ST_MakeValid(t.geom, 'method=structure') ELSE ST_MakeValid(t.geom) END,"
		 "   ST_SetSRID('GEOMETRYCOLLECTION EMPTY'::geometry, 4326))"
		 "  FROM bad WHERE t.id = bad.id"
		 "  RETURNING t.id, t.fid, ST_IsEmpty(t.geom) AS empty, bad.reason)"
		 " SELECT id, fid, empty, reason FROM u ORDER BY id", c->stage, c->stage);
	res = db_exec(c->conn, sql, 0, NULL, PGRES_TUPLES_OK, why, sizeof(why));
	if (!res)
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: cannot repair geometries: %s",
				 c->o->path, why);
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return 0;
	}

	/* The features to name: the first LOAD_LISTED repaired ones and every empty one (the
	 * first fails the load, or each is skipped and listed), ranked in one query. */
	ids = calloc((size_t)n, sizeof(*ids));
	ranks = calloc((size_t)n, sizeof(*ranks));
	empties = malloc((size_t)n * 24 + 3);
	if (!ids || !ranks || !empties) {
		rc = load_fail(err, errlen, LOAD_ERR_DB, "%s: out of memory", c->o->path);
		goto out;
	}
	for (i = 0; i < n; i++) {
		int empty = PQgetvalue(res, i, 2)[0] == 't';

		if (empty || i < LOAD_LISTED)
			ids[named++] = atoll(PQgetvalue(res, i, 0));
	}
	if (stage_ranks(c, ids, named, ranks, why, sizeof(why))) {
		rc = load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", c->o->path, why);
		goto out;
	}

	empties[0] = '{';
	elen = 1;
	r->repaired[0] = '\0';
	for (i = 0; i < n; i++) {
		long long id = atoll(PQgetvalue(res, i, 0));
		const char *fid = PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1);
		const char *reason = PQgetvalue(res, i, 3);
		int empty = PQgetvalue(res, i, 2)[0] == 't';
		long rank = -1, row;

		/* ids[] holds a subsequence of these rows, in the same (id) order */
		while (k < named && ids[k] < id)
			k++;
		if (k < named && ids[k] == id)
			rank = ranks[k];
		row = rank >= 0 && rank < c->features ? c->index_of[rank] + 1 : -1;
		row_name(c, rank, fid, who, sizeof(who));
		if (empty) {
			char because[300];

			if (!c->o->skip_invalid) {
				rc = load_fail(err, errlen, LOAD_ERR_FILE,
					       "%s: %s: invalid geometry (%s) that is empty once repaired "
					       "(--skip-invalid skips such features)",
					       c->o->path, who, reason);
				goto out;
			}
			snprintf(because, sizeof(because), "invalid geometry (%s), empty once repaired",
				 reason);
			item_add(r->skipped_items, &r->skipped_listed, row, fid ? atoll(fid) : -1, 0,
				 because);
			elen += (size_t)snprintf(empties + elen, 24, "%s%lld", nempty ? "," : "", id);
			nempty++;
			continue;
		}
		c->repaired++;
		item_add(r->repaired_items, &r->repaired_listed, row, fid ? atoll(fid) : -1, id,
			 reason);
		if (c->repaired <= LOAD_REPAIRED_LISTED) {
			size_t used = strlen(r->repaired);

			snprintf(r->repaired + used, sizeof(r->repaired) - used, "%s%s",
				 c->repaired > 1 ? ", " : "", who + strlen("feature "));
		}
	}
	if (c->repaired > LOAD_REPAIRED_LISTED) {
		size_t used = strlen(r->repaired);

		snprintf(r->repaired + used, sizeof(r->repaired) - used, ", ...");
	}
	if (nempty) {
		snprintf(empties + elen, 3, "}");
		p[0] = empties;
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = ANY($1::bigint[])", c->stage);
		if (db_command(c->conn, sql, 1, p, why, sizeof(why))) {
			rc = load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", c->o->path, why);
			goto out;
		}
		c->skipped += nempty;
		c->features -= nempty;
		/* the ones skipped while reading came first: list them all in file order */
		qsort(r->skipped_items, (size_t)r->skipped_listed, sizeof(r->skipped_items[0]),
		      cmp_item_row);
	}
out:
	PQclear(res);
	free(ids);
	free(ranks);
	free(empties);
	return rc;
}

static const char *path_base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
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
static int load_body(struct load_ctx *c, const char *name, char *err, size_t errlen)
{
	const struct load_opts *o = c->o;
	struct load_result *r = c->r;
	struct layer_read_opts ro = {0};
	struct layer_read_result rr;
	char why[400], num[3][24], stored_code_field[256], sql[256], *payload, *quoted;
	const char *code_field = o->code_field && o->code_field[0] ? o->code_field : NULL;
	const char *p[5];
	PGresult *res;
	json_t *note;
	int layer_id, version, rc;

	/* ST_IsValid reports every defect as a NOTICE; the count is what we want, not the noise.
	 * JIT off: PostGIS functions are costed so high that the repair statement (a scan of the
	 * rows just copied) gets compiled, which takes longer than running it. */
	res = db_exec(c->conn,
		      "SELECT set_config('client_min_messages', 'warning', true),"
		      " set_config('jit', 'off', true)",
		      0, NULL, PGRES_TUPLES_OK, why, sizeof(why));
	if (!res)
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);
	PQclear(res);

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
		rc = load_fail(err, errlen, LOAD_ERR_KIND,
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

	/* The version's rows go into a fresh table without indexes (schema/005): nothing else's
	 * indexes are touched, and ST_IsValid is worked out as the rows arrive. */
	snprintf(num[0], sizeof(num[0]), "%d", c->version_id);
	p[0] = num[0];
	res = db_exec(c->conn, "SELECT sw_features_stage($1::integer)", 1, p, PGRES_TUPLES_OK, why,
		      sizeof(why));
	if (!res)
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);
	quoted = PQescapeIdentifier(c->conn, PQgetvalue(res, 0, 0), strlen(PQgetvalue(res, 0, 0)));
	PQclear(res);
	if (!quoted || strlen(quoted) >= sizeof(c->stage)) {
		PQfreemem(quoted);
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: cannot name the staged table", o->path);
	}
	snprintf(c->stage, sizeof(c->stage), "%s", quoted);
	PQfreemem(quoted);

	ro.path = o->path;
	ro.layer_name = o->src_layer;
	ro.s_srs = o->s_srs;
	ro.encoding = o->encoding;
	ro.code_field = code_field;
	c->name = name;
	/* FREEZE: the table was made in this transaction, so its rows can be written frozen (no
	 * hint-bit rewrites or freezing by autovacuum later); nobody sees them before the commit. */
	snprintf(sql, sizeof(sql),
		 "COPY %s (layer_version_id, fid, code, props, geom) FROM STDIN WITH (FREEZE)",
		 c->stage);
	res = db_exec(c->conn, sql, 0, NULL, PGRES_COPY_IN, why, sizeof(why));
	if (!res)
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);
	PQclear(res);
	layer_read_file(&ro, load_feature, c, &c->info, &rr);
	if (rr.code != LAYER_READ_OK) {
		copy_end(c, "the file could not be read", why, sizeof(why));
		return load_fail(err, errlen, LOAD_ERR_FILE, "%s: %s", o->path, rr.message);
	}
	if (copy_end(c, NULL, why, sizeof(why)))
		return load_fail(err, errlen, LOAD_ERR_FILE, "%s: cannot store: %s", o->path, why);
	load_progress(c, c->info.feature_count);
	rc = load_repair(c, err, errlen);
	if (rc)
		return rc;
	if (c->features == 0)
		return load_fail(err, errlen, LOAD_ERR_EMPTY, "%s: layer \"%s\" has no features",
				 o->path, c->info.layer_name);
	/* Indexes built in bulk, then the table becomes the version's partition of features. */
	res = db_exec(c->conn, "SELECT sw_features_attach($1::integer)", 1, p, PGRES_TUPLES_OK, why,
		      sizeof(why));
	if (!res)
		return load_fail(err, errlen, LOAD_ERR_DB, "%s: cannot attach the version: %s",
				 o->path, why);
	PQclear(res);

	snprintf(num[1], sizeof(num[1]), "%ld", c->features);
	snprintf(num[2], sizeof(num[2]), "%ld", c->repaired);
	p[0] = num[0];
	p[1] = num[1];
	p[2] = num[2];
	p[3] = c->info.source_srs;
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

	warning_add(r, c->info.warning);
	/* the shoreline ledger's typed fields (project name, approval, owner,
	 * dates, shoreline length), in the same transaction */
	if (!strcmp(o->kind, "shoreline_project")) {
		if (ledger_fill_file(c->conn, c->version_id, o->ledger_map, why, sizeof(why)) < 0)
			return load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);
		warning_add(r, why);
	}

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

	r->layer_id = layer_id;
	r->version_id = c->version_id;
	r->version = version;
	r->feature_count = c->features;
	r->repaired_count = c->repaired;
	r->skipped_count = c->skipped;
	r->closed_count = c->info.closed_count;
	r->srs_given = o->s_srs && o->s_srs[0];
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->source_srs, sizeof(r->source_srs), "%s", c->info.source_srs);
	snprintf(r->driver, sizeof(r->driver), "%s", c->info.driver);
	snprintf(r->source_layer, sizeof(r->source_layer), "%s", c->info.layer_name);
	return 0;
}

int load_file(PGconn *conn, const struct load_opts *o, struct load_result *r, char *err,
	      size_t errlen)
{
	struct load_ctx c = {0};
	struct load_result *own = NULL;
	char name[256], why[400];
	PGresult *res;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!r && !(r = own = malloc(sizeof(*r))))
		return load_fail(err, errlen, LOAD_ERR_DB, "out of memory");
	memset(r, 0, sizeof(*r));
	rc = load_check(o, name, sizeof(name), err, errlen);
	if (rc)
		goto out;
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		rc = load_fail(err, errlen, LOAD_ERR_DB, "%s: no database connection", o->path);
		goto out;
	}
	if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
		rc = load_fail(err, errlen, LOAD_ERR_DB,
			       "%s: the connection is busy or inside a transaction", o->path);
		goto out;
	}
	if (db_command(conn, "BEGIN", 0, NULL, why, sizeof(why))) {
		rc = load_fail(err, errlen, LOAD_ERR_DB, "%s: %s", o->path, why);
		goto out;
	}

	c.conn = conn;
	c.o = o;
	c.r = r;
	rc = load_body(&c, name, err, errlen);
	free(c.buf);
	free(c.index_of);
	if (rc == 0) {
		res = PQexecParams(conn, "COMMIT", 0, NULL, NULL, NULL, NULL, 0);
		/* A COMMIT of a failed transaction answers COMMAND_OK with tag ROLLBACK. */
		if (!res || PQresultStatus(res) != PGRES_COMMAND_OK ||
		    strcmp(PQcmdStatus(res), "COMMIT") != 0) {
			db_message(conn, res, why, sizeof(why));
			rc = load_fail(err, errlen, LOAD_ERR_DB, "%s: commit failed: %s", o->path, why);
		}
		PQclear(res);
	} else if (PQstatus(conn) == CONNECTION_OK) {
		PQclear(PQexecParams(conn, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0));
	}
out:
	if (rc)
		memset(r, 0, sizeof(*r));
	free(own);
	return rc;
}

/* " (fid F)", or "" when the feature has no source fid. */
static const char *fid_text(long long fid, char *buf, size_t len)
{
	if (fid < 0)
		return "";
	snprintf(buf, len, " (fid %lld)", fid);
	return buf;
}

static void load_usage(FILE *out)
{
	fprintf(out,
		"usage: shorewatch load --kind KIND [--name NAME] [--code-field FIELD] [--s-srs SRS]\n"
		"                       [--encoding ENC] [--layer SRC_LAYER] [--loaded-by WHO]\n"
		"                       [--skip-invalid] FILE\n"
		"  FILE: Shapefile (also zipped), GeoPackage, GeoJSON, KML/KMZ, DXF (needs --s-srs),\n"
		"        CSV with a WKT or lon/lat columns\n"
		"  KIND: shoreline_project, mining_zone, parking, no_mining, protection,\n"
		"        function_zone, river\n");
}

int load_main(const char *conninfo, const char *ledger_map, int argc, char **argv)
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
	char err[700], fid[32];
	PGconn *conn;
	int i, rc;

	o.ledger_map = ledger_map && ledger_map[0] ? ledger_map : NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t k, n = sizeof(flags) / sizeof(flags[0]);

		if (strcmp(a, "--skip-invalid") == 0) {
			o.skip_invalid = 1;
			continue;
		}
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
	o.progress = 1;
	rc = load_file(conn, &o, &r, err, sizeof(err));
	PQfinish(conn);
	if (rc != 0) {
		fprintf(stderr, "shorewatch load: %s\n", err);
		return rc == LOAD_ERR_ARG ? 2 : 1;
	}
	for (i = 0; i < r.warning_count; i++)
		fprintf(stderr, "shorewatch load: warning: %s\n", r.warnings[i]);
	if (r.repaired_count) {
		fprintf(stderr, "shorewatch load: warning: %s: %ld invalid geometr%s repaired: %s\n",
			o.path, r.repaired_count, r.repaired_count == 1 ? "y" : "ies", r.repaired);
		for (i = 0; i < r.repaired_listed; i++)
			fprintf(stderr, "shorewatch load:   #%ld%s (feature id %lld): %s\n",
				r.repaired_items[i].row, fid_text(r.repaired_items[i].fid, fid,
								  sizeof(fid)),
				r.repaired_items[i].id, r.repaired_items[i].reason);
		if (r.repaired_count > r.repaired_listed)
			fprintf(stderr, "shorewatch load:   ... and %ld more\n",
				r.repaired_count - r.repaired_listed);
	}
	if (r.skipped_count) {
		fprintf(stderr, "shorewatch load: warning: %s: %ld feature%s skipped:\n", o.path,
			r.skipped_count, r.skipped_count == 1 ? "" : "s");
		for (i = 0; i < r.skipped_listed; i++)
			fprintf(stderr, "shorewatch load:   #%ld%s: %s\n", r.skipped_items[i].row,
				fid_text(r.skipped_items[i].fid, fid, sizeof(fid)),
				r.skipped_items[i].reason);
		if (r.skipped_count > r.skipped_listed)
			fprintf(stderr, "shorewatch load:   ... and %ld more\n",
				r.skipped_count - r.skipped_listed);
	}
	if (r.closed_count)
		fprintf(stderr, "shorewatch load: %s: %ld closed polyline%s stored as polygon%s\n",
			o.path, r.closed_count, r.closed_count == 1 ? "" : "s",
			r.closed_count == 1 ? "" : "s");
	printf("layer %s version %d: %ld feature%s (%ld repaired", r.name, r.version,
	       r.feature_count, r.feature_count == 1 ? "" : "s", r.repaired_count);
	if (r.skipped_count)
		printf(", %ld skipped", r.skipped_count);
	printf(")\n");
	return 0;
}
