/* sim_main.c -- shorewatch-sim: a demo fleet and load generator that speaks JT/T 808, NMEA 0183 or AIS to a Shorewatch server like real terminals. */
#include "sim_app.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_HANDSHAKING 256   /* connects + registrations in flight */
#define SCAN_MIN 0.005        /* seconds between scans of all terminals */
#define STATUS_EVERY 10.0
#define DRAIN_MAX 2.0         /* seconds to wait for the last acks */

static volatile sig_atomic_t g_stop;

/* Signal handler: the first signal stops, the second stops at once. */
static void on_signal(int sig)
{
	g_stop = g_stop ? 2 : 1;
}

double sim_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double sim_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

double sim_tod(const struct sim_app *a)
{
	double t = a->start_real + (sim_real() - a->start_real) * a->k;
	return fmod(t + 28800.0, 86400.0);
}

/* Writes "shorewatch-sim: HH:MM:SS message\n" to stderr. */
static void vlog(const char *fmt, va_list ap)
{
	char msg[1024], ts[32];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "shorewatch-sim: %s %s\n", ts, msg);
}

void sim_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

void sim_logt(struct sim_app *a, const char *fmt, ...)
{
	va_list ap;
	double now = sim_mono();

	if (now - a->log_window >= 10.0) {
		if (a->log_dropped)
			sim_log("(%u similar messages suppressed)", a->log_dropped);
		a->log_window = now;
		a->log_count = 0;
		a->log_dropped = 0;
	}
	if (a->log_count >= 20) {
		a->log_dropped++;
		return;
	}
	a->log_count++;
	va_start(ap, fmt);
	vlog(fmt, ap);
	va_end(ap);
}

/* Prints the usage text to f. */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: shorewatch-sim [options]\n"
		"Simulates JT/T 808 terminals, NMEA receivers or AIS transponders reporting\n"
		"to a Shorewatch server.\n"
		"\n"
		"  --feed F             jt808 (default), nmea, ais-udp or ais-tcp\n"
		"  --server HOST:PORT   server address (default per feed: $SHOREWATCH_JT808 or\n"
		"                       127.0.0.1:6808; $SHOREWATCH_NMEA or 127.0.0.1:10110;\n"
		"                       $SHOREWATCH_AIS or 127.0.0.1:10111)\n"
		"  --vessels FILE       demo fleet (default schema/demo/vessels.json)\n"
		"  --demo-dir DIR       chang_river, mining_zones, parking .geojson (default schema/demo)\n"
		"  --protocol VER       2013 (default), 2019 or 2011\n"
		"  --interval SEC       seconds between location reports (default 5; 0.005 or more)\n"
		"  --time-scale K       replay the past K times faster than real time: each\n"
		"                       report carries the next second of device time, starting\n"
		"                       duration x K seconds ago (a fleet catching up after a gap;\n"
		"                       load tests); 0 (default): device time = real time\n"
		"  --day-seconds N      real seconds per schedule day (default 86400: real time)\n"
		"  --stagger, --no-stagger  spread the fleet over working/transit/parked at start (default on)\n"
		"  --seed N             random seed (default 1)\n"
		"  --count N            run N synthetic terminals instead of the demo fleet\n"
		"  --terminal-base B    first synthetic terminal number (default 13900000000)\n"
		"  --duration S         stop after S seconds\n"
		"  --rate R             cap on positions per second, all terminals together\n"
		"  --connect-rate R     new connections per second (default 1000)\n"
		"  --quiet              no status line every 10 s\n"
		"  --verbose            log every position sent\n"
		"  --help\n"
		"JT/T 808:\n"
		"  --batch N            send live positions as 0x0704 type 0 batches of N\n"
		"                       (split to keep bodies within 1023 bytes) instead of 0x0200s\n"
		"  --gap-every S        every S seconds a terminal loses signal (default off)...\n"
		"  --gap-length S       ...for S seconds (default 60): it keeps sampling, stores\n"
		"                       the positions (also while disconnected) and re-sends them\n"
		"                       as 0x0704 type 1, up to 20 per frame, when back\n"
		"NMEA: one TCP connection per terminal: $PSWID,<terminal> first, then $GNRMC and\n"
		"  $GNGGA per report; nothing is expected back.\n"
		"AIS: type 1 (type 18 for every second vessel: Class B) per report, static data\n"
		"  (type 5 / type 24 A+B) with every 6th; ais-udp packs lines into datagrams\n"
		"  from one socket, ais-tcp uses one connection per vessel.\n"
		"  --mmsi-base M        MMSI of synthetic vessel i is M + i, of demo vessel i\n"
		"                       (1-based) M + i (default 413000000)\n"
		"\n"
		"Status lines go to stderr, the summary line (key=value) to stdout. Exit codes: 0 normal,\n"
		"1 vessels or geography unreadable, 2 bad usage.\n");
}

