#!/usr/bin/env bash
# The bookinfo gateway demo: hydrofoil as Istio's ingress gateway, configured by
# the Istio YAML of examples/bookinfo/ (Gateway, VirtualServices, DestinationRules,
# ServiceEntries, a WorkloadEntry) exactly as users `kubectl apply` it, in front
# of bookinfo's services — productpage, details, reviews v1/v2/v3, ratings
# v1/v2/v3 and a mirror — run as real nginx servers on the Linux side of a DPDK
# net_tap in a private network namespace.
#
# It sends requests with curl and prints what each should hit and what answered,
# then shifts reviews to 50% v1 / 50% v3 live, under wrk load, by rewriting the
# reviews-route VirtualService in hydrofoil's configuration directory (inotify
# picks it up), and shows the split, the errors (none) and the snapshot version.
# The gateway also serves HTTPS on 443 (a certificate from scripts/mkcert.sh, by
# credentialName), originates mutual TLS with the mesh identity (ISTIO_MUTUAL, certificates
# from scripts/meshca.sh) to a details server that requires it, and a real Prometheus
# scrapes Istio's standard metrics from the
# admin API. Applied live: an AuthorizationPolicy (a denied POST), a RequestAuthentication
# with an AuthorizationPolicy requiring its JWT (401 and 403 without a valid token), and a
# local rate limit from an EnvoyFilter (a burst gets 429); the demo ends with two PromQL
# queries over what it sent.
# Everything it creates is removed when it ends, also on Ctrl-C.
# HF_NO_SETUP=1 skips scripts/setup.sh (packages, hugepages, build).
set -uo pipefail
cd "$(dirname "$0")/.."
[ -n "${HF_NO_SETUP:-}" ] || scripts/setup.sh || exit 1
source scripts/lib/netns.sh
source scripts/lib/bookinfo.sh

say() { printf '\n== %s\n' "$*"; }
GW=$BK_GW
REVIEWS=reviews.$BK_SUFFIX
RATINGS=ratings.$BK_SUFFIX

NS=$(hf_ns_new bookinfo) || exit 1
HF_NAMESPACES+=("$NS")
ISTIO=$HF_TMP/bookinfo		# hydrofoil watches this copy; the demo edits it
BK=$HF_TMP/services		# nginx configuration, pid, access logs
cp -r examples/bookinfo "$ISTIO"
CFG=$HF_TMP/gateway.cfg
bk_bootstrap "$CFG" "$ISTIO" "$HF_TMP/access.log"
# HTTPS on 443: a test CA and a certificate for bookinfo.example.com, found by credentialName
# in the bootstrap's credentials_dir (the layout of a mounted Kubernetes TLS secret).
CREDS=$HF_TMP/credentials
scripts/mkcert.sh ca "$CREDS" >/dev/null && scripts/mkcert.sh cert "$CREDS" bookinfo-cred bookinfo.example.com >/dev/null ||
	{ echo "scripts/mkcert.sh could not make the demo's certificate"; exit 1; }
sed -i "s|config: { istio_dir = \"$ISTIO\"; };|config: { istio_dir = \"$ISTIO\"; credentials_dir = \"$CREDS\"; };|" "$CFG"
# The mesh (the seed's Citadel): a root and SPIFFE workload certificates from scripts/meshca.sh,
# the gateway's as its bootstrap identity, details' for an nginx that requires a mesh client
# certificate; a DestinationRule with tls.mode ISTIO_MUTUAL makes the gateway originate mTLS.
MESH=$HF_TMP/mesh
MTLS_PORT=9443
scripts/meshca.sh root "$MESH" >/dev/null && scripts/meshca.sh workload "$MESH" istio-system istio-ingressgateway >/dev/null &&
	scripts/meshca.sh workload "$MESH" default bookinfo-details >/dev/null ||
	{ echo "scripts/meshca.sh could not make the mesh certificates"; exit 1; }
