/* ais.c -- AIS AIVDM/AIVDO decoder: sentences, reassembly, message types. */
#include "ais.h"

#include <string.h>

const char *ais_strerror(int err)
{
	switch (err) {
	case AIS_OK:
		return "ok";
	case AIS_EIGNORED:
		return "not an AIVDM/AIVDO sentence";
	case AIS_EUNSUPPORTED:
		return "AIS message type not decoded";
	case AIS_EFORMAT:
		return "malformed sentence";
	case AIS_ECHECKSUM:
		return "sentence checksum missing or wrong";
	case AIS_ETAGBLOCK:
		return "malformed tag block";
	case AIS_EFIELD:
		return "invalid fragment count, number, sequence id or channel";
	case AIS_EARMOUR:
		return "invalid payload character";
	case AIS_EFILL:
		return "invalid fill bits";
	case AIS_ETOOLONG:
		return "sentence or message too long";
	case AIS_EFRAGMENT:
		return "fragment out of sequence";
	case AIS_ESHORT:
		return "message too short for its type";
	case AIS_EBODY:
		return "invalid message field";
	}
	return "unknown error";
}

/* ------------------------------------------------------------------ helpers */

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

static unsigned xor_of(const char *p, size_t n)
{
	unsigned x = 0;

	while (n--)
		x ^= (unsigned char)*p++;
	return x;
}

/* Two hex digits at p (n available) equal to want? -1 when not two hex
 * digits, 0 mismatch, 1 match. */
static int check_hex2(const char *p, size_t n, unsigned want)
{
	int hi, lo;

	if (n < 2)
		return -1;
	hi = hexval(p[0]);
	lo = hexval(p[1]);
	if (hi < 0 || lo < 0)
		return -1;
	return (unsigned)(hi << 4 | lo) == want;
}

/* Six-bit value of an armour character, or -1. Valid: '0'-'W', '`'-'w'. */
static int armour_val(char c)
{
	if (c >= '0' && c <= 'W')
		return c - '0';
	if (c >= '`' && c <= 'w')
		return c - '0' - 8;
	return -1;
}

static int is_alnum_upper(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* ------------------------------------------------------------------ tag block */

/*
 * Reads the fields of a tag block's text t[0..n) (without backslashes and
 * checksum): c: time and s: source. Unknown fields are skipped.
 */
static void tag_fields(const char *t, size_t n, struct ais_sentence *out)
{
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j < n && t[j] != ',')
			j++;
		if (j - i >= 2 && t[i + 1] == ':') {
			const char *v = t + i + 2;
			size_t vl = j - i - 2;

			if (t[i] == 'c' && vl > 0 && vl <= 18) {
				int64_t x = 0;
				size_t k;

				for (k = 0; k < vl && v[k] >= '0' && v[k] <= '9'; k++)
					x = x * 10 + (v[k] - '0');
				if (k == vl) {
					/* 13+ digits: a millisecond clock. */
					if (x >= 100000000000LL)
						x /= 1000;
					out->has_tag_time = 1;
					out->tag_time = x;
				}
			} else if (t[i] == 's') {
				if (vl >= sizeof(out->tag_source))
					vl = sizeof(out->tag_source) - 1;
				memcpy(out->tag_source, v, vl);
				out->tag_source[vl] = '\0';
			}
		}
		i = j + 1;
	}
}

/*
 * Strips a leading tag block "\...\" from p[0..n). On return p and n hold the
 * rest of the line. Fields are used only when a checksum was present and
 * right; otherwise out->tag_bad is set. Only an unterminated or overlong
 * tag block fails the line.
 */
static int strip_tag_block(const char **p, size_t *n, struct ais_sentence *out)
{
	const char *t = *p + 1, *end, *star;
	size_t tl;

	end = memchr(t, '\\', *n - 1);
	if (!end)
		return AIS_ETAGBLOCK;
	tl = (size_t)(end - t);
	if (tl > AIS_MAX_TAG_BLOCK)
		return AIS_ETAGBLOCK;
	star = memchr(t, '*', tl);
	if (star && tl - (size_t)(star - t) - 1 == 2 &&
	    check_hex2(star + 1, 2, xor_of(t, (size_t)(star - t))) == 1)
		tag_fields(t, (size_t)(star - t), out);
	else
		out->tag_bad = 1;
	*n -= tl + 2;
	*p = end + 1;
	return AIS_OK;
}

/* ------------------------------------------------------------------ sentence */

