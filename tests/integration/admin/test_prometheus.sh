#!/usr/bin/env bash
# Istio's standard metrics on GET /stats/prometheus, scraped by a real Prometheus (Debian's).
# Hydrofoil on net_tap in a private namespace serves an Istio Gateway and VirtualService in
# front of nginx; the test drives a known mix of requests (200s to two services, 404s from
# the upstream, 404 NR for a host no route has, a 503 UF to a port nobody listens on),
# then asks Prometheus with PromQL for what it scraped: the request counts by destination
# service and response code, a rate, and a histogram_quantile of the duration. promtool
# checks the exposition itself. Prometheus listens on the namespace's loopback only.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
NGINX_CONF=$HF_ROOT/tests/integration/http/nginx.conf.in

OUR=198.51.100.2
PEER=198.51.100.1
WEB_PORT=8080
DEAD_PORT=8089	# nothing listens: connection refused, 503 UF
PROM_PORT=19090
ISTIO=$HF_TMP/istio
WWW=$HF_TMP/www

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
	hf_skip "Prometheus scrape: prometheus and promtool are not installed (scripts/setup.sh installs them)"
	exit 0
fi

mkdir -p "$ISTIO" "$WWW" "$HF_TMP/nginx" "$HF_TMP/prom"
echo ok > "$WWW/ok.txt"
cat > "$ISTIO/gw.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 9000, name: tcp, protocol: TCP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: web, namespace: shop}
spec:
  hosts: [web.shop.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: $PEER}]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: cart, namespace: shop}
spec:
  hosts: [cart.shop.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: $PEER}]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: dead, namespace: shop}
spec:
  hosts: [dead.shop.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: $DEAD_PORT, name: http, protocol: HTTP}]
  endpoints: [{address: $PEER}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: shop, namespace: istio-system}
spec:
  hosts: ["shop.example.com"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /cart/}}]
    rewrite: {uri: /}
    route: [{destination: {host: cart.shop.svc.cluster.local, port: {number: 8080}}}]
  - match: [{uri: {prefix: /dead/}}]
    route: [{destination: {host: dead.shop.svc.cluster.local, port: {number: $DEAD_PORT}}}]
  - route: [{destination: {host: web.shop.svc.cluster.local, port: {number: 8080}}}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: shop-tcp, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [gw]
  tcp:
  - match: [{port: 9000}]
    route: [{destination: {host: cart.shop.svc.cluster.local, port: {number: 8080}}}]
YAML

NS=$(hf_ns_new prom) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; };
access_log = \"$HF_TMP/access.log\";"
# The node of an Istio ingress gateway: router~IP~POD.NAMESPACE~NAMESPACE.svc.cluster.local
sed -i 's|^node: .*|node: { id = "router~198.51.100.2~ingress-7d4f.istio-system~istio-system.svc.cluster.local"; cluster = "Kubernetes"; labels = [ "istio=ingressgateway", "app=istio-ingressgateway" ]; };|' "$HF_TMP/hf.cfg"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with an Istio Gateway reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with an Istio Gateway reports LIVE"
sed -e "s|@TMP@|$HF_TMP|g" -e "s|@ADDR@|$PEER|g" -e "s|@PORT@|$WEB_PORT|g" "$NGINX_CONF" > "$HF_TMP/nginx.conf"
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' >/dev/null 2>&1 &
HF_PIDS+=($!)
for _ in $(seq 50); do
	[ -n "$(ip netns exec "$NS" ss -Hltn "sport = :$WEB_PORT")" ] && break
	sleep 0.1
done

# ---------------------------------------------------------------- the exposition itself
ip netns exec "$NS" curl -s --max-time 5 -o "$HF_TMP/scrape0.txt" -w '%{http_code} %{content_type}' \
	http://127.0.0.1:15000/stats/prometheus > "$HF_TMP/scrape0.code"
hf_check "GET /stats/prometheus answers 200 text/plain version 0.0.4 ($(cat "$HF_TMP/scrape0.code"))" \
	grep -q '^200 text/plain; version=0.0.4' "$HF_TMP/scrape0.code"
hf_check "every /stats counter is there (hydrofoil_tcp_drop_no_listener, typed counter)" \
	grep -q '^# TYPE hydrofoil_tcp_drop_no_listener counter$' "$HF_TMP/scrape0.txt"
