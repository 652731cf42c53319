/* jt808.h -- JT/T 808 (2011/2013/2019) codec: framing, headers, message bodies.
 *
 * Pure code: bytes in, structs out (and structs in, bytes out). No sockets, no
 * allocation, no globals, no clock: callers pass the time zone offset and the
 * time. Used by the server's raw TCP listener and by shorewatch-sim.
 *
 * Conventions: functions return 0 (JT808_OK) on success and a negative
 * JT808_E* code on error; pointers passed in are borrowed; output structs are
 * owned by the caller. All multi-byte integers on the wire are big-endian.
 */
#ifndef SW_JT808_H
#define SW_JT808_H

#include <stddef.h>
#include <stdint.h>

#define JT808_MAX_BODY 1023
/* header (max 21) + body + check code, unescaped */
#define JT808_MAX_CONTENT (21 + JT808_MAX_BODY + 1)
/* worst case on the wire: every byte escaped, plus the two flags */
#define JT808_MAX_WIRE (2 * JT808_MAX_CONTENT + 2)

enum jt808_err {
	JT808_OK = 0,
	JT808_ESHORT = -1,    /* content too short for a header / body too short */
	JT808_ECHECK = -2,    /* check code mismatch */
	JT808_EESCAPE = -3,   /* 0x7D followed by something other than 01/02 */
	JT808_ELENGTH = -4,   /* body length field contradicts the frame size */
	JT808_ETOOLONG = -5,  /* frame longer than JT808_MAX_WIRE without a flag */
	JT808_EBODY = -6,     /* body malformed for its message id */
	JT808_ESPACE = -7,    /* output buffer too small */
	JT808_ETIME = -8,     /* BCD time invalid (nibble > 9, month 13, ...) */
};

/* Returns a static English description of a JT808_E* code. */
const char *jt808_strerror(int err);

/* Message ids used by Shorewatch. */
enum {
	JT808_TERM_RESPONSE = 0x0001,
	JT808_HEARTBEAT = 0x0002,
	JT808_LOGOUT = 0x0003,
	JT808_REGISTER = 0x0100,
	JT808_AUTH = 0x0102,
	JT808_LOCATION = 0x0200,
	JT808_LOCATION_BATCH = 0x0704,
	JT808_PLAT_RESPONSE = 0x8001,
	JT808_REGISTER_RESPONSE = 0x8100,
};

/* Results of 0x8001 / 0x8100. */
enum {
	JT808_RESULT_OK = 0,
	JT808_RESULT_FAIL = 1,
	JT808_RESULT_MSG_ERROR = 2,
	JT808_RESULT_UNSUPPORTED = 3,
	/* 0x8100 only */
	JT808_REG_VEHICLE_REGISTERED = 1,
	JT808_REG_VEHICLE_UNKNOWN = 2,
	JT808_REG_TERMINAL_REGISTERED = 3,
	JT808_REG_TERMINAL_UNKNOWN = 4,
};

/* ------------------------------------------------------------------ framing */

/* Per-connection frame reassembler. A TCP read is not a message: bytes are
 * pushed in any chunking and complete frames come out. Zero-initialise (or
 * jt808_framer_init) before use. */
struct jt808_framer {
	uint8_t buf[JT808_MAX_CONTENT]; /* unescaped content of the frame so far */
	size_t len;
	int in_frame;     /* a 0x7E start flag has been seen */
	int pending_7d;   /* last byte was 0x7D, escape not yet resolved */
	int bad;          /* current frame had an invalid escape / overflow */
	int bad_err;      /* JT808_E* for a bad frame */
};

void jt808_framer_init(struct jt808_framer *f);

/* Called once per complete frame found by jt808_framer_push.
 * content/len: the unescaped bytes between the flags (header, body, check
 * code), borrowed until the callback returns. err is JT808_OK, or
 * JT808_EESCAPE / JT808_ETOOLONG when the frame had to be dropped (content is
 * then NULL). Return 0 to continue, non-zero to stop pushing (e.g. the
 * connection is being closed); jt808_framer_push then returns that value. */