/* Parses a number in [lo, hi]; 0 or -1 with a message naming the option. */
static int num_arg(const char *opt, const char *s, double lo, double hi,
		   double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
		fprintf(stderr, "shorewatch-sim: bad %s '%s': expected a number from %g to %g\n",
			opt, s, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* Parses argv into o. Returns 0, 1 for --help, or -1 on bad usage. */
static int parse_args(int argc, char **argv, struct sim_opts *o)
{
	enum { O_SERVER = 256, O_VESSELS, O_DEMO, O_PROTO, O_INTERVAL, O_DAY,
	       O_STAGGER, O_NOSTAGGER, O_SEED, O_COUNT, O_BASE, O_DURATION,
	       O_RATE, O_CRATE, O_QUIET, O_VERBOSE, O_HELP, O_FEED, O_MMSI,
	       O_GAP_EVERY, O_GAP_LENGTH, O_BATCH, O_TSCALE };
	static const struct option lo[] = {
		{"server", required_argument, 0, O_SERVER},
		{"vessels", required_argument, 0, O_VESSELS},
		{"demo-dir", required_argument, 0, O_DEMO},
		{"protocol", required_argument, 0, O_PROTO},
		{"interval", required_argument, 0, O_INTERVAL},
		{"day-seconds", required_argument, 0, O_DAY},
		{"stagger", no_argument, 0, O_STAGGER},
		{"no-stagger", no_argument, 0, O_NOSTAGGER},
		{"seed", required_argument, 0, O_SEED},
		{"count", required_argument, 0, O_COUNT},
		{"terminal-base", required_argument, 0, O_BASE},
		{"duration", required_argument, 0, O_DURATION},
		{"rate", required_argument, 0, O_RATE},
		{"connect-rate", required_argument, 0, O_CRATE},
		{"quiet", no_argument, 0, O_QUIET},
		{"verbose", no_argument, 0, O_VERBOSE},
		{"help", no_argument, 0, O_HELP},
		{"feed", required_argument, 0, O_FEED},
		{"mmsi-base", required_argument, 0, O_MMSI},
		{"gap-every", required_argument, 0, O_GAP_EVERY},
		{"gap-length", required_argument, 0, O_GAP_LENGTH},
		{"batch", required_argument, 0, O_BATCH},
		{"time-scale", required_argument, 0, O_TSCALE},
		{0, 0, 0, 0},
	};
	const char *env;
	double v;
	int c, have_server = 0;

	memset(o, 0, sizeof(*o));
	o->mmsi_base = 413000000;
	o->gap_length = 60;
	snprintf(o->vessels, sizeof(o->vessels), "schema/demo/vessels.json");
	snprintf(o->demo_dir, sizeof(o->demo_dir), "schema/demo");
	o->protocol = 2013;
	o->interval = 5;
	o->day_seconds = 86400;
	o->stagger = 1;
	o->seed = 1;
	o->terminal_base = 13900000000ULL;
	o->connect_rate = 1000;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hqv", lo, NULL)) != -1) {
		switch (c) {
		case O_SERVER:
			snprintf(o->server, sizeof(o->server), "%s", optarg);
			have_server = 1;
			break;
		case O_FEED:
			if (!strcmp(optarg, "jt808"))
				o->feed = SIM_FEED_JT808;
			else if (!strcmp(optarg, "nmea"))
				o->feed = SIM_FEED_NMEA;
			else if (!strcmp(optarg, "ais-udp"))
				o->feed = SIM_FEED_AIS_UDP;
			else if (!strcmp(optarg, "ais-tcp"))
				o->feed = SIM_FEED_AIS_TCP;
			else {
				fprintf(stderr, "shorewatch-sim: bad --feed '%s': expected jt808, nmea, ais-udp or ais-tcp\n",
					optarg);
				return -1;
			}
			break;
		case O_MMSI:
			if (num_arg("--mmsi-base", optarg, 1, 999999999, &v))
				return -1;
			if (v != floor(v)) {
				fprintf(stderr, "shorewatch-sim: --mmsi-base must be a whole number\n");
				return -1;
			}
			o->mmsi_base = (uint64_t)v;
			break;
		case O_GAP_EVERY:
			if (num_arg("--gap-every", optarg, 1, 1e9, &o->gap_every))
				return -1;
			break;
		case O_GAP_LENGTH:
			if (num_arg("--gap-length", optarg, 0.1, 1e9, &o->gap_length))
				return -1;
			break;
		case O_BATCH:
			if (num_arg("--batch", optarg, 1, 1000, &v))
				return -1;
			if (v != floor(v)) {
				fprintf(stderr, "shorewatch-sim: --batch must be a whole number\n");
				return -1;
			}
			o->batch = (int)v;
			break;
		case O_VESSELS:
			snprintf(o->vessels, sizeof(o->vessels), "%s", optarg);
			break;
		case O_DEMO:
			snprintf(o->demo_dir, sizeof(o->demo_dir), "%s", optarg);
			break;
		case O_PROTO:
			if (strcmp(optarg, "2011") && strcmp(optarg, "2013") &&
			    strcmp(optarg, "2019")) {
				fprintf(stderr, "shorewatch-sim: bad --protocol '%s': expected 2011, 2013 or 2019\n",
					optarg);
				return -1;
			}
			o->protocol = atoi(optarg);
			break;
		case O_INTERVAL:
			if (num_arg("--interval", optarg, 0.005, 86400, &o->interval))
				return -1;
			break;
		case O_TSCALE:
			if (num_arg("--time-scale", optarg, 0, 100000, &o->time_scale))
				return -1;
			break;
		case O_DAY:
			if (num_arg("--day-seconds", optarg, 60, 86400 * 365.0,
				    &o->day_seconds))
				return -1;
			break;
		case O_STAGGER:
			o->stagger = 1;
			break;
		case O_NOSTAGGER:
			o->stagger = 0;
			break;
		case O_SEED:
			if (num_arg("--seed", optarg, 0, 9007199254740992.0, &v))
				return -1;
			o->seed = (uint64_t)v;
			break;
		case O_COUNT:
			if (num_arg("--count", optarg, 1, 1000000, &v))
				return -1;
			if (v != floor(v)) {
				fprintf(stderr, "shorewatch-sim: --count must be a whole number\n");
				return -1;
			}
			o->count = (long)v;
			break;
		case O_BASE:
			if (num_arg("--terminal-base", optarg, 1, 99999999999999.0, &v))
				return -1;
			if (v != floor(v)) {
				fprintf(stderr, "shorewatch-sim: --terminal-base must be a whole number\n");
				return -1;
			}
			o->terminal_base = (uint64_t)v;
			break;
		case O_DURATION:
			if (num_arg("--duration", optarg, 0.001, 1e9, &o->duration))
				return -1;
			break;
		case O_RATE:
			if (num_arg("--rate", optarg, 0.001, 1e9, &o->rate))
				return -1;
			break;
		case O_CRATE:
			if (num_arg("--connect-rate", optarg, 1, 1e6, &o->connect_rate))
				return -1;
			break;
		case 'q':
		case O_QUIET:
			o->quiet = 1;
			break;
		case 'v':
		case O_VERBOSE:
			o->verbose = 1;
			break;
		case 'h':
		case O_HELP:
			return 1;
		case ':':
			fprintf(stderr, "shorewatch-sim: %s needs a value\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "shorewatch-sim: unknown option '%s'\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "shorewatch-sim: unexpected argument '%s'\n",
			argv[optind]);
		return -1;
	}
	if (!have_server) {
		const char *var = o->feed == SIM_FEED_JT808  ? "SHOREWATCH_JT808"
				  : o->feed == SIM_FEED_NMEA ? "SHOREWATCH_NMEA"
							     : "SHOREWATCH_AIS";
		env = getenv(var);
		snprintf(o->server, sizeof(o->server), "%s",
			 env && *env ? env
			 : o->feed == SIM_FEED_JT808 ? "127.0.0.1:6808"
			 : o->feed == SIM_FEED_NMEA  ? "127.0.0.1:10110"
						     : "127.0.0.1:10111");
	}
	if (o->feed != SIM_FEED_JT808 && (o->gap_every > 0 || o->batch > 1)) {
		fprintf(stderr, "shorewatch-sim: --gap-every and --batch are JT/T 808 options\n");
		return -1;
	}
	if (o->gap_every > 0 && o->gap_length >= o->gap_every) {
		fprintf(stderr, "shorewatch-sim: --gap-length must be shorter than --gap-every\n");
		return -1;
	}
	if (o->feed != SIM_FEED_JT808 && o->count &&
	    o->mmsi_base + (uint64_t)o->count > 999999999ULL) {
		fprintf(stderr, "shorewatch-sim: MMSIs above 999999999: lower --mmsi-base or --count\n");
		return -1;
	}
	if (o->count && o->terminal_base + (uint64_t)o->count > 999999999999ULL &&
	    o->protocol != 2019) {
		fprintf(stderr, "shorewatch-sim: terminal numbers above 12 digits need --protocol 2019\n");
		return -1;
	}
	return 0;
}

/* Raises the open-file limit to fit n connections; warns if it cannot. */
static void raise_nofile(size_t n)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)n + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need) {
		struct rlimit up = {need, need};
		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max < need ? rl.rlim_max : need;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need)
		sim_log("warning: open-file limit is %llu, %zu terminals need %llu; "
			"raise it (ulimit -n) or lower --count",
			(unsigned long long)rl.rlim_cur, n,
			(unsigned long long)need);
}

