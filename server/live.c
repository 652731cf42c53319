/* live.c -- the WebSocket live feed: a bounded ring of JSON events, a cursor per client.
 *
 * Every event gets a sequence number and lands in a fixed ring. Each client
 * keeps the sequence number of the next event it should receive and is sent
 * one event per WRITEABLE callback. A client that falls a whole ring behind
 * (a slow consumer) is disconnected with 1008 rather than slowing the
 * others or growing memory; it reconnects and reloads. Service thread only.
 */
#include <jansson.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "http.h"
#include "log.h"
#include "server.h"

#define LIVE_WRITES_PER_CALLBACK 256

struct live_msg {
	uint8_t *buf;   /* LWS_PRE headroom + payload */
	size_t len;
	uint64_t seq;   /* an alert event's number, 0 for other events */
};

struct live {
	struct sw_server *s;
	struct live_msg *ring;
	size_t size;
	uint64_t head;      /* sequence number of the next event */
	int clients;
	const struct lws_protocols *prot;  /* the http vhost's instance */
};

struct live_pss {
	uint64_t next;      /* next sequence number to send */
	struct auth_identity who;
	int culled;
	struct lws *wsi;
	/* ?since=N: the alert events after N, read from the database before
	 * anything from the ring is sent */
	uint64_t id;        /* idmap key while the read is outstanding */
	int replay_wait;
	json_t *replay;     /* array of alert objects still to send */
	size_t replay_i;
	uint64_t replayed_max;  /* ring events numbered up to this were replayed */
	int has_since;      /* read with the headers, used once established */
	long long since;
};

struct live *live_new(struct sw_server *s, size_t ring)
{
	struct live *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->ring = calloc(ring, sizeof(*l->ring));
	if (!l->ring) {
		free(l);
		return NULL;
	}
	l->size = ring;
	l->s = s;
	return l;
}

void live_free(struct live *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->size; i++)
		free(l->ring[i].buf);
	free(l->ring);
	free(l);
}

void live_publish(struct live *l, const char *json, size_t len)
{
	live_publish_seq(l, json, len, 0);
}

void live_publish_seq(struct live *l, const char *json, size_t len, uint64_t seq)
{
	struct live_msg *m = &l->ring[l->head % l->size];
	uint8_t *b = malloc(LWS_PRE + len);

	if (!b)
		return;
	memcpy(b + LWS_PRE, json, len);
	free(m->buf);
	m->buf = b;
	m->len = len;
	m->seq = seq;
	l->head++;
	if (!l->clients || !l->s->http_vh)
		return;
	/* the vhost keeps its own copy of the protocol: ask it by name */
	if (!l->prot)
		l->prot = lws_vhost_name_to_protocol(l->s->http_vh, live_protocol.name);
	if (l->prot)
		lws_callback_on_writable_all_protocol_vhost(l->s->http_vh, l->prot);
}

/* The token comes as ?token= (browsers cannot set headers on a WebSocket) or
 * as an Authorization: Bearer header. */
static int live_authorise(struct lws *wsi, struct sw_server *s, struct live_pss *pss)
{
	char tok[1024], uri[64];
	int n;

	n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
	if (n <= 0 || (strcmp(uri, "/ws") && strncmp(uri, "/ws?", 4))) {
		log_info("live: WebSocket on %s refused: the live feed is at /ws", n > 0 ? uri : "?");
		return -1;
	}
	if (http_urlarg(wsi, "token", tok, sizeof(tok)) > 0 &&
	    !auth_token_check(s->key, tok, sw_now_ms() / 1000, &pss->who))
		return 0;
	n = lws_hdr_copy(wsi, tok, sizeof(tok), WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 7 && !strncasecmp(tok, "Bearer ", 7) &&
	    !auth_token_check(s->key, tok + 7, sw_now_ms() / 1000, &pss->who))
		return 0;
	return -1;
}

/* The alerts changed after event `since`, each once, with its latest
 * event's number, oldest first (at most the newest 10,000). */
static void run_since(PGconn *c, struct db_job *j)
{
	char since[24];
	const char *params[1] = { since };
	PGresult *r;

	snprintf(since, sizeof(since), "%lld", j->iarg[0]);
	r = PQexecParams(c,
		"SELECT coalesce(jsonb_agg(sw_alert_json(a, e.seq) ORDER BY e.seq), '[]')::text"
		" FROM (SELECT alert_id, max(seq) AS seq FROM alert_events WHERE seq > $1::bigint"
		"       GROUP BY alert_id ORDER BY seq DESC LIMIT 10000) e"
		" JOIN alerts a ON a.id = e.alert_id", 1, NULL, params, NULL, NULL, 0);
	db_job_take_json(j, r, 200);
	PQclear(r);
}

