#!/usr/bin/env bash
# The xDS demo: hydrofoil fed by a management server instead of a directory of
# Istio YAML. The server is the project's interop peer (tests/xds/server.js,
# @grpc/grpc-js with the official Envoy protos: ADS, state of the world), serving
# the Envoy resources istiod would push to an ingress gateway for bookinfo: a
# listener on 80 (HttpConnectionManager, routes by RDS, the fault, CORS and router
# filters), the route configuration http.80, EDS clusters named as Istio names
# them (outbound|9080|v1|reviews.default.svc.cluster.local) and their endpoints:
# bookinfo's services as real nginx servers (scripts/lib/bookinfo.sh) on the
# Linux side of a DPDK net_tap in a private network namespace.
#
# It shows what the server saw (requests, ACKs), foilctl proxy-status and
# proxy-config, requests routed; then, live: reviews shifted to 50% v1 / 50% v3
# under wrk load (0 errors), a fault injected on /details (an abort for half the
# requests), a resource hydrofoil refuses (NACK naming the field; the last good
# routes keep serving), and the server killed and restarted (the configuration
# keeps serving; the client resends the versions it holds).
# Everything it creates is removed when it ends, also on Ctrl-C.
# HF_NO_SETUP=1 skips scripts/setup.sh (packages, hugepages, build).
set -uo pipefail
cd "$(dirname "$0")/.."
[ -n "${HF_NO_SETUP:-}" ] || scripts/setup.sh || exit 1
source scripts/lib/netns.sh
source scripts/lib/bookinfo.sh
# The resource writers and the server's event log readers the xDS tests use.
source tests/integration/xds/xds_lib.sh

say() { printf '\n== %s\n' "$*"; }
ist() { echo "outbound|$1|$2|$3.default.svc.cluster.local"; }
PP=$(ist 9080 "" productpage)
DT=$(ist 9080 "" details)
R1=$(ist 9080 v1 reviews)
R2=$(ist 9080 v2 reviews)
R3=$(ist 9080 v3 reviews)
FAULT=$T/envoy.extensions.filters.http.fault.v3.HTTPFault
FILTERS='{"name": "envoy.filters.http.fault", "typed_config": {"@type": "'$FAULT'"}},
     {"name": "envoy.filters.http.cors", "typed_config": {"@type": "'$T'/envoy.extensions.filters.http.cors.v3.Cors"}},'

