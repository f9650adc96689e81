#!/usr/bin/env bash
# `foilctl explain` (GET /explain): what the gateway would do with a request, and why,
# against what it does; and `foilctl proxy-config` / `proxy-status` (GET /config_dump,
# /clusters) on the same gateway, fed by Istio YAML. Hydrofoil runs examples/bookinfo (scripts/lib/bookinfo.sh) in
# front of bookinfo's nginx servers in a private namespace; for each request below,
# the route and cluster the explanation names must be the ones the real request took
# (the access log's %ROUTE_NAME% and %UPSTREAM_CLUSTER%), and the redirects, direct
# responses and 404s it predicts must be what curl gets. Then a weighted split after a
# live change, a path normalized, a port without a listener, and bad queries (400).
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$HF_ROOT/scripts/lib/bookinfo.sh"
FOILCTL=$HF_ROOT/scripts/foilctl

ISTIO=$HF_TMP/bookinfo
ALOG=$HF_TMP/access.log
REVIEWS=reviews.$BK_SUFFIX
RATINGS=ratings.$BK_SUFFIX
NS=$(hf_ns_new explain) || { hf_not_ok "create namespace"; exit 1; }
cp -r "$HF_ROOT/examples/bookinfo" "$ISTIO"
bk_bootstrap "$HF_TMP/hf.cfg" "$ISTIO" "$ALOG"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$BK_ADDR/24" ||
	! bk_nginx_start "$NS" "$HF_TMP/services"; then
	hf_not_ok "hydrofoil with examples/bookinfo and bookinfo's nginx servers up"
	exit 1
fi
hf_ok "hydrofoil with examples/bookinfo and bookinfo's nginx servers up"

in_ns() { ip netns exec "$NS" "$@"; }
# explain METHOD URL [HEADER...]: foilctl's answer, in the namespace (admin on 127.0.0.1).
explain() {
	local m=$1 u=$2 h=()
	shift 2
	for x in "$@"; do h+=(-H "$x"); done
	in_ns "$HF_PY" "$FOILCTL" explain "$m" "$u" "${h[@]}"
}
field() { sed -n "s/^$1: \([^ ]*\).*/\1/p" <<<"$2" | head -1; }
lg() { bk_log_line "$NS" "$ALOG" "$1"; }
j() { "$HF_PY" -c 'import json,sys
try: d=json.loads(sys.stdin.read().strip().splitlines()[-1])
except Exception: sys.exit(0)
print(d.get(sys.argv[1], ""))' "$1" 2>/dev/null; }

# agrees DESC METHOD URL-PATH HOST [HEADER...]: the explained route and first cluster are
# the access log's for the same request sent for real (a unique query tells them apart).
n=0
agrees() {
	local desc=$1 m=$2 path=$3 host=$4 out l want got
	shift 4
	n=$((n + 1))
	case $path in *\?*) path="$path&probe=$n" ;; *) path="$path?probe=$n" ;; esac
	out=$(explain "$m" "http://$host$path" "$@")
	want="$(field route "$out") $(field '  cluster' "$out")"
	h=()
	for x in "$@"; do h+=(-H "$x"); done
	in_ns curl -s -o /dev/null --max-time 10 -X "$m" -H "Host: $host" "${h[@]}" "http://$BK_GW$path"
	l=$(lg "$path")
	got="$(j route <<<"$l") $(j ucluster <<<"$l")"
	hf_check "$desc: explained '$want', taken '$got'" test -n "$(field route "$out")" -a "$want" = "$got"
}

explain GET "http://$REVIEWS/wpcatalog/7" "end-user: jason" | sed 's/^/# /'
agrees "GET /productpage (exact match)" GET /productpage bookinfo.example
agrees "GET /api/v1/products/1 (prefix match)" GET /api/v1/products/1 bookinfo.example
agrees "any path on Host details.bookinfo.example (authority match)" GET /anything details.bookinfo.example
agrees "reviews: /wpcatalog/7 goes to v2 (catalog route)" GET /wpcatalog/7 "$REVIEWS"
agrees "reviews: other paths go to v1 (default route)" GET /reviews/1 "$REVIEWS"
agrees "ratings: a header match (end-user: jason)" GET /ratings/0 "$RATINGS" "end-user: jason"
agrees "ratings: a query parameter match (?version=v3)" GET "/ratings/0?version=v3" "$RATINGS"
agrees "ratings: POST with end-user: jason" POST "/ratings/0?version=v3" "$RATINGS" "end-user: jason"

# Predictions that never reach an upstream: redirect, direct response, no route.
out=$(explain GET "http://bookinfo.example/")
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Host: bookinfo.example' "http://$BK_GW/")
hf_check "GET / is explained as a redirect ($(grep -o 'action: redirect [0-9]*' <<<"$out")) and curl gets $code" \
	test "$(grep -o 'action: redirect [0-9]*' <<<"$out")" = "action: redirect $code"
out=$(explain GET "http://$RATINGS/health")
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "Host: $RATINGS" "http://$BK_GW/health")
hf_check "GET /health on ratings is explained as a direct response ($(grep -o 'direct response [0-9]*' <<<"$out")) and curl gets $code" \
	test "$(grep -o 'direct response [0-9]*' <<<"$out")" = "direct response $code"
