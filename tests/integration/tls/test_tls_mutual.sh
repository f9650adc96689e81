#!/usr/bin/env bash
# Gateway tls.mode MUTUAL and httpsRedirect end to end: hydrofoil as an Istio ingress gateway on
# a net_tap in a private namespace; a test CA made now (scripts/mkcert.sh) signs the server
# certificates and the client certificates (openssl ca, which takes any start and end date,
# so the expired one is real); a second CA signs a client certificate nobody trusts; curl
# --cert/--key as the client. The routes are directResponse: no upstream is involved.
#
# Checks: a good client certificate → 200 (CA from the credential's ca.crt; from caCertificates
# with subjectAltNames matched by a URI SAN and by a DNS SAN; from Istio's <name>-cacert
# folder); no certificate → refused (TLS 1.3 and 1.2; tls.handshake.no_client_cert); another
# CA's → refused (tls.handshake.untrusted_client_cert); an expired one → refused
# (tls.handshake.expired_client_cert); a SAN not in subjectAltNames → refused
# (tls.handshake.client_san_mismatch); a SIMPLE server on the same port, chosen by SNI, asks
# for no certificate whether it comes first or after a MUTUAL one; x-forwarded-client-cert
# (Envoy's SANITIZE_SET, the default of Istio's gateways) as the upstream (httptool.py) saw it:
# Hash (SHA-256 of the certificate, from openssl), Subject, URI and DNS of the client's
# certificate, a client's own forged one dropped, none behind a SIMPLE server; httpsRedirect: http:// →
# 301 with location https://host/path?query (the Host's port dropped), counted in
# http.rq_redirect, ahead of the VirtualService's route; configurations refused at load with
# file, line and field: a caCertificates file that is not a CA, one with no PEM, a credential
# without a CA, MUTUAL without a CA, OPTIONAL_MUTUAL; SIGTERM stops it with status 0.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"

OUR=198.51.100.2
PEER=198.51.100.1
CERTS=$HF_TMP/certs
OTHER=$HF_TMP/other-ca
CLIENTS=$HF_TMP/clients
ISTIO=$HF_TMP/istio
SPIFFE=spiffe://hydrofoil.test/ns/default/sa/client

# ---------------------------------------------------------------- certificates
"$HF_ROOT/scripts/mkcert.sh" ca "$CERTS" &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" m-cred m.example.com &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" v-cred v.example.com &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" s-cred s.example.com &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" files san.example.com &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" noca-cred noca.example.com &&
	"$HF_ROOT/scripts/mkcert.sh" ca "$OTHER"
# Istio's separate CA secret: v-cred's CA only in v-cred-cacert/ca.crt; noca-cred has none
mkdir -p "$CERTS/v-cred-cacert"
mv "$CERTS/v-cred/ca.crt" "$CERTS/v-cred-cacert/ca.crt"
rm -f "$CERTS/noca-cred/ca.crt"