cat >> "$CFG" <<ID
identity = { trust_domain = "cluster.local"; namespace = "istio-system"; service_account = "istio-ingressgateway";
  cert_chain = "$MESH/istio-system/istio-ingressgateway/cert-chain.pem";
  key = "$MESH/istio-system/istio-ingressgateway/key.pem"; root_cert = "$MESH/root-cert.pem"; };
ID
cat > "$ISTIO/details-mtls.yaml" <<YAML
# details behind mutual TLS: the gateway presents its SPIFFE identity and checks details'
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: details-secure, namespace: default}
spec:
  hosts: [details-secure.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: $MTLS_PORT, name: http, protocol: HTTP}]
  endpoints: [{address: $BK_ADDR, serviceAccount: bookinfo-details}]
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: details-secure, namespace: default}
spec:
  host: details-secure.default.svc.cluster.local
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: details-secure, namespace: default}
spec:
  hosts: [details-secure.example.com]
  gateways: [bookinfo-gateway]
  http:
  - route: [{destination: {host: details-secure.default.svc.cluster.local, port: {number: $MTLS_PORT}}}]
YAML
/usr/bin/python3 - "$ISTIO/bookinfo-gateway.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
https = ('  - port:\n      number: 443\n      name: https\n      protocol: HTTPS\n'
         '    hosts:\n    - "*"\n    tls:\n      mode: SIMPLE\n      credentialName: bookinfo-cred\n')
i = s.index('    - "*"\n') + len('    - "*"\n')
open(p, "w").write(s[:i] + https + s[i:])
PY

say "the Istio configuration (a copy of examples/bookinfo in $ISTIO)"
/usr/bin/python3 - "$ISTIO" <<'PY' 2>/dev/null || ls -l "$ISTIO"
import glob, os, sys, yaml
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.yaml"))):
    docs = [d for d in yaml.safe_load_all(open(f)) if d]
    print("%-30s %s" % (os.path.basename(f), ", ".join("%s/%s" % (d["kind"], d["metadata"]["name"]) for d in docs)))
PY
say "bootstrap ($CFG)"
cat "$CFG"
if ! out=$("$HF_BIN" -c "$CFG" --check 2>&1); then
	echo "hydrofoil refuses the bootstrap: $out"
	exit 1
fi
if ! hf_up "$NS" "$CFG" "$HF_TMP/hydrofoil.log" "$BK_ADDR/24"; then
	echo "hydrofoil did not become ready"
	exit 1
fi
if ! bk_nginx_start "$NS" "$BK"; then
	echo "the bookinfo services did not start"
	exit 1
fi
say "hydrofoil is the ingress gateway at $GW:80 (namespace $NS); bookinfo's services are nginx on $BK_ADDR"
grep '^hydrofoil:' "$HF_TMP/hydrofoil.log"
for s in "${BK_SERVERS[@]}"; do IFS=: read -r svc ver port <<<"$s"; printf '  %-18s %s\n' "$svc $ver" "$BK_ADDR:$port"; done
echo "GET /ready -> $(hf_admin "$NS" /ready); control_plane.snapshot_version: $(hf_stat "$NS" control_plane.snapshot_version)"

