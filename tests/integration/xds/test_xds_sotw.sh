#!/usr/bin/env bash
# xDS end to end, state of the world: hydrofoil configured only by an ADS
# server (tests/xds/server.js on @grpc/grpc-js with the official Envoy protos,
# serving the JSON resources of a directory), on a net_tap in a private
# namespace, in front of two nginx servers that name themselves ("A" on 9101,
# "B" on 9102). The server runs in the same namespace on 127.0.0.1:15010.
#
# Checks: the node identity istiod expects (id and metadata) in the first
# request; initial sync (an EDS cluster, an RDS route configuration) → curl
# through the gateway reaches A; a header-matched route to a STATIC cluster
# reaches B; the server saw an ACK of every type with the version it sent; an
# unsupported field in a route configuration → NACK whose error_detail names
# the resource and the field, the old routes still serving; an endpoint change
# → traffic moves to B; safe_regex and weighted_clusters routes; the server
# killed → the configuration keeps serving; a change made while it was away,
# the server restarted → the client resends
# the versions it holds, resyncs, and traffic follows; SIGTERM stops it with 0.
# Also: a tcp_proxy listener added live; a listener whose route configuration
# has not arrived is ACKed and warms (its port unserved, the rest serving)
# until the route configuration comes; a listener changed to a route
# configuration not there yet warms while its previous version serves (make
# before break); 50 endpoint changes in 5 s under wrk with no failed request,
# every version pushed ACKed.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

OUR=198.51.100.2
PEER=198.51.100.1
XDS=$HF_TMP/xds
LOG=$HF_TMP/hf.log
SLOG=$HF_TMP/server.log
SERVER=$HF_ROOT/tests/xds/server.js

if [ ! -d "$HF_ROOT/tests/xds/node_modules/@grpc/grpc-js" ] || ! command -v node >/dev/null; then
	hf_not_ok "tests/xds/node_modules is installed (scripts/setup.sh runs npm ci)"
	exit 1
fi
NS=$(hf_ns_new xds) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
in_ns() { ip netns exec "$NS" "$@"; }

