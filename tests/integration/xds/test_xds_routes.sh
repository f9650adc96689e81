#!/usr/bin/env bash
# What an xDS RouteConfiguration can say beyond cluster routing, as Istio writes
# it for a VirtualService, served by the management server (state of the world)
# to hydrofoil, whose HTTP filter chain lists envoy.filters.http.fault,
# envoy.filters.http.cors and the router. Upstreams: nginx "A" (9101), "B"
# (9102), and bookinfo's echo servers (scripts/lib/bookinfo.sh: productpage
# 9080 echoes the request head it received; reviews v1 on 9081 logs what it
# gets, as a mirror target).
#
# Checks, each against what a client or an upstream sees: redirects (host,
# path with the query kept, 302; https with a port, 301); request and response
# header operations at the route, virtual host, route configuration and weighted
# cluster levels, in Envoy's order (an outer level's overwrite wins), removals
# included; regex_rewrite with a capture group; a mirror (the mirror server logs
# the request, http.upstream_rq_mirrored counts it); fault abort (418, counted)
# and delay (counted) from typed_per_filter_config; CORS from the virtual host,
# replaced by a route's own policy; StringMatcher suffix and contains (with a
# regex metacharacter in it). Refused with a NACK naming the field, the old
# routes still serving: a header value with a command operator, an append_action
# Hydrofoil lacks, a gRPC abort, a per-route configuration of an unknown filter
# (the same wrapped in an optional FilterConfig is taken), a listener with an
# unknown HTTP filter that is not optional.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$(dirname "$0")/../../../scripts/lib/bookinfo.sh"
source "$(dirname "$0")/xds_lib.sh"

FAULT=$T/envoy.extensions.filters.http.fault.v3.HTTPFault
CORSP=$T/envoy.extensions.filters.http.cors.v3.CorsPolicy
# FILTERS: the fault and CORS filters an HttpConnectionManager lists before the router
FILTERS='{"name": "envoy.filters.http.fault", "typed_config": {"@type": "'$FAULT'"}},
     {"name": "envoy.filters.http.cors", "typed_config": {"@type": "'$T'/envoy.extensions.filters.http.cors.v3.Cors"}},'
