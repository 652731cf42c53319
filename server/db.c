/* db.c -- database worker threads: query jobs and the batched position writer. */
#include "db.h"

#include "fmt.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

/* Positions waiting for the writer, most that may queue before feeds are
 * told to back off (about 2 minutes at 10,000 positions/s). */
#define DB_QUEUE_MAX 2000000
/* write attempts for one batch once stopping (about 10 s of back-off) */
#define DB_STOP_TRIES 8
#define DB_MAX_WRITERS 8

#define LAST_FLUSH_MS 2000

struct last_pos {
	int64_t t;       /* device time, ms; 0 = none */
	double lon, lat;
	float speed_kn, course;
	uint8_t dirty;
};

struct pos_batch {
	struct pos_batch *next;
	struct sw_position *p;
	size_t n;
};

struct db {
	struct db_opts o;
	char *conninfo;
	pthread_t *workers;
	int nworkers;
	pthread_t writers[DB_MAX_WRITERS];
	int nwriters;
	pthread_t listener;
	int listener_started;
	pthread_mutex_t last_lock;  /* guards last, dirty and last_flush_ms */
	pthread_mutex_t flush_lock; /* held by the one writer updating vessels */

	pthread_mutex_t lock;       /* guards everything below */
	pthread_cond_t jobs_cv;     /* workers wait for jobs */
	pthread_cond_t pos_cv;      /* writer waits for positions */
	pthread_cond_t flushed_cv;  /* db_stop waits for the queue to drain */
	struct db_job *jobs_head, *jobs_tail;
	struct db_job *done_head, *done_tail;
	struct sw_position *pend;   /* positions not yet taken by the writer */
	size_t pend_n, pend_cap;
	size_t inflight;            /* taken by the writer, not committed */
	struct pos_batch *committed_head, *committed_tail;
	int stopping;
	struct db_stats stats;

	/* writers, under last_lock: each vessel's newest fix, written to vessels.last_*
	 * at most every LAST_FLUSH_MS rather than once per batch (10,000 vessels
	 * reporting every few seconds would otherwise rewrite the registry
	 * dozens of times a second) */
	struct last_pos *last;
	size_t last_cap;
	int32_t *dirty;
	size_t ndirty, dirty_cap;
	int64_t last_flush_ms;
};

struct db_job *db_job_new(db_run_fn run, db_done_fn done, uint64_t owner)
{
	struct db_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->run = run;
	j->done = done;
	j->owner = owner;
	return j;
}

void db_job_free(struct db_job *j)
{
	if (!j)
		return;
	free(j->out);
	free(j->arg);
	free(j->arg2);
	free(j);
}

void db_job_error(struct db_job *j, int status, const char *msg)
{
	json_t *o = json_pack("{s:s}", "error", msg);

	free(j->out);
	j->out = o ? json_dumps(o, JSON_COMPACT) : NULL;
	j->out_len = j->out ? strlen(j->out) : 0;
	j->status = status;
	json_decref(o);
}

void db_job_take_json(struct db_job *j, PGresult *res, int ok_status)
{
	const char *v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		log_error("db: query failed: %s", PQresultErrorMessage(res));
		db_job_error(j, 500, "database error");
		return;
	}
	if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0)) {
		db_job_error(j, 404, "not found");
		return;
	}
	v = PQgetvalue(res, 0, 0);
	free(j->out);
	j->out = strdup(v);
	j->out_len = j->out ? strlen(j->out) : 0;
	j->status = j->out ? ok_status : 500;
}

void db_job_json_by_id(PGconn *c, struct db_job *j, const char *sql, const char *notfound)
{
	char id[24];
	const char *params[1] = { id };
	PGresult *r;

	snprintf(id, sizeof(id), "%lld", j->iarg[0]);
	r = PQexecParams(c, sql, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 0)
		db_job_error(j, 404, notfound);
	else
		db_job_take_json(j, r, 200);
	PQclear(r);
}

