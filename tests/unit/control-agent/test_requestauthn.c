/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RequestAuthentication (security.istio.io v1beta1, v1) through the Istio
 * loader: which policies are this node's (selector, root and own
 * namespace), every JWTRule field into the workers' rules, keys inline and
 * from file:// URIs, a token signed here accepted by the compiled
 * snapshot; and every mistake refused with the file, the resource and the
 * field, http(s) jwksUri included (no fetch at run time).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hf_test.h"
#include "jwt_util.h"
#include "control-agent/istio/istio.h"
#include "control-agent/jwks.h"
#include "control-agent/snapshot.h"
#include "dataplane/proxy/jwt.h"
#include "dataplane/snapshot-t.h"

static const char *const node[] = {"istio=ingressgateway", "app=gw"};
static char dir[64], err[HF_ISTIO_ERR], jwks_file[128];
static EVP_PKEY *key;
static char *jwks;

static int
setup(void **state)
{
	char *jwk;
	FILE *f;

	(void)state;
	key = tju_ec("P-256");
	jwk = tju_jwk(key, "k1", "ES256");
	jwks = tju_jwks(jwk, NULL);
	free(jwk);
	snprintf(dir, sizeof(dir), "/tmp/hf_ra_XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(jwks_file, sizeof(jwks_file), "%s.jwks.json", dir);
	f = fopen(jwks_file, "w");
	if (f == NULL)
		return -1;
	fputs(jwks, f);
	fclose(f);
	return 0;
}

static int
teardown(void **state)
{
	char p[256];

	(void)state;
	snprintf(p, sizeof(p), "%s/ra.yaml", dir);
	unlink(p);
	rmdir(dir);
	unlink(jwks_file);
	EVP_PKEY_free(key);
	free(jwks);
	return 0;
}

/* Writes @p yaml as the directory's only file. */
static void
write_ra(const char *yaml)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/ra.yaml", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(yaml, f);
	fclose(f);
}

/* Writes @p yaml as the directory's only file and loads it (with mesh identity @p spiffe). */
static int
load(const char *yaml, const char *spiffe, struct hf_model *m)
{
	struct hf_istio_identity id = {.spiffe = spiffe};

	write_ra(yaml);
	return hf_istio_load_mesh(dir, node, 2, NULL, spiffe != NULL ? &id : NULL, m, err,
	                          sizeof(err));
}

/* A RequestAuthentication in @p ns with @p selector ("" none) and @p rule (a jwtRules item). */
static char *
ra(const char *api, const char *ns, const char *selector, const char *rule)
{
	char *y = malloc(16384);

	assert_non_null(y);
	snprintf(y, 16384,
	         "apiVersion: security.istio.io/%s\n"
	         "kind: RequestAuthentication\n"
	         "metadata:\n  name: jwt\n  namespace: %s\n"
	         "spec:\n%s"
	         "  jwtRules:\n%s",
	         api, ns, selector, rule);
	return y;
}

static char *
inline_rule(const char *extra)
{
	char *r = malloc(12288);

	assert_non_null(r);
	snprintf(r, 12288, "  - issuer: \"testing@secure.istio.io\"\n    jwks: '%s'\n%s", jwks,
	         extra);
	return r;
}

static void
test_inline_and_fields(void **state)
{
	char *rule = inline_rule(
	        "    audiences: [app, web]\n"
	        "    fromHeaders:\n    - name: X-Jwt-Assertion\n      prefix: \"Token \"\n"
	        "    - name: x-other\n"
	        "    fromParams: [my_token]\n"
	        "    fromCookies: [session]\n"
	        "    outputPayloadToHeader: X-Jwt-Payload\n"
	        "    forwardOriginalToken: true\n"
	        "    outputClaimToHeaders:\n    - header: x-sub\n      claim: sub\n"
	        "    timeout: 5s\n");
	char *y = ra("v1", "istio-system",
	             "  selector:\n    matchLabels:\n      istio: ingressgateway\n", rule);
	struct hf_model m = {0};
	const struct hf_jwt_provider *p;

	(void)state;
	if (load(y, NULL, &m) != 0)
		fail_msg("%s", err);
	assert_non_null(m.jwt);
	assert_int_equal(m.jwt->n_providers, 1);
	p = &m.jwt->providers[0];
	assert_string_equal(p->issuer, "testing@secure.istio.io");
	assert_int_equal(p->n_aud, 2);
	assert_string_equal(p->aud[1], "web");
	assert_int_equal(p->n_keys, 1);
	assert_string_equal(p->keys[0].kid, "k1");
	assert_int_equal(p->keys[0].alg, HF_JWT_ES256);
	assert_int_equal(p->n_locs, 4);
	assert_int_equal(p->locs[0].from, HF_JWT_FROM_HEADER);
	assert_string_equal(p->locs[0].name, "x-jwt-assertion");
	assert_string_equal(p->locs[0].prefix, "Token ");
	assert_string_equal(p->locs[1].prefix, "");
	assert_int_equal(p->locs[2].from, HF_JWT_FROM_PARAM);
	assert_string_equal(p->locs[2].name, "my_token");
	assert_int_equal(p->locs[3].from, HF_JWT_FROM_COOKIE);
	assert_true(p->forward);
	assert_string_equal(p->payload_header, "x-jwt-payload");
	assert_int_equal(p->n_claim_hdrs, 1);
	assert_string_equal(p->claim_hdrs[0].header, "x-sub");
	assert_int_equal(m.jwt->n_locs, 4);
	assert_int_equal(m.jwt->clock_skew_s, 60);
	hf_model_free(&m);
	free(y);
	free(rule);
}