int ais_parse_sentence(const char *line, size_t len, struct ais_sentence *out)
{
	const char *p = line, *star, *f[7];
	size_t n = len, flen[7], i, nf;
	int r, c;

	memset(out, 0, sizeof(*out));
	out->seq_id = -1;
	if (!line)
		return AIS_EFORMAT;
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == '\n' ||
			 p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	if (n == 0)
		return AIS_EIGNORED;
	if (*p == '\\') {
		r = strip_tag_block(&p, &n, out);
		if (r != AIS_OK)
			return r;
		if (n == 0)
			return AIS_EFORMAT;
	}
	if (*p != '!' && *p != '$')
		return AIS_EFORMAT;
	if (n > AIS_MAX_SENTENCE)
		return AIS_ETOOLONG;

	/* Address field: talker (2) + formatter (3). Anything else is some
	 * other sentence, which is none of our business. */
	if (n < 6 || memcmp(p + 3, "VD", 2) != 0 || (p[5] != 'M' && p[5] != 'O'))
		return AIS_EIGNORED;
	if (n < 7 || p[6] != ',' || !is_alnum_upper(p[1]) ||
	    !is_alnum_upper(p[2]))
		return AIS_EFORMAT;

	/* Checksum: XOR of everything between the start character and '*'.
	 * After "*hh" only a USCG trailer (",...") may follow. */
	star = memchr(p, '*', n);
	if (!star)
		return AIS_ECHECKSUM;
	{
		size_t after = n - (size_t)(star - p) - 1;

		if (after > 2 && star[3] != ',')
			return AIS_ECHECKSUM;
		if (check_hex2(star + 1, after, xor_of(p + 1, (size_t)(star - p) - 1)) != 1)
			return AIS_ECHECKSUM;
	}

	memcpy(out->talker, p + 1, 2);
	out->talker[2] = '\0';
	out->own_ship = p[5] == 'O';

	/* Fields 1-6 after the address; extra fields before '*' are ignored. */
	nf = 0;
	{
		const char *q = p + 7;

		while (nf < 7) {
			const char *e = q;

			while (e < star && *e != ',')
				e++;
			f[nf] = q;
			flen[nf] = (size_t)(e - q);
			nf++;
			if (e >= star)
				break;
			q = e + 1;
		}
	}
	if (nf < 6)
		return AIS_EFORMAT;

	/* fragment count 1-9, fragment number 1..count */
	if (flen[0] != 1 || f[0][0] < '1' || f[0][0] > '9')
		return AIS_EFIELD;
	out->frag_count = f[0][0] - '0';
	if (flen[1] != 1 || f[1][0] < '1' || f[1][0] > '0' + out->frag_count)
		return AIS_EFIELD;
	out->frag_num = f[1][0] - '0';
	/* sequential message id: empty or one digit */
	if (flen[2] == 1 && f[2][0] >= '0' && f[2][0] <= '9')
		out->seq_id = f[2][0] - '0';
	else if (flen[2] != 0)
		return AIS_EFIELD;
	/* channel: empty or one letter/digit */
	if (flen[3] == 1 && is_alnum_upper(f[3][0]))
		out->channel = f[3][0];
	else if (flen[3] != 0)
		return AIS_EFIELD;
	/* payload */
	if (flen[4] > AIS_MAX_FRAG_PAYLOAD)
		return AIS_ETOOLONG;
	for (i = 0; i < flen[4]; i++)
		if (armour_val(f[4][i]) < 0)
			return AIS_EARMOUR;
	memcpy(out->payload, f[4], flen[4]);
	out->payload[flen[4]] = '\0';
	out->payload_len = flen[4];
	/* fill bits */
	if (flen[5] != 1 || f[5][0] < '0' || f[5][0] > '5')
		return AIS_EFILL;
	c = f[5][0] - '0';
	if ((size_t)c > out->payload_len * 6)
		return AIS_EFILL;
	out->fill_bits = c;
	return AIS_OK;
}

/* ------------------------------------------------------------------ bits */

/* Appends the six-bit values of payload[0..len) at bit *nbits of data
 * (capacity AIS_MAX_BITS). */
static int append_armour(uint8_t *data, size_t *nbits, const char *payload,
			 size_t len)
{
	size_t i, pos = *nbits;

	if (len > (AIS_MAX_BITS - pos) / 6)
		return AIS_ETOOLONG;
	for (i = 0; i < len; i++) {
		int v = armour_val(payload[i]), b;

		if (v < 0)
			return AIS_EARMOUR;
		for (b = 5; b >= 0; b--, pos++) {
			uint8_t m = (uint8_t)(0x80u >> (pos & 7));

			if ((v >> b) & 1)
				data[pos >> 3] |= m;
			else
				data[pos >> 3] &= (uint8_t)~m;
		}
	}
	*nbits = pos;
	return AIS_OK;
}

