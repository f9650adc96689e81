// SPDX-License-Identifier: Apache-2.0
// What AuthorizationPolicy costs a request on the worker (dataplane/proxy/authz.c): one
// hf_authz_check() over a parsed request head. Arg 0: one ALLOW policy with one rule (a
// path prefix). Arg 1: issue 15's figure, 20 policies with 100 rules (5 DENY policies of 5
// rules: exact paths, methods, a header condition; 15 ALLOW policies of 5 rules: hosts,
// methods, path prefixes and templates, ipBlocks), the request allowed by the very last
// rule, so every rule before it is looked at. Arg 2: bench/proxy/check_cost.sh's 20 policies
// and the load generator's request. Cycles per check in a loop (TSC, wall: a busy machine
// inflates them), checks per CPU second, and the TSC cycles of single checks (the mean of
// their middle half) with the caches warm (median_hot), after 256 KiB of data and 96 KiB of
// code went through them (median_l2: the policies out of L1, as between two requests on a
// busy worker) and after 8 MiB (median_cold). Arg 3: Arg 2 with a worker's memo
// (hf_authz_memo, as the proxy checks): each request the same as the last, as in check_cost.sh.
// Args 4 and 5: Arg 2 without and with the memo, the path one of two in turn (the memo's
// misses), cycles in a loop only.
#include <benchmark/benchmark.h>
#include <x86intrin.h>

#include <arpa/inet.h>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" {
#include "control-agent/compile/authz_build.h"
#include "control-agent/istio/istio.h"
#include "dataplane/proxy/authz.h"
}

/* bench/proxy/check_cost.sh's: 19 DENY policies that never match, one ALLOW whose 5th rule does. */
static std::string
check_cost_policies(void)
{
	std::string y;
	char buf[1024];

	for (int i = 1; i <= 19; i++) {
		snprintf(buf, sizeof(buf), "---\napiVersion: security.istio.io/v1\n"
			 "kind: AuthorizationPolicy\nmetadata: {name: deny-%d, namespace: istio-system}\n"
			 "spec:\n  action: DENY\n  rules:\n"
			 "  - to: [{operation: {methods: [DELETE, PATCH], paths: [\"/admin-%d/*\"]}}]\n"
			 "  - to: [{operation: {paths: [\"/private-%d/{*}/secret\", \"*.bak%d\"]}}]\n"
			 "  - when: [{key: \"request.headers[x-block-%d]\", values: [\"yes\"]}]\n"
			 "  - from: [{source: {ipBlocks: [\"203.0.113.%d/32\"]}}]\n"
			 "  - to: [{operation: {hosts: [\"blocked-%d.example.com\"], ports: [\"81%d\"]}}]\n",
			 i, i, i, i, i, i, i, i);
		y += buf;
	}
	y += "---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
	     "metadata: {name: allow-bench, namespace: istio-system}\n"
	     "spec:\n  action: ALLOW\n  rules:\n"
	     "  - to: [{operation: {paths: [\"/never-a\"]}}]\n"
	     "  - to: [{operation: {paths: [\"/never-b/*\"]}}]\n"
	     "  - to: [{operation: {methods: [PUT]}}]\n"
	     "  - from: [{source: {ipBlocks: [\"192.0.2.0/24\"]}}]\n"
	     "  - to: [{operation: {methods: [GET], paths: [\"/*\"]}}]\n";
	return y;
}

static std::string
policies(int big)
{
	std::string y;
	char buf[1024];

	if (big == 2)
		return check_cost_policies();
	if (!big)
		return "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
		       "metadata: {name: one, namespace: istio-system}\n"
		       "spec:\n  rules:\n  - to:\n    - operation: {paths: [\"/v19/*\"]}\n";
	for (int p = 0; p < 20; p++) {
		bool deny = p < 5;

		snprintf(buf, sizeof(buf), "---\napiVersion: security.istio.io/v1\n"
			 "kind: AuthorizationPolicy\nmetadata: {name: p%d, namespace: istio-system}\n"
			 "spec:\n  action: %s\n  rules:\n", p, deny ? "DENY" : "ALLOW");
		y += buf;
		for (int r = 0; r < 5; r++) {
			if (deny)
				snprintf(buf, sizeof(buf),
					 "  - to:\n    - operation: {methods: [\"DELETE\", \"PUT\"], "
					 "paths: [\"/admin/%d/%d\"]}\n"
					 "    when:\n    - {key: \"request.headers[x-debug-%d]\", values: [\"on\"]}\n",
					 p, r, r);
			else
				snprintf(buf, sizeof(buf),
					 "  - from:\n    - source: {ipBlocks: [\"192.0.2.0/24\", \"198.51.100.0/24\"]}\n"
					 "    to:\n    - operation: {hosts: [\"svc%d.example.com\", \"*.s%d.example.com\"], "
					 "methods: [\"GET\", \"HEAD\"], paths: [\"/v%d/r%d/*\", \"/v%d/{*}/r%d/{**}\"]}\n",
					 p, r, p, r, p, r);
			y += buf;
		}
	}
	return y;
}

/*
 * The middle of @p n single checks, each timed alone (a preempted one lands in
 * the tail, which the middle half leaves out: the machine may be shared);
 * @p cold: each after that many bytes of other data and 96 KiB of other code
 * went through the caches, as on a worker whose packets and connections
 * pushed the policies out since the last request (256 KiB: out of L1, still
 * in L2, as between two requests of a busy worker; 8 MiB: out of L2 too).
 */
