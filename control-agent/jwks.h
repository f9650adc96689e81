/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_AGENT_JWKS_H
#define HF_AGENT_JWKS_H

/*
 * The agent's side of JWT request authentication: a JWKS (RFC 7517) into
 * OpenSSL public keys, and a RequestAuthentication's rules into the
 * struct hf_jwt_config the workers read (dataplane/proxy/jwt-t.h). Agent
 * thread only: allocates, reads no file (the Istio loader reads them).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataplane/proxy/jwt-t.h"

/* One key of a JWKS, as read. */
struct hf_jwks_key {
	void *pkey; /* EVP_PKEY */
	char *kid;  /* NULL: none */
	enum hf_jwt_kty kty;
	enum hf_jwt_alg alg; /* "alg", or the curve's for EC; HF_JWT_ALG_NONE: any */
};

/*
 * Reads the JWKS @p json (@p len bytes): {"keys": [JWK, ...]}. Keys of types
 * RSA (n, e; at least 2048 bits, RFC 7518 3.3), EC (crv P-256, P-384, P-521;
 * x, y) and OKP (crv Ed25519; x) become EVP_PKEYs; keys with "use" other than
 * "sig", or of other types (oct), are skipped, as Envoy skips them. Returns
 * the number of keys (>= 1) in *@p keys (free with hf_jwks_free()), or a
 * negative errno with a message in @p err naming the key and the field:
 *   -EINVAL not JSON, not a JWKS, a key that is malformed, no usable key
 *   -ENOMEM
 */
int hf_jwks_parse(const char *json, size_t len, struct hf_jwks_key **keys, char *err,
                  size_t errlen);

void hf_jwks_free(struct hf_jwks_key *keys, unsigned int n);

/* One JWTRule, as the Istio loader read it; hf_jwt_config_build() copies what it needs. */
struct hf_jwt_rule {
	const char *issuer;
	unsigned int n_aud;
	const char *const *aud;
	unsigned int n_keys;
	struct hf_jwks_key *keys; /* taken by hf_jwt_config_build() (pkeys moved, set NULL) */
	unsigned int n_locs;
	const struct hf_jwt_loc
	        *locs; /* none: Envoy's defaults (Authorization: Bearer, access_token) */
	bool forward;
	const char *payload_header; /* NULL: none */
	unsigned int n_claim_hdrs;
	const struct hf_jwt_claim_hdr *claim_hdrs;
};

/*
 * Builds the worker's form of rules @p r (@p n of them, n >= 1) with clock
 * skew @p skew_s, holding one reference. NULL when out of memory.
 */
struct hf_jwt_config *hf_jwt_config_build(struct hf_jwt_rule *r, unsigned int n, uint32_t skew_s);

/*
 * Makes for each key of @p c and each of @p n_workers workers the contexts
 * that verify a digest (hf_jwt_key.vctx), and fetches the digests: a worker
 * then makes no EVP_PKEY_CTX per request. Keys prepared already are left
 * alone (a published config never changes). Returns 0 or -ENOMEM (then
 * unprepared keys verify the slower way; nothing is wrong).
 */
int hf_jwt_config_prepare(const struct hf_jwt_config *c, unsigned int n_workers);

/* One more reference to @p c (NULL is fine: returns NULL). Agent thread only. */
const struct hf_jwt_config *hf_jwt_config_ref(const struct hf_jwt_config *c);

/* Drops a reference; the last one frees @p c and its keys. NULL is fine. */
void hf_jwt_config_unref(const struct hf_jwt_config *c);

/* Envoy's default clock skew for exp and nbf (JwtProvider.clock_skew_seconds). */
#define HF_JWT_CLOCK_SKEW_S 60

#endif
