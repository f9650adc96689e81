/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_CHUNKED_H
#define HF_CHUNKED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/http/h1-t.h"

/* Chunked body decoding (RFC 9112 7.1), resumable byte by byte. */
struct hf_h1_chunked {
	uint8_t state;
	uint8_t size_digits;
	uint64_t remaining;		/* bytes left in the current chunk */
	uint32_t line_len;		/* length of the current size or trailer line */
};

static inline void
hf_h1_chunked_init(struct hf_h1_chunked *c)
{
	c->state = 0;
	c->size_digits = 0;
	c->remaining = 0;
	c->line_len = 0;
}

/*
 * Decodes chunked framing in @p buf: the data bytes found are reported as
 * slices in @p data (at most @p max_data of them, *@p n_data set), so the
 * payload is never copied. Returns the bytes consumed (stopping early when
 * @p data is full), or HF_H1_E_BAD_CHUNK. *@p done becomes true after the
 * last chunk and trailers: what follows belongs to the next message.
 */
int hf_h1_chunked_decode(struct hf_h1_chunked *c, const char *buf, size_t len,
			 struct hf_h1_slice *data, unsigned int max_data, unsigned int *n_data,
			 bool *done);

#endif
