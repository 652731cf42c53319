/* rules.c -- the permit and geofence rules engine: per-vessel state on device
 * time, zone hysteresis, stops judged against parking points, permits and
 * closed seasons, late data re-evaluation, and the alert lifecycle.
 *
 * Semantics (the thresholds are struct rules_config; defaults in rules.h and
 * rules_config_defaults()):
 *
 * Order. Each vessel is evaluated in DEVICE-time order. Fixes are kept in a
 * bounded, device-time-sorted history (history_max fixes, at most
 * reeval_window_s old). A fix older than the vessel's latest one is late: it
 * is inserted into the history and the vessel is re-evaluated from the last
 * state snapshot before it (snapshots are taken every SNAP_EVERY fixes and
 * before a fix that follows a gap) through its latest fix. The replay runs
 * once per batch: at the vessel's next in-order position, at rules_tick /
 * rules_flush, or when PENDING_MAX late fixes are waiting. A blind (0x0704)
 * re-send that is not older than the latest fix is simply the next fix, with
 * the alerts it opens marked late. An exact re-send of a fix already kept
 * (same device time, position, validity and alarm bits) is ignored. Late fixes
 * older than reeval_window_s, or than what the bounded history still covers,
 * are not evaluated (rules_stats.late_dropped). The current zones, permits and
 * seasons judge the replayed past.
 *
 * Motion. Stopped: the fixes of the last stop_window_s (plus the one just
 * before, so the window is covered) are all within stop_radius_m of their
 * centroid and their median speed is below stop_speed_kn. The stop starts at
 * the window's first fix; its centroid is then the running mean of its fixes
 * (robust to +-15 m jitter). Moving again: a fix farther than 2 x stop_radius_m
 * from the centroid.
 *
 * Zones (protection: every vessel; no_mining: sand_mining vessels). From
 * gf_query with reach max(zone_inner_m, zone_outer_m): out -> in when the
 * signed distance is >= zone_inner_m on every fix for zone_dwell_s, in -> out
 * when it is <= -zone_outer_m for zone_dwell_s; otherwise the state stays. The
 * alert opens at the first fix of the entering run and closes at the first fix
 * of the leaving run. Zones are known by "layer/code" (the name, or
 * "#feature_id", when a zone has no code), so states survive an index swap.
 *
 * Stops (sand_mining vessels): stopped for >= stop_alert_s, judged on the
 * stop's centroid at every fix, exactly one of
 *  1. within parking_tolerance_m of a parking zone: nothing;
 *  2. within zone_tolerance_m of a mining zone named by one of its permits:
 *     off_hours when no such permit allows this local date and minute (valid
 *     dates, daily hours, no closed season of the zone or its whole layer),
 *     with the reason in detail; otherwise nothing (working legally);
 *  3. no permit valid on the local date at all: no_permit;
 *  4. within zone_tolerance_m of another mining zone: outside_zone;
 *  5. otherwise illegal_stop.
 * The alert closes when the vessel moves or the decision changes (e.g.
 * working hours begin); a different decision opens its own alert.
 *
 * jump: consecutive valid fixes farther apart than jump_min_m at an implied
 * speed above jump_speed_kn; closes at the next fix that does not jump. A
 * jumped-to fix is not used for motion or zones (it cannot end a stop).
 * device_alarm: alarm_bits & device_alarm_mask; one alert, updated when the
 * bits change, closed when they clear. offline (registered sand_mining and
 * sand_transport vessels): rules_tick finds no report received for
 * offline_after_s; severity 3 unless the last position (the stop centroid
 * when stopped) was at a parking point; closed by the next report of any kind,
 * with the gap. unregistered: one alert per terminal, updated with the attempt
 * count, closed by rules_tick after unregistered_quiet_s of quiet.
 *
 * Lifecycle. One open alert per (vessel, kind, subject). RE_OPEN once,
 * RE_UPDATE at most every update_every_s of device time (at once when the
 * severity or alarm bits change), RE_CLOSE once. Alerts opened from fixes
 * that arrived late (blind, out of order, or received late_after_s after
 * their device time) are marked late. A replay collects episodes (kind,
 * subject, device-time interval) and reconciles them with the vessel's open
 * and recently closed alerts of the same kind and subject whose times overlap
 * (with a slack of max(stop_window_s, zone_dwell_s)), pairing the nearest
 * starts first: a known open alert is continued (updated) or closed at the
 * episode's end, a known closed one is left as it is, never duplicated; an
 * episode nobody knew is opened late at its device time (and closed at its
 * device time when it is over). A known open alert that no episode continues
 * is closed. Alerts already sent are never rewritten backwards (an open time
 * stays what was sent; the detail shows what the replay measured).
 *
 * Memory: a vessel keeps at most history_max fixes of 24 bytes, up to
 * SNAP_MAX state snapshots (~0.3 KiB each), its open alerts and CLOSED_MAX
 * compact records of recently closed ones: about 16 KiB at a full default
 * history, ~1 KiB for a vessel just registered.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#define SNAP_EVERY 64           /* fixes between snapshots */
#define SNAP_GAP_MS 120000      /* and a snapshot before a fix after such a gap */
#define SNAP_MAX 12             /* snapshots per vessel */
#define ZS_MAX 6                /* zone presence states per vessel */
#define MZ_MAX 4                /* mining zones around a stop */
#define HITS_MAX 64             /* zones per query */
#define WIN_MAX 256             /* fixes examined for the stop window */
#define EP_MAX 32               /* episodes held during one replay */
#define CLOSED_MAX 32           /* recently closed alerts kept per vessel */
#define PENDING_MAX 256         /* late fixes that force a replay */
#define COND_MAX (ZS_MAX + 3)
#define UNREG_MAX 10000         /* open unregistered-terminal alerts */
#define STR_OUT 72              /* longest escaped string in a detail */

#define EARTH_R 6371008.8
#define DEG (M_PI / 180.0)
#define KN_PER_MPS 1.9438444924406046
#define INF_MS (INT64_MAX / 4)

/* ------------------------------------------------------------ names */

static const char *const kind_names[RK_COUNT] = {
	"illegal_stop", "outside_zone", "off_hours", "no_mining_zone", "protection_zone",
	"no_permit",    "unregistered", "offline",   "jump",           "device_alarm",
};

const char *rules_kind_name(int kind)
{
	return kind >= 0 && kind < RK_COUNT ? kind_names[kind] : NULL;
}

int rules_kind_parse(const char *name)
{
	int i;

	for (i = 0; name && i < RK_COUNT; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	return -1;
}

void rules_config_defaults(struct rules_config *c)
{
	memset(c, 0, sizeof(*c));
	c->stop_window_s = 300;
	c->stop_radius_m = 50;
	c->stop_speed_kn = 1.5;
	c->zone_inner_m = 10;
	c->zone_outer_m = 25;
	c->zone_dwell_s = 60;
	c->parking_tolerance_m = 30;
	c->zone_tolerance_m = 25;
	c->stop_alert_s = 600;
	c->offline_after_s = 900;
	c->jump_speed_kn = 40;
	c->jump_min_m = 500;
	c->device_alarm_mask = (1u << 0) | (1u << 5) | (1u << 6) | (1u << 8) | (1u << 16) | (1u << 17);
	c->unregistered_quiet_s = 86400;
	c->late_after_s = 120;
	c->reeval_window_s = 86400;
	c->update_every_s = 60;
	c->tz_offset_s = 28800;
	c->history_max = 512;
}

/* JT/T 808-2019 table 25 alarm flag names (bits 16, 17 are the tamper bits
 * our terminals use in the reserved range). */
static const char *const alarm_names[32] = {
	"sos",           "overspeed",          "fatigue",           "danger_warning",
	"gnss_fault",    "gnss_antenna_open",  "gnss_antenna_short", "power_low",
	"power_off",     "display_fault",      "tts_fault",         "camera_fault",
	"ic_card_fault", "overspeed_warning",  "fatigue_warning",   "bit15",
	"tamper",        "tamper_2",           "driving_overtime",  "parking_overtime",
	"area",          "route",              "route_time",        "route_deviation",
	"vss_fault",     "fuel_abnormal",      "stolen",            "illegal_ignition",
	"illegal_move",  "collision",          "rollover",          "illegal_door_open",
};

/* ------------------------------------------------------------ types */

/* One history entry: 24 bytes, the dominant cost of a vessel. */
struct hfix {
	uint64_t tr;             /* device time (ms) << TR_SHIFT | seconds until received */
	int32_t lon_e7, lat_e7;
	uint32_t alarm;
	uint16_t speed_c;        /* 1/100 kn */
	uint16_t cf;             /* course in 1/10 degree (bits 0-11) | HF_* */
};
#define TR_SHIFT 21
#define TR_RECV_MAX ((1u << TR_SHIFT) - 1)   /* 24 days */
#define T_MAX_MS (INT64_C(1) << 42)         /* device times up to year 2109 */
#define HF_VALID 0x1000
#define HF_LATE 0x2000           /* arrived late: out of order, blind or delayed */
#define HF_JUMP 0x4000           /* evaluated as a jumped-to fix */

_Static_assert(sizeof(struct hfix) == 24, "a history entry is 24 bytes");

static int64_t ft(const struct hfix *f)
{
	return (int64_t)(f->tr >> TR_SHIFT);
}

struct zstate {
	uint32_t subj;           /* interned "layer/code" */
	uint8_t gkind;           /* GF_PROTECTION or GF_NO_MINING */
	uint8_t in;
	int64_t cand_ms;         /* first fix of the run that may flip the state */
	int64_t since_ms;        /* entered */
	float dist_m, depth_m;   /* last and deepest signed distance */
};

/* Everything the rules derive from fixes; copied into snapshots. */
struct vstate {
	int64_t t_ms;            /* last fix processed (valid or not); 0 none */
	int64_t last_t;          /* last valid fix */
	double last_lon, last_lat;
	int have_last;
	/* motion */
	int stopped;
	int64_t stop_start_ms;
	double c_lon, c_lat, c_n;
	float stop_median_kn, stop_spread_m;
	/* the stop decision holding (rules_kind, -1 none) */
	int sa_kind;
	uint32_t sa_subj;
	int64_t sa_since_ms;
	/* jump */
	int jump;
	int64_t jump_since_ms, jump_from_ms;
	float jump_m, jump_s;
	/* device alarm */
	uint32_t alarm_bits;
	int64_t alarm_since_ms;
	int nz;
	struct zstate z[ZS_MAX];
};

struct snap {
	int64_t key_t;           /* the state after every fix with t <= key_t */
	struct vstate s;
};

struct valert {
	struct rules_alert a;
	uint32_t subj;
	uint32_t bits;           /* device_alarm: the bits last sent */
	int matched;             /* reconcile scratch */
};

struct closed_rec {
	int64_t opened_ms, closed_ms;
	uint32_t subj;
	uint8_t kind, matched;
};

/* The stop's surroundings, cached per vessel while the centroid stays put. */
struct where {
	double lon, lat;
	uint32_t gen;
	int valid;
	int at_parking;
	float parking_m;         /* nearest parking (signed), NAN none in reach */
	int n_mz;
	uint32_t mz[MZ_MAX];     /* mining zones in tolerance, deepest first */
	float mz_m[MZ_MAX];
};

struct vessel {
	struct vessel *next;     /* hash chain */
	int32_t id;
	int kind;
	struct vstate s;
	struct hfix *h;
	uint32_t h_off, h_n, h_cap;
	struct snap *snaps;      /* oldest first */
	int n_snap, cap_snap;
	uint32_t since_snap;
	int dirty;               /* late fixes wait for a replay */
	int64_t dirty_t;
	int n_pending;
	int64_t last_recv_ms;
	double seen_lon, seen_lat;
	int have_seen;
	struct valert **open;
	int n_open, cap_open;
	struct closed_rec *closed;   /* CLOSED_MAX, allocated on first use */
	int n_closed;
	struct valert *offline;
	struct where w;
};

struct unreg {
	struct unreg *next;
	int attempts;
	int64_t first_ms, last_ms;
	char protocol[16];
	struct rules_alert a;
};

struct episode {
	uint8_t kind;
	uint32_t subj;
	int64_t open_ms, close_ms;   /* close 0: still holding */
	int have_info;
	/* reconcile: the known alert it is (an open one, or a closed record) */
	struct valert *m_open;
	int m_closed;
	int64_t m_closed_ms;
	struct rules_alert a;        /* severity, position, detail, evidence */
};

/* A possible match of a replay episode with a known alert. */
struct ep_pair {
	int ep;
	int target;                  /* >= 0: open alert; < 0: closed record -1 - k */
	int64_t diff;                /* how far apart they started */
};
#define PAIRS_MAX (EP_MAX * (CLOSED_MAX + 16))

struct zinfo {
	uint32_t subj;
	uint8_t gkind;
};

struct cond {
	uint8_t kind;
	uint32_t subj;
	int64_t since;
};

struct ends {
	int n;
	struct {
		uint8_t kind;
		uint32_t subj;
		int64_t t;
	} e[COND_MAX + 2];
};

struct rules {
	struct rules_config c;
	rules_sink sink;
	void *ctx;
	struct gf_index *ix;
	uint32_t ix_gen;
	struct zinfo *zi;
	size_t nzi;
	struct rules_permit *permits;   /* sorted by vessel */
	size_t npermits;
	struct rules_season *seasons;
	size_t nseasons;
	/* vessels */
	struct vessel **vtab;
	size_t vtab_cap;
	struct vessel **vlist;
	size_t nv, vlist_cap;
	struct vessel **dirty;
	size_t ndirty, dirty_cap;
	/* interned subjects: id -> text; 0 is "" */
	char **subj;
	uint32_t *subj_hash, *subj_next, *subj_head;
	uint32_t nsubj, subj_cap, subj_nhead;
	/* unregistered terminals with an open alert */
	struct unreg **utab;
	size_t utab_cap, nunreg;
	/* replay scratch */
	struct episode *ep;
	int nep;
	struct ep_pair *pairs;
	struct gf_hit hits[HITS_MAX];   /* query scratch */
	struct rules_stats st;
	uint64_t late_dropped;
};

/* ------------------------------------------------------------ small helpers */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static double dist_m(double lon1, double lat1, double lon2, double lat2)
{
	double x = (lon2 - lon1) * cos((lat1 + lat2) * 0.5 * DEG) * EARTH_R * DEG;
	double y = (lat2 - lat1) * EARTH_R * DEG;

	return sqrt(x * x + y * y);
}

static double fix_lon(const struct hfix *f)
{
	return f->lon_e7 * 1e-7;
}

static double fix_lat(const struct hfix *f)
{
	return f->lat_e7 * 1e-7;
}

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t len = src ? strlen(src) : 0, n = len;

	if (n >= cap) {
		n = cap - 1;
		/* never cut a UTF-8 sequence in two */
		while (n > 0 && ((uint8_t)src[n] & 0xC0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, src, n);
	dst[n] = 0;
}

/* Days since 1970-01-01 -> civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t era, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int month_day(int64_t day)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	return m * 100 + d;
}

static void local_time(const struct rules *r, int64_t t_ms, int32_t *day, int *minute)
{
	int64_t s = floor_div(t_ms, 1000) + r->c.tz_offset_s;
	int64_t dd = floor_div(s, 86400);

	*day = (int32_t)dd;
	*minute = (int)((s - dd * 86400) / 60);
}

/* ------------------------------------------------------------ JSON detail */

/* A JSON object builder into a fixed buffer: a field that does not fit is
 * left out whole, so the text is always a valid object. */
struct jb {
	char *buf;
	size_t cap, len;
	int n, cut;
};

static void jb_init(struct jb *j, char *buf, size_t cap)
{
	j->buf = buf;
	j->cap = cap;
	j->len = 1;
	j->n = 0;
	j->cut = 0;
	buf[0] = '{';
	buf[1] = 0;
}

static int jb_put(struct jb *j, const char *s, size_t n)
{
	if (j->len + n + 2 > j->cap)
		return -1;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = 0;
	return 0;
}

static int jb_printf(struct jb *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int jb_printf(struct jb *j, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -1;
	return jb_put(j, tmp, (size_t)n);
}

/* Length of the valid UTF-8 sequence at s (0: invalid). */
static int utf8_len(const uint8_t *s)
{
	int n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)))
		return 0;
	return n;
}

