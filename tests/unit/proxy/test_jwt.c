/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JWT validation (dataplane/proxy/jwt_token.c, jwt.c) and the bounded JSON
 * reader under it (json.c), with keys generated here and tokens they sign:
 * every algorithm taken, every reason a token is refused with Envoy's words
 * and status, claims flattened as authorization reads them, where tokens
 * are found in a request and what is sent upstream, and the reader's bounds
 * (depth, token count, numbers, UTF-8, escapes).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hf_test.h"
#include "jwt_util.h"
#include "control-agent/jwks.h"
#include "dataplane/http/h1.h"
#include "dataplane/proxy/json.h"
#include "dataplane/proxy/jwt.h"

#define ISS "https://issuer.example"
#define NOW 1780000000ull

static EVP_PKEY *rsa, *ec, *rsa2, *ec384, *ed, *ec_b, *ec384_b, *ed_b;
static struct hf_jwt_scratch sc;
static struct hf_authn an;

static int
setup(void **state)
{
	(void)state;
	rsa = tju_rsa();
	rsa2 = tju_rsa();
	ec = tju_ec("P-256");
	ec384 = tju_ec("P-384");
	ed = tju_ed25519();
	ec_b = tju_ec("P-256");
	ec384_b = tju_ec("P-384");
	ed_b = tju_ed25519();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec384);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ec_b);
	EVP_PKEY_free(ec384_b);
	EVP_PKEY_free(ed_b);
	hf_jwt_scratch_fini(&sc);
	return 0;
}

/* A config of one rule: issuer ISS, keys from @p jwks, audiences @p aud (NULL-terminated or NULL).
 */
static struct hf_jwt_config *
config(const char *jwks, const char *const *aud)
{
	struct hf_jwt_rule r = {.issuer = ISS};
	struct hf_jwt_config *c;
	char err[256];
	int n = hf_jwks_parse(jwks, strlen(jwks), &r.keys, err, sizeof(err));

	if (n < 0)
		fail_msg("jwks: %s", err);
	r.n_keys = (unsigned int)n;
	for (r.aud = aud; aud != NULL && aud[r.n_aud] != NULL; r.n_aud++)
		;
	c = hf_jwt_config_build(&r, 1, HF_JWT_CLOCK_SKEW_S);
	hf_jwks_free(r.keys, r.n_keys);
	assert_non_null(c);
	return c;
}

static struct hf_jwt_config *
config_of(EVP_PKEY *k, const char *kid, const char *alg)
{
	char *jwk = tju_jwk(k, kid, alg), *jwks = tju_jwks(jwk, NULL);
	struct hf_jwt_config *c = config(jwks, NULL);

	free(jwk);
	free(jwks);
	return c;
}

static enum hf_jwt_status
verify(const struct hf_jwt_config *c, const char *tok)
{
	const struct hf_jwt_provider *p;

	return hf_jwt_verify(c, NULL, tok, strlen(tok), NOW, &sc, &an, &p);
}

/* Signs @p payload with header {"alg": alg, "typ": "JWT"} and validates it. */
static enum hf_jwt_status
sign_verify(const struct hf_jwt_config *c, EVP_PKEY *k, const char *alg, const char *payload)
{
	char hdr[128], *tok;
	enum hf_jwt_status st;

	snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
	tok = tju_sign(k, alg, hdr, payload);
	st = verify(c, tok);
	free(tok);
	return st;
}

static const char *
claim(const char *name)
{
	const struct hf_authn_claim *c = hf_authn_find(&an, name);

	return c != NULL ? an.buf + c->val_off : NULL;
}

