/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One JWT validated (jwt.h): split, decoded, parsed with the bounded JSON
 * reader, checked in Envoy's order, its signature verified through OpenSSL,
 * its claims flattened into struct hf_authn. Pure C: no DPDK.
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "dataplane/proxy/jwt.h"

/* RFC 4648 5: '-' and '_' for 62 and 63; 0xff: not in the alphabet. */
static const uint8_t b64url[256] = {
        ['A'] = 0,  ['B'] = 1,  ['C'] = 2,  ['D'] = 3,  ['E'] = 4,  ['F'] = 5,  ['G'] = 6,
        ['H'] = 7,  ['I'] = 8,  ['J'] = 9,  ['K'] = 10, ['L'] = 11, ['M'] = 12, ['N'] = 13,
        ['O'] = 14, ['P'] = 15, ['Q'] = 16, ['R'] = 17, ['S'] = 18, ['T'] = 19, ['U'] = 20,
        ['V'] = 21, ['W'] = 22, ['X'] = 23, ['Y'] = 24, ['Z'] = 25, ['a'] = 26, ['b'] = 27,
        ['c'] = 28, ['d'] = 29, ['e'] = 30, ['f'] = 31, ['g'] = 32, ['h'] = 33, ['i'] = 34,
        ['j'] = 35, ['k'] = 36, ['l'] = 37, ['m'] = 38, ['n'] = 39, ['o'] = 40, ['p'] = 41,
        ['q'] = 42, ['r'] = 43, ['s'] = 44, ['t'] = 45, ['u'] = 46, ['v'] = 47, ['w'] = 48,
        ['x'] = 49, ['y'] = 50, ['z'] = 51, ['0'] = 52, ['1'] = 53, ['2'] = 54, ['3'] = 55,
        ['4'] = 56, ['5'] = 57, ['6'] = 58, ['7'] = 59, ['8'] = 60, ['9'] = 61, ['-'] = 62,
        ['_'] = 63,
};

/* The table above gives 0 to bytes it does not list: 'A' is the only true 0. */
static inline int
b64v(unsigned char c)
{
	return (b64url[c] != 0 || c == 'A') ? b64url[c] : -1;
}

int
hf_jwt_b64url_decode(const char *in, size_t n, uint8_t *out, size_t cap)
{
	size_t o = 0, i = 0;

	if (n % 4 == 1 || n / 4 * 3 + (n % 4 > 0 ? n % 4 - 1 : 0) > cap)
		return -1;
	for (; i + 4 <= n; i += 4) {
		int a = b64v((unsigned char)in[i]), b = b64v((unsigned char)in[i + 1]);
		int c = b64v((unsigned char)in[i + 2]), d = b64v((unsigned char)in[i + 3]);

		if ((a | b | c | d) < 0)
			return -1;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		out[o++] = (uint8_t)(b << 4 | c >> 2);
		out[o++] = (uint8_t)(c << 6 | d);
	}
	if (n - i >= 2) {
		int a = b64v((unsigned char)in[i]), b = b64v((unsigned char)in[i + 1]);
		int c = n - i == 3 ? b64v((unsigned char)in[i + 2]) : 0;

		if ((a | b | c) < 0)
			return -1;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		if (n - i == 3)
			out[o++] = (uint8_t)(b << 4 | c >> 2);
	}
	return (int)o;
}

