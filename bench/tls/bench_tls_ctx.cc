// SPDX-License-Identifier: Apache-2.0
// OpenSSL 3's locks under one shared SSL_CTX against one context per thread
// (issue 13; README, "Where contexts are made"): N threads each run full
// in-memory handshakes (client and server in the same thread, over a BIO
// pair: no network, no kernel) with
//   shared         one server SSL_CTX for every thread (default library context)
//   per_thread     a server SSL_CTX per thread (default library context)
//   per_thread_lib a server SSL_CTX per thread in the thread's own OSSL_LIB_CTX:
//                  Hydrofoil's workers' layout
// The client's SSL_CTX is per thread in every mode (in the thread's library
// context in the last), so what differs is the server side alone.
//
// Figures: handshakes_per_s, all threads together over wall-clock time, and
// cpu_us_per_handshake, the threads' own CPU time per handshake (client and
// server halves). Lock contention shows as the first failing to double with
// two threads while the second holds (OpenSSL's rwlocks sleep when
// contended) or as the second growing (a contended line bouncing). On a
// machine with other tenants the two-thread wall-clock figure also measures
// them: compare CPU per handshake first.
#include <benchmark/benchmark.h>

#include <cstdlib>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "bench/tls/bench_tls_ctx.h"

namespace {

enum Mode { kShared = 0, kPerThread = 1, kPerThreadLib = 2 };

void
BM_tls_handshake(benchmark::State &state)
{
	const Mode mode = static_cast<Mode>(state.range(0));
	const uint16_t v = state.range(1) == 13 ? 0x0304 : 0x0303;
	OSSL_LIB_CTX *lib = nullptr;
	SSL_CTX *server = nullptr, *client = nullptr;
	uint64_t n = 0, failed = 0, cpu0;

	if (bench_tls_cert_init() != 0) {
		state.SkipWithError("no certificate");
		return;
	}
	if (mode == kPerThreadLib)
		lib = OSSL_LIB_CTX_new();
	server = mode == kShared ? bench_tls_shared_server_ctx(v) : bench_tls_server_ctx(lib, v);
	client = bench_tls_client_ctx(lib, v);
	if (server == nullptr || client == nullptr) {
		state.SkipWithError("no SSL_CTX");
	} else {
		// One handshake before the clock: first-use fetches and caches are not the steady cost.
		bench_tls_handshake(server, client);
		cpu0 = bench_tls_thread_cpu_ns();
		for (auto _ : state) {
			if (bench_tls_handshake(server, client) != 0)
				failed++;
			n++;
		}
		const double cpu_us = (double)(bench_tls_thread_cpu_ns() - cpu0) / 1e3;
		state.counters["handshakes_per_s"] =
			benchmark::Counter((double)n, benchmark::Counter::kIsRate);
		state.counters["cpu_us_per_handshake"] = benchmark::Counter(
			n > 0 ? cpu_us / (double)n : 0, benchmark::Counter::kAvgThreads);
		state.counters["failed"] = benchmark::Counter((double)failed);
	}
	SSL_CTX_free(client);
	if (mode != kShared)
		SSL_CTX_free(server);
	OSSL_LIB_CTX_free(lib);
}

void
args(benchmark::internal::Benchmark *b)
{
	b->ArgNames({"mode", "tls"});
	for (int v : {13, 12})
		for (int m : {kShared, kPerThread, kPerThreadLib})
			b->Args({m, v});
}

} // namespace

BENCHMARK(BM_tls_handshake)->Apply(args)->Threads(1)->Threads(2)->UseRealTime()->MinTime(0.5);

BENCHMARK_MAIN();