static void
test_algorithms(void **state)
{
	static const char pl[] = "{\"iss\":\"" ISS "\",\"sub\":\"alice\",\"exp\":1780000100}";
	struct {
		EVP_PKEY **k, **other;
		const char *alg;
	} t[] = {
	        {&rsa, &rsa2, "RS256"},      {&rsa, &rsa2, "RS384"}, {&rsa, &rsa2, "RS512"},
	        {&rsa, &rsa2, "PS256"},      {&rsa, &rsa2, "PS384"}, {&ec, &ec_b, "ES256"},
	        {&ec384, &ec384_b, "ES384"}, {&ed, &ed_b, "EdDSA"},
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct hf_jwt_config *c = config_of(*t[i].k, NULL, NULL);

		if (sign_verify(c, *t[i].k, t[i].alg, pl) != HF_JWT_OK)
			fail_msg("%s does not verify", t[i].alg);
		assert_int_equal(an.principal_len, strlen(ISS "/alice"));
		assert_string_equal(an.buf + an.principal_off, ISS "/alice");
		/* with the agent's per-worker contexts (as a snapshot has them), worker 1's */
		assert_int_equal(hf_jwt_config_prepare(c, 2), 0);
		if (t[i].k != &ed)
			assert_non_null(c->providers[0].keys[0].vctx);
		sc.worker = 1;
		if (sign_verify(c, *t[i].k, t[i].alg, pl) != HF_JWT_OK)
			fail_msg("%s does not verify with prepared contexts", t[i].alg);
		/* the same token with another key of the type: the signature fails, both ways */
		hf_jwt_config_unref(c);
		c = config_of(*t[i].other, NULL, NULL);
		sc.worker = 0;
		assert_int_equal(sign_verify(c, *t[i].k, t[i].alg, pl), HF_JWT_BAD_SIGNATURE);
		assert_int_equal(an.principal_len, 0);
		assert_int_equal(hf_jwt_config_prepare(c, 2), 0);
		sc.worker = 1;
		assert_int_equal(sign_verify(c, *t[i].k, t[i].alg, pl), HF_JWT_BAD_SIGNATURE);
		sc.worker = 0;
		hf_jwt_config_unref(c);
	}
}

