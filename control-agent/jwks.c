/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWKS into OpenSSL keys, and JWT rules into the snapshot's form (jwks.h).
 * The JSON is read with the workers' own bounded reader (dataplane/proxy/
 * json.h), its tokens on the heap here: one reader, one set of rules about
 * what JSON is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "control-agent/jwks.h"
#include "dataplane/proxy/json.h"
#include "dataplane/proxy/jwt.h"

/* Largest decoded member we take: an RSA modulus of 16384 bits. */
#define MEMBER_MAX 2048

struct jk {
	const char *s;
	const struct hf_json_tok *t;
	int key;            /* token of the JWK */
	unsigned int index; /* in "keys", for messages */
	char *err;
	size_t errlen;
};

static int
bad(struct jk *k, const char *fmt, const char *a)
{
	char what[512];

	snprintf(what, sizeof(what), fmt, a);
	snprintf(k->err, k->errlen, "keys[%u]: %s", k->index, what);
	return -EINVAL;
}

/* Member @p name, a string, base64url-decoded into @p out. Returns its length or -EINVAL. */
static int
member_b64(struct jk *k, const char *name, uint8_t *out, size_t cap)
{
	int v = hf_json_find(k->s, k->t, k->key, name);
	int n;

	if (v < 0)
		return bad(k, "%s is missing", name);
	if (k->t[v].type != HF_JSON_STRING || k->t[v].esc)
		return bad(k, "%s must be a base64url string", name);
	n = hf_jwt_b64url_decode(k->s + k->t[v].off, k->t[v].len, out, cap);
	if (n <= 0)
		return bad(k, "%s is not base64url (RFC 7515 2: no padding)", name);
	return n;
}

static int
member_str(struct jk *k, const char *name, char *out, size_t cap, bool *present)
{
	int v = hf_json_find(k->s, k->t, k->key, name);

	*present = v >= 0;
	if (v < 0)
		return 0;
	if (k->t[v].type != HF_JSON_STRING || hf_json_str(k->s, &k->t[v], out, cap) < 0)
		return bad(k, "%s must be a string (of at most 255 bytes)", name);
	return 0;
}

static EVP_PKEY *
from_params(const char *type, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	EVP_PKEY *pkey = NULL;

	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/* RFC 7518 6.3.1: n and e, big-endian. */
static int
rsa_key(struct jk *k, struct hf_jwks_key *out)
{
	uint8_t n[MEMBER_MAX], e[16];
	int nl = member_b64(k, "n", n, sizeof(n)), el;
	BIGNUM *bn_n = NULL, *bn_e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	int rc = -ENOMEM;

	if (nl < 0)
		return nl;
	if ((el = member_b64(k, "e", e, sizeof(e))) < 0)
		return el;
	bn_n = BN_bin2bn(n, nl, NULL);
	bn_e = BN_bin2bn(e, el, NULL);
	bld = OSSL_PARAM_BLD_new();
	if (bn_n == NULL || bn_e == NULL || bld == NULL)
		goto out;
	if (BN_num_bits(bn_n) < 2048) {
		rc = bad(k, "%s: an RSA key must have at least 2048 bits (RFC 7518 3.3)", "n");
		goto out;
	}
	if (!BN_is_odd(bn_e) || BN_is_one(bn_e)) {
		rc = bad(k, "%s is not a usable RSA public exponent", "e");
		goto out;
	}
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1)
		goto out;
	out->pkey = from_params("RSA", bld);
	if (out->pkey == NULL) {
		rc = bad(k, "%s: OpenSSL refuses this RSA key", "n");
		goto out;
	}
	out->kty = HF_JWT_KTY_RSA;
	rc = 0;
out:
	BN_free(bn_n);
	BN_free(bn_e);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

/* RFC 7518 6.2.1: crv, x and y, each the curve's size; the point must be on the curve. */
static int
ec_key(struct jk *k, const char *crv, struct hf_jwks_key *out)
{
	static const struct {
		const char *crv, *group;
		size_t size;
		enum hf_jwt_alg alg;
	} curves[] = {
	        {"P-256", "prime256v1", 32, HF_JWT_ES256},
	        {"P-384", "secp384r1", 48, HF_JWT_ES384},
	        {"P-521", "secp521r1", 66, HF_JWT_ES512},
	};
	uint8_t pub[1 + 2 * 66], x[MEMBER_MAX], y[MEMBER_MAX];
	OSSL_PARAM_BLD *bld;
	int xl, yl;
	unsigned int c;

	for (c = 0; c < 3 && strcmp(crv, curves[c].crv) != 0; c++)
		;
	if (c == 3)
		return bad(k, "crv '%s' is not one of P-256, P-384, P-521", crv);
	if ((xl = member_b64(k, "x", x, sizeof(x))) < 0)
		return xl;
	if ((yl = member_b64(k, "y", y, sizeof(y))) < 0)
		return yl;
	if ((size_t)xl != curves[c].size || (size_t)yl != curves[c].size)
		return bad(k, "x and y must each be %s bytes (RFC 7518 6.2.1.2)",
		           c == 0   ? "32"
		           : c == 1 ? "48"
		                    : "66");
	pub[0] = 0x04; /* SEC 1 2.3.3: uncompressed */
	memcpy(pub + 1, x, (size_t)xl);
	memcpy(pub + 1 + xl, y, (size_t)yl);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, curves[c].group, 0) !=
	            1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub,
	                                     1 + 2 * curves[c].size) != 1) {
		OSSL_PARAM_BLD_free(bld);
		return -ENOMEM;
	}
	out->pkey = from_params("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	if (out->pkey == NULL)
		return bad(k, "%s: the point is not on the curve", "x, y");
	out->kty = HF_JWT_KTY_EC;
	out->alg = curves[c].alg;
	return 0;
}

