/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 heads (RFC 9112, RFC 9110). See h1.h for the contract; chunked
 * bodies are chunked.c's. Lines end in CRLF only: a bare LF or a bare CR is
 * refused, which is stricter than RFC 9112 2.2 allows a recipient to be, on
 * purpose — every hop behind us may read lines differently.
 *
 * A head is decoded in one pass that finds its end on the way, so a head that
 * arrives whole — nearly all of them — has each byte looked at once. When that
 * pass runs out of bytes or refuses, the resumable search for the blank line
 * (find_head_end) decides, exactly as if there were no first pass: HF_AGAIN,
 * a limit error, or the decoder's verdict on the complete head. The answer
 * therefore never depends on how the head was cut, and limits keep precedence
 * over malformations.
 */
#include <string.h>
#include <strings.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "dataplane/http/h1.h"
#include "dataplane/http/h1_chars.h"

/* The classes of h1_chars.h, shared with the chunked decoder. */
uint8_t hf_h1_cls[256];

/*
 * tchar again, for the vector scan: bit h of tchar_nib[l] is set when byte
 * 0xhl is a tchar. Only h < 8 can be: a token is ASCII. Derived from
 * hf_h1_cls, so the two can never disagree.
 */
static uint8_t tchar_nib[16];

/* The same for the bytes no field value may hold; none is above 0x7f. */
static uint8_t vstop_nib[16];

static void __attribute__((constructor))
init_classes(void)
{
	static const char tspecial[] = "!#$%&'*+-.^_`|~";

	for (int c = 0; c < 256; c++) {
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c != 0 && strchr(tspecial, c) != NULL))
			hf_h1_cls[c] |= HF_H1_C_TCHAR;
		if ((c >= 0x21 && c <= 0x7e) || c >= 0x80 || c == ' ' || c == '\t')
			hf_h1_cls[c] |= HF_H1_C_VALUE;
		/* request-target: visible ASCII; obs-text refused (RFC 3986 has none) */
		if (c >= 0x21 && c <= 0x7e)
			hf_h1_cls[c] |= HF_H1_C_TARGET;
		if (c < 0x80 && (hf_h1_cls[c] & HF_H1_C_TCHAR))
			tchar_nib[c & 0x0f] |= (uint8_t)(1u << (c >> 4));
		if (c < 0x80 && !(hf_h1_cls[c] & HF_H1_C_VALUE))
			vstop_nib[c & 0x0f] |= (uint8_t)(1u << (c >> 4));
	}
}

/* What a scan stops at: the complement of one class. */
enum stop {
	STOP_NAME,	/* not a tchar: the ':' ending a field name, or a byte no token holds */
	STOP_VALUE,	/* a control byte other than HTAB, or DEL: the CR ending a field line */
	STOP_TARGET,	/* outside 0x21-0x7e: the SP ending a request-target */
};

#ifdef __AVX2__
/*
 * Stop bits of the 32 bytes in @p b: bytes no field name holds, and bytes no
 * field value holds. Two table lookups per byte: its low nibble picks a row
 * of tchar_nib or vstop_nib, its high nibble the bit in that row. The bit
 * table is zero from index 8, so every byte from 0x80 is no tchar and no
 * value stop.
 */
static inline __attribute__((always_inline)) void
masks32(__m256i b, uint32_t *name, uint32_t *value)
{
	const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
	const __m256i bits = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0,
					      1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i trow =
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)tchar_nib));
	const __m256i vrow =
		_mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)vstop_nib));
	__m256i lo = _mm256_and_si256(b, nib);
	__m256i bit = _mm256_shuffle_epi8(bits, _mm256_and_si256(_mm256_srli_epi16(b, 4), nib));
	__m256i tc = _mm256_and_si256(_mm256_shuffle_epi8(trow, lo), bit);
	__m256i vs = _mm256_and_si256(_mm256_shuffle_epi8(vrow, lo), bit);

	*name = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(tc, zero));
	*value = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(vs, zero));
}

