/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_STRBUF_H
#define HF_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * A growable text buffer for the control thread (admin replies, reports).
 * Never used by workers. After an allocation failure the buffer keeps what it
 * had and @c failed is set; every later append is a no-op.
 */
struct hf_strbuf {
	char *s;
	size_t len;
	size_t cap;
	int failed;
};

/** Appends printf-style text. Returns 0 or -ENOMEM. */
int hf_strbuf_printf(struct hf_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Appends @p n bytes of @p data. Returns 0 or -ENOMEM. */
int hf_strbuf_append(struct hf_strbuf *b, const void *data, size_t n);

/** Frees the text and clears the buffer for reuse. */
void hf_strbuf_free(struct hf_strbuf *b);

#endif
