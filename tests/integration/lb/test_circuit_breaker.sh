#!/usr/bin/env bash
# Circuit breaking and outlier detection end to end, from Istio YAML: hydrofoil
# as a gateway in front of real servers on the Linux side of a net_tap in a
# private namespace.
#   - slow.cb.example: one Python server answering after 1 s, behind a
#     DestinationRule with connectionPool tcp.maxConnections 1 and
#     http.http1MaxPendingRequests 1. wrk -c 20 against it: a request that
#     finds the connection taken waits for it in the one pending place, the
#     rest are answered 503 with response flag UO, and the access log's UO
#     lines, the drop counter and the cluster's upstream_rq_pending_overflow
#     in /stats and /clusters agree. Three requests at once (one worker): one
#     is served, one waits and is served after it, one is refused (Istio's
#     circuit-breaking task); a route timeout ends a request while it waits
#     (504 UT), and the places are free again afterwards.
#   - once.cb.example: maxRequestsPerConnection 1, each request its own connection.
#   - od.cb.example: two nginx servers, "bad" answering 500 and "good" 200,
#     behind outlierDetection consecutive5xxErrors 3, baseEjectionTime 6s,
#     maxEjectionPercent 50. 40 requests from one curl (well within 6 s): bad gets 3 per
#     worker, then is ejected and good gets the rest; /clusters says
#     health_flags::/failed_outlier_check and foilctl's OUTLIER CHECK FAILED;
#     after the ejection time bad gets requests again.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

OUR=198.51.100.2
PEER=198.51.100.1
ISTIO=$HF_TMP/istio
LOG=$HF_TMP/hf.log
ALOG=$HF_TMP/access.log
W=$(hf_workers)

NS=$(hf_ns_new cb) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
in_ns() { ip netns exec "$NS" "$@"; }
st() { hf_stat "$NS" "$1"; }

mkdir -p "$ISTIO"
cat > "$ISTIO/config.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: cb-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: cb
spec:
  hosts: ["*"]
  gateways: [cb-gateway]
  http:
  - match: [{uri: {prefix: /tslow}}]
    timeout: 0.5s
    route:
    - destination: {host: slow.cb.example, port: {number: 80}}
  - match: [{uri: {prefix: /slow}}]
    route:
    - destination: {host: slow.cb.example, port: {number: 80}}
  - match: [{uri: {prefix: /once}}]
    route:
    - destination: {host: once.cb.example, port: {number: 80}}
  - route:
    - destination: {host: od.cb.example, port: {number: 80}}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: slow
spec:
  hosts: [slow.cb.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http, protocol: HTTP}
  endpoints:
  - address: $PEER
    ports: {http: 9401}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: od
spec:
  hosts: [od.cb.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http, protocol: HTTP}
  endpoints:
  - address: $PEER
    ports: {http: 9501}
  - address: $PEER
    ports: {http: 9502}
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: once
spec:
  hosts: [once.cb.example]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http, protocol: HTTP}
  endpoints:
  - address: $PEER
    ports: {http: 9502}
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: once
spec:
  host: once.cb.example
  trafficPolicy:
    connectionPool:
      http: {maxRequestsPerConnection: 1}
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: slow
spec:
  host: slow.cb.example
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 1}
      http: {http1MaxPendingRequests: 1}
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: od
spec:
  host: od.cb.example
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBIN}
    outlierDetection:
      consecutive5xxErrors: 3
      interval: 1s
      baseEjectionTime: 6s
      maxEjectionPercent: 50
YAML

hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "access_log = \"$ALOG\";
config: { istio_dir = \"$ISTIO\"; };"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$LOG" "$PEER/24"; then
	hf_not_ok "hydrofoil with the Istio directory reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with the Istio directory reports LIVE"
complaints=$(grep '^hydrofoil:' "$LOG" | grep -ciE 'refused|error|invalid|reject|unknown|unsupported')
hf_check "connectionPool limits and outlierDetection are accepted ($complaints complaints)" \
	test "$complaints" = 0
[ "$complaints" = 0 ] || grep '^hydrofoil:' "$LOG" | sed 's/^/# /'

# ---------------------------------------------------------------- the servers
mkdir -p "$HF_TMP/nginx"
cat > "$HF_TMP/nginx.conf" <<NGINX
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $HF_TMP/nginx; proxy_temp_path $HF_TMP/nginx;
    fastcgi_temp_path $HF_TMP/nginx; uwsgi_temp_path $HF_TMP/nginx; scgi_temp_path $HF_TMP/nginx;
    default_type text/plain;
    server { listen $PEER:9501; location / { return 500 "bad\n"; } }
    server { listen $PEER:9502; location / { return 200 "good\n"; } }
}
NGINX
in_ns nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' > "$HF_TMP/nginx.out" 2>&1 &
HF_PIDS+=($!)
cat > "$HF_TMP/slow.py" <<'PY'
import http.server, sys, time
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        time.sleep(1)
        self.send_response(200)
        self.send_header("content-length", "5")
        self.end_headers()
        self.wfile.write(b"slow\n")
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], 9401), H).serve_forever()
PY
in_ns "$HF_PY" "$HF_TMP/slow.py" "$PEER" > "$HF_TMP/slow.out" 2>&1 &
HF_PIDS+=($!)
listening() {
	local p
	for p in 9401 9501 9502; do
		[ -n "$(in_ns ss -Hltn "sport = :$p")" ] || return 1
	done
}
for _ in $(seq 50); do listening && break; sleep 0.1; done
if ! listening; then
	hf_not_ok "the servers listen on $PEER:9401 (slow), 9501 (bad), 9502 (good)"
	cat "$HF_TMP/nginx.out" "$HF_TMP/nginx-error.log" "$HF_TMP/slow.out" 2>/dev/null
	exit 1
fi

# ---------------------------------------------------------------- circuit breaking
SLOW='outbound|80||slow.cb.example'
# wait_log N: until the access log has N lines and the records counter stops moving
wait_log() {
	local i
	for i in $(seq 50); do
		[ "$(wc -l < "$ALOG" 2>/dev/null || echo 0)" -ge "$1" ] && return 0
		sleep 0.1
	done
}
out=$(in_ns wrk -t 2 -c 20 -d 3s --timeout 5s "http://$OUR/slow" 2>&1)
total=$(awk '/requests in/ { print $1 }' <<<"$out")
non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
ok=$(( ${total:-0} - ${non2xx:-0} ))
echo "# wrk: $total requests, $non2xx not 2xx"
recs=$(st access_log.records)
wait_log "${recs:-0}"
uo=$(grep -c '/slow.* 503 UO ' "$ALOG")
drop=$(st http.drop.upstream_rq_pending_overflow)
cxo=$(st http.drop.upstream_cx_overflow)
cl_pend=$(st "cluster.$SLOW.upstream_rq_pending_overflow")
cl_cx=$(st "cluster.$SLOW.upstream_cx_overflow")
lost=$(st access_log.drop.ring_full)
clusters=$(hf_admin "$NS" /clusters)
cl_text=$(grep -F "$SLOW::upstream_rq_pending_overflow::" <<<"$clusters" | awk -F:: '{ print $NF }')
hf_check "wrk -c 20 against one connection and one pending place: some requests overflow ($non2xx of $total not 2xx) and some pass ($ok)" \
	test "${non2xx:-0}" -gt 0 -a "$ok" -gt 0
# wrk stops with up to 20 requests in flight: what it counts may miss their answers
hf_check "every 503 wrk saw is a UO line of the access log ($uo UO lines, $non2xx non-2xx, $lost records lost)" \
	test "$uo" -ge "$non2xx" -a "$uo" -le "$((non2xx + 20))" -a "${lost:-0}" = 0
hf_check "the counters agree with the log: http.drop.upstream_cx_overflow $cxo + http.drop.upstream_rq_pending_overflow $drop = cluster.$SLOW.upstream_rq_pending_overflow $cl_pend = UO lines $uo" \
	test "$((cxo + drop))" = "$cl_pend" -a "$cl_pend" = "$uo"
queued=$(st http.upstream_rq_queued)
hf_check "requests waited for the connection ($queued queued; wrk saw $ok answered)" test "${queued:-0}" -ge 1
hf_check "max_connections is what refused or queued them with one worker: cluster upstream_cx_overflow $cl_cx = UO lines $uo + queued $queued" \
	test "$W" != 1 -o "$cl_cx" = "$((uo + queued))"
hf_check "/clusters says ${SLOW}::upstream_rq_pending_overflow::$cl_text" test "$cl_text" = "$cl_pend"

# three at once (Istio's circuit-breaking task, one worker): served, served after waiting, refused
# (after wrk's last requests: until nothing is in flight to the slow server)
for _ in $(seq 50); do
	[ "$(st "cluster.$SLOW.upstream_rq_active")" = 0 ] && break
	sleep 0.1
