/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_JWT_H
#define HF_JWT_H

/*
 * JWT validation (RFC 7519, JWS compact serialization RFC 7515 7.1) as
 * Envoy's jwt_authn does it for Istio's RequestAuthentication, in the order
 * it checks: the token's form, its header and payload, the issuer, the time
 * (exp and nbf with the clock skew), the audiences, then the key (kid, alg)
 * and the signature. A validated token fills struct hf_authn (principal
 * "<iss>/<sub>" and the flattened claims) for authorization.
 *
 * jwt_token.c is pure C over OpenSSL (the unit tests and the fuzzer use it
 * alone); jwt.c is the worker's side: finding the token in a request,
 * counting, the 401, and the headers sent upstream.
 *
 * Hot path: no malloc of ours. OpenSSL's EVP_DigestVerifyInit allocates
 * (its EVP_PKEY_CTX) on each verification: there is no way around it with
 * the EVP API; bench/proxy/bench_jwt.cc measures the whole cost.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/proxy/authn-t.h"
#include "dataplane/proxy/json.h"
#include "dataplane/proxy/jwt-t.h"

/* Why a token was refused (Envoy's jwt_verify_lib Status, the ones that can happen here). */
enum hf_jwt_status {
	HF_JWT_OK = 0,
	HF_JWT_MISSING,    /* no token in the request: it passes (Istio) */
	HF_JWT_BAD_FORMAT, /* not three base64url sections joined by two dots */
	HF_JWT_HEADER_BAD_B64,
	HF_JWT_HEADER_BAD_JSON,
	HF_JWT_HEADER_BAD_ALG,  /* "alg" absent or not a string */
	HF_JWT_ALG_UNSUPPORTED, /* "alg" none of RS/PS/ES 256/384/512, EdDSA ("none" too) */
	HF_JWT_HEADER_BAD_KID,  /* "kid" not a string */
	HF_JWT_PAYLOAD_BAD_B64,
	HF_JWT_PAYLOAD_BAD_JSON,
	HF_JWT_PAYLOAD_BAD_CLAIM, /* iss/sub not strings, aud not string(s), exp/nbf/iat not numbers
	                           */
	HF_JWT_SIG_BAD_B64,
	HF_JWT_TOO_LARGE,      /* longer than HF_JWT_MAX_TOKEN, or more JSON than we keep */
	HF_JWT_UNKNOWN_ISSUER, /* no rule has its iss (at the location it came from) */
	HF_JWT_EXPIRED,
	HF_JWT_NOT_YET_VALID,
	HF_JWT_AUDIENCE, /* none of its audiences is allowed (Envoy answers 403) */
	HF_JWT_NO_KEY,   /* no key of the issuer matches its kid and alg */
	HF_JWT_BAD_SIGNATURE,
	HF_JWT_CLAIMS_FULL, /* valid, but its claims do not fit struct hf_authn: refused */
	HF_JWT__MAX
};

/* A token longer than this is refused (HF_JWT_TOO_LARGE); 8 KiB is more than IdPs send. */
#define HF_JWT_MAX_TOKEN      8192
#define HF_JWT_HDR_TOKENS     32
#define HF_JWT_PAYLOAD_TOKENS 384

/* A worker's room for one validation (nothing of it outlives the request). */
struct hf_jwt_scratch {
	void *md_ctx;                   /* EVP_MD_CTX, made at the first verification, reused */
	unsigned int worker;            /* whose prepared key contexts (hf_jwt_key.vctx) to use */
	char hdr[1024];                 /* the decoded header */
	char payload[HF_JWT_MAX_TOKEN]; /* the decoded payload */
	uint8_t sig[1024];              /* the decoded signature */
	struct hf_json_tok htok[HF_JWT_HDR_TOKENS];
	struct hf_json_tok ptok[HF_JWT_PAYLOAD_TOKENS];
	/* what the last validation found, for the headers sent upstream */
	const char *payload_b64; /* the token's payload section (in the request) */
	size_t payload_b64_len;
	uint64_t exp;            /* the last valid token's exp; UINT64_MAX: it has none */
};