int ais_unarmour(const char *payload, size_t len, int fill_bits,
		 struct ais_bits *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	if (fill_bits < 0 || fill_bits > 5 || (size_t)fill_bits > len * 6)
		return AIS_EFILL;
	r = append_armour(out->data, &out->nbits, payload, len);
	if (r != AIS_OK)
		return r;
	out->nbits -= (size_t)fill_bits;
	return AIS_OK;
}

/* Unsigned field of n (<= 32) bits at start; the caller has checked that it
 * lies within nbits. */
static uint32_t getu(const struct ais_bits *b, size_t start, unsigned n)
{
	uint32_t v = 0;
	size_t i;

	for (i = start; i < start + n && i < b->nbits; i++)
		v = v << 1 | ((b->data[i >> 3] >> (7 - (i & 7))) & 1u);
	return v;
}

/* Two's complement field of n bits. */
static int32_t gets(const struct ais_bits *b, size_t start, unsigned n)
{
	uint32_t v = getu(b, start, n);

	if (v & (1u << (n - 1)))
		return (int32_t)(v - (1u << (n - 1))) - (int32_t)(1u << (n - 1));
	return (int32_t)v;
}

/*
 * Six-bit text of up to nchars characters at start (as many whole characters
 * as the message holds): 0-31 -> '@'-'_', 32-63 -> ' '-'?'; cut at the first
 * '@', trailing spaces stripped. Returns the length. cap > nchars.
 */
static size_t get_text(const struct ais_bits *b, size_t start, size_t nchars,
		       char *out, size_t cap)
{
	size_t i, n = 0;

	for (i = 0; i < nchars && n + 1 < cap; i++) {
		uint32_t v;

		if (start + 6 * (i + 1) > b->nbits)
			break;
		v = getu(b, start + 6 * i, 6);
		if (v == 0)
			break;
		out[n++] = (char)(v < 32 ? v + 64 : v);
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	return n;
}

/* ------------------------------------------------------------------ assembly */

void ais_assembler_init(struct ais_assembler *a)
{
	memset(a, 0, sizeof(*a));
	a->timeout_ms = AIS_ASM_TIMEOUT_MS;
}

/* |now - start| > timeout, without overflow for any int64 values. */
static int too_old(int64_t now, int64_t start, int64_t timeout)
{
	uint64_t d = now >= start ? (uint64_t)now - (uint64_t)start
				  : (uint64_t)start - (uint64_t)now;

	return d > (uint64_t)timeout;
}

static void slot_to_bits(const struct ais_asm_slot *sl, int fill,
			 struct ais_bits *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->data, sl->data, (sl->nbits + 7) / 8);
	out->nbits = sl->nbits - (size_t)fill;
	out->channel = sl->channel;
	out->own_ship = sl->own_ship;
	out->frag_count = sl->frag_count;
	out->has_tag_time = sl->has_tag_time;
	out->tag_time = sl->tag_time;
}