static void
test_time_and_audience(void **state)
{
	static const char *const aud[] = {"bookstore", "petstore", NULL};
	struct hf_jwt_config *c = config_of(ec, NULL, NULL), *ca;
	char *jwk = tju_jwk(ec, NULL, NULL), *jwks = tju_jwks(jwk, NULL);
	struct {
		const char *payload;
		enum hf_jwt_status st;
	} t[] = {
	        {"{\"iss\":\"" ISS "\",\"exp\":1779999879}", HF_JWT_EXPIRED}, /* 121 s ago */
	        {"{\"iss\":\"" ISS "\",\"exp\":1779999941}", HF_JWT_OK},      /* 59 s ago: skew */
	        {"{\"iss\":\"" ISS "\",\"nbf\":1780000061}", HF_JWT_NOT_YET_VALID},
	        {"{\"iss\":\"" ISS "\",\"nbf\":1780000060}", HF_JWT_OK},
	        {"{\"iss\":\"" ISS "\",\"exp\":1780000100,\"nbf\":1779999000,\"iat\":1779999000}",
	         HF_JWT_OK},
	        {"{\"iss\":\"https://other.example\",\"exp\":1780000100}", HF_JWT_UNKNOWN_ISSUER},
	        {"{\"sub\":\"nobody\"}", HF_JWT_UNKNOWN_ISSUER},
	        {"{\"iss\":\"" ISS "\",\"exp\":\"tomorrow\"}", HF_JWT_PAYLOAD_BAD_CLAIM},
	        {"{\"iss\":\"" ISS "\",\"exp\":1.5e9}", HF_JWT_PAYLOAD_BAD_CLAIM},
	        {"{\"iss\":\"" ISS "\",\"exp\":-1}", HF_JWT_PAYLOAD_BAD_CLAIM},
	        {"{\"iss\":\"" ISS "\",\"exp\":99999999999999999999999}", HF_JWT_PAYLOAD_BAD_CLAIM},
	        {"{\"iss\":\"" ISS "\",\"exp\":1780000100.0}", HF_JWT_OK},
	        {"{\"iss\":7}", HF_JWT_PAYLOAD_BAD_CLAIM},
	        {"{\"iss\":\"" ISS "\",\"sub\":[\"a\"]}", HF_JWT_PAYLOAD_BAD_CLAIM},
	        {"{\"iss\":\"" ISS "\",\"aud\":[\"a\",3]}", HF_JWT_PAYLOAD_BAD_CLAIM},
	        {"{\"iss\":\"" ISS "\",\"sub\":\"a\\u0000b\"}", HF_JWT_PAYLOAD_BAD_CLAIM},
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (sign_verify(c, ec, "ES256", t[i].payload) != t[i].st)
			fail_msg("%s: %s, not %s", t[i].payload,
			         hf_jwt_status_text(sign_verify(c, ec, "ES256", t[i].payload)),
			         hf_jwt_status_text(t[i].st));
	/* audiences: one of the token's must be allowed; Envoy answers 403 */
	ca = config(jwks, aud);
	assert_int_equal(sign_verify(ca, ec, "ES256", "{\"iss\":\"" ISS "\",\"aud\":\"petstore\"}"),
	                 HF_JWT_OK);
	assert_int_equal(
	        sign_verify(ca, ec, "ES256", "{\"iss\":\"" ISS "\",\"aud\":[\"x\",\"bookstore\"]}"),
	        HF_JWT_OK);
	assert_int_equal(sign_verify(ca, ec, "ES256", "{\"iss\":\"" ISS "\",\"aud\":\"zoo\"}"),
	                 HF_JWT_AUDIENCE);
	assert_int_equal(sign_verify(ca, ec, "ES256", "{\"iss\":\"" ISS "\"}"), HF_JWT_AUDIENCE);
	assert_int_equal(hf_jwt_status_code(HF_JWT_AUDIENCE), 403);
	assert_int_equal(hf_jwt_status_code(HF_JWT_EXPIRED), 401);
	assert_string_equal(hf_jwt_status_text(HF_JWT_EXPIRED), "Jwt is expired");
	assert_string_equal(hf_jwt_status_text(HF_JWT_BAD_SIGNATURE), "Jwt verification fails");
	assert_string_equal(hf_jwt_status_details(HF_JWT_EXPIRED),
	                    "jwt_authn_access_denied{Jwt_is_expired}");
	hf_jwt_config_unref(ca);
	hf_jwt_config_unref(c);
	free(jwk);
	free(jwks);
}

static void
test_kid_and_alg(void **state)
{
	char *j1 = tju_jwk(rsa, "one", "RS256"), *j2 = tju_jwk(rsa2, "two", NULL);
	char *jwks = tju_jwks(j1, j2), *tok;
	struct hf_jwt_config *c = config(jwks, NULL);
	static const char pl[] = "{\"iss\":\"" ISS "\"}";

	(void)state;
	/* kid picks the key: rsa2 under "two" verifies, under "one" it is rsa's and fails */
	tok = tju_sign(rsa2, "RS256", "{\"alg\":\"RS256\",\"kid\":\"two\"}", pl);
	assert_int_equal(verify(c, tok), HF_JWT_OK);
	free(tok);
	tok = tju_sign(rsa2, "RS256", "{\"alg\":\"RS256\",\"kid\":\"one\"}", pl);
	assert_int_equal(verify(c, tok), HF_JWT_BAD_SIGNATURE);
	free(tok);
	tok = tju_sign(rsa2, "RS256", "{\"alg\":\"RS256\",\"kid\":\"three\"}", pl);
	assert_int_equal(verify(c, tok), HF_JWT_NO_KEY);
	free(tok);
	/* no kid: every key that fits is tried */
	tok = tju_sign(rsa2, "RS256", "{\"alg\":\"RS256\"}", pl);
	assert_int_equal(verify(c, tok), HF_JWT_OK);
	free(tok);
	/* key "one" says RS256: an RS384 token for it finds no key; "two" (any alg) still fits */
	tok = tju_sign(rsa, "RS384", "{\"alg\":\"RS384\",\"kid\":\"one\"}", pl);
	assert_int_equal(verify(c, tok), HF_JWT_NO_KEY);
	free(tok);
	/* an ES256 token against RSA keys: no key of its type */
	tok = tju_sign(ec, "ES256", "{\"alg\":\"ES256\"}", pl);
	assert_int_equal(verify(c, tok), HF_JWT_NO_KEY);
	free(tok);
	/* header troubles */
	tok = tju_sign(rsa, "RS256", "{\"alg\":\"RS256\",\"kid\":1}", pl);
	assert_int_equal(verify(c, tok), HF_JWT_HEADER_BAD_KID);
	free(tok);
	tok = tju_sign(rsa, "RS256", "{\"typ\":\"JWT\"}", pl);
	assert_int_equal(verify(c, tok), HF_JWT_HEADER_BAD_ALG);
	free(tok);
	tok = tju_sign(rsa, "RS256", "{\"alg\":\"HS256\"}", pl);
	assert_int_equal(verify(c, tok), HF_JWT_ALG_UNSUPPORTED);
	free(tok);
	tok = tju_sign(rsa, "RS256", "{\"alg\":\"none\"}", pl);
	assert_int_equal(verify(c, tok), HF_JWT_ALG_UNSUPPORTED);
	free(tok);
	hf_jwt_config_unref(c);
	free(j1);
	free(j2);
	free(jwks);
}

static void
test_malformed(void **state)
{
	struct hf_jwt_config *c = config_of(ec, NULL, NULL);
	char *good = tju_sign(ec, "ES256", "{\"alg\":\"ES256\"}", "{\"iss\":\"" ISS "\"}");
	char *h = tju_b64url_str("{\"alg\":\"ES256\"}"),
	     *p = tju_b64url_str("{\"iss\":\"" ISS "\"}");
	char *nojson = tju_b64url_str("{\"alg\":"), *arr = tju_b64url_str("[1]");
	char buf[1024], big[HF_JWT_MAX_TOKEN + 2];
	const char *sig = strrchr(good, '.') + 1;
	struct {
		const char *fmt;
		const char *a, *b, *c;
		enum hf_jwt_status st;
	} t[] = {
	        {"%s", "", NULL, NULL, HF_JWT_BAD_FORMAT},
	        {"%s", "deadbeef", NULL, NULL, HF_JWT_BAD_FORMAT},
	        {"%s.%s", h, p, NULL, HF_JWT_BAD_FORMAT},
	        {"%s.%s.%s.x", h, p, sig, HF_JWT_BAD_FORMAT},
	        {".%s.%s", p, sig, NULL, HF_JWT_BAD_FORMAT},
	        {"%s..%s", h, sig, NULL, HF_JWT_BAD_FORMAT},
	        {"a*b.%s.%s", p, sig, NULL, HF_JWT_HEADER_BAD_B64},
	        {"%s=.%s.%s", h, p, sig, HF_JWT_HEADER_BAD_B64},
	        {"%s.%s.%s", nojson, p, sig, HF_JWT_HEADER_BAD_JSON},
	        {"%s.%s.%s", arr, p, sig, HF_JWT_HEADER_BAD_JSON},
	        {"%s.p+q.%s", h, sig, NULL, HF_JWT_PAYLOAD_BAD_B64},
	        {"%s.%s.%s", h, nojson, sig, HF_JWT_PAYLOAD_BAD_JSON},
	        {"%s.%s.%s", h, arr, sig, HF_JWT_PAYLOAD_BAD_JSON},
	        {"%s.%s.a/b", h, p, NULL, HF_JWT_SIG_BAD_B64},
	        {"%s.%s.%s", h, p, "AAAA", HF_JWT_BAD_SIGNATURE},
	        {"%s.%s.", h, p, NULL, HF_JWT_BAD_SIGNATURE},
	};

	(void)state;
	assert_int_equal(verify(c, good), HF_JWT_OK);
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(buf, sizeof(buf), t[i].fmt, t[i].a, t[i].b, t[i].c);
		if (verify(c, buf) != t[i].st)
			fail_msg("'%s': %s, not %s", buf, hf_jwt_status_text(verify(c, buf)),
			         hf_jwt_status_text(t[i].st));
		assert_int_equal(an.principal_len, 0);
	}
	/* one flipped bit anywhere in the signed part or the signature fails it */
	for (size_t i = 0; good[i] != '\0'; i += 7) {
		char save = good[i];

		if (save == '.')
			continue;
		good[i] = save == 'A' ? 'B' : 'A';
		assert_int_not_equal(verify(c, good), HF_JWT_OK);
		good[i] = save;
	}
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[10] = big[20] = '.';
	assert_int_equal(verify(c, big), HF_JWT_TOO_LARGE);
	hf_jwt_config_unref(c);
	free(good);
	free(h);
	free(p);
	free(nojson);
	free(arr);
}

