#!/usr/bin/env bash
# shellcheck disable=SC2153 # HF_PID is set by hf_up in scripts/lib/netns.sh
# Side-by-side HTTP proxy benchmark: wrk through Hydrofoil, through nginx
# (proxy_pass to a keep-alive upstream) and through HAProxy (http mode,
# keep-alive to the server), all in front of the same upstream nginx serving a
# small static body, plus wrk straight to that upstream as a baseline. Prints
# one Markdown table. Figures are measured, never asserted.
#
# Everything runs inside one private network namespace (198.51.100.0/24 only):
#   198.51.100.1:8080  upstream nginx (kernel side)
#   198.51.100.1:81    nginx as proxy
#   198.51.100.1:82    HAProxy
#   198.51.100.2:80    Hydrofoil, on its net_tap whose kernel side hf0 is 198.51.100.1/24
# Placement on the two cores: core 0 runs wrk, the upstream nginx and
# Hydrofoil's control agent; core 1 runs the proxy under test and nothing else
# (one nginx worker, one HAProxy thread, or Hydrofoil's busy-polling worker).
# The peers' rows run first, then Hydrofoil is started for its own row, so no
# busy-polling worker competes with a peer for core 1.
#
# CPU cycles per request: Hydrofoil's `worker.busy_cycles` delta (TSC) over the
# measured run divided by the requests wrk completed; for nginx and HAProxy the
# utime+stime delta of all their processes (master and worker) times the TSC
# frequency, divided by the requests. The TSC frequency is measured with
# `perf stat -e msr/tsc/` when perf can, else taken from /proc/cpuinfo.
#
# Usage: bench/http/proxy_compare.sh [--duration 10s] [--connections 50]
#          [--warmup 2s] [--body 100] [--no-hydrofoil] [--no-header-parity]
#          [--hf-filter http|tcp_proxy] [--upstream-sendfile off|on] [--save]
#   --no-hydrofoil      peer rows only (also automatic when `hydrofoil --check`
#                       refuses a config with filter = "http")
#   --no-header-parity  peers add no X-Forwarded-For / -Proto / X-Request-Id
#   --hf-filter tcp_proxy  Hydrofoil's row through its L4 tcp_proxy instead of the
#                       HTTP listener (checks the harness; not an HTTP comparison)
#   --upstream-sendfile on  the upstream sends head and body with writev + sendfile,
#                       i.e. two TCP segments per response (default off: one)
#   --save              also writes the output to bench/results/proxy_compare-<time>.md
# Environment: HF_BUILD_DIR (where the daemon is, default build), HF_QUIET_WAIT
# (seconds to wait before each measured run for other processes on the machine
# to use under 10% of a core, default 300), HF_ATTEMPTS (measured runs per row
# when others were busy during one, the quietest is kept, default 3),
# HF_KEEP_TMP=1 (keep the temp dir with configs and logs).
# Needs root, the built daemon (this script builds nothing), nginx, haproxy,
# wrk; perf is optional. Takes about a minute on a quiet machine.
set -uo pipefail
# shellcheck source=../../scripts/lib/netns.sh
source "$(dirname "$0")/../../scripts/lib/netns.sh"

DURATION=10s
CONNS=50
THREADS=1
WARMUP=2s
BODY=100
RUN_HF=1
PARITY=1
SAVE=0
HF_FILTER=http
SENDFILE=off
while [ $# -gt 0 ]; do
	case $1 in
	--duration) DURATION=$2; shift ;;
	--connections) CONNS=$2; shift ;;
	--warmup) WARMUP=$2; shift ;;
	--body) BODY=$2; shift ;;
	--no-hydrofoil) RUN_HF=0 ;;
	--no-header-parity) PARITY=0 ;;
	--hf-filter) HF_FILTER=$2; shift ;;
	--upstream-sendfile) SENDFILE=$2; shift ;;
	--save) SAVE=1 ;;
	-h|--help) sed -n '3,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "proxy_compare: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

[ "$(id -u)" -eq 0 ] || { echo "proxy_compare: needs root (namespaces, hugepages)" >&2; exit 1; }
for t in nginx haproxy wrk taskset curl; do
	command -v "$t" >/dev/null || { echo "proxy_compare: $t not found" >&2; exit 1; }
done

