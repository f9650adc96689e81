#!/usr/bin/env bash
# Istio configuration end to end: hydrofoil as the bookinfo ingress gateway,
# configured by the Istio YAML of examples/bookinfo/ (read from a copy, as the
# bootstrap's config.istio_dir), in front of bookinfo's services as real nginx
# servers (scripts/lib/bookinfo.sh) on the Linux side of a net_tap in a private
# namespace; curl and wrk as clients.
#
# Checks every match kind (uri exact/prefix/regex, headers, queryParams, method,
# authority, the virtual host by Host), first match wins, the rewrite (nginx sees
# the new path, the access log the old one and Istio's cluster name), redirects
# (status and Location), a direct response, header operations on both sides,
# fault abort (100% and 50%) and delay, timeout, retries (attempts counted in
# nginx's access log), mirroring (seen in the mirror's access log), CORS, the
# DestinationRule load balancers, a 50/50 weighted split after a live change
# (with a request in flight across it); then 100 configuration changes, 10 of
# them invalid (YAML syntax, unknown destination host, bad regex, wrong type),
# during 20 s of wrk: no non-2xx, no socket error, one log line per invalid
# change naming its file and what is wrong, control_plane.config_rejected up by
# the invalid ones and control_plane.snapshot_version by exactly the valid ones;
# SIGHUP reloads; SIGTERM stops it with status 0.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$HF_ROOT/scripts/lib/bookinfo.sh"

GW=$BK_GW
REVIEWS=reviews.$BK_SUFFIX
RATINGS=ratings.$BK_SUFFIX
ISTIO=$HF_TMP/bookinfo
BK=$HF_TMP/services
ALOG=$HF_TMP/access.log
LOG=$HF_TMP/hf.log
VSR=virtual-service-reviews.yaml

T0=$SECONDS
NS=$(hf_ns_new istio) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
cp -r "$HF_ROOT/examples/bookinfo" "$ISTIO"
bk_bootstrap "$HF_TMP/hf.cfg" "$ISTIO" "$ALOG"
if ! out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1); then
	hf_not_ok "bootstrap with config.istio_dir accepted by --check ($out)"
	exit 1
fi
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$LOG" "$BK_ADDR/24"; then
	hf_not_ok "hydrofoil with examples/bookinfo reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with examples/bookinfo reports LIVE"
if ! bk_nginx_start "$NS" "$BK"; then
	hf_not_ok "bookinfo's nginx servers listen on $BK_ADDR:9080..9088"
	exit 1
fi
hf_ok "bookinfo's nginx servers listen on $BK_ADDR:9080..9088"

