/* registry.c -- identity lookups for the feeds, AIS vessels made on first sight, terminal events. */
#include "alerts.h"
#include "registry.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define MMSI_PENDING_MAX 32   /* positions held per MMSI while its vessel is looked up */

/* One MMSI the server has met: its vessel, or the positions waiting for it. */
struct mmsi_entry {
	uint32_t mmsi;            /* 0 = empty slot */
	int32_t vessel_id;        /* 0 while the lookup runs */
	int looking;
	size_t npending;
	struct sw_position *pending;
};

struct registry {
	struct sw_server *s;
	struct mmsi_entry *tab;   /* open addressing, never deleted from */
	size_t cap, used;
};

struct registry *registry_new(struct sw_server *s)
{
	struct registry *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->s = s;
	r->cap = 1024;
	r->tab = calloc(r->cap, sizeof(*r->tab));
	if (!r->tab) {
		free(r);
		return NULL;
	}
	return r;
}

void registry_free(struct registry *r)
{
	size_t i, k;

	if (!r)
		return;
	for (i = 0; i < r->cap; i++) {
		for (k = 0; k < r->tab[i].npending; k++)
			free(r->tab[i].pending[k].raw);
		free(r->tab[i].pending);
	}
	free(r->tab);
	free(r);
}

static size_t slot_of(uint32_t mmsi, size_t cap)
{
	uint64_t h = (uint64_t)mmsi * 0x9E3779B97F4A7C15ULL;

	return (size_t)(h >> 32) & (cap - 1);
}

static int grow(struct registry *r)
{
	size_t ncap = r->cap * 2, i;
	struct mmsi_entry *nt = calloc(ncap, sizeof(*nt));

	if (!nt)
		return -1;
	for (i = 0; i < r->cap; i++) {
		size_t j;

		if (!r->tab[i].mmsi)
			continue;
		j = slot_of(r->tab[i].mmsi, ncap);
		while (nt[j].mmsi)
			j = (j + 1) & (ncap - 1);
		nt[j] = r->tab[i];
	}
	free(r->tab);
	r->tab = nt;
	r->cap = ncap;
	return 0;
}

/* Finds or adds the entry of an MMSI; NULL on allocation failure. */
static struct mmsi_entry *entry_of(struct registry *r, uint32_t mmsi)
{
	size_t j;

	if ((r->used + 1) * 4 > r->cap * 3 && grow(r))
		return NULL;
	j = slot_of(mmsi, r->cap);
	while (r->tab[j].mmsi && r->tab[j].mmsi != mmsi)
		j = (j + 1) & (r->cap - 1);
	if (!r->tab[j].mmsi) {
		r->tab[j].mmsi = mmsi;
		r->used++;
	}
	return &r->tab[j];
}

/* ------------------------------------------------------- terminal events */

