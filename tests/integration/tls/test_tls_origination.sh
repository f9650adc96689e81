#!/usr/bin/env bash
# TLS origination (DestinationRule trafficPolicy.tls) end to end: hydrofoil as an Istio
# ingress gateway on a net_tap in a private namespace, plain HTTP from curl to the gateway, TLS
# from the gateway to nginx (the upstream), whose certificates come from a test CA made now
# (scripts/mkcert.sh); nginx echoes what it saw of the handshake ($ssl_server_name,
# $ssl_protocol, $ssl_client_s_dn, $ssl_client_verify) in the body.
#
# Also the mesh (scripts/meshca.sh, the bootstrap's identity block): ISTIO_MUTUAL to nginx
# servers holding workload certificates and wanting the mesh's (the server's SPIFFE ID from the
# endpoint's serviceAccount or the ServiceEntry's subjectAltNames; another service account →
# 503 san_mismatch), a Gateway server with tls.mode ISTIO_MUTUAL (serves the node's identity,
# refuses a client of another CA), identity blocks refused at load.
#
# Resumption: an upstream that closes after each response (keepalive_requests 1) sees the
# 2nd and 3rd of three requests resume the session the 1st got (\$ssl_session_reused r,
# tls.upstream.resumed); ISTIO_MUTUAL's SNI is Istio's outbound_.80_._.<host> and its ALPN
# offer includes http/1.1 (nginx selects it).
# Checks: SIMPLE with caCertificates → 200, the SNI sent is the service's host name (no sni
# field) or the DestinationRule's sni; a 1 MB response and a 1 MB POST (through nginx to
# httptool.py, which hashes it) arrive intact by sha256; keep-alive: a second request reuses
# the TLS connection (http.upstream_cx_reused, no new handshake); another CA → 503 UF,
# tls.upstream.handshake.untrusted_server_cert and the access log's transport failure reason;
# subjectAltNames the certificate lacks → 503, tls.upstream.handshake.san_mismatch; an sni
# the certificate is not valid for → 503, san_mismatch (auto SAN validation); insecureSkipVerify
# with another CA → 200; a plaintext upstream port → 503, tls.upstream.handshake.not_tls;
# MUTUAL against nginx with ssl_verify_client on: client certificate and key by file paths →
# 200 and nginx saw our subject, by credentialName → 200, SIMPLE to the same port (no client
# certificate) → nginx's 400; Istio's egress TLS-origination task shape (ServiceEntry port 80
# HTTP with targetPort 443, DestinationRule portLevelSettings port 80 SIMPLE) → 200 over TLS;
# configurations refused at load with file, line and field; wrk through the TLS upstream
# (req/s printed); SIGTERM stops it with status 0.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
TOOL=$HF_ROOT/tests/integration/http/httptool.py

OUR=198.51.100.2
PEER=198.51.100.1
TLS_PORT=8443     # nginx, TLS, any client
MTLS_PORT=8444    # nginx, TLS, client certificate required
PLAIN_PORT=8080   # nginx, plaintext
EGRESS_PORT=443   # nginx, TLS (the egress task's targetPort)
PY_PORT=8081      # httptool.py serve, behind nginx for the POST check
MESH_PORT=8446    # nginx, the mesh identity default/cart, client certificate of the mesh required
INTRUDER_PORT=8447 # nginx, the mesh identity default/intruder
RESUME_PORT=8448  # nginx, TLS, one request per connection: each request a new handshake
GW_MESH_PORT=15443 # hydrofoil, Gateway server with tls.mode ISTIO_MUTUAL
MESH=$HF_TMP/mesh
CERTS=$HF_TMP/certs
OTHER=$HF_TMP/other-ca
CLIENTS=$HF_TMP/clients
ISTIO=$HF_TMP/istio
WWW=$HF_TMP/www

# ---------------------------------------------------------------- certificates
"$HF_ROOT/scripts/mkcert.sh" ca "$CERTS" &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" up '*.up.example.com' egress.example.com &&
	"$HF_ROOT/scripts/mkcert.sh" ca "$OTHER" &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$OTHER" stranger '*.up.example.com'
