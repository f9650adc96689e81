/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Chunked bodies (RFC 9112 7.1). See chunked.h for the contract.
 *
 * Lines end in CRLF only, as in heads (h1.c): RFC 9112 2.2 lets a recipient
 * take a bare LF for a line end, and some hop behind us may, so a body we
 * pass must read the same to it. Whatever a lenient reader could split
 * differently (a bare LF or CR, a size line holding more than the grammar
 * allows, a trailer that is not a field line) is refused rather than
 * forwarded. Tokens and field values are the head parser's character
 * classes (h1_chars.h).
 *
 * One state per place in the grammar; the chunk data is the only run taken
 * in one step. The decoder keeps no bytes, only the state, so a body cut
 * anywhere decodes as it does whole.
 */
#include <limits.h>

#include "dataplane/http/chunked.h"
#include "dataplane/http/h1.h"
#include "dataplane/http/h1_chars.h"

/*
 * RFC 9112 7.1 and 7.1.1:
 *   chunk      = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 */
enum {
	CH_SIZE,		/* chunk-size digits (none yet: size_digits is 0) */
	CH_EXT_BWS,		/* BWS that must lead to ';' */
	CH_EXT_NAME_BWS,	/* after ';': BWS, then the name */
	CH_EXT_NAME,		/* in chunk-ext-name */
	CH_EXT_NAME_END,	/* BWS after the name: '=', ';' */
	CH_EXT_VAL_BWS,		/* after '=': BWS, then a token or a quoted-string */
	CH_EXT_TOKEN,		/* in a token value */
	CH_EXT_QUOTED,		/* in a quoted-string (RFC 9110 5.6.4) */
	CH_EXT_QPAIR,		/* after '\' in a quoted-string */
	CH_EXT_VAL_END,		/* after the closing '"': ';', BWS or CR */
	CH_SIZE_LF,		/* the size line's CR seen */
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TRAILER_START,	/* a field line, or the CR of the final CRLF */
	CH_TRAILER_NAME,
	CH_TRAILER_VALUE,
	CH_TRAILER_LF,		/* a field line's CR seen */
	CH_END_LF,		/* the final CR seen */
	CH_DONE,
	CH_BAD,			/* refused: stays refused */
};

static inline bool
is_tchar(char ch)
{
	return hf_h1_cls[(uint8_t)ch] & HF_H1_C_TCHAR;
}

/* field-vchar, SP, HTAB: what a field value, a qdtext or a quoted-pair's second byte may be. */
static inline bool
is_value(char ch)
{
	return hf_h1_cls[(uint8_t)ch] & HF_H1_C_VALUE;
}

static inline bool
is_ws(char ch)
{
	return ch == ' ' || ch == '\t';
}

/*
 * Where one byte @p ch of a size line leads from @p state, or CH_BAD. The
 * size digits themselves are counted by the caller.
 */
static inline uint8_t
size_line(uint8_t state, char ch)
{
	switch (state) {
	case CH_SIZE:
	case CH_EXT_VAL_END:
		/* After the size or a quoted value: the line's end, or an extension. */
		return ch == '\r' ? CH_SIZE_LF : ch == ';' ? CH_EXT_NAME_BWS
		       : is_ws(ch) ? CH_EXT_BWS : CH_BAD;
	case CH_EXT_BWS:
		return ch == ';' ? CH_EXT_NAME_BWS : is_ws(ch) ? CH_EXT_BWS : CH_BAD;
	case CH_EXT_NAME_BWS:
		return is_tchar(ch) ? CH_EXT_NAME : is_ws(ch) ? CH_EXT_NAME_BWS : CH_BAD;
	case CH_EXT_NAME:
		if (is_tchar(ch))
			return CH_EXT_NAME;
		if (ch == '\r')
			return CH_SIZE_LF;
		/* past the name, as past the BWS after it */
		/* fall through */
	case CH_EXT_NAME_END:
		return ch == '=' ? CH_EXT_VAL_BWS : ch == ';' ? CH_EXT_NAME_BWS
		       : is_ws(ch) ? CH_EXT_NAME_END : CH_BAD;
	case CH_EXT_VAL_BWS:
		return is_tchar(ch) ? CH_EXT_TOKEN : ch == '"' ? CH_EXT_QUOTED
		       : is_ws(ch) ? CH_EXT_VAL_BWS : CH_BAD;
	case CH_EXT_TOKEN:
		return is_tchar(ch) ? CH_EXT_TOKEN : ch == '\r' ? CH_SIZE_LF
		       : ch == ';' ? CH_EXT_NAME_BWS : is_ws(ch) ? CH_EXT_BWS : CH_BAD;
	case CH_EXT_QUOTED:
		/* qdtext is a field value's bytes but '"' and '\' (RFC 9110 5.6.4). */
		return ch == '"' ? CH_EXT_VAL_END : ch == '\\' ? CH_EXT_QPAIR
		       : is_value(ch) ? CH_EXT_QUOTED : CH_BAD;
	case CH_EXT_QPAIR:
		return is_value(ch) ? CH_EXT_QUOTED : CH_BAD;
	default:
		return CH_BAD;
	}
}

