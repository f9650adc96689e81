/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker's cache of verified tokens (jwt.h): what it gives back is what
 * the verification gave, and it gives nothing back for another snapshot,
 * another place in the request, another token (one byte apart), past the
 * token's exp and the clock skew, or for a token too long to keep; it stays
 * within its slots and says when it let a token go.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "hf_test.h"
#include "dataplane/proxy/jwt.h"

/* Envoy's default clock skew, as the agent configures it */
#define SKEW 60

static struct hf_jwt_cache cache;
static struct hf_jwt_scratch sc;
static struct hf_authn an, got;
/* stand-ins: the cache only compares and returns these pointers */
static const struct hf_jwt_config *const cfg = (const struct hf_jwt_config *)&cache;
static const struct hf_jwt_loc *const loc_a = (const struct hf_jwt_loc *)&sc;
static const struct hf_jwt_loc *const loc_b = (const struct hf_jwt_loc *)&an;
static const struct hf_jwt_provider *const prov = (const struct hf_jwt_provider *)&got;

/* A token "h.<payload>.<sig>" in @p buf, its payload section in sc as a verification leaves it. */
static size_t
token(char *buf, size_t cap, unsigned int i, uint64_t exp)
{
	int n = snprintf(buf, cap, "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLSV1In0.sig-%08x-%u", i * 2654435761u, i);
	const char *d1 = strchr(buf, '.'), *d2 = strchr(d1 + 1, '.');

	sc.payload_b64 = d1 + 1;
	sc.payload_b64_len = (size_t)(d2 - d1 - 1);
	sc.exp = exp;
	return (size_t)n;
}

static void
fill_authn(const char *principal)
{
	memset(&an, 0, sizeof(an));
	an.principal_len = (uint16_t)strlen(principal);
	memcpy(an.buf, principal, an.principal_len + 1u);
	an.used = (uint16_t)(an.principal_len + 1u);
	an.n_claims = 1;
	an.claims[0].name_off = an.used;
	an.claims[0].name_len = 3;
	memcpy(an.buf + an.used, "aud\0bench", 10);
	an.claims[0].val_off = (uint16_t)(an.used + 4u);
	an.claims[0].val_len = 5;
	an.used = (uint16_t)(an.used + 10u);
}

static void
test_hit_and_misses(void **state)
{
	char tok[256], other[256];
	size_t n;
	const char *payload;

	(void)state;
	memset(&cache, 0, sizeof(cache));
	fill_authn("bench@hydrofoil/loadgen");
	n = token(tok, sizeof(tok), 1, 1000);
	payload = sc.payload_b64;
	assert_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n, 10, &got, &sc));
	assert_false(hf_jwt_cache_put(&cache, 7, cfg, loc_a, tok, n, prov, &an, &sc, SKEW));
	/* the same token, found again: what the verification filled, the payload in this request */
	memset(&got, 0, sizeof(got));
	sc.payload_b64 = NULL;
	assert_ptr_equal(hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n, 999, &got, &sc), prov);
	assert_int_equal(got.principal_len, an.principal_len);
	assert_string_equal(got.buf + got.principal_off, "bench@hydrofoil/loadgen");
	assert_int_equal(got.n_claims, 1);
	assert_string_equal(got.buf + got.claims[0].val_off, "bench");
	assert_ptr_equal(sc.payload_b64, payload);
	/* another snapshot (a JWKS change among others), another place, another token */
	assert_null(hf_jwt_cache_get(&cache, 8, cfg, loc_a, tok, n, 10, &got, &sc));
	assert_null(hf_jwt_cache_get(&cache, 7, cfg, loc_b, tok, n, 10, &got, &sc));
	memcpy(other, tok, n);
	other[n - 1] ^= 1;
	assert_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, other, n, 10, &got, &sc));
	assert_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n - 1, 10, &got, &sc));
	/*
	 * exp is checked on every hit, with the skew the full check gives it
	 * (expired once exp + skew < now): good up to 1060, never after
	 */
	assert_non_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n, 1000, &got, &sc));
	assert_non_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n, 1000 + SKEW, &got, &sc));
	assert_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n, 1000 + SKEW + 1, &got, &sc));
	assert_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n, 5000, &got, &sc));
	/* without skew, the last good second is exp itself */
	assert_false(hf_jwt_cache_put(&cache, 7, cfg, loc_a, tok, n, prov, &an, &sc, 0));
	assert_non_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n, 1000, &got, &sc));
	assert_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n, 1001, &got, &sc));
	/* a token without exp stays good (until the snapshot changes) */
	n = token(tok, sizeof(tok), 2, UINT64_MAX);
	hf_jwt_cache_put(&cache, 7, cfg, loc_a, tok, n, prov, &an, &sc, SKEW);
	assert_non_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n, UINT64_MAX - 1, &got, &sc));
}

static void
test_bounds(void **state)
{
	static char big[HF_JWT_CACHE_TOKEN + 64];
	char tok[256];
	unsigned int evicted = 0, hits = 0;
	size_t n;

	(void)state;
	memset(&cache, 0, sizeof(cache));
	fill_authn("iss/sub");
	/* too long to keep: not kept, never found */
	memset(big, 'a', sizeof(big));
	n = token(tok, sizeof(tok), 3, 1000);
	memcpy(big, tok, n);
	sc.payload_b64 = big + (sc.payload_b64 - tok);
	assert_false(hf_jwt_cache_put(&cache, 7, cfg, loc_a, big, sizeof(big), prov, &an, &sc, SKEW));
	assert_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, big, sizeof(big), 10, &got, &sc));
	/* 100 tokens through 8 slots: at least 92 let go, each counted; the last one is there */
	for (unsigned int i = 0; i < 100; i++) {
		n = token(tok, sizeof(tok), 100 + i, 1000);
		evicted += hf_jwt_cache_put(&cache, 7, cfg, loc_a, tok, n, prov, &an, &sc, SKEW);
	}
	assert_true(evicted >= 100 - HF_JWT_CACHE_SLOTS);
	assert_non_null(hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n, 10, &got, &sc));
	for (unsigned int i = 0; i < 100; i++) {
		n = token(tok, sizeof(tok), 100 + i, 1000);
		hits += hf_jwt_cache_get(&cache, 7, cfg, loc_a, tok, n, 10, &got, &sc) != NULL;
	}
	assert_true(hits >= 1 && hits <= HF_JWT_CACHE_SLOTS);
	/* the same token again takes its own slot back: no eviction */
	assert_false(hf_jwt_cache_put(&cache, 7, cfg, loc_a, tok, n, prov, &an, &sc, SKEW));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_misses),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
