/* nmea.h -- NMEA 0183 decoder: line splitting, RMC/GGA/$PSWID parsing, fixes.
 *
 * Pure code: bytes in, structs out. No sockets, no allocation, no globals, no
 * clock and no locale (numbers are parsed by hand, never with strtod). Used by
 * the NMEA TCP listener: bytes -> nmea_liner_push -> lines -> nmea_parse ->
 * sentences -> nmea_session_feed (one session per source) -> fixes.
 *
 * Conventions: functions return 0 (NMEA_OK) on success and a negative NMEA_E*
 * code on error; nmea_parse also returns the positive NMEA_IGNORED for a
 * well-formed sentence we do not use. Pointers passed in are borrowed; output
 * structs are owned by the caller.
 */
#ifndef SW_NMEA_H
#define SW_NMEA_H

#include <stddef.h>
#include <stdint.h>

/* Longest line accepted, in bytes, without the line end (trailing CRs and the
 * LF). The standard's 82 is exceeded by multi-GNSS receivers (7-decimal
 * minutes, extra fields) and by NMEA 4.0 tag blocks. */
#define NMEA_MAX_LINE 256

/* Longest $PSWID identifier (decimal digits: a JT/T 808 terminal or an MMSI). */
#define NMEA_MAX_ID 20

enum nmea_err {
	NMEA_OK = 0,
	NMEA_IGNORED = 1,      /* well-formed, checksum good, but not a sentence
				* we use (GSV, VTG, $P..., !AIVDM...): not garbage */
	NMEA_ESYNTAX = -1,     /* not an NMEA sentence: no '$'/'!', bad address,
				* control or non-ASCII byte, junk after *hh,
				* malformed tag block */
	NMEA_ENOCHECKSUM = -2, /* no "*hh" (checksums are required, see below) */
	NMEA_ECHECKSUM = -3,   /* "*hh" does not match the XOR of the sentence */
	NMEA_ESHORT = -4,      /* RMC/GGA/$PSWID with too few fields */
	NMEA_EFIELD = -5,      /* a field is malformed or out of range (latitude
				* over 90, minutes >= 60, month 13, hour 24...);
				* nmea_sentence.err_field says which */
	NMEA_ETOOLONG = -6,    /* line longer than NMEA_MAX_LINE */
};

/* Returns a static English description of an NMEA_* code. */
const char *nmea_strerror(int err);

/* ------------------------------------------------------------------ lines */

/* Per-connection line splitter. A TCP read is not a line: bytes are pushed in
 * any chunking and complete lines come out. Zero-initialise (or
 * nmea_liner_init) before use. */
struct nmea_liner {
	char buf[NMEA_MAX_LINE];
	size_t len;      /* bytes of the current line in buf */
	size_t cr;       /* CRs seen after buf[len-1], not yet known to be
			  * trailing (they are dropped if an LF follows) */
	int skipping;    /* the current line overflowed: drop bytes to the LF */
};

void nmea_liner_init(struct nmea_liner *l);

/* Called once per line found by nmea_liner_push / nmea_liner_flush.
 * line/len: the line without its LF and without trailing CRs, borrowed until
 * the callback returns; not NUL-terminated. err is NMEA_OK, or NMEA_ETOOLONG
 * (line is then NULL) as soon as a line outgrows NMEA_MAX_LINE; the rest of
 * that line, up to its LF, is then dropped without another call. Empty lines
 * (a bare CRLF) are not reported. Return 0 to continue, non-zero to stop
 * (e.g. the connection is being closed). */
typedef int (*nmea_line_cb)(void *user, const char *line, size_t len, int err);

/* Pushes len bytes of a stream. Lines end at LF; CRs right before the LF are
 * stripped; any byte, including NUL, is otherwise kept for nmea_parse to
 * judge. An unterminated last line stays buffered until its LF arrives (or
 * nmea_liner_flush). Returns 0, or the callback's non-zero return, in which
 * case the rest of data is not consumed. */
int nmea_liner_push(struct nmea_liner *l, const char *data, size_t len,
		    nmea_line_cb cb, void *user);

/* Delivers a buffered unterminated line, as if an LF had arrived: for the end
 * of a UDP datagram or of a stream. Returns 0 or the callback's return. */
int nmea_liner_flush(struct nmea_liner *l, nmea_line_cb cb, void *user);

/* ------------------------------------------------------------------ sentences */

enum nmea_type {
	NMEA_OTHER = 0, /* with NMEA_IGNORED; only talker/address are set */
	NMEA_RMC,       /* any talker: GP GN BD GB GL GA GQ GI ... */
	NMEA_GGA,
	NMEA_PSWID,     /* $PSWID,<id>*hh: a connection names its vessel */
};

struct nmea_sentence {
	int type;            /* enum nmea_type */
	char address[8];     /* "GNRMC", "PSWID", "AIVDM" (cut to 7 chars) */
	char talker[3];      /* "GN", "BD"...; "" for proprietary $P... and
			      * for '!' (AIS) sentences */
	int err_field;       /* with NMEA_EFIELD: the 1-based field index */

	/* RMC and GGA. Empty fields leave has_* at 0. */
	int has_time;
	int32_t tod_ms;      /* UTC time of day, ms; fraction digits beyond
			      * the millisecond are truncated; a leap second
			      * 23:59:60 becomes 23:59:59.999 */
	int has_date;        /* RMC only */
	int year, month, day; /* two-digit years: yy < 80 -> 20yy, else 19yy */
	int has_pos;         /* the four lat/lon fields were all present */
	double lat, lon;     /* degrees, S and W negative */
	int valid;           /* RMC: status A and mode (field 12, when present)
			      * not N -- nav status (field 13) is ignored;
			      * GGA: quality > 0 */

