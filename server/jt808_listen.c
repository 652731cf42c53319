/* jt808_listen.c -- the JT/T 808 TCP listener: lws raw vhost glue, sessions and replies.
 *
 * Each connection owns a frame reassembler; each complete frame is decoded
 * and answered exactly as the standard says, in the terminal's own header
 * version with its exact phone bytes. Registration and authentication need
 * the vessel registry: that lookup runs on a database worker, and frames that
 * arrive meanwhile are held (a few) and processed in order afterwards.
 * Service thread only.
 */
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jt808.h"
#include "log.h"
#include "registry.h"
#include "server.h"

#define JT_OUT_MAX 65536     /* pending reply bytes before we hang up */
#define JT_OUT_PAUSE 16384   /* pending reply bytes above which we stop reading */
#define JT_HELD_MAX 8        /* frames held while a registry lookup runs */
#define JT_GARBAGE_MAX 4096  /* bytes without one valid frame before we hang up */
#define JT_REASM_PARTS 128   /* most packets of one subpackaged message */
#define JT_REASM_TIMEOUT_MS 30000 /* a partial message older than this is dropped */

/* A subpackaged message being put back together (one per connection). */
struct jt_reasm {
	struct jt808_header h;     /* of the first packet that arrived */
	uint16_t total, got;
	int64_t started_ms;
	uint8_t *part[JT_REASM_PARTS];
	uint16_t part_len[JT_REASM_PARTS];
	char *hex;                 /* evidence: every packet's frame, space-separated */
	size_t hex_len;
};

/* Where a message's raw evidence comes from: one frame, or the frames of a
 * reassembled message. */
struct jt_evidence {
	const uint8_t *content;
	size_t len;
	const char *hex;
};

enum { JT_NEW = 0, JT_AUTHED };

struct jt_held {
	uint8_t *buf;
	size_t len;
};

struct jt_conn {
	uint64_t id;
	struct lws *wsi;
	struct jt808_framer fr;
	int state;
	int32_t vessel_id;
	char phone[24];
	uint16_t serial;           /* our own downlink serial */
	int waiting;               /* a registry lookup is outstanding */
	struct jt_reasm *ra;       /* NULL unless a subpackaged message is arriving */
	int no_ack;                /* handling a reassembled message: its packets
				    * were each acknowledged already */
	int closing;
	size_t nheld;
	struct jt_held held[JT_HELD_MAX];
	size_t garbage;
	uint64_t frames_ok;
	uint8_t *out;              /* LWS_PRE + pending replies; NULL when idle */
	size_t out_len, out_cap;
	int rx_paused;
	char peer[64];
};

static struct sw_server *server_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

/* Queues one reply frame. The buffer grows with a burst (a terminal catching
 * up after a signal gap sends hundreds of frames in one read) and reading
 * pauses while much is pending; only a peer that stops reading its replies
 * altogether reaches JT_OUT_MAX and is cut off. */
