/* db.c -- database worker threads: query jobs and the batched position writer. */
#include "db.h"

#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Positions waiting for the writer, most that may queue before feeds are
 * told to back off (about 2 minutes at 10,000 positions/s). */
#define DB_QUEUE_MAX 2000000
/* write attempts for one batch once stopping (about 10 s of back-off) */
#define DB_STOP_TRIES 8

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
	pthread_t writer;
	int writer_started;

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
	/* timestamps are always exchanged in UTC */
	PQclear(PQexec(c, "SET TIME ZONE 'UTC'"));
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

		pthread_mutex_lock(&d->lock);
		if (d->done_tail)
			d->done_tail->next = j;
		else
			d->done_head = j;
		d->done_tail = j;
		pthread_mutex_unlock(&d->lock);
		d->o.wake(d->o.ctx);
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

/* Writes one batch in one transaction: COPY into positions, then move each
 * vessel's "last position" forward (never backward: late uploads keep their
 * place in history without overwriting the live position). */
static int write_batch(PGconn *c, const struct sw_position *p, size_t n)
{
	struct sbuf b = { 0 }, ids = { 0 }, ts = { 0 }, lons = { 0 }, lats = { 0 },
		    sps = { 0 }, cos = { 0 };
	PGresult *r;
	size_t i, j;
	int rc = -1;
	char t1[48], t2[48];
	/* newest fix per vessel in this batch */
	size_t *newest = calloc(n ? n : 1, sizeof(size_t)), nn = 0;

	if (!newest)
		return -1;
	for (i = 0; i < n; i++) {
		if (sb_reserve(&b, 512 + (p[i].raw ? strlen(p[i].raw) : 0)))
			goto out;
		fmt_ts(t1, sizeof(t1), p[i].device_time_ms);
		fmt_ts(t2, sizeof(t2), p[i].recv_time_ms);
		b.len += (size_t)snprintf(b.p + b.len, b.cap - b.len,
			"%d\t%s\t%s\tSRID=4326;POINT(%.7f %.7f)\t%.2f\t%.1f\t%.1f\t%s\t%" PRIu32 "\t%" PRIu32 "\t%s\t%s\n",
			p[i].vessel_id, t1, t2, p[i].lon, p[i].lat, (double)p[i].speed_kn,
			(double)p[i].course, (double)p[i].altitude_m, p[i].fix_valid ? "t" : "f",
			p[i].alarm_bits, p[i].status_bits, proto_name(p[i].protocol),
			p[i].raw ? p[i].raw : "\\N");
		if (!p[i].fix_valid)
			continue;
		for (j = 0; j < nn; j++)
			if (p[newest[j]].vessel_id == p[i].vessel_id)
				break;
		if (j == nn)
			newest[nn++] = i;
		else if (p[i].device_time_ms > p[newest[j]].device_time_ms)
			newest[j] = i;
	}

	r = PQexec(c, "BEGIN");
	PQclear(r);
	r = PQexec(c, "COPY positions (vessel_id, device_time, recv_time, geom, speed_kn, course, "
		      "altitude_m, fix_valid, alarm_bits, status_bits, protocol, raw) FROM STDIN");
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

	if (nn) {
		const char *params[6];
		struct sbuf *arr[6] = { &ids, &ts, &lons, &lats, &sps, &cos };

		for (j = 0; j < 6; j++) {
			if (sb_reserve(arr[j], nn * 40 + 4))
				goto rollback;
			arr[j]->p[arr[j]->len++] = '{';
		}
		for (j = 0; j < nn; j++) {
			const struct sw_position *q = &p[newest[j]];
			const char *sep = j ? "," : "";

			fmt_ts(t1, sizeof(t1), q->device_time_ms);
			ids.len += (size_t)sprintf(ids.p + ids.len, "%s%d", sep, q->vessel_id);
			ts.len += (size_t)sprintf(ts.p + ts.len, "%s\"%s\"", sep, t1);
			lons.len += (size_t)sprintf(lons.p + lons.len, "%s%.7f", sep, q->lon);
			lats.len += (size_t)sprintf(lats.p + lats.len, "%s%.7f", sep, q->lat);
			sps.len += (size_t)sprintf(sps.p + sps.len, "%s%.2f", sep, (double)q->speed_kn);
			cos.len += (size_t)sprintf(cos.p + cos.len, "%s%.1f", sep, (double)q->course);
		}
		for (j = 0; j < 6; j++) {
			arr[j]->p[arr[j]->len++] = '}';
			arr[j]->p[arr[j]->len] = '\0';
			params[j] = arr[j]->p;
		}
		r = PQexecParams(c,
			"UPDATE vessels v SET last_time = s.t, last_recv = now(), "
			"last_geom = ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), "
			"last_speed_kn = s.sp, last_course = s.co "
			"FROM unnest($1::int[], $2::timestamptz[], $3::float8[], $4::float8[], "
			"$5::real[], $6::real[]) AS s(id, t, lon, lat, sp, co) "
			"WHERE v.id = s.id AND (v.last_time IS NULL OR s.t >= v.last_time)",
			6, NULL, params, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			log_error("db: last-position update failed: %s", PQresultErrorMessage(r));
			PQclear(r);
			goto rollback;
		}
		PQclear(r);
	}
	r = PQexec(c, "COMMIT");
	if (PQresultStatus(r) == PGRES_COMMAND_OK)
		rc = 0;
	PQclear(r);
	goto out;
rollback:
	PQclear(PQexec(c, "ROLLBACK"));
out:
	free(newest);
	free(b.p);
	free(ids.p);
	free(ts.p);
	free(lons.p);
	free(lats.p);
	free(sps.p);
	free(cos.p);
	return rc;
}

