/* sim_net.c -- one simulated terminal's connection: connect, register, authenticate, report (0x0200, 0x0704 batches and blind-area re-sends, or NMEA / AIS lines), answer, reconnect. */
#include "sim_app.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "sim_ais.h"

#define TZ_GMT8 28800
#define STATUS_ACC 0x1u
#define STATUS_GPS (1u << 18)
#define STATUS_BDS (1u << 19)

int sim_net_resolve(struct sim_app *a, char *err, size_t errlen)
{
	char host[256];
	const char *spec = a->o.server, *colon, *port;
	struct addrinfo hints, *res = NULL;
	int rc;

	/* [v6addr]:port or host:port */
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':') {
			snprintf(err, errlen, "bad --server %s: expected [ADDR]:PORT", spec);
			return -1;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(close - spec - 1), spec + 1);
		port = close + 2;
	} else {
		colon = strrchr(spec, ':');
		if (!colon || colon == spec) {
			snprintf(err, errlen, "bad --server %s: expected HOST:PORT", spec);
			return -1;
		}
		snprintf(host, sizeof(host), "%.*s", (int)(colon - spec), spec);
		port = colon + 1;
	}
	if (!*port || strspn(port, "0123456789") != strlen(port) || atoi(port) < 1 ||
	    atoi(port) > 65535) {
		snprintf(err, errlen, "bad --server %s: port must be 1-65535", spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype =
		a->o.feed == SIM_FEED_AIS_UDP ? SOCK_DGRAM : SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc || !res) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	memcpy(&a->addr, res->ai_addr, res->ai_addrlen);
	a->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

const char *sim_feed_name(enum sim_feed f)
{
	switch (f) {
	case SIM_FEED_JT808:
		return "jt808";
	case SIM_FEED_NMEA:
		return "nmea";
	case SIM_FEED_AIS_UDP:
		return "ais-udp";
	case SIM_FEED_AIS_TCP:
		return "ais-tcp";
	}
	return "?";
}

int sim_net_udp_open(struct sim_app *a)
{
	int sz = 4 << 20;

	a->udp_fd = socket(a->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK |
				      SOCK_CLOEXEC, 0);
	if (a->udp_fd < 0) {
		sim_log("socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(a->udp_fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (connect(a->udp_fd, (struct sockaddr *)&a->addr, a->addrlen)) {
		sim_log("connect %s: %s", a->o.server, strerror(errno));
		close(a->udp_fd);
		a->udp_fd = -1;
		return -1;
	}
	return 0;
}

void sim_net_udp_flush(struct sim_app *a, double now)
{
	ssize_t k;

	if (!a->dgram_len || a->udp_fd < 0)
		return;
	k = send(a->udp_fd, a->dgram, a->dgram_len, MSG_NOSIGNAL);
	if (k < 0 && errno == ECONNREFUSED) /* an ICMP from an earlier one: retry */
		k = send(a->udp_fd, a->dgram, a->dgram_len, MSG_NOSIGNAL);
	if (k == (ssize_t)a->dgram_len) {
		a->s.datagrams++;
		a->s.bytes_sent += (uint64_t)k;
	} else {
		a->s.errors++;
		sim_logt(a, "udp send to %s: %s", a->o.server,
			 k < 0 ? strerror(errno) : "short write");
	}
	a->dgram_len = 0;
}

/* epoll user data: terminal index and connection generation. */
static uint64_t ev_key(const struct sim_app *a, const struct sim_term *t)
{
	return (uint64_t)t->gen << 32 | (uint64_t)(t - a->t);
}

/* Registers or updates t's fd in epoll; wants EPOLLOUT when out is set. */
static int ep_set(struct sim_app *a, struct sim_term *t, int op, int out)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.u64 = ev_key(a, t);
	if (epoll_ctl(a->ep, op, t->fd, &ev))
		return -1;
	t->want_out = out;
	return 0;
}

/* Counts pending positions older than the ack timeout as missing. */
unsigned sim_net_expire(struct sim_app *a, struct sim_term *t, double now,
			int force)
{
	unsigned i, j = 0, gone = 0;

	for (i = 0; i < t->pend_n; i++) {
		if (force || now - t->pend_time[i] >= SIM_ACK_TIMEOUT) {
			gone += t->pend_count[i];
			continue;
		}
		t->pend_serial[j] = t->pend_serial[i];
		t->pend_count[j] = t->pend_count[i];
		t->pend_time[j++] = t->pend_time[i];
	}
	t->pend_n = j;
	a->s.missing += gone;
	return gone;
}

void sim_net_close(struct sim_app *a, struct sim_term *t, double now, int retry)
{
	if (t->fd >= 0) {
		if (t->out_len && t->st == SIM_T_ONLINE) /* last words, best effort */
			(void)!send(t->fd, t->out, t->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
		epoll_ctl(a->ep, EPOLL_CTL_DEL, t->fd, NULL);
		close(t->fd);
		t->fd = -1;
	}
	if (t->st == SIM_T_ONLINE)
		a->online--;
	else if (t->st != SIM_T_IDLE)
		a->handshaking--;
	if (t->st == SIM_T_AUTHENTICATING)
		t->auth[0] = 0; /* the code may be what the server dislikes */
	t->st = SIM_T_IDLE;
	a->wake[t - a->t] = 0;
	t->gen++;
	t->out_len = 0;
	t->want_out = 0;
	jt808_framer_init(&t->fr);
	sim_net_expire(a, t, now, 1);
	if (!retry) {
		t->next_connect = INFINITY;
		return;
	}
	t->backoff = t->backoff > 0 ? fmin(2 * t->backoff, SIM_BACKOFF_MAX) : 1;
	t->next_connect = now + t->backoff * sim_rng_range(&t->v.rng, 0.8, 1.2);
}

/* Fails the connection: logs (rate-limited), counts an error, retries. */
static void fail(struct sim_app *a, struct sim_term *t, double now,
		 const char *what, const char *why)
{
	a->s.errors++;
	sim_net_close(a, t, now, 1);
	sim_logt(a, "terminal %s: %s: %s; retry in %.0f s", t->v.terminal, what,
		 why, t->next_connect - now);
}

/* Writes as much of the send buffer as the socket takes. Returns 0, or -1 if
 * the connection failed and was closed. */
static int flush(struct sim_app *a, struct sim_term *t, double now)
{
	size_t off = 0;

	while (off < t->out_len) {
		ssize_t k = send(t->fd, t->out + off, t->out_len - off,
				 MSG_NOSIGNAL);
		if (k > 0) {
			off += (size_t)k;
			a->s.bytes_sent += (uint64_t)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		fail(a, t, now, "send", k < 0 ? strerror(errno) : "closed");
		return -1;
	}
	memmove(t->out, t->out + off, t->out_len - off);
	t->out_len -= off;
	if ((t->out_len > 0) != t->want_out &&
	    ep_set(a, t, EPOLL_CTL_MOD, t->out_len > 0)) {
		fail(a, t, now, "epoll", strerror(errno));
		return -1;
	}
	return 0;
}

/* Encodes a frame with the next serial and queues it. Returns the serial
 * used (>= 0), -1 if the frame could not be queued (counted as an error), or
 * -2 if the connection failed and was closed. */
static int send_msg(struct sim_app *a, struct sim_term *t, uint16_t msg_id,
		    const uint8_t *body, size_t len, double now)
{
	uint16_t serial = t->serial;
	int n = jt808_encode(&t->hdr, msg_id, serial, body, len,
			     t->out + t->out_len, sizeof(t->out) - t->out_len);

	if (n == JT808_ESPACE) {
		/* the server is not reading: skip rather than grow */
		a->s.errors++;
		sim_logt(a, "terminal %s: send buffer full, 0x%04x dropped",
			 t->v.terminal, msg_id);
		return -1;
	}
	if (n < 0) {
		a->s.errors++;
		sim_logt(a, "terminal %s: cannot encode 0x%04x: %s", t->v.terminal,
			 msg_id, jt808_strerror(n));
		return -1;
	}
	t->out_len += (size_t)n;
	t->serial++;
	t->last_sent = now;
	a->s.frames_sent++;
	if (flush(a, t, now))
		return -2;
	return serial;
}

/* Sends 0x0100 with the vessel's plate and moves to REGISTERING. */
static void send_register(struct sim_app *a, struct sim_term *t, double now)
{
	struct jt808_register r;
	uint8_t body[JT808_MAX_BODY];
	size_t len = strlen(t->v.terminal);
	int n, serial;

	memset(&r, 0, sizeof(r));
	r.layout = a->o.protocol;
	r.province = 36;  /* Jiangxi */
	r.city = 200;     /* Jingdezhen, 360200 */
	snprintf(r.maker, sizeof(r.maker), "SWSIM");
	snprintf(r.model, sizeof(r.model), "SW-BD808");
	/* 2011/2013 terminal id is 7 bytes: the last 7 digits of the number */
	snprintf(r.terminal_id, sizeof(r.terminal_id), "%s",
		 a->o.protocol == 2019 || len <= 7 ? t->v.terminal
						  : t->v.terminal + len - 7);
	r.plate_color = 9; /* other: a vessel registration, not a road plate */
	snprintf(r.plate, sizeof(r.plate), "%s", t->v.registration);
	n = jt808_body_register(&r, body, sizeof(body));
	if (n < 0) {
		fail(a, t, now, "registration body", jt808_strerror(n));
		return;
	}
	serial = send_msg(a, t, JT808_REGISTER, body, (size_t)n, now);
	if (serial == -1)
		fail(a, t, now, "registration", "not sent");
	if (serial < 0)
		return;
	t->st = SIM_T_REGISTERING;
	t->since = now;
	t->wait_serial = (uint16_t)serial;
}

/* Sends 0x0102 with the stored auth code and moves to AUTHENTICATING. */
static void send_auth(struct sim_app *a, struct sim_term *t, double now)
{
	struct jt808_auth au;
	uint8_t body[128];
	int n, serial;

	memset(&au, 0, sizeof(au));
	snprintf(au.code, sizeof(au.code), "%s", t->auth);
	if (a->o.protocol == 2019) {
		/* a plausible 15-digit IMEI made from the terminal number */
		snprintf(au.imei, sizeof(au.imei), "86%013llu",
			 strtoull(t->v.terminal, NULL, 10) % 10000000000000ULL);
		snprintf(au.sw_version, sizeof(au.sw_version), "shorewatch-sim 1");
	}
	n = jt808_body_auth(&au, a->o.protocol == 2019, body, sizeof(body));
	if (n < 0) {
		t->auth[0] = 0;
		fail(a, t, now, "authentication body", jt808_strerror(n));
		return;
	}
	serial = send_msg(a, t, JT808_AUTH, body, (size_t)n, now);
	if (serial == -1)
		fail(a, t, now, "authentication", "not sent");
	if (serial < 0)
		return;
	t->st = SIM_T_AUTHENTICATING;
	t->since = now;
	t->wait_serial = (uint16_t)serial;
}

/* The terminal may report now: counts it online; the first position goes out
 * at once (visible on the map) unless the schedule kept running offline. */
static void go_online(struct sim_app *a, struct sim_term *t, double now)
{
	a->handshaking--;
	a->online++;
	t->st = SIM_T_ONLINE;
	t->since = now;
	t->backoff = 0;
	a->wake[t - a->t] = 0;
	if (!t->ever_online || t->next_report < now)
		t->next_report = now;
	t->ever_online = 1;
}

/* The TCP connection is up: register, or authenticate with a code we kept
 * from an earlier registration (as real terminals do). */
static void connected(struct sim_app *a, struct sim_term *t, double now)
{
	struct sockaddr_storage me, peer;
	socklen_t ml = sizeof(me), pl = sizeof(peer);

	/* a connect to a free port inside the ephemeral range can land on
	 * itself (TCP simultaneous open): that is no server */
	if (!getsockname(t->fd, (struct sockaddr *)&me, &ml) &&
	    !getpeername(t->fd, (struct sockaddr *)&peer, &pl) && ml == pl &&
	    !memcmp(&me, &peer, ml)) {
		fail(a, t, now, "connect", "connected to itself (no server on that port)");
		return;
	}
	if (a->o.feed != SIM_FEED_JT808) {
		/* text feeds: no handshake, no answers; NMEA names itself */
		if (a->o.feed == SIM_FEED_NMEA) {
			size_t n = sim_feed_hello(t, (char *)t->out + t->out_len,
						  sizeof(t->out) - t->out_len);
			t->out_len += n;
			a->s.lines_sent++;
		}
		go_online(a, t, now);
		flush(a, t, now);
		return;
	}
	if (t->auth[0])
		send_auth(a, t, now);
	else
		send_register(a, t, now);
}

void sim_net_connect(struct sim_app *a, struct sim_term *t, double now)
{
	int one = 1;

	if (t->gen)
		a->s.reconnects++;
	t->fd = socket(a->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (t->fd < 0) {
		a->s.errors++;
		t->backoff = t->backoff > 0 ? fmin(2 * t->backoff, SIM_BACKOFF_MAX) : 1;
		t->next_connect = now + t->backoff;
		sim_logt(a, "terminal %s: socket: %s", t->v.terminal, strerror(errno));
		return;
	}
	setsockopt(t->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	t->st = SIM_T_CONNECTING;
	t->since = now;
	a->handshaking++;
	jt808_framer_init(&t->fr);
	if (connect(t->fd, (struct sockaddr *)&a->addr, a->addrlen) == 0) {
		if (ep_set(a, t, EPOLL_CTL_ADD, 0)) {
			fail(a, t, now, "epoll", strerror(errno));
			return;
		}
		connected(a, t, now);
		return;
	}
	if (errno != EINPROGRESS) {
		fail(a, t, now, "connect", strerror(errno));
		return;
	}
	if (ep_set(a, t, EPOLL_CTL_ADD, 1))
		fail(a, t, now, "epoll", strerror(errno));
}

/* Context for the framer callback. */
struct rx_ctx {
	struct sim_app *a;
	struct sim_term *t;
	double now;
	uint32_t gen;
};

/* Forgets pending frame i. */
static void pend_remove(struct sim_term *t, unsigned i)
{
	t->pend_n--;
	memmove(&t->pend_serial[i], &t->pend_serial[i + 1],
		(t->pend_n - i) * sizeof(t->pend_serial[0]));
	memmove(&t->pend_count[i], &t->pend_count[i + 1],
		(t->pend_n - i) * sizeof(t->pend_count[0]));
	memmove(&t->pend_time[i], &t->pend_time[i + 1],
		(t->pend_n - i) * sizeof(t->pend_time[0]));
}

/* Remembers a frame carrying count positions until its 0x8001; when the list
 * is full the oldest is counted missing. */
static void pend_add(struct sim_app *a, struct sim_term *t, uint16_t serial,
		     unsigned count, double now)
{
	if (t->pend_n == SIM_PENDING) {
		a->s.missing += t->pend_count[0];
		sim_logt(a, "terminal %s: %d position frames unanswered",
			 t->v.terminal, SIM_PENDING);
		pend_remove(t, 0);
	}
	t->pend_serial[t->pend_n] = serial;
	t->pend_count[t->pend_n] = (uint16_t)count;
	t->pend_time[t->pend_n++] = now;
}

/* Handles 0x8001: the answer to our 0x0102, 0x0200 or 0x0002. */
static int on_ack(struct rx_ctx *c, const struct jt808_msg *m)
{
	struct sim_app *a = c->a;
	struct sim_term *t = c->t;
	struct jt808_response r;
	unsigned i;

	if (jt808_parse_response(m->body, m->body_len, &r)) {
		a->s.errors++;
		sim_logt(a, "terminal %s: malformed 0x8001", t->v.terminal);
		return 0;
	}
	if (r.ack_id == JT808_AUTH && t->st == SIM_T_AUTHENTICATING) {
		if (r.result != JT808_RESULT_OK) {
			char why[32];
			a->s.refused++;
			t->auth[0] = 0;
			snprintf(why, sizeof(why), "result %u", r.result);
			fail(a, t, c->now, "authentication refused", why);
			return 1;
		}
		go_online(a, t, c->now);
		return 0;
	}
	if (r.ack_id == JT808_LOCATION || r.ack_id == JT808_LOCATION_BATCH) {
		/* a late 0x0200 ack (already counted missing) still counts one */
		unsigned got = r.ack_id == JT808_LOCATION;

		for (i = 0; i < t->pend_n; i++)
			if (t->pend_serial[i] == r.ack_serial) {
				got = t->pend_count[i];
				pend_remove(t, i);
				break;
			}
		a->s.acks += got;
	}
	if (r.result != JT808_RESULT_OK) {
		a->s.errors++;
		sim_logt(a, "terminal %s: server answered 0x%04x serial %u with result %u",
			 t->v.terminal, r.ack_id, r.ack_serial, r.result);
	}
	return 0;
}

/* Handles 0x8100: refusal (back off and retry) or the auth code. */
static int on_register_response(struct rx_ctx *c, const struct jt808_msg *m)
{
	struct sim_app *a = c->a;
	struct sim_term *t = c->t;
	struct jt808_register_response r;
	char why[32];

	if (t->st != SIM_T_REGISTERING)
		return 0; /* late duplicate */
	if (jt808_parse_register_response(m->body, m->body_len, &r)) {
		fail(a, t, c->now, "registration", "malformed 0x8100");
		return 1;
	}
	if (r.result != JT808_RESULT_OK || !r.auth_code[0]) {
		a->s.refused++;
		a->s.errors++;
		sim_net_close(a, t, c->now, 1);
		snprintf(why, sizeof(why), "%u", r.result);
		sim_logt(a, "terminal %s refused: result %s; retry in %.0f s",
			 t->v.terminal, r.result ? why : "0 without auth code",
			 t->next_connect - c->now);
		return 1;
	}
	snprintf(t->auth, sizeof(t->auth), "%s", r.auth_code);
	send_auth(a, t, c->now);
	return t->gen != c->gen;
}

/* Framer callback: one frame from the server. */
static int on_frame(void *user, const uint8_t *content, size_t len, int err)
{
	struct rx_ctx *c = user;
	struct jt808_msg m;
	int rc;

	if (err == JT808_OK)
		err = jt808_decode(content, len, &m);
	if (err != JT808_OK) {
		c->a->s.errors++;
		sim_logt(c->a, "terminal %s: bad frame from server: %s",
			 c->t->v.terminal, jt808_strerror(err));
		return 0;
	}
	switch (m.h.msg_id) {
	case JT808_PLAT_RESPONSE:
		return on_ack(c, &m);
	case JT808_REGISTER_RESPONSE:
		return on_register_response(c, &m);
	default: {
		if (m.h.msg_id < 0x8000) {
			/* terminal-side traffic: never answer it, or two peers
			 * talking like terminals would echo each other forever */
			c->a->s.errors++;
			sim_logt(c->a, "terminal %s: unexpected 0x%04x from the server",
				 c->t->v.terminal, m.h.msg_id);
			return 0;
		}
		/* a downlink command we do not implement: say so (0x0001, 3) */
		struct jt808_response r = {m.h.serial, m.h.msg_id,
					   JT808_RESULT_UNSUPPORTED};
		uint8_t body[8];
		int n = jt808_body_response(&r, body, sizeof(body));

		if (n > 0) {
			rc = send_msg(c->a, c->t, JT808_TERM_RESPONSE, body,
				      (size_t)n, c->now);
			if (rc == -2)
				return 1;
		}
		return 0;
	}
	}
}

/* Reads everything available and feeds the framer. */
static void on_readable(struct sim_app *a, struct sim_term *t, double now)
{
	uint8_t buf[4096];
	struct rx_ctx c = {a, t, now, t->gen};
	int round;

	/* bounded, so one chatty connection cannot starve the others */
	for (round = 0; round < 16; round++) {
		ssize_t k = recv(t->fd, buf, sizeof(buf), 0);
		if (k > 0) {
			if (a->o.feed == SIM_FEED_JT808 &&
			    (jt808_framer_push(&t->fr, buf, (size_t)k, on_frame, &c) ||
			     t->gen != c.gen))
				return;
			/* a short read emptied the socket: spare the EAGAIN
			 * round trip (level-triggered epoll reports the rest) */
			if ((size_t)k < sizeof(buf))
				return;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		fail(a, t, now, "connection",
		     k == 0 ? "closed by the server" : strerror(errno));
		return;
	}
}

void sim_net_event(struct sim_app *a, struct sim_term *t, uint32_t events,
		   double now)
{
	uint32_t gen = t->gen;

	if (t->st == SIM_T_CONNECTING) {
		int e = 0;
		socklen_t el = sizeof(e);

		if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &e, &el) || e) {
			fail(a, t, now, "connect", strerror(e ? e : errno));
			return;
		}
		if (!(events & (EPOLLOUT | EPOLLIN)))
			return;
		if (ep_set(a, t, EPOLL_CTL_MOD, 0)) {
			fail(a, t, now, "epoll", strerror(errno));
			return;
		}
		connected(a, t, now);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		on_readable(a, t, now);
	if (t->gen == gen && t->fd >= 0 && (events & EPOLLOUT))
		flush(a, t, now);
}

/* Samples the vessel now and encodes the 0x0200 body into out (at least
 * SIM_SLOT - 1 bytes). Returns its length, or -1 (counted as an error). */
static int location_body(struct sim_app *a, struct sim_term *t, double now,
			 uint8_t *out, size_t cap)
{
	struct jt808_location l;
	struct sim_fix fx;
	int n;

	sim_sample(a, t, now, &fx);
	memset(&l, 0, sizeof(l));
	l.status = STATUS_GPS | STATUS_BDS |
		   (t->v.phase == SIM_PARKED ? 0 : STATUS_ACC);
	l.fix_valid = 1;
	l.lat_e6 = (int32_t)lround(fx.lat * 1e6);
	l.lon_e6 = (int32_t)lround(fx.lon * 1e6);
	l.altitude_m = 22;
	l.speed_dkmh = (uint16_t)lround(fx.speed_kmh * 10);
	l.course = (uint16_t)((int)lround(fx.course) % 360);
	/* the sample's own time: a stored position keeps it; a replay counts
	 * whole seconds from its start in the past, one a report */
	if (a->o.time_scale > 0) {
		double span = (a->o.duration > 0 ? a->o.duration : 3600) * a->o.time_scale;
		l.time = (int64_t)(a->start_real - span) + (int64_t)t->replay_s++;
	} else {
		l.time = (int64_t)a->now_real;
	}
	l.time_valid = 1;
	l.has_mileage = 1;
	l.mileage_hm = fx.mileage_hm;
	l.has_signal = 1;
	l.signal = (uint8_t)fx.signal;
	l.has_sats = 1;
	l.satellites = (uint8_t)fx.satellites;
	n = jt808_body_location(&l, TZ_GMT8, out, cap);
	if (n < 0) {
		a->s.errors++;
		sim_logt(a, "terminal %s: cannot encode location: %s",
			 t->v.terminal, jt808_strerror(n));
		return -1;
	}
	if (a->o.verbose)
		sim_log("%s %s %s %.6f %.6f %.1f km/h %.0f deg%s", t->v.terminal,
			t->v.name, sim_phase_name(t->v.phase), fx.lon, fx.lat,
			fx.speed_kmh, fx.course,
			t->st != SIM_T_ONLINE || t->in_gap ? " (stored)" : "");
	return n;
}

/* Keeps a sampled body for the blind-area re-send; the ring is allocated on
 * first use and, when full, loses its oldest position. */
static void blind_store(struct sim_app *a, struct sim_term *t,
			const uint8_t *body, size_t len)
{
	uint32_t slot;

	if (!t->blind) {
		double want = 2 * a->o.gap_length / a->o.interval + 64;
		uint32_t cap = want > SIM_BLIND_MAX ? SIM_BLIND_MAX : (uint32_t)want;

		t->blind = malloc((size_t)cap * SIM_SLOT);
		if (!t->blind) {
			a->s.blind_dropped++;
			return;
		}
		t->blind_cap = cap;
	}
	if (t->blind_n == t->blind_cap) {
		t->blind_head = (t->blind_head + 1) % t->blind_cap;
		t->blind_n--;
		a->s.blind_dropped++;
	}
	slot = (t->blind_head + t->blind_n) % t->blind_cap;
	t->blind[(size_t)slot * SIM_SLOT] = (uint8_t)len;
	memcpy(t->blind + (size_t)slot * SIM_SLOT + 1, body, len);
	t->blind_n++;
	a->s.blind_stored++;
}

/* Builds a 0x0704 body of type `type` from up to max stored bodies (slots of
 * SIM_SLOT bytes, first slot at index first of a ring of cap slots), keeping
 * it within JT808_MAX_BODY. Returns the body length; *used the items taken. */
static size_t batch_body(uint8_t type, const uint8_t *slots, uint32_t first,
			 uint32_t cap, uint32_t avail, uint32_t max,
			 uint8_t *body, uint32_t *used)
{
	size_t len = 3;
	uint32_t k = 0;

	while (k < avail && k < max) {
		const uint8_t *s = slots + (size_t)((first + k) % cap) * SIM_SLOT;
		size_t il = s[0];

		if (len + 2 + il > JT808_MAX_BODY)
			break;
		body[len] = 0;
		body[len + 1] = (uint8_t)il;
		memcpy(body + len + 2, s + 1, il);
		len += 2 + il;
		k++;
	}
	body[0] = (uint8_t)(k >> 8);
	body[1] = (uint8_t)k;
	body[2] = type;
	*used = k;
	return len;
}

/* Sends one 0x0704 with the given body of count positions and remembers it
 * for its 0x8001. Returns 0, -1 if not queued, -2 if the connection closed. */
static int send_batch(struct sim_app *a, struct sim_term *t, const uint8_t *body,
		      size_t len, uint32_t count, double now)
{
	int serial = send_msg(a, t, JT808_LOCATION_BATCH, body, len, now);

	if (serial == -2) {
		/* sent before the failure; counted missing with the rest */
		a->s.positions_sent += count;
		a->s.missing += count;
		return -2;
	}
	if (serial < 0)
		return -1;
	a->s.positions_sent += count;
	pend_add(a, t, (uint16_t)serial, count, now);
	return 0;
}

/* Re-sends stored positions as 0x0704 type 1, up to SIM_BLIND_ITEMS per
 * frame, a few frames per tick and only while few frames await their 0x8001
 * (the server sets the pace). */
static void blind_upload(struct sim_app *a, struct sim_term *t, double now)
{
	uint8_t body[JT808_MAX_BODY];
	int frames;

	for (frames = 0; frames < 8 && t->blind_n && t->st == SIM_T_ONLINE &&
			 t->pend_n < SIM_PENDING / 2 &&
			 sizeof(t->out) - t->out_len >= JT808_MAX_WIRE;
	     frames++) {
		uint32_t used;
		size_t len = batch_body(1, t->blind, t->blind_head, t->blind_cap,
					t->blind_n, SIM_BLIND_ITEMS, body, &used);

		if (send_batch(a, t, body, len, used, now))
			return;
		t->blind_head = (t->blind_head + used) % t->blind_cap;
		t->blind_n -= used;
		a->s.blind_sent += used;
	}
}

/* Sends the live positions collected for --batch as 0x0704 type 0 frames. */
static void live_flush(struct sim_app *a, struct sim_term *t, double now)
{
	uint8_t body[JT808_MAX_BODY];
	uint32_t first = 0;

	while (first < t->live_n && t->st == SIM_T_ONLINE) {
		uint32_t used;
		size_t len = batch_body(0, t->live, first, (uint32_t)a->o.batch,
					t->live_n - first, (uint32_t)a->o.batch,
					body, &used);
		int rc = send_batch(a, t, body, len, used, now);

		if (rc == -2) {
			first += used;
			a->s.missing += t->live_n - first; /* never sent */
			break;
		}
		if (rc < 0) {
			a->s.missing += t->live_n - first; /* dropped */
			break;
		}
		first += used;
	}
	t->live_n = 0;
}

/* Samples one position and sends it: a 0x0200, a --batch slot, or (offline,
 * in a gap) the blind-area store. */
static void report(struct sim_app *a, struct sim_term *t, double now)
{
	uint8_t body[SIM_SLOT];
	int n, serial;
	int store = t->st != SIM_T_ONLINE || t->in_gap;

	if (!store && a->o.batch > 1) {
		n = location_body(a, t, now, t->live + (size_t)t->live_n * SIM_SLOT + 1,
				  SIM_SLOT - 1);
		if (n < 0)
			return;
		t->live[(size_t)t->live_n * SIM_SLOT] = (uint8_t)n;
		if (++t->live_n >= (uint32_t)a->o.batch)
			live_flush(a, t, now);
		return;
	}
	n = location_body(a, t, now, body, sizeof(body));
	if (n < 0)
		return;
	if (store) {
		blind_store(a, t, body, (size_t)n);
		return;
	}
	serial = send_msg(a, t, JT808_LOCATION, body, (size_t)n, now);
	if (serial == -2) {
		a->s.positions_sent++;
		a->s.missing++;
	}
	if (serial < 0)
		return;
	a->s.positions_sent++;
	pend_add(a, t, (uint16_t)serial, 1, now);
}

/* The --gap-every / --gap-length schedule: enters and leaves signal loss. */
static void gap_tick(struct sim_app *a, struct sim_term *t, double now)
{
	if (!t->in_gap && now >= t->gap_start) {
		t->in_gap = 1;
		if (t->live_n) {
			/* collected for a batch but never sent: keep them */
			uint32_t i;
			for (i = 0; i < t->live_n; i++)
				blind_store(a, t, t->live + (size_t)i * SIM_SLOT + 1,
					    t->live[(size_t)i * SIM_SLOT]);
			t->live_n = 0;
		}
		if (a->o.verbose)
			sim_log("%s: signal lost for %g s", t->v.terminal,
				a->o.gap_length);
	} else if (t->in_gap && now >= t->gap_end) {
		t->in_gap = 0;
		t->gap_start += a->o.gap_every;
		if (t->gap_start < now)
			t->gap_start = now + a->o.gap_every - a->o.gap_length;
		t->gap_end = t->gap_start + a->o.gap_length;
		if (a->o.verbose)
			sim_log("%s: signal back, %u positions stored",
				t->v.terminal, t->blind_n);
	}
}

/* Whether a report is due now, taking a --rate token if so. */
static int due(struct sim_app *a, struct sim_term *t, double now)
{
	if (now < t->next_report || (a->o.rate > 0 && a->rate_tokens < 1))
		return 0;
	if (a->o.rate > 0)
		a->rate_tokens -= 1;
	t->next_report += a->o.interval;
	if (t->next_report < now)
		t->next_report = now + a->o.interval;
	return 1;
}

/* Text feeds (NMEA, AIS): report when due; nothing to wait for. */
static void text_tick(struct sim_app *a, struct sim_term *t, double now)
{
	if (t->st != SIM_T_ONLINE) {
		if (t->st != SIM_T_IDLE && now - t->since > SIM_REPLY_TIMEOUT)
			fail(a, t, now, "connect", "no answer in 15 s");
		return;
	}
	if (a->draining || !due(a, t, now))
		return;
	if (sim_feed_report(a, t, now) && t->fd >= 0)
		flush(a, t, now);
	a->wake[t - a->t] = t->next_report;
}

/* When an on-line JT/T 808 terminal next has something to do: a report, a
 * heartbeat, a gap edge; now while blind-area positions wait. */
static double jt_wake(const struct sim_app *a, const struct sim_term *t,
		      double now)
{
	double w = t->next_report;

	if (t->blind_n && !t->in_gap)
		return now;
	if (!t->in_gap && t->last_sent + SIM_HEARTBEAT < w)
		w = t->last_sent + SIM_HEARTBEAT;
	if (a->o.gap_every > 0) {
		double edge = t->in_gap ? t->gap_end : t->gap_start;
		if (edge < w)
			w = edge;
	}
	return w;
}

void sim_net_tick(struct sim_app *a, struct sim_term *t, double now)
{
	if (a->o.feed != SIM_FEED_JT808) {
		text_tick(a, t, now);
		return;
	}
	if (a->o.gap_every > 0)
		gap_tick(a, t, now);
	switch (t->st) {
	case SIM_T_IDLE:
		break;
	case SIM_T_CONNECTING:
	case SIM_T_REGISTERING:
	case SIM_T_AUTHENTICATING:
		if (now - t->since > SIM_REPLY_TIMEOUT)
			fail(a, t, now,
			     t->st == SIM_T_CONNECTING ? "connect"
			     : t->st == SIM_T_REGISTERING ? "registration"
							   : "authentication",
			     "no answer in 15 s");
		break;
	case SIM_T_ONLINE:
		break;
	}
	if (t->st != SIM_T_ONLINE) {
		/* a terminal that has been on line keeps sampling into its
		 * blind-area store while the connection is down */
		if (a->o.gap_every > 0 && t->ever_online && !a->draining &&
		    due(a, t, now))
			report(a, t, now);
		return;
	}
	if (a->draining) {
		if (t->live_n && !t->in_gap)
			live_flush(a, t, now);
		return;
	}
	if (due(a, t, now)) {
		report(a, t, now);
		if (t->st != SIM_T_ONLINE)
			return;
	}
	if (t->in_gap) {
		a->wake[t - a->t] = jt_wake(a, t, now); /* silent: no heartbeat either */
		return;
	}
	if (t->blind_n)
		blind_upload(a, t, now);
	if (t->st == SIM_T_ONLINE && now - t->last_sent >= SIM_HEARTBEAT)
		send_msg(a, t, JT808_HEARTBEAT, NULL, 0, now);
	if (t->st == SIM_T_ONLINE)
		a->wake[t - a->t] = jt_wake(a, t, now);
}
