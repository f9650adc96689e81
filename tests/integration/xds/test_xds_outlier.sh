#!/usr/bin/env bash
# Outlier detection from xDS: a STATIC cluster "web" of two endpoints (nginx
# "A" answering 200 on 9101, "bad" answering 500 on 9501), ROUND_ROBIN, with
# outlier_detection as istiod writes it (consecutive_5xx 3, base_ejection_time
# 6 s, max_ejection_percent 50, enforcing_success_rate 0) and
# common_lb_config.healthy_panic_threshold 0, served by the test management
# server. 40 requests from one curl: bad answers 3 per worker, then is
# ejected and A answers the rest; /clusters says
# health_flags::/failed_outlier_check; after the ejection time bad is picked
# again. The same cluster with enforcing_success_rate 100 is NACKed by name.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$(dirname "$0")/xds_lib.sh"

W=$(hf_workers)
XDS_NGINX_EXTRA="server { listen $PEER:9501; location / { return 500 \"bad\\n\"; } }"
od_cluster() {
	echo '{"@type": "'$T'/envoy.config.cluster.v3.Cluster", "name": "web", "type": "STATIC",
  "lb_policy": "ROUND_ROBIN", "load_assignment": {"cluster_name": "web", "endpoints": [{"lb_endpoints": [
   {"endpoint": {"address": {"socket_address": {"address": "'$PEER'", "port_value": 9101}}}},
   {"endpoint": {"address": {"socket_address": {"address": "'$PEER'", "port_value": 9501}}}}]}]},
  "common_lb_config": {"healthy_panic_threshold": {}},
  "outlier_detection": {"consecutive_5xx": {"value": 3}, "interval": {"seconds": 1},
   "base_ejection_time": {"seconds": 6}, "max_ejection_percent": {"value": 50},
   "enforcing_success_rate": {"value": '${1:-0}'}}}'
}
clusters "$(od_cluster)" "$(static_cluster web-b 9102)"
routes "$(route_config http.8080)"
listeners "$(http_listener 8080)"
xds_setup xdsod ""

# count_loop N: N requests on one keep-alive connection: "A bad"
count_loop() {
	in_ns "${CURL[@]}" --max-time 20 -o /dev/null -w '%{http_code}\n' "http://$OUR:8080/x?[1-$1]" |
		awk '$1 == 200 { g++ } $1 == 500 { b++ } END { print g + 0, b + 0 }'
}
# probed through web-b (x-canary): web's hosts see only the requests counted below
serves() { [ "$(code -H 'x-canary: yes' "http://$OUR:8080/")" = 200 ]; }
hf_check "the listener, routes and the cluster with outlier_detection are served" wait_for 20 serves
n=$(ev nack | wc -l)
hf_check "… and nothing NACKed ($n)" test "$n" = 0
read -r good bad < <(count_loop 40)
hf_check "40 requests: bad answered 3 per worker ($bad 500s, $W workers), then was ejected; A the rest ($good)" \
	test "$bad" -ge 3 -a "$bad" -le "$((3 * W))" -a "$((good + bad))" = 40
c=$(hf_admin "$NS" /clusters)
hf_check "/clusters: web::$PEER:9501::health_flags::/failed_outlier_check" \
	grep -qF "web::$PEER:9501::health_flags::/failed_outlier_check" <<<"$c"
ej=$(hf_stat "$NS" cluster.web.outlier_detection.ejections_enforced_total)
hf_check "cluster.web.outlier_detection.ejections_enforced_total counts it ($ej)" test "${ej:-0}" -ge 1
sleep 6.5
read -r good bad < <(count_loop 4)
hf_check "after base_ejection_time (6 s) bad is picked again ($bad 500s of 4)" test "$bad" -ge 1

clusters "$(od_cluster 100)" "$(static_cluster web-b 9102)"
nack() { ev nack | grep '"type":"Cluster"' | grep -qF "$1"; }
hf_check "enforcing_success_rate 100 is NACKed naming the field" \
	wait_for 10 nack "outlier_detection.enforcing_success_rate: 100: success-rate ejection is not supported"

hf_check_stop
hf_done
