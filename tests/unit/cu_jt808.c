/* cu_jt808.c -- cmocka tests of the JT/T 808 codec, on real captured frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "jt808.h"

/*
 * Sources of the vectors (each table row names its own):
 *  [tr]  traccar src/test/java/org/traccar/protocol/
 *        Jt808ProtocolDecoderTest.java and HuabaoProtocolDecoderTest.java
 *        (real devices). traccar's strings have already been through its
 *        frame decoder: rows marked "wire form derived" were re-escaped
 *        here; their check codes were verified on the unescaped content.
 *  [go]  cuteLittleDevil/go-jt808 protocol/model/reply_test.go (requests and
 *        asserted replies, platform serial 0) and jt808_test.go (subpackage).
 *  [sc]  SmallChi/JT808 src/JT808.Protocol.Test/MessageBody/
 *        JT808_0x0704Test.cs (frame and asserted decoded values).
 *  [yn]  yunnet's Erlang test_escape.erl, 2016 (0x0200 whose check code is
 *        0x7E, sent as 7D 02).
 *  [gx]  a Go utils TestCode() escape sample (0x8001, check code 0x7E).
 *  [pr]  /work/shared/PROTOCOLS.md section 1 worked examples.
 */

#define GMT8 28800

/* ------------------------------------------------------------------ helpers */

static size_t hex2bin(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	for (; *hex; hex++) {
		int v;
		char c = *hex;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			assert_true(n < cap);
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_int_equal(hi, -1);
	return n;
}

struct got_frame {
	int err;
	size_t len;
	uint8_t c[JT808_MAX_CONTENT];
};

struct collector {
	size_t n;
	struct got_frame f[16];
	int stop_after; /* return non-zero after this many frames, 0: never */
};

static int collect_cb(void *user, const uint8_t *content, size_t len, int err)
{
	struct collector *c = user;
	struct got_frame *g;

	assert_true(c->n < sizeof(c->f) / sizeof(c->f[0]));
	g = &c->f[c->n++];
	g->err = err;
	g->len = len;
	if (err == JT808_OK) {
		assert_non_null(content);
		assert_true(len <= sizeof(g->c));
		memcpy(g->c, content, len);
	} else {
		assert_null(content);
	}
	if (c->stop_after && c->n >= (size_t)c->stop_after)
		return 42;
	return 0;
}

static void assert_same_frames(const struct collector *a,
			       const struct collector *b)
{
	size_t i;

	assert_int_equal(a->n, b->n);
	for (i = 0; i < a->n; i++) {
		assert_int_equal(a->f[i].err, b->f[i].err);
		assert_int_equal(a->f[i].len, b->f[i].len);
		assert_memory_equal(a->f[i].c, b->f[i].c, a->f[i].len);
	}
}

/* Pushes one wire frame (hex) through a fresh framer, expects exactly one
 * good frame and decodes it. content must outlive msg. */
static int wire_decode(const char *hex, uint8_t *content, size_t *clen,
		       struct jt808_msg *msg)
{
	static uint8_t wire[JT808_MAX_WIRE];
	struct jt808_framer f;
	struct collector *c = test_malloc(sizeof(*c));
	size_t n = hex2bin(hex, wire, sizeof(wire));
	int r;

	memset(c, 0, sizeof(*c));
	jt808_framer_init(&f);
	assert_int_equal(jt808_framer_push(&f, wire, n, collect_cb, c), 0);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->f[0].err, JT808_OK);
	memcpy(content, c->f[0].c, c->f[0].len);
	*clen = c->f[0].len;
	test_free(c);
	r = jt808_decode(content, *clen, msg);
	return r;
}

/* Re-computes the check code of unescaped content in place. */
static void fix_check(uint8_t *c, size_t len)
{
	c[len - 1] = jt808_checksum(c, len - 1);
}

/* ------------------------------------------------------------------ framing */

static void test_checksum_and_escape_vector(void **state)
{
	/* [pr] 1.2 worked example (also traccar Jt808FrameDecoderTest) */
	static const uint8_t content[] = { 0x30, 0x7E, 0x08, 0x7D, 0x55 };
	static const uint8_t wire[] = { 0x7E, 0x30, 0x7D, 0x02, 0x08,
					0x7D, 0x01, 0x55, 0x7E };
	uint8_t out[32];
	int n;

	n = jt808_escape_frame(content, sizeof(content), out, sizeof(out));
	assert_int_equal(n, sizeof(wire));
	assert_memory_equal(out, wire, sizeof(wire));
	n = jt808_unescape(wire + 1, sizeof(wire) - 2, out, sizeof(out));
	assert_int_equal(n, sizeof(content));
	assert_memory_equal(out, content, sizeof(content));

	assert_int_equal(jt808_checksum(content, 0), 0);
	assert_int_equal(jt808_checksum(content, sizeof(content)),
			 0x30 ^ 0x7E ^ 0x08 ^ 0x7D ^ 0x55);
	/* exact fit and one byte short */
	assert_int_equal(jt808_escape_frame(content, sizeof(content), out,
					    sizeof(wire)),
			 sizeof(wire));
	assert_int_equal(jt808_escape_frame(content, sizeof(content), out,
					    sizeof(wire) - 1),
			 JT808_ESPACE);
	assert_int_equal(jt808_escape_frame(content, 0, out, 1), JT808_ESPACE);
	assert_int_equal(jt808_escape_frame(content, 0, out, 2), 2);
}

static void test_unescape_errors(void **state)
{
	struct {
		const char *hex;
		int want;
	} t[] = {
		{ "007d03", JT808_EESCAPE },   /* 7D followed by 03 */
		{ "00017d", JT808_EESCAPE },   /* trailing 7D */
		{ "007d7e00", JT808_EESCAPE }, /* flag after 7D */
		{ "00007e", JT808_EESCAPE },   /* bare flag inside */
		{ "7d017d02", 2 },
		{ "", 0 },
	};
	uint8_t in[16], out[16];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t n = hex2bin(t[i].hex, in, sizeof(in));

		assert_int_equal(jt808_unescape(in, n, out, sizeof(out)),
				 t[i].want);
	}
	assert_int_equal(jt808_unescape((const uint8_t *)"\x7d\x01\x7d\x02", 4,
					out, 1),
			 JT808_ESPACE);
}

/* One row per real frame: header fields as the sources state them. */
struct hdr_row {
	const char *name;
	const char *wire;
	uint16_t msg_id;
	int v2019;
	uint8_t proto_ver;
	uint8_t header_len;
	const char *phone;
	uint16_t serial;
	uint16_t body_len;
	uint16_t pkt_total, pkt_no; /* 0 when not subpackaged */
};

static const struct hdr_row hdr_rows[] = {
	{ "[go] heartbeat 2013", "7e000200000123456789017fff0a7e", 0x0002, 0,
	  0, 12, "12345678901", 0x7fff, 0, 0, 0 },
	{ "[go] heartbeat 2019", "7e000240000100000000017299841738ffff027e",
	  0x0002, 1, 1, 17, "17299841738", 0xffff, 0, 0, 0 },
	{ "[tr] heartbeat", "7e0002000004304832546500b7ca7e", 0x0002, 0, 0,
	  12, "43048325465", 0x00b7, 0, 0, 0 },
	{ "[go] 0x0801 subpackage 2 of 26",
	  "7E0801200500123456789002DE001A00022808000102537E", 0x0801, 0, 0,
	  16, "1234567890", 0x02de, 5, 26, 2 },
	{ "[tr] 0x0100 2019, phone is the IMEI",
	  "7e0100405c010000086649607758216452180000000000000000000000000000004d"
	  "4433303000000000000000000000000000000000000000000000000000383636343936"
	  "30373735383231363400000000000000000000000000000004000000000000000000"
	  "000000000000007a7e",
	  0x0100, 1, 1, 17, "866496077582164", 0x5218, 92, 0, 0 },
	{ "[tr] JC371 binary phone, 7D in latitude (wire form derived)",
	  "7e020000344eb6fb4ad6280001000000000000000301587d010106cbff66000000"
	  "00000026010112000001040000007b30011831010ae80a2003070105019f030190"
	  "657e",
	  0x0200, 0, 0, 12, "865478070001047", 1, 52, 0, 0 },
	{ "[yn] 0x0200 check code 7E escaped",
	  "7E0200001C01318000099900080000000000000003019410A106694C130064002800"
	  "1E1610190953487D027E",
	  0x0200, 0, 0, 12, "13180000999", 8, 28, 0, 0 },
	{ "[gx] 0x8001 check code 7E escaped",
	  "7E80010005013789300274000200020102007D027E", 0x8001, 0, 0, 12,
	  "13789300274", 2, 5, 0, 0 },
	{ "[tr] 0x0200 7E in an extra (escaped on the wire)",
	  "7E020000830191715904370A2E00000000800000030158991806CA0FEB0004000001"
	  "0D211108194050010400000003CC1438393836303437383130323037303331383630"
	  "3830011A8001AA810213888202007A8301148401AA8502189B8601338702007D0288"
	  "01338901148A0200998B1131323334353637383941424344454647488C04000200A8"
	  "8D0200828E0114A0002E7E",
	  0x0200, 0, 0, 12, "19171590437", 0x0a2e, 131, 0, 0 },
	{ "[tr] 0x0200 7D in an extra (wire form derived)",
	  "7e0200008201215233475100030000000000000003015a7f6106cf8cec003d000000"
	  "0021071311481901040000005630011931011ae10200755d3d0601cc0024990a7d01"
	  "a0032301cc002499099b2941fc01cc002499099b29430b01cc0024990a7d01a02906"
	  "01cc0024990a7d01a015fd01cc0026220994506bfffe157c010400000001f10c0000"
	  "00000000000000000000997e",
	  0x0200, 0, 0, 12, "12152334751", 3, 130, 0, 0 },
	{ "[tr] 0x0704 2019", "7e0704402d0100000866496077582164881d000100002800"
	  "0000000000000701a00192091f2a470016000000022605091642270104000025823001"
	  "0031010e507e",
	  0x0704, 1, 1, 17, "866496077582164", 0x881d, 45, 0, 0 },
	{ "[go] 0x0102 2019",
	  "7e0102402f010000000001729984173800000b313732393938343137333831323334"
	  "3536373839303132333435332e372e31350000000000000000000000000000227e",
	  0x0102, 1, 1, 17, "17299841738", 0, 47, 0, 0 },
};

