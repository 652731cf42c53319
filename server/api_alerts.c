/* api_alerts.c -- /api/alerts (list, one, acknowledge), /api/permits and
 * /api/closed-seasons, /api/rules (the thresholds in effect).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "rules.h"
#include "server.h"

/* --------------------------------------------------------------- alerts */

static void run_alerts_list(PGconn *c, struct db_job *j)
{
	/* arg: {"status","kind","vessel","since_seq","since_time","limit"} */
	const char *params[1] = { j->arg };
	PGresult *r = PQexecParams(c,
		"WITH q AS (SELECT $1::jsonb AS q),"
		" sel AS (SELECT a.* FROM alerts a, q WHERE"
		"  CASE q->>'status' WHEN 'open' THEN a.closed_at IS NULL AND a.ack_at IS NULL"
		"   WHEN 'acknowledged' THEN a.closed_at IS NULL AND a.ack_at IS NOT NULL"
		"   WHEN 'closed' THEN a.closed_at IS NOT NULL"
		"   WHEN 'active' THEN a.closed_at IS NULL ELSE true END"
		"  AND (q->>'kind' IS NULL OR a.kind = q->>'kind')"
		"  AND (q->>'vessel' IS NULL OR a.vessel_id = (q->>'vessel')::int)"
		"  AND (q->>'since_seq' IS NULL OR a.id IN (SELECT alert_id FROM alert_events"
		"       WHERE seq > (q->>'since_seq')::bigint))"
		"  AND (q->>'since_time' IS NULL OR a.updated_at >= (q->>'since_time')::timestamptz"
		"       OR a.ack_at >= (q->>'since_time')::timestamptz"
		"       OR a.closed_at >= (q->>'since_time')::timestamptz)"
		"  ORDER BY a.opened_at DESC, a.id DESC LIMIT (SELECT (q->>'limit')::int FROM q))"
		" SELECT jsonb_build_object('alerts', coalesce((SELECT jsonb_agg(sw_alert_json(sel, NULL)"
		"   ORDER BY sel.opened_at DESC, sel.id DESC) FROM sel), '[]'),"
		"  'seq', (SELECT coalesce(max(seq), 0) FROM alert_events))::text",
		1, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		api_pg_error(j, r, "alerts");
	else
		db_job_take_json(j, r, 200);
	PQclear(r);
}

static void api_alerts_list(struct sw_server *s, struct http_req *r)
{
	char status[32], kind[32], vessel[24], since[64], limit[16];
	json_t *q = json_object();
	struct db_job *j;
	long n = 200;

	if (http_query(r, "status", status, sizeof(status)) > 0) {
		if (strcmp(status, "open") && strcmp(status, "acknowledged") &&
		    strcmp(status, "closed") && strcmp(status, "active") && strcmp(status, "all")) {
			json_decref(q);
			http_error(r, 400, "status: one of open, acknowledged, closed, active, all");
			return;
		}
		json_object_set_new(q, "status", json_string(status));
	}
	if (http_query(r, "kind", kind, sizeof(kind)) > 0) {
		if (rules_kind_parse(kind) < 0) {
			json_decref(q);
			http_error(r, 400, "kind: not an alert kind");
			return;
		}
		json_object_set_new(q, "kind", json_string(kind));
	}
	if (http_query(r, "vessel", vessel, sizeof(vessel)) > 0) {
		if (http_parse_id(vessel, INT32_MAX) < 0) {
			json_decref(q);
			http_error(r, 400, "vessel: a vessel id");
			return;
		}
		json_object_set_new(q, "vessel", json_string(vessel));
	}
	if (http_query(r, "since", since, sizeof(since)) > 0) {
		int64_t ms;
		char *end;
		long long seq = strtoll(since, &end, 10);

		if (!*end && seq >= 0 && isdigit((unsigned char)since[0])) {
			json_object_set_new(q, "since_seq", json_integer(seq));
		} else if (!sw_parse_iso_time(since, &ms)) {
			json_object_set_new(q, "since_time", json_string(since));
		} else {
			json_decref(q);
			http_error(r, 400, "since: an event number or an ISO-8601 time with offset");
			return;
		}
	}
	if (http_query(r, "limit", limit, sizeof(limit)) > 0) {
		char *end;
		n = strtol(limit, &end, 10);
		if (*end || n < 1 || n > 10000) {
			json_decref(q);
			http_error(r, 400, "limit: 1 to 10000");
			return;
		}
	}
	json_object_set_new(q, "limit", json_integer(n));
	j = db_job_new(run_alerts_list, NULL, 0);
	if (j && !(j->arg = json_dumps(q, JSON_COMPACT))) {
		db_job_free(j);
		j = NULL;
	}
	json_decref(q);
	http_submit_job(s, r, j);
}

static void run_alert_get(PGconn *c, struct db_job *j)
{
	db_job_json_by_id(c, j, "SELECT sw_alert_json(a, NULL)::text FROM alerts a WHERE a.id = $1::bigint",
			  "no such alert");
}

static void api_alert_get(struct sw_server *s, struct http_req *r)
{
	http_submit_by_id(s, r, INT64_MAX, run_alert_get, "no such alert");
}

static void api_alert_ack(struct sw_server *s, struct http_req *r)
{
	long long id = http_parse_id(r->params[0], INT64_MAX);
	json_t *body, *note;

	if (id < 0) {
		http_error(r, 404, "no such alert");
		return;
	}
	if (!r->body_len) {
		alerts_ack(s, r, id, "");
		return;
	}
	if (!(body = http_body_json(r)))
		return;
	note = json_object_get(body, "note");
	if (note && !json_is_string(note) && !json_is_null(note)) {
		json_decref(body);
		http_error(r, 400, "note: a string");
		return;
	}
	if (note && json_is_string(note) && json_string_length(note) > 4000) {
		json_decref(body);
		http_error(r, 400, "note: at most 4000 bytes");
		return;
	}
	alerts_ack(s, r, id, json_is_string(note) ? json_string_value(note) : "");
	json_decref(body);
}

/* GET /api/fleet */
static void api_fleet(struct sw_server *s, struct http_req *r)
{
	json_t *o = alerts_fleet_json(s);

	if (!o) {
		http_error(r, 503, "the rules engine is not running");
		return;
	}
	http_json(r, 200, o);
}

/* The thresholds in effect (documented defaults, config file, environment). */
static void api_rules(struct sw_server *s, struct http_req *r)
{
	const struct rules_config *rc = &s->cfg->rules;
	json_t *o = json_object();
	size_t i;

	for (i = 0; rules_fields[i].name; i++) {
		const char *p = (const char *)rc + rules_fields[i].offset;

		if (rules_fields[i].type == 'i')
			json_object_set_new(o, rules_fields[i].name,
					    json_integer(*(const int *)(const void *)p));
		else if (rules_fields[i].type == 'u')
			json_object_set_new(o, rules_fields[i].name,
					    json_integer(*(const uint32_t *)(const void *)p));
		else
			json_object_set_new(o, rules_fields[i].name,
					    json_real(*(const double *)(const void *)p));
	}
	http_json(r, 200, o);
}

/* -------------------------------------------------------------- permits */

#define PERMIT_JSON                                                                            \
	"jsonb_build_object('id', p.id, 'vessel', p.vessel_id, 'vessel_name',"                  \
	" (SELECT name FROM vessels WHERE id = p.vessel_id), 'number', p.number,"               \
	" 'zone_layer', p.zone_layer, 'zone_code', p.zone_code,"                                 \
	" 'valid_from', p.valid_from::text, 'valid_to', p.valid_to::text,"                       \
	" 'hours', CASE WHEN p.hours_from IS NULL THEN NULL ELSE"                                \
	"   to_char(p.hours_from, 'HH24:MI') || '-' ||"                                          \
	"   CASE WHEN p.hours_to = '24:00' THEN '24:00' ELSE to_char(p.hours_to, 'HH24:MI') END END," \
	" 'note', p.note, 'created_at', sw_iso(p.created_at), 'created_by', p.created_by,"       \
	" 'valid_now', (now() AT TIME ZONE 'Asia/Shanghai')::date BETWEEN p.valid_from AND p.valid_to)"

void alerts_job_done_refresh(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct http_req *r;

	if (j->status >= 200 && j->status < 300)
		alerts_refresh(s);
	r = http_job_claim(s, j);
	if (r)
		http_job_answer(r, j);
}

static void run_permits_list(PGconn *c, struct db_job *j)
{
	char v[24];
	const char *params[1] = { v };
	PGresult *r;

	snprintf(v, sizeof(v), "%lld", j->iarg[0]);
	r = PQexecParams(c, "SELECT coalesce(jsonb_agg(" PERMIT_JSON " ORDER BY p.id), '[]')::text"
			    " FROM permits p WHERE $1::int = 0 OR p.vessel_id = $1::int",
			 1, NULL, params, NULL, NULL, 0);
	db_job_take_json(j, r, 200);
	PQclear(r);
}

/* GET /api/permits[?vessel=ID] */
static void api_permits_list(struct sw_server *s, struct http_req *r)
{
	char v[24];
	long long id = 0;
	struct db_job *j;

	if (http_query(r, "vessel", v, sizeof(v)) > 0 && (id = http_parse_id(v, INT32_MAX)) < 0) {
		http_error(r, 400, "vessel: a vessel id");
		return;
	}
	j = db_job_new(run_permits_list, NULL, 0);
	if (j)
		j->iarg[0] = id;
	http_submit_job(s, r, j);
}

static void run_permit_get(PGconn *c, struct db_job *j)
{
	db_job_json_by_id(c, j, "SELECT " PERMIT_JSON "::text FROM permits p WHERE p.id = $1::int",
			  "no such permit");
}

static void api_permit_get(struct sw_server *s, struct http_req *r)
{
	http_submit_by_id(s, r, INT32_MAX, run_permit_get, "no such permit");
}

/* "HH:MM" (00:00..24:00) into minutes; -1 if not one. */
static int parse_hhmm(const char *s, size_t n)
{
	int h, m;

	if (n != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) || s[2] != ':' ||
	    !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
		return -1;
	h = (s[0] - '0') * 10 + (s[1] - '0');
	m = (s[3] - '0') * 10 + (s[4] - '0');
	if (m > 59 || h > 24 || (h == 24 && m))
		return -1;
	return h * 60 + m;
}

/* "YYYY-MM-DD"; 1 if it looks like one (PostgreSQL checks the calendar). */
static int is_date(const char *s)
{
	int i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* Checks a permit document (all fields on create, present ones on
 * update) and normalises it: "hours" becomes "hours_from"/"hours_to" (null
 * for any hour), "vessel" a string. Responds 400 and returns NULL if bad. */
static char *permit_body(struct http_req *r, int partial)
{
	static const char *const req[] = { "vessel", "number", "zone_layer", "zone_code",
					   "valid_from", "valid_to" };
	json_t *d = http_body_json(r), *v;
	const char *key;
	char msg[160], *text;
	size_t i;

	if (!d)
		return NULL;
	json_object_foreach(d, key, v) {
		static const char *const known[] = { "vessel", "number", "zone_layer", "zone_code",
						     "valid_from", "valid_to", "hours", "note" };
		int ok = 0;

		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			ok |= !strcmp(key, known[i]);
		if (!ok) {
			snprintf(msg, sizeof(msg), "%.60s: not a permit field", key);
			goto bad;
		}
	}
	for (i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		v = json_object_get(d, req[i]);
		if (!v && partial)
			continue;
		if (!strcmp(req[i], "vessel") && json_is_integer(v) && json_integer_value(v) > 0) {
			char id[24];
			snprintf(id, sizeof(id), "%lld", (long long)json_integer_value(v));
			json_object_set_new(d, "vessel", json_string(id));
			continue;
		}
		if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > 200) {
			snprintf(msg, sizeof(msg), "%s: required, a non-empty string", req[i]);
			goto bad;
		}
		if (!strncmp(req[i], "valid_", 6) && !is_date(json_string_value(v))) {
			snprintf(msg, sizeof(msg), "%s: a date YYYY-MM-DD", req[i]);
			goto bad;
		}
	}
	v = json_object_get(d, "hours");
	if (v && !json_is_null(v) && !(json_is_string(v) && !json_string_length(v))) {
		const char *h = json_string_value(v), *dash = h ? strchr(h, '-') : NULL;
		int from, to;

		if (!dash || (from = parse_hhmm(h, (size_t)(dash - h))) < 0 ||
		    (to = parse_hhmm(dash + 1, strlen(dash + 1))) < 0 || from == to || from == 1440) {
			snprintf(msg, sizeof(msg), "hours: \"HH:MM-HH:MM\" in local time, e.g. \"07:00-19:00\"");
			goto bad;
		}
		json_object_set_new(d, "hours_from", json_stringn(h, (size_t)(dash - h)));
		json_object_set_new(d, "hours_to", json_string(dash + 1));
	} else if (v) {
		json_object_set_new(d, "hours_from", json_null());
		json_object_set_new(d, "hours_to", json_null());
	}
	v = json_object_get(d, "note");
	if (v && !json_is_string(v) && !json_is_null(v)) {
		snprintf(msg, sizeof(msg), "note: a string");
		goto bad;
	}
	json_object_del(d, "hours");
	text = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	if (!text)
		http_error(r, 500, "out of memory");
	return text;
bad:
	json_decref(d);
	http_error(r, 400, msg);
	return NULL;
}

/* The vessel by id, name, registration or terminal; the zone as a feature of
 * the current version of a mining_zone layer. */
#define PERMIT_REFS                                                                           \
	" v AS (SELECT id FROM vessels, d WHERE d ? 'vessel' AND (id::text = d->>'vessel'"    \
	"   OR name = d->>'vessel' OR registration = d->>'vessel' OR terminal = d->>'vessel')"    \
	"   ORDER BY (id::text = d->>'vessel') DESC, id LIMIT 1),"                               \
	" z AS (SELECT l.kind FROM layers l JOIN features f ON f.layer_version_id ="             \
	"   l.current_version_id, d WHERE l.name = d->>'zone_layer' AND f.code = d->>'zone_code'" \
	"   ORDER BY l.kind = 'mining_zone' DESC LIMIT 1)"

/* Columns: vessel found, zone kind (NULL: none), the permit JSON (NULL:
 * nothing written). */
static void permit_answer(struct db_job *j, PGresult *r, int ok_status, int partial)
{
	char msg[300];
	const char *zk;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		api_pg_error(j, r, "permit");
		return;
	}
	if (PQntuples(r) != 1) {
		db_job_error(j, 404, "no such permit");
		return;
	}
	zk = PQgetisnull(r, 0, 1) ? NULL : PQgetvalue(r, 0, 1);
	if (PQgetvalue(r, 0, 0)[0] == 'f') {
		db_job_error(j, 422, "vessel: no such vessel (an id, name, registration or terminal)");
	} else if (PQgetvalue(r, 0, 3)[0] == 'f') {
		snprintf(msg, sizeof(msg), "zone: %s is not a feature of a current layer version "
					   "(layer name / feature code)", PQgetvalue(r, 0, 4));
		db_job_error(j, 422, msg);
	} else if (zk && strcmp(zk, "mining_zone")) {
		snprintf(msg, sizeof(msg), "zone: %s is in a %s layer, not a mining_zone layer",
			 PQgetvalue(r, 0, 4), zk);
		db_job_error(j, 422, msg);
	} else if (PQgetisnull(r, 0, 2)) {
		db_job_error(j, partial ? 404 : 500, partial ? "no such permit" : "permit not stored");
	} else {
		j->out = strdup(PQgetvalue(r, 0, 2));
		j->out_len = j->out ? strlen(j->out) : 0;
		j->status = j->out ? ok_status : 500;
	}
}

