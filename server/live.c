/* live.c -- the WebSocket live feed: a bounded ring of JSON events, a cursor per client.
 *
 * Every event gets a sequence number and lands in a fixed ring. Each client
 * keeps the sequence number of the next event it should receive and is sent
 * one event per WRITEABLE callback. A client that falls a whole ring behind
 * (a slow consumer) is disconnected with 1008 rather than slowing the
 * others or growing memory; it reconnects and reloads. Service thread only.
 */
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
	struct live_msg *m = &l->ring[l->head % l->size];
	uint8_t *b = malloc(LWS_PRE + len);

	if (!b)
		return;
	memcpy(b + LWS_PRE, json, len);
	free(m->buf);
	m->buf = b;
	m->len = len;
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

static int callback_live(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	struct live_pss *pss = user;
	struct sw_server *s = lws_context_user(lws_get_context(wsi));
	struct live *l = s ? s->live : NULL;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		if (!l || live_authorise(wsi, s, pss)) {
			log_info("live: refused a WebSocket without a valid token");
			return 1;
		}
		return 0;

	case LWS_CALLBACK_ESTABLISHED:
		pss->next = l->head;
		l->clients++;
		log_info("live: client %s connected (%d clients)", pss->who.username, l->clients);
		break;

	case LWS_CALLBACK_CLOSED:
		if (l)
			l->clients--;
		break;

	case LWS_CALLBACK_SERVER_WRITEABLE: {
		struct live_msg *m;
		int sent = 0;

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
			if (lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT) < (int)m->len)
				return -1;
			pss->next++;
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
