#!/usr/bin/env bash
# TLS termination (tls.mode SIMPLE) end to end: hydrofoil as an Istio ingress gateway on a
# net_tap in a private namespace, HTTPS Gateway servers whose certificates come from a test
# CA made now (scripts/mkcert.sh: openssl req / openssl x509), nginx and httptool.py as
# upstreams, curl, openssl s_client and wrk as clients.
#
# Checks: two SNI names on one port get their own certificate (an exact name, ECDSA, by
# credentialName; a wildcard, RSA, by credentialName) and a third by serverCertificate /
# privateKey file paths; no SNI gets the first server's; an unknown name is refused
# (tls.handshake.unknown_sni); TLS 1.2 and 1.3 both work; minProtocolVersion TLSV1_3 refuses
# a 1.2 client (tls.handshake.bad_version); cipherSuites is what a 1.2 client gets, and a
# client with none of them is refused (tls.handshake.no_shared_cipher); plaintext HTTP on the
# TLS port is closed and counted; ALPN h2,http/1.1 negotiates http/1.1; x-forwarded-proto
# https upstream; a 1 MB POST and a 10 MB response arrive intact (sha256); wrk with
# keep-alive for 5 s over TLS without errors (req/s printed, beside plaintext on port 80);
# a 6,000-byte directResponse (several mbufs) leaves as one TLS record (tls.records_sent), and
# the 10 MB response's mean record is printed; the access log gives the SNI as
# %REQUESTED_SERVER_NAME% ("-" on the plaintext port);
# malformed ClientHellos counted; a stalled handshake holds up nobody and is reset at 10 s;
# configurations refused at load with file, line and field: an unknown cipher suite, TLSV1_0,
# ISTIO_MUTUAL, a PASSTHROUGH server with a certificate, a missing credential (MUTUAL: test_tls_mutual.sh); SIGTERM stops it with status 0.
set -uo pipefail
source "$(dirname "$0")/../../../scripts/lib/netns.sh"
TOOL=$HF_ROOT/tests/integration/http/httptool.py
NGINX_CONF=$HF_ROOT/tests/integration/http/nginx.conf.in

OUR=198.51.100.2
PEER=198.51.100.1
WEB_PORT=8080   # nginx
PY_PORT=8081    # httptool.py serve
CERTS=$HF_TMP/certs
ISTIO=$HF_TMP/istio
WWW=$HF_TMP/www

# ---------------------------------------------------------------- certificates
"$HF_ROOT/scripts/mkcert.sh" ca "$CERTS" &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" a-cred a.example.com &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" wild-cred -rsa '*.example.org' &&
	"$HF_ROOT/scripts/mkcert.sh" cert "$CERTS" files files.example.net
hf_check "test CA and three server certificates made by scripts/mkcert.sh" \
	test -s "$CERTS/a-cred/tls.crt" -a -s "$CERTS/wild-cred/tls.key" -a -s "$CERTS/files/tls.crt"

# ---------------------------------------------------------------- Istio configuration
mkdir -p "$ISTIO"
gateway() {	# gateway CIPHER_SUITE_LINE
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
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: ["a.example.com"]
    tls: {mode: SIMPLE, credentialName: a-cred}
  - port: {number: 443, name: https-wild, protocol: HTTPS}
    hosts: ["default/*.example.org"]
    tls: {mode: SIMPLE, credentialName: wild-cred, minProtocolVersion: TLSV1_2}
  - port: {number: 443, name: https-files, protocol: HTTPS}
    hosts: ["files.example.net"]
    tls:
      mode: SIMPLE
      serverCertificate: $CERTS/files/tls.crt
      privateKey: $CERTS/files/tls.key
  - port: {number: 8443, name: https-13, protocol: HTTPS}
    hosts: ["*"]
    tls: {mode: SIMPLE, credentialName: a-cred, minProtocolVersion: TLSV1_3}
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
  - port: {number: 9443, name: https-12, protocol: HTTPS}
    hosts: ["*"]
    tls:
      mode: SIMPLE
      credentialName: a-cred
      maxProtocolVersion: TLSV1_2
      cipherSuites:
      - ECDHE-ECDSA-AES128-GCM-SHA256
$1
YAML
}
gateway "" > "$ISTIO/gateway.yaml"
cat > "$ISTIO/routes.yaml" <<YAML
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: web, namespace: default}
spec:
  hosts: [web.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: $PEER}]
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata: {name: py, namespace: default}
spec:
  hosts: [py.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8081, name: http, protocol: HTTP}]
  endpoints: [{address: $PEER}]
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: all, namespace: default}
spec:
  hosts: ["*"]
  gateways: [gw]
  http:
  - match: [{uri: {exact: /direct-6000}}]
    directResponse: {status: 200, body: {string: "$(head -c 6000 /dev/zero | tr '\0' 'd')"}}
  - match: [{uri: {prefix: /py/}}]
    route: [{destination: {host: py, port: {number: 8081}}}]
  - route: [{destination: {host: web, port: {number: 8080}}}]