OUR=198.51.100.2
PEER=198.51.100.1
# A temp dir of our own name: other scripts' cleanups of /tmp/hf-test.* must not take ours.
rmdir "$HF_TMP"
HF_TMP=$(mktemp -d /tmp/hf-pxcmp.XXXXXX)
T=$HF_TMP
RES=$T/results
: > "$RES"
mkdir -p "$T/www" "$T/up" "$T/ngx" "$T/hap"
chmod 755 "$T"
head -c "$BODY" /dev/zero | tr '\0' 'x' > "$T/www/index.html"
chmod 644 "$T/www/index.html"
PATH_Q=/index.html
TCK=$(getconf CLK_TCK)

NS=$(hf_ns_new pxcmp) || { echo "proxy_compare: cannot create a namespace" >&2; exit 1; }
# hf_ns_new ran in a command substitution, so its own record of the namespace was lost.
HF_NAMESPACES+=("$NS")
# The kernel side's address lives on lo until Hydrofoil's tap exists; the
# listening sockets bound to it stay valid when it moves to hf0.
ip -n "$NS" addr add "$PEER/32" dev lo
nsx() { ip netns exec "$NS" "$@"; }

# ---- configs -----------------------------------------------------------------

# nginx_common DIR: the main-context lines every nginx instance shares.
nginx_common() {
	cat <<EOF
user root;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 8192; }
EOF
}
nginx_temp_paths() {
	local d
	for d in client_body proxy fastcgi uwsgi scgi; do
		echo "  ${d}_temp_path $1/${d}_temp;"
	done
}

{
	nginx_common "$T/up"
	cat <<EOF
http {
  access_log off;
$(nginx_temp_paths "$T/up")
  default_type text/html;
  sendfile $SENDFILE;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  server {
    listen $PEER:8080 backlog=4096;
    root $T/www;
  }
  server {
    listen 127.0.0.1:8081;
    location = /nginx_status { stub_status; }
  }
}
EOF
} > "$T/up/nginx.conf"

if [ "$PARITY" = 1 ]; then
	# shellcheck disable=SC2016 # nginx variables, not shell ones
	NGX_HDRS='    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto http;
    proxy_set_header X-Request-Id $request_id;'
	HAP_HDRS='  option forwardfor
  http-request set-header X-Forwarded-Proto http
  http-request set-header X-Request-Id %[uuid] unless { req.hdr(x-request-id) -m found }'
else
	NGX_HDRS=''
	HAP_HDRS=''
fi

{
	nginx_common "$T/ngx"
	cat <<EOF
http {
  access_log off;
$(nginx_temp_paths "$T/ngx")
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  upstream web {
    server $PEER:8080;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen $PEER:81 backlog=4096;
    location / {
      proxy_pass http://web;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
$NGX_HDRS
    }
  }
}
EOF
} > "$T/ngx/nginx.conf"

cat > "$T/hap/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
  option http-keep-alive
  http-reuse always
frontend fe
  bind $PEER:82
$HAP_HDRS
  default_backend be
backend be
  server up $PEER:8080
EOF

if [ "$HF_FILTER" = http ]; then
	HF_LISTENER='{ name = "http"; port = 80; filter = "http";
      route_config = { virtual_hosts = (
        { name = "web"; domains = [ "*" ];
          routes = ( { match = { prefix = "/"; }; route = { cluster = "web"; }; } ); } ); }; }'
	HF_NAME="Hydrofoil $("$HF_BIN" --version 2>/dev/null | awk '{ print $2 }')"
else
	HF_LISTENER='{ name = "l4"; port = 80; filter = "tcp_proxy"; cluster = "web"; }'
	HF_NAME="Hydrofoil $("$HF_BIN" --version 2>/dev/null | awk '{ print $2 }') (tcp_proxy, L4 only)"
