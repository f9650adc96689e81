#!/usr/bin/env bash
# Sets up, builds, and runs the microbenchmarks; prints a Markdown table.
# Figures are measured, never asserted: a benchmark does not fail on a time.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
BUILD=${HF_BUILD_DIR:-build}
out=$(mktemp)
h1=$(mktemp)
trap 'rm -f "$out" "$h1"' EXIT
"$BUILD/bench/bench_tcp" --benchmark_format=json > "$out" 2>/dev/null || { echo "bench_tcp failed"; exit 1; }
"$BUILD/bench/bench_h1" --benchmark_format=json --benchmark_repetitions=3 \
	--benchmark_report_aggregates_only=true > "$h1" 2>/dev/null || { echo "bench_h1 failed"; exit 1; }
/usr/bin/python3 - "$out" "$h1" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ctx = d["context"]
print(f"Hydrofoil microbenchmarks, {ctx['date']}, {ctx['num_cpus']} CPUs at {ctx['mhz_per_cpu']} MHz\n")
print("| what | cycles | ns | note |")
print("|---|---:|---:|---|")
for b in d["benchmarks"]:
    name = b["name"].split("/min_time")[0]
    name = name.replace("segment/0", "segment (software checksum)").replace("segment/1", "segment (device checksum)")
    cyc = next((v for k, v in b.items() if k.startswith("cycles_per")), 0)
    note = ""
    if "bytes_per_idle_connection" in b:
        note = f"{b['bytes_per_idle_connection']:.0f} bytes of state per idle connection"
    if "bytes_per_second" in b:
        note = f"{b['bytes_per_second'] * 8 / 1e9:.1f} Gbit/s of payload per core"
    print(f"| {name} | {cyc:.0f} | {b['real_time']:.0f} | {note} |")

h = [b for b in json.load(open(sys.argv[2]))["benchmarks"] if b["name"].endswith("_mean")]
print("\nHTTP/1.1 request-head parsers, same corpus (small GET, browser GET with cookies, POST), same run:\n")
print("| parser | ns per request | GB/s | its time / ours |")
print("|---|---:|---:|---:|")
ours = next(b for b in h if b["name"].startswith("BM_hydrofoil"))
for b in h:
    per = b["real_time"] / 3
    print(f"| {b['name'][3:-5]} | {per:.0f} | {b['bytes_per_second'] / 1e9:.2f} | "
          f"{b['real_time'] / ours['real_time']:.2f}x |")
PY

# Hot reload of an Istio directory with 100 to 10,000 routes (10% regex).
echo
echo "Istio hot reload: time from replacing the file to the first request served by the new snapshot"
echo
bench/istio/reload_bench.sh || echo "reload_bench failed"

# The same for an xDS push: a RouteConfiguration of 10,000 routes from the test management
# server to the first request served on it, under load; the agent's CPU while endpoints
# change every 100 ms.
echo
echo "xDS push: time from the management server's push to the first request served on it"
echo
bench/xds/push_bench.sh || echo "push_bench failed"

# Route matching inside a virtual host, 10 to 10,000 routes (10% regex): our
# matcher (tries for literals, Hyperscan for regexes) against a linear PCRE2
# matcher (pcre2_jit_match per route, in order), same requests, one run.
# Medians of 5 repetitions of CPU time (the machine may be shared).
rm_json=$(mktemp)
if "$BUILD/bench/bench_rmatch" --benchmark_format=json --benchmark_repetitions=5 \
	--benchmark_min_time=0.2 --benchmark_report_aggregates_only=true > "$rm_json" 2>/dev/null; then
	echo
	/usr/bin/python3 - "$rm_json" <<'PY'
import json, sys
med = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") == "median":
        med[b["run_name"]] = b
def ns(kind, n, case):
    return med[f"BM_{kind}/routes:{n}/case:{case}"]["cpu_time"]
