// SPDX-License-Identifier: Apache-2.0
// What validating one JWT costs a worker per request (dataplane/proxy/jwt_token.c):
// split, base64url, the header and payload through our JSON reader, issuer, time and
// audience checks, the signature through OpenSSL (EVP_DigestVerify), and the claims
// flattened for authorization. ES256 and RS256 (2048-bit) tokens shaped like an IdP's
// (a dozen claims, a groups list); "parse_only" is the same ES256 token under an issuer
// no rule has, which stops before the signature: what is ours, without OpenSSL.
// The config is prepared as a snapshot's is (per-worker EVP_PKEY_CTXs made by the agent);
// "_unprepared" runs EVP_DigestVerifyInit per request instead, for comparison.
// Counters: cycles per validation (TSC, wall: preemption on a shared machine counts),
// the same from the thread's CPU time at the TSC rate (cpu_cycles_per_verify: what
// `openssl speed`, which times by CPU time, compares with), OpenSSL allocations per
// validation (counted through CRYPTO_set_mem_functions: ours are none), and the TSC
// rate, so that the script can put `openssl speed`'s verifications per second beside
// ours in cycles.
#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <time.h>

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

uint64_t
thread_ns()
{
	timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

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
run(benchmark::State &state, const char *alg, bool unknown_issuer, bool prepare = true)
{
	char *tok;
	hf_jwt_config *c = bench_jwt_setup(alg, kPayload, &tok, prepare);
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
	uint64_t cpu0 = thread_ns();
	for (auto _ : state) {
		uint64_t t0 = __rdtsc();
		hf_jwt_status st = hf_jwt_verify(c, nullptr, tok, len, 1780000000, &sc, &an, &p);

		cycles += __rdtsc() - t0;
		n++;
		benchmark::DoNotOptimize(st);
	}
	uint64_t cpu_ns = thread_ns() - cpu0;
	double hz = tsc_hz();

	state.counters["cycles_per_verify"] = (double)cycles / (double)n;
	state.counters["cpu_cycles_per_verify"] = (double)cpu_ns / (double)n * hz / 1e9;
	state.counters["openssl_allocs_per_verify"] = (double)(n_alloc - allocs) / (double)n;
	state.counters["claims"] = an.n_claims;
	state.counters["tsc_hz"] = hz;
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
BM_jwt_ES256_unprepared(benchmark::State &state)
{
	run(state, "ES256", false, false);
}

void
BM_jwt_RS256_unprepared(benchmark::State &state)
{
	run(state, "RS256", false, false);
}

void
BM_jwt_parse_only(benchmark::State &state)
{
	run(state, "ES256", true);
}

} // namespace

BENCHMARK(BM_jwt_ES256)->MinTime(1.0);
BENCHMARK(BM_jwt_RS256)->MinTime(1.0);
BENCHMARK(BM_jwt_ES256_unprepared)->MinTime(0.5);
BENCHMARK(BM_jwt_RS256_unprepared)->MinTime(0.5);
BENCHMARK(BM_jwt_parse_only)->MinTime(0.5);

BENCHMARK_MAIN();
