/* nmea.c -- NMEA 0183 decoder: line splitting, RMC/GGA/$PSWID, fixes. */
#include "nmea.h"

#include <string.h>

#define DAY_MS 86400000LL
#define HALF_DAY_MS 43200000
/* While GN sentences keep coming (this close to the epoch at hand),
 * single-system RMC/GGA are duplicates of part of the combined fix. */
#define GN_HOLD_MS 5000
/* Fields looked at by position; more are tolerated and not split. */
#define MAX_FIELDS 16
/* Decimals of coordinate minutes used: keeps the exact-conversion numerator
 * under 2^53 (1e-11 minute is 2e-8 m). */
#define COORD_DECIMALS 11

const char *nmea_strerror(int err)
{
	switch (err) {
	case NMEA_OK:
		return "ok";
	case NMEA_IGNORED:
		return "sentence type not used";
	case NMEA_ESYNTAX:
		return "not an NMEA sentence";
	case NMEA_ENOCHECKSUM:
		return "sentence without checksum";
	case NMEA_ECHECKSUM:
		return "checksum mismatch";
	case NMEA_ESHORT:
		return "too few fields";
	case NMEA_EFIELD:
		return "malformed or out-of-range field";
	case NMEA_ETOOLONG:
		return "line too long";
	}
	return "unknown error";
}

/* ------------------------------------------------------------------ lines */

void nmea_liner_init(struct nmea_liner *l)
{
	memset(l, 0, sizeof(*l));
}

/* Appends one byte to the current line; 0, or -1 when it does not fit. */
static int liner_put(struct nmea_liner *l, char c)
{
	if (l->len >= sizeof(l->buf))
		return -1;
	l->buf[l->len++] = c;
	return 0;
}

static int liner_end(struct nmea_liner *l, nmea_line_cb cb, void *user)
{
	size_t n = l->len;
	int skipping = l->skipping;

	l->len = 0;
	l->cr = 0;
	l->skipping = 0;
	if (skipping || n == 0)
		return 0;
	return cb(user, l->buf, n, NMEA_OK);
}

/*
 * CRs are counted rather than stored: only when a byte other than LF follows
 * are they part of the line (and count towards its length). So trailing CRs
 * never make a maximal line overflow, and "\r\r\n" ends a line like "\r\n".
 */
int nmea_liner_push(struct nmea_liner *l, const char *data, size_t len,
		    nmea_line_cb cb, void *user)
{
	size_t i;
	int r;

	for (i = 0; i < len; i++) {
		char c = data[i];

		if (c == '\n') {
			r = liner_end(l, cb, user);
			if (r)
				return r;
			continue;
		}
		if (l->skipping)
			continue;
		if (c == '\r') {
			l->cr++;
			continue;
		}
		for (; l->cr > 0; l->cr--)
			if (liner_put(l, '\r') < 0)
				break;
		if (l->cr > 0 || liner_put(l, c) < 0) {
			l->len = 0;
			l->cr = 0;
			l->skipping = 1;
			r = cb(user, NULL, 0, NMEA_ETOOLONG);
			if (r)
				return r;
		}
	}
	return 0;
}

int nmea_liner_flush(struct nmea_liner *l, nmea_line_cb cb, void *user)
{
	return liner_end(l, cb, user);
}

/* ------------------------------------------------------------------ numbers */