# the gateway's client certificate (clientAuth), signed by the test CA, files and a credential
mkdir -p "$CLIENTS" "$CERTS/gw-client"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CLIENTS/gw.key" 2>/dev/null &&
	openssl req -new -key "$CLIENTS/gw.key" -subj "/O=Hydrofoil test/CN=gateway-client" \
		-out "$CLIENTS/gw.csr" 2>/dev/null &&
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=DNS:gateway.example.com\n' \
		> "$CLIENTS/ext.cnf" &&
	openssl x509 -req -in "$CLIENTS/gw.csr" -CA "$CERTS/ca.crt" -CAkey "$CERTS/ca.key" \
		-CAcreateserial -days 1 -sha256 -extfile "$CLIENTS/ext.cnf" -out "$CLIENTS/gw.crt" 2>/dev/null
cp "$CLIENTS/gw.crt" "$CERTS/gw-client/tls.crt"
cp "$CLIENTS/gw.key" "$CERTS/gw-client/tls.key"
cp "$CERTS/ca.crt" "$CERTS/gw-client/ca.crt"
hf_check "test CAs, nginx's server certificates and the gateway's client certificate made" \
	test -s "$CERTS/up/tls.crt" -a -s "$OTHER/stranger/tls.crt" -a -s "$CLIENTS/gw.crt"
# the mesh: a root (meshca.sh), the gateway's identity, two upstream workloads and a client
"$HF_ROOT/scripts/meshca.sh" root "$MESH" &&
	"$HF_ROOT/scripts/meshca.sh" workload "$MESH" istio-system istio-ingressgateway &&
	"$HF_ROOT/scripts/meshca.sh" workload "$MESH" default cart 2h &&
	"$HF_ROOT/scripts/meshca.sh" workload "$MESH" default intruder &&
	"$HF_ROOT/scripts/meshca.sh" workload "$MESH" default client
