/* cu_rules.c -- scenario tests of the rules engine: whole scripted days on a
 * river near 117.2E 29.3N, asserting exactly the alerts a supervisor expects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "geofence.h"
#include "rules.h"

#define LON0 117.2
#define LAT0 29.3
#define R_EARTH 6371008.8
#define DEGR (M_PI / 180.0)
#define KN 1.9438444924406046 /* knots per m/s */

/* ------------------------------------------------------------ time */

static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Local (UTC+8) wall time -> UTC ms. */
static int64_t T(int y, int mo, int d, int hh, int mi)
{
	return (days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 - 28800) * 1000;
}

#define D0(hh, mi) T(2024, 9, 10, hh, mi)

/* ------------------------------------------------------------ geometry */

static double kx(void)
{
	return cos(LAT0 * DEGR) * R_EARTH * DEGR;
}

static double lon_of(double x)
{
	return LON0 + x / kx();
}

static double lat_of(double y)
{
	return LAT0 + y / (R_EARTH * DEGR);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void put_led(uint8_t *p, double d)
{
	uint64_t u;
	int i;

	memcpy(&u, &d, 8);
	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(u >> (8 * i));
}

/* A little-endian WKB polygon: the rectangle [x0,x1] x [y0,y1] in metres
 * east and north of (LON0, LAT0). Returns its length. */
static size_t wkb_rect(uint8_t *b, double x0, double y0, double x1, double y1)
{
	const double xs[5] = {x0, x1, x1, x0, x0}, ys[5] = {y0, y0, y1, y1, y0};
	size_t n = 0;
	int i;

	b[n++] = 1;
	put_le32(b + n, 3);
	n += 4;
	put_le32(b + n, 1);
	n += 4;
	put_le32(b + n, 5);
	n += 4;
	for (i = 0; i < 5; i++) {
		put_led(b + n, lon_of(xs[i]));
		put_led(b + n + 8, lat_of(ys[i]));
		n += 16;
	}
	return n;
}

struct zdef {
	int kind;
	const char *layer, *code;
	double x0, y0, x1, y1;
};

/* The river: parking points, two permitted zones, a drinking-water
 * protection zone and a no-mining zone, west to east. */
static const struct zdef river[] = {
	{GF_PARKING, "parking", "P1", 0, 0, 200, 100},
	{GF_MINING, "mining_zone", "M1", 2000, 0, 3000, 400},
	{GF_MINING, "mining_zone", "M2", 4000, 0, 5000, 400},
	{GF_PROTECTION, "water_source", "W1", 7000, 100, 7600, 500},
	{GF_NO_MINING, "no_mining", "N1", 9000, 0, 9500, 400},
	{GF_PARKING, "parking", "P2", 10000, 0, 10200, 100},
};
#define NRIVER (sizeof(river) / sizeof(river[0]))

static struct gf_index *build_index(const struct zdef *z, size_t n, int64_t id_base)
{
	struct gf_builder *b = gf_builder_new();
	uint8_t wkb[128];
	char err[128];
	size_t i;

	assert_non_null(b);
	for (i = 0; i < n; i++) {
		struct gf_zone gz;
		size_t len = wkb_rect(wkb, z[i].x0, z[i].y0, z[i].x1, z[i].y1);

		memset(&gz, 0, sizeof(gz));
		gz.feature_id = id_base + (int64_t)i;
		gz.layer_id = (int32_t)(10 + z[i].kind);
		gz.kind = z[i].kind;
		gz.layer = z[i].layer;
		gz.code = z[i].code;
		gz.name = z[i].code;
		assert_int_equal(gf_builder_add(b, &gz, wkb, len, 50, err, sizeof(err)), 0);
	}
	return gf_build(b);
}

/* ------------------------------------------------------------ the world */

enum { V_MINER = 1, V_OTHER_MINER = 2, V_NOPERMIT = 3, V_EXPIRED = 4, V_TRANSPORT = 5, V_BOAT = 6 };

struct ev {
	int event, kind, late, severity, n_evidence;
	int32_t vessel;
	int64_t id, opened, updated, closed, recv_clock;
	char subject[96], permit[64];
	char detail[768];
};

struct world {
	struct rules *r;
	struct gf_index *ix;
	struct ev *ev;
	int nev, cap_ev, bad_detail;
	int64_t next_id, clock;
	struct rules_input *in;
	int nin, cap_in;
	uint64_t rng;
	int64_t hook_t;
	void (*hook)(struct world *w);
};

static void sink(void *ctx, int event, struct rules_alert *a)
{
	struct world *w = ctx;
	struct ev *e;
	json_t *j;

	if (event == RE_OPEN) {
		assert_int_equal(a->id, 0);
		a->id = ++w->next_id;
	}
	if (w->nev == w->cap_ev) {
		w->cap_ev = w->cap_ev ? w->cap_ev * 2 : 64;
		w->ev = realloc(w->ev, (size_t)w->cap_ev * sizeof(*w->ev));
		assert_non_null(w->ev);
	}
	e = &w->ev[w->nev++];
	memset(e, 0, sizeof(*e));
	e->event = event;
	e->kind = a->kind;
	e->late = a->late;
	e->severity = a->severity;
	e->n_evidence = a->n_evidence;
	e->vessel = a->vessel_id;
	e->id = a->id;
	e->opened = a->opened_ms;
	e->updated = a->updated_ms;
	e->closed = a->closed_ms;
	e->recv_clock = w->clock;
	snprintf(e->subject, sizeof(e->subject), "%s", a->subject);
	snprintf(e->permit, sizeof(e->permit), "%s", a->permit);
	snprintf(e->detail, sizeof(e->detail), "%s", a->detail);
	j = json_loads(a->detail, 0, NULL);
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "rule")) ||
	    json_object_get(j, "truncated")) {
		fprintf(stderr, "bad detail: %s\n", a->detail);
		w->bad_detail++;
	}
	json_decref(j);
}

static struct world *world_new(const struct rules_config *cfg)
{
	static const struct rules_permit permits[] = {
		{1, V_MINER, "P-2024-001", "mining_zone", "M1", 0, 0, 7 * 60, 19 * 60},
		{2, V_OTHER_MINER, "P-2024-002", "mining_zone", "M2", 0, 0, 7 * 60, 19 * 60},
		{4, V_EXPIRED, "P-2024-004", "mining_zone", "M1", 0, 0, 7 * 60, 19 * 60},
	};
	struct rules_permit p[3];
	struct rules_season season;
	struct rules_config c;
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	if (cfg)
		c = *cfg;
	else
		rules_config_defaults(&c);
	w->r = rules_new(&c, sink, w);
	assert_non_null(w->r);
	w->ix = build_index(river, NRIVER, 100);
	assert_non_null(w->ix);
	rules_set_index(w->r, w->ix);
	memcpy(p, permits, sizeof(p));
	p[0].valid_from_day = p[1].valid_from_day = p[2].valid_from_day = (int32_t)days_from_civil(2024, 1, 1);
	p[0].valid_to_day = p[1].valid_to_day = (int32_t)days_from_civil(2024, 12, 31);
	p[2].valid_to_day = (int32_t)days_from_civil(2024, 6, 30);
	rules_set_permits(w->r, p, 3);
	/* a yearly closed season of the whole layer, given with year-2000 dates */
	memset(&season, 0, sizeof(season));
	season.id = 1;
	snprintf(season.zone_layer, sizeof(season.zone_layer), "mining_zone");
	season.from_day = (int32_t)days_from_civil(2000, 3, 1);
	season.to_day = (int32_t)days_from_civil(2000, 6, 30);
	season.yearly = 1;
	snprintf(season.name, sizeof(season.name), "长江主汛期禁采 \"flood\"");
	rules_set_seasons(w->r, &season, 1);
	rules_set_vessel(w->r, V_MINER, VK_SAND_MINING);
	rules_set_vessel(w->r, V_OTHER_MINER, VK_SAND_MINING);
	rules_set_vessel(w->r, V_NOPERMIT, VK_SAND_MINING);
	rules_set_vessel(w->r, V_EXPIRED, VK_SAND_MINING);
	rules_set_vessel(w->r, V_TRANSPORT, VK_SAND_TRANSPORT);
	rules_set_vessel(w->r, V_BOAT, VK_OTHER);
	/* RULES_SEED=n runs the same days with other noise */
	w->rng = 0x9E3779B97F4A7C15ull ^ (getenv("RULES_SEED") ? strtoull(getenv("RULES_SEED"), NULL, 0) * 0x100000001B3ull : 0);
	if (!w->rng)
		w->rng = 1;
	w->hook_t = INT64_MAX;
	return w;
}

