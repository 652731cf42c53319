/* rules.h -- the permit and geofence rules: per-vessel state on device time, and
 * the alerts it opens, updates and closes.
 *
 * Pure logic: no sockets, no database, no clock of its own. The server feeds it
 * committed positions (rules_position), the wall clock (rules_tick) and what the
 * registry learns (rules_unregistered); it calls the sink for every alert change.
 * The scenario tests drive the same functions with scripted days.
 *
 * Single-threaded: one engine is used by one thread at a time.
 */
#ifndef SW_RULES_H
#define SW_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "geofence.h"

enum rules_kind {
	RK_ILLEGAL_STOP = 0,
	RK_OUTSIDE_ZONE,
	RK_OFF_HOURS,
	RK_NO_MINING_ZONE,
	RK_PROTECTION_ZONE,
	RK_NO_PERMIT,
	RK_UNREGISTERED,
	RK_OFFLINE,
	RK_JUMP,
	RK_DEVICE_ALARM,
	RK_COUNT
};
/* "illegal_stop", ... as in INTERFACES.md; NULL out of range. */
const char *rules_kind_name(int kind);
/* enum rules_kind of a name, -1 if none. */
int rules_kind_parse(const char *name);

enum vessel_kind { VK_OTHER = 0, VK_SAND_MINING = 1, VK_SAND_TRANSPORT = 2 };

/* Thresholds. rules_config_defaults() gives the documented defaults; the
 * config file overrides them (keys rules_<field>). */
struct rules_config {
	/* motion: stopped = every fix of the last stop_window_s within
	 * stop_radius_m of their centroid and the median speed below
	 * stop_speed_kn; moving again once a fix is farther than
	 * 2 x stop_radius_m from the stop's centroid */
	int stop_window_s;          /* 300 */
	double stop_radius_m;       /* 50 */
	double stop_speed_kn;       /* 1.5 */
	/* zone presence with hysteresis: entered when at least zone_inner_m
	 * inside for zone_dwell_s, left when at least zone_outer_m outside for
	 * zone_dwell_s (device time) */
	double zone_inner_m;        /* 10 */
	double zone_outer_m;        /* 25 */
	int zone_dwell_s;           /* 60 */
	/* a stop's centroid within this of a parking polygon is "at parking" */
	double parking_tolerance_m; /* 30 */
	/* a stop's centroid within this of a mining zone counts as in it */
	double zone_tolerance_m;    /* 25 */
	/* stopped this long outside parking before a stop alert
	 * (illegal_stop, outside_zone, off_hours, no_permit) */
	int stop_alert_s;           /* 600 */
	int offline_after_s;        /* 900: no report received for this long */
	double jump_speed_kn;       /* 40: implied speed between two fixes */
	double jump_min_m;          /* 500: and at least this far */
	uint32_t device_alarm_mask; /* JT/T 808 alarm bits: SOS 0, antenna cut 5,
				     * antenna short 6, power off 8, tamper 16,17 */
	int unregistered_quiet_s;   /* 86400: an unregistered alert closes after
				     * this long without another attempt */
	int late_after_s;           /* 120: a position received this long after
				     * its device time is late */
	int reeval_window_s;        /* 86400: how far back late data re-evaluates */
	int update_every_s;         /* 60: at most one update event per alert per
				     * this much device time (state changes always) */
	int tz_offset_s;            /* 28800: local time for hours and dates (UTC+8) */
	int history_max;            /* 512: fixes kept per vessel for re-evaluating
				     * late data (24 bytes each); late fixes older
				     * than what is kept are not re-evaluated */
};
void rules_config_defaults(struct rules_config *c);

/* A permit, as /api/permits stores it. Dates are local calendar days as
 * days since 1970-01-01; hours are local minutes of the day, [from, to)
 * (to < from: across midnight; from == to == -1: any hour). */
struct rules_permit {
	int64_t id;
	int32_t vessel_id;
	char number[64];
	char zone_layer[64];
	char zone_code[64];
	int32_t valid_from_day, valid_to_day;   /* inclusive */
	int16_t hours_from_min, hours_to_min;
};

/* A closed season (禁采期): applies to one zone (layer + code) or, with an
 * empty code, to every zone of the layer. Days as above, inclusive; with
 * `yearly` only the month and day count (e.g. 03-01..06-30 every year). */
struct rules_season {
	int64_t id;
	char zone_layer[64];
	char zone_code[64];
	int32_t from_day, to_day;
	int yearly;
	char name[64];
};

/* One fix as the engine keeps it (evidence). */
struct rules_fix {
	int64_t t_ms;        /* device time, UTC */
	int64_t recv_ms;
	double lon, lat;
	float speed_kn, course;
};

#define RULES_EVIDENCE 24

enum rules_event { RE_OPEN = 1, RE_UPDATE, RE_CLOSE };

