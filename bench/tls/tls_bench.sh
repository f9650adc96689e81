#!/usr/bin/env bash
# shellcheck disable=SC2153 # HF_PID is set by hf_start in scripts/lib/netns.sh
# The TLS benchmark of issue 13, per worker core, in one run: full handshakes/s
# (TLS 1.3 and 1.2, ECDHE X25519 with an ECDSA P-256 certificate), resumed
# handshakes/s (TLS 1.3 tickets) and bulk throughput (AES-128-GCM), through
#   hydrofoil  an HTTPS Gateway (Istio YAML, one worker) over net_memif, loaded by
#              hf-loadgen's TLS client (--tls), the upstream the loadgen's server role;
#   nginx      one worker (worker_processes 1) on the same core, over the kernel path
#              (loopback in our namespace), proxy_pass to an upstream nginx, loaded by
#              `openssl s_time` (handshakes) and wrk with keep-alive (bulk);
#   ceiling    `openssl speed` on the same core: the server's own crypto for one
#              handshake (one ECDSA P-256 signature and two X25519 operations, its key
#              share and the shared secret), for a resumed TLS 1.3 one (the two X25519
#              operations of psk_dhe_ke), and AES-128-GCM over 16 KB records.
# Prints one Markdown table. Figures are measured, never asserted; the script exits 0
# even when a part fails (the table says why).
#
# Per core: a server's handshakes (or bytes) divided by the CPU time it spent on them,
# so that a client slower than the server, or a machine shared with others, still gives
# a per-core figure. Hydrofoil's worker busy-polls (its thread is on a CPU whenever the
# machine lets it, whatever the load), so its CPU for the work is the CPU time its thread
# got over the loadgen's run (/proc/PID/task/TID/schedstat) × the busy share of its loop
# (`worker.busy_cycles` ÷ busy + `worker.idle_cycles`: TSC cycles in iterations that
# received packets, against all), against its own `tls.handshakes` (or
# `http.downstream_rq_2xx` × body size) over the same span: time it was preempted counts
# for neither. nginx's is its worker's CPU time (schedstat, user and kernel) over the
# clients' run: its sockets' TCP work is in it, softirqs that ran in another task's time
# are not. The clients (hf-loadgen, s_time, wrk), the upstreams and hydrofoil's
# agent run on core 0; the server under test alone on core 1.
#
# Placement and layout as bench/loadgen/memif_bench.sh: one private namespace
# (198.51.100.0/24 for memif, 203.0.113.1 on its loopback for nginx), every process
# --no-huge, each run a fresh hydrofoil and a fresh loadgen over a fresh memif socket.
# Certificates from scripts/mkcert.sh (ECDSA P-256).
#
# Usage: bench/tls/tls_bench.sh [--duration S] [--warmup S] [--conns N] [--bulk BYTES]
#   --duration  measured seconds per run (default 5); --warmup: before it (default 1)
#   --conns     hf-loadgen's connection slots for handshakes (default 32) and bulk (16)
#   --bulk      response body of the bulk rows (default 262144)
#   --only      comma-separated runs to make (hf-full13,hf-full12,hf-res13,hf-bulk,ngx-full13,
#               ngx-full12,ngx-res13,ngx-bulk,ctx,hs; the ceiling is always measured): A/B runs
#   --perf DIR  perf record -g of hydrofoil's worker thread during each of its runs, into
#               DIR/NAME.perf.data, with the top of `perf report` in DIR/NAME.perf.txt
# Environment: HF_BUILD_DIR (default build), HF_KEEP_TMP=1 (keep the temp dir).
# Needs root, the built hydrofoil, hf-loadgen, bench_tls_ctx and bench_tls_hs, nginx, wrk, openssl.
set -uo pipefail
# shellcheck source=../../scripts/lib/netns.sh
source "$(dirname "$0")/../../scripts/lib/netns.sh"
BUILD=$HF_ROOT/${HF_BUILD_DIR:-build}
LG=$BUILD/bench/hf-loadgen
CTXB=$BUILD/bench/bench_tls_ctx
HSB=$BUILD/bench/bench_tls_hs