static const char *const status_text[HF_JWT__MAX] = {
        [HF_JWT_OK] = "OK",
        [HF_JWT_MISSING] = "Jwt is missing",
        [HF_JWT_BAD_FORMAT] =
                "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections",
        [HF_JWT_HEADER_BAD_B64] = "Jwt header is an invalid Base64url encoded",
        [HF_JWT_HEADER_BAD_JSON] = "Jwt header is an invalid JSON",
        [HF_JWT_HEADER_BAD_ALG] = "Jwt header [alg] field is required and must be a string",
        [HF_JWT_ALG_UNSUPPORTED] = "Jwt header [alg] is not supported",
        [HF_JWT_HEADER_BAD_KID] = "Jwt header [kid] field is not a string",
        [HF_JWT_PAYLOAD_BAD_B64] = "Jwt payload is an invalid Base64url encoded",
        [HF_JWT_PAYLOAD_BAD_JSON] = "Jwt payload is an invalid JSON",
        [HF_JWT_PAYLOAD_BAD_CLAIM] = "Jwt payload has a registered claim of the wrong type",
        [HF_JWT_SIG_BAD_B64] = "Jwt signature is an invalid Base64url encoded",
        [HF_JWT_TOO_LARGE] = "Jwt is too large",
        [HF_JWT_UNKNOWN_ISSUER] = "Jwt issuer is not configured",
        [HF_JWT_EXPIRED] = "Jwt is expired",
        [HF_JWT_NOT_YET_VALID] = "Jwt not yet valid",
        [HF_JWT_AUDIENCE] = "Audiences in Jwt are not allowed",
        [HF_JWT_NO_KEY] = "Jwks doesn't have key to match kid or alg from Jwt",
        [HF_JWT_BAD_SIGNATURE] = "Jwt verification fails",
        [HF_JWT_CLAIMS_FULL] = "Jwt has more claims than can be kept",
};

static const char *const status_details[HF_JWT__MAX] = {
        [HF_JWT_OK] = "jwt_authn_access_allowed",
        [HF_JWT_MISSING] = "jwt_authn_access_denied{Jwt_is_missing}",
        [HF_JWT_BAD_FORMAT] = "jwt_authn_access_denied{Jwt_is_not_in_the_form_of_Header.Payload."
                              "Signature_with_two_dots_and_3_sections}",
        [HF_JWT_HEADER_BAD_B64] =
                "jwt_authn_access_denied{Jwt_header_is_an_invalid_Base64url_encoded}",
        [HF_JWT_HEADER_BAD_JSON] = "jwt_authn_access_denied{Jwt_header_is_an_invalid_JSON}",
        [HF_JWT_HEADER_BAD_ALG] =
                "jwt_authn_access_denied{Jwt_header_[alg]_field_is_required_and_must_be_a_string}",
        [HF_JWT_ALG_UNSUPPORTED] = "jwt_authn_access_denied{Jwt_header_[alg]_is_not_supported}",
        [HF_JWT_HEADER_BAD_KID] = "jwt_authn_access_denied{Jwt_header_[kid]_field_is_not_a_string}",
        [HF_JWT_PAYLOAD_BAD_B64] =
                "jwt_authn_access_denied{Jwt_payload_is_an_invalid_Base64url_encoded}",
        [HF_JWT_PAYLOAD_BAD_JSON] = "jwt_authn_access_denied{Jwt_payload_is_an_invalid_JSON}",
        [HF_JWT_PAYLOAD_BAD_CLAIM] =
                "jwt_authn_access_denied{Jwt_payload_has_a_registered_claim_of_the_wrong_type}",
        [HF_JWT_SIG_BAD_B64] =
                "jwt_authn_access_denied{Jwt_signature_is_an_invalid_Base64url_encoded}",
        [HF_JWT_TOO_LARGE] = "jwt_authn_access_denied{Jwt_is_too_large}",
        [HF_JWT_UNKNOWN_ISSUER] = "jwt_authn_access_denied{Jwt_issuer_is_not_configured}",
        [HF_JWT_EXPIRED] = "jwt_authn_access_denied{Jwt_is_expired}",
        [HF_JWT_NOT_YET_VALID] = "jwt_authn_access_denied{Jwt_not_yet_valid}",
        [HF_JWT_AUDIENCE] = "jwt_authn_access_denied{Audiences_in_Jwt_are_not_allowed}",
        [HF_JWT_NO_KEY] =
                "jwt_authn_access_denied{Jwks_doesn't_have_key_to_match_kid_or_alg_from_Jwt}",
        [HF_JWT_BAD_SIGNATURE] = "jwt_authn_access_denied{Jwt_verification_fails}",
        [HF_JWT_CLAIMS_FULL] = "jwt_authn_access_denied{Jwt_has_more_claims_than_can_be_kept}",
};

const char *
hf_jwt_status_text(enum hf_jwt_status st)
{
	return (unsigned int)st < HF_JWT__MAX ? status_text[st] : "Jwt verification fails";
}

const char *
hf_jwt_status_details(enum hf_jwt_status st)
{
	return (unsigned int)st < HF_JWT__MAX ? status_details[st]
	                                      : status_details[HF_JWT_BAD_SIGNATURE];
}

