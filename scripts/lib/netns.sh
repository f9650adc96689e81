# shellcheck shell=bash
# Helpers for the integration tests and the demo: private network namespaces,
# hydrofoil on a net_tap inside them, admin queries, TAP-style results, and a
# cleanup that runs on every exit path. Source it; do not run it.
#
# Every namespace and process made here is recorded and removed by hf_cleanup,
# which is installed as the EXIT trap. Processes are ended by their PID only.

HF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HF_BIN=${HF_BIN:-$HF_ROOT/${HF_BUILD_DIR:-build}/dataplane/hydrofoil}
HF_PY=/usr/bin/python3	# Debian's python, which has scapy
HF_NAMESPACES=()
HF_PIDS=()
HF_TMP=$(mktemp -d /tmp/hf-test.XXXXXX)
HF_PASS=0
HF_FAIL=0
HF_SKIP=0

# hf_end_pids PID...: SIGTERM, up to 2 s for them to go, then SIGKILL.
hf_end_pids() {
	local pid i
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	for i in $(seq 20); do
		for pid in "$@"; do kill -0 "$pid" 2>/dev/null && break; done
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$@" 2>/dev/null || true
}

hf_cleanup() {
	local pid ns i
	for pid in "${HF_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || continue
		for i in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	# hf_ns_new usually runs in a command substitution, whose HF_NAMESPACES+= is
	# lost: its names carry this shell's PID ($$ is the same in subshells), so
	# every namespace this script made is found by name as well.
	for ns in "${HF_NAMESPACES[@]}" $(ip netns list 2>/dev/null | awk -v t="-$$-" 'index($1, t) { print $1 }'); do
		# What still runs inside the namespace: a server started as `in_ns CMD &` is the
		# child of the subshell whose PID the test kept, and outlives it (and the namespace).
		hf_end_pids $(ip netns pids "$ns" 2>/dev/null)
		ip netns del "$ns" 2>/dev/null || true
	done
	HF_PIDS=()
	HF_NAMESPACES=()
	[ -n "${HF_KEEP_TMP:-}" ] || rm -rf "$HF_TMP"
}
trap hf_cleanup EXIT
trap 'exit 130' INT TERM

# hf_forget_pid PID: drops PID from HF_PIDS (a process the test ended itself). The exact
# element: ${HF_PIDS[@]/PID} would cut PID out of every longer PID that holds its digits,
# and the cleanup then misses those processes.
hf_forget_pid() {
	local keep=() p
	for p in "${HF_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	HF_PIDS=("${keep[@]}")
}

# hf_ns_new TAG: creates a namespace with a unique name, prints the name.
hf_ns_new() {
	local ns="hf-$1-$$-$RANDOM"
	ip netns add "$ns" || return 1
	HF_NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up
	echo "$ns"
}

# HF_WORKERS=N (default 1): the workers of the bootstraps hf_cfg writes. With more than one,
# the agent's lcore and the N workers' all float over the CPUs this shell may run on, as
# DPDK's --lcores map "(0-N)@(CPUS)": N busy-polling workers fit on 2 CPUs, slower, still
# correct. hf_workers prints N, hf_lcores the dpdk.lcores value.
hf_workers() {
	local n=${HF_WORKERS:-1}
	[[ "$n" =~ ^[1-9][0-9]*$ ]] || n=1
	echo "$n"
}
hf_lcores() {
	local n cpus
	n=$(hf_workers)
	if [ "$n" -eq 1 ]; then
		echo "0-1"
		return
	fi
	cpus=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' /proc/self/status)
	echo "(0-$n)@(${cpus:-0-1})"
}

# hf_cfg FILE IFACE ADDRESS/LEN GATEWAY [EXTRA]: writes a bootstrap for one tap port, with
# $(hf_workers) workers (one queue pair each, RSS over them).
hf_cfg() {
	cat > "$1" <<CFG
node:  { id = "gw-test"; cluster = "hydrofoil"; labels = [ "istio=ingressgateway" ]; };
dpdk:  { lcores = "$(hf_lcores)"; args = [ "--no-pci", "--in-memory", "--log-level=lib.eal:error" ]; };
ports = ( { name = "p0"; device = "net_tap0,iface=$2"; address = "$3";
            gateway = "$4"; mtu = 1500; } );
workers = $(hf_workers);
admin: { address = "127.0.0.1"; port = 15000; };
${5:-}
CFG
}