static void
test_claims(void **state)
{
	struct hf_jwt_config *c = config_of(ec, NULL, NULL);
	static const char pl[] =
	        "{\"iss\":\"" ISS
	        "\",\"sub\":\"b\\u00e9a\",\"groups\":[\"dev\",\"ops\",null,{\"x\":1}],"
	        "\"nested\":{\"key1\":[\"v1\",\"v2\"],\"deep\":{\"k\":\"v\"}},\"n\":42,\"ok\":true,"
	        "\"scope\":\"read  write\",\"gone\":null}";
	char many[4096];
	size_t k;

	(void)state;
	assert_int_equal(sign_verify(c, ec, "ES256", pl), HF_JWT_OK);
	assert_string_equal(an.buf + an.principal_off, ISS "/b\xc3\xa9"
	                                                   "a");
	assert_string_equal(claim("iss"), ISS);
	assert_string_equal(claim("nested.deep.k"), "v");
	assert_string_equal(claim("n"), "42");
	assert_string_equal(claim("ok"), "true");
	assert_null(claim("gone"));
	assert_null(claim("nested"));
	/* lists: one entry per element, in order; scope split at spaces */
	{
		const char *want[][2] = {{"groups", "dev"},     {"groups", "ops"},
		                         {"nested.key1", "v1"}, {"nested.key1", "v2"},
		                         {"scope", "read"},     {"scope", "write"}};
		unsigned int found = 0;

		for (unsigned int i = 0; i < an.n_claims; i++) {
			const struct hf_authn_claim *cl = &an.claims[i];

			for (unsigned int w = 0; w < 6; w++)
				if (strcmp(an.buf + cl->name_off, want[w][0]) == 0 &&
				    strcmp(an.buf + cl->val_off, want[w][1]) == 0 &&
				    cl->name_len == strlen(want[w][0]) &&
				    cl->val_len == strlen(want[w][1]))
					found |= 1u << w;
		}
		assert_int_equal(found, 0x3f);
	}
	/* more claims than struct hf_authn keeps: refused, nothing half-filled */
	k = (size_t)snprintf(many, sizeof(many), "{\"iss\":\"" ISS "\",\"l\":[");
	for (int i = 0; i < HF_AUTHN_MAX_CLAIMS + 1; i++)
		k += (size_t)snprintf(many + k, sizeof(many) - k, "%s\"%d\"", i ? "," : "", i);
	snprintf(many + k, sizeof(many) - k, "]}");
	assert_int_equal(sign_verify(c, ec, "ES256", many), HF_JWT_CLAIMS_FULL);
	assert_int_equal(an.principal_len, 0);
	assert_int_equal(an.n_claims, 0);
	hf_jwt_config_unref(c);
}

