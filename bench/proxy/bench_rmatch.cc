// SPDX-License-Identifier: Apache-2.0
// Route matching cost with 10, 100, 1,000 and 10,000 routes (10% regex, the
// rest exact and prefix paths shaped like /api/v1/users7/{id}): our matcher
// (tries for literals, Hyperscan for regexes) against a linear PCRE2 matcher
// that runs pcre2_jit_match() (patterns compiled with PCRE2_JIT_COMPLETE)
// route by route, in order, until one matches. Both take the same requests:
// paths that hit a route in the first tenth of the table, in the last tenth,
// and none; "mixed" is all three in turn. Also the build: cold (no database
// compiled yet), and again after one regex route changed while the previous
// matcher still lives (a reload).
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

extern "C" {
#include "control-agent/compile/rmatch_build.h"
#include "dataplane/proxy/rmatch.h"
}

namespace
{

const char *const kServices[] = {
        "users",    "orders", "products", "reviews", "ratings",  "cart",    "payments", "inventory",
        "shipping", "auth",   "search",   "catalog", "accounts", "billing", "notify",   "media"};
const char *const kExact[] = {"/profile", "/settings", "/42", "/list", "/status", ""};
const char *const kPrefix[] = {"/", "/admin/", "/v2/", "/files/"};

struct Route {
	hf_match_kind kind;
	std::string value;   // path, prefix or regex
	std::string example; // a path it takes
};

// Route i of a table: 1 in 10 a regex, 5 exact, 4 prefix; every route its own service.
Route
make_route(unsigned int i)
{
	std::string svc = std::string(kServices[i % 16]) + std::to_string(i / 16);
	std::string base = "/api/v" + std::to_string(1 + (i / 16) % 3) + "/" + svc;
	unsigned int k = i % 10, t = (i / 10) % 10;

	if (k == 0) {
		switch (t) {
		case 0: return {HF_MATCH_REGEX, base + "/[0-9]+", base + "/12345"};
		case 1:
			return {HF_MATCH_REGEX, base + "/[0-9]+/orders/[a-z0-9-]+",
			        base + "/42/orders/ab-9"};
		case 2:
			return {HF_MATCH_REGEX, base + "/[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}",
			        base + "/deadbeef-0123-4567"};
		case 3:
			return {HF_MATCH_REGEX, base + "/(profile|settings)/[0-9]+",
			        base + "/settings/7"};
		case 4: return {HF_MATCH_REGEX, base + "/[^/]+/history", base + "/x1/history"};
		case 5: return {HF_MATCH_REGEX, base + "/v[0-9]+/.*", base + "/v2/any/thing"};
		case 6: return {HF_MATCH_REGEX, base + "/items/[0-9]{1,6}/?", base + "/items/123/"};
		case 7:
			return {HF_MATCH_REGEX, base + "/[a-z]+\\.(json|xml)",
			        base + "/export.json"};
		// two in ten regexes with a short literal prefix: a class early, a group first
		case 8:
			return {HF_MATCH_REGEX, "/api/v[0-9]+/" + svc + "/search",
			        "/api/v7/" + svc + "/search"};
		default:
			return {HF_MATCH_REGEX, "/(static|assets)/" + svc + "/.*\\.(css|js|png)",
			        "/assets/" + svc + "/app.js"};
		}
	}
	if (k <= 5) {
		std::string p = base + kExact[t % 6];
		return {HF_MATCH_EXACT, p, p};
	}
	std::string p = base + kPrefix[t % 4];
	return {HF_MATCH_PREFIX, p, p + "page/1"};
}

std::string
pcre_quote(const std::string &s)
{
	std::string o;

	for (char c : s) {
		if (strchr("\\^$.|?*+()[]{}", c) != nullptr)
			o += '\\';
		o += c;
	}
	return o;
}

struct Request {
	std::string buf;
	hf_h1_message msg;
	uint32_t plen;
};

std::unique_ptr<Request>
make_request(const std::string &path)
{
	auto r = std::make_unique<Request>();
	hf_h1_limits lim;
	hf_h1_scan scan;

	r->buf = "GET " + path +
	         " HTTP/1.1\r\nHost: bench.example.com\r\nUser-Agent: bench\r\n"
	         "Accept: */*\r\nx-request-id: 9f5b7c1e-2a44-4c1b-8e5e-1d2f3a4b5c6d\r\n\r\n";
	hf_h1_limits_default(&lim);
	hf_h1_scan_reset(&scan);
	if (hf_h1_parse_request(r->buf.data(), r->buf.size(), &scan, &lim, &r->msg) <= 0)
		abort();
	const char *q = static_cast<const char *>(memchr(r->msg.target.p, '?', r->msg.target.len));
	r->plen = q ? (uint32_t)(q - r->msg.target.p) : r->msg.target.len;
	return r;
}

// The model routes the matcher is built from (one block each, path only).
struct Model {
	std::vector<hf_model_route> routes;
	std::vector<hf_model_route_match> matches;
	std::vector<std::string> values;