static void *writer_main(void *arg)
{
	struct db *d = arg;
	PGconn *conn = NULL;
	int backoff_ms = 100, tries, lost = 0;

	for (;;) {
		struct sw_position *batch;
		size_t n, take;
		struct timespec until;

		pthread_mutex_lock(&d->lock);
		if (!d->pend_n && !d->stopping)
			pthread_cond_wait(&d->pos_cv, &d->lock);
		/* let a batch fill for up to batch_ms unless it is already full */
		if (d->pend_n < (size_t)d->o.batch_max && !d->stopping) {
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
		if (!d->pend_n) {
			int stop = d->stopping;
			pthread_cond_broadcast(&d->flushed_cv);
			pthread_mutex_unlock(&d->lock);
			if (stop)
				break;
			continue;
		}
		take = d->pend_n < (size_t)d->o.batch_max ? d->pend_n : (size_t)d->o.batch_max;
		batch = malloc(take * sizeof(*batch));
		if (!batch) {
			pthread_mutex_unlock(&d->lock);
			continue;
		}
		memcpy(batch, d->pend, take * sizeof(*batch));
		memmove(d->pend, d->pend + take, (d->pend_n - take) * sizeof(*batch));
		d->pend_n -= take;
		d->inflight += take;
		pthread_mutex_unlock(&d->lock);

		n = take;
		/* retry until written: positions are evidence and are not dropped,
		 * except when shutting down with the database gone for longer than
		 * DB_STOP_GRACE_S (the reliability work adds an on-disk spool) */
		for (tries = 0;; tries++) {
			int stopping;

			if (ensure_conn(d, &conn) && write_batch(conn, batch, n) == 0)
				break;
			pthread_mutex_lock(&d->lock);
			stopping = d->stopping;
			pthread_mutex_unlock(&d->lock);
			if (stopping && tries >= DB_STOP_TRIES) {
				log_error("db: shutting down with the database unreachable: %zu positions "
					  "not written", n);
				lost = 1;
				break;
			}
			pthread_mutex_lock(&d->lock);
			d->stats.write_errors++;
			d->stats.connected = 0;
			pthread_mutex_unlock(&d->lock);
			if (conn && PQstatus(conn) != CONNECTION_OK) {
				PQfinish(conn);
				conn = NULL;
			}
			{
				struct timespec ts = { backoff_ms / 1000, (backoff_ms % 1000) * 1000000L };
				nanosleep(&ts, NULL);
			}
			if (backoff_ms < 5000)
				backoff_ms *= 2;
		}
		backoff_ms = 100;
		if (lost) {
			size_t k;

			pthread_mutex_lock(&d->lock);
			d->inflight -= n;
			d->stats.write_errors += n;
			pthread_mutex_unlock(&d->lock);
			for (k = 0; k < n; k++)
				free(batch[k].raw);
			free(batch);
			lost = 0;
			continue;
		}

		{
			struct pos_batch *pb = malloc(sizeof(*pb));

			pthread_mutex_lock(&d->lock);
			d->stats.connected = 1;
			d->stats.positions_written += n;
			d->stats.batches++;
			d->inflight -= n;
			if (pb) {
				pb->next = NULL;
				pb->p = batch;
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
					free(batch[i].raw);
				free(batch);
			}
			d->o.wake(d->o.ctx);
		}
	}
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
	for (i = 0; i < d->nworkers; i++) {
		if (pthread_create(&d->workers[i], NULL, worker_main, d)) {
			d->nworkers = i;
			db_stop(d);
			return NULL;
		}
	}
	if (pthread_create(&d->writer, NULL, writer_main, d)) {
		db_stop(d);
		return NULL;
	}
	d->writer_started = 1;
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
	if (d->writer_started)
		pthread_join(d->writer, NULL);
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
	free(d->workers);
	free(d->conninfo);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->jobs_cv);
	pthread_cond_destroy(&d->pos_cv);
	pthread_cond_destroy(&d->flushed_cv);
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