san=$(openssl x509 -in "$MESH/default/cart/cert-chain.pem" -noout -ext subjectAltName 2>/dev/null | tr -d ' \n')
eku=$(openssl x509 -in "$MESH/default/cart/cert-chain.pem" -noout -ext extendedKeyUsage 2>/dev/null | tr -d ' \n')
subj=$(openssl x509 -in "$MESH/default/cart/cert-chain.pem" -noout -subject -nameopt RFC2253 2>/dev/null)
life=$(( $(date -d "$(openssl x509 -in "$MESH/default/cart/cert-chain.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ))
hf_check "meshca.sh workload: SPIFFE URI SAN only ($san), serverAuth and clientAuth ($eku), empty subject ('$subj'), 2h TTL (${life}s left), verifies to the root" \
	test "$san" = "X509v3SubjectAlternativeName:criticalURI:spiffe://cluster.local/ns/default/sa/cart" \
	-a "$eku" = "X509v3ExtendedKeyUsage:TLSWebServerAuthentication,TLSWebClientAuthentication" \
	-a "$subj" = "subject=" -a "$life" -gt 7000 -a "$life" -le 7200 \
	-a -n "$(openssl verify -CAfile "$MESH/root-cert.pem" "$MESH/default/cart/cert-chain.pem" 2>/dev/null | grep ': OK$')"

# ---------------------------------------------------------------- nginx: the TLS upstream
mkdir -p "$WWW" "$HF_TMP/nginx"
head -c $((1 << 20)) /dev/urandom > "$WWW/1m.bin"
head -c $((1 << 20)) /dev/urandom > "$HF_TMP/1m-post.bin"
cat > "$HF_TMP/nginx.conf" <<NGINX
user root;
worker_processes 1;
pid $HF_TMP/nginx.pid;
error_log $HF_TMP/nginx-error.log warn;
events { worker_connections 4096; }
http {
    log_format tls '\$server_port \$ssl_protocol sni=\$ssl_server_name client=\$ssl_client_s_dn '
                   'verify=\$ssl_client_verify conn=\$connection req=\$connection_requests \$request';
    access_log $HF_TMP/nginx-access.log tls;
    log_format tls_resume '\$ssl_protocol reused=\$ssl_session_reused \$request';
    client_body_temp_path $HF_TMP/nginx/body;
    proxy_temp_path $HF_TMP/nginx/proxy;
    fastcgi_temp_path $HF_TMP/nginx/fastcgi;
    uwsgi_temp_path $HF_TMP/nginx/uwsgi;
    scgi_temp_path $HF_TMP/nginx/scgi;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_max_body_size 16m;
    ssl_certificate $CERTS/up/tls.crt;
    ssl_certificate_key $CERTS/up/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    server {
        listen $PEER:$TLS_PORT ssl;
        listen $PEER:$EGRESS_PORT ssl;
        listen $PEER:$PLAIN_PORT;
        root $WWW;
        location = /who { return 200 "port=\$server_port tls=\$ssl_protocol sni=\$ssl_server_name\n"; }
        location /py/ { proxy_pass http://$PEER:$PY_PORT; proxy_http_version 1.1; }
    }
    server {
        listen $PEER:$MESH_PORT ssl;
        ssl_certificate $MESH/default/cart/cert-chain.pem;
        ssl_certificate_key $MESH/default/cart/key.pem;
        ssl_verify_client on;
        ssl_client_certificate $MESH/root-cert.pem;
        location = /who { return 200 "mesh verify=\$ssl_client_verify serial=\$ssl_client_serial\n"; }
        location = /sni { return 200 "sni=\$ssl_server_name alpn=\$ssl_alpn_protocol\n"; }
    }
    server {
        listen $PEER:$RESUME_PORT ssl;
        keepalive_requests 1;
        access_log $HF_TMP/nginx-resume.log tls_resume;
        location = /who { return 200 "reused=\$ssl_session_reused\n"; }
    }
    server {
        listen $PEER:$INTRUDER_PORT ssl;
        ssl_certificate $MESH/default/intruder/cert-chain.pem;
        ssl_certificate_key $MESH/default/intruder/key.pem;
        ssl_verify_client on;
        ssl_client_certificate $MESH/root-cert.pem;
        location = /who { return 200 "intruder verify=\$ssl_client_verify\n"; }
    }
    server {
        listen $PEER:$MTLS_PORT ssl;
        ssl_verify_client on;
        ssl_client_certificate $CERTS/ca.crt;
        root $WWW;
        location = /who { return 200 "client=\$ssl_client_s_dn verify=\$ssl_client_verify\n"; }
    }
}
NGINX

# ---------------------------------------------------------------- Istio configuration
mkdir -p "$ISTIO"
# svc NAME PORT: a ServiceEntry NAME.up.example.com on port 80 whose endpoint is nginx's PORT,
# and a VirtualService sending Host NAME.up.example.com there
svc() {
	cat <<YAML
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: $1, namespace: default}
spec:
  hosts: [$1.up.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http, protocol: HTTP}
  endpoints:
  - address: $PEER
    ports: {http: $2}
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: $1, namespace: default}
spec:
  hosts: [$1.up.example.com]
  gateways: [gw]
  http:
  - route:
    - destination: {host: $1.up.example.com, port: {number: 80}}
YAML
}
# dr NAME TLS_BLOCK: a DestinationRule for NAME.up.example.com with trafficPolicy.tls TLS_BLOCK
dr() {
	cat <<YAML
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: $1, namespace: default}
spec:
  host: $1.up.example.com
  trafficPolicy:
    tls: $2
YAML
}
{
	cat <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: $GW_MESH_PORT, name: https-mesh, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: ISTIO_MUTUAL}
