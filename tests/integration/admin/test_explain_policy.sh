#!/usr/bin/env bash
# `foilctl explain` beyond the route: the JWT rules (where a token is found), the
# AuthorizationPolicy verdict (which policy allowed or denied) and the local rate limit
# that would apply, each computed by the data plane's own functions (hf_jwt_find,
# hf_authz_check, hf_rl_pick) on the snapshot; each prediction is held against what curl
# gets for the same request. examples/bookinfo in a private namespace, with a
# RequestAuthentication (inline JWKS), an ALLOW and a DENY AuthorizationPolicy and
# Istio's local rate limit EnvoyFilter on the gateway port.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$HF_ROOT/scripts/lib/bookinfo.sh"
FOILCTL=$HF_ROOT/scripts/foilctl

ISTIO=$HF_TMP/bookinfo
cp -r "$HF_ROOT/examples/bookinfo" "$ISTIO"
JWKS=$("$HF_PY" -c 'import json, base64
from cryptography.hazmat.primitives.asymmetric import ec
k = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
b = lambda n: base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()
print(json.dumps({"keys": [{"kty": "EC", "crv": "P-256", "kid": "e1", "alg": "ES256", "x": b(k.x), "y": b(k.y)}]}))')
cat > "$ISTIO/policy.yaml" <<YAML
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt-example, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules:
  - issuer: "issuer@example.com"
    jwks: '$JWKS'
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: deny-admin, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules:
  - to: [{operation: {paths: ["/admin*"]}}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: allow-get, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: ALLOW
  rules:
  - to: [{operation: {methods: ["GET"]}}]
---
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
          portNumber: 80
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
              token_bucket: {max_tokens: 1000, tokens_per_fill: 1000, fill_interval: 3600s}
              filter_enabled: {default_value: {numerator: 100, denominator: HUNDRED}}
              filter_enforced: {default_value: {numerator: 100, denominator: HUNDRED}}
YAML
NS=$(hf_ns_new explainpol) || { hf_not_ok "create namespace"; exit 1; }
bk_bootstrap "$HF_TMP/hf.cfg" "$ISTIO" "$HF_TMP/access.log"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$BK_ADDR/24" ||
	! bk_nginx_start "$NS" "$HF_TMP/services"; then
	hf_not_ok "hydrofoil with examples/bookinfo, a RequestAuthentication, two AuthorizationPolicies and a rate limit up"
	grep -i "reject\|error" "$HF_TMP/hf.log" | head -5
	exit 1
fi
hf_ok "hydrofoil with examples/bookinfo, a RequestAuthentication, two AuthorizationPolicies and a rate limit up"

in_ns() { ip netns exec "$NS" "$@"; }
explain() { in_ns "$HF_PY" "$FOILCTL" explain "$@"; }
code() { in_ns curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }
line() { grep "^$1: " <<<"$2" | head -1; }

out=$(explain GET http://bookinfo.example.com/productpage)
l=$(line authorization "$out")
hf_check "GET /productpage: explained '$l'" grep -q "allowed by ALLOW istio-system/allow-get" <<<"$l"
c=$(code -H "Host: bookinfo.example.com" "http://$BK_GW/productpage")
hf_check "… and curl gets $c (not 403)" test "$c" = 200
l=$(line jwt "$out")
hf_check "… jwt: no token where the rule looks ('$l')" grep -q "^jwt: no token where the rules of 1 provider look" <<<"$l"
l=$(line "rate limit" "$out")
hf_check "… rate limit: the listener's bucket of 1000 tokens ('$l')" \
	grep -q "^rate limit: the listener's bucket: 1000 tokens, 1000 every 3600000 ms" <<<"$l"

out=$(explain GET http://bookinfo.example.com/admin/x)
l=$(line authorization "$out")
hf_check "GET /admin/x: explained '$l'" grep -q "denied by DENY istio-system/deny-admin" <<<"$l"
c=$(code -H "Host: bookinfo.example.com" "http://$BK_GW/admin/x")
hf_check "… and curl gets $c" test "$c" = 403

out=$(explain POST http://bookinfo.example.com/productpage)
l=$(line authorization "$out")
hf_check "POST /productpage: explained '$l'" grep -q "denied, no ALLOW policy matched" <<<"$l"
c=$(code -X POST -H "Host: bookinfo.example.com" "http://$BK_GW/productpage")
hf_check "… and curl gets $c" test "$c" = 403

out=$(explain GET http://bookinfo.example.com/productpage -H "Authorization: Bearer abc.def.ghi")
l=$(line jwt "$out")
hf_check "a bearer token is found where the rule looks ('$l')" \
	grep -q "^jwt: a token (11 bytes) in header authorization" <<<"$l"
c=$(code -H "Host: bookinfo.example.com" -H "Authorization: Bearer abc.def.ghi" "http://$BK_GW/productpage")
hf_check "… which the workers verify: this one is invalid, curl gets $c" test "$c" = 401

hf_check_stop
hf_done