/* An alert as the engine keeps it. The sink sees it on every change. */
struct rules_alert {
	int64_t id;           /* set by the sink on RE_OPEN (the database id) */
	int32_t vessel_id;    /* 0: an unregistered terminal */
	int kind;             /* enum rules_kind */
	char subject[96];     /* what makes it distinct besides vessel and kind:
			       * "layer/code" of the zone, the terminal number of
			       * an unregistered one, "" otherwise */
	char permit[64];      /* the permit concerned, "" none */
	int severity;         /* 1 info, 2 warning, 3 critical */
	int late;             /* found in late (out-of-order or re-sent) data */
	int open;             /* condition still holds */
	int64_t opened_ms, updated_ms, closed_ms;  /* device time; closed 0 */
	double lon, lat;      /* latest position concerned */
	/* JSON object text: the rule, its thresholds and the measured values,
	 * e.g. {"rule":"stopped 612 s outside parking","stop_alert_s":600,...} */
	char detail[768];
	struct rules_fix evidence[RULES_EVIDENCE];  /* the fixes that fired it */
	int n_evidence;
};

/* Called for every change; may set a->id on RE_OPEN; must not call back into
 * the engine. */
typedef void (*rules_sink)(void *ctx, int event, struct rules_alert *a);

struct rules;

struct rules *rules_new(const struct rules_config *c, rules_sink sink, void *ctx);
void rules_free(struct rules *r);

/* Zones: takes a reference to ix (drops the previous one). Vessels'
 * in-zone states are kept across a swap for zones whose layer and code
 * are unchanged. */
void rules_set_index(struct rules *r, struct gf_index *ix);
/* Replaces all permits / all seasons (copied). */
void rules_set_permits(struct rules *r, const struct rules_permit *p, size_t n);
void rules_set_seasons(struct rules *r, const struct rules_season *s, size_t n);
/* Registers (or updates) a vessel's kind. Vessels never set are VK_OTHER. */
void rules_set_vessel(struct rules *r, int32_t vessel_id, int kind);
/* Seeds the last report time of a vessel known from before a restart, so
 * that one silent since then goes offline. */
void rules_seed_seen(struct rules *r, int32_t vessel_id, int64_t last_recv_ms, double lon,
		     double lat);
/* Seeds an alert still open in the database (after a restart), so that it
 * is continued and closed rather than opened twice. Copied. */
void rules_seed_alert(struct rules *r, const struct rules_alert *a);

/* One committed position (device-time order is NOT assumed: late and
 * out-of-order ones re-evaluate the affected window). fix_valid = 0 ones
 * only count as "a report was received". */
struct rules_input {
	int32_t vessel_id;
	int64_t t_ms, recv_ms;
	double lon, lat;
	float speed_kn, course;
	int fix_valid;
	int blind;            /* a JT/T 808 0x0704 type-1 re-send */
	uint32_t alarm_bits;
};
void rules_position(struct rules *r, const struct rules_input *in);

/* Runs the re-evaluations that late positions left waiting. A vessel's late
 * positions are replayed together, once: at its next in-order position, at
 * rules_tick (which calls this), or here. */
void rules_flush(struct rules *r);

/* An unknown terminal tried to register or report. */
void rules_unregistered(struct rules *r, const char *protocol, const char *terminal,
			int64_t now_ms);

/* Wall-clock checks: offline vessels, quiet unregistered terminals. Call
 * every few seconds. */
void rules_tick(struct rules *r, int64_t now_ms);

/* What the map's fleet overview shows of each vessel the engine knows. */
enum { RV_UNKNOWN = 0, RV_MOVING, RV_STOPPED, RV_PARKED, RV_WORKING, RV_OFFLINE };
struct rules_vessel_state {
	int32_t vessel_id;
	int kind;             /* enum vessel_kind */
	int state;            /* RV_*: offline wins; then moving, or stopped:
			       * at a parking point (parked), in a mining zone
			       * (working), elsewhere (stopped) */
	int alerting;         /* any open alert */
	int64_t since_ms;     /* device time the state began (0 unknown) */
	int64_t last_recv_ms;
	const char *zone;     /* "layer/code" it works in or is alerted about, or NULL */
};
typedef void (*rules_fleet_fn)(void *ctx, const struct rules_vessel_state *st);
/* Calls fn for every vessel the engine knows (any order). */
void rules_fleet(struct rules *r, int64_t now_ms, rules_fleet_fn fn, void *ctx);
/* "unknown", "moving", "stopped", "parked", "working", "offline". */
const char *rules_vstate_name(int state);

/* Counters. */
struct rules_stats {
	uint64_t positions, reevaluations, alerts_opened, alerts_closed;
	size_t vessels, open_alerts;
	size_t history_fixes;   /* fixes kept for re-evaluation, all vessels */
	size_t memory_bytes;    /* about what the engine holds */
	uint64_t late_dropped;  /* late fixes too old to re-evaluate */
};
void rules_get_stats(const struct rules *r, struct rules_stats *st);

#endif