fi
hf_cfg "$T/hf.cfg" hf0 "$OUR/24" "$PEER" "
static_resources: {
  listeners = ( $HF_LISTENER );
  clusters = ( { name = \"web\"; connect_timeout_ms = 1000; endpoints = [ \"$PEER:8080\" ]; } );
};"

cat > "$T/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "requests=%d duration_us=%d bytes=%d mean_us=%.1f p50_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration, summary.bytes, latency.mean,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
EOF

# ---- helpers -------------------------------------------------------------------

# pids_tree PID...: the PIDs and their children (nginx's workers).
pids_tree() {
	local p
	for p in "$@"; do
		echo "$p"
		cat /proc/"$p"/task/*/children 2>/dev/null | tr ' ' '\n' | grep .
	done
}
# cpu_ticks PID...: utime+stime in clock ticks, summed over the PIDs and their children.
cpu_ticks() {
	local p s t=0
	for p in $(pids_tree "$@"); do
		s=$(cat /proc/"$p"/stat 2>/dev/null) || continue
		s=${s##*) }
		# shellcheck disable=SC2086
		set -- $s
		t=$((t + ${12} + ${13}))
	done
	echo "$t"
}
# sched_ns PID...: on-CPU time in ns from schedstat (every thread), as a cross-check.
sched_ns() {
	local p f t=0 a
	for p in $(pids_tree "$@"); do
		for f in /proc/"$p"/task/*/schedstat; do
			read -r a _ < "$f" 2>/dev/null || continue
			t=$((t + a))
		done
	done
	echo "$t"
}
# upstream_status: "accepts requests" of the upstream nginx (stub_status).
upstream_status() {
	nsx curl -s --max-time 2 http://127.0.0.1:8081/nginx_status | awk 'NR == 3 { print $1, $3 }'
}
# wait_http URL: until a GET answers 200 with the whole body.
wait_http() {
	for _ in $(seq 50); do
		[ "$(nsx curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 1 "$1")" = "200 $BODY" ] &&
			return 0
		sleep 0.1
	done
	return 1
}
# start_pinned CORE LOG CMD...: runs CMD in the namespace on CORE, records its PID
# (ip and taskset exec, so it is CMD's own PID).
start_pinned() {
	local core=$1 log=$2
	shift 2
	ip netns exec "$NS" taskset -c "$core" "$@" > "$log" 2>&1 &
	LAST_PID=$!
	HF_PIDS+=("$LAST_PID")
	echo "$*" > "$T/cmd.$LAST_PID"
}
# wrk_run DURATION URL: wrk pinned to core 0; prints its report line plus
# wrk_ticks, the CPU wrk used (the subshell's reaped children, via `times`).
wrk_run() {
	(
		nsx taskset -c 0 wrk -t"$THREADS" -c"$CONNS" -d"$1" --latency -s "$T/report.lua" "$2" 2>&1 |
			grep '^requests=' | tr '\n' ' '
		times > "$T/times"	# no pipe: a forked `times` would see no children
		awk -v hz="$TCK" 'NR == 2 {
			n = 0
			for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] }
			printf "wrk_ticks=%.0f\n", n * hz }' "$T/times"
	)
}
# hf_counters: Hydrofoil's /stats as "name value" lines.
hf_counters() {
	hf_admin "$NS" /stats | awk -F': ' 'NF == 2 { print $1, $2 }'
}
# sys_ticks: busy clock ticks of the whole machine (user nice system irq softirq) and steal.
sys_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8, $9 }' /proc/stat
}
# wait_quiet: waits (up to HF_QUIET_WAIT seconds, default 300) until processes
# other than ours use less than 10% of a core over one second, so that nobody
# else's build or test shares the cores with a measured run. Sets QUIET_WAITED.
wait_quiet() {
	local a0 a1 m0 m1 i limit=${HF_QUIET_WAIT:-300}
	QUIET_WAITED=0
	for ((i = 0; i < limit; i++)); do
		read -r a0 _ < <(sys_ticks); m0=$(cpu_ticks "${MY_PIDS[@]}" "${KSOFTIRQD[@]}")
		sleep 1
		read -r a1 _ < <(sys_ticks); m1=$(cpu_ticks "${MY_PIDS[@]}" "${KSOFTIRQD[@]}")
		[ $(((a1 - a0) - (m1 - m0))) -lt $((TCK / 10)) ] && return 0
		QUIET_WAITED=$((i + 1))
	done
	QUIET_WAITED="$limit (gave up)"
}
# alive: fails, saying why, when our namespace or one of our processes is gone
# (another script's cleanup on the same machine can do that).
alive() {
	local p
	[ -e "/run/netns/$NS" ] || { echo "namespace $NS vanished"; return 1; }
	for p in "${MY_PIDS[@]}"; do
		kill -0 "$p" 2>/dev/null || { echo "process $p ($(tr '\0' ' ' < "$T/cmd.$p" 2>/dev/null)) died"; return 1; }
	done
}
# thread_ticks PID: "tid comm ticks" of each of the process's threads.
thread_ticks() {
	local t s c
	for t in /proc/"$1"/task/*; do
		s=$(cat "$t/stat" 2>/dev/null) || continue
		c=$(cat "$t/comm" 2>/dev/null)
		s=${s##*) }
		# shellcheck disable=SC2086
		set -- $s
		echo "${t##*/} ${c// /_} $((${12} + ${13}))"
	done
}
# field NAME FILE: a counter from an hf_counters dump.
field() {
	awk -v n="$1" '$1 == n { print $2 }' "$2"
}

