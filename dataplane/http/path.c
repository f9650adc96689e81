/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Request path normalization (see path.h for what each mode does and why).
 *
 * Nearly every path is already normal, so the work is split in two. A scan
 * stops only at the bytes that can change something: '%', '\', the bytes to
 * escape, a '.' right after a '/' (a possible dot segment), a '/' right after
 * a '/' when slashes merge, and the '?' that ends the path. When it reaches
 * the end of the path without cause, the answer is "unchanged" and nothing is
 * copied. Otherwise the whole path is rewritten in one pass into the caller's
 * buffer: each input unit (a byte, or a "%XX" triple) becomes a slash, or
 * bytes of the current segment; at each slash and at the end the segment just
 * written is looked at, and a "." or ".." one is taken back out, as RFC 3986
 * 5.2.4 does with its output buffer. Slashes are merged afterwards, on the
 * result, because Envoy merges after resolving dot segments.
 */
#include <string.h>
#include <strings.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "dataplane/http/path.h"

/* Byte classes. */
enum {
	C_UNRESERVED = 0x01,	/* RFC 3986 2.3: decoded when percent-encoded */
	C_STOP = 0x02,		/* the fast scan looks closer (all modes but NONE) */
	C_ESCAPE = 0x04,	/* percent-encoded in the output */
	C_SLASH = 0x08,		/* '/': the fast scan stops here too when slashes merge */
};

static const uint8_t cls[256] = {
	/* controls and SP: escaped (the head parser lets none through; NUL is refused) */
	[0x00 ... 0x20] = C_STOP | C_ESCAPE,
	['"'] = C_STOP | C_ESCAPE,
	['#'] = C_STOP | C_ESCAPE,
	['%'] = C_STOP,
	['-'] = C_UNRESERVED,
	['.'] = C_UNRESERVED | C_STOP,
	['/'] = C_SLASH,
	['0' ... '9'] = C_UNRESERVED,
	['<'] = C_STOP | C_ESCAPE,
	['>'] = C_STOP | C_ESCAPE,
	['?'] = C_STOP,		/* the end of the path */
	['A' ... 'Z'] = C_UNRESERVED,
	['\\'] = C_STOP,	/* a slash, as Envoy reads it */
	['^'] = C_STOP | C_ESCAPE,
	['_'] = C_UNRESERVED,
	['`'] = C_STOP | C_ESCAPE,
	['a' ... 'z'] = C_UNRESERVED,
	['{'] = C_STOP | C_ESCAPE,
	['|'] = C_STOP | C_ESCAPE,
	['}'] = C_STOP | C_ESCAPE,
	['~'] = C_UNRESERVED,
	/* DEL and obs-text: escaped */
	[0x7f ... 0xff] = C_STOP | C_ESCAPE,
};

