/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the token parser: any bytes as a JWT validated
 * against a rule with a fixed P-256 key (hf_jwt_verify), as JSON
 * (hf_json_parse) with a cap of tokens from the input's first byte, and as
 * a JWKS (hf_jwks_parse). Asserted: the verdict is a known status and never
 * OK (no one forges ES256 by chance), struct hf_authn is left empty; every
 * JSON token lies inside the input, its subtree ends after it and no later
 * than its parent's, an object's members are key strings, and decoding a
 * string fits in its length times 1.5 (\u escapes only shrink, but UTF-8 of
 * a lone \uXXXX is three bytes for six); a JWKS either fails with a
 * message or yields keys that all hold an EVP_PKEY. Inputs are exact-size
 * heap blocks: ASan sees any read past them.
 * fuzzes: dataplane/proxy/json.c dataplane/proxy/jwt_token.c control-agent/jwks.c
 * fuzz-flags: $(pkg-config --cflags --libs openssl)
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/jwks.h"
#include "dataplane/proxy/json.h"
#include "dataplane/proxy/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A P-256 key (RFC 7515 A.3's example key). */
static const char jwks[] = "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"a\","
                           "\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
                           "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}]}";

static struct hf_jwt_config *cfg;
static struct hf_jwt_scratch sc;
static struct hf_authn an;

static void
check_json(const char *s, size_t n, unsigned int cap)
{
	struct hf_json_tok *t = malloc(sizeof(*t) * (cap + 1));
	char *out;
	int k = hf_json_parse(s, n, t, cap);

	if (k < 0) {
		if (k != HF_JSON_E_SYNTAX && k != HF_JSON_E_TOKENS && k != HF_JSON_E_DEPTH)
			abort();
		free(t);
		return;
	}
	if ((unsigned int)k > cap || k == 0 || t[0].next != (uint32_t)k)
		abort();
	for (int i = 0; i < k; i++) {
		if (t[i].off > n || t[i].len > n - t[i].off || t[i].next <= (uint32_t)i ||
		    t[i].next > (uint32_t)k)
			abort();
		if (t[i].type == HF_JSON_OBJECT) {
			uint32_t m = (uint32_t)i + 1;

			for (unsigned int j = 0; j < t[i].n; j++) {
				if (m >= t[i].next || t[m].type != HF_JSON_STRING)
					abort();
				m = t[m + 1].next;
			}
			if (m != t[i].next)
				abort();
		}
		if (t[i].type == HF_JSON_STRING) {
			size_t cap_out = t[i].len * 3 / 2 + 8;

			out = malloc(cap_out);
			if (hf_json_str(s, &t[i], out, cap_out) < 0)
				abort();
			free(out);
		}
	}
	free(t);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct hf_jwt_provider *p;
	struct hf_jwks_key *keys;
	char *s, err[256];
	enum hf_jwt_status st;
	int n;

	if (cfg == NULL) {
		struct hf_jwt_rule r = {.issuer = "iss"};

		n = hf_jwks_parse(jwks, sizeof(jwks) - 1, &r.keys, err, sizeof(err));
		if (n != 1)
			abort();
		r.n_keys = 1;
		cfg = hf_jwt_config_build(&r, 1, 60);
		hf_jwks_free(r.keys, 1);
		if (cfg == NULL)
			abort();
	}
	s = malloc(size + 1);
	memcpy(s, data, size);
	st = hf_jwt_verify(cfg, NULL, s, size, 1780000000, &sc, &an, &p);
	if (st == HF_JWT_OK || (unsigned int)st >= HF_JWT__MAX || an.principal_len != 0 ||
	    an.n_claims != 0)
		abort();
	check_json(s, size, size > 0 ? (unsigned int)data[0] % 64 + 1 : 1);
	check_json(s, size, 512);
	n = hf_jwks_parse(s, size, &keys, err, sizeof(err));
	if (n > 0) {
		for (int i = 0; i < n; i++)
			if (keys[i].pkey == NULL)
				abort();
		hf_jwks_free(keys, (unsigned int)n);
	} else if (n != -EINVAL && n != -ENOMEM) {
		abort();
	}
	free(s);
	return 0;
}
