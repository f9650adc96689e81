/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 heads and chunked bodies (RFC 9112, RFC 9110). See h1.h for the
 * contract. Lines end in CRLF only: a bare LF or a bare CR is refused, which
 * is stricter than RFC 9112 2.2 allows a recipient to be, on purpose — every
 * hop behind us may read lines differently.
 */
#include <string.h>
#include <strings.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "dataplane/http/h1.h"

/*
 * Character classes (RFC 9110 5.6.2 tchar; 5.5 field-vchar and obs-text).
 * tchar: "!#$%&'*+-.^_`|~", DIGIT, ALPHA. vchar: 0x21-0x7e plus obs-text
 * 0x80-0xff, with SP and HTAB allowed inside a value.
 */
enum { C_TCHAR = 1, C_VALUE = 2, C_TARGET = 4 };

static uint8_t cls[256];

static void __attribute__((constructor))
init_classes(void)
{
	static const char tspecial[] = "!#$%&'*+-.^_`|~";

	for (int c = 0; c < 256; c++) {
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c != 0 && strchr(tspecial, c) != NULL))
			cls[c] |= C_TCHAR;
		if ((c >= 0x21 && c <= 0x7e) || c >= 0x80 || c == ' ' || c == '\t')
			cls[c] |= C_VALUE;
		/* request-target: visible ASCII; obs-text refused (RFC 3986 has none) */
		if (c >= 0x21 && c <= 0x7e)
			cls[c] |= C_TARGET;
	}
}

/*
 * The first byte in [p, end) that may not stand in a field value: a control
 * byte other than HTAB, or DEL (RFC 9110 5.5). The CR ending the line is one,
 * so this finds the line's end and validates it in the same pass. AVX2 takes
 * 32 bytes a step where the build has it; the tail and other builds go byte by
 * byte through the class table.
 */
static inline const char *
scan_value(const char *p, const char *end, const char *limit)
{
#ifdef __AVX2__
	const __m256i c1f = _mm256_set1_epi8(0x1f), tab = _mm256_set1_epi8('\t');
	const __m256i del = _mm256_set1_epi8(0x7f);

	/*
	 * Loads may reach past `end` up to `limit`, the last byte of the head:
	 * the CRLF at `end` stops the scan before anything beyond it counts.
	 */
	while (limit - p >= 32) {
		__m256i b = _mm256_loadu_si256((const __m256i *)p);
		/* unsigned b <= 0x1f  ⇔  min(b, 0x1f) == b */
		__m256i ctl = _mm256_cmpeq_epi8(_mm256_min_epu8(b, c1f), b);
		__m256i bad = _mm256_or_si256(_mm256_andnot_si256(_mm256_cmpeq_epi8(b, tab), ctl),
					      _mm256_cmpeq_epi8(b, del));
		uint32_t m = (uint32_t)_mm256_movemask_epi8(bad);

		if (m != 0) {
			p += __builtin_ctz(m);
			return p < end ? p : end;
		}
		p += 32;
	}
#endif
	while (p < end && (cls[(uint8_t)*p] & C_VALUE))
		p++;
	return p;
}

/*
 * The first byte in [p, end) that may not stand in a request-target: outside
 * 0x21-0x7e. The SP before the version is one, so this finds the target's
 * end. AVX2 32 bytes a step, then the table.
 */
static inline const char *
scan_target(const char *p, const char *end, const char *limit)
{
#ifdef __AVX2__
	const __m256i lo = _mm256_set1_epi8(0x20), hi = _mm256_set1_epi8(0x7e);

	/* As scan_value: the CR at `end` stops it, loads may reach `limit`. */
	while (limit - p >= 32) {
		__m256i b = _mm256_loadu_si256((const __m256i *)p);
		/* unsigned b <= 0x20 or b > 0x7e */
		__m256i low = _mm256_cmpeq_epi8(_mm256_min_epu8(b, lo), b);
		__m256i high = _mm256_xor_si256(_mm256_cmpeq_epi8(_mm256_max_epu8(b, hi), hi),
						_mm256_set1_epi8(-1));
		uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_or_si256(low, high));

		if (m != 0) {
			p += __builtin_ctz(m);
			return p < end ? p : end;
		}
		p += 32;
	}