static void run_permit_create(PGconn *c, struct db_job *j)
{
	const char *params[2] = { j->arg, j->arg2 };
	PGresult *r = PQexecParams(c,
		"WITH d AS (SELECT $1::jsonb AS d)," PERMIT_REFS ","
		" ins AS (INSERT INTO permits AS p (vessel_id, number, zone_layer, zone_code,"
		"   valid_from, valid_to, hours_from, hours_to, note, created_by)"
		"  SELECT v.id, d->>'number', d->>'zone_layer', d->>'zone_code',"
		"   (d->>'valid_from')::date, (d->>'valid_to')::date, (d->>'hours_from')::time,"
		"   (d->>'hours_to')::time, d->>'note', $2 FROM d, v"
		"  WHERE (SELECT kind FROM z) = 'mining_zone' RETURNING p.*)"
		" SELECT EXISTS (SELECT 1 FROM v), (SELECT kind FROM z),"
		"  (SELECT " PERMIT_JSON "::text FROM ins p), EXISTS (SELECT 1 FROM z),"
		"  (SELECT d->>'zone_layer' || '/' || (d->>'zone_code') FROM d)",
		2, NULL, params, NULL, NULL, 0);
	permit_answer(j, r, 201, 0);
	PQclear(r);
}

static void api_permit_create(struct sw_server *s, struct http_req *r)
{
	char *doc = permit_body(r, 0);
	struct db_job *j;

	if (!doc)
		return;
	j = db_job_new(run_permit_create, alerts_job_done_refresh, 0);
	if (!j) {
		free(doc);
		http_error(r, 500, "out of memory");
		return;
	}
	j->arg = doc;
	j->arg2 = strdup(r->who.username);
	http_submit_job(s, r, j);
}

