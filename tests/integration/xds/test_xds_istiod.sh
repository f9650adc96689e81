#!/usr/bin/env bash
# istiod's gateway resources (tests/integration/xds/istiod/*.json, the shapes istiod writes:
# cluster_builder.go, cluster_tls.go, gateway.go) served by the test management server.
#
# Clusters carry istiod's auto-mTLS transport_socket_matches (tlsMode istio: an
# UpstreamTlsContext whose certificate "default" and CA "ROOTCA" come by SDS through
# sds-grpc, offering ALPN istio-peer-exchange and istio; every other endpoint: raw_buffer),
# circuit breakers, outlier detection, HttpProtocolOptions, common_lb_config and the
# istio.metadata_exchange filter; the listener on 443 has one filter chain per TLS server
# (a.example.com, b.example.com: two certificates by SDS, one RDS route table).
#
# Checks: every type is ACKed; GET / reaches the plaintext endpoint (no tlsMode) and
# GET /mtls the nginx upstream over mutual TLS (nginx verified the gateway's certificate,
# the upstream's SPIFFE SAN matched); curl --resolve with two names gets each its own
# certificate (serials) and route; /config_dump, /clusters and foilctl show the stored
# circuit breakers and outlier detection; foilctl proxy-config secret lists the secrets in
# istioctl's columns without a key; a cluster asking for HTTP/2 upstream is NACKed naming
# the field while the last good configuration serves on.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$(dirname "$0")/xds_lib.sh"

FIX=$HF_ROOT/tests/integration/xds/istiod
MESH=$HF_TMP/mesh
PKI=$HF_TMP/pki
mkdir -p "$PKI"
"$HF_ROOT/scripts/meshca.sh" root "$MESH" >/dev/null 2>&1 &&
	"$HF_ROOT/scripts/meshca.sh" workload "$MESH" istio-system gw >/dev/null 2>&1 &&
	"$HF_ROOT/scripts/meshca.sh" workload "$MESH" default web >/dev/null 2>&1 ||
	{ hf_not_ok "meshca.sh: root, gateway and upstream identities"; exit 1; }
ROOT=$MESH/root-cert.pem
GWID=$MESH/istio-system/gw
WEBID=$MESH/default/web
# mkcert NAME DNS SERIAL: $PKI/NAME.crt and .key, a server certificate for DNS from the mesh root
mkcert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$PKI/$1.key" \
		-subj "/CN=$2" -out "$PKI/$1.csr" 2>/dev/null &&
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$2" \
		> "$PKI/$1.ext" &&
	openssl x509 -req -in "$PKI/$1.csr" -CA "$ROOT" -CAkey "$MESH/root-key.pem" -set_serial "0x$3" \
		-days 2 -extfile "$PKI/$1.ext" -out "$PKI/$1.crt" 2>/dev/null
}
mkcert a a.example.com AAAA0001 && mkcert b b.example.com BBBB0002 ||
	{ hf_not_ok "server certificates for a.example.com and b.example.com"; exit 1; }

# The Secrets istiod (through its agent) serves: the node's identity, the mesh root and a
# gateway's kubernetes:// credentials.
"$HF_PY" - "$GWID" "$ROOT" "$PKI" <<'PY' | put secrets.json
import json, sys
gw, root, pki = sys.argv[1:4]
T = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
def cert(name, crt, key):
    return {"@type": T, "name": name, "tls_certificate": {
        "certificate_chain": {"inline_string": open(crt).read()},
        "private_key": {"inline_string": open(key).read()}}}
print(json.dumps({"resources": [
    cert("default", gw + "/cert-chain.pem", gw + "/key.pem"),
    {"@type": T, "name": "ROOTCA", "validation_context": {"trusted_ca": {"inline_string": open(root).read()}}},
    cert("kubernetes://a-cred", pki + "/a.crt", pki + "/a.key"),
    cert("kubernetes://b-cred", pki + "/b.crt", pki + "/b.key")]}))
PY
for f in clusters endpoints listeners routes; do put "$f.json" < "$FIX/$f.json"; done

