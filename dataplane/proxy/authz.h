/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_AUTHZ_H
#define HF_AUTHZ_H

/*
 * The authorization check of a request against the AuthorizationPolicies in
 * force (authz-t.h). Pure C over the request's parts: no allocation, no
 * lock, no system call, so a worker runs it per request. Its caller
 * (http_authz.c) gathers what the request is made of into a struct
 * hf_authz_rq; the remote address (x-forwarded-for) is worked out only when
 * a condition reads it.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/http/h1.h"
#include "dataplane/proxy/authn-t.h"
#include "dataplane/proxy/authz-t.h"
#include "dataplane/worker-t.h"

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
	/* filled by the check when a condition reads remote.ip */
	bool remote_done;
	bool remote_v6;
	uint8_t remote[16];
};

/*
 * The index's hash (authz-t.h): FNV-1a over a key's bytes, one step at a
 * time so a request hashes each of its prefixes on the way; then mixed with
 * the dim and the class. The agent keys its entries with the same functions.
 */
#define HF_AUTHZ_FNV0 2166136261u

static inline uint32_t
hf_authz_hash_step(uint32_t h, unsigned char c, bool lower)
{
	if (lower && c >= 'A' && c <= 'Z')
		c = (unsigned char)(c + 32);
	return (h ^ c) * 16777619u;
}

static inline uint32_t
hf_authz_hash_end(uint32_t h, uint32_t dim, uint32_t cls)
{
	h ^= (dim << 4 | cls) * 0x9e3779b1u;
	h ^= h >> 15;
	h *= 0x85ebca6bu;
	return h ^ (h >> 13);
}

/* The outcome of a check. */
struct hf_authz_result {
	bool denied;
	/* denied: the rule that matched (DENY) or NULL (no ALLOW policy matched) */
	const struct hf_authz_policy *policy;
	const struct hf_authz_rule *rule;
	/* the first ALLOW policy that matched (allowed with ALLOW policies); else NULL */
	const struct hf_authz_policy *allowed_by;
	uint16_t n_audited;		/* AUDIT policies that matched */
	uint16_t audited[8];		/* their slots, the first 8 */
};

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
 * request from). Returns false (the TCP peer stands) when @p hops is 0, the
 * field has fewer entries, or the entry is not an address.
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
