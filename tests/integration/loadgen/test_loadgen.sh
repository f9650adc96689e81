#!/usr/bin/env bash
# hf-loadgen against hydrofoil, two DPDK processes over net_memif (both
# --no-huge, each with its own --file-prefix; the memif socket in the test's
# temporary directory; hydrofoil is the memif server). hydrofoil's HTTP
# listener routes to the loadgen's own server role, on the same address as its
# clients, so one loadgen process is both ends of the proxy.
#
# Checks: the loadgen alone against its own server role, which a SIGTERM then
# ends (status 0, its summary printed, within 2 s), and a SIGSTOP of its client
# counted as a stall of its loop; then through hydrofoil at
# a low fixed rate (open loop), every request answered 2xx and hydrofoil's
# counters (http.downstream_rq_2xx, http.upstream_rq_total) equal to the
# loadgen's count exactly; then the replay role: a pcap of ICMP echo requests
# written by scapy, replayed into a fresh hydrofoil, whose icmp counters must
# equal the count sent exactly, and a truncated pcap refused with a clear
# error; then hf-wire, the latency baseline's bare forwarder, between the
# loadgen's two ends: every request answered, every frame forwarded. Speeds
# are measured elsewhere, never asserted. Both processes run
# inside a private namespace, so the admin port is ours.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
LG=${HF_LOADGEN:-$HF_ROOT/${HF_BUILD_DIR:-build}/bench/hf-loadgen}
RATE=${LG_RATE:-2000}
SECS=${LG_SECS:-3}
HF_ADDR=198.51.100.2
LG_ADDR=198.51.100.1
EAL=(--no-huge -m 512 --no-pci --log-level=lib.eal:error)
SOCK=$HF_TMP/memif.sock

[ -x "$LG" ] || { hf_not_ok "hf-loadgen built at $LG"; exit 1; }
NS=$(hf_ns_new lg) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
in_ns() { ip netns exec "$NS" "$@"; }

# ---------------------------------------------------------------- 1. loadgen alone
# A server-role loadgen and a client-role loadgen over their own memif link.
# self_pair NAME ARGS...: a server on memif socket NAME (sets SRV; ip netns exec
# runs the program in its own process, so $! is the loadgen's PID), then a
# client with ARGS against it; prints the client's JSON.
self_pair() {
	local name=$1
	shift
	ip netns exec "$NS" "$LG" --port "p0,net_memif0,role=server,socket=$HF_TMP/$name.sock,$LG_ADDR/24" \
		--server 8080 --response-size 100 --lcores 0@0,1@1 -- "${EAL[@]}" >"$HF_TMP/$name-srv.log" 2>&1 &
	SRV=$!
	HF_PIDS+=("$SRV")
	sleep 1
	in_ns timeout 60 "$LG" --port "p0,net_memif0,role=client,socket=$HF_TMP/$name.sock,198.51.100.3/24" \
		--client "$LG_ADDR:8080" "$@" --json --lcores 0@1,1@0 -- "${EAL[@]}" 2>"$HF_TMP/$name-cli.log"
}
self_pair self -c 16 --timeout 10000 --rate "$RATE" --duration "$SECS" >"$HF_TMP/self.json"
out=$(cat "$HF_TMP/self.json")
want=$(awk -v r="$RATE" -v s="$SECS" 'BEGIN { printf "%d", r * s }')
ok=$(hf_lg_field ok <<<"$out"); errs=$(hf_lg_field errors_total <<<"$out"); total=$(hf_lg_field responses_total <<<"$out")
hf_check "loadgen → its own server role: $ok of $want requests 2xx at $RATE/s, $errs errors, p99 $(hf_lg_field latency_us.p99 <<<"$out") us" \
	test "${ok:-0}" -eq "$want" -a "${errs:-1}" -eq 0 -a "${total:-0}" -eq "$(hf_lg_field requests_total <<<"$out")"