typedef int (*jt808_frame_cb)(void *user, const uint8_t *content, size_t len,
			      int err);

/* Pushes len bytes of a TCP stream. Leading garbage before the first flag is
 * skipped; back-to-back frames (7E 7E) and empty frames are handled; a frame
 * split anywhere, including between 7D and its second byte, is kept until its
 * closing flag arrives. Returns 0, or the callback's non-zero return. */
int jt808_framer_push(struct jt808_framer *f, const uint8_t *data, size_t len,
		      jt808_frame_cb cb, void *user);

/* Unescapes in[0..len) (no flags) into out. Returns the output length or
 * JT808_EESCAPE / JT808_ESPACE. */
int jt808_unescape(const uint8_t *in, size_t len, uint8_t *out, size_t cap);

/* Escapes in[0..len) and wraps it in 0x7E flags. Returns the wire length or
 * JT808_ESPACE. */
int jt808_escape_frame(const uint8_t *in, size_t len, uint8_t *out,
		       size_t cap);

/* XOR of all bytes. */
uint8_t jt808_checksum(const uint8_t *p, size_t len);

/* ------------------------------------------------------------------ header */

struct jt808_header {
	uint16_t msg_id;
	uint16_t props;      /* raw body-properties word */
	uint16_t body_len;   /* bits 0-9 */
	uint8_t encryption;  /* bits 10-12 */
	uint8_t v2019;       /* 1: 17/21-byte 2019 header layout */
	uint8_t proto_ver;   /* 2019 protocol version byte, else 0 */
	uint8_t phone[10];   /* raw phone bytes as received, to echo back */
	uint8_t phone_len;   /* 6 or 10 */
	char phone_str[24];  /* decimal digits, leading zeros stripped ("0" if
			      * all zero); for non-BCD binary IMEIs, the IMEI
			      * with Luhn digit as traccar computes it */
	uint16_t serial;
	uint8_t subpackage;  /* bit 13 */
	uint16_t pkt_total;  /* valid when subpackage */
	uint16_t pkt_no;
	uint8_t header_len;  /* 12, 16, 17 or 21 */
};

struct jt808_msg {
	struct jt808_header h;
	const uint8_t *body; /* borrowed: points into the content passed in */
	size_t body_len;
};

/* Parses unescaped frame content (header, body, check code; no flags):
 * verifies the check code, decides the header layout (bit 14 set with a
 * 2013-size header is accepted when only that layout fits the length) and
 * checks the body length against the frame size. */
int jt808_decode(const uint8_t *content, size_t len, struct jt808_msg *out);

/* Builds a complete wire frame (flags, escaping, check code) for msg_id with
 * the given body, in the header version and with the exact phone bytes of
 * `like` (the terminal's own header), and our own serial. For terminal-side
 * use (the simulator), fill `like` with jt808_header_for_phone. Returns the
 * wire length or a negative error. */
int jt808_encode(const struct jt808_header *like, uint16_t msg_id,
		 uint16_t serial, const uint8_t *body, size_t body_len,
		 uint8_t *out, size_t cap);

/* Fills a header template for a terminal with this phone number (decimal
 * digits): BCD[6] when v2019 is 0, else BCD[10] with protocol version 1. */
int jt808_header_for_phone(struct jt808_header *h, const char *phone,
			   int v2019);

/* ------------------------------------------------------------------ bodies */

/* 0x0001 terminal response and 0x8001 platform response share a layout. */
struct jt808_response {
	uint16_t ack_serial;
	uint16_t ack_id;
	uint8_t result;
};
int jt808_parse_response(const uint8_t *body, size_t len,
			 struct jt808_response *out);
/* Writes the 5-byte body. Returns 5 or JT808_ESPACE. */
int jt808_body_response(const struct jt808_response *r, uint8_t *out,
			size_t cap);

/* 0x0100 registration. Text fields are NUL-terminated UTF-8 with padding
 * (0x00 and trailing spaces) removed; the plate is converted from GBK. */