DUR=5
WARM=1
CONNS=32
BULK_CONNS=16
BULK=262144
ONLY=
PERF_DIR=
while [ $# -gt 0 ]; do
	case $1 in
	--duration) DUR=$2; shift ;;
	--warmup) WARM=$2; shift ;;
	--conns) CONNS=$2; shift ;;
	--bulk) BULK=$2; shift ;;
	--only) ONLY=,$2,; shift ;;
	--perf) PERF_DIR=$2; shift ;;
	-h|--help) sed -n '3,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "tls_bench: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

note() { echo "tls_bench: $*" >&2; }
# want NAME: whether --only (if given) names that run
want() { [ -z "$ONLY" ] || [[ $ONLY == *",$1,"* ]]; }
fail_table() {
	echo "| TLS benchmark | not measured: $1 |"
	exit 0
}
[ "$(id -u)" -eq 0 ] || fail_table "needs root (namespaces)"
[ -x "$LG" ] || fail_table "no hf-loadgen at $LG (this script builds nothing)"
[ -x "$HF_BIN" ] || fail_table "no hydrofoil at $HF_BIN (this script builds nothing)"
for t in nginx wrk openssl taskset curl; do
	command -v "$t" >/dev/null || fail_table "$t not found"
done

rmdir "$HF_TMP"
HF_TMP=$(mktemp -d /tmp/hf-tlsb.XXXXXX)
T=$HF_TMP
chmod 755 "$T"
RES=$T/results
: > "$RES"
HF_ADDR=198.51.100.2
LG_ADDR=198.51.100.1
NGX_ADDR=203.0.113.1
EAL=(--no-huge --no-pci --log-level=lib.eal:error)
RUN_S=$(awk -v d="$DUR" -v w="$WARM" 'BEGIN { print d + w }')
LOAD0=$(cut -d" " -f1-3 /proc/loadavg)
T_START=$(date -u '+%Y-%m-%d %H:%M UTC')

# ---- certificates, files, namespace ----------------------------------------------

CERTS=$T/certs
if ! "$HF_ROOT/scripts/mkcert.sh" ca "$CERTS" ||
	! "$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" bench-cert bench.example.com; then
	fail_table "scripts/mkcert.sh failed"
fi
mkdir -p "$T/www" "$T/up" "$T/ngx" "$T/istio"
head -c 100 /dev/zero | tr '\0' 'x' > "$T/www/index.html"
head -c "$BULK" /dev/urandom > "$T/www/bulk.bin"
chmod -R a+rX "$T/www" "$CERTS"

NS=$(hf_ns_new tlsb) || fail_table "cannot create a namespace"
HF_NAMESPACES+=("$NS")
ip -n "$NS" addr add "$NGX_ADDR/32" dev lo
nsx() { ip netns exec "$NS" "$@"; }

# ---- hydrofoil: an HTTPS Gateway on 443 (TLS 1.3 only) and 444 (TLS 1.2, ECDHE-ECDSA-AES128-GCM) ----

cat > "$T/istio/gw.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-13, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: bench-cert, minProtocolVersion: TLSV1_3}
  - port: {number: 444, name: https-12, protocol: HTTPS}
    hosts: ["*"]
    tls:
      mode: SIMPLE
      credentialName: bench-cert
      maxProtocolVersion: TLSV1_2
      cipherSuites: [ECDHE-ECDSA-AES128-GCM-SHA256]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: lg, namespace: default}
spec:
  hosts: [lg.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: $LG_ADDR}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: all, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - route: [{destination: {host: lg, port: {number: 8080}}}]
YAML
# hf_bootstrap FILE SOCKET: hydrofoil on a memif server port, agent on lcore 0 (CPU 0),
# its one worker on lcore 1 (CPU 1).
hf_bootstrap() {
	cat > "$1" <<CFG
node:  { id = "gw-tls"; cluster = "hydrofoil"; labels = [ "istio=ingressgateway" ]; };
dpdk:  { lcores = "0-1"; args = [ "--no-pci", "--no-huge", "-m", "1024", "--log-level=lib.eal:error" ]; };
ports = ( { name = "p0"; device = "net_memif0,role=server,socket=$2"; address = "$HF_ADDR/24"; mtu = 1500; } );
workers = 1;
admin: { address = "127.0.0.1"; port = 15000; };
tcp: { max_connections = 65536; time_wait_ms = 1000; };
config: { istio_dir = "$T/istio"; credentials_dir = "$CERTS"; };
CFG
}
hf_bootstrap "$T/check.cfg" "$T/check.sock"
if ! out=$("$HF_BIN" -c "$T/check.cfg" --check 2>&1); then
	fail_table "hydrofoil --check refused the HTTPS Gateway: $(tail -1 <<<"$out")"