# A server alone has no end of its own: SIGTERM ends it, with its summary.
hf_check_stop "$SRV" "a server-only loadgen" 2
served=$(sed -n 's/.*server: \([0-9]*\) requests answered.*/\1/p' "$HF_TMP/self-srv.log")
hf_check "the server role answered exactly the requests the client sent (${served:-none} = ${total:-none})" \
	test "${served:-x}" = "${total:-y}"

# An open loop faster than its connections can carry: what was due and never
# sent counts as unsent, not as a timeout (a timeout is the target's: sent and
# not answered). A fresh server and socket: a memif server must not see a
# second client (memif_bench.sh).
self_pair self2 -c 1 --timeout 1000 --rate 4000000 --duration 1 >"$HF_TMP/self2.json"
out=$(cat "$HF_TMP/self2.json")
ok=$(hf_lg_field ok <<<"$out"); errs=$(hf_lg_field errors_total <<<"$out")
unsent=$(hf_lg_field errors.unsent <<<"$out"); tmo=$(hf_lg_field errors.timeout <<<"$out")
# The drain's second half sends nothing new: nothing is still out when the run ends.
hf_check "one connection at 4,000,000/s: $ok answered, ${unsent:-?} due and never sent (unsent), ${tmo:-?} timed out, $errs errors in all" \
	test "${unsent:-0}" -gt 0 -a "${tmo:-1}" -eq 0 -a "$(( ${ok:-0} + ${errs:-0} ))" -eq 4000000 \
	-a "${errs:-0}" -eq "$(( ${unsent:-0} + ${tmo:-0} ))"
hf_check_stop "$SRV" "the second server-only loadgen" 2

# A stall of the client's own loop (SIGSTOP, 300 ms) in an open loop: the
# responses due in it and in its shadow are counted as having waited through
# it, and the loop's share of iterations that received nothing is a share
# (issue 16). Which responses the backlog a stall left holds after its shadow
# is tests/unit/loadgen/test_stallwait.c's, on a simulated clock; here it is
# only reported, as it depends on the machine's speed.
stop_client() {
	local p cli=
	for _ in $(seq 50); do
		for p in $(pgrep -f "socket=$HF_TMP/self3.sock,198.51.100.3"); do
			[ "$(cat "/proc/$p/comm" 2>/dev/null)" = hf-loadgen ] && cli=$p
		done
		[ -n "$cli" ] && break
		sleep 0.1
	done
	[ -n "$cli" ] || return
	sleep 2
	kill -STOP "$cli"; sleep 0.3; kill -CONT "$cli"
}
stop_client &
stopper=$!
HF_PIDS+=("$stopper")
self_pair self3 -c 1 --timeout 2000 --rate 300000 --duration 4 >"$HF_TMP/self3.json"
wait "$stopper"
out=$(cat "$HF_TMP/self3.json")
st=$(hf_lg_field responses_stalled <<<"$out"); qst=$(hf_lg_field responses_queue_stalled <<<"$out")
idle=$(hf_lg_field worker_loop.idle_share <<<"$out")
hf_check "a 300 ms stop of the client: ${st:-?} responses waited through its stall, ${qst:-?} were due while the backlog it left was there, loop idle share ${idle:-?}" \
	"$HF_PY" -c 'import sys; s, i = int(sys.argv[1]), float(sys.argv[2]); sys.exit(not (s > 0 and 0 <= i <= 1))' \
	"${st:-0}" "${idle:-2}"
hf_check_stop "$SRV" "the third server-only loadgen" 2