/* A hex digit's value plus one; 0 for any other byte. */
static const uint8_t hexv[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static const char hexd[] = "0123456789ABCDEF";

static const char *const names[] = {
	[HF_PATH_BASE] = "BASE",
	[HF_PATH_NONE] = "NONE",
	[HF_PATH_MERGE_SLASHES] = "MERGE_SLASHES",
	[HF_PATH_DECODE_AND_MERGE_SLASHES] = "DECODE_AND_MERGE_SLASHES",
};

int
hf_path_mode_parse(const char *name)
{
	if (strcmp(name, "DEFAULT") == 0)
		return HF_PATH_BASE;
	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
hf_path_mode_name(enum hf_path_mode mode)
{
	return (unsigned int)mode < sizeof(names) / sizeof(names[0]) ? names[mode] : "?";
}

/* Whether the '.' at @p p[i] (after a '/') is a whole "." or ".." segment of a path of @p len. */
static inline int
dot_segment(const char *p, uint32_t i, uint32_t len)
{
	uint32_t j = i + 1;

	if (j < len && p[j] == '.')
		j++;
	return j == len || p[j] == '/' || p[j] == '?';
}

/* What a byte the fast scan stopped at means. */
enum { F_END, F_NEXT, F_SLOW };

/* At p[k] (k >= 1), a byte the scan stopped at: the end of the path, nothing, or work to do. */
static inline int
flagged(const char *p, uint32_t k, uint32_t len)
{
	if (p[k] == '?')
		return F_END;
	if (p[k] == '.')
		return p[k - 1] == '/' && dot_segment(p, k, len) ? F_SLOW : F_NEXT;
	if (p[k] == '/')
		return p[k - 1] == '/' ? F_SLOW : F_NEXT;	/* scanned for when slashes merge */
	return F_SLOW;	/* '%', '\', a byte to escape */
}

#ifdef __AVX2__
/*
 * stop_nib[l] has bit h set when byte 0xhl stops the vector scan: the C_STOP
 * bytes below 0x80 but '.', which stops it only after a '/'. Derived from cls,
 * so the two scans can never disagree.
 */
static uint8_t stop_nib[16];

static void __attribute__((constructor))
init_stop_nib(void)
{
	for (int c = 0; c < 0x80; c++)
		if ((cls[c] & C_STOP) && c != '.')
			stop_nib[c & 15] |= (uint8_t)(1u << (c >> 4));
}

/*
 * Bit j set when byte j of @p b must be looked at, @p prev being the 32 bytes
 * one before: a stop byte (by two table lookups, as h1.c's masks), any byte
 * from 0x80, a '.' after a '/', and with @p merge a '/' after a '/'.
 */
static inline __attribute__((always_inline)) uint32_t
stops32(__m256i b, __m256i prev, int merge)
{
	const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
	const __m256i bits = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0,
					      1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m256i row = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)stop_nib));
	const __m256i slash = _mm256_set1_epi8('/');
	__m256i bit = _mm256_shuffle_epi8(bits, _mm256_and_si256(_mm256_srli_epi16(b, 4), nib));
	__m256i hit = _mm256_and_si256(_mm256_shuffle_epi8(row, _mm256_and_si256(b, nib)), bit);
	__m256i after_slash = _mm256_cmpeq_epi8(prev, slash);
	__m256i pair = _mm256_cmpeq_epi8(b, _mm256_set1_epi8('.'));
	uint32_t m;

	if (merge)
		pair = _mm256_or_si256(pair, _mm256_cmpeq_epi8(b, slash));
	m = ~(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hit, zero));
	m |= (uint32_t)_mm256_movemask_epi8(b);		/* bytes from 0x80 */
	return m | (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(pair, after_slash));
}

/* The same for 16 bytes (SSSE3), for paths too short for a 32-byte load. */
static inline __attribute__((always_inline)) uint32_t
stops16(__m128i b, __m128i prev, int merge)
{
	const __m128i nib = _mm_set1_epi8(0x0f), zero = _mm_setzero_si128();
	const __m128i bits = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, -128, 0, 0, 0, 0, 0, 0, 0, 0);
	const __m128i row = _mm_loadu_si128((const __m128i *)stop_nib);
	const __m128i slash = _mm_set1_epi8('/');
	__m128i bit = _mm_shuffle_epi8(bits, _mm_and_si128(_mm_srli_epi16(b, 4), nib));
	__m128i hit = _mm_and_si128(_mm_shuffle_epi8(row, _mm_and_si128(b, nib)), bit);
	__m128i pair = _mm_cmpeq_epi8(b, _mm_set1_epi8('.'));
	uint32_t m;

	if (merge)
		pair = _mm_or_si128(pair, _mm_cmpeq_epi8(b, slash));
	m = ~(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(hit, zero)) & 0xffff;
	m |= (uint32_t)_mm_movemask_epi8(b);
	return m | (uint32_t)_mm_movemask_epi8(_mm_and_si128(pair, _mm_cmpeq_epi8(prev, slash)));
}

/*
 * The flagged bytes of mask @p m, bit j being p[base + j]: F_END with the
 * path's end in *@p end, F_SLOW, or F_NEXT when none matters.
 */
static inline __attribute__((always_inline)) int
walk_mask(const char *p, uint32_t len, uint32_t base, uint32_t m, uint32_t *end)
{
	for (; m != 0; m &= m - 1) {
		uint32_t k = base + (uint32_t)__builtin_ctz(m);
		int f = flagged(p, k, len);

		if (f == F_END)
			*end = k;
		if (f != F_NEXT)
			return f;
	}
	return F_NEXT;
}
#endif

/*
 * The fast path: the length of the path part of @p p, or -1 when something
 * in it may change. The path starts with '/' (the caller checked). With AVX2
 * it takes 32 bytes a step, each beside the 32 one byte before (for "/." and
 * "//"), and the last bytes as the 32 ending at @p len; a target of 17 to 32
 * bytes as two overlapping 16-byte steps, one of 10 to 16 as two overlapping
 * 8-byte halves of one. Shorter ones, and builds without AVX2, go byte by byte
 * through cls (a padded copy for a vector step costs more than it saves: the
 * load waits on the copy's stores).
 */