/* Frees what @p sc holds (its EVP_MD_CTX) and zeroes the pointer; safe twice. */
void hf_jwt_scratch_fini(struct hf_jwt_scratch *sc);

/*
 * Validates token @p tok (@p len bytes, the compact form), found at location
 * @p loc (one of @p cfg's locs; NULL: any), at @p now_s (Unix seconds).
 * HF_JWT_OK: @p an holds its principal and claims and *@p prov its rule;
 * otherwise @p an is left empty. Never allocates but inside OpenSSL.
 */
enum hf_jwt_status hf_jwt_verify(const struct hf_jwt_config *cfg, const struct hf_jwt_loc *loc,
                                 const char *tok, size_t len, uint64_t now_s,
                                 struct hf_jwt_scratch *sc, struct hf_authn *an,
                                 const struct hf_jwt_provider **prov);

/* Envoy's words for @p st, the body of its answer ("Jwt is expired"). */
const char *hf_jwt_status_text(enum hf_jwt_status st);

/* The answer's status: 403 for an audience not allowed (as Envoy), else 401. */
int hf_jwt_status_code(enum hf_jwt_status st);

/* The response details Envoy logs: "jwt_authn_access_denied{Jwt_is_expired}". */
const char *hf_jwt_status_details(enum hf_jwt_status st);

/*
 * Decodes base64url without padding (RFC 7515 2, RFC 4648 5) into @p out
 * (@p cap bytes). Returns the length, or -1: a byte outside the alphabet,
 * padding, a length of 1 mod 4, or no room.
 */
int hf_jwt_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap);

/* Empties @p an (no valid token on this request). */
static inline void
hf_authn_reset(struct hf_authn *an)
{
	an->principal_len = 0;
	an->principal_off = 0;
	an->n_claims = 0;
	an->used = 0;
}

/* The first claim of @p an named @p name (flattened, "a.b"); NULL when none. */
const struct hf_authn_claim *hf_authn_find(const struct hf_authn *an, const char *name);

/* ---- the worker's side (jwt.c) ---- */

struct hf_h1_message;
struct hf_worker;

/* Where a token was found in a request. */
struct hf_jwt_found {
	const struct hf_jwt_loc *loc; /* one of the config's locs */
	const char *tok;              /* in the request head */
	size_t len;
	int header; /* index of its field in the message; -1: a param or cookie */
};

/*
 * Looks through @p msg for a token where @p cfg says, locations in order;
 * in a header, after its prefix (compared case-insensitively: RFC 9110 11.1).
 * True with @p f filled when one is found.
 */
bool hf_jwt_find(const struct hf_jwt_config *cfg, const struct hf_h1_message *msg,
                 struct hf_jwt_found *f);

/*
 * What rule @p p asks of a request whose token (@p f) validated: its header
 * dropped unless forwardOriginalToken, outputPayloadToHeader and
 * outputClaimToHeaders set. Edits @p msg itself: new fields point into
 * @p sc, @p an and the snapshot, which outlive the head's writing. Fields
 * that do not fit (HF_H1_MAX_HEADERS_CAP) are counted in *@p not_added. A
 * claim whose value no field may hold (hf_h1_value_ok(): a CR, LF or other
 * control byte a JSON string can carry) is not written, its field is only
 * removed, and is counted in *@p bad_values: written, it would put fields or
 * a request of the token holder's making into the head the upstream reads.
 */
void hf_jwt_edit_request(const struct hf_jwt_provider *p, const struct hf_jwt_found *f,
                         const struct hf_jwt_scratch *sc, const struct hf_authn *an,
                         struct hf_h1_message *msg, unsigned int *not_added,
                         unsigned int *bad_values);