static void dump(const struct world *w);

/* RULES_VERBOSE=1 prints every alert event of every scenario. */
static void world_free(struct world *w)
{
	if (getenv("RULES_VERBOSE"))
		dump(w);
	rules_free(w->r);
	gf_unref(w->ix);
	free(w->ev);
	free(w->in);
	free(w);
}

static double urand(struct world *w, double lo, double hi)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return lo + (hi - lo) * (double)(w->rng >> 11) / 9007199254740992.0;
}

/* One fix every 10-30 s. */
static int64_t next_dt(struct world *w)
{
	return (int64_t)(10 + (int)urand(w, 0, 21)) * 1000;
}

static void push(struct world *w, const struct rules_input *in)
{
	if (w->nin == w->cap_in) {
		w->cap_in = w->cap_in ? w->cap_in * 2 : 1024;
		w->in = realloc(w->in, (size_t)w->cap_in * sizeof(*w->in));
		assert_non_null(w->in);
	}
	w->in[w->nin++] = *in;
}

static void put(struct world *w, int32_t vid, int64_t t, double x, double y, double kn)
{
	struct rules_input in0, *in;

	memset(&in0, 0, sizeof(in0));
	push(w, &in0);
	in = &w->in[w->nin - 1];
	in->vessel_id = vid;
	in->t_ms = t;
	in->recv_ms = t + 1000;
	in->lon = lon_of(x);
	in->lat = lat_of(y);
	in->speed_kn = (float)(kn < 0 ? 0 : kn);
	in->course = 90;
	in->fix_valid = 1;
}

/* Lies around (x, y) with +-j m of jitter from t0 to t1; the next fix time. */
static int64_t stay(struct world *w, int32_t vid, int64_t t0, int64_t t1, double x, double y, double j)
{
	int64_t t;

	for (t = t0; t < t1; t += next_dt(w))
		put(w, vid, t, x + urand(w, -j, j), y + urand(w, -j, j), urand(w, 0, 0.6));
	return t;
}

/* Sails from (x0, y0) to (x1, y1) at kn knots; the next fix time (arrival). */
static int64_t go(struct world *w, int32_t vid, int64_t t0, double x0, double y0, double x1, double y1,
		  double kn, double j)
{
	double dur = hypot(x1 - x0, y1 - y0) / (kn / KN);
	int64_t t;

	for (t = t0; (double)(t - t0) / 1000.0 < dur; t += next_dt(w)) {
		double f = (double)(t - t0) / 1000.0 / dur;

		put(w, vid, t, x0 + f * (x1 - x0) + urand(w, -j, j), y0 + f * (y1 - y0) + urand(w, -j, j),
		    kn + urand(w, -0.5, 0.5));
	}
	return t;
}

static void set_alarm(struct world *w, int32_t vid, int64_t t0, int64_t t1, uint32_t bits)
{
	int i;

	for (i = 0; i < w->nin; i++)
		if (w->in[i].vessel_id == vid && w->in[i].t_ms >= t0 && w->in[i].t_ms < t1)
			w->in[i].alarm_bits = bits;
}

/* Fixes of [t0, t1) are stored by the terminal and uploaded (0x0704) at
 * recv_at, in device-time order. */
static void withhold(struct world *w, int32_t vid, int64_t t0, int64_t t1, int64_t recv_at)
{
	int i, k = 0;

	for (i = 0; i < w->nin; i++)
		if (w->in[i].vessel_id == vid && w->in[i].t_ms >= t0 && w->in[i].t_ms < t1) {
			w->in[i].recv_ms = recv_at + k++;
			w->in[i].blind = 1;
		}
}

/* The fixes of [t0, t1) are delivered once more, at recv_at. */
static void redeliver(struct world *w, int32_t vid, int64_t t0, int64_t t1, int64_t recv_at)
{
	int i, n = w->nin, k = 0;

	for (i = 0; i < n; i++)
		if (w->in[i].vessel_id == vid && w->in[i].t_ms >= t0 && w->in[i].t_ms < t1) {
			struct rules_input c = w->in[i];

			c.recv_ms = recv_at + k++;
			c.blind = 1;
			push(w, &c);
		}
}

/* The terminal is dark: the fixes of [t0, t1) never arrive. */
static void drop(struct world *w, int32_t vid, int64_t t0, int64_t t1)
{
	int i, o = 0;

	for (i = 0; i < w->nin; i++)
		if (!(w->in[i].vessel_id == vid && w->in[i].t_ms >= t0 && w->in[i].t_ms < t1))
			w->in[o++] = w->in[i];
	w->nin = o;
}

static int cmp_recv(const void *a, const void *b)
{
	const struct rules_input *x = a, *y = b;

	if (x->recv_ms != y->recv_ms)
		return x->recv_ms < y->recv_ms ? -1 : 1;
	/* the same receive time: device order (a batch) */
	return x->t_ms < y->t_ms ? -1 : x->t_ms > y->t_ms;
}

static void advance(struct world *w, int64_t now)
{
	if (!w->clock)
		w->clock = now - now % 60000;
	while (w->clock + 60000 <= now) {
		w->clock += 60000;
		if (w->hook && w->clock >= w->hook_t) {
			w->hook(w);
			w->hook = NULL;
		}
		rules_tick(w->r, w->clock);
	}
}

/* Feeds everything scripted in receive order, with the wall clock ticking
 * every minute, then ticks on to `end`. */
static void run(struct world *w, int64_t end)
{
	int i;

	qsort(w->in, (size_t)w->nin, sizeof(*w->in), cmp_recv);
	for (i = 0; i < w->nin; i++) {
		advance(w, w->in[i].recv_ms);
		rules_position(w->r, &w->in[i]);
	}
	advance(w, end);
	w->nin = 0;
}

/* ------------------------------------------------------------ checks */

static void dump(const struct world *w)
{
	int i;

	for (i = 0; i < w->nev; i++) {
		const struct ev *e = &w->ev[i];

		fprintf(stderr, "  #%lld v%d %-6s %-15s %-22s late=%d sev=%d opened=%lld closed=%lld %s\n",
			(long long)e->id, e->vessel,
			e->event == RE_OPEN ? "OPEN" : e->event == RE_CLOSE ? "CLOSE" : "update",
			rules_kind_name(e->kind), e->subject, e->late, e->severity, (long long)e->opened / 1000,
			(long long)e->closed / 1000, e->detail);
	}
}

static int count(const struct world *w, int event, int kind, int32_t vessel)
{
	int i, n = 0;

	for (i = 0; i < w->nev; i++)
		if (w->ev[i].event == event && (kind < 0 || w->ev[i].kind == kind) &&
		    (vessel < 0 || w->ev[i].vessel == vessel))
			n++;
	return n;
}

static const struct ev *find(const struct world *w, int event, int kind, int32_t vessel, int nth)
{
	int i;

	for (i = 0; i < w->nev; i++)
		if (w->ev[i].event == event && w->ev[i].kind == kind && (vessel < 0 || w->ev[i].vessel == vessel) &&
		    nth-- == 0)
			return &w->ev[i];
	return NULL;
}