/* Prints the counters as one key=value line. */
static void print_counters(const struct sim_app *a, FILE *f, const char *tag,
			   double now)
{
	double el = now - a->start_mono;

	struct rusage ru;
	double cpu = 0;

	if (!getrusage(RUSAGE_SELF, &ru))
		cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	fprintf(f,
		"shorewatch-sim: %s feed=%s terminals=%zu online=%zu frames_sent=%llu "
		"positions_sent=%llu acks_received=%llu errors=%llu missing_acks=%llu "
		"refused=%llu reconnects=%llu lines_sent=%llu datagrams_sent=%llu "
		"statics_sent=%llu blind_stored=%llu blind_sent=%llu blind_dropped=%llu "
		"bytes_sent=%llu cpu=%.1fs elapsed=%.1fs positions_per_s=%.1f\n",
		tag, sim_feed_name(a->o.feed), a->n, a->online,
		(unsigned long long)a->s.frames_sent,
		(unsigned long long)a->s.positions_sent,
		(unsigned long long)a->s.acks, (unsigned long long)a->s.errors,
		(unsigned long long)a->s.missing, (unsigned long long)a->s.refused,
		(unsigned long long)a->s.reconnects,
		(unsigned long long)a->s.lines_sent,
		(unsigned long long)a->s.datagrams,
		(unsigned long long)a->s.statics,
		(unsigned long long)a->s.blind_stored,
		(unsigned long long)a->s.blind_sent,
		(unsigned long long)a->s.blind_dropped,
		(unsigned long long)a->s.bytes_sent, cpu, el,
		el > 0 ? a->s.positions_sent / el : 0.0);
	fflush(f);
}

