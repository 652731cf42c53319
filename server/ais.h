/* ais.h -- AIS AIVDM/AIVDO decoder: sentences, fragment reassembly, messages.
 *
 * Pure code: text in, structs out. No sockets, no allocation, no globals, no
 * clock: callers pass the receive time. Three stages, each usable alone:
 *
 *   line --ais_parse_sentence--> ais_sentence
 *        --ais_assembler_feed--> ais_bits (one whole message, fill applied)
 *        --ais_decode---------->  ais_msg (types 1/2/3, 5, 18, 19, 24)
 *
 * Conventions: functions return 0 (AIS_OK) on success and a negative AIS_E*
 * code otherwise (ais_assembler_feed also returns 1); pointers passed in are
 * borrowed; output structs are owned by the caller and fully overwritten.
 * Field layouts: gpsd www/AIVDM.adoc, summarised in shared/PROTOCOLS.md §3.
 */
#ifndef SW_AIS_H
#define SW_AIS_H

#include <stddef.h>
#include <stdint.h>

/* Armoured characters in one sentence. NMEA's 82-character line allows about
 * 60; real single-sentence type 5s of 71 characters exist (pyais). */
#define AIS_MAX_FRAG_PAYLOAD 128
/* Sentence text after the tag block (fields, checksum, USCG trailer). */
#define AIS_MAX_SENTENCE 256
/* Tag block text between the backslashes. */
#define AIS_MAX_TAG_BLOCK 256
/* Armoured characters in one reassembled message (about 5 x 82 with room). */
#define AIS_MAX_PAYLOAD 512
#define AIS_MAX_BITS (AIS_MAX_PAYLOAD * 6)
/* Partial multi-fragment messages one assembler holds at once. */
#define AIS_ASM_SLOTS 16
/* A partial message older than this (from its first fragment) is dropped. */
#define AIS_ASM_TIMEOUT_MS 5000

enum ais_err {
	AIS_OK = 0,
	/* Not errors, nothing to do: */
	AIS_EIGNORED = -1,     /* blank line or an NMEA sentence other than
				* VDM/VDO ($GPRMC, $ARVSI, ...) */
	AIS_EUNSUPPORTED = -2, /* ais_decode: a message type it does not decode */
	/* Errors: */
	AIS_EFORMAT = -3,      /* not a sentence: no '!', too few fields, no '*' */
	AIS_ECHECKSUM = -4,    /* sentence checksum missing or wrong */
	AIS_ETAGBLOCK = -5,    /* tag block unterminated or too long */
	AIS_EFIELD = -6,       /* fragment count/number, sequence id or channel
				* invalid */
	AIS_EARMOUR = -7,      /* payload character outside 0-W and `-w */
	AIS_EFILL = -8,        /* fill bits not 0-5, or more than the payload */
	AIS_ETOOLONG = -9,     /* sentence, payload or message over the limits */
	AIS_EFRAGMENT = -10,   /* fragment with no partial to join, out of
				* order, or a count that changed; partial
				* dropped */
	AIS_ESHORT = -11,      /* message shorter than its type needs */
	AIS_EBODY = -12,       /* message field invalid (24 part 2/3) */
};

/* Returns a static English description of an AIS_E* code. */
const char *ais_strerror(int err);

/* ------------------------------------------------------------------ sentence */

struct ais_sentence {
	char talker[3];      /* "AI", "AB", "BS", "SA", ... */
	int own_ship;        /* 1: VDO (own vessel), 0: VDM */
	int frag_count;      /* 1-9 */
	int frag_num;        /* 1..frag_count */
	int seq_id;          /* 0-9, -1 when the field is empty */
	char channel;        /* 'A', 'B', '1', '2' (any single letter or digit
			      * is kept as sent), '\0' when empty */
	char payload[AIS_MAX_FRAG_PAYLOAD + 1]; /* armoured, validated, NUL-
						 * terminated */
	size_t payload_len;
	int fill_bits;       /* 0-5 */
	int tag_bad;         /* a tag block was there but its checksum was
			      * missing or wrong: its fields were not used */
	/* From an NMEA 4.0 tag block, only when it carried a checksum that
	 * matched. c: in milliseconds (13+ digits) is converted to seconds, so
	 * tag_time * 1000 cannot overflow. */
	int has_tag_time;
	int64_t tag_time;    /* c: UNIX time, seconds */
	char tag_source[32]; /* s: station, "" if absent (cut to fit) */
};