# hf_memif_cfg FILE SOCKET ADDR [DEVICE_ARGS [MEM_MB [EXTRA]]]: a one-worker bootstrap on a
# memif server port (socket SOCKET, ",DEVICE_ARGS" appended) at ADDR/24, --no-huge -m MEM_MB
# (512), then EXTRA (listeners, clusters, tcp...); HF_PORT_EXTRA: settings added to the port.
hf_memif_cfg() {
	cat > "$1" <<CFG
node:  { id = "gw-memif"; cluster = "hydrofoil"; };
dpdk:  { lcores = "0-1"; args = [ "--no-pci", "--no-huge", "-m", "${5:-512}", "--log-level=lib.eal:error" ]; };
ports = ( { name = "p0"; device = "net_memif0,role=server,socket=$2${4:+,$4}"; address = "$3/24"; mtu = 1500; ${HF_PORT_EXTRA:-} } );
workers = 1;
admin: { address = "127.0.0.1"; port = 15000; };
${6:-}
CFG
}
# HF_LG_ROUTES: an http listener's route_config sending everything to cluster "lg".
HF_LG_ROUTES='{ virtual_hosts = ( { name = "all"; domains = [ "*" ];
          routes = ( { name = "lg"; match = { prefix = "/"; }; route = { cluster = "lg"; }; } ); } ); }'
# hf_lg_field KEY: a top-level or dotted (errors.reset) field of the last JSON line on stdin
# (hf-loadgen's --json report); nothing when there is none.
hf_lg_field() { "$HF_PY" -c 'import json,sys
d=json.loads(sys.stdin.read().strip().splitlines()[-1])
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1" 2>/dev/null; }
# hf_start NS CFG LOG: starts hydrofoil in NS; sets HF_PID.
hf_start() {
	ip netns exec "$1" "$HF_BIN" -c "$2" > "$3" 2>&1 &
	HF_PID=$!
	HF_PIDS+=("$HF_PID")
}

# hf_tap_up NS IFACE ADDRESS/LEN: waits for the tap, gives the kernel side its
# address (IPv6 off, so no router solicitations reach the counters) and brings it up.
hf_tap_up() {
	local i
	for i in $(seq 100); do
		ip -n "$1" link show "$2" >/dev/null 2>&1 && break
		sleep 0.1
	done
	ip netns exec "$1" sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" || return 1
	ip -n "$1" addr add "$3" dev "$2" || return 1
	ip -n "$1" link set "$2" up
}

# hf_admin NS PATH: GET on the admin port inside NS.
hf_admin() {
	ip netns exec "$1" curl -s --max-time 5 "http://127.0.0.1:15000$2"
}

# hf_wait_ready NS [SECONDS]: waits until /ready says LIVE.
hf_wait_ready() {
	local i
	for i in $(seq $((${2:-20} * 10))); do
		[ "$(hf_admin "$1" /ready 2>/dev/null)" = "LIVE" ] && return 0
		kill -0 "$HF_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# hf_up NS CFG LOG PEER/LEN: starts hydrofoil in NS, brings the kernel side
# of its tap hf0 up as PEER/LEN and waits for LIVE. On failure prints the log.
hf_up() {
	hf_start "$1" "$2" "$3"
	hf_tap_up "$1" hf0 "$4" || return 1
	if ! hf_wait_ready "$1" 20; then
		cat "$3"
		return 1
	fi
}

# hf_stat NS NAME: one counter's value (empty when absent).
hf_stat() {
	hf_admin "$1" /stats | awk -v n="$2:" '$1 == n { print $2 }'
}

# TAP-style results, counted by scripts/test.sh. A check that cannot run here (a tool
# missing, a condition the test could not bring about) is a skip, never an ok:
# hf_skip "WHAT: why" prints "skip - WHAT: why", and scripts/test.sh counts it apart.
hf_ok() { HF_PASS=$((HF_PASS + 1)); echo "ok - $*"; }
hf_not_ok() { HF_FAIL=$((HF_FAIL + 1)); echo "not ok - $*"; }
hf_skip() { HF_SKIP=$((HF_SKIP + 1)); echo "skip - $*"; }
# hf_check DESCRIPTION COMMAND...: runs COMMAND, reports its verdict.
hf_check() {
	local desc=$1
	shift
	if "$@"; then hf_ok "$desc"; else hf_not_ok "$desc"; fi
}
# hf_check_stop [PID [WHAT [SECONDS]]]: SIGTERM to PID (default HF_PID, "hydrofoil"),
# which must exit with status 0 within SECONDS (default 10).
hf_check_stop() {
	local pid=${1:-$HF_PID} what=${2:-hydrofoil} secs=${3:-10} rc
	kill -TERM "$pid"
	for _ in $(seq $((secs * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		hf_not_ok "SIGTERM stops $what within $secs s"
		return
	fi
	wait "$pid" 2>/dev/null
	rc=$?
	hf_check "SIGTERM stops $what with status 0" test "$rc" -eq 0
}
# hf_done: exit status for the test script.
hf_done() {
	[ "$HF_FAIL" -eq 0 ]
}
