/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_TEST_JWT_UTIL_H
#define HF_TEST_JWT_UTIL_H

/*
 * For the JWT tests: keys made here by OpenSSL, their JWKs, and tokens they
 * sign — nothing taken from elsewhere. Test code: aborts on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

static inline void
tju_need(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "jwt test helper: %s failed\n", what);
		abort();
	}
}

/* RFC 4648 5 without padding, NUL-terminated, malloc'ed. */
static inline char *
tju_b64url(const unsigned char *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	char *o = malloc(n / 3 * 4 + 5), *q = o;
	size_t i = 0;

	tju_need(o != NULL, "malloc");
	for (; i + 3 <= n; i += 3) {
		*q++ = a[p[i] >> 2];
		*q++ = a[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*q++ = a[(p[i + 1] & 15) << 2 | p[i + 2] >> 6];
		*q++ = a[p[i + 2] & 63];
	}
	if (n - i == 1) {
		*q++ = a[p[i] >> 2];
		*q++ = a[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		*q++ = a[p[i] >> 2];
		*q++ = a[(p[i] & 3) << 4 | p[i + 1] >> 4];
		*q++ = a[(p[i + 1] & 15) << 2];
	}
	*q = '\0';
	return o;
}

static inline char *
tju_b64url_str(const char *s)
{
	return tju_b64url((const unsigned char *)s, strlen(s));
}

static inline EVP_PKEY *
tju_rsa(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

	tju_need(k != NULL, "RSA keygen");
	return k;
}

static inline EVP_PKEY *
tju_ec(const char *group)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", group);

	tju_need(k != NULL, "EC keygen");
	return k;
}

static inline EVP_PKEY *
tju_ed25519(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");

	tju_need(k != NULL, "Ed25519 keygen");
	return k;
}

static inline char *
tju_bn_b64(const BIGNUM *bn, int pad)
{
	unsigned char buf[1024];
	int n = pad > 0 ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);

	tju_need(n > 0, "BN_bn2bin");
	return tju_b64url(buf, (size_t)n);
}

/* The JWK of @p k's public half, with "kid" and "alg" when not NULL; malloc'ed. */
static inline char *
tju_jwk(EVP_PKEY *k, const char *kid, const char *alg)
{
	char extra[256] = "", *out = malloc(4096);

	tju_need(out != NULL, "malloc");
	if (kid != NULL)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), ",\"kid\":\"%s\"",
		         kid);
	if (alg != NULL)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), ",\"alg\":\"%s\"",
		         alg);
	if (EVP_PKEY_is_a(k, "RSA")) {
		BIGNUM *n = NULL, *e = NULL;
		char *nb, *eb;

		tju_need(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) == 1 &&
		                 EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) == 1,
		         "RSA params");
		nb = tju_bn_b64(n, 0);
		eb = tju_bn_b64(e, 0);
		snprintf(out, 4096, "{\"kty\":\"RSA\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"%s}",
		         nb, eb, extra);
		free(nb);
		free(eb);
		BN_free(n);
		BN_free(e);
	} else if (EVP_PKEY_is_a(k, "EC")) {
		BIGNUM *x = NULL, *y = NULL;
		char group[32], *xb, *yb;
		size_t gl;
		int size;
		const char *crv;

		tju_need(EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
		                                        sizeof(group), &gl) == 1,
		         "EC group");
		size = strstr(group, "256") != NULL ? 32 : strstr(group, "384") != NULL ? 48 : 66;
		crv = size == 32 ? "P-256" : size == 48 ? "P-384" : "P-521";
		tju_need(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &x) == 1 &&
		                 EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y) == 1,
		         "EC params");
		xb = tju_bn_b64(x, size);
		yb = tju_bn_b64(y, size);
		snprintf(out, 4096, "{\"kty\":\"EC\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"%s}",
		         crv, xb, yb, extra);
		free(xb);
		free(yb);
		BN_free(x);
		BN_free(y);
	} else {
		unsigned char raw[32];
		size_t rl = sizeof(raw);
		char *xb;

		tju_need(EVP_PKEY_get_raw_public_key(k, raw, &rl) == 1, "Ed25519 raw");
		xb = tju_b64url(raw, rl);
		snprintf(out, 4096, "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\"%s}", xb,
		         extra);
		free(xb);
	}
	return out;
}

/* {"keys":[jwk1, jwk2]} (jwk2 may be NULL); malloc'ed. */
static inline char *
tju_jwks(const char *jwk1, const char *jwk2)
{
	char *out = malloc(8192);

	tju_need(out != NULL, "malloc");
	snprintf(out, 8192, "{\"keys\":[%s%s%s]}", jwk1, jwk2 != NULL ? "," : "",
	         jwk2 != NULL ? jwk2 : "");
	return out;
}

/*
 * A compact JWS of @p header and @p payload (JSON texts) signed by @p k with
 * @p alg (RS256/384/512, PS256, ES256/384/512, EdDSA); malloc'ed.
 */
static inline char *
tju_sign(EVP_PKEY *k, const char *alg, const char *header, const char *payload)
{
	char *h = tju_b64url_str(header), *p = tju_b64url_str(payload), *input, *sigb, *out;
	unsigned char sig[1024], raw[132];
	size_t sl = sizeof(sig), n;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	const EVP_MD *md = NULL;

	n = strlen(h) + strlen(p) + 2;
	input = malloc(n);
	tju_need(input != NULL && ctx != NULL, "malloc");
	snprintf(input, n, "%s.%s", h, p);
	if (strstr(alg, "256"))
		md = EVP_sha256();
	else if (strstr(alg, "384"))
		md = EVP_sha384();
	else if (strstr(alg, "512"))
		md = EVP_sha512();
	tju_need(EVP_DigestSignInit(ctx, &pctx, md, NULL, k) == 1, "DigestSignInit");
	if (alg[0] == 'P') {
		tju_need(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
		                 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) ==
		                         1,
		         "PSS");
	}
	tju_need(EVP_DigestSign(ctx, sig, &sl, (unsigned char *)input, strlen(input)) == 1,
	         "DigestSign");
	if (alg[0] == 'E' && alg[1] == 'S') {
		/* DER → R || S (RFC 7518 3.4) */
		const unsigned char *d = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)sl);
		int half = strstr(alg, "256") ? 32 : strstr(alg, "384") ? 48 : 66;

		tju_need(es != NULL, "d2i_ECDSA_SIG");
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, half);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + half, half);
		ECDSA_SIG_free(es);
		memcpy(sig, raw, (size_t)(2 * half));
		sl = (size_t)(2 * half);
	}
	sigb = tju_b64url(sig, sl);
	n = strlen(input) + strlen(sigb) + 2;
	out = malloc(n);
	tju_need(out != NULL, "malloc");
	snprintf(out, n, "%s.%s", input, sigb);
	free(h);
	free(p);
	free(input);
	free(sigb);
	EVP_MD_CTX_free(ctx);
	return out;
}

#endif