/* Builds the terminals: the demo fleet or --count synthetic ones. Returns 0,
 * 1 if the files cannot be read, 2 on a bad terminal number. */
static int setup_terminals(struct sim_app *a)
{
	char err[512];
	struct sim_vessel *vs = NULL;
	size_t n, i;
	double now = sim_mono(), tod;

	if (sim_geo_load(&a->geo, a->o.demo_dir, err, sizeof(err))) {
		sim_log("cannot read the demo geography: %s", err);
		return 1;
	}
	if (a->o.count) {
		n = (size_t)a->o.count;
	} else {
		if (sim_fleet_load(a->o.vessels, &a->geo, &vs, &n, err, sizeof(err))) {
			sim_log("cannot read the vessels: %s", err);
			return 1;
		}
	}
	a->t = calloc(n, sizeof(*a->t));
	a->wake = calloc(n, sizeof(*a->wake));
	if (!a->t || !a->wake) {
		free(vs);
		sim_log("out of memory for %zu terminals", n);
		return 1;
	}
	a->n = n;
	tod = sim_tod(a);
	for (i = 0; i < n; i++) {
		struct sim_term *t = &a->t[i];

		if (vs)
			t->v = vs[i];
		else
			sim_vessel_synthetic(&t->v, &a->geo, i, a->o.terminal_base);
		if (a->o.feed == SIM_FEED_JT808 &&
		    jt808_header_for_phone(&t->hdr, t->v.terminal,
					   a->o.protocol == 2019)) {
			sim_log("terminal %s: not a valid JT/T 808 phone number for protocol %d",
				t->v.terminal, a->o.protocol);
			free(vs);
			return vs ? 1 : 2;
		}
		sim_vessel_start(&t->v, &a->geo, a->o.seed, i, a->o.stagger, now,
				 tod, a->k);
		t->fd = -1;
		t->st = SIM_T_IDLE;
		t->next_connect = now;
		jt808_framer_init(&t->fr);
		t->mmsi = (uint32_t)(a->o.mmsi_base + i + (vs ? 1 : 0));
		t->class_b = i % 2 == 1;
		if (a->o.gap_every > 0) {
			t->gap_start = now + a->o.gap_every *
						     sim_rng_range(&t->v.rng, 0.2, 1.0);
			t->gap_end = t->gap_start + a->o.gap_length;
		}
		if (a->o.batch > 1) {
			t->live = malloc((size_t)a->o.batch * SIM_SLOT);
			if (!t->live) {
				free(vs);
				sim_log("out of memory for %zu terminals", n);
				return 1;
			}
		}
		if (a->o.feed == SIM_FEED_AIS_UDP) {
			/* no connection: on line at once, spread over an interval */
			t->st = SIM_T_ONLINE;
			t->ever_online = 1;
			t->next_connect = INFINITY;
			t->next_report = now + a->o.interval * (double)i / (double)n;
			a->online++;
		}
	}
	free(vs);
	return 0;
}