#endif
	while (p < end && (cls[(uint8_t)*p] & C_TARGET))
		p++;
	return p;
}

/* Header names the parser acts on, recognised by length first. */
enum field {
	F_OTHER, F_CONTENT_LENGTH, F_TRANSFER_ENCODING, F_CONNECTION, F_UPGRADE, F_EXPECT, F_HOST,
};

/*
 * Case-insensitive match of a name against a lower-case literal of the same
 * length, 8 bytes a step: OR-ing 0x20 lowers letters and leaves '-' and
 * digits alone, and a header name holds nothing else that could collide.
 */
static inline bool
name_is(const char *n, const char *lit, uint32_t len)
{
	uint64_t a, b;
	uint32_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&a, n + i, 8);
		memcpy(&b, lit + i, 8);
		if ((a | 0x2020202020202020ull) != b)
			return false;
	}
	for (; i < len; i++)
		if ((n[i] | 0x20) != lit[i])
			return false;
	return true;
}

static enum field
classify(const char *n, uint32_t len)
{
	switch (len) {
	case 4: return name_is(n, "host", 4) ? F_HOST : F_OTHER;
	case 6: return name_is(n, "expect", 6) ? F_EXPECT : F_OTHER;
	case 7: return name_is(n, "upgrade", 7) ? F_UPGRADE : F_OTHER;
	case 10: return name_is(n, "connection", 10) ? F_CONNECTION : F_OTHER;
	case 14: return name_is(n, "content-length", 14) ? F_CONTENT_LENGTH : F_OTHER;
	case 17: return name_is(n, "transfer-encoding", 17) ? F_TRANSFER_ENCODING : F_OTHER;
	default: return F_OTHER;
	}
}

void
hf_h1_limits_default(struct hf_h1_limits *l)
{
	l->max_request_line = 8192;
	l->max_head = 60 * 1024;
	l->max_headers = 100;
}

int
hf_h1_error_status(int err)
{
	switch (err) {
	case HF_H1_E_URI_TOO_LONG: return 414;
	case HF_H1_E_HEADERS_TOO_LARGE: return 431;
	case HF_H1_E_VERSION: return 505;
	default: return 400;
	}
}

const char *
hf_h1_error_name(int err)
{
	switch (err) {
	case HF_H1_E_BAD: return "bad_request";
	case HF_H1_E_URI_TOO_LONG: return "uri_too_long";
	case HF_H1_E_HEADERS_TOO_LARGE: return "headers_too_large";
	case HF_H1_E_SMUGGLING: return "ambiguous_framing";
	case HF_H1_E_VERSION: return "version";
	case HF_H1_E_BAD_CHUNK: return "bad_chunk";
	default: return "unknown";
	}
}

/*
 * Looks for the blank line ending the head, from where the last call stopped.
 * Every LF is a candidate; AVX2 finds them 32 bytes a step (memchr elsewhere).
 * Returns the head length, HF_AGAIN, or a limit error.
 */
static int
at_lf(const char *buf, size_t at, struct hf_h1_scan *scan, const struct hf_h1_limits *lim,
      bool request)
{
	/* The request line's own limit, checked once, at its end. */
	if (!scan->first_line_seen) {
		scan->first_line_seen = 1;
		if (request && at > lim->max_request_line)
			return HF_H1_E_URI_TOO_LONG;
	}
	if (at >= 3 && buf[at - 1] == '\r' && buf[at - 2] == '\n' && buf[at - 3] == '\r')
		return at + 1 > lim->max_head ? HF_H1_E_HEADERS_TOO_LARGE : (int)(at + 1);
	return 0;
}

static int
find_head_end(const char *buf, size_t len, struct hf_h1_scan *scan, const struct hf_h1_limits *lim,
	      bool request)
{
	size_t pos = scan->pos;
	int rc;

#ifdef __AVX2__
	const __m256i lf = _mm256_set1_epi8('\n');

	for (; len - pos >= 32; pos += 32) {
		uint32_t m = (uint32_t)_mm256_movemask_epi8(
			_mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(buf + pos)), lf));

		for (; m != 0; m &= m - 1)
			if ((rc = at_lf(buf, pos + (size_t)__builtin_ctz(m), scan, lim, request)) != 0)
				return rc;
		if (pos + 32 > lim->max_head)
			break;
	}