/*
 * Parses one sentence. line/len need not be NUL-terminated; trailing CR, LF,
 * spaces and tabs are ignored, and so is a USCG-style trailer after the
 * checksum (",s28089,d-103,T39.4,1242958962"). An optional tag block
 * "\k:v,k:v*hh\" in front is stripped and its checksum checked; when that
 * is missing or wrong the fields are not used (tag_bad is set) but the
 * sentence, which has its own checksum, still is.
 * Accepts '!' or '$', any two-character talker, VDM and VDO; the checksum is
 * required. Returns AIS_OK, AIS_EIGNORED for blank lines and other sentence
 * types (whatever their checksum), or an error. *out is zeroed first.
 */
int ais_parse_sentence(const char *line, size_t len, struct ais_sentence *out);

/* ------------------------------------------------------------------ assembly */

/* A whole message: payload bits MSB first, fill bits removed. */
struct ais_bits {
	uint8_t data[AIS_MAX_BITS / 8];
	size_t nbits;
	char channel;        /* of its sentences */
	int own_ship;        /* VDO */
	int frag_count;      /* sentences it came in */
	int has_tag_time;    /* from the first fragment that had one */
	int64_t tag_time;
};

struct ais_asm_slot {
	int used;
	int seq_id;
	char channel;
	int frag_count;
	int next;            /* fragment number expected next */
	int64_t started_ms;  /* now_ms of fragment 1 */
	size_t nbits;
	int has_tag_time;
	int64_t tag_time;
	int own_ship;
	uint8_t data[AIS_MAX_BITS / 8];
};

/* Per-source reassembler (one per TCP connection or UDP peer): a fixed table,
 * no allocation. Zero-initialise or ais_assembler_init before use; timeout_ms
 * may be changed after init. */
struct ais_assembler {
	struct ais_asm_slot slot[AIS_ASM_SLOTS];
	int64_t timeout_ms;       /* AIS_ASM_TIMEOUT_MS after init; <= 0 too */
	unsigned long dropped;    /* partials discarded (timeout, restart, out
				   * of order, table full) */
};

void ais_assembler_init(struct ais_assembler *a);

/*
 * Feeds one parsed sentence received at now_ms (any monotonic or wall clock
 * in milliseconds, the same for every call on this assembler).
 * Returns 1 with a whole message in *out, 0 when waiting for more fragments,
 * or an error: AIS_EFRAGMENT (a fragment 2..n with no matching partial, out
 * of order, or whose count differs: the partial is dropped), AIS_ETOOLONG,
 * AIS_EARMOUR / AIS_EFIELD / AIS_EFILL for a sentence struct that
 * ais_parse_sentence would not have produced.
 * Single-fragment sentences pass straight through and do not touch the table.
 * Partials are keyed by (sequence id, channel); an empty sequence id or
 * channel is a key value like any other. Before anything else, partials
 * older than timeout_ms (measured from their fragment 1) are dropped; a new
 * fragment 1 for a key in use drops the old partial; when all slots are busy
 * the oldest partial is dropped. The fill bits of the last fragment are
 * applied; those of earlier fragments (which should be 0) are ignored.
 */
int ais_assembler_feed(struct ais_assembler *a, const struct ais_sentence *s,
		       int64_t now_ms, struct ais_bits *out);

/* Unpacks armoured text into bits (for callers with a payload from
 * elsewhere). Returns AIS_OK, AIS_EARMOUR, AIS_EFILL or AIS_ETOOLONG. */
int ais_unarmour(const char *payload, size_t len, int fill_bits,
		 struct ais_bits *out);

/* ------------------------------------------------------------------ decoding */

enum {
	AIS_NAV_UNDEFINED = 15,
	AIS_SECOND_NA = 60,   /* 61 manual, 62 dead reckoning, 63 inoperative */
};