/* Every alert: opened once first, closed at most once and last; details
 * valid JSON; opened <= closed. */
static void check_lifecycle(const struct world *w)
{
	int i, j;

	assert_int_equal(w->bad_detail, 0);
	for (i = 0; i < w->nev; i++) {
		const struct ev *e = &w->ev[i];
		int opens = 0, closes = 0, after_close = 0;

		if (e->event != RE_OPEN)
			continue;
		for (j = 0; j < w->nev; j++) {
			if (w->ev[j].id != e->id)
				continue;
			if (j < i) {
				fprintf(stderr, "event before the open of #%lld\n", (long long)e->id);
				fail();
			}
			opens += w->ev[j].event == RE_OPEN;
			if (closes)
				after_close++;
			closes += w->ev[j].event == RE_CLOSE;
			if (w->ev[j].event == RE_CLOSE)
				assert_true(w->ev[j].closed >= w->ev[j].opened);
		}
		assert_int_equal(opens, 1);
		assert_true(closes <= 1);
		assert_int_equal(after_close, 0);
	}
}

/* Exactly `opens` alerts of kind for the vessel (-1 any) were opened and
 * `closes` closed; on a mismatch the events are printed. */
static void expect(const struct world *w, int kind, int32_t vessel, int opens, int closes)
{
	int o = count(w, RE_OPEN, kind, vessel), c = count(w, RE_CLOSE, kind, vessel);

	if (o != opens || c != closes) {
		fprintf(stderr, "%s v%d: expected %d open %d close, got %d open %d close\n",
			kind >= 0 ? rules_kind_name(kind) : "any", vessel, opens, closes, o, c);
		dump(w);
	}
	assert_int_equal(o, opens);
	assert_int_equal(c, closes);
}

static void expect_detail(const struct ev *e, const char *key, const char *value)
{
	json_t *j = json_loads(e->detail, 0, NULL);
	json_t *f = json_object_get(j, key);

	if (!json_is_string(f) || strcmp(json_string_value(f), value)) {
		fprintf(stderr, "detail %s: expected \"%s\" in %s\n", key, value, e->detail);
		fail();
	}
	json_decref(j);
}

static double detail_num(const struct ev *e, const char *key)
{
	json_t *j = json_loads(e->detail, 0, NULL);
	double v = json_number_value(json_object_get(j, key));

	assert_true(json_is_number(json_object_get(j, key)));
	json_decref(j);
	return v;
}

static void expect_stats_consistent(const struct world *w)
{
	struct rules_stats st;
	int i, open = 0;

	rules_get_stats(w->r, &st);
	for (i = 0; i < w->nev; i++)
		open += w->ev[i].event == RE_OPEN ? 1 : w->ev[i].event == RE_CLOSE ? -1 : 0;
	assert_int_equal((int)st.open_alerts, open);
	assert_int_equal((int)st.alerts_opened, count(w, RE_OPEN, -1, -1));
	assert_int_equal((int)st.alerts_closed, count(w, RE_CLOSE, -1, -1));
}

/* A stop ends at the first fix farther than 2 x stop_radius_m (100 m) from its
 * centroid: the script leaves up to 30 s after the hour, then ~35 s of sailing
 * at 6 kn, then up to 30 s to the next fix. */
#define LEAVE_MS 100000

#define P1X 100.0
#define P1Y 50.0
#define M1X 2500.0
#define M1Y 200.0

/* ------------------------------------------------------------ scenarios */

static void test_names(void **state)
{
	int k;

	(void)state;
	for (k = 0; k < RK_COUNT; k++)
		assert_int_equal(rules_kind_parse(rules_kind_name(k)), k);
	assert_null(rules_kind_name(RK_COUNT));
	assert_null(rules_kind_name(-1));
	assert_int_equal(rules_kind_parse("nope"), -1);
	assert_string_equal(rules_kind_name(RK_ILLEGAL_STOP), "illegal_stop");
	assert_string_equal(rules_kind_name(RK_DEVICE_ALARM), "device_alarm");
}

/* Parked at night, to its zone before 07:00, working there within hours,
 * back to parking: nothing at all. */
static void test_legal_day(void **state)
{
	struct world *w = world_new(NULL);
	int64_t t;

	(void)state;
	t = stay(w, V_MINER, D0(0, 0), D0(6, 45), P1X, P1Y, 15);
	t = go(w, V_MINER, t, P1X, P1Y, M1X, M1Y, 6, 5);
	t = stay(w, V_MINER, t, D0(18, 30), M1X, M1Y, 15);
	t = go(w, V_MINER, t, M1X, M1Y, P1X, P1Y, 6, 5);
	stay(w, V_MINER, t, D0(23, 59), P1X, P1Y, 15);
	run(w, D0(23, 59));
	expect(w, -1, -1, 0, 0);
	check_lifecycle(w);
	world_free(w);
}

/* In its zone before hours (closes when hours begin) and at night. */
static void test_night_mining(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *a, *b;
	int64_t t, arrive1, arrive2;

	(void)state;
	t = stay(w, V_MINER, D0(0, 0), D0(6, 10), P1X, P1Y, 15);
	arrive1 = t = go(w, V_MINER, t, P1X, P1Y, M1X, M1Y, 6, 5);
	t = stay(w, V_MINER, t, D0(10, 0), M1X, M1Y, 15);
	t = go(w, V_MINER, t, M1X, M1Y, P1X, P1Y, 6, 5);
	t = stay(w, V_MINER, t, D0(19, 30), P1X, P1Y, 15);
	arrive2 = t = go(w, V_MINER, t, P1X, P1Y, M1X, M1Y, 6, 5);
	t = stay(w, V_MINER, t, D0(23, 30), M1X, M1Y, 15);
	t = go(w, V_MINER, t, M1X, M1Y, P1X, P1Y, 6, 5);
	stay(w, V_MINER, t, D0(23, 59), P1X, P1Y, 15);
	run(w, D0(23, 59));
	expect(w, RK_OFF_HOURS, V_MINER, 2, 2);
	expect(w, -1, -1, 2, 2);
	check_lifecycle(w);
	a = find(w, RE_CLOSE, RK_OFF_HOURS, V_MINER, 0);
	b = find(w, RE_CLOSE, RK_OFF_HOURS, V_MINER, 1);
	/* opened stop_alert_s after it stopped there, closed when hours began */
	assert_true(a->opened >= arrive1 + 540000 && a->opened <= arrive1 + 700000);
	assert_true(a->closed >= D0(7, 0) && a->closed < D0(7, 0) + 31000);
	assert_true(b->opened >= arrive2 + 540000 && b->opened <= arrive2 + 700000);
	assert_true(b->closed >= D0(23, 30) && b->closed < D0(23, 30) + LEAVE_MS);
	assert_string_equal(a->subject, "mining_zone/M1");
	assert_string_equal(b->permit, "P-2024-001");
	assert_int_equal(b->severity, 2);
	assert_int_equal(b->late, 0);
	expect_detail(b, "reason", "hours");
	expect_detail(b, "hours", "07:00-19:00");
	assert_true(b->n_evidence >= 10);
	world_free(w);
}

