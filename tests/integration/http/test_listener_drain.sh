#!/usr/bin/env bash
# A listener the configuration drops drains (issue 11), as Envoy's listener drain:
# hydrofoil as an Istio gateway on a net_tap with HTTP ports 80 and 8080 and a TCP
# port 9000; then 8080 and 9000 leave the Gateway (a live reload) while wrk loads
# 8080 over keep-alive, curl loads 80, a slow request (1 s upstream) is in flight on
# 8080 and a tcp_proxy connection is open on 9000. Checked:
#   - the removed ports refuse new connections (RST: curl "connection refused",
#     tcp.drop.no_listener), port 80 keeps answering;
#   - the slow request in flight finishes with 200 and "connection: close";
#   - an idle keep-alive connection is closed at once (FIN);
#   - wrk: no timeout and no non-2xx; read/write errors at most the keep-alive
#     connections closed while idle (listener.drain_closed_idle: a request the
#     client sent as the FIN crossed it, RFC 9112 9.3.1, the one race HTTP/1.1 has);
#   - the tcp_proxy connection still carries bytes after the removal and is reset
#     when http.drain_timeout_ms (8 s here) runs out (listener.drain_timeouts);
#   - listener.drained_connections > 0, listener.draining_connections back to 0;
#   - a change that keeps the listener (routes only) drains nothing: a keep-alive
#     connection across it stays open;
#   - a removed port comes back: while a request on it is held upstream (drain not
#     over: listener.reopened), and after its drain ended: both answer again.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
DIR=$(cd "$(dirname "$0")" && pwd)
PEERPY=$DIR/drainpeer.py

W=$(hf_workers)
OUR=198.51.100.2
PEER=198.51.100.1
ISTIO=$HF_TMP/istio
LOG=$HF_TMP/hf.log
DRAIN_MS=8000	# http.drain_timeout_ms
# Seconds since $1 (a `now` reading).
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
# in_time T0: whether the drain that started after T0 cannot have timed out yet (a reload
# slower than the drain timeout makes a check about a drain still under way a skip).
in_time() { awk -v s="$(since "$1")" -v d="$DRAIN_MS" 'BEGIN { exit !(s * 1000 < d - 3000) }'; }

NS=$(hf_ns_new drain) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
# Background peers run as `ip netns exec "$NS" ...` (it execs): $! is then the peer itself,
# which hf_cleanup ends; a shell function's $! would be a subshell that leaves it running.
in_ns() { ip netns exec "$NS" "$@"; }
st() { hf_stat "$NS" "$1"; }
# wait_stat NAME MIN: waits up to 20 s for counter NAME to reach MIN.
wait_stat() {
	local i
	for i in $(seq 200); do
		[ "$(st "$1")" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# wait_file PATH: up to 20 s.
wait_file() { for _ in $(seq 200); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
# code PORT PATH: curl's status code (000 when no answer) and exit status, "CODE RC".
code() {
	local c rc
	c=$(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 10 "http://$OUR:$1$2")
	rc=$?
	echo "$c $rc"
}

# ---------------------------------------------------------------- the Istio configuration
mkdir -p "$ISTIO"
# gateway PORTS...: the Gateway with an HTTP server on each port, TCP for 9000.
gateway() {
	local p stage=$HF_TMP/.gw-$$
	{
		printf 'apiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata:\n  name: gw\n'
		printf 'spec:\n  selector:\n    istio: ingressgateway\n  servers:\n'
		for p in "$@"; do
			if [ "$p" = 9000 ]; then
				printf '  - port: {number: 9000, name: tcp-echo, protocol: TCP}\n    hosts: ["*"]\n'
			else
				printf '  - port: {number: %s, name: http-%s, protocol: HTTP}\n    hosts: ["*"]\n' "$p" "$p"
			fi
		done
	} > "$stage"
	mv -f "$stage" "$ISTIO/gateway.yaml"
}
# routes [HEADER]: the VirtualService (HEADER: a response header value, to change routes only).
routes() {
	local stage=$HF_TMP/.vs-$$
	cat > "$stage" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: routes
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /slow}}, {uri: {prefix: /hold}}]
    route:
    - destination: {host: slow.test.example, port: {number: 80}}
  - route:
    - destination: {host: web.test.example, port: {number: 80}}
      headers: {response: {set: {x-routes: "${1:-one}"}}}
  tcp:
  - match: [{port: 9000}]
    route:
    - destination: {host: echo.test.example, port: {number: 9000}}
YAML
	mv -f "$stage" "$ISTIO/routes.yaml"
}
# reload: waits for the snapshot a change makes.
v_now() { st control_plane.snapshot_version; }
wait_version() {
	for _ in $(seq 200); do [ "$(v_now)" -gt "$1" ] 2>/dev/null && return 0; sleep 0.1; done
	return 1
}
gateway 80 8080 9000
routes
cat > "$ISTIO/services.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: web
spec:
  hosts: [web.test.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http, protocol: HTTP}
  endpoints:
  - address: $PEER
    ports: {http: 9101}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: slow
