#!/usr/bin/env bash
# The ADS channel over TLS with the node's mesh identity (istiod's 15012 style): the management
# server (tests/xds/server.js on grpc-js ServerCredentials.createSsl) serves with a certificate
# for spiffe://cluster.local/ns/istio-system/sa/istiod from the mesh CA (scripts/meshca.sh) and
# requires client certificates of that CA; hydrofoil's bootstrap says xds.tls = true,
# xds.tls_san = that SPIFFE ID, and holds an identity block (sa istio-ingressgateway).
#
# Checks: bad settings are refused by --check with a specific message (tls not a boolean,
# tls_san without tls, tls without an identity block); hydrofoil connects over TLS, syncs and
# serves (mTLS: the server saw the node's SPIFFE identity in its client certificate); the
# server restarted with a certificate from another CA is refused (xds.tls.verify_errors rises,
# a log line says why) while the last good configuration keeps serving; so is a server of
# the right CA whose certificate lacks the expected SAN; the right server back, it resyncs.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$(dirname "$0")/xds_lib.sh"

MESH=$HF_TMP/mesh
OTHER=$HF_TMP/other
{ "$HF_ROOT/scripts/meshca.sh" root "$MESH" &&
	"$HF_ROOT/scripts/meshca.sh" workload "$MESH" istio-system istio-ingressgateway &&
	"$HF_ROOT/scripts/meshca.sh" workload "$MESH" istio-system istiod &&
	"$HF_ROOT/scripts/meshca.sh" workload "$MESH" istio-system impostor &&
	"$HF_ROOT/scripts/meshca.sh" root "$OTHER" &&
	"$HF_ROOT/scripts/meshca.sh" workload "$OTHER" istio-system istiod; } >/dev/null 2>&1 ||
	{ hf_not_ok "meshca.sh: the roots and workloads"; exit 1; }
GW=$MESH/istio-system/istio-ingressgateway
ISTIOD=spiffe://cluster.local/ns/istio-system/sa/istiod
IDENTITY="identity = { trust_domain = \"cluster.local\"; namespace = \"istio-system\";
  service_account = \"istio-ingressgateway\"; cert_chain = \"$GW/cert-chain.pem\";
  key = \"$GW/key.pem\"; root_cert = \"$MESH/root-cert.pem\"; };"

# ------------------------------------------------------------------ bootstrap refusals
# refused XDS_EXTRA REST WANT DESC: --check of a bootstrap whose xds block adds XDS_EXTRA (and
# REST after it) exits 2 with WANT in its message
refused() {
	local out rc
	hf_cfg "$HF_TMP/bad.cfg" hf0 "$OUR/24" "$PEER" "xds = { address = \"127.0.0.1\"; port = 15012; $1
  node_id = \"router~$OUR~gw-0.istio-system~istio-system.svc.cluster.local\"; };
$2"
	out=$("$HF_BIN" -c "$HF_TMP/bad.cfg" --check 2>&1)
	rc=$?
	hf_check "$4: --check exit $rc, '$(grep -F -- "$3" <<<"$out" | head -1 | cut -c1-150)'" \
		bash -c '[ "$1" = 2 ] && grep -qF -- "$3" <<<"$2"' _ "$rc" "$out" "$3"
}
refused 'tls = "yes";' "$IDENTITY" "xds.tls: must be true or false" "xds.tls not a boolean is refused"
refused "tls_san = \"$ISTIOD\";" "$IDENTITY" "xds.tls_san: set without xds.tls = true" \
	"xds.tls_san without xds.tls is refused"
refused "tls = true;" "" "xds.tls: true needs the node's mesh identity" \
	"xds.tls without an identity block is refused"

# ------------------------------------------------------------------ mTLS sync
clusters "$(eds_cluster web)" "$(static_cluster web-b 9102)"
endpoints web 9101
routes "$(route_config http.80)"
listeners "$(http_listener 80)"
XDS_SERVER_ARGS=(--tls-cert "$MESH/istio-system/istiod/cert-chain.pem"
	--tls-key "$MESH/istio-system/istiod/key.pem" --tls-ca "$MESH/root-cert.pem")
