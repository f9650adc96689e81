#!/usr/bin/env bash
# The TCP stack against Linux TCP, end to end over net_tap in a private namespace:
# byte-exact bulk transfer through echo and tcp_proxy, connection limits and
# leaks, refused and unanswered upstreams, half-close both ways, hostile segments,
# and a SYN flood with SYN cookies. Real peers only: Python's stdlib sockets,
# scapy and hping3 on the kernel side.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
TOOL=$HF_ROOT/tests/integration/tcp/tcptool.py

OUR=198.51.100.2
PEER=198.51.100.1
NS=$(hf_ns_new tcp) || { hf_not_ok "create namespace"; exit 1; }
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" '
tcp: { max_connections = 32768; syn_backlog = 256; };
static_resources: {
  listeners = (
    { name = "echo";      port = 7;    filter = "echo"; },
    { name = "discard";   port = 9;    filter = "discard"; },
    { name = "l4";        port = 9000; filter = "tcp_proxy"; cluster = "backend"; },
    { name = "refused";   port = 9002; filter = "tcp_proxy"; cluster = "closed_port"; },
    { name = "blackhole"; port = 9004; filter = "tcp_proxy"; cluster = "nobody"; },
    { name = "halfclose"; port = 9006; filter = "tcp_proxy"; cluster = "closer"; }
  );
  clusters = (
    { name = "backend";     connect_timeout_ms = 1000; endpoints = [ "198.51.100.1:9001" ]; },
    { name = "closed_port"; connect_timeout_ms = 1000; endpoints = [ "198.51.100.1:9003" ]; },
    { name = "nobody";      connect_timeout_ms = 500;  endpoints = [ "198.51.100.77:9005" ]; },
    { name = "closer";      connect_timeout_ms = 1000; endpoints = [ "198.51.100.1:9007" ]; }
  );
};'
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with TCP listeners reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with TCP listeners reports LIVE"

# Upstreams on the Linux side.
ip netns exec "$NS" "$HF_PY" "$TOOL" server 9001 >/dev/null 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" "$HF_PY" "$TOOL" serverclose 9007 >/dev/null 2>&1 &
HF_PIDS+=($!)
sleep 0.5
run() { ip netns exec "$NS" timeout "$1" "$HF_PY" "$TOOL" "${@:2}" 2>&1; }
json() { "$HF_PY" -c 'import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d'"$1"')' 2>/dev/null; }
st() { hf_stat "$NS" "$1"; }

idle_mbufs=$(st port.p0.mbufs_free)

out=$(run 180 stream "$OUR" 7 100)
hf_check "100 MB through echo, sha256 equal ($(json "['mbit_s']" <<<"$out") Mbit/s)" \
	test "$(json "['same']" <<<"$out")" = True
out=$(run 180 stream "$OUR" 9000 100)
hf_check "100 MB through tcp_proxy and back from a Linux upstream, sha256 equal ($(json "['mbit_s']" <<<"$out") Mbit/s)" \
	test "$(json "['same']" <<<"$out")" = True
out=$(run 30 stream "$OUR" 9 1)
got=$(json "['received']" <<<"$out"); dbytes=$(st discard.bytes)
hf_check "discard takes 1 MB, answers nothing and closes cleanly ($dbytes bytes, $got back)" \
	test "$dbytes" -ge 1000000 -a "$got" = 0

out=$(run 15 connect "$OUR" 4444)
hf_check "connect to a closed port is refused with RST ($out)" grep -q '^refused' <<<"$out"
out=$(run 15 connect "$OUR" 9002)
hf_check "upstream refuses: the downstream is reset ($out)" grep -q '^reset' <<<"$out"
out=$(run 15 connect "$OUR" 9004)
secs=$(awk '{print $2}' <<<"$out")
hf_check "upstream never answers: downstream reset after connect_timeout_ms=500 ($out)" \
	bash -c '[[ "$1" == reset* ]] && awk -v s="$2" "BEGIN { exit !(s >= 0.4 && s < 3) }"' _ "$out" "$secs"