static void run_terminal_event(PGconn *c, struct db_job *j)
{
	json_t *o = json_loads(j->arg, 0, NULL);
	const char *params[5];
	PGresult *r;

	if (!o)
		return;
	params[0] = json_string_value(json_object_get(o, "protocol"));
	params[1] = json_string_value(json_object_get(o, "identity"));
	params[2] = json_string_value(json_object_get(o, "peer"));
	params[3] = json_string_value(json_object_get(o, "event"));
	params[4] = json_string_value(json_object_get(o, "detail"));
	r = PQexecParams(c, "INSERT INTO terminal_events (protocol, identity, peer, event, detail) "
			    "VALUES ($1, $2, $3, $4, $5)", 5, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		log_error("registry: cannot record a terminal event: %s", PQresultErrorMessage(r));
	PQclear(r);
	json_decref(o);
}

void registry_terminal_event(struct sw_server *s, const char *protocol, const char *identity,
			     const char *peer, const char *event, const char *detail)
{
	json_t *o = json_pack("{s:s,s:s,s:s?,s:s,s:s?}", "protocol", protocol, "identity", identity,
			      "peer", peer, "event", event, "detail", detail);
	struct db_job *j = o ? db_job_new(run_terminal_event, NULL, 0) : NULL;

	if (!strcmp(event, "unregistered"))
		alerts_unregistered(s, protocol, identity);
	if (j && (j->arg = json_dumps(o, JSON_COMPACT)))
		db_submit(s->db, j);
	else
		db_job_free(j);
	json_decref(o);
}

/* ------------------------------------------------------------------- AIS */

/* Finds the vessel of an MMSI, creating an `other` vessel on first sight. */
static void run_mmsi_vessel(PGconn *c, struct db_job *j)
{
	char mmsi[16], name[32];
	const char *params[2] = { mmsi, name };
	PGresult *r;
	int attempt;

	snprintf(mmsi, sizeof(mmsi), "%lld", j->iarg[0]);
	snprintf(name, sizeof(name), "MMSI %lld", j->iarg[0]);
	j->status = -1;
	/* a second attempt sees a row that another worker inserted while the
	 * first statement ran (its snapshot could not) */
	for (attempt = 0; attempt < 3 && j->status; attempt++) {
		r = PQexecParams(c,
			"WITH ins AS (INSERT INTO vessels (name, kind, mmsi, auto_created)"
			"   VALUES ($2, 'other', $1::bigint, true)"
			"   ON CONFLICT (mmsi) DO NOTHING RETURNING id)"
			" SELECT id FROM ins UNION ALL SELECT id FROM vessels WHERE mmsi = $1::bigint LIMIT 1",
			2, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) >= 1) {
			j->iarg[1] = atoll(PQgetvalue(r, 0, 0));
			j->status = 0;
		} else if (PQresultStatus(r) != PGRES_TUPLES_OK) {
			log_error("registry: MMSI %s: %s", mmsi, PQresultErrorMessage(r));
		}
		PQclear(r);
	}
}

static void done_mmsi_vessel(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct mmsi_entry *e = entry_of(s->registry, (uint32_t)j->iarg[0]);
	size_t k;

	if (!e)
		return;
	e->looking = 0;
	if (j->status == 0)
		e->vessel_id = (int32_t)j->iarg[1];
	for (k = 0; k < e->npending; k++) {
		e->pending[k].vessel_id = e->vessel_id;
		if (e->vessel_id)
			ingest_positions(s, &e->pending[k], 1, NULL);
		else
			free(e->pending[k].raw);
	}
	free(e->pending);
	e->pending = NULL;
	e->npending = 0;
}

void registry_ais_position(struct sw_server *s, uint32_t mmsi, struct sw_position *p)
{
	struct mmsi_entry *e = entry_of(s->registry, mmsi);
	struct db_job *j;

	if (!e) {
		free(p->raw);
		return;
	}
	if (e->vessel_id) {
		p->vessel_id = e->vessel_id;
		ingest_positions(s, p, 1, NULL);
		return;
	}
	if (e->npending == MMSI_PENDING_MAX) {
		/* the database is slow to answer: keep the newest, drop the oldest */
		free(e->pending[0].raw);
		memmove(e->pending, e->pending + 1, (e->npending - 1) * sizeof(*e->pending));
		e->npending--;
	}
	if (!e->pending && !(e->pending = calloc(MMSI_PENDING_MAX, sizeof(*e->pending)))) {
		free(p->raw);
		return;
	}
	e->pending[e->npending++] = *p;
	if (e->looking)
		return;
	j = db_job_new(run_mmsi_vessel, done_mmsi_vessel, 0);
	if (!j)
		return;
	j->iarg[0] = mmsi;
	e->looking = 1;
	db_submit(s->db, j);
}