out=$(explain GET "http://bookinfo.example/nowhere")
code=$(in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Host: bookinfo.example' "http://$BK_GW/nowhere")
hf_check "GET /nowhere is explained as 404 NR ($(grep -o '404 NR' <<<"$out")) and curl gets $code" \
	test "$(grep -c '404 NR' <<<"$out")" = 1 -a "$code" = 404

# The path the route sees is the normalized one (the request shows both).
out=$(explain GET "http://bookinfo.example/static/../productpage")
hf_check "a dot-segment path is explained after normalization ($(grep '^path:' <<<"$out"); route $(field route "$out"))" \
	test "$(field route "$out")" = productpage -a -n "$(grep '^path: /static/../productpage normalized to /productpage' <<<"$out")"

# A live change: the reviews default route split 50/50 over v1 and v3.
v0=$(hf_stat "$NS" control_plane.snapshot_version)
bk_reviews_route 50 0 50 > "$HF_TMP/virtual-service-reviews.yaml"
bk_install "$HF_TMP/virtual-service-reviews.yaml" "$ISTIO"
for _ in $(seq 100); do [ "$(hf_stat "$NS" control_plane.snapshot_version)" != "$v0" ] && break; sleep 0.1; done
out=$(explain GET "http://$REVIEWS/reviews/1")
split=$(grep -c 'weight 50 of 100' <<<"$out")
hf_check "after the live change /reviews/1 is explained as two clusters at 50% each ($split lines; snapshot $v0 → $(hf_stat "$NS" control_plane.snapshot_version))" \
	test "$split" = 2 -a -n "$(grep "cluster: outbound|9080|v1|$REVIEWS" <<<"$out")" \
	-a -n "$(grep "cluster: outbound|9080|v3|$REVIEWS" <<<"$out")"
hf_check "the explanation lists each cluster's endpoints ($(grep -c 'endpoints (' <<<"$out") lines)" \
	test "$(grep -c 'endpoints (1, ' <<<"$out")" = 2

# foilctl proxy-config: what is loaded, in istioctl's columns.
pc() { in_ns "$HF_PY" "$FOILCTL" proxy-config "$@" 2>&1; }
out=$(pc cluster)
hf_check "proxy-config cluster lists reviews' subsets v1, v2, v3 on 9080 outbound ($(grep -c "^$REVIEWS " <<<"$out") rows for reviews)" \
	test -n "$(grep -E "^$REVIEWS +9080 +v1 +outbound" <<<"$out")" -a -n "$(grep -E "^$REVIEWS +9080 +v3 +outbound" <<<"$out")"
n=$(pc cluster -o json | "$HF_PY" -c 'import json,sys; print(len(json.load(sys.stdin)))' 2>/dev/null)
hf_check "proxy-config cluster -o json is the clusters as JSON, one per row of the table ($n, $(($(wc -l <<<"$out") - 1)) rows)" \
	test -n "$n" -a "$n" = "$(($(wc -l <<<"$out") - 1))"
out=$(pc listener)
hf_check "proxy-config listener: port 80 ($(grep -E ' 80 ' <<<"$out" | head -1 | tr -s ' '))" \
	test -n "$(grep -E '^[0-9.]+ +80 ' <<<"$out")"
out=$(pc route --name .)
hf_check "proxy-config route lists the catalog and default routes of reviews ($(grep -c "$REVIEWS" <<<"$out") rows)" \
	test -n "$(grep -E "/wpcatalog" <<<"$out")" -a "$(grep -c "$REVIEWS" <<<"$out")" -ge 3
out=$(pc endpoint --name "v2\\|$REVIEWS")
hf_check "proxy-config endpoint --name: reviews v2 at $BK_ADDR:9082, HEALTHY ($(tr -s ' ' <<<"$out" | tail -1))" \
	test -n "$(grep -E "^$BK_ADDR:9082 +HEALTHY +OK +outbound\|9080\|v2\|$REVIEWS" <<<"$out")"
out=$(in_ns "$HF_PY" "$FOILCTL" proxy-status 2>&1)
hf_check "proxy-status: node gw-test, CDS/LDS/RDS SYNCED from the Istio YAML ($(tail -1 <<<"$out" | tr -s ' '))" \
	test -n "$(grep -E '^gw-test +hydrofoil +Istio YAML' <<<"$out")" -a "$(grep -o 'SYNCED' <<<"$out" | wc -l)" -ge 3

# What a request to a port without a listener, and a bad query, get.
out=$(explain GET "http://bookinfo.example:8081/productpage")
hf_check "port 8081 has no listener: $(grep '^listener' <<<"$out")" test -n "$(grep '^listener: none on port 8081' <<<"$out")"
code=$(in_ns curl -s -o "$HF_TMP/body" -w '%{http_code}' --max-time 5 "http://127.0.0.1:15000/explain?method=GET")
hf_check "/explain without url= → $code: $(head -1 "$HF_TMP/body")" test "$code" = 400
code=$(in_ns curl -s -o "$HF_TMP/body" -w '%{http_code}' --max-time 5 \
	"http://127.0.0.1:15000/explain?url=http://a/b&header=nocolon")
hf_check "/explain with a header that is not name:value → $code: $(head -1 "$HF_TMP/body")" test "$code" = 400
hf_check_stop
hf_done