PGconn *db_connect_blocking(const char *conninfo, char *err, size_t errlen)
{
	PGconn *c = PQconnectdb(conninfo);

	if (PQstatus(c) != CONNECTION_OK) {
		const char *m = PQerrorMessage(c);
		size_t n;

		snprintf(err, errlen, "cannot connect to the database: %s", m);
		n = strlen(err);
		while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
			err[--n] = '\0';
		PQfinish(c);
		return NULL;
	}
	/* timestamps are always exchanged in UTC; our queries are short and
	 * planned alike every time: JIT compiling (100-200 ms a query with
	 * PostGIS) never pays back here */
	PQclear(PQexec(c, "SET TIME ZONE 'UTC'"));
	PQclear(PQexec(c, "SET jit = off"));
	return c;
}

/* Worker-thread connection upkeep: returns a usable connection or NULL. */
static PGconn *ensure_conn(struct db *d, PGconn **c)
{
	char err[512];

	if (*c && PQstatus(*c) == CONNECTION_OK)
		return *c;
	if (*c) {
		PQfinish(*c);
		*c = NULL;
	}
	*c = db_connect_blocking(d->conninfo, err, sizeof(err));
	if (!*c)
		log_warn("db: %s", err);
	return *c;
}

/* Any thread: hands a finished job to the service thread and wakes it. */
static void done_push(struct db *d, struct db_job *j)
{
	pthread_mutex_lock(&d->lock);
	j->next = NULL;
	if (d->done_tail)
		d->done_tail->next = j;
	else
		d->done_head = j;
	d->done_tail = j;
	pthread_mutex_unlock(&d->lock);
	d->o.wake(d->o.ctx);
}

static void *worker_main(void *arg)
{
	struct db *d = arg;
	PGconn *conn = NULL;

	for (;;) {
		struct db_job *j;

		pthread_mutex_lock(&d->lock);
		while (!d->jobs_head && !d->stopping)
			pthread_cond_wait(&d->jobs_cv, &d->lock);
		if (!d->jobs_head && d->stopping) {
			pthread_mutex_unlock(&d->lock);
			break;
		}
		j = d->jobs_head;
		d->jobs_head = j->next;
		if (!d->jobs_head)
			d->jobs_tail = NULL;
		j->next = NULL;
		pthread_mutex_unlock(&d->lock);

		if (ensure_conn(d, &conn)) {
			j->run(conn, j);
		} else {
			db_job_error(j, 503, "database unavailable");
		}

		done_push(d, j);
	}
	if (conn)
		PQfinish(conn);
	return NULL;
}

/* Formats UTC milliseconds as a PostgreSQL timestamptz literal. */
static int fmt_ts(char *buf, size_t len, int64_t ms)
{
	time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)s * 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	return snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%03d+00",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			tm.tm_min, tm.tm_sec, frac);
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case POS_JT808: return "jt808";
	case POS_NMEA: return "nmea";
	case POS_AIS: return "ais";
	case POS_HTTP: return "http";
	}
	return "unknown";
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 2000-01-01T00:00:00Z, PostgreSQL's epoch for binary timestamps */
#define PG_EPOCH_MS 946684800000LL

/* Big-endian writers for binary COPY. */
static uint8_t *put_u16(uint8_t *o, uint16_t v)
{
	o[0] = (uint8_t)(v >> 8);
	o[1] = (uint8_t)v;
	return o + 2;
}

static uint8_t *put_u32(uint8_t *o, uint32_t v)
{
	o[0] = (uint8_t)(v >> 24);
	o[1] = (uint8_t)(v >> 16);
	o[2] = (uint8_t)(v >> 8);
	o[3] = (uint8_t)v;
	return o + 4;
}

static uint8_t *put_u64(uint8_t *o, uint64_t v)
{
	o = put_u32(o, (uint32_t)(v >> 32));
	return put_u32(o, (uint32_t)v);
}

/* A float4 field: length and value. */
static uint8_t *put_f32(uint8_t *o, float f)
{
	uint32_t v;

	memcpy(&v, &f, 4);
	o = put_u32(o, 4);
	return put_u32(o, v);
}