/* Stopped between the parking point and its zone for 35 minutes. */
static void test_illegal_stop(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *c;
	int64_t t, arrive;

	(void)state;
	t = stay(w, V_MINER, D0(0, 0), D0(9, 0), P1X, P1Y, 15);
	arrive = t = go(w, V_MINER, t, P1X, P1Y, 1000, 200, 6, 5);
	t = stay(w, V_MINER, t, D0(9, 40), 1000, 200, 15);
	t = go(w, V_MINER, t, 1000, 200, M1X, M1Y, 6, 5);
	t = stay(w, V_MINER, t, D0(12, 0), M1X, M1Y, 15);
	t = go(w, V_MINER, t, M1X, M1Y, P1X, P1Y, 6, 5);
	stay(w, V_MINER, t, D0(14, 0), P1X, P1Y, 15);
	run(w, D0(14, 0));
	expect(w, RK_ILLEGAL_STOP, V_MINER, 1, 1);
	expect(w, -1, -1, 1, 1);
	check_lifecycle(w);
	c = find(w, RE_CLOSE, RK_ILLEGAL_STOP, V_MINER, 0);
	assert_string_equal(c->subject, "");
	assert_int_equal(c->severity, 3);
	assert_int_equal(c->late, 0);
	assert_true(c->opened >= arrive + 540000 && c->opened <= arrive + 700000);
	assert_true(c->closed >= D0(9, 40) && c->closed < D0(9, 40) + LEAVE_MS);
	assert_true(c->n_evidence >= 10 && c->n_evidence <= RULES_EVIDENCE);
	assert_true(detail_num(c, "stopped_s") >= 600);
	assert_true(detail_num(c, "stop_alert_s") == 600);
	world_free(w);
}

/* Working in another vessel's zone within hours. */
static void test_outside_zone(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *c;
	int64_t t;

	(void)state;
	t = stay(w, V_MINER, D0(0, 0), D0(10, 0), P1X, P1Y, 15);
	t = go(w, V_MINER, t, P1X, P1Y, 4500, 200, 6, 5);
	t = stay(w, V_MINER, t, D0(11, 30), 4500, 200, 15);
	t = go(w, V_MINER, t, 4500, 200, P1X, P1Y, 6, 5);
	stay(w, V_MINER, t, D0(13, 30), P1X, P1Y, 15);
	run(w, D0(13, 30));
	expect(w, RK_OUTSIDE_ZONE, V_MINER, 1, 1);
	expect(w, -1, -1, 1, 1);
	check_lifecycle(w);
	c = find(w, RE_CLOSE, RK_OUTSIDE_ZONE, V_MINER, 0);
	assert_string_equal(c->subject, "mining_zone/M2");
	assert_int_equal(c->severity, 2);
	world_free(w);
}

/* A sand-mining vessel without any permit works a whole day in M1. */
static void test_no_permit(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *c;
	int64_t t;

	(void)state;
	t = stay(w, V_NOPERMIT, D0(0, 0), D0(6, 45), P1X, P1Y, 15);
	t = go(w, V_NOPERMIT, t, P1X, P1Y, M1X, M1Y, 6, 5);
	t = stay(w, V_NOPERMIT, t, D0(18, 30), M1X, M1Y, 15);
	t = go(w, V_NOPERMIT, t, M1X, M1Y, P1X, P1Y, 6, 5);
	stay(w, V_NOPERMIT, t, D0(23, 59), P1X, P1Y, 15);
	run(w, D0(23, 59));
	expect(w, RK_NO_PERMIT, V_NOPERMIT, 1, 1);
	expect(w, -1, -1, 1, 1);
	check_lifecycle(w);
	c = find(w, RE_CLOSE, RK_NO_PERMIT, V_NOPERMIT, 0);
	assert_string_equal(c->subject, "mining_zone/M1");
	assert_int_equal(c->severity, 3);
	assert_true(c->closed >= D0(18, 30) && c->closed < D0(18, 30) + LEAVE_MS);
	/* updated along the way, at most once a minute */
	assert_true(count(w, RE_UPDATE, RK_NO_PERMIT, V_NOPERMIT) > 100);
	assert_true(count(w, RE_UPDATE, RK_NO_PERMIT, V_NOPERMIT) <= 11 * 60 + 30);
	world_free(w);
}

/* The permit ran out on 30 June: in its old zone that is off_hours (its
 * dates), anywhere else outside parking no_permit. */
static void test_expired_permit(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *a, *b;
	int64_t t;

	(void)state;
	t = stay(w, V_EXPIRED, D0(0, 0), D0(10, 0), P1X, P1Y, 15);
	t = go(w, V_EXPIRED, t, P1X, P1Y, M1X, M1Y, 6, 5);
	t = stay(w, V_EXPIRED, t, D0(11, 0), M1X, M1Y, 15);
	t = go(w, V_EXPIRED, t, M1X, M1Y, 1000, 200, 6, 5);
	t = stay(w, V_EXPIRED, t, D0(11, 45), 1000, 200, 15);
	t = go(w, V_EXPIRED, t, 1000, 200, P1X, P1Y, 6, 5);
	stay(w, V_EXPIRED, t, D0(14, 0), P1X, P1Y, 15);
	run(w, D0(14, 0));
	expect(w, RK_OFF_HOURS, V_EXPIRED, 1, 1);
	expect(w, RK_NO_PERMIT, V_EXPIRED, 1, 1);
	expect(w, -1, -1, 2, 2);
	check_lifecycle(w);
	a = find(w, RE_CLOSE, RK_OFF_HOURS, V_EXPIRED, 0);
	b = find(w, RE_CLOSE, RK_NO_PERMIT, V_EXPIRED, 0);
	expect_detail(a, "reason", "dates");
	expect_detail(a, "valid_to", "2024-06-30");
	assert_string_equal(a->permit, "P-2024-004");
	assert_string_equal(b->subject, "");
	assert_true(a->closed <= b->opened);
	world_free(w);
}

/* 15 April is in the yearly closed season of the whole layer; 10 September
 * is not. */
static void test_closed_season(void **state)
{
	struct world *w;
	const struct ev *a;
	int day;

	(void)state;
	for (day = 0; day < 2; day++) {
		int mo = day ? 9 : 4, d = day ? 10 : 15;
		int64_t t;

		w = world_new(NULL);
		t = stay(w, V_MINER, T(2024, mo, d, 0, 0), T(2024, mo, d, 6, 45), P1X, P1Y, 15);
		t = go(w, V_MINER, t, P1X, P1Y, M1X, M1Y, 6, 5);
		t = stay(w, V_MINER, t, T(2024, mo, d, 18, 30), M1X, M1Y, 15);
		t = go(w, V_MINER, t, M1X, M1Y, P1X, P1Y, 6, 5);
		stay(w, V_MINER, t, T(2024, mo, d, 23, 0), P1X, P1Y, 15);
		run(w, T(2024, mo, d, 23, 0));
		check_lifecycle(w);
		if (day) {
			expect(w, -1, -1, 0, 0);
		} else {
			expect(w, RK_OFF_HOURS, V_MINER, 1, 1);
			expect(w, -1, -1, 1, 1);
			a = find(w, RE_CLOSE, RK_OFF_HOURS, V_MINER, 0);
			expect_detail(a, "reason", "season");
			expect_detail(a, "season", "长江主汛期禁采 \"flood\"");
			assert_true(a->closed >= T(2024, 4, 15, 18, 30) && a->closed < T(2024, 4, 15, 18, 30) + LEAVE_MS);
		}
		world_free(w);
	}
}

/* A transport vessel and another boat pass through the protection zone;
 * a sand-mining vessel passes the no-mining zone (the transport vessel
 * passing it is no matter). */
