/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_PATH_H
#define HF_PATH_H

#include <stdint.h>

/*
 * Request path normalization before routing, as Istio configures Envoy
 * (meshConfig.pathNormalization; Envoy's normalize_path, merge_slashes and
 * path_with_escaped_slashes_action), so that the path a route matched, the
 * path an authorization rule will see and the path the upstream receives are
 * one and the same string. Only the path is touched; a query after '?' is
 * copied as it came.
 *
 * BASE, the default (RFC 3986 6.2.2 and what Envoy's normalize_path adds):
 *   - a percent-encoded unreserved character (ALPHA, DIGIT, '-', '.', '_',
 *     '~') is decoded: "%41" -> "A", "%7e" -> "~", "%2e" -> "." (RFC 3986
 *     6.2.2.2); any other percent-encoding stays encoded with its hex digits
 *     in upper case ("%2f" -> "%2F", 6.2.2.1). Decoding happens once: "%2541"
 *     stays "%2541".
 *   - "." and ".." segments are resolved (RFC 3986 5.2.4), never above the
 *     root: "/a/../../b" -> "/b", "/%2E./x" -> "/x", "/a/." -> "/a/".
 *   - a backslash is a slash: "/a\b" -> "/a/b" (Envoy, and Istio's table).
 *   - the bytes RFC 3986 allows nowhere in a path and Envoy escapes
 *     ('"', '<', '>', '^', '`', '{', '|', '}', '#', and any byte outside
 *     0x21-0x7e) are percent-encoded.
 *   - "%00", or a raw NUL, is refused (Istio: always 400); so is a '%' not
 *     followed by two hex digits ("%zz", "%4"): a path that has no
 *     normalized form is not guessed at. Envoy passes the latter through
 *     unchanged; two parsers behind us would read it two ways.
 * MERGE_SLASHES: BASE, then runs of '/' become one ("//a//b" -> "/a/b").
 *   As in Envoy the merge comes after dot segments: "/a//../b" -> "/a/b".
 * DECODE_AND_MERGE_SLASHES: "%2F" and "%5C" (either case) are decoded first
 *   (to '/' and '\', so both end as '/'), then MERGE_SLASHES.
 * NONE: the path goes as it came; only "%00" is still refused.
 */

/* meshConfig.pathNormalization. Zero is Istio's default. */
enum hf_path_mode {
	HF_PATH_BASE = 0,		/* also Istio's DEFAULT */
	HF_PATH_NONE,
	HF_PATH_MERGE_SLASHES,
	HF_PATH_DECODE_AND_MERGE_SLASHES,
};

/* Results of hf_path_normalize() besides 0 (unchanged) and a positive length. */
enum {
	HF_PATH_E_ESCAPE = -1,		/* '%' not followed by two hex digits: 400 */
	HF_PATH_E_NUL = -2,		/* "%00" or a NUL byte: 400 */
	HF_PATH_E_SPACE = -3,		/* the result does not fit in the buffer given: 414 */
};

/* The mode named @p name (Istio's spelling: "BASE", "DEFAULT", ...); -1 when none is. */
int hf_path_mode_parse(const char *name);

/* Istio's name of @p mode. */
const char *hf_path_mode_name(enum hf_path_mode mode);

/*
 * Normalizes the request target @p in (@p len bytes): a path that is empty
 * or begins with '/', then optionally '?' and a query. An empty path becomes
 * "/" (the origin-form of "http://host" or "http://host?q", RFC 9112 3.2.1).
 *
 * Returns 0 when the target is already in normal form (nothing is written:
 * use @p in; this is the fast path, one scan of the path and no copy), the
 * length of the normalized target written to @p out (never more than
 * 3 * len + 1), or an HF_PATH_E_* error. HF_PATH_E_SPACE comes when the
 * result does not fit in @p cap bytes as it stands before its "." and ".."
 * segments are taken out and its slashes merged (both are written first); a
 * @p cap of 3 * len + 1 always suffices.
 * @p in and @p out must not overlap.
 */
int hf_path_normalize(enum hf_path_mode mode, const char *in, uint32_t len, char *out,
		      uint32_t cap);

#endif