static void run_permit_patch(PGconn *c, struct db_job *j)
{
	char id[24];
	const char *params[2] = { j->arg, id };
	PGresult *r;

	snprintf(id, sizeof(id), "%lld", j->iarg[0]);
	/* absent fields keep their value; the zone is checked as it will be */
	r = PQexecParams(c,
		"WITH cur AS (SELECT * FROM permits WHERE id = $2::int),"
		" d AS (SELECT jsonb_build_object('vessel', cur.vessel_id::text, 'zone_layer',"
		"   cur.zone_layer, 'zone_code', cur.zone_code) || $1::jsonb AS d FROM cur)," PERMIT_REFS ","
		" up AS (UPDATE permits AS p SET vessel_id = v.id,"
		"   number = coalesce(d->>'number', p.number), zone_layer = d->>'zone_layer',"
		"   zone_code = d->>'zone_code',"
		"   valid_from = coalesce((d->>'valid_from')::date, p.valid_from),"
		"   valid_to = coalesce((d->>'valid_to')::date, p.valid_to),"
		"   hours_from = CASE WHEN d ? 'hours_from' THEN (d->>'hours_from')::time ELSE p.hours_from END,"
		"   hours_to = CASE WHEN d ? 'hours_to' THEN (d->>'hours_to')::time ELSE p.hours_to END,"
		"   note = CASE WHEN d ? 'note' THEN d->>'note' ELSE p.note END"
		"  FROM d, v WHERE p.id = $2::int AND (SELECT kind FROM z) = 'mining_zone' RETURNING p.*)"
		" SELECT EXISTS (SELECT 1 FROM v), (SELECT kind FROM z),"
		"  (SELECT " PERMIT_JSON "::text FROM up p), EXISTS (SELECT 1 FROM z),"
		"  (SELECT d->>'zone_layer' || '/' || (d->>'zone_code') FROM d)"
		" FROM cur",
		2, NULL, params, NULL, NULL, 0);
	permit_answer(j, r, 200, 1);
	PQclear(r);
}

