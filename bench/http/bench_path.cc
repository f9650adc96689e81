// SPDX-License-Identifier: Apache-2.0
// What a request pays before routing for its target: the form (hf_h1_target_parse) and the
// path normalization (hf_path_normalize, Istio's default BASE) on already-normal paths, the
// fast path every ordinary request takes, against the same with NONE (no scan) and against
// paths that must be rewritten. ns per request, for bench_h1's three heads' targets and for
// longer API paths; one head parse beside them to set the scale.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "dataplane/http/h1.h"
#include "dataplane/http/path.h"
}

// The targets of bench_h1's corpus, and two longer ones a REST API and a CDN send.
static const std::vector<std::string> normal = {
	"/api/v1/ratings/0",
	"/productpage?u=normal",
	"/reviews/submit",
	"/api/v2/namespaces/default/services/reviews-v3.default.svc.cluster.local/endpoints?watch=1",
	"/static/assets/js/vendor.3f9a1c2b.chunk.min.js?v=20240101&cache=immutable",
};

// Paths the normalizer must rewrite (the slow path).
static const std::vector<std::string> changing = {
	"/public/../admin",
	"/api/v1/%7euser/%41bc",
	"/a/./b/../c?x=/../",
	"/static/assets%2Fjs/vendor.js",
};

static void
run(benchmark::State &state, const std::vector<std::string> &paths, enum hf_path_mode mode)
{
	char out[1024];

	for (auto _ : state) {
		for (const auto &p : paths) {
			struct hf_h1_slice s = {p.data(), (uint32_t)p.size()};
			struct hf_h1_target t;

			if (hf_h1_target_parse(HF_H1_M_GET, &s, &t) != HF_H1_TARGET_ORIGIN)
				state.SkipWithError("not origin-form");
			int n = hf_path_normalize(mode, t.path.p, t.path.len, out, sizeof(out));
			if (n < 0)
				state.SkipWithError("refused");
			benchmark::DoNotOptimize(n);
			benchmark::ClobberMemory();
		}
	}
	state.SetItemsProcessed(state.iterations() * (int64_t)paths.size());
}

// The form alone, without the normalization.
static void
BM_normal_form_only(benchmark::State &state)
{
	for (auto _ : state) {
		for (const auto &p : normal) {
			struct hf_h1_slice s = {p.data(), (uint32_t)p.size()};
			struct hf_h1_target t;

			benchmark::DoNotOptimize(hf_h1_target_parse(HF_H1_M_GET, &s, &t));
			benchmark::ClobberMemory();
		}
	}
	state.SetItemsProcessed(state.iterations() * (int64_t)normal.size());
}
BENCHMARK(BM_normal_form_only);

static void
BM_normal_base(benchmark::State &state)
{
	run(state, normal, HF_PATH_BASE);
}
BENCHMARK(BM_normal_base);

static void
BM_normal_merge_slashes(benchmark::State &state)
{
	run(state, normal, HF_PATH_MERGE_SLASHES);
}
BENCHMARK(BM_normal_merge_slashes);

static void
BM_normal_none(benchmark::State &state)
{
	run(state, normal, HF_PATH_NONE);
}
BENCHMARK(BM_normal_none);

static void
BM_changing_base(benchmark::State &state)
{
	run(state, changing, HF_PATH_BASE);
}
BENCHMARK(BM_changing_base);

static void
BM_changing_decode_merge(benchmark::State &state)
{
	run(state, changing, HF_PATH_DECODE_AND_MERGE_SLASHES);
}
BENCHMARK(BM_changing_decode_merge);

// The scale: the first head of bench_h1's corpus, parsed.
static void
BM_head_parse(benchmark::State &state)
{
	static const char head[] = "GET /api/v1/ratings/0 HTTP/1.1\r\nHost: ratings:9080\r\nAccept: */*\r\n\r\n";
	static struct hf_h1_message msg;
	struct hf_h1_limits lim;
	struct hf_h1_scan scan;

	hf_h1_limits_default(&lim);
	for (auto _ : state) {
		hf_h1_scan_reset(&scan);
		int rc = hf_h1_parse_request(head, sizeof(head) - 1, &scan, &lim, &msg);
		benchmark::DoNotOptimize(rc);
	}
	state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_head_parse);

BENCHMARK_MAIN();
