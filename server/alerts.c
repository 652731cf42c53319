/* alerts.c -- the rules engine inside the server: zones, permits and vessels from
 * PostGIS in, alert changes to PostGIS and the live feed out. See alerts.h.
 *
 * Service thread, except the run_* functions (database workers).
 */
#include <arpa/inet.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "geofence.h"
#include "http.h"
#include "log.h"
#include "rules.h"
#include "server.h"

#define ID_BLOCK 1000          /* alert ids reserved at a time */
#define ID_LOW 500             /* refill below this many */
#define WRITE_MAX 500          /* alert changes per writer transaction */
#define POINT_RADIUS_M 50.0    /* a zone given as a point: a disc this wide */

struct ack_req {
	struct ack_req *next;
	uint64_t owner;            /* the waiting HTTP request (idmap) */
	int64_t id;
	char *note;
	char user[64];
};

struct alerts {
	struct sw_server *s;
	struct rules *rules;
	int64_t *ids;              /* reserved alert ids, used from the end */
	size_t nids;
	int64_t *seqs;             /* reserved event numbers, used from the end */
	size_t nseqs;
	int ids_pending;
	struct idmap names;        /* vessel id -> name (malloc'd) */
	struct idmap acked;        /* open alert id -> its "ack" object (json_t *) */
	int ack_turn;              /* the writer alternates changes and acks */
	json_t *queue;             /* alert changes not yet written (array) */
	json_t *inflight;          /* the changes the writer job holds */
	struct ack_req *acks, **acks_tail;
	int writing;
	int64_t retry_at_ms;       /* after a failed write */
	int index_pending, index_again;
	int refresh_pending, refresh_again;
	int64_t next_refresh_ms;
	lws_sorted_usec_list_t sul;
	int64_t cur_recv_ms;       /* receipt time of the position being evaluated */
};

static struct alerts *A(struct sw_server *s)
{
	return s->alerts;
}

/* ------------------------------------------------------------ alert ids */

/* Adds column col of r to a pool used from the end (the smallest last, so
 * that numbers rise). */
static int pool_take(int64_t **pool, size_t *n, PGresult *r, int col)
{
	int i, k = PQntuples(r);
	int64_t *grown = realloc(*pool, (*n + (size_t)k) * sizeof(**pool));

	if (!grown)
		return -1;
	*pool = grown;
	memmove(grown + k, grown, *n * sizeof(*grown));
	for (i = 0; i < k; i++)
		grown[k - 1 - i] = strtoll(PQgetvalue(r, i, col), NULL, 10);
	*n += (size_t)k;
	return 0;
}

static int take_ids(struct alerts *a, PGresult *r)
{
	return pool_take(&a->ids, &a->nids, r, 0) || pool_take(&a->seqs, &a->nseqs, r, 1) ? -1 : 0;
}

/* Alert ids and event numbers are reserved a block at a time, so that an
 * alert change is numbered and published at once, before it is written. */
static const char ids_sql[] = "SELECT nextval('alerts_id_seq'), nextval('alert_events_seq_seq')"
			      " FROM generate_series(1, 1000)";

static void run_ids(PGconn *c, struct db_job *j)
{
	PGresult *r = PQexec(c, ids_sql);

	if (PQresultStatus(r) == PGRES_TUPLES_OK) {
		j->ptr = r;
		j->status = 0;
		return;
	}
	log_warn("alerts: cannot reserve alert ids: %s", PQerrorMessage(c));
	PQclear(r);
	j->status = -1;
}

static void done_ids(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct alerts *a = A(s);

	if (a) {
		a->ids_pending = 0;
		if (j->ptr && take_ids(a, j->ptr))
			log_error("alerts: out of memory keeping alert ids");
	}
	PQclear(j->ptr);
	j->ptr = NULL;
}

static void ids_refill(struct alerts *a)
{
	struct db_job *j;

	if (a->ids_pending || (a->nids >= ID_LOW && a->nseqs >= ID_LOW))
		return;
	j = db_job_new(run_ids, done_ids, 0);
	if (!j)
		return;
	a->ids_pending = 1;
	db_submit(a->s->db, j);
}

/* --------------------------------------------------------- the writer */

static void writer_kick(struct alerts *a);

/* Times of the engine (UTC ms) as ISO text; 0 = NULL. */
static json_t *iso(int64_t ms)
{
	char buf[40];

	if (!ms)
		return json_null();
	sw_iso_time(ms, buf, sizeof(buf));
	return json_string(buf);
}

static const char *event_name(int ev)
{
	return ev == RE_OPEN ? "open" : ev == RE_CLOSE ? "close" : "update";
}

/* Publishes an alert change at once, numbered, in the shape sw_alert_json()
 * gives the API (the database gets it right after, in the same order). */