static void test_protection_pass(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *c;
	int64_t t;

	(void)state;
	t = go(w, V_TRANSPORT, D0(10, 0), 6000, 300, 10100, 50, 8, 5);
	stay(w, V_TRANSPORT, t, D0(13, 30), 10100, 50, 15);
	t = go(w, V_BOAT, D0(11, 0), 6000, 300, 8600, 300, 8, 5);
	stay(w, V_BOAT, t, D0(13, 30), 8600, 300, 15);
	t = go(w, V_MINER, D0(12, 0), 8500, 200, 10100, 50, 6, 5);
	stay(w, V_MINER, t, D0(13, 30), 10100, 50, 15);
	run(w, D0(13, 30));
	expect(w, RK_PROTECTION_ZONE, V_TRANSPORT, 1, 1);
	expect(w, RK_PROTECTION_ZONE, V_BOAT, 1, 1);
	expect(w, RK_NO_MINING_ZONE, V_MINER, 1, 1);
	expect(w, -1, -1, 3, 3);
	check_lifecycle(w);
	c = find(w, RE_CLOSE, RK_PROTECTION_ZONE, V_TRANSPORT, 0);
	assert_string_equal(c->subject, "water_source/W1");
	assert_int_equal(c->severity, 3);
	/* opened at the first fix inside, closed at the first fix out */
	assert_true(c->opened > D0(10, 0) && c->closed - c->opened > 120000 && c->closed - c->opened < 200000);
	c = find(w, RE_CLOSE, RK_NO_MINING_ZONE, V_MINER, 0);
	assert_string_equal(c->subject, "no_mining/N1");
	world_free(w);
}

/* Eight hours of +-15 m jitter across the edge of a parking point. */
static void test_parking_jitter(void **state)
{
	struct world *w = world_new(NULL);

	(void)state;
	stay(w, V_MINER, D0(22, 0), D0(22, 0) + 8 * 3600 * 1000LL, P1X, 105, 15);
	stay(w, V_OTHER_MINER, D0(22, 0), D0(22, 0) + 8 * 3600 * 1000LL, 200, P1Y, 15);
	run(w, D0(22, 0) + 8 * 3600 * 1000LL);
	expect(w, -1, -1, 0, 0);
	world_free(w);
}

/* Passing 20 m off the protection zone with +-15 m jitter never enters it;
 * passing along its edge may enter once per pass, never a storm. */
static void test_protection_jitter(void **state)
{
	struct world *w = world_new(NULL);
	int64_t t = D0(8, 0), t2, t3;
	int pass, o, i, in;

	(void)state;
	for (pass = 0; pass < 4; pass++) {
		t = go(w, V_TRANSPORT, t, 6800, 80, 7800, 80, 4, 15);
		t = go(w, V_TRANSPORT, t, 7800, 80, 6800, 80, 4, 15);
	}
	t2 = t;
	for (pass = 0; pass < 4; pass++)
		t2 = go(w, V_BOAT, t2, 6800 + (pass % 2) * 1000, 100, 7800 - (pass % 2) * 1000, 100, 4, 15);
	t2 = go(w, V_BOAT, t2, 6800, 100, 6800, -300, 4, 5);
	t3 = t2;
	/* then one pass truly 30 m inside, with the same jitter: one alert */
	t2 = go(w, V_BOAT, t2, 6800, -300, 6800, 130, 4, 5);
	t2 = go(w, V_BOAT, t2, 6800, 130, 7800, 130, 4, 15);
	t2 = go(w, V_BOAT, t2, 7800, 130, 7800, -300, 4, 5);
	stay(w, V_TRANSPORT, t, t2, 6800, -300, 15);
	run(w, t2);
	expect(w, -1, V_TRANSPORT, 0, 0);
	o = count(w, RE_OPEN, RK_PROTECTION_ZONE, V_BOAT);
	for (i = 0, in = 0; i < w->nev; i++)
		in += w->ev[i].event == RE_OPEN && w->ev[i].opened >= t3;
	if (getenv("RULES_VERBOSE"))
		printf("  edge passes: %d protection alert(s) in 4 passes\n", o - in);
	assert_int_equal(in, 1);
	assert_true(o - in <= 4);
	expect(w, -1, -1, o, o);
	check_lifecycle(w);
	world_free(w);
}

/* Signal lost from 08:32 to 09:20: the stored positions (0x0704) arrive at
 * 09:21 and show a 20-minute stop outside parking. Delivered twice. */
static void test_blind_batch(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *c, *o;
	int64_t t, arrive, leave;

	(void)state;
	t = stay(w, V_MINER, D0(0, 0), D0(8, 30), P1X, P1Y, 15);
	arrive = t = go(w, V_MINER, t, P1X, P1Y, 1000, 200, 6, 5);
	leave = t = stay(w, V_MINER, t, arrive + 20 * 60000, 1000, 200, 15);
	t = go(w, V_MINER, t, 1000, 200, M1X, M1Y, 6, 5);
	stay(w, V_MINER, t, D0(11, 0), M1X, M1Y, 15);
	withhold(w, V_MINER, D0(8, 32), D0(9, 20), D0(9, 21));
	redeliver(w, V_MINER, D0(8, 32), D0(9, 20), D0(9, 25));
	run(w, D0(11, 0));
	expect(w, RK_ILLEGAL_STOP, V_MINER, 1, 1);
	expect(w, RK_OFFLINE, V_MINER, 1, 1);
	expect(w, -1, -1, 2, 2);
	check_lifecycle(w);
	o = find(w, RE_OPEN, RK_ILLEGAL_STOP, V_MINER, 0);
	c = find(w, RE_CLOSE, RK_ILLEGAL_STOP, V_MINER, 0);
	assert_int_equal(o->late, 1);
	assert_int_equal(c->late, 1);
	/* found only once the batch was there, at the device times */
	assert_true(o->recv_clock >= D0(9, 21));
	assert_true(c->opened >= arrive + 540000 && c->opened <= arrive + 700000);
	assert_true(c->closed >= leave && c->closed < leave + LEAVE_MS);
	assert_true(c->n_evidence >= 10);
	c = find(w, RE_CLOSE, RK_OFFLINE, V_MINER, 0);
	assert_int_equal(c->severity, 3);
	assert_true(detail_num(c, "gap_s") >= 47 * 60 && detail_num(c, "gap_s") <= 49 * 60);
	expect_stats_consistent(w);
	world_free(w);
}

/* Six hours without signal from parking: the batch (more fixes than the
 * history keeps) shows a stop on the way before a legal morning's work. */
static void test_long_blind_batch(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *c;
	struct rules_stats st;
	int64_t t, arrive;

	(void)state;
	t = stay(w, V_MINER, D0(0, 0), D0(6, 0), P1X, P1Y, 15);
	arrive = t = go(w, V_MINER, t, P1X, P1Y, 1000, 200, 6, 5);
	t = stay(w, V_MINER, t, D0(6, 45), 1000, 200, 15);
	t = go(w, V_MINER, t, 1000, 200, M1X, M1Y, 6, 5);
	t = stay(w, V_MINER, t, D0(11, 30), M1X, M1Y, 15);
	t = go(w, V_MINER, t, M1X, M1Y, P1X, P1Y, 6, 5);
	stay(w, V_MINER, t, D0(13, 0), P1X, P1Y, 15);
	withhold(w, V_MINER, D0(6, 0), D0(12, 0), D0(12, 1));
	run(w, D0(13, 0));
	expect(w, RK_ILLEGAL_STOP, V_MINER, 1, 1);
	expect(w, RK_OFFLINE, V_MINER, 1, 1);
	expect(w, -1, -1, 2, 2);
	check_lifecycle(w);
	c = find(w, RE_CLOSE, RK_ILLEGAL_STOP, V_MINER, 0);
	assert_int_equal(c->late, 1);
	assert_true(c->opened >= arrive + 540000 && c->opened <= arrive + 700000);
	assert_true(c->closed >= D0(6, 45) && c->closed < D0(6, 45) + LEAVE_MS);
	/* dark while lying at parking: a warning, not critical */
	assert_int_equal(find(w, RE_CLOSE, RK_OFFLINE, V_MINER, 0)->severity, 2);
	rules_get_stats(w->r, &st);
	assert_true(st.reevaluations >= 1);
	assert_int_equal(st.late_dropped, 0);
	world_free(w);
}

