#!/usr/bin/env bash
# shellcheck disable=SC2153 # HF_PID is set by hf_start in scripts/lib/netns.sh
# The kernel-bypass rows of issue 5: hf-loadgen and hydrofoil as two DPDK
# processes over net_memif, no kernel in the data path. Prints one Markdown
# table. Figures are measured, never asserted; the script exits 0 even when a
# phase fails (the table says why).
#
# Setup (as tests/integration/loadgen/test_loadgen.sh): one private network
# namespace (198.51.100.0/24 only, no traffic leaves it), both processes
# --no-huge -m 1024 --no-pci, each with its own --file-prefix (hydrofoil-PID,
# hf-loadgen-PID, set by the programs themselves; their EAL runtime dirs
# /var/run/dpdk/<prefix> are removed when they end), the memif socket in this script's temp dir,
# hydrofoil the memif server. Every run gets a fresh pair of processes and a
# fresh memif socket: a memif server whose client goes away and a new one
# connects has crashed (hydrofoil: SIGSEGV in librte_net_memif on the worker)
# or stalled (the loadgen's server role) here, so no link is ever reused.
#   198.51.100.2:80    hydrofoil's http listener (1 worker), routes to
#   198.51.100.1:8080  the loadgen's own server role, on the address of its clients,
#                      so one loadgen process plays both ends of the proxy.
# Baseline ("the loadgen's own ceiling", and the latency without the hop): the
# same loadgen process, same core, same work per request (its clients and its
# server role), with no proxy between them: its server role on one end of a
# memif link (198.51.100.1:8080, port p0), its clients on the other end
# (198.51.100.3, port p1). Through hydrofoil and in the baseline alike the
# loadgen's two lcores are on core 0 with hydrofoil's control agent (lcore 0,
# which sleeps); core 1 runs only hydrofoil's busy-polling worker (lcore 1), or
# nothing in the baseline. So a hydrofoil figure against the baseline is what
# the hop costs, and the baseline is the most the loadgen can show of it.
# Nothing of ours wakes on core 0 during a measured window but the agent (4
# times a second once the link is up) and the interrupt threads (once a
# second): the loadgen's main lcore sleeps through it. But whatever else the
# machine runs (its own agent, kernel threads) must take a poller's CPU when
# both cores poll, and takes the idle core 1 in the baseline: --occupy shows
# the baseline with core 1 busy too (issue 16).
#
# Latency against the layout (issue 16): a request through hydrofoil crosses both
# cores and four memif rings, the baseline's none of that, so the machine's
# gaps on core 1 and the crossings count as hydrofoil's. Each open-loop run
# below 100% therefore runs a third time with hf-wire in hydrofoil's place: a
# bare forwarder on core 1 (bench/loadgen/wire.c), the memif server of two
# links, one to each of the loadgen's ends, publishing its loop stalls on a
# stall board as hydrofoil does. Hydrofoil's p99 against the wire's is what
# Hydrofoil adds; against the baseline, what it and the layout add together.
#
# Phases:
#  1. keep-alive, closed loop, 100-byte bodies, a few connection counts (the best
#     is kept); cycles per request = hydrofoil's worker.busy_cycles delta over the
#     loadgen's whole run ÷ http.downstream_rq_total delta over the same span.
#  2. a new connection per request (connect, one request, close), closed loop.
#  3. open loop (--rate, no coordinated omission) at 10%, 50%, 90% of phase 1's
#     best hydrofoil rate, through hydrofoil and straight to the server role.
#  4. idle keep-alive connections held through hydrofoil (1k, 10k, 100k, 1M), one
#     request per second among them; hydrofoil's tcp.cx_active and VmRSS
#     before and while they are held.
#
# Stalls (issue 16): every open-loop row also says what each process's threads
# went through in the run (per thread: the CPU, run_delay = time runnable but
# waiting for that CPU, involuntary context switches), the loop gaps of the
# loadgen's worker and of hydrofoil's (p99.99, max, stalls over 50 us and the
# piece of work each was blamed on), the machine's other threads that ran, and
# the p99 without the requests that waited through a loop stall of either
# process (hydrofoil publishes its stalls on a stall board, HF_STALL_BOARD,
# which the loadgen reads: --stall-board).
#
# Usage: bench/loadgen/memif_bench.sh [--duration S] [--warmup S] [--conns "4 16 64"]
#          [--idle "1000 10000 100000 1000000"] [--reps N]
#          [--phases "1 2 3 4"] [--rate R] [--fracs "10 50 90"] [--lg-lcores LIST]
#   --duration  measured seconds of each closed- or open-loop run (default 3)
#   --warmup    seconds before the measured window (default 0.5)
#   --conns     keep-alive connection counts (default "4 16 64"); --nc-conns: new-connection slots (default 64)
#   --reps      runs per keep-alive figure, the median is kept (default 1); --nc-reps: per
#               new-connection figure (default 1); --lat-reps: per open-loop load below
#               100% (default 1): each rep runs hydrofoil, the baseline(s) and the wire in
#               turn, and the rep whose p99 added (without stalls, against the wire) is the
#               median is the one reported, the others' figures beside it
#   --phases    which phases run (default all); --rate: phase 3's 100% in req/s instead of
#               phase 1's best (needed when phase 1 does not run); --fracs: its percentages
#   --lg-lcores the loadgen's EAL --lcores (default 0@0,1@0: main and worker lcore on CPU 0);
#   --occupy    phase 3 also runs each baseline with core 1 (idle otherwise) occupied by
#               hf-tscprobe, a busy poller like hydrofoil's worker: the machine's other
#               threads (kernel threads, the sandbox's agent) then preempt a poller there
#               too, as they must through hydrofoil, and the probe's report says what core 1
#               went through (runs baseocc-lat-F; scripts/bench.sh passes it)
#   --overload  hydrofoil's open-loop runs (phase 3) shed requests by the worker's own
#               queue_delay controller (README, "Overload": the share that holds the RX
#               queue's standing time at 500 us, 1 ms windows); those rows then say how many
#               requests were shed (503, flag OM). --overload-backlog: by the older backlog
#               trigger instead (from 90% of the loop behind full bursts, all at 99%).
#               Keep-alive stays on: closing connections of a client that is itself at its
#               limit adds a handshake to each of its next requests (tried: 17,787
#               responses with keep-alive off at 100% made 65,776 requests time out
#               instead of 25). The closed-loop phases run without: a closed loop
#               saturates the worker by design, and shedding would count as its rate.
#   --lg-cpus   the CPUs the loadgen process may use through hydrofoil (taskset; default all):
#               EAL puts its own threads (interrupts, memif's control channel) on the CPUs of
#               this set that no lcore uses, or with none left on the main lcore's. (The
#               baseline is never restricted: with both memif ends and every thread of one
#               process on one CPU, its link does not come up.)
# Environment: HF_BUILD_DIR (default build), HF_KEEP_TMP=1 (keep the temp dir),
# HF_LAT_CONNS (phase 3's connections below 100%, default 64), HF_SAT_CONNS (from 100%,
# default 2048), HF_LG_MEMIF_ARGS (appended to the loadgen's memif device through
# hydrofoil, e.g. rsize=12: the memif client sets the ring, 2^10 slots by default). An open loop past saturation
# queues its excess in the loadgen, one request in flight per connection: with 64
# connections hydrofoil never holds more than 64 requests, its receive bursts are
# never full, and the overload manager's backlog monitor cannot see the overload.
# With more connections than the port's 1,024 receive descriptors the excess
# waits at hydrofoil's port instead, as it would with a crowd of real clients: the
# runs at 100% and beyond use HF_SAT_CONNS for that, over memif rings of
# 2^HF_SAT_RSIZE slots (through hydrofoil, hydrofoil told the same, and in
# the baseline alike; default 10: 1,024, memif's own). Tried with 12 (4,096:
# every connection's request fits, no frame refused, p99 from the send 10 ms
# instead of 45): the whole crowd then queues in hydrofoil's ring, 2.5-4 ms,
# and its queue_delay controller swings between shedding nothing and
# everything (1.43 M of 2.6 M shed at 100%), where with 1,024 it shed 10,937.
# The frames a full ring refuses are the loadgen's, whose core is the limit
# past 100% (hydrofoil's worker 70-84% busy in both).
# Needs root and the built hydrofoil and hf-loadgen (this script builds nothing).
# Takes about two and a half minutes on an idle machine.
set -uo pipefail
# shellcheck source=../../scripts/lib/netns.sh
source "$(dirname "$0")/../../scripts/lib/netns.sh"
LG=${HF_LOADGEN:-$HF_ROOT/${HF_BUILD_DIR:-build}/bench/hf-loadgen}

