#!/usr/bin/env bash
# AuthorizationPolicy on the mTLS peer: hydrofoil as an Istio ingress gateway with two HTTPS
# servers (tls.mode MUTUAL, told apart by SNI) whose client CA is a mesh root
# (scripts/meshca.sh), clients presenting workload certificates of that mesh (SPIFFE IDs
# spiffe://cluster.local/ns/NS/sa/SA), curl as the client. The routes are directResponse.
#
# Checks what Istio's principals, namespaces and connection.sni mean at a gateway:
# principals are the SPIFFE ID without "spiffe://"; namespaces its /ns/ part; a TLS 1.2
# resumed session keeps its principal; connection.sni is the client's server_name; the
# same policies on a plaintext port see no principal (notPrincipals ["*"] denies it).
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

OUR=198.51.100.2
PEER=198.51.100.1
CERTS=$HF_TMP/certs
MESH=$HF_TMP/mesh
ISTIO=$HF_TMP/istio
ALOG=$HF_TMP/access.log

"$HF_ROOT/scripts/mkcert.sh" ca "$CERTS" &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" m-cred m.example.com &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" b-cred blocked.example.com &&
	"$HF_ROOT/scripts/meshca.sh" root "$MESH" cluster.local &&
	"$HF_ROOT/scripts/meshca.sh" workload "$MESH" frontend web &&
	"$HF_ROOT/scripts/meshca.sh" workload "$MESH" other bot
# client certificates are checked against the mesh root
cp "$MESH/root-cert.pem" "$CERTS/m-cred/ca.crt"
cp "$MESH/root-cert.pem" "$CERTS/b-cred/ca.crt"
hf_check "server certificates (mkcert.sh) and two workload identities (meshca.sh) made" \
	test -s "$MESH/frontend/web/cert-chain.pem" -a -s "$MESH/other/bot/cert-chain.pem" \
	-a -s "$CERTS/b-cred/tls.crt"

mkdir -p "$ISTIO"
cat > "$ISTIO/gateway.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 443, name: https-m, protocol: HTTPS}
    hosts: ["m.example.com"]
    tls: {mode: MUTUAL, credentialName: m-cred}
  - port: {number: 443, name: https-b, protocol: HTTPS}
    hosts: ["blocked.example.com"]
    tls: {mode: MUTUAL, credentialName: b-cred}
  - port: {number: 8080, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: all, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - directResponse: {status: 200, body: {string: "hello"}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: web-only, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  rules:
  - from:
    - source: {principals: ["cluster.local/ns/frontend/sa/web"]}
    to:
    - operation: {paths: ["/web/*"]}
  - from:
    - source: {namespaces: ["other"]}
    to:
    - operation: {paths: ["/other/*"]}
  - to:
    - operation: {paths: ["/public/*", "/mtls-only/*"]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-blocked-sni, namespace: istio-system}
spec:
  action: DENY
  rules:
  - when:
    - key: connection.sni
      values: ["blocked.example.com"]
  - from:
    - source: {notPrincipals: ["*"]}
    to:
    - operation: {paths: ["/mtls-only/*"]}
YAML

NS=$(hf_ns_new azmtls) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; credentials_dir = \"$CERTS\"; };
access_log = \"$ALOG\";"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with MUTUAL servers and AuthorizationPolicies reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with MUTUAL servers and AuthorizationPolicies reports LIVE"

in_ns() { ip netns exec "$NS" "$@"; }
CURL=(curl -sS --noproxy '*' --max-time 10 --cacert "$CERTS/ca.crt")
# get HOST WHO PATH [curl args...]: the status of GET https://HOST/PATH with WHO's certificate
get() {
	local host=$1 who=$2 path=$3
	shift 3
	in_ns "${CURL[@]}" --resolve "$host:443:$OUR" --cert "$MESH/$who/cert-chain.pem" \
		--key "$MESH/$who/key.pem" "$@" -o /dev/null -w '%{http_code}' "https://$host$path" \
		2>>"$HF_TMP/curl.err"
}
expect() {
	local desc=$1 want=$2 got
	shift 2
	got=$(get "$@")
	hf_check "$desc → $got (want $want)" test "$got" = "$want"
}
WEB=frontend/web
BOT=other/bot

expect "principals: frontend/web GET /web/x" 200 m.example.com "$WEB" /web/x
expect "principals: other/bot GET /web/x" 403 m.example.com "$BOT" /web/x
expect "namespaces: other/bot GET /other/x" 200 m.example.com "$BOT" /other/x
expect "namespaces: frontend/web GET /other/x" 403 m.example.com "$WEB" /other/x
expect "no rule: frontend/web GET /admin" 403 m.example.com "$WEB" /admin
expect "principals over TLS 1.2" 200 m.example.com "$WEB" /web/x --tlsv1.2 --tls-max 1.2
expect "connection.sni: blocked.example.com, frontend/web GET /web/x" 403 blocked.example.com "$WEB" /web/x
expect "connection.sni: m.example.com, frontend/web GET /public/x" 200 m.example.com "$WEB" /public/x
expect "notPrincipals [*] over mTLS: the DENY does not match, GET /mtls-only/x" 200 m.example.com "$WEB" /mtls-only/x
got=$(in_ns curl -sS --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}' \
	"http://$OUR:8080/mtls-only/x" 2>>"$HF_TMP/curl.err")
hf_check "notPrincipals [*] on the plaintext port: the DENY matches, GET /mtls-only/x → $got (want 403)" test "$got" = 403
got=$(in_ns curl -sS --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}' \
	"http://$OUR:8080/public/x" 2>>"$HF_TMP/curl.err")
hf_check "plaintext port, no principal: GET /public/x → $got (want 200)" test "$got" = 200
got=$(in_ns curl -sS --noproxy '*' --max-time 10 -o /dev/null -w '%{http_code}' \
	"http://$OUR:8080/web/x" 2>>"$HF_TMP/curl.err")
hf_check "plaintext port, no principal: GET /web/x → $got (want 403)" test "$got" = 403
# a resumed TLS 1.2 session (no certificate sent again) keeps its principal
sess=$HF_TMP/sess.pem
for i in 1 2; do
	if [ "$i" = 1 ]; then io=(-sess_out "$sess"); else io=(-sess_in "$sess"); fi
	out=$(printf 'GET /web/r HTTP/1.1\r\nHost: m.example.com\r\nConnection: close\r\n\r\n' |
		in_ns timeout 10 openssl s_client -connect "$OUR:443" -servername m.example.com \
		-tls1_2 -cert "$MESH/$WEB/cert-chain.pem" -key "$MESH/$WEB/key.pem" \
		-CAfile "$CERTS/ca.crt" "${io[@]}" -ign_eof 2>/dev/null)
	status=$(grep -m1 '^HTTP/1.1' <<<"$out" | tr -d '\r')
	reused=$(grep -c '^Reused' <<<"$out")
	hf_check "s_client #$i (TLS 1.2, reused: $reused): GET /web/r → '$status' (want 200)" \
		bash -c '[[ "$1" == "HTTP/1.1 200"* ]] && [ "$2" -eq "$3" ]' _ "$status" "$reused" "$((i - 1))"
done

hf_check_stop
hf_done