static void done_since(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct live_pss *pss = idmap_get(&s->conns, j->owner);
	json_t *arr, *o;
	size_t i;

	if (!pss)
		return; /* the client went away */
	idmap_del(&s->conns, pss->id);
	pss->id = 0;
	pss->replay_wait = 0;
	arr = j->status == 200 && j->out ? json_loads(j->out, 0, NULL) : NULL;
	if (!json_is_array(arr)) {
		/* the database is away: say so and let the client retry */
		static const char why[] = "alert history unavailable";
		json_decref(arr);
		log_warn("live: cannot replay alerts for %s", pss->who.username);
		lws_close_reason(pss->wsi, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
				 (unsigned char *)why, sizeof(why) - 1);
		lws_set_timeout(pss->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		return;
	}
	if (pss->replayed_max < (uint64_t)j->iarg[0])
		pss->replayed_max = (uint64_t)j->iarg[0];
	json_array_foreach(arr, i, o) {
		uint64_t seq = (uint64_t)json_integer_value(json_object_get(o, "seq"));
		if (seq > pss->replayed_max)
			pss->replayed_max = seq;
	}
	/* alert changes are published before they are written: those still on
	 * their way to the database come from the ring (published before this
	 * client connected; later ones it gets live) */
	if (s->live) {
		struct live *l = s->live;
		uint64_t k = l->head > l->size ? l->head - l->size : 0;

		for (; k < pss->next; k++) {
			struct live_msg *m = &l->ring[k % l->size];
			json_t *ev;

			if (!m->seq || m->seq <= pss->replayed_max)
				continue;
			ev = json_loadb((const char *)m->buf + LWS_PRE, m->len, 0, NULL);
			if (ev && !json_array_append_new(arr, ev))
				pss->replayed_max = m->seq;
		}
	}
	pss->replay = arr;
	pss->replay_i = 0;
	lws_callback_on_writable(pss->wsi);
}

static int callback_live(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	struct live_pss *pss = user;
	struct sw_server *s = lws_context_user(lws_get_context(wsi));
	struct live *l = s ? s->live : NULL;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		char since[24];

		if (!l || live_authorise(wsi, s, pss)) {
			log_info("live: refused a WebSocket without a valid token");
			return 1;
		}
		/* the URL's arguments are gone once the connection is established */
		if (http_urlarg(wsi, "since", since, sizeof(since)) > 0) {
			char *end;

			pss->since = strtoll(since, &end, 10);
			pss->has_since = (*end || pss->since < 0 || !since[0]) ? -1 : 1;
		}
		return 0;
	}

	case LWS_CALLBACK_ESTABLISHED: {
		pss->next = l->head;
		pss->wsi = wsi;
		l->clients++;
		if (pss->has_since) {
			long long n = pss->since;
			struct db_job *j;

			if (pss->has_since < 0) {
				static const char why[] = "since: not an event number";
				lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
						 (unsigned char *)why, sizeof(why) - 1);
				return -1;
			}
			pss->id = idmap_add(&s->conns, pss);
			j = pss->id ? db_job_new(run_since, done_since, pss->id) : NULL;
			if (!j)
				return -1;
			j->iarg[0] = n;
			pss->replay_wait = 1;
			db_submit(s->db, j);
		}
		log_info("live: client %s connected (%d clients)", pss->who.username, l->clients);
		break;
	}

	case LWS_CALLBACK_CLOSED:
		if (l)
			l->clients--;
		if (pss->id && s)
			idmap_del(&s->conns, pss->id);
		pss->id = 0;
		json_decref(pss->replay);
		pss->replay = NULL;
		break;

	case LWS_CALLBACK_SERVER_WRITEABLE: {
		struct live_msg *m;
		int sent = 0;

		if (pss->replay_wait)
			break; /* the missed alerts come first */
		while (pss->replay && pss->replay_i < json_array_size(pss->replay)) {
			json_t *o = json_array_get(pss->replay, pss->replay_i++);
			char *text = json_dumps(o, JSON_COMPACT);
			size_t n = text ? strlen(text) : 0;
			uint8_t *b = text ? malloc(LWS_PRE + n) : NULL;
			int w;

			if (!b) {
				free(text);
				return -1;
			}
			memcpy(b + LWS_PRE, text, n);
			free(text);
			w = lws_write(wsi, b + LWS_PRE, n, LWS_WRITE_TEXT);
			free(b);
			if (w < (int)n)
				return -1;
			if (lws_send_pipe_choked(wsi)) {
				lws_callback_on_writable(wsi);
				return 0;
			}
		}
		if (pss->replay) {
			json_decref(pss->replay);
			pss->replay = NULL;
		}
		if (pss->next >= l->head)
			break;
		if (l->head - pss->next > l->size) {
			static const char why[] = "too slow: events overran the buffer";
			log_warn("live: dropping slow client %s (%llu events behind)",
				 pss->who.username, (unsigned long long)(l->head - pss->next));
			lws_close_reason(wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
					 (unsigned char *)why, sizeof(why) - 1);
			return -1;
		}
		/* several events a callback while the socket takes them: one
		 * write per service loop turn cannot keep up with a busy fleet */
		do {
			m = &l->ring[pss->next % l->size];
			pss->next++;
			if (m->seq && m->seq <= pss->replayed_max)
				continue; /* already sent from the database */
			if (lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
				return -1;
		} while (pss->next < l->head && ++sent < LIVE_WRITES_PER_CALLBACK &&
			 !lws_send_pipe_choked(wsi));
		if (pss->next < l->head)
			lws_callback_on_writable(wsi);
		break;
	}

	case LWS_CALLBACK_RECEIVE:
		/* clients send nothing yet; ignore */
		break;

	default:
		break;
	}
	return 0;
}

const struct lws_protocols live_protocol = {
	"shorewatch", callback_live, sizeof(struct live_pss), 4096, 0, NULL, 0
};