DUR=2
WARM=0.5
CONNS="4 16 64"
NC_CONNS="64"
IDLE="1000 10000 100000 1000000"
REPS=1
NC_REPS=1
LAT_REPS=1
PHASES="1 2 3 4"
RATE_100=
FRACS="10 50 90"
LG_LCORES=0@0,1@0
LG_CPUS=
OCCUPY=0
OVERLOAD=
PROBE=${HF_PROBE:-$HF_ROOT/${HF_BUILD_DIR:-build}/bench/hf-tscprobe}
WIRE=${HF_WIRE:-$HF_ROOT/${HF_BUILD_DIR:-build}/bench/hf-wire}
while [ $# -gt 0 ]; do
	case $1 in
	--duration) DUR=$2; shift ;;
	--warmup) WARM=$2; shift ;;
	--conns) CONNS=$2; shift ;;
	--idle) IDLE=$2; shift ;;
	--nc-conns) NC_CONNS=$2; shift ;;
	--reps) REPS=$2; shift ;;
	--nc-reps) NC_REPS=$2; shift ;;
	--lat-reps) LAT_REPS=$2; shift ;;
	--phases) PHASES=$2; shift ;;
	--rate) RATE_100=$2; shift ;;
	--fracs) FRACS=$2; shift ;;
	--lg-lcores) LG_LCORES=$2; shift ;;
	--lg-cpus) LG_CPUS=$2; shift ;;
	--occupy) OCCUPY=1 ;;
	--overload) OVERLOAD='overload = { window_ms = 1; queue_delay_us = 500; shed_requests = { queue_delay = [0.0, 1.0]; mbufs = [0.90, 0.98]; }; };' ;;
	--overload-backlog) OVERLOAD='overload = { shed_requests = { backlog = [0.90, 0.99]; mbufs = [0.90, 0.98]; }; };' ;;
	-h|--help) sed -n '3,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "memif_bench: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

note() { echo "memif_bench: $*" >&2; }
# fail_table WHY: the table with one row saying why nothing was measured; exit 0.
fail_table() {
	echo "| kernel-bypass (memif) | not measured: $1 |"
	exit 0
}
[ "$(id -u)" -eq 0 ] || fail_table "needs root (namespaces)"
[ -x "$LG" ] || fail_table "no hf-loadgen at $LG (this script builds nothing)"
[ -x "$HF_BIN" ] || fail_table "no hydrofoil at $HF_BIN (this script builds nothing)"

# A temp dir of our own name: other scripts' cleanups of /tmp/hf-test.* must not take ours.
rmdir "$HF_TMP"
HF_TMP=$(mktemp -d /tmp/hf-memif.XXXXXX)
T=$HF_TMP
RES=$T/results
: > "$RES"
HF_ADDR=198.51.100.2
LG_ADDR=198.51.100.1
CLI_ADDR=198.51.100.3
BODY=100
# TCBs of the runs: room for the TIME_WAIT of phase 2's churn (1 s of it).
MAXC_RUN=131072
MEM=1024
# The baseline's TCBs: its server role closes first and holds the TIME-WAIT of
# phase 2's churn (1 s of it), which through hydrofoil is hydrofoil's.
BASE_TCBS=262144
EAL=(--no-huge --no-pci --log-level=lib.eal:error)

NS=$(hf_ns_new memif) || fail_table "cannot create a namespace"
HF_NAMESPACES+=("$NS")

# hf_config FILE SOCKET MAXC [LISTENERS [MEM_MB [MAX_REQUESTS [OVERLOAD]]]]: LISTENERS http listeners on
# ports 80, 81, ... (one source address reaches one listener through ~28k local ports).
hf_config() {
	local i lst="" n=${4:-1}
	for ((i = 0; i < n; i++)); do
		lst+="${lst:+,}
    { name = \"http$i\"; port = $((80 + i)); filter = \"http\"; idle_timeout_ms = 600000; route_config = $HF_LG_ROUTES; }"
	done
	hf_memif_cfg "$1" "$2" "$HF_ADDR" "" "${5:-$MEM}" "tcp: { max_connections = $3; time_wait_ms = 1000; };
${6:+http: { max_requests = $6; \};}
${7:-}
static_resources: {
  listeners = ( $lst );
  clusters = ( { name = \"lg\"; connect_timeout_ms = 1000; endpoints = [ \"$LG_ADDR:8080\" ]; } );
};"
}

# ---- helpers -------------------------------------------------------------------

# stats FILE: hydrofoil's /stats as "name value" lines.
stats() { hf_admin "$NS" /stats | awk -F': ' 'NF == 2 { print $1, $2 }' > "$1"; }
field() { awk -v n="$1" '$1 == n { print $2 }' "$2"; }
delta() { echo $(( $(field "$1" "$3") - $(field "$1" "$2") )); }
rss_kb() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status" 2>/dev/null; }
# threads PID FILE: one line per thread of PID: tid comm cpu run_ns run_delay_ns timeslices
# voluntary involuntary (/proc/PID/task/*: stat field 39, schedstat, status). Shell builtins
# only: nothing forks while the other process runs.
threads() {
	local d tid comm st f k v vol inv sched
	: > "$2"
	for d in /proc/"$1"/task/*; do
		tid=${d##*/}
		read -r comm < "$d/comm" 2>/dev/null || continue
		read -r st < "$d/stat" 2>/dev/null || continue
		read -r sched < "$d/schedstat" 2>/dev/null || continue
		st=${st##*) }
		read -r -a f <<< "$st"
		vol=0; inv=0
		while read -r k v; do
			case $k in
			voluntary_ctxt_switches:) vol=$v ;;
			nonvoluntary_ctxt_switches:) inv=$v ;;
			esac
		done < "$d/status"
		echo "$tid ${comm// /_} ${f[36]} $sched $vol $inv" >> "$2"
	done
}
# reset_loop PID: starts hydrofoil's loop-gap window (worker.loop_gap_*) again.
reset_loop() {
	ip netns exec "$NS" curl -s --max-time 5 -X POST -H 'x-hydrofoil-admin: 1' \
		http://127.0.0.1:15000/reset_loop_stats > /dev/null
}
# jline NAME: the loadgen's JSON line (empty when it printed none).
jline() { grep -h '^{' "$T/$1.json" 2>/dev/null | tail -1; }
# record KEY=VALUE...: one result line.
record() { echo "$*" >> "$RES"; }
# oneline FILE: its last non-empty line, fit for a key=value field.
oneline() { grep -v '^$' "$1" 2>/dev/null | grep -v TELEMETRY | tail -1 | tr ' =' '_:' | cut -c1-160; }
# stop PID: SIGTERM, then SIGKILL after 0.3 s: the next run needs a fresh pair at
# once, and how a target ends is not what is measured (hydrofoil takes about a
# second to say goodbye).
stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 3); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# dead_why PID LOG: how a process that is gone ended.
dead_why() {
	local rc
	wait "$1" 2>/dev/null
	rc=$?
	[ "$rc" -gt 128 ] && echo "killed_by_signal_$((rc - 128))" || echo "exit_$rc:$(oneline "$2")"
}