#endif
	for (const char *lfp; (lfp = memchr(buf + pos, '\n', len - pos)) != NULL;) {
		if ((rc = at_lf(buf, (size_t)(lfp - buf), scan, lim, request)) != 0)
			return rc;
		pos = (size_t)(lfp - buf) + 1;
	}
	if (request && !scan->first_line_seen && len > lim->max_request_line)
		return HF_H1_E_URI_TOO_LONG;
	if (len > lim->max_head)
		return HF_H1_E_HEADERS_TOO_LARGE;
	scan->pos = (uint32_t)len;
	return HF_AGAIN;
}

static bool
ieq(const struct hf_h1_slice *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n && strncasecmp(s->p, lit, n) == 0;
}

/* Calls @p fn for each comma-separated element of a list value, trimmed (RFC 9110 5.6.1). */
static int
each_element(const struct hf_h1_slice *v, int (*fn)(const struct hf_h1_slice *e, void *arg),
	     void *arg)
{
	const char *p = v->p, *end = v->p + v->len;

	while (p < end) {
		const char *q = memchr(p, ',', (size_t)(end - p));
		const char *e = q != NULL ? q : end;
		struct hf_h1_slice el;
		int rc;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		el.p = p;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		el.len = (uint32_t)(e - p);
		if (el.len > 0 && (rc = fn(&el, arg)) != 0)
			return rc;
		p = q != NULL ? q + 1 : end;
	}
	return 0;
}

struct te_state {
	int codings;
	bool last_chunked;
	bool chunked_seen_before;
};

static int
te_element(const struct hf_h1_slice *e, void *arg)
{
	struct te_state *t = arg;
	bool chunked = ieq(e, "chunked");

	/* chunked must be the final coding, and only once (RFC 9112 6.1). */
	if (t->last_chunked && t->codings > 0)
		t->chunked_seen_before = true;
	t->last_chunked = chunked;
	t->codings++;
	return 0;
}

struct conn_state {
	bool close, keep_alive, upgrade;
};

static int
conn_element(const struct hf_h1_slice *e, void *arg)
{
	struct conn_state *c = arg;

	c->close |= ieq(e, "close");
	c->keep_alive |= ieq(e, "keep-alive");
	c->upgrade |= ieq(e, "upgrade");
	return 0;
}

/* Content-Length: 1*DIGIT, no sign, no list, below 2^63 (RFC 9110 8.6). */
static int
parse_length(const struct hf_h1_slice *v, uint64_t *out)
{
	uint64_t n = 0;

	if (v->len == 0 || v->len > 18)
		return HF_H1_E_SMUGGLING;
	for (uint32_t i = 0; i < v->len; i++) {
		if (v->p[i] < '0' || v->p[i] > '9')
			return HF_H1_E_SMUGGLING;
		n = n * 10 + (uint64_t)(v->p[i] - '0');
	}
	*out = n;
	return 0;
}

/*
 * Splits the header lines of [p, end) into msg->headers, checking each byte,
 * then applies the framing rules. @p end points at the final CRLF CRLF's
 * second CRLF.
 */
static int
parse_fields(const char *p, const char *end, const struct hf_h1_limits *lim,
	     struct hf_h1_message *msg, bool request)
{
	struct te_state te = {0};
	struct conn_state conn = {0};
	bool have_cl = false, have_te = false, have_upgrade = false, have_host = false;
	uint64_t cl = 0;
	int rc;