hf_check "gauges are typed gauge (hydrofoil_tcp_cx_active)" \
	grep -q '^# TYPE hydrofoil_tcp_cx_active gauge$' "$HF_TMP/scrape0.txt"
hf_check "istio_build names the proxy" grep -q '^istio_build{component="proxy",tag="hydrofoil-' "$HF_TMP/scrape0.txt"

# ---------------------------------------------------------------- the traffic
cat > "$HF_TMP/prom.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: hydrofoil
  metrics_path: /stats/prometheus
  static_configs: [{targets: ["127.0.0.1:15000"]}]
YML
ip netns exec "$NS" prometheus --config.file="$HF_TMP/prom.yml" --storage.tsdb.path="$HF_TMP/prom" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$HF_TMP/prom.log" 2>&1 &
PROM_PID=$!
HF_PIDS+=("$PROM_PID")
prom() {	# prom QUERY: the first result's value, or empty
	ip netns exec "$NS" curl -s --max-time 5 -G "http://127.0.0.1:$PROM_PORT/api/v1/query" \
		--data-urlencode "query=$1" |
		"$HF_PY" -c 'import json,sys
d=json.load(sys.stdin)
r=d.get("data",{}).get("result",[])
print(r[0]["value"][1] if r else "")' 2>/dev/null
}
up=""
for _ in $(seq 100); do
	up=$(prom 'up{job="hydrofoil"}')
	[ "$up" = 1 ] && break
	sleep 0.2
done
hf_check "Prometheus scrapes hydrofoil's admin (up=${up:-none})" test "$up" = 1

get() {	# get N PATH: N requests for shop.example.com PATH, the last code printed
	local code=""
	for _ in $(seq "$1"); do
		code=$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
			-H 'host: shop.example.com' "http://$OUR$2")
	done
	echo "$code"
}
# One 200 first, and a scrape that holds it: a rate needs the series' increase between two
# of its samples, and on a quick machine all the traffic would otherwise land before the
# series' first sample (rate 0 then, whatever was sent).
c0=$(get 1 /ok.txt)
for _ in $(seq 40); do
	[ "$(prom 'sum(istio_requests_total{response_code="200"})')" = 1 ] && break
	sleep 0.25
done
c1=$(get 29 /ok.txt)
c2=$(get 12 /cart/ok.txt)
c3=$(get 7 /missing.txt)
c4=$(get 5 /dead/x)
c5=$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'host: nowhere.example' "http://$OUR/")
hf_check "the traffic got its codes (web 200: $c0 $c1, cart 200: $c2, web 404: $c3, dead 503: $c4, no route 404: $c5)" \
	test "$c0 $c1 $c2 $c3 $c4 $c5" = "200 200 200 404 503 404"
ip netns exec "$NS" curl -s --max-time 5 http://127.0.0.1:15000/stats/prometheus > "$HF_TMP/scrape1.txt"

# Wait until a scrape newer than the traffic holds all of it.
want_total=55
total=""
for _ in $(seq 60); do
	total=$(prom 'sum(istio_requests_total)')
	[ "$total" = "$want_total" ] && break
	sleep 0.25
done
hf_check "sum(istio_requests_total) is the $want_total requests sent (got ${total:-none})" test "$total" = "$want_total"

q() { prom "sum(istio_requests_total{$1})"; }
v=$(q 'destination_service="web.shop.svc.cluster.local",response_code="200"')
hf_check "web.shop 200: 30 (got ${v:-none})" test "$v" = 30
v=$(q 'destination_service_name="cart",destination_service_namespace="shop",response_code="200"')
hf_check "cart (name cart, namespace shop) 200: 12 (got ${v:-none})" test "$v" = 12
v=$(q 'destination_service="web.shop.svc.cluster.local",response_code="404",response_flags="-"')
hf_check "web.shop 404 from the upstream, no flag: 7 (got ${v:-none})" test "$v" = 7
v=$(q 'destination_service="dead.shop.svc.cluster.local",response_code="503",response_flags="UF"')
hf_check "dead.shop 503 with flag UF: 5 (got ${v:-none})" test "$v" = 5
v=$(q 'destination_service="unknown",response_code="404",response_flags="NR"')
hf_check "no route: 404 NR to destination unknown: 1 (got ${v:-none})" test "$v" = 1
v=$(q 'reporter="source",source_workload="istio-ingressgateway",source_workload_namespace="istio-system",source_cluster="Kubernetes",request_protocol="http"')
hf_check "source labels from the node (reporter source, workload, namespace, cluster): 55 (got ${v:-none})" \
	test "$v" = 55