# client NAME CA_DIR SAN [START END]: $CLIENTS/NAME.crt/.key, a client certificate (clientAuth)
# with subjectAltName SAN, signed by CA_DIR's root; START/END as openssl ca's -startdate/-enddate
client() {
	local name=$1 ca=$2 san=$3 db=$HF_TMP/ca-db-$1 dates=()
	[ $# -ge 5 ] && dates=(-startdate "$4" -enddate "$5") || dates=(-days 1)
	mkdir -p "$CLIENTS" "$db"
	: > "$db/index.txt"
	cat > "$db/ca.cnf" <<CNF
[ca]
default_ca = tca
[tca]
database = $db/index.txt
new_certs_dir = $db
serial = $db/serial
default_md = sha256
policy = pol
unique_subject = no
[pol]
commonName = supplied
organizationName = optional
[ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = $san
CNF
	openssl rand -hex 8 > "$db/serial"
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CLIENTS/$name.key" 2>/dev/null &&
		openssl req -new -key "$CLIENTS/$name.key" -subj "/O=Hydrofoil test/CN=$name" \
			-out "$db/req.csr" 2>/dev/null &&
		openssl ca -batch -notext -config "$db/ca.cnf" -extensions ext -cert "$ca/ca.crt" \
			-keyfile "$ca/ca.key" "${dates[@]}" -in "$db/req.csr" -out "$CLIENTS/$name.crt" \
			>/dev/null 2>&1
}
client good "$CERTS" "URI:$SPIFFE" &&
	client dns "$CERTS" "DNS:dns-client.example.com" &&
	client wrongsan "$CERTS" "URI:spiffe://hydrofoil.test/ns/default/sa/intruder,DNS:other.example.com" &&
	client expired "$CERTS" "URI:$SPIFFE" 20200101000000Z 20200102000000Z &&
	client stranger "$OTHER" "URI:$SPIFFE"
hf_check "test CA, server certificates (mkcert.sh) and 5 client certificates (openssl ca) made" \
	test -s "$CLIENTS/good.crt" -a -s "$CLIENTS/dns.crt" -a -s "$CLIENTS/wrongsan.crt" \
	-a -s "$CLIENTS/expired.crt" -a -s "$CLIENTS/stranger.crt"
hf_check "the expired client certificate verifies against the CA only as expired" \
	grep -q "certificate has expired" <<<"$(openssl verify -CAfile "$CERTS/ca.crt" "$CLIENTS/expired.crt" 2>&1)"

# ---------------------------------------------------------------- Istio configuration
mkdir -p "$ISTIO"
# gateway EXTRA: the Gateway, EXTRA appended to the tls block of the files server
gateway() {
	cat <<YAML
apiVersion: networking.istio.io/v1beta1
kind: Gateway
metadata:
  name: gw
  namespace: default
spec:
  selector:
    istio: ingressgateway
  servers:
  - port: {number: 443, name: https-s, protocol: HTTPS}
    hosts: ["s.example.com"]
    tls: {mode: SIMPLE, credentialName: s-cred}
  - port: {number: 443, name: https-m, protocol: HTTPS}
    hosts: ["m.example.com"]
    tls: {mode: MUTUAL, credentialName: m-cred}
  - port: {number: 443, name: https-v, protocol: HTTPS}
    hosts: ["v.example.com"]
    tls: {mode: MUTUAL, credentialName: v-cred}
  - port: {number: 443, name: https-san, protocol: HTTPS}
    hosts: ["san.example.com"]
    tls:
      mode: MUTUAL
      serverCertificate: $CERTS/files/tls.crt
      privateKey: $CERTS/files/tls.key
      caCertificates: $CERTS/ca.crt
      subjectAltNames: ["$SPIFFE", "dns-client.example.com"]
$1
  - port: {number: 8443, name: https-m2, protocol: HTTPS}
    hosts: ["m.example.com"]
    tls: {mode: MUTUAL, credentialName: m-cred}
  - port: {number: 8443, name: https-s2, protocol: HTTPS}
    hosts: ["s.example.com"]
    tls: {mode: SIMPLE, credentialName: s-cred}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
    tls: {httpsRedirect: true}
  - port: {number: 8080, name: http-plain, protocol: HTTP}
    hosts: ["*"]
YAML
}
gateway "" > "$ISTIO/gateway.yaml"
PY_PORT=8081
cat > "$ISTIO/routes.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: py, namespace: default}
spec:
  hosts: [py.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: $PY_PORT, name: http, protocol: HTTP}]
  endpoints: [{address: $PEER}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: all, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {prefix: /py/}}]
    route: [{destination: {host: py, port: {number: $PY_PORT}}}]
  - directResponse: {status: 200, body: {string: "hello mutual"}}
YAML

T0=$SECONDS
NS=$(hf_ns_new mtls) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; credentials_dir = \"$CERTS\"; };"

