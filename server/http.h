/* http.h -- HTTP request/response plumbing for the API handlers (service thread). */
#ifndef SW_HTTP_H
#define SW_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "db.h"
#include "server.h"

struct lws;

#define HTTP_MAX_BODY (1024 * 1024)
/* How long a request may wait for its database job (seconds). */
#define HTTP_JOB_TIMEOUT_S 300
#define HTTP_MAX_PARAMS 4
#define HTTP_MAX_EXTRA 4

enum http_method { HM_GET = 1, HM_POST, HM_PATCH, HM_PUT, HM_DELETE, HM_OPTIONS, HM_HEAD };

/* One HTTP transaction (the lws per-session data of the "http" protocol). */
struct http_req {
	uint64_t id;               /* idmap key while a job is outstanding */
	struct lws *wsi;
	int method;
	char path[512];            /* URL path, no query */
	char *body;
	size_t body_len, body_cap;
	int body_too_large;
	int have_identity;
	struct auth_identity who;
	const char *params[HTTP_MAX_PARAMS];  /* path parameters ({} segments) */
	char param_buf[512];
	/* response */
	int status;
	const char *ctype;
	char *resp;                /* owned */
	size_t resp_len, resp_off;
	int headers_sent;
	int responded;
	int is_api;
	/* extra response headers, e.g. "etag:" and "cache-control:" */
	int nextra;
	char extra_name[HTTP_MAX_EXTRA][32];
	char extra_value[HTTP_MAX_EXTRA][160];
	/* streamed upload (routes of a streaming table, see http.c): the body
	 * goes to upload_path (HTTP_UPLOAD_FILE in the private directory
	 * upload_dir, mode 700) as it arrives; body stays NULL and body_len
	 * counts the bytes. http.c deletes both when the transaction ends unless
	 * the handler took them over (it then clears upload_dir). */
	int stream_body;
	int upload_fd;             /* valid while upload_open */
	int upload_open;           /* the body is being written to upload_fd */
	int upload_failed;         /* a write failed: the handler is not called */
	char upload_dir[256];
	char upload_path[300];
};

/* The file name of a streamed body inside its upload_dir. */
#define HTTP_UPLOAD_FILE "body"

typedef void (*http_handler)(struct sw_server *s, struct http_req *r);

struct http_route {
	int method;
	const char *pattern;     /* "/api/vessels/{}/track": {} matches one segment */
	enum sw_role need;       /* the least role the route needs */
	http_handler fn;
};

/* Route tables, each terminated by a NULL pattern: api.c (registry,
 * positions, layers list), api_tiles.c (vector tiles), api_layers.c (layer
 * versions and OGC API Features), api_upload.c (file uploads: bodies
 * streamed to disk up to cfg->upload_max instead of HTTP_MAX_BODY in memory). */
extern const struct http_route api_routes[];
extern const struct http_route tiles_routes[];
extern const struct http_route layers_routes[];
/* api_upload.c: POST /api/layers (a GIS file as the raw body, streamed to a
 * temporary file). */
extern const struct http_route upload_routes[];

/* api_alerts.c: alerts, acknowledgement, permits and closed seasons. */
extern const struct http_route alerts_routes[];
extern const struct http_route track_routes[]; /* api_track.c: tracks, within, evidence exports */
/* api.c: answers a failed statement: 409 on a unique violation, 400 on bad
 * data or a check, 500 otherwise (logged). */
void api_pg_error(struct db_job *j, PGresult *res, const char *what);

/* api_positions.c: POST /api/positions. */
void api_positions_post(struct sw_server *s, struct http_req *r);
/* Parses ISO-8601 "YYYY-MM-DDTHH:MM:SS[.fff](Z|+hh:mm)" into UTC ms. A time
 * without an offset is refused (ambiguous). 0 or -1. */
int sw_parse_iso_time(const char *s, int64_t *ms);

/* Matches r->path against a route pattern ("{}" matches one non-empty
 * segment; one trailing slash is tolerated) and fills r->params. 1 or 0. */
int http_route_match(const char *pattern, struct http_req *r);
/* Queues a response; takes ownership of body (malloc'd, may be NULL). */
void http_respond(struct http_req *r, int status, const char *ctype, char *body, size_t len);
/* Adds a response header before http_respond ("etag:", "cache-control:",
 * "content-type" excluded); a second "cache-control:" replaces our default
 * no-store. Returns 0 or -1 when full. */
int http_add_header(struct http_req *r, const char *name, const char *value);
/* Copies a request header (lws token, e.g. WSI_TOKEN_HTTP_IF_NONE_MATCH)
 * into buf; its length or -1. */
int http_request_header(struct http_req *r, int token, char *buf, size_t len);
/* Responds with {"error": msg}. */
void http_error(struct http_req *r, int status, const char *msg);
/* Responds with the JSON value (stolen reference). */
void http_json(struct http_req *r, int status, json_t *v);
/* Copies the URL query argument `name` of any lws connection into buf
 * (URL-decoded); returns its length or -1 if absent. */
int http_urlarg(struct lws *wsi, const char *name, char *buf, size_t len);
/* A positive decimal id (a path segment or query value) up to max; -1 if
 * not one. */
long long http_parse_id(const char *s, long long max);
/* Copies a URL query argument into buf; returns its length or -1 if absent. */
int http_query(struct http_req *r, const char *name, char *buf, size_t len);
/* Parses the request body as a JSON object; responds 400 and returns NULL on
 * failure. */
json_t *http_body_json(struct http_req *r);
/* Submits a DB job whose result (job->status, job->out) becomes the response
 * to r when it finishes (or is dropped if r's connection closed). */
void http_submit_job(struct sw_server *s, struct http_req *r, struct db_job *j);
/* GET of one thing by the id in r's first path parameter (1..max): 404 with
 * `notfound` for a bad id, else a job of `run` with the id in iarg[0]
 * (see db_job_json_by_id). */
void http_submit_by_id(struct sw_server *s, struct http_req *r, long long max, db_run_fn run,
		       const char *notfound);
/* Service thread, in a job's done callback: the request waiting for it
 * (taken off the id map), or NULL if its client went away. */
struct http_req *http_job_claim(struct sw_server *s, struct db_job *j);
/* Answers r with the job's status and body (JSON, or GeoJSON when
 * j->iarg[3] == 1); takes the body. */
void http_job_answer(struct http_req *r, struct db_job *j);
/* done callback usable for such jobs: claim, then answer. */
void http_job_done(struct db_job *j, void *ctx);

/* Security headers (CSP, frame denial, nosniff) for the HTTP vhost. */
extern const struct lws_protocol_vhost_options *const http_headers;

#endif