YAML
	# ISTIO_MUTUAL: the server's identity from the endpoint's serviceAccount, or the
	# ServiceEntry's subjectAltNames
	mesh_svc() {	# mesh_svc NAME PORT SERVICE_ACCOUNT
		svc "$1" "$2" | sed "s|    ports: {http: $2}|    ports: {http: $2}\n    serviceAccount: $3|"
		dr "$1" "{mode: ISTIO_MUTUAL}"
	}
	mesh_svc mesh $MESH_PORT cart
	mesh_svc meshbad $INTRUDER_PORT cart
	svc meshse $MESH_PORT | sed "s|  location: MESH_EXTERNAL|  location: MESH_INTERNAL\n  subjectAltNames: [spiffe://cluster.local/ns/default/sa/cart]|"
	dr meshse "{mode: ISTIO_MUTUAL}"
	svc meshseb $INTRUDER_PORT | sed "s|  location: MESH_EXTERNAL|  location: MESH_INTERNAL\n  subjectAltNames: [spiffe://cluster.local/ns/default/sa/cart]|"
	dr meshseb "{mode: ISTIO_MUTUAL}"
	svc meshany $INTRUDER_PORT
	dr meshany "{mode: ISTIO_MUTUAL}"
	svc simple $TLS_PORT
	dr simple "{mode: SIMPLE, caCertificates: $CERTS/ca.crt}"
	svc resume $RESUME_PORT
	dr resume "{mode: SIMPLE, caCertificates: $CERTS/ca.crt}"
	svc sni $TLS_PORT
	dr sni "{mode: SIMPLE, caCertificates: $CERTS/ca.crt, sni: other.up.example.com}"
	svc wrongca $TLS_PORT
	dr wrongca "{mode: SIMPLE, caCertificates: $OTHER/ca.crt}"
	svc san $TLS_PORT
	dr san "{mode: SIMPLE, caCertificates: $CERTS/ca.crt, subjectAltNames: [nope.example.com]}"
	svc sanok $TLS_PORT
	dr sanok "{mode: SIMPLE, caCertificates: $CERTS/ca.crt, subjectAltNames: [nope.example.com, x.up.example.com]}"
	svc badsni $TLS_PORT
	dr badsni "{mode: SIMPLE, caCertificates: $CERTS/ca.crt, sni: evil.example.net}"
	svc skip $TLS_PORT
	dr skip "{mode: SIMPLE, insecureSkipVerify: true}"
	svc plain $PLAIN_PORT
	dr plain "{mode: SIMPLE, caCertificates: $CERTS/ca.crt}"
	svc mutual $MTLS_PORT
	dr mutual "{mode: MUTUAL, clientCertificate: $CLIENTS/gw.crt, privateKey: $CLIENTS/gw.key, caCertificates: $CERTS/ca.crt}"
	svc cred $MTLS_PORT
	dr cred "{mode: MUTUAL, credentialName: gw-client}"
	svc nocert $MTLS_PORT
	dr nocert "{mode: SIMPLE, caCertificates: $CERTS/ca.crt}"
	svc cleartext $PLAIN_PORT
	# Istio's egress TLS origination task: port 80 HTTP sent to 443 with TLS
	cat <<YAML
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: egress, namespace: default}
spec:
  hosts: [egress.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports:
  - {number: 80, name: http-port, protocol: HTTP, targetPort: 443}
  - {number: 443, name: https-port, protocol: HTTPS}
  endpoints:
  - address: $PEER
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata: {name: egress, namespace: default}
spec:
  host: egress.example.com
  trafficPolicy:
    portLevelSettings:
    - port: {number: 80}
      tls:
        mode: SIMPLE # initiates HTTPS when accessing egress.example.com
        caCertificates: $CERTS/ca.crt
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: egress, namespace: default}
spec:
  hosts: [egress.example.com]
  gateways: [gw]
  http:
  - route:
    - destination: {host: egress.example.com, port: {number: 80}}
YAML
} > "$ISTIO/all.yaml"

T0=$SECONDS
NS=$(hf_ns_new orig) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
IDENTITY="identity = { trust_domain = \"cluster.local\"; namespace = \"istio-system\";
  service_account = \"istio-ingressgateway\"; cert_chain = \"$MESH/istio-system/istio-ingressgateway/cert-chain.pem\";
  key = \"$MESH/istio-system/istio-ingressgateway/key.pem\"; root_cert = \"$MESH/root-cert.pem\"; };"
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; credentials_dir = \"$CERTS\"; };
access_log = \"$HF_TMP/access.log\";
$IDENTITY"

# ---------------------------------------------------------------- refused at load
# refused TLS_BLOCK WANT DESC: --check with the DestinationRule of "simple" given TLS_BLOCK
refused() {
	local dir=$HF_TMP/bad out rc
	rm -rf "$dir"
	mkdir -p "$dir"
	{
		sed -n '1,/^---$/p' "$ISTIO/all.yaml" | sed '$d'
		svc simple $TLS_PORT
		dr simple "$1"
	} > "$dir/all.yaml"
	sed "s|$ISTIO|$dir|" "$HF_TMP/hf.cfg" > "$HF_TMP/bad.cfg"
	out=$("$HF_BIN" -c "$HF_TMP/bad.cfg" --check 2>&1)
	rc=$?
	hf_check "$3 refused at load: exit $rc, '$(tail -1 <<<"$out" | cut -c1-200)'" \
		test "$rc" -eq 2 -a -n "$(grep -F -- "$2" <<<"$out")"
}
refused "{mode: SIMPLE, caCertificates: $CLIENTS/gw.crt}" \
	"spec.trafficPolicy.tls.caCertificates: caCertificates: certificate 1 (" \
	"a caCertificates file holding a leaf certificate"
