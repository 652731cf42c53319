/* jt808.c -- JT/T 808 (2011/2013/2019) codec: framing, headers, bodies. */
#include "jt808.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

/* ------------------------------------------------------------------ helpers */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

const char *jt808_strerror(int err)
{
	switch (err) {
	case JT808_OK:
		return "ok";
	case JT808_ESHORT:
		return "message too short";
	case JT808_ECHECK:
		return "check code mismatch";
	case JT808_EESCAPE:
		return "invalid escape sequence";
	case JT808_ELENGTH:
		return "body length does not match the frame size";
	case JT808_ETOOLONG:
		return "frame too long";
	case JT808_EBODY:
		return "malformed message body";
	case JT808_ESPACE:
		return "output buffer too small";
	case JT808_ETIME:
		return "invalid BCD time";
	}
	return "unknown error";
}

/*
 * Converts between GBK and UTF-8 with glibc iconv. in/len is not
 * NUL-terminated. The output is always NUL-terminated; when it does not fit it
 * is cut at a character boundary (iconv stops before a character that does
 * not fit). Returns the output length, or -1 when the converter is missing or
 * the input is not valid in the source charset.
 */
static int conv_text(const char *to, const char *from, const uint8_t *in,
		     size_t len, char *out, size_t cap)
{
	iconv_t cd;
	char *ip = (char *)in, *op = out;
	size_t il = len, ol = cap - 1, r;

	if (cap == 0)
		return -1;
	cd = iconv_open(to, from);
	if (cd == (iconv_t)-1)
		return -1;
	r = iconv(cd, &ip, &il, &op, &ol);
	iconv_close(cd);
	if (r == (size_t)-1 && errno != E2BIG)
		return -1;
	*op = '\0';
	return (int)(op - out);
}

/*
 * Decodes a fixed-width or trailing text field: stops at the first NUL, drops
 * trailing spaces, converts GBK to UTF-8. Undecodable bytes never fail the
 * message: the field then keeps its printable ASCII and '?' for the rest.
 */