/* A bit for each byte of @p b that @p stop stops at. */
static inline __attribute__((always_inline)) uint32_t
stop_mask(__m256i b, enum stop stop)
{
	uint32_t name, value;

	if (stop == STOP_TARGET) {
		/* unsigned b <= 0x20 or b > 0x7e */
		const __m256i hi = _mm256_set1_epi8(0x7e);
		__m256i low = _mm256_cmpeq_epi8(_mm256_min_epu8(b, _mm256_set1_epi8(0x20)), b);
		__m256i in = _mm256_cmpeq_epi8(_mm256_max_epu8(b, hi), hi);

		return (uint32_t)_mm256_movemask_epi8(
			_mm256_or_si256(low, _mm256_xor_si256(in, _mm256_set1_epi8(-1))));
	}
	masks32(b, &name, &value);
	return stop == STOP_NAME ? name : value;
}
#endif

/*
 * The first byte in [p, bound) that @p stop stops at, or @p bound. Reads
 * nothing outside [start, bound). AVX2 takes 32 bytes a step, and the last
 * few as the 32 bytes ending at @p bound with the bits before @p p shifted
 * out, so a line near the end of the buffer is not left to the byte loop;
 * buffers under 32 bytes and builds without AVX2 go through hf_h1_cls byte
 * by byte.
 */
static inline __attribute__((always_inline)) const char *
scan(const char *start, const char *p, const char *bound, enum stop stop)
{
	static const uint8_t keep[] = {
		[STOP_NAME] = HF_H1_C_TCHAR,
		[STOP_VALUE] = HF_H1_C_VALUE,
		[STOP_TARGET] = HF_H1_C_TARGET,
	};

#ifdef __AVX2__
	for (; bound - p >= 32; p += 32) {
		uint32_t m = stop_mask(_mm256_loadu_si256((const __m256i *)p), stop);

		if (m != 0)
			return p + __builtin_ctz(m);
	}
	if (p < bound && bound - start >= 32) {
		const char *q = bound - 32;
		uint32_t m = stop_mask(_mm256_loadu_si256((const __m256i *)q), stop) >> (p - q);

		return m != 0 ? p + __builtin_ctz(m) : bound;
	}
#else
	(void)start;
#endif
	while (p < bound && (hf_h1_cls[(uint8_t)*p] & keep[stop]))
		p++;
	return p;
}

/*
 * The field lines are walked with the stop bytes of names and of values
 * found 64 bytes at a time ahead of the walk, so that finding the next ':' or
 * CR is a shift and a bit scan, and one line's end does not wait on another
 * vector scan. Without AVX2 the walk is scan() byte by byte.
 */
struct walk {
	const char *start, *bound;	/* the head so far: nothing outside is read */
#ifdef __AVX2__
	const char *base;		/* the 64 bytes the masks describe; bits past bound set */
	uint64_t name;			/* bytes no field name holds */
	uint64_t value;			/* bytes no field value holds */
#endif
};

#ifdef __AVX2__
/*
 * Describes the 64 bytes from @p p. Past the bound every bit is set, so no
 * search runs beyond it; near the bound the 64 bytes ending there are loaded
 * and shifted, or, in a head under 64 bytes, a zero-padded copy.
 */