refused "{mode: SIMPLE, caCertificates: $HF_TMP/nope.crt}" \
	"spec.trafficPolicy.tls.caCertificates: cannot read '$HF_TMP/nope.crt'" "a missing caCertificates file"
refused "{mode: MUTUAL, caCertificates: $CERTS/ca.crt}" \
	"spec.trafficPolicy.tls: mode MUTUAL needs clientCertificate and privateKey, or credentialName" \
	"MUTUAL without a client certificate"
refused "{mode: MUTUAL, clientCertificate: $CLIENTS/gw.crt, privateKey: $CERTS/up/tls.key, caCertificates: $CERTS/ca.crt}" \
	"spec.trafficPolicy.tls.privateKey: privateKey: the private key does not match the certificate" \
	"MUTUAL with a key of another certificate"
refused "{mode: SIMPLE, clientCertificate: $CLIENTS/gw.crt, privateKey: $CLIENTS/gw.key}" \
	"spec.trafficPolicy.tls.clientCertificate: mode SIMPLE sends no client certificate" \
	"SIMPLE with a client certificate"
refused "{mode: SIMPLE, insecureSkipVerify: true, caCertificates: $CERTS/ca.crt}" \
	"spec.trafficPolicy.tls.insecureSkipVerify: insecureSkipVerify: true checks nothing" \
	"insecureSkipVerify with caCertificates"
refused "{mode: MUTUAL, credentialName: no-such-cred}" \
	"spec.trafficPolicy.tls.credentialName: cannot read '$CERTS/no-such-cred/tls.crt'" \
	"a credentialName with no folder"
refused "{mode: SIMPLE, caCrl: /tmp/crl.pem}" "spec.trafficPolicy.tls.caCrl" "caCrl"
refused "{mode: ISTIO_MUTUAL, caCertificates: $CERTS/ca.crt}" \
	"spec.trafficPolicy.tls.caCertificates: mode ISTIO_MUTUAL uses the node's mesh identity" \
	"ISTIO_MUTUAL with caCertificates"
# the identity block: a certificate of another service account, a key of another certificate
sed 's|service_account = "istio-ingressgateway"|service_account = "someone-else"|' "$HF_TMP/hf.cfg" > "$HF_TMP/bad-id.cfg"
out=$("$HF_BIN" -c "$HF_TMP/bad-id.cfg" --check 2>&1)
hf_check "an identity whose certificate is another service account's refused: '$(tail -1 <<<"$out" | cut -c1-200)'" \
	grep -q "identity: cert_chain: the certificate does not carry spiffe://cluster.local/ns/istio-system/sa/someone-else as a URI SAN" <<<"$out"
sed "s|key = \"$MESH/istio-system/istio-ingressgateway/key.pem\"|key = \"$MESH/default/cart/key.pem\"|" "$HF_TMP/hf.cfg" > "$HF_TMP/bad-id.cfg"
out=$("$HF_BIN" -c "$HF_TMP/bad-id.cfg" --check 2>&1)
hf_check "an identity with another certificate's key refused: '$(tail -1 <<<"$out" | cut -c1-200)'" \
	grep -q "identity: key: not the key of cert_chain's certificate" <<<"$out"
sed "/^identity = /,/}; *$/d" "$HF_TMP/hf.cfg" > "$HF_TMP/bad-id.cfg"
out=$("$HF_BIN" -c "$HF_TMP/bad-id.cfg" --check 2>&1)
hf_check "ISTIO_MUTUAL without an identity block refused: '$(tail -1 <<<"$out" | cut -c1-200)'" \
	grep -q "ISTIO_MUTUAL needs the node's mesh identity\|without the node's mesh identity" <<<"$out"

# ---------------------------------------------------------------- start
if ! out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1); then
	hf_not_ok "bootstrap with TLS-originating DestinationRules accepted by --check ($out)"
	exit 1
fi
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with TLS-originating DestinationRules reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with TLS-originating DestinationRules reports LIVE"
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' >/dev/null 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" "$HF_PY" "$TOOL" serve "$PEER" "$PY_PORT" >"$HF_TMP/py.log" 2>&1 &
HF_PIDS+=($!)
peers_up() {
	local p
	for p in $TLS_PORT $MTLS_PORT $PLAIN_PORT $EGRESS_PORT $PY_PORT $MESH_PORT $INTRUDER_PORT $RESUME_PORT; do
		[ -n "$(ip netns exec "$NS" ss -Hltn "sport = :$p")" ] || return 1
	done
}
for _ in $(seq 50); do peers_up && break; sleep 0.1; done
hf_check "upstreams listening: nginx :$TLS_PORT :$MTLS_PORT :$PLAIN_PORT :$EGRESS_PORT, httptool :$PY_PORT" peers_up