# ---------------------------------------------------------------- refused at load
# refused GATEWAY_YAML WANT DESC: --check on a copy of the config with gateway.yaml replaced;
# WANT may hold @LINE@, the line of the first "@MARK@" line in the file (the marker removed)
refused() {
	local dir=$HF_TMP/bad out rc line
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$ISTIO/routes.yaml" "$dir/"
	printf '%s\n' "$1" > "$dir/gateway.yaml"
	line=$(grep -n '@MARK@' "$dir/gateway.yaml" | head -1 | cut -d: -f1)
	sed -i 's/ *#@MARK@//' "$dir/gateway.yaml"
	set -- "$1" "${2//@LINE@/$line}" "$3"
	sed "s|$ISTIO|$dir|" "$HF_TMP/hf.cfg" > "$HF_TMP/bad.cfg"
	out=$("$HF_BIN" -c "$HF_TMP/bad.cfg" --check 2>&1)
	rc=$?
	hf_check "$3 refused at load: exit $rc, '$(tail -1 <<<"$out" | cut -c1-220)'" \
		test "$rc" -eq 2 -a -n "$(grep -F -- "$2" <<<"$out")"
}
refused "$(gateway "" | sed "s|caCertificates: $CERTS/ca.crt|caCertificates: $CLIENTS/good.crt #@MARK@|")" \
	"gateway.yaml:@LINE@: Gateway default/gw: spec.servers[3].tls.caCertificates: $CLIENTS/good.crt: caCertificates: certificate 1 (/CN=good/O=Hydrofoil test) is not a CA certificate" \
	"a caCertificates file holding a client certificate"
refused "$(gateway "" | sed "s|caCertificates: $CERTS/ca.crt|caCertificates: $CERTS/files/tls.key #@MARK@|")" \
	"gateway.yaml:@LINE@: Gateway default/gw: spec.servers[3].tls.caCertificates: $CERTS/files/tls.key: caCertificates: no PEM certificate" \
	"a caCertificates file holding a key"
refused "$(gateway "" | sed "s|caCertificates: $CERTS/ca.crt|caCertificates: $CERTS/nope.crt #@MARK@|")" \
	"gateway.yaml:@LINE@: Gateway default/gw: spec.servers[3].tls.caCertificates: cannot read '$CERTS/nope.crt'" \
	"a caCertificates file that is not there"
refused "$(gateway "" | sed "0,/{mode: MUTUAL, credentialName: m-cred}/s//{mode: MUTUAL, credentialName: noca-cred} #@MARK@/")" \
	"gateway.yaml:@LINE@: Gateway default/gw: spec.servers[1].tls.credentialName: mode MUTUAL: credential 'noca-cred' has no CA" \
	"a MUTUAL credential with neither ca.crt nor a -cacert folder"
refused "$(gateway "" | sed "/caCertificates: /d")" \
	"spec.servers[3].tls: mode MUTUAL needs caCertificates" "MUTUAL with certificate files and no caCertificates"
refused "$(gateway "" | sed "0,/{mode: MUTUAL, credentialName: m-cred}/s//{mode: OPTIONAL_MUTUAL, credentialName: m-cred}/")" \
	"spec.servers[1].tls.mode: OPTIONAL_MUTUAL is not supported yet (SIMPLE, MUTUAL and PASSTHROUGH only)" "tls.mode OPTIONAL_MUTUAL"

# ---------------------------------------------------------------- start
if ! out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1); then
	hf_not_ok "bootstrap with MUTUAL Gateway servers accepted by --check ($out)"
	exit 1
fi
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with MUTUAL Gateway servers reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with MUTUAL Gateway servers reports LIVE"

in_ns() { ip netns exec "$NS" "$@"; }
in_ns "$HF_PY" "$HF_ROOT/tests/integration/http/httptool.py" serve "$PEER" "$PY_PORT" \
	>"$HF_TMP/py.log" 2>&1 &