# target_says WORD LOG: waits up to 15 s for TGT_PID to write WORD in LOG; 1 when it ends first.
target_says() {
	for _ in $(seq 300); do
		grep -q "$1" "$2" && return 0
		kill -0 "$TGT_PID" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# target_up NAME TARGET MAXC: a fresh memif socket (SOCK) for one run and, through
# hydrofoil (hf), a fresh hydrofoil on it (TGT_PID; empty for the baseline).
RUN_N=0
target_up() {
	local name=$1 target=$2
	RUN_N=$((RUN_N + 1))
	SOCK=$T/memif.$RUN_N.sock
	if [ "$target" = hf ]; then
		local ovl=
		[[ $name == hf-lat-* ]] && ovl=$OVERLOAD
		# The ring the loadgen's rsize sets, told to hydrofoil too: its overload bound counts the slots.
		HF_PORT_EXTRA=${RING:+"rx_descriptors = $((1 << ${RING#rsize=})); tx_descriptors = $((1 << ${RING#rsize=}));"} \
			hf_config "$T/$name.cfg" "$SOCK" "$3" "${4:-1}" "${5:-$MEM}" "${6:-}" "$ovl"
		# Hydrofoil's workers publish their loop stalls there; the loadgen reads them.
		export HF_STALL_BOARD=$T/$name.board
		hf_start "$NS" "$T/$name.cfg" "$T/$name.target.log"
		unset HF_STALL_BOARD
		TGT_PID=$HF_PID
		target_says running "$T/$name.target.log"
		return
	fi
	if [ "$target" = wire ]; then
		# hf-wire on core 1, where hydrofoil's worker runs: the memif server of two links,
		# one to each of the loadgen's ends, publishing its loop stalls as hydrofoil does.
		ip netns exec "$NS" "$WIRE" --stall-board "$T/$name.board" --json -- -l 1 "${EAL[@]}" \
			-m 256 --vdev "net_memif0,role=server,socket=$SOCK.a" \
			--vdev "net_memif1,role=server,socket=$SOCK.b" > "$T/$name.target.log" 2>&1 &
		TGT_PID=$!
		HF_PIDS+=("$TGT_PID")
		target_says forwarding "$T/$name.target.log"
		return
	fi
	# The baseline has no target process: the loadgen plays both ends itself (lg_bg).
	TGT_PID=
	return 0
}
# lg_bg NAME TARGET ARGS...: starts the loadgen (JSON in $T/NAME.json, log in
# $T/NAME.log): its clients and its server role (the upstream, 8080), through
# hydrofoil on one memif port, or in the baseline straight to each other over
# both ends of one memif link (server port first: it must exist before the
# client end connects). Either way the one process on core 0 does the same
# client and server work per request. Sets LG_PID.
lg_bg() {
	local name=$1 target=$2 port
	shift 2
	if [ "$target" = hf ]; then
		port=(--port "p0,net_memif0,role=client,socket=$SOCK${HF_LG_MEMIF_ARGS:+,$HF_LG_MEMIF_ARGS}${RING:+,$RING},$LG_ADDR/24" --client "$HF_ADDR:80"
			--server 8080 --response-size "$BODY")
		[ -s "$T/$name.board" ] && port+=(--stall-board "$T/$name.board")
	elif [ "$target" = wire ]; then
		port=(--port "p0,net_memif0,role=client,socket=$SOCK.a,$LG_ADDR/24"
			--port "p1,net_memif1,role=client,socket=$SOCK.b,$CLI_ADDR/24"
			--server 8080 --response-size "$BODY" --client "$LG_ADDR:8080" --tcbs "$BASE_TCBS"
			--stall-board "$T/$name.board")
	else
		port=(--port "p0,net_memif0,role=server,socket=$SOCK,$LG_ADDR/24"
			--port "p1,net_memif1,role=client,socket=$SOCK${RING:+,$RING},$CLI_ADDR/24"
			--server 8080 --response-size "$BODY" --client "$LG_ADDR:8080" --tcbs "$BASE_TCBS")
	fi
	local pin=()
	[ "$target" = hf ] && [ -n "$LG_CPUS" ] && pin=(taskset -c "$LG_CPUS")
	ip netns exec "$NS" "${pin[@]}" "$LG" "${port[@]}" --json --lcores "$LG_LCORES" "$@" -- "${EAL[@]}" -m "${LG_MEM:-$MEM}" \
		> "$T/$name.json" 2> "$T/$name.log" &
	LG_PID=$!
	HF_PIDS+=("$LG_PID")
}
# rt_clean: removes the EAL runtime dirs of our processes that have ended.
rt_clean() {
	local p
	for p in "${HF_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null && continue
		rm -rf "/var/run/dpdk/hydrofoil-$p" "/var/run/dpdk/hf-loadgen-$p" "/var/run/dpdk/hf-wire-$p"
	done
}
trap 'hf_cleanup_all' EXIT
hf_cleanup_all() {
	local pids=("${HF_PIDS[@]}")
	hf_cleanup
	HF_PIDS=("${pids[@]}")
	rt_clean
}
HF_DEATHS=()
# run NAME TARGET ARGS...: one run on a fresh target (through hydrofoil with
# /stats before and after); records name=NAME, the loadgen's JSON and the deltas.
run() {
	local name=$1 target=$2 j rc extra="" maxc=$MAXC_RUN k occ=
	shift 2
	if ! target_up "$name" "$target" "$maxc"; then
		record "name=$name ok=0 why=target_did_not_start:$(dead_why "$TGT_PID" "$T/$name.target.log")"
		stop "$TGT_PID"
		return 1
	fi
	if [ "$target" = hf ]; then
		reset_loop
		stats "$T/$name.before"
		threads "$TGT_PID" "$T/$name.thr0"
	fi
	if [[ $name == baseocc-* ]] && [ -x "$PROBE" ]; then
		"$PROBE" --cpu 1 --seconds 3600 --json > "$T/$name.probe" 2>/dev/null &
		occ=$!
		HF_PIDS+=("$occ")
	fi
	lg_bg "$name" "$target" "$@"
	wait "$LG_PID"
	rc=$?
	[ -n "$TGT_PID" ] && threads "$TGT_PID" "$T/$name.thr1"
	if [ -n "$occ" ]; then
		kill -TERM "$occ" 2>/dev/null
		wait "$occ" 2>/dev/null
	fi
	if [ -n "$TGT_PID" ] && ! kill -0 "$TGT_PID" 2>/dev/null; then
		local why
		why=$(dead_why "$TGT_PID" "$T/$name.target.log")
		HF_DEATHS+=("$name: $target target $why")
		record "name=$name ok=0 why=target_died_during_run:$why"
		return 1
	fi
	[ "$target" = hf ] && stats "$T/$name.after"
	[ -n "$TGT_PID" ] && stop "$TGT_PID"
	j=$(jline "$name")
	if [ -z "$j" ]; then
		record "name=$name ok=0 why=loadgen_exit_$rc:$(oneline "$T/$name.log")"
		return 1
	fi
	if [ "$target" = hf ] && [ -s "$T/$name.after" ] && [ -s "$T/$name.before" ]; then
		for k in worker.busy_cycles worker.idle_cycles worker.stack_cycles worker.busy_cycles_unstalled \
			worker.rx_io_cycles worker.poll_cycles worker.tx_io_cycles \
			worker.busy_frames_unstalled worker.stack_packets http.downstream_rq_total http.downstream_rq_2xx \
			http.downstream_rq_5xx http.downstream_cx_total http.upstream_cx_total \
			http.upstream_cx_connect_fail tcp.cx_passive_opens tcp.drop.no_tcb tcp.syncookies_accepted \
			tcp.cx_reset_received tcp.retransmits port.drop.tx_full port.drop.tx_refused \
			port.drop.no_mbuf port.tx_retried worker.loop_stalls worker.loop_stall.snapshot \
			worker.loop_stall.rx worker.loop_stall.arp worker.loop_stall.tcp worker.loop_stall.tx \
			worker.loop_stall.outside worker.loop_stalls_over_500us worker.loop_stalls_over_5ms \
			worker.loop_stall.preempted worker.loop_stall.blocked worker.loop_stall.unswitched \
			overload.requests_shed overload.keepalive_disabled overload.connections_refused; do
			extra+=" hf.$k=$(delta "$k" "$T/$name.before" "$T/$name.after" 2>/dev/null)"
		done
		# Loop-gap figures since reset_loop, i.e. over the whole loadgen run.
		for k in worker.loop_gaps worker.loop_gap_p99_ns worker.loop_gap_p9999_ns \
			worker.loop_gap_max_ns worker.longest_snapshot_ns worker.longest_rx_ns \
			worker.longest_arp_ns worker.longest_tcp_ns worker.longest_tx_ns \
			worker.longest_outside_ns worker.loop_stall_unswitched_max_ns \
			worker.unswitched_longest_rx_ns worker.unswitched_longest_tcp_ns \
			worker.unswitched_longest_tx_ns worker.unswitched_longest_outside_ns; do
			extra+=" hf.$k=$(field "$k" "$T/$name.after")"
		done
	fi
	record "name=$name ok=1 json=$j$extra"
	rt_clean
}

# best_ka TARGET: "rate connections" of the best keep-alive median (0 0 when none).
best_ka() {
	"$HF_PY" - "$RES" "$1" <<'PY'
import json, re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    m = re.match(r"name=(\w+)-ka-(\d+)-\d+ ok=1 json=(\{.*?\})( |$)", line.strip())
    if m and m.group(1) == sys.argv[2]:
        d = json.loads(m.group(3))
        runs.setdefault(int(m.group(2)), []).append(d["requests_per_s"])
best = max(((statistics.median(v), c) for c, v in runs.items()), default=(0, 0))
print(f"{best[0]:.0f} {best[1]}")
PY
}
LAT_CONNS=${HF_LAT_CONNS:-64}
SAT_CONNS=${HF_SAT_CONNS:-2048}
SAT_RSIZE=${HF_SAT_RSIZE:-10}
RING=	# the memif client's ring for the run (lg_bg), rsize=N or empty
RUN_S=$(awk -v d="$DUR" -v w="$WARM" 'BEGIN { print d + w }')
RUN=(--duration "$RUN_S" --warmup "$WARM" --timeout 2000)

# ---- the runs: hydrofoil and the baseline alternate, so both see the same machine ----

LOAD0=$(cut -d" " -f1-3 /proc/loadavg)
# How fast core 1 (hydrofoil's worker) runs against the TSC, before and after: the same work
# reads as more TSC cycles when that core runs slower, e.g. without boost (hf-tscprobe --clock).
core_clock() { [ -x "$PROBE" ] && "$PROBE" --clock --cpu 1 2>/dev/null | sed 's/^cpu 1: //'; }
CLOCK0=$(core_clock)
PHASE_T0=$(date +%s)
HF_OK=1
BASE_OK=1
has_phase() { [[ " $PHASES " == *" $1 "* ]]; }
# 1. keep-alive, closed loop
has_phase 1 && for r in $(seq "$REPS"); do
	for c in $CONNS; do
		note "keep-alive, $c connections, run $r of $REPS: through hydrofoil, then straight ($RUN_S s each)"
		run "hf-ka-$c-$r" hf -c "$c" "${RUN[@]}"
		run "base-ka-$c-$r" base -c "$c" "${RUN[@]}"
	done
done
# 2. a new connection per request
has_phase 2 && for r in $(seq "$NC_REPS"); do
	for c in $NC_CONNS; do
		note "new connection per request, $c slots, run $r of $REPS: through hydrofoil, then straight"
		run "hf-nc-$c-$r" hf --new-conn -c "$c" "${RUN[@]}"
		run "base-nc-$c-$r" base --new-conn -c "$c" "${RUN[@]}"
	done
done
# 3. open loop at fractions of hydrofoil's best keep-alive rate
read -r best_rate best_c < <(best_ka hf)
[ -n "$RATE_100" ] && best_rate=$RATE_100
note "best keep-alive rate through hydrofoil: $best_rate req/s ($best_c connections)"
if has_phase 3 && [ "${best_rate:-0}" -gt 0 ]; then
	for f in $FRACS; do
		rate=$((best_rate * f / 100))
		note "open loop at $f% = $rate req/s: through hydrofoil, then straight"
		c=$LAT_CONNS
		RING=
		reps=$LAT_REPS
		[ "$f" -ge 100 ] && c=$SAT_CONNS && RING=rsize=$SAT_RSIZE && reps=1
		for r in $(seq "$reps"); do
			sfx=
			[ "$reps" -gt 1 ] && sfx=-r$r && note "open loop at $f%, run $r of $reps"
			run "hf-lat-$f$sfx" hf -c "$c" --rate "$rate" "${RUN[@]}"
			run "base-lat-$f$sfx" base -c "$c" --rate "$rate" "${RUN[@]}"
			[ "$OCCUPY" = 1 ] && run "baseocc-lat-$f$sfx" base -c "$c" --rate "$rate" "${RUN[@]}"
			[ "$f" -lt 100 ] && [ -x "$WIRE" ] && run "wire-lat-$f$sfx" wire -c "$c" --rate "$rate" "${RUN[@]}"
		done
	done
	RING=
fi
# 4. idle connections held through hydrofoil: one hydrofoil for the steps, in
# increasing order, each step's loadgen a fresh process on a fresh hydrofoil.
has_phase 4 || IDLE=
for n in $IDLE; do
	name=idle-$n
	# Listeners for the 4-tuples, memory for the TCBs (both sides), a small stream pool:
	# idle connections hold no stream.
	idle_l=$(((n + 24999) / 25000))
	idle_mem=$((1024 + n / 300))
	if ! target_up "$name" hf "$((n + 16384))" "$idle_l" "$idle_mem" 16384; then
		record "name=$name ok=0 why=hydrofoil_did_not_start:$(dead_why "$TGT_PID" "$T/$name.target.log")"
		stop "$TGT_PID"
		continue
	fi
	stats "$T/$name.before"
	rss0=$(rss_kb "$TGT_PID")
	# Long enough to open them all at the rate this machine allows (about 50k/s): the count
	# asked is the target, the time to open them is reported beside it.
	hold=$((n >= 1000000 ? 45 : n >= 100000 ? 8 : n >= 10000 ? 5 : 3))
	note "holding $n idle connections through hydrofoil ($idle_l listeners, -m $idle_mem, a $hold s run)"
	LG_MEM=$idle_mem lg_bg "$name" hf -c "$n" --target-ports "$idle_l" --rate 1 --duration "$hold" \
		--timeout 10000
	t0=$(date +%s%N)
	peak=0; peak_ms=0; rss1=$rss0
	cp "$T/$name.before" "$T/$name.held"
	while kill -0 "$LG_PID" 2>/dev/null && kill -0 "$TGT_PID" 2>/dev/null; do
		a=$(hf_stat "$NS" tcp.cx_active)
		if [ "${a:-0}" -gt "$peak" ]; then
			peak=$a
			peak_ms=$((($(date +%s%N) - t0) / 1000000))
			rss1=$(rss_kb "$TGT_PID")
			stats "$T/$name.held"
		fi
		sleep 0.25
	done
	wait "$LG_PID"
	rc=$?
	if ! kill -0 "$TGT_PID" 2>/dev/null; then
		HF_DEATHS+=("$name: hydrofoil $(dead_why "$TGT_PID" "$T/$name.target.log")")
	fi
	stop "$TGT_PID"
	record "name=$name ok=1 asked=$n peak_active=$peak base_active=$(field tcp.cx_active "$T/$name.before")" \
		"peak_ms=$peak_ms rss0_kb=${rss0:-0} rss1_kb=${rss1:-0} lg_rc=$rc" \
		"accepted=$(delta tcp.cx_passive_opens "$T/$name.before" "$T/$name.held")" \
		"no_tcb=$(delta tcp.drop.no_tcb "$T/$name.before" "$T/$name.held")" \
		"cookies=$(delta tcp.syncookies_accepted "$T/$name.before" "$T/$name.held")" \
		"tcp_bytes=$(field tcp.bytes_per_idle_connection "$T/$name.held")" \
		"http_bytes=$(field http.bytes_per_idle_connection "$T/$name.held")" \
		"json=$(jline "$name")"
done
TOTAL_SECS=$(($(date +%s) - PHASE_T0))

# ---- report --------------------------------------------------------------------

export HF_WHY="${HF_WHY:-}" BASE_WHY="${BASE_WHY:-}" BEST_RATE="${best_rate:-0}" HF_OK BASE_OK
mkdir -p "$HF_ROOT/bench/results"
export PLOT_DAT=$HF_ROOT/bench/results/plot.dat
export OVERLOAD DUR WARM CONNS NC_CONNS IDLE REPS NC_REPS LAT_REPS LAT_CONNS SAT_CONNS SAT_RSIZE FRACS MAXC_RUN MEM TOTAL_SECS BODY T LG_LCORES LG_CPUS OCCUPY
"$HF_PY" - "$RES" <<'PY'
import json, os, re, statistics, sys

E = os.environ
runs = {}          # name -> dict (json fields + hf.* deltas + idle fields)
for line in open(sys.argv[1]):
    line = line.strip()
    m = re.match(r"name=(\S+) ok=(\d)(.*)", line)
    if not m:
        continue
    d = {"ok": m.group(2) == "1"}
    rest = m.group(3)
    j = re.search(r" json=(\{.*?\})(?= |$)", rest)
    if j:
        try:
            d["json"] = json.loads(j.group(1))
        except ValueError:
            d["json"] = None
        rest = rest[:j.start()] + rest[j.end():]
    for kv in rest.split():
        k, _, v = kv.partition("=")
        try:
            d[k] = int(v)
        except ValueError:
            d[k] = v
    runs[m.group(1)] = d

def fmt(x, nd=0):
    return "—" if x is None else f"{x:,.{nd}f}"

def group(prefix):
    """conns -> list of run dicts for NAME prefix-<c>-<rep>."""
    g = {}
    for n, d in runs.items():
        m = re.fullmatch(re.escape(prefix) + r"-(\d+)-(\d+)", n)
        if m and d.get("json"):
            g.setdefault(int(m.group(1)), []).append(d)
    return g

def best(prefix):
    """(median req/s, conns, the runs at those conns) of the best connection count."""
    g = group(prefix)
    if not g:
        return None, None, []
    c = max(g, key=lambda c: statistics.median(r["json"]["requests_per_s"] for r in g[c]))
    return statistics.median(r["json"]["requests_per_s"] for r in g[c]), c, g[c]

def sweep(prefix):
    g = group(prefix)
    return ", ".join(f"c={c}: " + "/".join(f"{r['json']['requests_per_s'] / 1e3:.0f}k" for r in g[c])
                     for c in sorted(g)) or "no run"

def cycles(rs):
    v = [r["hf.worker.busy_cycles"] / r["hf.http.downstream_rq_total"] for r in rs
         if r.get("hf.http.downstream_rq_total")]
    return statistics.median(v) if v else None

def errs(prefix):
    tot = {}
    sent = 0
    for rs in group(prefix).values():
        for r in rs:
            sent += r["json"]["requests_total"]
            for k, v in r["json"]["errors"].items():
                tot[k] = tot.get(k, 0) + v
    return tot, sent

def err_kinds(d):
    """A run's errors and their kinds: a shed 503 is non_2xx, a request the loadgen never sent is unsent."""
    k = ", ".join(f"{n} {v:,}" for n, v in d["errors"].items() if v)
    return f"{d['errors_total']:,}" + (f" ({k})" if k else "")

def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "—"

def why_missing(prefix, who):
    if who == "hf" and E["HF_OK"] != "1":
        return E["HF_WHY"]
    if who == "base" and E["BASE_OK"] != "1":
        return E["BASE_WHY"]
    bad = [f"{n}: {d.get('why', 'no JSON')}" for n, d in runs.items()
           if n.startswith(prefix) and not d.get("json")]
    return "; ".join(bad) or "not run"

rows = []
def row(*cells):
    rows.append("| " + " | ".join(str(c) for c in cells) + " |")

# 1. keep-alive
hr, hc, hrs = best("hf-ka")
br, bc, brs = best("base-ka")
note = (f"closed loop, {E['BODY']}-byte bodies, best of c = {E['CONNS']} by the median of {E['REPS']} runs "
        f"(hydrofoil {sweep('hf-ka')}; baseline {sweep('base-ka')})")
if hr is None:
    note += f"; hydrofoil: {why_missing('hf-ka', 'hf')}"
if br is None:
    note += f"; baseline: {why_missing('base-ka', 'base')}"
row("1. keep-alive proxied req/s, 1 worker core" + (f" (c={hc})" if hc else ""),
    fmt(hr), fmt(br) + (f" (c={bc})" if bc else ""), ratio(hr, br),
    f"1,000,000 ({ratio(hr, 1e6)} of it)", note)
cyc = cycles(hrs)
allcyc = ", ".join(f"c={c}: {cycles(rs):,.0f}" for c, rs in sorted(group("hf-ka").items()) if cycles(rs))
row("1. CPU cycles per proxied request (hydrofoil's worker)", fmt(cyc), "—", "—",
    f"≤ 3,000 ({ratio(cyc, 3000)} of it)",
    f"worker.busy_cycles delta ÷ http.downstream_rq_total delta over each loadgen run (medians; {allcyc or 'none'}); "
    "busy = loop iterations that received frames, memif I/O included")
def unstalled(rs):
    # Cycles per frame of the iterations shorter than the stall bound, times frames per request:
    # the worker's own cost with the time it was not running (a loaded machine) left out.
    v = [r["hf.worker.busy_cycles_unstalled"] / r["hf.worker.busy_frames_unstalled"]
         * r["hf.worker.stack_packets"] / r["hf.http.downstream_rq_total"] for r in rs
         if r.get("hf.worker.busy_frames_unstalled") and r.get("hf.http.downstream_rq_total")
         and r.get("hf.worker.stack_packets")]
    return statistics.median(v) if v else None
ucyc = unstalled(hrs)
row("1. CPU cycles per proxied request, iterations without a stall", fmt(ucyc), "—", "—",
    f"≤ 2,000 ({ratio(ucyc, 2000)} of it)",
    "worker.busy_cycles_unstalled ÷ worker.busy_frames_unstalled (iterations under 50 µs: "
    "preemption on a shared machine left out) × frames per request (worker.stack_packets ÷ "
    "http.downstream_rq_total); medians")
def busy_share(rs):
    v = [r["hf.worker.busy_cycles"] / (r["hf.worker.busy_cycles"] + r["hf.worker.idle_cycles"]) for r in rs
         if r.get("hf.worker.busy_cycles") and r.get("hf.worker.idle_cycles") is not None]
    return statistics.median(v) if v else None
def per_rq(rs, k):
    v = [r[f"hf.worker.{k}_cycles"] / r["hf.http.downstream_rq_total"] for r in rs
         if r.get("hf.http.downstream_rq_total") and r.get(f"hf.worker.{k}_cycles") not in (None, "")]
    return statistics.median(v) if v else None
def split(rs):
    """Busy cycles a request by piece: the device's RX and TX (memif's copies), our code, the loop's rest."""
    b, st, rx, po, tx = (per_rq(rs, k) for k in ("busy", "stack", "rx_io", "poll", "tx_io"))
    if None in (b, st, rx, po, tx):
        return f"; of the busy cycles per request, {st:,.0f} are our stack and proxy" if st else ""
    # A TX burst is sent where the buffer fills (mid-pass, in the stack) or in the poll's output.
    ours = st + po - tx
    return (f"; of the busy cycles per request ({b:,.0f}): {ours:,.0f} our stack, proxy and deferred TCP output, "
            f"{rx:,.0f} memif RX bursts, {tx:,.0f} memif TX bursts, {b - ours - rx - tx:,.0f} the loop's rest "
            f"(worker.stack_cycles {st:,.0f} + worker.poll_cycles {po:,.0f} − worker.tx_io_cycles; "
            "worker.rx_io_cycles)")
bs = busy_share(hrs)
if hr and bs:
    row("1. the worker's busy share at that rate, and the rate it implies for a whole core", f"{bs:.0%} → {hr / bs:,.0f} req/s",
        "—", "—", f"1,000,000 ({ratio(hr / bs, 1e6)} of it)",
        "busy ÷ (busy + idle) cycles of hydrofoil's worker over the best keep-alive runs: the rest of its core polled "
        "an empty ring, i.e. the loadgen (clients and upstream on the one other core) set the pace; the implied rate "
        "is achieved ÷ busy share (cycles per request × rate = busy cycles)"
        + split(hrs))

# 2. new connections
hn, hnc, hnrs = best("hf-nc")
bn, bnc, bnrs = best("base-nc")
he, hs = errs("hf-nc")
be, bs = errs("base-nc")
def errtxt(e, s):
    return ", ".join(f"{k} {v:,}" for k, v in e.items()) + f" of {s:,} sent"
note = (f"connect, GET, `connection: close`, closed loop, best of c = {E['NC_CONNS']}, median of {E['NC_REPS']} "
        f"(hydrofoil {sweep('hf-nc')}; baseline {sweep('base-nc')}); errors over all runs: "
        f"hydrofoil {errtxt(he, hs) if hs else why_missing('hf-nc', 'hf')}; "
        f"baseline {errtxt(be, bs) if bs else why_missing('base-nc', 'base')}")
ncyc = cycles(hnrs)
if ncyc:
    note += f"; hydrofoil {ncyc:,.0f} busy cycles per connection"
row("2. new connections/s (one request each), 1 worker core" + (f" (c={hnc})" if hnc else ""),
    fmt(hn), fmt(bn) + (f" (c={bnc})" if bnc else ""), ratio(hn, bn),
    f"500,000 ({ratio(hn, 5e5)} of it)", note)
nbs = busy_share(hnrs)
if hn and nbs:
    nu = unstalled(hnrs)
    row("2. the worker's busy share at that rate, and the rate it implies for a whole core",
        f"{nbs:.0%} → {hn / nbs:,.0f} conn/s", "—", "—", f"500,000 ({ratio(hn / nbs, 5e5)} of it)",
        "as for keep-alive: when the loadgen (clients and upstream on the other core, its ceiling the "
        "baseline beside) sets the pace, achieved ÷ busy share is what the worker's core would take"
        + (f"; {nu:,.0f} cycles per connection in iterations without a stall" if nu else ""))

# 3. latency
def U(d):
    """The latency without loop stalls, or None when no response was left to measure."""
    return d.get("latency_unstalled_us") if d.get("responses", 0) - left_out(d) > 0 else None
def left_out(d):
    """Responses the figure without loop stalls leaves out: in a stall, its shadow or its queue."""
    return (d.get("responses_stalled", 0) + d.get("responses_peer_stalled", 0)
            + d.get("responses_queue_stalled", 0))
# A load run --lat-reps times (WHO-lat-F-rR): the run whose p99 added without loop stalls,
# against the wire, is the median stands as WHO-lat-F, its records and files, for every row.
reps_note = {}
for f in E["FRACS"].split():
    added = {}
    for r in range(1, int(E["LAT_REPS"]) + 1):
        h = (runs.get(f"hf-lat-{f}-r{r}") or {}).get("json")
        w = (runs.get(f"wire-lat-{f}-r{r}") or {}).get("json")
        if h and w and U(h) and U(w):
            added[r] = U(h)["p99"] - U(w)["p99"]
    if not added:
        continue
    order = sorted(added, key=added.get)
    pick = order[(len(order) - 1) // 2]
    for who in ("hf", "base", "baseocc", "wire"):
        src = f"{who}-lat-{f}-r{pick}"
        if src in runs:
            runs[f"{who}-lat-{f}"] = runs[src]
        for fn in os.listdir(E["T"]):
            if fn.startswith(src + "."):
                dst = os.path.join(E["T"], f"{who}-lat-{f}" + fn[len(src):])
                if not os.path.lexists(dst):
                    os.symlink(fn, dst)
    reps_note[f] = (f"; every row at {f}% shows run {pick} of {E['LAT_REPS']}, the median by this figure "
                    "(each run's hydrofoil, baselines and wire in turn; p99 added per run: "
                    + ", ".join(f"run {r} {added[r]:+.1f} µs" for r in sorted(added)) + ")")
for f in E["FRACS"].split():
    h = runs.get(f"hf-lat-{f}", {}).get("json")
    b = runs.get(f"base-lat-{f}", {}).get("json")
    rate = int(E["BEST_RATE"]) * int(f) // 100
    lat = lambda d: f"{d['latency_us']['p50']:.1f} / {d['latency_us']['p99']:.1f} µs" if d else "—"
    added = (f"+{h['latency_us']['p50'] - b['latency_us']['p50']:.1f} / "
             f"+{h['latency_us']['p99'] - b['latency_us']['p99']:.1f} µs") if h and b else "—"
    note = (f"open loop at {rate:,} req/s ({f}% of hydrofoil's best), "
            + (f"c={E['SAT_CONNS']}, memif rings of {2 ** int(E['SAT_RSIZE']):,} slots" if int(f) >= 100
               else f"c={E['LAT_CONNS']}") + f", added p50 / p99: {added}")
    for who, d in (("hydrofoil", h), ("baseline", b)):
        if d:
            note += (f"; {who} achieved {d['requests_per_s']:,.0f}/s, p99.9 {d['latency_us']['p99_9']:.0f} µs, "
                     f"errors {err_kinds(d)}")
        else:
            note += f"; {who}: " + why_missing(("hf" if who == "hydrofoil" else "base") + f"-lat-{f}",
                                                "hf" if who == "hydrofoil" else "base")
    hd = runs.get(f"hf-lat-{f}", {})
    if h and hd.get("hf.overload.requests_shed") not in (None, ""):
        note += (f"; overload manager: {int(hd['hf.overload.requests_shed'] or 0):,} requests shed (503 OM), "
                 f"{int(hd['hf.overload.keepalive_disabled'] or 0):,} responses with keep-alive off, "
                 f"{int(hd['hf.overload.connections_refused'] or 0):,} connections refused")
    for who, d in (("hydrofoil", h), ("baseline", b)):
        fs = d.get("latency_from_send_us") if d else None
        if fs:
            note += (f"; {who} from the send (the loadgen's own queue of due requests left out): "
                     f"p50 / p99 / p99.9 {fs['p50']:.1f} / {fs['p99']:.1f} / {fs['p99_9']:.1f} µs")
    hb = busy_share([hd]) if h else None
    if hb is not None:
        note += (f"; hydrofoil's worker {hb:.0%} busy"
                 + (" (it kept up: what waited, waited in the loadgen)" if hb < 0.9 else ""))
    for who, d in (("hydrofoil's", h), ("the baseline's", b)):
        if d and d.get("backlog_max"):
            note += f"; in {who} run the loadgen held up to {d['backlog_max']:,} due requests it had not sent yet"
    # Whether the loadgen's own core had room: its loop's time in iterations that received nothing.
    idle = [(who, d["worker_loop"].get("idle_share")) for who, d in (("hydrofoil's", h), ("the baseline's", b))
            if d and d.get("worker_loop")]
    if any(v is not None for _, v in idle):
        note += "; the loadgen's worker idle (received nothing) " + ", ".join(
            f"{v:.0%} of {who} run" for who, v in idle if v is not None)
    if h and "hf.tcp.retransmits" in hd:
        note += (f"; hydrofoil's counters: {hd['hf.tcp.retransmits']:,} retransmits, "
                 f"{hd['hf.port.tx_retried']:,} TX frames retried, {hd['hf.port.drop.tx_refused']:,} dropped as "
                 f"refused, {hd['hf.port.drop.tx_full']:,} as TX full")
    for who, d in (("hydrofoil's", h), ("the baseline's", b)):
        if d and "tx_dropped" in d:
            note += (f"; the loadgen's own stack in {who} run: {d['tx_dropped']:,} frames it could not send, "
                     f"{d['retransmits']:,} retransmits")
    tgt = "—"
    if f == "50":
        tgt = "p99 added ≤ 20 µs"
        if h and b:
            tgt += f" ({h['latency_us']['p99'] - b['latency_us']['p99']:+.1f} µs)"
    row(f"3. latency p50 / p99 at {f}% of max", lat(h), lat(b),
        ratio(h and h["latency_us"]["p99"], b and b["latency_us"]["p99"]) + " (p99)", tgt, note)
    # The same without the machine's share: the baseline with core 1 busy too, and the
    # requests that waited through a loop stall of either process (or its shadow) left out.
    o = runs.get(f"baseocc-lat-{f}", {}).get("json")
    if o:
        p3 = lambda d: f"{d['latency_us']['p50']:.1f} / {d['latency_us']['p99']:.1f} / {d['latency_us']['p99_9']:.1f} µs"
        row(f"3. p50 / p99 / p99.9 at {f}%, baseline with core 1 busy (hf-tscprobe)", p3(h) if h else "—", p3(o),
            ratio(h and h["latency_us"]["p99"], o["latency_us"]["p99"]) + " (p99)", "—",
            "the baseline run again with a busy poller on core 1, where hydrofoil's worker runs: the machine's own "
            "threads then preempt a poller in both runs (the stall table below names them)")
        if h and U(h) and U(o):
            row(f"3. p99 / p99.9 at {f}% without loop stalls", f"{U(h)['p99']:.1f} / {U(h)['p99_9']:.1f} µs",
                f"{U(o)['p99']:.1f} / {U(o)['p99_9']:.1f} µs (core 1 busy)",
                ratio(U(h)["p99"], U(o)["p99"]) + " (p99)",
                f"p99 added ≤ 20 µs ({U(h)['p99'] - U(o)['p99']:+.1f} µs)" if f == "50" else "—",
                f"requests that waited through a loop gap over 50 µs (or its shadow, as long again) of the loadgen's "
                f"worker or hydrofoil's, or were due while the loadgen's backlog a stall left had not emptied, left "
                f"out: {left_out(h):,} of {h['responses']:,} through hydrofoil, {left_out(o):,} of "
                f"{o['responses']:,} in the baseline")
        elif h:
            row(f"3. p99 / p99.9 at {f}% without loop stalls", "—", "—", "—", "—",
                "no response of one run or the other was left once those that waited through a loop stall "
                "were left out: the machine was too busy for this figure")
    # Against the same layout with none of Hydrofoil's work: hf-wire on core 1 between the
    # loadgen's ends, its loop stalls on a board as hydrofoil's are.
    wd = runs.get(f"wire-lat-{f}", {})
    w = wd.get("json")
    if w:
        p3 = lambda d: f"{d['latency_us']['p50']:.1f} / {d['latency_us']['p99']:.1f} / {d['latency_us']['p99_9']:.1f} µs"
        wj = {}
        try:
            wl = [l for l in open(os.path.join(E["T"], f"wire-lat-{f}.target.log")) if l.startswith("{")]
            wj = json.loads(wl[-1]) if wl else {}
        except (OSError, ValueError):
            pass
        row(f"3. p50 / p99 / p99.9 at {f}%, the loadgen through a bare wire on core 1 (hf-wire)",
            p3(h) if h else "—", p3(w), ratio(h and h["latency_us"]["p99"], w["latency_us"]["p99"]) + " (p99)",
            "—", "the same open loop with hf-wire in hydrofoil's place: every frame forwarded unchanged by one "
            "busy poller on core 1, so requests cross both cores and four memif rings as through hydrofoil; "
            f"achieved {w['requests_per_s']:,.0f}/s, errors {w['errors_total']}"
            + (f"; the wire forwarded {wj.get('frames_0_to_1', 0) + wj.get('frames_1_to_0', 0):,} frames, "
               f"{wj.get('refused', 0):,} refused by a TX queue, {wj.get('stalls', 0):,} loop stalls over 50 µs "
               f"(longest {wj.get('longest_gap_us', 0):,.0f} µs)" if wj else ""))
        if h and U(h) and U(w):
            row(f"3. p99 / p99.9 at {f}% without loop stalls, against the wire",
                f"{U(h)['p99']:.1f} / {U(h)['p99_9']:.1f} µs", f"{U(w)['p99']:.1f} / {U(w)['p99_9']:.1f} µs (wire)",
                ratio(U(h)["p99"], U(w)["p99"]) + " (p99)",
                f"p99 added ≤ 20 µs ({U(h)['p99'] - U(w)['p99']:+.1f} µs)" if f == "50" else "—",
                "what Hydrofoil adds to the layout's own latency: requests that waited through a loop stall "
                "over 50 µs (or its shadow) of the loadgen's worker or of the process on core 1, or were due "
                "while the loadgen's backlog a stall left had not emptied, left out: "
                f"{left_out(h):,} of {h['responses']:,} through hydrofoil, {left_out(w):,} of "
                f"{w['responses']:,} through the wire" + reps_note.get(f, ""))
        elif h:
            row(f"3. p99 / p99.9 at {f}% without loop stalls, against the wire", "—", "—", "—", "—",
                "no response of one run or the other was left once those that waited through a loop stall "
                "were left out: the machine was too busy for this figure")

# 4. idle connections
foot = None
for n in E["IDLE"].split():
    d = runs.get(f"idle-{n}")
    if not d or "peak_active" not in d:
        row(f"4. idle connections held, {int(n):,} asked", "—", "—", "—", "≤ 1 KB per connection",
            why_missing(f"idle-{n}", "hf"))
        continue
    held = d["peak_active"] - d["base_active"]
    grow = (d["rss1_kb"] - d["rss0_kb"]) * 1024
    per = grow / held if held > 0 else None
    foot = (d.get("tcp_bytes") or 0) + (d.get("http_bytes") or 0) or foot
    j = d.get("json") or {}
    note = (f"tcp.cx_active rose by {held:,} (peak after {d['peak_ms'] / 1000:.1f} s); {d['accepted']:,} accepted, "
            f"{d['cookies']:,} by SYN cookie, {d['no_tcb']:,} refused for want of a TCB; "
            f"VmRSS {d['rss0_kb'] / 1024:.0f} → {d['rss1_kb'] / 1024:.0f} MiB (+{grow / 1024:,.0f} KiB"
            + (f", {per:,.0f} B per connection" if per is not None else "") + "); "
            f"loadgen errors {j.get('errors', '—')}")
    row(f"4. idle connections held through hydrofoil, {int(n):,} asked", f"{held:,}", "—", "—",
        f"≤ 1 KB per connection ({foot:,} B by the footprint counters)" if foot else "≤ 1 KB per connection", note)
if foot:
    d = next(runs[k] for k in runs if k.startswith("idle-") and "tcp_bytes" in runs[k])
    row("4. state per idle connection (tcp.bytes_per_idle_connection + http.bytes_per_idle_connection)",
        f"{d['tcp_bytes']:,} + {d['http_bytes']:,} = {foot:,} B", "—", "—", f"≤ 1,024 B ({ratio(foot, 1024)} of it)",
        "the TCB and session an idle connection occupies, with their free-list and table shares; pools are sized "
        "for tcp.max_connections (connections asked + 16,384) at start and their pages enter VmRSS as connections "
        "first touch them (--no-huge: DPDK memory is ordinary anonymous memory), hence the VmRSS growth per "
        "connection in the rows above")

# The figures for bench/plot.sh (its format is at its top): throughput by connections, latency by load.
with open(E["PLOT_DAT"], "w") as pd:
    import time
    pd.write(f"title hf-loadgen over net_memif, 1 hydrofoil worker core, {time.strftime('%Y-%m-%d')}\n")
    for who, prefix in (("hydrofoil", "hf-ka"), ("loadgen_baseline", "base-ka")):
        for c, rs in sorted(group(prefix).items()):
            pd.write(f"throughput {who} {c} {statistics.median(r['json']['requests_per_s'] for r in rs):.0f}\n")
    for f in E["FRACS"].split():
        for who, name in (("hydrofoil", f"hf-lat-{f}"), ("loadgen_baseline", f"base-lat-{f}")):
            d = runs.get(name, {}).get("json")
            if d and d["latency_us"]["p50"] > 0 and d["latency_us"]["p99"] > 0:
                pd.write(f"latency {who} {f} {d['latency_us']['p50']:.1f} {d['latency_us']['p99']:.1f}\n")

print("| what | hydrofoil (memif) | the loadgen straight to its own server role, same core (baseline) | ratio | issue 5's target | note |")
print("|---|---:|---:|---:|---|---|")
print("\n".join(rows))

# Stall attribution for the open-loop runs: the loop gaps of both processes and what the
# scheduler did to each of their threads over the run.
def hf_threads(name):
    def load(fn):
        out = {}
        try:
            for line in open(os.path.join(E["T"], fn)):
                f = line.split()
                if len(f) == 8:
                    out[f[0]] = dict(name=f[1], cpu=int(f[2]), run=int(f[3]), wait=int(f[4]),
                                     slices=int(f[5]), vol=int(f[6]), inv=int(f[7]))
        except OSError:
            pass
        return out
    a, b = load(name + ".thr0"), load(name + ".thr1")
    return [dict(name=t["name"], cpu=t["cpu"], run_ms=(t["run"] - a.get(tid, {}).get("run", 0)) / 1e6,
                 run_delay_us=(t["wait"] - a.get(tid, {}).get("wait", 0)) / 1e3,
                 involuntary=t["inv"] - a.get(tid, {}).get("inv", 0))
            for tid, t in sorted(b.items())]

def thr_txt(ts):
    ts = [t for t in ts if t["run_ms"] >= 0.05 or t["involuntary"] > 0]
    return "; ".join(f"{t['name']}@cpu{t['cpu']} ran {t['run_ms']:,.1f} ms, waited {t['run_delay_us']:,.0f} µs, "
                     f"{t['involuntary']} preempted" for t in ts) or "—"

def others_txt(os_):
    return "; ".join(f"{t['name']}@cpu{t['cpu']} {t['run_ms']:,.1f} ms in {t['timeslices']} turns of "
                     f"{t['mean_slice_us']:,.0f} µs" for t in os_[:5]) or "—"

def sw_txt(pre, blk, uns, uns_max):
    # Whether the thread was switched out in each stall (getrusage at the stall).
    if pre is None:
        return "switches not recorded"
    return (f"{pre} preempted, {blk} blocked, {uns} with no switch (longest {uns_max or 0:,.1f} µs: "
            "our own work, an interrupt or the hypervisor)")

def blame_txt(b):
    return ", ".join(f"{k} {v}" for k, v in b.items() if v) or "none"

srows = []
for f in E["FRACS"].split():
    for who in ("hf", "base", "baseocc"):
        name = f"{who}-lat-{f}"
        r = runs.get(name, {})
        d = r.get("json")
        if not d or "worker_loop" not in d:
            continue
        L, U = d["worker_loop"], d["latency_unstalled_us"]
        lat = d["latency_us"]
        label = {"hf": "through hydrofoil", "base": "baseline", "baseocc": "baseline, core 1 busy"}[who]
        srows.append(f"| {f}% {label} | "
                     f"{lat['p50']:.1f} / {lat['p99']:.1f} / {lat['p99_9']:.1f} / {lat['max']:,.0f} | "
                     f"{U['p99']:.1f} / {U['p99_9']:.1f} ({d['responses_stalled']:,} of {d['responses']:,} waited "
                     f"through a loadgen stall, {d.get('responses_peer_stalled', 0):,} through one of hydrofoil's, "
                     f"{d.get('responses_queue_stalled', 0):,} due while the backlog a stall left was there) | "
                     f"gap p99.99 {L['gap_p9999_us']:.1f}, max {L['gap_max_us']:,.1f} µs; {L['stalls']} stalls "
                     f"({blame_txt(L['stall_blame'])}; {L.get('stalls_over_500us', '?')} over 500 µs, "
                     f"{L.get('stalls_over_5ms', '?')} over 5 ms; {sw_txt(L.get('stalls_preempted'), L.get('stalls_blocked'), L.get('stalls_unswitched'), L.get('unswitched_max_us'))}); longest client {L['longest_us']['client']:.1f}, "
                     f"rx {L['longest_us']['rx']:.1f}, tcp {L['longest_us']['tcp']:.1f}, "
                     f"outside {L['longest_us']['outside']:,.1f} µs | {thr_txt(d.get('threads', []))} | "
                     f"{others_txt(d.get('others', []))} |")
        try:
            pr = json.loads(open(os.path.join(E["T"], name + ".probe")).read().strip().splitlines()[-1])
        except (OSError, ValueError, IndexError):
            pr = None
        if pr:
            c = lambda k: f"{pr[k]['gaps']} {k} ({pr[k]['lost_us'] / 1e3:,.1f} ms, longest {pr[k]['max_us']:,.0f} µs)"
            srows.append(f"| {f}%: core 1 in the baseline (hf-tscprobe, gaps over {pr['threshold_us']:.0f} µs) | — | — | "
                         f"{c('preempted')}, {c('unseen')} | run_delay {pr['run_delay_us'] / 1e3:,.1f} ms, "
                         f"{pr['involuntary_switches']} preempted | {others_txt(pr.get('others', []))} |")
        if who == "hf" and "hf.worker.loop_gap_max_ns" in r:
            g = lambda k: r.get("hf.worker." + k) or 0
            hb = {k: g("loop_stall." + k) for k in ("snapshot", "rx", "arp", "tcp", "tx", "outside")}
            srows.append(f"| {f}%: hydrofoil's own worker loop | — | — | "
                         f"gap p99.99 {g('loop_gap_p9999_ns') / 1e3:.1f}, max {g('loop_gap_max_ns') / 1e3:,.1f} µs; "
                         f"{g('loop_stalls')} stalls ({blame_txt(hb)}; {g('loop_stalls_over_500us')} over 500 µs, "
                         f"{g('loop_stalls_over_5ms')} over 5 ms; {sw_txt(g('loop_stall.preempted'), g('loop_stall.blocked'), g('loop_stall.unswitched'), g('loop_stall_unswitched_max_ns') / 1e3)}; in those with no switch, longest rx {g('unswitched_longest_rx_ns') / 1e3:.1f}, tcp {g('unswitched_longest_tcp_ns') / 1e3:.1f}, tx {g('unswitched_longest_tx_ns') / 1e3:.1f}, outside {g('unswitched_longest_outside_ns') / 1e3:.1f} µs); longest rx {g('longest_rx_ns') / 1e3:.1f}, "
                         f"tcp {g('longest_tcp_ns') / 1e3:.1f}, tx {g('longest_tx_ns') / 1e3:.1f}, arp "
                         f"{g('longest_arp_ns') / 1e3:.1f}, outside {g('longest_outside_ns') / 1e3:,.1f} µs | "
                         f"{thr_txt(hf_threads(name))} | (above) |")
if srows:
    print()
    print(f"Stalls in the open-loop runs (loadgen --lcores {E['LG_LCORES']}, CPUs through hydrofoil: {E['LG_CPUS'] or 'all'}): latency of all measured requests, "
          "and of those during which neither process's loop had a gap over 50 µs; the loop gaps of the loadgen's "
          "worker (the first row of each pair) and of hydrofoil's, each stall blamed on the longest piece of work "
          "in it (outside: between two iterations, i.e. the loadgen's hooks or the thread not running); and per "
          "thread of the process, over the run, the CPU it ran on, the time it ran, the time it waited runnable "
          "while another task had that CPU, and its involuntary context switches; last, the other threads of the "
          "machine that ran longest over the loadgen's run (not the loadgen's own; hydrofoil's are among them), "
          "with how long each of their turns on a CPU lasted.")
    print()
    print("| run | p50 / p99 / p99.9 / max µs | p99 / p99.9 without loop stalls | worker loop | threads | "
          "other threads that ran |")
    print("|---|---:|---:|---|---|---|")
    print("\n".join(srows))
PY
echo
echo "hf-loadgen and hydrofoil, two DPDK processes over net_memif in one private netns (198.51.100.0/24), both"
echo "\`--no-huge -m $MEM --no-pci\`, each its own --file-prefix. Core 1: hydrofoil's worker (lcore 1, busy-polling); core 0: the"
echo "loadgen (main and worker lcore) and hydrofoil's agent. The loadgen process is both the clients and the upstream (its"
echo "server role): through hydrofoil on one memif port, in the baseline straight to itself over both ends of one memif link."
echo "Each run: fresh processes and memif socket, $RUN_S s (${WARM} s warm-up, ${DUR} s measured); hydrofoil and baseline runs alternate."
echo "Hydrofoil: tcp.max_connections $MAXC_RUN (phase 4: connections asked + 16384, http.max_requests 16384, one http listener"
echo "per 25,000 connections, -m 1024 + 1 MB per 300 connections for both processes), tcp.time_wait_ms 1000 (the loadgen's own),"
echo "idle_timeout_ms 600000. Ratios are hydrofoil ÷ baseline, or ÷ the target."
echo "The runs took ${TOTAL_SECS:-?} s; $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), load average before: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Core 1 (hydrofoil's worker; hf-tscprobe --clock: its clock from the quickest of many chunks of dependent additions, and the latency of dependent loads) before: ${CLOCK0:-not measured}; after: $(core_clock || echo not measured)."
for d in "${HF_DEATHS[@]}"; do echo "A target process died during a run: $d."; done
exit 0