/* Refills the connection and position token buckets. */
static void refill(struct sim_app *a, double now)
{
	double dt = now - a->last_refill;
	double ccap = fmax(1, a->o.connect_rate / 10);

	a->last_refill = now;
	a->conn_tokens = fmin(ccap, a->conn_tokens + dt * a->o.connect_rate);
	if (a->o.rate > 0)
		a->rate_tokens = fmin(fmax(1, a->o.rate), a->rate_tokens + dt * a->o.rate);
}

/* One pass over every terminal: admit connects (in batches, so the server's
 * listen backlog is not flooded), then timeouts, heartbeats and reports. The
 * start rotates so a --rate cap does not favour low indexes. */
static void scan(struct sim_app *a, double now)
{
	size_t i, j = a->scan_from;

	a->now_real = sim_real();
	a->tod = sim_tod(a);
	for (i = 0; i < a->n; i++, j++) {
		struct sim_term *t;

		if (j >= a->n)
			j = 0;
		if (now < a->wake[j] && !a->draining)
			continue; /* on line, nothing due */
		t = &a->t[j];
		if (t->st == SIM_T_IDLE && !a->draining && now >= t->next_connect &&
		    a->handshaking < MAX_HANDSHAKING && a->conn_tokens >= 1) {
			a->conn_tokens -= 1;
			sim_net_connect(a, t, now);
			continue;
		}
		sim_net_tick(a, t, now);
	}
	sim_net_udp_flush(a, now);
	a->scan_from = a->n ? (a->scan_from + 1) % a->n : 0;
}

/* Counts positions not acknowledged in time; warns at most every 10 s about
 * the ones found missing since the last warning. */
static void check_acks(struct sim_app *a, double now, double *warn_at,
		       uint64_t *warned, const char **who)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->t[i].pend_n && sim_net_expire(a, &a->t[i], now, 0))
			*who = a->t[i].v.terminal;
	if (a->s.missing > *warned && now >= *warn_at) {
		sim_log("warning: %llu position reports got no 0x8001 within %.0f s (e.g. terminal %s)",
			(unsigned long long)(a->s.missing - *warned),
			SIM_ACK_TIMEOUT, *who);
		*warned = a->s.missing;
		*warn_at = now + 10;
	}
}

/* Pending positions across all terminals. */
static size_t pending(const struct sim_app *a)
{
	size_t i, n = 0;

	for (i = 0; i < a->n; i++)
		n += a->t[i].pend_n;
	return n;
}