XDS_EXTRA_CFG=$IDENTITY
xds_setup xdstls "tls = true; tls_san = \"$ISTIOD\"; initial_fetch_timeout_ms = 5000;"

plain() { [ "$(get "http://$OUR/")" = A ]; }
hf_check "synced over TLS: GET / reaches web (A)" wait_for 20 plain
hf_check "hydrofoil logged a TLS connection" grep -q "xds: connected to 127.0.0.1:15010 (state of the world, TLS)" "$LOG"
hf_check "the server ACKed versions of every type over it" bash -c 'for t in Cluster ClusterLoadAssignment Listener RouteConfiguration; do
	grep -F "\"event\":\"ack\"" "$1" | grep -q "\"type\":\"$t\"" || exit 1; done' _ "$SLOG"
san=$(ev stream_open | field peer_san | head -1)
hf_check "the server, requiring client certificates, saw the node's SPIFFE identity ($san)" \
	test "$san" = "URI:spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway"
v0=$(hf_stat "$NS" xds.tls.verify_errors)
hf_check "no TLS verify error so far (${v0:-none})" test "${v0:-x}" = 0

# ------------------------------------------------------------------ a server of another CA
# restart_server CERT_DIR: the server again, serving CERT_DIR's certificate
restart_server() {
	kill -TERM "$SPID" 2>/dev/null
	wait "$SPID" 2>/dev/null
	hf_forget_pid "$SPID"
	XDS_SERVER_ARGS=(--tls-cert "$1/cert-chain.pem" --tls-key "$1/key.pem" --tls-ca "$MESH/root-cert.pem")
	start_server
}
restart_server "$OTHER/istio-system/istiod" || { hf_not_ok "the server restarts"; exit 1; }
refused_ca() { [ "$(hf_stat "$NS" xds.tls.verify_errors)" -gt 0 ] 2>/dev/null; }
wait_for 15 refused_ca
hf_check "a server whose certificate comes from another CA is refused (xds.tls.verify_errors: $(
	hf_stat "$NS" xds.tls.verify_errors))" refused_ca
hf_check "… with a log line saying why" grep -q "xds: cannot reach 127.0.0.1:15010 (TLS: the server's certificate is refused: " "$LOG"
hf_check "… and the last good configuration keeps serving (A)" plain
e=$(hf_stat "$NS" xds.tls.handshake_errors)
hf_check "… counted in xds.tls.handshake_errors too ($e)" test "${e:-0}" -gt 0

restart_server "$MESH/istio-system/impostor" || { hf_not_ok "the server restarts"; exit 1; }
n0=$(grep -c "does not carry the SAN" "$LOG")
wrong_san() { [ "$(grep -c "does not carry the SAN '$ISTIOD' (xds.tls_san)" "$LOG")" -gt "$n0" ]; }
hf_check "a server of the mesh CA whose certificate is not istiod's SAN is refused" wait_for 15 wrong_san
hf_check "… the last good configuration still serving (A)" plain

o0=$(ev stream_open | wc -l)
r0=$(ev request | wc -l)
restart_server "$MESH/istio-system/istiod" || { hf_not_ok "the server restarts"; exit 1; }
# the versions held are resent: the server, on the same files, has nothing newer to send
resent() { [ "$(ev stream_open | wc -l)" -gt "$o0" ] &&
	ev request | tail -n +$((r0 + 1)) | grep '"type":"Cluster"' | grep -qv '"version":""'; }
hf_check "istiod's certificate back: hydrofoil reconnects over TLS, resending the versions it holds" \
	wait_for 20 resent
endpoints web 9102
b() { [ "$(get "http://$OUR/")" = B ]; }
hf_check "… and takes a change pushed over it (B)" wait_for 10 b

hf_check_stop
hf_done