static void test_decode_real_headers(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(hdr_rows) / sizeof(hdr_rows[0]); i++) {
		const struct hdr_row *r = &hdr_rows[i];
		uint8_t c[JT808_MAX_CONTENT];
		struct jt808_msg m;
		size_t clen;

		print_message("%s\n", r->name);
		assert_int_equal(wire_decode(r->wire, c, &clen, &m), JT808_OK);
		assert_int_equal(m.h.msg_id, r->msg_id);
		assert_int_equal(m.h.v2019, r->v2019);
		assert_int_equal(m.h.proto_ver, r->proto_ver);
		assert_int_equal(m.h.header_len, r->header_len);
		assert_int_equal(m.h.phone_len, r->v2019 ? 10 : 6);
		assert_string_equal(m.h.phone_str, r->phone);
		assert_int_equal(m.h.serial, r->serial);
		assert_int_equal(m.h.body_len, r->body_len);
		assert_int_equal(m.body_len, r->body_len);
		assert_ptr_equal(m.body, c + r->header_len);
		assert_int_equal(m.h.subpackage, r->pkt_total ? 1 : 0);
		assert_int_equal(m.h.pkt_total, r->pkt_total);
		assert_int_equal(m.h.pkt_no, r->pkt_no);
		assert_int_equal(m.h.encryption, 0);
		assert_memory_equal(m.h.phone, c + (r->v2019 ? 5 : 4),
				    m.h.phone_len);
	}
}

/* Every frame of the table, back to back with garbage in front, split at
 * every byte boundary (and pushed byte by byte) gives the same frames. */
static void test_framer_every_split(void **state)
{
	static uint8_t stream[4096];
	struct collector *ref = test_malloc(sizeof(*ref));
	struct collector *got = test_malloc(sizeof(*got));
	struct jt808_framer f;
	size_t n = 0, i, k, nframes = 0;

	n += hex2bin("2424000102", stream, sizeof(stream)); /* garbage */
	for (i = 0; i < sizeof(hdr_rows) / sizeof(hdr_rows[0]); i++) {
		n += hex2bin(hdr_rows[i].wire, stream + n, sizeof(stream) - n);
		nframes++;
	}
	memset(ref, 0, sizeof(*ref));
	jt808_framer_init(&f);
	assert_int_equal(jt808_framer_push(&f, stream, n, collect_cb, ref), 0);
	assert_int_equal(ref->n, nframes);
	for (i = 0; i < ref->n; i++) {
		struct jt808_msg m;

		assert_int_equal(ref->f[i].err, JT808_OK);
		assert_int_equal(jt808_decode(ref->f[i].c, ref->f[i].len, &m),
				 JT808_OK);
	}

	for (k = 0; k <= n; k++) {
		memset(got, 0, sizeof(*got));
		jt808_framer_init(&f);
		assert_int_equal(jt808_framer_push(&f, stream, k, collect_cb,
						   got),
				 0);
		assert_int_equal(jt808_framer_push(&f, stream + k, n - k,
						   collect_cb, got),
				 0);
		assert_same_frames(ref, got);
	}
	memset(got, 0, sizeof(*got));
	jt808_framer_init(&f);
	for (k = 0; k < n; k++)
		assert_int_equal(jt808_framer_push(&f, stream + k, 1,
						   collect_cb, got),
				 0);
	assert_same_frames(ref, got);
	test_free(ref);
	test_free(got);
}

static void test_framer_flags_and_errors(void **state)
{
	static const struct {
		const char *name;
		const char *stream;
		size_t n;
		int err[4];
		size_t len[4];
	} t[] = {
		{ "single shared flag between frames",
		  "7e000200000123456789017fff0a7e000200000123456789017fff0a7e",
		  2, { 0, 0 }, { 13, 13 } },
		{ "empty frames skipped", "7e7e7e7e7e0102037e7e", 1, { 0 },
		  { 3 } },
		{ "no flag: nothing", "0102037d", 0, { 0 }, { 0 } },
		{ "unterminated frame: nothing yet", "7e010203", 0, { 0 },
		  { 0 } },
		{ "invalid escape, then the next frame",
		  "7e01027d03047e7e0a0b7e", 2, { JT808_EESCAPE, 0 }, { 0, 2 } },
		{ "7D right before the closing flag",
		  "7e01027d7e7e0a7d017e", 2, { JT808_EESCAPE, 0 }, { 0, 2 } },
	};
	uint8_t s[128];
	size_t i, j, n, k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct collector *c = test_malloc(sizeof(*c));
		struct collector *one = test_malloc(sizeof(*one));
		struct jt808_framer f;

		print_message("%s\n", t[i].name);
		n = hex2bin(t[i].stream, s, sizeof(s));
		memset(c, 0, sizeof(*c));
		jt808_framer_init(&f);
		assert_int_equal(jt808_framer_push(&f, s, n, collect_cb, c), 0);
		assert_int_equal(c->n, t[i].n);
		for (j = 0; j < t[i].n; j++) {
			assert_int_equal(c->f[j].err, t[i].err[j]);
			assert_int_equal(c->f[j].len, t[i].len[j]);
		}
		/* byte by byte, so a 7D at the end of a read is kept */
		memset(one, 0, sizeof(*one));
		jt808_framer_init(&f);
		for (k = 0; k < n; k++)
			jt808_framer_push(&f, s + k, 1, collect_cb, one);
		assert_same_frames(c, one);
		test_free(c);
		test_free(one);
	}
}

static void test_framer_too_long(void **state)
{
	static uint8_t s[2 * JT808_MAX_WIRE];
	static const uint8_t hb[] = { 0x7e, 0x00, 0x02, 0x00, 0x00, 0x01,
				      0x23, 0x45, 0x67, 0x89, 0x01, 0x7f,
				      0xff, 0x0a, 0x7e };
	struct collector *c = test_malloc(sizeof(*c));
	struct jt808_framer f;
	size_t n = 0, k;

	s[n++] = 0x7e;
	for (k = 0; k < JT808_MAX_CONTENT + 500; k++)
		s[n++] = 0x11;
	memcpy(s + n, hb, sizeof(hb));
	n += sizeof(hb);

	memset(c, 0, sizeof(*c));
	jt808_framer_init(&f);
	assert_int_equal(jt808_framer_push(&f, s, n, collect_cb, c), 0);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->f[0].err, JT808_ETOOLONG);
	assert_int_equal(c->f[1].err, JT808_OK);
	assert_int_equal(c->f[1].len, 13);

	/* exactly JT808_MAX_CONTENT bytes is still a frame (then ECHECK or
	 * whatever the decoder says, not the framer's business) */
	n = 0;
	s[n++] = 0x7e;
	for (k = 0; k < JT808_MAX_CONTENT; k++)
		s[n++] = 0x11;
	s[n++] = 0x7e;
	memset(c, 0, sizeof(*c));
	jt808_framer_init(&f);
	assert_int_equal(jt808_framer_push(&f, s, n, collect_cb, c), 0);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->f[0].err, JT808_OK);
	assert_int_equal(c->f[0].len, JT808_MAX_CONTENT);
	test_free(c);
}

