/* fuzz_jt808.c -- libFuzzer target: any byte stream through the JT/T 808 framer and every body parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jt808.h"

static int on_frame(void *user, const uint8_t *content, size_t len, int err)
{
	struct jt808_msg m;
	uint8_t out[JT808_MAX_WIRE];
	(void)user;

	if (err || jt808_decode(content, len, &m))
		return 0;
	switch (m.h.msg_id) {
	case JT808_REGISTER: {
		struct jt808_register r;
		jt808_parse_register(m.body, m.body_len, m.h.v2019, &r);
		break;
	}
	case JT808_AUTH: {
		struct jt808_auth a;
		jt808_parse_auth(m.body, m.body_len, m.h.v2019, &a);
		break;
	}
	case JT808_LOCATION: {
		struct jt808_location l;
		if (jt808_parse_location(m.body, m.body_len, 28800, &l) == 0) {
			uint8_t body[JT808_MAX_BODY];
			jt808_body_location(&l, 28800, body, sizeof(body));
		}
		break;
	}
	case JT808_LOCATION_BATCH: {
		struct jt808_batch b;
		struct jt808_location l;
		if (jt808_parse_batch(m.body, m.body_len, &b) == 0)
			while (jt808_batch_next(&b, 28800, &l) == 1)
				;
		break;
	}
	default: {
		struct jt808_response r;
		jt808_parse_response(m.body, m.body_len, &r);
		break;
	}
	}
	/* every decoded header must be answerable */
	{
		struct jt808_response r = { m.h.serial, m.h.msg_id, 0 };
		uint8_t body[8];
		int n = jt808_body_response(&r, body, sizeof(body));
		if (n > 0)
			jt808_encode(&m.h, JT808_PLAT_RESPONSE, 1, body, (size_t)n, out, sizeof(out));
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jt808_framer f;
	size_t cut;

	/* the first byte chooses where the stream is split, as TCP would */
	if (!size)
		return 0;
	cut = data[0] % size;
	jt808_framer_init(&f);
	jt808_framer_push(&f, data + 1, cut ? cut - 1 : 0, on_frame, NULL);
	jt808_framer_push(&f, data + (cut ? cut : 1), size - (cut ? cut : 1), on_frame, NULL);
	return 0;
}