int
hf_jwt_status_code(enum hf_jwt_status st)
{
	return st == HF_JWT_AUDIENCE ? 403 : 401;
}

void
hf_jwt_scratch_fini(struct hf_jwt_scratch *sc)
{
	EVP_MD_CTX_free(sc->md_ctx);
	sc->md_ctx = NULL;
}

static const struct {
	const char *name;
	enum hf_jwt_alg alg;
} algs[] = {
        {"RS256", HF_JWT_RS256}, {"RS384", HF_JWT_RS384}, {"RS512", HF_JWT_RS512},
        {"PS256", HF_JWT_PS256}, {"PS384", HF_JWT_PS384}, {"PS512", HF_JWT_PS512},
        {"ES256", HF_JWT_ES256}, {"ES384", HF_JWT_ES384}, {"ES512", HF_JWT_ES512},
        {"EdDSA", HF_JWT_EDDSA},
};

static enum hf_jwt_alg
alg_of(const char *s, const struct hf_json_tok *t)
{
	for (unsigned int i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (hf_json_str_eq(s, t, algs[i].name, strlen(algs[i].name)))
			return algs[i].alg;
	return HF_JWT_ALG_NONE;
}

static const EVP_MD *
md_of(enum hf_jwt_alg a)
{
	switch (a) {
	case HF_JWT_RS256:
	case HF_JWT_PS256:
	case HF_JWT_ES256: return EVP_sha256();
	case HF_JWT_RS384:
	case HF_JWT_PS384:
	case HF_JWT_ES384: return EVP_sha384();
	case HF_JWT_RS512:
	case HF_JWT_PS512:
	case HF_JWT_ES512: return EVP_sha512();
	default: return NULL;
	}
}

static enum hf_jwt_kty
kty_of(enum hf_jwt_alg a)
{
	if (a >= HF_JWT_RS256 && a <= HF_JWT_PS512)
		return HF_JWT_KTY_RSA;
	if (a >= HF_JWT_ES256 && a <= HF_JWT_ES512)
		return HF_JWT_KTY_EC;
	return HF_JWT_KTY_OKP;
}

/* Appends DER INTEGER of the unsigned big-endian @p v (@p n bytes) at @p o; returns bytes. */
static size_t
der_int(uint8_t *o, const uint8_t *v, size_t n)
{
	size_t k = 0;

	while (n > 1 && v[0] == 0) {
		v++;
		n--;
	}
	o[k++] = 0x02;
	o[k++] = (uint8_t)(n + (v[0] & 0x80 ? 1 : 0));
	if (v[0] & 0x80)
		o[k++] = 0;
	memcpy(o + k, v, n);
	return k + n;
}

/*
 * JWS ECDSA signatures are R || S, each the curve's size (RFC 7518 3.4);
 * OpenSSL verifies DER (SEQUENCE of two INTEGERs). Returns the DER length,
 * or 0 when @p n is not twice @p half.
 */
static size_t
ecdsa_der(uint8_t *der, const uint8_t *sig, size_t n, size_t half)
{
	uint8_t body[2 * (66 + 3)];
	size_t b = 0, k = 0;

	if (n != 2 * half)
		return 0;
	b += der_int(body + b, sig, half);
	b += der_int(body + b, sig + half, half);
	der[k++] = 0x30;
	if (b >= 0x80)
		der[k++] = 0x81;
	der[k++] = (uint8_t)b;
	memcpy(der + k, body, b);
	return k + b;
}

/*
 * The digest of @p data, then its signature checked by the worker's own
 * prepared context @p pctx: no EVP_PKEY_CTX made per request.
 */
static int
verify_prepared(EVP_MD_CTX *ctx, EVP_PKEY_CTX *pctx, const EVP_MD *md, const char *data, size_t n,
                const uint8_t *sig, size_t siglen)
{
	unsigned char dgst[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;

	if (EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, data, n) != 1 ||
	    EVP_DigestFinal_ex(ctx, dgst, &dl) != 1)
		return 0;
	return EVP_PKEY_verify(pctx, sig, siglen, dgst, dl) == 1;
}

/* 1: the signature of @p data by key @p k verifies with @p alg; 0: it does not. */
static int
verify_sig(const struct hf_jwt_config *cfg, struct hf_jwt_scratch *sc, const struct hf_jwt_key *k,
           enum hf_jwt_alg alg, const char *data, size_t n, const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = sc->md_ctx;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t der[2 * (66 + 3) + 3];
	int ok = 0;

	if (ctx == NULL) {
		/* Once per worker: the context is reused from then on. */
		ctx = sc->md_ctx = EVP_MD_CTX_new();
		if (ctx == NULL)
			return 0;
	}
	if (kty_of(alg) == HF_JWT_KTY_EC) {
		size_t half = alg == HF_JWT_ES256 ? 32 : alg == HF_JWT_ES384 ? 48 : 66;

		siglen = ecdsa_der(der, sig, siglen, half);
		if (siglen == 0)
			return 0;
		sig = der;
	}
	if (k->vctx != NULL && sc->worker < k->n_workers &&
	    (pctx = k->vctx[sc->worker * HF_JWT_ALG__MAX + alg]) != NULL) {
		const EVP_MD *md = cfg->md[alg <= HF_JWT_PS512 ? (alg - HF_JWT_RS256) % 3
		                                               : alg - HF_JWT_ES256];

		ok = md != NULL && verify_prepared(ctx, pctx, md, data, n, sig, siglen);
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, &pctx, md_of(alg), NULL, k->pkey) != 1)
		goto out;
	if (alg >= HF_JWT_PS256 && alg <= HF_JWT_PS512 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1))
		goto out;
	ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)data, n) == 1;