static void get_text(const uint8_t *p, size_t len, char *out, size_t cap)
{
	const uint8_t *nul = memchr(p, 0, len);
	size_t i, n;

	if (nul)
		len = (size_t)(nul - p);
	while (len > 0 && p[len - 1] == ' ')
		len--;
	if (conv_text("UTF-8", "GB18030", p, len, out, cap) >= 0)
		return;
	for (i = 0, n = 0; i < len && n + 1 < cap; i++)
		out[n++] = (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '?';
	out[n] = '\0';
}

/* Writes s (UTF-8) as GBK into a field of exactly w bytes, 0x00-padded.
 * Returns 0, or JT808_EBODY when it does not convert or does not fit. */
static int put_text_fixed(uint8_t *p, size_t w, const char *s)
{
	char tmp[128];
	size_t sl = strlen(s);
	int n;

	/* GBK is never longer than UTF-8, so tmp cannot be cut short */
	if (sl >= sizeof(tmp))
		return JT808_EBODY;
	n = conv_text("GBK", "UTF-8", (const uint8_t *)s, sl, tmp, sizeof(tmp));
	if (n < 0 || (size_t)n > w)
		return JT808_EBODY;
	memset(p, 0, w);
	memcpy(p, tmp, (size_t)n);
	return 0;
}

/* ------------------------------------------------------------------ framing */

void jt808_framer_init(struct jt808_framer *f)
{
	memset(f, 0, sizeof(*f));
}

static void framer_restart(struct jt808_framer *f, int in_frame)
{
	f->len = 0;
	f->in_frame = in_frame;
	f->pending_7d = 0;
	f->bad = 0;
	f->bad_err = 0;
}

static void framer_mark_bad(struct jt808_framer *f, int err)
{
	if (!f->bad) {
		f->bad = 1;
		f->bad_err = err;
	}
}

/*
 * Each 0x7E both ends the current frame and starts the next one, so
 * "...7E 7E..." between frames yields an empty frame, which is skipped. A
 * frame with a bad escape is reported once its closing flag arrives; a frame
 * that outgrows the buffer is reported at once and the framer then hunts for
 * the next flag (the overflowing bytes are thrown away).
 */
int jt808_framer_push(struct jt808_framer *f, const uint8_t *data, size_t len,
		      jt808_frame_cb cb, void *user)
{
	size_t i;
	int r;

	for (i = 0; i < len; i++) {
		uint8_t b = data[i];

		if (b == 0x7E) {
			size_t n = f->len;
			int was = f->in_frame, bad = f->bad, err = f->bad_err;

			if (was && f->pending_7d) {
				bad = 1;
				err = JT808_EESCAPE;
			}
			framer_restart(f, 1);
			if (!was)
				continue;
			if (bad)
				r = cb(user, NULL, 0, err);
			else if (n > 0)
				r = cb(user, f->buf, n, JT808_OK);
			else
				r = 0;
			if (r)
				return r;
			continue;
		}
		if (!f->in_frame)
			continue; /* garbage before a flag */
		if (f->pending_7d) {
			f->pending_7d = 0;
			if (b == 0x01)
				b = 0x7D;
			else if (b == 0x02)
				b = 0x7E;
			else
				framer_mark_bad(f, JT808_EESCAPE);
		} else if (b == 0x7D) {
			f->pending_7d = 1;
			continue;
		}
		if (f->len >= sizeof(f->buf)) {
			framer_restart(f, 0);
			r = cb(user, NULL, 0, JT808_ETOOLONG);
			if (r)
				return r;
			continue;
		}
		/* a bad frame still counts its length, so garbage ends as
		 * ETOOLONG rather than growing forever */
		if (!f->bad)
			f->buf[f->len] = b;
		f->len++;
	}
	return 0;
}

int jt808_unescape(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		uint8_t b = in[i];

		if (b == 0x7E)
			return JT808_EESCAPE; /* a flag cannot be inside */
		if (b == 0x7D) {
			if (i + 1 >= len)
				return JT808_EESCAPE;
			b = in[++i];
			if (b == 0x01)
				b = 0x7D;
			else if (b == 0x02)
				b = 0x7E;
			else
				return JT808_EESCAPE;
		}
		if (n >= cap)
			return JT808_ESPACE;
		out[n++] = b;
	}
	return (int)n;
}

int jt808_escape_frame(const uint8_t *in, size_t len, uint8_t *out,
		       size_t cap)
{
	size_t i, n = 0;

	if (cap < 2)
		return JT808_ESPACE;
	out[n++] = 0x7E;
	for (i = 0; i < len; i++) {
		uint8_t b = in[i];

		if (b == 0x7E || b == 0x7D) {
			if (n + 2 > cap - 1)
				return JT808_ESPACE;
			out[n++] = 0x7D;
			out[n++] = b == 0x7E ? 0x02 : 0x01;
		} else {
			if (n + 1 > cap - 1)
				return JT808_ESPACE;
			out[n++] = b;
		}
	}
	out[n++] = 0x7E;
	return (int)n;
}

uint8_t jt808_checksum(const uint8_t *p, size_t len)
{
	uint8_t x = 0;

	while (len--)
		x ^= *p++;
	return x;
}

/* ------------------------------------------------------------------ header */

/* Appends the Luhn check digit to the decimal digits in s (as traccar does
 * for binary IMEIs). s must have room for one more character. */