static inline __attribute__((always_inline)) void
walk_load(struct walk *w, const char *p)
{
	size_t n = (size_t)(w->bound - p);
	uint32_t n0, v0, n1, v1;
	char pad[64];

	w->base = p;
	if (n >= 64) {
		masks32(_mm256_loadu_si256((const __m256i *)p), &n0, &v0);
		masks32(_mm256_loadu_si256((const __m256i *)(p + 32)), &n1, &v1);
		w->name = n0 | (uint64_t)n1 << 32;
		w->value = v0 | (uint64_t)v1 << 32;
		return;
	}
	if (w->bound - w->start >= 64 && n > 0) {
		const char *q = w->bound - 64;

		masks32(_mm256_loadu_si256((const __m256i *)q), &n0, &v0);
		masks32(_mm256_loadu_si256((const __m256i *)(q + 32)), &n1, &v1);
		w->name = (n0 | (uint64_t)n1 << 32) >> (64 - n);
		w->value = (v0 | (uint64_t)v1 << 32) >> (64 - n);
	} else {
		memset(pad, 0, sizeof(pad));
		memcpy(pad, p, n);
		masks32(_mm256_loadu_si256((const __m256i *)pad), &n0, &v0);
		masks32(_mm256_loadu_si256((const __m256i *)(pad + 32)), &n1, &v1);
		w->name = n0 | (uint64_t)n1 << 32;
		w->value = v0 | (uint64_t)v1 << 32;
	}
	w->name |= ~0ull << n;
	w->value |= ~0ull << n;
}
#endif

static inline void
walk_init(struct walk *w, const char *start, const char *p, const char *bound)
{
	w->start = start;
	w->bound = bound;
#ifdef __AVX2__
	walk_load(w, p);
#else
	(void)p;
#endif
}

/* As scan() for STOP_NAME or STOP_VALUE, with @p p never behind the last call's. */
static inline __attribute__((always_inline)) const char *
walk_stop(struct walk *w, const char *p, enum stop stop)
{
#ifdef __AVX2__
	for (;;) {
		size_t off = (size_t)(p - w->base);

		if (off < 64) {
			uint64_t m = (stop == STOP_NAME ? w->name : w->value) >> off;

			/* A set bit at or past the bound says the bytes ran out. */
			if (m != 0) {
				size_t end = (size_t)(w->bound - w->base);

				off += (size_t)__builtin_ctzll(m);
				return off < end ? w->base + off : w->bound;
			}
			/* No bit set: all 64 bytes lie before the bound. */
			p = w->base + 64;
		}
		walk_load(w, p);
	}
#else
	return scan(w->start, p, w->bound, stop);
#endif
}


/*
 * Case-insensitive match of @p len >= 4 bytes against a lower-case literal of
 * the same length, a word at a time (the last word may overlap the one before
 * it). OR-ing 0x20 lowers letters and leaves '-' and digits alone; the only
 * other bytes it maps onto those are control bytes, which neither a name nor a
 * value can hold (HTAB becomes ')', in no literal).
 */
static inline bool
ieq_lit(const char *n, const char *lit, uint32_t len)
{
	uint64_t a, b;
	uint32_t x, y;

	if (len < 4) {
		/* too short for the 4-byte loads below, which would read before the name */
		for (uint32_t i = 0; i < len; i++)
			if (((unsigned char)n[i] | 0x20) != (unsigned char)lit[i])
				return false;
		return true;
	}
	if (len < 8) {
		memcpy(&x, n, 4);
		memcpy(&y, lit, 4);
		if ((x | 0x20202020u) != y)
			return false;
		memcpy(&x, n + len - 4, 4);
		memcpy(&y, lit + len - 4, 4);
		return (x | 0x20202020u) == y;
	}
	for (uint32_t i = 0; i + 8 < len; i += 8) {
		memcpy(&a, n + i, 8);
		memcpy(&b, lit + i, 8);
		if ((a | 0x2020202020202020ull) != b)
			return false;
	}
	memcpy(&a, n + len - 8, 8);
	memcpy(&b, lit + len - 8, 8);
	return (a | 0x2020202020202020ull) == b;
}