/* RFC 8037 2: crv Ed25519 and x. */
static int
okp_key(struct jk *k, const char *crv, struct hf_jwks_key *out)
{
	uint8_t x[64];
	int xl;

	if (strcmp(crv, "Ed25519") != 0)
		return bad(k, "crv '%s' is not Ed25519 (the one OKP curve taken)", crv);
	if ((xl = member_b64(k, "x", x, sizeof(x))) < 0)
		return xl;
	if (xl != 32)
		return bad(k, "%s must be 32 bytes", "x");
	out->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32);
	if (out->pkey == NULL)
		return bad(k, "%s: OpenSSL refuses this Ed25519 key", "x");
	out->kty = HF_JWT_KTY_OKP;
	out->alg = HF_JWT_EDDSA;
	return 0;
}

static enum hf_jwt_alg
alg_named(const char *s)
{
	static const char *const names[HF_JWT_ALG__MAX] = {
	        [HF_JWT_RS256] = "RS256", [HF_JWT_RS384] = "RS384", [HF_JWT_RS512] = "RS512",
	        [HF_JWT_PS256] = "PS256", [HF_JWT_PS384] = "PS384", [HF_JWT_PS512] = "PS512",
	        [HF_JWT_ES256] = "ES256", [HF_JWT_ES384] = "ES384", [HF_JWT_ES512] = "ES512",
	        [HF_JWT_EDDSA] = "EdDSA",
	};

	for (int a = 1; a < HF_JWT_ALG__MAX; a++)
		if (strcmp(names[a], s) == 0)
			return (enum hf_jwt_alg)a;
	return HF_JWT_ALG_NONE;
}