# ---------------------------------------------------------------- the routing table
c() { ip netns exec "$NS" curl -s --noproxy '*' --max-time 10 "$@"; }
# ask ARGS...: one request; sets CODE, TIME, BODY, HDR (response head), WHO ("service version path").
ask() {
	local out
	rm -f "$HF_TMP/hdr" "$HF_TMP/body"
	out=$(c -D "$HF_TMP/hdr" -o "$HF_TMP/body" -w '%{http_code} %{time_total}' "$@")
	CODE=${out%% *}; TIME=$(printf '%.2f' "${out#* }")
	BODY=$(cat "$HF_TMP/body" 2>/dev/null); HDR=$(tr -d '\r' < "$HF_TMP/hdr" 2>/dev/null)
	WHO=$(bk_who "$BODY")
}
absent() { local v; v=$(cat); echo "${v:-(absent)}"; }
hdr() { sed -n "s/^$1: *//Ip" <<<"$HDR" | paste -sd, - | absent; }
seen() { tr -d '\r' <<<"$BODY" | sed -n "s/^$1: *//Ip" | paste -sd, - | absent; }
answer() {
	if [ -n "$WHO" ]; then echo "$CODE $(awk '{ print $1, $2, "saw", $3 }' <<<"$WHO")"
	elif [ -n "$BODY" ]; then echo "$CODE $(head -1 <<<"$BODY" | cut -c1-50)"
	else echo "$CODE (the gateway's own answer, empty body)"; fi
}
W1=52 W2=50
row() { printf "%-${W1}s %-${W2}s %s\n" "$1" "$2" "$3"; }
line() { printf '%s\n' "$(printf '%*s' $((W1 + W2 + 50)) '' | tr ' ' -)"; }

