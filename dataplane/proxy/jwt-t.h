/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_JWT_T_H
#define HF_JWT_T_H

/*
 * Request authentication with JWT (Istio's RequestAuthentication, Envoy's
 * jwt_authn) as the workers read it from the snapshot: the issuers this
 * node accepts, each with its keys — OpenSSL EVP_PKEYs the agent built from
 * the JWKS — where its tokens are looked for, and what is sent upstream.
 * Built by the agent (control-agent/jwks.c), immutable once published; the
 * agent alone holds its reference count (each snapshot that points at it
 * holds one), workers only read.
 */
#include <stdbool.h>
#include <stdint.h>

/* Signature algorithms (RFC 7518 3.1, RFC 8037 3.1). */
enum hf_jwt_alg {
	HF_JWT_ALG_NONE = 0, /* a key without "alg": any algorithm of its type */
	HF_JWT_RS256,
	HF_JWT_RS384,
	HF_JWT_RS512,
	HF_JWT_PS256,
	HF_JWT_PS384,
	HF_JWT_PS512,
	HF_JWT_ES256,
	HF_JWT_ES384,
	HF_JWT_ES512,
	HF_JWT_EDDSA,
	HF_JWT_ALG__MAX
};

/* Key types (RFC 7518 6.1, RFC 8037 2), and for EC keys the curve that fixes the algorithm. */
enum hf_jwt_kty { HF_JWT_KTY_RSA = 1, HF_JWT_KTY_EC, HF_JWT_KTY_OKP };

struct hf_jwt_key {
	void *pkey; /* EVP_PKEY, a public key */
	/*
	 * EVP_PKEY_CTXs ready to verify a digest (EVP_PKEY_verify_init done,
	 * RSA padding and digest set), one per worker and algorithm the key
	 * takes: vctx[worker * HF_JWT_ALG__MAX + alg], NULL where none. Each is
	 * used by its worker alone: OpenSSL's init (13 allocations) happens once
	 * on the agent, not per request. NULL: not prepared (EdDSA, which signs
	 * the message itself, never is): EVP_DigestVerify per request.
	 */
	void **vctx;
	unsigned int n_workers; /* workers vctx was prepared for */
	const char *kid;        /* NULL: none */
	uint16_t kid_len;
	uint8_t kty; /* enum hf_jwt_kty */
	uint8_t alg; /* enum hf_jwt_alg: the JWK's "alg", or the curve's for EC */
};

/* Where a token is looked for (Istio JWTRule fromHeaders, fromParams, fromCookies). */
enum hf_jwt_from { HF_JWT_FROM_HEADER = 1, HF_JWT_FROM_PARAM, HF_JWT_FROM_COOKIE };

struct hf_jwt_loc {
	uint8_t from; /* enum hf_jwt_from */
	uint16_t name_len, prefix_len;
	const char *name;   /* header names lower case */
	const char *prefix; /* headers: what precedes the token ("Bearer "); may be "" */
};

/* outputClaimToHeaders: the claim's value (a string, number or boolean) in a header. */
struct hf_jwt_claim_hdr {
	const char *header; /* lower case */
	const char *claim;  /* nested claims by '.' */
	uint16_t header_len;
};

/* One JWTRule: an issuer. */
struct hf_jwt_provider {
	const char *issuer;
	uint16_t issuer_len;
	bool forward;       /* forwardOriginalToken: keep the token's header upstream */
	unsigned int n_aud; /* 0: any audience */
	const char *const *aud;
	unsigned int n_keys;
	const struct hf_jwt_key *keys;
	unsigned int n_locs;
	const struct hf_jwt_loc *locs;
	const char *payload_header; /* outputPayloadToHeader, lower case; NULL: none */
	uint16_t payload_header_len;
	unsigned int n_claim_hdrs;
	const struct hf_jwt_claim_hdr *claim_hdrs;
};

struct hf_jwt_config {
	unsigned int n_providers;
	const struct hf_jwt_provider *providers;
	/* every location of every provider once, in order: where a worker looks */
	unsigned int n_locs;
	const struct hf_jwt_loc *locs;
	uint32_t clock_skew_s; /* exp and nbf are given this much (Envoy's default, 60) */
	void *md[3];           /* fetched EVP_MDs SHA-256, -384, -512 (prepared configs) */
	unsigned int refs;     /* agent only: the model and each snapshot holding it */
	void *mem;             /* agent only: what to free */
};

#endif