/* The names of enum hf_h1_field, lower case. */
static const char *const field_names[] = {
	[HF_H1_FLD_HOST] = "host",
	[HF_H1_FLD_CONTENT_LENGTH] = "content-length",
	[HF_H1_FLD_TRANSFER_ENCODING] = "transfer-encoding",
	[HF_H1_FLD_CONNECTION] = "connection",
	[HF_H1_FLD_UPGRADE] = "upgrade",
	[HF_H1_FLD_EXPECT] = "expect",
	[HF_H1_FLD_TE] = "te",
	[HF_H1_FLD_TRAILER] = "trailer",
	[HF_H1_FLD_KEEP_ALIVE] = "keep-alive",
	[HF_H1_FLD_PROXY_CONNECTION] = "proxy-connection",
	[HF_H1_FLD_X_FORWARDED_FOR] = "x-forwarded-for",
	[HF_H1_FLD_X_FORWARDED_PROTO] = "x-forwarded-proto",
	[HF_H1_FLD_X_REQUEST_ID] = "x-request-id",
	[HF_H1_FLD_X_ENVOY_ORIGINAL_PATH] = "x-envoy-original-path",
	[HF_H1_FLD_X_FORWARDED_CLIENT_CERT] = "x-forwarded-client-cert",
	[HF_H1_FLD_X_ENVOY_UPSTREAM_SERVICE_TIME] = "x-envoy-upstream-service-time",
	[HF_H1_FLD_CLOSE] = "close",
};

/* @p n is field @p f's name, as ieq_lit() compares: exact for a token. */
static inline enum hf_h1_field
is_field(const char *n, uint32_t len, enum hf_h1_field f)
{
	return ieq_lit(n, field_names[f], len) ? f : HF_H1_FLD_OTHER;
}

/*
 * The field named by token @p n (@p len bytes): by length first, then, where
 * two names share a length, by a byte that differs, then the whole name.
 */
static enum hf_h1_field
classify(const char *n, uint32_t len)
{
	switch (len) {
	case 2: return is_field(n, 2, HF_H1_FLD_TE);
	case 4: return is_field(n, 4, HF_H1_FLD_HOST);
	case 5: return is_field(n, 5, HF_H1_FLD_CLOSE);
	case 6: return is_field(n, 6, HF_H1_FLD_EXPECT);
	case 7:
		return is_field(n, 7, (n[0] | 0x20) == 'u' ? HF_H1_FLD_UPGRADE : HF_H1_FLD_TRAILER);
	case 10:
		return is_field(n, 10, (n[0] | 0x20) == 'c' ? HF_H1_FLD_CONNECTION
							      : HF_H1_FLD_KEEP_ALIVE);
	case 12: return is_field(n, 12, HF_H1_FLD_X_REQUEST_ID);
	case 14: return is_field(n, 14, HF_H1_FLD_CONTENT_LENGTH);
	case 15: return is_field(n, 15, HF_H1_FLD_X_FORWARDED_FOR);
	case 16: return is_field(n, 16, HF_H1_FLD_PROXY_CONNECTION);
	case 17:
		return is_field(n, 17, (n[0] | 0x20) == 't' ? HF_H1_FLD_TRANSFER_ENCODING
							      : HF_H1_FLD_X_FORWARDED_PROTO);
	case 21: return is_field(n, 21, HF_H1_FLD_X_ENVOY_ORIGINAL_PATH);
	case 23: return is_field(n, 23, HF_H1_FLD_X_FORWARDED_CLIENT_CERT);
	case 29: return is_field(n, 29, HF_H1_FLD_X_ENVOY_UPSTREAM_SERVICE_TIME);
	default: return HF_H1_FLD_OTHER;
	}
}