fi

# ---- helpers ------------------------------------------------------------------------

stats() { hf_admin "$NS" /stats | awk -F': ' 'NF == 2 { print $1, $2 }' > "$1"; }
field() { awk -v n="$1" '$1 == n { print $2 }' "$2"; }
delta() { echo $(( $(field "$1" "$3") - $(field "$1" "$2") )); }
record() { echo "$*" >> "$RES"; }
now_ns() { date +%s%N; }
stop() {
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 10); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}
# cpu_ns PID: CPU time of PID's threads, ns, summed (schedstat: on-CPU time, user and kernel).
cpu_ns() {
	local f a t=0
	for f in /proc/"$1"/task/*/schedstat; do
		read -r a _ < "$f" 2>/dev/null || continue
		t=$((t + a))
	done
	echo "$t"
}
# worker_ns PID: CPU time of PID's worker lcore thread (EAL names it rte-worker-1 or
# lcore-worker-1), ns.
worker_ns() {
	local d comm a
	for d in /proc/"$1"/task/*; do
		read -r comm < "$d/comm" 2>/dev/null || continue
		case $comm in
		*-worker-*) read -r a _ < "$d/schedstat" && echo "$a" && return ;;
		esac
	done
	echo 0
}

# hf_run NAME LOADGEN_ARGS...: a fresh hydrofoil and hf-loadgen (its TLS client and its
# server role, the upstream) over a fresh memif socket; records the loadgen's JSON and
# hydrofoil's counter deltas over the loadgen's run.
RUN_N=0
hf_run() {
	local name=$1 sock j rc k extra="" w0 w1 perf_pid="" tid d
	shift
	want "$name" || return 0
	RUN_N=$((RUN_N + 1))
	sock=$T/memif.$RUN_N.sock
	hf_bootstrap "$T/$name.cfg" "$sock"
	hf_start "$NS" "$T/$name.cfg" "$T/$name.hf.log"
	for _ in $(seq 300); do
		grep -q "running" "$T/$name.hf.log" && break
		kill -0 "$HF_PID" 2>/dev/null || break
		sleep 0.05
	done
	if ! kill -0 "$HF_PID" 2>/dev/null; then
		record "name=$name ok=0 why=hydrofoil_did_not_start:$(tail -1 "$T/$name.hf.log" | tr ' =' '_:' | cut -c1-120)"
		return 1
	fi
	stats "$T/$name.before"
	w0=$(worker_ns "$HF_PID")
	if [ -n "$PERF_DIR" ] && command -v perf >/dev/null; then
		for d in /proc/"$HF_PID"/task/*; do
			case $(cat "$d/comm" 2>/dev/null) in *-worker-*) tid=${d##*/} ;; esac
		done
		mkdir -p "$PERF_DIR"
		[ -n "${tid:-}" ] && perf record -q -g -t "$tid" -o "$PERF_DIR/$name.perf.data" \
			-- sleep "$RUN_S" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	nsx "$LG" --port "p0,net_memif0,role=client,socket=$sock,$LG_ADDR/24" \
		--server 8080 --json --lcores 0@0,1@0 --duration "$RUN_S" --warmup "$WARM" \
		--timeout 5000 "$@" -- "${EAL[@]}" -m 1024 > "$T/$name.json" 2> "$T/$name.lg.log"
	rc=$?
	w1=$(worker_ns "$HF_PID")
	if [ -n "$perf_pid" ]; then
		wait "$perf_pid" 2>/dev/null
		perf report -i "$PERF_DIR/$name.perf.data" --no-children --percent-limit 0.5 \
			--stdio -g none 2>/dev/null | grep -v '^#' | sed '/^$/d' | head -60 \
			> "$PERF_DIR/$name.perf.txt"
	fi
	stats "$T/$name.after"
	stop "$HF_PID"
	rm -rf "/var/run/dpdk/hydrofoil-$HF_PID"
	j=$(grep -h '^{' "$T/$name.json" | tail -1)
	if [ -z "$j" ]; then
		record "name=$name ok=0 why=loadgen_exit_$rc:$(tail -1 "$T/$name.lg.log" | tr ' =' '_:' | cut -c1-120)"
		return 1
	fi
	for k in worker.busy_cycles worker.idle_cycles tls.handshakes tls.handshakes_tls12 \
		tls.handshakes_tls13 http.downstream_rq_total http.downstream_rq_2xx \
		tls.record_errors tls.records_sent tls.record_bytes_sent; do
		extra+=" hf.$k=$(delta "$k" "$T/$name.before" "$T/$name.after" 2>/dev/null)"
	done
	extra+=" hf.worker_cpu_ns=$((w1 - w0))"
	record "name=$name ok=1 json=$j$extra"
}

