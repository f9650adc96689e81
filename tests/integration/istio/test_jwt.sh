#!/usr/bin/env bash
# RequestAuthentication end to end, as istio.io's "JWT authentication" task runs it
# against an ingress gateway: hydrofoil reads a Gateway, a VirtualService to an
# httpbin-like nginx (which echoes the headers it got) and a RequestAuthentication
# whose keys are a JWKS file (jwksUri file://) and an inline JWKS, in a private
# namespace; keys and tokens are made here by openssl (RS256 and ES256), nothing is
# fetched. Then, with curl:
#   no token → 200 (Istio: the policy only rejects invalid tokens); a valid token →
#   200, the token's header not forwarded (forwardOriginalToken false), its payload in
#   x-jwt-payload and its sub in x-jwt-sub (outputPayloadToHeader,
#   outputClaimToHeaders); "Bearer deadbeef" → 401 with Envoy's www-authenticate and
#   body; expired, not yet valid, unknown issuer, bad signature → 401 with Envoy's
#   words; wrong audience → 403 (Envoy's code for it); the access_token query
#   parameter → the same; each outcome's jwt.* counter; the access log's 401 line
#   with Envoy's response code details; the JWKS file rotated to a new key →
#   reloaded, the old key's token refused, the new one's accepted; SIGTERM → 0.
# And the worker's cache of verified tokens: the same token twice on one connection is
# found in it the second time (jwt.cache.hit +1, 200); a token cached within the clock
# skew past its exp is refused (401, expired) on that connection once the skew is past.
# A validly signed sub holding CRLF is not written into x-jwt-sub (no header injection).
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

GW=198.51.100.2
UP=198.51.100.1
PORT=8000
ISTIO=$HF_TMP/istio
KEYS=$HF_TMP/keys
ALOG=$HF_TMP/access.log
LOG=$HF_TMP/hf.log
ISS=testing@secure.istio.io
mkdir -p "$ISTIO" "$KEYS" "$HF_TMP/nginx"

# ---------------------------------------------------------------- keys and tokens (openssl)
source "$HF_ROOT/scripts/lib/jwt.sh"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEYS/rsa.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEYS/rsa2.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEYS/other.pem" 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$KEYS/ec.pem" 2>/dev/null
printf '{"keys":[%s]}' "$(rsa_jwk "$KEYS/rsa.pem" k1)" > "$KEYS/jwks.json"
EC_JWKS=$(printf '{"keys":[%s]}' "$(ec_jwk "$KEYS/ec.pem" e1)")
NOW=$(date +%s)
claims() { printf '{"iss":"%s","sub":"%s","aud":"%s","iat":%d,"exp":%d%s}' "$1" "$2" "$3" "$NOW" "$4" "${5:-}"; }
VALID=$(jwt_token RS256 "$KEYS/rsa.pem" k1 "$(claims "$ISS" alice bookstore $((NOW + 3600)) ',"groups":["dev"]')")
EXPIRED=$(jwt_token RS256 "$KEYS/rsa.pem" k1 "$(claims "$ISS" alice bookstore $((NOW - 3600)))")
FUTURE=$(jwt_token RS256 "$KEYS/rsa.pem" k1 "$(claims "$ISS" alice bookstore $((NOW + 7200)) ",\"nbf\":$((NOW + 3600))")")
UNKNOWN=$(jwt_token RS256 "$KEYS/rsa.pem" k1 "$(claims other@example alice bookstore $((NOW + 3600)))")
FORGED=$(jwt_token RS256 "$KEYS/other.pem" k1 "$(claims "$ISS" mallory bookstore $((NOW + 3600)))")
WRONG_AUD=$(jwt_token RS256 "$KEYS/rsa.pem" k1 "$(claims "$ISS" alice zoo $((NOW + 3600)))")
EC_VALID=$(jwt_token ES256 "$KEYS/ec.pem" e1 "$(claims ec@example bob petstore $((NOW + 3600)))")
ROTATED=$(jwt_token RS256 "$KEYS/rsa2.pem" k2 "$(claims "$ISS" carol bookstore $((NOW + 3600)))")

# ---------------------------------------------------------------- configuration
cat > "$ISTIO/gateway.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: httpbin-gateway
  namespace: istio-system
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: httpbin
  namespace: foo
