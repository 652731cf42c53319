/* api.c -- the JSON API routes: health, login, config, vessels, the layer list. */
#include <ctype.h>
#include <stdint.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "http.h"
#include "log.h"

/* Copies a PostgreSQL error's SQLSTATE-based answer into the job. */
void api_pg_error(struct db_job *j, PGresult *res, const char *what)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *constraint = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	char msg[256];

	if (state && !strcmp(state, "23505")) {
		snprintf(msg, sizeof(msg), "%s: already exists (%s)", what,
			 constraint ? constraint : "unique");
		db_job_error(j, 409, msg);
	} else if (state && !strncmp(state, "22", 2)) {
		/* data exceptions name the bad input, never the query */
		snprintf(msg, sizeof(msg), "%s: %s", what,
			 PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
		db_job_error(j, 400, msg);
	} else if (state && !strncmp(state, "23", 2)) {
		snprintf(msg, sizeof(msg), "%s: invalid value (%s)", what,
			 constraint ? constraint : "check");
		db_job_error(j, 400, msg);
	} else {
		log_error("db: %s: %s", what, PQresultErrorMessage(res));
		db_job_error(j, 500, "database error");
	}
}

/* ------------------------------------------------------------ health/config */

static void run_health(PGconn *c, struct db_job *j)
{
	PGresult *r = PQexec(c, "SELECT json_build_object('status', 'ok', "
				"'database', current_setting('server_version'), "
				"'postgis', postgis_lib_version(), 'time', sw_iso(now()))");
	db_job_take_json(j, r, 200);
	PQclear(r);
}

static void done_health(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	json_t *o = j->out && j->status == 200 ? json_loads(j->out, 0, NULL) : NULL;
	struct db_stats st;

	db_get_stats(s->db, &st);
	if (!o) {
		/* the database is unreachable: the server itself still answers */
		o = json_pack("{s:s,s:s}", "status", "degraded", "database", "unavailable");
		j->status = 503;
	}
	json_object_set_new(o, "positions_accepted", json_integer((json_int_t)s->positions_accepted));
	json_object_set_new(o, "positions_rejected", json_integer((json_int_t)s->positions_rejected));
	json_object_set_new(o, "positions_duplicate", json_integer((json_int_t)s->positions_duplicate));
	json_object_set_new(o, "positions_written", json_integer((json_int_t)st.positions_written));
	json_object_set_new(o, "write_queue", json_integer((json_int_t)st.queued));
	json_object_set_new(o, "jt808_connections", json_integer(s->jt808_connections));
	free(j->out);
	j->out = json_dumps(o, JSON_COMPACT);
	j->out_len = j->out ? strlen(j->out) : 0;
	json_decref(o);
	http_job_done(j, ctx);
}

static void api_health(struct sw_server *s, struct http_req *r)
{
	struct db_job *j = db_job_new(run_health, done_health, 0);

	http_submit_job(s, r, j);
}

static void api_config(struct sw_server *s, struct http_req *r)
{
	const struct sw_config *c = s->cfg;

	char buf[768];
	int n = snprintf(buf, sizeof(buf), "{\"center\":[%.6f,%.6f],\"zoom\":%.2f,\"basemap\":",
			 c->map_center[0], c->map_center[1], c->map_zoom);
	json_t *b = c->basemap_url[0] ? json_string(c->basemap_url) : json_null();
	char *bs = json_dumps(b, JSON_ENCODE_ANY);

	json_decref(b);
	snprintf(buf + n, sizeof(buf) - (size_t)n, "%s}", bs ? bs : "null");
	free(bs);
	http_respond(r, 200, "application/json", strdup(buf), strlen(buf));
}

/* ------------------------------------------------------------------- login */