YAML

T0=$SECONDS
NS=$(hf_ns_new tls) || { hf_not_ok "create namespace"; exit 1; }
HF_NAMESPACES+=("$NS")
hf_cfg "$HF_TMP/hf.cfg" hf0 "$OUR/24" "$PEER" "config: { istio_dir = \"$ISTIO\"; credentials_dir = \"$CERTS\"; };
access_log = \"$HF_TMP/access.log\";"

# ---------------------------------------------------------------- refused at load
# refused FILE_CONTENT WANT DESC: --check on a copy of the config with gateway.yaml replaced;
# WANT may hold @LINE@, the line of the first "NO-SUCH" in the file
refused() {
	local dir=$HF_TMP/bad out rc
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$ISTIO/routes.yaml" "$dir/"
	printf '%s\n' "$1" > "$dir/gateway.yaml"
	set -- "$1" "${2//@LINE@/$(grep -n 'NO-SUCH' "$dir/gateway.yaml" | head -1 | cut -d: -f1)}" "$3"
	sed "s|$ISTIO|$dir|" "$HF_TMP/hf.cfg" > "$HF_TMP/bad.cfg"
	out=$("$HF_BIN" -c "$HF_TMP/bad.cfg" --check 2>&1)
	rc=$?
	hf_check "$3 refused at load: exit $rc, '$(tail -1 <<<"$out" | cut -c1-200)'" \
		test "$rc" -eq 2 -a -n "$(grep -F -- "$2" <<<"$out")"
}
refused "$(gateway "      - NO-SUCH-CIPHER")" \
	"gateway.yaml:@LINE@: Gateway default/gw: spec.servers[5].tls.cipherSuites[1]: unknown cipher suite 'NO-SUCH-CIPHER'" \
	"an unknown cipherSuites name"
refused "$(gateway "      - TLS_AES_128_GCM_SHA256")" "spec.servers[5].tls.cipherSuites[1]: 'TLS_AES_128_GCM_SHA256' is a TLS 1.3 suite" \
	"a TLS 1.3 suite in cipherSuites"
refused "$(gateway "" | sed 's/credentialName: a-cred, minProtocolVersion: TLSV1_3/credentialName: a-cred, minProtocolVersion: TLSV1_0/')" \
	"spec.servers[3].tls.minProtocolVersion: TLSV1_0 is not supported" "minProtocolVersion TLSV1_0"
for mode in ISTIO_MUTUAL AUTO_PASSTHROUGH OPTIONAL_MUTUAL; do
	refused "$(gateway "" | sed "0,/mode: SIMPLE, credentialName: a-cred}/s//mode: $mode, credentialName: a-cred}/")" \
		"spec.servers[0].tls.mode: $mode is not supported yet (SIMPLE, MUTUAL and PASSTHROUGH only)" "tls.mode $mode"
done
refused "$(gateway "" | sed "0,/mode: SIMPLE, credentialName: a-cred}/s//mode: PASSTHROUGH, credentialName: a-cred}/")" \
	"spec.servers[0].tls.credentialName: not used with mode PASSTHROUGH" "a certificate on a PASSTHROUGH server"
refused "$(gateway "" | sed '0,/credentialName: a-cred}/s//credentialName: nope}/')" \
	"spec.servers[0].tls.credentialName: cannot read '$CERTS/nope/tls.crt'" "a credentialName with no folder"
refused "$(gateway "" | sed "s|privateKey: $CERTS/files/tls.key|privateKey: $CERTS/a-cred/tls.key|")" \
	"the private key does not match the certificate" "a privateKey that is not the certificate's"

# ---------------------------------------------------------------- start
if ! out=$("$HF_BIN" -c "$HF_TMP/hf.cfg" --check 2>&1); then
	hf_not_ok "bootstrap with HTTPS Gateway servers accepted by --check ($out)"
	exit 1
