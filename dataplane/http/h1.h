/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_H1_H
#define HF_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * HTTP/1.1 message heads (RFC 9112) and chunked bodies, zero copy: every name,
 * value and target is a slice of the caller's buffer. Strict wherever leniency
 * lets two parsers disagree on where a message ends (request smuggling):
 * Content-Length with Transfer-Encoding, several or malformed Content-Lengths,
 * a Transfer-Encoding not ending in chunked, obs-fold, whitespace before a
 * colon, control bytes, bare CR.
 *
 * Parsing is resumable. A head that arrives whole is decoded in one pass that
 * finds its end on the way. Otherwise a struct hf_h1_scan remembers how far a
 * previous call looked for the end of the head, so later segments are scanned
 * once, and the head is decoded again once, when complete. The verdict never
 * depends on how the head was cut.
 */

#define HF_H1_MAX_HEADERS_CAP 128

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

/* The HTTP status a parse error is answered with. */
int hf_h1_error_status(int err);

/* Short reason for logs and counters ("bad_request", "smuggling", ...). */
const char *hf_h1_error_name(int err);

struct hf_h1_limits {
	uint32_t max_request_line;	/* 8 KiB */
	uint32_t max_head;		/* 60 KiB */
	uint32_t max_headers;		/* 100, at most HF_H1_MAX_HEADERS_CAP */
};

void hf_h1_limits_default(struct hf_h1_limits *l);

struct hf_h1_slice {
	const char *p;
	uint32_t len;
};

struct hf_h1_header {
	struct hf_h1_slice name;
	struct hf_h1_slice value;	/* leading and trailing whitespace removed */
};

enum hf_h1_method {
	HF_H1_M_OTHER = 0, HF_H1_M_GET, HF_H1_M_HEAD, HF_H1_M_POST, HF_H1_M_PUT, HF_H1_M_DELETE,
	HF_H1_M_CONNECT, HF_H1_M_OPTIONS, HF_H1_M_TRACE, HF_H1_M_PATCH,
};

/* Message flags. */
enum {
	HF_H1_F_CHUNKED = 0x01,		/* Transfer-Encoding: ..., chunked */
	HF_H1_F_KEEP_ALIVE = 0x02,	/* the connection persists after this message (9112 9.3) */
	HF_H1_F_EXPECT_CONTINUE = 0x04,	/* Expect: 100-continue */
	HF_H1_F_UPGRADE = 0x08,		/* Connection: upgrade with an Upgrade header */
	HF_H1_F_HAS_BODY_LENGTH = 0x10,	/* Content-Length given */
};

struct hf_h1_message {
	/* requests */
	enum hf_h1_method method;
	struct hf_h1_slice method_name;
	struct hf_h1_slice target;
	struct hf_h1_slice host;	/* Host header, empty when absent */
	/* responses */
	int status;
	struct hf_h1_slice reason;
	/* both */
	uint8_t minor;			/* HTTP/1.<minor>: 0 or 1 */
	uint8_t flags;			/* HF_H1_F_* */
	uint64_t content_length;	/* valid with HF_H1_F_HAS_BODY_LENGTH */
	uint32_t n_headers;
	struct hf_h1_header headers[HF_H1_MAX_HEADERS_CAP];
};

/* Where the search for the end of a head stopped, kept between calls on one message. */
struct hf_h1_scan {
	uint32_t pos;
	uint8_t first_line_seen;
};

static inline void
hf_h1_scan_reset(struct hf_h1_scan *s)
{
	s->pos = 0;
	s->first_line_seen = 0;
}

/*
 * Parses a request head at the start of @p buf (@p len bytes so far).
 * Returns the head's length (the body starts there), HF_AGAIN, or an error.
 * @p msg holds the message only when a length is returned.
 */
int hf_h1_parse_request(const char *buf, size_t len, struct hf_h1_scan *scan,
			const struct hf_h1_limits *lim, struct hf_h1_message *msg);

/* The same for a response head. */
int hf_h1_parse_response(const char *buf, size_t len, struct hf_h1_scan *scan,
			 const struct hf_h1_limits *lim, struct hf_h1_message *msg);

/* Finds a header by name, case-insensitively; NULL when absent. */
const struct hf_h1_header *hf_h1_find(const struct hf_h1_message *msg, const char *name);

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