in_ns() { ip netns exec "$NS" "$@"; }
st() { local v; v=$(hf_stat "$NS" "$1"); echo "${v:-0}"; }
CURL=(curl -sS --noproxy '*' --max-time 20)
# get NAME PATH: status and body (one line) of http://NAME.up.example.com/PATH through the gateway
get() {
	local host=$1.up.example.com
	[ "$1" = egress ] && host=egress.example.com
	in_ns "${CURL[@]}" -H "Host: $host" -w ' %{http_code}' "http://$OUR/${2:-who}" 2>&1 | tr '\n' ' ' | tr -s ' ' | sed 's/ *$//'
}
# fails_by NAME COUNTER DESC: a 503 for NAME, COUNTER up by one per try (Istio's default retry
# policy, 2 retries on connect-failure, tries 3 times, as Envoy would)
fails_by() {
	local before after out
	before=$(st "$2")
	out=$(get "$1")
	after=$(st "$2")
	hf_check "$3 → 503 ('$(cut -c1-60 <<<"$out")'; $2 $before -> $after)" \
		test "${out: -3}" = 503 -a "$after" -gt "$before"
}

# ---------------------------------------------------------------- SIMPLE
hs0=$(st tls.upstream.handshakes)
out=$(get simple)
hf_check "SIMPLE, caCertificates: TLS to nginx, SNI the service's host ('$out')" \
	grep -Eq "^port=$TLS_PORT tls=TLSv1\.[23] sni=simple\.up\.example\.com 200$" <<<"$out"
# two requests on one client connection (so on one worker): at most one handshake for both
reused0=$(st http.upstream_cx_reused)
hs1=$(st tls.upstream.handshakes)
out=$(in_ns "${CURL[@]}" -H "Host: simple.up.example.com" -w ' %{http_code}\n' "http://$OUR/who" "http://$OUR/who" 2>&1 |
	awk '/ 200$/ { n++ } END { print n + 0 }')
hs2=$(st tls.upstream.handshakes)
reused1=$(st http.upstream_cx_reused)
hf_check "keep-alive: the TLS connection is pooled and reused ($out of 2 answered 200; handshakes $hs0 -> $hs1 -> $hs2, http.upstream_cx_reused $reused0 -> $reused1)" \
	test "$out" = 2 -a "$hs1" -eq $((hs0 + 1)) -a "$hs2" -le $((hs1 + 1)) -a "$reused1" -gt "$reused0"
out=$(get sni)
hf_check "sni: other.up.example.com is what nginx sees ('$out')" \
	grep -q "sni=other\.up\.example\.com 200$" <<<"$out"
out=$(get sanok)
hf_check "subjectAltNames with one the certificate covers (*.up.example.com ∋ x.up.example.com) → '$out'" \
	grep -q " 200$" <<<"$out"
out=$(get skip)
hf_check "insecureSkipVerify: no CA given, nothing checked → '$out'" grep -q " 200$" <<<"$out"
out=$(get cleartext)
hf_check "a cluster without tls stays plaintext ('$out')" grep -q "^port=$PLAIN_PORT tls= sni= 200$" <<<"$out"

want=$(sha256sum < "$WWW/1m.bin" | cut -d' ' -f1)
got=$(in_ns "${CURL[@]}" -H "Host: simple.up.example.com" "http://$OUR/1m.bin" | sha256sum | cut -d' ' -f1)
hf_check "a 1 MB response through the TLS upstream arrives intact (${got:0:12}, file ${want:0:12})" \
	test "$got" = "$want"
want=$(sha256sum < "$HF_TMP/1m-post.bin" | cut -d' ' -f1)
seen=$(in_ns "${CURL[@]}" -o /dev/null -D - -H "Host: simple.up.example.com" \
	--data-binary @"$HF_TMP/1m-post.bin" -H 'content-type: application/octet-stream' \
	"http://$OUR/py/echo" | tr -d '\r' | sed -n 's/^x-body-sha256: //Ip')