/* One JWK into @p out. 1: a key; 0: skipped (not for signatures, or of a type not taken). */
static int
one_key(struct jk *k, struct hf_jwks_key *out)
{
	char kty[256], kid[256], alg[256], use[256], crv[256];
	bool has_kid, has_alg, has_use, has_crv, dummy;
	enum hf_jwt_alg a = HF_JWT_ALG_NONE;
	int rc;

	memset(out, 0, sizeof(*out));
	if (k->t[k->key].type != HF_JSON_OBJECT)
		return bad(k, "%s", "a key must be a JSON object");
	if ((rc = member_str(k, "kty", kty, sizeof(kty), &dummy)) < 0 ||
	    (rc = member_str(k, "kid", kid, sizeof(kid), &has_kid)) < 0 ||
	    (rc = member_str(k, "alg", alg, sizeof(alg), &has_alg)) < 0 ||
	    (rc = member_str(k, "use", use, sizeof(use), &has_use)) < 0 ||
	    (rc = member_str(k, "crv", crv, sizeof(crv), &has_crv)) < 0)
		return rc;
	if (!dummy)
		return bad(k, "%s is missing", "kty");
	if (has_use && strcmp(use, "sig") != 0)
		return 0;
	if (has_alg && (a = alg_named(alg)) == HF_JWT_ALG_NONE)
		return bad(k,
		           "alg '%s' is not a JWS algorithm taken here (RS/PS/ES 256/384/512, "
		           "EdDSA)",
		           alg);
	if (strcmp(kty, "RSA") == 0) {
		if (has_alg && a > HF_JWT_PS512)
			return bad(k, "alg '%s' is not an RSA algorithm", alg);
		rc = rsa_key(k, out);
		out->alg = a;
	} else if (strcmp(kty, "EC") == 0) {
		if (!has_crv)
			return bad(k, "%s is missing", "crv");
		rc = ec_key(k, crv, out);
		if (rc == 0 && has_alg && a != out->alg) {
			EVP_PKEY_free(out->pkey);
			out->pkey = NULL;
			return bad(k, "alg '%s' does not go with its crv", alg);
		}
	} else if (strcmp(kty, "OKP") == 0) {
		if (!has_crv)
			return bad(k, "%s is missing", "crv");
		rc = okp_key(k, crv, out);
	} else {
		return 0; /* "oct" and others: no public key to verify with */
	}
	if (rc < 0)
		return rc;
	if (has_kid && (out->kid = strdup(kid)) == NULL) {
		EVP_PKEY_free(out->pkey);
		out->pkey = NULL;
		return -ENOMEM;
	}
	return 1;
}

int
hf_jwks_parse(const char *json, size_t len, struct hf_jwks_key **keys, char *err, size_t errlen)
{
	unsigned int cap = (unsigned int)(len < 1u << 24 ? len / 2 + 8 : 1u << 23);
	struct hf_json_tok *t = calloc(cap, sizeof(*t));
	struct hf_jwks_key *out = NULL;
	struct jk k = {.s = json, .t = t, .err = err, .errlen = errlen};
	unsigned int n = 0;
	int rc, ks;

	*keys = NULL;
	if (t == NULL)
		return -ENOMEM;
	rc = hf_json_parse(json, len, t, cap);
	if (rc < 0 || t[0].type != HF_JSON_OBJECT) {
		snprintf(err, errlen, "not a JSON object%s",
		         rc == HF_JSON_E_DEPTH ? " (nested too deep)" : "");
		rc = -EINVAL;
		goto out;
	}
	ks = hf_json_find(json, t, 0, "keys");
	if (ks < 0 || t[ks].type != HF_JSON_ARRAY) {
		snprintf(err, errlen, "not a JWKS: no \"keys\" list (RFC 7517 5)");
		rc = -EINVAL;
		goto out;
	}
	out = calloc(t[ks].n + 1u, sizeof(*out));
	if (out == NULL) {
		rc = -ENOMEM;
		goto out;
	}
	for (uint32_t e = (uint32_t)ks + 1; e < t[ks].next; e = t[e].next, k.index++) {
		k.key = (int)e;
		rc = one_key(&k, &out[n]);
		if (rc < 0)
			goto out;
		n += (unsigned int)rc;
	}
	if (n == 0) {
		snprintf(err, errlen,
		         "no usable key (RSA, EC or OKP, for signatures): Envoy's "
		         "\"Jwks doesn't have any valid public key\"");
		rc = -EINVAL;
		goto out;
	}
	*keys = out;
	out = NULL;
	rc = (int)n;
out:
	if (out != NULL)
		hf_jwks_free(out, n);
	free(t);
	ERR_clear_error();
	return rc;
}