	explicit Model(const std::vector<Route> &rs)
	    : routes(rs.size()), matches(rs.size()), values(rs.size())
	{
		for (size_t i = 0; i < rs.size(); i++) {
			values[i] = rs[i].value;
			matches[i] = hf_model_route_match{};
			matches[i].uri.kind = rs[i].kind;
			matches[i].uri.value = values[i].data();
			routes[i] = hf_model_route{};
			routes[i].n_matches = 1;
			routes[i].matches = &matches[i];
		}
	}
};

struct Table {
	unsigned int n;
	std::vector<Route> routes;
	hf_rmatch *rm = nullptr;
	hs_scratch_t *scratch = nullptr;
	std::vector<pcre2_code *> pcre;
	pcre2_match_data *md = nullptr;
	std::vector<std::unique_ptr<Request>> cases[4]; // early, late, none, mixed
	std::vector<int> want[4];
};

// Every lookup set holds 48 requests; the expected route is checked once, outside the timing.
std::map<unsigned int, std::unique_ptr<Table>> tables;

int
linear(const Table &t, const hf_h1_message &msg, uint32_t plen)
{
	for (size_t i = 0; i < t.pcre.size(); i++)
		if (pcre2_jit_match(t.pcre[i], (PCRE2_SPTR)msg.target.p, plen, 0, 0, t.md,
		                    nullptr) >= 0)
			return (int)i;
	return -1;
}

Table &
table(unsigned int n)
{
	auto it = tables.find(n);
	if (it != tables.end())
		return *it->second;
	auto t = std::make_unique<Table>();
	char err[512];

	t->n = n;
	for (unsigned int i = 0; i < n; i++)
		t->routes.push_back(make_route(i));
	Model model(t->routes);
	t->rm = hf_rmatch_build(model.routes.data(), n, err, sizeof(err));
	if (t->rm == nullptr || hf_rmatch_scratch_grow(t->rm, &t->scratch) != 0) {
		fprintf(stderr, "build: %s\n", err);
		abort();
	}
	for (const Route &r : t->routes) {
		std::string p = r.kind == HF_MATCH_EXACT    ? "^" + pcre_quote(r.value) + "\\z"
		                : r.kind == HF_MATCH_PREFIX ? "^" + pcre_quote(r.value)
		                                            : "^(?:" + r.value + ")\\z";
		int ec;
		PCRE2_SIZE off;
		pcre2_code *c = pcre2_compile((PCRE2_SPTR)p.c_str(), PCRE2_ZERO_TERMINATED, 0, &ec,
		                              &off, nullptr);

		if (c == nullptr || pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) != 0)
			abort();
		t->pcre.push_back(c);
	}
	t->md = pcre2_match_data_create(4, nullptr);
	unsigned int tenth = n / 10 > 0 ? n / 10 : 1;
	const char *const none[] = {
	        "/api/v1/unknown0/123",  "/api/v4/users0/profile", "/healthz",
	        "/api/v2/orders99999/x", "/assets/none/app.css",   "/api/v1/users0x"};
	std::vector<std::string> paths[3];
	for (unsigned int k = 0; k < 48; k++) {
		unsigned int e = (k * 7) % tenth, l = n - 1 - (k * 7) % tenth;

		paths[0].push_back(t->routes[e].example);
		paths[1].push_back(t->routes[l].example);
		paths[2].push_back(none[k % 6]);
	}
	for (unsigned int k = 0; k < 48; k++) {
		for (int c = 0; c < 3; c++)
			t->cases[c].push_back(make_request(paths[c][k]));
		t->cases[3].push_back(make_request(paths[k % 3][k]));
	}
	// Both matchers must agree, and hit where the set says.
	for (int c = 0; c < 4; c++) {
		for (auto &r : t->cases[c]) {
			int a = hf_rmatch_find(t->rm, t->scratch, &r->msg, 80, "http");
			int b = linear(*t, r->msg, r->plen);

			if (a != b || (c == 2 && a != -1) || (c < 2 && a < 0)) {
				fprintf(stderr, "%u routes: %.*s → %d, linear %d\n", n,
				        (int)r->msg.target.len, r->msg.target.p, a, b);
				abort();
			}
			t->want[c].push_back(a);
		}
	}
	return *(tables[n] = std::move(t));
}