# ---------------------------------------------------------------- helpers
in_ns() { ip netns exec "$NS" "$@"; }
st() { hf_stat "$NS" "$1"; }
CURL=(curl -sS --noproxy '*' --max-time 15)
# req ARGS...: one request through the gateway; sets CODE, TIME, BODY (the
# answer, CRs removed), HDR (response head), WHO ("service version path-seen").
req() {
	local out
	rm -f "$HF_TMP/hdr" "$HF_TMP/body"
	out=$(in_ns "${CURL[@]}" -D "$HF_TMP/hdr" -o "$HF_TMP/body" -w '%{http_code} %{time_total}' "$@" \
		2>>"$HF_TMP/curl.err")
	CODE=${out%% *}; TIME=${out#* }
	BODY=$(tr -d '\r' < "$HF_TMP/body" 2>/dev/null); HDR=$(tr -d '\r' < "$HF_TMP/hdr" 2>/dev/null)
	WHO=$(bk_who "$BODY")
}
# hdr NAME: the response's values of NAME, one per line; seen NAME: what nginx received.
hdr() { sed -n "s/^$1: *//Ip" <<<"$HDR"; }
seen() { sed -n '/^--- request as received$/,$p' <<<"$BODY" | sed -n "s/^$1: *//Ip"; }
joined() { paste -sd'|' -; }
# expect_who DESC WANT ARGS...: the request is answered 200 by WANT ("service version path").
expect_who() {
	local desc=$1 want=$2
	shift 2
	req "$@"
	hf_check "$desc → $CODE ${WHO:-$(head -1 <<<"$BODY" | cut -c1-60)} (want 200 $want)" \
		test "$CODE" = 200 -a "$WHO" = "$want"
}
# expect_code DESC WANT ARGS...: the request is answered WANT (and not by an upstream server).
expect_code() {
	local desc=$1 want=$2
	shift 2
	req "$@"
	hf_check "$desc → $CODE ${WHO:-$(head -1 <<<"$BODY" | cut -c1-60)} (want $want from the gateway)" \
		test "$CODE" = "$want" -a -z "$WHO"
}
# lg SUBSTR: the access-log line whose path contains SUBSTR, as JSON (waits up to 3 s).
lg() { bk_log_line "$NS" "$ALOG" "$1"; }
j() { "$HF_PY" -c 'import json,sys
try: d=json.loads(sys.stdin.read().strip().splitlines()[-1])
except Exception: sys.exit(0)
try: print(eval(sys.argv[1]))
except Exception: pass' "$1" 2>/dev/null; }
# upstream_lines SUBSTR: access-log lines of every bookinfo server containing SUBSTR.
upstream_lines() { cat "$BK"/logs/*.log 2>/dev/null | grep -cF -- "$1"; }
# wait_count N SERVICE VERSION SUBSTR: waits up to 3 s for N lines in that server's log.
wait_count() {
	local i
	for i in $(seq 30); do
		[ "$(bk_count "$BK" "$2" "$3" "$4")" -ge "$1" ] && break
		sleep 0.1
	done
	sleep 0.2
	bk_count "$BK" "$2" "$3" "$4"
}
# hf_msgs: hydrofoil's own log lines (the access log is a file of its own).
hf_msgs() { grep -v '^$' "$LOG"; }
# many N URL ARGS...: N GETs one after another (one curl, keep-alive); prints
# "status x-bookinfo-server" per answer.
many() {
	local n=$1 url=$2 args=() i
	shift 2
	for i in $(seq "$n"); do args+=(-o /dev/null "$url"); done
	in_ns "${CURL[@]}" "$@" -w '%{http_code} %header{x-bookinfo-server}\n' "${args[@]}" 2>>"$HF_TMP/curl.err"
}
count() { awk -v w="$1" '($1 == 200 && $2 == w) || $1 == w { n++ } END { print n + 0 }'; }
R=(-H "Host: $RATINGS")
V=(-H "Host: $REVIEWS")
G=http://$GW

v_start=$(st control_plane.snapshot_version)
# hydrofoil's own lines start "hydrofoil:" (the rest is DPDK's, e.g. net_tap on qdiscs)
complaints=$(hf_msgs | grep '^hydrofoil:' | grep -ciE 'refused|error|invalid|reject|unknown|unsupported|warn')
hf_check "the Istio directory is loaded: control_plane.snapshot_version $v_start (≥ 1), $complaints log lines complaining (want 0)" \
	bash -c '[ "${1:-0}" -ge 1 ] && [ "$2" = 0 ]' _ "$v_start" "$complaints"
[ "$complaints" = 0 ] || hf_msgs | grep '^hydrofoil:' | grep -iE 'refused|error|invalid|reject|unknown|unsupported|warn' | sed 's/^/# /'

# ---------------------------------------------------------------- uri exact and prefix (VirtualService bookinfo)
expect_who "uri exact: GET /productpage" "productpage v1 /productpage" "$G/productpage"
expect_who "uri exact: GET /login" "productpage v1 /login" "$G/login"
expect_who "uri exact: GET /logout" "productpage v1 /logout" "$G/logout"
expect_who "uri exact ignores the query string: GET /productpage?u=normal" "productpage v1 /productpage?u=normal" "$G/productpage?u=normal"
expect_code "uri exact is exact: GET /productpage/extra" 404 "$G/productpage/extra"
expect_code "uri exact is exact: GET /loginx" 404 "$G/loginx"
expect_who "uri prefix: GET /static/css/style.css" "productpage v1 /static/css/style.css" "$G/static/css/style.css"
expect_who "uri prefix: GET /api/v1/products/0/reviews" "productpage v1 /api/v1/products/0/reviews" "$G/api/v1/products/0/reviews"
expect_who "uri prefix: GET /details/0" "details v1 /details/0" "$G/details/0"
expect_code "no route on the * host: GET /nothing-here" 404 "$G/nothing-here"
# ---------------------------------------------------------------- authority, virtual host by Host
expect_who "authority exact: GET /anything, Host: details.bookinfo.example" "details v1 /anything" \
	-H 'Host: details.bookinfo.example' "$G/anything"
expect_code "authority exact is exact: GET /anything, Host: other.bookinfo.example" 404 \
	-H 'Host: other.bookinfo.example' "$G/anything"
expect_who "virtual host by Host: $REVIEWS, GET /reviews/0 → reviews-route's default" "reviews v1 /reviews/0" "${V[@]}" "$G/reviews/0"
expect_who "virtual host by Host with its port: $REVIEWS:80" "reviews v1 /reviews/0" -H "Host: $REVIEWS:80" "$G/reviews/0"
host_seen=$(seen host)
hf_check "the upstream sees the client's Host ($host_seen, answer from: ${WHO:-$CODE})" test "$host_seen $WHO" = "$REVIEWS:80 reviews v1 /reviews/0"
# ---------------------------------------------------------------- headers, queryParams, method, regex (VirtualService ratings)
expect_who "default route: GET /ratings/0 (Host ratings)" "ratings v1 /ratings/0" "${R[@]}" "$G/ratings/0"
expect_who "headers exact: end-user: jason" "ratings v2 /ratings/0" "${R[@]}" -H 'end-user: jason' "$G/ratings/0"
enduser=$(seen end-user)
hf_check "ratings v2 saw end-user: $enduser (answer from: ${WHO:-$CODE})" test "$enduser $WHO" = "jason ratings v2 /ratings/0"
expect_who "headers exact is exact: end-user: jasonx" "ratings v1 /ratings/0" "${R[@]}" -H 'end-user: jasonx' "$G/ratings/0"
expect_who "queryParams exact: ?version=v3" "ratings v3 /ratings/0?version=v3" "${R[@]}" "$G/ratings/0?version=v3"
expect_who "queryParams exact is exact: ?version=v3x" "ratings v1 /ratings/0?version=v3x" "${R[@]}" "$G/ratings/0?version=v3x"
expect_who "queryParams by name: ?other=v3" "ratings v1 /ratings/0?other=v3" "${R[@]}" "$G/ratings/0?other=v3"
expect_who "method exact: POST" "ratings v3 /ratings/0" "${R[@]}" -X POST -d 'stars=5' "$G/ratings/0"
expect_who "method exact: PUT is not POST" "ratings v1 /ratings/0" "${R[@]}" -X PUT -d 'stars=5' "$G/ratings/0"
expect_who "uri regex: GET /ratings/42/stars" "ratings v3 /ratings/42/stars" "${R[@]}" "$G/ratings/42/stars"
expect_who "uri regex: GET /ratings/4x/stars does not match" "ratings v1 /ratings/4x/stars" "${R[@]}" "$G/ratings/4x/stars"
expect_who "uri regex matches the whole path: GET /ratings/42/stars/more" "ratings v1 /ratings/42/stars/more" "${R[@]}" "$G/ratings/42/stars/more"
expect_who "first match wins: end-user: jason and ?version=v3 and POST" "ratings v2 /ratings/0?version=v3" \
	"${R[@]}" -H 'end-user: jason' -X POST -d 'x=1' "$G/ratings/0?version=v3"

# ---------------------------------------------------------------- rewrite (reviews-route)
expect_who "rewrite: /wpcatalog/7 → /newcatalog/7 at v2" "reviews v2 /newcatalog/7" "${V[@]}" "$G/wpcatalog/7"
expect_who "rewrite: /consumercatalog/7?page=2 → /newcatalog/7?page=2 at v2" "reviews v2 /newcatalog/7?page=2" \
	"${V[@]}" "$G/consumercatalog/7?page=2"
expect_who "rewrite: /wpcatalog → /newcatalog at v2" "reviews v2 /newcatalog" "${V[@]}" "$G/wpcatalog"
l=$(lg "/consumercatalog/7?page=2")
got=$(j 'd["path"] + " " + d["code"] + " " + d["ucluster"] + " " + d["uhost"]' <<<"$l")
hf_check "access log of the rewritten request: '$got' (the client's path, Istio's cluster name, the v2 endpoint)" \
	test "$got" = "/consumercatalog/7?page=2 200 outbound|9080|v2|$REVIEWS $BK_ADDR:9082"
l=$(lg "/productpage?u=normal")
got=$(j 'd["code"] + " " + d["ucluster"] + " " + d["uhost"]' <<<"$l")
hf_check "access log of GET /productpage: '$got'" test "$got" = "200 outbound|9080||productpage.$BK_SUFFIX $BK_ADDR:9080"

# ---------------------------------------------------------------- redirect, direct response
req "$G/"
loc=$(hdr location)
hf_check "redirect: GET / → $CODE location '$loc' (want 301 http://$GW/productpage)" \
	test "$CODE" = 301 -a "$loc" = "http://$GW/productpage"
req "${R[@]}" "$G/old"
loc=$(hdr location)
hf_check "redirect with authority and code: GET /old → $CODE location '$loc' (want 302 http://ratings.bookinfo.example/ratings/0)" \
	test "$CODE" = 302 -a "$loc" = "http://ratings.bookinfo.example/ratings/0"
n0=$(upstream_lines "/health")
req "${R[@]}" "$G/health"
hf_check "directResponse: GET /health → $CODE '$(tr '\n' '~' <<<"$BODY")' (want 200 'ratings gateway: healthy~'), $(( $(upstream_lines /health) - n0 )) upstream requests" \
	test "$CODE" = 200 -a "$BODY" = "ratings gateway: healthy" -a "$(upstream_lines /health)" = "$n0"

# ---------------------------------------------------------------- header operations
req "${R[@]}" -H 'x-hf-set: client' -H 'x-hf-remove: client' "$G/headers/1"
got="set=$(seen x-hf-set | joined) add=$(seen x-hf-add | joined) remove=$(seen x-hf-remove | joined)"
hf_check "request headers set/add/remove: nginx saw $got (client sent x-hf-set: client, x-hf-remove: client)" \
	test "$WHO $got" = "ratings v1 /headers/1 set=gateway add=gateway remove="
got="set=$(hdr x-hf-resp-set | joined) add=$(hdr x-hf-resp-add | joined) internal=$(hdr x-ratings-internal | joined)"
hf_check "response headers set/add/remove: curl saw $got (nginx sent upstream, upstream, secret)" \
	test "$got" = "set=gateway add=upstream|gateway internal="
req "${R[@]}" -H 'x-hf-add: client' "$G/headers/2"
got=$(seen x-hf-add | joined)
hf_check "request header add appends: nginx saw x-hf-add $got (client sent client)" test "$got" = "client|gateway"
req "${R[@]}" -H 'x-hf-remove: client' "$G/ratings/0"
got="remove=$(seen x-hf-remove | joined) resp-set=$(hdr x-hf-resp-set | joined) internal=$(hdr x-ratings-internal | joined)"
hf_check "header operations stay on their route: /ratings/0 gives $got" \
	test "$got" = "remove=client resp-set=upstream internal=secret"
rid=$(seen x-request-id); xff=$(seen x-forwarded-for)
hf_check "the upstream sees x-forwarded-for $xff and an x-request-id ($rid)" \
	bash -c '[ "$1" = "$3" ] && grep -Eq "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$" <<<"$2"' _ "$xff" "$rid" "$BK_ADDR"

# ---------------------------------------------------------------- fault injection
n0=$(upstream_lines "/fault/abort ")
req "${R[@]}" "$G/fault/abort"
flags=$(j 'd["code"] + " " + d["flags"]' <<<"$(lg /fault/abort)")
hf_check "fault abort 100%: GET /fault/abort → $CODE (want 418), $(( $(upstream_lines "/fault/abort ") - n0 )) upstream requests; access log '$flags'" \
	test "$CODE" = 418 -a -z "$WHO" -a "$(upstream_lines "/fault/abort ")" = "$n0"
n0=$(bk_count "$BK" ratings v1 "/fault/abort-half")
codes=$(many 200 "$G/fault/abort-half" "${R[@]}")
a503=$(count 503 <<<"$codes"); a200=$(count ratings-v1 <<<"$codes")
up=$(( $(wait_count $((n0 + a200)) ratings v1 "/fault/abort-half") - n0 ))
hf_check "fault abort 50%: 200 requests → $a503 × 503 (want 70..130), $a200 × 200, ratings v1 got $up of them (want $a200)" \
	bash -c '[ "$1" -ge 70 ] && [ "$1" -le 130 ] && [ $(($1 + $2)) = 200 ] && [ "$3" = "$2" ]' _ "$a503" "$a200" "$up"
req "${R[@]}" "$G/ratings/0"
t_plain=$TIME
req "${R[@]}" "$G/fault/delay"
# Only lower bounds: a loaded machine makes requests slower, never faster than the delay.
hf_check "fault delay 1s 100%: GET /fault/delay → $CODE ${WHO:-} after $TIME s (want 200 from ratings v1 after ≥ 1.0 s; /ratings/0 took $t_plain s)" \
	bash -c '[ "$1" = "ratings v1 /fault/delay" ] && [ "$2" = 200 ] && awk -v t="$3" "BEGIN { exit !(t >= 1.0) }"' \
	_ "$WHO" "$CODE" "$TIME" "$t_plain"

# ---------------------------------------------------------------- timeout, retries
req "${R[@]}" "$G/slow?t=timeout"
flags=$(j 'd["code"] + " " + d["flags"]' <<<"$(lg /slow?t=timeout)")
# A 504 is the proof the gateway gave up before nginx answered; the time only has a lower bound.
hf_check "timeout 0.5s against nginx's 2 s /slow: → $CODE after $TIME s (want 504 after ≥ 0.45 s), access log '$flags'" \
	bash -c '[ "$1" = 504 ] && awk -v t="$2" "BEGIN { exit !(t >= 0.45) }"' _ "$CODE" "$TIME"
tag=retry-$RANDOM
req "${R[@]}" "$G/flaky?t=$tag"
tries=$(wait_count 3 ratings v1 "t=$tag")
flags=$(j 'd["code"] + " " + d["flags"] + " " + d["uhost"]' <<<"$(lg "t=$tag")")
hf_check "retries attempts 2 on 5xx against nginx's always-503 /flaky: → $CODE '$(head -1 <<<"$BODY")', ratings v1 got $tries attempts (want 503, 3), access log '$flags'" \
	test "$CODE" = 503 -a "$tries" = 3

# ---------------------------------------------------------------- mirror
tag=mirror-$RANDOM
for i in $(seq 20); do
	req "${R[@]}" "$G/mirror/$i?t=$tag"
	[ "$WHO" = "ratings v1 /mirror/$i?t=$tag" ] || break
done
hf_check "mirror: 20 × GET /mirror/N answered by ratings v1 (last: $CODE $WHO)" test "$WHO" = "ratings v1 /mirror/20?t=$tag"
m=$(wait_count 20 ratings-mirror v1 "t=$tag")
mhost=$(grep -F "t=$tag" "$(bk_log "$BK" ratings-mirror v1)" | head -1 | sed -n 's/.* host=\([^ ]*\).*/\1/p')
hf_check "mirror 100%: ratings-mirror's access log has $m of the 20 (Host there: $mhost), ratings v1's has $(bk_count "$BK" ratings v1 "t=$tag")" \
	test "$m" = 20 -a "$(bk_count "$BK" ratings v1 "t=$tag")" = 20
hf_check "mirror Host: '$mhost', the request's with '-shadow' (Envoy's shadowAppend)" \
	test "$mhost" = "$RATINGS-shadow"
# With a port, '-shadow' goes after the host, before the port: host-shadow:80, not host:80-shadow.
tag=mirror-port-$RANDOM
req -H "Host: $RATINGS:80" "$G/mirror/p?t=$tag"
m=$(wait_count 1 ratings-mirror v1 "t=$tag")
mhost=$(grep -F "t=$tag" "$(bk_log "$BK" ratings-mirror v1)" | head -1 | sed -n 's/.* host=\([^ ]*\).*/\1/p')
hf_check "mirror Host for 'Host: $RATINGS:80' → $CODE, the mirror got $m with Host '$mhost' (want '$RATINGS-shadow:80')" \
	test "$CODE" = 200 -a "$m" = 1 -a "$mhost" = "$RATINGS-shadow:80"

# ---------------------------------------------------------------- CORS
n0=$(upstream_lines "OPTIONS /cors")
req "${R[@]}" -X OPTIONS -H 'Origin: https://bookinfo.example' -H 'Access-Control-Request-Method: POST' \
	-H 'Access-Control-Request-Headers: end-user' "$G/cors/1"
got="origin=$(hdr access-control-allow-origin) methods=$(hdr access-control-allow-methods | tr -d ' ') headers=$(hdr access-control-allow-headers) max-age=$(hdr access-control-max-age)"
hf_check "CORS preflight from an allowed origin → $CODE $got, answered by the gateway ($(( $(upstream_lines "OPTIONS /cors") - n0 )) upstream requests)" \
	test "$CODE $got" = "200 origin=https://bookinfo.example methods=GET,POST headers=end-user max-age=86400" -a \
		"$(upstream_lines "OPTIONS /cors")" = "$n0"
req "${R[@]}" -H 'Origin: https://bookinfo.example' "$G/cors/2"
hf_check "CORS: GET from an allowed origin → $CODE $WHO, access-control-allow-origin '$(hdr access-control-allow-origin)'" \
	test "$WHO" = "ratings v1 /cors/2" -a "$(hdr access-control-allow-origin)" = "https://bookinfo.example"
req "${R[@]}" -H 'Origin: https://evil.example' "$G/cors/3"
hf_check "CORS: GET from another origin → $CODE $WHO, no access-control-allow-origin ('$(hdr access-control-allow-origin)')" \
	test "$WHO" = "ratings v1 /cors/3" -a -z "$(hdr access-control-allow-origin)"

# ---------------------------------------------------------------- DestinationRule load balancers
out=$(many 30 "$G/reviews/0")
hf_check "reviews without a subset, ROUND_ROBIN: 30 GETs → v1 $(count reviews-v1 <<<"$out"), v2 $(count reviews-v2 <<<"$out"), v3 $(count reviews-v3 <<<"$out") (want 10 each)" \
	test "$(count reviews-v1 <<<"$out") $(count reviews-v2 <<<"$out") $(count reviews-v3 <<<"$out")" = "10 10 10"
out=$(many 60 "$G/ratings/0")
r1=$(count ratings-v1 <<<"$out"); r2=$(count ratings-v2 <<<"$out"); r3=$(count ratings-v3 <<<"$out")
hf_check "ratings without a subset, LEAST_CONN: 60 GETs → v1 $r1, v2 $r2, v3 $r3 (all answered, each version used)" \
	bash -c '[ $(($1 + $2 + $3)) = 60 ] && [ "$1" -gt 0 ] && [ "$2" -gt 0 ] && [ "$3" -gt 0 ]' _ "$r1" "$r2" "$r3"

# ---------------------------------------------------------------- weighted split after a live change
# wait_version V: waits up to 5 s for control_plane.snapshot_version to reach V; prints it.
wait_version() {
	local v i
	for i in $(seq 100); do
		v=$(st control_plane.snapshot_version)
		[ "${v:-0}" -ge "$1" ] && break
		sleep 0.05
	done
	echo "${v:-0}"
}
v0=$(st control_plane.snapshot_version)
# a request in flight across the change: held 1 s by the fault delay, then answered
ip netns exec "$NS" "${CURL[@]}" "${R[@]}" -o "$HF_TMP/inflight.body" -w '%{http_code}' "$G/fault/delay?t=inflight" \
	> "$HF_TMP/inflight.code" 2>>"$HF_TMP/curl.err" &
inflight=$!
sleep 0.3
bk_reviews_route 50 0 50 > "$HF_TMP/$VSR"
bk_install "$HF_TMP/$VSR" "$ISTIO"
v1=$(wait_version $((v0 + 1)))
wait "$inflight"
hf_check "a request in flight across the change (fault delay 1 s, change at 0.3 s) → $(cat "$HF_TMP/inflight.code") $(bk_who "$(cat "$HF_TMP/inflight.body")") (want 200 ratings v1)" \
	test "$(cat "$HF_TMP/inflight.code") $(bk_who "$(cat "$HF_TMP/inflight.body")")" = "200 ratings v1 /fault/delay?t=inflight"
sleep 0.3
hf_check "reviews-route rewritten to 50% v1 / 50% v3: snapshot_version $v0 → $(st control_plane.snapshot_version) (want +1)" \
	test "$(st control_plane.snapshot_version)" = $((v0 + 1))
out=$(many 400 "$G/reviews/0" "${V[@]}")
w1=$(count reviews-v1 <<<"$out"); w2=$(count reviews-v2 <<<"$out"); w3=$(count reviews-v3 <<<"$out")
hf_check "weighted 50/50 over 400 requests: v1 $w1, v3 $w3 (each 150..250), v2 $w2 (want 0), $((400 - w1 - w2 - w3)) others" \
	bash -c '[ "$1" -ge 150 ] && [ "$1" -le 250 ] && [ "$2" -ge 150 ] && [ "$2" -le 250 ] && [ $(($1 + $2)) = 400 ]' _ "$w1" "$w3"
expect_who "the catalog route survives the change: /wpcatalog/1" "reviews v2 /newcatalog/1" "${V[@]}" "$G/wpcatalog/1"

# ---------------------------------------------------------------- retries to a long cluster name
# A service of a 122-character host with a 60-character subset: its cluster name,
# outbound|9080|SUBSET|HOST, is 200 characters, longer than any name a request keeps,
# so a retry must find the cluster by identity, not by name.
LONG=$(printf 'l%.0s' $(seq 55)).$(printf 'o%.0s' $(seq 55)).example.com
SUBSET=$(printf 's%.0s' $(seq 60))
cat > "$HF_TMP/long.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: long-name
spec:
  hosts:
  - $LONG
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: 9080
    name: http
    protocol: HTTP
  endpoints:
  - address: $BK_ADDR
    ports:
      http: 9085
    labels:
      version: long
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: long-name
spec:
  host: $LONG
  subsets:
  - name: $SUBSET
    labels:
      version: long
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: long-name
spec:
  hosts:
  - $LONG
  gateways:
  - bookinfo-gateway
  http:
  - route:
    - destination:
        host: $LONG
        subset: $SUBSET
    retries:
      attempts: 2
      perTryTimeout: 1s
      retryOn: 5xx
YAML
v0=$(st control_plane.snapshot_version)
bk_install "$HF_TMP/long.yaml" "$ISTIO"
wait_version $((v0 + 1)) > /dev/null
tag=longretry-$RANDOM
req -H "Host: $LONG" "$G/flaky?t=$tag"
tries=$(wait_count 3 ratings v1 "t=$tag")
hf_check "retries to a cluster named by ${#LONG}+${#SUBSET}+16 = $((${#LONG} + ${#SUBSET} + 16)) characters: → $CODE, ratings v1 got $tries attempts (want 503, 3)" \
	test "$CODE" = 503 -a "$tries" = 3

# ---------------------------------------------------------------- 100 changes under load
# Change i rewrites virtual-service-reviews.yaml (one rename). Every tenth, from the
# fifth, is invalid; the others split the default route differently and set
# x-config-generation: i on its responses. Each change waits (≤ 3 s) for its
# effect — a new snapshot, or a log line naming the file — before the next.
invalid() { # KIND: an invalid reviews-route on stdout
	case $1 in
	yaml) bk_reviews_route 100 0 0 | sed 's/^  hosts:$/  hosts: [reviews/' ;;	# an unclosed flow sequence
	host) bk_reviews_route 50 0 50 | tac | sed '0,/host: reviews$/s//host: nosuch-service/' | tac ;;	# v3's destination
	regex) bk_reviews_route 100 0 0 | sed 's|prefix: "/consumercatalog"|regex: "/consumer(catalog"|' ;;
	type) bk_reviews_route 100 0 0 | sed 's/weight: 100/weight: "one hundred"/' ;;
	esac
}
# The invalid files must differ from a valid one only in the fault (checked on the peer side).
for k in yaml host regex type; do invalid "$k" > "$HF_TMP/invalid-$k.yaml"; done
bad_yaml=$("$HF_PY" -c 'import sys, yaml
ok = []
for f in sys.argv[1:]:
    try: yaml.safe_load(open(f)); ok.append(f.split("invalid-")[1])
    except Exception: pass
print(" ".join(ok))' "$HF_TMP"/invalid-{yaml,host,regex,type}.yaml 2>/dev/null)
hf_check "peer side: of the four invalid files only the YAML one fails to parse as YAML (parsed: $bad_yaml)" \
	test "$bad_yaml" = "host.yaml regex.yaml type.yaml"
grep -q 'nosuch-service' "$HF_TMP/invalid-host.yaml" && grep -q 'consumer(catalog' "$HF_TMP/invalid-regex.yaml" &&
	grep -q '"one hundred"' "$HF_TMP/invalid-type.yaml" || hf_not_ok "peer side: the invalid files carry their faults"

ulimit -n 65536 2>/dev/null || true
ip netns exec "$NS" wrk -t2 -c50 -d20s --timeout 5s -H "Host: $REVIEWS" "$G/reviews/0" > "$HF_TMP/wrk.out" 2>&1 &
WRK=$!
HF_PIDS+=("$WRK")
sleep 0.5
kinds=(yaml host regex type)
nvalid=0 ninvalid=0 late=0 lines_bad="" last_gen=0
declare -A rej
v_before=$(st control_plane.snapshot_version); rej_before=$(st control_plane.config_rejected)
t_start=$(date +%s.%N)
for i in $(seq 100); do
	# pace: change i at 0.19 s × i after the start, so the 100 fit into wrk's 20 s
	awk -v s="$t_start" -v i="$i" -v n="$(date +%s.%N)" 'BEGIN { d = s + 0.19 * i - n; if (d > 0) system("sleep " d) }'
	vb=$(st control_plane.snapshot_version)
	if [ $((i % 10)) = 5 ]; then
		kind=${kinds[$(( (i / 10) % 4 ))]}
		cp "$HF_TMP/invalid-$kind.yaml" "$HF_TMP/$VSR"
		nb=$(hf_msgs | grep -cF "$VSR")
		bk_install "$HF_TMP/$VSR" "$ISTIO"
		ninvalid=$((ninvalid + 1))
		for _ in $(seq 30); do [ "$(hf_msgs | grep -cF "$VSR")" -gt "$nb" ] && break; sleep 0.05; done
		sleep 0.1
		n=$(( $(hf_msgs | grep -cF "$VSR") - nb ))
		[ "$n" -gt 0 ] && rej[$kind]=$(hf_msgs | grep -F "$VSR" | tail -1)
		[ "$n" = 1 ] || lines_bad+=" change $i ($kind): $n lines;"
		[ "$(st control_plane.snapshot_version)" = "$vb" ] || lines_bad+=" change $i ($kind) published a snapshot;"
	else
		case $((i % 4)) in
		0) w="100 0 0" ;; 1) w="50 0 50" ;; 2) w="34 33 33" ;; 3) w="0 50 50" ;;
		esac
		# shellcheck disable=SC2086
		bk_reviews_route $w "$i" > "$HF_TMP/$VSR"
		bk_install "$HF_TMP/$VSR" "$ISTIO"
		nvalid=$((nvalid + 1)); last_gen=$i
		[ "$(wait_version $((vb + 1)))" -ge $((vb + 1)) ] || late=$((late + 1))
	fi