# bookinfo_routes W1 W3 [DETAILS_EXTRA] [EXTRA_ROUTE]: http.80 as istiod would write it for
# bookinfo's Gateway and VirtualServices; reviews split W1 (v1) / W3 (v3); DETAILS_EXTRA
# is added to the /details route (e.g. its typed_per_filter_config)
bookinfo_routes() {
	routes "$(cat <<JSON
 {"@type": "$T/envoy.config.route.v3.RouteConfiguration", "name": "http.80",
  "virtual_hosts": [{"name": "bookinfo.example.com:80", "domains": ["*"], "routes": [
   ${4:-}
   {"name": "productpage", "match": {"prefix": "/productpage"}, "route": {"cluster": "$PP"}},
   {"name": "api", "match": {"prefix": "/api/v1/products"}, "route": {"cluster": "$PP"}},
   {"name": "details", "match": {"prefix": "/details"}, "route": {"cluster": "$DT"}${3:+, $3}},
   {"name": "reviews", "match": {"prefix": "/reviews"}, "route": {"weighted_clusters": {"clusters": [
     {"name": "$R1", "weight": {"value": $1}}, {"name": "$R3", "weight": {"value": $2}}]}},
    "response_headers_to_add": [{"header": {"key": "x-served-by", "value": "hydrofoil-xds"},
     "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}]}]}]}
JSON
)"
}
clusters "$(eds_cluster "$PP")" "$(eds_cluster "$DT")" "$(eds_cluster "$R1")" \
	"$(eds_cluster "$R2")" "$(eds_cluster "$R3")"
endpoints "$PP" 9080
endpoints "$DT" 9084
endpoints "$R1" 9081
endpoints "$R2" 9082
endpoints "$R3" 9083
bookinfo_routes 100 0
listeners "$(http_listener 80 http.80 "$FILTERS")"

NS=$(hf_ns_new bkxds) || exit 1
HF_NAMESPACES+=("$NS")
BK=$HF_TMP/services
CFG=$HF_TMP/gateway.cfg
say "the management server: tests/xds/server.js on 127.0.0.1:15010 (in namespace $NS), serving $XDS"
start_server || { echo "the management server did not start"; cat "$SLOG"; exit 1; }
for f in "$XDS"/*.json; do
	printf '  %-60s %s\n' "$(basename "$f")" "$(/usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(", ".join("%s %s" % (r["@type"].rsplit(".", 1)[1], r.get("name", r.get("cluster_name", ""))) for r in d["resources"]))' "$f")"
done
hf_cfg "$CFG" hf0 "$OUR/24" "$PEER" "access_log = \"$ALOG\";
xds = { address = \"127.0.0.1\"; port = 15010; api_type = \"GRPC\";
  metadata = { NAMESPACE = \"istio-system\"; NAME = \"istio-ingressgateway-0\"; INSTANCE_IPS = \"$OUR\";
    CLUSTER_ID = \"Kubernetes\"; ISTIO_VERSION = \"1.24.0\"; SERVICE_ACCOUNT = \"istio-ingressgateway\"; }; };"
say "bootstrap ($CFG): no configuration directory, an xds block"
sed -n '/^xds/,$p' "$CFG"
if ! out=$("$HF_BIN" -c "$CFG" --check 2>&1); then
	echo "hydrofoil refuses the bootstrap: $out"
	exit 1
fi
hf_up "$NS" "$CFG" "$LOG" "$PEER/24" || { echo "hydrofoil did not become ready"; tail "$LOG"; exit 1; }
bk_nginx_start "$NS" "$BK" || { echo "the bookinfo services did not start"; exit 1; }
served() { [ "$(code "http://$OUR/productpage")" = 200 ]; }
wait_for 20 served || { echo "hydrofoil did not serve what the server sent"; tail "$LOG"; exit 1; }
grep -E '^hydrofoil: xds' "$LOG" | head -4

say "what the server saw: hydrofoil's node, its requests and ACKs"
ev request | head -1 | field node | /usr/bin/python3 -c 'import json,sys
n = json.loads(sys.stdin.read())
print("  node.id  ", n.get("id"))
def plain(v):  # a google.protobuf.Value as protobufjs shows it, as plain JSON
    if "structValue" in v:
        return {k: plain(x) for k, x in v["structValue"].get("fields", {}).items()}
    return v.get("stringValue", v.get(v.get("kind", ""), ""))
md = {k: plain(v) for k, v in n.get("metadata", {}).get("fields", {}).items()}
print("  metadata ", ", ".join("%s=%s" % (k, md[k] if isinstance(md[k], str) else json.dumps(md[k])) for k in sorted(md)))'
ev ack | /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    e = json.loads(l)
    print("  ACK %-40s version %s nonce %s" % (e["type"], e["version"], e["nonce"]))'
say "foilctl proxy-status"
in_ns scripts/foilctl proxy-status | sed 's/^/  /'
say "foilctl proxy-config listener / route / cluster / endpoint"
for w in listener route cluster endpoint; do in_ns scripts/foilctl proxy-config "$w" | sed 's/^/  /'; echo; done

say "requests at the gateway ($OUR:80)"
ask() { # PATH: what answered
	local out
	out=$(in_ns "${CURL[@]}" -D "$HF_TMP/hdr" "http://$OUR$1" 2>/dev/null)
	printf '  GET %-24s -> %s %s\n' "$1" "$(head -1 "$HF_TMP/hdr" | tr -d '\r' | cut -d' ' -f2)" \
		"$(bk_who "$out")$(grep -i '^x-served-by' "$HF_TMP/hdr" | tr -d '\r' | sed 's/^/, /')"
}
for p in /productpage /api/v1/products/1 /details/1 /reviews/1 /ratings/1; do ask "$p"; done

# ---------------------------------------------------------------- the live shift
say "live: reviews 100% v1 -> 50% v1 / 50% v3 (a new RouteConfiguration), under wrk load"
ulimit -n 65536 2>/dev/null || true
in_ns wrk -t2 -c32 -d10s --timeout 5s "http://$OUR/reviews/0" > "$HF_TMP/wrk.out" 2>&1 &
WRK_PID=$!
HF_PIDS+=("$WRK_PID")
sleep 2
split() { # N requests: "v1 a  v3 b  other c"
	local args=() i
	for i in $(seq "$1"); do args+=(-o /dev/null "http://$OUR/reviews/0"); done
	in_ns "${CURL[@]}" -w '%{http_code} %header{x-bookinfo-server}\n' "${args[@]}" |
		awk '{ if ($1 == 200 && $2 ~ /^reviews-v[13]$/) n[substr($2, 9)]++; else n["other"]++ }
			END { printf "v1 %d  v3 %d  other %d\n", n["v1"], n["v3"], n["other"] }'
}
echo "  before, 100 requests: $(split 100)"
a0=$(ev ack | grep -cF '"type":"RouteConfiguration"')
t0=$(date +%s%3N)
bookinfo_routes 50 50
acked() { [ "$(ev ack | grep -cF '"type":"RouteConfiguration"')" -gt "$a0" ]; }
v3() { [ "$(in_ns "${CURL[@]}" -o /dev/null -w '%header{x-bookinfo-server}' "http://$OUR/reviews/0")" = reviews-v3 ]; }
wait_for 10 acked
ta=$(ev ack | grep -F '"type":"RouteConfiguration"' | tail -1 | field t)
wait_for 10 v3
t1=$(date +%s%3N)
echo "  routes.json rewritten; the server pushed it (it polls its directory every 200 ms), hydrofoil ACKed it $((ta - t0)) ms after the write; a v3 answer seen $((t1 - t0)) ms after it"
echo "  after, 100 requests:  $(split 100)"
wait "$WRK_PID"
grep -E 'Requests/sec|requests in|Non-2xx|Socket errors' "$HF_TMP/wrk.out" | sed 's/^/  wrk: /'
echo "  wrk non-2xx: $(sed -n 's/^ *Non-2xx or 3xx responses: *//p' "$HF_TMP/wrk.out" | grep . || echo 0); socket errors: $(sed -n 's/^ *Socket errors: *//p' "$HF_TMP/wrk.out" | grep . || echo none)"

say "live: a fault on /details (typed_per_filter_config envoy.filters.http.fault: abort 503 for 50%)"
bookinfo_routes 50 50 '"typed_per_filter_config": {"envoy.filters.http.fault": {"@type": "'"$FAULT"'",
   "abort": {"http_status": 503, "percentage": {"numerator": 50, "denominator": "HUNDRED"}}}}'
faulted() { [ "$(hf_stat "$NS" http.fault.aborts_injected)" -gt 0 ] 2>/dev/null || { code "http://$OUR/details/0" >/dev/null; false; }; }
wait_for 10 faulted
codes=$(for _ in $(seq 40); do code "http://$OUR/details/0"; echo; done | sort | uniq -c | awk '{ printf "%s x %s  ", $1, $2 }')
echo "  40 x GET /details/0: $codes"
echo "  http.fault.aborts_injected: $(hf_stat "$NS" http.fault.aborts_injected)"
grep -F '"GET /details/0 HTTP/1.1" 503 FI ' "$ALOG" | tail -1 | sed 's/^/  access log: /'

say "a resource hydrofoil refuses: a header value with a command operator (%DOWNSTREAM_REMOTE_ADDRESS%)"
n0=$(ev nack | wc -l)
bookinfo_routes 50 50 "" '{"name": "ip", "match": {"prefix": "/ip"}, "route": {"cluster": "'"$PP"'"},
   "request_headers_to_add": [{"header": {"key": "x-client-ip", "value": "%DOWNSTREAM_REMOTE_ADDRESS%"}}]},'
nacked() { [ "$(ev nack | wc -l)" -gt "$n0" ]; }
wait_for 10 nacked
echo "  the server got a NACK: $(ev nack | tail -1 | field error)"
echo "  ... with version_info $(ev nack | tail -1 | field version) (the version hydrofoil still serves)"
in_ns scripts/foilctl proxy-status | sed 's/^/  /'
ask /reviews/2
bookinfo_routes 50 50

say "the control plane goes away: the server killed (SIGKILL)"
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
sleep 1
for p in /productpage /reviews/3; do ask "$p"; done
grep -F 'xds: stream closed' "$LOG" | tail -1 | sed 's/^/  /'
say "... and comes back: the client reconnects (exponential backoff with jitter) and resends the versions it holds"
n_open=$(ev stream_open | wc -l)
start_server || { echo "the management server did not restart"; exit 1; }
reopened() { [ "$(ev stream_open | wc -l)" -gt "$n_open" ]; }
wait_for 30 reopened
sleep 1
grep -F 'xds: connected' "$LOG" | tail -1 | sed 's/^/  /'
# the server's log from its last stream_open on: the new stream (its ids restart at 1)
tac "$SLOG" | sed '/"event":"stream_open"/q' | tac | grep -F '"event":"request"' | /usr/bin/python3 -c 'import json,sys
seen = {}
for l in sys.stdin:
    e = json.loads(l)
    if e["type"] not in seen:
        seen[e["type"]] = e.get("version") or "(none)"
for t, v in sorted(seen.items()):
    print("  the new stream'"'"'s first request of %-22s carried version %s" % (t, v))'
ask /reviews/4
in_ns scripts/foilctl proxy-status | sed 's/^/  /'

say "stopping (SIGTERM)"
kill -TERM "$HF_PID"
wait "$HF_PID"
echo "exit status $?"