static void publish_change(struct alerts *a, json_t *o, int closing)
{
	json_int_t id = json_integer_value(json_object_get(o, "id"));
	json_int_t vessel = json_integer_value(json_object_get(o, "vessel"));
	json_t *ack = idmap_get(&a->acked, (uint64_t)id);
	const char *name = vessel ? idmap_get(&a->names, (uint64_t)vessel) : NULL;
	double lon = json_real_value(json_object_get(o, "lon"));
	double lat = json_real_value(json_object_get(o, "lat"));
	json_t *ev;
	char *text;

	ev = json_pack("{s:s,s:O,s:O,s:o,s:o,s:O,s:s,s:O,s:O,s:O,s:O,s:O,s:o,s:o,s:O,s:O,s:O,s:O,s:O,s:O,s:O?}",
		       "type", "alert", "seq", json_object_get(o, "seq"), "id", json_object_get(o, "id"),
		       "vessel", vessel ? json_integer(vessel) : json_null(), "vessel_name",
		       name ? json_string(name) : json_null(), "kind", json_object_get(o, "kind"),
		       "state", closing ? "closed" : ack ? "acknowledged" : "open", "severity",
		       json_object_get(o, "severity"), "time", json_object_get(o, "updated"), "opened",
		       json_object_get(o, "opened"), "updated", json_object_get(o, "updated"), "closed",
		       json_object_get(o, "closed"), "lon",
		       lon == 0 && lat == 0 ? json_null() : json_real(lon), "lat",
		       lon == 0 && lat == 0 ? json_null() : json_real(lat), "subject",
		       json_object_get(o, "subject"), "permit", json_object_get(o, "permit"), "late",
		       json_object_get(o, "late"), "detail", json_object_get(o, "detail"), "evidence",
		       json_object_get(o, "evidence"), "ack", ack ? ack : json_null(), "received",
		       json_object_get(o, "received"));
	text = ev ? json_dumps(ev, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
	if (text && a->s->live)
		live_publish_seq(a->s->live, text, strlen(text),
				 (uint64_t)json_integer_value(json_object_get(o, "seq")));
	free(text);
	json_decref(ev);
	if (closing && ack) {
		idmap_del(&a->acked, (uint64_t)id);
		json_decref(ack);
	}
}

/* The engine's sink: number, publish and queue the change for the writer. */
static void sink(void *ctx, int ev, struct rules_alert *ra)
{
	struct alerts *a = ctx;
	json_t *o, *evid, *detail;
	int i;

	if (ev == RE_OPEN && !ra->id) {
		if (!a->nids) {
			/* the database has been away long enough to use up a whole
			 * block: take the next id the engine cannot collide with */
			log_error("alerts: no reserved alert id left; the alert is kept in memory only");
			ids_refill(a);
			return;
		}
		ra->id = a->ids[--a->nids];
		ids_refill(a);
	}
	if (!ra->id)
		return; /* opened while ids were exhausted: nothing to update */
	if (!a->nseqs) {
		log_error("alerts: no reserved event number left; alert %lld change not published",
			  (long long)ra->id);
		ids_refill(a);
		return;
	}
	evid = json_array();
	for (i = 0; i < ra->n_evidence; i++) {
		const struct rules_fix *f = &ra->evidence[i];
		json_array_append_new(evid, json_pack("{s:o,s:f,s:f,s:f,s:f}", "time", iso(f->t_ms),
						      "lon", f->lon, "lat", f->lat, "speed_kn",
						      (double)f->speed_kn, "course", (double)f->course));
	}
	detail = json_loads(ra->detail, 0, NULL);
	if (!json_is_object(detail)) {
		json_decref(detail);
		detail = json_pack("{s:s}", "rule", ra->detail);
	}
	o = json_pack("{s:s,s:I,s:i,s:s,s:s,s:s,s:i,s:b,s:o,s:o,s:o,s:f,s:f,s:o,s:o}", "ev",
		      event_name(ev), "id", (json_int_t)ra->id, "vessel", (int)ra->vessel_id, "kind",
		      rules_kind_name(ra->kind), "subject", ra->subject, "permit", ra->permit,
		      "severity", ra->severity, "late", ra->late, "opened", iso(ra->opened_ms),
		      "updated", iso(ra->updated_ms ? ra->updated_ms : ra->opened_ms), "closed",
		      iso(ev == RE_CLOSE ? (ra->closed_ms ? ra->closed_ms : ra->updated_ms) : 0),
		      "lon", ra->lon, "lat", ra->lat, "detail", detail, "evidence", evid);
	/* when the frame that caused this change arrived: the live event says
	 * so, for latency figures and for "late" at a glance */
	if (o && a->cur_recv_ms)
		json_object_set_new(o, "received", iso(a->cur_recv_ms));
	if (!o) {
		log_error("alerts: cannot encode alert %lld", (long long)ra->id);
		return;
	}
	json_object_set_new(o, "seq", json_integer(a->seqs[--a->nseqs]));
	ids_refill(a);
	publish_change(a, o, ev == RE_CLOSE);
	json_array_append_new(a->queue, o);
	writer_kick(a);
}

/* One alert change: upsert the alert, number the event, return what the
 * live feed shows. */
static const char write_sql[] =
	"WITH d AS (SELECT $1::jsonb AS d), up AS ("
	" INSERT INTO alerts AS a (id, vessel_id, kind, subject, permit, severity, late, opened_at,"
	"   updated_at, closed_at, geom, detail, evidence)"
	" SELECT (d->>'id')::bigint, nullif((d->>'vessel')::int, 0), d->>'kind', d->>'subject',"
	"   nullif(d->>'permit', ''), (d->>'severity')::smallint, (d->>'late')::boolean,"
	"   (d->>'opened')::timestamptz, (d->>'updated')::timestamptz, (d->>'closed')::timestamptz,"
	"   CASE WHEN (d->>'lon')::float8 = 0 AND (d->>'lat')::float8 = 0 THEN NULL ELSE"
	"   ST_SetSRID(ST_MakePoint((d->>'lon')::float8, (d->>'lat')::float8), 4326) END,"
	"   d->'detail', d->'evidence' FROM d"
	" ON CONFLICT (id) DO UPDATE SET severity = EXCLUDED.severity,"
	"   late = a.late OR EXCLUDED.late, permit = coalesce(EXCLUDED.permit, a.permit),"
	"   updated_at = greatest(a.updated_at, EXCLUDED.updated_at),"
	"   closed_at = coalesce(EXCLUDED.closed_at, a.closed_at),"
	"   geom = coalesce(EXCLUDED.geom, a.geom), detail = EXCLUDED.detail,"
	"   evidence = CASE WHEN jsonb_array_length(EXCLUDED.evidence) > 0 THEN EXCLUDED.evidence"
	"   ELSE a.evidence END"
	" RETURNING a.id)"
	" INSERT INTO alert_events (seq, alert_id, event) SELECT (d->>'seq')::bigint, up.id, d->>'ev'"
	" FROM up, d";

/* An event without a change of the alert row (an acknowledgement: the row
 * was updated by the ack itself). */
static const char event_sql[] =
	"INSERT INTO alert_events (seq, alert_id, event) SELECT (d->>'seq')::bigint,"
	" (d->>'id')::bigint, d->>'ev' FROM (SELECT $1::jsonb AS d) x";

static const char ack_sql[] =
	"WITH up AS (UPDATE alerts SET ack_by = $2, ack_at = now(), ack_note = $3"
	" WHERE id = $1::bigint AND ack_at IS NULL RETURNING *)"
	" SELECT sw_alert_json(up, NULL)::text, 1 FROM up"
	" UNION ALL SELECT NULL, CASE WHEN ack_at IS NULL THEN 0 ELSE 2 END FROM alerts"
	" WHERE id = $1::bigint AND NOT EXISTS (SELECT 1 FROM up)";

/* Writes the changes of j->arg (a JSON array) in one transaction; j->out
 * gets a JSON array of the published texts. status 0, or -1 (nothing
 * written: retried later). */
static void run_write(PGconn *c, struct db_job *j)
{
	json_t *items = json_loads(j->arg, 0, NULL), *outs = json_array(), *it;
	PGresult *r;
	size_t i;
	int ok = 1;

	j->status = -1;
	if (!items || !outs) {
		json_decref(items);
		json_decref(outs);
		return;
	}
	r = PQexec(c, "BEGIN");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	json_array_foreach(items, i, it) {
		char *text;
		const char *params[1];

		if (!ok)
			break;
		text = json_dumps(it, JSON_COMPACT);
		params[0] = text;
		r = PQexecParams(c, json_is_true(json_object_get(it, "event_only")) ? event_sql : write_sql,
				 1, NULL, params, NULL, NULL, 0);
		free(text);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_warn("alerts: cannot store alert %lld: %s",
				 (long long)json_integer_value(json_object_get(it, "id")),
				 PQresultErrorMessage(r));
			ok = 0;
		}
		PQclear(r);
	}
	r = PQexec(c, ok ? "COMMIT" : "ROLLBACK");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		ok = 0;
	PQclear(r);
	json_decref(items);
	if (ok) {
		j->out = json_dumps(outs, JSON_COMPACT);
		j->status = j->out ? 0 : -1;
	}
	json_decref(outs);
}