say "requests through the gateway: the route each should take and what answered"
row "request" "route it should take" "what answered (status, service version, the path it saw)"
line
ask "http://$GW/productpage"; row "GET /productpage" "bookinfo: uri exact -> productpage:9080" "$(answer)"
ask "http://$GW/static/jquery.min.js"; row "GET /static/jquery.min.js" "bookinfo: uri prefix /static -> productpage" "$(answer)"
ask "http://$GW/login"; row "GET /login" "bookinfo: uri exact /login -> productpage" "$(answer)"
ask "http://$GW/api/v1/products/0/reviews"; row "GET /api/v1/products/0/reviews" "bookinfo: prefix /api/v1/products -> productpage" "$(answer)"
ask "http://$GW/productpage/extra"; row "GET /productpage/extra" "none (exact is exact) -> 404" "$(answer)"
ask "http://$GW/"; row "GET /" "bookinfo: redirect uri /productpage (301)" "$CODE location: $(hdr location)"
ask "http://$GW/details/0"; row "GET /details/0" "bookinfo: prefix /details -> details v1" "$(answer)"
ask -H 'Host: details.bookinfo.example' "http://$GW/anything"; row "GET /anything  Host: details.bookinfo.example" "bookinfo: authority exact -> details v1" "$(answer)"
rr=""; for i in 1 2 3 4 5 6; do ask "http://$GW/reviews/0"; rr+="${WHO:-$CODE} "; done
row "GET /reviews/0  (6 times)" "bookinfo: reviews, no subset: ROUND_ROBIN" "$(awk '{ for (i = 2; i <= NF; i += 3) printf "%s ", $i }' <<<"$rr")"
rr=""; for i in 1 2 3 4 5 6; do ask "http://$GW/ratings/0"; rr+="${WHO:-$CODE} "; done
row "GET /ratings/0  (6 times)" "bookinfo: ratings, no subset: LEAST_CONN" "$(awk '{ for (i = 2; i <= NF; i += 3) printf "%s ", $i }' <<<"$rr")"
line
echo "Host: $REVIEWS  (the VirtualService reviews-route, hosts: [reviews])"
ask -H "Host: $REVIEWS" "http://$GW/wpcatalog/7"; row "GET /wpcatalog/7" "reviews-route: rewrite /newcatalog -> v2" "$(answer)"
ask -H "Host: $REVIEWS" "http://$GW/consumercatalog/7?page=2"; row "GET /consumercatalog/7?page=2" "reviews-route: rewrite /newcatalog -> v2" "$(answer)"
ask -H "Host: $REVIEWS" "http://$GW/reviews/0"; row "GET /reviews/0" "reviews-route: default -> v1" "$(answer)"
line
echo "Host: $RATINGS  (the VirtualService ratings)"
R=(-H "Host: $RATINGS")
ask "${R[@]}" "http://$GW/ratings/0"; row "GET /ratings/0" "default -> v1" "$(answer)"
ask "${R[@]}" -H 'end-user: jason' "http://$GW/ratings/0"; row "GET /ratings/0  end-user: jason" "header end-user exact jason -> v2" "$(answer)"
ask "${R[@]}" "http://$GW/ratings/0?version=v3"; row "GET /ratings/0?version=v3" "queryParams version exact v3 -> v3" "$(answer)"
ask "${R[@]}" -X POST -d 'stars=5' "http://$GW/ratings/0"; row "POST /ratings/0" "method exact POST -> v3" "$(answer)"
ask "${R[@]}" "http://$GW/ratings/42/stars"; row "GET /ratings/42/stars" "uri regex /ratings/[0-9]+/stars -> v3" "$(answer)"
ask "${R[@]}" "http://$GW/fault/abort"; row "GET /fault/abort" "fault abort 418, 100%" "$(answer)"
ask "${R[@]}" "http://$GW/fault/delay"; row "GET /fault/delay" "fault delay 1s, 100% -> v1" "$(answer) after ${TIME} s"
n503=0 n200=0; for i in $(seq 20); do ask "${R[@]}" "http://$GW/fault/abort-half"; [ "$CODE" = 503 ] && n503=$((n503 + 1)); [ "$CODE" = 200 ] && n200=$((n200 + 1)); done
row "GET /fault/abort-half  (20 times)" "fault abort 503, 50% -> v1" "$n503 x 503 (aborted), $n200 x 200"
tag=demo-$RANDOM
ask "${R[@]}" "http://$GW/flaky?t=$tag"; row "GET /flaky  (nginx always 503s there)" "retries attempts 2, retryOn 5xx -> v1" "$CODE after $TIME s; ratings v1 got $(bk_count "$BK" ratings v1 "t=$tag") attempts"
ask "${R[@]}" "http://$GW/slow"; row "GET /slow  (nginx answers after 2 s)" "timeout 0.5s -> v1" "$CODE $(head -1 <<<"$BODY" | cut -c1-40) after $TIME s"
ask "${R[@]}" "http://$GW/mirror/1?t=$tag"; sleep 0.3
row "GET /mirror/1" "v1, mirror to ratings-mirror 100%" "$(answer); the mirror's log: $(grep -F "t=$tag" "$(bk_log "$BK" ratings-mirror v1)" | awk '{ print $2, $3, $4 }' | head -1)"
ask "${R[@]}" -H 'x-hf-set: client' -H 'x-hf-remove: client' "http://$GW/headers"
row "GET /headers  x-hf-set: client, x-hf-remove: client" "request set/add/remove -> v1" "nginx saw x-hf-set: $(seen x-hf-set), x-hf-add: $(seen x-hf-add), x-hf-remove: $(seen x-hf-remove)"
row "" "response set/add/remove" "curl saw x-hf-resp-set: $(hdr x-hf-resp-set), x-hf-resp-add: $(hdr x-hf-resp-add), x-ratings-internal: $(hdr x-ratings-internal)"
ask "${R[@]}" "http://$GW/old"; row "GET /old" "redirect 302 to ratings.bookinfo.example" "$CODE location: $(hdr location)"
ask "${R[@]}" "http://$GW/health"; row "GET /health" "directResponse 200" "$CODE $(head -1 <<<"$BODY")"
ask "${R[@]}" -X OPTIONS -H 'Origin: https://bookinfo.example' -H 'Access-Control-Request-Method: POST' "http://$GW/cors/1"
row "OPTIONS /cors/1  (preflight, allowed origin)" "corsPolicy, answered by the gateway" "$CODE allow-origin: $(hdr access-control-allow-origin), methods: $(hdr access-control-allow-methods), max-age: $(hdr access-control-max-age)"
ask "${R[@]}" -H 'Origin: https://bookinfo.example' "http://$GW/cors/1"
row "GET /cors/1  Origin: https://bookinfo.example" "corsPolicy -> v1" "$(answer), allow-origin: $(hdr access-control-allow-origin)"
line
say "what the upstream saw for GET /wpcatalog/7 (Host: $REVIEWS, end-user: jason)"
ask -H "Host: $REVIEWS" -H 'end-user: jason' "http://$GW/wpcatalog/7"
tr -d '\r' <<<"$BODY" | sed 's/^/  /'

