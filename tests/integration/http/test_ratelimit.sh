#!/usr/bin/env bash
# Local rate limits end to end, with 1 and then 2 workers: hydrofoil over net_tap
# in a private namespace in front of nginx, curl as the client.
#
# Bootstrap (local_ratelimits) on a static listener: a route's bucket and a
# virtual host's bucket (shared by its routes), other routes untouched.
# EnvoyFilter (config.istio_dir) on a Gateway port, in the shape of Istio's
# rate-limit task: the filter-wide bucket of the listener and a route's own,
# then a hot reload that changes the listener's limit (its bucket starts full)
# and keeps the route's (its bucket stays empty).
#
# Buckets are per worker with an even share of the tokens (ratelimit.h), and a
# keep-alive connection stays on one worker, so a burst on one connection gets
# exactly max_tokens / workers answers 200, then 429s. Bursts over many
# connections are checked against the counters (every request counted once,
# 200s at most max_tokens). Every bucket here fills once an hour: no count
# depends on timing.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

OUR=198.51.100.2
PEER=198.51.100.1
WEB_PORT=8080
HOUR=3600000

NS=$(hf_ns_new rl) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
in_ns() { ip netns exec "$NS" "$@"; }
st() { hf_stat "$NS" "$1"; }
CURL=(curl -s --noproxy '*' --max-time 10)

# ---------------------------------------------------------------- nginx: 200 "ok" for every path
mkdir -p "$HF_TMP/nginx"
cat > "$HF_TMP/nginx.conf" <<EOF
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $HF_TMP/nginx/body;
    proxy_temp_path $HF_TMP/nginx/proxy;
    fastcgi_temp_path $HF_TMP/nginx/fastcgi;
    uwsgi_temp_path $HF_TMP/nginx/uwsgi;
    scgi_temp_path $HF_TMP/nginx/scgi;
    keepalive_requests 1000000;
    server { listen $WEB_PORT; location / { return 200 "ok\n"; } }
}
EOF

