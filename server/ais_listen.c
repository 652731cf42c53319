/* ais_listen.c -- the AIS listener: AIVDM/AIVDO lines over TCP and UDP into the pipeline and the registry.
 *
 * Each TCP connection, and each UDP sender, has its own line splitter and
 * fragment assembler. Positions go to the MMSI's vessel (made as an `other`
 * vessel on first sight); static and voyage data (types 5, 19, 24) are kept
 * on the vessel. Service thread only.
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ais.h"
#include "log.h"
#include "nmea.h"
#include "registry.h"
#include "server.h"

#define AIS_BAD_MAX 32        /* bad lines, with no good one, before a TCP peer is cut */
#define AIS_UDP_PEERS 64      /* UDP senders with their own assembler */

struct ais_source {
	struct nmea_liner liner;   /* splits lines (any NMEA-style stream) */
	struct ais_assembler as;
	uint64_t good, bad;
};

struct ais_udp_peer {
	struct sockaddr_storage sa;
	socklen_t salen;
	int64_t last_ms;
	struct ais_source src;
};

struct ais_conn {
	struct ais_source src;     /* TCP */
	struct ais_udp_peer *peers; /* UDP: the listening socket's senders */
	int udp;
	int closing;
	char peer[64];
};

static void ais_message(struct sw_server *s, const struct ais_msg *m, const struct ais_bits *b,
			const char *line, size_t len, int64_t recv_ms)
{
	int64_t base = b->has_tag_time ? b->tag_time * 1000 : recv_ms;

	if ((m->type >= 1 && m->type <= 3) || m->type == 18 || m->type == 19) {
		struct sw_position p;

		if (!m->has_position)
			goto statics; /* "not available" never becomes a coordinate */
		memset(&p, 0, sizeof(p));
		p.device_time_ms = ais_time_ms(base, m->second);
		p.recv_time_ms = recv_ms;
		p.lat = m->lat;
		p.lon = m->lon;
		p.speed_kn = m->has_sog ? (float)m->sog_kn : 0;
		p.course = m->has_cog ? (float)m->cog : 0;
		p.fix_valid = 1;
		p.protocol = POS_AIS;
		p.status_bits = (uint32_t)m->nav_status;
		p.raw = strndup(line, len);
		registry_ais_position(s, m->mmsi, &p);
	}
statics:
	if (m->type == 5 || m->type == 19 || m->type == 24) {
		struct vessel_static st;

		memset(&st, 0, sizeof(st));
		st.ais_class = m->type == 5 ? 'A' : 'B';
		if (m->has_name) {
			const char *nm = m->name;

			while (*nm == ' ')
				nm++; /* some transmitters pad the front */
			st.has_name = *nm != '\0';
			snprintf(st.name, sizeof(st.name), "%s", nm);
		}
		if (m->has_callsign) {
			st.has_callsign = 1;
			snprintf(st.callsign, sizeof(st.callsign), "%s", m->callsign);
		}
		if (m->has_ship_type) {
			st.has_ship_type = 1;
			st.ship_type = m->ship_type;
		}
		if (m->has_dims && !m->has_mothership) {
			st.has_dims = 1;
			st.length_m = m->to_bow + m->to_stern;
			st.beam_m = m->to_port + m->to_starboard;
		}
		if (m->type == 5) {
			if (m->imo) {
				st.has_imo = 1;
				st.imo = m->imo;
			}
			if (m->has_destination) {
				st.has_destination = 1;
				snprintf(st.destination, sizeof(st.destination), "%s", m->destination);
			}
		}
		if (st.has_name || st.has_callsign || st.has_ship_type || st.has_dims ||
		    st.has_imo || st.has_destination)
			registry_ais_static(s, m->mmsi, &st);
	}
}