enum hf_h1_field
hf_h1_field_of(const char *n, size_t len)
{
	enum hf_h1_field f = len <= 29 ? classify(n, (uint32_t)len) : HF_H1_FLD_OTHER;

	/* ieq_lit() is exact for tokens only: a name from elsewhere is checked byte by byte. */
	if (f != HF_H1_FLD_OTHER && strncasecmp(n, field_names[f], len) != 0)
		f = HF_H1_FLD_OTHER;
	return f;
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
	/*
	 * A bare LF is refused when it is seen: waiting for a CRLF CRLF that
	 * may never come would hold the connection until the head timeout.
	 */
	if (at == 0 || buf[at - 1] != '\r')
		return HF_H1_E_BAD;
	if (at >= 3 && buf[at - 2] == '\n' && buf[at - 3] == '\r')
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

/* A list element against a lower-case literal, case-insensitively (see ieq_lit). */
static inline bool
ieq(const struct hf_h1_slice *s, const char *lit)
{
	size_t n = strlen(lit);

	return s->len == n && ieq_lit(s->p, lit, (uint32_t)n);
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
	bool names;			/* another option: it names a hop-by-hop field */
};

static int
conn_element(const struct hf_h1_slice *e, void *arg)
{
	struct conn_state *c = arg;

	bool close = ieq(e, "close"), keep_alive = ieq(e, "keep-alive");
	bool upgrade = ieq(e, "upgrade");

	c->close |= close;
	c->keep_alive |= keep_alive;
	c->upgrade |= upgrade;
	c->names |= !close && !keep_alive && !upgrade;
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
 * Splits the field lines from @p p through the blank line ending the head
 * into msg->headers, checking each byte, then applies the framing rules.
 * Reads nothing outside [buf, bound). Returns the head's length, HF_AGAIN when
 * @p bound comes before the blank line, or an error; the errors come line by
 * line in the order of the checks below, then the framing rules', whatever
 * @p bound is, as long as the head lies inside it.
 */
static int
parse_fields(const char *buf, const char *p, const char *bound, const struct hf_h1_limits *lim,
	     struct hf_h1_message *msg, bool request)
{
	struct te_state te = {0};
	struct conn_state conn = {0};
	bool have_cl = false, have_te = false, have_upgrade = false, have_host = false;
	bool have_close = false;
	uint64_t cl = 0;
	uint32_t max_headers = lim->max_headers < HF_H1_MAX_HEADERS_CAP ? lim->max_headers
									: HF_H1_MAX_HEADERS_CAP;
	struct walk w;
	int rc;

	walk_init(&w, buf, p, bound);
	msg->n_headers = 0;
	for (;;) {
		const char *colon = walk_stop(&w, p, STOP_NAME), *v, *ve, *line_end;
		struct hf_h1_header *h;

		/* A line that is not "name:" is the blank line ending the head, or refused. */
		if (__builtin_expect(colon == p || colon == bound || *colon != ':', 0)) {
			if (colon == bound)
				return HF_AGAIN;
			if (colon == p && *p == '\r') {
				if (bound - p < 2)
					return HF_AGAIN;
				if (p[1] != '\n')
					return HF_H1_E_BAD;	/* bare CR */
				p += 2;
				break;
			}
			/* obs-fold (RFC 9112 5.2), empty name, bad byte, or space before ':' */
			return HF_H1_E_BAD;
		}
		if (msg->n_headers == max_headers)
			return HF_H1_E_HEADERS_TOO_LARGE;
		/* The value runs to the first byte a value may not hold: it must be CRLF. */
		line_end = walk_stop(&w, colon + 1, STOP_VALUE);
		if (bound - line_end < 2)
			return HF_AGAIN;
		if (memcmp(line_end, "\r\n", 2) != 0)
			return HF_H1_E_BAD;		/* a control byte, or a bare CR or LF */
		for (v = colon + 1; v < line_end && (*v == ' ' || *v == '\t'); v++)
			;
		for (ve = line_end; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
			;
		h = &msg->headers[msg->n_headers++];
		h->name = (struct hf_h1_slice){p, (uint32_t)(colon - p)};
		h->value = (struct hf_h1_slice){v, (uint32_t)(ve - v)};
		h->field = (uint8_t)classify(p, h->name.len);

		switch (h->field) {
		case HF_H1_FLD_CONTENT_LENGTH: {
			uint64_t n;

			if ((rc = parse_length(&h->value, &n)) != 0)
				return rc;
			if (have_cl && n != cl)
				return HF_H1_E_SMUGGLING;	/* differing lengths */
			have_cl = true;
			cl = n;
			break;
		}
		case HF_H1_FLD_TRANSFER_ENCODING:
			have_te = true;
			each_element(&h->value, te_element, &te);
			break;
		case HF_H1_FLD_CONNECTION:
			each_element(&h->value, conn_element, &conn);
			break;
		case HF_H1_FLD_UPGRADE:
			have_upgrade = true;
			break;
		case HF_H1_FLD_CLOSE:
			have_close = true;
			break;
		case HF_H1_FLD_EXPECT:
			if (ieq(&h->value, "100-continue"))
				msg->flags |= HF_H1_F_EXPECT_CONTINUE;
			break;
		case HF_H1_FLD_HOST:
			if (have_host && request)
				return HF_H1_E_BAD;		/* RFC 9112 3.2: exactly one */
			have_host = true;
			msg->host = h->value;
			break;
		default:
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
	if (conn.names || (conn.close && have_close))
		msg->flags |= HF_H1_F_CONN_NAMES;
	return (int)(p - buf);
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
	msg->line = (struct hf_h1_slice){0};
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

/*
 * A request head in [buf, bound): request line, then fields. Returns as
 * parse_fields does; *@p lf is set to the offset of the request line's LF,
 * for the caller's limit.
 */
static int
decode_request(const char *buf, const char *bound, const struct hf_h1_limits *lim,
	       struct hf_h1_message *msg, size_t *lf)
{
	const char *sp1, *sp2, *v, *eol;
	int rc;

	/* method SP request-target SP HTTP-version (RFC 9112 3): single spaces only. */
	if (bound - buf >= 4 && memcmp(buf, "GET ", 4) == 0) {
		sp1 = buf + 3;		/* the method of most requests, without the general scan */
		msg->method = HF_H1_M_GET;
	} else {
		sp1 = scan(buf, buf, bound, STOP_NAME);
		if (sp1 == bound)
			return HF_AGAIN;
		if (sp1 == buf || *sp1 != ' ')
			return HF_H1_E_BAD;
		msg->method = method_of(buf, (uint32_t)(sp1 - buf));
	}
	sp2 = scan(buf, sp1 + 1, bound, STOP_TARGET);
	if (sp2 == bound)
		return HF_AGAIN;
	if (sp2 == sp1 + 1 || *sp2 != ' ')
		return HF_H1_E_BAD;
	v = sp2 + 1;
	if (bound - v >= 10 && memcmp(v, "HTTP/1.1\r\n", 10) == 0) {
		msg->minor = 1;
		eol = v + 8;
	} else if (bound - v >= 10 && memcmp(v, "HTTP/1.0\r\n", 10) == 0) {
		msg->minor = 0;
		eol = v + 8;
	} else {
		/*
		 * The version is everything up to the line's first CR: garbage
		 * or a cut is 400, a well-formed version we do not speak 505.
		 */
		eol = memchr(v, '\r', (size_t)(bound - v));
		if (eol == NULL || bound - eol < 2)
			return HF_AGAIN;
		if (eol[1] != '\n')
			return HF_H1_E_BAD;
		if ((rc = parse_version(v, (size_t)(eol - v), &msg->minor)) != 0)
			return rc;
	}
	msg->method_name = (struct hf_h1_slice){buf, (uint32_t)(sp1 - buf)};
	msg->target = (struct hf_h1_slice){sp1 + 1, (uint32_t)(sp2 - sp1 - 1)};
	msg->line = (struct hf_h1_slice){buf, (uint32_t)(eol - buf)};
	*lf = (size_t)(eol + 1 - buf);
	return parse_fields(buf, eol + 2, bound, lim, msg, true);
}

/* A response head in [buf, bound): status line, then fields. Returns as parse_fields does. */
static int
decode_response(const char *buf, const char *bound, const struct hf_h1_limits *lim,
		struct hf_h1_message *msg)
{
	const char *eol = memchr(buf, '\r', (size_t)(bound - buf));
	int rc;

	if (eol == NULL || bound - eol < 2)
		return HF_AGAIN;
	if (eol[1] != '\n')
		return HF_H1_E_BAD;
	/* HTTP-version SP 3DIGIT SP reason-phrase (RFC 9112 4); the reason may be empty. */
	if (eol - buf < 12 || buf[8] != ' ' || (eol - buf > 12 && buf[12] != ' '))
		return HF_H1_E_BAD;
	if (memcmp(buf, "HTTP/1.1", 8) == 0)
		msg->minor = 1;		/* the version of most answers, without the general check */
	else if ((rc = parse_version(buf, 8, &msg->minor)) != 0)
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
		if (!(hf_h1_cls[(uint8_t)*r] & HF_H1_C_VALUE))
			return HF_H1_E_BAD;
	msg->line = (struct hf_h1_slice){buf, (uint32_t)(eol - buf)};
	return parse_fields(buf, eol + 2, bound, lim, msg, false);
}

/*
 * Both kinds of head. The first call on a message decodes what has arrived,
 * at most max_head bytes; a whole head inside the limits is the answer. Any
 * other outcome, and every later call, goes to find_head_end, and only a
 * complete head is decoded again, bounded by its own end: the verdict is the
 * one a single call on the complete head would give, and a head cut into
 * segments costs one decoding pass more than a whole one, not one per segment.
 */
static inline __attribute__((always_inline)) int
parse_head(const char *buf, size_t len, struct hf_h1_scan *scan, const struct hf_h1_limits *lim,
	   struct hf_h1_message *msg, bool request)
{
	size_t lf = 0;
	int head;

	if (scan->pos == 0) {
		const char *bound = buf + (len < lim->max_head ? len : lim->max_head);

		reset(msg);
		head = request ? decode_request(buf, bound, lim, msg, &lf)
			       : decode_response(buf, bound, lim, msg);
		if (head > 0 && (!request || lf <= lim->max_request_line))
			return head;
	}
	head = find_head_end(buf, len, scan, lim, request);
	if (head < 0)
		return head;
	reset(msg);
	return request ? decode_request(buf, buf + head, lim, msg, &lf)
		       : decode_response(buf, buf + head, lim, msg);
}

int
hf_h1_parse_request(const char *buf, size_t len, struct hf_h1_scan *scan,
		    const struct hf_h1_limits *lim, struct hf_h1_message *msg)
{
	return parse_head(buf, len, scan, lim, msg, true);
}

int
hf_h1_parse_response(const char *buf, size_t len, struct hf_h1_scan *scan,
		     const struct hf_h1_limits *lim, struct hf_h1_message *msg)
{
	return parse_head(buf, len, scan, lim, msg, false);
}

bool
hf_h1_conn_names(const struct hf_h1_message *msg)
{
	struct conn_state conn = {0};
	bool have_close = false;

	for (uint32_t i = 0; i < msg->n_headers; i++) {
		enum hf_h1_field f = hf_h1_field(&msg->headers[i]);

		if (f == HF_H1_FLD_CONNECTION)
			each_element(&msg->headers[i].value, conn_element, &conn);
		have_close |= f == HF_H1_FLD_CLOSE;
	}
	return conn.names || (conn.close && have_close);
}

struct conn_option {
	const char *name;
	size_t len;
};

static int
is_conn_option(const struct hf_h1_slice *e, void *arg)
{
	const struct conn_option *o = arg;

	/* strncasecmp(), not ieq(): @p o's name may come from other code, in any case */
	return e->len == o->len && strncasecmp(e->p, o->name, o->len) == 0;
}

bool
hf_h1_conn_option(const struct hf_h1_message *msg, const char *name, size_t len)
{
	struct conn_option o = {name, len};

	for (uint32_t i = 0; i < msg->n_headers; i++)
		if (hf_h1_field(&msg->headers[i]) == HF_H1_FLD_CONNECTION &&
		    each_element(&msg->headers[i].value, is_conn_option, &o) != 0)
			return true;
	return false;
}

bool
hf_h1_value_ok(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(hf_h1_cls[(uint8_t)v[i]] & HF_H1_C_VALUE))
			return false;
	return true;
}

const struct hf_h1_header *
hf_h1_find(const struct hf_h1_message *msg, const char *name)
{
	for (uint32_t i = 0; i < msg->n_headers; i++)
		if (ieq(&msg->headers[i].name, name))
			return &msg->headers[i];
	return NULL;
}

/* RFC 9110 15: the reason phrases of the statuses Hydrofoil sends. */
const char *
hf_h1_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 101: return "Switching Protocols";
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";		/* RFC 6585 section 4 */
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}

/*
 * host [ ":" port ] in [p, end) (RFC 3986 3.2.2, 3.2.3): a bracketed IPv6
 * address (hex digits, ':' and '.'), or a name or IPv4 address (ALPHA, DIGIT,
 * '-', '.', '_', '~': what a DNS name or an address is made of; RFC 3986's
 * percent-encoded and sub-delims reg-names name no host a route could mean).
 * The port, 1 to 5 digits up to 65535, is required when @p need_port; an
 * empty one ("host:") is dropped from *@p out. False when it is not that.
 */
static inline bool
is_alnum(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
}

static inline bool
is_hex(char c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static bool
parse_authority(const char *p, const char *end, bool need_port, struct hf_h1_slice *out)
{
	const char *h = p, *host_end;
	uint32_t port = 0;
	size_t digits;

	if (p < end && *p == '[') {
		for (p++; p < end && (is_hex(*p) || *p == ':' || *p == '.'); p++)
			;
		if (p == h + 1 || p == end || *p != ']')
			return false;
		p++;
	} else {
		for (; p < end && (is_alnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
				   *p == '~');
		     p++)
			;
		if (p == h)
			return false;
	}
	host_end = p;
	if (p == end) {
		if (need_port)
			return false;
		*out = (struct hf_h1_slice){h, (uint32_t)(end - h)};
		return true;
	}
	if (*p != ':')
		return false;
	for (p++; p < end && *p >= '0' && *p <= '9'; p++)
		port = port * 10 + (uint32_t)(*p - '0');
	digits = (size_t)(end - host_end) - 1;
	if (p != end || digits > 5 || port > 65535 || (digits == 0 && need_port))
		return false;
	*out = (struct hf_h1_slice){h, (uint32_t)((digits == 0 ? host_end : end) - h)};
	return true;
}

enum hf_h1_target_form
hf_h1_target_parse(enum hf_h1_method method, const struct hf_h1_slice *target,
		   struct hf_h1_target *t)
{
	const char *p = target->p, *end = target->p + target->len, *a, *ae;

	t->authority = (struct hf_h1_slice){0};
	t->path = (struct hf_h1_slice){0};
	t->form = HF_H1_TARGET_INVALID;
	if (target->len == 0)
		return t->form;
	if (method == HF_H1_M_CONNECT) {
		if (memchr(p, '@', target->len) == NULL &&
		    parse_authority(p, end, true, &t->authority))
			t->form = HF_H1_TARGET_AUTHORITY;
		return t->form;
	}
	if (memchr(p, '#', target->len) != NULL)
		return t->form;
	if (*p == '/') {
		t->path = *target;
		return t->form = HF_H1_TARGET_ORIGIN;
	}
	if (target->len == 1 && *p == '*')
		return t->form = HF_H1_TARGET_ASTERISK;
	/* "http://" or "https://", the scheme in either case (RFC 3986 3.1) */
	if (target->len >= 7 && strncasecmp(p, "http://", 7) == 0)
		a = p + 7;
	else if (target->len >= 8 && strncasecmp(p, "https://", 8) == 0)
		a = p + 8;
	else
		return t->form;
	for (ae = a; ae < end && *ae != '/' && *ae != '?'; ae++)
		;
	if (memchr(a, '@', (size_t)(ae - a)) != NULL || !parse_authority(a, ae, false, &t->authority))
		return t->form;
	t->path = (struct hf_h1_slice){ae, (uint32_t)(end - ae)};
	return t->form = HF_H1_TARGET_ABSOLUTE;
}