static void luhn_append(char *s)
{
	size_t n = strlen(s), i;
	int sum = 0, dbl = 1;

	for (i = n; i-- > 0; dbl = !dbl) {
		int d = s[i] - '0';

		if (dbl) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	s[n] = (char)('0' + (10 - sum % 10) % 10);
	s[n + 1] = '\0';
}

/*
 * Phone bytes to the terminal identity string. BCD: the digits without
 * leading zeros ("0" when all zero). Otherwise a binary IMEI: the last six
 * bytes read as hi16 << 32 | lo32 plus a Luhn digit, as traccar computes it;
 * a 10-byte field whose first four bytes are not zero falls back to hex.
 */
static void phone_to_str(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t i, k = 0;
	int bcd = 1;

	for (i = 0; i < n; i++)
		if ((p[i] >> 4) > 9 || (p[i] & 0x0F) > 9)
			bcd = 0;
	if (bcd) {
		for (i = 0; i < 2 * n; i++) {
			int d = i & 1 ? p[i / 2] & 0x0F : p[i / 2] >> 4;

			if (k == 0 && d == 0)
				continue;
			if (k + 1 < cap)
				out[k++] = (char)('0' + d);
		}
		if (k == 0)
			out[k++] = '0';
		out[k] = '\0';
		return;
	}
	for (i = 0; i + 6 < n; i++)
		if (p[i])
			break;
	if (i + 6 == n) {
		const uint8_t *q = p + n - 6;
		uint64_t v = ((uint64_t)rd16(q) << 32) + rd32(q + 2);
		char tmp[24];
		int t = 0;

		do {
			tmp[t++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		while (t > 0 && k + 2 < cap)
			out[k++] = tmp[--t];
		out[k] = '\0';
		luhn_append(out);
		return;
	}
	for (i = 0; i < n && k + 2 < cap; i++) {
		static const char hex[] = "0123456789ABCDEF";

		out[k++] = hex[p[i] >> 4];
		out[k++] = hex[p[i] & 0x0F];
	}
	out[k] = '\0';
}

/*
 * The check code is verified first, on the unescaped content. The header
 * layout follows bit 14, except that a device setting bit 14 with a 2013
 * header is accepted when the 12/16-byte layout is the one whose size matches
 * the frame. The body length must then match the frame exactly.
 */
int jt808_decode(const uint8_t *content, size_t len, struct jt808_msg *out)
{
	struct jt808_header *h = &out->h;
	size_t sub, hl13, hl19, hl;
	uint16_t props, blen;
	const uint8_t *p;

	memset(out, 0, sizeof(*out));
	if (len < 12 + 1)
		return JT808_ESHORT;
	if (jt808_checksum(content, len - 1) != content[len - 1])
		return JT808_ECHECK;

	props = rd16(content + 2);
	blen = props & 0x3FF;
	sub = (props & 0x2000) ? 4 : 0;
	hl13 = 12 + sub;
	hl19 = 17 + sub;
	if (props & 0x4000) {
		if (hl19 + blen + 1 == len) {
			h->v2019 = 1;
			hl = hl19;
		} else if (hl13 + blen + 1 == len) {
			hl = hl13;
		} else {
			return len < hl13 + 1 ? JT808_ESHORT : JT808_ELENGTH;
		}
	} else {
		hl = hl13;
		if (len < hl + 1)
			return JT808_ESHORT;
		if (hl + blen + 1 != len)
			return JT808_ELENGTH;
	}

	h->msg_id = rd16(content);
	h->props = props;
	h->body_len = blen;
	h->encryption = (uint8_t)((props >> 10) & 0x07);
	h->subpackage = sub ? 1 : 0;
	h->header_len = (uint8_t)hl;
	p = content + 4;
	if (h->v2019) {
		h->proto_ver = *p++;
		h->phone_len = 10;
	} else {
		h->phone_len = 6;
	}
	memcpy(h->phone, p, h->phone_len);
	phone_to_str(p, h->phone_len, h->phone_str, sizeof(h->phone_str));
	p += h->phone_len;
	h->serial = rd16(p);
	p += 2;
	if (sub) {
		h->pkt_total = rd16(p);
		h->pkt_no = rd16(p + 2);
	}
	out->body = content + hl;
	out->body_len = blen;
	return JT808_OK;
}

int jt808_encode(const struct jt808_header *like, uint16_t msg_id,
		 uint16_t serial, const uint8_t *body, size_t body_len,
		 uint8_t *out, size_t cap)
{
	uint8_t c[JT808_MAX_CONTENT];
	size_t n = 0, plen = like->v2019 ? 10 : 6, have = like->phone_len;

	if (body_len > JT808_MAX_BODY)
		return JT808_ELENGTH;
	if (have > sizeof(like->phone))
		have = sizeof(like->phone);
	wr16(c, msg_id);
	wr16(c + 2, (uint16_t)(body_len | (like->v2019 ? 0x4000 : 0)));
	n = 4;
	if (like->v2019)
		c[n++] = like->proto_ver;
	/* the terminal's own bytes; right-aligned if its field had the other
	 * width (only possible with a hand-made `like`) */
	memset(c + n, 0, plen);
	if (have >= plen)
		memcpy(c + n, like->phone + have - plen, plen);
	else
		memcpy(c + n + plen - have, like->phone, have);
	n += plen;
	wr16(c + n, serial);
	n += 2;
	if (body_len)
		memcpy(c + n, body, body_len);
	n += body_len;
	c[n] = jt808_checksum(c, n);
	n++;
	return jt808_escape_frame(c, n, out, cap);
}

int jt808_header_for_phone(struct jt808_header *h, const char *phone,
			   int v2019)
{
	size_t len = strlen(phone), plen = v2019 ? 10 : 6, i;
	uint8_t bcd[10];

	memset(h, 0, sizeof(*h));
	if (len == 0 || len > 2 * plen)
		return JT808_EBODY;
	memset(bcd, 0, sizeof(bcd));
	for (i = 0; i < len; i++) {
		char ch = phone[len - 1 - i];
		size_t pos = 2 * plen - 1 - i;

		if (ch < '0' || ch > '9')
			return JT808_EBODY;
		bcd[pos / 2] |= (uint8_t)((ch - '0') << (pos & 1 ? 0 : 4));
	}
	h->v2019 = v2019 ? 1 : 0;
	h->proto_ver = v2019 ? 1 : 0;
	h->phone_len = (uint8_t)plen;
	memcpy(h->phone, bcd, plen);
	phone_to_str(bcd, plen, h->phone_str, sizeof(h->phone_str));
	h->header_len = v2019 ? 17 : 12;
	return JT808_OK;
}

/* ------------------------------------------------------------------ bodies */

int jt808_parse_response(const uint8_t *body, size_t len,
			 struct jt808_response *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 5)
		return JT808_ESHORT;
	out->ack_serial = rd16(body);
	out->ack_id = rd16(body + 2);
	out->result = body[4];
	return JT808_OK;
}

int jt808_body_response(const struct jt808_response *r, uint8_t *out,
			size_t cap)
{
	if (cap < 5)
		return JT808_ESPACE;
	wr16(out, r->ack_serial);
	wr16(out + 2, r->ack_id);
	out[4] = r->result;
	return 5;
}

/* Field widths of 0x0100 per layout: maker, model, terminal id. */
struct reg_layout {
	int year;
	size_t maker, model, tid;
};

static const struct reg_layout reg_layouts[] = {
	{ 2011, 5, 8, 7 },
	{ 2013, 5, 20, 7 },
	{ 2019, 11, 30, 30 },
};

static const struct reg_layout *reg_layout_of(int year)
{
	size_t i;

	for (i = 0; i < sizeof(reg_layouts) / sizeof(reg_layouts[0]); i++)
		if (reg_layouts[i].year == year)
			return &reg_layouts[i];
	return NULL;
}

static size_t reg_fixed(const struct reg_layout *l)
{
	return 4 + l->maker + l->model + l->tid + 1;
}

/*
 * A 2019 header means the 2019 layout. Otherwise 2011 and 2013 share a
 * header and are told apart by the body length: the 2013 fixed part is 37
 * bytes, the 2011 one 25 (so a 2011 body with a plate longer than 11 bytes
 * would be read as 2013; real 2011 plates are 7-8 bytes).
 */
int jt808_parse_register(const uint8_t *body, size_t len, int v2019,
			 struct jt808_register *out)
{
	const struct reg_layout *l;
	const uint8_t *p = body;

	memset(out, 0, sizeof(*out));
	if (v2019)
		l = reg_layout_of(2019);
	else if (len >= reg_fixed(reg_layout_of(2013)))
		l = reg_layout_of(2013);
	else
		l = reg_layout_of(2011);
	if (len < reg_fixed(l))
		return JT808_ESHORT;
	out->layout = l->year;
	out->province = rd16(p);
	out->city = rd16(p + 2);
	p += 4;
	get_text(p, l->maker, out->maker, sizeof(out->maker));
	p += l->maker;
	get_text(p, l->model, out->model, sizeof(out->model));
	p += l->model;
	get_text(p, l->tid, out->terminal_id, sizeof(out->terminal_id));
	p += l->tid;
	out->plate_color = *p++;
	get_text(p, len - (size_t)(p - body), out->plate, sizeof(out->plate));
	return JT808_OK;
}

int jt808_body_register(const struct jt808_register *r, uint8_t *out,
			size_t cap)
{
	const struct reg_layout *l = reg_layout_of(r->layout);
	uint8_t b[JT808_MAX_BODY];
	size_t n;
	int k;

	if (!l)
		return JT808_EBODY;
	wr16(b, r->province);
	wr16(b + 2, r->city);
	n = 4;
	if (put_text_fixed(b + n, l->maker, r->maker))
		return JT808_EBODY;
	n += l->maker;
	if (put_text_fixed(b + n, l->model, r->model))
		return JT808_EBODY;
	n += l->model;
	if (put_text_fixed(b + n, l->tid, r->terminal_id))
		return JT808_EBODY;
	n += l->tid;
	b[n++] = r->plate_color;
	k = conv_text("GBK", "UTF-8", (const uint8_t *)r->plate,
		      strlen(r->plate), (char *)b + n, sizeof(b) - n);
	if (k < 0)
		return JT808_EBODY;
	n += (size_t)k;
	if (n > cap)
		return JT808_ESPACE;
	memcpy(out, b, n);
	return (int)n;
}

int jt808_body_register_response(const struct jt808_register_response *r,
				 uint8_t *out, size_t cap)
{
	size_t code = r->result == 0 ? strnlen(r->auth_code,
					      sizeof(r->auth_code)) : 0;

	if (cap < 3 + code)
		return JT808_ESPACE;
	wr16(out, r->ack_serial);
	out[2] = r->result;
	memcpy(out + 3, r->auth_code, code);
	return (int)(3 + code);
}

int jt808_parse_register_response(const uint8_t *body, size_t len,
				  struct jt808_register_response *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 3)
		return JT808_ESHORT;
	out->ack_serial = rd16(body);
	out->result = body[2];
	if (out->result != 0)
		return JT808_OK;
	if (len - 3 >= sizeof(out->auth_code))
		return JT808_EBODY;
	memcpy(out->auth_code, body + 3, len - 3);
	return JT808_OK;
}

/* The auth code is compared byte for byte later, so it is kept raw (up to a
 * NUL) rather than converted. */
int jt808_parse_auth(const uint8_t *body, size_t len, int v2019,
		     struct jt808_auth *out)
{
	size_t n;

	memset(out, 0, sizeof(*out));
	if (!v2019) {
		if (len == 0)
			return JT808_ESHORT;
		if (len >= sizeof(out->code))
			return JT808_EBODY;
		memcpy(out->code, body, len);
		return JT808_OK;
	}
	if (len < 1)
		return JT808_ESHORT;
	n = body[0];
	if (len < 1 + n + 15 + 20)
		return JT808_ESHORT;
	if (n == 0 || n >= sizeof(out->code))
		return JT808_EBODY;
	memcpy(out->code, body + 1, n);
	get_text(body + 1 + n, 15, out->imei, sizeof(out->imei));
	get_text(body + 1 + n + 15, 20, out->sw_version,
		 sizeof(out->sw_version));
	return JT808_OK;
}

int jt808_body_auth(const struct jt808_auth *a, int v2019, uint8_t *out,
		    size_t cap)
{
	size_t n = strnlen(a->code, sizeof(a->code));
	size_t il = strnlen(a->imei, sizeof(a->imei));
	size_t sl = strnlen(a->sw_version, sizeof(a->sw_version));

	if (n == 0 || n >= sizeof(a->code))
		return JT808_EBODY;
	if (!v2019) {
		if (cap < n)
			return JT808_ESPACE;
		memcpy(out, a->code, n);
		return (int)n;
	}
	if (il > 15 || sl > 20)
		return JT808_EBODY;
	if (cap < 1 + n + 15 + 20)
		return JT808_ESPACE;
	out[0] = (uint8_t)n;
	memcpy(out + 1, a->code, n);
	memset(out + 1 + n, 0, 35);
	memcpy(out + 1 + n, a->imei, il);
	memcpy(out + 1 + n + 15, a->sw_version, sl);
	return (int)(1 + n + 35);
}

/* ------------------------------------------------------------------ time */

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's
 * days_from_civil), so no TZ environment or libc time function matters. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* BCD[6] YYMMDDhhmmss (20YY) at tz_offset_s to UTC seconds. Returns 0, or
 * JT808_ETIME for a bad nibble or an impossible date. */
