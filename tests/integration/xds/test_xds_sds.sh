#!/usr/bin/env bash
# SDS: Secret resources over the ADS stream feed the TLS contexts (state of the world).
# The management server serves a listener on 443 whose DownstreamTlsContext names its
# certificate by SDS (tls_certificate_sds_secret_configs "gw-cert", a certificate for
# gw.example.com from the mesh CA, scripts/meshca.sh), a cluster "web-tls" to an nginx TLS
# upstream whose UpstreamTlsContext names its CA by SDS (validation_context_sds_secret_config
# "mesh-root"), and a listener on 8443 whose secret never comes.
#
# Checks: the secrets are subscribed by name and ACKed; curl --cacert (the mesh root) gets 200
# over HTTPS; a new Secret "gw-cert" (a new certificate, serial 2222BBBB) is served to new
# handshakes while a keep-alive connection opened on the old one goes on answering; the
# upstream TLS via SDS reaches nginx over TLS (and a CA that does not match fails the request,
# not the snapshot); the listener whose secret never comes is not served (connection refused),
# is logged as warming, and shows in /config_dump as warming with its secret in
# dynamic_warming_secrets; private keys never appear in /config_dump; a TLS context with a
# field not supported (require_sni) and a Secret holding a file name are NACKed naming the
# resource and the field, the last good config serving; counters xds.secrets_received,
# xds.secret_waits, xds.nacks rise; a listener changed to a secret not there yet warms while
# its previous version serves (make before break), and takes the new one when it comes.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
source "$(dirname "$0")/xds_lib.sh"

MESH=$HF_TMP/mesh
PKI=$HF_TMP/pki
mkdir -p "$PKI"
"$HF_ROOT/scripts/meshca.sh" root "$MESH" >/dev/null 2>&1 || { hf_not_ok "meshca.sh root"; exit 1; }
ROOT=$MESH/root-cert.pem
# mkcert NAME DNS SERIAL: $PKI/NAME.crt and .key, a server certificate for DNS from the mesh root
mkcert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$PKI/$1.key" \
		-subj "/CN=$2" -out "$PKI/$1.csr" 2>/dev/null &&
	printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$2" \
		> "$PKI/$1.ext" &&
	openssl x509 -req -in "$PKI/$1.csr" -CA "$ROOT" -CAkey "$MESH/root-key.pem" -set_serial "0x$3" \
		-days 2 -extfile "$PKI/$1.ext" -out "$PKI/$1.crt" 2>/dev/null
}
mkcert gw1 gw.example.com 1111AAAA && mkcert gw2 gw.example.com 2222BBBB &&
	mkcert up up.example.com 3333CCCC || { hf_not_ok "server certificates from the mesh root"; exit 1; }
"$HF_ROOT/scripts/meshca.sh" root "$HF_TMP/other" >/dev/null 2>&1 || { hf_not_ok "a second root"; exit 1; }

