#!/usr/bin/env bash
# AuthorizationPolicy end to end: hydrofoil as the bookinfo ingress gateway
# (examples/bookinfo, copied as config.istio_dir) in front of bookinfo's nginx
# servers (scripts/lib/bookinfo.sh), curl as the client, policies written into
# the Istio directory while it runs (each a hot reload).
#
# Reproduces the documented results of the istio.io tasks, at the gateway:
# "Authorization for HTTP traffic" (allow-nothing denies everything, even a
# path without a route; then GET of the product page and its paths only),
# "Explicit deny" (DENY GET unless x-token: admin; with an ALLOW of one path
# beside it), "Ingress gateway" (ipBlocks on the TCP peer; remoteIpBlocks on
# X-Forwarded-For with http.xff_num_trusted_hops = 2). A `when` on a header curl
# sends twice, read as Envoy does: the fields joined with ",". Then a DENY policy added
# and removed again while it serves; a CUSTOM policy refused by name with the
# previous policies still in force; an AUDIT policy that only counts; the 403's body, response flag RBAC and
# Envoy's response code details in the access log; rbac.* counters and the
# per-policy line on /stats. SIGTERM stops it with status 0.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$HF_ROOT/scripts/lib/bookinfo.sh"
TOOL=$HF_ROOT/tests/integration/http/httptool.py

GW=$BK_GW
ISTIO=$HF_TMP/bookinfo
BK=$HF_TMP/services
ALOG=$HF_TMP/access.log
LOG=$HF_TMP/hf.log
POL=$HF_TMP/policies
mkdir -p "$POL"

NS=$(hf_ns_new authz) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
cp -r "$HF_ROOT/examples/bookinfo" "$ISTIO"
hf_cfg "$HF_TMP/hf.cfg" hf0 "$GW/24" "$BK_ADDR" "config: { istio_dir = \"$ISTIO\"; root_namespace = \"istio-system\"; };
http: { xff_num_trusted_hops = 2; };
access_log = \"$ALOG\";"
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$LOG" "$BK_ADDR/24"; then
	hf_not_ok "hydrofoil with examples/bookinfo reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with examples/bookinfo reports LIVE"
if ! bk_nginx_start "$NS" "$BK"; then
	hf_not_ok "bookinfo's nginx servers listen"
	exit 1
fi
hf_ok "bookinfo's nginx servers listen"

