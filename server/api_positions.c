/* api_positions.c -- POST /api/positions: batches of positions from upstream positioning platforms.
 *
 * The body is a JSON array of {"terminal"|"mmsi"|"vessel", "time", "lon",
 * "lat", "speed_kn", "course"} (optionally "fix_valid", "altitude_m"). The
 * answer says how many were accepted and, per rejected item, its index and
 * why. Items go through the same filter and writer as every other feed.
 */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt.h"
#include "http.h"
#include "log.h"

#define POSITIONS_MAX_ITEMS 5000

static int digits(const char *s, int n, int *out)
{
	int v = 0, i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int sw_parse_iso_time(const char *s, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, se, frac = 0, fdig = 0, oh, om, sign;
	int64_t t;

	if (!s || strlen(s) < 20)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
	    digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' ||
	    digits(s + 17, 2, &se))
		return -1;
	s += 19;
	if (*s == '.' || *s == ',') {
		s++;
		while (isdigit((unsigned char)*s)) {
			if (fdig < 3) {
				frac = frac * 10 + (*s - '0');
				fdig++;
			}
			s++;
		}
		if (!fdig)
			return -1;
		while (fdig < 3) {
			frac *= 10;
			fdig++;
		}
	}
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100) || y % 400 == 0)) || h > 23 ||
	    mi > 59 || se > 60)
		return -1;
	if (*s == 'Z' || *s == 'z') {
		oh = om = 0;
		sign = 1;
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s == '-' ? -1 : 1;
		if (digits(s + 1, 2, &oh))
			return -1;
		s += 3;
		if (*s == ':')
			s++;
		if (digits(s, 2, &om))
			return -1;
		s += 2;
		if (oh > 14 || om > 59)
			return -1;
	} else {
		return -1; /* a time without an offset is ambiguous */
	}
	if (*s)
		return -1;
	t = fmt_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (se > 59 ? 59 : se);
	t -= sign * (oh * 3600 + om * 60);
	*ms = t * 1000 + frac;
	return 0;
}

/* The identity key of an item ("t:<terminal>", "m:<mmsi>", "v:<id>") or a
 * reason it has none. */
static const char *item_key(json_t *it, char *key, size_t len)
{
	json_t *t = json_object_get(it, "terminal"), *m = json_object_get(it, "mmsi"),
	       *v = json_object_get(it, "vessel");
	int n = (t != NULL) + (m != NULL) + (v != NULL);
	const char *ts;

	if (n != 1)
		return "exactly one of terminal, mmsi or vessel is required";
	if (t) {
		ts = json_string_value(t);
		if (!ts)
			return "terminal must be a string of digits";
		while (*ts == '0')
			ts++;
		if (!*ts || strlen(ts) > 20 || strspn(ts, "0123456789") != strlen(ts))
			return "terminal must be a string of digits";
		snprintf(key, len, "t:%s", ts);
	} else if (m) {
		json_int_t mm = json_is_integer(m) ? json_integer_value(m)
			      : json_is_string(m) ? atoll(json_string_value(m)) : -1;
		if (mm < 100000000 || mm > 999999999)
			return "mmsi must be a 9-digit number";
		snprintf(key, len, "m:%lld", (long long)mm);
	} else {
		if (!json_is_integer(v) || json_integer_value(v) <= 0 ||
		    json_integer_value(v) > 2147483647)
			return "vessel must be a vessel id";
		snprintf(key, len, "v:%lld", (long long)json_integer_value(v));
	}
	return NULL;
}

/* Turns an item into a position (vessel id filled later); a reason if bad. */
static const char *item_position(json_t *it, struct sw_position *p)
{
	json_t *lon = json_object_get(it, "lon"), *lat = json_object_get(it, "lat"),
	       *sp = json_object_get(it, "speed_kn"), *co = json_object_get(it, "course"),
	       *fv = json_object_get(it, "fix_valid"), *alt = json_object_get(it, "altitude_m");
	const char *t = json_string_value(json_object_get(it, "time"));

	memset(p, 0, sizeof(*p));
	if (!t)
		return "time is required (ISO-8601 with an offset)";
	if (sw_parse_iso_time(t, &p->device_time_ms))
		return "time must be ISO-8601 with an offset, e.g. 2026-11-29T09:30:00+08:00";
	if (!json_is_number(lon) || !json_is_number(lat))
		return "lon and lat numbers are required";
	p->lon = json_number_value(lon);
	p->lat = json_number_value(lat);
	if (sp && !json_is_null(sp)) {
		if (!json_is_number(sp))
			return "speed_kn must be a number";
		p->speed_kn = (float)json_number_value(sp);
	}
	if (co && !json_is_null(co)) {
		if (!json_is_number(co) || json_number_value(co) < 0 || json_number_value(co) >= 360)
			return "course must be a number of degrees in [0, 360)";
		p->course = (float)json_number_value(co);
	}
	if (alt && !json_is_null(alt)) {
		if (!json_is_number(alt))
			return "altitude_m must be a number";
		p->altitude_m = (float)json_number_value(alt);
	}
	if (fv && !json_is_boolean(fv))
		return "fix_valid must be true or false";
	p->fix_valid = fv ? json_is_true(fv) : 1;
	p->protocol = POS_HTTP;
	return NULL;
}

