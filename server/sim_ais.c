/* sim_ais.c -- AIS message encoders for shorewatch-sim: bit packing, six-bit armour, AIVDM sentences (types 1, 18, 5, 24). */
#include "sim_ais.h"

#include <math.h>
#include <string.h>

#include "sim_nmea.h"

void sim_ais_put(struct sim_ais_bits *bs, uint32_t v, unsigned nbits)
{
	unsigned i;

	for (i = 0; i < nbits; i++) {
		unsigned bit = (v >> (nbits - 1 - i)) & 1u;
		unsigned pos = bs->n;

		if (pos >= SIM_AIS_MAX_BITS)
			return;
		if (bit)
			bs->b[pos >> 3] |= (uint8_t)(0x80u >> (pos & 7));
		else
			bs->b[pos >> 3] &= (uint8_t)~(0x80u >> (pos & 7));
		bs->n++;
	}
}

uint32_t sim_ais_get(const struct sim_ais_bits *bs, unsigned off,
		     unsigned nbits)
{
	uint32_t v = 0;
	unsigned i;

	for (i = 0; i < nbits; i++) {
		unsigned pos = off + i;
		v <<= 1;
		if (pos < bs->n && (bs->b[pos >> 3] & (0x80u >> (pos & 7))))
			v |= 1;
	}
	return v;
}

void sim_ais_put_text(struct sim_ais_bits *bs, const char *text,
		      unsigned nchars)
{
	unsigned i;
	int end = 0;

	for (i = 0; i < nchars; i++) {
		unsigned c = end ? '@' : (unsigned char)text[i];
		uint32_t v;

		if (!end && c == 0) {
			end = 1;
			c = '@';
		}
		if (c >= 'a' && c <= 'z')
			c -= 32;
		if (c >= 64 && c <= 95)
			v = c - 64;
		else if (c >= 32 && c <= 63)
			v = c;
		else
			v = '?';
		sim_ais_put(bs, v, 6);
	}
}

size_t sim_ais_armour(const struct sim_ais_bits *bs, char *out, int *fill)
{
	size_t nchar = (bs->n + 5) / 6, i;

	for (i = 0; i < nchar; i++) {
		uint32_t v = sim_ais_get(bs, (unsigned)(i * 6), 6);
		/* bits past n read as 0: the fill */
		out[i] = (char)(v < 40 ? v + 48 : v + 56);
	}
	out[nchar] = 0;
	*fill = (int)(nchar * 6 - bs->n);
	return nchar;
}

int sim_ais_unarmour(const char *payload, size_t len, int fill,
		     struct sim_ais_bits *bs)
{
	size_t i;

	memset(bs, 0, sizeof(*bs));
	if (len * 6 > SIM_AIS_MAX_BITS || fill < 0 || fill > 5 ||
	    (size_t)fill > len * 6)
		return -1;
	for (i = 0; i < len; i++) {
		int c = (unsigned char)payload[i], v;

		if (c < 48 || c > 119 || (c > 87 && c < 96))
			return -1;
		v = c - 48;
		if (v > 40)
			v -= 8;
		sim_ais_put(bs, (uint32_t)v, 6);
	}
	bs->n -= (unsigned)fill;
	return 0;
}

size_t sim_ais_sentence(int count, int num, int seq, char channel,
			const char *payload, size_t len, int fill, char *out,
			size_t cap)
{
	char b[SIM_AIS_MAX_PAYLOAD + 32];
	size_t n = 0;

	if (len > SIM_AIS_MAX_PAYLOAD)
		return 0;
	memcpy(b, "AIVDM,", 6);
	n = 6;
	b[n++] = (char)('0' + count);
	b[n++] = ',';
	b[n++] = (char)('0' + num);
	b[n++] = ',';
	if (seq >= 0)
		b[n++] = (char)('0' + seq % 10);
	b[n++] = ',';
	if (channel)
		b[n++] = channel;
	b[n++] = ',';
	memcpy(b + n, payload, len);
	n += len;
	b[n++] = ',';
	b[n++] = (char)('0' + fill);
	return sim_nmea_finish('!', b, n, out, cap);
}

/* Puts lon (int28) and lat (int27) in 1/10000 minute; n/a when not finite. */
static void put_lonlat(struct sim_ais_bits *bs, double lon, double lat)
{
	int32_t x = isfinite(lon) ? (int32_t)lround(lon * 600000.0) : 108600000;
	int32_t y = isfinite(lat) ? (int32_t)lround(lat * 600000.0) : 54600000;

	sim_ais_put(bs, (uint32_t)x, 28);
	sim_ais_put(bs, (uint32_t)y, 27);
}