out:
	if (!ok)
		ERR_clear_error();
	EVP_MD_CTX_reset(ctx);
	return ok;
}

/* ---- claims into struct hf_authn ---- */

struct flat {
	struct hf_authn *an;
	const char *s;
	const struct hf_json_tok *t;
	bool full;
	bool nul; /* a string decoded with a NUL inside: refused */
};

/* Appends @p n bytes and a NUL to an->buf; returns the offset, or -1 (full). */
static int
put(struct flat *f, const char *p, size_t n)
{
	struct hf_authn *an = f->an;
	int off = an->used;

	if ((size_t)an->used + n + 1 > HF_AUTHN_BUF) {
		f->full = true;
		return -1;
	}
	memcpy(an->buf + an->used, p, n);
	an->buf[an->used + n] = '\0';
	an->used = (uint16_t)(an->used + n + 1);
	return off;
}

/* Appends value token @p v decoded (strings unescaped, others as their JSON text). */
static int
put_value(struct flat *f, const struct hf_json_tok *v)
{
	struct hf_authn *an = f->an;
	int n;

	if (v->type != HF_JSON_STRING)
		return put(f, f->s + v->off, v->len);
	n = hf_json_str(f->s, v, an->buf + an->used, HF_AUTHN_BUF - an->used);
	if (n < 0) {
		f->full = true;
		return -1;
	}
	/* "\u0000" would cut a C string short: "admin\u0000x" must never read as "admin" */
	if (memchr(an->buf + an->used, '\0', (size_t)n) != NULL) {
		f->nul = true;
		return -1;
	}
	an->used = (uint16_t)(an->used + n + 1);
	return an->used - n - 1;
}

static void
add_claim(struct flat *f, int name_off, uint16_t name_len, int val_off, uint16_t val_len)
{
	struct hf_authn_claim *c;

	if (f->an->n_claims == HF_AUTHN_MAX_CLAIMS) {
		f->full = true;
		return;
	}
	c = &f->an->claims[f->an->n_claims++];
	c->name_off = (uint16_t)name_off;
	c->name_len = name_len;
	c->val_off = (uint16_t)val_off;
	c->val_len = val_len;
}

/* One scalar value @p v under the name at @p name_off. Null adds nothing. */
static void
flat_scalar(struct flat *f, int name_off, uint16_t name_len, const struct hf_json_tok *v)
{
	int off;

	if (v->type == HF_JSON_NULL || v->type == HF_JSON_OBJECT || v->type == HF_JSON_ARRAY)
		return;
	off = put_value(f, v);
	if (off >= 0)
		add_claim(f, name_off, name_len, off, (uint16_t)strlen(f->an->buf + off));
}

