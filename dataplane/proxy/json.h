/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_JSON_H
#define HF_JSON_H

/*
 * A small JSON reader (RFC 8259) for what a worker must read per request —
 * a JWT's header and payload — and what the agent reads from a JWKS: it
 * never allocates. The caller gives the text and an array of tokens; the
 * parser checks the whole text (strict grammar: no trailing commas, no
 * comments, strings of valid UTF-8 with valid escapes, surrogates paired)
 * and fills one token per value and per object key, in document order, each
 * with the index of the token that follows its subtree. Bounded: at most
 * @p cap tokens and HF_JSON_MAX_DEPTH nested containers; past either the
 * text is refused, never read further. Pure C, no DPDK: the fuzzer builds it
 * alone.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HF_JSON_MAX_DEPTH 16

enum hf_json_type {
	HF_JSON_OBJECT = 1,
	HF_JSON_ARRAY,
	HF_JSON_STRING,
	HF_JSON_NUMBER,
	HF_JSON_TRUE,
	HF_JSON_FALSE,
	HF_JSON_NULL,
};

struct hf_json_tok {
	uint8_t type;      /* enum hf_json_type */
	uint8_t esc;       /* STRING: holds a backslash escape (hf_json_str() decodes) */
	uint16_t n;        /* OBJECT: members; ARRAY: items */
	uint32_t off, len; /* in the text; STRING: between the quotes */
	uint32_t next;     /* index of the first token after this value's subtree */
};

/* Errors of hf_json_parse(). */
#define HF_JSON_E_SYNTAX (-1) /* not JSON, or bytes after the value */
#define HF_JSON_E_TOKENS (-2) /* more values than tokens given */
#define HF_JSON_E_DEPTH  (-3) /* containers nested deeper than HF_JSON_MAX_DEPTH */

/*
 * Parses @p len bytes at @p s (one value, whitespace around it allowed) into
 * @p t (@p cap tokens). An object's token is followed by, for each member,
 * its key (a STRING token) and its value's subtree. Returns the number of
 * tokens used, or an HF_JSON_E_* error (the tokens are then garbage).
 */
int hf_json_parse(const char *s, size_t len, struct hf_json_tok *t, unsigned int cap);

/*
 * Decodes STRING token @p k of text @p s into @p out (@p cap bytes; escapes
 * resolved, \u into UTF-8) and NUL-terminates it. Returns its length, or -1
 * when it does not fit (then out holds nothing usable).
 */
int hf_json_str(const char *s, const struct hf_json_tok *k, char *out, size_t cap);

/* Whether STRING token @p k of @p s, decoded, is exactly the @p n bytes of @p lit. */
bool hf_json_str_eq(const char *s, const struct hf_json_tok *k, const char *lit, size_t n);

/*
 * The index of the value of member @p key in OBJECT token @p obj of @p t
 * (text @p s), the first when a key repeats; -1 when there is none.
 */
int hf_json_find(const char *s, const struct hf_json_tok *t, int obj, const char *key);

/*
 * NUMBER token @p k as a whole number from 0 to 2^53 (no fraction but ".0…",
 * no exponent, no sign), as JWT's NumericDate must be to mean one second
 * (RFC 7519 2). Returns 0 with *@p out, or -1.
 */
int hf_json_u64(const char *s, const struct hf_json_tok *k, uint64_t *out);

#endif
