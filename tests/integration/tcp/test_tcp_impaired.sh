#!/usr/bin/env bash
# Byte-exact under chaos: 100 MB through echo and 100 MB through tcp_proxy (to a
# Linux upstream and back), at once, with hydrofoil's port impairing every frame
# it receives and sends: 3% loss, 1% reordering, 1% duplication, 5 ms delay
# (tc netem's job; this kernel has no netem). sha256 compared, no stall allowed.
# connect_timeout_ms is 5 s (Envoy's default): with 3% loss each way a SYN or SYN-ACK is
# lost about one run in sixteen, and the SYN's first retransmission comes at 1 s (RFC 6298).
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
TOOL=$HF_ROOT/tests/integration/tcp/tcptool.py

OUR=198.51.100.2
PEER=198.51.100.1
MB=${HF_IMPAIRED_MB:-100}
NS=$(hf_ns_new tcpimp) || { hf_not_ok "create namespace"; exit 1; }
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" '
static_resources: {
  listeners = (
    { name = "echo"; port = 7;    filter = "echo"; },
    { name = "l4";   port = 9000; filter = "tcp_proxy"; cluster = "backend"; }
  );
  clusters = ( { name = "backend"; connect_timeout_ms = 5000; endpoints = [ "198.51.100.1:9001" ]; } );
};'
# The impairment goes on the port itself.
sed -i 's|mtu = 1500; } );|mtu = 1500;\n            impair = { loss = 0.03; reorder = 0.01; duplicate = 0.01; delay_us = 5000; seed = 42; }; } );|' "$HF_TMP/hf.cfg"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "impaired hydrofoil reports LIVE"
	exit 1
fi
hf_ok "impaired hydrofoil reports LIVE"
ip netns exec "$NS" "$HF_PY" "$TOOL" server 9001 >/dev/null 2>&1 &
HF_PIDS+=($!)
sleep 0.5

# Progress every 5 s, shown if a transfer fails: when it stopped, and what moved since.
( while sleep 5; do
	echo "$(date +%T) $(hf_admin "$NS" /stats | awk '$1 ~ /^(tcp|echo|tcp_proxy)\./ && $2 != "0"' |
		tr '\n' ' ')"
done ) > "$HF_TMP/progress" 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" timeout 900 "$HF_PY" "$TOOL" stream "$OUR" 7 "$MB" > "$HF_TMP/echo.json" 2>&1 &
P1=$!
ip netns exec "$NS" timeout 900 "$HF_PY" "$TOOL" stream "$OUR" 9000 "$MB" > "$HF_TMP/proxy.json" 2>&1 &
P2=$!
wait "$P1" "$P2"
field() { "$HF_PY" -c 'import json,sys; d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print(d[sys.argv[2]])' "$1" "$2" 2>/dev/null; }
hf_check "$MB MB through echo under loss/reorder/duplicate/delay: sha256 equal ($(field "$HF_TMP/echo.json" seconds) s)" \
	test "$(field "$HF_TMP/echo.json" same)" = True
hf_check "$MB MB through tcp_proxy under loss/reorder/duplicate/delay: sha256 equal ($(field "$HF_TMP/proxy.json" seconds) s)" \
	test "$(field "$HF_TMP/proxy.json" same)" = True
cat "$HF_TMP/echo.json" "$HF_TMP/proxy.json" | sed 's/^/# /'
if [ "$(field "$HF_TMP/echo.json" same)" != True ] || [ "$(field "$HF_TMP/proxy.json" same)" != True ]; then
	echo "# the counters that moved, every 5 s of the transfers:"
	sed 's/^/# /' "$HF_TMP/progress"
fi
stats=$(hf_admin "$NS" /stats)
for c in impair.rx.dropped impair.tx.dropped impair.rx.reordered impair.tx.duplicated impair.rx.delayed; do
	v=$(awk -v n="$c:" '$1 == n { print $2 }' <<<"$stats")
	hf_check "the impairment really acted: $c = $v" test "${v:-0}" -gt 0
done
# Every TCP counter that moved (a stall is read from the drops and timers that did, or did not).
awk '$1 ~ /^(tcp|echo|tcp_proxy)\./ && $2 != "0"' <<<"$stats" | sed 's/^/# /'
kill -TERM "$HF_PID"
wait "$HF_PID" 2>/dev/null
hf_check "SIGTERM stops the impaired hydrofoil with status 0" test $? -eq 0
hf_done
