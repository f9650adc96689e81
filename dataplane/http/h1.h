/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_H1_H
#define HF_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/http/h1-t.h"

/*
 * HTTP/1.1 message heads (RFC 9112), zero copy: every name, value and target
 * is a slice of the caller's buffer. Strict wherever leniency lets two
 * parsers disagree on where a message ends (request smuggling):
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

/* The HTTP status a parse error is answered with. */
int hf_h1_error_status(int err);

/* The reason phrase of @p status (RFC 9110 15), "Unknown" for one Hydrofoil never sends. */
const char *hf_h1_reason(int status);

/*
 * The value of hex digit @p ch (RFC 5234 HEXDIG, either case), or -1 when
 * @p ch is not one.
 */
static inline int
hf_h1_hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Short reason for logs and counters ("bad_request", "smuggling", ...). */
const char *hf_h1_error_name(int err);

struct hf_h1_limits {
	uint32_t max_request_line;	/* 8 KiB */
	uint32_t max_head;		/* 60 KiB */
	uint32_t max_headers;		/* 100, at most HF_H1_MAX_HEADERS_CAP */
};

void hf_h1_limits_default(struct hf_h1_limits *l);

/*
 * The field names the parser or the proxy acts on, told apart once, by the
 * parser, while it splits the lines, so that no later reader compares names
 * again: framing and connection fields (RFC 9110 7.6.1, RFC 9112), and the
 * x- fields a proxy in Envoy's place adds, replaces or drops.
 */
enum hf_h1_field {
	HF_H1_FLD_UNKNOWN = 0,		/* not looked at: put in by other code (hf_h1_field_of()) */
	HF_H1_FLD_OTHER,		/* none of those below */
	HF_H1_FLD_HOST,
	HF_H1_FLD_CONTENT_LENGTH,
	HF_H1_FLD_TRANSFER_ENCODING,
	HF_H1_FLD_CONNECTION,
	HF_H1_FLD_UPGRADE,
	HF_H1_FLD_EXPECT,
	HF_H1_FLD_TE,
	HF_H1_FLD_TRAILER,
	HF_H1_FLD_KEEP_ALIVE,
	HF_H1_FLD_PROXY_CONNECTION,
	HF_H1_FLD_X_FORWARDED_FOR,
	HF_H1_FLD_X_FORWARDED_PROTO,
	HF_H1_FLD_X_REQUEST_ID,
	HF_H1_FLD_X_ENVOY_ORIGINAL_PATH,
	HF_H1_FLD_X_FORWARDED_CLIENT_CERT,
	HF_H1_FLD_X_ENVOY_UPSTREAM_SERVICE_TIME,
	HF_H1_FLD_CLOSE,		/* "close": the option's name, hop-by-hop when it is one */
};

struct hf_h1_header {
	struct hf_h1_slice name;
	struct hf_h1_slice value;	/* leading and trailing whitespace removed */
	/*
	 * enum hf_h1_field of name. The parser's fields have one (never UNKNOWN),
	 * and are lines of the head: the name is followed by ':', the value by
	 * the line's whitespace, if any, then CRLF. Code that puts a field of its
	 * own into a message sets UNKNOWN, which promises nothing of the kind.
	 */
	uint8_t field;
};

/*
 * The enum hf_h1_field of name @p n (@p len bytes), compared as RFC 9110 5.1
 * says, case-insensitively, whatever bytes it holds: OTHER, never UNKNOWN.
 */
enum hf_h1_field hf_h1_field_of(const char *n, size_t len);

/* The field of @p h, named now when whoever put it there did not. */
static inline enum hf_h1_field
hf_h1_field(const struct hf_h1_header *h)
{
	return h->field != HF_H1_FLD_UNKNOWN ? (enum hf_h1_field)h->field
					     : hf_h1_field_of(h->name.p, h->name.len);
}

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
	/*
	 * A Connection option may name a field of the message, which is then
	 * hop-by-hop too (RFC 9110 7.6.1): an option other than close,
	 * keep-alive and upgrade, or close with a field of that name (the other
	 * two are hop-by-hop by their own names). Code that adds or removes a
	 * Connection field keeps it true with hf_h1_conn_names().
	 */
	HF_H1_F_CONN_NAMES = 0x20,
};

struct hf_h1_message {
	/* the request or status line as received, CRLF excluded (the CRLF follows it) */
	struct hf_h1_slice line;
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

/* The four forms of request-target (RFC 9112 3.2). */
enum hf_h1_target_form {
	HF_H1_TARGET_ORIGIN,		/* absolute-path [ "?" query ] (3.2.1) */
	HF_H1_TARGET_ABSOLUTE,		/* "http" / "https" "://" authority path-abempty [ "?" query ] (3.2.2) */
	HF_H1_TARGET_AUTHORITY,		/* uri-host ":" port, the form of CONNECT (3.2.3) */
	HF_H1_TARGET_ASTERISK,		/* "*" (3.2.4): OPTIONS alone may use it, which the caller checks */
	HF_H1_TARGET_INVALID,		/* none of these: 400 */
};

/* A request-target taken apart: slices of the target. */
struct hf_h1_target {
	enum hf_h1_target_form form;
	struct hf_h1_slice authority;	/* absolute- and authority-form: host[:port] */
	struct hf_h1_slice path;	/* origin- and absolute-form: the path (may be empty in
					 * absolute-form) and the query after it */
};

/*
 * Classifies the target of a request with method @p method. CONNECT takes
 * the authority-form and nothing else; every other method the origin-,
 * absolute- or asterisk-form. INVALID is a target that is none of these:
 * a relative path ("foo", "./a"), a fragment ('#' anywhere: RFC 9112 3.2.1
 * has none, and Envoy refuses it), a scheme other than http or https
 * (either case), userinfo ("http://a@b/", RFC 9110 4.2.4), an empty host, a
 * host that is not a name, an IPv4 address or a bracketed IPv6 address, a
 * port that is not 1 to 5 digits up to 65535. An absolute-form "host:" with
 * an empty port yields the authority "host" (RFC 3986 6.2.3).
 */
enum hf_h1_target_form hf_h1_target_parse(enum hf_h1_method method, const struct hf_h1_slice *target,
					  struct hf_h1_target *t);

/*
 * Whether an option of the Connection fields of @p msg may name one of its
 * fields (HF_H1_F_CONN_NAMES, worked out again).
 */
bool hf_h1_conn_names(const struct hf_h1_message *msg);

/*
 * Whether @p name (@p len bytes) is an option of the Connection fields of
 * @p msg, trimmed, compared case-insensitively: a field that option names is
 * hop-by-hop (RFC 9110 7.6.1).
 */
bool hf_h1_conn_option(const struct hf_h1_message *msg, const char *name, size_t len);

/*
 * Whether the @p n bytes at @p v may be written as a field value (RFC 9110
 * 5.5): field-vchar (visible ASCII, obs-text), SP and HTAB; never CR, LF,
 * NUL or another control byte, which would end or break the line. For
 * values that do not come from a parsed head (a JWT claim, ...).
 */
bool hf_h1_value_ok(const char *v, size_t n);

/* Finds a header by @p name, which must be lower case, case-insensitively; NULL when absent. */
const struct hf_h1_header *hf_h1_find(const struct hf_h1_message *msg, const char *name);

/* The body decoder every user of a message head needs beside it. */
#include "dataplane/http/chunked.h"

#endif