static void run_ais_static(PGconn *c, struct db_job *j)
{
	char mmsi[16];
	const char *params[2] = { mmsi, j->arg };
	PGresult *r;

	snprintf(mmsi, sizeof(mmsi), "%lld", j->iarg[0]);
	/* creates the vessel if the static report comes before any position
	 * (a separate statement: an UPDATE does not see rows its own WITH
	 * inserted); an auto-created vessel takes its AIS name as its name */
	r = PQexecParams(c,
		"INSERT INTO vessels (name, kind, mmsi, auto_created)"
		" VALUES (coalesce(nullif($2::jsonb->>'name', ''), 'MMSI ' || $1), 'other', $1::bigint, true)"
		" ON CONFLICT (mmsi) DO NOTHING",
		2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		log_error("registry: AIS vessel %s: %s", mmsi, PQresultErrorMessage(r));
	PQclear(r);
	r = PQexecParams(c,
		"WITH d AS (SELECT $2::jsonb AS d)"
		" UPDATE vessels v SET"
		"  ais_name = coalesce(d->>'name', ais_name),"
		"  name = CASE WHEN v.auto_created AND d ? 'name' AND d->>'name' <> '' THEN d->>'name' ELSE v.name END,"
		"  callsign = coalesce(d->>'callsign', callsign),"
		"  ship_type = coalesce((d->>'ship_type')::smallint, ship_type),"
		"  length_m = coalesce((d->>'length_m')::real, length_m),"
		"  beam_m = coalesce((d->>'beam_m')::real, beam_m),"
		"  imo = coalesce(nullif((d->>'imo')::bigint, 0), imo),"
		"  destination = coalesce(d->>'destination', destination),"
		"  ais_class = coalesce(d->>'class', ais_class),"
		"  static_updated_at = now()"
		" FROM d WHERE v.mmsi = $1::bigint",
		2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		log_error("registry: AIS static data for %s: %s", mmsi, PQresultErrorMessage(r));
	PQclear(r);
}

void registry_ais_static(struct sw_server *s, uint32_t mmsi, const struct vessel_static *st)
{
	json_t *o = json_object();
	struct db_job *j;

	if (!o)
		return;
	if (st->has_name)
		json_object_set_new(o, "name", json_string(st->name));
	if (st->has_callsign)
		json_object_set_new(o, "callsign", json_string(st->callsign));
	if (st->has_destination)
		json_object_set_new(o, "destination", json_string(st->destination));
	if (st->has_ship_type)
		json_object_set_new(o, "ship_type", json_integer(st->ship_type));
	if (st->has_dims) {
		json_object_set_new(o, "length_m", json_real(st->length_m));
		json_object_set_new(o, "beam_m", json_real(st->beam_m));
	}
	if (st->has_imo)
		json_object_set_new(o, "imo", json_integer(st->imo));
	if (st->ais_class)
		json_object_set_new(o, "class", json_stringn(&st->ais_class, 1));
	j = db_job_new(run_ais_static, NULL, 0);
	if (j && (j->arg = json_dumps(o, JSON_COMPACT))) {
		j->iarg[0] = mmsi;
		db_submit(s->db, j);
	} else {
		db_job_free(j);
	}
	json_decref(o);
}

/* --------------------------------------------------------------- lookups */

static void run_identity(PGconn *c, struct db_job *j)
{
	const char *params[1] = { j->arg };
	PGresult *r = PQexecParams(c,
		"SELECT id FROM vessels WHERE status <> 'retired' AND (terminal = ltrim($1, '0')"
		" OR (length($1) = 9 AND $1 ~ '^[0-9]+$' AND mmsi = $1::bigint)) ORDER BY id LIMIT 1",
		1, NULL, params, NULL, NULL, 0);

	j->iarg[1] = 0;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		j->iarg[1] = atoll(PQgetvalue(r, 0, 0));
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		log_error("registry: lookup of %s: %s", j->arg, PQresultErrorMessage(r));
	PQclear(r);
}

static void done_identity(struct db_job *j, void *ctx)
{
	registry_lookup_cb cb;

	memcpy(&cb, &j->iarg[2], sizeof(cb));
	cb(ctx, j->owner, (int32_t)j->iarg[1]);
}

void registry_lookup_identity(struct sw_server *s, const char *identity, uint64_t owner,
			      registry_lookup_cb cb)
{
	struct db_job *j = db_job_new(run_identity, done_identity, owner);

	if (!j || !(j->arg = strdup(identity))) {
		db_job_free(j);
		cb(s, owner, 0);
		return;
	}
	memcpy(&j->iarg[2], &cb, sizeof(cb));
	db_submit(s->db, j);
}