/* EWKB of a WGS84 point (little-endian, SRID flag): what geometry_recv
 * takes in a binary COPY. */
static uint8_t *ewkb_point(uint8_t *o, double lon, double lat)
{
	static const uint8_t head[9] = { 0x01, 0x01, 0x00, 0x00, 0x20, 0xE6, 0x10, 0x00, 0x00 };
	uint64_t x, y;
	int i;

	memcpy(o, head, 9);
	memcpy(&x, &lon, 8);
	memcpy(&y, &lat, 8);
	for (i = 0; i < 8; i++) {
		o[9 + i] = (uint8_t)(x >> (8 * i));
		o[17 + i] = (uint8_t)(y >> (8 * i));
	}
	return o + 25;
}

/* Merges the batch's valid, live fixes into the newest-position map. */
static void last_merge(struct db *d, const struct sw_position *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct last_pos *l;
		size_t id = (size_t)p[i].vessel_id;

		if (!p[i].fix_valid || p[i].blind || p[i].vessel_id <= 0)
			continue;
		if (id >= d->last_cap) {
			size_t ncap = d->last_cap ? d->last_cap : 1024;
			struct last_pos *nl;

			while (ncap <= id)
				ncap *= 2;
			nl = realloc(d->last, ncap * sizeof(*nl));
			if (!nl)
				continue;
			memset(nl + d->last_cap, 0, (ncap - d->last_cap) * sizeof(*nl));
			d->last = nl;
			d->last_cap = ncap;
		}
		l = &d->last[id];
		if (l->t && p[i].device_time_ms < l->t)
			continue;
		l->t = p[i].device_time_ms;
		l->lon = p[i].lon;
		l->lat = p[i].lat;
		l->speed_kn = p[i].speed_kn;
		l->course = p[i].course;
		if (!l->dirty) {
			if (d->ndirty == d->dirty_cap) {
				size_t ncap = d->dirty_cap ? d->dirty_cap * 2 : 1024;
				int32_t *nd = realloc(d->dirty, ncap * sizeof(*nd));
				if (!nd)
					continue;
				d->dirty = nd;
				d->dirty_cap = ncap;
			}
			d->dirty[d->ndirty++] = p[i].vessel_id;
			l->dirty = 1;
		}
	}
}

/* Appends to a growing buffer; returns 0 or -1 (out of memory). */
struct sbuf {
	char *p;
	size_t len, cap;
};

static int sb_reserve(struct sbuf *b, size_t more)
{
	if (b->len + more + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 65536;
		char *np;

		while (ncap < b->len + more + 1)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (!np)
			return -1;
		b->p = np;
		b->cap = ncap;
	}
	return 0;
}