static void done_write(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct alerts *a = A(s);

	if (!a)
		return;
	a->writing = 0;
	if (j->status == 0) {
		json_decref(a->inflight);
		a->inflight = NULL;
	} else {
		/* put them back in front, in order, and try again shortly */
		json_t *q = a->inflight ? a->inflight : json_array();
		json_array_extend(q, a->queue);
		json_decref(a->queue);
		a->queue = q;
		a->inflight = NULL;
		a->retry_at_ms = sw_now_ms() + 1000;
		return;
	}
	writer_kick(a);
}

static void run_ack(PGconn *c, struct db_job *j)
{
	char id[24];
	const char *params[3] = { id, j->arg2, j->arg };
	PGresult *r;

	snprintf(id, sizeof(id), "%lld", j->iarg[0]);
	r = PQexecParams(c, ack_sql, 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		db_job_error(j, 503, "the database is not available");
	} else if (PQntuples(r) == 0) {
		db_job_error(j, 404, "no such alert");
	} else if (!strcmp(PQgetvalue(r, 0, 1), "2")) {
		db_job_error(j, 409, "the alert is already acknowledged");
	} else if (!strcmp(PQgetvalue(r, 0, 1), "0")) {
		db_job_error(j, 404, "no such alert");
	} else {
		j->out = strdup(PQgetvalue(r, 0, 0));
		j->out_len = j->out ? strlen(j->out) : 0;
		j->status = j->out ? 200 : 500;
	}
	PQclear(r);
}

