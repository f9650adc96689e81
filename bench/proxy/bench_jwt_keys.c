/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For bench_jwt.cc: a key made here, its one-rule config and a token it
 * signed (the unit tests' helpers, tests/unit/jwt_util.h), from C.
 */
#include "bench/proxy/bench_jwt_keys.h"
#include "control-agent/jwks.h"
#include "tests/unit/jwt_util.h"

struct hf_jwt_config *
bench_jwt_setup(const char *alg, const char *payload, char **token, int prepare)
{
	EVP_PKEY *k = alg[0] == 'E' && alg[1] == 'S'
	                      ? tju_ec(strstr(alg, "384") ? "P-384" : "P-256")
	              : alg[0] == 'E' ? tju_ed25519()
	                              : tju_rsa();
	char *jwk = tju_jwk(k, "bench", alg), *jwks = tju_jwks(jwk, NULL), hdr[128], err[256];
	struct hf_jwt_rule r = {.issuer = "https://issuer.example"};
	struct hf_jwt_config *c;
	int n;

	n = hf_jwks_parse(jwks, strlen(jwks), &r.keys, err, sizeof(err));
	tju_need(n == 1, err);
	r.n_keys = 1;
	c = hf_jwt_config_build(&r, 1, 60);
	tju_need(c != NULL, "config");
	hf_jwks_free(r.keys, 1);
	if (prepare)
		tju_need(hf_jwt_config_prepare(c, 1) == 0, "prepare");
	snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"bench\"}", alg);
	*token = tju_sign(k, alg, hdr, payload);
	free(jwk);
	free(jwks);
	EVP_PKEY_free(k);
	return c;
}
