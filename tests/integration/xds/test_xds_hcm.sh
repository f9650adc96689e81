#!/usr/bin/env bash
# istiod's HttpConnectionManager for a gateway listener (tests/integration/xds/istiod/
# listener_hcm.json: tracing without a provider, the file access log to /dev/stdout,
# use_remote_address, request ids by the UUID extension, websocket upgrades, XFCC
# SANITIZE_SET, path normalization with merge_slashes, idle and stream idle timeouts,
# xff_num_trusted_hops) served by the test management server.
#
# Checks: the listener is ACKed and serves (GET / reaches the upstream, which sees
# x-forwarded-for with the client appended and a generated x-request-id); a WebSocket
# upgrade through it gets the upstream's 101; the same HCM with use_remote_address false or
# headers_with_underscores_action REJECT_REQUEST is NACKed naming the field while the last
# good listener serves on.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$(dirname "$0")/xds_lib.sh"

FIX=$HF_ROOT/tests/integration/xds/istiod
# 9103 answers the request as the upstream saw it; a WebSocket handshake gets its 101
XDS_NGINX_EXTRA="server { listen $PEER:9103;
      location /ws { if (\$http_upgrade != websocket) { return 400; }
        add_header upgrade websocket; add_header connection upgrade; return 101; }
      location / { return 200 \"\$request_uri xff=\$http_x_forwarded_for rid=\$http_x_request_id\\n\"; } }"
endpoints web 9103
clusters "$(eds_cluster web)" "$(static_cluster web-b 9102)"
routes "$(route_config http.8080)"
put listeners.json < "$FIX/listener_hcm.json"
# What istiod's HCM asks (normalize_path with merge_slashes, one trusted hop) is what this
# node applies to every listener, as an operator aligns it with meshConfig; another value is
# NACKed (test_xds_hcm.c, test_hcm_node).
XDS_EXTRA_CFG='http = { path_normalization = "MERGE_SLASHES"; xff_num_trusted_hops = 1; };'
xds_setup xdshcm "idle_timeout_ms = 3600000;"

seen() { get "http://$OUR:8080/hello?q=1"; }
ok8080() { seen | grep -q "^/hello?q=1 "; }
hf_check "istiod's whole HCM: GET :8080/hello reaches the upstream" wait_for 20 ok8080
hf_check "… the Listener is ACKed" bash -c 'grep -q "\"type\":\"Listener\"" <<<"$1"' _ "$(ev ack)"
n=$(ev nack | wc -l)
hf_check "… and nothing NACKed ($n)" test "$n" = 0
r=$(seen)
hf_check "… the upstream sees the client in x-forwarded-for (use_remote_address) ('$r')" \
	grep -q " xff=$PEER " <<<"$r"
hf_check "… and a generated x-request-id (generate_request_id, the UUID extension) ('$r')" \
	grep -Eq " rid=[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$" <<<"$r"
c=$(code -H 'connection: upgrade' -H 'upgrade: websocket' -H 'sec-websocket-version: 13' \
	-H 'sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==' "http://$OUR:8080/ws")
hf_check "… a WebSocket upgrade (upgrade_configs websocket) gets the upstream's 101 ($c)" test "$c" = 101

# refused settings: NACKed by field, the listener taken before serves on
refuse() {
	"$HF_PY" -c 'import json,sys
d = json.load(sys.stdin)
h = d["resources"][0]["filter_chains"][0]["filters"][0]["typed_config"]
exec(sys.argv[1])
print(json.dumps(d))' "$1" < "$FIX/listener_hcm.json" | put listeners.json
}
nack() { ev nack | grep '"type":"Listener"' | grep -qF "$1"; }
refuse 'h["use_remote_address"] = {"value": False}'
hf_check "use_remote_address false is NACKed naming the field" \
	wait_for 10 nack "typed_config: use_remote_address: false is not supported"
hf_check "… the last good listener serves on" ok8080
refuse 'h["common_http_protocol_options"]["headers_with_underscores_action"] = "REJECT_REQUEST"'
hf_check "headers_with_underscores_action REJECT_REQUEST is NACKed naming the field" \
	wait_for 10 nack "common_http_protocol_options: headers_with_underscores_action: only ALLOW"
hf_check "… the last good listener serves on" ok8080

hf_check_stop
hf_done