/* Handles one line from a source; returns -1 when a TCP peer should be cut. */
static int ais_line(struct sw_server *s, struct ais_source *src, const char *line, size_t len,
		    int tcp, const char *peer)
{
	struct ais_sentence st;
	struct ais_bits b;
	struct ais_msg m;
	int64_t now = sw_now_ms();
	int rc = ais_parse_sentence(line, len, &st);

	if (rc == AIS_EIGNORED)
		return 0;
	if (rc < 0) {
		src->bad++;
		if (tcp && rc != AIS_ECHECKSUM && !src->good && src->bad > AIS_BAD_MAX) {
			log_warn("ais %s: %llu lines and none of them AIS, closing", peer,
				 (unsigned long long)src->bad);
			return -1;
		}
		return 0;
	}
	src->good++;
	rc = ais_assembler_feed(&src->as, &st, now, &b);
	if (rc != 1)
		return 0;
	rc = ais_decode(&b, &m);
	if (rc == AIS_OK)
		ais_message(s, &m, &b, line, len, now);
	return 0;
}

struct ais_push {
	struct sw_server *s;
	struct ais_source *src;
	int tcp;
	const char *peer;
	int cut;
};

static int on_line(void *user, const char *line, size_t len, int err)
{
	struct ais_push *ap = user;

	if (err) {
		ap->src->bad++;
		return 0;
	}
	if (ais_line(ap->s, ap->src, line, len, ap->tcp, ap->peer))
		ap->cut = 1;
	return ap->cut;
}

/* The source of a UDP datagram: its sender's slot (the least recently heard
 * is reused when all are taken). */
static struct ais_source *udp_source(struct ais_conn *c, const struct lws_udp *u)
{
	struct ais_udp_peer *best = NULL;
	int64_t now = sw_now_ms();
	size_t i;

	if (!c->peers && !(c->peers = calloc(AIS_UDP_PEERS, sizeof(*c->peers))))
		return NULL;
	for (i = 0; i < AIS_UDP_PEERS; i++) {
		struct ais_udp_peer *p = &c->peers[i];

		if (p->salen && p->salen == u->salen && !memcmp(&p->sa, &u->sa, u->salen)) {
			p->last_ms = now;
			return &p->src;
		}
		if (!best || p->last_ms < best->last_ms)
			best = p;
	}
	memset(best, 0, sizeof(*best));
	memcpy(&best->sa, &u->sa, u->salen < sizeof(best->sa) ? u->salen : sizeof(best->sa));
	best->salen = u->salen;
	best->last_ms = now;
	nmea_liner_init(&best->src.liner);
	ais_assembler_init(&best->src.as);
	return &best->src;
}

static int callback_ais(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			void *in, size_t len)
{
	struct ais_conn *c = user;
	struct sw_server *s = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		memset(c, 0, sizeof(*c));
		c->udp = lws_get_udp(wsi) != NULL;
		nmea_liner_init(&c->src.liner);
		ais_assembler_init(&c->src.as);
		if (c->udp)
			snprintf(c->peer, sizeof(c->peer), "udp");
		else
			lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
		break;

	case LWS_CALLBACK_RAW_RX: {
		struct ais_push ap = { s, &c->src, !c->udp, c->peer, 0 };

		if (c->closing)
			return -1;
		if (c->udp) {
			const struct lws_udp *u = lws_get_udp(wsi);

			ap.src = u ? udp_source(c, u) : NULL;
			if (!ap.src)
				break;
			/* a datagram holds whole lines, the last maybe without its LF */
			nmea_liner_push(&ap.src->liner, in, len, on_line, &ap);
			nmea_liner_flush(&ap.src->liner, on_line, &ap);
			break;
		}
		nmea_liner_push(&c->src.liner, in, len, on_line, &ap);
		if (ap.cut) {
			c->closing = 1;
			return -1;
		}
		break;
	}

	case LWS_CALLBACK_RAW_CLOSE:
		free(c->peers);
		c->peers = NULL;
		break;

	default:
		break;
	}
	return 0;
}

const struct lws_protocols ais_protocol = {
	"ais", callback_ais, sizeof(struct ais_conn), 0, 0, NULL, 0
};