done
t_end=$(date +%s.%N)
wait "$WRK"
v_after=$(st control_plane.snapshot_version); rej_after=$(st control_plane.config_rejected)
elapsed=$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')
reqs=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$HF_TMP/wrk.out")
non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$HF_TMP/wrk.out")
sock=$(sed -n 's/^ *Socket errors: *//p' "$HF_TMP/wrk.out")
hf_check "100 changes ($nvalid valid, $ninvalid invalid) in $elapsed s during wrk -t2 -c50 -d20s: ${reqs:-no} requests (want ≥ 2000), non-2xx ${non2xx:-0}, socket errors ${sock:-none}" \
	bash -c '[ "${1:-0}" -ge 2000 ] && [ -z "$2" ] && [ -z "$3" ]' _ "$reqs" "$non2xx" "$sock"
[ -n "$reqs" ] || sed 's/^/# wrk: /' "$HF_TMP/wrk.out"
hf_check "control_plane.snapshot_version $v_before → $v_after: +$((v_after - v_before)) (want +$nvalid, one per valid change; $late valid changes not seen within 5 s)" \
	test $((v_after - v_before)) = "$nvalid" -a "$late" = 0
hf_check "control_plane.config_rejected ${rej_before:-?} → ${rej_after:-?} (want +$ninvalid)" \
	test "$(( ${rej_after:-0} - ${rej_before:-0} ))" = "$ninvalid" -a -n "$rej_after"
