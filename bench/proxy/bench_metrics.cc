// SPDX-License-Identifier: Apache-2.0
// What Istio's metrics cost a request on the worker (dataplane/metrics.c): the series
// probe and the three histograms, at one exchange's end. Arg: how many distinct series
// (destination, code, flag) the requests spread over, cycled in order, so with many the
// table no longer sits in L1. Cycles and ns per recorded exchange.
#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include "bench/bench_peer.h"

extern "C" {
#include "dataplane/metrics.h"
#include "dataplane/worker-t.h"
}

static bench_env env;
static bool ready;

static void
BM_metrics_http_done(benchmark::State &state)
{
	const uint32_t series = (uint32_t)state.range(0);
	uint64_t cycles = 0, n = 0, i = 0;

	if (!ready) {
		if (bench_env_init(&env, 1024) != 0 || hf_metrics_init(&env.w->metrics, 4096) != 0)
			abort();
		ready = true;
	}
	for (auto _ : state) {
		uint64_t t0 = __rdtsc();

		for (int k = 0; k < 64; k++, i++) {
			uint32_t s = (uint32_t)(i % series);

			// durations of 0.1 to 12.8 ms and bodies of 0 to 4 KB: several buckets
			hf_metrics_http_done(env.w, 0x9e3779b97f4a7c15ULL * (s / 8 + 1), (uint16_t)(200 + s % 8),
					     0, 100 + (i % 128) * 100, i % 4096, (i * 7) % 4096);
		}
		cycles += __rdtsc() - t0;
		n += 64;
	}
	state.counters["cycles_per_exchange"] = (double)cycles / (double)n;
	state.SetItemsProcessed((int64_t)n);
	if (env.w->cnt.v[HF_CNT_METRICS_DROP_SERIES_OVERFLOW] != 0)
		state.SkipWithError("series overflowed");
}
BENCHMARK(BM_metrics_http_done)->Arg(1)->Arg(64)->Arg(1024)->Arg(4096)->MinTime(0.5);

BENCHMARK_MAIN();