static void test_framer_stop(void **state)
{
	uint8_t s[64];
	size_t n = hex2bin("7e0a7e7e0b7e7e0c7e", s, sizeof(s));
	struct collector *c = test_malloc(sizeof(*c));
	struct jt808_framer f;

	memset(c, 0, sizeof(*c));
	c->stop_after = 2;
	jt808_framer_init(&f);
	assert_int_equal(jt808_framer_push(&f, s, n, collect_cb, c), 42);
	assert_int_equal(c->n, 2);
	assert_int_equal(c->f[1].c[0], 0x0b);
	test_free(c);
}

/* ------------------------------------------------------------------ header */

static void test_decode_errors(void **state)
{
	uint8_t c[64];
	struct jt808_msg m;
	size_t n;

	/* [go] heartbeat 2013, content only */
	n = hex2bin("000200000123456789017fff0a", c, sizeof(c));
	assert_int_equal(jt808_decode(c, n, &m), JT808_OK);
	c[n - 1] ^= 1; /* bad check code */
	assert_int_equal(jt808_decode(c, n, &m), JT808_ECHECK);
	c[n - 1] ^= 1;
	assert_int_equal(jt808_decode(c, n - 1, &m), JT808_ESHORT);
	assert_int_equal(jt808_decode(c, 0, &m), JT808_ESHORT);

	/* body length says 1, frame carries none */
	c[3] = 0x01;
	fix_check(c, n);
	assert_int_equal(jt808_decode(c, n, &m), JT808_ELENGTH);
	/* extra byte not covered by the body length */
	n = hex2bin("000200000123456789017fff550a", c, sizeof(c));
	fix_check(c, n);
	assert_int_equal(jt808_decode(c, n, &m), JT808_ELENGTH);
	/* subpackage bit set but no room for the item */
	n = hex2bin("000220000123456789017fff0a", c, sizeof(c));
	fix_check(c, n);
	assert_int_equal(jt808_decode(c, n, &m), JT808_ESHORT);

	/* [go] heartbeat 2019 with a body length that fits neither layout */
	n = hex2bin("000240030100000000017299841738ffff02", c, sizeof(c));
	fix_check(c, n);
	assert_int_equal(jt808_decode(c, n, &m), JT808_ELENGTH);
	/* 2019 flag, 2019 size, but checksum broken */
	n = hex2bin("000240000100000000017299841738ffff03", c, sizeof(c));
	assert_int_equal(jt808_decode(c, n, &m), JT808_ECHECK);
}

/* Bit 14 set with a 2013 header (devices do this; constructed from the [tr]
 * south/west 0x0200 by setting bit 14 and re-computing the check code). */
static void test_decode_bit14_with_2013_layout(void **state)
{
	uint8_t c[128];
	struct jt808_msg m;
	struct jt808_location l;
	size_t n;

	n = hex2bin("020040220014012499170007000000000000400e012af16f02cbd2ba"
		    "000000000000150101194257010400000077a9",
		    c, sizeof(c));
	fix_check(c, n);
	assert_int_equal(jt808_decode(c, n, &m), JT808_OK);
	assert_int_equal(m.h.v2019, 0);
	assert_int_equal(m.h.header_len, 12);
	assert_int_equal(m.h.props, 0x4022);
	assert_int_equal(m.h.body_len, 34);
	assert_string_equal(m.h.phone_str, "1401249917");
	assert_int_equal(m.h.serial, 7);
	assert_int_equal(jt808_parse_location(m.body, m.body_len, GMT8, &l),
			 JT808_OK);
	assert_int_equal(l.lat_e6, -19591535);
}

static void test_binary_phone_luhn(void **state)
{
	/* [pr] 4EB6FB4AD628 -> 865478070001047 (traccar JC371 frames) */
	struct jt808_msg m;
	uint8_t c[64];
	size_t n;

	n = hex2bin("00020000" "4eb6fb4ad628" "0001" "00", c, sizeof(c));
	fix_check(c, n);
	assert_int_equal(jt808_decode(c, n, &m), JT808_OK);
	assert_string_equal(m.h.phone_str, "865478070001047");
	/* all-zero BCD */
	n = hex2bin("00020000" "000000000000" "0001" "00", c, sizeof(c));
	fix_check(c, n);
	assert_int_equal(jt808_decode(c, n, &m), JT808_OK);
	assert_string_equal(m.h.phone_str, "0");
	/* 2019 field with a binary IMEI in its last six bytes */
	n = hex2bin("00024000" "01" "000000004eb6fb4ad628" "0001" "00", c,
		    sizeof(c));
	fix_check(c, n);
	assert_int_equal(jt808_decode(c, n, &m), JT808_OK);
	assert_string_equal(m.h.phone_str, "865478070001047");
	/* not BCD and too wide: hex, without crashing */
	n = hex2bin("00024000" "01" "ffeeddccbbaa99887766" "0001" "00", c,
		    sizeof(c));
	fix_check(c, n);
	assert_int_equal(jt808_decode(c, n, &m), JT808_OK);
	assert_string_equal(m.h.phone_str, "FFEEDDCCBBAA99887766");
}

/* Server replies: request in, our 0x8001/0x8100 out, byte-exact against the
 * [go] asserted replies (platform serial 0). */
