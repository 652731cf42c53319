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

#define SIM_OUTBUF 4096      /* per-terminal send buffer (>= JT808_MAX_WIRE) */
#define SIM_PENDING 32       /* unacknowledged 0x0200 / 0x0704 frames per terminal */
#define SIM_SLOT 48          /* a stored 0x0200 body: length byte + up to 47 */
#define SIM_BLIND_ITEMS 20   /* 0x0704 blind-area items per frame */
#define SIM_BLIND_MAX 20000  /* positions a terminal stores while offline */
#define SIM_DGRAM 1400       /* UDP datagram payload (several AIS lines) */
#define SIM_ACK_TIMEOUT 30.0 /* a position without 0x8001 after this is missing */
#define SIM_HEARTBEAT 30.0   /* heartbeat after this long without sending */
#define SIM_REPLY_TIMEOUT 15.0 /* for 0x8100 / the 0x8001 of 0x0102 */
#define SIM_BACKOFF_MAX 30.0

/* What the simulated devices speak. */
enum sim_feed {
	SIM_FEED_JT808,
	SIM_FEED_NMEA,    /* $PSWID then $GNRMC + $GNGGA over TCP */
	SIM_FEED_AIS_UDP, /* !AIVDM lines, several per datagram, one socket */
	SIM_FEED_AIS_TCP, /* !AIVDM lines, one TCP connection per vessel */
};

/* Command-line options. */
struct sim_opts {
	enum sim_feed feed;
	uint64_t mmsi_base;     /* first MMSI (0: 413000000) */
	double gap_every;       /* JT/T 808 signal loss every S seconds, 0: off */
	double gap_length;      /* ... lasting S seconds */
	int batch;              /* live positions per 0x0704 type 0, 0/1: 0x0200 */
	char server[256];       /* HOST:PORT */
	char vessels[1024];
	char demo_dir[1024];
	int protocol;           /* 2011, 2013 or 2019 */
	double interval;        /* seconds between location reports */
	double time_scale;      /* 0: device time is the real time; K > 0: a
				 * replay of the past, each report one second of
				 * device time later (see --time-scale) */
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
	uint64_t acks;          /* positions acknowledged by 0x8001 (0x0200 / 0x0704) */
	uint64_t lines_sent;    /* NMEA / AIS sentences */
	uint64_t datagrams;     /* UDP datagrams */
	uint64_t bytes_sent;
	uint64_t blind_stored;  /* positions kept during a gap / while offline */
	uint64_t blind_sent;    /* ... re-sent as 0x0704 type 1 */
	uint64_t blind_dropped; /* ... lost because the store was full */
	uint64_t statics;       /* AIS static messages (type 5 / 24) */
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
	uint32_t replay_s;       /* --time-scale: seconds of device time reported */
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
	uint32_t mmsi;           /* AIS feeds */
	uint8_t class_b;         /* AIS: type 18 / 24 instead of 1 / 5 */
	uint8_t ever_online;     /* JT/T 808: store positions while offline */
	uint8_t in_gap;          /* JT/T 808: simulated signal loss */
	uint32_t reports;        /* positions sampled so far */
	double gap_start, gap_end;
	uint8_t *blind;          /* ring of SIM_SLOT bodies, malloc'd on demand */
	uint32_t blind_head, blind_n, blind_cap;
	uint8_t *live;           /* --batch: bodies waiting for a 0x0704 */
	uint32_t live_n;
	uint16_t pend_serial[SIM_PENDING];
	uint16_t pend_count[SIM_PENDING]; /* positions in that frame */
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
	double *wake;            /* per terminal: the scan skips an on-line one
				  * until then (apart: a compact array to scan) */
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
	double now_real, tod;    /* wall clock and schedule time of this scan */
	int udp_fd;              /* ais-udp: the one socket, else -1 */
	int ais_seq;             /* next multi-fragment sequential id, 0-9 */
	size_t dgram_len;
	char dgram[SIM_DGRAM];
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
/* Flushes the pending UDP datagram (ais-udp). */
void sim_net_udp_flush(struct sim_app *a, double now);
/* Opens the ais-udp socket. 0 or -1 (logged). */
int sim_net_udp_open(struct sim_app *a);
/* The feed's name for the summary line. */
const char *sim_feed_name(enum sim_feed f);

/* Text feeds (sim_feed.c). */
/* Appends one position report (and every 6th time the AIS static data) of t
 * to its TCP send buffer (nmea, ais-tcp) or the shared datagram (ais-udp).
 * Returns the bytes queued, 0 if nothing fit. */
size_t sim_feed_report(struct sim_app *a, struct sim_term *t, double now);
/* The NMEA greeting "$PSWID,<terminal>*hh\r\n" into out. */
size_t sim_feed_hello(const struct sim_term *t, char *out, size_t cap);
/* Samples the vessel's position for a report at now (advances the model). */
void sim_sample(struct sim_app *a, struct sim_term *t, double now,
		struct sim_fix *fx);

/* Drops pending positions older than the ack timeout (all if force); counts
 * them missing. Returns how many were dropped. */
unsigned sim_net_expire(struct sim_app *a, struct sim_term *t, double now,
			int force);

#endif