/* At most this much of the path goes into the realm (Envoy's jwt_authn cuts it there too). */
#define HF_JWT_REALM_PATH 256

/* The answer to a request whose token failed. */
struct hf_jwt_reply {
	const char *body;                                        /* Envoy's words */
	const char *details;                                     /* %RESPONSE_CODE_DETAILS% */
	char extra[HF_JWT_REALM_PATH + HF_JWT_REALM_PATH + 128]; /* www-authenticate */
};

/*
 * Request authentication of the head @p msg on worker @p w (the client spoke
 * TLS when @p https): resets w->http->authn, then, when the snapshot has
 * rules, finds and validates a token. Returns 0 (no rules, no token, or a
 * valid one: then authn is filled and @p msg edited), or the status to
 * answer with (401, 403) and @p r filled. Counted by outcome (jwt.*).
 */
int hf_jwt_request(struct hf_worker *w, struct hf_h1_message *msg, bool https,
                   struct hf_jwt_reply *r);

/*
 * Tokens a worker verified lately (Envoy's jwt_authn cache of verified
 * tokens), so a client that sends the same token on every request costs one
 * signature check, not one per request. An entry holds the exact token bytes
 * (no hash stands in for them), where it was found, its provider, what it
 * filled struct hf_authn with, and its exp; it answers only under the
 * snapshot it was verified under (a JWKS change is a new snapshot: its keys
 * are never trusted from an older one) and only while the full check would
 * still take its exp: up to exp plus the clock skew, as Envoy's cache asks
 * verifyTimeConstraint() on every lookup; past that the token goes to the
 * full check again, which refuses it (401, expired).
 * Direct-mapped, HF_JWT_CACHE_SLOTS entries; a token longer than
 * HF_JWT_CACHE_TOKEN is verified every time.
 */
#define HF_JWT_CACHE_SLOTS 8
#define HF_JWT_CACHE_TOKEN 1024

struct hf_jwt_cache_ent {
	uint64_t gen; /* the snapshot version it was verified under; 0: empty */
	const struct hf_jwt_config *cfg;
	const struct hf_jwt_loc *loc;
	const struct hf_jwt_provider *prov;
	uint64_t exp;   /* UINT64_MAX: none */
	uint64_t until; /* exp plus the clock skew: the last second it is good */
	uint32_t len, payload_off, payload_len;
	char tok[HF_JWT_CACHE_TOKEN];
	struct hf_authn an;
};

struct hf_jwt_cache {
	struct hf_jwt_cache_ent e[HF_JWT_CACHE_SLOTS];
};

/*
 * The provider of token @p tok (@p len bytes, found at @p loc) when @p c
 * holds it, verified under snapshot version @p gen and config @p cfg, and
 * @p now_s is not past its exp and the skew: @p an and @p sc's payload
 * section filled as hf_jwt_verify() would. NULL otherwise (nothing written).
 */
const struct hf_jwt_provider *hf_jwt_cache_get(const struct hf_jwt_cache *c, uint64_t gen,
                                               const struct hf_jwt_config *cfg,
                                               const struct hf_jwt_loc *loc, const char *tok,
                                               size_t len, uint64_t now_s, struct hf_authn *an,
                                               struct hf_jwt_scratch *sc);

/*
 * Keeps token @p tok, just verified (HF_JWT_OK) with what @p an, @p sc and
 * @p prov hold, good until its exp (sc->exp) plus @p skew_s seconds, as the
 * full check takes it. Returns true when it took the place of another live
 * token (an eviction, counted by the caller), false otherwise (a token too
 * long is not kept).
 */
bool hf_jwt_cache_put(struct hf_jwt_cache *c, uint64_t gen, const struct hf_jwt_config *cfg,
                      const struct hf_jwt_loc *loc, const char *tok, size_t len,
                      const struct hf_jwt_provider *prov, const struct hf_authn *an,
                      const struct hf_jwt_scratch *sc, uint32_t skew_s);

#endif