done
if [ "$W" = 1 ]; then
	q0=$queued
	for i in 1 2 3; do
		in_ns curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 10 \
			"http://$OUR/slow?$i" > "$HF_TMP/three.$i" &
		pids[i]=$!
		sleep 0.1
	done
	wait "${pids[@]}"
	codes=$(cut -d' ' -f1 "$HF_TMP/three.1" "$HF_TMP/three.2" "$HF_TMP/three.3" | tr '\n' ' ')
	t2=$(cut -d' ' -f2 "$HF_TMP/three.2")
	q1=$(st http.upstream_rq_queued)
	hf_check "3 requests at once, one connection, one pending place: 200, 200 after waiting (${t2} s), 503 ($codes; queued $((q1 - q0)))" \
		test "$codes" = "200 200 503 " -a "$((q1 - q0))" = 1 -a "${t2%%.*}" -ge 1
else
	hf_skip "3 requests at once on one worker's share (this run has $W workers)"
fi
# a route timeout runs while a request waits: both time out, the second in the queue
for i in 1 2; do
	in_ns curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 "http://$OUR/tslow?$i" \
		> "$HF_TMP/tslow.$i" &
	pids[i]=$!
	sleep 0.1
done
wait "${pids[1]}" "${pids[2]}"
codes=$(cat "$HF_TMP/tslow.1" "$HF_TMP/tslow.2" | tr '\n' ' ')
recs=$(st access_log.records)
wait_log "${recs:-0}"
ut=$(grep -c '/tslow.* 504 UT ' "$ALOG")
hf_check "timeout 0.5s: the request on the connection and the one waiting for it both end 504 UT ($codes; $ut UT lines)" \
	test "$codes" = "504 504 " -a "$ut" = 2
# nothing left counted: after the load, one request goes through
body=$(in_ns curl -s --max-time 5 "http://$OUR/slow")
hf_check "after the load the cluster's places are free again: a request is answered ($body)" test "$body" = slow

# ---------------------------------------------------------------- maxRequestsPerConnection
cx0=$(st http.upstream_cx_total); mr0=$(st http.upstream_cx_max_requests)
n=$(in_ns curl -s --max-time 20 "http://$OUR/once?[1-5]" | grep -c good)
cx=$(( $(st http.upstream_cx_total) - cx0 )); mr=$(( $(st http.upstream_cx_max_requests) - mr0 ))
hf_check "maxRequestsPerConnection 1: 5 requests ($n answered) take 5 upstream connections ($cx), each closed after its one ($mr)" \
	test "$n" = 5 -a "$cx" = 5 -a "$mr" = 5

# ---------------------------------------------------------------- outlier detection
OD='outbound|80||od.cb.example'
# count_loop N: N requests on one keep-alive connection (curl's URL range): "good bad"
count_loop() {
	in_ns curl -s --max-time 20 -o /dev/null -w '%{http_code}\n' "http://$OUR/x?[1-$1]" |
		awk '$1 == 200 { g++ } $1 == 500 { b++ } END { print g + 0, b + 0 }'
}
read -r good bad < <(count_loop 40)
ej=$(st "cluster.$OD.outlier_detection.ejections_enforced_total")
hf_check "40 requests: bad answered 3 per worker ($bad 500s, $W workers), then was ejected; good the rest ($good)" \
	test "$bad" -ge 3 -a "$bad" -le "$((3 * W))" -a "$((good + bad))" = 40
hf_check "cluster.$OD.outlier_detection.ejections_enforced_total counts it ($ej)" test "${ej:-0}" -ge 1
clusters=$(hf_admin "$NS" /clusters)
hf_check "/clusters: $PEER:9501 health_flags::/failed_outlier_check, $PEER:9502 healthy" \
	grep -qF "$OD::$PEER:9501::health_flags::/failed_outlier_check" <<<"$clusters"
grep -qF "$OD::$PEER:9502::health_flags::healthy" <<<"$clusters" ||
	hf_not_ok "/clusters: $PEER:9502 is not healthy"
fc=$(in_ns "$HF_PY" "$HF_ROOT/scripts/foilctl" proxy-config endpoint 2>&1)
echo "$fc" | sed 's/^/# /'
hf_check "foilctl proxy-config endpoint: OUTLIER CHECK FAILED for $PEER:9501 only" \
	test "$(grep -c FAILED <<<"$fc")" = 1 -a "$(grep "$PEER:9501" <<<"$fc" | grep -c FAILED)" = 1
sleep 6.5
# 4 requests: round robin gives bad 2, below the 3 that would eject it again
read -r good bad < <(count_loop 4)
hf_check "after baseEjectionTime (6 s) bad is picked again ($bad 500s of 4)" test "$bad" -ge 1
clusters=$(hf_admin "$NS" /clusters)
hf_check "/clusters: $PEER:9501 no longer flagged" \
	grep -qF "$OD::$PEER:9501::health_flags::healthy" <<<"$clusters"

hf_done