spec:
  hosts: [slow.test.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http, protocol: HTTP}
  endpoints:
  - address: $PEER
    ports: {http: 9102}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: echo
spec:
  hosts: [echo.test.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 9000, name: tcp, protocol: TCP}
  endpoints:
  - address: $PEER
    ports: {tcp: 9201}
YAML

hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; };
http: { drain_timeout_ms = $DRAIN_MS; };"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$LOG" "$PEER/24"; then
	hf_not_ok "hydrofoil reports LIVE"
	exit 1
fi
hf_ok "hydrofoil ($W workers) reports LIVE with Gateway ports 80, 8080 (HTTP) and 9000 (TCP)"

# ---------------------------------------------------------------- the peers
mkdir -p "$HF_TMP/nginx"
cat > "$HF_TMP/nginx.conf" <<NGINX
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $HF_TMP/nginx; proxy_temp_path $HF_TMP/nginx;
    fastcgi_temp_path $HF_TMP/nginx; uwsgi_temp_path $HF_TMP/nginx; scgi_temp_path $HF_TMP/nginx;
    default_type text/plain;
    server { listen $PEER:9101; location / { return 200 "H\n"; } }
}
NGINX
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' > "$HF_TMP/nginx.out" 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" "$HF_PY" "$PEERPY" http "$PEER" 9102 "$HF_TMP/release" > "$HF_TMP/slow.out" 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" "$HF_PY" "$PEERPY" echo "$PEER" 9201 > "$HF_TMP/echo.out" 2>&1 &
HF_PIDS+=($!)
peers_up() {
	local p
	for p in 9101 9102 9201; do [ -n "$(in_ns ss -Hltn "sport = :$p")" ] || return 1; done
}
for _ in $(seq 100); do peers_up && break; sleep 0.1; done
if ! peers_up; then
	hf_not_ok "nginx :9101, the slow upstream :9102 and the echo server :9201 are up"
	cat "$HF_TMP/nginx-error.log" "$HF_TMP/slow.out" "$HF_TMP/echo.out" 2>/dev/null | sed 's/^/# /'
	exit 1
fi
r80=$(code 80 /); r8080=$(code 8080 /); rslow=$(code 8080 /slow)
hf_check "before: port 80 answers ($r80), port 8080 answers ($r8080), /slow on 8080 ($rslow)" \
	test "$r80" = "200 0" -a "$r8080" = "200 0" -a "$rslow" = "200 0"

# ---------------------------------------------------------------- a change that keeps the listeners
removed0=$(st listener.removed)
ip netns exec "$NS" "$HF_PY" "$PEERPY" keepalive "$OUR" 8080 "$HF_TMP/ka-first" "$HF_TMP/ka-go" > "$HF_TMP/ka.out" 2>&1 &
ka=$!
HF_PIDS+=("$ka")
wait_file "$HF_TMP/ka-first"
v=$(v_now)
routes two
wait_version "$v"
touch "$HF_TMP/ka-go"
wait "$ka" 2>/dev/null
removed1=$(st listener.removed)
hf_check "routes changed, listeners kept: a keep-alive connection on 8080 across the change stays open and answers ($(tr '\n' ';' < "$HF_TMP/ka.out")), listener.removed stays $removed1" \
	test "$(sed -n 1p "$HF_TMP/ka.out")" = "first 200 -" -a "$(sed -n 2p "$HF_TMP/ka.out")" = "second 200 same" \
	-a "$removed1" = "$removed0"