int ais_assembler_feed(struct ais_assembler *a, const struct ais_sentence *s,
		       int64_t now_ms, struct ais_bits *out)
{
	struct ais_asm_slot *sl = NULL;
	int64_t timeout = a->timeout_ms > 0 ? a->timeout_ms : AIS_ASM_TIMEOUT_MS;
	int i, r;

	if (s->frag_count < 1 || s->frag_count > 9 || s->frag_num < 1 ||
	    s->frag_num > s->frag_count || s->seq_id < -1 || s->seq_id > 9)
		return AIS_EFIELD;
	if (s->payload_len > AIS_MAX_FRAG_PAYLOAD ||
	    memchr(s->payload, '\0', s->payload_len) != NULL)
		return AIS_EFIELD;
	if (s->fill_bits < 0 || s->fill_bits > 5)
		return AIS_EFILL;

	for (i = 0; i < AIS_ASM_SLOTS; i++) {
		if (a->slot[i].used &&
		    too_old(now_ms, a->slot[i].started_ms, timeout)) {
			a->slot[i].used = 0;
			a->dropped++;
		}
	}

	if (s->frag_count == 1) {
		r = ais_unarmour(s->payload, s->payload_len, s->fill_bits, out);
		if (r != AIS_OK)
			return r;
		out->channel = s->channel;
		out->own_ship = s->own_ship;
		out->frag_count = 1;
		out->has_tag_time = s->has_tag_time;
		out->tag_time = s->tag_time;
		return 1;
	}

	for (i = 0; i < AIS_ASM_SLOTS; i++) {
		if (a->slot[i].used && a->slot[i].seq_id == s->seq_id &&
		    a->slot[i].channel == s->channel) {
			sl = &a->slot[i];
			break;
		}
	}

	if (s->frag_num == 1) {
		if (sl) {
			/* A new fragment 1 for the key: the old one is dead. */
			sl->used = 0;
			a->dropped++;
		} else {
			/* Free slot, else the oldest partial makes room. */
			for (i = 0; i < AIS_ASM_SLOTS; i++) {
				if (!a->slot[i].used) {
					sl = &a->slot[i];
					break;
				}
				if (!sl || a->slot[i].started_ms < sl->started_ms)
					sl = &a->slot[i];
			}
			if (sl->used)
				a->dropped++;
		}
		sl->used = 1;
		sl->seq_id = s->seq_id;
		sl->channel = s->channel;
		sl->frag_count = s->frag_count;
		sl->next = 2;
		sl->started_ms = now_ms;
		sl->nbits = 0;
		sl->own_ship = s->own_ship;
		sl->has_tag_time = s->has_tag_time;
		sl->tag_time = s->tag_time;
		r = append_armour(sl->data, &sl->nbits, s->payload,
				  s->payload_len);
		if (r != AIS_OK) {
			sl->used = 0;
			return r;
		}
		return 0;
	}

	if (!sl)
		return AIS_EFRAGMENT;
	if (s->frag_num != sl->next || s->frag_count != sl->frag_count) {
		sl->used = 0;
		a->dropped++;
		return AIS_EFRAGMENT;
	}
	r = append_armour(sl->data, &sl->nbits, s->payload, s->payload_len);
	if (r != AIS_OK) {
		sl->used = 0;
		a->dropped++;
		return r;
	}
	if (!sl->has_tag_time && s->has_tag_time) {
		sl->has_tag_time = 1;
		sl->tag_time = s->tag_time;
	}
	if (s->frag_num < s->frag_count) {
		sl->next++;
		return 0;
	}
	sl->used = 0;
	if ((size_t)s->fill_bits > sl->nbits)
		return AIS_EFILL;
	slot_to_bits(sl, s->fill_bits, out);
	return 1;
}

/* ------------------------------------------------------------------ decoding */

/* Position group shared by types 1-3, 18 and 19; o is the bit offset of SOG.
 * Types 1-3: SOG at 50; 18/19: SOG at 46. The rest follows in the same
 * order: accuracy, lon, lat, COG, heading, second. */
static void get_position(const struct ais_bits *b, size_t o, struct ais_msg *m)
{
	uint32_t sog = getu(b, o, 10), cog = getu(b, o + 66, 12),
		 hdg = getu(b, o + 78, 9);

	m->has_sog = sog != 1023;
	m->sog_kn = m->has_sog ? sog / 10.0 : 0;
	m->accuracy = (int)getu(b, o + 10, 1);
	m->lon_raw = gets(b, o + 11, 28);
	m->lat_raw = gets(b, o + 39, 27);
	/* 181 and 91 degrees mean "not available"; anything else out of
	 * range is garbage. Neither may become a coordinate. */
	m->has_position = m->lon_raw >= -108000000 && m->lon_raw <= 108000000 &&
			  m->lat_raw >= -54000000 && m->lat_raw <= 54000000;
	if (m->has_position) {
		m->lon = m->lon_raw / 600000.0;
		m->lat = m->lat_raw / 600000.0;
	}
	m->has_cog = cog < 3600;
	m->cog = m->has_cog ? cog / 10.0 : 0;
	m->has_heading = hdg < 360;
	m->heading = m->has_heading ? (int)hdg : 0;
	m->second = (int)getu(b, o + 87, 6);
}

static void set_ship_type(struct ais_msg *m, uint32_t t)
{
	m->ship_type = t >= 1 && t <= 99 ? (int)t : 0;
	m->has_ship_type = m->ship_type != 0;
}

/* Dimensions block (30 bits) at o: bow 9, stern 9, port 6, starboard 6. */
static void get_dims(const struct ais_bits *b, size_t o, struct ais_msg *m)
{
	m->to_bow = (int)getu(b, o, 9);
	m->to_stern = (int)getu(b, o + 9, 9);
	m->to_port = (int)getu(b, o + 18, 6);
	m->to_starboard = (int)getu(b, o + 24, 6);
	m->has_dims = m->to_bow || m->to_stern || m->to_port || m->to_starboard;
}

