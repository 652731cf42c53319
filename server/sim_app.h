/* sim_app.h -- shorewatch-sim's shared state: options, counters, terminals and the event loop context. */
#ifndef SW_SIM_APP_H
#define SW_SIM_APP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "jt808.h"
#include "sim_geo.h"
#include "sim_model.h"

#define SIM_OUTBUF 2048      /* per-terminal send buffer */
#define SIM_PENDING 16       /* unacknowledged 0x0200 remembered per terminal */
#define SIM_ACK_TIMEOUT 30.0 /* a position without 0x8001 after this is missing */
#define SIM_HEARTBEAT 30.0   /* heartbeat after this long without sending */
#define SIM_REPLY_TIMEOUT 15.0 /* for 0x8100 / the 0x8001 of 0x0102 */
#define SIM_BACKOFF_MAX 30.0

/* Command-line options. */
struct sim_opts {
	char server[256];       /* HOST:PORT */
	char vessels[1024];
	char demo_dir[1024];
	int protocol;           /* 2011, 2013 or 2019 */
	double interval;        /* seconds between location reports */
	double day_seconds;     /* length of a schedule day in real seconds */
	int stagger;
	uint64_t seed;
	long count;             /* 0: the demo fleet; else synthetic terminals */
	uint64_t terminal_base;
	double duration;        /* 0: until a signal */
	double rate;            /* overall positions/s cap, 0: none */
	double connect_rate;    /* new connections per second */
	int quiet;
	int verbose;
};

/* Counters reported in the status and summary lines. */
struct sim_stats {
	uint64_t frames_sent;
	uint64_t positions_sent;
	uint64_t acks;          /* 0x8001 received for our 0x0200 */
	uint64_t errors;        /* connect/IO failures, refusals, bad frames, NAKs */
	uint64_t missing;       /* positions never acknowledged */
	uint64_t refused;       /* registration / authentication refusals */
	uint64_t reconnects;
};

enum sim_tstate {
	SIM_T_IDLE,           /* not connected; connect at next_connect */
	SIM_T_CONNECTING,
	SIM_T_REGISTERING,    /* 0x0100 sent, waiting for 0x8100 */
	SIM_T_AUTHENTICATING, /* 0x0102 sent, waiting for 0x8001 */
	SIM_T_ONLINE,
};

/* One simulated terminal: its vessel, its connection, its protocol state. */
struct sim_term {
	struct sim_vessel v;
	struct jt808_header hdr; /* header template with our phone bytes */
	enum sim_tstate st;
	int fd;
	uint32_t gen;            /* bumped on every close: stale epoll events */
	int want_out;            /* EPOLLOUT currently registered */
	uint16_t serial;         /* next header serial */
	uint16_t wait_serial;    /* serial of the 0x0100 / 0x0102 in flight */
	char auth[64];           /* auth code from 0x8100, "" if none */
	double next_connect;
	double backoff;
	double since;            /* when the current state began */
	double last_sent;
	double next_report;
	uint16_t pend_serial[SIM_PENDING];
	double pend_time[SIM_PENDING];
	unsigned pend_n;
	size_t out_len;
	uint8_t out[SIM_OUTBUF];
	struct jt808_framer fr;
};

/* The whole simulator. */
struct sim_app {
	struct sim_opts o;
	struct sim_geo geo;
	struct sim_term *t;
	size_t n;
	int ep;                  /* epoll fd */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	double start_mono, start_real;
	double k;                /* schedule seconds per real second */
	size_t handshaking;      /* terminals between connect and online */
	size_t online;
	double conn_tokens, rate_tokens, last_refill;
	size_t scan_from;        /* rotating start of the report scan */
	struct sim_stats s;
	double log_window;       /* rate limit for per-terminal messages */
	unsigned log_count, log_dropped;
	int draining;            /* stopping: no new sends, waiting for acks */
};

/* Monotonic and wall-clock time in seconds. */
double sim_mono(void);
double sim_real(void);

/* The schedule's local (UTC+8) time of day in seconds, with --day-seconds
 * compression applied since the start. */
double sim_tod(const struct sim_app *a);

/* Message on stderr, with a local timestamp. */
void sim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same, for per-terminal events: at most 20 per 10 s, the rest counted. */
void sim_logt(struct sim_app *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Connection layer (sim_net.c). */
/* Resolves o.server into a->addr. 0 or -1 with err set. */
int sim_net_resolve(struct sim_app *a, char *err, size_t errlen);
/* Starts a non-blocking connect for t; on failure schedules a retry. */
void sim_net_connect(struct sim_app *a, struct sim_term *t, double now);
/* Handles epoll events for t. */
void sim_net_event(struct sim_app *a, struct sim_term *t, uint32_t events,
		   double now);
/* Periodic per-terminal work: timeouts, heartbeat, location report. */
void sim_net_tick(struct sim_app *a, struct sim_term *t, double now);
/* Closes t's connection (if any) and, if retry, schedules a reconnect with
 * exponential backoff. */
void sim_net_close(struct sim_app *a, struct sim_term *t, double now, int retry);
/* Drops pending positions older than the ack timeout (all if force); counts
 * them missing. Returns how many were dropped. */
unsigned sim_net_expire(struct sim_app *a, struct sim_term *t, double now,
			int force);

#endif
