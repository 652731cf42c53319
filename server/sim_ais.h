/* sim_ais.h -- AIS (ITU-R M.1371) message encoders for shorewatch-sim: bit packing, six-bit armouring, AIVDM sentences for types 1, 18, 5 and 24. */
#ifndef SW_SIM_AIS_H
#define SW_SIM_AIS_H

#include <stddef.h>
#include <stdint.h>

/* Longest message handled (type 5 is 424 bits). */
#define SIM_AIS_MAX_BITS 512
/* Longest armoured payload: ceil(512 / 6). */
#define SIM_AIS_MAX_PAYLOAD 86

/* A big-endian bit string being built. Zero-initialise before use. */
struct sim_ais_bits {
	uint8_t b[SIM_AIS_MAX_BITS / 8];
	unsigned n;
};

/* Appends the low nbits (1..32) of v, most significant bit first (signed
 * values in two's complement: pass (uint32_t)v). Bits past the maximum are
 * dropped. */
void sim_ais_put(struct sim_ais_bits *bs, uint32_t v, unsigned nbits);

/* Appends text as nchars six-bit characters: lower case is upper-cased,
 * characters outside the AIS set become '?', the rest is padded with '@'. */
void sim_ais_put_text(struct sim_ais_bits *bs, const char *text,
		      unsigned nchars);

/* Reads nbits (1..32) at bit offset off as an unsigned number (tests). */
uint32_t sim_ais_get(const struct sim_ais_bits *bs, unsigned off,
		     unsigned nbits);

/* Armours the bit string: six bits per character (0-W, `-w). Writes a
 * NUL-terminated payload into out (SIM_AIS_MAX_PAYLOAD + 1 bytes) and returns
 * its length; *fill gets the number of pad bits (0-5) added at the end. */
size_t sim_ais_armour(const struct sim_ais_bits *bs, char *out, int *fill);

/* Un-armours a payload back into bits (tests and round trips). Returns 0, or
 * -1 on a character outside the armour set or an over-long payload. */
int sim_ais_unarmour(const char *payload, size_t len, int fill,
		     struct sim_ais_bits *bs);

/* Writes "!AIVDM,<count>,<num>,<seq>,<channel>,<payload>,<fill>*hh\r\n".
 * seq < 0 leaves the sequential-id field empty. Returns the length, or 0 if
 * cap is too small. */
size_t sim_ais_sentence(int count, int num, int seq, char channel,
			const char *payload, size_t len, int fill, char *out,
			size_t cap);

/* A position report. */
struct sim_ais_pos {
	uint32_t mmsi;
	int nav_status;    /* type 1 only: 0 under way, 5 moored, ... */
	double lon, lat;   /* degrees */
	double sog_kn;
	double cog;        /* degrees true */
	int heading;       /* 0-359, or 511 n/a */
	int second;        /* UTC second 0-59, 60 n/a */
	int rot;           /* type 1 only: raw int8, -128 n/a */
	int accuracy;      /* 1: better than 10 m */
	int raim;
	uint32_t radio;    /* radio status: 19 bits (type 1), 20 (type 18) */
};

/* Static data. */
struct sim_ais_static {
	uint32_t mmsi;
	char name[21];     /* up to 20 AIS characters */
	char callsign[8];  /* up to 7 */
	int ship_type;     /* 33: dredging / underwater operations */
	int to_bow, to_stern, to_port, to_starboard; /* metres */
	double draught_m;
	char destination[21];
};

/* Encodes the 168-bit type 1 (Class A) / type 18 (Class B CS) report. */
void sim_ais_type1(const struct sim_ais_pos *p, struct sim_ais_bits *bs);
void sim_ais_type18(const struct sim_ais_pos *p, struct sim_ais_bits *bs);
/* Encodes the 424-bit type 5 (Class A static and voyage data, ETA n/a). */
void sim_ais_type5(const struct sim_ais_static *s, struct sim_ais_bits *bs);
/* Encodes type 24 part A (168 bits: name) or part B (168 bits: ship type,
 * vendor "SWS", callsign, dimensions). */
void sim_ais_type24(const struct sim_ais_static *s, int part,
		    struct sim_ais_bits *bs);

/* Writes the sentence(s) for bs: one sentence if the payload fits in 60
 * characters, else fragments of 60 characters with sequential id seq (0-9).
 * Returns the total length written, or 0 if cap is too small. */
size_t sim_ais_lines(const struct sim_ais_bits *bs, int seq, char channel,
		     char *out, size_t cap);

/* ASCII rendering of a vessel name for AIS: Han characters of the demo fleet
 * become upper-case pinyin syllables separated by spaces, a run of digits is
 * separated from the preceding syllable ("赣景德采001" -> "GAN JING DE CAI 001"),
 * other non-ASCII characters are dropped; at most cap - 1 characters. */
void sim_ais_name(const char *utf8, char *out, size_t cap);

#endif