struct field {
	const char *p;
	size_t n;
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* n decimal digits at p as an int; -1 if any is not a digit. */
static int digits(const char *p, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

static const double pow10_tab[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};
#define POW10_MAX 22

/*
 * Parses [-]digits[.digits] (at least one digit; "5." and ".5" are accepted)
 * without the C library, so no locale can turn the point into a comma.
 * Digits past 17 significant ones are dropped from the fraction; a value
 * with more than 17 integer digits is refused. Returns 0 or -1.
 */
static int parse_decimal(struct field f, int allow_neg, double *out)
{
	uint64_t mant = 0;
	size_t i = 0;
	int neg = 0, k = 0, seen = 0, point = 0;

	if (f.n > 0 && f.p[0] == '-' && allow_neg) {
		neg = 1;
		i = 1;
	}
	for (; i < f.n; i++) {
		char c = f.p[i];

		if (c == '.' && !point) {
			point = 1;
			continue;
		}
		if (!is_digit(c))
			return -1;
		seen = 1;
		if (mant >= 10000000000000000ULL || k >= POW10_MAX) {
			if (!point)
				return -1;
			continue; /* fraction digit beyond precision */
		}
		mant = mant * 10 + (uint64_t)(c - '0');
		if (point)
			k++;
	}
	if (!seen)
		return -1;
	*out = (double)mant / pow10_tab[k];
	if (neg)
		*out = -*out;
	return 0;
}

/*
 * Parses NMEA latitude/longitude text: [d]dd or ddd degrees then two digits
 * of whole minutes, optionally '.' and any number of decimals. The result is
 * (deg*60*10^k + minutes*10^k) / (60*10^k) computed in one division of two
 * exact integers, i.e. correctly rounded for the first COORD_DECIMALS
 * decimals. Minutes must be < 60 and the value <= maxdeg. Returns 0 or -1.
 */
static int parse_coord(struct field f, int maxdeg, double *out)
{
	size_t ip = 0, i;
	int deg, mm, k = 0;
	uint64_t frac = 0, num;

	while (ip < f.n && is_digit(f.p[ip]))
		ip++;
	if (ip < 3 || ip > 5)
		return -1;
	if (ip < f.n) {
		if (f.p[ip] != '.')
			return -1;
		for (i = ip + 1; i < f.n; i++) {
			if (!is_digit(f.p[i]))
				return -1;
			if (k < COORD_DECIMALS) {
				frac = frac * 10 + (uint64_t)(f.p[i] - '0');
				k++;
			}
		}
	}
	deg = digits(f.p, ip - 2);
	mm = digits(f.p + ip - 2, 2);
	if (mm >= 60 || deg > maxdeg || (deg == maxdeg && (mm > 0 || frac > 0)))
		return -1;
	num = ((uint64_t)deg * 60 + (uint64_t)mm) * (uint64_t)pow10_tab[k] + frac;
	*out = (double)num / (60.0 * pow10_tab[k]);
	return 0;
}

/* hhmmss[.f...] -> ms of the day. The fraction is truncated to ms. A leap
 * second (23:59:60) becomes 23:59:59.999: Unix time has no 60th second. */
static int parse_time(struct field f, int32_t *tod_ms)
{
	int hh, mi, ss, ms = 0;
	size_t i;

	if (f.n < 6)
		return -1;
	hh = digits(f.p, 2);
	mi = digits(f.p + 2, 2);
	ss = digits(f.p + 4, 2);
	if (hh < 0 || mi < 0 || ss < 0 || hh > 23 || mi > 59)
		return -1;
	if (f.n > 6) {
		if (f.p[6] != '.')
			return -1;
		for (i = 7; i < f.n; i++) {
			if (!is_digit(f.p[i]))
				return -1;
			if (i < 10)
				ms += (f.p[i] - '0') * (i == 7 ? 100 : i == 8 ? 10 : 1);
		}
	}
	if (ss == 60 && hh == 23 && mi == 59) {
		ss = 59;
		ms = 999;
	} else if (ss > 59) {
		return -1;
	}
	*tod_ms = (int32_t)(((hh * 60 + mi) * 60 + ss) * 1000 + ms);
	return 0;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int dim[12] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* ddmmyy; two-digit years pivot at 80 (yy < 80 -> 20yy, else 19yy). */
static int parse_date(struct field f, int *y, int *m, int *d)
{
	if (f.n != 6)
		return -1;
	*d = digits(f.p, 2);
	*m = digits(f.p + 2, 2);
	*y = digits(f.p + 4, 2);
	if (*d < 0 || *m < 0 || *y < 0)
		return -1;
	*y += *y < 80 ? 2000 : 1900;
	if (*m < 1 || *m > 12 || *d < 1 || *d > days_in_month(*y, *m))
		return -1;
	return 0;
}

int64_t nmea_days_from_civil(int year, int month, int day)
{
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* ------------------------------------------------------------------ sentences */

uint8_t nmea_checksum(const char *p, size_t len)
{
	uint8_t x = 0;
	size_t i;

	for (i = 0; i < len; i++)
		x ^= (uint8_t)p[i];
	return x;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* "*hh" at p[0..n) exactly; returns the byte or -1. */
static int parse_star_hex(const char *p, size_t n)
{
	int hi, lo;

	if (n != 3 || p[0] != '*')
		return -1;
	hi = hexval(p[1]);
	lo = hexval(p[2]);
	if (hi < 0 || lo < 0)
		return -1;
	return hi << 4 | lo;
}

/*
 * Skips an NMEA 4.0 tag block "\...\" at *pp. Its content may end in its
 * own "*hh", checked when present. Returns 0, or NMEA_ESYNTAX /
 * NMEA_ECHECKSUM.
 */
static int skip_tag_block(const char **pp, size_t *plen)
{
	const char *p = *pp, *end, *star;
	size_t n;

	end = memchr(p + 1, '\\', *plen - 1);
	if (!end)
		return NMEA_ESYNTAX;
	n = (size_t)(end - (p + 1));
	star = memchr(p + 1, '*', n);
	if (star) {
		int want = parse_star_hex(star, (size_t)(end - star));

		if (want < 0)
			return NMEA_ESYNTAX;
		if (nmea_checksum(p + 1, (size_t)(star - (p + 1))) != want)
			return NMEA_ECHECKSUM;
	}
	*plen -= (size_t)(end + 1 - p);
	*pp = end + 1;
	return 0;
}

/* Both four-field groups empty -> no position; all present -> parsed. */
static int parse_position(const struct field *f, size_t nf, size_t first,
			  struct nmea_sentence *out)
{
	size_t i, present = 0;

	for (i = first; i < first + 4; i++)
		if (i < nf && f[i].n > 0)
			present++;
	if (present == 0)
		return 0;
	for (i = first; i < first + 4; i++) {
		if (i >= nf || f[i].n == 0) {
			out->err_field = (int)i;
			return NMEA_EFIELD;
		}
	}
	out->err_field = (int)first;
	if (parse_coord(f[first], 90, &out->lat) < 0)
		return NMEA_EFIELD;
	out->err_field = (int)first + 1;
	if (f[first + 1].n != 1 ||
	    (f[first + 1].p[0] != 'N' && f[first + 1].p[0] != 'S'))
		return NMEA_EFIELD;
	out->err_field = (int)first + 2;
	if (parse_coord(f[first + 2], 180, &out->lon) < 0)
		return NMEA_EFIELD;
	out->err_field = (int)first + 3;
	if (f[first + 3].n != 1 ||
	    (f[first + 3].p[0] != 'E' && f[first + 3].p[0] != 'W'))
		return NMEA_EFIELD;
	out->err_field = 0;
	if (f[first + 1].p[0] == 'S')
		out->lat = -out->lat;
	if (f[first + 3].p[0] == 'W')
		out->lon = -out->lon;
	out->has_pos = 1;
	return 0;
}

static int parse_time_field(struct field f, struct nmea_sentence *out)
{
	if (f.n == 0)
		return 0;
	if (parse_time(f, &out->tod_ms) < 0) {
		out->err_field = 1;
		return NMEA_EFIELD;
	}
	out->has_time = 1;
	return 0;
}

#define FAIL_AT(i)                                                            \
	do {                                                                  \
		out->err_field = (i);                                         \
		return NMEA_EFIELD;                                           \
	} while (0)

/* $--RMC: 1 time, 2 status, 3-6 position, 7 speed kn, 8 course, 9 date,
 * 10-11 magnetic variation (unused), 12 mode, 13 nav status (unused). */
static int parse_rmc(const struct field *f, size_t nf,
		     struct nmea_sentence *out)
{
	int r;

	if (nf < 10) /* f[0] is the address, so fields 1..9 */
		return NMEA_ESHORT;
	if ((r = parse_time_field(f[1], out)) < 0)
		return r;
	if (f[2].n > 1 ||
	    (f[2].n == 1 && f[2].p[0] != 'A' && f[2].p[0] != 'V'))
		FAIL_AT(2);
	out->status = f[2].n ? f[2].p[0] : '\0';
	if ((r = parse_position(f, nf, 3, out)) < 0)
		return r;
	if (f[7].n > 0) {
		if (parse_decimal(f[7], 0, &out->speed_kn) < 0)
			FAIL_AT(7);
		out->has_speed = 1;
	}
	if (f[8].n > 0) {
		if (parse_decimal(f[8], 0, &out->course) < 0 ||
		    out->course > 360.0)
			FAIL_AT(8);
		if (out->course == 360.0)
			out->course = 0.0;
		out->has_course = 1;
	}
	if (f[9].n > 0) {
		if (parse_date(f[9], &out->year, &out->month, &out->day) < 0)
			FAIL_AT(9);
		out->has_date = 1;
	}
	if (nf > 12 && f[12].n > 0) {
		if (f[12].n != 1 || f[12].p[0] < 'A' || f[12].p[0] > 'Z')
			FAIL_AT(12);
		out->mode = f[12].p[0];
	}
	out->valid = out->status == 'A' && out->mode != 'N';
	return NMEA_OK;
}

/* $--GGA: 1 time, 2-5 position, 6 quality, 7 satellites, 8 HDOP,
 * 9-10 altitude and unit, 11-12 geoid separation, 13 DGPS age, 14 station. */
static int parse_gga(const struct field *f, size_t nf,
		     struct nmea_sentence *out)
{
	int r;

	if (nf < 7)
		return NMEA_ESHORT;
	if ((r = parse_time_field(f[1], out)) < 0)
		return r;
	if ((r = parse_position(f, nf, 2, out)) < 0)
		return r;
	if (f[6].n > 0) {
		if (f[6].n != 1 || !is_digit(f[6].p[0]))
			FAIL_AT(6);
		out->quality = f[6].p[0] - '0';
	}
	if (nf > 7 && f[7].n > 0) {
		if (f[7].n > 3 || (out->satellites = digits(f[7].p, f[7].n)) < 0)
			FAIL_AT(7);
	}
	if (nf > 8 && f[8].n > 0) {
		if (parse_decimal(f[8], 0, &out->hdop) < 0)
			FAIL_AT(8);
		out->has_hdop = 1;
	}
	if (nf > 9 && f[9].n > 0) {
		if (parse_decimal(f[9], 1, &out->altitude_m) < 0)
			FAIL_AT(9);
		/* an altitude in another unit than metres is not used */
		out->has_altitude = !(nf > 10 && f[10].n > 0 &&
				      !(f[10].n == 1 && f[10].p[0] == 'M'));
	}
	out->valid = out->quality > 0;
	return NMEA_OK;
}

/* $PSWID,<id>: the id is 1..NMEA_MAX_ID decimal digits. Later fields, if a
 * future version adds any, are ignored like everywhere else. */
static int parse_pswid(const struct field *f, size_t nf,
		       struct nmea_sentence *out)
{
	size_t i;

	if (nf < 2)
		return NMEA_ESHORT;
	if (f[1].n == 0 || f[1].n > NMEA_MAX_ID)
		FAIL_AT(1);
	for (i = 0; i < f[1].n; i++)
		if (!is_digit(f[1].p[i]))
			FAIL_AT(1);
	memcpy(out->id, f[1].p, f[1].n);
	out->id[f[1].n] = '\0';
	return NMEA_OK;
}

int nmea_parse(const char *line, size_t len, struct nmea_sentence *out)
{
	struct field f[MAX_FIELDS];
	const char *p = line, *star, *body, *q, *end;
	size_t nf, i, alen;
	int r, want;

	memset(out, 0, sizeof(*out));
	out->satellites = -1;

	while (len > 0 && (p[0] == ' ' || p[0] == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && is_space(p[len - 1]))
		len--;
	if (len > NMEA_MAX_LINE)
		return NMEA_ETOOLONG;
	if (len > 0 && p[0] == '\\' && (r = skip_tag_block(&p, &len)) < 0)
		return r;
	if (len < 2 || (p[0] != '$' && p[0] != '!'))
		return NMEA_ESYNTAX;
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] > 0x7e)
			return NMEA_ESYNTAX;

	star = memchr(p, '*', len);
	if (!star)
		return NMEA_ENOCHECKSUM;
	want = parse_star_hex(star, (size_t)(p + len - star));
	if (want < 0)
		return NMEA_ESYNTAX;
	body = p + 1;
	if (nmea_checksum(body, (size_t)(star - body)) != want)
		return NMEA_ECHECKSUM;

	/* split the body into fields; f[0] is the address */
	end = star;
	for (nf = 0, q = body; nf < MAX_FIELDS;) {
		const char *c = memchr(q, ',', (size_t)(end - q));

		f[nf].p = q;
		f[nf].n = (size_t)((c ? c : end) - q);
		nf++;
		if (!c)
			break;
		q = c + 1;
	}

	alen = f[0].n;
	if (alen < 1 || alen > 15)
		return NMEA_ESYNTAX;
	for (i = 0; i < alen; i++) {
		char c = f[0].p[i];

		if (!((c >= 'A' && c <= 'Z') || is_digit(c)))
			return NMEA_ESYNTAX;
	}
	memcpy(out->address, f[0].p, alen < 7 ? alen : 7);
	if (p[0] == '$' && f[0].p[0] != 'P' && alen >= 3) {
		out->talker[0] = f[0].p[0];
		out->talker[1] = f[0].p[1];
	}

	if (p[0] == '$' && alen == 5 && f[0].p[0] != 'P' &&
	    f[0].p[0] >= 'A' && f[0].p[0] <= 'Z' &&
	    f[0].p[1] >= 'A' && f[0].p[1] <= 'Z') {
		if (memcmp(f[0].p + 2, "RMC", 3) == 0) {
			out->type = NMEA_RMC;
			return parse_rmc(f, nf, out);
		}
		if (memcmp(f[0].p + 2, "GGA", 3) == 0) {
			out->type = NMEA_GGA;
			return parse_gga(f, nf, out);
		}
	}
	if (p[0] == '$' && alen == 5 && memcmp(f[0].p, "PSWID", 5) == 0) {
		out->type = NMEA_PSWID;
		return parse_pswid(f, nf, out);
	}
	return NMEA_IGNORED;
}

/* ------------------------------------------------------------------ fixes */

void nmea_session_init(struct nmea_session *s)
{
	memset(s, 0, sizeof(*s));
}

static int is_gn(const char *talker)
{
	return talker[0] == 'G' && talker[1] == 'N';
}

static int64_t absdiff(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}

/*
 * Gives the sentence its UTC epoch: its own date (RMC), else the anchor's
 * date adjusted by the midnight rule. The result becomes the new anchor, so
 * a stream of GGAs keeps rolling over midnight after the last RMC. Returns 0
 * when the sentence cannot be dated.
 */
static int date_sentence(struct nmea_session *s, const struct nmea_sentence *in,
			 int64_t *t)
{
	int64_t day_ms;

	if (!in->has_time)
		return 0;
	if (in->has_date) {
		day_ms = nmea_days_from_civil(in->year, in->month, in->day) *
			 DAY_MS;
	} else if (s->have_anchor) {
		int32_t d = in->tod_ms - s->anchor_tod_ms;

		day_ms = s->anchor_day_ms;
		if (d < -HALF_DAY_MS)
			day_ms += DAY_MS;
		else if (d > HALF_DAY_MS)
			day_ms -= DAY_MS;
	} else {
		return 0;
	}
	s->have_anchor = 1;
	s->anchor_day_ms = day_ms;
	s->anchor_tod_ms = in->tod_ms;
	*t = day_ms + in->tod_ms;
	return 1;
}

/* Fills the common part of a fix; returns 0 when it carries no usable
 * position (none, or an invalid 0/0). */
static int fix_from(const struct nmea_sentence *in, int64_t t,
		    struct nmea_fix *fx)
{
	if (!in->has_pos || (!in->valid && in->lat == 0.0 && in->lon == 0.0))
		return 0;
	memset(fx, 0, sizeof(*fx));
	fx->time_ms = t;
	fx->lat = in->lat;
	fx->lon = in->lon;
	fx->valid = in->valid;
	fx->satellites = -1;
	fx->quality = -1;
	memcpy(fx->talker, in->talker, sizeof(fx->talker));
	return 1;
}

/* A held GGA whose RMC never came is released, not lost, as soon as a
 * later epoch shows up. Returns the number of fixes written to out. */
static int release_older(struct nmea_session *s, int64_t t, struct nmea_fix *out)
{
	if (!s->have_pending || s->pending.time_ms >= t)
		return 0;
	s->have_pending = 0;
	if (s->have_emitted && s->pending.time_ms == s->last_emit_ms)
		return 0;
	s->have_emitted = 1;
	s->last_emit_ms = s->pending.time_ms;
	*out = s->pending;
	return 1;
}

static int feed_rmc(struct nmea_session *s, const struct nmea_sentence *in,
		    struct nmea_fix *out)
{
	struct nmea_fix fx;
	int64_t t;
	int n;

	if (!date_sentence(s, in, &t))
		return 0;
	n = release_older(s, t, out);
	out += n;
	s->have_rmc = 1;
	s->last_rmc_ms = t;
	if (is_gn(in->talker)) {
		s->have_gn_rmc = 1;
		s->last_gn_rmc_ms = t;
	} else if (s->have_gn_rmc && absdiff(t, s->last_gn_rmc_ms) <= GN_HOLD_MS) {
		return n;
	}
	if (s->have_emitted && t == s->last_emit_ms)
		return n;
	if (!fix_from(in, t, &fx))
		return n;
	fx.has_speed = in->has_speed;
	fx.speed_kn = in->speed_kn;
	fx.has_course = in->has_course;
	fx.course = in->course;
	if (s->have_pending && s->pending.time_ms == t) {
		fx.has_altitude = s->pending.has_altitude;
		fx.altitude_m = s->pending.altitude_m;
		fx.satellites = s->pending.satellites;
		fx.quality = s->pending.quality;
		fx.has_hdop = s->pending.has_hdop;
		fx.hdop = s->pending.hdop;
	}
	s->have_pending = 0;
	s->have_emitted = 1;
	s->last_emit_ms = t;
	*out = fx;
	return n + 1;
}

static int feed_gga(struct nmea_session *s, const struct nmea_sentence *in,
		    struct nmea_fix *out)
{
	struct nmea_fix fx;
	int64_t t;
	int paired, n;

	if (!date_sentence(s, in, &t))
		return 0;
	n = release_older(s, t, out);
	out += n;
	if (!s->have_gga || t != s->last_gga_ms) {
		s->have_prev_gga = s->have_gga;
		s->prev_gga_ms = s->last_gga_ms;
		s->have_gga = 1;
		s->last_gga_ms = t;
	}
	if (is_gn(in->talker)) {
		s->have_gn_gga = 1;
		s->last_gn_gga_ms = t;
	} else if (s->have_gn_gga && absdiff(t, s->last_gn_gga_ms) <= GN_HOLD_MS) {
		return n;
	}
	if (s->have_emitted && t == s->last_emit_ms)
		return n;
	if (!fix_from(in, t, &fx))
		return n;
	fx.has_altitude = in->has_altitude;
	fx.altitude_m = in->altitude_m;
	fx.satellites = in->satellites;
	fx.quality = in->quality;
	fx.has_hdop = in->has_hdop;
	fx.hdop = in->hdop;
	/* the source pairs GGA with RMC if an RMC came for the previous GGA's
	 * epoch (or there was no previous GGA): then wait for this epoch's */
	paired = s->have_rmc &&
		 (!s->have_prev_gga || s->last_rmc_ms >= s->prev_gga_ms);
	if (paired) {
		s->have_pending = 1;
		s->pending = fx;
		return n;
	}
	s->have_pending = 0;
	s->have_emitted = 1;
	s->last_emit_ms = t;
	*out = fx;
	return n + 1;
}

int nmea_session_feed(struct nmea_session *s, const struct nmea_sentence *in,
		      struct nmea_fix out[NMEA_FIXES_MAX])
{
	switch (in->type) {
	case NMEA_RMC:
		return feed_rmc(s, in, out);
	case NMEA_GGA:
		return feed_gga(s, in, out);
	}
	return 0;
}