static void done_ack(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct alerts *a = A(s);
	struct http_req *r;

	if (a)
		a->writing = 0;
	if (j->status == 200 && j->out && a) {
		json_t *o = json_loads(j->out, 0, NULL);
		json_int_t id = json_integer_value(json_object_get(o, "id"));
		json_t *ack = json_object_get(o, "ack"), *old;
		char *text = NULL;

		if (o && a->nseqs) {
			json_int_t seq = a->seqs[--a->nseqs];

			ids_refill(a);
			json_object_set_new(o, "type", json_string("alert"));
			json_object_set_new(o, "seq", json_integer(seq));
			text = json_dumps(o, JSON_COMPACT);
			if (text && s->live)
				live_publish_seq(s->live, text, strlen(text), (uint64_t)seq);
			json_array_append_new(a->queue, json_pack("{s:b,s:s,s:I,s:I}", "event_only", 1,
								  "ev", "ack", "id", id, "seq", seq));
		}
		/* later changes of this open alert show it acknowledged */
		if (ack && json_is_object(ack) &&
		    strcmp(json_string_value(json_object_get(o, "state")) ?: "", "closed")) {
			if ((old = idmap_get(&a->acked, (uint64_t)id))) {
				idmap_del(&a->acked, (uint64_t)id);
				json_decref(old);
			}
			if (!idmap_put(&a->acked, (uint64_t)id, json_incref(ack)))
				json_decref(ack);
		}
		if (text) {
			free(j->out);
			j->out = text;
			j->out_len = strlen(text);
		}
		json_decref(o);
	}
	r = http_job_claim(s, j);
	if (r)
		http_job_answer(r, j);
	if (a)
		writer_kick(a);
}

/* One writer job at a time keeps the event numbers in publishing order. */
static void writer_kick(struct alerts *a)
{
	struct db_job *j;

	if (a->writing || sw_now_ms() < a->retry_at_ms)
		return;
	/* changes and acknowledgements take turns (an ack finds the alert
	 * row written: its change was queued before anyone could see it) */
	if (a->acks && (a->ack_turn || !json_array_size(a->queue))) {
		a->ack_turn = 0;
		struct ack_req *k = a->acks;

		a->acks = k->next;
		if (!a->acks)
			a->acks_tail = &a->acks;
		j = db_job_new(run_ack, done_ack, k->owner);
		if (j) {
			j->iarg[0] = k->id;
			j->arg = k->note;
			j->arg2 = strdup(k->user);
			k->note = NULL;
			a->writing = 1;
			db_submit(a->s->db, j);
		}
		free(k->note);
		free(k);
		return;
	}
	if (!json_array_size(a->queue))
		return;
	a->ack_turn = 1;
	a->inflight = json_array();
	while (json_array_size(a->queue) && json_array_size(a->inflight) < WRITE_MAX) {
		json_array_append(a->inflight, json_array_get(a->queue, 0));
		json_array_remove(a->queue, 0);
	}
	j = db_job_new(run_write, done_write, 0);
	if (!j || !(j->arg = json_dumps(a->inflight, JSON_COMPACT))) {
		db_job_free(j);
		json_array_extend(a->inflight, a->queue);
		json_decref(a->queue);
		a->queue = a->inflight;
		a->inflight = NULL;
		return;
	}
	a->writing = 1;
	db_submit(a->s->db, j);
}

void alerts_ack(struct sw_server *s, struct http_req *r, int64_t id, const char *note)
{
	struct alerts *a = A(s);
	struct ack_req *k;

	if (!a) {
		http_error(r, 503, "alerts are not running");
		return;
	}
	k = calloc(1, sizeof(*k));
	if (!k || !(k->note = strdup(note ? note : ""))) {
		free(k);
		http_error(r, 500, "out of memory");
		return;
	}
	r->id = idmap_add(&s->conns, r);
	k->owner = r->id;
	k->id = id;
	snprintf(k->user, sizeof(k->user), "%s", r->who.username);
	*a->acks_tail = k;
	a->acks_tail = &k->next;
	writer_kick(a);
}

/* ------------------------------------------------------------- zones */

static const char zones_sql[] =
	"SELECT f.id, l.id, l.kind, l.name, coalesce(f.code, ''),"
	" coalesce(f.props->>'名称', f.props->>'name', f.props->>'NAME', f.code, ''),"
	" ST_AsBinary(f.geom)"
	" FROM features f JOIN layers l ON f.layer_version_id = l.current_version_id"
	" WHERE l.kind IN ('mining_zone', 'parking', 'no_mining', 'protection')"
	" ORDER BY f.id";

static int kind_of_layer(const char *k)
{
	if (!strcmp(k, "mining_zone"))
		return GF_MINING;
	if (!strcmp(k, "parking"))
		return GF_PARKING;
	if (!strcmp(k, "no_mining"))
		return GF_NO_MINING;
	if (!strcmp(k, "protection"))
		return GF_PROTECTION;
	return 0;
}

static uint64_t be64(const char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | (uint8_t)p[i];
	return v;
}