in_ns() { ip netns exec "$NS" "$@"; }
st() { hf_stat "$NS" "$1"; }
CURL=(curl -sS --noproxy '*' --max-time 10)
G=http://$GW
# req ARGS...: one request through the gateway; sets CODE and BODY.
req() {
	rm -f "$HF_TMP/body"
	CODE=$(in_ns "${CURL[@]}" -o "$HF_TMP/body" -w '%{http_code}' "$@" 2>>"$HF_TMP/curl.err")
	BODY=$(cat "$HF_TMP/body" 2>/dev/null)
}
# expect DESC WANT ARGS...
expect() {
	local desc=$1 want=$2
	shift 2
	req "$@"
	hf_check "$desc → $CODE (want $want)" test "$CODE" = "$want"
}
# policy NAME ACTION [BODY]: an AuthorizationPolicy of istio-system selecting the gateway.
policy() {
	cat <<YAML
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: $1
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  action: $2
${3:-}
YAML
}
# settle WHAT: waits (5 s at most) for the snapshot version or the rejected count to move.
V0=0; R0=0
mark() { V0=$(st control_plane.snapshot_version); R0=$(st control_plane.config_rejected); }
settle() {
	local i
	for i in $(seq 50); do
		[ "$(st control_plane.snapshot_version)" != "$V0" ] && return 0
		[ "$(st control_plane.config_rejected)" != "$R0" ] && return 0
		sleep 0.1
	done
	return 1
}
# put NAME: installs $POL/NAME.yaml into the Istio directory; drop NAME: removes it.
put() { mark; bk_install "$POL/$1.yaml" "$ISTIO"; settle || hf_not_ok "reload after adding $1"; }
drop() { mark; rm -f "$ISTIO/$1.yaml"; settle || hf_not_ok "reload after removing $1"; }
lg() {
	local out i
	for i in $(seq 30); do
		out=$(in_ns timeout 5 "$HF_PY" "$TOOL" log "$ALOG" "$1" 2>/dev/null) && { echo "$out"; return 0; }
		sleep 0.1
	done
	echo "$out"
}
j() { "$HF_PY" -c 'import json,sys
try: d=json.loads(sys.stdin.read().strip().splitlines()[-1])
except Exception: sys.exit(0)
try: print(eval(sys.argv[1]))
except Exception: pass' "$1" 2>/dev/null; }

expect "no policy: GET /productpage" 200 "$G/productpage"
hf_check "no policy: rbac.allowed is 0 (no check without policies)" test "$(st rbac.allowed)" = 0

# ---------------------------------------------------------------- Authorization for HTTP traffic
# istio.io's allow-nothing: no selector, no action, no rules (mesh-wide in the root namespace)
cat > "$POL/allow-nothing.yaml" <<'YAML'
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: allow-nothing
  namespace: istio-system
spec:
  {}
YAML
put allow-nothing
expect "allow-nothing: GET /productpage" 403 "$G/productpage?n=1"
hf_check "the 403's body is 'RBAC: access denied' ($BODY)" test "$BODY" = "RBAC: access denied"
expect "allow-nothing: a path without a route is denied before routing (GET /nothing-here)" 403 "$G/nothing-here"
l=$(lg "?n=1")
got=$(j 'd["code"] + " " + d["flags"] + " " + d["details"]' <<<"$l")
hf_check "access log: '$got'" test "$got" = "403 RBAC rbac_access_denied_matched_policy[none]"
# Envoy resolves the route before RBAC runs: the 403 names the route and cluster it would take.
got=$(j 'd["ucluster"] + " " + d["route"]' <<<"$l")
hf_check "… naming the cluster and route the request would have taken ($got)" \
	bash -c '[[ "$1" == outbound\|9080\|*productpage* && "$1" != *" -" ]]' _ "$got"
n=$(st rbac.denied.no_allow_match)
hf_check "rbac.denied.no_allow_match counts them ($n, want ≥ 2)" test "${n:-0}" -ge 2

policy productpage-viewer ALLOW "  rules:
  - to:
    - operation:
        methods: [\"GET\"]
        paths: [\"/productpage\", \"/static/*\", \"/api/v1/products/{*}/reviews\"]" \
	> "$POL/productpage-viewer.yaml"
put productpage-viewer
expect "productpage-viewer: GET /productpage" 200 "$G/productpage"
expect "productpage-viewer: GET /productpage?u=normal (the query is not the path)" 200 "$G/productpage?u=normal"
expect "productpage-viewer: GET /static/css/style.css" 200 "$G/static/css/style.css"
expect "productpage-viewer: GET /api/v1/products/0/reviews ({*})" 200 "$G/api/v1/products/0/reviews"
expect "productpage-viewer: GET /api/v1/products/0/1/reviews ({*} is one segment)" 403 "$G/api/v1/products/0/1/reviews"
expect "productpage-viewer: POST /productpage" 403 -X POST -d x=1 "$G/productpage"
expect "productpage-viewer: GET /details/0" 403 "$G/details/0"
expect "productpage-viewer: GET /static/../details/0 (normalized to /details/0)" 403 --path-as-is "$G/static/../details/0"
drop productpage-viewer
drop allow-nothing
expect "both removed: GET /details/0" 200 "$G/details/0"

# ---------------------------------------------------------------- Explicit deny
policy deny-method-get DENY "  rules:
  - to:
    - operation:
        methods: [\"GET\"]
    when:
    - key: request.headers[x-token]
      notValues: [\"admin\"]" > "$POL/deny-method-get.yaml"
put deny-method-get
expect "deny-method-get: GET /productpage" 403 "$G/productpage?n=2"
expect "deny-method-get: GET /productpage with x-token: admin" 200 -H 'x-token: admin' "$G/productpage"
expect "deny-method-get: GET /productpage with x-token: guest" 403 -H 'x-token: guest' "$G/productpage"
expect "deny-method-get: POST /productpage" 200 -X POST -d x=1 "$G/productpage"
l=$(lg "?n=2")
got=$(j 'd["code"] + " " + d["flags"] + " " + d["details"]' <<<"$l")
want="403 RBAC rbac_access_denied_matched_policy[ns[istio-system]-policy[deny-method-get]-rule[0]]"
hf_check "access log of the denial: '$got'" test "$got" = "$want"
policy allow-path-productpage ALLOW "  rules:
  - to:
    - operation:
        paths: [\"/productpage\"]" > "$POL/allow-path-productpage.yaml"
put allow-path-productpage
expect "with allow-path-productpage: GET /productpage, x-token: admin" 200 -H 'x-token: admin' "$G/productpage"
expect "with allow-path-productpage: GET /details/0, x-token: admin (no ALLOW matches)" 403 -H 'x-token: admin' "$G/details/0"
expect "with allow-path-productpage: GET /productpage, x-token: guest (DENY first)" 403 -H 'x-token: guest' "$G/productpage"
n=$(st rbac.policy.istio-system.deny-method-get.denied)
hf_check "/stats has the policy's own count: rbac.policy.istio-system.deny-method-get.denied $n (want 3)" test "${n:-0}" = 3
drop allow-path-productpage
drop deny-method-get

# ---------------------------------------------------------------- a header sent twice
# Envoy's RBAC reads a header sent in several fields as one value, the fields joined
# with "," in order (getAllOfHeaderAsString): curl sends x-team twice.
policy team-pair ALLOW "  rules:
  - when:
    - key: request.headers[x-team]
      values: [\"blue,green\"]" > "$POL/team-pair.yaml"
put team-pair
expect "request.headers[x-team] = 'blue,green': x-team: blue, then x-team: green" 200 \
	-H 'x-team: blue' -H 'x-team: green' "$G/productpage"
expect "… x-team: green, then x-team: blue" 403 -H 'x-team: green' -H 'x-team: blue' "$G/productpage"
expect "… x-team: blue alone" 403 -H 'x-team: blue' "$G/productpage"
expect "… x-team: blue,green in one field" 200 -H 'x-team: blue,green' "$G/productpage"
drop team-pair

# ---------------------------------------------------------------- Ingress gateway: source IPs
policy ingress-policy ALLOW "  rules:
  - from:
    - source:
        ipBlocks: [\"$BK_ADDR/32\"]" > "$POL/ingress-policy.yaml"
put ingress-policy
expect "ipBlocks [$BK_ADDR/32]: GET /productpage from $BK_ADDR" 200 "$G/productpage"
policy ingress-policy ALLOW "  rules:
  - from:
    - source:
        ipBlocks: [\"192.0.2.0/24\"]" > "$POL/ingress-policy.yaml"
put ingress-policy
expect "ipBlocks [192.0.2.0/24]: GET /productpage from $BK_ADDR" 403 "$G/productpage"
expect "ipBlocks: X-Forwarded-For does not count" 403 -H 'X-Forwarded-For: 192.0.2.9, 198.51.100.250' "$G/productpage"
policy ingress-policy ALLOW "  rules:
  - from:
    - source:
        remoteIpBlocks: [\"203.0.113.0/24\"]" > "$POL/ingress-policy.yaml"
put ingress-policy
expect "remoteIpBlocks, 2 trusted hops: X-Forwarded-For: 203.0.113.9, 192.0.2.1" 200 \
	-H 'X-Forwarded-For: 203.0.113.9, 192.0.2.1' "$G/productpage"
expect "remoteIpBlocks, 2 trusted hops: X-Forwarded-For: 203.0.113.9, 192.0.2.7, 192.0.2.1" 403 \
	-H 'X-Forwarded-For: 203.0.113.9, 192.0.2.7, 192.0.2.1' "$G/productpage"
expect "remoteIpBlocks: one entry is fewer than the trusted hops (the TCP peer counts)" 403 \
	-H 'X-Forwarded-For: 203.0.113.9' "$G/productpage"
expect "remoteIpBlocks: no X-Forwarded-For (the TCP peer counts)" 403 "$G/productpage"
drop ingress-policy

# ---------------------------------------------------------------- hot reload: a DENY added, then removed
policy deny-productpage DENY "  rules:
  - to:
    - operation:
        paths: [\"/productpage\"]" > "$POL/deny-productpage.yaml"
v=$(st control_plane.snapshot_version)
put deny-productpage
expect "DENY added live: GET /productpage" 403 "$G/productpage"
expect "DENY added live: GET /details/0 still passes" 200 "$G/details/0"

# a CUSTOM policy is refused by name, the snapshot before it keeps serving
policy ext-authz CUSTOM "  provider:
    name: my-ext-authz
  rules:
  - {}" > "$POL/ext-authz.yaml"
r=$(st control_plane.config_rejected)
put ext-authz
hf_check "the CUSTOM policy is refused (control_plane.config_rejected $r → $(st control_plane.config_rejected))" \
	test "$(st control_plane.config_rejected)" -gt "$r"
line=$(grep -F 'ext-authz' "$LOG" | tail -1)
hf_check "the refusal names the policy and the action: '$line'" \
	bash -c 'grep -q "AuthorizationPolicy istio-system/ext-authz: spec.action: CUSTOM" <<<"$1"' _ "$line"
expect "after the refused change the DENY still holds" 403 "$G/productpage"
drop ext-authz
drop deny-productpage
expect "DENY removed live: GET /productpage" 200 "$G/productpage"
hf_check "snapshot version moved with each change ($v → $(st control_plane.snapshot_version))" \
	test "$(st control_plane.snapshot_version)" -gt "$v"

# AUDIT: counted, decides nothing
policy audit-posts AUDIT "  rules:
  - to:
    - operation:
        methods: [\"POST\"]" > "$POL/audit-posts.yaml"
put audit-posts
a0=$(st rbac.audited)
expect "AUDIT alone: POST /productpage passes" 200 -X POST -d x=1 "$G/productpage"
expect "AUDIT alone: GET /productpage passes" 200 "$G/productpage"
hf_check "rbac.audited $a0 → $(st rbac.audited) (want +1), rbac.policy.istio-system.audit-posts.audited $(st rbac.policy.istio-system.audit-posts.audited) (want 1)" \
	test "$(st rbac.audited)" = $((a0 + 1)) -a "$(st rbac.policy.istio-system.audit-posts.audited)" = 1
drop audit-posts

n=$(st rbac.denied); a=$(st rbac.allowed); d=$(st rbac.denied.deny_policy)
hf_check "counters: rbac.denied $n, rbac.denied.deny_policy $d, rbac.allowed $a (all > 0)" \
	test "${n:-0}" -gt 0 -a "${d:-0}" -gt 0 -a "${a:-0}" -gt 0

hf_check_stop
hf_done