# ---- 1. the ceiling: openssl speed on core 1 ------------------------------------

note "openssl speed on core 1 (ecdsap256, ecdhx25519, ecdhp256; aes-128-gcm, 16 KB)"
taskset -c 1 openssl speed -seconds 2 ecdsap256 ecdhx25519 ecdhp256 > "$T/speed.pk" 2>/dev/null
taskset -c 1 openssl speed -seconds 2 -bytes 16384 -evp aes-128-gcm > "$T/speed.aes" 2>/dev/null
# Records of one TCP segment's payload (what one record per mbuf would be).
taskset -c 1 openssl speed -seconds 2 -bytes 1448 -evp aes-128-gcm > "$T/speed.aes1448" 2>/dev/null
SIGN=$(awk '/ecdsa \(nistp256\)/ { print $(NF - 1) }' "$T/speed.pk" | tail -1)
X25519=$(awk '/ecdh \(X25519\)/ { print $NF }' "$T/speed.pk" | tail -1)
P256=$(awk '/ecdh \(nistp256\)/ { print $NF }' "$T/speed.pk" | tail -1)
aes_bps() { awk '/^(AES-128-GCM|aes-128-gcm)/ { v = $NF; sub(/k$/, "", v); print v * 1000 }' "$1" | tail -1; }
AES=$(aes_bps "$T/speed.aes")
AES1448=$(aes_bps "$T/speed.aes1448")
record "name=ceiling ok=1 sign=${SIGN:-0} x25519=${X25519:-0} p256=${P256:-0} aes16k=${AES:-0} aes1448=${AES1448:-0}"

# ---- 2. hydrofoil over memif ------------------------------------------------------

note "hydrofoil: full TLS 1.3 handshakes (a new connection per request, $CONNS slots)"
hf_run hf-full13 --client "$HF_ADDR:443" --tls 1.3 --new-conn -c "$CONNS" --response-size 100
note "hydrofoil: full TLS 1.2 handshakes"
hf_run hf-full12 --client "$HF_ADDR:444" --tls 1.2 --new-conn -c "$CONNS" --response-size 100
note "hydrofoil: resumed TLS 1.3 handshakes (the first ticket offered again)"
hf_run hf-res13 --client "$HF_ADDR:443" --tls 1.3 --tls-resume --new-conn -c "$CONNS" \
	--response-size 100
note "hydrofoil: bulk, keep-alive, $BULK-byte responses, TLS 1.3 AES-128-GCM"
hf_run hf-bulk --client "$HF_ADDR:443" --tls 1.3 -c "$BULK_CONNS" --response-size "$BULK"

# ---- 3. nginx over the kernel path -------------------------------------------------

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
  default_type application/octet-stream;
  keepalive_requests 1000000;
  server { listen $NGX_ADDR:8080 backlog=4096; root $T/www; }
}
EOF
} > "$T/up/nginx.conf"
# The gateway: TLS termination as hydrofoil's (the same certificate, versions, suite and
# group), proxy_pass to the upstream over keep-alive connections, responses buffered in
# memory (no temp files), ticket keys nginx's own (tickets on, no session cache: its defaults).
ngx_server() {	# PORT PROTOCOLS EXTRA
	cat <<EOF
  server {
    listen $NGX_ADDR:$1 ssl backlog=4096;
    ssl_certificate $CERTS/bench-cert/tls.crt;
    ssl_certificate_key $CERTS/bench-cert/tls.key;
    ssl_protocols $2;
    ssl_ecdh_curve X25519;
$3
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffer_size 16k;
      proxy_buffers 32 16k;
      proxy_busy_buffers_size 64k;
      proxy_max_temp_file_size 0;
    }
  }