# cert_secret NAME CERT KEY / ca_secret NAME CA [DATA_SOURCE_KEY]: Secret resources (JSON)
cert_secret() {
	"$HF_PY" -c 'import json,sys
print(json.dumps({"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
  "name": sys.argv[1], "tls_certificate": {"certificate_chain": {"inline_string": open(sys.argv[2]).read()},
  "private_key": {"inline_string": open(sys.argv[3]).read()}}}))' "$@"
}
ca_secret() {
	"$HF_PY" -c 'import json,sys
k = sys.argv[3] if len(sys.argv) > 3 else "inline_string"
print(json.dumps({"@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
  "name": sys.argv[1], "validation_context": {"trusted_ca": {k: open(sys.argv[2]).read() if k == "inline_string" else sys.argv[2]}}}))' "$@"
}
secrets() {
	local IFS=,
	echo "{\"resources\": [$*]}" | put secrets.json
}
SDS='"sds_config": {"ads": {}, "resource_api_version": "V3"}'
# https_listener PORT SECRET [EXTRA_CONTEXT_FIELDS]: an HTTPS listener https_PORT for
# gw.example.com (routes by RDS as http.80), its certificate the Secret SECRET (JSON)
https_listener() {
	http_listener "$1" http.80 '' '"filter_chain_match": {"server_names": ["gw.example.com"]},
   "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
    "@type": "'$T'/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", '"${3:-}"'
    "common_tls_context": {"tls_certificate_sds_secret_configs": [{"name": "'$2'", '"$SDS"'}]}}},' "https_$1"
}
# tls_cluster NAME CA_SECRET: a STATIC cluster → PEER:9443 over TLS, SNI up.example.com (JSON)
tls_cluster() {
	echo '{"@type": "'$T'/envoy.config.cluster.v3.Cluster", "name": "'$1'", "type": "STATIC",
  "lb_policy": "ROUND_ROBIN", "load_assignment": {"cluster_name": "'$1'", "endpoints": [{"lb_endpoints": [
   {"endpoint": {"address": {"socket_address": {"address": "'$PEER'", "port_value": 9443}}}}]}]},
  "transport_socket": {"name": "envoy.transport_sockets.tls", "typed_config": {
   "@type": "'$T'/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext", "sni": "up.example.com",
   "common_tls_context": {"validation_context_sds_secret_config": {"name": "'$2'", '"$SDS"'}}}}}'
}