/* Writes the dirty newest positions into vessels (never moving one back). */
static int last_flush(struct db *d, PGconn *c)
{
	struct sbuf a[6] = { { 0 } };
	const char *params[6];
	PGresult *r;
	size_t i, j;
	int rc = -1;
	char t[48];

	if (!d->ndirty)
		return 0;
	for (j = 0; j < 6; j++) {
		if (sb_reserve(&a[j], d->ndirty * 40 + 4))
			goto out;
		a[j].p[a[j].len++] = '{';
	}
	for (i = 0; i < d->ndirty; i++) {
		const struct last_pos *l = &d->last[d->dirty[i]];
		const char *sep = i ? "," : "";

		fmt_ts(t, sizeof(t), l->t);
		a[0].len += (size_t)sprintf(a[0].p + a[0].len, "%s%d", sep, d->dirty[i]);
		a[1].len += (size_t)sprintf(a[1].p + a[1].len, "%s\"%s\"", sep, t);
		a[2].len += (size_t)sprintf(a[2].p + a[2].len, "%s%.7f", sep, l->lon);
		a[3].len += (size_t)sprintf(a[3].p + a[3].len, "%s%.7f", sep, l->lat);
		a[4].len += (size_t)sprintf(a[4].p + a[4].len, "%s%.2f", sep, (double)l->speed_kn);
		a[5].len += (size_t)sprintf(a[5].p + a[5].len, "%s%.1f", sep, (double)l->course);
	}
	for (j = 0; j < 6; j++) {
		a[j].p[a[j].len++] = '}';
		a[j].p[a[j].len] = '\0';
		params[j] = a[j].p;
	}
	r = PQexecParams(c,
		"UPDATE vessels v SET last_time = s.t, last_recv = now(), "
		"last_geom = ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), "
		"last_speed_kn = s.sp, last_course = s.co "
		"FROM unnest($1::int[], $2::timestamptz[], $3::float8[], $4::float8[], "
		"$5::real[], $6::real[]) AS s(id, t, lon, lat, sp, co) "
		"WHERE v.id = s.id AND (v.last_time IS NULL OR s.t >= v.last_time)",
		6, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		rc = 0;
		for (i = 0; i < d->ndirty; i++)
			d->last[d->dirty[i]].dirty = 0;
		d->ndirty = 0;
	} else {
		log_error("db: last-position update failed: %s", PQresultErrorMessage(r));
	}
	PQclear(r);
out:
	for (j = 0; j < 6; j++)
		free(a[j].p);
	return rc;
}

/* Writes one batch in one transaction: COPY into positions (and, every
 * LAST_FLUSH_MS, the vessels' newest positions). Late uploads keep their
 * place in history without moving a vessel's live position back. */
static int write_batch(struct db *d, PGconn *c, const struct sw_position *p, size_t n, int flush)
{
	struct sbuf b = { 0 };
	PGresult *r;
	size_t i;
	int rc = -1;
	/* binary COPY: PostgreSQL parses no text (timestamps, floats, hex);
	 * the server's hot path formats nothing */
	if (sb_reserve(&b, 19))
		goto out;
	memcpy(b.p, "PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
	b.len = 19;
	for (i = 0; i < n; i++) {
		size_t rawlen = p[i].raw ? strlen(p[i].raw) : 0;
		uint8_t *o;

		if (sb_reserve(&b, 160 + rawlen))
			goto out;
		o = (uint8_t *)b.p + b.len;
		o = put_u16(o, 13);
		o = put_u32(o, 4);
		o = put_u32(o, (uint32_t)p[i].vessel_id);
		o = put_u32(o, 8);
		o = put_u64(o, (uint64_t)((p[i].device_time_ms - PG_EPOCH_MS) * 1000));
		o = put_u32(o, 8);
		o = put_u64(o, (uint64_t)((p[i].recv_time_ms - PG_EPOCH_MS) * 1000));
		o = put_u32(o, 25);
		o = ewkb_point(o, p[i].lon, p[i].lat);
		o = put_f32(o, p[i].speed_kn);
		o = put_f32(o, p[i].course);
		o = put_f32(o, p[i].altitude_m);
		o = put_u32(o, 1);
		*o++ = p[i].fix_valid ? 1 : 0;
		o = put_u32(o, 8);
		o = put_u64(o, p[i].alarm_bits);
		o = put_u32(o, 8);
		o = put_u64(o, p[i].status_bits);
		{
			const char *pn = proto_name(p[i].protocol);
			size_t pl = strlen(pn);

			o = put_u32(o, (uint32_t)pl);
			memcpy(o, pn, pl);
			o += pl;
		}
		if (p[i].raw) {
			o = put_u32(o, (uint32_t)rawlen);
			memcpy(o, p[i].raw, rawlen);
			o += rawlen;
		} else {
			o = put_u32(o, 0xffffffffu); /* NULL */
		}
		o = put_u32(o, 1);
		*o++ = p[i].blind ? 1 : 0;
		b.len = (size_t)((char *)o - b.p);
	}
	if (sb_reserve(&b, 2))
		goto out;
	b.len = (size_t)((char *)put_u16((uint8_t *)b.p + b.len, 0xffff) - b.p);
	pthread_mutex_lock(&d->last_lock);
	last_merge(d, p, n);
	pthread_mutex_unlock(&d->last_lock);

	r = PQexec(c, "BEGIN");
	PQclear(r);
	r = PQexec(c, "COPY positions (vessel_id, device_time, recv_time, geom, speed_kn, course, "
		      "altitude_m, fix_valid, alarm_bits, status_bits, protocol, raw, blind) "
		      "FROM STDIN WITH (FORMAT binary)");
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		log_error("db: COPY failed to start: %s", PQresultErrorMessage(r));
		PQclear(r);
		goto rollback;
	}
	PQclear(r);
	if (PQputCopyData(c, b.p, (int)b.len) != 1 || PQputCopyEnd(c, NULL) != 1)
		goto rollback;
	r = PQgetResult(c);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		log_error("db: COPY failed: %s", PQresultErrorMessage(r));
		PQclear(r);
		while ((r = PQgetResult(c)))
			PQclear(r);
		goto rollback;
	}
	PQclear(r);
	while ((r = PQgetResult(c)))
		PQclear(r);
	if (flush) {
		int frc;

		pthread_mutex_lock(&d->last_lock);
		frc = last_flush(d, c);
		pthread_mutex_unlock(&d->last_lock);
		if (frc)
			goto rollback;
	}
	r = PQexec(c, "COMMIT");
	if (PQresultStatus(r) == PGRES_COMMAND_OK)
		rc = 0;
	PQclear(r);
	goto out;
