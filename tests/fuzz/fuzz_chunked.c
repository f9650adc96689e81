/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the chunked body decoder, differential three ways.
 * The input's first byte picks the slices a call and the size of the
 * pieces, the next four seed the cuts, the rest is the body, which is
 * decoded
 *   - whole, in one call (or as few as the slices allow);
 *   - cut into pieces of pseudo-random lengths drawn from the seed;
 *   - one byte at a time;
 * and checked against a slow reference written here from RFC 9112 7.1 as
 * recursive descent, with its own character classes. All must agree on the
 * verdict (done, more needed, refused), where a done body ends, where a
 * refused one was refused (inside the refusing call's piece; exactly, byte
 * by byte), and on the payload; any disagreement aborts. Slices must lie
 * inside the bytes offered (run under ASan: the body is a buffer of its
 * exact size).
 * fuzzes: dataplane/http/chunked.c dataplane/http/h1.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/http/chunked.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { V_DONE, V_AGAIN, V_BAD };

struct outcome {
	int verdict;
	size_t end;		/* V_DONE: the body's length */
	size_t bad_from, bad_to;	/* V_BAD: the refusing call's piece (reference: at, at+1) */
	size_t len;		/* payload bytes (not kept for V_BAD) */
	char *payload;
};

/* xorshift32: the cuts, from the seed in the input */
static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Decodes @p n bytes of @p body offered in pieces: one piece when @p mode
 * is 0, one byte each when 1, else lengths 1..@p mode from @p seed.
 */
static void
feed(const char *body, size_t n, unsigned int max_data, unsigned int mode, uint32_t seed,
     struct outcome *o)
{
	struct hf_h1_chunked c;
	struct hf_h1_slice d[8];
	size_t pos = 0;

	hf_h1_chunked_init(&c);
	o->verdict = V_AGAIN;
	o->len = 0;
	while (pos < n) {
		size_t piece = mode == 0 ? n - pos : mode == 1 ? 1 : 1 + next(&seed) % mode;
		size_t to = pos + piece < n ? pos + piece : n, from = pos;

		while (pos < to) {
			unsigned int nd;
			bool done;
			int rc = hf_h1_chunked_decode(&c, body + pos, to - pos, d, max_data, &nd,
						      &done);

			if (rc < 0) {
				if (rc != HF_H1_E_BAD_CHUNK || done)
					abort();
				o->verdict = V_BAD;
				o->bad_from = from;
				o->bad_to = to;
				o->len = 0;
				return;
			}
			if (nd > max_data || (rc == 0 && !done))
				abort();
			for (unsigned int i = 0; i < nd; i++) {
				if (d[i].p < body + pos || d[i].p + d[i].len > body + to)
					abort();
				memcpy(o->payload + o->len, d[i].p, d[i].len);
				o->len += d[i].len;
			}
			pos += (size_t)rc;
			if (done) {
				o->verdict = V_DONE;
				o->end = pos;
				return;
			}
		}
	}
}

/* ---- the reference: RFC 9112 7.1 as written, one function, no state kept ---- */