/* Worker: resolves every distinct identity of the batch to a vessel id. */
static void run_resolve(PGconn *c, struct db_job *j)
{
	const char *params[1] = { j->arg };
	PGresult *r = PQexecParams(c,
		"WITH k AS (SELECT jsonb_array_elements_text($1::jsonb) AS k)"
		" SELECT coalesce(json_object_agg(k.k, ve.id), '{}') FROM k JOIN vessels ve ON"
		"  ve.status <> 'retired' AND CASE left(k.k, 1)"
		"   WHEN 't' THEN ve.terminal = substr(k.k, 3)"
		"   WHEN 'm' THEN ve.mmsi = substr(k.k, 3)::bigint"
		"   ELSE ve.id = substr(k.k, 3)::int END",
		1, NULL, params, NULL, NULL, 0);

	db_job_take_json(j, r, 200);
	PQclear(r);
}

static void done_resolve(struct db_job *j, void *ctx)
{
	struct sw_server *s = ctx;
	struct http_req *r = http_job_claim(s, j);
	json_t *items, *ids, *rejected, *it;
	struct sw_position *ps = NULL;
	const char **why = NULL;
	size_t *index = NULL, i, n, np = 0, kept, dups = 0;

	if (!r)
		return;
	if (j->status != 200) {
		http_job_answer(r, j);
		return;
	}
	items = json_loads(j->arg2, 0, NULL);
	ids = json_loads(j->out, 0, NULL);
	rejected = json_array();
	n = json_array_size(items);
	ps = calloc(n ? n : 1, sizeof(*ps));
	why = calloc(n ? n : 1, sizeof(*why));
	index = calloc(n ? n : 1, sizeof(*index));
	if (!items || !ids || !rejected || !ps || !why || !index) {
		http_error(r, 500, "out of memory");
		goto out;
	}
	json_array_foreach(items, i, it) {
		char key[48];
		const char *w = item_key(it, key, sizeof(key));
		json_t *id;

		if (!w)
			w = item_position(it, &ps[np]);
		if (!w && !json_is_integer(id = json_object_get(ids, key)))
			w = key[0] == 't' ? "unknown terminal" : key[0] == 'm' ? "unknown mmsi"
								   : "unknown vessel";
		if (w) {
			json_array_append_new(rejected, json_pack("{s:I,s:s}", "index", (json_int_t)i,
								  "reason", w));
			continue;
		}
		ps[np].vessel_id = (int32_t)json_integer_value(json_object_get(ids, key));
		index[np++] = i;
	}
	kept = ingest_filter(s, ps, np, why);
	for (i = 0; i < np; i++) {
		if (why[i] == ingest_duplicate)
			dups++;
		else if (why[i])
			json_array_append_new(rejected, json_pack("{s:I,s:s}", "index",
								  (json_int_t)index[i], "reason", why[i]));
	}
	if (ingest_queue(s, ps, kept)) {
		http_error(r, 503, "server busy: the write queue is full, retry later");
		goto out;
	}
	/* rejected items in input order */
	{
		size_t a, b;
		for (a = 1; a < json_array_size(rejected); a++)
			for (b = a; b > 0 && json_integer_value(json_object_get(json_array_get(rejected, b - 1), "index")) >
					     json_integer_value(json_object_get(json_array_get(rejected, b), "index")); b--) {
				json_t *x = json_incref(json_array_get(rejected, b));
				json_array_set(rejected, b, json_array_get(rejected, b - 1));
				json_array_set_new(rejected, b - 1, x);
			}
	}
	http_json(r, 200, json_pack("{s:I,s:I,s:I,s:O}", "received", (json_int_t)n, "accepted",
				    (json_int_t)kept, "duplicates", (json_int_t)dups, "rejected",
				    rejected));
out:
	json_decref(items);
	json_decref(ids);
	json_decref(rejected);
	free(ps);
	free(why);
	free(index);
}

void api_positions_post(struct sw_server *s, struct http_req *r)
{
	json_t *b = http_body_json(r), *keys, *it;
	struct db_job *j;
	size_t i;

	if (!b)
		return;
	if (!json_is_array(b)) {
		json_decref(b);
		http_error(r, 400, "a JSON array of positions is required");
		return;
	}
	if (json_array_size(b) > POSITIONS_MAX_ITEMS) {
		json_decref(b);
		http_error(r, 413, "at most 5000 positions per request");
		return;
	}
	keys = json_array();
	json_array_foreach(b, i, it) {
		char key[48];

		if (json_is_object(it) && !item_key(it, key, sizeof(key)))
			json_array_append_new(keys, json_string(key));
	}
	j = db_job_new(run_resolve, done_resolve, 0);
	if (j) {
		j->arg = json_dumps(keys, JSON_COMPACT);
		j->arg2 = json_dumps(b, JSON_COMPACT);
	}
	json_decref(keys);
	json_decref(b);
	http_submit_job(s, r, j);
}