fi
if ! hf_up "$NS" "$HF_TMP/hf.cfg" "$HF_TMP/hf.log" "$PEER/24"; then
	hf_not_ok "hydrofoil with HTTPS Gateway servers reports LIVE"
	exit 1
fi
hf_ok "hydrofoil with HTTPS Gateway servers reports LIVE"
mkdir -p "$WWW" "$HF_TMP/nginx"
echo "hello over tls" > "$WWW/hello.txt"
head -c $((10 << 20)) /dev/urandom > "$WWW/10m.bin"
head -c $((1 << 20)) /dev/urandom > "$HF_TMP/1m.bin"
sed -e "s|@TMP@|$HF_TMP|g" -e "s|@ADDR@|$PEER|g" -e "s|@PORT@|$WEB_PORT|g" "$NGINX_CONF" > "$HF_TMP/nginx.conf"
ip netns exec "$NS" nginx -p "$HF_TMP/nginx" -c "$HF_TMP/nginx.conf" -e "$HF_TMP/nginx-error.log" \
	-g 'daemon off;' >/dev/null 2>&1 &
HF_PIDS+=($!)
ip netns exec "$NS" "$HF_PY" "$TOOL" serve "$PEER" "$PY_PORT" >"$HF_TMP/py.log" 2>&1 &
HF_PIDS+=($!)
peers_up() {
	local p
	for p in "$WEB_PORT" "$PY_PORT"; do
		[ -n "$(ip netns exec "$NS" ss -Hltn "sport = :$p")" ] || return 1
	done
}
for _ in $(seq 50); do peers_up && break; sleep 0.1; done
hf_check "upstreams listening: nginx :$WEB_PORT, httptool :$PY_PORT" peers_up

in_ns() { ip netns exec "$NS" "$@"; }
st() { hf_stat "$NS" "$1"; }
stn() { local v; v=$(hf_stat "$NS" "$1"); echo "${v:-0}"; }
CURL=(curl -sS --noproxy '*' --max-time 20 --cacert "$CERTS/ca.crt")
# subject_of PORT [SNI]: the subject of the certificate the server shows
subject_of() {
	local sni=(-noservername)
	[ -n "${2:-}" ] && sni=(-servername "$2")
	in_ns timeout 10 openssl s_client -connect "$OUR:$1" "${sni[@]}" </dev/null 2>/dev/null |
		openssl x509 -noout -subject 2>/dev/null | sed 's/^subject= *//'
}

# ---------------------------------------------------------------- a stalled handshake
# A client that sends the first 12 bytes of a ClientHello and then nothing: the checks below
# run while it holds its connection (none may wait for it), and 10 s after its accept it is
# reset (tls.handshake.timeout), which is looked at last.
cat > "$HF_TMP/stall.py" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 443), timeout=30)
s.sendall(bytes.fromhex("160301020001000200030300"))  # record header, handshake header, version
t0 = time.time()
try:
    got = s.recv(100)
    print("closed" if got == b"" else "data", round(time.time() - t0, 1))
except ConnectionResetError:
    print("reset", round(time.time() - t0, 1))
except socket.timeout:
    print("timeout", round(time.time() - t0, 1))
PY
ip netns exec "$NS" "$HF_PY" "$HF_TMP/stall.py" "$OUR" > "$HF_TMP/stall.out" 2>&1 &
STALL_PID=$!
HF_PIDS+=($STALL_PID)
T_STALL=$SECONDS