	msg->n_headers = 0;
	while (p < end) {
		const char *colon = p, *v, *ve, *line_end;
		struct hf_h1_header *h;

		if (*p == ' ' || *p == '\t')
			return HF_H1_E_BAD;		/* obs-fold (RFC 9112 5.2) */
		while (cls[(uint8_t)*colon] & C_TCHAR)
			colon++;
		if (colon == p || *colon != ':')
			return HF_H1_E_BAD;		/* empty name, bad byte, or space before ':' */
		if (msg->n_headers == lim->max_headers || msg->n_headers == HF_H1_MAX_HEADERS_CAP)
			return HF_H1_E_HEADERS_TOO_LARGE;
		/* The value runs to the first byte a value may not hold: it must be CRLF. */
		line_end = scan_value(colon + 1, end, end + 2);
		if (line_end == end || line_end[0] != '\r' || line_end[1] != '\n')
			return HF_H1_E_BAD;		/* a control byte, or a bare CR */
		v = colon + 1;
		ve = line_end;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		h = &msg->headers[msg->n_headers++];
		h->name = (struct hf_h1_slice){p, (uint32_t)(colon - p)};
		h->value = (struct hf_h1_slice){v, (uint32_t)(ve - v)};

		switch (classify(p, h->name.len)) {
		case F_CONTENT_LENGTH: {
			uint64_t n;

			if ((rc = parse_length(&h->value, &n)) != 0)
				return rc;
			if (have_cl && n != cl)
				return HF_H1_E_SMUGGLING;	/* differing lengths */
			have_cl = true;
			cl = n;
			break;
		}
		case F_TRANSFER_ENCODING:
			have_te = true;
			each_element(&h->value, te_element, &te);
			break;
		case F_CONNECTION:
			each_element(&h->value, conn_element, &conn);
			break;
		case F_UPGRADE:
			have_upgrade = true;
			break;
		case F_EXPECT:
			if (ieq(&h->value, "100-continue"))
				msg->flags |= HF_H1_F_EXPECT_CONTINUE;
			break;
		case F_HOST:
			if (have_host && request)
				return HF_H1_E_BAD;		/* RFC 9112 3.2: exactly one */
			have_host = true;
			msg->host = h->value;
			break;
		case F_OTHER:
			break;
		}
		p = line_end + 2;
	}

	if (have_te) {
		/* RFC 9112 6.1 / 6.3: with both, a proxy must not forward; we refuse. */
		if (have_cl)
			return HF_H1_E_SMUGGLING;
		if (te.codings == 0 || te.chunked_seen_before)
			return HF_H1_E_SMUGGLING;
		if (request && (!te.last_chunked || msg->minor == 0))
			return HF_H1_E_SMUGGLING;	/* 6.3 item 4; and 1.0 knows no TE */
		if (te.last_chunked)
			msg->flags |= HF_H1_F_CHUNKED;
	} else if (have_cl) {
		msg->flags |= HF_H1_F_HAS_BODY_LENGTH;
		msg->content_length = cl;
	}
	if (request && msg->minor == 1 && !have_host)
		return HF_H1_E_BAD;
	/* RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive". */
	if (msg->minor == 1 ? !conn.close : (conn.keep_alive && !conn.close))
		msg->flags |= HF_H1_F_KEEP_ALIVE;
	if (conn.upgrade && have_upgrade)
		msg->flags |= HF_H1_F_UPGRADE;
	return 0;
}

/* "HTTP/1.x" at @p p; sets the minor version. */
static int
parse_version(const char *p, size_t n, uint8_t *minor)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
	    p[7] < '0' || p[7] > '9')
		return HF_H1_E_BAD;
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1'))
		return HF_H1_E_VERSION;
	*minor = (uint8_t)(p[7] - '0');
	return 0;
}

/* Methods are case-sensitive (RFC 9110 9.1): recognised by length, then bytes. */
static enum hf_h1_method
method_of(const char *m, uint32_t len)
{
	switch (len) {
	case 3:
		return memcmp(m, "GET", 3) == 0 ? HF_H1_M_GET
		       : memcmp(m, "PUT", 3) == 0 ? HF_H1_M_PUT : HF_H1_M_OTHER;
	case 4:
		return memcmp(m, "POST", 4) == 0 ? HF_H1_M_POST
		       : memcmp(m, "HEAD", 4) == 0 ? HF_H1_M_HEAD : HF_H1_M_OTHER;
	case 5:
		return memcmp(m, "PATCH", 5) == 0 ? HF_H1_M_PATCH
		       : memcmp(m, "TRACE", 5) == 0 ? HF_H1_M_TRACE : HF_H1_M_OTHER;
	case 6: return memcmp(m, "DELETE", 6) == 0 ? HF_H1_M_DELETE : HF_H1_M_OTHER;
	case 7:
		return memcmp(m, "OPTIONS", 7) == 0 ? HF_H1_M_OPTIONS
		       : memcmp(m, "CONNECT", 7) == 0 ? HF_H1_M_CONNECT : HF_H1_M_OTHER;
	default: return HF_H1_M_OTHER;
	}
}