static void test_encode_replies(void **state)
{
	static const struct {
		const char *name;
		const char *req;
		uint16_t reply_id;
		const char *auth; /* 0x8100: auth code, else NULL */
		uint8_t result;   /* 0x8001 result as asserted */
		const char *want;
	} t[] = {
		{ "[go][pr] heartbeat 2013", "7e000200000123456789017fff0a7e",
		  0x8001, NULL, 0, "7e8001000501234567890100007fff0002008e7e" },
		{ "[go] heartbeat 2019", "7e000240000100000000017299841738ffff027e",
		  0x8001, NULL, 0,
		  "7e8001400501000000000172998417380000ffff000200867e" },
		{ "[go] 0x0001 2013", "7e000100050123456789017fff007b01c803bd7e",
		  0x8001, NULL, 0, "7e8001000501234567890100007fff0001008d7e" },
		{ "[go] 0x0102 2013",
		  "7e0102000b01234567890100003137323939383431373338b57e", 0x8001,
		  NULL, 1, /* go-jt808's 2013 auth check fails: result 1 */
		  "7e80010005012345678901000000000102010e7e" },
		{ "[go] 0x0102 2019",
		  "7e0102402f010000000001729984173800000b313732393938343137333831"
		  "3233343536373839303132333435332e372e31350000000000000000000000"
		  "000000227e",
		  0x8001, NULL, 0,
		  "7e80014005010000000001729984173800000000010200877e" },
		{ "[go] 0x0200 2019",
		  "7e0200407c0100000000017299841738ffff000004000000080006eeb6ad0263"
		  "3df701380003006320070719235901040000000b020200160302002104020"
		  "02c051e37373700000000000000000000000000000000000000000000000000"
		  "00001105420000004212064d0000004d4d1307000000580058582504000000"
		  "632a02000a2b040000001430011e310128637e",
		  0x8001, NULL, 0,
		  "7e8001400501000000000172998417380000ffff020000867e" },
		{ "[go] 0x0704 2013",
		  "7e0704005d0123456789017fff000301001c000004000000080006eeb6ad02"
		  "633df7013800030063200707192359001c000004000000080006eeb6ad0263"
		  "3df7013800030063200707192359001c000004000000080006eeb6ad02633d"
		  "f7013800030063200707192359067e",
		  0x8001, NULL, 0, "7e8001000501234567890100007fff0704008f7e" },
		{ "[go] 0x0100 2011",
		  "7e010000200123456789010000001f007363640000007777772e3830382e37"
		  "36353433323101b2e24131323334a17e",
		  0x8100, "12345678901", 0,
		  "7e8100000e01234567890100000000003132333435363738393031377e" },
		{ "[go] 0x0100 2019",
		  "7e0100405301000000000172998417380000001f0073636400000000000000"
		  "00007777772e3830382e636f6d000000000000000000000000000000000000"
		  "0037363534333231000000000000000000000000000000000000000000000001"
		  "b2e241313233343b7e",
		  0x8100, "17299841738", 0,
		  "7e8100400e010000000001729984173800000000003137323939383431373338"
		  "ba7e" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t c[JT808_MAX_CONTENT], body[128], out[256], want[256];
		struct jt808_msg m;
		size_t clen, wn;
		int bn, on;

		print_message("%s\n", t[i].name);
		assert_int_equal(wire_decode(t[i].req, c, &clen, &m), JT808_OK);
		if (t[i].reply_id == 0x8001) {
			struct jt808_response r = { m.h.serial, m.h.msg_id,
						     t[i].result };

			bn = jt808_body_response(&r, body, sizeof(body));
			assert_int_equal(bn, 5);
		} else {
			struct jt808_register_response r;

			memset(&r, 0, sizeof(r));
			r.ack_serial = m.h.serial;
			r.result = JT808_RESULT_OK;
			strcpy(r.auth_code, t[i].auth);
			bn = jt808_body_register_response(&r, body,
							  sizeof(body));
			assert_int_equal(bn, 3 + (int)strlen(t[i].auth));
		}
		on = jt808_encode(&m.h, t[i].reply_id, 0, body, (size_t)bn,
				  out, sizeof(out));
		wn = hex2bin(t[i].want, want, sizeof(want));
		assert_int_equal(on, (int)wn);
		assert_memory_equal(out, want, wn);
	}
}

static void test_encode_terminal_side(void **state)
{
	struct jt808_header h;
	uint8_t out[64], want[64], c[64];
	struct jt808_msg m;
	size_t wn;
	int n;

	/* [go] the terminal frames of reply_test were built this way */
	assert_int_equal(jt808_header_for_phone(&h, "12345678901", 0),
			 JT808_OK);
	assert_string_equal(h.phone_str, "12345678901");
	n = jt808_encode(&h, JT808_HEARTBEAT, 0x7fff, NULL, 0, out,
			 sizeof(out));
	wn = hex2bin("7e000200000123456789017fff0a7e", want, sizeof(want));
	assert_int_equal(n, (int)wn);
	assert_memory_equal(out, want, wn);

	assert_int_equal(jt808_header_for_phone(&h, "17299841738", 1),
			 JT808_OK);
	assert_int_equal(h.proto_ver, 1);
	n = jt808_encode(&h, JT808_HEARTBEAT, 0xffff, NULL, 0, out,
			 sizeof(out));
	wn = hex2bin("7e000240000100000000017299841738ffff027e", want,
		     sizeof(want));
	assert_int_equal(n, (int)wn);
	assert_memory_equal(out, want, wn);

	/* round trip through the decoder, with escapes in the header: serial
	 * 0x7e7d and phone digits are plain, body has both flag bytes */
	{
		static const uint8_t body[] = { 0x7e, 0x7d, 0x00 };

		n = jt808_encode(&h, 0x0900, 0x7e7d, body, sizeof(body), out,
				 sizeof(out));
		assert_true(n > 0);
		n = jt808_unescape(out + 1, (size_t)n - 2, c, sizeof(c));
		assert_int_equal(n, 17 + 3 + 1);
		assert_int_equal(jt808_decode(c, (size_t)n, &m), JT808_OK);
		assert_int_equal(m.h.serial, 0x7e7d);
		assert_int_equal(m.h.v2019, 1);
		assert_memory_equal(m.body, body, sizeof(body));
	}

	/* body length 126: the body-length byte of the header is 0x7E and
	 * travels escaped; decoded through the framer */
	{
		static uint8_t body[126], w[JT808_MAX_WIRE];
		struct collector *col = test_malloc(sizeof(*col));
		struct jt808_framer f;

		memset(body, 0x7d, sizeof(body));
		n = jt808_encode(&h, 0x0900, 1, body, sizeof(body), w,
				 sizeof(w));
		assert_int_equal(n, 2 + 17 + 1 + 2 * 126 + 1);
		assert_memory_equal(w + 1, "\x09\x00\x40\x7d\x02", 5);
		memset(col, 0, sizeof(*col));
		jt808_framer_init(&f);
		assert_int_equal(jt808_framer_push(&f, w, (size_t)n, collect_cb,
						   col),
				 0);
		assert_int_equal(col->n, 1);
		assert_int_equal(jt808_decode(col->f[0].c, col->f[0].len, &m),
				 JT808_OK);
		assert_int_equal(m.h.body_len, 126);
		assert_int_equal(m.h.props, 0x407e);
		assert_memory_equal(m.body, body, sizeof(body));
		test_free(col);
	}

	assert_int_equal(jt808_header_for_phone(&h, "1234567890123", 0),
			 JT808_EBODY);
	assert_int_equal(jt808_header_for_phone(&h, "12a4", 0), JT808_EBODY);
	assert_int_equal(jt808_header_for_phone(&h, "", 0), JT808_EBODY);
	assert_int_equal(jt808_header_for_phone(&h, "00000000000000000001", 1),
			 JT808_OK);
	assert_string_equal(h.phone_str, "1");
	assert_int_equal(jt808_header_for_phone(&h, "1", 0), JT808_OK);
	assert_int_equal(jt808_encode(&h, 1, 1, out, JT808_MAX_BODY + 1, out,
				      sizeof(out)),
			 JT808_ELENGTH);
	assert_int_equal(jt808_encode(&h, 1, 1, NULL, 0, out, 10),
			 JT808_ESPACE);
}

/* ------------------------------------------------------------------ bodies */

static void test_response(void **state)
{
	uint8_t c[64];
	struct jt808_msg m;
	struct jt808_response r;
	size_t clen;

	/* [gx] 0x8001 answering a 0x0102, check code escaped */
	assert_int_equal(wire_decode("7E80010005013789300274000200020102007D027E",
				     c, &clen, &m),
			 JT808_OK);
	assert_int_equal(jt808_parse_response(m.body, m.body_len, &r),
			 JT808_OK);
	assert_int_equal(r.ack_serial, 2);
	assert_int_equal(r.ack_id, JT808_AUTH);
	assert_int_equal(r.result, JT808_RESULT_OK);
	/* [go] 0x0001 terminal response */
	assert_int_equal(wire_decode("7e000100050123456789017fff007b01c803bd7e",
				     c, &clen, &m),
			 JT808_OK);
	assert_int_equal(jt808_parse_response(m.body, m.body_len, &r),
			 JT808_OK);
	assert_int_equal(r.ack_serial, 0x007b);
	assert_int_equal(r.ack_id, 0x01c8);
	assert_int_equal(r.result, 3);
	assert_int_equal(jt808_parse_response(m.body, 4, &r), JT808_ESHORT);
	assert_int_equal(jt808_body_response(&r, c, 4), JT808_ESPACE);
}

struct reg_row {
	const char *name;
	const char *wire;
	int layout;
	uint16_t province, city;
	const char *maker, *model, *tid;
	uint8_t color;
	const char *plate;
};

static const struct reg_row reg_rows[] = {
	{ "[tr][pr] 2011, 33-byte body, space-padded model",
	  "7E01000021013345678906000F002C012F373031313142534A2D4D374220303030"
	  "3030303001D4C1423838383838B47E",
	  2011, 44, 303, "70111", "BSJ-M7B", "0000000", 1, "粤B88888" },
	{ "[tr] 2013 su",
	  "7E0100002D013511221122000500000000373031303748422D523033474244000000"
	  "00000000000000003233363631303402CBD5424136383630387E",
	  2013, 0, 0, "70107", "HB-R03GBD", "2366104", 2, "苏BA6860" },
	{ "[tr] 2013 yue",
	  "7e0100002d0141305678720024002c012f373031313142534a2d41362d4244000000"
	  "00000000000000003035363738373201d4c14238383838386d7e",
	  2013, 44, 303, "70111", "BSJ-A6-BD", "0567872", 1, "粤B88888" },
	{ "[tr] 2019, plate colour 4 and an empty plate",
	  "7e0100405c010000086649607758216452180000000000000000000000000000004d"
	  "4433303000000000000000000000000000000000000000000000000000383636343936"
	  "30373735383231363400000000000000000000000000000004000000000000000000"
	  "000000000000007a7e",
	  2019, 0, 0, "", "MD300", "866496077582164", 4, "" },
	{ "[go] 2011",
	  "7e010000200123456789010000001f007363640000007777772e3830382e37363534"
	  "33323101b2e24131323334a17e",
	  2011, 31, 115, "cd", "www.808.", "7654321", 1, "测A1234" },
	{ "[go] 2013",
	  "7e0100002c0123456789010000001f007363640000007777772e3830382e636f6d00"
	  "00000000000000003736353433323101b2e24131323334cc7e",
	  2013, 31, 115, "cd", "www.808.com", "7654321", 1, "测A1234" },
	{ "[go] 2019",
	  "7e0100405301000000000172998417380000001f00736364000000000000000000"
	  "7777772e3830382e636f6d00000000000000000000000000000000000000373635"
	  "34333231000000000000000000000000000000000000000000000001b2e2413132"
	  "33343b7e",
	  2019, 31, 115, "cd", "www.808.com", "7654321", 1, "测A1234" },
};

static void test_register_real(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(reg_rows) / sizeof(reg_rows[0]); i++) {
		const struct reg_row *r = &reg_rows[i];
		uint8_t c[JT808_MAX_CONTENT], body[JT808_MAX_BODY];
		struct jt808_register g, back;
		struct jt808_msg m;
		size_t clen;
		int n;

		print_message("%s\n", r->name);
		assert_int_equal(wire_decode(r->wire, c, &clen, &m), JT808_OK);
		assert_int_equal(m.h.msg_id, JT808_REGISTER);
		assert_int_equal(jt808_parse_register(m.body, m.body_len,
						      m.h.v2019, &g),
				 JT808_OK);
		assert_int_equal(g.layout, r->layout);
		assert_int_equal(g.province, r->province);
		assert_int_equal(g.city, r->city);
		assert_string_equal(g.maker, r->maker);
		assert_string_equal(g.model, r->model);
		assert_string_equal(g.terminal_id, r->tid);
		assert_int_equal(g.plate_color, r->color);
		assert_string_equal(g.plate, r->plate);

		/* terminal side: re-encode, parse again, same values */
		n = jt808_body_register(&g, body, sizeof(body));
		assert_true(n > 0);
		assert_int_equal(jt808_parse_register(body, (size_t)n,
						      g.layout == 2019, &back),
				 JT808_OK);
		assert_memory_equal(&back, &g, sizeof(g));
		/* zero-padded layouts re-encode byte for byte */
		if (i >= 4) {
			assert_int_equal(n, (int)m.body_len);
			assert_memory_equal(body, m.body, m.body_len);
		}
	}
}