# ---------------------------------------------------------------- 2. through hydrofoil
hf_memif_cfg "$HF_TMP/hf.cfg" "$SOCK" "$HF_ADDR" "" 512 "access_log = \"$HF_TMP/access.log\";
static_resources: {
  listeners = ( { name = \"http\"; port = 80; filter = \"http\"; route_config = $HF_LG_ROUTES; } );
  clusters = ( { name = \"lg\"; connect_timeout_ms = 1000; endpoints = [ \"$LG_ADDR:8080\" ]; } );
};"
hf_start "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log"
for _ in $(seq 200); do grep -q "running" "$HF_TMP/hf.log" && break; kill -0 "$HF_PID" || break; sleep 0.1; done
# The memif link comes up once the loadgen connects; it waits for it before its clock starts.
ip netns exec "$NS" timeout 60 "$LG" --port "p0,net_memif0,role=client,socket=$SOCK,$LG_ADDR/24" \
	--client "$HF_ADDR:80" --server 8080 --response-size 100 -c 16 --timeout 10000 --rate "$RATE" --duration "$SECS" \
	--path /lg --paths 4 --header 'x-test: loadgen' --json --lcores 0@0,1@0 -- "${EAL[@]}" \
	>"$HF_TMP/lg.json" 2>"$HF_TMP/lg.log" &
LGP=$!
HF_PIDS+=("$LGP")
if ! hf_wait_ready "$NS" 20; then
	cat "$HF_TMP/hf.log" "$HF_TMP/lg.log"
	hf_not_ok "hydrofoil on a memif port reports LIVE once the loadgen is connected"
	exit 1
fi
hf_ok "hydrofoil on a memif port reports LIVE once the loadgen is connected"
wait "$LGP"
out=$(cat "$HF_TMP/lg.json")
echo "# $out"
ok=$(hf_lg_field ok <<<"$out"); errs=$(hf_lg_field errors_total <<<"$out"); total=$(hf_lg_field responses_total <<<"$out")
sent=$(hf_lg_field requests_total <<<"$out"); served=$(hf_lg_field server_requests <<<"$out")
hf_check "loadgen → hydrofoil → loadgen at $RATE/s for $SECS s: $ok of $want measured requests 2xx, $errs errors" \
	test "${ok:-0}" -eq "$want" -a "${errs:-1}" -eq 0
hf_check "every request sent was answered ($sent sent, $total answered) and reached the server role ($served)" \
	test -n "$sent" -a "$sent" = "$total" -a "$sent" = "$served"
d2xx=$(hf_stat "$NS" http.downstream_rq_2xx)
dup=$(hf_stat "$NS" http.upstream_rq_total)
hf_check "hydrofoil's http.downstream_rq_2xx ($d2xx) equals the loadgen's answered count ($total)" \
	test "$d2xx" = "$total"
hf_check "hydrofoil's http.upstream_rq_total ($dup) equals the loadgen server role's count ($served)" \
	test "$dup" = "$served"
# --paths 4: the requests went to /lg/0 .. /lg/3 in turn (hydrofoil's access log says which)
for _ in $(seq 50); do
	[ "$(wc -l < "$HF_TMP/access.log" 2>/dev/null || echo 0)" -ge "${d2xx:-1}" ] && break
	sleep 0.1
done
paths=$(grep -oE '"GET /lg/[0-9]+ ' "$HF_TMP/access.log" | sort | uniq -c | awk '{ printf "%s %s; ", $3, $1 }')
n_paths=$(grep -oE '"GET /lg/[0-9]+ ' "$HF_TMP/access.log" | sort -u | wc -l)
spread=$(grep -oE '"GET /lg/[0-9]+ ' "$HF_TMP/access.log" | sort | uniq -c |
	awk 'NR == 1 { lo = hi = $1 } { if ($1 < lo) lo = $1; if ($1 > hi) hi = $1 } END { print hi - lo }')
hf_check "--paths 4: the requests went to 4 paths in turn (${paths:-none})" \
	test "$n_paths" = 4 -a "${spread:-99}" -le 16
hf_check_stop
# One that did not stop would hold the admin port the next hydrofoil needs.
kill -KILL "$HF_PID" 2>/dev/null && wait "$HF_PID" 2>/dev/null

# ---------------------------------------------------------------- 3. pcap replay
# A fresh hydrofoil on a fresh memif socket (a memif server does not take a
# second client safely, see bench/loadgen/memif_bench.sh), with a MAC of our
# choosing so that the frames can be addressed to it. The pcap's frames go to
# another MAC: --replay-dst-mac rewrites them at load, and eth.drop.other_host
# stays 0 only if it did. Paced by the file's timestamps (0.2 ms apart), two
# passes; every echo request must be counted and answered exactly once.
HF_MAC=02:00:00:00:00:02
N_ECHO=1000
SOCK=$HF_TMP/replay.sock
hf_memif_cfg "$HF_TMP/hf-replay.cfg" "$SOCK" "$HF_ADDR" "mac=$HF_MAC"
"$HF_PY" - "$HF_TMP/echo.pcap" "$N_ECHO" "$LG_ADDR" "$HF_ADDR" <<'PY' 2>"$HF_TMP/scapy.log"
import sys
from scapy.all import Ether, IP, ICMP, Raw, wrpcap
out, n, src, dst = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
frames = []
for i in range(n):
	f = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:99") / IP(src=src, dst=dst) / \
		ICMP(id=0x4846, seq=i) / Raw(b"hf-replay-%04d" % i)
	f.time = 1700000000 + i * 0.0002
	frames.append(f)
wrpcap(out, frames)
PY
hf_check "scapy wrote a pcap of $N_ECHO echo requests to $HF_ADDR" test -s "$HF_TMP/echo.pcap"
hf_start "$NS" "$HF_TMP/hf-replay.cfg" "$HF_TMP/hf-replay.log"
for _ in $(seq 200); do grep -q "running" "$HF_TMP/hf-replay.log" && break; kill -0 "$HF_PID" || break; sleep 0.1; done
ip netns exec "$NS" timeout 60 "$LG" --port "p0,net_memif0,role=client,socket=$SOCK,$LG_ADDR/24" \
	--replay "$HF_TMP/echo.pcap" --replay-loops 2 --replay-dst-mac "$HF_MAC" --json \
	--lcores 0@0,1@0 -- "${EAL[@]}" >"$HF_TMP/replay.json" 2>"$HF_TMP/replay.log" &
LGP=$!
HF_PIDS+=("$LGP")
if ! hf_wait_ready "$NS" 20; then
	cat "$HF_TMP/hf-replay.log" "$HF_TMP/replay.log"
	hf_not_ok "hydrofoil for the replay reports LIVE once the loadgen is connected"
	exit 1
fi
wait "$LGP"
rc=$?
out=$(cat "$HF_TMP/replay.json")
echo "# $out"
sent=$(hf_lg_field replay.sent <<<"$out"); refused=$(hf_lg_field replay.tx_refused <<<"$out")
last=$(hf_lg_field replay.last_send_s <<<"$out")
hf_check "the replay sent both passes ($sent of $((2 * N_ECHO)) frames, $refused refused, status $rc)" \
	test "$rc" -eq 0 -a "${sent:-0}" -eq $((2 * N_ECHO)) -a "${refused:-1}" -eq 0 \
	-a "$(hf_lg_field replay.complete <<<"$out")" = True
# The last frame is due 0.3998 s after the first: sent flat out, it would leave within a millisecond.
hf_check "paced by the file's timestamps ($(hf_lg_field replay.pacing <<<"$out")): the last frame left at ${last:-?} s (>= 0.399)" \
	awk -v s="${last:-0}" 'BEGIN { exit !(s >= 0.399) }'
rx=$(hf_stat "$NS" icmp.rx_echo_request)
tx=$(hf_stat "$NS" icmp.tx_echo_reply)
other=$(hf_stat "$NS" eth.drop.other_host)
hf_check "hydrofoil's icmp.rx_echo_request ($rx) and icmp.tx_echo_reply ($tx) equal the frames replayed ($sent)" \
	test -n "$sent" -a "$rx" = "$sent" -a "$tx" = "$sent"
hf_check "--replay-dst-mac addressed every frame to hydrofoil (eth.drop.other_host $other)" \
	test "$other" = 0
hf_check_stop

# A pcap cut in the middle of a record is refused at start-up: status 1 and a
# message naming the file and the record, never a crash.
head -c $((24 + 3 * (16 + 56) + 30)) "$HF_TMP/echo.pcap" > "$HF_TMP/cut.pcap"
ip netns exec "$NS" timeout 30 "$LG" --port "p0,net_memif0,role=server,socket=$HF_TMP/cut.sock,$LG_ADDR/24" \
	--replay "$HF_TMP/cut.pcap" --lcores 0@0,1@0 -- "${EAL[@]}" >/dev/null 2>"$HF_TMP/cut.log"
rc=$?
msg=$(grep -- '--replay' "$HF_TMP/cut.log")
echo "# $msg"
hf_check "a truncated pcap is refused with status 1 and a clear message (status $rc)" \
	test "$rc" -eq 1 -a -n "$(grep -F "$HF_TMP/cut.pcap: record 4 at offset" <<<"$msg" | grep truncated)"
# ---------------------------------------------------------------- 4. through hf-wire
# The latency baseline's bare forwarder (memif_bench.sh): the loadgen's server
# role and its clients on two memif links, hf-wire the server of both,
# forwarding every frame unchanged. Every request is answered, and the wire
# forwarded at least the two frames a request's exchange takes (request and
# response, ACKs piggybacked or delayed), with none refused; it ends on
# SIGTERM with its summary, status 0, and removes its EAL files.
WIRE=${HF_WIRE:-$HF_ROOT/${HF_BUILD_DIR:-build}/bench/hf-wire}
if [ ! -x "$WIRE" ]; then
	hf_not_ok "hf-wire built at $WIRE"
else
	ip netns exec "$NS" "$WIRE" --json -- -l 1 "${EAL[@]}" --vdev "net_memif0,role=server,socket=$HF_TMP/w0.sock" \
		--vdev "net_memif1,role=server,socket=$HF_TMP/w1.sock" >"$HF_TMP/wire.log" 2>&1 &
	WP=$!
	HF_PIDS+=("$WP")
	for _ in $(seq 100); do grep -q forwarding "$HF_TMP/wire.log" && break; sleep 0.1; done
	out=$(in_ns timeout 60 "$LG" --port "p0,net_memif0,role=client,socket=$HF_TMP/w0.sock,$LG_ADDR/24" \
		--port "p1,net_memif1,role=client,socket=$HF_TMP/w1.sock,198.51.100.3/24" --server 8080 \
		--response-size 100 --client "$LG_ADDR:8080" -c 16 --timeout 10000 --rate "$RATE" \
		--duration "$SECS" --json --lcores 0@0,1@0 -- "${EAL[@]}" 2>"$HF_TMP/wire-lg.log")
	ok=$(hf_lg_field ok <<<"$out"); errs=$(hf_lg_field errors_total <<<"$out")
	total=$(hf_lg_field responses_total <<<"$out")
	hf_check "loadgen → hf-wire → loadgen at $RATE/s: $ok of $want requests 2xx, $errs errors" \
		test "${ok:-0}" -eq "$want" -a "${errs:-1}" -eq 0 -a "${total:-0}" -eq "$(hf_lg_field requests_total <<<"$out")"
	hf_check_stop "$WP" "hf-wire" 2
	wj=$(grep '^{' "$HF_TMP/wire.log" | tail -1)
	fw=$(hf_lg_field frames_0_to_1 <<<"$wj"); bw=$(hf_lg_field frames_1_to_0 <<<"$wj")
	ref=$(hf_lg_field refused <<<"$wj")
	hf_check "hf-wire forwarded ${fw:-none} + ${bw:-none} frames for $total requests, ${ref:-none} refused" \
		test $(( ${fw:-0} + ${bw:-0} )) -ge $(( 2 * ${total:-1} )) -a "${ref:-1}" -eq 0
	hf_check "hf-wire removed its EAL runtime directory" test ! -e "/var/run/dpdk/hf-wire-$WP"
fi
hf_done