/* A stop seen live through a poor link (one fix in four), the rest of its
 * fixes uploaded later: re-evaluation finds the same stop and must not
 * raise it again. */
static void test_late_fill_in(void **state)
{
	struct world *w = world_new(NULL);
	int64_t t, arrive;
	int i, k = 0;

	(void)state;
	t = stay(w, V_MINER, D0(0, 0), D0(10, 0), P1X, P1Y, 15);
	arrive = t = go(w, V_MINER, t, P1X, P1Y, 1000, 200, 6, 5);
	t = stay(w, V_MINER, t, arrive + 30 * 60000, 1000, 200, 15);
	t = go(w, V_MINER, t, 1000, 200, M1X, M1Y, 6, 5);
	stay(w, V_MINER, t, D0(12, 0), M1X, M1Y, 15);
	for (i = 0; i < w->nin; i++)
		if (w->in[i].t_ms >= arrive - 60000 && w->in[i].t_ms < arrive + 35 * 60000 && k++ % 4) {
			w->in[i].recv_ms = D0(10, 50) + k;
			w->in[i].blind = 1;
		}
	run(w, D0(12, 0));
	expect(w, RK_ILLEGAL_STOP, V_MINER, 1, 1);
	expect(w, -1, -1, 1, 1);
	check_lifecycle(w);
	assert_int_equal(find(w, RE_OPEN, RK_ILLEGAL_STOP, V_MINER, 0)->late, 0);
	assert_true(find(w, RE_CLOSE, RK_ILLEGAL_STOP, V_MINER, 0)->recv_clock < D0(10, 50));
	world_free(w);
}

/* The signal is lost on the way and comes back while the vessel still lies
 * at the same spot: the stop began in the gap. The batch arrives after the
 * live fixes opened the alert (it is continued), or before (the stop is
 * found late and the live fixes continue it). */
static void test_gap_stop(void **state)
{
	int variant;

	(void)state;
	for (variant = 0; variant < 2; variant++) {
		struct world *w = world_new(NULL);
		const struct ev *o, *c;
		int64_t t, arrive, batch = variant ? D0(9, 3) : D0(9, 15);

		t = stay(w, V_MINER, D0(0, 0), D0(8, 30), P1X, P1Y, 15);
		arrive = t = go(w, V_MINER, t, P1X, P1Y, 1000, 200, 6, 5);
		t = stay(w, V_MINER, t, D0(9, 30), 1000, 200, 15);
		t = go(w, V_MINER, t, 1000, 200, P1X, P1Y, 6, 5);
		stay(w, V_MINER, t, D0(10, 30), P1X, P1Y, 15);
		withhold(w, V_MINER, D0(8, 32), D0(9, 0), batch);
		run(w, D0(10, 30));
		expect(w, RK_ILLEGAL_STOP, V_MINER, 1, 1);
		expect(w, RK_OFFLINE, V_MINER, 1, 1);
		expect(w, -1, -1, 2, 2);
		check_lifecycle(w);
		o = find(w, RE_OPEN, RK_ILLEGAL_STOP, V_MINER, 0);
		c = find(w, RE_CLOSE, RK_ILLEGAL_STOP, V_MINER, 0);
		if (variant) {
			/* found in the batch: late, opened at its device time */
			assert_int_equal(o->late, 1);
			assert_true(o->opened >= arrive + 540000 && o->opened <= arrive + 700000);
		} else {
			/* opened live; the batch then shows the stop began earlier */
			assert_int_equal(o->late, 0);
			assert_true(o->opened >= D0(9, 9) && o->opened <= D0(9, 12));
			assert_true(detail_num(c, "stopped_s") > 50 * 60);
		}
		assert_true(c->closed >= D0(9, 30) && c->closed < D0(9, 30) + LEAVE_MS);
		world_free(w);
	}
}

/* Two stops 300 m apart; the link is poor in between, so live sees the first
 * stop end late and the second begin late. The missing fixes then arrive:
 * each stop keeps its own alert, none is duplicated. */
static void test_late_split_stop(void **state)
{
	struct world *w = world_new(NULL);
	int64_t t;

	(void)state;
	t = stay(w, V_MINER, D0(0, 0), D0(10, 0), P1X, P1Y, 15);
	t = go(w, V_MINER, t, P1X, P1Y, 1000, 200, 6, 5);
	t = stay(w, V_MINER, t, D0(10, 45), 1000, 200, 15);
	t = go(w, V_MINER, t, 1000, 200, 1300, 200, 6, 5);
	t = stay(w, V_MINER, t, D0(11, 50), 1300, 200, 15);
	t = go(w, V_MINER, t, 1300, 200, P1X, P1Y, 6, 5);
	stay(w, V_MINER, t, D0(13, 0), P1X, P1Y, 15);
	withhold(w, V_MINER, D0(10, 38), D0(10, 52), D0(11, 10));
	run(w, D0(13, 0));
	expect(w, RK_ILLEGAL_STOP, V_MINER, 2, 2);
	expect(w, -1, -1, 2, 2);
	check_lifecycle(w);
	assert_int_equal(find(w, RE_OPEN, RK_ILLEGAL_STOP, V_MINER, 0)->late, 0);
	assert_int_equal(find(w, RE_OPEN, RK_ILLEGAL_STOP, V_MINER, 1)->late, 0);
	assert_true(find(w, RE_CLOSE, RK_ILLEGAL_STOP, V_MINER, 1)->closed >= D0(11, 50));
	world_free(w);
}

/* Positions received long after their device time open late alerts. */
static void test_delayed_fixes(void **state)
{
	struct world *w = world_new(NULL);
	int64_t t;
	int i;

	(void)state;
	t = stay(w, V_MINER, D0(0, 0), D0(9, 0), P1X, P1Y, 15);
	t = go(w, V_MINER, t, P1X, P1Y, 1000, 200, 6, 5);
	t = stay(w, V_MINER, t, D0(9, 40), 1000, 200, 15);
	go(w, V_MINER, t, 1000, 200, P1X, P1Y, 6, 5);
	for (i = 0; i < w->nin; i++)
		w->in[i].recv_ms = w->in[i].t_ms + 300000;
	run(w, D0(10, 0));
	expect(w, RK_ILLEGAL_STOP, V_MINER, 1, 1);
	assert_int_equal(find(w, RE_OPEN, RK_ILLEGAL_STOP, V_MINER, 0)->late, 1);
	world_free(w);
}

/* Goes dark while sailing away from parking; another goes dark at parking;
 * a boat that is not a sand vessel is never offline. */
static void test_offline(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *c;
	int64_t t;

	(void)state;
	t = stay(w, V_MINER, D0(0, 0), D0(10, 0), P1X, P1Y, 15);
	t = go(w, V_MINER, t, P1X, P1Y, M1X, M1Y, 3, 5);
	stay(w, V_MINER, t, D0(12, 0), M1X, M1Y, 15);
	drop(w, V_MINER, D0(10, 3), D0(11, 0));
	stay(w, V_OTHER_MINER, D0(8, 0), D0(12, 0), P1X, P1Y, 15);
	drop(w, V_OTHER_MINER, D0(10, 0), D0(11, 0));
	stay(w, V_BOAT, D0(8, 0), D0(12, 0), 6000, 300, 15);
	drop(w, V_BOAT, D0(10, 0), D0(11, 0));
	run(w, D0(12, 0));
	expect(w, RK_OFFLINE, V_MINER, 1, 1);
	expect(w, RK_OFFLINE, V_OTHER_MINER, 1, 1);
	expect(w, -1, -1, 2, 2);
	check_lifecycle(w);
	c = find(w, RE_CLOSE, RK_OFFLINE, V_MINER, 0);
	assert_int_equal(c->severity, 3);
	assert_true(c->opened >= D0(10, 3) + 900000 && c->opened <= D0(10, 3) + 1020000);
	assert_true(c->closed >= D0(11, 0) && c->closed < D0(11, 0) + 32000);
	assert_true(detail_num(c, "gap_s") >= 56 * 60 && detail_num(c, "gap_s") <= 58 * 60);
	c = find(w, RE_CLOSE, RK_OFFLINE, V_OTHER_MINER, 0);
	assert_int_equal(c->severity, 2);
	world_free(w);
}