static void test_register_errors(void **state)
{
	struct jt808_register g;
	uint8_t body[128];

	memset(body, 0, sizeof(body));
	assert_int_equal(jt808_parse_register(body, 24, 0, &g), JT808_ESHORT);
	assert_int_equal(jt808_parse_register(body, 25, 0, &g), JT808_OK);
	assert_int_equal(g.layout, 2011);
	assert_int_equal(jt808_parse_register(body, 37, 0, &g), JT808_OK);
	assert_int_equal(g.layout, 2013);
	assert_int_equal(jt808_parse_register(body, 75, 1, &g), JT808_ESHORT);
	assert_int_equal(jt808_parse_register(body, 76, 1, &g), JT808_OK);
	assert_int_equal(g.layout, 2019);

	/* a plate that is not GBK does not fail the registration */
	memcpy(body + 37, "\xff\xff" "A1", 4);
	assert_int_equal(jt808_parse_register(body, 41, 0, &g), JT808_OK);
	assert_string_equal(g.plate, "??A1");

	memset(&g, 0, sizeof(g));
	g.layout = 2012;
	assert_int_equal(jt808_body_register(&g, body, sizeof(body)),
			 JT808_EBODY);
	g.layout = 2013;
	strcpy(g.maker, "TOOLONG");
	assert_int_equal(jt808_body_register(&g, body, sizeof(body)),
			 JT808_EBODY);
	strcpy(g.maker, "M");
	strcpy(g.plate, "粤B12345");
	assert_int_equal(jt808_body_register(&g, body, 40), JT808_ESPACE);
	assert_int_equal(jt808_body_register(&g, body, sizeof(body)), 37 + 8);
	assert_memory_equal(body + 37, "\xd4\xc1" "B12345", 8);
}

static void test_register_roundtrip(void **state)
{
	static const int layouts[] = { 2011, 2013, 2019 };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct jt808_register r, g;
		struct jt808_header h;
		uint8_t body[256], wire[512], c[JT808_MAX_CONTENT];
		struct jt808_msg m;
		int n, wn;

		memset(&r, 0, sizeof(r));
		r.layout = layouts[i];
		r.province = 36; /* Jiangxi */
		r.city = 200;
		strcpy(r.maker, "SHORE");
		strcpy(r.model, r.layout == 2011 ? "SW-1" : "SW-SIM-2019");
		strcpy(r.terminal_id, "T000001");
		r.plate_color = 9;
		strcpy(r.plate, "赣H12345");
		n = jt808_body_register(&r, body, sizeof(body));
		assert_true(n > 0);

		assert_int_equal(jt808_header_for_phone(&h, "13800138000",
							r.layout == 2019),
				 JT808_OK);
		wn = jt808_encode(&h, JT808_REGISTER, 1, body, (size_t)n, wire,
				  sizeof(wire));
		assert_true(wn > 0);
		n = jt808_unescape(wire + 1, (size_t)wn - 2, c, sizeof(c));
		assert_true(n > 0);
		assert_int_equal(jt808_decode(c, (size_t)n, &m), JT808_OK);
		assert_int_equal(jt808_parse_register(m.body, m.body_len,
						      m.h.v2019, &g),
				 JT808_OK);
		assert_memory_equal(&g, &r, sizeof(r));
	}
}

static void test_register_response(void **state)
{
	struct jt808_register_response r;
	uint8_t c[JT808_MAX_CONTENT];
	struct jt808_msg m;
	size_t clen;

	/* [go] asserted 0x8100 2019 reply: decode it back */
	assert_int_equal(wire_decode("7e8100400e01000000000172998417380000000000"
				     "3137323939383431373338ba7e",
				     c, &clen, &m),
			 JT808_OK);
	assert_int_equal(jt808_parse_register_response(m.body, m.body_len, &r),
			 JT808_OK);
	assert_int_equal(r.ack_serial, 0);
	assert_int_equal(r.result, 0);
	assert_string_equal(r.auth_code, "17299841738");

	/* no auth code unless the result is 0 */
	memset(&r, 0, sizeof(r));
	r.ack_serial = 0x1234;
	r.result = JT808_REG_TERMINAL_UNKNOWN;
	strcpy(r.auth_code, "ignored");
	assert_int_equal(jt808_body_register_response(&r, c, sizeof(c)), 3);
	assert_memory_equal(c, "\x12\x34\x04", 3);
	assert_int_equal(jt808_parse_register_response(c, 3, &r), JT808_OK);
	assert_int_equal(r.result, 4);
	assert_string_equal(r.auth_code, "");
	assert_int_equal(jt808_parse_register_response(c, 2, &r),
			 JT808_ESHORT);
	r.result = 0;
	strcpy(r.auth_code, "abc");
	assert_int_equal(jt808_body_register_response(&r, c, 5), JT808_ESPACE);
	memset(c + 3, 'x', 64);
	c[2] = 0;
	assert_int_equal(jt808_parse_register_response(c, 3 + 64, &r),
			 JT808_EBODY);
}