# measure_once NAME URL KIND PID...: warm-up, a wait for a quiet machine, then
# the measured run with CPU and counter snapshots around it. Sets MEASURED (one
# key=value line) and OTHER_PCT (CPU of everybody else during the run, % of a
# core). KIND: base (no proxy), peer (PIDs are the proxy), hf.
measure_once() {
	local name=$1 url=$2 kind=$3
	shift 3
	local c0 c1 s0 s1 u0 u1 uc0 uc1 us0 us1 m0 m1 a0 a1 k0 k1 st0 st1 line t0 t1 w
	wrk_run "$WARMUP" "$url" > /dev/null
	wait_quiet
	[ "$QUIET_WAITED" = 0 ] || NOTES+=("$name: waited ${QUIET_WAITED} s for other processes on the machine to go quiet before the measured run")
	u0=$(upstream_status)
	uc0=$(cpu_ticks "$UP_PID"); us0=$(sched_ns "$UP_PID")
	[ "$kind" = hf ] && { hf_counters > "$T/hf.before"; thread_ticks "$HF_PID" > "$T/hf.threads.before"; }
	[ "$kind" = peer ] && { c0=$(cpu_ticks "$@"); s0=$(sched_ns "$@"); }
	alive > "$T/why" || return 1
	m0=$(cpu_ticks "${MY_PIDS[@]}")
	k0=$(cpu_ticks "${KSOFTIRQD[@]}")
	read -r a0 st0 < <(sys_ticks)
	t0=$(date +%s%N)
	line=$(wrk_run "$DURATION" "$url")
	t1=$(date +%s%N)
	read -r a1 st1 < <(sys_ticks)
	k1=$(cpu_ticks "${KSOFTIRQD[@]}")
	m1=$(cpu_ticks "${MY_PIDS[@]}")
	alive > "$T/why" || return 1
	[ "$kind" = hf ] && { hf_counters > "$T/hf.after"; thread_ticks "$HF_PID" > "$T/hf.threads.after"; }
	[ "$kind" = peer ] && { c1=$(cpu_ticks "$@"); s1=$(sched_ns "$@"); }
	uc1=$(cpu_ticks "$UP_PID"); us1=$(sched_ns "$UP_PID")
	u1=$(upstream_status)
	case $line in requests=*) ;; *) line="requests=0 wrk_failed=1 $line" ;; esac
	w=$(sed -n 's/.*wrk_ticks=\([0-9]*\).*/\1/p' <<< "$line")
	line="row=$name kind=$kind wall_ns=$((t1 - t0)) $line"
	line+=" up_ticks=$((uc1 - uc0)) up_sched_ns=$((us1 - us0))"
	line+=" up_accepts=$(( ${u1% *} - ${u0% *} - 1 )) up_requests=$(( ${u1#* } - ${u0#* } - 1 ))"
	line+=" other_ticks=$(((a1 - a0) - (m1 - m0) - (k1 - k0) - ${w:-0})) steal_ticks=$((st1 - st0))"
	line+=" ksoftirqd_ticks=$((k1 - k0)) wrk_cpu_ticks=${w:-0}"
	if [ "$kind" = peer ]; then
		line+=" ticks=$((c1 - c0)) sched_ns=$((s1 - s0))"
	elif [ "$kind" = hf ]; then
		line+=" busy_cycles=$(($(field worker.busy_cycles "$T/hf.after") - $(field worker.busy_cycles "$T/hf.before")))"
		for c in worker.idle_cycles worker.loops worker.idle_loops worker.stack_cycles \
			worker.stack_packets port.tx_packets port.tx_retried; do
			line+=" ${c#*.}=$(($(field "$c" "$T/hf.after") - $(field "$c" "$T/hf.before")))"
		done
	fi
	MEASURED=$line
	OTHER_PCT=$(( ((a1 - a0) - (m1 - m0) - (k1 - k0) - ${w:-0}) * 100 * 1000000000 / TCK / (t1 - t0) ))
}