/* SOG in 1/10 kn (1022 = 102.2 kn or more). */
static uint32_t sog10(double kn)
{
	long v = lround(kn * 10);

	if (!(kn >= 0))
		return 1023;
	return v > 1022 ? 1022 : (uint32_t)v;
}

/* COG in 1/10 degree, 0-3599. */
static uint32_t cog10(double deg)
{
	long v;

	if (!isfinite(deg))
		return 3600;
	v = lround(fmod(fmod(deg, 360.0) + 360.0, 360.0) * 10);
	return v >= 3600 ? 0 : (uint32_t)v;
}

void sim_ais_type1(const struct sim_ais_pos *p, struct sim_ais_bits *bs)
{
	memset(bs, 0, sizeof(*bs));
	sim_ais_put(bs, 1, 6);
	sim_ais_put(bs, 0, 2);            /* repeat */
	sim_ais_put(bs, p->mmsi, 30);
	sim_ais_put(bs, (uint32_t)p->nav_status, 4);
	sim_ais_put(bs, (uint32_t)p->rot, 8);
	sim_ais_put(bs, sog10(p->sog_kn), 10);
	sim_ais_put(bs, p->accuracy ? 1 : 0, 1);
	put_lonlat(bs, p->lon, p->lat);
	sim_ais_put(bs, cog10(p->cog), 12);
	sim_ais_put(bs, (uint32_t)p->heading, 9);
	sim_ais_put(bs, (uint32_t)p->second, 6);
	sim_ais_put(bs, 0, 2);            /* manoeuvre */
	sim_ais_put(bs, 0, 3);            /* spare */
	sim_ais_put(bs, p->raim ? 1 : 0, 1);
	sim_ais_put(bs, p->radio, 19);
}

void sim_ais_type18(const struct sim_ais_pos *p, struct sim_ais_bits *bs)
{
	memset(bs, 0, sizeof(*bs));
	sim_ais_put(bs, 18, 6);
	sim_ais_put(bs, 0, 2);
	sim_ais_put(bs, p->mmsi, 30);
	sim_ais_put(bs, 0, 8);            /* reserved */
	sim_ais_put(bs, sog10(p->sog_kn), 10);
	sim_ais_put(bs, p->accuracy ? 1 : 0, 1);
	put_lonlat(bs, p->lon, p->lat);
	sim_ais_put(bs, cog10(p->cog), 12);
	sim_ais_put(bs, (uint32_t)p->heading, 9);
	sim_ais_put(bs, (uint32_t)p->second, 6);
	sim_ais_put(bs, 0, 2);            /* regional */
	sim_ais_put(bs, 1, 1);            /* CS unit (carrier sense) */
	sim_ais_put(bs, 0, 1);            /* display */
	sim_ais_put(bs, 1, 1);            /* DSC */
	sim_ais_put(bs, 1, 1);            /* band */
	sim_ais_put(bs, 1, 1);            /* message 22 */
	sim_ais_put(bs, 0, 1);            /* assigned */
	sim_ais_put(bs, p->raim ? 1 : 0, 1);
	sim_ais_put(bs, p->radio, 20);
}

/* Puts bow, stern (9 bits each), port, starboard (6 bits each), clamped. */
static void put_dims(struct sim_ais_bits *bs, const struct sim_ais_static *s)
{
	sim_ais_put(bs, (uint32_t)(s->to_bow > 511 ? 511 : s->to_bow), 9);
	sim_ais_put(bs, (uint32_t)(s->to_stern > 511 ? 511 : s->to_stern), 9);
	sim_ais_put(bs, (uint32_t)(s->to_port > 63 ? 63 : s->to_port), 6);
	sim_ais_put(bs, (uint32_t)(s->to_starboard > 63 ? 63 : s->to_starboard), 6);
}

