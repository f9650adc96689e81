/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Chunked bodies (RFC 9112 7.1). See chunked.h for the contract. Lines end in
 * CRLF only, as in heads (h1.c), and for the same reason.
 */
#include "dataplane/http/chunked.h"
#include "dataplane/http/h1_chars.h"

/*
 * Chunked states (RFC 9112 7.1: chunk = size [ext] CRLF data CRLF;
 * last = 0 [ext] CRLF trailers CRLF).
 */
enum {
	CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF,
	CH_TRAILER_START, CH_TRAILER, CH_TRAILER_LF, CH_END_LF, CH_DONE,
};

#define CHUNK_LINE_MAX 4096

/* A byte the grammar fixes (CR or LF): on to @p next, or false. */
static inline bool
expect(struct hf_h1_chunked *c, char ch, char want, uint8_t next)
{
	c->state = next;
	return ch == want;
}

/* A byte of skipped text (extension, trailer): CR ends it and leads to @p next. */
static inline bool
text(struct hf_h1_chunked *c, char ch, uint8_t next)
{
	if (ch == '\r')
		c->state = next;
	return ch == '\r' || (hf_h1_cls[(uint8_t)ch] & HF_H1_C_VALUE);
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hf_h1_chunked_decode(struct hf_h1_chunked *c, const char *buf, size_t len,
		     struct hf_h1_slice *data, unsigned int max_data, unsigned int *n_data,
		     bool *done)
{
	size_t i = 0;

	*n_data = 0;
	*done = c->state == CH_DONE;
	while (i < len && c->state != CH_DONE) {
		char ch = buf[i];

		switch (c->state) {
		case CH_SIZE:
			if (hexval(ch) >= 0) {
				if (++c->size_digits > 15)
					return HF_H1_E_BAD_CHUNK;	/* would overflow */
				c->remaining = c->remaining * 16 + (uint64_t)hexval(ch);
			} else if (c->size_digits > 0 && (ch == ';' || ch == ' ' || ch == '\t')) {
				c->state = CH_EXT;
			} else if (c->size_digits > 0 && ch == '\r') {
				c->state = CH_SIZE_LF;
			} else {
				return HF_H1_E_BAD_CHUNK;
			}
			break;
		case CH_EXT:
			/* Extensions are skipped, but stay a line of visible text. */
			if (!text(c, ch, CH_SIZE_LF))
				return HF_H1_E_BAD_CHUNK;
			break;
		case CH_SIZE_LF:
			if (!expect(c, ch, '\n', c->remaining == 0 ? CH_TRAILER_START : CH_DATA))
				return HF_H1_E_BAD_CHUNK;
			c->size_digits = 0;
			c->line_len = 0;
			break;
		case CH_DATA: {
			size_t take = len - i < c->remaining ? len - i : (size_t)c->remaining;

			if (*n_data == max_data)
				goto out;
			data[(*n_data)++] = (struct hf_h1_slice){buf + i, (uint32_t)take};
			c->remaining -= take;
			i += take;
			if (c->remaining == 0)
				c->state = CH_DATA_CR;
			continue;
		}
		case CH_DATA_CR:
			if (!expect(c, ch, '\r', CH_DATA_LF))
				return HF_H1_E_BAD_CHUNK;
			break;
		case CH_DATA_LF:
			if (!expect(c, ch, '\n', CH_SIZE))
				return HF_H1_E_BAD_CHUNK;
			break;
		case CH_TRAILER_START:
			c->state = ch == '\r' ? CH_END_LF : CH_TRAILER;
			break;
		case CH_TRAILER:
			if (!text(c, ch, CH_TRAILER_LF))
				return HF_H1_E_BAD_CHUNK;
			break;
		case CH_TRAILER_LF:
			if (!expect(c, ch, '\n', CH_TRAILER_START))
				return HF_H1_E_BAD_CHUNK;
			c->line_len = 0;
			break;
		case CH_END_LF:
			if (!expect(c, ch, '\n', CH_DONE))
				return HF_H1_E_BAD_CHUNK;
			break;
		}
		if (c->state != CH_DATA && ++c->line_len > CHUNK_LINE_MAX)
			return HF_H1_E_BAD_CHUNK;
		i++;
	}
out:
	*done = c->state == CH_DONE;
	return (int)i;
}
