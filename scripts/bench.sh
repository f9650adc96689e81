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

# The HTTP proxy side by side with nginx and HAProxy (wrk over the kernel path
# through net_tap), in the same invocation. HF_BENCH_PEERS=0 skips it.
if [ "${HF_BENCH_PEERS:-1}" != 0 ]; then
	echo
	bench/http/proxy_compare.sh || echo "proxy_compare failed"
fi