/* The event loop: runs until a signal, --duration, then drains and closes. */
static void run(struct sim_app *a)
{
	struct epoll_event ev[512];
	double now = sim_mono(), last_scan = 0, next_cron = now + 1,
	       next_status = now + STATUS_EVERY, warn_at = 0, drain_end = 0;
	uint64_t warned = 0;
	const char *who = "";
	int i, n;

	a->last_refill = now;
	for (;;) {
		now = sim_mono();
		if (g_stop >= 2)
			break;
		if (!a->draining && (g_stop ||
				     (a->o.duration > 0 &&
				      now - a->start_mono >= a->o.duration))) {
			a->draining = 1;
			drain_end = now + DRAIN_MAX;
			scan(a, now); /* sends the partial --batch frames */
		}
		if (a->draining && (now >= drain_end || !pending(a)))
			break;
		if (now - last_scan >= SCAN_MIN) {
			refill(a, now);
			scan(a, now);
			last_scan = now;
		}
		if (now >= next_cron) {
			check_acks(a, now, &warn_at, &warned, &who);
			next_cron = now + 1;
		}
		if (now >= next_status) {
			if (!a->o.quiet)
				print_counters(a, stderr, "status", now);
			next_status += STATUS_EVERY;
		}
		n = epoll_wait(a->ep, ev, 512, (int)(SCAN_MIN * 1000) + 5);
		if (n < 0 && errno != EINTR) {
			sim_log("epoll_wait: %s", strerror(errno));
			break;
		}
		now = sim_mono();
		for (i = 0; i < n; i++) {
			size_t idx = (size_t)(ev[i].data.u64 & 0xffffffffu);
			uint32_t gen = (uint32_t)(ev[i].data.u64 >> 32);

			if (idx < a->n && a->t[idx].gen == gen && a->t[idx].fd >= 0)
				sim_net_event(a, &a->t[idx], ev[i].events, now);
		}
	}
	now = sim_mono();
	for (i = 0; (size_t)i < a->n; i++)
		sim_net_close(a, &a->t[i], now, 0);
	if (a->s.missing > warned)
		sim_log("warning: %llu position reports got no 0x8001 (before exit)",
			(unsigned long long)(a->s.missing - warned));
}

int main(int argc, char **argv)
{
	struct sim_app *a = calloc(1, sizeof(*a));
	struct sigaction sa;
	char err[512];
	size_t i;
	int rc;

	if (!a)
		return 1;
	rc = parse_args(argc, argv, &a->o);
	if (rc) {
		usage(rc > 0 ? stdout : stderr);
		free(a);
		return rc > 0 ? 0 : 2;
	}
	if (sim_net_resolve(a, err, sizeof(err))) {
		fprintf(stderr, "shorewatch-sim: %s\n", err);
		free(a);
		return 2;
	}
	a->start_mono = sim_mono();
	a->start_real = sim_real();
	a->k = 86400.0 / a->o.day_seconds;
	rc = setup_terminals(a);
	if (rc) {
		sim_geo_free(&a->geo);
		free(a->wake);
		free(a->t);
		free(a);
		return rc;
	}
	a->udp_fd = -1;
	if (a->o.feed == SIM_FEED_AIS_UDP) {
		if (sim_net_udp_open(a))
			return 1;
	} else {
		raise_nofile(a->n);
	}
	a->ep = epoll_create1(EPOLL_CLOEXEC);
	if (a->ep < 0) {
		sim_log("epoll_create1: %s", strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (a->o.feed == SIM_FEED_JT808)
		sim_log("%zu terminals -> %s, JT/T 808-%d, report every %g s, day %g s%s%s",
			a->n, a->o.server, a->o.protocol, a->o.interval,
			a->o.day_seconds, a->o.count ? " (synthetic)" : "",
			a->o.batch > 1 ? ", 0x0704 batches" : "");
	else
		sim_log("%zu vessels -> %s, %s, report every %g s, day %g s%s",
			a->n, a->o.server, sim_feed_name(a->o.feed), a->o.interval,
			a->o.day_seconds, a->o.count ? " (synthetic)" : "");
	run(a);
	print_counters(a, stdout, "summary", sim_mono());

	for (i = 0; i < a->n; i++) {
		sim_vessel_clear(&a->t[i].v);
		free(a->t[i].blind);
		free(a->t[i].live);
	}
	if (a->udp_fd >= 0)
		close(a->udp_fd);
	close(a->ep);
	sim_geo_free(&a->geo);
	free(a->wake);
	free(a->t);
	free(a);
	return 0;
}
