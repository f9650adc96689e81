#!/usr/bin/env bash
# xDS pushes under load: hydrofoil fed by the test management server
# (tests/xds/server.js, state of the world) with a RouteConfiguration of N
# routes (10% regex) in one virtual host, and endpoints by EDS.
#   1. push → served: the catch-all route moves to the other cluster; a
#      keep-alive client measures from the server's push of the
#      RouteConfiguration to the first answer of the new one (median of
#      HF_PUSH_REPEAT, 5), counting failed requests, while wrk adds load
#      (hydrofoil writes an access log: the agent's CPU per change includes
#      draining it), and the agent thread's CPU time per change.
#   2. steady state: the server changes the endpoints every 100 ms for
#      HF_PUSH_CHURN_S (10) seconds under wrk; the agent's CPU (its thread's
#      utime + stime in /proc) over that time, against the same time idle.
# Prints Markdown tables; figures are measured, never asserted (failed
# requests are reported, not checked). Needs root, the built daemon and
# tests/xds/node_modules (scripts/setup.sh).
set -uo pipefail
# shellcheck source=../../scripts/lib/netns.sh
source "$(dirname "$0")/../../scripts/lib/netns.sh"
# shellcheck source=../../tests/integration/xds/xds_lib.sh
source "$HF_ROOT/tests/integration/xds/xds_lib.sh"
PY=$HF_ROOT/bench/xds/push_bench.py
N=${HF_PUSH_ROUTES:-10000}
REPEAT=${HF_PUSH_REPEAT:-5}
CHURN_S=${HF_PUSH_CHURN_S:-10}

# The server re-reads its directory every 50 ms here, so a change every 100 ms is pushed as made.
XDS_SERVER_ARGS=(--poll-ms 50)

# The agent is the EAL main lcore: the process's first thread. utime + stime, in clock ticks.
agent_ticks() { awk '{ print $14 + $15 }' "/proc/$HF_PID/task/$HF_PID/stat"; }
now_ms() { date +%s%3N; }
# wrk_summary FILE: "requests non-2xx socket-errors" of a wrk run
wrk_summary() {
	local r x s
	r=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$1")
	x=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$1")
	s=$(sed -n 's/^ *Socket errors: *//p' "$1")
	echo "${r:-0} ${x:-0} ${s:-none}"
}

xds_setup pushbench "" > "$HF_TMP/setup.out" 2>&1 || { cat "$HF_TMP/setup.out"; exit 1; }
endpoints web 9101
endpoints web-b 9102
clusters "$(eds_cluster web)" "$(eds_cluster web-b)"
listeners "$(http_listener 80)"
"$PY" routes "$XDS" "$N" web
served() { [ "$(get "http://$OUR/nothing/else/matches")" = A ]; }
if ! wait_for 60 served; then
	echo "hydrofoil did not serve the first RouteConfiguration of $N routes"
	tail -5 "$LOG"
	exit 1
fi

# ---------------------------------------------------------------- 1. push → served
ip netns exec "$NS" wrk -t1 -c4 -d600s --timeout 5s "http://$OUR/p/1/" > "$HF_TMP/wrk1.out" 2>&1 &
WRK=$!
HF_PIDS+=("$WRK")
sleep 0.5
out=$(ip netns exec "$NS" timeout 300 "$PY" swap "$OUR" "$XDS" "$SLOG" "$N" "$REPEAT" "$HF_PID")
kill -INT "$WRK"
wait "$WRK" 2>/dev/null
hf_forget_pid "$WRK"
read -r w1_req w1_bad w1_sock <<<"$(wrk_summary "$HF_TMP/wrk1.out")"

# ---------------------------------------------------------------- 2. steady state
hz=$(getconf CLK_TCK)
sleep 1
t0=$(now_ms) c0=$(agent_ticks)
sleep "$CHURN_S"
idle_pct=$(awk -v c="$(($(agent_ticks) - c0))" -v ms="$(($(now_ms) - t0))" -v hz="$hz" \
	'BEGIN { printf "%.1f", 100 * c / hz / (ms / 1000) }')
eds0=$(ev send | grep -cF '"type":"ClusterLoadAssignment"')
ip netns exec "$NS" wrk -t1 -c4 -d$((CHURN_S + 1))s --timeout 5s "http://$OUR/p/1/" > "$HF_TMP/wrk2.out" 2>&1 &
WRK=$!
HF_PIDS+=("$WRK")
sleep 0.5
t0=$(now_ms) c0=$(agent_ticks)
for i in $(seq $((CHURN_S * 10))); do
	endpoints web $((9101 + i % 2))
	sleep 0.1
done
c1=$(agent_ticks) t1=$(now_ms)
wait "$WRK" 2>/dev/null
hf_forget_pid "$WRK"
churn_pct=$(awk -v c="$((c1 - c0))" -v ms="$((t1 - t0))" -v hz="$hz" \
	'BEGIN { printf "%.1f", 100 * c / hz / (ms / 1000) }')
pushes=$(($(ev send | grep -cF '"type":"ClusterLoadAssignment"') - eds0))
read -r w2_req w2_bad w2_sock <<<"$(wrk_summary "$HF_TMP/wrk2.out")"

/usr/bin/python3 - "$out" "$N" "$w1_req" "$w1_bad" "$w1_sock" <<'PY'
import json, sys
out, n, req, bad, sock = sys.argv[1:]
try:
    d = json.loads(out)
except ValueError:
    d = {"error": out or "no output"}
print("| xDS push | routes (10% regex) | push → first answer of the new RouteConfiguration (median) | agent CPU per change | failed requests (client; wrk -c4) |")
print("|---|---:|---:|---:|---:|")
if "error" in d:
    print(f"| RDS, state of the world | {n} | {d['error']} | | |")
else:
    print(f"| RDS, state of the world | {n} | {d['push_ms']} ms ({min(d['all_ms'])}–{max(d['all_ms'])}) | "
          f"{d['agent_cpu_ms']} ms | {d['failed']} of {d['requests']}; non-2xx {bad} of {req}, socket errors {sock} |")
PY
echo
echo "| agent thread CPU, $N routes loaded | endpoint pushes | CPU | failed requests (wrk -c4) |"
echo "|---|---:|---:|---:|"
echo "| idle, ${CHURN_S} s | 0 | ${idle_pct}% | |"
echo "| endpoints changed every 100 ms, ${CHURN_S} s | $pushes | ${churn_pct}% | non-2xx $w2_bad of $w2_req, socket errors $w2_sock |"