say "foilctl explain: the route that request gets, and why (the workers' own matchers on the live snapshot)"
ip netns exec "$NS" scripts/foilctl explain GET "http://$REVIEWS/wpcatalog/7" -H 'end-user: jason' | sed 's/^/  /'
say "foilctl proxy-config cluster (istioctl's columns, from GET /config_dump)"
ip netns exec "$NS" scripts/foilctl proxy-config cluster --name 'reviews|ratings' | sed 's/^/  /'

# ---------------------------------------------------------------- HTTPS
say "HTTPS on 443 (tls.mode SIMPLE, credentialName bookinfo-cred; curl verifies with the demo's CA)"
out=$(c --cacert "$CREDS/ca.crt" --resolve "bookinfo.example.com:443:$GW" -o "$HF_TMP/body" \
	-w '%{http_code}' https://bookinfo.example.com/productpage)
echo "GET https://bookinfo.example.com/productpage -> $out $(bk_who "$(cat "$HF_TMP/body")" | awk '{ print $1, $2 }')"
ip netns exec "$NS" openssl s_client -connect "$GW:443" -servername bookinfo.example.com \
	-CAfile "$CREDS/ca.crt" -brief </dev/null 2>&1 | grep -E 'Protocol version|Ciphersuite|Verification' | sed 's/^/  /'
echo "GET /certs (the admin API): $(hf_admin "$NS" /certs | tr -d ' \n' | grep -o '"serial_number":"[^"]*"\|"days_until_expiration":"*[0-9]*"*' | head -2 | tr '\n' ' ')"
echo "counters: tls.handshakes $(hf_stat "$NS" tls.handshakes), tls.handshakes_tls13 $(hf_stat "$NS" tls.handshakes_tls13)"

say "mutual TLS to an upstream (DestinationRule tls.mode ISTIO_MUTUAL; nginx requires a mesh client certificate)"
mkdir -p "$HF_TMP/mtls"
cat > "$HF_TMP/mtls/nginx.conf" <<NGINX
pid $HF_TMP/mtls/nginx.pid;
error_log $HF_TMP/mtls/error.log warn;
events {}
http {
    access_log off;
    client_body_temp_path $HF_TMP/mtls; proxy_temp_path $HF_TMP/mtls; fastcgi_temp_path $HF_TMP/mtls;
    uwsgi_temp_path $HF_TMP/mtls; scgi_temp_path $HF_TMP/mtls;
    server {
        listen $BK_ADDR:$MTLS_PORT ssl;
        ssl_certificate $MESH/default/bookinfo-details/cert-chain.pem;
        ssl_certificate_key $MESH/default/bookinfo-details/key.pem;
        ssl_verify_client on;
        ssl_client_certificate $MESH/root-cert.pem;
        location / { return 200 "details (mTLS): client certificate \$ssl_client_verify against the mesh root, \$ssl_protocol\n"; }
    }
}
NGINX
ip netns exec "$NS" nginx -p "$HF_TMP/mtls" -c "$HF_TMP/mtls/nginx.conf" -g 'daemon off;' >/dev/null 2>&1 &
HF_PIDS+=($!)
for _ in $(seq 50); do [ -n "$(ip netns exec "$NS" ss -Hltn "sport = :$MTLS_PORT")" ] && break; sleep 0.1; done
out=$(c -H 'Host: details-secure.example.com' -w ' -> %{http_code}' "http://$GW/")
echo "GET http://$GW/  Host: details-secure.example.com: $out"
echo "counters: tls.upstream.handshakes $(hf_stat "$NS" tls.upstream.handshakes); the gateway's identity: $(openssl x509 -in "$MESH/istio-system/istio-ingressgateway/cert-chain.pem" -noout -ext subjectAltName | tail -1 | tr -d ' ')"

# Prometheus scrapes the admin API from here on (Istio's metrics, /stats/prometheus).
cat > "$HF_TMP/prometheus.yml" <<YML
global: {scrape_interval: 1s}
scrape_configs:
- job_name: hydrofoil
  metrics_path: /stats/prometheus
  static_configs: [{targets: ["127.0.0.1:15000"]}]
YML
mkdir -p "$HF_TMP/prom"
ip netns exec "$NS" prometheus --config.file="$HF_TMP/prometheus.yml" --storage.tsdb.path="$HF_TMP/prom" \
	--web.listen-address=127.0.0.1:19090 >"$HF_TMP/prometheus.log" 2>&1 &
HF_PIDS+=($!)

# ---------------------------------------------------------------- check: policy, JWT, rate limit
# Each is an Istio resource dropped into the watched directory, live; bk_install renames it in.
apply() {
	local v
	v=$(hf_stat "$NS" control_plane.snapshot_version)
	bk_install "$1" "$ISTIO"
	for _ in $(seq 100); do [ "$(hf_stat "$NS" control_plane.snapshot_version)" != "$v" ] && break; sleep 0.1; done
}
source scripts/lib/jwt.sh
openssl ecparam -name prime256v1 -genkey -noout -out "$HF_TMP/jwt.pem" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$HF_TMP/forger.pem" 2>/dev/null
NOW=$(date +%s)
CLAIMS=$(printf '{"iss":"demo@bookinfo.example","sub":"jason","aud":"bookinfo","iat":%d,"exp":%d}' "$NOW" $((NOW + 3600)))
TOKEN=$(jwt_token ES256 "$HF_TMP/jwt.pem" demo "$CLAIMS")
FORGED=$(jwt_token ES256 "$HF_TMP/forger.pem" demo "$CLAIMS")
cat > "$HF_TMP/check.yaml" <<YAML
# ratings is read-only from outside: POST, PUT and DELETE on /ratings/... are denied.
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ratings-read-only, namespace: istio-system}
spec:
  action: DENY
  rules:
  - to: [{operation: {methods: [POST, PUT, DELETE], paths: ["/ratings/*"]}}]
---
# The products API needs a JWT from demo@bookinfo.example (ES256; the JWKS inline).
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: bookinfo-jwt, namespace: istio-system}
spec:
  jwtRules:
  - issuer: demo@bookinfo.example
    audiences: [bookinfo]
    jwks: '$(printf '{"keys":[%s]}' "$(ec_jwk "$HF_TMP/jwt.pem" demo)")'
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: products-need-jwt, namespace: istio-system}
spec:
  action: DENY
  rules:
  - from: [{source: {notRequestPrincipals: ["*"]}}]
    to: [{operation: {paths: ["/api/v1/products/*"]}}]
