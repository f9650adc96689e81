/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for request targets before routing: any bytes as a
 * request-target, classified (hf_h1_target_parse) as a GET, an OPTIONS and a
 * CONNECT would have it, then its path normalized in each of the four modes
 * (hf_path_normalize). Asserted: the slices a classification returns lie in
 * the target and fit its form; a normalized path is in normal form (starts
 * with '/', no "." or ".." segment, no byte outside 0x21-0x7e nor one Envoy
 * escapes, every '%' before two upper-case hex digits that do not encode an
 * unreserved byte or NUL, no '\', no "//" when slashes merge, no %2F or %5C
 * when they are decoded), its query is the input's byte for byte, normalizing
 * it again changes nothing, and a smaller buffer gives the same answer or
 * HF_PATH_E_SPACE without a byte written past it (buffers are exact-size heap
 * blocks: ASan sees any overrun).
 * fuzzes: dataplane/http/path.c dataplane/http/h1.c
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane/http/h1.h"
#include "dataplane/http/path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

static void
check_normal(enum hf_path_mode mode, const char *p, size_t n)
{
	const char *q = memchr(p, '?', n);
	size_t plen = q != NULL ? (size_t)(q - p) : n, seg = 1;

	if (n == 0 || p[0] != '/')
		abort();
	for (size_t i = 1; i <= plen; i++) {
		if (i == plen || p[i] == '/') {
			size_t sl = i - seg;

			if ((sl == 1 && p[seg] == '.') || (sl == 2 && p[seg] == '.' && p[seg + 1] == '.'))
				abort();
			if (i < plen && sl == 0 && mode != HF_PATH_BASE)
				abort();	/* "//" left when slashes merge */
			seg = i + 1;
			continue;
		}
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f ||
		    strchr("\"#<>^`{|}\\", p[i]) != NULL)
			abort();
		if (p[i] == '%') {
			int h, l, v;

			if (plen - i < 3 || (h = hexval(p[i + 1])) < 0 || (l = hexval(p[i + 2])) < 0)
				abort();
			v = h * 16 + l;
			if (v == 0 || unreserved(v))
				abort();
			if (mode == HF_PATH_DECODE_AND_MERGE_SLASHES && (v == '/' || v == '\\'))
				abort();
			i += 2;
		}
	}
}

/*
 * What the contract lets the normalizer need: the length of the result before
 * its dot segments are resolved and its slashes merged (each unit's output: a
 * slash 1, a decoded byte 1, an escaped one 3), the query, and the '/' an empty
 * path gains.
 */