hv() { echo "{\"header\": {\"key\": \"$1\", \"value\": \"$2\"}, \"append_action\": \"${3:-OVERWRITE_IF_EXISTS_OR_ADD}\"}"; }
# the_routes [EXTRA_ROUTE]: the route configuration http.80, EXTRA_ROUTE first
the_routes() {
	routes "$(cat <<JSON
 {"@type": "$T/envoy.config.route.v3.RouteConfiguration", "name": "http.80",
  "request_headers_to_add": [$(hv x-rc-rq rc), $(hv x-both rc)],
  "response_headers_to_add": [$(hv x-rc-rs rc)],
  "virtual_hosts": [{"name": "all", "domains": ["*"],
   "request_headers_to_add": [$(hv x-vh vh APPEND_IF_EXISTS_OR_ADD)],
   "response_headers_to_remove": ["x-echo-internal"],
   "typed_per_filter_config": {"envoy.filters.http.cors": {"@type": "$CORSP",
     "allow_origin_string_match": [{"exact": "https://a.example"}],
     "allow_methods": "GET,POST", "allow_headers": "x-token", "max_age": "600"}},
   "routes": [
   ${1:-}
   {"name": "moved", "match": {"prefix": "/moved"},
    "redirect": {"host_redirect": "example.org", "path_redirect": "/new", "response_code": "FOUND"}},
   {"name": "secure", "match": {"prefix": "/secure"},
    "redirect": {"https_redirect": true, "port_redirect": 8443}},
   {"name": "echo", "match": {"prefix": "/echo"}, "route": {"cluster": "echo"},
    "request_headers_to_add": [$(hv x-route r), $(hv x-both route)],
    "request_headers_to_remove": ["x-secret"],
    "response_headers_to_add": [$(hv x-route-rs yes)],
    "typed_per_filter_config": {"envoy.filters.http.cors": {"@type": "$CORSP",
     "allow_origin_string_match": [{"prefix": "https://b."}], "allow_methods": "PUT"}}},
   {"name": "rw", "match": {"safe_regex": {"regex": "/rewrite/.*"}},
    "route": {"cluster": "echo", "regex_rewrite": {"pattern": {"regex": "^/rewrite/(.*)$"},
     "substitution": "/echoed/\\\\1"}}},
   {"name": "wc", "match": {"prefix": "/wc"}, "route": {"weighted_clusters": {"clusters": [
     {"name": "echo", "weight": {"value": 1}, "request_headers_to_add": [$(hv x-wc one)]}]}}},
   {"name": "abort", "match": {"prefix": "/abort"}, "route": {"cluster": "web"},
    "typed_per_filter_config": {"envoy.filters.http.fault": {"@type": "$FAULT",
     "abort": {"http_status": 418, "percentage": {"numerator": 100, "denominator": "HUNDRED"}}}}},
   {"name": "delay", "match": {"prefix": "/delay"}, "route": {"cluster": "web"},
    "typed_per_filter_config": {"envoy.filters.http.fault": {"@type": "$FAULT",
     "delay": {"fixed_delay": {"nanos": 200000000},
      "percentage": {"numerator": 1000000, "denominator": "MILLION"}}}}},
   {"name": "mirror", "match": {"prefix": "/mirror"}, "route": {"cluster": "web",
    "request_mirror_policies": [{"cluster": "mirror",
     "runtime_fraction": {"default_value": {"numerator": 100}}}]}},
   {"name": "png", "match": {"prefix": "/", "headers": [{"name": "x-file",
     "string_match": {"suffix": ".png"}}]}, "route": {"cluster": "web-b"}},
   {"name": "bots", "match": {"prefix": "/", "headers": [{"name": "user-agent",
     "string_match": {"contains": "bot(", "ignore_case": true}}]},
    "direct_response": {"status": 403, "body": {"inline_string": "no bots"}}},
   {"name": "default", "match": {"prefix": "/"}, "route": {"cluster": "web"}}]}]}
JSON
)"
}
static_to() { static_cluster "$1" "$2"; }
clusters "$(eds_cluster web)" "$(static_cluster web-b 9102)" "$(static_to echo 9080)" \
	"$(static_to mirror 9081)"
endpoints web 9101
the_routes
listeners "$(http_listener 80 http.80 "$FILTERS")"
xds_setup xdsr ''
BK=$HF_TMP/bk
bk_nginx_start "$NS" "$BK" || { hf_not_ok "bookinfo's echo servers start"; exit 1; }