static void run_login(PGconn *c, struct db_job *j)
{
	struct sw_server *s = j->ptr;
	const char *params[1] = { j->arg };
	PGresult *r = PQexecParams(c, "SELECT id, password_hash, role FROM users "
				      "WHERE username = $1 AND NOT disabled",
				   1, NULL, params, NULL, NULL, 0);
	struct auth_identity id;
	char token[512];
	json_t *o;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		api_pg_error(j, r, "login");
		PQclear(r);
		return;
	}
	/* same answer for an unknown user and a wrong password */
	if (PQntuples(r) != 1 || !auth_password_verify(PQgetvalue(r, 0, 1), j->arg2)) {
		PQclear(r);
		db_job_error(j, 401, "wrong user name or password");
		return;
	}
	memset(&id, 0, sizeof(id));
	id.user_id = atoi(PQgetvalue(r, 0, 0));
	id.role = auth_role_parse(PQgetvalue(r, 0, 2));
	id.expires = sw_now_ms() / 1000 + s->cfg->token_ttl_s;
	snprintf(id.username, sizeof(id.username), "%s", j->arg);
	PQclear(r);
	if (auth_token_make(s->key, &id, token, sizeof(token))) {
		db_job_error(j, 500, "cannot make a token");
		return;
	}
	o = json_pack("{s:s,s:s,s:s,s:I}", "token", token, "role", auth_role_name(id.role),
		      "user", id.username, "expires_in", (json_int_t)s->cfg->token_ttl_s);
	j->out = json_dumps(o, JSON_COMPACT);
	j->out_len = j->out ? strlen(j->out) : 0;
	j->status = 200;
	json_decref(o);
}

static void api_login(struct sw_server *s, struct http_req *r)
{
	json_t *b = http_body_json(r);
	const char *user, *pass;
	struct db_job *j;

	if (!b)
		return;
	user = json_string_value(json_object_get(b, "user"));
	pass = json_string_value(json_object_get(b, "password"));
	if (!user || !pass || !*user || strlen(user) > 60 || strlen(pass) > 1024) {
		json_decref(b);
		http_error(r, 400, "\"user\" and \"password\" strings are required");
		return;
	}
	j = db_job_new(run_login, NULL, 0);
	if (j) {
		j->arg = strdup(user);
		j->arg2 = strdup(pass);
	}
	json_decref(b);
	http_submit_job(s, r, j);
}

/* ----------------------------------------------------------------- vessels */

#define VESSEL_JSON                                                                       \
	"json_build_object('id', v.id, 'name', v.name, 'registration', v.registration, "       \
	"'kind', v.kind, 'terminal', v.terminal, 'mmsi', v.mmsi, 'owner', v.owner, "            \
	"'status', v.status, 'created_at', sw_iso(v.created_at), 'last', CASE WHEN "            \
	"v.last_geom IS NULL THEN NULL ELSE json_build_object('time', sw_iso(v.last_time), "   \
	"'lon', round(ST_X(v.last_geom)::numeric, 7), 'lat', round(ST_Y(v.last_geom)::numeric, 7), " \
	"'speed_kn', v.last_speed_kn, 'course', v.last_course) END)"

static void run_vessels_list(PGconn *c, struct db_job *j)
{
	PGresult *r = PQexec(c, "SELECT coalesce(json_agg(" VESSEL_JSON " ORDER BY v.id), '[]') "
				"FROM vessels v");
	db_job_take_json(j, r, 200);
	PQclear(r);
}

static void api_vessels_list(struct sw_server *s, struct http_req *r)
{
	http_submit_job(s, r, db_job_new(run_vessels_list, NULL, 0));
}

static void run_vessel_get(PGconn *c, struct db_job *j)
{
	db_job_json_by_id(c, j, "SELECT " VESSEL_JSON " FROM vessels v WHERE v.id = $1::int",
			  "no such vessel");
}

static void api_vessel_get(struct sw_server *s, struct http_req *r)
{
	http_submit_by_id(s, r, INT32_MAX, run_vessel_get, "no such vessel");
}

/* Normalises a JT/T 808 terminal phone number: digits only, leading zeros
 * are insignificant. Returns 0 or -1. */
static int normalise_terminal(const char *in, char *out, size_t len)
{
	size_t i = 0;

	while (*in == '0')
		in++;
	if (!*in)
		return -1;
	for (; *in; in++) {
		if (!isdigit((unsigned char)*in) || i + 1 >= len)
			return -1;
		out[i++] = *in;
	}
	out[i] = '\0';
	return i > 20 ? -1 : 0;
}

/* Validates a vessel document (all fields optional when partial) and turns
 * it into the canonical JSON the SQL reads. Responds 400 and returns NULL on a
 * bad field. */