/*
 * Istio normalizes these space-delimited claims into lists (Envoy's
 * normalize_payload_in_metadata): "scope": "a b" is the claims a and b.
 */
static bool
space_delimited(const char *name)
{
	return strcmp(name, "scope") == 0 || strcmp(name, "permission") == 0;
}

/*
 * Flattens the members of OBJECT token @p obj under @p prefix (the name of
 * the enclosing claim and '.'; "" at the top). The depth is the JSON's,
 * bounded by HF_JSON_MAX_DEPTH.
 */
static void
flat_object(struct flat *f, int obj, const char *prefix, size_t plen)
{
	uint32_t i = (uint32_t)obj + 1;

	for (unsigned int m = 0; m < f->t[obj].n && !f->full && !f->nul; m++) {
		const struct hf_json_tok *k = &f->t[i], *v = &f->t[i + 1];
		char name[256];
		int klen, name_off;

		i = v->next;
		if (plen >= sizeof(name))
			continue;
		memcpy(name, prefix, plen);
		klen = hf_json_str(f->s, k, name + plen, sizeof(name) - plen);
		if (klen < 0)
			continue; /* a name longer than any claim authorization names */
		if (v->type == HF_JSON_OBJECT) {
			name[plen + (size_t)klen] = '.';
			flat_object(f, (int)(k - f->t) + 1, name, plen + (size_t)klen + 1);
			continue;
		}
		if ((name_off = put(f, name, plen + (size_t)klen)) < 0)
			return;
		if (v->type == HF_JSON_ARRAY) {
			for (uint32_t e = (uint32_t)(v - f->t) + 1; e < v->next; e = f->t[e].next)
				flat_scalar(f, name_off, (uint16_t)(plen + (size_t)klen), &f->t[e]);
			continue;
		}
		if (plen == 0 && v->type == HF_JSON_STRING && space_delimited(name)) {
			int off = put_value(f, v);
			char *p, *end;

			if (off < 0)
				return;
			p = f->an->buf + off;
			end = p + strlen(p);
			while (p < end) {
				char *sp = memchr(p, ' ', (size_t)(end - p));
				char *e = sp != NULL ? sp : end;

				if (e > p) {
					*e = '\0';
					add_claim(f, name_off, (uint16_t)klen,
					          (int)(p - f->an->buf), (uint16_t)(e - p));
				}
				p = e + 1;
			}
			continue;
		}
		flat_scalar(f, name_off, (uint16_t)(plen + (size_t)klen), v);
	}
}

const struct hf_authn_claim *
hf_authn_find(const struct hf_authn *an, const char *name)
{
	size_t n = strlen(name);

	for (unsigned int i = 0; i < an->n_claims; i++)
		if (an->claims[i].name_len == n &&
		    memcmp(an->buf + an->claims[i].name_off, name, n) == 0)
			return &an->claims[i];
	return NULL;
}

/* ---- the token ---- */

static bool
has_loc(const struct hf_jwt_provider *p, const struct hf_jwt_loc *loc)
{
	if (loc == NULL)
		return true;
	for (unsigned int i = 0; i < p->n_locs; i++) {
		const struct hf_jwt_loc *l = &p->locs[i];

		if (l->from == loc->from && l->name_len == loc->name_len &&
		    memcmp(l->name, loc->name, l->name_len) == 0 &&
		    l->prefix_len == loc->prefix_len &&
		    memcmp(l->prefix, loc->prefix, l->prefix_len) == 0)
			return true;
	}
	return false;
}

/* Whether key @p k may verify a token of @p alg whose kid is @p kid (-1: none) in @p hs. */
static bool
key_fits(const struct hf_jwt_key *k, enum hf_jwt_alg alg, const char *hs,
         const struct hf_json_tok *kid)
{
	if (k->kty != kty_of(alg))
		return false;
	/* jwt_verify_lib: a key's own alg must be the token's; a key without kid fits any kid */
	if (k->alg != HF_JWT_ALG_NONE && k->alg != alg)
		return false;
	if (kid != NULL && k->kid != NULL && !hf_json_str_eq(hs, kid, k->kid, k->kid_len))
		return false;
	return true;
}

