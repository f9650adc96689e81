# shellcheck shell=bash
# What the xDS tests beside test_xds_sotw.sh share: a private namespace with
# hydrofoil on a net_tap, two nginx servers naming themselves ("A" on 9101,
# "B" on 9102), the management server (tests/xds/server.js) on 127.0.0.1:15010
# in the namespace serving the JSON resources of $XDS, writers for those
# resources, and readers of the server's event log. Source it after netns.sh.

OUR=198.51.100.2
PEER=198.51.100.1
XDS=$HF_TMP/xds
LOG=$HF_TMP/hf.log
SLOG=$HF_TMP/server.log
ALOG=$HF_TMP/access.log
SERVER=$HF_ROOT/tests/xds/server.js
T=type.googleapis.com
CURL=(curl -s --noproxy '*' --max-time 5)
mkdir -p "$XDS"

in_ns() { ip netns exec "$NS" "$@"; }
get() { in_ns "${CURL[@]}" "$@" 2>/dev/null | tr -d '\r'; }
# code URL...: the HTTP status of a GET (000: no answer)
code() { in_ns "${CURL[@]}" -o /dev/null -w '%{http_code}' "$@" 2>/dev/null; }

# put FILE: stdin into $XDS/FILE, renamed into place (the server never reads half a file)
put() { cat > "$XDS/.$1.tmp" && mv "$XDS/.$1.tmp" "$XDS/$1"; }
# endpoints CLUSTER PORT: the ClusterLoadAssignment of CLUSTER → PEER:PORT, in CLUSTER.eds.json
endpoints() {
	put "$1.eds.json" <<JSON
{"resources": [
 {"@type": "$T/envoy.config.endpoint.v3.ClusterLoadAssignment", "cluster_name": "$1",
  "endpoints": [{"locality": {"region": "r1", "zone": "z1"}, "lb_endpoints": [
    {"endpoint": {"address": {"socket_address": {"address": "$PEER", "port_value": $2}}}}]}]}
]}
JSON
}
# eds_cluster NAME: an EDS cluster (JSON)
eds_cluster() {
	echo '{"@type": "'$T'/envoy.config.cluster.v3.Cluster", "name": "'$1'", "type": "EDS",
  "eds_cluster_config": {"eds_config": {"ads": {}, "resource_api_version": "V3"}},
  "connect_timeout": {"seconds": 1}, "lb_policy": "ROUND_ROBIN"}'
}
# static_cluster NAME PORT: a STATIC cluster → PEER:PORT (JSON)
static_cluster() {
	echo '{"@type": "'$T'/envoy.config.cluster.v3.Cluster", "name": "'$1'", "type": "STATIC",
  "lb_policy": "RANDOM", "load_assignment": {"cluster_name": "'$1'", "endpoints": [{"lb_endpoints": [
   {"endpoint": {"address": {"socket_address": {"address": "'$PEER'", "port_value": '$2'}}}}]}]}}'
}
# clusters JSON...: clusters.json holding the clusters given
clusters() {
	local IFS=,
	echo "{\"resources\": [$*]}" | put clusters.json
}
# route_config NAME [EXTRA_ROUTE]: a RouteConfiguration: EXTRA_ROUTE first, "x-canary: yes" →
# web-b, everything else → web (JSON)
route_config() {
	cat <<JSON
 {"@type": "$T/envoy.config.route.v3.RouteConfiguration", "name": "$1",
  "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [
   ${2:-}
   {"name": "canary", "match": {"prefix": "/", "headers": [{"name": "x-canary",
     "string_match": {"exact": "yes"}}]}, "route": {"cluster": "web-b"}},
   {"name": "default", "match": {"prefix": "/"}, "route": {"cluster": "web"}}]}]}