spec:
  hosts: [httpbin.foo.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {number: 8000, name: http, protocol: HTTP}
  endpoints:
  - address: $UP
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: httpbin
  namespace: foo
spec:
  hosts: ["*"]
  gateways: [istio-system/httpbin-gateway]
  http:
  - route:
    - destination: {host: httpbin.foo.svc.cluster.local, port: {number: 8000}}
YAML
cat > "$ISTIO/jwt.yaml" <<YAML
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt-example
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  jwtRules:
  - issuer: "$ISS"
    jwksUri: "file://$KEYS/jwks.json"
    audiences: [bookstore]
    outputPayloadToHeader: x-jwt-payload
    outputClaimToHeaders:
    - header: x-jwt-sub
      claim: sub
  - issuer: "ec@example"
    jwks: '$EC_JWKS'
YAML
# nginx as httpbin's /headers: the fields it received, echoed back
cat > "$HF_TMP/nginx.conf" <<NGX
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log $HF_TMP/nginx-access.log;
    client_body_temp_path $HF_TMP/nginx/body;
    proxy_temp_path $HF_TMP/nginx/proxy;
    fastcgi_temp_path $HF_TMP/nginx/fastcgi;
    uwsgi_temp_path $HF_TMP/nginx/uwsgi;
    scgi_temp_path $HF_TMP/nginx/scgi;
    server {
        listen $UP:$PORT;
        location / {
            default_type text/plain;
            return 200 "authorization=[\$http_authorization]\npayload=[\$http_x_jwt_payload]\nsub=[\$http_x_jwt_sub]\ninjected=[\$http_x_injected]\n";
        }
    }
}
NGX

NS=$(hf_ns_new jwt) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
hf_cfg "$HF_TMP/hf.cfg" hf0 "$GW/24" "$UP" "config: { istio_dir = \"$ISTIO\"; };
access_log = \"$ALOG\";"
if ! out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1); then
	hf_not_ok "bootstrap and Istio directory accepted by --check ($out)"
	exit 1
fi
hf_ok "bootstrap and Istio directory (RequestAuthentication) accepted by --check"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$LOG" "$UP/24"; then
	hf_not_ok "hydrofoil reports LIVE"
	exit 1
fi
hf_ok "hydrofoil reports LIVE"
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' &
HF_PIDS+=($!)
for _ in $(seq 50); do
	ip netns exec "$NS" curl -s -o /dev/null "http://$UP:$PORT/" && break
	sleep 0.1
done

# ---------------------------------------------------------------- helpers
st() { hf_stat "$NS" "$1"; }
# req ARGS...: one request through the gateway; sets CODE, BODY, HDR.
req() {
	rm -f "$HF_TMP/hdr" "$HF_TMP/body"
	CODE=$(ip netns exec "$NS" curl -sS --noproxy '*' --max-time 10 -D "$HF_TMP/hdr" \
		-o "$HF_TMP/body" -w '%{http_code}' "$@" 2>>"$HF_TMP/curl.err")
	BODY=$(tr -d '\r' < "$HF_TMP/body" 2>/dev/null)
	HDR=$(tr -d '\r' < "$HF_TMP/hdr" 2>/dev/null)
}
hdr() { sed -n "s/^$1: *//Ip" <<<"$HDR"; }
G=http://$GW
# refused DESC TOKEN CODE BODY: the token in Authorization is answered CODE with BODY
# and Envoy's www-authenticate, and never reaches nginx.
refused() {
	local before after
	before=$(grep -c . "$HF_TMP/nginx-access.log" 2>/dev/null)
	req -H "Authorization: Bearer $2" "$G/headers"
	after=$(grep -c . "$HF_TMP/nginx-access.log" 2>/dev/null)
	hf_check "$1 → $CODE '$BODY' (want $3 '$4')" test "$CODE" = "$3" -a "$BODY" = "$4"
	hf_check "$1: www-authenticate '$(hdr www-authenticate)'" \
		test "$(hdr www-authenticate)" = "Bearer realm=\"http://$GW/headers\", error=\"invalid_token\""
	hf_check "$1: not forwarded (nginx's requests $before → $after)" test "$before" = "$after"
}

# ---------------------------------------------------------------- the task's results
req "$G/headers"
hf_check "no token → $CODE (want 200: RequestAuthentication alone lets it through)" test "$CODE" = 200
req -H "Authorization: Bearer $VALID" "$G/headers"
hf_check "valid RS256 token → $CODE (want 200)" test "$CODE" = 200
hf_check "the token's header is not forwarded: nginx saw '$(sed -n 's/^authorization=//p' <<<"$BODY")'" \
	grep -qx 'authorization=\[\]' <<<"$BODY"