/* A JSON string of at most STR_OUT characters of s; invalid UTF-8 becomes
 * U+FFFD. */
static int jb_esc(struct jb *j, const char *s)
{
	const uint8_t *p = (const uint8_t *)(s ? s : "");
	size_t out = 0;

	if (jb_put(j, "\"", 1))
		return -1;
	while (*p && out < STR_OUT) {
		int n = utf8_len(p);
		char e[8];

		if (n == 0) {
			if (jb_put(j, "\\ufffd", 6))
				return -1;
			p++;
		} else if (n > 1) {
			if (jb_put(j, (const char *)p, (size_t)n))
				return -1;
			p += n;
		} else if (*p == '"' || *p == '\\') {
			e[0] = '\\';
			e[1] = (char)*p;
			if (jb_put(j, e, 2))
				return -1;
			p++;
		} else if (*p < 0x20 || *p == 0x7F) {
			snprintf(e, sizeof(e), "\\u%04x", *p);
			if (jb_put(j, e, 6))
				return -1;
			p++;
		} else {
			if (jb_put(j, (const char *)p, 1))
				return -1;
			p++;
		}
		out++;
	}
	return jb_put(j, "\"", 1);
}

static int jb_key(struct jb *j, const char *k)
{
	return jb_printf(j, "%s\"%s\":", j->n ? "," : "", k);
}

/* Field commit: keeps a whole field or none of it. */
static void jb_end_field(struct jb *j, size_t start, int rc)
{
	if (rc) {
		j->len = start;
		j->buf[start] = 0;
		j->cut = 1;
	} else {
		j->n++;
	}
}

static void jf_str(struct jb *j, const char *k, const char *v)
{
	size_t st = j->len;

	jb_end_field(j, st, jb_key(j, k) || jb_esc(j, v));
}

static void jf_num(struct jb *j, const char *k, double v, int prec)
{
	size_t st = j->len;

	if (isfinite(v))
		jb_end_field(j, st, jb_key(j, k) || jb_printf(j, "%.*f", prec, v));
	else
		jb_end_field(j, st, jb_key(j, k) || jb_put(j, "null", 4));
}

static void jf_int(struct jb *j, const char *k, long long v)
{
	size_t st = j->len;

	jb_end_field(j, st, jb_key(j, k) || jb_printf(j, "%lld", v));
}

static void jf_bool(struct jb *j, const char *k, int v)
{
	size_t st = j->len;

	jb_end_field(j, st, jb_key(j, k) || jb_put(j, v ? "true" : "false", v ? 4 : 5));
}

static void fmt_local(const struct rules *r, int64_t t_ms, char *buf, size_t cap)
{
	int64_t s = floor_div(t_ms, 1000) + r->c.tz_offset_s;
	int64_t day = floor_div(s, 86400), sod = s - day * 86400;
	int y, m, d, off = r->c.tz_offset_s, aoff = off < 0 ? -off : off;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, m, d, (int)(sod / 3600),
		 (int)(sod / 60 % 60), (int)(sod % 60), off < 0 ? '-' : '+', aoff / 3600, aoff / 60 % 60);
}

static void fmt_day(int64_t day, char *buf, size_t cap)
{
	int y, m, d;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, cap, "%04d-%02d-%02d", y, m, d);
}

static void jf_time(struct jb *j, const struct rules *r, const char *k, int64_t t_ms)
{
	char buf[40];

	fmt_local(r, t_ms, buf, sizeof(buf));
	jf_str(j, k, buf);
}

static void jf_day(struct jb *j, const char *k, int64_t day)
{
	char buf[24];

	fmt_day(day, buf, sizeof(buf));
	jf_str(j, k, buf);
}

static void jb_finish(struct jb *j)
{
	if (j->cut) {
		/* the room for it was reserved by jb_put's "+ 2" */
		size_t st = j->len;

		if (jb_key(j, "truncated") || jb_put(j, "true", 4)) {
			j->len = st;
		}
	}
	j->buf[j->len++] = '}';
	j->buf[j->len] = 0;
}

/* ------------------------------------------------------------ subjects */

static int subj_grow(struct rules *r)
{
	uint32_t ncap = r->subj_cap ? r->subj_cap * 2 : 64, i, nh;
	char **s = realloc(r->subj, ncap * sizeof(*s));
	uint32_t *h, *nx, *hd;

	if (!s)
		return -1;
	r->subj = s;
	h = realloc(r->subj_hash, ncap * sizeof(*h));
	if (!h)
		return -1;
	r->subj_hash = h;
	nx = realloc(r->subj_next, ncap * sizeof(*nx));
	if (!nx)
		return -1;
	r->subj_next = nx;
	nh = ncap;
	hd = malloc(nh * sizeof(*hd));
	if (!hd)
		return -1;
	for (i = 0; i < nh; i++)
		hd[i] = UINT32_MAX;
	for (i = 0; i < r->nsubj; i++) {
		uint32_t b = r->subj_hash[i] & (nh - 1);

		r->subj_next[i] = hd[b];
		hd[b] = i;
	}
	free(r->subj_head);
	r->subj_head = hd;
	r->subj_nhead = nh;
	r->subj_cap = ncap;
	return 0;
}

/* The id of a subject text (interned, never freed); 0 for "" or on failure. */
static uint32_t subj_id(struct rules *r, const char *text)
{
	uint32_t h, i;
	char *dup;

	if (!text || !*text)
		return 0;
	h = str_hash(text);
	if (r->subj_nhead)
		for (i = r->subj_head[h & (r->subj_nhead - 1)]; i != UINT32_MAX; i = r->subj_next[i])
			if (r->subj_hash[i] == h && !strcmp(r->subj[i], text))
				return i;
	if (r->nsubj == r->subj_cap && subj_grow(r))
		return 0;
	dup = strdup(text);
	if (!dup)
		return 0;
	i = r->nsubj++;
	r->subj[i] = dup;
	r->subj_hash[i] = h;
	r->subj_next[i] = r->subj_head[h & (r->subj_nhead - 1)];
	r->subj_head[h & (r->subj_nhead - 1)] = i;
	return i;
}

static const char *subj_text(const struct rules *r, uint32_t id)
{
	return id < r->nsubj ? r->subj[id] : "";
}

/* ------------------------------------------------------------ vessels */

static struct vessel *vessel_find(const struct rules *r, int32_t id)
{
	struct vessel *v;

	if (!r->vtab_cap)
		return NULL;
	for (v = r->vtab[(uint32_t)id * 2654435761u & (r->vtab_cap - 1)]; v; v = v->next)
		if (v->id == id)
			return v;
	return NULL;
}

static void state_init(struct vstate *s)
{
	memset(s, 0, sizeof(*s));
	s->sa_kind = -1;
}

static int snap_push(struct vessel *v, int64_t key_t, const struct vstate *s)
{
	if (v->n_snap == SNAP_MAX) {
		memmove(v->snaps, v->snaps + 1, (size_t)(SNAP_MAX - 1) * sizeof(*v->snaps));
		v->n_snap--;
	}
	if (v->n_snap == v->cap_snap) {
		int ncap = v->cap_snap ? v->cap_snap * 2 : 2;
		struct snap *ns;

		if (ncap > SNAP_MAX)
			ncap = SNAP_MAX;
		ns = realloc(v->snaps, (size_t)ncap * sizeof(*ns));
		if (!ns)
			return -1;
		v->snaps = ns;
		v->cap_snap = ncap;
	}
	v->snaps[v->n_snap].key_t = key_t;
	v->snaps[v->n_snap].s = *s;
	v->n_snap++;
	return 0;
}

static struct vessel *vessel_get(struct rules *r, int32_t id)
{
	struct vessel *v = vessel_find(r, id);
	size_t i;