static void api_permit_patch(struct sw_server *s, struct http_req *r)
{
	long long id = http_parse_id(r->params[0], INT32_MAX);
	struct db_job *j;
	char *doc;

	if (id < 0) {
		http_error(r, 404, "no such permit");
		return;
	}
	if (!(doc = permit_body(r, 1)))
		return;
	j = db_job_new(run_permit_patch, alerts_job_done_refresh, 0);
	if (!j) {
		free(doc);
		http_error(r, 500, "out of memory");
		return;
	}
	j->arg = doc;
	j->iarg[0] = id;
	http_submit_job(s, r, j);
}

static void run_delete(PGconn *c, struct db_job *j)
{
	char id[24];
	const char *params[1] = { id };
	PGresult *r;

	snprintf(id, sizeof(id), "%lld", j->iarg[0]);
	r = PQexecParams(c, j->iarg[1] ? "DELETE FROM closed_seasons WHERE id = $1::int RETURNING id"
				       : "DELETE FROM permits WHERE id = $1::int RETURNING id",
			 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		api_pg_error(j, r, j->iarg[1] ? "closed season" : "permit");
	} else if (PQntuples(r) == 0) {
		db_job_error(j, 404, j->iarg[1] ? "no such closed season" : "no such permit");
	} else {
		j->out = strdup("{\"deleted\":true}");
		j->out_len = j->out ? strlen(j->out) : 0;
		j->status = 200;
	}
	PQclear(r);
}