hf_check "a 1 MB POST through the TLS upstream arrives intact (httptool saw ${seen:0:12}, sent ${want:0:12})" \
	test "$seen" = "$want"

# ---------------------------------------------------------------- resumption
# nginx on RESUME_PORT closes after each response: three requests on one client connection
# (one worker) are three upstream handshakes; the 2nd and 3rd offer the session the 1st got.
res0=$(st tls.upstream.resumed)
hs0=$(st tls.upstream.handshakes)
out=$(in_ns "${CURL[@]}" -H "Host: resume.up.example.com" -w ' %{http_code}\n' "http://$OUR/who" "http://$OUR/who" \
	"http://$OUR/who" 2>&1 | tr '\n' ' ')
res1=$(st tls.upstream.resumed)
hs1=$(st tls.upstream.handshakes)
for _ in $(seq 20); do [ "$(grep -c . "$HF_TMP/nginx-resume.log" 2>/dev/null)" -ge 3 ] && break; sleep 0.1; done
ngx=$(awk '{ print $2 }' "$HF_TMP/nginx-resume.log" 2>/dev/null | tr '\n' ' ')
hf_check "client sessions resumed per upstream endpoint: 3 requests, 3 handshakes ($hs0 -> $hs1), tls.upstream.resumed $res0 -> $res1, nginx's \$ssl_session_reused: $ngx('$out')" \
	test "$(grep -o ' 200' <<<"$out" | wc -l)" -eq 3 -a $((hs1 - hs0)) -eq 3 -a $((res1 - res0)) -eq 2 \
	-a "$ngx" = "reused=. reused=r reused=r "

# ---------------------------------------------------------------- refusals
fails_by wrongca tls.upstream.handshake.untrusted_server_cert "caCertificates of another CA"
out=$(get wrongca)
hf_check "the 503's body gives the reason as Envoy's does ('$(cut -c60-200 <<<"$out")')" \
	grep -q "reset reason: connection failure, transport failure reason: TLS_error:untrusted_server_cert 503$" <<<"$out"
hf_check "the access log gives UF and the transport failure reason" \
	grep -q '" 503 UF upstream_reset_before_response_started - "TLS_error:untrusted_server_cert"' "$HF_TMP/access.log"
fails_by san tls.upstream.handshake.san_mismatch "subjectAltNames the certificate does not carry"
fails_by badsni tls.upstream.handshake.san_mismatch "an sni the certificate is not valid for (auto SAN validation)"
fails_by plain tls.upstream.handshake.not_tls "SIMPLE to a plaintext port"
hf_check "the access log gives san_mismatch and not_tls too" \
	grep -q '"TLS_error:san_mismatch"' "$HF_TMP/access.log" -a -n "$(grep '"TLS_error:not_tls"' "$HF_TMP/access.log")"

# ---------------------------------------------------------------- MUTUAL
out=$(get mutual)
hf_check "MUTUAL, clientCertificate/privateKey: nginx (ssl_verify_client on) verified us ('$out')" \
	grep -q "client=CN=gateway-client,O=Hydrofoil test verify=SUCCESS 200$" <<<"$out"
out=$(get cred)
hf_check "MUTUAL, credentialName gw-client (tls.crt, tls.key, ca.crt) → '$out'" \
	grep -q "verify=SUCCESS 200$" <<<"$out"
before=$(st http.downstream_rq_4xx)
out=$(get nocert)
after=$(st http.downstream_rq_4xx)
hf_check "no client certificate (SIMPLE) to that port: nginx refuses the request ('$(cut -c1-70 <<<"$out")', http.downstream_rq_4xx $before -> $after)" \
	test "${out: -3}" = 400 -a "$after" -gt "$before"
hf_check "nginx logged the client certificate it verified" \
	grep -q "^$MTLS_PORT TLSv1.[23] sni=mutual.up.example.com client=CN=gateway-client,O=Hydrofoil test verify=SUCCESS" "$HF_TMP/nginx-access.log"

# ---------------------------------------------------------------- Istio's egress task
out=$(get egress)
hf_check "egress TLS origination task: port 80 HTTP → targetPort 443 over TLS ('$out')" \
	grep -q "^port=443 tls=TLSv1.[23] sni=egress.example.com 200$" <<<"$out"

# ---------------------------------------------------------------- ISTIO_MUTUAL
out=$(get mesh)
hf_check "ISTIO_MUTUAL: our mesh identity verified by nginx, the server's default/cart from the endpoint's serviceAccount ('$out')" \
	grep -q "^mesh verify=SUCCESS serial=[0-9A-F]* 200$" <<<"$out"