static inline int64_t
scan_normal(const char *p, uint32_t len, uint8_t stop)
{
	uint32_t i = 1;
#ifdef __AVX2__
	const int merge = (stop & C_SLASH) != 0;
	uint32_t end = len;
	int f;

	if (len < 10)
		goto bytes;
	if (len <= 16) {
		/* p[1, 9) and the 8 bytes ending at len, side by side in one vector */
		uint64_t b0, b1, p0, p1;
		uint32_t m;

		memcpy(&b0, p + 1, 8);
		memcpy(&b1, p + len - 8, 8);
		memcpy(&p0, p, 8);
		memcpy(&p1, p + len - 9, 8);
		m = stops16(_mm_set_epi64x((long long)b1, (long long)b0),
			    _mm_set_epi64x((long long)p1, (long long)p0), merge);
		f = walk_mask(p, len, 1, m & 0xff, &end);
		if (f == F_NEXT)
			f = walk_mask(p, len, len - 8, m >> 8, &end);
		return f == F_SLOW ? -1 : (int64_t)end;
	}
	if (len <= 32) {
		/* p[1, 17) and the 16 bytes ending at len, each beside the 16 one byte before */
		uint32_t q = len - 16;

		f = walk_mask(p, len, 1,
			      stops16(_mm_loadu_si128((const __m128i *)(p + 1)),
				      _mm_loadu_si128((const __m128i *)p), merge),
			      &end);
		if (f == F_NEXT && len > 17)
			f = walk_mask(p, len, 17,
				      stops16(_mm_loadu_si128((const __m128i *)(p + q)),
					      _mm_loadu_si128((const __m128i *)(p + q - 1)), merge) >>
					      (17 - q),
				      &end);
		return f == F_SLOW ? -1 : (int64_t)end;
	}
	for (; len - i >= 32; i += 32) {
		f = walk_mask(p, len, i,
			      stops32(_mm256_loadu_si256((const __m256i *)(p + i)),
				      _mm256_loadu_si256((const __m256i *)(p + i - 1)), merge),
			      &end);
		if (f != F_NEXT)
			return f == F_SLOW ? -1 : (int64_t)end;
	}
	if (i < len) {
		uint32_t q = len - 32;

		f = walk_mask(p, len, i,
			      stops32(_mm256_loadu_si256((const __m256i *)(p + q)),
				      _mm256_loadu_si256((const __m256i *)(p + q - 1)), merge) >>
				      (i - q),
			      &end);
		if (f == F_SLOW)
			return -1;
	}
	return end;
bytes:
#endif
	for (;;) {
		while (i < len && !(cls[(uint8_t)p[i]] & stop))
			i++;
		if (i == len)
			return len;
		switch (flagged(p, i, len)) {
		case F_END: return i;
		case F_SLOW: return -1;
		default: break;
		}
		i++;
	}
}

/* NONE: only "%00" and NUL are refused; the length of the path part. */
static int64_t
scan_none(const char *p, uint32_t len)
{
	const char *q = memchr(p, '?', len);
	uint32_t plen = q != NULL ? (uint32_t)(q - p) : len;

	if (memchr(p, '\0', plen) != NULL)
		return HF_PATH_E_NUL;
	for (const char *s = p; (s = memchr(s, '%', plen - (uint32_t)(s - p))) != NULL; s++)
		if (plen - (uint32_t)(s - p) >= 3 && s[1] == '0' && s[2] == '0')
			return HF_PATH_E_NUL;
	return plen;
}

/* The output of the slow path: out[0, n) of cap bytes. */
struct wr {
	char *out;
	uint32_t n, cap;
};

#define PUT(w, c)                                                                                  \
	do {                                                                                       \
		if ((w)->n == (w)->cap)                                                            \
			return HF_PATH_E_SPACE;                                                    \
		(w)->out[(w)->n++] = (char)(c);                                                    \
	} while (0)

/*
 * Ends the segment out[seg, n): when a slash follows (@p slash), the
 * segment stays and the slash is written after it, unless the segment is
 * "." (taken out, slash and all) or ".." (taken out with the segment before
 * it, never the root's slash at out[0]). Returns where the next segment starts.
 */