---
# Envoy's local rate limit on one route (istio.io's rate-limit task, per-route shape):
# reviews-any (GET /reviews/N on any host) gets 5 requests a minute.
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: reviews-any-ratelimit, namespace: istio-system}
spec:
  workloadSelector: {labels: {istio: ingressgateway}}
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: GATEWAY, listener: {filterChain: {filter: {name: envoy.filters.network.http_connection_manager}}}}
    patch:
      operation: INSERT_BEFORE
      value:
        name: envoy.filters.http.local_ratelimit
        typed_config:
          "@type": type.googleapis.com/udpa.type.v1.TypedStruct
          type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
          value: {stat_prefix: http_local_rate_limiter}
  - applyTo: HTTP_ROUTE
    match: {context: GATEWAY, routeConfiguration: {vhost: {name: "*:80", route: {name: reviews-any}}}}
    patch:
      operation: MERGE
      value:
        typed_per_filter_config:
          envoy.filters.http.local_ratelimit:
            "@type": type.googleapis.com/udpa.type.v1.TypedStruct
            type_url: type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
            value:
              stat_prefix: reviews_any
              token_bucket: {max_tokens: 5, tokens_per_fill: 5, fill_interval: 60s}
              filter_enabled: {runtime_key: rl_enabled, default_value: {numerator: 100, denominator: HUNDRED}}
              filter_enforced: {runtime_key: rl_enforced, default_value: {numerator: 100, denominator: HUNDRED}}
              enable_x_ratelimit_headers: DRAFT_VERSION_03