# ---------------------------------------------------------------- SNI
for pair in "a.example.com|CN = a.example.com" "www.example.org|CN = *.example.org" \
	    "deep.sub.example.org|CN = *.example.org" "files.example.net|CN = files.example.net"; do
	name=${pair%%|*} want=${pair#*|}
	subj=$(subject_of 443 "$name")
	hf_check "SNI $name gets its server's certificate ($subj)" grep -qF "$want" <<<"$subj"
done
subj=$(subject_of 443)
hf_check "no SNI gets the first server's certificate ($subj)" grep -qF "CN = a.example.com" <<<"$subj"
before=$(st tls.handshake.unknown_sni)
subj=$(subject_of 443 nobody.example.com)
after=$(st tls.handshake.unknown_sni)
hf_check "an SNI no server takes is refused (no certificate; tls.handshake.unknown_sni $before -> $after)" \
	test -z "$subj" -a "${after:-0}" -eq $((${before:-0} + 1))

# curl through the real resolver path: the certificate verified against the test CA
for name in a.example.com www.example.org files.example.net; do
	body=$(in_ns "${CURL[@]}" --resolve "$name:443:$OUR" "https://$name/hello.txt" 2>&1)
	hf_check "curl https://$name/hello.txt, verified by the test CA: '$body'" test "$body" = "hello over tls"
done

# ---------------------------------------------------------------- versions and ciphers
v12=$(in_ns "${CURL[@]}" --resolve a.example.com:443:$OUR --tlsv1.2 --tls-max 1.2 -w '%{http_code}' -o /dev/null \
	https://a.example.com/hello.txt 2>&1)
hf_check "TLS 1.2 (curl --tlsv1.2 --tls-max 1.2) → $v12" test "$v12" = 200
v13=$(in_ns "${CURL[@]}" --resolve a.example.com:443:$OUR --tlsv1.3 -w '%{http_code}' -o /dev/null \
	https://a.example.com/hello.txt 2>&1)
hf_check "TLS 1.3 (curl --tlsv1.3) → $v13" test "$v13" = 200
hf_check "both versions counted: tls.handshakes_tls12 $(st tls.handshakes_tls12), tls.handshakes_tls13 $(st tls.handshakes_tls13)" \
	test "$(st tls.handshakes_tls12)" -ge 1 -a "$(st tls.handshakes_tls13)" -ge 1
before=$(st tls.handshake.bad_version)
out=$(in_ns "${CURL[@]}" --resolve a.example.com:8443:$OUR --tlsv1.2 --tls-max 1.2 -w '%{http_code}' -o /dev/null \
	https://a.example.com:8443/hello.txt 2>&1)
after=$(st tls.handshake.bad_version)
hf_check "minProtocolVersion TLSV1_3 refuses a TLS 1.2 client ('$(tail -1 <<<"$out" | cut -c1-80)'; tls.handshake.bad_version $before -> $after)" \
	test "$out" != 200 -a "${after:-0}" -eq $((${before:-0} + 1))
v=$(in_ns "${CURL[@]}" --resolve a.example.com:8443:$OUR --tlsv1.3 -w '%{http_code}' -o /dev/null \
	https://a.example.com:8443/hello.txt 2>&1)
hf_check "and serves a TLS 1.3 client → $v" test "$v" = 200
cipher=$(in_ns timeout 10 openssl s_client -connect "$OUR:9443" -servername x.test </dev/null 2>/dev/null |
	awk '/^ *Cipher *:/ { print $3; exit }')
hf_check "cipherSuites: a 1.2 client on :9443 gets ECDHE-ECDSA-AES128-GCM-SHA256 ($cipher)" \
	test "$cipher" = ECDHE-ECDSA-AES128-GCM-SHA256
before=$(st tls.handshake.no_shared_cipher)
out=$(in_ns timeout 10 openssl s_client -connect "$OUR:9443" -servername x.test -tls1_2 \
	-cipher ECDHE-ECDSA-CHACHA20-POLY1305 </dev/null 2>&1 | grep -c 'BEGIN CERTIFICATE')
after=$(st tls.handshake.no_shared_cipher)
hf_check "a client without those ciphers is refused (tls.handshake.no_shared_cipher $before -> $after)" \
	test "$out" = 0 -a "${after:-0}" -eq $((${before:-0} + 1))
v=$(in_ns timeout 10 openssl s_client -connect "$OUR:9443" -servername x.test -tls1_3 </dev/null 2>&1 |
	grep -c 'BEGIN CERTIFICATE')
hf_check "maxProtocolVersion TLSV1_2 refuses a TLS 1.3-only client" test "$v" = 0

# ---------------------------------------------------------------- plaintext, ALPN
before=$(st tls.handshake.plaintext_on_tls_port)
out=$(in_ns curl -sS --noproxy '*' --max-time 10 -w '%{http_code}' -o /dev/null "http://$OUR:443/hello.txt" 2>&1)
after=$(st tls.handshake.plaintext_on_tls_port)
hf_check "plaintext HTTP to the TLS port is closed unanswered ('$(tail -1 <<<"$out" | cut -c1-60)'; tls.handshake.plaintext_on_tls_port $before -> $after)" \
	test "${after:-0}" -eq $((${before:-0} + 1)) -a -n "$(grep -E 'Empty reply|reset' <<<"$out")"
alpn=$(in_ns timeout 10 openssl s_client -connect "$OUR:443" -servername a.example.com -alpn h2,http/1.1 \
	</dev/null 2>/dev/null | sed -n 's/^ALPN protocol: //p')
hf_check "openssl s_client -alpn h2,http/1.1 negotiates '$alpn'" test "$alpn" = "http/1.1"
alpn=$(in_ns timeout 10 openssl s_client -connect "$OUR:443" -servername a.example.com -alpn h2 \
	</dev/null 2>&1 | grep -E '^(ALPN protocol|No ALPN)' | head -1)
hf_check "an h2-only client gets no ALPN, not h2 ('$alpn')" test "$alpn" = "No ALPN negotiated"

# ---------------------------------------------------------------- bodies through TLS
xfp=$(in_ns "${CURL[@]}" --resolve a.example.com:443:$OUR https://a.example.com/py/headers 2>&1 |
	"$HF_PY" -c 'import json,sys
print(",".join(v for k, v in json.load(sys.stdin)["headers"] if k.lower() == "x-forwarded-proto"))' 2>/dev/null)
hf_check "the upstream sees x-forwarded-proto: $xfp" test "$xfp" = https
want=$(sha256sum < "$HF_TMP/1m.bin" | cut -d' ' -f1)
in_ns "${CURL[@]}" --resolve a.example.com:443:$OUR -D "$HF_TMP/post.hdr" -o "$HF_TMP/post.out" \
	--data-binary @"$HF_TMP/1m.bin" -H 'content-type: application/octet-stream' \
	https://a.example.com/py/echo 2>>"$HF_TMP/curl.err"
seen=$(tr -d '\r' < "$HF_TMP/post.hdr" | sed -n 's/^x-body-sha256: //Ip')
got=$(sha256sum < "$HF_TMP/post.out" | cut -d' ' -f1)
hf_check "a 1 MB POST through TLS reaches the upstream intact (${seen:0:12}) and comes back intact (${got:0:12}; sent ${want:0:12})" \
	test "$seen" = "$want" -a "$got" = "$want"
want=$(sha256sum < "$WWW/10m.bin" | cut -d' ' -f1)
r0=$(stn tls.records_sent) b0=$(stn tls.record_bytes_sent)
got=$(in_ns "${CURL[@]}" --resolve www.example.org:443:$OUR https://www.example.org/10m.bin | sha256sum | cut -d' ' -f1)
r1=$(stn tls.records_sent) b1=$(stn tls.record_bytes_sent)
hf_check "a 10 MB response through TLS (RSA certificate) arrives intact (${got:0:12}, nginx's ${want:0:12})" \
	test "$got" = "$want"
# How many segments a record gathers depends on how many arrive per loop pass: printed, not judged.
echo "# the 10 MB response: $((r1 - r0)) records, $(( (b1 - b0) / ((r1 - r0) > 0 ? r1 - r0 : 1) )) bytes of plaintext each on average (one TCP segment: 1,448)"

# ---------------------------------------------------------------- records
# A response handed to TLS in one piece leaves as one record, whatever mbufs carry it.
r0=$(stn tls.records_sent) b0=$(stn tls.record_bytes_sent)
body=$(in_ns "${CURL[@]}" --resolve a.example.com:443:$OUR https://a.example.com/direct-6000 2>&1)
r1=$(stn tls.records_sent) b1=$(stn tls.record_bytes_sent)
hf_check "a 6,000-byte directResponse (head and body over 3 mbufs) is one TLS record (tls.records_sent +$((r1 - r0)), tls.record_bytes_sent +$((b1 - b0)); body ${#body} bytes)" \
	test "${#body}" -eq 6000 -a $((r1 - r0)) -eq 1 -a $((b1 - b0)) -gt 6000

# ---------------------------------------------------------------- wrk over https, keep-alive
if command -v wrk >/dev/null; then
	# wrk sends the URL's host as SNI (an address here): port 8443's server takes any name
	out=$(in_ns wrk -t1 -c16 -d5s "https://$OUR:8443/hello.txt" 2>&1)
	rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
	errs=$(grep -E 'Socket errors|Non-2xx' <<<"$out" | tr '\n' ' ')
	plain=$(in_ns wrk -t1 -c16 -d5s "http://$OUR:80/hello.txt" 2>&1 | awk '/^Requests\/sec:/ { print $2 }')
	echo "# wrk -t1 -c16 -d5s, keep-alive, same gateway and upstream: ${rps:-?} req/s over TLS, ${plain:-?} req/s in plaintext (port 80)"
	hf_check "wrk over https with keep-alive for 5 s: ${rps:-no} req/s, no socket errors or non-2xx (${errs:-none})" \
		test -n "$rps" -a -z "$errs"
else
	hf_skip "wrk over https: wrk is not installed"
fi

# ---------------------------------------------------------------- malformed, stalled
# malformed BYTES_HEX: sends them to :443 and waits for the close; prints the counter's rise
malformed() {
	local before after
	before=$(st tls.handshake.malformed_client_hello)
	in_ns "$HF_PY" -c 'import socket, sys
s = socket.create_connection((sys.argv[1], 443), timeout=10)
s.sendall(bytes.fromhex(sys.argv[2]))
try:
    while s.recv(4096): pass
except OSError: pass' "$OUR" "$1" 2>/dev/null
	after=$(st tls.handshake.malformed_client_hello)
	echo $((${after:-0} - ${before:-0}))
}
# hello SID_LEN SNI_HEX: a ClientHello (hex) with a session id of SID_LEN bytes and that
# server_name extension body
hello() {
	"$HF_PY" -c '
import os, sys
sid, sni = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
ext = b"\x00\x00" + len(sni).to_bytes(2, "big") + sni
body = b"\x03\x03" + os.urandom(32) + bytes([sid]) + os.urandom(sid) + bytes.fromhex("0002c02b0100")
body += len(ext).to_bytes(2, "big") + ext
hs = b"\x01" + len(body).to_bytes(3, "big") + body
print((b"\x16\x03\x01" + len(hs).to_bytes(2, "big") + hs).hex())' "$1" "$2"
}
GOOD_SNI=000e00000b612e6578616d706c652e636f6d	# a.example.com
n=$(malformed "$(hello 33 "$GOOD_SNI")")
hf_check "a ClientHello with a 33-byte session id (RFC 8446: at most 32) is counted malformed (+$n)" \
	test "$n" -eq 1
# well framed for OpenSSL, but the name inside claims 5 bytes where 3 are: our SNI parser's refusal
n=$(malformed "$(hello 0 0006000005612e62)")
hf_check "a ClientHello whose server_name lies about its name's length is counted malformed (+$n)" \
	test "$n" -eq 1
wait "$STALL_PID" 2>/dev/null
stall=$(cat "$HF_TMP/stall.out")
hf_check "a handshake stalled after 12 bytes did not hold up the $((SECONDS - T_STALL)) s of checks above, and was reset at 10 s ('$stall'; tls.handshake.timeout $(st tls.handshake.timeout))" \
	test "$(st tls.handshake.timeout)" -ge 1 -a "${stall%% *}" = reset

# ---------------------------------------------------------------- access log
# log_line PATTERN: waits (the agent writes the log a few times a second) for a matching line
log_line() {
	local i
	for i in $(seq 50); do
		grep -E "$1" "$HF_TMP/access.log" 2>/dev/null | tail -1 | grep -q . && break
		sleep 0.1
	done
	grep -E "$1" "$HF_TMP/access.log" 2>/dev/null | tail -1
}
in_ns "${CURL[@]}" --resolve files.example.net:443:$OUR -o /dev/null https://files.example.net/hello.txt?sni-log 2>/dev/null
line=$(log_line 'GET /hello.txt\?sni-log ')
hf_check "the access log gives the SNI as %REQUESTED_SERVER_NAME% ('$(cut -c1-40 <<<"$line")...$(awk '{ print $(NF - 1), $NF }' <<<"$line")')" \
	test "$(awk '{ print $(NF - 1) }' <<<"$line")" = files.example.net
in_ns curl -sS --noproxy '*' --max-time 10 -o /dev/null "http://$OUR:80/hello.txt?plain-log" 2>/dev/null
line=$(log_line 'GET /hello.txt\?plain-log ')
hf_check "and '-' for a request over plaintext ('$(awk '{ print $(NF - 1), $NF }' <<<"$line")')" \
	test -n "$line" -a "$(awk '{ print $(NF - 1) }' <<<"$line")" = -

# ---------------------------------------------------------------- end
echo "# tls counters: $(hf_admin "$NS" /stats | grep '^tls\.' | tr '\n' ' ')"
hf_check_stop
echo "# $((SECONDS - T0)) s"
hf_done