void sim_ais_type5(const struct sim_ais_static *s, struct sim_ais_bits *bs)
{
	long dr = lround(s->draught_m * 10);

	memset(bs, 0, sizeof(*bs));
	sim_ais_put(bs, 5, 6);
	sim_ais_put(bs, 0, 2);
	sim_ais_put(bs, s->mmsi, 30);
	sim_ais_put(bs, 0, 2);            /* AIS version */
	sim_ais_put(bs, 0, 30);           /* IMO: none (inland) */
	sim_ais_put_text(bs, s->callsign, 7);
	sim_ais_put_text(bs, s->name, 20);
	sim_ais_put(bs, (uint32_t)s->ship_type, 8);
	put_dims(bs, s);
	sim_ais_put(bs, 15, 4);           /* EPFD: internal GNSS */
	sim_ais_put(bs, 0, 4);            /* ETA month n/a */
	sim_ais_put(bs, 0, 5);            /* day n/a */
	sim_ais_put(bs, 24, 5);           /* hour n/a */
	sim_ais_put(bs, 60, 6);           /* minute n/a */
	sim_ais_put(bs, (uint32_t)(dr < 0 ? 0 : dr > 255 ? 255 : dr), 8);
	sim_ais_put_text(bs, s->destination, 20);
	sim_ais_put(bs, 0, 1);            /* DTE ready */
	sim_ais_put(bs, 0, 1);            /* spare */
}

void sim_ais_type24(const struct sim_ais_static *s, int part,
		    struct sim_ais_bits *bs)
{
	memset(bs, 0, sizeof(*bs));
	sim_ais_put(bs, 24, 6);
	sim_ais_put(bs, 0, 2);
	sim_ais_put(bs, s->mmsi, 30);
	sim_ais_put(bs, part ? 1 : 0, 2);
	if (!part) {
		sim_ais_put_text(bs, s->name, 20);
		sim_ais_put(bs, 0, 8);    /* spare */
		return;
	}
	sim_ais_put(bs, (uint32_t)s->ship_type, 8);
	sim_ais_put_text(bs, "SWS", 3);   /* vendor */
	sim_ais_put(bs, 1, 4);            /* unit model */
	sim_ais_put(bs, s->mmsi % 1000000, 20); /* serial */
	sim_ais_put_text(bs, s->callsign, 7);
	put_dims(bs, s);
	sim_ais_put(bs, 15, 4);           /* EPFD */
	sim_ais_put(bs, 0, 2);            /* spare */
}

size_t sim_ais_lines(const struct sim_ais_bits *bs, int seq, char channel,
		     char *out, size_t cap)
{
	char pl[SIM_AIS_MAX_PAYLOAD + 1];
	int fill, nfrag, i;
	size_t len = sim_ais_armour(bs, pl, &fill), total = 0;

	if (len <= 60)
		return sim_ais_sentence(1, 1, -1, channel, pl, len, fill, out, cap);
	nfrag = (int)((len + 59) / 60);
	for (i = 0; i < nfrag; i++) {
		size_t off = (size_t)i * 60, k = len - off > 60 ? 60 : len - off;
		size_t w = sim_ais_sentence(nfrag, i + 1, seq, channel, pl + off,
					    k, i == nfrag - 1 ? fill : 0,
					    out + total, cap - total);
		if (!w)
			return 0;
		total += w;
	}
	return total;
}

/* Pinyin of the Han characters used by the demo fleet and synthetic plates. */
static const struct {
	const char *han, *py;
} PINYIN[] = {
	{"赣", "GAN"}, {"景", "JING"}, {"德", "DE"}, {"镇", "ZHEN"},
	{"采", "CAI"}, {"测", "CE"}, {"运", "YUN"}, {"砂", "SHA"},
	{"昌", "CHANG"}, {"江", "JIANG"}, {"号", "HAO"}, {"船", "CHUAN"},
};

void sim_ais_name(const char *utf8, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)utf8;
	size_t n = 0, i;
	int prev = 0; /* 0 start, 1 syllable, 2 ASCII */

	if (!cap)
		return;
	while (*p && n + 1 < cap) {
		if (*p < 0x80) {
			char c = (char)*p++;
			if (c >= 'a' && c <= 'z')
				c -= 32;
			if (prev == 1 && c != ' ' && n + 1 < cap)
				out[n++] = ' ';
			if (n + 1 < cap)
				out[n++] = c;
			prev = 2;
			continue;
		}
		/* one UTF-8 sequence */
		size_t k = (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 :
			   (*p & 0xF8) == 0xF0 ? 4 : 1;
		const char *py = NULL;

		for (i = 0; i < sizeof(PINYIN) / sizeof(PINYIN[0]); i++)
			if (!strncmp((const char *)p, PINYIN[i].han, k) &&
			    strlen(PINYIN[i].han) == k) {
				py = PINYIN[i].py;
				break;
			}
		for (i = 0; i < k && p[i]; i++)
			;
		p += i;
		if (!py)
			continue;
		if (prev && n > 0 && out[n - 1] != ' ' && n + 1 < cap)
			out[n++] = ' ';
		for (i = 0; py[i] && n + 1 < cap; i++)
			out[n++] = py[i];
		prev = 1;
	}
	out[n] = 0;
}