YAML
say "check: an AuthorizationPolicy, a RequestAuthentication (JWT) and a local rate limit, applied live"
apply "$HF_TMP/check.yaml"
B=(-H 'Host: bookinfo.example')
ask "${R[@]}" "http://$GW/ratings/0"
row "GET /ratings/0" "ratings-read-only allows reads" "$(answer)"
ask "${R[@]}" -X POST -d 'stars=1' "http://$GW/ratings/0"
row "POST /ratings/0" "ratings-read-only: 403 RBAC" "$CODE $(head -c 40 <<<"$BODY")"
ask "${B[@]}" "http://$GW/api/v1/products/1"
row "GET /api/v1/products/1, no token" "products-need-jwt: 403 RBAC" "$CODE $(head -c 40 <<<"$BODY")"
ask "${B[@]}" -H "Authorization: Bearer $TOKEN" "http://$GW/api/v1/products/1"
row "... with a valid ES256 token" "principal demo@bookinfo.example/jason" "$(answer)"
ask "${B[@]}" -H "Authorization: Bearer $FORGED" "http://$GW/api/v1/products/1"
row "... with a token signed by another key" "401, www-authenticate" "$CODE $(head -c 30 <<<"$BODY"); $(hdr www-authenticate | cut -c1-50)"
codes=""
for i in $(seq 8); do
	ask "${B[@]}" "http://$GW/reviews/$i"
	codes="$codes $CODE"
done
row "8 x GET /reviews/N (reviews-any)" "5 a minute: 5 x 200, then 429" "$codes; x-ratelimit-remaining $(hdr x-ratelimit-remaining), reset $(hdr x-ratelimit-reset) s"
echo "counters: rbac.denied $(hf_stat "$NS" rbac.denied), jwt.allowed $(hf_stat "$NS" jwt.allowed), jwt.denied.bad_signature $(hf_stat "$NS" jwt.denied.bad_signature), reviews_any.http_local_rate_limit.rate_limited $(hf_stat "$NS" reviews_any.http_local_rate_limit.rate_limited)"

# ---------------------------------------------------------------- the live shift
say "live traffic shift: reviews-route default 100% v1 -> 50% v1 / 50% v3, under wrk load"
WRK_URL="http://$GW/reviews/0"
v0=$(hf_stat "$NS" control_plane.snapshot_version)
echo "control_plane.snapshot_version before: $v0"
ulimit -n 65536 2>/dev/null || true
ip netns exec "$NS" wrk -t2 -c32 -d16s --timeout 5s -H "Host: $REVIEWS" "$WRK_URL" > "$HF_TMP/wrk.out" 2>&1 &
WRK_PID=$!
HF_PIDS+=("$WRK_PID")
logs() { local v; for v in v1 v2 v3; do wc -l < "$(bk_log "$BK" reviews "$v")"; done | paste -sd' ' -; }
read -r s1 s2 s3 <<<"$(logs)"
split() { # N: N requests with curl; prints "v1 a  v2 b  v3 c  other d"
	local args=() i
	for i in $(seq "$1"); do args+=(-o /dev/null "$WRK_URL"); done
	c -H "Host: $REVIEWS" -w '%{http_code} %header{x-bookinfo-server}\n' "${args[@]}" |
		awk '{ if ($1 == 200 && $2 ~ /^reviews-v[123]$/) n[substr($2, 9)]++; else n["other"]++ }
			END { printf "v1 %d  v2 %d  v3 %d  other %d\n", n["v1"], n["v2"], n["v3"], n["other"] }'
}
sleep 3
echo "before the change, 200 requests (while wrk runs):  $(split 200)"
read -r a1 a2 a3 <<<"$(logs)"
bk_reviews_route 50 0 50 > "$HF_TMP/virtual-service-reviews.yaml"
t0=$(date +%s.%N)
bk_install "$HF_TMP/virtual-service-reviews.yaml" "$ISTIO"
echo "rewrote $ISTIO/virtual-service-reviews.yaml: the default route now has"
sed -n '/name: default/,$p' "$ISTIO/virtual-service-reviews.yaml" | sed 's/^/    /'
v=$v0
for _ in $(seq 100); do
	v=$(hf_stat "$NS" control_plane.snapshot_version)
	[ "${v:-0}" != "$v0" ] && break
	sleep 0.05
