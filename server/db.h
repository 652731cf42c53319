/* db.h -- the database workers: the only code that talks to PostgreSQL while serving.
 *
 * Threads: the lws service thread submits jobs and pushes positions; query
 * worker threads (each with its own PGconn) run jobs; one writer thread
 * batches positions into COPY. Finished jobs and committed position batches
 * come back to the service thread through db_poll(), which the service thread
 * calls after lws_cancel_service() wakes it (LWS_CALLBACK_EVENT_WAIT_CANCELLED).
 */
#ifndef SW_DB_H
#define SW_DB_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct db_job;

/* Runs in a worker thread with a live connection. Fills the job's result. */
typedef void (*db_run_fn)(PGconn *conn, struct db_job *job);
/* Runs in the service thread once the job is finished. Must not free the job:
 * db_poll frees it (and its `out` and `arg`) afterwards. */
typedef void (*db_done_fn)(struct db_job *job, void *ctx);

struct db_job {
	struct db_job *next;
	db_run_fn run;
	db_done_fn done;
	uint64_t owner;   /* id of the connection waiting for it (idmap) */
	int status;       /* set by run: an HTTP status, or 0/-1 */
	char *out;        /* set by run: malloc'd result text (JSON), owned */
	size_t out_len;
	char *arg;        /* malloc'd input (JSON text, string), owned */
	char *arg2;       /* second malloc'd input, owned */
	long long iarg[4];
	void *ptr;        /* borrowed context for done */
};

/* One position, as every feed hands it to the writer. */
enum { POS_JT808 = 1, POS_NMEA, POS_AIS, POS_HTTP };
struct sw_position {
	int32_t vessel_id;
	int64_t device_time_ms;  /* UTC */
	int64_t recv_time_ms;
	double lon, lat;
	float speed_kn, course, altitude_m;
	uint8_t fix_valid;
	uint8_t protocol;
	uint8_t blind;           /* re-sent after a signal gap: history only */
	uint32_t alarm_bits, status_bits;
	char *raw;               /* malloc'd evidence text (hex / sentence), owned */
};

/* Called on the service thread for each committed batch (after COMMIT). */
typedef void (*db_committed_fn)(const struct sw_position *p, size_t n, void *ctx);

struct db_opts {
	const char *conninfo;
	int workers;
	int writers;             /* position writer threads, each with a connection */
	int batch_max;
	int batch_ms;            /* 0: write as soon as the writer is free */
	void (*wake)(void *ctx);      /* any thread: wake the service thread */
	db_committed_fn committed;
	/* Called on the service thread with the payload of each NOTIFY on
	 * `notify_channel` (NULL: no listener thread). */
	const char *notify_channel;
	void (*notified)(const char *payload, void *ctx);
	void *ctx;
};

/* Starts the threads (connections are made lazily and retried). NULL on
 * allocation or thread failure. */
struct db *db_start(const struct db_opts *o);
/* Flushes pending positions (waits for the writer), stops and joins. */
void db_stop(struct db *d);

/* Service thread: queue a job (ownership passes to db). */
void db_submit(struct db *d, struct db_job *job);
/* Allocates a zeroed job. */
struct db_job *db_job_new(db_run_fn run, db_done_fn done, uint64_t owner);
void db_job_free(struct db_job *j);

/* Service thread: queue positions for the writer (takes ownership of each
 * position's raw). Returns 0, or -1 when the queue is full (the caller keeps
 * ownership and must refuse/ack accordingly). */
int db_push_positions(struct db *d, struct sw_position *p, size_t n);

/* Service thread: runs done callbacks of finished jobs and committed
 * callbacks of written batches. */
void db_poll(struct db *d, void *ctx);

/* Counters for /api/health and logs. */
struct db_stats {
	uint64_t positions_written;
	uint64_t batches;
	uint64_t write_errors;
	size_t queued;
	int connected;
};
void db_get_stats(struct db *d, struct db_stats *s);

/* Helpers for run functions (worker thread). */
/* Sets job->out to a JSON error body and job->status. */
void db_job_error(struct db_job *j, int status, const char *msg);
/* Takes the single text cell of a one-row result as the JSON body. */
void db_job_take_json(struct db_job *j, PGresult *res, int ok_status);

/* Runs sql with j->iarg[0] as $1: its one text cell becomes the 200 body,
 * no row a 404 with `notfound`. */
void db_job_json_by_id(PGconn *c, struct db_job *j, const char *sql, const char *notfound);

/* Blocking connect with a clear message (for commands and start-up). */
PGconn *db_connect_blocking(const char *conninfo, char *err, size_t errlen);

#endif