static double
median_check(const struct hf_authz *az, struct hf_authz_rq *rq, size_t cold, int n)
{
	static std::vector<uint8_t> junk(8 << 20);
	std::vector<uint64_t> t(n);
	struct hf_authz_result res;
	unsigned int aux;
	uint64_t sum = 0;

	for (int i = 0; i < n; i++) {
		if (cold) {
			for (size_t k = 0; k < cold; k += 64)
				sum += junk[k]++;
			/* 64 KiB of other code, as the rest of a request's path: L1i and the op cache */
			asm volatile(".rept 8192\n\tnopw 0(%%rax,%%rax,1)\n\tnopw 0(%%rax,%%rax,1)\n.endr" ::: "memory");
		}
		rq->remote_done = false;
		uint64_t t0 = __rdtscp(&aux);
		benchmark::DoNotOptimize(hf_authz_check(az, rq, &res));
		t[i] = __rdtscp(&aux) - t0;
	}
	benchmark::DoNotOptimize(sum);
	std::sort(t.begin(), t.end());
	/* the middle half's mean: this VM's TSC moves in steps of 21, which a median keeps */
	sum = 0;
	for (int i = n / 4; i < n - n / 4; i++)
		sum += t[i];
	return (double)sum / (double)(n - 2 * (n / 4));
}

static void
BM_authz_check(benchmark::State &state)
{
	const bool with_memo = state.range(0) == 3 || state.range(0) == 5;
	const bool alternate = state.range(0) >= 4;
	const int big = state.range(0) >= 2 ? 2 : (int)state.range(0);
	static struct hf_authz_memo memo;
	char dir[] = "/tmp/hf-bench-authz-XXXXXX", path[128], err[512];
	const char *labels[] = {"istio=ingressgateway"};
	struct hf_istio_node node = {};
	struct hf_model m;
	struct hf_authz *az;
	struct hf_authn authn = {};
	struct hf_h1_message msg;
	struct hf_h1_scan scan = {};
	struct hf_h1_limits lim;
	struct hf_authz_result res;
	uint64_t cycles = 0, n = 0;
	static const char head1[] = "GET /v19/x/r4/a/b HTTP/1.1\r\nHost: svc19.example.com\r\n"
				    "User-Agent: curl/7.88\r\nAccept: */*\r\nX-Request-Id: 1234\r\n\r\n";
	/* what hf-loadgen sends in check_cost.sh */
	static const char head2[] = "GET /bench HTTP/1.1\r\nhost: 198.51.100.2:80\r\n\r\n";
	const char *head = big == 2 ? head2 : head1;
	size_t head_len = big == 2 ? sizeof(head2) - 1 : sizeof(head1) - 1;
	std::string y = policies(big);
	FILE *f;

	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	f = fopen(path, "w");
	fputs(y.c_str(), f);
	fclose(f);
	node.labels = labels;
	node.n_labels = 1;
	if (hf_istio_load_node(dir, &node, &m, err, sizeof(err)) != 0) {
		state.SkipWithError(err);
		return;
	}
	unlink(path);
	rmdir(dir);
	az = hf_authz_compile(m.authz);
	hf_model_free(&m);
	hf_h1_limits_default(&lim);
	if (az == NULL || hf_h1_parse_request(head, head_len, &scan, &lim, &msg) <= 0)
		abort();
	struct hf_authz_rq rq = {};
	rq.msg = &msg;
	rq.path = msg.target.p;
	rq.path_len = msg.target.len;
	inet_pton(AF_INET, "198.51.100.7", &rq.src_ip);
	inet_pton(AF_INET, "198.51.100.2", &rq.dst_ip);
	rq.dst_port = 80;
	rq.authn = &authn;
	rq.memo = with_memo ? &memo : NULL;
	for (auto _ : state) {
		uint64_t t0 = __rdtsc();

		for (int k = 0; k < 64; k++) {
			rq.remote_done = false;
			if (alternate)
				rq.path = k % 2 ? "/bencx" : msg.target.p;
			benchmark::DoNotOptimize(hf_authz_check(az, &rq, &res));
		}
		cycles += __rdtsc() - t0;
		n += 64;
	}
	if (res.denied || res.allowed_by == NULL)
		state.SkipWithError("the request was not allowed by a rule");
	state.counters["cycles_per_check"] = (double)cycles / (double)n;
	if (alternate) {
		state.SetItemsProcessed((int64_t)n);
		hf_authz_free(az);
		return;
	}
	state.counters["median_hot"] = median_check(az, &rq, 0, 20001);
	state.counters["median_l2"] = median_check(az, &rq, 256 << 10, 4001);
	state.counters["median_cold"] = median_check(az, &rq, 8 << 20, 301);
	state.counters["rules"] = big ? 100 : 1;
	state.counters["terms"] = az->ix != NULL ? az->ix->n_terms : 0;
	state.SetItemsProcessed((int64_t)n);
	hf_authz_free(az);
}
BENCHMARK(BM_authz_check)->Arg(0)->Arg(1)->Arg(2)->Arg(3)->Arg(4)->Arg(5)->MinTime(0.5);

BENCHMARK_MAIN();
