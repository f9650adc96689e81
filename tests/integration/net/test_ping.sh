#!/usr/bin/env bash
# The foundation end to end: hydrofoil on a net_tap in a private namespace
# answers ARP and ping from the Linux stack, byte-exact up to the MTU, counts
# every malformed frame under its own drop counter, and still answers after.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

OUR=198.51.100.2
PEER=198.51.100.1
NS=$(hf_ns_new ping) || { hf_not_ok "create namespace"; exit 1; }
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil reports LIVE on /ready"
	exit 1
fi
hf_ok "hydrofoil reports LIVE on /ready"
OUR_MAC=$(sed -n 's/.*port p0 up as \([0-9A-Fa-f:]*\).*/\1/p' "$HF_TMP/hf.log" | tr 'A-F' 'a-f')

out=$(ip netns exec "$NS" ping -c 20 -i 0.05 -W 1 "$OUR" 2>&1)
hf_check "ping -c 20 -i 0.05 gets 20/20 replies" grep -q "20 packets transmitted, 20 received" <<<"$out"

out=$(ip netns exec "$NS" ping -c 3 -s 1472 -M do -p a55a0ff0 -W 1 "$OUR" 2>&1)
hf_check "1472-byte payload (1500-byte datagram) answered 3/3" \
	grep -q "3 packets transmitted, 3 received" <<<"$out"
hf_check "1472-byte replies carry the payload unchanged" bash -c '! grep -qi "wrong data" <<<"$1"' _ "$out"

# Byte-exact with a random payload, checked by scapy on the reply itself.
out=$(ip netns exec "$NS" "$HF_PY" - "$OUR" <<'PY' 2>&1
import os, sys
from scapy.all import ICMP, IP, Raw, sr1
for size in (0, 1, 64, 1000, 1472):
    payload = os.urandom(size)
    r = sr1(IP(dst=sys.argv[1]) / ICMP(id=0x4846, seq=size) / Raw(payload), timeout=2, verbose=False)
    ok = r is not None and r[ICMP].type == 0 and bytes(r[ICMP].payload) == payload \
        and r[ICMP].id == 0x4846 and r[ICMP].seq == size
    print(f"{size}:{'same' if ok else 'DIFFERENT'}")
PY
)
hf_check "echo replies byte-exact for 0/1/64/1000/1472-byte random payloads" \
	bash -c '[ "$(grep -c ":same" <<<"$1")" -eq 5 ]' _ "$out"

neigh=$(ip -n "$NS" neigh show "$OUR" dev hf0)
hf_check "kernel neighbour table holds our MAC ($OUR_MAC)" grep -qi "lladdr $OUR_MAC" <<<"$neigh"
garp=$(hf_stat "$NS" arp.tx_gratuitous)
hf_check "a gratuitous ARP went out when the link came up (arp.tx_gratuitous: $garp)" \
	test "${garp:-0}" -ge 1

ip netns exec "$NS" "$HF_PY" "$HF_ROOT/tests/integration/net/malformed.py" hf0 "$OUR_MAC" "$OUR" "$PEER" \
	> "$HF_TMP/malformed.out" 2>&1
while IFS= read -r line; do
	case "$line" in
	"ok - "*) hf_ok "malformed: ${line#ok - }" ;;
	"not ok - "*) hf_not_ok "malformed: ${line#not ok - }" ;;
	*) echo "# $line" ;;
	esac
done < "$HF_TMP/malformed.out"
grep -q "^ok - \|^not ok - " "$HF_TMP/malformed.out" || hf_not_ok "malformed.py ran"

out=$(ip netns exec "$NS" ping -c 5 -i 0.05 -W 1 "$OUR" 2>&1)
hf_check "ping still answers after the malformed burst" grep -q "5 packets transmitted, 5 received" <<<"$out"

kill -TERM "$HF_PID"
for _ in $(seq 50); do kill -0 "$HF_PID" 2>/dev/null || break; sleep 0.1; done
wait "$HF_PID" 2>/dev/null
rc=$?
hf_check "SIGTERM stops hydrofoil with status 0 (got $rc)" test "$rc" -eq 0
hf_check "final counters printed on exit" grep -q "icmp.tx_echo_reply: " "$HF_TMP/hf.log"
hf_done