void
hf_jwks_free(struct hf_jwks_key *keys, unsigned int n)
{
	for (unsigned int i = 0; keys != NULL && i < n; i++) {
		EVP_PKEY_free(keys[i].pkey);
		free(keys[i].kid);
	}
	free(keys);
}

/* ---- the snapshot's form ---- */

/* Everything a config owns: its allocations and its keys. */
struct mem {
	unsigned int n, cap;
	void **p;
	unsigned int n_pkeys;
	void **pkeys;
	unsigned int n_ctx, cap_ctx;
	void **ctx; /* the prepared EVP_PKEY_CTXs */
};

static void *
m_alloc(struct mem *m, size_t n)
{
	void *p;

	if (m->n == m->cap) {
		unsigned int cap = m->cap ? m->cap * 2 : 32;
		void **np = realloc(m->p, cap * sizeof(*np));

		if (np == NULL)
			return NULL;
		m->p = np;
		m->cap = cap;
	}
	p = calloc(1, n ? n : 1);
	if (p != NULL)
		m->p[m->n++] = p;
	return p;
}

static char *
m_str(struct mem *m, const char *s)
{
	char *d = m_alloc(m, strlen(s) + 1);

	if (d != NULL)
		strcpy(d, s);
	return d;
}

static char *
m_lower(struct mem *m, const char *s)
{
	char *d = m_str(m, s);

	for (char *c = d; c != NULL && *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	return d;
}

static void
mem_free(struct mem *m)
{
	if (m == NULL)
		return;
	/* the contexts hold references to the keys: they go first */
	for (unsigned int i = 0; i < m->n_ctx; i++)
		EVP_PKEY_CTX_free(m->ctx[i]);
	free(m->ctx);
	for (unsigned int i = 0; i < m->n_pkeys; i++)
		EVP_PKEY_free(m->pkeys[i]);
	free(m->pkeys);
	for (unsigned int i = 0; i < m->n; i++)
		free(m->p[i]);
	free(m->p);
	free(m);
}

/* Envoy's defaults when a rule names no location (JwtProvider: from_headers, from_params). */
static const struct hf_jwt_loc default_locs[] = {
        {.from = HF_JWT_FROM_HEADER,
         .name = "authorization",
         .name_len = 13,
         .prefix = "Bearer ",
         .prefix_len = 7},
        {.from = HF_JWT_FROM_PARAM,
         .name = "access_token",
         .name_len = 12,
         .prefix = "",
         .prefix_len = 0},
};

static bool
loc_eq(const struct hf_jwt_loc *a, const struct hf_jwt_loc *b)
{
	return a->from == b->from && a->name_len == b->name_len && strcmp(a->name, b->name) == 0 &&
	       strcmp(a->prefix, b->prefix) == 0;
}

static int
copy_locs(struct mem *m, const struct hf_jwt_loc *src, unsigned int n, struct hf_jwt_loc **out)
{
	struct hf_jwt_loc *l = m_alloc(m, sizeof(*l) * n);

	if (l == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		l[i].from = src[i].from;
		l[i].name = src[i].from == HF_JWT_FROM_HEADER ? m_lower(m, src[i].name)
		                                              : m_str(m, src[i].name);
		l[i].prefix = m_str(m, src[i].prefix != NULL ? src[i].prefix : "");
		if (l[i].name == NULL || l[i].prefix == NULL)
			return -ENOMEM;
		l[i].name_len = (uint16_t)strlen(l[i].name);
		l[i].prefix_len = (uint16_t)strlen(l[i].prefix);
	}
	*out = l;
	return 0;
}

static int
build_provider(struct mem *m, struct hf_jwt_rule *r, struct hf_jwt_provider *p)
{
	struct hf_jwt_loc *locs;
	struct hf_jwt_key *keys = m_alloc(m, sizeof(*keys) * r->n_keys);
	const char **aud = m_alloc(m, sizeof(*aud) * (r->n_aud + 1));
	struct hf_jwt_claim_hdr *ch = m_alloc(m, sizeof(*ch) * (r->n_claim_hdrs + 1));
	void **pk;

	if (keys == NULL || aud == NULL || ch == NULL)
		return -ENOMEM;
	pk = realloc(m->pkeys, (m->n_pkeys + r->n_keys) * sizeof(*pk) + 1);
	if (pk == NULL)
		return -ENOMEM;
	m->pkeys = pk;
	if ((p->issuer = m_str(m, r->issuer)) == NULL)
		return -ENOMEM;
	p->issuer_len = (uint16_t)strlen(r->issuer);
	p->forward = r->forward;
	for (unsigned int i = 0; i < r->n_aud; i++)
		if ((aud[i] = m_str(m, r->aud[i])) == NULL)
			return -ENOMEM;
	p->aud = aud;
	p->n_aud = r->n_aud;
	for (unsigned int i = 0; i < r->n_keys; i++) {
		keys[i].pkey = r->keys[i].pkey;
		r->keys[i].pkey = NULL;
		m->pkeys[m->n_pkeys++] = keys[i].pkey;
		keys[i].kty = (uint8_t)r->keys[i].kty;
		keys[i].alg = (uint8_t)r->keys[i].alg;
		if (r->keys[i].kid != NULL) {
			if ((keys[i].kid = m_str(m, r->keys[i].kid)) == NULL)
				return -ENOMEM;
			keys[i].kid_len = (uint16_t)strlen(keys[i].kid);
		}
	}
	p->keys = keys;
	p->n_keys = r->n_keys;
	if (r->n_locs == 0) {
		p->locs = default_locs;
		p->n_locs = 2;
	} else {
		if (copy_locs(m, r->locs, r->n_locs, &locs) != 0)
			return -ENOMEM;
		p->locs = locs;
		p->n_locs = r->n_locs;
	}
	if (r->payload_header != NULL) {
		if ((p->payload_header = m_lower(m, r->payload_header)) == NULL)
			return -ENOMEM;
		p->payload_header_len = (uint16_t)strlen(p->payload_header);
	}
	for (unsigned int i = 0; i < r->n_claim_hdrs; i++) {
		ch[i].header = m_lower(m, r->claim_hdrs[i].header);
		ch[i].claim = m_str(m, r->claim_hdrs[i].claim);
		if (ch[i].header == NULL || ch[i].claim == NULL)
			return -ENOMEM;
		ch[i].header_len = (uint16_t)strlen(ch[i].header);
	}
	p->claim_hdrs = ch;
	p->n_claim_hdrs = r->n_claim_hdrs;
	return 0;
}

struct hf_jwt_config *
hf_jwt_config_build(struct hf_jwt_rule *r, unsigned int n, uint32_t skew_s)
{
	struct mem *m = calloc(1, sizeof(*m));
	struct hf_jwt_config *c = NULL;
	struct hf_jwt_provider *p;
	struct hf_jwt_loc *all;
	unsigned int total = 0, k = 0;

	if (m == NULL)
		return NULL;
	c = m_alloc(m, sizeof(*c));
	p = m_alloc(m, sizeof(*p) * n);
	if (c == NULL || p == NULL)
		goto fail;
	for (unsigned int i = 0; i < n; i++) {
		if (build_provider(m, &r[i], &p[i]) != 0)
			goto fail;
		total += p[i].n_locs;
	}
	/* every location once, in the order the rules name them: where a worker looks */
	all = m_alloc(m, sizeof(*all) * total);
	if (all == NULL)
		goto fail;
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int j = 0; j < p[i].n_locs; j++) {
			bool seen = false;

			for (unsigned int x = 0; x < k && !seen; x++)
				seen = loc_eq(&all[x], &p[i].locs[j]);
			if (!seen)
				all[k++] = p[i].locs[j];
		}
	c->providers = p;
	c->n_providers = n;
	c->locs = all;
	c->n_locs = k;
	c->clock_skew_s = skew_s;
	c->refs = 1;
	c->mem = m;
	return c;
fail:
	mem_free(m);
	return NULL;
}