# ---------------------------------------------------------------- the resources
mkdir -p "$XDS"
T=type.googleapis.com
# endpoints PORT: the ClusterLoadAssignment of cluster "web" → PEER:PORT (written, then renamed in place)
endpoints() {
	cat > "$XDS/.endpoints.tmp" <<JSON
{"resources": [
 {"@type": "$T/envoy.config.endpoint.v3.ClusterLoadAssignment", "cluster_name": "web",
  "endpoints": [{"locality": {"region": "r1", "zone": "z1"},
   "lb_endpoints": [
    {"endpoint": {"address": {"socket_address": {"address": "$PEER", "port_value": $1}}},
     "health_status": "HEALTHY", "load_balancing_weight": {"value": 1}},
    {"endpoint": {"address": {"socket_address": {"address": "$PEER", "port_value": 9199}}},
     "health_status": "UNHEALTHY"}]}]}
]}
JSON
	mv "$XDS/.endpoints.tmp" "$XDS/endpoints.json"
}
# routes [EXTRA_ROUTE]: RouteConfiguration "http.80", EXTRA_ROUTE first when given
routes() {
	cat > "$XDS/.routes.tmp" <<JSON
{"resources": [
 {"@type": "$T/envoy.config.route.v3.RouteConfiguration", "name": "http.80",
  "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
   ${1:-}
   {"name": "canary", "match": {"prefix": "/", "headers": [{"name": "x-canary",
     "string_match": {"exact": "yes"}}]},
    "route": {"cluster": "web-b", "timeout": {"seconds": 5}}},
   {"name": "split", "match": {"prefix": "/split"}, "route": {"weighted_clusters": {"clusters": [
     {"name": "web", "weight": {"value": 1}}, {"name": "web-b", "weight": {"value": 1}}]}}},
   {"name": "re", "match": {"safe_regex": {"regex": "/re/[0-9]+"}}, "route": {"cluster": "web-b"}},
   {"name": "direct", "match": {"path": "/hello"},
    "direct_response": {"status": 203, "body": {"inline_string": "hello from xds\n"}}},
   {"name": "default", "match": {"prefix": "/"},
    "route": {"cluster": "web", "retry_policy": {"retry_on": "connect-failure,5xx",
      "num_retries": {"value": 2}}}}]}]}
]}
JSON
	mv "$XDS/.routes.tmp" "$XDS/routes.json"
}
cat > "$XDS/clusters.json" <<JSON
{"resources": [
 {"@type": "$T/envoy.config.cluster.v3.Cluster", "name": "web", "type": "EDS",
  "eds_cluster_config": {"eds_config": {"ads": {}, "resource_api_version": "V3"}},
  "connect_timeout": {"seconds": 1}, "lb_policy": "ROUND_ROBIN"},
 {"@type": "$T/envoy.config.cluster.v3.Cluster", "name": "web-b", "type": "STATIC",
  "lb_policy": "RANDOM",
  "load_assignment": {"cluster_name": "web-b", "endpoints": [{"lb_endpoints": [
   {"endpoint": {"address": {"socket_address": {"address": "$PEER", "port_value": 9102}}}}]}]}}
]}
JSON
# http_listener PORT: an HTTP listener whose routes come by RDS as "http.PORT"
http_listener() {
	cat <<JSON
 {"@type": "$T/envoy.config.listener.v3.Listener", "name": "http_$1",
  "address": {"socket_address": {"address": "0.0.0.0", "port_value": $1}},
  "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
   "typed_config": {"@type": "$T/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    "stat_prefix": "http_$1",
    "rds": {"route_config_name": "http.$1", "config_source": {"ads": {}, "resource_api_version": "V3"}},
    "http_filters": [{"name": "envoy.filters.http.router",
     "typed_config": {"@type": "$T/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]}
JSON
}
# listeners [EXTRA...]: http_80, then each EXTRA listener (JSON)
listeners() {
	local l
	{
		echo '{"resources": ['
		http_listener 80
		for l in "$@"; do echo ",$l"; done
		echo ']}'
	} > "$XDS/.listeners.tmp"
	mv "$XDS/.listeners.tmp" "$XDS/listeners.json"
}
TCP_9000='{"@type": "'$T'/envoy.config.listener.v3.Listener", "name": "tcp_9000",
  "address": {"socket_address": {"address": "0.0.0.0", "port_value": 9000}},
  "filter_chains": [{"filters": [{"name": "envoy.filters.network.tcp_proxy",
   "typed_config": {"@type": "'$T'/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
    "stat_prefix": "tcp_9000", "cluster": "web-b"}}]}]}'
listeners
endpoints 9101
routes

# ---------------------------------------------------------------- the servers
start_server() {
	ip netns exec "$NS" node "$SERVER" --dir "$XDS" --port 15010 >> "$SLOG" 2>&1 &
	SPID=$!
	HF_PIDS+=("$SPID")
	for _ in $(seq 100); do
		[ -n "$(in_ns ss -Hltn 'sport = :15010')" ] && return 0
		sleep 0.1
	done
	return 1
}
# ev EVENT [JQ-ish FILTER via python]: the server's log lines of EVENT as JSON, one per line
ev() { grep -F "\"event\":\"$1\"" "$SLOG" 2>/dev/null; }
# field NAME: that field of each JSON line on stdin
field() { "$HF_PY" -c 'import json,sys
for l in sys.stdin:
    l=l.strip()
    if l:
        v=json.loads(l).get(sys.argv[1])
        print(json.dumps(v) if isinstance(v,(dict,list)) else v)' "$1"; }
# has STRING: stdin holds STRING; reads all of it (grep -q at the end of a pipeline may leave
# the writer a SIGPIPE, which pipefail turns into a failure)
has() { grep -F "$1" >/dev/null; }
# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}

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
    server { listen $PEER:9101; location / { return 200 "A\n"; } }
    server { listen $PEER:9102; location / { return 200 "B\n"; } }
}
NGINX

if ! start_server; then
	hf_not_ok "the xDS server listens on 127.0.0.1:15010 in the namespace"
	cat "$SLOG"
	exit 1
fi
hf_ok "the xDS server listens on 127.0.0.1:15010 in the namespace"

hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "xds = { address = \"127.0.0.1\"; port = 15010;
  cluster = \"istio-ingressgateway.istio-system\";
  metadata = { ISTIO_VERSION = \"1.24.0\"; CLUSTER_ID = \"Kubernetes\"; NAMESPACE = \"istio-system\";
    NAME = \"gw-0\"; INSTANCE_IPS = \"$OUR\"; SERVICE_ACCOUNT = \"istio-ingressgateway\";
    WORKLOAD_NAME = \"istio-ingressgateway\"; MESH_ID = \"cluster.local\"; }; };"
if ! out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1); then
	hf_not_ok "a bootstrap with an xds block is accepted by --check ($out)"
	exit 1
fi
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$LOG" "$PEER/24"; then
	hf_not_ok "hydrofoil with an xds bootstrap reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with an xds bootstrap reports LIVE"
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' > "$HF_TMP/nginx.out" 2>&1 &
HF_PIDS+=($!)
wait_for 5 bash -c "[ -n \"\$(ip netns exec $NS ss -Hltn 'sport = :9102')\" ]" ||
	{ hf_not_ok "nginx listens on $PEER:9101,9102"; exit 1; }

CURL=(curl -s --noproxy '*' --max-time 5)
get() { in_ns "${CURL[@]}" "$@" 2>/dev/null | tr -d '\r'; }
answers() { [ "$(get "$@" "http://$OUR/")" = "$WANT" ]; }

# ---------------------------------------------------------------- node identity, initial sync
node=$(ev request | head -1 | field node)
want_id="router~$OUR~gw-0.istio-system~istio-system.svc.cluster.local"
hf_check "the first request carries node.id $want_id and cluster (got $(cut -c1-160 <<<"$node"))" \
	"$HF_PY" -c 'import json,sys; n=json.loads(sys.argv[1]); sys.exit(not (n["id"]==sys.argv[2] and n["cluster"]=="istio-ingressgateway.istio-system"))' "$node" "$want_id"
hf_check "the node metadata holds NAMESPACE, ISTIO_VERSION, INSTANCE_IPS, MESH_ID and LABELS" \
	"$HF_PY" -c 'import json,sys; m=json.loads(sys.argv[1])["metadata"]["fields"]
ok = all(k in m for k in ("NAMESPACE","ISTIO_VERSION","INSTANCE_IPS","MESH_ID","LABELS","NAME","CLUSTER_ID"))
# (the well-known types decode in camelCase: protobufjs loads them without keepCase)
g = lambda v, k: v.get(k, v.get(k.split("_")[0] + k.split("_")[1].capitalize()))
ok = ok and g(m["NAMESPACE"], "string_value")=="istio-system" and "istio" in g(m["LABELS"], "struct_value")["fields"]
sys.exit(not ok)' "$node"

WANT=A
hf_check "initial sync: GET / through the gateway reaches the EDS endpoint (A)" wait_for 15 answers
WANT=B
hf_check "a header-matched route (x-canary: yes) reaches the STATIC cluster (B)" answers -H 'x-canary: yes'
re_num=$(get "http://$OUR/re/123"); re_abc=$(get "http://$OUR/re/abc")
hf_check "a safe_regex route: /re/123 → B ($re_num), /re/abc falls through to / → A ($re_abc)" \
	bash -c '[ "$1" = B ] && [ "$2" = A ]' _ "$re_num" "$re_abc"
split=$(for _ in $(seq 40); do get "http://$OUR/split"; done | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')
hf_check "weighted_clusters 1:1 over 40 requests reach both A and B ($split)" \
	bash -c '[[ "$1" == *A=* && "$1" == *B=* ]]' _ "$split"
code=$(in_ns "${CURL[@]}" -o "$HF_TMP/hello" -w '%{http_code}' "http://$OUR/hello")
hf_check "a direct_response route answers 203 'hello from xds' (got $code $(cat "$HF_TMP/hello"))" \
	bash -c '[ "$1" = 203 ] && [ "$(cat "$2")" = "hello from xds" ]' _ "$code" "$HF_TMP/hello"
# acked TYPE: the server saw an ACK with the version it last sent of TYPE
acked() {
	local v
	v=$(ev send | grep -F "\"type\":\"$1\"" | tail -1 | field version)
	[ -n "$v" ] && ev ack | grep -F "\"type\":\"$1\"" | has "\"version\":\"$v\""
}
for t in Cluster ClusterLoadAssignment Listener RouteConfiguration; do
	hf_check "the server saw an ACK of $t with the version it sent" wait_for 5 acked "$t"
done
hf_check "no NACK so far" bash -c '! grep -qF "\"event\":\"nack\"" "$1"' _ "$SLOG"
good_rds=$(ev send | grep -F '"type":"RouteConfiguration"' | tail -1 | field version)

# ---------------------------------------------------------------- NACK, the old config serving
routes '{"name": "bad", "match": {"prefix": "/old"}, "route": {"cluster_header": "x-cluster"}},'
nacked() { ev nack | grep -F '"type":"RouteConfiguration"' | has "RouteConfiguration 'http.80'"; }
hf_check "an unsupported route action is NACKed" wait_for 10 nacked
err=$(ev nack | tail -1 | field error)
hf_check "the NACK's error_detail names the resource and the field ($err)" \
	bash -c '[[ "$1" == *"http.80"* && "$1" == *"virtual_hosts[0].routes[0]"* && "$1" == *cluster_header* ]]' _ "$err"
nver=$(ev nack | tail -1 | field version)
hf_check "the NACK carries the version held ($nver, the last good $good_rds)" test "$nver" = "$good_rds"
WANT=A
hf_check "after the NACK the old routes still serve (GET / → A)" answers
hf_check "after the NACK the old routes still serve (/old still reaches web: A)" \
	bash -c '[ "$(ip netns exec "$1" curl -s --max-time 5 "http://$2/old" | tr -d "\r")" = A ]' _ "$NS" "$OUR"
grep -q "NACK RouteConfiguration" "$LOG"
hf_check "hydrofoil logs the NACK" test $? = 0
routes

# ---------------------------------------------------------------- endpoint change
endpoints 9102
WANT=B
hf_check "an endpoint change (EDS) moves traffic to B" wait_for 10 answers
hf_check "… and the route change after the NACK was taken (/old → web, now B)" \
	bash -c '[ "$(ip netns exec "$1" curl -s --max-time 5 "http://$2/old" | tr -d "\r")" = B ]' _ "$NS" "$OUR"

# ---------------------------------------------------------------- tcp_proxy, warming
listeners "$TCP_9000"
tcp_b() { [ "$(get "http://$OUR:9000/")" = B ]; }
hf_check "a tcp_proxy listener added on 9000 carries HTTP to its cluster (B)" wait_for 10 tcp_b
lds_acks=$(ev ack | grep -cF '"type":"Listener"')
listeners "$TCP_9000" "$(http_listener 8080)"
more_acks() { [ "$(ev ack | grep -cF '"type":"Listener"')" -gt "$lds_acks" ]; }
hf_check "a listener on 8080 whose routes (http.8080) do not exist yet is ACKed" wait_for 10 more_acks
warming() { grep -q "warming: waiting for RouteConfiguration 'http.8080'" "$LOG"; }
hf_check "… and warms: hydrofoil waits for RouteConfiguration http.8080" wait_for 5 warming
sleep 0.5
code=$(in_ns curl -s --noproxy '*' --max-time 2 -o /dev/null -w '%{http_code}' "http://$OUR:8080/")
hf_check "while it warms, 8080 is not served (curl: $code) and 80 still is" \
	bash -c '[ "$1" = 000 ] && [ "$(ip netns exec "$2" curl -s --max-time 5 "http://$3/" | tr -d "\r")" = B ]' \
	_ "$code" "$NS" "$OUR"
sed 's/"http\.80"/"http.8080"/' "$XDS/routes.json" > "$XDS/.routes8080.tmp"
mv "$XDS/.routes8080.tmp" "$XDS/routes8080.json"
served_8080() { [ "$(get "http://$OUR:8080/")" = B ]; }
hf_check "once http.8080 arrives the listener on 8080 serves (B)" wait_for 10 served_8080

# ---------------------------------------------------------------- make before break
# The listener on 80 changes to route configuration http.80b, not there yet: the version that
# served keeps serving until http.80b comes (the initial fetch timeout is Envoy's 15 s here).
sed 's/"route_config_name": "http\.80",/"route_config_name": "http.80b",/' "$XDS/listeners.json" \
	> "$XDS/.listeners.tmp"
mv "$XDS/.listeners.tmp" "$XDS/listeners.json"
waiting_80b() { grep -q "waiting for RouteConfiguration 'http.80b' (the previous version serves" "$LOG"; }
hf_check "a listener changed to a route configuration not there yet warms (http.80b)" wait_for 10 waiting_80b
WANT=B
hf_check "… while its previous version keeps serving (GET / → B)" answers
sed -e 's/"http\.80"/"http.80b"/' -e 's/hello from xds/hello from 80b/' "$XDS/routes.json" > "$XDS/.r80b.tmp"
mv "$XDS/.r80b.tmp" "$XDS/routes80b.json"
new_80() { [ "$(get "http://$OUR/hello")" = "hello from 80b" ]; }
hf_check "once http.80b arrives the new version serves (/hello → 'hello from 80b')" wait_for 10 new_80

# ---------------------------------------------------------------- endpoints every 100 ms under load
eds_sent0=$(ev send | grep -cF '"type":"ClusterLoadAssignment"')
in_ns wrk -t1 -c20 -d6s --timeout 5s "http://$OUR/" > "$HF_TMP/wrk.out" 2>&1 &
WRK=$!
sleep 0.5
for i in $(seq 50); do
	endpoints $((9101 + i % 2))
	sleep 0.1
done
wait "$WRK"
endpoints 9102
sleep 1
# each response (by its nonce) answered by an ACK of its version (stale or not: the server
# may have sent a newer one meanwhile)
eds_sends=$(ev send | grep -F '"type":"ClusterLoadAssignment"' | tail -n +$((eds_sent0 + 1)))
n_sent=$(grep -c . <<<"$eds_sends")
n_unacked=0
while read -r nonce v; do
	ev ack | has "\"version\":\"$v\",\"nonce\":\"$nonce\"" || n_unacked=$((n_unacked + 1))
done < <(paste -d' ' <(field nonce <<<"$eds_sends") <(field version <<<"$eds_sends"))
reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$HF_TMP/wrk.out")
non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$HF_TMP/wrk.out")
sock=$(sed -n 's/^ *Socket errors: *//p' "$HF_TMP/wrk.out")
hf_check "50 endpoint changes in 5 s under wrk -c20 -d6s: ${reqs:-no} requests, non-2xx ${non2xx:-0}, socket errors ${sock:-none}" \
	bash -c '[ "${1:-0}" -gt 0 ] && [ -z "$2" ] && [ -z "$3" ]' _ "$reqs" "$non2xx" "$sock"
[ -n "$reqs" ] || sed 's/^/# wrk: /' "$HF_TMP/wrk.out"
# How many of the 50 changes the server pushes depends on how often its file poll ran on a
# machine wrk keeps busy (4 to 6 of them in runs at load 1-2): a few prove the churn, and the
# check is that every one pushed was ACKed.
hf_check "the server pushed $n_sent assignments during the churn (at least 2), each ACKed by its nonce and version ($n_unacked not)" \
	bash -c '[ "$1" -ge 2 ] && [ "$2" = 0 ]' _ "$n_sent" "$n_unacked"

# ---------------------------------------------------------------- server away, restart
kill -KILL "$SPID"
wait "$SPID" 2>/dev/null
closed() { grep -q "stream closed" "$LOG"; }
hf_check "hydrofoil notices the server is gone" wait_for 10 closed
sleep 1
WANT=B
hf_check "with the server away the last configuration keeps serving (B)" answers
endpoints 9101
n_streams=$(ev stream_open | wc -l)
if ! start_server; then
	hf_not_ok "the xDS server restarts"
else
	hf_ok "the xDS server restarts"
fi
reopened() { [ "$(ev stream_open | wc -l)" -gt "$n_streams" ]; }
hf_check "hydrofoil reconnects (backoff with jitter)" wait_for 20 reopened
held=$(ev request | tail -n +1 | grep -F '"type":"Cluster"' | tail -1 | field version)
hf_check "after the reconnect its Cluster request resends the version held ($held)" test -n "$held"
WANT=A
hf_check "resync after the restart: the change made while away is served (A)" wait_for 15 answers

hf_check_stop
hf_done
