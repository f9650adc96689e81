/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_AUTHZ_H
#define HF_AUTHZ_H

/*
 * The authorization check of a request against the AuthorizationPolicies in
 * force (authz-t.h). Pure C over the request's parts: no allocation, no
 * lock, no system call, so a worker runs it per request. Its caller
 * (http_authz.c) gathers what the request is made of into a struct
 * hf_authz_rq; the remote address (x-forwarded-for), a header field, the
 * principal's namespace are worked out only when some policy reads them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dataplane/http/h1.h"
#include "dataplane/proxy/authn-t.h"
#include "dataplane/proxy/authz-t.h"
#include "dataplane/worker-t.h"

/*
 * What a joined header value needs at most: the fields of one name that the
 * parser saw all lie in the head (a field JWT authentication writes replaces
 * every field of its name), so their values and commas are shorter than the
 * head, at most 96 KiB (max_request_headers_kb's bound in the bootstrap).
 */
#define HF_AUTHZ_JOIN_ROOM (96 * 1024)

/* The outcome of a check. */
struct hf_authz_result {
	bool denied;
	/* denied: the rule that matched (DENY) or NULL (no ALLOW policy matched) */
	const struct hf_authz_policy *policy;
	const struct hf_authz_rule *rule;
	/* the first ALLOW policy that matched (allowed with ALLOW policies); else NULL */
	const struct hf_authz_policy *allowed_by;
	uint16_t slot;			/* the counter slot of policy or allowed_by (0: neither) */
	uint16_t n_audited;		/* AUDIT policies that matched */
	uint16_t audited[8];		/* their slots, the first 8 */
};

/*
 * A worker's memory of what its last requests' values matched, dim by dim
 * (the first HF_AUTHZ_MEMO_DIMS of an index of at most 128 terms): a value
 * the same as the last one of its dim, byte for byte, takes the terms that
 * one let live, (dflt | P) & ~N, instead of looking its prefixes, suffixes
 * and blocks up again (what a dim keeps depends on the index and the value
 * alone). A gateway's requests mostly repeat their Host, port and source,
 * often their path. Tied to one index by its serial; the check keeps it.
 * A claim dim, whose list claims gather several values at once, is not
 * remembered.
 */
#define HF_AUTHZ_MEMO_DIMS 16
#define HF_AUTHZ_MEMO_KEY 88		/* longer values are looked up each time */

struct hf_authz_memo_ent {
	uint8_t len;			/* bytes of key */
	bool full;			/* holds a value */
	uint64_t keep[2];		/* the terms the value lets live: (dflt | P) & ~N */
	char key[HF_AUTHZ_MEMO_KEY];	/* the value's first 40 bytes share keep's line */
} __attribute__((aligned(64)));

/*
 * The worker's memo also keeps its last check's verdict with what the check
 * read to reach it: the main dims it looked at (their values in ent[], or
 * none), the method, and whether it found no header field a policy reads.
 * A request whose values are the same in all of those would be read the
 * same way, dim after dim, to the same verdict, so it takes that one. A
 * check that read a claim, a header field a policy names, a dim past
 * HF_AUTHZ_MEMO_DIMS or a value longer than the memo keeps, or that walked
 * a rule the index leaves out, keeps no verdict.
 */
struct hf_authz_memo {
	uint64_t serial;		/* the index's (hf_authz_ix.serial); 0: none */
	bool verdict;			/* res holds the last check's verdict */
	bool hdr_scanned;		/* it found no field of a length some policy reads */
	uint8_t method;			/* its method (enum hf_h1_method) */
	uint16_t read;			/* bit di: it read main dim di */
	uint16_t absent;		/* bit di: ... which the request did not have */
	struct hf_authz_result res;
	struct hf_authz_memo_ent ent[HF_AUTHZ_MEMO_DIMS];
};

/* What a check reads of one request. Strings are not NUL-terminated unless said. */
struct hf_authz_rq {
	const struct hf_h1_message *msg;	/* method, Host, header fields */
	const char *path;		/* normalized, without the query */
	uint32_t path_len;
	uint32_t src_ip, dst_ip;	/* network order */
	uint16_t dst_port;		/* host order */
	const char *peer;		/* the TLS peer's principal (URI SAN without spiffe://); NULL: none */
	uint16_t peer_len;
	const char *sni;		/* NUL-terminated; NULL: none */
	const struct hf_authn *authn;	/* the request's JWT; NULL or principal_len 0: none */
	/*
	 * Room for the value of a header sent in several fields, which a policy
	 * reads joined with "," (Envoy's RBAC matches getAllOfHeaderAsString(),
	 * RFC 9110 5.3): the caller's, at least HF_AUTHZ_JOIN_ROOM bytes (a
	 * joined value that does not fit is taken as absent).
	 */
	char *join;
	uint32_t join_cap;
	struct hf_authz_memo *memo;	/* the worker's (NULL: none, every value looked up) */
	/* filled by the check when a condition reads remote.ip */
	bool remote_done;
	bool remote_v6;
	uint8_t remote[16];
};