static int bcd_time_to_utc(const uint8_t *p, int tz_offset_s, int64_t *out)
{
	static const uint8_t mdays[] = { 31, 28, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31 };
	unsigned v[6];
	int i;

	for (i = 0; i < 6; i++) {
		if ((p[i] >> 4) > 9 || (p[i] & 0x0F) > 9)
			return JT808_ETIME;
		v[i] = (p[i] >> 4) * 10u + (p[i] & 0x0F);
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[3] > 23 || v[4] > 59 ||
	    v[5] > 59)
		return JT808_ETIME;
	if (v[2] > mdays[v[1] - 1] +
			   (unsigned)(v[1] == 2 && is_leap(2000 + v[0])))
		return JT808_ETIME;
	*out = days_from_civil(2000 + v[0], v[1], v[2]) * 86400 +
	       v[3] * 3600 + v[4] * 60 + v[5] - tz_offset_s;
	return 0;
}

static uint8_t to_bcd(unsigned v)
{
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

/* ---------------------------------------------------------------- location */

/*
 * Basic block, then extras while at least two bytes remain. An item running
 * past the body (or a lone trailing byte) ends extras parsing with
 * extras_truncated set; the report itself stays valid. Coordinates beyond
 * 90/180 degrees are rejected (JT808_EBODY). A zero or invalid time is not an
 * error: time_valid is 0 and time is 0.
 */
int jt808_parse_location(const uint8_t *body, size_t len, int tz_offset_s,
			 struct jt808_location *out)
{
	uint32_t lat, lon;
	size_t off;
	int i, zero = 1;

	memset(out, 0, sizeof(*out));
	if (len < 28)
		return JT808_ESHORT;
	out->alarm = rd32(body);
	out->status = rd32(body + 4);
	lat = rd32(body + 8);
	lon = rd32(body + 12);
	if (lat > 90000000u || lon > 180000000u)
		return JT808_EBODY;
	out->lat_e6 = (out->status & 0x4) ? -(int32_t)lat : (int32_t)lat;
	out->lon_e6 = (out->status & 0x8) ? -(int32_t)lon : (int32_t)lon;
	out->lat = out->lat_e6 / 1e6;
	out->lon = out->lon_e6 / 1e6;
	out->altitude_m = (int16_t)rd16(body + 16);
	out->speed_dkmh = rd16(body + 18);
	out->course = rd16(body + 20);
	out->fix_valid = (out->status & 0x2) ? 1 : 0;
	for (i = 0; i < 6; i++)
		if (body[22 + i])
			zero = 0;
	if (!zero && bcd_time_to_utc(body + 22, tz_offset_s, &out->time) == 0)
		out->time_valid = 1;
	else
		out->time = 0;

	for (off = 28; off < len;) {
		uint8_t id, il;
		const uint8_t *v;

		if (len - off < 2 || len - off - 2 < body[off + 1]) {
			out->extras_truncated = 1;
			break;
		}
		id = body[off];
		il = body[off + 1];
		v = body + off + 2;
		off += 2 + (size_t)il;
		if (out->n_extras < JT808_MAX_EXTRAS) {
			struct jt808_extra *e = &out->extras[out->n_extras++];

			e->id = id;
			e->len = il;
			e->value = v;
		}
		if (id == 0x01 && il == 4) {
			out->has_mileage = 1;
			out->mileage_hm = rd32(v);
		} else if (id == 0x30 && il == 1) {
			out->has_signal = 1;
			out->signal = v[0];
		} else if (id == 0x31 && il == 1) {
			out->has_sats = 1;
			out->satellites = v[0];
		}
	}
	return JT808_OK;
}

int jt808_body_location(const struct jt808_location *l, int tz_offset_s,
			uint8_t *out, size_t cap)
{
	uint32_t status = l->status & ~(uint32_t)0xC;
	int64_t lat = l->lat_e6, lon = l->lon_e6;
	size_t n = 28;

	if (lat < 0) {
		status |= 0x4;
		lat = -lat;
	}
	if (lon < 0) {
		status |= 0x8;
		lon = -lon;
	}
	if (lat > 90000000 || lon > 180000000)
		return JT808_EBODY;
	if (l->fix_valid)
		status |= 0x2;
	if (cap < 28u + (l->has_mileage ? 6u : 0u) + (l->has_signal ? 3u : 0u) +
			  (l->has_sats ? 3u : 0u))
		return JT808_ESPACE;
	wr32(out, l->alarm);
	wr32(out + 4, status);
	wr32(out + 8, (uint32_t)lat);
	wr32(out + 12, (uint32_t)lon);
	wr16(out + 16, (uint16_t)l->altitude_m);
	wr16(out + 18, l->speed_dkmh);
	wr16(out + 20, l->course);
	memset(out + 22, 0, 6);
	if (l->time_valid) {
		int64_t t = l->time + tz_offset_s, days, y, sod;
		unsigned m, d;

		days = (t >= 0 ? t : t - 86399) / 86400;
		sod = t - days * 86400;
		civil_from_days(days, &y, &m, &d);
		if (y < 2000 || y > 2099)
			return JT808_ETIME;
		out[22] = to_bcd((unsigned)(y - 2000));
		out[23] = to_bcd(m);
		out[24] = to_bcd(d);
		out[25] = to_bcd((unsigned)(sod / 3600));
		out[26] = to_bcd((unsigned)(sod / 60 % 60));
		out[27] = to_bcd((unsigned)(sod % 60));
	}
	if (l->has_mileage) {
		out[n++] = 0x01;
		out[n++] = 4;
		wr32(out + n, l->mileage_hm);
		n += 4;
	}
	if (l->has_signal) {
		out[n++] = 0x30;
		out[n++] = 1;
		out[n++] = l->signal;
	}
	if (l->has_sats) {
		out[n++] = 0x31;
		out[n++] = 1;
		out[n++] = l->satellites;
	}
	return (int)n;
}

/* ------------------------------------------------------------------ batch */

int jt808_parse_batch(const uint8_t *body, size_t len, struct jt808_batch *b)
{
	size_t off = 0;
	unsigned n = 0;

	memset(b, 0, sizeof(*b));
	if (len < 3)
		return JT808_ESHORT;
	b->count = rd16(body);
	b->type = body[2];
	b->items = body + 3;
	b->items_len = len - 3;
	if (b->count == 0)
		return JT808_EBODY;
	while (off < b->items_len) {
		size_t il;

		if (b->items_len - off < 2)
			return JT808_EBODY;
		il = rd16(b->items + off);
		off += 2;
		if (il < 28 || il > b->items_len - off)
			return JT808_EBODY;
		off += il;
		n++;
	}
	if (n != b->count)
		return JT808_EBODY;
	return JT808_OK;
}

/* The iterator moves past an item even when it fails to parse, so a caller
 * may skip a bad item and go on. */
int jt808_batch_next(struct jt808_batch *b, int tz_offset_s,
		     struct jt808_location *loc)
{
	size_t il;
	int r;

	if (b->seen >= b->count || b->items_len - b->off < 2)
		return 0;
	il = rd16(b->items + b->off);
	if (il > b->items_len - b->off - 2)
		return JT808_EBODY;
	r = jt808_parse_location(b->items + b->off + 2, il, tz_offset_s, loc);
	b->off += 2 + il;
	b->seen++;
	return r < 0 ? r : 1;
}