static bool
aud_allowed(const struct hf_jwt_provider *p, const char *s, const struct hf_json_tok *t, int aud)
{
	if (p->n_aud == 0)
		return true;
	if (aud < 0)
		return false;
	for (uint32_t e = t[aud].type == HF_JSON_ARRAY ? (uint32_t)aud + 1 : (uint32_t)aud;
	     e < t[aud].next; e = t[e].next)
		for (unsigned int a = 0; a < p->n_aud; a++)
			if (hf_json_str_eq(s, &t[e], p->aud[a], strlen(p->aud[a])))
				return true;
	return false;
}

static bool
is_str(const struct hf_json_tok *t, int i)
{
	return i < 0 || t[i].type == HF_JSON_STRING;
}

enum hf_jwt_status
hf_jwt_verify(const struct hf_jwt_config *cfg, const struct hf_jwt_loc *loc, const char *tok,
              size_t len, uint64_t now_s, struct hf_jwt_scratch *sc, struct hf_authn *an,
              const struct hf_jwt_provider **prov)
{
	const char *d1, *d2, *end = tok + len, *hs = sc->hdr, *ps = sc->payload;
	const struct hf_jwt_provider *p = NULL;
	const struct hf_json_tok *ht = sc->htok, *pt = sc->ptok;
	int hl, pl, sl, n, alg_i, kid_i, iss, sub, aud, exp, nbf, iat;
	uint64_t exp_v = 0, nbf_v = 0, iat_v;
	enum hf_jwt_alg alg;
	bool key_seen = false;
	struct flat f = {.an = an, .s = ps, .t = pt};

	hf_authn_reset(an);
	*prov = NULL;
	if (len > HF_JWT_MAX_TOKEN)
		return HF_JWT_TOO_LARGE;
	d1 = memchr(tok, '.', len);
	d2 = d1 != NULL ? memchr(d1 + 1, '.', (size_t)(end - d1 - 1)) : NULL;
	if (d2 == NULL || memchr(d2 + 1, '.', (size_t)(end - d2 - 1)) != NULL || d1 == tok ||
	    d2 == d1 + 1)
		return HF_JWT_BAD_FORMAT;
	/* the header: {"alg": ..., "kid": ...} (RFC 7515 4.1) */
	hl = hf_jwt_b64url_decode(tok, (size_t)(d1 - tok), (uint8_t *)sc->hdr, sizeof(sc->hdr));
	if (hl < 0)
		return (size_t)(d1 - tok) / 4 * 3 > sizeof(sc->hdr) ? HF_JWT_TOO_LARGE
		                                                    : HF_JWT_HEADER_BAD_B64;
	n = hf_json_parse(hs, (size_t)hl, sc->htok, HF_JWT_HDR_TOKENS);
	if (n == HF_JSON_E_TOKENS)
		return HF_JWT_TOO_LARGE;
	if (n < 0 || ht[0].type != HF_JSON_OBJECT)
		return HF_JWT_HEADER_BAD_JSON;
	alg_i = hf_json_find(hs, ht, 0, "alg");
	if (alg_i < 0 || ht[alg_i].type != HF_JSON_STRING)
		return HF_JWT_HEADER_BAD_ALG;
	alg = alg_of(hs, &ht[alg_i]);
	if (alg == HF_JWT_ALG_NONE)
		return HF_JWT_ALG_UNSUPPORTED;
	kid_i = hf_json_find(hs, ht, 0, "kid");
	if (!is_str(ht, kid_i))
		return HF_JWT_HEADER_BAD_KID;
	/* the payload: the claims (RFC 7519 4.1) */
	pl = hf_jwt_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), (uint8_t *)sc->payload,
	                          sizeof(sc->payload) - 1);
	if (pl < 0)
		return HF_JWT_PAYLOAD_BAD_B64;
	n = hf_json_parse(ps, (size_t)pl, sc->ptok, HF_JWT_PAYLOAD_TOKENS);
	if (n == HF_JSON_E_TOKENS)
		return HF_JWT_TOO_LARGE;
	if (n < 0 || pt[0].type != HF_JSON_OBJECT)
		return HF_JWT_PAYLOAD_BAD_JSON;
	iss = hf_json_find(ps, pt, 0, "iss");
	sub = hf_json_find(ps, pt, 0, "sub");
	aud = hf_json_find(ps, pt, 0, "aud");
	exp = hf_json_find(ps, pt, 0, "exp");
	nbf = hf_json_find(ps, pt, 0, "nbf");
	iat = hf_json_find(ps, pt, 0, "iat");
	if (!is_str(pt, iss) || !is_str(pt, sub) ||
	    (exp >= 0 && hf_json_u64(ps, &pt[exp], &exp_v) != 0) ||
	    (nbf >= 0 && hf_json_u64(ps, &pt[nbf], &nbf_v) != 0) ||
	    (iat >= 0 && hf_json_u64(ps, &pt[iat], &iat_v) != 0))
		return HF_JWT_PAYLOAD_BAD_CLAIM;
	if (aud >= 0 && pt[aud].type != HF_JSON_STRING) {
		if (pt[aud].type != HF_JSON_ARRAY)
			return HF_JWT_PAYLOAD_BAD_CLAIM;
		for (uint32_t e = (uint32_t)aud + 1; e < pt[aud].next; e = pt[e].next)
			if (pt[e].type != HF_JSON_STRING)
				return HF_JWT_PAYLOAD_BAD_CLAIM;
	}
	sl = hf_jwt_b64url_decode(d2 + 1, (size_t)(end - d2 - 1), sc->sig, sizeof(sc->sig));
	if (sl < 0)
		return (size_t)(end - d2 - 1) / 4 * 3 > sizeof(sc->sig) ? HF_JWT_TOO_LARGE
		                                                        : HF_JWT_SIG_BAD_B64;
	/* the issuer's rule, among those that look where this token was found */
	for (unsigned int i = 0; iss >= 0 && i < cfg->n_providers && p == NULL; i++)
		if (hf_json_str_eq(ps, &pt[iss], cfg->providers[i].issuer,
		                   cfg->providers[i].issuer_len) &&
		    has_loc(&cfg->providers[i], loc))
			p = &cfg->providers[i];
	if (p == NULL)
		return HF_JWT_UNKNOWN_ISSUER;
	/* RFC 7519 4.1.4, 4.1.5 with jwt_verify_lib's skew */
	if (nbf >= 0 && nbf_v > now_s + cfg->clock_skew_s)
		return HF_JWT_NOT_YET_VALID;
	if (exp >= 0 && exp_v + cfg->clock_skew_s < now_s)
		return HF_JWT_EXPIRED;
	if (!aud_allowed(p, ps, pt, aud))
		return HF_JWT_AUDIENCE;
	for (unsigned int i = 0; i < p->n_keys; i++) {
		if (!key_fits(&p->keys[i], alg, hs, kid_i >= 0 ? &ht[kid_i] : NULL))
			continue;
		key_seen = true;
		/* RFC 7515 5.2: the signing input is the first two sections as they came */
		if (verify_sig(cfg, sc, &p->keys[i], alg, tok, (size_t)(d2 - tok), sc->sig,
		               (size_t)sl))
			goto valid;
	}
	return key_seen ? HF_JWT_BAD_SIGNATURE : HF_JWT_NO_KEY;
valid:
	/* principal "<iss>/<sub>" (Istio's request.auth.principal), then the claims */
	{
		int off = put_value(&f, &pt[iss]);

		if (off >= 0) {
			an->used--; /* the NUL goes: "/" and sub follow */
			if (put(&f, "/", 1) >= 0) {
				an->used--;
				if (sub >= 0)
					put_value(&f, &pt[sub]);
				else
					put(&f, "", 0);
			}
		}
		if (!f.full && !f.nul) {
			an->principal_off = (uint16_t)off;
			an->principal_len = (uint16_t)strlen(an->buf + off);
		}
	}
	if (!f.full && !f.nul)
		flat_object(&f, 0, "", 0);
	if (f.nul) {
		hf_authn_reset(an);
		return HF_JWT_PAYLOAD_BAD_CLAIM;
	}
	if (f.full) {
		hf_authn_reset(an);
		return HF_JWT_CLAIMS_FULL;
	}
	sc->payload_b64 = d1 + 1;
	sc->payload_b64_len = (size_t)(d2 - d1 - 1);
	sc->exp = exp >= 0 ? exp_v : UINT64_MAX;
	*prov = p;
	return HF_JWT_OK;
}