# ---------------------------------------------------------------- the Istio directory
ISTIO=$HF_TMP/istio
mkdir -p "$ISTIO"
cat > "$ISTIO/web.yaml" <<EOF
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 8000, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: web}
spec:
  hosts: [web]
  ports: [{number: $WEB_PORT, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: [{address: $PEER}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web}
spec:
  hosts: ["*"]
  gateways: [istio-system/gw]
  http:
  - name: api
    match: [{uri: {prefix: /api}}]
    route: [{destination: {host: web}}]
  - name: rest
    route: [{destination: {host: web}}]
EOF
# envoyfilter LISTENER_TOKENS ROUTE_TOKENS: Istio's task, for the gateway (both of its forms)
envoyfilter() {
	cat > "$ISTIO/.ef.tmp" <<EOF
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: filter-local-ratelimit-gw, namespace: istio-system}
spec:
  workloadSelector:
    labels: {istio: ingressgateway}
  configPatches:
    - applyTo: HTTP_FILTER
      match:
        context: GATEWAY
        listener:
          portNumber: 8000
          filterChain:
            filter:
              name: "envoy.filters.network.http_connection_manager"
      patch:
        operation: INSERT_BEFORE
        value:
          name: envoy.filters.http.local_ratelimit
          typed_config:
            "@type": type.googleapis.com/udpa.type.v1.TypedStruct
            type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
            value:
              stat_prefix: gw_listener
              token_bucket:
                max_tokens: $1
                tokens_per_fill: $1
                fill_interval: 3600s
              filter_enabled:
                runtime_key: local_rate_limit_enabled
                default_value: {numerator: 100, denominator: HUNDRED}
              filter_enforced:
                runtime_key: local_rate_limit_enforced
                default_value: {numerator: 100, denominator: HUNDRED}
              response_headers_to_add:
                - append: false
                  header: {key: x-local-rate-limit, value: 'true'}
    - applyTo: HTTP_ROUTE
      match:
        context: GATEWAY
        routeConfiguration:
          vhost:
            name: "*:8000"
            route: {name: api, action: ANY}
      patch:
        operation: MERGE
        value:
          typed_per_filter_config:
            envoy.filters.http.local_ratelimit:
              "@type": type.googleapis.com/udpa.type.v1.TypedStruct
              type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
              value:
                stat_prefix: gw_api
                token_bucket: {max_tokens: $2, tokens_per_fill: $2, fill_interval: 3600s}
                filter_enabled: {default_value: {numerator: 100, denominator: HUNDRED}}
                filter_enforced: {default_value: {numerator: 100, denominator: HUNDRED}}
EOF
	mv "$ISTIO/.ef.tmp" "$ISTIO/ratelimit.yaml"
}

# ---------------------------------------------------------------- helpers
# codes URL N [HEADS]: N requests on one keep-alive connection (curl reuses it), response heads
# saved in HEADS, bodies in $HF_TMP/bodies (each followed by a line "@@CODE"); prints
# "OK LIMITED OTHER"
codes() {
	local urls=() i
	for i in $(seq "$2"); do urls+=("$1"); done
	in_ns "${CURL[@]}" -D "${3:-/dev/null}" -w '\n@@%{http_code}\n' "${urls[@]}" > "$HF_TMP/bodies"
	awk '/^@@/ { c = substr($1, 3); if (c == 200) o++; else if (c == 429) l++; else x++ }
	     END { print o + 0, l + 0, x + 0 }' "$HF_TMP/bodies"
}
# head_n HEADS K: the K-th response head (1-based; 0: the last) of a file curl -D wrote
head_n() {
	tr -d '\r' < "$1" | awk -v k="$2" '/^HTTP\// { n++ } { h[n] = h[n] $0 "\n" } END { i = (k > 0) ? k : n; printf "%s", h[i] }'
}
# field NAME: the value of field NAME in the head on stdin
field() { awk -v n="$(tr 'A-Z' 'a-z' <<<"$1"):" 'tolower($1) == n { print $2; exit }'; }
status_of() { head -1 | cut -d' ' -f2; }
# drain URL TOTAL SEEN: requests on new connections (over every worker, as RSS spreads them)
# until TOTAL 200s were seen in all (SEEN already), at most 200 connections; prints
# "OK_TOTAL CONNECTIONS": the 200s granted in all, and the connections it took
drain() {
	local ok=$3 n=0 c
	while [ "$ok" -lt "$2" ] && [ "$n" -lt 200 ]; do
		c=$(in_ns "${CURL[@]}" -o /dev/null -w '%{http_code}' "$1")
		n=$((n + 1))
		[ "$c" = 200 ] && ok=$((ok + 1))
	done
	# and a few more, which must all be refused
	for _ in 1 2 3 4 5 6; do
		c=$(in_ns "${CURL[@]}" -o /dev/null -w '%{http_code}' "$1")
		n=$((n + 1))
		[ "$c" = 200 ] && ok=$((ok + 1))
	done
	echo "$ok $n"
}
# wait_version V: waits up to 10 s for control_plane.snapshot_version to reach V; prints it.
wait_version() {
	local v i
	for i in $(seq 200); do
		v=$(st control_plane.snapshot_version)
		[ "${v:-0}" -ge "$1" ] && break
		sleep 0.05
	done
	echo "${v:-0}"
}

# Not through in_ns: a shell function in the background is a subshell, whose PID the cleanup
# would end while nginx, its child, stays.
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' >/dev/null 2>&1 &
HF_PIDS+=($!)

phase() {
	local W=$1 ALOG=$HF_TMP/access-$1.log r ok lim other v0 share
	export HF_WORKERS=$W
	echo "# ---- $W worker(s)"
	envoyfilter 8 4
	hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "
access_log = \"$ALOG\";
config: { istio_dir = \"$ISTIO\"; };
static_resources: {
  listeners = (
    { name = \"static\"; port = 80; filter = \"http\";
      route_config = { virtual_hosts = (
        { name = \"other\"; domains = [ \"other.test\" ];
          routes = ( { name = \"a\"; match = { prefix = \"/a\"; }; route = { cluster = \"web\"; }; },
                     { name = \"b\"; match = { prefix = \"/\"; }; route = { cluster = \"web\"; }; } ); },
        { name = \"all\"; domains = [ \"*\" ];
          routes = ( { name = \"limited\"; match = { prefix = \"/limited\"; }; route = { cluster = \"web\"; }; },
                     { name = \"default\"; match = { prefix = \"/\"; }; route = { cluster = \"web\"; }; } ); }
      ); }; }
  );
  clusters = ( { name = \"web\"; connect_timeout_ms = 1000; endpoints = [ \"$PEER:$WEB_PORT\" ]; } );
};
local_ratelimits = (
  { port = 80; route = \"limited\"; stat_prefix = \"boot_route\"; max_tokens = 4; tokens_per_fill = 4;
    fill_interval_ms = $HOUR; x_ratelimit_headers = true;
    response_headers_to_add = ( { key = \"x-local-rate-limit\"; value = \"true\"; } ); },
  { port = 80; virtual_host = \"other\"; stat_prefix = \"boot_vhost\"; max_tokens = 6;
    fill_interval_ms = $HOUR; }
);"
	if ! out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1); then
		hf_not_ok "[$W] bootstrap with local_ratelimits and an EnvoyFilter accepted by --check ($out)"
		return
	fi
	if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf-$W.log" "$PEER/24"; then
		hf_not_ok "[$W] hydrofoil with local rate limits reports LIVE"
		return
	fi
	hf_ok "[$W] hydrofoil with local rate limits reports LIVE"
	for _ in $(seq 50); do [ -n "$(in_ns ss -Hltn "sport = :$WEB_PORT")" ] && break; sleep 0.1; done

	# -------- bootstrap, per route: 4 tokens, 4/W on one connection, 4 in all over every worker
	share=$((4 / W))
	r=$(codes "http://$OUR/limited" 10 "$HF_TMP/hl")
	hf_check "[$W] route limit, one connection: 10 requests → $share × 200, $((10 - share)) × 429 (got $r)" \
		test "$r" = "$share $((10 - share)) 0"
	h1=$(head_n "$HF_TMP/hl" 1)
	hf_check "[$W] the first 200 says x-ratelimit-limit $share, -remaining $((share - 1)), -reset ≤ 3600 s (got $(field x-ratelimit-limit <<<"$h1"), $(field x-ratelimit-remaining <<<"$h1"), $(field x-ratelimit-reset <<<"$h1"))" \
		bash -c '[ "$1" = "$3" ] && [ "$2" = "$(($3 - 1))" ] && [ "$4" -gt 3000 ] && [ "$4" -le 3600 ]' _ \
		"$(field x-ratelimit-limit <<<"$h1")" "$(field x-ratelimit-remaining <<<"$h1")" "$share" \
		"$(field x-ratelimit-reset <<<"$h1")"
	hl=$(head_n "$HF_TMP/hl" 0)
	hf_check "[$W] the 429 carries x-local-rate-limit: true, x-ratelimit-remaining: 0 ($(status_of <<<"$hl"), $(field x-local-rate-limit <<<"$hl"), $(field x-ratelimit-remaining <<<"$hl"))" \
		test "$(status_of <<<"$hl") $(field x-local-rate-limit <<<"$hl") $(field x-ratelimit-remaining <<<"$hl") $(field x-ratelimit-limit <<<"$hl")" = "429 true 0 $share"
	hf_check "[$W] each 429's body is local_rate_limited ($(grep -cx local_rate_limited "$HF_TMP/bodies") of $((10 - share)))" \
		test "$(grep -cx local_rate_limited "$HF_TMP/bodies")" = "$((10 - share))"
	r=$(drain "http://$OUR/limited" 4 "$share")
	read -r ok n <<<"$r"
	hf_check "[$W] over $n more connections (every worker) the route grants 4 × 200 in all, no more (got $ok)" \
		test "$ok" = 4
	sent=$((10 + n))
	r=$(codes "http://$OUR/free" 20)
	hf_check "[$W] the listener's other route has no limit: 20 × 200 (got $r)" test "$r" = "20 0 0"
	in_ns "${CURL[@]}" -D "$HF_TMP/h200" -o /dev/null "http://$OUR/free"
	hf_check "[$W] a route without a limit gets no x-ratelimit fields" \
		test -z "$(field x-ratelimit-limit < "$HF_TMP/h200")"

	# -------- bootstrap, per virtual host: 6 tokens shared by its two routes
	share=$((6 / W))
	r=$(in_ns "${CURL[@]}" -H 'Host: other.test' -o /dev/null -w '%{http_code}\n' \
		"http://$OUR/a" "http://$OUR/b" "http://$OUR/a" "http://$OUR/b" "http://$OUR/a" \
		"http://$OUR/b" "http://$OUR/a" "http://$OUR/b" | awk '$1 == 200 { o++ } END { print o + 0 }')
	hf_check "[$W] virtual host limit: /a and /b alternating on one connection share $share tokens (got $r × 200)" \
		test "$r" = "$share"

	# -------- the counters: Envoy's names per stat_prefix, and the totals
	c="$(st boot_route.http_local_rate_limit.enabled) $(st boot_route.http_local_rate_limit.ok) $(st boot_route.http_local_rate_limit.rate_limited) $(st boot_route.http_local_rate_limit.enforced)"
	hf_check "[$W] boot_route.http_local_rate_limit.{enabled,ok,rate_limited,enforced} = $sent 4 $((sent - 4)) $((sent - 4)) (got $c)" \
		test "$c" = "$sent 4 $((sent - 4)) $((sent - 4))"

	# -------- EnvoyFilter: the listener's bucket (8) and the api route's own (4)
	r=$(codes "http://$OUR:8000/x" 12 "$HF_TMP/hx")
	hf_check "[$W] EnvoyFilter HTTP_FILTER: 12 requests → $((8 / W)) × 200 (got $r)" \
		test "$r" = "$((8 / W)) $((12 - 8 / W)) 0"
	hl=$(head_n "$HF_TMP/hx" 0)
	hf_check "[$W] EnvoyFilter 429 carries x-local-rate-limit: true and no x-ratelimit-* (not enabled)" \
		test "$(status_of <<<"$hl") $(field x-local-rate-limit <<<"$hl") $(field x-ratelimit-limit <<<"$hl")" = "429 true "
	r=$(codes "http://$OUR:8000/api" 8)
	hf_check "[$W] EnvoyFilter HTTP_ROUTE: the api route has its own bucket, $((4 / W)) × 200 of 8 (got $r)" \
		test "$r" = "$((4 / W)) $((8 - 4 / W)) 0"
	r=$(drain "http://$OUR:8000/api" 4 $((4 / W)))
	read -r ok n <<<"$r"
	hf_check "[$W] over $n more connections the api route grants 4 × 200 in all (got $ok)" test "$ok" = 4

	# -------- hot reload: the listener's limit changes (full again), the route's does not (still empty)
	v0=$(st control_plane.snapshot_version)
	envoyfilter 16 4
	v=$(wait_version $((v0 + 1)))
	hf_check "[$W] the changed EnvoyFilter is loaded (snapshot $v0 → $v)" test "$v" -gt "$v0"
	r=$(codes "http://$OUR:8000/x" 20)
	hf_check "[$W] after the reload the listener's new bucket: 20 requests → $((16 / W)) × 200 (got $r)" \
		test "$r" = "$((16 / W)) $((20 - 16 / W)) 0"
	r=$(for _ in 1 2 3; do in_ns "${CURL[@]}" -o /dev/null -w '%{http_code}\n' "http://$OUR:8000/api"; done | tr '\n' ' ')
	hf_check "[$W] the unchanged route limit kept its empty buckets: 3 new connections → 429 ($r)" \
		test "$r" = "429 429 429 "

	# -------- every request counted once
	hf_check "[$W] gw_listener counters add up: enabled = ok + rate_limited, enforced = rate_limited, ok = $((8 / W + 16 / W)) ($(st gw_listener.http_local_rate_limit.enabled) = $(st gw_listener.http_local_rate_limit.ok) + $(st gw_listener.http_local_rate_limit.rate_limited))" \
		bash -c '[ "$1" -eq $(($2 + $3)) ] && [ "$3" -eq "$4" ] && [ "$2" -eq $((8 / $5 + 16 / $5)) ] && [ "$1" -eq 32 ]' _ \
		"$(st gw_listener.http_local_rate_limit.enabled)" "$(st gw_listener.http_local_rate_limit.ok)" \
		"$(st gw_listener.http_local_rate_limit.rate_limited)" "$(st gw_listener.http_local_rate_limit.enforced)" "$W"
	hf_check "[$W] http.local_rate_limit.enforced counts every 429 ($(st http.local_rate_limit.enforced))" \
		test "$(st http.local_rate_limit.enforced)" = "$(($(st boot_route.http_local_rate_limit.enforced) + $(st boot_vhost.http_local_rate_limit.enforced) + $(st gw_listener.http_local_rate_limit.enforced) + $(st gw_api.http_local_rate_limit.enforced)))"

	# -------- the access log: 429 with Envoy's flag RL and details local_rate_limited
	for _ in $(seq 30); do grep -q ' 429 RL local_rate_limited ' "$ALOG" 2>/dev/null && break; sleep 0.1; done
	hf_check "[$W] access log: 429 RL local_rate_limited" grep -q '"GET /limited HTTP/1.1" 429 RL local_rate_limited ' "$ALOG"
	# A 429 is reported against the route's cluster, as Envoy's stats filter reports it.
	hf_check "[$W] … naming the route's cluster (web) as the upstream cluster" \
		bash -c 'grep "\"GET /limited HTTP/1.1\" 429 RL " "$1" | tail -1 | grep -q "\" web - "' _ "$ALOG"
	p429=$(hf_admin "$NS" /stats/prometheus | grep '^istio_requests_total{' | grep 'response_code="429"')
	hf_check "[$W] istio_requests_total of the 429s has a destination_service, not unknown ($(grep -o 'destination_service="[^"]*"' <<<"$p429" | sort -u | paste -sd, -))" \
		bash -c '[ -n "$1" ] && ! grep -q "destination_service=\"unknown\"" <<<"$1"' _ "$p429"
	hf_check_stop
	hf_forget_pid "$HF_PID"
}

phase 1
phase 2
hf_done
