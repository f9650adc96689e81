#!/usr/bin/env bash
# The demo: sets the machine up, starts hydrofoil as a gateway node in a private
# network namespace on a DPDK net_tap, and shows its own stack at work: ARP and
# ping from Linux answered by hydrofoil, TCP through its echo and tcp_proxy
# listeners to a Linux upstream, then its counters from the admin API.
# Everything it creates is removed when it ends, also on Ctrl-C.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1
source scripts/lib/netns.sh

OUR=198.51.100.2
PEER=198.51.100.1
say() { printf '\n== %s\n' "$*"; }

NS=$(hf_ns_new demo) || exit 1
hf_cfg "$HF_TMP/demo.cfg" hf0 "$OUR/24" "$PEER" '
static_resources: {
  listeners = (
    { name = "echo"; port = 7;    filter = "echo"; },
    { name = "l4";   port = 9000; filter = "tcp_proxy"; cluster = "backend"; }
  );
  clusters = ( { name = "backend"; connect_timeout_ms = 1000; endpoints = [ "198.51.100.1:9001" ]; } );
};'
say "bootstrap ($HF_TMP/demo.cfg)"
cat "$HF_TMP/demo.cfg"
if ! hf_up "$NS" "$HF_TMP/demo.cfg" "$HF_TMP/demo.log" "$PEER/24"; then
	echo "hydrofoil did not become ready"
	exit 1
fi
say "hydrofoil is up (namespace $NS, admin 127.0.0.1:15000 inside it)"
grep '^hydrofoil:' "$HF_TMP/demo.log"
echo "GET /ready -> $(hf_admin "$NS" /ready)"

say "ping from the Linux side ($PEER) to hydrofoil's own stack ($OUR)"
ip netns exec "$NS" ping -c 10 -i 0.1 "$OUR"
say "a full-MTU echo (1472 bytes of payload, 1500-byte datagram)"
ip netns exec "$NS" ping -c 3 -s 1472 -M do "$OUR" | tail -2
say "a flood of 20000 echoes"
ip netns exec "$NS" ping -f -c 20000 "$OUR" | tail -2
say "the kernel learned hydrofoil's MAC over ARP"
ip -n "$NS" neigh show dev hf0

TOOL=$HF_ROOT/tests/integration/tcp/tcptool.py
ip netns exec "$NS" "$HF_PY" "$TOOL" server 9001 >/dev/null 2>&1 &
HF_PIDS+=($!)
sleep 0.5
say "TCP: 20 MB through hydrofoil's echo listener (port 7), sha256 compared"
ip netns exec "$NS" "$HF_PY" "$TOOL" stream "$OUR" 7 20
say "TCP: 20 MB through tcp_proxy (port 9000) to a Linux upstream at $PEER:9001 and back"
ip netns exec "$NS" "$HF_PY" "$TOOL" stream "$OUR" 9000 20

say "counters (GET /stats, non-zero only)"
stats=$(hf_admin "$NS" /stats)
grep -v ': 0$' <<<"$stats" | grep -v '^worker\.'
say "worker cost, from its own TSC counters"
awk -F': ' '{ v[$1] = $2 }
	END {
		if (v["worker.idle_loops"] > 0)
			printf "idle poll loop:            %8.0f cycles/iteration\n", v["worker.idle_cycles"] / v["worker.idle_loops"]
		if (v["worker.stack_packets"] > 0)
			printf "stack, per frame (no I/O): %8.0f cycles/frame\n", v["worker.stack_cycles"] / v["worker.stack_packets"]
		if (v["worker.loops"] - v["worker.idle_loops"] > 0)
			printf "busy iteration (with tap I/O): %4.0f cycles/iteration\n", v["worker.busy_cycles"] / (v["worker.loops"] - v["worker.idle_loops"])
	}' <<<"$stats"
say "stopping (SIGTERM): hydrofoil prints its final counters and exits 0"
kill -TERM "$HF_PID"
wait "$HF_PID"
echo "exit status $?"