HF_PIDS+=($!)
for _ in $(seq 50); do [ -n "$(in_ns ss -Hltn "sport = :$PY_PORT")" ] && break; sleep 0.1; done
st() { local v; v=$(hf_stat "$NS" "$1"); echo "${v:-0}"; }
CURL=(curl -sS --noproxy '*' --max-time 20 --cacert "$CERTS/ca.crt")
# get HOST PORT [CLIENT] [curl args...]: the status (000 when refused) and curl's error, one line
get() {
	local host=$1 port=$2 who=${3:-} cert=() code
	shift 3 2>/dev/null || shift $#
	[ -n "$who" ] && cert=(--cert "$CLIENTS/$who.crt" --key "$CLIENTS/$who.key")
	code=$(in_ns "${CURL[@]}" --resolve "$host:$port:$OUR" "${cert[@]}" "$@" -o /dev/null \
		-w '%{http_code}' "https://$host:$port/hello" 2>"$HF_TMP/curl.err")
	echo "$code$(sed 's/^curl: ([0-9]*) OpenSSL[^:]*: [^:]*: *//; s/^/ /' "$HF_TMP/curl.err" | tr '\n' ' ')"
}
# refused_by COUNTER DESC HOST PORT [CLIENT] [curl args...]: the request fails and COUNTER rises by 1
refused_by() {
	local counter=$1 desc=$2 before after out
	shift 2
	before=$(st "$counter")
	out=$(get "$@")
	after=$(st "$counter")
	hf_check "$desc → refused ('$(cut -c1-90 <<<"$out")'; $counter $before -> $after)" \
		test "${out:0:3}" = 000 -a "$after" -eq $((before + 1))
}

# ---------------------------------------------------------------- MUTUAL
out=$(get m.example.com 443 good)
hf_check "a client certificate of the credential's CA (m-cred/ca.crt) → $out" test "$out" = 200
out=$(get m.example.com 443 good --tlsv1.2 --tls-max 1.2)
hf_check "the same over TLS 1.2 → $out" test "$out" = 200
refused_by tls.handshake.no_client_cert "no client certificate (TLS 1.3)" m.example.com 443 ""
refused_by tls.handshake.no_client_cert "no client certificate (TLS 1.2)" m.example.com 443 "" \
	--tlsv1.2 --tls-max 1.2
refused_by tls.handshake.untrusted_client_cert "a client certificate of another CA" m.example.com 443 stranger
refused_by tls.handshake.expired_client_cert "an expired client certificate of the right CA" \
	m.example.com 443 expired
out=$(get m.example.com 443 wrongsan)
hf_check "any SAN goes where subjectAltNames is not set (m.example.com, wrong-SAN certificate) → $out" \
	test "$out" = 200

out=$(get san.example.com 443 good)
hf_check "caCertificates file, subjectAltNames matched by the certificate's URI SAN $SPIFFE → $out" \
	test "$out" = 200
out=$(get san.example.com 443 dns)
hf_check "subjectAltNames matched by a DNS SAN (dns-client.example.com) → $out" test "$out" = 200
refused_by tls.handshake.client_san_mismatch "a certificate of the right CA whose SANs are not in subjectAltNames" \
	san.example.com 443 wrongsan
refused_by tls.handshake.no_client_cert "no client certificate on the caCertificates server" \
	san.example.com 443 ""

out=$(get v.example.com 443 good)
hf_check "a CA from Istio's <name>-cacert folder (v-cred-cacert/ca.crt) → $out" test "$out" = 200
refused_by tls.handshake.untrusted_client_cert "another CA's certificate there" v.example.com 443 stranger

# SNI picks the server: its verify mode comes with it, in both directions
out=$(get s.example.com 443 "")
hf_check "a SIMPLE server first on the port asks no certificate → $out" test "$out" = 200
out=$(get s.example.com 8443 "")
hf_check "a SIMPLE server after a MUTUAL one on the port asks no certificate → $out" test "$out" = 200
refused_by tls.handshake.no_client_cert "the MUTUAL server first on port 8443, no certificate" \
	m.example.com 8443 ""