void
BM_hyperscan(benchmark::State &state)
{
	Table &t = table((unsigned int)state.range(0));
	const auto &reqs = t.cases[state.range(1)];
	size_t i = 0;

	for (auto _ : state) {
		int r = hf_rmatch_find(t.rm, t.scratch, &reqs[i]->msg, 80, "http");
		benchmark::DoNotOptimize(r);
		if (++i == reqs.size())
			i = 0;
	}
	state.SetItemsProcessed(state.iterations());
}

void
BM_pcre2_linear(benchmark::State &state)
{
	Table &t = table((unsigned int)state.range(0));
	const auto &reqs = t.cases[state.range(1)];
	size_t i = 0;

	for (auto _ : state) {
		int r = linear(t, reqs[i]->msg, reqs[i]->plen);
		benchmark::DoNotOptimize(r);
		if (++i == reqs.size())
			i = 0;
	}
	state.SetItemsProcessed(state.iterations());
}

// Cold: nothing compiled yet (no other matcher holds these databases). Reload:
// the table again with one regex route changed, the previous matcher alive.
void
BM_build(benchmark::State &state)
{
	unsigned int n = (unsigned int)state.range(0);
	std::vector<Route> rs;
	char err[512];

	for (unsigned int i = 0; i < n; i++)
		rs.push_back(make_route(i));
	Model model(rs);
	for (auto _ : state) {
		auto t0 = std::chrono::steady_clock::now();
		hf_rmatch *cold = hf_rmatch_build(model.routes.data(), n, err, sizeof(err));
		auto t1 = std::chrono::steady_clock::now();

		if (cold == nullptr)
			abort();
		std::vector<Route> changed = rs;
		changed[n / 2 / 10 * 10].value += "/?"; // a regex route: its chunk recompiles
		Model m2(changed);
		auto t2 = std::chrono::steady_clock::now();
		hf_rmatch *reload = hf_rmatch_build(m2.routes.data(), n, err, sizeof(err));
		auto t3 = std::chrono::steady_clock::now();
		struct hf_rmatch_stats st;

		if (reload == nullptr)
			abort();
		hf_rmatch_stats(reload, &st);
		state.SetIterationTime(std::chrono::duration<double>(t1 - t0).count());
		state.counters["cold_ms"] =
		        std::chrono::duration<double, std::milli>(t1 - t0).count();
		state.counters["reload_ms"] =
		        std::chrono::duration<double, std::milli>(t3 - t2).count();
		state.counters["reload_compiled"] = st.n_compiled;
		state.counters["databases"] = st.n_databases;
		state.counters["MB"] = st.bytes / 1e6;
		hf_rmatch_free(reload);
		hf_rmatch_free(cold);
	}
}

void
sizes(benchmark::internal::Benchmark *b)
{
	for (int n : {10, 100, 1000, 10000})
		for (int c : {0, 1, 2, 3})
			b->Args({n, c});
	b->ArgNames({"routes", "case"});
}

} // namespace

BENCHMARK(BM_build)
        ->Arg(10)
        ->Arg(100)
        ->Arg(1000)
        ->Arg(10000)
        ->ArgName("routes")
        ->UseManualTime()
        ->Unit(benchmark::kMillisecond)
        ->Iterations(1);
BENCHMARK(BM_hyperscan)->Apply(sizes);
BENCHMARK(BM_pcre2_linear)->Apply(sizes);

BENCHMARK_MAIN();