EOF
}
{
	nginx_common "$T/ngx"
	cat <<EOF
http {
  access_log off;
$(nginx_temp_paths "$T/ngx")
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  upstream up { server $NGX_ADDR:8080; keepalive 64; }
$(ngx_server 443 TLSv1.3 "    ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;")
$(ngx_server 444 TLSv1.2 "    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256; ssl_prefer_server_ciphers on;")
}
EOF
} > "$T/ngx/nginx.conf"
# ip and taskset exec: $! is nginx's master itself.
ip netns exec "$NS" taskset -c 0 nginx -p "$T/up" -c "$T/up/nginx.conf" -e "$T/up/error.log" \
	-g 'daemon off;' > "$T/up.log" 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" taskset -c 1 nginx -p "$T/ngx" -c "$T/ngx/nginx.conf" -e "$T/ngx/error.log" \
	-g 'daemon off;' > "$T/ngx.log" 2>&1 &
NGX_MASTER=$!
HF_PIDS+=("$NGX_MASTER")
NGX_WORKER=
for _ in $(seq 50); do
	NGX_WORKER=$(cat /proc/"$NGX_MASTER"/task/*/children 2>/dev/null | awk '{ print $1 }')
	[ -n "$NGX_WORKER" ] &&
		nsx curl -sk -o /dev/null --max-time 1 "https://$NGX_ADDR:443/index.html" && break
	sleep 0.1
done
NGX_VERSION=$(nginx -v 2>&1 | sed 's/.*nginx\///')

# ngx_run NAME P CMD...: runs P copies of the client CMD on core 0 (their outputs in
# NAME.out.1..P), nginx's worker CPU over them.
ngx_run() {
	local name=$1 p=$2 c0 c1 t0 t1 i pids=()
	shift 2
	want "$name" || return 0
	if [ -z "$NGX_WORKER" ] || ! kill -0 "$NGX_WORKER" 2>/dev/null; then
		record "name=$name ok=0 why=nginx_not_running:$(tail -1 "$T/ngx/error.log" 2>/dev/null | tr ' =' '_:' | cut -c1-120)"
		return 1
	fi
	c0=$(cpu_ns "$NGX_WORKER")
	t0=$(now_ns)
	for ((i = 1; i <= p; i++)); do
		ip netns exec "$NS" taskset -c 0 "$@" > "$T/$name.out.$i" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	t1=$(now_ns)
	c1=$(cpu_ns "$NGX_WORKER")
	record "name=$name ok=1 wall_ns=$((t1 - t0)) cpu_ns=$((c1 - c0)) clients=$p"
}
# s_time does one handshake at a time: a few of them keep nginx's worker busier.
STIMES=4
STIME=(openssl s_time -connect "$NGX_ADDR:443" -time "$DUR" -www /index.html)
note "nginx $NGX_VERSION: full TLS 1.3 handshakes (openssl s_time -new)"
ngx_run ngx-full13 "$STIMES" "${STIME[@]}" -new -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
note "nginx: full TLS 1.2 handshakes"
ngx_run ngx-full12 "$STIMES" openssl s_time -connect "$NGX_ADDR:444" -time "$DUR" -www /index.html -new \
	-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
note "nginx: resumed TLS 1.3 handshakes (openssl s_time -reuse)"
ngx_run ngx-res13 "$STIMES" "${STIME[@]}" -reuse -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
cat > "$T/report.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("requests=%d duration_us=%d bytes=%d errors=%d\n", summary.requests,
    summary.duration, summary.bytes, e.connect + e.read + e.write + e.status + e.timeout))
end
EOF
note "nginx: bulk, wrk keep-alive, $BULK_CONNS connections"
ngx_run ngx-bulk 1 wrk -t1 -c"$BULK_CONNS" -d"${DUR}s" -s "$T/report.lua" \
	"https://$NGX_ADDR:443/bulk.bin"

# ---- 4. OpenSSL's locks: shared SSL_CTX against per-thread contexts --------------

if [ -x "$CTXB" ] && want ctx; then
	note "bench_tls_ctx: in-memory handshakes, 1 and 2 threads"
	"$CTXB" --benchmark_format=json --benchmark_repetitions=3 \
		--benchmark_report_aggregates_only=true > "$T/ctx.json" 2>/dev/null ||
		note "bench_tls_ctx failed"
fi

# ---- 5. the server's CPU per in-memory handshake, and bytes per idle connection ------

if [ -x "$HSB" ] && want hs; then
	note "bench_tls_hs: server CPU per in-memory handshake (3 runs each), 500 idle connections"
	: > "$T/hs.txt"
	for _ in 1 2 3; do
		for v in 13 12; do
			taskset -c 1 "$HSB" -v "$v" -n 1500 >> "$T/hs.txt" 2>/dev/null ||
				note "bench_tls_hs -v $v failed"
		done
	done
	for v in 13 12; do
		taskset -c 1 "$HSB" -v "$v" -i 500 >> "$T/hs.txt" 2>/dev/null ||
			note "bench_tls_hs -v $v -i 500 failed"
	done
fi

LOAD1=$(cut -d" " -f1-3 /proc/loadavg)

# ---- the table --------------------------------------------------------------------

"$HF_PY" - "$RES" "$T" "$BULK" "$T_START" "$LOAD0" "$LOAD1" "$NGX_VERSION" <<'PY'
import json, os, re, sys
res, T, bulk, when, load0, load1, ngx_ver = sys.argv[1:8]
bulk = int(bulk)
runs = {}
for line in open(res):
    m = re.match(r"name=(\S+) ok=(\d)(.*)", line.strip())
    if not m:
        continue
    d = {"ok": m.group(2) == "1"}
    rest = m.group(3)
    j = re.search(r" json=(\{.*?\})( hf\.|$)", rest)
    if j:
        d["json"] = json.loads(j.group(1))
        rest = rest.replace(" json=" + j.group(1), "")
    for k, v in re.findall(r" (\S+?)=(\S*)", rest):
        d[k] = v
    runs[m.group(1)] = d

def num(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return 0.0

def fmt(v, unit=""):
    return f"{v:,.0f}{unit}" if v >= 100 else f"{v:,.1f}{unit}"

def why(r):
    return "not measured: " + (r.get("why", "no run") if r else "no run").replace("_", " ")

# hydrofoil: (per-core figure, raw rate, busy share of the worker's core, extra note)
def hf_row(name, kind):
    r = runs.get(name)
    if not r or not r["ok"]:
        return None, why(r)
    j, t = r["json"], r["json"].get("tls", {})
    # The worker's CPU for its work: the CPU time its thread got × the share of its loop
    # that was busy (TSC cycles in iterations that received packets, against all), so that
    # the times it was preempted (a shared machine) count for neither.
    b, i = num(r.get("hf.worker.busy_cycles")), num(r.get("hf.worker.idle_cycles"))
    share = b / (b + i) if b + i else 0
    busy = num(r.get("hf.worker_cpu_ns")) / 1e9 * share
    errs = j.get("errors_total", 0)
    if kind == "bulk":
        raw = t.get("body_bytes_per_s", 0) / 1e6
        per = num(r.get("hf.http.downstream_rq_2xx")) * bulk / 1e6 / busy if busy else 0
    else:
        raw = t.get("handshakes_per_s", 0)
        per = num(r.get("hf.tls.handshakes")) / busy if busy else 0
        if kind == "resumed":
            if t.get("resumed", 0) == 0:
                return None, (f"0 of {t.get('handshakes', 0):,} resumed: the server offered no "
                              "ticket and no session ID (tls/ctx.c: SSL_OP_NO_TICKET, cache off)")
            raw = t.get("resumed_per_s", 0)
            per *= t["resumed"] / max(t["handshakes"], 1)
    note = (f"{fmt(raw)}/s" if kind != "bulk" else f"{fmt(raw)} MB/s") + \
        f", worker {share * 100:.0f}% busy"
    if errs:
        note += f", {errs} errors"
    return per, note

def ngx_row(name, kind):
    r = runs.get(name)
    if not r or not r["ok"]:
        return None, why(r)
    wall = num(r["wall_ns"]) / 1e9
    cpu = num(r["cpu_ns"]) / 1e9
    outs = [open(os.path.join(T, f"{name}.out.{k}")).read() for k in range(1, int(r["clients"]) + 1)]
    out = outs[0]
    if kind == "bulk":
        m = re.search(r"requests=(\d+) duration_us=(\d+) bytes=(\d+) errors=(\d+)", out)
        if not m:
            return None, "not measured: wrk printed no report"
        mb = int(m.group(3)) / 1e6
        raw = mb / (int(m.group(2)) / 1e6)
        per = mb / cpu if cpu else 0
        note = f"{fmt(raw)} MB/s at {cpu / wall * 100:.0f}% CPU"
        if int(m.group(4)):
            note += f", {m.group(4)} errors"
        return per, note
    # s_time: "N connections in X.XXs; ..." (user time) and "N connections in S real seconds"
    counts = [re.findall(r"(\d+) connections in [\d.]+ real seconds", o) for o in outs]
    if not all(counts):
        return None, "not measured: s_time printed no count (" + out.strip().splitlines()[-1][:80] + ")"
    n = sum(int(c[-1]) for c in counts)
    raw = n / wall
    per = n / cpu if cpu else 0
    note = f"{fmt(raw)}/s at {cpu / wall * 100:.0f}% CPU, {len(outs)} s_time"
    if kind == "resumed":
        # s_time prints one character per connection: 'r' resumed, '*' a full handshake.
        marks = "".join("".join(re.findall(r"^[*r]+$", o.split("session id reuse")[-1], re.M))
                        for o in outs)
        note += f", {marks.count('r') * 100 // max(len(marks), 1)}% resumed"
    return per, note

c = runs.get("ceiling", {})
sign, x25519, p256, aes, aes1448 = (num(c.get(k)) for k in ("sign", "x25519", "p256", "aes16k", "aes1448"))
ceil_full = 1 / (1 / sign + 2 / x25519) if sign and x25519 else 0
ceil_res = x25519 / 2 if x25519 else 0
ceil_bulk = aes / 1e6

rows = [
    ("full handshakes/s per core, TLS 1.3 (X25519, ECDSA P-256)", "hf-full13", "ngx-full13", "full", ceil_full),
    ("full handshakes/s per core, TLS 1.2 (ECDHE-ECDSA-AES128-GCM-SHA256, X25519)", "hf-full12", "ngx-full12", "full", ceil_full),
    ("resumed handshakes/s per core, TLS 1.3 tickets (psk_dhe_ke)", "hf-res13", "ngx-res13", "resumed", ceil_res),
    (f"bulk MB/s per core, TLS 1.3 AES-128-GCM, {bulk // 1024} KB responses, keep-alive", "hf-bulk", "ngx-bulk", "bulk", ceil_bulk),
]
print(f"TLS per worker core, {when}, load average {load0} at the start, {load1} at the end "
      f"(other builds and tests shared the 2 cores: per-core figures divide by the server's "
      f"own CPU time, the raw rates are the client's pace)\n")
print(f"| what | hydrofoil | nginx {ngx_ver} (1 worker) | ceiling (openssl speed) | hydrofoil / nginx | hydrofoil / ceiling |")
print("|---|---:|---:|---:|---:|---:|")
for what, hn, nn, kind, ceil in rows:
    hp, hnote = hf_row(hn, kind)
    np_, nnote = ngx_row(nn, kind)
    hcell = f"{fmt(hp)} ({hnote})" if hp is not None else hnote
    ncell = f"{fmt(np_)} ({nnote})" if np_ is not None else nnote
    ratio = f"{hp / np_:.2f}x" if hp and np_ else "—"
    cratio = f"{hp / ceil * 100:.0f}%" if hp and ceil else "—"
    print(f"| {what} | {hcell} | {ncell} | {fmt(ceil)} | {ratio} | {cratio} |")

# bench_tls_ctx: medians, the in-memory handshakes of one process
ctxf = os.path.join(T, "ctx.json")
med = {}
if os.path.exists(ctxf) and os.path.getsize(ctxf):
    try:
        for b in json.load(open(ctxf))["benchmarks"]:
            if b.get("aggregate_name") == "median":
                med[b["run_name"]] = b
    except (ValueError, KeyError):
        med = {}
def ctx(mode, tls, threads):
    for name, b in med.items():
        if (f"/mode:{mode}/" in name and f"/tls:{tls}/" in name
                and name.endswith(f"/threads:{threads}")):
            return b["handshakes_per_s"], b["cpu_us_per_handshake"]
    return 0, 0
if med:
    s2, s2c = ctx(0, 13, 2)
    p2, p2c = ctx(2, 13, 2)
    print(f"| in-memory TLS 1.3 handshakes/s, 2 threads (bench_tls_ctx; client and server in "
          f"each thread): per-thread SSL_CTX + OSSL_LIB_CTX (Hydrofoil's layout) vs one shared "
          f"SSL_CTX | {fmt(p2)} ({p2c:.0f} µs CPU each) | shared: {fmt(s2)} ({s2c:.0f} µs CPU "
          f"each) | — | {p2 / s2:.2f}x | — |" if s2 else "| bench_tls_ctx | no figures | | | | |")
else:
    print("| in-memory handshakes, shared vs per-thread SSL_CTX (bench_tls_ctx) | not measured "
          "(not built: Google Benchmark missing?) | | | | |")

# bench_tls_hs: key=value lines, medians of the handshake runs; the idle runs as they are
hsf = os.path.join(T, "hs.txt")
hs = [dict(kv.split("=", 1) for kv in l.split()) for l in open(hsf)] if os.path.exists(hsf) else []
for ver in ("1.3", "1.2"):
    xs = sorted((num(h["server_us"]), num(h["ceiling_us"])) for h in hs
                if h.get("version") == ver and "server_us" in h)
    if xs:
        us, cu = xs[len(xs) // 2]
        print(f"| server CPU per full handshake in memory, TLS {ver} (bench_tls_hs, median of "
              f"{len(xs)}: {', '.join(f'{x[0]:.0f}' for x in xs)} µs) | {us:.0f} µs "
              f"({1e6 / us:,.0f}/s per core) | — | {cu:.0f} µs ({1e6 / cu:,.0f}/s: sign + 2 "
              f"derives, same process) | — | {cu / us * 100:.0f}% |")
for h in hs:
    if "idle_connections" in h:
        print(f"| bytes per idle TLS {h['version']} connection (bench_tls_hs -i "
              f"{h['idle_connections']}: server RSS growth / N; of it OpenSSL's heap; our slot) | "
              f"{num(h['rss_bytes_per_conn']):,.0f} B RSS ({num(h['server_heap_bytes_per_conn']):,.0f} "
              f"OpenSSL heap in {h['server_chunks_per_conn']} blocks) + {h['slot_bytes']} B slot | "
              f"— | — | — | — |")
if not hs:
    print("| bench_tls_hs | not measured (not built, or --only left it out) | | | | |")

print(f"\nCeiling: ECDSA P-256 {fmt(sign)} signs/s, X25519 {fmt(x25519)} ops/s, P-256 ECDH "
      f"{fmt(p256)} ops/s, AES-128-GCM {fmt(ceil_bulk)} MB/s in 16 KB records, "
      f"{fmt(aes1448 / 1e6)} MB/s in 1,448-byte ones (one TCP segment's payload), on core 1; "
      f"a full handshake "
      f"costs the server one signature and two X25519 operations (key share, secret), a resumed "
      f"TLS 1.3 one the two X25519 operations.")
for n in ("hf-full13", "hf-full12", "hf-res13", "hf-bulk"):
    r = runs.get(n)
    if r and r["ok"]:
        t = r["json"].get("tls", {})
        recs = num(r.get("hf.tls.records_sent"))
        mean = (f", records of {num(r.get('hf.tls.record_bytes_sent')) / recs:,.0f} bytes "
                "on average") if recs else ""
        print(f"{n}: {t.get('negotiated', '?')}, {t.get('handshakes', 0):,} handshakes "
              f"({t.get('resumed', 0):,} resumed), mean {t.get('handshake_mean_us', 0):.0f} µs, "
              f"errors {json.dumps(r['json'].get('errors', {}))}"
              + (f", first: {t['first_error']}" if t.get("first_error") else "") + mean)
if med:
    print("\nbench_tls_ctx (medians of 3): handshakes/s all threads together | CPU µs per handshake")
    print("\n| mode | TLS | 1 thread | 2 threads |")
    print("|---|---|---:|---:|")
    for mode, mname in ((0, "shared SSL_CTX"), (1, "per-thread SSL_CTX"), (2, "per-thread SSL_CTX + OSSL_LIB_CTX")):
        for tls in (13, 12):
            a, ac = ctx(mode, tls, 1)
            b, bc = ctx(mode, tls, 2)
            print(f"| {mname} | 1.{tls - 10} | {fmt(a)} / {ac:.0f} µs | {fmt(b)} / {bc:.0f} µs |")
PY