static inline uint32_t
end_segment(struct wr *w, uint32_t seg, int slash)
{
	uint32_t n = w->n - seg;

	if (n == 1 && w->out[seg] == '.') {
		w->n = seg;
		return seg;
	}
	if (n == 2 && w->out[seg] == '.' && w->out[seg + 1] == '.') {
		/* out[seg - 1] is the slash before the segment; back up to the one before it. */
		uint32_t j = seg - 1;

		while (j > 0 && w->out[j - 1] != '/')
			j--;
		w->n = j > 0 ? j : 1;
		return w->n;
	}
	if (slash) {
		/* Room was checked by the caller: a slash replaces at least one input byte. */
		w->out[w->n++] = '/';
		return w->n;
	}
	return seg;
}

/* The slow path: the path part [0, plen) of @p in rewritten into @p w. */
static int
rewrite(enum hf_path_mode mode, const char *in, uint32_t plen, struct wr *w)
{
	const int decode_slashes = mode == HF_PATH_DECODE_AND_MERGE_SLASHES;
	uint32_t i = 0, seg;

	PUT(w, '/');
	if (plen > 0 && (in[0] == '/' || in[0] == '\\'))
		i = 1;
	seg = w->n;
	while (i < plen) {
		uint8_t c = (uint8_t)in[i];

		if (c == '/' || c == '\\') {
			if (w->n == w->cap)
				return HF_PATH_E_SPACE;
			seg = end_segment(w, seg, 1);
			i++;
			continue;
		}
		if (c == '%') {
			uint8_t h, l, v;

			if (plen - i < 3 || (h = hexv[(uint8_t)in[i + 1]]) == 0 ||
			    (l = hexv[(uint8_t)in[i + 2]]) == 0)
				return HF_PATH_E_ESCAPE;
			v = (uint8_t)((h - 1) << 4 | (l - 1));
			i += 3;
			if (v == 0)
				return HF_PATH_E_NUL;
			if (decode_slashes && (v == '/' || v == '\\')) {
				if (w->n == w->cap)
					return HF_PATH_E_SPACE;
				seg = end_segment(w, seg, 1);
			} else if (cls[v] & C_UNRESERVED) {
				PUT(w, v);
			} else {
				PUT(w, '%');
				PUT(w, hexd[v >> 4]);
				PUT(w, hexd[v & 15]);
			}
			continue;
		}
		if (c == 0)
			return HF_PATH_E_NUL;
		if (cls[c] & C_ESCAPE) {
			PUT(w, '%');
			PUT(w, hexd[c >> 4]);
			PUT(w, hexd[c & 15]);
		} else {
			PUT(w, c);
		}
		i++;
	}
	end_segment(w, seg, 0);
	if (mode == HF_PATH_MERGE_SLASHES || mode == HF_PATH_DECODE_AND_MERGE_SLASHES) {
		uint32_t k = 1;

		for (uint32_t j = 1; j < w->n; j++)
			if (w->out[j] != '/' || w->out[k - 1] != '/')
				w->out[k++] = w->out[j];
		w->n = k;
	}
	return 0;
}

int
hf_path_normalize(enum hf_path_mode mode, const char *in, uint32_t len, char *out, uint32_t cap)
{
	struct wr w = {.out = out, .n = 0, .cap = cap};
	const char *q;
	int64_t plen;
	int rc;

	if (mode == HF_PATH_NONE) {
		plen = scan_none(in, len);
		if (plen < 0)
			return (int)plen;
		if (plen > 0)
			return 0;
		/* An empty path (absolute-form "http://h?q") still needs its '/'. */
		if (len + 1 > cap)
			return HF_PATH_E_SPACE;
		out[0] = '/';
		memcpy(out + 1, in, len);
		return (int)len + 1;
	}
	if (len > 0 && in[0] == '/') {
		uint8_t stop = C_STOP;

		if (mode == HF_PATH_MERGE_SLASHES || mode == HF_PATH_DECODE_AND_MERGE_SLASHES)
			stop |= C_SLASH;
		if (scan_normal(in, len, stop) >= 0)
			return 0;
	}
	q = memchr(in, '?', len);
	plen = q != NULL ? q - in : len;
	if ((rc = rewrite(mode, in, (uint32_t)plen, &w)) != 0)
		return rc;
	if (len - plen > cap - w.n)
		return HF_PATH_E_SPACE;
	memcpy(out + w.n, in + plen, len - (uint32_t)plen);
	return (int)(w.n + (len - (uint32_t)plen));
}