XDS_NGINX_EXTRA="server { listen $PEER:9443 ssl; ssl_certificate $PKI/up.crt; ssl_certificate_key $PKI/up.key;
      location / { return 200 \"T\\n\"; } }"
secrets "$(cert_secret gw-cert "$PKI/gw1.crt" "$PKI/gw1.key")" "$(ca_secret mesh-root "$ROOT")" \
	"$(ca_secret other-root "$HF_TMP/other/root-cert.pem")"
clusters "$(eds_cluster web)" "$(static_cluster web-b 9102)" "$(tls_cluster web-tls mesh-root)" \
	"$(tls_cluster web-other other-root)"
endpoints web 9101
routes "$(route_config http.80 '{"name": "tls", "match": {"prefix": "/tls"}, "route": {"cluster": "web-tls"}},
   {"name": "other", "match": {"prefix": "/other"}, "route": {"cluster": "web-other"}},')"
listeners "$(http_listener 80)" "$(https_listener 443 gw-cert)" "$(https_listener 8443 never)"
xds_setup xdssds "${XDS_SDS_OPTIONS:-}"

HCURL=(--cacert "$ROOT" --resolve "gw.example.com:443:$OUR" --resolve "gw.example.com:8443:$OUR")
https() { get "${HCURL[@]}" "https://gw.example.com$1"; }
plain() { [ "$(get "http://$OUR/")" = A ]; }
hf_check "initial sync: GET / over plain HTTP reaches web (A)" wait_for 20 plain
subscribed() { ev request | grep '"type":"Secret"' | grep -q '"gw-cert"' &&
	ev request | grep '"type":"Secret"' | grep -q '"never"' && ev ack | grep -q '"type":"Secret"'; }
hf_check "the secrets are subscribed by name (gw-cert, mesh-root, never) and ACKed" wait_for 10 subscribed
ok443() { [ "$(https /)" = A ]; }
hf_check "curl --cacert (mesh root) over HTTPS to the listener whose certificate came by SDS: 200, A" \
	wait_for 10 ok443
c=$(in_ns "${CURL[@]}" "${HCURL[@]}" -o /dev/null -w '%{http_code}' https://gw.example.com/)
hf_check "… status $c" test "$c" = 200
serial() {
	in_ns openssl s_client -connect "$OUR:443" -servername gw.example.com -CAfile "$ROOT" </dev/null 2>/dev/null |
		openssl x509 -noout -serial 2>/dev/null | cut -d= -f2
}
s1=$(serial)
hf_check "the handshake serves the SDS certificate (serial $s1)" test "$s1" = 1111AAAA

# ------------------------------------------------------------------ rotation by a new Secret
# A keep-alive connection opened on the first certificate, asked again after the rotation.
cat > "$HF_TMP/keepalive.py" <<'PY'
import os, socket, ssl, sys, time
ip, ca, flag = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection((ip, 443), timeout=10), server_hostname="gw.example.com")
f = s.makefile("rb")
def get():
    s.sendall(b"GET / HTTP/1.1\r\nHost: gw.example.com\r\n\r\n")
    status = f.readline().split()[1].decode()
    n = 0
    while True:
        h = f.readline()
        if h in (b"\r\n", b""):
            break
        if h.lower().startswith(b"content-length:"):
            n = int(h.split(b":")[1])
    return status, f.read(n).decode().strip()
print("first", s.getpeercert()["serialNumber"], *get(), flush=True)
for _ in range(600):
    if os.path.exists(flag):
        break
    time.sleep(0.1)
print("second", *get(), flush=True)
PY
in_ns "$HF_PY" "$HF_TMP/keepalive.py" "$OUR" "$ROOT" "$HF_TMP/rotated" > "$HF_TMP/keepalive.out" 2>&1 &
KPID=$!
HF_PIDS+=("$KPID")
hf_check "a keep-alive connection is open on the first certificate" \
	wait_for 10 grep -q "^first 1111AAAA 200 A" "$HF_TMP/keepalive.out"
n0=$(hf_stat "$NS" xds.secrets_received)
secrets "$(cert_secret gw-cert "$PKI/gw2.crt" "$PKI/gw2.key")" "$(ca_secret mesh-root "$ROOT")" \
	"$(ca_secret other-root "$HF_TMP/other/root-cert.pem")"
rotated() { [ "$(serial)" = 2222BBBB ]; }
hf_check "after the server pushes a new Secret, a new handshake sees the new serial (2222BBBB)" wait_for 15 rotated
touch "$HF_TMP/rotated"
hf_check "… while the keep-alive connection opened before keeps answering (200 A on it)" \
	wait_for 10 grep -q "^second 200 A" "$HF_TMP/keepalive.out"
wait "$KPID" 2>/dev/null
hf_check "… and curl --cacert still gets A" ok443
n1=$(hf_stat "$NS" xds.secrets_received)
hf_check "xds.secrets_received rose ($n0 → $n1)" test "${n1:-0}" -gt "${n0:-0}"

# ------------------------------------------------------------------ upstream TLS via SDS
tls_ok() { [ "$(get "http://$OUR/tls")" = T ]; }
hf_check "UpstreamTlsContext with its CA by SDS: GET /tls reaches the nginx TLS upstream (T)" wait_for 10 tls_ok
c=$(code "http://$OUR/other")
hf_check "a cluster whose SDS CA is another root does not reach it ($c, not 200)" test "$c" != 200 -a "$c" != 000

# ------------------------------------------------------------------ warming on a secret
c=$(in_ns "${CURL[@]}" "${HCURL[@]}" -o /dev/null -w '%{http_code}' https://gw.example.com:8443/ 2>/dev/null)
hf_check "the listener on 8443 whose secret never comes is not served (curl: $c)" test "$c" = 000
hf_check "… logged as warming for Secret 'never'" grep -q "warming: waiting for Secret 'never' (Listener 'https_8443')" "$LOG"
w=$(hf_stat "$NS" xds.secret_waits)
hf_check "… counted in xds.secret_waits ($w)" test "${w:-0}" -ge 1
DUMP=$HF_TMP/dump.json
hf_admin "$NS" /config_dump > "$DUMP"
hf_check "/config_dump: https_8443 has a warming_state and no active_state; 'never' is in dynamic_warming_secrets; gw-cert is an active secret" \
	"$HF_PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
def of(t):
    return [c for c in d["configs"] if c["@type"].endswith(t)][0]
ls = {l["name"]: l for l in of("ListenersConfigDump").get("dynamic_listeners", [])}
sc = of("SecretsConfigDump")
l = ls["https_8443"]
assert "warming_state" in l and "active_state" not in l, l.keys()
assert "active_state" in ls["https_443"]
assert "never" in [s["name"] for s in sc.get("dynamic_warming_secrets", [])]
act = {s["name"]: s for s in sc["dynamic_active_secrets"]}
assert act["gw-cert"]["secret"]["tls_certificate"]["private_key"] == {"inline_string": "[redacted]"}, act["gw-cert"]
assert "BEGIN CERTIFICATE" in act["gw-cert"]["secret"]["tls_certificate"]["certificate_chain"]["inline_string"]
' "$DUMP"
hf_check "no private key in /config_dump" bash -c '! grep -q "PRIVATE KEY" "$1"' _ "$DUMP"
hf_check "… no secret of xDS shown as static_secrets (the bootstrap has none)" \
	"$HF_PY" -c 'import json,sys
d = json.load(open(sys.argv[1]))
sc = [c for c in d["configs"] if c["@type"].endswith("SecretsConfigDump")][0]
assert not sc.get("static_secrets"), sc.get("static_secrets")' "$DUMP"
out=$(node "$HF_ROOT/tests/xds/check_dump.js" envoy.admin.v3.ConfigDump < "$DUMP" 2>&1)
hf_check "… and the dump reads strictly as envoy.admin.v3.ConfigDump (TLS contexts, secrets): $(head -c 200 <<<"$out")" \
	test "$out" = ok

# ------------------------------------------------------------------ NACKs
listeners "$(http_listener 80)" "$(https_listener 443 gw-cert '"require_sni": {"value": true},')" "$(https_listener 8443 never)"
nack_l() { ev nack | grep '"type":"Listener"' | grep -q "Listener 'https_443': filter_chains\[0\].transport_socket.typed_config: field 'require_sni' is not supported"; }
hf_check "a DownstreamTlsContext with require_sni is NACKed naming the listener and the field" wait_for 10 nack_l
listeners "$(http_listener 80)" "$(https_listener 443 gw-cert)" "$(https_listener 8443 never)"
secrets "$(cert_secret gw-cert "$PKI/gw1.crt" "$PKI/gw1.key")" "$(ca_secret mesh-root "$ROOT")" \
	"$(ca_secret other-root "$HF_TMP/other/root-cert.pem" filename)"
nack_s() { ev nack | grep '"type":"Secret"' | grep -q "Secret 'other-root': validation_context.trusted_ca: only inline_bytes and inline_string"; }
hf_check "a Secret whose trusted_ca is a file name is NACKed naming the secret and the field" wait_for 10 nack_s
s=$(serial)
hf_check "… the whole response is refused: HTTPS still serves the last good certificate ($s)" test "$s" = 2222BBBB
hf_check "… and answers A" ok443
nk=$(hf_stat "$NS" xds.nacks)
hf_check "xds.nacks counts them ($nk)" test "${nk:-0}" -ge 2

# ------------------------------------------------------------------ make before break on a secret
listeners "$(http_listener 80)" "$(https_listener 443 gw-cert-2)" "$(https_listener 8443 never)"
mbb() { grep -q "warming: waiting for Secret 'gw-cert-2' (the previous version serves meanwhile) (Listener 'https_443')" "$LOG"; }
hf_check "the listener on 443 changed to a secret not there yet (gw-cert-2) warms" wait_for 10 mbb
s=$(serial)
hf_check "… while its previous version serves on (serial $s, A)" bash -c '[ "$1" = 2222BBBB ]' _ "$s"
hf_check "… answering A" ok443
secrets "$(cert_secret gw-cert "$PKI/gw2.crt" "$PKI/gw2.key")" "$(ca_secret mesh-root "$ROOT")" \
	"$(ca_secret other-root "$HF_TMP/other/root-cert.pem")" "$(cert_secret gw-cert-2 "$PKI/gw1.crt" "$PKI/gw1.key")"
back() { [ "$(serial)" = 1111AAAA ] && ok443; }
hf_check "once gw-cert-2 comes the new version serves its certificate (1111AAAA)" wait_for 15 back

hf_check_stop
hf_done