const struct hf_jwt_config *
hf_jwt_config_ref(const struct hf_jwt_config *c)
{
	if (c != NULL)
		((struct hf_jwt_config *)c)->refs++;
	return c;
}

void
hf_jwt_config_unref(const struct hf_jwt_config *c)
{
	struct hf_jwt_config *w = (struct hf_jwt_config *)c;

	if (w == NULL || --w->refs > 0)
		return;
	for (int i = 0; i < 3; i++)
		EVP_MD_free(w->md[i]);
	/* c itself is one of m's allocations */
	mem_free(w->mem);
}

/* A context of key @p pkey ready to verify a digest made with @p alg's hash; NULL on failure. */
static EVP_PKEY_CTX *
verify_ctx(EVP_PKEY *pkey, enum hf_jwt_alg alg, const EVP_MD *md)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);

	if (ctx == NULL || EVP_PKEY_verify_init(ctx) != 1)
		goto fail;
	if (alg >= HF_JWT_RS256 && alg <= HF_JWT_PS512) {
		bool pss = alg >= HF_JWT_PS256;

		/* RFC 7518 3.3 (PKCS #1 v1.5), 3.5 (PSS, salt as long as the hash, MGF1 with it) */
		if (EVP_PKEY_CTX_set_rsa_padding(ctx, pss ? RSA_PKCS1_PSS_PADDING
		                                          : RSA_PKCS1_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(ctx, md) != 1 ||
		    (pss && (EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
		             EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md) != 1)))
			goto fail;
	}
	return ctx;