PAYLOAD=$(cut -d. -f2 <<<"$VALID")
hf_check "outputPayloadToHeader: nginx saw x-jwt-payload = the token's payload section" \
	grep -qxF "payload=[$PAYLOAD]" <<<"$BODY"
hf_check "outputClaimToHeaders: nginx saw x-jwt-sub '$(sed -n 's/^sub=//p' <<<"$BODY")' (want [alice])" \
	grep -qx 'sub=\[alice\]' <<<"$BODY"
req -H "Authorization: Bearer $EC_VALID" "$G/headers"
hf_check "valid ES256 token of the second rule (inline jwks) → $CODE (want 200)" test "$CODE" = 200
req "$G/headers?access_token=$VALID"
hf_check "valid token in the access_token parameter → $CODE (want 200)" test "$CODE" = 200
req "$G/headers?access_token=$EXPIRED"
hf_check "expired token in the access_token parameter → $CODE (want 401)" test "$CODE" = 401
req -H "X-Jwt-Payload: forged" -H "Authorization: Bearer $VALID" "$G/headers"
hf_check "a client's own x-jwt-payload is replaced" grep -qxF "payload=[$PAYLOAD]" <<<"$BODY"

refused "Bearer deadbeef (the task's invalid token)" deadbeef 401 \
	"Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"
refused "expired token" "$EXPIRED" 401 "Jwt is expired"
refused "token not yet valid (nbf in an hour)" "$FUTURE" 401 "Jwt not yet valid"
refused "token of an issuer no rule has" "$UNKNOWN" 401 "Jwt issuer is not configured"
refused "token signed by another key" "$FORGED" 401 "Jwt verification fails"
refused "token for another audience" "$WRONG_AUD" 403 "Audiences in Jwt are not allowed"
# the valid token's header and signature around a payload whose sub was changed
tampered="${VALID%%.*}.$(claims "$ISS" mallory bookstore $((NOW + 3600)) ',"groups":["dev"]' | b64url).${VALID##*.}"
refused "token whose payload was changed after signing" "$tampered" 401 "Jwt verification fails"

# ---------------------------------------------------------------- counters and the access log
c() { echo "$1=$(st "jwt.$1")"; }
got="$(c no_token) $(c allowed) $(c denied.bad_format) $(c denied.expired) $(c denied.not_yet_valid) $(c denied.unknown_issuer) $(c denied.bad_signature) $(c denied.audience)"
hf_check "counters: $got" test "$got" = \
	"no_token=1 allowed=4 denied.bad_format=1 denied.expired=2 denied.not_yet_valid=1 denied.unknown_issuer=1 denied.bad_signature=2 denied.audience=1"
for _ in $(seq 30); do grep -q 'Jwt_is_expired' "$ALOG" 2>/dev/null && break; sleep 0.1; done
hf_check "the access log shows the 401 with Envoy's details: $(grep -m1 'Jwt_is_expired' "$ALOG" | cut -c1-120)" \
	grep -q '" 401 - jwt_authn_access_denied{Jwt_is_expired} ' "$ALOG"

# ---------------------------------------------------------------- a claim that is no field value
# A validly signed token whose sub holds CRLF and a field line ("\r\n" in its JSON): written
# as x-jwt-sub it would give nginx an X-Injected field of the token holder's making. It is
# not written (jwt.drop.claim_not_field_value +1), and the client's own X-Jwt-Sub goes too.
INJECT=$(jwt_token RS256 "$KEYS/rsa.pem" k1 "$(claims "$ISS" 'alice\r\nX-Injected: 1' bookstore $((NOW + 3600)))")
i0=$(st jwt.drop.claim_not_field_value)
req -H "Authorization: Bearer $INJECT" -H "X-Jwt-Sub: forged" "$G/headers"
hf_check "a sub with CRLF in it → $CODE, nginx saw $(grep -E '^(sub|injected)=' <<<"$BODY" | tr '\n' ' ')(want 200, no x-jwt-sub, no x-injected), jwt.drop.claim_not_field_value +$(( $(st jwt.drop.claim_not_field_value) - i0 ))" \
	test "$CODE" = 200 -a "$(grep -cx -e 'sub=\[\]' -e 'injected=\[\]' <<<"$BODY")" = 2 \
	-a "$(( $(st jwt.drop.claim_not_field_value) - i0 ))" = 1