# measure NAME URL KIND PID...: measure_once until a run had under 10% of a core
# of foreign load, at most HF_ATTEMPTS (default 3) times; keeps the quietest run.
measure() {
	local i best="" best_other=1000000
	for ((i = 1; i <= ${HF_ATTEMPTS:-3}; i++)); do
		if ! measure_once "$@"; then
			echo "proxy_compare: $1: $(cat "$T/why"); stopping" >&2
			[ "$3" = hf ] && return 1
			exit 1
		fi
		if [ "$OTHER_PCT" -lt "$best_other" ]; then
			best=$MEASURED
			best_other=$OTHER_PCT
			if [ "$3" = hf ]; then
				for f in hf.before hf.after hf.threads.before hf.threads.after; do cp "$T/$f" "$T/$f.best"; done
			fi
		fi
		[ "$OTHER_PCT" -lt 10 ] && break
		NOTES+=("$1: measured run $i had ${OTHER_PCT}% of a core used by other processes")
	done
	if [ "$3" = hf ]; then
		for f in hf.before hf.after hf.threads.before hf.threads.after; do mv "$T/$f.best" "$T/$f"; done
	fi
	[ "$3" = hf ] && HF_WALL_NS=$(sed -n 's/.* wall_ns=\([0-9]*\) .*/\1/p' <<< "$best")
	echo "$best" >> "$RES"
}

# ---- run ---------------------------------------------------------------------

NOTES=()
# The kernel's softirq threads do network work for whoever sent the packets;
# counted apart from "other load".
KSOFTIRQD=()
for f in /proc/[0-9]*/comm; do
	case $(cat "$f" 2>/dev/null) in ksoftirqd/*) p=${f#/proc/}; KSOFTIRQD+=("${p%/comm}") ;; esac
done
TSC_HZ=$(perf stat -e msr/tsc/ -C 1 -x, sleep 1 2>&1 >/dev/null |
	awk -F, '$3 == "msr/tsc/" && $4 > 0 { printf "%.0f", $1 / ($4 / 1e9) }')
if [ -n "$TSC_HZ" ] && [ "$TSC_HZ" -gt 0 ] 2>/dev/null; then
	TSC_HOW="measured: perf stat -e msr/tsc/ over 1 s"
else
	TSC_HZ=$(awk -F': ' '/^cpu MHz/ { printf "%.0f", $2 * 1e6; exit }' /proc/cpuinfo)
	TSC_HOW="/proc/cpuinfo cpu MHz (perf could not count msr/tsc)"
fi
CPU_MHZ=$(awk -F': ' '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)

start_pinned 0 "$T/up/stderr" nginx -p "$T/up" -e "$T/up/error.log" -c "$T/up/nginx.conf" -g 'daemon off;'
UP_PID=$LAST_PID
start_pinned 1 "$T/ngx/stderr" nginx -p "$T/ngx" -e "$T/ngx/error.log" -c "$T/ngx/nginx.conf" -g 'daemon off;'
NGX_PID=$LAST_PID
start_pinned 1 "$T/hap/stderr" haproxy -db -f "$T/hap/haproxy.cfg"
HAP_PID=$LAST_PID
MY_PIDS=("$UP_PID" "$NGX_PID" "$HAP_PID")

for u in "http://$PEER:8080$PATH_Q" "http://$PEER:81$PATH_Q" "http://$PEER:82$PATH_Q"; do
	if ! wait_http "$u"; then
		echo "proxy_compare: no 200 from $u" >&2
		cat "$T"/up/error.log "$T"/ngx/error.log "$T"/ngx/stderr "$T"/hap/stderr >&2 2>/dev/null
		exit 1
	fi
done

measure "upstream nginx, direct (baseline)" "http://$PEER:8080$PATH_Q" base
measure "nginx $(nginx -v 2>&1 | sed 's,.*/,,')" "http://$PEER:81$PATH_Q" peer "$NGX_PID"
measure "HAProxy $(haproxy -v | awk 'NR == 1 { print $3 }')" "http://$PEER:82$PATH_Q" peer "$HAP_PID"