/* Where one byte @p ch of the trailer section leads from @p state, or CH_BAD. */
static inline uint8_t
trailer(uint8_t state, char ch)
{
	switch (state) {
	case CH_TRAILER_START:
		/* A leading SP or HTAB would be obs-fold (RFC 9112 5.2); ':' an empty name. */
		return ch == '\r' ? CH_END_LF : is_tchar(ch) ? CH_TRAILER_NAME : CH_BAD;
	case CH_TRAILER_NAME:
		/* No whitespace between the name and the colon (RFC 9112 5.1). */
		return is_tchar(ch) ? CH_TRAILER_NAME : ch == ':' ? CH_TRAILER_VALUE : CH_BAD;
	case CH_TRAILER_VALUE:
		return ch == '\r' ? CH_TRAILER_LF : is_value(ch) ? CH_TRAILER_VALUE : CH_BAD;
	case CH_TRAILER_LF:
		return ch == '\n' ? CH_TRAILER_START : CH_BAD;
	case CH_END_LF:
		return ch == '\n' ? CH_DONE : CH_BAD;
	default:
		return CH_BAD;
	}
}

int
hf_h1_chunked_decode(struct hf_h1_chunked *c, const char *buf, size_t len,
		     struct hf_h1_slice *data, unsigned int max_data, unsigned int *n_data,
		     bool *done)
{
	size_t i = 0;

	*n_data = 0;
	if (c->state == CH_BAD)
		goto bad;
	if (len > INT_MAX)
		len = INT_MAX;
	while (i < len && c->state != CH_DONE) {
		char ch = buf[i];
		int d;

		switch (c->state) {
		case CH_SIZE:
			if ((d = hf_h1_hexval(ch)) >= 0) {
				if (++c->size_digits > HF_H1_CHUNK_SIZE_DIGITS)
					goto bad;	/* leading zeros past reason */
				c->remaining = c->remaining * 16 + (uint64_t)d;
				if (c->remaining >= HF_H1_CHUNK_SIZE_LIMIT)
					goto bad;
				break;
			}
			if (c->size_digits == 0)
				goto bad;		/* no digit first: "-5", " 5", "\r\n" */
			/* fall through */
		case CH_EXT_BWS:
		case CH_EXT_NAME_BWS:
		case CH_EXT_NAME:
		case CH_EXT_NAME_END:
		case CH_EXT_VAL_BWS:
		case CH_EXT_TOKEN:
		case CH_EXT_QUOTED:
		case CH_EXT_QPAIR:
		case CH_EXT_VAL_END:
			if ((c->state = size_line(c->state, ch)) == CH_BAD)
				goto bad;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				goto bad;
			c->state = c->remaining == 0 ? CH_TRAILER_START : CH_DATA;
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
			if (ch != '\r')
				goto bad;
			c->state = CH_DATA_LF;
			i++;
			continue;
		case CH_DATA_LF:
			if (ch != '\n')
				goto bad;
			c->state = CH_SIZE;
			c->size_digits = 0;
			c->line_len = 0;
			i++;
			continue;	/* the next size line starts: nothing to count yet */
		case CH_TRAILER_START:
			if (ch != '\r' && ++c->n_trailers > HF_H1_TRAILER_FIELDS)
				goto bad;
			/* fall through */
		case CH_TRAILER_NAME:
		case CH_TRAILER_VALUE:
		case CH_TRAILER_LF:
		case CH_END_LF:
			if ((c->state = trailer(c->state, ch)) == CH_BAD ||
			    ++c->trailer_len > HF_H1_TRAILER_MAX)
				goto bad;
			i++;
			continue;
		default:
			goto bad;		/* CH_BAD: refused before */
		}
		/* A byte of a size line, its CRLF included. */
		if (++c->line_len > HF_H1_CHUNK_LINE_MAX)
			goto bad;
		i++;
	}
out:
	*done = c->state == CH_DONE;
	return (int)i;
bad:
	c->state = CH_BAD;
	*done = false;
	return HF_H1_E_BAD_CHUNK;
}