/* Worker: reads the zones and builds the index there (j->ptr). */
static void run_zones(PGconn *c, struct db_job *j)
{
	PGresult *r = PQexecParams(c, zones_sql, 0, NULL, NULL, NULL, NULL, 1);
	struct gf_builder *b;
	int i, n, skipped = 0;
	char err[256];

	j->status = -1;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_warn("alerts: cannot read the zones: %s", PQresultErrorMessage(r));
		PQclear(r);
		return;
	}
	b = gf_builder_new();
	n = PQntuples(r);
	for (i = 0; b && i < n; i++) {
		struct gf_zone z;
		uint32_t lid;

		memset(&z, 0, sizeof(z));
		z.feature_id = (int64_t)be64(PQgetvalue(r, i, 0));
		memcpy(&lid, PQgetvalue(r, i, 1), 4);
		z.layer_id = (int32_t)ntohl(lid);
		z.kind = kind_of_layer(PQgetvalue(r, i, 2));
		z.layer = PQgetvalue(r, i, 3);
		z.code = PQgetlength(r, i, 4) ? PQgetvalue(r, i, 4) : NULL;
		z.name = PQgetlength(r, i, 5) ? PQgetvalue(r, i, 5) : NULL;
		if (gf_builder_add(b, &z, (const uint8_t *)PQgetvalue(r, i, 6),
				   (size_t)PQgetlength(r, i, 6), POINT_RADIUS_M, err, sizeof(err))) {
			if (skipped++ < 10)
				log_warn("alerts: zone %s feature %lld left out: %s", z.layer,
					 (long long)z.feature_id, err);
		}
	}
	PQclear(r);
	if (!b)
		return;
	j->ptr = gf_build(b);
	j->iarg[0] = n - skipped;
	j->status = j->ptr ? 0 : -1;
}

static void zones_load(struct alerts *a);

static void done_zones(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct alerts *a = A(s);
	struct gf_index *ix = j->ptr;

	j->ptr = NULL;
	if (!a) {
		gf_unref(ix);
		return;
	}
	a->index_pending = 0;
	if (ix) {
		rules_set_index(a->rules, ix);
		gf_unref(ix);
		log_info("alerts: zone index of %lld zones in use", j->iarg[0]);
	}
	if (a->index_again || !ix) {
		a->index_again = 0;
		if (ix)
			zones_load(a);
		/* a failed read is retried by the next layer change or refresh */
	}
}

static void zones_load(struct alerts *a)
{
	struct db_job *j;

	if (a->index_pending) {
		a->index_again = 1;
		return;
	}
	j = db_job_new(run_zones, done_zones, 0);
	if (!j)
		return;
	a->index_pending = 1;
	db_submit(a->s->db, j);
}

void alerts_layer_changed(struct sw_server *s, const char *kind)
{
	if (A(s) && (!kind || kind_of_layer(kind)))
		zones_load(A(s));
}

/* ----------------------------------------- permits, seasons, vessels */

struct refresh_data {
	struct rules_permit *permits;
	size_t npermits;
	struct rules_season *seasons;
	size_t nseasons;
	int32_t *vessel_ids;
	int *vessel_kinds;
	char **vessel_names;
	size_t nvessels;
};

static int vessel_kind(const char *k)
{
	if (!strcmp(k, "sand_mining"))
		return VK_SAND_MINING;
	if (!strcmp(k, "sand_transport"))
		return VK_SAND_TRANSPORT;
	return VK_OTHER;
}

static void refresh_data_clear(struct refresh_data *d)
{
	size_t i;

	for (i = 0; d->vessel_names && i < d->nvessels; i++)
		free(d->vessel_names[i]);
	free(d->vessel_names);
	free(d->permits);
	free(d->seasons);
	free(d->vessel_ids);
	free(d->vessel_kinds);
	memset(d, 0, sizeof(*d));
}

static void refresh_data_free(struct refresh_data *d)
{
	if (!d)
		return;
	refresh_data_clear(d);
	free(d);
}