static void jt_send(struct jt_conn *c, const struct jt808_header *like, uint16_t msg_id,
		    const uint8_t *body, size_t len)
{
	uint8_t frame[JT808_MAX_WIRE];
	int n = jt808_encode(like, msg_id, c->serial++, body, len, frame, sizeof(frame));

	if (n < 0) {
		log_warn("jt808 %s: cannot encode reply %04x: %s", c->peer, msg_id,
			 jt808_strerror(n));
		return;
	}
	if (c->out_len + (size_t)n > JT_OUT_MAX) {
		log_warn("jt808 %s: replies not being read, closing", c->peer);
		c->closing = 1;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	if (LWS_PRE + c->out_len + (size_t)n > c->out_cap) {
		size_t ncap = c->out_cap ? c->out_cap * 2 : LWS_PRE + 512;
		uint8_t *nb;

		while (ncap < LWS_PRE + c->out_len + (size_t)n)
			ncap *= 2;
		nb = realloc(c->out, ncap);
		if (!nb) {
			c->closing = 1;
			lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
			return;
		}
		c->out = nb;
		c->out_cap = ncap;
	}
	memcpy(c->out + LWS_PRE + c->out_len, frame, (size_t)n);
	c->out_len += (size_t)n;
	if (c->out_len > JT_OUT_PAUSE && !c->rx_paused) {
		c->rx_paused = 1;
		lws_rx_flow_control(c->wsi, 0);
	}
	lws_callback_on_writable(c->wsi);
}

static void jt_ack(struct jt_conn *c, const struct jt808_msg *m, uint8_t result)
{
	if (c->no_ack)
		return;
	struct jt808_response r = { m->h.serial, m->h.msg_id, result };
	uint8_t body[8];
	int n = jt808_body_response(&r, body, sizeof(body));

	if (n > 0)
		jt_send(c, &m->h, JT808_PLAT_RESPONSE, body, (size_t)n);
}

/* Hex of the frame as it travelled (re-escaped), kept as evidence. */
static char *jt_raw_hex(const uint8_t *content, size_t len)
{
	uint8_t wire[JT808_MAX_WIRE];
	int n = jt808_escape_frame(content, len, wire, sizeof(wire));
	char *hex;
	int i;

	if (n < 0)
		return NULL;
	hex = malloc((size_t)n * 2 + 1);
	if (!hex)
		return NULL;
	for (i = 0; i < n; i++) {
		hex[2 * i] = "0123456789abcdef"[wire[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[wire[i] & 15];
	}
	hex[2 * n] = '\0';
	return hex;
}

static char *evidence_hex(const struct jt_evidence *e)
{
	return e->hex ? strdup(e->hex) : jt_raw_hex(e->content, e->len);
}

static int loc_to_position(struct jt_conn *c, const struct jt808_location *l, int64_t now,
			   struct sw_position *p)
{
	memset(p, 0, sizeof(*p));
	if (!l->time_valid)
		return -1;
	p->vessel_id = c->vessel_id;
	p->device_time_ms = l->time * 1000;
	p->recv_time_ms = now;
	p->lat = l->lat_e6 / 1e6;
	p->lon = l->lon_e6 / 1e6;
	p->speed_kn = (float)(l->speed_dkmh / 10.0 / 1.852);
	p->course = l->course;
	p->altitude_m = l->altitude_m;
	p->fix_valid = l->fix_valid ? 1 : 0;
	p->alarm_bits = l->alarm;
	p->status_bits = l->status;
	p->protocol = POS_JT808;
	return 0;
}

static void on_location(struct sw_server *s, struct jt_conn *c, const struct jt808_msg *m,
			const struct jt_evidence *ev)
{
	struct jt808_location l;
	struct sw_position p;
	const char *why = NULL;
	int rc = jt808_parse_location(m->body, m->body_len, s->cfg->jt808_tz_offset_s, &l);

	if (rc) {
		log_warn("jt808 %s: bad location body: %s", c->peer, jt808_strerror(rc));
		jt_ack(c, m, JT808_RESULT_MSG_ERROR);
		return;
	}
	if (loc_to_position(c, &l, sw_now_ms(), &p)) {
		s->positions_rejected++;
		jt_ack(c, m, JT808_RESULT_OK); /* acknowledged so the terminal does not resend */
		return;
	}
	p.raw = evidence_hex(ev);
	/* a rejected or duplicate report is still acknowledged (the terminal
	 * would only send it again), except when the write queue is full */
	if (!ingest_positions(s, &p, 1, &why) && why) {
		log_debug("jt808 %s: position rejected: %s", c->phone, why);
		if (!strncmp(why, "server busy", 11)) {
			jt_ack(c, m, JT808_RESULT_FAIL);
			return;
		}
	}
	jt_ack(c, m, JT808_RESULT_OK);
}

static void hex_into(char *o, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		o[2 * i] = "0123456789abcdef"[p[i] >> 4];
		o[2 * i + 1] = "0123456789abcdef"[p[i] & 15];
	}
	o[2 * n] = '\0';
}

/* Evidence for one item of a 0x0704: the frame's header and batch prefix,
 * a space, then the item itself (its WORD length and 0x0200 body), as hex
 * of the unescaped bytes. Each row so carries the terminal, serial and its
 * own bytes without repeating the whole frame (up to 1 KiB) in every row. */
static char *batch_item_hex(const struct jt808_msg *m, const uint8_t *content,
			    const uint8_t *item, size_t item_len)
{
	size_t head = (size_t)m->h.header_len + 3;
	char *o = malloc(2 * (head + item_len) + 2);

	if (!o)
		return NULL;
	hex_into(o, content, head);
	o[2 * head] = ' ';
	hex_into(o + 2 * head + 1, item, item_len);
	return o;
}

static void on_batch(struct sw_server *s, struct jt_conn *c, const struct jt808_msg *m,
		     const struct jt_evidence *ev)
{
	struct jt808_batch b;
	struct jt808_location l;
	struct sw_position ps[64];
	size_t n = 0, i, before;
	int64_t now = sw_now_ms();
	int rc = jt808_parse_batch(m->body, m->body_len, &b);

	if (rc) {
		jt_ack(c, m, JT808_RESULT_MSG_ERROR);
		return;
	}
	for (;;) {
		before = b.off;
		rc = jt808_batch_next(&b, s->cfg->jt808_tz_offset_s, &l);
		if (rc != 1)
			break;
		if (n == sizeof(ps) / sizeof(ps[0])) {
			/* a reassembled batch can hold more than fits here */
			ingest_positions(s, ps, n, NULL);
			n = 0;
		}
		if (loc_to_position(c, &l, now, &ps[n]) == 0) {
			/* type 1: stored during a signal gap, history only */
			ps[n].blind = b.type == 1;
			ps[n].raw = ev->content ? batch_item_hex(m, ev->content, b.items + before,
								 b.off - before)
						: evidence_hex(ev);
			n++;
		}
	}
	if (rc < 0) {
		for (i = 0; i < n; i++)
			free(ps[i].raw);
		jt_ack(c, m, JT808_RESULT_MSG_ERROR);
		return;
	}
	if (n)
		ingest_positions(s, ps, n, NULL);
	jt_ack(c, m, JT808_RESULT_OK);
}

/* ---------------------------------------------------- registry lookups */

static void jt_process(struct sw_server *s, struct jt_conn *c, const uint8_t *content, size_t len);

static void run_lookup(PGconn *conn, struct db_job *j)
{
	const char *params[1] = { j->arg };
	PGresult *r = PQexecParams(conn, "SELECT id, status FROM vessels WHERE terminal = $1", 1,
				   NULL, params, NULL, NULL, 0);

	j->status = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		log_error("jt808: registry lookup failed: %s", PQresultErrorMessage(r));
		j->status = -1;
	} else if (PQntuples(r) == 1) {
		j->iarg[0] = atoll(PQgetvalue(r, 0, 0));
		j->iarg[1] = !strcmp(PQgetvalue(r, 0, 1), "retired") ? 0 : 1;
	}
	PQclear(r);
}

/* Resumes a connection after its lookup: answers the frame that asked and
 * replays the frames held meanwhile. */
static void done_lookup(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct jt_conn *c = idmap_get(&s->conns, j->owner);
	struct jt808_msg m;
	size_t i, n;
	struct jt_held held[JT_HELD_MAX];

	if (!c)
		return;
	c->waiting = 0;
	if (jt808_decode((const uint8_t *)j->arg2, (size_t)j->iarg[2], &m) == 0) {
		int known = j->status == 0 && j->iarg[0] > 0 && j->iarg[1];

		if (m.h.msg_id == JT808_REGISTER) {
			struct jt808_register_response rr;
			uint8_t body[80];
			int bl;

			memset(&rr, 0, sizeof(rr));
			rr.ack_serial = m.h.serial;
			if (j->status)
				rr.result = JT808_RESULT_FAIL;
			else if (!known)
				rr.result = JT808_REG_TERMINAL_UNKNOWN;
			else
				auth_terminal_code(s->key, m.h.phone_str, rr.auth_code);
			log_info("jt808 %s: terminal %s registration: %s", c->peer, m.h.phone_str,
				 rr.result ? "refused (not in the registry)" : "accepted");
			if (rr.result == JT808_REG_TERMINAL_UNKNOWN)
				registry_terminal_event(s, "jt808", m.h.phone_str, c->peer,
							"unregistered", "registration refused (0x8100 result 4)");
			bl = jt808_body_register_response(&rr, body, sizeof(body));
			if (bl > 0)
				jt_send(c, &m.h, JT808_REGISTER_RESPONSE, body, (size_t)bl);
		} else if (m.h.msg_id == JT808_AUTH) {
			if (known) {
				c->state = JT_AUTHED;
				c->vessel_id = (int32_t)j->iarg[0];
				snprintf(c->phone, sizeof(c->phone), "%s", m.h.phone_str);
				log_info("jt808 %s: terminal %s authenticated as vessel %d", c->peer,
					 c->phone, c->vessel_id);
			} else {
				log_info("jt808 %s: terminal %s authentication refused: not in the registry",
					 c->peer, m.h.phone_str);
				registry_terminal_event(s, "jt808", m.h.phone_str, c->peer,
							j->status ? "auth_failed" : "unregistered",
							"authentication refused: not in the registry");
			}
			jt_ack(c, &m, known ? JT808_RESULT_OK : JT808_RESULT_FAIL);
		}
	}
	/* replay held frames; one of them may start another lookup */
	n = c->nheld;
	memcpy(held, c->held, sizeof(held));
	c->nheld = 0;
	for (i = 0; i < n; i++) {
		if (c->waiting) {
			c->held[c->nheld++] = held[i];
			continue;
		}
		if (!c->closing)
			jt_process(s, c, held[i].buf, held[i].len);
		free(held[i].buf);
	}
}

static void start_lookup(struct sw_server *s, struct jt_conn *c, const struct jt808_msg *m,
			 const uint8_t *content, size_t len)
{
	struct db_job *j = db_job_new(run_lookup, done_lookup, c->id);

	if (!j || !(j->arg = strdup(m->h.phone_str)) || !(j->arg2 = malloc(len))) {
		db_job_free(j);
		jt_ack(c, m, JT808_RESULT_FAIL);
		return;
	}
	memcpy(j->arg2, content, len);
	j->iarg[2] = (long long)len;
	c->waiting = 1;
	db_submit(s->db, j);
}

/* Handles one decoded frame. */
static void jt_dispatch(struct sw_server *s, struct jt_conn *c, const struct jt808_msg *m,
			const uint8_t *content, size_t len, const struct jt_evidence *ev);

static void reasm_free(struct jt_conn *c)
{
	size_t i;

	if (!c->ra)
		return;
	for (i = 0; i < JT_REASM_PARTS; i++)
		free(c->ra->part[i]);
	free(c->ra->hex);
	free(c->ra);
	c->ra = NULL;
}

/* Collects one packet of a subpackaged message (each is acknowledged);
 * when the last one is in, dispatches the whole message. A partial message
 * is dropped when another message starts or it is older than
 * JT_REASM_TIMEOUT_MS. */
static void reassemble(struct sw_server *s, struct jt_conn *c, const struct jt808_msg *m,
		       const uint8_t *content, size_t len)
{
	struct jt_reasm *ra = c->ra;
	int64_t now = sw_now_ms();
	char *hex;
	size_t i, hl;

	if (!m->h.pkt_total || !m->h.pkt_no || m->h.pkt_no > m->h.pkt_total ||
	    m->h.pkt_total > JT_REASM_PARTS) {
		jt_ack(c, m, JT808_RESULT_MSG_ERROR);
		return;
	}
	if (ra && (ra->h.msg_id != m->h.msg_id || ra->total != m->h.pkt_total ||
		   now - ra->started_ms > JT_REASM_TIMEOUT_MS)) {
		log_info("jt808 %s: dropped an incomplete subpackaged %04x (%u of %u packets)",
			 c->peer, ra->h.msg_id, ra->got, ra->total);
		reasm_free(c);
		ra = NULL;
	}
	if (!ra) {
		ra = c->ra = calloc(1, sizeof(*ra));
		if (!ra) {
			jt_ack(c, m, JT808_RESULT_FAIL);
			return;
		}
		ra->h = m->h;
		ra->total = m->h.pkt_total;
		ra->started_ms = now;
	}
	i = (size_t)m->h.pkt_no - 1;
	if (!ra->part[i]) {
		ra->part[i] = malloc(m->body_len ? m->body_len : 1);
		hex = jt_raw_hex(content, len);
		if (!ra->part[i] || !hex) {
			free(hex);
			reasm_free(c);
			jt_ack(c, m, JT808_RESULT_FAIL);
			return;
		}
		memcpy(ra->part[i], m->body, m->body_len);
		ra->part_len[i] = (uint16_t)m->body_len;
		ra->got++;
		hl = strlen(hex);
		{
			char *nh = realloc(ra->hex, ra->hex_len + hl + 2);
			if (nh) {
				ra->hex = nh;
				if (ra->hex_len)
					ra->hex[ra->hex_len++] = ' ';
				memcpy(ra->hex + ra->hex_len, hex, hl + 1);
				ra->hex_len += hl;
			}
		}
		free(hex);
	}
	jt_ack(c, m, JT808_RESULT_OK);
	if (ra->got == ra->total) {
		struct jt808_msg whole;
		struct jt_evidence ev = { NULL, 0, ra->hex };
		size_t total = 0, off = 0;
		uint8_t *body;

		for (i = 0; i < ra->total; i++)
			total += ra->part_len[i];
		body = malloc(total ? total : 1);
		if (body) {
			for (i = 0; i < ra->total; i++) {
				memcpy(body + off, ra->part[i], ra->part_len[i]);
				off += ra->part_len[i];
			}
			whole.h = ra->h;
			whole.h.subpackage = 0;
			whole.body = body;
			whole.body_len = total;
			c->no_ack = 1;
			jt_dispatch(s, c, &whole, NULL, 0, &ev);
			c->no_ack = 0;
			free(body);
		}
		reasm_free(c);
	}
}

/* Decodes and handles one frame. */
static void jt_process(struct sw_server *s, struct jt_conn *c, const uint8_t *content, size_t len)
{
	struct jt808_msg m;
	struct jt_evidence ev = { content, len, NULL };
	int rc = jt808_decode(content, len, &m);

	if (rc == JT808_ECHECK) {
		/* a damaged message: drop it, keep the connection */
		s->jt808_bad_frames++;
		log_info("jt808 %s: dropped a frame with a bad check code", c->peer);
		return;
	}
	if (rc) {
		s->jt808_bad_frames++;
		log_warn("jt808 %s: malformed frame (%s), closing", c->peer, jt808_strerror(rc));
		c->closing = 1;
		return;
	}
	s->jt808_frames++;
	c->frames_ok++;
	if (c->state == JT_AUTHED && strcmp(m.h.phone_str, c->phone) &&
	    m.h.msg_id != JT808_REGISTER && m.h.msg_id != JT808_AUTH) {
		log_warn("jt808 %s: frame for %s on the session of %s refused", c->peer,
			 m.h.phone_str, c->phone);
		jt_ack(c, &m, JT808_RESULT_FAIL);
		return;
	}
	if (m.h.subpackage) {
		reassemble(s, c, &m, content, len);
		return;
	}
	jt_dispatch(s, c, &m, content, len, &ev);
}

/* Answers one whole message. content is the frame (NULL for a reassembled
 * message: registration and authentication are never subpackaged). */
static void jt_dispatch(struct sw_server *s, struct jt_conn *c, const struct jt808_msg *m,
			const uint8_t *content, size_t len, const struct jt_evidence *ev)
{
	switch (m->h.msg_id) {
	case JT808_TERM_RESPONSE:
		break;
	case JT808_HEARTBEAT:
		jt_ack(c, m, JT808_RESULT_OK);
		break;
	case JT808_LOGOUT:
		jt_ack(c, m, JT808_RESULT_OK);
		c->state = JT_NEW;
		c->vessel_id = 0;
		break;
	case JT808_REGISTER: {
		struct jt808_register reg;

		if (!content) {
			jt_ack(c, m, JT808_RESULT_UNSUPPORTED);
			break;
		}
		if (jt808_parse_register(m->body, m->body_len, m->h.v2019, &reg)) {
			jt_ack(c, m, JT808_RESULT_MSG_ERROR);
			break;
		}
		start_lookup(s, c, m, content, len);
		break;
	}
	case JT808_AUTH: {
		struct jt808_auth a;

		if (!content) {
			jt_ack(c, m, JT808_RESULT_UNSUPPORTED);
			break;
		}
		if (jt808_parse_auth(m->body, m->body_len, m->h.v2019, &a)) {
			jt_ack(c, m, JT808_RESULT_MSG_ERROR);
			break;
		}
		if (!auth_terminal_code_ok(s->key, m->h.phone_str, a.code)) {
			log_info("jt808 %s: terminal %s presented a wrong auth code", c->peer,
				 m->h.phone_str);
			registry_terminal_event(s, "jt808", m->h.phone_str, c->peer, "auth_failed",
						"wrong auth code");
			jt_ack(c, m, JT808_RESULT_FAIL);
			break;
		}
		start_lookup(s, c, m, content, len);
		break;
	}
	case JT808_LOCATION:
		if (c->state != JT_AUTHED) {
			jt_ack(c, m, JT808_RESULT_FAIL);
			break;
		}
		on_location(s, c, m, ev);
		break;
	case JT808_LOCATION_BATCH:
		if (c->state != JT_AUTHED) {
			jt_ack(c, m, JT808_RESULT_FAIL);
			break;
		}
		on_batch(s, c, m, ev);
		break;
	default:
		jt_ack(c, m, JT808_RESULT_UNSUPPORTED);
		break;
	}
}

struct push_ctx {
	struct sw_server *s;
	struct jt_conn *c;
};

static int on_frame(void *user, const uint8_t *content, size_t len, int err)
{
	struct push_ctx *pc = user;
	struct jt_conn *c = pc->c;

	if (err == JT808_EESCAPE) {
		pc->s->jt808_bad_frames++;
		return 0;
	}
	if (err) {
		log_warn("jt808 %s: %s, closing", c->peer, jt808_strerror(err));
		c->closing = 1;
		return 1;
	}
	if (c->waiting) {
		uint8_t *copy;

		if (c->nheld == JT_HELD_MAX || !(copy = malloc(len))) {
			log_warn("jt808 %s: too many frames while waiting for the registry, closing",
				 c->peer);
			c->closing = 1;
			return 1;
		}
		memcpy(copy, content, len);
		c->held[c->nheld].buf = copy;
		c->held[c->nheld].len = len;
		c->nheld++;
		return 0;
	}
	jt_process(pc->s, c, content, len);
	return c->closing;
}

static int callback_jt808(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			  void *in, size_t len)
{
	struct jt_conn *c = user;
	struct sw_server *s = server_of(wsi);
	size_t i;

	switch (reason) {
	case LWS_CALLBACK_RAW_ADOPT:
		memset(c, 0, sizeof(*c));
		c->wsi = wsi;
		c->id = idmap_add(&s->conns, c);
		jt808_framer_init(&c->fr);
		lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
		s->jt808_connections++;
		log_debug("jt808 %s: connected", c->peer);
		break;

	case LWS_CALLBACK_RAW_RX: {
		struct push_ctx pc = { s, c };
		uint64_t before = c->frames_ok;

		if (c->closing)
			return -1;
		jt808_framer_push(&c->fr, in, len, on_frame, &pc);
		if (c->closing)
			return -1;
		/* a peer that never sends one valid frame is not a terminal */
		if (!c->frames_ok && c->frames_ok == before) {
			c->garbage += len;
			if (c->garbage > JT_GARBAGE_MAX) {
				log_warn("jt808 %s: no valid frame in %zu bytes, closing", c->peer,
					 c->garbage);
				return -1;
			}
		}
		break;
	}

	case LWS_CALLBACK_RAW_WRITEABLE:
		if (!c->out_len)
			break;
		if (lws_write(wsi, c->out + LWS_PRE, c->out_len, LWS_WRITE_RAW) < (int)c->out_len)
			return -1;
		c->out_len = 0;
		/* idle connections keep no buffer (10,000 terminals) */
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
		if (c->rx_paused) {
			c->rx_paused = 0;
			lws_rx_flow_control(wsi, 1);
		}
		break;

	case LWS_CALLBACK_RAW_CLOSE:
		if (c->id)
			idmap_del(&s->conns, c->id);
		for (i = 0; i < c->nheld; i++)
			free(c->held[i].buf);
		c->nheld = 0;
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_cap = 0;
		reasm_free(c);
		c->id = 0;
		s->jt808_connections--;
		log_debug("jt808 %s: closed", c->peer);
		break;

	default:
		break;
	}
	return 0;
}

const struct lws_protocols jt808_protocol = {
	"jt808", callback_jt808, sizeof(struct jt_conn), 0, 0, NULL, 0
};
