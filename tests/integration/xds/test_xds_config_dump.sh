#!/usr/bin/env bash
# GET /config_dump and GET /clusters in Envoy's shapes, read with jq and
# Python's json, and strictly against the official Envoy protos as
# envoy.admin.v3.ConfigDump and envoy.admin.v3.Clusters (tests/xds/check_dump.js:
# no field, enum value or Any type the protos lack), for both ways a gateway
# is configured:
#  1. the Istio YAML path (examples/bookinfo as config.istio_dir): the
#     compiled model shows as Envoy resources, dynamic, at the snapshot's
#     version; ?include_eds, ?resource=, ?name_regex=; /clusters text and JSON;
#  2. the xDS path (tests/xds/server.js, state of the world): each resource as
#     the server sent it, with the version of the response that carried it; a
#     listener waiting for its route configuration shows warming_state (a
#     delta server would say at once that it does not exist); the bootstrap
#     shows the ADS server and api_type; /clusters lists the EDS endpoint.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$HF_ROOT/scripts/lib/bookinfo.sh"
source "$(dirname "$0")/xds_lib.sh"

if ! command -v jq >/dev/null; then
	hf_not_ok "jq is installed (scripts/setup.sh installs it)"
	exit 1
fi
adm() { hf_admin "$NS" "$1"; }
# strict WHAT TYPE PATH: GET PATH read against the Envoy protos as TYPE, strictly (check_dump.js)
strict() {
	local out
	out=$(adm "$3" | node "$HF_ROOT/tests/xds/check_dump.js" "$2" 2>&1)
	hf_check "$1 reads as $2 against the Envoy protos, strictly ($(head -3 <<<"$out" | tr '\n' ' '))" \
		test "$out" = ok
}
# jqc DESC FILTER PATH: jq -e FILTER over GET PATH must hold
jqc() { hf_check "$1" bash -c 'ip netns exec "$1" curl -s --max-time 5 "http://127.0.0.1:15000$3" | jq -e "$2" >/dev/null' _ "$NS" "$2" "$3"; }

# ================================================================ 1. Istio YAML
NS=$(hf_ns_new dumpy) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
cp -r "$HF_ROOT/examples/bookinfo" "$HF_TMP/bookinfo"
bk_bootstrap "$HF_TMP/hf-yaml.cfg" "$HF_TMP/bookinfo" "$HF_TMP/access-yaml.log"
if ! hf_up "$NS" "$HF_TMP/hf-yaml.cfg" "$HF_TMP/hf-yaml.log" "$BK_ADDR/24"; then
	hf_not_ok "hydrofoil with examples/bookinfo reports LIVE"
	exit 1
fi
adm /config_dump > "$HF_TMP/yaml.json"
hf_check "YAML path: /config_dump is JSON (python json.load)" \
	"$HF_PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$HF_TMP/yaml.json"
strict "YAML path: /config_dump?include_eds" envoy.admin.v3.ConfigDump '/config_dump?include_eds'
strict "YAML path: /clusters?format=json" envoy.admin.v3.Clusters '/clusters?format=json'
types=$(jq -c '[.configs[]["@type"] | sub(".*\\.v3\\."; "")]' "$HF_TMP/yaml.json")
hf_check "… configs in Envoy's order ($types)" test "$types" = \
	'["BootstrapConfigDump","ClustersConfigDump","ListenersConfigDump","RoutesConfigDump","SecretsConfigDump"]'
ver=$(hf_stat "$NS" control_plane.snapshot_version)
REVIEWS="outbound|9080||reviews.$BK_SUFFIX"
jqc "… dynamic_active_clusters holds $REVIEWS at version_info $ver, with last_updated" \
	'.configs[1].dynamic_active_clusters[] | select(.cluster.name == "'"$REVIEWS"'") |
	 select(.version_info == "'"$ver"'" and (.last_updated | test("^20[0-9-]+T[0-9:.]+Z$")) and
	        .cluster["@type"] == "type.googleapis.com/envoy.config.cluster.v3.Cluster" and
	        .cluster.type == "EDS")' /config_dump