static void test_auth(void **state)
{
	static const struct {
		const char *name, *wire, *code, *imei, *sw;
	} t[] = {
		{ "[tr] 2013", "7E0102000E013511221122000661757468656E746963617469"
			       "6F6E3F7E",
		  "authentication", "", "" },
		{ "[tr] 2013 (2)", "7E010200100940278494700084323031313131303831"
				   "313333323139369F7E",
		  "2011110811332196", "", "" },
		{ "[go] 2013", "7e0102000b01234567890100003137323939383431373338b5"
			       "7e",
		  "17299841738", "", "" },
		{ "[go] 2019", "7e0102402f010000000001729984173800000b31373239393834"
			       "3137333831323334353637383930313233343533"
			       "2e372e31350000000000000000000000000000227e",
		  "17299841738", "123456789012345", "3.7.15" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t c[JT808_MAX_CONTENT], body[128];
		struct jt808_auth a, back;
		struct jt808_msg m;
		size_t clen;
		int n;

		print_message("%s\n", t[i].name);
		assert_int_equal(wire_decode(t[i].wire, c, &clen, &m), JT808_OK);
		assert_int_equal(jt808_parse_auth(m.body, m.body_len, m.h.v2019,
						  &a),
				 JT808_OK);
		assert_string_equal(a.code, t[i].code);
		assert_string_equal(a.imei, t[i].imei);
		assert_string_equal(a.sw_version, t[i].sw);
		/* encoder reproduces the terminal's body exactly */
		n = jt808_body_auth(&a, m.h.v2019, body, sizeof(body));
		assert_int_equal(n, (int)m.body_len);
		assert_memory_equal(body, m.body, m.body_len);
		assert_int_equal(jt808_parse_auth(body, (size_t)n, m.h.v2019,
						  &back),
				 JT808_OK);
		assert_memory_equal(&back, &a, sizeof(a));
	}
}

static void test_auth_errors(void **state)
{
	struct jt808_auth a;
	uint8_t body[128];

	memset(body, 0, sizeof(body));
	assert_int_equal(jt808_parse_auth(body, 0, 0, &a), JT808_ESHORT);
	assert_int_equal(jt808_parse_auth(body, 64, 0, &a), JT808_EBODY);
	body[0] = 5; /* 2019: needs 1 + 5 + 15 + 20 */
	assert_int_equal(jt808_parse_auth(body, 40, 1, &a), JT808_ESHORT);
	assert_int_equal(jt808_parse_auth(body, 41, 1, &a), JT808_OK);
	assert_int_equal(jt808_parse_auth(body, 0, 1, &a), JT808_ESHORT);
	body[0] = 0;
	assert_int_equal(jt808_parse_auth(body, 41, 1, &a), JT808_EBODY);

	memset(&a, 0, sizeof(a));
	assert_int_equal(jt808_body_auth(&a, 0, body, sizeof(body)),
			 JT808_EBODY);
	strcpy(a.code, "code");
	assert_int_equal(jt808_body_auth(&a, 0, body, 3), JT808_ESPACE);
	assert_int_equal(jt808_body_auth(&a, 1, body, 39), JT808_ESPACE);
	assert_int_equal(jt808_body_auth(&a, 1, body, 40), 40);
	strcpy(a.imei, "8664960775821640");
	assert_int_equal(jt808_body_auth(&a, 1, body, sizeof(body)),
			 JT808_EBODY);
}

/* ---------------------------------------------------------------- location */

struct loc_row {
	const char *name;
	const char *wire;
	uint32_t alarm, status;
	int32_t lat_e6, lon_e6;
	int16_t alt;
	uint16_t speed, course;
	int64_t time; /* UTC, wire time at GMT+8 */
	int fix;
	size_t n_extras;
	int has_mileage;
	uint32_t mileage;
	int has_signal, signal, has_sats, sats;
};

static const struct loc_row loc_rows[] = {
	{ "[tr][pr] GMT+8: wire 210726203531 = 2021-07-26T12:35:31Z",
	  "7E020000480123456789010013000000800000000301597BC506CBFF6600EB000001"
	  "55210726203531010400000000EB24000C00B28986047701207027150200060089FF"
	  "FFEFFF0004002D0E10000600C5FFFFFFEF697E",
	  0x80, 0x3, 22641605, 114032486, 235, 0, 341, 1627302931, 1, 2, 1, 0,
	  0, 0, 0, 0 },
	{ "[tr][pr] south and west from status bits 2/3",
	  "7e020000220014012499170007000000000000400e012af16f02cbd2ba0000000000"
	  "00150101194257010400000077a97e",
	  0, 0x400e, -19591535, -46912186, 0, 0, 0, 1420112577, 1, 1, 1, 0x77,
	  0, 0, 0, 0 },
	{ "[tr] mileage, signal, satellites; not positioned",
	  "7e0200002c00160128561400020000000000040001005de1f7065c6cef0000000000"
	  "0017011710044201040000a9002a02000030011b3101030c7e",
	  0, 0x40001, 6152695, 106720495, 0, 0, 0, 1484618682, 0, 4, 1, 0xa900,
	  1, 27, 1, 3 },
	{ "[tr] JC371 binary phone, 7D in latitude (wire form derived)",
	  "7e020000344eb6fb4ad6280001000000000000000301587d010106cbff66000000"
	  "00000026010112000001040000007b30011831010ae80a2003070105019f030190"
	  "657e",
	  0, 0x3, 22576385, 114032486, 0, 0, 0, 1767240000, 1, 4, 1, 123, 1,
	  0x18, 1, 10 },
	{ "[yn] no extras, check code 7E",
	  "7E0200001C01318000099900080000000000000003019410A106694C130064002800"
	  "1E1610190953487D027E",
	  0, 0x3, 26480801, 107564051, 100, 40, 30, 1476842028, 1, 0, 0, 0, 0,
	  0, 0, 0 },
	{ "[tr] 7E inside extra 0x87, bit 31 in status",
	  "7E020000830191715904370A2E00000000800000030158991806CA0FEB0004000001"
	  "0D211108194050010400000003CC1438393836303437383130323037303331383630"
	  "3830011A8001AA810213888202007A8301148401AA8502189B8601338702007D0288"
	  "01338901148A0200998B1131323334353637383941424344454647488C04000200A8"
	  "8D0200828E0114A0002E7E",
	  0, 0x80000003, 22583576, 113905643, 4, 0, 269, 1636371650, 1, 19, 1,
	  3, 1, 0x1a, 0, 0 },
	{ "[tr] 7D inside extra 0x5D (wire form derived)",
	  "7e0200008201215233475100030000000000000003015a7f6106cf8cec003d000000"
	  "0021071311481901040000005630011931011ae10200755d3d0601cc0024990a7d01"
	  "a0032301cc002499099b2941fc01cc002499099b29430b01cc0024990a7d01a02906"
	  "01cc0024990a7d01a015fd01cc0026220994506bfffe157c010400000001f10c0000"
	  "00000000000000000000997e",
	  0, 0x3, 22708065, 114265324, 61, 0, 0, 1626148099, 1, 6, 1, 0x56, 1,
	  0x19, 1, 0x1a },
};

static void test_location_real(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(loc_rows) / sizeof(loc_rows[0]); i++) {
		const struct loc_row *r = &loc_rows[i];
		uint8_t c[JT808_MAX_CONTENT];
		struct jt808_location l;
		struct jt808_msg m;
		size_t clen;

		print_message("%s\n", r->name);
		assert_int_equal(wire_decode(r->wire, c, &clen, &m), JT808_OK);
		assert_int_equal(m.h.msg_id, JT808_LOCATION);
		assert_int_equal(jt808_parse_location(m.body, m.body_len, GMT8,
						      &l),
				 JT808_OK);
		assert_int_equal(l.alarm, r->alarm);
		assert_int_equal(l.status, r->status);
		assert_int_equal(l.lat_e6, r->lat_e6);
		assert_int_equal(l.lon_e6, r->lon_e6);
		assert_true(l.lat > r->lat_e6 / 1e6 - 1e-9 &&
			    l.lat < r->lat_e6 / 1e6 + 1e-9);
		assert_true(l.lon > r->lon_e6 / 1e6 - 1e-9 &&
			    l.lon < r->lon_e6 / 1e6 + 1e-9);
		assert_int_equal(l.altitude_m, r->alt);
		assert_int_equal(l.speed_dkmh, r->speed);
		assert_int_equal(l.course, r->course);
		assert_int_equal(l.time_valid, 1);
		assert_int_equal(l.time, r->time);
		assert_int_equal(l.fix_valid, r->fix);
		assert_int_equal(l.n_extras, r->n_extras);
		assert_int_equal(l.extras_truncated, 0);
		assert_int_equal(l.has_mileage, r->has_mileage);
		assert_int_equal(l.mileage_hm, r->mileage);
		assert_int_equal(l.has_signal, r->has_signal);
		assert_int_equal(l.signal, r->signal);
		assert_int_equal(l.has_sats, r->has_sats);
		assert_int_equal(l.satellites, r->sats);
		if (l.n_extras) {
			/* extras point into the body, in wire order */
			assert_ptr_equal(l.extras[0].value, m.body + 30);
			assert_int_equal(l.extras[0].id, m.body[28]);
		}
	}
}

static void test_location_escaped_extra_value(void **state)
{
	/* [tr] item 0x87 carries 00 7E, sent as 00 7D 02 */
	uint8_t c[JT808_MAX_CONTENT];
	struct jt808_location l;
	struct jt808_msg m;
	size_t clen, i;

	assert_int_equal(wire_decode(loc_rows[5].wire, c, &clen, &m), JT808_OK);
	assert_int_equal(jt808_parse_location(m.body, m.body_len, GMT8, &l),
			 JT808_OK);
	for (i = 0; i < l.n_extras; i++)
		if (l.extras[i].id == 0x87)
			break;
	assert_true(i < l.n_extras);
	assert_int_equal(l.extras[i].len, 2);
	assert_memory_equal(l.extras[i].value, "\x00\x7e", 2);
	/* last item 0xA0 has length 0 */
	assert_int_equal(l.extras[l.n_extras - 1].id, 0xa0);
	assert_int_equal(l.extras[l.n_extras - 1].len, 0);
}

/* A basic block with the given BCD time and the [tr] south/west position. */
static size_t basic_block(uint8_t *b, const char *bcd_time)
{
	size_t n = hex2bin("00000000" "0000000e" "012af16f" "02cbd2ba" "0000"
			   "0000" "0000",
			   b, 64);

	n += hex2bin(bcd_time, b + n, 64);
	assert_int_equal(n, 28);
	return n;
}