static void
test_file_uri_and_snapshot(void **state)
{
	char rule[512], *y, *tok;
	struct hf_model m = {0};
	struct hf_snapshot *s;
	struct hf_jwt_scratch sc = {0};
	struct hf_authn an;
	const struct hf_jwt_provider *p;

	(void)state;
	snprintf(rule, sizeof(rule),
	         "  - issuer: \"testing@secure.istio.io\"\n"
	         "    jwksUri: file://%s\n",
	         jwks_file);
	y = ra("v1beta1", "istio-system", "", rule);
	if (load(y, NULL, &m) != 0)
		fail_msg("%s", err);
	assert_non_null(m.jwt);
	/* the defaults: Authorization: Bearer, then access_token; the token stripped */
	assert_int_equal(m.jwt->n_locs, 2);
	assert_string_equal(m.jwt->locs[0].name, "authorization");
	assert_string_equal(m.jwt->locs[0].prefix, "Bearer ");
	assert_string_equal(m.jwt->locs[1].name, "access_token");
	assert_false(m.jwt->providers[0].forward);
	s = hf_snapshot_compile(&m, 1, 1, err, sizeof(err));
	assert_non_null(s);
	hf_model_free(&m); /* the snapshot keeps its own reference */
	assert_non_null(s->jwt);
	tok = tju_sign(key, "ES256", "{\"alg\":\"ES256\",\"kid\":\"k1\"}",
	               "{\"iss\":\"testing@secure.istio.io\",\"sub\":\"testing@secure.istio.io\"}");
	assert_int_equal(
	        hf_jwt_verify(s->jwt, &s->jwt->locs[0], tok, strlen(tok), 1780000000, &sc, &an, &p),
	        HF_JWT_OK);
	assert_string_equal(an.buf + an.principal_off,
	                    "testing@secure.istio.io/testing@secure.istio.io");
	hf_snapshot_free(s);
	hf_jwt_scratch_fini(&sc);
	free(tok);
	free(y);
}

static void
test_selection(void **state)
{
	char *rule = inline_rule("");
	struct {
		const char *ns, *selector, *spiffe;
		bool applies;
	} t[] = {
	        {"istio-system", "", NULL, true},
	        {"istio-system", "  selector:\n    matchLabels:\n      app: gw\n", NULL, true},
	        {"istio-system", "  selector:\n    matchLabels:\n      app: other\n", NULL, false},
	        {"foo", "", NULL, false},
	        {"foo", "", "spiffe://cluster.local/ns/foo/sa/gw", true},
	        {"bar", "", "spiffe://cluster.local/ns/foo/sa/gw", false},
	        {"istio-system", "", "spiffe://cluster.local/ns/foo/sa/gw", true},
	        {"foo",
	         "  selector:\n    matchLabels:\n      istio: ingressgateway\n      app: gw\n",
	         "spiffe://cluster.local/ns/foo/sa/gw", true},
	};

	(void)state;
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *y = ra("v1", t[i].ns, t[i].selector, rule);
		struct hf_model m = {0};

		if (load(y, t[i].spiffe, &m) != 0)
			fail_msg("%u: %s", i, err);
		if ((m.jwt != NULL) != t[i].applies)
			fail_msg("case %u: applies %d", i, m.jwt != NULL);
		hf_model_free(&m);
		free(y);
	}
	/*
	 * The node's namespace and the mesh's root as AuthorizationPolicy and
	 * Telemetry take them: node.namespace (no identity needed), a configured
	 * root namespace instead of istio-system.
	 */
	{
		static const struct {
			const char *ns, *node_ns, *root_ns;
			bool applies;
		} n[] = {
			{"gateways", "gateways", NULL, true},
			{"foo", "gateways", NULL, false},
			{"mesh-root", "gateways", "mesh-root", true},
			{"istio-system", "gateways", "mesh-root", false},
			{"default", NULL, NULL, true},
		};

		for (unsigned int i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
			char *y = ra("v1", n[i].ns, "", rule);
			struct hf_model m = {0};
			const struct hf_istio_node nd = {.labels = node, .n_labels = 2,
							 .ns = n[i].node_ns, .root_ns = n[i].root_ns};

			write_ra(y);
			if (hf_istio_load_node(dir, &nd, &m, err, sizeof(err)) != 0)
				fail_msg("ns case %u: %s", i, err);
			if ((m.jwt != NULL) != n[i].applies)
				fail_msg("ns case %u: applies %d", i, m.jwt != NULL);
			hf_model_free(&m);
			free(y);
		}
	}
	/* two policies that apply: their rules merge, each issuer its own */
	{
		char *a = ra("v1", "istio-system", "", rule), *b, *both = malloc(40000);
		char rule2[512];
		struct hf_model m = {0};

		snprintf(rule2, sizeof(rule2),
		         "  - issuer: other\n    jwksUri: file://%s\n"
		         "    fromParams: [t]\n",
		         jwks_file);
		b = ra("v1", "istio-system", "", rule2);
		strstr(b, "name: jwt")[8] = '2'; /* name: jwt2 */
		snprintf(both, 40000, "%s---\n%s", a, b);
		if (load(both, NULL, &m) != 0)
			fail_msg("%s", err);
		assert_non_null(m.jwt);
		assert_int_equal(m.jwt->n_providers, 2);
		/* locations: the first rule's two defaults, then "t" */
		assert_int_equal(m.jwt->n_locs, 3);
		hf_model_free(&m);
		free(a);
		free(b);
		free(both);
	}
	free(rule);
}

