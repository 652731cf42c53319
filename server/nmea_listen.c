/* nmea_listen.c -- the NMEA 0183 TCP listener: $PSWID identification, RMC/GGA fixes into the pipeline.
 *
 * A connection first names its vessel with $PSWID,<terminal or MMSI>*hh;
 * the lookup runs on a database worker and the lines that arrive meanwhile
 * are held (bounded) and processed in order afterwards. Sentences before
 * any $PSWID have no vessel and are not stored. Service thread only.
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nmea.h"
#include "registry.h"
#include "server.h"

#define NMEA_HELD_MAX 64      /* lines held while $PSWID is looked up */
#define NMEA_BAD_MAX 32       /* bad lines, with no good one, before we hang up */

struct nmea_conn {
	uint64_t id;
	struct lws *wsi;
	struct nmea_liner liner;
	struct nmea_session sess;
	int32_t vessel_id;
	int identifying;
	int closing;
	char ident[NMEA_MAX_ID + 1];
	char *held_gga;            /* the line of the GGA the session holds */
	uint64_t good, bad, unnamed;
	size_t nheld;
	char *held[NMEA_HELD_MAX];
	char peer[64];
};

static void nmea_line(struct sw_server *s, struct nmea_conn *c, const char *line, size_t len);

static void identified(struct sw_server *s, uint64_t owner, int32_t vessel_id)
{
	struct nmea_conn *c = idmap_get(&s->conns, owner);
	size_t i, n;
	char *held[NMEA_HELD_MAX];

	if (!c)
		return;
	c->identifying = 0;
	if (!vessel_id) {
		log_info("nmea %s: $PSWID %s is not in the registry, closing", c->peer, c->ident);
		registry_terminal_event(s, "nmea", c->ident, c->peer, "unregistered",
					"$PSWID names no registered vessel");
		c->closing = 1;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	} else {
		c->vessel_id = vessel_id;
		log_info("nmea %s: %s identified as vessel %d", c->peer, c->ident, vessel_id);
	}
	n = c->nheld;
	memcpy(held, c->held, n * sizeof(*held));
	c->nheld = 0;
	for (i = 0; i < n; i++) {
		if (!c->closing && !c->identifying)
			nmea_line(s, c, held[i], strlen(held[i]));
		else if (c->identifying && c->nheld < NMEA_HELD_MAX) {
			c->held[c->nheld++] = held[i];
			continue;
		}
		free(held[i]);
	}
}

static void store_fix(struct sw_server *s, struct nmea_conn *c, const struct nmea_fix *f,
		      const char *line, size_t len)
{
	struct sw_position p;

	memset(&p, 0, sizeof(p));
	p.vessel_id = c->vessel_id;
	p.device_time_ms = f->time_ms;
	p.recv_time_ms = sw_now_ms();
	p.lat = f->lat;
	p.lon = f->lon;
	p.speed_kn = f->has_speed ? (float)f->speed_kn : 0;
	p.course = f->has_course ? (float)f->course : 0;
	p.altitude_m = f->has_altitude ? (float)f->altitude_m : 0;
	p.fix_valid = f->valid ? 1 : 0;
	p.protocol = POS_NMEA;
	p.raw = strndup(line, len);
	ingest_positions(s, &p, 1, NULL);
}

/* Handles one line of the stream. */
static void nmea_line(struct sw_server *s, struct nmea_conn *c, const char *line, size_t len)
{
	struct nmea_sentence st;
	struct nmea_fix f[NMEA_FIXES_MAX];
	int rc, i, n;

	if (c->identifying) {
		if (c->nheld == NMEA_HELD_MAX || !(c->held[c->nheld] = strndup(line, len))) {
			log_warn("nmea %s: too many lines while identifying, closing", c->peer);
			c->closing = 1;
			return;
		}
		c->nheld++;
		return;
	}
	rc = nmea_parse(line, len, &st);
	if (rc == NMEA_IGNORED) {
		c->good++;
		return;
	}
	if (rc < 0) {
		c->bad++;
		if (rc != NMEA_ECHECKSUM && !c->good && c->bad > NMEA_BAD_MAX) {
			log_warn("nmea %s: %llu lines and none of them NMEA, closing", c->peer,
				 (unsigned long long)c->bad);
			c->closing = 1;
		}
		return;
	}
	c->good++;
	if (st.type == NMEA_PSWID) {
		if (c->vessel_id && !strcmp(st.id, c->ident))
			return;
		snprintf(c->ident, sizeof(c->ident), "%s", st.id);
		c->vessel_id = 0;
		nmea_session_init(&c->sess);
		c->identifying = 1;
		registry_lookup_identity(s, st.id, c->id, identified);
		return;
	}
	if (!c->vessel_id) {
		if (!c->unnamed++)
			log_info("nmea %s: sentences before $PSWID are not stored", c->peer);
		return;
	}
	{
		int had = c->sess.have_pending;
		int64_t had_t = c->sess.pending.time_ms;

		n = nmea_session_feed(&c->sess, &st, f);
		for (i = 0; i < n; i++) {
			/* a released held GGA keeps its own sentence as evidence */
			int released = had && f[i].time_ms == had_t &&
				       (i + 1 < n || c->sess.have_pending || st.type == NMEA_GGA);

			if (released && c->held_gga)
				store_fix(s, c, &f[i], c->held_gga, strlen(c->held_gga));
			else
				store_fix(s, c, &f[i], line, len);
		}
		if (c->sess.have_pending && (!had || c->sess.pending.time_ms != had_t)) {
			free(c->held_gga);
			c->held_gga = strndup(line, len);
		}
	}
}

struct nmea_push {
	struct sw_server *s;
	struct nmea_conn *c;
};

static int on_line(void *user, const char *line, size_t len, int err)
{
	struct nmea_push *np = user;

	if (err) {
		np->c->bad++;
		return 0;
	}
	nmea_line(np->s, np->c, line, len);
	return np->c->closing;
}

static int callback_nmea(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	struct nmea_conn *c = user;
	struct sw_server *s = lws_context_user(lws_get_context(wsi));
	size_t i;

	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		memset(c, 0, sizeof(*c));
		c->wsi = wsi;
		c->id = idmap_add(&s->conns, c);
		nmea_liner_init(&c->liner);
		nmea_session_init(&c->sess);
		lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
		break;

	case LWS_CALLBACK_RAW_RX: {
		struct nmea_push np = { s, c };

		if (c->closing)
			return -1;
		nmea_liner_push(&c->liner, in, len, on_line, &np);
		if (c->closing)
			return -1;
		break;
	}

	case LWS_CALLBACK_RAW_CLOSE:
		if (c->id)
			idmap_del(&s->conns, c->id);
		c->id = 0;
		for (i = 0; i < c->nheld; i++)
			free(c->held[i]);
		c->nheld = 0;
		free(c->held_gga);
		c->held_gga = NULL;
		break;

	default:
		break;
	}
	return 0;
}

const struct lws_protocols nmea_protocol = {
	"nmea", callback_nmea, sizeof(struct nmea_conn), 0, 0, NULL, 0
};