# ---------------------------------------------------------------- load, then 8080 and 9000 go
ip netns exec "$NS" "$HF_PY" "$PEERPY" hold "$OUR" 9000 "$HF_TMP/tcp-go" > "$HF_TMP/hold.out" 2>&1 &
HF_PIDS+=($!)
hold=$!
for _ in $(seq 100); do grep -q ready "$HF_TMP/hold.out" && break; sleep 0.1; done
ip netns exec "$NS" "$HF_PY" "$PEERPY" idle "$OUR" 8080 > "$HF_TMP/idle.out" 2>&1 &
idlec=$!
HF_PIDS+=("$idlec")
for _ in $(seq 100); do grep -q ready "$HF_TMP/idle.out" && break; sleep 0.1; done
ip netns exec "$NS" timeout 60 wrk -t1 -c8 -d6s --timeout 5s "http://$OUR:8080/" > "$HF_TMP/wrk.out" 2>&1 &
wrk=$!
HF_PIDS+=("$wrk")
( while [ ! -e "$HF_TMP/stop80" ]; do
	in_ns curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 "http://$OUR:80/"
  done > "$HF_TMP/c80.out" ) &
c80=$!
HF_PIDS+=("$c80")
sleep 1.5
# The request in flight: the upstream holds its answer until the removal is seen.
rm -f "$HF_TMP/release" "$HF_TMP/release.got"
ip netns exec "$NS" curl -s -D "$HF_TMP/slow.hdr" -o /dev/null -w '%{http_code}' --max-time 40 \
	"http://$OUR:8080/hold" > "$HF_TMP/slow.code" 2>&1 &
slow=$!
wait_file "$HF_TMP/release.got"
nl0=$(st tcp.drop.no_listener)
v=$(v_now)
t_removed=$(now)
gateway 80
wait_version "$v"
timely=yes
in_time "$t_removed" || timely=no
wait_stat listener.removed $((removed1 + 2 * W))
removed=$(( $(st listener.removed) - removed1 ))
hf_check "8080 and 9000 leave the Gateway: every worker closes both (listener.removed +$removed, want $((2 * W)))" \
	test "$removed" = $((2 * W))

r=$(code 8080 /)
nl=$(( $(st tcp.drop.no_listener) - nl0 ))
hf_check "a new connection to the removed port 8080 is refused (curl: $r, want 000 and exit 7 connection refused; tcp.drop.no_listener +$nl)" \
	test "$r" = "000 7" -a "$nl" -ge 1
touch "$HF_TMP/tcp-go" "$HF_TMP/release"
wait "$slow" 2>/dev/null
hdr=$(tr -d '\r' < "$HF_TMP/slow.hdr" | awk -F': ' 'tolower($1) == "connection" { print tolower($2) }')
[ "$timely" = yes ] || hf_skip "the request in flight on the removed port: the reload took too long for the drain timeout ($((DRAIN_MS / 1000)) s)"
[ "$timely" = yes ] && hf_check "a request in flight on 8080 when it was removed (its upstream answering only after the removal) finishes: $(cat "$HF_TMP/slow.code"), connection: ${hdr:-none} (want 200, close)" \
	test "$(cat "$HF_TMP/slow.code")" = 200 -a "$hdr" = close
wait "$wrk" 2>/dev/null
sed 's/^/# wrk: /' "$HF_TMP/wrk.out"
reqs=$(awk '/requests in/ { print $1 }' "$HF_TMP/wrk.out")
read -r econn eread ewrite etimeout <<<"$(awk '/Socket errors/ { gsub(",", ""); print $4, $6, $8, $10 }' "$HF_TMP/wrk.out")"
non2xx=$(awk '/Non-2xx/ { print $NF }' "$HF_TMP/wrk.out")
idle=$(st listener.drain_closed_idle)
# wrk 4.1 connects without blocking: a refused reconnect shows as a write error (and as
# tcp.drop.no_listener here). A read error is a connection that ended before its answer:
# only one closed idle may (its client's next request crossing the FIN).
hf_check "wrk on 8080 across the removal: ${reqs:-no} requests, non-2xx ${non2xx:-0}, timeouts ${etimeout:-0} (want 0); read errors ${eread:-0}, at most the connections closed idle (listener.drain_closed_idle $idle); refused reconnects after it: connect ${econn:-0} + write ${ewrite:-0} (expected)" \
	test "${reqs:-0}" -gt 0 -a "${non2xx:-0}" = 0 -a "${etimeout:-0}" = 0 \
	-a "${eread:-0}" -le "${idle:-0}"
wait "$idlec" 2>/dev/null
hf_check "an idle keep-alive connection on 8080 is closed (FIN) when the port is removed, not left for the drain timeout ($(tr '\n' ';' < "$HF_TMP/idle.out") listener.drain_closed_idle $idle)" \
	test "$(awk '/^closed/ { print $2 }' "$HF_TMP/idle.out")" = eof -a "${idle:-0}" -ge 1
