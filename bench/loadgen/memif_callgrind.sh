#!/usr/bin/env bash
# Instructions per keep-alive request of hydrofoil's worker, counted by
# valgrind's callgrind (issue 16): numbers a loaded machine does not move, where
# memif_bench.sh's cycles move by 30% between runs of the same tree.
#
# Hydrofoil (HF_BUILD_DIR, which must be an -Dmarch=x86-64-v3 build or older:
# valgrind cannot decode AVX-512) runs under callgrind on a memif server port in
# a private namespace (198.51.100.0/24 only), as in memif_bench.sh's phase 1;
# hf-loadgen (HF_LOADGEN, default build/bench/hf-loadgen: any build) plays the
# clients and the upstream on core 0. Instrumentation is off while hydrofoil
# starts and the link comes up, on for SECONDS of keep-alive traffic, then the
# worker thread's profile is dumped. Requests are counted as calls of
# start_request() in the profile itself (hydrofoil's /stats answer too slowly
# under valgrind to bound the window).
#
# Per request it prints the stack and proxy (hf_eth_input()'s subtree plus the
# TCP output hf_tcp_poll() defers), memif's TX burst, and the functions that
# took most of it (inclusive, self, calls a request). The idle poll is left
# out: under valgrind the worker idles most of its loops, and a figure that
# counted them would measure the loadgen's speed. Batching still differs from
# a native run, and moves a run's total by 100-200 instructions: compare
# functions whose work is per request (start_request and below) before totals.
# A TX buffer that fills mid-pass is sent from hf_tx_enqueue() (in line
# wherever a frame is sent): that burst counts with memif's TX, not with the
# stack (figures before b1163c0 had it in both, about 800 instructions more
# in the stack's).
#
# With --new-conn the clients are hf-loadgen's --new-conn (memif_bench.sh's
# phase 2: connect, one request with `connection: close`, close; CONNS slots)
# and the figures are a connection's: one request each, so connections are
# still counted as calls of start_request(). Hydrofoil closes first and holds
# the TIME-WAIT (time_wait_ms 1000 as in memif_bench.sh), so the figure adds
# the timers that fire (the callbacks hf_timer_wheel_advance() calls: TIME-WAIT
# reaping and the other timers a connection leaves behind). Under valgrind the
# loadgen's ~28k local ports come round more slowly than TIME-WAIT ends, so SYNs find
# fresh tuples, where a native run at full speed mostly reopens a TIME-WAIT
# one (RFC 6191): both paths end the old TCB with tcp_conn_close().
#
# Usage: bench/loadgen/memif_callgrind.sh [--new-conn] [--conns N (64)] [--seconds S (15)]
#                                         [--keep DIR]
#   --new-conn  a new connection per request (see above)
#   --keep DIR  keeps the callgrind files there (callgrind_annotate reads them)
# Needs root, valgrind, and the builds (this script builds nothing). About a minute.
set -uo pipefail
# shellcheck source=../../scripts/lib/netns.sh
source "$(dirname "$0")/../../scripts/lib/netns.sh"
LG=${HF_LOADGEN:-$HF_ROOT/build/bench/hf-loadgen}
CONNS=64
SECS=15
KEEP=
NEWCONN=
while [ $# -gt 0 ]; do
	case $1 in
	--conns) CONNS=$2; shift ;;
	--seconds) SECS=$2; shift ;;
	--keep) KEEP=$2; shift ;;
	--new-conn) NEWCONN=--new-conn ;;
	-h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "memif_callgrind: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