fails=$(st tcp_proxy.upstream_cx_connect_fail)
hf_check "both failed upstream connects counted (tcp_proxy.upstream_cx_connect_fail: $fails)" test "${fails:-0}" -ge 2

out=$(run 15 halfclose "$OUR" 7)
hf_check "client half-closes first: echo answers everything, then FIN" \
	test "$(json "['got']" <<<"$out")" = "half-close test"
out=$(run 15 halfclose "$OUR" 9000)
hf_check "client half-closes first through tcp_proxy: all data, then FIN" \
	test "$(json "['got']" <<<"$out")" = "half-close test"
out=$(run 15 serverfirst "$OUR" 9006)
hf_check "upstream half-closes first through tcp_proxy: answer and FIN arrive, client can still send" \
	test "$(json "['got'].strip() + str(d['sent_after_fin'])" <<<"$out")" = "bye helloTrue"

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
out=$(run 240 many "$OUR" 7 10000)
hf_check "10000 concurrent connections to echo held, used and closed ($out)" \
	test "$(json "['ok']" <<<"$out")" = 10000
for _ in $(seq 50); do [ "$(st tcp.cx_active)" = "$(st tcp.cx_time_wait)" ] && break; sleep 0.2; done
active=$(st tcp.cx_active); tw=$(st tcp.cx_time_wait)
hf_check "afterwards no connection is left but TIME_WAIT (active $active, time_wait $tw)" test "$active" = "$tw"
# A frame may be in a worker's hands at the instant of a read: allow a few reads.
for _ in $(seq 25); do [ "$(st port.p0.mbufs_free)" = "$idle_mbufs" ] && break; sleep 0.2; done
hf_check "mbufs all back in the pool ($idle_mbufs free before, $(st port.p0.mbufs_free) after)" \
	test "$(st port.p0.mbufs_free)" = "$idle_mbufs"
hf_check "no indirect mbuf still referenced ($(st tcp.clone_mbufs_in_use))" test "$(st tcp.clone_mbufs_in_use)" = 0
bpc=$(st tcp.bytes_per_idle_connection)
hf_check "state per idle connection is at most 1 KB ($bpc bytes)" test "$bpc" -le 1024

ip netns exec "$NS" "$HF_PY" "$HF_ROOT/tests/integration/tcp/hostile.py" hf0 "$OUR" "$PEER" 7 > "$HF_TMP/hostile.out" 2>&1
while IFS= read -r line; do
	case "$line" in
	"ok - "*) hf_ok "hostile: ${line#ok - }" ;;
	"not ok - "*) hf_not_ok "hostile: ${line#not ok - }" ;;
	*) echo "# $line" ;;
	esac
done < "$HF_TMP/hostile.out"
grep -q "^ok - \|^not ok - " "$HF_TMP/hostile.out" || hf_not_ok "hostile.py ran"

# SYN flood from random sources at the tap's limit while a real client keeps connecting.
cookies0=$(st tcp.syncookies_sent)
ip netns exec "$NS" timeout 12 hping3 --flood -S -p 7 --rand-source "$OUR" >/dev/null 2>&1 &
FLOOD=$!
HF_PIDS+=($FLOOD)
sleep 2
out=$(run 60 churn "$OUR" 7 200)
wait "$FLOOD" 2>/dev/null
ok=$(json "['ok']" <<<"$out")
hf_check "during a SYN flood at least 90% of 200 real connections succeed ($ok)" test "${ok:-0}" -ge 180
cookies=$(( $(st tcp.syncookies_sent) - cookies0 ))
hf_check "SYN cookies engaged during the flood (tcp.syncookies_sent +$cookies)" test "$cookies" -gt 0
out=$(run 15 connect "$OUR" 7)
hf_check "after the flood a new connection works ($out)" grep -q '^ok' <<<"$out"

kill -TERM "$HF_PID"
wait "$HF_PID" 2>/dev/null
hf_check "SIGTERM stops hydrofoil with status 0" test $? -eq 0
hf_done