done
echo "the new snapshot (version $v) was serving within $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms"
read -r b1 b2 b3 <<<"$(logs)"
echo "after the change, 200 requests (while wrk runs):   $(split 200)"
wait "$WRK_PID"
read -r e1 e2 e3 <<<"$(logs)"
echo "wrk's requests as reviews' access logs counted them:"
printf '  %-44s v1 %6d  v2 %6d  v3 %6d\n' "before the change" $((a1 - s1)) $((a2 - s2)) $((a3 - s3))
printf '  %-44s v1 %6d  v2 %6d  v3 %6d\n' "file renamed -> new snapshot seen" $((b1 - a1)) $((b2 - a2)) $((b3 - a3))
printf '  %-44s v1 %6d  v2 %6d  v3 %6d\n' "after it, until wrk ended" $((e1 - b1)) $((e2 - b2)) $((e3 - b3))
say "wrk -t2 -c32 -d16s on $WRK_URL (Host: $REVIEWS) across the change"
grep -E 'Requests/sec|Latency|requests in|Non-2xx|Socket errors' "$HF_TMP/wrk.out"
non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$HF_TMP/wrk.out")
sock=$(sed -n 's/^ *Socket errors: *//p' "$HF_TMP/wrk.out")
echo "non-2xx: ${non2xx:-0}; socket errors: ${sock:-0}"
echo "control_plane.snapshot_version: before $v0, after $(hf_stat "$NS" control_plane.snapshot_version)"

say "Prometheus (scraping GET /stats/prometheus every second): PromQL over what the demo sent"
promql() {
	ip netns exec "$NS" curl -s --max-time 5 -G http://127.0.0.1:19090/api/v1/query --data-urlencode "query=$1" |
		/usr/bin/python3 -c 'import json, sys
for r in json.load(sys.stdin).get("data", {}).get("result", []):
    if r["value"][1] == "NaN":
        continue  # no request to it in the window
    m = r["metric"]
    print("  %-45s %-5s %s" % (m.get("destination_service", ""), m.get("response_code", ""), r["value"][1]))' 2>/dev/null
}
sleep 2	# one more scrape after the last request
echo "sum by (destination_service, response_code) (istio_requests_total):"
promql 'sum by (destination_service, response_code) (istio_requests_total)'
echo "histogram_quantile(0.99, rate(istio_request_duration_milliseconds_bucket[1m])) by destination, in ms:"
promql 'histogram_quantile(0.99, sum by (destination_service, le) (rate(istio_request_duration_milliseconds_bucket[1m])))'

say "counters (GET /stats: http and control_plane, non-zero)"
hf_admin "$NS" /stats | grep -E '^(http\.|control_plane\.)' | grep -v ': 0$'
say "hydrofoil's log (not the access log)"
grep -v '^\[' "$HF_TMP/hydrofoil.log" | grep -v '^$' | tail -15
say "stopping (SIGTERM)"
kill -TERM "$HF_PID"
wait "$HF_PID"
echo "exit status $?"