struct jt808_register {
	int layout;            /* 2011, 2013 or 2019 (2011/2013 by body length) */
	uint16_t province;
	uint16_t city;
	char maker[12];
	char model[31];
	char terminal_id[31];
	uint8_t plate_color;
	char plate[64];        /* UTF-8 */
};
int jt808_parse_register(const uint8_t *body, size_t len, int v2019,
			 struct jt808_register *out);
/* Terminal side: encodes in the layout r->layout (plate converted to GBK). */
int jt808_body_register(const struct jt808_register *r, uint8_t *out,
			size_t cap);

/* 0x8100 registration response. auth_code only when result == 0. */
struct jt808_register_response {
	uint16_t ack_serial;
	uint8_t result;
	char auth_code[64];
};
int jt808_body_register_response(const struct jt808_register_response *r,
				 uint8_t *out, size_t cap);
int jt808_parse_register_response(const uint8_t *body, size_t len,
				  struct jt808_register_response *out);

/* 0x0102 authentication: 2011/2013 the whole body is the code; 2019 has a
 * length byte, the code, IMEI[15] and software version[20]. */
struct jt808_auth {
	char code[64];
	char imei[16];      /* 2019 only, else "" */
	char sw_version[21];/* 2019 only, else "" */
};
int jt808_parse_auth(const uint8_t *body, size_t len, int v2019,
		     struct jt808_auth *out);
int jt808_body_auth(const struct jt808_auth *a, int v2019, uint8_t *out,
		    size_t cap);

/* 0x0200 location report (and each 0x0704 item). */
#define JT808_MAX_EXTRAS 32
struct jt808_extra {
	uint8_t id;
	uint8_t len;
	const uint8_t *value; /* borrowed from the body */
};
struct jt808_location {
	uint32_t alarm;
	uint32_t status;
	double lat;           /* degrees, sign from status bit 2 */
	double lon;           /* degrees, sign from status bit 3 */
	int32_t lat_e6;       /* signed micro-degrees, exact */
	int32_t lon_e6;
	int16_t altitude_m;
	uint16_t speed_dkmh;  /* 1/10 km/h as on the wire */
	uint16_t course;      /* degrees 0-359 */
	int64_t time;         /* UTC unix seconds (wire time minus tz offset) */
	int time_valid;       /* 0: BCD time all zero or invalid */
	int fix_valid;        /* status bit 1 */
	/* decoded well-known extras; has_* says whether present */
	int has_mileage;  uint32_t mileage_hm; /* 0x01, 1/10 km */
	int has_signal;   uint8_t signal;      /* 0x30 */
	int has_sats;     uint8_t satellites;  /* 0x31 */
	size_t n_extras;  /* all items, known and unknown, in wire order */
	struct jt808_extra extras[JT808_MAX_EXTRAS];
	int extras_truncated; /* an item overran the body; basic block kept */
};
/* tz_offset_s: the terminal's clock offset from UTC (28800 for GMT+8). */
int jt808_parse_location(const uint8_t *body, size_t len, int tz_offset_s,
			 struct jt808_location *out);
/* Terminal side: encodes the 28-byte basic block (+ mileage, signal and
 * satellites extras when has_* is set). Coordinates are taken from lat_e6 /
 * lon_e6 and status bits 2/3 are set from their signs. */
int jt808_body_location(const struct jt808_location *l, int tz_offset_s,
			uint8_t *out, size_t cap);

/* 0x0704 batch upload: walk items with jt808_batch_next. */
struct jt808_batch {
	uint16_t count;
	uint8_t type;          /* 0 normal, 1 blind-area re-send */
	const uint8_t *items;  /* borrowed */
	size_t items_len;
	size_t off;            /* iterator */
	uint16_t seen;
};
/* Checks that the items exactly consume the body and their number equals
 * count. */
int jt808_parse_batch(const uint8_t *body, size_t len, struct jt808_batch *b);
/* Returns 1 and fills *loc with the next item, 0 at the end, <0 on error. */
int jt808_batch_next(struct jt808_batch *b, int tz_offset_s,
		     struct jt808_location *loc);

#endif