touch "$HF_TMP/stop80"
wait "$c80" 2>/dev/null
n80=$(wc -l < "$HF_TMP/c80.out"); bad80=$(grep -vc '^200$' "$HF_TMP/c80.out")
r=$(code 80 /)
hf_check "port 80 kept answering throughout: $n80 requests, $bad80 not 200; now $r" \
	test "$n80" -gt 0 -a "$bad80" = 0 -a "$r" = "200 0"

wait "$hold" 2>/dev/null
after=$(awk '/^echo-after/ { print $2 }' "$HF_TMP/hold.out")
end=$(awk '/^closed/ { print $3 }' "$HF_TMP/hold.out")
timeouts=$(st listener.drain_timeouts)
hf_check "the tcp_proxy connection on 9000 still carries bytes after the removal (${after:-no echo}), and is reset when the $((DRAIN_MS / 1000)) s drain timeout ends ($(tr '\n' ';' < "$HF_TMP/hold.out") listener.drain_timeouts $timeouts)" \
	test "$after" = ok -a "$end" = reset -a "${timeouts:-0}" -ge 1
r=$(in_ns timeout 5 "$HF_PY" -c "import socket,sys
try:
    socket.create_connection(('$OUR', 9000), timeout=3); print('open')
except ConnectionRefusedError: print('refused')
except Exception as e: print(type(e).__name__)")
hf_check "a new connection to the removed TCP port 9000 is refused ($r)" test "$r" = refused
for _ in $(seq 100); do [ "$(st listener.draining_connections)" = 0 ] && break; sleep 0.1; done
drained=$(st listener.drained_connections); draining=$(st listener.draining_connections)
hf_check "drain counters: listener.drained_connections $drained (> 0), listener.draining_connections back to $draining (0)" \
	test "${drained:-0}" -gt 0 -a "$draining" = 0

# ---------------------------------------------------------------- the ports come back
v=$(v_now)
gateway 80 8080 9000
wait_version "$v"
sleep 0.2
r=$(code 8080 /)
out=$(in_ns timeout 10 "$HF_PY" -c "import socket
s = socket.create_connection(('$OUR', 9000), timeout=3); s.sendall(b'z'); print(s.recv(4))" 2>&1)
hf_check "8080 and 9000 back in the Gateway after their drain: 8080 answers ($r), 9000 echoes ($out)" \
	test "$r" = "200 0" -a "$out" = "b'z'"

# Removed while a request on it is held upstream, back before that request ends.
rm -f "$HF_TMP/release" "$HF_TMP/release.got"
ip netns exec "$NS" curl -s -D "$HF_TMP/hold.hdr" -o /dev/null -w '%{http_code}' --max-time 40 \
	"http://$OUR:8080/hold" > "$HF_TMP/hold.code" 2>&1 &
held=$!
wait_file "$HF_TMP/release.got"
reopened0=$(st listener.reopened)
v=$(v_now)
t_removed=$(now)
gateway 80 9000
wait_version "$v"
r_gone=$(code 8080 /)
v=$(v_now)
gateway 80 8080 9000
wait_version "$v"
timely=yes
in_time "$t_removed" || timely=no
wait_stat listener.reopened $((reopened0 + 1))
reopened=$(( $(st listener.reopened) - reopened0 ))
r=$(code 8080 /)
touch "$HF_TMP/release"
wait "$held" 2>/dev/null
[ "$timely" = yes ] || hf_skip "a port back before its drain ended: two reloads took too long for the drain timeout ($((DRAIN_MS / 1000)) s)"
[ "$timely" = yes ] && hf_check "8080 removed and back while a request on it is held upstream: refused meanwhile ($r_gone), reopened before its drain ended by the worker holding the request (listener.reopened +$reopened, want 1; a worker with no connection on it had ended its drain), answers again ($r); the held request ends $(cat "$HF_TMP/hold.code")" \
	test "$r_gone" = "000 7" -a "$reopened" = 1 -a "$r" = "200 0" -a "$(cat "$HF_TMP/hold.code")" = 200
for _ in $(seq 50); do [ "$(st listener.draining_connections)" = 0 ] && break; sleep 0.1; done
hf_check "listener.draining_connections is 0 at the end ($(st listener.draining_connections))" \
	test "$(st listener.draining_connections)" = 0

hf_check_stop
hf_done