HF_STATE=skipped
if [ "$RUN_HF" = 1 ]; then
	if [ ! -x "$HF_BIN" ]; then
		HF_STATE="not built ($HF_BIN missing)"
	elif ! chk=$("$HF_BIN" -c "$T/hf.cfg" --check 2>&1); then
		HF_STATE="HTTP listener not available: --check says: $(echo "$chk" | tail -1)"
	else
		ip -n "$NS" addr del "$PEER/32" dev lo
		if ! hf_up "$NS" "$T/hf.cfg" "$T/hf.log" "$PEER/24" > "$T/hf.upfail" 2>&1; then
			HF_STATE="did not become LIVE: $(tail -3 "$T/hf.log" | tr '\n' ' ')"
		elif ! MY_PIDS+=("$HF_PID") || ! wait_http "http://$OUR$PATH_Q"; then
			HF_STATE="no 200 from http://$OUR$PATH_Q: $(nsx curl -s -i --max-time 2 "http://$OUR$PATH_Q" | head -1)"
			hf_counters > "$T/hf.after"
		else
			if measure "$HF_NAME" "http://$OUR$PATH_Q" hf; then
				HF_STATE=ran
			else
				HF_STATE="stopped: $(cat "$T/why")"
			fi
		fi
		kill -TERM "$HF_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$HF_PID" 2>/dev/null || break; sleep 0.1; done
		wait "$HF_PID" 2>/dev/null
		HF_RC=$?
		kill -0 "$HF_PID" 2>/dev/null && HF_RC="still running 5 s after SIGTERM"
		NOTES+=("Hydrofoil exit status after SIGTERM: $HF_RC")
	fi
fi

for f in "$T"/up/error.log "$T"/ngx/error.log "$T"/ngx/stderr "$T"/hap/stderr; do
	[ -s "$f" ] && NOTES+=("$(basename "$(dirname "$f")")/$(basename "$f"): $(tail -3 "$f" | tr '\n' ' ')")