JSON
}
# routes JSON...: routes.json holding the route configurations given
routes() {
	local IFS=,
	echo "{\"resources\": [$*]}" | put routes.json
}
# http_listener PORT [RDS_NAME [FILTERS [CHAIN_FIELDS [NAME]]]]: an HTTP listener NAME (default
# http_PORT) whose routes come by RDS as RDS_NAME (default http.PORT), FILTERS (HttpFilter JSON
# objects, each followed by a comma) before the router; CHAIN_FIELDS ("key": value, ...,) open
# its filter chain (JSON)
http_listener() {
	cat <<JSON
 {"@type": "$T/envoy.config.listener.v3.Listener", "name": "${5:-http_$1}",
  "address": {"socket_address": {"address": "0.0.0.0", "port_value": $1}},
  "filter_chains": [{${4:-} "filters": [{"name": "envoy.filters.network.http_connection_manager",
   "typed_config": {"@type": "$T/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    "stat_prefix": "http_$1",
    "rds": {"route_config_name": "${2:-http.$1}", "config_source": {"ads": {}, "resource_api_version": "V3"}},
    "http_filters": [${3:-}{"name": "envoy.filters.http.router",
     "typed_config": {"@type": "$T/envoy.extensions.filters.http.router.v3.Router"}}]}}]}]}
JSON
}
# tcp_listener PORT CLUSTER: a tcp_proxy listener (JSON)
tcp_listener() {
	echo '{"@type": "'$T'/envoy.config.listener.v3.Listener", "name": "tcp_'$1'",
  "address": {"socket_address": {"address": "0.0.0.0", "port_value": '$1'}},
  "filter_chains": [{"filters": [{"name": "envoy.filters.network.tcp_proxy",
   "typed_config": {"@type": "'$T'/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
    "stat_prefix": "tcp_'$1'", "cluster": "'$2'"}}]}]}'
}
# listeners JSON...: listeners.json holding the listeners given
listeners() {
	local IFS=,
	echo "{\"resources\": [$*]}" | put listeners.json
}

start_server() {
	ip netns exec "$NS" node "$SERVER" --dir "$XDS" --port 15010 "${XDS_SERVER_ARGS[@]}" >> "$SLOG" 2>&1 &
	SPID=$!
	HF_PIDS+=("$SPID")
	for _ in $(seq 100); do
		[ -n "$(in_ns ss -Hltn 'sport = :15010')" ] && return 0
		sleep 0.1
	done
	return 1
}
# ev EVENT: the server's log lines of EVENT, one JSON object per line
ev() { grep -F "\"event\":\"$1\"" "$SLOG" 2>/dev/null; }
# field NAME: that field of each JSON line on stdin (objects and lists as JSON)
field() { "$HF_PY" -c 'import json,sys
for l in sys.stdin:
    l=l.strip()
    if l:
        v=json.loads(l).get(sys.argv[1])
        print(json.dumps(v, sort_keys=True) if isinstance(v,(dict,list)) else v)' "$1"; }
# has STRING: stdin holds STRING (reads all of it: no SIGPIPE for the writer)
has() { grep -F "$1" >/dev/null; }
# wait_for SECONDS COMMAND...: polls COMMAND every 0.1 s until it succeeds
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 0.1; done
	return 1
}

# xds_setup TAG XDS_OPTIONS: the namespace, the server, hydrofoil with an xds block adding
# XDS_OPTIONS (e.g. api_type) and an access log, nginx. Exits on failure. Set before it:
# XDS_SERVER_ARGS (more server.js arguments), XDS_EXTRA_CFG (more bootstrap, e.g. an identity
# block), XDS_NGINX_EXTRA (more nginx server blocks).
XDS_SERVER_ARGS=()
xds_setup() {
	if [ ! -d "$HF_ROOT/tests/xds/node_modules/@grpc/grpc-js" ] || ! command -v node >/dev/null; then
		hf_not_ok "tests/xds/node_modules is installed (scripts/setup.sh runs npm ci)"
		exit 1
	fi
	NS=$(hf_ns_new "$1") || { hf_not_ok "create namespace"; exit 1; }
	HF_NAMESPACES+=("$NS")
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
    ${XDS_NGINX_EXTRA:-}
}
NGINX
	if ! start_server; then
		hf_not_ok "the xDS server listens on 127.0.0.1:15010 in the namespace"
		cat "$SLOG"
		exit 1
	fi
	hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "access_log = \"$ALOG\";
xds = { address = \"127.0.0.1\"; port = 15010; $2
  metadata = { NAMESPACE = \"istio-system\"; NAME = \"gw-0\"; INSTANCE_IPS = \"$OUR\"; }; };
${XDS_EXTRA_CFG:-}"
	if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$LOG" "$PEER/24"; then
		hf_not_ok "hydrofoil with an xds bootstrap ($2) reports LIVE"
		exit 1
	fi
	ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
		-g 'daemon off;' > "$HF_TMP/nginx.out" 2>&1 &
	HF_PIDS+=($!)
	wait_for 5 bash -c "[ -n \"\$(ip netns exec $NS ss -Hltn 'sport = :9102')\" ]" ||
		{ hf_not_ok "nginx listens on $PEER:9101,9102"; exit 1; }
}