static void
test_refused(void **state)
{
	char file_rule[512], both[12288], *r;
	struct {
		const char *api, *selector, *rule;
		const char *why;
	} t[] = {
	        {"v1", "", "  - issuer: a\n    jwksUri: https://example.com/jwks.json\n",
	         "spec.jwtRules[0].jwksUri: 'https://example.com/jwks.json': Hydrofoil fetches no "
	         "keys"},
	        {"v1", "", "  - issuer: a\n", "spec.jwtRules[0]: no jwks nor jwksUri"},
	        {"v1", "", "  - issuer: a\n    jwksUri: file://relative/jwks.json\n",
	         "absolute path"},
	        {"v1", "", "  - issuer: a\n    jwksUri: file:///nonexistent/jwks.json\n",
	         "/nonexistent/jwks.json: cannot read"},
	        {"v1", "", "  - issuer: a\n    jwks: '{\"keys\":[]}'\n",
	         "jwtRules[0].jwks: no usable key"},
	        {"v1", "", "  - issuer: a\n    jwks: 'nope'\n",
	         "jwtRules[0].jwks: not a JSON object"},
	        {"v1", "", "  - jwks: '{}'\n", "issuer"},
	        {"v1", "", "  - issuer: a\n    jwksURI: x\n",
	         "spec.jwtRules[0].jwksURI: unknown field"},
	        {"v1", "", "  - issuer: a\n    fromHeaders:\n    - prefix: x\n",
	         "fromHeaders[0].name"},
	        {"v1", "", "  - issuer: a\n    fromHeaders:\n    - name: \"bad header\"\n",
	         "fromHeaders[0].name"},
	        {"v1", "", "  - issuer: a\n    outputClaimToHeaders:\n    - header: x\n",
	         "outputClaimToHeaders[0].claim"},
	        {"v1", "  targetRef:\n    kind: Gateway\n    name: gw\n", "  - issuer: a\n",
	         "spec.targetRef: not supported yet"},
	        {"v1alpha1", "", "  - issuer: a\n", "version 'v1alpha1' of security.istio.io"},
	        {"v1", "", both, "give jwks or jwksUri, not both"},
	};

	(void)state;
	snprintf(file_rule, sizeof(file_rule), "    jwksUri: file://%s\n", jwks_file);
	r = inline_rule(file_rule);
	snprintf(both, sizeof(both), "%s", r);
	free(r);
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *y = ra(t[i].api, "istio-system", t[i].selector, t[i].rule);
		struct hf_model m = {0};

		assert_int_equal(load(y, NULL, &m), -EINVAL);
		if (strstr(err, t[i].why) == NULL || strstr(err, "ra.yaml:") == NULL)
			fail_msg("case %u: '%s' does not say '%s'", i, err, t[i].why);
		assert_null(m.jwt);
		free(y);
	}
	/* a policy that is not this node's is checked all the same */
	{
		char *y = ra("v1", "elsewhere", "", "  - issuer: a\n    jwksUri: http://x/j\n");
		struct hf_model m = {0};

		assert_int_equal(load(y, NULL, &m), -EINVAL);
		assert_non_null(strstr(err, "RequestAuthentication elsewhere/jwt"));
		free(y);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_inline_and_fields),
	        cmocka_unit_test(test_file_uri_and_snapshot),
	        cmocka_unit_test(test_selection),
	        cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