static void
test_json_bounds(void **state)
{
	struct hf_json_tok t[64];
	char deep[128], out[64];
	struct {
		const char *in;
		int rc; /* > 0: that many tokens */
	} v[] = {
	        {"{}", 1},
	        {"[]", 1},
	        {" {\"a\" : [1, 2.5e-3, -0, true, false, null]} ", 9},
	        {"\"\\u00e9\\ud83d\\ude00\"", 1},
	        {"\"\xc3\xa9\xf0\x9f\x98\x80\"", 1},
	        {"123456789012345678901234567890e999999", 1},
	        {"", HF_JSON_E_SYNTAX},
	        {"{", HF_JSON_E_SYNTAX},
	        {"{\"a\":1,}", HF_JSON_E_SYNTAX},
	        {"[1,]", HF_JSON_E_SYNTAX},
	        {"{\"a\" 1}", HF_JSON_E_SYNTAX},
	        {"{1:2}", HF_JSON_E_SYNTAX},
	        {"01", HF_JSON_E_SYNTAX},
	        {"1.", HF_JSON_E_SYNTAX},
	        {"-", HF_JSON_E_SYNTAX},
	        {"1e", HF_JSON_E_SYNTAX},
	        {".5", HF_JSON_E_SYNTAX},
	        {"+1", HF_JSON_E_SYNTAX},
	        {"tru", HF_JSON_E_SYNTAX},
	        {"nul", HF_JSON_E_SYNTAX},
	        {"{} {}", HF_JSON_E_SYNTAX},
	        {"\"a\x01\"", HF_JSON_E_SYNTAX},
	        {"\"\\x41\"", HF_JSON_E_SYNTAX},
	        {"\"\\u12\"", HF_JSON_E_SYNTAX},
	        {"\"\\u12g4\"", HF_JSON_E_SYNTAX},
	        {"\"\\udc00\"", HF_JSON_E_SYNTAX},
	        {"\"\\ud800\"", HF_JSON_E_SYNTAX},
	        {"\"\\ud800\\u0041\"", HF_JSON_E_SYNTAX},
	        {"\"\\", HF_JSON_E_SYNTAX},
	        {"\"\xc0\x80\"", HF_JSON_E_SYNTAX},         /* overlong NUL */
	        {"\"\xed\xa0\x80\"", HF_JSON_E_SYNTAX},     /* a surrogate in UTF-8 */
	        {"\"\x80\"", HF_JSON_E_SYNTAX},             /* a lone continuation byte */
	        {"\"\xe2\x82\"", HF_JSON_E_SYNTAX},         /* cut short */
	        {"\"\xf4\x90\x80\x80\"", HF_JSON_E_SYNTAX}, /* past U+10FFFF */
	        {"\"\xff\"", HF_JSON_E_SYNTAX},
	        {"\"abc", HF_JSON_E_SYNTAX},
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int rc = hf_json_parse(v[i].in, strlen(v[i].in), t, 64);

		if (rc != v[i].rc)
			fail_msg("'%s': %d, not %d", v[i].in, rc, v[i].rc);
	}
	/* decoding: surrogate pairs into 4-byte UTF-8 */
	assert_int_equal(hf_json_parse("\"\\u00e9\\ud83d\\ude00\\n\"", 22, t, 64), 1);
	assert_int_equal(hf_json_str("\"\\u00e9\\ud83d\\ude00\\n\"", &t[0], out, sizeof(out)), 7);
	assert_string_equal(out, "\xc3\xa9\xf0\x9f\x98\x80\n");
	assert_int_equal(hf_json_str("\"\\u00e9\\ud83d\\ude00\\n\"", &t[0], out, 7), -1);
	/* depth: HF_JSON_MAX_DEPTH containers nest, one more does not */
	memset(deep, '[', HF_JSON_MAX_DEPTH);
	memset(deep + HF_JSON_MAX_DEPTH, ']', HF_JSON_MAX_DEPTH);
	assert_int_equal(hf_json_parse(deep, 2 * HF_JSON_MAX_DEPTH, t, 64), HF_JSON_MAX_DEPTH);
	memset(deep, '[', HF_JSON_MAX_DEPTH + 1);
	memset(deep + HF_JSON_MAX_DEPTH + 1, ']', HF_JSON_MAX_DEPTH + 1);
	assert_int_equal(hf_json_parse(deep, 2 * HF_JSON_MAX_DEPTH + 2, t, 64), HF_JSON_E_DEPTH);
	/* tokens: a cap is a cap */
	assert_int_equal(hf_json_parse("[1,2,3]", 7, t, 4), 4);
	assert_int_equal(hf_json_parse("[1,2,3]", 7, t, 3), HF_JSON_E_TOKENS);
	/* find and numbers */
	{
		static const char o[] =
		        "{\"a\":{\"x\":1},\"b\":[1,2],\"c\":\"\\u0063\",\"d\":17.000}";
		uint64_t u;

		assert_true(hf_json_parse(o, strlen(o), t, 64) > 0);
		assert_int_equal(t[hf_json_find(o, t, 0, "b")].type, HF_JSON_ARRAY);
		assert_true(hf_json_str_eq(o, &t[hf_json_find(o, t, 0, "c")], "c", 1));
		assert_int_equal(hf_json_find(o, t, 0, "x"), -1);
		assert_int_equal(hf_json_u64(o, &t[hf_json_find(o, t, 0, "d")], &u), 0);
		assert_int_equal(u, 17);
	}
}