/* Reads the three tables into d; 0 or -1. */
static int refresh_read(PGconn *c, struct refresh_data *d)
{
	PGresult *r;
	int i, n;

	/* dates as days since 1970-01-01, hours as minutes of the day */
	r = PQexec(c, "SELECT id, vessel_id, number, zone_layer, zone_code,"
		      " valid_from - date '1970-01-01', valid_to - date '1970-01-01',"
		      " coalesce(extract(hour from hours_from) * 60 + extract(minute from hours_from), -1),"
		      " coalesce(extract(hour from hours_to) * 60 + extract(minute from hours_to), -1)"
		      " FROM permits ORDER BY id");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		goto fail;
	n = PQntuples(r);
	d->permits = calloc((size_t)n + 1, sizeof(*d->permits));
	if (!d->permits)
		goto fail;
	for (i = 0; i < n; i++) {
		struct rules_permit *p = &d->permits[i];

		p->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		p->vessel_id = (int32_t)atoi(PQgetvalue(r, i, 1));
		snprintf(p->number, sizeof(p->number), "%s", PQgetvalue(r, i, 2));
		snprintf(p->zone_layer, sizeof(p->zone_layer), "%s", PQgetvalue(r, i, 3));
		snprintf(p->zone_code, sizeof(p->zone_code), "%s", PQgetvalue(r, i, 4));
		p->valid_from_day = atoi(PQgetvalue(r, i, 5));
		p->valid_to_day = atoi(PQgetvalue(r, i, 6));
		p->hours_from_min = (int16_t)atoi(PQgetvalue(r, i, 7));
		p->hours_to_min = (int16_t)atoi(PQgetvalue(r, i, 8));
	}
	d->npermits = (size_t)n;
	PQclear(r);

	r = PQexec(c, "SELECT id, name, zone_layer, coalesce(zone_code, ''),"
		      " date_from - date '1970-01-01', date_to - date '1970-01-01', yearly"
		      " FROM closed_seasons ORDER BY id");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		goto fail;
	n = PQntuples(r);
	d->seasons = calloc((size_t)n + 1, sizeof(*d->seasons));
	if (!d->seasons)
		goto fail;
	for (i = 0; i < n; i++) {
		struct rules_season *z = &d->seasons[i];

		z->id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		snprintf(z->name, sizeof(z->name), "%s", PQgetvalue(r, i, 1));
		snprintf(z->zone_layer, sizeof(z->zone_layer), "%s", PQgetvalue(r, i, 2));
		snprintf(z->zone_code, sizeof(z->zone_code), "%s", PQgetvalue(r, i, 3));
		z->from_day = atoi(PQgetvalue(r, i, 4));
		z->to_day = atoi(PQgetvalue(r, i, 5));
		z->yearly = PQgetvalue(r, i, 6)[0] == 't';
	}
	d->nseasons = (size_t)n;
	PQclear(r);

	/* retired, seized and suspended vessels are not expected to work */
	r = PQexec(c, "SELECT id, CASE WHEN status = 'active' THEN kind ELSE 'other' END, name"
		      " FROM vessels ORDER BY id");
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		goto fail;
	n = PQntuples(r);
	d->vessel_ids = calloc((size_t)n + 1, sizeof(*d->vessel_ids));
	d->vessel_kinds = calloc((size_t)n + 1, sizeof(*d->vessel_kinds));
	d->vessel_names = calloc((size_t)n + 1, sizeof(*d->vessel_names));
	if (!d->vessel_ids || !d->vessel_kinds || !d->vessel_names)
		goto fail;
	d->nvessels = (size_t)n;
	for (i = 0; i < n; i++) {
		d->vessel_ids[i] = (int32_t)atoi(PQgetvalue(r, i, 0));
		d->vessel_kinds[i] = vessel_kind(PQgetvalue(r, i, 1));
		d->vessel_names[i] = strdup(PQgetvalue(r, i, 2));
	}
	d->nvessels = (size_t)n;
	PQclear(r);
	return 0;
fail:
	log_warn("alerts: cannot read permits, seasons or vessels: %s", PQerrorMessage(c));
	PQclear(r);
	return -1;
}

static void refresh_apply(struct alerts *a, const struct refresh_data *d)
{
	size_t i;

	for (i = 0; i < d->nvessels; i++) {
		char *old = idmap_get(&a->names, (uint64_t)d->vessel_ids[i]);

		rules_set_vessel(a->rules, d->vessel_ids[i], d->vessel_kinds[i]);
		if (d->vessel_names[i] && (!old || strcmp(old, d->vessel_names[i]))) {
			char *name = strdup(d->vessel_names[i]);

			if (name && idmap_put(&a->names, (uint64_t)d->vessel_ids[i], name))
				free(old);
			else
				free(name);
		}
	}
	rules_set_permits(a->rules, d->permits, d->npermits);
	rules_set_seasons(a->rules, d->seasons, d->nseasons);
}

static void run_refresh(PGconn *c, struct db_job *j)
{
	struct refresh_data *d = calloc(1, sizeof(*d));

	j->status = -1;
	if (!d)
		return;
	if (refresh_read(c, d)) {
		refresh_data_free(d);
		return;
	}
	j->ptr = d;
	j->status = 0;
}

static void done_refresh(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct alerts *a = A(s);
	struct refresh_data *d = j->ptr;

	j->ptr = NULL;
	if (a) {
		a->refresh_pending = 0;
		if (d)
			refresh_apply(a, d);
		if (a->refresh_again) {
			a->refresh_again = 0;
			alerts_refresh(s);
		}
	}
	refresh_data_free(d);
}

void alerts_refresh(struct sw_server *s)
{
	struct alerts *a = A(s);
	struct db_job *j;

	if (!a)
		return;
	if (a->refresh_pending) {
		a->refresh_again = 1;
		return;
	}
	j = db_job_new(run_refresh, done_refresh, 0);
	if (!j)
		return;
	a->refresh_pending = 1;
	a->next_refresh_ms = sw_now_ms() + (int64_t)s->cfg->permits_refresh_s * 1000;
	db_submit(s->db, j);
}

/* ------------------------------------------------------------ feeding */

