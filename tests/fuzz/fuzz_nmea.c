/* fuzz_nmea.c -- libFuzzer target: any byte stream through the NMEA line splitter, parser and session, in any chunking. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "nmea.h"

/* What a run produced, folded into one number, so that a stream pushed whole
 * and the same stream pushed in pieces can be compared. */
struct run {
	struct nmea_liner liner;
	struct nmea_session sess;
	uint64_t digest;
	size_t nfix;
	int64_t last_time_ms;
	int fix_checksums;
};

/* Rewrites the two characters after the first '*' with the right checksum,
 * so that mutations get past the checksum to the field parsers and the
 * session. Returns the line to parse (buf or the original). */
static const char *fix_checksum(const char *line, size_t len, char *buf)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *star = memchr(line, '*', len);
	size_t at;
	uint8_t x;

	if (!star || line[0] != '$' || (size_t)(star - line) + 3 > len)
		return line;
	at = (size_t)(star - line);
	x = nmea_checksum(line + 1, at - 1);
	memcpy(buf, line, len);
	buf[at + 1] = hex[x >> 4];
	buf[at + 2] = hex[x & 15];
	return buf;
}

static void mix(struct run *r, const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		r->digest = (r->digest ^ b[i]) * 0x100000001b3ULL;
}

static void check_sentence(const struct nmea_sentence *s)
{
	if (s->has_pos && (s->lat < -90.0 || s->lat > 90.0 ||
			   s->lon < -180.0 || s->lon > 180.0))
		__builtin_trap();
	if (s->has_time && (s->tod_ms < 0 || s->tod_ms >= 86400000))
		__builtin_trap();
	if (s->has_course && (s->course < 0.0 || s->course >= 360.0))
		__builtin_trap();
	if (s->has_speed && s->speed_kn < 0.0)
		__builtin_trap();
	if (s->has_date && (s->month < 1 || s->month > 12 || s->day < 1 ||
			    s->day > 31 || s->year < 1980 || s->year > 2079))
		__builtin_trap();
	if (s->type == NMEA_PSWID &&
	    (strlen(s->id) < 1 || strlen(s->id) > NMEA_MAX_ID))
		__builtin_trap();
}

static int on_line(void *user, const char *line, size_t len, int err)
{
	struct run *r = user;
	struct nmea_sentence s;
	char buf[NMEA_MAX_LINE];
	int rc;

	mix(r, &err, sizeof(err));
	if (err)
		return 0;
	if (len == 0 || len > NMEA_MAX_LINE || memchr(line, '\n', len))
		__builtin_trap();
	if (line[len - 1] == '\r')
		__builtin_trap();
	mix(r, &len, sizeof(len));
	mix(r, line, len);
	if (r->fix_checksums)
		line = fix_checksum(line, len, buf);
	rc = nmea_parse(line, len, &s);
	mix(r, &rc, sizeof(rc));
	if (rc != NMEA_OK)
		return 0;
	check_sentence(&s);
	{
		struct nmea_fix fx[NMEA_FIXES_MAX];
		int i, n = nmea_session_feed(&r->sess, &s, fx);

		if (n < 0 || n > NMEA_FIXES_MAX)
			__builtin_trap();
		for (i = 0; i < n; i++) {
			const struct nmea_fix *ff = &fx[i];

			if (ff->lat < -90.0 || ff->lat > 90.0 || ff->lon < -180.0 ||
			    ff->lon > 180.0 || (!ff->valid && ff->lat == 0.0 && ff->lon == 0.0))
				__builtin_trap();
			/* one fix per epoch: never the same time twice in a row */
			if (r->nfix > 0 && ff->time_ms == r->last_time_ms)
				__builtin_trap();
			r->last_time_ms = ff->time_ms;
			r->nfix++;
			mix(r, &ff->time_ms, sizeof(ff->time_ms));
			mix(r, &ff->lat, sizeof(ff->lat));
			mix(r, &ff->lon, sizeof(ff->lon));
			mix(r, &ff->valid, sizeof(ff->valid));
		}
	}
	return 0;
}

static void run_init(struct run *r, int fix_checksums)
{
	r->fix_checksums = fix_checksums;
	nmea_liner_init(&r->liner);
	nmea_session_init(&r->sess);
	r->digest = 0xcbf29ce484222325ULL;
	r->nfix = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, pieces;
	struct nmea_sentence s;
	const char *p;
	size_t n, off, step;
	uint8_t seed;

	if (size < 1)
		return 0;
	/* the first byte chooses the chunking, as TCP reads would, and (bit
	 * 0x40) whether checksums are repaired before parsing */
	seed = data[0];
	p = (const char *)data + 1;
	n = size - 1;

	/* the parser on the raw bytes, any length, NULs included */
	if (nmea_parse(p, n, &s) == NMEA_OK)
		check_sentence(&s);

	run_init(&whole, seed & 0x40);
	nmea_liner_push(&whole.liner, p, n, on_line, &whole);
	nmea_liner_flush(&whole.liner, on_line, &whole);

	run_init(&pieces, seed & 0x40);
	for (off = 0; off < n; off += step) {
		/* piece sizes 1..16 cycling with the seed, or a one-off cut */
		step = seed & 0x80 ? (size_t)((seed + off) % 16) + 1 :
				     (off == 0 ? (size_t)seed % (n + 1) : n - off);
		if (step == 0)
			step = 1;
		if (step > n - off)
			step = n - off;
		nmea_liner_push(&pieces.liner, p + off, step, on_line, &pieces);
	}
	nmea_liner_flush(&pieces.liner, on_line, &pieces);

	/* chunking must never change what comes out */
	if (whole.digest != pieces.digest || whole.nfix != pieces.nfix)
		__builtin_trap();
	return 0;
}