static void
reset(struct hf_h1_message *msg)
{
	msg->method = HF_H1_M_OTHER;
	msg->method_name = (struct hf_h1_slice){0};
	msg->target = (struct hf_h1_slice){0};
	msg->host = (struct hf_h1_slice){0};
	msg->status = 0;
	msg->reason = (struct hf_h1_slice){0};
	msg->flags = 0;
	msg->content_length = 0;
	msg->n_headers = 0;
}

int
hf_h1_parse_request(const char *buf, size_t len, struct hf_h1_scan *scan,
		    const struct hf_h1_limits *lim, struct hf_h1_message *msg)
{
	int head = find_head_end(buf, len, scan, lim, true), rc;
	const char *p = buf, *eol, *sp1, *sp2;

	if (head < 0)
		return head;
	reset(msg);
	eol = memchr(buf, '\r', (size_t)head);
	if (eol == NULL || eol[1] != '\n')
		return HF_H1_E_BAD;
	/* method SP request-target SP HTTP-version (RFC 9112 3): single spaces only. */
	for (sp1 = p; sp1 < eol && (cls[(uint8_t)*sp1] & C_TCHAR); sp1++)
		;
	if (sp1 == p || sp1 == eol || *sp1 != ' ')
		return HF_H1_E_BAD;
	sp2 = scan_target(sp1 + 1, eol, buf + head);
	if (sp2 == sp1 + 1 || sp2 == eol || *sp2 != ' ')
		return HF_H1_E_BAD;
	if ((rc = parse_version(sp2 + 1, (size_t)(eol - sp2 - 1), &msg->minor)) != 0)
		return rc;
	msg->method_name = (struct hf_h1_slice){p, (uint32_t)(sp1 - p)};
	msg->target = (struct hf_h1_slice){sp1 + 1, (uint32_t)(sp2 - sp1 - 1)};
	msg->method = method_of(p, msg->method_name.len);
	rc = parse_fields(eol + 2, buf + head - 2, lim, msg, true);
	return rc != 0 ? rc : head;
}

int
hf_h1_parse_response(const char *buf, size_t len, struct hf_h1_scan *scan,
		     const struct hf_h1_limits *lim, struct hf_h1_message *msg)
{
	int head = find_head_end(buf, len, scan, lim, false), rc;
	const char *eol;

	if (head < 0)
		return head;
	reset(msg);
	eol = memchr(buf, '\r', (size_t)head);
	if (eol == NULL || eol[1] != '\n')
		return HF_H1_E_BAD;
	/* HTTP-version SP 3DIGIT SP reason-phrase (RFC 9112 4); the reason may be empty. */
	if (eol - buf < 12 || buf[8] != ' ' || (eol - buf > 12 && buf[12] != ' '))
		return HF_H1_E_BAD;
	if ((rc = parse_version(buf, 8, &msg->minor)) != 0)
		return rc;
	for (int i = 9; i < 12; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return HF_H1_E_BAD;
	msg->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (msg->status < 100)
		return HF_H1_E_BAD;
	if (eol - buf > 13)
		msg->reason = (struct hf_h1_slice){buf + 13, (uint32_t)(eol - buf - 13)};
	for (const char *r = msg->reason.p; r != NULL && r < eol; r++)
		if (!(cls[(uint8_t)*r] & C_VALUE))
			return HF_H1_E_BAD;
	rc = parse_fields(eol + 2, buf + head - 2, lim, msg, false);
	return rc != 0 ? rc : head;
}

const struct hf_h1_header *
hf_h1_find(const struct hf_h1_message *msg, const char *name)
{
	for (uint32_t i = 0; i < msg->n_headers; i++)
		if (ieq(&msg->headers[i].name, name))
			return &msg->headers[i];
	return NULL;
}

/* Chunked states (RFC 9112 7.1: chunk = size [ext] CRLF data CRLF; last = 0 [ext] CRLF trailers CRLF). */
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
	return ch == '\r' || (cls[(uint8_t)ch] & C_VALUE);
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