static bool
r_tchar(uint8_t ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* field-vchar / obs-text / SP / HTAB (RFC 9110 5.5) */
static bool
r_value(uint8_t ch)
{
	return (ch >= 0x21 && ch != 0x7f) || ch == ' ' || ch == '\t';
}

static bool
r_ws(uint8_t ch)
{
	return ch == ' ' || ch == '\t';
}

static int
r_hex(uint8_t ch)
{
	const char *h = "0123456789abcdef0123456789ABCDEF", *p;

	if (ch == 0 || (p = strchr(h, ch)) == NULL)
		return -1;
	return (int)((p - h) % 16);
}

static void
reference(const uint8_t *b, size_t n, struct outcome *o)
{
	size_t i = 0, line, tr;
	unsigned int fields = 0;

	o->len = 0;
/* the next byte must be there; in a size line or the trailers, within the bound */
#define NEED()                                                                                     \
	do {                                                                                       \
		if (i >= n) {                                                                      \
			o->verdict = V_AGAIN;                                                      \
			return;                                                                    \
		}                                                                                  \
	} while (0)
#define BAD()                                                                                      \
	do {                                                                                       \
		o->verdict = V_BAD;                                                                \
		o->bad_from = i;                                                                   \
		o->bad_to = i + 1;                                                                 \
		return;                                                                            \
	} while (0)
#define LINE()                                                                                     \
	do {                                                                                       \
		NEED();                                                                            \
		if (i - line >= HF_H1_CHUNK_LINE_MAX)                                              \
			BAD();                                                                     \
	} while (0)
#define TRAILER()                                                                                  \
	do {                                                                                       \
		NEED();                                                                            \
		if (i - tr >= HF_H1_TRAILER_MAX)                                                   \
			BAD();                                                                     \
	} while (0)
#define SKIP_WS()                                                                                  \
	do {                                                                                       \
		LINE();                                                                            \
		while (r_ws(b[i])) {                                                               \
			i++;                                                                       \
			LINE();                                                                    \
		}                                                                                  \
	} while (0)

	for (;;) {
		uint64_t size = 0;
		unsigned int digits = 0;

		line = i;
		/* chunk-size = 1*HEXDIG */
		for (;;) {
			LINE();
			if (r_hex(b[i]) < 0)
				break;
			if (++digits > HF_H1_CHUNK_SIZE_DIGITS)
				BAD();
			size = size * 16 + (uint64_t)r_hex(b[i]);
			if (size >= HF_H1_CHUNK_SIZE_LIMIT)
				BAD();
			i++;
		}
		if (digits == 0)
			BAD();
		/* *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ), then CR */
		while (b[i] != '\r') {
			SKIP_WS();
			if (b[i] != ';')
				BAD();
			i++;
			SKIP_WS();
			if (!r_tchar(b[i]))
				BAD();
			while (r_tchar(b[i])) {
				i++;
				LINE();
			}
			if (b[i] == '\r')
				break;
			SKIP_WS();
			if (b[i] == ';')
				continue;	/* the next extension's ';', BWS skipped */
			if (b[i] != '=')
				BAD();
			i++;
			SKIP_WS();
			if (r_tchar(b[i])) {
				while (r_tchar(b[i])) {
					i++;
					LINE();
				}
			} else if (b[i] == '"') {
				for (;;) {
					i++;
					LINE();
					if (b[i] == '"')
						break;
					if (b[i] == '\\') {
						i++;
						LINE();
					}
					if (!r_value(b[i]))
						BAD();
				}
				i++;
				LINE();
			} else {
				BAD();
			}
		}
		i++;
		LINE();
		if (b[i] != '\n')
			BAD();
		i++;
		if (size == 0)
			break;
		/* chunk-data CRLF */
		if (n - i < size) {
			memcpy(o->payload + o->len, b + i, n - i);
			o->len += n - i;
			o->verdict = V_AGAIN;
			return;
		}
		memcpy(o->payload + o->len, b + i, size);
		o->len += size;
		i += size;
		NEED();
		if (b[i] != '\r')
			BAD();
		i++;
		NEED();
		if (b[i] != '\n')
			BAD();
		i++;
	}
	/* trailer-section CRLF */
	tr = i;
	for (;;) {
		TRAILER();
		if (b[i] == '\r')
			break;
		if (++fields > HF_H1_TRAILER_FIELDS || !r_tchar(b[i]))
			BAD();
		while (r_tchar(b[i])) {
			i++;
			TRAILER();
		}
		if (b[i] != ':')
			BAD();
		i++;
		TRAILER();
		while (r_value(b[i])) {
			i++;
			TRAILER();
		}
		if (b[i] != '\r')
			BAD();
		i++;
		TRAILER();
		if (b[i] != '\n')
			BAD();
		i++;
	}
	i++;
	TRAILER();
	if (b[i] != '\n')
		BAD();
	o->verdict = V_DONE;
	o->end = i + 1;
#undef NEED
#undef BAD
#undef LINE
#undef TRAILER
#undef SKIP_WS
}

/* @p o agrees with the reference @p r, or the process aborts. */
static void
agree(const struct outcome *o, const struct outcome *r, bool exact)
{
	if (o->verdict != r->verdict)
		abort();
	if (o->verdict == V_DONE && o->end != r->end)
		abort();
	if (o->verdict == V_BAD) {
		if (r->bad_from < o->bad_from || r->bad_from >= o->bad_to)
			abort();
		if (exact && o->bad_from != r->bad_from)
			abort();
		return;
	}
	if (o->len != r->len || memcmp(o->payload, r->payload, r->len) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome ref, got;
	unsigned int max_data, mode;
	uint32_t seed;
	char *body;
	size_t n;

	if (size < 5)
		return 0;
	max_data = 1 + data[0] % 8;
	mode = 2u << (data[0] >> 3) % 10;		/* pieces of 1 to 2..1024 bytes */
	memcpy(&seed, data + 1, 4);
	seed |= 1;					/* xorshift never leaves 0 */
	n = size - 5;
	body = malloc(n ? n : 1);			/* exact size: ASan sees any overread */
	memcpy(body, data + 5, n);
	ref.payload = malloc(n + 1);
	got.payload = malloc(n + 1);

	reference((const uint8_t *)body, n, &ref);
	feed(body, n, max_data, 0, seed, &got);
	agree(&got, &ref, false);
	feed(body, n, max_data, mode, seed, &got);
	agree(&got, &ref, false);
	feed(body, n, max_data, 1, seed, &got);
	agree(&got, &ref, true);

	free(got.payload);
	free(ref.payload);
	free(body);
	return 0;
}