v=$(prom 'sum(rate(istio_requests_total{response_code="200"}[1m])) > 0')
hf_check "rate(istio_requests_total[1m]) of the 200s is above 0 (got ${v:-none})" test -n "$v"
v=$(prom 'histogram_quantile(0.5, sum by (le) (rate(istio_request_duration_milliseconds_bucket{response_code="200"}[1m])))')
hf_check "histogram_quantile(0.5) of the 200s' duration is a number of ms (got ${v:-none})" \
	"$HF_PY" -c 'import sys; v=float(sys.argv[1]); sys.exit(0 if 0 <= v < 1000 else 1)' "${v:-x}"
# Each bucket against the access log's durations (whole ms, rounded down) of the same
# requests: floor(d) < X implies d <= X, and d <= X implies floor(d) <= X, so the bucket
# le=X holds at least the first count and at most the second.
sleep 0.5	# the agent writes the log within a few ms
bucket_bad=""
for le in 1 5 10 25 50 100 250 500 1000; do
	b=$(grep -E "^istio_request_duration_milliseconds_bucket\{.*destination_service=\"web.shop.svc.cluster.local\".*response_code=\"200\".*le=\"$le\"\}" \
		"$HF_TMP/scrape1.txt" | awk '{ print $NF }')
	# Istio's format: [time] "GET /ok.txt HTTP/1.1" 200 FLAG DETAILS - "-" RX TX DURATION ...
	read -r lo hi < <(awk -v X="$le" '$3 == "/ok.txt" && $5 == 200 { if ($12 < X) lo++; if ($12 <= X) hi++ }
		END { print lo + 0, hi + 0 }' "$HF_TMP/access.log")
	[ -n "$b" ] && [ "$b" -ge "$lo" ] && [ "$b" -le "$hi" ] || bucket_bad+=" le=$le: $b not in [$lo, $hi];"
done
hf_check "web's 200s fall in the duration buckets their access-log durations say${bucket_bad}" test -z "$bucket_bad"
v=$(prom 'sum(istio_request_duration_milliseconds_count)')
hf_check "the duration histogram counted every request (count ${v:-none})" test "$v" = "$want_total"
v=$(prom 'sum(istio_response_bytes_sum{destination_service="web.shop.svc.cluster.local",response_code="200"})')
hf_check "istio_response_bytes_sum of web's 200s is 30 x 3 bytes (got ${v:-none})" test "$v" = 90

# ---------------------------------------------------------------- TCP (tcp_proxy)
# Three connections through the tcp route to cart (HTTP over raw TCP, one request each).
tcp_ok=0
for _ in 1 2 3; do
	c=$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$OUR:9000/ok.txt")
	[ "$c" = 200 ] && tcp_ok=$((tcp_ok + 1))
done
hf_check "three requests through the tcp route answered 200 ($tcp_ok)" test "$tcp_ok" = 3
up_b=$(hf_stat "$NS" tcp_proxy.upstream_tx_bytes)
down_b=$(hf_stat "$NS" tcp_proxy.downstream_tx_bytes)
tq() { prom "sum($1{destination_service=\"cart.shop.svc.cluster.local\",request_protocol=\"tcp\"})"; }
v=""
for _ in $(seq 40); do
	v=$(tq istio_tcp_connections_closed_total)
	[ "$v" = 3 ] && break
	sleep 0.25
done
hf_check "istio_tcp_connections_closed_total to cart: 3 (got ${v:-none})" test "$v" = 3
v=$(tq istio_tcp_connections_opened_total)
hf_check "istio_tcp_connections_opened_total to cart: 3 (got ${v:-none})" test "$v" = 3
v=$(tq istio_tcp_received_bytes_total)
hf_check "istio_tcp_received_bytes_total is what tcp_proxy sent upstream ($up_b; got ${v:-none})" \
	test -n "$v" -a "$v" = "$up_b" -a "${up_b:-0}" -gt 0
v=$(tq istio_tcp_sent_bytes_total)
hf_check "istio_tcp_sent_bytes_total is what tcp_proxy sent downstream ($down_b; got ${v:-none})" \
	test -n "$v" -a "$v" = "$down_b" -a "${down_b:-0}" -gt 0
ip netns exec "$NS" curl -s --max-time 5 http://127.0.0.1:15000/stats/prometheus > "$HF_TMP/scrape1.txt"

# ---------------------------------------------------------------- format and bounds
# promtool parses the exposition (an error is "error while linting: text format parsing
# error"); its naming lints (help text, _total suffixes, unit names) are not format errors.
out=$(promtool check metrics < "$HF_TMP/scrape1.txt" 2>&1)
bad=$(grep -i 'error while linting\|parsing error' <<<"$out" | head -2)
hf_check "promtool parses the exposition without an error${bad:+: $bad}" test -z "$bad"
dups=$(grep -v '^#' "$HF_TMP/scrape1.txt" | sed 's/ [^ ]*$//' | sort | uniq -d | head -2)
hf_check "no series appears twice in one scrape${dups:+: $dups}" test -z "$dups"
hf_check "the overflow counter is exposed and 0 (hydrofoil_metrics_drop_series_overflow)" \
	grep -q '^hydrofoil_metrics_drop_series_overflow 0$' "$HF_TMP/scrape1.txt"
# ---------------------------------------------------------------- Telemetry (hot reloads)
# Istio's Telemetry API turns metrics off: what is off is not recorded and not shown, the
# rest goes on; a Telemetry the node cannot honour is refused and the running one kept.
scrape() { ip netns exec "$NS" curl -s --max-time 5 http://127.0.0.1:15000/stats/prometheus; }
sum_of() {	# sum_of NAME FILE: the sum of NAME's samples (no labels filtered), "none" if absent
	awk -v n="$1" 'index($0, n "{") == 1 { s += $NF; f = 1 } END { print f ? s : "none" }' "$2"
}
# tm NAME YAML-OVERRIDES: installs telemetry NAME and waits for the snapshot (or a refusal)
tm() {
	local v0 r0
	v0=$(hf_stat "$NS" control_plane.snapshot_version)
	r0=$(hf_stat "$NS" control_plane.config_rejected)
	cat > "$ISTIO/telemetry.yaml" <<YAML
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: $1, namespace: istio-system}
spec:
$2
YAML
	for _ in $(seq 50); do
		[ "$(hf_stat "$NS" control_plane.snapshot_version)" != "$v0" ] && return 0
		[ "$(hf_stat "$NS" control_plane.config_rejected)" != "$r0" ] && return 0
		sleep 0.1
	done
	return 1
}
scrape > "$HF_TMP/t0.txt"
tm no-duration '  metrics:
  - providers: [{name: prometheus}]
    overrides:
    - match: {metric: REQUEST_DURATION}
      disabled: true
    - match: {metric: TCP_SENT_BYTES, mode: CLIENT_AND_SERVER}
      disabled: true
    - match: {metric: REQUEST_SIZE, mode: SERVER}
      disabled: true' || hf_not_ok "reload after a Telemetry was added"
c=$(get 4 /ok.txt)
scrape > "$HF_TMP/t1.txt"
a=$(sum_of istio_requests_total "$HF_TMP/t0.txt"); b=$(sum_of istio_requests_total "$HF_TMP/t1.txt")
hf_check "Telemetry off REQUEST_DURATION: 4 requests ($c) still counted in istio_requests_total ($a -> $b)" \
	test "$c" = 200 -a "$b" = "$((a + 4))"
hf_check "... istio_request_duration_milliseconds and istio_tcp_sent_bytes_total not shown ($(grep -c '^istio_request_duration_milliseconds\|^istio_tcp_sent_bytes_total' "$HF_TMP/t1.txt") lines)" \
	test "$(grep -c '^istio_request_duration_milliseconds\|^# TYPE istio_request_duration\|^istio_tcp_sent_bytes_total' "$HF_TMP/t1.txt")" = 0
hf_check "... a SERVER-mode override does not concern a gateway: istio_request_bytes still counted ($(sum_of istio_request_bytes_count "$HF_TMP/t0.txt") -> $(sum_of istio_request_bytes_count "$HF_TMP/t1.txt"))" \
	test "$(sum_of istio_request_bytes_count "$HF_TMP/t1.txt")" = "$(($(sum_of istio_request_bytes_count "$HF_TMP/t0.txt") + 4))"
tm all-off '  metrics:
  - overrides:
    - disabled: true' || hf_not_ok "reload after Telemetry all-off"
c=$(get 3 /ok.txt)
scrape > "$HF_TMP/t2.txt"
hf_check "Telemetry off ALL_METRICS: 3 requests answered ($c), no istio_ series shown ($(grep -c '^istio_[a-z_]*{' "$HF_TMP/t2.txt") lines; istio_build stays: $(grep -c '^istio_build{' "$HF_TMP/t2.txt"))" \
	test "$c" = 200 -a "$(grep -c '^istio_requests_total{\|^istio_response_bytes\|^istio_tcp_' "$HF_TMP/t2.txt")" = 0 \
	-a "$(grep -c '^istio_build{' "$HF_TMP/t2.txt")" = 1
v0=$(hf_stat "$NS" control_plane.snapshot_version)
tm tracing '  tracing:
  - randomSamplingPercentage: 10' || hf_not_ok "reload after Telemetry with tracing"
hf_check "a Telemetry with tracing is refused (config_rejected $(hf_stat "$NS" control_plane.config_rejected)) and the running snapshot kept ($v0 -> $(hf_stat "$NS" control_plane.snapshot_version))" \
	test "$(hf_stat "$NS" control_plane.snapshot_version)" = "$v0" -a \
	-n "$(grep -F 'spec.tracing: not supported yet' "$HF_TMP/hf.log")"
rm -f "$ISTIO/telemetry.yaml"
for _ in $(seq 50); do
	[ "$(hf_stat "$NS" control_plane.snapshot_version)" != "$v0" ] && break
	sleep 0.1
done
c=$(get 2 /ok.txt)
scrape > "$HF_TMP/t3.txt"
a=$(sum_of istio_requests_total "$HF_TMP/t3.txt")
d=$(sum_of istio_request_duration_milliseconds_count "$HF_TMP/t3.txt")
d0=$(sum_of istio_request_duration_milliseconds_count "$HF_TMP/t0.txt")
hf_check "Telemetry removed: every metric back; the 3 requests under all-off were not recorded (requests $b -> $a for 2 more; durations $d0 -> $d)" \
	test "$c" = 200 -a "$a" = "$((b + 2))" -a "$d" = "$((d0 + 2))"

cp "$HF_TMP/hf.cfg" "$HF_TMP/bad.cfg"
echo 'metrics = { max_series = 4; };' >> "$HF_TMP/bad.cfg"
out=$("$HF_BIN" -c "$HF_TMP/bad.cfg" --check 2>&1)
rc=$?
hf_check "metrics.max_series below 16 refused by --check: exit $rc, '$(tail -1 <<<"$out" | cut -c1-160)'" \
	test "$rc" -eq 2 -a -n "$(grep -F 'metrics.max_series' <<<"$out")"

cp "$HF_TMP/hf.cfg" "$HF_TMP/bad.cfg"
echo 'metrics = { enabled = "yes"; };' >> "$HF_TMP/bad.cfg"
out=$("$HF_BIN" -c "$HF_TMP/bad.cfg" --check 2>&1)
rc=$?
hf_check "metrics.enabled not a boolean refused by --check: exit $rc, '$(tail -1 <<<"$out" | cut -c1-160)'" \
	test "$rc" -eq 2 -a -n "$(grep -F 'metrics.enabled' <<<"$out")"
hf_check_stop

# Metrics off (what they cost is measured with them off and on): requests are served and
# counted in /stats, and no Istio series is recorded.
cp "$HF_TMP/hf.cfg" "$HF_TMP/off.cfg"
echo 'metrics = { enabled = false; };' >> "$HF_TMP/off.cfg"
if hf_up "$NS" "$HF_TMP/off.cfg" "$HF_TMP/off.log" "$PEER/24"; then
	code=$(get 5 /ok.txt)
	ip netns exec "$NS" curl -s --max-time 5 http://127.0.0.1:15000/stats/prometheus > "$HF_TMP/off.txt"
	hf_check "with metrics.enabled = false: 5 requests answered ($code), counted in /stats ($(hf_stat "$NS" http.downstream_rq_total)), no istio_requests_total series ($(grep -c '^istio_requests_total{' "$HF_TMP/off.txt"))" \
		test "$code" = 200 -a "$(hf_stat "$NS" http.downstream_rq_total)" -ge 5 \
		-a "$(grep -c '^istio_requests_total{' "$HF_TMP/off.txt")" = 0
	hf_check_stop
else
	hf_not_ok "hydrofoil with metrics.enabled = false reports LIVE"
fi
hf_done