	/* RMC */
	char status;         /* 'A', 'V' or '\0' (empty) */
	char mode;           /* field 12 or '\0' (absent/empty) */
	int has_speed;
	double speed_kn;     /* knots */
	int has_course;
	double course;       /* degrees true, [0, 360) (360 becomes 0) */

	/* GGA */
	int quality;         /* 0 invalid ... 8 simulation; empty -> 0 */
	int satellites;      /* -1 when empty */
	int has_hdop;
	double hdop;
	int has_altitude;
	double altitude_m;   /* above mean sea level */

	/* PSWID */
	char id[NMEA_MAX_ID + 1]; /* decimal digits, 1..NMEA_MAX_ID */
};

/*
 * Parses one sentence: line[0..len), NUL not needed. Leading spaces/tabs and
 * trailing spaces/tabs/CR/LF are ignored, as is an NMEA 4.0 tag block
 * ("\s:...,c:...*hh\" before the '$'; its own checksum is checked when
 * present). The "*hh" checksum (upper or lower case hex) is REQUIRED: unlike
 * gpsd, which accepts a sentence without one, we reject it (NMEA_ENOCHECKSUM),
 * since over TCP a line without a checksum cannot be told from a corrupt
 * or truncated one, and every receiver and gateway we target sends one.
 *
 * Fields are taken by position; extra fields and trailing commas are
 * tolerated, and empty fields mean "no data". Coordinates are converted from
 * the decimal text exactly (one rounding), any number of decimals.
 *
 * Returns NMEA_OK with out filled for RMC, GGA and $PSWID; NMEA_IGNORED for
 * any other well-formed sentence (out->type NMEA_OTHER, address and talker
 * set); or a negative NMEA_E* code (out is then partly filled and must not be
 * used, except err_field).
 */
int nmea_parse(const char *line, size_t len, struct nmea_sentence *out);

/* XOR of the bytes. */
uint8_t nmea_checksum(const char *p, size_t len);

/* ------------------------------------------------------------------ fixes */

struct nmea_fix {
	int64_t time_ms;     /* UTC, ms since 1970-01-01 */
	double lat, lon;     /* degrees, S and W negative */
	int valid;           /* 0: the receiver said the fix is not valid (RMC V
			      * or mode N, GGA quality 0): store as evidence,
			      * never as a position */
	int has_speed;
	double speed_kn;
	int has_course;
	double course;
	int has_altitude;
	double altitude_m;
	int satellites;      /* -1 unknown (no GGA for this epoch) */
	int quality;         /* GGA quality, -1 unknown (no GGA for this epoch) */
	int has_hdop;
	double hdop;
	char talker[3];      /* of the sentence the position came from */
};

/* Per-source state that turns sentences into fixes (one per connection or
 * source address). Zero-initialise or nmea_session_init before use. */
struct nmea_session {
	int have_anchor;        /* a date is known (from an RMC) */
	int64_t anchor_day_ms;  /* 00:00 UTC of that date */
	int32_t anchor_tod_ms;  /* time of day it goes with */
	int have_rmc;
	int64_t last_rmc_ms;    /* epoch of the last RMC (any talker, any
				 * validity, emitted or not) */
	int have_gga, have_prev_gga;
	int64_t last_gga_ms;    /* epoch of the last GGA */
	int64_t prev_gga_ms;    /* the GGA epoch before that one */
	int have_gn_rmc, have_gn_gga;
	int64_t last_gn_rmc_ms, last_gn_gga_ms;
	int have_emitted;
	int64_t last_emit_ms;   /* epoch of the last fix returned */
	int have_pending;       /* GGA data waiting for the RMC of its epoch */
	struct nmea_fix pending;
};

void nmea_session_init(struct nmea_session *s);

/*
 * Feeds one parsed sentence (nmea_parse returned NMEA_OK) of this source.
 * Returns the number of fixes to store (0, 1 or 2), written to out[] oldest
 * first: a held GGA whose RMC never came is released when a later epoch
 * arrives, so no epoch is lost.
 *
 * - Time: RMC carries date and time (UTC). GGA has no date: it takes the date
 *   of the last RMC of this source (then of the last dated GGA), adding a day
 *   when its time of day is more than 12 h earlier than that one's (midnight
 *   rollover) and taking one off when more than 12 h later. Before any RMC a
 *   GGA has no date and gives no fix. An RMC with an empty date is dated the
 *   same way.
 * - One fix per epoch (exact UTC time): the first RMC of an epoch is returned
 *   at once; later sentences of that epoch (other talkers, its GGA) are
 *   dropped. While GN sentences arrive (within 5 s), RMC/GGA from single-
 *   system talkers (GP, BD, GB, GL...) are dropped: GN is the combined fix.
 * - A GGA that comes before the RMC of its epoch is held, and its altitude,
 *   satellites, quality and HDOP go into that RMC's fix. A source whose RMCs
 *   stop coming (a GGA arrives and no RMC came for the previous GGA's epoch)
 *   gets a fix from each GGA, returned at once (the held one is released
 *   with it).
 * - Invalid fixes (RMC V or mode N, GGA quality 0) are returned with
 *   valid = 0 when they carry coordinates, except 0/0 (receivers print
 *   "0000.0000,N,00000.0000,E" for "no position").
 */
#define NMEA_FIXES_MAX 2
int nmea_session_feed(struct nmea_session *s, const struct nmea_sentence *in,
		      struct nmea_fix out[NMEA_FIXES_MAX]);

/* Days since 1970-01-01 of a proleptic Gregorian date (exposed for tests). */
int64_t nmea_days_from_civil(int year, int month, int day);

#endif
