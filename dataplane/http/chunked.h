/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_CHUNKED_H
#define HF_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/http/h1-t.h"

/*
 * Chunked bodies (RFC 9112 7.1), decoded to find where they end, zero copy
 * and resumable byte by byte: the verdict and the end never depend on how
 * the body was cut. As strict as the head parser, because a body one hop
 * reads as ending elsewhere than the next hop does is a smuggled request:
 *
 *   chunk-size    1*HEXDIG, at most HF_H1_CHUNK_SIZE_DIGITS digits (leading
 *                 zeros included) and below HF_H1_CHUNK_SIZE_LIMIT;
 *   chunk-ext     *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] ),
 *                 nothing else (no bare words, no whitespace before CRLF);
 *   chunk-data    exactly chunk-size bytes, then CRLF;
 *   trailers      field lines as in a head: a token, ':' right after it, a
 *                 value of field-vchar, SP and HTAB; no obs-fold; at most
 *                 HF_H1_TRAILER_FIELDS fields in HF_H1_TRAILER_MAX bytes;
 *   line ends     CRLF only: a bare LF or a bare CR anywhere is refused.
 *
 * The size line with its extensions is at most HF_H1_CHUNK_LINE_MAX bytes.
 * Extensions and trailers are checked, not interpreted: the bytes pass
 * through unchanged.
 */

#define HF_H1_CHUNK_SIZE_DIGITS 16
/* 2^60, as HAProxy: a size that fits every hop's integers (Content-Length's is 10^18). */
#define HF_H1_CHUNK_SIZE_LIMIT (1ull << 60)
#define HF_H1_CHUNK_LINE_MAX 4096	/* a size line and its extensions, CRLF included */
#define HF_H1_TRAILER_MAX 16384		/* the trailer section, its final CRLF included */
#define HF_H1_TRAILER_FIELDS 100	/* as the head's default field count */

struct hf_h1_chunked {
	uint64_t remaining;		/* bytes left in the chunk; in a size line, the size */
	uint32_t line_len;		/* bytes of the current size line */
	uint32_t trailer_len;		/* bytes of the trailer section so far */
	uint8_t state;
	uint8_t size_digits;		/* digits of the size so far, leading zeros included */
	uint8_t n_trailers;
};

static inline void
hf_h1_chunked_init(struct hf_h1_chunked *c)
{
	c->remaining = 0;
	c->line_len = 0;
	c->trailer_len = 0;
	c->state = 0;
	c->size_digits = 0;
	c->n_trailers = 0;
}

/*
 * Decodes chunked framing in @p buf: the data bytes found are reported as
 * slices in @p data (at most @p max_data >= 1 of them, *@p n_data set), so
 * the payload is never copied. Returns the bytes consumed (stopping early
 * when @p data is full, or after INT_MAX bytes), or HF_H1_E_BAD_CHUNK, which
 * every later call on @p c returns too. *@p done becomes true after the last
 * chunk and trailers: what follows belongs to the next message.
 */
int hf_h1_chunked_decode(struct hf_h1_chunked *c, const char *buf, size_t len,
			 struct hf_h1_slice *data, unsigned int max_data, unsigned int *n_data,
			 bool *done);

#endif