fail:
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

int
hf_jwt_config_prepare(const struct hf_jwt_config *cc, unsigned int n_workers)
{
	static const char *const names[3] = {"SHA256", "SHA384", "SHA512"};
	struct hf_jwt_config *c = (struct hf_jwt_config *)cc;
	struct mem *m;

	if (c == NULL || n_workers == 0)
		return 0;
	m = c->mem;
	for (int i = 0; i < 3; i++)
		if (c->md[i] == NULL && (c->md[i] = EVP_MD_fetch(NULL, names[i], NULL)) == NULL)
			return -ENOMEM;
	for (unsigned int i = 0; i < c->n_providers; i++) {
		struct hf_jwt_provider *p = (struct hf_jwt_provider *)&c->providers[i];

		for (unsigned int j = 0; j < p->n_keys; j++) {
			struct hf_jwt_key *k = (struct hf_jwt_key *)&p->keys[j];
			void **v;

			/* published already, or EdDSA (which hashes inside): left as they are */
			if (k->vctx != NULL || k->kty == HF_JWT_KTY_OKP)
				continue;
			v = m_alloc(m, sizeof(*v) * n_workers * HF_JWT_ALG__MAX);
			if (v == NULL)
				return -ENOMEM;
			for (unsigned int w = 0; w < n_workers; w++)
				for (int a = HF_JWT_RS256; a <= HF_JWT_ES512; a++) {
					EVP_PKEY_CTX *x;
					enum hf_jwt_kty kty =
					        a <= HF_JWT_PS512 ? HF_JWT_KTY_RSA : HF_JWT_KTY_EC;
					const EVP_MD *md =
					        c->md[a <= HF_JWT_PS512 ? (a - HF_JWT_RS256) % 3
					                                : a - HF_JWT_ES256];

					if (k->kty != kty ||
					    (k->alg != HF_JWT_ALG_NONE && k->alg != a))
						continue;
					if (m->n_ctx == m->cap_ctx) {
						unsigned int cap = m->cap_ctx ? m->cap_ctx * 2 : 16;
						void **nc = realloc(m->ctx, cap * sizeof(*nc));

						if (nc == NULL)
							return -ENOMEM;
						m->ctx = nc;
						m->cap_ctx = cap;
					}
					x = verify_ctx(k->pkey, (enum hf_jwt_alg)a, md);
					if (x == NULL)
						return -ENOMEM;
					m->ctx[m->n_ctx++] = x;
					v[w * HF_JWT_ALG__MAX + (unsigned int)a] = x;
				}
			k->vctx = v;
			k->n_workers = n_workers;
		}
	}
	return 0;
}