/* ASCII letters of the 8 bytes of @p x lower case, all at once (the bytes' own lanes). */
static inline uint64_t
hf_authz_lower8(uint64_t x)
{
	const uint64_t ones = UINT64_C(0x0101010101010101);
	uint64_t h = x & (0x7f * ones);
	/* the high bit of each lane: its byte is past 'Z', then at least 'A' */
	uint64_t over_z = h + (0x7f - 'Z') * ones, from_a = h + (0x80 - 'A') * ones;

	return x | (((from_a ^ over_z) & ~x & (0x80 * ones)) >> 2);
}

static inline uint64_t
hf_authz_load8(const char *s)
{
	uint64_t x;

	memcpy(&x, s, 8);
	return x;
}

static inline uint64_t
hf_authz_load4(const char *s)
{
	uint32_t x;

	memcpy(&x, s, 4);
	return x;
}

/* The last step of hf_authz_key_hash(), over the words it read of a key of @p n bytes. */
static inline uint32_t
hf_authz_hash_words(uint64_t a, uint64_t b, size_t n, uint32_t dim, uint32_t cls)
{
	__uint128_t m = (__uint128_t)(a ^ UINT64_C(0xa0761d6478bd642f) ^
				      ((uint64_t)n << 32 | dim << 4 | cls)) *
			(b ^ UINT64_C(0xe7037ed1a0b428db));

	return (uint32_t)((uint64_t)m ^ (uint64_t)(m >> 64) ^ ((uint64_t)(m >> 64) >> 32));
}

/*
 * The index's hash (authz-t.h) of key @p s (@p n bytes; @p lower: ASCII
 * letters taken lower case) for @p dim and class @p cls: its first and last
 * 8 bytes and its length (wyhash's way with short keys), so a request hashes
 * each prefix and suffix it looks up in constant time; longer keys that
 * agree there are told apart by the comparison that follows a hit. The agent
 * keys its entries with the same function.
 */
static inline uint32_t
hf_authz_key_hash(const char *s, size_t n, bool lower, uint32_t dim, uint32_t cls)
{
	uint64_t a, b;

	if (n >= 8) {
		a = hf_authz_load8(s);
		b = hf_authz_load8(s + n - 8);
	} else if (n >= 4) {
		a = hf_authz_load4(s);
		b = hf_authz_load4(s + n - 4);
	} else if (n > 0) {
		a = (uint64_t)(unsigned char)s[0] << 16 | (uint64_t)(unsigned char)s[n / 2] << 8 |
		    (unsigned char)s[n - 1];
		b = 0;
	} else {
		a = b = 0;
	}
	if (lower) {
		a = hf_authz_lower8(a);
		b = hf_authz_lower8(b);
	}
	return hf_authz_hash_words(a, b, n, dim, cls);
}

/* The first byte of @p x (@p ones: 0x01 in each lane) that is '?', as lane index; lanes if none. */
static inline uint32_t
hf_authz_first_q(uint64_t x, uint64_t ones, uint32_t lanes)
{
	/* x ^ '?' has a zero byte where x has a '?': the lowest lane the carry flags is one */
	uint64_t y = x ^ ('?' * ones), z = (y - ones) & ~y & (0x80 * ones);

	return z != 0 ? (uint32_t)__builtin_ctzll(z) / 8 : lanes;
}

/*
 * The length of the path of origin-form target @p t (@p n bytes), without
 * its query (RFC 3986 3.4; Envoy's url_path, which policies' paths match):
 * where its first '?' is, or @p n. Eight bytes at a time, the last eight (or
 * two fours) overlapping, without memchr()'s call: a target is mostly a few
 * bytes.
 */
