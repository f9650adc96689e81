// SPDX-License-Identifier: Apache-2.0
// What validating one JWT costs a worker per request (dataplane/proxy/jwt_token.c):
// split, base64url, the header and payload through our JSON reader, issuer, time and
// audience checks, the signature through OpenSSL (EVP_DigestVerify), and the claims
// flattened for authorization. ES256 and RS256 (2048-bit) tokens shaped like an IdP's
// (a dozen claims, a groups list); "parse_only" is the same ES256 token under an issuer
// no rule has, which stops before the signature: what is ours, without OpenSSL.
// Counters: cycles per validation (TSC), OpenSSL allocations per validation (counted
// through CRYPTO_set_mem_functions: ours are none), and the TSC rate, so that the
// script can put `openssl speed`'s verifications per second beside ours in cycles.
#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <openssl/crypto.h>

#include "bench/proxy/bench_jwt_keys.h"

extern "C" {
#include "control-agent/jwks.h"
#include "dataplane/proxy/jwt.h"
}

namespace
{

uint64_t n_alloc;

void *
count_malloc(size_t n, const char *, int)
{
	n_alloc++;
	return malloc(n);
}

void *
count_realloc(void *p, size_t n, const char *, int)
{
	n_alloc++;
	return realloc(p, n);
}

void
plain_free(void *p, const char *, int)
{
	free(p);
}

// Before anything of OpenSSL runs (static initialization): its allocations are counted.
const bool hooked = CRYPTO_set_mem_functions(count_malloc, count_realloc, plain_free) == 1;

const char kPayload[] =
	"{\"iss\":\"https://issuer.example\",\"sub\":\"5f3c2a1e-user-0042\",\"aud\":[\"bookstore\","
	"\"web\"],\"exp\":4102444800,\"iat\":1780000000,\"nbf\":1780000000,\"azp\":\"frontend\","
	"\"email\":\"alice@example.com\",\"email_verified\":true,\"name\":\"Alice Example\","
	"\"groups\":[\"dev\",\"ops\",\"admins\"],\"scope\":\"openid profile email\","
	"\"realm_access\":{\"roles\":[\"reader\",\"writer\"]}}";

double
tsc_hz()
{
	auto t0 = std::chrono::steady_clock::now();
	uint64_t c0 = __rdtsc();

	std::this_thread::sleep_for(std::chrono::milliseconds(100));
	uint64_t c1 = __rdtsc();
	auto t1 = std::chrono::steady_clock::now();
	return (double)(c1 - c0) / std::chrono::duration<double>(t1 - t0).count();
}

void
run(benchmark::State &state, const char *alg, bool unknown_issuer)
{
	char *tok;
	hf_jwt_config *c = bench_jwt_setup(alg, kPayload, &tok);
	static hf_jwt_scratch sc;
	static hf_authn an;
	const hf_jwt_provider *p;
	size_t len = strlen(tok);
	uint64_t cycles = 0, n = 0, allocs;
	hf_jwt_status want = unknown_issuer ? HF_JWT_UNKNOWN_ISSUER : HF_JWT_OK;

	if (!hooked)
		state.SkipWithError("CRYPTO_set_mem_functions refused: OpenSSL already allocated");
	if (unknown_issuer)
		((hf_jwt_provider *)c->providers)[0].issuer = "https://elsewhere.example";
	// one validation outside the count: the worker's EVP_MD_CTX, made once
	if (hf_jwt_verify(c, nullptr, tok, len, 1780000000, &sc, &an, &p) != want)
		state.SkipWithError("the token does not validate");
	allocs = n_alloc;
	for (auto _ : state) {
		uint64_t t0 = __rdtsc();
		hf_jwt_status st = hf_jwt_verify(c, nullptr, tok, len, 1780000000, &sc, &an, &p);

		cycles += __rdtsc() - t0;
		n++;
		benchmark::DoNotOptimize(st);
	}
	state.counters["cycles_per_verify"] = (double)cycles / (double)n;
	state.counters["openssl_allocs_per_verify"] = (double)(n_alloc - allocs) / (double)n;
	state.counters["claims"] = an.n_claims;
	state.counters["tsc_hz"] = tsc_hz();
	state.SetItemsProcessed((int64_t)n);
	if (unknown_issuer)
		((hf_jwt_provider *)c->providers)[0].issuer = "https://issuer.example";
	hf_jwt_config_unref(c);
	free(tok);
}

void
BM_jwt_ES256(benchmark::State &state)
{
	run(state, "ES256", false);
}

void
BM_jwt_RS256(benchmark::State &state)
{
	run(state, "RS256", false);
}

void
BM_jwt_parse_only(benchmark::State &state)
{
	run(state, "ES256", true);
}

} // namespace

BENCHMARK(BM_jwt_ES256)->MinTime(1.0);
BENCHMARK(BM_jwt_RS256)->MinTime(1.0);
BENCHMARK(BM_jwt_parse_only)->MinTime(0.5);

BENCHMARK_MAIN();