static size_t
unresolved_len(enum hf_path_mode mode, const char *p, size_t n)
{
	const char *q = memchr(p, '?', n);
	size_t plen = q != NULL ? (size_t)(q - p) : n, out = 1 + (n - plen);

	for (size_t i = (plen > 0 && (p[0] == '/' || p[0] == '\\')) ? 1 : 0; i < plen; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '%' && plen - i >= 3) {
			int h, l, v;

			h = hexval((p[i + 1] >= 'a' && p[i + 1] <= 'f') ? (char)(p[i + 1] - 32) : p[i + 1]);
			l = hexval((p[i + 2] >= 'a' && p[i + 2] <= 'f') ? (char)(p[i + 2] - 32) : p[i + 2]);
			if (h < 0 || l < 0)
				return out;	/* refused from here */
			v = h * 16 + l;
			i += 2;
			out += (unreserved(v) || (mode == HF_PATH_DECODE_AND_MERGE_SLASHES &&
						  (v == '/' || v == '\\'))) ? 1 : 3;
			continue;
		}
		out += (c <= 0x20 || c >= 0x7f || strchr("\"#<>^`{|}", c) != NULL) ? 3 : 1;
	}
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum hf_h1_method methods[] = {HF_H1_M_GET, HF_H1_M_OPTIONS, HF_H1_M_CONNECT};
	struct hf_h1_slice tg;
	char *in;

	if (size < 1 || size > 4096)
		return 0;
	in = malloc(size - 1 + 1);
	memcpy(in, data + 1, size - 1);
	tg = (struct hf_h1_slice){in, (uint32_t)(size - 1)};

	for (size_t k = 0; k < sizeof(methods) / sizeof(methods[0]); k++) {
		struct hf_h1_target t;
		enum hf_h1_target_form f = hf_h1_target_parse(methods[k], &tg, &t);

		if (f != t.form)
			abort();
		if (t.authority.len > 0 && (t.authority.p < in || t.authority.p + t.authority.len >
									 in + tg.len))
			abort();
		if (t.path.len > 0 && (t.path.p < in || t.path.p + t.path.len != in + tg.len))
			abort();
		switch (f) {
		case HF_H1_TARGET_ORIGIN:
			if (t.path.len != tg.len || in[0] != '/' || memchr(in, '#', tg.len) != NULL)
				abort();
			break;
		case HF_H1_TARGET_ABSOLUTE:
			if (t.authority.len == 0 || memchr(t.authority.p, '@', t.authority.len) != NULL ||
			    (t.path.len > 0 && t.path.p[0] != '/' && t.path.p[0] != '?'))
				abort();
			break;
		case HF_H1_TARGET_AUTHORITY:
			if (methods[k] != HF_H1_M_CONNECT || t.authority.len != tg.len)
				abort();
			break;
		case HF_H1_TARGET_ASTERISK:
			if (tg.len != 1 || in[0] != '*')
				abort();
			break;
		default:
			break;
		}
		if (methods[k] == HF_H1_M_CONNECT && (f == HF_H1_TARGET_ORIGIN || f == HF_H1_TARGET_ABSOLUTE))
			abort();
		if (f != HF_H1_TARGET_ORIGIN && f != HF_H1_TARGET_ABSOLUTE)
			continue;
		for (int m = 0; m < 4; m++) {
			uint32_t cap = 3 * t.path.len + 1, small = data[0] % (cap + 1);
			char *out = malloc(cap), *again = malloc(cap), *tiny = malloc(small ? small : 1);
			const char *res = t.path.p, *q;
			int n = hf_path_normalize((enum hf_path_mode)m, t.path.p, t.path.len, out, cap);
			int r2;
			size_t rlen = t.path.len;

			if (n == HF_PATH_E_SPACE)
				abort();	/* 3 * len + 1 always suffices */
			if (n > 0) {
				res = out;
				rlen = (size_t)n;
			}
			if (n >= 0 && m != HF_PATH_NONE)
				check_normal((enum hf_path_mode)m, res, rlen);
			if (n >= 0) {
				/* the query, untouched */
				const char *qi = memchr(t.path.p, '?', t.path.len);

				q = memchr(res, '?', rlen);
				if ((qi == NULL) != (q == NULL) ||
				    (q != NULL && ((size_t)(t.path.p + t.path.len - qi) != (size_t)(res + rlen - q) ||
						   memcmp(qi, q, (size_t)(res + rlen - q)) != 0)))
					abort();
				/* a fixed point */
				r2 = hf_path_normalize((enum hf_path_mode)m, res, (uint32_t)rlen, again, cap);
				if (r2 != 0 && (r2 < 0 || (size_t)r2 != rlen || memcmp(again, res, rlen) != 0))
					abort();
			}
			/* a smaller buffer: the same answer, or no room */
			r2 = hf_path_normalize((enum hf_path_mode)m, t.path.p, t.path.len, tiny, small);
			if (r2 != n && r2 != HF_PATH_E_SPACE)
				abort();
			if (r2 > 0 && memcmp(tiny, out, (size_t)r2) != 0)
				abort();
			/* no room: only when the result, unresolved and unmerged, does not fit */
			if (r2 == HF_PATH_E_SPACE && n > 0 &&
			    small >= unresolved_len((enum hf_path_mode)m, t.path.p, t.path.len))
				abort();
			free(out);
			free(again);
			free(tiny);
		}
	}
	free(in);
	return 0;
}