/* After a restart: a vessel last seen at parking 20 minutes ago. */
static void test_seed_seen(void **state)
{
	struct world *w = world_new(NULL);

	(void)state;
	rules_seed_seen(w->r, V_OTHER_MINER, D0(9, 0), lon_of(P1X), lat_of(P1Y));
	rules_seed_seen(w->r, V_TRANSPORT, D0(9, 0), lon_of(1000), lat_of(200));
	rules_tick(w->r, D0(9, 10));
	expect(w, -1, -1, 0, 0);
	rules_tick(w->r, D0(9, 20));
	expect(w, RK_OFFLINE, V_OTHER_MINER, 1, 0);
	expect(w, RK_OFFLINE, V_TRANSPORT, 1, 0);
	assert_int_equal(find(w, RE_OPEN, RK_OFFLINE, V_OTHER_MINER, 0)->severity, 2);
	assert_int_equal(find(w, RE_OPEN, RK_OFFLINE, V_TRANSPORT, 0)->severity, 3);
	rules_tick(w->r, D0(9, 30));
	expect(w, -1, -1, 2, 0);
	stay(w, V_OTHER_MINER, D0(9, 31), D0(9, 35), P1X, P1Y, 15);
	w->clock = D0(9, 30);
	run(w, D0(9, 35));
	expect(w, RK_OFFLINE, V_OTHER_MINER, 1, 1);
	check_lifecycle(w);
	world_free(w);
}

/* One impossible fix 5 km away in the middle of a stop: one jump, and the
 * stop stays one stop. */
static void test_jump(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *c;
	int64_t t, arrive, tg;
	int i, g = -1;

	(void)state;
	t = stay(w, V_MINER, D0(0, 0), D0(10, 0), P1X, P1Y, 15);
	arrive = t = go(w, V_MINER, t, P1X, P1Y, 1000, 200, 6, 5);
	t = stay(w, V_MINER, t, D0(10, 40), 1000, 200, 15);
	t = go(w, V_MINER, t, 1000, 200, P1X, P1Y, 6, 5);
	stay(w, V_MINER, t, D0(12, 0), P1X, P1Y, 15);
	for (i = 0; i < w->nin; i++)
		if (g < 0 && w->in[i].t_ms >= D0(10, 20))
			g = i;
	w->in[g].lon = lon_of(6000);
	tg = w->in[g].t_ms;
	run(w, D0(12, 0));
	expect(w, RK_JUMP, V_MINER, 1, 1);
	expect(w, RK_ILLEGAL_STOP, V_MINER, 1, 1);
	expect(w, -1, -1, 2, 2);
	check_lifecycle(w);
	c = find(w, RE_CLOSE, RK_JUMP, V_MINER, 0);
	assert_int_equal(c->severity, 1);
	assert_int_equal(c->opened, tg);
	assert_true(c->closed > tg && c->closed < tg + 61000);
	assert_true(c->n_evidence >= 2);
	assert_true(detail_num(c, "distance_m") > 4000);
	c = find(w, RE_CLOSE, RK_ILLEGAL_STOP, V_MINER, 0);
	assert_true(c->opened <= arrive + 700000);
	assert_true(c->closed >= D0(10, 40));
	world_free(w);
}

/* SOS pressed at parking, then the power cut too; an unmasked bit is no
 * alert. */
static void test_sos(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *o, *c;
	int i, saw_power = 0;

	(void)state;
	stay(w, V_MINER, D0(0, 0), D0(4, 0), P1X, P1Y, 15);
	set_alarm(w, V_MINER, D0(2, 0), D0(2, 5), 0x1);
	set_alarm(w, V_MINER, D0(2, 5), D0(2, 10), 0x101);
	set_alarm(w, V_MINER, D0(3, 0), D0(3, 10), 0x2);
	set_alarm(w, V_MINER, D0(3, 30), D0(3, 40), 0x100);
	run(w, D0(4, 0));
	expect(w, RK_DEVICE_ALARM, V_MINER, 2, 2);
	expect(w, -1, -1, 2, 2);
	/* a power cut alone is a warning */
	assert_int_equal(find(w, RE_OPEN, RK_DEVICE_ALARM, V_MINER, 1)->severity, 2);
	assert_non_null(strstr(find(w, RE_OPEN, RK_DEVICE_ALARM, V_MINER, 1)->detail, "\"power_off\""));
	check_lifecycle(w);
	o = find(w, RE_OPEN, RK_DEVICE_ALARM, V_MINER, 0);
	c = find(w, RE_CLOSE, RK_DEVICE_ALARM, V_MINER, 0);
	assert_int_equal(o->severity, 3);
	assert_non_null(strstr(o->detail, "\"sos\""));
	assert_null(strstr(o->detail, "power_off"));
	for (i = 0; i < w->nev; i++)
		if (w->ev[i].event == RE_UPDATE && strstr(w->ev[i].detail, "power_off"))
			saw_power = 1;
	assert_true(saw_power);
	assert_true(o->opened >= D0(2, 0) && o->opened < D0(2, 0) + 31000);
	assert_true(c->closed >= D0(2, 10) && c->closed < D0(2, 10) + 31000);
	world_free(w);
}

static void test_unregistered(void **state)
{
	struct world *w = world_new(NULL);
	const struct ev *c;
	int i;

	(void)state;
	for (i = 0; i < 5; i++)
		rules_unregistered(w->r, "jt808", "013800138000", D0(10, 0) + i * 120000);
	rules_unregistered(w->r, "nmea", "BAD\"ID\n", D0(10, 1));
	rules_tick(w->r, D0(10, 30));
	expect(w, RK_UNREGISTERED, 0, 2, 0);
	assert_true(count(w, RE_UPDATE, RK_UNREGISTERED, 0) >= 1);
	assert_true(count(w, RE_UPDATE, RK_UNREGISTERED, 0) <= 4);
	rules_tick(w->r, D0(10, 8) + 86400000LL - 60000);
	expect(w, RK_UNREGISTERED, 0, 2, 1);
	rules_tick(w->r, D0(10, 8) + 86400000LL + 60000);
	expect(w, RK_UNREGISTERED, 0, 2, 2);
	check_lifecycle(w);
	c = find(w, RE_CLOSE, RK_UNREGISTERED, 0, 1);
	assert_string_equal(c->subject, "013800138000");
	assert_int_equal(c->severity, 2);
	assert_true(detail_num(c, "attempts") == 5);
	/* a new attempt after the close is a new alert */
	rules_unregistered(w->r, "jt808", "013800138000", D0(10, 0) + 2 * 86400000LL);
	expect(w, RK_UNREGISTERED, 0, 3, 2);
	world_free(w);
}

static struct gf_index *swap_ix;

static void swap_hook(struct world *w)
{
	rules_set_index(w->r, swap_ix);
}

/* A new version of the zone layers arrives while a vessel is inside W1:
 * the alert goes on; a version without W1 ends it. */