hf_check "one log line naming $VSR per invalid change, none published a snapshot${lines_bad:+:$lines_bad}" test -z "$lines_bad"
# The line of each kind says what is wrong (the field, or the YAML error).
for k in yaml host regex type; do
	case $k in
	yaml) want='yaml|syntax|parse|flow|expected' ;; host) want='nosuch-service' ;;
	regex) want='regex|consumer\(catalog' ;; type) want='weight' ;;
	esac
	msg=${rej[$k]:-}
	hf_check "the $k change's rejection names the file and says what is wrong (/$want/): '${msg:-no line}'" \
		bash -c 'grep -qF "$3" <<<"$1" && grep -qiE "$2" <<<"$1"' _ "$msg" "$want" "$VSR"
done
req "${V[@]}" "$G/reviews/0"
hf_check "after the storm the last valid change serves: x-config-generation '$(hdr x-config-generation)' (want $last_gen), $CODE ${WHO:-}" \
	test "$(hdr x-config-generation)" = "$last_gen" -a "$CODE" = 200
hf_check "hydrofoil is still running" kill -0 "$HF_PID"
r0=$(st control_plane.config_reloads); v0=$(st control_plane.snapshot_version)
kill -HUP "$HF_PID"
for _ in $(seq 40); do [ "$(st control_plane.config_reloads)" != "$r0" ] && break; sleep 0.05; done
req "${V[@]}" "$G/reviews/0"
hf_check "SIGHUP reloads: control_plane.config_reloads $r0 → $(st control_plane.config_reloads) (snapshot_version $v0 → $(st control_plane.snapshot_version)), then $CODE ${WHO:-}" \
	test "$(st control_plane.config_reloads)" = $((r0 + 1)) -a "$CODE" = 200 -a "$(hdr x-config-generation)" = "$last_gen"

# ---------------------------------------------------------------- the end
if [ "$HF_FAIL" -gt 0 ]; then
	hf_admin "$NS" /stats | grep -E '^(http\.|control_plane\.|access_log\.)' | grep -v ': 0$' | sed 's/^/# /'
	hf_msgs | grep '^hydrofoil:' | grep -v ' built in ' | sed 's/^/# /'
	hf_msgs | grep ' built in ' | tail -3 | sed 's/^/# /'
fi
hf_check_stop
echo "# finished in $((SECONDS - T0)) s"
hf_done