static void delete_row(struct sw_server *s, struct http_req *r, int season)
{
	long long id = http_parse_id(r->params[0], INT32_MAX);
	struct db_job *j;

	if (id < 0) {
		http_error(r, 404, season ? "no such closed season" : "no such permit");
		return;
	}
	j = db_job_new(run_delete, alerts_job_done_refresh, 0);
	if (j) {
		j->iarg[0] = id;
		j->iarg[1] = season;
	}
	http_submit_job(s, r, j);
}

static void api_permit_delete(struct sw_server *s, struct http_req *r)
{
	delete_row(s, r, 0);
}

/* ------------------------------------------------------- closed seasons */

#define SEASON_JSON                                                                          \
	"jsonb_build_object('id', c.id, 'name', c.name, 'zone_layer', c.zone_layer,"          \
	" 'zone_code', c.zone_code, 'yearly', c.yearly,"                                       \
	" 'from', CASE WHEN c.yearly THEN to_char(c.date_from, 'MM-DD') ELSE c.date_from::text END," \
	" 'to', CASE WHEN c.yearly THEN to_char(c.date_to, 'MM-DD') ELSE c.date_to::text END," \
	" 'created_at', sw_iso(c.created_at), 'created_by', c.created_by)"

static void run_seasons_list(PGconn *c, struct db_job *j)
{
	PGresult *r = PQexec(c, "SELECT coalesce(jsonb_agg(" SEASON_JSON " ORDER BY c.id), '[]')::text"
				" FROM closed_seasons c");
	db_job_take_json(j, r, 200);
	PQclear(r);
}

