// SPDX-License-Identifier: Apache-2.0
// Our HTTP/1.1 request-head parser against picohttpparser (Debian's libh2o
// exports it), http-parser (libhttp-parser) and llhttp (compiled from the C
// sources Debian's node-llhttp installs, with our flags), on one corpus, in
// one run: ns per request and GB/s. Each parser reads the whole head and
// finds every header; none copies.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include "dataplane/http/h1.h"

int bench_llhttp_parse(const char *buf, size_t len);
int bench_http_parser_parse(const char *buf, size_t len);

// picohttpparser's public API (libh2o ships the library, not the header).
struct phr_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len,
		      const char **path, size_t *path_len, int *minor_version,
		      struct phr_header *headers, size_t *num_headers, size_t last_len);
}

static const std::vector<std::string> corpus = {
	// a small API GET
	"GET /api/v1/ratings/0 HTTP/1.1\r\nHost: ratings:9080\r\nAccept: */*\r\n\r\n",
	// a browser GET with cookies
	"GET /productpage?u=normal HTTP/1.1\r\nHost: bookinfo.example.com\r\n"
	"Connection: keep-alive\r\nCache-Control: max-age=0\r\nUpgrade-Insecure-Requests: 1\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
	"Chrome/120.0.0.0 Safari/537.36\r\n"
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
	"Accept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9,de;q=0.8\r\n"
	"Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; _ga=GA1.2.1234567890.1700000000; "
	"_gid=GA1.2.987654321.1700000000; consent=yes\r\n\r\n",
	// a POST with the headers a mesh adds
	"POST /reviews/submit HTTP/1.1\r\nHost: reviews.default.svc.cluster.local:9080\r\n"
	"Content-Type: application/json\r\nContent-Length: 128\r\nx-request-id: 9f5b7c1e-2a44-4c1b-8e5e-1d2f3a4b5c6d\r\n"
	"x-b3-traceid: 80f198ee56343ba864fe8b2a57d3eff7\r\nx-b3-spanid: e457b5a2e4d86bd1\r\n"
	"x-b3-sampled: 1\r\nx-forwarded-proto: http\r\nx-envoy-attempt-count: 1\r\n"
	"user-agent: curl/7.88.1\r\naccept: */*\r\n\r\n",
};

static size_t
corpus_bytes()
{
	size_t n = 0;
	for (const auto &r : corpus)
		n += r.size();
	return n;
}

static void
report(benchmark::State &state)
{
	state.SetItemsProcessed(state.iterations() * (int64_t)corpus.size());
	state.SetBytesProcessed(state.iterations() * (int64_t)corpus_bytes());
}

static void
BM_hydrofoil_h1(benchmark::State &state)
{
	static struct hf_h1_message msg;
	struct hf_h1_limits lim;
	struct hf_h1_scan scan;

	hf_h1_limits_default(&lim);
	for (auto _ : state) {
		for (const auto &r : corpus) {
			hf_h1_scan_reset(&scan);
			int rc = hf_h1_parse_request(r.data(), r.size(), &scan, &lim, &msg);
			if (rc <= 0)
				state.SkipWithError("hydrofoil refused the corpus");
			benchmark::DoNotOptimize(msg.n_headers);
		}
	}
	report(state);
}
BENCHMARK(BM_hydrofoil_h1);

static void
BM_picohttpparser(benchmark::State &state)
{
	struct phr_header headers[100];

	for (auto _ : state) {
		for (const auto &r : corpus) {
			const char *method, *path;
			size_t method_len, path_len, n = 100;
			int minor;
			int rc = phr_parse_request(r.data(), r.size(), &method, &method_len, &path,
						   &path_len, &minor, headers, &n, 0);
			if (rc <= 0)
				state.SkipWithError("picohttpparser refused the corpus");
			benchmark::DoNotOptimize(n);
		}
	}
	report(state);
}
BENCHMARK(BM_picohttpparser);

static void
BM_http_parser(benchmark::State &state)
{
	for (auto _ : state) {
		for (const auto &r : corpus) {
			int n = bench_http_parser_parse(r.data(), r.size());
			if (n <= 0)
				state.SkipWithError("http-parser refused the corpus");
			benchmark::DoNotOptimize(n);
		}
	}
	report(state);
}
BENCHMARK(BM_http_parser);

static void
BM_llhttp(benchmark::State &state)
{
	for (auto _ : state) {
		for (const auto &r : corpus) {
			int n = bench_llhttp_parse(r.data(), r.size());
			if (n <= 0)
				state.SkipWithError("llhttp refused the corpus");
			benchmark::DoNotOptimize(n);
		}
	}
	report(state);
}
BENCHMARK(BM_llhttp);

BENCHMARK_MAIN();
