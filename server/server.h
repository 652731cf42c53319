/* server.h -- the running server's shared state (service thread unless noted). */
#ifndef SW_SERVER_H
#define SW_SERVER_H

#include <signal.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "db.h"
#include "idmap.h"

struct lws_context;
struct lws_vhost;
struct live;
struct registry;
struct tile_cache;
struct alerts;

struct sw_server {
	const struct sw_config *cfg;  /* borrowed */
	struct lws_context *ctx;
	struct lws_vhost *http_vh;
	struct lws_vhost *jt808_vh;
	struct lws_vhost *nmea_vh;
	struct lws_vhost *ais_vh;
	struct db *db;
	struct live *live;
	struct registry *registry;
	struct tile_cache *tiles;     /* encoded vector tiles (api_tiles.c) */
	struct alerts *alerts;        /* the rules engine and its writer (alerts.c) */
	struct idmap conns;           /* async results -> waiting connection */
	uint8_t key[AUTH_KEY_LEN];    /* token and terminal-code key (read-only) */
	char pg_version[160];
	char postgis_version[64];
	volatile sig_atomic_t stop;
	/* fingerprints of recent positions, to drop exact duplicates
	 * (retransmissions): a lossy set, 2^DEDUPE_BITS entries */
	uint64_t *seen;
	/* counters */
	uint64_t positions_accepted;
	uint64_t positions_duplicate;
	uint64_t positions_rejected;
	uint64_t jt808_frames;
	uint64_t jt808_bad_frames;
	int jt808_connections;
};

/* Milliseconds since the epoch (UTC). */
int64_t sw_now_ms(void);
/* Formats UTC ms as ISO-8601 with the +08:00 offset (China Standard Time,
 * no daylight saving). Returns the length. */
int sw_iso_time(int64_t ms, char *buf, size_t len);

/* ingest.c: the reason given for an exact duplicate (compare by pointer). */
extern const char ingest_duplicate[];
/* Validates and de-duplicates p[0..n), compacting the kept ones to the
 * front (their raw is kept; a dropped one's raw is freed). why[i] (if not
 * NULL) gets NULL for a kept position, else the reason for the i-th input.
 * Returns the number kept. */
size_t ingest_filter(struct sw_server *s, struct sw_position *p, size_t n, const char **why);
/* Queues filtered positions for the writer (ownership of raw passes).
 * 0, or -1 when the write queue is full (the positions are dropped). */
int ingest_queue(struct sw_server *s, struct sw_position *p, size_t n);
/* ingest.c: validates positions from any feed and queues them for writing.
 * Takes ownership of each raw. Returns the number accepted; *reason gets a
 * static text for the first rejected one (may be NULL). */
size_t ingest_positions(struct sw_server *s, struct sw_position *p, size_t n,
			const char **reason);
#define DEDUPE_BITS 20

/* Allocates the duplicate filter. 0 or -1. */
int ingest_init(struct sw_server *s);
void ingest_free(struct sw_server *s);
/* 1 if this exact position (vessel, device time, coordinates) was seen
 * recently; otherwise remembers it and returns 0. */
int ingest_seen(struct sw_server *s, const struct sw_position *p);
/* Validates one position; NULL if acceptable, else a static reason. */
const char *ingest_check(const struct sw_server *s, const struct sw_position *p, int64_t now_ms);
/* db committed callback: publishes live position events. */
void ingest_committed(const struct sw_position *p, size_t n, void *ctx);

/* live.c: the WebSocket live feed. */
struct live *live_new(struct sw_server *s, size_t ring);
void live_free(struct live *l);
/* Publishes one JSON text event (copied) to every client. */
void live_publish(struct live *l, const char *json, size_t len);
/* The same for an alert event numbered `seq` (alert_events.seq): a client
 * that connected with ?since=N and got the events up to M from the database
 * is not sent those again. */
void live_publish_seq(struct live *l, const char *json, size_t len, uint64_t seq);
extern const struct lws_protocols live_protocol;

/* api_tiles.c: the tile cache (service thread), made at start-up. */
struct tile_cache *tiles_new(void);
void tiles_free(struct sw_server *s);

/* http.c */
extern const struct lws_protocols http_protocol;
extern const struct lws_http_mount *http_mounts(struct sw_server *s);

/* jt808_listen.c, nmea_listen.c, ais_listen.c */
extern const struct lws_protocols jt808_protocol;
extern const struct lws_protocols nmea_protocol;
extern const struct lws_protocols ais_protocol;

#endif
