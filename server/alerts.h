/* alerts.h -- the rules engine inside the server (service thread).
 *
 * Zones come from the current versions of the mining_zone, parking, no_mining
 * and protection layers (rebuilt off the service thread when a layer gets a
 * new version, then swapped in); permits, closed seasons and vessel kinds
 * from their tables (re-read after a change through the API and every
 * permits_refresh_s). Committed positions go through the engine; every alert
 * change is written to PostGIS (alerts + a numbered alert_events row) by one
 * writer job at a time, then published on the live feed with its number, in
 * order. Nothing is dropped while the database is away: unwritten changes
 * wait and are retried.
 */
#ifndef SW_ALERTS_H
#define SW_ALERTS_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"

struct sw_server;
struct http_req;

/* Blocking start-up (before serving): reserves alert ids, seeds open alerts
 * and last reports, loads zones, permits, seasons and vessels. 0 or -1 with
 * a message in err. */
int alerts_start(struct sw_server *s, char *err, size_t errlen);
/* Starts the once-a-second tick (offline vessels, retries, refresh); call
 * once the lws context exists. */
void alerts_run(struct sw_server *s);
/* Writes what is still queued (blocking) and frees everything. */
void alerts_stop(struct sw_server *s);

/* Committed positions (from ingest_committed). */
void alerts_positions(struct sw_server *s, const struct sw_position *p, size_t n);
/* An unknown terminal tried to register or report. */
void alerts_unregistered(struct sw_server *s, const char *protocol, const char *identity);
/* A layer of this kind got a new version: rebuild the zone index if it
 * matters. */
void alerts_layer_changed(struct sw_server *s, const char *kind);
/* Permits, seasons or vessels changed: re-read them. */
void alerts_refresh(struct sw_server *s);
/* A done callback for HTTP jobs that change permits, seasons or vessels:
 * refreshes the engine after a success, then answers. */
void alerts_job_done_refresh(struct db_job *j, void *ctx);
/* GET /api/fleet: {"counts":{state: n, ..., "alerting": n},"vessels":[{"id",
 * "state","alerting","since","last_received","zone"}]} from the engine's
 * per-vessel state (no database); NULL when the engine is not running. */
json_t *alerts_fleet_json(struct sw_server *s);
/* POST /api/alerts/{id}/ack: answered once the acknowledgement is stored
 * and published. */
void alerts_ack(struct sw_server *s, struct http_req *r, int64_t id, const char *note);

#endif