static void
test_b64url(void **state)
{
	uint8_t out[16];

	(void)state;
	assert_int_equal(hf_jwt_b64url_decode("", 0, out, sizeof(out)), 0);
	assert_int_equal(hf_jwt_b64url_decode("Zg", 2, out, sizeof(out)), 1);
	assert_int_equal(hf_jwt_b64url_decode("Zm8", 3, out, sizeof(out)), 2);
	assert_int_equal(hf_jwt_b64url_decode("Zm9v", 4, out, sizeof(out)), 3);
	assert_memory_equal(out, "foo", 3);
	assert_int_equal(hf_jwt_b64url_decode("-_-_", 4, out, sizeof(out)), 3);
	assert_memory_equal(out, "\xfb\xff\xbf", 3);
	assert_int_equal(hf_jwt_b64url_decode("Z", 1, out, sizeof(out)), -1);
	assert_int_equal(hf_jwt_b64url_decode("Zg==", 4, out, sizeof(out)), -1);
	assert_int_equal(hf_jwt_b64url_decode("Zm+v", 4, out, sizeof(out)), -1);
	assert_int_equal(hf_jwt_b64url_decode("Zm9v", 4, out, 2), -1);
}

static void
test_jwks(void **state)
{
	struct hf_jwks_key *k;
	char err[256], buf[4096], *jwk;
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	struct {
		const char *jwks;
		const char *why;
	} bad[] = {
	        {"[]", "not a JSON object"},
	        {"{\"keys\":{}}", "no \"keys\" list"},
	        {"{\"keys\":[]}", "no usable key"},
	        {"{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"}]}", "no usable key"},
	        {"{\"keys\":[{\"n\":\"AAAA\"}]}", "kty is missing"},
	        {"{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}", "n is missing"},
	        {"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AAAA\",\"y\":\"AAAA\"}]}",
	         "x and y must each be 32 bytes"},
	        {"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-192\",\"x\":\"AAAA\",\"y\":\"AAAA\"}]}",
	         "crv 'P-192'"},
	        {"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
	         "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
	         "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}",
	         "not on the curve"},
	        {"{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"HS256\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}",
	         "alg 'HS256'"},
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = hf_jwks_parse(bad[i].jwks, strlen(bad[i].jwks), &k, err, sizeof(err));

		assert_int_equal(rc, -EINVAL);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("'%s': '%s' does not say '%s'", bad[i].jwks, err, bad[i].why);
	}
	jwk = tju_jwk(small, NULL, NULL);
	snprintf(buf, sizeof(buf), "{\"keys\":[%s]}", jwk);
	assert_int_equal(hf_jwks_parse(buf, strlen(buf), &k, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2048"));
	free(jwk);
	/* "use": "enc" keys are skipped beside a good one */
	jwk = tju_jwk(ec, "e1", "ES256");
	snprintf(buf, sizeof(buf),
	         "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"enc\",\"n\":\"AQAB\","
	         "\"e\":\"AQAB\"},%s]}",
	         jwk);
	assert_int_equal(hf_jwks_parse(buf, strlen(buf), &k, err, sizeof(err)), 1);
	assert_string_equal(k[0].kid, "e1");
	assert_int_equal(k[0].alg, HF_JWT_ES256);
	hf_jwks_free(k, 1);
	free(jwk);
	EVP_PKEY_free(small);
}

/* Parses @p req (a request head) into @p msg. */
static void
parse(const char *req, struct hf_h1_message *msg)
{
	struct hf_h1_limits lim;
	struct hf_h1_scan scan = {0};

	hf_h1_limits_default(&lim);
	assert_int_equal(hf_h1_parse_request(req, strlen(req), &scan, &lim, msg), (int)strlen(req));
}

static const struct hf_h1_header *
field(const struct hf_h1_message *msg, const char *name)
{
	return hf_h1_find(msg, name);
}

static void
test_request(void **state)
{
	struct hf_jwt_loc locs[] = {
	        {.from = HF_JWT_FROM_HEADER, .name = "x-jwt", .prefix = "Token "},
	        {.from = HF_JWT_FROM_PARAM, .name = "tok", .prefix = ""},
	        {.from = HF_JWT_FROM_COOKIE, .name = "session", .prefix = ""},
	};
	struct hf_jwt_claim_hdr ch = {.header = "x-sub", .claim = "sub"};
	char *jwk = tju_jwk(ec, NULL, NULL), *jwks = tju_jwks(jwk, NULL), err[256], req[4096];
	char *tok = tju_sign(ec, "ES256", "{\"alg\":\"ES256\"}",
	                     "{\"iss\":\"" ISS "\",\"sub\":\"carol\"}");
	struct hf_jwt_rule r = {.issuer = ISS,
	                        .locs = locs,
	                        .n_locs = 3,
	                        .payload_header = "X-Payload",
	                        .claim_hdrs = &ch,
	                        .n_claim_hdrs = 1};
	struct hf_jwt_config *c, *dflt;
	const struct hf_jwt_provider *p;
	struct hf_h1_message msg;
	struct hf_jwt_found f;
	unsigned int not_added = 0, invalid = 0;

	(void)state;
	assert_int_equal(hf_jwks_parse(jwks, strlen(jwks), &r.keys, err, sizeof(err)), 1);
	r.n_keys = 1;
	c = hf_jwt_config_build(&r, 1, 60);
	hf_jwks_free(r.keys, 1);
	r.n_locs = 0;
	assert_int_equal(hf_jwks_parse(jwks, strlen(jwks), &r.keys, err, sizeof(err)), 1);
	dflt = hf_jwt_config_build(&r, 1, 60);
	hf_jwks_free(r.keys, 1);
	assert_non_null(c);
	assert_non_null(dflt);
	/* Envoy's defaults: Authorization with "Bearer " (any case), else access_token */
	snprintf(req, sizeof(req),
	         "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: bearer  %s \r\n\r\n", tok);
	parse(req, &msg);
	assert_true(hf_jwt_find(dflt, &msg, &f));
	assert_int_equal(f.len, strlen(tok));
	assert_memory_equal(f.tok, tok, f.len);
	assert_int_equal(hf_jwt_verify(dflt, f.loc, f.tok, f.len, NOW, &sc, &an, &p), HF_JWT_OK);
	/* not forwarded: the header goes; payload and claim headers come */
	hf_jwt_edit_request(p, &f, &sc, &an, &msg, &not_added, &invalid);
	assert_null(field(&msg, "authorization"));
	assert_non_null(field(&msg, "host"));
	snprintf(req, sizeof(req),
	         "GET /p?x=1&access_token=%s HTTP/1.1\r\nHost: a\r\n"
	         "Authorization: Basic Zm9v\r\n\r\n",
	         tok);
	parse(req, &msg);
	assert_true(hf_jwt_find(dflt, &msg, &f));
	assert_int_equal(f.header, -1);
	assert_memory_equal(f.tok, tok, strlen(tok));
	parse("GET /?access_token= HTTP/1.1\r\nHost: a\r\nAuthorization: Basic Zm9v\r\n\r\n", &msg);
	assert_false(hf_jwt_find(dflt, &msg, &f));
	/* the rule's own places: the default ones are not looked at */
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\n\r\n",
	         tok);
	parse(req, &msg);
	assert_false(hf_jwt_find(c, &msg, &f));
	snprintf(req, sizeof(req),
	         "GET / HTTP/1.1\r\nHost: a\r\nCookie: a=b; session=%s; c=d\r\n"
	         "X-Payload: forged\r\nX-Sub: forged\r\n\r\n",
	         tok);
	parse(req, &msg);
	assert_true(hf_jwt_find(c, &msg, &f));
	assert_int_equal(f.len, strlen(tok));
	assert_int_equal(hf_jwt_verify(c, f.loc, f.tok, f.len, NOW, &sc, &an, &p), HF_JWT_OK);
	hf_jwt_edit_request(p, &f, &sc, &an, &msg, &not_added, &invalid);
	assert_non_null(field(&msg, "cookie")); /* a cookie stays, as in Envoy */
	{
		const struct hf_h1_header *ph = field(&msg, "x-payload"),
		                          *sh = field(&msg, "x-sub");
		const char *d1 = strchr(tok, '.');

		assert_non_null(ph);
		assert_int_equal(ph->value.len, strchr(d1 + 1, '.') - d1 - 1);
		assert_memory_equal(ph->value.p, d1 + 1, ph->value.len);
		assert_non_null(sh);
		assert_int_equal(sh->value.len, 5);
		assert_memory_equal(sh->value.p, "carol", 5);
	}
	assert_int_equal(not_added, 0);
	assert_int_equal(invalid, 0);
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nX-Jwt: token %s\r\n\r\n", tok);
	parse(req, &msg);
	assert_true(hf_jwt_find(c, &msg, &f));
	assert_int_equal(f.header, 1);
	/* a token found in one rule's place whose issuer's rule looks elsewhere: unknown */
	snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: a\r\nX-Jwt: Token %s\r\n\r\n", tok);
	parse(req, &msg);
	assert_true(hf_jwt_find(c, &msg, &f));
	assert_int_equal(hf_jwt_verify(dflt, f.loc, f.tok, f.len, NOW, &sc, &an, &p),
	                 HF_JWT_UNKNOWN_ISSUER);
	/*
	 * A claim whose value no field may hold (RFC 9110 5.5: CR, LF, controls)
	 * is no header: written as one it would add fields, or a request, of
	 * the token holder's choosing to the head the upstream reads. The
	 * client's own field of that name goes all the same.
	 */
	{
		static const char *const subs[] = {"carol\\r\\nX-Injected: 1", "carol\\nx: 1",
						   "carol\\r", "a\\u0001b", "\\u007f"};

		for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
			char payload[256], *bad;
			unsigned int bad_values = 0;

			snprintf(payload, sizeof(payload), "{\"iss\":\"" ISS "\",\"sub\":\"%s\"}",
			         subs[k]);
			bad = tju_sign(ec, "ES256", "{\"alg\":\"ES256\"}", payload);
			snprintf(req, sizeof(req),
			         "GET / HTTP/1.1\r\nHost: a\r\nX-Sub: forged\r\nCookie: session=%s\r\n\r\n",
			         bad);
			parse(req, &msg);
			assert_true(hf_jwt_find(c, &msg, &f));
			assert_int_equal(hf_jwt_verify(c, f.loc, f.tok, f.len, NOW, &sc, &an, &p),
			                 HF_JWT_OK);
			not_added = 0;
			hf_jwt_edit_request(p, &f, &sc, &an, &msg, &not_added, &bad_values);
			if (field(&msg, "x-sub") != NULL)
				fail_msg("sub %s: x-sub: %.*s", subs[k],
				         (int)field(&msg, "x-sub")->value.len,
				         field(&msg, "x-sub")->value.p);
			assert_non_null(field(&msg, "x-payload"));
			assert_int_equal(bad_values, 1);
			assert_int_equal(not_added, 0);
			free(bad);
		}
	}
	hf_jwt_config_unref(c);
	hf_jwt_config_unref(dflt);
	free(jwk);
	free(jwks);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_algorithms),  cmocka_unit_test(test_time_and_audience),
	        cmocka_unit_test(test_kid_and_alg), cmocka_unit_test(test_malformed),
	        cmocka_unit_test(test_claims),      cmocka_unit_test(test_json_bounds),
	        cmocka_unit_test(test_b64url),      cmocka_unit_test(test_jwks),
	        cmocka_unit_test(test_request),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