die() { echo "memif_callgrind: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "needs root (namespaces)"
command -v valgrind > /dev/null || die "needs valgrind"
[ -x "$HF_BIN" ] || die "no hydrofoil at $HF_BIN"
[ -x "$LG" ] || die "no hf-loadgen at $LG"
if objdump -d "$HF_BIN" 2>/dev/null | grep -q zmm; then
	die "$HF_BIN uses AVX-512, which valgrind cannot decode: build with -Dmarch=x86-64-v3"
fi

T=$HF_TMP
NS=$(hf_ns_new cg) || die "cannot create a namespace"
HF_NAMESPACES+=("$NS")
SOCK=$T/memif.sock
# New connections: room for a second of TIME-WAIT at the rate valgrind allows.
TCP_CFG="max_connections = 4096;"
[ -n "$NEWCONN" ] && TCP_CFG="max_connections = 32768; time_wait_ms = 1000;"
hf_memif_cfg "$T/hf.cfg" "$SOCK" 198.51.100.2 "" 1024 "tcp: { $TCP_CFG };
static_resources: {
  listeners = ( { name = \"http0\"; port = 80; filter = \"http\"; idle_timeout_ms = 600000; route_config = $HF_LG_ROUTES; } );
  clusters = ( { name = \"lg\"; connect_timeout_ms = 1000; endpoints = [ \"198.51.100.1:8080\" ]; } );
};"
ip netns exec "$NS" valgrind --tool=callgrind --separate-threads=yes --instr-atstart=no \
	--callgrind-out-file="$T/cg.%p" "$HF_BIN" -c "$T/hf.cfg" > "$T/hf.log" 2>&1 &
VP=$!
HF_PIDS+=("$VP")
for _ in $(seq 600); do grep -q running "$T/hf.log" && break; sleep 0.1; done
grep -q running "$T/hf.log" || { cat "$T/hf.log"; die "hydrofoil did not start"; }
ip netns exec "$NS" "$LG" --port "p0,net_memif0,role=client,socket=$SOCK,198.51.100.1/24" \
	--client 198.51.100.2:80 --server 8080 --response-size 100 -c "$CONNS" $NEWCONN \
	--duration $((SECS + 20)) --timeout 20000 --lcores 0@0,1@0 \
	-- --no-huge --no-pci --log-level=lib.eal:error -m 1024 > "$T/lg.out" 2> "$T/lg.log" &
HF_PIDS+=($!)
# The link up (LIVE) and the connections open before the window starts.
for _ in $(seq 240); do grep -q LIVE "$T/hf.log" && break; sleep 0.5; done
grep -q LIVE "$T/hf.log" || die "the memif link did not come up"
sleep 3
callgrind_control -i on "$VP" > /dev/null
sleep "$SECS"
callgrind_control -i off "$VP" > /dev/null
callgrind_control -d "$VP" > /dev/null
sleep 1
hf_end_pids "$VP"
[ -n "$KEEP" ] && mkdir -p "$KEEP" && cp "$T"/cg.* "$KEEP"/
# The worker's thread is the one whose profile holds hf_worker_main.
W=$(grep -l "hf_worker_main" "$T"/cg.*.* 2>/dev/null | head -1)
[ -n "$W" ] || die "no worker profile (was the window empty?)"
"$HF_PY" - "$W" "$NEWCONN" <<'PY'
import collections, re, sys
names, self_c, incl, calls = {}, collections.Counter(), collections.Counter(), collections.Counter()
def name(v):
    m = re.match(r"\((\d+)\)(?: (.*))?", v)
    if not m:
        return v
    if m.group(2):
        names[m.group(1)] = m.group(2)
    return names.get(m.group(1), m.group(1))
fn = cfn = pending = None
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line.startswith("fn="):
        fn = name(line[3:])
    elif line.startswith("cfn="):
        cfn = name(line[4:])
    elif line.startswith("calls="):
        pending = cfn
        calls[cfn] += int(line[6:].split()[0])
    elif line[:1].isdigit() or line[:1] in "+-*":
        parts = line.split()
        if len(parts) < 2:
            continue
        if pending is not None:
            if pending != fn:
                incl[(fn, pending)] += int(parts[1])
            pending = None
        else:
            self_c[fn] += int(parts[1])
inc = collections.Counter(self_c)
for (f, c), v in incl.items():
    inc[f] += v
nc = sys.argv[2] == "--new-conn"
unit = "connection" if nc else "request"
r = calls["start_request"]
if r == 0:
    sys.exit("memif_callgrind: no request in the window")
# Callers by prefix: a build with link-time optimization may take hf_tcp_poll() into the loop
# (hf_worker_poll_once.isra.0), and names gain suffixes.
loop = ("hf_worker_poll_once", "hf_worker_main", "hf_tcp_poll")
out = sum(v for (f, c), v in incl.items()
          if c.startswith("tcp_output") and f.startswith(("hf_tcp_poll", "hf_worker_poll_once")))
tx = sum(v for (f, c), v in incl.items() if f == "hf_tx_flush")
# A TX buffer that fills mid-pass is sent from hf_tx_enqueue(), in line in hf_eth_output(), itself
# in line wherever a frame is sent: the PMD's work, counted with the TX burst below, not twice (how
# often it happens moves with the batching, not with the stack). The loop's own flushes are not in
# the stack's figure anyway.
early_tx = sum(v for (f, c), v in incl.items()
               if c == "hf_tx_flush" and not f.startswith(loop))
stack = inc["hf_eth_input"] + out + inc["hf_tcp_prefetch_burst"] - early_tx
# Timers a connection arms fire (TIME-WAIT's end) in the wheel's pass of hf_tcp_poll(): their
# callbacks count, not the walk over empty ticks, which is the idle loop's. The TIME-WAITs that
# end in the window are those of the connections of a second before it, as many only at a steady
# rate: the callbacks' cost is taken per on_life_timer() call (one TIME-WAIT's end a connection).
timers = sum(v for (f, c), v in incl.items() if f == "hf_timer_wheel_advance") if nc else 0
if nc and calls["on_life_timer"]:
    timers = timers * r / calls["on_life_timer"]
print(f"{unit}s in the window: {r}")
print(f"instructions a {unit}: stack and proxy {(stack + timers) / r:,.0f} (hf_eth_input {inc['hf_eth_input'] / r:,.0f}, "
      f"deferred TCP output {out / r:,.0f}" + (f", timer wheel {timers / r:,.0f}" if nc else "") +
      f"); memif TX burst {tx / r:,.0f}")
print(f"{'inclusive':>10} {'self':>8} {'calls':>6}  function (a {unit})")
below = {"hf_worker_main", "hf_worker_poll_once", "hf_tcp_poll", "hf_tx_flush", "hf_arp_drain_siblings"}
rows = [(v, f) for f, v in inc.items() if f not in below and not f.startswith("0x") and v / r >= 60]
for v, f in sorted(rows, reverse=True)[:40]:
    print(f"{v / r:10,.0f} {self_c[f] / r:8,.0f} {calls[f] / r:6.2f}  {f}")
PY