	if (v)
		return v;
	if (r->nv + 1 > r->vtab_cap) {
		size_t ncap = r->vtab_cap ? r->vtab_cap * 2 : 1024;
		struct vessel **nt = calloc(ncap, sizeof(*nt));

		if (!nt)
			return NULL;
		for (i = 0; i < r->nv; i++) {
			struct vessel *o = r->vlist[i];
			uint32_t b = (uint32_t)o->id * 2654435761u & (ncap - 1);

			o->next = nt[b];
			nt[b] = o;
		}
		free(r->vtab);
		r->vtab = nt;
		r->vtab_cap = ncap;
	}
	if (r->nv == r->vlist_cap) {
		size_t ncap = r->vlist_cap ? r->vlist_cap * 2 : 1024;
		struct vessel **nl = realloc(r->vlist, ncap * sizeof(*nl));

		if (!nl)
			return NULL;
		r->vlist = nl;
		r->vlist_cap = ncap;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->id = id;
	v->kind = VK_OTHER;
	state_init(&v->s);
	/* the base snapshot: the state before any fix */
	if (snap_push(v, INT64_MIN, &v->s)) {
		free(v);
		return NULL;
	}
	v->next = r->vtab[(uint32_t)id * 2654435761u & (r->vtab_cap - 1)];
	r->vtab[(uint32_t)id * 2654435761u & (r->vtab_cap - 1)] = v;
	r->vlist[r->nv++] = v;
	r->st.vessels = r->nv;
	return v;
}

static void vessel_free(struct vessel *v)
{
	int i;

	for (i = 0; i < v->n_open; i++)
		free(v->open[i]);
	free(v->open);
	free(v->closed);
	free(v->offline);
	free(v->h);
	free(v->snaps);
	free(v);
}

/* ------------------------------------------------------------ history */

static struct hfix *H(const struct vessel *v, uint32_t i)
{
	return &v->h[v->h_off + i];
}

static int64_t hist_latest(const struct vessel *v)
{
	return v->h_n ? ft(H(v, v->h_n - 1)) : v->s.t_ms;
}

/* First index whose time is > t (or >= t when `eq`). */
static uint32_t hist_bound(const struct vessel *v, int64_t t, int eq)
{
	uint32_t lo = 0, hi = v->h_n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int64_t mt = ft(H(v, mid));

		if (eq ? mt < t : mt <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Room for one more fix at the end. */
static int hist_reserve(const struct rules *r, struct vessel *v)
{
	uint32_t limit = (uint32_t)r->c.history_max + 32; /* a memmove every 32 fixes */

	if (v->h_off + v->h_n < v->h_cap)
		return 0;
	if (v->h_cap < limit) {
		uint32_t ncap = v->h_cap ? v->h_cap * 2 : 16;
		struct hfix *nh;

		if (ncap > limit)
			ncap = limit;
		nh = realloc(v->h, ncap * sizeof(*nh));
		if (!nh)
			return -1;
		v->h = nh;
		v->h_cap = ncap;
	}
	if (v->h_off + v->h_n >= v->h_cap && v->h_off) {
		memmove(v->h, v->h + v->h_off, v->h_n * sizeof(*v->h));
		v->h_off = 0;
	}
	return v->h_off + v->h_n < v->h_cap ? 0 : -1;
}

/* Drops the oldest fix; snapshots that would need it go too. */
static void hist_evict(struct vessel *v)
{
	int64_t te = ft(H(v, 0));
	int k = 0;

	v->h_off++;
	v->h_n--;
	if (!v->h_n)
		v->h_off = 0;
	while (k < v->n_snap && v->snaps[k].key_t < te)
		k++;
	if (k) {
		memmove(v->snaps, v->snaps + k, (size_t)(v->n_snap - k) * sizeof(*v->snaps));
		v->n_snap -= k;
	}
}

static void hist_trim(const struct rules *r, struct vessel *v)
{
	int64_t newest = hist_latest(v);
	int64_t keep = newest - (int64_t)r->c.reeval_window_s * 1000;

	while (v->h_n > (uint32_t)r->c.history_max)
		hist_evict(v);
	while (v->h_n > 1 && ft(H(v, 0)) < keep)
		hist_evict(v);
}

/* 1 if the history already has this very fix (a re-sent one). */
static int hist_has(const struct vessel *v, const struct hfix *f)
{
	uint32_t i;

	for (i = hist_bound(v, ft(f), 1); i < v->h_n && ft(H(v, i)) == ft(f); i++) {
		const struct hfix *g = H(v, i);

		if ((g->cf & HF_VALID) == (f->cf & HF_VALID) && g->alarm == f->alarm &&
		    (!(f->cf & HF_VALID) || (g->lon_e7 == f->lon_e7 && g->lat_e7 == f->lat_e7)))
			return 1;
	}
	return 0;
}

static void fix_out(const struct hfix *f, struct rules_fix *o)
{
	o->t_ms = ft(f);
	o->recv_ms = ft(f) + (int64_t)(f->tr & TR_RECV_MAX) * 1000;
	o->lon = fix_lon(f);
	o->lat = fix_lat(f);
	o->speed_kn = f->speed_c / 100.0f;
	o->course = (f->cf & 0xFFF) / 10.0f;
}

/* Evidence: the valid fixes of [from, to], thinned evenly to RULES_EVIDENCE
 * (first and last kept). */
static void evidence_range(const struct vessel *v, int64_t from, int64_t to, struct rules_alert *a)
{
	uint32_t i0 = hist_bound(v, from, 1), i1 = hist_bound(v, to, 0), i, n = 0, k;
	uint32_t idx[RULES_EVIDENCE];

	a->n_evidence = 0;
	for (i = i0; i < i1; i++)
		if (H(v, i)->cf & HF_VALID)
			n++;
	if (!n)
		return;
	for (k = 0; k < RULES_EVIDENCE && k < n; k++)
		idx[k] = n <= RULES_EVIDENCE ? k
					     : (uint32_t)(((uint64_t)k * (n - 1) + (RULES_EVIDENCE - 1) / 2) /
							  (RULES_EVIDENCE - 1));
	for (i = i0, n = 0, k = 0; i < i1 && k < RULES_EVIDENCE; i++) {
		if (!(H(v, i)->cf & HF_VALID))
			continue;
		if (n == idx[k])
			fix_out(H(v, i), &a->evidence[a->n_evidence++]), k++;
		n++;
	}
}

/* ------------------------------------------------------------ surroundings */

static int zone_subject(const struct gf_zone *z, char *buf, size_t cap)
{
	if (z->code && *z->code)
		return snprintf(buf, cap, "%s/%s", z->layer ? z->layer : "", z->code);
	if (z->name && *z->name)
		return snprintf(buf, cap, "%s/%s", z->layer ? z->layer : "", z->name);
	return snprintf(buf, cap, "%s/#%lld", z->layer ? z->layer : "", (long long)z->feature_id);
}

/* Parking and mining zones around a point (cached while it stays within a
 * metre and the index is the same). */
static const struct where *classify(struct rules *r, struct vessel *v, double lon, double lat)
{
	struct where *w = &v->w;
	double reach = r->c.parking_tolerance_m > r->c.zone_tolerance_m ? r->c.parking_tolerance_m
									: r->c.zone_tolerance_m;
	size_t n, i;

	if (w->valid && w->gen == r->ix_gen && dist_m(w->lon, w->lat, lon, lat) < 1.0)
		return w;
	memset(w, 0, sizeof(*w));
	w->lon = lon;
	w->lat = lat;
	w->gen = r->ix_gen;
	w->valid = 1;
	w->parking_m = NAN;
	if (!r->ix)
		return w;
	n = gf_query(r->ix, lon, lat, reach, r->hits, HITS_MAX);
	if (n > HITS_MAX)
		n = HITS_MAX;
	for (i = 0; i < n; i++) {
		const struct gf_hit *h = &r->hits[i];
		uint8_t k = h->zone < r->nzi ? r->zi[h->zone].gkind : 0;
		float d = (float)h->dist_m;

		if (k == GF_PARKING) {
			if (isnan(w->parking_m) || d > w->parking_m)
				w->parking_m = d;
			if (h->dist_m >= -r->c.parking_tolerance_m)
				w->at_parking = 1;
		} else if (k == GF_MINING && h->dist_m >= -r->c.zone_tolerance_m) {
			int j;

			if (w->n_mz < MZ_MAX)
				j = w->n_mz++;
			else if (d > w->mz_m[MZ_MAX - 1])
				j = MZ_MAX - 1; /* full: replaces the shallowest */
			else
				continue;
			/* keep deepest first */
			while (j > 0 && w->mz_m[j - 1] < d) {
				w->mz[j] = w->mz[j - 1];
				w->mz_m[j] = w->mz_m[j - 1];
				j--;
			}
			w->mz[j] = h->zone;
			w->mz_m[j] = d;
		}
	}
	return w;
}

/* ------------------------------------------------------------ permits */

static int cmp_permit(const void *a, const void *b)
{
	const struct rules_permit *x = a, *y = b;

	if (x->vessel_id != y->vessel_id)
		return x->vessel_id < y->vessel_id ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The vessel's permits: [*first, return). */
static size_t permits_of(const struct rules *r, int32_t vessel, size_t *first)
{
	size_t lo = 0, hi = r->npermits, e;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->permits[mid].vessel_id < vessel)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	for (e = lo; e < r->npermits && r->permits[e].vessel_id == vessel; e++)
		;
	return e;
}

static int hours_ok(const struct rules_permit *p, int minute)
{
	int f = p->hours_from_min, t = p->hours_to_min;

	if (f < 0 || t < 0 || f == t)
		return 1;
	if (f < t)
		return minute >= f && minute < t;
	return minute >= f || minute < t;
}

static int season_on(const struct rules_season *z, int32_t day)
{
	int md, f, t;

	if (!z->yearly)
		return day >= z->from_day && day <= z->to_day;
	md = month_day(day);
	f = month_day(z->from_day);
	t = month_day(z->to_day);
	return f <= t ? (md >= f && md <= t) : (md >= f || md <= t);
}

/* The closed season on zone z that day, -1 none. */
static int season_of(const struct rules *r, const struct gf_zone *z, int32_t day)
{
	size_t i;

	for (i = 0; i < r->nseasons; i++) {
		const struct rules_season *s = &r->seasons[i];

		if (strcmp(s->zone_layer, z->layer ? z->layer : ""))
			continue;
		if (s->zone_code[0] && (!z->code || strcmp(s->zone_code, z->code)))
			continue;
		if (season_on(s, day))
			return (int)i;
	}
	return -1;
}

static int permit_names(const struct rules_permit *p, const struct gf_zone *z)
{
	return z->code && !strcmp(p->zone_layer, z->layer ? z->layer : "") &&
	       !strcmp(p->zone_code, z->code);
}

#define R_DATES 1
#define R_HOURS 2
#define R_SEASON 4

struct decision {
	int kind;                /* rules_kind, -1 none */
	uint32_t subj;
	int zone;                /* the zone concerned (index), -1 none */
	float zone_m;
	int permit;              /* index into r->permits, -1 none */
	int reason;              /* off_hours: R_* */
	int season;
	int n_permits, n_valid;  /* held, valid that day */
	int32_t day;
	int minute;
	const struct where *w;
};

/* The stop rule on the state's centroid at time t. */
static void decide(struct rules *r, struct vessel *v, const struct vstate *s, int64_t t,
		   struct decision *d)
{
	const struct where *w = classify(r, v, s->c_lon, s->c_lat);
	size_t p0, p1, p;
	int k, best_rank = -1;

	memset(d, 0, sizeof(*d));
	d->kind = -1;
	d->zone = -1;
	d->permit = -1;
	d->season = -1;
	d->w = w;
	local_time(r, t, &d->day, &d->minute);
	p1 = permits_of(r, v->id, &p0);
	d->n_permits = (int)(p1 - p0);
	for (p = p0; p < p1; p++)
		if (d->day >= r->permits[p].valid_from_day && d->day <= r->permits[p].valid_to_day)
			d->n_valid++;
	if (w->at_parking)
		return;
	/* 2. its own zone */
	for (k = 0; k < w->n_mz; k++) {
		const struct gf_zone *z = gf_zone_at(r->ix, w->mz[k]);

		for (p = p0; p < p1; p++) {
			const struct rules_permit *pm = &r->permits[p];
			int reason = 0, season = -1, rank;

			if (!permit_names(pm, z))
				continue;
			if (d->day < pm->valid_from_day || d->day > pm->valid_to_day)
				reason |= R_DATES;
			if (!hours_ok(pm, d->minute))
				reason |= R_HOURS;
			season = season_of(r, z, d->day);
			if (season >= 0)
				reason |= R_SEASON;
			if (!reason) {
				/* working legally */
				d->kind = -1;
				d->zone = (int)w->mz[k];
				d->zone_m = w->mz_m[k];
				d->permit = (int)p;
				d->reason = 0;
				return;
			}
			/* a permit valid that day explains it best, then the latest */
			rank = (reason & R_DATES) ? 0 : 2;
			if (rank > best_rank || (rank == best_rank && d->permit >= 0 &&
						 pm->valid_to_day > r->permits[d->permit].valid_to_day)) {
				best_rank = rank;
				d->kind = RK_OFF_HOURS;
				d->zone = (int)w->mz[k];
				d->zone_m = w->mz_m[k];
				d->permit = (int)p;
				d->reason = reason;
				d->season = season;
			}
		}
	}
	if (d->kind == RK_OFF_HOURS)
		goto subject;
	if (w->n_mz) {
		d->zone = (int)w->mz[0];
		d->zone_m = w->mz_m[0];
	}
	if (!d->n_valid)
		d->kind = RK_NO_PERMIT;
	else if (w->n_mz)
		d->kind = RK_OUTSIDE_ZONE;
	else
		d->kind = RK_ILLEGAL_STOP;
subject:
	d->subj = d->zone >= 0 && (size_t)d->zone < r->nzi ? r->zi[d->zone].subj : 0;
}

/* ------------------------------------------------------------ the step */

static void end_add(struct ends *o, int kind, uint32_t subj, int64_t t)
{
	if (o->n < (int)(sizeof(o->e) / sizeof(o->e[0]))) {
		o->e[o->n].kind = (uint8_t)kind;
		o->e[o->n].subj = subj;
		o->e[o->n].t = t;
		o->n++;
	}
}

static float quickselect(float *a, int n, int k)
{
	int lo = 0, hi = n - 1;

	while (lo < hi) {
		float piv = a[(lo + hi) / 2];
		int i = lo, j = hi;

		while (i <= j) {
			while (a[i] < piv)
				i++;
			while (a[j] > piv)
				j--;
			if (i <= j) {
				float t = a[i];

				a[i] = a[j];
				a[j] = t;
				i++;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

/* Motion: see the top of the file. Fix i is the one being processed. */
static void motion(const struct rules *r, const struct vessel *v, struct vstate *s, uint32_t i)
{
	const struct hfix *f = H(v, i);
	double lon = fix_lon(f), lat = fix_lat(f), kx, ky, sx = 0, sy = 0, cx, cy, spread = 0;
	int64_t wstart = ft(f) - (int64_t)r->c.stop_window_s * 1000;
	float xs[WIN_MAX], ys[WIN_MAX], sp[WIN_MAX];
	int n = 0, covered = 0, j;
	int64_t first_t = ft(f);
	uint32_t k;

	if (s->stopped) {
		double w;

		if (dist_m(s->c_lon, s->c_lat, lon, lat) > 2 * r->c.stop_radius_m) {
			s->stopped = 0;
			return; /* the window holds the far fix: not stopped again yet */
		}
		/* a running mean that can follow a slow drift */
		w = s->c_n < 60 ? s->c_n : 60;
		s->c_lon = (s->c_lon * w + lon) / (w + 1);
		s->c_lat = (s->c_lat * w + lat) / (w + 1);
		s->c_n = s->c_n + 1;
		return;
	}
	kx = cos(lat * DEG) * EARTH_R * DEG;
	ky = EARTH_R * DEG;
	for (k = i + 1; k-- > 0;) {
		const struct hfix *g = H(v, k);

		if (!(g->cf & HF_VALID) || (g->cf & HF_JUMP))
			continue;
		if (n == WIN_MAX) {
			covered = 1; /* dense enough: the cap stands for the window */
			break;
		}
		xs[n] = (float)((fix_lon(g) - lon) * kx);
		ys[n] = (float)((fix_lat(g) - lat) * ky);
		sp[n] = g->speed_c / 100.0f;
		first_t = ft(g);
		n++;
		if (ft(g) <= wstart) {
			covered = 1;
			break;
		}
	}
	if (!covered || n < 3)
		return;
	for (j = 0; j < n; j++) {
		sx += xs[j];
		sy += ys[j];
	}
	cx = sx / n;
	cy = sy / n;
	for (j = 0; j < n; j++) {
		double d = hypot(xs[j] - cx, ys[j] - cy);

		if (d > r->c.stop_radius_m)
			return;
		if (d > spread)
			spread = d;
	}
	{
		float med = quickselect(sp, n, n / 2);

		if (n % 2 == 0)
			med = (med + quickselect(sp, n, n / 2 - 1)) / 2;
		if (!(med < r->c.stop_speed_kn))
			return;
		s->stop_median_kn = med;
	}
	s->stopped = 1;
	s->stop_start_ms = first_t; /* the window's first fix */
	s->c_lon = lon + cx / kx;
	s->c_lat = lat + cy / ky;
	s->c_n = n;
	s->stop_spread_m = (float)spread;
}

static struct zstate *zs_find(struct vstate *s, uint32_t subj, uint8_t gkind)
{
	int i;

	for (i = 0; i < s->nz; i++)
		if (s->z[i].subj == subj && s->z[i].gkind == gkind)
			return &s->z[i];
	return NULL;
}

static int zone_rk(uint8_t gkind)
{
	return gkind == GF_NO_MINING ? RK_NO_MINING_ZONE : RK_PROTECTION_ZONE;
}

/* Zone presence with hysteresis at fix f. */
static void zones(struct rules *r, const struct vessel *v, struct vstate *s, const struct hfix *f,
		  struct ends *o)
{
	double reach = r->c.zone_inner_m > r->c.zone_outer_m ? r->c.zone_inner_m : r->c.zone_outer_m;
	int64_t t = ft(f), dwell = (int64_t)r->c.zone_dwell_s * 1000;
	size_t n = 0, i;
	int k;

	if (r->ix) {
		n = gf_query(r->ix, fix_lon(f), fix_lat(f), reach, r->hits, HITS_MAX);
		if (n > HITS_MAX)
			n = HITS_MAX;
	}
	for (k = 0; k < s->nz; k++)
		s->z[k].dist_m = -INFINITY;
	for (i = 0; i < n; i++) {
		const struct gf_hit *h = &r->hits[i];
		const struct zinfo *zi;
		struct zstate *zs;

		if (h->zone >= r->nzi)
			continue;
		zi = &r->zi[h->zone];
		if (zi->gkind != GF_PROTECTION && !(zi->gkind == GF_NO_MINING && v->kind == VK_SAND_MINING))
			continue;
		zs = zs_find(s, zi->subj, zi->gkind);
		if (zs) {
			if (h->dist_m > zs->dist_m)
				zs->dist_m = (float)h->dist_m;
		} else if (h->dist_m >= r->c.zone_inner_m && s->nz < ZS_MAX) {
			zs = &s->z[s->nz++];
			memset(zs, 0, sizeof(*zs));
			zs->subj = zi->subj;
			zs->gkind = zi->gkind;
			zs->dist_m = (float)h->dist_m;
		}
	}
	for (k = 0; k < s->nz; k++) {
		struct zstate *zs = &s->z[k];

		if (!zs->in) {
			if (zs->dist_m >= r->c.zone_inner_m) {
				if (!zs->cand_ms)
					zs->cand_ms = t;
				if (t - zs->cand_ms >= dwell) {
					zs->in = 1;
					zs->since_ms = zs->cand_ms;
					zs->cand_ms = 0;
					zs->depth_m = zs->dist_m;
				}
			} else {
				zs->cand_ms = 0;
			}
		} else {
			if (zs->dist_m > zs->depth_m)
				zs->depth_m = zs->dist_m;
			if (zs->dist_m <= -r->c.zone_outer_m) {
				if (!zs->cand_ms)
					zs->cand_ms = t;
				if (t - zs->cand_ms >= dwell) {
					end_add(o, zone_rk(zs->gkind), zs->subj, zs->cand_ms);
					zs->in = 0;
					zs->cand_ms = 0;
				}
			} else {
				zs->cand_ms = 0;
			}
		}
	}
	/* drop states that are out with nothing pending */
	for (k = s->nz; k-- > 0;)
		if (!s->z[k].in && !s->z[k].cand_ms)
			s->z[k] = s->z[--s->nz];
}

/* Applies history fix i to state s; conditions that ended are put in o. */
static void step(struct rules *r, struct vessel *v, struct vstate *s, uint32_t i, struct ends *o)
{
	struct hfix *f = H(v, i);
	uint32_t bits = f->alarm & r->c.device_alarm_mask;
	double lon = fix_lon(f), lat = fix_lat(f);
	int jumped = 0, want = -1, was_stopped = s->stopped;
	uint32_t want_subj = 0;
	int64_t prev_t = s->have_last ? s->last_t : 0, stop_end;

	o->n = 0;
	s->t_ms = ft(f);
	if (bits != s->alarm_bits) {
		if (!bits)
			end_add(o, RK_DEVICE_ALARM, 0, ft(f));
		else if (!s->alarm_bits)
			s->alarm_since_ms = ft(f);
		s->alarm_bits = bits;
	}
	if (!(f->cf & HF_VALID))
		return;
	if (s->have_last) {
		double d = dist_m(s->last_lon, s->last_lat, lon, lat);
		double dt = (double)(ft(f) - s->last_t) / 1000.0;

		if (d > r->c.jump_min_m && (dt <= 0 || d / dt * KN_PER_MPS > r->c.jump_speed_kn)) {
			jumped = 1;
			if (!s->jump) {
				s->jump = 1;
				s->jump_since_ms = ft(f);
				s->jump_from_ms = s->last_t;
			}
			s->jump_m = (float)d;
			s->jump_s = (float)dt;
		} else if (s->jump) {
			s->jump = 0;
			end_add(o, RK_JUMP, 0, ft(f));
		}
	}
	if (jumped)
		f->cf |= HF_JUMP;
	else
		f->cf &= (uint16_t)~HF_JUMP;
	s->last_t = ft(f);
	s->last_lon = lon;
	s->last_lat = lat;
	s->have_last = 1;
	if (jumped)
		return; /* a teleported fix neither ends a stop nor enters a zone */
	motion(r, v, s, i);
	/* a vessel seen stopped, then next seen far away after a silence, left
	 * at some unknown time in between: its stop is known to last until the
	 * last fix there, not until the far one (which may be a later live fix
	 * while the re-sent positions of the silence are still arriving) */
	stop_end = ft(f);
	if (was_stopped && !s->stopped && prev_t &&
	    ft(f) - prev_t > (int64_t)r->c.stop_window_s * 1000)
		stop_end = prev_t;
	zones(r, v, s, f, o);
	if (v->kind == VK_SAND_MINING && r->ix && s->stopped &&
	    ft(f) - s->stop_start_ms >= (int64_t)r->c.stop_alert_s * 1000) {
		struct decision d;

		decide(r, v, s, ft(f), &d);
		want = d.kind;
		want_subj = d.subj;
	}
	if (want != s->sa_kind || (want >= 0 && want_subj != s->sa_subj)) {
		if (s->sa_kind >= 0)
			end_add(o, s->sa_kind, s->sa_subj, want < 0 ? stop_end : ft(f));
		s->sa_kind = want;
		s->sa_subj = want >= 0 ? want_subj : 0;
		s->sa_since_ms = ft(f);
	}
}

/* The conditions holding in s. */
static int holding(const struct vstate *s, struct cond *c)
{
	int n = 0, k;

	for (k = 0; k < s->nz; k++)
		if (s->z[k].in) {
			c[n].kind = (uint8_t)zone_rk(s->z[k].gkind);
			c[n].subj = s->z[k].subj;
			c[n].since = s->z[k].since_ms;
			n++;
		}
	if (s->sa_kind >= 0) {
		c[n].kind = (uint8_t)s->sa_kind;
		c[n].subj = s->sa_subj;
		c[n].since = s->sa_since_ms;
		n++;
	}
	if (s->jump) {
		c[n].kind = RK_JUMP;
		c[n].subj = 0;
		c[n].since = s->jump_since_ms;
		n++;
	}
	if (s->alarm_bits) {
		c[n].kind = RK_DEVICE_ALARM;
		c[n].subj = 0;
		c[n].since = s->alarm_since_ms;
		n++;
	}
	return n;
}

static int replayable(int kind)
{
	return kind != RK_OFFLINE && kind != RK_UNREGISTERED;
}

/* ------------------------------------------------------------ alert info */

static int severity_of(int kind, uint32_t bits)
{
	switch (kind) {
	case RK_OUTSIDE_ZONE:
	case RK_OFF_HOURS:
	case RK_UNREGISTERED:
		return 2;
	case RK_JUMP:
		return 1;
	case RK_DEVICE_ALARM:
		return (bits & 1u) ? 3 : 2;
	default:
		return 3;
	}
}

static void hours_text(const struct rules_permit *p, char *buf, size_t cap)
{
	if (p->hours_from_min < 0 || p->hours_to_min < 0)
		snprintf(buf, cap, "any");
	else
		snprintf(buf, cap, "%02d:%02d-%02d:%02d", p->hours_from_min / 60, p->hours_from_min % 60,
			 p->hours_to_min / 60, p->hours_to_min % 60);
}

static void info_stop(struct rules *r, struct vessel *v, const struct vstate *s, int kind, struct jb *j,
		      struct rules_alert *a)
{
	struct decision d;
	int64_t t = s->last_t;
	long long stopped = (long long)((t - s->stop_start_ms) / 1000);
	char rule[200], day[24], hours[24];
	const struct rules_permit *pm;

	decide(r, v, s, t, &d);
	pm = d.permit >= 0 ? &r->permits[d.permit] : NULL;
	fmt_day(d.day, day, sizeof(day));
	switch (kind) {
	case RK_OFF_HOURS:
		snprintf(rule, sizeof(rule), "stopped %lld s in its permitted zone %s", stopped,
			 (d.reason & R_DATES)    ? "outside the permit's valid dates"
			 : (d.reason & R_SEASON) ? "during a closed season"
						 : "outside the permit's working hours");
		break;
	case RK_NO_PERMIT:
		snprintf(rule, sizeof(rule), "stopped %lld s outside parking without a permit valid on %s",
			 stopped, day);
		break;
	case RK_OUTSIDE_ZONE:
		snprintf(rule, sizeof(rule), "stopped %lld s in a mining zone its permits do not name",
			 stopped);
		break;
	default:
		snprintf(rule, sizeof(rule), "stopped %lld s outside every parking point and mining zone",
			 stopped);
	}
	jf_str(j, "rule", rule);
	jf_int(j, "stopped_s", stopped);
	jf_time(j, r, "stop_start", s->stop_start_ms);
	jf_time(j, r, "local_time", t);
	jf_num(j, "lon", s->c_lon, 7);
	jf_num(j, "lat", s->c_lat, 7);
	if (d.zone >= 0)
		jf_str(j, "zone", subj_text(r, d.subj));
	if (d.zone >= 0)
		jf_num(j, "zone_m", d.zone_m, 1);
	if (kind == RK_OFF_HOURS) {
		jf_str(j, "reason", (d.reason & R_DATES) ? "dates" : (d.reason & R_SEASON) ? "season" : "hours");
		jf_bool(j, "outside_dates", d.reason & R_DATES);
		jf_bool(j, "outside_hours", d.reason & R_HOURS);
		if (d.season >= 0)
			jf_str(j, "season", r->seasons[d.season].name);
	}
	if (pm) {
		jf_str(j, "permit", pm->number);
		jf_day(j, "valid_from", pm->valid_from_day);
		jf_day(j, "valid_to", pm->valid_to_day);
		hours_text(pm, hours, sizeof(hours));
		jf_str(j, "hours", hours);
		copy_str(a->permit, sizeof(a->permit), pm->number);
	}
	jf_int(j, "permits_held", d.n_permits);
	jf_int(j, "permits_valid", d.n_valid);
	jf_num(j, "parking_m", d.w->parking_m, 1);
	jf_num(j, "median_speed_kn", s->stop_median_kn, 2);
	jf_num(j, "spread_m", s->stop_spread_m, 1);
	jf_int(j, "stop_alert_s", r->c.stop_alert_s);
	jf_int(j, "stop_window_s", r->c.stop_window_s);
	jf_num(j, "stop_radius_m", r->c.stop_radius_m, 1);
	jf_num(j, "stop_speed_kn", r->c.stop_speed_kn, 2);
	jf_num(j, "parking_tolerance_m", r->c.parking_tolerance_m, 1);
	jf_num(j, "zone_tolerance_m", r->c.zone_tolerance_m, 1);
	a->lon = s->c_lon;
	a->lat = s->c_lat;
	evidence_range(v, s->stop_start_ms, t, a);
}

/* Fills what an alert of (kind, subj) says in state s: severity, position,
 * permit, detail and evidence. -1 when s does not hold the condition (the
 * alert keeps what it had). */
static int info_fill(struct rules *r, struct vessel *v, const struct vstate *s, int kind, uint32_t subj,
		     struct rules_alert *a)
{
	struct rules_alert tmp;
	struct jb j;
	char buf[200];
	int k;

	memset(&tmp, 0, sizeof(tmp));
	jb_init(&j, tmp.detail, sizeof(tmp.detail));
	switch (kind) {
	case RK_PROTECTION_ZONE:
	case RK_NO_MINING_ZONE: {
		const struct zstate *zs = NULL;

		for (k = 0; k < s->nz; k++)
			if (s->z[k].subj == subj && zone_rk(s->z[k].gkind) == kind && s->z[k].in)
				zs = &s->z[k];
		if (!zs)
			return -1;
		snprintf(buf, sizeof(buf), "inside a %s zone", kind == RK_PROTECTION_ZONE ? "protection" : "no-mining");
		jf_str(&j, "rule", buf);
		jf_str(&j, "zone", subj_text(r, subj));
		jf_time(&j, r, "entered", zs->since_ms);
		jf_time(&j, r, "local_time", s->last_t);
		jf_num(&j, "dist_m", isfinite(zs->dist_m) ? zs->dist_m : NAN, 1);
		jf_num(&j, "depth_m", zs->depth_m, 1);
		jf_num(&j, "zone_inner_m", r->c.zone_inner_m, 1);
		jf_num(&j, "zone_outer_m", r->c.zone_outer_m, 1);
		jf_int(&j, "zone_dwell_s", r->c.zone_dwell_s);
		tmp.lon = s->last_lon;
		tmp.lat = s->last_lat;
		evidence_range(v, zs->since_ms, s->last_t, &tmp);
		break;
	}
	case RK_ILLEGAL_STOP:
	case RK_OUTSIDE_ZONE:
	case RK_OFF_HOURS:
	case RK_NO_PERMIT:
		if (s->sa_kind != kind || s->sa_subj != subj || !s->stopped)
			return -1;
		info_stop(r, v, s, kind, &j, &tmp);
		break;
	case RK_JUMP:
		if (!s->jump)
			return -1;
		snprintf(buf, sizeof(buf), "moved %.0f m in %.0f s", s->jump_m, s->jump_s);
		jf_str(&j, "rule", buf);
		jf_num(&j, "distance_m", s->jump_m, 1);
		jf_num(&j, "seconds", s->jump_s, 1);
		jf_num(&j, "speed_kn", s->jump_s > 0 ? s->jump_m / s->jump_s * KN_PER_MPS : NAN, 1);
		jf_num(&j, "jump_speed_kn", r->c.jump_speed_kn, 1);
		jf_num(&j, "jump_min_m", r->c.jump_min_m, 1);
		tmp.lon = s->last_lon;
		tmp.lat = s->last_lat;
		evidence_range(v, s->jump_from_ms, s->last_t, &tmp);
		break;
	case RK_DEVICE_ALARM: {
		size_t st;
		int first = 1, rc;

		if (!s->alarm_bits)
			return -1;
		snprintf(buf, sizeof(buf), "device alarm bits set");
		jf_str(&j, "rule", buf);
		st = j.len;
		rc = jb_key(&j, "bits") || jb_put(&j, "[", 1);
		for (k = 0; k < 32 && !rc; k++)
			if (s->alarm_bits & (1u << k)) {
				rc = (!first && jb_put(&j, ",", 1)) || jb_esc(&j, alarm_names[k]);
				first = 0;
			}
		rc = rc || jb_put(&j, "]", 1);
		jb_end_field(&j, st, rc);
		snprintf(buf, sizeof(buf), "0x%08x", s->alarm_bits);
		jf_str(&j, "alarm_bits", buf);
		snprintf(buf, sizeof(buf), "0x%08x", r->c.device_alarm_mask);
		jf_str(&j, "device_alarm_mask", buf);
		jf_time(&j, r, "since", s->alarm_since_ms);
		tmp.lon = s->last_lon;
		tmp.lat = s->last_lat;
		evidence_range(v, s->alarm_since_ms, s->t_ms, &tmp);
		break;
	}
	default:
		return -1;
	}
	jb_finish(&j);
	a->vessel_id = v->id;
	a->kind = kind;
	copy_str(a->subject, sizeof(a->subject), subj_text(r, subj));
	memcpy(a->permit, tmp.permit, sizeof(a->permit));
	a->severity = severity_of(kind, s->alarm_bits);
	a->lon = tmp.lon;
	a->lat = tmp.lat;
	memcpy(a->detail, tmp.detail, sizeof(a->detail));
	memcpy(a->evidence, tmp.evidence, sizeof(a->evidence));
	a->n_evidence = tmp.n_evidence;
	return 0;
}

/* When the info cannot be derived (a seeded alert ending): a minimal one. */
static void info_min(struct rules *r, int kind, uint32_t subj, struct rules_alert *a)
{
	struct jb j;

	jb_init(&j, a->detail, sizeof(a->detail));
	jf_str(&j, "rule", rules_kind_name(kind));
	jb_finish(&j);
	a->kind = kind;
	copy_str(a->subject, sizeof(a->subject), subj_text(r, subj));
	a->severity = severity_of(kind, 0);
}

/* ------------------------------------------------------------ alert lifecycle */

static void emit(struct rules *r, int ev, struct rules_alert *a)
{
	if (ev == RE_OPEN)
		r->st.alerts_opened++;
	else if (ev == RE_CLOSE)
		r->st.alerts_closed++;
	if (r->sink)
		r->sink(r->ctx, ev, a);
}

static struct valert *open_add(struct rules *r, struct vessel *v)
{
	struct valert *va;

	if (v->n_open == v->cap_open) {
		int ncap = v->cap_open ? v->cap_open * 2 : 4;
		struct valert **no = realloc(v->open, (size_t)ncap * sizeof(*no));

		if (!no)
			return NULL;
		v->open = no;
		v->cap_open = ncap;
	}
	va = calloc(1, sizeof(*va));
	if (!va)
		return NULL;
	v->open[v->n_open++] = va;
	r->st.open_alerts++;
	return va;
}

static void closed_push(const struct rules *r, struct vessel *v, int kind, uint32_t subj, int64_t opened,
			int64_t closed, int matched)
{
	int64_t keep = hist_latest(v) - (int64_t)r->c.reeval_window_s * 1000;
	int k, w = 0;

	if (!v->closed && !(v->closed = malloc(CLOSED_MAX * sizeof(*v->closed))))
		return; /* only the dedup of a later replay is weaker */
	for (k = 0; k < v->n_closed; k++)
		if (v->closed[k].closed_ms >= keep)
			v->closed[w++] = v->closed[k];
	v->n_closed = w;
	if (v->n_closed == CLOSED_MAX) {
		memmove(v->closed, v->closed + 1, (CLOSED_MAX - 1) * sizeof(*v->closed));
		v->n_closed--;
	}
	v->closed[v->n_closed].kind = (uint8_t)kind;
	v->closed[v->n_closed].subj = subj;
	v->closed[v->n_closed].opened_ms = opened;
	v->closed[v->n_closed].closed_ms = closed;
	v->closed[v->n_closed].matched = (uint8_t)matched;
	v->n_closed++;
}

/* Closes open alert k of v at device time t. */
static void alert_close(struct rules *r, struct vessel *v, int k, int64_t t)
{
	struct valert *va = v->open[k];

	va->a.open = 0;
	va->a.closed_ms = t > va->a.opened_ms ? t : va->a.opened_ms;
	va->a.updated_ms = va->a.closed_ms;
	emit(r, RE_CLOSE, &va->a);
	closed_push(r, v, va->a.kind, va->subj, va->a.opened_ms, va->a.closed_ms, va->matched);
	v->open[k] = v->open[--v->n_open];
	r->st.open_alerts--;
	free(va);
}

static struct valert *open_find(const struct vessel *v, int kind, uint32_t subj)
{
	int k;

	for (k = 0; k < v->n_open; k++)
		if (v->open[k]->a.kind == kind && v->open[k]->subj == subj)
			return v->open[k];
	return NULL;
}

static int cond_has(const struct cond *c, int n, int kind, uint32_t subj)
{
	int k;

	for (k = 0; k < n; k++)
		if (c[k].kind == kind && c[k].subj == subj)
			return 1;
	return 0;
}

static int64_t end_time(const struct ends *o, int kind, uint32_t subj, int64_t dflt)
{
	int k;

	for (k = 0; k < o->n; k++)
		if (o->e[k].kind == kind && o->e[k].subj == subj)
			return o->e[k].t;
	return dflt;
}

/* After an in-order step: open, update and close the vessel's alerts to
 * match the conditions holding in v->s. prev is the state before the step. */
static void live_apply(struct rules *r, struct vessel *v, const struct vstate *prev, const struct ends *o,
		       int late, int64_t t)
{
	struct cond c[COND_MAX];
	int n = holding(&v->s, c), k;

	for (k = v->n_open; k-- > 0;) {
		struct valert *va = v->open[k];

		if (!replayable(va->a.kind) || cond_has(c, n, va->a.kind, va->subj))
			continue;
		info_fill(r, v, prev, va->a.kind, va->subj, &va->a);
		alert_close(r, v, k, end_time(o, va->a.kind, va->subj, t));
	}
	for (k = 0; k < n; k++) {
		struct valert *va = open_find(v, c[k].kind, c[k].subj);
		int sev = severity_of(c[k].kind, v->s.alarm_bits);

		if (!va) {
			va = open_add(r, v);
			if (!va)
				continue;
			va->subj = c[k].subj;
			if (info_fill(r, v, &v->s, c[k].kind, c[k].subj, &va->a))
				info_min(r, c[k].kind, c[k].subj, &va->a);
			va->bits = v->s.alarm_bits;
			va->a.open = 1;
			va->a.late = late;
			va->a.opened_ms = c[k].since;
			va->a.updated_ms = t;
			emit(r, RE_OPEN, &va->a);
		} else if (t - va->a.updated_ms >= (int64_t)r->c.update_every_s * 1000 || sev != va->a.severity ||
			   (c[k].kind == RK_DEVICE_ALARM && va->bits != v->s.alarm_bits)) {
			if (info_fill(r, v, &v->s, c[k].kind, c[k].subj, &va->a))
				continue;
			va->bits = v->s.alarm_bits;
			va->a.updated_ms = t > va->a.updated_ms ? t : va->a.updated_ms;
			emit(r, RE_UPDATE, &va->a);
		}
	}
}

/* ------------------------------------------------------------ replay */

static int64_t overlap(int64_t a0, int64_t a1, int64_t b0, int64_t b1)
{
	int64_t e0 = a1 ? a1 : INF_MS, e1 = b1 ? b1 : INF_MS;

	return (e0 < e1 ? e0 : e1) - (a0 > b0 ? a0 : b0);
}

/* Matches the replay's episodes with the vessel's known alerts (see the top
 * of the file). `final`: the replay is over and v->s is the current state;
 * otherwise only episodes already over are settled (the table is full). */
static int cmp_pair(const void *a, const void *b)
{
	const struct ep_pair *x = a, *y = b;

	if (x->diff != y->diff)
		return x->diff < y->diff ? -1 : 1;
	return x->ep != y->ep ? x->ep - y->ep : x->target - y->target;
}

static int64_t abs64(int64_t x)
{
	return x < 0 ? -x : x;
}

/* Pairs the episodes to settle with the known alerts of the same kind and
 * subject whose times overlap (within the slack), nearest start first, each
 * used once. */
static void reconcile_match(struct rules *r, struct vessel *v, int final, int64_t slack)
{
	int e, k, n = 0, p;

	for (e = 0; e < r->nep; e++) {
		struct episode *ep = &r->ep[e];

		ep->m_open = NULL;
		ep->m_closed = 0;
		if (!final && !ep->close_ms)
			continue;
		for (k = 0; k < v->n_open && n < PAIRS_MAX; k++) {
			const struct valert *va = v->open[k];

			if (va->matched || va->a.kind != ep->kind || va->subj != ep->subj ||
			    overlap(ep->open_ms, ep->close_ms, va->a.opened_ms, 0) < -slack)
				continue;
			r->pairs[n].ep = e;
			r->pairs[n].target = k;
			r->pairs[n].diff = abs64(ep->open_ms - va->a.opened_ms);
			n++;
		}
		for (k = 0; k < v->n_closed && n < PAIRS_MAX; k++) {
			const struct closed_rec *cr = &v->closed[k];

			if (cr->matched || cr->kind != ep->kind || cr->subj != ep->subj ||
			    overlap(ep->open_ms, ep->close_ms, cr->opened_ms, cr->closed_ms) < -slack)
				continue;
			r->pairs[n].ep = e;
			r->pairs[n].target = -1 - k;
			r->pairs[n].diff = abs64(ep->open_ms - cr->opened_ms);
			n++;
		}
	}
	qsort(r->pairs, (size_t)n, sizeof(*r->pairs), cmp_pair);
	for (p = 0; p < n; p++) {
		struct episode *ep = &r->ep[r->pairs[p].ep];

		if (ep->m_open || ep->m_closed)
			continue;
		if (r->pairs[p].target >= 0) {
			struct valert *va = v->open[r->pairs[p].target];

			if (va->matched)
				continue;
			va->matched = 1;
			ep->m_open = va;
		} else {
			struct closed_rec *cr = &v->closed[-1 - r->pairs[p].target];

			if (cr->matched)
				continue;
			cr->matched = 1;
			ep->m_closed = 1;
			ep->m_closed_ms = cr->closed_ms;
		}
	}
}

/* Matches the replay's episodes with the vessel's known alerts (see the top
 * of the file). `final`: the replay is over and v->s is the current state;
 * otherwise only episodes already over are settled (the table is full). */
static void reconcile(struct rules *r, struct vessel *v, int final)
{
	int64_t slack = (int64_t)(r->c.stop_window_s > r->c.zone_dwell_s ? r->c.stop_window_s
									    : r->c.zone_dwell_s) * 1000;
	int64_t now = v->s.last_t > v->s.t_ms ? v->s.last_t : v->s.t_ms;
	int e, k, w = 0;

	reconcile_match(r, v, final, slack);
	for (e = 0; e < r->nep; e++) {
		struct episode *ep = &r->ep[e];
		struct valert *bo = ep->m_open;

		if (!final && !ep->close_ms) {
			r->ep[w++] = *ep;
			continue;
		}
		if (!ep->have_info)
			info_min(r, ep->kind, ep->subj, &ep->a);
		if (bo) {
			if (ep->close_ms) {
				int idx;

				bo->a.severity = ep->a.severity;
				bo->a.lon = ep->a.lon;
				bo->a.lat = ep->a.lat;
				if (ep->have_info) {
					memcpy(bo->a.permit, ep->a.permit, sizeof(bo->a.permit));
					memcpy(bo->a.detail, ep->a.detail, sizeof(bo->a.detail));
					memcpy(bo->a.evidence, ep->a.evidence, sizeof(bo->a.evidence));
					bo->a.n_evidence = ep->a.n_evidence;
				}
				for (idx = 0; v->open[idx] != bo; idx++)
					;
				alert_close(r, v, idx, ep->close_ms);
			} else if (ep->have_info &&
				   (now - bo->a.updated_ms >= (int64_t)r->c.update_every_s * 1000 ||
				    ep->a.severity != bo->a.severity)) {
				bo->a.severity = ep->a.severity;
				bo->a.lon = ep->a.lon;
				bo->a.lat = ep->a.lat;
				memcpy(bo->a.detail, ep->a.detail, sizeof(bo->a.detail));
				memcpy(bo->a.evidence, ep->a.evidence, sizeof(bo->a.evidence));
				bo->a.n_evidence = ep->a.n_evidence;
				memcpy(bo->a.permit, ep->a.permit, sizeof(bo->a.permit));
				bo->bits = v->s.alarm_bits;
				bo->a.updated_ms = now > bo->a.updated_ms ? now : bo->a.updated_ms;
				emit(r, RE_UPDATE, &bo->a);
			}
			continue;
		}
		if (ep->m_closed) {
			int64_t closed = ep->m_closed_ms;

			if (ep->close_ms)
				continue; /* known and over: nothing new */
			/* it goes on past the known alert's end: a new one from there */
			ep->open_ms = closed > ep->open_ms ? closed : ep->open_ms;
		}
		{
			struct valert *va = open_add(r, v);

			if (!va)
				continue;
			va->a = ep->a;
			va->subj = ep->subj;
			va->bits = v->s.alarm_bits;
			va->matched = 1;
			va->a.vessel_id = v->id;
			va->a.kind = ep->kind;
			va->a.id = 0;
			va->a.open = 1;
			va->a.late = 1;
			va->a.opened_ms = ep->open_ms;
			va->a.updated_ms = ep->close_ms ? ep->close_ms : now;
			va->a.closed_ms = 0;
			emit(r, RE_OPEN, &va->a);
			if (ep->close_ms)
				alert_close(r, v, v->n_open - 1, ep->close_ms);
		}
	}
	r->nep = w;
	if (!final)
		return;
	/* known open alerts that no episode continues are over */
	for (k = v->n_open; k-- > 0;)
		if (replayable(v->open[k]->a.kind) && !v->open[k]->matched)
			alert_close(r, v, k, now);
	for (k = 0; k < v->n_open; k++)
		v->open[k]->matched = 0;
	for (k = 0; k < v->n_closed; k++)
		v->closed[k].matched = 0;
	r->nep = 0;
}

static struct episode *ep_find(struct rules *r, int kind, uint32_t subj)
{
	int e;

	for (e = 0; e < r->nep; e++)
		if (!r->ep[e].close_ms && r->ep[e].kind == kind && r->ep[e].subj == subj)
			return &r->ep[e];
	return NULL;
}

static struct episode *ep_add(struct rules *r, struct vessel *v, int kind, uint32_t subj, int64_t since)
{
	struct episode *ep;

	if (r->nep == EP_MAX)
		reconcile(r, v, 0);
	if (r->nep == EP_MAX)
		return NULL;
	ep = &r->ep[r->nep++];
	memset(ep, 0, sizeof(*ep));
	ep->kind = (uint8_t)kind;
	ep->subj = subj;
	ep->open_ms = since;
	return ep;
}

/* Takes a snapshot before fix i when it is due. */
static void snap_maybe(struct vessel *v, const struct vstate *s, uint32_t i)
{
	const struct hfix *f = H(v, i);

	if (!s->t_ms || ft(f) <= s->t_ms)
		return;
	if (v->since_snap < SNAP_EVERY && ft(f) - s->t_ms < SNAP_GAP_MS)
		return;
	if (!snap_push(v, s->t_ms, s))
		v->since_snap = 0;
}

/* Re-evaluates v from the last snapshot before its earliest waiting late fix
 * through its latest fix, and reconciles the alerts found. */
static void replay(struct rules *r, struct vessel *v)
{
	struct cond c[COND_MAX];
	struct vstate s, prev;
	struct ends o;
	int k, n, e;
	uint32_t i;

	v->dirty = 0;
	v->n_pending = 0;
	if (!v->n_snap)
		return; /* nothing to start from: the late fixes stay unevaluated */
	for (k = v->n_snap - 1; k > 0 && v->snaps[k].key_t >= v->dirty_t; k--)
		;
	s = v->snaps[k].s;
	i = v->snaps[k].key_t == INT64_MIN ? 0 : hist_bound(v, v->snaps[k].key_t, 0);
	v->n_snap = k + 1;
	v->since_snap = 0;
	r->st.reevaluations++;
	r->nep = 0;
	n = holding(&s, c);
	for (k = 0; k < n; k++)
		ep_add(r, v, c[k].kind, c[k].subj, c[k].since);
	for (; i < v->h_n; i++) {
		snap_maybe(v, &s, i);
		prev = s;
		step(r, v, &s, i, &o);
		v->since_snap++;
		n = holding(&s, c);
		for (e = 0; e < r->nep; e++) {
			struct episode *ep = &r->ep[e];

			if (ep->close_ms || cond_has(c, n, ep->kind, ep->subj))
				continue;
			ep->close_ms = end_time(&o, ep->kind, ep->subj, s.t_ms);
			if (ep->close_ms < ep->open_ms)
				ep->close_ms = ep->open_ms;
			if (!info_fill(r, v, &prev, ep->kind, ep->subj, &ep->a))
				ep->have_info = 1;
		}
		for (k = 0; k < n; k++)
			if (!ep_find(r, c[k].kind, c[k].subj))
				ep_add(r, v, c[k].kind, c[k].subj, c[k].since);
	}
	for (e = 0; e < r->nep; e++) {
		struct episode *ep = &r->ep[e];

		if (!ep->close_ms && !info_fill(r, v, &s, ep->kind, ep->subj, &ep->a))
			ep->have_info = 1;
	}
	v->s = s;
	reconcile(r, v, 1);
}

/* ------------------------------------------------------------ public API */

struct rules *rules_new(const struct rules_config *c, rules_sink sink, void *ctx)
{
	struct rules *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (c)
		r->c = *c;
	else
		rules_config_defaults(&r->c);
	if (r->c.history_max <= 0)
		r->c.history_max = 512;
	if (r->c.history_max > 1 << 20)
		r->c.history_max = 1 << 20;
	r->sink = sink;
	r->ctx = ctx;
	r->ep = calloc(EP_MAX, sizeof(*r->ep));
	r->pairs = calloc(PAIRS_MAX, sizeof(*r->pairs));
	if (!r->ep || !r->pairs || subj_grow(r)) {
		rules_free(r);
		return NULL;
	}
	r->subj[0] = strdup("");
	if (!r->subj[0]) {
		rules_free(r);
		return NULL;
	}
	r->subj_hash[0] = str_hash("");
	r->subj_next[0] = UINT32_MAX;
	r->nsubj = 1;
	return r;
}

static void unreg_free_all(struct rules *r)
{
	size_t b;

	for (b = 0; b < r->utab_cap; b++)
		while (r->utab[b]) {
			struct unreg *u = r->utab[b];

			r->utab[b] = u->next;
			free(u);
		}
	free(r->utab);
}

void rules_free(struct rules *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nv; i++)
		vessel_free(r->vlist[i]);
	free(r->vlist);
	free(r->vtab);
	free(r->dirty);
	for (i = 0; i < r->nsubj; i++)
		free(r->subj[i]);
	free(r->subj);
	free(r->subj_hash);
	free(r->subj_next);
	free(r->subj_head);
	unreg_free_all(r);
	free(r->zi);
	free(r->permits);
	free(r->seasons);
	free(r->ep);
	free(r->pairs);
	if (r->ix)
		gf_unref(r->ix);
	free(r);
}

void rules_set_index(struct rules *r, struct gf_index *ix)
{
	struct zinfo *zi = NULL;
	size_t n = ix ? gf_zone_count(ix) : 0, i;
	char buf[256];

	if (!r)
		return;
	if (n) {
		zi = calloc(n, sizeof(*zi));
		if (!zi)
			return; /* keep the old index rather than lose the zones */
	}
	for (i = 0; i < n; i++) {
		const struct gf_zone *z = gf_zone_at(ix, (uint32_t)i);

		zone_subject(z, buf, sizeof(buf));
		zi[i].subj = subj_id(r, buf);
		zi[i].gkind = (uint8_t)z->kind;
	}
	if (ix)
		gf_ref(ix);
	if (r->ix)
		gf_unref(r->ix);
	r->ix = ix;
	r->ix_gen++;
	free(r->zi);
	r->zi = zi;
	r->nzi = n;
}

void rules_set_permits(struct rules *r, const struct rules_permit *p, size_t n)
{
	struct rules_permit *np = NULL;

	if (!r)
		return;
	if (n) {
		np = malloc(n * sizeof(*np));
		if (!np)
			return;
		memcpy(np, p, n * sizeof(*np));
		qsort(np, n, sizeof(*np), cmp_permit);
	}
	free(r->permits);
	r->permits = np;
	r->npermits = n;
}

void rules_set_seasons(struct rules *r, const struct rules_season *s, size_t n)
{
	struct rules_season *ns = NULL;

	if (!r)
		return;
	if (n) {
		ns = malloc(n * sizeof(*ns));
		if (!ns)
			return;
		memcpy(ns, s, n * sizeof(*ns));
	}
	free(r->seasons);
	r->seasons = ns;
	r->nseasons = n;
}

void rules_set_vessel(struct rules *r, int32_t vessel_id, int kind)
{
	struct vessel *v = r ? vessel_get(r, vessel_id) : NULL;

	if (v)
		v->kind = kind;
}

void rules_seed_seen(struct rules *r, int32_t vessel_id, int64_t last_recv_ms, double lon, double lat)
{
	struct vessel *v = r ? vessel_get(r, vessel_id) : NULL;

	if (!v)
		return;
	if (last_recv_ms > v->last_recv_ms)
		v->last_recv_ms = last_recv_ms;
	if (isfinite(lon) && isfinite(lat) && (lon != 0 || lat != 0)) {
		v->seen_lon = lon;
		v->seen_lat = lat;
		v->have_seen = 1;
	}
}

static struct unreg *unreg_find(const struct rules *r, const char *terminal, uint32_t h)
{
	struct unreg *u;

	if (!r->utab_cap)
		return NULL;
	for (u = r->utab[h & (r->utab_cap - 1)]; u; u = u->next)
		if (!strcmp(u->a.subject, terminal))
			return u;
	return NULL;
}

static struct unreg *unreg_add(struct rules *r, const char *terminal)
{
	struct unreg *u;
	uint32_t h;

	if (r->nunreg >= UNREG_MAX)
		return NULL;
	if (r->nunreg + 1 > r->utab_cap) {
		size_t ncap = r->utab_cap ? r->utab_cap * 2 : 64, b;
		struct unreg **nt = calloc(ncap, sizeof(*nt));

		if (!nt)
			return NULL;
		for (b = 0; b < r->utab_cap; b++)
			while (r->utab[b]) {
				struct unreg *x = r->utab[b];

				r->utab[b] = x->next;
				x->next = nt[str_hash(x->a.subject) & (ncap - 1)];
				nt[str_hash(x->a.subject) & (ncap - 1)] = x;
			}
		free(r->utab);
		r->utab = nt;
		r->utab_cap = ncap;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	copy_str(u->a.subject, sizeof(u->a.subject), terminal);
	h = str_hash(u->a.subject);
	u->next = r->utab[h & (r->utab_cap - 1)];
	r->utab[h & (r->utab_cap - 1)] = u;
	r->nunreg++;
	r->st.open_alerts++;
	return u;
}

static void unreg_detail(struct rules *r, struct unreg *u)
{
	struct jb j;
	char rule[160];

	jb_init(&j, u->a.detail, sizeof(u->a.detail));
	snprintf(rule, sizeof(rule), "an unknown terminal tried to connect %d time%s", u->attempts,
		 u->attempts == 1 ? "" : "s");
	jf_str(&j, "rule", rule);
	jf_str(&j, "terminal", u->a.subject);
	jf_str(&j, "protocol", u->protocol);
	jf_int(&j, "attempts", u->attempts);
	jf_time(&j, r, "first", u->first_ms);
	jf_time(&j, r, "last", u->last_ms);
	jf_int(&j, "unregistered_quiet_s", r->c.unregistered_quiet_s);
	jb_finish(&j);
}

void rules_seed_alert(struct rules *r, const struct rules_alert *a)
{
	struct vessel *v;
	struct valert *va;
	uint32_t subj;
	struct vstate *s;

	if (!r || !a || a->kind < 0 || a->kind >= RK_COUNT)
		return;
	if (a->kind == RK_UNREGISTERED) {
		struct unreg *u = unreg_find(r, a->subject, str_hash(a->subject));

		if (u || !(u = unreg_add(r, a->subject)))
			return;
		u->a = *a;
		u->a.open = 1;
		u->attempts = 1;
		u->first_ms = a->opened_ms;
		u->last_ms = a->updated_ms > a->opened_ms ? a->updated_ms : a->opened_ms;
		return;
	}
	v = vessel_get(r, a->vessel_id);
	if (!v)
		return;
	if (a->kind == RK_OFFLINE) {
		if (v->offline)
			return;
		v->offline = calloc(1, sizeof(*v->offline));
		if (!v->offline)
			return;
		v->offline->a = *a;
		v->offline->a.open = 1;
		r->st.open_alerts++;
		return;
	}
	subj = subj_id(r, a->subject);
	if (open_find(v, a->kind, subj) || !(va = open_add(r, v)))
		return;
	va->a = *a;
	va->a.open = 1;
	va->a.closed_ms = 0;
	va->subj = subj;
	/* the state that makes the first fixes continue it */
	s = &v->s;
	switch (a->kind) {
	case RK_PROTECTION_ZONE:
	case RK_NO_MINING_ZONE:
		if (!zs_find(s, subj, a->kind == RK_PROTECTION_ZONE ? GF_PROTECTION : GF_NO_MINING) &&
		    s->nz < ZS_MAX) {
			struct zstate *zs = &s->z[s->nz++];

			memset(zs, 0, sizeof(*zs));
			zs->subj = subj;
			zs->gkind = a->kind == RK_PROTECTION_ZONE ? GF_PROTECTION : GF_NO_MINING;
			zs->in = 1;
			zs->since_ms = a->opened_ms;
		}
		break;
	case RK_ILLEGAL_STOP:
	case RK_OUTSIDE_ZONE:
	case RK_OFF_HOURS:
	case RK_NO_PERMIT:
		if ((a->lon != 0 || a->lat != 0) && s->sa_kind < 0 && !s->stopped) {
			s->stopped = 1;
			s->stop_start_ms = a->opened_ms - (int64_t)r->c.stop_alert_s * 1000;
			s->c_lon = a->lon;
			s->c_lat = a->lat;
			s->c_n = 10;
			s->sa_kind = a->kind;
			s->sa_subj = subj;
			s->sa_since_ms = a->opened_ms;
		}
		break;
	default:
		break;
	}
	if (!v->h_n && v->n_snap && v->snaps[0].key_t == INT64_MIN)
		v->snaps[0].s = *s;
}

/* A report of any kind was received: closes the offline alert. */
static void received(struct rules *r, struct vessel *v, int64_t recv_ms)
{
	if (v->offline) {
		struct valert *va = v->offline;
		int64_t last = v->last_recv_ms;
		struct jb j;
		char rule[160];

		jb_init(&j, va->a.detail, sizeof(va->a.detail));
		if (last)
			snprintf(rule, sizeof(rule), "no report for %lld s", (long long)((recv_ms - last) / 1000));
		else
			snprintf(rule, sizeof(rule), "reports resumed");
		jf_str(&j, "rule", rule);
		jf_int(&j, "gap_s", last ? (recv_ms - last) / 1000 : -1);
		if (last)
			jf_time(&j, r, "last_report", last);
		jf_time(&j, r, "resumed", recv_ms);
		jf_int(&j, "offline_after_s", r->c.offline_after_s);
		jf_int(&j, "severity", va->a.severity);
		jb_finish(&j);
		va->a.open = 0;
		va->a.closed_ms = recv_ms > va->a.opened_ms ? recv_ms : va->a.opened_ms;
		va->a.updated_ms = va->a.closed_ms;
		emit(r, RE_CLOSE, &va->a);
		free(va);
		v->offline = NULL;
		r->st.open_alerts--;
	}
	if (recv_ms > v->last_recv_ms)
		v->last_recv_ms = recv_ms;
}

static void dirty_add(struct rules *r, struct vessel *v)
{
	if (r->ndirty == r->dirty_cap) {
		size_t ncap = r->dirty_cap ? r->dirty_cap * 2 : 64;
		struct vessel **nd = realloc(r->dirty, ncap * sizeof(*nd));

		if (!nd) {
			replay(r, v); /* cannot defer it: do it now */
			return;
		}
		r->dirty = nd;
		r->dirty_cap = ncap;
	}
	r->dirty[r->ndirty++] = v;
}

/* A late fix: into the history; the replay comes later (rules_flush). */
static void late_insert(struct rules *r, struct vessel *v, struct hfix *f)
{
	int64_t latest = hist_latest(v);
	uint32_t p;

	f->cf |= HF_LATE;
	if (ft(f) < latest - (int64_t)r->c.reeval_window_s * 1000 || !v->n_snap ||
	    ft(f) <= v->snaps[0].key_t) {
		r->late_dropped++;
		return;
	}
	if (hist_has(v, f))
		return;
	p = hist_bound(v, ft(f), 0);
	if (p == 0 && v->h_n >= (uint32_t)r->c.history_max) {
		r->late_dropped++;
		return;
	}
	if (hist_reserve(r, v))
		return;
	memmove(H(v, p + 1), H(v, p), (v->h_n - p) * sizeof(*f));
	*H(v, p) = *f;
	v->h_n++;
	hist_trim(r, v);
	if (!v->dirty) {
		v->dirty = 1;
		v->dirty_t = ft(f);
		dirty_add(r, v);
	} else if (ft(f) < v->dirty_t) {
		v->dirty_t = ft(f);
	}
	if (++v->n_pending >= PENDING_MAX && v->dirty)
		replay(r, v);
}

void rules_position(struct rules *r, const struct rules_input *in)
{
	struct vessel *v;
	struct hfix f;
	struct vstate prev;
	struct ends o;
	int64_t recv_s;
	uint32_t i, course;
	int valid, late;

	if (!r || !in)
		return;
	r->st.positions++;
	v = vessel_get(r, in->vessel_id);
	if (!v)
		return;
	received(r, v, in->recv_ms);
	if (in->t_ms <= 0 || in->t_ms >= T_MAX_MS)
		return;
	valid = in->fix_valid && isfinite(in->lon) && isfinite(in->lat) && fabs(in->lon) <= 180 &&
		fabs(in->lat) <= 90 && (in->lon != 0 || in->lat != 0);
	memset(&f, 0, sizeof(f));
	if (valid) {
		f.lon_e7 = (int32_t)lround(in->lon * 1e7);
		f.lat_e7 = (int32_t)lround(in->lat * 1e7);
	}
	recv_s = (in->recv_ms - in->t_ms) / 1000;
	recv_s = recv_s < 0 ? 0 : recv_s > TR_RECV_MAX ? TR_RECV_MAX : recv_s;
	f.tr = (uint64_t)in->t_ms << TR_SHIFT | (uint64_t)recv_s;
	f.alarm = in->alarm_bits;
	f.speed_c = (uint16_t)(isfinite(in->speed_kn) && in->speed_kn > 0
				       ? (in->speed_kn * 100 < 65535 ? lroundf(in->speed_kn * 100) : 65535)
				       : 0);
	course = isfinite(in->course) && in->course >= 0 && in->course < 360
			 ? (uint32_t)lroundf(in->course * 10) % 3600
			 : 0;
	late = in->blind || in->recv_ms - in->t_ms > (int64_t)r->c.late_after_s * 1000;
	f.cf = (uint16_t)(course | (valid ? HF_VALID : 0) | (late ? HF_LATE : 0));
	if (v->h_n && ft(&f) < hist_latest(v)) {
		late_insert(r, v, &f);
		return;
	}
	if (v->dirty)
		replay(r, v);
	if (hist_has(v, &f) || hist_reserve(r, v))
		return;
	*H(v, v->h_n++) = f;
	hist_trim(r, v);
	i = v->h_n - 1;
	snap_maybe(v, &v->s, i);
	prev = v->s;
	step(r, v, &v->s, i, &o);
	v->since_snap++;
	live_apply(r, v, &prev, &o, late, ft(&f));
}

void rules_flush(struct rules *r)
{
	size_t k;

	if (!r)
		return;
	for (k = 0; k < r->ndirty; k++)
		if (r->dirty[k]->dirty)
			replay(r, r->dirty[k]);
	r->ndirty = 0;
}

void rules_unregistered(struct rules *r, const char *protocol, const char *terminal, int64_t now_ms)
{
	struct unreg *u;
	const char *term = terminal && *terminal ? terminal : "?";
	char key[sizeof(((struct rules_alert *)0)->subject)];

	if (!r)
		return;
	copy_str(key, sizeof(key), term);
	u = unreg_find(r, key, str_hash(key));
	if (!u) {
		u = unreg_add(r, key);
		if (!u)
			return;
		copy_str(u->protocol, sizeof(u->protocol), protocol ? protocol : "");
		u->attempts = 1;
		u->first_ms = u->last_ms = now_ms;
		u->a.vessel_id = 0;
		u->a.kind = RK_UNREGISTERED;
		u->a.severity = severity_of(RK_UNREGISTERED, 0);
		u->a.open = 1;
		u->a.opened_ms = u->a.updated_ms = now_ms;
		unreg_detail(r, u);
		emit(r, RE_OPEN, &u->a);
		return;
	}
	u->attempts++;
	if (now_ms > u->last_ms)
		u->last_ms = now_ms;
	if (protocol && *protocol)
		copy_str(u->protocol, sizeof(u->protocol), protocol);
	if (now_ms - u->a.updated_ms >= (int64_t)r->c.update_every_s * 1000) {
		unreg_detail(r, u);
		u->a.updated_ms = now_ms;
		emit(r, RE_UPDATE, &u->a);
	}
}

static void offline_open(struct rules *r, struct vessel *v, int64_t now_ms)
{
	struct valert *va = calloc(1, sizeof(*va));
	double lon = 0, lat = 0;
	int have = 0, at_parking = 0;
	struct jb j;
	char rule[160];

	if (!va)
		return;
	if (v->s.stopped) {
		lon = v->s.c_lon, lat = v->s.c_lat, have = 1;
	} else if (v->s.have_last) {
		lon = v->s.last_lon, lat = v->s.last_lat, have = 1;
	} else if (v->have_seen) {
		lon = v->seen_lon, lat = v->seen_lat, have = 1;
	}
	if (have && r->ix)
		at_parking = classify(r, v, lon, lat)->at_parking;
	va->a.vessel_id = v->id;
	va->a.kind = RK_OFFLINE;
	va->a.severity = at_parking ? 2 : 3;
	va->a.open = 1;
	va->a.opened_ms = va->a.updated_ms = now_ms;
	va->a.lon = lon;
	va->a.lat = lat;
	va->a.late = 0;
	jb_init(&j, va->a.detail, sizeof(va->a.detail));
	snprintf(rule, sizeof(rule), "no report for more than %d s%s", r->c.offline_after_s,
		 at_parking ? " (last seen at a parking point)" : have ? " (last seen away from parking)" : "");
	jf_str(&j, "rule", rule);
	jf_time(&j, r, "last_report", v->last_recv_ms);
	jf_int(&j, "silent_s", (now_ms - v->last_recv_ms) / 1000);
	jf_bool(&j, "at_parking", at_parking);
	if (have) {
		jf_num(&j, "lon", lon, 7);
		jf_num(&j, "lat", lat, 7);
	}
	jf_int(&j, "offline_after_s", r->c.offline_after_s);
	jb_finish(&j);
	if (v->s.have_last) {
		uint32_t k = v->h_n;

		while (k-- > 0)
			if (H(v, k)->cf & HF_VALID) {
				fix_out(H(v, k), &va->a.evidence[0]);
				va->a.n_evidence = 1;
				break;
			}
	}
	v->offline = va;
	r->st.open_alerts++;
	emit(r, RE_OPEN, &va->a);
}

void rules_tick(struct rules *r, int64_t now_ms)
{
	size_t k, b;

	if (!r)
		return;
	rules_flush(r);
	for (k = 0; k < r->nv; k++) {
		struct vessel *v = r->vlist[k];

		if ((v->kind == VK_SAND_MINING || v->kind == VK_SAND_TRANSPORT) && v->last_recv_ms > 0 &&
		    !v->offline && now_ms - v->last_recv_ms > (int64_t)r->c.offline_after_s * 1000)
			offline_open(r, v, now_ms);
	}
	for (b = 0; b < r->utab_cap; b++) {
		struct unreg **pp = &r->utab[b];

		while (*pp) {
			struct unreg *u = *pp;

			if (now_ms - u->last_ms > (int64_t)r->c.unregistered_quiet_s * 1000) {
				unreg_detail(r, u);
				u->a.open = 0;
				u->a.closed_ms = u->a.updated_ms = now_ms;
				emit(r, RE_CLOSE, &u->a);
				*pp = u->next;
				free(u);
				r->nunreg--;
				r->st.open_alerts--;
			} else {
				pp = &u->next;
			}
		}
	}
}

void rules_get_stats(const struct rules *r, struct rules_stats *st)
{
	size_t k, fixes = 0, bytes = sizeof(*r);

	memset(st, 0, sizeof(*st));
	if (!r)
		return;
	*st = r->st;
	st->vessels = r->nv;
	for (k = 0; k < r->nv; k++) {
		const struct vessel *v = r->vlist[k];

		fixes += v->h_n;
		bytes += sizeof(*v) + v->h_cap * sizeof(struct hfix) + (size_t)v->cap_snap * sizeof(struct snap) +
			 (size_t)v->cap_open * sizeof(void *) + (size_t)v->n_open * sizeof(struct valert) +
			 (v->closed ? CLOSED_MAX * sizeof(struct closed_rec) : 0) +
			 (v->offline ? sizeof(struct valert) : 0);
	}
	st->history_fixes = fixes;
	st->memory_bytes = bytes + r->vtab_cap * sizeof(void *) + r->vlist_cap * sizeof(void *) +
			   r->nunreg * sizeof(struct unreg);
	st->late_dropped = r->late_dropped;
}

/* ------------------------------------------------------------ fleet */

void rules_fleet(struct rules *r, int64_t now_ms, rules_fleet_fn fn, void *ctx)
{
	size_t k;

	if (!r || !fn)
		return;
	for (k = 0; k < r->nv; k++) {
		struct vessel *v = r->vlist[k];
		struct rules_vessel_state st;
		int j;

		memset(&st, 0, sizeof(st));
		st.vessel_id = v->id;
		st.kind = v->kind;
		st.last_recv_ms = v->last_recv_ms;
		st.alerting = v->n_open > 0 || v->offline;
		if (v->offline ||
		    (v->last_recv_ms && v->kind != VK_OTHER &&
		     now_ms - v->last_recv_ms > (int64_t)r->c.offline_after_s * 1000)) {
			st.state = RV_OFFLINE;
			st.since_ms = v->last_recv_ms;
		} else if (!v->s.have_last) {
			st.state = RV_UNKNOWN;
		} else if (!v->s.stopped) {
			st.state = RV_MOVING;
			st.since_ms = v->s.last_t;
		} else {
			const struct where *w = classify(r, v, v->s.c_lon, v->s.c_lat);

			st.since_ms = v->s.stop_start_ms;
			if (w->at_parking) {
				st.state = RV_PARKED;
			} else if (w->n_mz > 0 && w->mz[0] < r->nzi) {
				st.state = RV_WORKING;
				st.zone = subj_text(r, r->zi[w->mz[0]].subj);
			} else {
				st.state = RV_STOPPED;
			}
		}
		for (j = 0; j < v->n_open && !st.zone; j++)
			if (v->open[j]->a.subject[0] && strchr(v->open[j]->a.subject, '/'))
				st.zone = v->open[j]->a.subject;
		fn(ctx, &st);
	}
}

const char *rules_vstate_name(int state)
{
	static const char *const names[] = { "unknown", "moving", "stopped", "parked", "working", "offline" };

	return state >= 0 && state <= RV_OFFLINE ? names[state] : "unknown";
}