int ais_decode(const struct ais_bits *b, struct ais_msg *m)
{
	size_t nb = b->nbits;

	memset(m, 0, sizeof(*m));
	m->part = -1;
	m->second = AIS_SECOND_NA;
	m->nav_status = AIS_NAV_UNDEFINED;
	m->rot = -128;
	m->eta_hour = 24;
	m->eta_minute = 60;
	if (nb < 6 || nb > AIS_MAX_BITS)
		return AIS_ESHORT;
	m->type = (int)getu(b, 0, 6);
	if (nb >= 38) {
		m->repeat = (int)getu(b, 6, 2);
		m->mmsi = getu(b, 8, 30);
	}

	switch (m->type) {
	case 1:
	case 2:
	case 3:
		if (nb < 149)
			return AIS_ESHORT;
		m->nav_status = (int)getu(b, 38, 4);
		m->rot = gets(b, 42, 8);
		get_position(b, 50, m);
		m->raim = (int)getu(b, 148, 1);
		return AIS_OK;
	case 18:
		if (nb < 148)
			return AIS_ESHORT;
		get_position(b, 46, m);
		m->raim = (int)getu(b, 147, 1);
		return AIS_OK;
	case 19:
		if (nb < 306)
			return AIS_ESHORT;
		get_position(b, 46, m);
		m->has_name = get_text(b, 143, 20, m->name, sizeof(m->name)) > 0;
		set_ship_type(m, getu(b, 263, 8));
		get_dims(b, 271, m);
		m->epfd = (int)getu(b, 301, 4);
		m->raim = (int)getu(b, 305, 1);
		return AIS_OK;
	case 5:
		/* 424 by the standard; 420 and 422 are common in the wild. */
		if (nb < 420)
			return AIS_ESHORT;
		m->ais_version = (int)getu(b, 38, 2);
		m->imo = getu(b, 40, 30);
		m->has_callsign = get_text(b, 70, 7, m->callsign,
					   sizeof(m->callsign)) > 0;
		m->has_name = get_text(b, 112, 20, m->name, sizeof(m->name)) > 0;
		set_ship_type(m, getu(b, 232, 8));
		get_dims(b, 240, m);
		m->epfd = (int)getu(b, 270, 4);
		m->eta_month = (int)getu(b, 274, 4);
		m->eta_day = (int)getu(b, 278, 5);
		m->eta_hour = (int)getu(b, 283, 5);
		m->eta_minute = (int)getu(b, 288, 6);
		m->draught_dm = (int)getu(b, 294, 8);
		m->has_destination = get_text(b, 302, 20, m->destination,
					      sizeof(m->destination)) > 0;
		return AIS_OK;
	case 24:
		if (nb < 40)
			return AIS_ESHORT;
		m->part = (int)getu(b, 38, 2);
		if (m->part == 0) {
			/* The 8 spare bits are often left out: 160 bits. */
			if (nb < 160)
				return AIS_ESHORT;
			m->has_name = get_text(b, 40, 20, m->name,
					       sizeof(m->name)) > 0;
			return AIS_OK;
		}
		if (m->part != 1)
			return AIS_EBODY;
		if (nb < 162)
			return AIS_ESHORT;
		set_ship_type(m, getu(b, 40, 8));
		/* ITU-R M.1371-4: vendor 3 characters, model 4 bits, serial 20
		 * bits (gpsd prints the 42 bits as one 7-character id). */
		get_text(b, 48, 3, m->vendor_id, sizeof(m->vendor_id));
		m->model = (int)getu(b, 66, 4);
		m->serial = getu(b, 70, 20);
		m->has_callsign = get_text(b, 90, 7, m->callsign,
					   sizeof(m->callsign)) > 0;
		if (m->mmsi >= 980000000 && m->mmsi <= 989999999) {
			/* Auxiliary craft: its mother ship's MMSI instead. */
			m->mothership_mmsi = getu(b, 132, 30);
			m->has_mothership = m->mothership_mmsi != 0;
		} else {
			get_dims(b, 132, m);
		}
		return AIS_OK;
	}
	return AIS_EUNSUPPORTED;
}

/* ------------------------------------------------------------------ time */

int64_t ais_time_ms(int64_t recv_ms, int second)
{
	int64_t s, mod, delta;

	if (second < 0 || second > 59)
		return recv_ms;
	/* Far from the int64 edges only (no real clock is near them). */
	if (recv_ms > INT64_MAX - 120000 || recv_ms < INT64_MIN + 120000)
		return recv_ms;
	s = recv_ms / 1000;
	if (recv_ms % 1000 < 0)
		s--; /* floor for times before 1970 */
	mod = s % 60;
	if (mod < 0)
		mod += 60;
	delta = (mod - second + 60) % 60; /* seconds back to the report */
	if (delta <= 30)
		s -= delta;
	else
		s += 60 - delta;
	return s * 1000;
}