rollback:
	PQclear(PQexec(c, "ROLLBACK"));
out:
	free(b.p);
	return rc;
}

/* Writes n positions with retries; returns 0 when committed, -1 when given
 * up (only while stopping with the database gone). Writer thread. */
static int write_with_retry(struct db *d, PGconn **conn, const struct sw_position *p, size_t n)
{
	int backoff_ms = 100, tries;

	/* retry until written: positions are evidence and are not dropped,
	 * except when shutting down with the database gone for about ten
	 * seconds (the reliability work adds an on-disk spool) */
	for (tries = 0;; tries++) {
		int stopping, ok, flush = 0;

		/* one writer at a time brings vessels' last positions up to date */
		pthread_mutex_lock(&d->last_lock);
		if (mono_ms() - d->last_flush_ms >= LAST_FLUSH_MS &&
		    pthread_mutex_trylock(&d->flush_lock) == 0)
			flush = 1;
		pthread_mutex_unlock(&d->last_lock);
		ok = ensure_conn(d, conn) && write_batch(d, *conn, p, n, flush) == 0;
		if (flush) {
			if (ok) {
				pthread_mutex_lock(&d->last_lock);
				d->last_flush_ms = mono_ms();
				pthread_mutex_unlock(&d->last_lock);
			}
			pthread_mutex_unlock(&d->flush_lock);
		}
		if (ok)
			return 0;
		pthread_mutex_lock(&d->lock);
		stopping = d->stopping;
		d->stats.write_errors++;
		d->stats.connected = 0;
		pthread_mutex_unlock(&d->lock);
		if (stopping && tries >= DB_STOP_TRIES) {
			log_error("db: shutting down with the database unreachable: %zu positions "
				  "not written", n);
			return -1;
		}
		if (*conn && PQstatus(*conn) != CONNECTION_OK) {
			PQfinish(*conn);
			*conn = NULL;
		}
		{
			struct timespec ts = { backoff_ms / 1000, (backoff_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
		if (backoff_ms < 5000)
			backoff_ms *= 2;
	}
}

static void run_nothing(PGconn *c, struct db_job *j)
{
	(void)c;
	(void)j;
}

static void done_notified(struct db_job *j, void *ctx)
{
	struct db *d = j->ptr;

	if (d->o.notified)
		d->o.notified(j->arg, ctx);
}

/* The listener: LISTENs on notify_channel (loads from any process say
 * there that a layer has a new version) and hands each payload to the
 * service thread. Reconnects as needed; stops within a second. */
static void *listener_main(void *arg)
{
	struct db *d = arg;
	PGconn *conn = NULL;

	for (;;) {
		struct timeval tv = { 1, 0 };
		PGnotify *n;
		fd_set fds;
		int fd, stop;

		pthread_mutex_lock(&d->lock);
		stop = d->stopping;
		pthread_mutex_unlock(&d->lock);
		if (stop)
			break;
		if (!conn || PQstatus(conn) != CONNECTION_OK) {
			char q[128], *id;

			if (!ensure_conn(d, &conn)) {
				sleep(1);
				continue;
			}
			id = PQescapeIdentifier(conn, d->o.notify_channel, strlen(d->o.notify_channel));
			snprintf(q, sizeof(q), "LISTEN %s", id ? id : "shorewatch");
			PQfreemem(id);
			PQclear(PQexec(conn, q));
		}
		fd = PQsocket(conn);
		if (fd < 0) {
			PQfinish(conn);
			conn = NULL;
			continue;
		}
		FD_ZERO(&fds);
		FD_SET(fd, &fds);
		if (select(fd + 1, &fds, NULL, NULL, &tv) < 0)
			continue;
		if (!PQconsumeInput(conn)) {
			PQfinish(conn);
			conn = NULL;
			continue;
		}
		while ((n = PQnotifies(conn))) {
			struct db_job *j = db_job_new(run_nothing, done_notified, 0);

			if (j && (j->arg = strdup(n->extra))) {
				j->ptr = d;
				j->status = 200;
				done_push(d, j);
			} else {
				db_job_free(j);
			}
			PQfreemem(n);
		}
	}
	if (conn)
		PQfinish(conn);
	return NULL;
}

/* Hands a committed chunk (owned) to the service thread. */
static void hand_back(struct db *d, struct sw_position *p, size_t n)
{
	struct pos_batch *pb = malloc(sizeof(*pb));

	pthread_mutex_lock(&d->lock);
	d->stats.connected = 1;
	d->stats.positions_written += n;
	d->stats.batches++;
	d->inflight -= n;
	if (pb) {
		pb->next = NULL;
		pb->p = p;
		pb->n = n;
		if (d->committed_tail)
			d->committed_tail->next = pb;
		else
			d->committed_head = pb;
		d->committed_tail = pb;
	}
	pthread_mutex_unlock(&d->lock);
	if (!pb) {
		size_t i;
		for (i = 0; i < n; i++)
			free(p[i].raw);
		free(p);
	}
	d->o.wake(d->o.ctx);
}

/* Writes the vessels' last positions in a transaction of their own, if no
 * other writer is doing so. */
static void idle_flush(struct db *d, PGconn **conn)
{
	if (pthread_mutex_trylock(&d->flush_lock))
		return;
	pthread_mutex_lock(&d->last_lock);
	if (d->ndirty && ensure_conn(d, conn)) {
		PQclear(PQexec(*conn, "BEGIN"));
		if (last_flush(d, *conn) == 0)
			PQclear(PQexec(*conn, "COMMIT"));
		else
			PQclear(PQexec(*conn, "ROLLBACK"));
		d->last_flush_ms = mono_ms();
	}
	pthread_mutex_unlock(&d->last_lock);
	pthread_mutex_unlock(&d->flush_lock);
}

/* A writer: takes everything queued (natural group commit: while one
 * COPY runs, the next batch accumulates), writes it in chunks of at most
 * batch_max rows, one transaction each. */
static void *writer_main(void *arg)
{
	struct db *d = arg;
	PGconn *conn = NULL;

	for (;;) {
		struct sw_position *all;
		size_t total, off;
		int stop;

		pthread_mutex_lock(&d->lock);
		while (!d->pend_n && !d->stopping) {
			if (d->ndirty) { /* read without last_lock: a hint only */
				struct timespec until;

				clock_gettime(CLOCK_REALTIME, &until);
				until.tv_nsec += LAST_FLUSH_MS * 1000000L;
				while (until.tv_nsec >= 1000000000L) {
					until.tv_sec++;
					until.tv_nsec -= 1000000000L;
				}
				if (pthread_cond_timedwait(&d->pos_cv, &d->lock, &until) == ETIMEDOUT)
					break;
			} else {
				pthread_cond_wait(&d->pos_cv, &d->lock);
			}
		}
		if (d->o.batch_ms > 0 && d->pend_n && d->pend_n < (size_t)d->o.batch_max && !d->stopping) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += (long)d->o.batch_ms * 1000000L;
			while (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			while (d->pend_n < (size_t)d->o.batch_max && !d->stopping &&
			       pthread_cond_timedwait(&d->pos_cv, &d->lock, &until) != ETIMEDOUT)
				;
		}
		stop = d->stopping;
		all = d->pend;
		total = d->pend_n;
		d->pend = NULL;
		d->pend_n = d->pend_cap = 0;
		d->inflight += total;
		if (!total)
			pthread_cond_broadcast(&d->flushed_cv);
		pthread_mutex_unlock(&d->lock);

		if (!total) {
			free(all);
			/* idle: bring the vessels' last positions up to date */
			idle_flush(d, &conn);
			if (stop)
				break;
			continue;
		}
		for (off = 0; off < total;) {
			size_t n = total - off;
			struct sw_position *chunk;

			if (n > (size_t)d->o.batch_max)
				n = (size_t)d->o.batch_max;
			if (write_with_retry(d, &conn, all + off, n)) {
				size_t k;

				pthread_mutex_lock(&d->lock);
				d->inflight -= n;
				pthread_mutex_unlock(&d->lock);
				for (k = off; k < off + n; k++)
					free(all[k].raw);
				off += n;
				continue;
			}
			if (off == 0 && n == total) {
				chunk = all; /* the common case: one chunk, no copy */
				all = NULL;
			} else {
				chunk = malloc(n * sizeof(*chunk));
				if (chunk)
					memcpy(chunk, all + off, n * sizeof(*chunk));
			}
			if (chunk) {
				hand_back(d, chunk, n);
			} else {
				size_t k;

				pthread_mutex_lock(&d->lock);
				d->inflight -= n;
				pthread_mutex_unlock(&d->lock);
				for (k = off; k < off + n; k++)
					free(all[k].raw);
			}
			off += n;
		}
		free(all);
	}
	idle_flush(d, &conn);
	if (conn)
		PQfinish(conn);
	return NULL;
}

struct db *db_start(const struct db_opts *o)
{
	struct db *d = calloc(1, sizeof(*d));
	int i;

	if (!d)
		return NULL;
	d->o = *o;
	d->conninfo = strdup(o->conninfo);
	d->nworkers = o->workers > 0 ? o->workers : 1;
	d->workers = calloc((size_t)d->nworkers, sizeof(pthread_t));
	if (!d->conninfo || !d->workers) {
		free(d->conninfo);
		free(d->workers);
		free(d);
		return NULL;
	}
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->jobs_cv, NULL);
	pthread_cond_init(&d->pos_cv, NULL);
	pthread_cond_init(&d->flushed_cv, NULL);
	pthread_mutex_init(&d->last_lock, NULL);
	pthread_mutex_init(&d->flush_lock, NULL);
	d->last_flush_ms = mono_ms();
	for (i = 0; i < d->nworkers; i++) {
		if (pthread_create(&d->workers[i], NULL, worker_main, d)) {
			d->nworkers = i;
			db_stop(d);
			return NULL;
		}
	}
	if (o->notify_channel && o->notified) {
		if (pthread_create(&d->listener, NULL, listener_main, d)) {
			db_stop(d);
			return NULL;
		}
		d->listener_started = 1;
	}
	for (i = 0; i < (o->writers > 0 ? o->writers : 1) && i < DB_MAX_WRITERS; i++) {
		if (pthread_create(&d->writers[i], NULL, writer_main, d)) {
			db_stop(d);
			return NULL;
		}
		d->nwriters++;
	}
	return d;
}

void db_stop(struct db *d)
{
	int i;
	struct db_job *j;
	struct pos_batch *pb;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	d->stopping = 1;
	pthread_cond_broadcast(&d->jobs_cv);
	pthread_cond_broadcast(&d->pos_cv);
	pthread_mutex_unlock(&d->lock);
	for (i = 0; i < d->nworkers; i++)
		pthread_join(d->workers[i], NULL);
	for (i = 0; i < d->nwriters; i++)
		pthread_join(d->writers[i], NULL);
	if (d->listener_started)
		pthread_join(d->listener, NULL);
	log_info("db: stopped; %" PRIu64 " positions written in %" PRIu64 " batches",
		 d->stats.positions_written, d->stats.batches);
	while ((j = d->done_head)) {
		d->done_head = j->next;
		db_job_free(j);
	}
	while ((j = d->jobs_head)) {
		d->jobs_head = j->next;
		db_job_free(j);
	}
	while ((pb = d->committed_head)) {
		size_t k;
		d->committed_head = pb->next;
		for (k = 0; k < pb->n; k++)
			free(pb->p[k].raw);
		free(pb->p);
		free(pb);
	}
	free(d->pend);
	free(d->last);
	free(d->dirty);
	free(d->workers);
	free(d->conninfo);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->jobs_cv);
	pthread_cond_destroy(&d->pos_cv);
	pthread_cond_destroy(&d->flushed_cv);
	pthread_mutex_destroy(&d->last_lock);
	pthread_mutex_destroy(&d->flush_lock);
	free(d);
}

void db_submit(struct db *d, struct db_job *j)
{
	pthread_mutex_lock(&d->lock);
	j->next = NULL;
	if (d->jobs_tail)
		d->jobs_tail->next = j;
	else
		d->jobs_head = j;
	d->jobs_tail = j;
	pthread_cond_signal(&d->jobs_cv);
	pthread_mutex_unlock(&d->lock);
}

int db_push_positions(struct db *d, struct sw_position *p, size_t n)
{
	pthread_mutex_lock(&d->lock);
	if (d->pend_n + n > DB_QUEUE_MAX) {
		pthread_mutex_unlock(&d->lock);
		return -1;
	}
	if (d->pend_n + n > d->pend_cap) {
		size_t ncap = d->pend_cap ? d->pend_cap : 1024;
		struct sw_position *np;

		while (ncap < d->pend_n + n)
			ncap *= 2;
		np = realloc(d->pend, ncap * sizeof(*np));
		if (!np) {
			pthread_mutex_unlock(&d->lock);
			return -1;
		}
		d->pend = np;
		d->pend_cap = ncap;
	}
	memcpy(d->pend + d->pend_n, p, n * sizeof(*p));
	d->pend_n += n;
	if (d->pend_n >= (size_t)d->o.batch_max || d->pend_n == n)
		pthread_cond_signal(&d->pos_cv);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void db_poll(struct db *d, void *ctx)
{
	struct db_job *jobs;
	struct pos_batch *batches;

	pthread_mutex_lock(&d->lock);
	jobs = d->done_head;
	d->done_head = d->done_tail = NULL;
	batches = d->committed_head;
	d->committed_head = d->committed_tail = NULL;
	pthread_mutex_unlock(&d->lock);

	while (jobs) {
		struct db_job *j = jobs;
		jobs = j->next;
		if (j->done)
			j->done(j, ctx);
		db_job_free(j);
	}
	while (batches) {
		struct pos_batch *pb = batches;
		size_t k;

		batches = pb->next;
		if (d->o.committed)
			d->o.committed(pb->p, pb->n, ctx);
		for (k = 0; k < pb->n; k++)
			free(pb->p[k].raw);
		free(pb->p);
		free(pb);
	}
}

void db_get_stats(struct db *d, struct db_stats *s)
{
	pthread_mutex_lock(&d->lock);
	*s = d->stats;
	s->queued = d->pend_n + d->inflight;
	pthread_mutex_unlock(&d->lock);
}