static json_t *vessel_validate(struct http_req *r, json_t *b, int partial)
{
	static const char *kinds[] = { "sand_mining", "sand_transport", "other", NULL };
	static const char *statuses[] = { "active", "suspended", "seized", "retired", NULL };
	static const char *text_fields[] = { "name", "registration", "owner", NULL };
	json_t *out = json_object(), *v;
	const char *key;
	char msg[160];
	int i;

	json_object_foreach(b, key, v) {
		if (strcmp(key, "name") && strcmp(key, "registration") && strcmp(key, "owner") &&
		    strcmp(key, "kind") && strcmp(key, "terminal") && strcmp(key, "mmsi") &&
		    strcmp(key, "status")) {
			snprintf(msg, sizeof(msg), "unknown field \"%.60s\"", key);
			goto bad;
		}
	}
	for (i = 0; text_fields[i]; i++) {
		v = json_object_get(b, text_fields[i]);
		if (!v || json_is_null(v)) {
			if (v && !strcmp(text_fields[i], "name"))
				goto need_name;
			if (v)
				json_object_set_new(out, text_fields[i], json_null());
			continue;
		}
		if (!json_is_string(v) || json_string_length(v) > 200 ||
		    (!json_string_length(v) && !strcmp(text_fields[i], "name"))) {
			snprintf(msg, sizeof(msg), "\"%s\" must be a non-empty string of at most 200 bytes",
				 text_fields[i]);
			goto bad;
		}
		json_object_set(out, text_fields[i], v);
	}
	if (!partial && !json_object_get(out, "name"))
		goto need_name;
	v = json_object_get(b, "kind");
	if (v) {
		for (i = 0; kinds[i]; i++)
			if (json_is_string(v) && !strcmp(json_string_value(v), kinds[i]))
				break;
		if (!kinds[i]) {
			snprintf(msg, sizeof(msg), "\"kind\" must be sand_mining, sand_transport or other");
			goto bad;
		}
		json_object_set(out, "kind", v);
	}
	v = json_object_get(b, "status");
	if (v) {
		for (i = 0; statuses[i]; i++)
			if (json_is_string(v) && !strcmp(json_string_value(v), statuses[i]))
				break;
		if (!statuses[i]) {
			snprintf(msg, sizeof(msg), "\"status\" must be active, suspended, seized or retired");
			goto bad;
		}
		json_object_set(out, "status", v);
	}
	v = json_object_get(b, "terminal");
	if (v && !json_is_null(v)) {
		char t[24];
		if (!json_is_string(v) || normalise_terminal(json_string_value(v), t, sizeof(t))) {
			snprintf(msg, sizeof(msg), "\"terminal\" must be the terminal's phone number (digits)");
			goto bad;
		}
		json_object_set_new(out, "terminal", json_string(t));
	} else if (v) {
		json_object_set_new(out, "terminal", json_null());
	}
	v = json_object_get(b, "mmsi");
	if (v && !json_is_null(v)) {
		json_int_t m = -1;
		if (json_is_integer(v))
			m = json_integer_value(v);
		else if (json_is_string(v) && strlen(json_string_value(v)) == 9)
			m = atoll(json_string_value(v));
		if (m < 100000000 || m > 999999999) {
			snprintf(msg, sizeof(msg), "\"mmsi\" must be a 9-digit number");
			goto bad;
		}
		json_object_set_new(out, "mmsi", json_integer(m));
	} else if (v) {
		json_object_set_new(out, "mmsi", json_null());
	}
	return out;
need_name:
	snprintf(msg, sizeof(msg), "\"name\" is required");
bad:
	json_decref(out);
	http_error(r, 400, msg);
	return NULL;
}

/* Reads the body as a vessel document and returns its canonical JSON text
 * (malloc'd), or NULL after answering 400. */
static char *vessel_body(struct http_req *r, int partial)
{
	json_t *b = http_body_json(r), *v;
	char *text;

	if (!b)
		return NULL;
	if (!json_is_object(b)) {
		json_decref(b);
		http_error(r, 400, "a JSON object is required");
		return NULL;
	}
	v = vessel_validate(r, b, partial);
	json_decref(b);
	if (!v)
		return NULL;
	text = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	if (!text)
		http_error(r, 500, "out of memory");
	return text;
}