answers() { [ "$(get "http://$OUR/")" = A ]; }
hf_check "initial sync: GET / reaches web (A)" wait_for 20 answers
hf_check "no NACK: fault, cors and router filters and every route taken" \
	bash -c '! grep -qF "\"event\":\"nack\"" "$1"' _ "$SLOG"

# head URL ARGS...: the response head (lower-case names)
head_of() { in_ns "${CURL[@]}" -o /dev/null -D - "$@" 2>/dev/null | tr -d '\r' | tr 'A-Z' 'a-z'; }
h=$(head_of "http://$OUR/moved/x?q=1")
hf_check "redirect: host and path, the query kept, 302 (FOUND)" \
	bash -c 'grep -q "^http/1.1 302" <<<"$1" && grep -qx "location: http://example.org/new?q=1" <<<"$1"' _ "$h"
h=$(head_of "http://$OUR/secure")
hf_check "redirect: https_redirect with port_redirect, 301" \
	bash -c 'grep -q "^http/1.1 301" <<<"$1" && grep -qx "location: https://'"$OUR"':8443/secure" <<<"$1"' _ "$h"

body=$(get -H 'x-secret: s' -H 'x-vh: client' "http://$OUR/echo/1")
hf_check "route request headers: x-route set, x-secret removed" \
	bash -c 'grep -qi "^x-route: r$" <<<"$1" && ! grep -qi "^x-secret:" <<<"$1"' _ "$body"
hf_check "virtual host request header appended to the client's (x-vh: client, vh)" \
	bash -c 'grep -qi "^x-vh: client" <<<"$1" && grep -qi "^x-vh: .*vh$\|^x-vh: vh$" <<<"$1"' _ "$body"
hf_check "route configuration request header added (x-rc-rq: rc)" grep -qi '^x-rc-rq: rc$' <<<"$body"
both=$(grep -i "^x-both:" <<<"$body" | paste -sd, -)
hf_check "outer level's overwrite wins: x-both is the route configuration's (rc), once ($both)" \
	bash -c '[ "$(grep -ci "^x-both:" <<<"$1")" = 1 ] && grep -qi "^x-both: rc$" <<<"$1"' _ "$body"
h=$(head_of "http://$OUR/echo/1")
hf_check "response headers: the route's (x-route-rs) and the route configuration's (x-rc-rs)" \
	bash -c 'grep -qx "x-route-rs: yes" <<<"$1" && grep -qx "x-rc-rs: rc" <<<"$1"' _ "$h"
body=$(get "http://$OUR/wc")
hf_check "weighted cluster request header (x-wc: one)" grep -qi '^x-wc: one$' <<<"$body"
line1=$(head -1 <<<"$(get "http://$OUR/rewrite/abc?z=9")")
hf_check "regex_rewrite with a capture group: the upstream got /echoed/abc?z=9 ($line1)" \
	grep -q " GET /echoed/abc?z=9$" <<<"$line1"

c=$(code "http://$OUR/abort")
hf_check "fault abort from typed_per_filter_config: 418 ($c), counted" \
	bash -c '[ "$1" = 418 ] && [ "${2:-0}" -ge 1 ]' _ "$c" "$(hf_stat "$NS" http.fault.aborts_injected)"
c=$(code "http://$OUR/delay")
hf_check "fault delay: answered 200 ($c) after the delay, counted" \
	bash -c '[ "$1" = 200 ] && [ "${2:-0}" -ge 1 ]' _ "$c" "$(hf_stat "$NS" http.fault.delays_injected)"
m0=$(grep -c "/mirror/7" "$(bk_log "$BK" reviews v1)" 2>/dev/null)
c=$(get "http://$OUR/mirror/7")
mirrored() { [ "$(grep -c "/mirror/7" "$(bk_log "$BK" reviews v1)" 2>/dev/null)" -gt "${m0:-0}" ]; }
hf_check "mirror: the client got A ($c)" test "$c" = A
hf_check "… and the mirror cluster's server logged the request" wait_for 5 mirrored
hf_check "… counted as http.upstream_rq_mirrored" test "$(hf_stat "$NS" http.upstream_rq_mirrored)" -ge 1

pre() { head_of -X OPTIONS -H "origin: $1" -H 'access-control-request-method: GET' "http://$OUR$2"; }
h=$(pre https://a.example /x)
hf_check "CORS from the virtual host: a preflight from https://a.example is allowed (max-age 600)" \
	bash -c 'grep -qx "access-control-allow-origin: https://a.example" <<<"$1" &&
		grep -qx "access-control-max-age: 600" <<<"$1"' _ "$h"
h=$(pre https://evil.example /x)
hf_check "… one from https://evil.example is not" bash -c '! grep -q "^access-control-allow-origin" <<<"$1"' _ "$h"
h=$(pre https://a.example /echo)
h2=$(pre https://b.example /echo)
hf_check "a route's own CORS policy replaces the virtual host's (a.example refused, b.example allowed)" \
	bash -c '! grep -q "^access-control-allow-origin" <<<"$1" &&
		grep -qx "access-control-allow-origin: https://b.example" <<<"$2"' _ "$h" "$h2"

hf_check "StringMatcher suffix: x-file: a.png → web-b (B)" test "$(get -H 'x-file: a.png' "http://$OUR/")" = B
hf_check "… x-file: a.pngx does not match (A)" test "$(get -H 'x-file: a.pngx' "http://$OUR/")" = A
c=$(code -A 'MyBOT(1.0)' "http://$OUR/")
hf_check "StringMatcher contains 'bot(' ignoring case: direct response 403 ($c)" test "$c" = 403
hf_check "… a user agent 'bot1' does not match ('(' is literal)" test "$(get -A bot1 "http://$OUR/")" = A

# ---------------------------------------------------------------- refused, the old routes serving
nacks() { ev nack | wc -l; }
# refused DESCRIPTION TYPE EXPECTED_ERROR: waits for one more NACK of TYPE whose error holds it
refused() {
	local n0=$1 type=$2 want=$3 got
	for _ in $(seq 100); do
		got=$(ev nack | tail -n +"$((n0 + 1))" | grep -F "\"type\":\"$type\"" | tail -1 | field error)
		[ -n "$got" ] && break
		sleep 0.1
	done
	echo "$got"
	grep -qF -- "$want" <<<"$got"
}
n=$(nacks)
the_routes "{\"name\": \"op\", \"match\": {\"prefix\": \"/op\"}, \"route\": {\"cluster\": \"web\"},
  \"request_headers_to_add\": [$(hv x-ip %DOWNSTREAM_REMOTE_ADDRESS%)]},"
err=$(refused "$n" RouteConfiguration "request_headers_to_add[0].header: '%DOWNSTREAM_REMOTE_ADDRESS%': command operators")
hf_check "a header value with a command operator is NACKed naming the field ($err)" test $? = 0
hf_check "… and the old routes still serve (/op → A, no x-ip)" test "$(get "http://$OUR/op")" = A
n=$(nacks)
the_routes "{\"name\": \"op\", \"match\": {\"prefix\": \"/op\"}, \"route\": {\"cluster\": \"web\"},
  \"request_headers_to_add\": [$(hv x-a 1 ADD_IF_ABSENT)]},"
err=$(refused "$n" RouteConfiguration "append_action 1 is not supported")
hf_check "append_action ADD_IF_ABSENT is NACKed ($err)" test $? = 0
n=$(nacks)
the_routes "{\"name\": \"g\", \"match\": {\"prefix\": \"/g\"}, \"route\": {\"cluster\": \"web\"},
  \"typed_per_filter_config\": {\"envoy.filters.http.fault\": {\"@type\": \"$FAULT\", \"abort\": {\"grpc_status\": 14}}}},"
err=$(refused "$n" RouteConfiguration "routes[0].typed_per_filter_config['envoy.filters.http.fault'].typed_config.abort: field 'grpc_status' is not supported")
hf_check "a gRPC abort is NACKed naming the field ($err)" test $? = 0
n=$(nacks)
the_routes "{\"name\": \"l\", \"match\": {\"prefix\": \"/l\"}, \"route\": {\"cluster\": \"web\"},
  \"typed_per_filter_config\": {\"envoy.filters.http.lua\": {\"@type\": \"$T/envoy.config.route.v3.FilterConfig\", \"is_optional\": false,
   \"config\": {\"@type\": \"$FAULT\"}}}},"
err=$(refused "$n" RouteConfiguration "per-route configuration of HTTP filter 'envoy.filters.http.lua' is not supported")
hf_check "per-route configuration of an unknown filter is NACKed ($err)" test $? = 0
the_routes "{\"name\": \"l\", \"match\": {\"prefix\": \"/l\"}, \"direct_response\": {\"status\": 200, \"body\": {\"inline_string\": \"lua skipped\"}},
  \"typed_per_filter_config\": {\"envoy.filters.http.lua\": {\"@type\": \"$T/envoy.config.route.v3.FilterConfig\", \"is_optional\": true,
   \"config\": {\"@type\": \"$FAULT\"}}}},"
skipped() { [ "$(get "http://$OUR/l")" = "lua skipped" ]; }
hf_check "… wrapped in an optional FilterConfig it is skipped and the route served" wait_for 10 skipped
n=$(nacks)
listeners "$(http_listener 80 http.80 '{"name": "envoy.filters.http.lua", "typed_config": {"@type": "'"$FAULT"'"}},'"$FILTERS")"
err=$(refused "$n" Listener "HTTP filter 'envoy.filters.http.lua' is not supported (mark it is_optional")
hf_check "a listener with an unknown HTTP filter, not optional, is NACKed ($err)" test $? = 0
hf_check "… and the listener still serves (GET / → A)" answers

hf_check_stop
hf_done