done
if [ "$HF_STATE" = ran ] || [ -s "$T/hf.after" ]; then
	# Drops, errors and non-2xx counters that moved during Hydrofoil's run.
	moved=$(awk 'NR == FNR { b[$1] = $2; next }
		($1 ~ /drop|fail|timeout|rq_[1345]xx|no_route|no_healthy|destroy_with|retrans/) && $2 != b[$1] {
			printf "%s +%d, ", $1, $2 - b[$1] }' "$T/hf.before" "$T/hf.after" 2>/dev/null)
	[ -n "$moved" ] && NOTES+=("Hydrofoil counters that moved during its run: ${moved%, }")
	# Lines that are not the final counter dump ("name: value").
	grep -vE '^ *[a-z0-9_.]+: [0-9]+$' "$T/hf.log" 2>/dev/null | grep -iE 'error|warn|fail|abort|assert' |
		head -5 > "$T/hf.loglines"
	[ -s "$T/hf.loglines" ] && NOTES+=("Hydrofoil log: $(tr '\n' ' ' < "$T/hf.loglines")")
	HF_DETAIL=$(awk -v always="$([ "$HF_FILTER" = http ] && echo '^http' || echo '^$')" 'NR == FNR { b[$1] = $2; next }
		$1 ~ /^(http\.(downstream_cx_total|downstream_rq_total|downstream_rq_2xx|downstream_rq_5xx|upstream_cx_total|upstream_rq_total|upstream_cx_reused|upstream_cx_idle_closed)|tcp_proxy\..*|tcp\.(retransmits|rto_expired|cx_passive_opens|cx_active_opens|cx_reset_received|cx_reset_sent))$/ &&
		($1 ~ always || $2 != b[$1]) {
			printf "%s %d\n", $1, $2 - b[$1] }' "$T/hf.before" "$T/hf.after" 2>/dev/null)
	[ -n "$HF_DETAIL" ] && echo "$HF_DETAIL" > "$T/hf.detail"
	if [ -s "$T/hf.threads.after" ]; then
		HF_THREADS=$(awk -v tck="$TCK" -v wall="${HF_WALL_NS:-1}" 'NR == FNR { b[$1] = $3; next }
			{ printf "%s %.0f%%, ", $2, ($3 - b[$1]) / tck / (wall / 1e9) * 100 }' \
			"$T/hf.threads.before" "$T/hf.threads.after")
		NOTES+=("Hydrofoil's threads over the measured run (/proc, % of a core): ${HF_THREADS%, }; only the worker's busy cycles are in the table")
	fi
fi

report() {
	"$HF_PY" - "$RES" "$TSC_HZ" "$TCK" <<'PY'
import sys
res, hz, tck = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rows = []
for line in open(res):
    name = line.split("row=", 1)[1].split(" kind=", 1)[0]
    kind, rest = line.split(" kind=", 1)[1].split(" ", 1)
    d = {"name": name, "kind": kind}
    for tok in rest.split():
        k, _, v = tok.partition("=")
        try:
            d[k] = float(v)
        except ValueError:
            pass
    rows.append(d)

def g(d, k):
    return d.get(k, 0.0)

def lat(us):
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"

def pct(ticks, d):
    return ticks / tck / (d["wall_ns"] / 1e9) * 100

for d in rows:
    n = g(d, "requests")
    wall = d["wall_ns"] / 1e9
    d["rps"] = n / (d["duration_us"] / 1e6) if n else 0
    if d["kind"] == "hf":
        busy, idle = g(d, "busy_cycles"), g(d, "idle_cycles")
        d["cyc"] = busy / n if n else 0
        d["util"] = busy / (busy + idle) if busy + idle else 0
    elif d["kind"] == "peer":
        d["cyc"] = g(d, "ticks") / tck * hz / n if n else 0
        d["util"] = g(d, "ticks") / tck / wall
    else:
        d["cyc"] = g(d, "up_ticks") / tck * hz / n if n else 0
        d["util"] = g(d, "up_ticks") / tck / wall
    d["upcyc"] = g(d, "up_ticks") / tck * hz / n if n else 0
    d["sock"] = sum(g(d, k) for k in ("err_connect", "err_read", "err_write", "err_timeout"))

ours = next((d for d in rows if d["kind"] == "hf" and g(d, "requests")), None)
print("| proxy | req/s | latency mean / p99 | CPU cycles per request | errors / non-2xx | Hydrofoil ÷ this |")
print("|---|---:|---:|---:|---:|---|")
for d in rows:
    if not g(d, "requests"):
        print(f"| {d['name']} | wrk completed no request | | | | |")
        continue
    ratio = "—"
    if ours is not None and d["kind"] == "peer":
        ratio = (f"req/s {ours['rps'] / d['rps']:.2f}×, "
                 f"mean {ours['mean_us'] / d['mean_us']:.2f}×, "
                 f"p99 {ours['p99_us'] / d['p99_us']:.2f}×, "
                 f"cycles/req {ours['cyc'] / d['cyc']:.2f}×")
    cyc = f"{d['cyc']:,.0f}" + ("¹" if d["kind"] == "hf" else "²")
    print(f"| {d['name']} | {d['rps']:,.0f} | {lat(d['mean_us'])} / {lat(d['p99_us'])} | {cyc} | "
          f"{d['sock']:.0f} / {g(d, 'err_status'):.0f} | {ratio} |")
print()
print("Same measured windows: requests wrk completed; the proxy's core busy share (the upstream's in the")
print("baseline row); upstream nginx connections accepted and requests served; the upstream's cycles per")
print("request; CPU seconds of the measured process by /proc/PID/stat and by schedstat (Hydrofoil: TSC);")
print("wrk's and the ksoftirqd threads' CPU, everybody else's (should be ~0) and hypervisor steal, in % of one core.\n")
print("| run | requests | proxy core busy | upstream conns opened | upstream requests | upstream cycles/req "
      "| CPU s stat / schedstat | wrk | ksoftirqd | other | steal |")
print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|")
for d in rows:
    if d["kind"] == "peer":
        cs = f"{g(d, 'ticks') / tck:.2f} / {g(d, 'sched_ns') / 1e9:.2f}"
    elif d["kind"] == "base":
        cs = f"{g(d, 'up_ticks') / tck:.2f} / {g(d, 'up_sched_ns') / 1e9:.2f}"
    else:
        cs = f"TSC: busy {g(d, 'busy_cycles') / hz:.2f} s of {(g(d, 'busy_cycles') + g(d, 'idle_cycles')) / hz:.2f} s"
    print(f"| {d['name']} | {g(d, 'requests'):,.0f} | {d['util'] * 100:.0f}% | {g(d, 'up_accepts'):.0f} | "
          f"{g(d, 'up_requests'):,.0f} | {d['upcyc']:,.0f} | {cs} | "
          f"{pct(g(d, 'wrk_cpu_ticks'), d):.0f}% | {pct(g(d, 'ksoftirqd_ticks'), d):.0f}% | "
          f"{max(0, pct(g(d, 'other_ticks'), d)):.0f}% | {pct(g(d, 'steal_ticks'), d):.0f}% |")
if ours is not None and g(ours, "loops"):
    n = g(ours, "requests")
    busy_loops = g(ours, "loops") - g(ours, "idle_loops")
    print(f"\nHydrofoil's worker over the measured run: {g(ours, 'stack_cycles') / n:,.0f} of its "
          f"{ours['cyc']:,.0f} busy cycles per request were in the stack (RX burst return to last frame, "
          f"I/O excluded), the rest is tap read/write syscalls and TX; "
          f"{g(ours, 'stack_packets') / n:.1f} frames in and {g(ours, 'tx_packets') / n:.1f} out per request; "
          f"{g(ours, 'stack_packets') / busy_loops:.2f} frames per busy iteration "
          f"({busy_loops:,.0f} busy of {g(ours, 'loops'):,.0f} iterations); "
          f"{g(ours, 'tx_retried'):,.0f} TX frames retried.")
PY
}

{
	echo "# HTTP proxies side by side, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo))"
	echo
	echo "wrk -t$THREADS -c$CONNS -d$DURATION --latency (after a $WARMUP warm-up), GET $PATH_Q, a ${BODY}-byte static body from the same upstream nginx (1 worker) for every row."
	echo "Placement: core 0 = wrk + upstream nginx + Hydrofoil's control agent (lcore 0); core 1 = the proxy under test alone:"
	echo "nginx 1 worker process (taskset -c 1), HAProxy nbthread 1 (taskset -c 1), Hydrofoil's worker (lcore 1, busy-polling, started only for its row)."
	echo "All in one private netns: upstream $PEER:8080, nginx proxy $PEER:81, HAProxy $PEER:82 (loopback), Hydrofoil $OUR:80 over net_tap hf0."
	echo
	report
	echo
	echo "¹ Hydrofoil: \`worker.busy_cycles\` delta (TSC cycles of loop iterations that received packets, tap read/write syscalls included; idle polling excluded) ÷ requests."
	echo "² peers: utime+stime delta of all the proxy's processes (/proc/PID/stat, ${TCK} Hz ticks) × TSC $(awk -v h="$TSC_HZ" 'BEGIN { printf "%.1f", h / 1e6 }') MHz (${TSC_HOW}; /proc/cpuinfo says ${CPU_MHZ} MHz) ÷ requests; the baseline row is the upstream nginx itself."
	echo "Kernel TCP work is charged to whichever process is on the CPU (loopback delivery often runs in the sender's context); wrk's CPU is in no row's cycles (its share is in the second table)."
	echo "Ratios are Hydrofoil's figure divided by the peer's: above 1 is better for req/s, below 1 is better for latency and cycles."
	echo "errors = wrk socket errors (connect+read+write+timeout); non-2xx = wrk's status errors (HTTP status ≥ 400)."
	echo "nginx upstream keepalive 64, keepalive_requests 1000000 everywhere; HAProxy http-reuse always; no access logs anywhere; upstream sendfile $SENDFILE."
	if [ "$PARITY" = 1 ]; then
		echo "Header parity: like Hydrofoil, nginx and HAProxy add X-Forwarded-For, X-Forwarded-Proto and X-Request-Id upstream (Hydrofoil also adds x-envoy-upstream-service-time downstream)."
	else
		echo "No header parity: nginx and HAProxy add no X-Forwarded-For/-Proto/X-Request-Id; Hydrofoil does."
	fi
	[ "$HF_STATE" = ran ] || echo "Hydrofoil row: $HF_STATE."
	[ -s "$T/hf.detail" ] && echo "Hydrofoil counters over the measured run: $(tr '\n' ',' < "$T/hf.detail" | sed 's/,$//; s/,/, /g')."
	for n in "${NOTES[@]}"; do echo "Note: $n"; done
} > "$T/out.md"

cat "$T/out.md"
if [ "$SAVE" = 1 ]; then
	mkdir -p "$HF_ROOT/bench/results"
	f=$HF_ROOT/bench/results/proxy_compare-$(date -u +%Y%m%d-%H%M%S).md
	cp "$T/out.md" "$f"
	echo
	echo "saved: ${f#"$HF_ROOT"/}"
fi