jqc "… a dynamic listener on port 80 whose HCM names an existing dynamic route configuration" \
	'.configs as $c | $c[2].dynamic_listeners[] | .active_state.listener |
	 select(.address.socket_address.port_value == 80) |
	 .filter_chains[0].filters[0].typed_config.rds.route_config_name as $rc |
	 [$c[3].dynamic_route_configs[].route_config.name] | index($rc) != null' /config_dump
jqc "… a route to productpage's cluster, with Envoy's match and action fields" \
	'[.configs[3].dynamic_route_configs[].route_config.virtual_hosts[].routes[] |
	  select((.route.cluster // "") | test("productpage")) | select(.match.prefix or .match.path)] |
	 length > 0' /config_dump
jqc "?include_eds adds an EndpointsConfigDump with $REVIEWS's endpoints on $BK_ADDR" \
	'.configs[] | select(.["@type"] | endswith("EndpointsConfigDump")) | .dynamic_endpoint_configs[] |
	 .endpoint_config | select(.cluster_name == "'"$REVIEWS"'") |
	 .endpoints[].lb_endpoints[].endpoint.address.socket_address.address == "'"$BK_ADDR"'"' \
	'/config_dump?include_eds'
jqc "?resource=dynamic_active_clusters answers those entries alone, typed DynamicCluster" \
	'(.configs | length > 0) and all(.configs[]; .["@type"] ==
	 "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster" and .cluster.name)' \
	'/config_dump?resource=dynamic_active_clusters'
jqc "?name_regex=reviews keeps only resources named like it (clusters kept, listeners gone)" \
	'(.configs[1].dynamic_active_clusters | length > 0 and all(.[]; .cluster.name | test("reviews"))) and
	 (.configs[2].dynamic_listeners | length == 0)' '/config_dump?name_regex=reviews'
code=$(ip netns exec "$NS" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:15000/config_dump?resource=nope")
hf_check "?resource= naming no field answers 404 ($code)" test "$code" = 404
adm /clusters > "$HF_TMP/clusters.txt"
hf_check "/clusters: Envoy's lines for $REVIEWS's hosts (cluster::host:port::health_flags::healthy)" \
	grep -qE "^outbound\|9080\|\|reviews\.[^:]*::$BK_ADDR:[0-9]+::health_flags::healthy$" "$HF_TMP/clusters.txt"
hf_check "/clusters: added_via_api::true for the Istio path's clusters" \
	grep -qF "$REVIEWS::added_via_api::true" "$HF_TMP/clusters.txt"
jqc "/clusters?format=json: cluster_statuses with host_statuses on $BK_ADDR" \
	'.cluster_statuses[] | select(.name == "'"$REVIEWS"'") |
	 .host_statuses[0].address.socket_address.address == "'"$BK_ADDR"'"' '/clusters?format=json'
hf_check_stop
ip netns del "$NS"

# ================================================================ 2. xDS (state of the world)
clusters "$(eds_cluster web)" "$(static_cluster web-b 9102)"
endpoints web 9101
routes "$(route_config http.80)"
listeners "$(http_listener 80)"
xds_setup dumpx 'api_type = "GRPC"; initial_fetch_timeout_ms = 60000;'
WANT=A
answers() { [ "$(get "http://$OUR/")" = "$WANT" ]; }
hf_check "xDS path: initial sync (A)" wait_for 15 answers
adm /config_dump > "$HF_TMP/xds.json"
hf_check "xDS path: /config_dump is JSON (python json.load)" \
	"$HF_PY" -c 'import json,sys; json.load(open(sys.argv[1]))' "$HF_TMP/xds.json"
strict "xDS path: /config_dump?include_eds" envoy.admin.v3.ConfigDump '/config_dump?include_eds'
strict "xDS path: /clusters?format=json" envoy.admin.v3.Clusters '/clusters?format=json'
# sent TYPE NAME: the version of the last response of TYPE carrying NAME
sent() { ev send | grep -F "\"type\":\"$1\"" | jq -r --arg n "$2" 'select(.resources | index($n)) | .version' | tail -1; }
v_web=$(sent Cluster web); v_l=$(sent Listener http_80); v_r=$(sent RouteConfiguration http.80)
jqc "… dynamic_active_clusters: web at the version the server gave it ($v_web)" \
	'.configs[1].dynamic_active_clusters[] | select(.cluster.name == "web") |
	 .version_info == "'"$v_web"'" and .cluster.type == "EDS" and .cluster.connect_timeout == "1s"' /config_dump
jqc "… dynamic_listeners: http_80 active at $v_l, its HCM decoded from the Any (rds http.80)" \
	'.configs[2].dynamic_listeners[] | select(.name == "http_80") | .active_state |
	 .version_info == "'"$v_l"'" and .listener.filter_chains[0].filters[0].typed_config.rds.route_config_name == "http.80"' \
	/config_dump
jqc "… dynamic_route_configs: http.80 at $v_r" \
	'.configs[3].dynamic_route_configs[] | select(.route_config.name == "http.80") | .version_info == "'"$v_r"'"' \
	/config_dump
jqc "… the bootstrap shows the ADS server, api_type GRPC and the node id" \
	'.configs[0].bootstrap | .dynamic_resources.ads_config.api_type == "GRPC" and
	 .dynamic_resources.ads_config.grpc_services[0].google_grpc.target_uri == "127.0.0.1:15010" and
	 (.node.id | startswith("router~198.51.100.2~gw-0"))' /config_dump
jqc "?include_eds: web's ClusterLoadAssignment as sent (198.51.100.1:9101)" \
	'.configs[2].dynamic_endpoint_configs[] | select(.endpoint_config.cluster_name == "web") |
	 .endpoint_config.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value == 9101' \
	'/config_dump?include_eds'
listeners "$(http_listener 80)" "$(http_listener 8080)"
warm() { adm /config_dump | jq -e '.configs[2].dynamic_listeners[] | select(.name == "http_8080") |
	(.warming_state.listener.name == "http_8080") and (.active_state == null)' >/dev/null; }
hf_check "a listener waiting for its route configuration shows warming_state, no active_state" wait_for 10 warm
# a NACK: the refused route configuration's entry carries Envoy's error_state
routes "$(route_config http.80 '{"name": "bad", "match": {"prefix": "/old"}, "route": {"cluster_header": "x-cluster"}},')"
nacked() { ev nack | grep -qF '"type":"RouteConfiguration"'; }
hf_check "an unsupported route action is NACKed" wait_for 10 nacked
v_bad=$(ev send | grep -F '"type":"RouteConfiguration"' | tail -1 | jq -r .version)
jqc "… and /config_dump shows it as http.80's error_state (details, the refused version $v_bad), v$v_r still held" \
	'.configs[3].dynamic_route_configs[] | select(.route_config.name == "http.80") |
	 .version_info == "'"$v_r"'" and (.error_state.details | test("cluster_header")) and
	 .error_state.version_info == "'"$v_bad"'" and (.error_state.last_update_attempt | test("Z$"))' /config_dump
strict "… that dump" envoy.admin.v3.ConfigDump /config_dump
st=$(ip netns exec "$NS" "$HF_ROOT/scripts/foilctl" proxy-status 2>&1)
hf_check "foilctl proxy-status says RDS is STALE and prints the NACK ($(tr '\n' ' ' <<<"$st" | cut -c1-200))" \
	bash -c '[[ "$1" == *STALE* && "$1" == *"NACK RDS"*cluster_header* ]]' _ "$st"
routes "$(route_config http.80)"
acked_again() { ! adm /config_dump | jq -e '[.configs[3].dynamic_route_configs[] | select(.error_state)] | length > 0' >/dev/null; }
hf_check "the fixed route configuration taken, the error_state goes" wait_for 10 acked_again
adm /clusters > "$HF_TMP/clusters.txt"
hf_check "/clusters: web::198.51.100.1:9101::health_flags::healthy" \
	grep -qxF "web::198.51.100.1:9101::health_flags::healthy" "$HF_TMP/clusters.txt"
jqc "/clusters?format=json: web added via the API, web-b's host on 9102" \
	'[.cluster_statuses[] | select(.name == "web" and .added_via_api)] | length == 1' '/clusters?format=json'
hf_check_stop
hf_done