static inline uint32_t
hf_authz_path_len(const char *t, uint32_t n)
{
	const uint64_t ones8 = UINT64_C(0x0101010101010101), ones4 = UINT64_C(0x01010101);
	uint64_t x;
	uint32_t w, k;

	if (n < 4) {
		for (k = 0; k < n && t[k] != '?'; k++)
			;
		return k;
	}
	if (n < 8) {
		memcpy(&w, t, 4);
		if ((k = hf_authz_first_q(w, ones4, 4)) < 4)
			return k;
		memcpy(&w, t + n - 4, 4);
		return n - 4 + hf_authz_first_q(w, ones4, 4);
	}
	for (uint32_t i = 0;; i += 8) {
		if (i + 8 > n)
			i = n - 8;
		memcpy(&x, t + i, 8);
		if ((k = hf_authz_first_q(x, ones8, 8)) < 8)
			return i + k;
		if (i + 8 == n)
			return n;
	}
}

/*
 * The bit of a dim's filter (authz-t.h) that stands for a key of class
 * @p cls (enum hf_authz_cls), "length" @p len and byte @p b: EXACT, the
 * value's length and last byte; PREFIX, the prefix's length and last byte;
 * SUFFIX, the suffix's length and first byte (lower case when the dim is
 * nocase); ADDR, an address block's prefix length (| 0x100: IPv6) and first
 * byte (cut to the prefix length), a port's 0x200 and low byte.
 */
static inline uint32_t
hf_authz_filter_bit(uint32_t cls, uint32_t len, uint32_t b)
{
	/* murmur3's finalizer, cut short: one multiply alone maps near keys onto one bit */
	uint32_t x = (b | len << 8 | cls << 28) * UINT32_C(0x9e3779b1);

	x ^= x >> 15;
	return (x * UINT32_C(0x85ebca6b)) >> 24;
}

static inline bool
hf_authz_filter_has(const uint64_t filter[4], uint32_t bit)
{
	return (filter[bit >> 6] >> (bit & 63)) & 1;
}

/*
 * Checks @p rq against @p az: DENY policies first (any match denies), then
 * the ALLOW policies (when there is one, one must match), and the AUDIT
 * policies, which only report. Fills @p res; returns true when the request
 * is denied.
 */
bool hf_authz_check(const struct hf_authz *az, struct hf_authz_rq *rq,
		    struct hf_authz_result *res);

/*
 * The same verdict by a walk of the policies' tree, condition by condition,
 * without the index: what hf_authz_check() does when @p az has none, and the
 * reference the tests hold the index to.
 */
bool hf_authz_check_tree(const struct hf_authz *az, struct hf_authz_rq *rq,
			 struct hf_authz_result *res);

/*
 * What main dim @p di of @p ix keeps of the terms when the request's value
 * is @p s (@p n bytes): (dflt | P) & ~N, into @p out (ix->nw words), as the
 * check works it out. The agent precomputes the METHOD dim's answers with it.
 */
void hf_authz_dim_keep(const struct hf_authz_ix *ix, uint16_t di, const char *s, size_t n,
		       uint64_t *out);

/* Whether condition @p c holds for @p rq (the check's building block, open to the tests). */
bool hf_authz_cond_holds(const struct hf_authz *az, const struct hf_authz_cond *c,
			 struct hf_authz_rq *rq);

/*
 * Istio's path template @p t (@p tlen bytes: literal text, "{*}" one segment
 * of at least one byte, "{**}" the rest of the path, as the last segment)
 * against @p path.
 */
bool hf_authz_template_match(const char *t, size_t tlen, const char *path, size_t plen);

/*
 * The remote address x-forwarded-for gives, @p hops entries from its right
 * end (RFC 7239 section 5.2 order: each proxy appends the address it got the
 * request from; a field sent more than once is one list, its fields joined
 * in the order they came, RFC 9110 5.3, as Envoy joins them). Returns
 * false (the TCP peer stands) when @p hops is 0, the field has fewer
 * entries, or the entry is not an address.
 */
bool hf_authz_xff_addr(const struct hf_h1_message *msg, uint32_t hops, uint8_t out[16],
		       bool *v6);

/*
 * Requests per policy slot (HF_AUTHZ_SLOTS) and worker: matched DENY policies
 * (requests denied), first matching ALLOW policies, matched AUDIT policies.
 * Each worker writes its own row; the agent sums them for /stats.
 */
struct hf_authz_hits {
	uint64_t n[HF_AUTHZ_SLOTS];
} __attribute__((aligned(64)));

extern struct hf_authz_hits hf_authz_hits[HF_MAX_WORKERS];

#endif
