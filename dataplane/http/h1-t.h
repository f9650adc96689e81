/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_H1_T_H
#define HF_H1_T_H

#include <stdint.h>

/*
 * What the HTTP/1.1 head parser (h1.h) and the chunked body decoder
 * (chunked.h) share: their results and the slices of the caller's buffer
 * they report.
 */

/* Results besides a positive length. */
enum {
	HF_AGAIN = -1,			/* need more bytes */
	HF_H1_E_BAD = -2,		/* malformed: 400 */
	HF_H1_E_URI_TOO_LONG = -3,	/* request line over the limit: 414 */
	HF_H1_E_HEADERS_TOO_LARGE = -4,	/* header block or field count over the limit: 431 */
	HF_H1_E_SMUGGLING = -5,		/* ambiguous framing: 400, and the connection closes */
	HF_H1_E_VERSION = -6,		/* not HTTP/1.0 or 1.1: 505 */
	HF_H1_E_BAD_CHUNK = -7,		/* malformed chunked body: 400 */
};

struct hf_h1_slice {
	const char *p;
	uint32_t len;
};

#endif