print("Route matching, one virtual host, 10% regex routes; mixed lookups (a third hit a route in")
print("the first tenth, a third in the last tenth, a third none); build = hf_rmatch_build, cold,")
print("and again with one regex route changed while the old matcher lives (a reload):\n")
print("| routes | hyperscan ns | linear PCRE2 ns | ratio | build ms | rebuild ms, 1 route changed |")
print("|---:|---:|---:|---:|---:|---:|")
for n in (10, 100, 1000, 10000):
    h, p = ns("hyperscan", n, 3), ns("pcre2_linear", n, 3)
    bld = med[f"BM_build/routes:{n}/iterations:1/manual_time"]
    print(f"| {n:,} | {h:.0f} | {p:.0f} | {p / h:.0f}x | {bld['cold_ms']:.1f} | {bld['reload_ms']:.1f} |")
print("\n| routes | lookup | hyperscan ns | linear PCRE2 ns |")
print("|---:|---|---:|---:|")
for n in (10, 100, 1000, 10000):
    for c, what in ((0, "hits early"), (1, "hits late"), (2, "no route")):
        print(f"| {n:,} | {what} | {ns('hyperscan', n, c):.0f} | {ns('pcre2_linear', n, c):.0f} |")
PY
else
	echo "bench_rmatch failed"
fi
rm -f "$rm_json"

# Istio's metrics (issue 15): what recording one exchange costs the worker, by how many
# series the requests spread over. CPU time (the machine may be shared).
m_json=$(mktemp)
if "$BUILD/bench/bench_metrics" --benchmark_format=json > "$m_json" 2>/dev/null; then
	echo
	/usr/bin/python3 - "$m_json" <<'PY'
import json, sys
print("Istio's metrics, recorded per exchange on the worker (series probe and three histograms):\n")
print("| distinct series | cycles per exchange | CPU ns per exchange |")
print("|---:|---:|---:|")
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    n = b["name"].split("/")[1]
    print(f"| {int(n):,} | {b['cycles_per_exchange']:.0f} | {b['cpu_time'] / 64:.1f} |")
PY
else
	echo "bench_metrics failed"
fi
rm -f "$m_json"

# JWT validation per request (issue 15): one ES256 and one RS256 token through our
# parser and OpenSSL, in cycles, beside what `openssl speed` verifies per second on
# this CPU in the same run (converted to cycles at the TSC rate bench_jwt measured).
# Both sides by CPU time (openssl speed times by user CPU time): the machine may be shared.
j_json=$(mktemp)
j_speed=$(mktemp)
if "$BUILD/bench/bench_jwt" --benchmark_format=json > "$j_json" 2>/dev/null &&
	openssl speed -seconds 1 ecdsap256 rsa2048 > "$j_speed" 2>/dev/null; then
	echo
	/usr/bin/python3 - "$j_json" "$j_speed" <<'PY'
import json, re, sys
b = {x["name"].split("/")[0]: x for x in json.load(open(sys.argv[1]))["benchmarks"]}
hz = b["BM_jwt_ES256"]["tsc_hz"]
speed = {}
header = None
for line in open(sys.argv[2]):
    t = line.split()
    if "verify/s" in t:
        header = [w for w in t if w.endswith("/s")]
        continue
    m = re.search(r"(rsa 2048 bits|\(nistp256\))\s+(.*)", line)
    if m and header:
        nums = [float(w.rstrip("s")) for w in m.group(2).split()]
        rates = nums[len(nums) - len(header):]
        speed["RS256" if "rsa" in m.group(1) else "ES256"] = rates[header.index("verify/s")]
print("JWT validation per request (bench_jwt; openssl speed -seconds 1 in the same run):\n")
print("| token | our cycles per validation (CPU time) | OpenSSL allocations per validation | `openssl speed` verify, cycles (verifies/s) | ours over OpenSSL's bare verify |")
print("|---|---:|---:|---:|---:|")
for alg in ("ES256", "RS256"):
    x = b["BM_jwt_" + alg]
    ours = x["cpu_cycles_per_verify"]
    if alg in speed:
        bare = hz / speed[alg]
        print(f"| {alg} | {ours:,.0f} | {x['openssl_allocs_per_verify']:.0f} | {bare:,.0f} ({speed[alg]:,.0f}/s) | {ours / bare:.2f}x |")
    else:
        print(f"| {alg} | {ours:,.0f} | {x['openssl_allocs_per_verify']:.0f} | - | - |")