static void test_location_time(void **state)
{
	static const struct {
		const char *bcd;
		int tz;
		int valid;
		int64_t t;
	} t[] = {
		{ "210726203531", GMT8, 1, 1627302931 }, /* [pr] example */
		{ "210726203531", 0, 1, 1627331731 },    /* device sends UTC */
		{ "000101080000", GMT8, 1, 946684800 },  /* 2000-01-01Z */
		{ "000101000000", GMT8, 1, 946656000 },  /* crosses to 1999 */
		{ "240229235959", GMT8, 1, 1709222399 }, /* leap day */
		{ "991231235959", 0, 1, 4102444799 },    /* 2099-12-31 */
		{ "000000000000", GMT8, 0, 0 },          /* no fix yet */
		{ "230229120000", GMT8, 0, 0 },          /* not a leap year */
		{ "211301000000", GMT8, 0, 0 },          /* month 13 */
		{ "210100000000", GMT8, 0, 0 },          /* day 0 */
		{ "210431000000", GMT8, 0, 0 },          /* 31 April */
		{ "210101240000", GMT8, 0, 0 },          /* hour 24 */
		{ "210101006000", GMT8, 0, 0 },          /* minute 60 */
		{ "2101010000a0", GMT8, 0, 0 },          /* nibble > 9 */
		{ "ffffffffffff", GMT8, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t b[64];
		struct jt808_location l;
		size_t n = basic_block(b, t[i].bcd);

		print_message("%s\n", t[i].bcd);
		assert_int_equal(jt808_parse_location(b, n, t[i].tz, &l),
				 JT808_OK);
		assert_int_equal(l.time_valid, t[i].valid);
		assert_int_equal(l.time, t[i].t);
		assert_int_equal(l.lat_e6, -19591535);
		assert_int_equal(l.lon_e6, -46912186);
	}
}

static void test_location_extras_edge(void **state)
{
	uint8_t b[512];
	struct jt808_location l;
	size_t n, k;

	/* item overruns: 0x01 mileage kept, 0xFB claims 9 bytes, has 3 */
	n = basic_block(b, "210726203531");
	n += hex2bin("0104000000643001" "17" "fb09010203", b + n, 64);
	assert_int_equal(jt808_parse_location(b, n, GMT8, &l), JT808_OK);
	assert_int_equal(l.extras_truncated, 1);
	assert_int_equal(l.n_extras, 2);
	assert_int_equal(l.has_mileage, 1);
	assert_int_equal(l.mileage_hm, 100);
	assert_int_equal(l.has_signal, 1);
	assert_int_equal(l.signal, 0x17);
	assert_int_equal(l.lat_e6, -19591535);

	/* a lone trailing byte */
	n = basic_block(b, "210726203531");
	n += hex2bin("310105" "00", b + n, 64);
	assert_int_equal(jt808_parse_location(b, n, GMT8, &l), JT808_OK);
	assert_int_equal(l.extras_truncated, 1);
	assert_int_equal(l.n_extras, 1);
	assert_int_equal(l.satellites, 5);

	/* known ids with unexpected lengths are kept but not decoded; order
	 * does not matter */
	n = basic_block(b, "210726203531");
	n += hex2bin("3002aabb" "0202000a" "010400000007", b + n, 64);
	assert_int_equal(jt808_parse_location(b, n, GMT8, &l), JT808_OK);
	assert_int_equal(l.extras_truncated, 0);
	assert_int_equal(l.n_extras, 3);
	assert_int_equal(l.has_signal, 0);
	assert_int_equal(l.has_mileage, 1);
	assert_int_equal(l.mileage_hm, 7);
	assert_int_equal(l.extras[1].id, 0x02);

	/* more than JT808_MAX_EXTRAS items: the first ones are kept, known
	 * items after the cut are still decoded */
	n = basic_block(b, "210726203531");
	for (k = 0; k < JT808_MAX_EXTRAS + 5; k++) {
		b[n++] = (uint8_t)(0xe1 + k % 16);
		b[n++] = 1;
		b[n++] = (uint8_t)k;
	}
	n += hex2bin("310109", b + n, 16);
	assert_int_equal(jt808_parse_location(b, n, GMT8, &l), JT808_OK);
	assert_int_equal(l.n_extras, JT808_MAX_EXTRAS);
	assert_int_equal(l.extras[JT808_MAX_EXTRAS - 1].value[0],
			 JT808_MAX_EXTRAS - 1);
	assert_int_equal(l.extras_truncated, 0);
	assert_int_equal(l.has_sats, 1);
	assert_int_equal(l.satellites, 9);
}

static void test_location_errors(void **state)
{
	uint8_t b[64];
	struct jt808_location l;
	size_t n = basic_block(b, "210726203531");

	assert_int_equal(jt808_parse_location(b, n - 1, GMT8, &l),
			 JT808_ESHORT);
	assert_int_equal(jt808_parse_location(b, 0, GMT8, &l), JT808_ESHORT);
	/* latitude 90.000001 */
	memcpy(b + 8, "\x05\x5d\x4a\x81", 4);
	assert_int_equal(jt808_parse_location(b, n, GMT8, &l), JT808_EBODY);
	memcpy(b + 8, "\x05\x5d\x4a\x80", 4);
	assert_int_equal(jt808_parse_location(b, n, GMT8, &l), JT808_OK);
	assert_int_equal(l.lat_e6, -90000000);
	/* longitude 180.000001 */
	memcpy(b + 12, "\x0a\xba\x95\x01", 4);
	assert_int_equal(jt808_parse_location(b, n, GMT8, &l), JT808_EBODY);
}

static void test_location_roundtrip(void **state)
{
	static const struct {
		int32_t lat, lon;
		int v2019;
	} pos[] = {
		{ 29292000, 117207000, 0 },  /* Jingdezhen, Chang river */
		{ -19591535, -46912186, 1 }, /* south, west */
		{ 0, 0, 0 },
		{ -90000000, 180000000, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
		struct jt808_location l, g;
		struct jt808_header h;
		uint8_t body[128], wire[512], c[JT808_MAX_CONTENT];
		struct jt808_msg m;
		int n, wn;

		memset(&l, 0, sizeof(l));
		l.alarm = 0x1;
		l.status = 0x000C0001 | 0xC; /* sign bits must be recomputed */
		l.lat_e6 = pos[i].lat;
		l.lon_e6 = pos[i].lon;
		l.altitude_m = -12;
		l.speed_dkmh = 123;
		l.course = 359;
		l.time = 1627302931;
		l.time_valid = 1;
		l.fix_valid = 1;
		l.has_mileage = 1;
		l.mileage_hm = 987654;
		l.has_signal = 1;
		l.signal = 31;
		l.has_sats = 1;
		l.satellites = 12;
		n = jt808_body_location(&l, GMT8, body, sizeof(body));
		assert_int_equal(n, 28 + 6 + 3 + 3);
		/* [pr] the same instant on the wire at GMT+8 */
		assert_memory_equal(body + 22, "\x21\x07\x26\x20\x35\x31", 6);

		assert_int_equal(jt808_header_for_phone(&h, "13800138000",
							pos[i].v2019),
				 JT808_OK);
		wn = jt808_encode(&h, JT808_LOCATION, (uint16_t)i, body,
				  (size_t)n, wire, sizeof(wire));
		assert_true(wn > 0);
		n = jt808_unescape(wire + 1, (size_t)wn - 2, c, sizeof(c));
		assert_int_equal(jt808_decode(c, (size_t)n, &m), JT808_OK);
		assert_int_equal(jt808_parse_location(m.body, m.body_len, GMT8,
						      &g),
				 JT808_OK);
		assert_int_equal(g.lat_e6, l.lat_e6);
		assert_int_equal(g.lon_e6, l.lon_e6);
		assert_int_equal(g.status & 0xC,
				 (l.lat_e6 < 0 ? 4u : 0u) |
					 (l.lon_e6 < 0 ? 8u : 0u));
		assert_int_equal(g.status & ~0xCu, 0x000C0003);
		assert_int_equal(g.alarm, 1);
		assert_int_equal(g.altitude_m, -12);
		assert_int_equal(g.speed_dkmh, 123);
		assert_int_equal(g.course, 359);
		assert_int_equal(g.time, l.time);
		assert_int_equal(g.time_valid, 1);
		assert_int_equal(g.fix_valid, 1);
		assert_int_equal(g.mileage_hm, 987654);
		assert_int_equal(g.signal, 31);
		assert_int_equal(g.satellites, 12);
		assert_int_equal(g.n_extras, 3);
	}
}

static void test_location_encode_errors(void **state)
{
	struct jt808_location l;
	uint8_t body[64];

	memset(&l, 0, sizeof(l));
	assert_int_equal(jt808_body_location(&l, GMT8, body, 27), JT808_ESPACE);
	assert_int_equal(jt808_body_location(&l, GMT8, body, 28), 28);
	assert_memory_equal(body + 22, "\0\0\0\0\0\0", 6); /* no time */
	l.has_sats = 1;
	assert_int_equal(jt808_body_location(&l, GMT8, body, 30), JT808_ESPACE);
	l.lat_e6 = -90000001;
	assert_int_equal(jt808_body_location(&l, GMT8, body, sizeof(body)),
			 JT808_EBODY);
	l.lat_e6 = 0;
	l.time_valid = 1;
	l.time = 946684800 - GMT8 - 1; /* 1999 on the terminal's clock */
	assert_int_equal(jt808_body_location(&l, GMT8, body, sizeof(body)),
			 JT808_ETIME);
}

/* ------------------------------------------------------------------ batch */

static void test_batch_real(void **state)
{
	static const struct {
		const char *name, *wire;
		uint16_t count;
		uint8_t type;
		int32_t lat0, lon0;
		int64_t t0;
		uint32_t mileage0;
		int32_t lat_last;
		int64_t t_last;
	} t[] = {
		{ "[sc] 2 items, normal",
		  "7E0704005311223344556622B80002000026000000010000000200BA7F0E07E4"
		  "F11C0028003C0000180715101010010400000064020200370026000000020000"
		  "000100CB735507E6A32300290036007818071510103001040000006002020042"
		  "D47E",
		  2, 0, 12222222, 132444444, 1531620610, 100, 13333333,
		  1531620630 },
		{ "[tr] 8 items, blind-area re-send",
		  "7E0704014301356777777707F5000801002600000000000000030159741206CB"
		  "FD5001720000000116052709062401040000001D030200000026000000000000"
		  "00030159746606CBFD50016B0000000116052709065301040000001D03020000"
		  "00260000000000000003015975E406CBFE58013F000000011605270907270104"
		  "0000001D0302000000260000000000000003015976DE06CBFF10012E00000001"
		  "16052709075601040000001D0302000000260000000000000003015976BC06CB"
		  "FED0012D0000000116052709083001040000001D030200000026000000000000"
		  "0003015976FE06CBFEC001080000000116052709090001040000001D03020000"
		  "00260000000000000003015976FE06CBFE7800FC000000011605270909330104"
		  "0000001D0302000000260000000000000003015977A606CBFF30010800000001"
		  "16052709100201040000001D030200001F7E",
		  8, 1, 22639634, 114031952, 1464311184, 0x1d, 22640550,
		  1464311402 },
		{ "[tr][pr] 2019 header, southern hemisphere",
		  "7e0704402d0100000866496077582164881d0001000028000000000000000701"
		  "a00192091f2a4700160000000226050916422701040000258230010031010e"
		  "507e",
		  1, 0, -27263378, 153037383, 1778316147, 0x2582, -27263378,
		  1778316147 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t c[JT808_MAX_CONTENT];
		struct jt808_location l;
		struct jt808_batch b;
		struct jt808_msg m;
		size_t clen;
		int r, seen = 0;

		print_message("%s\n", t[i].name);
		assert_int_equal(wire_decode(t[i].wire, c, &clen, &m), JT808_OK);
		assert_int_equal(m.h.msg_id, JT808_LOCATION_BATCH);
		assert_int_equal(jt808_parse_batch(m.body, m.body_len, &b),
				 JT808_OK);
		assert_int_equal(b.count, t[i].count);
		assert_int_equal(b.type, t[i].type);
		while ((r = jt808_batch_next(&b, GMT8, &l)) == 1) {
			if (seen == 0) {
				assert_int_equal(l.lat_e6, t[i].lat0);
				assert_int_equal(l.lon_e6, t[i].lon0);
				assert_int_equal(l.time, t[i].t0);
				assert_int_equal(l.mileage_hm, t[i].mileage0);
			}
			seen++;
		}
		assert_int_equal(r, 0);
		assert_int_equal(seen, t[i].count);
		assert_int_equal(l.lat_e6, t[i].lat_last);
		assert_int_equal(l.time, t[i].t_last);
		assert_int_equal(jt808_batch_next(&b, GMT8, &l), 0);
	}
}

static void test_batch_errors(void **state)
{
	/* [sc] 0x0704 body (2 items of 0x26 bytes) */
	static const char *sc =
		"0002000026000000010000000200BA7F0E07E4F11C0028003C000018071510"
		"1010010400000064020200370026000000020000000100CB735507E6A32300"
		"290036007818071510103001040000006002020042";
	uint8_t b[256];
	struct jt808_batch bt;
	struct jt808_location l;
	size_t n = hex2bin(sc, b, sizeof(b));

	assert_int_equal(n, 83);
	assert_int_equal(jt808_parse_batch(b, n, &bt), JT808_OK);
	assert_int_equal(jt808_parse_batch(b, 2, &bt), JT808_ESHORT);
	/* count says 3, body has 2 */
	b[1] = 3;
	assert_int_equal(jt808_parse_batch(b, n, &bt), JT808_EBODY);
	b[1] = 1;
	assert_int_equal(jt808_parse_batch(b, n, &bt), JT808_EBODY);
	b[1] = 0;
	assert_int_equal(jt808_parse_batch(b, 3, &bt), JT808_EBODY);
	b[1] = 2;
	/* truncated last item, and one stray byte */
	assert_int_equal(jt808_parse_batch(b, n - 1, &bt), JT808_EBODY);
	b[n] = 0;
	assert_int_equal(jt808_parse_batch(b, n + 1, &bt), JT808_EBODY);
	/* an item shorter than a basic block */
	n = hex2bin("000100" "0002" "0000", b, sizeof(b));
	assert_int_equal(jt808_parse_batch(b, n, &bt), JT808_EBODY);

	/* a bad item is reported and skipped by the iterator */
	n = hex2bin(sc, b, sizeof(b));
	memcpy(b + 3 + 2 + 8, "\xff\xff\xff\xff", 4); /* latitude */
	assert_int_equal(jt808_parse_batch(b, n, &bt), JT808_OK);
	assert_int_equal(jt808_batch_next(&bt, GMT8, &l), JT808_EBODY);
	assert_int_equal(jt808_batch_next(&bt, GMT8, &l), 1);
	assert_int_equal(l.lat_e6, 13333333);
	assert_int_equal(jt808_batch_next(&bt, GMT8, &l), 0);
}

/* [go] 0x0200/0x0704 test frames carry latitude 116.3 and longitude 40.0
 * (swapped): the header decodes (and is acked), the location is refused. */
static void test_go_swapped_coordinates(void **state)
{
	uint8_t c[JT808_MAX_CONTENT];
	struct jt808_location l;
	struct jt808_batch b;
	struct jt808_msg m;
	size_t clen;

	assert_int_equal(
		wire_decode("7e0704405d0100000000017299841738ffff000301001c00000400"
			    "0000080006eeb6ad02633df7013800030063200707192359001c00"
			    "0004000000080006eeb6ad02633df7013800030063200707192359"
			    "001c000004000000080006eeb6ad02633df70138000300632007"
			    "071923590e7e",
			    c, &clen, &m),
		JT808_OK);
	assert_int_equal(jt808_parse_batch(m.body, m.body_len, &b), JT808_OK);
	assert_int_equal(b.count, 3);
	assert_int_equal(b.type, 1);
	assert_int_equal(jt808_batch_next(&b, GMT8, &l), JT808_EBODY);
}

static void test_strerror(void **state)
{
	int e;

	for (e = JT808_ETIME; e <= JT808_OK; e++) {
		assert_non_null(jt808_strerror(e));
		assert_string_not_equal(jt808_strerror(e), "unknown error");
	}
	assert_string_equal(jt808_strerror(-100), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_and_escape_vector),
		cmocka_unit_test(test_unescape_errors),
		cmocka_unit_test(test_decode_real_headers),
		cmocka_unit_test(test_framer_every_split),
		cmocka_unit_test(test_framer_flags_and_errors),
		cmocka_unit_test(test_framer_too_long),
		cmocka_unit_test(test_framer_stop),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_decode_bit14_with_2013_layout),
		cmocka_unit_test(test_binary_phone_luhn),
		cmocka_unit_test(test_encode_replies),
		cmocka_unit_test(test_encode_terminal_side),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_register_real),
		cmocka_unit_test(test_register_errors),
		cmocka_unit_test(test_register_roundtrip),
		cmocka_unit_test(test_register_response),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_auth_errors),
		cmocka_unit_test(test_location_real),
		cmocka_unit_test(test_location_escaped_extra_value),
		cmocka_unit_test(test_location_time),
		cmocka_unit_test(test_location_extras_edge),
		cmocka_unit_test(test_location_errors),
		cmocka_unit_test(test_location_roundtrip),
		cmocka_unit_test(test_location_encode_errors),
		cmocka_unit_test(test_batch_real),
		cmocka_unit_test(test_batch_errors),
		cmocka_unit_test(test_go_swapped_coordinates),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