static void api_seasons_list(struct sw_server *s, struct http_req *r)
{
	http_submit_job(s, r, db_job_new(run_seasons_list, NULL, 0));
}

static void run_season_create(PGconn *c, struct db_job *j)
{
	const char *params[2] = { j->arg, j->arg2 };
	PGresult *r = PQexecParams(c,
		"WITH d AS (SELECT $1::jsonb AS d),"
		" l AS (SELECT kind FROM layers, d WHERE name = d->>'zone_layer'),"
		" ins AS (INSERT INTO closed_seasons AS c (name, zone_layer, zone_code, date_from,"
		"   date_to, yearly, created_by)"
		"  SELECT coalesce(d->>'name', ''), d->>'zone_layer', nullif(d->>'zone_code', ''),"
		"   (d->>'from')::date, (d->>'to')::date, (d->>'yearly')::boolean, $2 FROM d"
		"  WHERE EXISTS (SELECT 1 FROM l) RETURNING c.*)"
		" SELECT (SELECT kind FROM l), (SELECT " SEASON_JSON "::text FROM ins c)",
		2, NULL, params, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		api_pg_error(j, r, "closed season");
	else if (PQgetisnull(r, 0, 0))
		db_job_error(j, 422, "zone_layer: no such layer");
	else if (PQgetisnull(r, 0, 1))
		db_job_error(j, 500, "closed season not stored");
	else {
		j->out = strdup(PQgetvalue(r, 0, 1));
		j->out_len = j->out ? strlen(j->out) : 0;
		j->status = j->out ? 201 : 500;
	}
	PQclear(r);
}

/* "MM-DD" of a yearly season, stored in the leap year 2000 */
static int is_month_day(const char *s)
{
	return strlen(s) == 5 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
	       s[2] == '-' && isdigit((unsigned char)s[3]) && isdigit((unsigned char)s[4]);
}

static void api_season_create(struct sw_server *s, struct http_req *r)
{
	json_t *d = http_body_json(r), *v;
	const char *ends[2] = { "from", "to" };
	int yearly, i;
	struct db_job *j;
	char msg[160];

	if (!d)
		return;
	v = json_object_get(d, "zone_layer");
	if (!json_is_string(v) || !json_string_length(v)) {
		snprintf(msg, sizeof(msg), "zone_layer: required, a layer name");
		goto bad;
	}
	v = json_object_get(d, "yearly");
	if (v && !json_is_boolean(v)) {
		snprintf(msg, sizeof(msg), "yearly: true or false");
		goto bad;
	}
	yearly = json_is_true(v);
	json_object_set_new(d, "yearly", json_boolean(yearly));
	for (i = 0; i < 2; i++) {
		const char *t;

		v = json_object_get(d, ends[i]);
		t = json_string_value(v);
		if (t && yearly && is_month_day(t)) {
			char full[16];
			snprintf(full, sizeof(full), "2000-%s", t);
			json_object_set_new(d, ends[i], json_string(full));
		} else if (!t || !is_date(t)) {
			snprintf(msg, sizeof(msg), "%s: a date YYYY-MM-DD%s", ends[i],
				 yearly ? " or MM-DD" : "");
			goto bad;
		}
	}
	for (i = 0; i < 2; i++) {
		static const char *const strs[] = { "zone_code", "name" };
		v = json_object_get(d, strs[i]);
		if (v && !json_is_string(v) && !json_is_null(v)) {
			snprintf(msg, sizeof(msg), "%s: a string", strs[i]);
			goto bad;
		}
	}
	j = db_job_new(run_season_create, alerts_job_done_refresh, 0);
	if (!j || !(j->arg = json_dumps(d, JSON_COMPACT))) {
		db_job_free(j);
		json_decref(d);
		http_error(r, 500, "out of memory");
		return;
	}
	j->arg2 = strdup(r->who.username);
	json_decref(d);
	http_submit_job(s, r, j);
	return;
bad:
	json_decref(d);
	http_error(r, 400, msg);
}

static void api_season_delete(struct sw_server *s, struct http_req *r)
{
	delete_row(s, r, 1);
}

const struct http_route alerts_routes[] = {
	{ HM_GET, "/api/alerts", ROLE_VIEWER, api_alerts_list },
	{ HM_GET, "/api/alerts/{}", ROLE_VIEWER, api_alert_get },
	{ HM_POST, "/api/alerts/{}/ack", ROLE_ENFORCER, api_alert_ack },
	{ HM_GET, "/api/rules", ROLE_VIEWER, api_rules },
	{ HM_GET, "/api/fleet", ROLE_VIEWER, api_fleet },
	{ HM_GET, "/api/permits", ROLE_VIEWER, api_permits_list },
	{ HM_POST, "/api/permits", ROLE_ADMIN, api_permit_create },
	{ HM_GET, "/api/permits/{}", ROLE_VIEWER, api_permit_get },
	{ HM_PATCH, "/api/permits/{}", ROLE_ADMIN, api_permit_patch },
	{ HM_DELETE, "/api/permits/{}", ROLE_ADMIN, api_permit_delete },
	{ HM_GET, "/api/closed-seasons", ROLE_VIEWER, api_seasons_list },
	{ HM_POST, "/api/closed-seasons", ROLE_ADMIN, api_season_create },
	{ HM_DELETE, "/api/closed-seasons/{}", ROLE_ADMIN, api_season_delete },
	{ 0, NULL, ROLE_NONE, NULL },
};
