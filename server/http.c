/* http.c -- the HTTP vhost: static files from web/, the JSON API router, async responses. */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define SECURITY_CSP                                                                       \
	"default-src 'self'; script-src 'self'; worker-src 'self' blob:; child-src 'self' blob:; " \
	"img-src 'self' data: blob: http: https:; connect-src 'self' ws: wss: http: https:; "    \
	"style-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "                 \
	"frame-ancestors 'none'"

static struct sw_server *server_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

/* Service thread: closes and deletes r's streamed upload unless a handler
 * took it over (cleared upload_dir). Unlinking a file and removing an empty
 * directory are cheap local calls, like the chunk writes. */
static void upload_discard(struct http_req *r)
{
	if (r->upload_open) {
		close(r->upload_fd);
		r->upload_open = 0;
	}
	if (r->upload_dir[0]) {
		unlink(r->upload_path);
		if (rmdir(r->upload_dir))
			lwsl_warn("upload: cannot remove %s: %s\n", r->upload_dir, strerror(errno));
	}
	r->upload_dir[0] = r->upload_path[0] = '\0';
}

/* Service thread: makes r's private upload directory ($TMPDIR or /tmp,
 * mkdtemp: mode 700) and opens the body file in it. 0 or -1. */
static int upload_begin(struct http_req *r)
{
	const char *tmp = getenv("TMPDIR");
	int n;

	n = snprintf(r->upload_dir, sizeof(r->upload_dir), "%s/shorewatch-upload-XXXXXX",
		     tmp && tmp[0] == '/' ? tmp : "/tmp");
	if (n < 0 || (size_t)n >= sizeof(r->upload_dir) || !mkdtemp(r->upload_dir)) {
		r->upload_dir[0] = '\0';
		return -1;
	}
	snprintf(r->upload_path, sizeof(r->upload_path), "%s/" HTTP_UPLOAD_FILE, r->upload_dir);
	r->upload_fd = open(r->upload_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (r->upload_fd < 0) {
		upload_discard(r);
		return -1;
	}
	r->upload_open = 1;
	return 0;
}

/* Service thread: appends one body chunk to the upload file. 0 or -1. */
static int upload_write(struct http_req *r, const void *in, size_t len)
{
	const char *p = in;

	while (len) {
		ssize_t w = write(r->upload_fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static void req_reset(struct http_req *r)
{
	upload_discard(r);
	free(r->body);
	free(r->resp);
	memset(r, 0, sizeof(*r));
}

void http_respond(struct http_req *r, int status, const char *ctype, char *body, size_t len)
{
	if (r->responded) {
		free(body);
		return;
	}
	r->responded = 1;
	r->status = status;
	r->ctype = ctype ? ctype : "application/json";
	r->resp = body;
	r->resp_len = body ? len : 0;
	r->resp_off = 0;
	r->headers_sent = 0;
	lws_callback_on_writable(r->wsi);
}

int http_add_header(struct http_req *r, const char *name, const char *value)
{
	if (r->nextra >= HTTP_MAX_EXTRA || strlen(name) >= sizeof(r->extra_name[0]) ||
	    strlen(value) >= sizeof(r->extra_value[0]))
		return -1;
	strcpy(r->extra_name[r->nextra], name);
	strcpy(r->extra_value[r->nextra], value);
	r->nextra++;
	return 0;
}

int http_request_header(struct http_req *r, int token, char *buf, size_t len)
{
	int n = lws_hdr_copy(r->wsi, buf, (int)len, (enum lws_token_indexes)token);

	return n > 0 ? n : -1;
}

void http_json(struct http_req *r, int status, json_t *v)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

	json_decref(v);
	if (!s) {
		s = strdup("{\"error\":\"out of memory\"}");
		status = 500;
	}
	http_respond(r, status, "application/json", s, s ? strlen(s) : 0);
}

void http_error(struct http_req *r, int status, const char *msg)
{
	http_json(r, status, json_pack("{s:s}", "error", msg));
}

int http_urlarg(struct lws *wsi, const char *name, char *buf, size_t len)
{
	char key[64], tmp[4096];
	const char *v = tmp;
	size_t kl, vl;

	kl = (size_t)snprintf(key, sizeof(key), "%s=", name);
	/* lws copies every argument in turn into the buffer while it looks,
	 * and gives up at the first that does not fit (a long token before a
	 * short one): look with a buffer that fits any argument */
	if (!lws_get_urlarg_by_name(wsi, key, tmp, (int)sizeof(tmp)))
		return -1;
	/* lws 4.1 copies the whole "name=value" fragment; later versions only
	 * the value */
	if (!strncmp(tmp, key, kl))
		v += kl;
	vl = strlen(v);
	if (!len || vl >= len)
		return -1;
	memcpy(buf, v, vl + 1);
	return (int)vl;
}

long long http_parse_id(const char *s, long long max)
{
	char *end;
	long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	return (errno || *end || v <= 0 || v > max) ? -1 : v;
}

int http_query(struct http_req *r, const char *name, char *buf, size_t len)
{
	return http_urlarg(r->wsi, name, buf, len);
}

json_t *http_body_json(struct http_req *r)
{
	json_error_t e;
	json_t *v;

	if (!r->body_len) {
		http_error(r, 400, "a JSON body is required");
		return NULL;
	}
	v = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!v) {
		char msg[256];
		snprintf(msg, sizeof(msg), "invalid JSON at line %d column %d: %s", e.line,
			 e.column, e.text);
		http_error(r, 400, msg);
		return NULL;
	}
	return v;
}

struct http_req *http_job_claim(struct sw_server *s, struct db_job *j)
{
	struct http_req *r = idmap_get(&s->conns, j->owner);

	if (!r)
		return NULL; /* the client went away */
	idmap_del(&s->conns, j->owner);
	r->id = 0;
	return r;
}

void http_job_answer(struct http_req *r, struct db_job *j)
{
	http_respond(r, j->status ? j->status : 500,
		     j->iarg[3] == 1 ? "application/geo+json" : "application/json", j->out,
		     j->out_len);
	j->out = NULL;
}

void http_job_done(struct db_job *j, void *ctx)
{
	struct http_req *r = http_job_claim(ctx, j);

	if (r)
		http_job_answer(r, j);
}

void http_submit_job(struct sw_server *s, struct http_req *r, struct db_job *j)
{
	if (!j) {
		http_error(r, 500, "out of memory");
		return;
	}
	if (!r->id)
		r->id = idmap_add(&s->conns, r);
	j->owner = r->id;
	j->ptr = s;
	if (!j->done)
		j->done = http_job_done;
	/* lws drops a transaction that shows no progress for 5 s; a query or
	 * a load waiting behind others on the workers may take longer. The
	 * answer (http_respond) puts lws's own timeouts back. */
	lws_set_timeout(r->wsi, PENDING_TIMEOUT_USER_OK, HTTP_JOB_TIMEOUT_S);
	db_submit(s->db, j);
}

void http_submit_by_id(struct sw_server *s, struct http_req *r, long long max, db_run_fn run,
		       const char *notfound)
{
	long long id = http_parse_id(r->params[0], max);
	struct db_job *j;

	if (id < 0) {
		http_error(r, 404, notfound);
		return;
	}
	j = db_job_new(run, NULL, 0);
	if (j)
		j->iarg[0] = id;
	http_submit_job(s, r, j);
}

int http_route_match(const char *pattern, struct http_req *r)
{
	const char *p = pattern, *u = r->path;
	size_t pb = 0;
	int np = 0;

	while (*p && *u) {
		if (p[0] == '{' && p[1] == '}') {
			const char *seg_end = strchr(u, '/');
			size_t n = seg_end ? (size_t)(seg_end - u) : strlen(u);

			if (!n || np >= HTTP_MAX_PARAMS || pb + n + 1 > sizeof(r->param_buf))
				return 0;
			memcpy(r->param_buf + pb, u, n);
			r->param_buf[pb + n] = '\0';
			r->params[np++] = r->param_buf + pb;
			pb += n + 1;
			u += n;
			p += 2;
			continue;
		}
		if (*p != *u)
			return 0;
		p++;
		u++;
	}
	/* tolerate one trailing slash */
	if (!*p && u[0] == '/' && !u[1])
		return 1;
	return !*p && !*u;
}

static int method_of(int lws_method)
{
	switch (lws_method) {
	case LWSHUMETH_GET: return HM_GET;
	case LWSHUMETH_POST: return HM_POST;
	case LWSHUMETH_PATCH: return HM_PATCH;
	case LWSHUMETH_PUT: return HM_PUT;
	case LWSHUMETH_DELETE: return HM_DELETE;
	case LWSHUMETH_OPTIONS: return HM_OPTIONS;
	case LWSHUMETH_HEAD: return HM_HEAD;
	}
	return 0;
}

/* Reads the bearer token (Authorization header) into r->who. */
static int req_identity(struct sw_server *s, struct http_req *r)
{
	char h[1024];
	int n = lws_hdr_copy(r->wsi, h, sizeof(h), WSI_TOKEN_HTTP_AUTHORIZATION);

	if (n <= 7 || strncasecmp(h, "Bearer ", 7))
		return -1;
	if (auth_token_check(s->key, h + 7, sw_now_ms() / 1000, &r->who))
		return -1;
	r->have_identity = 1;
	return 0;
}

/* The route tables; a streaming table's request bodies go to a temporary
 * file (up to cfg->upload_max) instead of memory (up to HTTP_MAX_BODY). */
static const struct {
	const struct http_route *routes;
	int stream_body;
} tables[] = {
	{ api_routes, 0 }, { tiles_routes, 0 }, { layers_routes, 0 }, { upload_routes, 1 },
	{ alerts_routes, 0 },
	{ track_routes, 0 },
};

/* The route for r's path and method, or NULL; *path_known tells whether the
 * path matched a route of another method, *stream whether the route's table
 * streams bodies. */
static const struct http_route *route_find(struct http_req *r, int *path_known, int *stream)
{
	const struct http_route *rt;
	size_t t;

	*path_known = *stream = 0;
	for (t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (rt = tables[t].routes; rt->pattern; rt++) {
			if (!http_route_match(rt->pattern, r))
				continue;
			*path_known = 1;
			if (rt->method != r->method && !(rt->method == HM_GET && r->method == HM_HEAD))
				continue;
			*stream = tables[t].stream_body;
			return rt;
		}
	}
	return NULL;
}

/* Finds the route and runs it, after the role check. */
static void dispatch(struct sw_server *s, struct http_req *r)
{
	const struct http_route *rt;
	int path_known, stream;

	rt = route_find(r, &path_known, &stream);
	if (rt) {
		if (rt->need != ROLE_NONE) {
			if (req_identity(s, r)) {
				http_error(r, 401, "login required");
				return;
			}
			if (!auth_role_allows(r->who.role, rt->need)) {
				http_error(r, 403, "your role may not do this");
				return;
			}
		}
		if (r->body_too_large) {
			http_error(r, 413, "request body too large");
			return;
		}
		if (stream && r->upload_failed) {
			http_error(r, 500, "cannot store the upload");
			return;
		}
		rt->fn(s, r);
		return;
	}
	if (path_known)
		http_error(r, 405, "method not allowed");
	else
		http_error(r, 404, "no such resource");
}

static int write_response(struct lws *wsi, struct http_req *r)
{
	uint8_t buf[LWS_PRE + 16384], *start = &buf[LWS_PRE], *p = start,
					   *end = &buf[sizeof(buf) - 1];
	size_t chunk;
	int final;

	if (!r->headers_sent) {
		int i, own_cache = 0;

		if (lws_add_http_common_headers(wsi, (unsigned int)r->status, r->ctype,
						r->resp_len, &p, end))
			return -1;
		for (i = 0; i < r->nextra; i++) {
			if (!strcmp(r->extra_name[i], "cache-control:"))
				own_cache = 1;
			if (lws_add_http_header_by_name(wsi, (const unsigned char *)r->extra_name[i],
							(const unsigned char *)r->extra_value[i],
							(int)strlen(r->extra_value[i]), &p, end))
				return -1;
		}
		if ((!own_cache &&
		     lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
						 (const unsigned char *)"no-store", 8, &p, end)) ||
		    lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;
		r->headers_sent = 1;
		if (!r->resp_len || r->method == HM_HEAD)
			goto finished;
		lws_callback_on_writable(wsi);
		return 0;
	}
	chunk = r->resp_len - r->resp_off;
	if (chunk > sizeof(buf) - LWS_PRE - 1)
		chunk = sizeof(buf) - LWS_PRE - 1;
	memcpy(start, r->resp + r->resp_off, chunk);
	r->resp_off += chunk;
	final = r->resp_off == r->resp_len;
	if (lws_write(wsi, start, chunk, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
	    (int)chunk)
		return -1;
	if (!final) {
		lws_callback_on_writable(wsi);
		return 0;
	}
finished:
	free(r->resp);
	r->resp = NULL;
	if (lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

static const char *mime_of(const char *path)
{
	static const struct {
		const char *ext, *mime;
	} t[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" }, { ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },           { ".geojson", "application/geo+json" },
		{ ".svg", "image/svg+xml" },               { ".png", "image/png" },
		{ ".jpg", "image/jpeg" },                  { ".ico", "image/x-icon" },
		{ ".woff2", "font/woff2" },                { ".map", "application/json" },
		{ ".txt", "text/plain; charset=utf-8" },   { ".pbf", "application/x-protobuf" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcasecmp(dot, t[i].ext))
			return t[i].mime;
	return "application/octet-stream";
}

/* Serves a file under web_root. Paths with "..", backslashes, hidden files
 * or control characters are refused; "/" is index.html. Returns what the
 * callback should return. */
static int serve_static(struct sw_server *s, struct lws *wsi, struct http_req *r)
{
	char full[2048];
	const char *p = r->path;
	size_t i;
	int n;

	if (r->method != HM_GET && r->method != HM_HEAD) {
		http_error(r, 405, "method not allowed");
		return 0;
	}
	for (i = 0; p[i]; i++) {
		unsigned char ch = (unsigned char)p[i];
		if (ch < 0x20 || ch == '\\' || (ch == '.' && i && p[i - 1] == '/'))
			break;
	}
	if (p[i] || p[0] != '/') {
		http_error(r, 404, "no such file");
		return 0;
	}
	n = snprintf(full, sizeof(full), "%s%s%s", s->cfg->web_root, p,
		     p[strlen(p) - 1] == '/' ? "index.html" : "");
	if (n < 0 || (size_t)n >= sizeof(full)) {
		http_error(r, 404, "no such file");
		return 0;
	}
	r->is_api = 0;
	n = lws_serve_http_file(wsi, full, mime_of(full), NULL, 0);
	if (n < 0)
		return -1;
	if (n > 0 && lws_http_transaction_completed(wsi))
		return -1;
	return 0;
}

/* The OGC API landing page shares "/" with the map page: a client that asks
 * for JSON (QGIS, curl -H 'Accept: application/json') gets the landing page. */
static int wants_landing_json(struct lws *wsi, struct http_req *r)
{
	char accept[256];
	int n;

	if (strcmp(r->path, "/"))
		return 0;
	n = lws_hdr_copy(wsi, accept, sizeof(accept), WSI_TOKEN_HTTP_ACCEPT);
	return n > 0 && (strstr(accept, "application/json") || strstr(accept, "application/geo+json")) &&
	       !strstr(accept, "text/html");
}

static int is_api_path(const char *path)
{
	static const char *prefixes[] = { "/api", "/collections", "/tiles", "/conformance" };
	size_t i, n;

	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		n = strlen(prefixes[i]);
		if (!strncmp(path, prefixes[i], n) && (path[n] == '/' || !path[n]))
			return 1;
	}
	return 0;
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user,
			 void *in, size_t len)
{
	struct http_req *r = user;
	struct sw_server *s = server_of(wsi);

	switch (reason) {
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* a worker thread finished something: pick it up here */
		if (s && s->db)
			db_poll(s->db, s);
		return 0;

	case LWS_CALLBACK_HTTP: {
		char *uri = NULL;
		int ulen = 0, m;
		char cl[32];

		if (!r)
			break;
		if (r->id)
			idmap_del(&s->conns, r->id);
		req_reset(r);
		r->wsi = wsi;
		r->is_api = 1;
		m = lws_http_get_uri_and_method(wsi, &uri, &ulen);
		r->method = method_of(m);
		if (!uri || ulen <= 0 || (size_t)ulen >= sizeof(r->path)) {
			http_error(r, 414, "URL too long");
			return 0;
		}
		memcpy(r->path, uri, (size_t)ulen);
		r->path[ulen] = '\0';
		{
			char *q = strchr(r->path, '?');
			if (q)
				*q = '\0';
		}
		if (!r->method) {
			http_error(r, 405, "method not allowed");
			return 0;
		}
		if (!is_api_path(r->path) && !wants_landing_json(wsi, r))
			return serve_static(s, wsi, r);
		/* a body follows: dispatch at LWS_CALLBACK_HTTP_BODY_COMPLETION */
		if ((r->method == HM_POST || r->method == HM_PATCH || r->method == HM_PUT) &&
		    lws_hdr_copy(wsi, cl, sizeof(cl), WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0 &&
		    atoll(cl) > 0) {
			int known;
			const struct http_route *rt = route_find(r, &known, &r->stream_body);

			if (!rt || !r->stream_body) {
				r->stream_body = 0;
				if (atoll(cl) > HTTP_MAX_BODY)
					r->body_too_large = 1;
				return 0;
			}
			/* an upload: refused ones (size, login, role) are read and
			 * dropped, and dispatch answers once the body is in */
			if (atoll(cl) > (long long)s->cfg->upload_max)
				r->body_too_large = 1;
			else if (rt->need == ROLE_NONE ||
				 (!req_identity(s, r) && auth_role_allows(r->who.role, rt->need)))
				r->upload_failed = upload_begin(r) ? 1 : 0;
			return 0;
		}
		dispatch(s, r);
		return 0;
	}

	case LWS_CALLBACK_HTTP_BODY:
		if (!r || r->body_too_large)
			return 0;
		if (r->stream_body) {
			if (!r->upload_open)
				return 0;
			if (r->body_len + len > (size_t)s->cfg->upload_max) {
				r->body_too_large = 1;
				upload_discard(r);
				return 0;
			}
			if (upload_write(r, in, len)) {
				lwsl_warn("upload: cannot write %s: %s\n", r->upload_path, strerror(errno));
				r->upload_failed = 1;
				upload_discard(r);
				return 0;
			}
			r->body_len += len;
			return 0;
		}
		if (r->body_len + len > HTTP_MAX_BODY) {
			r->body_too_large = 1;
			return 0;
		}
		if (r->body_len + len + 1 > r->body_cap) {
			size_t ncap = r->body_cap ? r->body_cap * 2 : 4096;
			char *nb;
			while (ncap < r->body_len + len + 1)
				ncap *= 2;
			nb = realloc(r->body, ncap);
			if (!nb)
				return -1;
			r->body = nb;
			r->body_cap = ncap;
		}
		memcpy(r->body + r->body_len, in, len);
		r->body_len += len;
		r->body[r->body_len] = '\0';
		return 0;

	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (r && r->upload_open) {
			r->upload_open = 0;
			if (close(r->upload_fd)) {
				r->upload_failed = 1;
				upload_discard(r);
			}
		}
		if (r && r->is_api && !r->responded)
			dispatch(s, r);
		/* an upload the handler did not take over is not kept */
		if (r)
			upload_discard(r);
		return 0;

	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!r || !r->responded || !r->is_api)
			break;
		return write_response(wsi, r);

	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		/* lws 4.1 leaves the header table of a served file in place:
		 * without this, the next request on a keep-alive connection is
		 * answered with the previous file */
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;

	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (r) {
			if (r->id && s)
				idmap_del(&s->conns, r->id);
			r->id = 0;
			upload_discard(r);
			free(r->body);
			free(r->resp);
			r->body = r->resp = NULL;
			r->body_len = r->body_cap = r->resp_len = 0;
		}
		break;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols http_protocol = {
	"http", callback_http, sizeof(struct http_req), 0, 0, NULL, 0
};


/* Security headers lws adds to every response of the HTTP vhost. */
static const struct lws_protocol_vhost_options hdr_referrer = { NULL, NULL, "referrer-policy:", "no-referrer" };
static const struct lws_protocol_vhost_options hdr_frame = { &hdr_referrer, NULL, "x-frame-options:", "DENY" };
static const struct lws_protocol_vhost_options hdr_nosniff = { &hdr_frame, NULL, "x-content-type-options:", "nosniff" };
static const struct lws_protocol_vhost_options hdr_csp = { &hdr_nosniff, NULL, "content-security-policy:", SECURITY_CSP };
const struct lws_protocol_vhost_options *const http_headers = &hdr_csp;

/* One mount: everything goes to the "http" protocol callback, which routes
 * the API and serves web_root itself (lws 4.1's LWSMPRO_FILE mounts answer a
 * keep-alive connection's next request with the previous file). */
const struct lws_http_mount *http_mounts(struct sw_server *s)
{
	static struct lws_http_mount m;

	(void)s;
	memset(&m, 0, sizeof(m));
	m.mountpoint = "/";
	m.mountpoint_len = 1;
	m.protocol = "http";
	m.origin_protocol = LWSMPRO_CALLBACK;
	return &m;
}