# ---------------------------------------------------------------- the worker's token cache
# The same token twice on one connection (one worker: the cache is per worker): the
# second is answered from the cache (jwt.cache.hit +1) and passes. A fresh token, so no
# earlier request of this test put it in a cache.
T0=$(date +%s)
CACHED=$(jwt_token ES256 "$KEYS/ec.pem" e1 "$(claims ec@example cached petstore $((T0 + 3600)))")
h0=$(st jwt.cache.hit)
codes=$(ip netns exec "$NS" curl -sS --noproxy '*' --max-time 10 -o /dev/null -o /dev/null \
	-w '%{http_code} ' \
	-H "Authorization: Bearer $CACHED" "$G/headers" "$G/headers" 2>>"$HF_TMP/curl.err")
h1=$(st jwt.cache.hit)
hf_check "the same token twice on one connection → '${codes% }' (want '200 200'), jwt.cache.hit $h0 → $h1 (want +1)" \
	test "${codes% }" = "200 200" -a "$((h1 - h0))" = 1
# A token past its exp but within Envoy's 60 s clock skew: good (verified, then found in
# the cache); once exp + 60 s are past, the same token on the same connection (the
# worker that cached it) is 401 "Jwt is expired": the cache checks exp on every hit.
T0=$(date +%s)
EXP=$((T0 - 45))
LATE=$(jwt_token ES256 "$KEYS/ec.pem" e1 "$(claims ec@example late petstore "$EXP")")
h0=$(st jwt.cache.hit)
ip netns exec "$NS" /usr/bin/python3 - "$GW" "$LATE" "$HF_TMP/late.step" "$HF_TMP/late.go" \
	> "$HF_TMP/late.out" 2>&1 <<'PY' &
import http.client, os, sys, time
gw, tok, step, go = sys.argv[1:5]
c = http.client.HTTPConnection(gw, 80, timeout=10)
def get():
    c.request("GET", "/headers", headers={"Authorization": "Bearer " + tok})
    r = c.getresponse()
    return r.status, r.read().decode().strip()
a, b = get(), get()
print(a[0], b[0], int(time.time()), flush=True)
open(step, "w").close()
for _ in range(1200):
    if os.path.exists(go):
        break
    time.sleep(0.1)
s, body = get()
print(s, body, flush=True)
PY
late=$!
HF_PIDS+=("$late")
for _ in $(seq 300); do [ -e "$HF_TMP/late.step" ] && break; sleep 0.1; done
h1=$(st jwt.cache.hit)
read -r c1 c2 t2 < <(head -1 "$HF_TMP/late.out")
if [ "${t2:-0}" -gt $((EXP + 60)) ]; then
	# the machine took longer than the skew to send two requests: nothing to check
	hf_skip "a token within the clock skew found in the cache: its second request came at $t2, past exp + 60 = $((EXP + 60))"
else
	hf_check "a token 45 s past exp (within the 60 s skew) twice → '${c1:-} ${c2:-}' (want '200 200'), jwt.cache.hit $h0 → $h1 (want +1)" \
		test "${c1:-} ${c2:-}" = "200 200" -a "$((h1 - h0))" = 1
fi
while [ "$(date +%s)" -le $((EXP + 61)) ]; do sleep 0.5; done
touch "$HF_TMP/late.go"
wait "$late"
last=$(sed -n 2p "$HF_TMP/late.out")
hf_check "the cached token once exp + 60 s are past, same connection → '$last' (want '401 Jwt is expired')" \
	test "$last" = "401 Jwt is expired"

# ---------------------------------------------------------------- the JWKS file rotates
v0=$(st control_plane.snapshot_version)
printf '{"keys":[%s]}' "$(rsa_jwk "$KEYS/rsa2.pem" k2)" > "$KEYS/jwks.new"
mv -f "$KEYS/jwks.new" "$KEYS/jwks.json"
for _ in $(seq 50); do
	[ "$(st control_plane.snapshot_version)" != "$v0" ] && break
	sleep 0.1
done
v1=$(st control_plane.snapshot_version)
hf_check "the JWKS file rotated: a new snapshot ($v0 → $v1)" test "$v1" != "$v0"
req -H "Authorization: Bearer $ROTATED" "$G/headers"
hf_check "the new key's token → $CODE (want 200)" test "$CODE" = 200
req -H "Authorization: Bearer $VALID" "$G/headers"
hf_check "the old key's token → $CODE '$BODY' (want 401 'Jwks doesn't have key to match kid or alg from Jwt')" \
	test "$CODE" = 401 -a "$BODY" = "Jwks doesn't have key to match kid or alg from Jwt"

hf_check_stop
hf_done