for alg in ("ES256", "RS256"):
    x = b["BM_jwt_" + alg + "_unprepared"]
    print(f"| {alg}, EVP_DigestVerifyInit per request (no per-worker context) | {x['cpu_cycles_per_verify']:,.0f} | {x['openssl_allocs_per_verify']:.0f} | | |")
p = b["BM_jwt_parse_only"]
print(f"| parsing alone (ES256 token, no signature check) | {p['cpu_cycles_per_verify']:,.0f} | {p['openssl_allocs_per_verify']:.0f} | | |")
PY
else
	echo "bench_jwt failed"
fi
rm -f "$j_json" "$j_speed"

# The kernel-bypass rows (issue 5): hf-loadgen and hydrofoil as two DPDK
# processes over net_memif, against the loadgen straight to its own server
# role. HF_BENCH_MEMIF=0 skips it. --occupy: the latency baselines run a second
# time with core 1 busy-polled as through hydrofoil, so the machine's own
# threads preempt a poller in both (issue 16), and the p99 without loop stalls.
# --overload: hydrofoil sheds past saturation (README, "Overload").
if [ "${HF_BENCH_MEMIF:-1}" != 0 ]; then
	echo
	# Open loop past saturation too (100%, 150% of the best closed-loop rate), with the
	# overload manager's queue_delay controller shedding: the rows say how many requests
	# were shed. Phase 1 three times: the cycles a request and the best rate that phase 3
	# takes its loads from are medians, steadier against a slow spell of the machine.
	# Below 100% each load three times too: one 2 s run's p99 moves by tens of µs from
	# one run to the next (the wire's own, 30-170 µs at 50% in back-to-back runs), so
	# the rows show the run whose p99 added is the median, the others' beside it.
	bench/loadgen/memif_bench.sh --occupy --overload --reps 3 --lat-reps 3 --fracs "10 50 90 100 150" ||
		echo "memif_bench failed"
fi

# What the check and the report cost per request (issue 15): Istio's metrics, 20
# AuthorizationPolicies with 100 rules, a JWT validated per request, each beside the
# plain figure of the same round, over memif. HF_BENCH_CHECK=0 skips it.
if [ "${HF_BENCH_CHECK:-1}" != 0 ]; then
	echo
	bench/proxy/check_cost.sh || echo "check_cost failed"
	# TSC cycles per request read higher when core 1 runs slower: say how fast it ran just after.
	echo "Core 1 after check_cost: $("$BUILD/bench/hf-tscprobe" --clock --cpu 1 ||
		echo not measured)"
fi

# The HTTP proxy side by side with nginx and HAProxy (wrk over the kernel path
# through net_tap), in the same invocation. HF_BENCH_PEERS=0 skips it.
if [ "${HF_BENCH_PEERS:-1}" != 0 ]; then
	echo
	bench/http/proxy_compare.sh || echo "proxy_compare failed"
fi

# TLS per worker core (issue 13): handshakes (TLS 1.3, 1.2, resumed) and bulk
# AES-128-GCM through hydrofoil over memif (hf-loadgen --tls) beside nginx with one
# worker on the same core, and the CPU's ceiling (openssl speed); then shared against
# per-thread SSL_CTX (bench_tls_ctx). HF_BENCH_TLS=0 skips it.
if [ "${HF_BENCH_TLS:-1}" != 0 ]; then
	echo
	bench/tls/tls_bench.sh || echo "tls_bench failed"
fi

# PNG plots (latency.png, throughput.png in bench/results/) of the figures the
# runs above left in bench/results/plot.dat; bench/plot.sh documents that
# format and skips, saying why, without gnuplot or without data.
echo
bench/plot.sh || echo "plot failed"