# The upstream of web-mtls: a sidecar's inbound mTLS, the workload identity of default/web,
# client certificates from the mesh root required.
XDS_NGINX_EXTRA="server { listen $PEER:9443 ssl; ssl_certificate $WEBID/cert-chain.pem;
      ssl_certificate_key $WEBID/key.pem; ssl_verify_client on; ssl_client_certificate $ROOT;
      location / { return 200 \"M \$ssl_client_verify\\n\"; } }"
xds_setup xdsistiod "${XDS_ISTIOD_OPTIONS:-}"

plain() { [ "$(get "http://$OUR/")" = A ]; }
hf_check "GET / through web-plain (endpoint without tlsMode: raw_buffer) answers A" wait_for 20 plain
acks() {
	for t in Cluster ClusterLoadAssignment Listener RouteConfiguration Secret; do
		ev ack | grep -q "\"type\":\"$t\"" || return 1
	done
}
hf_check "every type is ACKed (clusters, endpoints, listeners, routes, secrets)" wait_for 10 acks
n=$(ev nack | wc -l)
hf_check "… and nothing NACKed ($n)" test "$n" = 0
r=$(get "http://$OUR/mtls")
hf_check "GET /mtls through web-mtls (tlsMode istio): mutual TLS, nginx verified the gateway's certificate ('$r')" \
	test "$r" = "M SUCCESS"

HCURL=(--cacert "$ROOT" --resolve "a.example.com:443:$OUR" --resolve "b.example.com:443:$OUR")
ra=$(get "${HCURL[@]}" https://a.example.com/)
rb=$(get "${HCURL[@]}" https://b.example.com/)
hf_check "https://a.example.com (filter chain 0) answers A from web-plain ('$ra')" test "$ra" = A
hf_check "https://b.example.com (filter chain 1, same route table) answers over mTLS ('$rb')" \
	test "$rb" = "M SUCCESS"
serial() {
	in_ns openssl s_client -connect "$OUR:443" -servername "$1" -CAfile "$ROOT" </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
sa=$(serial a.example.com)
sb=$(serial b.example.com)
hf_check "SNI a.example.com gets kubernetes://a-cred's certificate (serial $sa)" test "$sa" = AAAA0001
hf_check "SNI b.example.com gets kubernetes://b-cred's certificate (serial $sb)" test "$sb" = BBBB0002

# ------------------------------------------------------------------ what operators see
DUMP=$HF_TMP/dump.json
hf_admin "$NS" /config_dump > "$DUMP"
hf_check "/config_dump: web-plain's circuit_breakers (100 connections) and outlier_detection (consecutive_5xx 7) as sent" \
	"$HF_PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
cd = [c for c in d["configs"] if c["@type"].endswith("ClustersConfigDump")][0]
cs = {e["cluster"]["name"]: e["cluster"] for e in cd["dynamic_active_clusters"] if "cluster" in e}
c = cs["outbound|80||web-plain.default.svc.cluster.local"]
th = c["circuit_breakers"]["thresholds"][0]
assert th["max_connections"] in (100, {"value": 100}), th
assert c["outlier_detection"]["consecutive_5xx"] in (7, {"value": 7}), c["outlier_detection"]
m = cs["outbound|443||web-mtls.default.svc.cluster.local"]
assert [x["name"] for x in m["transport_socket_matches"]] == ["tlsMode-istio", "tlsMode-disabled"], m
' "$DUMP"
hf_check "no private key in /config_dump" bash -c '! grep -q "PRIVATE KEY" "$1"' _ "$DUMP"
# Istio's MetadataExchange is no Envoy API type: the listeners, which hold none, read strictly
out=$("$HF_PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
l = [c for c in d["configs"] if c["@type"].endswith("ListenersConfigDump")][0]
del l["@type"]
print(json.dumps(l))' "$DUMP" |
	node "$HF_ROOT/tests/xds/check_dump.js" envoy.admin.v3.ListenersConfigDump 2>&1)
hf_check "… its listeners (two filter chains, tls_inspector) read strictly as envoy.admin.v3.ListenersConfigDump ($(head -c 150 <<<"$out"))" \
	test "$out" = ok
CL=$(hf_admin "$NS" /clusters)
hf_check "/clusters prints the stored thresholds (max_connections 100, max_requests 200)" \
	bash -c 'grep -qx "outbound|80||web-plain.default.svc.cluster.local::default_priority::max_connections::100" <<<"$1" &&
		grep -qx "outbound|80||web-plain.default.svc.cluster.local::default_priority::max_requests::200" <<<"$1"' _ "$CL"
out=$(hf_admin "$NS" "/clusters?format=json" | node "$HF_ROOT/tests/xds/check_dump.js" envoy.admin.v3.Clusters 2>&1)
hf_check "/clusters?format=json reads strictly as envoy.admin.v3.Clusters (circuit_breakers) ($(head -c 150 <<<"$out"))" \
	test "$out" = ok
FOIL=(ip netns exec "$NS" "$HF_ROOT/scripts/foilctl")
pj=$("${FOIL[@]}" proxy-config cluster -o json --name 'web-plain' 2>&1)
hf_check "foilctl proxy-config cluster -o json shows web-plain's circuit breakers and outlier detection" \
	"$HF_PY" -c 'import json,sys
c = json.loads(sys.argv[1])
assert len(c) == 1 and "circuit_breakers" in c[0] and "outlier_detection" in c[0], c' "$pj"
pc=$("${FOIL[@]}" proxy-config cluster 2>&1)
hf_check "foilctl proxy-config cluster: web-plain's row names its DestinationRule from istiod's metadata" \
	grep -Eq "^web-plain.default.svc.cluster.local +80 +- +outbound +EDS +web-plain.default$" <<<"$pc"
st=$("${FOIL[@]}" proxy-config secret 2>&1)
printf '%s\n' "$st" > "$HF_TMP/secret.txt"
hf_check "foilctl proxy-config secret: istioctl's columns" \
	grep -q "^RESOURCE NAME *TYPE *STATUS *VALID CERT *SERIAL NUMBER *NOT AFTER *NOT BEFORE" "$HF_TMP/secret.txt"
hf_check "… kubernetes://a-cred: Cert Chain, ACTIVE, valid, serial aaaa0001" \
	grep -Eq "^kubernetes://a-cred +Cert Chain +ACTIVE +true +aaaa0001 " "$HF_TMP/secret.txt"
hf_check "… ROOTCA: CA, ACTIVE, valid" grep -Eq "^ROOTCA +CA +ACTIVE +true " "$HF_TMP/secret.txt"
sj=$("${FOIL[@]}" proxy-config secret -o json 2>&1)
hf_check "… and -o json holds the four secrets, keys redacted" "$HF_PY" -c 'import json,sys
s = {x["name"]: x for x in json.loads(sys.argv[1])}
assert sorted(s) == ["ROOTCA", "default", "kubernetes://a-cred", "kubernetes://b-cred"], sorted(s)
assert s["default"]["tls_certificate"]["private_key"] == {"inline_string": "[redacted]"}' "$sj"

# a listener on 8443 whose credential never comes: its secret is listed as warming
"$HF_PY" -c 'import copy, json, sys
d = json.load(sys.stdin)
l = copy.deepcopy(d["resources"][0])
l["name"] = "0.0.0.0_8443"
l["address"]["socket_address"]["port_value"] = 8443
l["filter_chains"] = l["filter_chains"][:1]
l["filter_chains"][0]["filter_chain_match"]["server_names"] = ["c.example.com"]
ctx = l["filter_chains"][0]["transport_socket"]["typed_config"]["common_tls_context"]
ctx["tls_certificate_sds_secret_configs"][0]["name"] = "kubernetes://c-cred"
d["resources"].append(l)
print(json.dumps(d))' < "$FIX/listeners.json" | put listeners.json
warm() { "${FOIL[@]}" proxy-config secret 2>&1 | grep -Eq "^kubernetes://c-cred +- +WARMING +false"; }
hf_check "foilctl proxy-config secret lists kubernetes://c-cred, referenced and never sent, as WARMING" \
	wait_for 10 warm

# ------------------------------------------------------------------ the upstream's identity
# web-mtls expecting another service account: the upstream's certificate is refused
"$HF_PY" -c 'import json,sys
print(sys.stdin.read().replace("spiffe://cluster.local/ns/default/sa/web\"", "spiffe://cluster.local/ns/default/sa/other\""))' \
	< "$FIX/clusters.json" | put clusters.json
san() { c=$(code "http://$OUR/mtls"); [ "$c" != 200 ] && [ "$c" != 000 ]; }
hf_check "web-mtls expecting spiffe://…/sa/other: the upstream (sa/web) is refused, GET /mtls is not 200" \
	wait_for 10 san
hf_check "… while GET / still answers A" plain
put clusters.json < "$FIX/clusters.json"
back() { [ "$(get "http://$OUR/mtls")" = "M SUCCESS" ]; }
hf_check "… and the right SAN back: M SUCCESS again" wait_for 10 back

# ------------------------------------------------------------------ a NACK by field
"$HF_PY" -c 'import json,sys
d = json.load(sys.stdin)
for c in d["resources"]:
    o = c.get("typed_extension_protocol_options", {}).get("envoy.extensions.upstreams.http.v3.HttpProtocolOptions")
    if o and "explicit_http_config" in o:
        o["explicit_http_config"] = {"http2_protocol_options": {}}
print(json.dumps(d))' < "$FIX/clusters.json" | put clusters.json
nack() { ev nack | grep '"type":"Cluster"' | grep -q "Cluster 'outbound|80||web-plain.default.svc.cluster.local': typed_extension_protocol_options\['envoy.extensions.upstreams.http.v3.HttpProtocolOptions'\].explicit_http_config.http2_protocol_options: HTTP/2 to upstreams is not supported"; }
hf_check "a cluster asking for HTTP/2 upstream is NACKed naming the cluster and the field" wait_for 10 nack
hf_check "… the last good configuration serves on (GET / answers A, /mtls M SUCCESS)" \
	bash -c '[ "$1" = A ] && [ "$2" = "M SUCCESS" ]' _ "$(get "http://$OUR/")" "$(get "http://$OUR/mtls")"

hf_check_stop
hf_done