void alerts_positions(struct sw_server *s, const struct sw_position *p, size_t n)
{
	struct alerts *a = A(s);
	struct rules_input in;
	size_t i;

	if (!a)
		return;
	for (i = 0; i < n; i++) {
		in.vessel_id = p[i].vessel_id;
		in.t_ms = p[i].device_time_ms;
		in.recv_ms = p[i].recv_time_ms;
		in.lon = p[i].lon;
		in.lat = p[i].lat;
		in.speed_kn = p[i].speed_kn;
		in.course = p[i].course;
		in.fix_valid = p[i].fix_valid;
		in.blind = p[i].blind;
		in.alarm_bits = p[i].alarm_bits;
		a->cur_recv_ms = p[i].recv_time_ms;
		rules_position(a->rules, &in);
	}
	/* late fixes of this batch are re-evaluated now, not at the next tick */
	rules_flush(a->rules);
	a->cur_recv_ms = 0;
}

void alerts_unregistered(struct sw_server *s, const char *protocol, const char *identity)
{
	if (A(s))
		rules_unregistered(A(s)->rules, protocol, identity, sw_now_ms());
}

/* Every second: the wall-clock rules, retries, the periodic refresh. */
static void tick(lws_sorted_usec_list_t *sul)
{
	struct alerts *a = lws_container_of(sul, struct alerts, sul);
	int64_t now = sw_now_ms();

	rules_tick(a->rules, now);
	if (now >= a->next_refresh_ms)
		alerts_refresh(a->s);
	ids_refill(a);
	writer_kick(a);
	if (a->s->ctx)
		lws_sul_schedule(a->s->ctx, 0, &a->sul, tick, LWS_US_PER_SEC);
}

/* ------------------------------------------------------------ start/stop */

static void maps_free(struct alerts *a)
{
	size_t i;

	for (i = 0; i < a->names.cap; i++)
		if (a->names.vals && a->names.vals[i])
			free(a->names.vals[i]);
	for (i = 0; i < a->acked.cap; i++)
		if (a->acked.vals && a->acked.vals[i])
			json_decref(a->acked.vals[i]);
	idmap_free(&a->names);
	idmap_free(&a->acked);
}