static void test_index_swap(void **state)
{
	struct zdef bigger[NRIVER];
	struct world *w = world_new(NULL);
	int64_t t;

	(void)state;
	memcpy(bigger, river, sizeof(bigger));
	bigger[3].x1 += 50; /* W1, new version, a little larger */
	swap_ix = build_index(bigger, NRIVER, 1000);
	t = go(w, V_TRANSPORT, D0(10, 0), 6500, 300, 7300, 300, 6, 5);
	t = stay(w, V_TRANSPORT, t, D0(11, 0), 7300, 300, 15);
	t = go(w, V_TRANSPORT, t, 7300, 300, 8200, 300, 6, 5);
	t = stay(w, V_TRANSPORT, t, D0(11, 30), 8200, 300, 15);
	w->hook = swap_hook;
	w->hook_t = D0(10, 30);
	run(w, D0(11, 30));
	gf_unref(swap_ix);
	expect(w, RK_PROTECTION_ZONE, V_TRANSPORT, 1, 1);
	expect(w, -1, -1, 1, 1);
	assert_true(find(w, RE_CLOSE, RK_PROTECTION_ZONE, V_TRANSPORT, 0)->closed > D0(11, 0));
	/* now W1 is gone from the layers while the boat lies in it */
	swap_ix = build_index(river, 3, 2000);
	stay(w, V_TRANSPORT, t, D0(13, 0), 8200, 300, 15);
	t = go(w, V_BOAT, D0(12, 0), 6500, 300, 7300, 300, 6, 5);
	stay(w, V_BOAT, t, D0(13, 0), 7300, 300, 15);
	w->hook = swap_hook;
	w->hook_t = D0(12, 40);
	run(w, D0(13, 0));
	gf_unref(swap_ix);
	expect(w, RK_PROTECTION_ZONE, V_BOAT, 1, 1);
	expect(w, -1, -1, 2, 2);
	/* closed at the first fix received after the swap (device time 1 s before) */
	assert_true(find(w, RE_CLOSE, RK_PROTECTION_ZONE, V_BOAT, 0)->closed >= D0(12, 40) - 1000);
	check_lifecycle(w);
	world_free(w);
}

/* After a restart the database's open illegal_stop is continued, not
 * opened again, and closed when the vessel leaves. */
static void test_seed_alert(void **state)
{
	struct world *w = world_new(NULL);
	struct rules_alert a;
	int64_t t;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.id = 777;
	a.vessel_id = V_MINER;
	a.kind = RK_ILLEGAL_STOP;
	a.severity = 3;
	a.open = 1;
	a.opened_ms = a.updated_ms = D0(9, 50);
	a.lon = lon_of(1000);
	a.lat = lat_of(200);
	snprintf(a.detail, sizeof(a.detail), "{\"rule\":\"seeded\"}");
	rules_seed_alert(w->r, &a);
	memset(&a, 0, sizeof(a));
	a.id = 778;
	a.vessel_id = V_MINER;
	a.kind = RK_OFFLINE;
	a.severity = 3;
	a.open = 1;
	a.opened_ms = D0(9, 55);
	rules_seed_alert(w->r, &a);
	t = stay(w, V_MINER, D0(10, 0), D0(10, 20), 1000, 200, 15);
	t = go(w, V_MINER, t, 1000, 200, P1X, P1Y, 6, 5);
	stay(w, V_MINER, t, D0(11, 0), P1X, P1Y, 15);
	run(w, D0(11, 0));
	expect(w, -1, -1, 0, 2);
	assert_int_equal(find(w, RE_CLOSE, RK_ILLEGAL_STOP, V_MINER, 0)->id, 777);
	assert_int_equal(find(w, RE_CLOSE, RK_OFFLINE, V_MINER, 0)->id, 778);
	assert_true(find(w, RE_CLOSE, RK_ILLEGAL_STOP, V_MINER, 0)->closed >= D0(10, 20));
	world_free(w);
}

/* Odd input: invalid fixes, zero times and coordinates, duplicates. */
static void test_odd_input(void **state)
{
	struct world *w = world_new(NULL);
	struct rules_input in;
	int i;

	(void)state;
	stay(w, V_MINER, D0(0, 0), D0(1, 0), P1X, P1Y, 15);
	for (i = 0; i < 20; i++) {
		in = w->in[i];
		in.fix_valid = 0;
		in.lon = NAN;
		push(w, &in);
	}
	memset(&in, 0, sizeof(in));
	in.vessel_id = V_MINER;
	in.recv_ms = D0(0, 30);
	in.fix_valid = 1;
	push(w, &in); /* t 0, at 0/0 */
	in.t_ms = D0(0, 30);
	push(w, &in); /* at 0/0 */
	for (i = 0; i < 40; i++) {
		in = w->in[i];
		push(w, &in); /* re-sent */
	}
	run(w, D0(1, 0));
	expect(w, -1, -1, 0, 0);
	world_free(w);
}

/* Many vessels: the cost of a position and the memory of a vessel. */
static void test_scale(void **state)
{
	enum { NV = 20000, NF = 120 };
	struct rules_config c;
	struct rules *r;
	struct gf_index *ix = build_index(river, NRIVER, 5000);
	struct rules_input in;
	struct rules_stats st;
	struct timespec a, b;
	uint64_t x = 88172645463325252ull;
	int v, k;
	double us;

	(void)state;
	rules_config_defaults(&c);
	r = rules_new(&c, NULL, NULL);
	rules_set_index(r, ix);
	gf_unref(ix);
	for (v = 1; v <= NV; v++)
		rules_set_vessel(r, v, v % 3 == 0 ? VK_OTHER : VK_SAND_MINING);
	clock_gettime(CLOCK_MONOTONIC, &a);
	memset(&in, 0, sizeof(in));
	in.fix_valid = 1;
	for (k = 0; k < NF; k++)
		for (v = 1; v <= NV; v++) {
			double px = (v % 50) * 220.0, py = (v / 50 % 8) * 60.0;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			in.vessel_id = v;
			in.t_ms = D0(8, 0) + (int64_t)k * 20000 + v % 1000;
			in.recv_ms = in.t_ms + 1000;
			/* a third sail east, the rest lie still with jitter */
			if (v % 3 == 1)
				px += k * 60.0;
			in.lon = lon_of(px + (double)(x % 30) - 15);
			in.lat = lat_of(py + (double)((x >> 8) % 30) - 15);
			in.speed_kn = v % 3 == 1 ? 6 : 0.3f;
			rules_position(r, &in);
		}
	clock_gettime(CLOCK_MONOTONIC, &b);
	us = ((double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3) / (NV * (double)NF);
	rules_get_stats(r, &st);
	printf("  rules: %.2f us per position, %zu vessels, %.1f KiB per vessel (%zu fixes kept)\n", us,
	       st.vessels, (double)st.memory_bytes / 1024.0 / NV, st.history_fixes);
	assert_int_equal(st.positions, (uint64_t)NV * NF);
	assert_true(us < 50);
	rules_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_legal_day),
		cmocka_unit_test(test_night_mining),
		cmocka_unit_test(test_illegal_stop),
		cmocka_unit_test(test_outside_zone),
		cmocka_unit_test(test_no_permit),
		cmocka_unit_test(test_expired_permit),
		cmocka_unit_test(test_closed_season),
		cmocka_unit_test(test_protection_pass),
		cmocka_unit_test(test_parking_jitter),
		cmocka_unit_test(test_protection_jitter),
		cmocka_unit_test(test_blind_batch),
		cmocka_unit_test(test_long_blind_batch),
		cmocka_unit_test(test_late_fill_in),
		cmocka_unit_test(test_gap_stop),
		cmocka_unit_test(test_late_split_stop),
		cmocka_unit_test(test_delayed_fixes),
		cmocka_unit_test(test_offline),
		cmocka_unit_test(test_seed_seen),
		cmocka_unit_test(test_jump),
		cmocka_unit_test(test_sos),
		cmocka_unit_test(test_unregistered),
		cmocka_unit_test(test_index_swap),
		cmocka_unit_test(test_seed_alert),
		cmocka_unit_test(test_odd_input),
		cmocka_unit_test(test_scale),
	};

	return cmocka_run_group_tests_name("rules", tests, NULL, NULL);
}