out=$(get mesh sni)
hf_check "ISTIO_MUTUAL sends Istio's SNI, outbound_.<port>_.<subset>_.<host>, and offers Istio's ALPN with http/1.1, which nginx takes ('$out')" \
	grep -q "^sni=outbound_\.80_\._\.mesh\.up\.example\.com alpn=http/1\.1 200$" <<<"$out"
fails_by meshbad tls.upstream.handshake.san_mismatch "ISTIO_MUTUAL to a workload of another service account (default/intruder)"
out=$(get meshse)
hf_check "ISTIO_MUTUAL, the ServiceEntry's subjectAltNames name default/cart ('$out')" grep -q " 200$" <<<"$out"
fails_by meshseb tls.upstream.handshake.san_mismatch "ISTIO_MUTUAL, ServiceEntry subjectAltNames, the intruder answers"
out=$(get meshany)
hf_check "ISTIO_MUTUAL with no identity named: any certificate of the mesh root goes ('$out')" \
	grep -q "^intruder verify=SUCCESS 200$" <<<"$out"
fails_by wrongca tls.upstream.handshake.untrusted_server_cert "(again) caCertificates of another CA"

# Gateway server with tls.mode ISTIO_MUTUAL: serves the node's identity, wants the mesh's
gwsan=$(in_ns timeout 10 openssl s_client -connect "$OUR:$GW_MESH_PORT" -cert "$MESH/default/client/cert-chain.pem" \
	-key "$MESH/default/client/key.pem" </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName 2>/dev/null | tr -d ' \n')
hf_check "the ISTIO_MUTUAL Gateway server shows the node's identity ($gwsan)" \
	test "$gwsan" = "X509v3SubjectAlternativeName:criticalURI:spiffe://cluster.local/ns/istio-system/sa/istio-ingressgateway"
MCURL=(curl -sS --noproxy '*' --max-time 20 --cacert "$MESH/root-cert.pem" -k -H "Host: simple.up.example.com")
out=$(in_ns "${MCURL[@]}" --cert "$MESH/default/client/cert-chain.pem" --key "$MESH/default/client/key.pem" \
	-w ' %{http_code}' "https://$OUR:$GW_MESH_PORT/who" 2>&1 | tr '\n' ' ' | sed 's/ *$//')
hf_check "a mesh client certificate → the route ('$out')" grep -q " 200$" <<<"$out"
before=$(st tls.handshake.untrusted_client_cert)
out=$(in_ns "${MCURL[@]}" --cert "$CLIENTS/gw.crt" --key "$CLIENTS/gw.key" -o /dev/null -w '%{http_code}' \
	"https://$OUR:$GW_MESH_PORT/who" 2>/dev/null)
after=$(st tls.handshake.untrusted_client_cert)
hf_check "a client certificate of another CA refused ($out; tls.handshake.untrusted_client_cert $before -> $after)" \
	test "$out" = 000 -a "$after" -eq $((before + 1))

# ---------------------------------------------------------------- load
if command -v wrk >/dev/null; then
	out=$(in_ns wrk -t1 -c16 -d5s -H "Host: simple.up.example.com" "http://$OUR/who" 2>&1)
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	errs=$(grep -E 'Socket errors|Non-2xx' <<<"$out" | tr '\n' ' ')
	plain=$(in_ns wrk -t1 -c16 -d5s -H "Host: cleartext.up.example.com" "http://$OUR/who" 2>&1 |
		awk '/^Requests\/sec:/ { print $2 }')
	echo "# wrk -t1 -c16 -d5s through the gateway: ${rps:-?} req/s to the TLS upstream, ${plain:-?} req/s to the same nginx in plaintext"
	hf_check "wrk through the TLS upstream for 5 s: ${rps:-no} req/s, no socket errors or non-2xx (${errs:-none})" \
		test -n "$rps" -a -z "$errs"
else
	hf_skip "wrk through the TLS upstream: wrk is not installed"
fi

# ---------------------------------------------------------------- end
echo "# tls.upstream counters: $(hf_admin "$NS" /stats | grep '^tls\.upstream' | grep -v ' 0$' | tr '\n' ' ')"
hf_check_stop
echo "# $((SECONDS - T0)) s"
hf_done