/* Seeds what a restart must not forget: open alerts and last reports. */
static int seed(struct alerts *a, PGconn *c, char *err, size_t errlen)
{
	PGresult *r;
	int i, n;

	r = PQexec(c, "SELECT id, coalesce(vessel_id, 0), kind, subject, coalesce(permit, ''),"
		      " severity, late, extract(epoch from opened_at) * 1000,"
		      " extract(epoch from updated_at) * 1000, coalesce(ST_X(geom), 0),"
		      " coalesce(ST_Y(geom), 0), detail::text"
		      " FROM alerts WHERE closed_at IS NULL ORDER BY id");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "reading open alerts: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	n = PQntuples(r);
	for (i = 0; i < n; i++) {
		struct rules_alert ra;

		memset(&ra, 0, sizeof(ra));
		ra.id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		ra.vessel_id = (int32_t)atoi(PQgetvalue(r, i, 1));
		ra.kind = rules_kind_parse(PQgetvalue(r, i, 2));
		if (ra.kind < 0)
			continue;
		snprintf(ra.subject, sizeof(ra.subject), "%s", PQgetvalue(r, i, 3));
		snprintf(ra.permit, sizeof(ra.permit), "%s", PQgetvalue(r, i, 4));
		ra.severity = atoi(PQgetvalue(r, i, 5));
		ra.late = PQgetvalue(r, i, 6)[0] == 't';
		ra.opened_ms = (int64_t)strtod(PQgetvalue(r, i, 7), NULL);
		ra.updated_ms = (int64_t)strtod(PQgetvalue(r, i, 8), NULL);
		ra.lon = strtod(PQgetvalue(r, i, 9), NULL);
		ra.lat = strtod(PQgetvalue(r, i, 10), NULL);
		snprintf(ra.detail, sizeof(ra.detail), "%s", PQgetvalue(r, i, 11));
		ra.open = 1;
		rules_seed_alert(a->rules, &ra);
	}
	PQclear(r);
	r = PQexec(c, "SELECT id, jsonb_build_object('by', ack_by, 'at', sw_iso(ack_at), 'note',"
		      " ack_note)::text FROM alerts WHERE closed_at IS NULL AND ack_at IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "reading acknowledgements: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	for (i = 0; i < PQntuples(r); i++) {
		json_t *ack = json_loads(PQgetvalue(r, i, 1), 0, NULL);

		if (ack && !idmap_put(&a->acked, (uint64_t)strtoll(PQgetvalue(r, i, 0), NULL, 10), ack))
			json_decref(ack);
	}
	PQclear(r);
	r = PQexec(c, "SELECT id, extract(epoch from coalesce(last_recv, last_time)) * 1000,"
		      " ST_X(last_geom), ST_Y(last_geom) FROM vessels"
		      " WHERE last_geom IS NOT NULL AND coalesce(last_recv, last_time) IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "reading last reports: %s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	n = PQntuples(r);
	for (i = 0; i < n; i++)
		rules_seed_seen(a->rules, (int32_t)atoi(PQgetvalue(r, i, 0)),
				(int64_t)strtod(PQgetvalue(r, i, 1), NULL),
				strtod(PQgetvalue(r, i, 2), NULL), strtod(PQgetvalue(r, i, 3), NULL));
	PQclear(r);
	return 0;
}

int alerts_start(struct sw_server *s, char *err, size_t errlen)
{
	struct alerts *a = calloc(1, sizeof(*a));
	struct refresh_data d;
	struct db_job zj;
	PGconn *c = NULL;
	PGresult *r;

	if (!a || !(a->queue = json_array())) {
		free(a);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->s = s;
	a->acks_tail = &a->acks;
	idmap_init(&a->names);
	idmap_init(&a->acked);
	a->rules = rules_new(&s->cfg->rules, sink, a);
	c = a->rules ? db_connect_blocking(s->cfg->db, err, errlen) : NULL;
	if (!c)
		goto fail;
	r = PQexec(c, ids_sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || take_ids(a, r)) {
		snprintf(err, errlen, "reserving alert ids: %s", PQresultErrorMessage(r));
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	memset(&d, 0, sizeof(d));
	if (refresh_read(c, &d)) {
		snprintf(err, errlen, "reading permits: %s", PQerrorMessage(c));
		goto fail_d;
	}
	refresh_apply(a, &d);
	memset(&zj, 0, sizeof(zj));
	run_zones(c, &zj);
	if (zj.status) {
		snprintf(err, errlen, "reading the zones: %s", PQerrorMessage(c));
		goto fail_d;
	}
	rules_set_index(a->rules, zj.ptr);
	gf_unref(zj.ptr);
	if (seed(a, c, err, errlen))
		goto fail_d;
	PQfinish(c);
	refresh_data_clear(&d);
	a->next_refresh_ms = sw_now_ms() + (int64_t)s->cfg->permits_refresh_s * 1000;
	s->alerts = a;
	log_info("alerts: rules engine running (%zu zones)", (size_t)zj.iarg[0]);
	return 0;
fail_d:
	refresh_data_clear(&d);
fail:
	if (c)
		PQfinish(c);
	rules_free(a->rules);
	json_decref(a->queue);
	maps_free(a);
	free(a->ids);
	free(a->seqs);
	free(a);
	return -1;
}

/* Starts the once-a-second tick; call once the lws context exists. */
void alerts_run(struct sw_server *s)
{
	struct alerts *a = A(s);

	if (a && s->ctx)
		lws_sul_schedule(s->ctx, 0, &a->sul, tick, LWS_US_PER_SEC);
}

void alerts_stop(struct sw_server *s)
{
	struct alerts *a = A(s);
	struct ack_req *k, *next;

	if (!a)
		return;
	s->alerts = NULL;
	/* the writer job (if any) has finished: db_stop ran before us. What
	 * is still queued is written now, with a connection of our own. */
	if (a->inflight) {
		json_array_extend(a->inflight, a->queue);
		json_decref(a->queue);
		a->queue = a->inflight;
		a->inflight = NULL;
	}
	if (json_array_size(a->queue)) {
		char err[256];
		PGconn *c = db_connect_blocking(s->cfg->db, err, sizeof(err));
		struct db_job j;

		memset(&j, 0, sizeof(j));
		j.arg = json_dumps(a->queue, JSON_COMPACT);
		if (c && j.arg)
			run_write(c, &j);
		if (j.status)
			log_error("alerts: %zu alert changes could not be stored at shutdown",
				  json_array_size(a->queue));
		free(j.arg);
		free(j.out);
		if (c)
			PQfinish(c);
	}
	for (k = a->acks; k; k = next) {
		next = k->next;
		free(k->note);
		free(k);
	}
	rules_free(a->rules);
	json_decref(a->queue);
	maps_free(a);
	free(a->ids);
	free(a->seqs);
	free(a);
}

/* ------------------------------------------------------------ fleet */

struct fleet_acc {
	json_t *vessels;
	json_int_t counts[RV_OFFLINE + 1];
	json_int_t alerting;
};

static void fleet_one(void *ctx, const struct rules_vessel_state *st)
{
	struct fleet_acc *f = ctx;
	json_t *o = json_pack("{s:i,s:s,s:b,s:o,s:o,s:s?}", "id", (int)st->vessel_id, "state",
			      rules_vstate_name(st->state), "alerting", st->alerting, "since",
			      iso(st->since_ms), "last_received", iso(st->last_recv_ms), "zone", st->zone);

	if (st->state >= 0 && st->state <= RV_OFFLINE)
		f->counts[st->state]++;
	if (st->alerting)
		f->alerting++;
	if (o)
		json_array_append_new(f->vessels, o);
}

json_t *alerts_fleet_json(struct sw_server *s)
{
	struct fleet_acc f;
	json_t *counts;
	int k;

	if (!A(s))
		return NULL;
	memset(&f, 0, sizeof(f));
	f.vessels = json_array();
	rules_fleet(A(s)->rules, sw_now_ms(), fleet_one, &f);
	counts = json_object();
	for (k = 0; k <= RV_OFFLINE; k++)
		json_object_set_new(counts, rules_vstate_name(k), json_integer(f.counts[k]));
	json_object_set_new(counts, "alerting", json_integer(f.alerting));
	return json_pack("{s:o,s:o}", "counts", counts, "vessels", f.vessels);
}