static void run_vessel_create(PGconn *c, struct db_job *j)
{
	const char *params[1] = { j->arg };
	PGresult *r = PQexecParams(c,
		"WITH d AS (SELECT $1::jsonb AS d), ins AS ("
		" INSERT INTO vessels (name, registration, kind, terminal, mmsi, owner, status)"
		" SELECT d->>'name', d->>'registration', coalesce(d->>'kind', 'sand_mining'),"
		" d->>'terminal', (d->>'mmsi')::bigint, d->>'owner', coalesce(d->>'status', 'active')"
		" FROM d RETURNING *) SELECT " VESSEL_JSON " FROM ins v",
		1, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		api_pg_error(j, r, "vessel");
	else
		db_job_take_json(j, r, 201);
	PQclear(r);
}

static void api_vessel_create(struct sw_server *s, struct http_req *r)
{
	char *doc = vessel_body(r, 0);
	struct db_job *j;

	if (!doc)
		return;
	j = db_job_new(run_vessel_create, alerts_job_done_refresh, 0);
	if (j)
		j->arg = doc;
	else
		free(doc);
	http_submit_job(s, r, j);
}

static void run_vessel_patch(PGconn *c, struct db_job *j)
{
	char id[24];
	const char *params[2] = { j->arg, id };
	PGresult *r;

	snprintf(id, sizeof(id), "%lld", j->iarg[0]);
	/* only the fields present in the document change */
	r = PQexecParams(c,
		"WITH d AS (SELECT $1::jsonb AS d), up AS ("
		" UPDATE vessels SET"
		" name = CASE WHEN d ? 'name' THEN d->>'name' ELSE name END,"
		" registration = CASE WHEN d ? 'registration' THEN d->>'registration' ELSE registration END,"
		" kind = CASE WHEN d ? 'kind' THEN d->>'kind' ELSE kind END,"
		" terminal = CASE WHEN d ? 'terminal' THEN d->>'terminal' ELSE terminal END,"
		" mmsi = CASE WHEN d ? 'mmsi' THEN (d->>'mmsi')::bigint ELSE mmsi END,"
		" owner = CASE WHEN d ? 'owner' THEN d->>'owner' ELSE owner END,"
		" status = CASE WHEN d ? 'status' THEN d->>'status' ELSE status END"
		" FROM d WHERE id = $2 RETURNING vessels.*) SELECT " VESSEL_JSON " FROM up v",
		2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		api_pg_error(j, r, "vessel");
	else
		db_job_take_json(j, r, 200);
	PQclear(r);
}

static void api_vessel_patch(struct sw_server *s, struct http_req *r)
{
	long id = http_parse_id(r->params[0], INT32_MAX);
	struct db_job *j;
	char *doc;

	if (id < 0) {
		http_error(r, 404, "no such vessel");
		return;
	}
	if (!(doc = vessel_body(r, 1)))
		return;
	j = db_job_new(run_vessel_patch, alerts_job_done_refresh, 0);
	if (j) {
		j->arg = doc;
		j->iarg[0] = id;
	} else {
		free(doc);
	}
	http_submit_job(s, r, j);
}

/* ------------------------------------------------------------------ layers */

static void run_layers(PGconn *c, struct db_job *j)
{
	PGresult *r = PQexec(c,
		"SELECT coalesce(json_agg(json_build_object('name', l.name, 'kind', l.kind,"
		" 'title', coalesce(l.title, l.name), 'version', lv.version,"
		" 'features', lv.feature_count, 'loaded_at', sw_iso(lv.loaded_at)) ORDER BY l.name), '[]')"
		" FROM layers l LEFT JOIN layer_versions lv ON lv.id = l.current_version_id");
	db_job_take_json(j, r, 200);
	PQclear(r);
}

static void api_layers(struct sw_server *s, struct http_req *r)
{
	http_submit_job(s, r, db_job_new(run_layers, NULL, 0));
}

const struct http_route api_routes[] = {
	{ HM_GET, "/api/health", ROLE_NONE, api_health },
	{ HM_GET, "/api/config", ROLE_NONE, api_config },
	{ HM_POST, "/api/login", ROLE_NONE, api_login },
	{ HM_GET, "/api/vessels", ROLE_VIEWER, api_vessels_list },
	{ HM_POST, "/api/vessels", ROLE_ADMIN, api_vessel_create },
	{ HM_GET, "/api/vessels/{}", ROLE_VIEWER, api_vessel_get },
	{ HM_PATCH, "/api/vessels/{}", ROLE_ADMIN, api_vessel_patch },
	{ HM_POST, "/api/positions", ROLE_ADMIN, api_positions_post },
	{ HM_GET, "/api/layers", ROLE_VIEWER, api_layers },
	{ 0, NULL, ROLE_NONE, NULL },
};
