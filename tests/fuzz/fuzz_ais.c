/* fuzz_ais.c -- libFuzzer target: lines through the AIS sentence parser, the
 * fragment assembler and the message decoder.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iserver \
 *       tests/fuzz/fuzz_ais.c server/ais.c -o /tmp/fuzz_ais
 *   /tmp/fuzz_ais -max_total_time=60 [corpus dir]
 *
 * The input is split on '\n' like a TCP stream; each line is one sentence.
 * The clock advances by the first byte of each line (x 100 ms) so partials
 * also time out. Every result is checked against the documented contracts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ais.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_msg(const struct ais_bits *b)
{
	struct ais_msg m;
	int r = ais_decode(b, &m);

	if (r != AIS_OK && r != AIS_EUNSUPPORTED && r != AIS_ESHORT &&
	    r != AIS_EBODY)
		abort();
	if (r != AIS_OK)
		return;
	/* A position is always a real coordinate. */
	if (m.has_position && (m.lat < -90 || m.lat > 90 || m.lon < -180 ||
			       m.lon > 180))
		abort();
	if (m.has_heading && (m.heading < 0 || m.heading > 359))
		abort();
	if (m.has_cog && (m.cog < 0 || m.cog >= 360))
		abort();
	if (m.has_sog && (m.sog_kn < 0 || m.sog_kn > 102.2 + 1e-9))
		abort();
	if (m.ship_type < 0 || m.ship_type > 99)
		abort();
	if (strlen(m.name) > 20 || strlen(m.callsign) > 7 ||
	    strlen(m.destination) > 20 || strlen(m.vendor_id) > 3)
		abort();
	if (m.second < 0 || m.second > 63)
		abort();
	if (ais_time_ms(1700000000000LL, m.second) % 1000 != 0 && m.second < 60)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ais_assembler a; /* about 7 KB: kept off the stack */
	static struct ais_bits b;
	struct ais_sentence s;
	int64_t now = 0;
	size_t off = 0;

	ais_assembler_init(&a);
	while (off < size) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (data + off)) : size - off;
		int r;

		now += (int64_t)data[off] * 100;
		r = ais_parse_sentence((const char *)data + off, len, &s);
		if (r == AIS_OK) {
			if (s.payload_len > AIS_MAX_FRAG_PAYLOAD ||
			    strlen(s.payload) != s.payload_len ||
			    s.fill_bits < 0 || s.fill_bits > 5 ||
			    s.frag_num < 1 || s.frag_num > s.frag_count ||
			    s.frag_count > 9)
				abort();
			r = ais_assembler_feed(&a, &s, now, &b);
			if (r == 1) {
				if (b.nbits > AIS_MAX_BITS)
					abort();
				check_msg(&b);
			} else if (r != 0 && r != AIS_EFRAGMENT &&
				   r != AIS_ETOOLONG) {
				abort();
			}
		} else if (r >= 0 || ais_strerror(r) == NULL) {
			abort();
		}
		off += len + 1;
	}
	/* The raw input as one payload too: arbitrary bits into the decoder. */
	if (size <= AIS_MAX_PAYLOAD &&
	    ais_unarmour((const char *)data, size, 0, &b) == AIS_OK)
		check_msg(&b);
	return 0;
}