struct ais_msg {
	int type;            /* 1, 2, 3, 5, 18, 19, 24 */
	int repeat;
	uint32_t mmsi;

	/* Position group: types 1/2/3, 18, 19. has_* is 0 for the "not
	 * available" encodings and for out-of-range values. */
	int has_position;    /* lon in [-180, 180] and lat in [-90, 90]; the
			      * 181/91 sentinels never become coordinates */
	double lat, lon;     /* degrees, WGS84, valid only with has_position */
	int32_t lat_raw;     /* 1/10000 minute as sent (signed 27 bits) */
	int32_t lon_raw;     /* 1/10000 minute as sent (signed 28 bits) */
	int has_sog;         /* raw 1023 = n/a; 1022 means >= 102.2 kn */
	double sog_kn;
	int has_cog;         /* raw 3600 = n/a, above is invalid */
	double cog;          /* degrees true, 0-359.9 */
	int has_heading;     /* raw 511 = n/a, 360-510 invalid */
	int heading;         /* degrees true, 0-359 */
	int second;          /* UTC second 0-59; 60 n/a, 61 manual, 62 dead
			      * reckoning, 63 inoperative (see ais_time_ms);
			      * 60 for types without one */
	int nav_status;      /* types 1-3 only; AIS_NAV_UNDEFINED otherwise */
	int rot;             /* types 1-3: raw int8, -128 = n/a (also others) */
	int accuracy;        /* position accuracy flag */
	int raim;

	/* Static group: types 5, 19, 24. has_* is 0 when the message does not
	 * carry the field or carries its "not available" value (empty text,
	 * ship type 0 or > 99, all dimensions 0), so a per-MMSI record can be
	 * updated with exactly the fields that have one. */
	int part;            /* type 24: 0 = A, 1 = B; -1 for other types */
	int has_name;
	char name[21];       /* '@' cut, trailing spaces stripped */
	int has_callsign;
	char callsign[8];
	int has_ship_type;
	int ship_type;       /* 1-99; 0 when not available or > 99 */
	int has_dims;        /* length = to_bow + to_stern, beam = to_port +
			      * to_starboard (511 / 63 mean "or more") */
	int to_bow, to_stern, to_port, to_starboard;
	int has_mothership;  /* 24B from an auxiliary craft (MMSI 98XXXYYYY):
			      * the dimension bits are its mother ship's MMSI */
	uint32_t mothership_mmsi;
	int epfd;            /* 5, 19: fix type, 0 undefined */
	/* type 5 */
	int ais_version;
	uint32_t imo;        /* 0 = not available (inland vessels) */
	int has_destination;
	char destination[21];
	int draught_dm;      /* 1/10 m, 0 = not available */
	int eta_month;       /* 1-12, 0 = n/a; no year on the wire */
	int eta_day;         /* 1-31, 0 = n/a */
	int eta_hour;        /* 0-23, 24 = n/a */
	int eta_minute;      /* 0-59, 60 = n/a */
	/* type 24B */
	char vendor_id[4];   /* ITU-R M.1371-4: 3 characters */
	int model;
	uint32_t serial;
};

/*
 * Decodes a whole message. Types 1/2/3 need 149 bits (through RAIM; the radio
 * status is not decoded), 18 needs 148, 19 needs 306, 5 needs 420 (420/422
 * short destinations are seen in the wild; the destination keeps the whole
 * characters present), 24A needs 160 and 24B 162. Longer messages are
 * accepted and the extra bits ignored. Returns AIS_OK, AIS_EUNSUPPORTED for
 * other types (out->type, repeat and mmsi are still filled when present),
 * AIS_ESHORT, or AIS_EBODY.
 */
int ais_decode(const struct ais_bits *b, struct ais_msg *out);

/*
 * Full UTC time of a report: recv_ms (UNIX milliseconds, or the tag block's
 * c: time x 1000) moved to the reported UTC second when second is 0-59: the
 * nearest instant whose second matches, preferring the past on a 30 s tie,
 * so the result is within -30..+29 s of recv_ms, at a whole second. For 60-63
 * (no time stamp) returns recv_ms unchanged.
 */
int64_t ais_time_ms(int64_t recv_ms, int second);

#endif