out=$(get m.example.com 8443 good)
hf_check "and with one → $out" test "$out" = 200

# ---------------------------------------------------------------- x-forwarded-client-cert
# xfcc HOST CLIENT: the x-forwarded-client-cert values the upstream got for a request that
# carried a forged one, '|'-separated ("none" when it got none)
xfcc() {
	local cert=()
	[ -n "$2" ] && cert=(--cert "$CLIENTS/$2.crt" --key "$CLIENTS/$2.key")
	in_ns "${CURL[@]}" --resolve "$1:443:$OUR" "${cert[@]}" -H 'x-forwarded-client-cert: By=forged;URI=spiffe://evil' \
		"https://$1/py/headers" 2>/dev/null |
		"$HF_PY" -c 'import json,sys
v=[x[1] for x in json.load(sys.stdin)["headers"] if x[0].lower()=="x-forwarded-client-cert"]
print("|".join(v) if v else "none")' 2>/dev/null || echo "no answer"
}
hash_of() { openssl x509 -in "$CLIENTS/$1.crt" -outform DER | sha256sum | cut -d' ' -f1; }
subject_of() { openssl x509 -in "$CLIENTS/$1.crt" -noout -subject -nameopt RFC2253 | sed 's/^subject=//'; }
got=$(xfcc m.example.com good)
want="Hash=$(hash_of good);Subject=\"$(subject_of good)\";URI=$SPIFFE"
hf_check "MUTUAL: the upstream got one x-forwarded-client-cert, the client's forged one dropped: '$got'" \
	test "$got" = "$want"
got=$(xfcc san.example.com dns)
want="Hash=$(hash_of dns);Subject=\"$(subject_of dns)\";DNS=dns-client.example.com"
hf_check "a certificate with a DNS SAN only: '$got'" test "$got" = "$want"
got=$(xfcc s.example.com "")
hf_check "SIMPLE (no client certificate): the forged one dropped, none set: '$got'" test "$got" = none

# ---------------------------------------------------------------- httpsRedirect
before=$(st http.rq_redirect)
hdr=$(in_ns curl -sS --noproxy '*' --max-time 10 -o /dev/null -D - --resolve m.example.com:80:$OUR \
	'http://m.example.com/some/path?q=1' 2>&1 | tr -d '\r')
code=$(awk 'NR == 1 { print $2 }' <<<"$hdr")
loc=$(sed -n 's/^location: //Ip' <<<"$hdr")
hf_check "httpsRedirect: http://m.example.com/some/path?q=1 → $code, location $loc" \
	test "$code" = 301 -a "$loc" = "https://m.example.com/some/path?q=1"
hdr=$(in_ns curl -sS --noproxy '*' --max-time 10 -o /dev/null -D - -H 'Host: www.example.com:8000' \
	"http://$OUR/x" 2>&1 | tr -d '\r')
code=$(awk 'NR == 1 { print $2 }' <<<"$hdr")
loc=$(sed -n 's/^location: //Ip' <<<"$hdr")
hf_check "the Host's port is dropped: Host www.example.com:8000 → $code, location $loc" \
	test "$code" = 301 -a "$loc" = "https://www.example.com/x"
after=$(st http.rq_redirect)
hf_check "both counted: http.rq_redirect $before -> $after" test "$after" -eq $((before + 2))
out=$(in_ns curl -sS --noproxy '*' --max-time 10 "http://$OUR:8080/hello" 2>&1)
hf_check "an HTTP server without httpsRedirect serves the route: '$out'" test "$out" = "hello mutual"

# ---------------------------------------------------------------- end
echo "# tls counters: $(hf_admin "$NS" /stats | grep '^tls\.' | tr '\n' ' ')"
hf_check_stop
echo "# $((SECONDS - T0)) s"
hf_done
